//! The virtual clock demo and replay share ([`Timeline`]), and how they
//! write it: a position (`241.520`) and a speed factor (`×0.5`), which the
//! UI shows through `ui::units`.
//!
//! Only `std`: must not depend on `ui` (nor on engines: the demo moves its
//! run to the timeline, not the other way round).

use std::time::Instant as RealInstant;

/// Slowest and fastest speed (timeline seconds per real second).
pub const MIN_SPEED: f64 = 0.01;
pub const MAX_SPEED: f64 = 100_000.0;

/// A walkthrough's time-lapse: a quiet stretch (nothing happens, only
/// timers run) that would take longer than `LAPSE_AFTER` real seconds at
/// the chosen speed is played in `LAPSE_SECS` instead, so that no step
/// waits long for its lesson point while the countdowns still visibly run
/// (TIME-WAIT, a keepalive idle, a back-off).
pub const LAPSE_AFTER: f64 = 3.0;
pub const LAPSE_SECS: f64 = 2.5;

/// A timeline that runs at a speed against the real clock, can be paused,
/// and is moved by hand (steps, seeks, re-runs).
///
/// `now` is the position the UI has been shown. While running, the real
/// time since the anchor, times the speed, says how far the timeline
/// should be ([`Timeline::target`]); the driver hands out what lies up to
/// there and moves `now` along. Every change of speed, pause or position
/// re-anchors, so the timeline goes on from where it was shown.
#[derive(Clone, Debug)]
pub struct Timeline {
    now: f64,
    speed: f64,
    paused: bool,
    /// The real moment at which the timeline read `anchor_virt`.
    anchor_real: RealInstant,
    anchor_virt: f64,
    /// A time-lapse under way: it ends at this position, and the speed
    /// goes back to `speed_before` there.
    lapse: Option<Lapse>,
}

#[derive(Clone, Copy, Debug)]
struct Lapse {
    until: f64,
    speed_before: f64,
}

impl Timeline {
    /// At 0, running, at `speed` (clamped to the limits).
    pub fn new(speed: f64) -> Timeline {
        Timeline {
            now: 0.0,
            speed: speed.clamp(MIN_SPEED, MAX_SPEED),
            paused: false,
            anchor_real: RealInstant::now(),
            anchor_virt: 0.0,
            lapse: None,
        }
    }

    /// The position shown.
    pub fn now(&self) -> f64 {
        self.now
    }

    /// The speed the timeline runs at now (a time-lapse's while one runs).
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// The speed chosen (by the person or the scenario), a time-lapse aside.
    pub fn chosen_speed(&self) -> f64 {
        self.lapse.map_or(self.speed, |l| l.speed_before)
    }

    /// A time-lapse is running.
    pub fn lapsing(&self) -> bool {
        self.lapse.is_some()
    }

    /// A walkthrough's time-lapse (see [`LAPSE_AFTER`]), called at every
    /// poll while the timeline runs: `next` is the position of the next
    /// thing that happens. Ends a time-lapse that reached its end; starts
    /// one when the wait for `next` at the chosen speed is too long.
    pub fn lapse_towards(&mut self, next: Option<f64>) {
        if self.paused {
            return;
        }
        if let Some(l) = self.lapse {
            if self.now + 1e-9 < l.until {
                return;
            }
            self.end_lapse();
        }
        let Some(next) = next else { return };
        let gap = next - self.now;
        if gap / self.speed > LAPSE_AFTER {
            self.reanchor();
            self.lapse = Some(Lapse {
                until: next,
                speed_before: self.speed,
            });
            self.speed = (gap / LAPSE_SECS).clamp(MIN_SPEED, MAX_SPEED);
        }
    }

    /// Back to the chosen speed, from the position shown.
    pub fn end_lapse(&mut self) {
        if let Some(l) = self.lapse.take() {
            self.speed = l.speed_before;
            self.reanchor();
        }
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Where the timeline should be by the real clock: the position shown
    /// while paused; else the anchor plus the real time since it at speed,
    /// never before the position shown nor past `end` (unless the position
    /// shown already is).
    pub fn target(&self, end: f64) -> f64 {
        if self.paused {
            self.now
        } else {
            let end = self.lapse.map_or(end, |l| end.min(l.until));
            let t = self.anchor_virt + self.anchor_real.elapsed().as_secs_f64() * self.speed;
            t.max(self.now).min(end.max(self.now))
        }
    }

    /// Go on from the position shown, from this real moment.
    pub fn reanchor(&mut self) {
        self.anchor_real = RealInstant::now();
        self.anchor_virt = self.now;
    }

    /// Move the position shown to where the real clock says (see
    /// [`Timeline::target`]).
    pub fn catch_up(&mut self, end: f64) {
        self.now = self.target(end);
    }

    /// Put the position shown at `t` (a seek, a re-run from 0). The anchor
    /// stays: call [`Timeline::reanchor`] once the move is complete.
    pub fn set_now(&mut self, t: f64) {
        self.end_lapse();
        self.now = t;
    }

    /// Move the position shown forward to `t` (never back).
    pub fn advance_to(&mut self, t: f64) {
        if t > self.now {
            self.now = t;
        }
    }

    /// Jump to `t` and go on from there.
    pub fn seek(&mut self, t: f64) {
        self.end_lapse();
        self.now = t;
        self.reanchor();
    }

    /// Pause or run, without moving the position or the anchor. A pause
    /// ends a time-lapse.
    pub fn set_paused(&mut self, paused: bool) {
        if paused {
            self.end_lapse();
        }
        self.paused = paused;
    }

    /// Pause or run from where the real clock says (the `p` key).
    pub fn pause(&mut self, paused: bool, end: f64) {
        self.catch_up(end);
        self.end_lapse();
        self.paused = paused;
        self.reanchor();
    }

    /// Change the speed from where the real clock says (the `t` keys);
    /// `x` is clamped to the limits. `Err(x)` when `x` is no speed (the
    /// driver says so in its language).
    pub fn set_speed(&mut self, x: f64, end: f64) -> Result<f64, f64> {
        if !(x.is_finite() && x > 0.0) {
            return Err(x);
        }
        self.catch_up(end);
        self.lapse = None;
        self.speed = x.clamp(MIN_SPEED, MAX_SPEED);
        self.reanchor();
        Ok(self.speed)
    }

    /// A scenario's speed step, handed out at the position shown: the
    /// timeline goes on from here at `x` (ending a time-lapse).
    pub fn set_speed_here(&mut self, x: f64) {
        if x.is_finite() && x > 0.0 {
            self.lapse = None;
            self.speed = x.clamp(MIN_SPEED, MAX_SPEED);
            self.reanchor();
        }
    }
}

/// A timeline position: `0.120`, `241.520`, `7262.5`.
pub fn t(s: f64) -> String {
    if !s.is_finite() {
        return "?".into();
    }
    if s < 1000.0 {
        format!("{s:.3}")
    } else if s < 100_000.0 {
        format!("{s:.1}")
    } else {
        format!("{s:.0}")
    }
}

/// A speed factor: `×0.5`, `×1`, `×100`.
pub fn speed(x: f64) -> String {
    if x >= 10.0 || x.fract() == 0.0 {
        format!("×{x:.0}")
    } else {
        // 3.999 rounds to `4.00`: `×4`, not `×4.`.
        let s = format!("{x:.2}");
        format!("×{}", s.trim_end_matches('0').trim_end_matches('.'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_at_speed_pauses_and_clamps() {
        assert_eq!(Timeline::new(1e9).speed(), MAX_SPEED);
        let mut c = Timeline::new(1.0);
        assert!(c.set_speed(0.0, 10.0).is_err());
        assert!(c.set_speed(f64::NAN, 10.0).is_err());
        c.set_speed(1000.0, 10.0).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(c.target(10.0), 10.0, "20 ms at ×1000 reaches the end");
        assert!(c.target(f64::INFINITY) >= 20.0);
        c.pause(true, 5.0);
        assert_eq!(c.now(), 5.0);
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert_eq!(c.target(10.0), 5.0, "paused: the timeline stands");
        c.advance_to(4.0);
        assert_eq!(c.now(), 5.0, "never back");
        c.seek(1.0);
        assert_eq!(c.now(), 1.0);
    }

    #[test]
    fn a_quiet_stretch_runs_as_a_time_lapse_and_stops_at_its_end() {
        let mut c = Timeline::new(0.5);
        // 1 s of waiting at ×0.5 is 2 real seconds: no time-lapse.
        c.lapse_towards(Some(1.0));
        assert!(!c.lapsing());
        assert_eq!(c.speed(), 0.5);
        // 240 s (a TIME-WAIT) would be 8 real minutes: it takes LAPSE_SECS.
        c.lapse_towards(Some(240.0));
        assert!(c.lapsing());
        assert_eq!(c.speed(), 240.0 / LAPSE_SECS);
        assert_eq!(c.chosen_speed(), 0.5);
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(c.target(1e9) > 0.0, "the countdown moves");
        // Never past the next thing that happens, however long it runs.
        c.set_now(0.0);
        assert!(!c.lapsing(), "a move by hand ends it");
        assert_eq!(c.speed(), 0.5);
        c.lapse_towards(Some(240.0));
        c.set_speed(2.0, 1e9).unwrap();
        assert!(!c.lapsing(), "a speed chosen by hand ends it");
        assert_eq!(c.speed(), 2.0);
        c.set_speed(0.5, 1e9).unwrap();
        c.lapse_towards(Some(240.0));
        let mut fast = c.clone();
        fast.anchor_real -= std::time::Duration::from_secs(60);
        assert_eq!(fast.target(1e9), 240.0, "capped at the end of the lapse");
        fast.catch_up(1e9);
        // At its end the chosen speed comes back; the next gap (10 s, 20
        // real seconds at ×0.5) is a new time-lapse of its own.
        fast.lapse_towards(Some(250.0));
        assert!(fast.lapsing());
        assert_eq!(fast.speed(), 10.0 / LAPSE_SECS);
        assert_eq!(fast.chosen_speed(), 0.5);
        fast.lapse_towards(Some(250.0));
        fast.set_paused(true);
        assert_eq!(fast.speed(), 0.5, "a pause ends it");
    }

    #[test]
    fn short_forms() {
        assert_eq!(speed(0.5), "×0.5");
        assert_eq!(speed(0.25), "×0.25");
        assert_eq!(speed(2.0), "×2");
        assert_eq!(speed(3.999), "×4", "a time-lapse's speed, rounded");
        assert_eq!(speed(1.59), "×1.59");
        assert_eq!(t(241.52), "241.520");
    }
}
