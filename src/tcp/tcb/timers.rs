//! Timeouts (RFC 9293 §3.10.8) and the timers that drive them: the
//! retransmission timer (RFC 6298), delayed ACK, persist, keepalive (RFC
//! 1122 §4.2.3.6), TIME-WAIT, and RACK-TLP's (RFC 8985).

use super::*;

impl Tcb {
    // ----- timers ------------------------------------------------------------

    pub(crate) fn on_timers(&mut self, ctx: &mut Ctx) {
        for kind in TimerKind::ALL {
            if self.state == State::Closed {
                return;
            }
            let Some(d) = self.timers[idx(kind)] else {
                continue;
            };
            if d > ctx.now {
                continue;
            }
            if kind == TimerKind::Retransmit && self.probe_due_in_place_of_rto(ctx) {
                // The probe was scheduled in the timer's place: it goes
                // first and starts the timer over (below, in this pass).
                continue;
            }
            self.timers[idx(kind)] = None;
            ctx.event(
                Some(&self.name),
                Body::Timer(TimerEvent {
                    timer: kind,
                    action: TimerAction::Fired,
                    deadline: None,
                    backoff: None,
                }),
            );
            match kind {
                TimerKind::Retransmit => self.on_rto(ctx),
                TimerKind::Tlp => self.on_tlp(ctx),
                TimerKind::Reorder => self.on_reorder_timer(ctx),
                TimerKind::DelayedAck => {
                    self.ack_now = true;
                }
                TimerKind::Persist => self.on_persist(ctx),
                TimerKind::Keepalive => self.on_keepalive(ctx),
                TimerKind::TimeWait => {
                    self.set_state(
                        ctx,
                        State::Closed,
                        "2 MSL elapsed: TIME-WAIT over, TCB deleted".into(),
                    );
                }
                TimerKind::FinWait2 => {
                    self.abort(
                        ctx,
                        AbortReason::FinWait2Timeout,
                        true,
                        "no FIN from the peer within the FIN-WAIT-2 timeout".into(),
                    );
                }
                TimerKind::Connect => {
                    self.abort(
                        ctx,
                        AbortReason::ConnectTimeout,
                        false,
                        "connect timeout: no answer to our SYN".into(),
                    );
                }
            }
        }
        if self.state != State::Closed {
            self.output(ctx);
        }
    }

    /// The tail loss probe is due now, at the retransmission timer's
    /// deadline, and may go (`Config::tlp_in_place_of_rto`).
    fn probe_due_in_place_of_rto(&self, ctx: &Ctx) -> bool {
        ctx.cfg.tlp_in_place_of_rto
            && self.timer(TimerKind::Tlp).is_some_and(|t| t <= ctx.now)
            && self.rec.tlp_allowed(self.sack_enabled)
    }

    /// RFC 6298 §5.4–5.6 and RFC 5681 §3.1.
    pub(super) fn on_rto(&mut self, ctx: &mut Ctx) {
        self.retries += 1;
        let handshake = matches!(self.state, State::SynSent | State::SynReceived);
        let limit = if handshake {
            ctx.cfg.syn_retries
        } else {
            ctx.cfg.data_retries
        };
        if !handshake && let Some(ut) = self.user_timeout {
            // RFC 5482 §2 (RFC 9293 §3.10.8, USER TIMEOUT): the time since
            // the first retransmission decides, not the count, once one
            // was sent by this timer (Linux's tcp_write_timeout with
            // icsk_user_timeout). The TCB goes without a RST, as Linux's
            // tcp_write_err.
            if self.retries > 1 && self.rtx_stamp.is_some_and(|t| ctx.now - t >= ut) {
                self.abort(
                    ctx,
                    AbortReason::RetransmitTimeout,
                    false,
                    format!(
                        "user timeout: data unacknowledged {} s after its first retransmission (RFC 5482)",
                        ut.as_secs_f64()
                    ),
                );
                self.close_reason = Some(CloseReason::TimedOut("user timeout"));
                return;
            }
        } else if self.retries > limit {
            let what = if handshake { "SYN" } else { "data" };
            self.abort(
                ctx,
                AbortReason::RetransmitTimeout,
                !handshake,
                format!("{what} retransmitted {limit} times without an answer"),
            );
            return;
        }
        self.rtt.back_off();
        self.rtt_probe = None;
        if handshake {
            self.send_syn(ctx, true);
            return;
        }
        // Everything outstanding may now be sent again; the loss state
        // marks all of it lost but what the peer SACKed (RFC 6675 §5.1).
        self.rtx_high = self.rtx_high.max(self.snd_max);
        let flight = self.flight();
        self.rec.on_rto(ctx, &self.name, flight, self.snd_max);
        for k in [TimerKind::Tlp, TimerKind::Reorder] {
            self.cancel(ctx, k);
        }
        // Resend from SND.UNA as the (now one-segment) window allows.
        self.output_data(ctx, false);
        let mut rto = self.rtt.rto();
        if let (Some(ut), Some(t)) = (self.user_timeout, self.rtx_stamp) {
            // The next timeout comes no later than the user timeout
            // (Linux's tcp_clamp_rto_to_user_timeout; 1 ms once passed).
            let left = (t + ut).saturating_sub(ctx.now);
            rto = rto.min(left.max(Duration::from_millis(1)));
        }
        self.arm(ctx, TimerKind::Retransmit, ctx.now + rto);
    }

    /// RFC 9293 §3.8.6.1: probe a zero window, or send what SWS avoidance
    /// held back (RFC 1122 §4.2.3.4 override timer).
    pub(super) fn on_persist(&mut self, ctx: &mut Ctx) {
        if self.snd_wnd == 0 && ctx.cfg.zero_window_probe_empty {
            // Linux: a segment the peer has seen (SND.UNA − 1, no data)
            // draws an ACK with its current window (tcp_xmit_probe_skb).
            self.send(ctx, Flags::ACK, self.snd_una - 1usize, Vec::new(), None);
        } else if self.snd_wnd == 0 {
            let off = self.snd_nxt.diff(self.snd_buf_seq).max(0) as usize;
            if let Some(&byte) = self.snd_buf.get(off) {
                // One byte of new data beyond the window; the same byte
                // again on later probes is a retransmission.
                let again = self.probe_sent.then_some(RtxCause::Persist);
                self.send(ctx, Flags::ACK, self.snd_nxt, vec![byte], again);
                self.probe_out = true;
                self.probe_sent = true;
            }
        } else {
            self.output_data(ctx, true);
        }
        if self.snd_wnd == 0 || self.flight() == 0 {
            self.persist_backoff += 1;
            let d = self.persist_interval(ctx.cfg.persist_max);
            self.arm(ctx, TimerKind::Persist, ctx.now + d);
        }
    }

    /// RFC 1122 §4.2.3.6.
    pub(super) fn on_keepalive(&mut self, ctx: &mut Ctx) {
        let Some(ka) = self.keepalive else {
            return;
        };
        if self.flight() > 0 || !self.snd_buf.is_empty() {
            // Not idle: data is moving or waiting; retransmission and
            // persist cover it. Look again after another idle period.
            self.arm(ctx, TimerKind::Keepalive, ctx.now + ka.idle);
            return;
        }
        // With a user timeout, the time since the peer was last heard
        // decides, once a probe went unanswered (RFC 5482 §2, Linux's
        // tcp_keepalive_timer); else the count (RFC 1122 §4.2.3.6).
        let dead = match self.user_timeout {
            Some(ut) => self.ka_probes > 0 && ctx.now - self.last_rcv >= ut,
            None => self.ka_probes >= ka.count,
        };
        if dead {
            ctx.event(
                Some(&self.name),
                Body::Keepalive(KeepaliveEvent {
                    action: KeepaliveAction::Dead,
                    probe: self.ka_probes,
                    of: ka.count,
                    idle: None,
                    interval: None,
                }),
            );
            self.abort(
                ctx,
                AbortReason::KeepaliveTimeout,
                true,
                format!("{} keepalive probes unanswered: the peer is dead", ka.count),
            );
            return;
        }
        self.ka_probes += 1;
        // The probe: SEG.SEQ = SND.NXT - 1, zero or one byte of garbage.
        let payload = if ctx.cfg.keepalive_garbage {
            vec![0]
        } else {
            Vec::new()
        };
        self.send(ctx, Flags::ACK, self.snd_nxt - 1usize, payload, None);
        ctx.event(
            Some(&self.name),
            Body::Keepalive(KeepaliveEvent {
                action: KeepaliveAction::ProbeSent,
                probe: self.ka_probes,
                of: ka.count,
                idle: None,
                interval: None,
            }),
        );
        self.arm(ctx, TimerKind::Keepalive, ctx.now + ka.interval);
    }
}
