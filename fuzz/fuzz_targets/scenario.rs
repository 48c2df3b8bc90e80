//! Arbitrary text as a scenario file: an error or a scenario, never a panic;
//! a scenario that parses also runs (for a bounded time).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tcpscope::fuzzing::scenario(data);
});
