//! A receive buffer set on the socket (SO_RCVBUF, inherited from the
//! listener) and what arrives past the window, in the `linux` profile
//! (Linux's tcp_select_initial_window, __tcp_select_window, tcp_sequence
//! and tcp_data_queue) beside the `rfc` profile (RFC 9293 §3.10.7.4: the
//! buffer is the window; a segment is trimmed to it). The peer offers MSS
//! 1000 and no options.

use std::time::Duration;

use super::*;
use crate::event::Gro;
use crate::tcp::SockBufs;

fn linux() -> Config {
    linux_test_config()
}

fn rfc() -> Config {
    test_config()
}

/// A listener on port 80 whose socket has a receive buffer of `rcv`
/// bytes (the doubled value Linux keeps), a SYN to it, and the SYN+ACK.
fn syn_to_listener(cfg: Config, rcv: u32) -> (H, Segment) {
    let mut h = H::new(cfg);
    h.e.listen(h.now, 80, None).unwrap();
    assert!(h.e.set_listen_bufs(
        80,
        SockBufs {
            snd: None,
            rcv: Some(rcv),
        },
    ));
    let mut syn = h.seg(S, IRS, 0);
    syn.options = mss(1000);
    h.input(syn);
    let sa = h.output().unwrap();
    h.iss = sa.seq.0;
    h.conn = h.e.find(h.us, h.them);
    (h, sa)
}

/// ESTABLISHED from [`syn_to_listener`], accepted.
fn established(cfg: Config, rcv: u32) -> H {
    let (mut h, _) = syn_to_listener(cfg, rcv);
    h.advance(Duration::from_millis(100));
    h.input(h.seg(A, IRS + 1, h.iss + 1));
    h.expect_none();
    assert_eq!(h.e.accept(80), h.conn);
    h
}

/// `len` bytes from the peer at `off` past its ISN + 1, as one packet of
/// 1000-byte segments (a GSO packet, as packetdrill writes them).
fn data(h: &mut H, off: u32, len: usize) {
    let mut s = h.seg(A, IRS + 1 + off, h.iss + 1);
    s.payload = vec![0; len];
    let gro = Gro {
        segs: (len as u32).div_ceil(1000),
        size: 1000,
    };
    h.e.receive_gro(h.now, 7, &s.emit(), gro);
    h.pull_events();
}

fn ack(h: &H, off: u32, win: u16) -> Segment {
    h.reply(A, h.iss + 1, IRS + 1 + off, win)
}

#[test]
fn a_listeners_receive_buffer_sizes_the_syn_ack_window() {
    // Linux: half the buffer (tcp_full_space at its default ratio of 50 %)
    // rounded down to our MSS, 13 × 1460. RFC: the buffer.
    for (cfg, win) in [(linux(), 18_980), (rfc(), 40_000)] {
        let (h, sa) = syn_to_listener(cfg, 40_000);
        let mut want = h.reply(S | A, h.iss, IRS + 1, win);
        want.options = mss(1460);
        assert_eq!(sa, want);
        // The accepted connection keeps the listener's buffer.
        assert_eq!(h.e.tcb(h.conn.unwrap()).unwrap().capacities().1, 40_000);
    }
}

#[test]
fn linux_holds_the_ack_of_data_that_fills_half_the_buffer() {
    // Linux: 20000 bytes and their overhead leave under half of the 40000
    // free, so quick-ACK mode ends; the window it could offer (18000, a
    // multiple of the 1000-byte segments) is under the 18980 offered, so
    // the ACK waits for the delayed-ACK timer.
    let mut h = established(linux(), 40_000);
    data(&mut h, 0, 20_000);
    h.expect_none();
    h.advance(Duration::from_millis(40));
    h.expect(ack(&h, 20_000, 18_000));
    // RFC: every second full segment is ACKed, with what is left.
    let mut h = established(rfc(), 40_000);
    data(&mut h, 0, 20_000);
    h.expect(ack(&h, 20_000, 20_000));
}

#[test]
fn linux_takes_a_segment_past_the_window_only_into_an_empty_queue() {
    // Linux: the first 20000 bytes run past the window of 18980 into an
    // empty queue and are taken whole; the next 20000 find data waiting
    // and are dropped whole, answered with a duplicate ACK.
    let mut h = established(linux(), 40_000);
    data(&mut h, 0, 20_000);
    h.advance(Duration::from_millis(40));
    h.expect(ack(&h, 20_000, 18_000));
    data(&mut h, 20_000, 20_000);
    h.expect(ack(&h, 20_000, 18_000));
    h.expect_none();
    // Read, the queue is empty: they are taken whole, and overfill the
    // buffer: ACKed at once with a zero window.
    let c = h.conn.unwrap();
    assert_eq!(h.e.recv(h.now, c, &mut [0; 20_000]), Ok(20_000));
    h.expect_none();
    data(&mut h, 20_000, 60_000);
    h.expect(ack(&h, 80_000, 0));
    // RFC: trimmed to the window, 40000 bytes then.
    let mut h = established(rfc(), 40_000);
    data(&mut h, 0, 60_000);
    h.expect(ack(&h, 40_000, 0));
}

#[test]
fn linux_takes_a_bare_fin_at_a_zero_window() {
    // Linux: 10000 bytes overfill a buffer of 8192 (taken, the queue was
    // empty), ACKed at once with a zero window; the FIN after them is
    // taken at the zero window and ACKed at once too.
    let mut h = established(linux(), 8192);
    data(&mut h, 0, 10_000);
    h.expect(ack(&h, 10_000, 0));
    h.input(h.seg(F | A, IRS + 1 + 10_000, h.iss + 1));
    h.expect(ack(&h, 10_001, 0));
    assert_eq!(h.state(), Some(State::CloseWait));
    // RFC: trimmed to the window of 8192; the FIN lies beyond it and is
    // answered with the same ACK, not taken.
    let mut h = established(rfc(), 8192);
    data(&mut h, 0, 10_000);
    h.expect(ack(&h, 8192, 0));
    h.input(h.seg(F | A, IRS + 1 + 10_000, h.iss + 1));
    h.expect(ack(&h, 8192, 0));
    assert_eq!(h.state(), Some(State::Established));
}

#[test]
fn a_receive_buffer_set_before_connect_sizes_the_syn_window() {
    // Linux: half the buffer in whole segments of our MSS (an active open
    // does not count the timestamp option, tcp_connect_init). RFC: the
    // buffer.
    for (cfg, win) in [(linux(), 18_980), (rfc(), 40_000)] {
        let sack = cfg.sack;
        let mut h = H::new(cfg);
        let bufs = SockBufs {
            snd: None,
            rcv: Some(40_000),
        };
        let c =
            h.e.connect_with_bufs(h.now, h.them, Some(80), bufs)
                .unwrap();
        let syn = h.output().unwrap();
        let mut want = h.reply(S, syn.seq.0, 0, win);
        want.options = mss(1460);
        want.options.sack_perm = sack;
        assert_eq!(syn, want);
        assert_eq!(h.e.tcb(c).unwrap().capacities().1, 40_000);
    }
}
