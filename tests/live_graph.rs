//! The graph view (`w`) in live mode, end to end: `tcpscope live --loss 5`
//! in tmux inside a network namespace, then `w`: both plots with their
//! legends, and retransmissions marked in the time–sequence plot, with the
//! stack sending (the kernel's curl downloads 1 MiB from the http service)
//! and with the kernel sending (a 1 MiB upload to the discard service: the
//! kernel's own retransmissions, seen arriving as wire segments).

mod common;

use common::tmux::Tmux;
use common::{BIN, Netns, STACK};

/// The lines inside the graph's box on screen `s`, and where its legend
/// starts among them.
fn graph_box(s: &str) -> (Vec<String>, usize) {
    let lines: Vec<Vec<char>> = s.lines().map(|l| l.chars().collect()).collect();
    let title = lines
        .iter()
        .position(|l| String::from_iter(l).contains("┌ Graph "))
        .unwrap_or_else(|| panic!("the graph's box:\n{s}"));
    let left = String::from_iter(&lines[title])
        .split("┌ Graph ")
        .next()
        .unwrap()
        .chars()
        .count();
    let right = left
        + 1
        + lines[title][left + 1..]
            .iter()
            .position(|&c| c == '┐')
            .unwrap();
    let inside: Vec<String> = lines[title + 1..]
        .iter()
        .take_while(|l| l.get(left) == Some(&'│'))
        .map(|l| String::from_iter(&l[left + 1..right.min(l.len())]))
        .collect();
    let legend = inside
        .iter()
        .position(|l| l.starts_with("⠂ data "))
        .unwrap_or_else(|| panic!("the time–sequence legend:\n{s}"));
    assert!(
        inside[legend].contains("⠂ data R rto r fast P probe ✗ drop ⠤ ack ˙ rwnd ⠔ burst"),
        "the time–sequence legend:\n{s}"
    );
    assert!(
        inside[legend + 1].starts_with("⠤ cwnd s ssthresh p pipe ^ peer wnd"),
        "the window plot's legend:\n{s}"
    );
    (inside, legend)
}

/// tmux with `tcpscope live --loss 5` in a new namespace, or `None` when
/// the test is skipped.
fn start(test: &str) -> Option<(Netns, Tmux)> {
    if let Err(why) = Tmux::available() {
        if std::env::var("TCPSCOPE_REQUIRE_NETNS").as_deref() == Ok("1") {
            panic!("{test}: TCPSCOPE_REQUIRE_NETNS=1 and {why}");
        }
        eprintln!("{test}: skipped: {why}");
        return None;
    }
    if !common::require(test, &["curl", "python3"]) {
        return None;
    }
    let ns = Netns::new(test)?;
    let script = format!(
        "ip netns exec {} '{BIN}' live --lang en --loss 5 --seed 7; echo \"EXITED:$?\"; sleep 60",
        ns.name
    );
    let tmux = Tmux::start(test, 160, 50, &script);
    tmux.wait_for("live mode to start", |s| s.contains("● live"));
    Some((ns, tmux))
}

#[test]
fn live_graph_under_loss_shows_both_plots_and_retransmission_marks() {
    let Some((ns, tmux)) = start("live_graph") else {
        return;
    };
    let url = format!("http://{STACK}/bytes/1048576");
    let got = ns.ok(&[
        "curl",
        "-s",
        "-m",
        "15",
        "-o",
        "/dev/null",
        "-w",
        "%{size_download}",
        &url,
    ]);
    assert_eq!(got.trim(), "1048576", "curl downloaded 1 MiB");
    // Wait for the close: by then the UI has every event of the transfer.
    tmux.wait_for("the kernel's connection, closed", |s| {
        s.contains("│10.77.0.1:") && s.contains("freed TCB")
    });
    tmux.keys(&["w"]);
    // The stack sends, so the graph is of its side.
    let s = tmux.wait_for("the graph of the stack's side", |s| {
        s.contains(" Graph 10.77.0.2:80 → 10.77.0.1:")
            && s.contains("⠂ data ")
            && s.contains(" cwnd ")
    });
    let (inside, legend) = graph_box(&s);
    // The plots: everything above the time axis (two rows) and the legend.
    let plots = &inside[..legend - 2];
    let has = |c: char| plots.iter().any(|l| l.contains(c));
    assert!(
        has('R') || has('r'),
        "retransmissions marked in the time–sequence plot (5% loss):\n{s}"
    );
    // `vars` under load (the coalescer lets them through rate-limited):
    // pipe and a finite ssthresh after the losses.
    assert!(
        has('p') && has('s'),
        "the window plot has pipe and ssthresh:\n{s}"
    );
    tmux.keys(&["q"]);
    tmux.wait_for("the program to exit", |s| s.contains("EXITED:0"));
}

#[test]
fn live_graph_of_a_kernel_upload_marks_its_retransmissions() {
    let Some((ns, tmux)) = start("live_graph_up") else {
        return;
    };
    const UPLOAD: &str = r#"
import socket
s = socket.create_connection(("10.77.0.2", 9), timeout=20)
s.sendall(bytes(range(256)) * 4096)
s.shutdown(socket.SHUT_WR)
s.recv(1)
s.close()
"#;
    let script = common::write_script(&ns, "upload.py", UPLOAD);
    ns.ok(&["timeout", "30", "python3", &script]);
    tmux.wait_for("the kernel's connection, closed", |s| {
        s.contains("│10.77.0.1:") && s.contains("freed TCB")
    });
    tmux.keys(&["w"]);
    // The kernel sends, so the graph is of its side: its segments as they
    // arrived, each a wire segment (docs/live.md, The link), its retransmissions
    // (seen arriving below data already received) marked.
    let s = tmux.wait_for("the graph of the kernel's side", |s| {
        s.contains(" Graph 10.77.0.1:")
            && s.contains(&format!(" → {STACK}:9"))
            && s.contains("⠂ data ")
            && s.contains(" cwnd ")
    });
    let (inside, legend) = graph_box(&s);
    let plots = &inside[..legend - 2];
    assert!(
        plots.iter().any(|l| l.contains('R') || l.contains('r')),
        "the kernel's retransmissions marked (5% loss):\n{s}"
    );
    assert!(
        plots.iter().any(|l| l.contains('✗')),
        "the injector's drops marked:\n{s}"
    );
    tmux.keys(&["q"]);
    tmux.wait_for("the program to exit", |s| s.contains("EXITED:0"));
}
