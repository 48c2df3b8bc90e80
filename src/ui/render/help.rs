//! The `?` popup: every key, drawn from the binding table and the key map
//! (a key the config file rebinds shows here as it works); `?` again turns
//! to a second page, the ladder's notation (two pages, because each fills
//! an 80×24 terminal).

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::ui::keys::{HELP, HELP_LEFT, KeyAction, help_actions};
use crate::ui::view::View;

use super::{block, fit};

const KEY_W: usize = 10;
const COL_W: u16 = 38;
/// The notation page's token column.
const TOKEN_W: usize = 20;

/// Every token an arrow's label or a lifeline can show (`render/ladder.rs`
/// writes them), by section: (token, meaning). Meanings stay within 55
/// columns so that the page fits an 80×24 terminal.
const NOTATION: &[(&str, &[(&str, &str)])] = &[
    (
        "Arrow labels",
        &[
            ("full", "PSH+ACK seq 1:1449 ack 1 win 262144 len 1448"),
            ("short", "PA 1:1449 a1 w256K, when the arrow is narrow"),
            ("S F R P A U E C", "SYN FIN RST PSH ACK URG ECE CWR; . none"),
            ("1:1449", "data: first:end, here seq 1 up to 1449, len 1448"),
            (
                "a1449  w255K",
                "ack; window in bytes, scaled (K M G: ×1024)",
            ),
            ("sack 2897-4345", "SACK blocks: what arrived above the ack"),
            (
                "dup ACK #3  dup#3",
                "the 3rd duplicate of the ACK before it",
            ),
            (
                "↻ rack  ↻ rto",
                "sent again, and what sent it (dupack, rack…)",
            ),
            (
                "⚑ TLP  probe 2/9",
                "tail loss probe; keepalive probe 2 of 9",
            ),
            ("[delay]  [!]", "what a fault rule did to it (short: [!])"),
            ("×2", "arrived twice (short form: an offload of 2 segments)"),
            (
                "[out of order]",
                "a capture's TCP analysis, Wireshark's words",
            ),
        ],
    ),
    (
        "Ends and marks",
        &[
            (
                "▶ ◀   ▷╌ ◁╌   ═",
                "arrived; still in flight; a run of segments",
            ),
            (
                "✗ injected  ‖ held",
                "dropped on the way (why); held by a rule",
            ),
            ("● ~   ◷   ·", "state (~: inferred); timer fired; note"),
            (
                "▣ □   ✓ ✗",
                "TCB allocated / freed; keepalive answered; abort",
            ),
            ("▶ at the left edge", "the line the narration explains"),
        ],
    ),
];

/// The last line of the notation page, after the key that toggles it.
const NOTATION_SEQ: &str = "seq and ack count from each side's ISN ⇄ absolute";
const TITLE_KEYS: &str = " Keys ";
const TITLE_NOTATION: &str = " Ladder notation ";
/// The bottom line: page one names the key to page two.
const TO_NOTATION: &str = "ladder notation · any other key closes";
const CLOSES: &str = "any key closes";

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

/// The notation page's lines.
fn notation(view: &View) -> Vec<Line<'static>> {
    let t = view.theme;
    let row = |token: String, what: &'static str| {
        Line::from(vec![
            Span::styled(format!(" {:<TOKEN_W$}", fit(&token, TOKEN_W)), t.key()),
            Span::raw(what),
        ])
    };
    let mut out = Vec::new();
    for (i, (name, rows)) in NOTATION.iter().enumerate() {
        if i > 0 {
            out.push(Line::from(""));
        }
        out.push(Line::from(Span::styled(*name, t.header())));
        for (token, what) in *rows {
            out.push(row(token.to_string(), what));
        }
    }
    out.push(Line::from(""));
    let abs = view.keys.help_label(&[KeyAction::Absolute], "n");
    out.push(row(abs, NOTATION_SEQ));
    out
}

pub fn draw(f: &mut Frame, area: Rect, view: &View) {
    let t = view.theme;
    let (title, bottom, left, right) = if view.help_notation {
        (
            TITLE_NOTATION,
            CLOSES.to_string(),
            notation(view),
            Vec::new(),
        )
    } else {
        let key = view.keys.help_label(&[KeyAction::Help], "?");
        (
            TITLE_KEYS,
            format!("{key} {TO_NOTATION}"),
            column(&HELP[..HELP_LEFT], view),
            column(&HELP[HELP_LEFT..], view),
        )
    };
    let rows = left.len().max(right.len()) as u16;
    let w = (2 * COL_W + 2).min(area.width);
    let h = (rows + 3).min(area.height);
    let x = area.x + (area.width - w) / 2;
    let y = area.y + (area.height - h) / 2;
    let popup = Rect::new(x, y, w, h);
    super::clear(f, popup, view);
    let b = block(Line::from(Span::styled(title, t.title())), true, view).title_bottom(
        Line::from(Span::styled(format!(" {bottom} "), t.dim())).alignment(Alignment::Right),
    );
    let inner = b.inner(popup);
    f.render_widget(b, popup);
    if right.is_empty() {
        f.render_widget(Paragraph::new(left), inner);
        return;
    }
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
