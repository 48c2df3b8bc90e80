//! What the graph view (`w`) of one connection plots: per sending side,
//! the data segments by the sequence number of their end, retransmissions by
//! cause, injector drops, bursts, the ACKs and windows the other side sent
//! back, and the sender's congestion variables and recovery episodes over
//! time. Built from events only, bounded like the ladder: each series keeps
//! its newest [`GRAPH_POINTS`] points.

use std::collections::VecDeque;

use crate::event::{RtxCause, VarsEvent};

use super::ladder::Slot;

/// Points each series of one side keeps.
pub const GRAPH_POINTS: usize = 20_000;

/// What a point on the time–sequence plot stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegMark {
    /// New data.
    Data,
    /// Sent again by the retransmission timer.
    Rto,
    /// Sent again on duplicate ACKs, SACK, RACK or the rescue rule.
    Fast,
    /// A tail loss probe or a zero-window probe.
    Probe,
    /// Dropped by the injector.
    Dropped,
}

impl SegMark {
    /// `fast`: an arriving retransmission the receiver (or a capture's
    /// analysis) judged a fast retransmission; the sender's own `rtx`
    /// says more when there is one.
    pub fn of(retransmit: bool, rtx: Option<RtxCause>, probe: bool, fast: bool) -> SegMark {
        match (retransmit, rtx) {
            _ if probe => SegMark::Probe,
            (true, None) if fast => SegMark::Fast,
            (_, Some(RtxCause::Tlp | RtxCause::Persist)) => SegMark::Probe,
            (_, Some(RtxCause::Rto | RtxCause::Syn)) => SegMark::Rto,
            (_, Some(_)) => SegMark::Fast,
            (true, None) => SegMark::Rto,
            (false, None) => SegMark::Data,
        }
    }
}

/// A data segment: when, the sequence numbers it covers (absolute).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SegPoint {
    pub t: f64,
    pub seq: u32,
    pub end: u32,
    pub mark: SegMark,
}

/// An ACK the other side sent: the cumulative ACK and the window edge.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AckPoint {
    pub t: f64,
    pub ack: u32,
    /// The advertised window in bytes (scaled when the scale is known).
    pub win: u32,
}

/// The sender's congestion variables at one `vars` event.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VarsPoint {
    pub t: f64,
    pub cwnd: u32,
    pub ssthresh: u32,
    pub pipe: u32,
    pub snd_wnd: u32,
    pub snd_una: u32,
}

/// A coalesced run of in-order segments: `seq_from` at `since` to `seq_to`
/// at `t`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BurstLine {
    pub since: f64,
    pub t: f64,
    pub seq_from: u32,
    pub seq_to: u32,
}

/// One side's series: what it sent, and what came back to it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SideSeries {
    pub segs: VecDeque<SegPoint>,
    /// ACKs from the other side (for this side's data).
    pub acks: VecDeque<AckPoint>,
    pub bursts: VecDeque<BurstLine>,
    pub vars: VecDeque<VarsPoint>,
    /// Recovery episodes: (entered, left; `None` while still in it).
    pub recovery: VecDeque<(f64, Option<f64>)>,
}

fn push<T>(q: &mut VecDeque<T>, x: T) {
    q.push_back(x);
    if q.len() > GRAPH_POINTS {
        q.pop_front();
    }
}

/// The graph series of one connection, per sending side (lifeline).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    pub sides: [SideSeries; 2],
}

impl Graph {
    pub fn segment(&mut self, from: Slot, t: f64, seq: u32, len: u32, mark: SegMark) {
        if len == 0 && mark != SegMark::Dropped {
            return;
        }
        let end = seq.wrapping_add(len);
        push(&mut self.sides[from].segs, SegPoint { t, seq, end, mark });
    }

    /// An ACK sent by `from`, for the other side's data.
    pub fn ack(&mut self, from: Slot, t: f64, ack: u32, win: u32) {
        let q = &mut self.sides[super::ladder::other(from)].acks;
        if q.back().is_some_and(|a| a.ack == ack && a.win == win) {
            return;
        }
        push(q, AckPoint { t, ack, win });
    }

    pub fn burst(&mut self, from: Slot, since: f64, t: f64, seq_from: u32, seq_to: u32) {
        push(
            &mut self.sides[from].bursts,
            BurstLine {
                since,
                t,
                seq_from,
                seq_to,
            },
        );
    }

    pub fn vars(&mut self, slot: Slot, t: f64, v: &VarsEvent) {
        push(
            &mut self.sides[slot].vars,
            VarsPoint {
                t,
                cwnd: v.cwnd,
                ssthresh: v.ssthresh,
                pipe: v.pipe,
                snd_wnd: v.snd_wnd,
                snd_una: v.snd_una,
            },
        );
    }

    pub fn recovery(&mut self, slot: Slot, t: f64, enter: bool) {
        let q = &mut self.sides[slot].recovery;
        let open = q.back().is_some_and(|(_, end)| end.is_none());
        match (enter, open) {
            (true, false) => push(q, (t, None)),
            (false, true) => {
                if let Some(last) = q.back_mut() {
                    last.1 = Some(t);
                }
            }
            _ => {}
        }
    }

    /// The side that sent the most data (by the segments kept).
    pub fn sender(&self, bytes: [u64; 2]) -> Slot {
        if bytes[1] > bytes[0] {
            1
        } else if bytes[0] > bytes[1] {
            0
        } else if self.sides[1].segs.len() > self.sides[0].segs.len() {
            1
        } else {
            0
        }
    }

    /// Points kept over both sides.
    pub fn len(&self) -> usize {
        self.sides
            .iter()
            .map(|s| s.segs.len() + s.acks.len() + s.bursts.len() + s.vars.len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_by_cause() {
        assert_eq!(SegMark::of(false, None, false, false), SegMark::Data);
        assert_eq!(
            SegMark::of(true, Some(RtxCause::Rto), false, false),
            SegMark::Rto
        );
        assert_eq!(
            SegMark::of(true, Some(RtxCause::Rack), false, false),
            SegMark::Fast
        );
        assert_eq!(
            SegMark::of(true, Some(RtxCause::Tlp), true, false),
            SegMark::Probe
        );
        // Seen arriving: the receiver's judgement, a timeout unless fast.
        assert_eq!(SegMark::of(true, None, false, false), SegMark::Rto);
        assert_eq!(SegMark::of(true, None, false, true), SegMark::Fast);
    }

    #[test]
    fn series_stay_bounded_and_recovery_pairs() {
        let mut g = Graph::default();
        for i in 0..GRAPH_POINTS + 10 {
            g.segment(0, i as f64, i as u32 * 100, 100, SegMark::Data);
        }
        assert_eq!(g.sides[0].segs.len(), GRAPH_POINTS);
        g.recovery(0, 1.0, true);
        g.recovery(0, 1.5, true);
        g.recovery(0, 2.0, false);
        assert_eq!(g.sides[0].recovery, VecDeque::from([(1.0, Some(2.0))]));
    }
}
