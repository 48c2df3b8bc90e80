//! Shared helpers for the live tests: the skip rule, a network namespace
//! guard, a running tcpscope, and event queries.
//!
//! The network rule (docs/live.md, Tests): every packet of these tests stays inside a
//! namespace the test creates (`ip netns add`), the TUN is created inside
//! it, and the namespace is deleted in `Drop`, also when the test fails.
//! Processes are ended by their PID only.

#![allow(dead_code)]

pub mod active_open;
pub mod echo;
pub mod english;
pub mod hostile;
pub mod tmux;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_tcpscope");
pub const KERNEL: &str = "10.77.0.1";
pub const STACK: &str = "10.77.0.2";
pub const IFACE: &str = "tcpscope0";

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| {
        std::env::split_paths(&p).any(|d| {
            let f = d.join(tool);
            f.is_file()
        })
    })
}

/// Skip (print why, return false) unless root, /dev/net/tun and `tools`
/// are there. With TCPSCOPE_REQUIRE_NETNS=1 a skip is a failure instead.
pub fn require(test: &str, tools: &[&str]) -> bool {
    let mut missing: Vec<String> = Vec::new();
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        missing.push("root (network namespaces and TUN need CAP_NET_ADMIN)".into());
    }
    if !Path::new("/dev/net/tun").exists() {
        missing.push("/dev/net/tun".into());
    }
    for t in std::iter::once(&"ip").chain(tools) {
        if !on_path(t) {
            missing.push(format!("the `{t}` command"));
        }
    }
    if missing.is_empty() {
        return true;
    }
    skip(test, &format!("needs {}", missing.join(", ")));
    false
}

/// Skip (print why, return false) unless every one of `tools` is on PATH;
/// for tests that need an outside program but no privileges. With
/// TCPSCOPE_REQUIRE_NETNS=1 a skip is a failure instead.
pub fn require_tools(test: &str, tools: &[&str]) -> bool {
    let missing: Vec<String> = tools
        .iter()
        .filter(|t| !on_path(t))
        .map(|t| format!("the `{t}` command"))
        .collect();
    if missing.is_empty() {
        return true;
    }
    skip(test, &format!("needs {}", missing.join(", ")));
    false
}

fn skip(test: &str, why: &str) {
    let msg = format!("{test}: skipped: {why}");
    if std::env::var("TCPSCOPE_REQUIRE_NETNS").as_deref() == Ok("1") {
        panic!("{msg} (TCPSCOPE_REQUIRE_NETNS=1 makes a skip a failure)");
    }
    eprintln!("{msg}");
}

/// A network namespace owned by one test; deleted on drop with every
/// process the test started in it.
pub struct Netns {
    pub name: String,
    pub dir: PathBuf,
    children: Vec<Child>,
}

impl Netns {
    /// A fresh namespace named after the test and this process, with `lo`
    /// up; `None` (skipped) when namespaces cannot be made here.
    /// The skip rule for `test` (root, the TUN, `tools`), then a namespace
    /// called after `name`: what every live test begins with.
    pub fn setup(test: &str, tools: &[&str], name: &str) -> Option<Netns> {
        if !require(test, tools) {
            return None;
        }
        Netns::new(name)
    }

    pub fn new(test: &str) -> Option<Netns> {
        let short: String = test
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(20)
            .collect();
        let name = format!("tcps-{short}-{}", std::process::id());
        let dir = std::env::temp_dir().join(format!("tcpscope-test-{name}"));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        let out = Command::new("ip").args(["netns", "add", &name]).output();
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                skip(
                    test,
                    &format!(
                        "cannot create a network namespace: {}",
                        String::from_utf8_lossy(&o.stderr).trim()
                    ),
                );
                return None;
            }
            Err(e) => {
                skip(test, &format!("cannot run ip: {e}"));
                return None;
            }
        }
        let ns = Netns {
            name,
            dir,
            children: Vec::new(),
        };
        ns.ok(&["ip", "link", "set", "lo", "up"]);
        Some(ns)
    }

    /// `ip netns exec NAME args…` (the program replaces `ip`, so its PID is
    /// the child's).
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).args(args);
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args)
            .output()
            .expect("run a command in the namespace")
    }

    /// Run and require success.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "{args:?} failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Start a long-running helper (killed by PID on drop); returns its index.
    pub fn spawn(&mut self, args: &[&str], stdin: bool) -> usize {
        let mut c = self.cmd(args);
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        if stdin {
            c.stdin(Stdio::piped());
        } else {
            c.stdin(Stdio::null());
        }
        self.children
            .push(c.spawn().expect("spawn a helper in the namespace"));
        self.children.len() - 1
    }

    pub fn write_stdin(&mut self, i: usize, line: &str) {
        let s = self.children[i].stdin.as_mut().expect("stdin piped");
        s.write_all(line.as_bytes()).expect("write to helper");
        s.flush().expect("flush helper stdin");
    }

    /// Wait for a helper to exit (at most `limit`) and take its stdout.
    pub fn wait_helper(
        &mut self,
        i: usize,
        limit: Duration,
    ) -> (Option<ExitStatus>, String, String) {
        let deadline = Instant::now() + limit;
        let child = &mut self.children[i];
        let status = loop {
            if let Some(s) = child.try_wait().expect("try_wait") {
                break Some(s);
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut out = String::new();
        let mut err = String::new();
        if let Some(mut o) = child.stdout.take() {
            let _ = std::io::Read::read_to_string(&mut o, &mut out);
        }
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        (status, out, err)
    }

    /// Start tcpscope live in the namespace with `--headless --events FILE`
    /// and wait until it reports itself ready.
    pub fn tcpscope(&self, args: &[&str]) -> Tcpscope {
        let events = self.dir.join("events.jsonl");
        let stderr = self.dir.join("stderr.txt");
        let _ = fs::remove_file(&events);
        let mut c = self.cmd(&[BIN, "live", "--headless", "--events"]);
        c.arg(&events).args(args);
        c.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&stderr).expect("stderr file"));
        let child = c.spawn().expect("start tcpscope");
        let t = Tcpscope {
            child: Some(child),
            events,
            stderr,
        };
        t.wait_ready();
        t
    }

    /// iptables inside the namespace.
    pub fn iptables(&self, rule: &str) {
        let mut args = vec!["iptables"];
        args.extend(rule.split_whitespace());
        self.ok(&args);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
        if std::thread::panicking() {
            // A failed test leaves its events and stderr for a post-mortem.
            eprintln!("kept {} for inspection", self.dir.display());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// A running `tcpscope live --headless`.
pub struct Tcpscope {
    child: Option<Child>,
    pub events: PathBuf,
    stderr: PathBuf,
}

pub struct Finished {
    pub status: ExitStatus,
    pub events: Vec<Value>,
    pub stderr: String,
}

impl Tcpscope {
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(s) = fs::read_to_string(&self.events)
                && s.lines().next().is_some_and(|l| l.contains("; ready"))
            {
                return;
            }
            if Instant::now() >= deadline {
                let err = fs::read_to_string(&self.stderr).unwrap_or_default();
                panic!("tcpscope did not become ready in 10 s; stderr: {err}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().expect("running").id() as i32
    }

    /// Ask it to stop (SIGTERM, by PID), as a user's `kill` would.
    pub fn terminate(&self) {
        // SAFETY: signalling our own child by its PID.
        unsafe { libc::kill(self.pid(), libc::SIGTERM) };
    }

    /// The events written so far.
    pub fn events_now(&self) -> Vec<Value> {
        parse_events(&fs::read_to_string(&self.events).unwrap_or_default())
    }

    /// Wait for exit (at most `limit`, then kill and fail).
    pub fn wait(mut self, limit: Duration) -> Finished {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(s) = child.try_wait().expect("try_wait") {
                break s;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("tcpscope did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Finished {
            status,
            events: parse_events(&fs::read_to_string(&self.events).unwrap_or_default()),
            stderr: fs::read_to_string(&self.stderr).unwrap_or_default(),
        }
    }
}

impl Drop for Tcpscope {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            if std::thread::panicking() {
                // Let it flush its events file (SIGTERM stops it cleanly).
                // SAFETY: signalling our own child by its PID.
                unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
                let deadline = Instant::now() + Duration::from_secs(5);
                while Instant::now() < deadline && matches!(c.try_wait(), Ok(None)) {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn parse_events(s: &str) -> Vec<Value> {
    s.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad event line {l}: {e}")))
        .collect()
}

// ----- event queries -----------------------------------------------------

pub fn kind<'a>(evs: &'a [Value], k: &str) -> Vec<&'a Value> {
    evs.iter().filter(|e| e["kind"] == k).collect()
}

pub fn of_conn<'a>(evs: &'a [Value], conn: &str) -> Vec<&'a Value> {
    evs.iter().filter(|e| e["conn"] == conn).collect()
}

pub fn flags(e: &Value) -> Vec<String> {
    e["flags"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f.as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

pub fn opts(e: &Value) -> Vec<String> {
    e["opts"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f.as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// `segment` events (optionally of one direction) of a connection.
pub fn segments<'a>(evs: &'a [&'a Value], dir: Option<&str>) -> Vec<&'a Value> {
    evs.iter()
        .copied()
        .filter(|e| e["kind"] == "segment" && dir.is_none_or(|d| e["dir"] == d))
        .collect()
}

/// The `(from, to)` of every `state` event of a connection, in order.
/// A passive close after a kernel client's FIN (RFC 9293 Figure 5): no
/// TIME-WAIT on our side.
pub const PASSIVE_CLOSE: [(&str, &str); 5] = [
    ("LISTEN", "SYN-RECEIVED"),
    ("SYN-RECEIVED", "ESTABLISHED"),
    ("ESTABLISHED", "CLOSE-WAIT"),
    ("CLOSE-WAIT", "LAST-ACK"),
    ("LAST-ACK", "CLOSED"),
];

/// Owned (from, to) pairs, to compare with [`states`].
pub fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

pub fn states(evs: &[&Value]) -> Vec<(String, String)> {
    evs.iter()
        .filter(|e| e["kind"] == "state")
        .map(|e| {
            (
                e["from"].as_str().unwrap_or("").to_string(),
                e["to"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

pub fn t(e: &Value) -> f64 {
    e["t"].as_f64().expect("t")
}

/// Distinct connection names (not listeners) that saw an incoming SYN.
pub fn conns_with_syn_in(evs: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for e in evs {
        if e["kind"] == "segment" && e["dir"] == "in" && flags(e) == ["SYN"] {
            let c = e["conn"].as_str().unwrap_or("").to_string();
            if !v.contains(&c) {
                v.push(c);
            }
        }
    }
    v
}

pub fn write_script(ns: &Netns, name: &str, body: &str) -> String {
    let p = ns.dir.join(name);
    fs::write(&p, body).expect("write helper script");
    p.to_string_lossy().into_owned()
}

/// A Python client that sends SIZE random bytes to HOST:PORT while reading
/// the echo concurrently, then prints one JSON line (sizes, whether the
/// SHA-256 of both directions matches, seconds).
pub const ECHO_CLIENT: &str = r#"
import hashlib, json, os, socket, sys, threading, time
host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = os.urandom(size)
t0 = time.time()
s = socket.create_connection((host, port), timeout=60)
h = hashlib.sha256(); got = [0]; eof = [False]
def reader():
    while True:
        b = s.recv(1 << 16)
        if not b:
            eof[0] = True
            return
        h.update(b); got[0] += len(b)
t = threading.Thread(target=reader); t.start()
s.sendall(data)
s.shutdown(socket.SHUT_WR)
t.join(90)
print(json.dumps({"sent": size, "received": got[0], "eof": eof[0],
                  "same": h.hexdigest() == hashlib.sha256(data).hexdigest(),
                  "secs": round(time.time() - t0, 3)}))
"#;

/// The `tcp.analysis.*` fields tcpscope implements (docs/captures.md,
/// Opening a capture), and `tcp.connection.rst` for `reset`.
pub const TSHARK_FLAGS: [&str; 14] = [
    "retransmission",
    "fast_retransmission",
    "spurious_retransmission",
    "out_of_order",
    "duplicate_ack",
    "zero_window",
    "zero_window_probe",
    "zero_window_probe_ack",
    "window_update",
    "window_full",
    "keep_alive",
    "keep_alive_ack",
    "lost_segment",
    "ack_lost_segment",
];

/// Per frame number: the flags tshark reports.
/// tshark's `fields` for the frames of `file` that match `filter`, one
/// line per frame (the fields tab-separated); `opts` go before `-r`
/// (preferences such as `-o tcp.check_checksum:TRUE`).
pub fn tshark_fields(file: &Path, opts: &[&str], filter: &str, fields: &[&str]) -> Vec<String> {
    let mut cmd = Command::new("tshark");
    cmd.args(opts)
        .arg("-r")
        .arg(file)
        .args(["-Y", filter, "-T", "fields"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let o = cmd.output().expect("tshark");
    assert!(
        o.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

pub fn tshark_flags(file: &str) -> BTreeMap<u64, BTreeSet<String>> {
    let mut args: Vec<String> = ["-r", file, "-T", "fields", "-e", "frame.number"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(["-e".into(), "tcp.connection.rst".into()]);
    for f in TSHARK_FLAGS {
        args.extend(["-e".into(), format!("tcp.analysis.{f}")]);
    }
    let out = Command::new("tshark").args(&args).output().expect("tshark");
    assert!(out.status.success(), "tshark failed: {out:?}");
    let mut m = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let n: u64 = cols[0].parse().expect("frame number");
        let mut set = BTreeSet::new();
        if !cols.get(1).unwrap_or(&"").is_empty() {
            set.insert("reset".to_string());
        }
        for (i, f) in TSHARK_FLAGS.iter().enumerate() {
            if !cols.get(i + 2).unwrap_or(&"").is_empty() {
                set.insert(f.to_string());
            }
        }
        m.insert(n, set);
    }
    m
}
