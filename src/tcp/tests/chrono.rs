//! Linux's sender chronographs (tcp_chrono_start, tcp_chrono_stop), which
//! tcp_info reports as tcpi_busy_time, tcpi_rwnd_limited and
//! tcpi_sndbuf_limited: the time data waits to be sent or acknowledged,
//! and of it, the time the peer's window or the send buffer held it back.

use std::time::Duration;

use super::*;
use crate::tcp::SockBufs;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// ESTABLISHED as the server, the peer's MSS 1000, its ACK 100 ms after
/// our SYN+ACK with window `win`.
fn server(win: u16) -> H {
    let mut h = H::new(linux_test_config());
    h.e.listen(h.now, 80, None).unwrap();
    let mut syn = h.seg(S, IRS, 0);
    syn.options = mss(1000);
    h.input(syn);
    h.iss = h.output().unwrap().seq.0;
    h.conn = h.e.find(h.us, h.them);
    h.advance(ms(100));
    let mut ack = h.seg(A, IRS + 1, h.iss + 1);
    ack.window = win;
    h.input(ack);
    assert_eq!(h.e.accept(80), h.conn);
    h
}

fn peer_ack(h: &mut H, off: u32, win: u16) {
    let mut a = h.seg(A, IRS + 1, h.iss + 1 + off);
    a.window = win;
    h.input(a);
}

/// (busy, rwnd-limited, sndbuf-limited) in µs, now.
fn times(h: &H) -> (u64, u64, u64) {
    h.e.tcb(h.conn.unwrap()).unwrap().chrono_times(h.now)
}

#[test]
fn a_closed_window_counts_as_rwnd_limited_busy_time() {
    let mut h = server(0);
    let c = h.conn.unwrap();
    assert_eq!(times(&h), (0, 0, 0));
    // Data the closed window holds back: busy and rwnd-limited.
    h.e.send(h.now, c, &[0; 1000]).unwrap();
    h.expect_none();
    h.advance(ms(100));
    assert_eq!(times(&h), (100_000, 100_000, 0));
    // The window opens: the data goes, still busy until acknowledged.
    peer_ack(&mut h, 0, 5000);
    assert_eq!(h.output().map(|s| s.payload.len()), Some(1000));
    h.advance(ms(50));
    assert_eq!(times(&h), (150_000, 100_000, 0));
    // All acknowledged: nothing runs any more.
    peer_ack(&mut h, 1000, 5000);
    h.advance(ms(100));
    assert_eq!(times(&h), (150_000, 100_000, 0));
}

#[test]
fn a_full_send_buffer_with_everything_sent_counts_as_sndbuf_limited() {
    let mut h = server(5000);
    let c = h.conn.unwrap();
    h.e.set_bufs(
        h.now,
        c,
        SockBufs {
            snd: Some(4000),
            rcv: None,
        },
    )
    .unwrap();
    // The buffer takes 4000 of 10000; all of it goes out at once and the
    // congestion window (10 segments) is not what limits: the buffer is.
    assert_eq!(h.e.send(h.now, c, &[0; 10_000]), Ok(4000));
    let sent: usize = std::iter::from_fn(|| h.output())
        .map(|s| s.payload.len())
        .sum();
    assert_eq!(sent, 4000);
    h.advance(ms(100));
    assert_eq!(times(&h), (100_000, 0, 100_000));
    // Half acknowledged: room for half again what is queued, the
    // application may write; busy only.
    peer_ack(&mut h, 2000, 5000);
    h.advance(ms(50));
    assert_eq!(times(&h), (150_000, 0, 100_000));
    peer_ack(&mut h, 4000, 5000);
    h.advance(ms(50));
    assert_eq!(times(&h), (150_000, 0, 100_000));
}
