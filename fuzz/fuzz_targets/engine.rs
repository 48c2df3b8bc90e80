//! The engine fed arbitrary sequences of segments, raw bytes, user calls and
//! clock steps.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tcpscope::fuzzing::engine(data);
});
