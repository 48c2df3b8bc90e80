//! `--lang zh`: the key screens drawn in Chinese hold no English UI words,
//! and neither does the Chinese catalogue (src/ui/i18n/zh.rs).
//!
//! "English" is checked rigorously and independently of the catalogue:
//! every ASCII word on the screen (a run of letters, digits, `_` and `.`
//! with at least two letters, not starting with a digit) must be one that
//! stays in every language ([`KEPT`]: protocol, field and state names, key
//! names, proper names) or data the test names (addresses, a scenario's
//! name, a fault rule's text form); and no number carries an English unit
//! (`0.20s`, `20ms`, `4m02s`). A word left out of the catalogue therefore
//! fails here even where no catalogue entry mentions it.
//!
//! The screens are drawn as `tests/ui_snapshots.rs` draws them: events the
//! real engine produced, the UI's clock pinned.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use unicode_width::UnicodeWidthStr;

use tcpscope::driver::{Mode, Playback};
use tcpscope::event::Event;
use tcpscope::fault::Rule;
use tcpscope::i18n::messages;
use tcpscope::scenario::{Lang, Overrides, Run, Scenario};
use tcpscope::time::Instant;
use tcpscope::ui::form::FaultForm;
use tcpscope::ui::model::{EntryKind, Fate, Model};
use tcpscope::ui::render;
use tcpscope::ui::theme::Theme;
use tcpscope::ui::view::{Focus, Popup, StatusLine, View};

/// Words that stay as they are in every language.
#[rustfmt::skip]
const KEPT: &[&str] = &[
    // Protocols, headers and their fields.
    "TCP", "IP", "IPv4", "IPv6", "RFC", "ISN", "TCB", "MSS", "MSL", "SACK", "SACK_PERM", "TS",
    "WS", "NOP", "val", "ecr", "DF", "ihl", "tos", "len", "id", "ttl", "proto", "csum", "tc",
    "seq", "ack", "win", "urg", "off",
    // RFC 9293's user calls (ABORT, USER TIMEOUT).
    "USER", "TIMEOUT", "ABORT",
    // Flags, and flag letters as the fault form takes them.
    "SYN", "ACK", "FIN", "RST", "PSH", "URG", "ECE", "CWR", "SA", "FA", "PA",
    // The sender's and receiver's variables, timers and algorithms.
    "SND", "RCV", "UNA", "NXT", "WND", "SND.UNA", "SND.NXT", "SND.WND", "RCV.NXT", "RCV.WND",
    "SRTT", "RTTVAR", "RTT", "RTO", "PTO", "TLP", "RACK", "RACK.rtt", "cwnd", "ssthresh",
    "rwnd", "pipe", "TSO", "GSO", "GRO", "HyStart", "CUBIC", "NewReno", "PRR", "Eifel",
    "tcp_fin_timeout", "tcp.analysis",
    // State names (SYN-SENT, TIME-WAIT, … are two words each).
    "CLOSED", "LISTEN", "SENT", "RCVD", "RECV", "ESTABLISHED", "ESTAB", "WAIT", "CLOSE",
    "CLOSING", "LAST", "TIME",
    // Keys.
    "Enter", "Esc", "Tab", "PgUp", "PgDn", "Home", "End",
    // Sizes.
    "KiB", "MiB",
    // Names.
    "tcpscope", "Linux", "Wireshark",
];

/// The words of `text` that could be English (see the module comment).
fn ascii_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .map(|w| w.trim_matches('.'))
        .filter(|w| {
            !w.starts_with(|c: char| c.is_ascii_digit())
                && w.chars().filter(char::is_ascii_alphabetic).count() >= 2
        })
}

/// Numbers with an English unit: `0.20s`, `20ms`, `4m02s` (not hex, and
/// not `1.5K`: K, M and G are the same in every language).
fn english_units(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .filter(|w| {
            w.starts_with(|c: char| c.is_ascii_digit())
                && !w.starts_with("0x")
                && w.contains(|c: char| c.is_ascii_alphabetic())
                && !w.ends_with(['K', 'M', 'G'])
        })
}

/// What is English in `text`: words neither kept nor in the `data`
/// strings (data may wrap over lines: its words are taken one by one);
/// words made of `marks` only are a plot's marks (`R`, `r`, `P`, `p`, `s`).
fn english(text: &str, data: &[&str], marks: &str) -> Vec<String> {
    let data: Vec<&str> = data.iter().flat_map(|d| ascii_words(d)).collect();
    ascii_words(text)
        .filter(|w| !KEPT.contains(w) && !data.contains(w) && !w.chars().all(|c| marks.contains(c)))
        .chain(english_units(text))
        .map(str::to_string)
        .collect()
}

fn events(name: &str, rules: Vec<Rule>, until: f64) -> Vec<Event> {
    let ov = Overrides {
        rules,
        lang: Some(Lang::Zh),
        ..Overrides::default()
    };
    let mut run = Run::new(Scenario::builtin(name).unwrap(), &ov);
    run.advance(Instant::from_secs_f64(until));
    run.take_events()
}

fn model(events: Vec<Event>) -> Model {
    let mut m = Model::new(true);
    m.ingest_all(events);
    m
}

/// The title bar's text, as the demo driver writes it: the scenario's name
/// (data: what `tcpscope demo NAME` takes) and its Chinese title.
fn clock(name: &str, now: f64) -> StatusLine {
    let sc = Scenario::builtin(name).unwrap();
    StatusLine {
        mode: Mode::Demo,
        title: format!("{name}: {}", sc.title_for(Lang::Zh)),
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
    rows(term, &[], false)
}

/// The screen's text, one line per row, with the cells inside `masks`
/// blanked and the hex dump's rows (bytes, not words) left out.
fn text(term: &Terminal<TestBackend>, masks: &[Rect]) -> String {
    rows(term, masks, true)
}

fn rows(term: &Terminal<TestBackend>, masks: &[Rect], no_hex: bool) -> String {
    let buf = term.backend().buffer();
    let mut s = String::new();
    for y in 0..buf.area.height {
        let mut row = String::new();
        let mut x = 0;
        while x < buf.area.width {
            let masked = masks
                .iter()
                .any(|r| x >= r.x && x < r.right() && y >= r.y && y < r.bottom());
            let symbol = buf[(x, y)].symbol();
            row.push_str(if masked { " " } else { symbol });
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

// TODO(i18n phase 2): the regions drawn by render/ladder.rs, render/side.rs
// and render/faults.rs (and the model's notes on the ladder) are not in the
// catalogue yet; they are blanked until they are, then this goes and every
// screen is checked whole.
fn phase_1_masks(v: &View, w: u16, h: u16) -> Vec<Rect> {
    let l = v.hits.ladder;
    let mut masks = vec![Rect::new(0, h.saturating_sub(2), w, 1)];
    if l.width > 0 {
        // The ladder, and the side panel to its right.
        masks.push(Rect::new(l.x, l.y, w - l.x, l.height));
    }
    masks
}

/// Assert that the screen holds no English, and that its Chinese spills
/// over no border.
fn assert_chinese(term: &Terminal<TestBackend>, masks: &[Rect], data: &[&str]) {
    assert_chinese_marked(term, masks, data, "");
}

fn assert_chinese_marked(term: &Terminal<TestBackend>, masks: &[Rect], data: &[&str], marks: &str) {
    let s = text(term, masks);
    let found = english(&s, data, marks);
    assert!(found.is_empty(), "English on the zh screen: {found:?}\n{s}");
    assert_borders_whole(term);
    // The check sees the screen: something Chinese is there.
    assert!(
        s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{s}"
    );
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
        let (term, v) = handshake(w, h);
        assert_chinese(&term, &phase_1_masks(&v, w, h), &["handshake"]);
        let s = screen(&term);
        assert!(s.contains("连接"), "{s}");
        assert!(s.contains("时间 0.600 秒"), "{s}");
        assert!(s.contains("? 帮助  q 退出  空格 运行"), "{s}");
        if (w, h) == (100, 30) {
            insta::assert_snapshot!("zh_handshake", term.backend());
        }
    }
}

#[test]
fn fault_form_in_chinese() {
    let m = model(events("handshake", vec![], 5.0));
    let mut v = view(Lang::Zh);
    let form = FaultForm::default();
    let rule = form.rule(messages(Lang::Zh)).unwrap().to_string();
    v.popup = Some(Popup::Form(form));
    let term = draw(&m, &mut v, &clock("handshake", 1.0), 100, 30);
    let s = screen(&term);
    assert!(s.contains("故障规则"), "{s}");
    // The labels' column is as wide as the widest, in columns.
    assert!(s.contains("▸ 方向         ◂ 入 ▸"), "{s}");
    assert!(s.contains("  延迟（毫秒） 500"), "{s}");
    // The rule's text form is the event schema's, in every language.
    assert!(s.contains(&format!("规则： {rule}")), "{s}");
    // The form covers the middle: what it hides needs no mask.
    let popup = Rect::new(17, 7, 66, 15);
    let masks: Vec<Rect> = phase_1_masks(&v, 100, 30)
        .into_iter()
        .flat_map(|r| around(r, popup))
        .collect();
    assert_chinese(&term, &masks, &["handshake", &rule]);
    insta::assert_snapshot!("zh_fault_form", term.backend());
}

/// `r` less `hole`, as up to four rectangles.
fn around(r: Rect, hole: Rect) -> Vec<Rect> {
    let i = r.intersection(hole);
    if i.is_empty() {
        return vec![r];
    }
    [
        Rect::new(r.x, r.y, r.width, i.y - r.y),
        Rect::new(r.x, i.bottom(), r.width, r.bottom() - i.bottom()),
        Rect::new(r.x, i.y, i.x - r.x, i.height),
        Rect::new(i.right(), i.y, r.right() - i.right(), i.height),
    ]
    .into_iter()
    .filter(|r| !r.is_empty())
    .collect()
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
        let masks = phase_1_masks(&v, w, h);
        assert_chinese_marked(&term, &masks, &["bulk-with-loss"], "RrPps");
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
    assert!(s.contains("去向     0.520 被丢弃：注入器丢弃（规则"), "{s}");
    assert!(s.contains(" seq 1738427576（相对 0）"), "{s}");
    assert!(s.contains("0000 45 00 00 3c"), "the hex dump is drawn: {s}");
    // The detail pane takes the side panel's place: only the ladder and the
    // fault bar are masked.
    let l = v.hits.ladder;
    let masks = [Rect::new(0, 38, 120, 1), l];
    assert_chinese(&term, &masks, &["handshake", "drop out SA next 1"]);
}

#[test]
fn too_small_in_chinese() {
    let m = model(vec![]);
    let mut v = view(Lang::Zh);
    let term = draw(&m, &mut v, &clock("handshake", 0.0), 60, 20);
    let s = screen(&term);
    assert!(s.contains("终端大小为 60×20"), "{s}");
    assert_chinese(&term, &[], &[]);
}

// TODO(i18n phase 2): render/help.rs and the help text in keys.rs.
#[test]
#[ignore = "the help popup is drawn by help.rs from keys.rs: i18n phase 2"]
fn help_popup_in_chinese() {
    let m = model(events("handshake", vec![], 5.0));
    let mut v = view(Lang::Zh);
    v.popup = Some(Popup::Help);
    let term = draw(&m, &mut v, &clock("handshake", 1.0), 80, 24);
    assert_chinese(&term, &[], &["handshake"]);
}

/// The check is not vacuous: the same screen in English is full of
/// English words, and numbers with English units.
#[test]
fn the_check_finds_english_on_an_english_screen() {
    let m = model(events("handshake", vec![], 5.0));
    let mut v = view(Lang::En);
    let term = draw(&m, &mut v, &clock("handshake", 0.6), 100, 30);
    let masks = phase_1_masks(&v, 100, 30);
    let found = english(&text(&term, &masks), &["handshake"], "");
    for want in [
        "Connections",
        "Connection",
        "help",
        "quit",
        "Narration",
        "0.60s",
    ] {
        assert!(found.iter().any(|w| w == want), "{want}: {found:?}");
    }
}

/// Every Chinese message, with sample arguments, is Chinese but for the
/// kept words and the input syntax it shows (`in=10,out=5`, an address).
#[test]
fn the_chinese_catalogue_has_no_english() {
    let syntax: &[(&str, &[&str])] = &[
        ("prompt_loss_help", &["in", "out"]),
        ("write_in_out", &["in", "out"]),
        ("not_in_or_out", &["in", "out"]),
        ("prompt_connect_help", &["fd77"]),
        ("not_ip_port", &["fd77"]),
    ];
    let zh = messages(Lang::Zh).all();
    let en = messages(Lang::En).all();
    assert_eq!(zh.len(), en.len());
    let mut bad = Vec::new();
    for ((name, text), (en_name, _)) in zh.iter().zip(&en) {
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
    assert!(bad.is_empty(), "{bad:#?}");
}
