//! The machine's own TCP, live: `tcpscope watch` ([`watch`]: a capture on
//! AF_PACKET through libpcap) and `tcpscope intercept` ([`intercept`]: the
//! kernel's packets of one port through NFQUEUE and the fault injector).
//!
//! Neither has tcpscope's stack in the path: the packets go through the
//! capture's conversion ([`crate::capture::Stream`]: inferred states,
//! Wireshark's analysis flags), the coalescer and the same bounded, lossy
//! sinks as live mode ([`crate::runtime::sink`]), so the terminal UI,
//! `--events`, `--record`, `--pcap` and `--share` take them as they take
//! live mode's.
//!
//! Here: [`Pipeline`], what both share from a packet to the sinks, and
//! [`Stop`], the ways a run ends (Ctrl-C, SIGTERM, `--duration`, the UI).
//! Level: beside `runtime` (ARCHITECTURE.md); uses `capture`, `fault` and
//! `runtime`'s coalescer and sinks, never the engine or the UI.

pub mod intercept;
pub mod nfqueue;
pub mod watch;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::capture::{self, Stream};
use crate::event::{Body, Dir, Event};
use crate::runtime::coalesce::Coalescer;
use crate::runtime::sink::{PcapRecord, PcapSink, Sink};

/// Connections followed at most: the UI model's own limit on listed
/// connections (docs/ui.md, History).
pub const MAX_CONNS: usize = 20_000;

/// Why and when a run stops. The signal handlers only set flags (they run
/// in a signal context); the packet loop looks at them between reads.
pub struct Stop {
    int: Arc<AtomicBool>,
    term: Arc<AtomicBool>,
    /// Set by the UI's driver (q) or by the run itself (an error).
    pub asked: Arc<AtomicBool>,
    until: Option<std::time::Instant>,
}

impl Stop {
    /// Catch SIGINT and SIGTERM from now on; `duration` from now.
    pub fn new(duration: Option<Duration>) -> Result<Stop, String> {
        let int = Arc::new(AtomicBool::new(false));
        let term = Arc::new(AtomicBool::new(false));
        signal_hook::flag::register(signal_hook::consts::SIGINT, int.clone())
            .map_err(|e| format!("cannot catch Ctrl-C: {e}"))?;
        signal_hook::flag::register(signal_hook::consts::SIGTERM, term.clone())
            .map_err(|e| format!("cannot catch SIGTERM: {e}"))?;
        Ok(Stop {
            int,
            term,
            asked: Arc::new(AtomicBool::new(false)),
            until: duration.map(|d| std::time::Instant::now() + d),
        })
    }

    /// Why to stop now, if so.
    pub fn reason(&self) -> Option<&'static str> {
        if self.int.load(Ordering::SeqCst) {
            Some("interrupted (SIGINT)")
        } else if self.term.load(Ordering::SeqCst) {
            Some("terminated (SIGTERM)")
        } else if self.asked.load(Ordering::SeqCst) {
            Some("stopped from the UI")
        } else if self.until.is_some_and(|u| std::time::Instant::now() >= u) {
            Some("--duration reached")
        } else {
            None
        }
    }

    /// How long until `--duration` ends the run.
    pub fn left(&self) -> Option<Duration> {
        self.until
            .map(|u| u.saturating_duration_since(std::time::Instant::now()))
    }
}

/// Counters for the closing line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    pub frames: u64,
    pub events: u64,
    /// Packets the capture missed, by its own counters (libpcap's
    /// `ps_drop` and `ps_ifdrop`; NFQUEUE's have none we can read, and
    /// with queue bypass a packet it could not queue passed untouched).
    pub missed: u64,
    /// Events a slow consumer lost (the UI's, the writer's): its `lagged`.
    pub lost: u64,
}

/// From a packet to the sinks: conversion, coalescing, fan-out.
pub struct Pipeline {
    stream: Stream,
    coalescer: Coalescer,
    sinks: Vec<Sink>,
    pcap: Option<PcapSink>,
    out: Vec<Event>,
    /// Events leave in time order: a later one never has an earlier `t`.
    last_t: f64,
    /// The run's start, for pcap timestamps and event time 0.
    pub start: SystemTime,
    started: std::time::Instant,
    pub stats: Stats,
}

impl Pipeline {
    pub fn new(sinks: Vec<Sink>, pcap: Option<PcapSink>) -> Pipeline {
        Pipeline {
            stream: Stream::new(MAX_CONNS),
            coalescer: Coalescer::new(),
            sinks,
            pcap,
            out: Vec::new(),
            last_t: 0.0,
            start: SystemTime::now(),
            started: std::time::Instant::now(),
            stats: Stats::default(),
        }
    }

    /// Nanoseconds since the start, by the monotonic clock.
    pub fn now_ns(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// A wall-clock time (a capture's timestamp) as nanoseconds since the
    /// start; before the start is 0.
    pub fn ns_of(&self, t: SystemTime) -> u64 {
        t.duration_since(self.start)
            .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }

    pub fn stream(&self) -> &Stream {
        &self.stream
    }

    /// A line for the log, at time `t` (seconds since the start).
    pub fn info(&mut self, t: f64, msg: String) {
        self.emit(Event {
            t,
            host: None,
            conn: None,
            body: Body::Info { msg },
        });
    }

    /// One event through the coalescer to every sink.
    pub fn emit(&mut self, mut ev: Event) {
        ev.t = ev.t.max(self.last_t);
        self.last_t = ev.t;
        self.coalescer.push(ev, &mut self.out);
        self.send();
    }

    fn send(&mut self) {
        for e in self.out.drain(..) {
            self.stats.events += 1;
            let e = Arc::new(e);
            for s in &mut self.sinks {
                s.send(&e);
            }
        }
    }

    /// One captured frame: its events, and its IP packet to `--pcap`.
    /// `dir`: which way it went, from this machine's point of view.
    pub fn frame(&mut self, number: u64, ns: u64, linktype: u32, data: &[u8], dir: Dir) {
        self.stats.frames += 1;
        let mut evs = Vec::new();
        let r = self
            .stream
            .frame(number, ns, linktype, data, &mut |e| -> Result<(), ()> {
                evs.push(e);
                Ok(())
            });
        debug_assert!(r.is_ok());
        for e in evs {
            self.emit(e);
        }
        if let Some(p) = &self.pcap {
            p.send(PcapRecord {
                ts: self
                    .start
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .saturating_add(Duration::from_nanos(ns)),
                dir,
                bytes: ip_packet(linktype, data).to_vec(),
                comment: None,
            });
        }
    }

    /// The host (`client` or `server`) of the end at `local` talking to
    /// `remote`.
    pub fn host_of(&self, local: SocketAddr, remote: SocketAddr) -> Option<Arc<str>> {
        self.stream.host_of(local, remote)
    }

    /// Let bursts due by `t` out; when the coalescer next needs a tick.
    pub fn tick(&mut self, t: f64) -> Option<f64> {
        self.coalescer.tick(t.max(self.last_t), &mut self.out);
        self.send();
        self.coalescer.poll_at()
    }

    /// The end: open bursts, each wait's length, the summary and `lines`.
    pub fn finish(&mut self, lines: Vec<String>) -> Stats {
        let end = self.last_t.max(self.started.elapsed().as_secs_f64());
        self.coalescer.flush_all(&mut self.out);
        self.send();
        let mut evs = Vec::new();
        let _ = self.stream.finish(end, &mut |e| -> Result<(), ()> {
            evs.push(e);
            Ok(())
        });
        for e in evs {
            self.emit(e);
        }
        let mut summary = self
            .stream
            .summary()
            .line()
            .replacen("capture read", "seen", 1);
        if self.stream.summary().forgotten > 0 {
            summary.push_str(&format!(
                "; {} connections no longer followed (at most {MAX_CONNS} at once)",
                self.stream.summary().forgotten
            ));
        }
        self.info(end, summary);
        for l in lines {
            self.info(end, l);
        }
        self.coalescer.flush_all(&mut self.out);
        self.send();
        // A consumer that lost the last events is told so, if it can be
        // within a moment.
        let deadline = std::time::Instant::now() + Duration::from_millis(500);
        for s in &mut self.sinks {
            while !s.try_finish(end) && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            self.stats.lost += s.lost_total;
        }
        self.stats.clone()
    }
}

/// The IP packet inside a frame of link type `linktype` (for `--pcap`,
/// which holds raw IP); the frame itself when its link layer is unknown.
pub fn ip_packet(linktype: u32, data: &[u8]) -> &[u8] {
    let skip = match linktype {
        capture::link::ETHERNET => 14,
        capture::link::LINUX_SLL => 16,
        capture::link::LINUX_SLL2 => 20,
        capture::link::NULL | capture::link::LOOP => 4,
        _ => 0,
    };
    data.get(skip..).unwrap_or(data)
}

/// The wall-clock time of a `timeval` (a libpcap header's).
pub fn system_time(sec: i64, usec: i64) -> SystemTime {
    let d = Duration::from_secs(sec.max(0) as u64) + Duration::from_micros(usec.max(0) as u64);
    UNIX_EPOCH + d
}
