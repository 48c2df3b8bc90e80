//! The config file (docs/ui.md, The config file): a default for each shared
//! flag and the key bindings, in TOML.
//!
//! `--config FILE`, else `$XDG_CONFIG_HOME/tcpscope/config.toml` (else
//! `~/.config/tcpscope/config.toml`); a missing default file is no file, a
//! missing `--config` file an error. Keys are the flags' long names; values
//! are read by the flags' own parsers. A wrong file is one sentence naming
//! the file, the line and the key; unknown keys are errors.
//!
//! Where its values go: the engine's settings become layer 4 of
//! `crate::settings` (over the scenario, under the flags); the rest
//! (language, theme, walkthrough, duration, fault rules, keys) are used
//! where the flag is not given.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::cli::{self, Common};
use crate::fault::Rule;
use crate::scenario::Lang;
use crate::settings::{Limits, Overrides};
use crate::tcp::{CcAlgo, Config, Profile};
use crate::ui::keys::{Key, KeyAction, KeyMap};
use crate::ui::theme::ThemeName;

/// What a config file says, checked.
#[derive(Clone, Debug, Default)]
pub struct FileSettings {
    pub path: PathBuf,
    /// Engine settings, fault rules and language, as flags would give them.
    pub engine: Overrides,
    pub theme: Option<ThemeName>,
    pub step: Option<bool>,
    pub duration: Option<f64>,
    pub keys: KeyMap,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    profile: Option<Spanned<String>>,
    msl: Option<Spanned<f64>>,
    keepalive: Option<Spanned<String>>,
    rto_min: Option<Spanned<f64>>,
    cc: Option<Spanned<String>>,
    rack: Option<bool>,
    seed: Option<u64>,
    lang: Option<Spanned<String>>,
    theme: Option<Spanned<String>>,
    step: Option<bool>,
    duration: Option<Spanned<f64>>,
    drop: Option<Vec<Spanned<String>>>,
    loss: Option<Spanned<String>>,
    max_connections: Option<usize>,
    backlog: Option<usize>,
    send_buf: Option<usize>,
    recv_buf: Option<usize>,
    ooo_segments: Option<usize>,
    syn_cookies: Option<bool>,
    keys: Option<BTreeMap<String, Spanned<OneOrMany>>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// The default file's place: `$XDG_CONFIG_HOME/tcpscope/config.toml`, else
/// `$HOME/.config/tcpscope/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".config"))
        })?;
    Some(base.join("tcpscope").join("config.toml"))
}

/// Read the config file the command line names (or the default one) and
/// put its values under the flags: the result is the command line to run.
pub fn apply(mut common: Common) -> Result<Common, String> {
    let file = match &common.config {
        Some(p) => Some(load(p)?),
        None => match default_path() {
            Some(p) if p.exists() => Some(load(&p)?),
            _ => None,
        },
    };
    let Some(f) = file else {
        return Ok(common);
    };
    common.lang = common.lang.or(f.engine.lang);
    common.theme = common.theme.or(f.theme);
    common.step = common.step || f.step.unwrap_or(false);
    common.duration = common.duration.or(f.duration);
    common.file = Some(Arc::new(f));
    Ok(common)
}

/// Read and check one file.
pub fn load(path: &Path) -> Result<FileSettings, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the config file {}: {e}", path.display()))?;
    parse(path, &text)
}

/// The line (from 1) of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The dotted key written on `line` (from 1): the table header above it
/// and the name before `=`; or the header itself.
fn key_at(text: &str, line: usize) -> Option<String> {
    let mut table = String::new();
    let mut key = None;
    for (i, l) in text.lines().enumerate() {
        let l = l.trim();
        if l.starts_with('[') {
            table = l.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            if i + 1 == line {
                return Some(table);
            }
        } else if let Some((k, _)) = l.split_once('=')
            && !l.starts_with('#')
        {
            let k = k.trim().trim_matches('"').to_string();
            key = Some(if table.is_empty() {
                k
            } else {
                format!("{table}.{k}")
            });
        }
        if i + 1 == line {
            return key;
        }
    }
    key
}

/// One sentence: the file, the line, the key, what is wrong.
fn sentence(path: &Path, text: &str, span: Option<std::ops::Range<usize>>, msg: &str) -> String {
    let Some(span) = span else {
        return format!("the config file {}: {msg}", path.display());
    };
    let line = line_of(text, span.start);
    match key_at(text, line) {
        Some(k) => format!(
            "the config file {}, line {line}, key `{k}`: {msg}",
            path.display()
        ),
        None => format!("the config file {}, line {line}: {msg}", path.display()),
    }
}

/// Parse a config file's text (`path` only names it in errors).
pub fn parse(path: &Path, text: &str) -> Result<FileSettings, String> {
    let raw: Raw = toml::from_str(text).map_err(|e| {
        let msg = e.message().trim();
        let msg = if msg.starts_with("unknown field") {
            "no such setting (`tcpscope config` prints every one)".to_string()
        } else {
            msg.to_string()
        };
        sentence(path, text, e.span(), &msg)
    })?;
    let err = |span: std::ops::Range<usize>, msg: String| sentence(path, text, Some(span), &msg);
    let mut f = FileSettings {
        path: path.to_path_buf(),
        ..FileSettings::default()
    };
    let e = &mut f.engine;
    if let Some(v) = raw.profile {
        e.profile = Some(Profile::from_name(v.get_ref()).ok_or_else(|| {
            let names: Vec<&str> = Profile::ALL.iter().map(|p| p.name()).collect();
            err(
                v.span(),
                format!("\"{}\" is not a profile: {}", v.get_ref(), names.join(", ")),
            )
        })?);
    }
    let secs = |v: Spanned<f64>, what: &str| -> Result<f64, String> {
        let x = *v.get_ref();
        if x.is_finite() && x >= 0.0 {
            Ok(x)
        } else {
            Err(err(v.span(), format!("{x} is not a number of {what}")))
        }
    };
    if let Some(v) = raw.msl {
        e.msl = Some(Duration::from_secs_f64(secs(v, "seconds")?));
    }
    if let Some(v) = raw.rto_min {
        e.rto_min = Some(Duration::from_secs_f64(secs(v, "milliseconds")? / 1000.0));
    }
    if let Some(v) = raw.keepalive {
        e.keepalive = Some(cli::parse_keepalive(v.get_ref()).map_err(|m| err(v.span(), m))?);
    }
    if let Some(v) = raw.cc {
        e.cc = Some(cli::parse_cc(v.get_ref()).map_err(|m| err(v.span(), m))?);
    }
    e.rack = raw.rack;
    e.seed = raw.seed;
    if let Some(v) = raw.lang {
        use clap::ValueEnum;
        e.lang = Some(
            Lang::from_str(v.get_ref(), true)
                .map_err(|_| err(v.span(), format!("\"{}\" is not en or zh", v.get_ref())))?,
        );
    }
    if let Some(v) = raw.theme {
        f.theme = Some(ThemeName::from_name(v.get_ref()).ok_or_else(|| {
            err(
                v.span(),
                format!(
                    "\"{}\" is not a theme: dark, light, high-contrast or mono",
                    v.get_ref()
                ),
            )
        })?);
    }
    f.step = raw.step;
    if let Some(v) = raw.duration {
        f.duration = Some(secs(v, "seconds")?);
    }
    for d in raw.drop.unwrap_or_default() {
        e.rules
            .push(Rule::parse_drop(d.get_ref()).map_err(|m| err(d.span(), m))?);
    }
    if let Some(v) = raw.loss {
        e.rules
            .extend(Rule::parse_loss(v.get_ref()).map_err(|m| err(v.span(), m))?);
    }
    e.limits = Limits {
        max_connections: raw.max_connections,
        backlog: raw.backlog,
        send_buf: raw.send_buf,
        recv_buf: raw.recv_buf,
        ooo_segments: raw.ooo_segments,
        syn_cookies: raw.syn_cookies,
    };
    // Keys: each action named replaces its default keys; a key the file
    // gives two actions is an error.
    let mut given: Vec<(Key, KeyAction)> = Vec::new();
    let mut entries: Vec<(String, Spanned<OneOrMany>)> =
        raw.keys.unwrap_or_default().into_iter().collect();
    entries.sort_by_key(|(_, v)| v.span().start);
    for (name, v) in entries {
        let span = v.span();
        let action = KeyAction::from_name(&name).ok_or_else(|| {
            err(
                span.clone(),
                format!(
                    "\"{name}\" is not an action (`tcpscope config` lists them: quit, help, up, …)"
                ),
            )
        })?;
        let names = match v.into_inner() {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        };
        let mut keys = Vec::new();
        for n in names {
            let k = Key::parse(&n).map_err(|m| err(span.clone(), m))?;
            if let Some((_, other)) = given.iter().find(|(g, _)| *g == k) {
                return Err(err(
                    span,
                    format!("{n} is bound to {} as well", other.name()),
                ));
            }
            given.push((k, action));
            keys.push(k);
        }
        f.keys.bind(action, keys);
    }
    Ok(f)
}

/// `tcpscope config`: every setting and key, commented out, at its default
/// (an example where there is none); uncommented, it reads back as is.
pub fn default_file() -> String {
    let c = Config::default();
    let ka = c.keepalive;
    let mut out = String::new();
    let mut put = |s: &str| {
        out.push_str(s);
        out.push('\n');
    };
    put("# tcpscope's config file: $XDG_CONFIG_HOME/tcpscope/config.toml");
    put("# (else ~/.config/tcpscope/config.toml), or --config FILE.");
    put("# Each setting is the default of the flag of the same name. What wins:");
    put("# defaults < profile < scenario file < this file < command-line flags.");
    put("# Unknown keys are errors. Delete the # to change a value.");
    put("");
    let settings: Vec<(&str, String, &str)> = vec![
        (
            "Timer and keepalive defaults: rfc, linux or classroom",
            "profile = \"rfc\"".into(),
            "",
        ),
        (
            "Maximum segment lifetime, seconds; TIME-WAIT lasts twice this",
            format!("msl = {}", c.msl.as_secs_f64()),
            "",
        ),
        (
            "Keepalive on for every connection: \"IDLE,INTERVAL,COUNT\" (s, s, probes)",
            format!(
                "keepalive = \"{},{},{}\"",
                ka.idle.as_secs_f64(),
                ka.interval.as_secs_f64(),
                ka.count
            ),
            " (off unless set)",
        ),
        (
            "Lower bound of the retransmission timeout, milliseconds",
            format!("rto-min = {}", c.rto_min.as_secs_f64() * 1000.0),
            "",
        ),
        (
            "Congestion control: newreno or cubic",
            format!("cc = \"{}\"", cc_name(c.cc)),
            "",
        ),
        (
            "RACK-TLP loss detection (RFC 8985)",
            format!("rack = {}", c.rack),
            "",
        ),
        (
            "Seed for ISNs, ports and random loss",
            "seed = 1".into(),
            " (example; random live, fixed in demos unless set)",
        ),
        (
            "Language of the UI and narration: en or zh",
            "lang = \"en\"".into(),
            " (default from the locale)",
        ),
        (
            "Colours: dark, light, high-contrast or mono",
            "theme = \"dark\"".into(),
            " (mono under NO_COLOR)",
        ),
        (
            "Walkthrough: stop at each narration",
            "step = false".into(),
            "",
        ),
        (
            "Stop after this many seconds",
            "duration = 60".into(),
            " (example; no limit unless set)",
        ),
        (
            "Drop rules, DIR[:FLAGS][:COUNT], used when no --drop or --loss is given",
            "drop = [\"in:S:1\"]".into(),
            " (example; none unless set)",
        ),
        (
            "Random loss, PCT or in=PCT,out=PCT, used when no --drop or --loss is given",
            "loss = \"5\"".into(),
            " (example; none unless set)",
        ),
        (
            "Connections in the table before new ones are refused",
            format!("max-connections = {}", c.max_connections),
            "",
        ),
        ("Listen backlog", format!("backlog = {}", c.backlog), ""),
        (
            "Send buffer per connection, bytes",
            format!("send-buf = {}", c.send_buf),
            "",
        ),
        (
            "Receive buffer per connection, bytes",
            format!("recv-buf = {}", c.recv_buf),
            "",
        ),
        (
            "Out-of-order segments kept per connection",
            format!("ooo-segments = {}", c.ooo_max_segments),
            "",
        ),
        (
            "SYN cookies when a listener's backlog is full",
            format!("syn-cookies = {}", c.syn_cookies),
            "",
        ),
    ];
    for (what, line, note) in settings {
        put(&format!("# {what}{note}."));
        put(&format!("# {line}"));
        put("");
    }
    put(
        "# Keys: after each action's name, \"key\" or [\"key\", \"key\"]. A key is one character (d, D, ?),",
    );
    put("# a name (Up, Down, Left, Right, PgUp, PgDn, Home, End, Tab, Shift-Tab, Enter,");
    put("# Esc, Backspace, Space, Delete, Insert, F1 to F12), or Ctrl- before either.");
    put("# Naming an action replaces its keys; Ctrl-C always quits.");
    put("[keys]");
    for a in KeyAction::ALL {
        let keys: Vec<String> = a
            .default_keys()
            .iter()
            .map(|k| format!("{:?}", k.config_name()))
            .collect();
        let v = if keys.len() == 1 {
            keys[0].clone()
        } else {
            format!("[{}]", keys.join(", "))
        };
        put(&format!("# {} = {v}", a.name()));
    }
    out
}

fn cc_name(c: CcAlgo) -> &'static str {
    match c {
        CcAlgo::NewReno => "newreno",
        other => other.name(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<FileSettings, String> {
        parse(Path::new("/etc/t.toml"), text)
    }

    #[test]
    fn the_printed_default_file_reads_back_as_the_defaults() {
        let text = default_file();
        // Commented out: nothing set.
        let f = p(&text).unwrap();
        assert_eq!(f.keys, KeyMap::default());
        assert!(f.engine.msl.is_none());
        // Every line uncommented: valid, and the keys are today's.
        let open: String = text
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest) if rest.contains(" = ") => rest,
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let f = p(&open).unwrap_or_else(|e| panic!("{e}\n{open}"));
        assert_eq!(f.keys, KeyMap::default());
        assert_eq!(f.engine.msl, Some(Config::default().msl));
        assert_eq!(f.engine.rto_min, Some(Config::default().rto_min));
        assert_eq!(f.engine.cc, Some(Config::default().cc));
        assert_eq!(f.theme, Some(ThemeName::Dark));
        for a in KeyAction::ALL {
            assert!(text.contains(&format!("# {} = ", a.name())), "{a:?}");
        }
    }

    #[test]
    fn errors_name_the_file_the_line_and_the_key() {
        let e = p("profile = \"linux\"\nmsl = \"long\"\n").unwrap_err();
        assert!(
            e.starts_with("the config file /etc/t.toml, line 2, key `msl`: "),
            "{e}"
        );
        let e = p("\nmls = 30\n").unwrap_err();
        assert_eq!(
            e,
            "the config file /etc/t.toml, line 2, key `mls`: no such setting (`tcpscope config` prints every one)"
        );
        let e = p("theme = \"dark\"\n[keys]\nzoom = \"Ctrl-\"\n").unwrap_err();
        assert!(
            e.starts_with(
                "the config file /etc/t.toml, line 3, key `keys.zoom`: \"Ctrl-\" is not a key"
            ),
            "{e}"
        );
        let e = p("[keys]\nzoom = \"z\"\nfly = \"y\"\n").unwrap_err();
        assert!(
            e.starts_with(
                "the config file /etc/t.toml, line 3, key `keys.fly`: \"fly\" is not an action"
            ),
            "{e}"
        );
        let e = p("cc = \"vegas\"").unwrap_err();
        assert!(
            e.contains("line 1, key `cc`: \"vegas\" is not newreno or cubic"),
            "{e}"
        );
        let e = p("[keys]\nzoom = \"y\"\nquit = [\"q\", \"y\"]\n").unwrap_err();
        assert!(
            e.contains("line 3, key `keys.quit`: y is bound to zoom as well"),
            "{e}"
        );
        let e = p("[colours]\nx = 1\n").unwrap_err();
        assert!(e.contains("line 1, key `colours`: no such setting"), "{e}");
    }

    #[test]
    fn key_names() {
        use crossterm::event::KeyCode;
        assert_eq!(Key::parse("Up").unwrap(), Key::plain(KeyCode::Up));
        assert_eq!(Key::parse("pgdn").unwrap(), Key::plain(KeyCode::PageDown));
        assert_eq!(Key::parse("Space").unwrap(), Key::plain(KeyCode::Char(' ')));
        assert_eq!(Key::parse("F5").unwrap(), Key::plain(KeyCode::F(5)));
        assert_eq!(Key::parse("D").unwrap(), Key::plain(KeyCode::Char('D')));
        assert_eq!(
            Key::parse("Ctrl-X").unwrap(),
            Key {
                code: KeyCode::Char('x'),
                ctrl: true
            }
        );
        assert!(Key::parse("F13").is_err());
        assert!(Key::parse("hyper").is_err());
        for a in KeyAction::ALL {
            for k in a.default_keys() {
                assert_eq!(Key::parse(&k.config_name()).unwrap(), k, "{a:?}");
            }
        }
    }
}
