//! Timers and reliability (issue 3): filled in with the timer work.
