//! `tcpscope demo FILE.pkt` (docs/drill.md, Watching a script): a
//! packetdrill script's run as a walkthrough, one narrated step per
//! script line, the first mismatch told with both packets.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_tcpscope");

/// Width of a cell in the SVG (the renderer's `CELL_W`).
const CELL_W: f64 = 8.4;

/// A passive open, then 1000 bytes written: the engine sends them with
/// PSH (the write empties its queue), the script expects none.
const FAILING: &str = "\
// The data segment carries PSH; this script expects it without
`../common/defaults.sh`
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
   +0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
   +0 bind(3, ..., ...) = 0
   +0 listen(3, 1) = 0
  +.1 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
   +0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>
  +.1 < . 1:1(0) ack 1 win 257
   +0 accept(3, ..., ...) = 4
   +0 write(4, ..., 1000) = 1000
   +0 > . 1:1001(1000) ack 1
  +.1 < . 1:1(0) ack 1001 win 257
";

fn temp_dir(tag: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("tcpscope-drill-demo-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The SVG's `<text>` elements put at their columns, row by row.
fn svg_rows(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}"));
    let mut rows: Vec<(f64, Vec<(usize, String)>)> = Vec::new();
    for n in doc.descendants().filter(|n| n.has_tag_name("text")) {
        let t = n.text().unwrap_or("").to_string();
        let x: f64 = n.attribute("x").unwrap().parse().unwrap();
        let y: f64 = n.attribute("y").unwrap().parse().unwrap();
        let col = (x / CELL_W).round() as usize;
        match rows.iter_mut().find(|(ry, _)| (*ry - y).abs() < 0.01) {
            Some((_, r)) => r.push((col, t)),
            None => rows.push((y, vec![(col, t)])),
        }
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    rows.into_iter()
        .map(|(_, mut runs)| {
            runs.sort_by_key(|r| r.0);
            let mut line = String::new();
            let mut col = 0usize;
            for (c, t) in runs {
                while col < c {
                    line.push(' ');
                    col += 1;
                }
                col += unicode_width::UnicodeWidthStr::width(t.as_str());
                line.push_str(&t);
            }
            line.trim_end().to_string()
        })
        .collect()
}

fn run(args: &[&str], dir: &Path) -> std::process::Output {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("LANG", "C")
        .env_remove("LC_ALL")
        .env_remove("LANGUAGE")
        .env("XDG_CONFIG_HOME", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn a_failing_script_ends_on_its_mismatch_with_both_packets() {
    let dir = temp_dir("fail");
    std::fs::write(dir.join("psh.pkt"), FAILING).unwrap();
    run(
        &[
            "demo",
            "psh.pkt",
            "--screenshot",
            "shot.svg",
            "--size",
            "120x36",
        ],
        &dir,
    );
    let rows = svg_rows(&std::fs::read_to_string(dir.join("shot.svg")).unwrap());
    let text = rows.join("\n");
    // The verdict in the title bar, the walkthrough on.
    assert!(
        rows[0].starts_with(" tcpscope · replay · FAIL psh.pkt:12 — packetdrill script psh.pkt"),
        "{text}"
    );
    assert!(rows[0].ends_with("walkthrough"), "{text}");
    // The last step is the mismatch: what line 12 expected, what was sent.
    let step = rows
        .iter()
        .position(|r| r.starts_with("┌ Narration · step 10 · t 0.200 "))
        .unwrap_or_else(|| panic!("no step 10:\n{text}"));
    assert_eq!(
        rows[step + 1],
        "│▶ line 12 expected: > . 1:1001(1000) ack 1 · got: > P. 1:1001(1000) ack 1 win 2109 (flags P. instead of .)            │",
        "{text}"
    );
    // The ladder marks the segment sent, between the script's remote
    // (the peer) and the engine; each injected packet is its own arrow.
    assert!(
        text.contains("│ t      peer 192.0.2.1:48000                tcpscope 192.168.0.1:8080 │"),
        "{text}"
    );
    assert!(
        text.contains("│▶  0.200 │◀────────── PSH+ACK seq 1:1001 ack 1 win 539904 len 1000 ─┤ │"),
        "{text}"
    );
    assert!(
        text.contains("│   0.200 ├─ ACK seq 1 ack 1 win 32896 ─"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_passing_scripts_transcript_has_a_step_per_line() {
    let dir = temp_dir("pass");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/drill/handshake-passive.pkt");
    let out = run(
        &[
            "demo",
            script.to_str().unwrap(),
            "--headless",
            "--events",
            "ev.jsonl",
            "--transcript",
            "t.md",
        ],
        &dir,
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("PASS {}\n", script.display())
    );
    let md = std::fs::read_to_string(dir.join("t.md")).unwrap();
    assert!(md.starts_with("# PASS handshake-passive.pkt\n"), "{md}");
    let steps: Vec<&str> = md
        .split("\n## ")
        .skip(1)
        .map(|s| s.lines().nth(2).unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "line 3: 0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3",
            "line 4: +0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0",
            "line 5: +0 bind(3, ..., ...) = 0",
            "line 6: +0 listen(3, 1) = 0",
            "line 7: +.1 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>",
            "line 8: +0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>",
            "line 9: +.1 < . 1:1(0) ack 1 win 257",
            "line 10: +0 accept(3, ..., ...) = 4",
        ],
        "{md}"
    );
    // A packet line's step marks its segment: the one injected, the one
    // the engine sent.
    assert!(
        md.contains("▶  0.100  peer → tcpscope  SYN seq 16777216 win 32792\n"),
        "{md}"
    );
    assert!(
        md.contains(
            "line 8: +0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>\n\n```text\n▶  0.100  tcpscope → peer  SYN+ACK seq 337662447 ack 16777217 win 65535\n```"
        ),
        "{md}"
    );
    // The run ended by itself: no "stopped at" line.
    assert!(md.ends_with("```\n\n"), "{md}");
    std::fs::remove_dir_all(&dir).unwrap();
}
