//! tcpscope opens a connection to a kernel listener, sends, and closes
//! first: one body for IPv4 (tests/live_kernel.rs) and IPv6
//! (tests/live_ipv6.rs), so both families are held to the same handshake,
//! options, states and close.

use std::time::Duration;

use serde_json::Value;

use super::*;

/// A kernel listener on port 9000 of the family in argv[1] (`4` or `6`):
/// accept one connection, read to EOF, wait, close, and print what
/// arrived.
const LISTENER: &str = r#"
import json, socket, sys, time
fam = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
l = socket.socket(fam, socket.SOCK_STREAM)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", 9000)); l.listen(1)
l.settimeout(10)
c, peer = l.accept(); c.settimeout(10)
data = b""
while True:
    b = c.recv(4096)
    if not b:
        break
    data += b
time.sleep(0.5)  # so that our FIN-WAIT-2 is visible before the kernel's FIN
c.close()
print(json.dumps({"peer": peer[0], "data": data.decode()}), flush=True)
"#;

const HELLO: &str = "hello from tcpscope";

/// `kernel` and `stack` are the two ends' addresses (`KERNEL`, `STACK` or
/// their IPv6 twins); `mss` the MSS our SYN offers on the link.
pub fn active_open_and_active_close(test: &str, kernel: &str, stack: &str, mss: u16) {
    let Some(mut ns) = Netns::setup(test, &["python3"], test) else {
        return;
    };
    let v6 = kernel.contains(':');
    let script = write_script(&ns, "listen.py", LISTENER);
    let py = ns.spawn(&["python3", &script, if v6 { "6" } else { "4" }], false);
    std::thread::sleep(Duration::from_millis(300));
    let bracket = |a: &str| if v6 { format!("[{a}]") } else { a.to_string() };
    let to = format!("{}:9000", bracket(kernel));
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
        HELLO,
    ]);
    let f = live.wait(Duration::from_secs(10));
    assert_eq!(f.status.code(), Some(0), "stderr: {}", f.stderr);
    let (_, out, err) = ns.wait_helper(py, Duration::from_secs(5));
    let v: Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|_| panic!("listener: {out} {err}"));
    assert_eq!(v["data"], HELLO);
    assert_eq!(v["peer"], stack);
    let c = kind(&f.events, "state");
    let conn = c.iter().find(|e| e["to"] == "SYN-SENT").expect("SYN-SENT")["conn"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        conn.starts_with(&format!("{}:", bracket(stack))) && conn.ends_with(&format!("<->{to}")),
        "{conn}"
    );
    let c = of_conn(&f.events, &conn);
    assert_eq!(
        states(&c),
        pairs(&[
            ("CLOSED", "SYN-SENT"),
            ("SYN-SENT", "ESTABLISHED"),
            ("ESTABLISHED", "FIN-WAIT-1"),
            ("FIN-WAIT-1", "FIN-WAIT-2"),
            ("FIN-WAIT-2", "TIME-WAIT"),
        ])
    );
    let segs = segments(&c, None);
    assert_eq!(
        (segs[0]["dir"].as_str(), flags(segs[0])),
        (Some("out"), vec!["SYN".to_string()])
    );
    let o = opts(segs[0]);
    assert!(
        o.contains(&format!("MSS={mss}")) && o.contains(&"SACK_PERM".to_string()),
        "{o:?}"
    );
    assert_eq!(flags(segs[1]), ["SYN", "ACK"]);
    assert_eq!(segs[1]["dir"], "in");
    let data: Vec<_> = segments(&c, Some("out"))
        .into_iter()
        .filter(|e| e["len"].as_u64() > Some(0))
        .collect();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["len"], HELLO.len());
    let fin_out = segments(&c, Some("out"))
        .into_iter()
        .find(|e| flags(e).contains(&"FIN".to_string()))
        .unwrap();
    let fin_in = segments(&c, Some("in"))
        .into_iter()
        .find(|e| flags(e).contains(&"FIN".to_string()))
        .unwrap();
    assert!(t(fin_out) < t(fin_in), "the stack closes first");
}
