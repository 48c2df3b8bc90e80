//! The `?` popup: every key, drawn from the binding table and the key map
//! (a key the config file rebinds shows here as it works); `?` again turns
//! to a second page, the ladder's notation (two pages, because each fills
//! an 80×24 terminal). Every word comes from the UI's catalogue; the
//! notation page's tokens are written by the same catalogue calls as the
//! ladder's labels, so they read as the ladder does in each language.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::event::{Analysis, FaultAction, RtxCause};
use crate::i18n::Messages;
use crate::ui::keys::{Binding, HELP, HELP_LEFT, KeyAction, SectionName, help_actions};
use crate::ui::view::View;

use super::{block, fit};

const KEY_W: usize = 10;
const COL_W: u16 = 38;
/// The notation page's token column.
const TOKEN_W: usize = 20;

/// Every token an arrow's label or a lifeline can show (`render/ladder.rs`
/// writes them), by section: (token, meaning). Meanings stay within 55
/// columns so that the page fits an 80×24 terminal.
fn notation_rows(m: &Messages) -> [(&'static str, Vec<(String, &'static str)>); 2] {
    let row = |token: String, what: &'static str| (token, what);
    let fixed = |token: &str, what: &'static str| (token.to_string(), what);
    [
        (
            m.nt_arrows,
            vec![
                fixed(m.nt_full, "PSH+ACK seq 1:1449 ack 1 win 262144 len 1448"),
                fixed(m.nt_short, m.nt_short_what),
                fixed("S F R P A U E C", m.nt_flags),
                fixed("1:1449", m.nt_range),
                fixed("a1449  w255K", m.nt_ack_win),
                row(format!("{} 2897-4345", m.sack_word), m.nt_sack),
                row(
                    format!("{}  {}", m.dup_ack_label(3), m.dup_short(3)),
                    m.nt_dup,
                ),
                row(
                    format!(
                        "↻ {}  ↻ {}",
                        m.rtx_cause(RtxCause::Rack),
                        m.rtx_cause(RtxCause::Rto)
                    ),
                    m.nt_rtx,
                ),
                row(format!("⚑ TLP  {}", m.probe_label(2, 9)), m.nt_tlp),
                row(
                    format!("[{}]  [!]", m.fault_action(FaultAction::Delay)),
                    m.nt_fault,
                ),
                fixed("×2", m.nt_twice),
                row(
                    format!("[{}]", m.analysis_label(&Analysis::OutOfOrder)),
                    m.nt_analysis,
                ),
            ],
        ),
        (
            m.nt_ends,
            vec![
                fixed("▶ ◀   ▷╌ ◁╌   ═", m.nt_arrived),
                row(
                    format!("✗ {}  ‖ {}", m.drop_injected, m.held_mark),
                    m.nt_dropped,
                ),
                fixed("● ~   ◷   ·", m.nt_marks),
                fixed("▣ □   ✓ ✗", m.nt_tcb),
                fixed(m.nt_left_edge_token, m.nt_left_edge),
            ],
        ),
    ]
}

fn column<'a>(sections: &[(SectionName, &'a [Binding])], view: &View) -> Vec<Line<'a>> {
    let (t, m) = (view.theme, view.msg());
    let mut out = Vec::new();
    for (i, (name, lines)) in sections.iter().enumerate() {
        if i > 0 {
            out.push(Line::from(""));
        }
        out.push(Line::from(Span::styled(name(m), t.header())));
        for b in *lines {
            // The mouse is no key; every other line shows the key table's
            // keys (the curated text while they are today's).
            let keys = if b.keys == "mouse" {
                b.keys.to_string()
            } else {
                view.keys.help_label(&help_actions(b), b.keys)
            };
            let keys = m.key_words(&keys);
            out.push(Line::from(vec![
                Span::styled(pad(&fit(&keys, KEY_W), KEY_W + 1), t.key()),
                Span::raw((b.what)(m)),
            ]));
        }
    }
    out
}

/// ` {text}` padded with spaces to `w` columns (a CJK character takes two).
fn pad(text: &str, w: usize) -> String {
    let s = format!(" {text}");
    let n = w.saturating_sub(super::width(&s));
    format!("{s}{}", " ".repeat(n))
}

/// The notation page's lines.
fn notation(view: &View) -> Vec<Line<'static>> {
    let (t, m) = (view.theme, view.msg());
    let row = |token: String, what: &'static str| {
        Line::from(vec![
            Span::styled(pad(&fit(&token, TOKEN_W), TOKEN_W + 1), t.key()),
            Span::raw(what),
        ])
    };
    let mut out = Vec::new();
    for (i, (name, rows)) in notation_rows(m).into_iter().enumerate() {
        if i > 0 {
            out.push(Line::from(""));
        }
        out.push(Line::from(Span::styled(name, t.header())));
        for (token, what) in rows {
            out.push(row(token, what));
        }
    }
    out.push(Line::from(""));
    let abs = view.keys.help_label(&[KeyAction::Absolute], "n");
    out.push(row(abs, m.nt_seq));
    out
}

pub fn draw(f: &mut Frame, area: Rect, view: &View) {
    let (t, m) = (view.theme, view.msg());
    let (title, bottom, left, right) = if view.help_notation {
        (
            m.notation_title,
            m.any_key_closes.to_string(),
            notation(view),
            Vec::new(),
        )
    } else {
        let key = view.keys.help_label(&[KeyAction::Help], "?");
        (
            m.help_keys_title,
            format!("{key} {}", m.help_to_notation),
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
    let b = block(
        Line::from(Span::styled(format!(" {title} "), t.title())),
        true,
        view,
    )
    .title_bottom(
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
    // The spare last line: which profile each mode runs (README, Command
    // line).
    if inner.height > rows {
        let line = Rect::new(
            inner.x + 1,
            inner.y + rows,
            inner.width.saturating_sub(1),
            1,
        );
        f.render_widget(
            Paragraph::new(Span::styled(
                super::fit(m.help_profiles, line.width as usize),
                t.dim(),
            )),
            line,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{Lang, messages};

    /// The page fits an 80×24 terminal in every language: tokens within
    /// their column, meanings within 55 columns.
    #[test]
    fn the_notation_fits_in_every_language() {
        for lang in [Lang::En, Lang::Zh] {
            let m = messages(lang);
            for (_, rows) in notation_rows(m) {
                for (token, what) in rows {
                    // A column between the token and its meaning.
                    assert!(super::super::width(&token) < TOKEN_W, "{token:?}");
                    assert!(super::super::width(what) <= 55, "{what:?}");
                }
            }
            assert!(super::super::width(m.nt_seq) <= 55, "{:?}", m.nt_seq);
        }
    }

    /// The keys page's texts fit beside their keys in every language
    /// (the left column's within its 38 columns).
    #[test]
    fn the_keys_fit_in_every_language() {
        for lang in [Lang::En, Lang::Zh] {
            let m = messages(lang);
            for (name, lines) in HELP {
                assert!(
                    super::super::width(name(m)) <= COL_W as usize,
                    "{}",
                    name(m)
                );
                for b in *lines {
                    let what = (b.what)(m);
                    let room = COL_W as usize - KEY_W - 1;
                    assert!(super::super::width(what) <= room, "{what:?}");
                    assert!(
                        super::super::width(&m.key_words(b.keys)) <= KEY_W,
                        "{}",
                        b.keys
                    );
                }
            }
        }
    }
}
