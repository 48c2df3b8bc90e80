//! The terminal UI in live mode, end to end: `tcpscope live` in tmux inside
//! a network namespace the test makes, curl from the namespace, the keys a
//! person would press, and the screen as they would see it. Then the
//! recording of that session replays to the same final screen.

mod common;

use std::time::Duration;

use common::tmux::Tmux;
use common::{BIN, Netns, STACK};

fn ready(test: &str) -> bool {
    if let Err(why) = Tmux::available() {
        if std::env::var("TCPSCOPE_REQUIRE_NETNS").as_deref() == Ok("1") {
            panic!("{test}: TCPSCOPE_REQUIRE_NETNS=1 and {why}");
        }
        eprintln!("{test}: skipped: {why}");
        return false;
    }
    common::require(test, &["curl"])
}

/// The parts of the screen that come only from events: everything but the
/// title bar (mode, clock), the age column, the key hints, and the line of
/// playback state. Trailing spaces trimmed.
fn from_events(screen: &str) -> Vec<String> {
    let lines: Vec<&str> = screen.lines().collect();
    lines
        .iter()
        .skip(1) // title bar: live/replay, clock
        .take(lines.len().saturating_sub(3)) // faults and key hints at the bottom
        .map(|l| {
            // Age column in the connection list: "12s", "0.50s", "1m02s".
            let mut out = String::new();
            for w in l.split(' ') {
                let age = w.ends_with('s')
                    && w[..w.len() - 1]
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == '.' || c == 'm')
                    && w.len() > 1;
                out.push_str(if age { "AGE" } else { w });
                out.push(' ');
            }
            out.trim_end().to_string()
        })
        .collect()
}

#[test]
fn live_ui_shows_the_kernel_connection_then_a_dropped_synack_and_replays_the_same() {
    let test = "live_ui";
    if !ready(test) {
        return;
    }
    let Some(ns) = Netns::new(test) else {
        return;
    };
    let rec = ns.dir.join("live.rec");
    let rec_s = rec.to_str().unwrap();
    // 140×70: the whole session's ladder fits, so nothing depends on scroll.
    // --duration: the stack stops by itself (listeners closed) while the UI
    // is still open, so the live screen ends where the recording ends.
    let script = format!(
        "ip netns exec {} '{BIN}' live --lang en --msl 1 --duration 6 --record '{rec_s}'; echo \"EXITED:$?\"; sleep 60",
        ns.name
    );
    let tmux = Tmux::start("live-ui", 140, 70, &script);
    tmux.wait_for("live mode to start", |s| s.contains("● live"));

    // A first curl: the kernel's connection, its handshake and close.
    let url = format!("http://{STACK}/");
    let body = ns.ok(&["curl", "-s", "-m", "5", &url]);
    assert!(body.contains("request: 1 on this connection"), "{body}");
    let s = tmux.wait_for("the kernel's connection, closed", |s| {
        s.contains("10.77.0.1:") && s.contains("TCB freed")
    });
    for want in [
        "SYN seq 0",
        "SYN+ACK seq 0 ack 1",
        "SYN-RECEIVED",
        "ESTABLISHED",
        "CLOSE-WAIT",
        "LAST-ACK",
        "GET / 200 (request 1)",
    ] {
        assert!(s.contains(want), "the screen shows {want:?}:\n{s}");
    }
    assert!(
        s.contains("MSS 1460 · SACK · TS · WS"),
        "the kernel's options on its SYN:\n{s}"
    );

    // D: drop the next outbound segment. The next curl's SYN+ACK is lost;
    // our retransmission timer and the kernel's SYN timer race (both 1 s from
    // the same moment), and either way a SYN+ACK is sent again.
    tmux.keys(&["D"]);
    tmux.wait_for("the rule in the faults bar", |s| s.contains("drop out"));
    let code = ns.ok(&[
        "curl",
        "-s",
        "-m",
        "10",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &url,
    ]);
    assert_eq!(code.trim(), "200");
    let s = tmux.wait_for("the dropped SYN+ACK and the retransmissions", |s| {
        s.contains("✗") && s.contains("↻ SYN+ACK")
    });
    assert!(s.contains("injected"), "the ✗ names its reason:\n{s}");
    let rows: Vec<&str> = s.lines().filter(|l| l.starts_with("│10.77.0.1:")).collect();
    assert_eq!(rows.len(), 2, "two connections listed:\n{s}");

    // The stack stops at --duration; keep the final screen, then quit.
    let stopped = tmux.wait_for("the stack to stop", |s| s.contains("■ finished"));
    assert!(
        stopped
            .lines()
            .any(|l| l.contains("listen 10.77.0.2:80") && l.contains("CLOSED")),
        "stopping closed the listeners:\n{stopped}"
    );
    std::thread::sleep(Duration::from_millis(500));
    let live_final = tmux.screen();
    tmux.keys(&["q"]);
    let after = tmux.wait_for("the program to exit", |s| s.contains("EXITED:"));
    assert!(after.contains("EXITED:0"), "{after}");
    drop(tmux);

    // The recording replays to the same screen (no namespace needed).
    let script = format!("'{BIN}' replay --lang en '{rec_s}'; echo \"EXITED:$?\"; sleep 60");
    let tmux = Tmux::start("live-replay", 140, 70, &script);
    tmux.wait_for("the replay to open", |s| s.contains("replay"));
    // Jump to the end of the recording.
    tmux.keys(&["}"]);
    tmux.keys(&["}"]);
    tmux.wait_for("the end of the recording", |s| s.contains("■ finished"));
    std::thread::sleep(Duration::from_millis(500));
    let replay_final = tmux.screen();
    let (a, b) = (from_events(&live_final), from_events(&replay_final));
    assert!(a.len() > 60, "a full screen is compared:\n{live_final}");
    assert!(a.iter().any(|l| l.contains("✗")) && a.iter().any(|l| l.contains("↻ SYN+ACK")));
    if a != b {
        let diff: Vec<String> = a
            .iter()
            .zip(&b)
            .enumerate()
            .filter(|(_, (x, y))| x != y)
            .map(|(i, (x, y))| format!("line {}:\n live:   {x}\n replay: {y}", i + 2))
            .collect();
        panic!(
            "the replay's final screen differs from the live one:\n{}\n\nlive:\n{live_final}\nreplay:\n{replay_final}",
            diff.join("\n")
        );
    }
    tmux.keys(&["q"]);
    tmux.wait_for("the replay to exit", |s| s.contains("EXITED:0"));
}

/// A panic in the UI (forced with the test hook `TCPSCOPE_TEST_PANIC=1`,
/// after the first frame): the terminal comes back, the panic message is
/// readable on the normal screen, the exit status is Rust's 101, and the
/// interface is gone.
#[test]
fn a_panic_in_the_live_ui_gives_the_terminal_back_and_removes_the_interface() {
    let test = "live_ui_panic";
    if !ready(test) {
        return;
    }
    let Some(ns) = Netns::new(test) else {
        return;
    };
    let script = format!(
        "ip netns exec {} env TCPSCOPE_TEST_PANIC=1 '{BIN}' live --lang en; echo \"EXITED:$?\"; sleep 60",
        ns.name
    );
    let tmux = Tmux::start("live-panic", 100, 30, &script);
    let s = tmux.wait_for("the program to exit", |s| s.contains("EXITED:"));
    assert!(s.contains("EXITED:101"), "a panic exits with 101:\n{s}");
    assert!(
        s.contains("a deliberate panic in the UI"),
        "the panic message is on the normal screen:\n{s}"
    );
    assert!(!s.contains("Connections"), "the UI is gone:\n{s}");
    assert_eq!(tmux.flag("alternate_on"), "0", "back on the normal screen");
    assert_eq!(tmux.flag("mouse_any_flag"), "0", "mouse reporting off");
    assert_eq!(tmux.flag("cursor_flag"), "1", "cursor visible");
    let link = ns.run(&["ip", "link", "show", "tcpscope0"]);
    assert!(
        !link.status.success(),
        "the interface is removed: {}",
        String::from_utf8_lossy(&link.stdout)
    );
}
