//! Writes the capture benchmark's synthetic pcap (scripts/capture-bench.sh):
//!
//!   cargo run --release --example capture_synth -- FILE [CONNS] [PER_CONN] [OVERLAP]
//!
//! CONNS connections (default 10,000) of PER_CONN packets (default 100),
//! OVERLAP of them open at once (default 100), frames cut to 96 bytes.

use std::io::BufWriter;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: capture_synth FILE [CONNS] [PER_CONN] [OVERLAP]");
        std::process::exit(2);
    };
    let num = |i: usize, default: u64| -> u64 {
        args.get(i).map_or(default, |s| {
            s.parse().unwrap_or_else(|_| {
                eprintln!("{s} is not a whole number");
                std::process::exit(2)
            })
        })
    };
    let (conns, per_conn, overlap) = (num(1, 10_000), num(2, 100), num(3, 100));
    let file = std::fs::File::create(path).unwrap_or_else(|e| {
        eprintln!("cannot write {path}: {e}");
        std::process::exit(1)
    });
    let out = BufWriter::with_capacity(1 << 20, file);
    match tcpscope::capture::synth::many(out, conns as u32, per_conn as usize, overlap as u32) {
        Ok(n) => println!("{path}: {n} packets in {conns} connections"),
        Err(e) => {
            eprintln!("cannot write {path}: {e}");
            std::process::exit(1)
        }
    }
}
