//! Which command each key (and click) produces, against a driver that only
//! records what it is told, with a model built from a real engine run.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use tcpscope::driver::{Command, ConnRef, Driver, Mode, Playback};
use tcpscope::event::{Dir, Event};
use tcpscope::fault::{Action, DirMatch, Rule};
use tcpscope::scenario::{Overrides, Run, Scenario};
use tcpscope::time::Instant;
use tcpscope::ui::model::Model;
use tcpscope::ui::render;
use tcpscope::ui::theme::Theme;
use tcpscope::ui::view::{Focus, Popup, StatusLine, View};
use tcpscope::wire::Flags;

struct Fake {
    mode: Mode,
    playback: Playback,
    sent: Vec<Command>,
    walkthrough: Option<bool>,
}

impl Fake {
    fn new(mode: Mode) -> Fake {
        Fake {
            mode,
            playback: Playback {
                speed: (mode != Mode::Live).then_some(0.5),
                ..Playback::default()
            },
            sent: Vec::new(),
            walkthrough: None,
        }
    }
}

impl Driver for Fake {
    fn mode(&self) -> Mode {
        self.mode
    }
    fn title(&self) -> String {
        "fake".into()
    }
    fn poll(&mut self) -> Vec<Event> {
        Vec::new()
    }
    fn now(&self) -> f64 {
        5.0
    }
    fn next_wake(&self) -> Option<std::time::Duration> {
        None
    }
    fn command(&mut self, cmd: Command) -> Result<String, String> {
        self.sent.push(cmd);
        Ok("ok".into())
    }
    fn finished(&self) -> bool {
        false
    }
    fn playback(&self) -> Playback {
        self.playback.clone()
    }
    fn set_walkthrough(&mut self, on: bool) -> Result<String, String> {
        self.walkthrough = Some(on);
        Ok("walkthrough".into())
    }
}

fn handshake_model() -> Model {
    let mut run = Run::new(
        Scenario::builtin("handshake").unwrap(),
        &Overrides::default(),
    );
    run.advance(Instant::from_secs_f64(5.0));
    let mut m = Model::new(true);
    m.ingest_all(run.take_events());
    m
}

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn press(view: &mut View, m: &Model, d: &mut Fake, keys: &[KeyCode]) {
    for k in keys {
        view.key(key(*k), m, d);
    }
}

fn setup(mode: Mode) -> (Model, View, Fake) {
    let m = handshake_model();
    let mut v = View::new(Theme::COLOR);
    v.sync(&m);
    (m, v, Fake::new(mode))
}

fn client_conn() -> ConnRef {
    ConnRef {
        host: Some("client".into()),
        conn: "10.0.0.1:63359<->10.0.0.2:80".into(),
    }
}

#[test]
fn fault_keys_send_injector_commands() {
    let (m, mut v, mut d) = setup(Mode::Demo);
    use KeyCode::Char;
    press(
        &mut v,
        &m,
        &mut d,
        &[Char('d'), Char('D'), Char('h'), Char('r'), Char('F')],
    );
    assert_eq!(
        d.sent,
        [
            Command::DropNext(Dir::In),
            Command::DropNext(Dir::Out),
            Command::HoldAll(true),
            Command::ReleaseAll,
            Command::ClearRules,
        ]
    );
}

#[test]
fn loss_prompt_parses_rates() {
    let (m, mut v, mut d) = setup(Mode::Demo);
    use KeyCode::*;
    press(
        &mut v,
        &m,
        &mut d,
        &[Char('l'), Char('2'), Char('0'), Enter],
    );
    press(&mut v, &m, &mut d, &[Char('l')]);
    for c in "in=5,out=1".chars() {
        press(&mut v, &m, &mut d, &[Char(c)]);
    }
    press(&mut v, &m, &mut d, &[Enter]);
    // A bad value keeps the prompt open with the reason and sends nothing.
    press(&mut v, &m, &mut d, &[Char('l'), Char('x'), Enter]);
    assert_eq!(
        d.sent,
        [
            Command::SetLoss {
                inbound: 20.0,
                outbound: 20.0
            },
            Command::SetLoss {
                inbound: 5.0,
                outbound: 1.0
            },
        ]
    );
    let Some(Popup::Prompt(p)) = &v.popup else {
        panic!("prompt still open")
    };
    assert_eq!(
        p.error.as_deref(),
        Some("\"x\" is not a percentage from 0 to 100")
    );
    press(&mut v, &m, &mut d, &[Esc]);
    assert!(v.popup.is_none());
}

#[test]
fn the_form_adds_the_rule_it_shows() {
    let (m, mut v, mut d) = setup(Mode::Demo);
    use KeyCode::*;
    // f, direction out, flags SA, action hold, Enter.
    press(
        &mut v,
        &m,
        &mut d,
        &[
            Char('f'),
            Right,
            Down,
            Char('S'),
            Char('A'),
            Down,
            Down,
            Down,
            Down,
            Down,
            Right,
            Enter,
        ],
    );
    let want = Rule {
        action: Action::Hold,
        ..Rule::drop_next(DirMatch::Out, Some(Flags::SYN | Flags::ACK), 1)
    };
    // The form paused the running demo while it was open (issue 19).
    assert_eq!(
        d.sent,
        [
            Command::Pause(true),
            Command::AddRule(want),
            Command::Pause(false)
        ]
    );
    assert!(v.popup.is_none());
}

#[test]
fn connection_keys_name_the_selected_connection_and_side() {
    let (m, mut v, mut d) = setup(Mode::Demo);
    use KeyCode::Char;
    press(&mut v, &m, &mut d, &[Char('x'), Char('a'), Char('K')]);
    // v: act as the server from now on.
    press(&mut v, &m, &mut d, &[Char('v'), Char('x')]);
    let server = ConnRef {
        host: Some("server".into()),
        conn: "10.0.0.2:80<->10.0.0.1:63359".into(),
    };
    assert_eq!(
        d.sent,
        [
            Command::Close(client_conn()),
            Command::Abort(client_conn()),
            Command::Keepalive(client_conn(), true),
            Command::Close(server),
        ]
    );
}

#[test]
fn a_listener_cannot_be_closed_from_here() {
    let (m, mut v, mut d) = setup(Mode::Demo);
    press(&mut v, &m, &mut d, &[KeyCode::Up, KeyCode::Char('x')]);
    assert!(d.sent.is_empty());
    let s = v.status.as_ref().unwrap();
    assert!(s.error && s.text.contains("listening socket"), "{s:?}");
}

#[test]
fn space_means_release_then_step_then_pause() {
    use KeyCode::Char;
    // Demo, running: space pauses.
    let (m, mut v, mut d) = setup(Mode::Demo);
    press(&mut v, &m, &mut d, &[Char(' ')]);
    assert_eq!(d.sent, [Command::Pause(true)]);
    // Walkthrough: space is the next step, backspace the previous one.
    let (m, mut v, mut d) = setup(Mode::Demo);
    d.playback.walkthrough = true;
    press(&mut v, &m, &mut d, &[Char(' '), KeyCode::Backspace]);
    assert_eq!(d.sent, [Command::StepForward, Command::StepBack]);
    // Replay: space steps.
    let (m, mut v, mut d) = setup(Mode::Replay);
    press(&mut v, &m, &mut d, &[Char(' ')]);
    assert_eq!(d.sent, [Command::StepForward]);
    // Something held: space releases it, whatever the mode.
    let mut held = handshake_model();
    let hold = Event::from_json(r#"{"t":6.0,"host":"server","conn":"10.0.0.2:80<->10.0.0.1:63359","kind":"hold","dir":"out","id":99,"flags":["ACK"],"seq":1,"ack":1,"len":0,"win":10,"opts":[]}"#).unwrap();
    held.ingest(hold);
    let mut v = View::new(Theme::COLOR);
    let mut d = Fake::new(Mode::Replay);
    press(&mut v, &held, &mut d, &[Char(' ')]);
    assert_eq!(d.sent, [Command::ReleaseOne]);
}

#[test]
fn time_keys_scale_step_and_seek() {
    let (m, mut v, mut d) = setup(Mode::Demo);
    use KeyCode::Char;
    press(
        &mut v,
        &m,
        &mut d,
        &[
            Char('t'),
            Char('T'),
            Char('p'),
            Char('.'),
            Char(']'),
            Char('{'),
        ],
    );
    assert_eq!(
        d.sent,
        [
            Command::TimeScale(1.0),
            Command::TimeScale(0.25),
            Command::Pause(true),
            Command::StepForward,
            Command::Seek(15.0),
            Command::Seek(0.0),
        ]
    );
    press(&mut v, &m, &mut d, &[Char('s')]);
    assert_eq!(d.walkthrough, Some(true));
}

#[test]
fn keys_that_make_no_sense_in_a_mode_say_so() {
    use KeyCode::*;
    // Live: no timeline to scale or step.
    let (m, mut v, mut d) = setup(Mode::Live);
    for k in [Char('t'), Char('p'), Backspace, Char('s'), Char(']')] {
        press(&mut v, &m, &mut d, &[k]);
        let s = v.status.take().unwrap();
        assert!(
            s.error && s.text.starts_with("live traffic runs in real time"),
            "{k:?}: {s:?}"
        );
    }
    assert!(d.sent.is_empty());
    // Demo: c opens no prompt.
    let (m, mut v, mut d) = setup(Mode::Demo);
    press(&mut v, &m, &mut d, &[Char('c')]);
    assert!(v.popup.is_none());
    assert!(
        v.status
            .unwrap()
            .text
            .starts_with("c (connect) works in live mode")
    );
    // Replay: no faults.
    let (m, mut v, mut d) = setup(Mode::Replay);
    press(&mut v, &m, &mut d, &[Char('f')]);
    assert!(v.popup.is_none());
    assert!(v.status.unwrap().text.contains("only plays back"));
}

#[test]
fn connect_in_live_mode_takes_an_address() {
    let (m, mut v, mut d) = setup(Mode::Live);
    use KeyCode::*;
    press(&mut v, &m, &mut d, &[Char('c')]);
    for c in "10.77.0.1:8080".chars() {
        press(&mut v, &m, &mut d, &[Char(c)]);
    }
    press(&mut v, &m, &mut d, &[Enter]);
    assert_eq!(
        d.sent,
        [Command::Connect("10.77.0.1:8080".parse().unwrap())]
    );
}

#[test]
fn help_again_turns_to_the_ladder_notation() {
    let (m, mut v, mut d) = setup(Mode::Demo);
    use KeyCode::*;
    press(&mut v, &m, &mut d, &[Char('?')]);
    assert_eq!(
        (v.popup.clone(), v.help_notation),
        (Some(Popup::Help), false)
    );
    press(&mut v, &m, &mut d, &[Char('?')]);
    assert_eq!(
        (v.popup.clone(), v.help_notation),
        (Some(Popup::Help), true)
    );
    press(&mut v, &m, &mut d, &[Char('?')]);
    assert_eq!(v.popup, None, "the last page: any key closes it");
    press(&mut v, &m, &mut d, &[F(1)]);
    assert_eq!(
        (v.popup.clone(), v.help_notation),
        (Some(Popup::Help), false)
    );
    press(&mut v, &m, &mut d, &[Char('d')]);
    assert_eq!(v.popup, None);
    assert!(d.sent.is_empty(), "keys in help do nothing else");
}

#[test]
fn selection_filter_help_and_quit() {
    let (m, mut v, mut d) = setup(Mode::Demo);
    use KeyCode::*;
    let conn = v.selected;
    press(&mut v, &m, &mut d, &[Up]);
    assert_ne!(v.selected, conn, "↑ selects the listener above");
    assert!(!v.follow);
    press(&mut v, &m, &mut d, &[Char('G')]);
    assert_eq!(v.selected, conn, "G follows the newest connection again");
    press(&mut v, &m, &mut d, &[Char('/')]);
    for c in "listen".chars() {
        press(&mut v, &m, &mut d, &[Char(c)]);
    }
    press(&mut v, &m, &mut d, &[Enter]);
    assert_eq!(
        v.visible(&m).len(),
        1,
        "only the listener matches \"listen\""
    );
    press(&mut v, &m, &mut d, &[Esc]);
    assert!(v.filter.is_empty());
    press(&mut v, &m, &mut d, &[Tab, Enter]);
    assert_eq!(v.focus, Focus::Ladder);
    assert!(v.detail, "Enter opens the newest arrow");
    press(&mut v, &m, &mut d, &[Char('?')]);
    assert_eq!(v.popup, Some(Popup::Help));
    press(&mut v, &m, &mut d, &[Char('x')]);
    assert_eq!(v.popup, None, "any key closes help, and does nothing else");
    assert!(d.sent.is_empty());
    v.key(KeyEvent::new(Char('c'), KeyModifiers::CONTROL), &m, &mut d);
    assert!(v.quit);
}

#[test]
fn clicks_select_what_is_under_them() {
    let (m, mut v, mut d) = setup(Mode::Demo);
    let clock = StatusLine::of(&d);
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    term.draw(|f| render::draw(f, &m, &mut v, &clock)).unwrap();
    let (y, listener) = v.hits.conn_rows[0];
    let click = |x, y| MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: x,
        row: y,
        modifiers: KeyModifiers::NONE,
    };
    v.mouse(click(5, y), &m);
    assert_eq!(v.selected, Some(listener));
    // Back to the connection, then click an arrow twice: selected, then opened.
    v.key(key(KeyCode::Char('G')), &m, &mut d);
    term.draw(|f| render::draw(f, &m, &mut v, &clock)).unwrap();
    let (ay, seq) = v.hits.ladder_rows[2];
    v.mouse(click(20, ay), &m);
    assert_eq!(
        (v.focus, v.ladder_sel, v.detail),
        (Focus::Ladder, Some(seq), false)
    );
    v.mouse(click(20, ay), &m);
    assert!(v.detail);
    assert!(d.sent.is_empty());
}

/// A key the config file rebinds works in the key handler and shows in the
/// help popup and the hint line, which are drawn from the same key map.
#[test]
fn a_rebound_key_works_and_help_and_hints_show_it() {
    let f = tcpscope::config::parse(
        std::path::Path::new("config.toml"),
        "[keys]\ndrop_in = \"X\"\nzoom = [\"Z\", \"F2\"]\n",
    )
    .unwrap();
    let (m, v, mut d) = setup(Mode::Demo);
    let mut v = v.with_keys(f.keys);
    use KeyCode::Char;
    press(&mut v, &m, &mut d, &[Char('d')]);
    assert!(d.sent.is_empty(), "d no longer drops: {:?}", d.sent);
    press(&mut v, &m, &mut d, &[Char('X')]);
    assert_eq!(d.sent, [Command::DropNext(Dir::In)]);
    press(&mut v, &m, &mut d, &[Char('z')]);
    assert_eq!(v.zoom, None, "z is not zoom any more");
    press(&mut v, &m, &mut d, &[KeyCode::F(2)]);
    assert!(v.zoom.is_some(), "F2 zooms");
    press(&mut v, &m, &mut d, &[Char('Z')]);
    assert_eq!(v.zoom, None, "and Z zooms back");

    let clock = StatusLine {
        mode: Mode::Demo,
        title: "fake".into(),
        now: 5.0,
        playback: Playback::default(),
        finished: false,
    };
    v.status = None;
    // Wide enough for the demo's hints up to the drop keys (`s step mode`
    // comes first).
    let mut term = Terminal::new(TestBackend::new(120, 30)).unwrap();
    term.draw(|f| render::draw(f, &m, &mut v, &clock)).unwrap();
    let s = format!("{}", term.backend());
    assert!(s.contains("X/D drop in/out"), "the hint line:\n{s}");
    v.popup = Some(Popup::Help);
    term.draw(|f| render::draw(f, &m, &mut v, &clock)).unwrap();
    let s = format!("{}", term.backend());
    assert!(
        s.contains(" X  D      drop next in / outbound"),
        "help:\n{s}"
    );
    assert!(s.contains(" Z F2      zoom the pane ⇄ back"), "help:\n{s}");
    assert!(
        s.contains(" g  G "),
        "unchanged lines keep their text:\n{s}"
    );
}

#[test]
fn z_zooms_tab_goes_through_the_panes_and_esc_comes_back() {
    use tcpscope::ui::view::Pane;
    let (m, mut v, mut d) = setup(Mode::Demo);
    press(&mut v, &m, &mut d, &[KeyCode::Char('z')]);
    assert_eq!(v.zoom, Some(Pane::Ladder));
    assert_eq!(v.focus, Focus::Ladder, "↑ ↓ move through the ladder");
    for want in [Pane::Tcb, Pane::Timers, Pane::Keepalive, Pane::Ladder] {
        press(&mut v, &m, &mut d, &[KeyCode::Tab]);
        assert_eq!(v.zoom, Some(want));
    }
    press(&mut v, &m, &mut d, &[KeyCode::BackTab]);
    assert_eq!(v.zoom, Some(Pane::Keepalive));
    press(&mut v, &m, &mut d, &[KeyCode::Esc]);
    assert_eq!(v.zoom, None);
    press(
        &mut v,
        &m,
        &mut d,
        &[KeyCode::Char('z'), KeyCode::Char('z')],
    );
    assert_eq!(v.zoom, None);
    assert!(d.sent.is_empty(), "zoom is the view's alone");
}

#[test]
fn w_shows_the_graph_and_w_again_the_ladder() {
    let (m, mut v, mut d) = setup(Mode::Demo);
    assert!(!v.graph);
    press(&mut v, &m, &mut d, &[KeyCode::Char('w')]);
    assert!(v.graph);
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let clock = StatusLine::of(&d);
    term.draw(|f| render::draw(f, &m, &mut v, &clock)).unwrap();
    let buf = term.backend().buffer();
    let s: String = buf.content().iter().map(|c| c.symbol()).collect();
    assert!(s.contains("Graph"), "{s}");
    press(&mut v, &m, &mut d, &[KeyCode::Char('w')]);
    assert!(!v.graph);
    assert!(d.sent.is_empty(), "the graph is the view's alone");
}

#[test]
fn plus_minus_zoom_and_arrows_pan_only_in_the_graph() {
    let (m, mut v, mut d) = setup(Mode::Demo);
    // Without the graph these keys do nothing at all.
    press(
        &mut v,
        &m,
        &mut d,
        &[KeyCode::Char('+'), KeyCode::Left, KeyCode::Char('-')],
    );
    assert_eq!((v.graph_zoom, v.graph_pan), (0, 0));
    press(&mut v, &m, &mut d, &[KeyCode::Char('w')]);
    press(&mut v, &m, &mut d, &[KeyCode::Left]);
    assert_eq!(v.graph_pan, 0, "nothing to pan at full view");
    press(
        &mut v,
        &m,
        &mut d,
        &[KeyCode::Char('+'), KeyCode::Char('+')],
    );
    assert_eq!(v.graph_zoom, 2);
    press(&mut v, &m, &mut d, &[KeyCode::Left, KeyCode::Left]);
    assert_eq!(v.graph_pan, 2);
    press(&mut v, &m, &mut d, &[KeyCode::Right]);
    assert_eq!(v.graph_pan, 1);
    press(&mut v, &m, &mut d, &[KeyCode::Right, KeyCode::Right]);
    assert_eq!(v.graph_pan, 0, "back at the live edge");
    press(
        &mut v,
        &m,
        &mut d,
        &[KeyCode::Char('-'), KeyCode::Char('-')],
    );
    assert_eq!(v.graph_zoom, 0);
    // The other keys keep their meaning while the graph is shown.
    press(&mut v, &m, &mut d, &[KeyCode::Char('n')]);
    assert!(v.absolute);
    press(&mut v, &m, &mut d, &[KeyCode::Char('d')]);
    assert_eq!(d.sent.len(), 1);
}

#[test]
fn fault_keys_in_a_viewer_of_a_shared_session_say_it_is_read_only() {
    use std::io::Write;
    use tcpscope::driver::attach::{self, AttachDriver};
    const READ_ONLY: &str = "read-only: this is a viewer of a shared session; faults, closes and connects belong to the tcpscope live that shares it";
    let dir = std::env::temp_dir().join(format!("tcpscope-keys-viewer-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s.sock");
    // A session that sends its header and then stays open.
    let l = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let server = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.write_all(b"{\"tcpscope_recording\":1,\"mode\":\"live\",\"title\":\"t\"}\n")
            .unwrap();
        s
    });
    let mut d = AttachDriver::new(attach::connect(&path).unwrap(), None, None);
    let _session = server.join().unwrap();
    let m = handshake_model();
    let mut v = View::new(Theme::COLOR);
    v.sync(&m);
    use KeyCode::*;
    let mut prompt = vec![Char('c')];
    prompt.extend("10.77.0.1:80".chars().map(Char));
    prompt.push(Enter);
    for keys in [
        vec![Char('d')],
        vec![Char('D')],
        vec![Char('h')],
        vec![Char('F')],
        vec![Char('x')],
        vec![Char('a')],
        vec![Char('K')],
        prompt,
    ] {
        for k in &keys {
            v.key(key(*k), &m, &mut d);
        }
        let s = v.status.take().expect("a status sentence");
        assert!(s.error, "{keys:?}");
        assert_eq!(s.text, READ_ONLY, "{keys:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 19: `f` pauses a running demo while the rule is written (the
/// segment it is meant for has not passed yet), and the demo runs on when
/// the form closes; live mode never pauses, and a paused demo stays so.
#[test]
fn the_fault_form_pauses_a_running_demo() {
    let (m, mut v, mut d) = setup(Mode::Demo);
    use KeyCode::{Char, Esc};
    press(&mut v, &m, &mut d, &[Char('f')]);
    assert!(matches!(v.popup, Some(Popup::Form(_))));
    assert_eq!(d.sent, [Command::Pause(true)]);
    press(&mut v, &m, &mut d, &[Esc]);
    assert_eq!(d.sent, [Command::Pause(true), Command::Pause(false)]);

    let (m, mut v, mut d) = setup(Mode::Demo);
    d.playback.paused = true;
    press(&mut v, &m, &mut d, &[Char('f'), Esc]);
    assert!(d.sent.is_empty(), "already paused: {:?}", d.sent);

    let (m, mut v, mut d) = setup(Mode::Live);
    press(&mut v, &m, &mut d, &[Char('f'), Esc]);
    assert!(d.sent.is_empty(), "live time is real: {:?}", d.sent);
}

/// Issue 19: `C` lists the lesson's chapters; Enter or a chapter's
/// number jumps to it; without chapters it says so.
#[test]
fn chapters_key_lists_and_jumps() {
    struct Chaptered(Fake);
    impl Driver for Chaptered {
        fn mode(&self) -> Mode {
            self.0.mode()
        }
        fn title(&self) -> String {
            self.0.title()
        }
        fn poll(&mut self) -> Vec<Event> {
            Vec::new()
        }
        fn now(&self) -> f64 {
            self.0.now()
        }
        fn next_wake(&self) -> Option<std::time::Duration> {
            None
        }
        fn command(&mut self, cmd: Command) -> Result<String, String> {
            self.0.command(cmd)
        }
        fn finished(&self) -> bool {
            false
        }
        fn chapters(&self) -> Vec<String> {
            vec!["1. One".into(), "2. Two".into(), "3. Three".into()]
        }
    }
    let (m, mut v, d) = setup(Mode::Demo);
    let mut d = Chaptered(d);
    use KeyCode::{Char, Down, Enter};
    for k in [Char('C'), Down, Enter] {
        v.key(key(k), &m, &mut d);
    }
    assert_eq!(d.0.sent, [Command::Chapter(1)]);
    for k in [Char('C'), Char('3')] {
        v.key(key(k), &m, &mut d);
    }
    assert_eq!(d.0.sent, [Command::Chapter(1), Command::Chapter(2)]);
    assert!(v.popup.is_none());

    let (m, mut v, mut d) = setup(Mode::Demo);
    press(&mut v, &m, &mut d, &[Char('C')]);
    assert!(v.popup.is_none());
    assert!(d.sent.is_empty());
    let s = v.status.as_ref().unwrap();
    assert!(s.error && s.text.contains("no chapters"), "{}", s.text);
}

/// Where nothing acts on the wire (`watch`, a viewer), the hint line
/// offers no fault or close keys; live mode with the stack offers them.
#[test]
fn a_read_only_view_offers_no_fault_keys() {
    let (m, mut v, _) = setup(Mode::Live);
    let hints = |v: &mut View, read_only: bool| {
        let clock = StatusLine {
            mode: Mode::Live,
            title: "watch".into(),
            now: 5.0,
            playback: Playback {
                read_only,
                ..Playback::default()
            },
            finished: false,
        };
        v.status = None;
        let mut term = Terminal::new(TestBackend::new(160, 30)).unwrap();
        term.draw(|f| render::draw(f, &m, v, &clock)).unwrap();
        let s = format!("{}", term.backend());
        s.lines().last().unwrap().to_string()
    };
    let live = hints(&mut v, false);
    assert!(
        live.contains("drop in/out") && live.contains("close/abort") && live.contains("connect"),
        "{live}"
    );
    let watch = hints(&mut v, true);
    assert!(
        watch.contains("help") && watch.contains("select"),
        "{watch}"
    );
    for k in ["drop in/out", "hold", "fault", "close/abort", "connect"] {
        assert!(!watch.contains(k), "{k} in {watch}");
    }
}
