//! Colours and emphasis, in one place so `NO_COLOR` can take colour away
//! without losing meaning: without colour, emphasis is bold, reversed, dim
//! or underlined instead.

use ratatui::style::{Color, Modifier, Style};

use crate::tcp::State;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to anything non-empty (no-color.org).
    pub fn from_env() -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme { color: !no_color }
    }

    pub const COLOR: Theme = Theme { color: true };
    pub const MONO: Theme = Theme { color: false };

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn base(&self) -> Style {
        Style::new()
    }
    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }
    pub fn bold(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }
    pub fn title(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn border(&self) -> Style {
        self.fg(Color::DarkGray)
    }
    pub fn border_focus(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Cyan)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }
    pub fn header(&self) -> Style {
        self.fg(Color::Gray).add_modifier(Modifier::BOLD)
    }
    /// The selected row or arrow.
    pub fn selected(&self) -> Style {
        if self.color {
            Style::new()
                .bg(Color::Rgb(40, 52, 72))
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }
    /// The entry the current narration explains.
    pub fn explained(&self) -> Style {
        if self.color {
            Style::new().bg(Color::Rgb(70, 60, 20))
        } else {
            Style::new().add_modifier(Modifier::UNDERLINED | Modifier::BOLD)
        }
    }
    pub fn key(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }
    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow)
    }
    pub fn error(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }
    pub fn closed(&self) -> Style {
        self.dim()
    }
    pub fn lifeline(&self) -> Style {
        self.fg(Color::DarkGray)
    }
    /// Arrows by direction: left→right and right→left get their own hue so
    /// the eye follows a conversation.
    pub fn arrow(&self, from: usize) -> Style {
        if from == 0 {
            self.fg(Color::LightBlue)
        } else {
            self.fg(Color::LightMagenta)
        }
    }
    pub fn retransmit(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    pub fn dropped(&self) -> Style {
        self.error()
    }
    pub fn held(&self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::LightYellow)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::ITALIC)
        }
    }
    pub fn timer(&self) -> Style {
        self.fg(Color::LightCyan)
    }
    pub fn note(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Gray).add_modifier(Modifier::ITALIC)
        } else {
            Style::new().add_modifier(Modifier::ITALIC)
        }
    }
    pub fn narration(&self) -> Style {
        self.fg(Color::White)
    }
    pub fn gauge_fill(&self) -> Style {
        self.fg(Color::Cyan)
    }
    pub fn gauge_urgent(&self) -> Style {
        self.fg(Color::LightRed)
    }
    /// The lifeline colour of each side (client / server) in the state
    /// diagram and the TCB table.
    pub fn side(&self, slot: usize) -> Style {
        if self.color {
            Style::new()
                .fg(Color::Black)
                .bg(if slot == 0 {
                    Color::LightBlue
                } else {
                    Color::LightMagenta
                })
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }
    pub fn side_fg(&self, slot: usize) -> Style {
        self.arrow(slot).add_modifier(Modifier::BOLD)
    }

    /// States by phase: opening (yellow), open (green), closing (magenta),
    /// waiting out the clock (cyan), closed (grey).
    pub fn state(&self, s: State) -> Style {
        let c = match s {
            State::Listen => Color::Blue,
            State::SynSent | State::SynReceived => Color::Yellow,
            State::Established => Color::Green,
            State::FinWait1
            | State::FinWait2
            | State::CloseWait
            | State::Closing
            | State::LastAck => Color::Magenta,
            State::TimeWait => Color::Cyan,
            State::Closed => Color::DarkGray,
        };
        if self.color {
            Style::new().fg(c).add_modifier(Modifier::BOLD)
        } else if s == State::Closed {
            self.dim()
        } else {
            self.bold()
        }
    }
}
