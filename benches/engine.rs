//! The engine's hot path: in-order data with ACKs, both directions, two
//! engines on the in-memory wire under virtual time, with the events the UI
//! would get generated and collected. Reports segments per second.
//!
//! Also prints, before the timings, the heap allocations the transfer
//! makes per segment (a counting allocator around the system one): the
//! figure docs/benchmarks.md reports beside the rate.
//!
//! Run: `cargo bench --bench engine`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant as WallInstant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tcpscope::event::Dir;
use tcpscope::link::memory::Wire;
use tcpscope::tcp::Config;
use tcpscope::time::Instant;

/// Counts allocations and reallocations; frees are not counted.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is passed on to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is System's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const BYTES: usize = 4 << 20;
const STEP: Duration = Duration::from_micros(50);

/// Move BYTES each way over one connection; returns the segments sent
/// (both directions, data and ACKs).
fn transfer(cfg: &Config) -> u64 {
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
    let mut events = Vec::new();
    let (mut sent_c, mut sent_s, mut got_c, mut got_s) = (0, 0, 0, 0);
    let mut segments = 0u64;
    let mut t = w.now;
    while got_s < BYTES || got_c < BYTES {
        if sent_c < BYTES {
            let n = (BYTES - sent_c).min(chunk.len());
            sent_c += w.client.send(t, c, &chunk[..n]).unwrap_or(0);
        }
        if sent_s < BYTES {
            let n = (BYTES - sent_s).min(chunk.len());
            sent_s += w.server.send(t, s, &chunk[..n]).unwrap_or(0);
        }
        while let Ok(n @ 1..) = w.server.recv(t, s, &mut buf) {
            got_s += n;
        }
        while let Ok(n @ 1..) = w.client.recv(t, c, &mut buf) {
            got_c += n;
        }
        t += STEP;
        w.run_until(t);
        // One vector for the whole run, as a UI or a writer would keep.
        w.take_events_into(&mut events);
        segments += events
            .iter()
            .filter(|e| e.segment().is_some_and(|s| s.dir == Dir::Out))
            .count() as u64;
        events.clear();
    }
    segments
}

fn bench(c: &mut Criterion) {
    let cfg = Config {
        send_buf: 1 << 20,
        recv_buf: 1 << 20,
        ..Config::default()
    };
    let quiet = Config {
        hex_in_events: false,
        ..cfg.clone()
    };
    let mut g = c.benchmark_group("engine");
    g.sample_size(10);
    for (name, cfg) in [
        ("events with hex dumps", &cfg),
        ("events without hex dumps", &quiet),
    ] {
        // Deterministic: one run tells how many segments a transfer takes,
        // and how many allocations it makes.
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        let segments = transfer(cfg);
        let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
        println!(
            "engine, 4 MiB each way, {name}: {segments} segments, {allocations} allocations, {:.2} per segment",
            allocations as f64 / segments as f64
        );
        g.throughput(Throughput::Elements(segments));
        g.bench_function(format!("4 MiB each way, {name}"), |b| {
            b.iter_custom(|iters| {
                let start = WallInstant::now();
                for _ in 0..iters {
                    black_box(transfer(cfg));
                }
                start.elapsed()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
