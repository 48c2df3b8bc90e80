//! One connection moving data both ways between two engines on the
//! in-memory wire with events on, and a counting allocator: shared by the
//! engine bench (`benches/engine.rs`, its rate and allocations per
//! segment) and `tests/alloc_hot_path.rs` (no allocation per segment once
//! the transfer is under way). Included by path in both, so each binary
//! has its own allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use tcpscope::event::{Dir, Event};
use tcpscope::link::memory::Wire;
use tcpscope::tcp::Config;
use tcpscope::time::Instant;

/// Counts the allocations and reallocations this thread makes while
/// [`counting`] is on; frees are not counted.
pub struct Counting;

thread_local! {
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

/// Count this thread's allocations from now on (or stop).
pub fn counting(on: bool) {
    COUNTING.with(|c| c.set(on));
}

/// Allocations counted on this thread so far.
pub fn allocations() -> u64 {
    COUNT.with(Cell::get)
}

/// Bytes each way.
pub const BYTES: usize = 4 << 20;
/// The wire's one-way delay, and how often the applications write and read.
pub const STEP: Duration = Duration::from_micros(50);

/// What the caller is told at each step of the transfer.
#[allow(dead_code)] // the bench reads none of it
pub enum Hook<'a> {
    /// Before the applications write and read: the fewest and the most
    /// bytes received so far by either end.
    Before { got_min: usize, got_max: usize },
    /// After the wire ran to the step's end: its events.
    After(&'a [Event]),
}

/// Move [`BYTES`] each way over one connection (the applications write 64
/// KiB and read all there is every [`STEP`]); returns the segments sent,
/// both directions, data and ACKs. With `check`, every byte received is
/// checked to be the one sent.
pub fn transfer(cfg: &Config, check: bool, mut hook: impl FnMut(Hook<'_>)) -> u64 {
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
    // One vector for the whole run, as a UI or a writer would keep.
    let mut events: Vec<Event> = Vec::with_capacity(1 << 16);
    let (mut sent_c, mut sent_s, mut got_c, mut got_s) = (0, 0, 0, 0);
    let mut segments = 0u64;
    let mut t = w.now;
    while got_s < BYTES || got_c < BYTES {
        hook(Hook::Before {
            got_min: got_s.min(got_c),
            got_max: got_s.max(got_c),
        });
        if sent_c < BYTES {
            let n = (BYTES - sent_c).min(chunk.len());
            sent_c += w.client.send(t, c, &chunk[..n]).unwrap_or(0);
        }
        if sent_s < BYTES {
            let n = (BYTES - sent_s).min(chunk.len());
            sent_s += w.server.send(t, s, &chunk[..n]).unwrap_or(0);
        }
        while let Ok(n @ 1..) = w.server.recv(t, s, &mut buf) {
            assert!(!check || buf[..n].iter().all(|&b| b == 0x5a));
            got_s += n;
        }
        while let Ok(n @ 1..) = w.client.recv(t, c, &mut buf) {
            assert!(!check || buf[..n].iter().all(|&b| b == 0x5a));
            got_c += n;
        }
        t += STEP;
        w.run_until(t);
        w.take_events_into(&mut events);
        segments += events
            .iter()
            .filter(|e| e.segment().is_some_and(|s| s.dir == Dir::Out))
            .count() as u64;
        hook(Hook::After(&events));
        events.clear();
    }
    assert_eq!((got_s, got_c), (BYTES, BYTES));
    segments
}
