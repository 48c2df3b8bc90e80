//! `tcpscope live --share PATH` and `tcpscope attach PATH` (docs/live.md, Sharing
//! a live session): viewers get the same events as the session's own
//! `--events` file, a late joiner gets the history first, a viewer killed
//! midway changes nothing; and the socket path's rules.
//!
//! The live run is in a network namespace of its own (tests/common); the
//! viewers need none (a Unix socket is a file). Every process is ended by
//! its PID.

mod common;

use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// A `tcpscope attach PATH --headless --events FILE` child.
struct Viewer {
    child: Child,
    events: PathBuf,
    stderr: PathBuf,
}

impl Viewer {
    fn start(dir: &Path, name: &str, sock: &Path) -> Viewer {
        Viewer::start_with(dir, name, sock, &[])
    }

    fn start_with(dir: &Path, name: &str, sock: &Path, args: &[&str]) -> Viewer {
        let events = dir.join(format!("{name}.jsonl"));
        let stderr = dir.join(format!("{name}.err"));
        let child = Command::new(BIN)
            .arg("attach")
            .arg(sock)
            .args(["--headless", "--events"])
            .arg(&events)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("start a viewer");
        Viewer {
            child,
            events,
            stderr,
        }
    }

    fn events(&self) -> Vec<Value> {
        // The last line may be half written while it runs.
        let s = fs::read_to_string(&self.events).unwrap_or_default();
        let complete = s.rfind('\n').map_or("", |i| &s[..=i]);
        parse_events(complete)
    }

    /// Wait until it has at least `n` events.
    fn wait_for(&self, n: usize, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.events().len() < n {
            assert!(
                Instant::now() < deadline,
                "{what}: the viewer has {} events, expected {n}; stderr: {}",
                self.events().len(),
                fs::read_to_string(&self.stderr).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                return s;
            }
            assert!(Instant::now() < deadline, "the viewer did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn curl_ok(ns: &Netns) {
    let out = ns.ok(&[
        "curl",
        "-sS",
        "-m",
        "10",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &format!("http://{STACK}/"),
    ]);
    assert_eq!(out, "200", "curl");
}

/// Wait until the session's own events show `n` connections closed.
fn wait_closed(live: &Tcpscope, n: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let evs = live.events_now();
        let closed = evs
            .iter()
            .filter(|e| e["kind"] == "state" && e["to"] == "CLOSED" && e["from"] == "LAST-ACK")
            .count();
        if closed >= n {
            return evs.len();
        }
        assert!(Instant::now() < deadline, "connection {n} did not close");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn share_two_viewers_one_killed_and_a_late_joiner_get_the_sessions_events() {
    let test = "share_viewers";
    let Some(ns) = Netns::setup(test, &["curl"], "share_viewers") else {
        return;
    };
    let sock = ns.dir.join("session.sock");
    // A socket left by a session that was killed: stale, reused.
    drop(UnixListener::bind(&sock).expect("a stale socket"));
    let live = ns.tcpscope(&["--share", sock.to_str().unwrap()]);
    let meta = fs::symlink_metadata(&sock).expect("the share socket");
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);

    let rec = ns.dir.join("a.rec");
    let a = Viewer::start_with(&ns.dir, "a", &sock, &["--record", rec.to_str().unwrap()]);
    let mut b = Viewer::start(&ns.dir, "b", &sock);
    // Both joined after `ready`: they get it from the history.
    a.wait_for(1, "viewer a joining");
    b.wait_for(1, "viewer b joining");

    curl_ok(&ns);
    let after_first = wait_closed(&live, 1);
    b.wait_for(after_first, "viewer b after the first curl");
    // SIGKILL, by PID: it cannot say goodbye.
    b.child.kill().expect("kill viewer b");
    b.wait(Duration::from_secs(5));
    let c = Viewer::start(&ns.dir, "c", &sock);
    c.wait_for(after_first, "the late viewer c");
    // One that watches for a while and leaves by itself.
    let mut d = Viewer::start_with(&ns.dir, "d", &sock, &["--duration", "0.3"]);
    assert_eq!(d.wait(Duration::from_secs(10)).code(), Some(0));
    let got_d = d.events();

    curl_ok(&ns);
    wait_closed(&live, 2);
    live.terminate();
    let f = live.wait(Duration::from_secs(10));
    assert_eq!(f.status.code(), Some(0), "stderr: {}", f.stderr);
    assert!(
        !sock.exists(),
        "the socket file is removed when the session ends"
    );
    let stopped = f.events.last().expect("events");
    assert_eq!(stopped["kind"], "info");
    let msg = stopped["msg"].as_str().unwrap();
    assert!(msg.starts_with("stopped: "), "{msg}");
    assert!(
        msg.contains(" 0 events and 0 pcap packets lost by slow consumers"),
        "{msg}"
    );

    // The viewers end with the session, without an error.
    let mut a = a;
    let mut c = c;
    for (name, v) in [("a", &mut a), ("c", &mut c)] {
        let s = v.wait(Duration::from_secs(10));
        let err = fs::read_to_string(&v.stderr).unwrap_or_default();
        assert_eq!(s.code(), Some(0), "viewer {name}: {err}");
        assert_eq!(err, "", "viewer {name}");
    }
    // Every event the session wrote, in the same order: for the viewer
    // that was there from the start and for the one that joined late (the
    // history first, then the rest).
    let want = &f.events;
    assert!(want.len() > after_first);
    assert_eq!(&a.events(), want, "viewer a");
    assert_eq!(&c.events(), want, "viewer c");
    // The killed one saw a prefix: up to the first curl at least, not the
    // second.
    let got_b = b.events();
    assert!(
        got_b.len() >= after_first && got_b.len() < want.len(),
        "{} of {}",
        got_b.len(),
        want.len()
    );
    assert_eq!(&got_b[..], &want[..got_b.len()], "viewer b");
    assert!(got_d.len() >= after_first, "viewer d: the history");
    assert_eq!(&got_d[..], &want[..got_d.len()], "viewer d");
    // What a viewer records replays as what the session wrote.
    let replayed = tcpscope(&["replay", rec.to_str().unwrap(), "--headless"]);
    assert!(replayed.status.success());
    assert_eq!(
        &parse_events(&String::from_utf8_lossy(&replayed.stdout)),
        want,
        "a.rec replayed"
    );
    let header: Value =
        serde_json::from_str(fs::read_to_string(&rec).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(header["mode"], "live");
    assert!(
        header["title"]
            .as_str()
            .unwrap()
            .starts_with("live on tcpscope0: kernel 10.77.0.1/24"),
        "{header}"
    );
    assert_eq!(
        conns_with_syn_in(want).len(),
        2,
        "two curls, two connections"
    );
}

fn tcpscope(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run tcpscope")
}

fn fails(args: &[&str], sentence: &str) {
    let o = tcpscope(args);
    assert_eq!(o.status.code(), Some(1), "{args:?}");
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!("tcpscope: {sentence}\n"),
        "{args:?}"
    );
    assert!(o.stdout.is_empty());
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tcpscope-share-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).expect("temp dir");
    d
}

// The path rules are checked before the interface is made: no privileges
// needed.
#[test]
fn share_refuses_a_path_that_is_not_a_stale_socket() {
    let dir = temp("refuse");
    let file = dir.join("notes.txt");
    fs::write(&file, "mine").unwrap();
    let f = file.to_str().unwrap();
    fails(
        &["live", "--headless", "--share", f],
        &format!(
            "{f} exists and is not a socket (a regular file): tcpscope will not replace it; choose another path"
        ),
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), "mine");
    let d = dir.to_str().unwrap();
    fails(
        &["live", "--share", d],
        &format!(
            "{d} exists and is not a socket (a directory): tcpscope will not replace it; choose another path"
        ),
    );
    let busy = dir.join("busy.sock");
    let _l = UnixListener::bind(&busy).unwrap();
    let b = busy.to_str().unwrap();
    fails(
        &["live", "--headless", "--share", b],
        &format!(
            "{b} is in use by another tcpscope session (something listens on it): stop it or choose another path"
        ),
    );
    assert!(busy.exists(), "a socket in use is left alone");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn attach_to_nothing_or_with_a_stack_flag_is_one_sentence() {
    let dir = temp("attach");
    let missing = dir.join("none.sock");
    let m = missing.to_str().unwrap();
    fails(
        &["attach", m, "--headless"],
        &format!("there is no shared session at {m}: start one with tcpscope live --share {m}"),
    );
    let stale = dir.join("stale.sock");
    drop(UnixListener::bind(&stale).unwrap());
    let s = stale.to_str().unwrap();
    fails(
        &["attach", s],
        &format!("the session at {s} has ended (nothing listens on the socket any more)"),
    );
    let file = dir.join("plain");
    fs::write(&file, "x").unwrap();
    let p = file.to_str().unwrap();
    fails(
        &["attach", p, "--headless"],
        &format!(
            "{p} is not a tcpscope session: it is not a socket (tcpscope live --share PATH makes one)"
        ),
    );
    fails(
        &["attach", m, "--drop", "in:S"],
        "--drop is for the tcpscope live that shares the session: a viewer (tcpscope attach) only watches; it takes --headless, --events, --record, --duration, --theme and --config",
    );
    fails(
        &["attach", m, "--pcap", "x.pcapng"],
        "--pcap is for the tcpscope live that shares the session: a viewer (tcpscope attach) only watches; it takes --headless, --events, --record, --duration, --theme and --config",
    );
    fs::remove_dir_all(&dir).unwrap();
}
