//! Out-of-order segments kept until the hole before them fills
//! (RFC 9293 §3.10.7.4 "segment text": "segments with higher beginning
//! sequence numbers SHOULD be held for later processing").
//!
//! Positions are stream offsets (bytes since the peer's ISN + 1), so the
//! 2^32 wrap never reaches this code.

use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub struct Reassembly {
    /// Non-overlapping, non-adjacent ranges: start offset -> bytes.
    ranges: BTreeMap<u64, Vec<u8>>,
    bytes: usize,
    /// Offset of a FIN seen beyond a hole.
    fin: Option<u64>,
    /// Start of the range that most recently grew, for SACK (RFC 2018 §4).
    recent: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insert {
    Stored,
    /// Nothing new: every byte was already held.
    Duplicate,
    /// The segment limit was reached; the data was not kept.
    Full,
}

impl Reassembly {
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty() && self.fin.is_none()
    }
    pub fn bytes(&self) -> usize {
        self.bytes
    }
    pub fn segments(&self) -> usize {
        self.ranges.len()
    }
    pub fn fin(&self) -> Option<u64> {
        self.fin
    }
    pub fn set_fin(&mut self, off: u64) {
        self.fin = Some(off);
    }

    /// Keep `data` at `off`, merging with what is held. `max_ranges` bounds
    /// the number of separate ranges.
    pub fn insert(&mut self, off: u64, data: &[u8], max_ranges: usize) -> Insert {
        if data.is_empty() {
            return Insert::Duplicate;
        }
        let end = off + data.len() as u64;
        // Ranges that overlap or touch [off, end).
        let touching: Vec<u64> = self
            .ranges
            .range(..=end)
            .rev()
            .take_while(|(s, v)| **s + v.len() as u64 >= off)
            .map(|(s, _)| *s)
            .collect();
        if touching.is_empty() && self.ranges.len() >= max_ranges {
            return Insert::Full;
        }
        if let [only] = touching[..] {
            let held = &self.ranges[&only];
            if only <= off && only + held.len() as u64 >= end {
                return Insert::Duplicate;
            }
        }
        let mut start = off;
        let mut stop = end;
        for s in &touching {
            start = start.min(*s);
            stop = stop.max(*s + self.ranges[s].len() as u64);
        }
        let mut merged = vec![0u8; (stop - start) as usize];
        merged[(off - start) as usize..(end - start) as usize].copy_from_slice(data);
        for s in touching {
            let v = self.ranges.remove(&s).expect("range listed above");
            self.bytes -= v.len();
            merged[(s - start) as usize..(s - start) as usize + v.len()].copy_from_slice(&v);
        }
        self.bytes += merged.len();
        self.ranges.insert(start, merged);
        self.recent = Some(start);
        Insert::Stored
    }

    /// Take the first range when it starts at or before `next` (the
    /// receive point), trimming what was already delivered: empty when
    /// all of it was.
    pub fn pop_ready(&mut self, next: u64) -> Option<Vec<u8>> {
        let (&s, v) = self.ranges.iter().next()?;
        if s > next {
            return None;
        }
        let end = s + v.len() as u64;
        let v = self.ranges.remove(&s).expect("first range exists");
        self.bytes -= v.len();
        if self.recent == Some(s) {
            self.recent = None;
        }
        if end <= next {
            return Some(Vec::new());
        }
        Some(v[(next - s) as usize..].to_vec())
    }

    /// The first range held, as (start, end).
    pub fn first(&self) -> Option<(u64, u64)> {
        self.ranges
            .first_key_value()
            .map(|(s, v)| (*s, *s + v.len() as u64))
    }

    /// Drop ranges wholly before `next` (already received by other means).
    pub fn discard_before(&mut self, next: u64) {
        while let Some((&s, v)) = self.ranges.iter().next() {
            if s + v.len() as u64 > next {
                break;
            }
            self.bytes -= v.len();
            self.ranges.remove(&s);
        }
    }

    /// The end of the highest range held: the highest offset received.
    pub fn end(&self) -> Option<u64> {
        self.ranges
            .last_key_value()
            .map(|(s, v)| s + v.len() as u64)
    }

    /// SACK blocks as offsets, most recently changed first (RFC 2018 §4).
    pub fn sack_blocks(&self, max: usize) -> Vec<(u64, u64)> {
        let mut out = Vec::with_capacity(max);
        if let Some(r) = self.recent
            && let Some(v) = self.ranges.get(&r)
        {
            out.push((r, r + v.len() as u64));
        }
        for (s, v) in self.ranges.iter().rev() {
            if out.len() >= max {
                break;
            }
            if Some(*s) != self.recent {
                out.push((*s, *s + v.len() as u64));
            }
        }
        out
    }

    pub fn clear(&mut self) {
        *self = Reassembly::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fills_holes_in_any_order() {
        let mut r = Reassembly::default();
        assert_eq!(r.insert(10, b"klmno", 8), Insert::Stored);
        assert_eq!(r.insert(5, b"fghij", 8), Insert::Stored);
        assert_eq!(r.segments(), 1, "adjacent ranges merge");
        assert_eq!(r.insert(6, b"ghi", 8), Insert::Duplicate);
        assert_eq!(r.pop_ready(0), None);
        assert_eq!(r.pop_ready(5).unwrap(), b"fghijklmno");
        assert!(r.is_empty());
    }

    #[test]
    fn limit_and_sack_order() {
        let mut r = Reassembly::default();
        r.insert(10, b"a", 2);
        r.insert(20, b"b", 2);
        assert_eq!(r.insert(30, b"c", 2), Insert::Full);
        assert_eq!(r.sack_blocks(4), vec![(20, 21), (10, 11)]);
        r.insert(11, b"x", 2);
        assert_eq!(r.sack_blocks(4), vec![(10, 12), (20, 21)]);
        assert_eq!(
            r.pop_ready(11).unwrap(),
            b"x",
            "partially delivered range is trimmed"
        );
    }

    proptest! {
        /// Any split and order of a stream reassembles to the stream.
        #[test]
        fn reassembles(data in proptest::collection::vec(any::<u8>(), 1..400),
                       cuts in proptest::collection::vec(0usize..400, 0..20),
                       order in proptest::collection::vec(any::<u32>(), 0..21)) {
            let mut points: Vec<usize> = cuts.into_iter().map(|c| c % data.len()).collect();
            points.push(0);
            points.push(data.len());
            points.sort();
            points.dedup();
            let mut pieces: Vec<(usize, usize)> = points.windows(2).map(|w| (w[0], w[1])).collect();
            // shuffle deterministically by the generated keys
            let mut keyed: Vec<(u32, (usize, usize))> = pieces.drain(..).enumerate()
                .map(|(i, p)| (order.get(i).copied().unwrap_or(0), p)).collect();
            keyed.sort_by_key(|(k, _)| *k);
            let mut r = Reassembly::default();
            let mut out = Vec::new();
            for (_, (a, b)) in keyed {
                r.insert(a as u64, &data[a..b], 1000);
                while let Some(v) = r.pop_ready(out.len() as u64) {
                    out.extend_from_slice(&v);
                }
            }
            prop_assert_eq!(out, data);
            prop_assert_eq!(r.bytes(), 0);
        }
    }
}
