//! Segment arrives (RFC 9293 §3.10.7): a segment checked and taken by
//! state, SYN-SENT's and LISTEN's first, then the synchronized states'
//! steps in the RFC's order.

use super::*;

impl Tcb {
    // ----- segment arrives (RFC 9293 §3.10.7) ------------------------------

    pub(crate) fn on_segment(&mut self, ctx: &mut Ctx, seg: &mut Segment) -> Verdict {
        self.last_rcv = ctx.now;
        match self.state {
            State::SynSent => {
                self.on_segment_syn_sent(ctx, seg);
                Verdict::Keep
            }
            State::Listen if self.passive_open => {
                self.on_segment_listen(ctx, seg);
                Verdict::Keep
            }
            State::Closed | State::Listen => Verdict::Keep,
            _ => self.on_segment_other(ctx, seg),
        }
    }

    /// §3.10.7.2 LISTEN, for a fully specified passive open.
    pub(super) fn on_segment_listen(&mut self, ctx: &mut Ctx, seg: &mut Segment) {
        let f = seg.flags;
        if f.rst() {
            return;
        }
        if f.ack() {
            // <SEQ=SEG.ACK><CTL=RST>
            self.send(ctx, Flags::RST, seg.ack, Vec::new(), None);
            return;
        }
        if f.syn() {
            self.take_syn(ctx, seg);
        }
    }

    /// §3.10.7.3 SYN-SENT STATE.
    pub(super) fn on_segment_syn_sent(&mut self, ctx: &mut Ctx, seg: &mut Segment) {
        let f = seg.flags;
        // First, check the ACK: it must acknowledge our SYN.
        if f.ack() && (seg.ack <= self.iss || seg.ack > self.snd_nxt) {
            if !f.rst() {
                // <SEQ=SEG.ACK><CTL=RST>
                self.send(ctx, Flags::RST, seg.ack, Vec::new(), None);
            }
            return;
        }
        // Second, RST: only with an acceptable ACK (RFC 5961 §3.2 for SYN-SENT).
        if f.rst() {
            if f.ack() {
                self.abort(
                    ctx,
                    AbortReason::ResetReceived,
                    false,
                    "RST+ACK received in SYN-SENT: connection refused".into(),
                );
                self.close_reason = Some(CloseReason::Refused);
            }
            return;
        }
        if !f.syn() {
            return;
        }
        // Fourth, SYN.
        self.irs = seg.seq;
        self.rcv_nxt = seg.seq + 1usize;
        self.rcv_adv = self.rcv_nxt;
        if let Some((val, _)) = seg.options.timestamp {
            self.ts_recent = val;
        }
        self.negotiate(ctx, &seg.options);
        self.emit_negotiated(ctx);
        self.snd_wnd = u32::from(seg.window);
        self.max_snd_wnd = self.snd_wnd;
        self.snd_wl1 = seg.seq;
        if f.ack() {
            self.snd_wl2 = seg.ack;
            self.ack_advances(ctx, seg);
        }
        if self.snd_una > self.iss {
            self.cancel(ctx, TimerKind::Connect);
            self.set_state(
                ctx,
                State::Established,
                format!(
                    "SYN+ACK received (peer ISN {}, ack = our ISN + 1); ACK sent",
                    seg.seq
                ),
            );
            self.on_established(ctx);
            self.ack_now = true;
            if !seg.payload.is_empty() || f.fin() {
                // The rest of the segment past the SYN.
                seg.seq += 1usize;
                seg.flags = Flags(seg.flags.0 & !Flags::SYN.0);
                self.process_text_and_fin(ctx, seg);
            }
        } else {
            // Simultaneous open: SYN-RECEIVED, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
            self.set_state(
                ctx,
                State::SynReceived,
                "SYN received while in SYN-SENT (simultaneous open): SYN+ACK sent".into(),
            );
            self.send_syn(ctx, false);
        }
    }

    pub(super) fn on_established(&mut self, ctx: &mut Ctx) {
        self.dirty = true;
        self.last_data_rcv = ctx.now;
        if self.syn_rtx > 0 {
            // RFC 6298 §5.7: 3 s until a sample says otherwise.
            self.rtt.reinit_after_syn_loss();
        }
        if self.syn_rtx >= ctx.cfg.syn_loss_one_segment.max(1) {
            // RFC 5681 §3.1: a lost SYN or SYN+ACK leaves a one-segment
            // first window (Linux: after more than one retransmission).
            let one = self.rec.smss();
            self.rec.cc.restart(one);
        }
        if let Some(k) = self.keepalive {
            // On by configuration (profile, --keepalive, a scenario's host):
            // say so with the values, as set_keepalive does.
            self.keepalive_enabled_event(ctx, k);
        }
        self.restart_keepalive(ctx);
    }

    /// §3.10.7.4: SYN-RECEIVED and the synchronized states, step by step.
    pub(super) fn on_segment_other(&mut self, ctx: &mut Ctx, seg: &mut Segment) -> Verdict {
        if self.state == State::TimeWait
            && let Some(v) = self.time_wait_arrival(ctx, seg)
        {
            return v;
        }
        let f = seg.flags;
        if self.state == State::SynReceived && f.syn() && seg.seq == self.irs {
            if !f.ack() {
                if !f.rst() {
                    self.synack_again(ctx);
                }
                return Verdict::Keep;
            }
            // SYN+ACK in SYN-RECEIVED (simultaneous open): the SYN is old
            // news; process the ACK.
            seg.seq += 1usize;
            seg.flags = Flags(seg.flags.0 & !Flags::SYN.0);
        }

        // First: the sequence number (and PAWS).
        if !self.check_sequence(ctx, seg) {
            return Verdict::Keep;
        }
        let f = seg.flags;

        // Second: RST.
        if f.rst() {
            self.on_rst(ctx, seg);
            return Verdict::Keep;
        }

        // Fourth: SYN in a synchronized state (RFC 5961 §4.2: challenge ACK).
        if f.syn() {
            self.send_challenge_ack(ctx);
            return Verdict::Keep;
        }

        // Fifth: the ACK field.
        if !f.ack() {
            return Verdict::Keep;
        }
        if self.state == State::SynReceived {
            if self.snd_una < seg.ack && seg.ack <= self.snd_max {
                self.snd_wnd = u32::from(seg.window) << self.snd_wscale;
                self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
                self.snd_wl1 = seg.seq;
                self.snd_wl2 = seg.ack;
                self.cancel(ctx, TimerKind::Connect);
                self.set_state(
                    ctx,
                    State::Established,
                    "ACK of our SYN received: handshake complete".into(),
                );
                self.on_established(ctx);
                if self.fin_queued {
                    // CLOSE was called in SYN-RECEIVED with data queued.
                    self.set_state(
                        ctx,
                        State::FinWait1,
                        "CLOSE queued in SYN-RECEIVED: FIN follows the data".into(),
                    );
                }
            } else {
                // <SEQ=SEG.ACK><CTL=RST>
                self.send(ctx, Flags::RST, seg.ack, Vec::new(), None);
                return Verdict::Keep;
            }
        }
        if !self.process_ack(ctx, seg) {
            return Verdict::Keep;
        }
        if self.state == State::Closed {
            return Verdict::Keep;
        }

        // Seventh and eighth: text and FIN.
        self.process_text_and_fin(ctx, seg);
        Verdict::Keep
    }

    /// TIME-WAIT's own answers before the usual steps (RFC 9293 §3.10.7.4,
    /// RFC 1337, RFC 6191): the verdict when the segment was dealt with
    /// here; `None` when it goes on through the usual steps.
    pub(super) fn time_wait_arrival(&mut self, ctx: &mut Ctx, seg: &Segment) -> Option<Verdict> {
        let f = seg.flags;
        if f.rst() {
            if ctx.cfg.rfc1337 || seg.seq != self.rcv_nxt {
                // RFC 1337: ignore RST in TIME-WAIT (TIME-WAIT
                // assassination).
                return Some(Verdict::Keep);
            }
            // Linux's default (tcp_rfc1337 = 0): a RST ends TIME-WAIT.
            self.close_reason = Some(CloseReason::Normal);
            self.set_state(
                ctx,
                State::Closed,
                "RST received in TIME-WAIT: TIME-WAIT ends early (Linux; RFC 1337 would ignore it)"
                    .into(),
            );
            return Some(Verdict::Keep);
        }
        // RFC 9293 §3.10.7.4 and RFC 6191 §2: a new SYN may open a new
        // incarnation. With timestamps in use, if and only if its
        // timestamp is newer than TS.Recent (whatever its sequence
        // number; an older one is an old duplicate, as PAWS says);
        // without, if its sequence number is higher.
        let reopen = match seg.options.timestamp {
            Some((val, _)) if self.ts_enabled => (val.wrapping_sub(self.ts_recent) as i32) > 0,
            _ => seg.seq > self.rcv_nxt,
        };
        if f.syn() && !f.ack() && reopen {
            return Some(Verdict::Reopen(seg.clone()));
        }
        if f.fin() && seg.seq + seg.payload.len() + 1usize == self.rcv_nxt {
            // The peer's FIN again: our last ACK was lost. ACK it and
            // restart the 2 MSL timer (RFC 9293 §3.10.7.4 eighth step).
            // The FIN is processed, so RFC 7323 §4.3 applies to it: its
            // SEG.SEQ is below Last.ACK.sent, and a newer TSval becomes
            // TS.Recent. The ACK then echoes the retransmission, not the
            // first FIN, and the peer's Eifel check (RFC 3522) does not
            // call its needed resend spurious. The `linux` profile keeps
            // the first FIN's TSval, as Linux's TIME-WAIT socket does.
            if ctx.cfg.time_wait_ts_recent {
                self.update_ts_recent(seg);
            }
            self.send_ack(ctx);
            let d = ctx.cfg.msl * 2;
            self.timers[idx(TimerKind::TimeWait)] = None;
            self.arm(ctx, TimerKind::TimeWait, ctx.now + d);
            return Some(Verdict::Keep);
        }
        None
    }

    /// SYN-RECEIVED: the peer's SYN again means our SYN+ACK was lost. Send
    /// it again now and restart its timer from this transmission, so the
    /// timer does not send a second copy right behind it.
    pub(super) fn synack_again(&mut self, ctx: &mut Ctx) {
        self.syn_rtx += 1;
        self.send(
            ctx,
            Flags::SYN | Flags::ACK,
            self.iss,
            Vec::new(),
            Some(RtxCause::Syn),
        );
        self.rtt_probe = None;
        let rto = self.rtt.rto();
        self.arm(ctx, TimerKind::Retransmit, ctx.now + rto);
    }

    /// First step (RFC 9293 §3.10.7.4), with PAWS (RFC 7323 §5.3) before
    /// it: is the segment acceptable? Answers the ones that are not, keeps
    /// TS.Recent and trims the segment to the window. `false`: drop it.
    pub(super) fn check_sequence(&mut self, ctx: &mut Ctx, seg: &mut Segment) -> bool {
        let f = seg.flags;
        // RFC 7323 §5.3 PAWS: a timestamp older than TS.Recent marks an old
        // duplicate; ACK and drop it (RST is exempt). The answer to a pure
        // ACK is rate-limited like any out-of-window answer (Linux).
        if self.ts_enabled
            && !f.rst()
            && let Some((val, _)) = seg.options.timestamp
            && (val.wrapping_sub(self.ts_recent) as i32) < 0
        {
            if !self.oow_rate_limited(ctx, seg) {
                self.send_ack(ctx);
            }
            return false;
        }

        // Sequence number acceptability.
        let wnd = self.rcv_wnd();
        let len = seg.seg_len() as u32;
        let acceptable = match (len, wnd) {
            (0, 0) => seg.seq == self.rcv_nxt,
            // A sender that has filled our window sends its ACKs at its
            // SND.NXT, our right edge: with a hole below, a strict reading
            // (SEG.SEQ < RCV.NXT+RCV.WND) would drop every such ACK and the
            // two sides can deadlock. Like Linux (tcp_sequence: seq not after
            // rcv_nxt + window) the edge itself is accepted for a
            // zero-length segment; it carries no data to store.
            (0, _) => {
                seg.seq.in_range(self.rcv_nxt, self.rcv_nxt + wnd) || seg.seq == self.rcv_nxt + wnd
            }
            (_, 0) => false,
            (_, _) => {
                seg.seq.in_range(self.rcv_nxt, self.rcv_nxt + wnd)
                    || (seg.seq + (len - 1)).in_range(self.rcv_nxt, self.rcv_nxt + wnd)
            }
        };
        // Linux (tcp_sequence): data that runs past the window is taken
        // whole while the receive queue is empty (so a sender that
        // overshoots does not stall), and dropped whole, with a duplicate
        // ACK, while it is not. A bare FIN is not data: it may come at a
        // zero window (tcp_data_queue takes it).
        let data_end = seg.seq + seg.payload.len();
        let beyond = ctx.cfg.linux_rcvbuf
            && !f.syn()
            && !seg.payload.is_empty()
            && data_end > self.rcv_nxt + wnd
            && seg.seq <= self.rcv_nxt + wnd
            && seg.seq + seg.seg_len() > self.rcv_nxt;
        let take_whole = beyond && self.rcv_buf.is_empty() && seg.seq <= self.rcv_nxt;
        let bare_fin_at_zero = ctx.cfg.linux_rcvbuf
            && wnd == 0
            && seg.seq == self.rcv_nxt
            && seg.payload.is_empty()
            && f.fin()
            && !f.syn();
        let acceptable = if beyond {
            take_whole && wnd > 0
        } else {
            acceptable || bare_fin_at_zero
        };
        if !acceptable {
            if wnd == 0 && seg.seq == self.rcv_nxt && !f.syn() && !beyond {
                // "special allowance ... to accept valid ACKs, URGs, and RSTs"
                // with a zero window: keep the control part, drop the text.
                seg.payload.clear();
                seg.flags = Flags(seg.flags.0 & !Flags::FIN.0);
                self.ack_now = true;
            } else {
                if self.sack_enabled
                    && !seg.payload.is_empty()
                    && seg.seq + seg.payload.len() <= self.rcv_nxt
                {
                    // RFC 2883: tell the sender this one arrived twice.
                    self.dsack = Some((seg.seq, seg.seq + seg.payload.len()));
                }
                if !f.intersects(Flags::SYN | Flags::RST)
                    && !seg.payload.is_empty()
                    && seg.seq < self.rcv_nxt
                {
                    // Data sent again that we had: our ACK was lost (Linux
                    // counts DELAYEDACKLOST), so ACK every segment for a
                    // while (tcp_send_dupack enters quick-ACK mode).
                    self.quickack_more(ctx.cfg.quickack);
                }
                if !f.intersects(Flags::SYN | Flags::RST)
                    && len > 0
                    && self.last_ack_sent <= seg.seq + len
                {
                    // A resend of what we last acknowledged (it reaches
                    // Last.ACK.sent: our ACK was lost) is the segment the
                    // ACK below answers. RFC 7323 §4.3 rule (2) holds for
                    // it (SEG.SEQ <= Last.ACK.sent), so the ACK echoes the
                    // resend and the sender's Eifel check (RFC 3522) does
                    // not undo a needed retransmission. Linux does the
                    // same: tcp_sequence accepts a segment ending at
                    // rcv_wup, and tcp_replace_ts_recent takes its TSval.
                    // Older duplicates leave TS.Recent alone.
                    self.update_ts_recent(seg);
                }
                if !f.rst() && !self.oow_rate_limited(ctx, seg) {
                    self.send_ack(ctx);
                }
                return false;
            }
        }
        // RFC 7323 §4.3: TS.Recent follows the segment that reached the
        // left edge of the window. Linux takes it only once the ACK field
        // proved acceptable (see `process_ack`).
        if !ctx.cfg.ack_unsent_silent {
            self.update_ts_recent(seg);
        }
        if take_whole {
            // Only what lies before RCV.NXT is cut.
            self.trim_left(seg);
        } else if !bare_fin_at_zero {
            self.trim(seg);
        }
        true
    }

    /// RFC 7323 §4.3 rule (2): if SEG.TSval >= TS.Recent and SEG.SEQ <=
    /// Last.ACK.sent, SEG.TSval is copied to TS.Recent.
    pub(super) fn update_ts_recent(&mut self, seg: &Segment) {
        if self.ts_enabled
            && let Some((val, _)) = seg.options.timestamp
            && seg.seq <= self.last_ack_sent
            && (val.wrapping_sub(self.ts_recent) as i32) >= 0
        {
            self.ts_recent = val;
        }
    }

    /// Second step: RST (RFC 5961 §3.2: only an exact match resets).
    pub(super) fn on_rst(&mut self, ctx: &mut Ctx, seg: &Segment) {
        if seg.seq != self.rcv_nxt {
            self.send_challenge_ack(ctx);
            return;
        }
        match self.state {
            State::SynReceived if self.listener.is_some() || self.passive_open => {
                ctx.event(
                    Some(&self.name),
                    Body::Abort {
                        reason: AbortReason::ResetReceived,
                    },
                );
                self.close_reason = Some(CloseReason::Reset);
                self.set_state(
                    ctx,
                    State::Listen,
                    "RST received in SYN-RECEIVED: back to LISTEN".into(),
                );
            }
            State::SynReceived => {
                self.abort(
                    ctx,
                    AbortReason::ResetReceived,
                    false,
                    "RST received in SYN-RECEIVED: connection refused".into(),
                );
                self.close_reason = Some(CloseReason::Refused);
            }
            _ => {
                let probing = self.ka_probes > 0;
                self.abort(
                    ctx,
                    AbortReason::ResetReceived,
                    false,
                    if probing {
                        "RST in answer to a keepalive probe: the peer forgot the connection (rebooted)".into()
                    } else {
                        "RST received: connection reset".into()
                    },
                );
            }
        }
    }

    /// Answers to unacceptable pure ACKs are rate-limited (Linux's
    /// tcp_invalid_ratelimit, 500 ms), so two ends that disagree cannot
    /// keep ACKing each other's ACKs. Segments with data, SYN or FIN are
    /// always answered.
    pub(super) fn oow_rate_limited(&mut self, ctx: &mut Ctx, seg: &Segment) -> bool {
        if seg.seg_len() > 0 {
            return false;
        }
        if self
            .last_oow_ack
            .is_some_and(|t| ctx.now - t < Duration::from_millis(500))
        {
            return true;
        }
        self.last_oow_ack = Some(ctx.now);
        false
    }

    /// Cut what lies before RCV.NXT or beyond the window.
    pub(super) fn trim(&mut self, seg: &mut Segment) {
        self.trim_left(seg);
        let wnd = self.rcv_wnd() as usize;
        let room = wnd.saturating_sub(seg.seq.diff(self.rcv_nxt).max(0) as usize);
        if seg.payload.len() > room {
            seg.payload.truncate(room);
            // The FIN came after bytes we cannot take.
            seg.flags = Flags(seg.flags.0 & !Flags::FIN.0);
        }
    }

    /// Cut what lies before RCV.NXT.
    fn trim_left(&mut self, seg: &mut Segment) {
        if seg.seq < self.rcv_nxt {
            let mut cut = self.rcv_nxt - seg.seq;
            if seg.flags.syn() {
                seg.flags = Flags(seg.flags.0 & !Flags::SYN.0);
                seg.seq += 1usize;
                cut -= 1;
            }
            let n = cut.min(seg.payload.len());
            if n > 0 && self.sack_enabled {
                // RFC 2883: the part received before, as a D-SACK block.
                self.dsack = Some((seg.seq, seg.seq + n));
            }
            seg.payload.drain(..n);
            seg.seq += n;
        }
    }

    /// The ACK field of an acceptable segment. Returns false when the
    /// segment must be dropped.
    pub(super) fn process_ack(&mut self, ctx: &mut Ctx, seg: &Segment) -> bool {
        // SND.NXT in the RFC; after an RTO rewound SND.NXT (go-back-N) the
        // peer may acknowledge data sent before the rewind, so the bound is
        // the highest sequence number ever sent (as BSD's snd_max).
        let mut ack_limit = self.snd_max;
        if self.probe_out {
            // The zero-window probe byte may have been taken.
            ack_limit += 1usize;
        }
        if seg.ack > ack_limit {
            // ACK of something not yet sent: ACK and drop (§3.10.7.4
            // fifth). Linux drops it without an answer (tcp_ack refuses
            // an ACK beyond snd_nxt and tcp_rcv_established discards the
            // segment).
            if !ctx.cfg.ack_unsent_silent {
                self.send_ack(ctx);
            }
            return false;
        }
        // RFC 5961 §5.2: an ACK too far in the past is not acceptable.
        let old = seg.ack < self.snd_una;
        let oldest = self.snd_una - (self.max_snd_wnd as usize);
        if seg.ack < oldest {
            self.send_challenge_ack(ctx);
            return false;
        }
        if ctx.cfg.ack_unsent_silent && !old {
            // As Linux's tcp_ack: TS.Recent only once the ACK is known to
            // be acceptable and not old (tcp_replace_ts_recent), so a
            // segment dropped for its ACK cannot move it and make the
            // peer's next segments fail PAWS.
            self.update_ts_recent(seg);
        }
        if self.probe_out && seg.ack == ack_limit {
            // The probe byte was taken: the next probe is of a new byte.
            self.snd_nxt = ack_limit;
            self.snd_max = self.snd_max.max(self.snd_nxt);
            self.probe_sent = false;
        }
        let new_wnd = u32::from(seg.window) << self.snd_wscale;
        let flight_before = self.flight();
        let outstanding_before = self.snd_max > self.snd_una;
        let advanced = seg.ack > self.snd_una;
        // RFC 5681 §2, judged on the segment as it reaches here: text cut
        // off above (a zero-window probe's byte) no longer counts, as it
        // never has. The `segment` event judged it on arrival.
        let dup = self.is_dup_ack(seg);
        let data_acked = if advanced {
            self.ack_advances(ctx, seg)
        } else {
            0
        };
        // With nothing outstanding an ACK can still carry news for loss
        // recovery: a D-SACK that the last retransmission was not needed
        // (RFC 3708's undo, RFC 8985's reordering window).
        let sack_news = self.sack_enabled && !seg.options.sack.is_empty();
        if self.state.is_synchronized()
            && (flight_before > 0 || !self.rec.sb.is_empty() || sack_news)
        {
            self.on_ack_recovery(ctx, seg, advanced, dup, flight_before, data_acked);
        }
        // Window update (§3.10.7.4: SND.WL1/SND.WL2 rule).
        if !old && (self.snd_wl1 < seg.seq || (self.snd_wl1 == seg.seq && self.snd_wl2 <= seg.ack))
        {
            let was_zero = self.snd_wnd == 0;
            let changed = self.snd_wnd != new_wnd;
            self.snd_wnd = new_wnd;
            self.max_snd_wnd = self.max_snd_wnd.max(new_wnd);
            self.snd_wl1 = seg.seq;
            self.snd_wl2 = seg.ack;
            if was_zero && new_wnd > 0 {
                self.probe_out = false;
                self.probe_sent = false;
                self.persist_backoff = 0;
                self.cancel(ctx, TimerKind::Persist);
            }
            let sent_off = self.snd_nxt.diff(self.snd_buf_seq).max(0) as usize;
            if changed && self.snd_buf.len() > sent_off {
                // Linux's tcp_ack_update_window: a new window with data
                // waiting may find the connection idle.
                self.idle_check(ctx, outstanding_before);
            }
        }
        if self.probe_out && self.snd_wnd > 0 {
            self.probe_out = false;
        }
        match self.state {
            State::FinWait1 if self.fin_acked() => {
                self.set_state(
                    ctx,
                    State::FinWait2,
                    "ACK of our FIN received: half-closed, the peer may still send".into(),
                );
                if self.orphan {
                    self.arm_fin_wait_2(ctx);
                }
            }
            State::Closing if self.fin_acked() => {
                self.enter_time_wait(ctx, "ACK of our FIN received in CLOSING".into());
            }
            State::LastAck if self.fin_acked() => {
                self.close_reason = Some(CloseReason::Normal);
                self.set_state(
                    ctx,
                    State::Closed,
                    "ACK of our FIN received: connection closed (no TIME-WAIT for the passive closer)"
                        .into(),
                );
                return false;
            }
            _ => {}
        }
        true
    }

    /// SND.UNA moves forward: free acknowledged bytes, take an RTT sample,
    /// grow the congestion window, manage the timer.
    pub(super) fn ack_advances(&mut self, ctx: &mut Ctx, seg: &Segment) -> u32 {
        let data_from = self.snd_una.max(self.snd_buf_seq);
        let data_to = seg.ack.min(self.data_end());
        // Bytes of data acknowledged (SYN and FIN do not grow cwnd).
        let acked = data_to.diff(data_from).max(0) as u32;
        if data_to > data_from {
            let n = data_to - data_from;
            self.snd_buf.drain(..n);
            self.snd_buf_seq += n;
            self.dirty = true;
        }
        self.snd_una = seg.ack;
        if self.snd_buf.is_empty() {
            // Everything sent was acknowledged (tcp_clean_rtx_queue).
            self.chrono_stop(ctx.now, CHRONO_BUSY);
        }
        if self.chrono.nospace && self.send_space() >= self.snd_buf.len() / 2 {
            // Room for half again what is queued: the application may
            // write (sk_stream_write_space clears SOCK_NOSPACE, and
            // tcp_check_space stops the send-buffer chronograph).
            self.chrono.nospace = false;
            self.chrono_stop(ctx.now, CHRONO_SNDBUF);
        }
        while self.push_marks.front().is_some_and(|&m| m <= self.snd_una) {
            self.push_marks.pop_front();
        }
        while self.pkt_ends.front().is_some_and(|&m| m <= self.snd_una) {
            self.pkt_ends.pop_front();
        }
        if self.snd_nxt < self.snd_una {
            self.snd_nxt = self.snd_una;
        }
        self.retries = 0;
        self.rtx_stamp = None;

        // RTT: timestamps (RFC 7323 §4.1) or the timed segment (RFC 6298 §3).
        let mut sample = None;
        let fresh_echo = match (self.last_rtx_ts, seg.options.timestamp) {
            (Some(rtx), Some((_, ecr))) => ecr != 0 && (ecr.wrapping_sub(rtx) as i32) >= 0,
            _ => false,
        };
        if seg.ack <= self.rtx_high && !(self.ts_enabled && fresh_echo) {
            // Only retransmitted data acknowledged, and nothing proves the
            // echo is recent: no sample (Karn).
            self.rtt_probe = None;
        } else if self.ts_enabled {
            if let Some((_, ecr)) = seg.options.timestamp
                && ecr != 0
            {
                let ms = self.ts_now(ctx.now).wrapping_sub(ecr);
                if ms < 60_000 {
                    sample = Some(Duration::from_millis(u64::from(ms)));
                }
            }
        } else if let Some((pseq, sent)) = self.rtt_probe
            && seg.ack > pseq
        {
            sample = Some(ctx.now - sent);
            self.rtt_probe = None;
        }
        if let Some(r) = sample {
            let (srtt, rttvar, rto) = self.rtt.sample(r);
            ctx.event(
                Some(&self.name),
                Body::Rtt {
                    sample: r.as_secs_f64(),
                    srtt: srtt.as_secs_f64(),
                    rttvar: rttvar.as_secs_f64(),
                    rto: rto.as_secs_f64(),
                },
            );
        }

        // RFC 6298 §5.2 / §5.3.
        if self.snd_una == self.snd_max {
            self.cancel(ctx, TimerKind::Retransmit);
        } else {
            let rto = self.rtt.rto();
            self.arm(ctx, TimerKind::Retransmit, ctx.now + rto);
        }
        acked
    }

    /// Loss detection and the congestion window after an acceptable ACK
    /// (`tcp/recovery/`), then the timers they drive.
    pub(super) fn on_ack_recovery(
        &mut self,
        ctx: &mut Ctx,
        seg: &Segment,
        advanced: bool,
        dup: bool,
        flight_before: u32,
        data_acked: u32,
    ) {
        let a = AckIn {
            now: ctx.now,
            ack: seg.ack,
            advanced,
            dup,
            sack: if self.sack_enabled {
                &seg.options.sack
            } else {
                &[]
            },
            tsecr: seg.options.timestamp.map(|(_, e)| e),
            sack_enabled: self.sack_enabled,
            flight_before,
            data_acked,
            snd_max: self.snd_max,
            srtt: self.rtt.srtt(),
        };
        self.rec.on_ack(ctx, &self.name, &a);
        self.sync_recovery_timers(ctx);
        if advanced {
            self.schedule_tlp(ctx);
        } else if !self.rec.tlp_allowed(self.sack_enabled) {
            self.cancel(ctx, TimerKind::Tlp);
        }
    }

    /// Seventh (text) and eighth (FIN) steps.
    pub(super) fn process_text_and_fin(&mut self, ctx: &mut Ctx, seg: &mut Segment) {
        if self.orphan
            && !seg.payload.is_empty()
            && matches!(self.state, State::FinWait1 | State::FinWait2)
        {
            // RFC 1122 §4.2.2.13 (and RFC 2525 §2.17): new data for an
            // application that has closed cannot be delivered; reset, as
            // Linux does (LINUX_MIB_TCPABORTONDATA). Linux's RST answers
            // the segment (tcp_v4_send_reset: at its ACK number), which
            // may lie below a FIN of ours it does not acknowledge.
            let at = if ctx.cfg.rst_answers_data_after_close {
                seg.ack
            } else {
                self.snd_max
            };
            self.send_rst(ctx, at);
            self.abort(
                ctx,
                AbortReason::DataAfterClose,
                false,
                "data arrived after the application closed: RST sent (RFC 1122 §4.2.2.13)".into(),
            );
            return;
        }
        let text_ok = matches!(
            self.state,
            State::Established | State::FinWait1 | State::FinWait2 | State::SynReceived
        );
        let mut fin_now = false;
        if !seg.payload.is_empty() && text_ok {
            // Linux's tcp_measure_rcv_mss, for in-order and out-of-order
            // data alike: the segment size (an aggregate's GSO size first),
            // at most our MSS.
            let len = if ctx.gso_size > 0 {
                ctx.gso_size as usize
            } else {
                seg.payload.len()
            };
            if len >= usize::from(self.rcv_mss_seen) {
                self.rcv_mss_seen = len.min(usize::from(self.our_mss)) as u16;
            }
        }
        if !seg.payload.is_empty() && text_ok {
            if seg.seq == self.rcv_nxt {
                self.last_data_rcv = ctx.now;
                // A silence longer than the RTO: the sender timed out and
                // starts again from one segment; ACK each at once so its
                // window reopens (Linux's tcp_event_data_recv).
                if self
                    .last_data_in
                    .is_some_and(|t| ctx.now.saturating_sub(t) > self.rtt.rto())
                {
                    self.quickack_more(ctx.cfg.quickack);
                }
                self.last_data_in = Some(ctx.now);
                let had_holes = self.ooo.segments() > 0;
                self.take_in_order(&seg.payload);
                // What was held and this segment repeated lies below
                // here (Linux's dsack_high in tcp_ofo_queue).
                let dsack_high = self.rcv_off;
                while let Some((start, end)) = self.ooo.first()
                    && start <= self.rcv_off
                {
                    if ctx.cfg.dsack_reassembled && self.sack_enabled && start < dsack_high {
                        // RFC 2883 §4: held data received again, as
                        // Linux reports it (tcp_dsack_extend).
                        let (a, b) = (self.seq_of(start), self.seq_of(end.min(dsack_high)));
                        self.dsack_extend(a, b);
                    }
                    match self.ooo.pop_ready(self.rcv_off) {
                        Some(more) => self.take_in_order(&more),
                        None => break,
                    }
                }
                if self.ooo.fin() == Some(self.rcv_off) {
                    fin_now = true;
                }
                self.dirty = true;
                if self.ooo.segments() == 0 {
                    // No hole left: the loss episode, as the receiver sees
                    // it, is over.
                    self.dup_acks_out = 0;
                }
                let linux = self.rcv_clamp != 0;
                let (win, short) = if linux {
                    self.linux_window()
                } else {
                    (0, false)
                };
                if short {
                    // Linux's __tcp_select_window: under half the buffer
                    // free, quick-ACK mode ends.
                    self.quick = 0;
                }
                if linux && self.rcv_mem > self.rcv_cap as u32 {
                    // The queue overfills the buffer (Linux's
                    // tcp_try_rmem_schedule fails, ICSK_ACK_NOW): ACK at
                    // once, with the window it leaves.
                    self.ack_now = true;
                } else if had_holes || ctx.cfg.delayed_ack.is_zero() {
                    // RFC 5681 §4.2: ACK at once when a hole is filled.
                    self.ack_now = true;
                } else if self.quick > 0 {
                    // Quick-ACK at the start of a connection (Linux), so a
                    // sender in slow start is not slowed by delayed ACKs.
                    self.quick -= 1;
                    self.ack_now = true;
                } else if linux {
                    // Linux's __tcp_ack_snd_check: more than a segment
                    // unacknowledged, and a window no smaller than the one
                    // last offered.
                    let offered = self.rcv_adv.diff(self.last_ack_sent).max(0) as u32;
                    if self.unacked_bytes > usize::from(self.rcv_mss_seen) && win >= offered {
                        self.ack_now = true;
                    } else if self.timer(TimerKind::DelayedAck).is_none() {
                        let d = ctx.cfg.delayed_ack;
                        self.arm(ctx, TimerKind::DelayedAck, ctx.now + d);
                    }
                } else if self.unacked_bytes >= 2 * self.rcv_mss() {
                    // At least every second full-sized segment.
                    self.ack_now = true;
                } else if self.timer(TimerKind::DelayedAck).is_none() {
                    let d = ctx.cfg.delayed_ack;
                    self.arm(ctx, TimerKind::DelayedAck, ctx.now + d);
                }
            } else {
                // Out of order: keep it (bounded) and send a duplicate ACK
                // at once (RFC 5681 §4.2).
                let off = self.rcv_off + (seg.seq - self.rcv_nxt) as u64;
                match self.ooo.insert(off, &seg.payload, ctx.cfg.ooo_max_segments) {
                    Insert::Full => ctx.event(
                        Some(&self.name),
                        Body::Limit {
                            what: LimitKind::OooQueue,
                            limit: ctx.cfg.ooo_max_segments as u64,
                            detail: Some("out-of-order segment not kept".into()),
                        },
                    ),
                    Insert::Stored | Insert::Duplicate => {
                        if seg.flags.fin() {
                            self.ooo.set_fin(off + seg.payload.len() as u64);
                        }
                    }
                }
                self.ack_now = true;
                self.dup_ack_now = true;
                // One per wire segment: an aggregate (receive offload,
                // docs/live.md, The link) stands for that many, each of which
                // would have drawn its own duplicate ACK.
                let wire = seg.payload.len().div_ceil(self.rcv_mss().max(1)).max(1);
                self.dup_acks_out += wire as u32;
                self.last_dup_ack_out = ctx.now;
            }
        } else if seg.flags.fin() && seg.seq != self.rcv_nxt && text_ok {
            // A bare FIN beyond a hole.
            let off = self.rcv_off + (seg.seq - self.rcv_nxt) as u64;
            self.ooo.set_fin(off);
            self.ack_now = true;
            self.dup_ack_now = true;
        }
        if seg.flags.fin() && seg.seq + seg.payload.len() == self.rcv_nxt {
            fin_now = true;
        }
        if fin_now && self.rcv_clamp != 0 && self.rcv_mem > self.rcv_cap as u32 {
            // A FIN that finds the buffer overfilled is ACKed at once, as
            // its data would be (Linux's tcp_data_queue, queue_and_out).
            self.ack_now = true;
        }
        if fin_now && !self.fin_received {
            self.on_fin(ctx);
        }
    }

    /// Add [a, b) to the D-SACK block to report: the first duplicate
    /// sets it, a later one joins it only when the two touch or overlap
    /// (Linux's tcp_dsack_extend and tcp_sack_extend).
    fn dsack_extend(&mut self, a: SeqNum, b: SeqNum) {
        match &mut self.dsack {
            None => self.dsack = Some((a, b)),
            Some((l, r)) => {
                if a <= *r && *l <= b {
                    *l = (*l).min(a);
                    *r = (*r).max(b);
                }
            }
        }
    }

    /// Quick-ACK mode for up to `max` more segments: as many as half the
    /// receive window holds, at least two (Linux's tcp_incr_quickack).
    /// `max` 0 (the RFC profile) leaves delayed ACKs alone.
    pub(super) fn quickack_more(&mut self, max: u32) {
        if max == 0 {
            return;
        }
        let half = (self.rcv_wnd() as usize / (2 * self.rcv_mss().max(1))) as u32;
        self.quick = self.quick.max(half.max(2).min(max));
    }

    /// The MSS the peer uses towards us, for the delayed-ACK rule.
    pub(super) fn rcv_mss(&self) -> usize {
        let ts = if self.ts_enabled { 12 } else { 0 };
        (self.our_mss as usize).saturating_sub(ts)
    }

    pub(super) fn take_in_order(&mut self, data: &[u8]) {
        let n = data.len();
        self.rcv_nxt += n;
        self.rcv_off += n as u64;
        self.bytes_in += n as u64;
        self.unacked_bytes += n;
        if !self.orphan {
            self.rcv_buf.extend(data);
            self.rcv_mem = self.rcv_mem.saturating_add(n as u32 + SKB_OVERHEAD);
        }
    }

    /// Eighth step: FIN.
    pub(super) fn on_fin(&mut self, ctx: &mut Ctx) {
        if matches!(self.state, State::Closed | State::Listen | State::SynSent) {
            return;
        }
        self.fin_received = true;
        // The FIN occupies a sequence number but no buffer space: move the
        // window's right edge with it so the advertised window keeps its size.
        if self.rcv_adv >= self.rcv_nxt {
            self.rcv_adv += 1usize;
        }
        self.rcv_nxt += 1usize;
        self.ooo.clear();
        if ctx.cfg.sack_reset_on_fin {
            // Linux's tcp_fin resets the SACK state (tcp_sack_reset): a
            // D-SACK for data the FIN's segment repeated is not reported.
            self.dsack = None;
        }
        let delay = ctx.cfg.delay_fin_ack
            && matches!(self.state, State::SynReceived | State::Established)
            && self.bytes_in > 0
            && !self.ack_now
            && self.unacked_bytes <= self.rcv_mss();
        if delay {
            // Linux (tcp_fin, __tcp_ack_snd_check): the application is
            // expected to answer with its FIN, which will carry the ACK; the
            // ACK goes at once only if more than a segment of data waits
            // for one, or something else asked for it. Before any data the
            // delayed-ACK timeout (ato) is still zero and the ACK leaves at
            // once (tcp_send_delayed_ack).
            if self.timer(TimerKind::DelayedAck).is_none() {
                let d = ctx.cfg.delayed_ack;
                self.arm(ctx, TimerKind::DelayedAck, ctx.now + d);
            }
        } else {
            self.ack_now = true;
        }
        self.dirty = true;
        match self.state {
            State::SynReceived | State::Established => {
                self.set_state(
                    ctx,
                    State::CloseWait,
                    if delay {
                        "FIN received: the peer has no more data (half-close); its ACK is delayed, for our FIN to carry"
                            .into()
                    } else {
                        "FIN received: the peer has no more data (half-close); it is acknowledged"
                            .into()
                    },
                );
            }
            State::FinWait1 => {
                if self.fin_acked() {
                    self.enter_time_wait(ctx, "FIN received, our FIN already acknowledged".into());
                } else {
                    self.set_state(
                        ctx,
                        State::Closing,
                        "FIN received before the ACK of ours (simultaneous close)".into(),
                    );
                }
            }
            State::FinWait2 => {
                self.enter_time_wait(ctx, "FIN received in FIN-WAIT-2; ACK sent".into());
            }
            _ => {}
        }
    }

    pub(super) fn enter_time_wait(&mut self, ctx: &mut Ctx, cause: String) {
        for k in [
            TimerKind::Retransmit,
            TimerKind::Persist,
            TimerKind::Keepalive,
            TimerKind::DelayedAck,
            TimerKind::FinWait2,
            TimerKind::Connect,
        ] {
            self.cancel(ctx, k);
        }
        let msl = ctx.cfg.msl;
        self.set_state(
            ctx,
            State::TimeWait,
            format!("{cause}; waiting 2 MSL = {} s", (msl * 2).as_secs_f64()),
        );
        self.close_reason = Some(CloseReason::Normal);
        self.arm(ctx, TimerKind::TimeWait, ctx.now + msl * 2);
    }

    pub(super) fn arm_fin_wait_2(&mut self, ctx: &mut Ctx) {
        if let Some(d) = ctx.cfg.fin_wait_2_timeout {
            self.arm(ctx, TimerKind::FinWait2, ctx.now + d);
        }
    }

    /// RFC 1122 §4.2.3.6: every segment from the peer restarts idling.
    pub(super) fn restart_keepalive(&mut self, ctx: &mut Ctx) {
        let Some(ka) = self.keepalive else {
            return;
        };
        if !matches!(
            self.state,
            State::Established | State::CloseWait | State::FinWait2
        ) {
            return;
        }
        if self.ka_probes > 0 {
            ctx.event(
                Some(&self.name),
                Body::Keepalive(KeepaliveEvent {
                    action: KeepaliveAction::Answered,
                    probe: self.ka_probes,
                    of: ka.count,
                    idle: None,
                    interval: None,
                }),
            );
            self.ka_probes = 0;
        }
        self.arm(ctx, TimerKind::Keepalive, self.last_rcv + ka.idle);
    }

    /// Called by the engine after a segment was processed.
    pub(crate) fn after_segment(&mut self, ctx: &mut Ctx) {
        if self.state != State::Closed && self.state != State::Listen {
            self.restart_keepalive(ctx);
        }
    }
}
