//! The UI's picture of the world, built from events and nothing else.
//!
//! Pure: no terminal, no clock, no driver. [`Model::ingest`] takes events in
//! the order they happened; the render modules read the result. Memory is
//! bounded (see [`Retention`]): old ladder entries and old closed connections
//! are evicted first.

pub mod conn;
pub mod graph;
mod ingest;
pub mod ladder;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use crate::event::{Body, Dir, Event};

pub use conn::{
    Armed, Conn, ConnKey, HostView, KeepaliveVerdict, KeepaliveView, Rtt, TcbInfo, Transition,
};
pub use ladder::{Arrow, Burst, Entry, EntryKind, Fate, Mark, Note, Seg, Slot};

use conn::split_conn;
use ladder::other;

/// How much history the model keeps. The defaults are what docs/ui.md
/// (History) promises; tests shrink them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Retention {
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

impl Default for Retention {
    fn default() -> Self {
        Retention {
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
    /// Its flags, for the fault bar's `SYN+ACK out`.
    pub flags: crate::wire::Flags,
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
    /// The chapter this narration begins, if it begins one.
    pub chapter: Option<Box<str>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LogLine {
    pub t: f64,
    pub host: Option<Arc<str>>,
    pub text: Box<str>,
}

pub struct Model {
    two_hosts: bool,
    limits: Retention,
    rows: BTreeMap<u64, Conn>,
    by_key: HashMap<ConnKey, u64>,
    next_row: u64,
    /// (row, entry seq) in insertion order, for evicting the oldest entries.
    fifo: VecDeque<(u64, u64)>,
    total_entries: usize,
    pub faults: Faults,
    pub narration: Option<Narration>,
    pub narrations: VecDeque<Narration>,
    /// The chapter the latest chapter-opening narration began.
    pub chapter: Option<Box<str>>,
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
        Model::with_limits(two_hosts, Retention::default())
    }

    pub fn with_limits(two_hosts: bool, limits: Retention) -> Model {
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
            chapter: None,
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

    pub fn limits(&self) -> &Retention {
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
        let listener = matches!(remote, "0.0.0.0:0" | "[::]:0");
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

    /// Closed rows leave the list after a while (see [`Retention`]).
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
    /// the log (in English: the log is no screen's).
    fn note(&mut self, t: f64, host: Option<Arc<str>>, conn: Option<Arc<str>>, note: Note) {
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
                            note: Box::new(note),
                        },
                    },
                );
            }
            _ => {
                let text = note.text(crate::i18n::messages(crate::i18n::Lang::En));
                self.note_log(t, host, text)
            }
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
) -> &'a mut HostView {
    c.sides[slot].get_or_insert_with(|| {
        HostView::new(host.clone().unwrap_or_else(|| "?".into()), conn.clone())
    })
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

#[cfg(test)]
mod tests;
