//! Two engines joined by a wire with a one-way delay, under virtual time:
//! the whole of an exchange between two tcpscope ends, every segment kept
//! in the order it was sent, any of them droppable by a test. (The demo's
//! `link::memory::Wire` does the same with the fault injector in front;
//! the engine's own tests keep to the engine.)

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::event::{Body, Event, RecoveryAction, TimerAction, TimerKind};
use crate::tcp::{Config, ConnId, Engine, State};
use crate::time::Instant;
use crate::wire::{self, Segment};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Client,
    Server,
}

/// One segment as it left its sender, and whether the wire lost it.
#[derive(Clone, Debug, PartialEq)]
pub struct Sent {
    pub t: Instant,
    pub from: End,
    pub seg: Segment,
    pub dropped: bool,
}

pub struct Pair {
    pub now: Instant,
    pub client: Engine,
    pub server: Engine,
    pub client_addr: SocketAddr,
    pub server_addr: SocketAddr,
    delay: Duration,
    /// (arrival, order, to, segment id, packet)
    flying: Vec<(Instant, u64, End, u64, Vec<u8>)>,
    order: u64,
    pub sent: Vec<Sent>,
    /// Every event of both ends, in the order they were made.
    pub events: Vec<(End, Event)>,
    /// Decides for each segment sent whether the wire loses it.
    drop: DropRule,
}

/// Whether the wire loses a segment, given its sender.
type DropRule = Box<dyn FnMut(End, &Segment) -> bool>;

impl Pair {
    pub fn new(client_cfg: Config, server_cfg: Config, delay: Duration) -> Pair {
        let client_ip: IpAddr = "10.0.0.1".parse().unwrap();
        let server_ip: IpAddr = "10.0.0.2".parse().unwrap();
        let mut client = Engine::new(client_cfg, "client", client_ip);
        let mut server = Engine::new(server_cfg, "server", server_ip);
        client.set_segment_ids(1, 2);
        server.set_segment_ids(2, 2);
        Pair {
            now: Instant::ZERO,
            client,
            server,
            client_addr: SocketAddr::new(client_ip, 40000),
            server_addr: SocketAddr::new(server_ip, 80),
            delay,
            flying: Vec::new(),
            order: 0,
            sent: Vec::new(),
            events: Vec::new(),
            drop: Box::new(|_, _| false),
        }
    }

    pub fn set_drop(&mut self, f: impl FnMut(End, &Segment) -> bool + 'static) {
        self.drop = Box::new(f);
    }

    pub fn engine(&mut self, end: End) -> &mut Engine {
        match end {
            End::Client => &mut self.client,
            End::Server => &mut self.server,
        }
    }

    /// Collect events and put what the engines sent on the wire.
    pub fn settle(&mut self) {
        for end in [End::Client, End::Server] {
            let evs: Vec<Event> = self.engine(end).drain_events().collect();
            self.events.extend(evs.into_iter().map(|e| (end, e)));
            while let Some(tx) = self.engine(end).poll_transmit() {
                let seg = wire::parse(&tx.packet).expect("the engine emits valid packets");
                let dropped = (self.drop)(end, &seg);
                self.sent.push(Sent {
                    t: self.now,
                    from: end,
                    seg,
                    dropped,
                });
                if !dropped {
                    self.order += 1;
                    let to = match end {
                        End::Client => End::Server,
                        End::Server => End::Client,
                    };
                    self.flying
                        .push((self.now + self.delay, self.order, to, tx.id, tx.packet));
                }
            }
        }
    }

    fn next_wakeup(&self) -> Option<Instant> {
        [
            self.client.poll_at(),
            self.server.poll_at(),
            self.flying.iter().map(|f| f.0).min(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Advance the clock to `t`, delivering segments and firing timers on
    /// the way.
    pub fn run_until(&mut self, t: Instant) {
        self.settle();
        while let Some(next) = self.next_wakeup() {
            if next > t {
                break;
            }
            self.now = next;
            loop {
                let due = self
                    .flying
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.0 <= next)
                    .min_by_key(|(_, f)| (f.0, f.1))
                    .map(|(i, _)| i);
                let Some(i) = due else { break };
                let (_, _, to, id, packet) = self.flying.remove(i);
                let now = self.now;
                self.engine(to).receive(now, id, &packet);
                self.settle();
            }
            for end in [End::Client, End::Server] {
                let now = self.now;
                if self.engine(end).poll_at().is_some_and(|d| d <= now) {
                    self.engine(end).on_timer(now);
                    self.settle();
                }
            }
        }
        self.now = t;
    }

    /// (time, from, to) of every state change of one end, in order.
    pub fn states(&self, end: End) -> Vec<(f64, State, State)> {
        self.events
            .iter()
            .filter(|(e, _)| *e == end)
            .filter_map(|(_, ev)| match &ev.body {
                Body::State { from, to, .. } => Some((ev.t, *from, *to)),
                _ => None,
            })
            .collect()
    }

    /// (time, action, deadline) of one end's timer of one kind.
    pub fn timer(&self, end: End, kind: TimerKind) -> Vec<(f64, TimerAction, Option<f64>)> {
        self.events
            .iter()
            .filter(|(e, _)| *e == end)
            .filter_map(|(_, ev)| match &ev.body {
                Body::Timer(t) if t.timer == kind => Some((ev.t, t.action, t.deadline)),
                _ => None,
            })
            .collect()
    }

    /// (time, action, how) of every recovery event of one end.
    pub fn recovery(&self, end: End) -> Vec<(f64, RecoveryAction, Option<String>)> {
        self.events
            .iter()
            .filter(|(e, _)| *e == end)
            .filter_map(|(_, ev)| match &ev.body {
                Body::Recovery(r) => Some((ev.t, r.action, r.how.clone())),
                _ => None,
            })
            .collect()
    }

    pub fn conn(&self, end: End) -> Option<ConnId> {
        match end {
            End::Client => self.client.find(self.client_addr, self.server_addr),
            End::Server => self.server.find(self.server_addr, self.client_addr),
        }
    }
}
