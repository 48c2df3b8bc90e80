//! Opening a packet capture (pcap or pcapng, from tcpdump, Wireshark or
//! tcpscope's own `--pcap`) as the same event stream a recording holds, so
//! that `tcpscope replay FILE.pcap` shows it in the ladder, the connection
//! list, the graphs and `tcpscope plot` (docs/captures.md, Opening a capture).
//!
//! Streamed: packets are read one at a time and only a few numbers per
//! connection are kept (its analysis and inferred states); no payload is
//! held. Each connection's two ends become the hosts `client` (the side
//! that sent the SYN) and `server`, each reporting its own segments as
//! `out` with its own connection string, as a demo's two engines do.
//!
//! Here: the file formats and link layers ([`Frames`], [`decode`]) and the
//! conversion ([`convert`]); `analysis.rs` is Wireshark's TCP analysis and
//! `infer.rs` the states. Uses events, wire and state only
//! (ARCHITECTURE.md: the level of `output` and `pcap`).

pub mod analysis;
pub mod infer;
pub mod synth;

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};
use pcap_file::TsResolution;
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::PcapNgReader;
use pcap_file::pcapng::blocks::Block;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;

use crate::event::{Body, Dir, Event, NegotiatedEvent, SegFields, SegmentEvent};
use crate::wire::{Flags, TcpOptions};

use analysis::{ConnAnalysis, Pkt};
use infer::{Change, Inference};

/// The capture formats, by their first four bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Pcap,
    PcapNg,
}

/// pcap's magic numbers in either byte order, microsecond and nanosecond
/// (the libpcap file format, pcap-savefile(5)); pcapng's Section Header
/// Block type (0x0A0D0D0A, the same in both byte orders).
pub fn sniff(head: &[u8]) -> Option<Format> {
    match head.get(..4)? {
        [0xd4, 0xc3, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0xc3, 0xd4]
        | [0x4d, 0x3c, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0x3c, 0x4d] => Some(Format::Pcap),
        [0x0a, 0x0d, 0x0d, 0x0a] => Some(Format::PcapNg),
        _ => None,
    }
}

/// Link-layer header types (LINKTYPE_* in the tcpdump.org registry).
pub mod link {
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    pub const RAW: u32 = 101;
    pub const LOOP: u32 = 108;
    pub const LINUX_SLL: u32 = 113;
    pub const IPV4: u32 = 228;
    pub const IPV6: u32 = 229;
    pub const LINUX_SLL2: u32 = 276;
}

/// One TCP segment from a capture, without its payload.
#[derive(Clone, Debug, PartialEq)]
pub struct TcpPacket {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    pub flags: Flags,
    pub win: u16,
    /// Payload bytes as the IP header declares them (a capture with a
    /// short snap length holds fewer).
    pub len: u32,
    pub opts: TcpOptions,
}

/// What a frame turned out to be.
#[derive(Clone, Debug, PartialEq)]
pub enum Decoded {
    Tcp(TcpPacket),
    /// IP but not TCP, or not IP, or an IP fragment after the first.
    NotTcp,
    /// A link type this reader does not decode.
    UnknownLink,
    /// Headers cut short or inconsistent.
    Malformed,
}

/// Decode one frame of link type `linktype`.
pub fn decode(linktype: u32, data: &[u8]) -> Decoded {
    let sliced = match linktype {
        link::ETHERNET => match LaxSlicedPacket::from_ethernet(data) {
            Ok(p) => p,
            Err(_) => return Decoded::Malformed,
        },
        link::RAW | link::IPV4 | link::IPV6 => match LaxSlicedPacket::from_ip(data) {
            Ok(p) => p,
            Err(_) => return Decoded::Malformed,
        },
        // BSD loopback: a 4-byte address family in the host's byte order
        // (NULL) or big-endian (LOOP); the IP version says the rest.
        link::NULL | link::LOOP => match data.get(4..).map(LaxSlicedPacket::from_ip) {
            Some(Ok(p)) => p,
            _ => return Decoded::Malformed,
        },
        // Linux cooked capture v1: 16 bytes, the protocol (an EtherType)
        // in the last two.
        link::LINUX_SLL => match data.get(14..16) {
            Some(&[a, b]) => {
                LaxSlicedPacket::from_ether_type(EtherType(u16::from_be_bytes([a, b])), &data[16..])
            }
            _ => return Decoded::Malformed,
        },
        // Linux cooked capture v2: 20 bytes, the protocol in the first two.
        link::LINUX_SLL2 => match (data.get(0..2), data.get(20..)) {
            (Some(&[a, b]), Some(rest)) => {
                LaxSlicedPacket::from_ether_type(EtherType(u16::from_be_bytes([a, b])), rest)
            }
            _ => return Decoded::Malformed,
        },
        _ => return Decoded::UnknownLink,
    };
    let (src, dst, ip_payload) = match &sliced.net {
        Some(LaxNetSlice::Ipv4(ip)) => {
            let h = ip.header();
            let p = ip.payload();
            // With TSO the sender's capture may show total length 0
            // (Wireshark: "reported as 0, presumed to be because of TCP
            // segmentation offload"): the captured bytes are all there is.
            let declared = (usize::from(h.total_len()) > 0).then(|| {
                let auth = ip.extensions().auth.map_or(0, |a| a.slice().len());
                usize::from(h.total_len()).saturating_sub(usize::from(h.ihl()) * 4 + auth)
            });
            (
                IpAddr::from(h.source_addr()),
                IpAddr::from(h.destination_addr()),
                (p, declared),
            )
        }
        Some(LaxNetSlice::Ipv6(ip)) => {
            let h = ip.header();
            let p = ip.payload();
            let declared = (h.payload_length() > 0).then(|| {
                usize::from(h.payload_length()).saturating_sub(ip.extensions().slice().len())
            });
            (
                IpAddr::from(h.source_addr()),
                IpAddr::from(h.destination_addr()),
                (p, declared),
            )
        }
        _ => return Decoded::NotTcp,
    };
    let (payload, declared) = ip_payload;
    if payload.ip_number != etherparse::IpNumber::TCP || payload.fragmented {
        return Decoded::NotTcp;
    }
    let Some(TransportSlice::Tcp(tcp)) = &sliced.transport else {
        return Decoded::Malformed;
    };
    let hdr_len = tcp.header_len();
    let len = match declared {
        Some(d) if payload.incomplete => d.saturating_sub(hdr_len),
        _ => tcp.payload().len(),
    };
    let flags = Flags::of_tcp(tcp);
    // A bad option is the sender's mistake, not the capture's: keep the
    // segment, without options.
    let opts = crate::wire::parse_options(tcp.options()).unwrap_or_default();
    Decoded::Tcp(TcpPacket {
        src: SocketAddr::new(src, tcp.source_port()),
        dst: SocketAddr::new(dst, tcp.destination_port()),
        seq: tcp.sequence_number(),
        ack: tcp.acknowledgment_number(),
        flags,
        win: tcp.window_size(),
        len: u32::try_from(len).unwrap_or(u32::MAX),
        opts,
    })
}

/// One frame: its number (1-based, as Wireshark counts), absolute time in
/// nanoseconds (an `f64` of seconds since 1970 would lose the
/// microseconds), link type and bytes.
pub struct Frame<'a> {
    pub number: u64,
    pub ns: u64,
    pub linktype: u32,
    pub data: &'a [u8],
}

/// How reading ended.
#[derive(Clone, Debug, PartialEq)]
pub enum End {
    Complete,
    /// The file stops in the middle of a record, or a record is not valid:
    /// the sentence says where.
    Cut(String),
}

enum Source {
    Pcap(PcapReader<BufReader<File>>, u32),
    /// Interfaces: link type and timestamp unit.
    Ng(PcapNgReader<BufReader<File>>, Vec<(u32, Resol)>),
}

/// The frames of a capture file, in file order.
pub struct Frames {
    name: String,
    source: Source,
    number: u64,
}

/// pcapng's `if_tsresol` (§4.2): the high bit chooses a power of 2, else
/// of 10; 6, microseconds, by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Resol(u8);

impl Resol {
    const MICRO: Resol = Resol(6);

    fn of(opts: &[InterfaceDescriptionOption]) -> Resol {
        for o in opts {
            if let InterfaceDescriptionOption::IfTsResol(r) = o {
                return Resol(*r);
            }
        }
        Resol::MICRO
    }

    /// A raw timestamp in nanoseconds (saturating: a nonsense resolution
    /// gives a nonsense time, never a panic).
    fn ns(self, raw: u64) -> u64 {
        let n = u32::from(self.0 & 0x7f);
        let raw = u128::from(raw);
        let ns = if self.0 & 0x80 != 0 {
            if n >= 64 {
                0
            } else {
                (raw * 1_000_000_000) >> n
            }
        } else if n <= 9 {
            raw * 10u128.pow(9 - n)
        } else {
            raw / 10u128.pow((n - 9).min(38))
        };
        u64::try_from(ns).unwrap_or(u64::MAX)
    }
}

impl Frames {
    /// Open `path`, which [`sniff`] found to be `format`.
    pub fn open(path: &Path, format: Format) -> Result<Frames, String> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| format!("cannot open the capture {name}: {e}"))?;
        let r = BufReader::with_capacity(1 << 16, file);
        let bad = |e: pcap_file::PcapError| format!("{name} is not a readable capture: {e}");
        let source = match format {
            Format::Pcap => {
                let rd = PcapReader::new(r).map_err(bad)?;
                let lt = u32::from(rd.header().datalink);
                Source::Pcap(rd, lt)
            }
            Format::PcapNg => Source::Ng(PcapNgReader::new(r).map_err(bad)?, Vec::new()),
        };
        Ok(Frames {
            name,
            source,
            number: 0,
        })
    }

    fn cut(&self, e: &pcap_file::PcapError) -> End {
        let after = match self.number {
            0 => "before its first packet".to_string(),
            n => format!("after packet {n}"),
        };
        let why = match e {
            pcap_file::PcapError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                "the file ends in the middle of a record".to_string()
            }
            other => other.to_string(),
        };
        End::Cut(format!(
            "{} is cut short {after} ({why}): everything up to there is shown",
            self.name
        ))
    }

    /// Call `f` for every frame; stops early when `f` says so (`Err`).
    pub fn each<E>(&mut self, mut f: impl FnMut(Frame<'_>) -> Result<(), E>) -> Result<End, E> {
        loop {
            match &mut self.source {
                Source::Pcap(rd, lt) => {
                    let lt = *lt;
                    let nano = rd.header().ts_resolution == TsResolution::NanoSecond;
                    // The raw record: pcap-file's checked packet refuses
                    // an original length above the snap length, which is
                    // what every capture with `-s` has.
                    match rd.next_raw_packet() {
                        None => return Ok(End::Complete),
                        Some(Err(e)) => return Ok(self.cut(&e)),
                        Some(Ok(p)) => {
                            self.number += 1;
                            let frac = u64::from(p.ts_frac) * if nano { 1 } else { 1000 };
                            f(Frame {
                                number: self.number,
                                ns: u64::from(p.ts_sec) * 1_000_000_000 + frac,
                                linktype: lt,
                                data: &p.data,
                            })?;
                        }
                    }
                }
                Source::Ng(rd, ifaces) => {
                    let block = match rd.next_block() {
                        None => return Ok(End::Complete),
                        Some(Err(e)) => return Ok(self.cut(&e)),
                        Some(Ok(b)) => b,
                    };
                    match block {
                        Block::SectionHeader(_) => ifaces.clear(),
                        Block::InterfaceDescription(idb) => {
                            ifaces.push((u32::from(idb.linktype), Resol::of(&idb.options)));
                        }
                        Block::EnhancedPacket(epb) => {
                            // pcap-file hands the raw 64-bit timestamp over
                            // as nanoseconds; the interface says its unit.
                            let (lt, unit) = ifaces
                                .get(epb.interface_id as usize)
                                .copied()
                                .unwrap_or((u32::MAX, Resol::MICRO));
                            let raw = u64::try_from(epb.timestamp.as_nanos()).unwrap_or(u64::MAX);
                            self.number += 1;
                            f(Frame {
                                number: self.number,
                                ns: unit.ns(raw),
                                linktype: lt,
                                data: &epb.data,
                            })?;
                        }
                        Block::SimplePacket(spb) => {
                            // No timestamp (pcapng §4.4): time 0.
                            let lt = ifaces.first().map(|x| x.0).unwrap_or(u32::MAX);
                            self.number += 1;
                            f(Frame {
                                number: self.number,
                                ns: 0,
                                linktype: lt,
                                data: &spb.data,
                            })?;
                        }
                        Block::Packet(pb) => {
                            let (lt, unit) = ifaces
                                .get(usize::from(pb.interface_id))
                                .copied()
                                .unwrap_or((u32::MAX, Resol::MICRO));
                            self.number += 1;
                            f(Frame {
                                number: self.number,
                                ns: unit.ns(pb.timestamp),
                                linktype: lt,
                                data: &pb.data,
                            })?;
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

/// The four-tuple, client first.
type Key = (SocketAddr, SocketAddr);

/// What is kept per connection while the capture is read.
struct Track {
    /// Each side's connection string (`LOCAL<->REMOTE` from that side).
    conn: [Arc<str>; 2],
    analysis: ConnAnalysis,
    inference: Inference,
    /// Each side's MSS option, from its SYN.
    mss: [Option<u16>; 2],
    syn_opts: [Option<TcpOptions>; 2],
    negotiated: bool,
    last_t: f64,
}

impl Track {
    fn new(client: SocketAddr, server: SocketAddr) -> Track {
        Track {
            conn: [
                format!("{client}<->{server}").into(),
                format!("{server}<->{client}").into(),
            ],
            analysis: ConnAnalysis::default(),
            inference: Inference::default(),
            mss: [None; 2],
            syn_opts: [None, None],
            negotiated: false,
            last_t: 0.0,
        }
    }
}

/// Counts for the summary line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub frames: u64,
    pub tcp: u64,
    pub connections: u64,
    pub not_tcp: u64,
    pub unknown_link: u64,
    pub malformed: u64,
    /// Connections no longer followed to keep memory bounded (live only).
    pub forgotten: u64,
    /// Set when the file was cut short: the sentence to show.
    pub cut: Option<String>,
}

impl Summary {
    /// One line for the log: what was read and what was skipped.
    pub fn line(&self) -> String {
        let mut s = format!(
            "capture read: {} packets, {} TCP segments in {} connections",
            self.frames, self.tcp, self.connections
        );
        let mut skipped = Vec::new();
        if self.not_tcp > 0 {
            skipped.push(format!("{} not TCP", self.not_tcp));
        }
        if self.unknown_link > 0 {
            skipped.push(format!("{} of an unknown link type", self.unknown_link));
        }
        if self.malformed > 0 {
            skipped.push(format!("{} malformed", self.malformed));
        }
        if !skipped.is_empty() {
            s.push_str(&format!("; skipped {}", skipped.join(", ")));
        }
        s
    }
}

/// How long a closed connection's analysis is kept after its last packet:
/// late retransmissions still find it; after that its memory is freed.
const CLOSED_LINGER: f64 = 120.0;

/// The state of a conversion: connections by four-tuple.
struct Converter {
    conns: HashMap<Key, Track>,
    client: Arc<str>,
    server: Arc<str>,
    /// Capture time of the first packet (ns): event time 0.
    t0: Option<u64>,
    summary: Summary,
    changes: Vec<Change>,
    next_sweep: f64,
    /// The latest event time so far.
    latest: f64,
}

/// The sentence said once per capture, at its start.
pub const INFERRED_NOTE: &str = "states are inferred from the packets (marked ~): a listening socket sends nothing, so LISTEN cannot be seen, and TIME-WAIT's end is silent";

impl Converter {
    fn new() -> Converter {
        Converter {
            conns: HashMap::new(),
            client: "client".into(),
            server: "server".into(),
            t0: None,
            summary: Summary::default(),
            changes: Vec::new(),
            next_sweep: CLOSED_LINGER,
            latest: 0.0,
        }
    }

    fn host(&self, side: usize) -> Arc<str> {
        if side == 0 {
            self.client.clone()
        } else {
            self.server.clone()
        }
    }

    fn state_events<E>(
        &mut self,
        t: f64,
        key: &Key,
        sink: &mut impl FnMut(Event) -> Result<(), E>,
    ) -> Result<(), E> {
        let changes = std::mem::take(&mut self.changes);
        for c in &changes {
            let conn = self.conns.get(key).map(|tr| tr.conn[c.side].clone());
            sink(Event {
                t,
                host: Some(self.host(c.side)),
                conn,
                body: Body::State {
                    from: c.from,
                    to: c.to,
                    cause: c.cause.clone(),
                    inferred: true,
                    lasted: c.lasted,
                },
            })?;
        }
        self.changes = changes;
        self.changes.clear();
        Ok(())
    }

    fn frame<E>(
        &mut self,
        f: Frame<'_>,
        sink: &mut impl FnMut(Event) -> Result<(), E>,
    ) -> Result<(), E> {
        self.summary.frames += 1;
        let p = match decode(f.linktype, f.data) {
            Decoded::Tcp(p) => p,
            Decoded::NotTcp => {
                self.summary.not_tcp += 1;
                return Ok(());
            }
            Decoded::UnknownLink => {
                self.summary.unknown_link += 1;
                return Ok(());
            }
            Decoded::Malformed => {
                self.summary.malformed += 1;
                return Ok(());
            }
        };
        self.summary.tcp += 1;
        let t0 = *self.t0.get_or_insert(f.ns);
        // Event time is seconds since the first packet; a clock stepping
        // back in the capture is held at the start. The analysis compares
        // times in nanoseconds, as Wireshark does.
        let ns = f.ns.saturating_sub(t0);
        let t = ns as f64 / 1e9;
        self.latest = self.latest.max(t);
        if t >= self.next_sweep {
            self.sweep(t, sink)?;
        }
        let fwd: Key = (p.src, p.dst);
        let rev: Key = (p.dst, p.src);
        let syn_only = p.flags.syn() && !p.flags.ack() && !p.flags.rst();
        // Which tracked connection, and which side sent this.
        let (key, side) = if self.conns.contains_key(&fwd) {
            (fwd, 0)
        } else if self.conns.contains_key(&rev) {
            (rev, 1)
        } else {
            // New: the SYN's sender is the client; without a SYN, the
            // higher port is (an ephemeral port against a service's).
            let client_sends = if p.flags.syn() {
                !p.flags.ack()
            } else {
                p.src.port() >= p.dst.port()
            };
            let key = if client_sends { fwd } else { rev };
            self.conns.insert(key, Track::new(key.0, key.1));
            self.summary.connections += 1;
            (key, if client_sends { 0 } else { 1 })
        };
        // A new SYN with another ISN on ports whose connection is over: a
        // new incarnation (RFC 9293 §3.6.1, TIME-WAIT's end; Wireshark's
        // reused ports).
        if syn_only {
            let tr = &self.conns[&key];
            let other_isn = tr.inference.iss(side).is_some_and(|i| i != p.seq);
            if tr.inference.over() && other_isn {
                let mut changes = std::mem::take(&mut self.changes);
                self.conns
                    .get_mut(&key)
                    .expect("found above")
                    .inference
                    .reopened(t, &mut changes);
                self.changes = changes;
                self.state_events(t, &key, sink)?;
                // The SYN's sender is the client of the new one.
                self.conns.remove(&key);
                self.conns.insert(fwd, Track::new(p.src, p.dst));
                self.summary.connections += 1;
                return self.segment(f.number, (t, ns), fwd, 0, &p, sink);
            }
        }
        self.segment(f.number, (t, ns), key, side, &p, sink)
    }

    fn segment<E>(
        &mut self,
        number: u64,
        (t, ns): (f64, u64),
        key: Key,
        side: usize,
        p: &TcpPacket,
        sink: &mut impl FnMut(Event) -> Result<(), E>,
    ) -> Result<(), E> {
        let tr = self.conns.get_mut(&key).expect("tracked");
        tr.last_t = t;
        if p.flags.syn() {
            tr.mss[side] = p.opts.mss;
            tr.syn_opts[side] = Some(p.opts.clone());
        }
        let verdict = tr.analysis.packet(
            side,
            &Pkt {
                ns,
                seq: p.seq,
                ack: p.ack,
                len: p.len,
                flags: p.flags,
                win: p.win,
                wscale: p.opts.wscale,
            },
        );
        let seg = infer::Seg {
            t,
            seq: p.seq,
            ack: p.ack,
            len: p.len,
            flags: p.flags,
        };
        let mut changes = std::mem::take(&mut self.changes);
        tr.inference.segment(side, &seg, &mut changes);
        // More than the peer's MSS (RFC 9293 §3.7.1: less the options
        // every segment carries, as Linux counts it): an offload aggregate.
        let peer_mss = tr.mss[1 - side].map(u32::from);
        let ts_len = if p.opts.timestamp.is_some() { 12 } else { 0 };
        let segs = peer_mss
            .map(|m| m.saturating_sub(ts_len).max(1))
            .filter(|m| p.len > *m && !p.flags.syn())
            .map(|m| p.len.div_ceil(m));
        let negotiate = !tr.negotiated && tr.syn_opts[0].is_some() && tr.syn_opts[1].is_some();
        let conn = tr.conn.clone();
        // The sender's transitions come before its segment, the receiver's
        // after (it changes state when the segment arrives).
        let (before, after): (Vec<Change>, Vec<Change>) =
            changes.drain(..).partition(|c| c.side == side);
        self.changes = before;
        self.state_events(t, &key, sink)?;
        let retransmit = verdict.retransmit();
        sink(Event {
            t,
            host: Some(self.host(side)),
            conn: Some(conn[side].clone()),
            body: Body::Segment(SegmentEvent {
                dir: Dir::Out,
                seg: SegFields {
                    id: number,
                    flags: p.flags,
                    seq: p.seq,
                    ack: p.ack,
                    len: p.len,
                    win: p.win,
                    opts: crate::event::Opts(p.opts.clone()),
                    hdr: None,
                },
                retransmit,
                rtx: None,
                probe: false,
                dup_ack: verdict.dup_ack,
                analysis: verdict.names(),
                segs,
                // A capture's segments are what the wire showed, aggregates
                // included: nothing to split (`segs` says what they are).
                gro: None,
            }),
        })?;
        self.changes = after;
        self.state_events(t, &key, sink)?;
        if negotiate {
            self.negotiated(t, &key, sink)?;
        }
        Ok(())
    }

    /// Once both SYNs were seen: what each side negotiated (RFC 9293
    /// §3.7.1 MSS, RFC 7323 window scale and timestamps, RFC 2018 SACK).
    fn negotiated<E>(
        &mut self,
        t: f64,
        key: &Key,
        sink: &mut impl FnMut(Event) -> Result<(), E>,
    ) -> Result<(), E> {
        let Some(tr) = self.conns.get_mut(key) else {
            return Ok(());
        };
        tr.negotiated = true;
        let (Some(a), Some(b)) = (tr.syn_opts[0].take(), tr.syn_opts[1].take()) else {
            return Ok(());
        };
        let conn = tr.conn.clone();
        let both_ws = a.wscale.is_some() && b.wscale.is_some();
        for (side, (mine, theirs)) in [(0, (&a, &b)), (1, (&b, &a))] {
            sink(Event {
                t,
                host: Some(self.host(side)),
                conn: Some(conn[side].clone()),
                body: Body::Negotiated(NegotiatedEvent {
                    // RFC 9293 §3.7.1: 536 without the option.
                    mss: theirs.mss.unwrap_or(536),
                    our_mss: mine.mss.unwrap_or(536),
                    ws_snd: if both_ws { theirs.wscale } else { None },
                    ws_rcv: if both_ws { mine.wscale } else { None },
                    ts: mine.timestamp.is_some() && theirs.timestamp.is_some(),
                    sack: mine.sack_perm && theirs.sack_perm,
                }),
            })?;
        }
        Ok(())
    }

    /// Forget connections over on both sides (CLOSED, or TIME-WAIT) and
    /// quiet for a while, so that memory follows the open connections, not
    /// the file. A side left in TIME-WAIT gets a line saying how long it
    /// had lasted when it stopped being followed.
    fn sweep<E>(&mut self, t: f64, sink: &mut impl FnMut(Event) -> Result<(), E>) -> Result<(), E> {
        self.next_sweep = t + CLOSED_LINGER / 4.0;
        let old: Vec<Key> = self
            .conns
            .iter()
            .filter(|(_, tr)| tr.inference.over() && t - tr.last_t > CLOSED_LINGER)
            .map(|(k, _)| *k)
            .collect();
        for k in old {
            let tr = self.conns.remove(&k).expect("listed above");
            for side in 0..2 {
                if tr.inference.state(side) == Some(crate::state::State::TimeWait) {
                    let since = tr.inference.since(side);
                    sink(Event {
                        t,
                        host: Some(self.host(side)),
                        conn: Some(tr.conn[side].clone()),
                        body: Body::App {
                            service: "capture".into(),
                            msg: format!(
                                "still in TIME-WAIT {:.6} s after entering it, with no packet for {:.0} s: no longer followed",
                                t - since,
                                CLOSED_LINGER
                            ),
                            request: None,
                        },
                    })?;
                }
            }
        }
        Ok(())
    }

    /// Forget all but `keep` connections: the oldest first, among them
    /// those over on both sides before open ones.
    fn evict(&mut self, keep: usize) {
        if self.conns.len() <= keep {
            return;
        }
        let mut order: Vec<(bool, f64, Key)> = self
            .conns
            .iter()
            .map(|(k, tr)| (!tr.inference.over(), tr.last_t, *k))
            .collect();
        order.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let n = self.conns.len() - keep;
        for (_, _, k) in order.into_iter().take(n) {
            self.conns.remove(&k);
        }
        self.summary.forgotten += n as u64;
    }

    /// At the end: how long each wait had lasted when the capture stopped.
    fn finish<E>(
        &mut self,
        end: f64,
        sink: &mut impl FnMut(Event) -> Result<(), E>,
    ) -> Result<(), E> {
        use crate::state::State;
        let mut notes: Vec<(f64, Arc<str>, usize, String)> = Vec::new();
        for tr in self.conns.values() {
            for side in 0..2 {
                let Some(st) = tr.inference.state(side) else {
                    continue;
                };
                if matches!(st, State::Closed | State::Established) {
                    continue;
                }
                let since = tr.inference.since(side);
                notes.push((
                    since,
                    tr.conn[side].clone(),
                    side,
                    format!(
                        "still in {} when the capture ended, {:.6} s after entering it",
                        st.name(),
                        end - since
                    ),
                ));
            }
        }
        // Deterministic output: by when the wait began, then by name.
        notes.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        for (_, conn, side, msg) in notes {
            sink(Event {
                t: end,
                host: Some(self.host(side)),
                conn: Some(conn),
                body: Body::App {
                    service: "capture".into(),
                    msg,
                    request: None,
                },
            })?;
        }
        Ok(())
    }
}

/// Live packets as events (`tcpscope watch` and `intercept`): the same
/// conversion as a capture file's, fed one frame at a time, with at most
/// `max_conns` connections followed. Past that the oldest are forgotten,
/// those over on both sides first (docs/watch.md, Watching the machine's own connections: bounded
/// memory); a forgotten connection that sends again starts afresh.
pub struct Stream {
    cv: Converter,
    max_conns: usize,
}

impl Stream {
    /// Frame times are nanoseconds since the start of the run (event time 0).
    pub fn new(max_conns: usize) -> Stream {
        let mut cv = Converter::new();
        cv.t0 = Some(0);
        Stream {
            cv,
            max_conns: max_conns.max(1),
        }
    }

    /// One frame of link type `linktype`, numbered `number` (its events'
    /// segment id), seen `ns` nanoseconds after the start.
    pub fn frame<E>(
        &mut self,
        number: u64,
        ns: u64,
        linktype: u32,
        data: &[u8],
        sink: &mut impl FnMut(Event) -> Result<(), E>,
    ) -> Result<(), E> {
        self.cv.frame(
            Frame {
                number,
                ns,
                linktype,
                data,
            },
            sink,
        )?;
        if self.cv.conns.len() > self.max_conns {
            // An eighth at a time, so the sort is paid rarely.
            let keep = self.max_conns - self.max_conns / 8;
            self.cv.evict(keep);
        }
        Ok(())
    }

    /// Which host (`client` or `server`) the end at `local` is, talking to
    /// `remote`, when that connection is followed.
    pub fn host_of(&self, local: SocketAddr, remote: SocketAddr) -> Option<Arc<str>> {
        if self.cv.conns.contains_key(&(local, remote)) {
            Some(self.cv.client.clone())
        } else if self.cv.conns.contains_key(&(remote, local)) {
            Some(self.cv.server.clone())
        } else {
            None
        }
    }

    /// Connections followed now.
    pub fn tracked(&self) -> usize {
        self.cv.conns.len()
    }

    pub fn summary(&self) -> &Summary {
        &self.cv.summary
    }

    /// The latest event time so far.
    pub fn latest(&self) -> f64 {
        self.cv.latest
    }

    /// At the end of the run: how long each wait had lasted.
    pub fn finish<E>(
        &mut self,
        end: f64,
        sink: &mut impl FnMut(Event) -> Result<(), E>,
    ) -> Result<(), E> {
        self.cv.finish(end, sink)
    }
}

/// Why a conversion stopped.
#[derive(Debug)]
pub enum Error<E> {
    /// The file could not be opened or is no capture: one sentence.
    Open(String),
    /// The sink refused an event.
    Sink(E),
}

/// Read the capture at `path` (of `format`) and hand its events to `sink`
/// in time order of the file; returns what was read. A capture cut short
/// gives everything up to the cut, and the sentence in `Summary::cut`.
pub fn convert<E>(
    path: &Path,
    format: Format,
    mut sink: impl FnMut(Event) -> Result<(), E>,
) -> Result<Summary, Error<E>> {
    let mut frames = Frames::open(path, format).map_err(Error::Open)?;
    let mut cv = Converter::new();
    let info = |msg: String| Event {
        t: 0.0,
        host: None,
        conn: None,
        body: Body::Info { msg },
    };
    let kind = match format {
        Format::Pcap => "pcap",
        Format::PcapNg => "pcapng",
    };
    sink(info(format!("capture: {} ({kind})", path.display()))).map_err(Error::Sink)?;
    sink(info(INFERRED_NOTE.into())).map_err(Error::Sink)?;
    let end = frames
        .each(|f| cv.frame(f, &mut sink))
        .map_err(Error::Sink)?;
    let end_t = cv.latest;
    cv.finish(end_t, &mut sink).map_err(Error::Sink)?;
    let mut summary = std::mem::take(&mut cv.summary);
    if let End::Cut(s) = end {
        summary.cut = Some(s);
    }
    let close = |msg: String| Event {
        t: end_t,
        host: None,
        conn: None,
        body: Body::Info { msg },
    };
    sink(close(summary.line())).map_err(Error::Sink)?;
    if let Some(c) = &summary.cut {
        sink(close(c.clone())).map_err(Error::Sink)?;
    }
    Ok(summary)
}

/// As [`convert`], with the events' times made non-decreasing: a
/// capture's clock may step back, a replay's timeline must not, so an
/// event keeps its place and takes the time before it. What every
/// consumer of a capture's events uses.
pub fn convert_in_order<E>(
    path: &Path,
    format: Format,
    mut sink: impl FnMut(Event) -> Result<(), E>,
) -> Result<Summary, Error<E>> {
    let mut last = 0.0f64;
    convert(path, format, |mut e| {
        e.t = e.t.max(last);
        last = e.t;
        sink(e)
    })
}

/// [`convert_in_order`] into a sink that takes every event; errors are one
/// sentence.
pub fn each_event(
    path: &Path,
    format: Format,
    mut f: impl FnMut(Event),
) -> Result<Summary, String> {
    convert_in_order(path, format, |e| {
        f(e);
        Ok::<(), std::convert::Infallible>(())
    })
    .map_err(|e| match e {
        Error::Open(s) => s,
        Error::Sink(never) => match never {},
    })
}

/// The format of the file at `path`, when it is a capture.
pub fn sniff_file(path: &Path) -> std::io::Result<Option<Format>> {
    let mut head = [0u8; 4];
    let mut f = File::open(path)?;
    let mut n = 0;
    while n < 4 {
        let k = f.read(&mut head[n..])?;
        if k == 0 {
            break;
        }
        n += k;
    }
    Ok(sniff(&head[..n]))
}
