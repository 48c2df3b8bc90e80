//! Key bindings: which key means what, in one table that the help popup
//! and the key hint line are drawn from, so they can never disagree with
//! what the keys do.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a key asks the UI to do (outside popups and text fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
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
}

/// One line of the help popup.
pub struct Binding {
    pub keys: &'static str,
    pub action: Action,
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
                action: Action::Down,
                what: "select connection / arrow",
            },
            Binding {
                keys: "PgUp PgDn",
                action: Action::PageDown,
                what: "a page up / down",
            },
            Binding {
                keys: "g  G",
                action: Action::Bottom,
                what: "first / follow the newest",
            },
            Binding {
                keys: "Tab",
                action: Action::FocusNext,
                what: "connections ⇄ ladder",
            },
            Binding {
                keys: "Enter",
                action: Action::Details,
                what: "details: headers, hex",
            },
            Binding {
                keys: "/",
                action: Action::Filter,
                what: "filter connections",
            },
            Binding {
                keys: "n",
                action: Action::Absolute,
                what: "relative ⇄ absolute seq",
            },
            Binding {
                keys: "v",
                action: Action::OtherSide,
                what: "act as the other side",
            },
            Binding {
                keys: "mouse",
                action: Action::Details,
                what: "click select, wheel scroll",
            },
            Binding {
                keys: "Esc",
                action: Action::Back,
                what: "close popup / details",
            },
        ],
    ),
    (
        "Faults",
        &[
            Binding {
                keys: "d  D",
                action: Action::DropIn,
                what: "drop next in / outbound",
            },
            Binding {
                keys: "l",
                action: Action::Loss,
                what: "random loss rate",
            },
            Binding {
                keys: "h",
                action: Action::Hold,
                what: "hold every segment ⇄ pass",
            },
            Binding {
                keys: "space",
                action: Action::Space,
                what: "release one held segment",
            },
            Binding {
                keys: "r",
                action: Action::ReleaseAll,
                what: "release all held segments",
            },
            Binding {
                keys: "f",
                action: Action::FaultForm,
                what: "any fault rule (form)",
            },
            Binding {
                keys: "F",
                action: Action::ClearRules,
                what: "remove every fault rule",
            },
        ],
    ),
    (
        "Connection",
        &[
            Binding {
                keys: "x",
                action: Action::Close,
                what: "close (FIN)",
            },
            Binding {
                keys: "a",
                action: Action::Abort,
                what: "abort (RST)",
            },
            Binding {
                keys: "K",
                action: Action::Keepalive,
                what: "keepalive on ⇄ off",
            },
            Binding {
                keys: "c",
                action: Action::Connect,
                what: "connect (live mode)",
            },
        ],
    ),
    (
        "Time (demo, replay)",
        &[
            Binding {
                keys: "space",
                action: Action::Space,
                what: "next step / pause ⇄ run",
            },
            Binding {
                keys: "Backspace",
                action: Action::StepBack,
                what: "one step back",
            },
            Binding {
                keys: ".",
                action: Action::StepForward,
                what: "one step forward",
            },
            Binding {
                keys: "p",
                action: Action::Pause,
                what: "pause ⇄ run",
            },
            Binding {
                keys: "s",
                action: Action::Walkthrough,
                what: "walkthrough on ⇄ off",
            },
            Binding {
                keys: "t  T",
                action: Action::Faster,
                what: "faster / slower",
            },
            Binding {
                keys: "[ ]  { }",
                action: Action::SeekForward,
                what: "jump ∓10 s / ∓60 s",
            },
        ],
    ),
    (
        "General",
        &[
            Binding {
                keys: "?",
                action: Action::Help,
                what: "this help",
            },
            Binding {
                keys: "q  Ctrl-C",
                action: Action::Quit,
                what: "quit",
            },
        ],
    ),
];

/// How many of [`HELP`]'s sections go in the left column.
pub const HELP_LEFT: usize = 2;

/// The key for an action outside popups; `None` for keys that mean nothing.
pub fn action(key: &KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    use Action::*;
    Some(match key.code {
        KeyCode::Char('c') if ctrl => Quit,
        _ if ctrl => return None,
        KeyCode::Char('q') => Quit,
        KeyCode::Char('?') | KeyCode::F(1) => Help,
        KeyCode::Up | KeyCode::Char('k') => Up,
        KeyCode::Down | KeyCode::Char('j') => Down,
        KeyCode::PageUp => PageUp,
        KeyCode::PageDown => PageDown,
        KeyCode::Home | KeyCode::Char('g') => Top,
        KeyCode::End | KeyCode::Char('G') => Bottom,
        KeyCode::Tab => FocusNext,
        KeyCode::BackTab => FocusPrev,
        KeyCode::Enter => Details,
        KeyCode::Esc => Back,
        KeyCode::Char('d') => DropIn,
        KeyCode::Char('D') => DropOut,
        KeyCode::Char('l') => Loss,
        KeyCode::Char('h') => Hold,
        KeyCode::Char(' ') => Space,
        KeyCode::Char('.') => StepForward,
        KeyCode::Backspace => StepBack,
        KeyCode::Char('r') => ReleaseAll,
        KeyCode::Char('f') => FaultForm,
        KeyCode::Char('F') => ClearRules,
        KeyCode::Char('x') => Close,
        KeyCode::Char('a') => Abort,
        KeyCode::Char('c') => Connect,
        KeyCode::Char('K') => Keepalive,
        KeyCode::Char('v') => OtherSide,
        KeyCode::Char('t') => Faster,
        KeyCode::Char('T') => Slower,
        KeyCode::Char('p') => Pause,
        KeyCode::Char('s') => Walkthrough,
        KeyCode::Char('/') => Filter,
        KeyCode::Char('n') => Absolute,
        KeyCode::Char('[') => SeekBack,
        KeyCode::Char(']') => SeekForward,
        KeyCode::Char('{') => SeekBackFar,
        KeyCode::Char('}') => SeekForwardFar,
        _ => return None,
    })
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
        assert_eq!(action(&k(KeyCode::Char('d'))), Some(Action::DropIn));
        assert_eq!(action(&k(KeyCode::Char('D'))), Some(Action::DropOut));
        assert_eq!(action(&k(KeyCode::Char(' '))), Some(Action::Space));
        assert_eq!(action(&k(KeyCode::Backspace)), Some(Action::StepBack));
        assert_eq!(
            action(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(action(&k(KeyCode::Char('c'))), Some(Action::Connect));
        assert_eq!(action(&k(KeyCode::Char('Z'))), None);
    }

    #[test]
    fn every_help_line_names_a_mapped_action() {
        let mapped: Vec<Action> = "qjk?dDlh .rfFxacKvtTps/n[]{}gG"
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
