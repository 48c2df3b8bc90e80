//! [`Model::ingest`]: one handler per kind of event.
//!
//! Events about a connection share a prelude ([`Model::place`]): the row the
//! connection string belongs to (created when needed) and the reporting
//! host's lifeline on it. A handler returns `None` when the event names no
//! connection although its kind needs one: nothing changed, so there is
//! nothing to keep up to date afterwards.

use std::sync::Arc;

use crate::event::{
    AbortReason, Body, Dir, DropEvent, Event, FaultActionEvent, FaultSegEvent, KeepaliveAction,
    KeepaliveEvent, LimitKind, NegotiatedEvent, RecoveryAction, RecoveryEvent, RuleAction,
    SegFields, SegmentEvent, TcbAction, TcbEvent, TimerAction, TimerEvent, TimerKind,
};
use crate::fault::HOLD_ALL_RULE;
use crate::tcp::{SeqNum, State};
use crate::wire::Flags;

use super::conn::timer_index;
use super::conn::{
    Armed, Conn, HostView, KeepaliveVerdict, KeepaliveView, Rtt, TcbInfo, Transition,
};
use super::ladder::{self, Arrow, Burst, EntryKind, Fate, Mark, Note, Seg, Slot, other};
use super::{Held, Model, Narration, side_mut};

/// Who reported an event, when, and about which connection: what every
/// handler needs besides the event's body.
struct Head {
    t: f64,
    host: Option<Arc<str>>,
    conn: Option<Arc<str>>,
}

/// Where an event about a connection lands: its row, and the reporting
/// host's lifeline on it.
struct Place {
    conn: Arc<str>,
    row: u64,
    slot: Slot,
}

impl Model {
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
        let h = Head {
            t: e.t,
            host: e.host,
            conn: e.conn,
        };
        if self.dispatch(h, e.body).is_some() {
            self.after_event();
        }
    }

    /// The handler of the event's kind; `None` when the event names no
    /// connection although its kind needs one.
    fn dispatch(&mut self, h: Head, body: Body) -> Option<()> {
        match body {
            Body::Segment(s) => self.on_segment(h, s)?,
            Body::Drop(d) => self.on_drop(h, d),
            Body::Hold(x) => self.on_hold(h, x),
            Body::Release(x) => self.on_release(h, x),
            Body::Fault(f) => self.on_fault(h, f),
            Body::State {
                from,
                to,
                cause,
                inferred,
                lasted: _,
            } => self.on_state(h, from, to, cause, inferred)?,
            Body::Timer(te) => self.on_timer(h, te)?,
            Body::Keepalive(k) => self.on_keepalive(h, k)?,
            Body::Rtt {
                sample,
                srtt,
                rttvar,
                rto,
            } => {
                let rtt = Rtt {
                    sample,
                    srtt,
                    rttvar,
                    rto,
                };
                self.on_side(h, |s| s.rtt = Some(rtt))?
            }
            Body::Tcb(tcb) => self.on_tcb(h, tcb)?,
            Body::Abort { reason } => self.on_abort(h, reason)?,
            Body::App {
                service,
                msg,
                request,
            } => {
                let note = Note::App {
                    service: service.into_boxed_str(),
                    msg: msg.into_boxed_str(),
                    request,
                };
                self.note(h.t, h.host, h.conn, note);
            }
            Body::Narration {
                lang,
                text,
                explains,
                chapter,
            } => self.on_narration(h, lang, text, explains, chapter),
            Body::Negotiated(n) => self.on_negotiated(h, n)?,
            Body::Vars(v) => {
                let p = self.place(&h, false)?;
                self.conn_at(&p).graph.vars(p.slot, h.t, &v);
                self.on_side(h, |s| s.vars = Some(v))?
            }
            Body::Burst(b) => self.on_burst(h, b)?,
            Body::Rule { action, rule } => self.on_rule(h, action, rule),
            Body::Limit {
                what,
                limit,
                detail,
            } => self.on_limit(h, what, limit, detail),
            Body::Recovery(r) => self.on_recovery(h, r),
            Body::Lagged { lost } => {
                self.lagged += lost;
                let text = format!("the UI fell behind: {lost} events lost");
                self.note_log(h.t, h.host, text);
            }
            Body::Info { msg } => self.note_log(h.t, h.host, msg),
            Body::Speed { x } => {
                let text = format!("speed {}", crate::driver::clock::speed(x));
                self.note_log(h.t, h.host, text)
            }
        }
        Some(())
    }

    /// Keep the closed rows' list current, and prune now and then.
    fn after_event(&mut self) {
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

    // ----- the prelude --------------------------------------------------------

    /// The row of the event's connection (see `row_for` for `starts`) and
    /// the reporting host's lifeline; `None` when it names no connection.
    fn place(&mut self, h: &Head, starts: bool) -> Option<Place> {
        let conn = h.conn.clone()?;
        let (row, slot) = self.row_for(h.t, h.host.as_deref(), &conn, starts);
        Some(Place { conn, row, slot })
    }

    fn conn_at(&mut self, p: &Place) -> &mut Conn {
        self.rows
            .get_mut(&p.row)
            .expect("row_for returns a live row")
    }

    /// The reporting host's side of the row, created on first sight.
    fn side_at(&mut self, h: &Head, p: &Place) -> &mut HostView {
        let c = self.conn_at(p);
        side_mut(c, p.slot, &h.host, &p.conn)
    }

    /// A mark on the reporting host's lifeline.
    fn mark(&mut self, h: &Head, p: &Place, mark: Mark) {
        let kind = EntryKind::Mark {
            slot: Some(p.slot),
            mark,
        };
        self.push_entry(p.row, h.t, h.host.clone(), kind);
    }

    /// An event that only updates what the side panel shows.
    fn on_side(&mut self, h: Head, set: impl FnOnce(&mut HostView)) -> Option<()> {
        let p = self.place(&h, false)?;
        set(self.side_at(&h, &p));
        Some(())
    }

    // ----- segments -----------------------------------------------------------

    fn on_segment(&mut self, h: Head, s: SegmentEvent) -> Option<()> {
        if h.conn.is_none() {
            let text = format!(
                "segment without a connection: {}",
                ladder::flag_words(s.seg.flags)
            );
            self.note_log(h.t, h.host, text);
            return None;
        }
        let p = self.place(&h, s.seg.flags == Flags::SYN)?;
        let t = h.t;
        let from = if s.dir == Dir::Out {
            p.slot
        } else {
            other(p.slot)
        };
        let two = self.two_hosts;
        let c = self.conn_at(&p);
        side_mut(c, p.slot, &h.host, &p.conn);
        c.last_t = t;
        // The other half of a transmission we already drew: complete it.
        if let Some(&seq) = c.by_id.get(&s.seg.id)
            && let Some(en) = c.entry_mut(seq)
            && let EntryKind::Arrow(a) = &mut en.kind
            && a.from == from
        {
            match s.dir {
                Dir::In => {
                    if a.arrived.is_some() {
                        a.copies += 1;
                    } else {
                        a.arrived = Some(t);
                    }
                    if !matches!(a.fate, Fate::Dropped { .. }) {
                        a.fate = Fate::Delivered;
                    }
                    if s.dup_ack.is_some() {
                        a.dup_ack = s.dup_ack;
                    }
                }
                Dir::Out => {
                    a.sent.get_or_insert(t);
                }
            }
            self.last_touch = Some((p.row, seq));
            return Some(());
        }
        let seg = Seg::from_fields(s.seg);
        if seg.flags.syn() {
            c.isn[from] = Some(seg.seq);
        }
        if !s.retransmit {
            c.bytes[from] += u64::from(seg.len);
        } else {
            c.retransmits += 1;
        }
        let guessed = dup_ack(c, from, &seg);
        // A capture's analysis (Wireshark's rules) is the word on it: a
        // zero window probe's ACK is no duplicate there.
        let dup_ack = if s.analysis.is_empty() {
            s.dup_ack.or(guessed)
        } else {
            s.dup_ack
        };
        let fate = if s.dir == Dir::In || !two {
            Fate::Delivered
        } else {
            Fate::InFlight
        };
        let win = match c.wscale[from] {
            Some(ws) if !seg.flags.syn() => u32::from(seg.win) << ws,
            _ => u32::from(seg.win),
        };
        if seg.flags.ack() {
            c.graph.ack(from, t, seg.ack, win);
        }
        let fast = s
            .analysis
            .contains(&crate::event::Analysis::FastRetransmission);
        let mark = super::graph::SegMark::of(s.retransmit, s.rtx, s.probe, fast);
        c.graph.segment(from, t, seg.seq, seg.seg_len(), mark);
        let arrow = Arrow {
            from,
            sent: (s.dir == Dir::Out).then_some(t),
            arrived: (s.dir == Dir::In).then_some(t),
            seg,
            retransmit: s.retransmit,
            rtx: s.rtx,
            tlp: s.probe,
            dup_ack,
            probe: None,
            fate,
            faults: Vec::new(),
            copies: 0,
            analysis: s.analysis,
            segs: s.segs,
        };
        let id = arrow.seg.id;
        let seq = self.push_entry(p.row, t, h.host, EntryKind::Arrow(Box::new(arrow)));
        if let Some(c) = self.rows.get_mut(&p.row) {
            c.by_id.insert(id, seq);
        }
        Some(())
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
            analysis: Vec::new(),
            segs: None,
        };
        let seq = self.push_entry(row, t, host, EntryKind::Arrow(Box::new(arrow)));
        let c = self.rows.get_mut(&row)?;
        c.by_id.insert(id, seq);
        Some((row, seq))
    }

    // ----- the injector -------------------------------------------------------

    /// A `next N` rule fired (its drop, hold or fault event names it as it
    /// read before firing): the fault bar counts down with the injector.
    fn rule_fired(&mut self, rule: Option<&str>) {
        let Some(rule) = rule else { return };
        let Some((base, n)) = count_base(rule).zip(count_of(rule)) else {
            return;
        };
        if n <= 1 {
            // Its `used_up` event follows and takes it off.
            return;
        }
        if let Some(r) = self.faults.rules.iter_mut().find(|r| ***r == *rule) {
            *r = format!("{base}{COUNT_WORD}{}", n - 1).into_boxed_str();
        }
    }

    fn on_drop(&mut self, h: Head, d: DropEvent) {
        self.rule_fired(d.rule.as_deref());
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
        match (h.conn, d.seg) {
            (Some(conn), Some(seg)) => {
                let fate = Fate::Dropped {
                    reason: d.reason,
                    rule: d.rule.map(String::into_boxed_str),
                    at: h.t,
                };
                let touched = self.touch_arrow(h.t, h.host, &conn, d.dir, seg, fate);
                if let Some((row, seq)) = touched
                    && let Some(c) = self.rows.get_mut(&row)
                {
                    c.drops += 1;
                    let hit = c
                        .entry_mut(seq)
                        .and_then(|e| e.arrow())
                        .map(|a| (a.from, a.seg.seq, a.seg.seg_len()));
                    if let Some((from, sq, len)) = hit {
                        let mark = super::graph::SegMark::Dropped;
                        c.graph.segment(from, h.t, sq, len, mark);
                    }
                }
            }
            _ => {
                let text = format!(
                    "dropped an unparsable packet ({}, {})",
                    d.dir.name(),
                    d.reason.name()
                );
                self.note_log(h.t, h.host, text);
            }
        }
    }

    fn on_hold(&mut self, h: Head, x: FaultSegEvent) {
        self.rule_fired(x.rule.as_deref());
        let flags = x.seg.flags;
        let id = x.seg.id;
        let t = h.t;
        let row = match h.conn {
            Some(conn) => self
                .touch_arrow(t, h.host, &conn, x.dir, x.seg, Fate::Held { at: t })
                .map(|(r, _)| r),
            None => None,
        };
        self.faults.held.push(Held {
            id,
            dir: x.dir,
            row,
            flags,
            t,
        });
    }

    fn on_release(&mut self, h: Head, x: FaultSegEvent) {
        if let Some(i) = self.faults.held.iter().position(|y| y.id == x.seg.id) {
            self.faults.held.remove(i);
        }
        if let Some(conn) = h.conn {
            // Live, a released outbound segment goes to the kernel: we will
            // never see it arrive. Everything else reports its arrival.
            let fate = if self.two_hosts || x.dir == Dir::In {
                Fate::InFlight
            } else {
                Fate::Delivered
            };
            self.touch_arrow(h.t, h.host, &conn, x.dir, x.seg, fate);
        }
    }

    fn on_fault(&mut self, h: Head, f: FaultActionEvent) {
        self.rule_fired(f.rule.as_deref());
        *self
            .faults
            .actions
            .entry(f.action.name().into())
            .or_insert(0) += 1;
        let Some(conn) = h.conn else { return };
        let fate = if self.two_hosts {
            Fate::InFlight
        } else {
            Fate::Delivered
        };
        if let Some((row, seq)) = self.touch_arrow(h.t, h.host, &conn, f.dir, f.seg, fate)
            && let Some(EntryKind::Arrow(a)) = self
                .rows
                .get_mut(&row)
                .and_then(|c| c.entry_mut(seq))
                .map(|en| &mut en.kind)
        {
            a.faults.push(f.action);
        }
    }

    fn on_rule(&mut self, h: Head, action: RuleAction, rule: String) {
        let hold_all = rule == HOLD_ALL_RULE;
        match action {
            RuleAction::Added => {
                if hold_all {
                    self.faults.hold_all = true;
                }
                self.faults.rules.push(rule.clone().into_boxed_str());
            }
            RuleAction::Removed | RuleAction::UsedUp => {
                if hold_all {
                    self.faults.hold_all = false;
                }
                // The rule as the injector writes it now: a `next N` rule
                // counts down as it fires, so it may no longer read as it
                // did when added (events lost, or a model that began
                // late); then the first one that differs only in its count
                // (the one the injector tries first).
                let rules = &self.faults.rules;
                let i = rules.iter().position(|r| **r == *rule).or_else(|| {
                    let base = count_base(&rule)?;
                    rules.iter().position(|r| count_base(r) == Some(base))
                });
                if let Some(i) = i {
                    self.faults.rules.remove(i);
                }
            }
        }
        let verb = action.name().replace('_', " ");
        self.note_log(h.t, h.host, format!("fault rule {verb}: {rule}"));
    }

    // ----- one host's view ----------------------------------------------------

    fn on_state(
        &mut self,
        h: Head,
        from: State,
        to: State,
        cause: String,
        inferred: bool,
    ) -> Option<()> {
        let starts = matches!(from, State::Closed | State::Listen) && to != State::Closed;
        let p = self.place(&h, starts)?;
        let c = self.conn_at(&p);
        let side = side_mut(c, p.slot, &h.host, &p.conn);
        side.state = Some(to);
        side.last = Some(Transition {
            from,
            to,
            cause: cause.clone().into_boxed_str(),
            t: h.t,
            inferred,
        });
        if to == State::Closed && from != State::Closed {
            side.closed_at.get_or_insert(h.t);
        } else if to != State::Closed {
            side.closed_at = None;
        }
        if to == State::Listen {
            c.listener = true;
        }
        let cause = cause.into_boxed_str();
        let mark = Mark::State {
            from,
            to,
            cause,
            inferred,
        };
        self.mark(&h, &p, mark);
        Some(())
    }

    fn on_timer(&mut self, h: Head, te: TimerEvent) -> Option<()> {
        let p = self.place(&h, false)?;
        let t = h.t;
        let side = self.side_at(&h, &p);
        let i = timer_index(te.timer);
        match te.action {
            TimerAction::Armed => {
                side.timers[i] = te.deadline.filter(|d| d.is_finite()).map(|deadline| Armed {
                    deadline,
                    armed_at: t,
                    backoff: te.backoff,
                });
                if te.timer == TimerKind::Keepalive {
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
                self.mark(&h, &p, Mark::TimerFired { timer: te.timer });
            }
        }
        Some(())
    }

    fn on_keepalive(&mut self, h: Head, k: KeepaliveEvent) -> Option<()> {
        let p = self.place(&h, false)?;
        let t = h.t;
        let c = self.conn_at(&p);
        let ka = &mut side_mut(c, p.slot, &h.host, &p.conn).keepalive;
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
                mark_probe(c, p.slot, t, (k.probe, k.of));
            }
            KeepaliveAction::Answered | KeepaliveAction::Dead => {
                let alive = k.action == KeepaliveAction::Answered;
                if alive {
                    ka.of = k.of.max(ka.of);
                    ka.probe = 0;
                    ka.verdict = Some(KeepaliveVerdict::Answered { probe: k.probe, t });
                } else {
                    ka.probe = k.probe;
                    ka.of = k.of;
                    ka.verdict = Some(KeepaliveVerdict::Dead { probes: k.probe, t });
                }
                let (probe, of) = (k.probe, k.of);
                self.mark(&h, &p, Mark::Keepalive { alive, probe, of });
            }
        }
        Some(())
    }

    fn on_tcb(&mut self, h: Head, tcb: TcbEvent) -> Option<()> {
        let allocated = tcb.action == TcbAction::Allocated;
        let p = self.place(&h, allocated)?;
        let t = h.t;
        let side = self.side_at(&h, &p);
        let info = TcbInfo {
            send_buf: tcb.send_buf,
            recv_buf: tcb.recv_buf,
            port: tcb.port,
            table: tcb.table,
            freed: tcb.freed.map(String::into_boxed_str),
            t,
        };
        if allocated {
            side.allocated = Some(info.clone());
            side.freed = None;
            side.closed_at = None;
        } else {
            side.freed = Some(info.clone());
            side.closed_at.get_or_insert(t);
        }
        let mark = Mark::Tcb {
            allocated,
            info: Box::new(info),
        };
        self.mark(&h, &p, mark);
        Some(())
    }

    fn on_abort(&mut self, h: Head, reason: AbortReason) -> Option<()> {
        let p = self.place(&h, false)?;
        let side = self.side_at(&h, &p);
        if reason == AbortReason::ResetReceived && side.keepalive.probe > 0 {
            side.keepalive.verdict = Some(KeepaliveVerdict::Reset { t: h.t });
        }
        side.abort = Some(reason.clone());
        self.mark(&h, &p, Mark::Abort { reason });
        Some(())
    }

    fn on_negotiated(&mut self, h: Head, n: NegotiatedEvent) -> Option<()> {
        let p = self.place(&h, false)?;
        let c = self.conn_at(&p);
        // ws_rcv scales the windows this host sends, ws_snd the peer's.
        c.wscale[p.slot] = n.ws_rcv;
        c.wscale[other(p.slot)] = n.ws_snd;
        side_mut(c, p.slot, &h.host, &p.conn).negotiated = Some(n);
        Some(())
    }

    fn on_burst(&mut self, h: Head, b: crate::event::BurstEvent) -> Option<()> {
        let p = self.place(&h, false)?;
        let from = if b.dir == Dir::Out {
            p.slot
        } else {
            other(p.slot)
        };
        if let Some(c) = self.rows.get_mut(&p.row) {
            c.bytes[from] += b.bytes;
            c.graph.burst(from, b.since, h.t, b.seq_from, b.seq_to);
        }
        let burst = Burst {
            from,
            segments: b.segments,
            bytes: b.bytes,
            seq_from: b.seq_from,
            seq_to: b.seq_to,
            ack_to: b.ack_to,
            since: b.since,
        };
        self.push_entry(p.row, b.since, h.host, EntryKind::Burst(burst));
        Some(())
    }

    // ----- notes --------------------------------------------------------------

    fn on_narration(
        &mut self,
        h: Head,
        lang: String,
        text: String,
        explains: Option<Box<Event>>,
        chapter: Option<String>,
    ) {
        self.narration_count += 1;
        let target = explains.as_deref().and_then(|ex| self.target_of(ex));
        let n = Narration {
            t: h.t,
            text: text.into_boxed_str(),
            lang: lang.into_boxed_str(),
            target,
            index: self.narration_count,
            chapter: chapter.map(String::into_boxed_str),
        };
        if n.chapter.is_some() {
            self.chapter = n.chapter.clone();
        }
        self.narrations.push_back(n.clone());
        while self.narrations.len() > self.limits.log {
            self.narrations.pop_front();
        }
        self.narration = Some(n);
    }

    fn on_limit(&mut self, h: Head, what: LimitKind, limit: u64, detail: Option<String>) {
        let note = Note::Limit {
            what,
            limit,
            detail: detail.map(String::into_boxed_str),
        };
        self.note(h.t, h.host, h.conn, note);
    }

    fn on_recovery(&mut self, h: Head, r: RecoveryEvent) {
        if let Some(conn) = h.conn.as_ref() {
            let (row, slot) = self.row_for(h.t, h.host.as_deref(), conn, false);
            if let Some(c) = self.rows.get_mut(&row) {
                if matches!(r.action, RecoveryAction::Enter | RecoveryAction::Exit) {
                    c.graph
                        .recovery(slot, h.t, r.action == RecoveryAction::Enter);
                }
                if let Some(v) = c.sides[slot].as_mut().and_then(|s| s.vars.as_mut()) {
                    window_of(v, &r);
                }
            }
        }
        // Ranges relative to the sender's ISN, as the ladder shows sequence
        // numbers by default.
        let isn = h.conn.as_ref().and_then(|conn| {
            let (row, slot) = self.row_for(h.t, h.host.as_deref(), conn, false);
            self.rows.get(&row).and_then(|c| c.isn[slot])
        });
        self.note(h.t, h.host, h.conn, Note::Recovery { event: r, isn });
    }
}

/// How a rule's text ends when it is for the next N segments
/// (`drop in with-data next 3`: `fault.rs`, the rule's text form).
const COUNT_WORD: &str = " next ";

/// A `next N` rule's text without its count; `None` for other rules.
fn count_base(rule: &str) -> Option<&str> {
    let (base, n) = rule.rsplit_once(COUNT_WORD)?;
    n.parse::<u32>().ok().map(|_| base)
}

/// A `next N` rule's N.
fn count_of(rule: &str) -> Option<u32> {
    rule.rsplit_once(COUNT_WORD)?.1.parse().ok()
}

/// A keepalive probe went out just before its `probe_sent` event: mark its
/// arrow.
fn mark_probe(c: &mut Conn, slot: Slot, t: f64, probe: (u32, u32)) {
    let found = c
        .ladder
        .iter_mut()
        .rev()
        .take(8)
        .find_map(|en| match &mut en.kind {
            EntryKind::Arrow(a) if a.from == slot && a.sent == Some(t) => Some(a),
            _ => None,
        });
    if let Some(a) = found {
        a.probe = Some(probe);
        a.dup_ack = None;
        c.last_ack[slot] = None;
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

/// The congestion window a `recovery` event reports, into the TCB panel's
/// variables: its note on the ladder must not be newer than the panel,
/// and no `vars` event need follow (the connection may go quiet or close).
/// The phase follows from the window as the engine's does (RFC 5681 §3.1:
/// slow start while cwnd < ssthresh). `pipe` stays the `vars` event's:
/// without SACK the engine reckons it there otherwise than in `recovery`.
fn window_of(v: &mut crate::event::VarsEvent, r: &RecoveryEvent) {
    use crate::event::{CaState, Phase};
    v.cwnd = r.cwnd;
    v.ssthresh = r.ssthresh;
    v.cc_state = r.state;
    v.phase = match r.state {
        CaState::Recovery => Phase::FastRecovery,
        _ if r.cwnd < r.ssthresh => Phase::SlowStart,
        _ => Phase::CongestionAvoidance,
    };
}
