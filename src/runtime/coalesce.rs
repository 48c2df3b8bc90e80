//! Bulk-transfer coalescing: keeps the event rate something a person (and a
//! terminal) can follow.
//!
//! The rule (also in docs/live.md, The runtime):
//! - Per connection, count `segment` events in both directions. While fewer
//!   than [`Coalescer::THRESHOLD`] segments fell in the last second, every
//!   segment is its own event.
//! - Above that rate, runs of *ordinary* segments become one `burst` event
//!   per direction: in-order data segments (seq = the end of the previous
//!   one), ACKs that move the acknowledgment forward, and window updates
//!   that neither go to nor come from a zero window. The `timer` and `rtt`
//!   events that come with them are absorbed; the last of each kind (per
//!   timer) is emitted after the burst, so panels stay current.
//! - `vars` while a burst is open are rate-limited, not absorbed (the graph
//!   plots cwnd, pipe and ssthresh over time): one passes when at least
//!   [`Coalescer::VARS_EVERY`] of the events' timeline has gone by since the
//!   connection's last emitted `vars`, and one whose `cc_state` differs from
//!   the connection's previous `vars` passes at once; the others are
//!   absorbed, and the last of them is emitted after the burst. (A `vars`
//!   that passes comes before the burst its segments are folded into.)
//! - Never coalesced: SYN, FIN, RST, URG, ECE/CWR, retransmissions,
//!   out-of-order data, the first three duplicate ACKs of a run (the
//!   fast-retransmit signal, RFC 5681 §3.2; later ones in the same run are
//!   folded), windows to or from zero, and every other kind of event (`drop`, `state`, `abort`,
//!   `keepalive`, `app`, …). Such an event first flushes the connection's
//!   open bursts, so the order of the stream is kept.
//! - An arriving duplicate ACK is what the engine says it is (`dup_ack` on
//!   the `segment in` event: RFC 5681 §2, outstanding data included). The
//!   engine's own ACKs carry no such mark (whether the peer counts one
//!   depends on the peer's outstanding data): an outgoing ACK that repeats
//!   the previous one, acknowledgment and window, counts.
//! - A burst is emitted at the latest [`Coalescer::MAX_AGE`] after its first
//!   segment, or [`Coalescer::IDLE`] after its last one.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use crate::event::{Body, BurstEvent, CaState, Dir, Event, SegmentEvent, TimerKind};
use crate::tcp::SeqNum;
use crate::wire::Flags;

fn slot(d: Dir) -> usize {
    match d {
        Dir::In => 0,
        Dir::Out => 1,
    }
}

#[derive(Default)]
struct ConnState {
    host: Option<Arc<str>>,
    recent: VecDeque<f64>,
    bursts: [Option<BurstEvent>; 2],
    last_t: [f64; 2],
    next_seq: [Option<u32>; 2],
    last_ack: [Option<u32>; 2],
    last_win: [Option<u16>; 2],
    /// Outgoing ACKs that repeat the previous one, in a row (see the
    /// module's rule; arriving ones carry the engine's count).
    dupacks: [u32; 2],
    /// Absorbed events, the latest per key, in first-absorbed order.
    absorbed: Vec<(AbsorbKey, Event)>,
    /// When the last `vars` went out, and the `cc_state` of the last one
    /// seen (emitted or not).
    vars_out: Option<f64>,
    last_cc: Option<CaState>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AbsorbKey {
    Vars,
    Rtt,
    Timer(TimerKind),
}

impl ConnState {
    fn has_burst(&self) -> bool {
        self.bursts.iter().any(Option::is_some)
    }
}

#[derive(Default)]
pub struct Coalescer {
    conns: HashMap<Arc<str>, ConnState>,
    /// Connections with an open burst, and connections whose last
    /// THRESHOLD + 1 segments are on record (the only ones that can be
    /// hot). Kept so that the per-round checks never walk every connection:
    /// with many short connections in TIME-WAIT that walk cost more than
    /// the stack.
    open: HashSet<Arc<str>>,
    busy: HashSet<Arc<str>>,
    /// Segments folded into bursts so far (for the run summary).
    pub coalesced: u64,
    /// When [`Coalescer::sweep`] next looks for quiet connections.
    next_sweep: f64,
}

impl Coalescer {
    /// Segments per second per connection above which bursts start.
    pub const THRESHOLD: usize = 300;
    pub const WINDOW: f64 = 1.0;
    pub const MAX_AGE: f64 = 0.5;
    pub const IDLE: f64 = 0.1;
    /// Duplicate ACKs of a run that stay single events.
    pub const DUPACKS_SHOWN: u32 = 3;
    /// While a burst is open, at most one `vars` per this many seconds of
    /// the events' timeline per connection (a change of `cc_state` always
    /// passes).
    pub const VARS_EVERY: f64 = 0.02;

    pub fn new() -> Coalescer {
        Coalescer::default()
    }

    /// Take one event; whatever is ready to go out is appended to `out`.
    pub fn push(&mut self, ev: Event, out: &mut Vec<Event>) {
        let Some(conn) = ev.conn.clone() else {
            out.push(ev);
            return;
        };
        match &ev.body {
            Body::Segment(s) if s.gro.is_some() => self.push_gro(ev, conn, out),
            Body::Segment(s) => {
                let st = self.conns.entry(conn.clone()).or_default();
                if st.host.is_none() {
                    st.host = ev.host.clone();
                }
                let hot = Self::note_rate(st, ev.t);
                if st.recent.len() > Self::THRESHOLD && !self.busy.contains(&conn) {
                    self.busy.insert(conn.clone());
                }
                let ordinary = Self::ordinary(st, s);
                Self::track(st, s);
                if hot && ordinary {
                    Self::add(st, ev.t, s);
                    self.coalesced += 1;
                    if !self.open.contains(&conn) {
                        self.open.insert(conn.clone());
                    }
                } else {
                    if st.has_burst() {
                        Self::flush(st, &conn, out);
                        self.open.remove(&conn);
                    }
                    out.push(ev);
                }
            }
            Body::Vars(v) => {
                let st = self.conns.entry(conn).or_default();
                let changed = st.last_cc.is_some_and(|c| c != v.cc_state);
                st.last_cc = Some(v.cc_state);
                let due = st.vars_out.is_none_or(|o| ev.t - o >= Self::VARS_EVERY);
                if st.has_burst() && !changed && !due {
                    if let Some(slot) = st.absorbed.iter_mut().find(|(k, _)| *k == AbsorbKey::Vars)
                    {
                        slot.1 = ev;
                    } else {
                        st.absorbed.push((AbsorbKey::Vars, ev));
                    }
                } else {
                    // Whatever was absorbed is older than this one.
                    st.absorbed.retain(|(k, _)| *k != AbsorbKey::Vars);
                    st.vars_out = Some(ev.t);
                    out.push(ev);
                }
            }
            Body::Timer(_) | Body::Rtt { .. } => {
                let key = match &ev.body {
                    Body::Timer(t) => AbsorbKey::Timer(t.timer),
                    _ => AbsorbKey::Rtt,
                };
                match self.conns.get_mut(&conn) {
                    Some(st) if st.has_burst() => {
                        if let Some(slot) = st.absorbed.iter_mut().find(|(k, _)| *k == key) {
                            slot.1 = ev;
                        } else {
                            st.absorbed.push((key, ev));
                        }
                    }
                    _ => out.push(ev),
                }
            }
            other => {
                let freed =
                    matches!(other, Body::Tcb(t) if t.action == crate::event::TcbAction::Freed);
                if let Some(st) = self.conns.get_mut(&conn)
                    && st.has_burst()
                {
                    Self::flush(st, &conn, out);
                    self.open.remove(&conn);
                }
                out.push(ev);
                if freed {
                    self.conns.remove(&conn);
                    self.busy.remove(&conn);
                }
            }
        }
    }

    /// A `segment` event that stands for several wire segments (receive
    /// offload, see `SegmentEvent::gro`): folded whole into the burst when
    /// each of its wire segments would have been (the connection is hot and
    /// it is ordinary in-order data), else handed on as those segments, one
    /// event each, so the stream never shows more than a wire segment.
    fn push_gro(&mut self, ev: Event, conn: Arc<str>, out: &mut Vec<Event>) {
        let Body::Segment(s) = &ev.body else {
            unreachable!("push_gro is given segment events")
        };
        let segs = s.gro.map_or(1, |g| g.segs.max(1));
        let st = self.conns.entry(conn.clone()).or_default();
        // What `note_rate` would say of its first wire segment.
        let hot = st.recent.len() >= Self::THRESHOLD
            && st
                .recent
                .get(st.recent.len() - Self::THRESHOLD)
                .is_some_and(|f| ev.t - f < Self::WINDOW);
        if !(hot && Self::ordinary(st, s)) {
            for w in s.wire_segments() {
                let e = Event {
                    t: ev.t,
                    host: ev.host.clone(),
                    conn: Some(conn.clone()),
                    body: Body::Segment(w),
                };
                self.push(e, out);
            }
            return;
        }
        if st.host.is_none() {
            st.host = ev.host.clone();
        }
        for _ in 0..segs.min(Self::THRESHOLD as u32 + 1) {
            Self::note_rate(st, ev.t);
        }
        if st.recent.len() > Self::THRESHOLD && !self.busy.contains(&conn) {
            self.busy.insert(conn.clone());
        }
        Self::track(st, s);
        Self::add(st, ev.t, s);
        if let Some(b) = st.bursts[slot(s.dir)].as_mut() {
            // `add` counted one.
            b.segments += segs - 1;
        }
        self.coalesced += u64::from(segs);
        if !self.open.contains(&conn) {
            self.open.insert(conn);
        }
    }

    /// Record a segment at `t`; whether the connection is above the rate.
    fn note_rate(st: &mut ConnState, t: f64) -> bool {
        st.recent.push_back(t);
        while st.recent.len() > Self::THRESHOLD + 1 {
            st.recent.pop_front();
        }
        st.recent.len() > Self::THRESHOLD && st.recent.front().is_some_and(|f| t - f < Self::WINDOW)
    }

    fn ordinary(st: &ConnState, s: &SegmentEvent) -> bool {
        let d = slot(s.dir);
        let f = s.seg.flags;
        let allowed = Flags::ACK | Flags::PSH;
        if !f.ack() || f.0 & !allowed.0 != 0 || s.retransmit {
            return false;
        }
        if s.seg.win == 0 || st.last_win[d] == Some(0) {
            return false;
        }
        if s.seg.len > 0 {
            return st.next_seq[d].is_none_or(|n| n == s.seg.seq);
        }
        // Moves the acknowledgment forward, or updates the window.
        let moves = |a: u32| SeqNum(s.seg.ack) > SeqNum(a) || st.last_win[d] != Some(s.seg.win);
        match s.dir {
            Dir::In => match s.dup_ack {
                Some(n) => n > Self::DUPACKS_SHOWN,
                None => st.last_ack[d].is_none_or(moves),
            },
            Dir::Out => {
                st.last_ack[d].is_none_or(|a| moves(a) || st.dupacks[d] >= Self::DUPACKS_SHOWN)
            }
        }
    }

    fn track(st: &mut ConnState, s: &SegmentEvent) {
        let d = slot(s.dir);
        let dup = s.seg.len == 0
            && s.seg.flags.ack()
            && !s.seg.flags.intersects(Flags::SYN | Flags::FIN | Flags::RST)
            && st.last_ack[d] == Some(s.seg.ack)
            && st.last_win[d] == Some(s.seg.win);
        st.dupacks[d] = if dup { st.dupacks[d] + 1 } else { 0 };
        let end = SeqNum(s.seg.seq) + s.seg.len;
        if s.seg.len > 0 && st.next_seq[d].is_none_or(|n| end > SeqNum(n)) {
            st.next_seq[d] = Some(end.0);
        }
        if s.seg.flags.ack() && st.last_ack[d].is_none_or(|a| SeqNum(a) <= SeqNum(s.seg.ack)) {
            st.last_ack[d] = Some(s.seg.ack);
        }
        st.last_win[d] = Some(s.seg.win);
    }

    fn add(st: &mut ConnState, t: f64, s: &SegmentEvent) {
        let d = slot(s.dir);
        let end = s.seg.seq.wrapping_add(s.seg.len);
        let b = st.bursts[d].get_or_insert(BurstEvent {
            dir: s.dir,
            segments: 0,
            bytes: 0,
            seq_from: s.seg.seq,
            seq_to: s.seg.seq,
            ack_to: s.seg.ack,
            since: t,
        });
        b.segments += 1;
        b.bytes += u64::from(s.seg.len);
        if s.seg.len > 0 {
            if b.bytes == u64::from(s.seg.len) {
                b.seq_from = s.seg.seq;
            }
            b.seq_to = end;
        }
        b.ack_to = s.seg.ack;
        st.last_t[d] = t;
    }

    fn flush(st: &mut ConnState, conn: &Arc<str>, out: &mut Vec<Event>) {
        let mut open: Vec<(f64, usize)> = (0..2)
            .filter_map(|d| st.bursts[d].as_ref().map(|b| (b.since, d)))
            .collect();
        open.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (_, d) in open {
            if let Some(b) = st.bursts[d].take() {
                out.push(Event {
                    t: st.last_t[d],
                    host: st.host.clone(),
                    conn: Some(conn.clone()),
                    body: Body::Burst(b),
                });
            }
        }
        for (k, e) in st.absorbed.drain(..) {
            if k == AbsorbKey::Vars {
                st.vars_out = Some(e.t);
            }
            out.push(e);
        }
    }

    /// When a burst must be emitted even if nothing else happens (seconds on
    /// the events' timeline).
    pub fn poll_at(&self) -> Option<f64> {
        self.open
            .iter()
            .filter_map(|c| self.conns.get(c))
            .flat_map(|st| {
                (0..2).filter_map(move |d| {
                    st.bursts[d]
                        .as_ref()
                        .map(|b| (b.since + Self::MAX_AGE).min(st.last_t[d] + Self::IDLE))
                })
            })
            .min_by(f64::total_cmp)
    }

    /// Emit the bursts that are old or idle at `now`.
    pub fn tick(&mut self, now: f64, out: &mut Vec<Event>) {
        self.sweep(now);
        let conns = &mut self.conns;
        self.open.retain(|conn| {
            let Some(st) = conns.get_mut(conn) else {
                return false;
            };
            let due = (0..2).any(|d| {
                st.bursts[d].as_ref().is_some_and(|b| {
                    now >= b.since + Self::MAX_AGE || now >= st.last_t[d] + Self::IDLE
                })
            });
            if due {
                Self::flush(st, conn, out);
            }
            !due
        });
    }

    /// Forget, at most once per [`Coalescer::WINDOW`], the connections
    /// quiet for longer than the window with nothing open or absorbed: such
    /// a connection is below the rate until THRESHOLD new segments have
    /// rebuilt its record, so nothing it emits changes, and an idle
    /// connection costs the coalescer nothing (docs/benchmarks.md, Memory
    /// per idle connection).
    fn sweep(&mut self, now: f64) {
        if now < self.next_sweep {
            return;
        }
        self.next_sweep = now + Self::WINDOW;
        self.any_hot(now);
        let busy = &self.busy;
        self.conns.retain(|c, st| {
            st.has_burst()
                || !st.absorbed.is_empty()
                || busy.contains(c)
                || st.recent.back().is_some_and(|t| now - t < Self::WINDOW)
        });
    }

    /// Whether any connection is above the rate at `now` (the runtime then
    /// stops asking the engine for per-segment hex dumps that would only be
    /// folded away).
    pub fn any_hot(&mut self, now: f64) -> bool {
        let conns = &self.conns;
        // A connection whose last THRESHOLD segments span more than the
        // window is cold until it gets busy again.
        self.busy.retain(|c| {
            conns
                .get(c)
                .is_some_and(|st| st.recent.front().is_some_and(|f| now - f < Self::WINDOW))
        });
        !self.busy.is_empty()
    }

    /// Emit everything (end of the run).
    pub fn flush_all(&mut self, out: &mut Vec<Event>) {
        for conn in self.open.drain() {
            if let Some(st) = self.conns.get_mut(&conn) {
                Self::flush(st, &conn, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{SegFields, TimerAction, TimerEvent};

    const C: &str = "10.77.0.2:9<->10.77.0.1:4000";

    fn seg(t: f64, dir: Dir, flags: Flags, seq: u32, ack: u32, len: u32, win: u16) -> Event {
        Event {
            t,
            host: Some("tcpscope".into()),
            conn: Some(C.into()),
            body: Body::Segment(SegmentEvent {
                dir,
                seg: SegFields {
                    id: 0,
                    flags,
                    seq,
                    ack,
                    len,
                    win,
                    opts: crate::event::Opts::default(),
                    hdr: None,
                },
                retransmit: false,
                rtx: None,
                probe: false,
                dup_ack: None,
                analysis: Vec::new(),
                segs: None,
                gro: None,
            }),
        }
    }

    fn kinds(v: &[Event]) -> Vec<&'static str> {
        v.iter().map(Event::kind).collect()
    }

    /// A bulk transfer: data in, ACK out, `n` times, 1 ms apart.
    fn bulk(c: &mut Coalescer, out: &mut Vec<Event>, start: f64, n: u32) -> f64 {
        bulk_from(c, out, start, 0..n)
    }

    /// [`bulk`] from its `i`th segment on.
    fn bulk_from(
        c: &mut Coalescer,
        out: &mut Vec<Event>,
        start: f64,
        segs: std::ops::Range<u32>,
    ) -> f64 {
        let mut t = start;
        for i in segs {
            c.push(
                seg(t, Dir::In, Flags::ACK, 1000 + i * 100, 1, 100, 500),
                out,
            );
            c.push(
                Event {
                    t,
                    host: None,
                    conn: Some(C.into()),
                    body: Body::Timer(TimerEvent {
                        timer: TimerKind::DelayedAck,
                        action: TimerAction::Armed,
                        deadline: Some(t + 0.2),
                        backoff: None,
                    }),
                },
                out,
            );
            c.push(seg(t, Dir::Out, Flags::ACK, 1, 1100 + i * 100, 0, 500), out);
            t += 0.001;
        }
        t
    }

    /// A receive-offload event: `segs` wire segments of 100 bytes from
    /// `seq`, the last one PSH.
    fn gro(t: f64, seq: u32, segs: u32) -> Event {
        let mut e = seg(
            t,
            Dir::In,
            Flags::ACK | Flags::PSH,
            seq,
            1,
            segs * 100 - 40,
            500,
        );
        if let Body::Segment(s) = &mut e.body {
            s.seg.id = 7;
            s.gro = Some(crate::event::Gro { segs, size: 100 });
        }
        e
    }

    #[test]
    fn a_quiet_connection_is_forgotten_and_what_follows_is_unchanged() {
        // Two coalescers see the same two bulk runs 3 s apart; one never
        // sweeps. The sweeping one keeps no state for the quiet connection,
        // and both emit the same events.
        let run = |c: &mut Coalescer| {
            let mut out = Vec::new();
            let t = bulk(c, &mut out, 0.0, 400);
            c.tick(t + 1.0, &mut out);
            c.tick(t + 2.5, &mut out);
            let quiet = c.conns.len();
            bulk_from(c, &mut out, t + 3.0, 400..800);
            c.flush_all(&mut out);
            (quiet, out)
        };
        let mut sweeping = Coalescer::new();
        let mut keeping = Coalescer::new();
        keeping.next_sweep = f64::INFINITY;
        let (forgotten, a) = run(&mut sweeping);
        let (kept, b) = run(&mut keeping);
        assert_eq!((forgotten, kept), (0, 1));
        assert_eq!(a.len(), b.len());
        let json = |v: &[Event]| {
            v.iter()
                .map(|e| serde_json::to_string(e).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(json(&a), json(&b));
        assert!(
            sweeping.coalesced > 500,
            "both runs were hot: {}",
            sweeping.coalesced
        );
    }

    #[test]
    fn an_aggregate_on_a_quiet_connection_goes_out_as_its_wire_segments() {
        let mut c = Coalescer::new();
        let mut out = Vec::new();
        c.push(gro(0.5, 1000, 3), &mut out);
        let got: Vec<(u64, u32, u32, Flags)> = out
            .iter()
            .map(|e| {
                let s = e.segment().expect("segment events");
                assert_eq!(s.gro, None);
                (s.seg.id, s.seg.seq, s.seg.len, s.seg.flags)
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (7, 1000, 100, Flags::ACK),
                (9, 1100, 100, Flags::ACK),
                (11, 1200, 60, Flags::ACK | Flags::PSH),
            ]
        );
        assert_eq!(c.coalesced, 0);
    }

    #[test]
    fn an_aggregate_on_a_hot_connection_is_folded_as_its_wire_segments() {
        let mut c = Coalescer::new();
        let mut out = Vec::new();
        let t = bulk(&mut c, &mut out, 0.0, 400);
        let before = c.coalesced;
        out.clear();
        c.push(gro(t, 1000 + 400 * 100, 45), &mut out);
        assert!(out.is_empty(), "folded: {:?}", kinds(&out));
        assert_eq!(c.coalesced, before + 45);
        c.flush_all(&mut out);
        let b = out
            .iter()
            .find_map(|e| match &e.body {
                Body::Burst(b) if b.dir == Dir::In => Some(b.clone()),
                _ => None,
            })
            .expect("the burst in");
        assert_eq!(b.segments, 250 + 45);
        assert_eq!(b.seq_to, 1000 + 400 * 100 + 45 * 100 - 40);
        // Out of order: handed on as wire segments; the first one passes
        // (out-of-order data is never folded), the second continues it and
        // is folded as any in-order segment would be.
        out.clear();
        let before = c.coalesced;
        c.push(gro(t + 0.001, 900_000, 2), &mut out);
        assert_eq!(kinds(&out), vec!["segment"]);
        assert_eq!(out[0].segment().unwrap().seg.seq, 900_000);
        assert_eq!(c.coalesced, before + 1);
    }

    #[test]
    fn slow_traffic_is_never_coalesced() {
        let mut c = Coalescer::new();
        let mut out = Vec::new();
        for i in 0..100 {
            c.push(
                seg(
                    f64::from(i) * 0.01,
                    Dir::In,
                    Flags::ACK,
                    1000 + i * 10,
                    1,
                    10,
                    500,
                ),
                &mut out,
            );
        }
        assert_eq!(out.len(), 100);
        assert!(out.iter().all(|e| e.kind() == "segment"));
        assert_eq!(c.poll_at(), None);
    }

    #[test]
    fn fast_in_order_data_and_acks_become_bursts() {
        let mut c = Coalescer::new();
        let mut out = Vec::new();
        let t = bulk(&mut c, &mut out, 0.0, 1000);
        // The first 300 segments (150 data + 150 ACKs) plus their timers
        // pass one by one; after that everything is folded.
        let segs = out.iter().filter(|e| e.kind() == "segment").count();
        assert_eq!(segs, Coalescer::THRESHOLD);
        // Bursts were emitted every MAX_AGE only when ticked; nothing yet.
        assert!(!kinds(&out).contains(&"burst"));
        let due = c.poll_at().unwrap();
        assert!(due <= t);
        out.clear();
        // A FIN flushes both bursts first, then the absorbed timer, then the FIN.
        c.push(
            seg(
                t,
                Dir::In,
                Flags::FIN | Flags::ACK,
                1000 + 1000 * 100,
                1,
                0,
                500,
            ),
            &mut out,
        );
        assert_eq!(kinds(&out), vec!["burst", "burst", "timer", "segment"]);
        let Body::Burst(b_in) = &out[0].body else {
            panic!()
        };
        assert_eq!(b_in.dir, Dir::In);
        assert_eq!(b_in.segments, 1000 - 150);
        assert_eq!(b_in.bytes, 850 * 100);
        assert_eq!(b_in.seq_from, 1000 + 150 * 100);
        assert_eq!(b_in.seq_to, 1000 + 1000 * 100);
        let Body::Burst(b_out) = &out[1].body else {
            panic!()
        };
        assert_eq!(b_out.dir, Dir::Out);
        assert_eq!(b_out.segments, 850);
        assert_eq!(b_out.ack_to, 1100 + 999 * 100);
        assert_eq!(c.coalesced, 1700);
    }

    #[test]
    fn exceptions_pass_and_tick_emits() {
        let mut c = Coalescer::new();
        let mut out = Vec::new();
        let t = bulk(&mut c, &mut out, 0.0, 400);
        out.clear();
        // Out-of-order data, a retransmission, a dup ACK, a zero window.
        c.push(seg(t, Dir::In, Flags::ACK, 999_999, 1, 100, 500), &mut out);
        assert_eq!(kinds(&out), vec!["burst", "burst", "timer", "segment"]);
        out.clear();
        let mut rtx = seg(t, Dir::In, Flags::ACK, 1000 + 400 * 100, 1, 100, 500);
        if let Body::Segment(s) = &mut rtx.body {
            s.retransmit = true;
        }
        c.push(rtx, &mut out);
        c.push(
            seg(t, Dir::Out, Flags::ACK, 1, 1100 + 399 * 100, 0, 500),
            &mut out,
        );
        c.push(
            seg(t, Dir::Out, Flags::ACK, 1, 1100 + 400 * 100, 0, 0),
            &mut out,
        );
        c.push(
            seg(t, Dir::Out, Flags::ACK, 1, 1100 + 401 * 100, 0, 500),
            &mut out,
        );
        assert_eq!(kinds(&out), vec!["segment"; 4]);
        out.clear();
        // A run of duplicate ACKs, as the engine marks them: the first
        // three stand alone, the rest fold.
        for n in 1..=10 {
            let mut e = seg(t, Dir::In, Flags::ACK, 7, 1, 0, 500);
            if let Body::Segment(s) = &mut e.body {
                s.dup_ack = Some(n);
            }
            c.push(e, &mut out);
        }
        assert_eq!(
            kinds(&out),
            vec!["segment"; 3],
            "three duplicates stand alone"
        );
        out.clear();
        c.flush_all(&mut out);
        assert_eq!(kinds(&out), vec!["burst"]);
        let Body::Burst(b) = &out[0].body else {
            panic!()
        };
        assert_eq!((b.segments, b.bytes), (7, 0));
        out.clear();
        // Back to ordinary: a burst opens, then tick emits it when idle.
        c.push(
            seg(t, Dir::Out, Flags::ACK, 1, 1100 + 402 * 100, 0, 500),
            &mut out,
        );
        assert!(out.is_empty());
        let due = c.poll_at().unwrap();
        assert!((due - (t + Coalescer::IDLE)).abs() < 1e-9);
        c.tick(due, &mut out);
        assert_eq!(kinds(&out), vec!["burst"]);
        assert_eq!(c.poll_at(), None);
    }

    #[test]
    fn arriving_duplicates_are_the_engines_word_outgoing_ones_repeat() {
        // Arriving ACKs that repeat without the engine's mark (nothing of
        // ours outstanding) are not duplicates: never folded.
        let mut c = Coalescer::new();
        let mut out = Vec::new();
        let t = bulk(&mut c, &mut out, 0.0, 400);
        out.clear();
        for _ in 0..6 {
            c.push(seg(t, Dir::In, Flags::ACK, 7, 1, 0, 500), &mut out);
        }
        assert_eq!(
            kinds(&out),
            ["burst", "burst", "timer"]
                .iter()
                .copied()
                .chain(["segment"; 6])
                .collect::<Vec<_>>()
        );
        // Our own ACKs: a repeat counts; three stand alone, the rest fold.
        out.clear();
        for _ in 0..6 {
            c.push(
                seg(t, Dir::Out, Flags::ACK, 1, 1100 + 399 * 100, 0, 500),
                &mut out,
            );
        }
        assert_eq!(kinds(&out), vec!["segment"; 3]);
    }

    fn vars(t: f64, cwnd: u32, cc_state: CaState) -> Event {
        Event {
            t,
            host: None,
            conn: Some(C.into()),
            body: Body::Vars(crate::event::VarsEvent {
                snd_una: 1,
                snd_nxt: 1,
                snd_wnd: 65535,
                rcv_nxt: 1,
                rcv_wnd: 65535,
                cwnd,
                ssthresh: u32::MAX,
                phase: crate::event::Phase::SlowStart,
                unsent: 0,
                in_flight: 0,
                retransmits: 0,
                fast_retransmits: 0,
                pipe: 0,
                sacked: 0,
                lost: 0,
                cc_state,
                cc: None,
                reo_wnd_mult: None,
            }),
        }
    }

    /// (kind, t, cwnd) of each event: cwnd only for `vars`.
    fn shown(v: &[Event]) -> Vec<(&'static str, f64, Option<u32>)> {
        v.iter()
            .map(|e| {
                let cwnd = match &e.body {
                    Body::Vars(v) => Some(v.cwnd),
                    _ => None,
                };
                (e.kind(), e.t, cwnd)
            })
            .collect()
    }

    #[test]
    fn without_a_burst_every_vars_passes() {
        let mut c = Coalescer::new();
        let mut out = Vec::new();
        for i in 0..5 {
            c.push(vars(f64::from(i) * 0.001, i, CaState::Open), &mut out);
        }
        assert_eq!(
            shown(&out),
            (0..5)
                .map(|i| ("vars", f64::from(i) * 0.001, Some(i)))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn vars_under_a_burst_pass_every_20ms_on_a_cc_change_and_last() {
        let mut c = Coalescer::new();
        let mut out = Vec::new();
        let t = bulk(&mut c, &mut out, 0.0, 400);
        out.clear();
        assert!(c.poll_at().is_some(), "a burst is open");
        let ins = [
            (0.000, 1, CaState::Open),     // the first: passes
            (0.005, 2, CaState::Open),     // absorbed
            (0.010, 3, CaState::Open),     // absorbed, replaces 2
            (0.020, 4, CaState::Open),     // 20 ms after 1: passes, 3 dropped
            (0.025, 5, CaState::Open),     // absorbed
            (0.026, 6, CaState::Recovery), // cc_state changed: passes at once
            (0.027, 7, CaState::Recovery), // absorbed
            (0.030, 8, CaState::Recovery), // absorbed, replaces 7
        ];
        for (dt, cwnd, cc) in ins {
            c.push(vars(t + dt, cwnd, cc), &mut out);
        }
        assert_eq!(
            shown(&out),
            vec![
                ("vars", t, Some(1)),
                ("vars", t + 0.020, Some(4)),
                ("vars", t + 0.026, Some(6)),
            ]
        );
        out.clear();
        // The flush: the bursts, the absorbed timer, then the last `vars`.
        c.flush_all(&mut out);
        let k: Vec<_> = shown(&out).into_iter().map(|(k, _, w)| (k, w)).collect();
        assert_eq!(
            k,
            vec![
                ("burst", None),
                ("burst", None),
                ("timer", None),
                ("vars", Some(8))
            ]
        );
        assert_eq!(out[3].t, t + 0.030);
        out.clear();
        // The flushed one counts as emitted: 20 ms from it, not from 6.
        c.push(
            seg(t + 0.031, Dir::Out, Flags::ACK, 1, 1100 + 400 * 100, 0, 500),
            &mut out,
        );
        assert!(out.is_empty());
        assert!(c.poll_at().is_some(), "still hot: a burst is open again");
        c.push(vars(t + 0.045, 9, CaState::Recovery), &mut out);
        c.push(vars(t + 0.049, 10, CaState::Recovery), &mut out);
        assert!(out.is_empty(), "within 20 ms of the flushed one");
        c.push(vars(t + 0.0501, 11, CaState::Recovery), &mut out);
        c.push(vars(t + 0.1, 12, CaState::Open), &mut out);
        assert_eq!(
            shown(&out),
            vec![("vars", t + 0.0501, Some(11)), ("vars", t + 0.1, Some(12))]
        );
    }
}
