//! The `?` popup: every key, drawn from the binding table and the key map
//! (a key the config file rebinds shows here as it works).

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::ui::keys::{HELP, HELP_LEFT, help_actions};
use crate::ui::view::View;

use super::{block, fit};

const KEY_W: usize = 10;
const COL_W: u16 = 38;

fn column<'a>(
    sections: &[(&'a str, &'a [crate::ui::keys::Binding])],
    view: &View,
) -> Vec<Line<'a>> {
    let t = view.theme;
    let mut out = Vec::new();
    for (i, (name, lines)) in sections.iter().enumerate() {
        if i > 0 {
            out.push(Line::from(""));
        }
        out.push(Line::from(Span::styled(*name, t.header())));
        for b in *lines {
            // The mouse is no key; every other line shows the key table's
            // keys (the curated text while they are today's).
            let keys = if b.keys == "mouse" {
                b.keys.to_string()
            } else {
                view.keys.help_label(&help_actions(b), b.keys)
            };
            out.push(Line::from(vec![
                Span::styled(format!(" {:<KEY_W$}", fit(&keys, KEY_W)), t.key()),
                Span::raw(b.what),
            ]));
        }
    }
    out
}

pub fn draw(f: &mut Frame, area: Rect, view: &View) {
    let t = view.theme;
    let left = column(&HELP[..HELP_LEFT], view);
    let right = column(&HELP[HELP_LEFT..], view);
    let rows = left.len().max(right.len()) as u16;
    let w = (2 * COL_W + 2).min(area.width);
    let h = (rows + 3).min(area.height);
    let x = area.x + (area.width - w) / 2;
    let y = area.y + (area.height - h) / 2;
    let popup = Rect::new(x, y, w, h);
    super::clear(f, popup, view);
    let b = block(Line::from(Span::styled(" Keys ", t.title())), true, view).title_bottom(
        Line::from(Span::styled(" any key closes ", t.dim())).alignment(Alignment::Right),
    );
    let inner = b.inner(popup);
    f.render_widget(b, popup);
    let lw = COL_W.min(inner.width);
    f.render_widget(
        Paragraph::new(left),
        Rect::new(inner.x, inner.y, lw, inner.height),
    );
    if inner.width > lw {
        f.render_widget(
            Paragraph::new(right),
            Rect::new(inner.x + lw, inner.y, inner.width - lw, inner.height),
        );
    }
}
