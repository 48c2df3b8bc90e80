//! Congestion control: RFC 5681 slow start and congestion avoidance with
//! NewReno fast retransmit / fast recovery (RFC 6582).

use serde::{Deserialize, Serialize};

use crate::tcp::seq::SeqNum;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    SlowStart,
    CongestionAvoidance,
    FastRecovery,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::SlowStart => "slow_start",
            Phase::CongestionAvoidance => "congestion_avoidance",
            Phase::FastRecovery => "fast_recovery",
        }
    }
}

/// What the sender must do after an ACK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CcAction {
    None,
    /// Retransmit the first unacknowledged segment: the third duplicate ACK
    /// (RFC 5681 §3.2 step 4) or a partial ACK in recovery (RFC 6582 §3.2
    /// step 5).
    RetransmitFirst {
        restart_timer: bool,
    },
}

#[derive(Clone, Debug)]
pub struct Congestion {
    pub cwnd: u32,
    pub ssthresh: u32,
    smss: u32,
    pub dupacks: u32,
    /// RFC 6582 `recover`: the highest sequence number sent when recovery
    /// (or an RTO) began.
    recover: SeqNum,
    in_recovery: bool,
    /// Partial ACKs seen in this recovery (the first restarts the timer).
    partial_acks: u32,
    /// Appropriate byte counting in congestion avoidance (RFC 5681 §3.1).
    bytes_acked: u32,
    pub fast_retransmits: u64,
}

impl Congestion {
    /// RFC 5681 §3.1 initial window, or `iw_segments` × SMSS when given.
    pub fn new(smss: u16, iss: SeqNum, iw_segments: Option<u32>) -> Self {
        let smss = u32::from(smss.max(1));
        let cwnd = match iw_segments {
            Some(n) => n.max(1) * smss,
            None if smss > 2190 => 2 * smss,
            None if smss > 1095 => 3 * smss,
            None => 4 * smss,
        };
        Congestion {
            cwnd,
            ssthresh: u32::MAX,
            smss,
            dupacks: 0,
            recover: iss,
            in_recovery: false,
            partial_acks: 0,
            bytes_acked: 0,
            fast_retransmits: 0,
        }
    }

    /// The MSS is only known after the handshake; the initial window follows.
    pub fn set_smss(&mut self, smss: u16, iw_segments: Option<u32>) {
        let fresh = Congestion::new(smss, self.recover, iw_segments);
        self.smss = fresh.smss;
        self.cwnd = fresh.cwnd;
    }

    pub fn phase(&self) -> Phase {
        if self.in_recovery {
            Phase::FastRecovery
        } else if self.cwnd < self.ssthresh {
            Phase::SlowStart
        } else {
            Phase::CongestionAvoidance
        }
    }

    pub fn in_recovery(&self) -> bool {
        self.in_recovery
    }

    /// An ACK that advanced SND.UNA by `acked` bytes to `ack`; `flight` is the
    /// data still outstanding after it.
    pub fn on_new_ack(&mut self, ack: SeqNum, acked: u32, flight: u32) -> CcAction {
        self.dupacks = 0;
        if self.in_recovery {
            if ack > self.recover {
                // Full acknowledgment (RFC 6582 §3.2 step 6): deflate.
                self.in_recovery = false;
                self.cwnd = self.ssthresh.min(flight.max(self.smss) + self.smss);
                return CcAction::None;
            }
            // Partial acknowledgment (step 5): retransmit the next hole,
            // deflate by the amount acked, add back one SMSS if at least
            // one SMSS was acked.
            self.cwnd = self.cwnd.saturating_sub(acked);
            if acked >= self.smss {
                self.cwnd += self.smss;
            }
            self.cwnd = self.cwnd.max(self.smss);
            self.partial_acks += 1;
            return CcAction::RetransmitFirst {
                restart_timer: self.partial_acks == 1,
            };
        }
        if self.cwnd < self.ssthresh {
            // RFC 5681 §3.1 (eq. 2): cwnd += min(N, SMSS).
            self.cwnd = self.cwnd.saturating_add(acked.min(self.smss));
        } else {
            // Congestion avoidance with byte counting: one SMSS per cwnd acked.
            self.bytes_acked = self.bytes_acked.saturating_add(acked);
            if self.bytes_acked >= self.cwnd {
                self.bytes_acked -= self.cwnd;
                self.cwnd = self.cwnd.saturating_add(self.smss);
            }
        }
        CcAction::None
    }

    /// A duplicate ACK (RFC 5681 §2 definition) for `ack`; `snd_max` is the
    /// highest sequence number sent, `flight` the data outstanding.
    pub fn on_dup_ack(&mut self, ack: SeqNum, snd_max: SeqNum, flight: u32) -> CcAction {
        self.dupacks += 1;
        if self.in_recovery {
            // RFC 6582 §3.2 step 4: inflate for each segment that left.
            self.cwnd = self.cwnd.saturating_add(self.smss);
            return CcAction::None;
        }
        if self.dupacks == 3 {
            // RFC 6582 §3.2 step 2: only if the ACK covers more than
            // `recover`, so that an RTO's retransmissions do not trigger a
            // second reduction.
            if ack <= self.recover {
                return CcAction::None;
            }
            self.ssthresh = (flight / 2).max(2 * self.smss);
            self.recover = snd_max - 1usize;
            self.cwnd = self.ssthresh + 3 * self.smss;
            self.in_recovery = true;
            self.partial_acks = 0;
            self.fast_retransmits += 1;
            return CcAction::RetransmitFirst {
                restart_timer: false,
            };
        }
        CcAction::None
    }

    /// The retransmission timer expired (RFC 5681 §3.1 eq. 4, cwnd = LW).
    pub fn on_rto(&mut self, snd_max: SeqNum, flight: u32, first_backoff: bool) {
        if first_backoff {
            // Only the first timeout of an episode halves ssthresh (eq. 4
            // note: "FlightSize ... not ... repeated").
            self.ssthresh = (flight / 2).max(2 * self.smss);
        }
        self.cwnd = self.smss;
        self.in_recovery = false;
        self.dupacks = 0;
        self.bytes_acked = 0;
        self.recover = snd_max - 1usize;
    }

    /// RFC 5681 §4.1: after an idle period longer than the RTO, restart from
    /// the restart window.
    pub fn on_idle_restart(&mut self, iw_segments: Option<u32>) {
        let iw = Congestion::new(self.smss as u16, self.recover, iw_segments).cwnd;
        self.cwnd = self.cwnd.min(iw);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_window_rfc5681() {
        assert_eq!(Congestion::new(1460, SeqNum(0), None).cwnd, 4380);
        assert_eq!(Congestion::new(536, SeqNum(0), None).cwnd, 2144);
        assert_eq!(Congestion::new(9000, SeqNum(0), None).cwnd, 18000);
        assert_eq!(Congestion::new(1460, SeqNum(0), Some(10)).cwnd, 14600);
    }

    #[test]
    fn slow_start_then_avoidance() {
        let mut c = Congestion::new(1000, SeqNum(0), Some(1));
        c.ssthresh = 3000;
        c.on_new_ack(SeqNum(1001), 1000, 0);
        assert_eq!(c.cwnd, 2000);
        c.on_new_ack(SeqNum(3001), 2000, 0);
        assert_eq!(c.cwnd, 3000, "min(N, SMSS) per ACK");
        assert_eq!(c.phase(), Phase::CongestionAvoidance);
        c.on_new_ack(SeqNum(4001), 1000, 0);
        c.on_new_ack(SeqNum(5001), 1000, 0);
        assert_eq!(c.cwnd, 3000);
        c.on_new_ack(SeqNum(6001), 1000, 0);
        assert_eq!(c.cwnd, 4000, "one SMSS per cwnd of data acked");
    }

    #[test]
    fn newreno_recovery() {
        let mut c = Congestion::new(1000, SeqNum(0), Some(10));
        let una = SeqNum(1);
        let snd_max = SeqNum(10_001);
        assert_eq!(c.on_dup_ack(una, snd_max, 10_000), CcAction::None);
        assert_eq!(c.on_dup_ack(una, snd_max, 10_000), CcAction::None);
        assert_eq!(
            c.on_dup_ack(una, snd_max, 10_000),
            CcAction::RetransmitFirst {
                restart_timer: false
            }
        );
        assert_eq!(c.ssthresh, 5000);
        assert_eq!(c.cwnd, 8000);
        assert_eq!(c.phase(), Phase::FastRecovery);
        c.on_dup_ack(una, snd_max, 10_000);
        assert_eq!(c.cwnd, 9000);
        // Partial ACK of 2000 bytes: deflate by 2000, add back one SMSS.
        assert_eq!(
            c.on_new_ack(SeqNum(2001), 2000, 8000),
            CcAction::RetransmitFirst {
                restart_timer: true
            }
        );
        assert_eq!(c.cwnd, 8000);
        // Full ACK beyond recover: cwnd = min(ssthresh, flight + SMSS).
        assert_eq!(c.on_new_ack(SeqNum(10_001), 8000, 0), CcAction::None);
        assert_eq!(c.cwnd, 2000, "min(5000, max(0, 1000) + 1000)");
        assert_eq!(c.phase(), Phase::SlowStart);
    }

    #[test]
    fn rto_collapses_window() {
        let mut c = Congestion::new(1000, SeqNum(0), Some(10));
        c.on_rto(SeqNum(8001), 8000, true);
        assert_eq!((c.cwnd, c.ssthresh), (1000, 4000));
        c.on_rto(SeqNum(8001), 1000, false);
        assert_eq!(c.ssthresh, 4000, "repeated timeouts keep ssthresh");
        // Duplicate ACKs for data sent before the RTO do not start recovery.
        for _ in 0..3 {
            assert_eq!(c.on_dup_ack(SeqNum(1), SeqNum(8001), 1000), CcAction::None);
        }
    }
}
