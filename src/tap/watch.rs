//! `tcpscope watch`: a live capture (AF_PACKET, through libpcap, with
//! tcpdump's filter syntax) shown as a capture file is.
//!
//! Only the headers are copied from the kernel (a snap length of
//! [`SNAPLEN`]): the payload is never looked at, and the IP header's
//! length says how much data a segment carried. Packets the kernel could
//! not hand over in time are counted by libpcap (`pcap_stats`), and each
//! second that count went up becomes a line in the log.

use std::time::Duration;

use pcap::{Active, Capture};

use crate::capture::INFERRED_NOTE;
use crate::event::Dir;
use crate::runtime::sink::{PcapSink, Sink};

use super::{Pipeline, Stats, Stop, system_time};

/// Bytes of each packet copied: link, IP and TCP headers with options
/// (20 + 60 + 60 for the largest, IPv6 extension headers aside).
pub const SNAPLEN: i32 = 256;
/// The kernel's ring for the capture: about a second of a 1 Gbit/s bulk
/// transfer's headers.
const RING: i32 = 32 << 20;
/// How long a read waits for a packet before the loop looks at its clock.
const READ_TIMEOUT_MS: i32 = 50;

/// What `tcpscope watch` was asked for.
#[derive(Clone, Debug)]
pub struct WatchSetup {
    /// `any` for every interface.
    pub iface: String,
    /// tcpdump's filter syntax; `tcp` is always added.
    pub filter: Option<String>,
    pub duration: Option<Duration>,
    /// Bytes copied per packet: [`SNAPLEN`], or whole packets when they
    /// are written to `--pcap` (a file of cut packets would misinform
    /// every tool that reads it).
    pub snaplen: i32,
}

impl WatchSetup {
    /// The filter given to libpcap.
    pub fn program(&self) -> String {
        match &self.filter {
            Some(f) if !f.trim().is_empty() => format!("tcp and ({f})"),
            _ => "tcp".into(),
        }
    }

    pub fn describe(&self) -> String {
        format!("watch on {}, filter \"{}\"", self.iface, self.program())
    }
}

/// Before the capture is opened: is CAP_NET_RAW in this thread's effective
/// set? `Err` is the sentence saying how to grant it.
pub fn check_cap_net_raw() -> Result<(), String> {
    use caps::{CapSet, Capability};
    match caps::has_cap(None, CapSet::Effective, Capability::CAP_NET_RAW) {
        Ok(false) => Err(missing_cap_net_raw()),
        Ok(true) | Err(_) => Ok(()),
    }
}

/// The sentence for a process without CAP_NET_RAW.
pub fn missing_cap_net_raw() -> String {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "$(which tcpscope)".into());
    format!(
        "capturing packets needs CAP_NET_RAW, which this process does not have: run it with sudo, or once: sudo setcap cap_net_raw+ep {exe}"
    )
}

/// Open the capture (errors are sentences, before anything runs).
pub fn open(setup: &WatchSetup) -> Result<Capture<Active>, String> {
    check_cap_net_raw()?;
    let inactive = Capture::from_device(setup.iface.as_str())
        .map_err(|e| format!("cannot capture on {}: {e}", setup.iface))?;
    let mut cap = inactive
        .promisc(false)
        .snaplen(setup.snaplen)
        .immediate_mode(true)
        .buffer_size(RING)
        .timeout(READ_TIMEOUT_MS)
        .open()
        .map_err(|e| {
            let s = e.to_string();
            if s.contains("not permitted") || s.contains("ermission") {
                missing_cap_net_raw()
            } else {
                format!("cannot capture on {}: {s}", setup.iface)
            }
        })?;
    cap.filter(&setup.program(), true)
        .map_err(|e| format!("the filter \"{}\" is not valid: {e}", setup.program()))?;
    // Non-blocking, and the loop polls the descriptor itself: libpcap's
    // read timeout does not bound a read in immediate mode.
    cap.setnonblock()
        .map_err(|e| format!("cannot capture on {}: {e}", setup.iface))
}

/// Wait up to `ms` for the capture's descriptor to be readable.
fn wait_readable(cap: &Capture<Active>, ms: i32) {
    use std::os::fd::AsRawFd;
    let mut p = libc::pollfd {
        fd: cap.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one pollfd that lives across the call; an error or EINTR
    // only means the loop looks again sooner.
    unsafe { libc::poll(&mut p, 1, ms) };
}

/// Which way a frame went, when its link layer says (Linux cooked
/// captures: the packet type, 4 for outgoing); in otherwise.
fn direction(linktype: u32, data: &[u8]) -> Dir {
    let ptype = match linktype {
        crate::capture::link::LINUX_SLL => data.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]])),
        crate::capture::link::LINUX_SLL2 => data.get(10).map(|b| u16::from(*b)),
        _ => None,
    };
    if ptype == Some(4) { Dir::Out } else { Dir::In }
}

/// Run the capture until `stop` says so; the events go to `sinks`.
pub fn run(
    setup: &WatchSetup,
    mut cap: Capture<Active>,
    sinks: Vec<Sink>,
    pcap: Option<PcapSink>,
    stop: &Stop,
) -> Result<Stats, String> {
    let mut p = Pipeline::new(sinks, pcap);
    let linktype = cap.get_datalink().0 as u32;
    p.info(0.0, format!("{}; ready", setup.describe()));
    p.info(0.0, INFERRED_NOTE.into());
    let mut number = 0u64;
    let mut missed_seen = 0u64;
    let mut next_stats = std::time::Instant::now() + Duration::from_secs(1);
    let mut error = None;
    let why = loop {
        if let Some(why) = stop.reason() {
            break why.to_string();
        }
        // Everything there is, then a look at the clock.
        let mut n = 0;
        loop {
            match cap.next_packet() {
                Ok(pkt) => {
                    number += 1;
                    let ns = p.ns_of(system_time(pkt.header.ts.tv_sec, pkt.header.ts.tv_usec));
                    let dir = direction(linktype, pkt.data);
                    p.frame(number, ns, linktype, pkt.data, dir);
                    n += 1;
                    if n >= 4096 {
                        break;
                    }
                }
                Err(pcap::Error::TimeoutExpired) => break,
                Err(e) => {
                    error = Some(format!(
                        "reading the capture on {} failed: {e}",
                        setup.iface
                    ));
                    break;
                }
            }
        }
        if let Some(e) = &error {
            break e.clone();
        }
        if n == 0 {
            wait_readable(&cap, READ_TIMEOUT_MS);
        }
        let now = p.now_ns() as f64 / 1e9;
        p.tick(now);
        if std::time::Instant::now() >= next_stats {
            next_stats += Duration::from_secs(1);
            if let Ok(s) = cap.stats() {
                let missed = u64::from(s.dropped) + u64::from(s.if_dropped);
                if missed > missed_seen {
                    p.info(
                        now,
                        format!(
                            "the capture missed {} packets in the last second ({} in all, by the kernel's count): their segments are not in the ladder, and the analysis may flag their neighbours",
                            missed - missed_seen,
                            missed
                        ),
                    );
                    missed_seen = missed;
                }
            }
        }
    };
    if let Ok(s) = cap.stats() {
        missed_seen = missed_seen.max(u64::from(s.dropped) + u64::from(s.if_dropped));
    }
    p.stats.missed = missed_seen;
    let mut lines = vec![format!("stopped: {why}")];
    if missed_seen > 0 {
        lines.push(format!(
            "the capture missed {missed_seen} packets in all (the kernel's count)"
        ));
    }
    let stats = p.finish(lines);
    match error {
        Some(e) => Err(e),
        None => Ok(stats),
    }
}
