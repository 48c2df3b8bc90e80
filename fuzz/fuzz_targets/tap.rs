//! Raw packets as `tcpscope watch` and `intercept` see them, from any link
//! layer to events (inferred states, analysis flags), and through the
//! injector: never a panic, an unmatched packet passes unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tcpscope::fuzzing::tap(data);
});
