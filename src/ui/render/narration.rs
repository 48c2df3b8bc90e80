//! The narration panel: the scenario's explanation of what just happened.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::ui::model::Model;
use crate::ui::units;
use crate::ui::view::{StatusLine, View};

use super::block;

pub fn draw(f: &mut Frame, area: Rect, model: &Model, view: &View, clock: &StatusLine) {
    let t = view.theme;
    let Some(n) = &model.narration else { return };
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
    f.render_widget(
        Paragraph::new(Line::from(spans))
            .wrap(Wrap { trim: true })
            .block(b),
        area,
    );
}
