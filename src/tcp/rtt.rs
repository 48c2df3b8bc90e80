//! Round-trip time estimation and the retransmission timeout (RFC 6298).

use std::time::Duration;

/// Clock granularity G of RFC 6298 §2: the engine's timestamps tick in ms.
pub const GRANULARITY: Duration = Duration::from_millis(1);

#[derive(Clone, Debug)]
pub struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    /// RTO before back-off.
    base_rto: Duration,
    /// How many times the timer has backed off since the last sample.
    pub backoff: u32,
    min: Duration,
    max: Duration,
    /// Linux's reading of the minimum: RTO = SRTT + max(4·RTTVAR, min)
    /// (tcp_set_rto), so the RTO always stays a full `min` above the round
    /// trip; RFC 6298 §2.4 bounds the sum instead.
    min_on_variance: bool,
}

impl RttEstimator {
    pub fn new(initial: Duration, min: Duration, max: Duration) -> Self {
        RttEstimator {
            srtt: None,
            rttvar: Duration::ZERO,
            base_rto: initial.clamp(min, max),
            backoff: 0,
            min,
            max,
            min_on_variance: false,
        }
    }

    /// The RTO minimum bounds the variance term, as Linux does.
    pub fn with_min_on_variance(mut self, on: bool) -> Self {
        self.min_on_variance = on;
        self
    }

    /// Feed a measurement R (RFC 6298 §2.2 and §2.3) and return the new
    /// (srtt, rttvar, rto).
    pub fn sample(&mut self, r: Duration) -> (Duration, Duration, Duration) {
        match self.srtt {
            None => {
                // §2.2: SRTT <- R, RTTVAR <- R/2
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                // §2.3 with alpha = 1/8, beta = 1/4; RTTVAR uses the old SRTT.
                let delta = srtt.abs_diff(r);
                self.rttvar = (self.rttvar * 3 + delta) / 4;
                self.srtt = Some((srtt * 7 + r) / 8);
            }
        }
        let srtt = self.srtt.unwrap_or(r);
        // RTO <- SRTT + max(G, K*RTTVAR), K = 4, then §2.4/2.5 bounds.
        self.base_rto = if self.min_on_variance {
            (srtt + GRANULARITY.max(self.rttvar * 4).max(self.min)).min(self.max)
        } else {
            (srtt + GRANULARITY.max(self.rttvar * 4)).clamp(self.min, self.max)
        };
        // RFC 6298 §5, the note after rule 5.7: a new measurement after a
        // back-off recomputes the RTO by §2, "collapsing" the back-off.
        self.backoff = 0;
        (srtt, self.rttvar, self.base_rto)
    }

    /// The current RTO including back-off (§5.5), capped at the maximum.
    pub fn rto(&self) -> Duration {
        let mut rto = self.base_rto;
        for _ in 0..self.backoff {
            rto = (rto * 2).min(self.max);
            if rto == self.max {
                break;
            }
        }
        rto
    }

    /// RFC 6298 §5.7: the SYN or SYN+ACK was retransmitted and no sample
    /// came of the handshake: data transmission starts with an RTO of 3 s.
    pub fn reinit_after_syn_loss(&mut self) {
        if self.srtt.is_none() {
            self.base_rto = Duration::from_secs(3).clamp(self.min, self.max);
        }
        self.backoff = 0;
    }

    /// §5.5: the timer expired; double the RTO.
    pub fn back_off(&mut self) {
        self.backoff += 1;
    }

    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }
    pub fn rttvar(&self) -> Duration {
        self.rttvar
    }
    pub fn has_sample(&self) -> bool {
        self.srtt.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn rfc6298_formulas() {
        let mut e = RttEstimator::new(ms(1000), ms(200), ms(120_000));
        assert_eq!(e.rto(), ms(1000));
        // First sample 100 ms: SRTT 100, RTTVAR 50, RTO = 100 + 4*50 = 300.
        assert_eq!(e.sample(ms(100)), (ms(100), ms(50), ms(300)));
        // Second sample 200 ms: RTTVAR = 3/4*50 + 1/4*100 = 62.5;
        // SRTT = 7/8*100 + 1/8*200 = 112.5; RTO = 112.5 + 250 = 362.5.
        let (s, v, r) = e.sample(ms(200));
        assert_eq!(s, Duration::from_micros(112_500));
        assert_eq!(v, Duration::from_micros(62_500));
        assert_eq!(r, Duration::from_micros(362_500));
    }

    #[test]
    fn minimum_and_backoff_to_cap() {
        let mut e = RttEstimator::new(ms(1000), ms(1000), ms(60_000));
        e.sample(ms(10));
        assert_eq!(e.rto(), ms(1000), "RFC 6298 §2.4: at least 1 s");
        let mut seen = vec![];
        for _ in 0..8 {
            e.back_off();
            seen.push(e.rto().as_secs());
        }
        assert_eq!(seen, vec![2, 4, 8, 16, 32, 60, 60, 60]);
        e.sample(ms(10));
        assert_eq!(e.rto(), ms(1000), "a new sample clears the back-off");
    }
}
