//! The transmission control block and its state machine (RFC 9293 §3.10).
//!
//! One `Tcb` is one connection. It is driven, never driving: the engine hands
//! it a segment, a user call or the time, and it answers by pushing segments
//! and events into the [`Ctx`]. Comments cite the RFC step they implement.

mod arrival;
mod output;
mod timers;
mod user;

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
/// The MSS this host advertises and the largest it sends to `remote`:
/// the link's, lowered by a TCP_MAXSEG (`Config::user_mss`), which Linux
/// applies whatever the IP version (do_tcp_setsockopt, tcp_mss_clamp).
pub fn mss_limit(cfg: &crate::tcp::Config, remote: &SocketAddr) -> u16 {
    let link = local_mss(cfg.mss, remote);
    cfg.user_mss.map_or(link, |u| link.min(u))
}

/// RFC 7323 §2.3: the largest window scale shift.
pub const MAX_WSCALE: u8 = 14;

/// What a received segment costs beyond its bytes in Linux's accounting of
/// the receive buffer: an skb's own structures (SKB_TRUESIZE's sk_buff and
/// skb_shared_info, 256 + 320 bytes on x86-64).
pub const SKB_OVERHEAD: u32 = 576;

/// Linux's chronographs of a sender (tcp_chrono_start, tcp_chrono_stop,
/// tcp_get_info_chrono_stats): which one runs (0 none, 1 busy, 2 limited
/// by the peer's window, 3 by the send buffer: a higher one takes over
/// from a lower), since when, and each one's total, in milliseconds (as
/// Linux's jiffies at HZ 1000, wrapping alike); and whether the
/// application found the send buffer full (SOCK_NOSPACE).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Chrono {
    kind: u8,
    nospace: bool,
    start: u32,
    stat: [u32; 3],
}

pub(crate) const CHRONO_BUSY: u8 = 1;
pub(crate) const CHRONO_RWND: u8 = 2;
pub(crate) const CHRONO_SNDBUF: u8 = 3;

fn jiffies(t: Instant) -> u32 {
    (t.micros() / 1000) as u32
}

/// Buffer sizes an application set on a socket (SO_SNDBUF, SO_RCVBUF), in
/// the bytes the stack keeps (Linux doubles what the application gives,
/// socket(7)); `None` leaves the engine's default. A listener's are
/// inherited by the connections it accepts, as Linux's are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SockBufs {
    pub snd: Option<u32>,
    pub rcv: Option<u32>,
}

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
    /// Linux's accounting of a receive buffer the application set
    /// (SO_RCVBUF, `Config::linux_rcvbuf`; then `rcv_cap` is the memory
    /// budget, sk_rcvbuf): the largest window offered (rcv_ssthresh, the
    /// SYN's window). 0: no such buffer; `u32::MAX` until the SYN's window
    /// is chosen.
    rcv_clamp: u32,
    /// Memory the receive queue holds in that accounting: its bytes and
    /// each segment's overhead ([`SKB_OVERHEAD`]).
    rcv_mem: u32,
    /// The peer's segment size as measured on arrival (Linux's
    /// icsk_ack.rcv_mss, tcp_measure_rcv_mss); 0 before any data.
    rcv_mss_seen: u16,
    chrono: Chrono,
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
    /// RFC 5482's user timeout (TCP_USER_TIMEOUT), if set.
    pub(crate) user_timeout: Option<Duration>,
    /// When the first retransmission since the last progress left
    /// (Linux's retrans_stamp): the user timeout counts from here.
    rtx_stamp: Option<Instant>,
    persist_backoff: u32,
    /// The zero-window probe byte went out before: sending it again is a
    /// retransmission.
    probe_sent: bool,
    /// SYN or SYN+ACK retransmissions (RFC 6298 §5.7, RFC 5681 §3.1).
    syn_rtx: u32,
    /// When data last left (RFC 5681 §4.1 restart after idle).
    last_send: Option<Instant>,
    /// The end of the last segment sent shorter than a full one (Linux's
    /// `snd_sml`), for Minshall's variant of Nagle.
    snd_sml: SeqNum,
    /// Retransmissions that were not the timer's.
    fast_rtx: u64,
    /// RFC 5961 §7 challenge ACK budget, per connection.
    challenge: RateLimit,
    /// A duplicate that arrived, reported first in the next SACK option
    /// (D-SACK, RFC 2883).
    dsack: Option<(SeqNum, SeqNum)>,
    /// Segments still to ACK at once (Linux's quick-ACK mode: at the
    /// start, after a duplicate segment, after a long silence).
    quick: u32,
    /// When in-order data last arrived (Linux's `lrcvtime`), to see a
    /// sender that went quiet for longer than an RTO.
    last_data_in: Option<Instant>,

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
    /// When in-order data last arrived (or the connection was established).
    last_data_rcv: Instant,
    /// Where the application's writes ended (still unacknowledged): a
    /// segment carrying one of these is pushed (`Config::linux_push`).
    push_marks: VecDeque<SeqNum>,
    /// Where the packets of new data sent ended (still unacknowledged,
    /// ascending; `Config::linux_push`): Linux keeps what it sent as one
    /// TSO packet as one skb and sends it again whole.
    pkt_ends: VecDeque<SeqNum>,
    /// Corked (`Config::cork`): `output` has work waiting for a flush.
    pub(crate) output_pending: bool,
    /// Listed in the engine's flush list.
    /// Listed in the engine's readiness list (`Engine::take_dirty`),
    /// so an engine whose readiness nobody reads holds one entry per
    /// connection, not one per segment.
    pub(crate) dirty_listed: bool,
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

/// Loss recovery and the congestion window for a sender of `smss`.
fn new_recovery(cfg: &crate::tcp::Config, smss: u32, iss: SeqNum) -> Recovery {
    let mut rec = Recovery::new(
        cfg.cc,
        cfg.rack,
        cfg.hystart,
        smss,
        initial_window(smss, cfg.initial_cwnd),
        iss,
    );
    rec.cc = rec.cc.clone().with_linux_growth(cfg.linux_cwnd_growth);
    rec.rack.reordering = cfg.reordering.max(1);
    rec
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
            rcv_clamp: 0,
            rcv_mem: 0,
            rcv_mss_seen: 0,
            chrono: Chrono::default(),
            rcv_off: 0,
            ooo: Reassembly::default(),
            fin_received: false,
            our_mss: mss_limit(cfg, &remote),
            snd_mss: default_mss(&remote),
            offer_ws: cfg.window_scaling,
            offer_ts: cfg.timestamps,
            offer_sack: cfg.sack,
            ws_enabled: false,
            snd_wscale: 0,
            rcv_wscale: 0,
            offer_wscale: wscale_for(cfg.recv_buf_max.unwrap_or(0).max(cfg.recv_buf)),
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
            rec: new_recovery(cfg, dmss, iss),
            retries: 0,
            user_timeout: cfg.user_timeout,
            rtx_stamp: None,
            persist_backoff: 0,
            probe_sent: false,
            syn_rtx: 0,
            last_send: None,
            snd_sml: iss,
            fast_rtx: 0,
            challenge: RateLimit::default(),
            dsack: None,
            quick: cfg.quickack,
            last_data_in: None,
            ack_now: false,
            dup_ack_now: false,
            dup_acks_in: 0,
            dup_acks_out: 0,
            last_dup_ack_out: Instant::ZERO,
            push_marks: VecDeque::new(),
            pkt_ends: VecDeque::new(),
            last_data_rcv: Instant::ZERO,
            output_pending: false,
            flush_listed: false,
            dirty_listed: false,
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
        bufs: SockBufs,
    ) -> Tcb {
        let mut t = Tcb::new(ctx, id, local, remote, iss, ts_offset);
        // Set before the SYN, whose window and scale they size.
        t.set_bufs(ctx, bufs);
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
        bufs: SockBufs,
    ) -> Tcb {
        let mut t = Tcb::new(ctx, id, seg.dst, seg.src, iss, ts_offset);
        t.listener = Some(seg.dst.port());
        t.state = State::Listen;
        t.set_bufs(ctx, bufs);
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
    /// The reordering degree in segments (Linux's tp->reordering).
    pub fn reordering(&self) -> u32 {
        self.rec.rack.reordering
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
    /// The MSS we advertised (Linux's tp->advmss, TCP_INFO's tcpi_advmss).
    pub fn our_mss(&self) -> u16 {
        self.our_mss
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
    /// The smoothed RTT, once there is a sample.
    pub fn srtt(&self) -> Option<Duration> {
        self.rtt.srtt()
    }
    /// Segments the peer SACKed, segments marked lost (sent again or not),
    /// and segments sent again and not yet acknowledged: Linux's
    /// sacked_out, lost_out and retrans_out.
    pub fn scoreboard_counts(&self) -> (u32, u32, u32) {
        use crate::tcp::recovery::scoreboard::SegState;
        let (mut sacked, mut lost, mut retrans) = (0, 0, 0);
        for s in self.rec.sb.iter() {
            match s.state {
                SegState::Sacked => sacked += 1,
                SegState::Lost => lost += 1,
                SegState::Retrans => {
                    lost += 1;
                    retrans += 1;
                }
                SegState::InFlight => {}
            }
        }
        (sacked, lost, retrans)
    }
    /// Microseconds the connection has been busy sending (data queued or
    /// unacknowledged), limited by the peer's window, and limited by the
    /// send buffer, up to `now`: tcp_info's tcpi_busy_time (the sum of
    /// all three, as Linux's), tcpi_rwnd_limited, tcpi_sndbuf_limited.
    pub fn chrono_times(&self, now: Instant) -> (u64, u64, u64) {
        let c = &self.chrono;
        let mut v = c.stat.map(u64::from);
        if c.kind > 0 {
            v[usize::from(c.kind) - 1] += u64::from(jiffies(now).wrapping_sub(c.start));
        }
        let v = v.map(|ms| ms * 1000);
        (v[0] + v[1] + v[2], v[1], v[2])
    }

    fn chrono_set(&mut self, now: Instant, kind: u8) {
        let t = jiffies(now);
        let c = &mut self.chrono;
        if c.kind > 0 {
            let k = usize::from(c.kind) - 1;
            c.stat[k] = c.stat[k].wrapping_add(t.wrapping_sub(c.start));
        }
        c.start = t;
        c.kind = kind;
    }

    /// Linux's tcp_chrono_start: a chronograph of higher rank takes over.
    pub(super) fn chrono_start(&mut self, now: Instant, kind: u8) {
        if kind > self.chrono.kind {
            self.chrono_set(now, kind);
        }
    }

    /// Linux's tcp_chrono_stop: nothing left to send or acknowledge stops
    /// every chronograph; else the one stopping, if it runs, gives way to
    /// busy.
    pub(super) fn chrono_stop(&mut self, now: Instant, kind: u8) {
        if self.snd_buf.is_empty() {
            self.chrono_set(now, 0);
        } else if kind == self.chrono.kind {
            self.chrono_set(now, CHRONO_BUSY);
        }
    }

    /// The peer's segment size as this side measured it (Linux's
    /// icsk_ack.rcv_mss): before any data, tcp_initialize_rcv_mss's guess
    /// (at most 536, at least 88).
    pub fn rcv_mss_measured(&self) -> u16 {
        if self.rcv_mss_seen > 0 {
            return self.rcv_mss_seen;
        }
        let wnd = (self.rcv_wnd() / 2).min(u32::from(u16::MAX)) as u16;
        self.our_mss.min(self.snd_mss).min(wnd).clamp(88, 536)
    }
    /// When in-order data last arrived, or the connection was established
    /// (Linux's icsk_ack.lrcvtime).
    pub fn last_data_rcv(&self) -> Instant {
        self.last_data_rcv
    }

    /// The window to advertise in bytes. The right edge moves only by at
    /// least min(half the buffer, one MSS) (receiver SWS avoidance, RFC 1122
    /// §4.2.3.3) and never moves left (RFC 9293 §3.8.6.2.2).
    fn window_to_advertise(&mut self) -> u32 {
        let free = self.rcv_space();
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
            if self.rcv_clamp == u32::MAX {
                self.rcv_clamp = self.linux_first_window();
            }
            // RFC 7323 §2.2: the window in a SYN is never scaled.
            let free = self.rcv_space().min(65535);
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

    /// The free receive space the window may offer: the buffer less what
    /// waits in it, or with Linux's accounting (`rcv_clamp`) the window
    /// [`Tcb::linux_window`] gives.
    fn rcv_space(&self) -> u32 {
        if self.rcv_clamp != 0 && self.rcv_clamp != u32::MAX {
            self.linux_window().0
        } else {
            self.rcv_cap.saturating_sub(self.rcv_buf.len()) as u32
        }
    }

    /// Linux's window for a buffer the application set, as its
    /// __tcp_select_window computes it, with every segment's memory counted
    /// as its bytes and [`SKB_OVERHEAD`] (so the measured len/truesize
    /// ratio is taken as whole): the free memory, at most rcv_ssthresh,
    /// rounded down to the peer's segment size when the window is not
    /// scaled; nothing when under a sixteenth of the buffer or a segment is
    /// free. The flag: under half the buffer is free (Linux then leaves
    /// quick-ACK mode).
    fn linux_window(&self) -> (u32, bool) {
        let full = self.rcv_cap as u32;
        let mss = u32::from(self.rcv_mss_seen).max(1);
        let free = full.saturating_sub(self.rcv_mem);
        let short = free < full / 2;
        if short && (free < full / 16 || free < mss) {
            return (0, short);
        }
        let free = free.min(self.rcv_clamp);
        let w = if self.rcv_wscale == 0 {
            free - free % mss
        } else {
            free
        };
        (w, short)
    }

    /// The first window for a buffer the application set, as Linux's
    /// tcp_select_initial_window chooses it (it becomes rcv_ssthresh): half
    /// the buffer (tcp_full_space at the default scaling ratio of 50 %),
    /// rounded down to our segment size, at most 65535.
    fn linux_first_window(&self) -> u32 {
        let ts = if self.ts_enabled { 12 } else { 0 };
        let mss = u32::from(self.our_mss).saturating_sub(ts).max(1);
        let full = (self.rcv_cap / 2) as u32;
        let space = if full > mss { full - full % mss } else { full };
        space.clamp(1, 65535)
    }

    /// The buffers an application set on the socket (SO_SNDBUF,
    /// SO_RCVBUF). A receive buffer set before the SYN also sizes the
    /// window scale offered: with `Config::linux_rcvbuf` for half of it
    /// (Linux's tcp_select_initial_window clamps the scale to
    /// tcp_full_space when the buffer is locked), else for all of it.
    pub(crate) fn set_bufs(&mut self, ctx: &Ctx, bufs: SockBufs) {
        if let Some(n) = bufs.snd {
            self.snd_cap = n as usize;
            self.dirty = true;
        }
        let Some(n) = bufs.rcv else {
            return;
        };
        let before_syn = matches!(self.state, State::Closed | State::Listen);
        if ctx.cfg.linux_rcvbuf {
            if before_syn {
                self.rcv_clamp = u32::MAX;
                self.offer_wscale = wscale_for(n as usize / 2);
            } else if self.rcv_clamp == 0 {
                // Set on a connection whose window came from the default:
                // that window is the clamp.
                self.rcv_clamp = self.rcv_space().max(1);
                self.rcv_mem = self.rcv_buf.len() as u32;
            }
        } else if before_syn {
            self.offer_wscale = wscale_for(ctx.cfg.recv_buf_max.unwrap_or(0).max(n as usize));
        }
        self.rcv_cap = n as usize;
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
        self.snd_mss = peer_mss.min(mss_limit(ctx.cfg, &self.remote));
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
        self.rec = new_recovery(ctx.cfg, smss, self.iss);
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

    // ----- events for the TCB panel ----------------------------------------

    pub(crate) fn emit_vars(&mut self, ctx: &mut Ctx) {
        // Also once more as the connection closes, so the values at close
        // are the last ones shown (the ACK of a FIN in LAST-ACK moves
        // SND.UNA as it frees the TCB).
        let at_close = self.state == State::Closed && self.last_vars.is_some();
        if !self.state.is_synchronized() && self.state != State::SynReceived && !at_close {
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
/// `len` bytes from `off` on, into `out` (emptied first: a buffer from the
/// pool).
fn ring_range(ring: &VecDeque<u8>, off: usize, len: usize, mut out: Vec<u8>) -> Vec<u8> {
    let (a, b) = ring.as_slices();
    out.clear();
    out.reserve(len);
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
