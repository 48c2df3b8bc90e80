//! The detail pane of the selected ladder entry: a segment's decoded IPv4
//! or IPv6 and TCP headers (etherparse reads the `hdr` bytes) and a hex dump; for
//! a mark, what happened and why, with the RFC rule behind it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use etherparse::{IpNumber, Ipv4HeaderSlice, Ipv6HeaderSlice, TcpHeaderSlice, TcpOptionElement};

use crate::event::TimerKind;
use crate::ui::model::ladder::{flag_words, other};
use crate::ui::model::{Arrow, Conn, Entry, EntryKind, Fate, Mark, Model};
use crate::ui::theme::Theme;
use crate::ui::units;
use crate::ui::view::View;

use super::block;

pub fn draw(f: &mut Frame, area: Rect, model: &Model, view: &View) {
    let t = view.theme;
    let entry = view
        .selected_conn(model)
        .and_then(|c| view.ladder_sel.and_then(|s| c.entry(s)).map(|e| (c, e)));
    let title = match entry.map(|(_, e)| &e.kind) {
        Some(EntryKind::Arrow(a)) => format!(" Segment {} ", a.seg.id),
        _ => " Details ".into(),
    };
    let b = block(
        Line::from(vec![
            Span::styled(title, t.title()),
            Span::styled("Esc closes ", t.dim()),
        ]),
        true,
        view,
    );
    let inner = b.inner(area);
    f.render_widget(b, area);
    let lines = match entry {
        None => vec![Line::from(Span::styled("nothing selected", t.dim()))],
        Some((c, e)) => match &e.kind {
            EntryKind::Arrow(a) => segment_lines(c, e, a, inner.width as usize, view),
            EntryKind::Burst(b) => vec![Line::from(format!(
                "{} segment{}, {} bytes, seq {}..{}, ack up to {} (since {})",
                b.segments,
                if b.segments == 1 { "" } else { "s" },
                b.bytes,
                b.seq_from,
                b.seq_to,
                b.ack_to,
                units::t(b.since)
            ))],
            EntryKind::Mark { slot, mark } => mark_lines(c, e, *slot, mark, &t),
        },
    };
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn kv<'a>(k: &'a str, v: String, t: &Theme) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{k:<9}"), t.header()),
        Span::raw(v),
    ])
}

fn segment_lines<'a>(c: &Conn, e: &Entry, a: &Arrow, w: usize, view: &View) -> Vec<Line<'a>> {
    let t = view.theme;
    let s = &a.seg;
    let name = |slot: usize| {
        c.side(slot)
            .map(|x| x.host.to_string())
            .unwrap_or_else(|| "peer".into())
    };
    let mut out = vec![Line::from(vec![
        Span::styled(
            format!("{} → {}  ", name(a.from), name(other(a.from))),
            t.arrow(a.from),
        ),
        Span::styled(flag_words(s.flags), t.bold()),
        Span::raw(if a.retransmit {
            "  ↻ retransmission"
        } else {
            ""
        }),
    ])];
    let mut when = Vec::new();
    if let Some(x) = a.sent {
        when.push(format!("sent {}", units::t(x)));
    }
    if let Some(x) = a.arrived {
        when.push(format!("arrived {}", units::t(x)));
    }
    if when.is_empty() {
        when.push(format!("seen {}", units::t(e.t)));
    }
    out.push(kv("time", when.join(", "), &t));
    let fate = match &a.fate {
        Fate::Delivered => "delivered".to_string(),
        Fate::InFlight => "on the wire".to_string(),
        Fate::Held { at } => format!(
            "held by the injector since {} (space releases)",
            units::t(*at)
        ),
        Fate::Dropped { reason, rule, at } => match rule {
            Some(r) => format!(
                "dropped at {}: {} (rule \"{r}\")",
                units::t(*at),
                reason.name()
            ),
            None => format!("dropped at {}: {}", units::t(*at), reason.name()),
        },
    };
    let fate_style = match a.fate {
        Fate::Dropped { .. } => t.dropped(),
        Fate::Held { .. } => t.held(),
        _ => t.base(),
    };
    out.push(Line::from(vec![
        Span::styled("fate     ", t.header()),
        Span::styled(fate, fate_style),
    ]));
    if let Some(n) = a.dup_ack {
        out.push(kv(
            "note",
            format!("duplicate ACK #{n} (RFC 5681 §2): the receiver saw a gap"),
            &t,
        ));
    }
    if !a.analysis.is_empty() {
        let names: Vec<&str> = a.analysis.iter().map(|x| x.name()).collect();
        out.push(kv(
            "analysis",
            format!(
                "{} (as Wireshark's tcp.analysis names it)",
                names.join(", ")
            ),
            &t,
        ));
    }
    if let Some(n) = a.segs {
        out.push(kv(
            "note",
            format!(
                "more than the peer's MSS: an offload aggregate (TSO/GSO or GRO on the capturing host) of {n} wire segments, not an error"
            ),
            &t,
        ));
    }
    if let Some((p, n)) = a.probe {
        out.push(kv(
            "note",
            format!("keepalive probe {p} of {n}: seq = SND.NXT − 1 (RFC 1122 §4.2.3.6)"),
            &t,
        ));
    }
    if !a.faults.is_empty() {
        let f: Vec<&str> = a.faults.iter().map(|x| x.name()).collect();
        out.push(kv("injector", f.join(", "), &t));
    }
    let Some(hdr) = &s.hdr else {
        out.push(kv("seq", format!("{}", s.seq), &t));
        out.push(kv("ack", format!("{}", s.ack), &t));
        out.push(kv("win", format!("{}  len {}", s.win, s.len), &t));
        out.push(kv("options", s.opts.strings().join(" "), &t));
        out.push(Line::from(Span::styled(
            "(no header bytes in this event)",
            t.dim(),
        )));
        return out;
    };
    out.extend(decode(c, a, hdr, &t));
    out.push(Line::from(""));
    out.extend(hexdump(hdr, w, &t));
    out
}

/// The IPv4 header's lines; where the TCP header starts.
fn decode_ipv4(bytes: &[u8], t: &Theme, out: &mut Vec<Line<'_>>) -> Option<usize> {
    let ip = match Ipv4HeaderSlice::from_slice(bytes) {
        Ok(ip) => ip,
        Err(e) => {
            out.push(Line::from(Span::styled(
                format!("IPv4 header unreadable: {e}"),
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
fn decode_ipv6(bytes: &[u8], t: &Theme, out: &mut Vec<Line<'_>>) -> Option<usize> {
    let ip = match Ipv6HeaderSlice::from_slice(bytes) {
        Ok(ip) => ip,
        Err(e) => {
            out.push(Line::from(Span::styled(
                format!("IPv6 header unreadable: {e}"),
                t.error(),
            )));
            return None;
        }
    };
    out.push(Line::from(Span::styled(
        format!("IPv6  {} → {}", ip.source_addr(), ip.destination_addr()),
        t.title(),
    )));
    out.push(Line::from(format!(
        " tc 0x{:02x}  flow {}  payload len {}  next {}  hop limit {}",
        ip.traffic_class(),
        ip.flow_label().value(),
        ip.payload_length(),
        ip.next_header().0,
        ip.hop_limit()
    )));
    if ip.next_header() != IpNumber::TCP {
        out.push(Line::from(Span::styled(
            format!(
                "extension header {} before TCP: not decoded here",
                ip.next_header().0
            ),
            t.dim(),
        )));
        return None;
    }
    Some(ip.slice().len())
}

/// IPv4 or IPv6 and TCP headers, field by field.
fn decode<'a>(c: &Conn, a: &Arrow, bytes: &[u8], t: &Theme) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    let ihl = if bytes.first().map(|b| b >> 4) == Some(6) {
        match decode_ipv6(bytes, t, &mut out) {
            Some(n) => n,
            None => return out,
        }
    } else {
        match decode_ipv4(bytes, t, &mut out) {
            Some(n) => n,
            None => return out,
        }
    };
    let tcp = match bytes.get(ihl..).map(TcpHeaderSlice::from_slice) {
        Some(Ok(tcp)) => tcp,
        Some(Err(e)) => {
            out.push(Line::from(Span::styled(
                format!("TCP header unreadable: {e}"),
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
        .map(|r| format!("  (relative {r})"))
        .unwrap_or_default();
    let ra = c
        .rel_ack(a.from, ack)
        .map(|r| format!("  (relative {r})"))
        .unwrap_or_default();
    out.push(Line::from(format!(" seq {seq}{rs}")));
    out.push(Line::from(format!(
        " ack {ack}{}",
        if tcp.ack() {
            ra
        } else {
            "  (ACK not set)".into()
        }
    )));
    let win = tcp.window_size();
    let scaled = match c.wscale[a.from] {
        Some(ws) if !tcp.syn() => format!(" (× 2^{ws} = {})", u64::from(win) << ws),
        _ if tcp.syn() => " (never scaled on a SYN)".to_string(),
        _ => String::new(),
    };
    out.push(Line::from(format!(
        " off {}  flags {}  win {win}{scaled}",
        usize::from(tcp.data_offset()) * 4,
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
            Err(e) => format!("bad option: {e}"),
        })
        .collect();
    if !opts.is_empty() {
        out.push(Line::from(format!(" options {}", opts.join(", "))));
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
            " payload {} bytes: \"{text}\"{more}",
            a.seg.len
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

fn mark_lines<'a>(c: &Conn, e: &Entry, slot: Option<usize>, m: &Mark, t: &Theme) -> Vec<Line<'a>> {
    let who = slot
        .and_then(|s| c.side(s))
        .map(|s| s.host.to_string())
        .unwrap_or_else(|| "—".into());
    let mut out = vec![kv("host", who, t), kv("time", units::t(e.t), t)];
    let (what, why): (String, &str) = match m {
        Mark::State {
            from,
            to,
            cause,
            inferred,
        } => (
            format!(
                "{} → {}{}: {cause}",
                from.name(),
                to.name(),
                if *inferred {
                    " (inferred from the packets)"
                } else {
                    ""
                }
            ),
            "RFC 9293 §3.3.2 (Figure 5) and §3.10 (event processing).",
        ),
        Mark::TimerFired { timer } => match timer {
            TimerKind::Retransmit => (
                "The retransmission timer expired.".into(),
                "RFC 6298 §5.4–5.6: retransmit the earliest unacknowledged segment, double the RTO (back off), restart the timer.",
            ),
            TimerKind::DelayedAck => (
                "The delayed-ACK timer expired: an ACK goes out now.".into(),
                "RFC 9293 §3.8.6.3 / RFC 1122 §4.2.3.2: an ACK may wait up to 500 ms (here less) for data to ride on.",
            ),
            TimerKind::Persist => (
                "The persist timer expired: probe the peer's zero window.".into(),
                "RFC 9293 §3.8.6.1: a sender facing a zero window must probe it periodically.",
            ),
            TimerKind::Keepalive => (
                "The keepalive timer expired.".into(),
                "RFC 1122 §4.2.3.6: after an idle interval send a probe (seq = SND.NXT − 1); after enough unanswered probes, give up.",
            ),
            TimerKind::TimeWait => (
                "2 MSL have passed: TIME-WAIT is over and the TCB is deleted.".into(),
                "RFC 9293 §3.6.1: wait 2 MSL so that a lost final ACK can be sent again and old duplicates die out.",
            ),
            TimerKind::FinWait2 => (
                "No FIN from the peer in time: the connection is dropped.".into(),
                "Not in RFC 9293: Linux's tcp_fin_timeout for orphaned connections.",
            ),
            TimerKind::Connect => (
                "No answer to the SYN in time.".into(),
                "RFC 9293 §3.10.8 USER TIMEOUT.",
            ),
            TimerKind::Reorder => (
                "RACK's reordering timer expired: segments sent before one that arrived, and overdue by RACK.rtt + the reordering window, are marked lost.".into(),
                "RFC 8985 §6.3: the reordering timer, for losses that no later ACK will reveal.",
            ),
            TimerKind::Tlp => (
                "The probe timer (PTO) expired: a tail loss probe goes out, new data or the last segment again.".into(),
                "RFC 8985 §7: after about two round trips without an ACK, one probe makes the receiver report what the tail lost, instead of waiting for the RTO.",
            ),
        },
        Mark::Keepalive {
            alive: true,
            probe,
            of,
        } => (
            format!("The peer answered keepalive probe {probe} of {of}."),
            "RFC 1122 §4.2.3.6: any segment from the peer resets the idle timer.",
        ),
        Mark::Keepalive {
            alive: false,
            probe,
            of,
        } => (
            format!(
                "{probe} of {of} probes went unanswered: the peer is declared dead and the connection aborted."
            ),
            "RFC 1122 §4.2.3.6.",
        ),
        Mark::Tcb { text, .. } => (
            text.to_string(),
            "The resources a connection holds: RFC 9293 §3.3.1 (the TCB).",
        ),
        Mark::Abort { reason } => (
            format!("Connection aborted: {}.", reason.name().replace('_', " ")),
            "RFC 9293 §3.10.5 (ABORT) and §3.10.7 (RST processing).",
        ),
        Mark::Note { text } => (text.to_string(), ""),
    };
    out.push(Line::from(""));
    out.push(Line::from(what));
    if !why.is_empty() {
        out.push(Line::from(""));
        out.push(Line::from(Span::styled(why.to_string(), t.dim())));
    }
    out
}
