//! The in-memory wire: two engines joined by a link with a one-way delay,
//! under a virtual clock, with the fault injector in front of each receiver.
//!
//! The injector takes the server's point of view, as it takes the stack's in
//! live mode: client → server segments are `in`, server → client are `out`.
//! Segment ids: the client's are odd, the server's even, so an `in` event
//! carries the id of the `out` event it came from.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::event::{Dir, Event};
use crate::fault::{Injector, Packet};
use crate::tcp::{Config, Engine};
use crate::time::Instant;

pub const CLIENT: &str = "client";
pub const SERVER: &str = "server";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    Client,
    Server,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::Client => CLIENT,
            Side::Server => SERVER,
        }
    }
    pub fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

/// A packet as it met the receiver's fault injector, for `--pcap`.
#[derive(Clone, Debug)]
pub struct Capture {
    pub t: Instant,
    /// From the server's side, as the injector sees it.
    pub dir: Dir,
    pub bytes: Vec<u8>,
    /// What the injector did to it, when it did anything.
    pub comment: Option<String>,
}

pub struct Wire {
    pub now: Instant,
    pub client: Engine,
    pub server: Engine,
    pub injector: Injector,
    delay: Duration,
    /// Packets on the wire with their arrival times. Every packet takes
    /// the same delay and the clock only moves forward, so they arrive in
    /// the order they left: a queue, not a heap.
    flying: VecDeque<(Instant, Packet)>,
    events: Vec<Event>,
    /// A crashed host: its timers do not run (segments to it are dropped by
    /// a fault rule the caller adds).
    frozen: [bool; 2],
    captures: Option<Vec<Capture>>,
}

impl Wire {
    pub fn new(client_cfg: Config, server_cfg: Config, delay: Duration) -> Wire {
        Wire::with_addrs(
            client_cfg,
            server_cfg,
            delay,
            Ipv4Addr::new(10, 0, 0, 1).into(),
            Ipv4Addr::new(10, 0, 0, 2).into(),
        )
    }

    pub fn with_addrs(
        client_cfg: Config,
        server_cfg: Config,
        delay: Duration,
        client_addr: IpAddr,
        server_addr: IpAddr,
    ) -> Wire {
        let seed = server_cfg.seed;
        let mut client = Engine::new(client_cfg, CLIENT, client_addr);
        let mut server = Engine::new(server_cfg, SERVER, server_addr);
        client.set_segment_ids(1, 2);
        server.set_segment_ids(2, 2);
        Wire {
            now: Instant::ZERO,
            client,
            server,
            injector: Injector::new(SERVER, seed),
            delay,
            flying: VecDeque::new(),
            events: Vec::new(),
            frozen: [false, false],
            captures: None,
        }
    }

    pub fn engine(&mut self, side: Side) -> &mut Engine {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    /// Keep a copy of every packet that reaches an injector (`--pcap`).
    pub fn enable_capture(&mut self) {
        self.captures.get_or_insert_with(Vec::new);
    }

    /// Packets captured since the last call.
    pub fn take_captures(&mut self) -> Vec<Capture> {
        self.captures
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Into the injector; the capture says what the injector did to it.
    fn inject(&mut self, now: Instant, p: Packet) {
        if self.captures.is_none() {
            self.injector.process(now, p);
            return;
        }
        let (id, dir, bytes) = (p.id, p.dir, p.bytes.clone());
        self.injector.process(now, p);
        let mut comment = None;
        while let Some(e) = self.injector.poll_event() {
            comment = crate::fault::verdict_comment(&e, id).or(comment);
            self.events.push(e);
        }
        if let Some(caps) = self.captures.as_mut() {
            caps.push(Capture {
                t: now,
                dir,
                bytes,
                comment,
            });
        }
    }

    /// Stop (or restart) a host's clock, as when the machine crashed.
    pub fn set_frozen(&mut self, side: Side, frozen: bool) {
        self.frozen[side as usize] = frozen;
    }

    pub fn is_frozen(&self, side: Side) -> bool {
        self.frozen[side as usize]
    }

    pub fn delay(&self) -> Duration {
        self.delay
    }

    /// Events produced since the last call, in the order they happened.
    pub fn take_events(&mut self) -> Vec<Event> {
        self.collect();
        std::mem::take(&mut self.events)
    }

    /// As [`Wire::take_events`], appended to `out`: a caller that reuses
    /// `out` makes no allocation for the events of a run already under way.
    pub fn take_events_into(&mut self, out: &mut Vec<Event>) {
        self.collect();
        out.append(&mut self.events);
    }

    fn collect(&mut self) {
        self.client.append_events(&mut self.events);
        self.server.append_events(&mut self.events);
        while let Some(e) = self.injector.poll_event() {
            self.events.push(e);
        }
    }

    /// Move everything that can move at `now`: transmissions onto the wire,
    /// deliveries from the injector into the engines.
    pub fn flush(&mut self) {
        loop {
            self.collect();
            let mut progress = false;
            while let Some(tx) = self.client.poll_transmit() {
                self.launch(Packet::new(tx.id, Dir::In, tx.packet));
                progress = true;
            }
            while let Some(tx) = self.server.poll_transmit() {
                self.launch(Packet::new(tx.id, Dir::Out, tx.packet));
                progress = true;
            }
            self.collect();
            while let Some(p) = self.injector.poll_deliver() {
                progress = true;
                self.collect();
                // The buffer goes back to the engine that built it.
                match p.dir {
                    Dir::In => {
                        self.server.receive(self.now, p.id, &p.bytes);
                        self.client.recycle(p.bytes);
                    }
                    Dir::Out => {
                        self.client.receive(self.now, p.id, &p.bytes);
                        self.server.recycle(p.bytes);
                    }
                }
                self.collect();
            }
            if !progress {
                break;
            }
        }
    }

    fn launch(&mut self, p: Packet) {
        let arrival = self.now + self.delay;
        debug_assert!(self.flying.back().is_none_or(|b| b.0 <= arrival));
        self.flying.push_back((arrival, p));
    }

    /// The next time anything happens on its own.
    pub fn next_wakeup(&self) -> Option<Instant> {
        [
            self.client.poll_at().filter(|_| !self.frozen[0]),
            self.server.poll_at().filter(|_| !self.frozen[1]),
            self.injector.poll_at(),
            self.flying.front().map(|f| f.0),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Advance the clock to `t`, processing everything due on the way.
    pub fn run_until(&mut self, t: Instant) {
        self.flush();
        while let Some(next) = self.next_wakeup() {
            if next > t {
                break;
            }
            self.step_to(next);
        }
        if t > self.now {
            self.now = t;
        }
    }

    /// Advance to `t` (not before now) and process what is due there.
    fn step_to(&mut self, t: Instant) {
        self.now = self.now.max(t);
        let now = self.now;
        while let Some(f) = self.flying.front() {
            if f.0 > now {
                break;
            }
            let (_, p) = self.flying.pop_front().expect("peeked");
            self.inject(now, p);
            self.flush();
        }
        self.injector.on_timer(now);
        self.flush();
        if !self.frozen[0] && self.client.poll_at().is_some_and(|d| d <= now) {
            self.client.on_timer(now);
        }
        if !self.frozen[1] && self.server.poll_at().is_some_and(|d| d <= now) {
            self.server.on_timer(now);
        }
        self.flush();
    }

    /// Packets on the wire right now.
    pub fn in_flight(&self) -> usize {
        self.flying.len()
    }
}
