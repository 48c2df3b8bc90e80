//! Loss detection and recovery for one connection's sender, and the
//! congestion window that goes with it.
//!
//! - `scoreboard`: one record per segment in flight, with SACK marks
//!   (RFC 2018, RFC 6675) and transmission times (RFC 8985);
//! - `rack`: RACK time-based loss marking and the tail loss probe (RFC 8985);
//! - `cc`: NewReno (RFC 5681) or CUBIC (RFC 9438) window growth and ssthresh;
//! - this file: the congestion state machine (open, disorder, recovery,
//!   loss, as Linux names them), DupThresh marking when RACK is off
//!   (RFC 6675 §4, RFC 6582 without SACK), limited transmit (RFC 3042, by
//!   pipe accounting), proportional rate reduction during recovery
//!   (RFC 6937), and undo of spurious retransmissions (Eifel, RFC 3522,
//!   with timestamps; D-SACK, RFC 2883 / RFC 3708).
//!
//! The TCB owns the bytes and sends the segments; this decides which
//! segments are lost and how much may be in the network.

pub mod cc;
pub mod rack;
pub mod scoreboard;

use std::sync::Arc;
use std::time::Duration;

use crate::event::{Body, CaState, Phase, RecoveryAction, RecoveryEvent, RtxCause};
use crate::seq::SeqNum;
use crate::tcp::ctx::Ctx;
use crate::time::Instant;
use cc::{Cc, CcAlgo};
use rack::Rack;
use scoreboard::{Delivered, Scoreboard, SegState};

/// RFC 5681 §3.2 / RFC 6675: duplicate ACKs (or SACKed segments) that
/// mean a loss.
pub const DUPTHRESH: u32 = 3;

/// What the TCB tells the sender about one acceptable ACK.
pub struct AckIn<'a> {
    pub now: Instant,
    pub ack: SeqNum,
    /// SND.UNA moved forward.
    pub advanced: bool,
    /// A duplicate ACK by RFC 5681 §2 (no data, same window, data out).
    pub dup: bool,
    pub sack: &'a [(SeqNum, SeqNum)],
    pub tsecr: Option<u32>,
    pub sack_enabled: bool,
    /// Bytes outstanding before this ACK (SND.MAX − SND.UNA).
    pub flight_before: u32,
    /// Data bytes the cumulative ACK covered (SYN and FIN do not count:
    /// they do not grow the window).
    pub data_acked: u32,
    pub snd_max: SeqNum,
    pub srtt: Option<Duration>,
}

#[derive(Clone, Debug, Default)]
struct Undo {
    /// cwnd and ssthresh before the reduction, to restore.
    cwnd: u32,
    ssthresh: u32,
    cubic: cc::Cubic,
    /// Our TSval on the first retransmission of the episode (Eifel).
    retrans_stamp: Option<u32>,
    /// Retransmissions not yet shown unneeded by a D-SACK (RFC 3708).
    retrans_out: i64,
    /// An undo is still possible for this episode.
    armed: bool,
    /// F-RTO (RFC 5682, as Linux runs it): after this RTO, an ACK for a
    /// segment never sent twice means the timeout was spurious.
    frto: bool,
}

#[derive(Clone, Debug)]
pub struct Recovery {
    pub sb: Scoreboard,
    pub cc: Cc,
    pub state: CaState,
    pub rack_on: bool,
    pub rack: Rack,
    /// RFC 6582 `recover` / Linux high_seq: SND.MAX when the episode began.
    high_seq: SeqNum,
    /// Duplicate ACKs in a row (the NewReno count without SACK).
    pub dupacks: u32,
    /// `dupacks` before the ACK being processed (a cumulative ACK resets it).
    prior_dupacks: u32,
    /// RFC 6937 state.
    prr_delivered: u32,
    prr_out: u32,
    recover_fs: u32,
    /// RFC 6675 §4 RescueRxt: one rescue per episode.
    rescue_done: bool,
    /// RFC 8985 §7: the TLP episode (TLP.end_seq, and whether the probe
    /// was a retransmission).
    tlp_end: Option<SeqNum>,
    tlp_rtx: bool,
    undo: Undo,
    /// When the reordering timer must fire (RACK).
    pub reo_deadline: Option<Instant>,
    /// The ACK stopped at a segment the peer had SACKed: it reneged
    /// (RFC 2018 §8), so an RTO forgets the SACK marks.
    reneged: bool,
    pub stats: RecoveryCounts,
}

/// Counters the TCB panel and the benchmarks show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryCounts {
    pub rack_marks: u64,
    pub probes: u64,
    pub rtos: u64,
    pub undos: u64,
}

fn ranges(v: &[(SeqNum, SeqNum)]) -> Vec<String> {
    v.iter().map(|(a, b)| format!("{}-{}", a.0, b.0)).collect()
}

impl Recovery {
    pub fn new(
        algo: CcAlgo,
        rack_on: bool,
        hystart: bool,
        smss: u32,
        cwnd: u32,
        iss: SeqNum,
    ) -> Recovery {
        Recovery {
            sb: Scoreboard::default(),
            cc: Cc::new(algo, smss, cwnd).with_hystart(hystart),
            state: CaState::Open,
            rack_on,
            rack: Rack::default(),
            high_seq: iss,
            dupacks: 0,
            prior_dupacks: 0,
            prr_delivered: 0,
            prr_out: 0,
            recover_fs: 0,
            rescue_done: false,
            tlp_end: None,
            tlp_rtx: false,
            undo: Undo::default(),
            reo_deadline: None,
            reneged: false,
            stats: RecoveryCounts::default(),
        }
    }

    pub fn cwnd(&self) -> u32 {
        self.cc.cwnd
    }
    pub fn ssthresh(&self) -> u32 {
        self.cc.ssthresh
    }
    pub fn smss(&self) -> u32 {
        self.cc.smss
    }

    /// RFC 6675 pipe. Without SACK each duplicate ACK stands for one
    /// segment that left the network (RFC 6582's window inflation, as
    /// Linux counts it), so limited transmit (RFC 3042) and recovery send
    /// the same way with and without SACK.
    pub fn pipe(&self, sack_enabled: bool) -> u32 {
        let p = self.sb.pipe();
        if sack_enabled {
            return p;
        }
        let segs = self.sb.len().saturating_sub(1) as u32;
        p.saturating_sub(self.dupacks.min(segs) * self.cc.smss)
    }

    /// Bytes the congestion window allows to send now.
    pub fn cwnd_room(&self, sack_enabled: bool) -> u32 {
        self.cc.cwnd.saturating_sub(self.pipe(sack_enabled))
    }

    /// The phase as the `vars` event has always named it.
    pub fn phase(&self) -> Phase {
        match self.state {
            CaState::Recovery => Phase::FastRecovery,
            _ if self.cc.in_slow_start() => Phase::SlowStart,
            _ => Phase::CongestionAvoidance,
        }
    }

    fn event(
        &self,
        ctx: &mut Ctx,
        name: &Arc<str>,
        action: RecoveryAction,
        by: Option<RtxCause>,
        marked: &[(SeqNum, SeqNum)],
        how: Option<&str>,
    ) {
        ctx.event(
            Some(name),
            Body::Recovery(RecoveryEvent {
                action,
                by,
                state: self.state,
                ranges: ranges(marked),
                cwnd: self.cc.cwnd,
                ssthresh: self.cc.ssthresh,
                pipe: self.sb.pipe(),
                how: how.map(str::to_owned),
            }),
        );
    }

    /// New data left: [start, end) (end counts a FIN).
    pub fn on_send(&mut self, start: SeqNum, end: SeqNum, now: Instant, tsval: u32) {
        self.sb.push(start, end, now, tsval);
        if self.state == CaState::Recovery {
            self.prr_out += (end - start) as u32;
        }
    }

    /// [start, end) left again.
    pub fn on_retransmit(&mut self, start: SeqNum, end: SeqNum, now: Instant, tsval: u32) {
        self.sb.retransmitted(start, end, now, tsval);
        if self.state == CaState::Recovery {
            self.prr_out += (end - start) as u32;
        }
        if self.undo.retrans_stamp.is_none() {
            self.undo.retrans_stamp = Some(tsval);
        }
        self.undo.retrans_out += 1;
    }

    /// Save what an undo restores and reduce ssthresh (a new episode).
    fn reduce(&mut self, flight: u32) {
        self.undo = Undo {
            cwnd: self.cc.cwnd,
            ssthresh: self.cc.ssthresh,
            cubic: self.cc.cubic.clone(),
            retrans_stamp: None,
            retrans_out: 0,
            armed: true,
            frto: false,
        };
        self.cc.on_congestion(flight);
    }

    /// One acceptable ACK (RFC 9293 §3.10.7.4 fifth step, after SND.UNA
    /// moved): the SACK scoreboard, RACK, the state machine and the window,
    /// one step each.
    pub(crate) fn on_ack(&mut self, ctx: &mut Ctx, name: &Arc<str>, a: &AckIn) {
        let (d, dsack) = self.scoreboard_ack(a);
        self.prior_dupacks = self.dupacks;
        if let (Some(low), Some(fack)) = (d.reordered_low, self.sb.fack()) {
            self.rack.on_reordered(low, fack, self.cc.smss);
        }
        self.count_dupack(a, &d);
        let rack = self.rack_on && a.sack_enabled;
        if rack {
            self.rack_ack(a, &d, dsack);
        }
        self.tlp_ack(ctx, name, a, dsack, &d);
        let original_delivered = d.newest.iter().any(|&(_, _, _, rtx)| !rtx);
        self.try_undo(ctx, name, a, dsack, original_delivered);
        let lost = self.detect_loss(a, rack);
        self.advance_state(ctx, name, a, &d, rack, lost);
    }

    /// The scoreboard takes the cumulative ACK and the SACK blocks (RFC
    /// 6675 §5, RFC 2018): what was delivered, and whether the first block
    /// was a D-SACK (RFC 2883).
    fn scoreboard_ack(&mut self, a: &AckIn) -> (Delivered, bool) {
        let mut d = Delivered::default();
        if a.advanced {
            self.sb.ack(a.ack, &mut d);
            self.reneged = self.sb.first().is_some_and(|s| s.state == SegState::Sacked);
        }
        // RFC 2883 §4: a first block below the ACK, or inside the second
        // block, reports a duplicate (D-SACK), not new data.
        let mut blocks = a.sack;
        let mut dsack = false;
        if let Some(&(l, r)) = blocks.first()
            && (r <= a.ack || blocks.get(1).is_some_and(|&(l2, r2)| l >= l2 && r <= r2))
        {
            dsack = true;
            blocks = &blocks[1..];
        }
        if a.sack_enabled {
            // In ascending order (RFC 8985 §6.2 step 3, as Linux sorts
            // them): the receiver lists its newest block first, and a lower
            // block taken after it would look like reordering when an ACK
            // that reported it alone was lost.
            // (Four blocks at most fit in the option space, RFC 2018 §3.)
            let mut sorted = [(SeqNum(0), SeqNum(0)); 4];
            let n = blocks.len().min(sorted.len());
            sorted[..n].copy_from_slice(&blocks[..n]);
            let sorted = &mut sorted[..n];
            sorted.sort_unstable_by_key(|b| b.0);
            for &(l, r) in sorted.iter() {
                if l < r && l >= a.ack && r <= a.snd_max {
                    self.sb.sack(l, r, &mut d);
                }
            }
        }
        if dsack && self.undo.armed {
            self.undo.retrans_out -= 1;
        }
        (d, dsack)
    }

    /// Duplicate ACKs: RFC 5681 §2, or any ACK with new SACK information
    /// (RFC 6675 §2), which a bidirectional flow produces.
    fn count_dupack(&mut self, a: &AckIn, d: &Delivered) {
        if a.advanced {
            self.dupacks = 0;
        } else if a.dup || d.sacked_bytes > 0 {
            self.dupacks += 1;
        }
    }

    /// RACK's state from this ACK (RFC 8985 §6.2 steps 2 and 4): the most
    /// recent delivery, reordering seen, the reordering window.
    fn rack_ack(&mut self, a: &AckIn, d: &Delivered, dsack: bool) {
        for &(x, e, _, r) in &d.newest {
            self.rack.update(a.now, x, e, r);
        }
        if d.reordering {
            self.rack.reordering_seen = true;
        }
        // Linux widens the window only once reordering was seen, and
        // not for a tail loss probe's D-SACK (the probe was the timer's
        // doing, not RACK's).
        let probe_dsack = dsack
            && self.tlp_rtx
            && self
                .tlp_end
                .is_some_and(|end| a.sack.first().is_some_and(|&(_, r)| r == end));
        self.rack.on_ack_dsack(
            dsack && self.rack.reordering_seen && !probe_dsack,
            a.ack,
            a.snd_max,
        );
    }

    /// Loss marking: RACK's time-based rule (RFC 8985 §6.2 step 5), else
    /// SACK's DupThresh (RFC 6675 §5), else the third duplicate ACK or
    /// NewReno's partial ACK (RFC 5681 §3.2, RFC 6582 §3.2). The ranges
    /// marked lost and what found them.
    fn detect_loss(&mut self, a: &AckIn, rack: bool) -> (Vec<(SeqNum, SeqNum)>, RtxCause) {
        let mut marked: Vec<(SeqNum, SeqNum)> = Vec::new();
        let mut by = RtxCause::Dupack;
        if rack {
            marked = self.rack_detect(a.now, a.srtt);
            by = RtxCause::Rack;
            self.stats.rack_marks += marked.len() as u64;
        } else if a.sack_enabled {
            marked = self
                .sb
                .mark_lost_by_dupthresh(DUPTHRESH as usize, self.cc.smss);
        }
        let in_episode = matches!(self.state, CaState::Recovery | CaState::Loss);
        if marked.is_empty() && !rack {
            // The classic trigger (RFC 5681 §3.2): the third duplicate ACK
            // marks the first segment; NewReno's partial ACK marks the next
            // (RFC 6582 §3.2 step 5).
            let third = self.dupacks >= DUPTHRESH && !in_episode;
            let partial = self.state == CaState::Recovery && a.advanced && a.ack < self.high_seq;
            if (third || (partial && !a.sack_enabled))
                && let Some(r) = self.sb.mark_head_lost(RtxCause::Dupack)
            {
                marked.push(r);
            }
        }
        (marked, by)
    }

    /// The state machine after the ACK: an episode ends at its recovery
    /// point, a new loss begins one (or marks more), and the window moves
    /// by PRR in recovery (RFC 6937) or grows (RFC 5681, RFC 9438).
    fn advance_state(
        &mut self,
        ctx: &mut Ctx,
        name: &Arc<str>,
        a: &AckIn,
        d: &Delivered,
        rack: bool,
        (marked, by): (Vec<(SeqNum, SeqNum)>, RtxCause),
    ) {
        let delivered = d.acked_bytes
            + d.sacked_bytes
            + if a.sack_enabled || !a.dup {
                0
            } else {
                self.cc.smss
            };
        let exited = self.exit_at_recovery_point(ctx, name, a, rack);
        // PRR-SSRB's extra segment (RFC 6937 §3); Linux gives it only to
        // an ACK that advanced SND.UNA and found no new loss
        // (tcp_cwnd_reduction).
        let ssrb_bonus = !ctx.cfg.prr_ssrb_on_advance || (a.advanced && marked.is_empty());
        // Announced once the window is set, so the event shows it.
        let mut announce = None;
        if !marked.is_empty() {
            if matches!(self.state, CaState::Open | CaState::Disorder) {
                self.enter_recovery(a.flight_before);
                announce = Some(RecoveryAction::Enter);
            } else {
                announce = Some(RecoveryAction::Mark);
            }
        }
        match self.state {
            // Linux's tcp_cwnd_reduction leaves cwnd as it is on an ACK
            // that delivered nothing: PRR would otherwise bring it to pipe,
            // nothing at all once everything outstanding is SACKed or lost.
            CaState::Recovery if ctx.cfg.prr_ssrb_on_advance && delivered == 0 => {}
            CaState::Recovery => self.prr(delivered, a.sack_enabled, ssrb_bonus),
            // The ACK that ends an episode leaves cwnd where recovery put
            // it; growth resumes with the next. Linux grows on that ACK too:
            // tcp_ack runs tcp_cong_control after tcp_fastretrans_alert has
            // set the state back to Open, so the window that recovery ended
            // at ssthresh, or that a timeout set to one segment, takes the
            // ACK's delivery at once (tcp_may_raise_cwnd, tcp_cong_avoid).
            CaState::Open | CaState::Disorder
                if a.advanced && (!exited || ctx.cfg.linux_cwnd_growth) =>
            {
                self.grow(ctx, name, a, d);
            }
            CaState::Loss if a.advanced && ctx.cfg.linux_cwnd_growth => {
                // Linux's loss state is no window reduction
                // (tcp_in_cwnd_reduction): tcp_cong_control grows the
                // window by what the ACK delivered, SACKed data included.
                self.grow(ctx, name, a, d);
            }
            CaState::Loss if a.advanced => {
                // After an RTO the window grows again by slow start.
                self.cc.on_ack(a.now, a.data_acked, a.srtt);
            }
            _ => {}
        }
        if self.state == CaState::Open && (self.sb.any_sacked() || self.dupacks > 0) {
            self.state = CaState::Disorder;
        } else if self.state == CaState::Disorder && !self.sb.any_sacked() && self.dupacks == 0 {
            self.state = CaState::Open;
        }
        if let Some(action) = announce {
            self.event(ctx, name, action, Some(by), &marked, None);
        }
    }

    /// An episode ends when the cumulative ACK reaches its recovery point
    /// (RFC 6675 §5, RFC 6582 §3.2 step 3): `true` then.
    fn exit_at_recovery_point(
        &mut self,
        ctx: &mut Ctx,
        name: &Arc<str>,
        a: &AckIn,
        rack: bool,
    ) -> bool {
        if !(matches!(self.state, CaState::Recovery | CaState::Loss)
            && a.advanced
            && a.ack >= self.high_seq)
        {
            return false;
        }
        let was = self.state;
        self.state = if self.sb.any_sacked() {
            CaState::Disorder
        } else {
            CaState::Open
        };
        if was == CaState::Recovery && self.undo.armed {
            // RFC 6937: the reduction ends at ssthresh.
            self.cc.cwnd = self.cc.ssthresh.max(self.cc.smss);
        }
        self.undo.armed = false;
        self.rescue_done = false;
        if rack {
            self.rack.on_recovery_exit();
        }
        self.event(ctx, name, RecoveryAction::Exit, None, &[], None);
        true
    }

    /// The window grows outside recovery; HyStart may end slow start first.
    fn grow(&mut self, ctx: &mut Ctx, name: &Arc<str>, a: &AckIn, d: &Delivered) {
        // The RTT of the newest segment delivered, never one sent twice
        // (Karn), for HyStart (Linux's `pkts_acked`).
        let rtt = d
            .newest
            .iter()
            .filter(|n| !n.3)
            .map(|n| n.0)
            .max()
            .map(|xmit| a.now.saturating_sub(xmit));
        if let Some(rtt) = rtt
            && let Some(how) = self.cc.rtt_sample(a.now, a.ack, a.snd_max, rtt, a.srtt)
        {
            self.event(
                ctx,
                name,
                RecoveryAction::SlowStartExit,
                None,
                &[],
                Some(how.name()),
            );
        }
        // Linux grows by what the ACK delivered (tcp_ack's acked_sacked:
        // data newly SACKed, and data newly acknowledged that was not
        // SACKed before), so data SACKed earlier does not count twice when
        // the cumulative ACK covers it.
        let acked = if self.cc.linux_growth && a.sack_enabled {
            d.acked_bytes + d.sacked_bytes
        } else if self.cc.linux_growth {
            // Without SACK each duplicate ACK counted one segment delivered
            // (tcp_add_reno_sack); the cumulative ACK delivers the rest, at
            // least one (tcp_remove_reno_sacks).
            let smss = self.cc.smss.max(1);
            let segs = d.acked_bytes.div_ceil(smss);
            let dup = self.prior_dupacks.min(segs.saturating_sub(1));
            if segs == 0 {
                0
            } else {
                (segs - dup).max(1) * smss
            }
        } else {
            a.data_acked
        };
        self.cc.on_ack(a.now, acked, a.srtt);
    }

    fn enter_recovery(&mut self, flight: u32) {
        self.reduce(flight);
        self.state = CaState::Recovery;
        self.high_seq = self.sb.last().map_or(self.high_seq, |s| s.end);
        self.prr_delivered = 0;
        self.prr_out = 0;
        self.recover_fs = flight.max(1);
        self.rescue_done = false;
        self.tlp_end = None;
    }

    /// RFC 6937 §3: send in proportion to what is delivered while pipe is
    /// above ssthresh, then slow-start back up to it (the SSRB bound).
    /// `bonus`: whether the slow-start reduction bound may add a segment.
    fn prr(&mut self, delivered: u32, sack_enabled: bool, bonus: bool) {
        self.prr_delivered += delivered;
        let pipe = self.pipe(sack_enabled);
        let ss = self.cc.ssthresh;
        let mss = self.cc.smss;
        let sndcnt: i64 = if pipe > ss {
            let want = (u64::from(self.prr_delivered) * u64::from(ss))
                .div_ceil(u64::from(self.recover_fs));
            want as i64 - i64::from(self.prr_out)
        } else {
            let limit = (i64::from(self.prr_delivered) - i64::from(self.prr_out))
                .max(i64::from(delivered))
                + if bonus { i64::from(mss) } else { 0 };
            (i64::from(ss) - i64::from(pipe)).min(limit)
        };
        // In whole segments, as Linux counts (RFC 6937 leaves rounding to
        // the implementation): a part of a segment would never be sent.
        let mut sndcnt = (sndcnt.max(0) as u32).div_ceil(mss) * mss;
        if self.prr_out == 0 && sndcnt == 0 {
            // Entering recovery always lets the first retransmission out
            // (RFC 6937 §3, as Linux).
            sndcnt = mss;
        }
        self.cc.cwnd = pipe + sndcnt;
    }

    /// RACK detection and the reordering timer (RFC 8985 §6.2–6.3).
    fn rack_detect(&mut self, now: Instant, srtt: Option<Duration>) -> Vec<(SeqNum, SeqNum)> {
        let srtt = srtt.unwrap_or(Duration::from_secs(1));
        let reo = self.rack.reo_wnd(
            self.state == CaState::Recovery,
            self.sb.sacked_segments(),
            srtt,
        );
        let (marked, wait) = self.rack.detect_loss(now, reo, &mut self.sb);
        self.reo_deadline = wait.map(|w| now + w);
        marked
    }

    /// The reordering timer fired (RFC 8985 §6.3).
    pub(crate) fn on_reo_timeout(
        &mut self,
        ctx: &mut Ctx,
        name: &Arc<str>,
        now: Instant,
        srtt: Option<Duration>,
        flight: u32,
    ) {
        self.reo_deadline = None;
        let marked = self.rack_detect(now, srtt);
        if marked.is_empty() {
            return;
        }
        self.stats.rack_marks += marked.len() as u64;
        if matches!(self.state, CaState::Open | CaState::Disorder) {
            self.enter_recovery(flight);
            // RFC 6937: nothing delivered yet; let the first out.
            self.prr(0, true, true);
            self.event(
                ctx,
                name,
                RecoveryAction::Enter,
                Some(RtxCause::Rack),
                &marked,
                None,
            );
        } else {
            self.event(
                ctx,
                name,
                RecoveryAction::Mark,
                Some(RtxCause::Rack),
                &marked,
                None,
            );
        }
    }

    /// RFC 5681 §3.1 and RFC 6298 §5: the retransmission timer expired
    /// with data outstanding. Everything not SACKed is lost (the SACK marks
    /// are kept, RFC 6675 §5.1); ssthresh falls only once per episode.
    pub(crate) fn on_rto(&mut self, ctx: &mut Ctx, name: &Arc<str>, flight: u32, snd_max: SeqNum) {
        self.stats.rtos += 1;
        let new_episode = !matches!(self.state, CaState::Recovery | CaState::Loss);
        let repeated = self.state == CaState::Loss;
        if new_episode {
            self.reduce(flight);
        }
        // RFC 5682 §3.1 step 1, as Linux enables it: F-RTO for a timeout
        // that starts an episode or repeats one, not one that interrupts
        // fast recovery.
        self.undo.frto = self.undo.armed && (new_episode || repeated);
        self.cc.loss_window();
        self.cc.on_timeout();
        self.state = CaState::Loss;
        self.high_seq = snd_max;
        self.dupacks = 0;
        self.tlp_end = None;
        self.rescue_done = false;
        self.reo_deadline = None;
        if self.reneged {
            self.sb.clear_sacks();
            self.reneged = false;
        }
        let marked = self.sb.mark_all_lost(RtxCause::Rto);
        let action = if new_episode {
            RecoveryAction::Enter
        } else {
            RecoveryAction::Mark
        };
        self.event(ctx, name, action, Some(RtxCause::Rto), &marked, None);
    }

    /// The next segment to send again, if any (RFC 6675 NextSeg rule 1).
    pub fn next_lost(&self) -> Option<(SeqNum, SeqNum, RtxCause)> {
        self.sb
            .next_lost()
            .map(|s| (s.start, s.end, s.lost_by.unwrap_or(RtxCause::Dupack)))
    }

    /// RFC 6675 NextSeg rule 4: in recovery, with nothing lost to resend and
    /// no new data to send, one rescue retransmission of the last segment.
    pub fn rescue(&mut self, sack_enabled: bool) -> Option<(SeqNum, SeqNum)> {
        if self.state != CaState::Recovery || self.rescue_done || self.rack_on || !sack_enabled {
            return None;
        }
        let s = self.sb.last_unsacked()?;
        if s.state != SegState::InFlight {
            return None;
        }
        self.rescue_done = true;
        Some((s.start, s.end))
    }

    // ----- tail loss probe (RFC 8985 §7) ------------------------------

    /// Whether a probe may be scheduled now (§7.2): RACK on, SACK in use,
    /// not recovering, no probe outstanding.
    pub fn tlp_allowed(&self, sack_enabled: bool) -> bool {
        self.rack_on
            && sack_enabled
            && matches!(self.state, CaState::Open | CaState::Disorder)
            && self.tlp_end.is_none()
            && !self.sb.is_empty()
    }

    /// The probe went out; `end` is SND.NXT after it (TLP.end_seq).
    pub(crate) fn on_probe(
        &mut self,
        ctx: &mut Ctx,
        name: &Arc<str>,
        end: SeqNum,
        retransmission: bool,
        range: (SeqNum, SeqNum),
    ) {
        self.stats.probes += 1;
        self.tlp_end = Some(end);
        self.tlp_rtx = retransmission;
        self.event(
            ctx,
            name,
            RecoveryAction::Probe,
            Some(RtxCause::Tlp),
            &[range],
            None,
        );
    }

    /// §7.4: did the probe repair a loss? An ACK past TLP.end_seq without a
    /// D-SACK for the probe means a loss that the probe repaired: reduce
    /// the window once (Linux: CWR, then open).
    fn tlp_ack(&mut self, ctx: &mut Ctx, name: &Arc<str>, a: &AckIn, dsack: bool, d: &Delivered) {
        let Some(end) = self.tlp_end else {
            return;
        };
        if a.ack < end {
            return;
        }
        if !self.tlp_rtx || dsack {
            self.tlp_end = None;
        } else if a.ack > end {
            self.tlp_end = None;
            let flight = a.flight_before;
            self.reduce(flight);
            self.cc.cwnd = self.cc.ssthresh;
            self.undo.armed = false;
            self.event(
                ctx,
                name,
                RecoveryAction::Reduce,
                Some(RtxCause::Tlp),
                &[],
                None,
            );
        } else if !a.advanced && d.sacked_bytes == 0 {
            // A pure duplicate: both the original and the probe arrived.
            self.tlp_end = None;
        }
    }

    /// Undo a reduction made for data that was only late (Eifel, RFC 3522:
    /// the ACK echoes a timestamp older than our first retransmission;
    /// F-RTO, RFC 5682: after a timeout, data never sent twice is ACKed; or
    /// every retransmission came back as a D-SACK, RFC 3708).
    fn try_undo(&mut self, ctx: &mut Ctx, name: &Arc<str>, a: &AckIn, dsack: bool, original: bool) {
        if !self.undo.armed || !matches!(self.state, CaState::Recovery | CaState::Loss) {
            return;
        }
        let eifel = a.advanced
            && match (a.tsecr, self.undo.retrans_stamp) {
                (Some(ecr), Some(stamp)) => ecr != 0 && (ecr.wrapping_sub(stamp) as i32) < 0,
                _ => false,
            };
        let all_dsacked = dsack && self.undo.retrans_out <= 0 && self.undo.retrans_stamp.is_some();
        let frto = self.state == CaState::Loss && self.undo.frto && original;
        if !(eifel || all_dsacked || frto) {
            return;
        }
        self.cc.cwnd = self.cc.cwnd.max(self.undo.cwnd);
        self.cc.ssthresh = self.cc.ssthresh.max(self.undo.ssthresh);
        self.cc.cubic = self.undo.cubic.clone();
        self.sb.unmark_lost();
        self.undo.armed = false;
        self.stats.undos += 1;
        self.state = if self.sb.any_sacked() {
            CaState::Disorder
        } else {
            CaState::Open
        };
        let how = if eifel {
            "eifel"
        } else if frto {
            "frto"
        } else {
            "dsack"
        };
        self.event(ctx, name, RecoveryAction::Undo, None, &[], Some(how));
    }
}
