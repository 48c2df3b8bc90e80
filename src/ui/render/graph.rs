//! The graph view (`w`) of the selected connection: a time–sequence plot
//! (tcptrace style) of the data its sender sent, over a plot of the
//! sender's windows, both on one time axis that follows the newest event.
//! `+`/`-` zoom the time axis, `←`/`→` pan, `n` switches relative and
//! absolute sequence numbers.
//!
//! Every kind of mark has its own symbol as well as its own colour, so the
//! plot still reads under the mono theme: `·` data (braille), `R` sent again
//! by the RTO, `r` by duplicate ACKs / SACK / RACK, `P` a probe, `✗` dropped
//! by the injector; the ACK line is braille, the receive-window edge `˙`.
//! Windows: cwnd braille, `s` ssthresh, `p` pipe, `^` the peer's window;
//! `━` on the time axis marks recovery episodes.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::widgets::canvas::{Canvas, Context, Line as CLine, Points};

use crate::ui::model::graph::{SegMark, SideSeries};
use crate::ui::model::{Conn, Model};
use crate::ui::units;
use crate::ui::view::{Focus, View};

use super::{block, focused, width};

/// Columns for the y axis labels.
const YLAB: u16 = 6;

fn fg(s: Style) -> Color {
    s.fg.unwrap_or(Color::Reset)
}

/// The time window shown: `[left, right]`.
pub fn window(c: &Conn, s: &SideSeries, zoom: u32, pan: u32) -> (f64, f64) {
    let first = s
        .segs
        .front()
        .map(|p| p.t)
        .into_iter()
        .chain(s.vars.front().map(|v| v.t))
        .fold(c.first_t, f64::min);
    let end = c.last_t.max(first + 1e-3);
    let full = end - first;
    let span = full / f64::from(1u32 << zoom.min(20));
    let right = (end - f64::from(pan) * span / 4.0).max(first + span);
    (right - span, right)
}

pub fn draw(f: &mut Frame, area: Rect, model: &Model, view: &mut View) {
    let t = view.theme;
    let m = view.msg();
    let conn = view.selected.and_then(|id| model.conn(id));
    let Some(c) = conn else {
        let b = block(
            Line::from(format!(" {} ", m.graph)),
            focused(view, Focus::Ladder),
            view,
        );
        f.render_widget(Paragraph::new(m.no_conn_selected).block(b), area);
        return;
    };
    let from = c.graph.sender(c.bytes);
    let s = &c.graph.sides[from];
    let (left, right) = window(c, s, view.graph_zoom, view.graph_pan);
    let base = if view.absolute {
        0
    } else {
        c.isn[from]
            .or(s.segs.front().map(|p| p.seq.wrapping_sub(1)))
            .unwrap_or(0)
    };
    let title = Line::from(vec![
        Span::styled(format!(" {} ", m.graph), t.title()),
        Span::raw(format!(
            "{} → {} · {} ",
            c.ends[from],
            c.ends[1 - from],
            if view.absolute {
                m.graph_abs_seq
            } else {
                m.graph_rel_seq
            }
        )),
    ]);
    let b = block(title, focused(view, Focus::Ladder), view);
    let inner = b.inner(area);
    f.render_widget(b, area);
    if inner.height < 8 || inner.width < 20 {
        return;
    }
    let legend_h = if inner.width >= 120 { 1 } else { 2 };
    let plots = inner.height.saturating_sub(2 + legend_h);
    let seq_h = (plots * 3).div_ceil(5);
    let [seq_a, win_a, axis_a, legend_a] = Layout::vertical([
        Constraint::Length(seq_h),
        Constraint::Length(plots - seq_h),
        Constraint::Length(2),
        Constraint::Length(legend_h),
    ])
    .areas(inner);
    let p = Plot {
        s,
        from,
        left,
        right,
        base,
        cols: f64::from(inner.width.saturating_sub(YLAB).max(1)),
    };
    sequence_plot(f, seq_a, &p, view);
    let rwnd_above = windows_plot(f, win_a, &p, view);
    time_axis(f, axis_a, &p, c.last_t, view);
    legend(f, legend_a, from, rwnd_above, view);
}

/// What the two plots of one connection share: its sender's series, the
/// time window, the sequence base, the plot's width in columns.
struct Plot<'a> {
    s: &'a SideSeries,
    from: usize,
    left: f64,
    right: f64,
    base: u32,
    cols: f64,
}

impl Plot<'_> {
    fn in_t(&self, x: f64) -> bool {
        x >= self.left && x <= self.right
    }
    /// The terminal column of time `x`.
    fn col(&self, x: f64) -> i64 {
        ((x - self.left) / (self.right - self.left) * self.cols) as i64
    }
    /// A sequence number relative to the base.
    fn rel(&self, x: u32) -> f64 {
        f64::from(x.wrapping_sub(self.base))
    }
}

/// The time–sequence plot (tcptrace style): data sent, its marks, the
/// ACK line, the receive-window edge, coalesced bursts.
fn sequence_plot(f: &mut Frame, seq_a: Rect, p: &Plot, view: &View) {
    let t = view.theme;
    let (s, from, left, right) = (p.s, p.from, p.left, p.right);
    let in_t = |x: f64| p.in_t(x);
    let rel = |x: u32| p.rel(x);
    let col = |x: f64| p.col(x);
    let mut ymax = 1.0f64;
    let mut ymin = f64::MAX;
    for p in s.segs.iter().filter(|p| in_t(p.t)) {
        ymax = ymax.max(rel(p.end));
        ymin = ymin.min(rel(p.seq));
    }
    for a in s.acks.iter().filter(|a| in_t(a.t)) {
        ymax = ymax.max(rel(a.ack));
    }
    if ymin > ymax {
        ymin = 0.0;
    }
    // Room above for the window edge, but the data stays the main thing.
    let span_y = (ymax - ymin).max(1.0);
    let ytop = ymax + span_y * 0.25;
    let data: Vec<(f64, f64)> = s
        .segs
        .iter()
        .filter(|p| in_t(p.t) && p.mark == SegMark::Data)
        .map(|p| (p.t, rel(p.end)))
        .collect();
    let mut marks: Vec<(f64, f64, &str, Style)> = Vec::new();
    for p in s.segs.iter().filter(|p| in_t(p.t)) {
        let (sym, st) = match p.mark {
            SegMark::Data => continue,
            SegMark::Rto => ("R", t.error()),
            SegMark::Fast => ("r", t.retransmit()),
            SegMark::Probe => ("P", t.warn()),
            SegMark::Dropped => ("✗", t.dropped()),
        };
        marks.push((p.t, rel(p.end), sym, st));
    }
    let [ylab_s, plot_s] =
        Layout::horizontal([Constraint::Length(YLAB), Constraint::Min(1)]).areas(seq_a);
    let marks = dodge(marks, [left, right], [ymin, ytop], plot_s);
    let mut ack_line: Vec<(f64, f64, f64, f64)> = Vec::new();
    let mut wnd: Vec<(f64, f64)> = Vec::new();
    let mut last_col = i64::MIN;
    let acks: Vec<_> = s.acks.iter().collect();
    for (i, a) in acks.iter().enumerate() {
        let next_t = acks.get(i + 1).map_or(right, |n| n.t);
        if next_t < left || a.t > right {
            continue;
        }
        let y = rel(a.ack);
        ack_line.push((a.t.max(left), y, next_t.min(right), y));
        if let Some(n) = acks.get(i + 1) {
            ack_line.push((n.t, y, n.t, rel(n.ack)));
        }
        let we = rel(a.ack.wrapping_add(a.win));
        let cl = col(a.t.max(left));
        if cl != last_col && we <= ytop {
            wnd.push((a.t.max(left), we));
            last_col = cl;
        }
    }
    let bursts: Vec<(f64, f64, f64, f64)> = s
        .bursts
        .iter()
        .filter(|b| b.t >= left && b.since <= right)
        .map(|b| (b.since, rel(b.seq_from), b.t, rel(b.seq_to)))
        .collect();
    y_labels(f, ylab_s, ymin, ytop, view);
    let (cd, ca, cb) = (fg(t.arrow(from)), fg(t.ok()), fg(t.arrow(1 - from)));
    let dim = t.dim();
    let canvas = Canvas::default()
        .marker(Marker::Braille)
        .x_bounds([left, right])
        .y_bounds([ymin, ytop])
        .paint(|ctx: &mut Context| {
            for (x1, y1, x2, y2) in &ack_line {
                ctx.draw(&CLine::new(*x1, *y1, *x2, *y2, ca));
            }
            for (x1, y1, x2, y2) in &bursts {
                ctx.draw(&CLine::new(*x1, *y1, *x2, *y2, cb));
            }
            ctx.draw(&Points {
                coords: &data,
                color: cd,
            });
            for (x, y) in &wnd {
                ctx.print(*x, *y, Span::styled("˙", dim));
            }
            for (x, y, sym, st) in &marks {
                ctx.print(*x, *y, Span::styled(*sym, *st));
            }
        });
    f.render_widget(canvas, plot_s);
}

/// The windows plot: cwnd, ssthresh, pipe and the peer's window; `true`
/// when the peer's window lies far above the others (its marks then sit on
/// the top line).
fn windows_plot(f: &mut Frame, win_a: Rect, p: &Plot, view: &View) -> bool {
    let t = view.theme;
    let (s, from, left, right) = (p.s, p.from, p.left, p.right);
    let in_t = |x: f64| p.in_t(x);
    let col = |x: f64| p.col(x);
    let cd = fg(t.arrow(from));
    let vars: Vec<_> = s.vars.iter().collect();
    let mut wmax = 1.0f64;
    let mut rmax = 0.0f64;
    for v in vars.iter().filter(|v| in_t(v.t)) {
        wmax = wmax.max(f64::from(v.cwnd)).max(f64::from(v.pipe));
        if v.ssthresh < u32::MAX / 2 {
            wmax = wmax.max(f64::from(v.ssthresh));
        }
        rmax = rmax.max(f64::from(v.snd_wnd));
    }
    // The peer's window scales the plot only when it is near the others;
    // far above, its marks sit on the top line.
    let rwnd_above = rmax > wmax * 4.0;
    if !rwnd_above {
        wmax = wmax.max(rmax);
    }
    let wtop = wmax * 1.1;
    let mut cwnd: Vec<(f64, f64, f64, f64)> = Vec::new();
    let mut others: Vec<(f64, f64, &str, Style)> = Vec::new();
    let mut last_col = i64::MIN;
    for (i, v) in vars.iter().enumerate() {
        let next_t = vars.get(i + 1).map_or(right, |n| n.t);
        if next_t < left || v.t > right {
            continue;
        }
        let y = f64::from(v.cwnd);
        cwnd.push((v.t.max(left), y, next_t.min(right), y));
        if let Some(n) = vars.get(i + 1) {
            cwnd.push((n.t, y, n.t, f64::from(n.cwnd)));
        }
        let cl = col(v.t.max(left));
        if cl != last_col {
            last_col = cl;
            let x = v.t.max(left);
            others.push((x, f64::from(v.pipe), "p", t.retransmit()));
            if !rwnd_above {
                others.push((x, f64::from(v.snd_wnd), "^", t.arrow(1 - from)));
            }
            if v.ssthresh < u32::MAX / 2 {
                others.push((x, f64::from(v.ssthresh), "s", t.warn()));
            }
        }
    }
    let [ylab_w, plot_w] =
        Layout::horizontal([Constraint::Length(YLAB), Constraint::Min(1)]).areas(win_a);
    y_labels(f, ylab_w, 0.0, wtop, view);
    let canvas = Canvas::default()
        .marker(Marker::Braille)
        .x_bounds([left, right])
        .y_bounds([0.0, wtop])
        .paint(|ctx: &mut Context| {
            for (x1, y1, x2, y2) in &cwnd {
                ctx.draw(&CLine::new(*x1, *y1, *x2, *y2, cd));
            }
            for (x, y, sym, st) in &others {
                ctx.print(*x, *y, Span::styled(*sym, *st));
            }
        });
    f.render_widget(canvas, plot_w);
    rwnd_above
}

/// The time axis under the plots, recovery episodes drawn on it, and its
/// labels: the window's two ends and its span.
fn time_axis(f: &mut Frame, axis_a: Rect, p: &Plot, last_t: f64, view: &View) {
    let (t, m) = (view.theme, view.msg());
    let (s, left, right) = (p.s, p.left, p.right);
    let dim = t.dim();
    let w = axis_a.width.saturating_sub(YLAB) as usize;
    let mut axis = String::with_capacity(w * 3);
    for i in 0..w {
        let tx = left + (right - left) * (i as f64 + 0.5) / w.max(1) as f64;
        let rec = s
            .recovery
            .iter()
            .any(|(a, b)| tx >= *a && tx <= b.unwrap_or(last_t));
        axis.push(if rec { '━' } else { '─' });
    }
    let t0 = format!("{left:.3}{}", m.unit_s);
    let t1 = format!("{right:.3}{}", m.unit_s);
    let live = if view.graph_pan == 0 {
        format!("  {}", m.live)
    } else {
        String::new()
    };
    let span_txt = format!("← {} →{live}", units::secs_in(m, right - left));
    let gap = w.saturating_sub(width(&t0) + width(&t1) + width(&span_txt));
    let labels = format!(
        "{t0}{}{span_txt}{}{t1}",
        " ".repeat(gap / 2),
        " ".repeat(gap - gap / 2)
    );
    let pad = " ".repeat(YLAB as usize);
    f.render_widget(
        Paragraph::new(vec![
            Line::from(vec![Span::raw(pad.clone()), Span::styled(axis, t.warn())]),
            Line::from(vec![Span::raw(pad), Span::styled(labels, dim)]),
        ]),
        axis_a,
    );
}

/// The legend: every mark's symbol and meaning, on one line when wide
/// enough, else one line per plot.
fn legend(f: &mut Frame, legend_a: Rect, from: usize, rwnd_above: bool, view: &View) {
    let (t, m) = (view.theme, view.msg());
    let dim = t.dim();
    let k = |s: &'static str, st: Style| Span::styled(s, st);
    let word = |w: &str| Span::raw(format!(" {w} "));
    let seq_legend = vec![
        k("⠂", t.arrow(from)),
        word(m.legend_data),
        k("R", t.error()),
        word(m.legend_rto),
        k("r", t.retransmit()),
        word(m.legend_fast),
        k("P", t.warn()),
        word(m.legend_probe),
        k("✗", t.dropped()),
        word(m.legend_drop),
        k("⠤", t.ok()),
        word(m.legend_ack),
        k("˙", dim),
        word("rwnd"),
        k("⠔", t.arrow(1 - from)),
        Span::raw(format!(" {}", m.legend_burst)),
    ];
    let win_legend = vec![
        k("⠤", t.arrow(from)),
        word("cwnd"),
        k("s", t.warn()),
        word("ssthresh"),
        k("p", t.retransmit()),
        word("pipe"),
        k("^", t.arrow(1 - from)),
        Span::raw(if rwnd_above {
            format!(" {} ↑ ", m.legend_peer_wnd)
        } else {
            format!(" {} ", m.legend_peer_wnd)
        }),
        k("━", t.warn()),
        Span::raw(format!(" {}", m.legend_recovery)),
    ];
    let lines = if legend_a.height >= 2 {
        vec![Line::from(seq_legend), Line::from(win_legend)]
    } else {
        let mut all = seq_legend;
        all.push(Span::raw("  "));
        all.extend(win_legend);
        vec![Line::from(all)]
    };
    f.render_widget(Paragraph::new(lines), legend_a);
}

/// The top and bottom values of a plot, in bytes, at its left.
/// Marks that would land in one terminal cell: the same mark is drawn once,
/// a different one moves to the next free cell to the right (left at the
/// edge), so a drop and the retransmission that repaired it, a millisecond
/// apart on a seconds-wide axis, read as `✗r` instead of the later hiding
/// the earlier. The cell arithmetic is the canvas's own for text labels.
fn dodge(
    marks: Vec<(f64, f64, &str, Style)>,
    [left, right]: [f64; 2],
    [bottom, top]: [f64; 2],
    area: Rect,
) -> Vec<(f64, f64, &str, Style)> {
    let (w, h) = (right - left, top - bottom);
    if area.width < 2 || area.height < 2 || w <= 0.0 || h <= 0.0 {
        return marks;
    }
    let res_x = f64::from(area.width - 1);
    let res_y = f64::from(area.height - 1);
    let last = i64::from(area.width - 1);
    let mut taken: std::collections::HashMap<(i64, i64), &str> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(marks.len());
    for (x, y, sym, st) in marks {
        if x < left || x > right || y < bottom || y > top {
            continue;
        }
        let cx = ((x - left) * res_x / w) as i64;
        let cy = ((top - y) * res_y / h) as i64;
        let free = [0, 1, 2, -1, -2]
            .into_iter()
            .map(|d| cx + d)
            .filter(|c| (0..=last).contains(c))
            .find(|c| taken.get(&(*c, cy)).is_none_or(|s| *s == sym));
        let Some(c) = free else { continue };
        if taken.insert((c, cy), sym).is_some() {
            continue; // the same mark is already there
        }
        // The middle of cell `c`, which the canvas maps back to `c`.
        let x = (left + (c as f64 + 0.5) * w / res_x).min(right);
        out.push((x, y, sym, st));
    }
    out
}

fn y_labels(f: &mut Frame, area: Rect, lo: f64, hi: f64, view: &View) {
    if area.height == 0 {
        return;
    }
    let dim = view.theme.dim();
    let mut lines = vec![Line::from(Span::styled(
        format!("{:>5}", units::bytes(hi.max(0.0) as u64)),
        dim,
    ))];
    for _ in 2..area.height {
        lines.push(Line::from(""));
    }
    if area.height >= 2 {
        lines.push(Line::from(Span::styled(
            format!("{:>5}", units::bytes(lo.max(0.0) as u64)),
            dim,
        )));
    }
    f.render_widget(Paragraph::new(lines), area);
}
