//! The engine's hot path allocates nothing per segment or per event once a
//! transfer is under way (issue: speed; docs/benchmarks.md, What stands in
//! the way): two engines on the in-memory wire move data both ways with
//! events on, and a counting allocator sees every allocation the test's
//! thread makes in the middle of the transfer.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use tcpscope::event::{Dir, Event};
use tcpscope::link::memory::Wire;
use tcpscope::tcp::Config;
use tcpscope::time::Instant;

struct Counting;

thread_local! {
    /// Allocations made on this thread while `COUNTING` is set.
    static COUNT: Cell<u64> = const { Cell::new(0) };
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn note() {
    // `try_with`: the thread-locals may be gone while a thread exits.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        }
    });
}

// SAFETY: every call is passed on to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller's contract is System's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const BYTES: usize = 4 << 20;
const STEP: Duration = Duration::from_micros(50);

/// Allocations and segments sent while between 1 and 3 MiB had arrived
/// each way.
fn steady_state(cfg: &Config) -> (u64, u64) {
    let mut w = Wire::new(cfg.clone(), cfg.clone(), STEP);
    w.server.listen(w.now, 9, None).unwrap();
    let c = w
        .client
        .connect(w.now, "10.0.0.2:9".parse().unwrap(), None)
        .unwrap();
    w.run_until(Instant::from_millis(1));
    let s = w.server.accept(9).expect("accepted");
    let chunk = vec![0x5au8; 64 * 1024];
    let mut buf = vec![0u8; 256 * 1024];
    let mut events: Vec<Event> = Vec::with_capacity(1 << 16);
    let (mut sent_c, mut sent_s, mut got_c, mut got_s) = (0, 0, 0, 0);
    let mut segments = 0u64;
    let mut t = w.now;
    while got_s < BYTES || got_c < BYTES {
        let measuring = got_s.min(got_c) >= 1 << 20 && got_s.max(got_c) < 3 << 20;
        COUNTING.with(|on| on.set(measuring));
        if sent_c < BYTES {
            let n = (BYTES - sent_c).min(chunk.len());
            sent_c += w.client.send(t, c, &chunk[..n]).unwrap_or(0);
        }
        if sent_s < BYTES {
            let n = (BYTES - sent_s).min(chunk.len());
            sent_s += w.server.send(t, s, &chunk[..n]).unwrap_or(0);
        }
        while let Ok(n @ 1..) = w.server.recv(t, s, &mut buf) {
            assert!(buf[..n].iter().all(|&b| b == 0x5a));
            got_s += n;
        }
        while let Ok(n @ 1..) = w.client.recv(t, c, &mut buf) {
            got_c += n;
        }
        t += STEP;
        w.run_until(t);
        w.take_events_into(&mut events);
        if measuring {
            segments += events
                .iter()
                .filter(|e| e.segment().is_some_and(|s| s.dir == Dir::Out))
                .count() as u64;
        }
        events.clear();
        COUNTING.with(|on| on.set(false));
    }
    (COUNT.with(Cell::get), segments)
}

#[test]
fn a_transfer_under_way_allocates_nothing_per_segment() {
    let cfg = Config {
        send_buf: 1 << 20,
        recv_buf: 1 << 20,
        hex_in_events: false,
        ..Config::default()
    };
    let (allocations, segments) = steady_state(&cfg);
    // 2 MiB each way is some 2900 data segments and their ACKs.
    assert!(segments > 2500, "{segments} segments measured");
    assert_eq!(
        allocations, 0,
        "{allocations} allocations for {segments} segments"
    );
}
