//! The UI's picture of the world, built from events and nothing else.
//!
//! Pure: no terminal, no clock, no driver. [`Model::ingest`] takes events in
//! the order they happened; the render modules read the result. Memory is
//! bounded (see [`Limits`]): old ladder entries and old closed connections
//! are evicted first.

pub mod conn;
pub mod ladder;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use crate::event::{
    AbortReason, Body, Dir, Event, FaultSegEvent, KeepaliveAction, RuleAction, SegFields,
    TcbAction, TimerAction,
};
use crate::fault::HOLD_ALL_RULE;
use crate::tcp::{SeqNum, State};

pub use conn::{Armed, Conn, ConnKey, KeepaliveView, Rtt, Side, TcbInfo, Transition, Verdict};
pub use ladder::{Arrow, Burst, Entry, EntryKind, Fate, Mark, Seg, Slot};

use conn::{split_conn, timer_index};
use ladder::other;

/// How much history the model keeps. The defaults are what the README
/// promises; tests shrink them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Rows in the connection list (listeners included).
    pub rows: usize,
    /// Ladder entries per connection.
    pub entries_per_conn: usize,
    /// Ladder entries over all connections.
    pub entries_total: usize,
    /// A closed connection stays listed this many timeline seconds…
    pub closed_linger: f64,
    /// …or while it is among this many most recently closed.
    pub closed_keep: usize,
    /// Lines of the global log (app messages without a connection, info,
    /// rule changes) and of the narration history.
    pub log: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rows: 20_000,
            entries_per_conn: 5_000,
            entries_total: 200_000,
            closed_linger: 60.0,
            closed_keep: 16,
            log: 1_000,
        }
    }
}

/// A segment waiting in the injector.
#[derive(Clone, Debug, PartialEq)]
pub struct Held {
    pub id: u64,
    pub dir: Dir,
    pub row: Option<u64>,
    pub label: String,
    pub t: f64,
}

/// What the fault bar shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Active rules, as the injector writes them.
    pub rules: Vec<Box<str>>,
    pub hold_all: bool,
    pub held: Vec<Held>,
    /// Injected drops (rule or loss), by direction from the injector's side.
    pub dropped_in: u64,
    pub dropped_out: u64,
    /// Drops for other reasons (`checksum`, `malformed`, …).
    pub other_drops: BTreeMap<Box<str>, u64>,
    /// delay / duplicate / reorder / corrupt counts.
    pub actions: BTreeMap<Box<str>, u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Narration {
    pub t: f64,
    pub text: Box<str>,
    pub lang: Box<str>,
    /// The ladder entry it explains: (row, entry seq).
    pub target: Option<(u64, u64)>,
    /// 1-based position among the narrations seen.
    pub index: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LogLine {
    pub t: f64,
    pub host: Option<Arc<str>>,
    pub text: Box<str>,
}

pub struct Model {
    two_hosts: bool,
    limits: Limits,
    rows: BTreeMap<u64, Conn>,
    by_key: HashMap<ConnKey, u64>,
    next_row: u64,
    /// (row, entry seq) in insertion order, for evicting the oldest entries.
    fifo: VecDeque<(u64, u64)>,
    total_entries: usize,
    pub faults: Faults,
    pub narration: Option<Narration>,
    pub narrations: VecDeque<Narration>,
    narration_count: u32,
    pub log: VecDeque<LogLine>,
    /// The latest `t` seen.
    pub latest_t: f64,
    /// Events a consumer lost (from `lagged` events).
    pub lagged: u64,
    pub events_seen: u64,
    /// The row the person is looking at: never evicted.
    pub pinned: Option<u64>,
    /// The last entry an event created or changed (for narration targets).
    last_touch: Option<(u64, u64)>,
    /// The row the current event went to, to keep `closed` up to date.
    touched_row: Option<u64>,
    /// Closed rows and when they closed: pruning looks only at these.
    closed: HashMap<u64, f64>,
    /// `latest_t` at the last prune.
    pruned_at: f64,
}

impl Model {
    /// `two_hosts`: both ends are tcpscope engines (demo), so a segment's
    /// `out` and `in` events are one arrow and an unanswered `out` is in
    /// flight; otherwise (live) each event is its own arrow.
    pub fn new(two_hosts: bool) -> Model {
        Model::with_limits(two_hosts, Limits::default())
    }

    pub fn with_limits(two_hosts: bool, limits: Limits) -> Model {
        Model {
            two_hosts,
            limits,
            rows: BTreeMap::new(),
            by_key: HashMap::new(),
            next_row: 1,
            fifo: VecDeque::new(),
            total_entries: 0,
            faults: Faults::default(),
            narration: None,
            narrations: VecDeque::new(),
            narration_count: 0,
            log: VecDeque::new(),
            latest_t: 0.0,
            lagged: 0,
            events_seen: 0,
            pinned: None,
            last_touch: None,
            touched_row: None,
            closed: HashMap::new(),
            pruned_at: f64::NEG_INFINITY,
        }
    }

    /// Forget everything (the driver rewound its timeline).
    pub fn reset(&mut self) {
        *self = Model::with_limits(self.two_hosts, self.limits);
    }

    pub fn two_hosts(&self) -> bool {
        self.two_hosts
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Rows, oldest first.
    pub fn conns(&self) -> impl DoubleEndedIterator<Item = &Conn> {
        self.rows.values()
    }

    pub fn conn(&self, id: u64) -> Option<&Conn> {
        self.rows.get(&id)
    }

    pub fn conn_count(&self) -> usize {
        self.rows.len()
    }

    pub fn total_entries(&self) -> usize {
        self.total_entries
    }

    /// The row a host's connection string belongs to now.
    pub fn find(&self, conn: &str) -> Option<&Conn> {
        self.by_key
            .get(&ConnKey::of(conn))
            .and_then(|id| self.rows.get(id))
    }

    pub fn ingest_all(&mut self, events: impl IntoIterator<Item = Event>) {
        for e in events {
            self.ingest(e);
        }
    }

    pub fn ingest(&mut self, e: Event) {
        self.events_seen += 1;
        self.touched_row = None;
        if e.t.is_finite() && e.t > self.latest_t {
            self.latest_t = e.t;
        }
        let t = e.t;
        let host = e.host.clone();
        match e.body {
            Body::Segment(s) => {
                let Some(conn) = e.conn else {
                    return self.note_log(
                        t,
                        host,
                        format!(
                            "segment without a connection: {}",
                            ladder::flag_words(s.seg.flags)
                        ),
                    );
                };
                self.on_segment(
                    t,
                    host,
                    conn,
                    s.dir,
                    s.seg,
                    (s.retransmit, s.rtx, s.probe, s.dup_ack),
                );
            }
            Body::Drop(d) => {
                if d.reason.is_injected() {
                    match d.dir {
                        Dir::In => self.faults.dropped_in += 1,
                        Dir::Out => self.faults.dropped_out += 1,
                    }
                } else {
                    *self
                        .faults
                        .other_drops
                        .entry(d.reason.name().into())
                        .or_insert(0) += 1;
                }
                match (e.conn, d.seg) {
                    (Some(conn), Some(seg)) => {
                        let fate = Fate::Dropped {
                            reason: d.reason,
                            rule: d.rule.map(String::into_boxed_str),
                            at: t,
                        };
                        let touched = self.touch_arrow(t, host, &conn, d.dir, seg, fate);
                        if let Some((row, _)) = touched
                            && let Some(c) = self.rows.get_mut(&row)
                        {
                            c.drops += 1;
                        }
                    }
                    _ => self.note_log(
                        t,
                        host,
                        format!(
                            "dropped an unparsable packet ({}, {})",
                            d.dir.name(),
                            d.reason.name()
                        ),
                    ),
                }
            }
            Body::Hold(h) => self.on_hold(t, host, e.conn, h),
            Body::Release(h) => self.on_release(t, host, e.conn, h),
            Body::Fault(f) => {
                *self
                    .faults
                    .actions
                    .entry(f.action.name().into())
                    .or_insert(0) += 1;
                if let Some(conn) = e.conn {
                    let two = self.two_hosts;
                    let fate = if two { Fate::InFlight } else { Fate::Delivered };
                    if let Some((row, seq)) = self.touch_arrow(t, host, &conn, f.dir, f.seg, fate)
                        && let Some(EntryKind::Arrow(a)) = self
                            .rows
                            .get_mut(&row)
                            .and_then(|c| c.entry_mut(seq))
                            .map(|en| &mut en.kind)
                    {
                        a.faults.push(f.action);
                    }
                }
            }
            Body::State { from, to, cause } => {
                let Some(conn) = e.conn else { return };
                let starts = matches!(from, State::Closed | State::Listen) && to != State::Closed;
                let (row, slot) = self.row_for(t, host.as_deref(), &conn, starts);
                let c = self.rows.get_mut(&row).expect("row_for returns a live row");
                let side = side_mut(c, slot, &host, &conn);
                side.state = Some(to);
                side.last = Some(Transition {
                    from,
                    to,
                    cause: cause.clone().into_boxed_str(),
                    t,
                });
                if to == State::Closed && from != State::Closed {
                    side.closed_at.get_or_insert(t);
                } else if to != State::Closed {
                    side.closed_at = None;
                }
                if to == State::Listen {
                    c.listener = true;
                }
                self.push_entry(
                    row,
                    t,
                    host,
                    EntryKind::Mark {
                        slot: Some(slot),
                        mark: Mark::State {
                            from,
                            to,
                            cause: cause.into_boxed_str(),
                        },
                    },
                );
            }
            Body::Timer(te) => {
                let Some(conn) = e.conn else { return };
                let (row, slot) = self.row_for(t, host.as_deref(), &conn, false);
                let c = self.rows.get_mut(&row).expect("live row");
                let side = side_mut(c, slot, &host, &conn);
                let i = timer_index(te.timer);
                let keepalive = te.timer == crate::event::TimerKind::Keepalive;
                match te.action {
                    TimerAction::Armed => {
                        side.timers[i] =
                            te.deadline.filter(|d| d.is_finite()).map(|deadline| Armed {
                                deadline,
                                armed_at: t,
                                backoff: te.backoff,
                            });
                        if keepalive {
                            side.keepalive.on = true;
                            if side.keepalive.probe > 0
                                && let Some(d) = te.deadline
                            {
                                side.keepalive.interval.get_or_insert(d - t);
                            }
                        }
                    }
                    TimerAction::Cancelled => side.timers[i] = None,
                    TimerAction::Fired => {
                        side.timers[i] = None;
                        self.push_entry(
                            row,
                            t,
                            host,
                            EntryKind::Mark {
                                slot: Some(slot),
                                mark: Mark::TimerFired { timer: te.timer },
                            },
                        );
                    }
                }
            }
            Body::Keepalive(k) => {
                let Some(conn) = e.conn else { return };
                let (row, slot) = self.row_for(t, host.as_deref(), &conn, false);
                let c = self.rows.get_mut(&row).expect("live row");
                let side = side_mut(c, slot, &host, &conn);
                let ka = &mut side.keepalive;
                match k.action {
                    KeepaliveAction::Enabled => {
                        *ka = KeepaliveView {
                            on: true,
                            idle: k.idle,
                            interval: k.interval,
                            probe: 0,
                            of: k.of,
                            verdict: None,
                        };
                    }
                    KeepaliveAction::Disabled => {
                        ka.on = false;
                        ka.probe = 0;
                        ka.verdict = None;
                    }
                    KeepaliveAction::ProbeSent => {
                        ka.on = true;
                        ka.probe = k.probe;
                        ka.of = k.of;
                        ka.verdict = None;
                        // The probe went out just before this event: mark it.
                        let probe = (k.probe, k.of);
                        let found = c
                            .ladder
                            .iter_mut()
                            .rev()
                            .take(8)
                            .find_map(|en| match &mut en.kind {
                                EntryKind::Arrow(a) if a.from == slot && a.sent == Some(t) => {
                                    Some(a)
                                }
                                _ => None,
                            });
                        if let Some(a) = found {
                            a.probe = Some(probe);
                            a.dup_ack = None;
                            c.last_ack[slot] = None;
                        }
                    }
                    KeepaliveAction::Answered => {
                        ka.of = k.of.max(ka.of);
                        ka.probe = 0;
                        ka.verdict = Some(Verdict::Answered { probe: k.probe, t });
                        self.push_entry(
                            row,
                            t,
                            host,
                            EntryKind::Mark {
                                slot: Some(slot),
                                mark: Mark::Keepalive {
                                    alive: true,
                                    probe: k.probe,
                                    of: k.of,
                                },
                            },
                        );
                    }
                    KeepaliveAction::Dead => {
                        ka.probe = k.probe;
                        ka.of = k.of;
                        ka.verdict = Some(Verdict::Dead { probes: k.probe, t });
                        self.push_entry(
                            row,
                            t,
                            host,
                            EntryKind::Mark {
                                slot: Some(slot),
                                mark: Mark::Keepalive {
                                    alive: false,
                                    probe: k.probe,
                                    of: k.of,
                                },
                            },
                        );
                    }
                }
            }
            Body::Rtt {
                sample,
                srtt,
                rttvar,
                rto,
            } => {
                let Some(conn) = e.conn else { return };
                let (row, slot) = self.row_for(t, host.as_deref(), &conn, false);
                let c = self.rows.get_mut(&row).expect("live row");
                side_mut(c, slot, &host, &conn).rtt = Some(Rtt {
                    sample,
                    srtt,
                    rttvar,
                    rto,
                });
            }
            Body::Tcb(tcb) => {
                let Some(conn) = e.conn else { return };
                let allocated = tcb.action == TcbAction::Allocated;
                let (row, slot) = self.row_for(t, host.as_deref(), &conn, allocated);
                let c = self.rows.get_mut(&row).expect("live row");
                let side = side_mut(c, slot, &host, &conn);
                let info = TcbInfo {
                    send_buf: tcb.send_buf,
                    recv_buf: tcb.recv_buf,
                    port: tcb.port,
                    table: tcb.table,
                    freed: tcb.freed.map(String::into_boxed_str),
                    t,
                };
                let buffers = crate::ui::units::kib((tcb.send_buf + tcb.recv_buf) as u64);
                let text = if allocated {
                    format!("TCB allocated: {buffers} buffers, port {}", tcb.port)
                } else {
                    format!("TCB freed: {buffers} buffers, port {}", tcb.port)
                };
                let detail = if allocated {
                    format!(
                        "TCB allocated: {} send and {} receive buffers, local port {}; {} connection{} in the table.",
                        crate::ui::units::kib(tcb.send_buf as u64),
                        crate::ui::units::kib(tcb.recv_buf as u64),
                        tcb.port,
                        tcb.table,
                        if tcb.table == 1 { "" } else { "s" }
                    )
                } else {
                    format!(
                        "Freed: {}. {} connection{} left in the table.",
                        info.freed.as_deref().unwrap_or("buffers and port released"),
                        tcb.table,
                        if tcb.table == 1 { "" } else { "s" }
                    )
                };
                if allocated {
                    side.allocated = Some(info);
                    side.freed = None;
                    side.closed_at = None;
                } else {
                    side.freed = Some(info);
                    side.closed_at.get_or_insert(t);
                }
                self.push_entry(
                    row,
                    t,
                    host,
                    EntryKind::Mark {
                        slot: Some(slot),
                        mark: Mark::Tcb {
                            allocated,
                            text: text.into_boxed_str(),
                            detail: detail.into_boxed_str(),
                        },
                    },
                );
            }
            Body::Abort { reason } => {
                let Some(conn) = e.conn else { return };
                let (row, slot) = self.row_for(t, host.as_deref(), &conn, false);
                let c = self.rows.get_mut(&row).expect("live row");
                let side = side_mut(c, slot, &host, &conn);
                if reason == AbortReason::ResetReceived && side.keepalive.probe > 0 {
                    side.keepalive.verdict = Some(Verdict::Reset { t });
                }
                side.abort = Some(reason.clone());
                self.push_entry(
                    row,
                    t,
                    host,
                    EntryKind::Mark {
                        slot: Some(slot),
                        mark: Mark::Abort { reason },
                    },
                );
            }
            Body::App {
                service,
                msg,
                request,
            } => {
                let text = match request {
                    Some(n) => format!("{msg} (request {n})"),
                    None if service == "scenario" => msg,
                    None => format!("{service}: {msg}"),
                };
                self.note(t, host, e.conn, text);
            }
            Body::Narration {
                lang,
                text,
                explains,
            } => {
                self.narration_count += 1;
                let target = explains.as_deref().and_then(|ex| self.target_of(ex));
                let n = Narration {
                    t,
                    text: text.into_boxed_str(),
                    lang: lang.into_boxed_str(),
                    target,
                    index: self.narration_count,
                };
                self.narrations.push_back(n.clone());
                while self.narrations.len() > self.limits.log {
                    self.narrations.pop_front();
                }
                self.narration = Some(n);
            }
            Body::Negotiated(n) => {
                let Some(conn) = e.conn else { return };
                let (row, slot) = self.row_for(t, host.as_deref(), &conn, false);
                let c = self.rows.get_mut(&row).expect("live row");
                // ws_rcv scales the windows this host sends, ws_snd the peer's.
                c.wscale[slot] = n.ws_rcv;
                c.wscale[other(slot)] = n.ws_snd;
                side_mut(c, slot, &host, &conn).negotiated = Some(n);
            }
            Body::Vars(v) => {
                let Some(conn) = e.conn else { return };
                let (row, slot) = self.row_for(t, host.as_deref(), &conn, false);
                let c = self.rows.get_mut(&row).expect("live row");
                side_mut(c, slot, &host, &conn).vars = Some(v);
            }
            Body::Burst(b) => {
                let Some(conn) = e.conn else { return };
                let (row, slot) = self.row_for(t, host.as_deref(), &conn, false);
                let from = if b.dir == Dir::Out { slot } else { other(slot) };
                if let Some(c) = self.rows.get_mut(&row) {
                    c.bytes[from] += b.bytes;
                }
                self.push_entry(
                    row,
                    b.since,
                    host,
                    EntryKind::Burst(Burst {
                        from,
                        segments: b.segments,
                        bytes: b.bytes,
                        seq_from: b.seq_from,
                        seq_to: b.seq_to,
                        ack_to: b.ack_to,
                        since: b.since,
                    }),
                );
            }
            Body::Rule { action, rule } => {
                let hold_all = rule == HOLD_ALL_RULE;
                match action {
                    RuleAction::Added => {
                        if hold_all {
                            self.faults.hold_all = true;
                        }
                        self.faults.rules.push(rule.clone().into_boxed_str());
                    }
                    _ => {
                        if hold_all {
                            self.faults.hold_all = false;
                        }
                        if let Some(i) = self.faults.rules.iter().position(|r| **r == *rule) {
                            self.faults.rules.remove(i);
                        }
                    }
                }
                let verb = action.name().replace('_', " ");
                self.note_log(t, host, format!("fault rule {verb}: {rule}"));
            }
            Body::Limit {
                what,
                limit,
                detail,
            } => {
                let text = match detail {
                    Some(d) => format!("limit reached: {} ({limit}): {d}", what.name()),
                    None => format!("limit reached: {} ({limit})", what.name()),
                };
                self.note(t, host, e.conn, text);
            }
            Body::Recovery(r) => {
                // Ranges relative to the sender's ISN, as the ladder shows
                // sequence numbers by default.
                let isn = e.conn.as_ref().and_then(|conn| {
                    let (row, slot) = self.row_for(t, host.as_deref(), conn, false);
                    self.rows.get(&row).and_then(|c| c.isn[slot])
                });
                self.note(t, host, e.conn, recovery_text(&r, isn));
            }
            Body::Lagged { lost } => {
                self.lagged += lost;
                self.note_log(t, host, format!("the UI fell behind: {lost} events lost"));
            }
            Body::Info { msg } => self.note_log(t, host, msg),
        }
        if let Some(id) = self.touched_row
            && let Some(c) = self.rows.get(&id)
        {
            match c.closed_at() {
                Some(at) => {
                    self.closed.insert(id, at);
                }
                None => {
                    self.closed.remove(&id);
                }
            }
        }
        // Pruning sorts the closed rows: do it once a timeline second, or
        // sooner when many have piled up.
        let over = self.closed.len() > self.limits.closed_keep;
        let due = self.latest_t - self.pruned_at >= 1.0
            || self.closed.len() > self.limits.closed_keep + 256;
        if over && due {
            self.prune();
        }
    }

    // ----- segments -----------------------------------------------------------

    fn on_segment(
        &mut self,
        t: f64,
        host: Option<Arc<str>>,
        conn: Arc<str>,
        dir: Dir,
        fields: SegFields,
        (retransmit, rtx, tlp, marked_dup): (
            bool,
            Option<crate::event::RtxCause>,
            bool,
            Option<u32>,
        ),
    ) {
        let syn_only = fields.flags == crate::wire::Flags::SYN;
        let (row, slot) = self.row_for(t, host.as_deref(), &conn, syn_only);
        let from = if dir == Dir::Out { slot } else { other(slot) };
        let two = self.two_hosts;
        let c = self.rows.get_mut(&row).expect("live row");
        side_mut(c, slot, &host, &conn);
        c.last_t = t;
        // The other half of a transmission we already drew: complete it.
        if let Some(&seq) = c.by_id.get(&fields.id)
            && let Some(en) = c.entry_mut(seq)
            && let EntryKind::Arrow(a) = &mut en.kind
            && a.from == from
        {
            match dir {
                Dir::In => {
                    if a.arrived.is_some() {
                        a.copies += 1;
                    } else {
                        a.arrived = Some(t);
                    }
                    if !matches!(a.fate, Fate::Dropped { .. }) {
                        a.fate = Fate::Delivered;
                    }
                    if marked_dup.is_some() {
                        a.dup_ack = marked_dup;
                    }
                }
                Dir::Out => {
                    a.sent.get_or_insert(t);
                }
            }
            self.last_touch = Some((row, seq));
            return;
        }
        let seg = Seg::from_fields(fields);
        if seg.flags.syn() {
            c.isn[from] = Some(seg.seq);
        }
        if !retransmit {
            c.bytes[from] += u64::from(seg.len);
        } else {
            c.retransmits += 1;
        }
        let dup_ack = marked_dup.or(dup_ack(c, from, &seg));
        let fate = if dir == Dir::In || !two {
            Fate::Delivered
        } else {
            Fate::InFlight
        };
        let arrow = Arrow {
            from,
            sent: (dir == Dir::Out).then_some(t),
            arrived: (dir == Dir::In).then_some(t),
            seg,
            retransmit,
            rtx,
            tlp,
            dup_ack,
            probe: None,
            fate,
            faults: Vec::new(),
            copies: 0,
        };
        let id = arrow.seg.id;
        let seq = self.push_entry(row, t, host, EntryKind::Arrow(Box::new(arrow)));
        if let Some(c) = self.rows.get_mut(&row) {
            c.by_id.insert(id, seq);
        }
    }

    /// Find the arrow of this segment (by id) and set its fate, or draw a new
    /// arrow for a segment seen only here (a drop or hold before any
    /// `segment` event).
    fn touch_arrow(
        &mut self,
        t: f64,
        host: Option<Arc<str>>,
        conn: &Arc<str>,
        dir: Dir,
        fields: SegFields,
        fate: Fate,
    ) -> Option<(u64, u64)> {
        let (row, slot) = self.row_for(t, host.as_deref(), conn, false);
        let from = if dir == Dir::Out { slot } else { other(slot) };
        let c = self.rows.get_mut(&row)?;
        c.last_t = t;
        if let Some(&seq) = c.by_id.get(&fields.id)
            && let Some(en) = c.entry_mut(seq)
            && let EntryKind::Arrow(a) = &mut en.kind
            && a.from == from
        {
            a.fate = fate;
            self.last_touch = Some((row, seq));
            return Some((row, seq));
        }
        let seg = Seg::from_fields(fields);
        if seg.flags.syn() {
            c.isn[from].get_or_insert(seg.seq);
        }
        let id = seg.id;
        let arrow = Arrow {
            from,
            sent: None,
            arrived: None,
            seg,
            retransmit: false,
            rtx: None,
            tlp: false,
            dup_ack: None,
            probe: None,
            fate,
            faults: Vec::new(),
            copies: 0,
        };
        let seq = self.push_entry(row, t, host, EntryKind::Arrow(Box::new(arrow)));
        let c = self.rows.get_mut(&row)?;
        c.by_id.insert(id, seq);
        Some((row, seq))
    }

    fn on_hold(
        &mut self,
        t: f64,
        host: Option<Arc<str>>,
        conn: Option<Arc<str>>,
        h: FaultSegEvent,
    ) {
        let label = format!(
            "{} {}",
            ladder::flag_words(h.seg.flags),
            if h.dir == Dir::In { "in" } else { "out" }
        );
        let id = h.seg.id;
        let row = match conn {
            Some(conn) => self
                .touch_arrow(t, host, &conn, h.dir, h.seg, Fate::Held { at: t })
                .map(|(r, _)| r),
            None => None,
        };
        self.faults.held.push(Held {
            id,
            dir: h.dir,
            row,
            label,
            t,
        });
    }

    fn on_release(
        &mut self,
        t: f64,
        host: Option<Arc<str>>,
        conn: Option<Arc<str>>,
        h: FaultSegEvent,
    ) {
        if let Some(i) = self.faults.held.iter().position(|x| x.id == h.seg.id) {
            self.faults.held.remove(i);
        }
        if let Some(conn) = conn {
            // Live, a released outbound segment goes to the kernel: we will
            // never see it arrive. Everything else reports its arrival.
            let fate = if self.two_hosts || h.dir == Dir::In {
                Fate::InFlight
            } else {
                Fate::Delivered
            };
            self.touch_arrow(t, host, &conn, h.dir, h.seg, fate);
        }
    }

    // ----- rows ---------------------------------------------------------------

    /// The lifeline a host draws on: client left, server right (demo); the
    /// stack right and its peer left (live).
    fn slot_for(c: &Conn, host: Option<&str>) -> Slot {
        match host {
            Some("client") => 0,
            Some("server") => 1,
            h => {
                for (i, s) in c.present() {
                    if Some(&*s.host) == h {
                        return i;
                    }
                }
                if c.sides[1].is_none() { 1 } else { 0 }
            }
        }
    }

    /// The row for a host's connection string, creating it when needed; a
    /// closed row is replaced when `starts` (the event opens a connection on
    /// a 4-tuple that was used before).
    fn row_for(
        &mut self,
        t: f64,
        host: Option<&str>,
        conn: &Arc<str>,
        starts: bool,
    ) -> (u64, Slot) {
        let key = ConnKey::of(conn);
        if let Some(&id) = self.by_key.get(&key)
            && let Some(c) = self.rows.get_mut(&id)
        {
            let slot = Model::slot_for(c, host);
            // A new incarnation only when this host's own side there is
            // over: a host that never had a TCB in the row (a held SYN
            // released after the client gave up) joins it.
            let own_closed = c.side(slot).is_some_and(|s| s.had_tcb() && s.is_closed());
            let reopened = starts && own_closed && c.is_closed() && !c.listener;
            if !reopened {
                c.last_t = c.last_t.max(t);
                self.touched_row = Some(id);
                return (id, slot);
            }
        }
        let id = self.next_row;
        self.next_row += 1;
        let (local, remote) = split_conn(conn).unwrap_or((conn, "?"));
        let listener = remote == "0.0.0.0:0";
        let mut c = Conn::new(id, key.clone(), ["?".into(), "?".into()], listener, t);
        let slot = Model::slot_for(&c, host);
        c.ends[slot] = local.into();
        c.ends[other(slot)] = remote.into();
        self.rows.insert(id, c);
        self.by_key.insert(key, id);
        self.touched_row = Some(id);
        self.evict_rows();
        (id, slot)
    }

    fn push_entry(&mut self, row: u64, t: f64, host: Option<Arc<str>>, kind: EntryKind) -> u64 {
        let Some(c) = self.rows.get_mut(&row) else {
            return 0;
        };
        let seq = c.next_seq;
        c.next_seq += 1;
        c.last_t = c.last_t.max(t);
        c.ladder.push_back(Entry { seq, t, host, kind });
        self.total_entries += 1;
        self.fifo.push_back((row, seq));
        if c.ladder.len() > self.limits.entries_per_conn {
            pop_entry(c);
            self.total_entries -= 1;
        }
        while self.total_entries > self.limits.entries_total {
            let Some((r, s)) = self.fifo.pop_front() else {
                break;
            };
            if let Some(c) = self.rows.get_mut(&r)
                && c.ladder.front().is_some_and(|e| e.seq == s)
            {
                pop_entry(c);
                self.total_entries -= 1;
            }
        }
        // Stale fifo entries (rows removed, entries evicted per connection)
        // would let it grow past its bound: compact now and then.
        if self.fifo.len() > 2 * self.limits.entries_total + 1024 {
            let rows = &self.rows;
            self.fifo.retain(|(r, s)| {
                rows.get(r)
                    .and_then(|c| c.ladder.front())
                    .is_some_and(|f| f.seq <= *s)
            });
        }
        self.last_touch = Some((row, seq));
        seq
    }

    fn remove_row(&mut self, id: u64) {
        self.closed.remove(&id);
        if let Some(c) = self.rows.remove(&id) {
            self.total_entries -= c.ladder.len();
            if self.by_key.get(&c.key) == Some(&id) {
                self.by_key.remove(&c.key);
            }
        }
    }

    /// Keep the row count within bounds: oldest closed rows go first.
    fn evict_rows(&mut self) {
        // The newest row is the one being filled in right now: never it.
        let newest = self.next_row - 1;
        while self.rows.len() > self.limits.rows {
            let spare = |id: u64| Some(id) != self.pinned && id != newest;
            let victim = self
                .closed
                .keys()
                .copied()
                .filter(|id| spare(*id))
                .min()
                .or_else(|| self.rows.keys().copied().find(|id| spare(*id)));
            match victim {
                Some(id) => self.remove_row(id),
                None => break,
            }
        }
    }

    /// Closed rows leave the list after a while (see [`Limits`]).
    fn prune(&mut self) {
        let now = self.latest_t;
        self.pruned_at = now;
        let mut closed: Vec<(f64, u64)> = self.closed.iter().map(|(id, at)| (*at, *id)).collect();
        if closed.len() <= self.limits.closed_keep {
            return;
        }
        closed.sort_by(|a, b| b.0.total_cmp(&a.0));
        let stale: Vec<u64> = closed
            .iter()
            .skip(self.limits.closed_keep)
            .filter(|(at, id)| now - at > self.limits.closed_linger && Some(*id) != self.pinned)
            .map(|(_, id)| *id)
            .collect();
        for id in stale {
            self.remove_row(id);
        }
    }

    /// A note on a connection's ladder when the event names one, else in
    /// the log.
    fn note(&mut self, t: f64, host: Option<Arc<str>>, conn: Option<Arc<str>>, text: String) {
        match conn {
            Some(conn) if split_conn(&conn).is_some() => {
                let (row, slot) = self.row_for(t, host.as_deref(), &conn, false);
                self.push_entry(
                    row,
                    t,
                    host,
                    EntryKind::Mark {
                        slot: Some(slot),
                        mark: Mark::Note {
                            text: text.into_boxed_str(),
                        },
                    },
                );
            }
            _ => self.note_log(t, host, text),
        }
    }

    fn note_log(&mut self, t: f64, host: Option<Arc<str>>, text: String) {
        self.log.push_back(LogLine {
            t,
            host,
            text: text.into_boxed_str(),
        });
        while self.log.len() > self.limits.log {
            self.log.pop_front();
        }
    }

    /// The ladder entry a narration's `explains` event drew.
    fn target_of(&self, ex: &Event) -> Option<(u64, u64)> {
        let conn = ex.conn.as_deref()?;
        let row = *self.by_key.get(&ConnKey::of(conn))?;
        let c = self.rows.get(&row)?;
        let id = match &ex.body {
            Body::Segment(s) => Some(s.seg.id),
            Body::Drop(d) => d.seg.as_ref().map(|s| s.id),
            Body::Hold(h) | Body::Release(h) => Some(h.seg.id),
            Body::Fault(f) => Some(f.seg.id),
            _ => None,
        };
        if let Some(id) = id {
            return c.by_id.get(&id).map(|s| (row, *s));
        }
        // Anything else: the narration follows its event directly, so the
        // entry that event produced is the last one touched in that row.
        match self.last_touch {
            Some((r, s)) if r == row => Some((r, s)),
            _ => c.ladder.back().map(|e| (row, e.seq)),
        }
    }
}

fn side_mut<'a>(
    c: &'a mut Conn,
    slot: Slot,
    host: &Option<Arc<str>>,
    conn: &Arc<str>,
) -> &'a mut Side {
    c.sides[slot]
        .get_or_insert_with(|| Side::new(host.clone().unwrap_or_else(|| "?".into()), conn.clone()))
}

fn pop_entry(c: &mut Conn) {
    if let Some(e) = c.ladder.pop_front() {
        c.evicted += 1;
        if let EntryKind::Arrow(a) = &e.kind
            && c.by_id.get(&a.seg.id) == Some(&e.seq)
        {
            c.by_id.remove(&a.seg.id);
        }
    }
}

/// RFC 5681 §2 guessed from the ladder: a duplicate ACK carries no data and
/// no SYN/FIN, acknowledges what the previous ACK did with the same window,
/// while the other side has data outstanding. Returns the count so far (1
/// for the first duplicate).
///
/// The engine marks an arriving duplicate ACK itself (`dup_ack` on the
/// `segment in` event, judged against its SND.UNA and outstanding data),
/// and that mark wins. This guess stays for what carries no mark: a
/// segment's `out` event (in demo it comes before the receiver's `in`;
/// live, the receiver is the kernel), segments that never arrive, and
/// recordings made before the field existed. An absent mark cannot tell
/// those from "not a duplicate", so the guess also stands where the engine
/// would have said no.
fn dup_ack(c: &mut Conn, from: Slot, seg: &Seg) -> Option<u32> {
    if !seg.is_pure_ack() {
        c.last_ack[from] = None;
        return None;
    }
    let outstanding = c
        .ladder
        .iter()
        .rev()
        .take(256)
        .filter_map(|e| e.arrow())
        .find(|a| a.from == other(from) && a.seg.seg_len() > 0)
        .is_some_and(|a| SeqNum(a.seg.seq) + a.seg.seg_len() > SeqNum(seg.ack));
    match c.last_ack[from] {
        Some((s, a, w, n)) if s == seg.seq && a == seg.ack && w == seg.win && outstanding => {
            c.last_ack[from] = Some((s, a, w, n + 1));
            Some(n + 1)
        }
        _ => {
            c.last_ack[from] = Some((seg.seq, seg.ack, seg.win, 0));
            None
        }
    }
}

#[cfg(test)]
mod tests;

/// One line for a `recovery` event on the lifeline.
fn recovery_text(r: &crate::event::RecoveryEvent, isn: Option<u32>) -> String {
    use crate::event::RecoveryAction as A;
    let by = r.by.map(|b| b.name()).unwrap_or("");
    let rel = |x: &str| -> String {
        match (isn, x.parse::<u32>()) {
            (Some(i), Ok(v)) => v.wrapping_sub(i).to_string(),
            _ => x.to_string(),
        }
    };
    let ranges: String = r
        .ranges
        .iter()
        .map(|x| match x.split_once('-') {
            Some((a, b)) => format!(" {}:{}", rel(a), rel(b)),
            None => format!(" {x}"),
        })
        .collect();
    let w = format!(
        "cwnd {} ssthresh {} pipe {}",
        r.cwnd,
        ssthresh_text(r.ssthresh),
        r.pipe
    );
    match r.action {
        A::Enter => format!(
            "loss found by {by}: {} begins, lost{ranges}; {w}",
            r.state.name()
        ),
        A::Mark => format!("marked lost by {by}:{ranges}; {w}"),
        A::Exit => format!("recovery over: {}; {w}", r.state.name()),
        A::Undo => format!(
            "spurious retransmission ({}): window restored; {w}",
            r.how.as_deref().unwrap_or("?")
        ),
        A::Probe => format!("tail loss probe{ranges}"),
        A::Reduce => format!("the probe repaired a tail loss: window reduced once; {w}"),
    }
}

fn ssthresh_text(s: u32) -> String {
    if s == u32::MAX {
        "∞".into()
    } else {
        s.to_string()
    }
}
