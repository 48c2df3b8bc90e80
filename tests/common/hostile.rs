//! Hostile packets from the kernel side, one body for IPv4
//! (tests/live_adversarial.rs) and IPv6 (tests/live_ipv6.rs): each family
//! brings its own crafting script (raw sockets inside the test's
//! namespace), whose cases report the flags of every reply, and the checks
//! are the same: malformed packets go unanswered with a named drop, the
//! RFC's answers to odd flags and RSTs, silly options clamped, data across
//! the 2^32 wrap intact, a SYN flood met with cookies, and afterwards the
//! stack alive, bounded and serving a real curl.

use std::time::Duration;

use serde_json::Value;

use super::*;

/// What differs between the families.
pub struct Family<'a> {
    /// The test's name (the skip rule and the namespace).
    pub test: &'a str,
    /// The stack's address as curl's URL writes it (`10.77.0.2`,
    /// `[fd77::2]`).
    pub url_host: &'a str,
    /// The crafting script.
    pub craft: &'a str,
    /// The MSS negotiated with the script's SYNs, which offer the link's
    /// (1460 over IPv4, 1440 over IPv6).
    pub mss: u64,
    /// Cases of the family's own that must go unanswered, that must be
    /// answered with a SYN+ACK, and drop reasons of its own.
    pub unanswered: &'a [&'a str],
    pub synack: &'a [&'a str],
    pub drop_reasons: &'a [&'a str],
}

const SYN: u64 = 2;
const ACK: u64 = 16;
const SYNACK: u64 = SYN | ACK;

fn case<'a>(lines: &'a [Value], name: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["case"] == name)
        .unwrap_or_else(|| panic!("the script did not report {name}: {lines:?}"))
}

/// The TCP flags of each reply the script saw to one case.
fn replies(v: &Value) -> Vec<u64> {
    v["replies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["flags"].as_u64().unwrap())
        .collect()
}

pub fn vm_rss_kib(pid: i32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn curl_ok(ns: &Netns, host: &str) {
    let url = format!("http://{host}/");
    let code = ns.ok(&[
        "curl",
        "-s",
        "-m",
        "5",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &url,
    ]);
    assert_eq!(code.trim(), "200", "a real client is still served");
}

pub fn hostile_packets_leave_the_stack_alive_bounded_and_serving(f: &Family) {
    if !require(f.test, &["curl", "python3"]) {
        return;
    }
    let Some(ns) = Netns::new(f.test) else {
        return;
    };
    let t = ns.tcpscope(&["--duration", "60", "--backlog", "128"]);
    curl_ok(&ns, f.url_host);
    let script = write_script(&ns, "craft.py", f.craft);
    let out = ns.ok(&["timeout", "60", "python3", &script]);
    // Shown when the test fails: what the script saw, case by case.
    eprintln!("{out}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();

    // Malformed packets: no answer, a drop event naming the reason.
    let malformed = [
        "bad_checksum",
        "short_offset",
        "offset_beyond",
        "zero_length_option",
        "truncated_option",
    ];
    for name in malformed.iter().chain(f.unanswered) {
        assert_eq!(
            replies(case(&lines, name)),
            Vec::<u64>::new(),
            "{name}: no answer"
        );
    }
    // SYN+FIN is a SYN (the FIN cannot be processed before the handshake).
    for name in ["syn_fin"].iter().chain(f.synack) {
        assert_eq!(replies(case(&lines, name)), vec![SYNACK], "{name}");
    }
    // SYN+RST: the RST is checked first and a RST to a listener is ignored.
    assert_eq!(replies(case(&lines, "syn_rst")), Vec::<u64>::new());
    assert_eq!(case(&lines, "handshake")["ok"], true);
    // RFC 5961: outside the window ignored, inside but not exact challenged.
    assert_eq!(
        replies(case(&lines, "rst_out_of_window")),
        Vec::<u64>::new()
    );
    assert_eq!(replies(case(&lines, "rst_in_window_inexact")), vec![ACK]);
    // An ACK of data never sent: ACK and drop (RFC 9293 §3.10.7.4).
    let unsent = case(&lines, "ack_of_unsent_data");
    assert_eq!(replies(unsent), vec![ACK]);
    assert_eq!(
        unsent["replies"][0]["ack"].as_u64(),
        Some(5001),
        "the byte was not taken"
    );
    // After all that the connection still serves a request.
    let served = replies(case(&lines, "still_serves"));
    assert!(
        served.iter().any(|f| f & 8 != 0),
        "the response (PSH) came: {served:?}"
    );
    // Silly options are clamped, not fatal.
    assert_eq!(replies(case(&lines, "wscale_15")), vec![SYNACK]);
    assert_eq!(replies(case(&lines, "mss_0")), vec![SYNACK]);
    let wrap = case(&lines, "wrap_echo");
    assert_eq!(
        wrap["same"], true,
        "data across the 2^32 wrap echoed intact: {wrap}"
    );
    let flood = case(&lines, "flood");
    assert_eq!(flood["sent"].as_u64(), Some(50_000), "{flood}");

    // Alive, bounded, serving.
    std::thread::sleep(Duration::from_millis(500));
    let rss = vm_rss_kib(t.pid());
    assert!(rss > 0, "tcpscope is still running");
    assert!(
        rss < 256 * 1024,
        "memory within bounds after the flood: {rss} KiB"
    );
    curl_ok(&ns, f.url_host);

    t.terminate();
    let evs = t.wait(Duration::from_secs(20)).events;
    let drop_reasons: Vec<&str> = kind(&evs, "drop")
        .iter()
        .filter_map(|e| e["reason"].as_str())
        .collect();
    for reason in ["checksum", "malformed", "bad_option"]
        .iter()
        .chain(f.drop_reasons)
    {
        assert!(
            drop_reasons.contains(reason),
            "a drop with reason {reason}: {drop_reasons:?}"
        );
    }
    assert!(drop_reasons.iter().filter(|r| **r == "malformed").count() >= 2);
    assert!(drop_reasons.iter().filter(|r| **r == "bad_option").count() >= 2);
    let negotiated: Vec<(u64, Option<u64>)> = kind(&evs, "negotiated")
        .iter()
        .map(|e| (e["mss"].as_u64().unwrap(), e["ws_snd"].as_u64()))
        .collect();
    assert!(
        negotiated.contains(&(f.mss, Some(14))),
        "WS 15 treated as 14: {negotiated:?}"
    );
    assert!(
        negotiated.iter().any(|(m, _)| *m == 88),
        "MSS 0 clamped to 88: {negotiated:?}"
    );
    // The flood filled the backlog and was answered with cookies.
    let limits: Vec<&Value> = kind(&evs, "limit");
    assert!(
        limits.iter().any(|l| l["what"] == "syn_backlog"),
        "the backlog limit bit: {limits:?}"
    );
    let allocated = kind(&evs, "tcb")
        .iter()
        .filter(|e| e["action"] == "allocated")
        .count();
    assert!(
        allocated < 1000,
        "TCBs allocated during a 50,000-SYN flood: {allocated}"
    );
    // Nothing of this made it RST a legitimate connection or panic.
    assert!(
        !evs.iter()
            .any(|e| e["kind"] == "info" && e["msg"].as_str().unwrap_or("").contains("panic"))
    );
}
