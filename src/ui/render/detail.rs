//! The detail pane of the selected ladder entry: a segment's decoded IPv4
//! or IPv6 and TCP headers (etherparse reads the `hdr` bytes) and a hex dump; for
//! a mark, what happened and why, with the RFC rule behind it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use etherparse::{IpNumber, Ipv4HeaderSlice, Ipv6HeaderSlice, TcpHeaderSlice, TcpOptionElement};

use crate::event::TimerKind;
use crate::i18n::Messages;
use crate::ui::model::ladder::{flag_words, other};
use crate::ui::model::{Arrow, Conn, Entry, EntryKind, Fate, Mark, Model};
use crate::ui::theme::Theme;
use crate::ui::units;
use crate::ui::view::View;

use super::{block, pad};

pub fn draw(f: &mut Frame, area: Rect, model: &Model, view: &View) {
    let t = view.theme;
    let m = view.msg();
    let entry = view
        .selected_conn(model)
        .and_then(|c| view.ladder_sel.and_then(|s| c.entry(s)).map(|e| (c, e)));
    let title = match entry.map(|(_, e)| &e.kind) {
        Some(EntryKind::Arrow(a)) => format!(" {} ", m.segment_title(a.seg.id)),
        _ => format!(" {} ", m.details),
    };
    let b = block(
        Line::from(vec![
            Span::styled(title, t.title()),
            Span::styled(format!("{} ", m.esc_closes), t.dim()),
        ]),
        true,
        view,
    );
    let inner = b.inner(area);
    f.render_widget(b, area);
    let lines = match entry {
        None => vec![Line::from(Span::styled(m.nothing_selected, t.dim()))],
        Some((c, e)) => match &e.kind {
            EntryKind::Arrow(a) => segment_lines(c, e, a, inner.width as usize, view),
            EntryKind::Burst(b) => vec![Line::from(m.burst(
                b.segments,
                b.bytes,
                b.seq_from,
                b.seq_to,
                b.ack_to,
                &units::t(b.since),
            ))],
            EntryKind::Mark { slot, mark } => mark_lines(c, e, *slot, mark, m, &t),
        },
    };
    let lines: Vec<Line> = lines.into_iter().map(super::breakable_line).collect();
    let text_area = super::wrap_area(inner, &lines);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), text_area);
}

/// A field's name in a column of 9, then its value.
fn kv<'a>(k: &str, v: String, t: &Theme) -> Line<'a> {
    Line::from(vec![Span::styled(pad(k, 9), t.header()), Span::raw(v)])
}

fn segment_lines<'a>(c: &Conn, e: &Entry, a: &Arrow, w: usize, view: &View) -> Vec<Line<'a>> {
    let t = view.theme;
    let m = view.msg();
    let s = &a.seg;
    let name = |slot: usize| {
        c.side(slot)
            .map(|x| m.host(&x.host).into_owned())
            .unwrap_or_else(|| m.host_peer.into())
    };
    let mut out = vec![Line::from(vec![
        Span::styled(
            format!("{} → {}  ", name(a.from), name(other(a.from))),
            t.arrow(a.from),
        ),
        Span::styled(flag_words(s.flags), t.bold()),
        Span::raw(if a.retransmit {
            format!("  ↻ {}", m.retransmission)
        } else {
            String::new()
        }),
    ])];
    let mut when = Vec::new();
    if let Some(x) = a.sent {
        when.push(m.sent(&units::t(x)));
    }
    if let Some(x) = a.arrived {
        when.push(m.arrived(&units::t(x)));
    }
    if when.is_empty() {
        when.push(m.seen(&units::t(e.t)));
    }
    out.push(kv(m.k_time, when.join(m.list_sep), &t));
    let fate = match &a.fate {
        Fate::Delivered => m.delivered.to_string(),
        Fate::InFlight => m.on_the_wire.to_string(),
        Fate::Held { at } => m.held_since(&units::t(*at)),
        Fate::Dropped { reason, rule, at } => {
            let (at, reason) = (units::t(*at), m.drop_reason(reason));
            match rule {
                Some(r) => m.dropped_by_rule(&at, reason, &crate::fault::Rule::text_in(m, r)),
                None => m.dropped(&at, reason),
            }
        }
    };
    let fate_style = match a.fate {
        Fate::Dropped { .. } => t.dropped(),
        Fate::Held { .. } => t.held(),
        _ => t.base(),
    };
    out.push(Line::from(vec![
        Span::styled(pad(m.k_fate, 9), t.header()),
        Span::styled(fate, fate_style),
    ]));
    if let Some(n) = a.dup_ack {
        out.push(kv(m.k_note, m.dup_ack_note(n), &t));
    }
    if !a.analysis.is_empty() {
        let names: Vec<&str> = a.analysis.iter().map(|x| m.analysis_name(x)).collect();
        out.push(kv(m.k_analysis, m.analysis(&names.join(m.list_sep)), &t));
    }
    if let Some(n) = a.segs {
        out.push(kv(m.k_note, m.offload_note(n), &t));
    }
    if let Some((p, n)) = a.probe {
        out.push(kv(m.k_note, m.keepalive_probe_note(p, n), &t));
    }
    if !a.faults.is_empty() {
        let f: Vec<&str> = a.faults.iter().map(|x| m.fault_action(*x)).collect();
        out.push(kv(m.k_injector, f.join(m.list_sep), &t));
    }
    let Some(hdr) = &s.hdr else {
        out.push(kv("seq", format!("{}", s.seq), &t));
        out.push(kv("ack", format!("{}", s.ack), &t));
        out.push(kv("win", format!("{}  len {}", s.win, s.len), &t));
        out.push(kv(m.k_options, s.opts.strings().join(" "), &t));
        out.push(Line::from(Span::styled(m.no_header_bytes, t.dim())));
        return out;
    };
    out.extend(decode(c, a, hdr, m, &t));
    out.push(Line::from(""));
    out.extend(hexdump(hdr, w, &t));
    out
}

/// The IPv4 header's lines; where the TCP header starts.
fn decode_ipv4(bytes: &[u8], m: &Messages, t: &Theme, out: &mut Vec<Line<'_>>) -> Option<usize> {
    let ip = match Ipv4HeaderSlice::from_slice(bytes) {
        Ok(ip) => ip,
        Err(e) => {
            out.push(Line::from(Span::styled(
                m.header_unreadable("IPv4", &e.to_string()),
                t.error(),
            )));
            return None;
        }
    };
    out.push(Line::from(Span::styled(
        format!("IPv4  {} → {}", ip.source_addr(), ip.destination_addr()),
        t.title(),
    )));
    out.push(Line::from(format!(
        " ihl {}  tos 0x{:02x}  len {}  id {}{}  ttl {}  proto {}  csum 0x{:04x}",
        u16::from(ip.ihl()) * 4,
        ip.slice()[1],
        ip.total_len(),
        ip.identification(),
        if ip.dont_fragment() { " DF" } else { "" },
        ip.ttl(),
        ip.protocol().0,
        ip.header_checksum()
    )));
    Some(usize::from(ip.ihl()) * 4)
}

/// The IPv6 header's lines; where the TCP header starts (right after the
/// fixed header: extension headers are named, not decoded).
fn decode_ipv6(bytes: &[u8], m: &Messages, t: &Theme, out: &mut Vec<Line<'_>>) -> Option<usize> {
    let ip = match Ipv6HeaderSlice::from_slice(bytes) {
        Ok(ip) => ip,
        Err(e) => {
            out.push(Line::from(Span::styled(
                m.header_unreadable("IPv6", &e.to_string()),
                t.error(),
            )));
            return None;
        }
    };
    out.push(Line::from(Span::styled(
        format!("IPv6  {} → {}", ip.source_addr(), ip.destination_addr()),
        t.title(),
    )));
    out.push(Line::from(m.ipv6_fields(
        ip.traffic_class(),
        ip.flow_label().value(),
        ip.payload_length(),
        ip.next_header().0,
        ip.hop_limit(),
    )));
    if ip.next_header() != IpNumber::TCP {
        out.push(Line::from(Span::styled(
            m.extension_header(ip.next_header().0),
            t.dim(),
        )));
        return None;
    }
    Some(ip.slice().len())
}

/// IPv4 or IPv6 and TCP headers, field by field.
fn decode<'a>(c: &Conn, a: &Arrow, bytes: &[u8], m: &Messages, t: &Theme) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    let ihl = if bytes.first().map(|b| b >> 4) == Some(6) {
        match decode_ipv6(bytes, m, t, &mut out) {
            Some(n) => n,
            None => return out,
        }
    } else {
        match decode_ipv4(bytes, m, t, &mut out) {
            Some(n) => n,
            None => return out,
        }
    };
    let tcp = match bytes.get(ihl..).map(TcpHeaderSlice::from_slice) {
        Some(Ok(tcp)) => tcp,
        Some(Err(e)) => {
            out.push(Line::from(Span::styled(
                m.header_unreadable("TCP", &e.to_string()),
                t.error(),
            )));
            return out;
        }
        None => return out,
    };
    out.push(Line::from(Span::styled(
        format!("TCP   {} → {}", tcp.source_port(), tcp.destination_port()),
        t.title(),
    )));
    let seq = tcp.sequence_number();
    let ack = tcp.acknowledgment_number();
    let rs = c
        .rel_seq(a.from, seq)
        .map(|r| m.relative(r))
        .unwrap_or_default();
    let ra = c
        .rel_ack(a.from, ack)
        .map(|r| m.relative(r))
        .unwrap_or_default();
    out.push(Line::from(format!(" seq {seq}{rs}")));
    out.push(Line::from(format!(
        " ack {ack}{}",
        if tcp.ack() {
            ra
        } else {
            m.ack_not_set.to_string()
        }
    )));
    let win = tcp.window_size();
    let scaled = match c.wscale[a.from] {
        Some(ws) if !tcp.syn() => format!(" (× 2^{ws} = {})", u64::from(win) << ws),
        _ if tcp.syn() => m.never_scaled.to_string(),
        _ => String::new(),
    };
    out.push(Line::from(format!(
        " off {}  {} {}  win {win}{scaled}",
        usize::from(tcp.data_offset()) * 4,
        m.flags,
        flag_words(a.seg.flags)
    )));
    out.push(Line::from(format!(
        " csum 0x{:04x}  urg {}",
        tcp.checksum(),
        tcp.urgent_pointer()
    )));
    let opts: Vec<String> = tcp
        .options_iterator()
        .map(|o| match o {
            Ok(TcpOptionElement::Noop) => "NOP".to_string(),
            Ok(TcpOptionElement::MaximumSegmentSize(m)) => format!("MSS {m}"),
            Ok(TcpOptionElement::WindowScale(s)) => format!("WS {s}"),
            Ok(TcpOptionElement::SelectiveAcknowledgementPermitted) => "SACK_PERM".to_string(),
            Ok(TcpOptionElement::SelectiveAcknowledgement(f, rest)) => {
                let mut v = vec![format!("{}-{}", f.0, f.1)];
                v.extend(rest.iter().flatten().map(|(a, b)| format!("{a}-{b}")));
                format!("SACK {}", v.join(","))
            }
            Ok(TcpOptionElement::Timestamp(v, e)) => format!("TS val {v} ecr {e}"),
            Err(e) => m.bad_option(&e.to_string()),
        })
        .collect();
    if !opts.is_empty() {
        out.push(Line::from(format!(
            " {} {}",
            m.k_options,
            opts.join(m.list_sep)
        )));
    }
    let payload_at = ihl + usize::from(tcp.data_offset()) * 4;
    if a.seg.len > 0 {
        let shown = bytes.get(payload_at..).unwrap_or(&[]);
        let text: String = shown
            .iter()
            .map(|b| {
                if b.is_ascii_graphic() || *b == b' ' {
                    *b as char
                } else {
                    '.'
                }
            })
            .collect();
        let more = if (shown.len() as u32) < a.seg.len {
            "…"
        } else {
            ""
        };
        out.push(Line::from(format!(
            " {}{more}",
            m.payload(a.seg.len, &text)
        )));
    }
    out
}

/// `0000  45 00 00 3c …  E..<` with as many bytes per line as fit.
fn hexdump<'a>(bytes: &[u8], w: usize, t: &Theme) -> Vec<Line<'a>> {
    // offset (5) + 3 per byte + space + 1 per byte
    let per = [16usize, 8, 4]
        .into_iter()
        .find(|n| 5 + n * 4 < w)
        .unwrap_or(4);
    bytes
        .chunks(per)
        .enumerate()
        .map(|(i, chunk)| {
            let hex: String = chunk.iter().map(|b| format!("{b:02x} ")).collect();
            let ascii: String = chunk
                .iter()
                .map(|b| {
                    if b.is_ascii_graphic() {
                        *b as char
                    } else {
                        '.'
                    }
                })
                .collect();
            Line::from(vec![
                Span::styled(format!("{:04x} ", i * per), t.dim()),
                Span::raw(format!("{hex:<width$}", width = per * 3)),
                Span::styled(format!(" {ascii}"), t.dim()),
            ])
        })
        .collect()
}

fn mark_lines<'a>(
    c: &Conn,
    e: &Entry,
    slot: Option<usize>,
    mark: &Mark,
    m: &Messages,
    t: &Theme,
) -> Vec<Line<'a>> {
    let who = slot
        .and_then(|s| c.side(s))
        .map(|s| m.host(&s.host).into_owned())
        .unwrap_or_else(|| "—".into());
    let mut out = vec![kv(m.k_host, who, t), kv(m.k_time, units::t(e.t), t)];
    let (what, why): (String, &str) = match mark {
        Mark::State {
            from,
            to,
            cause,
            inferred,
        } => (
            // The engine's (or the capture reader's) English, in the UI's
            // language where the catalogue knows it.
            m.state_change(from.name(), to.name(), *inferred, &m.phrase(cause)),
            m.why_state,
        ),
        Mark::TimerFired { timer } => {
            let (what, why) = match timer {
                TimerKind::Retransmit => (m.fired_rto, m.why_rto),
                TimerKind::DelayedAck => (m.fired_delack, m.why_delack),
                TimerKind::Persist => (m.fired_persist, m.why_persist),
                TimerKind::Keepalive => (m.fired_keepalive, m.why_keepalive),
                TimerKind::TimeWait => (m.fired_timewait, m.why_timewait),
                TimerKind::FinWait2 => (m.fired_fin2, m.why_fin2),
                TimerKind::Connect => (m.fired_connect, m.why_connect),
                TimerKind::Reorder => (m.fired_reorder, m.why_reorder),
                TimerKind::Tlp => (m.fired_tlp, m.why_tlp),
            };
            (what.to_string(), why)
        }
        Mark::Keepalive {
            alive: true,
            probe,
            of,
        } => (m.keepalive_answered(*probe, *of), m.why_keepalive_answered),
        Mark::Keepalive {
            alive: false,
            probe,
            of,
        } => (m.keepalive_dead(*probe, *of), m.why_keepalive_dead),
        Mark::Tcb { allocated, info } => (Mark::tcb_line(m, *allocated, info), m.why_tcb),
        Mark::Abort { reason } => (m.aborted(&m.abort_reason(reason)), m.why_abort),
        Mark::Note { note } => (note.text(m), ""),
    };
    out.push(Line::from(""));
    out.push(Line::from(what));
    if !why.is_empty() {
        out.push(Line::from(""));
        out.push(Line::from(Span::styled(why.to_string(), t.dim())));
    }
    out
}
