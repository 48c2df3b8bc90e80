//! The title bar (mode, scenario, time, speed) and the bottom key hint
//! line (its keys from the key map), which the status sentence replaces
//! while it is fresh.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::driver::Mode;
use crate::ui::model::Model;
use crate::ui::units;
use crate::ui::view::{Focus, StatusLine, View};

use super::{fit, width};

pub fn draw(f: &mut Frame, area: Rect, model: &Model, view: &View, clock: &StatusLine) {
    let t = view.theme;
    let pb = &clock.playback;
    let mut right: Vec<Span> = Vec::new();
    right.push(Span::styled(
        format!("t {} s", units::t(clock.now)),
        t.bold(),
    ));
    if let Some((pos, end)) = pb.progress
        && end.is_finite()
        && end > 0.0
    {
        right.push(Span::styled(
            format!(" / {}", units::t(end.max(pos))),
            t.dim(),
        ));
    }
    if let Some(s) = pb.speed {
        right.push(Span::raw("  "));
        right.push(Span::styled(units::speed(s), t.key()));
    }
    if let Some(x) = pb.lapse {
        // A walkthrough's quiet stretch, played fast (README, Walkthrough).
        right.push(Span::styled(
            format!(" ⏩ {} time-lapse", units::speed(x)),
            t.warn(),
        ));
    }
    let state = if clock.finished && !model.faults.held.is_empty() {
        Span::styled("  ‖ segments held", t.held())
    } else if clock.finished {
        Span::styled("  ■ finished", t.dim())
    } else if pb.walkthrough && pb.paused {
        Span::styled("  ▸ space: next step", t.warn())
    } else if pb.paused {
        Span::styled("  ‖ paused", t.warn())
    } else if clock.mode == Mode::Live {
        Span::styled("  ● live", t.ok())
    } else {
        Span::styled("  ▶ running", t.ok())
    };
    right.push(state);
    if pb.walkthrough {
        right.push(Span::styled("  walkthrough", t.key()));
    }
    if model.lagged > 0 {
        right.push(Span::styled(
            format!("  ⚠ {} events lost", model.lagged),
            t.error(),
        ));
    }
    right.push(Span::raw(" "));
    let right_w: usize = right.iter().map(|s| s.width()).sum();
    let left_fixed = format!(" tcpscope · {} · ", clock.mode.name());
    let room = (area.width as usize).saturating_sub(right_w + width(&left_fixed) + 1);
    let mut spans = vec![
        Span::styled(" tcpscope", t.title()),
        Span::styled(format!(" · {} · ", clock.mode.name()), t.dim()),
        Span::styled(fit(&clock.title, room), t.bold()),
    ];
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let pad = (area.width as usize).saturating_sub(used + right_w);
    spans.push(Span::raw(" ".repeat(pad)));
    spans.extend(right);
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// One line of key hints for where the person is, or the status sentence.
pub fn hints(f: &mut Frame, area: Rect, model: &Model, view: &View, clock: &StatusLine) {
    let t = view.theme;
    if let Some(s) = &view.status {
        let style = if s.error { t.error() } else { t.ok() };
        let mark = if s.error { " ✗ " } else { " ✓ " };
        let line = Line::from(vec![
            Span::styled(mark, style),
            Span::styled(fit(&s.text, area.width.saturating_sub(4) as usize), style),
        ]);
        f.render_widget(Paragraph::new(line), area);
        return;
    }
    if view.filter_editing {
        let line = Line::from(vec![
            Span::styled(" filter: ", t.key()),
            Span::raw("type to match address, host or state · "),
            Span::styled("Enter", t.key()),
            Span::raw(" keep · "),
            Span::styled("Esc", t.key()),
            Span::raw(" clear"),
        ]);
        f.render_widget(Paragraph::new(line), area);
        return;
    }
    let pb = &clock.playback;
    use crate::ui::keys::KeyAction as A;
    let km = &view.keys;
    let k = |actions: &[A], default: &str| km.hint(actions, default);
    let mut keys: Vec<(String, &str)> =
        vec![(k(&[A::Help], "?"), "help"), (k(&[A::Quit], "q"), "quit")];
    if view.zoom.is_some() {
        keys.push((k(&[A::Zoom], "z"), "unzoom"));
        keys.push((k(&[A::FocusNext], "Tab"), "next pane"));
    }
    if !model.faults.held.is_empty() {
        keys.push((k(&[A::Space], "space"), "release one"));
        keys.push((k(&[A::ReleaseAll], "r"), "release all"));
    } else if pb.walkthrough {
        keys.push((k(&[A::Space], "space"), "next step"));
        keys.push((k(&[A::StepBack], "⌫"), "back"));
        if pb.chapters {
            keys.push((k(&[A::Chapters], "C"), "chapters"));
        }
    } else if clock.mode == Mode::Replay {
        keys.push((k(&[A::Space], "space"), "step"));
        keys.push((
            k(&[A::Pause], "p"),
            if pb.paused { "play" } else { "pause" },
        ));
    } else if clock.mode == Mode::Demo {
        keys.push((
            k(&[A::Space], "space"),
            if pb.paused { "run" } else { "pause" },
        ));
        // Step mode, where a class would look for it first.
        keys.push((k(&[A::Walkthrough], "s"), "step mode"));
    }
    keys.push((k(&[A::Up, A::Down], "↑↓"), "select"));
    if view.zoom.is_none() {
        keys.push((
            k(&[A::FocusNext], "Tab"),
            if view.focus == Focus::Conns {
                "ladder"
            } else {
                "connections"
            },
        ));
    }
    keys.push((k(&[A::Details], "Enter"), "details"));
    if clock.mode != Mode::Replay {
        keys.push((k(&[A::DropIn, A::DropOut], "d/D"), "drop in/out"));
        keys.push((
            k(&[A::Hold], "h"),
            if model.faults.hold_all {
                "stop holding"
            } else {
                "hold"
            },
        ));
        keys.push((k(&[A::FaultForm], "f"), "fault"));
        keys.push((k(&[A::Close, A::Abort], "x/a"), "close/abort"));
    }
    if clock.mode != Mode::Live {
        keys.push((k(&[A::Faster, A::Slower], "t/T"), "speed"));
        if !pb.walkthrough && clock.mode != Mode::Demo {
            keys.push((k(&[A::Walkthrough], "s"), "walkthrough"));
        }
    } else {
        keys.push((k(&[A::Connect], "c"), "connect"));
    }
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    for (k, what) in keys {
        let w = width(&k) + width(what) + 3;
        if used + w > area.width as usize {
            break;
        }
        used += w;
        spans.push(Span::styled(k, t.key()));
        spans.push(Span::styled(format!(" {what}  "), t.dim()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
