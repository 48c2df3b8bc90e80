//! What the ladder diagram of one connection is made of: arrows (segments)
//! and marks on a lifeline (state changes, timer fires, keepalive, notes).

use std::sync::Arc;

use crate::event::{AbortReason, DropReason, FaultAction, Opts, SegFields, TimerKind};
use crate::tcp::State;
use crate::wire::Flags;

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
    Tcb {
        allocated: bool,
        /// Short, for the lifeline.
        text: Box<str>,
        /// What the engine says was allocated or freed, for the details.
        detail: Box<str>,
    },
    Abort {
        reason: AbortReason,
    },
    /// An application message, a configured limit reached, anything else
    /// worth a line on the lifeline.
    Note {
        text: Box<str>,
    },
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
