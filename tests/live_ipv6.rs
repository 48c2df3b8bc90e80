//! tcpscope live over IPv6, each test in a network namespace of its own
//! (see tests/common): curl -6, ICMPv6 echo, a 16 MiB echo, an active open
//! to a kernel listener on `[fd77::1]`, and the hostile packets of
//! tests/live_adversarial.rs that apply to IPv6, plus IPv6's own
//! (extension headers, fragments).

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

const KERNEL6: &str = "fd77::1";
const STACK6: &str = "fd77::2";

fn curl6(ns: &Netns, args: &[&str]) -> String {
    let mut a = vec!["curl", "-6", "-s", "-m", "5"];
    a.extend_from_slice(args);
    ns.ok(&a)
}

#[test]
fn curl6_gets_the_page_and_events_carry_ipv6_endpoints() {
    let Some(ns) = Netns::setup("curl6", &["curl"], "ipv6curl") else {
        return;
    };
    let live = ns.tcpscope(&["--duration", "3"]);
    let out = curl6(
        &ns,
        &[
            "-o",
            "/dev/stdout",
            "-w",
            "\n%{http_code}",
            "http://[fd77::2]/",
        ],
    );
    assert!(out.ends_with("\n200"), "curl: {out}");
    assert!(out.contains("request: 1 on this connection"), "page: {out}");
    assert!(
        out.contains("connection: [fd77::2]:80<->[fd77::1]:"),
        "page: {out}"
    );
    // A body larger than one segment arrives whole.
    let n = curl6(
        &ns,
        &[
            "-o",
            "/dev/null",
            "-w",
            "%{size_download}",
            "http://[fd77::2]/bytes/200000",
        ],
    );
    assert_eq!(n.trim(), "200000");
    let f = live.wait(Duration::from_secs(10));
    assert_eq!(f.status.code(), Some(0), "stderr: {}", f.stderr);
    let first = f.events[0]["msg"].as_str().unwrap_or("");
    assert!(
        first.contains("kernel 10.77.0.1/24 and fd77::1/64, stack 10.77.0.2 and fd77::2"),
        "{first}"
    );

    let conns = conns_with_syn_in(&f.events);
    assert_eq!(conns.len(), 2, "{conns:?}");
    for conn in &conns {
        assert!(conn.starts_with("[fd77::2]:80<->[fd77::1]:"), "{conn}");
    }
    let c = of_conn(&f.events, &conns[0]);
    assert_eq!(states(&c), pairs(&PASSIVE_CLOSE));
    let segs = segments(&c, None);
    let (syn, synack, ack) = (segs[0], segs[1], segs[2]);
    assert_eq!(flags(syn), ["SYN"]);
    assert_eq!(syn["dir"], "in");
    // Over IPv6 both sides offer MTU − 60.
    assert!(
        opts(syn).contains(&"MSS=1440".to_string()),
        "{:?}",
        opts(syn)
    );
    assert_eq!(flags(synack), ["SYN", "ACK"]);
    assert_eq!(synack["dir"], "out");
    assert!(
        opts(synack).contains(&"MSS=1440".to_string()),
        "{:?}",
        opts(synack)
    );
    assert_eq!(
        synack["ack"].as_u64(),
        Some(syn["seq"].as_u64().unwrap() + 1)
    );
    assert_eq!(flags(ack), ["ACK"]);
    assert_eq!(
        ack["ack"].as_u64(),
        Some(synack["seq"].as_u64().unwrap() + 1)
    );
    // No segment of ours is larger than the IPv6 MSS.
    let biggest = of_conn(&f.events, &conns[1])
        .iter()
        .filter(|e| e["kind"] == "segment" && e["dir"] == "out")
        .filter_map(|e| e["len"].as_u64())
        .max()
        .unwrap();
    assert!(biggest > 0 && biggest <= 1440, "largest segment {biggest}");
}

/// Three ICMPv6 echo requests from a raw socket (the kernel fills in the
/// ICMPv6 checksum of what it sends and checks the replies'), with a
/// deadline; one JSON line per reply.
const PING6: &str = r#"
import json, socket, struct, time
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.settimeout(2)
for seq in (1, 2, 3):
    data = b"tcpscope ping %d" % seq
    s.sendto(struct.pack("!BBHHH", 128, 0, 0, 0x77, seq) + data, ("fd77::2", 0))
    end = time.time() + 2
    while time.time() < end:
        b, peer = s.recvfrom(2048)
        if b[0] == 129:
            t, code, _, ident, sq = struct.unpack("!BBHHH", b[:8])
            print(json.dumps({"from": peer[0], "type": t, "code": code, "id": ident,
                              "seq": sq, "same": b[8:] == data}), flush=True)
            break
"#;

#[test]
fn icmpv6_echo_is_answered() {
    let Some(ns) = Netns::setup("ping6", &["python3"], "ipv6ping") else {
        return;
    };
    let live = ns.tcpscope(&["--duration", "2"]);
    let script = write_script(&ns, "ping6.py", PING6);
    let out = ns.ok(&["timeout", "20", "python3", &script]);
    let replies: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(replies.len(), 3, "{out}");
    for (i, r) in replies.iter().enumerate() {
        assert_eq!(r["from"], STACK6);
        assert_eq!(
            (r["type"].as_u64(), r["code"].as_u64()),
            (Some(129), Some(0))
        );
        assert_eq!(r["id"], 0x77);
        assert_eq!(r["seq"], i as u64 + 1);
        assert_eq!(r["same"], true, "RFC 4443 §4.2: the data comes back");
    }
    let f = live.wait(Duration::from_secs(10));
    assert_eq!(f.status.code(), Some(0), "stderr: {}", f.stderr);
    let last = kind(&f.events, "info").last().unwrap()["msg"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(last.contains("3 ICMP echo answered"), "{last}");
    // Pings are not TCP: no segment events.
    assert!(kind(&f.events, "segment").is_empty());
}

#[test]
fn echo_16mib_over_ipv6_is_byte_identical() {
    common::echo::echo_16mib("ipv6echo", STACK6, &[], false);
}

#[test]
fn echo_16mib_over_ipv6_with_injected_loss() {
    common::echo::echo_16mib("ipv6echoloss", STACK6, &["--loss", "1"], false);
}

/// An active open to a kernel listener on `[fd77::1]`: the IPv4 test's
/// body (tests/common/active_open.rs), handshake, options, states, close.
#[test]
fn connect_to_a_kernel_ipv6_listener() {
    common::active_open::active_open_and_active_close("connect6", KERNEL6, STACK6, 1440);
}

#[test]
fn bad_ipv6_flags_are_one_sentence_each() {
    let o = std::process::Command::new(BIN)
        .args([
            "live",
            "--headless",
            "--stack-addr6",
            "fd78::2",
            "--duration",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "tcpscope: --stack-addr6 fd78::2 is not in the kernel side's subnet fd77::/64\n"
    );
    let o = std::process::Command::new(BIN)
        .args([
            "live",
            "--headless",
            "--addr6",
            "fd77::1",
            "--duration",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "tcpscope: --addr6 fd77::1: expected an IPv6 address with a prefix length such as fd77::1/64\n"
    );
}

/// tests/live_adversarial.rs's crafting over IPv6: packets from fd77::50,
/// an address of the TUN's prefix that is not the kernel's (the kernel
/// does not forward, so it neither answers the stack's replies nor sends
/// them on), written with a raw IPPROTO_RAW socket (the header is ours),
/// replies read with an AF_PACKET socket on the TUN.
const CRAFT6: &str = r#"
import json, random, socket, struct, sys, time

STACK, SRC, IFACE = "fd77::2", "fd77::50", "tcpscope0"
FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16
random.seed(7)

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

A = lambda a: socket.inet_pton(socket.AF_INET6, a)

def pkt(sport, dport, seq, ack, flags, win=65535, opts=b"", data=b"", doff=None, bad=False,
        src=SRC, ext=b"", ext_nh=None):
    off = doff if doff is not None else (20 + len(opts)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                      off << 4, flags, win, 0, 0) + opts
    pseudo = A(src) + A(STACK) + struct.pack("!IxxxB", len(tcp) + len(data), 6)
    c = csum(pseudo + tcp + data) ^ (0x1234 if bad else 0)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    nh = ext_nh if ext else 6
    ip = struct.pack("!IHBB16s16s", 6 << 28, len(ext) + len(tcp) + len(data), nh, 64, A(src), A(STACK))
    return ip + ext + tcp + data

out = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
cap = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x86dd))
cap.bind((IFACE, 0x86dd))
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
        if len(b) < 60 or b[0] >> 4 != 6 or b[6] != 6 or b[8:24] != A(STACK):
            continue
        sp, dp, seq, ack, off, fl, win = struct.unpack("!HHIIBBH", b[40:56])
        if dp != sport:
            continue
        got.append({"flags": fl, "seq": seq, "ack": ack, "win": win,
                    "data": b[40 + (off >> 4) * 4:].hex()})
    return got

MSS = b"\x02\x04\x05\xa0"

def family_cases():
    # IPv6's own: a SYN behind a destination options header (RFC 8200 §4.6,
    # a PadN option) is a SYN; a SYN in a fragment (more fragments follow) is
    # dropped; an IPv6 packet of another protocol (UDP) is dropped.
    dopts = bytes([6, 0, 1, 4, 0, 0, 0, 0])
    send(pkt(40008, 80, 1000, 0, SYN, opts=MSS, ext=dopts, ext_nh=60)); r = replies(40008)
    report("dest_options", replies=r)
    if r:
        send(pkt(40008, 80, 1001, 0, RST))
    frag = bytes([6, 0, 0, 1, 0, 0, 0, 9])
    send(pkt(40009, 80, 1000, 0, SYN, opts=MSS, ext=frag, ext_nh=44)); report("fragment", replies=replies(40009))
    udp = struct.pack("!IHBB16s16s", 6 << 28, 8, 17, 64, A(SRC), A(STACK)) + struct.pack("!HHHH", 5, 5, 8, 0)
    send(udp); report("udp", replies=replies(5))

def random_src():
    return "fd77::%x:%x" % (random.randint(1, 0xffff), random.randint(0x100, 0xffff))

"#;

#[test]
fn hostile_ipv6_packets_leave_the_stack_alive_bounded_and_serving() {
    common::hostile::hostile_packets_leave_the_stack_alive_bounded_and_serving(
        &common::hostile::Family {
            test: "adversarial6",
            url_host: "[fd77::2]",
            craft: &format!("{CRAFT6}{}", common::hostile::CASES),
            mss: 1440,
            // IPv6's own: a fragment (RFC 8200 §4.5, not reassembled) and
            // a UDP packet go unanswered; a destination options header is
            // walked past to the SYN.
            unanswered: &["fragment", "udp"],
            synack: &["dest_options"],
            drop_reasons: &["fragment", "not_ipv6_tcp"],
        },
    );
}

/// `nc -6` through echo, and the `--pcap` file of it as tshark reads it:
/// IPv6 packets with valid TCP checksums in both directions (the kernel's
/// partial checksums are completed for the capture), and the ICMPv6 echo.
#[test]
fn nc6_echo_and_its_pcap() {
    let Some(ns) = Netns::setup("nc6", &["nc", "tshark", "python3"], "ipv6nc") else {
        return;
    };
    let pcap = ns.dir.join("v6.pcap");
    let pcap_s = pcap.to_string_lossy().into_owned();
    let live = ns.tcpscope(&["--duration", "3", "--pcap", &pcap_s]);
    let input = write_script(&ns, "input.txt", "hello over IPv6\n");
    let out = ns.ok(&["sh", "-c", &format!("nc -6 -N -w 3 {STACK6} 7 < {input}")]);
    assert_eq!(out, "hello over IPv6\n");
    let script = write_script(&ns, "ping6.py", PING6);
    ns.ok(&["timeout", "20", "python3", &script]);
    let f = live.wait(Duration::from_secs(10));
    assert_eq!(f.status.code(), Some(0), "stderr: {}", f.stderr);

    let fields = |filter: &str, field: &str| {
        tshark_fields(&pcap, &["-o", "tcp.check_checksum:TRUE"], filter, &[field])
    };
    let from_stack = fields("ipv6.src == fd77::2 && tcp.srcport == 7", "frame.number");
    let to_stack = fields("ipv6.dst == fd77::2 && tcp.dstport == 7", "frame.number");
    // The SYN+ACK, then the echo with our FIN (corked together).
    assert!(from_stack.len() >= 2, "{from_stack:?}");
    assert!(to_stack.len() >= 3, "{to_stack:?}");
    // Status 1 is "good"; none is "bad" (0) or left unverified (2).
    let status = fields("tcp", "tcp.checksum.status");
    assert!(
        !status.is_empty() && status.iter().all(|s| s == "1"),
        "{status:?}"
    );
    assert_eq!(
        fields("icmpv6.type == 129", "icmpv6.echo.sequence_number").len(),
        3
    );
}

#[test]
fn an_ipv6_address_in_use_is_one_sentence() {
    let Some(ns) = Netns::setup("in_use6", &[], "ipv6inuse") else {
        return;
    };
    for (addr, flag) in [("fd77::1", "--addr6"), ("fd77::2", "--stack-addr6")] {
        ns.ok(&[
            "ip",
            "-6",
            "addr",
            "add",
            &format!("{addr}/128"),
            "dev",
            "lo",
            "nodad",
        ]);
        let o = ns.run(&[
            BIN,
            "live",
            "--headless",
            "--events",
            "/dev/null",
            "--duration",
            "1",
        ]);
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(
            String::from_utf8_lossy(&o.stderr),
            format!(
                "tcpscope: the address {addr} is already in use on interface lo: choose another with {flag}\n"
            )
        );
        ns.ok(&[
            "ip",
            "-6",
            "addr",
            "del",
            &format!("{addr}/128"),
            "dev",
            "lo",
        ]);
    }
}
