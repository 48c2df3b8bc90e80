//! Fuzz entry points, shared by the cargo-fuzz targets in `fuzz/` and the
//! regression test that replays every input in `fuzz/regressions/`.
//!
//! Each function takes arbitrary bytes and must never panic; the assertions
//! inside are properties the input must not be able to break.

use std::net::SocketAddr;
use std::time::Duration;

use crate::scenario::{Run, Scenario};
use crate::settings::Overrides;
use crate::tcp::{Config, Engine, Keepalive, SeqNum};
use crate::time::Instant;
use crate::wire::{self, Flags, Segment, TcpOptions};

/// Parsing never panics; a parsed segment emits to a packet that parses
/// back to the same segment (SACK blocks may be trimmed to fit).
pub fn parse(data: &[u8]) {
    // First byte odd: fix up the IPv4 and TCP checksums so that the fuzzer
    // reaches the header and option parsing behind them.
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut packet = rest.to_vec();
    if mode & 1 == 1 {
        fix_checksums(&mut packet);
    }
    let Ok(seg) = wire::parse(&packet) else {
        return;
    };
    let again = seg.emit();
    let back = wire::parse(&again).expect("a re-emitted segment parses");
    assert_eq!(
        (
            back.src,
            back.dst,
            back.seq,
            back.ack,
            back.flags,
            back.window
        ),
        (seg.src, seg.dst, seg.seq, seg.ack, seg.flags, seg.window)
    );
    assert_eq!(back.payload, seg.payload);
    let (a, b) = (&back.options, &seg.options);
    assert_eq!(
        (a.mss, a.wscale, a.sack_perm, a.timestamp),
        (b.mss, b.wscale, b.sack_perm, b.timestamp)
    );
    assert!(b.sack.starts_with(&a.sack), "SACK blocks kept in order");
}

/// Recompute the IPv4 header checksum and the TCP checksum in place, where
/// the lengths allow.
fn fix_checksums(p: &mut [u8]) {
    if p.len() < 20 {
        return;
    }
    let ihl = usize::from(p[0] & 0x0f) * 4;
    if ihl < 20 || ihl > p.len() {
        return;
    }
    let sum16 = |bytes: &[u8], init: u32| -> u16 {
        let mut sum = init;
        for pair in bytes.chunks(2) {
            let hi = u32::from(pair[0]) << 8;
            let lo = pair.get(1).copied().map(u32::from).unwrap_or(0);
            sum += hi | lo;
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    };
    p[10] = 0;
    p[11] = 0;
    let c = sum16(&p[..ihl], 0);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    let total = usize::from(u16::from_be_bytes([p[2], p[3]])).min(p.len());
    if total < ihl + 18 {
        return;
    }
    p[ihl + 16] = 0;
    p[ihl + 17] = 0;
    let tcp_len = total - ihl;
    let mut pseudo = 0u32;
    for w in [
        u16::from_be_bytes([p[12], p[13]]),
        u16::from_be_bytes([p[14], p[15]]),
        u16::from_be_bytes([p[16], p[17]]),
        u16::from_be_bytes([p[18], p[19]]),
        6,
        tcp_len as u16,
    ] {
        pseudo += u32::from(w);
    }
    let c = sum16(&p[ihl..total], pseudo);
    p[ihl + 16..ihl + 18].copy_from_slice(&c.to_be_bytes());
}

/// A cursor over the fuzzer's bytes; reads past the end give zeros.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

const US: &str = "10.0.0.2:80";
const THEM: &str = "10.0.0.1:40000";

/// Drive an engine with a listener and (usually) one connection through an
/// arbitrary sequence of inputs, user calls and clock steps; twice, as the
/// demos run it and corked as live mode runs it (`Config::cork`, flushed
/// before each step as the runtime does before each round).
pub fn engine(data: &[u8]) {
    drive_engine(data, false);
    drive_engine(data, true);
}

fn drive_engine(data: &[u8], cork: bool) {
    let mut b = Bytes(data);
    let cfg = Config {
        recv_buf: 1 + usize::from(b.u16()),
        send_buf: 1 + usize::from(b.u16()),
        timestamps: b.u8() & 1 == 1,
        sack: b.u8() & 1 == 1,
        window_scaling: b.u8() & 1 == 1,
        backlog: 1 + usize::from(b.u8() % 8),
        max_connections: 32,
        ooo_max_segments: 1 + usize::from(b.u8() % 16),
        cork,
        ..Config::default()
    };
    let us: SocketAddr = US.parse().expect("constant");
    let them: SocketAddr = THEM.parse().expect("constant");
    let mut e = Engine::new(cfg, "fuzz", us.ip());
    // Raw IPv6 packets from the input reach the demux too.
    e.add_addr(std::net::Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 2));
    let mut now = Instant::ZERO;
    let _ = e.listen(now, 80, None);
    let mut conns = Vec::new();
    let mut id = 1u64;
    let mut steps = 0;
    while !b.is_empty() && steps < 2000 {
        steps += 1;
        e.flush(now);
        match b.u8() % 12 {
            0 => {
                let n = usize::from(b.u8());
                let raw = b.take(n).to_vec();
                e.receive(now, id, &raw);
            }
            1..=4 => {
                // A segment near the connection's own numbers.
                let (rcv_nxt, snd_nxt) = e
                    .find(us, them)
                    .and_then(|c| e.tcb(c))
                    .map(|t| (t.rcv_nxt().0, t.snd_nxt().0))
                    .unwrap_or((0, 0));
                let flags = Flags(b.u8());
                let seq = rcv_nxt.wrapping_add(i32::from(b.u16() as i16) as u32);
                let ack = snd_nxt.wrapping_add(i32::from(b.u16() as i16) as u32);
                let window = b.u16();
                let opt = b.u8();
                let mut options = TcpOptions::default();
                if opt & 1 != 0 {
                    options.mss = Some(b.u16());
                }
                if opt & 2 != 0 {
                    options.wscale = Some(b.u8());
                }
                if opt & 4 != 0 {
                    options.timestamp = Some((b.u32(), b.u32()));
                }
                options.sack_perm = opt & 8 != 0;
                if opt & 16 != 0 {
                    let l = SeqNum(b.u32());
                    options.sack = vec![(l, l + u32::from(b.u16()))];
                }
                let len = usize::from(b.u8()) * 8;
                let mut src = them;
                if opt & 32 != 0 {
                    src.set_port(b.u16());
                }
                let seg = Segment {
                    src,
                    dst: us,
                    seq: SeqNum(seq),
                    ack: SeqNum(ack),
                    flags,
                    window,
                    urgent: 0,
                    options,
                    payload: vec![0x61; len],
                };
                e.receive(now, id, &seg.emit());
            }
            5 => {
                let n = usize::from(b.u16());
                for c in &conns {
                    let _ = e.send(now, *c, &vec![0x62; n]);
                }
            }
            6 => {
                let mut buf = vec![0u8; usize::from(b.u16())];
                for c in &conns {
                    let _ = e.recv(now, *c, &mut buf);
                }
            }
            7 => match b.u8() % 3 {
                0 => conns.iter().for_each(|c| {
                    let _ = e.shutdown(now, *c);
                }),
                1 => conns.iter().for_each(|c| {
                    let _ = e.close(now, *c);
                }),
                _ => conns.iter().for_each(|c| {
                    let _ = e.abort(now, *c);
                }),
            },
            8 => {
                if let Ok(c) = e.connect(now, them, None) {
                    conns.push(c);
                }
            }
            9 => {
                let ka = Keepalive {
                    idle: Duration::from_millis(u64::from(b.u16())),
                    interval: Duration::from_millis(1 + u64::from(b.u16())),
                    count: u32::from(b.u8() % 5),
                };
                for c in &conns {
                    let _ = e.set_keepalive(now, *c, Some(ka));
                }
            }
            10 => e.forget_all(now),
            _ => {
                now += Duration::from_micros(u64::from(b.u32()));
                e.on_timer(now);
            }
        }
        id += 1;
        while e.poll_transmit().is_some() {}
        e.drain_events().for_each(drop);
        while let Some(c) = e.accept(80) {
            conns.push(c);
        }
        assert!(e.connection_count() <= 32, "the table limit holds");
        assert!(e.poll_at().is_none_or(|t| t >= now) || e.connection_count() > 0);
    }
    // Let every timer run out: everything must end without a panic.
    for _ in 0..200 {
        match e.poll_at() {
            Some(t) => {
                now = now.max(t);
                e.on_timer(now);
                e.flush(now);
                while e.poll_transmit().is_some() {}
                e.drain_events().for_each(drop);
            }
            None => break,
        }
    }
    e.flush(now);
    assert!(!e.needs_flush(), "a flush leaves nothing held");
}

/// Arbitrary text as a scenario: an error or a scenario, never a panic; one
/// that parses runs for at most 5 s of virtual time and 2,000 steps.
pub fn scenario(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut sc) = Scenario::parse("fuzz.toml", text) else {
        return;
    };
    sc.duration = Some(sc.duration.unwrap_or(5.0).min(5.0));
    if sc.steps.len() > 64 {
        return;
    }
    let mut run = Run::new(sc, &Overrides::default());
    let mut n = 0;
    while !run.is_finished() && n < 2_000 {
        run.advance_one(None);
        run.take_events();
        n += 1;
    }
}

/// Raw packets as `tcpscope watch` and `intercept` see them (any link
/// layer, any bytes, any clock) into events: never a panic, every event
/// serializes, times are finite; and the intercept path's promise: through
/// an injector whose only rule is for port 1, a packet that is not a TCP
/// segment of port 1 comes out byte for byte as it went in. The whole input
/// is also read as an nfnetlink datagram.
///
/// Frames: a byte choosing the link type (and the time step), two bytes of
/// length, that many bytes.
pub fn tap(data: &[u8]) {
    use crate::capture::{Stream, link};
    use crate::event::Dir;
    use crate::fault::{Action, DirMatch, Injector, Packet, Rule, Trigger};
    const LINKS: [u32; 8] = [
        link::ETHERNET,
        link::RAW,
        link::NULL,
        link::LOOP,
        link::LINUX_SLL,
        link::IPV4,
        link::IPV6,
        link::LINUX_SLL2,
    ];
    let _ = crate::tap::nfqueue::parse(data);
    // A small limit, so that forgetting connections is reached too.
    let mut stream = Stream::new(4);
    let mut inj = Injector::new("intercept", 7);
    inj.add_rule(
        Instant::ZERO,
        Rule {
            dir: DirMatch::Any,
            flags: None,
            payload: None,
            port: Some(1),
            trigger: Trigger::Always,
            action: Action::Corrupt,
        },
    );
    let mut sink = |e: crate::event::Event| -> Result<(), ()> {
        assert!(e.t.is_finite() && e.t >= 0.0, "event time {}", e.t);
        serde_json::to_string(&e).expect("an event serializes");
        Ok(())
    };
    let mut rest = data;
    let (mut n, mut ns) = (0u64, 0u64);
    while rest.len() >= 3 && n < 512 {
        let linktype = LINKS[usize::from(rest[0] & 7)];
        ns = ns.saturating_add(u64::from(rest[0] >> 3) << (rest[0] >> 3).min(40));
        let len = usize::from(u16::from_be_bytes([rest[1], rest[2]]));
        let end = (3 + len).min(rest.len());
        let frame = &rest[3..end];
        rest = &rest[end..];
        n += 1;
        let _ = stream.frame(n, ns, linktype, frame, &mut sink);
        let ip = crate::tap::ip_packet(linktype, frame);
        let dir = if n % 2 == 0 { Dir::In } else { Dir::Out };
        let now = Instant::from_micros(ns / 1000);
        inj.process(now, Packet::new(n, dir, ip.to_vec()));
        let ours = wire::peek(ip).is_some_and(|p| p.src.port() == 1 || p.dst.port() == 1);
        while let Some(out) = inj.poll_deliver() {
            assert_eq!(out.id, n, "nothing is held, delayed or reordered");
            if !ours {
                assert_eq!(out.bytes, ip, "a packet no rule matches passes unchanged");
            }
        }
        while let Some(e) = inj.poll_event() {
            sink(e).expect("infallible");
        }
    }
    let end = stream.latest();
    let _ = stream.finish(end, &mut sink);
}
