//! Scenarios: who does what and when between two engines on the in-memory
//! wire, which faults apply, and the narration attached to the events.
//!
//! A scenario is a TOML file (`assets/scenarios/*.toml`, embedded in the
//! binary); `tcpscope demo FILE.toml` runs a user's own.

pub mod run;

use std::net::IpAddr;
use std::path::Path;

use serde::Deserialize;

use crate::event::TimerKind;
use crate::fault::{Action, DirMatch, Rule, Trigger, parse_duration};
use crate::link::memory::Side;
use crate::state::State;
use crate::wire::Flags;

pub use crate::i18n::Lang;
pub use crate::settings::Overrides;
pub use run::Run;

/// Embed `assets/scenarios/NAME.toml` for each name, so an installed binary
/// has them.
macro_rules! builtin {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../assets/scenarios/", $name, ".toml")))),*]
    };
}

/// The built-in scenarios, in the order `tcpscope scenarios` lists them.
pub const BUILTIN: &[(&str, &str)] = builtin![
    "tour",
    "handshake",
    "client-close",
    "server-close",
    "http-keepalive",
    "half-close",
    "simultaneous-open",
    "simultaneous-close",
    "reset",
    "no-listener",
    "lost-syn",
    "lost-synack",
    "lost-data",
    "lost-fin",
    "lost-last-ack",
    "zero-window",
    "keepalive-dead-peer",
    "keepalive-rebooted-peer",
    "bulk-with-loss",
    "tail-loss",
    "sack-recovery",
    "lost-retransmission",
    "spurious-rto",
    "cubic-vs-newreno",
    "delayed-ack",
    "nagle",
];

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum HostName {
    Client,
    Server,
}

impl HostName {
    pub fn side(self) -> Side {
        match self {
            HostName::Client => Side::Client,
            HostName::Server => Side::Server,
        }
    }
}

/// What a host's application does with a connection.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AppKind {
    /// Read and throw away what arrives.
    #[default]
    Discard,
    /// Send back what arrives.
    Echo,
    /// Never read (the receive window fills up).
    Sink,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    pub addr: Option<IpAddr>,
    #[serde(default)]
    pub app: AppKind,
    /// Close our side once the peer's FIN has been read (after `close_delay`
    /// seconds), as most servers do.
    #[serde(default = "yes")]
    pub close_on_eof: bool,
    #[serde(default)]
    pub close_delay: f64,
    // Engine settings for this host (CLI flags override them).
    pub msl: Option<f64>,
    pub rto_min_ms: Option<f64>,
    /// [idle, interval, count]: keepalive on with these values.
    pub keepalive: Option<(f64, f64, u32)>,
    pub keepalive_garbage: Option<bool>,
    pub delayed_ack_ms: Option<f64>,
    pub nagle: Option<bool>,
    pub send_buf: Option<usize>,
    pub recv_buf: Option<usize>,
    pub mss: Option<u16>,
    pub timestamps: Option<bool>,
    pub sack: Option<bool>,
    pub window_scaling: Option<bool>,
    pub syn_retries: Option<u32>,
    pub data_retries: Option<u32>,
    pub fin_wait_2_timeout: Option<f64>,
    pub connect_timeout: Option<f64>,
    pub initial_cwnd: Option<u32>,
    /// Congestion control for this host: `newreno` or `cubic`.
    pub cc: Option<crate::tcp::CcAlgo>,
    /// RACK-TLP loss detection on or off for this host.
    pub rack: Option<bool>,
    pub backlog: Option<usize>,
}

fn yes() -> bool {
    true
}

impl Default for HostSpec {
    /// The same defaults as an empty `[client]` / `[server]` table.
    fn default() -> Self {
        toml::from_str("").expect("every HostSpec field has a default")
    }
}

/// A fault rule as written in a scenario (or built by the TUI's form).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// `in`, `out` or `any`, from the server's side.
    pub dir: String,
    /// Exact flag set, letters (`SA`, `FA`, `PA`, `A`).
    pub flags: Option<String>,
    /// Only segments with (true) or without (false) payload.
    pub payload: Option<bool>,
    pub port: Option<u16>,
    /// The next N matching segments.
    pub count: Option<u32>,
    /// Or each matching segment with this probability, in percent.
    pub percent: Option<f64>,
    /// `drop` (default), `hold`, `delay:250ms`, `duplicate`, `reorder`, `corrupt`.
    #[serde(default = "drop_action")]
    pub action: String,
}

fn drop_action() -> String {
    "drop".into()
}

impl FaultSpec {
    pub fn to_rule(&self) -> Result<Rule, String> {
        let dir = DirMatch::parse(&self.dir)?;
        let flags = match &self.flags {
            None => None,
            Some(f) if f == "*" => None,
            Some(f) => Some(Flags::from_letters(f)?),
        };
        let trigger = match (self.count, self.percent) {
            (Some(_), Some(_)) => return Err("give count or percent, not both".into()),
            (Some(0), None) => return Err("count must be above 0".into()),
            (Some(n), None) => Trigger::Count(n),
            (None, Some(p)) if (0.0..=100.0).contains(&p) => Trigger::Probability(p / 100.0),
            (None, Some(p)) => return Err(format!("percent {p} is not between 0 and 100")),
            (None, None) => Trigger::Always,
        };
        Ok(Rule {
            dir,
            flags,
            payload: self.payload,
            port: self.port,
            trigger,
            action: Action::parse(&self.action)?,
        })
    }
}

/// One thing a host does at a time.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
pub enum Op {
    /// Passive open.
    Listen {
        port: u16,
        backlog: Option<usize>,
    },
    Unlisten {
        port: u16,
    },
    /// Active open to the other host (or `addr`) on `port`.
    Connect {
        port: u16,
        from_port: Option<u16>,
        addr: Option<IpAddr>,
    },
    /// Send a text or N generated bytes on the connection.
    Send {
        text: Option<String>,
        bytes: Option<usize>,
        conn: Option<usize>,
    },
    /// CLOSE and release (close(2)).
    Close {
        conn: Option<usize>,
    },
    /// CLOSE, still reading (shutdown(SHUT_WR)).
    Shutdown {
        conn: Option<usize>,
    },
    Abort {
        conn: Option<usize>,
    },
    Keepalive {
        #[serde(default = "yes")]
        on: bool,
        idle: Option<f64>,
        interval: Option<f64>,
        count: Option<u32>,
        conn: Option<usize>,
    },
    Nodelay {
        #[serde(default = "yes")]
        on: bool,
        conn: Option<usize>,
    },
    /// Start or stop reading (a stopped reader lets the window close).
    Read {
        #[serde(default = "yes")]
        on: bool,
    },
    /// The host stops answering, as if it crashed or was unplugged: every
    /// segment to or from it is lost and its timers stop.
    Silent {
        #[serde(default = "yes")]
        on: bool,
    },
    /// The host reboots: it forgets every connection without a word.
    Forget {},
    /// Add a fault rule.
    Fault(FaultSpec),
    ClearFaults {},
    /// Nothing happens; narration may point at the moment.
    Note {
        text: Option<String>,
    },
    /// Suggest a new playback speed (virtual seconds per real second) from
    /// here on, so that a two-hour idle period fits a lesson.
    Speed {
        x: f64,
    },
}

/// (No `deny_unknown_fields` here: serde cannot combine it with `flatten`;
/// `Op` rejects unknown fields itself.)
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Step {
    /// Virtual seconds since the start.
    pub at: f64,
    pub host: HostName,
    #[serde(flatten)]
    pub op: Op,
}

/// Which event a narration explains.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EventMatch {
    pub host: Option<HostName>,
    pub kind: Option<String>,
    pub dir: Option<String>,
    /// Exact flag set as letters.
    pub flags: Option<String>,
    /// State events: the state entered / left.
    pub to: Option<String>,
    pub from: Option<String>,
    pub timer: Option<String>,
    pub action: Option<String>,
    pub reason: Option<String>,
    pub retransmit: Option<bool>,
    /// Segments with (true) or without (false) payload.
    pub payload: Option<bool>,
    /// Segments with exactly this window field (0: a zero window).
    pub win: Option<u16>,
    /// Recovery events: what detected the loss; segments: why a
    /// retransmission went (`dupack`, `rack`, `tlp`, `rto`, …).
    pub by: Option<String>,
    /// Segments: a tail loss probe (true) or not (false).
    pub probe: Option<bool>,
    /// The n-th matching event (1-based, default 1).
    pub nth: Option<usize>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NarrationSpec {
    pub on: EventMatch,
    pub en: String,
    /// The Chinese text. A file may leave it out (or empty):
    /// [`Scenario::parse`] then puts the English text here behind
    /// [`ZH_FALLBACK_MARK`], so a Chinese run still says everything and
    /// shows what is untranslated.
    #[serde(default)]
    pub zh: String,
    /// The title of the chapter this narration begins (the tour's ten
    /// chapters), e.g. `1. The three-way handshake`.
    pub chapter: Option<String>,
    /// The chapter's title in Chinese; without it, `chapter`.
    pub chapter_zh: Option<String>,
}

/// Put before the English text of a narration that has no `zh`.
pub const ZH_FALLBACK_MARK: &str = "（英文）";

impl NarrationSpec {
    /// The text in `lang` (after [`Scenario::parse`], `zh` is always set).
    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Zh => &self.zh,
        }
    }

    /// The title of the chapter this narration begins, if it begins one;
    /// in Chinese `chapter_zh`, else `chapter`.
    pub fn chapter(&self, lang: Lang) -> Option<&str> {
        match lang {
            Lang::Zh => self.chapter_zh.as_deref().or(self.chapter.as_deref()),
            Lang::En => self.chapter.as_deref(),
        }
    }
}

/// The event kinds a narration's `kind` may name: every kind a scenario
/// run produces (docs/events.md, The schema). `narration` events are never matched;
/// `burst` and `lagged` come from live mode only.
pub const MATCH_KINDS: &[&str] = &[
    "segment",
    "drop",
    "hold",
    "release",
    "fault",
    "rule",
    "state",
    "timer",
    "keepalive",
    "rtt",
    "tcb",
    "abort",
    "app",
    "negotiated",
    "vars",
    "recovery",
    "limit",
    "info",
    "speed",
];

/// The `action` values of each kind that has one, as `run::matches` reads
/// them (keep the two in step).
const MATCH_ACTIONS: &[(&str, &[&str])] = &[
    ("timer", &["armed", "cancelled", "fired"]),
    (
        "keepalive",
        &["enabled", "disabled", "probe_sent", "answered", "dead"],
    ),
    ("tcb", &["allocated", "freed"]),
    ("fault", &["delay", "duplicate", "corrupt", "reorder"]),
    (
        "recovery",
        &[
            "enter",
            "mark",
            "exit",
            "undo",
            "probe",
            "reduce",
            "slow_start_exit",
        ],
    ),
];

/// The `reason` values of abort and drop events (docs/events.md, The schema).
const MATCH_REASONS: &[(&str, &[&str])] = &[
    (
        "abort",
        &[
            "user",
            "reset_received",
            "retransmit_timeout",
            "keepalive_timeout",
            "connect_timeout",
            "fin_wait_2_timeout",
            "reopened",
            "data_after_close",
        ],
    ),
    (
        "drop",
        &[
            "injected",
            "loss",
            "checksum",
            "malformed",
            "bad_option",
            "not_ipv4_tcp",
            "not_ipv6_tcp",
            "fragment",
            "not_for_us",
        ],
    ),
];

/// What sent a retransmission (segments) or detected a loss (recovery).
const MATCH_BY: &[&str] = &["dupack", "rack", "tlp", "rto", "rescue", "persist", "syn"];

/// The kinds of event each field can match: `run::matches` reads the field
/// from these only, so on any other kind the narration would never fire
/// (keep the two in step).
const FIELD_KINDS: &[(&str, &[&str])] = &[
    ("dir", &["segment", "drop", "hold", "release"]),
    ("flags", &["segment", "drop", "hold", "release"]),
    ("payload", &["segment", "drop", "hold", "release"]),
    ("win", &["segment"]),
    ("retransmit", &["segment"]),
    ("probe", &["segment"]),
    ("by", &["segment", "recovery"]),
    ("to", &["state"]),
    ("from", &["state"]),
    ("timer", &["timer"]),
    (
        "action",
        &["timer", "keepalive", "tcb", "fault", "recovery"],
    ),
    ("reason", &["abort", "drop"]),
];

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    pub title: String,
    pub title_zh: Option<String>,
    /// What it teaches, a paragraph.
    pub about: Option<String>,
    /// The paragraph in Chinese, for the Chinese handout.
    pub about_zh: Option<String>,
    pub profile: Option<String>,
    /// One-way delay of the wire in milliseconds.
    #[serde(default = "default_delay")]
    pub delay_ms: f64,
    /// Stop after this many virtual seconds even if timers are still armed.
    pub duration: Option<f64>,
    /// Virtual seconds per real second the TUI starts at.
    pub speed: Option<f64>,
    /// Both hosts' `Config::seed` (ISNs, ports, timestamp offsets) and so
    /// the fault injector's random numbers: a scenario with random loss
    /// picks the loss pattern whose run shows what its narration says.
    /// `--seed` overrides it.
    #[serde(default, deserialize_with = "seed")]
    pub seed: Option<u64>,
    #[serde(default)]
    pub client: HostSpec,
    #[serde(default)]
    pub server: HostSpec,
    #[serde(default, rename = "step")]
    pub steps: Vec<Step>,
    #[serde(default, rename = "fault")]
    pub faults: Vec<FaultSpec>,
    #[serde(default, rename = "narration")]
    pub narrations: Vec<NarrationSpec>,
}

fn default_delay() -> f64 {
    10.0
}

/// A `seed` is a whole number, 0 or more; anything else is refused in one
/// sentence that says so (serde's own would say "expected u64").
fn seed<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match toml::Value::deserialize(d)? {
        toml::Value::Integer(n) if n >= 0 => Ok(Some(n as u64)),
        v => Err(serde::de::Error::custom(format!(
            "seed must be a whole number, 0 or more, not {v}"
        ))),
    }
}

/// The longest a scenario runs when it sets no duration and timers keep it
/// alive (the RFC keepalive schedule is 7200 + 10×75 s).
pub const MAX_DURATION: f64 = 4.0 * 3600.0;

impl Scenario {
    /// Parse and check a scenario; errors name `origin`, the line and the field.
    pub fn parse(origin: &str, text: &str) -> Result<Scenario, String> {
        let sc: Scenario = toml::from_str(text).map_err(|e| {
            let mut at = e.span().map(|sp| sp.start).unwrap_or(0);
            // Through tagged enums the span covers the whole table; point at
            // the offending key inside it when the message names one.
            if let Some(key) = e.message().split('`').nth(1)
                && e.message().starts_with("unknown field")
                && let Some(i) = text[at..].find(&format!("{key} ="))
            {
                at += i;
            }
            let (line, col) = line_col(text, at);
            format!(
                "{origin}:{line}:{col}: {}",
                e.message().trim_end().replace('\n', " ")
            )
        })?;
        let mut sc = sc;
        sc.check(origin, text)?;
        sc.fill_missing_zh();
        Ok(sc)
    }

    pub fn builtin(name: &str) -> Option<Scenario> {
        BUILTIN.iter().find(|(n, _)| *n == name).map(|(n, text)| {
            Scenario::parse(&format!("assets/scenarios/{n}.toml"), text)
                .expect("built-in scenarios are validated by the test suite")
        })
    }

    /// A built-in name or a path to a TOML file.
    pub fn load(name_or_path: &str) -> Result<Scenario, String> {
        if let Some(s) = Scenario::builtin(name_or_path) {
            return Ok(s);
        }
        let path = Path::new(name_or_path);
        if name_or_path.ends_with(".toml") || path.exists() {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read scenario file {name_or_path}: {e}"))?;
            return Scenario::parse(name_or_path, &text);
        }
        let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
        Err(format!(
            "no scenario named \"{name_or_path}\" (built in: {}; or give a path to a .toml file)",
            names.join(", ")
        ))
    }

    /// Checks serde cannot make: values in range, faults that parse.
    fn check(&self, origin: &str, text: &str) -> Result<(), String> {
        let at = |needle: &str, nth: usize| -> String {
            let line = text
                .match_indices(needle)
                .nth(nth)
                .map(|(i, _)| line_col(text, i).0)
                .unwrap_or(0);
            format!("{origin}:{line}")
        };
        if !(self.delay_ms.is_finite() && self.delay_ms >= 0.0) {
            return Err(format!("{}: delay_ms must be 0 or more", at("delay_ms", 0)));
        }
        if let Some(d) = self.duration
            && !(d.is_finite() && d > 0.0)
        {
            return Err(format!("{}: duration must be above 0", at("duration", 0)));
        }
        if let Some(p) = &self.profile
            && crate::tcp::Profile::from_name(p).is_none()
        {
            return Err(format!(
                "{}: profile \"{p}\" is not rfc, linux or classroom",
                at("profile", 0)
            ));
        }
        if let (Some(c), Some(s)) = (self.client.addr, self.server.addr)
            && c.is_ipv4() != s.is_ipv4()
        {
            return Err(format!(
                "{}: the client's address {c} and the server's {s} are of different families: give both IPv4 or both IPv6 addresses",
                at("addr", 0)
            ));
        }
        for (host, spec) in [("client", &self.client), ("server", &self.server)] {
            if let Some((idle, interval, count)) = spec.keepalive
                && !(idle > 0.0
                    && interval > 0.0
                    && count > 0
                    && idle.is_finite()
                    && interval.is_finite())
            {
                return Err(format!(
                    "{}: [{host}] keepalive needs idle and interval above 0 seconds and a count above 0",
                    at("keepalive", 0)
                ));
            }
        }
        for (i, s) in self.steps.iter().enumerate() {
            let here = || at("[[step]]", i);
            if !(s.at.is_finite() && s.at >= 0.0) {
                return Err(format!(
                    "{}: step field `at` must be 0 or more seconds",
                    here()
                ));
            }
            match &s.op {
                Op::Send { text, bytes, .. } if text.is_some() == bytes.is_some() => {
                    return Err(format!(
                        "{}: step `send` needs exactly one of `text` or `bytes`",
                        here()
                    ));
                }
                Op::Fault(f) => {
                    f.to_rule()
                        .map_err(|e| format!("{}: step `fault`: {e}", here()))?;
                }
                Op::Keepalive {
                    idle,
                    interval,
                    count,
                    ..
                } if idle.is_some_and(|v| !(v.is_finite() && v > 0.0))
                    || interval.is_some_and(|v| !(v.is_finite() && v > 0.0))
                    || *count == Some(0) =>
                {
                    return Err(format!(
                        "{}: step `keepalive` needs idle and interval above 0 seconds and a count above 0",
                        here()
                    ));
                }
                Op::Speed { x } if !(x.is_finite() && *x > 0.0) => {
                    return Err(format!("{}: step `speed` needs x above 0", here()));
                }
                Op::Listen { port: 0, .. } | Op::Connect { port: 0, .. } => {
                    return Err(format!("{}: field `port` must be 1 to 65535", here()));
                }
                _ => {}
            }
        }
        for (i, f) in self.faults.iter().enumerate() {
            f.to_rule()
                .map_err(|e| format!("{}: [[fault]]: {e}", at("[[fault]]", i)))?;
        }
        for (i, n) in self.narrations.iter().enumerate() {
            let here = |field: &str| format!("{origin}:{}", narration_field_line(text, i, field));
            check_match(&n.on, &here)?;
            if n.chapter_zh.is_some() && n.chapter.is_none() {
                return Err(format!(
                    "{}: narration field `chapter_zh` needs `chapter` as well (the title in English)",
                    here("chapter_zh")
                ));
            }
        }
        Ok(())
    }

    /// A narration without Chinese text says the English one, marked.
    fn fill_missing_zh(&mut self) {
        for n in &mut self.narrations {
            if n.zh.trim().is_empty() {
                n.zh = format!("{ZH_FALLBACK_MARK}{}", n.en);
            }
        }
    }

    /// What it teaches in `lang`, if written in it: a handout in Chinese
    /// leaves out the English paragraph rather than mix languages.
    pub fn about_for(&self, lang: Lang) -> Option<&str> {
        match lang {
            Lang::Zh => self.about_zh.as_deref(),
            Lang::En => self.about.as_deref(),
        }
    }

    pub fn title_for(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => self.title_zh.as_deref().unwrap_or(&self.title),
            Lang::En => &self.title,
        }
    }
}

/// A narration's `on`: its values from the sets the events use, and only
/// fields its `kind` carries. `here(field)` is the file and the field's line.
fn check_match(m: &EventMatch, here: &dyn Fn(&str) -> String) -> Result<(), String> {
    let bad = |field: &str, value: &str, what: &str, valid: &[&str]| -> String {
        let hint = nearest(value, valid)
            .map(|n| format!(" (did you mean \"{n}\"?)"))
            .unwrap_or_default();
        format!(
            "{}: narration field `{field}`: \"{value}\" is not {what}{hint}: {}",
            here(field),
            one_of(valid)
        )
    };
    if let Some(k) = &m.kind
        && !MATCH_KINDS.contains(&k.as_str())
    {
        return Err(bad("kind", k, "an event kind", MATCH_KINDS));
    }
    if let Some(kind) = m.kind.as_deref() {
        for field in m.fields() {
            if let Some((_, kinds)) = FIELD_KINDS.iter().find(|(f, _)| *f == field)
                && !kinds.contains(&kind)
            {
                return Err(format!(
                    "{}: narration field `{field}` never matches {} {kind} event: it is read from {} events only",
                    here(field),
                    article(kind),
                    one_of(kinds)
                ));
            }
        }
    }
    if let Some(d) = &m.dir
        && d != "in"
        && d != "out"
    {
        return Err(bad("dir", d, "a direction", &["in", "out"]));
    }
    if let Some(fl) = &m.flags {
        Flags::from_letters(fl)
            .map_err(|e| format!("{}: narration field `flags`: {e}", here("flags")))?;
    }
    let timers: Vec<&str> = TimerKind::ALL.iter().map(|t| t.name()).collect();
    if let Some(t) = &m.timer
        && !timers.contains(&t.as_str())
    {
        return Err(bad("timer", t, "a timer", &timers));
    }
    let states: Vec<&str> = State::ALL.iter().map(|s| s.name()).collect();
    for (field, value) in [("to", &m.to), ("from", &m.from)] {
        if let Some(s) = value
            && !states.contains(&s.as_str())
        {
            return Err(bad(field, s, "a state", &states));
        }
    }
    if let Some(b) = &m.by
        && !MATCH_BY.contains(&b.as_str())
    {
        return Err(bad("by", b, "a cause of retransmission", MATCH_BY));
    }
    for (field, value, table, noun) in [
        ("action", &m.action, MATCH_ACTIONS, "action"),
        ("reason", &m.reason, MATCH_REASONS, "reason"),
    ] {
        let Some(v) = value else { continue };
        let (what, valid): (String, Vec<&str>) = match m.kind.as_deref() {
            Some(kind) => {
                let (_, valid) = table
                    .iter()
                    .find(|(k, _)| *k == kind)
                    .expect("FIELD_KINDS lets through only kinds with this field");
                (
                    format!("{} {noun} of {kind} events", article(noun)),
                    valid.to_vec(),
                )
            }
            None => {
                let mut all: Vec<&str> = Vec::new();
                for v in table.iter().flat_map(|(_, vs)| vs.iter()) {
                    if !all.contains(v) {
                        all.push(v);
                    }
                }
                (format!("{} event {noun}", article("event")), all)
            }
        };
        if !valid.contains(&v.as_str()) {
            return Err(bad(field, v, &what, &valid));
        }
    }
    if m.nth == Some(0) {
        return Err(format!(
            "{}: narration field `nth` counts from 1",
            here("nth")
        ));
    }
    Ok(())
}

impl EventMatch {
    /// The names of the fields given (all but `host`, `kind` and `nth`,
    /// which every event has).
    fn fields(&self) -> Vec<&'static str> {
        [
            ("dir", self.dir.is_some()),
            ("flags", self.flags.is_some()),
            ("to", self.to.is_some()),
            ("from", self.from.is_some()),
            ("timer", self.timer.is_some()),
            ("action", self.action.is_some()),
            ("reason", self.reason.is_some()),
            ("retransmit", self.retransmit.is_some()),
            ("payload", self.payload.is_some()),
            ("win", self.win.is_some()),
            ("by", self.by.is_some()),
            ("probe", self.probe.is_some()),
        ]
        .into_iter()
        .filter(|(_, given)| *given)
        .map(|(name, _)| name)
        .collect()
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// `a, b or c`.
fn one_of(values: &[&str]) -> String {
    match values {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The valid value closest to a wrong one, when it is close enough to be
/// a slip: at most two edits (a swap of neighbours counts as one), or the
/// start of it; case does not count.
fn nearest<'a>(value: &str, valid: &[&'a str]) -> Option<&'a str> {
    let v = value.to_lowercase();
    let (best, d) = valid
        .iter()
        .map(|c| (*c, edit_distance(&v, &c.to_lowercase())))
        .min_by_key(|(_, d)| *d)?;
    if d <= 2.max(v.chars().count() / 3) {
        return Some(best);
    }
    valid
        .iter()
        .copied()
        .find(|c| v.len() >= 3 && c.to_lowercase().starts_with(&v))
}

/// Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The line of `field = …` inside the `i`-th `[[narration]]` table (in its
/// inline `on = { … }` or a `[narration.on]` table), else of the table's
/// header.
fn narration_field_line(text: &str, i: usize, field: &str) -> usize {
    const HEADER: &str = "[[narration]]";
    let Some((start, _)) = text.match_indices(HEADER).nth(i) else {
        return 0;
    };
    let body = start + HEADER.len();
    let end = text[body..].find("\n[[").map_or(text.len(), |o| body + o);
    let section = &text[start..end];
    for (o, _) in section.match_indices(field) {
        let key_start = section[..o]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || c == '{' || c == ',');
        let rest = section[o + field.len()..].trim_start_matches([' ', '\t']);
        if key_start && rest.starts_with('=') {
            return line_col(text, start + o).0;
        }
    }
    line_col(text, start).0
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, col)
}

/// Seconds (float) to a duration, for scenario fields.
pub fn secs(s: f64) -> std::time::Duration {
    std::time::Duration::from_secs_f64(s.max(0.0))
}

/// Accept "250ms"-style strings where a scenario gives a duration as text.
pub fn duration_text(s: &str) -> Result<std::time::Duration, String> {
    parse_duration(s)
}

#[cfg(test)]
mod tests {
    use serde::de::DeserializeOwned;

    use super::*;
    use crate::event::{
        AbortReason, DropReason, FaultAction, KeepaliveAction, RecoveryAction, RtxCause, TcbAction,
        TimerAction,
    };

    /// `name` as the event schema spells a value of `T`.
    fn read<T: DeserializeOwned>(name: &str) -> Option<T> {
        serde_json::from_value(serde_json::Value::String(name.into())).ok()
    }

    /// The lists the narration checks accept name values the events have
    /// (none of them a typo, none an `Other`).
    #[test]
    fn the_accepted_values_are_the_events_values() {
        for (kind, actions) in MATCH_ACTIONS {
            for a in *actions {
                let known = match *kind {
                    "timer" => read::<TimerAction>(a).is_some(),
                    "keepalive" => read::<KeepaliveAction>(a).is_some(),
                    "tcb" => read::<TcbAction>(a).is_some(),
                    "fault" => read::<FaultAction>(a).is_some_and(|f| f.name() == *a),
                    "recovery" => read::<RecoveryAction>(a).is_some_and(|r| r.name() == *a),
                    other => panic!("no action list for {other}"),
                };
                assert!(known, "{kind} action {a}");
            }
        }
        for (kind, reasons) in MATCH_REASONS {
            for r in *reasons {
                let known = match *kind {
                    "abort" => read::<AbortReason>(r)
                        .is_some_and(|x| !matches!(x, AbortReason::Other(_)) && x.name() == *r),
                    "drop" => read::<DropReason>(r)
                        .is_some_and(|x| !matches!(x, DropReason::Other(_)) && x.name() == *r),
                    other => panic!("no reason list for {other}"),
                };
                assert!(known, "{kind} reason {r}");
            }
        }
        for b in MATCH_BY {
            assert!(read::<RtxCause>(b).is_some_and(|c| c.name() == *b), "{b}");
        }
        for (field, kinds) in FIELD_KINDS {
            assert!(kinds.iter().all(|k| MATCH_KINDS.contains(k)), "{field}");
        }
    }

    #[test]
    fn nearest_values_allow_a_slip_not_a_guess() {
        let kinds = MATCH_KINDS;
        assert_eq!(nearest("segmnet", kinds), Some("segment"));
        assert_eq!(nearest("Timer", kinds), Some("timer"));
        assert_eq!(nearest("negotiate", kinds), Some("negotiated"));
        assert_eq!(nearest("xyzzy", kinds), None);
        assert_eq!(edit_distance("segmnet", "segment"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(one_of(&["in", "out"]), "in or out");
        assert_eq!(one_of(&["a"]), "a");
    }
}
