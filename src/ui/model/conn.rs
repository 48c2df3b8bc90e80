//! One row of the connection list: a connection as one or two hosts see it.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::event::{AbortReason, NegotiatedEvent, TimerKind, VarsEvent};
use crate::tcp::State;

use super::ladder::{Entry, Slot};

/// The two endpoints, sorted, so that both hosts' views of one connection
/// (`A<->B` and `B<->A`) have the same key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnKey(pub Arc<str>, pub Arc<str>);

/// `LOCAL<->REMOTE` split in two; `None` when the string has no `<->`.
pub fn split_conn(conn: &str) -> Option<(&str, &str)> {
    conn.split_once("<->")
}

impl ConnKey {
    pub fn of(conn: &str) -> ConnKey {
        let (a, b) = split_conn(conn).unwrap_or((conn, ""));
        if a <= b {
            ConnKey(a.into(), b.into())
        } else {
            ConnKey(b.into(), a.into())
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Armed {
    pub deadline: f64,
    pub armed_at: f64,
    pub backoff: Option<u32>,
}

impl Armed {
    /// Seconds left at `now` (never negative).
    pub fn left(&self, now: f64) -> f64 {
        (self.deadline - now).max(0.0)
    }
    /// Fraction of the period still to run, 1.0 when just armed.
    pub fn fraction_left(&self, now: f64) -> f64 {
        let span = self.deadline - self.armed_at;
        if span <= 0.0 {
            0.0
        } else {
            (self.left(now) / span).clamp(0.0, 1.0)
        }
    }
}

/// Where keepalive stands on one side (RFC 1122 §4.2.3.6).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KeepaliveView {
    /// Known on: an `enabled` event, or a keepalive timer was armed.
    pub on: bool,
    pub idle: Option<f64>,
    pub interval: Option<f64>,
    /// Probes sent without an answer so far, and how many are allowed.
    pub probe: u32,
    pub of: u32,
    pub verdict: Option<KeepaliveVerdict>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum KeepaliveVerdict {
    /// The peer answered probe n.
    Answered { probe: u32, t: f64 },
    /// All probes unanswered: the connection was aborted.
    Dead { probes: u32, t: f64 },
    /// The peer answered a probe with RST: it rebooted and forgot us.
    Reset { t: f64 },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rtt {
    pub sample: f64,
    pub srtt: f64,
    pub rttvar: f64,
    pub rto: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    pub from: State,
    pub to: State,
    pub cause: Box<str>,
    pub t: f64,
    /// Inferred from a capture's packets (docs/captures.md, Opening a capture).
    pub inferred: bool,
}

/// The buffers and port a `tcb` event names.
#[derive(Clone, Debug, PartialEq)]
pub struct TcbInfo {
    pub send_buf: usize,
    pub recv_buf: usize,
    pub port: u16,
    pub table: usize,
    pub freed: Option<Box<str>>,
    pub t: f64,
}

/// One host's view of the connection: its lifeline.
#[derive(Clone, Debug, PartialEq)]
pub struct HostView {
    pub host: Arc<str>,
    /// The connection string from this host's side.
    pub conn: Arc<str>,
    pub state: Option<State>,
    pub last: Option<Transition>,
    pub timers: [Option<Armed>; TimerKind::ALL.len()],
    pub keepalive: KeepaliveView,
    pub vars: Option<VarsEvent>,
    pub negotiated: Option<NegotiatedEvent>,
    pub rtt: Option<Rtt>,
    pub allocated: Option<TcbInfo>,
    pub freed: Option<TcbInfo>,
    pub abort: Option<AbortReason>,
    pub closed_at: Option<f64>,
}

pub fn timer_index(k: TimerKind) -> usize {
    TimerKind::ALL
        .iter()
        .position(|x| *x == k)
        .expect("ALL lists every kind")
}

impl HostView {
    pub fn new(host: Arc<str>, conn: Arc<str>) -> HostView {
        HostView {
            host,
            conn,
            state: None,
            last: None,
            timers: [None; TimerKind::ALL.len()],
            keepalive: KeepaliveView::default(),
            vars: None,
            negotiated: None,
            rtt: None,
            allocated: None,
            freed: None,
            abort: None,
            closed_at: None,
        }
    }

    pub fn timer(&self, k: TimerKind) -> Option<&Armed> {
        self.timers[timer_index(k)].as_ref()
    }

    /// Armed timers, soonest first.
    pub fn armed(&self) -> Vec<(TimerKind, Armed)> {
        let mut v: Vec<(TimerKind, Armed)> = TimerKind::ALL
            .iter()
            .zip(self.timers.iter())
            .filter_map(|(k, a)| a.map(|a| (*k, a)))
            .collect();
        v.sort_by(|a, b| a.1.deadline.total_cmp(&b.1.deadline));
        v
    }

    /// Gone: CLOSED after having been something else, or its TCB freed.
    pub fn is_closed(&self) -> bool {
        self.closed_at.is_some()
    }

    /// The host had a TCB for it at some point (a host that only answered
    /// with RST, such as a port without a listener, had none).
    pub fn had_tcb(&self) -> bool {
        self.state.is_some() || self.allocated.is_some() || self.freed.is_some()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Conn {
    /// Row id: increases with creation, so ordering by id is ordering by age.
    pub id: u64,
    pub key: ConnKey,
    /// The address of each lifeline's endpoint (left, right).
    pub ends: [Arc<str>; 2],
    pub sides: [Option<HostView>; 2],
    /// A listening socket (`LOCAL<->0.0.0.0:0` or `LOCAL<->[::]:0`), not a
    /// connection.
    pub listener: bool,
    pub first_t: f64,
    pub last_t: f64,
    /// Payload bytes sent left→right and right→left (retransmissions not
    /// counted twice).
    pub bytes: [u64; 2],
    pub retransmits: u32,
    pub drops: u32,
    /// Initial sequence number of each endpoint, for relative numbers.
    pub isn: [Option<u32>; 2],
    /// Window scale each endpoint applies to the windows it sends.
    pub wscale: [Option<u8>; 2],
    pub ladder: VecDeque<Entry>,
    /// Entries evicted from the front to keep within bounds.
    pub evicted: u64,
    pub(super) next_seq: u64,
    /// Segment id → entry seq, for pairing a segment's events.
    pub(super) by_id: HashMap<u64, u64>,
    /// Previous pure ACK per sender: (seq, ack, win, duplicates so far).
    pub(super) last_ack: [Option<(u32, u32, u16, u32)>; 2],
    /// What the graph view (`w`) plots.
    pub graph: super::graph::Graph,
}

impl Conn {
    pub fn new(id: u64, key: ConnKey, ends: [Arc<str>; 2], listener: bool, t: f64) -> Conn {
        Conn {
            id,
            key,
            ends,
            sides: [None, None],
            listener,
            first_t: t,
            last_t: t,
            bytes: [0, 0],
            retransmits: 0,
            drops: 0,
            isn: [None, None],
            wscale: [None, None],
            ladder: VecDeque::new(),
            evicted: 0,
            next_seq: 0,
            by_id: HashMap::new(),
            last_ack: [None, None],
            graph: Default::default(),
        }
    }

    pub fn side(&self, s: Slot) -> Option<&HostView> {
        self.sides[s].as_ref()
    }

    pub fn present(&self) -> impl Iterator<Item = (Slot, &HostView)> {
        self.sides
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i, s)))
    }

    /// Every side that had a TCB closed it.
    pub fn is_closed(&self) -> bool {
        let mut any = false;
        for (_, s) in self.present().filter(|(_, s)| s.had_tcb()) {
            any = true;
            if !s.is_closed() {
                return false;
            }
        }
        any
    }

    /// When the last side closed.
    pub fn closed_at(&self) -> Option<f64> {
        if !self.is_closed() {
            return None;
        }
        self.present()
            .filter(|(_, s)| s.had_tcb())
            .filter_map(|(_, s)| s.closed_at)
            .max_by(f64::total_cmp)
    }

    /// The ladder entry with this seq, if not evicted.
    pub fn entry(&self, seq: u64) -> Option<&Entry> {
        let first = self.ladder.front()?.seq;
        let i = seq.checked_sub(first)?;
        self.ladder.get(usize::try_from(i).ok()?)
    }

    pub(super) fn entry_mut(&mut self, seq: u64) -> Option<&mut Entry> {
        let first = self.ladder.front()?.seq;
        let i = seq.checked_sub(first)?;
        self.ladder.get_mut(usize::try_from(i).ok()?)
    }

    /// Position of the entry with this seq in `ladder`.
    pub fn index_of(&self, seq: u64) -> Option<usize> {
        let first = self.ladder.front()?.seq;
        let i = usize::try_from(seq.checked_sub(first)?).ok()?;
        (i < self.ladder.len()).then_some(i)
    }

    /// Sequence number relative to the sender's ISN (wrapping, as TCP does).
    pub fn rel_seq(&self, from: Slot, seq: u32) -> Option<u32> {
        self.isn[from].map(|isn| seq.wrapping_sub(isn))
    }

    /// Acknowledgment number relative to the receiver's ISN.
    pub fn rel_ack(&self, from: Slot, ack: u32) -> Option<u32> {
        self.isn[super::ladder::other(from)].map(|isn| ack.wrapping_sub(isn))
    }

    /// Text the `/` filter matches: addresses, hosts and states.
    pub fn matches_filter(&self, needle: &str) -> bool {
        if needle.is_empty() {
            return true;
        }
        let needle = needle.to_ascii_lowercase();
        let hit = |s: &str| s.to_ascii_lowercase().contains(&needle);
        self.ends.iter().any(|e| hit(e))
            || self
                .present()
                .any(|(_, s)| hit(&s.host) || s.state.is_some_and(|st| hit(st.name())))
    }
}
