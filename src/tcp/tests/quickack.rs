//! The receiver's quick-ACK mode in the `linux` profile: an ACK for every
//! segment at the start, after a segment that arrives twice (our ACK was
//! lost), and after the sender went quiet for longer than an RTO. Under
//! heavy loss these ACKs are what keep a sender with a tiny window out of
//! its retransmission timer (docs/benchmarks.md, Loss recovery, measured
//! (`scripts/loss-bench.sh`)).

use std::time::Duration;

use super::*;

/// Ten-byte segments: far below the every-second-full-segment rule, so only
/// quick-ACK mode or the delayed-ACK timer answers them.
const LEN: u32 = 10;

/// The `linux` profile without SACK (plain ACKs to compare), as the server:
/// the handshake's ACK comes at once (SRTT 0, RTO 200 ms, the minimum), and
/// the peer sends the 16 segments of the initial quick-ACK mode, each
/// ACKed at once, then a 17th whose ACK waits for the timer (40 ms).
fn receiver() -> H {
    let cfg = Config {
        sack: false,
        ..linux_test_config()
    };
    let mut h = H::new(cfg);
    h.e.listen(h.now, 80, None).unwrap();
    let mut syn = h.seg(S, IRS, 0);
    syn.options = mss(1460);
    h.input(syn);
    h.iss = h.output().expect("SYN+ACK").seq.0;
    h.conn = h.e.find(h.us, h.them);
    h.input(h.seg(A, IRS + 1, h.iss + 1));
    h.expect_none();
    for i in 0..16 {
        data(&mut h, i);
        h.expect(ack_of(&h, i + 1));
    }
    data(&mut h, 16);
    h.expect_none();
    assert_eq!(armed(&h, TimerKind::DelayedAck), vec![0.04]);
    h.advance(Duration::from_millis(40));
    h.expect(ack_of(&h, 17));
    h.clear_events();
    h
}

/// The peer's segment number `i` (ten bytes at i × 10).
fn data(h: &mut H, i: u32) {
    let s = with_payload(h.seg(A, IRS + 1 + i * LEN, h.iss + 1), &[7; LEN as usize]);
    h.input(s);
}

/// Our ACK of the first `n` segments (none read by the application).
fn ack_of(h: &H, n: u32) -> Segment {
    h.reply(A, h.iss + 1, IRS + 1 + n * LEN, OUR_WIN - (n * LEN) as u16)
}

#[test]
fn a_segment_that_arrives_twice_starts_quick_acks() {
    let mut h = receiver();
    // The 17th again: our ACK of it was lost. Answered at once (RFC 9293
    // §3.10.7.4), and the next segments are ACKed at once too, as many as
    // half our window holds, at least two (4026 / 2920 → 2).
    data(&mut h, 16);
    h.expect(ack_of(&h, 17));
    data(&mut h, 17);
    h.expect(ack_of(&h, 18));
    data(&mut h, 18);
    h.expect(ack_of(&h, 19));
    // Then delayed ACKs again.
    data(&mut h, 19);
    h.expect_none();
    assert_eq!(armed(&h, TimerKind::DelayedAck), vec![0.08]);
}

#[test]
fn data_after_a_silence_longer_than_the_rto_is_acked_at_once() {
    let mut h = receiver();
    // 150 ms after the last segment: no longer than our RTO (200 ms), so
    // its ACK is delayed as usual.
    h.advance(Duration::from_millis(150));
    data(&mut h, 17);
    h.expect_none();
    assert_eq!(armed(&h, TimerKind::DelayedAck), vec![0.23]);
    h.advance(Duration::from_millis(40));
    h.expect(ack_of(&h, 18));
    // 201 ms later: the sender timed out and starts again from one
    // segment; two ACKs at once (half the window, at least two).
    h.advance(Duration::from_millis(201));
    data(&mut h, 18);
    h.expect(ack_of(&h, 19));
    data(&mut h, 19);
    h.expect(ack_of(&h, 20));
    data(&mut h, 20);
    h.expect_none();
    assert_eq!(armed(&h, TimerKind::DelayedAck), vec![0.23, 0.471]);
}
