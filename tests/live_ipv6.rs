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
    if !require("curl6", &["curl"]) {
        return;
    }
    let Some(ns) = Netns::new("ipv6curl") else {
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
    if !require("ping6", &["python3"]) {
        return;
    }
    let Some(ns) = Netns::new("ipv6ping") else {
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

fn echo6(test: &str, extra: &[&str]) {
    if !require(test, &["python3"]) {
        return;
    }
    let Some(mut ns) = Netns::new(test) else {
        return;
    };
    const SIZE: usize = 16 * 1024 * 1024;
    let script = write_script(&ns, "echo.py", ECHO_CLIENT);
    let mut args = vec![
        "--duration",
        "120",
        "--serve",
        "7:echo",
        "--profile",
        "linux",
    ];
    args.extend_from_slice(extra);
    let live = ns.tcpscope(&args);
    let py = ns.spawn(&["python3", &script, STACK6, "7", &SIZE.to_string()], false);
    let (status, out, err) = ns.wait_helper(py, Duration::from_secs(90));
    assert!(
        status.is_some_and(|s| s.success()),
        "echo client: {out} {err}"
    );
    let v: Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|_| panic!("client said {out} {err}"));
    assert_eq!(v["sent"], SIZE);
    assert_eq!(v["received"], SIZE, "{v}");
    assert_eq!(v["same"], true, "the echo must be byte-identical");
    assert_eq!(v["eof"], true, "echo closes after the client's FIN");
    eprintln!("{test}: 16 MiB echoed over IPv6 in {} s", v["secs"]);
    live.terminate();
    let f = live.wait(Duration::from_secs(10));
    assert_eq!(f.status.code(), Some(0), "stderr: {}", f.stderr);
    let conn = conns_with_syn_in(&f.events).pop().expect("a connection");
    assert!(conn.starts_with("[fd77::2]:7<->[fd77::1]:"), "{conn}");
    // Every byte we sent is in the stream once (segments and bursts).
    let c = of_conn(&f.events, &conn);
    let out_bytes: u64 = c
        .iter()
        .filter(|e| e["dir"] == "out")
        .map(|e| match e["kind"].as_str() {
            Some("burst") => e["bytes"].as_u64().unwrap(),
            Some("segment") if e["retransmit"] == false => e["len"].as_u64().unwrap(),
            _ => 0,
        })
        .sum();
    assert_eq!(out_bytes, SIZE as u64);
    if extra.contains(&"--loss") {
        let dropped = kind(&f.events, "drop")
            .iter()
            .filter(|e| e["reason"] == "loss" || e["reason"] == "injected")
            .count();
        assert!(dropped > 0, "the injector dropped IPv6 segments");
    }
}

#[test]
fn echo_16mib_over_ipv6_is_byte_identical() {
    echo6("ipv6echo", &[]);
}

#[test]
fn echo_16mib_over_ipv6_with_injected_loss() {
    echo6("ipv6echoloss", &["--loss", "1"]);
}

const LISTENER6: &str = r#"
import json, socket
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 9000)); s.listen(1); s.settimeout(10)
c, peer = s.accept(); c.settimeout(10)
data = b""
while True:
    b = c.recv(1000)
    if not b:
        break
    data += b
c.close()
print(json.dumps({"peer": peer[0], "data": data.decode()}), flush=True)
"#;

#[test]
fn connect_to_a_kernel_ipv6_listener() {
    if !require("connect6", &["python3"]) {
        return;
    }
    let Some(mut ns) = Netns::new("ipv6connect") else {
        return;
    };
    let script = write_script(&ns, "listen6.py", LISTENER6);
    let py = ns.spawn(&["python3", &script], false);
    std::thread::sleep(Duration::from_millis(300));
    let to = format!("[{KERNEL6}]:9000");
    let live = ns.tcpscope(&[
        "--duration",
        "1",
        "--msl",
        "1",
        "--serve",
        "none",
        "--connect",
        &to,
        "--send",
        "hello over IPv6",
    ]);
    let (_, out, err) = ns.wait_helper(py, Duration::from_secs(15));
    let v: Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|_| panic!("listener: {out} {err}"));
    assert_eq!(v["data"], "hello over IPv6");
    assert_eq!(v["peer"], STACK6);
    let f = live.wait(Duration::from_secs(10));
    assert_eq!(f.status.code(), Some(0), "stderr: {}", f.stderr);
    let established = kind(&f.events, "state")
        .into_iter()
        .find(|e| e["to"] == "ESTABLISHED")
        .expect("ESTABLISHED");
    let conn = established["conn"].as_str().unwrap();
    assert!(
        conn.starts_with("[fd77::2]:") && conn.ends_with("<->[fd77::1]:9000"),
        "{conn}"
    );
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
