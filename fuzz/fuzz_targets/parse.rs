//! Any bytes: parsing never panics, and what parses emits back to a packet
//! that parses to the same segment.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tcpscope::fuzzing::parse(data);
});
