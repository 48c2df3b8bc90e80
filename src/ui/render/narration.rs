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
    let m = view.msg();
    let Some(n) = &model.narration else { return };
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
    let lines = vec![Line::from(spans)];
    let text_area = super::wrap_area(inner, &lines);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), text_area);
}
