//! The sender's SACK scoreboard (RFC 2018, RFC 6675): which bytes above
//! SND.UNA the receiver says it holds, so that loss recovery resends only
//! the holes.

use crate::tcp::seq::SeqNum;

#[derive(Clone, Debug, Default)]
pub struct Scoreboard {
    /// Sorted, merged, non-adjacent ranges [left, right).
    ranges: Vec<(SeqNum, SeqNum)>,
}

impl Scoreboard {
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn clear(&mut self) {
        self.ranges.clear();
    }

    /// Record a block; blocks outside (SND.UNA, SND.MAX] are ignored (RFC
    /// 2883 D-SACKs below SND.UNA, and lies).
    pub fn add(&mut self, left: SeqNum, right: SeqNum, una: SeqNum, max: SeqNum) {
        if left >= right || left < una || right > max {
            return;
        }
        let mut l = left;
        let mut r = right;
        self.ranges.retain(|&(a, b)| {
            if b < l || a > r {
                true
            } else {
                l = l.min(a);
                r = r.max(b);
                false
            }
        });
        let at = self
            .ranges
            .iter()
            .position(|&(a, _)| a > l)
            .unwrap_or(self.ranges.len());
        self.ranges.insert(at, (l, r));
    }

    /// Forget what SND.UNA has passed.
    pub fn prune(&mut self, una: SeqNum) {
        self.ranges.retain(|&(_, b)| b > una);
        if let Some(first) = self.ranges.first_mut()
            && first.0 < una
        {
            first.0 = una;
        }
    }

    pub fn bytes(&self) -> usize {
        self.ranges.iter().map(|&(a, b)| b - a).sum()
    }

    /// The end of the SACKed range that holds `seq`, if any.
    pub fn covering(&self, seq: SeqNum) -> Option<SeqNum> {
        self.ranges
            .iter()
            .find(|&&(a, b)| seq.in_range(a, b))
            .map(|&(_, b)| b)
    }

    /// The start of the first SACKed range after `seq`.
    pub fn next_sacked(&self, seq: SeqNum) -> Option<SeqNum> {
        self.ranges.iter().map(|&(a, _)| a).find(|a| *a > seq)
    }

    /// The first hole at or after `from` that lies below SACKed data (RFC
    /// 6675's "lost" bytes, simplified): its start and up to `max_len` bytes.
    pub fn next_hole(&self, from: SeqNum, max_len: usize) -> Option<(SeqNum, usize)> {
        let mut cur = from;
        for &(a, b) in &self.ranges {
            if b <= cur {
                continue;
            }
            if a > cur {
                return Some((cur, (a - cur).min(max_len)));
            }
            cur = b;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u32) -> SeqNum {
        SeqNum(n)
    }

    #[test]
    fn merges_prunes_and_finds_holes() {
        let mut b = Scoreboard::default();
        let (una, max) = (s(100), s(1000));
        b.add(s(300), s(400), una, max);
        b.add(s(500), s(600), una, max);
        b.add(s(390), s(510), una, max);
        assert_eq!(b.ranges, vec![(s(300), s(600))]);
        b.add(s(700), s(800), una, max);
        b.add(s(50), s(90), una, max); // below SND.UNA: ignored
        b.add(s(900), s(1100), una, max); // beyond SND.MAX: ignored
        assert_eq!(b.bytes(), 400);
        assert_eq!(b.next_hole(s(100), 1000), Some((s(100), 200)));
        assert_eq!(b.next_hole(s(100), 50), Some((s(100), 50)));
        assert_eq!(b.next_hole(s(350), 1000), Some((s(600), 100)));
        assert_eq!(b.next_hole(s(650), 1000), Some((s(650), 50)));
        assert_eq!(
            b.next_hole(s(800), 1000),
            None,
            "nothing SACKed above: not a hole"
        );
        assert_eq!(b.covering(s(350)), Some(s(600)));
        assert_eq!(b.next_sacked(s(600)), Some(s(700)));
        b.prune(s(350));
        assert_eq!(b.ranges, vec![(s(350), s(600)), (s(700), s(800))]);
    }

    #[test]
    fn works_across_the_wrap() {
        let mut b = Scoreboard::default();
        let una = s(u32::MAX - 100);
        let max = una + 1000u32;
        b.add(una + 200u32, una + 300u32, una, max);
        assert_eq!(b.next_hole(una, 1000), Some((una, 200)));
    }
}
