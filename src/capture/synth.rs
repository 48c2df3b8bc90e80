//! Synthetic captures, built with etherparse's packet builder and written
//! with pcap-file: for the tests of the capture reader (each link type,
//! IPv4 and IPv6) and for the benchmark's million-packet file
//! (`scripts/capture-bench.sh`). No live traffic.

use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};

use etherparse::{PacketBuilder, TcpOptionElement};
use pcap_file::pcap::{PcapHeader, PcapWriter, RawPcapPacket};
use pcap_file::{DataLink, Endianness, TsResolution};

use crate::wire::Flags;

use super::link;

/// One segment of a synthetic exchange.
#[derive(Clone, Debug, PartialEq)]
pub struct Seg {
    /// Nanoseconds after the exchange's start.
    pub at: u64,
    pub from_client: bool,
    pub flags: Flags,
    pub seq: u32,
    pub ack: u32,
    /// Payload bytes (zeros).
    pub len: usize,
    pub win: u16,
    pub mss: Option<u16>,
}

/// The IP packet (IPv4 or IPv6, as the addresses are) of `s` between
/// `client` and `server`.
pub fn ip_packet(client: SocketAddr, server: SocketAddr, s: &Seg) -> Vec<u8> {
    let (src, dst) = if s.from_client {
        (client, server)
    } else {
        (server, client)
    };
    let ip = match (src.ip(), dst.ip()) {
        (IpAddr::V4(a), IpAddr::V4(b)) => PacketBuilder::ipv4(a.octets(), b.octets(), 64),
        (IpAddr::V6(a), IpAddr::V6(b)) => PacketBuilder::ipv6(a.octets(), b.octets(), 64),
        _ => panic!("client and server of one IP version"),
    };
    let mut b = ip.tcp(src.port(), dst.port(), s.seq, s.win);
    if s.flags.syn() {
        b = b.syn();
    }
    if s.flags.ack() {
        b = b.ack(s.ack);
    }
    if s.flags.fin() {
        b = b.fin();
    }
    if s.flags.rst() {
        b = b.rst();
    }
    if s.flags.psh() {
        b = b.psh();
    }
    if let Some(m) = s.mss {
        b = b
            .options(&[TcpOptionElement::MaximumSegmentSize(m)])
            .expect("one option fits");
    }
    let payload = vec![0u8; s.len];
    let mut out = Vec::with_capacity(b.size(s.len));
    b.write(&mut out, &payload).expect("write to a Vec");
    out
}

/// A whole connection: handshake (MSS 1460 both ways), a request of
/// `request` bytes, the server's `reply` segments (each of the given size,
/// each ACKed), and a close the client begins: FIN, ACK, FIN, ACK. Sequence
/// numbers start at `isn_c` and `isn_s`; segments are `gap` ns apart.
pub fn exchange(isn_c: u32, isn_s: u32, request: usize, reply: &[usize], gap: u64) -> Vec<Seg> {
    let a = Flags::ACK;
    let pa = Flags::ACK | Flags::PSH;
    let mut v = Vec::new();
    let mut t = 0;
    let mut push = |from_client, flags, seq, ack, len, mss| {
        v.push(Seg {
            at: t,
            from_client,
            flags,
            seq,
            ack,
            len,
            win: 65535,
            mss,
        });
        t += gap;
    };
    let (mut c, mut s) = (isn_c, isn_s);
    push(true, Flags::SYN, c, 0, 0, Some(1460));
    c = c.wrapping_add(1);
    push(false, Flags::SYN | Flags::ACK, s, c, 0, Some(1460));
    s = s.wrapping_add(1);
    push(true, a, c, s, 0, None);
    push(true, pa, c, s, request, None);
    c = c.wrapping_add(request as u32);
    for &n in reply {
        push(false, pa, s, c, n, None);
        s = s.wrapping_add(n as u32);
        push(true, a, c, s, 0, None);
    }
    push(true, Flags::FIN | Flags::ACK, c, s, 0, None);
    c = c.wrapping_add(1);
    push(false, a, s, c, 0, None);
    push(false, Flags::FIN | Flags::ACK, s, c, 0, None);
    s = s.wrapping_add(1);
    push(true, a, c, s, 0, None);
    v
}

/// `ip` framed for `linktype` (Ethernet, Linux cooked v1 or v2, raw IP).
pub fn frame(linktype: u32, ip: &[u8]) -> Vec<u8> {
    let ethertype: u16 = if ip.first().map(|b| b >> 4) == Some(6) {
        0x86dd
    } else {
        0x0800
    };
    let mut out = Vec::with_capacity(ip.len() + 20);
    match linktype {
        link::ETHERNET => {
            out.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
            out.extend_from_slice(&ethertype.to_be_bytes());
        }
        link::LINUX_SLL => {
            // Packet type (4: sent by us), ARPHRD_ETHER, address length,
            // 8 address bytes, protocol.
            out.extend_from_slice(&[0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
            out.extend_from_slice(&ethertype.to_be_bytes());
        }
        link::LINUX_SLL2 => {
            // Protocol, reserved, interface index, ARPHRD_ETHER, packet
            // type, address length, 8 address bytes.
            out.extend_from_slice(&ethertype.to_be_bytes());
            out.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
        }
        _ => {}
    }
    out.extend_from_slice(ip);
    out
}

/// A pcap writer (microsecond timestamps, `snaplen` bytes kept of each
/// frame) for `linktype`.
pub struct Writer<W: Write> {
    inner: PcapWriter<W>,
    snaplen: usize,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W, linktype: u32, snaplen: usize) -> io::Result<Writer<W>> {
        let header = PcapHeader {
            version_major: 2,
            version_minor: 4,
            ts_correction: 0,
            ts_accuracy: 0,
            snaplen: snaplen as u32,
            datalink: DataLink::from(linktype),
            ts_resolution: TsResolution::MicroSecond,
            endianness: Endianness::Little,
        };
        let inner = PcapWriter::with_header(out, header).map_err(io::Error::other)?;
        Ok(Writer { inner, snaplen })
    }

    /// One frame at `ns` nanoseconds since the epoch, cut to the snap
    /// length.
    pub fn frame(&mut self, ns: u64, data: &[u8]) -> io::Result<()> {
        let keep = data.len().min(self.snaplen);
        let raw = RawPcapPacket {
            ts_sec: (ns / 1_000_000_000) as u32,
            ts_frac: ((ns % 1_000_000_000) / 1000) as u32,
            incl_len: keep as u32,
            orig_len: data.len() as u32,
            data: std::borrow::Cow::Borrowed(&data[..keep]),
        };
        self.inner
            .write_raw_packet(&raw)
            .map(|_| ())
            .map_err(io::Error::other)
    }

    pub fn into_inner(self) -> W {
        self.inner.into_writer()
    }
}

/// The benchmark's capture: `conns` connections of `per_conn` packets
/// each (a 100-byte request, replies of 1448 bytes each ACKed, a close),
/// `overlap` of them open at once, frames cut to 96 bytes as `tcpdump -s
/// 96` would; returns the number of packets written.
pub fn many(out: impl Write, conns: u32, per_conn: usize, overlap: u32) -> io::Result<u64> {
    // 3 handshake + 1 request + 2 per reply + 4 close.
    let replies = per_conn.saturating_sub(8) / 2;
    let mut w = Writer::new(out, link::ETHERNET, 96)?;
    let server: SocketAddr = "10.1.0.1:80".parse().expect("address");
    let gap = 100_000; // 0.1 ms between a connection's packets
    let mut n = 0;
    let base = 1_700_000_000u64 * 1_000_000_000;
    let segs = exchange(1000, 900_000, 100, &vec![1448; replies], gap);
    // Connections start in waves of `overlap`, their packets interleaved
    // one by one: the reader keeps `overlap` connections' state at a time.
    let mut start = 0;
    while start < conns {
        let wave = overlap.min(conns - start);
        let clients: Vec<SocketAddr> = (start..start + wave)
            .map(|i| {
                let ip = [10, 2, (i >> 8 & 0xff) as u8, (i & 0xff) as u8];
                SocketAddr::new(IpAddr::from(ip), 10_000 + (i >> 16) as u16)
            })
            .collect();
        let t0 = base + u64::from(start / overlap) * (segs.len() as u64 + 1) * gap;
        for s in &segs {
            for (k, c) in clients.iter().enumerate() {
                let ip = ip_packet(*c, server, s);
                let f = frame(link::ETHERNET, &ip);
                w.frame(t0 + s.at + k as u64 * (gap / u64::from(overlap)), &f)?;
                n += 1;
            }
        }
        start += wave;
    }
    w.into_inner();
    Ok(n)
}
