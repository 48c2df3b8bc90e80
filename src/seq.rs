//! Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4).
//!
//! Comparisons are only meaningful between numbers less than 2^31 apart,
//! which the window rules guarantee; `a < b` means "b is after a" even across
//! the wrap.
//!
//! Ground, beside the wire format that carries them; `tcp` re-exports the
//! type as `tcp::SeqNum`.

use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SeqNum(pub u32);

impl SeqNum {
    /// Signed distance from `other` to `self`.
    pub fn diff(self, other: SeqNum) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// `lo <= self < hi` in sequence space (`hi` exclusive).
    pub fn in_range(self, lo: SeqNum, hi: SeqNum) -> bool {
        self.0.wrapping_sub(lo.0) < hi.0.wrapping_sub(lo.0)
    }

    /// `lo <= self <= hi` in sequence space.
    pub fn in_range_inclusive(self, lo: SeqNum, hi: SeqNum) -> bool {
        self.0.wrapping_sub(lo.0) <= hi.0.wrapping_sub(lo.0)
    }

    pub fn max(self, other: SeqNum) -> SeqNum {
        if self >= other { self } else { other }
    }

    pub fn min(self, other: SeqNum) -> SeqNum {
        if self <= other { self } else { other }
    }
}

impl PartialOrd for SeqNum {
    fn partial_cmp(&self, other: &SeqNum) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SeqNum {
    fn cmp(&self, other: &SeqNum) -> Ordering {
        self.diff(*other).cmp(&0)
    }
}

impl Add<usize> for SeqNum {
    type Output = SeqNum;
    fn add(self, n: usize) -> SeqNum {
        SeqNum(self.0.wrapping_add(n as u32))
    }
}

impl Add<u32> for SeqNum {
    type Output = SeqNum;
    fn add(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(n))
    }
}

impl AddAssign<usize> for SeqNum {
    fn add_assign(&mut self, n: usize) {
        *self = *self + n;
    }
}

impl Sub<SeqNum> for SeqNum {
    type Output = usize;
    /// Bytes from `other` up to `self`; panics in debug builds if `self` is
    /// before `other`, which would be a logic error in the caller.
    fn sub(self, other: SeqNum) -> usize {
        let d = self.diff(other);
        debug_assert!(
            d >= 0,
            "sequence subtraction went negative: {self} - {other}"
        );
        d.max(0) as usize
    }
}

impl Sub<usize> for SeqNum {
    type Output = SeqNum;
    fn sub(self, n: usize) -> SeqNum {
        SeqNum(self.0.wrapping_sub(n as u32))
    }
}

impl fmt::Display for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SeqNum({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wraps() {
        let a = SeqNum(u32::MAX - 1);
        let b = a + 4usize;
        assert_eq!(b, SeqNum(2));
        assert!(a < b);
        assert_eq!(b - a, 4);
        assert!(SeqNum(u32::MAX).in_range(a, b));
        assert!(SeqNum(1).in_range(a, b));
        assert!(!b.in_range(a, b));
        assert!(b.in_range_inclusive(a, b));
    }

    proptest! {
        #[test]
        fn add_then_sub_is_identity(x: u32, n in 0usize..(1 << 31)) {
            let a = SeqNum(x);
            let b = a + n;
            prop_assert_eq!(b - a, n);
            prop_assert!(b >= a);
            prop_assert_eq!(b.max(a), b);
            prop_assert_eq!(b.min(a), a);
        }

        #[test]
        fn order_is_antisymmetric(x: u32, n in 1usize..(1 << 31)) {
            let a = SeqNum(x);
            let b = a + n;
            prop_assert!(a < b);
            prop_assert!((b >= a));
            prop_assert!(a.in_range(a, b));
            prop_assert!(!b.in_range(a, b));
        }

        #[test]
        fn in_range_matches_distance(x: u32, lo_off in 0u32..1000, len in 0u32..1000, probe in 0u32..3000) {
            let lo = SeqNum(x.wrapping_add(lo_off));
            let hi = lo + len;
            let p = SeqNum(x.wrapping_add(probe));
            let inside = probe >= lo_off && probe < lo_off + len;
            prop_assert_eq!(p.in_range(lo, hi), inside);
        }
    }
}
