//! The fault bar: active injector rules, held segments, drop counters.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::ui::model::Model;
use crate::ui::view::View;

use super::fit;

pub fn draw(f: &mut Frame, area: Rect, model: &Model, view: &View) {
    let t = view.theme;
    let fl = &model.faults;
    let mut spans = vec![Span::styled(" Faults ", t.title())];
    let sep = || Span::styled(" │ ", t.border());
    let w = area.width as usize;
    if fl.rules.is_empty() {
        spans.push(Span::styled("no rules", t.dim()));
    } else {
        let rules: Vec<&str> = fl.rules.iter().map(|r| &**r).collect();
        spans.push(Span::styled(fit(&rules.join(", "), w / 2), t.warn()));
    }
    if !fl.held.is_empty() || fl.hold_all {
        spans.push(sep());
        let labels: Vec<&str> = fl.held.iter().map(|h| h.label.as_str()).collect();
        spans.push(Span::styled(format!("‖ held {}", fl.held.len()), t.held()));
        if !labels.is_empty() {
            spans.push(Span::styled(
                format!(": {}", fit(&labels.join(", "), w / 4)),
                t.held(),
            ));
        }
    }
    spans.push(sep());
    let mut drops = format!("dropped in {} · out {}", fl.dropped_in, fl.dropped_out);
    for (why, n) in &fl.other_drops {
        drops.push_str(&format!(" · {why} {n}"));
    }
    let any_drop = fl.dropped_in + fl.dropped_out > 0 || !fl.other_drops.is_empty();
    spans.push(Span::styled(
        drops,
        if any_drop { t.dropped() } else { t.dim() },
    ));
    if !fl.actions.is_empty() {
        spans.push(sep());
        let acts: Vec<String> = fl.actions.iter().map(|(k, v)| format!("{k} {v}")).collect();
        spans.push(Span::styled(acts.join(" · "), t.warn()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
