//! What a TCB needs from the engine while it processes one input: the time,
//! the configuration, and the queues its segments and events go to.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::event::{Body, Dir, Event, RtxCause, SegFields, SegmentEvent};
use crate::tcp::config::Config;
use crate::time::Instant;
use crate::wire::{Flags, Segment};

/// A packet the engine wants sent, with what the fault injector matches on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// The id its `segment out` event carries.
    pub id: u64,
    /// The IP packet.
    pub packet: Vec<u8>,
    pub flags: Flags,
    pub payload_len: usize,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// The TCP checksum is partial (`Config::checksum_offload`).
    pub partial: bool,
}

/// RFC 5961 §7: a budget of challenge ACKs per second. Each connection has
/// its own: one shared by the whole engine lets an off-path attacker count
/// another connection's challenge ACKs (CVE-2016-5696).
#[derive(Clone, Debug, Default)]
pub struct RateLimit {
    window_start: Instant,
    used: u32,
}

impl RateLimit {
    pub fn allow(&mut self, now: Instant, per_second: u32) -> bool {
        if now - self.window_start >= std::time::Duration::from_secs(1) {
            self.window_start = now;
            self.used = 0;
        }
        if self.used < per_second {
            self.used += 1;
            true
        } else {
            false
        }
    }
}

pub(crate) struct Ctx<'a> {
    pub now: Instant,
    pub cfg: &'a Config,
    pub host: &'a Arc<str>,
    pub events: &'a mut VecDeque<Event>,
    pub tx: &'a mut VecDeque<Transmit>,
    pub next_id: &'a mut u64,
    pub id_step: u64,
    /// `Engine::flush` is running: a corked engine sends now.
    pub flushing: bool,
    /// Processing an arriving segment (what a cork may hold).
    pub arrival: bool,
    /// The arriving packet is an aggregate of segments of this size (its
    /// GSO size): what the receiver measures as the peer's MSS (Linux's
    /// tcp_measure_rcv_mss reads gso_size first); 0 when it is one segment.
    pub gso_size: u32,
}

impl Ctx<'_> {
    pub fn event(&mut self, conn: Option<&Arc<str>>, body: Body) {
        self.events.push_back(Event {
            t: self.now.secs_f64(),
            host: Some(self.host.clone()),
            conn: conn.cloned(),
            body,
        });
    }

    /// Emit the segment: a `segment out` event, then the packet.
    pub fn transmit(&mut self, conn: &Arc<str>, seg: &Segment, rtx: Option<RtxCause>, probe: bool) {
        let id = *self.next_id;
        *self.next_id += self.id_step;
        let partial = self.cfg.checksum_offload;
        let packet = if partial {
            seg.emit_partial()
        } else {
            seg.emit()
        };
        let mut fields = SegFields::from_segment(id, seg);
        if self.cfg.hex_in_events {
            // The dump shows the checksum as it will be on the wire.
            if partial {
                let mut full = packet.clone();
                crate::wire::complete_tcp_checksum(&mut full);
                fields = fields.with_hdr(&full);
            } else {
                fields = fields.with_hdr(&packet);
            }
        }
        self.event(
            Some(conn),
            Body::Segment(SegmentEvent {
                dir: Dir::Out,
                seg: fields,
                retransmit: rtx.is_some(),
                rtx,
                probe,
                dup_ack: None,
                analysis: Vec::new(),
                segs: None,
                gro: None,
            }),
        );
        self.tx.push_back(Transmit {
            id,
            packet,
            flags: seg.flags,
            payload_len: seg.payload.len(),
            src: seg.src,
            dst: seg.dst,
            partial,
        });
    }
}

/// `LOCALIP:PORT<->REMOTEIP:PORT`, the schema's connection name; an IPv6
/// address is in brackets (`[fd77::2]:80<->[fd77::1]:45678`, RFC 5952 §6).
pub fn conn_name(local: SocketAddr, remote: SocketAddr) -> Arc<str> {
    format!("{local}<->{remote}").into()
}
