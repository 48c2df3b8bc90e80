//! The small popups: the fault-rule form, one-line prompts and the
//! chapter list.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::driver::Mode;
use crate::ui::form::{FaultForm, Field};
use crate::ui::view::{ChapterList, Prompt, StatusLine, View};

use super::{block, pad};

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

pub fn form(f: &mut Frame, area: Rect, form: &FaultForm, view: &View, clock: &StatusLine) {
    let t = view.theme;
    let m = view.msg();
    let popup = centered(area, 66, Field::ALL.len() as u16 + 7);
    super::clear(f, popup, view);
    let b = block(
        Line::from(Span::styled(format!(" {} ", m.fault_rule), t.title())),
        true,
        view,
    )
    .title_bottom(
        Line::from(Span::styled(format!(" {} ", m.form_keys), t.dim())).alignment(Alignment::Right),
    );
    let mut lines = Vec::new();
    let directions = if clock.mode == Mode::Live {
        m.directions_live
    } else {
        m.directions_demo
    };
    lines.push(Line::from(Span::styled(directions, t.dim())));
    // The labels' column: as wide as the widest label and a space, at
    // least 11.
    let label_w = Field::ALL
        .iter()
        .map(|f| super::width(f.label(m)) + 1)
        .fold(11, usize::max);
    for (i, field) in Field::ALL.iter().enumerate() {
        let focused = i == form.focus;
        let applies = form.applies(*field);
        let value = form.shown(*field, m);
        let shown = match field {
            Field::Flags | Field::Port if value.is_empty() => m.any.to_string(),
            _ => value,
        };
        let choice = matches!(
            field,
            Field::Dir | Field::Payload | Field::Trigger | Field::Action
        );
        let val = if choice {
            format!("◂ {shown} ▸")
        } else if focused {
            format!("{shown}▏")
        } else {
            shown
        };
        let label_style = if focused {
            t.key()
        } else if applies {
            t.header()
        } else {
            t.dim()
        };
        let val_style = if focused {
            t.selected()
        } else if applies {
            t.base()
        } else {
            t.dim()
        };
        let mut spans = vec![
            Span::styled(if focused { "▸ " } else { "  " }, t.key()),
            Span::styled(pad(field.label(m), label_w), label_style),
            Span::styled(val, val_style),
        ];
        if focused {
            spans.push(Span::styled(format!("  {}", field.hint(m)), t.dim()));
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::from(""));
    match (&form.error, form.rule(m)) {
        (Some(e), _) => lines.push(Line::from(Span::styled(format!("✗ {e}"), t.error()))),
        // The rule as the fault bar shows it: its text form (the events',
        // docs/events.md, The schema) in the UI's words.
        (None, Ok(r)) => lines.push(Line::from(vec![
            Span::styled(format!("{} ", m.rule), t.header()),
            Span::styled(r.words(m), t.ok()),
        ])),
        (None, Err(e)) => lines.push(Line::from(Span::styled(format!("✗ {e}"), t.warn()))),
    }
    draw_lines(f, popup, b, lines);
}

pub fn prompt(f: &mut Frame, area: Rect, p: &Prompt, view: &View) {
    let t = view.theme;
    let m = view.msg();
    let popup = centered(area, 64, 6);
    super::clear(f, popup, view);
    let b = block(
        Line::from(Span::styled(format!(" {} ", p.kind.title(m)), t.title())),
        true,
        view,
    )
    .title_bottom(
        Line::from(Span::styled(format!(" {} ", m.prompt_keys), t.dim()))
            .alignment(Alignment::Right),
    );
    let mut lines = vec![
        Line::from(Span::styled(p.kind.help(m), t.dim())),
        Line::from(vec![
            Span::styled("> ", t.key()),
            Span::raw(p.input.clone()),
            Span::styled("▏", t.key()),
        ]),
    ];
    if let Some(e) = &p.error {
        lines.push(Line::from(Span::styled(format!("✗ {e}"), t.error())));
    }
    draw_lines(f, popup, b, lines);
}

/// `lines` wrapped inside the block `b` drawn over `popup`.
fn draw_lines(f: &mut Frame, popup: Rect, b: Block, lines: Vec<Line>) {
    let inner = b.inner(popup);
    f.render_widget(b, popup);
    let lines: Vec<Line> = lines.into_iter().map(super::breakable_line).collect();
    let text_area = super::wrap_area(inner, &lines);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), text_area);
}

/// The chapter list (`C`): the titles, the one on screen marked, the
/// selected one highlighted.
pub fn chapters(f: &mut Frame, area: Rect, list: &ChapterList, view: &View) {
    let t = view.theme;
    let m = view.msg();
    let widest = list
        .titles
        .iter()
        .map(|s| super::width(s))
        .max()
        .unwrap_or(0);
    let w = (widest as u16 + 10).clamp(36, area.width.saturating_sub(2));
    let popup = centered(area, w, list.titles.len() as u16 + 2);
    super::clear(f, popup, view);
    let b = block(
        Line::from(Span::styled(format!(" {} ", m.chapters_title), t.title())),
        true,
        view,
    )
    .title_bottom(
        Line::from(Span::styled(format!(" {} ", m.chapters_footer), t.dim()))
            .alignment(Alignment::Right),
    );
    let lines: Vec<Line> = list
        .titles
        .iter()
        .enumerate()
        .map(|(i, title)| {
            // The titles carry their numbers (the keys 1–9 and 0).
            let mark = if Some(i) == list.current {
                "▶ "
            } else {
                "  "
            };
            let style = if i == list.sel {
                t.selected()
            } else {
                t.narration()
            };
            Line::from(vec![
                Span::styled(mark, t.key()),
                Span::styled(title.clone(), style),
            ])
        })
        .collect();
    f.render_widget(Paragraph::new(lines).block(b), popup);
}
