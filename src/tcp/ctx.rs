//! What a TCB needs from the engine while it processes one input: the time,
//! the configuration, and the queues its segments and events go to.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::event::{Body, Dir, Event, Gro, RtxCause, SegFields, SegmentEvent};
use crate::seq::SeqNum;
use crate::tcp::config::Config;
use crate::time::Instant;
use crate::wire::{Flags, Segment, TcpOptions};

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
    /// A TSO packet (`Config::aggregate_out`): the wire segments it
    /// stands for.
    pub gso: Option<Gro>,
}

/// The run `Ctx::transmit` is joining into the packet at the back of the
/// transmit queue (`Config::aggregate_out`): what a segment must share
/// with it to join.
#[derive(Clone, Debug)]
pub(crate) struct OpenRun {
    /// The id of its packet and of its `segment out` event.
    id: u64,
    src: SocketAddr,
    dst: SocketAddr,
    next_seq: SeqNum,
    ack: SeqNum,
    window: u16,
    options: TcpOptions,
    /// The payload of each wire segment but the last (`gso_size`).
    size: usize,
    segs: u32,
}

/// How many events back `Ctx::transmit` looks for the run's event (those
/// in between are the timers and variables its first segment moved).
const RUN_EVENT_REACH: usize = 8;

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
    pub events: &'a mut Vec<Event>,
    pub tx: &'a mut VecDeque<Transmit>,
    pub next_id: &'a mut u64,
    pub id_step: u64,
    /// The run being joined, if any (`Config::aggregate_out`).
    pub(crate) run: &'a mut Option<OpenRun>,
    /// `Engine::flush` is running: a corked engine sends now.
    pub flushing: bool,
    /// Processing an arriving segment (what a cork may hold).
    pub arrival: bool,
    /// The arriving packet is an aggregate of segments of this size (its
    /// GSO size): what the receiver measures as the peer's MSS (Linux's
    /// tcp_measure_rcv_mss reads gso_size first); 0 when it is one segment.
    pub gso_size: u32,
    /// Byte buffers to build payloads and packets in.
    pub pool: &'a mut Pool,
}

/// Byte buffers used before, kept for the next payload or packet: the hot
/// path allocates nothing per segment once the first few have come back
/// (docs/benchmarks.md, What stands in the way). Links hand sent packets
/// back with `Engine::recycle`, the receive path its parsed payloads.
#[derive(Debug, Default)]
pub struct Pool {
    free: Vec<Vec<u8>>,
    /// The capacity of the buffers in `free`, in bytes.
    held: usize,
}

impl Pool {
    /// How many bytes of buffers it keeps: enough for a window of packets
    /// in flight on the in-memory wire (a 1 MiB window is some 750
    /// packets), and a bound on what an engine holds once traffic stops.
    const KEEP_BYTES: usize = 4 << 20;

    /// Every buffer holds at least a full-sized Ethernet packet, so one that
    /// held an ACK can hold data next without growing.
    const MIN_CAPACITY: usize = 2048;

    /// An empty buffer, used before when one is there.
    pub fn take(&mut self) -> Vec<u8> {
        match self.free.pop() {
            Some(buf) => {
                self.held -= buf.capacity();
                buf
            }
            None => Vec::with_capacity(Self::MIN_CAPACITY),
        }
    }

    /// Keep `buf` for later, emptied; dropped when the pool is full.
    pub fn put(&mut self, mut buf: Vec<u8>) {
        let cap = buf.capacity();
        if cap > 0 && self.held + cap <= Self::KEEP_BYTES {
            buf.clear();
            self.held += cap;
            self.free.push(buf);
        }
    }
}

impl Ctx<'_> {
    pub fn event(&mut self, conn: Option<&Arc<str>>, body: Body) {
        self.events.push(Event {
            t: self.now.secs_f64(),
            host: Some(self.host.clone()),
            conn: conn.cloned(),
            body,
        });
    }

    /// Emit the segment: a `segment out` event, then the packet.
    pub fn transmit(&mut self, conn: &Arc<str>, seg: &Segment, rtx: Option<RtxCause>, probe: bool) {
        let plain = rtx.is_none() && !probe && seg.urgent == 0 && !seg.payload.is_empty();
        if plain && self.join_run(seg) {
            return;
        }
        *self.run = None;
        let id = *self.next_id;
        *self.next_id += self.id_step;
        let partial = self.cfg.checksum_offload;
        let mut packet = self.pool.take();
        if partial {
            seg.emit_partial_into(&mut packet);
        } else {
            seg.emit_into(&mut packet);
        }
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
            gso: None,
        });
        if plain
            && seg.flags == Flags::ACK
            && partial
            && self.cfg.aggregate_out
            && !self.cfg.hex_in_events
            && self.id_step == 2
        {
            *self.run = Some(OpenRun {
                id,
                src: seg.src,
                dst: seg.dst,
                next_seq: seg.seq + seg.payload.len() as u32,
                ack: seg.ack,
                window: seg.window,
                options: seg.options.clone(),
                size: seg.payload.len(),
                segs: 1,
            });
        }
    }

    /// Add `seg` to the open run if it continues it (the next sequence
    /// number, the same header otherwise, no more payload than the run's
    /// segments, no flag but ACK and PSH); a PSH or a short segment ends
    /// the run. The ids count on as `SegmentEvent::wire_segments` derives
    /// them, so a run cut back into wire segments reads as if never joined.
    fn join_run(&mut self, seg: &Segment) -> bool {
        let Some(run) = self.run.as_mut() else {
            return false;
        };
        let psh = seg.flags == (Flags::ACK | Flags::PSH);
        let joins = (seg.flags == Flags::ACK || psh)
            && seg.src == run.src
            && seg.dst == run.dst
            && seg.seq == run.next_seq
            && seg.ack == run.ack
            && seg.window == run.window
            && seg.payload.len() <= run.size
            && seg.options == run.options
            && *self.next_id == run.id + 2 * u64::from(run.segs);
        if !joins {
            return false;
        }
        let Some(tx) = self.tx.back_mut().filter(|t| t.id == run.id) else {
            return false;
        };
        let Some(ev) =
            self.events
                .iter_mut()
                .rev()
                .take(RUN_EVENT_REACH)
                .find_map(|e| match &mut e.body {
                    Body::Segment(s) if s.dir == Dir::Out && s.seg.id == run.id => Some(s),
                    _ => None,
                })
        else {
            return false;
        };
        if !crate::gso::grow(&mut tx.packet, &seg.payload, psh) {
            return false;
        }
        let len = seg.payload.len();
        *self.next_id += self.id_step;
        run.segs += 1;
        run.next_seq = run.next_seq + len as u32;
        let gro = Gro {
            segs: run.segs,
            size: run.size as u32,
        };
        tx.payload_len += len;
        tx.gso = Some(gro);
        ev.seg.len += len as u32;
        ev.gro = Some(gro);
        if psh {
            tx.flags = tx.flags | Flags::PSH;
            ev.seg.flags = ev.seg.flags | Flags::PSH;
        }
        if psh || len < run.size {
            *self.run = None;
        }
        true
    }
}

/// `LOCALIP:PORT<->REMOTEIP:PORT`, the schema's connection name; an IPv6
/// address is in brackets (`[fd77::2]:80<->[fd77::1]:45678`, RFC 5952 §6).
pub fn conn_name(local: SocketAddr, remote: SocketAddr) -> Arc<str> {
    format!("{local}<->{remote}").into()
}
