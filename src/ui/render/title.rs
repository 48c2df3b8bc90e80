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
    let m = view.msg();
    let pb = &clock.playback;
    let mut right: Vec<Span> = Vec::new();
    right.push(Span::styled(m.clock(&units::t(clock.now)), t.bold()));
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
        // A walkthrough's quiet stretch, played fast (docs/ui.md, Demo, replay and the walkthrough).
        right.push(Span::styled(
            format!(" ⏩ {} {}", units::speed(x), m.time_lapse),
            t.warn(),
        ));
    }
    let (mark, words, style) = if clock.finished && !model.faults.held.is_empty() {
        ("‖", m.segments_held, t.held())
    } else if clock.finished {
        ("■", m.finished, t.dim())
    } else if pb.walkthrough && pb.paused {
        ("▸", m.next_step_hint, t.warn())
    } else if pb.paused {
        ("‖", m.paused, t.warn())
    } else if clock.mode == Mode::Live {
        ("●", m.live, t.ok())
    } else {
        ("▶", m.running, t.ok())
    };
    right.push(Span::styled(format!("  {mark} {words}"), style));
    if pb.walkthrough {
        right.push(Span::styled(format!("  {}", m.walkthrough), t.key()));
    }
    if model.lagged > 0 {
        right.push(Span::styled(
            format!("  ⚠ {}", m.events_lost(model.lagged)),
            t.error(),
        ));
    }
    right.push(Span::raw(" "));
    let right_w: usize = right.iter().map(|s| s.width()).sum();
    let mode = clock.mode.word(m);
    let left_fixed = format!(" tcpscope · {mode} · ");
    let room = (area.width as usize).saturating_sub(right_w + width(&left_fixed) + 1);
    let mut spans = vec![
        Span::styled(" tcpscope", t.title()),
        Span::styled(format!(" · {mode} · "), t.dim()),
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
    let m = view.msg();
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
            Span::styled(format!(" {} ", m.filter), t.key()),
            Span::raw(format!("{} · ", m.filter_help)),
            Span::styled("Enter", t.key()),
            Span::raw(format!(" {} · ", m.filter_keep)),
            Span::styled("Esc", t.key()),
            Span::raw(format!(" {}", m.filter_clear)),
        ]);
        f.render_widget(Paragraph::new(line), area);
        return;
    }
    let pb = &clock.playback;
    use crate::ui::keys::KeyAction as A;
    let km = &view.keys;
    let k = |actions: &[A], default: &str| km.hint(actions, default);
    let space = m.key_space;
    let mut keys: Vec<(String, &str)> = vec![
        (k(&[A::Help], "?"), m.hint_help),
        (k(&[A::Quit], "q"), m.hint_quit),
    ];
    if view.zoom.is_some() {
        keys.push((k(&[A::Zoom], "z"), m.hint_unzoom));
        keys.push((k(&[A::FocusNext], "Tab"), m.hint_next_pane));
    }
    if !model.faults.held.is_empty() {
        keys.push((k(&[A::Space], space), m.hint_release_one));
        keys.push((k(&[A::ReleaseAll], "r"), m.hint_release_all));
    } else if pb.walkthrough {
        keys.push((k(&[A::Space], space), m.hint_next_step));
        keys.push((k(&[A::StepBack], "⌫"), m.hint_back));
        if pb.chapters {
            keys.push((k(&[A::Chapters], "C"), m.hint_chapters));
        }
    } else if clock.mode == Mode::Replay {
        keys.push((k(&[A::Space], space), m.hint_step));
        keys.push((
            k(&[A::Pause], "p"),
            if pb.paused { m.hint_play } else { m.hint_pause },
        ));
    } else if clock.mode == Mode::Demo {
        keys.push((
            k(&[A::Space], space),
            if pb.paused { m.hint_run } else { m.hint_pause },
        ));
        // Step mode, where a class would look for it first.
        keys.push((k(&[A::Walkthrough], "s"), m.hint_step_mode));
    }
    keys.push((k(&[A::Up, A::Down], "↑↓"), m.hint_select));
    if view.zoom.is_none() {
        keys.push((
            k(&[A::FocusNext], "Tab"),
            if view.focus == Focus::Conns {
                m.hint_ladder
            } else {
                m.hint_connections
            },
        ));
    }
    keys.push((k(&[A::Details], "Enter"), m.hint_details));
    if clock.mode != Mode::Replay && !pb.read_only {
        keys.push((k(&[A::DropIn, A::DropOut], "d/D"), m.hint_drop));
        keys.push((
            k(&[A::Hold], "h"),
            if model.faults.hold_all {
                m.hint_stop_holding
            } else {
                m.hint_hold
            },
        ));
        keys.push((k(&[A::FaultForm], "f"), m.hint_fault));
        keys.push((k(&[A::Close, A::Abort], "x/a"), m.hint_close));
    }
    if clock.mode != Mode::Live {
        keys.push((k(&[A::Faster, A::Slower], "t/T"), m.hint_speed));
        if !pb.walkthrough && clock.mode != Mode::Demo {
            keys.push((k(&[A::Walkthrough], "s"), m.hint_walkthrough));
        }
    } else if !pb.read_only {
        keys.push((k(&[A::Connect], "c"), m.hint_connect));
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
