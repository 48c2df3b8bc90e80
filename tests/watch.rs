//! `tcpscope watch` on the kernel's own connections: two namespaces joined
//! by a veth pair (docs/live.md, Tests: the network rule), `python3 -m
//! http.server` in one, curl in the other, watch in the server's. Every
//! state is inferred from the wire, and every segment's analysis flags are
//! tshark's on watch's own `--pcap` of the same run.

mod common;
#[path = "tap_support/mod.rs"]
mod tap_support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::{BIN, Netns, tshark_flags};
use tap_support::{Pair, Tap, client_conns, flip, states};

#[test]
fn watch_sees_two_curl_connections_with_inferred_states_and_tsharks_flags() {
    let Some(mut pair) = Pair::setup("watch_two_curls", &["python3", "curl", "tshark", "ss"])
    else {
        return;
    };
    let dir = pair.server.dir.clone();
    std::fs::write(dir.join("small"), "hello from the server\n".repeat(200)).unwrap();
    pair.http_server(&dir);
    let pcap = dir.join("watch.pcapng");
    let pcap_s = pcap.display().to_string();
    let tap = Tap::start(
        &pair.server,
        "watch",
        &[
            "watch",
            "--pcap",
            &pcap_s,
            "--duration",
            "30",
            "port",
            "8000",
        ],
    );
    let out = dir.join("got");
    for _ in 0..2 {
        assert_eq!(pair.curl("small", &out, 10), Some(0));
    }
    std::thread::sleep(Duration::from_millis(500));
    tap.signal(libc::SIGTERM);
    let end = tap.wait(Duration::from_secs(10));
    assert_eq!(end.code, Some(0), "stderr: {}", end.stderr);
    let evs = end.events;
    assert_eq!(
        evs[0]["msg"],
        "watch on any, filter \"tcp and (port 8000)\"; ready"
    );

    let conns = client_conns(&evs);
    assert_eq!(conns.len(), 2, "two curl connections: {conns:?}");
    for c in &conns {
        let client = states(&evs, "client", c);
        let server = states(&evs, "server", &flip(c));
        eprintln!("{c}: client {client:?}, server {server:?}");
        assert_eq!(client[..2], ["SYN-SENT", "ESTABLISHED"]);
        assert_eq!(server[..2], ["SYN-RECEIVED", "ESTABLISHED"]);
        // http.server answers HTTP/1.0 and closes first, or curl does once
        // it has the whole body: whoever sent the first FIN went through
        // FIN-WAIT-1 to TIME-WAIT, the other through CLOSE-WAIT to CLOSED.
        let closer = ["FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT"];
        let other = ["CLOSE-WAIT", "LAST-ACK", "CLOSED"];
        let (a, b) = (&client[2..], &server[2..]);
        assert!(
            (a == closer && b == other) || (a == other && b == closer),
            "{c}: client {client:?}, server {server:?}"
        );
    }
    assert!(
        evs.iter()
            .filter(|e| e["kind"] == "state")
            .all(|e| e["inferred"] == true),
        "every state is inferred"
    );

    // Every segment's flags are tshark's on the same packets, frame by frame.
    let theirs = tshark_flags(&pcap_s);
    let mut ours: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    for e in evs.iter().filter(|e| e["kind"] == "segment") {
        let set = e["analysis"]
            .as_array()
            .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        ours.insert(e["id"].as_u64().unwrap(), set);
    }
    assert_eq!(ours.len(), theirs.len(), "one segment event per frame");
    assert_eq!(ours, theirs);
    assert!(
        evs.iter()
            .any(|e| e["kind"] == "info" && e["msg"] == "stopped: terminated (SIGTERM)")
    );
}

#[test]
fn without_cap_net_raw_it_says_so_and_exits_1() {
    let Some(ns) = Netns::setup("watch_no_cap_net_raw", &["setpriv"], "wnocap") else {
        return;
    };
    let o = ns.run(&[
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=-all",
        BIN,
        "watch",
        "--headless",
        "--events",
        "/dev/null",
        "--duration",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let exe = std::fs::canonicalize(BIN).expect("the test binary's path");
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "tcpscope: capturing packets needs CAP_NET_RAW, which this process does not have: run it with sudo, or once: sudo setcap cap_net_raw+ep {}\n",
            exe.display()
        )
    );
}

#[test]
fn a_bad_filter_is_one_sentence() {
    let Some(ns) = Netns::setup("watch_bad_filter", &[], "wbadf") else {
        return;
    };
    let o = ns.run(&[
        BIN,
        "watch",
        "--headless",
        "--events",
        "/dev/null",
        "port",
        "banana",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("tcpscope: the filter \"tcp and (port banana)\" is not valid: "),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}
