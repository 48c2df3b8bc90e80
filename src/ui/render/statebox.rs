//! A small RFC 9293 state diagram (after Figure 5, §3.3.2) with each side's
//! current state filled in its colour and the state it came from underlined.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};

use crate::tcp::State;
use crate::ui::model::Conn;
use crate::ui::theme::Theme;

/// The diagram: `{NAME}` marks a state; everything else is connector.
/// CLOSED appears twice, as in the RFC's figure: where connections start
/// (top) and where they end (bottom).
const DIAGRAM: [&str; 7] = [
    "{CLOSED} ─▶ {LISTEN} ─▶ {SYN-RCVD} ──┐",
    "  └─────▶ {SYN-SENT} ────────────┴▶ {ESTABLISHED}",
    "           ┌───────────────────────────┤",
    "       {FIN-WAIT-1} ─▶ {CLOSING}      {CLOSE-WAIT}",
    "           ▼            ▼              ▼",
    "       {FIN-WAIT-2} ─▶ {TIME-WAIT}     {LAST-ACK}",
    "                         └──▶ {CLOSED*} ◀┘",
];

pub const WIDTH: u16 = 46;
pub const HEIGHT: u16 = DIAGRAM.len() as u16;

/// Token → state, and whether it is the closing CLOSED.
fn token(name: &str) -> Option<(State, bool)> {
    match name {
        "CLOSED*" => Some((State::Closed, true)),
        "SYN-RCVD" => Some((State::SynReceived, false)),
        n => State::from_name(n).map(|s| (s, false)),
    }
}

/// Which CLOSED a side is in: the bottom one once it has been something.
fn at_token(state: State, came_from: Option<State>, bottom: bool) -> bool {
    if state != State::Closed {
        return !bottom;
    }
    let ended = came_from.is_some_and(|f| f != State::Closed && f != State::Listen);
    ended == bottom
}

pub fn draw(buf: &mut Buffer, area: Rect, c: &Conn, t: &Theme) {
    for (y, line) in DIAGRAM.iter().enumerate() {
        if y as u16 >= area.height {
            break;
        }
        let mut x = area.x;
        let mut rest = *line;
        while !rest.is_empty() && x < area.right() {
            let (text, name, after) = match rest.find('{') {
                Some(i) => {
                    let close = rest[i..].find('}').map(|j| i + j).unwrap_or(rest.len() - 1);
                    (
                        &rest[..i],
                        Some(&rest[i + 1..close]),
                        &rest[(close + 1).min(rest.len())..],
                    )
                }
                None => (rest, None, ""),
            };
            if !text.is_empty() {
                let (nx, _) = buf.set_stringn(
                    x,
                    area.y + y as u16,
                    text,
                    (area.right() - x) as usize,
                    t.lifeline(),
                );
                x = nx;
            }
            if let Some(name) = name {
                let label = name.trim_end_matches('*');
                let style = token(name)
                    .map(|(st, bottom)| style_for(c, st, bottom, t))
                    .unwrap_or(t.dim());
                let (nx, _) = buf.set_stringn(
                    x,
                    area.y + y as u16,
                    label,
                    (area.right() - x) as usize,
                    style,
                );
                x = nx;
            }
            rest = after;
        }
    }
}

fn style_for(c: &Conn, st: State, bottom: bool, t: &Theme) -> Style {
    let mut here = Vec::new();
    let mut came = Vec::new();
    for (slot, s) in c.present() {
        let Some(cur) = s.state else { continue };
        let from = s.last.as_ref().map(|l| l.from);
        if cur == st && at_token(cur, from, bottom) {
            here.push(slot);
        }
        if let Some(l) = &s.last
            && l.from == st
            && l.from != l.to
        {
            // The state it left: the top CLOSED unless it had ended before.
            let prev_from = None;
            if at_token(st, prev_from, bottom) {
                came.push(slot);
            }
        }
    }
    match here.as_slice() {
        [one] => t.side(*one),
        [_, _] => t.bold().add_modifier(Modifier::REVERSED),
        _ => match came.first() {
            Some(slot) => t.side_fg(*slot).add_modifier(Modifier::UNDERLINED),
            None => t.dim(),
        },
    }
}
