//! The fault injector: one place between a link and an engine where segments
//! are dropped, held, delayed, duplicated, reordered or corrupted.
//!
//! Faults are values (ARCHITECTURE.md): a [`Rule`] is a value that CLI flags,
//! scenario files and the TUI's keys all create the same way. The injector
//! sees packets in both directions from the point of view of one host (the
//! stack in live mode, the server in demo), so `in` and `out` mean the same
//! thing everywhere.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::event::{
    Body, Dir, DropEvent, DropReason, Event, FaultAction, FaultActionEvent, FaultSegEvent,
    RuleAction, SegFields,
};
use crate::i18n::Messages;
use crate::tcp::conn_name;
use crate::time::Instant;
use crate::wire::{self, Flags};

/// Which way a rule looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DirMatch {
    In,
    Out,
    Any,
}

impl DirMatch {
    pub fn matches(self, d: Dir) -> bool {
        match self {
            DirMatch::Any => true,
            DirMatch::In => d == Dir::In,
            DirMatch::Out => d == Dir::Out,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            DirMatch::In => "in",
            DirMatch::Out => "out",
            DirMatch::Any => "any",
        }
    }
    pub fn parse(s: &str) -> Result<DirMatch, String> {
        match s {
            "in" => Ok(DirMatch::In),
            "out" => Ok(DirMatch::Out),
            "any" => Ok(DirMatch::Any),
            _ => Err(format!("direction must be in, out or any, not \"{s}\"")),
        }
    }
}

/// What a matching rule does to the segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Drop,
    /// Keep it until released by hand (one by one or all).
    Hold,
    Delay(Duration),
    /// Deliver it twice.
    Duplicate,
    /// Swap it with the next segment in the same direction.
    Reorder,
    /// Flip a byte so the receiver's checksum fails.
    Corrupt,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Drop => "drop",
            Action::Hold => "hold",
            Action::Delay(_) => "delay",
            Action::Duplicate => "duplicate",
            Action::Reorder => "reorder",
            Action::Corrupt => "corrupt",
        }
    }
    /// `drop`, `hold`, `delay:250ms` / `delay:2s`, `duplicate`, `reorder`, `corrupt`.
    pub fn parse(s: &str) -> Result<Action, String> {
        match s {
            "drop" => Ok(Action::Drop),
            "hold" => Ok(Action::Hold),
            "duplicate" | "dup" => Ok(Action::Duplicate),
            "reorder" => Ok(Action::Reorder),
            "corrupt" => Ok(Action::Corrupt),
            _ => {
                if let Some(d) = s
                    .strip_prefix("delay:")
                    .or_else(|| s.strip_prefix("delay="))
                {
                    parse_duration(d).map(Action::Delay)
                } else {
                    Err(format!(
                        "unknown action \"{s}\" (drop, hold, delay:MS, duplicate, reorder, corrupt)"
                    ))
                }
            }
        }
    }
}

/// `250ms`, `2s`, `1.5s`, or a bare number of milliseconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("\"{s}\" is not a duration (use 250ms or 2s)");
    if let Some(ms) = s.strip_suffix("ms") {
        ms.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(|v| Duration::from_secs_f64(v / 1000.0))
            .ok_or_else(bad)
    } else if let Some(sec) = s.strip_suffix('s') {
        sec.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(Duration::from_secs_f64)
            .ok_or_else(bad)
    } else {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(|v| Duration::from_secs_f64(v / 1000.0))
            .ok_or_else(bad)
    }
}

/// The rule text of "hold every segment" ([`Injector::set_hold_all`]): what
/// a hold rule for any direction and every segment displays as. `rule`
/// events and held segments name it; the UI recognises it by it.
pub const HOLD_ALL_RULE: &str = "hold any all";

/// When a rule applies.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Trigger {
    /// The next N matching segments, then the rule is used up.
    Count(u32),
    /// Each matching segment with this probability (0..=1).
    Probability(f64),
    /// Every matching segment.
    Always,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub dir: DirMatch,
    /// Exact flag set (`SA` matches SYN+ACK and nothing else).
    pub flags: Option<Flags>,
    /// Only segments with (true) or without (false) payload.
    pub payload: Option<bool>,
    /// Only segments of connections with this port on either end.
    pub port: Option<u16>,
    pub trigger: Trigger,
    pub action: Action,
}

impl Rule {
    pub fn drop_next(dir: DirMatch, flags: Option<Flags>, count: u32) -> Rule {
        Rule {
            dir,
            flags,
            payload: None,
            port: None,
            trigger: Trigger::Count(count),
            action: Action::Drop,
        }
    }

    pub fn loss(dir: DirMatch, probability: f64) -> Rule {
        Rule {
            dir,
            flags: None,
            payload: None,
            port: None,
            trigger: Trigger::Probability(probability.clamp(0.0, 1.0)),
            action: Action::Drop,
        }
    }

    fn matches(&self, dir: Dir, p: &wire::Peek) -> bool {
        self.dir.matches(dir)
            && self.flags.is_none_or(|f| f == p.flags)
            && self.payload.is_none_or(|want| want == (p.payload_len > 0))
            && self
                .port
                .is_none_or(|port| p.src.port() == port || p.dst.port() == port)
    }

    /// `--drop DIR[:FLAGS][:COUNT]` (COUNT defaults to 1).
    pub fn parse_drop(s: &str) -> Result<Rule, String> {
        let parts: Vec<&str> = s.split(':').collect();
        if parts.is_empty() || parts.len() > 3 {
            return Err(format!("--drop {s}: expected DIR[:FLAGS][:COUNT]"));
        }
        let dir = DirMatch::parse(parts[0]).map_err(|e| format!("--drop {s}: {e}"))?;
        let flags = match parts.get(1) {
            None | Some(&"") | Some(&"*") => None,
            Some(f) => Some(Flags::from_letters(f).map_err(|e| format!("--drop {s}: {e}"))?),
        };
        let count = match parts.get(2) {
            None => 1,
            Some(c) => c
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("--drop {s}: COUNT must be a whole number above 0"))?,
        };
        Ok(Rule::drop_next(dir, flags, count))
    }

    /// `--loss PCT` (both ways) or `--loss in=PCT,out=PCT`.
    pub fn parse_loss(s: &str) -> Result<Vec<Rule>, String> {
        let pct = |v: &str| -> Result<f64, String> {
            let v = v.trim().trim_end_matches('%');
            v.parse::<f64>()
                .ok()
                .filter(|p| (0.0..=100.0).contains(p))
                .map(|p| p / 100.0)
                .ok_or_else(|| format!("--loss {s}: \"{v}\" is not a percentage from 0 to 100"))
        };
        if !s.contains('=') {
            return Ok(vec![Rule::loss(DirMatch::Any, pct(s)?)]);
        }
        let mut rules = Vec::new();
        for part in s.split(',') {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("--loss {s}: expected in=PCT,out=PCT"))?;
            let dir = match k.trim() {
                "in" => DirMatch::In,
                "out" => DirMatch::Out,
                other => return Err(format!("--loss {s}: \"{other}\" must be in or out")),
            };
            rules.push(Rule::loss(dir, pct(v)?));
        }
        Ok(rules)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.action.name(), self.dir.name())?;
        if let Action::Delay(d) = self.action {
            write!(f, " by {}ms", d.as_millis())?;
        }
        if let Some(fl) = self.flags {
            write!(f, " {}", fl.letters())?;
        }
        match self.payload {
            Some(true) => write!(f, " with-data")?,
            Some(false) => write!(f, " no-data")?,
            None => {}
        }
        if let Some(p) = self.port {
            write!(f, " port {p}")?;
        }
        match self.trigger {
            Trigger::Count(n) => write!(f, " next {n}"),
            Trigger::Probability(p) => write!(f, " {}%", (p * 1000.0).round() / 10.0),
            Trigger::Always => write!(f, " all"),
        }
    }
}

impl Rule {
    /// The rule in `m`'s words, word for word in the order of its text form
    /// (which it is, in English: the `rule` events', the command line's;
    /// docs/events.md), for the fault bar, the form and the drivers'
    /// answers.
    pub fn words(&self, m: &Messages) -> String {
        let action = match self.action {
            Action::Drop => m.action_drop,
            Action::Hold => m.action_hold,
            Action::Delay(_) => m.action_delay,
            Action::Duplicate => m.action_duplicate,
            Action::Reorder => m.action_reorder,
            Action::Corrupt => m.action_corrupt,
        };
        let dir = match self.dir {
            DirMatch::In => m.dir_in,
            DirMatch::Out => m.dir_out,
            DirMatch::Any => m.any,
        };
        let mut words = vec![action.to_string(), dir.to_string()];
        if let Action::Delay(d) = self.action {
            words.push(m.rule_delay(d.as_millis() as u64));
        }
        if let Some(f) = self.flags {
            words.push(f.letters());
        }
        match self.payload {
            Some(true) => words.push(m.rule_with_data.into()),
            Some(false) => words.push(m.rule_no_data.into()),
            None => {}
        }
        if let Some(p) = self.port {
            words.push(m.rule_port(p));
        }
        words.push(match self.trigger {
            Trigger::Count(n) => m.rule_next(n),
            Trigger::Probability(p) => m.rule_pct(&((p * 1000.0).round() / 10.0).to_string()),
            Trigger::Always => m.rule_all.into(),
        });
        words.join(" ")
    }

    /// A rule's text as an event wrote it, in `m`'s words
    /// ([`Rule::words`]); a text that reads as no rule stays as it is.
    pub fn text_in(m: &Messages, text: &str) -> String {
        match Rule::from_text(text) {
            Some(r) => r.words(m),
            None => text.to_string(),
        }
    }

    /// A rule's text form ([`Rule`]'s `Display`, what the `rule` events
    /// and the fault bar write) read back, for a display that words it in
    /// another language; `None` for a text no rule writes.
    pub fn from_text(s: &str) -> Option<Rule> {
        let mut w = s.split(' ').peekable();
        let name = w.next()?;
        let dir = DirMatch::parse(w.next()?).ok()?;
        let action = match name {
            "delay" => {
                if w.next()? != "by" {
                    return None;
                }
                let ms = w.next()?.strip_suffix("ms")?.parse::<u64>().ok()?;
                Action::Delay(Duration::from_millis(ms))
            }
            other => Action::parse(other).ok()?,
        };
        let mut rule = Rule {
            dir,
            flags: None,
            payload: None,
            port: None,
            trigger: Trigger::Always,
            action,
        };
        // Flags, payload and port come before the trigger, the last word.
        loop {
            let word = w.next()?;
            match word {
                "with-data" => rule.payload = Some(true),
                "no-data" => rule.payload = Some(false),
                "port" => rule.port = Some(w.next()?.parse().ok()?),
                "next" => {
                    rule.trigger = Trigger::Count(w.next()?.parse().ok()?);
                    break;
                }
                "all" => break,
                _ if word.ends_with('%') => {
                    let pct: f64 = word.strip_suffix('%')?.parse().ok()?;
                    rule.trigger = Trigger::Probability(pct / 100.0);
                    break;
                }
                _ if rule.flags.is_none() && rule.payload.is_none() && rule.port.is_none() => {
                    rule.flags = Some(Flags::from_letters(word).ok()?);
                }
                _ => return None,
            }
        }
        w.next().is_none().then_some(rule)
    }
}

/// A packet crossing the injector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// The id of its `segment` events.
    pub id: u64,
    pub dir: Dir,
    pub bytes: Vec<u8>,
    /// The TCP checksum is partial (checksum offload): the link vouches for
    /// the data and the engine does not verify it.
    pub partial_csum: bool,
    /// A kernel GSO packet let through whole to be processed as one (live
    /// mode's receive offload, docs/live.md, The link). Only ever given to an
    /// idle injector: a rule never sees more than a wire segment.
    pub gro: Option<crate::event::Gro>,
}

impl Packet {
    pub fn new(id: u64, dir: Dir, bytes: Vec<u8>) -> Packet {
        Packet {
            id,
            dir,
            bytes,
            partial_csum: false,
            gro: None,
        }
    }

    /// The bytes with a complete checksum (for a capture, or to corrupt).
    pub fn complete(&mut self) {
        if self.partial_csum {
            wire::complete_tcp_checksum(&mut self.bytes);
            self.partial_csum = false;
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub dropped_in: u64,
    pub dropped_out: u64,
    pub held: u64,
    pub released: u64,
    pub delayed: u64,
    pub duplicated: u64,
    pub reordered: u64,
    pub corrupted: u64,
}

/// How long a segment waits for a partner to swap with before it goes alone.
const REORDER_WAIT: Duration = Duration::from_millis(200);

pub struct Injector {
    host: Arc<str>,
    rules: Vec<(u32, Rule)>,
    next_rule: u32,
    rng: SmallRng,
    hold_all: bool,
    held: VecDeque<Packet>,
    delayed: Vec<(Instant, u64, Packet)>,
    delay_seq: u64,
    /// A segment waiting to be swapped, per direction (in, out).
    reorder: [Option<(Instant, Packet)>; 2],
    deliver: VecDeque<Packet>,
    events: VecDeque<Event>,
    pub counters: Counters,
}

fn slot(d: Dir) -> usize {
    match d {
        Dir::In => 0,
        Dir::Out => 1,
    }
}

impl Injector {
    /// `host` names the side whose `in`/`out` the rules use.
    pub fn new(host: &str, seed: u64) -> Injector {
        Injector {
            host: host.into(),
            rules: Vec::new(),
            next_rule: 1,
            rng: SmallRng::seed_from_u64(seed ^ 0x6661_756c_7473),
            hold_all: false,
            held: VecDeque::new(),
            delayed: Vec::new(),
            delay_seq: 0,
            reorder: [None, None],
            deliver: VecDeque::new(),
            events: VecDeque::new(),
            counters: Counters::default(),
        }
    }

    /// Nothing configured: packets pass untouched and unparsed.
    pub fn is_idle(&self) -> bool {
        self.rules.is_empty()
            && !self.hold_all
            && self.held.is_empty()
            && self.delayed.is_empty()
            && self.reorder.iter().all(Option::is_none)
    }

    pub fn add_rule(&mut self, now: Instant, rule: Rule) -> u32 {
        let id = self.next_rule;
        self.next_rule += 1;
        self.event(
            now,
            None,
            Body::Rule {
                action: RuleAction::Added,
                rule: rule.to_string(),
            },
        );
        self.rules.push((id, rule));
        id
    }

    pub fn remove_rule(&mut self, now: Instant, id: u32) -> bool {
        if let Some(i) = self.rules.iter().position(|(r, _)| *r == id) {
            let (_, rule) = self.rules.remove(i);
            self.event(
                now,
                None,
                Body::Rule {
                    action: RuleAction::Removed,
                    rule: rule.to_string(),
                },
            );
            true
        } else {
            false
        }
    }

    pub fn clear_rules(&mut self, now: Instant) {
        let ids: Vec<u32> = self.rules.iter().map(|(i, _)| *i).collect();
        for id in ids {
            self.remove_rule(now, id);
        }
    }

    pub fn rules(&self) -> &[(u32, Rule)] {
        &self.rules
    }

    /// Hold every segment from now on (`true`) or stop holding new ones.
    pub fn set_hold_all(&mut self, now: Instant, on: bool) {
        if self.hold_all != on {
            self.hold_all = on;
            self.event(
                now,
                None,
                Body::Rule {
                    action: if on {
                        RuleAction::Added
                    } else {
                        RuleAction::Removed
                    },
                    rule: HOLD_ALL_RULE.into(),
                },
            );
        }
    }

    pub fn hold_all(&self) -> bool {
        self.hold_all
    }

    pub fn held(&self) -> impl Iterator<Item = &Packet> {
        self.held.iter()
    }

    pub fn held_count(&self) -> usize {
        self.held.len()
    }

    /// A packet enters; what may pass now comes out of [`Injector::poll_deliver`].
    pub fn process(&mut self, now: Instant, pkt: Packet) {
        if self.is_idle() {
            self.deliver.push_back(pkt);
            return;
        }
        self.expire_reorder(now);
        let Some(peek) = wire::peek(&pkt.bytes) else {
            // Not TCP: not ours to fault; the engine will say what it is.
            self.deliver.push_back(pkt);
            return;
        };
        if self.hold_all {
            self.do_hold(now, pkt, HOLD_ALL_RULE.into());
            return;
        }
        let mut chosen = None;
        for i in 0..self.rules.len() {
            let (_, rule) = &self.rules[i];
            if !rule.matches(pkt.dir, &peek) {
                continue;
            }
            let fire = match rule.trigger {
                Trigger::Count(_) | Trigger::Always => true,
                Trigger::Probability(p) => self.rng.random_bool(p),
            };
            if fire {
                chosen = Some(i);
                break;
            }
        }
        let Some(i) = chosen else {
            self.pass(now, pkt);
            return;
        };
        let rule = self.rules[i].1.clone();
        let text = rule.to_string();
        let mut used_up = false;
        if let Trigger::Count(n) = rule.trigger {
            if n <= 1 {
                self.rules.remove(i);
                used_up = true;
            } else {
                self.rules[i].1.trigger = Trigger::Count(n - 1);
            }
        }
        self.apply(now, pkt, &rule, &text, &peek);
        if used_up {
            self.event(
                now,
                None,
                Body::Rule {
                    action: RuleAction::UsedUp,
                    rule: text,
                },
            );
        }
    }

    fn apply(&mut self, now: Instant, pkt: Packet, rule: &Rule, text: &str, peek: &wire::Peek) {
        let text = text.to_string();
        match rule.action {
            Action::Drop => {
                match pkt.dir {
                    Dir::In => self.counters.dropped_in += 1,
                    Dir::Out => self.counters.dropped_out += 1,
                }
                let (conn, fields) = describe(&pkt);
                self.event(
                    now,
                    conn,
                    Body::Drop(DropEvent {
                        dir: pkt.dir,
                        reason: DropReason::Injected,
                        rule: Some(text),
                        seg: fields,
                    }),
                );
            }
            Action::Hold => self.do_hold(now, pkt, text),
            Action::Delay(d) => {
                self.counters.delayed += 1;
                self.fault_event(now, &pkt, FaultAction::Delay, &text);
                self.delay_seq += 1;
                self.delayed.push((now + d, self.delay_seq, pkt));
            }
            Action::Duplicate => {
                self.counters.duplicated += 1;
                self.fault_event(now, &pkt, FaultAction::Duplicate, &text);
                self.pass(now, pkt.clone());
                self.pass(now, pkt);
            }
            Action::Reorder => {
                self.counters.reordered += 1;
                self.fault_event(now, &pkt, FaultAction::Reorder, &text);
                let s = slot(pkt.dir);
                if let Some((_, waiting)) = self.reorder[s].take() {
                    self.deliver.push_back(waiting);
                }
                self.reorder[s] = Some((now + REORDER_WAIT, pkt));
            }
            Action::Corrupt => {
                self.counters.corrupted += 1;
                self.fault_event(now, &pkt, FaultAction::Corrupt, &text);
                let mut pkt = pkt;
                // A vouched-for partial sum would not be checked: make it a
                // real checksum first, so that the flip is noticed.
                pkt.complete();
                // Flip the TCP checksum's low byte: headers still parse, the
                // checksum fails at the receiver.
                let at = peek.tcp_offset + 17;
                if let Some(b) = pkt.bytes.get_mut(at) {
                    *b ^= 0x5a;
                }
                self.pass(now, pkt);
            }
        }
    }

    /// Deliver, letting a segment waiting for reorder go after this one.
    fn pass(&mut self, _now: Instant, pkt: Packet) {
        let s = slot(pkt.dir);
        let waiting = self.reorder[s].take();
        self.deliver.push_back(pkt);
        if let Some((_, w)) = waiting {
            self.deliver.push_back(w);
        }
    }

    fn do_hold(&mut self, now: Instant, pkt: Packet, rule: String) {
        self.counters.held += 1;
        let (conn, fields) = describe(&pkt);
        if let Some(seg) = fields {
            self.event(
                now,
                conn,
                Body::Hold(FaultSegEvent {
                    dir: pkt.dir,
                    rule: Some(rule),
                    seg,
                }),
            );
        }
        self.held.push_back(pkt);
    }

    fn fault_event(&mut self, now: Instant, pkt: &Packet, action: FaultAction, rule: &str) {
        let (conn, fields) = describe(pkt);
        if let Some(seg) = fields {
            self.event(
                now,
                conn,
                Body::Fault(FaultActionEvent {
                    dir: pkt.dir,
                    action,
                    rule: Some(rule.into()),
                    seg,
                }),
            );
        }
    }

    /// Release the oldest held segment.
    pub fn release_one(&mut self, now: Instant) -> bool {
        let Some(pkt) = self.held.pop_front() else {
            return false;
        };
        self.counters.released += 1;
        let (conn, fields) = describe(&pkt);
        if let Some(seg) = fields {
            self.event(
                now,
                conn,
                Body::Release(FaultSegEvent {
                    dir: pkt.dir,
                    rule: None,
                    seg,
                }),
            );
        }
        self.deliver.push_back(pkt);
        true
    }

    pub fn release_all(&mut self, now: Instant) -> usize {
        let mut n = 0;
        while self.release_one(now) {
            n += 1;
        }
        n
    }

    /// When a delayed or reordered segment is due.
    pub fn poll_at(&self) -> Option<Instant> {
        let d = self.delayed.iter().map(|(t, _, _)| *t).min();
        let r = self.reorder.iter().flatten().map(|(t, _)| *t).min();
        match (d, r) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn on_timer(&mut self, now: Instant) {
        self.expire_reorder(now);
        let mut due: Vec<(Instant, u64, Packet)> = Vec::new();
        let mut i = 0;
        while i < self.delayed.len() {
            if self.delayed[i].0 <= now {
                due.push(self.delayed.swap_remove(i));
            } else {
                i += 1;
            }
        }
        due.sort_by_key(|(t, seq, _)| (*t, *seq));
        for (_, _, p) in due {
            self.deliver.push_back(p);
        }
    }

    fn expire_reorder(&mut self, now: Instant) {
        for s in 0..2 {
            if self.reorder[s].as_ref().is_some_and(|(t, _)| *t <= now)
                && let Some((_, p)) = self.reorder[s].take()
            {
                self.deliver.push_back(p);
            }
        }
    }

    pub fn poll_deliver(&mut self) -> Option<Packet> {
        self.deliver.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn event(&mut self, now: Instant, conn: Option<Arc<str>>, body: Body) {
        self.events.push_back(Event {
            t: now.secs_f64(),
            host: Some(self.host.clone()),
            conn,
            body,
        });
    }
}

/// What the injector did to packet `id`, as a pcapng comment, if this event
/// says (a drop, a hold, or a delay, duplicate, reorder, corrupt).
pub fn verdict_comment(e: &Event, id: u64) -> Option<String> {
    let (what, rule) = match &e.body {
        Body::Drop(d) if d.seg.as_ref().is_some_and(|s| s.id == id) => ("dropped", &d.rule),
        Body::Hold(h) if h.seg.id == id => ("held", &h.rule),
        Body::Fault(f) if f.seg.id == id => (f.action.name(), &f.rule),
        _ => return None,
    };
    Some(match rule {
        Some(r) => format!("tcpscope fault injector: {what} (rule: {r})"),
        None => format!("tcpscope fault injector: {what}"),
    })
}

/// The connection name (from the reference host's side) and the segment's
/// fields, when the packet parses.
fn describe(pkt: &Packet) -> (Option<Arc<str>>, Option<SegFields>) {
    let seg = match wire::parse(&pkt.bytes) {
        Ok(s) => s,
        Err(wire::WireError::Checksum(s)) => *s,
        Err(_) => return (None, None),
    };
    let conn = match pkt.dir {
        Dir::In => conn_name(seg.dst, seg.src),
        Dir::Out => conn_name(seg.src, seg.dst),
    };
    // The dump shows the checksum as the wire carries it, not a partial sum
    // left for the link (checksum offload).
    let fields = if pkt.partial_csum {
        let mut full = pkt.bytes.clone();
        wire::complete_tcp_checksum(&mut full);
        SegFields::from_segment(pkt.id, &seg).with_hdr(&full)
    } else {
        SegFields::from_segment(pkt.id, &seg).with_hdr(&pkt.bytes)
    };
    (Some(conn), Some(fields))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::SeqNum;
    use crate::wire::{Segment, TcpOptions};

    #[test]
    fn hold_all_is_the_text_of_its_rule() {
        let rule = Rule {
            dir: DirMatch::Any,
            flags: None,
            payload: None,
            port: None,
            trigger: Trigger::Always,
            action: Action::Hold,
        };
        assert_eq!(rule.to_string(), HOLD_ALL_RULE);
    }

    fn pkt(id: u64, dir: Dir, flags: Flags, payload: &[u8]) -> Packet {
        let (src, dst) = match dir {
            Dir::In => ("10.0.0.1:5000", "10.0.0.2:80"),
            Dir::Out => ("10.0.0.2:80", "10.0.0.1:5000"),
        };
        let s = Segment {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            seq: SeqNum(id as u32),
            ack: SeqNum(0),
            flags,
            window: 1000,
            urgent: 0,
            options: TcpOptions::default(),
            payload: payload.to_vec(),
        };
        Packet::new(id, dir, s.emit())
    }

    fn ids(inj: &mut Injector) -> Vec<u64> {
        std::iter::from_fn(|| inj.poll_deliver())
            .map(|p| p.id)
            .collect()
    }

    fn kinds(inj: &mut Injector) -> Vec<String> {
        std::iter::from_fn(|| inj.poll_event())
            .map(|e| e.kind().to_string())
            .collect()
    }

    const T: Instant = Instant::ZERO;

    #[test]
    fn drop_next_matching_exact_flags() {
        let mut inj = Injector::new("server", 1);
        inj.add_rule(T, Rule::parse_drop("out:SA:1").unwrap());
        inj.process(T, pkt(1, Dir::In, Flags::SYN, b""));
        inj.process(
            T,
            pkt(2, Dir::Out, Flags::SYN | Flags::ACK | Flags::PSH, b""),
        );
        inj.process(T, pkt(3, Dir::Out, Flags::SYN | Flags::ACK, b""));
        inj.process(T, pkt(4, Dir::Out, Flags::SYN | Flags::ACK, b""));
        assert_eq!(ids(&mut inj), vec![1, 2, 4]);
        assert_eq!(inj.counters.dropped_out, 1);
        assert_eq!(kinds(&mut inj), vec!["rule", "drop", "rule"]);
        assert!(inj.is_idle(), "the rule is used up");
    }

    #[test]
    fn hold_release_delay_duplicate_reorder_corrupt() {
        let mut inj = Injector::new("server", 1);
        inj.set_hold_all(T, true);
        inj.process(T, pkt(1, Dir::In, Flags::ACK, b"x"));
        inj.process(T, pkt(2, Dir::In, Flags::ACK, b"y"));
        assert_eq!(ids(&mut inj), Vec::<u64>::new());
        assert!(inj.release_one(T));
        assert_eq!(ids(&mut inj), vec![1]);
        inj.set_hold_all(T, false);
        assert_eq!(inj.release_all(T), 1);
        assert_eq!(ids(&mut inj), vec![2]);

        let ms = Duration::from_millis;
        inj.add_rule(
            T,
            Rule {
                action: Action::Delay(ms(50)),
                ..Rule::drop_next(DirMatch::In, None, 1)
            },
        );
        inj.process(T, pkt(3, Dir::In, Flags::ACK, b""));
        assert_eq!(ids(&mut inj), Vec::<u64>::new());
        assert_eq!(inj.poll_at(), Some(T + ms(50)));
        inj.on_timer(T + ms(50));
        assert_eq!(ids(&mut inj), vec![3]);

        inj.add_rule(
            T,
            Rule {
                action: Action::Duplicate,
                ..Rule::drop_next(DirMatch::In, None, 1)
            },
        );
        inj.process(T, pkt(4, Dir::In, Flags::ACK, b""));
        assert_eq!(ids(&mut inj), vec![4, 4]);

        inj.add_rule(
            T,
            Rule {
                action: Action::Reorder,
                ..Rule::drop_next(DirMatch::In, None, 1)
            },
        );
        inj.process(T, pkt(5, Dir::In, Flags::ACK, b""));
        inj.process(T, pkt(6, Dir::Out, Flags::ACK, b""));
        inj.process(T, pkt(7, Dir::In, Flags::ACK, b""));
        assert_eq!(ids(&mut inj), vec![6, 7, 5]);

        inj.add_rule(
            T,
            Rule {
                action: Action::Corrupt,
                ..Rule::drop_next(DirMatch::In, None, 1)
            },
        );
        inj.process(T, pkt(8, Dir::In, Flags::ACK, b"data"));
        let p = inj.poll_deliver().unwrap();
        assert!(matches!(
            wire::parse(&p.bytes),
            Err(wire::WireError::Checksum(_))
        ));
    }

    #[test]
    fn loss_is_seeded() {
        let run = |seed| {
            let mut inj = Injector::new("server", seed);
            for r in Rule::parse_loss("in=50,out=0").unwrap() {
                inj.add_rule(T, r);
            }
            for i in 0..64 {
                inj.process(T, pkt(i, Dir::In, Flags::ACK, b""));
                inj.process(T, pkt(100 + i, Dir::Out, Flags::ACK, b""));
            }
            ids(&mut inj)
        };
        let a = run(7);
        assert_eq!(a, run(7));
        assert_ne!(a, run(8));
        assert_eq!(a.iter().filter(|i| **i >= 100).count(), 64, "out untouched");
        let kept_in = a.iter().filter(|i| **i < 100).count();
        assert!(
            (16..=48).contains(&kept_in),
            "about half of 64 kept, got {kept_in}"
        );
    }

    #[test]
    fn cli_syntax_errors_are_sentences() {
        assert!(
            Rule::parse_drop("sideways:S")
                .unwrap_err()
                .contains("in, out or any")
        );
        assert!(
            Rule::parse_drop("in:SX")
                .unwrap_err()
                .contains("unknown flag")
        );
        assert!(Rule::parse_drop("in:S:0").unwrap_err().contains("COUNT"));
        assert!(Rule::parse_loss("120").unwrap_err().contains("percentage"));
        assert!(Rule::parse_loss("up=3").unwrap_err().contains("in or out"));
        assert_eq!(
            Rule::parse_drop("any").unwrap().to_string(),
            "drop any next 1"
        );
        assert_eq!(
            Rule::parse_loss("10").unwrap()[0].to_string(),
            "drop any 10%"
        );
    }

    #[test]
    fn a_rule_reads_back_from_its_text() {
        let rules = [
            Rule::drop_next(DirMatch::Out, Some(Flags::SYN | Flags::ACK), 1),
            Rule::loss(DirMatch::In, 0.125),
            Rule {
                dir: DirMatch::Any,
                flags: None,
                payload: Some(true),
                port: Some(80),
                trigger: Trigger::Always,
                action: Action::Delay(Duration::from_millis(250)),
            },
            Rule {
                dir: DirMatch::In,
                flags: Some(Flags::FIN | Flags::ACK),
                payload: Some(false),
                port: None,
                trigger: Trigger::Count(3),
                action: Action::Corrupt,
            },
        ];
        for r in rules {
            let text = r.to_string();
            let back = Rule::from_text(&text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(back.to_string(), text);
        }
        assert_eq!(
            Rule::from_text(HOLD_ALL_RULE)
                .map(|r| r.to_string())
                .as_deref(),
            Some(HOLD_ALL_RULE)
        );
        for bad in [
            "",
            "drop",
            "drop up next 1",
            "drop in next",
            "drop in SA SA next 1",
            "drop in all x",
        ] {
            assert_eq!(Rule::from_text(bad), None, "{bad:?}");
        }
    }

    /// In English a rule is described as its text form, word for word.
    #[test]
    fn english_describes_a_rule_as_its_text() {
        use crate::fault::{Action, DirMatch, HOLD_ALL_RULE, Rule, Trigger};
        use crate::i18n::{Lang, messages};
        let en = messages(Lang::En);
        let rules = [
            Rule::drop_next(DirMatch::Out, Some(Flags::SYN | Flags::ACK), 2),
            Rule::loss(DirMatch::Any, 0.125),
            Rule {
                dir: DirMatch::In,
                flags: Some(Flags::ACK),
                payload: Some(false),
                port: Some(8080),
                trigger: Trigger::Always,
                action: Action::Delay(std::time::Duration::from_millis(40)),
            },
            Rule {
                dir: DirMatch::Out,
                flags: None,
                payload: Some(true),
                port: None,
                trigger: Trigger::Count(1),
                action: Action::Duplicate,
            },
        ];
        for r in rules {
            assert_eq!(r.words(en), r.to_string());
            assert_eq!(Rule::text_in(en, &r.to_string()), r.to_string());
        }
        assert_eq!(Rule::text_in(en, HOLD_ALL_RULE), HOLD_ALL_RULE);
        assert_eq!(
            Rule::text_in(messages(Lang::Zh), HOLD_ALL_RULE),
            "扣留 任意 全部"
        );
        assert_eq!(Rule::text_in(messages(Lang::Zh), "no rule"), "no rule");
    }
}
