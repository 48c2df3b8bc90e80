//! The driver layer: everything that produces events for the terminal UI
//! and takes its commands.
//!
//! This file holds the one interface between the UI and whatever feeds it:
//! the [`Driver`] trait, the [`Command`]s the UI hands back, [`ConnRef`],
//! [`Mode`] and [`Playback`]. The UI never touches an engine: it gets events
//! from a [`Driver`] and hands back [`Command`]s. The implementations:
//! - [`demo`]: a scenario on the in-memory wire under virtual time;
//! - [`live`]: the live runtime on a TUN, in real time;
//! - [`replay`]: a recording played back;
//! - [`attach`]: a read-only viewer of a shared live session;
//! - [`tap`]: `watch` and `intercept`, the kernel's own connections;
//! - [`clock`]: the virtual clock demo and replay share ([`clock::Timeline`]);
//! - [`faults`]: the fault-rule commands, applied to an injector (once, for
//!   demo and live).
//!
//! The driver layer may use `tcp`, `link`, `fault`, `scenario`, `runtime`,
//! `socket`, `services`, `output` and `pcap`, and the catalogue of words
//! (`i18n`) for its answers; it must not use `ui` (the UI depends on it,
//! not the other way round).
//!
//! Everything past the original seven required methods of [`Driver`] is a
//! provided (default) method, so an implementation written against the
//! first version of this trait still compiles and behaves sensibly.

pub mod attach;
pub mod clock;
pub mod demo;
pub mod events;
pub mod faults;
pub mod live;
pub mod replay;
pub mod tap;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::event::{Dir, Event};
use crate::fault::Rule;
use crate::i18n::{Lang, Messages};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Demo,
    Live,
    Replay,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Demo => "demo",
            Mode::Live => "live",
            Mode::Replay => "replay",
        }
    }

    /// The mode's name in `m`'s language, for the title bar.
    pub fn word(self, m: &Messages) -> &'static str {
        match self {
            Mode::Demo => m.mode_demo,
            Mode::Live => m.mode_live,
            Mode::Replay => m.mode_replay,
        }
    }
}

/// A connection as the UI names it: the reporting host and its `conn` string.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConnRef {
    pub host: Option<Arc<str>>,
    pub conn: Arc<str>,
}

/// What the user asked for. A driver answers with a status-line sentence,
/// or an error sentence when the command makes no sense in its mode, in
/// the language [`Driver::set_lang`] gave it.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Drop the next segment going this way (`d` in, `D` out).
    DropNext(Dir),
    /// Random loss in percent, per direction (`l`).
    SetLoss {
        inbound: f64,
        outbound: f64,
    },
    /// Hold every segment (`h`), or stop holding.
    HoldAll(bool),
    /// Release the oldest held segment (space) or all (`r`).
    ReleaseOne,
    ReleaseAll,
    /// Any fault rule of the injector (`f` form).
    AddRule(Rule),
    ClearRules,
    /// Close (FIN) or abort (RST) a connection (`x`, `a`).
    Close(ConnRef),
    Abort(ConnRef),
    /// Open a connection (`c`, live mode).
    Connect(SocketAddr),
    /// Turn keepalive on or off for a connection (`K`).
    Keepalive(ConnRef, bool),
    /// Virtual seconds per real second (`t`, demo and replay).
    TimeScale(f64),
    Pause(bool),
    /// Walkthrough / replay stepping: next narrated step, previous one.
    /// Outside a walkthrough, the next (previous) moment at which anything
    /// happens (demo) or the next (previous) event (replay).
    StepForward,
    StepBack,
    /// Replay: jump to this `t`. Demo: jump forward (or re-run up to it).
    Seek(f64),
    /// Go to the start of chapter N (0-based, of [`Driver::chapters`]):
    /// its first narration, the run paused there.
    Chapter(usize),
}

/// How the timeline moves, for the title bar and the key hints. The
/// default is real time, running, no walkthrough, unbounded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Playback {
    /// Timeline seconds per real second; `None` when time is real (live).
    pub speed: Option<f64>,
    pub paused: bool,
    /// Walkthrough: the run stops at each narration (demo) or steps by
    /// narrated steps (replay).
    pub walkthrough: bool,
    /// Where in a bounded timeline we are: (position, end) in seconds.
    pub progress: Option<(f64, f64)>,
    /// A walkthrough's time-lapse is running at this speed through a
    /// quiet stretch (see `clock::LAPSE_AFTER`); `speed` is the chosen one.
    pub lapse: Option<f64>,
    /// The run has chapters ([`Driver::chapters`]; `C` lists them).
    pub chapters: bool,
    /// Nothing here acts on the wire or the connections (`watch`, a
    /// viewer of a shared session): the hints leave out the fault and
    /// close keys.
    pub read_only: bool,
}

pub trait Driver {
    fn mode(&self) -> Mode;
    /// A line for the title bar: scenario title, interface and addresses, file.
    fn title(&self) -> String;
    /// Advance to the present (demo: virtual time at the chosen speed) and
    /// return the events that happened since the last call.
    fn poll(&mut self) -> Vec<Event>;
    /// The current `t` (seconds on the events' timeline), for countdowns.
    fn now(&self) -> f64;
    /// How long the UI may sleep before `poll` could have something new;
    /// `None` when only a key can change anything.
    fn next_wake(&self) -> Option<Duration>;
    fn command(&mut self, cmd: Command) -> Result<String, String>;
    /// The run is over (scenario finished, recording at its end, live stopped).
    fn finished(&self) -> bool;

    /// Speed, pause and walkthrough state. Default: real time, running.
    fn playback(&self) -> Playback {
        Playback::default()
    }

    /// True once after the timeline restarted (demo step back, replay seek
    /// backwards): the UI forgets what it showed and rebuilds from the events
    /// the next [`Driver::poll`] returns. The UI asks before each poll.
    fn take_rewind(&mut self) -> bool {
        false
    }

    /// The chapters of a lesson (the tour's), in order: what the chapter
    /// list shows and [`Command::Chapter`] jumps to. Default: none.
    fn chapters(&self) -> Vec<String> {
        Vec::new()
    }

    /// Walkthrough on or off (`s`, `--step`).
    fn set_walkthrough(&mut self, _on: bool) -> Result<String, String> {
        Err("walkthrough is for demos and replays".into())
    }

    /// The language of the answers and notices (`--lang`): the UI says it
    /// before its first poll. Default: answers in English.
    fn set_lang(&mut self, _lang: Lang) {}

    /// A sentence the driver wants on the status line, once (for example
    /// that `--record` cannot write). Default: none.
    fn take_notice(&mut self) -> Option<String> {
        None
    }

    /// Whether events come from two tcpscope hosts (demo: `client` and
    /// `server`), so that a segment's `out` and `in` events meet in one
    /// arrow. Live mode has one host; its peer is the kernel.
    fn two_hosts(&self) -> bool {
        self.mode() == Mode::Demo
    }
}
