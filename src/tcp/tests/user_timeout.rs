//! RFC 5482's user timeout (TCP_USER_TIMEOUT) as Linux runs it: the time
//! since the first retransmission, not the retry count, ends a connection
//! whose data goes unacknowledged, and the time since the peer was last
//! heard ends one whose keepalive probes go unanswered; and the RST that
//! answers data arriving after the application closed.

use std::time::Duration;

use super::*;
use crate::event::{AbortReason, RtxCause};
use crate::tcp::CloseReason;

/// (time, retransmission cause) of every data segment sent again, and the
/// flags of every segment sent, in order.
fn sent(h: &mut H) -> (Vec<(f64, Option<RtxCause>)>, Vec<Flags>) {
    while h.output().is_some() {}
    let mut rtx = Vec::new();
    let mut flags = Vec::new();
    for e in &h.events {
        if let Some(s) = e.segment()
            && s.dir == crate::event::Dir::Out
        {
            flags.push(s.seg.flags);
            if s.retransmit {
                rtx.push((e.t, s.rtx));
            }
        }
    }
    (rtx, flags)
}

fn aborted_at(h: &H) -> Vec<(AbortReason, f64)> {
    h.events
        .iter()
        .filter_map(|e| match &e.body {
            Body::Abort { reason } => Some((reason.clone(), e.t)),
            _ => None,
        })
        .collect()
}

/// The `rfc` profile's timer (RTO 1 s, doubling): with a 5 s user timeout
/// the resends at 1 and 3 s are followed by a timeout cut from 4 s to 3 s,
/// at 6 s, 5 s after the first resend, where the retry count (15) would
/// have gone on for minutes. No RST: the user timeout only ends the
/// connection (RFC 9293 §3.10.8; Linux's tcp_write_err).
#[test]
fn the_user_timeout_ends_unacknowledged_data_counted_from_the_first_resend() {
    let mut h = established();
    let c = h.conn.unwrap();
    h.e.set_user_timeout(h.now, c, Some(Duration::from_secs(5)))
        .unwrap();
    h.e.send(h.now, c, &[1u8; 100]).unwrap();
    h.clear_events();
    h.advance(Duration::from_secs(20));
    let (rtx, flags) = sent(&mut h);
    let r = Some(RtxCause::Rto);
    assert_eq!(rtx, vec![(1.0, r), (3.0, r)]);
    assert!(flags.iter().all(|f| !f.rst()), "{flags:?}");
    assert_eq!(aborted_at(&h), vec![(AbortReason::RetransmitTimeout, 6.0)]);
    assert_eq!(
        h.e.info(c).closed,
        Some(CloseReason::TimedOut("user timeout"))
    );
}

/// Keepalive with a user timeout (Linux's tcp_keepalive_timer): once a
/// probe went unanswered, the connection is dead when the peer has been
/// silent for the user timeout, not after the probe count; the RST goes
/// as for any keepalive death.
#[test]
fn with_a_user_timeout_keepalive_gives_up_by_time_not_by_count() {
    for (ut, dead_at, probes) in [(Some(12), 15.0, 1), (None, 55.0, 9)] {
        let mut h = established();
        let c = h.conn.unwrap();
        let ka = crate::tcp::Keepalive {
            idle: Duration::from_secs(10),
            interval: Duration::from_secs(5),
            count: 9,
        };
        h.e.set_keepalive(h.now, c, Some(ka)).unwrap();
        h.e.set_user_timeout(h.now, c, ut.map(Duration::from_secs))
            .unwrap();
        h.clear_events();
        h.advance(Duration::from_secs(60));
        let (_, flags) = sent(&mut h);
        let acks = flags.iter().filter(|f| **f == A).count();
        assert_eq!(acks, probes, "user timeout {ut:?}");
        assert_eq!(flags.last(), Some(&R));
        assert_eq!(
            aborted_at(&h),
            vec![(AbortReason::KeepaliveTimeout, dead_at)]
        );
    }
}

/// Data for an application that closed, whose ACK does not cover our FIN:
/// Linux's RST answers the segment, at its ACK number (tcp_v4_send_reset);
/// the `rfc` profile's is ABORT's, at SND.NXT past the FIN.
#[test]
fn the_rst_for_data_after_close_answers_the_segment_in_linux() {
    for (answer, seq_off) in [(true, 1), (false, 2)] {
        let cfg = Config {
            rst_answers_data_after_close: answer,
            ..test_config()
        };
        let mut h = H::new(cfg);
        h.e.listen(h.now, 80, None).unwrap();
        h.input(h.seg(S, IRS, 0));
        let sa = h.output().unwrap();
        h.iss = sa.seq.0;
        h.conn = h.e.find(h.us, h.them);
        h.input(h.seg(A, IRS + 1, h.iss + 1));
        let c = h.e.accept(80).unwrap();
        h.e.close(h.now, c).unwrap();
        h.expect(h.reply(F | A, h.iss + 1, IRS + 1, OUR_WIN));
        h.input(with_payload(h.seg(A, IRS + 1, h.iss + 1), b"late"));
        h.expect(h.reply(R, h.iss + seq_off, 0, 0));
        h.expect_none();
        assert_eq!(h.state(), None);
    }
}
