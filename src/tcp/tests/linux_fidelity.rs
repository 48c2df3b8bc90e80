//! The `linux` profile where Linux's TCP departs from the RFCs (issue 20:
//! the packetdrill suites pin these down), each beside the `rfc` profile,
//! which keeps the RFC. The test plays the peer 100 ms away, MSS 1000,
//! and checks the exact segments.

use std::time::Duration;

use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

const SEG: u32 = 1000;

fn linux() -> Config {
    linux_test_config()
}

fn rfc() -> Config {
    Config {
        initial_cwnd: Some(10),
        ..test_config()
    }
}

/// ESTABLISHED as the server: the peer offered MSS 1000 and its ACK of our
/// SYN+ACK came 100 ms later with window `win`.
fn server(cfg: Config, win: u16) -> H {
    let mut h = H::new(cfg);
    h.e.listen(h.now, 80, None).unwrap();
    let mut syn = h.seg(S, IRS, 0);
    syn.options = mss(SEG as u16);
    h.input(syn);
    let sa = h.output().unwrap();
    h.iss = sa.seq.0;
    h.conn = h.e.find(h.us, h.them);
    h.advance(ms(100));
    let mut ack = h.seg(A, IRS + 1, h.iss + 1);
    ack.window = win;
    h.input(ack);
    h.expect_none();
    assert_eq!(h.e.accept(80), h.conn);
    h
}

/// Data at `off` (bytes after our ISS + 1), `len` long, with `flags`.
fn data(h: &H, flags: Flags, off: u32, len: usize) -> Segment {
    let mut s = h.reply(flags, h.iss + 1 + off, IRS + 1, OUR_WIN);
    s.payload = vec![0; len];
    s
}

/// Take what the engine sends now, keeping flags, offset and length.
fn sent(h: &mut H) -> Vec<(Flags, u32, usize)> {
    let mut v = Vec::new();
    while let Some(s) = h.output() {
        v.push((s.flags, s.seq.0.wrapping_sub(h.iss + 1), s.payload.len()));
    }
    v
}

fn peer_ack(h: &mut H, off: u32, win: u16) {
    let mut a = h.seg(A, IRS + 1, h.iss + 1 + off);
    a.window = win;
    h.input(a);
}

/// Linux pushes the last segment of every packet of more than one segment
/// (a TSO packet), not only the segment that empties the send queue; with
/// SRTT 100 ms its packets are tcp_min_tso_segs (2) segments long, and the
/// one segment the peer's window leaves over goes alone, without PSH.
#[test]
fn linux_pushes_the_last_segment_of_each_run() {
    let linux_run = vec![(A, 0, 1000), (P | A, 1000, 1000), (A, 2000, 1000)];
    let rfc_run = vec![(A, 0, 1000), (A, 1000, 1000), (A, 2000, 1000)];
    for (cfg, run) in [(linux(), linux_run), (rfc(), rfc_run)] {
        let mut h = server(cfg, 3000);
        let c = h.conn.unwrap();
        h.e.send(h.now, c, &[0; 10_000]).unwrap();
        // The peer's window takes three segments; more is queued.
        assert_eq!(sent(&mut h), run);
        h.advance(ms(100));
        peer_ack(&mut h, 3000, 3000);
        let next: Vec<_> = run.iter().map(|&(f, o, l)| (f, o + 3000, l)).collect();
        assert_eq!(sent(&mut h), next);
    }
}

/// Linux sizes what it sends at once into TSO packets (tcp_write_xmit): at
/// most half the congestion window each (tcp_cwnd_test), at most what
/// tcp_tso_autosize gives, at least tcp_min_tso_segs; each packet of more
/// than one segment ends with PSH. The initial window of ten segments goes
/// as 2-segment packets by default and as two 5-segment packets when the
/// minimum is 10 (as the packetdrill scripts slow-start-after-idle and
/// -after-win-update set it).
#[test]
fn linux_sizes_tso_packets() {
    let pushed_every = |n: u32| -> Vec<(Flags, u32, usize)> {
        (0..10)
            .map(|k| {
                let f = if (k + 1) % n == 0 { P | A } else { A };
                (f, k * SEG, SEG as usize)
            })
            .collect()
    };
    let ten = Config {
        min_tso_segs: 10,
        ..linux()
    };
    let rfc_run: Vec<_> = (0..10)
        .map(|k| (if k == 9 { P | A } else { A }, k * SEG, SEG as usize))
        .collect();
    for (cfg, want) in [
        (linux(), pushed_every(2)),
        (ten, pushed_every(5)),
        (rfc(), rfc_run),
    ] {
        let mut h = server(cfg, 60000);
        let c = h.conn.unwrap();
        h.e.send(h.now, c, &[0; 10_000]).unwrap();
        assert_eq!(sent(&mut h), want);
    }
}

/// A segment that carried the end of a write keeps PSH when it is sent
/// again (Linux retransmits the stored segment); the RFC profile sends a
/// retransmission without it.
#[test]
fn linux_keeps_psh_on_a_retransmission() {
    for (cfg, flags) in [(linux(), P | A), (rfc(), A)] {
        let mut h = server(cfg, 60000);
        let c = h.conn.unwrap();
        h.e.send(h.now, c, &[0; 1000]).unwrap();
        h.expect(data(&h, P | A, 0, 1000));
        // Nothing comes back: the RTO (300 ms after SRTT 100 ms, RTTVAR 50
        // ms, in the linux profile; 1 s in the rfc) sends it again.
        h.advance(Duration::from_secs(1));
        h.expect(data(&h, flags, 0, 1000));
    }
}

fn cwnd_segs(h: &H) -> u32 {
    h.e.tcb(h.conn.unwrap()).unwrap().cwnd() / SEG
}

/// Slow start with an ACK for every second segment: Linux adds a segment
/// per segment acknowledged (cwnd 10 → 20 over the first window), RFC
/// 5681 §3.1 at most one SMSS per ACK (10 → 15).
#[test]
fn linux_slow_start_counts_every_segment_acked() {
    for (cfg, after) in [(linux(), 20), (rfc(), 15)] {
        let mut h = server(cfg, 60000);
        let c = h.conn.unwrap();
        h.e.send(h.now, c, &[0; 40_000]).unwrap();
        assert_eq!(sent(&mut h).len(), 10);
        h.advance(ms(100));
        for k in 1..=5 {
            peer_ack(&mut h, 2000 * k, 60000);
        }
        assert_eq!(cwnd_segs(&h), after);
    }
}

/// An application that sends less than the window: Linux does not grow
/// it (tcp_is_cwnd_limited: two segments out never call for more than
/// four), the RFC profile does, one SMSS per ACK.
#[test]
fn linux_grows_the_window_only_while_it_is_the_limit() {
    for (cfg, after) in [(linux(), 10), (rfc(), 14)] {
        let mut h = server(cfg, 60000);
        let c = h.conn.unwrap();
        for _ in 0..4 {
            h.e.send(h.now, c, &[0; 1000]).unwrap();
            let out = sent(&mut h);
            assert_eq!(out.len(), 1);
            h.advance(ms(100));
            peer_ack(&mut h, out[0].1 + 1000, 60000);
        }
        assert_eq!(cwnd_segs(&h), after);
    }
}

/// The peer's data, ACKed at once (quick ACK in linux; the rfc profile is
/// given no delayed ACK), and read.
fn data_in(h: &mut H) {
    let c = h.conn.unwrap();
    h.input(with_payload(h.seg(P | A, IRS + 1, h.iss + 1), &[7; 100]));
    h.expect(h.reply(A, h.iss + 1, IRS + 101, OUR_WIN - 100));
    h.e.recv(h.now, c, &mut [0; 100]).unwrap();
    h.output();
}

/// A bare FIN in ESTABLISHED after data: Linux waits the delayed-ACK time
/// (40 ms) for the application's FIN to carry the ACK; the RFC profile ACKs
/// at once.
#[test]
fn linux_delays_the_ack_of_a_bare_fin() {
    for (cfg, wait) in [
        (linux(), ms(40)),
        (
            Config {
                delayed_ack: Duration::ZERO,
                ..rfc()
            },
            ms(0),
        ),
    ] {
        let mut h = server(cfg, 60000);
        data_in(&mut h);
        h.advance(ms(100));
        h.input(h.seg(F | A, IRS + 101, h.iss + 1));
        assert_eq!(h.state(), Some(State::CloseWait));
        if !wait.is_zero() {
            h.expect_none();
            h.advance(wait - Duration::from_micros(1));
            h.expect_none();
            h.advance(Duration::from_micros(1));
        }
        h.expect(h.reply(A, h.iss + 1, IRS + 102, OUR_WIN - 100));
        // The application's close then sends its FIN, nothing else.
        h.e.shutdown(h.now, h.conn.unwrap()).unwrap();
        h.expect(h.reply(F | A, h.iss + 1, IRS + 102, OUR_WIN - 100));
        h.expect_none();
    }
}

/// The application closes within the delay: its FIN carries the ACK. With
/// no data before the FIN Linux's ACK timeout is still zero: at once.
#[test]
fn linux_fin_ack_rides_on_our_fin() {
    let mut h = server(linux(), 60000);
    data_in(&mut h);
    h.input(h.seg(F | A, IRS + 101, h.iss + 1));
    h.expect_none();
    h.advance(ms(10));
    h.e.shutdown(h.now, h.conn.unwrap()).unwrap();
    h.expect(h.reply(F | A, h.iss + 1, IRS + 102, OUR_WIN - 100));
    h.advance(ms(100));
    h.expect_none();

    let mut h = server(linux(), 60000);
    h.input(h.seg(F | A, IRS + 1, h.iss + 1));
    h.expect(h.reply(A, h.iss + 1, IRS + 2, OUR_WIN));
}

/// Grow cwnd to `segs` segments by sending windows of data and ACKing them
/// every second segment, 100 ms later each time.
fn grow_to(h: &mut H, segs: u32) -> u32 {
    let c = h.conn.unwrap();
    let mut off = 0;
    while cwnd_segs(h) < segs {
        h.e.send(h.now, c, &vec![0; (cwnd_segs(h) * SEG) as usize])
            .unwrap();
        let out = sent(h);
        h.advance(ms(100));
        for s in out.chunks(2) {
            off = s.last().unwrap().1 + SEG;
            peer_ack(h, off, 60000);
        }
    }
    off
}

/// Idle for one and a half RTOs, then a write: the rfc profile restarts
/// from the initial window (RFC 5681 §4.1), Linux halves the window once
/// per RTO idle (tcp_cwnd_restart), and with tcp_slow_start_after_idle 0
/// keeps it.
#[test]
fn slow_start_after_idle_as_set() {
    let off = Config {
        slow_start_after_idle: false,
        ..linux()
    };
    type After = fn(u32) -> u32;
    let cases: [(Config, After); 3] = [(linux(), |w| w / 2), (off, |w| w), (rfc(), |_| 10)];
    for (cfg, after) in cases {
        let mut h = server(cfg, 60000);
        grow_to(&mut h, 40);
        let before = cwnd_segs(&h);
        let rto = h.e.tcb(h.conn.unwrap()).unwrap().rto();
        h.advance(rto * 3 / 2);
        h.e.send(h.now, h.conn.unwrap(), &[0; 60_000]).unwrap();
        assert_eq!(
            sent(&mut h).len() as u32,
            after(before),
            "cwnd was {before}"
        );
    }
}

/// A zero window after slow start, data written, probes, then the window
/// opens two and a half RTOs after the last data went out. Linux checks
/// for idleness when data is queued and when the window changes
/// (tcp_slow_start_after_idle_check), never on sending: the probes (no
/// data, tcp_xmit_probe_skb) leave the window alone, and the window update
/// halves it once per RTO idle (tcp_cwnd_restart: 40 → 20 → 10): ten
/// segments go out, in packets of tcp_min_tso_segs (2) as SRTT 100 ms
/// sizes them. Before, a probe counted as a send: the window was halved
/// once at the first probe (40 → 20) and not again.
#[test]
fn linux_window_restarts_when_a_zero_window_opens() {
    let mut h = server(linux(), 60000);
    let off = grow_to(&mut h, 40);
    assert_eq!(cwnd_segs(&h), 40);
    let c = h.conn.unwrap();
    let rto = h.e.tcb(c).unwrap().rto();
    // The last data went out 100 ms ago; all of it is acknowledged.
    peer_ack(&mut h, off, 0);
    h.e.send(h.now, c, &[0; 20_000]).unwrap();
    assert_eq!(sent(&mut h), vec![]);
    h.advance(rto);
    assert_eq!(sent(&mut h), vec![(A, off - 1, 0)], "the first probe");
    assert_eq!(cwnd_segs(&h), 40, "a probe is no restart");
    h.advance(rto * 3 / 2);
    assert_eq!(sent(&mut h), vec![], "the second probe is due at 3 RTOs");
    peer_ack(&mut h, off, 60000);
    let p = P | A;
    let segs = (0..10)
        .map(|i| (if i % 2 == 1 { p } else { A }, off + i * SEG, SEG as usize))
        .collect::<Vec<_>>();
    assert_eq!(sent(&mut h), segs);
    assert_eq!(cwnd_segs(&h), 10);
}

/// ABORT in ESTABLISHED: Linux's RST carries ACK (tcp_send_active_reset),
/// RFC 9293 §3.10.5's is <SEQ=SND.NXT><CTL=RST>.
#[test]
fn linux_abort_sends_rst_with_ack() {
    for (cfg, flags, ack) in [(linux(), R | A, IRS + 1), (rfc(), R, 0)] {
        let mut h = server(cfg, 60000);
        h.e.abort(h.now, h.conn.unwrap()).unwrap();
        h.expect(h.reply(flags, h.iss + 1, ack, 0));
        assert_eq!(h.state(), None, "the TCB is deleted");
    }
}

/// close() with received data never read: RST, not FIN (RFC 1122
/// §4.2.2.13, Linux's tcp_close), in both profiles; Linux's with ACK.
#[test]
fn close_with_unread_data_resets() {
    for (cfg, flags, ack) in [(linux(), R | A, IRS + 101), (rfc(), R, 0)] {
        let mut h = server(cfg, 60000);
        let c = h.conn.unwrap();
        h.input(with_payload(h.seg(P | A, IRS + 1, h.iss + 1), &[7; 100]));
        h.output();
        h.e.close(h.now, c).unwrap();
        h.expect(h.reply(flags, h.iss + 1, ack, 0));
        h.expect_none();
        assert_eq!(h.state(), None, "the TCB is deleted");
    }
}

/// A zero window with data waiting: Linux probes with no data at
/// SND.UNA − 1 (tcp_xmit_probe_skb), backing off, and sends the data when
/// the window opens; the rfc profile probes with a byte of new data.
#[test]
fn linux_zero_window_probe_has_no_data() {
    for (cfg, linux_probe) in [(linux(), true), (rfc(), false)] {
        let mut h = server(cfg, 0);
        let c = h.conn.unwrap();
        h.e.send(h.now, c, &[0; 500]).unwrap();
        h.expect_none();
        let rto = h.e.tcb(c).unwrap().rto();
        h.advance(rto);
        let got = h.output().expect("a probe");
        let want = if linux_probe {
            (h.iss, 0)
        } else {
            (h.iss + 1, 1)
        };
        assert_eq!(
            (got.flags, got.seq.0, got.payload.len()),
            (A, want.0, want.1)
        );
        if linux_probe {
            // Backed off: the next one twice as late.
            h.advance(rto * 2 - Duration::from_micros(1));
            h.expect_none();
            h.advance(Duration::from_micros(1));
            let again = h.output().expect("a second probe");
            assert_eq!((again.seq.0, again.payload.len()), (h.iss, 0));
            peer_ack(&mut h, 0, 60000);
            h.expect(data(&h, P | A, 0, 500));
        }
    }
}

/// A buffer larger than the unscaled window field: reading cannot make the
/// window twice what was offered, so the read sends no window update (as
/// Linux's __tcp_cleanup_rbuf against its window clamp); the delayed ACK
/// carries the data's acknowledgement.
#[test]
fn no_window_update_the_field_cannot_carry() {
    let cfg = Config {
        window_scaling: false,
        recv_buf: 540_000,
        ..rfc()
    };
    let mut h = server(cfg, 60000);
    let c = h.conn.unwrap();
    h.input(with_payload(h.seg(P | A, IRS + 1, h.iss + 1), &[7; 1000]));
    h.expect_none();
    h.e.recv(h.now, c, &mut [0; 1000]).unwrap();
    h.expect_none();
    h.advance(ms(200));
    h.expect(h.reply(A, h.iss + 1, IRS + 1001, 65535));
}

/// With timestamps on, Linux's RST+ACK goes out the normal way and carries
/// the timestamp option (tcp_send_active_reset); a bare RST carries none.
#[test]
fn linux_active_reset_carries_timestamps() {
    for (cfg, with_ts) in [(linux(), true), (rfc(), false)] {
        let cfg = Config {
            timestamps: true,
            ..cfg
        };
        let mut h = H::new(cfg);
        h.e.listen(h.now, 80, None).unwrap();
        let mut syn = h.seg(S, IRS, 0);
        syn.options = TcpOptions {
            mss: Some(SEG as u16),
            timestamp: Some((7, 0)),
            ..Default::default()
        };
        h.input(syn);
        let sa = h.output().unwrap();
        h.iss = sa.seq.0;
        h.conn = h.e.find(h.us, h.them);
        let mut ack = h.seg(A, IRS + 1, h.iss + 1);
        ack.options.timestamp = Some((8, sa.options.timestamp.unwrap().0));
        h.input(ack);
        h.e.abort(h.now, h.conn.unwrap()).unwrap();
        let rst = h.output().unwrap();
        assert!(rst.flags.rst());
        assert_eq!(rst.options.timestamp.map(|t| t.1), with_ts.then_some(8));
    }
}

/// Our pure ACK of `upto` (an offset) with SACK blocks as offsets.
fn peer_sack(h: &mut H, upto: u32, win: u16, blocks: &[(u32, u32)]) {
    let mut a = h.seg(A, IRS + 1, h.iss + 1 + upto);
    a.window = win;
    a.options.sack = blocks
        .iter()
        .map(|&(l, r)| (SeqNum(h.iss + 1 + l), SeqNum(h.iss + 1 + r)))
        .collect();
    h.input(a);
}

/// Linux sends a lost skb again whole (tcp_xmit_retransmit_queue,
/// __tcp_retransmit_skb): what went out as one TSO packet, less what the
/// ACK and the SACK blocks cut off it, and a packet of more than one
/// segment ends with PSH as new data's do. The initial window goes as five
/// 2-segment packets; the peer acknowledges the first segment and SACKs
/// 3000–4000 and 6000–10000. The rest of the first packet and the head of
/// the second are single segments, without PSH; the third packet goes
/// again whole, its last segment pushed. The rfc profile pushes none.
#[test]
fn linux_pushes_the_last_segment_of_a_packet_sent_again_whole() {
    let linux_rtx = vec![
        (A, 1000, 1000),
        (A, 2000, 1000),
        (A, 4000, 1000),
        (P | A, 5000, 1000),
    ];
    let rfc_rtx = vec![
        (A, 1000, 1000),
        (A, 2000, 1000),
        (A, 4000, 1000),
        (A, 5000, 1000),
    ];
    let sack = |cfg: Config| Config { sack: true, ..cfg };
    for (cfg, want) in [(sack(linux()), linux_rtx), (sack(rfc()), rfc_rtx)] {
        let mut h = H::new(cfg);
        h.e.listen(h.now, 80, None).unwrap();
        let mut syn = h.seg(S, IRS, 0);
        syn.options = TcpOptions {
            mss: Some(SEG as u16),
            sack_perm: true,
            ..Default::default()
        };
        h.input(syn);
        let sa = h.output().unwrap();
        h.iss = sa.seq.0;
        h.conn = h.e.find(h.us, h.them);
        h.advance(ms(100));
        peer_ack(&mut h, 0, 60000);
        let c = h.e.accept(80).unwrap();
        h.e.send(h.now, c, &[0; 10_000]).unwrap();
        assert_eq!(sent(&mut h).len(), 10);
        h.advance(ms(100));
        peer_sack(&mut h, 1000, 60000, &[(3000, 4000), (6000, 10_000)]);
        assert_eq!(sent(&mut h), want);
    }
}
