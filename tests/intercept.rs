//! `tcpscope intercept --port 8000` on the kernel's own connections: two
//! namespaces joined by a veth pair (docs/live.md, Tests: the network rule),
//! `python3 -m http.server` and intercept in one, curl in the other. The
//! rules are installed in the server's namespace only.

mod common;
#[path = "tap_support/mod.rs"]
mod tap_support;

use std::time::Duration;

use serde_json::Value;
use tap_support::{Pair, Tap};

const CHAIN: &str = "TCPSCOPE-Q7463";

/// 2 MB that compress badly (a fixed LCG), so the bytes are checked.
fn blob() -> Vec<u8> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..2_000_000)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (x >> 56) as u8
        })
        .collect()
}

/// iptables and ip6tables in the server's namespace, all rules.
fn rules(pair: &Pair) -> String {
    pair.server.ok(&["iptables", "-S"]) + &pair.server.ok(&["ip6tables", "-S"])
}

fn drops(evs: &[Value]) -> Vec<&Value> {
    evs.iter()
        .filter(|e| e["kind"] == "drop" && e["reason"] == "injected")
        .collect()
}

#[test]
fn loss_20_a_download_arrives_whole_with_drops_and_retransmissions_and_no_rule_left() {
    let Some(mut pair) = Pair::setup(
        "intercept_loss",
        &["python3", "curl", "ss", "iptables", "ip6tables"],
    ) else {
        return;
    };
    let dir = pair.server.dir.clone();
    let data = blob();
    std::fs::write(dir.join("blob"), &data).unwrap();
    pair.http_server(&dir);
    let tap = Tap::start(
        &pair.server,
        "intercept",
        &["intercept", "--port", "8000", "--loss", "20", "--seed", "7"],
    );
    // Installed, with queue bypass.
    let r = rules(&pair);
    assert!(
        r.contains(&format!(
            "-A {CHAIN} -p tcp -m tcp --sport 8000 -j NFQUEUE --queue-num 7463 --queue-bypass"
        )),
        "{r}"
    );
    let got = pair.client.dir.join("got");
    assert_eq!(pair.curl("blob", &got, 90), Some(0));
    assert!(
        std::fs::read(&got).unwrap() == data,
        "the download arrives byte for byte"
    );
    tap.signal(libc::SIGTERM);
    let end = tap.wait(Duration::from_secs(10));
    assert_eq!(end.code, Some(0), "stderr: {}", end.stderr);
    assert!(
        !rules(&pair).contains("TCPSCOPE"),
        "no rule left:\n{}",
        rules(&pair)
    );

    let evs = &end.events;
    let dropped = drops(evs);
    assert!(dropped.len() >= 10, "{} drops", dropped.len());
    // The kernel resends what was dropped: every byte of every dropped
    // data segment is in a later segment of the same sender, marked (the
    // kernel may resend it in a larger segment). Wireshark's analysis,
    // which tcpscope follows, calls a resend within an RTT of the highest
    // segment out-of-order rather than a retransmission.
    // (A dropped resend may have been needless, its original having
    // arrived: only first transmissions must come again.)
    let first_sent = |id: &Value| {
        evs.iter().any(|e| {
            e["kind"] == "segment"
                && e["id"] == *id
                && e["retransmit"] == false
                && e["analysis"].is_null()
        })
    };
    let data_drops: Vec<&Value> = dropped
        .iter()
        .copied()
        .filter(|d| d["len"].as_u64().unwrap() > 0 && first_sent(&d["id"]))
        .collect();
    assert!(
        data_drops.len() >= 10,
        "{} data segments dropped",
        data_drops.len()
    );
    let u = |v: &Value| v.as_u64().unwrap() as u32;
    for d in &data_drops {
        // The sender: the intercepting side for `out`, its peer for `in`.
        let (host, conn) = if d["dir"] == "out" {
            (
                d["host"].as_str().unwrap().to_string(),
                d["conn"].as_str().unwrap().to_string(),
            )
        } else {
            let other = if d["host"] == "server" {
                "client"
            } else {
                "server"
            };
            (
                other.to_string(),
                tap_support::flip(d["conn"].as_str().unwrap()),
            )
        };
        let (seq, len) = (u(&d["seq"]), u(&d["len"]));
        let covered = evs.iter().any(|e| {
            e["kind"] == "segment"
                && (e["retransmit"] == true
                    || e["analysis"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|f| f == "out_of_order")))
                && e["host"] == host.as_str()
                && e["conn"] == conn.as_str()
                && e["t"].as_f64() >= d["t"].as_f64()
                && seq.wrapping_sub(u(&e["seq"])) < u(&e["len"])
                && seq.wrapping_add(len).wrapping_sub(u(&e["seq"])) <= u(&e["len"])
        });
        assert!(covered, "dropped {d} is not seen resent");
    }
    let rtx = evs
        .iter()
        .filter(|e| e["kind"] == "segment" && e["retransmit"] == true)
        .count();
    assert!(rtx >= 10, "{rtx} segments marked retransmissions");
    let msgs: Vec<&str> = evs
        .iter()
        .filter(|e| e["kind"] == "info")
        .map(|e| e["msg"].as_str().unwrap())
        .collect();
    assert!(msgs.contains(&"stopped: terminated (SIGTERM)"), "{msgs:?}");
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("the queue's rules are removed; ")),
        "{msgs:?}"
    );
}

#[test]
fn killed_with_sigkill_traffic_still_flows_and_the_next_start_removes_the_stale_chain() {
    let Some(mut pair) = Pair::setup(
        "intercept_kill",
        &["python3", "curl", "ss", "iptables", "ip6tables"],
    ) else {
        return;
    };
    let dir = pair.server.dir.clone();
    let data = blob();
    std::fs::write(dir.join("blob"), &data).unwrap();
    pair.http_server(&dir);
    let tap = Tap::start(&pair.server, "first", &["intercept", "--port", "8000"]);
    tap.signal(libc::SIGKILL);
    let end = tap.wait(Duration::from_secs(10));
    assert_eq!(end.code, None, "killed by a signal");
    // The chain is still there, and nobody holds the queue: bypassed.
    assert!(
        rules(&pair).contains(&format!("-A {CHAIN} ")),
        "{}",
        rules(&pair)
    );
    let got = pair.client.dir.join("got");
    assert_eq!(
        pair.curl("blob", &got, 20),
        Some(0),
        "curl works with the stale rule"
    );
    assert!(std::fs::read(&got).unwrap() == data);

    let tap = Tap::start(
        &pair.server,
        "second",
        &["intercept", "--port", "8000", "--duration", "1"],
    );
    let end = tap.wait(Duration::from_secs(10));
    assert_eq!(end.code, Some(0), "stderr: {}", end.stderr);
    assert!(
        end.events.iter().any(|e| e["msg"]
            == format!("removed a stale chain {CHAIN} left by an earlier tcpscope intercept")),
        "the stale chain is named"
    );
    assert!(
        end.events
            .iter()
            .any(|e| e["msg"] == "stopped: --duration reached")
    );
    let r = rules(&pair);
    assert!(!r.contains("TCPSCOPE"), "no rule left:\n{r}");
    // Exactly one jump each way was there while it ran, not two.
    assert_eq!(
        r.lines().filter(|l| l.starts_with("-A INPUT")).count(),
        0,
        "{r}"
    );
}

#[test]
fn a_second_intercept_on_the_same_queue_is_refused_and_leaves_the_first_alone() {
    let Some(pair) = Pair::setup("intercept_busy", &["iptables", "ip6tables"]) else {
        return;
    };
    let first = Tap::start(&pair.server, "first", &["intercept", "--port", "8000"]);
    let o = pair.server.run(&[
        common::BIN,
        "intercept",
        "--port",
        "8000",
        "--headless",
        "--events",
        "/dev/null",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "tcpscope: NFQUEUE 7463 is held by another program: choose another with --queue-num\n"
    );
    assert!(
        rules(&pair).contains(&format!("-A {CHAIN} ")),
        "the first's rules stay"
    );
    first.signal(libc::SIGINT);
    let end = first.wait(Duration::from_secs(10));
    assert_eq!(end.code, Some(0), "stderr: {}", end.stderr);
    assert!(
        end.events
            .iter()
            .any(|e| e["msg"] == "stopped: interrupted (SIGINT)")
    );
    assert!(!rules(&pair).contains("TCPSCOPE"));
}
