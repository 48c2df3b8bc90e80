//! The grammar of packetdrill scripts (README, `tcpscope drill`): header
//! options, timed events (packets, system calls, `%{ }%` blocks, backtick
//! commands), comments. A malformed script is one sentence with its line
//! and column; a construct that is well formed but that tcpscope does not
//! model is kept as [`Kind::Unsupported`] with its text, for the runner to
//! report and never run.

use std::fmt;

/// A place in the script, both 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

/// A grammar error: one sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub pos: Pos,
    pub msg: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.pos.line, self.pos.col, self.msg)
    }
}

/// When an event happens, in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Time {
    /// `*`: whenever it happens.
    Any,
    Abs(i64),
    Rel(i64),
    AbsRange(i64, i64),
    RelRange(i64, i64),
}

impl Time {
    pub fn is_relative(self) -> bool {
        matches!(self, Time::Rel(_) | Time::RelRange(..) | Time::Any)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `<`: from the remote to the engine.
    In,
    /// `>`: from the engine to the remote.
    Out,
}

/// One TCP option as the script writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opt {
    Nop,
    Eol,
    Mss(u16),
    SackOk,
    Wscale(u8),
    Ts { val: u32, ecr: u32 },
    Sack(Vec<(u32, u32)>),
}

impl fmt::Display for Opt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Opt::Nop => write!(f, "nop"),
            Opt::Eol => write!(f, "eol"),
            Opt::Mss(m) => write!(f, "mss {m}"),
            Opt::SackOk => write!(f, "sackOK"),
            Opt::Wscale(w) => write!(f, "wscale {w}"),
            Opt::Ts { val, ecr } => write!(f, "TS val {val} ecr {ecr}"),
            Opt::Sack(blocks) => {
                write!(f, "sack")?;
                for (a, b) in blocks {
                    write!(f, " {a}:{b}")?;
                }
                Ok(())
            }
        }
    }
}

/// The options of a packet line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opts {
    /// None written: the packet carries none.
    Absent,
    /// `<...>`: not checked.
    Any,
    List(Vec<Opt>),
    /// An option tcpscope does not know (Fast Open, MD5, …): the packet
    /// line becomes [`Kind::Unsupported`].
    Unsupported(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub dir: Direction,
    /// packetdrill's letters: S F R P . (ACK) E W U.
    pub flags: String,
    pub seq: u32,
    pub end: u32,
    pub len: u32,
    pub ack: Option<u32>,
    pub win: Option<u32>,
    pub opts: Opts,
}

impl Packet {
    pub fn has(&self, c: char) -> bool {
        self.flags.contains(c)
    }
}

impl fmt::Display for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = match self.dir {
            Direction::In => '<',
            Direction::Out => '>',
        };
        write!(
            f,
            "{d} {} {}:{}({})",
            self.flags, self.seq, self.end, self.len
        )?;
        if let Some(a) = self.ack {
            write!(f, " ack {a}")?;
        }
        if let Some(w) = self.win {
            write!(f, " win {w}")?;
        }
        match &self.opts {
            Opts::Absent => Ok(()),
            Opts::Any => write!(f, " <...>"),
            Opts::Unsupported(s) => write!(f, " <{s}>"),
            Opts::List(l) => {
                let s: Vec<String> = l.iter().map(|o| o.to_string()).collect();
                write!(f, " <{}>", s.join(","))
            }
        }
    }
}

/// A system call argument or result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// `...`: anything.
    Ellipsis,
    Int(i64),
    /// A symbol such as SOCK_STREAM or O_NONBLOCK.
    Name(String),
    Str(String),
    /// `[…]`: a pointer to a value (an array in C).
    List(Vec<Expr>),
    /// `{name=value, …}`: a struct.
    Struct(Vec<(String, Expr)>),
    /// `A|B`.
    Or(Vec<Expr>),
}

impl Expr {
    pub fn int(&self) -> Option<i64> {
        match self {
            Expr::Int(v) => Some(*v),
            Expr::List(l) if l.len() == 1 => l[0].int(),
            _ => None,
        }
    }
    pub fn name(&self) -> Option<&str> {
        match self {
            Expr::Name(n) => Some(n),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Syscall {
    pub name: String,
    pub args: Vec<Expr>,
    /// The expected return value.
    pub ret: Expr,
    /// `-1 EINPROGRESS (…)`: the errno's name.
    pub errno: Option<String>,
    /// `+t...t2`: the call blocks and returns at `t2` (of the same kind of
    /// time as its start).
    pub end: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Packet(Packet),
    Syscall(Syscall),
    /// `%{ … }%`: the text inside.
    Code(String),
    /// A backtick command with a time.
    Command(String),
    /// Well formed, but not something tcpscope runs: the construct.
    Unsupported(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub line: usize,
    pub time: Time,
    pub kind: Kind,
    /// The script's text of the event, on one line.
    pub text: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Script {
    /// `--name=value` header options, with their line.
    pub options: Vec<(String, String, usize)>,
    /// Backtick commands before the first event (packetdrill's init
    /// command), with their line.
    pub init: Vec<(String, usize)>,
    pub events: Vec<Event>,
}

/// The system calls the runner plays; others are reported unsupported.
pub const SYSCALLS: &[&str] = &[
    "socket",
    "bind",
    "listen",
    "accept",
    "connect",
    "read",
    "write",
    "send",
    "recv",
    "close",
    "shutdown",
    "setsockopt",
    "getsockopt",
    "fcntl",
];

/// Parse a whole script.
pub fn parse(src: &str) -> Result<Script, ParseError> {
    let mut p = Parser {
        s: src.chars().collect(),
        i: 0,
        line: 1,
        col: 1,
    };
    let mut script = Script::default();
    loop {
        p.skip_space()?;
        let Some(c) = p.peek() else { break };
        let start = p.pos();
        if c == '-' && p.peek_at(1) == Some('-') {
            p.bump();
            p.bump();
            let name = p.word();
            if name.is_empty() {
                return Err(p.err_at(start, "expected an option name after --"));
            }
            let value = if p.peek() == Some('=') {
                p.bump();
                p.rest_of_line().trim().to_string()
            } else {
                String::new()
            };
            script.options.push((name, value, start.line));
            continue;
        }
        if c == '`' {
            let cmd = p.backtick()?;
            if script.events.is_empty() {
                script.init.push((cmd, start.line));
            } else {
                script.events.push(Event {
                    line: start.line,
                    time: Time::Rel(0),
                    text: format!("`{cmd}`"),
                    kind: Kind::Command(cmd),
                });
            }
            continue;
        }
        let ev = p.event()?;
        script.events.push(ev);
    }
    Ok(script)
}

struct Parser {
    s: Vec<char>,
    i: usize,
    line: usize,
    col: usize,
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }
    fn peek_at(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }
    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }
    fn err_at(&self, pos: Pos, msg: impl Into<String>) -> ParseError {
        ParseError {
            pos,
            msg: msg.into(),
        }
    }
    fn err(&self, msg: impl Into<String>) -> ParseError {
        self.err_at(self.pos(), msg)
    }
    /// What is at the current place, for error messages.
    fn here(&self) -> String {
        match self.peek() {
            None => "the end of the script".into(),
            Some('\n') => "the end of the line".into(),
            Some(_) => {
                let t: String = self.s[self.i..]
                    .iter()
                    .take_while(|c| !c.is_whitespace())
                    .take(20)
                    .collect();
                format!("\"{t}\"")
            }
        }
    }
    fn starts_with(&self, t: &str) -> bool {
        t.chars()
            .enumerate()
            .all(|(k, c)| self.peek_at(k) == Some(c))
    }

    /// Blanks, newlines and comments (`//` to the end of the line, `/* */`).
    fn skip_space(&mut self) -> Result<(), ParseError> {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() => {
                    self.bump();
                }
                Some('/') if self.peek_at(1) == Some('/') => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                }
                Some('/') if self.peek_at(1) == Some('*') => {
                    let start = self.pos();
                    self.bump();
                    self.bump();
                    loop {
                        if self.starts_with("*/") {
                            self.bump();
                            self.bump();
                            break;
                        }
                        if self.bump().is_none() {
                            return Err(self.err_at(start, "this /* comment is never closed"));
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    /// Blanks on this line only (not newlines), and comments that end it.
    fn skip_inline(&mut self) {
        while let Some(c) = self.peek() {
            if c == ' ' || c == '\t' || c == '\r' {
                self.bump();
            } else {
                break;
            }
        }
    }

    fn word(&mut self) -> String {
        let mut w = String::new();
        while let Some(c) = self.peek().filter(|c| is_word(*c)) {
            w.push(c);
            self.bump();
        }
        w
    }

    fn rest_of_line(&mut self) -> String {
        let mut w = String::new();
        while let Some(c) = self.peek().filter(|c| *c != '\n') {
            w.push(c);
            self.bump();
        }
        w
    }

    fn backtick(&mut self) -> Result<String, ParseError> {
        let start = self.pos();
        self.bump();
        let mut w = String::new();
        loop {
            match self.bump() {
                Some('`') => return Ok(w),
                Some(c) => w.push(c),
                None => return Err(self.err_at(start, "this ` command is never closed")),
            }
        }
    }

    /// A decimal number of seconds as microseconds: `0`, `.1`, `1.25`.
    fn seconds(&mut self) -> Result<i64, ParseError> {
        let start = self.pos();
        let mut int = String::new();
        while let Some(c) = self.peek().filter(|c| c.is_ascii_digit()) {
            int.push(c);
            self.bump();
        }
        let mut frac = String::new();
        if self.peek() == Some('.') && self.peek_at(1) != Some('.') {
            self.bump();
            while let Some(c) = self.peek().filter(|c| c.is_ascii_digit()) {
                frac.push(c);
                self.bump();
            }
        }
        if int.is_empty() && frac.is_empty() {
            return Err(self.err_at(
                start,
                format!("expected a time in seconds, found {}", self.here()),
            ));
        }
        let secs: i64 = if int.is_empty() {
            0
        } else {
            int.parse()
                .map_err(|_| self.err_at(start, "this time is too large"))?
        };
        let mut us = 0i64;
        for (k, d) in frac
            .chars()
            .chain(std::iter::repeat('0'))
            .take(6)
            .enumerate()
        {
            let _ = k;
            us = us * 10 + i64::from(d.to_digit(10).unwrap_or(0));
        }
        Ok(secs * 1_000_000 + us)
    }

    /// `*`, `t`, `+t`, `t~t2`, `+t~+t2`, and a blocking call's `...t2`.
    fn time(&mut self) -> Result<(Time, Option<i64>), ParseError> {
        if self.peek() == Some('*') {
            self.bump();
            return Ok((Time::Any, None));
        }
        let rel = self.peek() == Some('+');
        if rel {
            self.bump();
        }
        let t = self.seconds()?;
        if self.peek() == Some('~') {
            self.bump();
            let rel2 = self.peek() == Some('+');
            if rel2 {
                self.bump();
            }
            if rel != rel2 {
                return Err(self.err(
                    "both ends of a time range must be relative (+a~+b) or both absolute (a~b)",
                ));
            }
            let t2 = self.seconds()?;
            if t2 < t {
                return Err(self.err("a time range must not end before it starts"));
            }
            let time = if rel {
                Time::RelRange(t, t2)
            } else {
                Time::AbsRange(t, t2)
            };
            return Ok((time, None));
        }
        let mut end = None;
        if self.starts_with("...") {
            self.bump();
            self.bump();
            self.bump();
            end = Some(self.seconds()?);
        }
        Ok((if rel { Time::Rel(t) } else { Time::Abs(t) }, end))
    }

    fn event(&mut self) -> Result<Event, ParseError> {
        let start = self.pos();
        let line_start = self.i;
        match self.peek() {
            Some(c) if c.is_ascii_digit() || c == '+' || c == '.' || c == '*' => {}
            _ => {
                return Err(self.err(format!(
                    "expected an event starting with a time (such as 0, +0.1 or *), found {}",
                    self.here()
                )));
            }
        }
        let (time, end) = self.time()?;
        self.skip_inline();
        let kind = match self.peek() {
            Some('<') | Some('>') => {
                if end.is_some() {
                    return Err(self.err_at(start, "only a system call can block (t...t2)"));
                }
                self.packet()?
            }
            Some('%') if self.peek_at(1) == Some('{') => {
                self.bump();
                self.bump();
                let open = start;
                let mut w = String::new();
                loop {
                    if self.starts_with("}%") {
                        self.bump();
                        self.bump();
                        break;
                    }
                    match self.bump() {
                        Some(c) => w.push(c),
                        None => {
                            return Err(self.err_at(open, "this %{ block is never closed with }%"));
                        }
                    }
                }
                Kind::Code(w)
            }
            Some('`') => Kind::Command(self.backtick()?),
            Some(c) if c.is_ascii_alphabetic() || c == '_' => self.syscall(end)?,
            _ => {
                return Err(self.err(format!(
                    "expected a packet (< or >), a system call, %{{ or ` after the time, found {}",
                    self.here()
                )));
            }
        };
        let text: String = self.s[line_start..self.i]
            .iter()
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        self.skip_inline();
        // Anything else on the line must be a comment.
        if self.starts_with("//") || self.starts_with("/*") {
            self.skip_space()?;
        } else if let Some(c) = self.peek()
            && c != '\n'
        {
            return Err(self.err(format!(
                "unexpected {} after the event (one event per line)",
                self.here()
            )));
        }
        Ok(Event {
            line: start.line,
            time,
            kind,
            text,
        })
    }

    fn number(&mut self, what: &str) -> Result<u64, ParseError> {
        self.skip_inline();
        let start = self.pos();
        let mut w = String::new();
        if self.starts_with("0x") {
            self.bump();
            self.bump();
            while let Some(c) = self.peek().filter(|c| c.is_ascii_hexdigit()) {
                w.push(c);
                self.bump();
            }
            return u64::from_str_radix(&w, 16)
                .map_err(|_| self.err_at(start, format!("expected {what}, a number")));
        }
        while let Some(c) = self.peek().filter(|c| c.is_ascii_digit()) {
            w.push(c);
            self.bump();
        }
        if w.is_empty() {
            return Err(self.err_at(start, format!("expected {what}, found {}", self.here())));
        }
        w.parse()
            .map_err(|_| self.err_at(start, format!("{what} {w} is too large")))
    }

    fn number_u32(&mut self, what: &str) -> Result<u32, ParseError> {
        let start = self.pos();
        let v = self.number(what)?;
        u32::try_from(v)
            .map_err(|_| self.err_at(start, format!("{what} {v} does not fit in 32 bits")))
    }

    fn expect(&mut self, c: char, what: &str) -> Result<(), ParseError> {
        self.skip_inline();
        if self.peek() == Some(c) {
            self.bump();
            Ok(())
        } else {
            Err(self.err(format!("expected {what}, found {}", self.here())))
        }
    }

    /// A packet line after its time: `< S. 0:0(0) ack 1 win 5840 <mss 1460,…>`.
    fn packet(&mut self) -> Result<Kind, ParseError> {
        let dir = if self.bump() == Some('<') {
            Direction::In
        } else {
            Direction::Out
        };
        self.skip_inline();
        let fstart = self.pos();
        let mut flags = String::new();
        while let Some(c) = self.peek().filter(|c| !c.is_whitespace()) {
            flags.push(c);
            self.bump();
        }
        if flags.is_empty() {
            return Err(self.err_at(
                fstart,
                "expected the packet's flags (such as S, S., P., F., R or .)",
            ));
        }
        if !flags.chars().all(|c| "SFRP.EWU".contains(c)) {
            // udp, icmp, a raw IP packet, ECN brackets …: well formed
            // perhaps, but not TCP as tcpscope plays it.
            let rest = self.rest_of_line();
            return Ok(Kind::Unsupported(
                format!("{flags}{rest}").trim().to_string(),
            ));
        }
        if flags.contains(['E', 'W', 'U']) {
            let rest = self.rest_of_line();
            return Ok(Kind::Unsupported(format!(
                "the flags {flags} (ECN and URG are not modelled){rest}"
            )));
        }
        let seq = self.number_u32("the sequence number (start:end(length))")?;
        self.expect(':', "':' in start:end(length)")?;
        let end = self.number_u32("the end sequence number")?;
        self.expect('(', "'(' before the length")?;
        let len = self.number_u32("the payload length")?;
        self.expect(')', "')' after the length")?;
        if end.wrapping_sub(seq) != len {
            return Err(self.err(format!(
                "{seq}:{end} spans {} bytes, not the {len} written in parentheses",
                end.wrapping_sub(seq)
            )));
        }
        let mut p = Packet {
            dir,
            flags,
            seq,
            end,
            len,
            ack: None,
            win: None,
            opts: Opts::Absent,
        };
        loop {
            self.skip_inline();
            match self.peek() {
                Some('<') => {
                    p.opts = self.options()?;
                    if let Opts::Unsupported(what) = &p.opts {
                        let what = what.clone();
                        self.rest_of_line();
                        return Ok(Kind::Unsupported(what));
                    }
                }
                Some(c) if c.is_ascii_alphabetic() => {
                    let wstart = self.pos();
                    let save = (self.i, self.line, self.col);
                    let w = self.word();
                    match w.as_str() {
                        "ack" => p.ack = Some(self.number_u32("the ack number")?),
                        "win" => p.win = Some(self.number_u32("the window")?),
                        "urg" => {
                            let rest = self.rest_of_line();
                            return Ok(Kind::Unsupported(format!("urg{rest}")));
                        }
                        _ => {
                            let _ = save;
                            return Err(self.err_at(
                                wstart,
                                format!(
                                    "expected ack, win or <options> in the packet, found \"{w}\""
                                ),
                            ));
                        }
                    }
                }
                Some('(') => {
                    // (tos …), (flowlabel …), (ecn …) and such.
                    let rest = self.rest_of_line();
                    return Ok(Kind::Unsupported(rest.trim().to_string()));
                }
                _ => break,
            }
        }
        if p.dir == Direction::In && p.win.is_none() && !p.has('R') {
            return Err(self.err("an inbound packet needs its window (win N)"));
        }
        Ok(Kind::Packet(p))
    }

    /// `<mss 1460,sackOK,nop,nop,TS val 100 ecr 0,nop,wscale 8>` or `<...>`.
    fn options(&mut self) -> Result<Opts, ParseError> {
        let open = self.pos();
        self.bump();
        if self.starts_with("...>") {
            for _ in 0..4 {
                self.bump();
            }
            return Ok(Opts::Any);
        }
        let mut v = Vec::new();
        loop {
            self.skip_inline();
            let ostart = self.pos();
            let w = self.word();
            let opt = match w.as_str() {
                "nop" => Opt::Nop,
                "eol" => Opt::Eol,
                "mss" => Opt::Mss(
                    u16::try_from(self.number("the MSS")?)
                        .map_err(|_| self.err_at(ostart, "an MSS fits in 16 bits"))?,
                ),
                "sackOK" => Opt::SackOk,
                "wscale" => Opt::Wscale(
                    u8::try_from(self.number("the window scale")?)
                        .map_err(|_| self.err_at(ostart, "a window scale fits in 8 bits"))?,
                ),
                "TS" => {
                    self.skip_inline();
                    if self.word() != "val" {
                        return Err(self.err("expected \"val\" after TS"));
                    }
                    let val = self.number_u32("the TS value")?;
                    self.skip_inline();
                    if self.word() != "ecr" {
                        return Err(self.err("expected \"ecr\" after the TS value"));
                    }
                    let ecr = self.number_u32("the TS echo reply")?;
                    Opt::Ts { val, ecr }
                }
                "sack" => {
                    let mut blocks = Vec::new();
                    loop {
                        self.skip_inline();
                        if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                            break;
                        }
                        let a = self.number_u32("a SACK block's start")?;
                        self.expect(':', "':' in a SACK block start:end")?;
                        let b = self.number_u32("a SACK block's end")?;
                        blocks.push((a, b));
                    }
                    if blocks.is_empty() {
                        return Err(self.err("a sack option needs at least one block start:end"));
                    }
                    Opt::Sack(blocks)
                }
                "" => {
                    return Err(self.err(format!(
                        "expected a TCP option (mss, sackOK, nop, TS, wscale, sack), found {}",
                        self.here()
                    )));
                }
                other => {
                    // FO (Fast Open), md5, exp, …: read to the '>' and
                    // report them.
                    let mut rest = String::new();
                    while let Some(c) = self.peek().filter(|c| *c != '>' && *c != '\n') {
                        rest.push(c);
                        self.bump();
                    }
                    if self.peek() == Some('>') {
                        self.bump();
                    }
                    let _ = ostart;
                    return Ok(Opts::Unsupported(format!("the TCP option {other}{rest}")));
                }
            };
            v.push(opt);
            self.skip_inline();
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some('>') => {
                    self.bump();
                    return Ok(Opts::List(v));
                }
                _ => {
                    return Err(if self.peek().is_none() || self.peek() == Some('\n') {
                        self.err_at(open, "this < option list is never closed with >")
                    } else {
                        self.err(format!(
                            "expected ',' or '>' in the option list, found {}",
                            self.here()
                        ))
                    });
                }
            }
        }
    }

    /// `name(args) = result [ERRNO (text)]`.
    fn syscall(&mut self, end: Option<i64>) -> Result<Kind, ParseError> {
        let name = self.word();
        if !SYSCALLS.contains(&name.as_str()) {
            // Its arguments may use notation tcpscope does not read
            // (iovecs, msghdrs, epoll events): the line is reported whole.
            // Its arguments may span lines: to the closing parenthesis.
            let mut depth = 0usize;
            let mut text = String::new();
            while let Some(c) = self.peek() {
                if c == '\n' && depth == 0 {
                    break;
                }
                match c {
                    '(' | '[' | '{' => depth += 1,
                    ')' | ']' | '}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
                if !(c == '/' && self.peek_at(1) == Some('/') && depth == 0) {
                    text.push(if c == '\n' { ' ' } else { c });
                    self.bump();
                } else {
                    self.rest_of_line();
                }
            }
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            return Ok(Kind::Unsupported(format!(
                "{name}{text} (this system call is not modelled)"
            )));
        }
        self.skip_inline();
        if self.peek() != Some('(') {
            return Err(self.err(format!(
                "expected '(' after the system call {name}, found {}",
                self.here()
            )));
        }
        self.bump();
        let mut args = Vec::new();
        loop {
            self.skip_space()?;
            if self.peek() == Some(')') {
                self.bump();
                break;
            }
            args.push(self.expr()?);
            self.skip_space()?;
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some(')') => {
                    self.bump();
                    break;
                }
                _ => {
                    return Err(self.err(format!(
                        "expected ',' or ')' in the arguments of {name}, found {}",
                        self.here()
                    )));
                }
            }
        }
        self.expect('=', "'= result' after the system call")?;
        self.skip_inline();
        let ret = self.expr()?;
        self.skip_inline();
        let mut errno = None;
        if self.peek().is_some_and(|c| c.is_ascii_uppercase()) {
            errno = Some(self.word());
            self.skip_inline();
        }
        if self.peek() == Some('(') {
            // The errno's text, or a comment on the result.
            let open = self.pos();
            let mut depth = 0;
            loop {
                match self.bump() {
                    Some('(') => depth += 1,
                    Some(')') => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    Some('\n') | None => {
                        return Err(self.err_at(open, "this ( is never closed on its line"));
                    }
                    _ => {}
                }
            }
        }
        Ok(Kind::Syscall(Syscall {
            name,
            args,
            ret,
            errno,
            end,
        }))
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        let first = self.atom()?;
        self.skip_inline();
        if self.peek() != Some('|') {
            return Ok(first);
        }
        let mut v = vec![first];
        while self.peek() == Some('|') {
            self.bump();
            self.skip_inline();
            v.push(self.atom()?);
            self.skip_inline();
        }
        Ok(Expr::Or(v))
    }

    fn atom(&mut self) -> Result<Expr, ParseError> {
        self.skip_space()?;
        match self.peek() {
            Some('.') if self.starts_with("...") => {
                self.bump();
                self.bump();
                self.bump();
                Ok(Expr::Ellipsis)
            }
            Some('-') => {
                self.bump();
                let v = self.number("a number")?;
                Ok(Expr::Int(-(v as i64)))
            }
            Some(c) if c.is_ascii_digit() => Ok(Expr::Int(self.number("a number")? as i64)),
            Some('"') => {
                let open = self.pos();
                self.bump();
                let mut w = String::new();
                loop {
                    match self.bump() {
                        Some('"') => break,
                        Some('\\') => {
                            if let Some(c) = self.bump() {
                                w.push(c);
                            }
                        }
                        Some(c) => w.push(c),
                        None => return Err(self.err_at(open, "this string is never closed")),
                    }
                }
                Ok(Expr::Str(w))
            }
            Some('&') => {
                self.bump();
                self.atom()
            }
            Some('[') => {
                self.bump();
                let mut v = Vec::new();
                loop {
                    self.skip_space()?;
                    if self.peek() == Some(']') {
                        self.bump();
                        break;
                    }
                    v.push(self.expr()?);
                    self.skip_space()?;
                    match self.peek() {
                        Some(',') => {
                            self.bump();
                        }
                        Some(']') => {
                            self.bump();
                            break;
                        }
                        _ => {
                            return Err(
                                self.err(format!("expected ',' or ']', found {}", self.here()))
                            );
                        }
                    }
                }
                Ok(Expr::List(v))
            }
            Some('{') => {
                self.bump();
                let mut v = Vec::new();
                loop {
                    self.skip_space()?;
                    if self.peek() == Some('}') {
                        self.bump();
                        break;
                    }
                    let fstart = self.pos();
                    let name = self.word();
                    self.skip_inline();
                    let value = if self.peek() == Some('=') {
                        self.bump();
                        self.expr()?
                    } else if name.is_empty() {
                        self.expr()?
                    } else {
                        Expr::Name(name.clone())
                    };
                    if name.is_empty() && value == Expr::Ellipsis {
                        // `{...}`
                    } else if name.is_empty() {
                        return Err(self.err_at(fstart, "expected field=value in the struct"));
                    }
                    v.push((name, value));
                    self.skip_space()?;
                    match self.peek() {
                        Some(',') => {
                            self.bump();
                        }
                        Some('}') => {
                            self.bump();
                            break;
                        }
                        _ => {
                            return Err(
                                self.err(format!("expected ',' or '}}', found {}", self.here()))
                            );
                        }
                    }
                }
                Ok(Expr::Struct(v))
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let w = self.word();
                self.skip_inline();
                // htonl(…), sizeof(…) and such: calls inside arguments.
                if self.peek() == Some('(') {
                    self.bump();
                    let inner = self.expr()?;
                    self.expect(')', "')'")?;
                    return Ok(match (w.as_str(), inner) {
                        ("htons" | "htonl", Expr::Int(v)) => Expr::Int(v),
                        (_, inner) => Expr::Struct(vec![(w, inner)]),
                    });
                }
                Ok(Expr::Name(w))
            }
            _ => Err(self.err(format!("expected an argument, found {}", self.here()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_times_and_packets() {
        let s = parse(
            "--tolerance_usecs=10000\n`../common/defaults.sh`\n\
             0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
             +.1 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>\n\
             +0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8> // comment\n\
             +0...0.100 read(4, ..., 2000) = 2000\n\
             0.2~+0.3 > . 1:1(0) ack 1\n",
        );
        assert!(s.is_err(), "mixed range");
        let s = parse(
            "--tolerance_usecs=10000\n`../common/defaults.sh`\n\
             0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
             +.1 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>\n\
             +0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8> // comment\n\
             +0...0.100 read(4, ..., 2000) = 2000\n\
             +.2~+.3 > . 1:1(0) ack 1 <nop,nop,sack 1001:2001 3001:4001>\n\
             * > F. 1:1(0) ack 1 <...>\n\
             +0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n\
             +0 %{ assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd }%\n",
        )
        .unwrap();
        assert_eq!(
            s.options,
            vec![("tolerance_usecs".into(), "10000".into(), 1)]
        );
        assert_eq!(s.init, vec![("../common/defaults.sh".into(), 2)]);
        assert_eq!(s.events.len(), 8);
        assert_eq!(s.events[1].time, Time::Rel(100_000));
        assert_eq!(
            s.events[1].kind,
            Kind::Packet(Packet {
                dir: Direction::In,
                flags: "S".into(),
                seq: 0,
                end: 0,
                len: 0,
                ack: None,
                win: Some(32792),
                opts: Opts::List(vec![
                    Opt::Mss(1000),
                    Opt::SackOk,
                    Opt::Nop,
                    Opt::Nop,
                    Opt::Nop,
                    Opt::Wscale(7)
                ]),
            })
        );
        assert_eq!(
            s.events[2].text,
            "+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>"
        );
        let Kind::Syscall(rd) = &s.events[3].kind else {
            panic!()
        };
        assert_eq!((rd.name.as_str(), rd.end), ("read", Some(100_000)));
        assert_eq!(s.events[4].time, Time::RelRange(200_000, 300_000));
        let Kind::Packet(p) = &s.events[4].kind else {
            panic!()
        };
        assert_eq!(
            p.opts,
            Opts::List(vec![
                Opt::Nop,
                Opt::Nop,
                Opt::Sack(vec![(1001, 2001), (3001, 4001)])
            ])
        );
        assert_eq!(s.events[5].time, Time::Any);
        let Kind::Syscall(c) = &s.events[6].kind else {
            panic!()
        };
        assert_eq!(
            (c.ret.clone(), c.errno.as_deref()),
            (Expr::Int(-1), Some("EINPROGRESS"))
        );
        assert_eq!(
            s.events[7].kind,
            Kind::Code(" assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd ".into())
        );
    }

    #[test]
    fn errors_are_one_sentence_with_line_and_column() {
        let e = parse("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < S 0:10(0) win 100\n")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "2:15: 0:10 spans 10 bytes, not the 0 written in parentheses"
        );
        let e = parse("+0 < S 0:0(0) win 100 <mss 1460,wscale>\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "1:39: expected the window scale, found \">\""
        );
        let e = parse("socket()\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "1:1: expected an event starting with a time (such as 0, +0.1 or *), found \"socket()\""
        );
        let e = parse("+0 < S 0:0(0)\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "1:14: an inbound packet needs its window (win N)"
        );
    }

    #[test]
    fn unsupported_constructs_are_kept() {
        let s = parse("+0 < udp (1472)\n").unwrap();
        assert_eq!(s.events[0].kind, Kind::Unsupported("udp (1472)".into()));
    }
}
