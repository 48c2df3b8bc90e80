//! Hostile input never panics: malformed packets are dropped with a named
//! reason, and well-formed but hostile segments get the RFC's answer.

use std::net::{Ipv4Addr, SocketAddr};

use proptest::prelude::*;
use tcpscope::event::{Body, DropReason};
use tcpscope::tcp::{Config, Engine, SeqNum};
use tcpscope::time::Instant;
use tcpscope::wire::{Flags, Segment, TcpOptions};

const US: &str = "10.0.0.2:80";
const THEM: &str = "10.0.0.1:40000";

fn engine() -> Engine {
    let cfg = Config {
        recv_buf: 8192,
        send_buf: 8192,
        ..Config::default()
    };
    let mut e = Engine::new(cfg, "tcpscope", "10.0.0.2".parse::<Ipv4Addr>().unwrap());
    e.listen(Instant::ZERO, 80, Some(4)).unwrap();
    e
}

fn seg(flags: Flags, seq: u32, ack: u32) -> Segment {
    Segment {
        src: THEM.parse().unwrap(),
        dst: US.parse().unwrap(),
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        flags,
        window: 1000,
        urgent: 0,
        options: TcpOptions::default(),
        payload: Vec::new(),
    }
}

fn drop_reasons(e: &mut Engine) -> Vec<DropReason> {
    e.drain_events()
        .filter_map(|ev| match ev.body {
            Body::Drop(d) => Some(d.reason),
            _ => None,
        })
        .collect()
}

#[test]
fn malformed_packets_are_dropped_with_a_reason() {
    let mut e = engine();
    let good = seg(Flags::SYN, 1, 0).emit();
    let t = Instant::ZERO;

    let mut bad_sum = good.clone();
    bad_sum[36] ^= 0xff; // TCP checksum
    e.receive(t, 1, &bad_sum);
    assert_eq!(drop_reasons(&mut e), [DropReason::Checksum]);

    let mut short_off = good.clone();
    short_off[32] = (4 << 4) | (short_off[32] & 0x0f);
    e.receive(t, 2, &short_off);
    assert_eq!(drop_reasons(&mut e), [DropReason::Malformed]);

    let mut beyond = good.clone();
    beyond[32] = (15 << 4) | (beyond[32] & 0x0f); // 60-byte header in a 40-byte packet
    e.receive(t, 3, &beyond);
    assert_eq!(drop_reasons(&mut e), [DropReason::Malformed]);

    e.receive(t, 4, &good[..30]);
    assert_eq!(drop_reasons(&mut e), [DropReason::Malformed]);

    // Not IP at all (version 1), and an IPv6 header cut short.
    e.receive(t, 5, &[0x10, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(drop_reasons(&mut e), [DropReason::NotIpv4Tcp]);
    e.receive(t, 5, &[0x60, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(drop_reasons(&mut e), [DropReason::Malformed]);

    // Option lengths 0 and 1, and a truncated option: rebuild the packet by
    // hand with a correct checksum so only the option is wrong.
    for opts in [
        [2u8, 0, 0, 0],
        [8, 1, 0, 0],
        [2, 4, 5, 0xb4 /* ok */],
        [3, 3, 0, 8],
    ] {
        let mut h = etherparse::TcpHeader::new(40000, 80, 1, 1000);
        h.syn = true;
        h.set_options_raw(&opts).unwrap();
        let ip = etherparse::Ipv4Header::new(
            h.header_len() as u16,
            64,
            etherparse::IpNumber::TCP,
            [10, 0, 0, 1],
            [10, 0, 0, 2],
        )
        .unwrap();
        let mut ip = ip;
        ip.header_checksum = ip.calc_header_checksum();
        h.checksum = h.calc_checksum_ipv4(&ip, &[]).unwrap();
        let mut p = ip.to_bytes().to_vec();
        p.extend_from_slice(&h.to_bytes());
        e.receive(t, 6, &p);
        let reasons = drop_reasons(&mut e);
        if opts[1] < 2 {
            assert_eq!(reasons, [DropReason::BadOption], "{opts:?}");
        } else if opts[0] == 3 {
            // A window scale of 8 in a 3-byte option with a stray byte
            // after it: the stray byte is an option kind with no length.
            assert_eq!(reasons, [DropReason::BadOption], "{opts:?}");
        } else {
            assert!(reasons.is_empty(), "{opts:?}: {reasons:?}");
        }
    }
}

#[test]
fn syn_fin_is_not_a_connection() {
    let mut e = engine();
    e.receive(Instant::ZERO, 1, &seg(Flags::SYN | Flags::FIN, 7, 0).emit());
    // Treated as a SYN (RFC 9293 handles SYN first); the FIN is beyond the
    // SYN-RECEIVED state's reach and must not close anything.
    let t = e.poll_transmit().unwrap();
    let reply = tcpscope::wire::parse(&t.packet).unwrap();
    assert_eq!(reply.flags, Flags::SYN | Flags::ACK);
    assert_eq!(reply.ack, SeqNum(8));
    let id = e
        .find(US.parse().unwrap(), THEM.parse::<SocketAddr>().unwrap())
        .unwrap();
    assert_eq!(e.state(id), Some(tcpscope::tcp::State::SynReceived));
}

#[derive(Debug, Clone)]
enum Step {
    Bytes(Vec<u8>),
    Seg {
        flags: u8,
        seq_off: i64,
        ack_off: i64,
        window: u16,
        mss: Option<u16>,
        ws: Option<u8>,
        ts: Option<(u32, u32)>,
        sack: Vec<(u32, u32)>,
        payload: usize,
    },
    Send(usize),
    Recv,
    Shutdown,
    Close,
    Abort,
    Connect,
    Wait(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..80).prop_map(Step::Bytes),
        (
            any::<u8>(),
            -70_000i64..70_000,
            -70_000i64..70_000,
            any::<u16>(),
            proptest::option::of(any::<u16>()),
            proptest::option::of(any::<u8>()),
            proptest::option::of((any::<u32>(), any::<u32>())),
            proptest::collection::vec((any::<u32>(), any::<u32>()), 0..4),
            0usize..3000,
        )
            .prop_map(
                |(flags, seq_off, ack_off, window, mss, ws, ts, sack, payload)| Step::Seg {
                    flags,
                    seq_off,
                    ack_off,
                    window,
                    mss,
                    ws,
                    ts,
                    sack,
                    payload,
                }
            ),
        (0usize..20_000).prop_map(Step::Send),
        Just(Step::Recv),
        Just(Step::Shutdown),
        Just(Step::Close),
        Just(Step::Abort),
        Just(Step::Connect),
        (0u64..400_000_000).prop_map(Step::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Sequences of hostile segments, raw bytes, user calls and clock jumps.
    /// Sequence and ack numbers are chosen near the connection's own so the
    /// segments reach deep into the state machine.
    #[test]
    fn no_input_sequence_panics(steps in proptest::collection::vec(step(), 1..60)) {
        let mut e = engine();
        let mut now = Instant::ZERO;
        let them: SocketAddr = THEM.parse().unwrap();
        let us: SocketAddr = US.parse().unwrap();
        let mut conns = Vec::new();
        let mut id = 1;
        // Start from an established connection half the time.
        e.receive(now, id, &seg(Flags::SYN, 5000, 0).emit());
        let iss = e.poll_transmit().map(|t| tcpscope::wire::parse(&t.packet).unwrap().seq.0).unwrap_or(0);
        e.receive(now, id + 1, &seg(Flags::ACK, 5001, iss.wrapping_add(1)).emit());
        id += 2;
        if let Some(c) = e.accept(80) { conns.push(c); }
        for s in steps {
            match s {
                Step::Bytes(b) => e.receive(now, id, &b),
                Step::Seg { flags, seq_off, ack_off, window, mss, ws, ts, sack, payload } => {
                    let (rcv_nxt, snd_nxt) = e
                        .find(us, them)
                        .and_then(|c| e.tcb(c))
                        .map(|t| (t.rcv_nxt().0, t.snd_nxt().0))
                        .unwrap_or((5001, iss.wrapping_add(1)));
                    let mut sg = seg(
                        Flags(flags),
                        (rcv_nxt as i64 + seq_off) as u32,
                        (snd_nxt as i64 + ack_off) as u32,
                    );
                    sg.window = window;
                    sg.options = TcpOptions {
                        mss,
                        wscale: ws,
                        sack_perm: flags & 1 == 1,
                        timestamp: ts,
                        sack: sack.into_iter().map(|(a, b)| (SeqNum(a), SeqNum(b))).collect(),
                    };
                    sg.payload = vec![0x41; payload];
                    e.receive(now, id, &sg.emit());
                }
                Step::Send(n) => {
                    for c in &conns { let _ = e.send(now, *c, &vec![7u8; n]); }
                }
                Step::Recv => {
                    let mut buf = [0u8; 4096];
                    for c in &conns { let _ = e.recv(now, *c, &mut buf); }
                }
                Step::Shutdown => { for c in &conns { let _ = e.shutdown(now, *c); } }
                Step::Close => { for c in &conns { let _ = e.close(now, *c); } }
                Step::Abort => { for c in &conns { let _ = e.abort(now, *c); } }
                Step::Connect => {
                    if let Ok(c) = e.connect(now, them, None) { conns.push(c); }
                }
                Step::Wait(us) => {
                    now += std::time::Duration::from_micros(us);
                    e.on_timer(now);
                }
            }
            id += 2;
            while e.poll_transmit().is_some() {}
            e.drain_events().for_each(drop);
            if let Some(c) = e.accept(80) { conns.push(c); }
            prop_assert!(e.connection_count() <= 64);
        }
    }
}
