//! The live clock: real `std::time::Instant`s mapped onto the engine's
//! timeline (microseconds since the start of the run).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::time::Instant;

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
