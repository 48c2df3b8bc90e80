//! smoltcp-ref: discard (port 9) and echo (port 7) on a TUN, as a reference
//! for tcpscope's live benchmarks.
//!
//! Usage: smoltcp-ref IFACE STACK_ADDR/PREFIX [RECV_BUF_BYTES]
//! The TUN is created (or attached) by smoltcp; the caller assigns the
//! kernel side's address and brings the link up.

use std::os::unix::io::AsRawFd;

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{wait as phy_wait, Device, Medium, TunTapInterface};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
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
    let mut discard: Vec<SocketHandle> = Vec::new();
    let mut echo: Vec<SocketHandle> = Vec::new();
    for i in 0..2 * POOL {
        let (r, t) = if i < POOL { (rx, 4096) } else { (64 * 1024, 64 * 1024) };
        let s = tcp::Socket::new(tcp::SocketBuffer::new(vec![0; r]), tcp::SocketBuffer::new(vec![0; t]));
        let h = sockets.add(s);
        if i < POOL { discard.push(h) } else { echo.push(h) }
    }
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let now = Instant::now();
        iface.poll(now, &mut device, &mut sockets);
        for &h in &discard {
            let s = sockets.get_mut::<tcp::Socket>(h);
            if !s.is_open() {
                s.listen(9).expect("listen 9");
            }
            while s.can_recv() {
                if s.recv(|b| (b.len(), ())).is_err() {
                    break;
                }
            }
            if s.state() == tcp::State::CloseWait {
                s.close();
            }
        }
        for &h in &echo {
            let s = sockets.get_mut::<tcp::Socket>(h);
            if !s.is_open() {
                s.listen(7).expect("listen 7");
            }
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
        let _ = device.capabilities();
        phy_wait(fd, iface.poll_delay(now, &sockets)).expect("wait");
    }
}
