//! The command line (README, Command line): parsing with clap and the
//! conversions from flags to engine settings and fault rules.

use std::ffi::OsStr;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};

use crate::fault::Rule;
use crate::scenario::Lang;
use crate::settings::{Limits, Overrides};
use crate::tcp::{Keepalive, Profile};
use crate::ui::theme::{Theme, ThemeName};

/// The rules one `--loss` value makes. A named type, because clap's derive
/// reads `Option<Vec<T>>` as "several values of T" and then panics when the
/// value parser returns the whole `Vec<Rule>`.
pub type LossRules = Vec<Rule>;

#[derive(Parser, Debug)]
#[command(
    name = "tcpscope",
    version,
    about = "Watch TCP think: a user-space TCP stack with a live view of every segment, state and timer",
    after_help = "With no command, tcpscope opens the guided tour in the terminal UI (no privileges needed)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<CliCommand>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Subcommand, Debug)]
pub enum CliCommand {
    /// Run a scenario between two engines on the in-memory wire (no root).
    Demo {
        /// A built-in scenario (see `tcpscope scenarios`) or a .toml file.
        #[arg(default_value = "tour")]
        scenario: String,
    },
    /// List the built-in scenarios, one per line.
    Scenarios,
    /// Run packetdrill scripts against one engine under virtual time:
    /// PASS, FAIL or UNSUPPORTED per file, then the counts (exit 0 only
    /// when all pass).
    Drill(DrillArgs),
    /// Run the stack on a TUN interface; real programs connect to it.
    Live(LiveArgs),
    /// Watch the machine's own TCP connections live, as a capture is shown
    /// (AF_PACKET through libpcap; needs CAP_NET_RAW).
    Watch(WatchArgs),
    /// Put the fault injector in the path of the kernel's packets of one
    /// port, both ways (NFQUEUE, fails open; needs CAP_NET_ADMIN).
    Intercept(InterceptArgs),
    /// Watch a live session shared with `live --share PATH`, read-only
    /// (the terminal UI, or its events with --headless).
    Attach {
        /// The session's socket (live --share PATH).
        path: PathBuf,
    },
    /// Open a recording (from --record), or a pcap/pcapng capture, in the
    /// terminal UI.
    Replay {
        /// The recording or capture file.
        file: PathBuf,
    },
    /// Draw a recording's or a capture's graph of one connection
    /// (time-sequence and windows) as an SVG.
    Plot {
        /// The recording (from --record) or capture file.
        file: PathBuf,
        /// The SVG to write.
        #[arg(short = 'o', long = "output", value_name = "OUT.svg")]
        output: PathBuf,
        /// The connection: IP:PORT<->IP:PORT (either side's) or a 1-based
        /// index; default: the one that carried the most data.
        #[arg(long, value_name = "ID")]
        conn: Option<String>,
    },
    /// Print a shell completion script for SHELL to stdout.
    Completions {
        /// bash, zsh, fish, powershell or elvish.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout.
    Man,
    /// Print a config file with every setting and key, commented out, at its default.
    Config,
}

#[derive(Args, Debug, Clone)]
pub struct DrillArgs {
    /// The scripts (.pkt).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The addresses the scripts run on: ipv4 (192.168.0.1, remote
    /// 192.0.2.1) or ipv6 (fd3d:a0b:17d6::1, remote fd3d:fa7b:d17d::1).
    #[arg(long, value_name = "ipv4|ipv6", default_value = "ipv4", value_parser = ["ipv4", "ipv6"])]
    pub ip_version: String,
    /// Timing tolerance in microseconds (default: the script's, else
    /// packetdrill's 4000, or 12.5 % of the interval when larger).
    #[arg(long, value_name = "USECS")]
    pub tolerance_usecs: Option<i64>,
}

#[derive(Args, Debug, Clone)]
pub struct LiveArgs {
    /// TUN interface name.
    #[arg(long, default_value = "tcpscope0")]
    pub iface: String,
    /// The kernel side's address, with prefix length.
    #[arg(long, default_value = "10.77.0.1/24")]
    pub addr: String,
    /// The address tcpscope's stack answers on.
    #[arg(long, default_value = "10.77.0.2")]
    pub stack_addr: Ipv4Addr,
    /// The kernel side's IPv6 address, with prefix length.
    #[arg(long, default_value = "fd77::1/64")]
    pub addr6: String,
    /// The IPv6 address tcpscope's stack answers on.
    #[arg(long, default_value = "fd77::2")]
    pub stack_addr6: Ipv6Addr,
    /// Built-in services, PORT:NAME with NAME echo, discard, chargen or http.
    #[arg(long, default_value = "7:echo,9:discard,19:chargen,80:http")]
    pub serve: String,
    /// Open a connection to IP:PORT or [IPV6]:PORT as well (repeatable).
    #[arg(long, value_parser = parse_socket)]
    pub connect: Vec<SocketAddr>,
    /// Text to send on each --connect connection once it is up.
    #[arg(long)]
    pub send: Option<String>,
    /// TUN offloads (virtio-net headers, TSO, checksum offload) so the
    /// kernel hands over 64 KiB segments; `off` for one packet per read.
    #[arg(long, value_name = "on|off", default_value = "on", value_parser = parse_on_off, action = clap::ArgAction::Set)]
    pub tun_offload: bool,
    /// Close an idle persistent HTTP connection after SECS.
    #[arg(long, value_name = "SECS")]
    pub http_idle: Option<f64>,
    /// Share this session on a Unix socket (mode 0660): `tcpscope attach
    /// PATH` watches it from another terminal, read-only.
    #[arg(long, value_name = "PATH")]
    pub share: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct WatchArgs {
    /// The interface to capture on (`any`: every one).
    #[arg(long, default_value = "any")]
    pub iface: String,
    /// Share this session on a Unix socket (as `live --share`).
    #[arg(long, value_name = "PATH")]
    pub share: Option<PathBuf>,
    /// A filter in tcpdump's syntax (e.g. `port 443`); only TCP is shown.
    #[arg(value_name = "FILTER")]
    pub filter: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct InterceptArgs {
    /// The port whose packets (either end's, both ways) go through tcpscope.
    #[arg(long)]
    pub port: u16,
    /// Only packets in from and out to this interface (default: every
    /// interface; loopback packets once, going out).
    #[arg(long)]
    pub iface: Option<String>,
    /// The NFQUEUE number tcpscope binds (one per running intercept).
    #[arg(long, value_name = "N", default_value_t = crate::tap::intercept::DEFAULT_QUEUE)]
    pub queue_num: u16,
    /// Share this session on a Unix socket (as `live --share`).
    #[arg(long, value_name = "PATH")]
    pub share: Option<PathBuf>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct Common {
    /// No TUI: events go to --events (stdout when not given).
    #[arg(long, global = true)]
    pub headless: bool,
    /// Write events as JSON lines to FILE (`-` for stdout).
    #[arg(long, global = true, value_name = "FILE")]
    pub events: Option<String>,
    /// Write every segment seen on the link to a pcapng file.
    #[arg(long, global = true, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// Stop after SECS (virtual seconds in demo, real seconds live).
    #[arg(long, global = true, value_name = "SECS", value_parser = parse_secs)]
    pub duration: Option<f64>,
    /// Write a recording that `tcpscope replay` opens.
    #[arg(long, global = true, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Demo: write the narration, each step with the ladder lines it
    /// explains, as a Markdown handout (when the run ends).
    #[arg(long, global = true, value_name = "FILE.md")]
    pub transcript: Option<PathBuf>,
    /// Demo, replay: no terminal; draw the UI's frame at --duration (a
    /// replay: its end) and write it to FILE as SVG.
    #[arg(long, global = true, value_name = "FILE.svg")]
    pub screenshot: Option<PathBuf>,
    /// The --screenshot frame's size in columns and rows (default 120x40).
    #[arg(long, global = true, value_name = "WxH", value_parser = crate::ui::screenshot::parse_size)]
    pub size: Option<crate::ui::screenshot::Size>,
    /// Walkthrough (TUI): stop at each narration; space goes on, backspace
    /// back (the tour's default).
    #[arg(long, global = true, conflicts_with = "no_step")]
    pub step: bool,
    /// No walkthrough: the tour runs through without stopping.
    #[arg(long, global = true)]
    pub no_step: bool,
    /// Demo, replay: playback speed in virtual seconds per real second
    /// (default: the scenario's; its speed steps still change it).
    #[arg(long, global = true, value_name = "X", value_parser = parse_speed)]
    pub speed: Option<f64>,
    /// Language of the UI and narration (default from the locale).
    #[arg(long, global = true, value_enum)]
    pub lang: Option<Lang>,
    /// Timer and keepalive defaults: rfc, linux or classroom.
    #[arg(long, global = true, value_parser = ProfileParser)]
    pub profile: Option<Profile>,
    /// Maximum segment lifetime; TIME-WAIT lasts twice this.
    #[arg(long, global = true, value_name = "SECS", value_parser = parse_secs)]
    pub msl: Option<f64>,
    /// Keepalive on for every connection: IDLE,INTERVAL,COUNT (s, s, probes).
    #[arg(long, global = true, value_name = "IDLE,INTERVAL,COUNT", value_parser = parse_keepalive)]
    pub keepalive: Option<Keepalive>,
    /// Lower bound of the retransmission timeout, in milliseconds.
    #[arg(long, global = true, value_name = "MS", value_parser = parse_ms)]
    pub rto_min: Option<Duration>,
    /// Congestion control: newreno (RFC 5681/6582) or cubic (RFC 9438).
    #[arg(long, global = true, value_name = "newreno|cubic", value_parser = parse_cc)]
    pub cc: Option<crate::tcp::CcAlgo>,
    /// RACK-TLP loss detection (RFC 8985): on or off.
    #[arg(long, global = true, value_name = "on|off", value_parser = parse_on_off)]
    pub rack: Option<bool>,
    /// Seed for ISNs, ports and random loss (same seed, same run).
    #[arg(long, global = true, value_name = "N")]
    pub seed: Option<u64>,
    /// Drop the next COUNT segments going DIR with exactly FLAGS: DIR[:FLAGS][:COUNT] (repeatable).
    #[arg(long = "drop", global = true, value_name = "DIR[:FLAGS][:COUNT]", value_parser = Rule::parse_drop)]
    pub drops: Vec<Rule>,
    /// Connections in the table (all states) before new ones are refused.
    #[arg(long, global = true, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Listen backlog: half-open plus not yet accepted connections.
    #[arg(long, global = true, value_name = "N")]
    pub backlog: Option<usize>,
    /// Send buffer per connection, in bytes.
    #[arg(long, global = true, value_name = "BYTES")]
    pub send_buf: Option<usize>,
    /// Receive buffer per connection, in bytes (the largest window).
    #[arg(long, global = true, value_name = "BYTES")]
    pub recv_buf: Option<usize>,
    /// Out-of-order segments kept per connection.
    #[arg(long, global = true, value_name = "N")]
    pub ooo_segments: Option<usize>,
    /// Answer SYNs with cookies when a listener's backlog is full (RFC 4987).
    #[arg(long, global = true, value_name = "on|off", value_parser = parse_on_off)]
    pub syn_cookies: Option<bool>,
    /// Random loss: PCT both ways, or in=PCT,out=PCT.
    #[arg(long, global = true, value_name = "PCT|in=PCT,out=PCT", value_parser = Rule::parse_loss)]
    pub loss: Option<LossRules>,
    /// Colours: dark, light (projector in a lit room), high-contrast or mono.
    #[arg(long, global = true, value_name = "dark|light|high-contrast|mono", value_parser = parse_theme)]
    pub theme: Option<ThemeName>,
    /// Defaults for these flags and key bindings (`tcpscope config` prints one);
    /// else $XDG_CONFIG_HOME/tcpscope/config.toml if it exists.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What the config file held (filled in by `config::apply`, no flag).
    #[arg(skip)]
    pub file: Option<std::sync::Arc<crate::config::FileSettings>>,
}

fn parse_theme(s: &str) -> Result<ThemeName, String> {
    ThemeName::from_name(s)
        .ok_or_else(|| format!("\"{s}\" is not a theme: dark, light, high-contrast or mono"))
}

fn parse_speed(s: &str) -> Result<f64, String> {
    let (lo, hi) = (
        crate::driver::clock::MIN_SPEED,
        crate::driver::clock::MAX_SPEED,
    );
    s.trim_start_matches(['×', 'x'])
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && (lo..=hi).contains(v))
        .ok_or_else(|| {
            format!("\"{s}\" is not a speed: a factor from {lo} to {hi:.0} (virtual seconds per real second)")
        })
}

pub(crate) fn parse_secs(s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("\"{s}\" is not a number of seconds"))
}

/// `--profile`: the engine's profile names, each with its summary in
/// `--help`. clap's parser for a list of names (its error, with the possible
/// values and a suggestion), over the value read as lossy UTF-8 as clap reads
/// an enum.
#[derive(Clone)]
struct ProfileParser;

impl ProfileParser {
    fn values() -> impl Iterator<Item = PossibleValue> {
        Profile::ALL
            .into_iter()
            .map(|p| PossibleValue::new(p.name()).help(p.summary()))
    }
}

impl TypedValueParser for ProfileParser {
    type Value = Profile;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<Profile, clap::Error> {
        let value = value.to_string_lossy();
        let name = PossibleValuesParser::new(Self::values()).parse_ref(
            cmd,
            arg,
            OsStr::new(value.as_ref()),
        )?;
        Ok(Profile::from_name(&name).expect("every possible value names a profile"))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(Self::values()))
    }
}

fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" | "yes" | "true" => Ok(true),
        "off" | "no" | "false" => Ok(false),
        _ => Err(format!("\"{s}\" is not on or off")),
    }
}

pub(crate) fn parse_cc(s: &str) -> Result<crate::tcp::CcAlgo, String> {
    crate::tcp::CcAlgo::from_name(s).ok_or_else(|| format!("\"{s}\" is not newreno or cubic"))
}

fn parse_ms(s: &str) -> Result<Duration, String> {
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| Duration::from_secs_f64(v / 1000.0))
        .ok_or_else(|| format!("\"{s}\" is not a number of milliseconds"))
}

fn parse_socket(s: &str) -> Result<SocketAddr, String> {
    let a: SocketAddr = s.parse().map_err(|_| {
        format!("\"{s}\" is not an address and port such as 10.77.0.1:8080 or [fd77::1]:8080")
    })?;
    match a {
        SocketAddr::V6(v6) if v6.scope_id() != 0 => Err(format!(
            "\"{s}\" has a zone index: give the address without %ZONE (the stack has one interface)"
        )),
        _ => Ok(a),
    }
}

pub fn parse_keepalive(s: &str) -> Result<Keepalive, String> {
    let parts: Vec<&str> = s.split(',').collect();
    let bad = || format!("--keepalive {s}: expected IDLE,INTERVAL,COUNT such as 7200,75,10");
    if parts.len() != 3 {
        return Err(bad());
    }
    let idle = parse_secs(parts[0]).map_err(|_| bad())?;
    let interval = parse_secs(parts[1]).map_err(|_| bad())?;
    let count: u32 = parts[2].trim().parse().map_err(|_| bad())?;
    if idle <= 0.0 || interval <= 0.0 || count == 0 {
        return Err(format!(
            "--keepalive {s}: idle, interval and count must be above 0"
        ));
    }
    Ok(Keepalive {
        idle: Duration::from_secs_f64(idle),
        interval: Duration::from_secs_f64(interval),
        count,
    })
}

impl Common {
    /// The theme, keys and language for the terminal UI: `--theme`, else
    /// the config file's; its `[keys]`; the narration's language.
    pub fn ui(&self) -> crate::ui::UiSettings {
        let file = self.file.as_deref();
        crate::ui::UiSettings {
            theme: Theme::chosen(self.theme.or(file.and_then(|f| f.theme))),
            keys: file.map(|f| f.keys.clone()).unwrap_or_default(),
            lang: self.overrides().lang.unwrap_or_else(Lang::from_env),
        }
    }

    pub fn overrides(&self) -> Overrides {
        let mut rules = self.drops.clone();
        if let Some(l) = &self.loss {
            rules.extend(l.iter().cloned());
        }
        let file = self
            .file
            .as_ref()
            .map(|f| std::sync::Arc::new(f.engine.clone()));
        // The file's fault rules and language, unless the flags give their own.
        if let Some(f) = &file
            && self.drops.is_empty()
            && self.loss.is_none()
        {
            rules = f.rules.clone();
        }
        let lang = self.lang.or(file.as_ref().and_then(|f| f.lang));
        Overrides {
            profile: self.profile,
            msl: self.msl.map(Duration::from_secs_f64),
            keepalive: self.keepalive,
            rto_min: self.rto_min,
            seed: self.seed,
            cc: self.cc,
            rack: self.rack,
            rules,
            lang: Some(lang.unwrap_or_else(Lang::from_env)),
            limits: Limits {
                max_connections: self.max_connections,
                backlog: self.backlog,
                send_buf: self.send_buf,
                recv_buf: self.recv_buf,
                ooo_segments: self.ooo_segments,
                syn_cookies: self.syn_cookies,
            },
            config: file,
        }
    }
}
