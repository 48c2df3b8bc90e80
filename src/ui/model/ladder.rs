//! What the ladder diagram of one connection is made of: arrows (segments)
//! and marks on a lifeline (state changes, timer fires, keepalive, notes).

use std::sync::Arc;

use crate::event::{
    AbortReason, DropReason, FaultAction, LimitKind, Opts, RecoveryAction, RecoveryEvent,
    SegFields, TimerKind,
};
use crate::i18n::Messages;
use crate::tcp::State;
use crate::wire::Flags;

use super::conn::TcbInfo;

/// Lifeline index: 0 is the left one (client in demo, the peer live), 1 the
/// right one (server in demo, tcpscope live).
pub type Slot = usize;

pub fn other(s: Slot) -> Slot {
    1 - s
}

/// A segment as the ladder keeps it: the event's fields (the header dump as
/// bytes, so a frame never parses text).
#[derive(Clone, Debug, PartialEq)]
pub struct Seg {
    pub id: u64,
    pub flags: Flags,
    pub seq: u32,
    pub ack: u32,
    pub len: u32,
    pub win: u16,
    pub opts: Opts,
    /// IP and TCP headers and the first payload bytes.
    pub hdr: Option<Box<[u8]>>,
}

impl Seg {
    pub fn from_fields(f: SegFields) -> Seg {
        Seg {
            id: f.id,
            flags: f.flags,
            seq: f.seq,
            ack: f.ack,
            len: f.len,
            win: f.win,
            opts: f.opts,
            hdr: f.hdr.map(|h| h.0),
        }
    }

    /// A segment that carries nothing but an acknowledgment.
    pub fn is_pure_ack(&self) -> bool {
        self.flags == Flags::ACK && self.len == 0
    }

    /// Sequence space the segment occupies: payload plus
    /// [`Flags::seq_len`].
    pub fn seg_len(&self) -> u32 {
        self.len + self.flags.seq_len()
    }
}

/// What became of a segment.
#[derive(Clone, Debug, PartialEq)]
pub enum Fate {
    /// Sent, not (yet) seen at the other end (two-host runs only).
    InFlight,
    /// Seen at the receiver (or, live, simply sent or received).
    Delivered,
    /// Dropped on the way: by the injector or refused by the receiver.
    Dropped {
        reason: DropReason,
        rule: Option<Box<str>>,
        at: f64,
    },
    /// Waiting in the injector until released.
    Held { at: f64 },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arrow {
    pub from: Slot,
    /// When the sender emitted it (`None` when only its arrival was seen).
    pub sent: Option<f64>,
    /// When the receiver took it in.
    pub arrived: Option<f64>,
    pub seg: Seg,
    pub retransmit: bool,
    /// What sent a retransmission (RACK, the probe timer, the RTO, …).
    pub rtx: Option<crate::event::RtxCause>,
    /// A tail loss probe (RFC 8985 §7).
    pub tlp: bool,
    /// The n-th duplicate of the previous pure ACK from the same sender.
    pub dup_ack: Option<u32>,
    /// Keepalive probe number and count.
    pub probe: Option<(u32, u32)>,
    pub fate: Fate,
    /// Injector actions on the way: delay, duplicate, reorder, corrupt.
    pub faults: Vec<FaultAction>,
    /// Extra deliveries (the injector duplicated it).
    pub copies: u32,
    /// A capture's TCP analysis of it (Wireshark's names).
    pub analysis: Vec<crate::event::Analysis>,
    /// A capture: an offload aggregate of this many MSS-sized segments.
    pub segs: Option<u32>,
}

/// A coalesced run of in-order data segments and pure ACKs.
#[derive(Clone, Debug, PartialEq)]
pub struct Burst {
    pub from: Slot,
    pub segments: u32,
    pub bytes: u64,
    pub seq_from: u32,
    pub seq_to: u32,
    pub ack_to: u32,
    pub since: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Mark {
    State {
        from: State,
        to: State,
        cause: Box<str>,
        /// Inferred from a capture: drawn with a `~`.
        inferred: bool,
    },
    TimerFired {
        timer: TimerKind,
    },
    /// Keepalive answered (`true`) or the peer declared dead (`false`).
    Keepalive {
        alive: bool,
        probe: u32,
        of: u32,
    },
    /// A TCB allocated or freed: what its event said, put into words when
    /// drawn ([`Mark::tcb_line`], [`Mark::tcb_detail`]).
    Tcb {
        allocated: bool,
        info: Box<TcbInfo>,
    },
    Abort {
        reason: AbortReason,
    },
    /// An application message, a configured limit reached, loss recovery:
    /// anything else worth a line on the lifeline.
    Note {
        note: Box<Note>,
    },
}

/// A note on a lifeline, kept as its event gave it and put into words
/// when drawn ([`Note::text`]), in the UI's language.
#[derive(Clone, Debug, PartialEq)]
pub enum Note {
    /// An application's message (`app` event).
    App {
        service: Box<str>,
        msg: Box<str>,
        request: Option<u64>,
    },
    /// A configured limit reached (`limit` event).
    Limit {
        what: LimitKind,
        limit: u64,
        detail: Option<Box<str>>,
    },
    /// Loss detection and recovery (`recovery` event), with the sender's
    /// ISN: its ranges are shown relative to it, as the ladder shows
    /// sequence numbers by default.
    Recovery {
        event: RecoveryEvent,
        isn: Option<u32>,
    },
}

impl Note {
    /// The note in `m`'s words. An application's message is English text
    /// from the scenario runner or a service: [`Messages::phrase`] says it
    /// in the UI's language where it knows it.
    pub fn text(&self, m: &Messages) -> String {
        match self {
            Note::App {
                service,
                msg,
                request,
            } => {
                let msg = m.phrase(msg);
                match request {
                    Some(n) => m.app_request(&msg, *n),
                    None if &**service == "scenario" => msg.into_owned(),
                    None => m.app_service(&m.phrase(service), &msg),
                }
            }
            Note::Limit {
                what,
                limit,
                detail,
            } => {
                let what = m.limit_kind(*what);
                match detail {
                    Some(d) => m.limit_detail(what, *limit, &m.phrase(d)),
                    None => m.limit_plain(what, *limit),
                }
            }
            Note::Recovery { event, isn } => recovery_text(m, event, *isn),
        }
    }
}

/// One line for a `recovery` event on the lifeline.
fn recovery_text(m: &Messages, r: &RecoveryEvent, isn: Option<u32>) -> String {
    use RecoveryAction as A;
    let by = r.by.map(|b| m.rtx_cause(b)).unwrap_or("");
    let rel = |x: &str| -> String {
        match (isn, x.parse::<u32>()) {
            (Some(i), Ok(v)) => v.wrapping_sub(i).to_string(),
            _ => x.to_string(),
        }
    };
    let ranges: String = r
        .ranges
        .iter()
        .map(|x| match x.split_once('-') {
            Some((a, b)) => format!(" {}:{}", rel(a), rel(b)),
            None => format!(" {x}"),
        })
        .collect();
    let ssthresh = if r.ssthresh == u32::MAX {
        "∞".to_string()
    } else {
        r.ssthresh.to_string()
    };
    let w = format!("cwnd {} ssthresh {ssthresh} pipe {}", r.cwnd, r.pipe);
    let state = m.ca_state(r.state);
    match r.action {
        A::Enter => m.rec_enter(by, state, &ranges, &w),
        A::Mark => m.rec_mark(by, &ranges, &w),
        A::Exit => m.rec_exit(state, &w),
        A::Undo => m.rec_undo(m.undo_how(r.how.as_deref().unwrap_or("?")), &w),
        A::Probe => m.rec_probe(&ranges),
        A::Reduce => m.rec_reduce(&w),
        A::SlowStartExit => m.rec_ss_exit(
            match r.how.as_deref() {
                Some("ack_train") => m.hystart_ack_train,
                Some("delay") => m.hystart_delay,
                _ => "?",
            },
            &w,
        ),
    }
}

impl Mark {
    /// A `tcb` mark's line on the lifeline.
    pub fn tcb_line(m: &Messages, allocated: bool, info: &TcbInfo) -> String {
        let buffers = crate::ui::units::kib_in(m, (info.send_buf + info.recv_buf) as u64);
        if allocated {
            m.tcb_allocated_mark(&buffers, info.port)
        } else {
            m.tcb_freed_mark(&buffers, info.port)
        }
    }

    /// A `tcb` mark's sentence for the details: what was allocated, or
    /// what the engine says it gave back (in the UI's language where
    /// [`Messages::phrase`] knows it).
    pub fn tcb_detail(m: &Messages, allocated: bool, info: &TcbInfo) -> String {
        let kib = |n: usize| crate::ui::units::kib_in(m, n as u64);
        if allocated {
            m.tcb_allocated_detail(
                &kib(info.send_buf),
                &kib(info.recv_buf),
                info.port,
                info.table,
            )
        } else {
            let freed = match &info.freed {
                Some(f) => m.phrase(f),
                None => m.tcb_freed_default.into(),
            };
            m.tcb_freed_detail(&freed, info.table)
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum EntryKind {
    Arrow(Box<Arrow>),
    Burst(Burst),
    /// A mark on one lifeline (or on none: `slot` is `None`).
    Mark {
        slot: Option<Slot>,
        mark: Mark,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Position in the connection's ladder, counting evicted entries too, so
    /// a selection survives eviction of older entries.
    pub seq: u64,
    /// Where it sits on the time axis (an arrow: when it was sent).
    pub t: f64,
    /// The host that reported it, for the detail pane.
    pub host: Option<Arc<str>>,
    pub kind: EntryKind,
}

impl Entry {
    pub fn arrow(&self) -> Option<&Arrow> {
        match &self.kind {
            EntryKind::Arrow(a) => Some(a),
            _ => None,
        }
    }
}

/// `SYN+ACK`, `PSH+ACK`, `FIN+ACK`, `RST`: the way the narration writes them
/// (`Flags::words`, in the wire format's module, so the handout can use it
/// too).
pub fn flag_words(f: Flags) -> String {
    f.words()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_like_the_narration() {
        assert_eq!(flag_words(Flags::SYN | Flags::ACK), "SYN+ACK");
        assert_eq!(flag_words(Flags::ACK | Flags::PSH), "PSH+ACK");
        assert_eq!(flag_words(Flags::ACK | Flags::FIN), "FIN+ACK");
        assert_eq!(flag_words(Flags::NONE), "none");
    }
}
