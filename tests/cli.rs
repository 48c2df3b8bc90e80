//! The command line as a user runs it: the README's commands, exit codes,
//! and one clear sentence for every mistake.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn tcpscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .args(args)
        .env("LANG", "C")
        .output()
        .expect("run tcpscope")
}

fn events(args: &[&str]) -> Vec<Value> {
    let out = tcpscope(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect()
}

fn of_kind<'a>(ev: &'a [Value], kind: &str) -> Vec<&'a Value> {
    ev.iter().filter(|e| e["kind"] == kind).collect()
}

fn flags(e: &Value) -> Vec<&str> {
    e["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect()
}

#[test]
fn demo_handshake_headless_shows_isns_and_states() {
    let ev = events(&["demo", "handshake", "--headless", "--events", "-"]);
    let out: Vec<&Value> = of_kind(&ev, "segment")
        .into_iter()
        .filter(|e| e["dir"] == "out")
        .collect();
    let syn = out.iter().find(|e| flags(e) == ["SYN"]).unwrap();
    let isn_c = syn["seq"].as_u64().unwrap();
    let sa = out.iter().find(|e| flags(e) == ["SYN", "ACK"]).unwrap();
    let isn_s = sa["seq"].as_u64().unwrap();
    assert_eq!(sa["ack"].as_u64().unwrap(), (isn_c + 1) % (1 << 32));
    let ack = out
        .iter()
        .find(|e| flags(e) == ["ACK"] && e["host"] == "client")
        .unwrap();
    assert_eq!(ack["ack"].as_u64().unwrap(), (isn_s + 1) % (1 << 32));
    assert!(
        syn["opts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o == "MSS=1460")
    );
    let states = |host: &str| -> Vec<(String, String)> {
        of_kind(&ev, "state")
            .into_iter()
            .filter(|e| e["host"] == host && !e["conn"].as_str().unwrap().ends_with("0.0.0.0:0"))
            .map(|e| {
                (
                    e["from"].as_str().unwrap().into(),
                    e["to"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        states("client"),
        vec![s("CLOSED", "SYN-SENT"), s("SYN-SENT", "ESTABLISHED")]
    );
    assert_eq!(
        states("server"),
        vec![
            s("LISTEN", "SYN-RECEIVED"),
            s("SYN-RECEIVED", "ESTABLISHED")
        ]
    );
    // Every event has t and kind; connection events name the connection.
    for e in &ev {
        assert!(e["t"].is_f64());
        assert!(e["kind"].is_string());
    }
    for e in of_kind(&ev, "segment") {
        assert!(e["conn"].as_str().unwrap().contains("<->"));
        for field in ["dir", "seq", "ack", "len", "win", "opts", "retransmit"] {
            assert!(!e[field].is_null(), "segment without {field}");
        }
    }
}

#[test]
fn demo_client_close_time_wait_lasts_two_msl() {
    let ev = events(&[
        "demo",
        "client-close",
        "--msl",
        "7",
        "--headless",
        "--events",
        "-",
    ]);
    let tw = of_kind(&ev, "state")
        .into_iter()
        .find(|e| e["to"] == "TIME-WAIT")
        .unwrap();
    let start = tw["t"].as_f64().unwrap();
    let end = of_kind(&ev, "state")
        .into_iter()
        .find(|e| e["from"] == "TIME-WAIT")
        .unwrap();
    let t_end = end["t"].as_f64().unwrap();
    assert!(
        (t_end - start - 14.0).abs() < 1e-9,
        "TIME-WAIT {start} → {t_end}"
    );
    assert_eq!(end["to"], "CLOSED");
    let freed = of_kind(&ev, "tcb")
        .into_iter()
        .find(|e| e["action"] == "freed" && e["host"] == "client")
        .unwrap();
    assert_eq!(freed["t"].as_f64().unwrap(), t_end);
    assert!(freed["freed"].as_str().unwrap().contains("port"));
}

#[test]
fn keepalive_override_on_the_dead_peer_demo() {
    let ev = events(&[
        "demo",
        "keepalive-dead-peer",
        "--headless",
        "--events",
        "-",
        "--keepalive",
        "10,2,3",
    ]);
    let ka: Vec<(f64, String)> = of_kind(&ev, "keepalive")
        .into_iter()
        .map(|e| {
            (
                e["t"].as_f64().unwrap(),
                e["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let last_in = 0.51; // the client's data, the last segment the server heard
    let enabled = of_kind(&ev, "keepalive")
        .into_iter()
        .find(|e| e["action"] == "enabled")
        .unwrap();
    assert_eq!(
        (
            enabled["idle"].as_f64(),
            enabled["interval"].as_f64(),
            enabled["of"].as_u64()
        ),
        (Some(10.0), Some(2.0), Some(3))
    );
    assert_eq!(
        ka,
        vec![
            // On by --keepalive: announced with its values when each side
            // reaches ESTABLISHED.
            (0.12, "enabled".into()),
            (0.13, "enabled".into()),
            (last_in + 10.0, "probe_sent".into()),
            (last_in + 12.0, "probe_sent".into()),
            (last_in + 14.0, "probe_sent".into()),
            (last_in + 16.0, "dead".into()),
        ]
    );
    let kinds: Vec<&str> = ev
        .iter()
        .filter(|e| e["t"].as_f64().unwrap() >= last_in + 16.0 && e["host"] == "server")
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    let pos = |k: &str| kinds.iter().position(|x| *x == k).unwrap();
    assert!(pos("keepalive") < pos("abort") && pos("abort") < pos("tcb"));
}

#[test]
fn drop_flag_applies_to_demos() {
    let ev = events(&["demo", "handshake", "--headless", "--drop", "out:SA:1"]);
    let drops = of_kind(&ev, "drop");
    assert_eq!(drops.len(), 1);
    assert_eq!(drops[0]["reason"], "injected");
    assert_eq!(flags(drops[0]), ["SYN", "ACK"]);
    assert!(
        of_kind(&ev, "segment")
            .iter()
            .any(|e| e["retransmit"] == true && flags(e) == ["SYN"])
    );
}

#[test]
fn loss_flag_applies_to_demos() {
    let ev = events(&[
        "demo",
        "bulk-with-loss",
        "--headless",
        "--loss",
        "in=20,out=0",
        "--seed",
        "5",
    ]);
    let rules: Vec<&str> = of_kind(&ev, "rule")
        .iter()
        .filter(|e| e["action"] == "added")
        .map(|e| e["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"drop in 20%"), "{rules:?}");
    assert!(rules.contains(&"drop out 0%"), "{rules:?}");
    let injected = of_kind(&ev, "drop").len();
    assert!(injected > 50, "{injected} drops");
}

#[test]
fn scenarios_lists_one_per_line_starting_with_the_name() {
    let out = tcpscope(&["scenarios"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = text
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert!(names.len() >= 12);
    for n in [
        "handshake",
        "client-close",
        "server-close",
        "simultaneous-open",
        "simultaneous-close",
        "half-close",
        "reset",
        "no-listener",
        "lost-syn",
        "lost-synack",
        "keepalive-dead-peer",
        "bulk-with-loss",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
}

#[test]
fn chinese_narration() {
    let ev = events(&["demo", "handshake", "--headless", "--lang", "zh"]);
    let n = of_kind(&ev, "narration");
    assert!(!n.is_empty());
    assert!(n.iter().all(|e| e["lang"] == "zh"));
    assert!(n[0]["text"].as_str().unwrap().contains("服务器"));
    assert_eq!(n[0]["explains"]["kind"], "state");
}

fn fails_with(args: &[&str], code: i32, needle: &str) {
    let out = tcpscope(args);
    assert_eq!(out.status.code(), Some(code), "{args:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(needle), "{args:?}: stderr was {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_2_with_a_sentence() {
    fails_with(&["demo", "--drop", "sideways:S"], 2, "in, out or any");
    fails_with(&["demo", "--drop", "in:SX"], 2, "unknown flag letter");
    fails_with(&["demo", "--loss", "200"], 2, "percentage from 0 to 100");
    fails_with(&["demo", "--keepalive", "1,2"], 2, "IDLE,INTERVAL,COUNT");
    fails_with(&["demo", "--msl", "soon"], 2, "not a number of seconds");
    fails_with(&["frobnicate"], 2, "unrecognized subcommand");
    fails_with(
        &["demo", "--speed", "0"],
        2,
        "is not a speed: a factor from 0.01",
    );
    fails_with(&["demo", "--speed", "fast"], 2, "is not a speed");
    fails_with(&["demo", "--step", "--no-step"], 2, "cannot be used with");
}

/// Issue 19: an unwritable `--transcript` is refused before the TUI
/// opens (not when it quits, after the lecture): here, with no terminal,
/// the sentence is about the transcript, not the terminal.
#[test]
fn an_unwritable_transcript_is_refused_before_the_ui() {
    fails_with(
        &["demo", "handshake", "--transcript", "/nonexistent/x.md"],
        1,
        "cannot write the transcript /nonexistent/x.md",
    );
    fails_with(
        &["--transcript", "/nonexistent/x.md"],
        1,
        "cannot write the transcript /nonexistent/x.md",
    );
}

/// Issue 19: `--speed` is a playback speed; live mode runs in real time
/// and says so.
#[test]
fn speed_is_for_demos_and_replays() {
    fails_with(
        &["live", "--speed", "2", "--headless"],
        1,
        "--speed sets a demo's or a replay's playback",
    );
    fails_with(
        &["attach", "/nonexistent.sock", "--speed", "2"],
        1,
        "--speed is for the tcpscope live that shares the session",
    );
}

#[test]
fn runtime_errors_exit_1_with_one_sentence() {
    fails_with(
        &["demo", "no-such-scenario", "--headless"],
        1,
        "no scenario named",
    );
    fails_with(
        &[
            "demo",
            "handshake",
            "--headless",
            "--events",
            "/nonexistent/dir/x.jsonl",
        ],
        1,
        "cannot write events to /nonexistent/dir/x.jsonl",
    );
}

#[test]
fn a_wrong_scenario_file_names_the_file_line_and_field() {
    let dir = std::env::temp_dir().join(format!("tcpscope-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"x\"\ntitle = \"t\"\n\n[[step]]\nat = 1.0\nhost = \"client\"\ndo = \"connect\"\nprot = 80\n",
    )
    .unwrap();
    let path = bad.to_str().unwrap();
    let out = tcpscope(&["demo", path, "--headless"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(path), "{err}");
    assert!(
        err.contains(&format!("{path}:8:1")),
        "the line of the misspelled key: {err}"
    );
    assert!(err.contains("prot"), "field name: {err}");

    std::fs::write(&bad, "name = \"x\"\ntitle = \"t\"\ndelay_ms = \"fast\"\n").unwrap();
    let out = tcpscope(&["demo", path, "--headless"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{path}:3")), "{err}");
    assert!(
        err.contains("delay_ms") || err.contains("invalid type"),
        "{err}"
    );

    // A user's own valid scenario runs.
    let good = dir.join("good.toml");
    std::fs::write(
        &good,
        "name = \"mine\"\ntitle = \"mine\"\n[[step]]\nat = 0.0\nhost = \"server\"\ndo = \"listen\"\nport = 8080\n[[step]]\nat = 0.1\nhost = \"client\"\ndo = \"connect\"\nport = 8080\n",
    )
    .unwrap();
    let ev = events(&["demo", good.to_str().unwrap(), "--headless"]);
    assert!(
        of_kind(&ev, "state")
            .iter()
            .any(|e| e["to"] == "ESTABLISHED")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Run `program args` with `input` on stdin; (status ok, stdout, stderr).
fn pipe_through(program: &str, args: &[&str], input: &[u8]) -> (bool, String, String) {
    let mut child = Command::new(program)
        .args(args)
        .env("LANG", "C.UTF-8")
        .env("MANWIDTH", "80")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn completions_for_bash_are_valid_bash() {
    let out = tcpscope(&["completions", "bash"]);
    assert!(out.status.success());
    let script = out.stdout;
    let text = String::from_utf8_lossy(&script);
    for word in [
        "demo",
        "scenarios",
        "live",
        "replay",
        "completions",
        "--transcript",
        "--addr6",
        "--stack-addr6",
    ] {
        assert!(
            text.contains(word),
            "{word} missing from the bash completions"
        );
    }
    if !common::require_tools("completions_bash", &["bash"]) {
        return;
    }
    let (ok, _, err) = pipe_through("bash", &["-n"], &script);
    assert!(ok && err.is_empty(), "bash -n: {err}");
    for shell in ["zsh", "fish", "powershell"] {
        let out = tcpscope(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        assert!(!out.stdout.is_empty(), "{shell}");
    }
}

#[test]
fn connect_takes_ipv4_or_bracketed_ipv6_and_says_so() {
    let want = "is not an address and port such as 10.77.0.1:8080 or [fd77::1]:8080";
    // Without brackets the port cannot be told from the address.
    fails_with(&["live", "--connect", "fd77::1:80"], 2, want);
    fails_with(&["live", "--connect", "10.77.0.1"], 2, want);
    fails_with(
        &["live", "--stack-addr6", "fd77::zz"],
        2,
        "invalid value 'fd77::zz'",
    );
}

#[test]
fn completions_for_an_unknown_shell_is_a_usage_error() {
    fails_with(&["completions", "tcsh"], 2, "invalid value 'tcsh'");
    fails_with(&["completions"], 2, "<SHELL>");
}

#[test]
fn man_page_renders_without_warnings() {
    let out = tcpscope(&["man"]);
    assert!(out.status.success());
    let page = out.stdout;
    let text = String::from_utf8_lossy(&page);
    assert!(text.contains(".TH tcpscope 1"), "{text}");
    if !common::require_tools("man_page", &["groff"]) {
        return;
    }
    // -P-cbou: plain text, no bold or underline overstrikes.
    let (ok, rendered, err) = pipe_through("groff", &["-ww", "-man", "-Tutf8", "-P-cbou"], &page);
    assert!(ok, "groff failed: {err}");
    assert_eq!(err, "", "groff warnings");
    for word in ["NAME", "SYNOPSIS", "--profile", "completions", "man"] {
        assert!(
            rendered.contains(word),
            "{word} missing from the rendered page"
        );
    }
    // As a reader would open it: `tcpscope man | man -l -`.
    if !common::require_tools("man_page", &["man"]) {
        return;
    }
    let (ok, shown, err) = pipe_through("man", &["-l", "-"], &page);
    assert!(ok, "man -l - failed: {err}");
    assert_eq!(err, "", "man -l - warnings");
    assert!(shown.contains("SYNOPSIS"), "{shown}");
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tcpscope-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn transcript_of_the_handshake_shows_the_isns_and_their_acks() {
    let dir = temp_dir("transcript");
    let md = dir.join("handshake.md");
    let ev_file = dir.join("events.jsonl");
    let out = tcpscope(&[
        "demo",
        "handshake",
        "--headless",
        "--events",
        ev_file.to_str().unwrap(),
        "--transcript",
        md.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ev: Vec<Value> = std::fs::read_to_string(&ev_file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seg = |host: &str, f: &[&str]| -> (u64, u64) {
        let e = of_kind(&ev, "segment")
            .into_iter()
            .find(|e| e["host"] == host && e["dir"] == "out" && flags(e) == f)
            .unwrap();
        (e["seq"].as_u64().unwrap(), e["ack"].as_u64().unwrap())
    };
    let (isn_c, _) = seg("client", &["SYN"]);
    let (isn_s, sa_ack) = seg("server", &["SYN", "ACK"]);
    assert_eq!(sa_ack, isn_c + 1);
    let text = std::fs::read_to_string(&md).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let has = |want: &str| {
        assert!(
            lines.contains(&want),
            "no line {want:?} in the transcript:\n{text}"
        )
    };
    has("# The three-way handshake: SYN, SYN+ACK, ACK");
    assert!(text.contains("seq and ack are **absolute**"), "{text}");
    // Each explained segment is marked ▶; the final ACK is among the lines
    // of the step that explains the server's ESTABLISHED.
    has(&format!(
        "▶  0.500  client → server  SYN seq {isn_c} win 65535"
    ));
    has(&format!(
        "▶  0.510  server → client  SYN+ACK seq {isn_s} ack {} win 65535",
        isn_c + 1
    ));
    has(&format!(
        "   0.520  client → server  ACK seq {} ack {} win 32768",
        isn_c + 1,
        isn_s + 1
    ));
    // Seven narrations, seven numbered steps, in order, each with its text.
    let steps: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("## "))
        .collect();
    assert_eq!(steps.len(), 7, "{steps:?}");
    for (i, s) in steps.iter().enumerate() {
        assert!(s.starts_with(&format!("## {} · t = ", i + 1)), "{s}");
    }
    assert!(text.contains("The server answers SYN+ACK with its own ISN"));
    // Each segment once, although both hosts report it.
    assert_eq!(text.matches(" SYN seq ").count(), 1);

    // In Chinese: the same lines in Chinese words (protocol and field
    // names stay), the Chinese narration and title.
    let out = tcpscope(&[
        "demo",
        "handshake",
        "--headless",
        "--events",
        "/dev/null",
        "--lang",
        "zh",
        "--transcript",
        md.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let zh = std::fs::read_to_string(&md).unwrap();
    assert!(zh.starts_with("# 三次握手：SYN、SYN+ACK、ACK\n"), "{zh}");
    assert!(zh.contains("服务器回复 SYN+ACK"), "{zh}");
    assert!(zh.contains(&format!(
        "▶  0.500  客户端 → 服务器  SYN seq {isn_c} win 65535\n"
    )));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn transcript_errors_are_sentences() {
    fails_with(
        &[
            "demo",
            "handshake",
            "--headless",
            "--transcript",
            "/nonexistent/dir/h.md",
        ],
        1,
        "cannot write the transcript /nonexistent/dir/h.md",
    );
    fails_with(
        &["replay", "/nonexistent.jsonl", "--transcript", "x.md"],
        1,
        "--transcript writes a demo's narration",
    );
}

/// A reader that goes away (`tcpscope drill *.pkt | head -1`) ends the
/// listing with one sentence and exit code 1, never a panic.
#[test]
fn a_closed_standard_output_is_one_sentence() {
    for args in [
        vec!["scenarios"],
        vec!["drill", "tests/drill/accept-nonblocking.pkt"],
    ] {
        // A pipe whose reading end is closed before tcpscope starts: its
        // first write meets EPIPE, whatever the timing.
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_tcpscope"))
            .args(&args)
            .env("LANG", "C")
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .expect("run tcpscope");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err, "tcpscope: standard output was closed\n", "{args:?}");
    }
}
