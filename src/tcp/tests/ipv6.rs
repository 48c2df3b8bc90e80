//! The engine over IPv6: the same exchanges as the IPv4 fixtures, with the
//! segments checked exactly (addresses, MSS = MTU − 60), and the engine
//! keeping its IPv4 and IPv6 connections apart.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use super::*;
use crate::event::DropReason;
use crate::tcp::TcpError;

use State::*;

/// An engine at 10.0.0.2 and fd77::2, the peer at [fd77::1]:40000.
fn h6() -> H {
    let mut h = H::new(test_config());
    h.e.add_addr("fd77::2".parse::<Ipv6Addr>().unwrap());
    h.us = "[fd77::2]:80".parse().unwrap();
    h.them = "[fd77::1]:40000".parse().unwrap();
    h
}

/// LISTEN on 80, the peer's SYN (MSS 1440, as Linux sends over a 1500-byte
/// link), our SYN+ACK checked, then the ACK: ESTABLISHED.
fn established6() -> H {
    let mut h = h6();
    h.e.listen(h.now, 80, None).unwrap();
    let mut syn = h.seg(S, IRS, 0);
    syn.options = mss(1440);
    h.input(syn);
    let sa = h.output().expect("SYN+ACK");
    h.iss = sa.seq.0;
    // Config::mss is 1460 (MTU − 40); over IPv6 we offer 1440 (MTU − 60).
    let mut want = h.reply(S | A, h.iss, IRS + 1, OUR_WIN);
    want.options = mss(1440);
    assert_eq!(sa, want);
    h.conn = h.e.find(h.us, h.them);
    assert_eq!(h.state(), Some(SynReceived));
    h.input(h.seg(A, IRS + 1, h.iss + 1));
    h.expect_none();
    assert_eq!(h.state(), Some(Established));
    assert_eq!(h.e.accept(80), h.conn);
    h
}

#[test]
fn handshake_data_and_close_over_ipv6() {
    let mut h = established6();
    let c = h.conn.unwrap();
    let name = h.events.iter().rev().find_map(|e| e.conn.clone()).unwrap();
    assert_eq!(&*name, "[fd77::2]:80<->[fd77::1]:40000");
    assert_eq!(h.e.tcb(c).unwrap().snd_mss(), 1440);

    // Data in: ACKed when the delayed-ACK timer fires. The window stays 5
    // bytes short: receiver-side SWS avoidance (RFC 9293 §3.8.6.2.2) does
    // not reopen it by less than min(MSS, buffer / 2).
    let win = OUR_WIN - 5;
    h.input(with_payload(h.seg(P | A, IRS + 1, h.iss + 1), b"hello"));
    let mut buf = [0u8; 16];
    assert_eq!(h.e.recv(h.now, c, &mut buf), Ok(5));
    assert_eq!(&buf[..5], b"hello");
    h.advance(Duration::from_millis(500));
    let ack = h.reply(A, h.iss + 1, IRS + 6, win);
    h.expect(ack);

    // Data out.
    assert_eq!(h.e.send(h.now, c, b"world"), Ok(5));
    let data = with_payload(h.reply(P | A, h.iss + 1, IRS + 6, win), b"world");
    h.expect(data);
    h.input(h.seg(A, IRS + 6, h.iss + 6));
    h.expect_none();

    // Our close, the peer's FIN, TIME-WAIT.
    h.e.shutdown(h.now, c).unwrap();
    h.expect(h.reply(F | A, h.iss + 6, IRS + 6, win));
    h.input(h.seg(F | A, IRS + 6, h.iss + 7));
    h.expect(h.reply(A, h.iss + 7, IRS + 7, win));
    assert_eq!(h.state(), Some(TimeWait));
}

#[test]
fn active_open_over_ipv6_offers_mtu_minus_60() {
    let mut h = h6();
    h.us = "[fd77::2]:50000".parse().unwrap();
    h.conn = Some(h.e.connect(h.now, h.them, Some(50000)).unwrap());
    let syn = h.output().expect("SYN");
    h.iss = syn.seq.0;
    let mut want = h.reply(S, h.iss, 0, OUR_WIN);
    want.options = mss(1440);
    assert_eq!(syn, want);
    // The peer sends no MSS option: RFC 9293 §3.7.1's IPv6 default, 1220.
    h.input(h.seg(S | A, IRS, h.iss + 1));
    h.expect(h.reply(A, h.iss + 1, IRS + 1, OUR_WIN));
    assert_eq!(h.state(), Some(Established));
    assert_eq!(h.e.tcb(h.conn.unwrap()).unwrap().snd_mss(), 1220);
}

#[test]
fn no_listener_answers_rst_over_ipv6() {
    let mut h = h6();
    h.input(h.seg(S, IRS, 0));
    h.expect(h.reply(R | A, 0, IRS + 1, 0));
}

#[test]
fn ipv4_and_ipv6_connections_from_the_same_port_are_apart() {
    let mut h = established6();
    let c6 = h.conn.unwrap();
    // The same port numbers over IPv4: a second connection.
    let us4: SocketAddr = "10.0.0.2:80".parse().unwrap();
    let them4: SocketAddr = "10.0.0.1:40000".parse().unwrap();
    let mut syn = h.seg(S, IRS, 0);
    syn.src = them4;
    syn.dst = us4;
    syn.options = mss(1460);
    h.input(syn);
    let sa = h.output().expect("SYN+ACK over IPv4");
    assert_eq!((sa.src, sa.dst, sa.options.mss), (us4, them4, Some(1460)));
    let c4 = h.e.find(us4, them4).unwrap();
    assert_ne!(c4, c6);
    assert_eq!(h.e.state(c4), Some(SynReceived));
    assert_eq!(h.e.state(c6), Some(Established));
}

#[test]
fn ipv6_segment_for_another_address_is_not_for_us() {
    let mut h = h6();
    h.e.listen(h.now, 80, None).unwrap();
    let mut syn = h.seg(S, IRS, 0);
    syn.dst = "[fd77::3]:80".parse().unwrap();
    h.input(syn);
    h.expect_none();
    let reasons: Vec<DropReason> = h
        .events
        .iter()
        .filter_map(|e| match &e.body {
            Body::Drop(d) => Some(d.reason.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(reasons, [DropReason::NotForUs]);
}

#[test]
fn connect_needs_an_address_of_the_remote_family() {
    // An engine with only an IPv4 address cannot reach an IPv6 peer.
    let mut h = H::new(test_config());
    let r = h.e.connect(h.now, "[fd77::1]:80".parse().unwrap(), None);
    assert_eq!(r, Err(TcpError::NoLocalAddress("IPv6")));
    assert_eq!(
        TcpError::NoLocalAddress("IPv6").to_string(),
        "this host has no IPv6 address to connect from"
    );
    // And an IPv6-only engine none of IPv4.
    let mut e6 = Engine::new(test_config(), "v6", "fd77::2".parse::<Ipv6Addr>().unwrap());
    let r = e6.connect(
        Instant::ZERO,
        SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 80),
        None,
    );
    assert_eq!(r, Err(TcpError::NoLocalAddress("IPv4")));
}

#[test]
fn syn_cookies_over_ipv6() {
    let mut cfg = test_config();
    cfg.backlog = 1;
    cfg.syn_cookies = true;
    let mut h = H::new(cfg);
    h.e.add_addr("fd77::2".parse::<Ipv6Addr>().unwrap());
    h.us = "[fd77::2]:80".parse().unwrap();
    h.e.listen(h.now, 80, None).unwrap();
    // The first SYN fills the backlog.
    h.them = "[fd77::1]:40000".parse().unwrap();
    h.input(h.seg(S, IRS, 0));
    h.output().expect("SYN+ACK");
    // The second gets a cookie SYN+ACK advertising the IPv6 MSS.
    h.them = "[fd77::1]:40001".parse().unwrap();
    let mut syn = h.seg(S, IRS, 0);
    syn.options = mss(1440);
    h.input(syn);
    let sa = h.output().expect("cookie SYN+ACK");
    assert_eq!(sa.options.mss, Some(1440));
    assert_eq!(sa.dst, h.them);
    // Its ACK returns the cookie: ESTABLISHED with the cookie's MSS.
    h.input(h.seg(A, IRS + 1, sa.seq.0 + 1));
    let c = h.e.find(h.us, h.them).expect("a TCB from the cookie");
    assert_eq!(h.e.state(c), Some(Established));
    assert_eq!(h.e.tcb(c).unwrap().snd_mss(), 1440);
}
