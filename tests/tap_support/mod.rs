//! Two namespaces joined by a veth pair, for `watch` and `intercept`
//! tests: a server namespace (10.89.0.1) and a client one (10.89.0.2).
//! The veth pair is made inside the server's namespace with its peer put
//! straight into the client's, so nothing of it ever sits in the root
//! namespace; deleting the namespaces (on drop) deletes it. Every packet
//! stays between them (docs/live.md, Tests: the network rule).

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{BIN, Netns, parse_events};

pub const SERVER: &str = "10.89.0.1";
pub const CLIENT: &str = "10.89.0.2";

static NEXT: AtomicU32 = AtomicU32::new(0);

pub struct Pair {
    /// Dropped after `server`'s helpers: field order is drop order.
    pub server: Netns,
    pub client: Netns,
}

impl Pair {
    pub fn setup(test: &str, tools: &[&str]) -> Option<Pair> {
        let server = Netns::setup(test, tools, &format!("{test}s"))?;
        let client = Netns::new(&format!("{test}c"))?;
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let (a, b) = (
            format!("tv{}{n}s", std::process::id() % 100_000),
            format!("tv{}{n}c", std::process::id() % 100_000),
        );
        server.ok(&[
            "ip",
            "link",
            "add",
            &a,
            "type",
            "veth",
            "peer",
            "name",
            &b,
            "netns",
            &client.name,
        ]);
        server.ok(&["ip", "addr", "add", &format!("{SERVER}/24"), "dev", &a]);
        client.ok(&["ip", "addr", "add", &format!("{CLIENT}/24"), "dev", &b]);
        server.ok(&["ip", "link", "set", &a, "up"]);
        client.ok(&["ip", "link", "set", &b, "up"]);
        Some(Pair { server, client })
    }

    /// `python3 -m http.server 8000` in the server's namespace, serving
    /// `dir`; returns once it listens.
    pub fn http_server(&mut self, dir: &Path) {
        let d = dir.display().to_string();
        self.server.spawn(
            &[
                "python3",
                "-m",
                "http.server",
                "8000",
                "--bind",
                SERVER,
                "--directory",
                &d,
            ],
            false,
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = self.server.ok(&["ss", "-ltnH", "sport = :8000"]);
            if out.contains("8000") {
                return;
            }
            assert!(Instant::now() < deadline, "http.server did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// curl from the client's namespace; its exit status.
    pub fn curl(&self, path: &str, out: &Path, max_secs: u32) -> Option<i32> {
        let url = format!("http://{SERVER}:8000/{path}");
        let o = self.client.run(&[
            "curl",
            "-s",
            "--max-time",
            &max_secs.to_string(),
            "-o",
            &out.display().to_string(),
            &url,
        ]);
        o.status.code()
    }
}

/// A tcpscope (`watch` or `intercept`) run headless with `--events`, in a
/// namespace; stopped by SIGTERM, SIGKILL, or `--duration`.
pub struct Tap {
    child: Option<Child>,
    pub events: PathBuf,
    pub stderr: PathBuf,
}

pub struct Ended {
    pub code: Option<i32>,
    pub events: Vec<Value>,
    pub stderr: String,
}

impl Tap {
    /// Start `tcpscope ARGS --headless --events FILE` in `ns` and wait for
    /// its first line (`…; ready`).
    pub fn start(ns: &Netns, name: &str, args: &[&str]) -> Tap {
        let events = ns.dir.join(format!("{name}.jsonl"));
        let stderr = ns.dir.join(format!("{name}.stderr"));
        let _ = fs::remove_file(&events);
        let mut c = ns.cmd(&[BIN]);
        c.args(args).arg("--headless").arg("--events").arg(&events);
        c.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&stderr).expect("stderr file"));
        let t = Tap {
            child: Some(c.spawn().expect("start tcpscope")),
            events,
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(s) = fs::read_to_string(&t.events)
                && s.lines().next().is_some_and(|l| l.contains("; ready"))
            {
                return t;
            }
            if Instant::now() >= deadline {
                let err = fs::read_to_string(&t.stderr).unwrap_or_default();
                panic!("tcpscope {args:?} was not ready in 10 s; stderr: {err}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn signal(&self, sig: i32) {
        let pid = self.child.as_ref().expect("running").id() as i32;
        // SAFETY: kill(2) on the PID of a child we started and have not
        // reaped yet.
        unsafe { libc::kill(pid, sig) };
    }

    pub fn events_now(&self) -> Vec<Value> {
        parse_events(&fs::read_to_string(&self.events).unwrap_or_default())
    }

    /// Wait for it to exit (at most `limit`).
    pub fn wait(mut self, limit: Duration) -> Ended {
        let mut c = self.child.take().expect("running");
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(s) = c.try_wait().expect("try_wait") {
                break s;
            }
            if Instant::now() >= deadline {
                let _ = c.kill();
                let _ = c.wait();
                panic!("tcpscope did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let text = fs::read_to_string(&self.events).unwrap_or_default();
        // A run killed mid-line leaves half a line: only whole ones count.
        let whole: String = text
            .lines()
            .filter(|l| l.ends_with('}'))
            .map(|l| format!("{l}\n"))
            .collect();
        Ended {
            code: status.code(),
            events: parse_events(&whole),
            stderr: fs::read_to_string(&self.stderr).unwrap_or_default(),
        }
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The `to` states of `host`'s side of `conn` (either side's name).
pub fn states(evs: &[Value], host: &str, conn: &str) -> Vec<String> {
    evs.iter()
        .filter(|e| e["kind"] == "state" && e["host"] == host && e["conn"] == conn)
        .map(|e| e["to"].as_str().unwrap().to_string())
        .collect()
}

/// `a<->b` as seen from the other end.
pub fn flip(conn: &str) -> String {
    let (a, b) = conn.split_once("<->").expect("a<->b");
    format!("{b}<->{a}")
}

/// The client-side names of the connections that sent a SYN.
pub fn client_conns(evs: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = evs
        .iter()
        .filter(|e| {
            e["kind"] == "segment"
                && e["host"] == "client"
                && e["flags"].as_array().unwrap().iter().any(|f| f == "SYN")
        })
        .map(|e| e["conn"].as_str().unwrap().to_string())
        .collect();
    v.dedup();
    v
}
