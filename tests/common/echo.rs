//! The 16 MiB echo through tcpscope's echo service, one body for IPv4
//! (tests/live_echo.rs) and IPv6 (tests/live_ipv6.rs): the bytes come back
//! identical, every byte is in the event stream once, the stream stays
//! small, and what is on the ladder is on the wire.

use std::time::Duration;

use serde_json::Value;

use super::*;

pub const SIZE: usize = 16 * 1024 * 1024;

/// Bytes of the peer's data covered by the `in` segments and bursts that
/// arrived (retransmissions included), from the SYN's sequence number on.
fn arrived_coverage(c: &[&Value]) -> u64 {
    let syn = c
        .iter()
        .find(|e| {
            e["kind"] == "segment" && e["dir"] == "in" && flags(e).contains(&"SYN".to_string())
        })
        .expect("the SYN");
    let base = syn["seq"].as_u64().unwrap() as u32 + 1;
    let rel = |s: u64| u64::from((s as u32).wrapping_sub(base));
    let mut ranges: Vec<(u64, u64)> = c
        .iter()
        .filter(|e| e["dir"] == "in")
        .filter_map(|e| match e["kind"].as_str() {
            Some("segment") if e["len"].as_u64()? > 0 => {
                let s = rel(e["seq"].as_u64()?);
                Some((s, s + e["len"].as_u64()?))
            }
            Some("burst") if e["bytes"].as_u64()? > 0 => {
                Some((rel(e["seq_from"].as_u64()?), rel(e["seq_to"].as_u64()?)))
            }
            _ => None,
        })
        .collect();
    ranges.sort();
    let (mut covered, mut end) = (0, 0);
    for (s, e) in ranges {
        if e > end {
            covered += e - s.max(end);
            end = e;
        }
    }
    covered
}

/// 16 MiB through tcpscope's echo service from a kernel client to `stack`
/// (`STACK` or `STACK6`), with tcpscope's `extra` flags and, when
/// `iptables_loss` (IPv4 only), 10 % random loss both ways on the kernel's
/// side of the link (iptables). One body for both address families, so
/// what is checked over IPv4 is checked over IPv6.
pub fn echo_16mib(test: &str, stack: &str, extra: &[&str], iptables_loss: bool) {
    let v6 = stack.contains(':');
    assert!(!(v6 && iptables_loss), "kernel-side loss is an IPv4 test");
    let mut tools = vec!["python3"];
    if iptables_loss {
        tools.push("iptables");
    }
    let Some(mut ns) = Netns::setup(test, &tools, test) else {
        return;
    };
    let script = write_script(&ns, "echo.py", ECHO_CLIENT);
    let mut args = vec![
        "--duration",
        "120",
        "--serve",
        "7:echo",
        "--profile",
        "linux",
    ];
    args.extend_from_slice(extra);
    let live = ns.tcpscope(&args);
    if iptables_loss {
        // RFC-style random loss on the kernel's side of the link, both ways.
        ns.iptables(&format!(
            "-A INPUT -i {IFACE} -m statistic --mode random --probability 0.1 -j DROP"
        ));
        ns.iptables(&format!(
            "-A OUTPUT -o {IFACE} -m statistic --mode random --probability 0.1 -j DROP"
        ));
    }
    let py = ns.spawn(&["python3", &script, stack, "7", &SIZE.to_string()], false);
    let (status, out, err) = ns.wait_helper(py, Duration::from_secs(90));
    assert!(
        status.is_some_and(|s| s.success()),
        "echo client: {out} {err}"
    );
    let v: Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|_| panic!("client said {out} {err}"));
    assert_eq!(v["sent"], SIZE);
    assert_eq!(v["received"], SIZE, "{v}");
    assert_eq!(v["same"], true, "the echo must be byte-identical");
    assert_eq!(v["eof"], true, "echo closes after the client's FIN");
    eprintln!("{test}: 16 MiB echoed to {stack} in {} s", v["secs"]);
    if iptables_loss {
        ns.iptables("-F");
    }
    live.terminate();
    let f = live.wait(Duration::from_secs(10));
    assert_eq!(f.status.code(), Some(0), "stderr: {}", f.stderr);

    let conn = conns_with_syn_in(&f.events).pop().expect("a connection");
    let ours = if v6 {
        format!("[{stack}]:7<->")
    } else {
        format!("{stack}:7<->")
    };
    assert!(conn.starts_with(&ours), "{conn}");
    let c = of_conn(&f.events, &conn);
    // Every first transmission of a data byte is in the stream exactly once:
    // in a single `segment` event (not marked retransmit) or in a `burst`.
    let first_bytes = |dir: &str| -> u64 {
        c.iter()
            .filter(|e| e["dir"] == dir)
            .map(|e| match e["kind"].as_str() {
                Some("burst") => e["bytes"].as_u64().unwrap(),
                Some("segment") if e["retransmit"] == false => e["len"].as_u64().unwrap(),
                _ => 0,
            })
            .sum()
    };
    let bursts = c.iter().filter(|e| e["kind"] == "burst").count();
    assert!(bursts > 0, "bulk traffic must be coalesced into bursts");
    // Ours are counted at the sender, so exactly once each.
    assert_eq!(first_bytes("out"), SIZE as u64);
    if !extra.contains(&"--loss") && !iptables_loss {
        assert_eq!(first_bytes("in"), SIZE as u64);
    } else {
        // Under loss a kernel segment that fills a hole arrives marked as a
        // retransmission (its first transmission was lost): no byte counts
        // twice as a first arrival, and the data that arrived, resent or
        // not, covers every byte exactly.
        assert!(first_bytes("in") <= SIZE as u64);
        assert_eq!(arrived_coverage(&c), SIZE as u64);
        // The kernel repairs the injector's holes on our duplicate ACKs
        // (SACK, RACK), and the receiver says so (docs/events.md, The schema:
        // `analysis`). Not with iptables loss: the kernel's own dropped
        // packets are a local drop that it sends again as new, so what
        // arrives again there is data whose ACK was lost (timer, probe).
        let judged_fast: Vec<&Value> = segments(&c, Some("in"))
            .into_iter()
            .filter(|e| {
                e["analysis"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == "fast_retransmission"))
            })
            .collect();
        assert!(iptables_loss || !judged_fast.is_empty(), "none judged fast");
        assert!(judged_fast.iter().all(|e| e["retransmit"] == true));
    }
    // Volume: without coalescing there is one event per packet.
    let packets: u64 = kind(&f.events, "info")
        .last()
        .and_then(|e| e["msg"].as_str())
        .and_then(|m| m.strip_prefix("stopped: "))
        .map(|m| {
            let num = |s: &str| {
                s.split(|c: char| !c.is_ascii_digit())
                    .next()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap()
            };
            let out_at = m.find(" out (").expect("packets out");
            let out_from = m[..out_at].rfind(' ').unwrap() + 1;
            num(m) + num(&m[out_from..])
        })
        .expect("final info event with packet counts");
    let seg_events = c.iter().filter(|e| e["kind"] == "segment").count() as u64;
    let limit = if iptables_loss || extra.contains(&"--loss") {
        packets / 2
    } else {
        1000
    };
    assert!(
        seg_events < limit,
        "{seg_events} single segment events for {packets} packets"
    );
    // `vars` under load pass about one per 20 ms (and each cc_state change,
    // and the last of each burst): the graph has the windows over time, and
    // the stream stays small.
    let vt: Vec<f64> = c
        .iter()
        .filter(|e| e["kind"] == "vars")
        .map(|e| super::t(e))
        .collect();
    let span = vt.last().unwrap_or(&0.0) - vt.first().unwrap_or(&0.0);
    let vars_limit = seg_events + 2 * bursts as u64 + (span / 0.02) as u64 + 50;
    assert!(
        (vt.len() as u64) < vars_limit,
        "{} vars events over {span:.2} s with {bursts} bursts",
        vt.len()
    );
    // Some passed while a burst was open: before a burst that began
    // earlier (absorbed ones come after their burst).
    let mut next_since = f64::INFINITY;
    let mut mid_burst = 0;
    for e in c.iter().rev() {
        match e["kind"].as_str() {
            Some("burst") => next_since = e["since"].as_f64().unwrap(),
            Some("vars") if next_since < super::t(e) => mid_burst += 1,
            _ => {}
        }
    }
    // Under 10 % loss a burst rarely stays open 20 ms: every loss, SACK
    // and retransmission flushes it (with the vars it absorbed), so only the
    // clean run is sure to show one passing mid-burst.
    if !iptables_loss && !extra.contains(&"--loss") {
        assert!(
            mid_burst > 0,
            "no vars passed while a burst was open ({} vars, {bursts} bursts)",
            vt.len()
        );
    }
    let apps: Vec<_> = c.iter().filter(|e| e["kind"] == "app").collect();
    assert!(
        apps.iter().any(|e| e["msg"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{SIZE} bytes echoed"))),
        "{apps:?}"
    );
    assert!(
        kind(&f.events, "lagged").is_empty(),
        "the events file must not lag"
    );
    // Wire-true (docs/live.md, The link): the kernel's GSO packets (TUN_F_TSO4,
    // TUN_F_TSO6) are cut at its MSS (ours less 12 bytes of timestamps);
    // ours leave in TSO writes.
    let stopped = f
        .events
        .iter()
        .rev()
        .find_map(|e| e["msg"].as_str().filter(|m| m.starts_with("stopped:")))
        .expect("the final info event");
    assert!(!stopped.contains("(0 kernel GSO packets"), "{stopped}");
    assert!(!stopped.contains("(0 of them in 0 TSO writes"), "{stopped}");
    let biggest = c
        .iter()
        .filter(|e| e["dir"] == "in")
        .filter_map(|e| match e["kind"].as_str() {
            Some("segment") => e["len"].as_u64(),
            Some("burst") => Some(
                e["bytes"]
                    .as_u64()?
                    .div_ceil(e["segments"].as_u64()?.max(1)),
            ),
            _ => None,
        })
        .max()
        .unwrap();
    let mss = if v6 { 1440 - 12 } else { 1460 - 12 };
    assert!(
        (1000..=mss).contains(&biggest),
        "largest segment in: {biggest}"
    );
    if extra.contains(&"--loss") {
        let dropped = kind(&f.events, "drop")
            .iter()
            .filter(|e| e["reason"] == "loss" || e["reason"] == "injected")
            .count();
        assert!(dropped > 0, "the injector dropped segments");
    }
}
