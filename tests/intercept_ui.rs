//! `tcpscope intercept` (and `watch`) in the terminal UI, in tmux (its own socket), on a
//! real connection between two namespaces (docs/live.md, Tests: the network
//! rule): `D` drops the server's next packet and the kernel's resend shows
//! marked; `h` holds every packet and `q` lets the held ones go, so the
//! download that waited completes.

mod common;
#[path = "tap_support/mod.rs"]
mod tap_support;

use std::time::Duration;

use common::BIN;
use common::tmux::Tmux;
use tap_support::{Pair, SERVER};

#[test]
fn drop_key_on_a_real_connection_and_held_packets_go_on_q() {
    let Some(mut pair) = Pair::setup(
        "intercept_ui",
        &["python3", "curl", "ss", "tmux", "iptables", "ip6tables"],
    ) else {
        return;
    };
    let dir = pair.server.dir.clone();
    std::fs::write(dir.join("small"), "x".repeat(5000)).unwrap();
    pair.http_server(&dir);
    let events = dir.join("ui.jsonl");
    let script = format!(
        "ip netns exec {} {BIN} intercept --port 8000 --events {}; echo EXITED:$?; sleep 60",
        pair.server.name,
        events.display()
    );
    let t = Tmux::start("intercept-ui", 120, 36, &script);
    t.wait_for("the title", |s| s.contains("intercept port 8000"));

    t.keys(&["D"]);
    t.wait_for("the answer to D", |s| {
        s.contains("the next packet going out will be dropped")
    });
    let got = pair.client.dir.join("got");
    assert_eq!(pair.curl("small", &got, 10), Some(0));
    // The server's SYN+ACK went first: dropped, then resent (↻).
    // The drop's own line may have scrolled above the ladder's newest by
    // the time the page is read (a busy machine): the fault bar's count
    // says it was dropped, the resend shows marked.
    let s = t.wait_for("the drop and the resend", |s| {
        (s.contains("injected ✗─ SYN+ACK") || s.contains("dropped in 0 · out 1"))
            && s.contains("↻ SYN+ACK")
    });
    assert!(s.contains("dropped in 0 · out 1"), "{s}");

    t.keys(&["h"]);
    t.wait_for("holding", |s| s.contains("holding every packet"));
    let url = format!("http://{SERVER}:8000/small");
    let got2 = pair.client.dir.join("got2").display().to_string();
    let i = pair.client.spawn(
        &["curl", "-s", "--max-time", "20", "-o", &got2, &url],
        false,
    );
    t.wait_for("a held SYN", |s| {
        s.contains("held 1: SYN in") || s.contains("held 2: SYN in")
    });
    t.keys(&["q"]);
    let (status, _, _) = pair.client.wait_helper(i, Duration::from_secs(15));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "curl completes once q lets its SYN go"
    );
    assert_eq!(std::fs::read(&got2).unwrap(), "x".repeat(5000).into_bytes());
    t.wait_for("the exit", |s| s.contains("EXITED:0"));
    let r = pair.server.ok(&["iptables", "-S"]);
    assert!(!r.contains("TCPSCOPE"), "{r}");
    let evs = common::parse_events(&std::fs::read_to_string(&events).unwrap());
    assert!(evs.iter().any(|e| e["kind"] == "release"));
    assert!(
        evs.iter()
            .any(|e| e["msg"] == "stopped: stopped from the UI")
    );
}

/// `tcpscope watch` in the terminal UI, in tmux, on the server's side of a
/// real connection: the curl download shows as a ladder with inferred
/// states (marked `~`), a fault key says watch only looks, `q` quits.
#[test]
fn watch_shows_a_real_connection_with_inferred_states() {
    let Some(mut pair) = Pair::setup("watch_ui", &["python3", "curl", "tmux"]) else {
        return;
    };
    let dir = pair.server.dir.clone();
    std::fs::write(dir.join("small"), "y".repeat(20000)).unwrap();
    pair.http_server(&dir);
    let script = format!(
        "ip netns exec {} {BIN} watch 'port 8000' --lang en; echo EXITED:$?; sleep 60",
        pair.server.name
    );
    let t = Tmux::start("watch-ui", 120, 36, &script);
    t.wait_for("the title", |s| s.contains("watch on any"));
    let got = pair.client.dir.join("got");
    assert_eq!(pair.curl("small", &got, 10), Some(0));
    let s = t.wait_for("the connection and its inferred states", |s| {
        s.contains(":8000") && s.contains("~ESTABLISHED") && s.contains("~TIME-WAIT")
    });
    assert!(s.contains("(inferr"), "the TCB panel says inferred:\n{s}");
    t.keys(&["d"]);
    t.wait_for("the answer to d", |s| s.contains("watch only looks"));
    t.keys(&["q"]);
    t.wait_for("the exit", |s| s.contains("EXITED:0"));
}
