//! Timers and reliability under virtual time: exact deadlines.

use std::time::Duration;

use super::*;
use crate::event::{AbortReason, Body, KeepaliveAction, Phase};
use crate::tcp::Keepalive;

fn fired_at(h: &H, kind: TimerKind) -> Vec<f64> {
    h.timers(kind)
        .into_iter()
        .filter(|(a, _, _)| *a == TimerAction::Fired)
        .map(|(_, _, t)| t)
        .collect()
}

fn abort_reason(h: &H) -> Option<(AbortReason, f64)> {
    h.events.iter().find_map(|e| match &e.body {
        Body::Abort { reason } => Some((reason.clone(), e.t)),
        _ => None,
    })
}

fn rtts(h: &H) -> Vec<(f64, f64, f64, f64)> {
    h.events
        .iter()
        .filter_map(|e| match &e.body {
            Body::Rtt {
                sample,
                srtt,
                rttvar,
                rto,
            } => Some((*sample, *srtt, *rttvar, *rto)),
            _ => None,
        })
        .collect()
}

#[test]
fn syn_is_retransmitted_with_doubling_rto_then_aborted() {
    let mut h = syn_sent();
    h.run_until(secs(200.0));
    // RFC 6298 §5.5: 1 s, doubled on every expiry; six retries (Linux
    // tcp_syn_retries) then give up at 1+2+4+8+16+32+64 = 127 s.
    assert_eq!(
        armed(&h, TimerKind::Retransmit),
        vec![1.0, 3.0, 7.0, 15.0, 31.0, 63.0, 127.0]
    );
    let mut syns = 0;
    while let Some(s) = h.output() {
        assert_eq!(s.flags, S);
        assert_eq!(s.seq, SeqNum(h.iss), "the same ISN every time");
        syns += 1;
    }
    assert_eq!(syns, 6);
    assert_eq!(
        abort_reason(&h),
        Some((AbortReason::RetransmitTimeout, 127.0))
    );
    assert_eq!(h.state(), None);
    // Retransmissions are marked in the events.
    let rtx = h
        .events
        .iter()
        .filter(|e| e.segment().is_some_and(|s| s.retransmit))
        .count();
    assert_eq!(rtx, 6);
}

/// A handshake with a known RTT: SYN at t=0, the ACK at t=0.1 s.
fn established_with_rtt(cfg: Config) -> H {
    let mut h = H::new(cfg);
    h.e.listen(h.now, 80, None).unwrap();
    h.input(h.seg(S, IRS, 0));
    h.iss = h.output().unwrap().seq.0;
    h.conn = h.e.find(h.us, h.them);
    h.run_until(secs(0.1));
    h.input(h.seg(A, IRS + 1, h.iss + 1));
    assert_eq!(h.state(), Some(State::Established));
    h
}

#[test]
fn rto_follows_rfc6298_after_known_samples() {
    let mut cfg = test_config();
    cfg.rto_min = Duration::from_millis(200);
    let mut h = established_with_rtt(cfg);
    // First sample R = 100 ms: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4·RTTVAR.
    assert_eq!(rtts(&h), vec![(0.1, 0.1, 0.05, 0.3)]);
    let c = h.conn.unwrap();
    h.run_until(secs(1.0));
    h.e.send(h.now, c, b"ping").unwrap();
    h.output().unwrap();
    assert_eq!(armed(&h, TimerKind::Retransmit).last(), Some(&1.3));
    h.run_until(secs(1.2));
    h.input(h.seg(A, IRS + 1, h.iss + 5));
    // Second sample R' = 200 ms: RTTVAR = 3/4·50 + 1/4·|100 − 200| = 62.5 ms,
    // SRTT = 7/8·100 + 1/8·200 = 112.5 ms, RTO = 112.5 + 4·62.5 = 362.5 ms.
    assert_eq!(rtts(&h)[1], (0.2, 0.1125, 0.0625, 0.3625));
    // Nothing in flight: the timer is cancelled (RFC 6298 §5.2).
    assert_eq!(
        h.timers(TimerKind::Retransmit).last().map(|t| t.0),
        Some(TimerAction::Cancelled)
    );
    // Now data that is never acknowledged: back-off doubles from 362.5 ms.
    h.run_until(secs(2.0));
    h.e.send(h.now, c, b"lost").unwrap();
    h.output().unwrap();
    h.run_until(secs(10.0));
    let fires = fired_at(&h, TimerKind::Retransmit);
    let expected = [2.3625, 3.0875, 4.5375, 7.4375];
    for (got, want) in fires.iter().zip(expected) {
        assert!((got - want).abs() < 1e-9, "fired at {got}, expected {want}");
    }
    assert_eq!(fires.len(), 4);
    // Each retransmission resends the same 4 bytes, marked as such.
    let mut again = 0;
    while let Some(s) = h.output() {
        assert_eq!(
            (s.seq, s.payload.as_slice()),
            (SeqNum(h.iss + 5), &b"lost"[..])
        );
        again += 1;
    }
    assert_eq!(again, 4);
}

#[test]
fn data_retransmission_gives_up_after_fifteen_tries() {
    let mut h = established();
    let c = h.conn.unwrap();
    h.e.send(h.now, c, b"x").unwrap();
    h.output().unwrap();
    h.run_until(secs(5000.0));
    // RTO 1 s (the RFC minimum), doubled to the 120 s cap: 1+2+…+64 = 127,
    // then nine times 120: the 16th expiry at 1207 s aborts.
    let fires = fired_at(&h, TimerKind::Retransmit);
    assert_eq!(fires.len(), 16);
    assert_eq!(fires[..8], [1.0, 3.0, 7.0, 15.0, 31.0, 63.0, 127.0, 247.0]);
    assert_eq!(*fires.last().unwrap(), 1207.0);
    assert_eq!(
        abort_reason(&h),
        Some((AbortReason::RetransmitTimeout, 1207.0))
    );
    // 15 retransmissions, then the RST of the abort.
    let mut segs = Vec::new();
    while let Some(s) = h.output() {
        segs.push(s.flags);
    }
    assert_eq!(segs.len(), 16);
    assert_eq!(*segs.last().unwrap(), R);
}

fn keepalive_fixture(ka: Keepalive) -> H {
    let mut cfg = test_config();
    cfg.keepalive = ka;
    cfg.keepalive_on = true;
    let h = established();
    let mut h2 = H::new(cfg);
    // Rebuild the same connection with keepalive on.
    drop(h);
    h2.e.listen(h2.now, 80, None).unwrap();
    h2.input(h2.seg(S, IRS, 0));
    h2.iss = h2.output().unwrap().seq.0;
    h2.conn = h2.e.find(h2.us, h2.them);
    h2.input(h2.seg(A, IRS + 1, h2.iss + 1));
    h2.clear_events();
    h2
}

fn keepalive_events(h: &H) -> Vec<(KeepaliveAction, u32, u32, f64)> {
    h.events
        .iter()
        .filter_map(|e| match &e.body {
            Body::Keepalive(k) => Some((k.action, k.probe, k.of, e.t)),
            _ => None,
        })
        .collect()
}

#[test]
fn keepalive_rfc_schedule_first_probe_at_7200_death_at_7950() {
    let mut h = keepalive_fixture(Keepalive::RFC);
    h.run_until(secs(10_000.0));
    let ka = keepalive_events(&h);
    let probes: Vec<(u32, f64)> = ka
        .iter()
        .filter(|k| k.0 == KeepaliveAction::ProbeSent)
        .map(|k| (k.1, k.3))
        .collect();
    let want: Vec<(u32, f64)> = (0..10).map(|k| (k + 1, 7200.0 + 75.0 * k as f64)).collect();
    assert_eq!(probes, want);
    assert!(ka.iter().all(|k| k.2 == 10), "probe N of 10");
    assert_eq!(
        ka.last().map(|k| (k.0, k.3)),
        Some((KeepaliveAction::Dead, 7950.0))
    );
    assert_eq!(
        abort_reason(&h),
        Some((AbortReason::KeepaliveTimeout, 7950.0))
    );
    // Each probe: <SEQ=SND.NXT-1><ACK=RCV.NXT><CTL=ACK>, no data.
    for _ in 0..10 {
        let probe = h.reply(A, h.iss, IRS + 1, OUR_WIN);
        h.expect(probe);
    }
    assert_eq!(h.output().map(|s| s.flags), Some(R));
    assert_eq!(h.state(), None);
}

#[test]
fn keepalive_answer_restarts_idling_and_any_segment_resets_the_timer() {
    let ka = Keepalive {
        idle: Duration::from_secs(10),
        interval: Duration::from_secs(2),
        count: 3,
    };
    let mut h = keepalive_fixture(ka);
    // A segment from the peer at t = 5 s moves the first probe to 15 s.
    h.run_until(secs(5.0));
    h.input(with_payload(h.seg(A | P, IRS + 1, h.iss + 1), b"hi"));
    h.run_until(secs(15.0));
    h.input(h.seg(A, IRS + 3, h.iss + 1)); // the answer to probe 1
    h.run_until(secs(30.0));
    let ka_ev = keepalive_events(&h);
    assert_eq!(
        ka_ev,
        vec![
            (KeepaliveAction::ProbeSent, 1, 3, 15.0),
            (KeepaliveAction::Answered, 1, 3, 15.0),
            (KeepaliveAction::ProbeSent, 1, 3, 25.0),
            (KeepaliveAction::ProbeSent, 2, 3, 27.0),
            (KeepaliveAction::ProbeSent, 3, 3, 29.0),
        ]
    );
    h.run_until(secs(31.0));
    assert_eq!(
        abort_reason(&h),
        Some((AbortReason::KeepaliveTimeout, 31.0))
    );
}

#[test]
fn rst_answering_a_keepalive_probe_means_the_peer_rebooted() {
    let ka = Keepalive {
        idle: Duration::from_secs(10),
        interval: Duration::from_secs(2),
        count: 3,
    };
    let mut h = keepalive_fixture(ka);
    h.run_until(secs(10.0));
    let probe = h.output().unwrap();
    assert_eq!(probe.seq, SeqNum(h.iss));
    // The rebooted peer has no connection: it answers the probe's ACK with
    // <SEQ=SEG.ACK><CTL=RST>, which is exactly RCV.NXT.
    h.input(h.seg(R, IRS + 1, 0));
    assert_eq!(abort_reason(&h), Some((AbortReason::ResetReceived, 10.0)));
    assert_eq!(h.state(), None);
    let cause = h.events.iter().find_map(|e| match &e.body {
        Body::State { cause, .. } if cause.contains("rebooted") => Some(cause.clone()),
        _ => None,
    });
    assert!(cause.is_some(), "the state change says why");
}

#[test]
fn zero_window_persist_probes_back_off() {
    // The peer closes its window.
    let (mut h, zw) = zero_window_with(b"abc");
    // RTO 1 s, doubling: probes at 1, 3, 7, 15 s.
    for t in [1.0, 3.0, 7.0, 15.0] {
        h.run_until(secs(t));
        // One byte of new data beyond the window (RFC 9293 §3.8.6.1).
        let probe = with_payload(h.reply(A, h.iss + 1, IRS + 1, OUR_WIN), b"a");
        h.expect(probe);
        // The peer still has no room: it ACKs without taking the byte.
        h.input(zw.clone());
        h.expect_none();
    }
    assert_eq!(fired_at(&h, TimerKind::Persist), vec![1.0, 3.0, 7.0, 15.0]);
    assert_eq!(armed(&h, TimerKind::Persist).last(), Some(&31.0));
    // The window opens: the data goes out at once and persist stops.
    let mut open = h.seg(A, IRS + 1, h.iss + 1);
    open.window = 1000;
    h.input(open);
    let data = with_payload(h.reply(A | P, h.iss + 1, IRS + 1, OUR_WIN), b"abc");
    h.expect(data);
    assert_eq!(
        h.timers(TimerKind::Persist).last().map(|t| t.0),
        Some(TimerAction::Cancelled)
    );
}

#[test]
fn persist_probe_byte_taken_by_a_reopened_window_is_accounted() {
    let (mut h, _) = zero_window_with(b"abc");
    h.run_until(secs(1.0));
    h.output().unwrap(); // probe "a"
    // The peer had just made room and takes the probe byte.
    let mut took = h.seg(A, IRS + 1, h.iss + 2);
    took.window = 1000;
    h.input(took);
    let rest = with_payload(h.reply(A | P, h.iss + 2, IRS + 1, OUR_WIN), b"bc");
    h.expect(rest);
}

#[test]
fn delayed_ack_every_second_full_segment_or_after_200ms() {
    let mut h = established();
    let full = vec![1u8; 1460];
    h.input(with_payload(h.seg(A, IRS + 1, h.iss + 1), &full));
    h.expect_none();
    assert_eq!(armed(&h, TimerKind::DelayedAck), vec![0.2]);
    // The second full-sized segment is acknowledged at once (RFC 5681 §4.2).
    h.input(with_payload(h.seg(A, IRS + 1461, h.iss + 1), &full));
    let ack = h.reply(A, h.iss + 1, IRS + 2921, OUR_WIN - 2920);
    h.expect(ack);
    assert_eq!(
        h.timers(TimerKind::DelayedAck).last().map(|t| t.0),
        Some(TimerAction::Cancelled)
    );
}

#[test]
fn fast_retransmit_on_the_third_duplicate_ack_and_newreno_recovery() {
    let mut cfg = test_config();
    cfg.initial_cwnd = Some(10);
    let mut h = H::new(cfg);
    h.e.listen(h.now, 80, None).unwrap();
    let mut syn = h.seg(S, IRS, 0);
    syn.options = mss(1460);
    h.input(syn);
    h.iss = h.output().unwrap().seq.0;
    h.conn = h.e.find(h.us, h.them);
    let mut ack = h.seg(A, IRS + 1, h.iss + 1);
    ack.window = 60000;
    h.input(ack.clone());
    let c = h.conn.unwrap();
    h.e.send(h.now, c, &vec![9u8; 5 * 1460]).unwrap();
    let mut sent = Vec::new();
    while let Some(s) = h.output() {
        sent.push((s.seq.0 - h.iss - 1, s.payload.len()));
    }
    assert_eq!(
        sent,
        vec![
            (0, 1460),
            (1460, 1460),
            (2920, 1460),
            (4380, 1460),
            (5840, 1460)
        ]
    );
    // Segment 1 is lost; segments 2, 3, 4 each produce a duplicate ACK.
    h.input(ack.clone());
    h.input(ack.clone());
    h.expect_none();
    h.input(ack.clone());
    let rtx = with_payload(h.reply(A, h.iss + 1, IRS + 1, OUR_WIN), &vec![9u8; 1460]);
    h.expect(rtx);
    let t = h.e.tcb(c).unwrap();
    // ssthresh = FlightSize/2 = 3650. The three duplicate ACKs stand for
    // three segments that left the network and the first is lost, so pipe
    // is one segment; PRR (RFC 6937, slow-start reduction bound) lets
    // cwnd = pipe + min(ssthresh − pipe, delivered + SMSS) = 1460 + 2190,
    // rounded up to whole segments: 1460 + 2920.
    assert_eq!((t.ssthresh(), t.cwnd()), (3650, 4380));
    assert_eq!(t.pipe(), 2920, "the retransmission is in flight");
    assert_eq!(t.fast_retransmits(), 1);
    let rtx_event = h
        .events
        .iter()
        .rev()
        .find_map(|e| e.segment().filter(|s| s.dir == crate::event::Dir::Out))
        .unwrap();
    assert!(rtx_event.retransmit);
    // The retransmission fills the hole: a full ACK ends recovery with
    // cwnd = ssthresh (RFC 6937; RFC 6582 §3.2 step 6's first option).
    let mut full = h.seg(A, IRS + 1, h.iss + 1 + 7300);
    full.window = 60000;
    h.input(full);
    let t = h.e.tcb(c).unwrap();
    assert_eq!(t.cwnd(), 3650);
    assert_eq!(t.ca_state(), crate::event::CaState::Open);
    let phases: Vec<Phase> = h
        .events
        .iter()
        .filter_map(|e| match &e.body {
            Body::Vars(v) => Some(v.phase),
            _ => None,
        })
        .collect();
    assert!(phases.contains(&Phase::FastRecovery));
    assert_eq!(phases.last(), Some(&Phase::CongestionAvoidance));
}

#[test]
fn nagle_holds_small_segments_while_data_is_unacknowledged() {
    let mut h = established();
    let c = h.conn.unwrap();
    h.e.send(h.now, c, b"a").unwrap();
    let first = with_payload(h.reply(A | P, h.iss + 1, IRS + 1, OUR_WIN), b"a");
    h.expect(first);
    h.e.send(h.now, c, b"b").unwrap();
    h.e.send(h.now, c, b"c").unwrap();
    h.expect_none();
    // The ACK of "a" releases "bc" as one segment.
    h.input(h.seg(A, IRS + 1, h.iss + 2));
    let second = with_payload(h.reply(A | P, h.iss + 2, IRS + 1, OUR_WIN), b"bc");
    h.expect(second);
    // With Nagle off, small segments go at once.
    h.e.set_nodelay(h.now, c, true).unwrap();
    h.e.send(h.now, c, b"d").unwrap();
    let third = with_payload(h.reply(A | P, h.iss + 4, IRS + 1, OUR_WIN), b"d");
    h.expect(third);
}

#[test]
fn fin_wait_2_timeout_applies_only_to_released_connections() {
    let mut h = fin_wait_2();
    h.run_until(secs(600.0));
    assert_eq!(
        h.state(),
        Some(State::FinWait2),
        "RFC 9293: FIN-WAIT-2 may last"
    );
    h.e.close(h.now, h.conn.unwrap()).unwrap();
    h.pull_events();
    assert_eq!(armed(&h, TimerKind::FinWait2), vec![660.0]);
    h.run_until(secs(660.0));
    assert_eq!(
        abort_reason(&h),
        Some((AbortReason::FinWait2Timeout, 660.0))
    );
}

#[test]
fn connect_timeout_ends_syn_sent() {
    let mut cfg = test_config();
    cfg.connect_timeout = Some(Duration::from_secs(5));
    let mut h = H::new(cfg);
    h.conn = Some(h.e.connect(h.now, h.them, Some(50000)).unwrap());
    h.run_until(secs(10.0));
    assert_eq!(armed(&h, TimerKind::Connect), vec![5.0]);
    assert_eq!(abort_reason(&h), Some((AbortReason::ConnectTimeout, 5.0)));
}

#[test]
fn sack_recovery_resends_each_hole_once_without_waiting_for_partial_acks() {
    let mut cfg = test_config();
    cfg.initial_cwnd = Some(10);
    cfg.sack = true;
    let mut h = H::new(cfg);
    h.e.listen(h.now, 80, None).unwrap();
    let mut syn = h.seg(S, IRS, 0);
    syn.options = TcpOptions {
        mss: Some(1000),
        sack_perm: true,
        ..Default::default()
    };
    h.input(syn);
    h.iss = h.output().unwrap().seq.0;
    h.conn = h.e.find(h.us, h.them);
    let mut ack = h.seg(A, IRS + 1, h.iss + 1);
    ack.window = 60000;
    h.input(ack.clone());
    let c = h.conn.unwrap();
    h.e.send(h.now, c, &[3u8; 8000]).unwrap();
    let mut sent = 0;
    while h.output().is_some() {
        sent += 1;
    }
    assert_eq!(sent, 8);
    let base = h.iss + 1;
    // Segments 1 and 4 (offsets 0 and 3000) are lost; the receiver SACKs
    // what arrives after each hole.
    let dup = |h: &H, blocks: &[(u32, u32)]| {
        let mut d = h.seg(A, IRS + 1, base);
        d.window = 60000;
        d.options.sack = blocks
            .iter()
            .map(|(l, r)| (SeqNum(base + l), SeqNum(base + r)))
            .collect();
        d
    };
    h.input(dup(&h, &[(1000, 2000)]));
    h.input(dup(&h, &[(1000, 3000)]));
    h.expect_none();
    h.input(dup(&h, &[(4000, 5000), (1000, 3000)]));
    // Third duplicate ACK: the first hole.
    let first = h.output().unwrap();
    assert_eq!((first.seq.0 - base, first.payload.len()), (0, 1000));
    // RFC 6675 IsLost: the second hole has two SACKed segments (2000
    // bytes, not more than 2·SMSS) above it: not lost yet, and PRR lets
    // nothing else out while pipe is at ssthresh.
    h.input(dup(&h, &[(4000, 6000), (1000, 3000)]));
    h.expect_none();
    // A third SACKed segment above it: lost, and resent at once. With
    // nothing lost left and no new data, the window has room for RFC
    // 6675's one rescue retransmission (NextSeg rule 4): the highest
    // unSACKed segment.
    h.input(dup(&h, &[(4000, 7000), (1000, 3000)]));
    let mut out = Vec::new();
    while let Some(s) = h.output() {
        out.push((s.seq.0 - base, s.payload.len()));
    }
    assert_eq!(out, vec![(3000, 1000), (7000, 1000)]);
    let causes: Vec<_> = h
        .events
        .iter()
        .filter_map(|e| e.segment().filter(|s| s.dir == crate::event::Dir::Out))
        .filter_map(|s| s.rtx)
        .collect();
    use crate::event::RtxCause;
    assert_eq!(
        causes,
        vec![RtxCause::Dupack, RtxCause::Dupack, RtxCause::Rescue]
    );
    // Each hole was resent once: further duplicate ACKs send nothing old.
    h.input(dup(&h, &[(4000, 8000), (1000, 3000)]));
    h.expect_none();
}

/// After an RTO rewinds SND.NXT, our pure ACKs must still carry SND.MAX:
/// the peer already holds everything we sent, so a segment starting below
/// its RCV.NXT would be dropped unread and neither side could make progress
/// (seen live against Linux with 10 % loss).
#[test]
fn pure_acks_after_a_go_back_rto_carry_the_highest_sequence_sent() {
    let mut h = established();
    let c = h.conn.unwrap();
    h.e.send(h.now, c, &[7u8; 2920]).unwrap();
    let lens: Vec<usize> = std::iter::from_fn(|| h.output())
        .map(|s| s.payload.len())
        .collect();
    assert_eq!(lens, vec![1460, 1460]);
    // Every ACK of the peer is lost: the RTO resends the first segment only.
    h.run_until(secs(1.0));
    let rtx = h.output().expect("retransmission");
    assert_eq!((rtx.seq, rtx.payload.len()), (SeqNum(h.iss + 1), 1460));
    h.expect_none();
    // The peer, holding all 2920 bytes, sends data; our ACK of it starts at
    // SND.MAX (iss + 2921), not at the rewound SND.NXT (iss + 1461).
    h.input(with_payload(h.seg(A | P, IRS + 1, h.iss + 1), b"hi"));
    h.advance(Duration::from_millis(200));
    h.expect(h.reply(A, h.iss + 2921, IRS + 3, OUR_WIN - 2));
    h.expect_none();
}

/// A peer that has filled our window up to its right edge (with a hole
/// below) sends its ACKs at that edge: they must be taken, not answered as
/// out of window.
#[test]
fn an_ack_at_the_right_edge_of_a_full_window_is_accepted() {
    let mut h = established();
    let c = h.conn.unwrap();
    h.e.send(h.now, c, b"ping").unwrap();
    h.output().expect("ping");
    // IRS + 1 is lost; the rest of the window (4095 bytes) arrives.
    let mut seq = IRS + 2;
    for len in [1460usize, 1460, 1175] {
        h.input(with_payload(h.seg(A, seq, h.iss + 1), &vec![1u8; len]));
        // Out-of-order data is acknowledged at once (RFC 5681 §4.2).
        h.expect(h.reply(A, h.iss + 5, IRS + 1, OUR_WIN));
        seq += len as u32;
    }
    assert_eq!(seq, IRS + 1 + u32::from(OUR_WIN));
    h.clear_events();
    // The peer's pure ACK of "ping" at the right edge: accepted, no answer.
    h.input(h.seg(A, seq, h.iss + 5));
    h.expect_none();
    assert_eq!(
        h.timers(TimerKind::Retransmit).last().map(|t| t.0),
        Some(TimerAction::Cancelled),
        "the ACK of all our data stops the retransmission timer"
    );
}

/// ESTABLISHED on an engine with `Config::cork` (as the live runtime runs).
fn corked() -> H {
    let mut cfg = test_config();
    cfg.cork = true;
    let mut h = H::new(cfg);
    h.e.listen(h.now, 80, None).unwrap();
    h.input(h.seg(S, IRS, 0));
    // The SYN+ACK is not held: nothing can answer a SYN but the stack.
    h.iss = h.output().expect("SYN+ACK").seq.0;
    h.conn = h.e.find(h.us, h.them);
    h.input(h.seg(A, IRS + 1, h.iss + 1));
    h.e.flush(h.now);
    h.expect_none();
    assert_eq!(h.e.accept(80), h.conn);
    h
}

#[test]
fn corked_the_answer_carries_the_ack_and_data_and_fin_share_one_segment() {
    let mut h = corked();
    let c = h.conn.unwrap();
    h.input(with_payload(h.seg(A | P, IRS + 1, h.iss + 1), b"hello"));
    h.input(h.seg(F | A, IRS + 6, h.iss + 1));
    // The FIN's ACK waits for the application's answer.
    h.expect_none();
    assert!(h.e.needs_flush());
    let mut buf = [0u8; 16];
    assert_eq!(h.e.recv(h.now, c, &mut buf).unwrap(), 5);
    h.e.send(h.now, c, &buf[..5]).unwrap();
    h.e.shutdown(h.now, c).unwrap();
    h.expect_none();
    h.e.flush(h.now);
    // Receiver SWS avoidance (RFC 1122 §4.2.3.3): reading 5 bytes does not
    // move the right edge, so the window is 5 smaller.
    let mut echo = h.reply(A | P | F, h.iss + 1, IRS + 7, OUR_WIN - 5);
    echo.payload = b"hello".to_vec();
    h.expect(echo);
    h.expect_none();
    assert!(!h.e.needs_flush());
    assert_eq!(h.state(), Some(State::LastAck));
}

#[test]
fn corked_without_an_answer_the_flush_sends_the_ack() {
    let mut h = corked();
    h.input(h.seg(F | A, IRS + 1, h.iss + 1));
    h.expect_none();
    h.e.flush(h.now);
    h.expect(h.reply(A, h.iss + 1, IRS + 2, OUR_WIN));
    h.expect_none();
    assert_eq!(h.state(), Some(State::CloseWait));
}

#[test]
fn corked_out_of_order_segments_still_get_one_duplicate_ack_each() {
    let mut h = corked();
    // IRS + 1 is lost; two later segments each get their duplicate ACK at
    // once (RFC 5681 §4.2), not one merged ACK at the flush.
    h.input(with_payload(h.seg(A, IRS + 11, h.iss + 1), &[1u8; 10]));
    h.expect(h.reply(A, h.iss + 1, IRS + 1, OUR_WIN));
    h.input(with_payload(h.seg(A, IRS + 21, h.iss + 1), &[2u8; 10]));
    h.expect(h.reply(A, h.iss + 1, IRS + 1, OUR_WIN));
    h.e.flush(h.now);
    h.expect_none();
}

#[test]
fn corked_the_ack_of_every_second_full_segment_is_not_held() {
    let mut h = corked();
    h.input(with_payload(h.seg(A, IRS + 1, h.iss + 1), &[1u8; 1460]));
    // The first waits for the delayed-ACK timer, as without a cork.
    h.expect_none();
    h.input(with_payload(h.seg(A, IRS + 1461, h.iss + 1), &[2u8; 1460]));
    // The second is acknowledged at once (RFC 5681 §4.2): it clocks a bulk
    // sender, and no application answer is worth delaying it for.
    h.expect(h.reply(A, h.iss + 1, IRS + 2921, OUR_WIN - 2920));
    assert!(!h.e.needs_flush());
}

/// Drained buffers are given back when the runtime asks (docs/benchmarks.md,
/// Memory per idle connection), and grow again when data comes.
#[test]
fn drained_buffers_are_given_back_and_grow_again() {
    let mut h = established();
    let cid = h.conn.unwrap();
    let data: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    h.input(with_payload(h.seg(A, IRS + 1, h.iss + 1), &data[..1460]));
    h.input(with_payload(
        h.seg(A | P, IRS + 1461, h.iss + 1),
        &data[1460..],
    ));
    // Not drained yet: nothing to give back.
    assert_eq!(h.e.trim_buffers(), 0);
    let mut buf = vec![0u8; 4096];
    assert_eq!(h.e.recv(h.now, cid, &mut buf), Ok(3000));
    assert_eq!(&buf[..3000], &data[..]);
    assert!(h.e.trim_buffers() >= 3000, "the receive buffer's memory");
    assert_eq!(h.e.trim_buffers(), 0, "nothing left to give back");
    // Sending: the buffer holds the data until it is acknowledged.
    assert_eq!(h.e.send(h.now, cid, &data[..2000]), Ok(2000));
    let mut acked = 0u32;
    while acked < 2000 {
        let mut end = acked;
        while let Some(s) = h.output() {
            end = end.max(s.seq.0.wrapping_sub(h.iss + 1) + s.payload.len() as u32);
        }
        assert!(end > acked, "the engine sends the data");
        assert_eq!(h.e.trim_buffers(), 0, "unacknowledged data stays");
        acked = end;
        h.input(h.seg(A, IRS + 3001, h.iss + 1 + acked));
    }
    assert!(h.e.trim_buffers() >= 2000, "the send buffer's memory");
    // More data after a trim arrives and reads back intact.
    h.input(with_payload(h.seg(A, IRS + 3001, h.iss + 2001), b"again"));
    assert_eq!(h.e.recv(h.now, cid, &mut buf), Ok(5));
    assert_eq!(&buf[..5], b"again");
}

/// The receiver's judgement of an arriving retransmission (docs/events.md, The schema:
/// `analysis`): fast when it fills the hole at most 20 ms after the second
/// or later duplicate ACK that asked for it, spurious when it repeats data
/// already acknowledged, the timer's otherwise.
#[test]
fn an_arriving_retransmission_is_judged_fast_or_spurious() {
    use crate::event::Analysis;
    let judged = |h: &H, seq: u32| {
        h.events
            .iter()
            .rev()
            .find_map(|e| {
                e.segment()
                    .filter(|s| s.dir == crate::event::Dir::In && s.seg.seq == seq)
            })
            .map(|s| (s.retransmit, s.analysis.clone()))
            .expect("the arrival's event")
    };
    let fast = vec![Analysis::Retransmission, Analysis::FastRetransmission];
    // The first 100 bytes lost, the next three segments arrive: three
    // duplicate ACKs.
    let three_after_a_hole = || {
        let mut h = established();
        for i in 1..=3u32 {
            h.input(with_payload(
                h.seg(A, IRS + 1 + 100 * i, h.iss + 1),
                &[i as u8; 100],
            ));
            h.expect(h.reply(A, h.iss + 1, IRS + 1, OUR_WIN));
        }
        h
    };
    // The hole's retransmission 5 ms after the last.
    let mut h = three_after_a_hole();
    h.advance(Duration::from_millis(5));
    h.input(with_payload(h.seg(A, IRS + 1, h.iss + 1), &[0; 100]));
    assert_eq!(judged(&h, IRS + 1), (true, fast.clone()));
    h.expect(h.reply(A, h.iss + 1, IRS + 401, OUR_WIN - 400));

    // The same, but the repair comes 300 ms later: the sender's timer.
    let mut h = three_after_a_hole();
    h.advance(Duration::from_millis(300));
    h.input(with_payload(h.seg(A, IRS + 1, h.iss + 1), &[0; 100]));
    assert_eq!(judged(&h, IRS + 1), (true, vec![]));

    // One duplicate ACK is no request for a fast retransmit.
    let mut h = established();
    h.input(with_payload(h.seg(A, IRS + 101, h.iss + 1), &[1; 100]));
    h.expect(h.reply(A, h.iss + 1, IRS + 1, OUR_WIN));
    h.input(with_payload(h.seg(A, IRS + 1, h.iss + 1), &[0; 100]));
    assert_eq!(judged(&h, IRS + 1), (true, vec![]));

    // Data already received and acknowledged, sent again: a spurious
    // retransmission (our ACK was lost or late), not a fast one.
    h.input(with_payload(h.seg(A, IRS + 1, h.iss + 1), &[0; 100]));
    assert_eq!(
        judged(&h, IRS + 1),
        (
            true,
            vec![Analysis::Retransmission, Analysis::SpuriousRetransmission]
        )
    );
    // Received but not yet acknowledged (the ACK is delayed): resent, it
    // is a retransmission and no more.
    let mut h = established();
    h.input(with_payload(h.seg(A, IRS + 1, h.iss + 1), &[7; 100]));
    h.expect_none();
    h.input(with_payload(h.seg(A, IRS + 1, h.iss + 1), &[7; 100]));
    assert_eq!(judged(&h, IRS + 1), (true, vec![]));

    // One aggregate of two full segments above the hole (receive offload
    // hands the engine such a thing) stands for two duplicate ACKs.
    let mut h = established();
    h.input(with_payload(h.seg(A, IRS + 101, h.iss + 1), &[1; 2920]));
    h.expect(h.reply(A, h.iss + 1, IRS + 1, OUR_WIN));
    h.advance(Duration::from_millis(1));
    h.input(with_payload(h.seg(A, IRS + 1, h.iss + 1), &[0; 100]));
    assert_eq!(judged(&h, IRS + 1), (true, fast));
}
