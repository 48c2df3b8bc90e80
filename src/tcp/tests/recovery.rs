//! Loss detection and recovery under virtual time (issue 10): limited
//! transmit, RFC 6675 and RACK-TLP marking, tail loss probes, PRR, CUBIC,
//! and undo. The test plays a SACK-capable receiver 100 ms away and checks
//! the exact segments, their causes, and the recovery events.

use std::time::Duration;

use super::*;
use crate::event::{CaState, RecoveryAction, RtxCause};
use crate::tcp::CcAlgo;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn at(s: f64) -> Instant {
    secs(s)
}

/// The peer's window in these tests: never the limit.
const WIN: u16 = 60000;
/// The peer's MSS: 1000-byte segments keep the offsets readable.
const SEG: u32 = 1000;

/// The `linux` profile (CUBIC, RACK-TLP) without timestamps or window
/// scaling, so segments are easy to write by hand.
fn linux() -> Config {
    linux_test_config()
}

/// The `rfc` profile (NewReno, RFC 6675 without RACK) with SACK and a
/// ten-segment initial window.
fn rfc_sack() -> Config {
    Config {
        sack: true,
        initial_cwnd: Some(10),
        ..test_config()
    }
}

/// ESTABLISHED as the server; the peer offered MSS 1000 (and SACK when
/// `sack`), and its ACK of our SYN+ACK came 100 ms later: SRTT 100 ms,
/// RTTVAR 50 ms.
fn sender(cfg: Config, sack: bool, ts: bool) -> H {
    let mut h = H::new(cfg);
    h.e.listen(h.now, 80, None).unwrap();
    let mut syn = h.seg(S, IRS, 0);
    syn.options = TcpOptions {
        mss: Some(SEG as u16),
        sack_perm: sack,
        timestamp: ts.then_some((7, 0)),
        ..Default::default()
    };
    h.input(syn);
    let sa = h.output().unwrap();
    h.iss = sa.seq.0;
    h.conn = h.e.find(h.us, h.them);
    h.advance(ms(100));
    let mut ack = h.seg(A, IRS + 1, h.iss + 1);
    ack.window = WIN;
    if ts {
        ack.options.timestamp = Some((8, sa.options.timestamp.unwrap().0));
    }
    h.input(ack);
    assert_eq!(h.e.accept(80), h.conn);
    h.clear_events();
    h
}

/// An ACK from the peer: cumulative `ack` and SACK blocks, as offsets
/// from our first data byte.
fn ack(h: &H, ack: u32, blocks: &[(u32, u32)]) -> Segment {
    let base = h.iss + 1;
    let mut s = h.seg(A, IRS + 1, base + ack);
    s.window = WIN;
    s.options.sack = blocks
        .iter()
        .map(|&(l, r)| (SeqNum(base + l), SeqNum(base + r)))
        .collect();
    s
}

/// One data segment we sent: offset, length, why it went again, probe.
#[derive(Clone, Debug, PartialEq)]
struct Out {
    off: u32,
    len: u32,
    rtx: Option<RtxCause>,
    probe: bool,
    t: f64,
}

fn out(off: u32, rtx: Option<RtxCause>, t: f64) -> Out {
    Out {
        off,
        len: SEG,
        rtx,
        probe: false,
        t,
    }
}

/// The data segments sent since the last call (their packets drained).
fn sent(h: &mut H, from: &mut usize) -> Vec<Out> {
    while h.output().is_some() {}
    let base = h.iss + 1;
    let v = h.events[*from..]
        .iter()
        .filter_map(|e| {
            let s = e.segment()?;
            (s.dir == crate::event::Dir::Out && s.seg.len > 0).then(|| Out {
                off: s.seg.seq.wrapping_sub(base),
                len: s.seg.len,
                rtx: s.rtx,
                probe: s.probe,
                t: e.t,
            })
        })
        .collect();
    *from = h.events.len();
    v
}

/// (action, by, ranges as offsets) of one recovery event.
type Rec = (RecoveryAction, Option<RtxCause>, Vec<(u32, u32)>);

/// Every recovery event so far.
fn recovery(h: &H) -> Vec<Rec> {
    let base = h.iss + 1;
    h.events
        .iter()
        .filter_map(|e| match &e.body {
            Body::Recovery(r) => Some((
                r.action,
                r.by,
                r.ranges
                    .iter()
                    .map(|x| {
                        let (a, b) = x.split_once('-').unwrap();
                        (
                            a.parse::<u32>().unwrap().wrapping_sub(base),
                            b.parse::<u32>().unwrap().wrapping_sub(base),
                        )
                    })
                    .collect(),
            )),
            _ => None,
        })
        .collect()
}

fn rto_fired(h: &H) -> usize {
    h.timers(TimerKind::Retransmit)
        .iter()
        .filter(|(a, _, _)| *a == TimerAction::Fired)
        .count()
}

fn segs(offs: &[u32], rtx: Option<RtxCause>, t: f64) -> Vec<Out> {
    offs.iter().map(|&o| out(o * SEG, rtx, t)).collect()
}

#[test]
fn limited_transmit_then_fast_retransmit_without_sack() {
    // RFC 3042: each of the first two duplicate ACKs lets one new segment
    // out; the third retransmits (RFC 5681 §3.2). No SACK: the duplicate
    // ACKs stand for segments that left the network.
    let cfg = Config {
        initial_cwnd: Some(4),
        ..test_config()
    };
    let mut h = sender(cfg, false, false);
    let c = h.conn.unwrap();
    let mut m = 0;
    h.e.send(h.now, c, &[1u8; 10_000]).unwrap();
    assert_eq!(sent(&mut h, &mut m), segs(&[0, 1, 2, 3], None, 0.1));
    h.advance(ms(100));
    h.input(ack(&h, 0, &[]));
    assert_eq!(sent(&mut h, &mut m), segs(&[4], None, 0.2));
    h.input(ack(&h, 0, &[]));
    assert_eq!(sent(&mut h, &mut m), segs(&[5], None, 0.2));
    h.input(ack(&h, 0, &[]));
    assert_eq!(
        sent(&mut h, &mut m),
        segs(&[0], Some(RtxCause::Dupack), 0.2)
    );
    assert_eq!(
        recovery(&h),
        vec![(
            RecoveryAction::Enter,
            Some(RtxCause::Dupack),
            vec![(0, SEG)]
        )]
    );
    let t = h.e.tcb(c).unwrap();
    // ssthresh = FlightSize / 2 = 6000 / 2 (RFC 5681 eq. 4).
    assert_eq!(t.ssthresh(), 3000);
    assert_eq!(t.ca_state(), CaState::Recovery);
}

#[test]
fn three_holes_in_one_window_are_repaired_in_one_round_trip() {
    let mut h = sender(linux(), true, false);
    let c = h.conn.unwrap();
    let mut m = 0;
    h.e.send(h.now, c, &[1u8; 10_000]).unwrap();
    assert_eq!(sent(&mut h, &mut m).len(), 10);
    // Segments 0, 3 and 6 are lost; the others arrive 100 ms later and
    // each draws an ACK with SACK blocks (most recent first, RFC 2018 §4).
    h.advance(ms(100));
    let mut got = Vec::new();
    for blocks in [
        vec![(1, 2)],
        vec![(1, 3)],
        vec![(4, 5), (1, 3)],
        vec![(4, 6), (1, 3)],
        vec![(7, 8), (4, 6), (1, 3)],
        vec![(7, 9), (4, 6), (1, 3)],
        vec![(7, 10), (4, 6), (1, 3)],
    ] {
        let b: Vec<(u32, u32)> = blocks.iter().map(|&(l, r)| (l * SEG, r * SEG)).collect();
        h.input(ack(&h, 0, &b));
        got.extend(sent(&mut h, &mut m));
    }
    // All three resent at t = 0.2, before any of them could be ACKed.
    assert_eq!(got, segs(&[0, 3, 6], Some(RtxCause::Rack), 0.2));
    // RACK with three segments SACKed and no reordering seen uses no
    // reordering window: the first two holes at once, the third when the
    // segment after it is SACKed.
    assert_eq!(
        recovery(&h),
        vec![
            (
                RecoveryAction::Enter,
                Some(RtxCause::Rack),
                vec![(0, SEG), (3 * SEG, 4 * SEG)]
            ),
            (
                RecoveryAction::Mark,
                Some(RtxCause::Rack),
                vec![(6 * SEG, 7 * SEG)]
            ),
        ]
    );
    h.advance(ms(100));
    h.input(ack(&h, 10 * SEG, &[]));
    let t = h.e.tcb(c).unwrap();
    // CUBIC: ssthresh = 0.7 × cwnd (RFC 9438 §4.6); recovery ends at it,
    // and the same ACK then grows it by congestion avoidance, as Linux's
    // tcp_ack runs tcp_cong_control after the state is Open again
    // (`the_ack_that_ends_the_loss_state_grows_the_window`).
    assert_eq!((t.ssthresh(), t.cwnd()), (7000, 7226));
    assert_eq!(t.ca_state(), CaState::Open);
    assert_eq!(rto_fired(&h), 0);
    assert_eq!(recovery(&h).last().unwrap().0, RecoveryAction::Exit);
}

#[test]
fn the_congestion_control_sets_ssthresh_newreno_half_cubic_seven_tenths() {
    for (cc, want) in [(CcAlgo::NewReno, 5000), (CcAlgo::Cubic, 7000)] {
        let cfg = Config { cc, ..linux() };
        let mut h = sender(cfg, true, false);
        let c = h.conn.unwrap();
        let mut m = 0;
        h.e.send(h.now, c, &[1u8; 10_000]).unwrap();
        sent(&mut h, &mut m);
        h.advance(ms(100));
        for r in 2..=4 {
            h.input(ack(&h, 0, &[(SEG, r * SEG)]));
        }
        assert_eq!(h.e.tcb(c).unwrap().ssthresh(), want, "{cc:?}");
    }
}

#[test]
fn rack_marks_a_hole_once_the_reordering_window_has_passed() {
    let mut h = sender(linux(), true, false);
    let c = h.conn.unwrap();
    let mut m = 0;
    h.e.send(h.now, c, &[1u8; 4000]).unwrap();
    sent(&mut h, &mut m);
    h.advance(ms(100));
    // Segment 1 arrives, segment 0 does not (yet): one SACKed segment, so
    // RACK waits min_RTT / 4 = 25 ms past segment 0's RTT (RFC 8985 §6.2).
    h.input(ack(&h, 0, &[(SEG, 2 * SEG)]));
    assert_eq!(sent(&mut h, &mut m), vec![]);
    let armed: Vec<_> = h
        .timers(TimerKind::Reorder)
        .into_iter()
        .filter(|(a, _, _)| *a == TimerAction::Armed)
        .map(|(_, d, t)| (d.unwrap(), t))
        .collect();
    assert_eq!(armed, vec![(0.225, 0.2)], "0.1 sent + 0.1 RTT + 0.025");
    h.run_until(at(0.224));
    assert_eq!(sent(&mut h, &mut m), vec![]);
    h.run_until(at(0.225));
    assert_eq!(
        sent(&mut h, &mut m),
        segs(&[0], Some(RtxCause::Rack), 0.225)
    );
    assert_eq!(
        recovery(&h),
        vec![(RecoveryAction::Enter, Some(RtxCause::Rack), vec![(0, SEG)])]
    );
}

#[test]
fn a_late_segment_inside_the_reordering_window_is_not_resent() {
    let mut h = sender(linux(), true, false);
    let c = h.conn.unwrap();
    let mut m = 0;
    h.e.send(h.now, c, &[1u8; 4000]).unwrap();
    sent(&mut h, &mut m);
    h.advance(ms(100));
    h.input(ack(&h, 0, &[(SEG, 2 * SEG)]));
    h.advance(ms(10));
    // Segment 0 was only reordered: it arrives 10 ms later.
    h.input(ack(&h, 2 * SEG, &[]));
    h.run_until(at(0.3));
    assert_eq!(sent(&mut h, &mut m), vec![]);
    assert_eq!(recovery(&h), vec![]);
    assert!(
        h.timers(TimerKind::Reorder)
            .iter()
            .any(|(a, _, t)| *a == TimerAction::Cancelled && *t == 0.21)
    );
}

#[test]
fn a_tail_loss_probe_after_two_srtt_instead_of_the_rto() {
    // PRR's extra segment on every ACK (RFC 6937 §3), so both holes go
    // again at once: Linux gives it only to an ACK that advanced SND.UNA
    // without a new loss, and would resend the second hole a round trip
    // later (`prr_adds_its_extra_segment_only_when_snd_una_advances_without_new_loss`).
    let cfg = Config {
        prr_ssrb_on_advance: false,
        ..linux()
    };
    let mut h = sender(cfg, true, false);
    let c = h.conn.unwrap();
    let mut m = 0;
    h.e.send(h.now, c, &[1u8; 3000]).unwrap();
    sent(&mut h, &mut m);
    // PTO = 2·SRTT + 2 ms (Linux's floor) = 0.202 s after the send; the
    // RTO (SRTT + 4·RTTVAR = 300 ms) would come later. (While the first
    // segment was the only one out, its probe was due at the RTO's
    // deadline, 2·SRTT + 200 ms being later: 0.4 s, then 0.302 s.)
    let armed = |h: &H, k| -> Vec<f64> {
        h.timers(k)
            .iter()
            .filter(|(a, _, _)| *a == TimerAction::Armed)
            .map(|(_, d, _)| d.unwrap())
            .collect()
    };
    assert_eq!(armed(&h, TimerKind::Tlp), vec![0.4, 0.302]);
    assert_eq!(armed(&h, TimerKind::Retransmit), vec![0.4]);
    // Every segment of the flight is lost. At the PTO the last segment
    // goes again, marked as a probe; the RTO starts over from it.
    h.run_until(at(0.302));
    assert_eq!(
        sent(&mut h, &mut m),
        vec![Out {
            probe: true,
            ..out(2 * SEG, Some(RtxCause::Tlp), 0.302)
        }]
    );
    assert_eq!(armed(&h, TimerKind::Retransmit), vec![0.4, 0.602]);
    // The probe's SACK shows the holes: RACK marks them and they go again
    // a round trip after the probe, long before the RTO.
    h.run_until(at(0.402));
    h.input(ack(&h, 0, &[(2 * SEG, 3 * SEG)]));
    assert_eq!(
        sent(&mut h, &mut m),
        segs(&[0, 1], Some(RtxCause::Rack), 0.402)
    );
    assert_eq!(
        recovery(&h),
        vec![
            (
                RecoveryAction::Probe,
                Some(RtxCause::Tlp),
                vec![(2 * SEG, 3 * SEG)]
            ),
            (
                RecoveryAction::Enter,
                Some(RtxCause::Rack),
                vec![(0, SEG), (SEG, 2 * SEG)]
            ),
        ]
    );
    h.run_until(at(0.502));
    h.input(ack(&h, 3 * SEG, &[]));
    h.run_until(at(2.0));
    assert_eq!(rto_fired(&h), 0);
    assert_eq!(h.e.tcb(c).unwrap().ca_state(), CaState::Open);
}

#[test]
fn with_one_segment_out_the_probe_goes_at_the_rtos_deadline_in_its_place() {
    let mut h = sender(linux(), true, false);
    let c = h.conn.unwrap();
    let mut m = 0;
    h.e.send(h.now, c, &[1u8; 1000]).unwrap();
    assert_eq!(sent(&mut h, &mut m), segs(&[0], None, 0.1));
    // One segment out: PTO = 2·SRTT + 200 ms (the peer's delayed ACK) +
    // 2 ms = 0.502 s, after the RTO (0.4 s). Linux schedules the probe at
    // the RTO's deadline instead, in its place.
    assert_eq!(armed(&h, TimerKind::Retransmit), vec![0.4]);
    assert_eq!(armed(&h, TimerKind::Tlp), vec![0.4]);
    // The segment is lost. At 0.4 s the probe sends it again (no new data
    // to send): no timeout, so no window of one segment and no back-off;
    // the timer starts over from the probe.
    h.run_until(at(0.4));
    assert_eq!(
        sent(&mut h, &mut m),
        vec![Out {
            probe: true,
            ..out(0, Some(RtxCause::Tlp), 0.4)
        }]
    );
    assert_eq!(rto_fired(&h), 0);
    assert_eq!(armed(&h, TimerKind::Retransmit), vec![0.4, 0.7]);
    assert_eq!(
        recovery(&h),
        vec![(RecoveryAction::Probe, Some(RtxCause::Tlp), vec![(0, SEG)])]
    );
    // The probe is lost too: one probe per episode, then the timer.
    h.run_until(at(0.7));
    assert_eq!(rto_fired(&h), 1);
    assert_eq!(sent(&mut h, &mut m), segs(&[0], Some(RtxCause::Rto), 0.7));
}

#[test]
fn nagle_as_minshall_holds_a_short_segment_only_behind_another_short_one() {
    let mut h = sender(linux(), true, false);
    let c = h.conn.unwrap();
    let mut m = 0;
    // Two full segments and a short one: the short one goes too, as no
    // earlier short segment is unacknowledged (Linux's
    // tcp_minshall_check; RFC 1122's Nagle would hold it behind the
    // full ones).
    h.e.send(h.now, c, &[1u8; 2500]).unwrap();
    let mut want = segs(&[0, 1], None, 0.1);
    want.push(Out {
        len: 500,
        ..out(2 * SEG, None, 0.1)
    });
    assert_eq!(sent(&mut h, &mut m), want);
    // Another short one waits for that one's ACK.
    h.e.send(h.now, c, &[2u8; 300]).unwrap();
    assert_eq!(sent(&mut h, &mut m), vec![]);
    h.advance(ms(100));
    h.input(ack(&h, 2500, &[]));
    assert_eq!(
        sent(&mut h, &mut m),
        vec![Out {
            len: 300,
            ..out(2500, None, 0.2)
        }]
    );
}

#[test]
fn nagle_does_not_hold_the_last_short_segment_once_it_carries_the_fin() {
    let mut h = sender(linux(), true, false);
    let c = h.conn.unwrap();
    let mut m = 0;
    // A short segment out, then another short one, held behind it by
    // Nagle (Minshall's variant).
    h.e.send(h.now, c, &[1u8; 500]).unwrap();
    h.e.send(h.now, c, &[2u8; 300]).unwrap();
    assert_eq!(
        sent(&mut h, &mut m),
        vec![Out {
            len: 500,
            ..out(0, None, 0.1)
        }]
    );
    // The close puts the FIN behind it: nothing more can join it, so it
    // goes now, with the FIN (Linux's tcp_nagle_test), not a round trip
    // later or, if the ACK is lost, after a probe timeout.
    h.e.shutdown(h.now, c).unwrap();
    let tail = h.output().expect("the last segment");
    assert_eq!(tail.flags, A | F | P);
    assert_eq!(tail.seq.0, h.iss + 1 + 500);
    assert_eq!(tail.payload.len(), 300);
    h.expect_none();
    assert_eq!(h.state(), Some(State::FinWait1));
}

#[test]
fn rack_finds_a_lost_retransmission_without_the_timer() {
    // PRR's extra segment on every ACK (RFC 6937 §3) lets new data out
    // beside the retransmission; Linux would hold it (see
    // `prr_adds_its_extra_segment_only_when_snd_una_advances_without_new_loss`).
    let cfg = Config {
        prr_ssrb_on_advance: false,
        ..linux()
    };
    let mut h = sender(cfg, true, false);
    let c = h.conn.unwrap();
    let mut m = 0;
    h.e.send(h.now, c, &[1u8; 4000]).unwrap();
    sent(&mut h, &mut m);
    h.advance(ms(100));
    for r in 2..=4 {
        h.input(ack(&h, 0, &[(SEG, r * SEG)]));
    }
    assert_eq!(sent(&mut h, &mut m), segs(&[0], Some(RtxCause::Rack), 0.2));
    // New data leaves after the retransmission (PRR's slow-start bound
    // lets one segment more out).
    h.e.send(h.now, c, &[2u8; 1000]).unwrap();
    assert_eq!(sent(&mut h, &mut m), segs(&[4], None, 0.2));
    // The retransmission is lost too; the new segments arrive. They were
    // sent after it, so a round trip later it is overdue: lost again.
    h.advance(ms(100));
    h.input(ack(&h, 0, &[(4 * SEG, 5 * SEG), (SEG, 4 * SEG)]));
    assert_eq!(sent(&mut h, &mut m), segs(&[0], Some(RtxCause::Rack), 0.3));
    assert_eq!(
        recovery(&h).last().unwrap(),
        &(RecoveryAction::Mark, Some(RtxCause::Rack), vec![(0, SEG)])
    );
    assert_eq!(rto_fired(&h), 0);
}

#[test]
fn a_spurious_timeout_is_undone_by_the_echoed_timestamp() {
    // RACK off: no probe before the timer, the timer alone.
    let cfg = Config {
        timestamps: true,
        rack: false,
        ..linux()
    };
    let mut h = sender(cfg, true, true);
    let c = h.conn.unwrap();
    h.e.send(h.now, c, &[1u8; 2000]).unwrap();
    let first = h.output().unwrap();
    while h.output().is_some() {}
    let (tsval, _) = first.options.timestamp.unwrap();
    let before = {
        let t = h.e.tcb(c).unwrap();
        (t.cwnd(), t.ssthresh())
    };
    // The ACKs are only delayed: the RTO fires at 0.1 + 0.3 and resends.
    h.run_until(at(0.4));
    assert_eq!(rto_fired(&h), 1);
    let t = h.e.tcb(c).unwrap();
    assert_eq!((t.cwnd(), t.ca_state()), (SEG - 12, CaState::Loss));
    // Then the ACK of the original arrives: it echoes the first
    // transmission's TSval, older than the retransmission's (RFC 3522).
    h.advance(ms(20));
    // Two segments of 988 bytes (1000 less the timestamp option).
    let mut a = ack(&h, 2 * (SEG - 12), &[]);
    a.options.timestamp = Some((9, tsval));
    h.input(a);
    let t = h.e.tcb(c).unwrap();
    // Restored, then grown by this ACK as Linux's slow start does: a
    // segment for each of the two it acknowledges.
    assert_eq!((t.cwnd(), t.ssthresh()), (before.0 + 2 * 988, before.1));
    assert_eq!(t.ca_state(), CaState::Open);
    let acts: Vec<_> = recovery(&h).into_iter().map(|r| (r.0, r.1)).collect();
    assert_eq!(
        acts,
        vec![
            (RecoveryAction::Enter, Some(RtxCause::Rto)),
            (RecoveryAction::Undo, None)
        ]
    );
    let how = h.events.iter().find_map(|e| match &e.body {
        Body::Recovery(r) if r.action == RecoveryAction::Undo => r.how.clone(),
        _ => None,
    });
    assert_eq!(how.as_deref(), Some("eifel"));
}

#[test]
fn prr_sends_in_proportion_to_what_is_delivered() {
    // RFC 6937: with ssthresh at half of RecoverFS, about one segment
    // leaves for every two delivered while pipe is above ssthresh.
    let mut h = sender(rfc_sack(), true, false);
    let c = h.conn.unwrap();
    let mut m = 0;
    h.e.send(h.now, c, &[1u8; 30_000]).unwrap();
    assert_eq!(sent(&mut h, &mut m).len(), 10);
    h.advance(ms(100));
    // Segment 0 is lost; 1 to 9 arrive, each SACKed.
    let mut per_ack = Vec::new();
    for r in 2..=10u32 {
        h.input(ack(&h, 0, &[(SEG, r * SEG)]));
        per_ack.push(
            sent(&mut h, &mut m)
                .into_iter()
                .map(|o| (o.off / SEG, o.rtx))
                .collect::<Vec<_>>(),
        );
    }
    let d = Some(RtxCause::Dupack);
    assert_eq!(
        per_ack,
        vec![
            vec![(10, None)],
            vec![(11, None)],
            vec![(0, d)],
            vec![],
            vec![(12, None)],
            vec![],
            // pipe has come down to ssthresh: from here one segment
            // leaves for each one delivered.
            vec![],
            vec![(13, None)],
            vec![(14, None)],
        ]
    );
    let t = h.e.tcb(c).unwrap();
    assert_eq!((t.ssthresh(), t.pipe()), (6000, 6000));
}

/// RFC 8985 §6.2 step 4 as Linux runs it: once reordering has been seen,
/// a retransmission that reordering made unneeded comes back as a D-SACK,
/// and RACK then waits two quarters of min_RTT instead of one before it
/// calls the next hole a loss.
#[test]
fn a_d_sack_widens_racks_reordering_window() {
    let mut h = sender(linux(), true, false);
    let c = h.conn.unwrap();
    let mut m = 0;
    let reorder_armed = |h: &H| -> Vec<f64> {
        h.timers(TimerKind::Reorder)
            .into_iter()
            .filter(|(a, _, _)| *a == TimerAction::Armed)
            .map(|(_, d, _)| d.unwrap())
            .collect()
    };
    let mult = |h: &H| {
        h.events.iter().rev().find_map(|e| match &e.body {
            Body::Vars(v) => Some(v.reo_wnd_mult),
            _ => None,
        })
    };
    // First flight: segment 0 arrives 10 ms late, inside the window, and
    // was never resent: reordering seen (step 3).
    h.e.send(h.now, c, &[1u8; 4000]).unwrap();
    sent(&mut h, &mut m);
    h.advance(ms(100));
    h.input(ack(&h, 0, &[(SEG, 2 * SEG)]));
    h.advance(ms(10));
    h.input(ack(&h, 4 * SEG, &[]));
    assert_eq!(recovery(&h), vec![], "no loss, only reordering");
    // Second flight (at 0.21): segment 4 late again, longer; RACK resends
    // it 25 ms past its round trip.
    h.e.send(h.now, c, &[2u8; 4000]).unwrap();
    assert_eq!(sent(&mut h, &mut m).len(), 4);
    h.advance(ms(100));
    h.input(ack(&h, 4 * SEG, &[(5 * SEG, 6 * SEG)]));
    h.run_until(at(0.335));
    assert_eq!(
        sent(&mut h, &mut m),
        vec![out(4 * SEG, Some(RtxCause::Rack), 0.335)]
    );
    // The original arrives after all, with the rest; a round trip after
    // the copy left, its D-SACK (RFC 2883: a block below the ACK).
    h.advance(ms(5));
    h.input(ack(&h, 8 * SEG, &[]));
    assert_eq!(mult(&h), Some(None), "one quarter so far");
    h.run_until(at(0.435));
    h.input(ack(&h, 8 * SEG, &[(4 * SEG, 5 * SEG)]));
    assert_eq!(mult(&h), Some(Some(2)), "the vars event says so");
    // Third flight (at 0.435): segment 8 late. RACK now waits 2 × 25 ms.
    h.e.send(h.now, c, &[3u8; 4000]).unwrap();
    assert_eq!(sent(&mut h, &mut m).len(), 4);
    h.advance(ms(100));
    h.clear_events();
    m = 0;
    h.input(ack(&h, 8 * SEG, &[(9 * SEG, 10 * SEG)]));
    // Sent at 0.435, RACK.rtt 0.1, reo_wnd 2 × min_RTT/4 = 0.05.
    assert_eq!(reorder_armed(&h), vec![0.585]);
    h.run_until(at(0.584));
    assert_eq!(sent(&mut h, &mut m), vec![]);
    h.run_until(at(0.585));
    assert_eq!(
        sent(&mut h, &mut m),
        vec![out(8 * SEG, Some(RtxCause::Rack), 0.585)]
    );
}

/// SACK blocks are taken in ascending order, whatever order the receiver
/// lists them in (newest first, RFC 2018 §4): two blocks in one ACK are
/// two holes, not reordering, so with three segments SACKed RACK marks at
/// once (RFC 8985 §6.2: no reordering window) instead of waiting 25 ms.
#[test]
fn sack_blocks_listed_newest_first_are_not_reordering() {
    let mut h = sender(linux(), true, false);
    let c = h.conn.unwrap();
    let mut m = 0;
    h.e.send(h.now, c, &[1u8; 8000]).unwrap();
    assert_eq!(sent(&mut h, &mut m).len(), 8);
    h.advance(ms(100));
    // The ACKs that reported 2 and 4 alone were lost; this one lists all.
    h.input(ack(
        &h,
        0,
        &[(6 * SEG, 7 * SEG), (4 * SEG, 5 * SEG), (2 * SEG, 3 * SEG)],
    ));
    let now = sent(&mut h, &mut m);
    assert_eq!(
        now.first(),
        Some(&out(0, Some(RtxCause::Rack), 0.2)),
        "{now:?}"
    );
    assert_eq!(
        recovery(&h).first().map(|r| (r.0, r.1)),
        Some((RecoveryAction::Enter, Some(RtxCause::Rack)))
    );
}

/// HyStart (the `linux` profile, as Linux's CUBIC): with no loss, slow
/// start ends when the round trip grows by more than an eighth of its
/// minimum (here 100 → 125 ms, over max(12.5, 4) ms), and not while it
/// stays put. The receiver ACKs every segment, all of a round at once (no
/// ACK train).
#[test]
fn hystart_ends_slow_start_when_the_round_trip_grows_and_not_before() {
    // Rounds of ACKs: every segment out is ACKed `rtt` after it left.
    let run = |rtts: &[u64]| -> H {
        let mut h = sender(linux(), true, false);
        let c = h.conn.unwrap();
        let mut m = 0;
        h.e.send(h.now, c, &vec![1u8; 60_000]).unwrap();
        let mut out = sent(&mut h, &mut m);
        for &rtt in rtts {
            h.advance(ms(rtt));
            let mut next = Vec::new();
            for o in &out {
                h.input(ack(&h, o.off + o.len, &[]));
                next.extend(sent(&mut h, &mut m));
            }
            out = next;
        }
        h
    };
    let exits = |h: &H| -> Vec<(Option<String>, u32, u32)> {
        h.events
            .iter()
            .filter_map(|e| match &e.body {
                Body::Recovery(r) if r.action == RecoveryAction::SlowStartExit => {
                    Some((r.how.clone(), r.cwnd, r.ssthresh))
                }
                _ => None,
            })
            .collect()
    };
    // The round trip stays 100 ms: slow start goes on (10, 20, 40 segments).
    let h = run(&[100, 100, 100]);
    assert_eq!(exits(&h), vec![]);
    assert!(h.e.tcb(h.conn.unwrap()).unwrap().cwnd() >= 40 * SEG);
    // It grows to 125 ms in the second round trip: one exit, by delay,
    // with ssthresh = cwnd, and no loss anywhere.
    let h = run(&[100, 125, 125]);
    let x = exits(&h);
    assert_eq!(x.len(), 1, "{x:?}");
    let (how, cwnd, ssthresh) = x[0].clone();
    assert_eq!(how.as_deref(), Some("delay"));
    assert_eq!(cwnd, ssthresh);
    // HyStart's rounds: the first starts at the 7th ACK (cwnd 16) and lasts
    // until SND.UNA passes what was sent by then, so it also takes the
    // second round trip's first 125 ms samples (its minimum stays 100);
    // the next takes eight at 125 ms and judges on the ninth, the first
    // ACK of the third round trip: cwnd 10 + 10 + 20 segments.
    assert_eq!(cwnd, 40 * SEG);
    assert_eq!(recovery(&h).len(), 1, "the exit is the only recovery event");
    assert!(
        h.events
            .iter()
            .all(|e| e.segment().is_none_or(|s| !s.retransmit))
    );
}

/// PRR's slow-start reduction bound (RFC 6937 §3) as Linux's
/// tcp_cwnd_reduction gives it: the extra segment only for an ACK that
/// advanced SND.UNA and marked nothing newly lost. Off, every ACK in that
/// phase gets it, as the RFC says.
#[test]
fn prr_adds_its_extra_segment_only_when_snd_una_advances_without_new_loss() {
    let r = Some(RtxCause::Rack);
    for (on, first) in [(true, vec![0, 1, 2]), (false, vec![0, 1, 2, 3])] {
        let cfg = Config {
            prr_ssrb_on_advance: on,
            ..linux()
        };
        let mut h = sender(cfg, true, false);
        let c = h.conn.unwrap();
        let mut m = 0;
        h.e.send(h.now, c, &[1u8; 20_000]).unwrap();
        assert_eq!(
            sent(&mut h, &mut m),
            segs(&(0..10).collect::<Vec<_>>(), None, 0.1)
        );
        // One round trip later 5, 6 and 7 arrive: three SACKed segments
        // and no reordering seen, so RACK's window is zero and 0..5 are
        // lost at once. Pipe is 8 and 9, below ssthresh (7 segments):
        // the three delivered let three out, and the extra one only with
        // the setting off.
        h.advance(ms(100));
        h.input(ack(&h, 0, &[(5 * SEG, 8 * SEG)]));
        assert_eq!(sent(&mut h, &mut m), segs(&first, r, 0.2));
        if !on {
            continue;
        }
        // The first retransmission, 8 and 9 arrive: SND.UNA advances and
        // nothing is newly lost. Pipe is 1 and 2; delivered 6, sent 3, so
        // max(3, 3) + 1 = 4 may leave: 3 and 4 again, then 10 and 11.
        h.advance(ms(100));
        h.input(ack(&h, SEG, &[(5 * SEG, 10 * SEG)]));
        let mut want = segs(&[3, 4], r, 0.3);
        want.extend(segs(&[10, 11], None, 0.3));
        assert_eq!(sent(&mut h, &mut m), want);
    }
}

/// Linux's reordering degree (tp->reordering, TCP_INFO's tcpi_reordering):
/// it starts at the tcp_reordering setting and grows to the distance, in
/// segments, between the highest SACKed byte and a never-resent segment
/// that arrived below it (tcp_check_sack_reordering); it never shrinks.
#[test]
fn the_reordering_degree_grows_with_the_distance_of_late_segments() {
    let mut h = sender(linux(), true, false);
    let c = h.conn.unwrap();
    let mut m = 0;
    h.e.send(h.now, c, &[1u8; 10_000]).unwrap();
    assert_eq!(sent(&mut h, &mut m).len(), 10);
    let reordering = |h: &H| h.e.tcb(c).unwrap().reordering();
    assert_eq!(reordering(&h), 3);
    h.advance(ms(100));
    // 7 arrives first: nothing below it was SACKed before it.
    h.input(ack(&h, 0, &[(7 * SEG, 8 * SEG)]));
    assert_eq!(reordering(&h), 3);
    // Then 3: 5 segments below the highest SACKed byte.
    h.advance(ms(2));
    h.input(ack(&h, 0, &[(3 * SEG, 4 * SEG), (7 * SEG, 8 * SEG)]));
    assert_eq!(reordering(&h), 5);
    // 4 is only 4 below: no change.
    h.input(ack(&h, 0, &[(3 * SEG, 5 * SEG), (7 * SEG, 8 * SEG)]));
    assert_eq!(reordering(&h), 5);
    // The cumulative ACK fills 0..1 with the original, 8 below 8000:
    // the hole filled late by a segment never resent is reordering too.
    h.input(ack(&h, SEG, &[(3 * SEG, 5 * SEG), (7 * SEG, 9 * SEG)]));
    assert_eq!(reordering(&h), 9);
}

/// RACK's reordering window is zero before any reordering once DupThresh
/// segments are SACKed (RFC 8985 §6.2 step 4); DupThresh is the
/// reordering degree, so with tcp_reordering 5 three SACKed segments
/// still wait a quarter of min_RTT (Linux's tcp_rack_reo_wnd).
#[test]
fn racks_dupthresh_is_the_reordering_degree() {
    for (degree, enter_at) in [(3, 0.2), (5, 0.225)] {
        let cfg = Config {
            reordering: degree,
            ..linux()
        };
        let mut h = sender(cfg, true, false);
        let c = h.conn.unwrap();
        let mut m = 0;
        h.e.send(h.now, c, &[1u8; 10_000]).unwrap();
        assert_eq!(sent(&mut h, &mut m).len(), 10);
        h.advance(ms(100));
        h.input(ack(&h, 0, &[(5 * SEG, 8 * SEG)]));
        h.advance(ms(50));
        let entered: Vec<f64> = h
            .events
            .iter()
            .filter(|e| matches!(&e.body, Body::Recovery(r) if r.action == RecoveryAction::Enter))
            .map(|e| e.t)
            .collect();
        assert_eq!(entered, vec![enter_at], "tcp_reordering {degree}");
    }
}

/// Limited transmit (RFC 3042) that turns out to be reordering: the
/// cumulative ACK of data SACKed before (or counted by duplicate ACKs,
/// without SACK) grows Linux's window by what that ACK newly delivered,
/// one segment here (tcp_ack's acked_sacked, tcp_remove_reno_sacks), not
/// by everything it covers; the two segments the window then allows leave
/// as one TSO packet, PSH on its last (as the packetdrill scripts
/// limited-transmit-sack and -no-sack have it).
#[test]
fn linux_grows_by_what_the_ack_delivered_after_limited_transmit() {
    for sack in [true, false] {
        let mut h = sender(linux(), sack, false);
        let c = h.conn.unwrap();
        h.e.send(h.now, c, &[0; 15_000]).unwrap();
        let flags = |h: &mut H| -> Vec<(Flags, u32, usize)> {
            let mut v = Vec::new();
            while let Some(s) = h.output() {
                v.push((s.flags, s.seq.0.wrapping_sub(h.iss + 1), s.payload.len()));
            }
            v
        };
        assert_eq!(flags(&mut h).len(), 10);
        h.advance(ms(110));
        let blocks = |b: &[(u32, u32)]| if sack { b.to_vec() } else { Vec::new() };
        h.input(ack(&h, 0, &blocks(&[(1000, 2000)])));
        assert_eq!(flags(&mut h), vec![(A, 10_000, 1000)]);
        h.advance(ms(10));
        h.input(ack(&h, 0, &blocks(&[(1000, 3000)])));
        assert_eq!(flags(&mut h), vec![(A, 11_000, 1000)]);
        h.advance(ms(10));
        h.input(ack(&h, 3000, &[]));
        assert_eq!(
            flags(&mut h),
            vec![(A, 12_000, 1000), (P | A, 13_000, 1000)],
            "sack {sack}"
        );
        assert_eq!(h.e.tcb(c).unwrap().cwnd(), 11 * SEG, "sack {sack}");
    }
}

/// The ACK that ends an episode grows the window as Linux's tcp_ack does:
/// tcp_cong_control runs after tcp_fastretrans_alert has set the state
/// back to Open, so the one-segment window of a timeout takes the ACK's
/// delivery by slow start at once. Off (the RFC profile's way), growth
/// resumes with the next ACK.
#[test]
fn the_ack_that_ends_the_loss_state_grows_the_window() {
    let r = Some(RtxCause::Rack);
    for (on, after) in [(true, vec![10, 11, 12, 13, 14, 15, 16]), (false, vec![10])] {
        let cfg = Config {
            linux_cwnd_growth: on,
            ..linux()
        };
        let mut h = sender(cfg, true, false);
        let c = h.conn.unwrap();
        let mut m = 0;
        h.e.send(h.now, c, &[1u8; 30_000]).unwrap();
        assert_eq!(
            sent(&mut h, &mut m),
            segs(&(0..10).collect::<Vec<_>>(), None, 0.1)
        );
        // 5, 6 and 7 arrive: 0..5 are lost (RACK), recovery begins with
        // ssthresh 7 segments (CUBIC's 0.7), and PRR lets 0, 1, 2 out.
        h.advance(ms(100));
        h.input(ack(&h, 0, &[(5 * SEG, 8 * SEG)]));
        assert_eq!(sent(&mut h, &mut m), segs(&[0, 1, 2], r, 0.2));
        // Nothing more comes back: the timeout (RTO 300 ms) interrupts
        // recovery (no F-RTO, ssthresh stays), the window is one segment.
        h.run_until(at(0.5));
        assert_eq!(rto_fired(&h), 1);
        assert_eq!(sent(&mut h, &mut m), segs(&[0], Some(RtxCause::Rto), 0.5));
        // Everything up to SND.MAX is acknowledged: the loss state ends.
        // Seven segments newly delivered (0..5, 8, 9): slow start takes
        // the window from one segment to ssthresh, seven new segments.
        h.advance(ms(100));
        h.input(ack(&h, 10 * SEG, &[]));
        assert_eq!(h.e.tcb(c).unwrap().ca_state(), CaState::Open);
        assert_eq!(sent(&mut h, &mut m), segs(&after, None, 0.6));
    }
}

/// In the loss state Linux's window is not being reduced
/// (tcp_in_cwnd_reduction is false there), so tcp_cong_control grows it by
/// what the ACK delivered: the segment the cumulative ACK covers and the
/// ones its SACK blocks newly report. Off, slow start counts only the
/// bytes the cumulative ACK covers (RFC 5681 §3.1).
#[test]
fn in_the_loss_state_the_window_grows_by_what_was_delivered() {
    let rto = Some(RtxCause::Rto);
    for (on, more) in [(true, vec![3, 4]), (false, vec![])] {
        let cfg = Config {
            linux_cwnd_growth: on,
            ..linux()
        };
        let mut h = sender(cfg, true, false);
        let c = h.conn.unwrap();
        let mut m = 0;
        h.e.send(h.now, c, &[1u8; 30_000]).unwrap();
        assert_eq!(sent(&mut h, &mut m).len(), 10);
        // 5, 6 and 7 arrive; recovery resends 0, 1, 2; then the timeout
        // (ssthresh stays 7 segments): the window is one segment and 0
        // goes again.
        h.advance(ms(100));
        h.input(ack(&h, 0, &[(5 * SEG, 8 * SEG)]));
        assert_eq!(sent(&mut h, &mut m).len(), 3);
        h.run_until(at(0.5));
        assert_eq!(sent(&mut h, &mut m), segs(&[0], rto, 0.5));
        // The ACK covers 0 and SACKs 8 and 9 for the first time: three
        // segments delivered, the window grows from one to four segments
        // by slow start (with the setting off, by the one acknowledged),
        // and the lost segments go again in order (3 and 4 as RACK marked
        // them, never resent before).
        h.advance(ms(100));
        h.input(ack(&h, SEG, &[(5 * SEG, 10 * SEG)]));
        assert_eq!(h.e.tcb(c).unwrap().ca_state(), CaState::Loss);
        let mut want = segs(&[1, 2], rto, 0.6);
        want.extend(segs(&more, Some(RtxCause::Rack), 0.6));
        assert_eq!(sent(&mut h, &mut m), want);
    }
}
