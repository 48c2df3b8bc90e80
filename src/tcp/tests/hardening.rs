//! Issue 10's hardening, pinned with exact segments, states and deadlines:
//! SACK room in data segments and D-SACK (RFC 9293 §3.7.1, RFC 2883),
//! TIME-WAIT reopening and assassination (RFC 6191, RFC 1337), the RST of
//! ABORT, the first RTO and window after a lost SYN (RFC 6298 §5.7, RFC 5681
//! §3.1), restart after idle (RFC 5681 §4.1), per-connection challenge ACK
//! budgets (RFC 5961 §7), data after close (RFC 1122 §4.2.2.13) and the
//! marking of zero-window probes.

use std::net::SocketAddr;
use std::time::Duration;

use super::*;
use crate::event::{AbortReason, Dir, LimitKind, RtxCause, SegmentEvent, TcbAction};
use crate::tcp::{CloseReason, Profile};

use State::*;

fn aborts(h: &H) -> Vec<(AbortReason, f64)> {
    h.events
        .iter()
        .filter_map(|e| match &e.body {
            Body::Abort { reason } => Some((reason.clone(), e.t)),
            _ => None,
        })
        .collect()
}

/// (connection, what, limit) of every `limit` event.
fn limits(h: &H) -> Vec<(String, LimitKind, u64)> {
    h.events
        .iter()
        .filter_map(|e| match &e.body {
            Body::Limit { what, limit, .. } => {
                Some((e.conn.as_deref().unwrap_or("").to_string(), *what, *limit))
            }
            _ => None,
        })
        .collect()
}

/// Every `segment out` event so far.
fn sent(h: &H) -> Vec<SegmentEvent> {
    h.events
        .iter()
        .filter_map(|e| e.segment().filter(|s| s.dir == Dir::Out).cloned())
        .collect()
}

/// The next packet: the segment and the IPv4 packet's length.
fn output_sized(h: &mut H) -> Option<(Segment, usize)> {
    h.pull_events();
    h.e.poll_transmit().map(|t| {
        (
            wire::parse(&t.packet).expect("valid packet"),
            t.packet.len(),
        )
    })
}

/// Everything the engine has to send now.
fn drain(h: &mut H) -> Vec<Segment> {
    std::iter::from_fn(|| h.output()).collect()
}

/// The `linux` profile's test configuration, without SACK.
fn linux_config() -> Config {
    Config {
        sack: false,
        ..linux_test_config()
    }
}

/// LISTEN with `cfg`, the peer's SYN (with `opts`) at `h.now`; the SYN+ACK
/// is returned for the caller to check. SYN-RECEIVED.
fn syn_received_with(cfg: Config, opts: TcpOptions) -> (H, Segment) {
    let mut h = H::new(cfg);
    h.e.listen(h.now, 80, None).unwrap();
    let mut syn = h.seg(S, IRS, 0);
    syn.options = opts;
    h.input(syn);
    let sa = h.output().expect("SYN+ACK");
    h.iss = sa.seq.0;
    h.conn = h.e.find(h.us, h.them);
    assert_eq!(h.state(), Some(SynReceived));
    (h, sa)
}

/// ESTABLISHED with `cfg`: SYN with MSS 1460, our SYN+ACK checked, the
/// handshake's ACK opening the peer's window to `peer_win`.
fn established_with(cfg: Config, peer_win: u16) -> H {
    let (mut h, sa) = syn_received_with(cfg, mss(1460));
    let mut want = h.reply(S | A, h.iss, IRS + 1, OUR_WIN);
    want.options = mss(1460);
    assert_eq!(sa, want);
    let mut ack = h.seg(A, IRS + 1, h.iss + 1);
    ack.window = peer_win;
    h.input(ack);
    h.expect_none();
    assert_eq!(h.state(), Some(Established));
    h
}

/// TIME-WAIT with `cfg` (no options), as the `time_wait` fixture walks it.
fn time_wait_with(cfg: Config) -> H {
    let mut h = established_with(cfg, PEER_WIN);
    h.e.shutdown(h.now, h.conn.unwrap()).unwrap();
    h.expect(h.reply(F | A, h.iss + 1, IRS + 1, OUR_WIN));
    h.input(h.seg(A, IRS + 1, h.iss + 2));
    h.expect_none();
    h.input(h.seg(F | A, IRS + 1, h.iss + 2));
    h.expect(h.reply(A, h.iss + 2, IRS + 2, OUR_WIN));
    assert_eq!(h.state(), Some(TimeWait));
    h
}

// ----- 1. SACK blocks in data segments, and D-SACK ---------------------------

/// ESTABLISHED with SACK (no timestamps): the peer offered MSS 1460 and
/// SACK-permitted, and opened its window to 60000.
fn established_sack() -> H {
    let mut cfg = test_config();
    cfg.sack = true;
    let opts = TcpOptions {
        mss: Some(1460),
        sack_perm: true,
        ..Default::default()
    };
    let (mut h, sa) = syn_received_with(cfg, opts.clone());
    let mut want = h.reply(S | A, h.iss, IRS + 1, OUR_WIN);
    want.options = opts;
    assert_eq!(sa, want);
    let mut ack = h.seg(A, IRS + 1, h.iss + 1);
    ack.window = 60000;
    h.input(ack);
    h.expect_none();
    assert_eq!(h.state(), Some(Established));
    h
}

fn sack(blocks: &[(u32, u32)]) -> TcpOptions {
    TcpOptions {
        sack: blocks
            .iter()
            .map(|&(l, r)| (SeqNum(l), SeqNum(r)))
            .collect(),
        ..Default::default()
    }
}

/// Fails: `output_data` caps `len` at `payload_room()` (1448) but judges
/// "small segment" against `eff_mss()` (1460), so Nagle / sender SWS
/// avoidance hold every full segment that carries a SACK block: nothing
/// leaves until the persist (SWS override) timer sends one segment per RTO.
#[test]
fn full_data_segments_with_a_sack_block_carry_mss_less_12_and_fit_1500() {
    let mut h = established_sack();
    let c = h.conn.unwrap();
    // The peer's first 10 bytes are lost; the next 10 arrive: a duplicate
    // ACK at once, with the block.
    h.input(with_payload(h.seg(A, IRS + 11, h.iss + 1), &[1u8; 10]));
    let mut dup = h.reply(A, h.iss + 1, IRS + 1, OUR_WIN);
    dup.options = sack(&[(IRS + 11, IRS + 21)]);
    h.expect(dup);
    // Now we send a lot. Initial window 3 × 1460 = 4380 (RFC 5681 §3.1):
    // three full-sized segments of 1460 − 12 = 1448 bytes (a 12-byte SACK
    // option: kind, length, one block, two NOPs), IP packets of exactly
    // 1500 bytes; the 36 bytes of window left are not a full segment.
    h.e.send(h.now, c, &[5u8; 10_000]).unwrap();
    for i in 0..3u32 {
        let (got, ip_len) = output_sized(&mut h).expect("full segment");
        let mut want = with_payload(
            h.reply(A, h.iss + 1 + 1448 * i, IRS + 1, OUR_WIN),
            &[5u8; 1448],
        );
        want.options = sack(&[(IRS + 11, IRS + 21)]);
        assert_eq!(got, want, "segment {i}");
        assert_eq!(ip_len, 1500, "segment {i}: IP packet of MTU size");
    }
    h.expect_none();
}

#[test]
fn data_segments_carry_sack_blocks_only_while_out_of_order_data_is_held() {
    let mut h = established_sack();
    let c = h.conn.unwrap();
    // Nothing held out of order: full 1460-byte segments without options.
    h.e.send(h.now, c, &[5u8; 3 * 1460]).unwrap();
    for i in 0..3u32 {
        let flags = if i == 2 { A | P } else { A };
        let want = with_payload(
            h.reply(flags, h.iss + 1 + 1460 * i, IRS + 1, OUR_WIN),
            &[5u8; 1460],
        );
        assert_eq!(output_sized(&mut h), Some((want, 1500)), "segment {i}");
    }
    h.expect_none();
    // Out-of-order data: the duplicate ACK (at SND.MAX) has the block.
    h.input(with_payload(h.seg(A, IRS + 11, h.iss + 1), &[1u8; 10]));
    let mut dup = h.reply(A, h.iss + 1 + 4380, IRS + 1, OUR_WIN);
    dup.options = sack(&[(IRS + 11, IRS + 21)]);
    h.expect(dup);
    // The hole fills: ACK at once for all 20 bytes, no SACK option (RFC
    // 2018 §4: blocks describe data held beyond RCV.NXT only); the 20
    // unread bytes narrow the window.
    h.input(with_payload(h.seg(A, IRS + 1, h.iss + 1), &[0u8; 10]));
    h.expect(h.reply(A, h.iss + 1 + 4380, IRS + 21, OUR_WIN - 20));
    h.expect_none();
    // The peer acknowledges our data (cwnd 4380 + 1460 = 5840): four more
    // full segments, again without options.
    let mut ack = h.seg(A, IRS + 21, h.iss + 1 + 4380);
    ack.window = 60000;
    h.input(ack);
    h.e.send(h.now, c, &[6u8; 4 * 1460]).unwrap();
    for i in 0..4u32 {
        let flags = if i == 3 { A | P } else { A };
        let want = with_payload(
            h.reply(flags, h.iss + 1 + 4380 + 1460 * i, IRS + 21, OUR_WIN - 20),
            &[6u8; 1460],
        );
        assert_eq!(output_sized(&mut h), Some((want, 1500)), "segment {i}");
    }
    h.expect_none();
}

#[test]
fn a_duplicate_segment_is_reported_once_as_the_first_sack_block() {
    let mut h = established_sack();
    // "abc" in order: its ACK is delayed.
    h.input(with_payload(h.seg(A, IRS + 1, h.iss + 1), b"abc"));
    h.expect_none();
    // The peer sends it again: the ACK reports the duplicate (RFC 2883 §4.1).
    h.input(with_payload(h.seg(A, IRS + 1, h.iss + 1), b"abc"));
    let mut dsack = h.reply(A, h.iss + 1, IRS + 4, OUR_WIN - 3);
    dsack.options = sack(&[(IRS + 1, IRS + 4)]);
    h.expect(dsack);
    h.expect_none();
    // Out-of-order data next: its duplicate ACK has the SACK block only;
    // the D-SACK block went once.
    h.input(with_payload(h.seg(A, IRS + 10, h.iss + 1), b"jklmn"));
    let mut dup = h.reply(A, h.iss + 1, IRS + 4, OUR_WIN - 3);
    dup.options = sack(&[(IRS + 10, IRS + 15)]);
    h.expect(dup);
    // "abc" once more: D-SACK first, then the SACK block (RFC 2883 §4).
    h.input(with_payload(h.seg(A, IRS + 1, h.iss + 1), b"abc"));
    let mut both = h.reply(A, h.iss + 1, IRS + 4, OUR_WIN - 3);
    both.options = sack(&[(IRS + 1, IRS + 4), (IRS + 10, IRS + 15)]);
    h.expect(both);
    // A segment that overlaps the left edge: the part held before is
    // D-SACKed, the rest taken in order ("de" at IRS + 4).
    h.input(with_payload(h.seg(A, IRS + 2, h.iss + 1), b"bcde"));
    let mut partial = h.reply(A, h.iss + 1, IRS + 6, OUR_WIN - 5);
    partial.options = sack(&[(IRS + 2, IRS + 4), (IRS + 10, IRS + 15)]);
    h.expect(partial);
    h.expect_none();
}

// ----- 2. TIME-WAIT reopened by a newer timestamp (RFC 6191) ---------------

/// TIME-WAIT with timestamps, all at t = 0: the peer's TSvals 100 (SYN) to
/// 103 (its FIN), so TS.Recent = 103. Returns our TSval at t = 0.
fn ts_time_wait() -> (H, u32) {
    let mut cfg = test_config();
    cfg.timestamps = true;
    let mut opts = mss(1460);
    opts.timestamp = Some((100, 0));
    let (mut h, sa) = syn_received_with(cfg, opts);
    let ts0 = sa.options.timestamp.expect("timestamps negotiated").0;
    let mut want = h.reply(S | A, h.iss, IRS + 1, OUR_WIN);
    want.options = mss(1460);
    want.options.timestamp = Some((ts0, 100));
    assert_eq!(sa, want);
    let ts = |h: &H, flags: Flags, seq: u32, ack: u32, val: u32| {
        let mut s = h.seg(flags, seq, ack);
        s.options.timestamp = Some((val, ts0));
        s
    };
    h.input(ts(&h, A, IRS + 1, h.iss + 1, 101));
    assert_eq!(h.state(), Some(Established));
    h.e.shutdown(h.now, h.conn.unwrap()).unwrap();
    let mut fin = h.reply(F | A, h.iss + 1, IRS + 1, OUR_WIN);
    fin.options.timestamp = Some((ts0, 101));
    h.expect(fin);
    h.input(ts(&h, A, IRS + 1, h.iss + 2, 102));
    h.input(ts(&h, F | A, IRS + 1, h.iss + 2, 103));
    let mut last = h.reply(A, h.iss + 2, IRS + 2, OUR_WIN);
    last.options.timestamp = Some((ts0, 103));
    h.expect(last);
    assert_eq!(h.state(), Some(TimeWait));
    (h, ts0)
}

#[test]
fn time_wait_reopens_on_a_lower_seq_syn_with_a_newer_timestamp() {
    let (mut h, ts0) = ts_time_wait();
    let old = h.conn.unwrap();
    h.advance(Duration::from_secs(10));
    h.clear_events();
    // A new SYN, sequence number below RCV.NXT, TSval 200 > TS.Recent 103.
    let mut syn = h.seg(S, IRS - 500, 0);
    syn.options = mss(1460);
    syn.options.timestamp = Some((200, 0));
    h.input(syn);
    // The TIME-WAIT TCB is freed and the listener answers: ISS from the
    // RFC 6528 clock (4 µs ticks: 10 s later, 2 500 000 further on), our
    // TSval 10 000 ms later, TSecr the new SYN's TSval.
    let new_iss = h.iss.wrapping_add(2_500_000);
    let mut sa = h.reply(S | A, new_iss, IRS - 500 + 1, OUR_WIN);
    sa.options = mss(1460);
    sa.options.timestamp = Some((ts0.wrapping_add(10_000), 200));
    h.expect(sa);
    h.expect_none();
    assert_eq!(h.e.state(old), None, "the TIME-WAIT TCB is gone");
    assert_eq!(aborts(&h), vec![(AbortReason::Reopened, 10.0)]);
    assert_eq!(
        h.transitions(),
        vec![(TimeWait, Closed), (Listen, SynReceived)]
    );
    let tcb: Vec<TcbAction> = h
        .events
        .iter()
        .filter_map(|e| match &e.body {
            Body::Tcb(t) => Some(t.action),
            _ => None,
        })
        .collect();
    assert_eq!(tcb, vec![TcbAction::Freed, TcbAction::Allocated]);
    // The new incarnation completes its handshake.
    let new = h.e.find(h.us, h.them).unwrap();
    assert_ne!(new, old);
    let mut ack = h.seg(A, IRS - 500 + 1, new_iss.wrapping_add(1));
    ack.options.timestamp = Some((201, ts0.wrapping_add(10_000)));
    h.input(ack);
    h.expect_none();
    assert_eq!(h.e.state(new), Some(Established));
}

#[test]
fn time_wait_keeps_a_lower_seq_syn_without_a_newer_timestamp_out() {
    let (mut h, ts0) = ts_time_wait();
    h.advance(Duration::from_secs(10));
    // Equal to TS.Recent, older (PAWS), or none at all: no new incarnation.
    // Each SYN is old or out of window: ACK <SEQ=SND.MAX><ACK=RCV.NXT>.
    for tsval in [Some(103), Some(50), None] {
        let mut syn = h.seg(S, IRS - 500, 0);
        syn.options = mss(1460);
        syn.options.timestamp = tsval.map(|v| (v, 0));
        h.input(syn);
        let mut ack = h.reply(A, h.iss + 2, IRS + 2, OUR_WIN);
        ack.options.timestamp = Some((ts0.wrapping_add(10_000), 103));
        h.expect(ack);
        h.expect_none();
        assert_eq!(h.state(), Some(TimeWait), "TSval {tsval:?}");
    }
    assert!(aborts(&h).is_empty());
    assert_eq!(h.transitions().last(), Some(&(FinWait2, TimeWait)));
}

/// RFC 6191 §2: with timestamps on both incarnations, a SYN whose TSval is
/// older than TS.Recent is dropped whatever its sequence number (Linux:
/// PAWS rejects it before the sequence number is looked at, and ACKs).
#[test]
fn time_wait_does_not_reopen_on_a_higher_seq_syn_with_an_older_timestamp() {
    let (mut h, _) = ts_time_wait();
    h.advance(Duration::from_secs(10));
    let mut syn = h.seg(S, IRS + 100, 0);
    syn.options = mss(1460);
    syn.options.timestamp = Some((50, 0));
    h.input(syn);
    assert_eq!(h.state(), Some(TimeWait));
    let out = h.output();
    assert!(
        out.as_ref().is_none_or(|s| s.flags == A),
        "dropped or ACKed, never a SYN+ACK: {out:?}"
    );
    assert!(aborts(&h).is_empty());
}

// ----- 3. RST in TIME-WAIT (RFC 1337) -------------------------------------------

#[test]
fn time_wait_ignores_any_rst_under_rfc1337() {
    assert!(test_config().rfc1337, "the rfc profile follows RFC 1337");
    let mut h = time_wait();
    h.clear_events();
    // Exactly at RCV.NXT, and elsewhere in the window: no reset, no
    // challenge ACK, the 2 MSL timer untouched.
    for seq in [IRS + 2, IRS + 100] {
        h.input(h.seg(R, seq, 0));
        h.expect_none();
        assert_eq!(h.state(), Some(TimeWait));
    }
    assert!(h.transitions().is_empty());
    assert!(h.timers(TimerKind::TimeWait).is_empty());
}

#[test]
fn time_wait_ends_on_a_rst_at_rcv_nxt_without_rfc1337() {
    assert!(!Config::profile(Profile::Linux).rfc1337);
    let mut h = time_wait_with(linux_config());
    let c = h.conn.unwrap();
    h.advance(Duration::from_secs(5));
    h.clear_events();
    // Not at RCV.NXT: ignored (Linux kills TIME-WAIT only on an exact RST).
    h.input(h.seg(R, IRS + 3, 0));
    h.expect_none();
    assert_eq!(h.state(), Some(TimeWait));
    assert!(h.transitions().is_empty());
    // SEQ = RCV.NXT: TIME-WAIT ends at once, silently.
    h.input(h.seg(R, IRS + 2, 0));
    h.expect_none();
    assert_eq!(h.state(), None);
    assert_eq!(h.transitions(), vec![(TimeWait, Closed)]);
    assert_eq!(
        h.timers(TimerKind::TimeWait),
        vec![(TimerAction::Cancelled, None, 5.0)]
    );
    assert!(aborts(&h).is_empty(), "an end, not an abort");
    assert_eq!(h.e.info(c).closed, Some(CloseReason::Normal));
}

// ----- 4. ABORT's RST carries SND.MAX ---------------------------------------------

#[test]
fn abort_rst_carries_the_highest_sequence_number_sent() {
    let mut h = established();
    let c = h.conn.unwrap();
    h.e.send(h.now, c, &[1u8; 100]).unwrap();
    h.expect(with_payload(
        h.reply(A | P, h.iss + 1, IRS + 1, OUR_WIN),
        &[1u8; 100],
    ));
    h.e.abort(h.now, c).unwrap();
    // <SEQ=ISS + 1 + 100><CTL=RST>: the data outstanding counts.
    h.expect(h.reply(R, h.iss + 101, 0, 0));
    h.expect_none();
    assert_eq!(h.state(), None);
    assert_eq!(aborts(&h), vec![(AbortReason::User, 0.0)]);
}

#[test]
fn abort_after_a_go_back_rto_sends_rst_at_snd_max_not_snd_nxt() {
    let mut h = established();
    let c = h.conn.unwrap();
    h.e.send(h.now, c, &[7u8; 2920]).unwrap();
    assert_eq!(drain(&mut h).len(), 2);
    // The RTO resends the first segment only.
    h.run_until(secs(1.0));
    let rtx = h.output().expect("retransmission");
    assert_eq!((rtx.seq, rtx.payload.len()), (SeqNum(h.iss + 1), 1460));
    h.expect_none();
    h.e.abort(h.now, c).unwrap();
    h.expect(h.reply(R, h.iss + 2921, 0, 0));
    h.expect_none();
}

// ----- 6. the first RTO and window after a lost SYN or SYN+ACK ----------------

#[test]
fn after_a_syn_ack_retransmission_rto_is_3s_and_the_first_window_one_segment() {
    let (mut h, _) = syn_received_with(test_config(), mss(1460));
    let c = h.conn.unwrap();
    // The SYN+ACK is lost: again at 1 s, the timer doubled to 2 s.
    h.run_until(secs(1.0));
    let mut sa = h.reply(S | A, h.iss, IRS + 1, OUR_WIN);
    sa.options = mss(1460);
    h.expect(sa);
    assert_eq!(armed(&h, TimerKind::Retransmit), vec![1.0, 3.0]);
    // The ACK at 1.5 s gives no sample (Karn): RFC 6298 §5.7's 3 s.
    h.run_until(secs(1.5));
    h.input(h.seg(A, IRS + 1, h.iss + 1));
    assert_eq!(h.state(), Some(Established));
    let t = h.e.tcb(c).unwrap();
    assert_eq!(t.rto(), Duration::from_secs(3));
    assert_eq!(t.cwnd(), 1460, "RFC 5681 §3.1: one segment");
    // Data at 2 s: one segment, its timer 3 s out.
    h.run_until(secs(2.0));
    h.e.send(h.now, c, &[3u8; 10_000]).unwrap();
    h.expect(with_payload(
        h.reply(A, h.iss + 1, IRS + 1, OUR_WIN),
        &[3u8; 1460],
    ));
    h.expect_none();
    assert_eq!(armed(&h, TimerKind::Retransmit).last(), Some(&5.0));
    h.run_until(Instant::from_micros(4_999_999));
    h.expect_none();
    h.run_until(secs(5.0));
    let rtx = h.output().expect("retransmission at 5 s");
    assert_eq!((rtx.seq, rtx.payload.len()), (SeqNum(h.iss + 1), 1460));
}

#[test]
fn after_a_syn_retransmission_rto_is_3s_and_the_first_window_one_segment() {
    let mut h = syn_sent();
    let c = h.conn.unwrap();
    h.run_until(secs(1.0));
    let mut syn = h.reply(S, h.iss, 0, OUR_WIN);
    syn.options = mss(1460);
    h.expect(syn);
    h.run_until(secs(1.5));
    let mut sa = h.seg(S | A, IRS, h.iss + 1);
    sa.options = mss(1460);
    h.input(sa);
    h.expect(h.reply(A, h.iss + 1, IRS + 1, OUR_WIN));
    assert_eq!(h.state(), Some(Established));
    h.e.send(h.now, c, &[3u8; 10_000]).unwrap();
    h.expect(with_payload(
        h.reply(A, h.iss + 1, IRS + 1, OUR_WIN),
        &[3u8; 1460],
    ));
    h.expect_none();
    assert_eq!(armed(&h, TimerKind::Retransmit).last(), Some(&4.5));
}

#[test]
fn without_syn_loss_the_first_window_and_rto_are_the_usual_ones() {
    // The contrast: handshake sample 0 s, RTO 1 s (the minimum), initial
    // window 3 × 1460 (4380, under the peer's 5000).
    let mut h = established();
    let c = h.conn.unwrap();
    h.e.send(h.now, c, &[3u8; 10_000]).unwrap();
    let lens: Vec<usize> = drain(&mut h).iter().map(|s| s.payload.len()).collect();
    assert_eq!(lens, vec![1460, 1460, 1460]);
    assert_eq!(armed(&h, TimerKind::Retransmit).last(), Some(&1.0));
}

/// The linux profile, a SYN+ACK lost `losses` (1 or 2) times, then data: how many
/// segments leave and where the retransmission timer is armed.
fn linux_after_syn_ack_losses(losses: u32) -> (Vec<usize>, f64, u32) {
    let (mut h, _) = syn_received_with(linux_config(), mss(1460));
    let c = h.conn.unwrap();
    // SYN+ACK at 0, again at 1, 3 (RTO 1 s doubling).
    let rtx_at = [1.0, 3.0];
    for &t in &rtx_at[..losses as usize] {
        h.run_until(secs(t));
        assert_eq!(h.output().map(|s| s.flags), Some(S | A));
    }
    // The peer's ACK half a second after the last SYN+ACK.
    let t_ack = rtx_at[losses as usize - 1] + 0.5;
    h.run_until(secs(t_ack));
    let mut ack = h.seg(A, IRS + 1, h.iss + 1);
    ack.window = 60000;
    h.input(ack);
    assert_eq!(h.state(), Some(Established));
    h.e.send(h.now, c, &[3u8; 30_000]).unwrap();
    let lens = drain(&mut h).iter().map(|s| s.payload.len()).collect();
    let rto = *armed(&h, TimerKind::Retransmit).last().unwrap() - t_ack;
    (lens, rto, h.e.tcb(c).unwrap().cwnd())
}

#[test]
fn linux_one_syn_ack_retransmission_keeps_iw10_two_make_it_one_segment() {
    assert_eq!(Config::profile(Profile::Linux).syn_loss_one_segment, 2);
    // One loss: RTO 3 s (RFC 6298 §5.7), the full initial window of 10.
    let (lens, rto, cwnd) = linux_after_syn_ack_losses(1);
    assert_eq!(lens, vec![1460; 10]);
    assert!((rto - 3.0).abs() < 1e-9, "RTO {rto}");
    assert_eq!(cwnd, 14600);
    // Two losses: one segment.
    let (lens, rto, cwnd) = linux_after_syn_ack_losses(2);
    assert_eq!(lens, vec![1460]);
    assert!((rto - 3.0).abs() < 1e-9, "RTO {rto}");
    assert_eq!(cwnd, 1460);
}

// ----- 7. restart after idle (RFC 5681 §4.1) ----------------------------------------

#[test]
fn after_idle_longer_than_the_rto_data_restarts_from_the_initial_window() {
    let mut h = established_with(test_config(), 60000);
    let c = h.conn.unwrap();
    let acked = |h: &H, n: u32| {
        let mut a = h.seg(A, IRS + 1, h.iss + 1 + n);
        a.window = 60000;
        a
    };
    // The initial window: 3 segments.
    h.e.send(h.now, c, &[1u8; 3 * 1460]).unwrap();
    assert_eq!(drain(&mut h).len(), 3);
    // Acknowledged at 0.1 s: slow start, cwnd 4380 + 1460 = 5840.
    h.run_until(secs(0.1));
    h.input(acked(&h, 3 * 1460));
    assert_eq!(h.e.tcb(c).unwrap().cwnd(), 5840);
    assert_eq!(h.e.tcb(c).unwrap().rto(), Duration::from_secs(1));
    // Not idle (data left 0.1 s ago, under the 1 s RTO): 4 segments at once.
    h.e.send(h.now, c, &[2u8; 4 * 1460]).unwrap();
    let burst: Vec<u32> = drain(&mut h).iter().map(|s| s.seq.0 - h.iss - 1).collect();
    assert_eq!(burst, vec![4380, 5840, 7300, 8760]);
    h.run_until(secs(0.2));
    h.input(acked(&h, 7 * 1460));
    assert_eq!(h.e.tcb(c).unwrap().cwnd(), 7300);
    h.expect_none();
    // Idle from 0.1 s to 2.2 s, over the RTO: the window restarts at
    // min(IW, cwnd) = 3 segments.
    h.run_until(secs(2.2));
    h.e.send(h.now, c, &[3u8; 20 * 1460]).unwrap();
    let burst: Vec<u32> = drain(&mut h).iter().map(|s| s.seq.0 - h.iss - 1).collect();
    assert_eq!(burst, vec![7 * 1460, 8 * 1460, 9 * 1460]);
    assert_eq!(h.e.tcb(c).unwrap().cwnd(), 4380);
}

#[test]
fn idle_no_longer_than_the_rto_keeps_the_window() {
    let mut h = established_with(test_config(), 60000);
    let c = h.conn.unwrap();
    h.e.send(h.now, c, &[1u8; 3 * 1460]).unwrap();
    assert_eq!(drain(&mut h).len(), 3);
    let mut a = h.seg(A, IRS + 1, h.iss + 1 + 3 * 1460);
    a.window = 60000;
    h.input(a);
    assert_eq!(h.e.tcb(c).unwrap().cwnd(), 5840);
    // Exactly one RTO after the last data left: not "more than" an RTO.
    h.run_until(secs(1.0));
    h.e.send(h.now, c, &[2u8; 20 * 1460]).unwrap();
    assert_eq!(drain(&mut h).len(), 4);
}

// ----- 8. challenge ACK budgets per connection (RFC 5961 §7) ---------------------

/// A second connection from the peer's port `port`: (its id, its ISS).
fn second_connection(h: &mut H, port: u16) -> (ConnId, u32) {
    let mut syn = h.seg(S, IRS, 0);
    syn.src.set_port(port);
    syn.options = mss(1460);
    h.input(syn);
    let sa = h.output().expect("SYN+ACK");
    assert_eq!(sa.dst.port(), port);
    let mut ack = h.seg(A, IRS + 1, sa.seq.0 + 1);
    ack.src.set_port(port);
    h.input(ack);
    h.expect_none();
    let them = SocketAddr::new(h.them.ip(), port);
    let cid = h.e.find(h.us, them).unwrap();
    assert_eq!(h.e.state(cid), Some(Established));
    (cid, sa.seq.0)
}

#[test]
fn challenge_ack_budget_is_per_connection() {
    let mut cfg = test_config();
    cfg.challenge_ack_limit = 2;
    let mut h = established_with(cfg, PEER_WIN);
    let (b, iss_b) = second_connection(&mut h, 40001);
    let from_b = |h: &H, flags: Flags, seq: u32| {
        let mut s = h.seg(flags, seq, 0);
        s.src.set_port(40001);
        s
    };
    let mut to_b = h.reply(A, iss_b + 1, IRS + 1, OUR_WIN);
    to_b.dst.set_port(40001);
    let to_a = h.reply(A, h.iss + 1, IRS + 1, OUR_WIN);
    let name_a = crate::tcp::conn_name(h.us, h.them).to_string();
    h.clear_events();
    // Connection A spends its budget: an in-window RST with the wrong
    // sequence number, then a SYN in ESTABLISHED.
    h.input(h.seg(R, IRS + 100, 0));
    h.expect(to_a.clone());
    h.input(h.seg(S, IRS + 50, 0));
    h.expect(to_a.clone());
    // The third is not answered, and says so.
    h.input(h.seg(R, IRS + 200, 0));
    h.expect_none();
    assert_eq!(
        limits(&h),
        vec![(name_a.clone(), LimitKind::ChallengeAck, 2)]
    );
    // Connection B has a budget of its own.
    h.input(from_b(&h, R, IRS + 100));
    h.expect(to_b.clone());
    h.input(from_b(&h, S, IRS + 50));
    h.expect(to_b.clone());
    h.input(from_b(&h, R, IRS + 300));
    h.expect_none();
    let name_b = h.e.tcb(b).unwrap().name.to_string();
    assert_eq!(
        limits(&h),
        vec![
            (name_a, LimitKind::ChallengeAck, 2),
            (name_b, LimitKind::ChallengeAck, 2)
        ]
    );
    // A second later A's budget is back.
    h.run_until(secs(1.0));
    h.input(h.seg(R, IRS + 100, 0));
    h.expect(to_a);
    assert_eq!(h.state(), Some(Established));
    assert_eq!(h.e.state(b), Some(Established));
}

// ----- 9. data after the application released the connection --------------------

#[test]
fn data_in_fin_wait_2_after_release_is_answered_with_rst() {
    let mut h = fin_wait_2();
    let c = h.conn.unwrap();
    h.e.close(h.now, c).unwrap();
    h.expect_none();
    h.clear_events();
    h.input(with_payload(h.seg(A | P, IRS + 1, h.iss + 2), b"late"));
    // <SEQ=SND.MAX><CTL=RST>: SND.MAX counts our FIN.
    h.expect(h.reply(R, h.iss + 2, 0, 0));
    h.expect_none();
    assert_eq!(h.state(), None);
    assert_eq!(aborts(&h), vec![(AbortReason::DataAfterClose, 0.0)]);
    assert_eq!(h.transitions(), vec![(FinWait2, Closed)]);
    assert_eq!(h.e.info(c).closed, Some(CloseReason::Aborted));
}

#[test]
fn data_in_fin_wait_1_after_release_is_answered_with_rst_at_snd_max() {
    let mut h = established();
    let c = h.conn.unwrap();
    h.e.send(h.now, c, &[4u8; 100]).unwrap();
    h.expect(with_payload(
        h.reply(A | P, h.iss + 1, IRS + 1, OUR_WIN),
        &[4u8; 100],
    ));
    // close(2): CLOSE and release; the FIN follows the data.
    h.e.close(h.now, c).unwrap();
    h.expect(h.reply(F | A, h.iss + 101, IRS + 1, OUR_WIN));
    assert_eq!(h.state(), Some(FinWait1));
    h.clear_events();
    // Data that acknowledges none of ours: RST after our data and FIN.
    h.input(with_payload(h.seg(A | P, IRS + 1, h.iss + 1), b"late"));
    h.expect(h.reply(R, h.iss + 102, 0, 0));
    h.expect_none();
    assert_eq!(h.state(), None);
    assert_eq!(aborts(&h), vec![(AbortReason::DataAfterClose, 0.0)]);
    assert_eq!(h.transitions(), vec![(FinWait1, Closed)]);
}

#[test]
fn data_in_fin_wait_1_after_shutdown_only_is_taken() {
    // The contrast: CLOSE without release keeps reading (half-close).
    let mut h = fin_wait_1();
    let c = h.conn.unwrap();
    h.input(with_payload(h.seg(A | P, IRS + 1, h.iss + 1), b"more"));
    assert_eq!(h.state(), Some(FinWait1));
    let mut buf = [0u8; 8];
    assert_eq!(h.e.recv(h.now, c, &mut buf), Ok(4));
    assert!(aborts(&h).is_empty());
}

// ----- 10. zero-window probes: new data first, then retransmissions -----------

/// (seq offset from ISS + 1, len, retransmit, rtx) of every data segment out.
fn data_out(h: &H) -> Vec<(u32, u32, bool, Option<RtxCause>)> {
    sent(h)
        .into_iter()
        .filter(|s| s.seg.len > 0)
        .map(|s| (s.seg.seq - h.iss - 1, s.seg.len, s.retransmit, s.rtx))
        .collect()
}

#[test]
fn zero_window_probe_is_new_data_first_then_a_persist_retransmission() {
    let (mut h, zw) = zero_window_with(b"abc");
    let c = h.conn.unwrap();
    h.clear_events();
    for t in [1.0, 3.0, 7.0] {
        h.run_until(secs(t));
        h.expect(with_payload(h.reply(A, h.iss + 1, IRS + 1, OUR_WIN), b"a"));
        h.input(zw.clone());
    }
    assert_eq!(
        data_out(&h),
        vec![
            (0, 1, false, None),
            (0, 1, true, Some(RtxCause::Persist)),
            (0, 1, true, Some(RtxCause::Persist)),
        ]
    );
    assert!(sent(&h).iter().all(|s| !s.probe), "not tail loss probes");
    assert_eq!(h.e.tcb(c).unwrap().fast_retransmits(), 0);
}

/// When the peer takes a probe byte and keeps its window closed, the probe
/// of the next byte, never sent before, is new data, not a retransmission
/// (this found a bug: the mark once survived until the window opened).
#[test]
fn a_probe_of_the_next_byte_after_the_last_was_taken_is_new_data() {
    let (mut h, _) = zero_window_with(b"abc");
    h.clear_events();
    h.run_until(secs(1.0));
    h.expect(with_payload(h.reply(A, h.iss + 1, IRS + 1, OUR_WIN), b"a"));
    // The peer takes the probe byte; its window is closed again.
    let mut took = h.seg(A, IRS + 1, h.iss + 2);
    took.window = 0;
    h.input(took);
    h.expect_none();
    // The next probe carries "b", never sent before: new data.
    let next = h.e.poll_at().expect("persist armed");
    h.run_until(next);
    h.expect(with_payload(h.reply(A, h.iss + 2, IRS + 1, OUR_WIN), b"b"));
    assert_eq!(data_out(&h), vec![(0, 1, false, None), (1, 1, false, None)]);
}
