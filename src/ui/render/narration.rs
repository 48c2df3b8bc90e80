//! The narration panel: the scenario's explanation of what just happened.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::ui::model::Model;
use crate::ui::units;
use crate::ui::view::{StatusLine, View};

use super::block;

/// How a walkthrough goes on: the first screen of one says it in full
/// (before the first narration, and on the first step).
pub fn welcome(view: &View, chapters: bool) -> String {
    let m = view.msg();
    if chapters {
        m.welcome_chapters.to_string()
    } else {
        m.welcome.to_string()
    }
}

/// The panel's text: the narration, with the walkthrough's welcome on
/// its first step (or alone before it).
pub fn text(model: &Model, view: &View, clock: &StatusLine) -> Option<String> {
    let pb = &clock.playback;
    match &model.narration {
        Some(n) if pb.walkthrough && n.index == 1 => {
            Some(format!("{}\n{}", n.text, welcome(view, pb.chapters)))
        }
        Some(n) => Some(n.text.to_string()),
        None if pb.walkthrough => Some(welcome(view, pb.chapters)),
        None => None,
    }
}

pub fn draw(f: &mut Frame, area: Rect, model: &Model, view: &View, clock: &StatusLine) {
    let t = view.theme;
    let m = view.msg();
    let Some(n) = &model.narration else {
        if let Some(w) = text(model, view, clock) {
            let b = block(
                Line::from(Span::styled(
                    format!(" {} ", m.walkthrough_title),
                    t.title(),
                )),
                false,
                view,
            );
            let inner = b.inner(area);
            f.render_widget(b, area);
            let lines = vec![Line::from(Span::styled(
                super::breakable(&w).into_owned(),
                t.key(),
            ))];
            let text_area = super::wrap_area(inner, &lines);
            f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), text_area);
        }
        return;
    };
    let title = Line::from(vec![
        Span::styled(format!(" {} ", m.narration), t.title()),
        Span::styled(
            format!("{} ", m.narration_step(n.index, &units::t(n.t))),
            t.dim(),
        ),
    ]);
    let mut b = block(title, false, view);
    if clock.playback.walkthrough {
        let hint = if clock.playback.paused {
            format!(" {} ", m.walkthrough_keys)
        } else {
            " … ".to_string()
        };
        b = b.title(Line::from(Span::styled(hint, t.key())).alignment(Alignment::Right));
    }
    let mut spans = Vec::new();
    if n.target.is_some() {
        spans.push(Span::styled("▶ ", t.key()));
    }
    spans.push(Span::styled(
        super::breakable(&n.text).into_owned(),
        t.narration(),
    ));
    let inner = b.inner(area);
    f.render_widget(b, area);
    let mut lines = vec![Line::from(spans)];
    if clock.playback.walkthrough && n.index == 1 {
        lines.push(Line::from(Span::styled(
            super::breakable(&welcome(view, clock.playback.chapters)).into_owned(),
            t.key(),
        )));
    }
    let text_area = super::wrap_area(inner, &lines);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), text_area);
}
