//! The ladder (sequence) diagram of the selected connection.
//!
//! Two lifelines, one arrow per segment with its time, flags, relative (or
//! absolute) seq/ack, length and window; options under SYNs; dropped
//! segments stop at ✗ with the reason, held ones wait at ‖, retransmissions
//! (↻) and duplicate ACKs are marked; state changes, timer fires and notes
//! sit on the lifeline where they happen. One line per entry (two for a SYN
//! with options), newest at the bottom; it follows the newest unless the
//! person scrolled away. The `?` popup's second page and docs/ui.md
//! (Reading the ladder) explain every token an arrow's label can hold.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Block;

use crate::event::{Opts, TimerKind};
use crate::i18n::Messages;
use crate::ui::model::{Arrow, Burst, Conn, Entry, EntryKind, Fate, Mark, Model, Slot};
use crate::ui::theme::Theme;
use crate::ui::units;
use crate::ui::view::{Focus, StatusLine, View};

use super::{block, fit, focused, width};

/// Columns of the diagram inside the block.
#[derive(Clone, Copy, Debug)]
pub struct Geometry {
    /// Left and right lifeline columns (relative to the inner area).
    pub ll: u16,
    pub rl: u16,
    /// Column of the arrival time, when shown.
    pub arrival: Option<u16>,
    /// Width of a time (the time column, and the arrival column after its
    /// ✗): as wide as the connection's latest time needs, at least 7.
    pub tw: u16,
}

impl Geometry {
    /// `latest`: the connection's latest time, which sets how wide its
    /// times are (`0.100` and `7340.510` alike keep milliseconds).
    pub fn new(w: u16, two_hosts: bool, latest: f64) -> Geometry {
        let tw = (width(&time(latest)) as u16).max(7);
        // 64 columns at the narrowest times, two more per extra digit.
        let show_arrival = two_hosts && w >= 50 + 2 * tw;
        let ra = if show_arrival { tw + 2 } else { 0 };
        let ll = tw + 2;
        let rl = w.saturating_sub(ra + 2).max(ll + 12);
        Geometry {
            ll,
            rl,
            arrival: show_arrival.then_some(rl + 2),
            tw,
        }
    }
    /// Cells strictly between the lifelines.
    pub fn span(&self) -> u16 {
        self.rl - self.ll - 1
    }
}

/// Lines an entry takes: a SYN with options gets a second line for them.
fn lines_of(e: &Entry) -> u16 {
    match &e.kind {
        EntryKind::Arrow(a) if a.seg.flags.syn() && !a.seg.opts.is_empty() => 2,
        _ => 1,
    }
}

pub fn draw(f: &mut Frame, area: Rect, model: &Model, view: &mut View, _clock: &StatusLine) {
    let t = view.theme;
    let m = view.msg();
    let conn = view.selected_conn(model);
    let inner = Block::bordered().inner(area);
    let body = Rect::new(
        inner.x,
        inner.y + 1,
        inner.width,
        inner.height.saturating_sub(1),
    );
    // Which entries are on screen.
    let start = conn.map(|c| window(c, view, body.height)).unwrap_or(0);

    let mut title = vec![Span::styled(format!(" {} ", m.ladder_title), t.title())];
    let mut right = Vec::new();
    if let Some(c) = conn {
        title.push(Span::styled(
            format!("{} ", super::conns::tuple_text_in(m, c, 60)),
            t.dim(),
        ));
        // Entries above the window: scrolled past, or evicted to stay
        // within the history bounds.
        let older = start as u64 + c.evicted;
        if older > 0 {
            right.push(Span::styled(format!(" {} ", m.older(older)), t.dim()));
        }
    }
    right.push(Span::styled(
        format!(
            " {} ",
            if view.absolute {
                m.ladder_abs_seq
            } else {
                m.ladder_rel_seq
            }
        ),
        t.dim(),
    ));
    if !view.ladder_follow {
        right.push(Span::styled(format!("{} ", m.to_newest), t.key()));
    }
    let blk = block(Line::from(title), focused(view, Focus::Ladder), view)
        .title(Line::from(right).alignment(Alignment::Right));
    f.render_widget(blk, area);
    view.hits.ladder = area;
    let Some(c) = conn else {
        put(f.buffer_mut(), inner, 2, 1, m.no_conn_selected, t.dim());
        return;
    };
    if inner.height < 3 || inner.width < 30 {
        return;
    }
    let g = Geometry::new(inner.width, model.two_hosts(), c.last_t);
    header(f.buffer_mut(), inner, &g, c, model.two_hosts(), view);
    if c.ladder.is_empty() {
        lifelines(f.buffer_mut(), body, &g, &t);
        put(
            f.buffer_mut(),
            body,
            g.ll + 2,
            0,
            m.waiting_first_segment,
            t.dim(),
        );
        return;
    }
    let explained = model
        .narration
        .as_ref()
        .and_then(|n| n.target)
        .filter(|(row, _)| *row == c.id)
        .map(|(_, seq)| seq);
    let buf = f.buffer_mut();
    lifelines(buf, body, &g, &t);
    let h = body.height;
    let mut y = 0u16;
    for e in c.ladder.iter().skip(start) {
        let n = lines_of(e);
        if y + n > h {
            break;
        }
        for k in 0..n {
            view.hits.ladder_rows.push((body.y + y + k, e.seq));
        }
        entry(buf, body, y, &g, c, e, view);
        let row = Rect::new(body.x, body.y + y, body.width, n);
        if Some(e.seq) == explained {
            buf.set_style(row, t.explained());
            put(buf, body, 0, y, "▶", t.key());
        }
        if view.ladder_sel == Some(e.seq) {
            buf.set_style(row, t.selected());
        }
        y += n;
    }
}

/// The index of the first entry on screen: the newest ones when following,
/// else a window that keeps the selection in view without jumping. Updates
/// `view.ladder_top` so the next frame starts from the same place.
fn window(c: &Conn, view: &mut View, h: u16) -> usize {
    let sel_idx = view.ladder_sel.and_then(|s| c.index_of(s));
    let follow = view.ladder_follow || sel_idx.is_none();
    if follow {
        view.ladder_top = None;
        let mut used = 0;
        let mut i = c.ladder.len();
        while i > 0 && used + lines_of(&c.ladder[i - 1]) <= h {
            used += lines_of(&c.ladder[i - 1]);
            i -= 1;
        }
        return i;
    }
    let sel = sel_idx.expect("not following means a selection");
    let mut top = view
        .ladder_top
        .and_then(|s| c.index_of(s))
        .unwrap_or(sel)
        .min(sel);
    while top < sel && (top..=sel).map(|i| lines_of(&c.ladder[i])).sum::<u16>() > h {
        top += 1;
    }
    view.ladder_top = c.ladder.get(top).map(|e| e.seq);
    top
}

/// Lifeline names over the diagram.
fn header(buf: &mut Buffer, inner: Rect, g: &Geometry, c: &Conn, two_hosts: bool, view: &View) {
    let (t, m) = (&view.theme, view.msg());
    // A lifeline without events yet: in a demo it is the other tcpscope
    // host; live it is the kernel's end, the peer.
    let absent = |slot: Slot| match (two_hosts, slot) {
        (true, 0) => m.host_client,
        (true, _) => m.host_server,
        _ => m.host_peer,
    };
    let name = |slot: Slot| -> String {
        c.side(slot)
            .map(|s| m.host(&s.host).into_owned())
            .unwrap_or_else(|| absent(slot).to_string())
    };
    let label = |slot: Slot| format!("{} {}", name(slot), c.ends[slot]);
    put(buf, inner, 1, 0, "t", t.header());
    let (mut l, mut r) = (label(0), label(1));
    // Left label from ll-1, right label up to rl+1, a space between.
    let room = (g.rl + 3 - g.ll) as usize;
    if width(&l) + width(&r) + 1 > room {
        l = name(0);
        r = name(1);
    }
    put(buf, inner, g.ll.saturating_sub(1), 0, &l, t.side_fg(0));
    let rx = (g.rl + 1).saturating_sub(width(&r) as u16);
    put(buf, inner, rx, 0, &r, t.side_fg(1));
    if let Some(ax) = g.arrival {
        put(buf, inner, ax, 0, m.col_arrives, t.header());
    }
}

fn lifelines(buf: &mut Buffer, body: Rect, g: &Geometry, t: &Theme) {
    for y in 0..body.height {
        put(buf, body, g.ll, y, "│", t.lifeline());
        put(buf, body, g.rl, y, "│", t.lifeline());
    }
}

/// Write `s` at (x, y) inside `area`, clipped to it.
fn put(buf: &mut Buffer, area: Rect, x: u16, y: u16, s: &str, style: Style) {
    if x >= area.width || y >= area.height {
        return;
    }
    let max = (area.width - x) as usize;
    buf.set_stringn(area.x + x, area.y + y, s, max, style);
}

/// A time on the ladder: seconds with milliseconds at any size, so that a
/// segment sent at 8000.120 and its arrival at 8000.130 never read alike
/// (the title bar and the panels round long times; the diagram must not).
fn time(s: f64) -> String {
    if s.is_finite() {
        format!("{s:.3}")
    } else {
        "?".into()
    }
}

fn entry(buf: &mut Buffer, body: Rect, y: u16, g: &Geometry, c: &Conn, e: &Entry, view: &View) {
    let t = view.theme;
    let tw = g.tw as usize;
    let when = format!("{:>tw$}", time(e.t));
    put(buf, body, 1, y, &when, t.dim());
    match &e.kind {
        EntryKind::Arrow(a) => arrow(buf, body, y, g, c, a, view),
        EntryKind::Burst(b) => burst(buf, body, y, g, b, view),
        EntryKind::Mark { slot, mark } => {
            let (glyph, text, style) = mark_text(view.msg(), mark, e, &t);
            match slot {
                Some(0) => {
                    put(buf, body, g.ll, y, glyph, style);
                    put(
                        buf,
                        body,
                        g.ll + 2,
                        y,
                        &fit(&text, g.span() as usize - 2),
                        style,
                    );
                }
                Some(_) => {
                    put(buf, body, g.rl, y, glyph, style);
                    let s = fit(&text, g.span() as usize - 2);
                    let x = g.rl.saturating_sub(1 + width(&s) as u16);
                    put(buf, body, x, y, &s, style);
                }
                None => {
                    let s = fit(&text, g.span() as usize - 2);
                    let x = g.ll + 1 + (g.span().saturating_sub(width(&s) as u16)) / 2;
                    put(buf, body, x, y, &s, style);
                }
            }
        }
    }
}

/// Glyph, text and style of a lifeline mark.
fn mark_text(m: &Messages, mark: &Mark, e: &Entry, t: &Theme) -> (&'static str, String, Style) {
    match mark {
        Mark::State { to, inferred, .. } => (
            "●",
            format!("{}{}", if *inferred { "~" } else { "" }, to.name()),
            t.state(*to),
        ),
        Mark::TimerFired { timer } => {
            let style = if *timer == TimerKind::DelayedAck {
                t.dim()
            } else {
                t.timer()
            };
            ("◷", m.timer_mark(*timer).to_string(), style)
        }
        Mark::Keepalive {
            alive: true, probe, ..
        } => ("✓", m.ka_answered_mark(*probe), t.ok()),
        Mark::Keepalive {
            alive: false,
            probe,
            ..
        } => ("✗", m.peer_dead_mark(*probe), t.error()),
        Mark::Tcb {
            allocated: true,
            info,
        } => ("▣", Mark::tcb_line(m, true, info), t.note()),
        Mark::Tcb {
            allocated: false,
            info,
        } => ("□", Mark::tcb_line(m, false, info), t.note()),
        Mark::Abort { reason } => ("✗", m.abort_mark(&m.abort_reason(reason)), t.error()),
        Mark::Note { note } => {
            // "client: send …" on the client's own lifeline needs no name.
            let text = note.text(m);
            let own = e.host.as_deref().map(|h| m.app_service(&m.host(h), ""));
            let text = match own.as_deref().and_then(|p| text.strip_prefix(p)) {
                Some(rest) => rest.to_string(),
                None => text,
            };
            ("·", text, t.note())
        }
    }
}

/// `MSS 1460 · SACK · TS · WS 3`.
pub fn options_text(m: &Messages, opts: &Opts) -> String {
    let o = &opts.0;
    let mut parts = Vec::new();
    if let Some(m) = o.mss {
        parts.push(format!("MSS {m}"));
    }
    if o.sack_perm {
        parts.push("SACK".to_string());
    }
    if o.timestamp.is_some() {
        parts.push("TS".to_string());
    }
    if let Some(w) = o.wscale {
        parts.push(format!("WS {w}"));
    }
    if !o.sack.is_empty() {
        parts.push(m.sack_blocks.to_string());
    }
    parts.join(" · ")
}

/// Analysis flags the label writes out: retransmissions (`↻`), duplicate
/// ACKs (`dup ACK #n`) and resets (the flags) already show.
fn shown_apart(x: &crate::event::Analysis) -> bool {
    use crate::event::Analysis as A;
    !matches!(x, A::Retransmission | A::DuplicateAck | A::Reset)
}

/// The text on an arrow: as much as fits in `room` cells.
pub fn arrow_label(m: &Messages, c: &Conn, a: &Arrow, absolute: bool, room: usize) -> String {
    let s = &a.seg;
    let seq = if absolute {
        s.seq
    } else {
        c.rel_seq(a.from, s.seq).unwrap_or(s.seq)
    };
    let ack = if absolute {
        s.ack
    } else {
        c.rel_ack(a.from, s.ack).unwrap_or(s.ack)
    };
    let win = match c.wscale[a.from] {
        Some(ws) if !s.flags.syn() => u64::from(s.win) << ws,
        _ => u64::from(s.win),
    };
    let mut pre = String::new();
    if a.tlp {
        // A tail loss probe, new data or not (RFC 8985 §7).
        pre.push_str("⚑ TLP ");
    } else if a.retransmit {
        use crate::event::RtxCause as C;
        // What sent it: the handshake's and the persist timer's repeats
        // say so themselves.
        match a.rtx {
            Some(c @ (C::Dupack | C::Rack | C::Rto | C::Rescue)) => {
                pre.push_str(&format!("↻ {} ", m.rtx_cause(c)));
            }
            _ => pre.push_str("↻ "),
        }
    }
    if let Some((p, n)) = a.probe {
        pre.push_str(&format!("{} ", m.probe_label(p, n)));
    }
    // RFC 2018 SACK blocks: ranges of the receiver's sequence space, so
    // relative to the same ISN as the ack.
    let sack = crate::transcript::sack_text(m.sack_word, &s.opts, |edge| {
        if absolute {
            edge
        } else {
            c.rel_ack(a.from, edge).unwrap_or(edge)
        }
    });
    let mut post = String::new();
    if let Some(n) = a.dup_ack {
        post.push_str(&format!(" {}", m.dup_ack_label(n)));
    }
    if let Some(b) = &sack {
        post.push_str(&format!(" {b}"));
    }
    for fx in &a.faults {
        post.push_str(&format!(" [{}]", m.fault_action(*fx)));
    }
    for x in a.analysis.iter().filter(|x| shown_apart(x)) {
        post.push_str(&format!(" [{}]", m.analysis_label(x)));
    }
    if let Some(n) = a.segs {
        // Not an error: the capturing host's offload (docs/captures.md,
        // Opening a capture).
        post.push_str(&format!(" {}", m.offload_label(n)));
    }
    if a.copies > 0 {
        post.push_str(&format!(" ×{}", a.copies + 1));
    }
    let range = if s.len > 0 {
        format!("{seq}:{}", seq.wrapping_add(s.len))
    } else {
        seq.to_string()
    };
    let mut full = format!("{pre}{} seq {range}", m.flag_words(s.flags));
    if s.flags.ack() {
        full.push_str(&format!(" ack {ack}"));
    }
    full.push_str(&format!(" win {win}"));
    if s.len > 0 {
        full.push_str(&format!(" len {}", s.len));
    }
    full.push_str(&post);
    if width(&full) <= room {
        return full;
    }
    let short = |with_win: bool| {
        let mut short = format!("{pre}{} {range}", s.flags.letters());
        if s.flags.ack() {
            short.push_str(&format!(" a{ack}"));
        }
        if with_win {
            let w = if win < 100_000 {
                win.to_string()
            } else {
                units::bytes(win)
            };
            short.push_str(&format!(" w{w}"));
        }
        if let Some(n) = a.dup_ack {
            short.push_str(&format!(" {}", m.dup_short(n)));
        }
        if let Some(b) = &sack {
            short.push_str(&format!(" {b}"));
        }
        if !a.faults.is_empty() {
            short.push_str(" [!]");
        }
        for x in a.analysis.iter().filter(|x| shown_apart(x)) {
            short.push_str(&format!(" [{}]", m.analysis_label(x)));
        }
        if let Some(n) = a.segs {
            short.push_str(&format!(" ×{n}"));
        }
        short
    };
    let with_win = short(true);
    // A duplicate ACK advertises the window of the ACK before it (RFC 5681
    // §2, and the engine's mark checks it): where room is short, its SACK
    // blocks are worth more than that window again.
    if width(&with_win) > room && a.dup_ack.is_some() && sack.is_some() {
        return fit(&short(false), room);
    }
    fit(&with_win, room)
}

fn arrow(buf: &mut Buffer, body: Rect, y: u16, g: &Geometry, c: &Conn, a: &Arrow, view: &View) {
    let (t, m) = (view.theme, view.msg());
    let style = if a.retransmit {
        t.retransmit()
    } else {
        t.arrow(a.from)
    };
    let span = g.span() as usize;
    let ltr = a.from == 0;
    // How far the arrow gets, and what ends it.
    let (reach, end_glyph, end_text, end_style) = match &a.fate {
        Fate::Delivered => (span, if ltr { "▶" } else { "◀" }, String::new(), style),
        Fate::InFlight => (span, if ltr { "▷" } else { "◁" }, String::new(), style),
        Fate::Dropped { reason, .. } => (
            span * 3 / 5,
            "✗",
            format!(" {}", m.drop_reason(reason)),
            t.dropped(),
        ),
        Fate::Held { .. } => (span * 3 / 5, "‖", format!(" {}", m.held_mark), t.held()),
    };
    let line_glyph = if a.fate == Fate::InFlight {
        "╌"
    } else {
        "─"
    };
    // A stopped arrow is as long as its full label needs, leaving room for
    // the reason after the ✗.
    let stopped = reach < span;
    let reach = if stopped {
        let full = width(&arrow_label(m, c, a, view.absolute, usize::MAX)) + 5;
        let reason_room = width(&end_text) + 1;
        reach
            .max(full)
            .min(span.saturating_sub(reason_room))
            .max(span / 3)
    } else {
        reach
    };
    let reach = reach.max(6).min(span);
    // The shaft: from the sender's lifeline towards the receiver.
    let shaft: String = line_glyph.repeat(reach.saturating_sub(1));
    let label_room = reach.saturating_sub(4);
    let label = arrow_label(m, c, a, view.absolute, label_room);
    let lw = width(&label) as u16;
    if ltr {
        put(buf, body, g.ll, y, "├", style);
        put(buf, body, g.ll + 1, y, &shaft, style);
        let head_x = g.ll + reach as u16;
        put(buf, body, head_x, y, end_glyph, end_style);
        put(buf, body, g.ll + 2, y, &format!(" {label} "), style);
        if !end_text.is_empty() {
            let room = (g.rl - head_x - 1) as usize;
            put(buf, body, head_x + 1, y, &fit(&end_text, room), end_style);
        }
    } else {
        put(buf, body, g.rl, y, "┤", style);
        let head_x = g.rl - reach as u16;
        put(buf, body, head_x + 1, y, &shaft, style);
        put(buf, body, head_x, y, end_glyph, end_style);
        let lx = g.rl.saturating_sub(lw + 3);
        put(buf, body, lx, y, &format!(" {label} "), style);
        if !end_text.is_empty() {
            let room = (head_x - g.ll - 1) as usize;
            let s = fit(end_text.trim_start(), room.saturating_sub(1));
            let x = head_x.saturating_sub(width(&s) as u16 + 1);
            put(buf, body, x, y, &s, end_style);
        }
    }
    if let Some(ax) = g.arrival {
        let tw = g.tw as usize;
        let text = match (&a.fate, a.arrived) {
            (Fate::Dropped { at, .. }, _) => format!("✗{:>tw$}", time(*at)),
            (Fate::Held { .. }, _) => format!("{:>tw$}", m.held_mark),
            (_, Some(at)) => format!("{:>tw$}", time(at)),
            (Fate::InFlight, None) => format!("{:>tw$}", "…"),
            _ => String::new(),
        };
        put(
            buf,
            body,
            ax,
            y,
            &text,
            if matches!(a.fate, Fate::Dropped { .. }) {
                t.dropped()
            } else {
                t.dim()
            },
        );
    }
    if a.seg.flags.syn() && !a.seg.opts.is_empty() && y + 1 < body.height {
        let o = fit(&options_text(m, &a.seg.opts), span.saturating_sub(3));
        if ltr {
            put(buf, body, g.ll + 3, y + 1, &o, t.dim());
        } else {
            let x = g.rl.saturating_sub(width(&o) as u16 + 2);
            put(buf, body, x, y + 1, &o, t.dim());
        }
    }
}

fn burst(buf: &mut Buffer, body: Rect, y: u16, g: &Geometry, b: &Burst, view: &View) {
    let t = view.theme;
    let style = t.arrow(b.from);
    let span = g.span() as usize;
    let shaft = "═".repeat(span.saturating_sub(1));
    let label = fit(
        &format!(
            " {} ",
            view.msg().burst_label(b.segments, &units::bytes(b.bytes))
        ),
        span.saturating_sub(4),
    );
    if b.from == 0 {
        put(buf, body, g.ll, y, "╞", style);
        put(buf, body, g.ll + 1, y, &shaft, style);
        put(buf, body, g.rl - 1, y, "▶", style);
        put(buf, body, g.ll + 2, y, &label, style);
    } else {
        put(buf, body, g.rl, y, "╡", style);
        put(buf, body, g.ll + 2, y, &shaft, style);
        put(buf, body, g.ll + 1, y, "◀", style);
        let x = g.rl.saturating_sub(width(&label) as u16 + 2);
        put(buf, body, x, y, &label, style);
    }
}
