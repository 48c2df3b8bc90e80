//! RACK-TLP (RFC 8985): loss detected by time, not by counting. A segment
//! is lost when a segment sent after it was delivered and more than
//! RACK.rtt + RACK.reo_wnd have passed since it left; a tail loss probe
//! (TLP) makes the receiver say what the tail lost instead of waiting for
//! the retransmission timer.

use std::time::Duration;

use crate::event::RtxCause;
use crate::seq::SeqNum;
use crate::tcp::recovery::scoreboard::{Scoreboard, SegState};
use crate::time::Instant;

/// RFC 8985 §6.2 step 4: recoveries without a D-SACK after which a widened
/// reordering window narrows back (RACK.reo_wnd_persist; Linux's
/// `TCP_RACK_RECOVERY_THRESH`).
const REO_WND_PERSIST: u32 = 16;

/// RFC 8985 §6.1's per-connection state.
#[derive(Clone, Debug)]
pub struct Rack {
    /// RACK.xmit_ts and RACK.end_seq: the most recently sent segment known
    /// delivered.
    pub xmit: Option<Instant>,
    pub end: SeqNum,
    /// RACK.rtt: that segment's round trip.
    pub rtt: Duration,
    /// RACK.min_RTT (the smallest round trip seen).
    pub min_rtt: Option<Duration>,
    /// RACK.reordering_seen.
    pub reordering_seen: bool,
    /// RACK.reo_wnd_mult: the reordering window in quarters of min_RTT,
    /// one more per round trip that brought a D-SACK.
    pub reo_wnd_mult: u32,
    /// RACK.reo_wnd_persist: recoveries left before the window narrows.
    reo_wnd_persist: u32,
    /// RACK.dsack_round: the window grows at most once per round trip,
    /// which ends when this is acknowledged.
    dsack_round: Option<SeqNum>,
    /// The reordering degree in segments, RFC 8985 §6.2 step 4's
    /// DupThresh (Linux's tp->reordering): it starts at the configured
    /// value and grows with the reordering seen (`on_reordered`).
    pub reordering: u32,
}

impl Default for Rack {
    fn default() -> Rack {
        Rack {
            xmit: None,
            end: SeqNum(0),
            rtt: Duration::ZERO,
            min_rtt: None,
            reordering_seen: false,
            reo_wnd_mult: 1,
            reo_wnd_persist: 0,
            dsack_round: None,
            reordering: super::DUPTHRESH,
        }
    }
}

/// RFC 8985 §6.2: is (t1, s1) sent after (t2, s2)?
fn sent_after(t1: Instant, s1: SeqNum, t2: Instant, s2: SeqNum) -> bool {
    t1 > t2 || (t1 == t2 && s1 > s2)
}

impl Rack {
    /// Step 2 (RFC 8985 §6.2): update from one newly delivered segment.
    /// A retransmitted segment that came back faster than any round trip
    /// can was delivered by its original and says nothing. (Linux uses only
    /// this test, not the timestamp echo the RFC also allows: a receiver
    /// echoes TS.Recent, which an out-of-order segment does not update
    /// (RFC 7323 §4.3), so a SACKed retransmission would look old.)
    pub fn update(&mut self, now: Instant, xmit: Instant, end: SeqNum, retransmitted: bool) {
        let rtt = now.saturating_sub(xmit);
        if retransmitted && self.min_rtt.is_some_and(|m| rtt < m) {
            return;
        }
        self.rtt = rtt;
        self.min_rtt = Some(self.min_rtt.map_or(rtt, |m| m.min(rtt)));
        match self.xmit {
            Some(t) if !sent_after(xmit, end, t, self.end) => {}
            _ => {
                self.xmit = Some(xmit);
                self.end = end;
            }
        }
    }

    /// RFC 8985 §6.2 step 4, its first half, on every ACK: a D-SACK says
    /// a retransmission was not needed (the network reordered), so the
    /// window grows by a quarter of min_RTT, at most once per round trip
    /// (until `snd_una` passes what was sent when it grew). Whether the
    /// multiplier changed.
    pub fn on_ack_dsack(&mut self, dsack: bool, snd_una: SeqNum, snd_nxt: SeqNum) -> bool {
        if self.dsack_round.is_some_and(|r| snd_una >= r) {
            self.dsack_round = None;
        }
        if self.dsack_round.is_none() && dsack {
            self.dsack_round = Some(snd_nxt);
            // Linux keeps the multiplier in a byte.
            self.reo_wnd_mult = (self.reo_wnd_mult + 1).min(255);
            self.reo_wnd_persist = REO_WND_PERSIST;
            return true;
        }
        false
    }

    /// RFC 8985 §6.2 step 4, on leaving fast or RTO recovery (not by an
    /// undo, as Linux): after 16 recoveries without a D-SACK the window
    /// is a quarter of min_RTT again. Whether the multiplier changed.
    pub fn on_recovery_exit(&mut self) -> bool {
        self.reo_wnd_persist = self.reo_wnd_persist.saturating_sub(1);
        if self.reo_wnd_persist == 0 && self.reo_wnd_mult != 1 {
            self.reo_wnd_mult = 1;
            return true;
        }
        false
    }

    /// Data from `low` was delivered after data up to `fack` (SACKed):
    /// the reordering degree grows to that distance in segments of
    /// `smss` when it is larger, up to Linux's tcp_max_reordering (300),
    /// as Linux's tcp_check_sack_reordering.
    pub fn on_reordered(&mut self, low: SeqNum, fack: SeqNum, smss: u32) {
        if low >= fack || smss == 0 {
            return;
        }
        let metric = (fack - low) as u32;
        if metric > self.reordering.saturating_mul(smss) {
            self.reordering = metric.div_ceil(smss).min(300);
        }
    }

    /// RFC 8985 §6.2 step 4: the reordering window. Zero while no
    /// reordering was seen and either recovery is on or DupThresh
    /// (`reordering`) segments are SACKed (RACK then acts as quickly as the classic rule); else
    /// RACK.reo_wnd_mult quarters of the minimum round trip, at most SRTT.
    pub fn reo_wnd(&self, in_recovery: bool, sacked_segments: usize, srtt: Duration) -> Duration {
        if !self.reordering_seen && (in_recovery || sacked_segments >= self.reordering as usize) {
            return Duration::ZERO;
        }
        (self.min_rtt.unwrap_or(Duration::ZERO) / 4 * self.reo_wnd_mult).min(srtt)
    }

    /// RFC 8985 §6.2 step 5: mark lost every segment sent before the
    /// newest delivered one that has been out longer than RACK.rtt +
    /// reo_wnd. Returns the ranges marked and, when some are not yet due,
    /// how long until the first of them is (the reordering timer).
    pub fn detect_loss(
        &self,
        now: Instant,
        reo_wnd: Duration,
        sb: &mut Scoreboard,
    ) -> (Vec<(SeqNum, SeqNum)>, Option<Duration>) {
        let Some(rxmit) = self.xmit else {
            return (Vec::new(), None);
        };
        let mut marked = Vec::new();
        let mut wait: Option<Duration> = None;
        for i in 0..sb.len() {
            let s = sb.get(i).expect("index in range");
            if !matches!(s.state, SegState::InFlight | SegState::Retrans) {
                continue;
            }
            if !sent_after(rxmit, self.end, s.xmit, s.end) {
                continue;
            }
            let due = s.xmit + self.rtt + reo_wnd;
            if due <= now {
                if let Some(r) = sb.mark_lost(i, RtxCause::Rack) {
                    marked.push(r);
                }
            } else {
                let left = due - now;
                wait = Some(wait.map_or(left, |w| w.max(left)));
            }
        }
        (marked, wait)
    }
}

/// RFC 8985 §7.2: the probe timeout. 2·SRTT; with one segment in flight
/// plus the peer's worst-case delayed ACK; without a sample 1 s. `floor`
/// is what Linux adds to every PTO (its timer granularity).
pub fn pto(
    srtt: Option<Duration>,
    one_segment: bool,
    wc_delack: Duration,
    floor: Duration,
) -> Duration {
    match srtt {
        Some(s) => {
            let mut p = s * 2;
            if one_segment {
                p += wc_delack;
            }
            p + floor
        }
        None => Duration::from_secs(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::recovery::scoreboard::Delivered;

    fn ms(n: u64) -> Instant {
        Instant::from_micros(n * 1000)
    }

    #[test]
    fn d_sacks_widen_the_reordering_window_once_per_round_and_16_recoveries_narrow_it() {
        let mut rack = Rack {
            min_rtt: Some(Duration::from_millis(100)),
            reordering_seen: true,
            ..Rack::default()
        };
        let srtt = Duration::from_millis(80);
        assert_eq!(rack.reo_wnd(false, 1, srtt), Duration::from_millis(25));
        // A D-SACK: one step, and the round lasts until 5000 is acked.
        assert!(rack.on_ack_dsack(true, SeqNum(1000), SeqNum(5000)));
        assert_eq!(rack.reo_wnd(false, 1, srtt), Duration::from_millis(50));
        // Another in the same round: no more.
        assert!(!rack.on_ack_dsack(true, SeqNum(4999), SeqNum(6000)));
        assert_eq!(rack.reo_wnd_mult, 2);
        // The next round's D-SACKs: two more steps, then SRTT caps it.
        assert!(rack.on_ack_dsack(true, SeqNum(5000), SeqNum(9000)));
        assert!(rack.on_ack_dsack(true, SeqNum(9000), SeqNum(12000)));
        assert_eq!(rack.reo_wnd_mult, 4);
        assert_eq!(rack.reo_wnd(false, 1, srtt), srtt);
        // No reordering seen: nothing to wait for in recovery, whatever
        // the multiplier.
        rack.reordering_seen = false;
        assert_eq!(rack.reo_wnd(true, 1, srtt), Duration::ZERO);
        // Sixteen recoveries without a D-SACK: a quarter of min_RTT again.
        for _ in 0..15 {
            assert!(!rack.on_recovery_exit());
        }
        assert_eq!(rack.reo_wnd_mult, 4);
        assert!(rack.on_recovery_exit());
        assert_eq!(rack.reo_wnd_mult, 1);
        assert!(!rack.on_recovery_exit());
    }

    #[test]
    fn marks_after_rtt_plus_reordering_window() {
        let mut sb = Scoreboard::default();
        // Three segments sent 1 ms apart at t = 0, 1, 2 ms.
        for i in 0..3u32 {
            sb.push(SeqNum(i * 100), SeqNum(i * 100 + 100), ms(u64::from(i)), 0);
        }
        let mut rack = Rack {
            min_rtt: Some(Duration::from_millis(20)),
            ..Rack::default()
        };
        // The third is SACKed at t = 22 ms: RACK.rtt = 20 ms.
        let mut d = Delivered::default();
        sb.sack(SeqNum(200), SeqNum(300), &mut d);
        for (x, e, _, r) in d.newest {
            rack.update(ms(22), x, e, r);
        }
        assert_eq!(rack.rtt, Duration::from_millis(20));
        let reo = rack.reo_wnd(false, 1, Duration::from_millis(20));
        assert_eq!(reo, Duration::from_millis(5), "min_RTT / 4");
        // The first left at 0: due at 0 + 20 + 5 = 25 ms; the second at 26.
        let (m, wait) = rack.detect_loss(ms(22), reo, &mut sb);
        assert!(m.is_empty());
        assert_eq!(wait, Some(Duration::from_millis(4)));
        let (m, wait) = rack.detect_loss(ms(25), reo, &mut sb);
        assert_eq!(m, vec![(SeqNum(0), SeqNum(100))]);
        assert_eq!(wait, Some(Duration::from_millis(1)));
        let (m, _) = rack.detect_loss(ms(26), reo, &mut sb);
        assert_eq!(m, vec![(SeqNum(100), SeqNum(200))]);
    }

    #[test]
    fn probe_timeout() {
        let srtt = Some(Duration::from_millis(50));
        let d = Duration::from_millis(200);
        assert_eq!(
            pto(srtt, false, d, Duration::ZERO),
            Duration::from_millis(100)
        );
        assert_eq!(
            pto(srtt, true, d, Duration::ZERO),
            Duration::from_millis(300)
        );
        assert_eq!(
            pto(srtt, false, d, Duration::from_millis(2)),
            Duration::from_millis(102)
        );
        assert_eq!(pto(None, false, d, Duration::ZERO), Duration::from_secs(1));
    }
}
