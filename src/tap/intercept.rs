//! `tcpscope intercept --port PORT`: the kernel's own packets of one port,
//! both directions, through NFQUEUE and the fault injector
//! ([`crate::fault::Injector`], the same as live mode's), shown as `watch`
//! shows a capture.
//!
//! Failing open (docs/watch.md, Watching the machine's own connections):
//! - the rules are installed by tcpscope itself, in a chain of its own
//!   (`TCPSCOPE-Q<queue>`), with `--queue-bypass`: when no program holds
//!   the queue (tcpscope died, even by SIGKILL) the kernel lets the packets
//!   through instead of dropping them; the queue fails open when full;
//! - the chain is removed on every way out (q, Ctrl-C, SIGTERM,
//!   `--duration`, an error, a panic through [`Rules`]'s `Drop`), and a
//!   stale one, left by a tcpscope that was killed, is removed at start;
//! - held, delayed and reordered packets are let go on the way out, never
//!   lost: the rules go first, then every packet still with tcpscope gets
//!   its verdict, then the queue is unbound;
//! - a packet that does not parse as TCP, or that no rule matches, gets
//!   the verdict ACCEPT without bytes: the kernel sends what it had.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Command as Proc;
use std::sync::mpsc::{Receiver, Sender};
use std::time::Duration;

use crate::capture::{INFERRED_NOTE, link};
use crate::driver::Command;
use crate::driver::faults::{Done, Faults};
use crate::event::Dir;
use crate::fault::{Injector, Packet, Rule};
use crate::runtime::sink::{PcapSink, Sink};
use crate::time::Instant;

use super::nfqueue::{HOOK_LOCAL_IN, Queue, Queued};
use super::{Pipeline, Stats, Stop};

/// The queue number when none is given.
pub const DEFAULT_QUEUE: u16 = 7463;
/// Packets the kernel keeps queued for tcpscope; past that the queue fails
/// open (the packet passes unseen). Held packets count against it.
const QUEUE_MAXLEN: u32 = 8192;
/// The mark of the copies tcpscope sends itself (a duplicate's second
/// copy): the chain lets them pass.
pub const COPY_MARK: u32 = 0x7463_7370;
/// The injector's host name in rule events.
const HOST: &str = "intercept";

/// What `tcpscope intercept` was asked for.
#[derive(Clone, Debug)]
pub struct InterceptSetup {
    pub port: u16,
    pub iface: Option<String>,
    pub queue: u16,
    pub duration: Option<Duration>,
    pub rules: Vec<Rule>,
    pub seed: u64,
}

impl InterceptSetup {
    pub fn describe(&self) -> String {
        format!(
            "intercept port {} on {} through NFQUEUE {} (fails open: queue bypass)",
            self.port,
            self.iface
                .as_deref()
                .unwrap_or("every interface but lo's input"),
            self.queue
        )
    }
}

/// The iptables chain of queue `queue`.
pub fn chain(queue: u16) -> String {
    format!("TCPSCOPE-Q{queue}")
}

/// tcpscope's rules in the current network namespace, for IPv4 and IPv6.
pub struct Rules {
    chain: String,
    installed: Vec<&'static str>,
}

fn tables_run(tool: &str, args: &[&str]) -> Result<(), String> {
    let o = Proc::new(tool)
        .arg("-w")
        .arg("5")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {tool}: {e}"))?;
    if o.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{tool} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr).trim()
        ))
    }
}

impl Rules {
    /// Remove a chain of this queue left behind (its jumps first); true
    /// when there was one. Only called once the queue is bound, so no
    /// running tcpscope owns it.
    pub fn remove_stale(queue: u16) -> bool {
        let chain = chain(queue);
        let mut found = false;
        for tool in ["iptables", "ip6tables"] {
            if tables_run(tool, &["-n", "-L", &chain]).is_ok() {
                found = true;
                Rules::remove_chain(tool, &chain);
            }
        }
        found
    }

    fn remove_chain(tool: &str, chain: &str) {
        for hook in ["INPUT", "OUTPUT"] {
            // Every jump to it (bounded: one per start at most).
            for _ in 0..64 {
                if tables_run(tool, &["-D", hook, "-j", chain]).is_err() {
                    break;
                }
            }
            for _ in 0..64 {
                let r = tables_run(tool, &["-D", hook, "!", "-i", "lo", "-j", chain]);
                if r.is_err() {
                    break;
                }
            }
        }
        let _ = tables_run(tool, &["-F", chain]);
        let _ = tables_run(tool, &["-X", chain]);
    }

    /// Install: the chain (copies pass; the port's packets either way go
    /// to the queue, bypassed when nobody holds it) and its jumps from
    /// INPUT and OUTPUT. IPv6 is best effort.
    pub fn install(setup: &InterceptSetup) -> Result<(Rules, Option<String>), String> {
        let chain = chain(setup.queue);
        let mut rules = Rules {
            chain: chain.clone(),
            installed: Vec::new(),
        };
        let port = setup.port.to_string();
        let queue = setup.queue.to_string();
        let mark = format!("0x{COPY_MARK:x}");
        let mut warning = None;
        for tool in ["iptables", "ip6tables"] {
            let r = (|| -> Result<(), String> {
                tables_run(tool, &["-N", &chain])?;
                rules.installed.push(tool);
                tables_run(
                    tool,
                    &["-A", &chain, "-m", "mark", "--mark", &mark, "-j", "RETURN"],
                )?;
                for side in ["--sport", "--dport"] {
                    tables_run(
                        tool,
                        &[
                            "-A",
                            &chain,
                            "-p",
                            "tcp",
                            side,
                            &port,
                            "-j",
                            "NFQUEUE",
                            "--queue-num",
                            &queue,
                            "--queue-bypass",
                        ],
                    )?;
                }
                match &setup.iface {
                    Some(i) => {
                        tables_run(tool, &["-I", "INPUT", "1", "-i", i, "-j", &chain])?;
                        tables_run(tool, &["-I", "OUTPUT", "1", "-o", i, "-j", &chain])?;
                    }
                    None => {
                        // A loopback packet crosses OUTPUT and then INPUT:
                        // seen once, at OUTPUT.
                        tables_run(tool, &["-I", "INPUT", "1", "!", "-i", "lo", "-j", &chain])?;
                        tables_run(tool, &["-I", "OUTPUT", "1", "-j", &chain])?;
                    }
                }
                Ok(())
            })();
            if let Err(e) = r {
                if tool == "iptables" {
                    rules.remove();
                    return Err(format!("cannot install the queue's rules: {e}"));
                }
                warning = Some(format!("IPv6 not intercepted: {e}"));
            }
        }
        Ok((rules, warning))
    }

    /// Remove what was installed (idempotent).
    pub fn remove(&mut self) {
        for tool in std::mem::take(&mut self.installed) {
            Rules::remove_chain(tool, &self.chain);
        }
    }
}

impl Drop for Rules {
    fn drop(&mut self) {
        self.remove();
    }
}

/// Before anything: CAP_NET_ADMIN (queues and iptables need it).
pub fn check_cap_net_admin() -> Result<(), String> {
    use caps::{CapSet, Capability};
    match caps::has_cap(None, CapSet::Effective, Capability::CAP_NET_ADMIN) {
        Ok(false) => Err(missing_cap_net_admin()),
        Ok(true) | Err(_) => Ok(()),
    }
}

fn has_cap_net_admin() -> bool {
    use caps::{CapSet, Capability};
    caps::has_cap(None, CapSet::Effective, Capability::CAP_NET_ADMIN).unwrap_or(true)
}

pub fn missing_cap_net_admin() -> String {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "$(which tcpscope)".into());
    format!(
        "intercepting packets (NFQUEUE and iptables rules) needs CAP_NET_ADMIN, which this process does not have: run it with sudo, or once: sudo setcap cap_net_admin+ep {exe}"
    )
}

/// A fault command from the UI and where to send its answer.
pub type CommandMsg = (Command, Sender<Result<String, String>>);

/// Bind the queue, clear a stale chain, install the rules. Errors are
/// sentences; nothing is left installed after one.
pub fn open(setup: &InterceptSetup) -> Result<Opened, String> {
    check_cap_net_admin()?;
    let q = Queue::bind(setup.queue, QUEUE_MAXLEN).map_err(|e| match e.raw_os_error() {
        // With the capability (checked above), EPERM is the kernel's
        // answer to a queue another socket is bound to.
        Some(libc::EPERM) | Some(libc::EACCES) if !has_cap_net_admin() => missing_cap_net_admin(),
        Some(libc::EPERM) | Some(libc::EBUSY) => format!(
            "NFQUEUE {} is held by another program: choose another with --queue-num",
            setup.queue
        ),
        _ => format!("cannot bind NFQUEUE {}: {e}", setup.queue),
    })?;
    let mut notes = Vec::new();
    if Rules::remove_stale(setup.queue) {
        notes.push(format!(
            "removed a stale chain {} left by an earlier tcpscope intercept",
            chain(setup.queue)
        ));
    }
    let (rules, warning) = Rules::install(setup)?;
    notes.extend(warning);
    Ok(Opened { q, rules, notes })
}

/// A bound queue with its rules installed.
pub struct Opened {
    q: Queue,
    rules: Rules,
    /// Lines for the log (a stale chain removed, IPv6 left out).
    notes: Vec<String>,
}

/// `a<->b` as two addresses.
fn ends(conn: &str) -> Option<(SocketAddr, SocketAddr)> {
    let (a, b) = conn.split_once("<->")?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The state of the loop: the queue, the injector, packets awaiting their
/// verdict by the id the injector knows them by.
struct Loop {
    q: Queue,
    inj: Injector,
    faults: Faults,
    p: Pipeline,
    pending: HashMap<u64, Queued>,
    next_id: u64,
    raw: Option<RawSender>,
    /// Copies that could not be sent (IPv6, no raw socket).
    copies_lost: u64,
    verdict_errors: u64,
}

impl Loop {
    fn now(&self) -> Instant {
        Instant::from_micros(self.p.now_ns() / 1000)
    }

    fn packet(&mut self, qp: Queued) {
        let id = self.next_id;
        self.next_id += 1;
        let dir = if qp.hook == HOOK_LOCAL_IN {
            Dir::In
        } else {
            Dir::Out
        };
        let ns = self.p.now_ns();
        self.p.frame(id, ns, link::RAW, &qp.payload, dir);
        let now = self.now();
        let dropped = self.inj.counters.dropped_in + self.inj.counters.dropped_out;
        self.inj
            .process(now, Packet::new(id, dir, qp.payload.clone()));
        if self.inj.counters.dropped_in + self.inj.counters.dropped_out > dropped {
            // The injector drops only the packet it is given.
            if self.q.drop_packet(qp.id).is_err() {
                self.verdict_errors += 1;
            }
        } else {
            self.pending.insert(id, qp);
        }
    }

    /// Verdicts for what the injector let go; its events to the pipeline.
    fn deliver(&mut self) {
        while let Some(pkt) = self.inj.poll_deliver() {
            match self.pending.remove(&pkt.id) {
                Some(qp) => {
                    // Bytes only when the injector changed them (corrupt).
                    let changed = (pkt.bytes != qp.payload).then_some(&pkt.bytes[..]);
                    if self.q.accept(qp.id, changed).is_err() {
                        self.verdict_errors += 1;
                    }
                }
                // A duplicate's second copy: the kernel has the first.
                None => {
                    let sent = self.raw.as_ref().is_some_and(|r| r.send(&pkt.bytes));
                    if !sent {
                        self.copies_lost += 1;
                    }
                }
            }
        }
        while let Some(mut e) = self.inj.poll_event() {
            if let Some((local, remote)) = e.conn.as_deref().and_then(ends) {
                e.host = Some(
                    self.p
                        .host_of(local, remote)
                        .unwrap_or_else(|| "server".into()),
                );
            }
            self.p.emit(e);
        }
    }

    fn command(&mut self, cmd: Command) -> Result<String, String> {
        let now = self.now();
        let r = self.faults.apply(&mut self.inj, now, &cmd);
        self.deliver();
        let held = self.inj.held_count();
        r.map(|d| say(d, held))
    }

    /// The way out: every packet still here is let go.
    fn release_everything(&mut self) -> usize {
        let now = self.now();
        self.inj.set_hold_all(now, false);
        self.inj.clear_rules(now);
        let n = self.inj.release_all(now);
        // Delayed and reordered ones are due now.
        self.inj.on_timer(now + Duration::from_secs(86_400 * 365));
        self.deliver();
        let left: Vec<Queued> = self.pending.drain().map(|(_, q)| q).collect();
        for qp in &left {
            if self.q.accept(qp.id, None).is_err() {
                self.verdict_errors += 1;
            }
        }
        n + left.len()
    }
}

/// What a fault command did, in intercept's words (in: towards this
/// machine's sockets; out: leaving them).
fn say(done: Done, held: usize) -> String {
    match done {
        Done::DropNext(Dir::In) => "the next packet coming in will be dropped".into(),
        Done::DropNext(Dir::Out) => "the next packet going out will be dropped".into(),
        Done::Loss { inbound, outbound } => format!("random loss: {inbound}% in, {outbound}% out"),
        Done::Hold(true) => "holding every packet: space releases one, r releases all".into(),
        Done::Hold(false) => format!("no longer holding; {held} packet(s) still held"),
        Done::ReleasedOne => format!("released one packet; {held} still held"),
        Done::ReleasedAll(n) => format!("released {n} packet(s)"),
        Done::RuleAdded(rule) => format!("rule added: {rule}"),
        Done::Cleared => "all fault rules removed".into(),
    }
}

/// Run until `stop` says so. `commands`: the UI's fault commands.
pub fn run(
    setup: &InterceptSetup,
    opened: Opened,
    sinks: Vec<Sink>,
    pcap: Option<PcapSink>,
    stop: &Stop,
    commands: Option<Receiver<CommandMsg>>,
) -> Result<Stats, String> {
    let Opened {
        q,
        mut rules,
        notes,
    } = opened;
    let mut lp = Loop {
        q,
        inj: Injector::new(HOST, setup.seed),
        faults: Faults::new(),
        p: Pipeline::new(sinks, pcap),
        pending: HashMap::new(),
        next_id: 1,
        raw: RawSender::open(),
        copies_lost: 0,
        verdict_errors: 0,
    };
    lp.p.info(0.0, format!("{}; ready", setup.describe()));
    lp.p.info(0.0, INFERRED_NOTE.into());
    for n in notes {
        lp.p.info(0.0, n);
    }
    let now = lp.now();
    for r in &setup.rules {
        lp.inj.add_rule(now, r.clone());
    }
    lp.deliver();
    let mut batch = Vec::new();
    let mut error = None;
    let why = loop {
        if let Some(why) = stop.reason() {
            break why.to_string();
        }
        if let Some(rx) = &commands {
            while let Ok((cmd, reply)) = rx.try_recv() {
                let _ = reply.send(lp.command(cmd));
            }
        }
        // Sleep until a packet, the injector's next deadline, the
        // coalescer's, a command (looked at every 20 ms) or the end.
        let now = lp.now();
        let mut wait = Duration::from_millis(if commands.is_some() { 20 } else { 100 });
        if let Some(t) = lp.inj.poll_at() {
            wait = wait.min(Duration::from_micros(
                t.micros().saturating_sub(now.micros()),
            ));
        }
        if let Some(left) = stop.left() {
            wait = wait.min(left);
        }
        batch.clear();
        if let Err(e) = lp.q.recv(wait.as_millis().min(1000) as i32, &mut batch) {
            error = Some(format!("reading NFQUEUE {} failed: {e}", setup.queue));
            break format!("an error: reading NFQUEUE {} failed: {e}", setup.queue);
        }
        for qp in batch.drain(..) {
            lp.packet(qp);
        }
        let now = lp.now();
        if lp.inj.poll_at().is_some_and(|t| t <= now) {
            lp.inj.on_timer(now);
        }
        lp.deliver();
        lp.p.tick(now.secs_f64());
    };
    // The way out: no new packets first, then every one still here goes.
    rules.remove();
    let mut released = lp.release_everything();
    // Packets queued before the rules went: let them pass too.
    for _ in 0..20 {
        batch.clear();
        if lp.q.recv(10, &mut batch).is_err() || batch.is_empty() {
            break;
        }
        for qp in batch.drain(..) {
            if lp.q.accept(qp.id, None).is_err() {
                lp.verdict_errors += 1;
            }
            released += 1;
        }
    }
    let mut lines = vec![
        format!("stopped: {why}"),
        format!(
            "the queue's rules are removed; {released} packet(s) still with tcpscope were let go"
        ),
    ];
    let c = &lp.inj.counters;
    lines.push(format!(
        "injector: dropped {} in and {} out, held {}, released {}, delayed {}, duplicated {}, reordered {}, corrupted {}",
        c.dropped_in,
        c.dropped_out,
        c.held,
        c.released,
        c.delayed,
        c.duplicated,
        c.reordered,
        c.corrupted
    ));
    if lp.copies_lost > 0 {
        lines.push(format!(
            "{} duplicate copies could not be sent (IPv6, or no raw socket)",
            lp.copies_lost
        ));
    }
    if lp.verdict_errors > 0 {
        lines.push(format!(
            "{} verdicts could not be given (the kernel let those packets go or dropped them)",
            lp.verdict_errors
        ));
    }
    let stats = lp.p.finish(lines);
    let _ = lp.q.unbind();
    match error {
        Some(e) => Err(e),
        None => Ok(stats),
    }
}

/// Sends a duplicate's second copy: a raw IPv4 socket, the packet with its
/// own header, marked so that the chain lets it pass.
struct RawSender {
    fd: std::os::fd::OwnedFd,
}

impl RawSender {
    fn open() -> Option<RawSender> {
        use std::os::fd::{AsRawFd, FromRawFd};
        // SAFETY: plain socket call; the fd is owned below.
        let fd = unsafe {
            libc::socket(
                libc::AF_INET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::IPPROTO_RAW,
            )
        };
        if fd < 0 {
            return None;
        }
        // SAFETY: a fresh descriptor we own.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
        let mark = COPY_MARK as libc::c_int;
        // SAFETY: an int that lives across the call.
        let r = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_MARK,
                &mark as *const libc::c_int as *const libc::c_void,
                4,
            )
        };
        (r == 0).then_some(RawSender { fd })
    }

    /// True when sent.
    fn send(&self, ip: &[u8]) -> bool {
        use std::os::fd::AsRawFd;
        if ip.len() < 20 || ip[0] >> 4 != 4 {
            return false;
        }
        // SAFETY: a zeroed sockaddr_in is valid; fields set below.
        let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        sa.sin_family = libc::AF_INET as u16;
        sa.sin_addr.s_addr = u32::from_ne_bytes([ip[16], ip[17], ip[18], ip[19]]);
        // SAFETY: ip and sa live across the call.
        let r = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                ip.as_ptr() as *const libc::c_void,
                ip.len(),
                0,
                &sa as *const libc::sockaddr_in as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_in>() as u32,
            )
        };
        r >= 0
    }
}
