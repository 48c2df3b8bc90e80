//! Screenshots for slides: a frame as SVG (`ui::svg`), `--screenshot
//! FILE.svg` without a terminal, and the `S` key in a real one (tmux).
//!
//! Every SVG here is parsed as XML (roxmltree) and read back: the text of
//! its `<text>` elements, put at their columns, is the frame's text.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use tcpscope::driver::{Mode, Playback};
use tcpscope::scenario::{Overrides, Run, Scenario};
use tcpscope::time::Instant;
use tcpscope::ui::model::Model;
use tcpscope::ui::render;
use tcpscope::ui::svg::{self, Palette};
use tcpscope::ui::theme::Theme;
use tcpscope::ui::view::{StatusLine, View};

mod common;

/// Width of a cell in the SVG (the renderer's `CELL_W`).
const CELL_W: f64 = 8.4;

fn handshake_frame(theme: Theme) -> Buffer {
    let mut run = Run::new(
        Scenario::builtin("handshake").unwrap(),
        &Overrides::default(),
    );
    run.advance(Instant::from_secs_f64(5.0));
    let mut m = Model::new(true);
    m.ingest_all(run.take_events());
    let clock = StatusLine {
        mode: Mode::Demo,
        title: "handshake: The three-way handshake".into(),
        now: 0.6,
        playback: Playback {
            speed: Some(1.0),
            paused: true,
            walkthrough: false,
            progress: None,
            ..Playback::default()
        },
        finished: false,
    };
    let mut view = View::new(theme);
    let mut term = Terminal::new(TestBackend::new(100, 30)).unwrap();
    term.draw(|f| render::draw(f, &m, &mut view, &clock))
        .unwrap();
    term.backend().buffer().clone()
}

/// The frame's rows, as a terminal shows them (trailing blanks cut).
fn rows_of(buf: &Buffer) -> Vec<String> {
    (0..buf.area.height)
        .map(|y| {
            let mut s = String::new();
            let mut skip = 0usize;
            for x in 0..buf.area.width {
                let sym = buf[(x, y)].symbol();
                if skip == 0 {
                    s.push_str(sym);
                    skip = unicode_width::UnicodeWidthStr::width(sym).max(1);
                }
                skip -= 1;
            }
            s.trim_end().to_string()
        })
        .collect()
}

/// Parse `svg` (panics when it is not well-formed XML) and return its
/// `<text>` elements' contents, and the rows they make when each is put at
/// its column (`x / CELL_W`), row by row (`y`).
fn read_svg(svg: &str) -> (Vec<String>, Vec<String>) {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}\n{svg}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    let mut texts = Vec::new();
    let mut rows: Vec<(f64, Vec<(usize, String)>)> = Vec::new();
    for n in doc.descendants().filter(|n| n.has_tag_name("text")) {
        let t = n.text().unwrap_or("").to_string();
        let x: f64 = n.attribute("x").unwrap().parse().unwrap();
        let y: f64 = n.attribute("y").unwrap().parse().unwrap();
        let col = (x / CELL_W).round() as usize;
        match rows.iter_mut().find(|(ry, _)| (*ry - y).abs() < 0.01) {
            Some((_, r)) => r.push((col, t.clone())),
            None => rows.push((y, vec![(col, t.clone())])),
        }
        texts.push(t);
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let lines = rows
        .into_iter()
        .map(|(_, mut runs)| {
            runs.sort_by_key(|r| r.0);
            let mut line = String::new();
            let mut col = 0usize;
            for (c, t) in runs {
                while col < c {
                    line.push(' ');
                    col += 1;
                }
                col += unicode_width::UnicodeWidthStr::width(t.as_str());
                line.push_str(&t);
            }
            line.trim_end().to_string()
        })
        .collect();
    (texts, lines)
}

#[test]
fn the_svg_of_a_frame_is_xml_with_the_frames_text() {
    let buf = handshake_frame(Theme::COLOR);
    let svg = svg::render(&buf, &Palette::DARK);
    let (texts, lines) = read_svg(&svg);
    // Exact strings of the frame, each one `<text>` (one style).
    for s in [
        "SYN+ACK seq 0 ack 1 win 65535",
        "ESTABLISHED",
        "MSS 1460 · SACK · TS · WS 3",
    ] {
        assert!(
            texts.iter().any(|t| t.contains(s)),
            "{s:?} is the text of an element: {texts:?}"
        );
    }
    // Put back at their columns, the runs are the frame, row for row.
    let frame: Vec<String> = rows_of(&buf)
        .into_iter()
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines, frame);
    // Colours: the theme's cyan title, the selected row's background.
    assert!(svg.contains(&format!(
        "fill=\"#{:02x}{:02x}{:02x}\"",
        Palette::DARK.ansi[6].0,
        Palette::DARK.ansi[6].1,
        Palette::DARK.ansi[6].2
    )));
    assert!(svg.contains("fill=\"#283448\""), "selected row");
}

#[test]
fn without_colour_emphasis_survives_in_the_svg() {
    let buf = handshake_frame(Theme::MONO);
    let svg = svg::render(&buf, &Palette::DARK);
    let (_, lines) = read_svg(&svg);
    assert!(lines.iter().any(|l| l.contains("SYN+ACK")));
    assert!(svg.contains("font-weight=\"bold\""));
    // The selected row is reversed: light behind, dark text.
    assert!(svg.contains("fill=\"#cccccc\"/>"), "{svg}");
}

// ----- the command line --------------------------------------------------------

fn tcpscope(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .args(args)
        .current_dir(dir)
        .env("LANG", "C")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .expect("run tcpscope")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tcpscope-shot-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn screenshot_flag_writes_the_frame_without_a_terminal() {
    let dir = scratch("demo");
    let out = tcpscope(
        &[
            "demo",
            "handshake",
            "--screenshot",
            "X.svg",
            "--duration",
            "0.6",
        ],
        &dir,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "nothing goes to the terminal");
    let svg = std::fs::read_to_string(dir.join("X.svg")).unwrap();
    let (texts, lines) = read_svg(&svg);
    assert!(texts.iter().any(|t| t.contains("SYN+ACK")), "{texts:?}");
    assert!(
        lines[0].contains("t 0.600 s"),
        "at --duration: {}",
        lines[0]
    );
    assert!(svg.contains("width=\"1008\" height=\"680\""));

    // Another size, and the same command draws the same picture.
    let out = tcpscope(
        &[
            "demo",
            "handshake",
            "--screenshot",
            "Y.svg",
            "--duration",
            "0.6",
            "--size",
            "100x30",
        ],
        &dir,
    );
    assert!(out.status.success());
    let y = std::fs::read_to_string(dir.join("Y.svg")).unwrap();
    assert!(y.contains("width=\"840\" height=\"510\""));
    tcpscope(
        &[
            "demo",
            "handshake",
            "--screenshot",
            "Z.svg",
            "--duration",
            "0.6",
        ],
        &dir,
    );
    assert_eq!(std::fs::read_to_string(dir.join("Z.svg")).unwrap(), svg);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--lang zh`: the frame's own words are Chinese, as the narration is.
#[test]
fn screenshot_follows_lang() {
    let dir = scratch("zh");
    let out = tcpscope(
        &[
            "demo",
            "handshake",
            "--lang",
            "zh",
            "--screenshot",
            "X.svg",
            "--duration",
            "0.6",
            "--size",
            "80x24",
        ],
        &dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, lines) = read_svg(&std::fs::read_to_string(dir.join("X.svg")).unwrap());
    let all = lines.join("\n");
    assert!(lines[0].contains("演示"), "{all}");
    assert!(lines[0].contains("时间 0.600 秒"), "{all}");
    assert!(all.contains("┌ 讲解 · 第 7 步"), "{all}");
    assert!(all.contains("? 帮助  q 退出"), "{all}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn screenshot_of_a_replay() {
    let dir = scratch("replay");
    let out = tcpscope(
        &[
            "demo",
            "handshake",
            "--headless",
            "--events",
            "/dev/null",
            "--record",
            "h.rec",
            "--duration",
            "3",
        ],
        &dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // No --duration: the end of the recording.
    let out = tcpscope(&["replay", "h.rec", "--screenshot", "end.svg"], &dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, lines) = read_svg(&std::fs::read_to_string(dir.join("end.svg")).unwrap());
    assert!(lines[0].contains("replay"), "{}", lines[0]);
    assert!(lines.iter().any(|l| l.contains("ESTABLISHED")));
    // With --duration, the moment asked for: only the SYN has left at 0.505.
    let out = tcpscope(
        &[
            "replay",
            "h.rec",
            "--screenshot",
            "early.svg",
            "--duration",
            "0.505",
        ],
        &dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (texts, _) = read_svg(&std::fs::read_to_string(dir.join("early.svg")).unwrap());
    assert!(texts.iter().any(|t| t.contains("SYN seq 0")), "{texts:?}");
    assert!(
        !texts.iter().any(|t| t.contains("SYN+ACK seq")),
        "{texts:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The picture in docs/captures.md (Screenshots for slides) is one this
/// command made.
#[test]
fn the_readme_screenshot_is_a_tail_loss_frame() {
    let svg = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/tail-loss.svg"))
        .unwrap();
    let (texts, lines) = read_svg(&svg);
    assert!(lines[0].contains("tail-loss") && lines[0].contains("t 1.100 s"));
    assert!(texts.iter().any(|t| t.contains("TLP")), "{texts:?}");
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/captures.md")).unwrap();
    assert!(doc.contains(
        "tcpscope demo tail-loss --lang en --screenshot assets/tail-loss.svg --duration 1.1"
    ));
    assert!(doc.contains("](../assets/tail-loss.svg)"));
}

/// The README's picture (docs/tour.svg) is the tour's first stop, made by
/// the command docs/captures.md gives: the handshake on the ladder and the
/// narration of its last ACK.
#[test]
fn the_readme_picture_is_the_tours_handshake() {
    let svg =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/tour.svg")).unwrap();
    let (texts, lines) = read_svg(&svg);
    assert!(lines[0].contains("tour") && lines[0].contains("t 0.600 s"));
    for want in ["SYN seq 0", "SYN+ACK seq 0 ack 1", "ACK seq 1 ack 1"] {
        assert!(
            texts.iter().any(|t| t.contains(want)),
            "no {want:?} in {texts:?}"
        );
    }
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/captures.md")).unwrap();
    assert!(doc.contains(
        "tcpscope demo tour --lang en --screenshot docs/tour.svg --duration 0.6 --size 120x36"
    ));
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(readme.contains("](docs/tour.svg)"));
}

/// One sentence on stderr, exit status 1.
fn fails(args: &[&str], needle: &str) {
    let dir = std::env::temp_dir();
    let out = tcpscope(args, &dir);
    assert_eq!(out.status.code(), Some(1), "{args:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one sentence: {err}");
    assert!(err.starts_with("tcpscope: "), "{err}");
    assert!(err.contains(needle), "{args:?}: {err}");
}

#[test]
fn screenshot_mistakes_are_one_sentence() {
    fails(
        &[
            "demo",
            "handshake",
            "--screenshot",
            "/nonexistent/dir/x.svg",
            "--duration",
            "0.6",
        ],
        "cannot write the screenshot /nonexistent/dir/x.svg",
    );
    fails(
        &["demo", "handshake", "--screenshot", "x.svg"],
        "--screenshot needs --duration",
    );
    fails(
        &["demo", "handshake", "--screenshot", "x.svg", "--headless"],
        "leave out --headless",
    );
    fails(&["live", "--screenshot", "x.svg"], "in live mode press S");
    fails(&["demo", "--size", "100x30"], "give --screenshot");
}

#[test]
fn a_bad_size_is_refused_by_the_parser() {
    let out = tcpscope(
        &["demo", "--screenshot", "x.svg", "--size", "60x20"],
        &std::env::temp_dir(),
    );
    assert_eq!(out.status.code(), Some(2), "clap's usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 80x24"));
}

#[test]
fn s_is_the_screenshot_key_and_help_lists_it() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use tcpscope::driver::demo::DemoDriver;
    use tcpscope::ui::keys::{self, HELP, KeyAction};

    let s = KeyEvent::new(KeyCode::Char('S'), KeyModifiers::SHIFT);
    assert_eq!(keys::action(&s), Some(KeyAction::Screenshot));
    assert!(
        HELP.iter()
            .flat_map(|(_, b)| b.iter())
            .any(|b| b.keys == "S" && b.action == KeyAction::Screenshot)
    );
    // The view asks the loop for the next frame; nothing else changes.
    let mut driver = DemoDriver::new(
        Scenario::builtin("handshake").unwrap(),
        Overrides::default(),
    )
    .paused();
    let model = Model::new(true);
    let mut view = View::new(Theme::COLOR);
    view.key(s, &model, &mut driver);
    assert!(view.screenshot);
    assert_eq!(view.status, None);
}

// ----- the S key in a real terminal ------------------------------------------

#[test]
fn the_s_key_writes_the_screen_and_says_so() {
    use common::tmux::Tmux;
    if let Err(why) = Tmux::available() {
        if std::env::var("TCPSCOPE_REQUIRE_NETNS").as_deref() == Ok("1") {
            panic!("TCPSCOPE_REQUIRE_NETNS=1 and {why}: this test must run");
        }
        eprintln!("skipping the S key test: {why}");
        return;
    }
    let dir = scratch("key");
    let bin = env!("CARGO_BIN_EXE_tcpscope");
    let script = format!(
        "cd '{}' && '{bin}' demo handshake --lang en; echo \"EXITED:$?\"; sleep 60",
        dir.display()
    );
    let tmux = Tmux::start("shot", 100, 30, &script);
    tmux.wait_for("the handshake", |s| s.contains("ESTABLISHED"));
    tmux.keys(&["p"]);
    tmux.keys(&["S"]);
    let s = tmux.wait_for("the status line", |s| {
        s.contains("screenshot written to tcpscope-")
    });
    let name = s
        .split("screenshot written to ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .to_string();
    assert!(
        name.starts_with("tcpscope-") && name.ends_with(".svg"),
        "{name}"
    );
    let svg = std::fs::read_to_string(dir.join(&name)).unwrap();
    let (texts, lines) = read_svg(&svg);
    assert!(texts.iter().any(|t| t.contains("SYN+ACK")), "{texts:?}");
    assert!(
        svg.contains("width=\"840\" height=\"510\""),
        "the pane's 100×30"
    );
    // The frame on screen when S was pressed: the pane's first row, as
    // tmux shows it, is the SVG's.
    let screen = tmux.screen();
    assert_eq!(lines[0], screen.lines().next().unwrap().trim_end());
    tmux.keys(&["q"]);
    tmux.wait_for("the program to exit", |s| s.contains("EXITED:0"));
    std::fs::remove_dir_all(&dir).unwrap();
}
