//! The wire format: IPv4 or IPv6 + TCP packets to and from [`Segment`]
//! values.
//!
//! Parsing is etherparse's; this module maps its views onto the engine's
//! representation and names the reason when a packet cannot be used, so
//! that the caller can emit a `drop` event. Building packets and checksums
//! are written here, on the hot path, and checked against etherparse in the
//! tests.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use etherparse::{
    IpNumber, Ipv4HeaderSlice, Ipv6Slice, TcpOptionElement, TcpOptionReadError, TcpOptionsIterator,
    TcpSlice,
};

/// Bytes an IPv6 header takes beyond an IPv4 one without options: an IPv6
/// connection's MSS is the link MTU − 60 where IPv4's is MTU − 40 (RFC 8200
/// §3, RFC 9293 §3.7.1).
pub const IPV6_EXTRA: u16 = 20;

use crate::seq::SeqNum;

/// TCP control bits, in header order (RFC 9293 §3.1, RFC 3168 for ECE/CWR).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flags(pub u8);

impl Flags {
    /// `SYN+ACK`, `PSH+ACK`, `FIN+ACK`, `RST`: the flags as the ladder, the
    /// narration and the handouts write them; `none` for none.
    pub fn words(self) -> String {
        const ORDER: [(Flags, &str); 8] = [
            (Flags::SYN, "SYN"),
            (Flags::FIN, "FIN"),
            (Flags::RST, "RST"),
            (Flags::PSH, "PSH"),
            (Flags::ACK, "ACK"),
            (Flags::URG, "URG"),
            (Flags::ECE, "ECE"),
            (Flags::CWR, "CWR"),
        ];
        let words: Vec<&str> = ORDER
            .iter()
            .filter(|(b, _)| self.contains(*b))
            .map(|(_, n)| *n)
            .collect();
        if words.is_empty() {
            "none".into()
        } else {
            words.join("+")
        }
    }

    pub const FIN: Flags = Flags(0x01);
    pub const SYN: Flags = Flags(0x02);
    pub const RST: Flags = Flags(0x04);
    pub const PSH: Flags = Flags(0x08);
    pub const ACK: Flags = Flags(0x10);
    pub const URG: Flags = Flags(0x20);
    pub const ECE: Flags = Flags(0x40);
    pub const CWR: Flags = Flags(0x80);
    pub const NONE: Flags = Flags(0);

    /// Names as the event schema spells them, with the letter used on the
    /// command line (`--drop out:SA`).
    const TABLE: [(Flags, &'static str, char); 8] = [
        (Flags::SYN, "SYN", 'S'),
        (Flags::ACK, "ACK", 'A'),
        (Flags::FIN, "FIN", 'F'),
        (Flags::RST, "RST", 'R'),
        (Flags::PSH, "PSH", 'P'),
        (Flags::URG, "URG", 'U'),
        (Flags::ECE, "ECE", 'E'),
        (Flags::CWR, "CWR", 'C'),
    ];

    /// The control bits of a TCP header as etherparse sliced it.
    pub fn of_tcp(tcp: &TcpSlice) -> Flags {
        // The eight bits are byte 13 of the header, in this type's order.
        Flags(tcp.header_slice()[13])
    }

    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
    pub fn intersects(self, other: Flags) -> bool {
        self.0 & other.0 != 0
    }
    pub fn syn(self) -> bool {
        self.contains(Flags::SYN)
    }
    pub fn ack(self) -> bool {
        self.contains(Flags::ACK)
    }
    pub fn fin(self) -> bool {
        self.contains(Flags::FIN)
    }
    pub fn rst(self) -> bool {
        self.contains(Flags::RST)
    }
    pub fn psh(self) -> bool {
        self.contains(Flags::PSH)
    }

    /// Sequence space the control flags occupy: SYN and FIN count one each
    /// (RFC 9293 §3.4).
    pub fn seq_len(self) -> u32 {
        u32::from(self.syn()) + u32::from(self.fin())
    }

    /// The schema's names, e.g. `["SYN", "ACK"]`.
    pub fn names(self) -> Vec<&'static str> {
        Self::TABLE
            .iter()
            .filter(|(f, _, _)| self.contains(*f))
            .map(|(_, n, _)| *n)
            .collect()
    }

    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<Flags> {
        let mut f = Flags::NONE;
        for n in names {
            let (bit, _, _) = Self::TABLE.iter().find(|(_, name, _)| *name == n)?;
            f = f | *bit;
        }
        Some(f)
    }

    /// Parse letters such as `SA`, `FA`, `PA`, `R` (case-insensitive); `.` or
    /// an empty string is the empty set.
    pub fn from_letters(s: &str) -> Result<Flags, String> {
        let mut f = Flags::NONE;
        for c in s.chars() {
            if c == '.' {
                continue;
            }
            let up = c.to_ascii_uppercase();
            match Self::TABLE.iter().find(|(_, _, l)| *l == up) {
                Some((bit, _, _)) => f = f | *bit,
                None => {
                    return Err(format!(
                        "unknown flag letter '{c}' in \"{s}\" (use S A F R P U E C)"
                    ));
                }
            }
        }
        Ok(f)
    }

    /// tcpdump-like letters in the order people write them: `SA`, `FA`, `PA`.
    pub fn letters(self) -> String {
        if self.0 == 0 {
            return ".".into();
        }
        const ORDER: [(Flags, char); 8] = [
            (Flags::SYN, 'S'),
            (Flags::FIN, 'F'),
            (Flags::RST, 'R'),
            (Flags::PSH, 'P'),
            (Flags::ACK, 'A'),
            (Flags::URG, 'U'),
            (Flags::ECE, 'E'),
            (Flags::CWR, 'C'),
        ];
        ORDER
            .iter()
            .filter(|(f, _)| self.contains(*f))
            .map(|(_, l)| *l)
            .collect()
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, o: Flags) -> Flags {
        Flags(self.0 | o.0)
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.names().join(","))
    }
}

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.letters())
    }
}

/// The TCP options tcpscope understands (RFC 9293 MSS, RFC 7323 WS and TS,
/// RFC 2018 SACK). Unknown options are skipped by their length (RFC 9293
/// §3.1: "MUST ignore without error any option it does not implement").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    pub sack_perm: bool,
    /// (TSval, TSecr)
    pub timestamp: Option<(u32, u32)>,
    pub sack: Vec<(SeqNum, SeqNum)>,
}

impl TcpOptions {
    pub fn is_empty(&self) -> bool {
        self.mss.is_none()
            && self.wscale.is_none()
            && !self.sack_perm
            && self.timestamp.is_none()
            && self.sack.is_empty()
    }

    /// Strings for the `opts` field of events, in the order Linux puts them.
    pub fn describe(&self) -> Vec<String> {
        let mut v = Vec::with_capacity(2);
        if let Some(m) = self.mss {
            v.push(format!("MSS={m}"));
        }
        if self.sack_perm {
            v.push("SACK_PERM".into());
        }
        if let Some((val, ecr)) = self.timestamp {
            // On every segment's event: written digit by digit, not through
            // `format!`'s machinery.
            let mut ts = String::with_capacity(24);
            ts.push_str("TS=");
            push_u32(&mut ts, val);
            ts.push(',');
            push_u32(&mut ts, ecr);
            v.push(ts);
        }
        if let Some(w) = self.wscale {
            v.push(format!("WS={w}"));
        }
        if !self.sack.is_empty() {
            let blocks: Vec<String> = self
                .sack
                .iter()
                .map(|(l, r)| format!("{}-{}", l.0, r.0))
                .collect();
            v.push(format!("SACK={}", blocks.join(",")));
        }
        v
    }

    /// The inverse of [`TcpOptions::describe`]: the options an event's
    /// `opts` strings name, or which string is not one of them.
    pub fn from_described<S: AsRef<str>>(items: &[S]) -> Result<TcpOptions, String> {
        fn num<T: std::str::FromStr>(item: &str, v: &str) -> Result<T, String> {
            v.parse()
                .map_err(|_| format!("option {item:?}: {v:?} is not a number in range"))
        }
        let mut o = TcpOptions::default();
        for item in items {
            let item = item.as_ref();
            match item.split_once('=') {
                None if item == "SACK_PERM" => o.sack_perm = true,
                Some(("MSS", v)) => o.mss = Some(num(item, v)?),
                Some(("WS", v)) => o.wscale = Some(num(item, v)?),
                Some(("TS", v)) => {
                    let (val, ecr) = v
                        .split_once(',')
                        .ok_or_else(|| format!("option {item:?}: TS=val,ecr expected"))?;
                    o.timestamp = Some((num(item, val)?, num(item, ecr)?));
                }
                Some(("SACK", v)) => {
                    for block in v.split(',') {
                        let (l, r) = block.split_once('-').ok_or_else(|| {
                            format!("option {item:?}: SACK=left-right,… expected")
                        })?;
                        o.sack.push((SeqNum(num(item, l)?), SeqNum(num(item, r)?)));
                    }
                }
                _ => {
                    return Err(format!(
                        "unknown option {item:?} (MSS=, SACK_PERM, TS=, WS= or SACK= expected)"
                    ));
                }
            }
        }
        Ok(o)
    }

    /// The options as bytes, in [`TcpOptions::elements`]' order and
    /// alignment, padded with zeros (End of Option List) to a multiple of 4
    /// (RFC 9293 §3.1); returns how many bytes of `out` they take. SACK
    /// blocks that would not fit are left out, as there.
    fn encode(&self, out: &mut [u8; 40]) -> usize {
        fn put(out: &mut [u8; 40], n: &mut usize, bytes: &[u8]) {
            out[*n..*n + bytes.len()].copy_from_slice(bytes);
            *n += bytes.len();
        }
        let mut n = 0;
        if let Some(m) = self.mss {
            let [hi, lo] = m.to_be_bytes();
            put(out, &mut n, &[2, 4, hi, lo]);
        }
        let ts = |(a, b): (u32, u32)| {
            let (a, b) = (a.to_be_bytes(), b.to_be_bytes());
            [8, 10, a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]]
        };
        match (self.sack_perm, self.timestamp) {
            (true, Some(t)) => {
                put(out, &mut n, &[4, 2]);
                put(out, &mut n, &ts(t));
            }
            (true, None) => put(out, &mut n, &[1, 1, 4, 2]),
            (false, Some(t)) => {
                put(out, &mut n, &[1, 1]);
                put(out, &mut n, &ts(t));
            }
            (false, None) => {}
        }
        if let Some(w) = self.wscale {
            put(out, &mut n, &[1, 3, 3, w]);
        }
        let room = (40usize.saturating_sub(n + 4) / 8).min(4);
        let blocks = self.sack.len().min(room);
        if blocks > 0 {
            put(out, &mut n, &[1, 1, 5, 2 + 8 * blocks as u8]);
            for (l, r) in &self.sack[..blocks] {
                put(out, &mut n, &l.0.to_be_bytes());
                put(out, &mut n, &r.0.to_be_bytes());
            }
        }
        // `out` starts zeroed: the padding is already there.
        n.next_multiple_of(4)
    }

    /// Elements in Linux's order and alignment: MSS, SACK_PERM, TS, NOP, WS on
    /// a SYN; NOP, NOP, TS and NOP, NOP, SACK on other segments. The tests'
    /// oracle for [`TcpOptions::encode`].
    #[cfg(test)]
    fn elements(&self) -> Vec<TcpOptionElement> {
        use TcpOptionElement::*;
        let mut e = Vec::with_capacity(8);
        if let Some(m) = self.mss {
            e.push(MaximumSegmentSize(m));
        }
        match (self.sack_perm, self.timestamp) {
            (true, Some((a, b))) => {
                e.push(SelectiveAcknowledgementPermitted);
                e.push(Timestamp(a, b));
            }
            (true, None) => {
                e.push(Noop);
                e.push(Noop);
                e.push(SelectiveAcknowledgementPermitted);
            }
            (false, Some((a, b))) => {
                e.push(Noop);
                e.push(Noop);
                e.push(Timestamp(a, b));
            }
            (false, None) => {}
        }
        if let Some(w) = self.wscale {
            e.push(Noop);
            e.push(WindowScale(w));
        }
        if !self.sack.is_empty() {
            // The options field holds 40 bytes: as many blocks as fit after
            // the other options (RFC 2018 §3: three with timestamps, four
            // without), each 8 bytes after 2 NOPs and the kind and length.
            let used: usize = e
                .iter()
                .map(|o| match o {
                    Noop => 1,
                    MaximumSegmentSize(_) => 4,
                    WindowScale(_) => 3,
                    SelectiveAcknowledgementPermitted => 2,
                    Timestamp(_, _) => 10,
                    SelectiveAcknowledgement(_, _) => 0,
                })
                .sum();
            let room = (40usize.saturating_sub(used + 4) / 8).min(4);
            if room == 0 {
                return e;
            }
            let blocks: Vec<(u32, u32)> = self
                .sack
                .iter()
                .take(room)
                .map(|(l, r)| (l.0, r.0))
                .collect();
            let mut rest = [None; 3];
            for (i, b) in blocks.iter().skip(1).enumerate() {
                rest[i] = Some(*b);
            }
            e.push(Noop);
            e.push(Noop);
            e.push(SelectiveAcknowledgement(blocks[0], rest));
        }
        e
    }
}

/// One TCP segment with its IP addressing (both ends of one family).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: SeqNum,
    pub ack: SeqNum,
    pub flags: Flags,
    /// The window field as carried on the wire (unscaled).
    pub window: u16,
    pub urgent: u16,
    pub options: TcpOptions,
    pub payload: Vec<u8>,
}

impl Segment {
    /// Sequence space the segment occupies: payload plus
    /// [`Flags::seq_len`].
    pub fn seg_len(&self) -> usize {
        self.payload.len() + self.flags.seq_len() as usize
    }

    /// Build the IP packet with correct checksums: IPv4 with DF set and TTL
    /// 64, or IPv6 with hop limit 64 and no extension headers.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(40 + 60 + self.payload.len());
        self.emit_into(&mut out);
        out
    }

    /// As [`Segment::emit`], with the TCP checksum left partial (the
    /// pseudo-header sum, as checksum offload hands a packet to a NIC;
    /// [`complete_tcp_checksum`] makes it whole).
    pub fn emit_partial(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(40 + 60 + self.payload.len());
        self.emit_partial_into(&mut out);
        out
    }

    pub fn emit_into(&self, out: &mut Vec<u8>) {
        self.emit_with(out, true);
    }

    /// As [`Segment::emit_partial`], appended to `out`, which must be empty.
    pub fn emit_partial_into(&self, out: &mut Vec<u8>) {
        self.emit_with(out, false);
        set_partial_tcp_checksum(out);
    }

    /// The packet written byte by byte (RFC 791 §3.1, RFC 8200 §3, RFC
    /// 9293 §3.1): this runs for every segment sent, and going through
    /// etherparse's header values cost an allocation and two passes over the
    /// payload per segment (docs/benchmarks.md, What stands in the way).
    /// `emit_with_etherparse` in the tests is the oracle it is checked
    /// against.
    fn emit_with(&self, out: &mut Vec<u8>, checksum: bool) {
        let mut opts = [0u8; 40];
        let opt_len = self.options.encode(&mut opts);
        let tcp_len = 20 + opt_len + self.payload.len();
        // Segments are bounded by the MSS, far below 64 KiB.
        let tcp_len16 = tcp_len as u16;
        out.reserve(40 + tcp_len);
        let pseudo = match (self.src.ip(), self.dst.ip()) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => {
                let (src, dst) = (src.octets(), dst.octets());
                let total = (20 + tcp_len) as u16;
                let mut ip = [0u8; 20];
                ip[0] = 0x45;
                ip[2..4].copy_from_slice(&total.to_be_bytes());
                // Identification 0, DF set (RFC 791 §3.1; Linux sets DF on
                // TCP for path MTU discovery, RFC 1191).
                ip[6] = 0x40;
                ip[8] = 64;
                ip[9] = 6;
                ip[12..16].copy_from_slice(&src);
                ip[16..20].copy_from_slice(&dst);
                let sum = !fold(ones_sum(&ip));
                ip[10..12].copy_from_slice(&sum.to_ne_bytes());
                out.extend_from_slice(&ip);
                pseudo_v4(src, dst, tcp_len)
            }
            (src, dst) => {
                let (src, dst) = (v6_octets(src), v6_octets(dst));
                let mut ip = [0u8; 40];
                ip[0] = 0x60;
                ip[4..6].copy_from_slice(&tcp_len16.to_be_bytes());
                ip[6] = 6;
                ip[7] = 64;
                ip[8..24].copy_from_slice(&src);
                ip[24..40].copy_from_slice(&dst);
                out.extend_from_slice(&ip);
                pseudo_v6(src, dst, tcp_len)
            }
        };
        let start = out.len();
        let mut tcp = [0u8; 20];
        tcp[0..2].copy_from_slice(&self.src.port().to_be_bytes());
        tcp[2..4].copy_from_slice(&self.dst.port().to_be_bytes());
        tcp[4..8].copy_from_slice(&self.seq.0.to_be_bytes());
        tcp[8..12].copy_from_slice(&self.ack.0.to_be_bytes());
        tcp[12] = (((20 + opt_len) / 4) as u8) << 4;
        tcp[13] = self.flags.0;
        tcp[14..16].copy_from_slice(&self.window.to_be_bytes());
        tcp[18..20].copy_from_slice(&self.urgent.to_be_bytes());
        out.extend_from_slice(&tcp);
        out.extend_from_slice(&opts[..opt_len]);
        out.extend_from_slice(&self.payload);
        if checksum {
            let sum = tcp_checksum(pseudo, &out[start..]);
            out[start + 16..start + 18].copy_from_slice(&sum);
        }
    }
}

/// The ones' complement sum of `data` as 16-bit words (RFC 1071), not yet
/// folded. Blocks of 32 bytes go into sixteen 32-bit lanes, a shape the
/// compiler turns into vector adds (a lane takes at most 65,535 per block,
/// so it cannot overflow for any IP packet's 2,048 blocks); the rest word
/// by word. RFC 1071 §2(B): the sum in native order, stored in native
/// order, is the sum in network order.
pub fn ones_sum(data: &[u8]) -> u64 {
    let mut blocks = data.chunks_exact(32);
    let mut lanes = [0u32; 16];
    for block in blocks.by_ref() {
        for (lane, w) in lanes.iter_mut().zip(block.chunks_exact(2)) {
            *lane += u32::from(u16::from_ne_bytes([w[0], w[1]]));
        }
    }
    let mut sum: u64 = lanes.iter().map(|&l| u64::from(l)).sum();
    let rest = blocks.remainder();
    let mut words = rest.chunks_exact(2);
    for w in words.by_ref() {
        sum += u64::from(u16::from_ne_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        // An odd byte is padded with a zero byte (RFC 9293 §3.1).
        sum += u64::from(u16::from_ne_bytes([*last, 0]));
    }
    sum
}

/// [`ones_sum`] folded to 16 bits with end-around carries.
pub fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// RFC 9293 §3.1's pseudo-header: source, destination, zero, protocol,
/// TCP length.
fn pseudo_v4(src: [u8; 4], dst: [u8; 4], tcp_len: usize) -> u64 {
    ones_sum(&src) + ones_sum(&dst) + ones_sum(&[0, 6]) + ones_sum(&(tcp_len as u16).to_be_bytes())
}

/// RFC 8200 §8.1's: both addresses, the upper-layer length and next
/// header 6.
fn pseudo_v6(src: [u8; 16], dst: [u8; 16], tcp_len: usize) -> u64 {
    ones_sum(&src)
        + ones_sum(&dst)
        + ones_sum(&(tcp_len as u32).to_be_bytes())
        + ones_sum(&[0, 0, 0, 6])
}

/// The checksum field's bytes for the TCP segment `tcp` (header and
/// payload; the field itself is left out of the sum) under `pseudo`.
fn tcp_checksum(pseudo: u64, tcp: &[u8]) -> [u8; 2] {
    (!fold(pseudo + ones_sum(&tcp[..16]) + ones_sum(&tcp[18..]))).to_ne_bytes()
}

/// An address as IPv6 octets; an IPv4 one mapped (RFC 4291 §2.5.5.2), which
/// only a hand-made segment with mixed families can ask for.
fn v6_octets(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V6(a) => a.octets(),
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
    }
}

/// `n` in decimal at the end of `s`.
fn push_u32(s: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    s.push_str(std::str::from_utf8(&digits[i..]).expect("ASCII digits"));
}

/// Why a packet could not be turned into a segment. The `reason` strings are
/// the `drop` event's `reason` field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// Not IP, or IPv4 carrying UDP, ICMP, …: not for the TCP engine.
    NotIpv4Tcp,
    /// IPv6 carrying ICMPv6, UDP, …: not for the TCP engine.
    NotIpv6Tcp,
    /// IP fragments (IPv4, or an IPv6 fragment header): tcpscope does not
    /// reassemble (Linux sets DF; IPv6 senders use path MTU discovery).
    Fragment,
    /// Truncated headers, data offset under 5 or beyond the packet, bad IP
    /// header checksum or length.
    Malformed(String),
    /// A TCP option with a length that cannot be (0, 1, beyond the header).
    BadOption(String),
    /// The TCP checksum does not match; the parsed header rides along so the
    /// event can show what was lost.
    Checksum(Box<Segment>),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::NotIpv4Tcp => write!(f, "not an IPv4 TCP packet"),
            WireError::NotIpv6Tcp => write!(f, "not an IPv6 TCP packet"),
            WireError::Fragment => write!(f, "IP fragment"),
            WireError::Malformed(s) => write!(f, "malformed packet: {s}"),
            WireError::BadOption(s) => write!(f, "bad TCP option: {s}"),
            WireError::Checksum(_) => write!(f, "TCP checksum mismatch"),
        }
    }
}

/// Parse the options field. The walk over kinds and lengths is ours so that
/// unknown kinds are skipped by their length (etherparse stops at them);
/// each known element is decoded and size-checked by etherparse.
pub fn parse_options(raw: &[u8]) -> Result<TcpOptions, WireError> {
    let mut o = TcpOptions::default();
    let mut i = 0;
    while i < raw.len() {
        let kind = raw[i];
        match kind {
            0 => break, // End of Option List
            1 => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let len = match raw.get(i + 1) {
            Some(&l) => l as usize,
            None => {
                return Err(WireError::BadOption(format!(
                    "option {kind} has no length byte"
                )));
            }
        };
        if len < 2 || i + len > raw.len() {
            return Err(WireError::BadOption(format!(
                "option {kind} has length {len} with {} bytes left",
                raw.len() - i
            )));
        }
        let one = &raw[i..i + len];
        i += len;
        let elem = match TcpOptionsIterator::from_slice(one).next() {
            Some(Ok(e)) => e,
            Some(Err(TcpOptionReadError::UnknownId(_))) | None => continue,
            Some(Err(e)) => return Err(WireError::BadOption(e.to_string())),
        };
        match elem {
            TcpOptionElement::MaximumSegmentSize(m) => o.mss = Some(m),
            TcpOptionElement::WindowScale(w) => o.wscale = Some(w),
            TcpOptionElement::SelectiveAcknowledgementPermitted => o.sack_perm = true,
            TcpOptionElement::Timestamp(a, b) => o.timestamp = Some((a, b)),
            TcpOptionElement::SelectiveAcknowledgement(first, rest) => {
                o.sack.clear();
                o.sack.push((SeqNum(first.0), SeqNum(first.1)));
                for (l, r) in rest.into_iter().flatten() {
                    o.sack.push((SeqNum(l), SeqNum(r)));
                }
            }
            TcpOptionElement::Noop => {}
        }
    }
    Ok(o)
}

/// Complete a partial checksum (a device's checksum offload, virtio-net
/// `NEEDS_CSUM`): the field at `start + off` holds the pseudo-header sum; the
/// ones' complement of the sum from `start` to the end goes there. Bounds
/// that do not fit the packet are left alone (the packet will fail its
/// checksum).
pub fn complete_checksum(pkt: &mut [u8], start: usize, off: usize) {
    let at = start + off;
    if start >= pkt.len() || at + 2 > pkt.len() {
        return;
    }
    // Native-endian words, stored in the same order (RFC 1071 §2(B)).
    let sum = !fold(ones_sum(&pkt[start..]));
    pkt[at..at + 2].copy_from_slice(&sum.to_ne_bytes());
}

/// Where the TCP header starts in an IPv4 packet, or an IPv6 packet whose
/// next header is TCP (no extension headers); `None` otherwise.
fn plain_tcp_offset(packet: &[u8]) -> Option<usize> {
    match packet.first()? >> 4 {
        4 if packet.get(9) == Some(&6) => Some(usize::from(packet[0] & 0x0f) * 4),
        6 if packet.get(6) == Some(&6) => Some(40),
        _ => None,
    }
}

/// Write the partial TCP checksum of an IPv4 or IPv6 packet (no extension
/// headers) in place: the pseudo-header sum over the addresses, protocol
/// and TCP length (RFC 9293 §3.1, RFC 8200 §8.1), as a device with checksum
/// offload expects it; [`complete_tcp_checksum`] finishes it.
pub fn set_partial_tcp_checksum(packet: &mut [u8]) {
    let Some(start) = plain_tcp_offset(packet) else {
        return;
    };
    if packet.len() < start + 20 {
        return;
    }
    let tcp_len = packet.len() - start;
    let at = |i: usize| packet[i..i + 16].try_into().expect("16 bytes");
    let pseudo = if start == 40 {
        pseudo_v6(at(8), at(24), tcp_len)
    } else {
        let v4 = |i: usize| packet[i..i + 4].try_into().expect("4 bytes");
        pseudo_v4(v4(12), v4(16), tcp_len)
    };
    // The pseudo-header's sum, not complemented (what a device with
    // checksum offload adds the segment's sum to); native-endian words,
    // stored in the same order (RFC 1071 §2(B)).
    packet[start + 16..start + 18].copy_from_slice(&fold(pseudo).to_ne_bytes());
}

/// Complete the partial TCP checksum of an IPv4 or IPv6 packet in place.
pub fn complete_tcp_checksum(packet: &mut [u8]) {
    if let Some(start) = plain_tcp_offset(packet) {
        complete_checksum(packet, start, 16);
    }
}

/// Whether a partial checksum (`start`, `off` from the device) is the usual
/// one, a TCP checksum over the whole segment of an IPv4 packet or an IPv6
/// packet without extension headers: [`parse_unverified`] and
/// [`complete_tcp_checksum`] know where it is, so it may stay partial.
pub fn is_plain_tcp_partial(packet: &[u8], start: usize, off: usize) -> bool {
    off == 16 && plain_tcp_offset(packet) == Some(start)
}

/// Parse an IPv4 or IPv6 packet carrying TCP.
pub fn parse(packet: &[u8]) -> Result<Segment, WireError> {
    parse_inner(packet, true, Vec::new())
}

/// As [`parse`] (or [`parse_unverified`] without `verify`), with the
/// payload copied into `buf` (emptied first): a buffer used before, so the
/// receive path need not allocate.
pub fn parse_into(packet: &[u8], verify: bool, buf: Vec<u8>) -> Result<Segment, WireError> {
    parse_inner(packet, verify, buf)
}

/// Parse without checking the TCP checksum, for packets whose link vouches
/// for their data (checksum offload: the local kernel left the checksum
/// partial, as it does for any device that offers to compute it).
pub fn parse_unverified(packet: &[u8]) -> Result<Segment, WireError> {
    parse_inner(packet, false, Vec::new())
}

fn parse_inner(packet: &[u8], verify: bool, buf: Vec<u8>) -> Result<Segment, WireError> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => parse_v4(packet, verify, buf),
        Some(6) => parse_v6(packet, verify, buf),
        _ => Err(WireError::NotIpv4Tcp),
    }
}

fn parse_v4(packet: &[u8], verify: bool, buf: Vec<u8>) -> Result<Segment, WireError> {
    let ip =
        Ipv4HeaderSlice::from_slice(packet).map_err(|e| WireError::Malformed(e.to_string()))?;
    let head = ip.slice();
    let sum = !fold(ones_sum(&head[..10]) + ones_sum(&head[12..]));
    if sum.to_ne_bytes() != [head[10], head[11]] {
        return Err(WireError::Malformed("IPv4 header checksum".into()));
    }
    if ip.protocol() != IpNumber::TCP {
        return Err(WireError::NotIpv4Tcp);
    }
    if ip.is_fragmenting_payload() {
        return Err(WireError::Fragment);
    }
    let total = ip.total_len() as usize;
    let ihl = ip.slice().len();
    if total < ihl || total > packet.len() {
        return Err(WireError::Malformed(format!(
            "IPv4 total length {total} with {} bytes received",
            packet.len()
        )));
    }
    let tcp_bytes = &packet[ihl..total];
    let tcp = TcpSlice::from_slice(tcp_bytes).map_err(|e| WireError::Malformed(e.to_string()))?;
    let src = SocketAddr::V4(SocketAddrV4::new(
        Ipv4Addr::from(ip.source()),
        tcp.source_port(),
    ));
    let dst = SocketAddr::V4(SocketAddrV4::new(
        Ipv4Addr::from(ip.destination()),
        tcp.destination_port(),
    ));
    let seg = segment(src, dst, &tcp, buf)?;
    if verify
        && tcp_checksum(
            pseudo_v4(ip.source(), ip.destination(), tcp_bytes.len()),
            tcp_bytes,
        ) != [tcp_bytes[16], tcp_bytes[17]]
    {
        return Err(WireError::Checksum(Box::new(seg)));
    }
    Ok(seg)
}

/// IPv6: etherparse walks the extension headers (hop-by-hop, routing,
/// destination options, …: RFC 8200 §4 lets a host skip those it is not
/// asked to act on); a fragment header means a fragment, which is dropped.
fn parse_v6(packet: &[u8], verify: bool, buf: Vec<u8>) -> Result<Segment, WireError> {
    let ip = Ipv6Slice::from_slice(packet).map_err(|e| WireError::Malformed(e.to_string()))?;
    let payload = ip.payload();
    if payload.fragmented {
        return Err(WireError::Fragment);
    }
    if payload.ip_number != IpNumber::TCP {
        return Err(WireError::NotIpv6Tcp);
    }
    let hdr = ip.header();
    let tcp =
        TcpSlice::from_slice(payload.payload).map_err(|e| WireError::Malformed(e.to_string()))?;
    let src = SocketAddr::V6(SocketAddrV6::new(
        Ipv6Addr::from(hdr.source()),
        tcp.source_port(),
        0,
        0,
    ));
    let dst = SocketAddr::V6(SocketAddrV6::new(
        Ipv6Addr::from(hdr.destination()),
        tcp.destination_port(),
        0,
        0,
    ));
    let seg = segment(src, dst, &tcp, buf)?;
    let tcp_bytes = payload.payload;
    if verify
        && tcp_checksum(
            pseudo_v6(hdr.source(), hdr.destination(), tcp_bytes.len()),
            tcp_bytes,
        ) != [tcp_bytes[16], tcp_bytes[17]]
    {
        return Err(WireError::Checksum(Box::new(seg)));
    }
    Ok(seg)
}

/// The segment a TCP slice carries, its payload in `buf`.
fn segment(
    src: SocketAddr,
    dst: SocketAddr,
    tcp: &TcpSlice,
    mut buf: Vec<u8>,
) -> Result<Segment, WireError> {
    let flags = Flags::of_tcp(tcp);
    let options = parse_options(tcp.options())?;
    Ok(Segment {
        src,
        dst,
        seq: SeqNum(tcp.sequence_number()),
        ack: SeqNum(tcp.acknowledgment_number()),
        flags,
        window: tcp.window_size(),
        urgent: tcp.urgent_pointer(),
        options,
        payload: {
            buf.clear();
            buf.extend_from_slice(tcp.payload());
            buf
        },
    })
}

/// What the fault injector and the links need to know about a packet
/// without parsing all of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peek {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub flags: Flags,
    pub payload_len: usize,
    /// Offset of the TCP header in the packet.
    pub tcp_offset: usize,
}

/// Read addresses, ports, flags and payload length; `None` when the packet
/// is not IPv4 or IPv6 TCP (an IPv6 fragment is not) with sane header
/// lengths.
pub fn peek(packet: &[u8]) -> Option<Peek> {
    let (tcp_offset, total) = match *packet.first()? >> 4 {
        4 if packet.len() >= 20 && packet[9] == 6 => (
            usize::from(packet[0] & 0x0f) * 4,
            usize::from(u16::from_be_bytes([packet[2], packet[3]])),
        ),
        6 if packet.len() >= 40 && packet[6] == 6 => (
            40,
            40 + usize::from(u16::from_be_bytes([packet[4], packet[5]])),
        ),
        // Extension headers before TCP: etherparse walks them (rare, so
        // the fixed-header case above stays a few byte reads).
        6 => {
            let ip = Ipv6Slice::from_slice(packet).ok()?;
            let p = ip.payload();
            if p.ip_number != IpNumber::TCP || p.fragmented {
                return None;
            }
            let start = p.payload.as_ptr() as usize - packet.as_ptr() as usize;
            (start, start + p.payload.len())
        }
        _ => return None,
    };
    let total = total.min(packet.len());
    if tcp_offset < 20 || total < tcp_offset + 20 {
        return None;
    }
    let tcp = &packet[tcp_offset..total];
    let doff = usize::from(tcp[12] >> 4) * 4;
    if doff < 20 || doff > tcp.len() {
        return None;
    }
    let sport = u16::from_be_bytes([tcp[0], tcp[1]]);
    let dport = u16::from_be_bytes([tcp[2], tcp[3]]);
    let (src, dst) = if packet[0] >> 4 == 6 {
        let ip = |o: usize| {
            let b: [u8; 16] = packet[o..o + 16].try_into().expect("16 bytes");
            Ipv6Addr::from(b)
        };
        (
            SocketAddr::V6(SocketAddrV6::new(ip(8), sport, 0, 0)),
            SocketAddr::V6(SocketAddrV6::new(ip(24), dport, 0, 0)),
        )
    } else {
        let ip = |o: usize| Ipv4Addr::new(packet[o], packet[o + 1], packet[o + 2], packet[o + 3]);
        (
            SocketAddr::V4(SocketAddrV4::new(ip(12), sport)),
            SocketAddr::V4(SocketAddrV4::new(ip(16), dport)),
        )
    };
    Some(Peek {
        src,
        dst,
        flags: Flags(tcp[13]),
        payload_len: tcp.len() - doff,
        tcp_offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg() -> Segment {
        Segment {
            src: "10.0.0.1:40000".parse().unwrap(),
            dst: "10.0.0.2:80".parse().unwrap(),
            seq: SeqNum(1000),
            ack: SeqNum(0),
            flags: Flags::SYN,
            window: 64240,
            urgent: 0,
            options: TcpOptions {
                mss: Some(1460),
                wscale: Some(7),
                sack_perm: true,
                timestamp: Some((1, 0)),
                sack: vec![],
            },
            payload: vec![],
        }
    }

    /// The packet as etherparse's header values build it: the oracle
    /// `Segment::emit_with` is checked against.
    fn emit_with_etherparse(seg: &Segment) -> Vec<u8> {
        use etherparse::{Ipv4Header, Ipv6FlowLabel, Ipv6Header, TcpHeader};
        let mut tcp = TcpHeader::new(seg.src.port(), seg.dst.port(), seg.seq.0, seg.window);
        tcp.acknowledgment_number = seg.ack.0;
        let f = seg.flags;
        (tcp.fin, tcp.syn, tcp.rst, tcp.psh, tcp.ack) =
            (f.fin(), f.syn(), f.rst(), f.psh(), f.ack());
        tcp.urg = f.contains(Flags::URG);
        tcp.ece = f.contains(Flags::ECE);
        tcp.cwr = f.contains(Flags::CWR);
        tcp.urgent_pointer = seg.urgent;
        tcp.set_options(&seg.options.elements()).unwrap();
        let tcp_len = (tcp.header_len() + seg.payload.len()) as u16;
        let mut out = Vec::new();
        match (seg.src.ip(), seg.dst.ip()) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => {
                let mut ip =
                    Ipv4Header::new(tcp_len, 64, IpNumber::TCP, src.octets(), dst.octets())
                        .unwrap();
                ip.header_checksum = ip.calc_header_checksum();
                tcp.checksum = tcp.calc_checksum_ipv4(&ip, &seg.payload).unwrap();
                out.extend_from_slice(&ip.to_bytes());
            }
            (src, dst) => {
                let ip = Ipv6Header {
                    traffic_class: 0,
                    flow_label: Ipv6FlowLabel::ZERO,
                    payload_length: tcp_len,
                    next_header: IpNumber::TCP,
                    hop_limit: 64,
                    source: v6_octets(src),
                    destination: v6_octets(dst),
                };
                tcp.checksum = tcp.calc_checksum_ipv6(&ip, &seg.payload).unwrap();
                out.extend_from_slice(&ip.to_bytes());
            }
        }
        out.extend_from_slice(&tcp.to_bytes());
        out.extend_from_slice(&seg.payload);
        out
    }

    #[test]
    fn emit_is_byte_for_byte_what_etherparse_builds() {
        let mut checked = 0;
        for (src, dst) in [
            ("10.0.0.1:40000", "10.0.0.2:80"),
            ("[fd77::1]:40000", "[fd77::2]:443"),
        ] {
            for mask in 0..32u32 {
                for (len, nsack) in [
                    (0usize, 0usize),
                    (1, 1),
                    (7, 2),
                    (1448, 3),
                    (1449, 4),
                    (3, 5),
                ] {
                    let mut s = seg();
                    s.src = src.parse().unwrap();
                    s.dst = dst.parse().unwrap();
                    s.flags = Flags((mask * 37 + len as u32) as u8);
                    s.seq = SeqNum(0xfedc_ba98 ^ mask);
                    s.ack = SeqNum(0x0123_4567 + len as u32);
                    s.window = 0xffff - mask as u16;
                    s.urgent = (mask % 3) as u16;
                    s.options = TcpOptions {
                        mss: (mask & 1 != 0).then_some(1460),
                        wscale: (mask & 2 != 0).then_some(7),
                        sack_perm: mask & 4 != 0,
                        timestamp: (mask & 8 != 0).then_some((0xdead_beef, mask)),
                        sack: (0..nsack as u32)
                            .map(|i| (SeqNum(i * 3000 + 17), SeqNum(i * 3000 + 1465)))
                            .filter(|_| mask & 16 != 0)
                            .collect(),
                    };
                    s.payload = (0..len).map(|i| (i * 7 + mask as usize) as u8).collect();
                    assert_eq!(s.emit(), emit_with_etherparse(&s), "{s:?}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 2 * 32 * 6);
    }

    #[test]
    fn ones_sum_folds_as_rfc_1071_example() {
        // RFC 1071 §3's example: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to
        // ddf2 in network order.
        let bytes = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(
            u16::from_be_bytes(fold(ones_sum(&bytes)).to_ne_bytes()),
            0xddf2
        );
        // Odd length: the last byte is padded with zero.
        assert_eq!(
            u16::from_be_bytes(fold(ones_sum(&bytes[..7])).to_ne_bytes()),
            0xddf2 - 0x00f7
        );
    }

    #[test]
    fn round_trip_syn_with_linux_layout() {
        let s = seg();
        let bytes = s.emit();
        // 20 IP + 20 TCP + 20 options (MSS 4, SACK_PERM 2, TS 10, NOP 1, WS 3)
        assert_eq!(bytes.len(), 60);
        assert_eq!(&bytes[40..44], &[2, 4, 0x05, 0xb4]);
        assert_eq!(&bytes[44..46], &[4, 2]);
        assert_eq!(bytes[46], 8);
        assert_eq!(&bytes[56..60], &[1, 3, 3, 7]);
        assert_eq!(parse(&bytes).unwrap(), s);
    }

    #[test]
    fn round_trip_data_with_sack() {
        let mut s = seg();
        s.flags = Flags::ACK | Flags::PSH;
        s.options = TcpOptions {
            timestamp: Some((5, 6)),
            sack: vec![(SeqNum(10), SeqNum(20)), (SeqNum(30), SeqNum(40))],
            ..Default::default()
        };
        s.payload = b"hello".to_vec();
        let p = parse(&s.emit()).unwrap();
        assert_eq!(p, s);
        assert_eq!(
            p.options.describe(),
            vec!["TS=5,6".to_string(), "SACK=10-20,30-40".to_string()]
        );
    }

    #[test]
    fn checksum_failure_is_named_and_keeps_header() {
        let mut bytes = seg().emit();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        match parse(&bytes) {
            Err(WireError::Checksum(s)) => assert_eq!(s.seq, SeqNum(1000)),
            other => panic!("expected checksum error, got {other:?}"),
        }
    }

    #[test]
    fn unknown_option_is_skipped() {
        // MSS, then an unknown kind 253 of length 4, then WS.
        let opts = [2, 4, 5, 0xb4, 253, 4, 0xaa, 0xbb, 1, 3, 3, 7];
        let o = parse_options(&opts).unwrap();
        assert_eq!(o.mss, Some(1460));
        assert_eq!(o.wscale, Some(7));
    }

    #[test]
    fn option_length_zero_or_one_is_bad() {
        for len in [0u8, 1] {
            let opts = [253, len, 0, 0];
            assert!(matches!(parse_options(&opts), Err(WireError::BadOption(_))));
        }
        assert!(matches!(
            parse_options(&[2, 0, 0, 0]),
            Err(WireError::BadOption(_))
        ));
    }

    #[test]
    fn truncated_and_short_offset_are_malformed() {
        let bytes = seg().emit();
        assert!(matches!(parse(&bytes[..30]), Err(WireError::Malformed(_))));
        let mut b = bytes.clone();
        b[32] = 4 << 4; // data offset 4
        assert!(matches!(parse(&b), Err(WireError::Malformed(_))));
        assert_eq!(parse(&[0x10, 0, 0, 0]), Err(WireError::NotIpv4Tcp));
        assert!(matches!(
            parse(&[0x60, 0, 0, 0]),
            Err(WireError::Malformed(_))
        ));
    }

    fn seg6() -> Segment {
        Segment {
            src: "[fd77::1]:40000".parse().unwrap(),
            dst: "[fd77::2]:80".parse().unwrap(),
            ..seg()
        }
    }

    #[test]
    fn ipv6_round_trip_checked_by_etherparse() {
        let mut s = seg6();
        s.flags = Flags::ACK | Flags::PSH;
        s.options = TcpOptions {
            timestamp: Some((5, 6)),
            ..Default::default()
        };
        s.payload = b"hello".to_vec();
        let bytes = s.emit();
        // 40 IPv6 + 20 TCP + 12 options (NOP NOP TS) + 5.
        assert_eq!(bytes.len(), 77);
        let ip = etherparse::Ipv6HeaderSlice::from_slice(&bytes).unwrap();
        assert_eq!(ip.next_header(), IpNumber::TCP);
        assert_eq!(ip.hop_limit(), 64);
        assert_eq!(ip.payload_length(), 37);
        assert_eq!(ip.source_addr(), "fd77::1".parse::<Ipv6Addr>().unwrap());
        // etherparse's own checksum over the IPv6 pseudo-header agrees.
        let tcp = TcpSlice::from_slice(&bytes[40..]).unwrap();
        assert_eq!(
            tcp.calc_checksum_ipv6(ip.source(), ip.destination()),
            Ok(tcp.checksum())
        );
        assert_eq!(parse(&bytes).unwrap(), s);
        let p = peek(&bytes).unwrap();
        assert_eq!(
            (p.src, p.dst, p.flags, p.payload_len, p.tcp_offset),
            (s.src, s.dst, s.flags, 5, 40)
        );
        // A flipped payload bit fails the checksum, header kept.
        let mut bad = bytes.clone();
        bad[76] ^= 1;
        assert!(matches!(parse(&bad), Err(WireError::Checksum(h)) if h.seq == SeqNum(1000)));
    }

    #[test]
    fn ipv6_extension_headers_are_walked_and_fragments_dropped() {
        let s = seg6();
        let plain = s.emit();
        let tcp = &plain[40..];
        // A destination options header (next header 60) of 8 bytes: next
        // header TCP, length 0, a PadN option of 4 bytes.
        let with_ext = |next: u8, ext: &[u8]| {
            let mut v = plain[..40].to_vec();
            v[6] = next;
            let len = (ext.len() + tcp.len()) as u16;
            v[4..6].copy_from_slice(&len.to_be_bytes());
            v.extend_from_slice(ext);
            v.extend_from_slice(tcp);
            v
        };
        let dest_opts = with_ext(60, &[6, 0, 1, 4, 0, 0, 0, 0]);
        assert_eq!(parse(&dest_opts).unwrap(), s);
        // The fault injector's view looks past them too.
        let p = peek(&dest_opts).unwrap();
        assert_eq!(
            (p.src, p.dst, p.flags, p.tcp_offset),
            (s.src, s.dst, s.flags, 48)
        );
        // A fragment header (44): offset 0, more fragments.
        let frag = with_ext(44, &[6, 0, 0, 1, 0, 0, 0, 7]);
        assert_eq!(parse(&frag), Err(WireError::Fragment));
        assert_eq!(peek(&frag), None);
        // ICMPv6 (58) is not for the engine.
        let mut icmp = plain.clone();
        icmp[6] = 58;
        assert_eq!(parse(&icmp), Err(WireError::NotIpv6Tcp));
        // A payload length beyond the packet is malformed.
        let mut long = plain.clone();
        long[4..6].copy_from_slice(&1000u16.to_be_bytes());
        assert!(matches!(parse(&long), Err(WireError::Malformed(_))));
    }

    #[test]
    fn ipv6_partial_checksum_is_completed() {
        let mut s = seg6();
        s.flags = Flags::ACK;
        s.payload = (0..1000u32).map(|i| i as u8).collect();
        let good = s.emit();
        let mut partial = good.clone();
        let tcp_len = (good.len() - 40) as u32;
        let pseudo = etherparse::checksum::Sum16BitWords::new()
            .add_16bytes(good[8..24].try_into().unwrap())
            .add_16bytes(good[24..40].try_into().unwrap())
            .add_4bytes(tcp_len.to_be_bytes())
            .add_2bytes([0, 6])
            .ones_complement();
        partial[56..58].copy_from_slice(&(!pseudo).to_ne_bytes());
        assert!(is_plain_tcp_partial(&partial, 40, 16));
        assert!(!is_plain_tcp_partial(&partial, 20, 16));
        assert!(parse(&partial).is_err());
        assert_eq!(parse_unverified(&partial).unwrap(), s);
        complete_tcp_checksum(&mut partial);
        assert_eq!(partial, good);
    }

    #[test]
    fn peek_agrees_with_parse() {
        let mut s = seg();
        s.flags = Flags::ACK | Flags::PSH;
        s.payload = b"abc".to_vec();
        let p = peek(&s.emit()).unwrap();
        assert_eq!(
            (p.src, p.dst, p.flags, p.payload_len, p.tcp_offset),
            (s.src, s.dst, s.flags, 3, 20)
        );
        assert_eq!(peek(&[0x45; 10]), None);
    }

    #[test]
    fn flag_letters() {
        assert_eq!(Flags::from_letters("SA").unwrap(), Flags::SYN | Flags::ACK);
        assert_eq!((Flags::FIN | Flags::ACK).letters(), "FA");
        assert_eq!(Flags::from_letters("fa").unwrap(), Flags::FIN | Flags::ACK);
        assert!(Flags::from_letters("SX").is_err());
        assert_eq!((Flags::SYN | Flags::ACK).names(), vec!["SYN", "ACK"]);
    }

    #[test]
    fn a_partial_checksum_completes_to_the_full_one() {
        for (src, dst) in [
            ("10.0.0.1:40000", "10.0.0.2:80"),
            ("[fd77::1]:40000", "[fd77::2]:80"),
        ] {
            let mut s = seg();
            s.src = src.parse().unwrap();
            s.dst = dst.parse().unwrap();
            s.flags = Flags::ACK | Flags::PSH;
            s.payload = b"some data, odd length".to_vec();
            let full = s.emit();
            let mut partial = s.emit_partial();
            assert_ne!(partial, full, "{src}: the checksum field differs");
            assert!(parse(&partial).is_err(), "{src}: not a valid checksum yet");
            assert_eq!(parse_unverified(&partial).unwrap(), s);
            complete_tcp_checksum(&mut partial);
            assert_eq!(partial, full, "{src}");
        }
    }

    #[test]
    fn timestamps_are_described_in_decimal() {
        for (val, ecr) in [(0, 1), (9, 10), (4_294_967_295, 1_000_000_007)] {
            let o = TcpOptions {
                timestamp: Some((val, ecr)),
                ..TcpOptions::default()
            };
            assert_eq!(o.describe(), vec![format!("TS={val},{ecr}")]);
        }
    }

    proptest::proptest! {
        /// An event's `opts` strings read back to the options they came
        /// from (recordings and `--events` files are read again).
        #[test]
        fn described_options_read_back(
            mss in proptest::option::of(proptest::prelude::any::<u16>()),
            wscale in proptest::option::of(proptest::prelude::any::<u8>()),
            sack_perm in proptest::prelude::any::<bool>(),
            timestamp in proptest::option::of(proptest::prelude::any::<(u32, u32)>()),
            sack in proptest::collection::vec(proptest::prelude::any::<(u32, u32)>(), 0..4),
        ) {
            let o = TcpOptions {
                mss,
                wscale,
                sack_perm,
                timestamp,
                sack: sack.into_iter().map(|(l, r)| (SeqNum(l), SeqNum(r))).collect(),
            };
            proptest::prop_assert_eq!(TcpOptions::from_described(&o.describe()), Ok(o));
        }
    }

    #[test]
    fn strings_that_name_no_option_are_refused_by_name() {
        for (bad, says) in [
            ("NOP", "unknown option \"NOP\""),
            ("MSS=70000", "\"70000\" is not a number in range"),
            ("WS=x", "\"x\" is not a number"),
            ("TS=1", "TS=val,ecr expected"),
            ("SACK=1-2,3", "SACK=left-right,… expected"),
        ] {
            let e = TcpOptions::from_described(&[bad]).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
