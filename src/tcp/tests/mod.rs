//! Engine tests under virtual time. The test plays the peer: it hand-crafts
//! segments, feeds them to the engine, and asserts the exact segments that
//! come out (flags, seq, ack, len, window, options) and the exact states.
//! One fixture per state, in the habit of smoltcp.

mod chrono;
mod hardening;
mod ipv6;
mod linux_fidelity;
mod lost_last_ack;
mod offload;
mod pair;
mod quickack;
mod recovery;
mod reliability;
mod sack_fidelity;
mod sockbuf;
mod transitions;
mod user_timeout;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::event::{Body, Event, TimerAction, TimerKind};
use crate::tcp::{Config, ConnId, Engine, SeqNum, State};
use crate::time::Instant;
use crate::wire::{self, Flags, Segment, TcpOptions};

pub const S: Flags = Flags::SYN;
pub const A: Flags = Flags::ACK;
pub const F: Flags = Flags::FIN;
pub const R: Flags = Flags::RST;
pub const P: Flags = Flags::PSH;

/// The peer's initial sequence number in every fixture.
pub const IRS: u32 = 1000;
/// The peer's advertised window (no scaling in the fixtures).
pub const PEER_WIN: u16 = 5000;
/// Our receive buffer: the window we advertise.
pub const OUR_WIN: u16 = 4096;

pub fn test_config() -> Config {
    Config {
        timestamps: false,
        sack: false,
        window_scaling: false,
        recv_buf: OUR_WIN as usize,
        send_buf: 64 * 1024,
        seed: 1,
        ..Config::default()
    }
}

pub struct H {
    pub e: Engine,
    pub now: Instant,
    pub us: SocketAddr,
    pub them: SocketAddr,
    /// Our ISS, once known.
    pub iss: u32,
    pub conn: Option<ConnId>,
    next_id: u64,
    pub events: Vec<Event>,
}

impl H {
    pub fn new(cfg: Config) -> H {
        H {
            e: Engine::new(cfg, "tcpscope", "10.0.0.2".parse::<IpAddr>().unwrap()),
            now: Instant::ZERO,
            us: "10.0.0.2:80".parse().unwrap(),
            them: "10.0.0.1:40000".parse().unwrap(),
            iss: 0,
            conn: None,
            next_id: 1_000_001,
            events: Vec::new(),
        }
    }

    /// A segment from the peer.
    pub fn seg(&self, flags: Flags, seq: u32, ack: u32) -> Segment {
        Segment {
            src: self.them,
            dst: self.us,
            seq: SeqNum(seq),
            ack: SeqNum(ack),
            flags,
            window: PEER_WIN,
            urgent: 0,
            options: TcpOptions::default(),
            payload: Vec::new(),
        }
    }

    /// A segment we expect from the engine.
    pub fn reply(&self, flags: Flags, seq: u32, ack: u32, win: u16) -> Segment {
        Segment {
            src: self.us,
            dst: self.them,
            seq: SeqNum(seq),
            ack: SeqNum(ack),
            flags,
            window: win,
            urgent: 0,
            options: TcpOptions::default(),
            payload: Vec::new(),
        }
    }

    pub fn input(&mut self, s: Segment) {
        let id = self.next_id;
        self.next_id += 2;
        self.e.receive(self.now, id, &s.emit());
        self.pull_events();
    }

    pub fn pull_events(&mut self) {
        self.events.extend(self.e.drain_events());
    }

    pub fn output(&mut self) -> Option<Segment> {
        self.pull_events();
        self.e
            .poll_transmit()
            .map(|t| wire::parse(&t.packet).expect("the engine emits valid packets"))
    }

    pub fn expect(&mut self, want: Segment) {
        let got = self.output();
        assert_eq!(got.as_ref(), Some(&want), "at t={}", self.now);
    }

    pub fn expect_none(&mut self) {
        let got = self.output();
        assert_eq!(got, None, "at t={}: expected no segment", self.now);
    }

    /// Advance virtual time, firing timers on the way.
    pub fn advance(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    pub fn run_until(&mut self, t: Instant) {
        while let Some(at) = self.e.poll_at() {
            if at > t {
                break;
            }
            self.now = at;
            self.e.on_timer(at);
            self.pull_events();
        }
        self.now = t;
    }

    pub fn state(&self) -> Option<State> {
        self.e.state(self.conn.expect("fixture has a connection"))
    }

    /// Every state transition so far, in order.
    pub fn transitions(&self) -> Vec<(State, State)> {
        self.events
            .iter()
            .filter_map(|e| match &e.body {
                Body::State { from, to, .. } => Some((*from, *to)),
                _ => None,
            })
            .collect()
    }

    /// (timer, action, deadline) for every timer event so far.
    pub fn timers(&self, kind: TimerKind) -> Vec<(TimerAction, Option<f64>, f64)> {
        self.events
            .iter()
            .filter_map(|e| match &e.body {
                Body::Timer(t) if t.timer == kind => Some((t.action, t.deadline, e.t)),
                _ => None,
            })
            .collect()
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        self.events.iter().map(|e| e.kind()).collect()
    }

    pub fn clear_events(&mut self) {
        self.events.clear();
    }
}

/// The `linux` profile (CUBIC, RACK-TLP and its timers) with the fixtures'
/// simplifications: no window scaling or timestamps, our window OUR_WIN.
pub fn linux_test_config() -> Config {
    Config {
        timestamps: false,
        window_scaling: false,
        recv_buf: OUR_WIN as usize,
        send_buf: 64 * 1024,
        seed: 1,
        ..Config::profile(crate::tcp::Profile::Linux)
    }
}

pub fn secs(s: f64) -> Instant {
    Instant::from_secs_f64(s)
}

/// Deadlines of every `armed` event of a timer.
pub fn armed(h: &H, kind: TimerKind) -> Vec<f64> {
    h.timers(kind)
        .into_iter()
        .filter(|(a, _, _)| *a == TimerAction::Armed)
        .map(|(_, d, _)| d.unwrap())
        .collect()
}

pub fn mss(m: u16) -> TcpOptions {
    TcpOptions {
        mss: Some(m),
        ..Default::default()
    }
}

pub fn with_payload(mut s: Segment, p: &[u8]) -> Segment {
    s.payload = p.to_vec();
    s
}

// ----- fixtures: one per state ----------------------------------------------

pub fn listening() -> H {
    let mut h = H::new(test_config());
    h.e.listen(h.now, 80, None).unwrap();
    h.pull_events();
    h
}

/// LISTEN, then the peer's SYN; the SYN+ACK is checked and consumed.
pub fn syn_received() -> H {
    let mut h = listening();
    let mut syn = h.seg(S, IRS, 0);
    syn.options = mss(1460);
    h.input(syn);
    let sa = h.output().expect("SYN+ACK");
    h.iss = sa.seq.0;
    let mut want = h.reply(S | A, h.iss, IRS + 1, OUR_WIN);
    want.options = mss(1460);
    assert_eq!(sa, want);
    h.conn = h.e.find(h.us, h.them);
    assert_eq!(h.state(), Some(State::SynReceived));
    h
}

pub fn established() -> H {
    let mut h = syn_received();
    let ack = h.seg(A, IRS + 1, h.iss + 1);
    h.input(ack);
    h.expect_none();
    assert_eq!(h.state(), Some(State::Established));
    assert_eq!(h.e.accept(80), h.conn);
    h
}

/// ESTABLISHED, then our CLOSE: the FIN is checked and consumed.
pub fn fin_wait_1() -> H {
    let mut h = established();
    h.e.shutdown(h.now, h.conn.unwrap()).unwrap();
    let fin = h.reply(F | A, h.iss + 1, IRS + 1, OUR_WIN);
    h.expect(fin);
    assert_eq!(h.state(), Some(State::FinWait1));
    h
}

pub fn fin_wait_2() -> H {
    let mut h = fin_wait_1();
    let ack = h.seg(A, IRS + 1, h.iss + 2);
    h.input(ack);
    h.expect_none();
    assert_eq!(h.state(), Some(State::FinWait2));
    h
}

pub fn closing() -> H {
    let mut h = fin_wait_1();
    // The peer's FIN crosses ours: it does not acknowledge our FIN.
    let fin = h.seg(F | A, IRS + 1, h.iss + 1);
    h.input(fin);
    let ack = h.reply(A, h.iss + 2, IRS + 2, OUR_WIN);
    h.expect(ack);
    assert_eq!(h.state(), Some(State::Closing));
    h
}

pub fn time_wait() -> H {
    let mut h = fin_wait_2();
    let fin = h.seg(F | A, IRS + 1, h.iss + 2);
    h.input(fin);
    let ack = h.reply(A, h.iss + 2, IRS + 2, OUR_WIN);
    h.expect(ack);
    assert_eq!(h.state(), Some(State::TimeWait));
    h
}

pub fn close_wait() -> H {
    let mut h = established();
    let fin = h.seg(F | A, IRS + 1, h.iss + 1);
    h.input(fin);
    let ack = h.reply(A, h.iss + 1, IRS + 2, OUR_WIN);
    h.expect(ack);
    assert_eq!(h.state(), Some(State::CloseWait));
    h
}

pub fn last_ack() -> H {
    let mut h = close_wait();
    h.e.shutdown(h.now, h.conn.unwrap()).unwrap();
    let fin = h.reply(F | A, h.iss + 1, IRS + 2, OUR_WIN);
    h.expect(fin);
    assert_eq!(h.state(), Some(State::LastAck));
    h
}

/// ESTABLISHED, the peer's window closed (its zero-window ACK is returned),
/// and `data` queued: nothing may leave.
pub fn zero_window_with(data: &[u8]) -> (H, Segment) {
    let mut h = established();
    let c = h.conn.unwrap();
    let mut zw = h.seg(A, IRS + 1, h.iss + 1);
    zw.window = 0;
    h.input(zw.clone());
    h.e.send(h.now, c, data).unwrap();
    h.expect_none();
    (h, zw)
}

/// Active open from port 50000 to the peer: the SYN is checked and consumed.
pub fn syn_sent() -> H {
    let mut h = H::new(test_config());
    h.us = "10.0.0.2:50000".parse().unwrap();
    h.conn = Some(h.e.connect(h.now, h.them, Some(50000)).unwrap());
    h.pull_events();
    let syn = h.output().expect("SYN");
    h.iss = syn.seq.0;
    let mut want = h.reply(S, h.iss, 0, OUR_WIN);
    want.options = mss(1460);
    assert_eq!(syn, want);
    assert_eq!(h.state(), Some(State::SynSent));
    h
}
