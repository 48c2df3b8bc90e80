//! The panel beside the ladder: the TCB (RFC 9293 §3.3.1 variables,
//! negotiated options, RFC 6298 RTT state, RFC 5681 congestion state), the
//! state diagram, every armed timer as a gauge counting down, and the
//! keepalive countdown (RFC 1122 §4.2.3.6).
//!
//! With room, both lifelines' TCBs stand side by side; at 80×24 one block
//! shows the side `v` picks.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::event::{CaState, Phase, TimerKind};
use crate::i18n::Messages;
use crate::ui::model::Model;
use crate::ui::model::ladder::other;
use crate::ui::model::{Armed, Conn, HostView, KeepaliveVerdict, Slot};
use crate::ui::theme::Theme;
use crate::ui::units;
use crate::ui::view::{StatusLine, View};

use super::{block, fit, statebox};

/// The TCB's variables are gone with it: a closed side's are the last ones
/// its events gave, shown dimmed and marked as such, never as live ones.
fn at_close(s: &HostView) -> bool {
    s.is_closed()
}

/// An empty block saying that nothing is selected.
fn nothing(f: &mut Frame, area: Rect, title: &str, view: &View) {
    let t = view.theme;
    let b = block(
        Line::from(Span::styled(format!(" {title} "), t.title())),
        false,
        view,
    );
    let inner = b.inner(area);
    f.render_widget(b, area);
    f.render_widget(
        Paragraph::new(Span::styled(view.msg().select_a_conn, t.dim())),
        inner,
    );
}

/// The timers alone (the zoomed pane).
pub fn timers(f: &mut Frame, area: Rect, model: &Model, view: &View, clock: &StatusLine) {
    match view.selected_conn(model) {
        Some(c) => timers_block(f, area, c, view, clock, false),
        None => nothing(f, area, view.msg().timers_title, view),
    }
}

/// The keepalive countdown alone (the zoomed pane).
pub fn keepalive(f: &mut Frame, area: Rect, model: &Model, view: &View, clock: &StatusLine) {
    match view.selected_conn(model) {
        Some(c) => keepalive_block(f, area, c, view, clock),
        None => nothing(f, area, view.msg().keepalive_title, view),
    }
}

pub fn draw(f: &mut Frame, area: Rect, model: &Model, view: &View, clock: &StatusLine) {
    let Some(c) = view.selected_conn(model) else {
        return nothing(f, area, "TCB", view);
    };
    let inner_w = area.width.saturating_sub(2);
    if area.height < 20 || inner_w < 40 {
        return compact(f, area, c, view, clock);
    }
    let sides: Vec<Slot> = c.present().map(|(s, _)| s).collect();
    let timer_lines: u16 = c
        .present()
        .map(|(_, s)| s.armed().len() as u16)
        .sum::<u16>()
        .max(1);
    let ka_lines = sides.len().max(1) as u16;
    // Borders, the host names and twelve rows (state … cwnd, pipe, cc)
    // when the state diagram still fits below; else ten (the diagram
    // matters more in a lesson than pipe and the congestion state).
    let full = 15;
    let tcb_h = if area.height.saturating_sub(full) >= statebox::HEIGHT + 3 + 4 + timer_lines {
        full
    } else {
        13
    };
    let rest = area.height.saturating_sub(tcb_h);
    let diagram = inner_w >= statebox::WIDTH && rest >= statebox::HEIGHT + 3 + 4;
    let diag_h = if diagram { statebox::HEIGHT + 3 } else { 0 };
    let after = rest.saturating_sub(diag_h);
    // Separate timer and keepalive blocks when both fit, else one.
    let split = after >= timer_lines + ka_lines + 4;
    let [tcb_a, diag_a, timers_a] = Layout::vertical([
        Constraint::Length(tcb_h),
        Constraint::Length(diag_h),
        Constraint::Min(3),
    ])
    .areas(area);
    tcb_table(f, tcb_a, c, view);
    if diagram {
        state_block(f, diag_a, c, view);
    }
    if split {
        let [tm, ka] = Layout::vertical([Constraint::Min(3), Constraint::Length(ka_lines + 2)])
            .areas(timers_a);
        timers_block(f, tm, c, view, clock, false);
        keepalive_block(f, ka, c, view, clock);
    } else {
        timers_block(f, timers_a, c, view, clock, true);
    }
}

/// A side without a state event yet: just allocated (still CLOSED), or a
/// host that only answered (a RST from a port without a listener).
fn no_state(m: &Messages, s: &HostView) -> &'static str {
    if s.allocated.is_some() {
        m.closed_tcb_allocated
    } else {
        m.no_tcb
    }
}

/// Sequence numbers relative to the ISN of whoever chose them.
fn rel(c: &Conn, owner: Slot, v: u32, absolute: bool) -> String {
    match c.isn[owner] {
        Some(isn) if !absolute => v.wrapping_sub(isn).to_string(),
        _ => v.to_string(),
    }
}

fn yes(m: &Messages, b: bool) -> &'static str {
    if b { m.on } else { m.off }
}

/// The congestion state in words: while nothing is amiss the growth phase
/// says more than "open"; otherwise the congestion state does.
fn cc_state(m: &Messages, cc: CaState, phase: Phase) -> &'static str {
    match (cc, phase) {
        (CaState::Open, Phase::SlowStart) => m.cc_ss,
        (CaState::Open, Phase::CongestionAvoidance) => m.cc_ca,
        (CaState::Open, p) => m.phase(p),
        (other, _) => m.ca_state(other),
    }
}

/// The TCB rows for one side: (label, value).
fn tcb_rows(
    m: &Messages,
    c: &Conn,
    slot: Slot,
    s: &HostView,
    absolute: bool,
) -> Vec<(&'static str, String)> {
    let dash = || "—".to_string();
    let mut rows = Vec::new();
    rows.push((
        m.row_state,
        s.state
            .map(|x| match &s.last {
                Some(l) if l.inferred => m.inferred_state(x.name()),
                _ => x.name().to_string(),
            })
            .unwrap_or_else(|| no_state(m, s).into()),
    ));
    match &s.vars {
        Some(v) => {
            rows.push((
                "SND.UNA/NXT",
                format!(
                    "{} / {}",
                    rel(c, slot, v.snd_una, absolute),
                    rel(c, slot, v.snd_nxt, absolute)
                ),
            ));
            rows.push(("SND.WND", v.snd_wnd.to_string()));
            rows.push(("RCV.NXT", rel(c, other(slot), v.rcv_nxt, absolute)));
            rows.push(("RCV.WND", v.rcv_wnd.to_string()));
        }
        None => {
            rows.push(("SND.UNA/NXT", dash()));
            rows.push(("SND.WND", dash()));
            rows.push(("RCV.NXT", dash()));
            rows.push(("RCV.WND", dash()));
        }
    }
    match &s.negotiated {
        Some(n) => {
            let ws = match (n.ws_snd, n.ws_rcv) {
                (Some(a), Some(b)) => format!("{a}/{b}"),
                _ => m.off.into(),
            };
            rows.push(("MSS · WS", format!("{} · {ws}", n.mss)));
            rows.push((
                "TS · SACK",
                format!("{} · {}", yes(m, n.ts), yes(m, n.sack)),
            ));
        }
        None => {
            rows.push(("MSS · WS", dash()));
            rows.push(("TS · SACK", dash()));
        }
    }
    match &s.rtt {
        Some(r) => {
            rows.push((
                "SRTT ± VAR",
                format!(
                    "{} ± {}",
                    units::ms_in(m, r.srtt),
                    units::ms_in(m, r.rttvar)
                ),
            ));
            rows.push(("RTO", units::secs_in(m, r.rto)));
        }
        None => {
            rows.push(("SRTT ± VAR", dash()));
            rows.push(("RTO", dash()));
        }
    }
    match &s.vars {
        Some(v) => {
            let ss = if v.ssthresh >= u32::MAX / 2 {
                "∞".to_string()
            } else {
                v.ssthresh.to_string()
            };
            rows.push(("cwnd/ssthr", format!("{} / {ss}", v.cwnd)));
            // RFC 6675 pipe, and what the scoreboard holds.
            let mut pipe = v.pipe.to_string();
            if v.sacked > 0 || v.lost > 0 {
                pipe = m.pipe_detail(v.pipe, v.sacked, v.lost);
            }
            rows.push(("pipe", pipe));
            let state = cc_state(m, v.cc_state, v.phase);
            let mut cc = match v.cc {
                None => state.to_string(),
                Some(algo) => format!("{} · {state}", m.cc_algo(algo)),
            };
            if let Some(mult) = v.reo_wnd_mult {
                // RACK's reordering window, widened by D-SACKs.
                cc.push_str(&m.reo(mult));
            }
            rows.push((m.row_cc, cc));
        }
        None => {
            rows.push(("cwnd/ssthr", dash()));
            rows.push(("pipe", dash()));
            rows.push((m.row_cc, dash()));
        }
    }
    rows
}

fn tcb_table(f: &mut Frame, area: Rect, c: &Conn, view: &View) {
    let (t, m) = (view.theme, view.msg());
    let b = block(Line::from(Span::styled(" TCB ", t.title())), false, view);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let sides: Vec<(Slot, &HostView)> = c.present().collect();
    let label_w = 12u16;
    let col_w = (inner.width.saturating_sub(label_w)) / sides.len().max(1) as u16;
    let buf = f.buffer_mut();
    for (i, (slot, s)) in sides.iter().enumerate() {
        let x = inner.x + label_w + i as u16 * col_w;
        let closed = at_close(s);
        let name = fit(&m.host(&s.host), col_w as usize - 1);
        buf.set_stringn(x, inner.y, &name, col_w as usize, t.side_fg(*slot));
        if closed {
            let nw = super::width(&name) as u16;
            let room = (col_w - 1).saturating_sub(nw) as usize;
            buf.set_stringn(x + nw, inner.y, fit(m.at_close, room), room, t.dim());
        }
        let rows = tcb_rows(m, c, *slot, s, view.absolute);
        for (j, (label, value)) in rows.into_iter().enumerate() {
            let y = inner.y + 1 + j as u16;
            if y >= inner.bottom() {
                break;
            }
            if i == 0 {
                buf.set_stringn(inner.x, y, label, label_w as usize, t.header());
            }
            let style = if j == 0 {
                s.state.map(|st| t.state(st)).unwrap_or(t.dim())
            } else if closed {
                t.dim()
            } else {
                t.base()
            };
            buf.set_stringn(x, y, fit(&value, col_w as usize - 1), col_w as usize, style);
        }
    }
}

fn state_block(f: &mut Frame, area: Rect, c: &Conn, view: &View) {
    let t = view.theme;
    let b = block(
        Line::from(Span::styled(
            format!(" {} ", view.msg().state_title),
            t.title(),
        )),
        false,
        view,
    );
    let inner = b.inner(area);
    f.render_widget(b, area);
    statebox::draw(f.buffer_mut(), inner, c, &t);
    // The transition each side took last.
    let y = inner.y + statebox::HEIGHT;
    if y < inner.bottom() {
        let mut spans = Vec::new();
        for (slot, s) in c.present() {
            if let Some(l) = &s.last {
                spans.push(Span::styled(
                    format!(" {} ", view.msg().side_letter(&s.host, slot)),
                    t.side(slot),
                ));
                spans.push(Span::raw(format!(" {} → {}  ", short(l.from), short(l.to))));
            }
        }
        f.render_widget(
            Paragraph::new(Line::from(spans)),
            Rect::new(inner.x, y, inner.width, 1),
        );
    }
}

fn short(s: crate::tcp::State) -> &'static str {
    super::conns::short_state(s)
}

/// A countdown bar: full when just armed, empty at the deadline. Eighths of
/// a cell keep a short countdown moving smoothly; the empty part is a dim
/// track so the bar's length reads without brackets.
fn gauge(buf: &mut Buffer, x: u16, y: u16, w: u16, frac: f64, t: &Theme, urgent: bool) {
    if w == 0 {
        return;
    }
    let cells = w as usize;
    let eighths = (frac.clamp(0.0, 1.0) * (cells * 8) as f64).round() as usize;
    let full = eighths / 8;
    let part = eighths % 8;
    const PARTS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    let mut bar = "█".repeat(full);
    let mut used = full;
    if part > 0 && used < cells {
        bar.push_str(PARTS[part]);
        used += 1;
    }
    let style = if urgent {
        t.gauge_urgent()
    } else {
        t.gauge_fill()
    };
    buf.set_stringn(x, y, &bar, cells, style);
    let track = "░".repeat(cells - used);
    buf.set_stringn(x + used as u16, y, track, cells - used, t.dim());
}

/// One timer line: `C RTO ▕████   ▏ 0.62s ×1`.
#[allow(clippy::too_many_arguments)]
fn timer_line(
    buf: &mut Buffer,
    area: Rect,
    y: u16,
    letter: Option<(String, Slot)>,
    (k, a): (TimerKind, &Armed),
    now: f64,
    t: &Theme,
    m: &Messages,
) {
    let mut x = area.x;
    if let Some((l, slot)) = letter {
        let l = format!("{l} ");
        let lw = super::width(&l);
        buf.set_stringn(x, y, l, lw, t.side_fg(slot));
        x += lw as u16;
    }
    let name = m.timer_name(k);
    buf.set_stringn(x, y, name, 11, t.timer());
    x += 12;
    let left = a.left(now);
    let mut value = units::secs_in(m, left);
    if let Some(b) = a.backoff.filter(|b| *b > 0) {
        value.push_str(&format!(" ×{b}"));
    }
    let vw = super::width(&value) as u16 + 1;
    let gw = area.right().saturating_sub(x + vw);
    gauge(
        buf,
        x,
        y,
        gw,
        a.fraction_left(now),
        t,
        left < 1.0 && k != TimerKind::DelayedAck,
    );
    buf.set_stringn(x + gw + 1, y, &value, vw as usize, t.bold());
}

fn timers_block(
    f: &mut Frame,
    area: Rect,
    c: &Conn,
    view: &View,
    clock: &StatusLine,
    with_keepalive: bool,
) {
    let (t, m) = (view.theme, view.msg());
    let b = block(
        Line::from(Span::styled(format!(" {} ", m.timers_title), t.title())),
        false,
        view,
    );
    let inner = b.inner(area);
    f.render_widget(b, area);
    let two = c.present().count() > 1;
    let buf = f.buffer_mut();
    let mut y = inner.y;
    let mut any = false;
    for (slot, s) in c.present() {
        for (k, a) in s.armed() {
            if y >= inner.bottom() {
                break;
            }
            let letter = two.then(|| (m.side_letter(&s.host, slot), slot));
            timer_line(buf, inner, y, letter, (k, &a), clock.now, &t, m);
            y += 1;
            any = true;
        }
    }
    if !any && y < inner.bottom() {
        buf.set_stringn(inner.x, y, m.no_timer_armed, inner.width as usize, t.dim());
        y += 1;
    }
    if with_keepalive {
        for (slot, s) in c.present() {
            if y >= inner.bottom() {
                break;
            }
            let (text, style) = keepalive_text(m, s, clock.now, &t);
            let prefix = if two {
                format!("{} ", m.side_letter(&s.host, slot))
            } else {
                String::new()
            };
            let pw = super::width(&prefix) as u16;
            buf.set_stringn(inner.x, y, &prefix, pw as usize, t.side_fg(slot));
            let x = inner.x + pw;
            buf.set_stringn(
                x,
                y,
                fit(&m.keepalive_line(&text), (inner.right() - x) as usize),
                inner.width as usize,
                style,
            );
            y += 1;
        }
    }
}

/// Where keepalive stands, in words.
pub fn keepalive_text(m: &Messages, s: &HostView, now: f64, t: &Theme) -> (String, Style) {
    let ka = &s.keepalive;
    let armed = s.timer(TimerKind::Keepalive);
    match &ka.verdict {
        Some(KeepaliveVerdict::Dead { probes, .. }) => {
            return (m.ka_dead(*probes), t.error());
        }
        Some(KeepaliveVerdict::Reset { .. }) => {
            return (m.ka_reset.into(), t.error());
        }
        _ => {}
    }
    if s.is_closed() {
        return (m.ka_closed.into(), t.dim());
    }
    if !ka.on {
        return (m.ka_off.into(), t.dim());
    }
    let Some(a) = armed else {
        let when = match ka.idle {
            Some(i) => m.ka_after_idle(&units::secs_in(m, i)),
            None => String::new(),
        };
        return (m.ka_waiting(&when), t.dim());
    };
    let left = units::secs_in(m, a.left(now));
    if ka.probe == 0 {
        let answered = match &ka.verdict {
            Some(KeepaliveVerdict::Answered { probe, .. }) => m.ka_answered(*probe),
            _ => String::new(),
        };
        (m.ka_idle(&answered, &left), t.ok())
    } else if ka.probe < ka.of {
        (m.ka_probe_next(ka.probe, ka.of, &left), t.warn())
    } else {
        (m.ka_verdict(ka.probe, ka.of, &left), t.error())
    }
}

fn keepalive_block(f: &mut Frame, area: Rect, c: &Conn, view: &View, clock: &StatusLine) {
    let (t, m) = (view.theme, view.msg());
    let b = block(
        Line::from(Span::styled(format!(" {} ", m.keepalive_title), t.title())),
        false,
        view,
    );
    let inner = b.inner(area);
    f.render_widget(b, area);
    let two = c.present().count() > 1;
    let buf = f.buffer_mut();
    for (i, (slot, s)) in c.present().enumerate() {
        let y = inner.y + i as u16;
        if y >= inner.bottom() {
            break;
        }
        let mut x = inner.x;
        if two {
            let letter = format!("{} ", m.side_letter(&s.host, slot));
            let lw = super::width(&letter) as u16;
            buf.set_stringn(x, y, letter, lw as usize, t.side_fg(slot));
            x += lw;
        }
        let (text, style) = keepalive_text(m, s, clock.now, &t);
        buf.set_stringn(
            x,
            y,
            fit(&text, (inner.right() - x) as usize),
            inner.width as usize,
            style,
        );
    }
}

/// Everything for the side `v` picks, in one block (80×24).
fn compact(f: &mut Frame, area: Rect, c: &Conn, view: &View, clock: &StatusLine) {
    let (t, m) = (view.theme, view.msg());
    let slot = if c.side(view.acting).is_some() {
        view.acting
    } else {
        c.present().map(|(s, _)| s).next().unwrap_or(1)
    };
    let Some(s) = c.side(slot) else { return };
    let mut title = vec![
        Span::styled(" TCB ", t.title()),
        Span::styled(format!("{} ", m.host(&s.host)), t.side_fg(slot)),
    ];
    if let Some(o) = c.side(other(slot)) {
        title.push(Span::styled(format!("· v: {} ", m.host(&o.host)), t.dim()));
    }
    let b = block(Line::from(title), false, view);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let abs = view.absolute;
    let closed = at_close(s);
    // What the values are written in: dimmed once the TCB is gone.
    let vs = if closed { t.dim() } else { t.base() };
    let val = |text: String| Line::from(Span::styled(text, vs));
    let mut lines: Vec<Line> = Vec::new();
    let mut st = vec![];
    match s.state {
        Some(x) => {
            let inferred = s.last.as_ref().is_some_and(|l| l.inferred);
            let name = if inferred {
                m.inferred_state(x.name())
            } else {
                x.name().to_string()
            };
            st.push(Span::styled(name, t.state(x)))
        }
        None => st.push(Span::styled(no_state(m, s), t.dim())),
    }
    if let Some(l) = &s.last {
        st.push(Span::styled(format!(" ← {}", short(l.from)), t.dim()));
    }
    lines.push(Line::from(st));
    if closed {
        lines.push(Line::from(Span::styled(m.values_at_close, t.dim())));
    }
    if let Some(v) = &s.vars {
        lines.push(val(format!(
            "SND una {} nxt {} wnd {}",
            rel(c, slot, v.snd_una, abs),
            rel(c, slot, v.snd_nxt, abs),
            v.snd_wnd
        )));
        lines.push(val(format!(
            "RCV nxt {} wnd {}",
            rel(c, other(slot), v.rcv_nxt, abs),
            v.rcv_wnd
        )));
    } else {
        lines.push(Line::from(Span::styled("SND —  RCV —", t.dim())));
    }
    if let Some(n) = &s.negotiated {
        let ws = match (n.ws_snd, n.ws_rcv) {
            (Some(a), Some(b)) => format!("WS {a}/{b}"),
            _ => format!("WS {}", m.off),
        };
        lines.push(val(format!(
            "MSS {} {ws}{}{}",
            n.mss,
            if n.ts { " TS" } else { "" },
            if n.sack { " SACK" } else { "" }
        )));
    }
    if let Some(r) = &s.rtt {
        lines.push(val(format!(
            "SRTT {} ±{} RTO {}",
            units::ms_in(m, r.srtt),
            units::ms_in(m, r.rttvar),
            units::secs_in(m, r.rto)
        )));
    }
    if let Some(v) = &s.vars {
        let ss = if v.ssthresh >= u32::MAX / 2 {
            "∞".to_string()
        } else {
            v.ssthresh.to_string()
        };
        lines.push(val(format!("cwnd {} ssthresh {ss}", v.cwnd)));
    }
    let w = inner.width as usize;
    let lines: Vec<Line> = lines
        .into_iter()
        .map(|l| {
            let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
            if super::width(&text) > w {
                Line::from(Span::styled(
                    fit(&text, w),
                    l.spans.first().map(|s| s.style).unwrap_or_default(),
                ))
            } else {
                l
            }
        })
        .collect();
    let used = lines.len() as u16;
    f.render_widget(Paragraph::new(lines), inner);
    // Timers and keepalive below, as room allows.
    let buf = f.buffer_mut();
    let mut y = inner.y + used;
    let armed = s.armed();
    if y < inner.bottom() {
        buf.set_stringn(
            inner.x,
            y,
            "─".repeat(inner.width as usize),
            inner.width as usize,
            t.border(),
        );
        let rule = format!(" {} ", m.timers_rule);
        let rw = super::width(&rule);
        buf.set_stringn(inner.x + 1, y, rule, rw, t.header());
        y += 1;
    }
    let ka_line = inner.bottom().saturating_sub(1);
    for (k, a) in &armed {
        if y >= ka_line {
            break;
        }
        timer_line(buf, inner, y, None, (*k, a), clock.now, &t, m);
        y += 1;
    }
    if armed.is_empty() && y < ka_line {
        buf.set_stringn(inner.x, y, m.no_timer_armed, inner.width as usize, t.dim());
        y += 1;
    }
    if y <= ka_line {
        let (text, style) = keepalive_text(m, s, clock.now, &t);
        buf.set_stringn(inner.x, ka_line, fit(&m.keepalive_line(&text), w), w, style);
    }
}
