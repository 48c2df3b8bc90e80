//! The receiver's SACK and timestamp answers where the `linux` profile
//! follows Linux (docs/stack.md): the D-SACK it reports for held data an
//! in-order segment repeats, the SACK state a FIN clears, and a segment
//! whose ACK field is not acceptable. Each test also runs the profile with
//! the one setting off, which keeps the RFC's answer. The test plays the
//! peer with MSS 1000 and checks the exact segments.

use std::time::Duration;

use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The `linux` test profile with SACK (and timestamps when `ts`).
fn linux_sack(ts: bool) -> Config {
    Config {
        sack: true,
        timestamps: ts,
        ..linux_test_config()
    }
}

/// Our TSval on the SYN+ACK (sent at time zero), once `server` has run.
struct Server {
    h: H,
    ts0: Option<u32>,
}

/// ESTABLISHED as the server: the peer offered MSS 1000, SACK, and
/// timestamps (its TSval 100) when `cfg` has them; its ACK came 100 ms
/// later (TSval 200).
fn server(cfg: Config) -> Server {
    let ts = cfg.timestamps;
    let mut h = H::new(cfg);
    h.e.listen(h.now, 80, None).unwrap();
    let mut syn = h.seg(S, IRS, 0);
    syn.options = TcpOptions {
        mss: Some(1000),
        sack_perm: true,
        timestamp: ts.then_some((100, 0)),
        ..Default::default()
    };
    h.input(syn);
    let sa = h.output().unwrap();
    h.iss = sa.seq.0;
    let ts0 = sa.options.timestamp.map(|(v, _)| v);
    h.conn = h.e.find(h.us, h.them);
    h.advance(ms(100));
    let mut ack = h.seg(A, IRS + 1, h.iss + 1);
    if let Some(v) = ts0 {
        ack.options.timestamp = Some((200, v));
    }
    h.input(ack);
    h.expect_none();
    assert_eq!(h.e.accept(80), h.conn);
    Server { h, ts0 }
}

/// Data from the peer at `off` (bytes after its ISN + 1), `len` long.
fn data(h: &H, flags: Flags, off: u32, len: usize) -> Segment {
    let mut s = h.seg(flags, IRS + 1 + off, h.iss + 1);
    s.payload = vec![7; len];
    s
}

/// Our pure ACK of `upto` (an offset), window `win`, SACK blocks as
/// offsets.
fn our_ack(h: &H, upto: u32, win: u16, blocks: &[(u32, u32)]) -> Segment {
    let mut s = h.reply(A, h.iss + 1, IRS + 1 + upto, win);
    s.options.sack = blocks
        .iter()
        .map(|&(l, r)| (SeqNum(IRS + 1 + l), SeqNum(IRS + 1 + r)))
        .collect();
    s
}

/// Held data that an in-order segment repeats is reported as a D-SACK
/// first, then the blocks still held (RFC 2883 §4; Linux's tcp_ofo_queue
/// with tcp_dsack_extend). A second repeated range that does not touch
/// the first is not added to it.
#[test]
fn linux_reports_a_d_sack_for_held_data_an_in_order_segment_repeats() {
    for (dsack_reassembled, first_block) in [(true, Some((500, 1000))), (false, None)] {
        let cfg = Config {
            dsack_reassembled,
            ..linux_sack(false)
        };
        let mut h = server(cfg).h;
        // Held out of order: 500..1000, 1500..2000 and 3000..3500.
        for off in [500, 1500, 3000] {
            h.input(data(&h, A, off, 500));
        }
        let held = [(3000, 3500), (1500, 2000), (500, 1000)];
        for _ in 0..3 {
            h.output().expect("a duplicate ACK per segment");
        }
        // 0..2500 fills the holes below 2500 and repeats both held ranges
        // there; 3000..3500 stays held.
        h.input(data(&h, A, 0, 2500));
        let mut blocks: Vec<(u32, u32)> = first_block.into_iter().collect();
        blocks.push(held[0]);
        // The window: 4096 less the 2500 bytes unread.
        h.expect(our_ack(&h, 2500, 4096 - 2500, &blocks));
        h.expect_none();
    }
}

/// A resent segment whose only new part is the FIN: Linux's tcp_fin
/// clears the D-SACK for its repeated data (tcp_sack_reset), and the ACK,
/// delayed as for any FIN (`delay_fin_ack`), carries no SACK block.
#[test]
fn linux_forgets_the_d_sack_of_the_segment_that_brings_the_fin() {
    for (sack_reset_on_fin, blocks) in [(true, vec![]), (false, vec![(0, 1000)])] {
        let cfg = Config {
            sack_reset_on_fin,
            ..linux_sack(false)
        };
        let mut h = server(cfg).h;
        h.input(data(&h, A, 0, 1000));
        h.expect(our_ack(&h, 1000, 4096 - 1000, &[]));
        h.input(data(&h, F | A, 0, 1000));
        h.expect_none();
        h.advance(ms(40));
        h.expect(our_ack(&h, 1001, 4096 - 1000, &blocks));
        assert_eq!(h.state(), Some(State::CloseWait));
    }
}

/// A segment that acknowledges data never sent is dropped without an
/// answer, and its TSval does not become TS.Recent (Linux's tcp_ack
/// returns before tcp_replace_ts_recent): the peer's next segment, with
/// an older TSval, passes PAWS and is acknowledged. With the setting off
/// the RFC's ACK answers it and TS.Recent took the TSval, so PAWS drops
/// the next segment (RFC 7323 §5.3) and its duplicate ACK echoes the
/// bad TSval.
#[test]
fn linux_ignores_the_tsval_of_a_segment_acking_unsent_data() {
    for silent in [true, false] {
        let cfg = Config {
            ack_unsent_silent: silent,
            ..linux_sack(true)
        };
        let Server { mut h, ts0 } = server(cfg);
        let ts0 = ts0.unwrap();
        let mut bad = h.seg(F | A, IRS + 1, h.iss + 1 + 9999);
        bad.options.timestamp = Some((200_000, ts0));
        h.input(bad);
        // Our TSval: 1 ms per tick since the SYN+ACK.
        let now_ts = ts0 + 100;
        if !silent {
            let mut a = our_ack(&h, 0, 4096, &[]);
            a.options.timestamp = Some((now_ts, 200_000));
            h.expect(a);
        }
        h.expect_none();
        let mut d = data(&h, A, 0, 1000);
        d.options.timestamp = Some((201, ts0));
        h.input(d);
        let mut a = if silent {
            our_ack(&h, 1000, 4096 - 1000, &[])
        } else {
            our_ack(&h, 0, 4096, &[])
        };
        a.options.timestamp = Some((now_ts, if silent { 201 } else { 200_000 }));
        h.expect(a);
        h.expect_none();
        assert_eq!(h.state(), Some(State::Established));
    }
}
