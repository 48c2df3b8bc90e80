//! `tcpscope replay FILE.pcap` on a real capture: two kernel sockets in a
//! namespace this test creates (docs/live.md, Tests: the network rule), captured
//! with dumpcap, with iptables dropping some packets so that the kernel
//! retransmits. The inferred states of both sides must be what the wire
//! shows, and every packet's analysis flags what tshark says on the same
//! file.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, Netns, parse_events, tshark_flags};
use serde_json::Value;

/// A capture process, stopped with SIGTERM (so that it writes out what it
/// buffered) and killed on drop if the test fails first.
struct Dumpcap(Option<Child>);

impl Dumpcap {
    fn stop(&mut self) {
        if let Some(mut c) = self.0.take() {
            // SAFETY: kill(2) on the PID of a child we started and have not
            // reaped yet.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(10);
            while c.try_wait().expect("try_wait").is_none() {
                if Instant::now() > deadline {
                    let _ = c.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.wait();
        }
    }
}

impl Drop for Dumpcap {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn states_of(evs: &[Value], host: &str, conn: &str) -> Vec<String> {
    evs.iter()
        .filter(|e| e["kind"] == "state" && e["host"] == host && e["conn"] == conn)
        .map(|e| {
            assert_eq!(
                e["inferred"], true,
                "every state of a capture is inferred: {e}"
            );
            e["to"].as_str().unwrap().to_string()
        })
        .collect()
}

/// The client side's connection string of the connection to `port`.
fn conn_to(evs: &[Value], port: u16) -> String {
    let suffix = format!("<->127.0.0.1:{port}");
    let conns: BTreeSet<&str> = evs
        .iter()
        .filter(|e| e["host"] == "client")
        .filter_map(|e| e["conn"].as_str())
        .filter(|c| c.ends_with(&suffix))
        .collect();
    assert_eq!(conns.len(), 1, "one connection to port {port}: {conns:?}");
    conns.into_iter().next().unwrap().to_string()
}

fn server_side(client_conn: &str) -> String {
    let (a, b) = client_conn.split_once("<->").unwrap();
    format!("{b}<->{a}")
}

/// An HTTP/1.0 server whose response has no Content-Length: the body ends
/// when the server closes (RFC 9112 §6.3), so the server always sends the
/// first FIN and curl closes only after it, whatever the drops delay.
const HTTP_SERVER: &str = r#"
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        self.wfile.write(b"x" * 1000000)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", 8000), H).serve_forever()
"#;

const RESET_SERVER: &str = r#"
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 8001)); s.listen(1)
c, _ = s.accept()
c.recv(100)
time.sleep(30)
"#;

/// Connects, sends, and closes with SO_LINGER 0: an RST instead of a FIN
/// (RFC 9293 §3.10.5, ABORT).
const RESET_CLIENT: &str = r#"
import socket, struct, time
c = socket.create_connection(("127.0.0.1", 8001))
c.sendall(b"hello")
time.sleep(0.3)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
"#;

#[test]
fn a_real_capture_matches_the_wire_and_tshark() {
    let test = "capture_import";
    let tools = ["dumpcap", "tshark", "curl", "python3", "iptables", "ss"];
    let Some(mut ns) = Netns::setup(test, &tools, test) else {
        return;
    };
    let http_server = common::write_script(&ns, "http_server.py", HTTP_SERVER);
    let reset_server = common::write_script(&ns, "reset_server.py", RESET_SERVER);
    let reset_client = common::write_script(&ns, "reset_client.py", RESET_CLIENT);
    ns.spawn(&["python3", &http_server], false);
    ns.spawn(&["python3", &reset_server], false);
    // Both listening before the capture starts (no probe traffic in it).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ss = ns.ok(&["ss", "-ltnH"]);
        if ss.contains("127.0.0.1:8000") && ss.contains("127.0.0.1:8001") {
            break;
        }
        assert!(Instant::now() < deadline, "servers not listening: {ss}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pcap = ns.dir.join("exchange.pcap");
    let pcap_s = pcap.to_string_lossy().into_owned();
    let mut dumpcap = Dumpcap(Some(
        // Headers only (a snap length of 128) and a 64 MiB buffer: at
        // loopback speed a full-size capture loses packets itself.
        ns.cmd(&[
            "dumpcap", "-q", "-i", "lo", "-P", "-s", "128", "-B", "64", "-w", &pcap_s,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start dumpcap"),
    ));
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::metadata(&pcap).map(|m| m.len()).unwrap_or(0) < 24 {
        assert!(Instant::now() < deadline, "dumpcap did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    // Deterministic loss of the server's data (every fourth data segment
    // without SYN, FIN or RST): the kernel retransmits, the client sends
    // duplicate ACKs; the handshake and the close are never dropped, so
    // their states do not depend on timing.
    ns.iptables(
        "-A INPUT -p tcp --sport 8000 --tcp-flags SYN,FIN,RST NONE -m length --length 200:65535 -m statistic --mode nth --every 4 --packet 1 -j DROP",
    );
    let url = "http://127.0.0.1:8000/file.bin";
    let body = ns.ok(&[
        "curl",
        "-s",
        "-m",
        "30",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{size_download}",
        url,
    ]);
    assert_eq!(body, "200 1000000", "curl: {body}");
    ns.ok(&["python3", &reset_client]);
    // A SYN to a port nobody listens on: refused with RST.
    let refused = ns.run(&["curl", "-s", "-m", "5", "http://127.0.0.1:8002/"]);
    assert!(!refused.status.success());
    // Retransmitted FINs and last ACKs settle.
    std::thread::sleep(Duration::from_secs(2));
    dumpcap.stop();

    let out = Command::new(BIN)
        .args(["replay", &pcap_s, "--headless", "--events", "-"])
        .output()
        .expect("run tcpscope replay");
    assert!(
        out.status.success(),
        "replay failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let evs = parse_events(&String::from_utf8_lossy(&out.stdout));

    // The HTTP exchange: the server closes first and pays TIME-WAIT
    // (silent: the capture ends in it).
    let http = conn_to(&evs, 8000);
    assert_eq!(
        states_of(&evs, "client", &http),
        [
            "SYN-SENT",
            "ESTABLISHED",
            "CLOSE-WAIT",
            "LAST-ACK",
            "CLOSED"
        ]
    );
    assert_eq!(
        states_of(&evs, "server", &server_side(&http)),
        [
            "SYN-RECEIVED",
            "ESTABLISHED",
            "FIN-WAIT-1",
            "FIN-WAIT-2",
            "TIME-WAIT"
        ]
    );
    let tw_note = evs.iter().any(|e| {
        e["kind"] == "app"
            && e["host"] == "server"
            && e["conn"] == server_side(&http).as_str()
            && e["msg"]
                .as_str()
                .is_some_and(|m| m.starts_with("still in TIME-WAIT when the capture ended"))
    });
    assert!(tw_note, "how long TIME-WAIT lasted in the capture is said");
    // The reset: both sides closed by the RST.
    let rst = conn_to(&evs, 8001);
    assert_eq!(
        states_of(&evs, "client", &rst),
        ["SYN-SENT", "ESTABLISHED", "CLOSED"]
    );
    assert_eq!(
        states_of(&evs, "server", &server_side(&rst)),
        ["SYN-RECEIVED", "ESTABLISHED", "CLOSED"]
    );
    // Refused: the client alone had a state; nothing was listening.
    let refused = conn_to(&evs, 8002);
    assert_eq!(states_of(&evs, "client", &refused), ["SYN-SENT", "CLOSED"]);
    assert!(states_of(&evs, "server", &server_side(&refused)).is_empty());
    assert!(
        evs.iter()
            .any(|e| e["kind"] == "info"
                && e["msg"].as_str().unwrap().contains("LISTEN cannot be seen")),
        "the capture says LISTEN is unknowable"
    );

    // Every segment's flags are tshark's, frame by frame.
    let theirs = tshark_flags(&pcap_s);
    let mut ours: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    for e in evs.iter().filter(|e| e["kind"] == "segment") {
        let set = e["analysis"]
            .as_array()
            .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        ours.insert(e["id"].as_u64().unwrap(), set);
    }
    assert_eq!(ours.len(), theirs.len(), "one segment event per TCP frame");
    for (n, want) in &theirs {
        assert_eq!(ours.get(n), Some(want), "frame {n}");
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for f in theirs.values().flatten() {
        *counts.entry(f).or_default() += 1;
    }
    eprintln!("{} TCP frames; flags: {counts:?}", theirs.len());
    // What the drops made the kernel send again: Wireshark calls a quick
    // one (RACK, a tail loss probe) out of order, a later one a
    // retransmission.
    let again = theirs
        .values()
        .filter(|s| s.contains("retransmission") || s.contains("out_of_order"))
        .count();
    assert!(again > 0, "the drops made the kernel retransmit");
    // The retransmissions carry the ladder's mark too.
    for e in evs.iter().filter(|e| e["kind"] == "segment") {
        let flagged = theirs[&e["id"].as_u64().unwrap()].contains("retransmission");
        assert_eq!(e["retransmit"], flagged, "{e}");
    }
}
