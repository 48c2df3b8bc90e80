//! The capture reader on hand-built files: each link type (Ethernet with
//! and without a VLAN tag, Linux cooked v1 and v2, raw IP), pcap and
//! pcapng (tcpscope's own `--pcap` writer), IPv4 and IPv6, a file cut
//! short and a file that is no capture. No network, no privileges.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use tcpscope::capture::synth::{self, Seg, Writer};
use tcpscope::capture::{Format, Summary, convert, link};
use tcpscope::event::{Analysis, Body, Event};

const BIN: &str = env!("CARGO_BIN_EXE_tcpscope");

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tcpscope-capture-formats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A request, a 4,000-byte reply (more than the 1460-byte MSS: an offload
/// aggregate) and a close by the client.
fn exchange() -> Vec<Seg> {
    synth::exchange(1000, 5000, 100, &[1000, 4000], 1_000_000)
}

const T0: u64 = 1_700_000_000_000_000_000;

fn write_pcap(path: &Path, linktype: u32, client: &str, server: &str, extra: &[Vec<u8>]) {
    let (c, s): (SocketAddr, SocketAddr) = (client.parse().unwrap(), server.parse().unwrap());
    let mut w = Writer::new(std::fs::File::create(path).unwrap(), linktype, 65535).unwrap();
    for x in extra {
        w.frame(T0, x).unwrap();
    }
    for seg in exchange() {
        let f = synth::frame(linktype, &synth::ip_packet(c, s, &seg));
        w.frame(T0 + seg.at, &f).unwrap();
    }
    w.into_inner().flush().unwrap();
}

fn events(path: &Path, format: Format) -> (Vec<Event>, Summary) {
    let mut v = Vec::new();
    let s = convert(path, format, |e| {
        v.push(e);
        Ok::<(), ()>(())
    })
    .unwrap();
    (v, s)
}

fn states(evs: &[Event], host: &str) -> Vec<&'static str> {
    evs.iter()
        .filter(|e| e.host.as_deref() == Some(host))
        .filter_map(|e| match &e.body {
            Body::State { to, inferred, .. } => {
                assert!(inferred);
                Some(to.name())
            }
            _ => None,
        })
        .collect()
}

const CLIENT: [&str; 6] = [
    "SYN-SENT",
    "ESTABLISHED",
    "FIN-WAIT-1",
    "FIN-WAIT-2",
    "TIME-WAIT",
    // nothing more: TIME-WAIT's end is silent
    "",
];
const SERVER: [&str; 5] = [
    "SYN-RECEIVED",
    "ESTABLISHED",
    "CLOSE-WAIT",
    "LAST-ACK",
    "CLOSED",
];

/// The exchange as every reader must see it.
fn check(evs: &[Event], summary: &Summary, client_conn: &str) {
    assert_eq!(states(evs, "client"), CLIENT[..5]);
    assert_eq!(states(evs, "server"), SERVER);
    let segs: Vec<_> = evs
        .iter()
        .filter_map(|e| e.segment().map(|s| (e, s)))
        .collect();
    assert_eq!(segs.len(), exchange().len());
    assert_eq!(summary.tcp, exchange().len() as u64);
    assert_eq!(summary.connections, 1);
    // Frame numbers are the file's: the TCP segments follow the skipped
    // frames.
    let first = summary.frames - summary.tcp + 1;
    assert_eq!(segs[0].1.seg.id, first);
    assert_eq!(segs[0].0.conn.as_deref(), Some(client_conn));
    // The 4,000-byte reply: three 1460-byte wire segments' worth.
    let big: Vec<_> = segs.iter().filter(|(_, s)| s.seg.len == 4000).collect();
    assert_eq!(big.len(), 1);
    assert_eq!(big[0].1.segs, Some(3));
    assert!(
        segs.iter()
            .filter(|(_, s)| s.seg.len != 4000)
            .all(|(_, s)| s.segs.is_none())
    );
    assert!(
        segs.iter()
            .all(|(_, s)| s.analysis.is_empty() && !s.retransmit)
    );
    // Time: seconds since the first packet, 1 ms apart.
    let last = segs.last().unwrap().0.t;
    assert!(
        (last - 0.001 * (exchange().len() - 1) as f64).abs() < 1e-9,
        "{last}"
    );
    // The client's TIME-WAIT is still on when the capture ends.
    assert!(evs.iter().any(|e| matches!(&e.body, Body::App { msg, .. }
        if msg == "still in TIME-WAIT when the capture ended, 0.000000 s after entering it")));
}

#[test]
fn ethernet_sll_sll2_and_raw_ipv4_read_alike() {
    for (name, lt) in [
        ("eth.pcap", link::ETHERNET),
        ("sll.pcap", link::LINUX_SLL),
        ("sll2.pcap", link::LINUX_SLL2),
        ("raw.pcap", link::RAW),
    ] {
        let p = tmp(name);
        write_pcap(&p, lt, "10.0.0.1:40000", "10.0.0.2:80", &[]);
        let (evs, summary) = events(&p, Format::Pcap);
        check(&evs, &summary, "10.0.0.1:40000<->10.0.0.2:80");
        assert_eq!(summary.frames, summary.tcp, "{name}");
    }
}

#[test]
fn ipv6_with_a_vlan_tag_and_other_traffic_skipped() {
    let p = tmp("v6.pcap");
    // An Ethernet frame with an 802.1Q tag, then a UDP datagram and an
    // ARP-like frame that are not TCP.
    let c: SocketAddr = "[2001:db8::1]:40000".parse().unwrap();
    let s: SocketAddr = "[2001:db8::2]:80".parse().unwrap();
    let udp = {
        let b = etherparse::PacketBuilder::ethernet2([2; 6], [3; 6])
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(53, 53);
        let mut v = Vec::new();
        b.write(&mut v, b"x").unwrap();
        v
    };
    let mut arp = vec![0xff; 12];
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.extend_from_slice(&[0; 28]);
    let mut w = Writer::new(std::fs::File::create(&p).unwrap(), link::ETHERNET, 65535).unwrap();
    w.frame(T0, &udp).unwrap();
    w.frame(T0, &arp).unwrap();
    for seg in exchange() {
        let ip = synth::ip_packet(c, s, &seg);
        // Ethernet with a VLAN tag (TPID 0x8100, VLAN 7) before the IPv6
        // EtherType.
        let mut f = vec![
            2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0x00, 0x00, 0x07, 0x86, 0xdd,
        ];
        f.extend_from_slice(&ip);
        w.frame(T0 + seg.at, &f).unwrap();
    }
    w.into_inner().flush().unwrap();
    let (evs, summary) = events(&p, Format::Pcap);
    check(&evs, &summary, "[2001:db8::1]:40000<->[2001:db8::2]:80");
    assert_eq!(
        (summary.frames, summary.not_tcp),
        (exchange().len() as u64 + 2, 2)
    );
    let line = evs
        .iter()
        .rev()
        .find_map(|e| match &e.body {
            Body::Info { msg } => Some(msg.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        line,
        format!(
            "capture read: {} packets, {} TCP segments in 1 connections; skipped 2 not TCP",
            summary.frames, summary.tcp
        )
    );
}

#[test]
fn tcpscopes_own_pcapng_opens() {
    // tcpscope's --pcap writer: pcapng, raw IP, nanosecond timestamps.
    let p = tmp("own.pcapng");
    let (c, s): (SocketAddr, SocketAddr) = (
        "10.0.0.1:40000".parse().unwrap(),
        "10.0.0.2:80".parse().unwrap(),
    );
    let mut w = tcpscope::pcap::PcapWriter::create(&p, "wire").unwrap();
    for seg in exchange() {
        let ip = synth::ip_packet(c, s, &seg);
        w.write(Duration::from_nanos(seg.at + 7), None, &ip, None)
            .unwrap();
    }
    w.flush().unwrap();
    drop(w);
    assert_eq!(
        tcpscope::capture::sniff_file(&p).unwrap(),
        Some(Format::PcapNg)
    );
    let (evs, summary) = events(&p, Format::PcapNg);
    check(&evs, &summary, "10.0.0.1:40000<->10.0.0.2:80");
}

#[test]
fn a_truncated_capture_shows_everything_before_the_cut() {
    let p = tmp("cut.pcap");
    write_pcap(&p, link::ETHERNET, "10.0.0.1:40000", "10.0.0.2:80", &[]);
    let bytes = std::fs::read(&p).unwrap();
    // Each frame: 16-byte record header + 54 bytes of headers + payload.
    // Cut 10 bytes into the fourth record.
    let mut at = 24;
    for seg in &exchange()[..3] {
        at += 16 + 54 + seg.len;
    }
    std::fs::write(&p, &bytes[..at + 10]).unwrap();
    let out = Command::new(BIN)
        .args(["replay", p.to_str().unwrap(), "--headless", "--events", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "a warning, not a refusal");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "tcpscope: warning: {} is cut short after packet 3 (the file ends in the middle of a record): everything up to there is shown",
            p.display()
        )
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let segs = stdout
        .lines()
        .filter(|l| l.contains(r#""kind":"segment""#))
        .count();
    assert_eq!(segs, 3);
    // The UI's path keeps the sentence for its status line.
    let rec = tcpscope::driver::replay::load(&p).unwrap();
    assert!(rec.notice.unwrap().contains("is cut short after packet 3"));
    assert_eq!(rec.header.mode.as_deref(), Some("capture"));
}

#[test]
fn a_file_that_is_no_capture_gets_one_sentence() {
    let p = tmp("junk.bin");
    std::fs::write(&p, b"\x00\x01 this is not a capture").unwrap();
    let out = Command::new(BIN)
        .args(["replay", p.to_str().unwrap(), "--headless"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "tcpscope: {} is neither a tcpscope recording nor a pcap or pcapng capture\n",
            p.display()
        )
    );
    // A pcap magic with nothing after it: not readable, one sentence.
    std::fs::write(&p, [0xd4, 0xc3, 0xb2, 0xa1, 2, 0]).unwrap();
    let out = Command::new(BIN)
        .args(["replay", p.to_str().unwrap(), "--headless"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "tcpscope: {} is not a readable capture",
            p.display()
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn an_unknown_link_type_is_counted_not_fatal() {
    let p = tmp("unknown.pcap");
    write_pcap(&p, 147, "10.0.0.1:40000", "10.0.0.2:80", &[]);
    let (evs, summary) = events(&p, Format::Pcap);
    assert_eq!(summary.tcp, 0);
    assert_eq!(summary.unknown_link, exchange().len() as u64);
    assert!(evs.iter().all(|e| e.segment().is_none()));
}

#[test]
fn retransmission_marks_reach_the_ladder_fields() {
    // The first reply segment again, 300 ms later: a retransmission.
    let p = tmp("rtx.pcap");
    let (c, s): (SocketAddr, SocketAddr) = (
        "10.0.0.1:40000".parse().unwrap(),
        "10.0.0.2:80".parse().unwrap(),
    );
    let mut segs = exchange();
    let again = Seg {
        at: segs[4].at + 300_000_000,
        ..segs[4].clone()
    };
    segs.truncate(5);
    segs.push(again);
    let mut w = Writer::new(std::fs::File::create(&p).unwrap(), link::RAW, 65535).unwrap();
    for seg in &segs {
        w.frame(T0 + seg.at, &synth::ip_packet(c, s, seg)).unwrap();
    }
    w.into_inner().flush().unwrap();
    let (evs, _) = events(&p, Format::Pcap);
    let last = evs.iter().filter_map(|e| e.segment()).next_back().unwrap();
    assert!(last.retransmit);
    assert_eq!(last.analysis, vec![Analysis::Retransmission]);
    let json = evs
        .iter()
        .rfind(|e| e.segment().is_some())
        .unwrap()
        .to_json();
    assert!(
        json.contains(r#""retransmit":true,"analysis":["retransmission"]"#),
        "{json}"
    );
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Any bytes under any link type decode to something, never a
        /// panic.
        #[test]
        fn decode_takes_any_bytes(lt in prop::sample::select(vec![
            link::NULL, link::ETHERNET, link::RAW, link::LOOP, link::LINUX_SLL,
            link::IPV4, link::IPV6, link::LINUX_SLL2, 12345,
        ]), data in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = tcpscope::capture::decode(lt, &data);
        }

        /// A real capture cut anywhere and with bytes changed: the reader
        /// ends in one sentence or reads it, never a panic.
        #[test]
        fn damaged_files_read_or_refuse(cut in 0usize..2000, flips in prop::collection::vec((0usize..2000, any::<u8>()), 0..8), ng in any::<bool>()) {
            let p = tmp(&format!("damaged-{}.cap", if ng { "ng" } else { "pcap" }));
            if ng {
                let (c, s): (SocketAddr, SocketAddr) =
                    ("10.0.0.1:40000".parse().unwrap(), "10.0.0.2:80".parse().unwrap());
                let mut w = tcpscope::pcap::PcapWriter::create(&p, "wire").unwrap();
                for seg in exchange() {
                    w.write(Duration::from_nanos(seg.at), None, &synth::ip_packet(c, s, &seg), None).unwrap();
                }
                w.flush().unwrap();
            } else {
                write_pcap(&p, link::ETHERNET, "10.0.0.1:40000", "10.0.0.2:80", &[]);
            }
            let mut bytes = std::fs::read(&p).unwrap();
            for (i, b) in flips {
                if let Some(x) = bytes.get_mut(i) {
                    *x = b;
                }
            }
            bytes.truncate(cut);
            std::fs::write(&p, &bytes).unwrap();
            let format = if ng { Format::PcapNg } else { Format::Pcap };
            match convert(&p, format, |_| Ok::<(), ()>(())) {
                Ok(_) => {}
                Err(tcpscope::capture::Error::Open(msg)) => prop_assert!(!msg.contains('\n')),
                Err(tcpscope::capture::Error::Sink(())) => prop_assert!(false, "the sink never refuses"),
            }
        }
    }
}

#[test]
fn a_quiet_time_wait_is_let_go_with_a_line() {
    // One exchange, then another on other ports 200 s later: the first
    // client's TIME-WAIT is no longer followed (memory follows the open
    // connections), and says how long it had lasted.
    let p = tmp("linger.pcap");
    let s: SocketAddr = "10.0.0.2:80".parse().unwrap();
    let mut w = Writer::new(std::fs::File::create(&p).unwrap(), link::RAW, 65535).unwrap();
    for (port, start) in [(40000u16, 0u64), (40001, 200_000_000_000)] {
        let c = SocketAddr::new("10.0.0.1".parse().unwrap(), port);
        for seg in exchange() {
            w.frame(T0 + start + seg.at, &synth::ip_packet(c, s, &seg))
                .unwrap();
        }
    }
    w.into_inner().flush().unwrap();
    let (evs, summary) = events(&p, Format::Pcap);
    assert_eq!(summary.connections, 2);
    let notes: Vec<(f64, &str, &str)> = evs
        .iter()
        .filter_map(|e| match &e.body {
            Body::App { msg, .. } => Some((e.t, e.conn.as_deref().unwrap(), msg.as_str())),
            _ => None,
        })
        .collect();
    let tw_at = 0.001 * (exchange().len() - 1) as f64;
    assert_eq!(
        notes,
        [
            (
                200.0,
                "10.0.0.1:40000<->10.0.0.2:80",
                &*format!(
                    "still in TIME-WAIT {:.6} s after entering it, with no packet for 120 s: no longer followed",
                    200.0 - tw_at
                )
            ),
            (
                200.0 + tw_at,
                "10.0.0.1:40001<->10.0.0.2:80",
                "still in TIME-WAIT when the capture ended, 0.000000 s after entering it"
            ),
        ]
    );
}

#[test]
fn plot_and_screenshot_open_a_capture() {
    let p = tmp("plot.pcap");
    write_pcap(&p, link::ETHERNET, "10.0.0.1:40000", "10.0.0.2:80", &[]);
    let svg = tmp("plot.svg");
    let out = Command::new(BIN)
        .args(["plot", p.to_str().unwrap(), "-o", svg.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"), "{}", &text[..text.len().min(80)]);
    let shot = tmp("shot.svg");
    let out = Command::new(BIN)
        .args([
            "replay",
            p.to_str().unwrap(),
            "--screenshot",
            shot.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&shot).unwrap();
    // The last frame: both inferred end states, with their `~`.
    assert!(
        text.contains("~TIME-WAIT"),
        "client's inferred TIME-WAIT drawn"
    );
    assert!(text.contains("~CLOSED"), "server's inferred CLOSED drawn");
}
