//! `--pcap` in demo mode: Wireshark's dissector reads the file, sees the
//! retransmissions, and the injector's verdicts ride along as comments.

mod common;

use std::process::Command;

/// Skip with a reason, unless CI asked for every test to really run.
fn tool_or_skip(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("TCPSCOPE_REQUIRE_NETNS").as_deref() == Ok("1") {
            panic!("{tool} is required (TCPSCOPE_REQUIRE_NETNS=1) but not installed");
        }
        eprintln!("skipped: {tool} is not installed");
    }
    ok
}

#[test]
fn tshark_sees_the_lost_synack_and_its_retransmission() {
    if !tool_or_skip("tshark") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("tcpscope-pcap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("lost-synack.pcapng");
    let out = Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .args([
            "demo",
            "lost-synack",
            "--headless",
            "--events",
            "/dev/null",
            "--pcap",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fields = |filter: &str, fields: &[&str]| common::tshark_fields(&file, &[], filter, fields);
    // Every segment of the run is in the file, the dropped one included.
    let all = fields("tcp", &["frame.number"]);
    assert_eq!(all.len(), 5, "{all:?}");
    // tshark's TCP analysis finds both retransmissions: the SYN and the SYN+ACK.
    let rtx = fields(
        "tcp.analysis.retransmission",
        &["tcp.flags.syn", "tcp.flags.ack"],
    );
    assert_eq!(rtx, vec!["1\t0".to_string(), "1\t1".to_string()]);
    // The SYN+ACK the injector dropped carries a comment saying so.
    let comments = fields("frame.comment", &["tcp.flags.ack", "frame.comment"]);
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0].contains("dropped (rule: drop out SA next 1)"),
        "{comments:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
