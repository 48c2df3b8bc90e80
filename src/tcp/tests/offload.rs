//! `Config::aggregate_out`: a run the engine joins into one TSO packet with
//! one event reads back, cut into its wire segments, as exactly the packets
//! and events the engine sends without joining.

use super::*;
use crate::event::SegmentEvent;
use crate::tcp::Transmit;

/// Handshake with a peer offering a 60,000-byte window, 20,000 bytes
/// written, each flight acknowledged 10 ms after it left.
fn run(aggregate: bool) -> (Vec<Transmit>, Vec<Event>) {
    let cfg = Config {
        checksum_offload: true,
        hex_in_events: false,
        aggregate_out: aggregate,
        ..test_config()
    };
    let mut h = H::new(cfg);
    h.e.set_segment_ids(2, 2);
    h.e.listen(h.now, 80, None).unwrap();
    let mut syn = h.seg(S, IRS, 0);
    syn.options = mss(1460);
    syn.window = 60000;
    h.input(syn);
    h.iss = syn_ack_seq(&mut h);
    let mut ack = h.seg(A, IRS + 1, h.iss + 1);
    ack.window = 60000;
    h.input(ack.clone());
    let cid = h.e.accept(80).expect("accepted");
    h.advance(Duration::from_millis(1));
    h.e.send(h.now, cid, &[7u8; 20000]).unwrap();
    let mut sent: Vec<Transmit> = Vec::new();
    let mut acked = 0;
    while acked < 20000 {
        while let Some(t) = h.e.poll_transmit() {
            sent.push(t);
        }
        acked = sent.iter().map(|t| t.payload_len as u32).sum();
        h.advance(Duration::from_millis(10));
        ack.ack = SeqNum(h.iss + 1 + acked);
        h.input(ack.clone());
    }
    h.pull_events();
    (sent, h.events)
}

/// The SYN+ACK's sequence number (its checksum may be partial).
fn syn_ack_seq(h: &mut H) -> u32 {
    let t = h.e.poll_transmit().expect("SYN+ACK");
    let mut p = t.packet;
    if t.partial {
        wire::complete_tcp_checksum(&mut p);
    }
    wire::parse(&p).expect("a valid SYN+ACK").seq.0
}

fn wire_events(v: &[Event]) -> Vec<String> {
    v.iter()
        .flat_map(|e| {
            let each: Vec<Event> = match &e.body {
                Body::Segment(s) => s
                    .wire_segments()
                    .into_iter()
                    .map(|w: SegmentEvent| Event {
                        body: Body::Segment(w),
                        ..e.clone()
                    })
                    .collect(),
                _ => vec![e.clone()],
            };
            each.iter()
                .map(|e| serde_json::to_string(e).unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn a_joined_run_reads_back_as_its_wire_segments() {
    let (joined, je) = run(true);
    let (plain, pe) = run(false);
    let runs: Vec<(u64, usize, Option<u32>)> = joined
        .iter()
        .map(|t| (t.id, t.payload_len, t.gso.map(|g| g.segs)))
        .collect();
    assert_eq!(
        runs,
        vec![
            (4, 4380, Some(3)),
            (10, 5840, Some(4)),
            (18, 7300, Some(5)),
            // One segment alone, then the rest that Nagle held for the ACK.
            (28, 1460, None),
            (30, 1020, None),
        ]
    );
    assert_eq!(plain.len(), 14);
    let cut: Vec<(u64, Vec<u8>)> = joined
        .iter()
        .flat_map(|t| {
            let mut segs = Vec::new();
            match t.gso {
                Some(g) => {
                    crate::gso::split(&t.packet, g.size as usize, |p| segs.push(p));
                }
                None => segs.push(t.packet.clone()),
            }
            segs.into_iter()
                .enumerate()
                .map(|(i, p)| (t.id + 2 * i as u64, p))
                .collect::<Vec<_>>()
        })
        .collect();
    let want: Vec<(u64, Vec<u8>)> = plain.iter().map(|t| (t.id, t.packet.clone())).collect();
    // The kernel's segmentation counts the IPv4 ID up from the first
    // segment's (as `gso::split` does); the engine's own packets carry 0.
    let same_but_ip_id = |a: &[u8], b: &[u8]| {
        a.len() == b.len() && a[..4] == b[..4] && a[6..10] == b[6..10] && a[12..] == b[12..]
    };
    assert_eq!(cut.len(), want.len());
    for ((ci, c), (wi, w)) in cut.iter().zip(&want) {
        assert_eq!(ci, wi);
        assert!(same_but_ip_id(c, w), "packet {ci} differs");
    }
    // The same segment events, and the same other events, each in the
    // same order; an event the first segment of a run caused (its
    // retransmission timer) comes after the run's event, not between its
    // segments.
    let (jw, pw) = (wire_events(&je), wire_events(&pe));
    let part = |v: &[String], seg: bool| -> Vec<String> {
        v.iter()
            .filter(|e| e.contains("\"kind\":\"segment\"") == seg)
            .cloned()
            .collect()
    };
    for seg in [true, false] {
        let (a, b) = (part(&jw, seg), part(&pw, seg));
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert_eq!(x, y, "event {i} (segments: {seg})");
        }
        assert_eq!(a.len(), b.len());
    }
    let gro_events = je
        .iter()
        .filter(|e| matches!(&e.body, Body::Segment(s) if s.gro.is_some()))
        .count();
    assert_eq!(gro_events, 3);
}

#[test]
fn nothing_is_joined_without_offload_or_with_hex_dumps() {
    for cfg in [
        Config {
            checksum_offload: false,
            hex_in_events: false,
            aggregate_out: true,
            ..test_config()
        },
        Config {
            checksum_offload: true,
            hex_in_events: true,
            aggregate_out: true,
            ..test_config()
        },
    ] {
        let mut h = H::new(cfg);
        h.e.set_segment_ids(2, 2);
        h.e.listen(h.now, 80, None).unwrap();
        let mut syn = h.seg(S, IRS, 0);
        syn.options = mss(1460);
        h.input(syn);
        h.iss = syn_ack_seq(&mut h);
        h.input(h.seg(A, IRS + 1, h.iss + 1));
        let cid = h.e.accept(80).expect("accepted");
        h.e.send(h.now, cid, &[7u8; 4000]).unwrap();
        let mut lens = Vec::new();
        while let Some(t) = h.e.poll_transmit() {
            assert_eq!(t.gso, None);
            lens.push(t.payload_len);
        }
        // The last 1,080 bytes wait for an ACK (Nagle, RFC 896).
        assert_eq!(lens, [1460, 1460]);
    }
}
