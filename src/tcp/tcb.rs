//! The transmission control block and its state machine (RFC 9293 §3.10).
//!
//! One `Tcb` is one connection. It is driven, never driving: the engine hands
//! it a segment, a user call or the time, and it answers by pushing segments
//! and events into the [`Ctx`]. Comments cite the RFC step they implement.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::event::{
    AbortReason, Body, CaState, KeepaliveAction, KeepaliveEvent, LimitKind, NegotiatedEvent,
    RtxCause, TimerAction, TimerEvent, TimerKind, VarsEvent,
};
use crate::seq::SeqNum;
use crate::state::State;
use crate::tcp::config::{CcAlgo, Keepalive};
use crate::tcp::ctx::{Ctx, RateLimit, conn_name};
use crate::tcp::reassembly::{Insert, Reassembly};
use crate::tcp::recovery::rack;
use crate::tcp::recovery::scoreboard::SegState;
use crate::tcp::recovery::{AckIn, Recovery};
use crate::tcp::rtt::RttEstimator;
use crate::time::Instant;
use crate::wire::{Flags, Segment, TcpOptions};

/// RFC 9293 §3.7.1: the MSS assumed when the peer sends no MSS option.
pub const DEFAULT_MSS: u16 = 536;
/// The same over IPv6: the minimum link MTU 1280 (RFC 8200 §5) − 60.
pub const DEFAULT_MSS_V6: u16 = 1220;

/// [`DEFAULT_MSS`] or [`DEFAULT_MSS_V6`], by the peer's family.
pub fn default_mss(remote: &SocketAddr) -> u16 {
    if remote.is_ipv6() {
        DEFAULT_MSS_V6
    } else {
        DEFAULT_MSS
    }
}

/// The MSS this host advertises to `remote`: `Config::mss` is the link
/// MTU − 40 (IPv4 and TCP headers); IPv6's header is 20 bytes longer, so
/// an IPv6 connection advertises MTU − 60.
pub fn local_mss(cfg_mss: u16, remote: &SocketAddr) -> u16 {
    if remote.is_ipv6() {
        cfg_mss.saturating_sub(crate::wire::IPV6_EXTRA)
    } else {
        cfg_mss
    }
}
/// RFC 7323 §2.3: the largest window scale shift.
pub const MAX_WSCALE: u8 = 14;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u64);

/// Why a connection ended, as the application sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// FIN exchanged both ways (or TIME-WAIT expired).
    Normal,
    Reset,
    Refused,
    TimedOut(&'static str),
    Aborted,
}

/// What the engine must do with the TCB after an input.
#[derive(Debug)]
pub(crate) enum Verdict {
    Keep,
    /// A SYN in TIME-WAIT that may open a new incarnation (RFC 9293
    /// §3.10.7.4, RFC 6191): free this TCB and hand the SYN to the listener.
    Reopen(Segment),
}

fn idx(k: TimerKind) -> usize {
    k as usize
}

#[derive(Debug)]
pub struct Tcb {
    pub id: ConnId,
    pub name: Arc<str>,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub state: State,
    /// Created from a listener (passive open) on this port.
    pub listener: Option<u16>,
    pub created: Instant,

    // Send sequence variables (RFC 9293 §3.3.1).
    iss: SeqNum,
    snd_una: SeqNum,
    snd_nxt: SeqNum,
    /// One past the highest sequence number ever sent.
    snd_max: SeqNum,
    /// Send window in bytes (scaled).
    snd_wnd: u32,
    snd_wl1: SeqNum,
    snd_wl2: SeqNum,
    max_snd_wnd: u32,
    /// Bytes from `snd_buf_seq` on: sent-unacknowledged, then unsent.
    snd_buf: VecDeque<u8>,
    snd_buf_seq: SeqNum,
    snd_cap: usize,
    /// The user called CLOSE: a FIN follows the queued data.
    fin_queued: bool,
    /// Sequence number our FIN occupies, once sent.
    fin_seq: Option<SeqNum>,
    /// The zero-window probe byte is outstanding (RFC 9293 §3.8.6.1).
    probe_out: bool,

    // Receive sequence variables.
    irs: SeqNum,
    rcv_nxt: SeqNum,
    /// Right edge of the window last advertised (never moved left,
    /// RFC 9293 §3.8.6.2.2).
    rcv_adv: SeqNum,
    rcv_buf: VecDeque<u8>,
    rcv_cap: usize,
    /// Stream offset of `rcv_nxt` (bytes received in order so far).
    rcv_off: u64,
    ooo: Reassembly,
    pub fin_received: bool,

    // Negotiated options.
    our_mss: u16,
    snd_mss: u16,
    /// What our configuration lets us offer on a SYN.
    offer_ws: bool,
    offer_ts: bool,
    offer_sack: bool,
    ws_enabled: bool,
    /// Shift applied to the peer's window field, and to ours.
    snd_wscale: u8,
    rcv_wscale: u8,
    /// The shift we offer on our SYN.
    offer_wscale: u8,
    ts_enabled: bool,
    ts_recent: u32,
    ts_offset: u32,
    last_ack_sent: SeqNum,
    sack_enabled: bool,
    negotiated_sent: bool,

    timers: [Option<Instant>; TimerKind::ALL.len()],
    rtt: RttEstimator,
    /// Without timestamps: one segment timed per RTT (RFC 6298 §3).
    rtt_probe: Option<(SeqNum, Instant)>,
    /// One past the highest sequence number ever retransmitted. Karn's rule
    /// (RFC 6298 §3) applies to timestamps too: an ACK that covers nothing
    /// beyond it may echo the TSval of an old segment (RFC 7323 §4.3 makes
    /// duplicates echo TS.Recent), and such samples feed back into an
    /// ever-larger RTO under heavy loss.
    rtx_high: SeqNum,
    /// Our TSval when we last retransmitted: an echo at or after it comes
    /// from a recent transmission, so it is a valid RTT sample even for
    /// retransmitted data (RFC 7323 §4.1's reason for timestamps).
    last_rtx_ts: Option<u32>,
    /// Loss detection, recovery and the congestion window
    /// (`tcp/recovery/`).
    rec: Recovery,
    /// Consecutive retransmissions of the same data (reset on progress).
    retries: u32,
    persist_backoff: u32,
    /// The zero-window probe byte went out before: sending it again is a
    /// retransmission.
    probe_sent: bool,
    /// SYN or SYN+ACK retransmissions (RFC 6298 §5.7, RFC 5681 §3.1).
    syn_rtx: u32,
    /// When data last left (RFC 5681 §4.1 restart after idle).
    last_send: Option<Instant>,
    /// Retransmissions that were not the timer's.
    fast_rtx: u64,
    /// RFC 5961 §7 challenge ACK budget, per connection.
    challenge: RateLimit,
    /// A duplicate that arrived, reported first in the next SACK option
    /// (D-SACK, RFC 2883).
    dsack: Option<(SeqNum, SeqNum)>,
    /// Segments still to ACK at once (quick-ACK at the start, as Linux).
    quick: u32,

    /// An ACK must go out now (out-of-order data, FIN, window update, …).
    ack_now: bool,
    /// That ACK is a duplicate ACK for out-of-order data: never corked.
    dup_ack_now: bool,
    /// Duplicate ACKs in a row from the peer ([`Tcb::note_arrival`]).
    dup_acks_in: u32,
    /// Duplicate ACKs this side sent since it last held no out-of-order
    /// data, and when the latest left: how an arriving retransmission is
    /// judged fast ([`Tcb::looks_like_fast_retransmit`]).
    dup_acks_out: u32,
    last_dup_ack_out: Instant,
    /// Corked (`Config::cork`): `output` has work waiting for a flush.
    pub(crate) output_pending: bool,
    /// Listed in the engine's flush list.
    pub(crate) flush_listed: bool,
    /// In-order bytes received and not yet acknowledged.
    unacked_bytes: usize,

    pub keepalive: Option<Keepalive>,
    ka_probes: u32,
    last_rcv: Instant,
    pub nagle: bool,
    /// The application released its handle: data that arrives is
    /// discarded and the FIN-WAIT-2 timeout applies.
    pub orphan: bool,
    /// Where the bytes for CLOSE-WAIT's reader end.
    pub close_reason: Option<CloseReason>,

    pub bytes_in: u64,
    pub bytes_out: u64,
    pub retransmits: u64,
    last_vars: Option<VarsEvent>,
    /// Set when something an application waits on changed.
    pub dirty: bool,
    /// When we last answered an unacceptable pure ACK.
    last_oow_ack: Option<Instant>,
    /// Counted in its listener's half-open total (SYN-RECEIVED).
    pub(crate) half_open: bool,
    /// A fully specified passive open (RFC 9293 §3.10.1): a TCB of its own
    /// in LISTEN, waiting for one remote; it returns to LISTEN on a RST.
    pub(crate) passive_open: bool,
    /// Put on its listener's accept queue.
    pub(crate) queued: bool,
}

/// The smallest shift that lets the window field cover the buffer.
fn wscale_for(buf: usize) -> u8 {
    let mut s = 0u8;
    while s < MAX_WSCALE && (buf >> s) > 65535 {
        s += 1;
    }
    s
}

impl Tcb {
    fn new(
        ctx: &mut Ctx,
        id: ConnId,
        local: SocketAddr,
        remote: SocketAddr,
        iss: SeqNum,
        ts_offset: u32,
    ) -> Tcb {
        let cfg = ctx.cfg;
        let dmss = u32::from(default_mss(&remote));
        Tcb {
            id,
            name: conn_name(local, remote),
            local,
            remote,
            state: State::Closed,
            listener: None,
            created: ctx.now,
            iss,
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            snd_wnd: 0,
            snd_wl1: SeqNum(0),
            snd_wl2: iss,
            max_snd_wnd: 0,
            snd_buf: VecDeque::new(),
            snd_buf_seq: iss + 1usize,
            snd_cap: cfg.send_buf,
            fin_queued: false,
            fin_seq: None,
            probe_out: false,
            irs: SeqNum(0),
            rcv_nxt: SeqNum(0),
            rcv_adv: SeqNum(0),
            rcv_buf: VecDeque::new(),
            rcv_cap: cfg.recv_buf,
            rcv_off: 0,
            ooo: Reassembly::default(),
            fin_received: false,
            our_mss: local_mss(cfg.mss, &remote),
            snd_mss: default_mss(&remote),
            offer_ws: cfg.window_scaling,
            offer_ts: cfg.timestamps,
            offer_sack: cfg.sack,
            ws_enabled: false,
            snd_wscale: 0,
            rcv_wscale: 0,
            offer_wscale: wscale_for(cfg.recv_buf),
            ts_enabled: false,
            ts_recent: 0,
            ts_offset,
            last_ack_sent: SeqNum(0),
            sack_enabled: false,
            negotiated_sent: false,
            timers: [None; TimerKind::ALL.len()],
            rtt: RttEstimator::new(cfg.rto_initial, cfg.rto_min, cfg.rto_max)
                .with_min_on_variance(cfg.rto_min_on_variance),
            rtt_probe: None,
            rtx_high: iss,
            last_rtx_ts: None,
            rec: Recovery::new(
                cfg.cc,
                cfg.rack,
                cfg.hystart,
                dmss,
                initial_window(dmss, cfg.initial_cwnd),
                iss,
            ),
            retries: 0,
            persist_backoff: 0,
            probe_sent: false,
            syn_rtx: 0,
            last_send: None,
            fast_rtx: 0,
            challenge: RateLimit::default(),
            dsack: None,
            quick: cfg.quickack,
            ack_now: false,
            dup_ack_now: false,
            dup_acks_in: 0,
            dup_acks_out: 0,
            last_dup_ack_out: Instant::ZERO,
            output_pending: false,
            flush_listed: false,
            unacked_bytes: 0,
            keepalive: cfg.keepalive_on.then_some(cfg.keepalive),
            ka_probes: 0,
            last_rcv: ctx.now,
            nagle: cfg.nagle,
            orphan: false,
            close_reason: None,
            bytes_in: 0,
            bytes_out: 0,
            retransmits: 0,
            last_vars: None,
            dirty: false,
            last_oow_ack: None,
            half_open: false,
            queued: false,
            passive_open: false,
        }
    }

    /// Active OPEN (RFC 9293 §3.10.1): create the TCB, send SYN, SYN-SENT.
    pub(crate) fn connect(
        ctx: &mut Ctx,
        id: ConnId,
        local: SocketAddr,
        remote: SocketAddr,
        iss: SeqNum,
        ts_offset: u32,
    ) -> Tcb {
        let mut t = Tcb::new(ctx, id, local, remote, iss, ts_offset);
        t.set_state(
            ctx,
            State::SynSent,
            "active open: SYN sent with our ISN".into(),
        );
        t.send_syn(ctx, false);
        if let Some(d) = ctx.cfg.connect_timeout {
            t.arm(ctx, TimerKind::Connect, ctx.now + d);
        }
        t
    }

    /// OPEN, passive, with the remote socket specified (RFC 9293 §3.10.1):
    /// a TCB in LISTEN for that one remote. A SYN from it makes it
    /// SYN-RECEIVED; a SEND makes it active (SYN-SENT, §3.10.2).
    pub(crate) fn passive(
        ctx: &mut Ctx,
        id: ConnId,
        local: SocketAddr,
        remote: SocketAddr,
        iss: SeqNum,
        ts_offset: u32,
    ) -> Tcb {
        let mut t = Tcb::new(ctx, id, local, remote, iss, ts_offset);
        t.passive_open = true;
        t.set_state(
            ctx,
            State::Listen,
            format!("passive open on port {} for {remote} only", local.port()),
        );
        t
    }

    /// A SYN arrived on a listener (RFC 9293 §3.10.7.2): SYN-RECEIVED, send
    /// SYN+ACK <SEQ=ISS><ACK=RCV.NXT>.
    pub(crate) fn accept_syn(
        ctx: &mut Ctx,
        id: ConnId,
        seg: &Segment,
        iss: SeqNum,
        ts_offset: u32,
    ) -> Tcb {
        let mut t = Tcb::new(ctx, id, seg.dst, seg.src, iss, ts_offset);
        t.listener = Some(seg.dst.port());
        t.state = State::Listen;
        t.take_syn(ctx, seg);
        t
    }

    /// LISTEN, a SYN arrives (§3.10.7.2): RCV.NXT = SEG.SEQ + 1, IRS, the
    /// peer's options and window, SYN-RECEIVED, and our SYN+ACK.
    fn take_syn(&mut self, ctx: &mut Ctx, seg: &Segment) {
        self.irs = seg.seq;
        self.rcv_nxt = seg.seq + 1usize;
        self.rcv_adv = self.rcv_nxt;
        self.last_rcv = ctx.now;
        self.negotiate(ctx, &seg.options);
        self.snd_wnd = u32::from(seg.window);
        self.max_snd_wnd = self.snd_wnd;
        self.snd_wl1 = seg.seq;
        self.snd_wl2 = self.iss;
        if let Some((val, _)) = seg.options.timestamp {
            self.ts_recent = val;
        }
        self.set_state(
            ctx,
            State::SynReceived,
            format!(
                "SYN received (peer ISN {}); SYN+ACK sent with our ISN and ack = peer ISN + 1",
                seg.seq
            ),
        );
        self.emit_negotiated(ctx);
        self.send_syn(ctx, false);
    }

    /// The ACK of a SYN cookie arrived (RFC 4987 §3.6): the handshake is
    /// complete and the TCB is created only now, straight in ESTABLISHED.
    pub(crate) fn from_cookie(
        ctx: &mut Ctx,
        id: ConnId,
        ack: &Segment,
        iss: SeqNum,
        mss: u16,
        ts_offset: u32,
    ) -> Tcb {
        let mut t = Tcb::new(ctx, id, ack.dst, ack.src, iss, ts_offset);
        t.listener = Some(ack.dst.port());
        t.state = State::Listen;
        t.irs = ack.seq - 1usize;
        t.rcv_nxt = ack.seq;
        t.snd_una = iss + 1usize;
        t.snd_nxt = t.snd_una;
        t.snd_max = t.snd_una;
        t.rtx_high = t.snd_una;
        t.offer_ws = false;
        t.offer_ts = false;
        t.offer_sack = false;
        t.negotiate(
            ctx,
            &TcpOptions {
                mss: Some(mss),
                ..TcpOptions::default()
            },
        );
        // The window our cookie SYN+ACK advertised.
        t.rcv_adv = t.rcv_nxt + t.rcv_cap.min(65535);
        t.snd_wnd = u32::from(ack.window);
        t.max_snd_wnd = t.snd_wnd;
        t.snd_wl1 = ack.seq;
        t.snd_wl2 = ack.ack;
        t.last_rcv = ctx.now;
        t.set_state(
            ctx,
            State::Established,
            "the ACK returned a valid SYN cookie: the TCB is created only now (RFC 4987)".into(),
        );
        t.emit_negotiated(ctx);
        t.on_established(ctx);
        t
    }

    // ----- small helpers -------------------------------------------------

    fn set_state(&mut self, ctx: &mut Ctx, to: State, cause: String) {
        if self.state == to {
            return;
        }
        let from = self.state;
        self.state = to;
        self.dirty = true;
        ctx.event(
            Some(&self.name),
            Body::State {
                from,
                to,
                cause,
                inferred: false,
                lasted: None,
            },
        );
    }

    fn arm(&mut self, ctx: &mut Ctx, kind: TimerKind, deadline: Instant) {
        // A timer always lies in the future: one re-armed "now" (a zero
        // interval) would fire again in the same pass, forever.
        let deadline = deadline.max(ctx.now + Duration::from_micros(1));
        if self.timers[idx(kind)] == Some(deadline) {
            return;
        }
        self.timers[idx(kind)] = Some(deadline);
        let backoff = match kind {
            TimerKind::Retransmit => Some(self.rtt.backoff),
            TimerKind::Persist => Some(self.persist_backoff),
            _ => None,
        };
        ctx.event(
            Some(&self.name),
            Body::Timer(TimerEvent {
                timer: kind,
                action: TimerAction::Armed,
                deadline: Some(deadline.secs_f64()),
                backoff,
            }),
        );
    }

    fn cancel(&mut self, ctx: &mut Ctx, kind: TimerKind) {
        if self.timers[idx(kind)].take().is_some() {
            ctx.event(
                Some(&self.name),
                Body::Timer(TimerEvent {
                    timer: kind,
                    action: TimerAction::Cancelled,
                    deadline: None,
                    backoff: None,
                }),
            );
        }
    }

    pub fn timer(&self, kind: TimerKind) -> Option<Instant> {
        self.timers[idx(kind)]
    }

    /// The earliest armed timer.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.iter().flatten().min().copied()
    }

    fn ts_now(&self, now: Instant) -> u32 {
        ((now.micros() / 1000) as u32).wrapping_add(self.ts_offset)
    }

    /// Payload bytes per segment: the MSS less the timestamp option
    /// (RFC 9293 §3.7.1: the MSS counts no TCP options). The congestion
    /// window counts in these.
    pub fn eff_mss(&self) -> usize {
        let ts = if self.ts_enabled { 12 } else { 0 };
        (self.snd_mss as usize).saturating_sub(ts).max(1)
    }

    /// Payload bytes the next data segment can carry: the MSS less every
    /// option it will carry, SACK blocks included (RFC 9293 §3.7.1: "the
    /// data ... reduced by the size of the options actually sent"), so a
    /// segment never exceeds the MTU.
    fn payload_room(&self) -> usize {
        let mut opts = if self.ts_enabled { 12 } else { 0 };
        if self.sack_enabled {
            let room = if self.ts_enabled { 3 } else { 4 };
            let blocks =
                (self.ooo.segments().min(room) + usize::from(self.dsack.is_some())).min(room);
            if blocks > 0 {
                opts += 4 + 8 * blocks;
            }
        }
        (self.snd_mss as usize).saturating_sub(opts).max(1)
    }

    /// Bytes sent and not yet acknowledged (SND.MAX − SND.UNA; a pending
    /// zero-window probe byte is not counted).
    fn flight(&self) -> u32 {
        (self.snd_nxt - self.snd_una) as u32
    }

    fn data_end(&self) -> SeqNum {
        self.snd_buf_seq + self.snd_buf.len()
    }

    fn fin_acked(&self) -> bool {
        self.fin_seq.is_some_and(|f| self.snd_una > f)
    }

    /// RCV.WND: what is left of the window we advertised.
    fn rcv_wnd(&self) -> u32 {
        if self.rcv_adv > self.rcv_nxt {
            (self.rcv_adv - self.rcv_nxt) as u32
        } else {
            0
        }
    }

    /// Give back the memory of drained send and receive buffers (they grow
    /// on demand, a `VecDeque` doubling as data comes). Called now and then
    /// by the live runtime, not on every drain: freeing a buffer each time a
    /// transfer emptied it, then growing it again, cost two fifths of bulk
    /// upload (docs/benchmarks.md, Memory per idle connection). Returns the
    /// bytes given back.
    pub fn trim_buffers(&mut self) -> usize {
        let mut freed = 0;
        for buf in [&mut self.rcv_buf, &mut self.snd_buf] {
            if buf.is_empty() && buf.capacity() > 0 {
                freed += buf.capacity();
                *buf = VecDeque::new();
            }
        }
        freed
    }

    /// An arriving segment that repeats sequence space already received, or
    /// fills a hole below data already received (held out of order): the
    /// sender resent it, as Wireshark's `tcp.analysis.retransmission`
    /// judges (on a TUN nothing reorders, so a hole is a loss).
    pub fn looks_like_retransmit(&self, seg: &Segment) -> bool {
        let simultaneous_synack = self.state == State::SynReceived
            && seg.flags.contains(Flags::SYN | Flags::ACK)
            && seg.seq == self.irs;
        let below_received = !seg.payload.is_empty()
            && self
                .ooo
                .end()
                .is_some_and(|end| seg.seq + seg.payload.len() <= self.seq_of(end));
        self.state != State::SynSent
            && !simultaneous_synack
            && seg.seg_len() > 0
            && (seg.seq < self.rcv_nxt || below_received)
    }

    /// An arriving retransmission ([`Tcb::looks_like_retransmit`]) that
    /// fills a hole after this side asked for it with at least two
    /// duplicate ACKs (one per wire segment that arrived above the holes),
    /// the latest within 20 ms (or one smoothed RTT, when longer): the sender's fast retransmit, SACK or RACK, not its timer
    /// (whose minimum is 200 ms on Linux, 1 s in RFC 6298). Wireshark's
    /// `tcp.analysis.fast_retransmission` rule, judged by the receiver and
    /// kept through a loss episode (several holes, one after another).
    pub fn looks_like_fast_retransmit(&self, now: Instant, seg: &Segment) -> bool {
        const WINDOW: Duration = Duration::from_millis(20);
        let window = self.rtt.srtt().map_or(WINDOW, |s| s.max(WINDOW));
        !seg.payload.is_empty()
            && seg.seq >= self.rcv_nxt
            && self.dup_acks_out >= 2
            && now.saturating_sub(self.last_dup_ack_out) <= window
            && self.looks_like_retransmit(seg)
    }

    /// An arriving retransmission of data this side had already
    /// acknowledged (its ACK was lost or late): Wireshark's
    /// `tcp.analysis.spurious_retransmission`, seen from the receiver.
    pub fn looks_like_spurious_retransmit(&self, seg: &Segment) -> bool {
        self.state.is_synchronized()
            && !seg.payload.is_empty()
            && seg.seq + seg.payload.len() <= self.last_ack_sent
            && self.looks_like_retransmit(seg)
    }

    /// RFC 5681 §2's duplicate ACK, judged against the TCB as it stands
    /// before the segment is processed: it acknowledges SND.UNA again,
    /// carries no data and none of SYN, FIN or RST, advertises the same
    /// window, and data is outstanding.
    fn is_dup_ack(&self, seg: &Segment) -> bool {
        self.state.is_synchronized()
            && seg.flags.ack()
            && !seg.flags.intersects(Flags::SYN | Flags::FIN | Flags::RST)
            && seg.payload.is_empty()
            && seg.ack == self.snd_una
            && self.flight() > 0
            && (u32::from(seg.window) << self.snd_wscale) == self.snd_wnd
    }

    /// An arriving segment, before it is processed: whether it is the n-th
    /// duplicate ACK in a row, for its `segment` event.
    pub(crate) fn note_arrival(&mut self, seg: &Segment) -> Option<u32> {
        if self.is_dup_ack(seg) {
            self.dup_acks_in += 1;
            Some(self.dup_acks_in)
        } else {
            self.dup_acks_in = 0;
            None
        }
    }

    /// The window the peer was last told (RCV.WND).
    pub fn rcv_window(&self) -> u32 {
        self.rcv_wnd()
    }

    pub fn recv_available(&self) -> usize {
        self.rcv_buf.len()
    }

    pub fn send_space(&self) -> usize {
        self.snd_cap.saturating_sub(self.snd_buf.len())
    }

    pub fn send_queued(&self) -> usize {
        self.snd_buf.len()
    }

    pub fn snd_una(&self) -> SeqNum {
        self.snd_una
    }
    pub fn snd_nxt(&self) -> SeqNum {
        self.snd_nxt
    }
    pub fn rcv_nxt(&self) -> SeqNum {
        self.rcv_nxt
    }
    pub fn iss(&self) -> SeqNum {
        self.iss
    }
    pub fn irs(&self) -> SeqNum {
        self.irs
    }
    pub fn snd_wnd(&self) -> u32 {
        self.snd_wnd
    }
    pub fn cwnd(&self) -> u32 {
        self.rec.cwnd()
    }
    pub fn ssthresh(&self) -> u32 {
        self.rec.ssthresh()
    }
    pub fn ca_state(&self) -> CaState {
        self.rec.state
    }
    pub fn cc_algo(&self) -> CcAlgo {
        self.rec.cc.algo
    }
    /// RFC 6675 pipe.
    pub fn pipe(&self) -> u32 {
        self.rec.pipe(self.sack_enabled)
    }
    pub fn recovery_stats(&self) -> crate::tcp::recovery::RecoveryCounts {
        self.rec.stats.clone()
    }
    pub fn rto(&self) -> Duration {
        self.rtt.rto()
    }
    pub fn snd_mss(&self) -> u16 {
        self.snd_mss
    }
    pub fn fast_retransmits(&self) -> u64 {
        self.fast_rtx
    }
    pub fn capacities(&self) -> (usize, usize) {
        (self.snd_cap, self.rcv_cap)
    }

    /// The window to advertise in bytes. The right edge moves only by at
    /// least min(half the buffer, one MSS) (receiver SWS avoidance, RFC 1122
    /// §4.2.3.3) and never moves left (RFC 9293 §3.8.6.2.2).
    fn window_to_advertise(&mut self) -> u32 {
        let free = self.rcv_cap.saturating_sub(self.rcv_buf.len()) as u32;
        let grow = (self.rcv_nxt + free).diff(self.rcv_adv).max(0) as u32;
        let threshold = (self.rcv_cap as u32 / 2).min(u32::from(self.our_mss));
        if grow > 0 && grow >= threshold {
            // What the scaled field can say, rounded down, at most 2^16-1 units.
            let units = (free >> self.rcv_wscale).min(65535);
            let edge = self.rcv_nxt + (units << self.rcv_wscale);
            if edge > self.rcv_adv {
                self.rcv_adv = edge;
            }
        }
        self.rcv_wnd()
    }

    fn window_field(&mut self, syn: bool) -> u16 {
        if syn {
            // RFC 7323 §2.2: the window in a SYN is never scaled.
            let free = self.rcv_cap.saturating_sub(self.rcv_buf.len()).min(65535) as u32;
            if self.rcv_nxt + free > self.rcv_adv {
                self.rcv_adv = self.rcv_nxt + free;
            }
            free as u16
        } else {
            // Round up to the scale's unit so the edge the peer computes is
            // never left of RCV.NXT + RCV.WND (RFC 7323 §2.4 allows the
            // few extra bytes; the buffer bound is soft by less than a unit).
            let w = self.window_to_advertise();
            let unit = 1u32 << self.rcv_wscale;
            let field = w.div_ceil(unit).min(65535);
            let edge = self.rcv_nxt + field * unit;
            if edge > self.rcv_adv {
                self.rcv_adv = edge;
            }
            field as u16
        }
    }

    fn options_for(&mut self, now: Instant, syn: bool) -> TcpOptions {
        let mut o = TcpOptions::default();
        if syn {
            o.mss = Some(self.our_mss);
            if self.state == State::SynSent {
                // Active open: offer everything the configuration allows.
                o.wscale = self.offer_ws.then_some(self.offer_wscale);
                o.sack_perm = self.offer_sack;
                // RFC 7323 §3.2: TSecr is zero on an initial SYN.
                o.timestamp = self.offer_ts.then(|| (self.ts_now(now), 0));
            } else {
                // SYN+ACK: only what the peer's SYN offered (RFC 7323 §1.3,
                // RFC 2018 §2).
                o.wscale = self.ws_enabled.then_some(self.rcv_wscale);
                o.sack_perm = self.sack_enabled;
                o.timestamp = self.ts_enabled.then(|| (self.ts_now(now), self.ts_recent));
            }
        } else {
            if self.ts_enabled {
                o.timestamp = Some((self.ts_now(now), self.ts_recent));
            }
            if self.sack_enabled {
                let room = if self.ts_enabled { 3 } else { 4 };
                // RFC 2883: a duplicate is reported once, in the first block.
                if let Some(d) = self.dsack.take() {
                    o.sack.push(d);
                }
                if !self.ooo.is_empty() {
                    let left = room - o.sack.len();
                    let blocks = self.ooo.sack_blocks(left);
                    o.sack.extend(
                        blocks
                            .into_iter()
                            .map(|(a, b)| (self.seq_of(a), self.seq_of(b))),
                    );
                }
            }
        }
        o
    }

    fn seq_of(&self, off: u64) -> SeqNum {
        self.rcv_nxt + (off.wrapping_sub(self.rcv_off) as u32)
    }

    /// Settle MSS, window scale, timestamps and SACK from the peer's SYN
    /// (RFC 9293 §3.7.1, RFC 7323 §2.2 and §3.2, RFC 2018 §2).
    fn negotiate(&mut self, ctx: &mut Ctx, peer: &TcpOptions) {
        // Linux clamps silly MSS values (0, 1, …) to 88; so do we, so that a
        // hostile MSS cannot make us emit one-byte segments forever.
        let peer_mss = peer.mss.unwrap_or(default_mss(&self.remote)).max(88);
        self.snd_mss = peer_mss.min(local_mss(ctx.cfg.mss, &self.remote));
        self.ws_enabled = self.offer_ws && peer.wscale.is_some();
        if self.ws_enabled {
            // RFC 7323 §2.3: a shift over 14 is treated as 14.
            self.snd_wscale = peer.wscale.unwrap_or(0).min(MAX_WSCALE);
            self.rcv_wscale = self.offer_wscale;
        } else {
            self.snd_wscale = 0;
            self.rcv_wscale = 0;
        }
        self.ts_enabled = self.offer_ts && peer.timestamp.is_some();
        self.sack_enabled = self.offer_sack && peer.sack_perm;
        // The MSS is only known now; the initial window follows it.
        let smss = self.eff_mss() as u32;
        self.rec = Recovery::new(
            ctx.cfg.cc,
            ctx.cfg.rack,
            ctx.cfg.hystart,
            smss,
            initial_window(smss, ctx.cfg.initial_cwnd),
            self.iss,
        );
    }

    fn emit_negotiated(&mut self, ctx: &mut Ctx) {
        if self.negotiated_sent {
            return;
        }
        self.negotiated_sent = true;
        ctx.event(
            Some(&self.name),
            Body::Negotiated(NegotiatedEvent {
                mss: self.snd_mss,
                our_mss: self.our_mss,
                ws_snd: self.ws_enabled.then_some(self.snd_wscale),
                ws_rcv: self.ws_enabled.then_some(self.rcv_wscale),
                ts: self.ts_enabled,
                sack: self.sack_enabled,
            }),
        );
    }

    // ----- building segments --------------------------------------------

    /// Send one segment from this connection. ACK is set in every state
    /// after SYN-SENT (RFC 9293 §3.10.7.4: "ACK ... always sent"). `rtx`
    /// says why, for a retransmission.
    fn send(
        &mut self,
        ctx: &mut Ctx,
        flags: Flags,
        seq: SeqNum,
        payload: Vec<u8>,
        rtx: Option<RtxCause>,
    ) {
        self.send_probe(ctx, flags, seq, payload, rtx, false);
    }

    /// `send`, marking a tail loss probe as such.
    fn send_probe(
        &mut self,
        ctx: &mut Ctx,
        flags: Flags,
        seq: SeqNum,
        payload: Vec<u8>,
        rtx: Option<RtxCause>,
        probe: bool,
    ) {
        let retransmit = rtx.is_some();
        let syn = flags.syn();
        let with_ack = flags.ack();
        let window = if flags.rst() {
            0
        } else {
            self.window_field(syn)
        };
        let options = if flags.rst() {
            TcpOptions::default()
        } else {
            self.options_for(ctx.now, syn)
        };
        let seg = Segment {
            src: self.local,
            dst: self.remote,
            seq,
            ack: if with_ack { self.rcv_nxt } else { SeqNum(0) },
            flags,
            window,
            urgent: 0,
            options,
            payload,
        };
        if with_ack {
            // Any segment with ACK acknowledges everything received so far.
            self.last_ack_sent = self.rcv_nxt;
            self.ack_now = false;
            self.unacked_bytes = 0;
            self.cancel(ctx, TimerKind::DelayedAck);
        }
        if retransmit {
            self.retransmits += 1;
            if !matches!(rtx, Some(RtxCause::Rto | RtxCause::Syn | RtxCause::Persist)) {
                self.fast_rtx += 1;
            }
            self.last_rtx_ts = Some(self.ts_now(ctx.now));
            let end = seq + seg.seg_len();
            self.rtx_high = self.rtx_high.max(end);
        }
        if !seg.payload.is_empty() || flags.fin() {
            self.last_send = Some(ctx.now);
        }
        self.bytes_out += seg.payload.len() as u64;
        ctx.transmit(&self.name, &seg, rtx, probe);
    }

    /// SYN (SYN-SENT) or SYN+ACK (SYN-RECEIVED), first time or again.
    fn send_syn(&mut self, ctx: &mut Ctx, retransmit: bool) {
        let flags = if self.state == State::SynSent {
            Flags::SYN
        } else {
            Flags::SYN | Flags::ACK
        };
        if retransmit {
            self.syn_rtx += 1;
        }
        self.send(
            ctx,
            flags,
            self.iss,
            Vec::new(),
            retransmit.then_some(RtxCause::Syn),
        );
        self.snd_nxt = self.iss + 1usize;
        self.snd_max = self.snd_max.max(self.snd_nxt);
        if !retransmit {
            self.rtt_probe = Some((self.iss, ctx.now));
        }
        let rto = self.rtt.rto();
        self.arm(ctx, TimerKind::Retransmit, ctx.now + rto);
    }

    /// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
    fn send_ack(&mut self, ctx: &mut Ctx) {
        // A pure ACK carries the highest sequence number sent, not SND.NXT:
        // after an RTO rewound SND.NXT (go-back-N) the peer's RCV.NXT may be
        // past it, and a receiver drops a segment that starts before its
        // window without reading the ACK field (RFC 9293 §3.10.7.4, Linux
        // tcp_sequence). BSD tcp_output does the same with snd_max. Persist
        // probes do not advance SND.MAX, so this is SND.NXT there.
        self.send(ctx, Flags::ACK, self.snd_max, Vec::new(), None);
    }

    /// RFC 5961 §7: challenge ACKs share a per-second budget, this
    /// connection's own (see `RateLimit`).
    fn send_challenge_ack(&mut self, ctx: &mut Ctx) {
        if self.challenge.allow(ctx.now, ctx.cfg.challenge_ack_limit) {
            self.send_ack(ctx);
        } else {
            ctx.event(
                Some(&self.name),
                Body::Limit {
                    what: LimitKind::ChallengeAck,
                    limit: u64::from(ctx.cfg.challenge_ack_limit),
                    detail: Some("challenge ACK not sent: rate limit".into()),
                },
            );
        }
    }

    fn send_rst(&mut self, ctx: &mut Ctx, seq: SeqNum) {
        self.send(ctx, Flags::RST, seq, Vec::new(), None);
    }

    // ----- user calls (RFC 9293 §3.10.2 – §3.10.5) ----------------------

    /// SEND: queue what fits in the send buffer; returns the bytes taken.
    pub(crate) fn user_send(&mut self, ctx: &mut Ctx, data: &[u8]) -> usize {
        let n = data.len().min(self.send_space());
        self.snd_buf.extend(&data[..n]);
        if self.state == State::Listen && self.passive_open {
            // RFC 9293 §3.10.2 SEND in LISTEN with the remote specified:
            // "change the connection from passive to active", SYN, and the
            // data waits for ESTABLISHED.
            self.passive_open = false;
            self.set_state(
                ctx,
                State::SynSent,
                "SEND on a passive open whose remote is known: the connection turns active, SYN sent"
                    .into(),
            );
            self.send_syn(ctx, false);
            return n;
        }
        if n > 0 {
            self.output(ctx);
        }
        n
    }

    /// RECEIVE: take up to `buf.len()` bytes; opening the window may be
    /// worth a window update.
    pub(crate) fn user_recv(&mut self, ctx: &mut Ctx, buf: &mut [u8]) -> usize {
        let before = self.rcv_wnd();
        let n = buf.len().min(self.rcv_buf.len());
        copy_out(&self.rcv_buf, 0, &mut buf[..n]);
        self.rcv_buf.drain(..n);
        if n > 0 && self.state.is_synchronized() && !self.fin_received {
            // A separate window update only to reopen a window that had
            // really closed: under an eighth of the buffer or two segments,
            // read moves the edge by at least min(RCV.BUFF/2, MSS) (RFC 1122
            // §4.2.3.3) to at least twice what the peer has (as Linux's
            // __tcp_cleanup_rbuf). Otherwise the next ACK carries the new
            // window, so delayed ACK keeps working for a prompt reader, and
            // the SYN's unscaled 64 KiB does not cost an extra ACK.
            let free = (self.rcv_cap - self.rcv_buf.len()) as u32;
            let grow = (self.rcv_nxt + free).diff(self.rcv_adv).max(0) as u32;
            let threshold = (self.rcv_cap as u32 / 2).min(u32::from(self.our_mss));
            let closed = before.saturating_mul(8) <= self.rcv_cap as u32
                || before < 2 * self.rcv_mss() as u32;
            if grow >= threshold && free >= before.saturating_mul(2) && closed {
                self.ack_now = true;
                self.output(ctx);
            }
        }
        n
    }

    /// CLOSE (RFC 9293 §3.10.4): "I have no more to send". Receiving goes on.
    pub(crate) fn user_close(&mut self, ctx: &mut Ctx) -> Result<(), &'static str> {
        match self.state {
            State::Listen if self.passive_open => {
                self.set_state(
                    ctx,
                    State::Closed,
                    "user CLOSE in LISTEN: TCB deleted".into(),
                );
            }
            State::SynSent => {
                self.set_state(
                    ctx,
                    State::Closed,
                    "user CLOSE before the handshake completed".into(),
                );
                self.close_reason = Some(CloseReason::Aborted);
            }
            State::SynReceived => {
                self.fin_queued = true;
                if self.snd_buf.is_empty() {
                    self.set_state(
                        ctx,
                        State::FinWait1,
                        "user CLOSE in SYN-RECEIVED: FIN sent".into(),
                    );
                    self.output(ctx);
                }
                // Otherwise the FIN follows the data once ESTABLISHED.
            }
            State::Established => {
                self.fin_queued = true;
                self.set_state(
                    ctx,
                    State::FinWait1,
                    "user CLOSE: FIN queued after the data (active close)".into(),
                );
                self.output(ctx);
            }
            State::CloseWait => {
                self.fin_queued = true;
                self.set_state(
                    ctx,
                    State::LastAck,
                    "user CLOSE after the peer's FIN: our FIN sent (passive close)".into(),
                );
                self.output(ctx);
            }
            _ => return Err("connection closing"),
        }
        Ok(())
    }

    /// The application let go of the connection (close(2) on a socket):
    /// CLOSE if not yet done, and from now on the FIN-WAIT-2 timeout applies
    /// and arriving data is discarded.
    pub(crate) fn user_release(&mut self, ctx: &mut Ctx) {
        self.orphan = true;
        if matches!(
            self.state,
            State::SynSent | State::SynReceived | State::Established | State::CloseWait
        ) {
            let _ = self.user_close(ctx);
        }
        self.rcv_buf.clear();
        if self.state == State::FinWait2 {
            self.arm_fin_wait_2(ctx);
        }
    }

    /// ABORT (RFC 9293 §3.10.5).
    pub(crate) fn user_abort(&mut self, ctx: &mut Ctx) {
        let send_rst = matches!(
            self.state,
            State::SynReceived
                | State::Established
                | State::FinWait1
                | State::FinWait2
                | State::CloseWait
        );
        self.abort(
            ctx,
            AbortReason::User,
            send_rst,
            "user ABORT: RST sent, TCB deleted".into(),
        );
    }

    pub(crate) fn set_keepalive(&mut self, ctx: &mut Ctx, ka: Option<Keepalive>) {
        self.keepalive = ka;
        self.ka_probes = 0;
        match ka {
            Some(k) => {
                self.keepalive_enabled_event(ctx, k);
                self.restart_keepalive(ctx);
            }
            None => {
                ctx.event(
                    Some(&self.name),
                    Body::Keepalive(KeepaliveEvent {
                        action: KeepaliveAction::Disabled,
                        probe: 0,
                        of: 0,
                        idle: None,
                        interval: None,
                    }),
                );
                self.cancel(ctx, TimerKind::Keepalive);
            }
        }
    }

    fn keepalive_enabled_event(&self, ctx: &mut Ctx, k: Keepalive) {
        ctx.event(
            Some(&self.name),
            Body::Keepalive(KeepaliveEvent {
                action: KeepaliveAction::Enabled,
                probe: 0,
                of: k.count,
                idle: Some(k.idle.as_secs_f64()),
                interval: Some(k.interval.as_secs_f64()),
            }),
        );
    }

    /// Close with an abort event; RST <SEQ=SND.NXT> when asked, with
    /// SND.NXT read as the highest sequence number sent (SND.MAX, as the
    /// pure ACKs): the peer's window starts no lower than that.
    pub(crate) fn abort(
        &mut self,
        ctx: &mut Ctx,
        reason: AbortReason,
        send_rst: bool,
        cause: String,
    ) {
        if send_rst {
            self.send_rst(ctx, self.snd_max);
        }
        self.close_reason = Some(match reason {
            AbortReason::ResetReceived => CloseReason::Reset,
            AbortReason::RetransmitTimeout => CloseReason::TimedOut("retransmission timeout"),
            AbortReason::KeepaliveTimeout => CloseReason::TimedOut("keepalive timeout"),
            AbortReason::ConnectTimeout => CloseReason::TimedOut("connect timeout"),
            AbortReason::FinWait2Timeout => CloseReason::TimedOut("FIN-WAIT-2 timeout"),
            _ => CloseReason::Aborted,
        });
        ctx.event(Some(&self.name), Body::Abort { reason });
        self.set_state(ctx, State::Closed, cause);
    }

    // ----- output ---------------------------------------------------------

    /// Send what the windows, Nagle and SWS avoidance allow, then a pure ACK
    /// if one is owed (RFC 9293 §3.8.6, RFC 1122 §4.2.3.4, RFC 5681 §3).
    pub(crate) fn output(&mut self, ctx: &mut Ctx) {
        // Cork (`Config::cork`): hold an ACK that an arriving segment made
        // due, and everything after it until the flush, so the
        // application's answer carries it. Not held: duplicate ACKs for
        // out-of-order data (RFC 5681 §4.2: one each, at once, or the sender
        // miscounts), and the every-second-full-segment ACK of bulk data
        // (§4.2 again), which clocks the sender.
        let hold = ctx.cfg.cork
            && !ctx.flushing
            && (self.output_pending
                || (ctx.arrival
                    && self.ack_now
                    && !self.dup_ack_now
                    && self.unacked_bytes < 2 * self.rcv_mss()));
        self.dup_ack_now = false;
        if hold {
            self.output_pending = true;
            return;
        }
        let can_send_data = matches!(
            self.state,
            State::Established
                | State::CloseWait
                | State::FinWait1
                | State::Closing
                | State::LastAck
        );
        if can_send_data && !self.probe_out {
            self.output_data(ctx, false);
        }
        if self.ack_now && self.state != State::Closed && self.state != State::SynSent {
            if self.state == State::SynReceived {
                // Nothing but the SYN+ACK can acknowledge in SYN-RECEIVED.
                self.ack_now = false;
            } else {
                self.send_ack(ctx);
            }
        }
    }

    /// Send what the windows allow: first what is marked lost (RFC 6675
    /// NextSeg rule 1, RFC 8985 §6.3), then new data, then RFC 6675's
    /// rescue. The congestion window limits pipe (RFC 6675 §5), the peer's
    /// window limits SND.MAX − SND.UNA. `force`: the persist timer
    /// overrides SWS avoidance and Nagle.
    fn output_data(&mut self, ctx: &mut Ctx, force: bool) {
        loop {
            let cwnd_room = self.rec.cwnd_room(self.sack_enabled) as usize;
            if cwnd_room > 0
                && !force
                && let Some((start, end, by)) = self.rec.next_lost()
            {
                self.retransmit_range(ctx, start, end, by, false);
                continue;
            }
            let flight = self.flight();
            let wnd_room = self.snd_wnd.saturating_sub(flight) as usize;
            let usable = wnd_room.min(cwnd_room);
            let sent_off = self.snd_nxt.diff(self.snd_buf_seq).max(0) as usize;
            let unsent = self.snd_buf.len().saturating_sub(sent_off);
            let fin_pending = self.fin_queued
                && matches!(
                    self.state,
                    State::FinWait1 | State::LastAck | State::Closing
                )
                && self.snd_nxt == self.data_end()
                && self.fin_seq.is_none();
            if unsent == 0 {
                if fin_pending {
                    // A FIN alone (the data already went out).
                    self.send_data(ctx, 0, true, false);
                } else if cwnd_room > 0
                    && let Some((start, end)) = self.rec.rescue(self.sack_enabled)
                {
                    self.retransmit_range(ctx, start, end, RtxCause::Rescue, false);
                }
                break;
            }
            if flight == 0 && self.rec.state == CaState::Open {
                self.restart_after_idle(ctx);
            }
            // A full segment is what this one can carry: the MSS less the
            // options it will have (SACK blocks while we hold
            // out-of-order data), or Nagle and SWS avoidance would hold it.
            let full = self.payload_room();
            let len = unsent.min(usable).min(full);
            if len == 0 {
                break;
            }
            if len < full && !force {
                let all = len == unsent;
                // Nagle (RFC 1122 §4.2.3.4): no small segment while data is
                // unacknowledged.
                if self.nagle && flight > 0 {
                    break;
                }
                // Sender SWS avoidance: send a small segment only if it is
                // all we have, or at least half the largest window seen.
                if !all && (len as u32) < self.max_snd_wnd / 2 {
                    break;
                }
            }
            let with_fin = fin_pending_after(self, len);
            self.send_data(ctx, len, with_fin, false);
            if force {
                break;
            }
        }
        // Persist (RFC 9293 §3.8.6.1) and the SWS override timer: data is
        // waiting, nothing is in flight, and nothing could be sent.
        let sent_off = self.snd_nxt.diff(self.snd_buf_seq).max(0) as usize;
        let unsent = self.snd_buf.len().saturating_sub(sent_off);
        if unsent > 0 && self.flight() == 0 && self.timer(TimerKind::Retransmit).is_none() {
            if self.timer(TimerKind::Persist).is_none() {
                let d = self.persist_interval(ctx.cfg.persist_max);
                self.arm(ctx, TimerKind::Persist, ctx.now + d);
            }
        } else if self.timer(TimerKind::Persist).is_some() && (unsent == 0 || self.flight() > 0) {
            self.cancel(ctx, TimerKind::Persist);
            self.persist_backoff = 0;
        }
    }

    /// RFC 5681 §4.1: after more than an RTO without sending, the window
    /// starts again from the restart window (Linux: tcp_slow_start_after_idle).
    fn restart_after_idle(&mut self, ctx: &mut Ctx) {
        let Some(last) = self.last_send else {
            return;
        };
        if ctx.now.saturating_sub(last) > self.rtt.rto() {
            let iw = initial_window(self.rec.smss(), ctx.cfg.initial_cwnd);
            self.rec.cc.restart(iw);
            self.last_send = None;
        }
    }

    /// RTO doubled per unanswered probe, capped (RFC 9293 §3.8.6.1 asks
    /// for exponential back-off).
    fn persist_interval(&self, max: Duration) -> Duration {
        let mut d = self.rtt.rto();
        for _ in 0..self.persist_backoff {
            d = d.saturating_mul(2).min(max);
        }
        d.min(max)
    }

    /// Send `len` new bytes at SND.NXT (and FIN after them when asked).
    fn send_data(&mut self, ctx: &mut Ctx, len: usize, fin: bool, probe: bool) {
        let seq = self.snd_nxt;
        let off = seq.diff(self.snd_buf_seq).max(0) as usize;
        let payload = ring_range(&self.snd_buf, off, len);
        let mut flags = Flags::ACK;
        let end_of_queue = off + len == self.snd_buf.len();
        if len > 0 && end_of_queue {
            // RFC 9293 §3.9.1: PSH when the segment empties the send queue.
            flags = flags | Flags::PSH;
        }
        if fin {
            flags = flags | Flags::FIN;
        }
        self.send_probe(ctx, flags, seq, payload, None, probe);
        self.snd_nxt = seq + len + usize::from(fin);
        if fin {
            self.fin_seq = Some(seq + len);
        }
        self.snd_max = self.snd_max.max(self.snd_nxt);
        let tsval = self.ts_now(ctx.now);
        self.rec.on_send(seq, self.snd_nxt, ctx.now, tsval);
        if self.rtt_probe.is_none() && !self.ts_enabled {
            self.rtt_probe = Some((seq, ctx.now));
        }
        if self.timer(TimerKind::Retransmit).is_none() {
            let rto = self.rtt.rto();
            self.arm(ctx, TimerKind::Retransmit, ctx.now + rto);
        }
        if !probe {
            self.schedule_tlp(ctx);
        }
        // Data in flight: the keepalive has nothing to do (RFC 1122
        // §4.2.3.6 probes an idle connection).
    }

    /// Send [start, end) again, as much as one segment holds (the
    /// scoreboard splits the rest off), with the FIN if it is the end.
    fn retransmit_range(
        &mut self,
        ctx: &mut Ctx,
        start: SeqNum,
        end: SeqNum,
        by: RtxCause,
        probe: bool,
    ) {
        let start = start.max(self.snd_una);
        let data_end = self.data_end();
        let data_left = data_end.diff(start).max(0) as usize;
        let want = end.diff(start).max(0) as usize;
        let len = data_left.min(want).min(self.payload_room());
        let fin = self.fin_seq.is_some_and(|f| f == start + len) && end > start + len;
        if len == 0 && !fin {
            return;
        }
        let off = start.diff(self.snd_buf_seq).max(0) as usize;
        let payload = ring_range(&self.snd_buf, off, len);
        let mut flags = Flags::ACK;
        if fin {
            flags = flags | Flags::FIN;
        }
        self.send_probe(ctx, flags, start, payload, Some(by), probe);
        let tsval = self.ts_now(ctx.now);
        self.rec
            .on_retransmit(start, start + len + usize::from(fin), ctx.now, tsval);
        // Karn's rule (RFC 6298 §3): no sample from retransmitted data.
        self.rtt_probe = None;
        let head = start == self.snd_una;
        if self.timer(TimerKind::Retransmit).is_none()
            || (head && ctx.cfg.rto_restart_on_head_rtx && by != RtxCause::Rto)
        {
            // RFC 6298 §5.1, and Linux restarts the timer when the head is
            // resent, so a repair in progress is not cut short by it.
            let rto = self.rtt.rto();
            self.timers[idx(TimerKind::Retransmit)] = None;
            self.arm(ctx, TimerKind::Retransmit, ctx.now + rto);
        }
    }

    /// RFC 8985 §7.2: (re)arm the probe timer while nothing is being
    /// recovered, unless the retransmission timer would fire first.
    fn schedule_tlp(&mut self, ctx: &mut Ctx) {
        if !self.rec.tlp_allowed(self.sack_enabled) || !self.state.is_synchronized() {
            self.cancel(ctx, TimerKind::Tlp);
            return;
        }
        let one = self.rec.sb.len() == 1;
        let pto = rack::pto(self.rtt.srtt(), one, ctx.cfg.tlp_delack, ctx.cfg.tlp_floor);
        let at = ctx.now + pto;
        if self
            .timer(TimerKind::Retransmit)
            .is_some_and(|rto| rto <= at)
        {
            self.cancel(ctx, TimerKind::Tlp);
            return;
        }
        self.arm(ctx, TimerKind::Tlp, at);
    }

    /// RFC 8985 §7.3: the probe timer fired. Send one segment of new data
    /// if the peer's window allows, else the last segment again; then the
    /// retransmission timer starts over.
    fn on_tlp(&mut self, ctx: &mut Ctx) {
        if !self.rec.tlp_allowed(self.sack_enabled) {
            return;
        }
        let sent_off = self.snd_nxt.diff(self.snd_buf_seq).max(0) as usize;
        let unsent = self.snd_buf.len().saturating_sub(sent_off);
        let wnd_room = self.snd_wnd.saturating_sub(self.flight()) as usize;
        let start = self.snd_nxt;
        if unsent > 0 && wnd_room > 0 {
            let len = unsent.min(wnd_room).min(self.payload_room());
            let fin = fin_pending_after(self, len);
            self.send_data(ctx, len, fin, true);
            let end = self.snd_nxt;
            self.rec.on_probe(ctx, &self.name, end, false, (start, end));
        } else if let Some(s) = self.rec.sb.last_unsacked() {
            let (a, b) = (s.start, s.end);
            self.retransmit_range(ctx, a, b, RtxCause::Tlp, true);
            let end = self.snd_nxt;
            self.rec.on_probe(ctx, &self.name, end, true, (a, b));
        } else {
            return;
        }
        let rto = self.rtt.rto();
        self.timers[idx(TimerKind::Retransmit)] = None;
        self.arm(ctx, TimerKind::Retransmit, ctx.now + rto);
    }

    /// RACK's reordering timer fired (RFC 8985 §6.3).
    fn on_reorder_timer(&mut self, ctx: &mut Ctx) {
        let flight = self.flight();
        let srtt = self.rtt.srtt();
        self.rec
            .on_reo_timeout(ctx, &self.name, ctx.now, srtt, flight);
        self.sync_recovery_timers(ctx);
        self.output_data(ctx, false);
    }

    /// Arm or cancel the reordering timer as RACK asks.
    fn sync_recovery_timers(&mut self, ctx: &mut Ctx) {
        match self.rec.reo_deadline {
            Some(at) => self.arm(ctx, TimerKind::Reorder, at),
            None => self.cancel(ctx, TimerKind::Reorder),
        }
    }

    // ----- segment arrives (RFC 9293 §3.10.7) ------------------------------

    pub(crate) fn on_segment(&mut self, ctx: &mut Ctx, seg: Segment) -> Verdict {
        self.last_rcv = ctx.now;
        match self.state {
            State::SynSent => {
                self.on_segment_syn_sent(ctx, seg);
                Verdict::Keep
            }
            State::Listen if self.passive_open => {
                self.on_segment_listen(ctx, seg);
                Verdict::Keep
            }
            State::Closed | State::Listen => Verdict::Keep,
            _ => self.on_segment_other(ctx, seg),
        }
    }

    /// §3.10.7.2 LISTEN, for a fully specified passive open.
    fn on_segment_listen(&mut self, ctx: &mut Ctx, seg: Segment) {
        let f = seg.flags;
        if f.rst() {
            return;
        }
        if f.ack() {
            // <SEQ=SEG.ACK><CTL=RST>
            self.send(ctx, Flags::RST, seg.ack, Vec::new(), None);
            return;
        }
        if f.syn() {
            self.take_syn(ctx, &seg);
        }
    }

    /// §3.10.7.3 SYN-SENT STATE.
    fn on_segment_syn_sent(&mut self, ctx: &mut Ctx, seg: Segment) {
        let f = seg.flags;
        // First, check the ACK: it must acknowledge our SYN.
        if f.ack() && (seg.ack <= self.iss || seg.ack > self.snd_nxt) {
            if !f.rst() {
                // <SEQ=SEG.ACK><CTL=RST>
                self.send(ctx, Flags::RST, seg.ack, Vec::new(), None);
            }
            return;
        }
        // Second, RST: only with an acceptable ACK (RFC 5961 §3.2 for SYN-SENT).
        if f.rst() {
            if f.ack() {
                self.abort(
                    ctx,
                    AbortReason::ResetReceived,
                    false,
                    "RST+ACK received in SYN-SENT: connection refused".into(),
                );
                self.close_reason = Some(CloseReason::Refused);
            }
            return;
        }
        if !f.syn() {
            return;
        }
        // Fourth, SYN.
        self.irs = seg.seq;
        self.rcv_nxt = seg.seq + 1usize;
        self.rcv_adv = self.rcv_nxt;
        if let Some((val, _)) = seg.options.timestamp {
            self.ts_recent = val;
        }
        self.negotiate(ctx, &seg.options);
        self.emit_negotiated(ctx);
        self.snd_wnd = u32::from(seg.window);
        self.max_snd_wnd = self.snd_wnd;
        self.snd_wl1 = seg.seq;
        if f.ack() {
            self.snd_wl2 = seg.ack;
            self.ack_advances(ctx, &seg);
        }
        if self.snd_una > self.iss {
            self.cancel(ctx, TimerKind::Connect);
            self.set_state(
                ctx,
                State::Established,
                format!(
                    "SYN+ACK received (peer ISN {}, ack = our ISN + 1); ACK sent",
                    seg.seq
                ),
            );
            self.on_established(ctx);
            self.ack_now = true;
            if !seg.payload.is_empty() || f.fin() {
                let mut rest = seg;
                rest.seq += 1usize;
                rest.flags = Flags(rest.flags.0 & !Flags::SYN.0);
                self.process_text_and_fin(ctx, rest);
            }
        } else {
            // Simultaneous open: SYN-RECEIVED, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
            self.set_state(
                ctx,
                State::SynReceived,
                "SYN received while in SYN-SENT (simultaneous open): SYN+ACK sent".into(),
            );
            self.send_syn(ctx, false);
        }
    }

    fn on_established(&mut self, ctx: &mut Ctx) {
        self.dirty = true;
        if self.syn_rtx > 0 {
            // RFC 6298 §5.7: 3 s until a sample says otherwise.
            self.rtt.reinit_after_syn_loss();
        }
        if self.syn_rtx >= ctx.cfg.syn_loss_one_segment.max(1) {
            // RFC 5681 §3.1: a lost SYN or SYN+ACK leaves a one-segment
            // first window (Linux: after more than one retransmission).
            let one = self.rec.smss();
            self.rec.cc.restart(one);
        }
        if let Some(k) = self.keepalive {
            // On by configuration (profile, --keepalive, a scenario's host):
            // say so with the values, as set_keepalive does.
            self.keepalive_enabled_event(ctx, k);
        }
        self.restart_keepalive(ctx);
    }

    /// §3.10.7.4: SYN-RECEIVED and the synchronized states, step by step.
    fn on_segment_other(&mut self, ctx: &mut Ctx, seg: Segment) -> Verdict {
        let mut seg = if self.state == State::TimeWait {
            match self.time_wait_arrival(ctx, seg) {
                Ok(v) => return v,
                Err(seg) => seg,
            }
        } else {
            seg
        };
        let f = seg.flags;
        if self.state == State::SynReceived && f.syn() && seg.seq == self.irs {
            if !f.ack() {
                if !f.rst() {
                    self.synack_again(ctx);
                }
                return Verdict::Keep;
            }
            // SYN+ACK in SYN-RECEIVED (simultaneous open): the SYN is old
            // news; process the ACK.
            seg.seq += 1usize;
            seg.flags = Flags(seg.flags.0 & !Flags::SYN.0);
        }

        // First: the sequence number (and PAWS).
        if !self.check_sequence(ctx, &mut seg) {
            return Verdict::Keep;
        }
        let f = seg.flags;

        // Second: RST.
        if f.rst() {
            self.on_rst(ctx, &seg);
            return Verdict::Keep;
        }

        // Fourth: SYN in a synchronized state (RFC 5961 §4.2: challenge ACK).
        if f.syn() {
            self.send_challenge_ack(ctx);
            return Verdict::Keep;
        }

        // Fifth: the ACK field.
        if !f.ack() {
            return Verdict::Keep;
        }
        if self.state == State::SynReceived {
            if self.snd_una < seg.ack && seg.ack <= self.snd_max {
                self.snd_wnd = u32::from(seg.window) << self.snd_wscale;
                self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
                self.snd_wl1 = seg.seq;
                self.snd_wl2 = seg.ack;
                self.cancel(ctx, TimerKind::Connect);
                self.set_state(
                    ctx,
                    State::Established,
                    "ACK of our SYN received: handshake complete".into(),
                );
                self.on_established(ctx);
                if self.fin_queued {
                    // CLOSE was called in SYN-RECEIVED with data queued.
                    self.set_state(
                        ctx,
                        State::FinWait1,
                        "CLOSE queued in SYN-RECEIVED: FIN follows the data".into(),
                    );
                }
            } else {
                // <SEQ=SEG.ACK><CTL=RST>
                self.send(ctx, Flags::RST, seg.ack, Vec::new(), None);
                return Verdict::Keep;
            }
        }
        if !self.process_ack(ctx, &seg) {
            return Verdict::Keep;
        }
        if self.state == State::Closed {
            return Verdict::Keep;
        }

        // Seventh and eighth: text and FIN.
        self.process_text_and_fin(ctx, seg);
        Verdict::Keep
    }

    /// TIME-WAIT's own answers before the usual steps (RFC 9293 §3.10.7.4,
    /// RFC 1337, RFC 6191): `Ok` when the segment was dealt with here,
    /// `Err` hands it back for the usual steps (by value: a `Segment` with
    /// IPv6-capable addresses is large, but boxing it would allocate, and
    /// this runs only in TIME-WAIT).
    #[allow(clippy::result_large_err)]
    fn time_wait_arrival(&mut self, ctx: &mut Ctx, seg: Segment) -> Result<Verdict, Segment> {
        let f = seg.flags;
        if f.rst() {
            if ctx.cfg.rfc1337 || seg.seq != self.rcv_nxt {
                // RFC 1337: ignore RST in TIME-WAIT (TIME-WAIT
                // assassination).
                return Ok(Verdict::Keep);
            }
            // Linux's default (tcp_rfc1337 = 0): a RST ends TIME-WAIT.
            self.close_reason = Some(CloseReason::Normal);
            self.set_state(
                ctx,
                State::Closed,
                "RST received in TIME-WAIT: TIME-WAIT ends early (Linux; RFC 1337 would ignore it)"
                    .into(),
            );
            return Ok(Verdict::Keep);
        }
        // RFC 9293 §3.10.7.4 and RFC 6191 §2: a new SYN may open a new
        // incarnation. With timestamps in use, if and only if its
        // timestamp is newer than TS.Recent (whatever its sequence
        // number; an older one is an old duplicate, as PAWS says);
        // without, if its sequence number is higher.
        let reopen = match seg.options.timestamp {
            Some((val, _)) if self.ts_enabled => (val.wrapping_sub(self.ts_recent) as i32) > 0,
            _ => seg.seq > self.rcv_nxt,
        };
        if f.syn() && !f.ack() && reopen {
            return Ok(Verdict::Reopen(seg));
        }
        if f.fin() && seg.seq + seg.payload.len() + 1usize == self.rcv_nxt {
            // The peer's FIN again: our last ACK was lost. ACK it and
            // restart the 2 MSL timer (RFC 9293 §3.10.7.4 eighth step).
            // The FIN is processed, so RFC 7323 §4.3 applies to it: its
            // SEG.SEQ is below Last.ACK.sent, and a newer TSval becomes
            // TS.Recent. The ACK then echoes the retransmission, not the
            // first FIN, and the peer's Eifel check (RFC 3522) does not
            // call its needed resend spurious. The `linux` profile keeps
            // the first FIN's TSval, as Linux's TIME-WAIT socket does.
            if ctx.cfg.time_wait_ts_recent {
                self.update_ts_recent(&seg);
            }
            self.send_ack(ctx);
            let d = ctx.cfg.msl * 2;
            self.timers[idx(TimerKind::TimeWait)] = None;
            self.arm(ctx, TimerKind::TimeWait, ctx.now + d);
            return Ok(Verdict::Keep);
        }
        Err(seg)
    }

    /// SYN-RECEIVED: the peer's SYN again means our SYN+ACK was lost. Send
    /// it again now and restart its timer from this transmission, so the
    /// timer does not send a second copy right behind it.
    fn synack_again(&mut self, ctx: &mut Ctx) {
        self.syn_rtx += 1;
        self.send(
            ctx,
            Flags::SYN | Flags::ACK,
            self.iss,
            Vec::new(),
            Some(RtxCause::Syn),
        );
        self.rtt_probe = None;
        let rto = self.rtt.rto();
        self.arm(ctx, TimerKind::Retransmit, ctx.now + rto);
    }

    /// First step (RFC 9293 §3.10.7.4), with PAWS (RFC 7323 §5.3) before
    /// it: is the segment acceptable? Answers the ones that are not, keeps
    /// TS.Recent and trims the segment to the window. `false`: drop it.
    fn check_sequence(&mut self, ctx: &mut Ctx, seg: &mut Segment) -> bool {
        let f = seg.flags;
        // RFC 7323 §5.3 PAWS: a timestamp older than TS.Recent marks an old
        // duplicate; ACK and drop it (RST is exempt). The answer to a pure
        // ACK is rate-limited like any out-of-window answer (Linux).
        if self.ts_enabled
            && !f.rst()
            && let Some((val, _)) = seg.options.timestamp
            && (val.wrapping_sub(self.ts_recent) as i32) < 0
        {
            if !self.oow_rate_limited(ctx, seg) {
                self.send_ack(ctx);
            }
            return false;
        }

        // Sequence number acceptability.
        let wnd = self.rcv_wnd();
        let len = seg.seg_len() as u32;
        let acceptable = match (len, wnd) {
            (0, 0) => seg.seq == self.rcv_nxt,
            // A sender that has filled our window sends its ACKs at its
            // SND.NXT, our right edge: with a hole below, a strict reading
            // (SEG.SEQ < RCV.NXT+RCV.WND) would drop every such ACK and the
            // two sides can deadlock. Like Linux (tcp_sequence: seq not after
            // rcv_nxt + window) the edge itself is accepted for a
            // zero-length segment; it carries no data to store.
            (0, _) => {
                seg.seq.in_range(self.rcv_nxt, self.rcv_nxt + wnd) || seg.seq == self.rcv_nxt + wnd
            }
            (_, 0) => false,
            (_, _) => {
                seg.seq.in_range(self.rcv_nxt, self.rcv_nxt + wnd)
                    || (seg.seq + (len - 1)).in_range(self.rcv_nxt, self.rcv_nxt + wnd)
            }
        };
        if !acceptable {
            if wnd == 0 && seg.seq == self.rcv_nxt && !f.syn() {
                // "special allowance ... to accept valid ACKs, URGs, and RSTs"
                // with a zero window: keep the control part, drop the text.
                seg.payload.clear();
                seg.flags = Flags(seg.flags.0 & !Flags::FIN.0);
                self.ack_now = true;
            } else {
                if self.sack_enabled
                    && !seg.payload.is_empty()
                    && seg.seq + seg.payload.len() <= self.rcv_nxt
                {
                    // RFC 2883: tell the sender this one arrived twice.
                    self.dsack = Some((seg.seq, seg.seq + seg.payload.len()));
                }
                if !f.intersects(Flags::SYN | Flags::RST)
                    && len > 0
                    && self.last_ack_sent <= seg.seq + len
                {
                    // A resend of what we last acknowledged (it reaches
                    // Last.ACK.sent: our ACK was lost) is the segment the
                    // ACK below answers. RFC 7323 §4.3 rule (2) holds for
                    // it (SEG.SEQ <= Last.ACK.sent), so the ACK echoes the
                    // resend and the sender's Eifel check (RFC 3522) does
                    // not undo a needed retransmission. Linux does the
                    // same: tcp_sequence accepts a segment ending at
                    // rcv_wup, and tcp_replace_ts_recent takes its TSval.
                    // Older duplicates leave TS.Recent alone.
                    self.update_ts_recent(seg);
                }
                if !f.rst() && !self.oow_rate_limited(ctx, seg) {
                    self.send_ack(ctx);
                }
                return false;
            }
        }
        // RFC 7323 §4.3: TS.Recent follows the segment that reached the
        // left edge of the window.
        self.update_ts_recent(seg);
        self.trim(seg);
        true
    }

    /// RFC 7323 §4.3 rule (2): if SEG.TSval >= TS.Recent and SEG.SEQ <=
    /// Last.ACK.sent, SEG.TSval is copied to TS.Recent.
    fn update_ts_recent(&mut self, seg: &Segment) {
        if self.ts_enabled
            && let Some((val, _)) = seg.options.timestamp
            && seg.seq <= self.last_ack_sent
            && (val.wrapping_sub(self.ts_recent) as i32) >= 0
        {
            self.ts_recent = val;
        }
    }

    /// Second step: RST (RFC 5961 §3.2: only an exact match resets).
    fn on_rst(&mut self, ctx: &mut Ctx, seg: &Segment) {
        if seg.seq != self.rcv_nxt {
            self.send_challenge_ack(ctx);
            return;
        }
        match self.state {
            State::SynReceived if self.listener.is_some() || self.passive_open => {
                ctx.event(
                    Some(&self.name),
                    Body::Abort {
                        reason: AbortReason::ResetReceived,
                    },
                );
                self.close_reason = Some(CloseReason::Reset);
                self.set_state(
                    ctx,
                    State::Listen,
                    "RST received in SYN-RECEIVED: back to LISTEN".into(),
                );
            }
            State::SynReceived => {
                self.abort(
                    ctx,
                    AbortReason::ResetReceived,
                    false,
                    "RST received in SYN-RECEIVED: connection refused".into(),
                );
                self.close_reason = Some(CloseReason::Refused);
            }
            _ => {
                let probing = self.ka_probes > 0;
                self.abort(
                    ctx,
                    AbortReason::ResetReceived,
                    false,
                    if probing {
                        "RST in answer to a keepalive probe: the peer forgot the connection (rebooted)".into()
                    } else {
                        "RST received: connection reset".into()
                    },
                );
            }
        }
    }

    /// Answers to unacceptable pure ACKs are rate-limited (Linux's
    /// tcp_invalid_ratelimit, 500 ms), so two ends that disagree cannot
    /// keep ACKing each other's ACKs. Segments with data, SYN or FIN are
    /// always answered.
    fn oow_rate_limited(&mut self, ctx: &mut Ctx, seg: &Segment) -> bool {
        if seg.seg_len() > 0 {
            return false;
        }
        if self
            .last_oow_ack
            .is_some_and(|t| ctx.now - t < Duration::from_millis(500))
        {
            return true;
        }
        self.last_oow_ack = Some(ctx.now);
        false
    }

    /// Cut what lies before RCV.NXT or beyond the window.
    fn trim(&mut self, seg: &mut Segment) {
        if seg.seq < self.rcv_nxt {
            let mut cut = self.rcv_nxt - seg.seq;
            if seg.flags.syn() {
                seg.flags = Flags(seg.flags.0 & !Flags::SYN.0);
                seg.seq += 1usize;
                cut -= 1;
            }
            let n = cut.min(seg.payload.len());
            if n > 0 && self.sack_enabled {
                // RFC 2883: the part received before, as a D-SACK block.
                self.dsack = Some((seg.seq, seg.seq + n));
            }
            seg.payload.drain(..n);
            seg.seq += n;
        }
        let wnd = self.rcv_wnd() as usize;
        let room = wnd.saturating_sub(seg.seq.diff(self.rcv_nxt).max(0) as usize);
        if seg.payload.len() > room {
            seg.payload.truncate(room);
            // The FIN came after bytes we cannot take.
            seg.flags = Flags(seg.flags.0 & !Flags::FIN.0);
        }
    }

    /// The ACK field of an acceptable segment. Returns false when the
    /// segment must be dropped.
    fn process_ack(&mut self, ctx: &mut Ctx, seg: &Segment) -> bool {
        // SND.NXT in the RFC; after an RTO rewound SND.NXT (go-back-N) the
        // peer may acknowledge data sent before the rewind, so the bound is
        // the highest sequence number ever sent (as BSD's snd_max).
        let mut ack_limit = self.snd_max;
        if self.probe_out {
            // The zero-window probe byte may have been taken.
            ack_limit += 1usize;
        }
        if seg.ack > ack_limit {
            // ACK of something not yet sent: ACK and drop (§3.10.7.4 fifth).
            self.send_ack(ctx);
            return false;
        }
        // RFC 5961 §5.2: an ACK too far in the past is not acceptable.
        let old = seg.ack < self.snd_una;
        let oldest = self.snd_una - (self.max_snd_wnd as usize);
        if seg.ack < oldest {
            self.send_challenge_ack(ctx);
            return false;
        }
        if self.probe_out && seg.ack == ack_limit {
            // The probe byte was taken: the next probe is of a new byte.
            self.snd_nxt = ack_limit;
            self.snd_max = self.snd_max.max(self.snd_nxt);
            self.probe_sent = false;
        }
        let new_wnd = u32::from(seg.window) << self.snd_wscale;
        let flight_before = self.flight();
        let advanced = seg.ack > self.snd_una;
        // RFC 5681 §2, judged on the segment as it reaches here: text cut
        // off above (a zero-window probe's byte) no longer counts, as it
        // never has. The `segment` event judged it on arrival.
        let dup = self.is_dup_ack(seg);
        let data_acked = if advanced {
            self.ack_advances(ctx, seg)
        } else {
            0
        };
        // With nothing outstanding an ACK can still carry news for loss
        // recovery: a D-SACK that the last retransmission was not needed
        // (RFC 3708's undo, RFC 8985's reordering window).
        let sack_news = self.sack_enabled && !seg.options.sack.is_empty();
        if self.state.is_synchronized()
            && (flight_before > 0 || !self.rec.sb.is_empty() || sack_news)
        {
            self.on_ack_recovery(ctx, seg, advanced, dup, flight_before, data_acked);
        }
        // Window update (§3.10.7.4: SND.WL1/SND.WL2 rule).
        if !old && (self.snd_wl1 < seg.seq || (self.snd_wl1 == seg.seq && self.snd_wl2 <= seg.ack))
        {
            let was_zero = self.snd_wnd == 0;
            self.snd_wnd = new_wnd;
            self.max_snd_wnd = self.max_snd_wnd.max(new_wnd);
            self.snd_wl1 = seg.seq;
            self.snd_wl2 = seg.ack;
            if was_zero && new_wnd > 0 {
                self.probe_out = false;
                self.probe_sent = false;
                self.persist_backoff = 0;
                self.cancel(ctx, TimerKind::Persist);
            }
        }
        if self.probe_out && self.snd_wnd > 0 {
            self.probe_out = false;
        }
        match self.state {
            State::FinWait1 if self.fin_acked() => {
                self.set_state(
                    ctx,
                    State::FinWait2,
                    "ACK of our FIN received: half-closed, the peer may still send".into(),
                );
                if self.orphan {
                    self.arm_fin_wait_2(ctx);
                }
            }
            State::Closing if self.fin_acked() => {
                self.enter_time_wait(ctx, "ACK of our FIN received in CLOSING".into());
            }
            State::LastAck if self.fin_acked() => {
                self.close_reason = Some(CloseReason::Normal);
                self.set_state(
                    ctx,
                    State::Closed,
                    "ACK of our FIN received: connection closed (no TIME-WAIT for the passive closer)"
                        .into(),
                );
                return false;
            }
            _ => {}
        }
        true
    }

    /// SND.UNA moves forward: free acknowledged bytes, take an RTT sample,
    /// grow the congestion window, manage the timer.
    fn ack_advances(&mut self, ctx: &mut Ctx, seg: &Segment) -> u32 {
        let data_from = self.snd_una.max(self.snd_buf_seq);
        let data_to = seg.ack.min(self.data_end());
        // Bytes of data acknowledged (SYN and FIN do not grow cwnd).
        let acked = data_to.diff(data_from).max(0) as u32;
        if data_to > data_from {
            let n = data_to - data_from;
            self.snd_buf.drain(..n);
            self.snd_buf_seq += n;
            self.dirty = true;
        }
        self.snd_una = seg.ack;
        if self.snd_nxt < self.snd_una {
            self.snd_nxt = self.snd_una;
        }
        self.retries = 0;

        // RTT: timestamps (RFC 7323 §4.1) or the timed segment (RFC 6298 §3).
        let mut sample = None;
        let fresh_echo = match (self.last_rtx_ts, seg.options.timestamp) {
            (Some(rtx), Some((_, ecr))) => ecr != 0 && (ecr.wrapping_sub(rtx) as i32) >= 0,
            _ => false,
        };
        if seg.ack <= self.rtx_high && !(self.ts_enabled && fresh_echo) {
            // Only retransmitted data acknowledged, and nothing proves the
            // echo is recent: no sample (Karn).
            self.rtt_probe = None;
        } else if self.ts_enabled {
            if let Some((_, ecr)) = seg.options.timestamp
                && ecr != 0
            {
                let ms = self.ts_now(ctx.now).wrapping_sub(ecr);
                if ms < 60_000 {
                    sample = Some(Duration::from_millis(u64::from(ms)));
                }
            }
        } else if let Some((pseq, sent)) = self.rtt_probe
            && seg.ack > pseq
        {
            sample = Some(ctx.now - sent);
            self.rtt_probe = None;
        }
        if let Some(r) = sample {
            let (srtt, rttvar, rto) = self.rtt.sample(r);
            ctx.event(
                Some(&self.name),
                Body::Rtt {
                    sample: r.as_secs_f64(),
                    srtt: srtt.as_secs_f64(),
                    rttvar: rttvar.as_secs_f64(),
                    rto: rto.as_secs_f64(),
                },
            );
        }

        // RFC 6298 §5.2 / §5.3.
        if self.snd_una == self.snd_max {
            self.cancel(ctx, TimerKind::Retransmit);
        } else {
            let rto = self.rtt.rto();
            self.arm(ctx, TimerKind::Retransmit, ctx.now + rto);
        }
        acked
    }

    /// Loss detection and the congestion window after an acceptable ACK
    /// (`tcp/recovery/`), then the timers they drive.
    fn on_ack_recovery(
        &mut self,
        ctx: &mut Ctx,
        seg: &Segment,
        advanced: bool,
        dup: bool,
        flight_before: u32,
        data_acked: u32,
    ) {
        let a = AckIn {
            now: ctx.now,
            ack: seg.ack,
            advanced,
            dup,
            sack: if self.sack_enabled {
                &seg.options.sack
            } else {
                &[]
            },
            tsecr: seg.options.timestamp.map(|(_, e)| e),
            sack_enabled: self.sack_enabled,
            flight_before,
            data_acked,
            snd_max: self.snd_max,
            srtt: self.rtt.srtt(),
        };
        self.rec.on_ack(ctx, &self.name, &a);
        self.sync_recovery_timers(ctx);
        if advanced {
            self.schedule_tlp(ctx);
        } else if !self.rec.tlp_allowed(self.sack_enabled) {
            self.cancel(ctx, TimerKind::Tlp);
        }
    }

    /// Seventh (text) and eighth (FIN) steps.
    fn process_text_and_fin(&mut self, ctx: &mut Ctx, seg: Segment) {
        if self.orphan
            && !seg.payload.is_empty()
            && matches!(self.state, State::FinWait1 | State::FinWait2)
        {
            // RFC 1122 §4.2.2.13 (and RFC 2525 §2.17): new data for an
            // application that has closed cannot be delivered; reset, as
            // Linux does (LINUX_MIB_TCPABORTONDATA).
            self.abort(
                ctx,
                AbortReason::DataAfterClose,
                true,
                "data arrived after the application closed: RST sent (RFC 1122 §4.2.2.13)".into(),
            );
            return;
        }
        let text_ok = matches!(
            self.state,
            State::Established | State::FinWait1 | State::FinWait2 | State::SynReceived
        );
        let mut fin_now = false;
        if !seg.payload.is_empty() && text_ok {
            if seg.seq == self.rcv_nxt {
                let had_holes = self.ooo.segments() > 0;
                self.take_in_order(&seg.payload);
                while let Some(more) = self.ooo.pop_ready(self.rcv_off) {
                    self.take_in_order(&more);
                }
                if self.ooo.fin() == Some(self.rcv_off) {
                    fin_now = true;
                }
                self.dirty = true;
                if self.ooo.segments() == 0 {
                    // No hole left: the loss episode, as the receiver sees
                    // it, is over.
                    self.dup_acks_out = 0;
                }
                if had_holes || ctx.cfg.delayed_ack.is_zero() {
                    // RFC 5681 §4.2: ACK at once when a hole is filled.
                    self.ack_now = true;
                } else if self.quick > 0 {
                    // Quick-ACK at the start of a connection (Linux), so a
                    // sender in slow start is not slowed by delayed ACKs.
                    self.quick -= 1;
                    self.ack_now = true;
                } else if self.unacked_bytes >= 2 * self.rcv_mss() {
                    // At least every second full-sized segment.
                    self.ack_now = true;
                } else if self.timer(TimerKind::DelayedAck).is_none() {
                    let d = ctx.cfg.delayed_ack;
                    self.arm(ctx, TimerKind::DelayedAck, ctx.now + d);
                }
            } else {
                // Out of order: keep it (bounded) and send a duplicate ACK
                // at once (RFC 5681 §4.2).
                let off = self.rcv_off + (seg.seq - self.rcv_nxt) as u64;
                match self.ooo.insert(off, &seg.payload, ctx.cfg.ooo_max_segments) {
                    Insert::Full => ctx.event(
                        Some(&self.name),
                        Body::Limit {
                            what: LimitKind::OooQueue,
                            limit: ctx.cfg.ooo_max_segments as u64,
                            detail: Some("out-of-order segment not kept".into()),
                        },
                    ),
                    Insert::Stored | Insert::Duplicate => {
                        if seg.flags.fin() {
                            self.ooo.set_fin(off + seg.payload.len() as u64);
                        }
                    }
                }
                self.ack_now = true;
                self.dup_ack_now = true;
                // One per wire segment: an aggregate (receive offload,
                // docs/live.md, The link) stands for that many, each of which
                // would have drawn its own duplicate ACK.
                let wire = seg.payload.len().div_ceil(self.rcv_mss().max(1)).max(1);
                self.dup_acks_out += wire as u32;
                self.last_dup_ack_out = ctx.now;
            }
        } else if seg.flags.fin() && seg.seq != self.rcv_nxt && text_ok {
            // A bare FIN beyond a hole.
            let off = self.rcv_off + (seg.seq - self.rcv_nxt) as u64;
            self.ooo.set_fin(off);
            self.ack_now = true;
            self.dup_ack_now = true;
        }
        if seg.flags.fin() && seg.seq + seg.payload.len() == self.rcv_nxt {
            fin_now = true;
        }
        if fin_now && !self.fin_received {
            self.on_fin(ctx);
        }
    }

    /// The MSS the peer uses towards us, for the delayed-ACK rule.
    fn rcv_mss(&self) -> usize {
        let ts = if self.ts_enabled { 12 } else { 0 };
        (self.our_mss as usize).saturating_sub(ts)
    }

    fn take_in_order(&mut self, data: &[u8]) {
        let n = data.len();
        self.rcv_nxt += n;
        self.rcv_off += n as u64;
        self.bytes_in += n as u64;
        self.unacked_bytes += n;
        if !self.orphan {
            self.rcv_buf.extend(data);
        }
    }

    /// Eighth step: FIN.
    fn on_fin(&mut self, ctx: &mut Ctx) {
        if matches!(self.state, State::Closed | State::Listen | State::SynSent) {
            return;
        }
        self.fin_received = true;
        // The FIN occupies a sequence number but no buffer space: move the
        // window's right edge with it so the advertised window keeps its size.
        if self.rcv_adv >= self.rcv_nxt {
            self.rcv_adv += 1usize;
        }
        self.rcv_nxt += 1usize;
        self.ooo.clear();
        self.ack_now = true;
        self.dirty = true;
        match self.state {
            State::SynReceived | State::Established => {
                self.set_state(
                    ctx,
                    State::CloseWait,
                    "FIN received: the peer has no more data (half-close); it is acknowledged"
                        .into(),
                );
            }
            State::FinWait1 => {
                if self.fin_acked() {
                    self.enter_time_wait(ctx, "FIN received, our FIN already acknowledged".into());
                } else {
                    self.set_state(
                        ctx,
                        State::Closing,
                        "FIN received before the ACK of ours (simultaneous close)".into(),
                    );
                }
            }
            State::FinWait2 => {
                self.enter_time_wait(ctx, "FIN received in FIN-WAIT-2; ACK sent".into());
            }
            _ => {}
        }
    }

    fn enter_time_wait(&mut self, ctx: &mut Ctx, cause: String) {
        for k in [
            TimerKind::Retransmit,
            TimerKind::Persist,
            TimerKind::Keepalive,
            TimerKind::DelayedAck,
            TimerKind::FinWait2,
            TimerKind::Connect,
        ] {
            self.cancel(ctx, k);
        }
        let msl = ctx.cfg.msl;
        self.set_state(
            ctx,
            State::TimeWait,
            format!("{cause}; waiting 2 MSL = {} s", (msl * 2).as_secs_f64()),
        );
        self.close_reason = Some(CloseReason::Normal);
        self.arm(ctx, TimerKind::TimeWait, ctx.now + msl * 2);
    }

    fn arm_fin_wait_2(&mut self, ctx: &mut Ctx) {
        if let Some(d) = ctx.cfg.fin_wait_2_timeout {
            self.arm(ctx, TimerKind::FinWait2, ctx.now + d);
        }
    }

    /// RFC 1122 §4.2.3.6: every segment from the peer restarts idling.
    fn restart_keepalive(&mut self, ctx: &mut Ctx) {
        let Some(ka) = self.keepalive else {
            return;
        };
        if !matches!(
            self.state,
            State::Established | State::CloseWait | State::FinWait2
        ) {
            return;
        }
        if self.ka_probes > 0 {
            ctx.event(
                Some(&self.name),
                Body::Keepalive(KeepaliveEvent {
                    action: KeepaliveAction::Answered,
                    probe: self.ka_probes,
                    of: ka.count,
                    idle: None,
                    interval: None,
                }),
            );
            self.ka_probes = 0;
        }
        self.arm(ctx, TimerKind::Keepalive, self.last_rcv + ka.idle);
    }

    /// Called by the engine after a segment was processed.
    pub(crate) fn after_segment(&mut self, ctx: &mut Ctx) {
        if self.state != State::Closed && self.state != State::Listen {
            self.restart_keepalive(ctx);
        }
    }

    // ----- timers ------------------------------------------------------------

    pub(crate) fn on_timers(&mut self, ctx: &mut Ctx) {
        for kind in TimerKind::ALL {
            if self.state == State::Closed {
                return;
            }
            let Some(d) = self.timers[idx(kind)] else {
                continue;
            };
            if d > ctx.now {
                continue;
            }
            self.timers[idx(kind)] = None;
            ctx.event(
                Some(&self.name),
                Body::Timer(TimerEvent {
                    timer: kind,
                    action: TimerAction::Fired,
                    deadline: None,
                    backoff: None,
                }),
            );
            match kind {
                TimerKind::Retransmit => self.on_rto(ctx),
                TimerKind::Tlp => self.on_tlp(ctx),
                TimerKind::Reorder => self.on_reorder_timer(ctx),
                TimerKind::DelayedAck => {
                    self.ack_now = true;
                }
                TimerKind::Persist => self.on_persist(ctx),
                TimerKind::Keepalive => self.on_keepalive(ctx),
                TimerKind::TimeWait => {
                    self.set_state(
                        ctx,
                        State::Closed,
                        "2 MSL elapsed: TIME-WAIT over, TCB deleted".into(),
                    );
                }
                TimerKind::FinWait2 => {
                    self.abort(
                        ctx,
                        AbortReason::FinWait2Timeout,
                        true,
                        "no FIN from the peer within the FIN-WAIT-2 timeout".into(),
                    );
                }
                TimerKind::Connect => {
                    self.abort(
                        ctx,
                        AbortReason::ConnectTimeout,
                        false,
                        "connect timeout: no answer to our SYN".into(),
                    );
                }
            }
        }
        if self.state != State::Closed {
            self.output(ctx);
        }
    }

    /// RFC 6298 §5.4–5.6 and RFC 5681 §3.1.
    fn on_rto(&mut self, ctx: &mut Ctx) {
        self.retries += 1;
        let handshake = matches!(self.state, State::SynSent | State::SynReceived);
        let limit = if handshake {
            ctx.cfg.syn_retries
        } else {
            ctx.cfg.data_retries
        };
        if self.retries > limit {
            let what = if handshake { "SYN" } else { "data" };
            self.abort(
                ctx,
                AbortReason::RetransmitTimeout,
                !handshake,
                format!("{what} retransmitted {limit} times without an answer"),
            );
            return;
        }
        self.rtt.back_off();
        self.rtt_probe = None;
        if handshake {
            self.send_syn(ctx, true);
            return;
        }
        // Everything outstanding may now be sent again; the loss state
        // marks all of it lost but what the peer SACKed (RFC 6675 §5.1).
        self.rtx_high = self.rtx_high.max(self.snd_max);
        let flight = self.flight();
        self.rec.on_rto(ctx, &self.name, flight, self.snd_max);
        for k in [TimerKind::Tlp, TimerKind::Reorder] {
            self.cancel(ctx, k);
        }
        // Resend from SND.UNA as the (now one-segment) window allows.
        self.output_data(ctx, false);
        let rto = self.rtt.rto();
        self.arm(ctx, TimerKind::Retransmit, ctx.now + rto);
    }

    /// RFC 9293 §3.8.6.1: probe a zero window, or send what SWS avoidance
    /// held back (RFC 1122 §4.2.3.4 override timer).
    fn on_persist(&mut self, ctx: &mut Ctx) {
        if self.snd_wnd == 0 {
            let off = self.snd_nxt.diff(self.snd_buf_seq).max(0) as usize;
            if let Some(&byte) = self.snd_buf.get(off) {
                // One byte of new data beyond the window; the same byte
                // again on later probes is a retransmission.
                let again = self.probe_sent.then_some(RtxCause::Persist);
                self.send(ctx, Flags::ACK, self.snd_nxt, vec![byte], again);
                self.probe_out = true;
                self.probe_sent = true;
            }
        } else {
            self.output_data(ctx, true);
        }
        if self.snd_wnd == 0 || self.flight() == 0 {
            self.persist_backoff += 1;
            let d = self.persist_interval(ctx.cfg.persist_max);
            self.arm(ctx, TimerKind::Persist, ctx.now + d);
        }
    }

    /// RFC 1122 §4.2.3.6.
    fn on_keepalive(&mut self, ctx: &mut Ctx) {
        let Some(ka) = self.keepalive else {
            return;
        };
        if self.flight() > 0 || !self.snd_buf.is_empty() {
            // Not idle: data is moving or waiting; retransmission and
            // persist cover it. Look again after another idle period.
            self.arm(ctx, TimerKind::Keepalive, ctx.now + ka.idle);
            return;
        }
        if self.ka_probes >= ka.count {
            ctx.event(
                Some(&self.name),
                Body::Keepalive(KeepaliveEvent {
                    action: KeepaliveAction::Dead,
                    probe: self.ka_probes,
                    of: ka.count,
                    idle: None,
                    interval: None,
                }),
            );
            self.abort(
                ctx,
                AbortReason::KeepaliveTimeout,
                true,
                format!("{} keepalive probes unanswered: the peer is dead", ka.count),
            );
            return;
        }
        self.ka_probes += 1;
        // The probe: SEG.SEQ = SND.NXT - 1, zero or one byte of garbage.
        let payload = if ctx.cfg.keepalive_garbage {
            vec![0]
        } else {
            Vec::new()
        };
        self.send(ctx, Flags::ACK, self.snd_nxt - 1usize, payload, None);
        ctx.event(
            Some(&self.name),
            Body::Keepalive(KeepaliveEvent {
                action: KeepaliveAction::ProbeSent,
                probe: self.ka_probes,
                of: ka.count,
                idle: None,
                interval: None,
            }),
        );
        self.arm(ctx, TimerKind::Keepalive, ctx.now + ka.interval);
    }

    // ----- events for the TCB panel ----------------------------------------

    pub(crate) fn emit_vars(&mut self, ctx: &mut Ctx) {
        if !self.state.is_synchronized() && self.state != State::SynReceived {
            return;
        }
        let sent_off = self.snd_nxt.diff(self.snd_buf_seq).max(0) as usize;
        let v = VarsEvent {
            snd_una: self.snd_una.0,
            snd_nxt: self.snd_nxt.0,
            snd_wnd: self.snd_wnd,
            rcv_nxt: self.rcv_nxt.0,
            rcv_wnd: self.rcv_wnd(),
            cwnd: self.rec.cwnd(),
            ssthresh: self.rec.ssthresh(),
            phase: self.rec.phase(),
            unsent: self.snd_buf.len().saturating_sub(sent_off) as u32,
            in_flight: self.flight(),
            retransmits: self.retransmits,
            fast_retransmits: self.fast_rtx,
            pipe: self.rec.pipe(self.sack_enabled),
            sacked: self.rec.sb.bytes_in(SegState::Sacked),
            lost: self.rec.sb.bytes_in(SegState::Lost),
            cc_state: self.rec.state,
            cc: Some(self.rec.cc.algo),
            reo_wnd_mult: Some(self.rec.rack.reo_wnd_mult).filter(|&m| m > 1),
        };
        if self.last_vars.as_ref() != Some(&v) {
            self.last_vars = Some(v.clone());
            ctx.event(Some(&self.name), Body::Vars(v));
        }
    }

    /// Cancel every timer (with events) before the TCB is freed.
    pub(crate) fn cancel_all(&mut self, ctx: &mut Ctx) {
        for k in TimerKind::ALL {
            self.cancel(ctx, k);
        }
    }

    /// Forget everything silently (the host "rebooted").
    pub(crate) fn forget(&mut self) {
        self.timers = [None; TimerKind::ALL.len()];
        self.state = State::Closed;
    }
}

/// `len` bytes of `ring` from `off`, as a new buffer (one allocation, one
/// copy, no zeroing first: this runs for every data segment sent).
fn ring_range(ring: &VecDeque<u8>, off: usize, len: usize) -> Vec<u8> {
    let (a, b) = ring.as_slices();
    let mut out = Vec::with_capacity(len);
    if off < a.len() {
        let from_a = (a.len() - off).min(len);
        out.extend_from_slice(&a[off..off + from_a]);
        out.extend_from_slice(&b[..len - from_a]);
    } else {
        let o = off - a.len();
        out.extend_from_slice(&b[o..o + len]);
    }
    out
}

fn copy_out(ring: &VecDeque<u8>, off: usize, out: &mut [u8]) {
    let (a, b) = ring.as_slices();
    let n = out.len();
    if off < a.len() {
        let from_a = (a.len() - off).min(n);
        out[..from_a].copy_from_slice(&a[off..off + from_a]);
        out[from_a..].copy_from_slice(&b[..n - from_a]);
    } else {
        let o = off - a.len();
        out.copy_from_slice(&b[o..o + n]);
    }
}

/// Whether the segment of `len` bytes at SND.NXT empties the queue so the FIN
/// can ride on it.
fn fin_pending_after(t: &Tcb, len: usize) -> bool {
    t.fin_queued
        && matches!(t.state, State::FinWait1 | State::LastAck | State::Closing)
        && t.snd_nxt + len == t.data_end()
        && t.fin_seq.is_none()
}

/// RFC 5681 §3.1's initial window, or `segments` × SMSS when configured
/// (RFC 6928's ten segments in the `linux` profile).
fn initial_window(smss: u32, segments: Option<u32>) -> u32 {
    match segments {
        Some(n) => n.max(1) * smss,
        None if smss > 2190 => 2 * smss,
        None if smss > 1095 => 3 * smss,
        None => 4 * smss,
    }
}
