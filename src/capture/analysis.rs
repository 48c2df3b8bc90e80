//! Wireshark's TCP analysis, so that a capture opened in tcpscope flags
//! the same packets as `tshark` does on the same file.
//!
//! The rules are the ones the Wireshark User's Guide lists under "TCP
//! Analysis" (docs/captures.md, Opening a capture, names them), checked per packet in
//! Wireshark's order against the state of the packet's direction (`fwd`)
//! and of the other direction (`rev`). Sequence numbers are absolute; 0
//! means "not seen yet", as Wireshark keeps them. Everything here is a
//! few numbers per direction: nothing grows with the packets.

use crate::event::Analysis;
use crate::wire::Flags;

/// One packet as the analysis needs it.
#[derive(Clone, Copy, Debug)]
pub struct Pkt {
    /// Capture time, nanoseconds.
    pub ns: u64,
    pub seq: u32,
    pub ack: u32,
    /// Payload bytes.
    pub len: u32,
    pub flags: Flags,
    /// The window field as on the wire.
    pub win: u16,
    /// The window scale option, on a SYN.
    pub wscale: Option<u8>,
}

/// Bits of [`Flagged`], one per analysis flag.
pub mod bit {
    pub const RETRANSMISSION: u16 = 1;
    pub const FAST_RETRANSMISSION: u16 = 1 << 1;
    pub const SPURIOUS_RETRANSMISSION: u16 = 1 << 2;
    pub const OUT_OF_ORDER: u16 = 1 << 3;
    pub const DUPLICATE_ACK: u16 = 1 << 4;
    pub const ZERO_WINDOW: u16 = 1 << 5;
    pub const ZERO_WINDOW_PROBE: u16 = 1 << 6;
    pub const ZERO_WINDOW_PROBE_ACK: u16 = 1 << 7;
    pub const WINDOW_UPDATE: u16 = 1 << 8;
    pub const WINDOW_FULL: u16 = 1 << 9;
    pub const KEEP_ALIVE: u16 = 1 << 10;
    pub const KEEP_ALIVE_ACK: u16 = 1 << 11;
    pub const LOST_SEGMENT: u16 = 1 << 12;
    pub const ACK_LOST_SEGMENT: u16 = 1 << 13;
    pub const RESET: u16 = 1 << 14;
}

/// The verdict on one packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flagged {
    pub bits: u16,
    /// With `DUPLICATE_ACK`: its number in the run of duplicates.
    pub dup_ack: Option<u32>,
}

impl Flagged {
    pub fn has(&self, b: u16) -> bool {
        self.bits & b != 0
    }

    /// Any kind of retransmission.
    pub fn retransmit(&self) -> bool {
        self.has(bit::RETRANSMISSION)
    }

    /// The event's `analysis` list. A fast or spurious retransmission is a
    /// retransmission too, as tshark reports both fields for it.
    pub fn names(&self) -> Vec<Analysis> {
        use bit::*;
        const ALL: [(u16, Analysis); 15] = [
            (RETRANSMISSION, Analysis::Retransmission),
            (FAST_RETRANSMISSION, Analysis::FastRetransmission),
            (SPURIOUS_RETRANSMISSION, Analysis::SpuriousRetransmission),
            (OUT_OF_ORDER, Analysis::OutOfOrder),
            (DUPLICATE_ACK, Analysis::DuplicateAck),
            (ZERO_WINDOW, Analysis::ZeroWindow),
            (ZERO_WINDOW_PROBE, Analysis::ZeroWindowProbe),
            (ZERO_WINDOW_PROBE_ACK, Analysis::ZeroWindowProbeAck),
            (WINDOW_UPDATE, Analysis::WindowUpdate),
            (WINDOW_FULL, Analysis::WindowFull),
            (KEEP_ALIVE, Analysis::KeepAlive),
            (KEEP_ALIVE_ACK, Analysis::KeepAliveAck),
            (LOST_SEGMENT, Analysis::LostSegment),
            (ACK_LOST_SEGMENT, Analysis::AckLostSegment),
            (RESET, Analysis::Reset),
        ];
        if self.bits == 0 {
            return Vec::new();
        }
        ALL.iter()
            .filter(|(b, _)| self.bits & b != 0)
            .map(|(_, a)| a.clone())
            .collect()
    }
}

/// What Wireshark keeps for one direction of a connection.
#[derive(Clone, Copy, Debug)]
struct Flow {
    /// Highest seq + len (+1 for SYN/FIN) sent; 0: nothing yet.
    nextseq: u32,
    nextseq_t: u64,
    /// Highest in-order end of data sent, for "ACKed unseen segment".
    maxseqtobeacked: u32,
    /// The last ACK number and window this direction sent.
    lastack: u32,
    lastack_t: u64,
    window: u32,
    /// Duplicate ACKs in a row.
    dupacknum: u32,
    /// The previous packet's flags (keep-alive and probe ACKs look at it).
    lastflags: u16,
    /// Window scale: -1 not known (no SYN seen), -2 not in use, else the
    /// shift.
    win_scale: i16,
}

impl Default for Flow {
    fn default() -> Self {
        Flow {
            nextseq: 0,
            nextseq_t: 0,
            maxseqtobeacked: 0,
            lastack: 0,
            lastack_t: 0,
            window: 0,
            dupacknum: 0,
            lastflags: 0,
            win_scale: -1,
        }
    }
}

/// Serial-number comparisons (RFC 1982), as `SeqNum` does.
fn lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}
fn gt(a: u32, b: u32) -> bool {
    lt(b, a)
}
fn le(a: u32, b: u32) -> bool {
    !gt(a, b)
}

/// The analysis of one connection: both directions.
#[derive(Clone, Debug, Default)]
pub struct ConnAnalysis {
    flows: [Flow; 2],
    /// When the latest SYN was seen, and the handshake's round trip (SYN
    /// to the first ACK): out-of-order is judged against it.
    mru_syn: Option<u64>,
    first_rtt: Option<u64>,
}

/// Wireshark's default out-of-order threshold without a handshake: 3 ms.
const OOO_DEFAULT: u64 = 3_000_000;
/// A fast retransmission follows the duplicate ACKs within 20 ms.
const FAST_RTX_WINDOW: u64 = 20_000_000;

impl ConnAnalysis {
    /// Judge one packet sent in direction `dir` (0 or 1), and remember it:
    /// Wireshark's TCP analysis, one step per group of its flags.
    pub fn packet(&mut self, dir: usize, p: &Pkt) -> Flagged {
        self.handshake_rtt(p);
        let first_rtt = self.first_rtt;
        let (f0, f1) = self.flows.split_at_mut(1);
        let (fwd, rev) = if dir == 0 {
            (&mut f0[0], &mut f1[0])
        } else {
            (&mut f1[0], &mut f0[0])
        };
        window_scale(fwd, rev, p);
        let (mut bits, dup_ack) = window_and_ack(fwd, rev, p);
        bits |= retransmission(fwd, rev, p, bits, first_rtt);
        remember(fwd, p, bits);
        Flagged { bits, dup_ack }
    }

    /// The handshake's round trip: from the latest SYN to the first ACK
    /// without SYN (out-of-order is judged against it).
    fn handshake_rtt(&mut self, p: &Pkt) {
        if p.flags.syn() && !p.flags.ack() {
            self.mru_syn = Some(p.ns);
        } else if p.flags.ack()
            && !p.flags.syn()
            && self.first_rtt.is_none()
            && let Some(s) = self.mru_syn
        {
            self.first_rtt = Some(p.ns.saturating_sub(s));
        }
    }
}

/// Window scaling is known from the SYNs (RFC 7323 §2.2: both must offer
/// it, or neither side scales).
fn window_scale(fwd: &mut Flow, rev: &mut Flow, p: &Pkt) {
    if !p.flags.syn() {
        return;
    }
    match p.wscale {
        Some(ws) => {
            fwd.win_scale = i16::from(ws);
            if p.flags.ack() && rev.win_scale == -2 {
                fwd.win_scale = -2;
            }
        }
        None => {
            fwd.win_scale = -2;
            rev.win_scale = -2;
        }
    }
}

/// The flags about windows, keep-alives, lost segments and duplicate
/// ACKs, and the duplicate ACK's number.
fn window_and_ack(fwd: &mut Flow, rev: &mut Flow, p: &Pkt) -> (u16, Option<u32>) {
    use bit::*;
    let syn_fin_rst = p.flags.intersects(Flags::SYN | Flags::FIN | Flags::RST);
    let (seq, ack, seglen, window) = (p.seq, p.ack, p.len, u32::from(p.win));
    let mut bits = 0u16;
    let mut dup_ack = None;
    if p.flags.rst() {
        bits |= RESET;
    }
    'fwd: {
        // A zero window probe: one byte at the next sequence number
        // into a window the peer closed (RFC 9293 §3.8.6.1).
        if seglen == 1 && seq == fwd.nextseq && rev.window == 0 {
            bits |= ZERO_WINDOW_PROBE;
            break 'fwd;
        }
        if window == 0 && !syn_fin_rst {
            bits |= ZERO_WINDOW;
        }
        // Beyond what this direction sent so far: something was not
        // captured.
        if fwd.nextseq != 0 && gt(seq, fwd.nextseq) && !p.flags.rst() {
            bits |= LOST_SEGMENT;
        }
        // A keep-alive: 0 or 1 byte at SND.NXT - 1 (RFC 1122
        // §4.2.3.6).
        if seglen <= 1 && seq == fwd.nextseq.wrapping_sub(1) && !syn_fin_rst {
            bits |= KEEP_ALIVE;
        }
        let same_place = seglen == 0 && seq == fwd.nextseq && ack == fwd.lastack && !syn_fin_rst;
        if same_place && window != 0 && window != fwd.window {
            bits |= WINDOW_UPDATE;
        }
        if seglen > 0 && rev.win_scale != -1 && !syn_fin_rst {
            let shift = if rev.win_scale == -2 {
                0
            } else {
                rev.win_scale as u32
            };
            let edge = rev.lastack.wrapping_add(rev.window << shift.min(14));
            if seq.wrapping_add(seglen) == edge {
                bits |= WINDOW_FULL;
            }
        }
        if same_place && window != 0 && window == fwd.window && rev.lastflags & KEEP_ALIVE != 0 {
            bits |= KEEP_ALIVE_ACK;
            break 'fwd;
        }
        if same_place && window == 0 && fwd.window == 0 && rev.lastflags & ZERO_WINDOW_PROBE != 0 {
            bits |= ZERO_WINDOW_PROBE_ACK;
            break 'fwd;
        }
        // A duplicate ACK: nothing new in seq, ack or window (RFC 5681
        // §2's definition, as Wireshark applies it).
        if same_place && window != 0 && window == fwd.window {
            fwd.dupacknum += 1;
            bits |= DUPLICATE_ACK;
            dup_ack = Some(fwd.dupacknum);
        }
    }
    if ack != fwd.lastack {
        fwd.dupacknum = 0;
    }
    // This ACK covers data the other direction was never seen sending.
    if rev.maxseqtobeacked != 0 && gt(ack, rev.maxseqtobeacked) && p.flags.ack() {
        bits |= ACK_LOST_SEGMENT;
        rev.maxseqtobeacked = rev.nextseq;
    }
    (bits, dup_ack)
}

/// The retransmission flags (Wireshark's order: spurious, fast,
/// out-of-order, plain), given the flags judged so far.
fn retransmission(fwd: &Flow, rev: &Flow, p: &Pkt, bits: u16, first_rtt: Option<u64>) -> u16 {
    use bit::*;
    let (seq, seglen) = (p.seq, p.len);
    if !(seglen > 0 || p.flags.intersects(Flags::SYN | Flags::FIN)) || bits & KEEP_ALIVE != 0 {
        return 0;
    }
    let mut not_advanced = fwd.nextseq != 0 && lt(seq, fwd.nextseq);
    // New data after a zero window probe's byte is no retransmission.
    if seglen > 1 && fwd.nextseq.wrapping_sub(1) == seq {
        not_advanced = false;
    }
    // Only data the peer had already acknowledged: spurious.
    if seglen > 0 && rev.lastack != 0 && le(seq.wrapping_add(seglen), rev.lastack) {
        return SPURIOUS_RETRANSMISSION | RETRANSMISSION;
    }
    // At least two duplicate ACKs asked for exactly this, within 20 ms:
    // RFC 5681 §3.2's fast retransmit.
    if not_advanced
        && rev.dupacknum >= 2
        && rev.lastack == seq
        && p.ns.wrapping_sub(rev.lastack_t) < FAST_RTX_WINDOW
    {
        return FAST_RETRANSMISSION | RETRANSMISSION;
    }
    // Soon after the highest segment and not where it ended: the network
    // reordered it.
    let thres = first_rtt.filter(|r| *r > 0).unwrap_or(OOO_DEFAULT);
    let end = seq
        .wrapping_add(seglen)
        .wrapping_add(u32::from(p.flags.intersects(Flags::SYN | Flags::FIN)));
    if not_advanced && p.ns.wrapping_sub(fwd.nextseq_t) < thres && fwd.nextseq != end {
        return OUT_OF_ORDER;
    }
    if not_advanced { RETRANSMISSION } else { 0 }
}

/// What this direction has sent, for judging the next packets.
fn remember(fwd: &mut Flow, p: &Pkt, bits: u16) {
    let mut nextseq = p.seq.wrapping_add(p.len);
    if p.flags.intersects(Flags::SYN | Flags::FIN) {
        nextseq = nextseq.wrapping_add(1);
    }
    let probe = bits & bit::ZERO_WINDOW_PROBE != 0;
    if (gt(nextseq, fwd.nextseq) || fwd.nextseq == 0) && !probe {
        fwd.nextseq = nextseq;
        fwd.nextseq_t = p.ns;
    }
    if (p.seq == fwd.maxseqtobeacked || fwd.maxseqtobeacked == 0) && !probe {
        fwd.maxseqtobeacked = fwd.nextseq;
    }
    fwd.window = u32::from(p.win);
    fwd.lastack = p.ack;
    fwd.lastack_t = p.ns;
    fwd.lastflags = bits;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(t: f64, seq: u32, ack: u32, len: u32, flags: Flags, win: u16) -> Pkt {
        Pkt {
            ns: (t * 1e9).round() as u64,
            seq,
            ack,
            len,
            flags,
            win,
            wscale: None,
        }
    }

    const A: Flags = Flags::ACK;
    const PA: Flags = Flags(0x18);

    /// A handshake: client ISN 1000, server ISN 5000, no window scaling.
    fn open() -> ConnAnalysis {
        let mut c = ConnAnalysis::default();
        assert_eq!(c.packet(0, &pkt(0.0, 1000, 0, 0, Flags::SYN, 1000)).bits, 0);
        let sa = Flags::SYN | Flags::ACK;
        assert_eq!(c.packet(1, &pkt(0.01, 5000, 1001, 0, sa, 1000)).bits, 0);
        assert_eq!(c.packet(0, &pkt(0.02, 1001, 5001, 0, A, 1000)).bits, 0);
        c
    }

    #[test]
    fn retransmission_after_the_rtt() {
        let mut c = open();
        assert_eq!(c.packet(0, &pkt(0.1, 1001, 5001, 100, PA, 1000)).bits, 0);
        let r = c.packet(0, &pkt(0.5, 1001, 5001, 100, PA, 1000));
        assert_eq!(r.bits, bit::RETRANSMISSION);
        assert_eq!(r.names(), vec![Analysis::Retransmission]);
    }

    #[test]
    fn out_of_order_within_the_handshake_rtt() {
        let mut c = open();
        // Second segment first (the first was not captured), then the
        // first 5 ms later: sooner than the 20 ms handshake round trip.
        let lost = c.packet(0, &pkt(0.1, 1101, 5001, 100, PA, 1000));
        assert_eq!(lost.bits, bit::LOST_SEGMENT);
        let r = c.packet(0, &pkt(0.105, 1001, 5001, 100, PA, 1000));
        assert_eq!(r.bits, bit::OUT_OF_ORDER);
    }

    #[test]
    fn duplicate_acks_then_fast_retransmission() {
        let mut c = open();
        c.packet(0, &pkt(0.1, 1001, 5001, 100, PA, 1000));
        c.packet(0, &pkt(0.1, 1101, 5001, 100, PA, 1000));
        c.packet(0, &pkt(0.1, 1201, 5001, 100, PA, 1000));
        // The server got the second and third only: it ACKs 1001 twice,
        // which its SYN+ACK acknowledged already: both are duplicates.
        let d1 = c.packet(1, &pkt(0.111, 5001, 1001, 0, A, 1000));
        assert_eq!((d1.bits, d1.dup_ack), (bit::DUPLICATE_ACK, Some(1)));
        let d2 = c.packet(1, &pkt(0.112, 5001, 1001, 0, A, 1000));
        assert_eq!((d2.bits, d2.dup_ack), (bit::DUPLICATE_ACK, Some(2)));
        let f = c.packet(0, &pkt(0.115, 1001, 5001, 100, PA, 1000));
        assert_eq!(f.bits, bit::FAST_RETRANSMISSION | bit::RETRANSMISSION);
        assert_eq!(
            f.names(),
            vec![Analysis::Retransmission, Analysis::FastRetransmission]
        );
    }

    #[test]
    fn spurious_retransmission_of_acknowledged_data() {
        let mut c = open();
        c.packet(0, &pkt(0.1, 1001, 5001, 100, PA, 1000));
        c.packet(1, &pkt(0.11, 5001, 1101, 0, A, 1000));
        let r = c.packet(0, &pkt(0.5, 1001, 5001, 100, PA, 1000));
        assert_eq!(r.bits, bit::SPURIOUS_RETRANSMISSION | bit::RETRANSMISSION);
    }

    #[test]
    fn zero_window_probe_and_its_ack() {
        let mut c = open();
        c.packet(0, &pkt(0.1, 1001, 5001, 100, PA, 1000));
        let z = c.packet(1, &pkt(0.11, 5001, 1101, 0, A, 0));
        assert_eq!(z.bits, bit::ZERO_WINDOW);
        let p = c.packet(0, &pkt(0.5, 1101, 5001, 1, PA, 1000));
        assert_eq!(p.bits, bit::ZERO_WINDOW_PROBE);
        let pa = c.packet(1, &pkt(0.51, 5001, 1101, 0, A, 0));
        assert_eq!(pa.bits, bit::ZERO_WINDOW | bit::ZERO_WINDOW_PROBE_ACK);
        // The window opens: a window update.
        let u = c.packet(1, &pkt(0.6, 5001, 1101, 0, A, 500));
        assert_eq!(u.bits, bit::WINDOW_UPDATE);
    }

    #[test]
    fn keep_alive_and_its_ack() {
        let mut c = open();
        c.packet(0, &pkt(0.1, 1001, 5001, 100, PA, 1000));
        c.packet(1, &pkt(0.11, 5001, 1101, 0, A, 1000));
        let k = c.packet(0, &pkt(75.0, 1100, 5001, 0, A, 1000));
        assert_eq!(k.bits, bit::KEEP_ALIVE);
        let ka = c.packet(1, &pkt(75.01, 5001, 1101, 0, A, 1000));
        assert_eq!(ka.bits, bit::KEEP_ALIVE_ACK);
    }

    #[test]
    fn reset_and_unseen_data() {
        let mut c = open();
        c.packet(0, &pkt(0.1, 1001, 5001, 100, PA, 1000));
        // The server ACKs 200 bytes though 100 were seen.
        let a = c.packet(1, &pkt(0.11, 5001, 1201, 0, A, 1000));
        assert_eq!(a.bits, bit::ACK_LOST_SEGMENT);
        let r = c.packet(0, &pkt(0.2, 1201, 0, 0, Flags::RST, 0));
        assert_eq!(r.bits, bit::RESET);
        assert_eq!(r.names(), vec![Analysis::Reset]);
    }

    #[test]
    fn window_full_with_scaling() {
        let mut c = ConnAnalysis::default();
        let mut syn = pkt(0.0, 1000, 0, 0, Flags::SYN, 1000);
        syn.wscale = Some(2);
        c.packet(0, &syn);
        let mut sa = pkt(0.01, 5000, 1001, 0, Flags::SYN | Flags::ACK, 1000);
        sa.wscale = Some(1);
        c.packet(1, &sa);
        c.packet(0, &pkt(0.02, 1001, 5001, 0, A, 1000));
        // The server's window: 100 << 1 = 200 bytes from 1001.
        c.packet(1, &pkt(0.03, 5001, 1001, 0, A, 100));
        assert_eq!(c.packet(0, &pkt(0.04, 1001, 5001, 100, PA, 1000)).bits, 0);
        let full = c.packet(0, &pkt(0.05, 1101, 5001, 100, PA, 1000));
        assert_eq!(full.bits, bit::WINDOW_FULL);
    }
}
