//! Key bindings: which key means what, in one table that the help popup
//! and the key hint line are drawn from, so they can never disagree with
//! what the keys do.

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
    /// Write the frame on screen as an SVG file (`S`).
    Screenshot,
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
                what: "this help",
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

/// The key for an action outside popups; `None` for keys that mean nothing.
pub fn action(key: &KeyEvent) -> Option<KeyAction> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    use KeyAction::*;
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
        KeyCode::Char('S') => Screenshot,
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
        let mapped: Vec<KeyAction> = "qjk?dDlh .rfFxacKvtTps/n[]{}gGS"
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
