//! Scenarios: who does what and when between two engines on the in-memory
//! wire, which faults apply, and the narration attached to the events.
//!
//! A scenario is a TOML file (`assets/scenarios/*.toml`, embedded in the
//! binary); `tcpscope demo FILE.toml` runs a user's own.

pub mod run;

use std::net::IpAddr;
use std::path::Path;

use serde::Deserialize;

use crate::fault::{Action, DirMatch, Rule, Trigger, parse_duration};
use crate::link::memory::Side;
use crate::wire::Flags;

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
    pub zh: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    pub title: String,
    pub title_zh: Option<String>,
    /// What it teaches, a paragraph.
    pub about: Option<String>,
    pub profile: Option<String>,
    /// One-way delay of the wire in milliseconds.
    #[serde(default = "default_delay")]
    pub delay_ms: f64,
    /// Stop after this many virtual seconds even if timers are still armed.
    pub duration: Option<f64>,
    /// Virtual seconds per real second the TUI starts at.
    pub speed: Option<f64>,
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
        sc.check(origin, text)?;
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
            if let Some(fl) = &n.on.flags {
                Flags::from_letters(fl).map_err(|e| {
                    format!("{}: narration field `flags`: {e}", at("[[narration]]", i))
                })?;
            }
            if n.on.nth == Some(0) {
                return Err(format!(
                    "{}: narration field `nth` counts from 1",
                    at("[[narration]]", i)
                ));
            }
        }
        Ok(())
    }

    pub fn title_for(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => self.title_zh.as_deref().unwrap_or(&self.title),
            Lang::En => &self.title,
        }
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, col)
}

/// Narration language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// From LC_ALL / LC_MESSAGES / LANG: Chinese locales get `zh`.
    pub fn from_env() -> Lang {
        for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Ok(v) = std::env::var(var)
                && !v.is_empty()
            {
                return if v.to_ascii_lowercase().starts_with("zh") {
                    Lang::Zh
                } else {
                    Lang::En
                };
            }
        }
        Lang::En
    }
}

/// Seconds (float) to a duration, for scenario fields.
pub fn secs(s: f64) -> std::time::Duration {
    std::time::Duration::from_secs_f64(s.max(0.0))
}

/// Accept "250ms"-style strings where a scenario gives a duration as text.
pub fn duration_text(s: &str) -> Result<std::time::Duration, String> {
    parse_duration(s)
}
