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

/// The cases, the same for both families. A family's script before them
/// defines `STACK`, `SRC`, `pkt`, `send`, `replies` and `MSS` for its
/// packets, `family_cases()` (run after the flag cases) and `random_src()`
/// (the flood's sources).
pub const CASES: &str = r#"
def handshake(sport, isn, dport=80, opts=MSS):
    send(pkt(sport, dport, isn, 0, SYN, opts=opts))
    sa = [r for r in replies(sport) if r["flags"] & (SYN | ACK) == SYN | ACK]
    if not sa:
        return None
    send(pkt(sport, dport, isn + 1, sa[0]["seq"] + 1, ACK))
    time.sleep(0.05)
    return sa[0]["seq"] + 1

def report(case, **kw):
    print(json.dumps(dict(case=case, **kw)), flush=True)

syn = lambda **kw: pkt(40001, 80, 1000, 0, SYN, opts=MSS, **kw)
send(syn(bad=True));                         report("bad_checksum", replies=replies(40001))
send(pkt(40002, 80, 1000, 0, SYN, doff=4));  report("short_offset", replies=replies(40002))
send(pkt(40003, 80, 1000, 0, SYN, doff=15)); report("offset_beyond", replies=replies(40003))
send(pkt(40004, 80, 1000, 0, SYN, opts=b"\x08\x00\x00\x00")); report("zero_length_option", replies=replies(40004))
send(pkt(40005, 80, 1000, 0, SYN, opts=b"\x01\x01\x02\x04")); report("truncated_option", replies=replies(40005))
send(pkt(40006, 80, 1000, 0, SYN | FIN, opts=MSS)); r = replies(40006)
report("syn_fin", replies=r)
if r:
    send(pkt(40006, 80, 1001, 0, RST))
send(pkt(40007, 80, 1000, 0, SYN | RST, opts=MSS)); report("syn_rst", replies=replies(40007))
family_cases()

# An established connection of our own for the window tests.
nxt = handshake(40010, 5000)
report("handshake", ok=nxt is not None)
send(pkt(40010, 80, 5001 + 10**6, 0, RST));   report("rst_out_of_window", replies=replies(40010))
send(pkt(40010, 80, 5001 + 100, 0, RST));     report("rst_in_window_inexact", replies=replies(40010))
send(pkt(40010, 80, 5001, nxt + 100000, ACK | PSH, data=b"x")); report("ack_of_unsent_data", replies=replies(40010))
# Still alive after all that: a request gets an answer.
req = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
send(pkt(40010, 80, 5001, nxt, ACK | PSH, data=req))
r = replies(40010, 1.0)
report("still_serves", replies=r)
for x in r:
    if x["flags"] & FIN:
        send(pkt(40010, 80, 5001 + len(req) + 1, x["seq"] + len(bytes.fromhex(x["data"])) + 1, ACK))
send(pkt(40010, 80, 5001 + len(req), 0, RST))

send(pkt(40020, 80, 1000, 0, SYN, opts=MSS + b"\x01\x03\x03\x0f")); report("wscale_15", replies=replies(40020))
send(pkt(40020, 80, 1001, 0, RST))
send(pkt(40021, 80, 1000, 0, SYN, opts=b"\x02\x04\x00\x00")); report("mss_0", replies=replies(40021))
send(pkt(40021, 80, 1001, 0, RST))

# Across the wrap: ISN 2^32 - 20, 100 bytes to echo, back byte-identical.
isn = 2**32 - 20
nxt = handshake(40030, isn, dport=7)
payload = bytes(range(100))
send(pkt(40030, 7, isn + 1, nxt, ACK | PSH, data=payload, doff=5))
got = b"".join(bytes.fromhex(x["data"]) for x in replies(40030, 1.0))
report("wrap_echo", sent=len(payload), same=got == payload)
send(pkt(40030, 7, isn + 101, 0, RST))

# 50,000 SYNs from random addresses (of the subnet or prefix) and ports,
# in at most 20 s.
t0 = time.time(); n = 0
while n < 50000 and time.time() - t0 < 20:
    src = random_src()
    send(pkt(random.randint(1024, 65535), 80, random.randint(0, 2**32 - 1), 0, SYN, opts=MSS, src=src))
    n += 1
report("flood", sent=n, seconds=round(time.time() - t0, 2))
"#;

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
    let Some(ns) = Netns::setup(f.test, &["curl", "python3"], f.test) else {
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
    // An ACK of data never sent: dropped. RFC 9293 §3.10.7.4 answers it
    // with an ACK; the live default, the `linux` profile, drops it without
    // one, as Linux (docs/stack.md, Profiles).
    let unsent = case(&lines, "ack_of_unsent_data");
    assert_eq!(replies(unsent), Vec::<u64>::new());
    // After all that the connection still serves a request, sent at the
    // dropped byte's sequence number: acknowledged whole (5001 + 46), so
    // the byte was not taken.
    let serving = case(&lines, "still_serves");
    let served = replies(serving);
    assert!(
        served.iter().any(|f| f & 8 != 0),
        "the response (PSH) came: {served:?}"
    );
    assert_eq!(
        serving["replies"][0]["ack"].as_u64(),
        Some(5047),
        "the byte was not taken"
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
