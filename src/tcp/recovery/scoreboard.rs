//! The sender's scoreboard: one record per segment sent and not yet
//! cumulatively acknowledged, with what the receiver's SACK blocks say of it
//! (RFC 2018, RFC 6675 §2–§4) and when it last left (RFC 8985 §5.2's
//! per-segment transmission time).
//!
//! Sequence numbers here cover data and the FIN; the SYN never enters.

use std::collections::VecDeque;

use smallvec::SmallVec;

use crate::event::RtxCause;
use crate::seq::SeqNum;
use crate::time::Instant;

/// Where one segment stands (RFC 6675's SACKed / IsLost, plus RFC 8985's
/// "retransmitted and in flight").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegState {
    /// Sent once, no news of it yet.
    InFlight,
    /// The receiver holds it (a SACK block covers it).
    Sacked,
    /// Marked lost, waiting to be sent again.
    Lost,
    /// Sent again after being marked lost; that copy is in flight.
    Retrans,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seg {
    pub start: SeqNum,
    pub end: SeqNum,
    /// When it last left (RACK's xmit_ts).
    pub xmit: Instant,
    /// Our TSval on that transmission (for RACK's and Eifel's echo tests).
    pub tsval: u32,
    /// Times it was sent again.
    pub rtx: u32,
    pub state: SegState,
    /// What marked it lost last; its retransmission says so on the ladder.
    pub lost_by: Option<RtxCause>,
}

impl Seg {
    /// Sequence space it covers (data, and the FIN when it carries one).
    pub fn span(&self) -> u32 {
        (self.end - self.start) as u32
    }
    /// Counts in RFC 6675's pipe: an original or a retransmission is out
    /// there and nothing says it arrived or was lost.
    pub fn in_pipe(&self) -> bool {
        matches!(self.state, SegState::InFlight | SegState::Retrans)
    }
}

/// What one cumulative ACK and its SACK blocks newly delivered.
#[derive(Clone, Debug, Default)]
pub struct Delivered {
    /// Bytes newly SACKed (RFC 6937's DeliveredData counts these too).
    pub sacked_bytes: u32,
    /// Bytes newly acknowledged cumulatively that were not SACKed before.
    pub acked_bytes: u32,
    /// The segments newly delivered, for RACK (xmit, end, tsval,
    /// retransmitted). Inline for the few one ACK usually covers: this is
    /// built for every ACK, and a heap buffer each time was one allocation
    /// per ACK (docs/benchmarks.md, What stands in the way).
    pub newest: SmallVec<[(Instant, SeqNum, u32, bool); 4]>,
    /// A newly SACKed segment that was never retransmitted lies below one
    /// SACKed before: the network reordered (RFC 8985 §6.2 step 2).
    pub reordering: bool,
    /// The lowest start of those reordered segments (Linux's low_seq in
    /// tcp_check_sack_reordering), for the reordering degree.
    pub reordered_low: Option<SeqNum>,
    /// Retransmitted segments among those newly delivered.
    pub retrans_delivered: u32,
}

impl Delivered {
    /// A never-retransmitted segment starting at `start` arrived after
    /// data above it: reordering.
    fn reordered(&mut self, start: SeqNum) {
        self.reordering = true;
        self.reordered_low = Some(self.reordered_low.map_or(start, |l| l.min(start)));
    }
}

#[derive(Clone, Debug, Default)]
pub struct Scoreboard {
    segs: VecDeque<Seg>,
    /// One past the highest SACKed sequence number (RACK's "fack").
    fack: Option<SeqNum>,
    /// Bytes and segments in each state, kept as states change: pipe and
    /// the `vars` figures are read after every ACK and before every
    /// segment sent, and a scan of a large window each time would cost
    /// O(window²) per window.
    bytes: [u32; 4],
    count: [usize; 4],
}

fn ix(s: SegState) -> usize {
    match s {
        SegState::InFlight => 0,
        SegState::Sacked => 1,
        SegState::Lost => 2,
        SegState::Retrans => 3,
    }
}

impl Scoreboard {
    fn add(&mut self, state: SegState, bytes: u32, segs: usize) {
        self.bytes[ix(state)] += bytes;
        self.count[ix(state)] += segs;
    }

    fn remove(&mut self, state: SegState, bytes: u32, segs: usize) {
        self.bytes[ix(state)] -= bytes;
        self.count[ix(state)] -= segs;
    }

    /// Segment `i` moves to `to`; the counters follow.
    fn set(&mut self, i: usize, to: SegState) {
        let s = &mut self.segs[i];
        let (from, span) = (s.state, s.span());
        s.state = to;
        self.remove(from, span, 1);
        self.add(to, span, 1);
    }

    /// The counters recomputed from the segments (checked in debug builds).
    fn recount(&self) -> ([u32; 4], [usize; 4]) {
        let mut b = [0; 4];
        let mut c = [0; 4];
        for s in &self.segs {
            b[ix(s.state)] += s.span();
            c[ix(s.state)] += 1;
        }
        (b, c)
    }

    pub fn is_empty(&self) -> bool {
        self.segs.is_empty()
    }
    pub fn len(&self) -> usize {
        self.segs.len()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Seg> {
        self.segs.iter()
    }
    pub fn first(&self) -> Option<&Seg> {
        self.segs.front()
    }
    pub fn last(&self) -> Option<&Seg> {
        self.segs.back()
    }

    /// A new segment left at SND.NXT.
    pub fn push(&mut self, start: SeqNum, end: SeqNum, now: Instant, tsval: u32) {
        if end <= start {
            return;
        }
        if let Some(last) = self.segs.back()
            && start < last.end
        {
            // Never happens: new data starts at SND.NXT. Keep the board sane.
            return;
        }
        self.segs.push_back(Seg {
            start,
            end,
            xmit: now,
            tsval,
            rtx: 0,
            state: SegState::InFlight,
            lost_by: None,
        });
        self.add(SegState::InFlight, (end - start) as u32, 1);
    }

    /// Split so that a segment boundary falls at `at` (SACK blocks and
    /// retransmissions need not follow the original cuts).
    fn split_at(&mut self, at: SeqNum) {
        let Some(i) = self.segs.iter().position(|s| s.start < at && at < s.end) else {
            return;
        };
        let mut tail = self.segs[i].clone();
        tail.start = at;
        self.segs[i].end = at;
        self.count[ix(tail.state)] += 1;
        self.segs.insert(i + 1, tail);
    }

    /// The cumulative ACK moved to `ack`: forget what it covers.
    pub fn ack(&mut self, ack: SeqNum, out: &mut Delivered) {
        let fack = self.fack;
        while let Some(s) = self.segs.front_mut() {
            if s.end <= ack {
                let s = self.segs.pop_front().expect("front exists");
                self.remove(s.state, s.span(), 1);
                if s.state != SegState::Sacked {
                    out.acked_bytes += s.span();
                    out.newest.push((s.xmit, s.end, s.tsval, s.rtx > 0));
                    if s.rtx > 0 {
                        out.retrans_delivered += 1;
                    } else if fack.is_some_and(|f| s.end < f) {
                        // A hole below SACKed data filled by the original:
                        // reordering (RFC 8985 §6.2 step 3, "cumulatively
                        // or selectively"; Linux's tcp_clean_rtx_queue).
                        out.reordered(s.start);
                    }
                }
            } else {
                if s.start < ack {
                    let cut = (ack - s.start) as u32;
                    let state = s.state;
                    if state != SegState::Sacked {
                        out.acked_bytes += cut;
                    }
                    s.start = ack;
                    self.bytes[ix(state)] -= cut;
                }
                break;
            }
        }
        if self.fack.is_some_and(|f| f <= ack) {
            self.fack = None;
        }
    }

    /// A SACK block [left, right): mark what it covers (RFC 2018 §4).
    pub fn sack(&mut self, left: SeqNum, right: SeqNum, out: &mut Delivered) {
        let (Some(first), Some(last)) = (self.segs.front(), self.segs.back()) else {
            return;
        };
        let left = left.max(first.start);
        let right = right.min(last.end);
        if left >= right {
            return;
        }
        self.split_at(left);
        self.split_at(right);
        let fack = self.fack;
        let mut newly_top = fack;
        for i in 0..self.segs.len() {
            let s = &self.segs[i];
            if s.start < left || s.end > right || s.state == SegState::Sacked {
                continue;
            }
            self.set(i, SegState::Sacked);
            let s = &self.segs[i];
            out.sacked_bytes += s.span();
            out.newest.push((s.xmit, s.end, s.tsval, s.rtx > 0));
            if s.rtx > 0 {
                out.retrans_delivered += 1;
            } else if fack.is_some_and(|f| s.end < f) {
                out.reordered(s.start);
            }
            newly_top = Some(newly_top.map_or(s.end, |f| f.max(s.end)));
        }
        self.fack = newly_top;
    }

    /// RFC 6675 §2 "pipe": bytes that have left and are not known to have
    /// arrived or to be lost.
    pub fn pipe(&self) -> u32 {
        debug_assert_eq!((self.bytes, self.count), self.recount());
        self.bytes[ix(SegState::InFlight)] + self.bytes[ix(SegState::Retrans)]
    }

    pub fn bytes_in(&self, state: SegState) -> u32 {
        self.bytes[ix(state)]
    }

    pub fn sacked_segments(&self) -> usize {
        self.count[ix(SegState::Sacked)]
    }

    /// One past the highest SACKed sequence number, if any is SACKed.
    pub fn fack(&self) -> Option<SeqNum> {
        self.fack
    }

    pub fn any_sacked(&self) -> bool {
        self.fack.is_some()
    }

    /// Mark one segment (by index) lost; returns its range when it changed.
    pub fn mark_lost(&mut self, i: usize, by: RtxCause) -> Option<(SeqNum, SeqNum)> {
        if !self.segs.get(i)?.in_pipe() {
            return None;
        }
        self.set(i, SegState::Lost);
        let s = &mut self.segs[i];
        s.lost_by = Some(by);
        Some((s.start, s.end))
    }

    /// Mark every segment not SACKed lost (an RTO, RFC 6675 §5.1: the
    /// SACK information is kept).
    pub fn mark_all_lost(&mut self, by: RtxCause) -> Vec<(SeqNum, SeqNum)> {
        (0..self.segs.len())
            .filter_map(|i| self.mark_lost(i, by))
            .collect()
    }

    /// RFC 6675 §4 IsLost: a segment is lost when DupThresh segments, or
    /// more than (DupThresh − 1) × SMSS bytes, above it were SACKed.
    pub fn mark_lost_by_dupthresh(&mut self, dupthresh: usize, smss: u32) -> Vec<(SeqNum, SeqNum)> {
        let mut above_segs = 0usize;
        let mut above_bytes = 0u32;
        let mut marked = Vec::new();
        if self.count[ix(SegState::Sacked)] == 0 {
            // Nothing SACKed: nothing is lost by this rule (and the ACK
            // path asks after every ACK; no scan of the window).
            return marked;
        }
        for i in (0..self.segs.len()).rev() {
            let s = &self.segs[i];
            if s.state == SegState::Sacked {
                above_segs += 1;
                above_bytes += s.span();
                continue;
            }
            let lost = above_segs >= dupthresh || above_bytes > (dupthresh as u32 - 1) * smss;
            if lost
                && s.state == SegState::InFlight
                && let Some(r) = self.mark_lost(i, RtxCause::Dupack)
            {
                marked.push(r);
            }
        }
        marked.reverse();
        marked
    }

    /// Mark the first segment lost (NewReno without SACK: the third
    /// duplicate ACK, or a partial ACK, RFC 6582 §3.2).
    pub fn mark_head_lost(&mut self, by: RtxCause) -> Option<(SeqNum, SeqNum)> {
        self.mark_lost(0, by)
    }

    /// Segment `i`, oldest first.
    pub fn get(&self, i: usize) -> Option<&Seg> {
        self.segs.get(i)
    }

    /// The first segment waiting for retransmission (RFC 6675 NextSeg
    /// rule 1).
    pub fn next_lost(&self) -> Option<&Seg> {
        // Asked before every segment sent: no scan of the window when the
        // counters say nothing is marked lost.
        if self.count[ix(SegState::Lost)] == 0 {
            return None;
        }
        self.segs.iter().find(|s| s.state == SegState::Lost)
    }

    /// The last segment not SACKed (RFC 6675 rule 4's rescue, RFC 8985
    /// §7.3's probe when there is no new data).
    pub fn last_unsacked(&self) -> Option<&Seg> {
        self.segs.iter().rev().find(|s| s.state != SegState::Sacked)
    }

    /// `[start, end)` went out again at `now`: one segment or several (the
    /// range is split where it needs to be).
    pub fn retransmitted(&mut self, start: SeqNum, end: SeqNum, now: Instant, tsval: u32) {
        self.split_at(start);
        self.split_at(end);
        for i in 0..self.segs.len() {
            let s = &self.segs[i];
            if s.start >= start && s.end <= end && s.state != SegState::Sacked {
                self.set(i, SegState::Retrans);
                let s = &mut self.segs[i];
                s.xmit = now;
                s.tsval = tsval;
                s.rtx += 1;
            }
        }
    }

    /// Undo (RFC 3522, RFC 5682): what was marked lost was only late.
    pub fn unmark_lost(&mut self) {
        for i in 0..self.segs.len() {
            if self.segs[i].state == SegState::Lost {
                self.set(i, SegState::InFlight);
                self.segs[i].lost_by = None;
            }
        }
    }

    /// Forget the SACK marks (the receiver reneged, RFC 2018 §8).
    pub fn clear_sacks(&mut self) {
        for i in 0..self.segs.len() {
            if self.segs[i].state == SegState::Sacked {
                self.set(i, SegState::Lost);
                self.segs[i].lost_by = Some(RtxCause::Rto);
            }
        }
        self.fack = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u32) -> SeqNum {
        SeqNum(n)
    }

    fn board() -> Scoreboard {
        let mut b = Scoreboard::default();
        for i in 0..5u32 {
            b.push(
                s(100 + i * 100),
                s(200 + i * 100),
                Instant::from_micros(u64::from(i)),
                i,
            );
        }
        b
    }

    #[test]
    fn sack_marks_whole_segments_and_splits_partial_blocks() {
        let mut b = board();
        let mut d = Delivered::default();
        b.sack(s(300), s(450), &mut d);
        assert_eq!(d.sacked_bytes, 150);
        let states: Vec<_> = b.iter().map(|x| (x.start.0, x.end.0, x.state)).collect();
        assert_eq!(
            states,
            vec![
                (100, 200, SegState::InFlight),
                (200, 300, SegState::InFlight),
                (300, 400, SegState::Sacked),
                (400, 450, SegState::Sacked),
                (450, 500, SegState::InFlight),
                (500, 600, SegState::InFlight),
            ]
        );
        assert_eq!(b.pipe(), 350);
        let mut d = Delivered::default();
        b.ack(s(250), &mut d);
        assert_eq!(d.acked_bytes, 150);
        assert_eq!(b.first().unwrap().start, s(250));
    }

    #[test]
    fn dupthresh_marks_below_three_sacked_segments() {
        let mut b = board();
        let mut d = Delivered::default();
        b.sack(s(300), s(600), &mut d);
        let lost = b.mark_lost_by_dupthresh(3, 100);
        assert_eq!(lost, vec![(s(100), s(200)), (s(200), s(300))]);
        assert_eq!(b.next_lost().unwrap().start, s(100));
        assert_eq!(b.pipe(), 0);
        b.retransmitted(s(100), s(200), Instant::from_micros(10), 9);
        assert_eq!(b.pipe(), 100);
        assert_eq!(b.next_lost().unwrap().start, s(200));
    }

    #[test]
    fn reordering_is_seen_when_a_lower_original_is_sacked_late() {
        let mut b = board();
        let mut d = Delivered::default();
        b.sack(s(400), s(500), &mut d);
        assert!(!d.reordering);
        let mut d = Delivered::default();
        b.sack(s(200), s(300), &mut d);
        assert!(d.reordering);
    }

    #[test]
    fn reordering_is_seen_when_the_cumulative_ack_fills_a_hole_with_the_original() {
        let mut b = board();
        let mut d = Delivered::default();
        b.sack(s(200), s(300), &mut d);
        let mut d = Delivered::default();
        b.ack(s(300), &mut d);
        assert!(d.reordering, "100-200 arrived after 200-300");
        // Not when the hole was filled by a retransmission.
        let mut b = board();
        b.sack(s(200), s(300), &mut Delivered::default());
        b.retransmitted(s(100), s(200), Instant::from_micros(10), 9);
        let mut d = Delivered::default();
        b.ack(s(300), &mut d);
        assert!(!d.reordering);
    }
}
