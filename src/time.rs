//! Time as the engine sees it: a point on a timeline that the caller owns.
//!
//! The engine never reads a clock (ARCHITECTURE.md: the sans-IO engine). The
//! live runtime maps `std::time::Instant` onto this timeline with a
//! [`Clock`]; the in-memory wire and the tests advance it by hand, so a
//! two-hour keepalive runs in microseconds.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Microseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    pub const ZERO: Instant = Instant(0);

    pub const fn from_micros(us: u64) -> Self {
        Instant(us)
    }
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms * 1_000)
    }
    pub const fn from_secs(s: u64) -> Self {
        Instant(s * 1_000_000)
    }
    pub fn from_secs_f64(s: f64) -> Self {
        Instant((s.max(0.0) * 1e6).round() as u64)
    }
    pub const fn micros(self) -> u64 {
        self.0
    }
    /// Seconds since the start, as events carry it in `t`.
    pub fn secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    pub fn saturating_sub(self, other: Instant) -> Duration {
        Duration::from_micros(self.0.saturating_sub(other.0))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant(
            self.0
                .saturating_add(d.as_micros().min(u64::MAX as u128) as u64),
        )
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, other: Instant) -> Duration {
        self.saturating_sub(other)
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.6}s", self.secs_f64())
    }
}

/// The live clock: real `std::time::Instant`s mapped onto the engine's
/// timeline (microseconds since the start of the run).
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: std::time::Instant,
    /// Wall-clock time at the start, for pcap timestamps.
    wall: Duration,
}

impl Clock {
    pub fn start() -> Clock {
        Clock {
            start: std::time::Instant::now(),
            wall: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
        }
    }

    pub fn now(&self) -> Instant {
        Instant::from_micros(self.start.elapsed().as_micros().min(u128::from(u64::MAX)) as u64)
    }

    /// The real instant of a point on the timeline (for sleeping until it).
    pub fn to_std(&self, t: Instant) -> std::time::Instant {
        self.start + Duration::from_micros(t.micros())
    }

    /// Time since the Unix epoch of a point on the timeline.
    pub fn wall(&self, t: Instant) -> Duration {
        self.wall + Duration::from_micros(t.micros())
    }
}
