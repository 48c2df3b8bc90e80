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
pub fn welcome(chapters: bool) -> String {
    let more = if chapters {
        ", C lists the chapters and jumps to one"
    } else {
        ""
    };
    format!(
        "Walkthrough: the run stops at each explanation. Space goes on, backspace goes back{more}; ? shows every key."
    )
}

/// The panel's text: the narration, with the walkthrough's welcome on
/// its first step (or alone before it).
pub fn text(model: &Model, clock: &StatusLine) -> Option<String> {
    let pb = &clock.playback;
    match &model.narration {
        Some(n) if pb.walkthrough && n.index == 1 => {
            Some(format!("{}\n{}", n.text, welcome(pb.chapters)))
        }
        Some(n) => Some(n.text.to_string()),
        None if pb.walkthrough => Some(welcome(pb.chapters)),
        None => None,
    }
}

pub fn draw(f: &mut Frame, area: Rect, model: &Model, view: &View, clock: &StatusLine) {
    let t = view.theme;
    let Some(n) = &model.narration else {
        if let Some(w) = text(model, clock) {
            let b = block(
                Line::from(Span::styled(" Walkthrough ", t.title())),
                false,
                view,
            );
            f.render_widget(
                Paragraph::new(Span::styled(w, t.key()))
                    .wrap(Wrap { trim: true })
                    .block(b),
                area,
            );
        }
        return;
    };
    let title = Line::from(vec![
        Span::styled(" Narration ", t.title()),
        Span::styled(
            format!("· step {} · t {} ", n.index, units::t(n.t)),
            t.dim(),
        ),
    ]);
    let mut b = block(title, false, view);
    if clock.playback.walkthrough {
        let hint = if clock.playback.paused {
            " space: next · backspace: back "
        } else {
            " … "
        };
        b = b.title(Line::from(Span::styled(hint, t.key())).alignment(Alignment::Right));
    }
    let mut spans = Vec::new();
    if n.target.is_some() {
        spans.push(Span::styled("▶ ", t.key()));
    }
    spans.push(Span::styled(n.text.to_string(), t.narration()));
    let mut lines = vec![Line::from(spans)];
    if clock.playback.walkthrough && n.index == 1 {
        lines.push(Line::from(Span::styled(
            welcome(clock.playback.chapters),
            t.key(),
        )));
    }
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(b),
        area,
    );
}
