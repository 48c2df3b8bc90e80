//! The engine's hot path allocates nothing per segment or per event once a
//! transfer is under way (issue: speed; docs/benchmarks.md, What stands in
//! the way): two engines on the in-memory wire move data both ways with
//! events on, and a counting allocator sees every allocation the test's
//! thread makes in the middle of the transfer.

#[path = "common/transfer.rs"]
mod transfer;

use tcpscope::event::Dir;
use tcpscope::tcp::Config;
use transfer::{Hook, allocations, counting};

#[test]
fn a_transfer_under_way_allocates_nothing_per_segment() {
    let cfg = Config {
        send_buf: 1 << 20,
        recv_buf: 1 << 20,
        hex_in_events: false,
        ..Config::default()
    };
    // The steps that begin while between 1 and 3 MiB have arrived each way.
    let mut measuring = false;
    let mut segments = 0u64;
    transfer::transfer(&cfg, true, |hook| match hook {
        Hook::Before { got_min, got_max } => {
            measuring = got_min >= 1 << 20 && got_max < 3 << 20;
            counting(measuring);
        }
        Hook::After(events) => {
            counting(false);
            if measuring {
                segments += events
                    .iter()
                    .filter(|e| e.segment().is_some_and(|s| s.dir == Dir::Out))
                    .count() as u64;
            }
        }
    });
    let allocations = allocations();
    // 2 MiB each way is some 2900 data segments and their ACKs.
    assert!(segments > 2500, "{segments} segments measured");
    assert_eq!(
        allocations, 0,
        "{allocations} allocations for {segments} segments"
    );
}
