//! Kernel aggregates and wire segments (docs/live.md, The link).
//!
//! With TUN offload the kernel hands tcpscope TCP/IPv4 packets of up to
//! 64 KiB (GSO packets: many segments' worth of payload behind one header,
//! which the kernel would cut at `gso_size` before a real wire). Nothing a
//! user sees or a fault rule acts on may be larger than a wire segment, so
//! [`split`] cuts such a packet into the segments it stands for, exactly as
//! the kernel's own segmentation would (`tcp_gso_segment`: the header
//! copied, the sequence number advanced, FIN and PSH kept for the last
//! segment only, CWR for the first only; `inet_gso_segment`: the IP ID
//! counted up). In the other direction [`continues`] and [`pack`] join
//! consecutive segments of one connection into one TSO write, which the
//! kernel takes as the same run of segments.
//!
//! Every packet built here carries a *partial* TCP checksum, as the kernel's
//! own GSO packets do: the field holds the pseudo-header sum, and whoever
//! needs the full checksum completes it (`wire::complete_tcp_checksum`).
//! IPv4 and IPv6 (without extension headers, as the kernel's TCP sends
//! them); anything else passes through [`split`] whole.

use etherparse::checksum::Sum16BitWords;

use crate::wire::Flags;

// The flag bits of the TCP header's byte 13, as the wire format names them.
const FIN: u8 = Flags::FIN.0;
const SYN: u8 = Flags::SYN.0;
const RST: u8 = Flags::RST.0;
const PSH: u8 = Flags::PSH.0;
const URG: u8 = Flags::URG.0;
const CWR: u8 = Flags::CWR.0;

/// Largest IPv4 packet: what one TSO write may hold.
const MAX_TOTAL: usize = 65535;

/// Where a TCP packet's parts are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Layout {
    /// IP header length (40 for IPv6).
    ihl: usize,
    /// TCP header length.
    doff: usize,
    /// The packet's length by its IP header (bytes beyond it are link
    /// padding).
    total: usize,
    v6: bool,
}

impl Layout {
    fn of(p: &[u8]) -> Option<Layout> {
        let (ihl, total, v6) = match p.first().map(|b| b >> 4) {
            Some(4) if p.len() >= 40 && p[9] == 6 => (
                usize::from(p[0] & 0x0f) * 4,
                usize::from(u16::from_be_bytes([p[2], p[3]])),
                false,
            ),
            // Next header TCP: no extension headers.
            Some(6) if p.len() >= 60 && p[6] == 6 => {
                (40, 40 + usize::from(u16::from_be_bytes([p[4], p[5]])), true)
            }
            _ => return None,
        };
        if ihl < 20 || total > p.len() || total < ihl + 20 {
            return None;
        }
        let doff = usize::from(p[ihl + 12] >> 4) * 4;
        if doff < 20 || ihl + doff > total {
            return None;
        }
        Some(Layout {
            ihl,
            doff,
            total,
            v6,
        })
    }

    fn hdr(&self) -> usize {
        self.ihl + self.doff
    }

    fn payload(&self) -> usize {
        self.total - self.hdr()
    }
}

fn seq(p: &[u8], l: Layout) -> u32 {
    u32::from_be_bytes(p[l.ihl + 4..l.ihl + 8].try_into().expect("4 bytes"))
}

/// Set the IP length fields (and the IPv4 header checksum), and the TCP
/// checksum field to the pseudo-header sum (a partial checksum, as
/// `VIRTIO_NET_HDR_F_NEEDS_CSUM` leaves it; RFC 9293 §3.1, RFC 8200 §8.1).
fn finish(p: &mut [u8], l: Layout) {
    let total = p.len();
    let ihl = l.ihl;
    let tcp_len = total - ihl;
    if l.v6 {
        p[4..6].copy_from_slice(&(tcp_len as u16).to_be_bytes());
    } else {
        p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        p[10..12].copy_from_slice(&[0, 0]);
        // etherparse sums native-endian words; the complement stored in
        // the same order is the right checksum (RFC 1071 §2(B)).
        let ip = Sum16BitWords::new().add_slice(&p[..ihl]).ones_complement();
        p[10..12].copy_from_slice(&ip.to_ne_bytes());
    }
    crate::wire::set_partial_tcp_checksum(p);
}

/// Cut a TCP/IPv4 packet whose payload is larger than `mss` into segments
/// of at most `mss` bytes, handing each to `each`; returns how many. A
/// packet that fits (or is not IPv4 TCP, or `mss` is 0) is handed over
/// whole and unchanged. The segments carry partial checksums.
pub fn split(packet: &[u8], mss: usize, mut each: impl FnMut(Vec<u8>)) -> usize {
    let Some(l) = Layout::of(packet) else {
        each(packet.to_vec());
        return 1;
    };
    if mss == 0 || l.payload() <= mss {
        each(packet.to_vec());
        return 1;
    }
    let hdr = l.hdr();
    let seq0 = seq(packet, l);
    let id0 = u16::from_be_bytes([packet[4], packet[5]]);
    let flags = packet[l.ihl + 13];
    let payload = &packet[hdr..l.total];
    let n = payload.len().div_ceil(mss);
    for (i, chunk) in payload.chunks(mss).enumerate() {
        let mut s = Vec::with_capacity(hdr + chunk.len());
        s.extend_from_slice(&packet[..hdr]);
        s.extend_from_slice(chunk);
        if !l.v6 {
            s[4..6].copy_from_slice(&id0.wrapping_add(i as u16).to_be_bytes());
        }
        let sq = seq0.wrapping_add((i * mss) as u32);
        s[l.ihl + 4..l.ihl + 8].copy_from_slice(&sq.to_be_bytes());
        let mut f = flags;
        if i > 0 {
            f &= !CWR;
        }
        if i + 1 < n {
            f &= !(FIN | PSH);
        }
        s[l.ihl + 13] = f;
        finish(&mut s, l);
        each(s);
    }
    n
}

/// Whether `next` may join a TSO write that begins with `first` and so far
/// ends with `prev`: the kernel's segmentation of the joined packet must
/// give back exactly these segments. So: the same addresses, ports, IP
/// fields, ACK, window and options as `first`; `prev` carries exactly as
/// much payload as `first` (the `gso_size`) and neither PSH nor FIN (both
/// would be lost on a segment that is not the last); `next` carries data,
/// continues `prev`'s sequence, and has `first`'s flags give or take PSH and
/// FIN, without CWR; no SYN, RST or URG anywhere; the whole fits 64 KiB.
/// `len` is the joined packet's length so far.
pub fn continues(first: &[u8], prev: &[u8], next: &[u8], len: usize) -> bool {
    let (Some(lf), Some(lp), Some(ln)) = (Layout::of(first), Layout::of(prev), Layout::of(next))
    else {
        return false;
    };
    let mss = lf.payload();
    let fl = |p: &[u8], l: Layout| p[l.ihl + 13];
    if mss == 0
        || fl(first, lf) & (SYN | RST | URG | FIN | PSH) != 0
        || lp.payload() != mss
        || fl(prev, lp) & (FIN | PSH) != 0
        || ln.payload() == 0
        || ln.payload() > mss
        || len + ln.payload() > MAX_TOTAL
        || fl(next, ln) & CWR != 0
        || fl(next, ln) & !(PSH | FIN) != fl(first, lf) & !CWR
        || ln.ihl != lf.ihl
        || ln.v6 != lf.v6
        || ln.doff != lf.doff
        || seq(next, ln) != seq(prev, lp).wrapping_add(mss as u32)
    {
        return false;
    }
    let (ihl, hdr) = (lf.ihl, lf.hdr());
    // IPv4: version, TOS; flags, TTL, protocol; addresses and options.
    // IPv6: version, class, flow label; next header, hop limit; addresses.
    // TCP: ports; ACK; data offset; window; urgent pointer; options.
    let same = |r: std::ops::Range<usize>| first[r.clone()] == next[r];
    let ip = if lf.v6 {
        same(0..4) && same(6..40)
    } else {
        same(0..2) && same(6..10) && same(12..ihl)
    };
    ip && same(ihl..ihl + 4)
        && same(ihl + 8..ihl + 13)
        && same(ihl + 14..ihl + 16)
        && same(ihl + 18..hdr)
}

/// Join a run of segments (each accepted by [`continues`]) into one TSO
/// packet: `first`'s header with the last segment's PSH and FIN, all the
/// payloads, a partial checksum. Returns the packet and its `gso_size`.
pub fn pack(run: &[&[u8]]) -> Option<(Vec<u8>, u16)> {
    let first = run.first()?;
    let lf = Layout::of(first)?;
    let last = run.last()?;
    let ll = Layout::of(last)?;
    let mut p = Vec::with_capacity(lf.hdr() + run.iter().map(|s| s.len()).sum::<usize>());
    p.extend_from_slice(&first[..lf.hdr()]);
    for s in run {
        let l = Layout::of(s)?;
        p.extend_from_slice(&s[l.hdr()..l.total]);
    }
    if p.len() > MAX_TOTAL {
        return None;
    }
    p[lf.ihl + 13] |= last[ll.ihl + 13] & (PSH | FIN);
    finish(&mut p, lf);
    Some((p, lf.payload() as u16))
}

/// Grow a packet built with a partial checksum (`Segment::emit_partial`)
/// by the payload of the segment that follows it in sequence, as the
/// engine joins a run of its own segments into one TSO write (docs/live.md,
/// The link): the payload appended, PSH set when `psh`, the lengths and
/// checksums as [`pack`] leaves them. `false`, and nothing changed, when the
/// packet is no TCP packet or the result would not fit one TSO write.
pub fn grow(packet: &mut Vec<u8>, payload: &[u8], psh: bool) -> bool {
    let Some(l) = Layout::of(packet) else {
        return false;
    };
    if l.total + payload.len() > MAX_TOTAL {
        return false;
    }
    packet.truncate(l.total);
    packet.extend_from_slice(payload);
    if psh {
        packet[l.ihl + 13] |= PSH;
    }
    finish(packet, l);
    true
}

/// How many wire segments of `mss` payload bytes a packet stands for, when
/// more than one (it is an aggregate to cut); `None` otherwise.
pub fn wire_count(packet: &[u8], mss: usize) -> Option<u32> {
    let l = Layout::of(packet)?;
    (mss > 0 && l.payload() > mss).then(|| l.payload().div_ceil(mss) as u32)
}

/// The IP and TCP header length of a packet built by [`pack`] (the
/// virtio-net header's `hdr_len`), the TCP header's offset (its
/// `csum_start`), and whether it is IPv6 (its `gso_type`).
pub fn header_lengths(packet: &[u8]) -> Option<(u16, u16, bool)> {
    let l = Layout::of(packet)?;
    Some((l.hdr() as u16, l.ihl as u16, l.v6))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seq::SeqNum;
    use crate::wire::{self, Flags, Segment, TcpOptions};

    fn seg(seq: u32, flags: Flags, len: usize) -> Segment {
        Segment {
            src: "10.77.0.1:5000".parse().unwrap(),
            dst: "10.77.0.2:9".parse().unwrap(),
            seq: SeqNum(seq),
            ack: SeqNum(77),
            flags,
            window: 500,
            urgent: 0,
            options: TcpOptions {
                timestamp: Some((11, 22)),
                ..TcpOptions::default()
            },
            payload: (0..len).map(|i| (i * 7) as u8).collect(),
        }
    }

    fn full(mut p: Vec<u8>) -> Segment {
        wire::complete_tcp_checksum(&mut p);
        wire::parse(&p).expect("a valid segment once completed")
    }

    #[test]
    fn split_cuts_at_the_mss_as_the_kernel_would() {
        let big = seg(
            1000,
            Flags::ACK | Flags::PSH | Flags::FIN | Flags::CWR,
            3000,
        );
        let mut pkt = big.emit();
        pkt[4..6].copy_from_slice(&500u16.to_be_bytes());
        let mut out = Vec::new();
        assert_eq!(split(&pkt, 1448, |s| out.push(s)), 3);
        let segs: Vec<Segment> = out.iter().cloned().map(full).collect();
        assert_eq!(
            segs.iter()
                .map(|s| (s.seq.0, s.payload.len(), s.flags))
                .collect::<Vec<_>>(),
            vec![
                (1000, 1448, Flags::ACK | Flags::CWR),
                (2448, 1448, Flags::ACK),
                (3896, 104, Flags::ACK | Flags::PSH | Flags::FIN),
            ]
        );
        let joined: Vec<u8> = segs.iter().flat_map(|s| s.payload.clone()).collect();
        assert_eq!(joined, big.payload);
        for (i, s) in out.iter().enumerate() {
            assert_eq!(
                u16::from_be_bytes([s[4], s[5]]),
                500 + i as u16,
                "IP ID counts up"
            );
            assert!(etherparse::Ipv4HeaderSlice::from_slice(s).is_ok());
            let h = etherparse::Ipv4HeaderSlice::from_slice(s).unwrap();
            assert_eq!(h.header_checksum(), h.to_header().calc_header_checksum());
            assert_eq!(s.len(), 20 + 32 + segs[i].payload.len());
        }
        // The checksum left partial: a plain parse refuses it until completed.
        assert!(wire::parse(&out[0]).is_err());
        assert_eq!(wire::parse_unverified(&out[1]).unwrap(), segs[1]);
    }

    #[test]
    fn split_hands_small_and_foreign_packets_over_whole() {
        let small = seg(1, Flags::ACK, 100).emit();
        let mut out = Vec::new();
        assert_eq!(split(&small, 1448, |s| out.push(s)), 1);
        assert_eq!(split(&small, 0, |s| out.push(s)), 1);
        assert_eq!(split(&[0x60, 0, 0], 1448, |s| out.push(s)), 1);
        assert_eq!(out, vec![small.clone(), small, vec![0x60, 0, 0]]);
    }

    #[test]
    fn pack_then_split_gives_the_run_back() {
        let run: Vec<Vec<u8>> = vec![
            seg(1000, Flags::ACK, 1448).emit(),
            seg(2448, Flags::ACK, 1448).emit(),
            seg(3896, Flags::ACK | Flags::PSH, 10).emit(),
        ];
        assert!(continues(&run[0], &run[0], &run[1], run[0].len()));
        assert!(continues(&run[0], &run[1], &run[2], 3000));
        let refs: Vec<&[u8]> = run.iter().map(Vec::as_slice).collect();
        let (big, gso) = pack(&refs).unwrap();
        assert_eq!(gso, 1448);
        assert_eq!(header_lengths(&big), Some((52, 20, false)));
        assert_eq!(big.len(), 52 + 1448 * 2 + 10);
        let mut back = Vec::new();
        split(&big, usize::from(gso), |s| back.push(full(s)));
        let want: Vec<Segment> = run.iter().map(|p| wire::parse(p).unwrap()).collect();
        assert_eq!(back, want);
    }

    #[test]
    fn grow_builds_what_pack_builds() {
        for v6 in [false, true] {
            let mut run = vec![
                seg(1000, Flags::ACK, 1448),
                seg(2448, Flags::ACK, 1448),
                seg(3896, Flags::ACK | Flags::PSH, 10),
            ];
            if v6 {
                for s in &mut run {
                    s.src = "[fd77::1]:5000".parse().unwrap();
                    s.dst = "[fd77::2]:9".parse().unwrap();
                }
            }
            let pkts: Vec<Vec<u8>> = run.iter().map(Segment::emit_partial).collect();
            let refs: Vec<&[u8]> = pkts.iter().map(Vec::as_slice).collect();
            let (packed, _) = pack(&refs).unwrap();
            let mut grown = pkts[0].clone();
            assert!(grow(&mut grown, &run[1].payload, false));
            assert!(grow(&mut grown, &run[2].payload, true));
            assert_eq!(grown, packed, "v6 {v6}");
        }
        let mut big = seg(1000, Flags::ACK, 1448).emit_partial();
        let before = big.clone();
        assert!(!grow(&mut big, &[0; 65000], false), "past one TSO write");
        assert_eq!(big, before);
    }

    #[test]
    fn ipv6_splits_and_packs_as_ipv4_does() {
        let v6 = |mut s: Segment| {
            s.src = "[fd77::1]:5000".parse().unwrap();
            s.dst = "[fd77::2]:9".parse().unwrap();
            s
        };
        let big = v6(seg(1000, Flags::ACK | Flags::PSH, 3000));
        let mut out = Vec::new();
        assert_eq!(split(&big.emit(), 1428, |s| out.push(s)), 3);
        let segs: Vec<Segment> = out.iter().cloned().map(full).collect();
        assert_eq!(
            segs.iter()
                .map(|s| (s.seq.0, s.payload.len(), s.flags))
                .collect::<Vec<_>>(),
            vec![
                (1000, 1428, Flags::ACK),
                (2428, 1428, Flags::ACK),
                (3856, 144, Flags::ACK | Flags::PSH),
            ]
        );
        assert!(segs.iter().all(|s| s.src == big.src && s.dst == big.dst));
        assert_eq!(out[2].len(), 40 + 32 + 144);
        // Partial checksums: the run must be made of full ones, as the
        // engine emits them.
        let emitted: Vec<Vec<u8>> = segs.iter().map(Segment::emit).collect();
        let refs_full: Vec<&[u8]> = emitted.iter().map(Vec::as_slice).collect();
        assert!(continues(refs_full[0], refs_full[0], refs_full[1], 0));
        assert!(continues(refs_full[0], refs_full[1], refs_full[2], 0));
        let (packed, gso) = pack(&refs_full).unwrap();
        assert_eq!((gso, header_lengths(&packed)), (1428, Some((72, 40, true))));
        assert_eq!(full(packed), big);
        // IPv4 and IPv6 never join one write.
        let v4 = seg(2428, Flags::ACK, 1428).emit();
        assert!(!continues(refs_full[0], refs_full[0], &v4, 0));
    }

    #[test]
    fn continues_refuses_what_segmentation_would_change() {
        let a = seg(1000, Flags::ACK, 1448).emit();
        let ok = seg(2448, Flags::ACK, 1448).emit();
        assert!(continues(&a, &a, &ok, a.len()));
        // A gap, a different ACK, window or timestamp, PSH before the end,
        // a short segment before the end, SYN, a pure ACK, too long a run.
        assert!(!continues(&a, &a, &seg(2449, Flags::ACK, 1448).emit(), 0));
        let mut other_ack = seg(2448, Flags::ACK, 1448);
        other_ack.ack = SeqNum(78);
        assert!(!continues(&a, &a, &other_ack.emit(), 0));
        let mut other_wnd = seg(2448, Flags::ACK, 1448);
        other_wnd.window = 501;
        assert!(!continues(&a, &a, &other_wnd.emit(), 0));
        let mut other_ts = seg(2448, Flags::ACK, 1448);
        other_ts.options.timestamp = Some((12, 22));
        assert!(!continues(&a, &a, &other_ts.emit(), 0));
        let pushed = seg(1000, Flags::ACK | Flags::PSH, 1448).emit();
        assert!(!continues(&a, &pushed, &ok, 0));
        let short = seg(1000, Flags::ACK, 1000).emit();
        assert!(!continues(&a, &short, &seg(2000, Flags::ACK, 10).emit(), 0));
        assert!(!continues(&a, &a, &seg(2448, Flags::ACK, 0).emit(), 0));
        let syn = seg(1000, Flags::SYN, 1448).emit();
        assert!(!continues(&syn, &syn, &ok, 0));
        assert!(!continues(&a, &a, &ok, MAX_TOTAL - 1000));
        assert!(!continues(
            &a,
            &a,
            &seg(2448, Flags::ACK | Flags::CWR, 1448).emit(),
            0
        ));
    }
}
