//! smoltcp-ref: discard (port 9), echo (port 7) and a source (port 19: zeros
//! until the peer closes) on a TUN, as a reference for tcpscope's live
//! benchmarks.
//!
//! Usage: smoltcp-ref IFACE STACK_ADDR/PREFIX [RECV_BUF_BYTES]
//! The TUN is created (or attached) by smoltcp; the caller assigns the
//! kernel side's address and brings the link up.
//!
//! Tuned as far as smoltcp 0.14 allows on this loop (scripts/bench.sh says
//! so too): Nagle off (a request/response exchange never waits for an ACK
//! to send its answer), 64 listening sockets per port (smoltcp has no
//! accept queue), receive and send buffers as large as tcpscope's, the wait
//! capped at 100 ms. Tried and left out, each measured on this loop:
//! `set_ack_delay(None)` (connections then stall now and then for a second,
//! a smoltcp behaviour we did not chase), and polling the interface a second
//! time right after the sockets ran (one client thread: 180 connections/s
//! instead of 10,000).

use std::os::unix::io::AsRawFd;

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{wait as phy_wait, Device, Medium, TunTapInterface};
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{HardwareAddress, IpCidr};

const POOL: usize = 64;

fn main() {
    let mut args = std::env::args().skip(1);
    let iface_name = args.next().expect("IFACE");
    let cidr: IpCidr = args.next().expect("STACK_ADDR/PREFIX").parse().expect("an address/prefix");
    let rx: usize = args.next().map(|s| s.parse().expect("bytes")).unwrap_or(1 << 20);

    let mut device = TunTapInterface::new(&iface_name, Medium::Ip).expect("open the TUN");
    let fd = device.as_raw_fd();
    let config = Config::new(HardwareAddress::Ip);
    let mut iface = Interface::new(config, &mut device, Instant::now());
    iface.update_ip_addrs(|a| a.push(cidr).expect("one address"));

    let mut sockets = SocketSet::new(Vec::new());
    let mut pools: Vec<(u16, Vec<SocketHandle>)> = Vec::new();
    for (port, r, t) in [(9u16, rx, 4096), (7, 64 * 1024, 64 * 1024), (19, 4096, rx)] {
        let mut hs = Vec::new();
        for _ in 0..POOL {
            let mut s = tcp::Socket::new(tcp::SocketBuffer::new(vec![0; r]), tcp::SocketBuffer::new(vec![0; t]));
            s.set_nagle_enabled(false);
            hs.push(sockets.add(s));
        }
        pools.push((port, hs));
    }
    let mut buf = vec![0u8; 64 * 1024];
    let zeros = vec![0u8; 64 * 1024];
    loop {
        let now = Instant::now();
        iface.poll(now, &mut device, &mut sockets);
        for (port, hs) in &pools {
            for &h in hs {
                let s = sockets.get_mut::<tcp::Socket>(h);
                if !s.is_open() {
                    s.listen(*port).expect("listen");
                    s.set_nagle_enabled(false);
                }
                match port {
                    9 => {
                        while s.can_recv() {
                            if s.recv(|b| (b.len(), ())).is_err() {
                                break;
                            }
                        }
                        if s.state() == tcp::State::CloseWait {
                            s.close();
                        }
                    }
                    7 => {
                        while s.can_recv() && s.can_send() {
                            let room = s.send_capacity() - s.send_queue();
                            let take = room.min(buf.len());
                            let n = match s.recv_slice(&mut buf[..take]) {
                                Ok(n) if n > 0 => n,
                                _ => break,
                            };
                            s.send_slice(&buf[..n]).expect("room was checked");
                        }
                        if s.state() == tcp::State::CloseWait && s.send_queue() == 0 {
                            s.close();
                        }
                    }
                    _ => {
                        while s.can_recv() {
                            if s.recv(|b| (b.len(), ())).is_err() {
                                break;
                            }
                        }
                        if s.may_send() {
                            while s.can_send() {
                                if s.send_slice(&zeros).unwrap_or(0) == 0 {
                                    break;
                                }
                            }
                        }
                        if s.state() == tcp::State::CloseWait {
                            s.close();
                        }
                    }
                }
            }
        }
        let delay = iface.poll_delay(Instant::now(), &sockets).map(|d| d.min(Duration::from_millis(100)));
        let _ = device.capabilities();
        phy_wait(fd, delay).expect("wait");
    }
}
