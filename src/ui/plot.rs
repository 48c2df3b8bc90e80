//! `tcpscope plot FILE -o OUT.svg`: the graph view (`w`) of one connection
//! of a recording, as an SVG for slides. The series are the UI model's
//! ([`crate::ui::model::graph`]): the recording's events go through
//! [`Model`] exactly as in a replay. Two plots share one time axis:
//! time–sequence (data, retransmissions by cause, drops, the cumulative ACK
//! and the receive-window edge) and windows (cwnd, ssthresh when finite,
//! pipe, the peer's window; recovery episodes shaded).

use std::path::Path;

use plotters::prelude::*;

use crate::i18n;
use crate::scenario::Lang;
use crate::ui::model::graph::{SegMark, SideSeries};
use crate::ui::model::{Conn, Model, Retention};

/// Runs of a step line, split where the value is undefined.
type Runs = Vec<Vec<(f64, f64)>>;

/// The SVG's size in pixels.
const SIZE: (u32, u32) = (1200, 900);

/// A connection's name as the events write it.
fn conn_name(c: &Conn) -> String {
    format!("{}<->{}", c.ends[0], c.ends[1])
}

/// A model that keeps every connection, closed or not.
fn plot_model(two_hosts: bool) -> Model {
    let limits = Retention {
        closed_linger: f64::INFINITY,
        closed_keep: usize::MAX,
        ..Retention::default()
    };
    Model::with_limits(two_hosts, limits)
}

/// The connection `--conn` names (either side's `IP:PORT<->IP:PORT`, or a
/// 1-based index into the connections), else the one that carried the most
/// data. A connection that carried none (a handshake, a close: only SYN
/// and FIN take sequence space) has nothing to plot (docs/captures.md,
/// Graphs for slides).
pub fn choose<'a>(model: &'a Model, name: &str, id: Option<&str>) -> Result<&'a Conn, String> {
    let conns: Vec<&Conn> = model.conns().filter(|c| !c.listener).collect();
    let has_data = |c: &Conn| c.bytes[0] + c.bytes[1] > 0;
    let Some(id) = id else {
        return conns
            .iter()
            .copied()
            .filter(|c| has_data(c))
            .max_by_key(|c| c.bytes[0] + c.bytes[1])
            .ok_or_else(|| format!("{name} has no connection that carried data: nothing to plot"));
    };
    let found = match id.trim().parse::<usize>() {
        Ok(i) if i >= 1 => conns.get(i - 1).copied(),
        Ok(_) => None,
        Err(_) => model.find(id.trim()).filter(|c| !c.listener),
    };
    if let Some(c) = found.filter(|c| !has_data(c)) {
        return Err(format!(
            "--conn {id} names {}, which carried no data: nothing to plot",
            conn_name(c)
        ));
    }
    found.ok_or_else(|| {
        let list: Vec<String> = conns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{} {}", i + 1, conn_name(c)))
            .collect();
        if list.is_empty() {
            format!("--conn {id} matches no connection: {name} has none")
        } else {
            format!(
                "--conn {id} matches no connection of {name}; it has: {}",
                list.join(", ")
            )
        }
    })
}

/// Read `file`, plot the chosen connection, write `out`.
pub fn plot_file(file: &Path, out: &Path, conn: Option<&str>, lang: Lang) -> Result<(), String> {
    use crate::driver::replay::{self, Kind};
    let name = file.display().to_string();
    let model = if let Kind::Capture(format) = replay::kind(file)? {
        // A capture's events go into the model as they are made, never all
        // held (docs/captures.md, Opening a capture: bounded memory).
        let mut m = plot_model(false);
        crate::capture::each_event(file, format, |e| m.ingest(e))?;
        m
    } else {
        // A recording's too; one cut short is plotted up to the cut.
        let (two_hosts, events, cut) = replay::recorded_events(file)?;
        let mut m = plot_model(two_hosts);
        for e in events {
            m.ingest(e?);
        }
        if let Some(cut) = cut {
            eprintln!("tcpscope: warning: {cut}");
        }
        m
    };
    let c = choose(&model, &name, conn)?;
    let svg = render(c, lang)?;
    std::fs::write(out, svg).map_err(|e| format!("cannot write {}: {e}", out.display()))
}

/// One of the two plots: its caption, its axes (time across, bytes up from
/// 0 to `ytop`) and their labels, the same style for both.
fn axes<'a, 'b>(
    area: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    title: &str,
    x: &str,
    y: &str,
    xs: std::ops::Range<f64>,
    ytop: f64,
) -> Result<
    ChartContext<
        'a,
        SVGBackend<'b>,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    String,
> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    // As many decimals as it takes to tell the ticks apart, however narrow
    // the range (a flat series).
    let xd = decimals(xs.clone(), 1, time_label);
    let yd = decimals(0.0..ytop, 0, units);
    let mut ch = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 22))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(xs, 0.0..ytop)
        .map_err(|e| err(&e))?;
    ch.configure_mesh()
        .x_labels(LABELS)
        .y_labels(LABELS)
        .x_desc(x)
        .y_desc(y)
        .axis_desc_style(("sans-serif", 18))
        .label_style(("sans-serif", 14))
        .x_label_formatter(&|x| time_label(*x, xd))
        .y_label_formatter(&|y| units(*y, yd))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(|e| err(&e))?;
    Ok(ch)
}

/// Labelled ticks per axis, at most.
const LABELS: usize = 11;

/// The tick values plotters labels on an axis over `range`.
fn ticks(range: std::ops::Range<f64>) -> Vec<f64> {
    plotters::coord::types::RangedCoordf64::from(range).key_points(LABELS)
}

/// Beyond this many decimals f64 ticks are noise.
const MAX_DECIMALS: usize = 12;

/// The fewest decimals, at least `min`, with which `fmt` writes every
/// tick of `range` differently.
fn decimals(range: std::ops::Range<f64>, min: usize, fmt: fn(f64, usize) -> String) -> usize {
    let ticks = ticks(range);
    (min..=MAX_DECIMALS)
        .find(|&d| {
            let labels: std::collections::HashSet<String> =
                ticks.iter().map(|&t| fmt(t, d)).collect();
            labels.len() == ticks.len()
        })
        .unwrap_or(MAX_DECIMALS)
}

/// Seconds for an axis label, with `d` decimals.
fn time_label(x: f64, d: usize) -> String {
    format!("{x:.d$}")
}

/// A byte count for an axis label: 0, 800, 12K, 1.5M. Kilobytes and bytes
/// take up to `d` decimals (trailing zeros dropped), megabytes `d` and at
/// least one.
fn units(y: f64, d: usize) -> String {
    let a = y.abs();
    if a >= 1e6 {
        let d = d.max(1);
        return format!("{:.d$}M", y / 1e6);
    }
    let (v, unit) = if a >= 1e3 { (y / 1e3, "K") } else { (y, "") };
    let mut s = format!("{v:.d$}");
    if s.contains('.') {
        let t = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(t);
    }
    s + unit
}

fn finite(x: u32) -> bool {
    x < u32::MAX / 2
}

/// The SVG of one connection's graph: a time–sequence chart over a
/// windows chart, on one time axis.
pub fn render(c: &Conn, lang: Lang) -> Result<String, String> {
    let m = i18n::messages(lang);
    let from = c.graph.sender(c.bytes);
    let s: &SideSeries = &c.graph.sides[from];
    let base = c.isn[from]
        .or(s.segs.front().map(|p| p.seq.wrapping_sub(1)))
        .unwrap_or(0);
    let (left, right) = time_bounds(c, s);
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let root = root
            .titled(
                &format!("{} → {}", c.ends[from], c.ends[1 - from]),
                ("sans-serif", 26),
            )
            .map_err(|e| err(&e))?;
        let (top, bottom) = root.split_vertically(SIZE.1 * 55 / 100);
        let chart = Chart {
            s,
            m,
            base,
            xs: left..right,
        };
        sequence_chart(&top, &chart)?;
        windows_chart(&bottom, &chart)?;
        root.present().map_err(|e| err(&e))?;
    }
    Ok(buf)
}

/// A drawing error as the plot's sentence.
fn err(e: &dyn std::fmt::Display) -> String {
    format!("cannot draw the plot: {e}")
}

/// One time axis for both charts: every point's time, padded by 2 %.
fn time_bounds(c: &Conn, s: &SideSeries) -> (f64, f64) {
    let ts = s
        .segs
        .iter()
        .map(|p| p.t)
        .chain(s.acks.iter().map(|a| a.t))
        .chain(s.vars.iter().map(|v| v.t));
    let (mut left, mut right) = (f64::MAX, f64::MIN);
    for t in ts {
        left = left.min(t);
        right = right.max(t);
    }
    if left > right {
        (left, right) = (c.first_t, c.last_t);
    }
    let pad = ((right - left) * 0.02).max(1e-3);
    (left - pad, right + pad)
}

/// What both charts of one connection share.
struct Chart<'a> {
    s: &'a SideSeries,
    m: &'a i18n::Messages,
    /// Sequence numbers are drawn relative to this.
    base: u32,
    xs: std::ops::Range<f64>,
}

type Area<'b> = DrawingArea<SVGBackend<'b>, plotters::coord::Shift>;

/// The time–sequence chart: the ACK line, the receive-window edge,
/// bursts, data, and each retransmission cause with its own shape.
fn sequence_chart(top: &Area<'_>, chart: &Chart) -> Result<(), String> {
    let (s, m) = (chart.s, chart.m);
    let (left, right) = (chart.xs.start, chart.xs.end);
    let rel = |x: u32| f64::from(x.wrapping_sub(chart.base));
    let mut ymax = 1.0f64;
    for p in &s.segs {
        ymax = ymax.max(rel(p.end));
    }
    for a in &s.acks {
        ymax = ymax.max(rel(a.ack));
    }
    let mut yedge = ymax;
    for a in &s.acks {
        yedge = yedge.max(rel(a.ack.wrapping_add(a.win)));
    }
    // The window edge shows, but the data stays the main thing.
    let ytop = yedge.min(ymax * 1.5) * 1.05;
    let mut ch = axes(
        top,
        m.plot_seq_title,
        m.plot_time,
        m.plot_seq,
        left..right,
        ytop,
    )
    .map_err(|e| err(&e))?;
    let ack_c = RGBColor(0, 150, 60);
    let data_c = RGBColor(30, 90, 200);
    if !s.acks.is_empty() {
        let mut line = Vec::new();
        let mut edge = Vec::new();
        for (i, a) in s.acks.iter().enumerate() {
            let next = s.acks.get(i + 1).map_or(right, |n| n.t);
            line.push((a.t, rel(a.ack)));
            line.push((next, rel(a.ack)));
            let e = rel(a.ack.wrapping_add(a.win)).min(ytop);
            edge.push((a.t, e));
            edge.push((next, e));
        }
        ch.draw_series(LineSeries::new(line, ack_c.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(m.plot_ack)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], ack_c));
        let grey = RGBColor(150, 150, 150);
        ch.draw_series(LineSeries::new(edge, grey))
            .map_err(|e| err(&e))?
            .label(m.plot_rwnd_edge)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], grey));
    }
    for b in &s.bursts {
        ch.draw_series(LineSeries::new(
            [(b.since, rel(b.seq_from)), (b.t, rel(b.seq_to))],
            data_c,
        ))
        .map_err(|e| err(&e))?;
    }
    let pts = |m: SegMark| -> Vec<(f64, f64)> {
        s.segs
            .iter()
            .filter(|p| p.mark == m)
            .map(|p| (p.t, rel(p.end)))
            .collect()
    };
    let data = pts(SegMark::Data);
    if !data.is_empty() {
        ch.draw_series(data.iter().map(|&p| Circle::new(p, 2, data_c.filled())))
            .map_err(|e| err(&e))?
            .label(m.legend_data)
            .legend(move |(x, y)| Circle::new((x + 8, y), 3, data_c.filled()));
    }
    // Each retransmission cause has its own shape as well as its colour.
    let rto_c = RGBColor(210, 30, 30);
    let rto = pts(SegMark::Rto);
    if !rto.is_empty() {
        ch.draw_series(
            rto.iter()
                .map(|&p| TriangleMarker::new(p, 6, rto_c.filled())),
        )
        .map_err(|e| err(&e))?
        .label(m.plot_rto)
        .legend(move |(x, y)| TriangleMarker::new((x + 8, y), 6, rto_c.filled()));
    }
    let fast_c = RGBColor(240, 140, 0);
    let fast = pts(SegMark::Fast);
    if !fast.is_empty() {
        ch.draw_series(
            fast.iter()
                .map(|&p| Cross::new(p, 5, fast_c.stroke_width(2))),
        )
        .map_err(|e| err(&e))?
        .label(m.plot_fast)
        .legend(move |(x, y)| Cross::new((x + 8, y), 5, fast_c.stroke_width(2)));
    }
    let probe_c = RGBColor(140, 40, 180);
    let probe = pts(SegMark::Probe);
    if !probe.is_empty() {
        ch.draw_series(
            probe
                .iter()
                .map(|&p| Circle::new(p, 5, probe_c.stroke_width(2))),
        )
        .map_err(|e| err(&e))?
        .label(m.legend_probe)
        .legend(move |(x, y)| Circle::new((x + 8, y), 5, probe_c.stroke_width(2)));
    }
    let drop_c = BLACK;
    let dropped = pts(SegMark::Dropped);
    if !dropped.is_empty() {
        ch.draw_series(
            dropped
                .iter()
                .map(|&p| Cross::new(p, 4, drop_c.stroke_width(2))),
        )
        .map_err(|e| err(&e))?
        .label(m.plot_dropped)
        .legend(move |(x, y)| Cross::new((x + 8, y), 4, drop_c.stroke_width(2)));
    }
    ch.configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .draw()
        .map_err(|e| err(&e))?;
    Ok(())
}

/// The windows chart: recovery episodes shaded, the peer's window,
/// ssthresh, pipe and cwnd as step lines.
fn windows_chart(bottom: &Area<'_>, chart: &Chart) -> Result<(), String> {
    let (s, m) = (chart.s, chart.m);
    let (left, right) = (chart.xs.start, chart.xs.end);
    let mut wmax = 1.0f64;
    let mut rmax = 0.0f64;
    for v in &s.vars {
        wmax = wmax.max(f64::from(v.cwnd)).max(f64::from(v.pipe));
        if finite(v.ssthresh) {
            wmax = wmax.max(f64::from(v.ssthresh));
        }
        rmax = rmax.max(f64::from(v.snd_wnd));
    }
    let wtop = wmax.max(rmax.min(wmax * 4.0)) * 1.1;
    let mut ch = axes(
        bottom,
        m.plot_win_title,
        m.plot_time,
        m.plot_bytes,
        left..right,
        wtop,
    )
    .map_err(|e| err(&e))?;
    let shade = RGBColor(255, 200, 120);
    if !s.recovery.is_empty() {
        ch.draw_series(s.recovery.iter().map(|&(a, b)| {
            Rectangle::new(
                [(a, 0.0), (b.unwrap_or(right), wtop)],
                shade.mix(0.4).filled(),
            )
        }))
        .map_err(|e| err(&e))?
        .label(m.legend_recovery)
        .legend(move |(x, y)| {
            Rectangle::new([(x, y - 5), (x + 16, y + 5)], shade.mix(0.4).filled())
        });
    }
    let step = |f: &dyn Fn(&crate::ui::model::graph::VarsPoint) -> Option<f64>| {
        // Runs of defined values as step lines.
        let mut runs: Runs = Vec::new();
        let mut cur: Vec<(f64, f64)> = Vec::new();
        for (i, v) in s.vars.iter().enumerate() {
            let next = s.vars.get(i + 1).map_or(right, |n| n.t);
            match f(v) {
                Some(y) => {
                    let y = y.min(wtop);
                    cur.push((v.t, y));
                    cur.push((next, y));
                }
                None if !cur.is_empty() => runs.push(std::mem::take(&mut cur)),
                None => {}
            }
        }
        if !cur.is_empty() {
            runs.push(cur);
        }
        runs
    };
    let lines: [(&str, RGBColor, u32, Runs); 4] = [
        (
            m.plot_peer_wnd,
            RGBColor(150, 150, 150),
            1,
            step(&|v| Some(f64::from(v.snd_wnd))),
        ),
        (
            "ssthresh",
            RGBColor(210, 30, 30),
            1,
            step(&|v| finite(v.ssthresh).then(|| f64::from(v.ssthresh))),
        ),
        (
            "pipe",
            RGBColor(240, 140, 0),
            1,
            step(&|v| Some(f64::from(v.pipe))),
        ),
        (
            "cwnd",
            RGBColor(30, 90, 200),
            2,
            step(&|v| Some(f64::from(v.cwnd))),
        ),
    ];
    for (label, colour, width, runs) in lines {
        let mut first = true;
        for run in runs {
            let a = ch
                .draw_series(LineSeries::new(run, colour.stroke_width(width)))
                .map_err(|e| err(&e))?;
            if std::mem::take(&mut first) {
                a.label(label).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(width))
                });
            }
        }
    }
    ch.configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .draw()
        .map_err(|e| err(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An axis's labels as `axes` writes them.
    fn labels(
        range: std::ops::Range<f64>,
        fmt: fn(f64, usize) -> String,
        min: usize,
    ) -> Vec<String> {
        let d = decimals(range.clone(), min, fmt);
        ticks(range).into_iter().map(|t| fmt(t, d)).collect()
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn time_ticks_of_a_flat_series_are_told_apart() {
        // Every point at 0.5 s: the axis is 0.5 s ± 1 ms.
        assert_eq!(
            labels(0.499..0.501, time_label, 1),
            strs(&[
                "0.4990", "0.4992", "0.4994", "0.4996", "0.4998", "0.5000", "0.5002", "0.5004",
                "0.5006", "0.5008", "0.5010"
            ])
        );
        // An ordinary range keeps one decimal.
        assert_eq!(
            labels(-0.14..7.14, time_label, 1),
            strs(&["0.0", "1.0", "2.0", "3.0", "4.0", "5.0", "6.0", "7.0"])
        );
    }

    #[test]
    fn byte_ticks_never_repeat() {
        // A flat sequence axis one byte high (a lone SYN): was 0 0 0 1 1 …
        assert_eq!(
            labels(0.0..1.575, units, 0),
            strs(&["0", "0.2", "0.4", "0.6", "0.8", "1", "1.2", "1.4"])
        );
        // 500-byte steps above 1K: 1.5K and 2.5K no longer round to 2K.
        assert_eq!(
            labels(0.0..2600.0, units, 0),
            strs(&["0", "500", "1K", "1.5K", "2K", "2.5K"])
        );
        // What needs no decimals keeps none; megabytes keep one.
        assert_eq!(
            labels(0.0..1_300_000.0, units, 0),
            strs(&["0", "200K", "400K", "600K", "800K", "1.0M", "1.2M"])
        );
    }
}
