//! Every transition of RFC 9293 Figure 5 and the segment-arrives rules of
//! §3.10.7, with the exact segments exchanged.

use std::time::Duration;

use super::*;
use crate::event::{AbortReason, Body, LimitKind, TcbAction};

use State::*;

// ----- Figure 5, one test per arrow ------------------------------------------

#[test]
fn closed_to_listen_and_back() {
    let mut h = listening();
    h.e.unlisten(h.now, 80);
    h.pull_events();
    assert_eq!(h.transitions(), vec![(Closed, Listen), (Listen, Closed)]);
    // Nobody listens any more: a SYN gets RST+ACK.
    h.input(h.seg(S, IRS, 0));
    let rst = h.reply(R | A, 0, IRS + 1, 0);
    h.expect(rst);
}

#[test]
fn closed_to_syn_sent_sends_syn_with_iss() {
    let h = syn_sent();
    assert_eq!(h.transitions(), vec![(Closed, SynSent)]);
    // The TCB was allocated before the state changed.
    assert_eq!(h.kinds()[..2], ["tcb", "state"]);
}

#[test]
fn listen_to_syn_received_answers_syn_ack() {
    let h = syn_received();
    assert_eq!(
        h.transitions(),
        vec![(Closed, Listen), (Listen, SynReceived)]
    );
}

#[test]
fn syn_received_to_established_on_ack_of_syn() {
    let h = established();
    assert_eq!(
        h.transitions(),
        vec![
            (Closed, Listen),
            (Listen, SynReceived),
            (SynReceived, Established)
        ]
    );
}

#[test]
fn syn_sent_to_established_on_syn_ack() {
    let mut h = syn_sent();
    let mut sa = h.seg(S | A, IRS, h.iss + 1);
    sa.options = mss(1400);
    h.input(sa);
    // <SEQ=ISS+1><ACK=IRS+1><CTL=ACK>
    let ack = h.reply(A, h.iss + 1, IRS + 1, OUR_WIN);
    h.expect(ack);
    assert_eq!(
        h.transitions(),
        vec![(Closed, SynSent), (SynSent, Established)]
    );
    // The peer's MSS applies to what we send.
    assert_eq!(h.e.tcb(h.conn.unwrap()).unwrap().snd_mss(), 1400);
}

#[test]
fn syn_sent_to_syn_received_on_simultaneous_open() {
    let mut h = syn_sent();
    h.input(h.seg(S, IRS, 0));
    // <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>
    let mut sa = h.reply(S | A, h.iss, IRS + 1, OUR_WIN);
    sa.options = mss(1460);
    h.expect(sa);
    assert_eq!(h.state(), Some(SynReceived));
    // The peer's SYN+ACK acknowledges our SYN: ESTABLISHED, nothing to send.
    h.input(h.seg(S | A, IRS, h.iss + 1));
    h.expect_none();
    assert_eq!(
        h.transitions(),
        vec![
            (Closed, SynSent),
            (SynSent, SynReceived),
            (SynReceived, Established)
        ]
    );
}

#[test]
fn syn_sent_to_closed_on_close() {
    let mut h = syn_sent();
    h.e.shutdown(h.now, h.conn.unwrap()).unwrap();
    h.pull_events();
    h.expect_none();
    assert_eq!(h.transitions(), vec![(Closed, SynSent), (SynSent, Closed)]);
    assert_eq!(h.state(), None, "TCB deleted");
    assert!(matches!(
        h.events.last().unwrap().body,
        Body::Tcb(ref t) if t.action == TcbAction::Freed
    ));
}

#[test]
fn syn_received_to_listen_on_rst() {
    let mut h = syn_received();
    h.input(h.seg(R, IRS + 1, 0));
    h.expect_none();
    assert_eq!(h.transitions().last(), Some(&(SynReceived, Listen)));
    assert_eq!(h.state(), None);
    // The listener still listens: a new SYN gets a SYN+ACK.
    h.input(h.seg(S, IRS + 500, 0));
    let sa = h.output().unwrap();
    assert_eq!(sa.flags, S | A);
    assert_eq!(sa.ack, SeqNum(IRS + 501));
}

#[test]
fn syn_received_to_fin_wait_1_on_close() {
    // Simultaneous open leaves the application holding a SYN-RECEIVED
    // connection it may close.
    let mut h = syn_sent();
    h.input(h.seg(S, IRS, 0));
    h.output().unwrap();
    h.e.shutdown(h.now, h.conn.unwrap()).unwrap();
    h.pull_events();
    let fin = h.reply(F | A, h.iss + 1, IRS + 1, OUR_WIN);
    h.expect(fin);
    assert_eq!(h.transitions().last(), Some(&(SynReceived, FinWait1)));
}

#[test]
fn established_to_fin_wait_1_on_close() {
    let h = fin_wait_1();
    assert_eq!(h.transitions().last(), Some(&(Established, FinWait1)));
}

#[test]
fn established_to_close_wait_on_fin() {
    let h = close_wait();
    assert_eq!(h.transitions().last(), Some(&(Established, CloseWait)));
}

#[test]
fn fin_wait_1_to_fin_wait_2_on_ack_of_fin() {
    let h = fin_wait_2();
    assert_eq!(h.transitions().last(), Some(&(FinWait1, FinWait2)));
}

#[test]
fn fin_wait_1_to_closing_on_fin() {
    let h = closing();
    assert_eq!(h.transitions().last(), Some(&(FinWait1, Closing)));
}

#[test]
fn fin_wait_1_to_time_wait_on_fin_that_acks_our_fin() {
    let mut h = fin_wait_1();
    h.input(h.seg(F | A, IRS + 1, h.iss + 2));
    let ack = h.reply(A, h.iss + 2, IRS + 2, OUR_WIN);
    h.expect(ack);
    // As Linux: the ACK part moves us to FIN-WAIT-2, the FIN to TIME-WAIT.
    let t = h.transitions();
    assert_eq!(
        t[t.len() - 2..],
        [(FinWait1, FinWait2), (FinWait2, TimeWait)]
    );
}

#[test]
fn fin_wait_2_to_time_wait_on_fin() {
    let h = time_wait();
    assert_eq!(h.transitions().last(), Some(&(FinWait2, TimeWait)));
}

#[test]
fn closing_to_time_wait_on_ack_of_fin() {
    let mut h = closing();
    h.input(h.seg(A, IRS + 2, h.iss + 2));
    h.expect_none();
    assert_eq!(h.transitions().last(), Some(&(Closing, TimeWait)));
}

#[test]
fn close_wait_to_last_ack_on_close() {
    let h = last_ack();
    assert_eq!(h.transitions().last(), Some(&(CloseWait, LastAck)));
}

#[test]
fn last_ack_to_closed_on_ack_of_fin() {
    let mut h = last_ack();
    h.input(h.seg(A, IRS + 2, h.iss + 2));
    h.expect_none();
    assert_eq!(h.transitions().last(), Some(&(LastAck, Closed)));
    assert_eq!(h.state(), None);
}

#[test]
fn time_wait_to_closed_after_exactly_two_msl() {
    let mut cfg = test_config();
    cfg.msl = Duration::from_secs(7);
    let mut h = H::new(cfg);
    h.e.listen(h.now, 80, None).unwrap();
    // Walk to TIME-WAIT by hand at t = 1 s.
    h.now = Instant::from_secs(1);
    h.input(h.seg(S, IRS, 0));
    h.iss = h.output().unwrap().seq.0;
    h.conn = h.e.find(h.us, h.them);
    h.input(h.seg(A, IRS + 1, h.iss + 1));
    h.e.shutdown(h.now, h.conn.unwrap()).unwrap();
    h.output().unwrap();
    h.input(h.seg(F | A, IRS + 1, h.iss + 2));
    h.output().unwrap();
    assert_eq!(h.state(), Some(TimeWait));
    let armed = h.timers(TimerKind::TimeWait);
    assert_eq!(armed, vec![(TimerAction::Armed, Some(15.0), 1.0)]);
    h.run_until(Instant::from_micros(14_999_999));
    assert_eq!(h.state(), Some(TimeWait), "still waiting 1 µs before 2 MSL");
    h.run_until(Instant::from_secs(15));
    h.pull_events();
    assert_eq!(h.state(), None);
    assert_eq!(h.transitions().last(), Some(&(TimeWait, Closed)));
    let freed = h
        .events
        .iter()
        .find(|e| matches!(&e.body, Body::Tcb(t) if t.action == TcbAction::Freed))
        .unwrap();
    assert_eq!(freed.t, 15.0);
}

// ----- TIME-WAIT rules ------------------------------------------------------------

#[test]
fn time_wait_acks_a_retransmitted_fin_and_restarts_the_timer() {
    let mut h = time_wait();
    let msl2 = h.e.config().msl * 2;
    h.advance(Duration::from_secs(100));
    // Our last ACK was lost: the peer sends its FIN again.
    h.input(h.seg(F | A, IRS + 1, h.iss + 2));
    let ack = h.reply(A, h.iss + 2, IRS + 2, OUR_WIN);
    h.expect(ack);
    let t = h.timers(TimerKind::TimeWait);
    let last = t.last().unwrap();
    assert_eq!(last.0, TimerAction::Armed);
    assert_eq!(
        last.1,
        Some((h.now + msl2).secs_f64()),
        "restarted from now"
    );
    h.advance(msl2 - Duration::from_micros(1));
    assert_eq!(h.state(), Some(TimeWait));
    h.advance(Duration::from_micros(1));
    assert_eq!(h.state(), None);
}

#[test]
fn time_wait_ignores_rst_rfc1337() {
    let mut h = time_wait();
    h.input(h.seg(R, IRS + 2, 0));
    h.expect_none();
    assert_eq!(h.state(), Some(TimeWait));
}

// ----- RST acceptance (RFC 9293 §3.10.7.4 second, RFC 5961 §3.2) -------------

#[test]
fn rst_exactly_at_rcv_nxt_resets() {
    let mut h = established();
    h.input(h.seg(R, IRS + 1, 0));
    h.expect_none();
    assert_eq!(h.state(), None);
    assert_eq!(h.transitions().last(), Some(&(Established, Closed)));
    assert!(h.events.iter().any(
        |e| matches!(&e.body, Body::Abort { reason } if *reason == AbortReason::ResetReceived)
    ));
}

#[test]
fn rst_in_window_but_not_exact_gets_a_challenge_ack() {
    let mut h = established();
    h.input(h.seg(R, IRS + 100, 0));
    // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
    let ack = h.reply(A, h.iss + 1, IRS + 1, OUR_WIN);
    h.expect(ack);
    assert_eq!(h.state(), Some(Established));
}

#[test]
fn rst_outside_the_window_is_ignored() {
    let mut h = established();
    h.input(h.seg(R, IRS + 1 + OUR_WIN as u32 + 10, 0));
    h.expect_none();
    h.input(h.seg(R, IRS - 10, 0));
    h.expect_none();
    assert_eq!(h.state(), Some(Established));
}

#[test]
fn rst_in_syn_sent_needs_an_acceptable_ack() {
    let mut h = syn_sent();
    // RST without ACK: dropped.
    h.input(h.seg(R, IRS, 0));
    h.expect_none();
    assert_eq!(h.state(), Some(SynSent));
    // RST+ACK acknowledging something else: the ACK check answers with RST.
    h.input(h.seg(R | A, IRS, h.iss + 5));
    h.expect_none();
    assert_eq!(h.state(), Some(SynSent));
    // RST+ACK of our SYN: connection refused.
    h.input(h.seg(R | A, 0, h.iss + 1));
    h.expect_none();
    assert_eq!(h.state(), None);
    assert_eq!(
        h.e.send(h.now, h.conn.unwrap(), b"x"),
        Err(crate::tcp::TcpError::Refused)
    );
}

// ----- other §3.10.7 rules ----------------------------------------------------------

#[test]
fn syn_sent_rejects_a_bad_ack_with_rst() {
    let mut h = syn_sent();
    h.input(h.seg(S | A, IRS, h.iss + 10));
    // <SEQ=SEG.ACK><CTL=RST>
    let rst = h.reply(R, h.iss + 10, 0, 0);
    h.expect(rst);
    assert_eq!(h.state(), Some(SynSent));
}

#[test]
fn syn_in_a_synchronized_state_gets_a_challenge_ack() {
    let mut h = established();
    h.input(h.seg(S, IRS + 50, 0));
    let ack = h.reply(A, h.iss + 1, IRS + 1, OUR_WIN);
    h.expect(ack);
    assert_eq!(h.state(), Some(Established));
}

#[test]
fn ack_of_unsent_data_is_answered_with_ack_and_dropped() {
    let mut h = established();
    h.input(with_payload(h.seg(A | P, IRS + 1, h.iss + 100), b"data"));
    let ack = h.reply(A, h.iss + 1, IRS + 1, OUR_WIN);
    h.expect(ack);
    // The data was not taken.
    let mut buf = [0u8; 8];
    assert_eq!(
        h.e.recv(h.now, h.conn.unwrap(), &mut buf),
        Err(crate::tcp::TcpError::WouldBlock)
    );
}

#[test]
fn out_of_window_segment_is_answered_with_ack() {
    let mut h = established();
    // Old data (already received).
    h.input(with_payload(h.seg(A, IRS - 10, h.iss + 1), b"old"));
    let ack = h.reply(A, h.iss + 1, IRS + 1, OUR_WIN);
    h.expect(ack.clone());
    // Beyond the right edge of the window.
    h.input(with_payload(h.seg(A, IRS + 1 + 5000, h.iss + 1), b"far"));
    h.expect(ack);
}

#[test]
fn listen_answers_an_ack_with_rst() {
    let mut h = listening();
    h.input(h.seg(A, IRS, 777));
    let rst = h.reply(R, 777, 0, 0);
    h.expect(rst);
    // A RST to a listener is ignored.
    h.input(h.seg(R, IRS, 0));
    h.expect_none();
}

#[test]
fn no_connection_rst_forms() {
    let mut h = H::new(test_config());
    // SYN to a closed port: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
    h.input(h.seg(S, IRS, 0));
    let rst = h.reply(R | A, 0, IRS + 1, 0);
    h.expect(rst);
    // Data without ACK: ack covers the data.
    h.input(with_payload(h.seg(Flags::PSH, IRS, 0), b"abc"));
    let rst = h.reply(R | A, 0, IRS + 3, 0);
    h.expect(rst);
    // With ACK: <SEQ=SEG.ACK><CTL=RST>.
    h.input(h.seg(A, IRS, 4242));
    let rst = h.reply(R, 4242, 0, 0);
    h.expect(rst);
    // A RST for no connection is not answered.
    h.input(h.seg(R, IRS, 0));
    h.expect_none();
}

#[test]
fn abort_sends_rst_with_snd_nxt() {
    let mut h = established();
    h.e.abort(h.now, h.conn.unwrap()).unwrap();
    h.pull_events();
    let rst = h.reply(R, h.iss + 1, 0, 0);
    h.expect(rst);
    assert_eq!(h.state(), None);
    assert!(
        h.events
            .iter()
            .any(|e| matches!(&e.body, Body::Abort { reason } if *reason == AbortReason::User))
    );
}

#[test]
fn retransmitted_syn_in_syn_received_gets_the_syn_ack_again() {
    let mut h = syn_received();
    h.input(h.seg(S, IRS, 0));
    let mut sa = h.reply(S | A, h.iss, IRS + 1, OUR_WIN);
    sa.options = mss(1460);
    h.expect(sa);
    assert_eq!(h.state(), Some(SynReceived));
}

#[test]
fn ack_that_does_not_ack_our_syn_in_syn_received_gets_rst() {
    let mut h = syn_received();
    h.input(h.seg(A, IRS + 1, h.iss + 7));
    let rst = h.reply(R, h.iss + 7, 0, 0);
    h.expect(rst);
    assert_eq!(h.state(), Some(SynReceived));
}

#[test]
fn tcb_lifecycle_events_name_what_is_freed() {
    let mut h = last_ack();
    h.input(h.seg(A, IRS + 2, h.iss + 2));
    let tcb: Vec<_> = h
        .events
        .iter()
        .filter_map(|e| match &e.body {
            Body::Tcb(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(tcb.len(), 2);
    assert_eq!(tcb[0].action, TcbAction::Allocated);
    assert_eq!(
        (tcb[0].send_buf, tcb[0].recv_buf, tcb[0].port),
        (65536, 4096, 80)
    );
    assert_eq!(tcb[1].action, TcbAction::Freed);
    assert_eq!(tcb[1].table, 0);
    assert!(
        tcb[1]
            .freed
            .as_deref()
            .unwrap()
            .contains("64 KiB send and 4 KiB receive buffers")
    );
}

// ----- data and half-close ---------------------------------------------------------

#[test]
fn data_both_ways_with_exact_segments() {
    let mut h = established();
    let c = h.conn.unwrap();
    assert_eq!(h.e.send(h.now, c, b"hello").unwrap(), 5);
    let data = with_payload(h.reply(A | P, h.iss + 1, IRS + 1, OUR_WIN), b"hello");
    h.expect(data);
    h.input(with_payload(h.seg(A | P, IRS + 1, h.iss + 6), b"world!"));
    // One small segment: the ACK is delayed (RFC 1122 §4.2.3.2).
    h.expect_none();
    h.advance(Duration::from_millis(199));
    h.expect_none();
    h.advance(Duration::from_millis(1));
    // The window shrinks by what is waiting to be read.
    let ack = h.reply(A, h.iss + 6, IRS + 7, OUR_WIN - 6);
    h.expect(ack);
    let mut buf = [0u8; 16];
    assert_eq!(h.e.recv(h.now, c, &mut buf).unwrap(), 6);
    assert_eq!(&buf[..6], b"world!");
}

#[test]
fn half_close_lets_the_peer_keep_sending() {
    let mut h = fin_wait_2();
    let c = h.conn.unwrap();
    h.input(with_payload(h.seg(A | P, IRS + 1, h.iss + 2), b"more"));
    let mut buf = [0u8; 8];
    assert_eq!(h.e.recv(h.now, c, &mut buf).unwrap(), 4);
    assert_eq!(h.state(), Some(FinWait2));
    h.input(h.seg(F | A, IRS + 5, h.iss + 2));
    // Reading 4 bytes may not move the right edge: less than
    // min(RCV.BUFF/2, MSS) (receiver SWS avoidance, RFC 1122 §4.2.3.3).
    let ack = h.reply(A, h.iss + 2, IRS + 6, OUR_WIN - 4);
    h.expect(ack);
    assert_eq!(h.state(), Some(TimeWait));
    assert_eq!(h.e.recv(h.now, c, &mut buf).unwrap(), 0, "end of stream");
}

#[test]
fn send_after_close_is_connection_closing() {
    let mut h = fin_wait_1();
    assert_eq!(
        h.e.send(h.now, h.conn.unwrap(), b"x"),
        Err(crate::tcp::TcpError::Closing)
    );
}

#[test]
fn out_of_order_data_is_kept_and_acked_at_once() {
    let mut h = established();
    let c = h.conn.unwrap();
    h.input(with_payload(h.seg(A, IRS + 4, h.iss + 1), b"def"));
    // Duplicate ACK at once (RFC 5681 §4.2).
    let dup = h.reply(A, h.iss + 1, IRS + 1, OUR_WIN);
    h.expect(dup);
    h.input(with_payload(h.seg(A, IRS + 1, h.iss + 1), b"abc"));
    // The hole is filled: ACK at once, for everything.
    let ack = h.reply(A, h.iss + 1, IRS + 7, OUR_WIN - 6);
    h.expect(ack);
    let mut buf = [0u8; 8];
    assert_eq!(h.e.recv(h.now, c, &mut buf).unwrap(), 6);
    assert_eq!(&buf[..6], b"abcdef");
}

#[test]
fn sack_blocks_describe_the_holes() {
    let mut cfg = test_config();
    cfg.sack = true;
    let mut h = H::new(cfg);
    h.e.listen(h.now, 80, None).unwrap();
    let mut syn = h.seg(S, IRS, 0);
    syn.options = TcpOptions {
        mss: Some(1460),
        sack_perm: true,
        ..Default::default()
    };
    h.input(syn);
    let sa = h.output().unwrap();
    h.iss = sa.seq.0;
    assert!(sa.options.sack_perm, "SACK permitted is echoed");
    h.input(h.seg(A, IRS + 1, h.iss + 1));
    h.input(with_payload(h.seg(A, IRS + 11, h.iss + 1), b"0123456789"));
    let ack = h.output().unwrap();
    assert_eq!(ack.ack, SeqNum(IRS + 1));
    assert_eq!(ack.options.sack, vec![(SeqNum(IRS + 11), SeqNum(IRS + 21))]);
    h.input(with_payload(h.seg(A, IRS + 31, h.iss + 1), b"xxxxx"));
    let ack = h.output().unwrap();
    // Most recent block first (RFC 2018 §4).
    assert_eq!(
        ack.options.sack,
        vec![
            (SeqNum(IRS + 31), SeqNum(IRS + 36)),
            (SeqNum(IRS + 11), SeqNum(IRS + 21))
        ]
    );
}

#[test]
fn window_scale_and_timestamps_are_negotiated_and_applied() {
    let mut cfg = test_config();
    cfg.window_scaling = true;
    cfg.timestamps = true;
    cfg.recv_buf = 256 * 1024;
    let mut h = H::new(cfg);
    h.e.listen(h.now, 80, None).unwrap();
    let mut syn = h.seg(S, IRS, 0);
    syn.options = TcpOptions {
        mss: Some(1460),
        wscale: Some(7),
        timestamp: Some((555, 0)),
        ..Default::default()
    };
    h.input(syn);
    let sa = h.output().unwrap();
    h.iss = sa.seq.0;
    // Our shift covers 256 KiB in 16 bits: 3. The SYN+ACK window is not scaled.
    assert_eq!(sa.options.wscale, Some(3));
    assert_eq!(sa.window, 65535);
    let (_, ecr) = sa.options.timestamp.unwrap();
    assert_eq!(ecr, 555, "TSecr echoes the SYN's TSval");
    let mut ack = h.seg(A, IRS + 1, h.iss + 1);
    ack.window = 100; // × 2^7 = 12800 bytes
    ack.options.timestamp = Some((556, sa.options.timestamp.unwrap().0));
    h.input(ack);
    let t = h.e.tcb(h.e.find(h.us, h.them).unwrap()).unwrap();
    assert_eq!(t.snd_wnd(), 12800);
    // Data segments carry MSS − 12 bytes with timestamps.
    assert_eq!(t.eff_mss(), 1448);
    let c = h.e.find(h.us, h.them).unwrap();
    h.e.send(h.now, c, &[7u8; 3000]).unwrap();
    let d = h.output().unwrap();
    assert_eq!(d.payload.len(), 1448);
    assert_eq!(
        d.window,
        (256 * 1024 / 8) as u16 - 1 + 1,
        "window in units of 8 bytes"
    );
    assert_eq!(
        d.options.timestamp.unwrap().1,
        556,
        "TS.Recent follows the peer"
    );
}

#[test]
fn silly_window_scale_over_14_is_treated_as_14() {
    let mut cfg = test_config();
    cfg.window_scaling = true;
    let mut h = H::new(cfg);
    h.e.listen(h.now, 80, None).unwrap();
    let mut syn = h.seg(S, IRS, 0);
    syn.options = TcpOptions {
        mss: Some(1460),
        wscale: Some(15),
        ..Default::default()
    };
    h.input(syn);
    h.pull_events();
    let neg = h
        .events
        .iter()
        .find_map(|e| match &e.body {
            Body::Negotiated(n) => Some(n.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(neg.ws_snd, Some(14));
}

// ----- SYN cookies (RFC 4987 §3.6) ---------------------------------------------

fn syn_from(h: &H, port: u16, seq: u32) -> Segment {
    let mut s = h.seg(S, seq, 0);
    s.src.set_port(port);
    s.options = mss(1460);
    s
}

#[test]
fn full_backlog_answers_with_a_cookie_and_keeps_no_state() {
    let mut h = H::new(test_config());
    h.e.listen(h.now, 80, Some(2)).unwrap();
    for p in [1001, 1002] {
        h.input(syn_from(&h, p, 10));
        assert_eq!(h.output().unwrap().flags, S | A);
    }
    assert_eq!(h.e.connection_count(), 2);
    h.input(syn_from(&h, 1003, 500));
    let sa = h.output().unwrap();
    assert_eq!((sa.flags, sa.ack), (S | A, SeqNum(501)));
    assert_eq!(
        sa.options,
        mss(1460),
        "a cookie cannot remember WS, TS or SACK"
    );
    assert_eq!(h.e.connection_count(), 2, "no TCB for the cookie");
    assert!(
        h.events
            .iter()
            .any(|e| matches!(&e.body, Body::Limit { what, .. } if *what == LimitKind::SynBacklog))
    );
    // The ACK brings the cookie back: ESTABLISHED at once.
    let mut ack = h.seg(A, 501, sa.seq.0 + 1);
    ack.src.set_port(1003);
    h.input(ack);
    h.expect_none();
    let c = h.e.find(h.us, "10.0.0.1:1003".parse().unwrap()).unwrap();
    assert_eq!(h.e.state(c), Some(Established));
    assert_eq!(h.e.tcb(c).unwrap().snd_mss(), 1460);
    let t = h.transitions();
    assert_eq!(t.last(), Some(&(Listen, Established)));
    // A forged ACK (wrong cookie) gets the listener's RST.
    let mut forged = h.seg(A, 900, 12345);
    forged.src.set_port(1004);
    h.input(forged);
    let rst = h.output().unwrap();
    assert_eq!((rst.flags, rst.seq), (R, SeqNum(12345)));
}

#[test]
fn syn_flood_keeps_memory_bounded_and_serves_a_real_client() {
    let mut h = H::new(test_config());
    h.e.listen(h.now, 80, Some(16)).unwrap();
    for i in 0..50_000u32 {
        let mut s = syn_from(
            &h,
            1024 + (i % 60_000) as u16,
            i.wrapping_mul(2_654_435_761),
        );
        s.src = std::net::SocketAddr::new(
            std::net::Ipv4Addr::from(0x0a00_0100 + (i >> 16)).into(),
            s.src.port(),
        );
        h.e.receive(h.now, u64::from(i), &s.emit());
        while h.e.poll_transmit().is_some() {}
        h.e.drain_events().for_each(drop);
    }
    assert_eq!(h.e.connection_count(), 16, "only the backlog holds state");
    // A real client among the flood: SYN, cookie SYN+ACK, ACK.
    h.input(syn_from(&h, 40000, 7));
    let sa = h.output().unwrap();
    h.input(h.seg(A, 8, sa.seq.0 + 1));
    let c = h.e.find(h.us, h.them).unwrap();
    assert_eq!(h.e.state(c), Some(Established));
    h.input(with_payload(h.seg(A | P, 8, sa.seq.0 + 1), b"GET /"));
    let mut buf = [0u8; 8];
    assert_eq!(h.e.recv(h.now, c, &mut buf), Ok(5));
    // Limit events are rate-limited: one for the whole flood at one instant.
    let limits = h
        .events
        .iter()
        .filter(|e| matches!(&e.body, Body::Limit { .. }))
        .count();
    assert!(limits <= 1, "{limits} limit events");
}

// ----- a fully specified passive open (RFC 9293 §3.10.1, §3.10.2) ----------------

fn specified_passive() -> H {
    let mut h = H::new(test_config());
    h.conn = Some(h.e.listen_for(h.now, 80, h.them).unwrap());
    h.pull_events();
    assert_eq!(h.state(), Some(Listen));
    h.expect_none();
    h
}

#[test]
fn listen_to_syn_sent_on_send() {
    let mut h = specified_passive();
    let c = h.conn.unwrap();
    assert_eq!(h.e.send(h.now, c, b"hi").unwrap(), 2);
    let syn = h.output().expect("SYN");
    h.iss = syn.seq.0;
    let mut want = h.reply(S, h.iss, 0, OUR_WIN);
    want.options = mss(1460);
    assert_eq!(syn, want);
    assert_eq!(h.transitions(), vec![(Closed, Listen), (Listen, SynSent)]);
    // The data waits for ESTABLISHED, then goes with the handshake's ACK.
    h.input(h.seg(S | A, IRS, h.iss + 1));
    let data = with_payload(h.reply(A | P, h.iss + 1, IRS + 1, OUR_WIN), b"hi");
    h.expect(data);
    h.expect_none();
    assert_eq!(h.state(), Some(Established));
}

#[test]
fn specified_passive_open_answers_its_peer_and_returns_to_listen_on_rst() {
    let mut h = specified_passive();
    h.input(h.seg(S, IRS, 0));
    let sa = h.output().unwrap();
    assert_eq!((sa.flags, sa.ack), (S | A, SeqNum(IRS + 1)));
    h.iss = sa.seq.0;
    assert_eq!(h.state(), Some(SynReceived));
    h.input(h.seg(R, IRS + 1, 0));
    // Back to LISTEN, still there for the next SYN (Figure 5: rcv RST).
    assert_eq!(h.state(), Some(Listen));
    assert_eq!(h.transitions().last(), Some(&(SynReceived, Listen)));
    h.input(h.seg(S, IRS + 100, 0));
    assert_eq!(h.output().unwrap().flags, S | A);
    assert_eq!(h.state(), Some(SynReceived));
    // Another remote is not its peer: no listener for it, RST.
    let mut other = h.seg(S, 5, 0);
    other.src.set_port(40001);
    h.input(other);
    assert_eq!(h.output().unwrap().flags, R | A);
}

#[test]
fn close_in_listen_deletes_the_passive_tcb() {
    let mut h = specified_passive();
    h.e.shutdown(h.now, h.conn.unwrap()).unwrap();
    h.pull_events();
    assert_eq!(h.state(), None);
    assert_eq!(h.transitions().last(), Some(&(Listen, Closed)));
}

#[test]
fn a_full_send_buffer_takes_what_fits_and_says_so() {
    let mut cfg = test_config();
    cfg.send_buf = 1000;
    let mut h = H::new(cfg);
    h.e.listen(h.now, 80, None).unwrap();
    h.input(h.seg(S, IRS, 0));
    h.iss = h.output().unwrap().seq.0;
    h.input(h.seg(A, IRS + 1, h.iss + 1));
    let c = h.e.find(h.us, h.them).unwrap();
    assert_eq!(h.e.send(h.now, c, &[1u8; 1500]), Ok(1000));
    h.pull_events();
    let limit = h.events.iter().find_map(|e| match &e.body {
        Body::Limit { what, limit, .. } => Some((*what, *limit)),
        _ => None,
    });
    assert_eq!(limit, Some((LimitKind::SendBuffer, 1000)));
}
