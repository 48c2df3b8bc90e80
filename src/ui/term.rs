//! The event loop: terminal in, driver in, frames out.
//!
//! It owns the terminal and nothing else. Each turn: ask the driver whether
//! it rewound, take its new events into the model, read keys and mouse,
//! and draw when something changed. While time flows and something counts
//! down it draws 25 frames a second; otherwise it sleeps up to half a
//! second at a time (near-zero CPU), waking for input at once.
//!
//! The terminal is restored on every way out: `q`, Ctrl-C (a key in raw
//! mode), SIGINT/SIGTERM/SIGHUP (a flag checked each turn), the terminal
//! hanging up, an error, and a panic (ratatui's hook restores the screen;
//! ours, chained under it, turns mouse capture off).
//!
//! Keys and mouse are read on their own thread and arrive by channel.
//! crossterm 0.29 spins forever inside `event::poll`/`read` once the
//! terminal is gone (its read loop never leaves on EOF; crossterm issue
//! #793, fix pending in PR #1067), so a UI whose window was closed would
//! burn a core and never look at its signal flag. With the reader on a
//! thread of its own the loop keeps turning, sees the hang-up and exits;
//! the process exit ends the stuck reader.

use std::io::{IsTerminal, stdout};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event as TermEvent};
use crossterm::execute;

use super::keys::KeyMap;
use super::model::Model;
use super::render;
use super::screenshot;
use super::theme::Theme;
use super::view::{StatusLine, View};
use crate::driver::{Driver, Mode};
use crate::scenario::Lang;

/// Frame interval while something counts down.
pub const FRAME: Duration = Duration::from_millis(40);
/// Longest sleep when nothing moves (signals, hang-up, status expiry).
const IDLE: Duration = Duration::from_millis(500);
/// How long a status sentence stays up.
const STATUS_FOR: Duration = Duration::from_secs(6);

/// How the UI looks, which keys it answers and the language it speaks:
/// `--theme` and the config file's `theme` and `[keys]`, and `--lang`.
#[derive(Clone, Debug)]
pub struct UiSettings {
    pub theme: Theme,
    pub keys: KeyMap,
    pub lang: Lang,
}

impl Default for UiSettings {
    /// Dark (mono under `NO_COLOR`), today's keys, the locale's language.
    fn default() -> UiSettings {
        UiSettings {
            theme: Theme::from_env(),
            keys: KeyMap::default(),
            lang: Lang::from_env(),
        }
    }
}

/// Run the UI until the person quits, a signal asks us to stop, or the
/// terminal goes away.
pub fn run(driver: &mut dyn Driver) -> Result<(), String> {
    run_with(driver, UiSettings::default())
}

/// [`run`] with a theme and keys.
pub fn run_with(driver: &mut dyn Driver, settings: UiSettings) -> Result<(), String> {
    if !stdout().is_terminal() {
        return Err(
            "the terminal UI needs a terminal: run it in one, or use --headless to print events"
                .into(),
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .map_err(|e| format!("cannot watch for signals: {e}"))?;
    }
    // Our hook first, so that ratatui's (installed by try_init) runs before
    // it and the screen is back to normal when the panic message prints.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(stdout(), DisableMouseCapture);
        previous(info);
    }));
    let mut terminal =
        ratatui::try_init().map_err(|e| format!("cannot set up the terminal: {e}"))?;
    let _ = execute!(stdout(), EnableMouseCapture);
    let result =
        spawn_input().and_then(|input| event_loop(&mut terminal, driver, &stop, &input, settings));
    let _ = execute!(stdout(), DisableMouseCapture);
    ratatui::restore();
    result
}

/// Terminal events from a thread of their own (see the module comment).
/// The channel is bounded: if the UI falls behind, the reader waits.
fn spawn_input() -> Result<Receiver<TermEvent>, String> {
    let (tx, rx) = mpsc::sync_channel(256);
    std::thread::Builder::new()
        .name("tcpscope-input".into())
        .spawn(move || {
            while let Ok(ev) = event::read() {
                if tx.send(ev).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| format!("cannot start reading the keyboard: {e}"))?;
    Ok(rx)
}

/// The terminal hung up (its window closed, the tmux pane killed, the ssh
/// session gone): stdin reports POLLHUP or an error.
fn terminal_gone() -> bool {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return false;
    }
    let mut p = libc::pollfd {
        fd: stdin.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd and a zero timeout; poll only writes `revents`.
    let n = unsafe { libc::poll(&mut p, 1, 0) };
    n > 0 && p.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    driver: &mut dyn Driver,
    stop: &AtomicBool,
    input: &Receiver<TermEvent>,
    settings: UiSettings,
) -> Result<(), String> {
    driver.set_lang(settings.lang);
    let mut model = Model::new(driver.two_hosts());
    let mut view = View::new(settings.theme)
        .with_keys(settings.keys)
        .with_lang(settings.lang);
    let mut dirty = true;
    let mut last_draw = Instant::now();
    let mut last_now = f64::NAN;
    let mut status_since: Option<(String, Instant)> = None;
    // A deliberate panic after the first frame, for the end-to-end test of
    // the panic path (the terminal must come back; docs/live.md, Tests).
    let test_panic = std::env::var_os("TCPSCOPE_TEST_PANIC").is_some_and(|v| v == "1");
    loop {
        if stop.load(Ordering::Relaxed) || view.quit || terminal_gone() {
            return Ok(());
        }
        if driver.take_rewind() {
            model.reset();
            dirty = true;
        }
        let events = driver.poll();
        if !events.is_empty() {
            model.ingest_all(events);
            dirty = true;
        }
        if let Some(n) = driver.take_notice() {
            view.complain(n);
        }
        model.pinned = view.selected;

        // The status sentence fades after a while.
        match (&view.status, &status_since) {
            (Some(s), Some((text, at))) if *text == s.text => {
                if at.elapsed() > STATUS_FOR {
                    view.status = None;
                    status_since = None;
                    dirty = true;
                }
            }
            (Some(s), _) => {
                status_since = Some((s.text.clone(), Instant::now()));
                dirty = true;
            }
            (None, _) => status_since = None,
        }

        let now = driver.now();
        let time_flows = now != last_now;
        let countdown = counting_down(&model);
        let live = driver.mode() == Mode::Live;
        let animating = countdown && (driver.next_wake().is_some() || live);
        // Ages and the title's clock tick once a second even when nothing
        // else moves.
        let tick = time_flows && last_draw.elapsed() >= Duration::from_secs(1);
        if dirty || (time_flows && countdown) || tick {
            let clock = StatusLine::of(&*driver);
            let frame = terminal
                .draw(|f| render::draw(f, &model, &mut view, &clock))
                .map_err(|e| format!("cannot draw: {e}"))?;
            dirty = false;
            if std::mem::take(&mut view.screenshot) {
                // `S`: the frame just drawn, as the person sees it.
                match screenshot::from_key(frame.buffer, now, view.msg()) {
                    Ok(s) => view.say(s),
                    Err(e) => view.complain(e),
                }
                dirty = true;
            }
            last_draw = Instant::now();
            last_now = now;
            if test_panic {
                panic!("TCPSCOPE_TEST_PANIC=1: a deliberate panic in the UI");
            }
        }

        let mut wait = IDLE;
        if let Some(d) = driver.next_wake() {
            wait = wait.min(d);
        }
        if animating {
            wait = wait.min(FRAME.saturating_sub(last_draw.elapsed()));
        }
        let mut next = match input.recv_timeout(wait) {
            Ok(ev) => Some(ev),
            Err(RecvTimeoutError::Timeout) => None,
            // The reader stopped: the terminal cannot be read any more.
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        };
        // Take everything queued before drawing again.
        while let Some(ev) = next {
            match ev {
                TermEvent::Key(k) => view.key(k, &model, driver),
                TermEvent::Mouse(m) => view.mouse(m, &model),
                _ => {}
            }
            dirty = true;
            next = if view.quit {
                None
            } else {
                input.try_recv().ok()
            };
        }
    }
}

/// Any timer armed anywhere: its gauge and the list's timer column move.
fn counting_down(model: &Model) -> bool {
    model.conns().any(|c| {
        c.present()
            .any(|(_, s)| s.timers.iter().any(Option::is_some))
    })
}
