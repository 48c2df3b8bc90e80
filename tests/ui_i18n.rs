//! `--lang zh`: the key screens drawn in Chinese hold no English UI words,
//! and neither do the Chinese catalogue (src/i18n/zh.rs), the Chinese words
//! of every sentence the built-in scenarios put into events (state causes,
//! application notes, recovery, TCB marks), nor the Chinese handout.
//!
//! The word check is `tests/common/english.rs` (shared with the tmux test
//! of the tour, `tests/ui_tmux.rs`). The screens are drawn as
//! `tests/ui_snapshots.rs` draws them: events the real engine produced, the
//! UI's clock pinned.

mod common;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use unicode_width::UnicodeWidthStr;

use common::english::{english, has_chinese};
use tcpscope::driver::{Mode, Playback};
use tcpscope::event::{Body, Event};
use tcpscope::fault::{Action, DirMatch, Rule, Trigger};
use tcpscope::i18n::messages;
use tcpscope::scenario::{BUILTIN, Lang, Overrides, Run, Scenario};
use tcpscope::time::Instant;
use tcpscope::ui::form::FaultForm;
use tcpscope::ui::model::{EntryKind, Fate, Mark, Model};
use tcpscope::ui::render;
use tcpscope::ui::theme::Theme;
use tcpscope::ui::view::{ChapterList, Focus, Popup, StatusLine, View};

fn run(name: &str, rules: Vec<Rule>, until: f64) -> Run {
    let ov = Overrides {
        rules,
        lang: Some(Lang::Zh),
        ..Overrides::default()
    };
    let mut run = Run::new(Scenario::builtin(name).unwrap(), &ov);
    run.advance(Instant::from_secs_f64(until));
    run
}

fn events(name: &str, rules: Vec<Rule>, until: f64) -> Vec<Event> {
    run(name, rules, until).take_events()
}

/// The bytes the scenario's applications send, as their notes quote them
/// (`send "hello" (5 bytes)`): data, in every language.
fn sent(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            Body::App { msg, .. } => msg.split_once('"').map(|(_, rest)| format!("\"{rest}")),
            _ => None,
        })
        .collect()
}

fn model(events: Vec<Event>) -> Model {
    let mut m = Model::new(true);
    m.ingest_all(events);
    m
}

/// The title bar's text, as the demo driver writes it: the scenario's name
/// (data: what `tcpscope demo NAME` takes) and its Chinese title.
fn clock(name: &str, now: f64) -> StatusLine {
    clock_with(name, now, false)
}

/// [`clock`], in a walkthrough of a lesson with chapters or not.
fn clock_with(name: &str, now: f64, walkthrough: bool) -> StatusLine {
    let sc = Scenario::builtin(name).unwrap();
    let chapters = sc.narrations.iter().any(|n| n.chapter(Lang::Zh).is_some());
    StatusLine {
        mode: Mode::Demo,
        title: format!("{name}: {}", sc.title_for(Lang::Zh)),
        now,
        playback: Playback {
            speed: Some(1.0),
            paused: true,
            walkthrough,
            progress: None,
            chapters: walkthrough && chapters,
            ..Playback::default()
        },
        finished: false,
    }
}

fn view(lang: Lang) -> View {
    View::new(Theme::COLOR).with_lang(lang)
}

fn draw(m: &Model, v: &mut View, c: &StatusLine, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| render::draw(f, m, v, c)).unwrap();
    term
}

/// The screen's text, one line per row.
fn screen(term: &Terminal<TestBackend>) -> String {
    rows(term, false)
}

/// The screen's text with the hex dump's rows (bytes, not words) left out.
fn text(term: &Terminal<TestBackend>) -> String {
    rows(term, true)
}

fn rows(term: &Terminal<TestBackend>, no_hex: bool) -> String {
    let buf = term.backend().buffer();
    let mut s = String::new();
    for y in 0..buf.area.height {
        let mut row = String::new();
        let mut x = 0;
        while x < buf.area.width {
            let symbol = buf[(x, y)].symbol();
            row.push_str(symbol);
            // A wide character's second column holds nothing of its own.
            x += symbol.width().max(1) as u16;
        }
        if let Some(at) = hexdump_at(&row).filter(|_| no_hex) {
            row.truncate(at);
        }
        s.push_str(&row);
        s.push('\n');
    }
    s
}

/// Where a hex dump row starts: `0000 45 00 …` (offset, bytes, and after
/// them the bytes as ASCII, which may spell anything).
fn hexdump_at(row: &str) -> Option<usize> {
    let b = row.as_bytes();
    let hex = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_hexdigit);
    (0..b.len().saturating_sub(8)).find(|&i| {
        (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            && hex(i..i + 4)
            && b[i + 4] == b' '
            && hex(i + 5..i + 7)
            && b[i + 7] == b' '
    })
}

/// Assert that the screen holds no English, and that its Chinese spills
/// over no border.
fn assert_chinese(term: &Terminal<TestBackend>, data: &[&str]) {
    assert_chinese_marked(term, data, "");
}

fn assert_chinese_marked(term: &Terminal<TestBackend>, data: &[&str], marks: &str) {
    let s = text(term);
    let found = english(&s, data, marks);
    assert!(found.is_empty(), "English on the zh screen: {found:?}\n{s}");
    assert_borders_whole(term);
    // The check sees the screen: something Chinese is there.
    assert!(has_chinese(&s), "{s}");
}

/// Nothing spills over a border: a row that a box opens at the left edge
/// a box closes at the right edge (a wide character cut or pushed one
/// column too far would take the border's place).
fn assert_borders_whole(term: &Terminal<TestBackend>) {
    let buf = term.backend().buffer();
    let right = buf.area.width - 1;
    for y in 0..buf.area.height {
        if buf[(0, y)].symbol() == "│" {
            let edge = buf[(right, y)].symbol();
            assert!(
                edge.chars().all(|c| ('\u{2500}'..='\u{257f}').contains(&c)) && !edge.is_empty(),
                "row {y} ends with {edge:?}:\n{}",
                screen(term)
            );
        }
    }
}

/// The demo's main screen a few events into the handshake.
fn handshake(w: u16, h: u16) -> (Terminal<TestBackend>, View) {
    let m = model(events("handshake", vec![], 5.0));
    let mut v = view(Lang::Zh);
    let term = draw(&m, &mut v, &clock("handshake", 0.6), w, h);
    (term, v)
}

#[test]
fn main_screen_in_chinese() {
    for (w, h) in [(80, 24), (100, 30), (120, 36)] {
        let (term, _) = handshake(w, h);
        assert_chinese(&term, &["handshake"]);
        let s = screen(&term);
        assert!(s.contains("连接"), "{s}");
        assert!(s.contains("时间 0.600 秒"), "{s}");
        assert!(s.contains("? 帮助  q 退出  空格 运行"), "{s}");
        assert!(s.contains("时序图"), "{s}");
        assert!(s.contains("故障 没有规则"), "{s}");
        if (w, h) == (100, 30) {
            insta::assert_snapshot!("zh_handshake", term.backend());
        }
    }
}

#[test]
fn fault_form_in_chinese() {
    let m = model(events("handshake", vec![], 5.0));
    let mut v = view(Lang::Zh);
    let zh = messages(Lang::Zh);
    let form = FaultForm::default();
    let rule = form.rule(zh).unwrap();
    v.popup = Some(Popup::Form(form));
    let term = draw(&m, &mut v, &clock("handshake", 1.0), 100, 30);
    let s = screen(&term);
    assert!(s.contains("故障规则"), "{s}");
    // The labels' column is as wide as the widest, in columns.
    assert!(s.contains("▸ 方向         ◂ 入 ▸"), "{s}");
    assert!(s.contains("  延迟（毫秒） 500"), "{s}");
    // The rule in the UI's words: the text form's, word for word.
    assert_eq!(rule.to_string(), "drop in next 1");
    assert_eq!(rule.words(zh), "丢弃 入 接下来 1 个");
    assert!(s.contains("规则： 丢弃 入 接下来 1 个"), "{s}");
    assert_chinese(&term, &["handshake"]);
    insta::assert_snapshot!("zh_fault_form", term.backend());
}

#[test]
fn graph_in_chinese() {
    let m = model(events("bulk-with-loss", vec![], 3.0));
    for (w, h) in [(80, 24), (160, 48)] {
        let mut v = view(Lang::Zh);
        v.graph = true;
        let term = draw(&m, &mut v, &clock("bulk-with-loss", 3.0), w, h);
        let s = screen(&term);
        assert!(s.contains("图表"), "{s}");
        assert!(s.contains("实时"), "{s}");
        assert_chinese_marked(&term, &["bulk-with-loss"], "RrPps");
    }
}

#[test]
fn detail_in_chinese() {
    let m = model(events(
        "handshake",
        vec![Rule::parse_drop("out:SA:1").unwrap()],
        5.0,
    ));
    let mut v = view(Lang::Zh);
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
    let s = screen(&term);
    assert!(s.contains("服务器 → 客户端  SYN+ACK"), "{s}");
    // The rule that dropped it, in the UI's words ("drop out SA next 1").
    assert!(
        s.contains("去向     0.520 被丢弃：注入丢弃（规则 \"丢弃 出 SA 接下来"),
        "{s}"
    );
    assert!(s.contains(" seq 1738427576（相对 0）"), "{s}");
    assert!(s.contains("0000 45 00 00 3c"), "the hex dump is drawn: {s}");
    // The ladder beside it: the drop's reason and the injector's marks.
    assert!(s.contains("注入丢弃 ✗"), "{s}");
    assert_chinese(&term, &["handshake"]);
}

/// Every mark on every ladder of the built-in scenarios, in the detail
/// pane: state changes with the engine's cause, fired timers, keepalive,
/// TCBs, aborts, notes.
#[test]
fn every_mark_in_the_detail_pane_is_chinese() {
    let mut kinds = std::collections::HashSet::new();
    for (name, _) in BUILTIN.iter().filter(|(n, _)| *n != "tour") {
        let evs = events(name, vec![], 1e9);
        let sent = sent(&evs);
        // The lesson's own words (its title and narration, on screen
        // beside the details) are data here.
        let sc = Scenario::builtin(name).unwrap();
        let lesson: Vec<&str> = [sc.title_for(Lang::Zh)]
            .into_iter()
            .chain(sc.narrations.iter().map(|n| n.text(Lang::Zh)))
            .collect();
        let data: Vec<&str> = [*name]
            .into_iter()
            .chain(sent.iter().map(String::as_str))
            .chain(lesson)
            .collect();
        let m = model(evs);
        for c in m.conns() {
            for e in &c.ladder {
                let EntryKind::Mark { mark, .. } = &e.kind else {
                    continue;
                };
                kinds.insert(std::mem::discriminant(mark));
                let mut v = view(Lang::Zh);
                v.selected = Some(c.id);
                v.follow = false;
                v.focus = Focus::Ladder;
                v.ladder_sel = Some(e.seq);
                v.ladder_follow = false;
                v.detail = true;
                let term = draw(&m, &mut v, &clock(name, e.t), 120, 36);
                let s = text(&term);
                let found = english(&s, &data, "");
                assert!(found.is_empty(), "{name}, {mark:?}: {found:?}\n{s}");
                assert_borders_whole(&term);
            }
        }
    }
    assert!(
        kinds.len() >= 6,
        "states, timers, keepalive, TCBs, aborts, notes"
    );
}

/// What the events of the built-in scenarios say in words, in Chinese:
/// every state change's cause, every note, every TCB mark.
#[test]
fn the_events_sentences_are_said_in_chinese() {
    let zh = messages(Lang::Zh);
    let mut said = 0;
    for (name, _) in BUILTIN {
        let evs = events(name, vec![], 1e9);
        let sent = sent(&evs);
        let data: Vec<&str> = sent.iter().map(String::as_str).collect();
        let m = model(evs.clone());
        let mut texts: Vec<String> = Vec::new();
        for e in &evs {
            if let Body::State { cause, .. } = &e.body {
                texts.push(zh.phrase(cause).into_owned());
            }
        }
        for c in m.conns() {
            for e in &c.ladder {
                match &e.kind {
                    EntryKind::Mark {
                        mark: Mark::Note { note },
                        ..
                    } => texts.push(note.text(zh)),
                    EntryKind::Mark {
                        mark: Mark::Tcb { allocated, info },
                        ..
                    } => {
                        texts.push(Mark::tcb_line(zh, *allocated, info));
                        texts.push(Mark::tcb_detail(zh, *allocated, info));
                    }
                    _ => {}
                }
            }
        }
        for t in &texts {
            let found = english(t, &data, "");
            assert!(found.is_empty(), "{name}: {found:?} in {t:?}");
        }
        said += texts.len();
    }
    assert!(said > 500, "{said} sentences");
}

#[test]
fn too_small_in_chinese() {
    let m = model(vec![]);
    let mut v = view(Lang::Zh);
    let term = draw(&m, &mut v, &clock("handshake", 0.0), 60, 20);
    let s = screen(&term);
    assert!(s.contains("终端大小为 60×20"), "{s}");
    assert_chinese(&term, &[]);
}

/// `?`: the keys, and `?` again the ladder's notation, at the smallest
/// size and a roomy one.
#[test]
fn help_pages_in_chinese() {
    let m = model(events("handshake", vec![], 5.0));
    for (w, h) in [(80, 24), (120, 36)] {
        let mut v = view(Lang::Zh);
        v.popup = Some(Popup::Help);
        let term = draw(&m, &mut v, &clock("handshake", 1.0), w, h);
        let s = screen(&term);
        assert!(s.contains("按键"), "{s}");
        assert!(s.contains("丢弃下一个 入/出 报文段"), "{s}");
        assert!(s.contains(" q  Ctrl-C 退出"), "{s}");
        assert!(s.contains(" 空格      放行一个被扣留的报文段"), "{s}");
        assert!(s.contains("? 时序图记号 · 其他键关闭"), "{s}");
        assert_chinese(&term, &["handshake"]);
        if (w, h) == (80, 24) {
            insta::assert_snapshot!("zh_help_keys", term.backend());
        }

        v.help_notation = true;
        let term = draw(&m, &mut v, &clock("handshake", 1.0), w, h);
        let s = screen(&term);
        assert!(s.contains("时序图记号"), "{s}");
        // The tokens read as the ladder writes them in Chinese.
        assert!(s.contains("重复 ACK #3  重复#3"), "{s}");
        assert!(s.contains("↻ RACK  ↻ RTO"), "{s}");
        assert!(s.contains("✗ 注入丢弃  ‖ 扣留"), "{s}");
        assert!(s.contains("[乱序]"), "{s}");
        assert_chinese(&term, &["handshake"]);
        if (w, h) == (80, 24) {
            insta::assert_snapshot!("zh_help_notation", term.backend());
        }
    }
}

/// The tour's chapter list (`C`), and its walkthrough's first screen with
/// the welcome under the first narration.
#[test]
fn the_tours_chapters_and_welcome_in_chinese() {
    let sc = Scenario::builtin("tour").unwrap();
    let titles: Vec<String> = sc
        .narrations
        .iter()
        .filter_map(|n| n.chapter(Lang::Zh).map(String::from))
        .collect();
    assert_eq!(titles.len(), 10);
    // The chapter titles are the lesson's own words (protocol names,
    // `Connection: keep-alive`): data here.
    let data: Vec<&str> = ["tour"]
        .into_iter()
        .chain(titles.iter().map(String::as_str))
        .collect();
    let m = model(events("tour", vec![], 0.0));
    for (w, h) in [(80, 24), (120, 36)] {
        let mut v = view(Lang::Zh);
        let term = draw(&m, &mut v, &clock_with("tour", 0.0, true), w, h);
        let s = screen(&term);
        assert!(s.contains("逐步讲解：每到一处讲解就停下"), "{s}");
        assert!(s.contains("第一章，三次握手"), "{s}");
        assert_chinese(&term, &data);

        v.popup = Some(Popup::Chapters(ChapterList {
            titles: titles.clone(),
            sel: 2,
            current: Some(0),
        }));
        let term = draw(&m, &mut v, &clock_with("tour", 0.0, true), w, h);
        let s = screen(&term);
        assert!(s.contains("章节"), "{s}");
        assert!(s.contains("▶ 1. 三次握手"), "{s}");
        assert!(s.contains("↑↓ 回车或 1–0 跳转 · Esc 关闭"), "{s}");
        assert_chinese(&term, &data);
        if (w, h) == (80, 24) {
            insta::assert_snapshot!("zh_tour_chapters", term.backend());
        }
    }
}

/// A closed connection's TCB panel: the values at close, marked so, in
/// the wide table and the compact block.
#[test]
fn tcb_at_close_in_chinese() {
    let evs = events("client-close", vec![], 1e9);
    let sent = sent(&evs);
    let m = model(evs);
    let c = m.conns().find(|c| !c.listener).unwrap();
    for (w, h, mark) in [(80, 24, "关闭时的值"), (120, 36, "（关闭时）")] {
        let mut v = view(Lang::Zh);
        v.selected = Some(c.id);
        v.follow = false;
        let term = draw(&m, &mut v, &clock("client-close", c.last_t), w, h);
        let s = screen(&term);
        assert!(s.contains(mark), "{s}");
        assert!(s.contains("CLOSED"), "{s}");
        assert_chinese(&term, &["client-close", &sent[0]]);
    }
}

/// The fault bar with rules of every kind, held segments, drops and what
/// the injector did: in the UI's words.
#[test]
fn fault_bar_with_rules_in_chinese() {
    let rules = vec![
        Rule::parse_drop("out:SA:2").unwrap(),
        Rule::loss(DirMatch::In, 0.125),
        Rule {
            dir: DirMatch::Out,
            flags: None,
            payload: Some(true),
            port: Some(80),
            trigger: Trigger::Always,
            action: Action::Delay(std::time::Duration::from_millis(250)),
        },
        Rule {
            dir: DirMatch::In,
            flags: None,
            payload: None,
            port: None,
            trigger: Trigger::Count(1),
            action: Action::Hold,
        },
    ];
    let m = model(events("handshake", rules, 2.0));
    assert!(
        !m.faults.rules.is_empty() && !m.faults.held.is_empty(),
        "{:?}",
        m.faults
    );
    let mut v = view(Lang::Zh);
    let term = draw(&m, &mut v, &clock("handshake", 2.0), 160, 36);
    let s = screen(&term);
    assert!(s.contains("故障 "), "{s}");
    assert!(
        s.contains("丢弃 出 SA 接下来 1 个"),
        "counts down as it fires: {s}"
    );
    assert!(s.contains("丢弃 入 概率 12.5%"), "{s}");
    assert!(s.contains("延迟 出 250 毫秒 带数据 端口 80 全部"), "{s}");
    assert!(s.contains("‖ 扣留 1"), "{s}");
    assert_chinese(&term, &["handshake"]);
}

/// The Chinese handout: its heading, reading guide and ladder lines.
#[test]
fn the_handout_in_chinese() {
    let sc = Scenario::builtin("handshake").unwrap();
    let mut t =
        tcpscope::transcript::Transcript::new(std::path::Path::new("handout.md"), &sc, Lang::Zh);
    for e in events(
        "handshake",
        vec![Rule::parse_drop("out:SA:1").unwrap()],
        1e9,
    ) {
        t.ingest(&e);
    }
    let md = t.render();
    assert!(md.contains("## 第 1 步 · t = 0.000 秒\n"), "{md}");
    // What the lesson teaches, its Chinese paragraph.
    assert!(md.contains("\n\n服务器被动打开（LISTEN）；"), "{md}");
    assert!(md.contains("> 如何阅读每一步下面的时序图行："), "{md}");
    assert!(md.contains("客户端 → 服务器  SYN seq "), "{md}");
    // `tcpscope demo NAME --transcript`, the fence's `text`: syntax.
    let found = english(&md, &["handshake", "demo", "transcript", "text"], "");
    assert!(found.is_empty(), "{found:?}\n{md}");
}

/// Every built-in lesson says what it teaches in Chinese too (the Chinese
/// handout's first paragraph), with nothing English in it but what stays:
/// protocol and state names, and the command line's flags, HTTP's header
/// and the systems it names.
#[test]
fn every_scenario_says_what_it_teaches_in_chinese() {
    let syntax = [
        "--profile rfc --rack off",
        "Connection: close, HTTP keep-alive",
        "W_max TCP_NODELAY BSD Windows",
    ];
    for (name, _) in BUILTIN {
        let sc = Scenario::builtin(name).unwrap();
        let about = sc
            .about_for(Lang::Zh)
            .unwrap_or_else(|| panic!("{name}: no about_zh"));
        assert!(has_chinese(about), "{name}: {about}");
        let found = english(about, &syntax, "");
        assert!(found.is_empty(), "{name}: {found:?} in {about}");
    }
}

/// The check is not vacuous: the same screen in English is full of
/// English words, and numbers with English units.
#[test]
fn the_check_finds_english_on_an_english_screen() {
    let m = model(events("handshake", vec![], 5.0));
    let mut v = view(Lang::En);
    let term = draw(&m, &mut v, &clock("handshake", 0.6), 100, 30);
    let found = english(&text(&term), &["handshake"], "");
    for want in [
        "Connections",
        "Connection",
        "help",
        "quit",
        "Narration",
        "Ladder",
        "Faults",
        "rules",
        "0.60s",
    ] {
        assert!(found.iter().any(|w| w == want), "{want}: {found:?}");
    }
}

/// Every Chinese message, with sample arguments, is Chinese but for the
/// kept words and the input syntax it shows (`in=10,out=5`, an address);
/// so are the Chinese words for protocol values and the phrasebook's
/// Chinese.
#[test]
fn the_chinese_catalogue_has_no_english() {
    let syntax: &[(&str, &[&str])] = &[
        ("prompt_loss_help", &["in", "out"]),
        ("write_in_out", &["in", "out"]),
        ("not_in_or_out", &["in", "out"]),
        ("prompt_connect_help", &["fd77"]),
        ("not_ip_port", &["fd77"]),
        // The command line's flags and commands.
        ("d_pcap_stops", &["pcap"]),
        ("pcap_stopped", &["pcap"]),
        ("tr_written_by", &["demo", "transcript"]),
        ("read_only", &["live"]),
        ("t_watch_only", &["watch", "intercept", "port", "PORT"]),
        ("t_no_pause", &["intercept"]),
        ("t_no_step", &["record"]),
    ];
    let zh = messages(Lang::Zh);
    let en = messages(Lang::En);
    let zh_all = zh.all();
    let en_all = en.all();
    assert_eq!(zh_all.len(), en_all.len());
    let mut bad = Vec::new();
    for ((name, text), (en_name, _)) in zh_all.iter().zip(&en_all) {
        assert_eq!(name, en_name);
        let allowed = syntax
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&[][..], |(_, w)| w);
        for w in english(text, &[], "") {
            if !allowed.contains(&w.as_str()) {
                bad.push(format!("{name}: {w:?} in {text:?}"));
            }
        }
    }
    // The words for protocol values, every value.
    use tcpscope::event::{
        AbortReason as Ab, Analysis as An, CaState as Ca, CcAlgo as Cc, LimitKind as Li,
        Phase as Ph, RecoveryAction as Re, RtxCause as Rt, TimerAction as Ta, TimerKind,
    };
    let mut words: Vec<(&str, &str)> = Vec::new();
    for k in TimerKind::ALL {
        words.push(("timer_name", zh.timer_name(k)));
        words.push(("timer_mark", zh.timer_mark(k)));
        words.push(("timer_event_name", zh.timer_event_name(k)));
    }
    for a in [Ta::Armed, Ta::Cancelled, Ta::Fired] {
        words.push(("timer_action", zh.timer_action(a)));
    }
    for c in [
        Rt::Dupack,
        Rt::Rack,
        Rt::Tlp,
        Rt::Rto,
        Rt::Rescue,
        Rt::Persist,
        Rt::Syn,
    ] {
        words.push(("rtx_cause", zh.rtx_cause(c)));
    }
    for c in [Ca::Open, Ca::Disorder, Ca::Recovery, Ca::Loss] {
        words.push(("ca_state", zh.ca_state(c)));
    }
    for p in [Ph::SlowStart, Ph::CongestionAvoidance, Ph::FastRecovery] {
        words.push(("phase", zh.phase(p)));
    }
    for a in [Cc::NewReno, Cc::Cubic] {
        words.push(("cc_algo", zh.cc_algo(a)));
    }
    for a in [
        Re::Enter,
        Re::Mark,
        Re::Exit,
        Re::Undo,
        Re::Probe,
        Re::Reduce,
        Re::SlowStartExit,
    ] {
        words.push(("recovery_action", zh.recovery_action(a)));
    }
    for k in [
        Li::MaxConnections,
        Li::SynBacklog,
        Li::OooQueue,
        Li::SendBuffer,
        Li::RecvBuffer,
        Li::ChallengeAck,
    ] {
        words.push(("limit_kind", zh.limit_kind(k)));
    }
    for a in [
        An::Retransmission,
        An::FastRetransmission,
        An::SpuriousRetransmission,
        An::OutOfOrder,
        An::DuplicateAck,
        An::ZeroWindow,
        An::ZeroWindowProbe,
        An::ZeroWindowProbeAck,
        An::WindowUpdate,
        An::WindowFull,
        An::KeepAlive,
        An::KeepAliveAck,
        An::LostSegment,
        An::AckLostSegment,
        An::Reset,
    ] {
        words.push(("analysis_word", zh.analysis_word(&a)));
    }
    for r in [
        Ab::User,
        Ab::ResetReceived,
        Ab::RetransmitTimeout,
        Ab::KeepaliveTimeout,
        Ab::ConnectTimeout,
        Ab::FinWait2Timeout,
        Ab::Reopened,
        Ab::DataAfterClose,
    ] {
        words.push(("abort_word", zh.abort_word(&r)));
    }
    for kind in [
        "segment",
        "drop",
        "hold",
        "release",
        "fault",
        "state",
        "timer",
        "keepalive",
        "rtt",
        "tcb",
        "abort",
        "app",
        "narration",
        "negotiated",
        "vars",
        "burst",
        "recovery",
        "rule",
        "limit",
        "lagged",
        "info",
        "speed",
    ] {
        words.push(("event_kind", zh.event_kind(kind)));
    }
    for (name, word) in words {
        assert!(!word.is_empty(), "{name}");
        for w in english(word, &[], "") {
            bad.push(format!("{name}: {w:?} in {word:?}"));
        }
    }
    for (pattern, template) in zh.phrases() {
        // The flags a message names (`--http-idle`), Linux's NFQUEUE and
        // its loopback interface are syntax and names.
        for w in english(template, &["http-idle", "NFQUEUE", "lo"], "") {
            bad.push(format!("phrase {pattern:?}: {w:?} in {template:?}"));
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}
