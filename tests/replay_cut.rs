//! `tcpscope replay` of a recording cut short (the process writing it was
//! killed mid-line): everything before the cut plays, with one sentence;
//! a bad line anywhere else is still an error.

use std::path::PathBuf;
use std::process::{Command, Output};

fn tcpscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .args(args)
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .output()
        .expect("run tcpscope")
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("tcpscope-cut-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn path(&self, f: &str) -> String {
        self.0.join(f).to_str().unwrap().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `handshake` demo recorded whole: its text.
fn recording(dir: &Dir) -> String {
    let rec = dir.path("whole.rec");
    let out = tcpscope(&[
        "demo",
        "handshake",
        "--headless",
        "--record",
        &rec,
        "--events",
        "/dev/null",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(rec).unwrap()
}

/// `replay FILE --headless`: (exit code, stdout, stderr).
fn headless(file: &str) -> (Option<i32>, String, String) {
    let out = tcpscope(&["replay", file, "--headless"]);
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_recording_cut_mid_line_replays_up_to_the_cut_with_a_warning() {
    let dir = Dir::new("headless");
    let whole = recording(&dir);
    let lines: Vec<&str> = whole.lines().collect();
    let n = lines.len();
    assert!(n > 10, "{n} lines");
    // Killed while writing the last line: half of it, no newline.
    let last = lines[n - 1];
    let cut = format!(
        "{}{}",
        &whole[..whole.len() - last.len() - 1],
        &last[..last.len() / 2]
    );
    let file = dir.path("cut.rec");
    std::fs::write(&file, &cut).unwrap();

    let (code, out, err) = headless(&file);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        err,
        format!(
            "tcpscope: warning: {file} ends at line {n}, cut short: everything before it is replayed\n"
        )
    );
    // Every event before the cut, as the whole recording's replay gives
    // them.
    let (code, all, _) = headless(&dir.path("whole.rec"));
    assert_eq!(code, Some(0));
    let all: Vec<&str> = all.lines().collect();
    assert_eq!(all.len(), n - 1, "the header is not an event");
    assert_eq!(out.lines().collect::<Vec<_>>(), all[..n - 2]);

    // In the UI (drawn without a terminal): the same sentence on the
    // status line.
    let svg = dir.path("shot.svg");
    let out = tcpscope(&["replay", &file, "--screenshot", &svg, "--size", "240x40"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shot = std::fs::read_to_string(&svg).unwrap();
    assert!(
        shot.contains(&format!(
            "ends at line {n}, cut short: everything before it is replayed"
        )),
        "no notice in the screenshot"
    );

    // `plot` reads it the same way: a handshake has no data to plot, and
    // the cut is said first.
    let out = tcpscope(&["plot", &file, "-o", &dir.path("p.svg")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "tcpscope: warning: {file} ends at line {n}, cut short: everything before it is replayed\n\
             tcpscope: {file} has no connection that carried data: nothing to plot\n"
        )
    );
}

#[test]
fn a_bad_line_in_the_middle_is_still_an_error() {
    let dir = Dir::new("middle");
    let whole = recording(&dir);
    let mut lines: Vec<String> = whole.lines().map(str::to_string).collect();
    // Line 5 cut in half, the rest of the file after it.
    let half = lines[4].len() / 2;
    lines[4].truncate(half);
    let file = dir.path("bad.rec");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let (code, out, err) = headless(&file);
    assert_eq!(code, Some(1));
    assert_eq!(out, "");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("tcpscope: {file} line 5: not a valid event: ")),
        "{err}"
    );
    // The same line last in the file, but ended by its newline: written
    // whole, so not a cut either.
    lines.truncate(5);
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let (code, _, err) = headless(&file);
    assert_eq!(code, Some(1));
    assert!(
        err.starts_with(&format!("tcpscope: {file} line 5: not a valid event: ")),
        "{err}"
    );
}
