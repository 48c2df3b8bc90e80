//! Congestion control as a chosen algorithm: how the window grows while
//! nothing is lost, and what ssthresh becomes when something is. Loss
//! detection, recovery and the window during recovery (PRR) live beside it
//! in this folder; these only answer "how much" (RFC 5681 §3, RFC 9438).

use std::time::Duration;

use crate::time::Instant;

/// Which algorithm a connection uses (`--cc`): a word of the event
/// vocabulary (`vars` events name it), so it lives there.
pub use crate::event::CcAlgo;

/// RFC 9438 §4.1: C = 0.4 (segments per second cubed).
pub const CUBIC_C: f64 = 0.4;
/// RFC 9438 §4.6: β_cubic = 0.7.
pub const CUBIC_BETA: f64 = 0.7;

/// CUBIC's state across one congestion epoch (RFC 9438 §4), in segments.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cubic {
    /// W_max: the window just before the last reduction.
    pub w_max: f64,
    /// K: the time the cubic function takes to climb back to W_max.
    pub k: f64,
    /// When congestion avoidance started after the last reduction.
    pub epoch_start: Option<Instant>,
    /// cwnd at the start of the epoch.
    cwnd_epoch: f64,
    /// W_est, the Reno-friendly estimate (§4.3).
    w_est: f64,
    /// cwnd before the last reduction (§4.3: α becomes 1 past it).
    cwnd_prior: f64,
    /// Fractional segments not yet added to cwnd.
    frac: f64,
}

#[derive(Clone, Debug)]
pub struct Cc {
    pub algo: CcAlgo,
    pub cwnd: u32,
    pub ssthresh: u32,
    pub smss: u32,
    /// RFC 5681 §3.1 byte counting in congestion avoidance (NewReno).
    bytes_acked: u32,
    pub cubic: Cubic,
}

impl Cc {
    pub fn new(algo: CcAlgo, smss: u32, cwnd: u32) -> Cc {
        Cc {
            algo,
            cwnd,
            ssthresh: u32::MAX,
            smss: smss.max(1),
            bytes_acked: 0,
            cubic: Cubic::default(),
        }
    }

    pub fn in_slow_start(&self) -> bool {
        self.cwnd < self.ssthresh
    }

    /// Grow on an ACK that delivered `acked` bytes while not in recovery.
    pub fn on_ack(&mut self, now: Instant, acked: u32, srtt: Option<Duration>) {
        if acked == 0 {
            return;
        }
        if self.cwnd < self.ssthresh {
            // RFC 5681 §3.1 eq. 2: cwnd += min(N, SMSS), and never past
            // ssthresh by more than that.
            self.cwnd = self.cwnd.saturating_add(acked.min(self.smss));
            return;
        }
        match self.algo {
            CcAlgo::NewReno => {
                // Congestion avoidance with byte counting: one SMSS per cwnd
                // of data acknowledged (RFC 5681 §3.1, eq. 3's intent).
                self.bytes_acked = self.bytes_acked.saturating_add(acked);
                if self.bytes_acked >= self.cwnd {
                    self.bytes_acked -= self.cwnd;
                    self.cwnd = self.cwnd.saturating_add(self.smss);
                }
            }
            CcAlgo::Cubic => self.cubic_ack(now, acked, srtt),
        }
    }

    /// RFC 9438 §4.2–§4.4: the window follows W_cubic(t + RTT), or W_est
    /// where Reno would be faster.
    fn cubic_ack(&mut self, now: Instant, acked: u32, srtt: Option<Duration>) {
        let mss = f64::from(self.smss);
        let cwnd = f64::from(self.cwnd) / mss;
        let c = &mut self.cubic;
        let start = match c.epoch_start {
            Some(t) => t,
            None => {
                c.epoch_start = Some(now);
                c.cwnd_epoch = cwnd;
                c.w_est = cwnd;
                if c.w_max <= cwnd {
                    // No reduction to climb back from (§4.8 after slow
                    // start): grow from here.
                    c.w_max = cwnd;
                    c.k = 0.0;
                } else {
                    c.k = ((c.w_max - cwnd) / CUBIC_C).cbrt();
                }
                now
            }
        };
        let rtt = srtt.map_or(0.1, |d| d.as_secs_f64());
        let t = now.saturating_sub(start).as_secs_f64();
        let w = |t: f64| CUBIC_C * (t - c.k).powi(3) + c.w_max;
        let target = w(t + rtt).clamp(cwnd, 1.5 * cwnd);
        let acked_segs = f64::from(acked) / mss;
        // §4.3: α_cubic = 3(1 − β)/(1 + β) until W_est reaches cwnd_prior.
        let alpha = if c.w_est >= c.cwnd_prior {
            1.0
        } else {
            3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA)
        };
        c.w_est += alpha * acked_segs / cwnd;
        let grow = if w(t) < c.w_est {
            // Reno-friendly region: follow W_est.
            (c.w_est - cwnd).max(0.0)
        } else {
            // Concave or convex region: (target − cwnd)/cwnd per segment.
            (target - cwnd) / cwnd * acked_segs
        };
        c.frac += grow;
        if c.frac >= 1.0 / mss {
            let add = (c.frac * mss).floor();
            c.frac -= add / mss;
            self.cwnd = self.cwnd.saturating_add(add as u32);
        }
    }

    /// A congestion event (loss detected by ACKs, or a probe's repair): the
    /// new ssthresh. NewReno: max(FlightSize/2, 2·SMSS) (RFC 5681 eq. 4).
    /// CUBIC: cwnd·β with fast convergence (RFC 9438 §4.6, §4.7).
    pub fn on_congestion(&mut self, flight: u32) -> u32 {
        self.bytes_acked = 0;
        let ss = match self.algo {
            CcAlgo::NewReno => (flight / 2).max(2 * self.smss),
            CcAlgo::Cubic => {
                let mss = f64::from(self.smss);
                let cwnd = f64::from(self.cwnd) / mss;
                let c = &mut self.cubic;
                c.w_max = if cwnd < c.w_max {
                    // §4.7 fast convergence: release bandwidth sooner.
                    cwnd * (1.0 + CUBIC_BETA) / 2.0
                } else {
                    cwnd
                };
                c.cwnd_prior = cwnd;
                c.epoch_start = None;
                c.frac = 0.0;
                ((cwnd * CUBIC_BETA * mss) as u32).max(2 * self.smss)
            }
        };
        self.ssthresh = ss;
        ss
    }

    /// RFC 5681 §4.1 restart after idle, or §3.1's loss window.
    pub fn restart(&mut self, window: u32) {
        self.cwnd = self.cwnd.min(window);
        self.cubic.epoch_start = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn newreno_slow_start_then_avoidance() {
        let mut c = Cc::new(CcAlgo::NewReno, 1000, 1000);
        c.ssthresh = 3000;
        let t = Instant::ZERO;
        c.on_ack(t, 1000, None);
        assert_eq!(c.cwnd, 2000);
        c.on_ack(t, 2000, None);
        assert_eq!(c.cwnd, 3000, "min(N, SMSS) per ACK");
        c.on_ack(t, 1000, None);
        c.on_ack(t, 1000, None);
        assert_eq!(c.cwnd, 3000);
        c.on_ack(t, 1000, None);
        assert_eq!(c.cwnd, 4000, "one SMSS per cwnd of data acked");
        assert_eq!(c.on_congestion(8000), 4000, "FlightSize / 2");
        assert_eq!(c.on_congestion(1000), 2000, "at least 2 SMSS");
    }

    #[test]
    fn cubic_after_a_loss_beta_wmax_and_k() {
        // 100 segments of 1000 bytes at the loss.
        let mut c = Cc::new(CcAlgo::Cubic, 1000, 100_000);
        assert_eq!(c.on_congestion(100_000), 70_000, "β = 0.7");
        assert_eq!(c.cubic.w_max, 100.0);
        c.cwnd = c.ssthresh;
        let t0 = Instant::from_secs_f64(10.0);
        c.on_ack(t0, 1000, Some(ms(100)));
        // K = cbrt((W_max − cwnd_epoch) / C) = cbrt(30 / 0.4) = cbrt(75).
        assert!((c.cubic.k - 75f64.cbrt()).abs() < 1e-9, "K = {}", c.cubic.k);
        assert!((c.cubic.k - 4.2172).abs() < 1e-3);
        // Near K the window has climbed back to W_max: feed one window of
        // ACKs per 100 ms round trip until t0 + K.
        let mut t = t0;
        while t < t0 + Duration::from_secs_f64(c.cubic.k) {
            t += ms(100);
            let segs = c.cwnd / 1000;
            for _ in 0..segs {
                c.on_ack(t, 1000, Some(ms(100)));
            }
        }
        let w = f64::from(c.cwnd) / 1000.0;
        assert!((98.0..=103.0).contains(&w), "cwnd at K = {w} segments");
        // A second loss below the old W_max: fast convergence.
        c.cwnd = 90_000;
        c.on_congestion(90_000);
        assert!((c.cubic.w_max - 90.0 * 1.7 / 2.0).abs() < 1e-9);
    }

    #[test]
    fn cubic_grows_like_reno_on_short_round_trips() {
        // With a 1 ms RTT the cubic curve barely moves within a few round
        // trips; W_est (α = 3·0.3/1.7 per RTT) carries the growth.
        let mut c = Cc::new(CcAlgo::Cubic, 1000, 20_000);
        c.on_congestion(20_000);
        c.cwnd = c.ssthresh;
        let mut t = Instant::ZERO;
        for _ in 0..10 {
            t += ms(1);
            for _ in 0..c.cwnd / 1000 {
                c.on_ack(t, 1000, Some(ms(1)));
            }
        }
        let w = f64::from(c.cwnd) / 1000.0;
        assert!((18.5..=20.5).contains(&w), "cwnd after 10 RTTs = {w}");
    }
}
