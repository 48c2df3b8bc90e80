//! Sending (RFC 9293 §3.8: data communication): building segments and
//! what goes out when (the send window, Nagle, TSO runs, retransmissions,
//! ACKs, probes).

use super::*;

impl Tcb {
    // ----- building segments --------------------------------------------

    /// Send one segment from this connection. ACK is set in every state
    /// after SYN-SENT (RFC 9293 §3.10.7.4: "ACK ... always sent"). `rtx`
    /// says why, for a retransmission.
    pub(super) fn send(
        &mut self,
        ctx: &mut Ctx,
        flags: Flags,
        seq: SeqNum,
        payload: Vec<u8>,
        rtx: Option<RtxCause>,
    ) {
        self.send_probe(ctx, flags, seq, payload, rtx, false);
    }

    /// `send`, marking a tail loss probe as such.
    pub(super) fn send_probe(
        &mut self,
        ctx: &mut Ctx,
        flags: Flags,
        seq: SeqNum,
        payload: Vec<u8>,
        rtx: Option<RtxCause>,
        probe: bool,
    ) {
        let retransmit = rtx.is_some();
        let syn = flags.syn();
        let with_ack = flags.ack();
        let window = if flags.rst() {
            0
        } else {
            self.window_field(syn)
        };
        // A RST in answer to a segment carries no options; the RST+ACK that
        // ends a connection of ours is sent as Linux's tcp_send_active_reset
        // sends it, through the normal path, with the timestamp option.
        let options = if flags.rst() && !flags.ack() {
            TcpOptions::default()
        } else {
            self.options_for(ctx.now, syn)
        };
        let seg = Segment {
            src: self.local,
            dst: self.remote,
            seq,
            ack: if with_ack { self.rcv_nxt } else { SeqNum(0) },
            flags,
            window,
            urgent: 0,
            options,
            payload,
        };
        if with_ack {
            // Any segment with ACK acknowledges everything received so far.
            self.last_ack_sent = self.rcv_nxt;
            self.ack_now = false;
            self.unacked_bytes = 0;
            self.cancel(ctx, TimerKind::DelayedAck);
        }
        if retransmit {
            self.retransmits += 1;
            if self.rtx_stamp.is_none() && !matches!(rtx, Some(RtxCause::Syn | RtxCause::Tlp)) {
                // The user timeout counts from the first resend since
                // the last progress (Linux's retrans_stamp, set in
                // tcp_retransmit_skb, which a loss probe does not call).
                self.rtx_stamp = Some(ctx.now);
            }
            if !matches!(rtx, Some(RtxCause::Rto | RtxCause::Syn | RtxCause::Persist)) {
                self.fast_rtx += 1;
            }
            self.last_rtx_ts = Some(self.ts_now(ctx.now));
            let end = seq + seg.seg_len();
            self.rtx_high = self.rtx_high.max(end);
        }
        if !seg.payload.is_empty() || flags.fin() {
            self.last_send = Some(ctx.now);
        }
        self.bytes_out += seg.payload.len() as u64;
        ctx.transmit(&self.name, &seg, rtx, probe);
        ctx.pool.put(seg.payload);
    }

    /// SYN (SYN-SENT) or SYN+ACK (SYN-RECEIVED), first time or again.
    pub(super) fn send_syn(&mut self, ctx: &mut Ctx, retransmit: bool) {
        let flags = if self.state == State::SynSent {
            Flags::SYN
        } else {
            Flags::SYN | Flags::ACK
        };
        if retransmit {
            self.syn_rtx += 1;
        }
        self.send(
            ctx,
            flags,
            self.iss,
            Vec::new(),
            retransmit.then_some(RtxCause::Syn),
        );
        self.snd_nxt = self.iss + 1usize;
        self.snd_max = self.snd_max.max(self.snd_nxt);
        if !retransmit {
            self.rtt_probe = Some((self.iss, ctx.now));
        }
        let rto = self.rtt.rto();
        self.arm(ctx, TimerKind::Retransmit, ctx.now + rto);
    }

    /// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
    pub(super) fn send_ack(&mut self, ctx: &mut Ctx) {
        // A pure ACK carries the highest sequence number sent, not SND.NXT:
        // after an RTO rewound SND.NXT (go-back-N) the peer's RCV.NXT may be
        // past it, and a receiver drops a segment that starts before its
        // window without reading the ACK field (RFC 9293 §3.10.7.4, Linux
        // tcp_sequence). BSD tcp_output does the same with snd_max. Persist
        // probes do not advance SND.MAX, so this is SND.NXT there.
        self.send(ctx, Flags::ACK, self.snd_max, Vec::new(), None);
    }

    /// RFC 5961 §7: challenge ACKs share a per-second budget, this
    /// connection's own (see `RateLimit`).
    pub(super) fn send_challenge_ack(&mut self, ctx: &mut Ctx) {
        if self.challenge.allow(ctx.now, ctx.cfg.challenge_ack_limit) {
            self.send_ack(ctx);
        } else {
            ctx.event(
                Some(&self.name),
                Body::Limit {
                    what: LimitKind::ChallengeAck,
                    limit: u64::from(ctx.cfg.challenge_ack_limit),
                    detail: Some("challenge ACK not sent: rate limit".into()),
                },
            );
        }
    }

    pub(super) fn send_rst(&mut self, ctx: &mut Ctx, seq: SeqNum) {
        self.send(ctx, Flags::RST, seq, Vec::new(), None);
    }

    // ----- output ---------------------------------------------------------

    /// Send what the windows, Nagle and SWS avoidance allow, then a pure ACK
    /// if one is owed (RFC 9293 §3.8.6, RFC 1122 §4.2.3.4, RFC 5681 §3).
    pub(crate) fn output(&mut self, ctx: &mut Ctx) {
        // Cork (`Config::cork`): hold an ACK that an arriving segment made
        // due, and everything after it until the flush, so the
        // application's answer carries it. Not held: duplicate ACKs for
        // out-of-order data (RFC 5681 §4.2: one each, at once, or the sender
        // miscounts), and the every-second-full-segment ACK of bulk data
        // (§4.2 again), which clocks the sender.
        let hold = ctx.cfg.cork
            && !ctx.flushing
            && (self.output_pending
                || (ctx.arrival
                    && self.ack_now
                    && !self.dup_ack_now
                    && self.unacked_bytes < 2 * self.rcv_mss()));
        self.dup_ack_now = false;
        if hold {
            self.output_pending = true;
            return;
        }
        let can_send_data = matches!(
            self.state,
            State::Established
                | State::CloseWait
                | State::FinWait1
                | State::Closing
                | State::LastAck
        );
        if can_send_data && !self.probe_out {
            self.output_data(ctx, false);
        }
        if self.ack_now && self.state != State::Closed && self.state != State::SynSent {
            if self.state == State::SynReceived {
                // Nothing but the SYN+ACK can acknowledge in SYN-RECEIVED.
                self.ack_now = false;
            } else {
                self.send_ack(ctx);
            }
        }
    }

    /// Send what the windows allow: first what is marked lost (RFC 6675
    /// NextSeg rule 1, RFC 8985 §6.3), then new data, then RFC 6675's
    /// rescue. The congestion window limits pipe (RFC 6675 §5), the peer's
    /// window limits SND.MAX − SND.UNA. `force`: the persist timer
    /// overrides SWS avoidance and Nagle.
    pub(super) fn output_data(&mut self, ctx: &mut Ctx, force: bool) {
        // Segments of new data sent so far in this run.
        let mut burst = 0usize;
        // The TSO packet being built (`Config::linux_push`): segments in it
        // so far, and how many it may hold.
        let mut pkt_segs = 0usize;
        let mut pkt_quota = 0usize;
        // Linux's tcp_write_xmit runs only with data queued unsent; it
        // ends with whether the peer's window stopped it.
        let had_unsent = self.snd_buf.len() > self.snd_nxt.diff(self.snd_buf_seq).max(0) as usize;
        let mut rwnd_limited = false;
        // The packet a retransmission is part of (`Config::linux_push`):
        // where it ends, if it holds more than one segment.
        let mut rtx_pkt: Option<(SeqNum, Option<SeqNum>)> = None;
        loop {
            let cwnd_room = self.rec.cwnd_room(self.sack_enabled) as usize;
            if cwnd_room > 0
                && !force
                && let Some((start, end, by)) = self.rec.next_lost()
            {
                let start = start.max(self.snd_una);
                let tso_end = match rtx_pkt {
                    Some((from, pkt_end))
                        if start >= from && pkt_end.is_some_and(|e| start < e) =>
                    {
                        pkt_end
                    }
                    _ => {
                        let pkt_end = self.rtx_packet_end(ctx, start, cwnd_room);
                        rtx_pkt = Some((start, pkt_end));
                        pkt_end
                    }
                };
                self.retransmit_range(ctx, start, end, by, false, tso_end);
                continue;
            }
            let flight = self.flight();
            let wnd_room = self.snd_wnd.saturating_sub(flight) as usize;
            let usable = wnd_room.min(cwnd_room);
            let sent_off = self.snd_nxt.diff(self.snd_buf_seq).max(0) as usize;
            let unsent = self.snd_buf.len().saturating_sub(sent_off);
            let fin_pending = self.fin_queued
                && matches!(
                    self.state,
                    State::FinWait1 | State::LastAck | State::Closing
                )
                && self.snd_nxt == self.data_end()
                && self.fin_seq.is_none();
            if unsent == 0 {
                if fin_pending {
                    // A FIN alone (the data already went out).
                    self.send_data(ctx, 0, true, false, false);
                } else if cwnd_room > 0
                    && let Some((start, end)) = self.rec.rescue(self.sack_enabled)
                {
                    self.retransmit_range(ctx, start, end, RtxCause::Rescue, false, None);
                }
                break;
            }
            if flight == 0 && self.rec.state == CaState::Open && !ctx.cfg.linux_cwnd_growth {
                // RFC 5681 §4.1: checked before sending. Linux checks when
                // data is queued and when the window opens instead
                // (`idle_check`).
                self.restart_after_idle(ctx);
            }
            // A full segment is what this one can carry: the MSS less the
            // options it will have (SACK blocks while we hold
            // out-of-order data), or Nagle and SWS avoidance would hold it.
            let full = self.payload_room();
            let len = unsent.min(usable).min(full);
            // The congestion window has room, the peer's has not for the
            // next segment (tcp_snd_wnd_test failing).
            rwnd_limited = cwnd_room > 0 && wnd_room < unsent.min(full);
            if len == 0 {
                break;
            }
            if len < full && !force {
                let all = len == unsent;
                // Nagle (RFC 1122 §4.2.3.4): no small segment while data is
                // unacknowledged, except, as Linux, the last one, with the
                // FIN (nothing can join it; held, it is a tail a probe or
                // the RTO must find). Minshall's variant (Linux) waits
                // only for an earlier small segment's ACK.
                let last_with_fin = ctx.cfg.nagle_sends_fin && fin_pending_after(self, len);
                let waiting = if ctx.cfg.nagle_minshall {
                    self.snd_sml > self.snd_una && self.snd_sml <= self.snd_nxt
                } else {
                    flight > 0
                };
                if self.nagle && waiting && !last_with_fin {
                    break;
                }
                // Sender SWS avoidance: send a small segment only if it is
                // all we have, or at least half the largest window seen.
                if !all && (len as u32) < self.max_snd_wnd / 2 {
                    break;
                }
            }
            let with_fin = fin_pending_after(self, len);
            // Whether another segment follows at once: this one then is not
            // the last of its packet (`Config::linux_push`). The next pass
            // would take what is left by the rules above.
            let more = {
                let unsent = unsent - len;
                let next = unsent.min(usable - len).min(full);
                !force
                    && next > 0
                    && (next == full
                        || (!self.nagle && (next == unsent || next as u32 >= self.max_snd_wnd / 2)))
            };
            if pkt_segs == 0 && ctx.cfg.linux_push {
                pkt_quota = self.tso_quota(ctx);
            }
            pkt_segs += 1;
            // A packet ends where its quota is used up, where nothing follows
            // at once, or at the end of a write (Linux's send queue holds a
            // write's end as the end of an skb, and a packet never spans two).
            let ends = pkt_segs >= pkt_quota
                || !more
                || self.carries_push_mark(self.snd_nxt, self.snd_nxt + len);
            let end_of_packet = ctx.cfg.linux_push && ends && pkt_segs > 1;
            if ends {
                pkt_segs = 0;
            }
            self.send_data(ctx, len, with_fin, false, end_of_packet);
            if ends && ctx.cfg.linux_push {
                self.note_packet_end(self.snd_nxt);
            }
            burst += 1;
            if force {
                break;
            }
        }
        if pkt_segs > 0 && ctx.cfg.linux_push {
            // The run stopped before the packet's planned end: it ends here.
            self.note_packet_end(self.snd_nxt);
        }
        // Whether the window was the limit (Linux's tcp_cwnd_validate): the
        // linux profile grows it only then.
        let packets_out = self.rec.sb.len() as u32;
        let in_flight = self.rec.pipe(self.sack_enabled);
        self.rec.cc.after_transmit(
            self.snd_una,
            self.snd_nxt,
            packets_out,
            in_flight,
            burst > 0,
        );
        if had_unsent && !force {
            if rwnd_limited {
                self.chrono_start(ctx.now, CHRONO_RWND);
            } else {
                self.chrono_stop(ctx.now, CHRONO_RWND);
            }
            // Linux's tcp_cwnd_validate: something went out, the
            // congestion window was not the limit, nothing is left unsent,
            // and the application found the buffer full: the send buffer
            // is what starves the connection.
            let unsent_now =
                self.snd_buf.len() > self.snd_nxt.diff(self.snd_buf_seq).max(0) as usize;
            if burst > 0
                && !self.rec.cc.cwnd_limited()
                && !unsent_now
                && self.chrono.nospace
                && matches!(self.state, State::Established | State::CloseWait)
            {
                self.chrono_start(ctx.now, CHRONO_SNDBUF);
            }
        }
        // Persist (RFC 9293 §3.8.6.1) and the SWS override timer: data is
        // waiting, nothing is in flight, and nothing could be sent.
        let sent_off = self.snd_nxt.diff(self.snd_buf_seq).max(0) as usize;
        let unsent = self.snd_buf.len().saturating_sub(sent_off);
        if unsent > 0 && self.flight() == 0 && self.timer(TimerKind::Retransmit).is_none() {
            if self.timer(TimerKind::Persist).is_none() {
                let d = self.persist_interval(ctx.cfg.persist_max);
                self.arm(ctx, TimerKind::Persist, ctx.now + d);
            }
        } else if self.timer(TimerKind::Persist).is_some() && (unsent == 0 || self.flight() > 0) {
            self.cancel(ctx, TimerKind::Persist);
            self.persist_backoff = 0;
        }
    }

    /// RFC 5681 §4.1: after more than an RTO without sending, the window
    /// starts again from the restart window (`Config::slow_start_after_idle`,
    /// Linux's tcp_slow_start_after_idle). Linux (tcp_cwnd_restart) halves
    /// it once per RTO of idleness instead, down to the initial window, and
    /// keeps ssthresh at least three quarters of the window it had.
    pub(super) fn restart_after_idle(&mut self, ctx: &mut Ctx) {
        if !ctx.cfg.slow_start_after_idle {
            return;
        }
        let Some(last) = self.last_send else {
            return;
        };
        let idle = ctx.now.saturating_sub(last);
        let rto = self.rtt.rto();
        if idle > rto {
            let iw = initial_window(self.rec.smss(), ctx.cfg.initial_cwnd);
            if ctx.cfg.linux_cwnd_growth {
                let cc = &mut self.rec.cc;
                let restart = iw.min(cc.cwnd);
                cc.ssthresh = cc.ssthresh.max(cc.cwnd / 4 * 3);
                let mut cwnd = cc.cwnd;
                let mut left = idle;
                while left > rto && cwnd > restart {
                    left -= rto;
                    cwnd /= 2;
                }
                cc.restart(cwnd.max(restart));
            } else {
                self.rec.cc.restart(iw);
            }
            self.last_send = None;
        }
    }

    /// Linux's tcp_slow_start_after_idle_check, with `linux_cwnd_growth`:
    /// the window restarts after idleness only when the application queues
    /// data (skb_entail) or a window update arrives with data waiting
    /// (tcp_ack_update_window), and only with nothing outstanding
    /// (`outstanding`: Linux's packets_out, before the ACK is taken). It
    /// is not checked on sending, so a window that reopens after zero
    /// window probes (which carry no data and leave the last send time
    /// alone) still finds the window restarted, and a send after such a
    /// restart does not restart it again.
    pub(super) fn idle_check(&mut self, ctx: &mut Ctx, outstanding: bool) {
        if ctx.cfg.linux_cwnd_growth && !outstanding {
            self.restart_after_idle(ctx);
        }
    }

    /// RTO doubled per unanswered probe, capped (RFC 9293 §3.8.6.1 asks
    /// for exponential back-off).
    pub(super) fn persist_interval(&self, max: Duration) -> Duration {
        let mut d = self.rtt.rto();
        for _ in 0..self.persist_backoff {
            d = d.saturating_mul(2).min(max);
        }
        d.min(max)
    }

    /// Segments the next TSO packet may hold, as Linux's tcp_write_xmit
    /// sizes it: what the congestion window has room for, at most half the
    /// window (tcp_cwnd_test: two packets in flight for better scheduling),
    /// and at most what tcp_tso_segs allows (`tso_autosize`).
    fn tso_quota(&self, ctx: &Ctx) -> usize {
        let mss = self.rec.smss().max(1);
        let cwnd = (self.rec.cc.cwnd / mss).max(1);
        let in_flight = self.rec.pipe(self.sack_enabled).div_ceil(mss);
        let room = cwnd.saturating_sub(in_flight).max(1);
        (cwnd / 2).max(1).min(room).min(self.tso_autosize(ctx)) as usize
    }

    /// Linux's tcp_tso_autosize: about a millisecond of the pacing rate
    /// (sk_pacing_shift 10), plus up to 64 KiB on a path of small minimum
    /// RTT (tcp_tso_rtt_log 9: halved per 512 µs), at most 64 KiB, in
    /// segments, at least `Config::min_tso_segs`. The pacing rate is
    /// tcp_update_pacing_rate's: the window per smoothed RTT, doubled in
    /// the first half of slow start, else times 1.2 (tcp_pacing_ss_ratio
    /// 200, tcp_pacing_ca_ratio 120); unknown before an RTT sample.
    fn tso_autosize(&self, ctx: &Ctx) -> u32 {
        const GSO_MAX: u64 = 65536;
        let mss = u64::from(self.rec.smss().max(1));
        let cc = &self.rec.cc;
        let mut bytes = match self.rtt.srtt().map(|d| d.as_micros() as u64) {
            Some(srtt) if srtt > 0 => {
                let ratio = if cc.cwnd < cc.ssthresh / 2 { 200 } else { 120 };
                let pkts = (u64::from(cc.cwnd) / mss).max(self.rec.sb.len() as u64);
                let rate = mss * pkts * ratio * 10_000 / srtt;
                rate >> 10
            }
            _ => GSO_MAX,
        };
        if let Some(min_rtt) = self.rec.rack.min_rtt {
            let r = min_rtt.as_micros() >> 9;
            if r < 32 {
                bytes += GSO_MAX >> r;
            }
        }
        ((bytes.min(GSO_MAX) / mss) as u32).max(ctx.cfg.min_tso_segs)
    }

    /// A packet of new data ended at `end` (`Config::linux_push`): kept in
    /// order, once, for `rtx_packet_end`.
    fn note_packet_end(&mut self, end: SeqNum) {
        match self.pkt_ends.back() {
            Some(&last) if end <= last => {
                if let Err(i) = self.pkt_ends.binary_search(&end) {
                    self.pkt_ends.insert(i, end);
                }
            }
            _ => self.pkt_ends.push_back(end),
        }
    }

    /// Where the retransmission starting at `start` ends, when Linux would
    /// send it as one packet of more than one segment (which then ends with
    /// PSH, as new data's packets do), else `None`. Linux
    /// (tcp_xmit_retransmit_queue, __tcp_retransmit_skb) sends each lost skb
    /// again whole: what went out as one packet, less what the ACKs and
    /// SACK blocks cut off it (tcp_fragment), at most as many segments as
    /// the congestion window has room for and tcp_tso_segs allows; what
    /// is left of it goes as a packet of its own. `cwnd_room`: bytes.
    fn rtx_packet_end(&self, ctx: &Ctx, start: SeqNum, cwnd_room: usize) -> Option<SeqNum> {
        if !ctx.cfg.linux_push {
            return None;
        }
        let mss = self.payload_room();
        // The lost run from `start` (SACKed or in-flight data splits it).
        let mut run_end = start;
        for s in self.rec.sb.iter() {
            if s.end <= start {
                continue;
            }
            if s.start > run_end || s.state != SegState::Lost {
                break;
            }
            run_end = s.end;
        }
        let data_end = self.data_end();
        let next = self.pkt_ends.partition_point(|&e| e <= start);
        let pkt_end = self.pkt_ends.get(next).copied().unwrap_or(data_end);
        let segs = cwnd_room
            .div_ceil(mss)
            .min(self.tso_autosize(ctx) as usize)
            .max(1);
        let end = run_end.min(pkt_end).min(data_end).min(start + segs * mss);
        (end.diff(start) > mss as i32).then_some(end)
    }

    /// A write of the application ends within (start, end].
    fn carries_push_mark(&self, start: SeqNum, end: SeqNum) -> bool {
        self.push_marks.iter().any(|&m| m > start && m <= end)
    }

    /// Send `len` new bytes at SND.NXT (and FIN after them when asked).
    /// `end_of_packet`: the last of a run of segments sent at once, which
    /// Linux would send as one TSO packet.
    pub(super) fn send_data(
        &mut self,
        ctx: &mut Ctx,
        len: usize,
        fin: bool,
        probe: bool,
        end_of_packet: bool,
    ) {
        let seq = self.snd_nxt;
        let off = seq.diff(self.snd_buf_seq).max(0) as usize;
        let payload = ring_range(&self.snd_buf, off, len, ctx.pool.take());
        let mut flags = Flags::ACK;
        let push = if ctx.cfg.linux_push {
            // Linux: the end of a write (tcp_push), and the last segment of
            // a GSO packet (__tcp_transmit_skb forces PSH on any packet of
            // more than one segment, and segmentation leaves it on the last).
            end_of_packet || self.carries_push_mark(seq, seq + len)
        } else {
            // RFC 9293 §3.9.1: PSH when the segment empties the send queue.
            off + len == self.snd_buf.len()
        };
        if len > 0 && push {
            flags = flags | Flags::PSH;
        }
        if fin {
            flags = flags | Flags::FIN;
        }
        self.send_probe(ctx, flags, seq, payload, None, probe);
        if len < self.payload_room() {
            self.snd_sml = seq + len + usize::from(fin);
        }
        self.snd_nxt = seq + len + usize::from(fin);
        if fin {
            self.fin_seq = Some(seq + len);
        }
        self.snd_max = self.snd_max.max(self.snd_nxt);
        let tsval = self.ts_now(ctx.now);
        self.rec.on_send(seq, self.snd_nxt, ctx.now, tsval);
        if self.rtt_probe.is_none() && !self.ts_enabled {
            self.rtt_probe = Some((seq, ctx.now));
        }
        if self.timer(TimerKind::Retransmit).is_none() {
            let rto = self.rtt.rto();
            self.arm(ctx, TimerKind::Retransmit, ctx.now + rto);
        }
        if !probe {
            self.schedule_tlp(ctx);
        }
        // Data in flight: the keepalive has nothing to do (RFC 1122
        // §4.2.3.6 probes an idle connection).
    }

    /// Send [start, end) again, as much as one segment holds (the
    /// scoreboard splits the rest off), with the FIN if it is the end.
    pub(super) fn retransmit_range(
        &mut self,
        ctx: &mut Ctx,
        start: SeqNum,
        end: SeqNum,
        by: RtxCause,
        probe: bool,
        tso_end: Option<SeqNum>,
    ) {
        let start = start.max(self.snd_una);
        let data_end = self.data_end();
        let data_left = data_end.diff(start).max(0) as usize;
        let want = end.diff(start).max(0) as usize;
        let len = data_left.min(want).min(self.payload_room());
        let fin = self.fin_seq.is_some_and(|f| f == start + len) && end > start + len;
        if len == 0 && !fin {
            return;
        }
        let off = start.diff(self.snd_buf_seq).max(0) as usize;
        let payload = ring_range(&self.snd_buf, off, len, ctx.pool.take());
        let mut flags = Flags::ACK;
        if fin {
            flags = flags | Flags::FIN;
        }
        if len > 0
            && ctx.cfg.linux_push
            && (self.carries_push_mark(start, start + len)
                || tso_end.is_some_and(|e| start + len >= e))
        {
            // Linux sends the stored segment again, its PSH mark with it,
            // and a packet of more than one segment (`tso_end`: where it
            // ends) gets PSH on its last one (__tcp_transmit_skb).
            flags = flags | Flags::PSH;
        }
        self.send_probe(ctx, flags, start, payload, Some(by), probe);
        let tsval = self.ts_now(ctx.now);
        self.rec
            .on_retransmit(start, start + len + usize::from(fin), ctx.now, tsval);
        // Karn's rule (RFC 6298 §3): no sample from retransmitted data.
        self.rtt_probe = None;
        let head = start == self.snd_una;
        if self.timer(TimerKind::Retransmit).is_none()
            || (head && ctx.cfg.rto_restart_on_head_rtx && by != RtxCause::Rto)
        {
            // RFC 6298 §5.1, and Linux restarts the timer when the head is
            // resent, so a repair in progress is not cut short by it.
            let rto = self.rtt.rto();
            self.timers[idx(TimerKind::Retransmit)] = None;
            self.arm(ctx, TimerKind::Retransmit, ctx.now + rto);
        }
    }

    /// RFC 8985 §7.2: (re)arm the probe timer while nothing is being
    /// recovered, unless the retransmission timer would fire first.
    pub(super) fn schedule_tlp(&mut self, ctx: &mut Ctx) {
        if !self.rec.tlp_allowed(self.sack_enabled) || !self.state.is_synchronized() {
            self.cancel(ctx, TimerKind::Tlp);
            return;
        }
        let one = self.rec.sb.len() == 1;
        let pto = rack::pto(self.rtt.srtt(), one, ctx.cfg.tlp_delack, ctx.cfg.tlp_floor);
        let mut at = ctx.now + pto;
        if let Some(rto) = self.timer(TimerKind::Retransmit)
            && rto <= at
        {
            if !ctx.cfg.tlp_in_place_of_rto {
                self.cancel(ctx, TimerKind::Tlp);
                return;
            }
            // Linux: the probe at the timer's deadline, in its place (with
            // one segment out, 2·SRTT + 200 ms always comes later).
            at = rto;
        }
        self.arm(ctx, TimerKind::Tlp, at);
    }

    /// RFC 8985 §7.3: the probe timer fired. Send one segment of new data
    /// if the peer's window allows, else the last segment again; then the
    /// retransmission timer starts over.
    pub(super) fn on_tlp(&mut self, ctx: &mut Ctx) {
        if !self.rec.tlp_allowed(self.sack_enabled) {
            return;
        }
        let sent_off = self.snd_nxt.diff(self.snd_buf_seq).max(0) as usize;
        let unsent = self.snd_buf.len().saturating_sub(sent_off);
        let wnd_room = self.snd_wnd.saturating_sub(self.flight()) as usize;
        let start = self.snd_nxt;
        if unsent > 0 && wnd_room > 0 {
            let len = unsent.min(wnd_room).min(self.payload_room());
            let fin = fin_pending_after(self, len);
            self.send_data(ctx, len, fin, true, false);
            let end = self.snd_nxt;
            self.rec.on_probe(ctx, &self.name, end, false, (start, end));
        } else if let Some(s) = self.rec.sb.last_unsacked() {
            let (a, b) = (s.start, s.end);
            self.retransmit_range(ctx, a, b, RtxCause::Tlp, true, None);
            let end = self.snd_nxt;
            self.rec.on_probe(ctx, &self.name, end, true, (a, b));
        } else {
            return;
        }
        // The timer starts over from the probe (unless resending the first
        // segment already did that).
        let rto = self.rtt.rto();
        self.arm(ctx, TimerKind::Retransmit, ctx.now + rto);
    }

    /// RACK's reordering timer fired (RFC 8985 §6.3).
    pub(super) fn on_reorder_timer(&mut self, ctx: &mut Ctx) {
        let flight = self.flight();
        let srtt = self.rtt.srtt();
        self.rec
            .on_reo_timeout(ctx, &self.name, ctx.now, srtt, flight);
        self.sync_recovery_timers(ctx);
        self.output_data(ctx, false);
    }

    /// Arm or cancel the reordering timer as RACK asks.
    pub(super) fn sync_recovery_timers(&mut self, ctx: &mut Ctx) {
        match self.rec.reo_deadline {
            Some(at) => self.arm(ctx, TimerKind::Reorder, at),
            None => self.cancel(ctx, TimerKind::Reorder),
        }
    }
}
