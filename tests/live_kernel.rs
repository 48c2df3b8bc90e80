//! tcpscope live against the real Linux kernel, each test in a network
//! namespace of its own (see tests/common). Kernel-side clients are curl and
//! Python; the assertions read the JSON events.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

fn curl(ns: &Netns, args: &[&str]) -> String {
    let mut a = vec!["curl", "-sS", "-m", "10"];
    a.extend_from_slice(args);
    ns.ok(&a)
}

fn assert_gone(ns: &Netns) {
    let o = ns.run(&["ip", "link", "show", IFACE]);
    assert!(
        !o.status.success(),
        "the interface must be removed when tcpscope exits"
    );
}

/// The one connection to port 80.
fn http_conn(evs: &[Value]) -> String {
    let c = conns_with_syn_in(evs);
    assert_eq!(c.len(), 1, "one connection expected, got {c:?}");
    c[0].clone()
}

#[test]
fn curl_gets_200_with_real_kernel_options_and_a_passive_close() {
    let Some(ns) = Netns::setup("curl_gets_200", &["curl"], "curl200") else {
        return;
    };
    let live = ns.tcpscope(&["--duration", "3"]);
    let out = curl(
        &ns,
        &[
            "-o",
            "/dev/stdout",
            "-w",
            "\n%{http_code}",
            &format!("http://{STACK}/"),
        ],
    );
    assert!(out.ends_with("\n200"), "curl: {out}");
    assert!(out.contains("request: 1 on this connection"), "page: {out}");
    let f = live.wait(Duration::from_secs(10));
    assert_eq!(f.status.code(), Some(0), "stderr: {}", f.stderr);
    assert_gone(&ns);

    let conn = http_conn(&f.events);
    assert!(
        conn.starts_with(&format!("{STACK}:80<->{KERNEL}:")),
        "{conn}"
    );
    let c = of_conn(&f.events, &conn);
    let segs = segments(&c, None);
    // Three-way handshake (RFC 9293 §3.5), with the kernel's real options.
    let (syn, synack, ack) = (segs[0], segs[1], segs[2]);
    assert_eq!(
        (syn["dir"].as_str(), flags(syn)),
        (Some("in"), vec!["SYN".to_string()])
    );
    let o = opts(syn);
    assert!(
        o.contains(&"MSS=1460".to_string()),
        "kernel SYN options {o:?}"
    );
    assert!(
        o.contains(&"SACK_PERM".to_string()),
        "kernel SYN options {o:?}"
    );
    assert!(
        o.iter().any(|x| x.starts_with("TS=") && x.ends_with(",0")),
        "{o:?}"
    );
    assert!(o.iter().any(|x| x.starts_with("WS=")), "{o:?}");
    assert_eq!(syn["retransmit"], false);
    assert_eq!(synack["dir"], "out");
    assert_eq!(flags(synack), ["SYN", "ACK"]);
    assert_eq!(
        synack["ack"].as_u64(),
        Some((syn["seq"].as_u64().unwrap() + 1) % (1 << 32))
    );
    let so = opts(synack);
    assert!(
        so.contains(&"MSS=1460".to_string()) && so.contains(&"SACK_PERM".to_string()),
        "{so:?}"
    );
    assert!(
        so.iter().any(|x| x.starts_with("TS=")) && so.iter().any(|x| x.starts_with("WS=")),
        "{so:?}"
    );
    assert_eq!(
        (ack["dir"].as_str(), flags(ack)),
        (Some("in"), vec!["ACK".to_string()])
    );
    assert_eq!(
        ack["ack"].as_u64(),
        Some((synack["seq"].as_u64().unwrap() + 1) % (1 << 32))
    );
    let neg = kind(&f.events, "negotiated");
    assert_eq!(neg.len(), 1);
    assert_eq!(neg[0]["mss"], 1460);
    assert_eq!(neg[0]["ts"], true);
    assert_eq!(neg[0]["sack"], true);
    assert!(neg[0]["ws_snd"].is_u64() && neg[0]["ws_rcv"].is_u64());
    // curl closes first: we pass CLOSE-WAIT and LAST-ACK, no TIME-WAIT here.
    assert_eq!(states(&c), pairs(&PASSIVE_CLOSE));
    let fins: Vec<_> = segs
        .iter()
        .filter(|e| flags(e).contains(&"FIN".to_string()))
        .collect();
    assert_eq!(fins.len(), 2);
    assert_eq!(fins[0]["dir"], "in", "the kernel's FIN comes first");
    let apps: Vec<_> = kind(&f.events, "app")
        .into_iter()
        .filter(|e| e["request"].is_u64())
        .collect();
    assert_eq!(apps.len(), 1);
    assert_eq!(apps[0]["msg"], "GET / 200");
    assert_eq!(apps[0]["request"], 1);
    let freed: Vec<_> = c
        .iter()
        .filter(|e| e["kind"] == "tcb" && e["action"] == "freed")
        .collect();
    assert_eq!(freed.len(), 1);
    // A fresh TUN's IPv6 chatter is switched off, so nothing is dropped.
    assert_eq!(kind(&f.events, "drop").len(), 0);
}

#[test]
fn two_urls_in_one_curl_share_one_connection() {
    let Some(ns) = Netns::setup("two_urls_one_connection", &["curl"], "keepalive2") else {
        return;
    };
    let live = ns.tcpscope(&["--duration", "2"]);
    let url = format!("http://{STACK}/");
    let out = curl(&ns, &[&url, &url]);
    assert!(
        out.contains("request: 1 on this connection")
            && out.contains("request: 2 on this connection"),
        "{out}"
    );
    let f = live.wait(Duration::from_secs(10));
    assert_eq!(f.status.code(), Some(0), "stderr: {}", f.stderr);
    let conn = http_conn(&f.events);
    let syns: Vec<_> = kind(&f.events, "segment")
        .into_iter()
        .filter(|e| flags(e).contains(&"SYN".to_string()) && e["dir"] == "in")
        .collect();
    assert_eq!(syns.len(), 1, "one handshake for two requests");
    let reqs: Vec<(String, u64)> = kind(&f.events, "app")
        .into_iter()
        .filter(|e| e["request"].is_u64())
        .map(|e| {
            (
                e["conn"].as_str().unwrap().to_string(),
                e["request"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(reqs, [(conn.clone(), 1), (conn, 2)]);
}

#[test]
fn connection_close_makes_the_server_hold_time_wait_for_two_msl() {
    let Some(ns) = Netns::setup("connection_close_time_wait", &["curl"], "timewait") else {
        return;
    };
    let live = ns.tcpscope(&["--duration", "4", "--msl", "1"]);
    let url = format!("http://{STACK}/");
    for _ in 0..2 {
        let out = curl(&ns, &["-H", "Connection: close", &url]);
        assert!(out.contains("request: 1 on this connection"), "{out}");
    }
    let f = live.wait(Duration::from_secs(12));
    assert_eq!(f.status.code(), Some(0), "stderr: {}", f.stderr);
    let conns = conns_with_syn_in(&f.events);
    assert_eq!(conns.len(), 2, "two handshakes for two short connections");
    for conn in &conns {
        let c = of_conn(&f.events, conn);
        let segs = segments(&c, None);
        let first_fin = segs
            .iter()
            .find(|e| flags(e).contains(&"FIN".to_string()))
            .expect("a FIN");
        assert_eq!(
            first_fin["dir"], "out",
            "with Connection: close the server closes first"
        );
        let st = states(&c);
        assert_eq!(
            st[2],
            ("ESTABLISHED".to_string(), "FIN-WAIT-1".to_string()),
            "{st:?}"
        );
        assert!(st.iter().any(|s| s.1 == "TIME-WAIT"), "{st:?}");
        assert_eq!(
            st.last().unwrap(),
            &("TIME-WAIT".to_string(), "CLOSED".to_string())
        );
        // TIME-WAIT lasts 2 x MSL = 2 s: from the state events and the timer.
        let enter = c
            .iter()
            .find(|e| e["kind"] == "state" && e["to"] == "TIME-WAIT")
            .unwrap();
        let leave = c
            .iter()
            .find(|e| e["kind"] == "state" && e["from"] == "TIME-WAIT")
            .unwrap();
        let held = t(leave) - t(enter);
        // (Wall-clock slack for a loaded machine; the deadline below is exact.)
        assert!((held - 2.0).abs() < 0.25, "TIME-WAIT lasted {held} s");
        let armed = c
            .iter()
            .find(|e| e["kind"] == "timer" && e["timer"] == "time_wait" && e["action"] == "armed")
            .expect("time_wait armed");
        let d = armed["deadline"].as_f64().unwrap() - t(armed);
        assert!((d - 2.0).abs() < 1e-3, "time_wait timer armed for {d} s");
        assert!(
            c.iter().any(|e| e["kind"] == "timer"
                && e["timer"] == "time_wait"
                && e["action"] == "fired")
        );
        let reqs: Vec<_> = c
            .iter()
            .filter(|e| e["kind"] == "app" && e["request"].is_u64())
            .collect();
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0]["request"], 1);
    }
}

#[test]
fn dropped_syn_ack_is_recovered_and_captured() {
    let Some(ns) = Netns::setup("dropped_syn_ack", &["curl"], "dropsa") else {
        return;
    };
    let pcap = ns.dir.join("drop.pcapng");
    let pcap_s = pcap.to_string_lossy().into_owned();
    let live = ns.tcpscope(&["--duration", "4", "--drop", "out:SA:1", "--pcap", &pcap_s]);
    let out = curl(
        &ns,
        &[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("http://{STACK}/"),
        ],
    );
    assert_eq!(out, "200");
    let f = live.wait(Duration::from_secs(12));
    assert_eq!(f.status.code(), Some(0), "stderr: {}", f.stderr);
    let drops = kind(&f.events, "drop");
    assert_eq!(drops.len(), 1, "{drops:?}");
    assert_eq!(drops[0]["dir"], "out");
    assert_eq!(drops[0]["reason"], "injected");
    assert_eq!(flags(drops[0]), ["SYN", "ACK"]);
    let conn = http_conn(&f.events);
    let c = of_conn(&f.events, &conn);
    let syns_in = segments(&c, Some("in"))
        .into_iter()
        .filter(|e| flags(e) == ["SYN"])
        .count();
    let synacks = segments(&c, Some("out"))
        .into_iter()
        .filter(|e| flags(e) == ["SYN", "ACK"])
        .count();
    // The kernel's SYN retransmission (1 s) or our SYN+ACK retransmission
    // (1 s) repairs the loss; the kernel's retransmitted SYN is answered too.
    assert!(
        syns_in >= 1 && synacks >= 2,
        "SYN in {syns_in}, SYN+ACK out {synacks}"
    );
    let st = states(&c);
    assert_eq!(
        st[1],
        ("SYN-RECEIVED".to_string(), "ESTABLISHED".to_string()),
        "{st:?}"
    );
    let est = c
        .iter()
        .find(|e| e["kind"] == "state" && e["to"] == "ESTABLISHED")
        .unwrap();
    let first = segments(&c, Some("in"))[0];
    assert!(
        t(est) - t(first) >= 0.9,
        "the handshake waited for a retransmission"
    );

    // The pcap has every packet of the link, the dropped one with a comment.
    use pcap_file::pcapng::{Block, PcapNgReader};
    let bytes = std::fs::read(&pcap).expect("pcap written");
    let mut r = PcapNgReader::new(&bytes[..]).expect("pcapng");
    let mut packets = 0;
    let mut commented = Vec::new();
    while let Some(b) = r.next_block() {
        if let Block::EnhancedPacket(p) = b.expect("block") {
            packets += 1;
            for o in &p.options {
                if let pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption::Comment(
                    c,
                ) = o
                {
                    commented.push(c.to_string());
                }
            }
        }
    }
    let seg_events = kind(&f.events, "segment").len();
    assert_eq!(packets, seg_events, "one pcap record per segment event");
    assert_eq!(commented.len(), 1, "{commented:?}");
    assert!(
        commented[0].contains("dropped") && commented[0].contains("drop out SA"),
        "{commented:?}"
    );
}

/// The Python side of the keepalive tests: connect to echo, exchange one
/// byte, say so, then wait for a command on stdin.
const KA_CLIENT: &str = r#"
import socket, struct, sys
s = socket.create_connection((sys.argv[1], 7), timeout=5)
s.sendall(b"x")
assert s.recv(1) == b"x"
print("up", flush=True)
cmd = sys.stdin.readline().strip()
if cmd == "forget":
    # SO_LINGER 0: close sends RST (dropped by the test's iptables) and the
    # kernel forgets the connection at once.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print("closed", flush=True)
sys.stdin.readline()
"#;

#[test]
fn keepalive_declares_a_silent_peer_dead_after_three_probes() {
    let Some(mut ns) = Netns::setup("keepalive_dead", &["iptables", "python3"], "kadead") else {
        return;
    };
    let script = write_script(&ns, "ka.py", KA_CLIENT);
    let live = ns.tcpscope(&[
        "--duration",
        "7",
        "--keepalive",
        "2,1,3",
        "--serve",
        "7:echo",
    ]);
    ns.spawn(&["python3", &script, STACK], true);
    // Wait for the echo exchange, then cut the link both ways.
    let up = std::time::Instant::now();
    loop {
        let evs = live.events_now();
        if evs
            .iter()
            .any(|e| e["kind"] == "segment" && e["dir"] == "out" && e["len"] == 1)
        {
            break;
        }
        assert!(up.elapsed() < Duration::from_secs(5), "no echo exchange");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    ns.iptables(&format!("-A INPUT -i {IFACE} -j DROP"));
    ns.iptables(&format!("-A OUTPUT -o {IFACE} -j DROP"));
    let f = live.wait(Duration::from_secs(15));
    assert_eq!(f.status.code(), Some(0), "stderr: {}", f.stderr);
    let conn = conns_with_syn_in(&f.events).pop().expect("a connection");
    let c = of_conn(&f.events, &conn);
    let last_in = segments(&c, Some("in"))
        .into_iter()
        .filter(|e| e["len"] == 1 || flags(e) == ["ACK"])
        .map(t)
        .fold(0.0, f64::max);
    let ka: Vec<_> = c.iter().filter(|e| e["kind"] == "keepalive").collect();
    let probes: Vec<_> = ka.iter().filter(|e| e["action"] == "probe_sent").collect();
    assert_eq!(probes.len(), 3, "{ka:?}");
    for (i, p) in probes.iter().enumerate() {
        assert_eq!(p["probe"], i as u64 + 1);
        assert_eq!(p["of"], 3);
    }
    let first = t(probes[0]) - last_in;
    assert!(
        (first - 2.0).abs() < 0.25,
        "first probe {first} s after the last segment"
    );
    for w in probes.windows(2) {
        let gap = t(w[1]) - t(w[0]);
        assert!((gap - 1.0).abs() < 0.25, "probes {gap} s apart");
    }
    // Exactly: each probe re-arms the keepalive timer for one interval.
    for p in &probes {
        let armed = c
            .iter()
            .find(|e| {
                e["kind"] == "timer"
                    && e["timer"] == "keepalive"
                    && e["action"] == "armed"
                    && (t(e) - t(p)).abs() < 1e-9
            })
            .expect("keepalive timer re-armed with the probe");
        let d = armed["deadline"].as_f64().unwrap() - t(armed);
        assert!((d - 1.0).abs() < 1e-6, "re-armed for {d} s");
    }
    // The probes themselves: ACK, no data (or one byte), seq = SND.NXT - 1.
    let probe_segs: Vec<_> = segments(&c, Some("out"))
        .into_iter()
        .filter(|e| t(e) >= t(probes[0]) - 1e-6)
        .collect();
    assert!(probe_segs.len() >= 3);
    for p in &probe_segs[..3] {
        assert_eq!(flags(p), ["ACK"]);
    }
    let dead = ka.iter().find(|e| e["action"] == "dead").expect("dead");
    assert!((t(dead) - t(probes[2]) - 1.0).abs() < 0.25);
    let abort: Vec<_> = c.iter().filter(|e| e["kind"] == "abort").collect();
    assert_eq!(abort.len(), 1);
    assert_eq!(abort[0]["reason"], "keepalive_timeout");
    let freed = c
        .iter()
        .filter(|e| e["kind"] == "tcb" && e["action"] == "freed")
        .count();
    assert_eq!(freed, 1);
    // Order: probes, dead, abort, freed.
    let pos = |pred: &dyn Fn(&Value) -> bool| c.iter().position(|e| pred(e)).unwrap();
    let p_dead = pos(&|e| e["kind"] == "keepalive" && e["action"] == "dead");
    let p_abort = pos(&|e| e["kind"] == "abort");
    let p_freed = pos(&|e| e["kind"] == "tcb" && e["action"] == "freed");
    assert!(p_dead < p_abort && p_abort < p_freed);
}

#[test]
fn keepalive_probe_to_a_peer_that_forgot_gets_a_reset() {
    let Some(mut ns) = Netns::setup("keepalive_forgot", &["iptables", "python3"], "kaforgot")
    else {
        return;
    };
    let script = write_script(&ns, "ka.py", KA_CLIENT);
    let live = ns.tcpscope(&[
        "--duration",
        "5",
        "--keepalive",
        "2,1,3",
        "--serve",
        "7:echo",
    ]);
    let py = ns.spawn(&["python3", &script, STACK], true);
    let up = std::time::Instant::now();
    loop {
        let evs = live.events_now();
        if evs
            .iter()
            .any(|e| e["kind"] == "segment" && e["dir"] == "out" && e["len"] == 1)
        {
            break;
        }
        assert!(up.elapsed() < Duration::from_secs(5), "no echo exchange");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    ns.iptables(&format!("-A INPUT -i {IFACE} -j DROP"));
    ns.iptables(&format!("-A OUTPUT -o {IFACE} -j DROP"));
    ns.write_stdin(py, "forget\n");
    std::thread::sleep(Duration::from_millis(400));
    ns.iptables("-F");
    let f = live.wait(Duration::from_secs(12));
    assert_eq!(f.status.code(), Some(0), "stderr: {}", f.stderr);
    let conn = conns_with_syn_in(&f.events).pop().expect("a connection");
    let c = of_conn(&f.events, &conn);
    let probes: Vec<_> = c
        .iter()
        .filter(|e| e["kind"] == "keepalive" && e["action"] == "probe_sent")
        .collect();
    assert_eq!(probes.len(), 1, "the first probe is answered with RST");
    let rst: Vec<_> = segments(&c, Some("in"))
        .into_iter()
        .filter(|e| flags(e).contains(&"RST".to_string()))
        .collect();
    assert_eq!(
        rst.len(),
        1,
        "exactly the kernel's RST arrives (the SO_LINGER RST was blocked)"
    );
    assert_eq!(flags(rst[0]), ["RST"]);
    assert!(t(rst[0]) >= t(probes[0]));
    let abort: Vec<_> = c.iter().filter(|e| e["kind"] == "abort").collect();
    assert_eq!(abort.len(), 1);
    assert_eq!(abort[0]["reason"], "reset_received");
    assert!(
        !c.iter()
            .any(|e| e["kind"] == "keepalive" && e["action"] == "dead")
    );
    assert_eq!(
        c.iter()
            .filter(|e| e["kind"] == "tcb" && e["action"] == "freed")
            .count(),
        1
    );
}

/// The body is tests/common/active_open.rs, shared with IPv6.
#[test]
fn active_open_to_a_kernel_listener_and_active_close() {
    common::active_open::active_open_and_active_close("connect", KERNEL, STACK, 1460);
}

#[test]
fn without_cap_net_admin_it_says_so_and_exits_1() {
    let Some(ns) = Netns::setup("no_cap_net_admin", &["setpriv"], "nocap") else {
        return;
    };
    let o = ns.run(&[
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=-all",
        BIN,
        "live",
        "--headless",
        "--events",
        "/dev/null",
        "--duration",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    // Found by the capability check before any ioctl: one sentence that
    // names what is missing and the command with this binary's own path.
    let exe = std::fs::canonicalize(BIN).expect("the test binary's path");
    assert_eq!(
        err,
        format!(
            "tcpscope: creating the TUN interface needs CAP_NET_ADMIN, which this process does not have: run it with sudo, or once: sudo setcap cap_net_admin+ep {}\n",
            exe.display()
        )
    );
    assert!(!ns.run(&["ip", "link", "show", IFACE]).status.success());
}

#[test]
fn name_and_address_in_use_are_one_sentence_each() {
    let Some(ns) = Netns::setup("in_use", &[], "inuse") else {
        return;
    };
    ns.ok(&["ip", "tuntap", "add", "dev", IFACE, "mode", "tun"]);
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
        "tcpscope: the interface name tcpscope0 is already in use: choose another with --iface\n"
    );
    ns.ok(&["ip", "addr", "add", "10.77.0.1/32", "dev", "lo"]);
    let o = ns.run(&[
        BIN,
        "live",
        "--headless",
        "--events",
        "/dev/null",
        "--iface",
        "tcps1",
        "--duration",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "tcpscope: the address 10.77.0.1 is already in use on interface lo: choose another with --addr\n"
    );
    // No /dev/net/tun is checked before any system call; bad flags are
    // sentences too.
    let o = ns.run(&[
        BIN,
        "live",
        "--headless",
        "--stack-addr",
        "10.9.9.9",
        "--duration",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "tcpscope: --stack-addr 10.9.9.9 is not in the kernel side's subnet 10.77.0.0/24\n"
    );
}

/// Discard, chargen and ping from Python, the recording file, and the
/// interface going away even when tcpscope is killed with SIGKILL.
const SMALL: &str = r#"
import json, os, socket, struct, sys, time
host = sys.argv[1]
res = {}
s = socket.create_connection((host, 9), timeout=5)
s.sendall(b"d" * 102400)
s.shutdown(socket.SHUT_WR)
res["discard_eof"] = s.recv(1) == b""
s.close()
s = socket.create_connection((host, 19), timeout=5)
buf = b""
while len(buf) < 7400:
    buf += s.recv(65536)
s.close()
res["chargen"] = buf[:148].decode()
# ICMP echo (RFC 792) through a raw socket: type 8, code 0, id, seq.
def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xFFFF); t += t >> 16
    return ~t & 0xFFFF
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
r.settimeout(3)
hdr = struct.pack("!BBHHH", 8, 0, 0, 0x77, 1) + b"tcpscope"
pkt = hdr[:2] + struct.pack("!H", csum(hdr)) + hdr[4:]
r.sendto(pkt, (host, 0))
while True:
    data, addr = r.recvfrom(2048)
    icmp = data[(data[0] & 15) * 4:]
    if icmp[0] == 0:
        res["ping"] = [addr[0], struct.unpack("!H", icmp[4:6])[0], icmp[8:].decode()]
        break
# Not TCP: the engine counts it as a drop (not_ipv4_tcp).
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"udp", (host, 9))
print(json.dumps(res), flush=True)
"#;

#[test]
fn discard_chargen_ping_recording_and_sigkill() {
    let Some(mut ns) = Netns::setup("small_services", &["python3"], "small") else {
        return;
    };
    let script = write_script(&ns, "small.py", SMALL);
    let rec = ns.dir.join("run.rec");
    let rec_s = rec.to_string_lossy().into_owned();
    let live = ns.tcpscope(&["--duration", "30", "--record", &rec_s]);
    let py = ns.spawn(&["python3", &script, STACK], false);
    let (status, out, err) = ns.wait_helper(py, Duration::from_secs(15));
    assert!(status.is_some_and(|s| s.success()), "{out} {err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["discard_eof"], true);
    // RFC 864's pattern: 72 characters from ' ', then from '!', CR LF each.
    let expect: String = (0..2u8)
        .map(|l| {
            let line: String = (0..72u8).map(|i| (32 + (l + i) % 95) as char).collect();
            line + "\r\n"
        })
        .collect();
    assert_eq!(v["chargen"], expect);
    assert_eq!(v["ping"], serde_json::json!([STACK, 0x77, "tcpscope"]));
    std::thread::sleep(Duration::from_millis(300));
    let evs = live.events_now();
    let apps: Vec<(String, String)> = kind(&evs, "app")
        .iter()
        .map(|e| {
            (
                e["service"].as_str().unwrap().to_string(),
                e["msg"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let has = |svc: &str, pat: &str| apps.iter().any(|(s, m)| s == svc && m.contains(pat));
    assert!(
        has("discard", "connection accepted from 10.77.0.1:"),
        "{apps:?}"
    );
    assert!(has("discard", "102400 bytes discarded"), "{apps:?}");
    assert!(has("chargen", "connection accepted from"), "{apps:?}");
    assert!(has("chargen", "bytes generated"), "{apps:?}");
    let drops = kind(&evs, "drop");
    assert_eq!(drops.len(), 1, "{drops:?}");
    assert_eq!(drops[0]["reason"], "not_ipv4_tcp");
    assert_eq!(drops[0]["dir"], "in");
    // The recording: a header line, then the same events.
    let text = std::fs::read_to_string(&rec).unwrap();
    let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(header["tcpscope_recording"], 1);
    assert_eq!(header["mode"], "live");
    assert!(text.lines().count() > 10);
    // SIGKILL: no clean-up code runs, yet the kernel removes the TUN when
    // its last descriptor closes (the device is not persistent).
    assert!(ns.run(&["ip", "link", "show", IFACE]).status.success());
    // SAFETY: killing our own child by PID.
    unsafe { libc::kill(live.pid(), libc::SIGKILL) };
    let f = live.wait(Duration::from_secs(5));
    assert_eq!(f.status.code(), None, "killed by a signal");
    assert_gone(&ns);
}

/// A persistent connection that stays idle is closed by the server after
/// --http-idle, so the server side goes through FIN-WAIT and TIME-WAIT.
const IDLE_CLIENT: &str = r#"
import http.client, json, socket, sys, time
c = http.client.HTTPConnection(sys.argv[1], 80, timeout=5)
c.request("GET", "/")
r = c.getresponse(); body = r.read().decode()
t0 = time.time()
c.sock.settimeout(5)
eof = c.sock.recv(1) == b""
print(json.dumps({"status": r.status, "body": body, "closed_after": round(time.time() - t0, 2), "eof": eof}), flush=True)
"#;

#[test]
fn http_idle_closes_an_idle_persistent_connection() {
    let Some(mut ns) = Netns::setup("http_idle", &["python3"], "httpidle") else {
        return;
    };
    let script = write_script(&ns, "idle.py", IDLE_CLIENT);
    let live = ns.tcpscope(&["--duration", "3", "--http-idle", "1", "--msl", "0.5"]);
    let py = ns.spawn(&["python3", &script, STACK], false);
    let (status, out, err) = ns.wait_helper(py, Duration::from_secs(10));
    assert!(status.is_some_and(|s| s.success()), "{out} {err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["status"], 200);
    assert_eq!(v["eof"], true, "the server closed the idle connection");
    let after = v["closed_after"].as_f64().unwrap();
    assert!(
        (0.8..1.6).contains(&after),
        "closed {after} s after the response"
    );
    let f = live.wait(Duration::from_secs(10));
    assert_eq!(f.status.code(), Some(0), "stderr: {}", f.stderr);
    let conn = http_conn(&f.events);
    let c = of_conn(&f.events, &conn);
    let msgs: Vec<&str> = c
        .iter()
        .filter(|e| e["kind"] == "app")
        .map(|e| e["msg"].as_str().unwrap())
        .collect();
    assert!(
        msgs.iter().any(|m| m.starts_with("idle for 1.0s")),
        "{msgs:?}"
    );
    assert_eq!(
        msgs.last().unwrap(),
        &"connection closed after 1 request(s)"
    );
    let st = states(&c);
    assert_eq!(
        st[2],
        ("ESTABLISHED".to_string(), "FIN-WAIT-1".to_string()),
        "{st:?}"
    );
    assert!(st.iter().any(|s| s.1 == "TIME-WAIT"), "{st:?}");
}

/// The largest data segment among `dir` segment events and bursts, in
/// payload bytes (a burst's average).
fn largest_segment(evs: &[Value], dir: &str) -> u64 {
    let seg = kind(evs, "segment")
        .iter()
        .filter(|e| e["dir"] == dir)
        .filter_map(|e| e["len"].as_u64())
        .max()
        .unwrap_or(0);
    let burst = kind(evs, "burst")
        .iter()
        .filter(|e| e["dir"] == dir)
        .filter_map(|b| {
            Some(
                b["bytes"]
                    .as_u64()?
                    .div_ceil(b["segments"].as_u64()?.max(1)),
            )
        })
        .max()
        .unwrap_or(0);
    seg.max(burst)
}

/// `(GSO packets in, wire segments cut from them, segments out in TSO
/// writes, TSO writes)` from the final `info` event.
fn offload_counts(evs: &[Value]) -> (u64, u64, u64, u64) {
    let msg = evs
        .iter()
        .rev()
        .find_map(|e| e["msg"].as_str().filter(|m| m.starts_with("stopped:")))
        .expect("the final info event");
    let num = |after: &str| -> u64 {
        let rest = &msg[msg
            .find(after)
            .unwrap_or_else(|| panic!("{after:?} in {msg}"))
            + after.len()..];
        rest.split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    (
        num("packets in ("),
        num("kernel GSO packets cut into "),
        num(" out ("),
        num(" of them in "),
    )
}

/// Both TUN paths serve: the offload path (the default: virtio-net headers,
/// the kernel's 64 KiB GSO packets, partial checksums vouched for by the
/// link, TSO writes) and the plain one (`--tun-offload off`, one packet per
/// read and write). The `info` event names the path. On both, every segment
/// the events show is a wire segment (docs/live.md, The link): on the offload path
/// the kernel's GSO packets are cut at its MSS before anything sees them,
/// and what the stack sends leaves in TSO writes that the kernel takes as
/// the same segments.
#[test]
fn offload_and_plain_tun_paths_are_wire_true() {
    if !require("tun_paths", &["curl", "python3"]) {
        return;
    }
    const UP_AND_DOWN: &str = r#"
import socket
s = socket.create_connection(("10.77.0.2", 9), timeout=5)
s.sendall(b"z" * (4 << 20))
s.shutdown(socket.SHUT_WR)
s.recv(1)
s.close()
d = socket.create_connection(("10.77.0.2", 19), timeout=5)
n = 0
while n < (4 << 20):
    b = d.recv(65536)
    assert b
    n += len(b)
d.close()
"#;
    for (flag, path, offload) in [
        ("on", "TUN path offload", true),
        ("off", "TUN path plain", false),
    ] {
        let Some(ns) = Netns::new(&format!("tunpath{flag}")) else {
            return;
        };
        let t = ns.tcpscope(&["--tun-offload", flag, "--duration", "8"]);
        let body = curl(&ns, &["http://10.77.0.2/"]);
        assert!(body.contains("request: 1 on this connection"), "{body}");
        let script = write_script(&ns, "updown.py", UP_AND_DOWN);
        ns.ok(&["timeout", "20", "python3", &script]);
        t.terminate();
        let evs = t.wait(Duration::from_secs(15)).events;
        let first = &evs[0];
        assert!(
            first["msg"].as_str().unwrap().contains(path),
            "the info event names the path: {first}"
        );
        // The kernel's SYN offers 1460; with timestamps a segment carries
        // at most 1448 bytes.
        for dir in ["in", "out"] {
            let biggest = largest_segment(&evs, dir);
            assert!(
                (1000..=1448).contains(&biggest),
                "{flag} {dir}: largest segment {biggest} bytes"
            );
        }
        let (_, cut, tso_segs, tso_writes) = offload_counts(&evs);
        assert_eq!(
            cut > 0,
            offload,
            "{flag}: {cut} segments cut from GSO packets"
        );
        assert_eq!(tso_writes > 0, offload, "{flag}: {tso_writes} TSO writes");
        assert!(
            tso_segs >= 2 * tso_writes,
            "a TSO write carries 2 segments or more"
        );
        let bad: Vec<_> = kind(&evs, "drop")
            .into_iter()
            .filter(|d| d["reason"] == "checksum")
            .collect();
        assert!(bad.is_empty(), "{flag}: no checksum drops: {bad:?}");
        assert_gone(&ns);
    }
}

/// `--loss 10` on the offload path drops wire segments, not the kernel's
/// 64 KiB GSO packets: every `drop` event is at most one MSS, the share of
/// data segments from the kernel that were dropped is 10 % within the
/// statistical margin, and the pcap of the run holds no packet longer than
/// the link's MTU (issue 12's acceptance).
#[test]
fn loss_drops_wire_segments_and_the_pcap_fits_the_mtu() {
    let Some(ns) = Netns::setup("wire_true_loss", &["python3"], "wiretrue") else {
        return;
    };
    let pcap = ns.dir.join("bulk.pcapng");
    let pcap_s = pcap.to_string_lossy().into_owned();
    let t = ns.tcpscope(&[
        "--loss",
        "10",
        "--seed",
        "12",
        "--pcap",
        &pcap_s,
        "--duration",
        "25",
    ]);
    const UPLOAD: &str = r#"
import socket
s = socket.create_connection(("10.77.0.2", 9), timeout=20)
s.sendall(bytes(range(256)) * (24 << 10))
s.shutdown(socket.SHUT_WR)
s.recv(1)
s.close()
"#;
    let script = write_script(&ns, "upload.py", UPLOAD);
    ns.ok(&["timeout", "30", "python3", &script]);
    t.terminate();
    let evs = t.wait(Duration::from_secs(15)).events;
    let (_, cut, _, _) = offload_counts(&evs);
    assert!(
        cut > 0,
        "the kernel sent GSO packets, cut into {cut} wire segments"
    );
    let drops = kind(&evs, "drop");
    assert!(
        drops.iter().all(|d| d["len"].as_u64().unwrap() <= 1448),
        "every drop is one wire segment"
    );
    let dropped = drops
        .iter()
        .filter(|d| d["dir"] == "in" && d["len"].as_u64() > Some(0))
        .count() as f64;
    let delivered = kind(&evs, "segment")
        .iter()
        .filter(|e| e["dir"] == "in" && e["len"].as_u64() > Some(0))
        .count() as f64
        + kind(&evs, "burst")
            .iter()
            .filter(|b| b["dir"] == "in" && b["bytes"].as_u64() > Some(0))
            .map(|b| b["segments"].as_f64().unwrap())
            .sum::<f64>();
    let n = dropped + delivered;
    let share = dropped / n;
    // Four standard deviations of a binomial share at p = 0.1.
    let margin = 4.0 * (0.1f64 * 0.9 / n).sqrt();
    assert!(n > 3000.0, "{n} data segments from the kernel");
    assert!(
        (share - 0.1).abs() <= margin,
        "{dropped} of {n} data segments dropped: {share:.4}, not 0.1 ± {margin:.4}"
    );
    use pcap_file::pcapng::{Block, PcapNgReader};
    let bytes = std::fs::read(&pcap).expect("pcap written");
    let mut r = PcapNgReader::new(&bytes[..]).expect("pcapng");
    let (mut packets, mut longest) = (0, 0);
    while let Some(b) = r.next_block() {
        if let Block::EnhancedPacket(p) = b.expect("block") {
            packets += 1;
            longest = longest.max(p.original_len);
        }
    }
    assert!(packets > 3000, "{packets} packets in the pcap");
    assert!(
        longest <= 1500,
        "a {longest}-byte packet in the pcap: longer than the MTU"
    );
    assert!(
        longest > 1400,
        "full-sized segments in the pcap ({longest} bytes)"
    );
}
