//! Key bindings: which key means what, in one table ([`KeyMap`]) that the
//! help popup and the key hint line are drawn from, so they can never
//! disagree with what the keys do. The config file's `[keys]` table
//! rebinds any action by its [`KeyAction::name`].

use std::sync::LazyLock;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a key asks the UI to do (outside popups and text fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAction {
    Quit,
    Help,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    FocusNext,
    FocusPrev,
    Details,
    Back,
    DropIn,
    DropOut,
    Loss,
    Hold,
    /// Release one held segment, else step (walkthrough, replay), else pause.
    Space,
    StepForward,
    StepBack,
    ReleaseAll,
    FaultForm,
    ClearRules,
    Close,
    Abort,
    Connect,
    Keepalive,
    /// Which lifeline x, a and K act for (demo: client or server).
    OtherSide,
    Faster,
    Slower,
    Pause,
    Walkthrough,
    Filter,
    Absolute,
    SeekBack,
    SeekForward,
    SeekBackFar,
    SeekForwardFar,
    /// The selected pane gets the whole screen, and back.
    Zoom,
    /// Write the frame on screen as an SVG file (`S`).
    Screenshot,
    /// The graph view (time–sequence and windows) ⇄ the ladder.
    Graph,
    /// The lesson's chapter list, to jump to one (the tour).
    Chapters,
}

impl KeyAction {
    /// Every action, in the order the config file lists them.
    pub const ALL: [KeyAction; 41] = {
        use KeyAction::*;
        [
            Quit,
            Help,
            Up,
            Down,
            PageUp,
            PageDown,
            Top,
            Bottom,
            FocusNext,
            FocusPrev,
            Details,
            Back,
            Zoom,
            Graph,
            Filter,
            Absolute,
            OtherSide,
            DropIn,
            DropOut,
            Loss,
            Hold,
            Space,
            ReleaseAll,
            FaultForm,
            ClearRules,
            Close,
            Abort,
            Keepalive,
            Connect,
            StepForward,
            StepBack,
            Pause,
            Walkthrough,
            Chapters,
            Faster,
            Slower,
            SeekBack,
            SeekForward,
            SeekBackFar,
            SeekForwardFar,
            Screenshot,
        ]
    };

    /// The action's name in the config file's `[keys]` table.
    pub fn name(self) -> &'static str {
        use KeyAction::*;
        match self {
            Quit => "quit",
            Help => "help",
            Up => "up",
            Down => "down",
            PageUp => "page_up",
            PageDown => "page_down",
            Top => "top",
            Bottom => "bottom",
            FocusNext => "focus_next",
            FocusPrev => "focus_prev",
            Details => "details",
            Back => "back",
            DropIn => "drop_in",
            DropOut => "drop_out",
            Loss => "loss",
            Hold => "hold",
            Space => "release_or_step",
            StepForward => "step_forward",
            StepBack => "step_back",
            ReleaseAll => "release_all",
            FaultForm => "fault_form",
            ClearRules => "clear_rules",
            Close => "close",
            Abort => "abort",
            Connect => "connect",
            Keepalive => "keepalive",
            OtherSide => "other_side",
            Faster => "faster",
            Slower => "slower",
            Pause => "pause",
            Walkthrough => "walkthrough",
            Filter => "filter",
            Absolute => "absolute",
            SeekBack => "seek_back",
            SeekForward => "seek_forward",
            SeekBackFar => "seek_back_far",
            SeekForwardFar => "seek_forward_far",
            Zoom => "zoom",
            Screenshot => "screenshot",
            Graph => "graph",
            Chapters => "chapters",
        }
    }

    pub fn from_name(s: &str) -> Option<KeyAction> {
        KeyAction::ALL.into_iter().find(|a| a.name() == s)
    }

    /// Today's keys: the defaults a config file may change.
    pub fn default_keys(self) -> Vec<Key> {
        use KeyAction::*;
        use KeyCode as C;
        let codes: &[KeyCode] = match self {
            Quit => &[C::Char('q')],
            Help => &[C::Char('?'), C::F(1)],
            Up => &[C::Up, C::Char('k')],
            Down => &[C::Down, C::Char('j')],
            PageUp => &[C::PageUp],
            PageDown => &[C::PageDown],
            Top => &[C::Home, C::Char('g')],
            Bottom => &[C::End, C::Char('G')],
            FocusNext => &[C::Tab],
            FocusPrev => &[C::BackTab],
            Details => &[C::Enter],
            Back => &[C::Esc],
            DropIn => &[C::Char('d')],
            DropOut => &[C::Char('D')],
            Loss => &[C::Char('l')],
            Hold => &[C::Char('h')],
            Space => &[C::Char(' ')],
            StepForward => &[C::Char('.')],
            StepBack => &[C::Backspace],
            ReleaseAll => &[C::Char('r')],
            FaultForm => &[C::Char('f')],
            ClearRules => &[C::Char('F')],
            Close => &[C::Char('x')],
            Abort => &[C::Char('a')],
            Connect => &[C::Char('c')],
            Keepalive => &[C::Char('K')],
            OtherSide => &[C::Char('v')],
            Faster => &[C::Char('t')],
            Slower => &[C::Char('T')],
            Pause => &[C::Char('p')],
            Walkthrough => &[C::Char('s')],
            Chapters => &[C::Char('C')],
            Filter => &[C::Char('/')],
            Absolute => &[C::Char('n')],
            SeekBack => &[C::Char('[')],
            SeekForward => &[C::Char(']')],
            SeekBackFar => &[C::Char('{')],
            SeekForwardFar => &[C::Char('}')],
            Zoom => &[C::Char('z')],
            Screenshot => &[C::Char('S')],
            Graph => &[C::Char('w')],
        };
        codes.iter().map(|c| Key::plain(*c)).collect()
    }
}

/// One key: a code, with or without Ctrl (Shift is in the character).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

/// Named keys: (config name, shown as).
const NAMED: &[(&str, KeyCode, &str)] = &[
    ("up", KeyCode::Up, "↑"),
    ("down", KeyCode::Down, "↓"),
    ("left", KeyCode::Left, "←"),
    ("right", KeyCode::Right, "→"),
    ("pageup", KeyCode::PageUp, "PgUp"),
    ("pgup", KeyCode::PageUp, "PgUp"),
    ("pagedown", KeyCode::PageDown, "PgDn"),
    ("pgdn", KeyCode::PageDown, "PgDn"),
    ("home", KeyCode::Home, "Home"),
    ("end", KeyCode::End, "End"),
    ("tab", KeyCode::Tab, "Tab"),
    ("backtab", KeyCode::BackTab, "Shift-Tab"),
    ("shift-tab", KeyCode::BackTab, "Shift-Tab"),
    ("enter", KeyCode::Enter, "Enter"),
    ("return", KeyCode::Enter, "Enter"),
    ("esc", KeyCode::Esc, "Esc"),
    ("escape", KeyCode::Esc, "Esc"),
    ("backspace", KeyCode::Backspace, "Backspace"),
    ("space", KeyCode::Char(' '), "space"),
    ("delete", KeyCode::Delete, "Delete"),
    ("insert", KeyCode::Insert, "Insert"),
];

impl Key {
    pub const fn plain(code: KeyCode) -> Key {
        Key { code, ctrl: false }
    }

    /// A key as the config file names it: one character (`d`, `D`, `?`),
    /// a name (`Up`, `PgDn`, `Enter`, `Esc`, `Space`, `F1`…`F12`, …, any
    /// case), either after `Ctrl-`.
    pub fn parse(s: &str) -> Result<Key, String> {
        let bad = || {
            format!(
                "\"{s}\" is not a key: write one character (d, D, ?), a name (Up, Down, Left, Right, PgUp, PgDn, Home, End, Tab, Shift-Tab, Enter, Esc, Backspace, Space, Delete, Insert, F1 to F12), or Ctrl- before either"
            )
        };
        let lower = s.to_ascii_lowercase();
        let (ctrl, rest) = match lower.strip_prefix("ctrl-").or(lower.strip_prefix("ctrl+")) {
            Some(_) => (true, &s[5..]),
            None => (false, s),
        };
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(if ctrl { c.to_ascii_lowercase() } else { c }),
            _ => {
                let name = rest.to_ascii_lowercase();
                if let Some((_, code, _)) = NAMED.iter().find(|(n, _, _)| *n == name) {
                    *code
                } else if let Some(n) = name
                    .strip_prefix('f')
                    .and_then(|n| n.parse::<u8>().ok())
                    .filter(|n| (1..=12).contains(n))
                {
                    KeyCode::F(n)
                } else {
                    return Err(bad());
                }
            }
        };
        Ok(Key { code, ctrl })
    }

    /// How help and hints show it.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(c) => c.to_string(),
            KeyCode::F(n) => format!("F{n}"),
            code => NAMED
                .iter()
                .find(|(_, c, _)| *c == code)
                .map(|(_, _, shown)| shown.to_string())
                .unwrap_or_else(|| format!("{code:?}")),
        };
        if self.ctrl {
            format!("Ctrl-{base}")
        } else {
            base
        }
    }

    /// How the config file writes it (what [`Key::parse`] reads back).
    pub fn config_name(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::F(n) => format!("F{n}"),
            KeyCode::Up => "Up".into(),
            KeyCode::Down => "Down".into(),
            KeyCode::Left => "Left".into(),
            KeyCode::Right => "Right".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::BackTab => "Shift-Tab".into(),
            code => self
                .label()
                .strip_prefix("Ctrl-")
                .map(str::to_string)
                .unwrap_or_else(|| format!("{code:?}")),
        };
        if self.ctrl {
            format!("Ctrl-{base}")
        } else {
            base
        }
    }
}

/// Which keys mean which action: today's keys, with whatever the config
/// file's `[keys]` table changed. Ctrl-C always quits as well.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyMap {
    keys: Vec<(KeyAction, Vec<Key>)>,
}

impl Default for KeyMap {
    fn default() -> KeyMap {
        KeyMap {
            keys: KeyAction::ALL
                .into_iter()
                .map(|a| (a, a.default_keys()))
                .collect(),
        }
    }
}

impl KeyMap {
    /// The keys bound to `a`.
    pub fn keys(&self, a: KeyAction) -> &[Key] {
        self.keys
            .iter()
            .find(|(x, _)| *x == a)
            .map(|(_, k)| k.as_slice())
            .unwrap_or(&[])
    }

    /// Bind `keys` to `a` instead of its keys so far; a key another action
    /// had is taken from it.
    pub fn bind(&mut self, a: KeyAction, keys: Vec<Key>) {
        for (x, ks) in &mut self.keys {
            if *x == a {
                *ks = keys.clone();
            } else {
                ks.retain(|k| !keys.contains(k));
            }
        }
    }

    fn is_default(&self, a: KeyAction) -> bool {
        self.keys(a) == a.default_keys().as_slice()
    }

    /// The action of a key outside popups; `None` for keys that mean nothing.
    pub fn action(&self, key: &KeyEvent) -> Option<KeyAction> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            return Some(KeyAction::Quit);
        }
        let code = match key.code {
            KeyCode::Char(c) if ctrl => KeyCode::Char(c.to_ascii_lowercase()),
            c => c,
        };
        let k = Key { code, ctrl };
        self.keys
            .iter()
            .find(|(_, ks)| ks.contains(&k))
            .map(|(a, _)| *a)
    }

    /// What help shows for `actions`: the curated `default` while none of
    /// them was rebound, else each action's keys.
    pub fn help_label(&self, actions: &[KeyAction], default: &str) -> String {
        if actions.iter().all(|a| self.is_default(*a)) {
            return default.to_string();
        }
        let mut parts: Vec<String> = actions
            .iter()
            .map(|a| {
                self.keys(*a)
                    .iter()
                    .map(Key::label)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .filter(|s| !s.is_empty())
            .collect();
        if actions.contains(&KeyAction::Quit) {
            parts.push("Ctrl-C".into());
        }
        if parts.is_empty() {
            return "(unbound)".into();
        }
        parts.join("  ")
    }

    /// What the hint line shows for `actions`: `default` while none was
    /// rebound, else each action's first key, joined by `/`.
    pub fn hint(&self, actions: &[KeyAction], default: &str) -> String {
        if actions.iter().all(|a| self.is_default(*a)) {
            return default.to_string();
        }
        actions
            .iter()
            .filter_map(|a| self.keys(*a).first().map(Key::label))
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// The keys a help line stands for (its `action` and its partners).
pub fn help_actions(b: &Binding) -> Vec<KeyAction> {
    use KeyAction::*;
    match b.action {
        Down => vec![Up, Down],
        PageDown => vec![PageUp, PageDown],
        Bottom => vec![Top, Bottom],
        DropIn => vec![DropIn, DropOut],
        Faster => vec![Faster, Slower],
        SeekForward => vec![SeekBack, SeekForward, SeekBackFar, SeekForwardFar],
        a => vec![a],
    }
}

/// One line of the help popup.
pub struct Binding {
    pub keys: &'static str,
    pub action: KeyAction,
    pub what: &'static str,
}

/// Help sections, in the order the popup shows them (two columns: the
/// first `HELP_LEFT` sections on the left). Texts stay within 26 columns so
/// that the popup fits an 80×24 terminal.
pub const HELP: &[(&str, &[Binding])] = &[
    (
        "Look around",
        &[
            Binding {
                keys: "↑ ↓  j k",
                action: KeyAction::Down,
                what: "select connection / arrow",
            },
            Binding {
                keys: "PgUp PgDn",
                action: KeyAction::PageDown,
                what: "a page up / down",
            },
            Binding {
                keys: "g  G",
                action: KeyAction::Bottom,
                what: "first / follow the newest",
            },
            Binding {
                keys: "Tab",
                action: KeyAction::FocusNext,
                what: "connections ⇄ ladder",
            },
            Binding {
                keys: "Enter",
                action: KeyAction::Details,
                what: "details: headers, hex",
            },
            Binding {
                keys: "/",
                action: KeyAction::Filter,
                what: "filter connections",
            },
            Binding {
                keys: "w",
                action: KeyAction::Graph,
                what: "graph ⇄ (+- zoom, ←→ pan)",
            },
            Binding {
                keys: "n",
                action: KeyAction::Absolute,
                what: "relative ⇄ absolute seq",
            },
            Binding {
                keys: "v",
                action: KeyAction::OtherSide,
                what: "act as the other side",
            },
            Binding {
                keys: "mouse",
                action: KeyAction::Details,
                what: "click select, wheel scroll",
            },
            Binding {
                keys: "Esc",
                action: KeyAction::Back,
                what: "close popup / details",
            },
        ],
    ),
    (
        "Faults",
        &[
            Binding {
                keys: "d  D",
                action: KeyAction::DropIn,
                what: "drop next in / outbound",
            },
            Binding {
                keys: "l",
                action: KeyAction::Loss,
                what: "random loss rate",
            },
            Binding {
                keys: "h",
                action: KeyAction::Hold,
                what: "hold every segment ⇄ pass",
            },
            Binding {
                keys: "space",
                action: KeyAction::Space,
                what: "release one held segment",
            },
            Binding {
                keys: "r",
                action: KeyAction::ReleaseAll,
                what: "release all held segments",
            },
            Binding {
                keys: "f",
                action: KeyAction::FaultForm,
                what: "any fault rule (form)",
            },
            Binding {
                keys: "F",
                action: KeyAction::ClearRules,
                what: "remove every fault rule",
            },
        ],
    ),
    (
        "Connection",
        &[
            Binding {
                keys: "x",
                action: KeyAction::Close,
                what: "close (FIN)",
            },
            Binding {
                keys: "a",
                action: KeyAction::Abort,
                what: "abort (RST)",
            },
            Binding {
                keys: "K",
                action: KeyAction::Keepalive,
                what: "keepalive on ⇄ off",
            },
            Binding {
                keys: "c",
                action: KeyAction::Connect,
                what: "connect (live mode)",
            },
        ],
    ),
    (
        "Time (demo, replay)",
        &[
            Binding {
                keys: "space",
                action: KeyAction::Space,
                what: "next step / pause ⇄ run",
            },
            Binding {
                keys: "Backspace",
                action: KeyAction::StepBack,
                what: "one step back",
            },
            Binding {
                keys: ".",
                action: KeyAction::StepForward,
                what: "one step forward",
            },
            Binding {
                keys: "p",
                action: KeyAction::Pause,
                what: "pause ⇄ run",
            },
            Binding {
                keys: "s",
                action: KeyAction::Walkthrough,
                what: "walkthrough on ⇄ off",
            },
            Binding {
                keys: "C",
                action: KeyAction::Chapters,
                what: "chapters: jump to one",
            },
            Binding {
                keys: "t  T",
                action: KeyAction::Faster,
                what: "faster / slower",
            },
            Binding {
                keys: "[ ]  { }",
                action: KeyAction::SeekForward,
                what: "jump ∓10 s / ∓60 s",
            },
        ],
    ),
    (
        "General",
        &[
            Binding {
                keys: "?",
                action: KeyAction::Help,
                what: "help, then ladder notation",
            },
            Binding {
                keys: "z",
                action: KeyAction::Zoom,
                what: "zoom the pane ⇄ back",
            },
            Binding {
                keys: "q  Ctrl-C",
                action: KeyAction::Quit,
                what: "quit",
            },
            Binding {
                keys: "S",
                action: KeyAction::Screenshot,
                what: "screenshot (SVG file)",
            },
        ],
    ),
];

/// How many of [`HELP`]'s sections go in the left column.
pub const HELP_LEFT: usize = 2;

/// The key for an action outside popups with today's keys; `None` for
/// keys that mean nothing.
pub fn action(key: &KeyEvent) -> Option<KeyAction> {
    static DEFAULT: LazyLock<KeyMap> = LazyLock::new(KeyMap::default);
    DEFAULT.action(key)
}

/// Speeds `t` and `T` step through (virtual seconds per real second).
pub const SPEEDS: [f64; 12] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 100.0, 1000.0, 10000.0,
];

/// The next preset above (`faster`) or below the current speed.
pub fn next_speed(current: f64, faster: bool) -> f64 {
    if faster {
        SPEEDS
            .iter()
            .copied()
            .find(|s| *s > current * 1.0001)
            .unwrap_or(SPEEDS[SPEEDS.len() - 1])
    } else {
        SPEEDS
            .iter()
            .rev()
            .copied()
            .find(|s| *s < current * 0.9999)
            .unwrap_or(SPEEDS[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn letters_map_as_documented() {
        assert_eq!(action(&k(KeyCode::Char('d'))), Some(KeyAction::DropIn));
        assert_eq!(action(&k(KeyCode::Char('D'))), Some(KeyAction::DropOut));
        assert_eq!(action(&k(KeyCode::Char(' '))), Some(KeyAction::Space));
        assert_eq!(action(&k(KeyCode::Backspace)), Some(KeyAction::StepBack));
        assert_eq!(
            action(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(KeyAction::Quit)
        );
        assert_eq!(action(&k(KeyCode::Char('c'))), Some(KeyAction::Connect));
        assert_eq!(action(&k(KeyCode::Char('Z'))), None);
    }

    #[test]
    fn every_help_line_names_a_mapped_action() {
        let mapped: Vec<KeyAction> = "qjk?dDlh .rfFxacKvtTps/n[]{}gGzSwC"
            .chars()
            .filter_map(|c| action(&k(KeyCode::Char(c))))
            .chain(
                [
                    KeyCode::Tab,
                    KeyCode::Enter,
                    KeyCode::Esc,
                    KeyCode::Backspace,
                    KeyCode::PageDown,
                ]
                .into_iter()
                .filter_map(|c| action(&k(c))),
            )
            .collect();
        for (_, lines) in HELP {
            for b in *lines {
                assert!(mapped.contains(&b.action), "{} has no key", b.keys);
            }
        }
    }

    #[test]
    fn speeds_step_through_presets() {
        assert_eq!(next_speed(0.5, true), 1.0);
        assert_eq!(next_speed(0.5, false), 0.25);
        assert_eq!(next_speed(0.7, true), 1.0);
        assert_eq!(next_speed(10000.0, true), 10000.0);
        assert_eq!(next_speed(0.05, false), 0.05);
    }
}
