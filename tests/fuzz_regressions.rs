//! Every input kept in `fuzz/regressions/<target>/` (crashes the fuzzers
//! found, and seeds) runs through the same entry points as `cargo fuzz`.

use std::path::Path;

fn replay(target: &str, f: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        f(&data);
        n += 1;
    }
    n
}

#[test]
fn parse_regressions() {
    assert!(replay("parse", tcpscope::fuzzing::parse) >= 1);
}

#[test]
fn engine_regressions() {
    assert!(replay("engine", tcpscope::fuzzing::engine) >= 1);
}

#[test]
fn scenario_regressions() {
    assert!(replay("scenario", tcpscope::fuzzing::scenario) >= 1);
}

#[test]
fn tap_regressions() {
    assert!(replay("tap", tcpscope::fuzzing::tap) >= 1);
}
