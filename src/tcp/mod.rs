//! The sans-IO TCP engine.
//!
//! No sockets, no clock, no tokio: every call takes `now`; segments come in
//! as IPv4 or IPv6 packets; segments go out through [`Engine::poll_transmit`], events
//! through [`Engine::poll_event`], and [`Engine::poll_at`] says when to call
//! [`Engine::on_timer`] next (the shape of smoltcp and quinn-proto).

pub mod config;
pub mod cookie;
pub mod ctx;
pub mod isn;
pub mod reassembly;
pub mod recovery;
pub mod rtt;
pub mod tcb;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::event::{
    AbortReason, Analysis, Body, Dir, DropEvent, DropReason, Event, Gro, LimitKind, SegFields,
    SegmentEvent, TcbAction, TcbEvent,
};
use crate::time::Instant;
use crate::wire::{self, Flags, Segment, TcpOptions, WireError};

pub use crate::seq::SeqNum;
pub use crate::state::State;
pub use config::{CcAlgo, Config, Keepalive, Profile};
use ctx::Ctx;
pub use ctx::{RateLimit, Transmit, conn_name};
use tcb::Verdict;
pub use tcb::{CloseReason, ConnId, SockBufs, Tcb};

/// Errors a user call can get, each one sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpError {
    NoSuchConnection,
    /// RFC 9293: "connection closing" (SEND after CLOSE, CLOSE twice).
    Closing,
    Reset,
    Refused,
    TimedOut(&'static str),
    /// Nothing to read yet, or no room to write.
    WouldBlock,
    AddrInUse(u16),
    TableFull,
    NoEphemeralPort,
    /// The engine has no address of the remote's family (an IPv6 remote
    /// for an engine with only an IPv4 address, or the other way round).
    NoLocalAddress(&'static str),
}

impl fmt::Display for TcpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TcpError::NoSuchConnection => write!(f, "no such connection"),
            TcpError::Closing => write!(f, "connection closing"),
            TcpError::Reset => write!(f, "connection reset by peer"),
            TcpError::Refused => write!(f, "connection refused"),
            TcpError::TimedOut(what) => write!(f, "connection timed out ({what})"),
            TcpError::WouldBlock => write!(f, "operation would block"),
            TcpError::AddrInUse(p) => write!(f, "port {p} is already in use"),
            TcpError::TableFull => write!(f, "connection table full"),
            TcpError::NoEphemeralPort => write!(f, "no free ephemeral port"),
            TcpError::NoLocalAddress(family) => {
                write!(f, "this host has no {family} address to connect from")
            }
        }
    }
}

impl std::error::Error for TcpError {}

/// What an application may ask about a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnInfo {
    pub id: ConnId,
    pub state: State,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub name: Arc<str>,
    /// Bytes ready to read.
    pub readable: usize,
    /// Room in the send buffer.
    pub writable: usize,
    /// The peer sent FIN and everything before it has been read.
    pub eof: bool,
    /// Set once the connection is gone (then `state` is CLOSED).
    pub closed: Option<CloseReason>,
}

#[derive(Debug)]
struct Listener {
    name: Arc<str>,
    backlog: usize,
    half_open: usize,
    accept_queue: VecDeque<ConnId>,
    /// Cookies were sent until this time plus their lifetime: only then is
    /// an ACK to the listener checked for one.
    cookies_sent: Option<Instant>,
    /// Buffers set on the listening socket, inherited by its connections.
    bufs: SockBufs,
}

/// Tombstones kept so that an application learns how its connection ended.
const TOMBSTONES: usize = 4096;

/// The parts of the engine a TCB call borrows, apart from the table.
struct Core {
    cfg: Config,
    host: Arc<str>,
    /// Events in the order they happened; a vector, so a caller takes
    /// them all with one copy (`Engine::append_events`).
    events: Vec<Event>,
    tx: VecDeque<Transmit>,
    next_id: u64,
    id_step: u64,
    /// The run of segments being joined into one TSO packet
    /// (`Config::aggregate_out`).
    run: Option<ctx::OpenRun>,
    pool: ctx::Pool,
}

impl Core {
    fn ctx(&mut self, now: Instant) -> Ctx<'_> {
        Ctx {
            now,
            cfg: &self.cfg,
            host: &self.host,
            events: &mut self.events,
            tx: &mut self.tx,
            next_id: &mut self.next_id,
            id_step: self.id_step,
            run: &mut self.run,
            flushing: false,
            arrival: false,
            gso_size: 0,
            pool: &mut self.pool,
        }
    }
}

pub struct Engine {
    core: Core,
    /// The address given to [`Engine::new`] (listeners are named by it).
    addr: IpAddr,
    /// The addresses the engine answers on, one per family at most.
    addr4: Option<Ipv4Addr>,
    addr6: Option<Ipv6Addr>,
    isn: isn::IsnGenerator,
    rng: SmallRng,
    conns: BTreeMap<ConnId, Box<Tcb>>,
    /// Looked up for every segment that arrives: foldhash, randomly seeded
    /// per process, costs less than SipHash there and is still keyed
    /// against chosen tuples.
    by_tuple: foldhash::HashMap<(SocketAddr, SocketAddr), ConnId>,
    listeners: BTreeMap<u16, Listener>,
    /// (deadline, connection) for every connection with an armed timer.
    timer_index: BTreeSet<(Instant, ConnId)>,
    timer_of: foldhash::HashMap<ConnId, Instant>,
    next_conn: u64,
    tombstones: HashMap<ConnId, CloseReason>,
    tomb_order: VecDeque<ConnId>,
    dirty: Vec<ConnId>,
    /// Corked connections with output waiting for `flush`.
    unflushed: Vec<ConnId>,
    /// When each kind of `limit` event was last emitted.
    limit_reported: HashMap<LimitKind, Instant>,
}

impl Engine {
    /// An engine for the host `host` (a name for events) at `addr`;
    /// [`Engine::add_addr`] gives it an address of the other family too.
    pub fn new(cfg: Config, host: &str, addr: impl Into<IpAddr>) -> Engine {
        let addr = addr.into();
        let seed = cfg.seed;
        // An IPv4 address seeds as it did before IPv6 existed, so that
        // seeded IPv4 runs keep their ISNs.
        let addr_bits = match addr {
            IpAddr::V4(a) => u64::from(u32::from(a)),
            IpAddr::V6(a) => {
                let v = u128::from(a);
                (v >> 64) as u64 ^ v as u64
            }
        };
        let mut e = Engine {
            core: Core {
                cfg,
                host: host.into(),
                events: Vec::new(),
                tx: VecDeque::new(),
                next_id: 1,
                id_step: 1,
                run: None,
                pool: ctx::Pool::default(),
            },
            addr,
            addr4: None,
            addr6: None,
            isn: isn::IsnGenerator::new(seed ^ addr_bits),
            rng: SmallRng::seed_from_u64(seed ^ addr_bits.rotate_left(17)),
            conns: BTreeMap::new(),
            by_tuple: foldhash::HashMap::default(),
            listeners: BTreeMap::new(),
            timer_index: BTreeSet::new(),
            timer_of: foldhash::HashMap::default(),
            next_conn: 1,
            tombstones: HashMap::new(),
            tomb_order: VecDeque::new(),
            dirty: Vec::new(),
            unflushed: Vec::new(),
            limit_reported: HashMap::new(),
        };
        e.add_addr(addr);
        e
    }

    /// Answer on `addr` as well: the engine's address of that family
    /// (replacing one given before).
    pub fn add_addr(&mut self, addr: impl Into<IpAddr>) {
        match addr.into() {
            IpAddr::V4(a) => self.addr4 = Some(a),
            IpAddr::V6(a) => self.addr6 = Some(a),
        }
    }

    /// Whether `ip` is one of the engine's addresses.
    fn is_local(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => self.addr4 == Some(a),
            IpAddr::V6(a) => self.addr6 == Some(a),
        }
    }

    /// The engine's address of `remote`'s family.
    fn local_ip_for(&self, remote: &SocketAddr) -> Result<IpAddr, TcpError> {
        match remote {
            SocketAddr::V4(_) => self
                .addr4
                .map(IpAddr::V4)
                .ok_or(TcpError::NoLocalAddress("IPv4")),
            SocketAddr::V6(_) => self
                .addr6
                .map(IpAddr::V6)
                .ok_or(TcpError::NoLocalAddress("IPv6")),
        }
    }

    pub fn config(&self) -> &Config {
        &self.core.cfg
    }

    /// Settings for connections created from now on.
    pub fn config_mut(&mut self) -> &mut Config {
        &mut self.core.cfg
    }

    /// The address given to [`Engine::new`].
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The engine's IPv6 address, if it has one.
    pub fn addr6(&self) -> Option<Ipv6Addr> {
        self.addr6
    }

    pub fn host(&self) -> &Arc<str> {
        &self.core.host
    }

    /// Outgoing segment ids are `start`, `start + step`, …, so that several
    /// engines (or an engine and a link) never hand out the same id.
    pub fn set_segment_ids(&mut self, start: u64, step: u64) {
        self.core.next_id = start;
        self.core.id_step = step.max(1);
    }

    // ----- outputs ----------------------------------------------------------

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.core.tx.pop_front()
    }

    /// A packet's buffer back from the link once it is sent (or a
    /// received one once processed): the engine builds its next packets
    /// in such buffers instead of allocating (see `ctx::Pool`).
    pub fn recycle(&mut self, buf: Vec<u8>) {
        self.core.pool.put(buf);
    }

    /// With `Config::cork`: send what the cork held (an ACK that arriving
    /// segments made due, merged with what user calls added since: the ACK
    /// rides on the answer's data or FIN). A no-op otherwise.
    pub fn flush(&mut self, now: Instant) {
        for cid in std::mem::take(&mut self.unflushed) {
            let Some(tcb) = self.conns.get_mut(&cid) else {
                continue;
            };
            tcb.flush_listed = false;
            if !std::mem::take(&mut tcb.output_pending) {
                continue;
            }
            let mut ctx = self.core.ctx(now);
            ctx.flushing = true;
            if tcb.state != State::Closed {
                tcb.output(&mut ctx);
            }
            self.settle(now, cid);
        }
    }

    /// Whether `flush` has anything to send.
    pub fn needs_flush(&self) -> bool {
        !self.unflushed.is_empty()
    }

    /// The oldest event not yet taken. Takers of many use
    /// [`Engine::drain_events`] or [`Engine::append_events`]: this one
    /// shifts the rest.
    pub fn poll_event(&mut self) -> Option<Event> {
        (!self.core.events.is_empty()).then(|| self.core.events.remove(0))
    }

    pub fn drain_events(&mut self) -> std::vec::Drain<'_, Event> {
        self.core.events.drain(..)
    }

    /// Every event not yet taken, moved to the end of `out` in one copy.
    pub fn append_events(&mut self, out: &mut Vec<Event>) {
        out.append(&mut self.core.events);
    }

    /// Emit an event on behalf of the host (apps, scenarios).
    pub fn emit(&mut self, now: Instant, conn: Option<Arc<str>>, body: Body) {
        self.core.ctx(now).event(conn.as_ref(), body);
    }

    /// When [`Engine::on_timer`] must next be called.
    pub fn poll_at(&self) -> Option<Instant> {
        self.timer_index.first().map(|(t, _)| *t)
    }

    /// Connections whose readiness changed since the last call.
    pub fn take_dirty(&mut self) -> Vec<ConnId> {
        let mut v = std::mem::take(&mut self.dirty);
        v.sort();
        v.dedup();
        for cid in &v {
            if let Some(tcb) = self.conns.get_mut(cid) {
                tcb.dirty_listed = false;
            }
        }
        v
    }

    // ----- inputs -----------------------------------------------------------

    /// A packet arrived from the link. `id` names it in the `segment in`
    /// event (the sender's id on the in-memory wire).
    pub fn receive(&mut self, now: Instant, id: u64, packet: &[u8]) {
        self.receive_checked(now, id, packet, true, None);
    }

    /// As [`Engine::receive`], for a packet whose link vouches for its data
    /// (checksum offload left the TCP checksum partial): not verified, as a
    /// NIC's checksum offload would have done it.
    pub fn receive_unverified(&mut self, now: Instant, id: u64, packet: &[u8]) {
        self.receive_checked(now, id, packet, false, None);
    }

    /// As [`Engine::receive_unverified`], for a kernel GSO packet that
    /// stands for `gro.segs` wire segments, processed as one, as Linux's
    /// GRO does (docs/live.md, The link). Its `segment` event carries `gro`, so
    /// that what is shown is still wire segments.
    pub fn receive_gro(&mut self, now: Instant, id: u64, packet: &[u8], gro: Gro) {
        self.receive_checked(now, id, packet, false, Some(gro));
    }

    fn receive_checked(
        &mut self,
        now: Instant,
        id: u64,
        packet: &[u8],
        verify: bool,
        gro: Option<Gro>,
    ) {
        let parsed = wire::parse_into(packet, verify, self.core.pool.take());
        let mut seg = match parsed {
            Ok(s) => s,
            Err(e) => {
                let seg = match &e {
                    WireError::Checksum(s) => Some(self.fields(id, s, packet)),
                    _ => None,
                };
                let conn = match &e {
                    WireError::Checksum(s) => Some(conn_name(s.dst, s.src)),
                    _ => None,
                };
                self.core.ctx(now).event(
                    conn.as_ref(),
                    Body::Drop(DropEvent {
                        dir: Dir::In,
                        reason: DropReason::from(&e),
                        rule: None,
                        seg,
                    }),
                );
                return;
            }
        };
        if !self.is_local(seg.dst.ip()) {
            let fields = self.fields(id, &seg, packet);
            self.core.ctx(now).event(
                Some(&conn_name(seg.dst, seg.src)),
                Body::Drop(DropEvent {
                    dir: Dir::In,
                    reason: DropReason::NotForUs,
                    rule: None,
                    seg: Some(fields),
                }),
            );
            return;
        }
        let key = (seg.dst, seg.src);
        let fields = self.fields(id, &seg, packet);
        if let Some(&cid) = self.by_tuple.get(&key) {
            let tcb = self.conns.get_mut(&cid).expect("indexed connection exists");
            let mut ctx = self.core.ctx(now);
            ctx.arrival = true;
            ctx.gso_size = gro.map_or(0, |g| g.size);
            let retransmit = tcb.looks_like_retransmit(&seg);
            // What sent it again, as far as the receiver can tell
            // (docs/events.md, The schema: `analysis`).
            let analysis = if !retransmit {
                Vec::new()
            } else if tcb.looks_like_fast_retransmit(now, &seg) {
                vec![Analysis::Retransmission, Analysis::FastRetransmission]
            } else if tcb.looks_like_spurious_retransmit(&seg) {
                vec![Analysis::Retransmission, Analysis::SpuriousRetransmission]
            } else {
                Vec::new()
            };
            let dup_ack = tcb.note_arrival(&seg);
            ctx.event(
                Some(&tcb.name),
                Body::Segment(SegmentEvent {
                    dir: Dir::In,
                    seg: fields,
                    retransmit,
                    rtx: None,
                    probe: false,
                    dup_ack,
                    analysis,
                    segs: None,
                    gro,
                }),
            );
            let verdict = tcb.on_segment(&mut ctx, &mut seg);
            ctx.pool.put(std::mem::take(&mut seg.payload));
            tcb.after_segment(&mut ctx);
            if tcb.state != State::Closed {
                tcb.output(&mut ctx);
            }
            let closed_window =
                (tcb.rcv_window() == 0 && tcb.state.is_synchronized() && tcb.recv_available() > 0)
                    .then(|| (tcb.name.clone(), tcb.capacities().1 as u64));
            if let Verdict::Reopen(syn) = verdict {
                // RFC 9293 §3.10.7.4 / RFC 6191: a SYN with a higher sequence
                // number may end TIME-WAIT and open a new incarnation.
                tcb.cancel_all(&mut ctx);
                let tcb = self.conns.get_mut(&cid).expect("still here");
                let mut ctx = self.core.ctx(now);
                tcb.abort(
                    &mut ctx,
                    AbortReason::Reopened,
                    false,
                    "new SYN in TIME-WAIT with a higher sequence number or a newer timestamp: a new incarnation (RFC 6191)".into(),
                );
                self.settle(now, cid);
                self.no_connection(now, syn);
                return;
            }
            self.settle(now, cid);
            if let Some((name, cap)) = closed_window {
                self.limit_event(
                    now,
                    &name,
                    LimitKind::RecvBuffer,
                    cap,
                    "receive buffer full: the window is closed until the application reads".into(),
                );
            }
        } else {
            self.core.ctx(now).event(
                Some(&conn_name(seg.dst, seg.src)),
                Body::Segment(SegmentEvent {
                    dir: Dir::In,
                    seg: fields,
                    retransmit: false,
                    rtx: None,
                    probe: false,
                    dup_ack: None,
                    analysis: Vec::new(),
                    segs: None,
                    gro,
                }),
            );
            self.no_connection(now, seg);
        }
    }

    /// Give back the memory of every connection's drained buffers
    /// ([`Tcb::trim_buffers`]); returns the bytes given back.
    pub fn trim_buffers(&mut self) -> usize {
        self.conns.values_mut().map(|t| t.trim_buffers()).sum()
    }

    fn fields(&self, id: u64, seg: &Segment, packet: &[u8]) -> SegFields {
        let f = SegFields::from_segment(id, seg);
        if self.core.cfg.hex_in_events {
            f.with_hdr(packet)
        } else {
            f
        }
    }

    /// No TCB for the 4-tuple: a listener (§3.10.7.2) or CLOSED (§3.10.7.1).
    fn no_connection(&mut self, now: Instant, seg: Segment) {
        let port = seg.dst.port();
        if self.listeners.contains_key(&port) {
            self.on_listen(now, seg);
            return;
        }
        self.reset_for(now, &seg);
    }

    /// §3.10.7.1: answer a segment for no connection with RST.
    fn reset_for(&mut self, now: Instant, seg: &Segment) {
        let f = seg.flags;
        if f.rst() {
            return;
        }
        let (seq, ack, flags) = if f.ack() {
            // <SEQ=SEG.ACK><CTL=RST>
            (seg.ack, SeqNum(0), Flags::RST)
        } else {
            // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
            (SeqNum(0), seg.seq + seg.seg_len(), Flags::RST | Flags::ACK)
        };
        let rst = Segment {
            src: seg.dst,
            dst: seg.src,
            seq,
            ack,
            flags,
            window: 0,
            urgent: 0,
            options: TcpOptions::default(),
            payload: Vec::new(),
        };
        let name = conn_name(seg.dst, seg.src);
        self.core.ctx(now).transmit(&name, &rst, None, false);
    }

    /// §3.10.7.2 LISTEN.
    fn on_listen(&mut self, now: Instant, seg: Segment) {
        let f = seg.flags;
        if f.rst() {
            return;
        }
        let port = seg.dst.port();
        if f.ack() {
            if !f.syn() && self.try_cookie(now, &seg) {
                return;
            }
            // "Any acknowledgment is bad if it arrives on a connection still
            // in the LISTEN state": <SEQ=SEG.ACK><CTL=RST>.
            self.reset_for(now, &seg);
            return;
        }
        if !f.syn() {
            return;
        }
        let l = self.listeners.get(&port).expect("caller checked");
        let name = conn_name(seg.dst, seg.src);
        if l.half_open + l.accept_queue.len() >= l.backlog {
            let limit = l.backlog as u64;
            let cookies = self.core.cfg.syn_cookies;
            let detail = if cookies {
                format!("listener on port {port} is full: answering with SYN cookies")
            } else {
                format!("listener on port {port} is full: SYN dropped")
            };
            self.limit_event(now, &name, LimitKind::SynBacklog, limit, detail);
            if cookies {
                self.send_cookie(now, &seg);
            }
            return;
        }
        if self.conns.len() >= self.core.cfg.max_connections {
            self.table_full(now, &name);
            return;
        }
        let cid = self.new_conn_id();
        let iss = self.isn.isn(now, seg.dst, seg.src);
        let ts_off = self.ts_offset(seg.dst, seg.src);
        self.emit_allocated(now, &name, port);
        let bufs = self
            .listeners
            .get(&port)
            .map(|l| l.bufs)
            .unwrap_or_default();
        let mut ctx = self.core.ctx(now);
        let mut tcb = Tcb::accept_syn(&mut ctx, cid, &seg, iss, ts_off, bufs);
        tcb.half_open = true;
        self.listeners.get_mut(&port).expect("checked").half_open += 1;
        self.by_tuple.insert((tcb.local, tcb.remote), cid);
        self.conns.insert(cid, Box::new(tcb));
        self.settle(now, cid);
    }

    fn table_full(&mut self, now: Instant, name: &Arc<str>) {
        let limit = self.core.cfg.max_connections as u64;
        self.limit_event(
            now,
            name,
            LimitKind::MaxConnections,
            limit,
            "connection table full".into(),
        );
    }

    /// A `limit` event, at most one a second per kind so that a flood does
    /// not flood the event stream too.
    fn limit_event(
        &mut self,
        now: Instant,
        name: &Arc<str>,
        what: LimitKind,
        limit: u64,
        detail: String,
    ) {
        if self
            .limit_reported
            .get(&what)
            .is_some_and(|t| now - *t < std::time::Duration::from_secs(1))
        {
            return;
        }
        self.limit_reported.insert(what, now);
        self.core.ctx(now).event(
            Some(name),
            Body::Limit {
                what,
                limit,
                detail: Some(detail),
            },
        );
    }

    /// SYN+ACK with a cookie ISN, no TCB (RFC 4987 §3.6).
    fn send_cookie(&mut self, now: Instant, syn: &Segment) {
        let ours = tcb::mss_limit(&self.core.cfg, &syn.src);
        let mss = syn
            .options
            .mss
            .unwrap_or(tcb::default_mss(&syn.src))
            .min(ours);
        let iss = cookie::make(&self.isn, now, syn.dst, syn.src, syn.seq, mss);
        let window = self.core.cfg.recv_buf.min(65535) as u16;
        let sa = Segment {
            src: syn.dst,
            dst: syn.src,
            seq: iss,
            ack: syn.seq + 1usize,
            flags: Flags::SYN | Flags::ACK,
            window,
            urgent: 0,
            options: TcpOptions {
                mss: Some(ours),
                ..TcpOptions::default()
            },
            payload: Vec::new(),
        };
        if let Some(l) = self.listeners.get_mut(&syn.dst.port()) {
            l.cookies_sent = Some(now);
        }
        let name = conn_name(syn.dst, syn.src);
        self.core.ctx(now).transmit(&name, &sa, None, false);
    }

    /// An ACK to a listener that recently sent cookies: is it one back?
    fn try_cookie(&mut self, now: Instant, ack: &Segment) -> bool {
        let port = ack.dst.port();
        let recent = self
            .listeners
            .get(&port)
            .and_then(|l| l.cookies_sent)
            .is_some_and(|t| now - t < std::time::Duration::from_secs(128));
        if !recent || self.conns.len() >= self.core.cfg.max_connections {
            return false;
        }
        let iss = ack.ack - 1usize;
        let Some(mss) = cookie::check(&self.isn, now, ack.dst, ack.src, ack.seq - 1usize, iss)
        else {
            return false;
        };
        let name = conn_name(ack.dst, ack.src);
        let cid = self.new_conn_id();
        let ts_off = self.ts_offset(ack.dst, ack.src);
        self.emit_allocated(now, &name, port);
        let mut ctx = self.core.ctx(now);
        ctx.arrival = true;
        let mut tcb = Tcb::from_cookie(&mut ctx, cid, ack, iss, mss, ts_off);
        // Data that rode on the ACK.
        if !ack.payload.is_empty() || ack.flags.fin() {
            let _ = tcb.on_segment(&mut ctx, &mut ack.clone());
        }
        tcb.output(&mut ctx);
        self.by_tuple.insert((tcb.local, tcb.remote), cid);
        self.conns.insert(cid, Box::new(tcb));
        self.settle(now, cid);
        true
    }

    fn new_conn_id(&mut self) -> ConnId {
        let id = ConnId(self.next_conn);
        self.next_conn += 1;
        id
    }

    /// RFC 7323 §5.4: a per-connection random offset for TSval.
    fn ts_offset(&self, local: SocketAddr, remote: SocketAddr) -> u32 {
        self.isn.hash_tuple(&[], local, remote, &[])
    }

    fn emit_allocated(&mut self, now: Instant, name: &Arc<str>, port: u16) {
        let cfg = &self.core.cfg;
        let ev = TcbEvent {
            action: TcbAction::Allocated,
            send_buf: cfg.send_buf,
            recv_buf: cfg.recv_buf,
            port,
            table: self.conns.len() + 1,
            freed: None,
        };
        self.core.ctx(now).event(Some(name), Body::Tcb(ev));
    }

    /// Bookkeeping after any call into a TCB: the vars event, the accept
    /// queue, freeing a closed TCB, and the timer index.
    fn settle(&mut self, now: Instant, cid: ConnId) {
        let Some(tcb) = self.conns.get_mut(&cid) else {
            return;
        };
        let mut ctx = self.core.ctx(now);
        tcb.emit_vars(&mut ctx);
        if tcb.dirty {
            tcb.dirty = false;
            if !tcb.dirty_listed {
                tcb.dirty_listed = true;
                self.dirty.push(cid);
            }
        }
        if tcb.output_pending && !tcb.flush_listed {
            tcb.flush_listed = true;
            self.unflushed.push(cid);
        }
        if let Some(port) = tcb.listener {
            if tcb.half_open && tcb.state != State::SynReceived {
                tcb.half_open = false;
                if let Some(l) = self.listeners.get_mut(&port) {
                    l.half_open = l.half_open.saturating_sub(1);
                }
            }
            if !tcb.queued
                && tcb.state.is_synchronized()
                && let Some(l) = self.listeners.get_mut(&port)
            {
                tcb.queued = true;
                l.accept_queue.push_back(cid);
                self.dirty.push(cid);
            }
        }
        let dead = tcb.state == State::Closed || (tcb.state == State::Listen && !tcb.passive_open);
        let deadline = tcb.next_deadline();
        if let Some(old) = self.timer_of.remove(&cid) {
            self.timer_index.remove(&(old, cid));
        }
        if dead {
            self.free(now, cid);
        } else if let Some(d) = deadline {
            self.timer_of.insert(cid, d);
            self.timer_index.insert((d, cid));
        }
    }

    fn free(&mut self, now: Instant, cid: ConnId) {
        let Some(mut tcb) = self.conns.remove(&cid) else {
            return;
        };
        self.by_tuple.remove(&(tcb.local, tcb.remote));
        let mut ctx = self.core.ctx(now);
        tcb.cancel_all(&mut ctx);
        let (snd, rcv) = tcb.capacities();
        let port = tcb.local.port();
        let port_note = match tcb.listener {
            Some(_) => format!("4-tuple released (port {port} stays with its listener)"),
            None => format!("local port {port} returned to the ephemeral pool"),
        };
        let freed = format!(
            "TCB and connection-table entry, {} KiB send and {} KiB receive buffers; {port_note}",
            snd / 1024,
            rcv / 1024
        );
        let ev = TcbEvent {
            action: TcbAction::Freed,
            send_buf: snd,
            recv_buf: rcv,
            port,
            table: self.conns.len(),
            freed: Some(freed),
        };
        ctx.event(Some(&tcb.name), Body::Tcb(ev));
        if let Some(port) = tcb.listener
            && let Some(l) = self.listeners.get_mut(&port)
        {
            if tcb.half_open {
                l.half_open = l.half_open.saturating_sub(1);
            }
            l.accept_queue.retain(|c| *c != cid);
        }
        let reason = tcb.close_reason.clone().unwrap_or(CloseReason::Normal);
        self.tombstones.insert(cid, reason);
        self.tomb_order.push_back(cid);
        while self.tomb_order.len() > TOMBSTONES {
            if let Some(old) = self.tomb_order.pop_front() {
                self.tombstones.remove(&old);
            }
        }
        self.dirty.push(cid);
    }

    /// Fire every timer that is due.
    pub fn on_timer(&mut self, now: Instant) {
        // Timers re-arm strictly after `now` (Tcb::arm), so a second pass
        // only meets connections the first one touched; bound it anyway.
        for _ in 0..4 {
            let due: Vec<ConnId> = self
                .timer_index
                .iter()
                .take_while(|(t, _)| *t <= now)
                .map(|(_, c)| *c)
                .collect();
            if due.is_empty() {
                return;
            }
            for cid in due {
                if let Some(tcb) = self.conns.get_mut(&cid) {
                    let mut ctx = self.core.ctx(now);
                    tcb.on_timers(&mut ctx);
                }
                self.settle(now, cid);
            }
        }
    }

    // ----- user calls ---------------------------------------------------------

    /// Passive OPEN on `port` (RFC 9293 §3.10.1).
    pub fn listen(
        &mut self,
        now: Instant,
        port: u16,
        backlog: Option<usize>,
    ) -> Result<(), TcpError> {
        if self.listeners.contains_key(&port) {
            return Err(TcpError::AddrInUse(port));
        }
        let backlog = backlog.unwrap_or(self.core.cfg.backlog).max(1);
        let name = conn_name(SocketAddr::new(self.addr, port), unspecified(self.addr));
        self.core.ctx(now).event(
            Some(&name),
            Body::State {
                from: State::Closed,
                to: State::Listen,
                cause: format!("passive open on port {port} (backlog {backlog})"),
                inferred: false,
                lasted: None,
            },
        );
        self.listeners.insert(
            port,
            Listener {
                name,
                backlog,
                half_open: 0,
                accept_queue: VecDeque::new(),
                cookies_sent: None,
                bufs: SockBufs::default(),
            },
        );
        Ok(())
    }

    /// CLOSE on a listener: connections not yet accepted are reset.
    pub fn unlisten(&mut self, now: Instant, port: u16) {
        let Some(l) = self.listeners.remove(&port) else {
            return;
        };
        self.core.ctx(now).event(
            Some(&l.name),
            Body::State {
                from: State::Listen,
                to: State::Closed,
                cause: format!("listener on port {port} closed"),
                inferred: false,
                lasted: None,
            },
        );
        let pending: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, t)| {
                t.listener == Some(port) && !t.queued || l.accept_queue.contains(&t.id)
            })
            .map(|(c, _)| *c)
            .collect();
        for cid in pending {
            let _ = self.abort(now, cid);
        }
    }

    pub fn is_listening(&self, port: u16) -> bool {
        self.listeners.contains_key(&port)
    }

    /// Buffers set on a listening socket (SO_SNDBUF, SO_RCVBUF): the
    /// connections it accepts from now on take them, as Linux's inherit
    /// the listener's. `false` when nothing listens on `port`.
    pub fn set_listen_bufs(&mut self, port: u16, bufs: SockBufs) -> bool {
        let Some(l) = self.listeners.get_mut(&port) else {
            return false;
        };
        l.bufs.snd = bufs.snd.or(l.bufs.snd);
        l.bufs.rcv = bufs.rcv.or(l.bufs.rcv);
        true
    }

    /// Buffers set on a connection's socket (SO_SNDBUF, SO_RCVBUF).
    pub fn set_bufs(&mut self, now: Instant, cid: ConnId, bufs: SockBufs) -> Result<(), TcpError> {
        self.with_tcb(now, cid, |t, ctx| t.set_bufs(ctx, bufs))
    }

    /// The next established connection on a listener.
    pub fn accept(&mut self, port: u16) -> Option<ConnId> {
        self.listeners.get_mut(&port)?.accept_queue.pop_front()
    }

    /// Passive OPEN with the remote socket specified (RFC 9293 §3.10.1): a
    /// TCB in LISTEN that only `remote` may connect to; a SEND on it turns
    /// it active (LISTEN → SYN-SENT, §3.10.2).
    pub fn listen_for(
        &mut self,
        now: Instant,
        local_port: u16,
        remote: SocketAddr,
    ) -> Result<ConnId, TcpError> {
        let ip = self.local_ip_for(&remote)?;
        if self.conns.len() >= self.core.cfg.max_connections {
            let name = conn_name(SocketAddr::new(ip, local_port), remote);
            self.table_full(now, &name);
            return Err(TcpError::TableFull);
        }
        let local = SocketAddr::new(ip, local_port);
        if self.by_tuple.contains_key(&(local, remote)) {
            return Err(TcpError::AddrInUse(local_port));
        }
        Ok(self.open_tcb(now, local, remote, Tcb::passive))
    }

    /// A new TCB for `local`–`remote` made by `make` (an OPEN): its ISN
    /// and timestamp offset, the `tcb allocated` event, the tables.
    fn open_tcb(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        make: impl FnOnce(&mut Ctx, ConnId, SocketAddr, SocketAddr, SeqNum, u32) -> Tcb,
    ) -> ConnId {
        let cid = self.new_conn_id();
        let iss = self.isn.isn(now, local, remote);
        let ts_off = self.ts_offset(local, remote);
        self.emit_allocated(now, &conn_name(local, remote), local.port());
        let mut ctx = self.core.ctx(now);
        let tcb = make(&mut ctx, cid, local, remote, iss, ts_off);
        self.by_tuple.insert((local, remote), cid);
        self.conns.insert(cid, Box::new(tcb));
        self.settle(now, cid);
        cid
    }

    /// Active OPEN to `remote`, from `local_port` or an ephemeral port.
    pub fn connect(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        local_port: Option<u16>,
    ) -> Result<ConnId, TcpError> {
        self.connect_with_bufs(now, remote, local_port, SockBufs::default())
    }

    /// [`Engine::connect`] from a socket with its own buffers (SO_SNDBUF,
    /// SO_RCVBUF set before connect(2)): they size the SYN's window.
    pub fn connect_with_bufs(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        local_port: Option<u16>,
        bufs: SockBufs,
    ) -> Result<ConnId, TcpError> {
        let ip = self.local_ip_for(&remote)?;
        if self.conns.len() >= self.core.cfg.max_connections {
            let name = conn_name(SocketAddr::new(ip, 0), remote);
            self.table_full(now, &name);
            return Err(TcpError::TableFull);
        }
        let port = match local_port {
            Some(p) => {
                if self
                    .by_tuple
                    .contains_key(&(SocketAddr::new(ip, p), remote))
                {
                    return Err(TcpError::AddrInUse(p));
                }
                p
            }
            None => self.ephemeral_port(ip, remote)?,
        };
        let local = SocketAddr::new(ip, port);
        Ok(self.open_tcb(now, local, remote, |ctx, id, l, r, iss, ts| {
            Tcb::connect(ctx, id, l, r, iss, ts, bufs)
        }))
    }

    /// RFC 6056-style: a random start in the range, then the next free one.
    fn ephemeral_port(&mut self, ip: IpAddr, remote: SocketAddr) -> Result<u16, TcpError> {
        let (lo, hi) = self.core.cfg.ephemeral_ports;
        let span = u32::from(hi.saturating_sub(lo)) + 1;
        let start = self.rng.random_range(0..span);
        for i in 0..span {
            let p = lo + ((start + i) % span) as u16;
            if self.listeners.contains_key(&p) {
                continue;
            }
            if !self
                .by_tuple
                .contains_key(&(SocketAddr::new(ip, p), remote))
            {
                return Ok(p);
            }
        }
        Err(TcpError::NoEphemeralPort)
    }

    fn with_tcb<R>(
        &mut self,
        now: Instant,
        cid: ConnId,
        f: impl FnOnce(&mut Tcb, &mut Ctx) -> R,
    ) -> Result<R, TcpError> {
        let Some(tcb) = self.conns.get_mut(&cid) else {
            return Err(self.gone(cid));
        };
        let mut ctx = self.core.ctx(now);
        let r = f(tcb, &mut ctx);
        self.settle(now, cid);
        Ok(r)
    }

    fn gone(&self, cid: ConnId) -> TcpError {
        match self.tombstones.get(&cid) {
            Some(CloseReason::Reset) => TcpError::Reset,
            Some(CloseReason::Refused) => TcpError::Refused,
            Some(CloseReason::TimedOut(w)) => TcpError::TimedOut(w),
            Some(CloseReason::Normal) | Some(CloseReason::Aborted) => TcpError::Closing,
            None => TcpError::NoSuchConnection,
        }
    }

    /// SEND: returns how many bytes were queued (0 when the buffer is full).
    pub fn send(&mut self, now: Instant, cid: ConnId, data: &[u8]) -> Result<usize, TcpError> {
        let tcb = self.conns.get(&cid).ok_or_else(|| self.gone(cid))?;
        // RFC 9293 §3.10.2: SEND in LISTEN (a connection-specific passive
        // open) queues the data and turns the open active.
        let listen_send = tcb.state == State::Listen && tcb.passive_open;
        if !tcb.state.can_send() && !listen_send {
            return Err(TcpError::Closing);
        }
        let n = self.with_tcb(now, cid, |t, ctx| t.user_send(ctx, data))?;
        if n < data.len()
            && let Some(t) = self.conns.get(&cid)
        {
            let (name, cap) = (t.name.clone(), t.capacities().0 as u64);
            self.limit_event(
                now,
                &name,
                LimitKind::SendBuffer,
                cap,
                format!("send buffer full: {} of {} bytes queued", n, data.len()),
            );
        }
        Ok(n)
    }

    /// RECEIVE: `Ok(0)` is end of stream; `WouldBlock` when nothing is there yet.
    pub fn recv(&mut self, now: Instant, cid: ConnId, buf: &mut [u8]) -> Result<usize, TcpError> {
        let Some(tcb) = self.conns.get(&cid) else {
            return match self.gone(cid) {
                TcpError::Closing => Ok(0),
                e => Err(e),
            };
        };
        if tcb.recv_available() == 0 {
            return if tcb.fin_received {
                Ok(0)
            } else {
                Err(TcpError::WouldBlock)
            };
        }
        self.with_tcb(now, cid, |t, ctx| t.user_recv(ctx, buf))
    }

    /// CLOSE (RFC 9293 semantics: no more to send; reading continues).
    pub fn shutdown(&mut self, now: Instant, cid: ConnId) -> Result<(), TcpError> {
        self.with_tcb(now, cid, |t, ctx| t.user_close(ctx))?
            .map_err(|_| TcpError::Closing)
    }

    /// The application is done with the connection (close(2)): CLOSE if not
    /// yet done; later data is discarded and the FIN-WAIT-2 timeout applies.
    pub fn close(&mut self, now: Instant, cid: ConnId) -> Result<(), TcpError> {
        self.with_tcb(now, cid, |t, ctx| t.user_release(ctx))
    }

    /// ABORT: RST and delete the TCB.
    pub fn abort(&mut self, now: Instant, cid: ConnId) -> Result<(), TcpError> {
        self.with_tcb(now, cid, |t, ctx| t.user_abort(ctx))
    }

    /// Keepalive on (with these values) or off for one connection.
    pub fn set_keepalive(
        &mut self,
        now: Instant,
        cid: ConnId,
        ka: Option<Keepalive>,
    ) -> Result<(), TcpError> {
        self.with_tcb(now, cid, |t, ctx| t.set_keepalive(ctx, ka))
    }

    /// RFC 5482's user timeout for one connection (TCP_USER_TIMEOUT);
    /// `None` clears it.
    pub fn set_user_timeout(
        &mut self,
        now: Instant,
        cid: ConnId,
        timeout: Option<std::time::Duration>,
    ) -> Result<(), TcpError> {
        self.with_tcb(now, cid, |t, _| t.user_timeout = timeout)
    }

    /// Nagle's algorithm off (`true`) or on for one connection.
    pub fn set_nodelay(
        &mut self,
        now: Instant,
        cid: ConnId,
        nodelay: bool,
    ) -> Result<(), TcpError> {
        self.with_tcb(now, cid, |t, ctx| {
            t.nagle = !nodelay;
            t.output(ctx);
        })
    }

    /// The host lost all its connection state (a reboot): TCBs vanish
    /// without a segment; listeners stay (the services come back up).
    pub fn forget_all(&mut self, now: Instant) {
        let ids: Vec<ConnId> = self.conns.keys().copied().collect();
        for cid in ids {
            if let Some(tcb) = self.conns.get_mut(&cid) {
                let from = tcb.state;
                tcb.forget();
                tcb.close_reason = Some(CloseReason::Aborted);
                let name = tcb.name.clone();
                self.core.ctx(now).event(
                    Some(&name),
                    Body::State {
                        from,
                        to: State::Closed,
                        cause: "host rebooted: connection state lost without a segment".into(),
                        inferred: false,
                        lasted: None,
                    },
                );
            }
            if let Some(old) = self.timer_of.remove(&cid) {
                self.timer_index.remove(&(old, cid));
            }
            self.free(now, cid);
        }
    }

    // ----- queries -------------------------------------------------------------

    pub fn state(&self, cid: ConnId) -> Option<State> {
        self.conns.get(&cid).map(|t| t.state)
    }

    pub fn tcb(&self, cid: ConnId) -> Option<&Tcb> {
        self.conns.get(&cid).map(|t| &**t)
    }

    pub fn find(&self, local: SocketAddr, remote: SocketAddr) -> Option<ConnId> {
        self.by_tuple.get(&(local, remote)).copied()
    }

    pub fn connections(&self) -> impl Iterator<Item = &Tcb> {
        self.conns.values().map(|t| &**t)
    }

    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    pub fn info(&self, cid: ConnId) -> ConnInfo {
        match self.conns.get(&cid) {
            Some(t) => ConnInfo {
                id: cid,
                state: t.state,
                local: t.local,
                remote: t.remote,
                name: t.name.clone(),
                readable: t.recv_available(),
                writable: if t.state.can_send() {
                    t.send_space()
                } else {
                    0
                },
                eof: t.fin_received && t.recv_available() == 0,
                closed: None,
            },
            None => ConnInfo {
                id: cid,
                state: State::Closed,
                local: SocketAddr::new(self.addr, 0),
                remote: unspecified(self.addr),
                name: "".into(),
                readable: 0,
                writable: 0,
                eof: true,
                closed: Some(
                    self.tombstones
                        .get(&cid)
                        .cloned()
                        .unwrap_or(CloseReason::Normal),
                ),
            },
        }
    }

    /// Forget the tombstone of a connection the application released.
    pub fn release(&mut self, cid: ConnId) {
        self.tombstones.remove(&cid);
    }
}

/// `0.0.0.0:0` or `[::]:0`, of `like`'s family: the remote of a listener.
fn unspecified(like: IpAddr) -> SocketAddr {
    match like {
        IpAddr::V4(_) => SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 0),
        IpAddr::V6(_) => SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 0),
    }
}

#[cfg(test)]
mod tests;
