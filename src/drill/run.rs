//! Playing a script against one engine under virtual time.
//!
//! The script's local socket is a tcpscope engine (the `linux` profile
//! unless the script's sysctls say otherwise); the runner is the remote.
//! packetdrill's rules, as its own runner applies them: a relative time
//! counts from when the previous event happened (from the previous
//! event's script time when both are inbound packets); an outbound packet
//! must be the next one the engine sent, at its time within the tolerance
//! (`--tolerance_usecs`, default 4 ms, or 12.5 % of the time since the
//! previous event, whichever is larger); sequence numbers are relative to
//! each side's ISN (the remote's is the runner's, the local one is learned
//! from the engine's SYN or SYN-ACK); an inbound TS ecr names an outbound
//! TS val by its script value.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::Outcome;
use super::info;
use super::parse::{self, Direction, Expr, Kind, Opt, Opts, Packet, Syscall, Time};
use super::setup::{self, Header};
use crate::event::{Dir, Event};
use crate::tcp::{Config, ConnId, Engine, Keepalive, Profile, SeqNum, SockBufs, TcpError};
use crate::time::Instant;
use crate::wire::{self, Flags, Segment, TcpOptions};

/// The runner's choices that the command line makes.
#[derive(Clone, Debug)]
pub struct Options {
    pub ipv6: bool,
    /// Overrides the script's `--tolerance_usecs`.
    pub tolerance_usecs: Option<i64>,
    /// The engine's starting profile (before the script's sysctls).
    pub profile: Profile,
    /// Add a `narration` event per script line as it is played, and one
    /// for the line that failed (`tcpscope demo FILE.pkt`, docs/drill.md,
    /// Watching a script).
    pub narrate: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            ipv6: false,
            tolerance_usecs: None,
            profile: Profile::Linux,
            narrate: false,
        }
    }
}

/// The remote's initial sequence number: script sequence 0 on the wire.
const REMOTE_ISN: u32 = 0x0100_0000;
/// The port `bind(fd, ..., ...)` gives and `connect` dials.
const LOCAL_PORT: u16 = 8080;
const REMOTE_PORT: u16 = 48_000;
/// How long the runner waits for an outbound packet beyond its time.
const OUTBOUND_WAIT: Duration = Duration::from_secs(2);

/// A finished run: how it ended, the engine's events, and the packets on
/// the wire (time, direction as the engine sees it, IP packet).
#[derive(Debug)]
pub struct Run {
    pub outcome: Outcome,
    pub events: Vec<Event>,
    pub wire: Vec<(Instant, Dir, Vec<u8>)>,
}

impl Run {
    pub fn failed(outcome: Outcome) -> Run {
        Run {
            outcome,
            events: Vec::new(),
            wire: Vec::new(),
        }
    }

    pub fn execute(src: &str, opts: &Options) -> Run {
        let script = match parse::parse(src) {
            Ok(s) => s,
            Err(e) => {
                return Run::failed(Outcome::Fail {
                    line: e.pos.line,
                    col: Some(e.pos.col),
                    msg: e.msg,
                });
            }
        };
        let mut header = Header::default();
        let mut cfg = Config {
            seed: 0x7063_6b74_6472_696c,
            ..Config::profile(opts.profile)
        };
        for (name, value, line) in &script.options {
            if let Err(what) = setup::header_option(&mut header, name, value) {
                return Run::failed(Outcome::Unsupported { line: *line, what });
            }
        }
        for (cmd, line) in &script.init {
            for (k, l) in setup::shell_lines(cmd) {
                if let Err(what) = setup::shell_line(&mut cfg, &l) {
                    return Run::failed(Outcome::Unsupported {
                        line: line + k,
                        what,
                    });
                }
            }
        }
        // Everything is checked before anything runs: a script tcpscope
        // cannot play in full is UNSUPPORTED, never half run.
        for ev in &script.events {
            if let Some(what) = unsupported(ev) {
                return Run::failed(Outcome::Unsupported {
                    line: ev.line,
                    what,
                });
            }
        }
        let ipv6 = header.ipv6.unwrap_or(opts.ipv6);
        let mut r = Runner::new(cfg, ipv6, &header, opts);
        let outcome = match r.play(&script.events) {
            Ok(()) => Outcome::Pass,
            Err(o) => o,
        };
        r.collect();
        Run {
            outcome,
            events: r.events,
            wire: r.wire,
        }
    }
}

/// What in an event tcpscope cannot play, found before the run.
fn unsupported(ev: &parse::Event) -> Option<String> {
    match &ev.kind {
        Kind::Unsupported(what) => Some(what.clone()),
        Kind::Packet(_) => None,
        Kind::Code(code) => info::parse_block(code).err(),
        Kind::Command(cmd) => {
            let mut cfg = Config::default();
            setup::shell_lines(cmd)
                .into_iter()
                .find_map(|(_, l)| setup::shell_line(&mut cfg, &l).err())
        }
        Kind::Syscall(c) => syscall_unsupported(c).map(|why| format!("{} ({why})", ev.text)),
    }
}

fn syscall_unsupported(c: &Syscall) -> Option<&'static str> {
    let arg = |i: usize| c.args.get(i).and_then(Expr::name).unwrap_or("");
    match c.name.as_str() {
        "socket" => (arg(1) != "SOCK_STREAM").then_some("only SOCK_STREAM sockets"),
        "bind" | "listen" | "accept" | "connect" | "close" | "read" | "write" | "send" | "recv" => {
            None
        }
        "shutdown" => match arg(1) {
            "SHUT_RD" | "SHUT_WR" | "SHUT_RDWR" => None,
            _ => Some("only SHUT_RD, SHUT_WR and SHUT_RDWR"),
        },
        "fcntl" => match arg(1) {
            "F_SETFL" | "F_GETFL" => None,
            _ => Some("only F_SETFL and F_GETFL"),
        },
        "setsockopt" | "getsockopt" => match arg(2) {
            "SO_REUSEADDR" | "SO_SNDBUF" | "SO_RCVBUF" | "SO_KEEPALIVE" | "SO_LINGER"
            | "TCP_NODELAY" | "TCP_KEEPIDLE" | "TCP_KEEPINTVL" | "TCP_KEEPCNT" | "IP_TOS"
            | "IP_MTU_DISCOVER" | "TCP_CONGESTION" | "TCP_MAXSEG" => None,
            "TCP_USER_TIMEOUT" if c.name == "setsockopt" => None,
            "SO_ERROR" if c.name == "getsockopt" => None,
            _ => Some("this socket option is not modelled"),
        },
        _ => Some("this system call is not modelled"),
    }
}

#[derive(Debug)]
enum Fd {
    /// A socket not yet listening or connected.
    Fresh {
        bound: Option<u16>,
    },
    Listener(u16),
    Conn(ConnId),
}

#[derive(Debug)]
struct Sock {
    fd: Fd,
    nonblock: bool,
    /// shutdown(SHUT_RD or SHUT_RDWR) was called: reads return end of
    /// file once what was queued is read.
    rd_shut: bool,
    /// SO_LINGER with a zero timeout: close aborts.
    linger_zero: bool,
    /// SO_ERROR not yet read.
    error: Option<TcpError>,
    keepalive: Keepalive,
    keepalive_on: bool,
    /// SO_SNDBUF and SO_RCVBUF as set (the doubled values Linux keeps).
    bufs: SockBufs,
}

/// A blocking call waiting for the engine.
#[derive(Debug)]
struct Pending {
    line: usize,
    call: Syscall,
    /// When it must return, in run time (µs), if the script says.
    end: Option<i64>,
    /// Bytes a blocking write has queued so far.
    written: usize,
}

struct Runner {
    e: Engine,
    now: Instant,
    local_ip: IpAddr,
    remote_ip: IpAddr,
    tol_usecs: i64,
    tol_percent: f64,
    ts_tick: Option<i64>,
    /// The header's `--mss`: the GSO size of injected packets.
    gso_mss: Option<u16>,
    socks: BTreeMap<i64, Sock>,
    /// The connection the script's packets belong to.
    conn: Option<ConnId>,
    local_port: u16,
    local_isn: Option<u32>,
    ts_first: Option<(u32, u32)>,
    ts_map: HashMap<u32, u32>,
    /// Sent by the engine and not yet matched: (time, packet).
    out: VecDeque<(Instant, Vec<u8>)>,
    pending: Option<Pending>,
    /// The outcome of a blocking call that returned (line, error).
    pending_error: Option<Outcome>,
    events: Vec<Event>,
    wire: Vec<(Instant, Dir, Vec<u8>)>,
    narrate: bool,
    /// The last id an injected packet carried.
    in_id: u64,
    /// The segment event the line being played is about: the wire segment
    /// an outbound line was matched against (right or wrong), the segment
    /// an inbound line injected.
    explain: Option<Event>,
    /// The outbound line that did not match: (expected, got, the difference).
    mismatch: Option<(String, String, String)>,
}

fn fail(line: usize, msg: impl Into<String>) -> Outcome {
    Outcome::Fail {
        line,
        col: None,
        msg: msg.into(),
    }
}

fn secs(us: i64) -> String {
    format!("{:.6}", us as f64 / 1e6)
}

fn errno(e: &TcpError) -> &'static str {
    match e {
        TcpError::WouldBlock => "EAGAIN",
        TcpError::Reset => "ECONNRESET",
        TcpError::Refused => "ECONNREFUSED",
        TcpError::TimedOut(_) => "ETIMEDOUT",
        TcpError::Closing => "EPIPE",
        TcpError::NoSuchConnection => "ENOTCONN",
        TcpError::AddrInUse(_) => "EADDRINUSE",
        TcpError::TableFull | TcpError::NoEphemeralPort => "EAGAIN",
        TcpError::NoLocalAddress(_) => "EADDRNOTAVAIL",
    }
}

/// A call's result: the return value or -1 and the errno.
type CallResult = Result<i64, &'static str>;

impl Runner {
    fn new(cfg: Config, ipv6: bool, header: &Header, opts: &Options) -> Runner {
        // The kernel selftests' addresses (docs/drill.md, Running packetdrill
        // scripts).
        let (local_ip, remote_ip): (IpAddr, IpAddr) = if ipv6 {
            (
                "fd3d:a0b:17d6::1".parse().expect("address"),
                "fd3d:fa7b:d17d::1".parse().expect("address"),
            )
        } else {
            (
                "192.168.0.1".parse().expect("address"),
                "192.0.2.1".parse().expect("address"),
            )
        };
        let mut cfg = cfg;
        if ipv6 {
            // The kernel's runner gives its IPv6 tunnel an MTU of 1520, so
            // that the scripts' MSS 1460 holds for both families.
            cfg.mss += crate::wire::IPV6_EXTRA;
        }
        let mut e = Engine::new(cfg, "tcpscope", local_ip);
        e.set_segment_ids(1, 2);
        Runner {
            e,
            now: Instant::ZERO,
            local_ip,
            remote_ip,
            tol_usecs: opts
                .tolerance_usecs
                .or(header.tolerance_usecs)
                .unwrap_or(4000),
            tol_percent: header.tolerance_percent,
            ts_tick: header.ts_tick_usecs,
            gso_mss: header.mss,
            socks: BTreeMap::new(),
            conn: None,
            local_port: LOCAL_PORT,
            local_isn: None,
            ts_first: None,
            ts_map: HashMap::new(),
            out: VecDeque::new(),
            pending: None,
            pending_error: None,
            events: Vec::new(),
            wire: Vec::new(),
            narrate: opts.narrate,
            in_id: 0,
            explain: None,
            mismatch: None,
        }
    }

    fn now_us(&self) -> i64 {
        self.now.micros() as i64
    }

    /// What the engine sent and said since the last call.
    fn collect(&mut self) {
        while let Some(t) = self.e.poll_transmit() {
            self.wire.push((self.now, Dir::Out, t.packet.clone()));
            self.out.push_back((self.now, t.packet));
        }
        self.events.extend(self.e.drain_events());
    }

    /// Move virtual time to `t`, firing timers on the way (and returning a
    /// blocking call as soon as it can).
    fn advance_to(&mut self, t: Instant) {
        while let Some(at) = self.e.poll_at() {
            if at > t {
                break;
            }
            self.now = self.now.max(at);
            self.e.on_timer(self.now);
            self.collect();
            self.try_pending();
        }
        self.now = self.now.max(t);
        self.collect();
        self.try_pending();
    }

    /// Play the script; with `narrate`, the line that failed is told too.
    fn play(&mut self, events: &[parse::Event]) -> Result<(), Outcome> {
        let r = self.play_lines(events);
        if let (true, Err(o)) = (self.narrate, &r) {
            self.collect();
            let text = match (o, self.mismatch.take()) {
                (Outcome::Fail { line, .. }, Some((want, got, what))) => {
                    format!("line {line} expected: {want} · got: {got} ({what})")
                }
                (Outcome::Fail { line, msg, .. }, None) => format!("line {line}: {msg}"),
                (Outcome::Unsupported { line, what }, _) => {
                    format!("line {line}: unsupported: {what}")
                }
                (Outcome::Pass, _) => String::new(),
            };
            let explains = self.explain.take();
            self.narration(text, explains);
        }
        r
    }

    /// A `narration` event now, after everything the engine said so far.
    fn narration(&mut self, text: String, explains: Option<Event>) {
        let t = self
            .events
            .iter()
            .map(|e| e.t)
            .fold(self.now.secs_f64(), f64::max);
        self.events.push(Event {
            t,
            host: None,
            conn: None,
            body: crate::event::Body::Narration {
                lang: "en".into(),
                text,
                explains: explains.map(Box::new),
                chapter: None,
            },
        });
    }

    /// The latest segment event in direction `dir` the engine reported
    /// with these fields (the one a script line is about).
    fn segment_event(&self, dir: Dir, seg: &Segment) -> Option<Event> {
        self.events
            .iter()
            .rev()
            .find(|e| match &e.body {
                crate::event::Body::Segment(s) => {
                    s.dir == dir
                        && s.seg.seq == seg.seq.0
                        && s.seg.ack == seg.ack.0
                        && s.seg.len as usize == seg.payload.len()
                        && s.seg.flags.0 == seg.flags.0
                }
                _ => false,
            })
            .cloned()
    }

    fn play_lines(&mut self, events: &[parse::Event]) -> Result<(), Outcome> {
        // (script time of the previous event, whether it was inbound)
        let mut last: Option<(i64, bool)> = None;
        for ev in events {
            let inbound = matches!(&ev.kind, Kind::Packet(p) if p.dir == Direction::In);
            let base = match last {
                Some((t, true)) if inbound => t,
                _ => self.now_us(),
            };
            let (start, end) = match ev.time {
                Time::Any => (self.now_us(), None),
                Time::Abs(t) => (t, None),
                Time::Rel(t) => (base + t, None),
                Time::AbsRange(a, b) => (a, Some(b)),
                Time::RelRange(a, b) => (base + a, Some(base + b)),
            };
            let tol = match last {
                Some((lt, _)) => self
                    .tol_usecs
                    .max((self.tol_percent / 100.0 * (start - lt) as f64) as i64),
                None => self.tol_usecs,
            };
            self.explain = None;
            if let Some(o) = self.pending_error.take() {
                return Err(o);
            }
            match &ev.kind {
                Kind::Packet(p) if p.dir == Direction::Out => {
                    self.outbound(ev.line, p, ev.time, start, end, tol)?;
                }
                _ => {
                    if ev.time != Time::Any && self.now_us() > start + tol {
                        let what = if inbound {
                            "inbound packet"
                        } else {
                            "system call start"
                        };
                        return Err(fail(
                            ev.line,
                            format!(
                                "timing error: expected {what} at {} sec but happened at {} sec; tolerance {} sec",
                                secs(start),
                                secs(self.now_us()),
                                secs(tol)
                            ),
                        ));
                    }
                    self.advance_to(Instant::from_micros(start.max(0) as u64));
                    if let Some(o) = self.pending_error.take() {
                        return Err(o);
                    }
                    match &ev.kind {
                        Kind::Packet(p) => self.inbound(ev.line, p)?,
                        Kind::Syscall(c) => {
                            let end = c.end.map(|e| match ev.time {
                                Time::Abs(_) | Time::AbsRange(..) => e,
                                _ => base + e,
                            });
                            self.syscall(ev.line, c, end, tol)?
                        }
                        Kind::Code(code) => self.code(ev.line, code)?,
                        Kind::Command(cmd) => {
                            for (_, l) in setup::shell_lines(cmd) {
                                setup::shell_line(self.e.config_mut(), &l).map_err(|what| {
                                    Outcome::Unsupported {
                                        line: ev.line,
                                        what,
                                    }
                                })?;
                            }
                        }
                        Kind::Unsupported(what) => {
                            return Err(Outcome::Unsupported {
                                line: ev.line,
                                what: what.clone(),
                            });
                        }
                    }
                }
            }
            self.collect();
            self.try_pending();
            if let Some(o) = self.pending_error.take() {
                return Err(o);
            }
            if self.narrate {
                let explains = self.explain.take();
                self.narration(format!("line {}: {}", ev.line, ev.text), explains);
            }
            last = Some((start, inbound));
        }
        if let Some(p) = &self.pending {
            return Err(fail(
                p.line,
                format!("the blocking {} never returned", p.call.name),
            ));
        }
        Ok(())
    }

    // ----- packets ----------------------------------------------------------

    fn local_addr(&self) -> SocketAddr {
        SocketAddr::new(self.local_ip, self.local_port)
    }
    fn remote_addr(&self) -> SocketAddr {
        SocketAddr::new(self.remote_ip, REMOTE_PORT)
    }

    fn inbound(&mut self, line: usize, p: &Packet) -> Result<(), Outcome> {
        let flags = script_flags(&p.flags);
        let local_isn = self.local_isn.unwrap_or(0);
        let mut opts = TcpOptions::default();
        if let Opts::List(list) = &p.opts {
            for o in list {
                match o {
                    Opt::Nop | Opt::Eol => {}
                    Opt::Mss(m) => opts.mss = Some(*m),
                    Opt::SackOk => opts.sack_perm = true,
                    Opt::Wscale(w) => opts.wscale = Some(*w),
                    Opt::Ts { val, ecr } => {
                        let live = if let Some(v) = self.ts_map.get(ecr) {
                            *v
                        } else if let Some((s, a)) = self.ts_first {
                            ecr.wrapping_sub(s).wrapping_add(a)
                        } else if *ecr == 0 {
                            0
                        } else {
                            return Err(fail(
                                line,
                                format!(
                                    "unable to infer live TS ecr for script TS ecr {ecr}: no matching or preceding outbound TS val"
                                ),
                            ));
                        };
                        opts.timestamp = Some((*val, live));
                    }
                    Opt::Sack(blocks) => {
                        opts.sack = blocks
                            .iter()
                            .map(|(a, b)| {
                                (
                                    SeqNum(a.wrapping_add(local_isn)),
                                    SeqNum(b.wrapping_add(local_isn)),
                                )
                            })
                            .collect()
                    }
                }
            }
        }
        let seg = Segment {
            src: self.remote_addr(),
            dst: self.local_addr(),
            seq: SeqNum(p.seq.wrapping_add(REMOTE_ISN)),
            // packetdrill maps an ACK's number onto the local ISN whether
            // the script wrote one or not (an omitted one is 0: ISN + 0).
            ack: SeqNum(if flags.ack() {
                p.ack.unwrap_or(0).wrapping_add(local_isn)
            } else {
                p.ack.map_or(0, |a| a.wrapping_add(local_isn))
            }),
            flags,
            window: p.win.unwrap_or(0).min(65535) as u16,
            urgent: 0,
            options: opts,
            payload: vec![0; p.len as usize],
        };
        let packet = seg.emit();
        self.wire.push((self.now, Dir::In, packet.clone()));
        // Even ids for the injected packets, the engine's own are odd: the
        // ladder draws one arrow per id.
        self.in_id += 2;
        match self.gso_mss.map(u32::from) {
            Some(m) if seg.payload.len() as u32 > m => {
                let gro = crate::event::Gro {
                    segs: (seg.payload.len() as u32).div_ceil(m),
                    size: m,
                };
                self.e.receive_gro(self.now, self.in_id, &packet, gro);
            }
            _ => self.e.receive(self.now, self.in_id, &packet),
        }
        if self.narrate {
            self.collect();
            self.explain = self.segment_event(Dir::In, &seg);
        }
        Ok(())
    }

    fn outbound(
        &mut self,
        line: usize,
        p: &Packet,
        time: Time,
        start: i64,
        end: Option<i64>,
        tol: i64,
    ) -> Result<(), Outcome> {
        let latest =
            Instant::from_micros((end.unwrap_or(start) + tol).max(0) as u64) + OUTBOUND_WAIT;
        // The engine's next packet, waiting for timers if none is queued.
        while self.out.is_empty() {
            match self.e.poll_at() {
                Some(at) if at <= latest => self.advance_to(at),
                _ => {
                    return Err(fail(
                        line,
                        format!(
                            "expected {p} at {} sec but the engine sent nothing",
                            secs(start)
                        ),
                    ));
                }
            }
        }
        let (sent_at, first) = self.out.pop_front().expect("queued");
        let mut segs = vec![parse_out(&first)];
        // A TSO aggregate written as one packet: consecutive wire segments.
        let mut total = segs[0].0.payload.len();
        while total < p.len as usize
            && !segs[0].0.flags.syn()
            && let Some((_, next)) = self.out.front()
        {
            let (seg, _) = parse_out(next);
            let last = &segs[segs.len() - 1].0;
            if seg.seq != last.seq + last.payload.len() || seg.payload.is_empty() {
                break;
            }
            total += seg.payload.len();
            let next = self.out.pop_front().expect("queued").1;
            segs.push(parse_out(&next));
        }
        if self.local_isn.is_none() && segs[0].0.flags.syn() {
            self.local_isn = Some(segs[0].0.seq.0.wrapping_sub(p.seq));
            if let Some(c) = self.e.find(
                SocketAddr::new(self.local_ip, segs[0].0.src.port()),
                self.remote_addr(),
            ) {
                self.conn.get_or_insert(c);
            }
        }
        let got = self.describe(&segs);
        if self.narrate {
            self.explain = self.segment_event(Dir::Out, &segs[0].0);
        }
        let mismatch = self.compare(p, &segs);
        if let Some(what) = mismatch {
            if self.narrate {
                self.mismatch = Some((p.to_string(), got.clone(), what.clone()));
            }
            return Err(fail(line, format!("expected {p} got {got} ({what})")));
        }
        let actual = sent_at.micros() as i64;
        let (lo, hi) = (start, end.unwrap_or(start));
        if time != Time::Any && (actual < lo - tol || actual > hi + tol) {
            return Err(fail(
                line,
                if end.is_some() {
                    format!(
                        "timing error: expected outbound packet in time range {}~{} sec but happened at {} sec",
                        secs(lo),
                        secs(hi),
                        secs(actual)
                    )
                } else {
                    format!(
                        "timing error: expected outbound packet at {} sec but happened at {} sec; tolerance {} sec",
                        secs(lo),
                        secs(actual),
                        secs(tol)
                    )
                },
            ));
        }
        Ok(())
    }

    /// The wire segments as the script would write them (relative numbers).
    fn describe(&self, segs: &[(Segment, Vec<RawOpt>)]) -> String {
        let (first, opts) = &segs[0];
        let last = &segs[segs.len() - 1].0;
        let lisn = self.local_isn.unwrap_or(0);
        let len: usize = segs.iter().map(|(s, _)| s.payload.len()).sum();
        let mut flags = Flags(first.flags.0 | last.flags.0);
        if segs.len() > 1 {
            flags = Flags((first.flags.0 & !(Flags::PSH.0 | Flags::FIN.0)) | last.flags.0);
        }
        let seq = first.seq.0.wrapping_sub(lisn);
        let mut s = format!(
            "> {} {}:{}({})",
            flag_letters(flags),
            seq,
            seq.wrapping_add(len as u32),
            len
        );
        if first.flags.ack() {
            s.push_str(&format!(" ack {}", first.ack.0.wrapping_sub(REMOTE_ISN)));
        }
        s.push_str(&format!(" win {}", first.window));
        if !opts.is_empty() {
            let v: Vec<String> = opts.iter().map(|o| self.raw_text(o)).collect();
            s.push_str(&format!(" <{}>", v.join(",")));
        }
        if segs.len() > 1 {
            s.push_str(&format!(" ({} wire segments)", segs.len()));
        }
        s
    }

    fn raw_text(&self, o: &RawOpt) -> String {
        match o {
            RawOpt::Known(Opt::Ts { val, ecr }) => {
                let v = match self.ts_first {
                    Some((s, a)) => val.wrapping_sub(a).wrapping_add(s),
                    None => *val,
                };
                format!("TS val {v} ecr {ecr}")
            }
            RawOpt::Known(Opt::Sack(b)) => Opt::Sack(
                b.iter()
                    .map(|(a, c)| (a.wrapping_sub(REMOTE_ISN), c.wrapping_sub(REMOTE_ISN)))
                    .collect(),
            )
            .to_string(),
            RawOpt::Known(o) => o.to_string(),
            RawOpt::Other(k) => format!("kind {k}"),
        }
    }

    /// The first difference between the script's packet and what was sent.
    fn compare(&mut self, p: &Packet, segs: &[(Segment, Vec<RawOpt>)]) -> Option<String> {
        let lisn = self.local_isn.unwrap_or(0);
        let want = script_flags(&p.flags);
        for (k, (s, _)) in segs.iter().enumerate() {
            let last = k + 1 == segs.len();
            // A segment before the last may end a packet of its own: the
            // script's packet then stands for several TSO packets, which
            // packetdrill joins without looking at their PSH bits (only the
            // last one's flags count), each packet of more than one segment
            // carrying PSH (`Config::min_tso_segs`).
            let (want_k, ignore) = if last {
                (want, 0)
            } else {
                (Flags(want.0 & !(Flags::PSH.0 | Flags::FIN.0)), Flags::PSH.0)
            };
            if s.flags.0 & !(Flags::ECE.0 | Flags::CWR.0 | Flags::URG.0 | ignore) != want_k.0 {
                return Some(format!(
                    "flags {} instead of {}",
                    flag_letters(s.flags),
                    flag_letters(want_k)
                ));
            }
        }
        let (first, opts) = &segs[0];
        let seq = first.seq.0.wrapping_sub(lisn);
        if seq != p.seq {
            return Some(format!("seq {seq} instead of {}", p.seq));
        }
        let len: usize = segs.iter().map(|(s, _)| s.payload.len()).sum();
        if len != p.len as usize {
            return Some(format!("{len} bytes instead of {}", p.len));
        }
        if let Some(a) = p.ack {
            let ack = first.ack.0.wrapping_sub(REMOTE_ISN);
            if ack != a {
                return Some(format!("ack {ack} instead of {a}"));
            }
        }
        if let Some(w) = p.win
            && u32::from(first.window) != w
        {
            return Some(format!("win {} instead of {w}", first.window));
        }
        match &p.opts {
            Opts::Any | Opts::Unsupported(_) => None,
            Opts::Absent if opts.is_empty() => None,
            Opts::Absent => Some("options sent where the script has none".into()),
            Opts::List(want) => self.compare_opts(want, opts),
        }
    }

    fn compare_opts(&mut self, want: &[Opt], got: &[RawOpt]) -> Option<String> {
        if want.len() != got.len() {
            return Some("bad outbound TCP options".into());
        }
        for (w, g) in want.iter().zip(got) {
            let RawOpt::Known(g) = g else {
                return Some("bad outbound TCP options".into());
            };
            match (w, g) {
                (Opt::Ts { val: sv, ecr: se }, Opt::Ts { val: av, ecr: ae }) => {
                    let (s0, a0) = *self.ts_first.get_or_insert((*sv, *av));
                    self.ts_map.insert(*sv, *av);
                    let mapped = s0.wrapping_add(av.wrapping_sub(a0));
                    if let Some(tick) = self.ts_tick {
                        let tol = self
                            .tol_usecs
                            .max((self.tol_percent / 100.0 * self.now_us() as f64) as i64);
                        if i64::from(mapped.wrapping_sub(*sv) as i32).abs() * tick > tol {
                            return Some(format!(
                                "TS val {mapped} instead of {sv}: bad outbound TCP timestamp value, tolerance {tol}"
                            ));
                        }
                    }
                    if ae != se {
                        return Some(format!("TS ecr {ae} instead of {se}"));
                    }
                }
                (Opt::Sack(wb), Opt::Sack(gb)) => {
                    let rel: Vec<(u32, u32)> = gb
                        .iter()
                        .map(|(a, b)| (a.wrapping_sub(REMOTE_ISN), b.wrapping_sub(REMOTE_ISN)))
                        .collect();
                    if &rel != wb {
                        return Some(format!(
                            "{} instead of {}",
                            Opt::Sack(rel),
                            Opt::Sack(wb.clone())
                        ));
                    }
                }
                (w, g) if w == g => {}
                (w, g) => return Some(format!("option {g} instead of {w}")),
            }
        }
        None
    }

    // ----- system calls -----------------------------------------------------

    fn sock(&mut self, line: usize, c: &Syscall) -> Result<i64, Outcome> {
        let fd = c.args.first().and_then(Expr::int).ok_or_else(|| {
            fail(
                line,
                format!("{}: the first argument must be a file descriptor", c.name),
            )
        })?;
        if !self.socks.contains_key(&fd) {
            return Err(fail(
                line,
                format!("{}: fd {fd} is not a socket of the script", c.name),
            ));
        }
        Ok(fd)
    }

    fn syscall(
        &mut self,
        line: usize,
        c: &Syscall,
        end: Option<i64>,
        tol: i64,
    ) -> Result<(), Outcome> {
        let got = match c.name.as_str() {
            "socket" => {
                let fd = self.script_fd(c);
                let ka = self.e.config().keepalive;
                self.socks.insert(
                    fd,
                    Sock {
                        fd: Fd::Fresh { bound: None },
                        nonblock: false,
                        linger_zero: false,
                        rd_shut: false,
                        error: None,
                        keepalive: ka,
                        keepalive_on: false,
                        bufs: SockBufs::default(),
                    },
                );
                Ok(fd)
            }
            _ => {
                let fd = self.sock(line, c)?;
                match self.attempt(line, c, fd, 0)? {
                    Attempt::Done(r) => r,
                    Attempt::Block(written) => {
                        if self.socks[&fd].nonblock {
                            Err("EAGAIN")
                        } else if c.end.is_none() {
                            return Err(fail(
                                line,
                                format!(
                                    "{} blocked: the script expects it to return at once (write +t...t2 for a blocking call)",
                                    c.name
                                ),
                            ));
                        } else {
                            self.pending = Some(Pending {
                                line,
                                call: c.clone(),
                                end,
                                written,
                            });
                            return Ok(());
                        }
                    }
                }
            }
        };
        self.check_result(line, c, got)?;
        if let Some(e) = end {
            let now = self.now_us();
            if (now - e).abs() > tol {
                return Err(fail(
                    line,
                    format!(
                        "timing error: expected {} to return at {} sec but it returned at {} sec",
                        c.name,
                        secs(e),
                        secs(now)
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_result(&self, line: usize, c: &Syscall, got: CallResult) -> Result<(), Outcome> {
        let want_ret = c.ret.int();
        match (got, want_ret) {
            (_, None) if c.ret == Expr::Ellipsis => Ok(()),
            (Ok(v), Some(w)) if v == w => Ok(()),
            (Err(e), Some(-1)) if c.errno.as_deref().is_none_or(|w| w == e) => Ok(()),
            (Ok(v), _) => Err(fail(
                line,
                format!("expected {} to return {} got {v}", c.name, expected_text(c)),
            )),
            (Err(e), _) => Err(fail(
                line,
                format!(
                    "expected {} to return {} got -1 {e}",
                    c.name,
                    expected_text(c)
                ),
            )),
        }
    }

    /// Retry the blocking call, if one is waiting.
    fn try_pending(&mut self) {
        let Some(p) = self.pending.take() else {
            return;
        };
        let fd = p.call.args.first().and_then(Expr::int).unwrap_or(-1);
        match self.attempt(p.line, &p.call, fd, p.written) {
            Ok(Attempt::Block(written)) => self.pending = Some(Pending { written, ..p }),
            Ok(Attempt::Done(r)) => {
                if let Err(o) = self.check_result(p.line, &p.call, r) {
                    self.pending_error = Some(o);
                } else if let Some(e) = p.end {
                    let now = self.now_us();
                    let tol = self.tol_usecs;
                    if (now - e).abs() > tol {
                        self.pending_error = Some(fail(
                            p.line,
                            format!(
                                "timing error: expected the blocking {} to return at {} sec but it returned at {} sec",
                                p.call.name,
                                secs(e),
                                secs(now)
                            ),
                        ));
                    }
                }
            }
            Err(o) => self.pending_error = Some(o),
        }
    }

    fn attempt(
        &mut self,
        line: usize,
        c: &Syscall,
        fd: i64,
        written: usize,
    ) -> Result<Attempt, Outcome> {
        let arg_int = |i: usize| c.args.get(i).and_then(Expr::int);
        let arg_name = |i: usize| c.args.get(i).and_then(Expr::name).unwrap_or("").to_string();
        let now = self.now;
        let conn = match self.socks.get(&fd).map(|s| &s.fd) {
            Some(Fd::Conn(c)) => Some(*c),
            _ => None,
        };
        let done = |r: CallResult| Ok(Attempt::Done(r));
        match c.name.as_str() {
            "bind" => {
                if let Some(s) = self.socks.get_mut(&fd) {
                    s.fd = Fd::Fresh {
                        bound: Some(LOCAL_PORT),
                    };
                }
                done(Ok(0))
            }
            "listen" => {
                let backlog = arg_int(1).map(|b| b.max(1) as usize);
                let port = match self.socks[&fd].fd {
                    Fd::Fresh { bound } => bound.unwrap_or(LOCAL_PORT),
                    _ => return done(Err("EINVAL")),
                };
                match self.e.listen(now, port, backlog) {
                    Ok(()) => {
                        let s = self.socks.get_mut(&fd).expect("fd");
                        s.fd = Fd::Listener(port);
                        self.e.set_listen_bufs(port, s.bufs);
                        self.local_port = port;
                        done(Ok(0))
                    }
                    Err(e) => done(Err(errno(&e))),
                }
            }
            "accept" => self.accept(fd, c),
            "connect" => self.connect(fd, conn),
            "write" | "send" => self.write(line, c, fd, conn, written),
            "read" | "recv" => {
                let Some(cid) = conn else {
                    return done(Err("ENOTCONN"));
                };
                let n = arg_int(2).unwrap_or(0).max(0) as usize;
                let rd_shut = self.socks[&fd].rd_shut;
                let mut buf = vec![0; n];
                match self.e.recv(now, cid, &mut buf) {
                    // Linux's tcp_recvmsg returns what is queued, then end
                    // of file once RCV_SHUTDOWN is set.
                    Ok(0) if rd_shut => done(Ok(0)),
                    Ok(k) => done(Ok(k as i64)),
                    Err(TcpError::WouldBlock) if rd_shut => done(Ok(0)),
                    Err(TcpError::WouldBlock) => Ok(Attempt::Block(0)),
                    Err(e) => done(Err(errno(&e))),
                }
            }
            "close" => {
                let s = self.socks.remove(&fd).expect("fd");
                match s.fd {
                    Fd::Fresh { .. } => {}
                    Fd::Listener(port) => self.e.unlisten(now, port),
                    Fd::Conn(cid) => {
                        let _ = if s.linger_zero {
                            self.e.abort(now, cid)
                        } else {
                            self.e.close(now, cid)
                        };
                    }
                }
                done(Ok(0))
            }
            "shutdown" => {
                let Some(cid) = conn else {
                    return done(Err("ENOTCONN"));
                };
                let how = arg_name(1);
                if how == "SHUT_RD" || how == "SHUT_RDWR" {
                    self.socks.get_mut(&fd).expect("fd").rd_shut = true;
                }
                if how == "SHUT_RD" {
                    // Only the socket's reading end: nothing on the wire
                    // (Linux's tcp_shutdown acts on SEND_SHUTDOWN alone).
                    return done(Ok(0));
                }
                match self.e.shutdown(now, cid) {
                    Ok(()) => done(Ok(0)),
                    Err(e) => done(Err(errno(&e))),
                }
            }
            "fcntl" => {
                let s = self.socks.get_mut(&fd).expect("fd");
                if arg_name(1) == "F_GETFL" {
                    // O_RDWR, and O_NONBLOCK (04000) when set.
                    return done(Ok(2 | if s.nonblock { 0o4000 } else { 0 }));
                }
                let names = match c.args.get(2) {
                    Some(Expr::Or(v)) => {
                        v.iter().filter_map(Expr::name).map(String::from).collect()
                    }
                    Some(Expr::Name(n)) => vec![n.clone()],
                    _ => Vec::new(),
                };
                s.nonblock = names.iter().any(|n| n == "O_NONBLOCK");
                done(Ok(0))
            }
            "setsockopt" => self.setsockopt(fd, c, conn),
            "getsockopt" => self.getsockopt(line, c, fd, conn),
            other => Err(Outcome::Unsupported {
                line,
                what: format!("{other}(…)"),
            }),
        }
    }

    /// `accept`: a connection from the listener's queue, under the script's
    /// descriptor.
    fn accept(&mut self, fd: i64, c: &Syscall) -> Result<Attempt, Outcome> {
        let done = |r: CallResult| Ok(Attempt::Done(r));
        let Fd::Listener(port) = self.socks[&fd].fd else {
            return done(Err("EINVAL"));
        };
        match self.e.accept(port) {
            Some(cid) => {
                let nfd = self.script_fd(c);
                // An accepted socket has its listener's buffers (Linux).
                let bufs = self.socks[&fd].bufs;
                let ka = self.e.config().keepalive;
                self.socks.insert(
                    nfd,
                    Sock {
                        fd: Fd::Conn(cid),
                        nonblock: false,
                        linger_zero: false,
                        rd_shut: false,
                        error: None,
                        keepalive: ka,
                        keepalive_on: false,
                        bufs,
                    },
                );
                self.conn = Some(cid);
                done(Ok(nfd))
            }
            None => Ok(Attempt::Block(0)),
        }
    }

    /// `connect`: an active open, blocking until ESTABLISHED unless the
    /// socket is non-blocking.
    fn connect(&mut self, fd: i64, conn: Option<ConnId>) -> Result<Attempt, Outcome> {
        let done = |r: CallResult| Ok(Attempt::Done(r));
        let now = self.now;
        if let Some(cid) = conn {
            // A blocking connect waits for ESTABLISHED.
            let info = self.e.info(cid);
            if let Some(reason) = info.closed {
                let e = match reason {
                    crate::tcp::CloseReason::Refused => "ECONNREFUSED",
                    crate::tcp::CloseReason::TimedOut(_) => "ETIMEDOUT",
                    _ => "ECONNRESET",
                };
                return done(Err(e));
            }
            return if info.state.is_synchronized() {
                done(Ok(0))
            } else if self.socks[&fd].nonblock {
                done(Err("EALREADY"))
            } else {
                Ok(Attempt::Block(0))
            };
        }
        let remote = self.remote_addr();
        let bufs = self.socks[&fd].bufs;
        match self.e.connect_with_bufs(now, remote, None, bufs) {
            Ok(cid) => {
                let s = self.socks.get_mut(&fd).expect("fd");
                s.fd = Fd::Conn(cid);
                self.conn = Some(cid);
                let info = self.e.info(cid);
                self.local_port = info.local.port();
                if s.nonblock {
                    done(Err("EINPROGRESS"))
                } else {
                    Ok(Attempt::Block(0))
                }
            }
            Err(e) => done(Err(errno(&e))),
        }
    }

    /// `write`/`send`: into the send buffer, blocking while it is full
    /// unless the socket is non-blocking.
    fn write(
        &mut self,
        line: usize,
        c: &Syscall,
        fd: i64,
        conn: Option<ConnId>,
        written: usize,
    ) -> Result<Attempt, Outcome> {
        let done = |r: CallResult| Ok(Attempt::Done(r));
        let arg_int = |i: usize| c.args.get(i).and_then(Expr::int);
        let now = self.now;
        let Some(cid) = conn else {
            return done(Err("EPIPE"));
        };
        let Some(n) = arg_int(2) else {
            return Err(fail(
                line,
                format!("{}: the length must be a number", c.name),
            ));
        };
        let n = n.max(0) as usize;
        match self.e.send(now, cid, &vec![0; n - written]) {
            Ok(k) if written + k == n => done(Ok(n as i64)),
            Ok(k) if self.socks[&fd].nonblock => {
                if written + k == 0 {
                    done(Err("EAGAIN"))
                } else {
                    done(Ok((written + k) as i64))
                }
            }
            Ok(k) => Ok(Attempt::Block(written + k)),
            Err(e) if written > 0 => {
                let _ = e;
                done(Ok(written as i64))
            }
            Err(e) => done(Err(errno(&e))),
        }
    }

    /// `getsockopt(SO_ERROR)`: the pending error, checked against the
    /// script's expected value.
    fn getsockopt(
        &mut self,
        line: usize,
        c: &Syscall,
        fd: i64,
        conn: Option<ConnId>,
    ) -> Result<Attempt, Outcome> {
        let done = |r: CallResult| Ok(Attempt::Done(r));
        let name = c.args.get(2).and_then(Expr::name).unwrap_or("");
        let want = c.args.get(3).and_then(Expr::int);
        if name == "SO_SNDBUF" || name == "SO_RCVBUF" {
            // What the socket keeps: the doubled value set, else the
            // engine's default.
            let s = &self.socks[&fd];
            let got = if name == "SO_SNDBUF" {
                s.bufs
                    .snd
                    .map_or(self.e.config().send_buf as i64, i64::from)
            } else {
                s.bufs
                    .rcv
                    .map_or(self.e.config().recv_buf as i64, i64::from)
            };
            if want.is_some_and(|w| w != got) {
                return Err(fail(
                    line,
                    format!("expected {name} {} got {got}", want.unwrap_or(0)),
                ));
            }
            return done(Ok(0));
        }
        if name == "TCP_MAXSEG" {
            return self.getsockopt_maxseg(line, c, conn);
        }
        let s = self.socks.get_mut(&fd).expect("fd");
        let err = s.error.take().or_else(|| {
            conn.and_then(|cid| match self.e.info(cid).closed {
                Some(crate::tcp::CloseReason::Refused) => Some(TcpError::Refused),
                Some(crate::tcp::CloseReason::TimedOut(w)) => Some(TcpError::TimedOut(w)),
                Some(crate::tcp::CloseReason::Reset) => Some(TcpError::Reset),
                _ => None,
            })
        });
        let code = match err.as_ref().map(errno) {
            None => 0,
            Some("ECONNREFUSED") => 111,
            Some("ETIMEDOUT") => 110,
            Some("ECONNRESET") => 104,
            Some(_) => -1,
        };
        if want.is_some_and(|w| w != code) {
            return Err(fail(
                line,
                format!("expected SO_ERROR {} got {code}", want.unwrap_or(0)),
            ));
        }
        done(Ok(0))
    }

    /// `getsockopt(TCP_MAXSEG)`, as Linux's do_tcp_getsockopt: a
    /// connection's sending MSS less the options every segment carries
    /// (mss_cache); before one, the value set, else TCP_MSS_DEFAULT (536).
    fn getsockopt_maxseg(
        &mut self,
        line: usize,
        c: &Syscall,
        conn: Option<ConnId>,
    ) -> Result<Attempt, Outcome> {
        let got = match conn.and_then(|cid| self.e.tcb(cid)) {
            Some(t) => t.eff_mss() as i64,
            None => self.e.config().user_mss.map_or(536, i64::from),
        };
        let want = c.args.get(3).and_then(Expr::int);
        if want.is_some_and(|w| w != got) {
            return Err(fail(
                line,
                format!("expected TCP_MAXSEG {} got {got}", want.unwrap_or(0)),
            ));
        }
        Ok(Attempt::Done(Ok(0)))
    }

    fn setsockopt(
        &mut self,
        fd: i64,
        c: &Syscall,
        conn: Option<ConnId>,
    ) -> Result<Attempt, Outcome> {
        let now = self.now;
        let name = c.args.get(2).and_then(Expr::name).unwrap_or("");
        let val = c.args.get(3);
        let int = val.and_then(Expr::int).unwrap_or(0);
        let s = self.socks.get_mut(&fd).expect("fd");
        match name {
            "SO_SNDBUF" | "SO_RCVBUF" => {
                // Linux caps the value at net.core.wmem_max / rmem_max
                // (212992 by default), doubles it for its bookkeeping
                // (socket(7)) and keeps at least SOCK_MIN_SNDBUF (4608) /
                // SOCK_MIN_RCVBUF (2304).
                let v = (int.clamp(0, 212_992) as u32) * 2;
                let mut bufs = SockBufs::default();
                if name == "SO_SNDBUF" {
                    bufs.snd = Some(v.max(4608));
                    s.bufs.snd = bufs.snd;
                } else {
                    bufs.rcv = Some(v.max(2304));
                    s.bufs.rcv = bufs.rcv;
                }
                match s.fd {
                    Fd::Conn(cid) => {
                        let _ = self.e.set_bufs(now, cid, bufs);
                    }
                    Fd::Listener(port) => {
                        self.e.set_listen_bufs(port, bufs);
                    }
                    Fd::Fresh { .. } => {}
                }
            }
            "TCP_NODELAY" => {
                if let Some(cid) = conn {
                    let _ = self.e.set_nodelay(now, cid, int != 0);
                } else {
                    self.e.config_mut().nagle = int == 0;
                }
            }
            "SO_LINGER" => {
                let st = match val {
                    Some(Expr::List(v)) => v.first(),
                    other => other,
                };
                if let Some(Expr::Struct(fields)) = st {
                    let get = |n: &str| {
                        fields
                            .iter()
                            .find(|(k, _)| k == n)
                            .and_then(|(_, e)| e.int())
                    };
                    s.linger_zero = get("l_onoff") == Some(1) && get("l_linger") == Some(0);
                }
            }
            "SO_KEEPALIVE" | "TCP_KEEPIDLE" | "TCP_KEEPINTVL" | "TCP_KEEPCNT" => {
                match name {
                    "SO_KEEPALIVE" => s.keepalive_on = int != 0,
                    "TCP_KEEPIDLE" => s.keepalive.idle = Duration::from_secs(int.max(1) as u64),
                    "TCP_KEEPINTVL" => {
                        s.keepalive.interval = Duration::from_secs(int.max(1) as u64)
                    }
                    _ => s.keepalive.count = int.max(1) as u32,
                }
                let ka = s.keepalive_on.then_some(s.keepalive);
                if let Some(cid) = conn {
                    let _ = self.e.set_keepalive(now, cid, ka);
                }
            }
            "TCP_CONGESTION" => {
                let algo = match val {
                    Some(Expr::Str(s)) => s.as_str(),
                    _ => "",
                };
                match crate::tcp::CcAlgo::from_name(if algo == "reno" { "newreno" } else { algo }) {
                    Some(a) => self.e.config_mut().cc = a,
                    None => return Ok(Attempt::Done(Err("ENOENT"))),
                }
            }
            "TCP_MAXSEG" => {
                // Linux's do_tcp_setsockopt: 0 clears it, else from
                // TCP_MIN_MSS (88) to MAX_TCP_WINDOW (32767). It applies
                // to connections opened after it (the engine's setting).
                if int != 0 && !(88..=32_767).contains(&int) {
                    return Ok(Attempt::Done(Err("EINVAL")));
                }
                self.e.config_mut().user_mss = (int != 0).then_some(int as u16);
            }
            "TCP_USER_TIMEOUT" => {
                // Milliseconds, 0 clears it; negative is EINVAL (Linux's
                // do_tcp_setsockopt). A listener's passes to the
                // connections it accepts, as Linux's do.
                if int < 0 {
                    return Ok(Attempt::Done(Err("EINVAL")));
                }
                let t = (int > 0).then(|| Duration::from_millis(int as u64));
                match conn {
                    Some(cid) => {
                        let _ = self.e.set_user_timeout(now, cid, t);
                    }
                    None => self.e.config_mut().user_timeout = t,
                }
            }
            // Accepted with no effect (docs/drill.md, Running packetdrill scripts).
            _ => {}
        }
        Ok(Attempt::Done(Ok(0)))
    }

    /// The descriptor a new socket gets: the one the script expects the call
    /// to return, as packetdrill maps script descriptors onto its own (a
    /// script may begin at 4), else the lowest free from 3.
    fn script_fd(&self, c: &Syscall) -> i64 {
        match c.ret.int() {
            Some(n) if n >= 0 && !self.socks.contains_key(&n) => n,
            _ => (3..)
                .find(|f| !self.socks.contains_key(f))
                .expect("a free fd"),
        }
    }

    // ----- code blocks ------------------------------------------------------

    fn code(&mut self, line: usize, code: &str) -> Result<(), Outcome> {
        let asserts =
            info::parse_block(code).map_err(|what| Outcome::Unsupported { line, what })?;
        let Some(tcb) = self.conn.and_then(|c| self.e.tcb(c)) else {
            return Err(fail(line, "TCP_INFO: the script has no connection here"));
        };
        for a in asserts {
            let got = info::field(tcb, &a.field, self.now).expect("checked before the run");
            if !a.holds(got) {
                return Err(fail(
                    line,
                    format!("expected {} got {} = {got}", a.text, a.field),
                ));
            }
        }
        Ok(())
    }
}

enum Attempt {
    Done(CallResult),
    /// The call would block; a write has queued this much so far.
    Block(usize),
}

fn expected_text(c: &Syscall) -> String {
    match (&c.ret, &c.errno) {
        (Expr::Int(v), Some(e)) => format!("{v} {e}"),
        (Expr::Int(v), None) => v.to_string(),
        _ => "…".into(),
    }
}

fn script_flags(s: &str) -> Flags {
    let mut f = 0u8;
    for c in s.chars() {
        f |= match c {
            'S' => Flags::SYN.0,
            'F' => Flags::FIN.0,
            'R' => Flags::RST.0,
            'P' => Flags::PSH.0,
            '.' => Flags::ACK.0,
            'E' => Flags::ECE.0,
            'W' => Flags::CWR.0,
            'U' => Flags::URG.0,
            _ => 0,
        };
    }
    Flags(f)
}

fn flag_letters(f: Flags) -> String {
    let mut s = String::new();
    for (b, c) in [
        (Flags::SYN, 'S'),
        (Flags::FIN, 'F'),
        (Flags::RST, 'R'),
        (Flags::PSH, 'P'),
        (Flags::ACK, '.'),
    ] {
        if f.contains(b) {
            s.push(c);
        }
    }
    if s.is_empty() { "-".into() } else { s }
}

/// An option as sent, in order, NOPs included.
#[derive(Clone, Debug, PartialEq, Eq)]
enum RawOpt {
    Known(Opt),
    Other(u8),
}

/// A packet the engine sent, and its options in wire order.
fn parse_out(packet: &[u8]) -> (Segment, Vec<RawOpt>) {
    let seg = wire::parse(packet).expect("the engine emits valid packets");
    let ip_len = match packet[0] >> 4 {
        4 => usize::from(packet[0] & 0x0f) * 4,
        _ => 40,
    };
    let tcp = &packet[ip_len..];
    let doff = usize::from(tcp[12] >> 4) * 4;
    let raw = &tcp[20..doff.max(20)];
    let mut opts = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let kind = raw[i];
        if kind == 0 {
            opts.push(RawOpt::Known(Opt::Eol));
            break;
        }
        if kind == 1 {
            opts.push(RawOpt::Known(Opt::Nop));
            i += 1;
            continue;
        }
        let len = usize::from(*raw.get(i + 1).unwrap_or(&2)).max(2);
        let body = &raw[(i + 2).min(raw.len())..(i + len).min(raw.len())];
        let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        opts.push(match (kind, body.len()) {
            (2, 2) => RawOpt::Known(Opt::Mss(u16::from_be_bytes([body[0], body[1]]))),
            (3, 1) => RawOpt::Known(Opt::Wscale(body[0])),
            (4, 0) => RawOpt::Known(Opt::SackOk),
            (8, 8) => RawOpt::Known(Opt::Ts {
                val: be32(&body[0..4]),
                ecr: be32(&body[4..8]),
            }),
            (5, n) if n % 8 == 0 => RawOpt::Known(Opt::Sack(
                body.chunks(8)
                    .map(|c| (be32(&c[0..4]), be32(&c[4..8])))
                    .collect(),
            )),
            (k, _) => RawOpt::Other(k),
        });
        i += len;
    }
    (seg, opts)
}
