//! The engine's hot path: in-order data with ACKs, both directions, two
//! engines on the in-memory wire under virtual time, with the events the UI
//! would get generated and collected. Reports segments per second.
//!
//! Also prints, before the timings, the heap allocations the transfer
//! makes per segment (a counting allocator around the system one): the
//! figure docs/benchmarks.md reports beside the rate.
//!
//! Run: `cargo bench --bench engine`.

#[path = "../tests/common/transfer.rs"]
mod transfer;

use std::hint::black_box;
use std::time::Instant as WallInstant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tcpscope::tcp::Config;
use transfer::{allocations, counting};

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
        let before = allocations();
        counting(true);
        let segments = transfer::transfer(cfg, false, |_| {});
        counting(false);
        let allocations = allocations() - before;
        println!(
            "engine, 4 MiB each way, {name}: {segments} segments, {allocations} allocations, {:.2} per segment",
            allocations as f64 / segments as f64
        );
        g.throughput(Throughput::Elements(segments));
        g.bench_function(format!("4 MiB each way, {name}"), |b| {
            b.iter_custom(|iters| {
                let start = WallInstant::now();
                for _ in 0..iters {
                    black_box(transfer::transfer(cfg, false, |_| {}));
                }
                start.elapsed()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
