//! A netfilter queue (NFQUEUE) over a netlink socket of our own: bind a
//! queue, receive its packets, give verdicts. Written here rather than
//! taken from a crate so that the socket can be polled with a timeout
//! (the loop also has timers and the UI's commands to serve) and so that
//! nothing the kernel sends can make it panic.
//!
//! The message formats are the kernel's `linux/netfilter/nfnetlink_queue.h`
//! and `linux/netlink.h`; every multi-byte field of nfnetlink is big-endian
//! (network order), netlink's own header is in the host's order.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const NETLINK_NETFILTER: libc::c_int = 12;
const SOL_NETLINK: libc::c_int = 270;
const NETLINK_NO_ENOBUFS: libc::c_int = 5;

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;

const NFNL_SUBSYS_QUEUE: u16 = 3;
const NFQNL_MSG_PACKET: u16 = 0;
const NFQNL_MSG_VERDICT: u16 = 1;
const NFQNL_MSG_CONFIG: u16 = 2;

const NFQA_PACKET_HDR: u16 = 1;
const NFQA_VERDICT_HDR: u16 = 2;
const NFQA_PAYLOAD: u16 = 10;

const NFQA_CFG_CMD: u16 = 1;
const NFQA_CFG_PARAMS: u16 = 2;
const NFQA_CFG_QUEUE_MAXLEN: u16 = 3;
const NFQA_CFG_MASK: u16 = 4;
const NFQA_CFG_FLAGS: u16 = 5;
const NFQNL_CFG_CMD_BIND: u8 = 1;
const NFQNL_CFG_CMD_UNBIND: u8 = 2;
const NFQNL_COPY_PACKET: u8 = 2;
/// The kernel accepts a packet instead of dropping it when the queue is
/// full (part of failing open).
const NFQA_CFG_F_FAIL_OPEN: u32 = 1;

const NF_DROP: u32 = 0;
const NF_ACCEPT: u32 = 1;

/// The netfilter hooks a packet can be queued from.
pub const HOOK_LOCAL_IN: u8 = 1;
pub const HOOK_LOCAL_OUT: u8 = 3;

/// One queued packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queued {
    /// The kernel's id, for the verdict.
    pub id: u32,
    pub hook: u8,
    /// The IP packet.
    pub payload: Vec<u8>,
}

/// A bound queue.
pub struct Queue {
    fd: OwnedFd,
    num: u16,
    seq: u32,
    buf: Vec<u8>,
}

fn nlmsg(kind: u16, flags: u16, seq: u32, queue: u16, attrs: &[(u16, &[u8])]) -> Vec<u8> {
    let mut m = Vec::with_capacity(64);
    m.extend_from_slice(&[0; 4]); // length, below
    m.extend_from_slice(&((NFNL_SUBSYS_QUEUE << 8) | kind).to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    // nfgenmsg: family AF_UNSPEC, version 0, the queue number.
    m.extend_from_slice(&[0, 0]);
    m.extend_from_slice(&queue.to_be_bytes());
    for (ty, data) in attrs {
        let len = 4 + data.len();
        m.extend_from_slice(&(len as u16).to_ne_bytes());
        m.extend_from_slice(&ty.to_ne_bytes());
        m.extend_from_slice(data);
        while m.len() % 4 != 0 {
            m.push(0);
        }
    }
    let total = m.len() as u32;
    m[..4].copy_from_slice(&total.to_ne_bytes());
    m
}

/// Netlink attributes after a header of `skip` bytes: (type, data).
fn attrs(mut b: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if b.len() < 4 {
            return None;
        }
        let len = usize::from(u16::from_ne_bytes([b[0], b[1]]));
        let ty = u16::from_ne_bytes([b[2], b[3]]) & 0x3fff;
        if len < 4 || len > b.len() {
            return None;
        }
        let data = &b[4..len];
        let next = (len + 3) & !3;
        b = b.get(next..).unwrap_or(&[]);
        Some((ty, data))
    })
}

/// One netlink message from the kernel, read by [`parse`].
#[derive(Debug, PartialEq, Eq)]
pub enum Msg {
    Packet(Queued),
    /// An answer to a request: 0 for success, else an errno.
    Ack(i32),
    Other,
}

/// The messages in one datagram from the socket; a malformed one ends the
/// walk (what came before it stands).
pub fn parse(mut b: &[u8]) -> Vec<Msg> {
    let mut out = Vec::new();
    while b.len() >= 16 {
        let len = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let kind = u16::from_ne_bytes([b[4], b[5]]);
        if len < 16 || len > b.len() {
            break;
        }
        let body = &b[16..len];
        match kind {
            NLMSG_ERROR => {
                let e = body
                    .get(..4)
                    .map(|x| i32::from_ne_bytes([x[0], x[1], x[2], x[3]]))
                    .unwrap_or(-libc::EPROTO);
                out.push(Msg::Ack(-e));
            }
            NLMSG_DONE => out.push(Msg::Ack(0)),
            k if k == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET && body.len() >= 4 => {
                let mut id = None;
                let mut hook = 0;
                let mut payload = Vec::new();
                for (ty, data) in attrs(&body[4..]) {
                    match ty {
                        NFQA_PACKET_HDR if data.len() >= 7 => {
                            id = Some(u32::from_be_bytes([data[0], data[1], data[2], data[3]]));
                            hook = data[6];
                        }
                        NFQA_PAYLOAD => payload = data.to_vec(),
                        _ => {}
                    }
                }
                match id {
                    Some(id) => out.push(Msg::Packet(Queued { id, hook, payload })),
                    None => out.push(Msg::Other),
                }
            }
            _ => out.push(Msg::Other),
        }
        let next = (len + 3) & !3;
        b = b.get(next..).unwrap_or(&[]);
    }
    out
}

impl Queue {
    /// Open a netlink socket and bind queue `num`, copying whole packets,
    /// failing open when full, holding at most `maxlen` packets.
    pub fn bind(num: u16, maxlen: u32) -> io::Result<Queue> {
        // SAFETY: plain socket call; the fd is owned below.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                NETLINK_NETFILTER,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh, valid descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: a zeroed sockaddr_nl is valid; family set below.
        let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        sa.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: sa lives across the call, its size is given.
        let r = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                &sa as *const libc::sockaddr_nl as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        let one: libc::c_int = 1;
        let big: libc::c_int = 8 << 20;
        // SAFETY: setsockopt with ints that live across the calls; a
        // failure only means a smaller buffer or ENOBUFS reported.
        unsafe {
            let p = &one as *const libc::c_int as *const libc::c_void;
            libc::setsockopt(fd.as_raw_fd(), SOL_NETLINK, NETLINK_NO_ENOBUFS, p, 4);
            let p = &big as *const libc::c_int as *const libc::c_void;
            if libc::setsockopt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, p, 4) < 0 {
                libc::setsockopt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_RCVBUF, p, 4);
            }
        }
        let mut q = Queue {
            fd,
            num,
            seq: 0,
            buf: vec![0; 256 * 1024],
        };
        q.request(NFQA_CFG_CMD, &[NFQNL_CFG_CMD_BIND, 0, 0, 0])?;
        let mut params = 0xffffu32.to_be_bytes().to_vec();
        params.push(NFQNL_COPY_PACKET);
        q.request(NFQA_CFG_PARAMS, &params)?;
        q.request(NFQA_CFG_QUEUE_MAXLEN, &maxlen.to_be_bytes())?;
        q.config(&[
            (NFQA_CFG_FLAGS, &NFQA_CFG_F_FAIL_OPEN.to_be_bytes()),
            (NFQA_CFG_MASK, &NFQA_CFG_F_FAIL_OPEN.to_be_bytes()),
        ])?;
        Ok(q)
    }

    fn request(&mut self, ty: u16, data: &[u8]) -> io::Result<()> {
        self.config(&[(ty, data)])
    }

    /// A config message, waiting for its acknowledgment (packets that
    /// arrive meanwhile are not expected: config comes before the rules).
    fn config(&mut self, attrs: &[(u16, &[u8])]) -> io::Result<()> {
        self.seq += 1;
        let m = nlmsg(
            NFQNL_MSG_CONFIG,
            NLM_F_REQUEST | NLM_F_ACK,
            self.seq,
            self.num,
            attrs,
        );
        self.send(&m)?;
        for _ in 0..16 {
            let n = self.recv_raw(Some(2000))?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no answer from nfnetlink",
                ));
            }
            for msg in parse(&self.buf[..n]) {
                if let Msg::Ack(e) = msg {
                    return if e == 0 {
                        Ok(())
                    } else {
                        Err(io::Error::from_raw_os_error(e))
                    };
                }
            }
        }
        Err(io::Error::other("no acknowledgment from nfnetlink"))
    }

    fn send(&self, m: &[u8]) -> io::Result<()> {
        // SAFETY: a zeroed sockaddr_nl (pid 0: the kernel) is valid.
        let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        sa.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: m and sa live across the call.
        let r = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                m.as_ptr() as *const libc::c_void,
                m.len(),
                0,
                &sa as *const libc::sockaddr_nl as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Wait up to `timeout_ms` (`None`: no wait) for a datagram; its length,
    /// 0 when none came.
    fn recv_raw(&mut self, timeout_ms: Option<i32>) -> io::Result<usize> {
        if let Some(ms) = timeout_ms {
            let mut p = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one pollfd that lives across the call.
            let r = unsafe { libc::poll(&mut p, 1, ms) };
            if r < 0 {
                let e = io::Error::last_os_error();
                return if e.kind() == io::ErrorKind::Interrupted {
                    Ok(0)
                } else {
                    Err(e)
                };
            }
            if r == 0 {
                return Ok(0);
            }
        }
        // SAFETY: the buffer is ours and its length is given.
        let n = unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                self.buf.as_mut_ptr() as *mut libc::c_void,
                self.buf.len(),
                libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::EAGAIN) | Some(libc::EINTR) => Ok(0),
                // The socket's buffer overflowed: the kernel dropped what
                // did not fit (counted by the caller as missed).
                Some(libc::ENOBUFS) => Ok(0),
                _ => Err(e),
            };
        }
        Ok(n as usize)
    }

    /// Packets that came within `timeout_ms` (`0`: those already there).
    pub fn recv(&mut self, timeout_ms: i32, out: &mut Vec<Queued>) -> io::Result<()> {
        let mut wait = Some(timeout_ms);
        loop {
            let n = self.recv_raw(wait)?;
            if n == 0 {
                return Ok(());
            }
            for m in parse(&self.buf[..n]) {
                if let Msg::Packet(p) = m {
                    out.push(p);
                }
            }
            if out.len() >= 256 {
                return Ok(());
            }
            wait = None;
        }
    }

    /// Let packet `id` go on, as it came (`None`) or with new bytes.
    pub fn accept(&self, id: u32, payload: Option<&[u8]>) -> io::Result<()> {
        self.verdict(id, NF_ACCEPT, payload)
    }

    pub fn drop_packet(&self, id: u32) -> io::Result<()> {
        self.verdict(id, NF_DROP, None)
    }

    fn verdict(&self, id: u32, verdict: u32, payload: Option<&[u8]>) -> io::Result<()> {
        let mut hdr = verdict.to_be_bytes().to_vec();
        hdr.extend_from_slice(&id.to_be_bytes());
        let mut attrs: Vec<(u16, &[u8])> = vec![(NFQA_VERDICT_HDR, &hdr)];
        if let Some(p) = payload {
            attrs.push((NFQA_PAYLOAD, p));
        }
        let m = nlmsg(NFQNL_MSG_VERDICT, NLM_F_REQUEST, 0, self.num, &attrs);
        self.send(&m)
    }

    /// Unbind (the kernel then drops what is still queued: call after every
    /// verdict is given).
    pub fn unbind(mut self) -> io::Result<()> {
        self.request(NFQA_CFG_CMD, &[NFQNL_CFG_CMD_UNBIND, 0, 0, 0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packet_message_parses_and_a_truncated_one_is_dropped() {
        let hdr = [0, 0, 0, 42, 0x08, 0x00, HOOK_LOCAL_OUT];
        let payload = [0x45u8, 0, 0, 20];
        let m = nlmsg(
            NFQNL_MSG_PACKET,
            0,
            0,
            7,
            &[(NFQA_PACKET_HDR, &hdr), (NFQA_PAYLOAD, &payload)],
        );
        assert_eq!(
            parse(&m),
            vec![Msg::Packet(Queued {
                id: 42,
                hook: HOOK_LOCAL_OUT,
                payload: payload.to_vec()
            })]
        );
        assert_eq!(parse(&m[..m.len() - 1]), vec![]);
        // An attribute whose length runs past the message ends the walk.
        let mut bad = m.clone();
        bad[20] = 0xff;
        assert_eq!(parse(&bad), vec![Msg::Other]);
    }

    #[test]
    fn a_verdict_is_the_kernels_layout() {
        let mut hdr = NF_ACCEPT.to_be_bytes().to_vec();
        hdr.extend_from_slice(&5u32.to_be_bytes());
        let m = nlmsg(
            NFQNL_MSG_VERDICT,
            NLM_F_REQUEST,
            0,
            3,
            &[(NFQA_VERDICT_HDR, &hdr)],
        );
        assert_eq!(m.len(), 16 + 4 + 4 + 8);
        assert_eq!(&m[0..4], &(m.len() as u32).to_ne_bytes());
        assert_eq!(&m[4..6], &((3u16 << 8) | 1).to_ne_bytes());
        assert_eq!(&m[16..20], &[0, 0, 0, 3]);
        assert_eq!(&m[20..24], &[12, 0, 2, 0]);
        assert_eq!(&m[24..32], &[0, 0, 0, 1, 0, 0, 0, 5]);
    }
}
