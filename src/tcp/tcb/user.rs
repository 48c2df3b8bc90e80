//! The user calls (RFC 9293 §3.10.1 – §3.10.6): OPEN, SEND, RECEIVE,
//! CLOSE, ABORT, and the socket options a user sets on a connection.

use super::*;

impl Tcb {
    // ----- user calls (RFC 9293 §3.10.2 – §3.10.5) ----------------------

    /// SEND: queue what fits in the send buffer; returns the bytes taken.
    pub(crate) fn user_send(&mut self, ctx: &mut Ctx, data: &[u8]) -> usize {
        let n = data.len().min(self.send_space());
        self.snd_buf.extend(&data[..n]);
        // The application found the buffer full (Linux's SOCK_NOSPACE).
        self.chrono.nospace |= n < data.len();
        if n > 0 {
            // Data to send: busy (tcp_add_write_queue_tail starts it).
            self.chrono_start(ctx.now, CHRONO_BUSY);
            // Linux marks the tail of every write for PSH (tcp.c tcp_push);
            // a write appends to the last segment still unsent, so that
            // segment's mark moves to the new end.
            if self.push_marks.back().is_some_and(|&m| m > self.snd_nxt) {
                self.push_marks.pop_back();
            }
            self.push_marks.push_back(self.data_end());
        }
        if self.state == State::Listen && self.passive_open {
            // RFC 9293 §3.10.2 SEND in LISTEN with the remote specified:
            // "change the connection from passive to active", SYN, and the
            // data waits for ESTABLISHED.
            self.passive_open = false;
            self.set_state(
                ctx,
                State::SynSent,
                "SEND on a passive open whose remote is known: the connection turns active, SYN sent"
                    .into(),
            );
            self.send_syn(ctx, false);
            return n;
        }
        if n > 0 {
            let outstanding = self.snd_max > self.snd_una;
            self.idle_check(ctx, outstanding);
            self.output(ctx);
        }
        n
    }

    /// RECEIVE: take up to `buf.len()` bytes; opening the window may be
    /// worth a window update.
    pub(crate) fn user_recv(&mut self, ctx: &mut Ctx, buf: &mut [u8]) -> usize {
        let before = self.rcv_wnd();
        let n = buf.len().min(self.rcv_buf.len());
        copy_out(&self.rcv_buf, 0, &mut buf[..n]);
        self.rcv_buf.drain(..n);
        // A drained queue holds no memory; a partial read frees its bytes
        // (Linux frees an skb once read whole: close enough).
        self.rcv_mem = if self.rcv_buf.is_empty() {
            0
        } else {
            self.rcv_mem.saturating_sub(n as u32)
        };
        if n > 0 && self.state.is_synchronized() && !self.fin_received {
            // A separate window update only to reopen a window that had
            // really closed: under an eighth of the buffer or two segments,
            // read moves the edge by at least min(RCV.BUFF/2, MSS) (RFC 1122
            // §4.2.3.3) to at least twice what the peer has (as Linux's
            // __tcp_cleanup_rbuf). Otherwise the next ACK carries the new
            // window, so delayed ACK keeps working for a prompt reader, and
            // the SYN's unscaled 64 KiB does not cost an extra ACK.
            let free = self.rcv_space();
            let grow = (self.rcv_nxt + free).diff(self.rcv_adv).max(0) as u32;
            let threshold = (self.rcv_cap as u32 / 2).min(u32::from(self.our_mss));
            let closed = before.saturating_mul(8) <= self.rcv_cap as u32
                || before < 2 * self.rcv_mss() as u32;
            // The window field cannot say more than 64 KiB shifted by our
            // scale: when that is under twice the window already offered,
            // no update can double it (Linux checks the same against its
            // window clamp).
            let most = (self.rcv_cap as u64).min(65535u64 << self.rcv_wscale) as u32;
            let can_double = before.saturating_mul(2) <= most;
            if grow >= threshold && free >= before.saturating_mul(2) && closed && can_double {
                self.ack_now = true;
                self.output(ctx);
            }
        }
        n
    }

    /// CLOSE (RFC 9293 §3.10.4): "I have no more to send". Receiving goes on.
    pub(crate) fn user_close(&mut self, ctx: &mut Ctx) -> Result<(), &'static str> {
        match self.state {
            State::Listen if self.passive_open => {
                self.set_state(
                    ctx,
                    State::Closed,
                    "user CLOSE in LISTEN: TCB deleted".into(),
                );
            }
            State::SynSent => {
                self.set_state(
                    ctx,
                    State::Closed,
                    "user CLOSE before the handshake completed".into(),
                );
                self.close_reason = Some(CloseReason::Aborted);
            }
            State::SynReceived => {
                self.fin_queued = true;
                if self.snd_buf.is_empty() {
                    self.set_state(
                        ctx,
                        State::FinWait1,
                        "user CLOSE in SYN-RECEIVED: FIN sent".into(),
                    );
                    self.output(ctx);
                }
                // Otherwise the FIN follows the data once ESTABLISHED.
            }
            State::Established => {
                self.fin_queued = true;
                self.set_state(
                    ctx,
                    State::FinWait1,
                    "user CLOSE: FIN queued after the data (active close)".into(),
                );
                self.output(ctx);
            }
            State::CloseWait => {
                self.fin_queued = true;
                self.set_state(
                    ctx,
                    State::LastAck,
                    "user CLOSE after the peer's FIN: our FIN sent (passive close)".into(),
                );
                self.output(ctx);
            }
            _ => return Err("connection closing"),
        }
        Ok(())
    }

    /// The application let go of the connection (close(2) on a socket):
    /// CLOSE if not yet done, and from now on the FIN-WAIT-2 timeout applies
    /// and arriving data is discarded.
    pub(crate) fn user_release(&mut self, ctx: &mut Ctx) {
        self.orphan = true;
        if ctx.cfg.rst_on_unread_close
            && !self.rcv_buf.is_empty()
            && matches!(
                self.state,
                State::Established | State::CloseWait | State::FinWait1 | State::FinWait2
            )
        {
            // RFC 1122 §4.2.2.13: data the application will never read was
            // lost; say so with a RST rather than a FIN (Linux's tcp_close).
            self.rcv_buf.clear();
            self.abort(
                ctx,
                AbortReason::User,
                true,
                "close with unread data: RST sent, TCB deleted (RFC 1122 §4.2.2.13)".into(),
            );
            return;
        }
        if matches!(
            self.state,
            State::SynSent | State::SynReceived | State::Established | State::CloseWait
        ) {
            let _ = self.user_close(ctx);
        }
        self.rcv_buf.clear();
        if self.state == State::FinWait2 {
            self.arm_fin_wait_2(ctx);
        }
    }

    /// ABORT (RFC 9293 §3.10.5).
    pub(crate) fn user_abort(&mut self, ctx: &mut Ctx) {
        let send_rst = matches!(
            self.state,
            State::SynReceived
                | State::Established
                | State::FinWait1
                | State::FinWait2
                | State::CloseWait
        );
        self.abort(
            ctx,
            AbortReason::User,
            send_rst,
            "user ABORT: RST sent, TCB deleted".into(),
        );
    }

    pub(crate) fn set_keepalive(&mut self, ctx: &mut Ctx, ka: Option<Keepalive>) {
        self.keepalive = ka;
        self.ka_probes = 0;
        match ka {
            Some(k) => {
                self.keepalive_enabled_event(ctx, k);
                self.restart_keepalive(ctx);
            }
            None => {
                ctx.event(
                    Some(&self.name),
                    Body::Keepalive(KeepaliveEvent {
                        action: KeepaliveAction::Disabled,
                        probe: 0,
                        of: 0,
                        idle: None,
                        interval: None,
                    }),
                );
                self.cancel(ctx, TimerKind::Keepalive);
            }
        }
    }

    pub(super) fn keepalive_enabled_event(&self, ctx: &mut Ctx, k: Keepalive) {
        ctx.event(
            Some(&self.name),
            Body::Keepalive(KeepaliveEvent {
                action: KeepaliveAction::Enabled,
                probe: 0,
                of: k.count,
                idle: Some(k.idle.as_secs_f64()),
                interval: Some(k.interval.as_secs_f64()),
            }),
        );
    }

    /// Close with an abort event; RST <SEQ=SND.NXT> when asked, with
    /// SND.NXT read as the highest sequence number sent (SND.MAX, as the
    /// pure ACKs): the peer's window starts no lower than that.
    pub(crate) fn abort(
        &mut self,
        ctx: &mut Ctx,
        reason: AbortReason,
        send_rst: bool,
        cause: String,
    ) {
        if send_rst {
            // Linux's tcp_send_active_reset sets ACK on the RST it sends to
            // end a connection itself; a RST for data after close answers
            // that segment, without ACK (tcp_v4_send_reset).
            let with_ack = ctx.cfg.rst_ack_on_abort
                && self.state.is_synchronized()
                && matches!(
                    reason,
                    AbortReason::User
                        | AbortReason::KeepaliveTimeout
                        | AbortReason::FinWait2Timeout
                );
            if with_ack {
                self.send(ctx, Flags::RST | Flags::ACK, self.snd_max, Vec::new(), None);
            } else {
                self.send_rst(ctx, self.snd_max);
            }
        }
        self.close_reason = Some(match reason {
            AbortReason::ResetReceived => CloseReason::Reset,
            AbortReason::RetransmitTimeout => CloseReason::TimedOut("retransmission timeout"),
            AbortReason::KeepaliveTimeout => CloseReason::TimedOut("keepalive timeout"),
            AbortReason::ConnectTimeout => CloseReason::TimedOut("connect timeout"),
            AbortReason::FinWait2Timeout => CloseReason::TimedOut("FIN-WAIT-2 timeout"),
            _ => CloseReason::Aborted,
        });
        ctx.event(Some(&self.name), Body::Abort { reason });
        self.set_state(ctx, State::Closed, cause);
    }
}
