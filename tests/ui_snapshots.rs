//! Snapshots of every view, drawn with ratatui's TestBackend from events the
//! real engine produced (a scenario run to a fixed virtual time), with the
//! UI's clock pinned, so they stay true to the engine and never flake.
//!
//! Review changes with `cargo insta review` (or INSTA_UPDATE=always).

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use tcpscope::driver::{Mode, Playback};
use tcpscope::event::Event;
use tcpscope::fault::{Action, DirMatch, Rule};
use tcpscope::scenario::{Overrides, Run, Scenario};
use tcpscope::time::Instant;
use tcpscope::ui::form::FaultForm;
use tcpscope::ui::model::{EntryKind, Fate, Model};
use tcpscope::ui::render;
use tcpscope::ui::theme::Theme;
use tcpscope::ui::view::{Focus, Popup, StatusLine, View};
use tcpscope::wire::Flags;

const KEEPALIVE_DEAD: &str = r#"
name = "keepalive-dead"
title = "Keepalive on a dead peer"
[client]
keepalive = [10.0, 2.0, 3]
[[step]]
at = 0.0
host = "server"
do = "listen"
port = 80
[[step]]
at = 0.1
host = "client"
do = "connect"
port = 80
[[step]]
at = 1.0
host = "server"
do = "silent"
"#;

fn events(sc: Scenario, rules: Vec<Rule>, until: f64) -> Vec<Event> {
    let ov = Overrides {
        rules,
        ..Overrides::default()
    };
    let mut run = Run::new(sc, &ov);
    run.advance(Instant::from_secs_f64(until));
    run.take_events()
}

fn builtin(name: &str, rules: Vec<Rule>, until: f64) -> Vec<Event> {
    events(Scenario::builtin(name).unwrap(), rules, until)
}

fn model(events: Vec<Event>) -> Model {
    let mut m = Model::new(true);
    m.ingest_all(events);
    m
}

fn clock(title: &str, now: f64) -> StatusLine {
    StatusLine {
        mode: Mode::Demo,
        title: title.into(),
        now,
        playback: Playback {
            speed: Some(1.0),
            paused: true,
            walkthrough: false,
            progress: None,
            ..Playback::default()
        },
        finished: false,
    }
}

fn draw(m: &Model, view: &mut View, c: &StatusLine, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| render::draw(f, m, view, c)).unwrap();
    term
}

fn text(term: &Terminal<TestBackend>) -> String {
    let buf = term.backend().buffer();
    let mut s = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

fn view() -> View {
    View::new(Theme::COLOR)
}

#[test]
fn handshake() {
    let m = model(builtin("handshake", vec![], 5.0));
    let mut v = view();
    let term = draw(
        &m,
        &mut v,
        &clock("handshake: The three-way handshake", 0.6),
        100,
        30,
    );
    let s = text(&term);
    assert!(s.contains("SYN seq 0 win 65535"), "{s}");
    assert!(s.contains("SYN+ACK seq 0 ack 1 win 65535"));
    assert!(s.contains("ACK seq 1 ack 1 win 262144"));
    assert!(s.contains("MSS 1460 · SACK · TS · WS 3"));
    insta::assert_snapshot!(term.backend());
}

#[test]
fn dropped_synack() {
    let m = model(builtin(
        "handshake",
        vec![Rule::parse_drop("out:SA:1").unwrap()],
        5.0,
    ));
    let mut v = view();
    let term = draw(&m, &mut v, &clock("handshake", 3.0), 120, 40);
    let s = text(&term);
    assert!(s.contains("✗ injected") || s.contains("injected ✗"), "{s}");
    assert!(
        s.contains("↻ SYN seq 0"),
        "the SYN's retransmission is marked"
    );
    assert!(s.contains("RTO fired"));
    assert!(s.contains("dropped in 0 · out 1"));
    insta::assert_snapshot!(term.backend());
}

#[test]
fn detail_of_the_dropped_segment() {
    let m = model(builtin(
        "handshake",
        vec![Rule::parse_drop("out:SA:1").unwrap()],
        5.0,
    ));
    let mut v = view();
    let c = m.conns().find(|c| !c.listener).unwrap();
    let dropped = c
        .ladder
        .iter()
        .find(|e| matches!(&e.kind, EntryKind::Arrow(a) if matches!(a.fate, Fate::Dropped { .. })))
        .unwrap();
    v.selected = Some(c.id);
    v.follow = false;
    v.focus = Focus::Ladder;
    v.ladder_sel = Some(dropped.seq);
    v.ladder_follow = false;
    v.detail = true;
    let term = draw(&m, &mut v, &clock("handshake", 3.0), 120, 40);
    let s = text(&term);
    assert!(s.contains("IPv4  10.0.0.2 → 10.0.0.1"), "{s}");
    assert!(s.contains("TCP   80 → 63359"));
    assert!(s.contains("(relative 0)"));
    assert!(s.contains("dropped at 0.520: injected (rule"), "{s}");
    assert!(s.contains("0000 45 00 00 3c"), "hex dump");
    insta::assert_snapshot!(term.backend());
}

/// The detail pane decodes an IPv6 header: the handshake with both hosts
/// on IPv6 (a scenario file may say so), the SYN+ACK dropped and selected.
#[test]
fn detail_of_an_ipv6_segment() {
    let toml = std::fs::read_to_string("assets/scenarios/handshake.toml")
        .unwrap()
        .replacen(
            "[[step]]",
            "[client]\naddr = \"fd00::1\"\n\n[server]\naddr = \"fd00::2\"\n\n[[step]]",
            1,
        );
    let sc = Scenario::parse("handshake6.toml", &toml).unwrap();
    let m = model(events(sc, vec![Rule::parse_drop("out:SA:1").unwrap()], 5.0));
    let mut v = view();
    let c = m.conns().find(|c| !c.listener).unwrap();
    let dropped = c
        .ladder
        .iter()
        .find(|e| matches!(&e.kind, EntryKind::Arrow(a) if matches!(a.fate, Fate::Dropped { .. })))
        .unwrap();
    v.selected = Some(c.id);
    v.follow = false;
    v.focus = Focus::Ladder;
    v.ladder_sel = Some(dropped.seq);
    v.ladder_follow = false;
    v.detail = true;
    let term = draw(&m, &mut v, &clock("handshake", 3.0), 140, 40);
    let s = text(&term);
    assert!(s.contains("IPv6  fd00::2 → fd00::1"), "{s}");
    assert!(s.contains("next 6  hop limit 64"), "{s}");
    assert!(s.contains("TCP   80 → "), "{s}");
    assert!(s.contains("0000 60 00 00 00"), "hex dump: {s}");
}

#[test]
fn time_wait_part_way() {
    let m = model(builtin("client-close", vec![], 100.0));
    let mut v = view();
    let term = draw(&m, &mut v, &clock("client-close", 100.0), 120, 40);
    let s = text(&term);
    assert!(s.contains("C timewait 2m21s"), "{s}");
    assert!(
        s.contains("C TIME-WAIT   ██████"),
        "a gauge for 2 MSL:\n{s}"
    );
    assert!(
        s.contains("░ 2m21s"),
        "the part of 2 MSL already waited:\n{s}"
    );
    insta::assert_snapshot!(term.backend());
}

#[test]
fn keepalive_probe_2_of_3() {
    let sc = Scenario::parse("keepalive.toml", KEEPALIVE_DEAD).unwrap();
    let m = model(events(sc, vec![], 13.0));
    let mut v = view();
    let term = draw(
        &m,
        &mut v,
        &clock("keepalive-dead: Keepalive on a dead peer", 13.0),
        120,
        40,
    );
    let s = text(&term);
    assert!(s.contains("probe 2 of 3, next in 1.1s"), "{s}");
    assert!(s.contains("C keepalive 1.1s (2/3)"));
    insta::assert_snapshot!(term.backend());
}

#[test]
fn held_segment() {
    let hold = Rule {
        action: Action::Hold,
        ..Rule::drop_next(DirMatch::Out, Some(Flags::SYN | Flags::ACK), 1)
    };
    let m = model(builtin("handshake", vec![hold], 0.8));
    let mut v = view();
    let term = draw(&m, &mut v, &clock("handshake", 0.8), 100, 30);
    let s = text(&term);
    assert!(s.contains("‖ held 1: SYN+ACK out"), "{s}");
    assert!(s.contains("held ‖"), "the arrow waits");
    insta::assert_snapshot!(term.backend());
}

#[test]
fn help_popup() {
    let m = model(builtin("client-close", vec![], 2.0));
    let mut v = view();
    v.popup = Some(Popup::Help);
    let term = draw(&m, &mut v, &clock("client-close", 2.0), 80, 24);
    let s = text(&term);
    for key in [
        "drop next in / outbound",
        "release one held segment",
        "walkthrough on ⇄ off",
        "quit",
    ] {
        assert!(s.contains(key), "help lists {key:?}:\n{s}");
    }
    insta::assert_snapshot!(term.backend());
}

#[test]
fn fault_form() {
    let m = model(builtin("handshake", vec![], 5.0));
    let mut v = view();
    v.popup = Some(Popup::Form(FaultForm::default()));
    let term = draw(&m, &mut v, &clock("handshake", 1.0), 100, 30);
    assert!(text(&term).contains("rule: drop in next 1"));
    insta::assert_snapshot!(term.backend());
}

#[test]
fn at_80x24() {
    let m = model(builtin("client-close", vec![], 100.0));
    let mut v = view();
    let term = draw(
        &m,
        &mut v,
        &clock("client-close: The client closes first", 100.0),
        80,
        24,
    );
    let s = text(&term);
    assert!(s.contains("TCB client"), "compact TCB for one side:\n{s}");
    assert!(s.contains("TIME-WAIT"));
    insta::assert_snapshot!(term.backend());
}

#[test]
fn at_200x50() {
    let m = model(builtin("client-close", vec![], 100.0));
    let mut v = view();
    let term = draw(
        &m,
        &mut v,
        &clock("client-close: The client closes first", 100.0),
        200,
        50,
    );
    let s = text(&term);
    assert!(
        s.contains("State (RFC 9293)"),
        "the state diagram has room:\n{s}"
    );
    assert!(s.contains("FIN-WAIT-2 ─▶ TIME-WAIT"));
    assert!(s.contains("SRTT ± VAR"));
    insta::assert_snapshot!(term.backend());
}

#[test]
fn too_small_says_so() {
    let m = model(builtin("client-close", vec![], 2.0));
    let mut v = view();
    let term = draw(&m, &mut v, &clock("client-close", 2.0), 60, 20);
    let s = text(&term);
    assert!(
        s.contains("This terminal is 60×20; tcpscope needs at least 80×24."),
        "{s}"
    );
    assert!(!s.contains("Ladder"));
    insta::assert_snapshot!(term.backend());
}

#[test]
fn no_color_keeps_the_meaning() {
    // Without colour the selection is reversed video, not a background.
    let m = model(builtin("handshake", vec![], 5.0));
    let mut v = View::new(Theme::MONO);
    let term = draw(&m, &mut v, &clock("handshake", 1.0), 100, 30);
    let buf = term.backend().buffer();
    let mut colours = 0;
    let mut reversed = 0;
    for cell in buf.content() {
        if cell.fg != ratatui::style::Color::Reset || cell.bg != ratatui::style::Color::Reset {
            colours += 1;
        }
        if cell.modifier.contains(ratatui::style::Modifier::REVERSED) {
            reversed += 1;
        }
    }
    assert_eq!(colours, 0, "NO_COLOR: not one coloured cell");
    assert!(reversed > 0, "the selected row stands out anyway");
}

#[test]
fn tail_loss_probe_and_rack_on_the_ladder() {
    let m = model(builtin("tail-loss", vec![], 1.1));
    let mut v = view();
    let term = draw(&m, &mut v, &clock("tail-loss", 1.1), 160, 48);
    let s = text(&term);
    assert!(s.contains("⚑ TLP"), "the probe is marked as one: {s}");
    assert!(s.contains("↻ rack"), "RACK's retransmission says so");
    assert!(s.contains("tail loss probe"), "the recovery note");
    assert!(s.contains("loss found by rack"));
    assert!(s.contains("cubic · "), "the congestion state in the TCB");
    insta::assert_snapshot!(term.backend());
}

#[test]
fn a_widened_reordering_window_shows_in_the_tcb() {
    let mut evs = builtin("tail-loss", vec![], 1.1);
    // The same run, as if D-SACKs had widened RACK's window to 3 quarters
    // of min_RTT on every vars event (docs/events.md, The schema: `reo_wnd_mult`).
    for e in &mut evs {
        if let tcpscope::event::Body::Vars(v) = &mut e.body {
            v.reo_wnd_mult = Some(3);
        }
    }
    let m = model(evs);
    let term = draw(&m, &mut view(), &clock("tail-loss", 1.1), 160, 48);
    let s = text(&term);
    assert!(s.contains("cubic · ") && s.contains(" · reo×3"), "{s}");
}

#[test]
fn hystarts_exit_is_a_note_on_the_ladder() {
    use tcpscope::event::{Body, RecoveryAction};
    let mut evs = builtin("tail-loss", vec![], 1.1);
    // The run's first recovery event, as HyStart's exit (docs/events.md, The schema).
    let mut exit = evs
        .iter()
        .find(|e| matches!(e.body, Body::Recovery(_)))
        .expect("a recovery event")
        .clone();
    if let Body::Recovery(r) = &mut exit.body {
        r.action = RecoveryAction::SlowStartExit;
        r.how = Some("ack_train".into());
        r.ranges.clear();
    }
    evs.push(exit);
    evs.sort_by(|a, b| a.t.total_cmp(&b.t));
    let m = model(evs);
    let term = draw(&m, &mut view(), &clock("tail-loss", 1.1), 200, 60);
    let s = text(&term);
    assert!(
        s.contains("slow start ends before any loss (HyStart, the ACK train"),
        "{s}"
    );
}

fn graph_of_bulk_with_loss(w: u16, h: u16) -> (Terminal<TestBackend>, String) {
    let m = model(builtin("bulk-with-loss", vec![], 3.0));
    let mut v = view();
    v.graph = true;
    let term = draw(&m, &mut v, &clock("bulk-with-loss", 3.0), w, h);
    let s = text(&term);
    (term, s)
}

#[test]
fn graph_at_80x24() {
    let (term, s) = graph_of_bulk_with_loss(80, 24);
    assert!(s.contains("Graph"), "{s}");
    assert!(s.contains("rto"), "the legend names the marks: {s}");
    assert!(!s.contains("╴SYN"), "the graph is in place of the ladder");
    // At this width a drop and its fast retransmission share a cell: both
    // are drawn, the repair beside the loss.
    assert!(s.contains("✗r"), "{s}");
    insta::assert_snapshot!(term.backend());
}

#[test]
fn graph_at_160x48_beside_the_ladder() {
    let (term, s) = graph_of_bulk_with_loss(160, 48);
    assert!(s.contains("Graph"), "{s}");
    assert!(s.contains("cwnd"));
    assert!(s.contains("ssthresh"));
    insta::assert_snapshot!(term.backend());
}

#[test]
fn graph_marks_differ_under_mono() {
    let m = model(builtin("bulk-with-loss", vec![], 3.0));
    let mut v = View::new(Theme::MONO);
    v.graph = true;
    let term = draw(&m, &mut v, &clock("bulk-with-loss", 3.0), 160, 48);
    let s = text(&term);
    // Retransmissions and drops are letters and crosses, not colours.
    assert!(s.contains('✗'), "drops are marked: {s}");
    assert!(s.contains('r') && s.contains('p') && s.contains('^'));
    let coloured = term
        .backend()
        .buffer()
        .content()
        .iter()
        .filter(|c| c.fg != ratatui::style::Color::Reset || c.bg != ratatui::style::Color::Reset)
        .count();
    assert_eq!(coloured, 0, "mono: the marks differ by symbol alone");
}

#[test]
fn graph_series_come_from_events() {
    use tcpscope::ui::model::graph::SegMark;
    let m = model(builtin("bulk-with-loss", vec![], 3.0));
    let c = m.conns().find(|c| !c.listener).unwrap();
    let from = c.graph.sender(c.bytes);
    assert_eq!(from, 0, "the client sends the MiB");
    let s = &c.graph.sides[from];
    let has = |k: SegMark| s.segs.iter().any(|p| p.mark == k);
    assert!(has(SegMark::Data) && has(SegMark::Fast) && has(SegMark::Dropped));
    assert!(has(SegMark::Rto) || has(SegMark::Probe));
    assert!(!s.acks.is_empty(), "the server's ACKs");
    assert!(!s.vars.is_empty(), "the client's vars");
    assert!(!s.recovery.is_empty(), "recovery episodes");
    assert!(s.segs.iter().all(|p| p.t.is_finite()));
}

#[test]
fn graph_zoom_and_pan_move_the_time_axis() {
    let m = model(builtin("bulk-with-loss", vec![], 3.0));
    let c = &clock("bulk-with-loss", 3.0);
    let mut v = view();
    v.graph = true;
    let full = text(&draw(&m, &mut v, c, 80, 24));
    assert!(full.contains("0.100s") && full.contains("live"), "{full}");
    v.graph_zoom = 2;
    let zoomed = text(&draw(&m, &mut v, c, 80, 24));
    assert!(!zoomed.contains("0.100s"), "{zoomed}");
    assert!(zoomed.contains("live"));
    v.graph_pan = 4;
    let panned = text(&draw(&m, &mut v, c, 80, 24));
    assert!(!panned.contains("live"), "panned away from the newest");
    assert_ne!(zoomed, panned);
}

/// The first row whose text contains `needle`, and the column (in cells)
/// where it starts.
fn find(term: &Terminal<TestBackend>, needle: &str) -> Option<(u16, u16)> {
    let buf = term.backend().buffer();
    for y in 0..buf.area.height {
        let cells: Vec<&str> = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        let row: String = cells.concat();
        if let Some(at) = row.find(needle) {
            // Bytes to cells: every cell here holds one symbol.
            let mut bytes = 0;
            for (x, c) in cells.iter().enumerate() {
                if bytes == at {
                    return Some((x as u16, y));
                }
                bytes += c.len();
            }
        }
    }
    None
}

#[test]
fn sack_blocks_on_the_ladder_relative_and_absolute() {
    let m = model(builtin("sack-recovery", vec![], 0.56));
    let c = m.conns().find(|c| !c.listener).unwrap();
    let (isn_c, isn_s) = (c.isn[0].unwrap(), c.isn[1].unwrap());
    let clk = clock("sack-recovery", 0.56);
    let mut v = view();
    // Room for the full label: blocks relative to the client's ISN, as the
    // ack; the most recent block first (RFC 2018 §4).
    let s = text(&draw(&m, &mut v, &clk, 200, 50));
    for want in [
        " ACK seq 1 ack 1449 win 260696 ╌┤",
        " ACK seq 1 ack 1449 win 260696 dup ACK #1 sack 2897-4345 ╌┤",
        " ACK seq 1 ack 1449 win 260696 dup ACK #3 sack 7241-8689,2897-5793 ╌┤",
        " ACK seq 1 ack 1449 win 260696 dup ACK #6 sack 11585-14481,7241-10137,2897-5793 ╌┤",
    ] {
        assert!(s.contains(want), "{want:?} in\n{s}");
    }
    // The short form.
    let s = text(&draw(&m, &mut v, &clk, 120, 40));
    assert!(
        s.contains(" A 1 a1449 w255K dup#1 sack 2897-4345 ╌┤"),
        "{s}"
    );
    // 80×24: a duplicate ACK's window is the one before it; its blocks
    // say more, as much of them as fits.
    let s = text(&draw(&m, &mut v, &clk, 80, 24));
    assert!(s.contains("│◁ A 1 a1449 dup#1 sack 2897-4… ╌┤"), "{s}");
    // Absolute: as on the wire.
    v.absolute = true;
    let s = text(&draw(&m, &mut v, &clk, 200, 50));
    let want = format!(
        " ACK seq {} ack {} win 260696 dup ACK #1 sack {}-{} ╌┤",
        isn_s.wrapping_add(1),
        isn_c.wrapping_add(1449),
        isn_c.wrapping_add(2897),
        isn_c.wrapping_add(4345)
    );
    assert!(s.contains(&want), "{want:?} in\n{s}");
}

#[test]
fn help_turns_to_the_ladder_notation_and_fits_80x24() {
    let m = model(builtin("client-close", vec![], 2.0));
    let mut v = view();
    v.popup = Some(Popup::Help);
    v.help_notation = true;
    let term = draw(&m, &mut v, &clock("client-close", 2.0), 80, 24);
    let s = text(&term);
    for want in [
        "┌ Ladder notation ─",
        " S F R P A U E C     SYN FIN RST PSH ACK URG ECE CWR; . none ",
        " a1449  w255K        ack; window in bytes, scaled (K M G: ×1024) ",
        " sack 2897-4345      SACK blocks: what arrived above the ack ",
        " dup ACK #3  dup#3   the 3rd duplicate of the ACK before it ",
        " n                   seq and ack count from each side's ISN ⇄ absolute ",
        " any key closes ┘",
    ] {
        assert!(s.contains(want), "{want:?} in\n{s}");
    }
    insta::assert_snapshot!(term.backend());
}

#[test]
fn ladder_times_keep_milliseconds_past_a_thousand_seconds() {
    let mut evs = builtin("handshake", vec![], 5.0);
    for e in &mut evs {
        e.t += 8000.0;
    }
    let m = model(evs);
    let mut v = view();
    let s = text(&draw(&m, &mut v, &clock("handshake", 8005.0), 140, 30));
    // Sent at 8000.500, arrived 10 ms later: the column widens to say so.
    assert!(
        s.contains("│ 8000.500 ├─ SYN seq 0 win 65535 ─"),
        "the time column:\n{s}"
    );
    assert!(s.contains("─▶│ 8000.510 "), "the arrival column:\n{s}");
    assert!(s.contains("│ 8000.510 │◀─"), "{s}");
    for rounded in ["8000.5 ├", "8000.5 │", "8000.5  "] {
        assert!(!s.contains(rounded), "rounded to 0.1 s on the ladder:\n{s}");
    }
}

#[test]
fn a_closed_sides_tcb_is_shown_at_close_dimmed() {
    let m = model(builtin("client-close", vec![], 100.0));
    let clk = clock("client-close", 100.0);
    let mut v = view();
    let dim = Theme::COLOR.dim().fg;
    // Both sides: the closed server's column says so, its values dimmed;
    // the client in TIME-WAIT still has a TCB.
    let term = draw(&m, &mut v, &clk, 200, 50);
    let s = text(&term);
    assert!(
        s.contains("│            client             server at close    │"),
        "{s}"
    );
    // The server's FIN was acknowledged as it closed: SND.UNA moved past
    // it (the engine's last vars at close).
    let (x, y) = find(&term, "SND.UNA/NXT 7 / 7              2 / 2 ").expect("the row");
    let buf = term.backend().buffer();
    assert_ne!(buf[(x + 12, y)].style().fg, dim, "client's 7 / 7");
    assert_eq!(buf[(x + 31, y)].symbol(), "2");
    assert_eq!(buf[(x + 31, y)].style().fg, dim, "server's 2 / 2");
    // One side at 80×24: the server's (v), marked under its state.
    draw(&m, &mut v, &clk, 80, 24);
    v.acting = 1;
    let term = draw(&m, &mut v, &clk, 80, 24);
    let s = text(&term);
    assert!(s.contains("││CLOSED ← LAST-ACK               │"), "{s}");
    assert!(s.contains("││values at close                 │"), "{s}");
    let (x, y) = find(&term, "SND una 2 nxt 2 wnd 262144").expect("the row");
    assert_eq!(term.backend().buffer()[(x, y)].style().fg, dim);
}

#[test]
fn the_tcb_panels_cwnd_is_the_last_recovery_events() {
    use tcpscope::event::{Body, RecoveryAction};
    // sack-recovery up to its recovery's end, before the `vars` event
    // that follows it.
    let mut evs = builtin("sack-recovery", vec![], 1.0);
    let exit = evs
        .iter()
        .position(|e| matches!(&e.body, Body::Recovery(r) if r.action == RecoveryAction::Exit))
        .expect("recovery ends");
    evs.truncate(exit + 1);
    let m = model(evs);
    let mut v = view();
    let s = text(&draw(&m, &mut v, &clock("sack-recovery", 0.708), 200, 50));
    assert!(
        s.contains("recovery over: open; cwnd 11149 ssthresh 11149 pipe 0"),
        "the note:\n{s}"
    );
    assert!(s.contains("│cwnd/ssthr  11149 / 11149 "), "the TCB:\n{s}");
    assert!(s.contains("│cc          cubic · CA "), "{s}");
}

#[test]
fn a_used_up_rule_leaves_the_fault_bar() {
    let lines = [
        r#"{"t":100.5,"host":"server","kind":"rule","action":"added","rule":"drop in with-data next 3"}"#,
        r#"{"t":100.51,"host":"server","conn":"10.0.0.2:80<->10.0.0.1:65170","kind":"drop","dir":"in","reason":"injected","rule":"drop in with-data next 3","id":63,"flags":["ACK","PSH"],"seq":1,"ack":1,"len":34,"win":32768,"opts":[]}"#,
        r#"{"t":101.51,"host":"server","conn":"10.0.0.2:80<->10.0.0.1:65170","kind":"drop","dir":"in","reason":"injected","rule":"drop in with-data next 2","id":65,"flags":["ACK"],"seq":1,"ack":1,"len":34,"win":32768,"opts":[]}"#,
        r#"{"t":103.51,"host":"server","conn":"10.0.0.2:80<->10.0.0.1:65170","kind":"drop","dir":"in","reason":"injected","rule":"drop in with-data next 1","id":67,"flags":["ACK"],"seq":1,"ack":1,"len":34,"win":32768,"opts":[]}"#,
        r#"{"t":103.51,"host":"server","kind":"rule","action":"used_up","rule":"drop in with-data next 1"}"#,
    ];
    let evs: Vec<Event> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let bar = |n: usize| {
        let m = model(evs[..n].to_vec());
        let term = draw(&m, &mut view(), &clock("faults", 104.0), 80, 24);
        let s = text(&term);
        s.lines()
            .find(|l| l.starts_with(" Faults "))
            .unwrap()
            .trim_end()
            .to_string()
    };
    assert_eq!(
        bar(1),
        " Faults drop in with-data next 3 │ dropped in 0 · out 0"
    );
    assert_eq!(
        bar(2),
        " Faults drop in with-data next 2 │ dropped in 1 · out 0"
    );
    assert_eq!(
        bar(4),
        " Faults drop in with-data next 1 │ dropped in 3 · out 0"
    );
    assert_eq!(bar(5), " Faults no rules │ dropped in 3 · out 0");
}
