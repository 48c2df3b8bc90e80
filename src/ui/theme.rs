//! Colours and emphasis, in one place: four themes (`--theme`), each at the
//! colour depth the terminal has.
//!
//! - `dark`: the default look, for a dark terminal.
//! - `light`: dark text on a light background (set explicitly), for a
//!   projector in a lit room.
//! - `high-contrast`: pure black and white and a few saturated colours, bold
//!   where it helps, for poor projectors and low vision.
//! - `mono`: no colour at all (what `NO_COLOR` gives): emphasis is bold,
//!   reversed, dim or underlined instead.
//!
//! No meaning rests on colour alone: what a colour says, a mark or the text
//! says too (✗ dropped, ↻ retransmitted, ‖ held, ◷ a timer fired, ✓ answered,
//! state names, side letters). `roles` lists the meanings with their marks;
//! a test checks that at 16 colours two meanings never share a style unless
//! their marks differ.
//!
//! Colour depth comes from the environment ([`Depth::from_env`]): 24-bit
//! colours are sent as they are with `COLORTERM=truecolor`, mapped to the
//! nearest of xterm's 256 colours with a `TERM` ending in `-256color`, and
//! to the nearest of the 16 ANSI colours otherwise; a background that would
//! vanish at 16 colours becomes reversed or underlined text instead.

use ratatui::style::{Color, Modifier, Style};

use crate::tcp::State;

/// A theme's name, as `--theme` and the config file spell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ThemeName {
    #[default]
    Dark,
    Light,
    HighContrast,
    Mono,
}

impl ThemeName {
    pub const ALL: [ThemeName; 4] = [
        ThemeName::Dark,
        ThemeName::Light,
        ThemeName::HighContrast,
        ThemeName::Mono,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ThemeName::Dark => "dark",
            ThemeName::Light => "light",
            ThemeName::HighContrast => "high-contrast",
            ThemeName::Mono => "mono",
        }
    }

    pub fn from_name(s: &str) -> Option<ThemeName> {
        ThemeName::ALL.into_iter().find(|t| t.name() == s)
    }

    pub fn summary(self) -> &'static str {
        match self {
            ThemeName::Dark => "for a dark terminal (the default)",
            ThemeName::Light => "dark text on a light background, for a projector in a lit room",
            ThemeName::HighContrast => "black, white and a few saturated colours, bold",
            ThemeName::Mono => "no colour (what NO_COLOR gives)",
        }
    }
}

/// How many colours the terminal shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    /// 24-bit colour: every colour as it is.
    TrueColor,
    /// xterm's 256 colours.
    Ansi256,
    /// The 16 ANSI colours.
    Ansi16,
}

impl Depth {
    /// `COLORTERM=truecolor` or `24bit`: 24-bit; a `TERM` ending in
    /// `256color`: 256; anything else: 16.
    pub fn from_env() -> Depth {
        Depth::detect(
            std::env::var("COLORTERM").ok().as_deref(),
            std::env::var("TERM").ok().as_deref(),
        )
    }

    pub fn detect(colorterm: Option<&str>, term: Option<&str>) -> Depth {
        let ct = colorterm.unwrap_or("").to_ascii_lowercase();
        if ct == "truecolor" || ct == "24bit" {
            return Depth::TrueColor;
        }
        if term.is_some_and(|t| t.ends_with("256color") || t.ends_with("256colour")) {
            return Depth::Ansi256;
        }
        Depth::Ansi16
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    pub name: ThemeName,
    pub depth: Depth,
}

/// One theme's colours. `None` for the screen's: the terminal's own.
struct Pal {
    fg: Option<Color>,
    bg: Option<Color>,
    dim: Color,
    title: Color,
    border: Color,
    focus: Color,
    header: Color,
    selected_fg: Option<Color>,
    selected_bg: Color,
    explained_bg: Option<Color>,
    key: Color,
    ok: Color,
    warn: Color,
    error: Color,
    arrows: [Color; 2],
    side_text: Color,
    retransmit: Color,
    held: Color,
    timer: Color,
    note: Color,
    narration: Color,
    gauge: Color,
    urgent: Color,
    /// Listen, opening, open, closing, waiting out the clock, closed.
    states: [Color; 6],
    /// Bold on coloured text that is plain in the dark theme.
    bold: bool,
}

/// Today's look, unchanged since before themes.
const DARK: Pal = Pal {
    fg: None,
    bg: None,
    dim: Color::DarkGray,
    title: Color::Cyan,
    border: Color::DarkGray,
    focus: Color::Cyan,
    header: Color::Gray,
    selected_fg: None,
    selected_bg: Color::Rgb(40, 52, 72),
    explained_bg: Some(Color::Rgb(70, 60, 20)),
    key: Color::Yellow,
    ok: Color::Green,
    warn: Color::Yellow,
    error: Color::Red,
    arrows: [Color::LightBlue, Color::LightMagenta],
    side_text: Color::Black,
    retransmit: Color::Yellow,
    held: Color::LightYellow,
    timer: Color::LightCyan,
    note: Color::Gray,
    narration: Color::White,
    gauge: Color::Cyan,
    urgent: Color::LightRed,
    states: [
        Color::Blue,
        Color::Yellow,
        Color::Green,
        Color::Magenta,
        Color::Cyan,
        Color::DarkGray,
    ],
    bold: false,
};

/// Dark, saturated ink on off-white paper: every colour keeps a contrast
/// of at least 4.5:1 (WCAG AA) against the background.
const LIGHT: Pal = Pal {
    fg: Some(Color::Rgb(24, 24, 24)),
    bg: Some(Color::Rgb(250, 250, 246)),
    dim: Color::Rgb(100, 100, 100),
    title: Color::Rgb(0, 80, 150),
    border: Color::Rgb(130, 130, 130),
    focus: Color::Rgb(0, 80, 150),
    header: Color::Rgb(50, 50, 50),
    selected_fg: None,
    selected_bg: Color::Rgb(196, 218, 246),
    explained_bg: Some(Color::Rgb(250, 228, 150)),
    key: Color::Rgb(150, 60, 0),
    ok: Color::Rgb(0, 115, 0),
    warn: Color::Rgb(140, 85, 0),
    error: Color::Rgb(190, 0, 0),
    arrows: [Color::Rgb(0, 70, 190), Color::Rgb(145, 0, 145)],
    side_text: Color::Rgb(255, 255, 255),
    retransmit: Color::Rgb(165, 70, 0),
    held: Color::Rgb(120, 75, 0),
    timer: Color::Rgb(0, 105, 125),
    note: Color::Rgb(70, 70, 70),
    narration: Color::Rgb(16, 16, 16),
    gauge: Color::Rgb(0, 110, 140),
    urgent: Color::Rgb(200, 20, 20),
    states: [
        Color::Rgb(0, 60, 180),
        Color::Rgb(140, 85, 0),
        Color::Rgb(0, 115, 0),
        Color::Rgb(140, 0, 140),
        Color::Rgb(0, 105, 125),
        Color::Rgb(110, 110, 110),
    ],
    bold: false,
};

/// Pure black and white, six saturated colours, bold.
const HIGH_CONTRAST: Pal = Pal {
    fg: Some(Color::Rgb(255, 255, 255)),
    bg: Some(Color::Rgb(0, 0, 0)),
    dim: Color::Rgb(255, 255, 255),
    title: Color::Rgb(255, 255, 0),
    border: Color::Rgb(255, 255, 255),
    focus: Color::Rgb(255, 255, 0),
    header: Color::Rgb(255, 255, 255),
    selected_fg: Some(Color::Rgb(0, 0, 0)),
    selected_bg: Color::Rgb(255, 255, 0),
    explained_bg: None,
    key: Color::Rgb(255, 255, 0),
    ok: Color::Rgb(0, 255, 0),
    warn: Color::Rgb(255, 255, 0),
    error: Color::Rgb(255, 40, 40),
    arrows: [Color::Rgb(0, 255, 255), Color::Rgb(255, 0, 255)],
    side_text: Color::Rgb(0, 0, 0),
    retransmit: Color::Rgb(255, 255, 0),
    held: Color::Rgb(255, 255, 0),
    timer: Color::Rgb(0, 255, 255),
    note: Color::Rgb(255, 255, 255),
    narration: Color::Rgb(255, 255, 255),
    gauge: Color::Rgb(0, 255, 255),
    urgent: Color::Rgb(255, 40, 40),
    states: [
        Color::Rgb(0, 255, 255),
        Color::Rgb(255, 255, 0),
        Color::Rgb(0, 255, 0),
        Color::Rgb(255, 0, 255),
        Color::Rgb(0, 255, 255),
        Color::Rgb(255, 255, 255),
    ],
    bold: true,
};

/// A meaning the screen shows, its style, and the mark or text that says
/// the same without colour.
pub struct Role {
    pub name: &'static str,
    pub style: Style,
    pub mark: &'static str,
}

impl Theme {
    /// The theme `NO_COLOR` leaves: dark, or mono when `NO_COLOR` is set to
    /// anything non-empty (no-color.org), at the terminal's colour depth.
    pub fn from_env() -> Theme {
        Theme::chosen(None)
    }

    /// `--theme` (or the config file's `theme`) if given: it wins over
    /// `NO_COLOR`, as no-color.org asks of an explicit choice; else
    /// [`Theme::from_env`].
    pub fn chosen(name: Option<ThemeName>) -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let name = name.unwrap_or(if no_color {
            ThemeName::Mono
        } else {
            ThemeName::Dark
        });
        Theme {
            name,
            depth: Depth::from_env(),
        }
    }

    pub const fn new(name: ThemeName, depth: Depth) -> Theme {
        Theme { name, depth }
    }

    /// The dark theme in 24-bit colour (snapshots, benches).
    pub const COLOR: Theme = Theme::new(ThemeName::Dark, Depth::TrueColor);
    pub const MONO: Theme = Theme::new(ThemeName::Mono, Depth::TrueColor);

    fn pal(&self) -> Option<&'static Pal> {
        match self.name {
            ThemeName::Dark => Some(&DARK),
            ThemeName::Light => Some(&LIGHT),
            ThemeName::HighContrast => Some(&HIGH_CONTRAST),
            ThemeName::Mono => None,
        }
    }

    /// A colour at this theme's depth.
    pub fn color(&self, c: Color) -> Color {
        match (self.depth, c) {
            (Depth::TrueColor, c) => c,
            (Depth::Ansi256, Color::Rgb(r, g, b)) => Color::Indexed(nearest_256(r, g, b)),
            (Depth::Ansi16, Color::Rgb(r, g, b)) => ANSI16[nearest_16(r, g, b)].0,
            (Depth::Ansi16, Color::Indexed(i)) if i >= 16 => {
                let (r, g, b) = rgb_of_256(i);
                ANSI16[nearest_16(r, g, b)].0
            }
            (_, c) => c,
        }
    }

    /// Foreground `c` (and bold in the high-contrast theme when `extra`);
    /// nothing without colour.
    fn ink(&self, c: impl Fn(&Pal) -> Color, extra_bold: bool) -> Style {
        match self.pal() {
            Some(p) => {
                let s = Style::new().fg(self.color(c(p)));
                if extra_bold && p.bold {
                    s.add_modifier(Modifier::BOLD)
                } else {
                    s
                }
            }
            None => Style::new(),
        }
    }

    /// The whole screen, drawn first: the light and high-contrast themes set
    /// their background and text colour; dark and mono keep the terminal's.
    pub fn screen(&self) -> Option<Style> {
        let p = self.pal()?;
        let (fg, bg) = (p.fg?, p.bg?);
        Some(Style::new().fg(self.color(fg)).bg(self.color(bg)))
    }

    pub fn base(&self) -> Style {
        Style::new()
    }
    pub fn dim(&self) -> Style {
        match self.pal() {
            Some(p) => Style::new().fg(self.color(p.dim)),
            None => Style::new().add_modifier(Modifier::DIM),
        }
    }
    pub fn bold(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }
    pub fn title(&self) -> Style {
        self.ink(|p| p.title, false).add_modifier(Modifier::BOLD)
    }
    pub fn border(&self) -> Style {
        self.ink(|p| p.border, false)
    }
    pub fn border_focus(&self) -> Style {
        match self.pal() {
            Some(_) => self.ink(|p| p.focus, true),
            None => Style::new().add_modifier(Modifier::BOLD),
        }
    }
    pub fn header(&self) -> Style {
        self.ink(|p| p.header, false).add_modifier(Modifier::BOLD)
    }
    /// A background at this depth, or `None` where 16 colours would lose it
    /// (a 24-bit shade maps to the screen's own black or white).
    fn background(&self, c: Color) -> Option<Color> {
        match (self.depth, c) {
            (Depth::Ansi16, Color::Rgb(..)) if self.name != ThemeName::HighContrast => None,
            _ => Some(self.color(c)),
        }
    }
    /// The selected row or arrow.
    pub fn selected(&self) -> Style {
        match self.pal().map(|p| (p, self.background(p.selected_bg))) {
            Some((p, Some(bg))) => {
                let s = Style::new().bg(bg).add_modifier(Modifier::BOLD);
                match p.selected_fg {
                    Some(fg) => s.fg(self.color(fg)),
                    None => s,
                }
            }
            _ => Style::new().add_modifier(Modifier::REVERSED),
        }
    }
    /// The entry the current narration explains.
    pub fn explained(&self) -> Style {
        match self
            .pal()
            .and_then(|p| p.explained_bg)
            .and_then(|c| self.background(c))
        {
            Some(bg) => Style::new().bg(bg),
            None => Style::new().add_modifier(Modifier::UNDERLINED | Modifier::BOLD),
        }
    }
    pub fn key(&self) -> Style {
        self.ink(|p| p.key, false).add_modifier(Modifier::BOLD)
    }
    pub fn ok(&self) -> Style {
        self.ink(|p| p.ok, true)
    }
    pub fn warn(&self) -> Style {
        self.ink(|p| p.warn, true)
    }
    pub fn error(&self) -> Style {
        self.ink(|p| p.error, false).add_modifier(Modifier::BOLD)
    }
    pub fn closed(&self) -> Style {
        self.dim()
    }
    pub fn lifeline(&self) -> Style {
        self.ink(|p| p.border, false)
    }
    /// Arrows by direction: left→right and right→left get their own hue so
    /// the eye follows a conversation.
    pub fn arrow(&self, from: usize) -> Style {
        self.ink(|p| p.arrows[from.min(1)], true)
    }
    pub fn retransmit(&self) -> Style {
        self.ink(|p| p.retransmit, false)
            .add_modifier(Modifier::BOLD)
    }
    pub fn dropped(&self) -> Style {
        self.error()
    }
    pub fn held(&self) -> Style {
        match self.pal() {
            Some(_) => self.ink(|p| p.held, false).add_modifier(Modifier::BOLD),
            None => Style::new().add_modifier(Modifier::BOLD | Modifier::ITALIC),
        }
    }
    pub fn timer(&self) -> Style {
        self.ink(|p| p.timer, true)
    }
    pub fn note(&self) -> Style {
        self.ink(|p| p.note, false).add_modifier(Modifier::ITALIC)
    }
    pub fn narration(&self) -> Style {
        self.ink(|p| p.narration, true)
    }
    pub fn gauge_fill(&self) -> Style {
        self.ink(|p| p.gauge, false)
    }
    pub fn gauge_urgent(&self) -> Style {
        self.ink(|p| p.urgent, false)
    }
    /// The lifeline colour of each side (client / server) in the state
    /// diagram and the TCB table.
    pub fn side(&self, slot: usize) -> Style {
        match self.pal() {
            Some(p) => Style::new()
                .fg(self.color(p.side_text))
                .bg(self.color(p.arrows[slot.min(1)]))
                .add_modifier(Modifier::BOLD),
            None => Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        }
    }
    pub fn side_fg(&self, slot: usize) -> Style {
        self.arrow(slot).add_modifier(Modifier::BOLD)
    }

    /// States by phase: opening (yellow), open (green), closing (magenta),
    /// waiting out the clock (cyan), closed (grey).
    pub fn state(&self, s: State) -> Style {
        let i = match s {
            State::Listen => 0,
            State::SynSent | State::SynReceived => 1,
            State::Established => 2,
            State::FinWait1
            | State::FinWait2
            | State::CloseWait
            | State::Closing
            | State::LastAck => 3,
            State::TimeWait => 4,
            State::Closed => 5,
        };
        match self.pal() {
            Some(p) => Style::new()
                .fg(self.color(p.states[i]))
                .add_modifier(Modifier::BOLD),
            None if s == State::Closed => self.dim(),
            None => self.bold(),
        }
    }

    /// Every meaning a style carries on screen, with the mark or text that
    /// carries it as well. Two roles may look alike only if their marks
    /// differ (checked at 16 colours by a test).
    pub fn roles(&self) -> Vec<Role> {
        let r = |name, style, mark| Role { name, style, mark };
        let mut v = vec![
            r("ok", self.ok(), "✓ / ▶ running / ● live"),
            r("warn", self.warn(), "‖ paused / probe n of m / rule text"),
            r("error", self.error(), "✗"),
            r("retransmit", self.retransmit(), "↻"),
            r("held", self.held(), "‖ held"),
            r("timer", self.timer(), "◷ / timer name"),
            r("gauge", self.gauge_fill(), "█ gauge, seconds left"),
            r(
                "gauge urgent",
                self.gauge_urgent(),
                "█ gauge, under 1 s left",
            ),
            r("arrow →", self.arrow(0), "├──▶"),
            r("arrow ←", self.arrow(1), "◀──┤"),
            r("client", self.side(0), "C / client"),
            r("server", self.side(1), "S / server"),
            r("key", self.key(), "key name in the hints"),
            r("title", self.title(), "panel title"),
            r("note", self.note(), "· / ▣ / □"),
            r("dim", self.dim(), "— / closed / freed"),
        ];
        for s in [
            State::Listen,
            State::SynSent,
            State::Established,
            State::FinWait1,
            State::TimeWait,
            State::Closed,
        ] {
            v.push(r("state", self.state(s), s.name()));
        }
        v
    }
}

/// The 16 ANSI colours as xterm draws them.
const ANSI16: [(Color, (u8, u8, u8)); 16] = [
    (Color::Black, (0, 0, 0)),
    (Color::Red, (205, 0, 0)),
    (Color::Green, (0, 205, 0)),
    (Color::Yellow, (205, 205, 0)),
    (Color::Blue, (0, 0, 238)),
    (Color::Magenta, (205, 0, 205)),
    (Color::Cyan, (0, 205, 205)),
    (Color::Gray, (229, 229, 229)),
    (Color::DarkGray, (127, 127, 127)),
    (Color::LightRed, (255, 0, 0)),
    (Color::LightGreen, (0, 255, 0)),
    (Color::LightYellow, (255, 255, 0)),
    (Color::LightBlue, (92, 92, 255)),
    (Color::LightMagenta, (255, 0, 255)),
    (Color::LightCyan, (0, 255, 255)),
    (Color::White, (255, 255, 255)),
];

/// The RGB value xterm gives a colour (named ones as [`ANSI16`]).
pub fn rgb(c: Color) -> Option<(u8, u8, u8)> {
    match c {
        Color::Rgb(r, g, b) => Some((r, g, b)),
        Color::Indexed(i) if i >= 16 => Some(rgb_of_256(i)),
        Color::Indexed(i) => Some(ANSI16[i as usize].1),
        Color::Reset => None,
        named => ANSI16.iter().find(|(n, _)| *n == named).map(|(_, v)| *v),
    }
}

fn dist(a: (u8, u8, u8), b: (u8, u8, u8)) -> u32 {
    let d = |x: u8, y: u8| (i32::from(x) - i32::from(y)).pow(2) as u32;
    // Weighted for the eye: green counts most, blue least.
    3 * d(a.0, b.0) + 4 * d(a.1, b.1) + 2 * d(a.2, b.2)
}

fn nearest_16(r: u8, g: u8, b: u8) -> usize {
    (0..16)
        .min_by_key(|i| dist((r, g, b), ANSI16[*i].1))
        .expect("16 colours")
}

const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

fn rgb_of_256(i: u8) -> (u8, u8, u8) {
    if i < 16 {
        return ANSI16[i as usize].1;
    }
    if i >= 232 {
        let v = 8 + 10 * (i - 232);
        return (v, v, v);
    }
    let n = i - 16;
    (
        CUBE[(n / 36) as usize],
        CUBE[(n / 6 % 6) as usize],
        CUBE[(n % 6) as usize],
    )
}

/// The nearest of xterm's colours 16–255: the 6×6×6 cube, and the grey
/// ramp for colours that are (nearly) grey, so a tinted background keeps
/// its tint instead of turning into a grey next to another one.
fn nearest_256(r: u8, g: u8, b: u8) -> u8 {
    let greyish = r.max(g).max(b) - r.min(g).min(b) < 16;
    let last = if greyish { 255 } else { 231 };
    (16..=last)
        .min_by_key(|i| dist((r, g, b), rgb_of_256(*i)))
        .expect("colours 16-255")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_from_colorterm_and_term() {
        assert_eq!(
            Depth::detect(Some("truecolor"), Some("xterm")),
            Depth::TrueColor
        );
        assert_eq!(Depth::detect(Some("24bit"), None), Depth::TrueColor);
        assert_eq!(Depth::detect(None, Some("xterm-256color")), Depth::Ansi256);
        assert_eq!(
            Depth::detect(Some(""), Some("tmux-256color")),
            Depth::Ansi256
        );
        assert_eq!(Depth::detect(None, Some("xterm")), Depth::Ansi16);
        assert_eq!(Depth::detect(None, None), Depth::Ansi16);
    }

    #[test]
    fn rgb_maps_to_the_nearest_indexed_colour() {
        let t256 = Theme::new(ThemeName::Dark, Depth::Ansi256);
        let t16 = Theme::new(ThemeName::Dark, Depth::Ansi16);
        assert_eq!(t256.color(Color::Rgb(255, 0, 0)), Color::Indexed(196));
        assert_eq!(t256.color(Color::Rgb(0, 0, 0)), Color::Indexed(16));
        assert_eq!(t256.color(Color::Rgb(128, 128, 128)), Color::Indexed(244));
        assert_eq!(t16.color(Color::Rgb(250, 0, 0)), Color::LightRed);
        assert_eq!(t16.color(Color::Rgb(0, 110, 0)), Color::Green);
        assert_eq!(t16.color(Color::Rgb(250, 250, 246)), Color::White);
        assert_eq!(t16.color(Color::Indexed(196)), Color::LightRed);
        // Named colours are what every terminal has: left alone.
        assert_eq!(t16.color(Color::Cyan), Color::Cyan);
        // A tinted background keeps a tint at 256 colours.
        assert_ne!(
            t256.color(Color::Rgb(40, 52, 72)),
            t256.color(Color::Rgb(70, 60, 20))
        );
    }

    #[test]
    fn names_round_trip() {
        for t in ThemeName::ALL {
            assert_eq!(ThemeName::from_name(t.name()), Some(t));
        }
        assert_eq!(ThemeName::from_name("solarized"), None);
    }
}
