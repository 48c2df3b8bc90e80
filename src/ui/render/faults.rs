//! The fault bar: active injector rules, held segments, drop counters.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::event::Dir;
use crate::fault::Rule;
use crate::ui::model::Model;
use crate::ui::view::View;

use super::fit;

pub fn draw(f: &mut Frame, area: Rect, model: &Model, view: &View) {
    let (t, m) = (view.theme, view.msg());
    let fl = &model.faults;
    let mut spans = vec![Span::styled(format!(" {} ", m.faults_title), t.title())];
    let sep = || Span::styled(" │ ", t.border());
    let w = area.width as usize;
    if fl.rules.is_empty() {
        spans.push(Span::styled(m.no_rules, t.dim()));
    } else {
        // The rules as the events write them, in the UI's words.
        let rules: Vec<String> = fl.rules.iter().map(|r| Rule::text_in(m, r)).collect();
        spans.push(Span::styled(fit(&rules.join(m.list_sep), w / 2), t.warn()));
    }
    if !fl.held.is_empty() || fl.hold_all {
        spans.push(sep());
        let labels: Vec<String> = fl
            .held
            .iter()
            .map(|h| {
                let dir = match h.dir {
                    Dir::In => m.dir_in,
                    Dir::Out => m.dir_out,
                };
                format!("{} {dir}", m.flag_words(h.flags))
            })
            .collect();
        spans.push(Span::styled(m.held_count(fl.held.len()), t.held()));
        if !labels.is_empty() {
            spans.push(Span::styled(
                format!(": {}", fit(&labels.join(m.list_sep), w / 4)),
                t.held(),
            ));
        }
    }
    spans.push(sep());
    let mut drops = m.dropped_counts(fl.dropped_in, fl.dropped_out);
    for (why, n) in &fl.other_drops {
        drops.push_str(&format!(" · {} {n}", m.drop_reason_named(why)));
    }
    let any_drop = fl.dropped_in + fl.dropped_out > 0 || !fl.other_drops.is_empty();
    spans.push(Span::styled(
        drops,
        if any_drop { t.dropped() } else { t.dim() },
    ));
    if !fl.actions.is_empty() {
        spans.push(sep());
        let acts: Vec<String> = fl
            .actions
            .iter()
            .map(|(k, v)| format!("{} {v}", m.fault_action_named(k)))
            .collect();
        spans.push(Span::styled(acts.join(" · "), t.warn()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
