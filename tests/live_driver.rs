//! The terminal UI's driver for live mode, in process: a thread moves into a
//! fresh, anonymous network namespace (`unshare(CLONE_NEWNET)`, the
//! in-process `unshare -n`), starts `LiveDriver` there (its runtime thread
//! inherits the namespace), and drives kernel-side programs with
//! `nsenter --net=/proc/PID/task/TID/ns/net`. The namespace disappears
//! with the thread.

mod common;

use std::net::SocketAddr;
use std::process::{Child, Command as Proc, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use tcpscope::cli::{Cli, CliCommand};
use tcpscope::driver::live::LiveDriver;
use tcpscope::driver::{Command, ConnRef, Driver, Mode};
use tcpscope::event::{Body, Dir, DropReason, Event, KeepaliveAction};
use tcpscope::tcp::State;

/// Kernel-side helpers, killed by PID when the test ends.
struct Helpers(Vec<Child>);

impl Drop for Helpers {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn poll_until(d: &mut LiveDriver, all: &mut Vec<Event>, what: &str, pred: impl Fn(&Event) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let new = d.poll();
        let hit = new.iter().any(&pred);
        all.extend(new);
        if hit {
            return;
        }
        assert!(Instant::now() < deadline, "waited 10 s for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run_in_namespace() {
    // SAFETY: unshare(2) affects only this thread.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        panic!("unshare(CLONE_NEWNET): {}", std::io::Error::last_os_error());
    }
    // SAFETY: gettid cannot fail.
    let tid = unsafe { libc::gettid() };
    let netns = format!("--net=/proc/{}/task/{tid}/ns/net", std::process::id());
    let nsenter = |args: &[&str]| {
        let mut c = Proc::new("nsenter");
        c.arg(&netns).args(args);
        c
    };
    let cli = Cli::parse_from(["tcpscope", "live", "--serve", "80:http", "--msl", "1"]);
    let Some(CliCommand::Live(args)) = &cli.command else {
        unreachable!()
    };
    let setup = tcpscope::app::live_setup(args, &cli.common).expect("setup");
    let mut d = LiveDriver::start(setup, Vec::new(), None).expect("live driver starts");
    let mut helpers = Helpers(Vec::new());
    let mut all = Vec::new();
    assert_eq!(d.mode(), Mode::Live);
    assert!(d.title().contains("tcpscope0") && d.title().contains("80:http"));
    assert_eq!(d.next_wake(), Some(Duration::from_millis(33)));
    assert!(!d.finished());

    // Drop the next outgoing segment: the SYN+ACK; the handshake recovers.
    let msg = d.command(Command::DropNext(Dir::Out)).unwrap();
    assert!(msg.contains("dropped"), "{msg}");
    let out = nsenter(&[
        "curl",
        "-sS",
        "-m",
        "10",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "http://10.77.0.2/",
    ])
    .output()
    .expect("curl");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200");
    poll_until(&mut d, &mut all, "the HTTP request", |e| {
        matches!(
            &e.body,
            Body::App {
                request: Some(1),
                ..
            }
        )
    });
    let drops: Vec<_> = all
        .iter()
        .filter_map(|e| match &e.body {
            Body::Drop(x) => Some(x),
            _ => None,
        })
        .collect();
    assert_eq!(drops.len(), 1);
    assert_eq!(drops[0].dir, Dir::Out);
    assert_eq!(drops[0].reason, DropReason::Injected);
    assert_eq!(drops[0].seg.as_ref().unwrap().flags.names(), ["SYN", "ACK"]);
    assert!(all.windows(2).all(|w| w[0].t <= w[1].t + 0.01));
    assert!(d.now() >= all.last().unwrap().t);

    // Hold everything, let curl's SYN be held, then release it by hand.
    d.command(Command::HoldAll(true)).unwrap();
    let curl = nsenter(&[
        "curl",
        "-sS",
        "-m",
        "10",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "http://10.77.0.2/",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .expect("curl");
    helpers.0.push(curl);
    poll_until(
        &mut d,
        &mut all,
        "a held SYN",
        |e| matches!(&e.body, Body::Hold(h) if h.dir == Dir::In && h.seg.flags.names() == ["SYN"]),
    );
    d.command(Command::HoldAll(false)).unwrap();
    let msg = d.command(Command::ReleaseAll).unwrap();
    assert!(msg.starts_with("released "), "{msg}");
    assert_eq!(
        d.command(Command::ReleaseOne).unwrap_err(),
        "no segment is held"
    );
    poll_until(
        &mut d,
        &mut all,
        "the second request",
        |e| matches!(&e.body, Body::App { msg, request: Some(1), .. } if msg == "GET / 200"),
    );
    assert!(
        all.iter()
            .any(|e| matches!(&e.body, Body::Release(r) if r.dir == Dir::In))
    );

    // Loss and rules are the injector's.
    assert_eq!(
        d.command(Command::SetLoss {
            inbound: 5.0,
            outbound: 0.0
        })
        .unwrap(),
        "random loss: 5% in, 0% out"
    );
    assert!(
        d.command(Command::SetLoss {
            inbound: 150.0,
            outbound: 0.0
        })
        .is_err()
    );
    d.command(Command::ClearRules).unwrap();

    // Active open to a kernel listener, keepalive on, then close it.
    let nc = nsenter(&["nc", "-l", "9000"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nc");
    helpers.0.push(nc);
    std::thread::sleep(Duration::from_millis(200));
    let to: SocketAddr = "10.77.0.1:9000".parse().unwrap();
    assert_eq!(
        d.command(Command::Connect(to)).unwrap(),
        "connecting to 10.77.0.1:9000"
    );
    poll_until(&mut d, &mut all, "ESTABLISHED to 9000", |e| {
        matches!(
            &e.body,
            Body::State {
                to: State::Established,
                ..
            }
        ) && e
            .conn
            .as_deref()
            .is_some_and(|c| c.ends_with("<->10.77.0.1:9000"))
    });
    let conn = all
        .iter()
        .rev()
        .find(|e| {
            e.conn
                .as_deref()
                .is_some_and(|c| c.ends_with("<->10.77.0.1:9000"))
        })
        .and_then(|e| e.conn.clone())
        .unwrap();
    let r = ConnRef {
        host: Some("tcpscope".into()),
        conn: conn.clone(),
    };
    let msg = d.command(Command::Keepalive(r.clone(), true)).unwrap();
    assert!(msg.starts_with("keepalive on for"), "{msg}");
    poll_until(
        &mut d,
        &mut all,
        "keepalive enabled",
        |e| matches!(&e.body, Body::Keepalive(k) if k.action == KeepaliveAction::Enabled),
    );
    let msg = d.command(Command::Close(r.clone())).unwrap();
    assert_eq!(msg, format!("closing {conn} (FIN)"));
    poll_until(&mut d, &mut all, "FIN-WAIT-1", |e| {
        matches!(
            &e.body,
            Body::State {
                from: State::Established,
                to: State::FinWait1,
                ..
            }
        ) && e.conn.as_deref() == Some(&*conn)
    });
    let gone = ConnRef {
        host: None,
        conn: "10.77.0.2:1<->10.77.0.1:1".into(),
    };
    assert_eq!(
        d.command(Command::Abort(gone)).unwrap_err(),
        "no open connection 10.77.0.2:1<->10.77.0.1:1"
    );
    assert!(d.command(Command::TimeScale(2.0)).is_err());
    assert!(d.command(Command::Seek(1.0)).is_err());

    let stats = d.stop().expect("a clean stop");
    assert!(
        stats.packets_in >= 10 && stats.packets_out >= 10,
        "{stats:?}"
    );
}

#[test]
fn the_ui_driver_streams_events_and_applies_commands() {
    if !common::require("ui_driver", &["curl", "nsenter", "nc"]) {
        return;
    }
    std::thread::spawn(run_in_namespace)
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p));
}
