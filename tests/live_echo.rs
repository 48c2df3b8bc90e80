//! 16 MiB through tcpscope's echo service from a kernel client, clean, with
//! kernel-side loss (iptables), and with tcpscope's own injected loss. The
//! bytes must come back identical (SHA-256), and the event stream must stay
//! small (bursts). The body is tests/common/echo.rs, shared with IPv6.

mod common;

use std::time::Duration;

use common::echo::echo_16mib;
use common::*;

#[test]
fn echo_16_mib_clean() {
    echo_16mib("echoclean", STACK, &[], false);
}

// With 10 % random loss both ways the linux profile's own timers apply
// (RTO minimum 200 ms): RACK-TLP and SACK recovery repair nearly every loss
// within a round trip, so no lower RTO minimum is needed to stay short.
// What they check: every byte comes back, in order.

#[test]
fn echo_16_mib_with_kernel_side_loss() {
    echo_16mib("echokloss", STACK, &[], true);
}

#[test]
fn echo_16_mib_with_injected_loss() {
    echo_16mib("echoiloss", STACK, &["--loss", "10"], false);
}

/// The kernel client sends "hello" and its FIN in one packet (TCP_CORK,
/// then shutdown); the echo service answers before the stack flushes, so
/// the echoed data, our FIN and the ACK of theirs leave in one segment.
const CORKED_CLIENT: &str = r#"
import socket, sys
s = socket.create_connection((sys.argv[1], 7), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
s.sendall(b"hello")
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    b = s.recv(100)
    if not b:
        break
    got += b
print(got.decode())
"#;

#[test]
fn a_half_closed_echo_is_answered_in_one_segment() {
    let test = "echocork";
    let Some(mut ns) = Netns::setup(test, &["python3"], test) else {
        return;
    };
    let script = write_script(&ns, "cork.py", CORKED_CLIENT);
    let live = ns.tcpscope(&["--duration", "30", "--serve", "7:echo"]);
    let py = ns.spawn(&["python3", &script, STACK], false);
    let (status, out, err) = ns.wait_helper(py, Duration::from_secs(20));
    assert!(status.is_some_and(|s| s.success()), "client: {out} {err}");
    assert_eq!(out.trim(), "hello");
    live.terminate();
    let f = live.wait(Duration::from_secs(10));
    assert_eq!(f.status.code(), Some(0), "stderr: {}", f.stderr);
    let conn = conns_with_syn_in(&f.events).pop().expect("a connection");
    let c = of_conn(&f.events, &conn);
    let shape = |dir: &str| -> Vec<(Vec<String>, u64)> {
        segments(&c, Some(dir))
            .iter()
            .map(|e| (flags(e), e["len"].as_u64().unwrap()))
            .collect()
    };
    let f_ = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        shape("in"),
        vec![
            (f_(&["SYN"]), 0),
            (f_(&["ACK"]), 0),
            (f_(&["ACK", "FIN", "PSH"]), 5),
            (f_(&["ACK"]), 0),
        ]
    );
    assert_eq!(
        shape("out"),
        vec![(f_(&["SYN", "ACK"]), 0), (f_(&["ACK", "FIN", "PSH"]), 5)],
        "one segment answers: the echo, our FIN and the ACK of theirs"
    );
    let ins = segments(&c, Some("in"));
    let outs = segments(&c, Some("out"));
    // It acknowledges their 5 bytes and FIN.
    assert_eq!(
        outs[1]["ack"].as_u64(),
        Some((ins[2]["seq"].as_u64().unwrap() + 6) % (1 << 32))
    );
    assert_eq!(states(&c), pairs(&PASSIVE_CLOSE));
}
