//! Themes (`--theme`), colour depth and zoom (`z`): the main screen in each
//! theme with its colours (ratatui's `Buffer` debug form keeps every style),
//! meanings that never rest on colour alone at 16 colours, and the zoomed
//! ladder at 100×30, the size of a projected terminal with a large font.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier};

use tcpscope::driver::{Mode, Playback};
use tcpscope::fault::Rule;
use tcpscope::scenario::{Overrides, Run, Scenario};
use tcpscope::time::Instant;
use tcpscope::ui::model::Model;
use tcpscope::ui::render;
use tcpscope::ui::theme::{Depth, Theme, ThemeName, rgb};
use tcpscope::ui::view::{Focus, Pane, StatusLine, View};

/// The handshake with its SYN+ACK dropped once: a drop, a retransmission,
/// a timer that fired, states on both sides.
fn model() -> Model {
    let ov = Overrides {
        rules: vec![Rule::parse_drop("out:SA:1").unwrap()],
        ..Overrides::default()
    };
    let mut run = Run::new(Scenario::builtin("handshake").unwrap(), &ov);
    run.advance(Instant::from_secs_f64(3.0));
    let mut m = Model::new(true);
    m.ingest_all(run.take_events());
    m
}

fn clock() -> StatusLine {
    StatusLine {
        mode: Mode::Demo,
        title: "handshake: The three-way handshake".into(),
        now: 3.0,
        playback: Playback {
            speed: Some(1.0),
            paused: true,
            walkthrough: false,
            progress: None,
            ..Playback::default()
        },
        finished: false,
    }
}

fn draw(m: &Model, v: &mut View, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| render::draw(f, m, v, &clock())).unwrap();
    term
}

fn text(term: &Terminal<TestBackend>) -> String {
    let buf = term.backend().buffer();
    let mut s = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

fn main_screen(name: ThemeName) -> Terminal<TestBackend> {
    let m = model();
    let mut v = View::new(Theme::new(name, Depth::TrueColor));
    draw(&m, &mut v, 100, 30)
}

#[test]
fn main_screen_dark() {
    let term = main_screen(ThemeName::Dark);
    // The dark theme is the look from before themes: the same as
    // Theme::COLOR, cell for cell and style for style.
    let m = model();
    let mut v = View::new(Theme::COLOR);
    assert_eq!(
        term.backend().buffer(),
        draw(&m, &mut v, 100, 30).backend().buffer()
    );
    insta::assert_debug_snapshot!(term.backend().buffer());
}

#[test]
fn main_screen_light() {
    let term = main_screen(ThemeName::Light);
    let buf = term.backend().buffer();
    // The background is set everywhere, text is dark on it.
    for cell in buf.content() {
        assert_ne!(cell.bg, Color::Reset, "a cell without the background");
        assert_ne!(cell.fg, Color::Reset, "a cell without the text colour");
    }
    insta::assert_debug_snapshot!(buf);
}

#[test]
fn main_screen_high_contrast() {
    let term = main_screen(ThemeName::HighContrast);
    insta::assert_debug_snapshot!(term.backend().buffer());
}

#[test]
fn main_screen_mono() {
    let term = main_screen(ThemeName::Mono);
    for cell in term.backend().buffer().content() {
        assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset));
    }
    insta::assert_debug_snapshot!(term.backend().buffer());
}

/// Every theme at every depth: the same text; only styles differ.
#[test]
fn every_theme_shows_the_same_text() {
    let want = text(&main_screen(ThemeName::Dark));
    for name in ThemeName::ALL {
        for depth in [Depth::TrueColor, Depth::Ansi256, Depth::Ansi16] {
            let m = model();
            let mut v = View::new(Theme::new(name, depth));
            assert_eq!(text(&draw(&m, &mut v, 100, 30)), want, "{name:?} {depth:?}");
        }
    }
}

/// At 16 colours two meanings may share a look only when a mark or text
/// tells them apart (✗, ↻, ‖, ✓, state names, side letters…).
#[test]
fn at_16_colours_no_two_meanings_share_a_colour_without_a_mark() {
    for name in ThemeName::ALL {
        let t = Theme::new(name, Depth::Ansi16);
        let roles = t.roles();
        for (i, a) in roles.iter().enumerate() {
            for b in &roles[i + 1..] {
                if a.style == b.style {
                    assert_ne!(
                        a.mark, b.mark,
                        "{name:?}: {} and {} look alike ({:?}) with the same mark",
                        a.name, b.name, a.style
                    );
                }
            }
            for c in [a.style.fg, a.style.bg].into_iter().flatten() {
                assert!(
                    !matches!(c, Color::Rgb(..) | Color::Indexed(_)),
                    "{name:?} {}: {c:?} is not one of the 16 colours",
                    a.name
                );
            }
        }
    }
}

fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// Nothing vanishes: at every depth each meaning's text differs from what
/// it is drawn on; in 24-bit colour light and high-contrast text keeps
/// WCAG AA's 4.5:1 (3:1 for the dimmed and the lines).
#[test]
fn nothing_is_invisible_at_any_depth() {
    for name in [ThemeName::Dark, ThemeName::Light, ThemeName::HighContrast] {
        for depth in [Depth::TrueColor, Depth::Ansi256, Depth::Ansi16] {
            let t = Theme::new(name, depth);
            // Dark keeps the terminal's own colours: assume white on black.
            let (sfg, sbg) = match t.screen() {
                Some(s) => (s.fg.unwrap(), s.bg.unwrap()),
                None => (Color::White, Color::Black),
            };
            let mut roles: Vec<(&str, ratatui::style::Style)> =
                t.roles().into_iter().map(|r| (r.name, r.style)).collect();
            roles.push(("selected", t.selected()));
            roles.push(("explained", t.explained()));
            roles.push(("border", t.border()));
            for (role, style) in roles {
                if style.add_modifier.contains(Modifier::REVERSED) {
                    continue;
                }
                let fg = rgb(style.fg.unwrap_or(sfg)).unwrap();
                let bg = rgb(style.bg.unwrap_or(sbg)).unwrap();
                assert_ne!(fg, bg, "{name:?} {depth:?} {role}: text as its background");
                if let Some(b) = style.bg {
                    assert_ne!(
                        rgb(b),
                        rgb(sbg),
                        "{name:?} {depth:?} {role}: a background that does not show"
                    );
                }
                if depth == Depth::TrueColor && name != ThemeName::Dark {
                    let least = if matches!(role, "dim" | "border" | "state") {
                        3.0
                    } else {
                        4.5
                    };
                    let c = contrast(fg, bg);
                    assert!(c >= least, "{name:?} {role}: contrast {c:.2} < {least}");
                }
            }
        }
    }
}

#[test]
fn zoomed_ladder_at_100x30_in_the_light_theme() {
    let m = model();
    let mut v = View::new(Theme::new(ThemeName::Light, Depth::TrueColor));
    v.zoom = Some(Pane::Ladder);
    v.focus = Focus::Ladder;
    let term = draw(&m, &mut v, 100, 30);
    let s = text(&term);
    assert!(!s.contains("Connections"), "the list gives way:\n{s}");
    assert!(!s.contains("┌ TCB"), "so does the TCB:\n{s}");
    // The whole width for the arrows: labels in full, arrival times.
    assert!(s.contains("SYN+ACK seq 0 ack 1 win 65535"), "{s}");
    assert!(s.contains("✗ injected") || s.contains("injected ✗"), "{s}");
    assert!(s.contains("↻ SYN+ACK seq 0"), "{s}");
    assert!(s.contains("RTO fired"), "{s}");
    assert!(s.contains("arrives"), "{s}");
    assert!(s.contains("z unzoom"), "the way back is shown:\n{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn every_pane_zooms() {
    let m = model();
    for (pane, title) in [
        (Pane::Ladder, "┌ Ladder"),
        (Pane::Tcb, "┌ TCB"),
        (Pane::Timers, "┌ Timers"),
        (Pane::Keepalive, "┌ Keepalive"),
    ] {
        let mut v = View::new(Theme::COLOR);
        v.zoom = Some(pane);
        let s = text(&draw(&m, &mut v, 100, 30));
        assert!(s.contains(title), "{pane:?}:\n{s}");
        assert!(!s.contains("Connections"), "{pane:?}:\n{s}");
    }
}
