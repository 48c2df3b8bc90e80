//! The event stream: everything tcpscope shows, as values.
//!
//! One type, serialized as one JSON object per line exactly as docs/events.md
//! says (ARCHITECTURE.md: the event schema is a contract). The UI,
//! recordings, the tests and users' scripts all read it; the UI never looks
//! anywhere else. Fields may be added; none may be renamed
//! or removed without updating every consumer and docs/events.md.

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::state::State;
use crate::wire::{Flags, Segment, TcpOptions, WireError};

/// Direction of a segment relative to the host that reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    In,
    Out,
}

impl Dir {
    pub fn name(self) -> &'static str {
        match self {
            Dir::In => "in",
            Dir::Out => "out",
        }
    }
    pub fn flip(self) -> Dir {
        match self {
            Dir::In => Dir::Out,
            Dir::Out => Dir::In,
        }
    }
}

impl Serialize for Flags {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Flags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names: Vec<String> = Vec::deserialize(d)?;
        Flags::from_names(names.iter().map(String::as_str))
            .ok_or_else(|| serde::de::Error::custom(format!("unknown flag in {names:?}")))
    }
}

/// The fields that describe one segment; shared by `segment`, `drop`, `hold`
/// and `release` events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegFields {
    /// Identifies one transmission on the link: the `in` event at the
    /// receiver carries the id of the sender's `out` event when both ends are
    /// tcpscope engines (demo), so the ladder can draw one arrow.
    pub id: u64,
    pub flags: Flags,
    pub seq: u32,
    pub ack: u32,
    /// Payload bytes.
    pub len: u32,
    /// The window field as on the wire (not scaled).
    pub win: u16,
    pub opts: Opts,
    /// IP and TCP headers and the first payload bytes, hex, for the detail
    /// pane's dump.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "Hdr::lenient"
    )]
    pub hdr: Option<Hdr>,
}

/// A segment event's TCP options, kept as parsed and written as the
/// schema's strings (`MSS=1460`, `SACK_PERM`, `TS=val,ecr`, `WS=7`,
/// `SACK=left-right,…`; docs/events.md, The schema) only when the event is serialized
/// or shown: building those strings for every segment was a tenth of the
/// engine's time per segment (docs/benchmarks.md, What stands in the way).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Opts(pub TcpOptions);

impl Opts {
    /// The schema's strings, in the order Linux puts the options.
    pub fn strings(&self) -> Vec<String> {
        self.0.describe()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Opts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.strings().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Opts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Opts, D::Error> {
        let items = Vec::<String>::deserialize(d)?;
        TcpOptions::from_described(&items)
            .map(Opts)
            .map_err(serde::de::Error::custom)
    }
}

/// A segment event's header dump: the bytes, written as lower-case hex (the
/// `hdr` field, docs/events.md, The schema) only when the event is serialized; the
/// hex text of every segment was a tenth of the engine's time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hdr(pub Box<[u8]>);

impl Hdr {
    /// Text that is not hex is no dump (the detail pane says it is
    /// missing), not an unreadable event.
    fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Hdr>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        Ok(text.as_deref().and_then(unhex).map(Hdr))
    }
}

impl Serialize for Hdr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex(&self.0))
    }
}

/// Hex text to bytes; `None` when the text is not hex.
pub fn unhex(s: &str) -> Option<Box<[u8]>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// How many payload bytes the hex dump keeps.
pub const HDR_PAYLOAD_BYTES: usize = 32;

impl SegFields {
    pub fn from_segment(id: u64, seg: &Segment) -> SegFields {
        SegFields {
            id,
            flags: seg.flags,
            seq: seg.seq.0,
            ack: seg.ack.0,
            len: seg.payload.len() as u32,
            win: seg.window,
            opts: Opts(seg.options.clone()),
            hdr: None,
        }
    }

    /// With the hex dump of the packet's headers and first payload bytes.
    pub fn with_hdr(mut self, packet: &[u8]) -> SegFields {
        let hdr_len = packet.len() - self.len as usize;
        let keep = (hdr_len + HDR_PAYLOAD_BYTES).min(packet.len());
        self.hdr = Some(Hdr(packet[..keep].into()));
        self
    }
}

/// Lower-case hex, table-driven: this runs for every segment event, and
/// `core::fmt` made it the engine's hottest path.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 0x0f)]);
    }
    String::from_utf8(out).expect("hex digits are ASCII")
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentEvent {
    pub dir: Dir,
    #[serde(flatten)]
    pub seg: SegFields,
    #[serde(default)]
    pub retransmit: bool,
    /// For a retransmission sent by this host: what made it go again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtx: Option<RtxCause>,
    /// A tail loss probe (RFC 8985 §7), new data or a retransmission.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub probe: bool,
    /// On an arriving segment: it is the n-th duplicate ACK in a row
    /// (RFC 5681 §2, as the receiving engine judged it on arrival). Absent
    /// on everything else, and in recordings made before the field existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dup_ack: Option<u32>,
    /// A capture's TCP analysis of this segment (docs/captures.md,
    /// Opening a capture): Wireshark's `tcp.analysis.*` names without the prefix,
    /// plus `reset`. Empty (and absent) everywhere else.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub analysis: Vec<Analysis>,
    /// In a capture: the segment carries more than the peer's MSS, so the
    /// capturing host's offload (TSO/GSO or GRO) made it from this many
    /// MSS-sized wire segments, or will cut it into as many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segs: Option<u32>,
    /// Live mode's receive offload (docs/live.md, The link): the event stands for
    /// the wire segments of one kernel GSO packet, processed together as
    /// Linux's GRO does. Never in the event stream: the coalescer folds it
    /// into a burst or hands it on as the wire segments it stands for.
    #[serde(skip)]
    pub gro: Option<Gro>,
}

/// `segs` wire segments of `size` payload bytes each (the last one may be
/// shorter), cut as the kernel would cut them (see `gso::split`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gro {
    pub segs: u32,
    pub size: u32,
}

impl SegmentEvent {
    /// The wire segments a [`Gro`] event stands for, as separate events
    /// (ids counting up by 2 as the runtime numbers packets from the
    /// kernel; FIN and PSH on the last only, CWR on the first only; no
    /// hex dump); the event itself when it is no aggregate.
    pub fn wire_segments(&self) -> Vec<SegmentEvent> {
        let Some(g) = self.gro.filter(|g| g.segs > 1 && g.size > 0) else {
            return vec![SegmentEvent {
                gro: None,
                ..self.clone()
            }];
        };
        let (n, size) = (g.segs, g.size);
        (0..n)
            .map(|i| {
                let off = i * size;
                let mut flags = self.seg.flags;
                if i > 0 {
                    flags = Flags(flags.0 & !Flags::CWR.0);
                }
                if i + 1 < n {
                    flags = Flags(flags.0 & !(Flags::FIN.0 | Flags::PSH.0));
                }
                SegmentEvent {
                    seg: SegFields {
                        id: self.seg.id + 2 * u64::from(i),
                        flags,
                        seq: self.seg.seq.wrapping_add(off),
                        len: size.min(self.seg.len.saturating_sub(off)),
                        hdr: None,
                        ..self.seg.clone()
                    },
                    gro: None,
                    ..self.clone()
                }
            })
            .collect()
    }
}

/// What a capture's TCP analysis says about a segment, in the names of
/// Wireshark's `tcp.analysis.*` fields (its User's Guide, "TCP Analysis").
/// A name this version does not know reads back as [`Analysis::Other`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Analysis {
    Retransmission,
    FastRetransmission,
    SpuriousRetransmission,
    OutOfOrder,
    DuplicateAck,
    ZeroWindow,
    ZeroWindowProbe,
    ZeroWindowProbeAck,
    WindowUpdate,
    WindowFull,
    KeepAlive,
    KeepAliveAck,
    LostSegment,
    AckLostSegment,
    /// The RST bit (Wireshark's `tcp.connection.rst`).
    Reset,
    #[serde(untagged)]
    Other(String),
}

impl Analysis {
    pub fn name(&self) -> &str {
        match self {
            Analysis::Retransmission => "retransmission",
            Analysis::FastRetransmission => "fast_retransmission",
            Analysis::SpuriousRetransmission => "spurious_retransmission",
            Analysis::OutOfOrder => "out_of_order",
            Analysis::DuplicateAck => "duplicate_ack",
            Analysis::ZeroWindow => "zero_window",
            Analysis::ZeroWindowProbe => "zero_window_probe",
            Analysis::ZeroWindowProbeAck => "zero_window_probe_ack",
            Analysis::WindowUpdate => "window_update",
            Analysis::WindowFull => "window_full",
            Analysis::KeepAlive => "keep_alive",
            Analysis::KeepAliveAck => "keep_alive_ack",
            Analysis::LostSegment => "lost_segment",
            Analysis::AckLostSegment => "ack_lost_segment",
            Analysis::Reset => "reset",
            Analysis::Other(s) => s,
        }
    }

    /// Short words for the ladder's arrow label (the English catalogue's
    /// words, `i18n::en`); `None` for a flag this version does not know.
    pub fn word(&self) -> Option<&'static str> {
        Some(match self {
            Analysis::Retransmission => "retransmission",
            Analysis::FastRetransmission => "fast retransmission",
            Analysis::SpuriousRetransmission => "spurious retransmission",
            Analysis::OutOfOrder => "out of order",
            Analysis::DuplicateAck => "dup ACK",
            Analysis::ZeroWindow => "zero window",
            Analysis::ZeroWindowProbe => "zero window probe",
            Analysis::ZeroWindowProbeAck => "zero window probe ACK",
            Analysis::WindowUpdate => "window update",
            Analysis::WindowFull => "window full",
            Analysis::KeepAlive => "keep-alive",
            Analysis::KeepAliveAck => "keep-alive ACK",
            Analysis::LostSegment => "previous segment not captured",
            Analysis::AckLostSegment => "ACKs unseen segment",
            Analysis::Reset => "reset",
            Analysis::Other(_) => return None,
        })
    }

    /// The arrow's label: [`Analysis::word`], or the flag as the event wrote it.
    pub fn label(&self) -> &str {
        match self {
            Analysis::Other(s) => s,
            a => a.word().unwrap_or_default(),
        }
    }
}

/// Why a segment was sent again, and what detected a loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RtxCause {
    /// Duplicate ACKs or SACKed segments above it (RFC 5681 §3.2, RFC 6675
    /// IsLost, RFC 6582's partial ACK).
    Dupack,
    /// RACK: a segment sent later was delivered and this one is overdue
    /// (RFC 8985 §6).
    Rack,
    /// The tail loss probe (RFC 8985 §7).
    Tlp,
    /// The retransmission timer (RFC 6298).
    Rto,
    /// RFC 6675's rescue retransmission.
    Rescue,
    /// A zero-window probe sent again (RFC 9293 §3.8.6.1).
    Persist,
    /// SYN or SYN+ACK again.
    Syn,
}

impl RtxCause {
    pub fn name(self) -> &'static str {
        match self {
            RtxCause::Dupack => "dupack",
            RtxCause::Rack => "rack",
            RtxCause::Tlp => "tlp",
            RtxCause::Rto => "rto",
            RtxCause::Rescue => "rescue",
            RtxCause::Persist => "persist",
            RtxCause::Syn => "syn",
        }
    }
}

/// The sender's congestion state, in Linux's names (tcp_ca_state).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CaState {
    /// Nothing amiss.
    #[default]
    Open,
    /// Duplicate ACKs or SACKs seen, nothing marked lost yet.
    Disorder,
    /// Fast recovery: a loss detected by ACKs is being repaired.
    Recovery,
    /// After a retransmission timeout.
    Loss,
}

impl CaState {
    pub fn name(self) -> &'static str {
        match self {
            CaState::Open => "open",
            CaState::Disorder => "disorder",
            CaState::Recovery => "recovery",
            CaState::Loss => "loss",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryAction {
    /// A loss episode begins (`by` says what detected it).
    Enter,
    /// More segments marked lost during an episode.
    Mark,
    /// The episode is over: everything up to the recovery point is ACKed.
    Exit,
    /// The retransmissions were unneeded (`how`): the window is restored.
    Undo,
    /// A tail loss probe left.
    Probe,
    /// A probe repaired a loss: the window is reduced once, no recovery.
    Reduce,
    /// HyStart ended slow start before any loss (`how`: `ack_train` or
    /// `delay`): ssthresh is now cwnd.
    SlowStartExit,
}

impl RecoveryAction {
    pub fn name(self) -> &'static str {
        match self {
            RecoveryAction::Enter => "enter",
            RecoveryAction::Mark => "mark",
            RecoveryAction::Exit => "exit",
            RecoveryAction::Undo => "undo",
            RecoveryAction::Probe => "probe",
            RecoveryAction::Reduce => "reduce",
            RecoveryAction::SlowStartExit => "slow_start_exit",
        }
    }
}

/// Loss detection and recovery, as it happens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecoveryEvent {
    pub action: RecoveryAction,
    /// What detected the loss: `dupack`, `rack`, `tlp`, `rto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<RtxCause>,
    /// The congestion state after the event.
    pub state: CaState,
    /// Sequence ranges marked lost (or probed), `"left-right"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<String>,
    pub cwnd: u32,
    pub ssthresh: u32,
    pub pipe: u32,
    /// For `undo`: `eifel` (timestamps, RFC 3522) or `dsack` (RFC 3708).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub how: Option<String>,
}

/// Why a packet was dropped (`drop` events). The event schema (docs/events.md) leaves the list open
/// (`…`), so a reason this version does not know still reads, as
/// [`DropReason::Other`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// A fault rule dropped it (`rule` says which).
    Injected,
    /// A random loss, as the schema has named it since the first version;
    /// this version's injector reports every rule's drop as `injected`.
    /// Counted with injected drops.
    Loss,
    /// The TCP checksum did not match.
    Checksum,
    /// Truncated or inconsistent headers.
    Malformed,
    /// A TCP option whose length cannot be.
    BadOption,
    /// Not an IPv4 TCP packet (and not IPv6).
    NotIpv4Tcp,
    /// An IPv6 packet that does not carry TCP (ICMPv6 other than an echo
    /// request for the stack, MLD, UDP, …).
    NotIpv6Tcp,
    /// An IP fragment (not reassembled).
    Fragment,
    /// Addressed to someone else.
    NotForUs,
    /// Anything else (`no_route`, `silent`, …: named in the schema's
    /// comments, never emitted by this version), kept as written.
    #[serde(untagged)]
    Other(String),
}

impl DropReason {
    pub fn name(&self) -> &str {
        match self {
            DropReason::Injected => "injected",
            DropReason::Loss => "loss",
            DropReason::Checksum => "checksum",
            DropReason::Malformed => "malformed",
            DropReason::BadOption => "bad_option",
            DropReason::NotIpv4Tcp => "not_ipv4_tcp",
            DropReason::NotIpv6Tcp => "not_ipv6_tcp",
            DropReason::Fragment => "fragment",
            DropReason::NotForUs => "not_for_us",
            DropReason::Other(s) => s,
        }
    }

    /// Dropped by the injector (a rule or random loss), not refused by the
    /// receiver.
    pub fn is_injected(&self) -> bool {
        matches!(self, DropReason::Injected | DropReason::Loss)
    }
}

impl From<&WireError> for DropReason {
    fn from(e: &WireError) -> DropReason {
        match e {
            WireError::NotIpv4Tcp => DropReason::NotIpv4Tcp,
            WireError::NotIpv6Tcp => DropReason::NotIpv6Tcp,
            WireError::Fragment => DropReason::Fragment,
            WireError::Malformed(_) => DropReason::Malformed,
            WireError::BadOption(_) => DropReason::BadOption,
            WireError::Checksum(_) => DropReason::Checksum,
        }
    }
}

/// Why a connection was aborted (`abort` events). The event schema (docs/events.md) leaves the list
/// open (`…`), so a reason this version does not know still reads, as
/// [`AbortReason::Other`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbortReason {
    /// The application called ABORT.
    User,
    ResetReceived,
    RetransmitTimeout,
    KeepaliveTimeout,
    /// SYN-SENT's user timeout.
    ConnectTimeout,
    #[serde(rename = "fin_wait_2_timeout")]
    FinWait2Timeout,
    /// A new SYN ended TIME-WAIT: a new incarnation (RFC 6191).
    Reopened,
    /// Data arrived after the application closed: RST (RFC 1122
    /// §4.2.2.13).
    DataAfterClose,
    /// A reason this version does not emit, kept as written.
    #[serde(untagged)]
    Other(String),
}

impl AbortReason {
    pub fn name(&self) -> &str {
        match self {
            AbortReason::User => "user",
            AbortReason::ResetReceived => "reset_received",
            AbortReason::RetransmitTimeout => "retransmit_timeout",
            AbortReason::KeepaliveTimeout => "keepalive_timeout",
            AbortReason::ConnectTimeout => "connect_timeout",
            AbortReason::FinWait2Timeout => "fin_wait_2_timeout",
            AbortReason::Reopened => "reopened",
            AbortReason::DataAfterClose => "data_after_close",
            AbortReason::Other(s) => s,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DropEvent {
    pub dir: Dir,
    pub reason: DropReason,
    /// The fault rule that dropped it, for `injected` drops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub seg: Option<SegFields>,
}

/// A segment the injector holds, releases, delays, duplicates, corrupts or
/// reorders; `rule` is the fault rule that matched, as text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultSegEvent {
    pub dir: Dir,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(flatten)]
    pub seg: SegFields,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    Retransmit,
    DelayedAck,
    Persist,
    Keepalive,
    TimeWait,
    /// Linux's tcp_fin_timeout for released connections: not in RFC 9293.
    #[serde(rename = "fin_wait_2")]
    FinWait2,
    /// A user timeout for SYN-SENT (RFC 9293 §3.10.8 "USER TIMEOUT").
    Connect,
    /// RACK's reordering timer (RFC 8985 §6.3).
    Reorder,
    /// The tail loss probe timer, PTO (RFC 8985 §7.2).
    Tlp,
}

impl TimerKind {
    pub const ALL: [TimerKind; 9] = [
        TimerKind::Retransmit,
        TimerKind::DelayedAck,
        TimerKind::Persist,
        TimerKind::Keepalive,
        TimerKind::TimeWait,
        TimerKind::FinWait2,
        TimerKind::Connect,
        TimerKind::Reorder,
        TimerKind::Tlp,
    ];
    pub fn name(self) -> &'static str {
        match self {
            TimerKind::Retransmit => "retransmit",
            TimerKind::DelayedAck => "delayed_ack",
            TimerKind::Persist => "persist",
            TimerKind::Keepalive => "keepalive",
            TimerKind::TimeWait => "time_wait",
            TimerKind::FinWait2 => "fin_wait_2",
            TimerKind::Connect => "connect",
            TimerKind::Reorder => "reorder",
            TimerKind::Tlp => "tlp",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerAction {
    Armed,
    Cancelled,
    Fired,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimerEvent {
    pub timer: TimerKind,
    pub action: TimerAction,
    /// `t` at which it fires, when armed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<f64>,
    /// Retransmit and persist: how many times the timer has backed off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeepaliveAction {
    ProbeSent,
    Answered,
    Dead,
    /// Keepalive switched on for the connection (values in the event).
    Enabled,
    Disabled,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeepaliveEvent {
    pub action: KeepaliveAction,
    pub probe: u32,
    pub of: u32,
    /// Configured idle and interval (seconds), so the countdown can be drawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TcbAction {
    Allocated,
    Freed,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TcbEvent {
    pub action: TcbAction,
    /// Send and receive buffer capacities (bytes) allocated or released.
    pub send_buf: usize,
    pub recv_buf: usize,
    /// The local port taken or released.
    pub port: u16,
    /// Connections in the table after this change.
    pub table: usize,
    /// What was released, as a sentence, on `freed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freed: Option<String>,
}

/// Negotiated parameters, once per connection when the handshake settles them
/// (docs/events.md, The schema: `negotiated`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NegotiatedEvent {
    /// Effective send MSS (the peer's MSS option, or 536 without one).
    pub mss: u16,
    /// The MSS this host advertised.
    pub our_mss: u16,
    /// Window scale shifts (None when either side did not offer it).
    pub ws_snd: Option<u8>,
    pub ws_rcv: Option<u8>,
    pub ts: bool,
    pub sack: bool,
}

/// The congestion control algorithm a connection uses (`--cc`, a
/// scenario's `cc`), as `vars` events name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CcAlgo {
    /// RFC 5681 slow start and congestion avoidance, ssthresh = FlightSize/2.
    NewReno,
    /// RFC 9438 CUBIC with its Reno-friendly region (Linux's default).
    Cubic,
}

impl CcAlgo {
    pub fn name(self) -> &'static str {
        match self {
            CcAlgo::NewReno => "newreno",
            CcAlgo::Cubic => "cubic",
        }
    }
    pub fn from_name(s: &str) -> Option<CcAlgo> {
        match s {
            "newreno" | "reno" => Some(CcAlgo::NewReno),
            "cubic" => Some(CcAlgo::Cubic),
            _ => None,
        }
    }
}

/// The sender's growth phase, as the `vars` event has always named it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    SlowStart,
    CongestionAvoidance,
    FastRecovery,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::SlowStart => "slow_start",
            Phase::CongestionAvoidance => "congestion_avoidance",
            Phase::FastRecovery => "fast_recovery",
        }
    }
}

/// The TCB's sequence variables and congestion state, emitted when they
/// change after a segment or a timer, so the TCB panel can draw them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VarsEvent {
    pub snd_una: u32,
    pub snd_nxt: u32,
    /// Send window in bytes (scaled).
    pub snd_wnd: u32,
    pub rcv_nxt: u32,
    /// Receive window in bytes.
    pub rcv_wnd: u32,
    pub cwnd: u32,
    pub ssthresh: u32,
    pub phase: Phase,
    /// Bytes queued to send but not yet sent, and sent but unacknowledged.
    pub unsent: u32,
    pub in_flight: u32,
    /// Segments retransmitted so far, and how many of those were fast
    /// retransmits (RFC 5681 §3.2).
    #[serde(default)]
    pub retransmits: u64,
    #[serde(default)]
    pub fast_retransmits: u64,
    /// RFC 6675 pipe: bytes in the network as the sender reckons them.
    #[serde(default)]
    pub pipe: u32,
    /// Bytes the peer SACKed, and bytes marked lost and not yet resent.
    #[serde(default)]
    pub sacked: u32,
    #[serde(default)]
    pub lost: u32,
    /// The congestion state (`open`, `disorder`, `recovery`, `loss`).
    #[serde(default)]
    pub cc_state: CaState,
    /// The congestion control algorithm (`newreno`, `cubic`); absent in
    /// recordings made before it was reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cc: Option<CcAlgo>,
    /// RACK's reordering window in quarters of the minimum RTT (RFC 8985
    /// §6.2 step 4's RACK.reo_wnd_mult) once D-SACKs have widened it past
    /// one; absent while it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reo_wnd_mult: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BurstEvent {
    pub dir: Dir,
    /// Coalesced in-order data segments and pure ACKs.
    pub segments: u32,
    pub bytes: u64,
    pub seq_from: u32,
    pub seq_to: u32,
    pub ack_to: u32,
    /// Time of the first segment of the burst (`t` is the last).
    pub since: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    Segment(SegmentEvent),
    Drop(DropEvent),
    Hold(FaultSegEvent),
    Release(FaultSegEvent),
    /// The injector delayed, duplicated, corrupted or reordered a segment.
    Fault(FaultActionEvent),
    State {
        from: State,
        to: State,
        cause: String,
        /// Inferred from a capture's packets, not reported by an engine.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        inferred: bool,
        /// Seconds the host spent in `from`, where that is known (a
        /// capture: from the packet that entered it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lasted: Option<f64>,
    },
    Timer(TimerEvent),
    Keepalive(KeepaliveEvent),
    Rtt {
        sample: f64,
        srtt: f64,
        rttvar: f64,
        rto: f64,
    },
    Tcb(TcbEvent),
    Abort {
        reason: AbortReason,
    },
    App {
        service: String,
        msg: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request: Option<u64>,
    },
    Narration {
        lang: String,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        explains: Option<Box<Event>>,
        /// The title of the chapter this narration begins (the tour's
        /// chapters: the walkthrough's chapter list jumps to them).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chapter: Option<String>,
    },
    Negotiated(NegotiatedEvent),
    Vars(VarsEvent),
    Burst(BurstEvent),
    Recovery(RecoveryEvent),
    /// A fault rule was added, removed, or used up.
    Rule {
        action: RuleAction,
        rule: String,
    },
    /// A configured limit was reached.
    Limit {
        what: LimitKind,
        limit: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// A consumer fell behind and lost this many events.
    Lagged {
        lost: u64,
    },
    /// Facts about the run: mode, addresses, profile, scenario.
    Info {
        msg: String,
    },
    /// A scenario's `speed` step: playback from here on runs at `x`
    /// virtual seconds per real second (demo, and replay of a recording),
    /// until the person changes it or the next speed step.
    Speed {
        x: f64,
    },
}

/// What became of a fault rule (`rule` events).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleAction {
    Added,
    Removed,
    /// A rule for the next N segments matched its last one.
    UsedUp,
}

impl RuleAction {
    pub fn name(self) -> &'static str {
        match self {
            RuleAction::Added => "added",
            RuleAction::Removed => "removed",
            RuleAction::UsedUp => "used_up",
        }
    }
}

/// Which configured limit was reached (`limit` events).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    /// The connection table is full.
    MaxConnections,
    /// Too many half-open connections on a listener.
    SynBacklog,
    /// The out-of-order queue is full.
    OooQueue,
    SendBuffer,
    RecvBuffer,
    /// Challenge ACKs are rate-limited (RFC 5961 §7).
    ChallengeAck,
}

impl LimitKind {
    pub fn name(self) -> &'static str {
        match self {
            LimitKind::MaxConnections => "max_connections",
            LimitKind::SynBacklog => "syn_backlog",
            LimitKind::OooQueue => "ooo_queue",
            LimitKind::SendBuffer => "send_buffer",
            LimitKind::RecvBuffer => "recv_buffer",
            LimitKind::ChallengeAck => "challenge_ack",
        }
    }
}

/// What the injector did to a segment it let through (`fault` events).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultAction {
    Delay,
    Duplicate,
    Corrupt,
    Reorder,
}

impl FaultAction {
    pub fn name(self) -> &'static str {
        match self {
            FaultAction::Delay => "delay",
            FaultAction::Duplicate => "duplicate",
            FaultAction::Corrupt => "corrupt",
            FaultAction::Reorder => "reorder",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultActionEvent {
    pub dir: Dir,
    pub action: FaultAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(flatten)]
    pub seg: SegFields,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Seconds since the start of the run (virtual time in demo).
    pub t: f64,
    /// The engine that reports the event: `client` / `server` in demo,
    /// `tcpscope` live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<Arc<str>>,
    /// `LOCALIP:PORT<->REMOTEIP:PORT` from the reporting host's side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conn: Option<Arc<str>>,
    #[serde(flatten)]
    pub body: Body,
}

impl Event {
    pub fn kind(&self) -> &'static str {
        match &self.body {
            Body::Segment(_) => "segment",
            Body::Drop(_) => "drop",
            Body::Hold(_) => "hold",
            Body::Release(_) => "release",
            Body::Fault(_) => "fault",
            Body::State { .. } => "state",
            Body::Timer(_) => "timer",
            Body::Keepalive(_) => "keepalive",
            Body::Rtt { .. } => "rtt",
            Body::Tcb(_) => "tcb",
            Body::Abort { .. } => "abort",
            Body::App { .. } => "app",
            Body::Narration { .. } => "narration",
            Body::Negotiated(_) => "negotiated",
            Body::Vars(_) => "vars",
            Body::Burst(_) => "burst",
            Body::Recovery(_) => "recovery",
            Body::Rule { .. } => "rule",
            Body::Limit { .. } => "limit",
            Body::Lagged { .. } => "lagged",
            Body::Info { .. } => "info",
            Body::Speed { .. } => "speed",
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("events always serialize")
    }

    pub fn from_json(line: &str) -> Result<Event, serde_json::Error> {
        serde_json::from_str(line)
    }

    pub fn segment(&self) -> Option<&SegmentEvent> {
        match &self.body {
            Body::Segment(s) => Some(s),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields() -> SegFields {
        SegFields {
            id: 3,
            flags: Flags::SYN | Flags::ACK,
            seq: 100,
            ack: 51,
            len: 0,
            win: 65535,
            opts: Opts(TcpOptions {
                mss: Some(1460),
                wscale: Some(7),
                ..TcpOptions::default()
            }),
            hdr: None,
        }
    }

    #[test]
    fn segment_matches_schema() {
        let e = Event {
            t: 0.5,
            host: Some("server".into()),
            conn: Some("10.0.0.2:80<->10.0.0.1:40000".into()),
            body: Body::Segment(SegmentEvent {
                dir: Dir::Out,
                seg: fields(),
                retransmit: false,
                rtx: None,
                probe: false,
                dup_ack: None,
                analysis: Vec::new(),
                segs: None,
                gro: None,
            }),
        };
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(
            v,
            json!({"t":0.5,"host":"server","conn":"10.0.0.2:80<->10.0.0.1:40000",
                "kind":"segment","dir":"out","id":3,"flags":["SYN","ACK"],"seq":100,
                "ack":51,"len":0,"win":65535,"opts":["MSS=1460","WS=7"],"retransmit":false})
        );
        assert_eq!(Event::from_json(&e.to_json()).unwrap(), e);
    }

    #[test]
    fn state_and_drop_round_trip() {
        let st = Event {
            t: 1.0,
            host: None,
            conn: Some("a<->b".into()),
            body: Body::State {
                from: State::SynSent,
                to: State::Established,
                cause: "SYN+ACK received".into(),
                inferred: false,
                lasted: None,
            },
        };
        assert_eq!(
            st.to_json(),
            r#"{"t":1.0,"conn":"a<->b","kind":"state","from":"SYN-SENT","to":"ESTABLISHED","cause":"SYN+ACK received"}"#
        );
        assert_eq!(Event::from_json(&st.to_json()).unwrap(), st);
        for seg in [None, Some(fields())] {
            let d = Event {
                t: 2.0,
                host: None,
                conn: None,
                body: Body::Drop(DropEvent {
                    dir: Dir::In,
                    reason: DropReason::Checksum,
                    rule: None,
                    seg,
                }),
            };
            assert_eq!(Event::from_json(&d.to_json()).unwrap(), d);
        }
    }

    #[test]
    fn header_dumps_are_lower_case_hex_and_read_back() {
        let f = SegFields {
            hdr: Some(Hdr(vec![0x45, 0x00, 0xab].into())),
            ..fields()
        };
        let json = serde_json::to_string(&f).unwrap();
        assert!(json.contains(r#""hdr":"4500ab""#), "{json}");
        assert_eq!(serde_json::from_str::<SegFields>(&json).unwrap(), f);
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(hex(&[]), "");
        assert_eq!(unhex("45ff").as_deref(), Some(&[0x45, 0xff][..]));
        assert_eq!(unhex("4"), None);
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("é1"), None);
    }

    #[test]
    fn narration_nests_the_event_it_explains() {
        let inner = Event {
            t: 0.1,
            host: Some("client".into()),
            conn: None,
            body: Body::Abort {
                reason: AbortReason::User,
            },
        };
        let n = Event {
            t: 0.1,
            host: None,
            conn: None,
            body: Body::Narration {
                lang: "zh".into(),
                text: "客户端发送 RST".into(),
                explains: Some(Box::new(inner)),
                chapter: None,
            },
        };
        assert_eq!(Event::from_json(&n.to_json()).unwrap(), n);
    }

    /// Every value of the typed vocabularies is written exactly as the
    /// strings the schema has always used.
    #[test]
    fn vocabularies_serialize_to_the_schema_strings() {
        fn text<T: Serialize>(v: T) -> String {
            serde_json::to_value(v)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        }
        let drops = [
            (DropReason::Injected, "injected"),
            (DropReason::Loss, "loss"),
            (DropReason::Checksum, "checksum"),
            (DropReason::Malformed, "malformed"),
            (DropReason::BadOption, "bad_option"),
            (DropReason::NotIpv4Tcp, "not_ipv4_tcp"),
            (DropReason::NotIpv6Tcp, "not_ipv6_tcp"),
            (DropReason::Fragment, "fragment"),
            (DropReason::NotForUs, "not_for_us"),
            (DropReason::Other("no_route".into()), "no_route"),
        ];
        for (v, s) in drops {
            assert_eq!((text(&v), v.name()), (s.to_string(), s));
            assert_eq!(serde_json::from_value::<DropReason>(json!(s)).unwrap(), v);
        }
        let aborts = [
            (AbortReason::User, "user"),
            (AbortReason::ResetReceived, "reset_received"),
            (AbortReason::RetransmitTimeout, "retransmit_timeout"),
            (AbortReason::KeepaliveTimeout, "keepalive_timeout"),
            (AbortReason::ConnectTimeout, "connect_timeout"),
            (AbortReason::FinWait2Timeout, "fin_wait_2_timeout"),
            (AbortReason::Reopened, "reopened"),
            (AbortReason::DataAfterClose, "data_after_close"),
            (AbortReason::Other("rebooted".into()), "rebooted"),
        ];
        for (v, s) in aborts {
            assert_eq!((text(&v), v.name()), (s.to_string(), s));
            assert_eq!(serde_json::from_value::<AbortReason>(json!(s)).unwrap(), v);
        }
        for (v, s) in [
            (RuleAction::Added, "added"),
            (RuleAction::Removed, "removed"),
            (RuleAction::UsedUp, "used_up"),
        ] {
            assert_eq!((text(v), v.name()), (s.to_string(), s));
        }
        for (v, s) in [
            (LimitKind::MaxConnections, "max_connections"),
            (LimitKind::SynBacklog, "syn_backlog"),
            (LimitKind::OooQueue, "ooo_queue"),
            (LimitKind::SendBuffer, "send_buffer"),
            (LimitKind::RecvBuffer, "recv_buffer"),
            (LimitKind::ChallengeAck, "challenge_ack"),
        ] {
            assert_eq!((text(v), v.name()), (s.to_string(), s));
        }
        for (v, s) in [
            (FaultAction::Delay, "delay"),
            (FaultAction::Duplicate, "duplicate"),
            (FaultAction::Corrupt, "corrupt"),
            (FaultAction::Reorder, "reorder"),
        ] {
            assert_eq!((text(v), v.name()), (s.to_string(), s));
        }
        for (v, s) in [
            (Phase::SlowStart, "slow_start"),
            (Phase::CongestionAvoidance, "congestion_avoidance"),
            (Phase::FastRecovery, "fast_recovery"),
        ] {
            assert_eq!((text(v), v.name()), (s.to_string(), s));
        }
        for (v, s) in [(CcAlgo::NewReno, "newreno"), (CcAlgo::Cubic, "cubic")] {
            assert_eq!((text(v), v.name()), (s.to_string(), s));
        }
    }

    /// Lines as older versions wrote them read back and write out again
    /// byte for byte.
    #[test]
    fn recorded_lines_round_trip_byte_for_byte() {
        let lines = [
            r#"{"t":1.0,"host":"client","conn":"a<->b","kind":"abort","reason":"fin_wait_2_timeout"}"#,
            r#"{"t":1.0,"kind":"abort","reason":"something_new"}"#,
            r#"{"t":1.0,"kind":"drop","dir":"in","reason":"not_ipv4_tcp"}"#,
            r#"{"t":1.0,"kind":"drop","dir":"out","reason":"silent"}"#,
            r#"{"t":1.0,"kind":"rule","action":"used_up","rule":"drop out SA next 1"}"#,
            r#"{"t":1.0,"conn":"a<->b","kind":"limit","what":"syn_backlog","limit":4,"detail":"x"}"#,
            r#"{"t":1.0,"conn":"a<->b","kind":"fault","dir":"in","action":"reorder","rule":"reorder in all","id":1,"flags":["ACK"],"seq":1,"ack":2,"len":0,"win":9,"opts":[]}"#,
            r#"{"t":1.0,"conn":"a<->b","kind":"segment","dir":"in","id":1,"flags":["ACK"],"seq":1,"ack":2,"len":0,"win":9,"opts":[],"retransmit":false,"dup_ack":2}"#,
            r#"{"t":1.0,"conn":"a<->b","kind":"vars","snd_una":1,"snd_nxt":1,"snd_wnd":1,"rcv_nxt":1,"rcv_wnd":1,"cwnd":1,"ssthresh":1,"phase":"fast_recovery","unsent":0,"in_flight":0,"retransmits":0,"fast_retransmits":0,"pipe":0,"sacked":0,"lost":0,"cc_state":"recovery","cc":"cubic"}"#,
        ];
        for line in lines {
            assert_eq!(Event::from_json(line).unwrap().to_json(), line);
        }
        // Before `cc` (and the recovery fields) existed.
        let old = r#"{"t":1.0,"kind":"vars","snd_una":1,"snd_nxt":1,"snd_wnd":1,"rcv_nxt":1,"rcv_wnd":1,"cwnd":1,"ssthresh":1,"phase":"slow_start","unsent":0,"in_flight":0}"#;
        let Body::Vars(v) = Event::from_json(old).unwrap().body else {
            panic!("vars")
        };
        assert_eq!(
            (v.phase, v.cc, v.cc_state),
            (Phase::SlowStart, None, CaState::Open)
        );
    }
}
