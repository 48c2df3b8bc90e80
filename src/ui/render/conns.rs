//! The connection list: 4-tuple, state of each side (coloured), age, bytes
//! each way, retransmissions and drops, and one timer in the spirit of
//! `ss -o`. Closed connections stay a while, greyed, saying what was freed.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table, TableState};

use crate::event::TimerKind;
use crate::i18n::Messages;
use crate::tcp::State;
use crate::ui::model::{Conn, HostView, Model};
use crate::ui::units;
use crate::ui::view::{Focus, StatusLine, View};

use super::{block, fit, focused};

/// `ss` spells states this way when room is short.
pub fn short_state(s: State) -> &'static str {
    match s {
        State::Established => "ESTAB",
        State::SynReceived => "SYN-RECV",
        other => other.name(),
    }
}

fn state_cell(side: Option<&HostView>, wide: bool, view: &View) -> Cell<'static> {
    let t = view.theme;
    match side.and_then(|s| s.state) {
        Some(st) => {
            let name = if wide { st.name() } else { short_state(st) };
            // `~`: inferred from a capture's packets.
            let inferred = side
                .and_then(|s| s.last.as_ref())
                .is_some_and(|l| l.inferred);
            let name = if inferred {
                format!("~{name}")
            } else {
                name.to_string()
            };
            Cell::from(Span::styled(name, t.state(st)))
        }
        None if side.is_some() => Cell::from(Span::styled(view.msg().no_tcb, t.dim())),
        None => Cell::from(Span::styled("—", t.dim())),
    }
}

/// The `ss -o` timer name and value, with the backoff count of the
/// retransmission and persist timers.
pub fn timer_label(m: &Messages, k: TimerKind, left: f64, backoff: Option<u32>) -> String {
    let name = m.timer_short(k);
    let v = units::secs_in(m, left);
    match (k, backoff) {
        (TimerKind::Retransmit | TimerKind::Persist, Some(b)) if b > 0 => {
            format!("{name} {v} ({b})")
        }
        _ => format!("{name} {v}"),
    }
}

/// What the timer column says about a row.
pub fn timer_text(m: &Messages, c: &Conn, now: f64, two_hosts: bool) -> (String, bool) {
    if c.is_closed() {
        // What was given back, from the side that freed last.
        let freed = c
            .present()
            .filter_map(|(_, s)| s.freed.as_ref().map(|f| (s, f)))
            .max_by(|a, b| a.1.t.total_cmp(&b.1.t));
        let abort = c.present().find_map(|(_, s)| s.abort.as_ref());
        let mut text = match freed {
            Some((_, f)) => {
                m.freed_tcb(&units::kib_in(m, (f.send_buf + f.recv_buf) as u64), f.port)
            }
            None => m.closed.into(),
        };
        if let Some(a) = abort {
            text = format!("{} · {text}", m.abort_reason(a));
        }
        return (text, true);
    }
    let mut best: Option<(f64, String)> = None;
    for (slot, s) in c.present() {
        for (k, a) in s.armed() {
            // A delayed ACK is noise next to any other timer.
            let rank = if k == TimerKind::DelayedAck {
                a.deadline + 1e9
            } else {
                a.deadline
            };
            if best.as_ref().is_none_or(|(r, _)| rank < *r) {
                let mut label = timer_label(m, k, a.left(now), a.backoff);
                if k == TimerKind::Keepalive && s.keepalive.probe > 0 {
                    label = format!("{label} ({}/{})", s.keepalive.probe, s.keepalive.of);
                }
                if two_hosts {
                    label = format!("{} {label}", m.side_letter(&s.host, slot));
                }
                best = Some((rank, label));
            }
        }
    }
    (best.map(|(_, l)| l).unwrap_or_default(), false)
}

/// `10.0.0.1:63359 ⇄ 10.0.0.2:80`, shortened to fit.
pub fn tuple_text_in(m: &Messages, c: &Conn, w: usize) -> String {
    if c.listener {
        let local = c
            .ends
            .iter()
            .find(|e| !matches!(&***e, "0.0.0.0:0" | "[::]:0"))
            .map(|e| e.to_string())
            .unwrap_or_default();
        return fit(&m.listen(&local), w);
    }
    let full = format!("{} ⇄ {}", c.ends[0], c.ends[1]);
    if super::width(&full) <= w {
        return full;
    }
    // Drop the left address's IP first: the port tells connections apart.
    let port = c.ends[0]
        .rsplit_once(':')
        .map(|(_, p)| p)
        .unwrap_or(&c.ends[0]);
    fit(&format!("{port} ⇄ {}", c.ends[1]), w)
}

pub fn draw(f: &mut Frame, area: Rect, model: &Model, view: &mut View, clock: &StatusLine) {
    let t = view.theme;
    let m = view.msg();
    let ids = view.visible(model);
    let two = model.two_hosts();
    let inner_w = area.width.saturating_sub(2) as usize;
    let wide = inner_w >= 110;
    let state_w: u16 = if wide { 12 } else { 10 };
    let states = if two { 2 * state_w } else { state_w } as usize;
    let cols = if two { 7 } else { 6 };
    // Age, bytes and retransmissions, and the spaces between columns. An
    // age takes at most the width of `0.60s`, `4m02s` or `2h00m` in the
    // language's units (`4分02秒`: a CJK character takes two columns).
    let (age_w, bytes_w) = if wide { (6, 10) } else { (5, 8) };
    let widest_age = [0.6, 242.0, 7200.0]
        .map(|s| super::width(&units::secs_in(m, s)))
        .into_iter()
        .max()
        .unwrap_or(age_w);
    let age_w = age_w.max(widest_age);
    let fixed = states + age_w + bytes_w + 4 + (cols - 1);
    let rest = inner_w.saturating_sub(fixed);
    // The tuple gets what it needs (up to 44), the timer column the rest.
    // Only the rows on screen are built: the list may hold thousands.
    let page = area.height.saturating_sub(3) as usize;
    let sel_index = view.selected.and_then(|s| ids.iter().position(|i| *i == s));
    let mut offset = view.conn_offset.min(ids.len().saturating_sub(page.max(1)));
    if let Some(sel) = sel_index {
        if sel < offset {
            offset = sel;
        } else if page > 0 && sel >= offset + page {
            offset = sel + 1 - page;
        }
    }
    view.conn_offset = offset;
    let shown = &ids[offset.min(ids.len())..(offset + page).min(ids.len())];
    let want = shown
        .iter()
        .filter_map(|id| model.conn(*id))
        .map(|c| super::width(&tuple_text_in(m, c, 60)))
        .max()
        .unwrap_or(12)
        .clamp(12, 44);
    let conn_w = want.min(rest.saturating_sub(16)).max(12);
    let timer_w = rest.saturating_sub(conn_w).max(8) as u16;
    let (left_name, right_name) = side_names(model, view);
    let mut header = vec![Cell::from(m.col_connection)];
    if two {
        header.push(Cell::from(left_name));
        header.push(Cell::from(right_name));
    } else {
        header.push(Cell::from(m.col_state));
    }
    let bytes_h = if wide { m.col_bytes } else { "→/←" };
    header.extend([m.col_age, bytes_h, m.col_rtx, m.col_timer].map(Cell::from));

    let rows: Vec<Row> = shown
        .iter()
        .filter_map(|id| model.conn(*id))
        .map(|c| conn_row(c, view, clock, two, wide, (conn_w, timer_w)))
        .collect();

    let mut widths = vec![Constraint::Length(conn_w as u16)];
    widths.push(Constraint::Length(state_w));
    if two {
        widths.push(Constraint::Length(state_w));
    }
    widths.extend([
        Constraint::Length(age_w as u16),
        Constraint::Length(bytes_w as u16),
        Constraint::Length(4),
        Constraint::Length(timer_w),
    ]);

    let mut title = vec![
        Span::styled(format!(" {} ", m.conns_title), t.title()),
        Span::styled(format!("{} ", ids.len()), t.dim()),
    ];
    if view.filter_editing || !view.filter.is_empty() {
        title.push(Span::styled(format!("· {} ", m.filter), t.key()));
        title.push(Span::raw(view.filter.clone()));
        if view.filter_editing {
            title.push(Span::styled("▏", t.key()));
        }
        title.push(Span::raw(" "));
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(t.header()))
        .column_spacing(1)
        .row_highlight_style(t.selected())
        .block(block(Line::from(title), focused(view, Focus::Conns), view));
    let mut st = TableState::new().with_selected(sel_index.and_then(|i| i.checked_sub(offset)));
    f.render_stateful_widget(table, area, &mut st);

    if ids.is_empty() {
        let msg = if view.filter.is_empty() {
            m.no_connections
        } else {
            m.no_match
        };
        let y = area.y + 2;
        if y < area.bottom().saturating_sub(1) {
            f.buffer_mut().set_string(area.x + 2, y, msg, t.dim());
        }
    }
    view.hits.conns = area;
    let first_y = area.y + 2;
    let last_y = area.bottom().saturating_sub(1);
    view.hits.conn_rows = shown
        .iter()
        .enumerate()
        .map(|(i, id)| (first_y + i as u16, *id))
        .take_while(|(y, _)| *y < last_y)
        .collect();
}

/// One connection's row: its tuple, states, age, bytes, retransmissions
/// and drops, and its most urgent timer; a closed one dimmed.
fn conn_row<'a>(
    c: &Conn,
    view: &View,
    clock: &StatusLine,
    two: bool,
    wide: bool,
    (conn_w, timer_w): (usize, u16),
) -> Row<'a> {
    let (t, m) = (view.theme, view.msg());
    let closed = c.is_closed();
    let mut cells = vec![Cell::from(tuple_text_in(m, c, conn_w))];
    if two {
        cells.push(state_cell(c.side(0), wide, view));
        cells.push(state_cell(c.side(1), wide, view));
    } else {
        let side = c.side(1).or_else(|| c.side(0));
        cells.push(state_cell(side, wide, view));
    }
    let end = c.closed_at().unwrap_or(clock.now.max(c.last_t));
    cells.push(Cell::from(units::secs_in(m, end - c.first_t)));
    cells.push(Cell::from(format!(
        "{}/{}",
        units::bytes(c.bytes[0]),
        units::bytes(c.bytes[1])
    )));
    // Retransmissions, then drops after ✗; a dot when neither.
    let mut rtx = vec![Span::raw(match (c.retransmits, c.drops) {
        (0, 0) => "·".to_string(),
        (0, _) => String::new(),
        (n, _) => n.to_string(),
    })];
    if c.drops > 0 {
        rtx.push(Span::styled(
            format!("✗{}", c.drops),
            if closed { Style::new() } else { t.dropped() },
        ));
    }
    cells.push(Cell::from(Line::from(rtx)));
    let (timer, _) = timer_text(m, c, clock.now, two);
    cells.push(Cell::from(Span::styled(
        fit(&timer, timer_w as usize),
        if closed { Style::new() } else { t.timer() },
    )));
    let row = Row::new(cells);
    if closed { row.style(t.closed()) } else { row }
}

/// Column names for the two lifelines: the hosts' names when known.
fn side_names(model: &Model, view: &View) -> (String, String) {
    let m = view.msg();
    let name = |slot: usize, dflt: &str| {
        let host = view
            .selected_conn(model)
            .and_then(|c| c.side(slot))
            .map_or(dflt, |s| &*s.host);
        capitalise(&m.host(host))
    };
    (name(0, "client"), name(1, "server"))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
