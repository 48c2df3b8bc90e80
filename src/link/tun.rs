//! The TUN link: raw IPv4 and IPv6 packets between the kernel and
//! tcpscope's stack.
//!
//! The device is created with the tun-tap crate (`Mode::Tun`, no packet
//! info, so every read is exactly one IP packet), made non-blocking and
//! registered with tokio's `AsyncFd`. It is configured from this process with
//! the classic `SIOCSIF*` ioctls on an `AF_INET` socket (netdevice(7)), and
//! its IPv6 address with `SIOCSIFADDR` on an `AF_INET6` socket (ipv6(7)), not
//! with the `ip` command: a child process would not inherit a capability
//! granted with `setcap cap_net_admin+ep`, and no outside program is needed.
//!
//! The device is not persistent (no `TUNSETPERSIST`): the kernel deletes it
//! when its last file descriptor closes, which happens on every way out of
//! the process (clean stop, Ctrl-C, SIGTERM, panic, even SIGKILL).
//!
//! Two paths behind the same type. The offload path (the default) opens the
//! device with our own `TUNSETIFF` and `IFF_VNET_HDR`, then
//! `TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)`: the kernel may then
//! hand over TCP packets of up to 64 KiB (its GSO packets, which it would
//! cut at `gso_size` before a real NIC) with a partial checksum, which is
//! where one read per 1500-byte packet stops being the limit (docs/live.md,
//! The link; docs/benchmarks.md). Every read and write then carries a 10-byte
//! `virtio_net_hdr`; this module strips it (reporting `gso_size`, so the
//! runtime can cut the packet into its wire segments with `gso::split`),
//! adds it (with a GSO type and size for a TSO write built by `gso::pack`),
//! and completes partial checksums where they are not plain TCP ones, so
//! everything above sees ordinary, valid IP packets. The plain path
//! (tun-tap, one packet per read) remains, chosen with `--tun-offload off`
//! or used when the kernel refuses the offload ioctls.

use std::ffi::CString;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use tokio::io::unix::AsyncFd;
use tun_tap::{Iface, Mode};

/// Largest read: a 64 KiB GSO packet plus the virtio-net header.
pub const MAX_PACKET: usize = 65536 + VNET_HDR;

/// `struct virtio_net_hdr` (without `num_buffers`), in host byte order.
const VNET_HDR: usize = 10;
/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`: the checksum is partial, to be completed
/// from `csum_start` to the end and stored at `csum_start + csum_offset`.
const VNET_F_NEEDS_CSUM: u8 = 1;
/// `gso_type` values: none, TCP/IPv4, and the ECN bit that may be or-ed in.
const VNET_GSO_NONE: u8 = 0;
const VNET_GSO_TCPV4: u8 = 1;
const VNET_GSO_TCPV6: u8 = 4;
const VNET_GSO_ECN: u8 = 0x80;

/// What the virtio-net header said of a packet read from the TUN.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rx {
    /// Its TCP checksum is partial (left for us to compute; the local
    /// kernel vouches for the data, see `wire::parse_unverified`).
    pub partial: bool,
    /// A GSO packet, to be cut into segments of this many payload bytes
    /// (`gso::split`); 0 when it is one segment.
    pub gso_size: u16,
}

/// What the interface looks like once it is up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TunSpec {
    pub name: String,
    /// The kernel's side of the link and the prefix length of the subnet.
    pub kernel_addr: Ipv4Addr,
    pub prefix: u8,
    /// The address the user-space stack answers on (not assigned to the
    /// interface: the kernel routes it into the TUN through the subnet).
    pub stack_addr: Ipv4Addr,
    /// The same for IPv6: the kernel's address and prefix length, and the
    /// stack's address, routed into the TUN through the prefix.
    pub kernel_addr6: Ipv6Addr,
    pub prefix6: u8,
    pub stack_addr6: Ipv6Addr,
    pub mtu: u32,
    /// The device's transmit queue (kernel → tcpscope), in packets.
    pub txqueuelen: u32,
    /// Try the offload path (virtio-net headers, TSO and checksum offload).
    pub offload: bool,
}

impl TunSpec {
    /// Check names and addresses before touching the system.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.is_empty()
            || self.name.len() > 15
            || self
                .name
                .chars()
                .any(|c| c == '/' || c == ':' || c.is_whitespace() || c == '%')
        {
            return Err(format!(
                "\"{}\" is not a valid interface name (1 to 15 characters, no '/', ':', '%' or spaces)",
                self.name
            ));
        }
        if !(1..=30).contains(&self.prefix) {
            return Err(format!(
                "--addr {}/{}: the prefix length must be between 1 and 30",
                self.kernel_addr, self.prefix
            ));
        }
        let mask = prefix_mask(self.prefix);
        let net = u32::from(self.kernel_addr) & mask;
        let host = |a: Ipv4Addr| u32::from(a) & !mask;
        if u32::from(self.stack_addr) & mask != net {
            return Err(format!(
                "--stack-addr {} is not in the kernel side's subnet {}/{}",
                self.stack_addr,
                Ipv4Addr::from(net),
                self.prefix
            ));
        }
        if self.stack_addr == self.kernel_addr {
            return Err(format!(
                "--stack-addr {} is the kernel side's own address: choose another address in the subnet",
                self.stack_addr
            ));
        }
        for (flag, a) in [
            ("--addr", self.kernel_addr),
            ("--stack-addr", self.stack_addr),
        ] {
            if host(a) == 0 || host(a) == !mask {
                return Err(format!(
                    "{flag} {a} is the subnet's network or broadcast address: choose a host address"
                ));
            }
        }
        self.validate6()
    }

    fn validate6(&self) -> Result<(), String> {
        if !(1..=126).contains(&self.prefix6) {
            return Err(format!(
                "--addr6 {}/{}: the prefix length must be between 1 and 126",
                self.kernel_addr6, self.prefix6
            ));
        }
        for (flag, a) in [
            ("--addr6", self.kernel_addr6),
            ("--stack-addr6", self.stack_addr6),
        ] {
            let unicast = !(a.is_unspecified()
                || a.is_loopback()
                || a.is_multicast()
                || a.is_unicast_link_local()
                || a.to_ipv4_mapped().is_some());
            if !unicast {
                return Err(format!(
                    "{flag} {a} is not a global or unique local unicast address: choose one such as fd77::2"
                ));
            }
        }
        let mask = u128::MAX << (128 - u32::from(self.prefix6));
        let net = u128::from(self.kernel_addr6) & mask;
        if u128::from(self.stack_addr6) & mask != net {
            return Err(format!(
                "--stack-addr6 {} is not in the kernel side's subnet {}/{}",
                self.stack_addr6,
                Ipv6Addr::from(net),
                self.prefix6
            ));
        }
        if self.stack_addr6 == self.kernel_addr6 {
            return Err(format!(
                "--stack-addr6 {} is the kernel side's own address: choose another address in the subnet",
                self.stack_addr6
            ));
        }
        for (flag, a) in [
            ("--addr6", self.kernel_addr6),
            ("--stack-addr6", self.stack_addr6),
        ] {
            if u128::from(a) & !mask == 0 {
                return Err(format!(
                    "{flag} {a} is the subnet's Subnet-Router anycast address (RFC 4291 §2.6.1): choose a host address"
                ));
            }
        }
        Ok(())
    }
}

fn prefix_mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

/// `10.77.0.1/24` → (10.77.0.1, 24).
pub fn parse_cidr(s: &str) -> Result<(Ipv4Addr, u8), String> {
    let bad = || {
        format!("--addr {s}: expected an IPv4 address with a prefix length such as 10.77.0.1/24")
    };
    let (a, p) = s.split_once('/').ok_or_else(bad)?;
    let addr: Ipv4Addr = a.trim().parse().map_err(|_| bad())?;
    let prefix: u8 = p.trim().parse().map_err(|_| bad())?;
    Ok((addr, prefix))
}

/// `fd77::1/64` → (fd77::1, 64).
pub fn parse_cidr6(s: &str) -> Result<(Ipv6Addr, u8), String> {
    let bad =
        || format!("--addr6 {s}: expected an IPv6 address with a prefix length such as fd77::1/64");
    let (a, p) = s.split_once('/').ok_or_else(bad)?;
    let addr: Ipv6Addr = a.trim().parse().map_err(|_| bad())?;
    let prefix: u8 = p.trim().parse().map_err(|_| bad())?;
    Ok((addr, prefix))
}

/// The sentence for a missing CAP_NET_ADMIN (docs/live.md, Privileges;
/// README, Command line: exit codes).
pub const NEED_CAP_NET_ADMIN: &str = "creating the TUN interface needs CAP_NET_ADMIN: run with sudo, or give the binary the capability with `sudo setcap cap_net_admin+ep $(which tcpscope)`";

/// Before any TUN ioctl: is CAP_NET_ADMIN in this thread's effective set?
/// `Err` is the sentence saying what is missing and how to grant it, with
/// this binary's absolute path. When the capability sets cannot be read,
/// the ioctls are tried and their EPERM gives [`NEED_CAP_NET_ADMIN`].
pub fn check_cap_net_admin() -> Result<(), String> {
    use caps::{CapSet, Capability};
    match caps::has_cap(None, CapSet::Effective, Capability::CAP_NET_ADMIN) {
        Ok(false) => Err(missing_cap_net_admin()),
        Ok(true) | Err(_) => Ok(()),
    }
}

/// The sentence for a process without CAP_NET_ADMIN in its effective set.
pub fn missing_cap_net_admin() -> String {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "$(which tcpscope)".into());
    format!(
        "creating the TUN interface needs CAP_NET_ADMIN, which this process does not have: run it with sudo, or once: sudo setcap cap_net_admin+ep {exe}"
    )
}

/// The device under either path.
enum Dev {
    Plain(Iface),
    Offload(OwnedFd),
}

impl AsRawFd for Dev {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        match self {
            Dev::Plain(i) => i.as_raw_fd(),
            Dev::Offload(fd) => fd.as_raw_fd(),
        }
    }
}

impl Dev {
    /// One packet into `buf`; on the offload path the header is removed.
    /// Returns the packet's range in `buf` and what the header said of it.
    fn recv(&self, buf: &mut [u8]) -> io::Result<(std::ops::Range<usize>, Rx)> {
        match self {
            Dev::Plain(i) => i.recv(buf).map(|n| (0..n, Rx::default())),
            Dev::Offload(fd) => {
                // SAFETY: reading into a buffer we own, at most its length.
                let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
                if n < 0 {
                    return Err(io::Error::last_os_error());
                }
                let n = n as usize;
                if n < VNET_HDR {
                    return Ok((0..0, Rx::default()));
                }
                let hdr: [u8; VNET_HDR] = buf[..VNET_HDR].try_into().expect("10 bytes");
                let pkt = &mut buf[VNET_HDR..n];
                let mut partial = false;
                // A GSO packet: many segments' worth behind one header, to be
                // cut at `gso_size` (docs/live.md, The link: wire-true).
                let gso_size = if hdr[1] & !VNET_GSO_ECN != VNET_GSO_NONE {
                    u16::from_ne_bytes([hdr[4], hdr[5]])
                } else {
                    0
                };
                if hdr[0] & VNET_F_NEEDS_CSUM != 0 {
                    let start = usize::from(u16::from_ne_bytes([hdr[6], hdr[7]]));
                    let off = usize::from(u16::from_ne_bytes([hdr[8], hdr[9]]));
                    if crate::wire::is_plain_tcp_partial(pkt, start, off) {
                        // The usual case, IPv4 or IPv6 TCP: leave the sum
                        // partial and say so; whoever needs a full one
                        // computes it.
                        partial = true;
                    } else {
                        crate::wire::complete_checksum(pkt, start, off);
                    }
                }
                Ok((VNET_HDR..n, Rx { partial, gso_size }))
            }
        }
    }

    /// Write one packet. `gso`: its TCP checksum is partial, and when the
    /// size is not 0 it is a TSO packet built by `gso::pack`, to be cut at
    /// that size; the plain path never gets either.
    fn send(&self, packet: &[u8], gso: Option<u16>) -> io::Result<()> {
        match self {
            Dev::Plain(i) => i.send(packet).map(|_| ()),
            Dev::Offload(fd) => {
                // A zero header: no GSO, the checksum is already complete.
                let mut hdr = [0u8; VNET_HDR];
                if let (Some(size), Some((hdr_len, csum_start, v6))) =
                    (gso, crate::gso::header_lengths(packet))
                {
                    hdr[0] = VNET_F_NEEDS_CSUM;
                    if size > 0 {
                        hdr[1] = if v6 { VNET_GSO_TCPV6 } else { VNET_GSO_TCPV4 };
                        hdr[4..6].copy_from_slice(&size.to_ne_bytes());
                    }
                    hdr[2..4].copy_from_slice(&hdr_len.to_ne_bytes());
                    hdr[6..8].copy_from_slice(&csum_start.to_ne_bytes());
                    hdr[8..10].copy_from_slice(&16u16.to_ne_bytes());
                }
                let iov = [
                    libc::iovec {
                        iov_base: hdr.as_ptr() as *mut libc::c_void,
                        iov_len: hdr.len(),
                    },
                    libc::iovec {
                        iov_base: packet.as_ptr() as *mut libc::c_void,
                        iov_len: packet.len(),
                    },
                ];
                // SAFETY: two iovecs over buffers that live across the call.
                let n = unsafe { libc::writev(fd.as_raw_fd(), iov.as_ptr(), 2) };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(())
                }
            }
        }
    }
}

/// Our own TUNSETIFF with virtio-net headers, then the offloads.
fn open_offload(name: &str) -> io::Result<OwnedFd> {
    // SAFETY: opening a device node with a NUL-terminated path.
    let raw = unsafe {
        libc::open(
            c"/dev/net/tun".as_ptr(),
            libc::O_RDWR | libc::O_CLOEXEC | libc::O_NONBLOCK,
        )
    };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a file descriptor we just opened and now own.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: ifreq is plain data; all zeroes is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req
        .ifr_name
        .iter_mut()
        .zip(name.bytes().take(libc::IFNAMSIZ - 1))
    {
        *d = s as libc::c_char;
    }
    req.ifr_ifru.ifru_flags =
        (libc::IFF_TUN | libc::IFF_NO_PI | libc::IFF_VNET_HDR) as libc::c_short;
    // SAFETY: TUNSETIFF reads an ifreq we own.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETIFF, &mut req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let offloads = libc::TUN_F_CSUM | libc::TUN_F_TSO4 | libc::TUN_F_TSO6;
    // SAFETY: TUNSETOFFLOAD takes the flags as its argument.
    if unsafe {
        libc::ioctl(
            fd.as_raw_fd(),
            libc::TUNSETOFFLOAD,
            offloads as libc::c_ulong,
        )
    } < 0
    {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// An open, configured TUN device.
pub struct Tun {
    fd: AsyncFd<Dev>,
    name: String,
    offload: Option<Result<(), String>>,
    /// `Err` says why the interface has no IPv6 (see `configure6`).
    ipv6: Result<(), String>,
}

impl Tun {
    /// Create the interface, give the kernel side its addresses, size its
    /// queue, and bring it up. Errors are sentences.
    /// Must be called inside a tokio runtime (for `AsyncFd`).
    pub fn open(spec: &TunSpec) -> Result<Tun, String> {
        spec.validate()?;
        if !std::path::Path::new("/dev/net/tun").exists() {
            return Err("/dev/net/tun does not exist: load the TUN driver with `sudo modprobe tun` (in a container, pass the device in with --device /dev/net/tun)".into());
        }
        check_cap_net_admin()?;
        if interface_exists(&spec.name) {
            return Err(format!(
                "the interface name {} is already in use: choose another with --iface",
                spec.name
            ));
        }
        for (flag, a) in [
            ("--addr", IpAddr::V4(spec.kernel_addr)),
            ("--stack-addr", IpAddr::V4(spec.stack_addr)),
            ("--addr6", IpAddr::V6(spec.kernel_addr6)),
            ("--stack-addr6", IpAddr::V6(spec.stack_addr6)),
        ] {
            if let Some(on) = address_owner(a) {
                return Err(format!(
                    "the address {a} is already in use on interface {on}: choose another with {flag}"
                ));
            }
        }
        let mut offload = None;
        let dev = if spec.offload {
            match open_offload(&spec.name) {
                Ok(fd) => {
                    offload = Some(Ok(()));
                    Some(Dev::Offload(fd))
                }
                Err(e) if matches!(e.raw_os_error(), Some(libc::EPERM) | Some(libc::EACCES)) => {
                    return Err(NEED_CAP_NET_ADMIN.to_string());
                }
                Err(e) => {
                    offload = Some(Err(e.to_string()));
                    None
                }
            }
        } else {
            None
        };
        let dev = match dev {
            Some(d) => d,
            None => Dev::Plain(Self::open_plain(spec)?),
        };
        configure(spec).map_err(|e| match e.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => NEED_CAP_NET_ADMIN.to_string(),
            Some(libc::EEXIST) | Some(libc::EADDRINUSE) => format!(
                "the address {} is already in use: choose another with --addr",
                spec.kernel_addr
            ),
            _ => format!("cannot configure the interface {}: {e}", spec.name),
        })?;
        let ipv6 = configure6(spec)?;
        // SAFETY: `Dev` owns its file descriptor and returns the same one
        // from `as_raw_fd` for as long as it lives, which is as long as the
        // `AsyncFd` that owns it.
        let fd = unsafe { AsyncFd::register(dev) }
            .map_err(|e| format!("cannot register the TUN interface with the runtime: {e}"))?;
        Ok(Tun {
            fd,
            name: spec.name.clone(),
            offload,
            ipv6,
        })
    }

    /// The plain path: tun-tap, one packet per read.
    fn open_plain(spec: &TunSpec) -> Result<Iface, String> {
        let iface = Iface::without_packet_info(&spec.name, Mode::Tun).map_err(|e| {
            match e.raw_os_error() {
                Some(libc::EPERM) | Some(libc::EACCES) => NEED_CAP_NET_ADMIN.to_string(),
                Some(libc::EBUSY) | Some(libc::EEXIST) => format!(
                    "the interface name {} is already in use: choose another with --iface",
                    spec.name
                ),
                Some(libc::ENOENT) | Some(libc::ENODEV) => {
                    "/dev/net/tun is not usable: load the TUN driver with `sudo modprobe tun`"
                        .into()
                }
                _ => format!("cannot create the TUN interface {}: {e}", spec.name),
            }
        })?;
        if iface.name() != spec.name {
            return Err(format!(
                "the kernel named the interface {} instead of {}: choose a shorter name with --iface",
                iface.name(),
                spec.name
            ));
        }
        iface
            .set_non_blocking()
            .map_err(|e| format!("cannot make the TUN interface non-blocking: {e}"))?;
        Ok(iface)
    }

    /// Which path is in use, for the `info` event: `offload` (virtio-net
    /// headers, TSO, checksum offload), or `plain` and why.
    pub fn path(&self) -> String {
        match &self.offload {
            Some(Ok(())) => {
                "offload (the kernel's 64 KiB GSO packets, cut into wire segments; TSO writes)"
                    .into()
            }
            Some(Err(why)) => format!("plain (the kernel refused the offloads: {why})"),
            None => "plain (--tun-offload off)".into(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `Ok` when the interface has its IPv6 address; otherwise why not.
    pub fn ipv6(&self) -> &Result<(), String> {
        &self.ipv6
    }

    /// Wait until a packet can be read, then read as many as are queued (up
    /// to `max`), calling `each` for every packet.
    pub async fn read_batch(
        &self,
        buf: &mut [u8],
        max: usize,
        mut each: impl FnMut(&[u8], Rx),
    ) -> io::Result<usize> {
        let mut n = 0;
        while n < max {
            let mut guard = self.fd.readable().await?;
            match guard.try_io(|fd| fd.get_ref().recv(buf)) {
                Ok(Ok((range, rx))) => {
                    n += 1;
                    if !range.is_empty() {
                        each(&buf[range], rx);
                    }
                }
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => {
                    if n > 0 {
                        break;
                    }
                }
            }
        }
        Ok(n)
    }

    /// Read what is queued now, without waiting (busy-polling).
    pub fn try_read_batch(
        &self,
        buf: &mut [u8],
        max: usize,
        mut each: impl FnMut(&[u8], Rx),
    ) -> io::Result<usize> {
        let mut n = 0;
        while n < max {
            match self.fd.get_ref().recv(buf) {
                Ok((range, rx)) => {
                    n += 1;
                    if !range.is_empty() {
                        each(&buf[range], rx);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }

    /// Write one packet. A TUN write does not block in practice (the kernel
    /// queues the packet into its input path or drops it); `WouldBlock` is
    /// passed up so the caller can retry when the device is writable.
    pub fn try_send(&self, packet: &[u8]) -> io::Result<()> {
        self.fd.get_ref().send(packet, None)
    }

    /// Write a TSO packet (`gso::pack`): the kernel takes it as the run of
    /// `gso_size`-byte segments it was joined from. Offload path only.
    pub fn try_send_tso(&self, packet: &[u8], gso_size: u16) -> io::Result<()> {
        self.fd.get_ref().send(packet, Some(gso_size))
    }

    /// Write one packet whose TCP checksum is partial (`NEEDS_CSUM`: the
    /// kernel vouches for it, as for a NIC's checksum offload). Offload path
    /// only.
    pub fn try_send_partial(&self, packet: &[u8]) -> io::Result<()> {
        self.fd.get_ref().send(packet, Some(0))
    }

    /// Whether writes may carry TSO packets (the offload path).
    pub fn can_tso(&self) -> bool {
        matches!(self.fd.get_ref(), Dev::Offload(_))
    }

    pub async fn writable(&self) -> io::Result<()> {
        let mut g = self.fd.writable().await?;
        g.clear_ready();
        Ok(())
    }
}

fn interface_exists(name: &str) -> bool {
    // if_nametoindex asks the kernel in our own network namespace; /sys may
    // still show another namespace after `unshare -n`.
    let Ok(c) = CString::new(name) else {
        return false;
    };
    // SAFETY: a valid NUL-terminated string.
    unsafe { libc::if_nametoindex(c.as_ptr()) != 0 }
}

/// The interface that already holds `addr` in this network namespace.
fn address_owner(addr: IpAddr) -> Option<String> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return None;
    }
    let mut found = None;
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: cur is a node of the list getifaddrs returned.
        let ifa = unsafe { &*cur };
        if !ifa.ifa_addr.is_null() {
            // SAFETY: non-null address pointer from getifaddrs.
            let fam = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
            let held = if fam == libc::AF_INET {
                // SAFETY: AF_INET addresses are sockaddr_in.
                let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
                Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                    sin.sin_addr.s_addr,
                ))))
            } else if fam == libc::AF_INET6 {
                // SAFETY: AF_INET6 addresses are sockaddr_in6.
                let sin6 = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in6) };
                Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
            } else {
                None
            };
            if held == Some(addr) {
                // SAFETY: ifa_name is a NUL-terminated C string.
                let name = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) };
                found = Some(name.to_string_lossy().into_owned());
                break;
            }
        }
        cur = ifa.ifa_next;
    }
    // SAFETY: head came from getifaddrs.
    unsafe { libc::freeifaddrs(head) };
    found
}

fn ifreq(name: &str) -> libc::ifreq {
    // SAFETY: ifreq is plain old data; all zeroes is a valid value.
    let mut r: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in r
        .ifr_name
        .iter_mut()
        .zip(name.bytes().take(libc::IFNAMSIZ - 1))
    {
        *d = s as libc::c_char;
    }
    r
}

fn sockaddr(a: Ipv4Addr) -> libc::sockaddr {
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from(a).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: sockaddr_in and sockaddr have the same size on Linux.
    unsafe { std::mem::transmute::<libc::sockaddr_in, libc::sockaddr>(sin) }
}

fn ioctl(sock: &OwnedFd, req: libc::c_ulong, r: &mut libc::ifreq) -> io::Result<()> {
    // SAFETY: `r` is a valid ifreq for these SIOC*IF* requests (netdevice(7)).
    if unsafe { libc::ioctl(sock.as_raw_fd(), req as _, r as *mut libc::ifreq) } < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// netdevice(7): MTU, txqueuelen, address, netmask, then up.
fn configure(spec: &TunSpec) -> io::Result<()> {
    // SAFETY: plain socket(2) call; the fd is owned below.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: raw is a fresh fd we own.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    let name = &spec.name;

    let mut r = ifreq(name);
    r.ifr_ifru.ifru_mtu = spec.mtu as libc::c_int;
    ioctl(&sock, libc::SIOCSIFMTU, &mut r)?;

    // ifr_qlen shares the union's int slot with ifru_mtu.
    let mut r = ifreq(name);
    r.ifr_ifru.ifru_mtu = spec.txqueuelen as libc::c_int;
    ioctl(&sock, libc::SIOCSIFTXQLEN, &mut r)?;

    ipv6_sysctls(name);

    let mut r = ifreq(name);
    r.ifr_ifru.ifru_addr = sockaddr(spec.kernel_addr);
    ioctl(&sock, libc::SIOCSIFADDR, &mut r)?;

    let mut r = ifreq(name);
    r.ifr_ifru.ifru_netmask = sockaddr(Ipv4Addr::from(prefix_mask(spec.prefix)));
    ioctl(&sock, libc::SIOCSIFNETMASK, &mut r)?;

    let mut r = ifreq(name);
    ioctl(&sock, libc::SIOCGIFFLAGS, &mut r)?;
    // SAFETY: SIOCGIFFLAGS filled ifru_flags.
    let flags = unsafe { r.ifr_ifru.ifru_flags };
    r.ifr_ifru.ifru_flags = flags | (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
    ioctl(&sock, libc::SIOCSIFFLAGS, &mut r)?;
    Ok(())
}

/// Before the interface comes up, in /proc/sys/net/ipv6/conf/IFACE/: no
/// router solicitations or advertisements, no duplicate address detection
/// (RFC 4862 §5.4: an address under DAD is tentative and unusable; a TUN
/// has no neighbours to collide with), no EUI-64 link-local address
/// (`addr_gen_mode` 1), and IPv6 on. Best effort: the files are root's, a
/// kernel without IPv6 has none, and [`configure6`] says what is missing.
fn ipv6_sysctls(name: &str) {
    let conf = format!("/proc/sys/net/ipv6/conf/{name}");
    for (key, value) in [
        ("accept_ra", "0"),
        ("router_solicitations", "0"),
        ("accept_dad", "0"),
        ("dad_transmits", "0"),
        ("addr_gen_mode", "1"),
        ("disable_ipv6", "0"),
    ] {
        let _ = std::fs::write(format!("{conf}/{key}"), value);
    }
}

/// The kernel side's IPv6 address, once the interface is up. `Ok(Err(why))`
/// when the interface cannot have IPv6 (a kernel without it, IPv6 disabled
/// and not ours to enable): live mode then runs on IPv4 alone and its first
/// `info` event says why. An address in use is an error, as for IPv4.
fn configure6(spec: &TunSpec) -> Result<Result<(), String>, String> {
    let name = &spec.name;
    let conf = format!("/proc/sys/net/ipv6/conf/{name}");
    if !std::path::Path::new(&conf).exists() {
        return Ok(Err("the kernel has no IPv6".into()));
    }
    if std::fs::read_to_string(format!("{conf}/disable_ipv6")).is_ok_and(|v| v.trim() == "1") {
        return Ok(Err(format!(
            "net.ipv6.conf.{name}.disable_ipv6 is 1 and could not be changed"
        )));
    }
    // SAFETY: plain socket(2) call; the fd is owned below.
    let raw = unsafe { libc::socket(libc::AF_INET6, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EAFNOSUPPORT) {
            return Ok(Err("the kernel has no IPv6 sockets".into()));
        }
        return Err(format!(
            "cannot open an IPv6 socket to configure {name}: {e}"
        ));
    }
    // SAFETY: raw is a fresh fd we own.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    let cname = CString::new(name.as_str()).map_err(|_| format!("bad interface name {name}"))?;
    // SAFETY: a valid NUL-terminated string.
    let index = unsafe { libc::if_nametoindex(cname.as_ptr()) };
    let mut req = libc::in6_ifreq {
        ifr6_addr: libc::in6_addr {
            s6_addr: spec.kernel_addr6.octets(),
        },
        ifr6_prefixlen: u32::from(spec.prefix6),
        ifr6_ifindex: index as libc::c_int,
    };
    // SAFETY: SIOCSIFADDR on an AF_INET6 socket reads a struct in6_ifreq
    // (ipv6(7)), which we own for the call.
    let rc = unsafe {
        libc::ioctl(
            sock.as_raw_fd(),
            libc::SIOCSIFADDR as _,
            &mut req as *mut libc::in6_ifreq,
        )
    };
    if rc < 0 {
        let e = io::Error::last_os_error();
        return Err(match e.raw_os_error() {
            Some(libc::EPERM) => NEED_CAP_NET_ADMIN.to_string(),
            Some(libc::EEXIST) | Some(libc::EADDRINUSE) => format!(
                "the address {} is already in use: choose another with --addr6",
                spec.kernel_addr6
            ),
            _ => {
                return Ok(Err(format!(
                    "cannot give {name} the IPv6 address {}/{}: {e}",
                    spec.kernel_addr6, spec.prefix6
                )));
            }
        });
    }
    wait_usable(name, spec.kernel_addr6);
    Ok(Ok(()))
}

/// Wait (at most a second) until the kernel's IPv6 address is no longer
/// tentative (`IFA_F_TENTATIVE` in /proc/net/if_inet6), so that the first
/// `curl -6` is not refused with EADDRNOTAVAIL. With DAD off this is at
/// once; the loop is for kernels that run DAD anyway.
fn wait_usable(name: &str, addr: Ipv6Addr) {
    const IFA_F_TENTATIVE: u32 = 0x40;
    let hex: String = addr.octets().iter().map(|b| format!("{b:02x}")).collect();
    for _ in 0..100 {
        let Ok(text) = std::fs::read_to_string("/proc/net/if_inet6") else {
            return;
        };
        // Lines: address, index, prefix length, scope, flags, name.
        let flags = text.lines().find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 6 && f[0] == hex && f[5] == name)
                .then(|| u32::from_str_radix(f[4], 16).unwrap_or(0))
        });
        match flags {
            Some(f) if f & IFA_F_TENTATIVE != 0 => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            _ => return,
        }
    }
}

/// The reply to an ICMPv6 echo request for `stack_addr` (RFC 4443 §4.2:
/// the identifier, sequence number and data returned), built with
/// etherparse, which computes the checksum over the IPv6 pseudo-header;
/// `None` for anything else.
pub fn icmpv6_echo_reply(packet: &[u8], stack_addr: Ipv6Addr) -> Option<Vec<u8>> {
    use etherparse::{Icmpv6Type, PacketBuilder, SlicedPacket, TransportSlice};
    // Every packet passes here: TCP (next header 6) and IPv4 leave at once.
    if packet.len() < 48 || packet[0] >> 4 != 6 || packet[6] == 6 {
        return None;
    }
    let sliced = SlicedPacket::from_ip(packet).ok()?;
    let Some(etherparse::NetSlice::Ipv6(ip)) = &sliced.net else {
        return None;
    };
    let hdr = ip.header();
    if Ipv6Addr::from(hdr.destination()) != stack_addr || ip.is_payload_fragmented() {
        return None;
    }
    let Some(TransportSlice::Icmpv6(icmp)) = &sliced.transport else {
        return None;
    };
    let Icmpv6Type::EchoRequest(echo) = icmp.icmp_type() else {
        return None;
    };
    let builder = PacketBuilder::ipv6(hdr.destination(), hdr.source(), 64)
        .icmpv6_echo_reply(echo.id, echo.seq);
    let payload = icmp.payload();
    let mut out = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut out, payload).ok()?;
    Some(out)
}

/// The reply to an ICMP echo request for `stack_addr` (RFC 792), built with
/// etherparse; `None` for anything else.
pub fn icmp_echo_reply(packet: &[u8], stack_addr: Ipv4Addr) -> Option<Vec<u8>> {
    use etherparse::{Icmpv4Type, PacketBuilder, SlicedPacket, TransportSlice};
    // Every packet passes here: look at the version and protocol bytes
    // before asking etherparse to slice it.
    if packet.len() < 28 || packet[0] >> 4 != 4 || packet[9] != 1 {
        return None;
    }
    let sliced = SlicedPacket::from_ip(packet).ok()?;
    let net = sliced.net.as_ref()?;
    let etherparse::NetSlice::Ipv4(ip) = net else {
        return None;
    };
    let hdr = ip.header();
    if Ipv4Addr::from(hdr.destination()) != stack_addr || ip.is_payload_fragmented() {
        return None;
    }
    let Some(TransportSlice::Icmpv4(icmp)) = &sliced.transport else {
        return None;
    };
    let Icmpv4Type::EchoRequest(echo) = icmp.icmp_type() else {
        return None;
    };
    let builder = PacketBuilder::ipv4(hdr.destination(), hdr.source(), 64)
        .icmpv4_echo_reply(echo.id, echo.seq);
    let payload = icmp.payload();
    let mut out = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut out, payload).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> TunSpec {
        TunSpec {
            name: "tcpscope0".into(),
            kernel_addr: Ipv4Addr::new(10, 77, 0, 1),
            prefix: 24,
            stack_addr: Ipv4Addr::new(10, 77, 0, 2),
            kernel_addr6: "fd77::1".parse().unwrap(),
            prefix6: 64,
            stack_addr6: "fd77::2".parse().unwrap(),
            mtu: 1500,
            txqueuelen: 1000,
            offload: true,
        }
    }

    #[test]
    fn completes_a_partial_checksum() {
        use crate::tcp::SeqNum;
        use crate::wire::{Flags, Segment, TcpOptions};
        let seg = Segment {
            src: "10.77.0.1:5000".parse().unwrap(),
            dst: "10.77.0.2:9".parse().unwrap(),
            seq: SeqNum(1),
            ack: SeqNum(2),
            flags: Flags::ACK | Flags::PSH,
            window: 100,
            urgent: 0,
            options: TcpOptions::default(),
            payload: (0..2000u32).map(|i| i as u8).collect(),
        };
        let good = seg.emit();
        // What the kernel hands over with NEEDS_CSUM: the TCP checksum field
        // holds only the pseudo-header sum.
        let mut partial = good.clone();
        let tcp_len = (good.len() - 20) as u16;
        let pseudo = etherparse::checksum::Sum16BitWords::new()
            .add_4bytes([10, 77, 0, 1])
            .add_4bytes([10, 77, 0, 2])
            .add_2bytes([0, 6])
            .add_2bytes(tcp_len.to_be_bytes())
            .ones_complement();
        partial[36..38].copy_from_slice(&(!pseudo).to_ne_bytes());
        assert!(crate::wire::parse(&partial).is_err());
        assert_eq!(crate::wire::parse_unverified(&partial).unwrap(), seg);
        crate::wire::complete_tcp_checksum(&mut partial);
        assert_eq!(partial, good);
        // Bounds beyond the packet are left alone.
        let mut short = good[..30].to_vec();
        crate::wire::complete_checksum(&mut short, 20, 16);
        assert_eq!(short, good[..30]);
    }

    #[test]
    fn validation_sentences() {
        assert_eq!(spec().validate(), Ok(()));
        let s = TunSpec {
            name: "a-name-that-is-too-long".into(),
            ..spec()
        };
        assert!(
            s.validate()
                .unwrap_err()
                .contains("not a valid interface name")
        );
        let s = TunSpec {
            stack_addr: Ipv4Addr::new(10, 78, 0, 2),
            ..spec()
        };
        assert!(
            s.validate()
                .unwrap_err()
                .contains("not in the kernel side's subnet")
        );
        let s = TunSpec {
            stack_addr: Ipv4Addr::new(10, 77, 0, 1),
            ..spec()
        };
        assert!(s.validate().unwrap_err().contains("own address"));
        let s = TunSpec {
            stack_addr: Ipv4Addr::new(10, 77, 0, 255),
            ..spec()
        };
        assert!(s.validate().unwrap_err().contains("broadcast"));
        assert_eq!(
            parse_cidr("10.77.0.1/24"),
            Ok((Ipv4Addr::new(10, 77, 0, 1), 24))
        );
        assert!(
            parse_cidr("10.77.0.1")
                .unwrap_err()
                .contains("prefix length")
        );
    }

    #[test]
    fn answers_echo_requests_for_the_stack_only() {
        let req = {
            let b = etherparse::PacketBuilder::ipv4([10, 77, 0, 1], [10, 77, 0, 2], 64)
                .icmpv4_echo_request(7, 1);
            let mut v = Vec::new();
            b.write(&mut v, b"ping").unwrap();
            v
        };
        let reply = icmp_echo_reply(&req, Ipv4Addr::new(10, 77, 0, 2)).unwrap();
        let s = etherparse::SlicedPacket::from_ip(&reply).unwrap();
        let Some(etherparse::NetSlice::Ipv4(ip)) = s.net else {
            panic!()
        };
        assert_eq!(ip.header().destination(), [10, 77, 0, 1]);
        let Some(etherparse::TransportSlice::Icmpv4(icmp)) = s.transport else {
            panic!()
        };
        assert!(
            matches!(icmp.icmp_type(), etherparse::Icmpv4Type::EchoReply(e) if e.id == 7 && e.seq == 1)
        );
        assert_eq!(icmp.payload(), b"ping");
        assert_eq!(icmp_echo_reply(&req, Ipv4Addr::new(10, 77, 0, 3)), None);
    }

    #[test]
    fn ipv6_validation_sentences() {
        let v6 = |kernel: &str, prefix: u8, stack: &str| TunSpec {
            kernel_addr6: kernel.parse().unwrap(),
            prefix6: prefix,
            stack_addr6: stack.parse().unwrap(),
            ..spec()
        };
        assert_eq!(v6("fd77::1", 64, "fd77::2").validate(), Ok(()));
        assert_eq!(
            v6("fd77::1", 64, "fd78::2").validate(),
            Err("--stack-addr6 fd78::2 is not in the kernel side's subnet fd77::/64".into())
        );
        assert_eq!(
            v6("fd77::1", 64, "fd77::1").validate(),
            Err("--stack-addr6 fd77::1 is the kernel side's own address: choose another address in the subnet".into())
        );
        assert_eq!(
            v6("fd77::1", 128, "fd77::2").validate(),
            Err("--addr6 fd77::1/128: the prefix length must be between 1 and 126".into())
        );
        assert!(
            v6("fd77::1", 64, "fd77::")
                .validate()
                .unwrap_err()
                .contains("Subnet-Router anycast")
        );
        assert_eq!(
            v6("fe80::1", 64, "fe80::2").validate(),
            Err("--addr6 fe80::1 is not a global or unique local unicast address: choose one such as fd77::2".into())
        );
        assert_eq!(
            parse_cidr6("fd77::1/64"),
            Ok(("fd77::1".parse().unwrap(), 64))
        );
        assert_eq!(
            parse_cidr6("fd77::1"),
            Err(
                "--addr6 fd77::1: expected an IPv6 address with a prefix length such as fd77::1/64"
                    .into()
            )
        );
    }

    #[test]
    fn answers_icmpv6_echo_requests_for_the_stack_only() {
        let (kernel, stack) = (
            "fd77::1".parse::<Ipv6Addr>().unwrap(),
            "fd77::2".parse::<Ipv6Addr>().unwrap(),
        );
        let req = {
            let b = etherparse::PacketBuilder::ipv6(kernel.octets(), stack.octets(), 64)
                .icmpv6_echo_request(7, 1);
            let mut v = Vec::new();
            b.write(&mut v, b"ping6").unwrap();
            v
        };
        let reply = icmpv6_echo_reply(&req, stack).unwrap();
        // The exact bytes: IPv6 (payload 13, next header 58, hop limit 64,
        // addresses swapped), then type 129, code 0, the checksum over the
        // pseudo-header (RFC 4443 §2.3), identifier 7, sequence 1, data.
        let mut want = vec![0x60, 0, 0, 0, 0, 13, 58, 64];
        want.extend_from_slice(&stack.octets());
        want.extend_from_slice(&kernel.octets());
        let sum = etherparse::checksum::Sum16BitWords::new()
            .add_16bytes(stack.octets())
            .add_16bytes(kernel.octets())
            .add_4bytes(13u32.to_be_bytes())
            .add_2bytes([0, 58])
            .add_2bytes([129, 0])
            .add_2bytes([0, 7])
            .add_2bytes([0, 1])
            .add_slice(b"ping6")
            .ones_complement()
            .to_be();
        want.extend_from_slice(&[129, 0]);
        want.extend_from_slice(&sum.to_be_bytes());
        want.extend_from_slice(&[0, 7, 0, 1]);
        want.extend_from_slice(b"ping6");
        assert_eq!(reply, want);
        let s = etherparse::SlicedPacket::from_ip(&reply).unwrap();
        let Some(etherparse::TransportSlice::Icmpv6(icmp)) = s.transport else {
            panic!("ICMPv6 expected")
        };
        assert!(icmp.is_checksum_valid(stack.octets(), kernel.octets()));
        // Not for the stack, or not a request: no reply.
        assert_eq!(icmpv6_echo_reply(&req, kernel), None);
        let other = {
            let b = etherparse::PacketBuilder::ipv6(kernel.octets(), stack.octets(), 64)
                .icmpv6_echo_reply(7, 1);
            let mut v = Vec::new();
            b.write(&mut v, b"ping6").unwrap();
            v
        };
        assert_eq!(icmpv6_echo_reply(&other, stack), None);
        // IPv4 is not ICMPv6.
        assert_eq!(icmpv6_echo_reply(&[0x45; 60], stack), None);
    }
}
