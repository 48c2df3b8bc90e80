//! The wire format: IPv4 + TCP packets to and from [`Segment`] values.
//!
//! Parsing, building and checksums are etherparse's; this module only maps its
//! views onto the engine's representation and names the reason when a packet
//! cannot be used, so that the caller can emit a `drop` event.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};

use etherparse::{
    IpNumber, Ipv4Header, Ipv4HeaderSlice, TcpHeader, TcpOptionElement, TcpOptionReadError,
    TcpOptionsIterator, TcpSlice,
};

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
        let mut v = Vec::new();
        if let Some(m) = self.mss {
            v.push(format!("MSS={m}"));
        }
        if self.sack_perm {
            v.push("SACK_PERM".into());
        }
        if let Some((val, ecr)) = self.timestamp {
            v.push(format!("TS={val},{ecr}"));
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

    /// Elements in Linux's order and alignment: MSS, SACK_PERM, TS, NOP, WS on
    /// a SYN; NOP, NOP, TS and NOP, NOP, SACK on other segments.
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

/// One TCP segment with its IPv4 addressing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub src: SocketAddrV4,
    pub dst: SocketAddrV4,
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

    /// Build the IPv4 packet (DF set, TTL 64) with correct checksums.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(20 + 60 + self.payload.len());
        self.emit_into(&mut out);
        out
    }

    pub fn emit_into(&self, out: &mut Vec<u8>) {
        let mut tcp = TcpHeader::new(self.src.port(), self.dst.port(), self.seq.0, self.window);
        tcp.acknowledgment_number = self.ack.0;
        let f = self.flags;
        tcp.fin = f.fin();
        tcp.syn = f.syn();
        tcp.rst = f.rst();
        tcp.psh = f.psh();
        tcp.ack = f.ack();
        tcp.urg = f.contains(Flags::URG);
        tcp.ece = f.contains(Flags::ECE);
        tcp.cwr = f.contains(Flags::CWR);
        tcp.urgent_pointer = self.urgent;
        if !self.options.is_empty() {
            // `elements` leaves out SACK blocks that would not fit, so the
            // options always fit the 40 bytes.
            tcp.set_options(&self.options.elements())
                .expect("options are trimmed to 40 bytes");
        }
        let tcp_len = tcp.header_len() + self.payload.len();
        // Segments are bounded by the MSS, far below 64 KiB.
        let ip = Ipv4Header::new(
            tcp_len as u16,
            64,
            IpNumber::TCP,
            self.src.ip().octets(),
            self.dst.ip().octets(),
        )
        .expect("segment fits an IPv4 packet");
        let mut ip = ip;
        ip.header_checksum = ip.calc_header_checksum();
        tcp.checksum = tcp
            .calc_checksum_ipv4(&ip, &self.payload)
            .expect("segment fits an IPv4 packet");
        out.extend_from_slice(&ip.to_bytes());
        out.extend_from_slice(&tcp.to_bytes());
        out.extend_from_slice(&self.payload);
    }
}

/// Why a packet could not be turned into a segment. The `reason` strings are
/// the `drop` event's `reason` field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// IPv6, ARP, UDP, ICMP, …: not for the TCP engine.
    NotIpv4Tcp,
    /// IP fragments: tcpscope does not reassemble (Linux sets DF).
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
    // etherparse sums native-endian words; the ones' complement sum comes
    // out right when stored in the same order (RFC 1071 §2(B)).
    let sum = etherparse::checksum::Sum16BitWords::new()
        .add_slice(&pkt[start..])
        .ones_complement();
    pkt[at..at + 2].copy_from_slice(&sum.to_ne_bytes());
}

/// Complete the partial TCP checksum of an IPv4 packet in place.
pub fn complete_tcp_checksum(packet: &mut [u8]) {
    if let Some(&b) = packet.first() {
        complete_checksum(packet, usize::from(b & 0x0f) * 4, 16);
    }
}

/// Parse an IPv4 packet carrying TCP.
pub fn parse(packet: &[u8]) -> Result<Segment, WireError> {
    parse_inner(packet, true)
}

/// Parse without checking the TCP checksum, for packets whose link vouches
/// for their data (checksum offload: the local kernel left the checksum
/// partial, as it does for any device that offers to compute it).
pub fn parse_unverified(packet: &[u8]) -> Result<Segment, WireError> {
    parse_inner(packet, false)
}

fn parse_inner(packet: &[u8], verify: bool) -> Result<Segment, WireError> {
    if packet.first().map(|b| b >> 4) != Some(4) {
        return Err(WireError::NotIpv4Tcp);
    }
    let ip =
        Ipv4HeaderSlice::from_slice(packet).map_err(|e| WireError::Malformed(e.to_string()))?;
    let hdr = ip.to_header();
    if hdr.calc_header_checksum() != ip.header_checksum() {
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
    let src = SocketAddrV4::new(Ipv4Addr::from(ip.source()), tcp.source_port());
    let dst = SocketAddrV4::new(Ipv4Addr::from(ip.destination()), tcp.destination_port());
    let mut flags = Flags::NONE;
    for (set, bit) in [
        (tcp.fin(), Flags::FIN),
        (tcp.syn(), Flags::SYN),
        (tcp.rst(), Flags::RST),
        (tcp.psh(), Flags::PSH),
        (tcp.ack(), Flags::ACK),
        (tcp.urg(), Flags::URG),
        (tcp.ece(), Flags::ECE),
        (tcp.cwr(), Flags::CWR),
    ] {
        if set {
            flags = flags | bit;
        }
    }
    let options = parse_options(tcp.options())?;
    let seg = Segment {
        src,
        dst,
        seq: SeqNum(tcp.sequence_number()),
        ack: SeqNum(tcp.acknowledgment_number()),
        flags,
        window: tcp.window_size(),
        urgent: tcp.urgent_pointer(),
        options,
        payload: tcp.payload().to_vec(),
    };
    if verify {
        let sum = tcp
            .calc_checksum_ipv4(ip.source(), ip.destination())
            .map_err(|e| WireError::Malformed(e.to_string()))?;
        if sum != tcp.checksum() {
            return Err(WireError::Checksum(Box::new(seg)));
        }
    }
    Ok(seg)
}

/// What the fault injector and the links need to know about a packet
/// without parsing all of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peek {
    pub src: SocketAddrV4,
    pub dst: SocketAddrV4,
    pub flags: Flags,
    pub payload_len: usize,
    /// Offset of the TCP header in the packet.
    pub tcp_offset: usize,
}

/// Read addresses, ports, flags and payload length; `None` when the packet
/// is not IPv4 TCP with sane header lengths.
pub fn peek(packet: &[u8]) -> Option<Peek> {
    if packet.len() < 20 || packet[0] >> 4 != 4 || packet[9] != 6 {
        return None;
    }
    let ihl = usize::from(packet[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([packet[2], packet[3]])).min(packet.len());
    if ihl < 20 || total < ihl + 20 {
        return None;
    }
    let tcp = &packet[ihl..total];
    let doff = usize::from(tcp[12] >> 4) * 4;
    if doff < 20 || doff > tcp.len() {
        return None;
    }
    let ip = |o: usize| Ipv4Addr::new(packet[o], packet[o + 1], packet[o + 2], packet[o + 3]);
    Some(Peek {
        src: SocketAddrV4::new(ip(12), u16::from_be_bytes([tcp[0], tcp[1]])),
        dst: SocketAddrV4::new(ip(16), u16::from_be_bytes([tcp[2], tcp[3]])),
        flags: Flags(tcp[13]),
        payload_len: tcp.len() - doff,
        tcp_offset: ihl,
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
        assert_eq!(parse(&[0x60, 0, 0, 0]), Err(WireError::NotIpv4Tcp));
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
}
