//! Hostile packets from the kernel side (raw sockets, inside a namespace the
//! test makes): malformed headers and options, forbidden flag sets, RSTs in
//! and out of the window, ACKs of data never sent, silly options, sequence
//! numbers across the 2^32 wrap, and a flood of 50,000 SYNs. After each the
//! stack is alive, its memory bounded, and a real curl still succeeds. The
//! checks are tests/common/hostile.rs, shared with IPv6.

mod common;

use common::hostile::Family;
use common::*;

/// Crafts packets from 10.77.0.50, an address of the TUN's subnet that is
/// not the kernel's: the kernel does not answer the stack's replies with
/// RSTs (they are not for it), and an AF_PACKET socket on the TUN sees them.
const CRAFT: &str = r#"
import json, random, socket, struct, sys, time

STACK, SRC, IFACE = "10.77.0.2", "10.77.0.50", "tcpscope0"
FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16
random.seed(7)

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def pkt(sport, dport, seq, ack, flags, win=65535, opts=b"", data=b"", doff=None, bad=False, src=SRC):
    off = doff if doff is not None else (20 + len(opts)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                      off << 4, flags, win, 0, 0) + opts
    pseudo = socket.inet_aton(src) + socket.inet_aton(STACK) + struct.pack("!BBH", 0, 6, len(tcp) + len(data))
    c = csum(pseudo + tcp + data) ^ (0x1234 if bad else 0)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(data), random.randint(0, 65535),
                     0x4000, 64, 6, 0, socket.inet_aton(src), socket.inet_aton(STACK))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + tcp + data

out = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
cap = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
cap.bind((IFACE, 0x0800))
cap.settimeout(0.05)

def send(p):
    out.sendto(p, (STACK, 0))

def replies(sport, wait=0.4):
    """The stack's segments to SRC:sport within `wait` seconds."""
    got, end = [], time.time() + wait
    while time.time() < end:
        try:
            b = cap.recv(65536)
        except socket.timeout:
            continue
        if len(b) < 40 or b[9] != 6 or socket.inet_ntoa(b[12:16]) != STACK:
            continue
        ihl = (b[0] & 15) * 4
        sp, dp, seq, ack, off, fl, win = struct.unpack("!HHIIBBH", b[ihl:ihl + 16])
        if dp != sport:
            continue
        got.append({"flags": fl, "seq": seq, "ack": ack, "win": win,
                    "data": b[ihl + (off >> 4) * 4:].hex()})
    return got

MSS = b"\x02\x04\x05\xb4"

def family_cases():
    pass

def random_src():
    return "10.77.0.%d" % random.randint(100, 250)

"#;

#[test]
fn hostile_packets_leave_the_stack_alive_bounded_and_serving() {
    common::hostile::hostile_packets_leave_the_stack_alive_bounded_and_serving(&Family {
        test: "adversarial",
        url_host: STACK,
        craft: &format!("{CRAFT}{}", common::hostile::CASES),
        mss: 1460,
        unanswered: &[],
        synack: &[],
        drop_reasons: &[],
    });
}
