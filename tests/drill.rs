//! `tcpscope drill`: the project's own packetdrill scripts (tests/drill/,
//! written for tcpscope and checked against Linux's TCP code), scripts that
//! must fail with their exact message, and the command's output.

use std::path::{Path, PathBuf};
use std::process::Command;

use tcpscope::drill::{Options, Outcome, run_file, run_source};

fn scripts(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pkt"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_own_script_passes_on_ipv4_and_ipv6() {
    let files = scripts("tests/drill");
    assert!(files.len() >= 20, "{} scripts", files.len());
    for ipv6 in [false, true] {
        let opts = Options {
            ipv6,
            ..Options::default()
        };
        for f in &files {
            let run = run_file(f, &opts);
            assert_eq!(
                run.outcome,
                Outcome::Pass,
                "{} (ipv6 {ipv6}): {}",
                f.display(),
                run.outcome.line_for("script")
            );
        }
    }
}

const HANDSHAKE: &str = "`../common/defaults.sh`
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
   +0 bind(3, ..., ...) = 0
   +0 listen(3, 1) = 0
  +.1 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
";

#[test]
fn a_wrong_expectation_fails_with_expected_and_got() {
    let src =
        format!("{HANDSHAKE}   +0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 7>\n");
    assert_eq!(
        run_source(&src, &Options::default())
            .outcome
            .line_for("x.pkt"),
        "FAIL x.pkt:6: expected > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 7> \
         got > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK,nop,wscale 8> \
         (option wscale 8 instead of wscale 7)"
    );
    // The SYN-ACK goes at once: written 50 ms later it is a timing error.
    let src = format!("{HANDSHAKE}+.05 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>\n");
    assert_eq!(
        run_source(&src, &Options::default())
            .outcome
            .line_for("x.pkt"),
        "FAIL x.pkt:6: timing error: expected outbound packet at 0.150000 sec but happened at 0.100000 sec; tolerance 0.006250 sec"
    );
    // A wrong return value.
    let src = format!("{HANDSHAKE}   +0 accept(3, ..., ...) = 4\n");
    let opts = Options {
        tolerance_usecs: Some(10_000),
        ..Options::default()
    };
    assert_eq!(
        run_source(
            &src.replace(
                "listen(3, 1) = 0",
                "listen(3, 1) = 0\n+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0"
            ),
            &opts
        )
        .outcome
        .line_for("x.pkt"),
        "FAIL x.pkt:7: expected accept to return 4 got -1 EAGAIN"
    );
}

#[test]
fn grammar_errors_and_unsupported_lines() {
    let out = |src: &str| {
        run_source(src, &Options::default())
            .outcome
            .line_for("x.pkt")
    };
    assert_eq!(
        out(
            "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < S 0:0(0) win 100 <mss 1460,wscale>\n"
        ),
        "FAIL x.pkt:2:39: expected the window scale, found \">\""
    );
    assert_eq!(
        out("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n  +0 > S. 0:0(0) ack 1 <...> extra\n"),
        "FAIL x.pkt:2:30: expected ack, win or <options> in the packet, found \"extra\""
    );
    assert_eq!(
        out(
            "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 setsockopt(3, SOL_TCP, TCP_CORK, [1], 4) = 0\n"
        ),
        "UNSUPPORTED x.pkt:2: +0 setsockopt(3, SOL_TCP, TCP_CORK, [1], 4) = 0 (this socket option is not modelled)"
    );
    assert_eq!(
        out("`tc qdisc replace dev tun0 root fq`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"),
        "UNSUPPORTED x.pkt:1: tc qdisc replace dev tun0 root fq"
    );
    assert_eq!(
        out("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 %{ assert tcpi_probes == 3 }%\n"),
        "UNSUPPORTED x.pkt:2: assert tcpi_probes == 3 (TCP_INFO field tcpi_probes is not computed)"
    );
}

#[test]
fn the_command_prints_a_line_per_script_then_the_counts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/drill");
    // A script that must fail: the handshake's SYN+ACK with the wrong MSS.
    let tmp = std::env::temp_dir().join(format!("tcpscope-drill-cmd-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let src = std::fs::read_to_string(dir.join("handshake-passive.pkt")).unwrap();
    let bad = tmp.join("bad-mss.pkt");
    std::fs::write(&bad, src.replacen("<mss 1460,", "<mss 1400,", 1)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .args(["drill", "handshake-passive.pkt", bad.to_str().unwrap()])
        .current_dir(&dir)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&tmp).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!(
            "PASS handshake-passive.pkt\n\
             FAIL {}:8: expected > S. 0:0(0) ack 1 <mss 1400,nop,nop,sackOK,nop,wscale 8> got > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK,nop,wscale 8> (option mss 1460 instead of mss 1400)\n\
             1 passed, 1 failed, 0 unsupported\n",
            bad.display()
        )
    );
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "tcpscope: 1 of 2 scripts did not pass\n"
    );
    let ok = Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .args(["drill", "--ip-version", "ipv6", "handshake-passive.pkt"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(ok.status.success());
}

/// The descriptors are the script's: packetdrill maps them onto its own,
/// so a script may open its first socket as 4 and accept as 7.
#[test]
fn script_descriptors_are_the_scripts_own() {
    let src = "`../common/defaults.sh`
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 4
   +0 bind(4, ..., ...) = 0
   +0 listen(4, 1) = 0
  +.1 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
   +0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>
  +.1 < . 1:1(0) ack 1 win 257
   +0 accept(4, ..., ...) = 7
   +0 write(7, ..., 10) = 10
   +0 > P. 1:11(10) ack 1
";
    let run = run_source(src, &Options::default());
    assert_eq!(run.outcome, Outcome::Pass, "{}", run.outcome.line_for("x"));
}
