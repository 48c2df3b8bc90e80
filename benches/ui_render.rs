//! One full frame of the UI with 10,000 connections and 100,000 events of
//! history, at 200×50 and 80×24 (ratatui TestBackend, so this measures
//! building the frame, not the terminal's drawing).
//!
//! `cargo bench --bench ui_render` prints criterion's figures, then the
//! time to ingest the 100,000 events and the process's peak resident memory
//! (VmHWM from /proc/self/status, Linux).

use std::hint::black_box;
use std::time::Instant;

use criterion::Criterion;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use tcpscope::driver::{Mode, Playback};
use tcpscope::event::Event;
use tcpscope::ui::model::Model;
use tcpscope::ui::model::graph::GRAPH_POINTS;
use tcpscope::ui::render;
use tcpscope::ui::theme::Theme;
use tcpscope::ui::view::{StatusLine, View};

pub const CONNS: usize = 10_000;
pub const EVENTS: usize = 100_000;

/// A SYN's IP+TCP headers as the engine writes them (hex), so segments
/// carry a realistic dump.
const HDR: &str = "4500003c00004000400626ba0a0000010a000002f77f005074351a3c00000000a002ffff913c0000020405b40402080a82029a810000000001030303";

/// Ten events per connection: a handshake as both demo hosts report it.
fn events() -> Vec<Event> {
    let mut out = Vec::with_capacity(EVENTS);
    for i in 0..CONNS {
        let t = i as f64 * 0.001;
        let port = 1024 + i;
        let c = format!(
            "10.0.{}.{}:{port}<->10.0.0.2:80",
            (i / 250) % 250,
            i % 250 + 1
        );
        let (l, r) = c.split_once("<->").unwrap();
        let s = format!("{r}<->{l}");
        let id = 10 * i as u64;
        let lines = [
            format!(
                r#"{{"t":{t},"host":"client","conn":"{c}","kind":"tcb","action":"allocated","send_buf":262144,"recv_buf":262144,"port":{port},"table":1}}"#
            ),
            format!(
                r#"{{"t":{t},"host":"client","conn":"{c}","kind":"state","from":"CLOSED","to":"SYN-SENT","cause":"active open"}}"#
            ),
            format!(
                r#"{{"t":{t},"host":"client","conn":"{c}","kind":"segment","dir":"out","id":{},"flags":["SYN"],"seq":1000,"ack":0,"len":0,"win":65535,"opts":["MSS=1460","SACK_PERM","TS=1,0","WS=3"],"hdr":"{HDR}"}}"#,
                id + 1
            ),
            format!(
                r#"{{"t":{t},"host":"client","conn":"{c}","kind":"timer","timer":"retransmit","action":"armed","deadline":{},"backoff":0}}"#,
                t + 1.0
            ),
            format!(
                r#"{{"t":{},"host":"server","conn":"{s}","kind":"segment","dir":"in","id":{},"flags":["SYN"],"seq":1000,"ack":0,"len":0,"win":65535,"opts":["MSS=1460","SACK_PERM","TS=1,0","WS=3"],"hdr":"{HDR}"}}"#,
                t + 0.01,
                id + 1
            ),
            format!(
                r#"{{"t":{},"host":"server","conn":"{s}","kind":"state","from":"LISTEN","to":"SYN-RECEIVED","cause":"SYN received"}}"#,
                t + 0.01
            ),
            format!(
                r#"{{"t":{},"host":"server","conn":"{s}","kind":"segment","dir":"out","id":{},"flags":["SYN","ACK"],"seq":5000,"ack":1001,"len":0,"win":65535,"opts":["MSS=1460"],"hdr":"{HDR}"}}"#,
                t + 0.01,
                id + 2
            ),
            format!(
                r#"{{"t":{},"host":"client","conn":"{c}","kind":"segment","dir":"in","id":{},"flags":["SYN","ACK"],"seq":5000,"ack":1001,"len":0,"win":65535,"opts":["MSS=1460"],"hdr":"{HDR}"}}"#,
                t + 0.02,
                id + 2
            ),
            format!(
                r#"{{"t":{},"host":"client","conn":"{c}","kind":"state","from":"SYN-SENT","to":"ESTABLISHED","cause":"SYN+ACK received"}}"#,
                t + 0.02
            ),
            format!(
                r#"{{"t":{},"host":"client","conn":"{c}","kind":"segment","dir":"out","id":{},"flags":["ACK"],"seq":1001,"ack":5001,"len":0,"win":32768,"opts":[],"hdr":"{HDR}"}}"#,
                t + 0.02,
                id + 3
            ),
        ];
        out.extend(
            lines
                .iter()
                .map(|l| Event::from_json(l).expect("valid event")),
        );
    }
    assert_eq!(out.len(), EVENTS);
    out
}

fn clock() -> StatusLine {
    StatusLine {
        mode: Mode::Demo,
        title: "bench".into(),
        now: 10.5,
        playback: Playback {
            speed: Some(1.0),
            ..Playback::default()
        },
        finished: false,
    }
}

fn frame(c: &mut Criterion, m: &Model, w: u16, h: u16) {
    let mut view = View::new(Theme::COLOR);
    let clock = clock();
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    c.bench_function(
        &format!("frame {w}x{h}, {CONNS} conns, {EVENTS} events"),
        |b| {
            b.iter(|| {
                term.draw(|f| render::draw(f, black_box(m), &mut view, &clock))
                    .unwrap();
            })
        },
    );
}

/// Segments of the one connection the graph bench draws.
pub const GRAPH_SEGMENTS: usize = 100_000;

/// One bulk connection: `GRAPH_SEGMENTS` data segments from the client
/// (every 50th a RACK retransmission, every 500th an RTO one, every 100th
/// dropped by the injector), an ACK from the server every second segment
/// and a `vars` event every tenth.
fn graph_events() -> Vec<Event> {
    let c = "10.0.0.1:40000<->10.0.0.2:80";
    let s = "10.0.0.2:80<->10.0.0.1:40000";
    let mut out = Vec::with_capacity(GRAPH_SEGMENTS * 2);
    for i in 0..GRAPH_SEGMENTS {
        let t = i as f64 * 0.0001;
        let seq = 1001u32.wrapping_add((i as u32).wrapping_mul(1448));
        let rtx = match i {
            _ if i % 500 == 499 => r#","retransmit":true,"rtx":"rto""#,
            _ if i % 50 == 49 => r#","retransmit":true,"rtx":"rack""#,
            _ => "",
        };
        out.push(format!(
            r#"{{"t":{t},"host":"client","conn":"{c}","kind":"segment","dir":"out","id":{i},"flags":["ACK"],"seq":{seq},"ack":5001,"len":1448,"win":32768,"opts":[]{rtx}}}"#
        ));
        if i % 100 == 99 {
            out.push(format!(
                r#"{{"t":{t},"host":"client","conn":"{c}","kind":"drop","dir":"out","reason":"injected","id":{i},"flags":["ACK"],"seq":{seq},"ack":5001,"len":1448,"win":32768,"opts":[]}}"#
            ));
        }
        if i % 2 == 1 {
            out.push(format!(
                r#"{{"t":{},"host":"server","conn":"{s}","kind":"segment","dir":"out","id":{},"flags":["ACK"],"seq":5001,"ack":{},"len":0,"win":32768,"opts":[]}}"#,
                t + 0.00005,
                10_000_000 + i,
                seq.wrapping_add(1448)
            ));
        }
        if i % 10 == 0 {
            let cwnd = 14480 + (i % 1000) * 1448;
            out.push(format!(
                r#"{{"t":{t},"host":"client","conn":"{c}","kind":"vars","snd_una":{seq},"snd_nxt":{seq},"snd_wnd":262144,"rcv_nxt":5001,"rcv_wnd":262144,"cwnd":{cwnd},"ssthresh":{},"phase":"congestion_avoidance","unsent":0,"in_flight":{cwnd},"pipe":{cwnd}}}"#,
                cwnd / 2
            ));
        }
    }
    out.iter()
        .map(|l| Event::from_json(l).expect("valid event"))
        .collect()
}

fn graph_frame(c: &mut Criterion, m: &Model, w: u16, h: u16) {
    let mut view = View::new(Theme::COLOR);
    view.graph = true;
    let clock = clock();
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    c.bench_function(
        &format!("graph {w}x{h}, one connection, {GRAPH_SEGMENTS} segments"),
        |b| {
            b.iter(|| {
                term.draw(|f| render::draw(f, black_box(m), &mut view, &clock))
                    .unwrap();
            })
        },
    );
}

/// A line of /proc/self/status in KiB (`VmHWM`, `VmRSS`), Linux only.
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn main() {
    let before = status_kib("VmRSS:");
    let events = events();
    let start = Instant::now();
    let mut m = Model::new(true);
    m.ingest_all(events);
    let ingest = start.elapsed();
    // The events are consumed; what stays resident is the model.
    let after = status_kib("VmRSS:");
    let peak_build = status_kib("VmHWM:");
    assert_eq!(m.conn_count(), CONNS);
    let mut c = Criterion::default().configure_from_args();
    frame(&mut c, &m, 200, 50);
    frame(&mut c, &m, 80, 24);
    let mut g = Model::new(false);
    g.ingest_all(graph_events());
    let gc = g.conns().next().expect("the bulk connection");
    let kept = gc.graph.sides[gc.graph.sender(gc.bytes)].segs.len();
    assert_eq!(kept, GRAPH_POINTS, "the graph keeps its newest points");
    graph_frame(&mut c, &g, 200, 50);
    graph_frame(&mut c, &g, 80, 24);
    c.final_summary();
    println!(
        "ingest: {EVENTS} events into {} rows and {} ladder entries in {:.1} ms",
        m.conn_count(),
        m.total_entries(),
        ingest.as_secs_f64() * 1e3
    );
    let mib = |k: u64| k as f64 / 1024.0;
    if let (Some(b), Some(a), Some(p)) = (before, after, peak_build) {
        println!(
            "memory: model resident {:.1} MiB (RSS growth); peak while building {:.1} MiB (VmHWM, events and model together)",
            mib(a.saturating_sub(b)),
            mib(p)
        );
    }
    if let Some(p) = status_kib("VmHWM:") {
        println!(
            "peak resident memory of the whole run (VmHWM): {:.1} MiB",
            mib(p)
        );
    }
}
