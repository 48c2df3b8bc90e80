//! The built-in scenarios' own `--pcap` files opened as captures: every
//! packet's analysis flags must be tshark's on the same file, and the
//! states inferred from the packets must be the ones the engines reported
//! in the same run (less what a capture cannot see: LISTEN, and TIME-WAIT's
//! silent end). The scenarios cover zero windows and their probes,
//! keep-alives, fast and spurious retransmissions, duplicate ACKs, resets,
//! simultaneous open and close. Needs tshark; no network, no privileges.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use common::{BIN, parse_events, require_tools, tshark_flags};
use serde_json::Value;

/// (host, conn) → the states entered, in order.
fn states(evs: &[Value]) -> BTreeMap<(String, String), Vec<String>> {
    let mut m: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for e in evs.iter().filter(|e| e["kind"] == "state") {
        let (from, to) = (e["from"].as_str().unwrap(), e["to"].as_str().unwrap());
        // LISTEN itself cannot be seen on the wire.
        if to == "LISTEN" || (from == "LISTEN" && to == "CLOSED") {
            continue;
        }
        // Nor can TIME-WAIT's end by its timer.
        if from == "TIME-WAIT" && e["cause"].as_str().unwrap().starts_with("2 MSL") {
            continue;
        }
        let key = (
            e["host"].as_str().unwrap().to_string(),
            e["conn"].as_str().unwrap().to_string(),
        );
        m.entry(key).or_default().push(to.to_string());
    }
    m
}

#[test]
fn scenario_captures_agree_with_tshark_and_the_engines() {
    if !require_tools("capture_scenarios", &["tshark"]) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("tcpscope-capture-scen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut flagged: BTreeMap<String, usize> = BTreeMap::new();
    for sc in [
        "client-close",
        "server-close",
        "simultaneous-open",
        "simultaneous-close",
        "reset",
        "no-listener",
        "lost-synack",
        "lost-data",
        "lost-fin",
        "lost-last-ack",
        "zero-window",
        "keepalive-dead-peer",
        "keepalive-rebooted-peer",
        "sack-recovery",
        "spurious-rto",
        "tail-loss",
    ] {
        let pcap = dir.join(format!("{sc}.pcapng"));
        let pcap_s = pcap.to_str().unwrap();
        let out = Command::new(BIN)
            .args(["demo", sc, "--headless", "--events", "-", "--pcap", pcap_s])
            .output()
            .unwrap();
        assert!(out.status.success(), "{sc}: {out:?}");
        let engine = parse_events(&String::from_utf8_lossy(&out.stdout));
        let out = Command::new(BIN)
            .args(["replay", pcap_s, "--headless", "--events", "-"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{sc}: {out:?}");
        let ours = parse_events(&String::from_utf8_lossy(&out.stdout));

        let theirs = tshark_flags(pcap_s);
        let mut got: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
        for e in ours.iter().filter(|e| e["kind"] == "segment") {
            let set: BTreeSet<String> = e["analysis"]
                .as_array()
                .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            for f in &set {
                *flagged.entry(f.clone()).or_default() += 1;
            }
            got.insert(e["id"].as_u64().unwrap(), set);
        }
        assert_eq!(got, theirs, "{sc}: analysis flags differ from tshark's");
        let mut want = states(&engine);
        if sc == "keepalive-dead-peer" {
            // The server's RST after its last probe is on the wire; the
            // dead client never takes it in, the capture cannot know that.
            for ((host, _), v) in want.iter_mut() {
                if host == "client" {
                    v.push("CLOSED".into());
                }
            }
        }
        assert_eq!(states(&ours), want, "{sc}: inferred states");
    }
    // Every flag the scenarios can show was shown (a comparison of empty
    // sets would prove nothing).
    for f in [
        "retransmission",
        "fast_retransmission",
        "spurious_retransmission",
        "duplicate_ack",
        "zero_window",
        "zero_window_probe",
        "zero_window_probe_ack",
        "keep_alive",
        "window_update",
        "reset",
    ] {
        assert!(
            flagged.get(f).is_some_and(|n| *n > 0),
            "no {f} in {flagged:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
