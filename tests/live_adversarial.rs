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

def handshake(sport, isn, dport=80, opts=MSS):
    send(pkt(sport, dport, isn, 0, SYN, opts=opts))
    sa = [r for r in replies(sport) if r["flags"] & (SYN | ACK) == SYN | ACK]
    if not sa:
        return None
    send(pkt(sport, dport, isn + 1, sa[0]["seq"] + 1, ACK))
    time.sleep(0.05)
    return sa[0]["seq"] + 1

def report(case, **kw):
    print(json.dumps(dict(case=case, **kw)), flush=True)

syn = lambda **kw: pkt(40001, 80, 1000, 0, SYN, opts=MSS, **kw)
send(syn(bad=True));                         report("bad_checksum", replies=replies(40001))
send(pkt(40002, 80, 1000, 0, SYN, doff=4));  report("short_offset", replies=replies(40002))
send(pkt(40003, 80, 1000, 0, SYN, doff=15)); report("offset_beyond", replies=replies(40003))
send(pkt(40004, 80, 1000, 0, SYN, opts=b"\x08\x00\x00\x00")); report("zero_length_option", replies=replies(40004))
send(pkt(40005, 80, 1000, 0, SYN, opts=b"\x01\x01\x02\x04")); report("truncated_option", replies=replies(40005))
send(pkt(40006, 80, 1000, 0, SYN | FIN, opts=MSS)); r = replies(40006)
report("syn_fin", replies=r)
if r:
    send(pkt(40006, 80, 1001, 0, RST))
send(pkt(40007, 80, 1000, 0, SYN | RST, opts=MSS)); report("syn_rst", replies=replies(40007))

# An established connection of our own for the window tests.
nxt = handshake(40010, 5000)
report("handshake", ok=nxt is not None)
send(pkt(40010, 80, 5001 + 10**6, 0, RST));   report("rst_out_of_window", replies=replies(40010))
send(pkt(40010, 80, 5001 + 100, 0, RST));     report("rst_in_window_inexact", replies=replies(40010))
send(pkt(40010, 80, 5001, nxt + 100000, ACK | PSH, data=b"x")); report("ack_of_unsent_data", replies=replies(40010))
# Still alive after all that: a request gets an answer.
req = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
send(pkt(40010, 80, 5001, nxt, ACK | PSH, data=req))
r = replies(40010, 1.0)
report("still_serves", replies=r)
for x in r:
    if x["flags"] & FIN:
        send(pkt(40010, 80, 5001 + len(req) + 1, x["seq"] + len(bytes.fromhex(x["data"])) + 1, ACK))
send(pkt(40010, 80, 5001 + len(req), 0, RST))

send(pkt(40020, 80, 1000, 0, SYN, opts=MSS + b"\x01\x03\x03\x0f")); report("wscale_15", replies=replies(40020))
send(pkt(40020, 80, 1001, 0, RST))
send(pkt(40021, 80, 1000, 0, SYN, opts=b"\x02\x04\x00\x00")); report("mss_0", replies=replies(40021))
send(pkt(40021, 80, 1001, 0, RST))

# Across the wrap: ISN 2^32 - 20, 100 bytes to echo, back byte-identical.
isn = 2**32 - 20
nxt = handshake(40030, isn, dport=7)
payload = bytes(range(100))
send(pkt(40030, 7, isn + 1, nxt, ACK | PSH, data=payload, doff=5))
got = b"".join(bytes.fromhex(x["data"]) for x in replies(40030, 1.0))
report("wrap_echo", sent=len(payload), same=got == payload)
send(pkt(40030, 7, isn + 101, 0, RST))

# 50,000 SYNs from random addresses and ports, in at most 20 s.
t0 = time.time(); n = 0
while n < 50000 and time.time() - t0 < 20:
    src = "10.77.0.%d" % random.randint(100, 250)
    send(pkt(random.randint(1024, 65535), 80, random.randint(0, 2**32 - 1), 0, SYN, opts=MSS, src=src))
    n += 1
report("flood", sent=n, seconds=round(time.time() - t0, 2))
"#;

#[test]
fn hostile_packets_leave_the_stack_alive_bounded_and_serving() {
    common::hostile::hostile_packets_leave_the_stack_alive_bounded_and_serving(&Family {
        test: "adversarial",
        url_host: STACK,
        craft: CRAFT,
        mss: 1460,
        unanswered: &[],
        synack: &[],
        drop_reasons: &[],
    });
}
