//! Congestion control as a chosen algorithm: how the window grows while
//! nothing is lost, and what ssthresh becomes when something is. Loss
//! detection, recovery and the window during recovery (PRR) live beside it
//! in this folder; these only answer "how much" (RFC 5681 §3, RFC 9438).

use std::time::Duration;

use crate::seq::SeqNum;
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

/// What ended slow start without a loss (HyStart's two detectors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HyStartExit {
    /// One round's ACKs kept coming, each within 2 ms of the last, for
    /// longer than half the minimum RTT: the window already fills the path.
    AckTrain,
    /// The round's RTT grew by an eighth of the minimum (4–16 ms): a queue
    /// is building.
    Delay,
}

impl HyStartExit {
    pub fn name(self) -> &'static str {
        match self {
            HyStartExit::AckTrain => "ack_train",
            HyStartExit::Delay => "delay",
        }
    }
}

/// HyStart (Ha and Rhee, 2011) as Linux's CUBIC runs it by default
/// (`tcp_cubic.c`, both detectors, from a window of 16 segments): slow
/// start ends before a loss does it, with ssthresh set to cwnd.
#[derive(Clone, Debug, Default)]
pub struct HyStart {
    /// The round ends when SND.UNA passes this (SND.NXT at its start).
    end_seq: Option<SeqNum>,
    round_start: Instant,
    last_ack: Instant,
    /// The smallest RTT among the round's first samples.
    curr_rtt: Option<Duration>,
    samples: u32,
    /// The smallest RTT seen (Linux's `delay_min`).
    delay_min: Option<Duration>,
    /// Slow start was ended this way; no more detection until a timeout.
    found: bool,
}

/// Linux's `hystart_low_window`, `hystart_ack_delta_us`,
/// `HYSTART_MIN_SAMPLES`, and the clamp of `HYSTART_DELAY_THRESH`.
const HYSTART_LOW_WINDOW: u32 = 16;
const HYSTART_ACK_DELTA: Duration = Duration::from_millis(2);
const HYSTART_MIN_SAMPLES: u32 = 8;
const HYSTART_DELAY: (Duration, Duration) = (Duration::from_millis(4), Duration::from_millis(16));

impl HyStart {
    fn new_round(&mut self, now: Instant, snd_nxt: SeqNum) {
        self.end_seq = Some(snd_nxt);
        self.round_start = now;
        self.last_ack = now;
        self.curr_rtt = None;
        self.samples = 0;
    }

    /// One ACK's RTT sample (`rtt`: of the newest segment it delivered)
    /// while in slow start with `cwnd` bytes: whether slow start ends.
    /// `srtt` sizes what pacing would add to the ACK train (Linux paces a
    /// sender in slow start at twice cwnd per SRTT, and allows the time
    /// four 64 KiB GSO packets take at that rate, at most 1 ms).
    fn sample(
        &mut self,
        now: Instant,
        snd_una: SeqNum,
        snd_nxt: SeqNum,
        rtt: Duration,
        srtt: Option<Duration>,
        cwnd: u32,
    ) -> Option<HyStartExit> {
        let rtt = rtt.max(Duration::from_micros(1));
        let delay_min = *self
            .delay_min
            .insert(self.delay_min.map_or(rtt, |d| d.min(rtt)));
        if self.found {
            return None;
        }
        if self.end_seq.is_none_or(|e| snd_una > e) {
            self.new_round(now, snd_nxt);
        }
        // The ACK train: ACKs close together since the round began.
        if now.saturating_sub(self.last_ack) <= HYSTART_ACK_DELTA {
            self.last_ack = now;
            let pacing = srtt.map_or(Duration::ZERO, |s| {
                let us = 131_072 * s.as_micros() as u64 / u64::from(cwnd.max(1));
                Duration::from_micros(us).min(Duration::from_millis(1))
            });
            // Without the fq qdisc (TCP's own pacing), half of it.
            let threshold = (delay_min + pacing) / 2;
            if now.saturating_sub(self.round_start) > threshold {
                self.found = true;
                return Some(HyStartExit::AckTrain);
            }
        }
        // The delay: the smallest of the round's first eight samples.
        self.curr_rtt = Some(self.curr_rtt.map_or(rtt, |c| c.min(rtt)));
        if self.samples < HYSTART_MIN_SAMPLES {
            self.samples += 1;
        } else if let Some(c) = self.curr_rtt
            && c > delay_min + (delay_min / 8).clamp(HYSTART_DELAY.0, HYSTART_DELAY.1)
        {
            self.found = true;
            return Some(HyStartExit::Delay);
        }
        None
    }
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
    /// CUBIC's slow start exit (`Config::hystart`); `None` when off.
    pub hystart: Option<HyStart>,
    /// Grow as Linux does (`Config::linux_cwnd_growth`): slow start adds
    /// every segment acknowledged, and the window grows only while it is
    /// what limits the sender.
    pub linux_growth: bool,
    /// What the last transmission said about the window's use (Linux's
    /// tcp_cwnd_validate): the sender filled it in the current window of
    /// data, the most segments out in that window, and where that window ends.
    is_cwnd_limited: bool,
    max_packets_out: u32,
    cwnd_usage_seq: SeqNum,
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
            hystart: None,
            linux_growth: false,
            is_cwnd_limited: false,
            max_packets_out: 0,
            cwnd_usage_seq: SeqNum(0),
        }
    }

    /// With Linux's growth rules (`Config::linux_cwnd_growth`).
    pub fn with_linux_growth(mut self, on: bool) -> Cc {
        self.linux_growth = on;
        self
    }

    /// After a transmission attempt (Linux's tcp_cwnd_validate, called at
    /// the end of tcp_write_xmit): `packets_out` segments are outstanding,
    /// `in_flight` bytes in the network (pipe); `sent` says whether anything
    /// left. The window is the limit when it has no room for one more
    /// segment (Linux counts whole packets; this window is in bytes). Its
    /// use is remembered for one window of data.
    pub fn after_transmit(
        &mut self,
        snd_una: SeqNum,
        snd_nxt: SeqNum,
        packets_out: u32,
        in_flight: u32,
        sent: bool,
    ) {
        let limited = in_flight.saturating_add(self.smss) > self.cwnd;
        if !sent && !limited {
            return;
        }
        if snd_una >= self.cwnd_usage_seq
            || limited
            || (!self.is_cwnd_limited && packets_out > self.max_packets_out)
        {
            self.is_cwnd_limited = limited;
            self.max_packets_out = packets_out;
            self.cwnd_usage_seq = snd_nxt;
        }
    }

    /// Linux's tcp_is_cwnd_limited: the window was the limit in the current
    /// window of data, or (in slow start) it is under twice the most
    /// segments sent out in it, so slow start keeps up with a sender that
    /// doubles each round.
    pub fn cwnd_limited(&self) -> bool {
        if self.is_cwnd_limited {
            return true;
        }
        self.in_slow_start()
            && u64::from(self.cwnd) < 2 * u64::from(self.max_packets_out) * u64::from(self.smss)
    }

    /// With HyStart (CUBIC only, as in Linux).
    pub fn with_hystart(mut self, on: bool) -> Cc {
        self.hystart = (on && self.algo == CcAlgo::Cubic).then(HyStart::default);
        self
    }

    /// An ACK's RTT sample while nothing is amiss: HyStart may end slow
    /// start (ssthresh = cwnd) and says why.
    pub fn rtt_sample(
        &mut self,
        now: Instant,
        snd_una: SeqNum,
        snd_nxt: SeqNum,
        rtt: Duration,
        srtt: Option<Duration>,
    ) -> Option<HyStartExit> {
        let slow_start = self.in_slow_start();
        let cwnd = self.cwnd;
        let low = HYSTART_LOW_WINDOW * self.smss;
        let h = self.hystart.as_mut()?;
        if !slow_start || cwnd < low {
            // Linux keeps the minimum RTT from every sample.
            h.delay_min = Some(h.delay_min.map_or(rtt, |d| d.min(rtt)));
            return None;
        }
        let exit = h.sample(now, snd_una, snd_nxt, rtt, srtt, cwnd);
        if exit.is_some() {
            self.ssthresh = self.cwnd;
        }
        exit
    }

    pub fn in_slow_start(&self) -> bool {
        self.cwnd < self.ssthresh
    }

    /// Grow on an ACK that delivered `acked` bytes while not in recovery.
    pub fn on_ack(&mut self, now: Instant, acked: u32, srtt: Option<Duration>) {
        if acked == 0 {
            return;
        }
        let mut acked = acked;
        if self.linux_growth {
            // Linux grows the window only while it limits the sender
            // (tcp_cong.c and tcp_cubic.c return early unless
            // tcp_is_cwnd_limited; RFC 7661 and RFC 9438 §5.8 say so too).
            if !self.cwnd_limited() {
                return;
            }
            if self.cwnd < self.ssthresh {
                // tcp_slow_start: one segment per segment acknowledged (a
                // part counts whole), up to ssthresh; what is left over
                // goes to congestion avoidance.
                let add = acked.div_ceil(self.smss).saturating_mul(self.smss);
                let room = self.ssthresh - self.cwnd;
                self.cwnd = self.cwnd.saturating_add(add.min(room));
                acked = add.saturating_sub(room);
                if acked == 0 {
                    return;
                }
            }
        } else if self.cwnd < self.ssthresh {
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

    /// RFC 5681 §4.1 restart after idle (and a lost SYN's one-segment
    /// first window): cwnd no larger than `window`. A timeout sets the loss
    /// window with [`Cc::loss_window`].
    pub fn restart(&mut self, window: u32) {
        self.cwnd = self.cwnd.min(window);
        self.cubic.epoch_start = None;
    }

    /// RFC 5681 §3.1: after a retransmission timeout cwnd is the loss
    /// window, one full-sized segment, whatever it was (it may have been
    /// brought to nothing by PRR on ACKs that delivered nothing); Linux
    /// sets it to what is in flight plus one (tcp_enter_loss), one segment
    /// once everything outstanding is marked lost.
    pub fn loss_window(&mut self) {
        self.cwnd = self.smss;
        self.cubic.epoch_start = None;
    }

    /// A retransmission timeout: HyStart may end the slow start that
    /// follows, too (Linux resets CUBIC on entering its Loss state).
    pub fn on_timeout(&mut self) {
        if let Some(h) = self.hystart.as_mut() {
            h.found = false;
            h.end_seq = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn at_ms(n: u64) -> Instant {
        Instant::from_micros(n * 1000)
    }

    #[test]
    fn a_timeout_leaves_one_segment_even_from_nothing() {
        for start in [0, 500, 16_000] {
            let mut cc = Cc::new(CcAlgo::Cubic, 1000, 16_000);
            cc.cwnd = start;
            cc.loss_window();
            assert_eq!(cc.cwnd, 1000, "from {start}");
        }
    }

    /// CUBIC with HyStart, 1000-byte segments, cwnd 16 segments.
    fn hystart() -> Cc {
        Cc::new(CcAlgo::Cubic, 1000, 16_000).with_hystart(true)
    }

    #[test]
    fn hystart_ack_train_ends_slow_start_past_half_the_minimum_rtt() {
        let mut c = hystart();
        // One round (SND.NXT 32000 at its start), an ACK every millisecond,
        // each RTT 10 ms, no SRTT yet (no pacing allowance): the train
        // must outlast 5 ms.
        for i in 0..=5u64 {
            let got = c.rtt_sample(
                at_ms(100 + i),
                SeqNum(1000 * i as u32),
                SeqNum(32_000),
                ms(10),
                None,
            );
            assert_eq!(got, None, "{i} ms into the train");
            c.on_ack(at_ms(100 + i), 1000, None);
        }
        let cwnd = c.cwnd;
        assert_eq!(
            c.rtt_sample(at_ms(106), SeqNum(6000), SeqNum(32_000), ms(10), None),
            Some(HyStartExit::AckTrain)
        );
        assert_eq!(c.ssthresh, cwnd, "ssthresh = cwnd");
        assert!(!c.in_slow_start());
        // Once found, not again until a timeout.
        assert_eq!(
            c.rtt_sample(at_ms(107), SeqNum(7000), SeqNum(32_000), ms(10), None),
            None
        );
    }

    #[test]
    fn hystart_delay_ends_slow_start_when_the_round_trip_grows() {
        let mut c = hystart();
        // A round at 10 ms sets the minimum; ACKs 3 ms apart, no train.
        c.rtt_sample(at_ms(0), SeqNum(0), SeqNum(16_000), ms(10), None);
        // The next round (SND.UNA past 16000): every sample 15 ms, over
        // the minimum by more than max(10/8, 4) ms. Eight samples first.
        for i in 0..8u64 {
            let got = c.rtt_sample(
                at_ms(20 + 3 * i),
                SeqNum(17_000 + 1000 * i as u32),
                SeqNum(48_000),
                ms(15),
                None,
            );
            assert_eq!(got, None, "sample {i}");
        }
        assert_eq!(
            c.rtt_sample(at_ms(44), SeqNum(25_000), SeqNum(48_000), ms(15), None),
            Some(HyStartExit::Delay)
        );
        assert_eq!(c.ssthresh, 16_000);
    }

    #[test]
    fn hystart_waits_for_16_segments_and_is_cubics_only() {
        // Below 16 segments: nothing, however long the train.
        let mut c = Cc::new(CcAlgo::Cubic, 1000, 15_000).with_hystart(true);
        for i in 0..20u64 {
            assert_eq!(
                c.rtt_sample(at_ms(i), SeqNum(0), SeqNum(15_000), ms(2), None),
                None
            );
        }
        // NewReno has no HyStart (Linux: a CUBIC module parameter).
        let mut r = Cc::new(CcAlgo::NewReno, 1000, 16_000).with_hystart(true);
        for i in 0..20u64 {
            assert_eq!(
                r.rtt_sample(at_ms(i), SeqNum(0), SeqNum(16_000), ms(2), None),
                None
            );
        }
        assert!(r.in_slow_start());
        // After a timeout, the next slow start may end early again.
        let mut c = hystart();
        for i in 0..=2u64 {
            c.rtt_sample(at_ms(i), SeqNum(0), SeqNum(16_000), ms(2), None);
        }
        assert!(!c.in_slow_start());
        c.ssthresh = u32::MAX;
        c.on_timeout();
        assert_eq!(
            c.rtt_sample(at_ms(50), SeqNum(16_000), SeqNum(32_000), ms(2), None),
            None
        );
        assert_eq!(
            c.rtt_sample(at_ms(52), SeqNum(17_000), SeqNum(32_000), ms(2), None),
            Some(HyStartExit::AckTrain)
        );
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
