//! Drawing: one module per widget, this one lays them out.
//!
//! 80×24 is the smallest size with everything on screen; more room gives
//! more rows, both lifelines' TCBs side by side and the state diagram.

mod conns;
mod detail;
mod faults;
mod graph;
mod help;
mod ladder;
mod narration;
mod popup;
mod side;
mod statebox;
mod title;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::model::Model;
use super::view::{Focus, Pane, Popup, StatusLine, View};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Draw one frame.
pub fn draw(f: &mut Frame, model: &Model, view: &mut View, clock: &StatusLine) {
    let area = f.area();
    view.hits = Default::default();
    if let Some(s) = view.theme.screen() {
        f.buffer_mut().set_style(area, s);
    }
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return too_small(f, area, view);
    }
    view.sync(model);
    let narr_text = narration::text(model, view, clock);
    let narration = narr_text.is_some();
    // As many lines as the text needs, within reason for the height.
    let narr_h = match &narr_text {
        None => 0,
        Some(text) => {
            // A line more for a walkthrough's welcome under its first step.
            let welcome = u16::from(text.contains('\n'));
            // A small screen still reads a long narration whole (the
            // tour's keepalive chapters need five lines at 80 columns):
            // the ladder keeps its eight.
            let most = if area.height >= 40 { 6 } else { 5 } + welcome;
            // The width `narration::draw` wraps to (see `wrap_area`).
            let w = area.width.saturating_sub(2) - u16::from(has_wide(text));
            let lines: u16 = text
                .split('\n')
                .map(|l| wrapped_lines(&format!("▶ {}", breakable(l)), w as usize))
                .sum();
            lines.clamp(1, most) + 2
        }
    };
    if let Some(pane) = view.zoom {
        return zoomed(f, area, pane, narr_h, model, view, clock);
    }
    let rows = view.visible(model).len() as u16;
    let max_conns = (area.height * 28 / 100).max(6);
    let conns_h = (rows + 3).clamp(5, max_conns);
    let [top, conns_a, main, narr_a, faults_a, hint_a] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(conns_h),
        Constraint::Min(8),
        Constraint::Length(narr_h),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);

    title::draw(f, top, model, view, clock);
    conns::draw(f, conns_a, model, view, clock);

    let side_w = if view.detail {
        (main.width / 2).max(40)
    } else if main.width >= 160 {
        52
    } else if main.width >= 120 {
        48
    } else {
        34
    };
    let [ladder_a, side_a] =
        Layout::horizontal([Constraint::Min(40), Constraint::Length(side_w)]).areas(main);
    if view.graph && main.width < 160 && !view.detail {
        // Narrow: the graph gets the ladder's and the side panel's room.
        graph::draw(f, main, model, view);
    } else {
        draw_ladder_or_graph(f, ladder_a, model, view, clock);
        if view.detail {
            detail::draw(f, side_a, model, view);
        } else {
            side::draw(f, side_a, model, view, clock);
        }
    }
    if narration {
        narration::draw(f, narr_a, model, view, clock);
    }
    faults::draw(f, faults_a, model, view);
    title::hints(f, hint_a, model, view, clock);
    popups(f, area, view, clock);
    view.page = (ladder_a.height.saturating_sub(3) as usize).max(1);
}

/// The ladder, or the graph (`w`) in its place, or both side by side when
/// the terminal is at least 160 columns wide.
fn draw_ladder_or_graph(
    f: &mut Frame,
    area: Rect,
    model: &Model,
    view: &mut View,
    clock: &StatusLine,
) {
    if !view.graph {
        return ladder::draw(f, area, model, view, clock);
    }
    if f.area().width >= 160 && area.width >= 100 {
        let [l, g] =
            Layout::horizontal([Constraint::Percentage(45), Constraint::Min(40)]).areas(area);
        ladder::draw(f, l, model, view, clock);
        graph::draw(f, g, model, view);
    } else {
        graph::draw(f, area, model, view);
    }
}

fn popups(f: &mut Frame, area: Rect, view: &View, clock: &StatusLine) {
    match &view.popup {
        Some(Popup::Help) => help::draw(f, area, view),
        Some(Popup::Form(form)) => popup::form(f, area, form, view, clock),
        Some(Popup::Prompt(p)) => popup::prompt(f, area, p, view),
        Some(Popup::Chapters(list)) => popup::chapters(f, area, list, view),
        None => {}
    }
}

/// One pane over the whole screen (`z`), under the title bar and over the
/// narration, the fault bar and the key hints: what a projected demo needs,
/// in large type.
fn zoomed(
    f: &mut Frame,
    area: Rect,
    pane: Pane,
    narr_h: u16,
    model: &Model,
    view: &mut View,
    clock: &StatusLine,
) {
    let [top, main, narr_a, faults_a, hint_a] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(8),
        Constraint::Length(narr_h),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    title::draw(f, top, model, view, clock);
    match pane {
        Pane::Ladder => {
            let ladder_a = if view.detail {
                let [l, d] = Layout::horizontal([
                    Constraint::Min(40),
                    Constraint::Length((main.width / 2).max(40)),
                ])
                .areas(main);
                detail::draw(f, d, model, view);
                l
            } else {
                main
            };
            draw_ladder_or_graph(f, ladder_a, model, view, clock);
            view.page = (ladder_a.height.saturating_sub(3) as usize).max(1);
        }
        Pane::Tcb => side::draw(f, main, model, view, clock),
        Pane::Timers => side::timers(f, main, model, view, clock),
        Pane::Keepalive => side::keepalive(f, main, model, view, clock),
    }
    if narration::text(model, view, clock).is_some() {
        narration::draw(f, narr_a, model, view, clock);
    }
    faults::draw(f, faults_a, model, view);
    title::hints(f, hint_a, model, view, clock);
    popups(f, area, view, clock);
}

fn too_small(f: &mut Frame, area: Rect, view: &View) {
    let t = view.theme;
    let m = view.msg();
    let text = vec![
        Line::from(Span::styled("tcpscope", t.title())),
        Line::from(""),
        Line::from(m.too_small(area.width, area.height, MIN_WIDTH, MIN_HEIGHT)),
        Line::from(m.make_larger),
    ];
    let h = (text.len() as u16 + 2).min(area.height);
    let y = area.y + area.height.saturating_sub(h) / 2;
    let box_area = Rect::new(area.x, y, area.width, h);
    f.render_widget(
        Paragraph::new(text)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true })
            .block(Block::new()),
        box_area,
    );
}

/// Blank `area` for a popup, in the theme's screen colours.
pub(crate) fn clear(f: &mut Frame, area: Rect, view: &View) {
    f.render_widget(ratatui::widgets::Clear, area);
    if let Some(s) = view.theme.screen() {
        f.buffer_mut().set_style(area, s);
    }
}

/// A bordered block with a title, highlighted when it has the focus.
pub(crate) fn block<'a>(title: Line<'a>, focused: bool, view: &View) -> Block<'a> {
    let t = view.theme;
    Block::bordered()
        .border_style(if focused {
            t.border_focus()
        } else {
            t.border()
        })
        .title(title)
}

/// Focus test shared by the widgets.
pub(crate) fn focused(view: &View, f: Focus) -> bool {
    view.focus == f && view.popup.is_none()
}

/// Cut `s` to `w` display columns, with an ellipsis when it was longer.
pub(crate) fn fit(s: &str, w: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let total: usize = s.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if used + cw + 1 > w {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    out
}

/// `s` followed by spaces up to `w` display columns (`{:<w}` counts
/// chars, and a CJK character takes two columns).
pub(crate) fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

/// Lines a greedy word wrap of `text` takes at width `w`. A zero-width
/// space (see [`breakable`]) is a place to break that takes no room.
pub(crate) fn wrapped_lines(text: &str, w: usize) -> u16 {
    if w == 0 {
        return 1;
    }
    let mut lines = 1u16;
    let mut used = 0usize;
    for word in text.split_whitespace() {
        for (i, piece) in word.split(ZWSP).enumerate() {
            let pw = width(piece);
            let gap = usize::from(i == 0);
            if used == 0 {
                used = pw;
            } else if used + gap + pw <= w {
                used += gap + pw;
            } else {
                lines += 1;
                used = pw;
            }
            while used > w {
                lines += 1;
                used -= w;
            }
        }
    }
    lines
}

/// Ratatui's word wrap breaks lines at whitespace, and counts a zero-width
/// space as whitespace.
const ZWSP: char = '\u{200b}';

/// `text` with a zero-width space wherever a line of Chinese may break:
/// beside a wide (CJK) character, but never before closing punctuation
/// (`，。：）`) nor after opening punctuation (`（`). Chinese has no spaces
/// between words, and without these ratatui would move a whole sentence
/// to the next line. Text without wide characters comes back as it is.
pub(crate) fn breakable(text: &str) -> std::borrow::Cow<'_, str> {
    if !has_wide(text) {
        return text.into();
    }
    let closing = |c: char| "，。、：；！？）」』》〉…,.:;!?)%\"'".contains(c);
    let opening = |c: char| "（「『《〈(\"'".contains(c);
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    let mut prev: Option<char> = None;
    for c in text.chars() {
        if let Some(p) = prev
            && (is_wide(p) || is_wide(c))
            && !p.is_whitespace()
            && !c.is_whitespace()
            && !closing(c)
            && !opening(p)
        {
            out.push(ZWSP);
        }
        out.push(c);
        prev = Some(c);
    }
    out.into()
}

fn is_wide(c: char) -> bool {
    use unicode_width::UnicodeWidthChar;
    c.width() == Some(2)
}

/// Whether `s` holds a character two columns wide (CJK).
pub(crate) fn has_wide(s: &str) -> bool {
    s.chars().any(is_wide)
}

/// Where a wrapped paragraph of `lines` goes inside `area`: one column
/// narrower when the lines hold wide characters. Ratatui's word wrap
/// (ratatui-widgets 0.3, `WordWrapper`) may end a line with a wide
/// character one column past the width it wraps to; the column kept free
/// takes it instead of the border.
pub(crate) fn wrap_area(area: Rect, lines: &[Line]) -> Rect {
    let wide = lines
        .iter()
        .flat_map(|l| &l.spans)
        .any(|s| has_wide(&s.content));
    Rect {
        width: area.width.saturating_sub(u16::from(wide)),
        ..area
    }
}

/// A line whose Chinese may break anywhere [`breakable`] allows.
pub(crate) fn breakable_line(line: Line<'_>) -> Line<'_> {
    let spans = line
        .spans
        .into_iter()
        .map(|s| {
            let broken = match breakable(&s.content) {
                std::borrow::Cow::Owned(b) => Some(b),
                std::borrow::Cow::Borrowed(_) => None,
            };
            Span {
                content: broken.map_or(s.content, Into::into),
                style: s.style,
            }
        })
        .collect::<Vec<_>>();
    Line { spans, ..line }
}

/// Display width of a string.
pub(crate) fn width(s: &str) -> usize {
    use unicode_width::UnicodeWidthStr;
    s.width()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn chinese_breaks_between_characters_not_before_closing_punctuation() {
        let z = '\u{200b}';
        assert_eq!(
            breakable("窗口（Eifel）。ACK 到达"),
            format!("窗{z}口{z}（Eifel）。{z}ACK 到{z}达")
        );
        // English comes back as it is, without a copy.
        assert!(matches!(
            breakable("RTO fired: retransmit · §3.3"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn wrapped_lines_breaks_chinese_at_zero_width_spaces() {
        let text = breakable("最后的报文段到达服务器");
        // Eleven characters, 22 columns: three lines of 8.
        assert_eq!(wrapped_lines(&text, 8), 3);
        assert_eq!(wrapped_lines("one two three", 8), 2);
    }

    #[test]
    fn pad_counts_columns() {
        assert_eq!(pad("方向", 6), "方向  ");
        assert_eq!(pad("port", 6), "port  ");
        assert_eq!(pad("延迟（毫秒）", 6), "延迟（毫秒）");
    }
}
