//! The demo driver: a scenario on the in-memory wire under virtual time.
//!
//! Virtual time advances at the chosen speed (virtual seconds per real
//! second, starting at the scenario's `speed`). Commands go to the injector
//! (`run.wire.injector`) and the engines (`run.wire.engine(side)`), always at
//! the run's current virtual time.
//!
//! Walkthrough: the driver hands out events up to the next narration and
//! stops there. Stepping back re-runs the scenario from the start, under
//! virtual time and without waiting, up to the previous narration; the
//! commands the person gave (faults, close, abort, keepalive) are replayed
//! at the virtual times they were given, so the re-run is the same run.
//!
//! Holds [`DemoDriver`] and [`Tee`] (its `--events`/`--record` writers).
//! Uses the scenario runner, the in-memory link, the injector and the
//! output writers; must not depend on `ui`.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use crate::event::{Body, Dir, Event};
use crate::i18n::{self, Messages};
use crate::link::memory::Side;
use crate::output::{EventWriter, Recorder};
use crate::scenario::{Lang, Overrides, Run, Scenario};
use crate::tcp::ConnId;
use crate::time::Instant;
use crate::transcript::Transcript;

use super::clock::Timeline;
use super::faults::{Done, Faults};
use super::{Command, ConnRef, Driver, Mode, Playback};

/// Where events go besides the UI (`--events FILE`, `--record FILE`).
#[derive(Default)]
pub struct Tee {
    pub events: Option<EventWriter>,
    pub record: Option<Recorder>,
    /// Events written so far: a re-run produces the same events again, and
    /// only the ones past this count are new.
    written: usize,
    /// First write error, reported once in the status line; after it the
    /// tee stops writing.
    error: Option<String>,
    failed: bool,
    /// `--transcript FILE.md`: sees every event once, as the writers do.
    transcript: Option<Transcript>,
}

impl Tee {
    pub fn new(events: Option<EventWriter>, record: Option<Recorder>) -> Tee {
        Tee {
            events,
            record,
            written: 0,
            error: None,
            failed: false,
            transcript: None,
        }
    }

    /// Also build a handout (`--transcript`) from the events.
    pub fn with_transcript(mut self, transcript: Option<Transcript>) -> Tee {
        self.transcript = transcript;
        self
    }

    fn write(&mut self, index: usize, e: &Event) {
        if index < self.written {
            return;
        }
        self.written = index + 1;
        if let Some(t) = self.transcript.as_mut() {
            t.ingest(e);
        }
        if self.failed {
            return;
        }
        let mut res = Ok(());
        if let Some(w) = self.events.as_mut() {
            res = res.and(w.write(e));
        }
        if let Some(r) = self.record.as_mut() {
            res = res.and(r.write(e));
        }
        if let Err(err) = res {
            self.failed = true;
            self.error = Some(err.to_string());
        }
    }

    fn flush(&mut self) {
        if let Some(w) = self.events.as_mut() {
            let _ = w.flush();
        }
        if let Some(r) = self.record.as_mut() {
            let _ = r.flush();
        }
    }
}

impl Drop for Tee {
    fn drop(&mut self) {
        self.flush();
    }
}

/// What the person did, at the virtual time they did it.
#[derive(Clone, Debug)]
struct Journaled {
    t: Instant,
    cmd: Command,
}

/// Where a re-run stops relative to the event it is looking at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    Continue,
    Before,
    After,
}

pub struct DemoDriver {
    scenario: Scenario,
    overrides: Overrides,
    run: Run,
    title: String,
    /// Virtual time: speed, pause, and the position the UI has been shown.
    clock: Timeline,
    /// The speed a run starts at (`--speed`, else the scenario's); its
    /// `speed` steps change it as they are handed out.
    initial_speed: f64,
    /// The lesson's chapter titles in order, in the run's language.
    chapters: Vec<String>,
    walkthrough: bool,
    /// Events taken from the run but not yet handed out (a walkthrough stops
    /// in the middle of a moment; a step makes a moment ahead of the clock).
    backlog: VecDeque<Event>,
    /// Events to hand out whole at the next poll whatever the clock says: a
    /// re-run's, a step's, a jump's. Nothing else comes out while paused.
    ready: Vec<Event>,
    /// Events taken from the run since it (re)started, for the tee.
    produced: usize,
    /// Narrations handed out since the run (re)started.
    narrations: usize,
    /// Distinct event times handed out, for stepping back one moment.
    moments: VecDeque<f64>,
    rewound: bool,
    /// `--duration`: virtual time stops here.
    stop: Option<f64>,
    /// The person's commands, sorted by time, and the next one a re-run
    /// has not applied yet.
    journal: Vec<Journaled>,
    next_cmd: usize,
    /// The fault commands' state (the loss rules `l` added, to replace them).
    faults: Faults,
    tee: Tee,
    /// `--pcap` is being written by the current run (the first one only:
    /// a re-run would write the same packets again).
    pcap: bool,
    pcap_reported: bool,
    notices: VecDeque<String>,
    /// The language of the answers and notices (the narration's is the
    /// run's own, `overrides.lang`).
    lang: Lang,
}

const MAX_MOMENTS: usize = 100_000;

impl DemoDriver {
    pub fn new(scenario: Scenario, overrides: Overrides) -> DemoDriver {
        let lang = overrides.lang.unwrap_or(Lang::En);
        let title = format!("{}: {}", scenario.name, scenario.title_for(lang));
        let speed = scenario
            .speed
            .filter(|s| s.is_finite() && *s > 0.0)
            .unwrap_or(1.0);
        let run = Run::new(scenario.clone(), &overrides);
        let chapters = scenario
            .narrations
            .iter()
            .filter_map(|n| n.chapter(lang).map(String::from))
            .collect();
        let mut d = DemoDriver {
            scenario,
            overrides,
            run,
            title,
            clock: Timeline::new(speed),
            initial_speed: speed,
            chapters,
            walkthrough: false,
            backlog: VecDeque::new(),
            ready: Vec::new(),
            produced: 0,
            narrations: 0,
            moments: VecDeque::new(),
            rewound: false,
            stop: None,
            journal: Vec::new(),
            next_cmd: 0,
            faults: Faults::new(),
            tee: Tee::default(),
            lang,
            pcap: false,
            pcap_reported: false,
            notices: VecDeque::new(),
        };
        d.take_run_events();
        d
    }

    /// Start at this speed (`--speed`) instead of the scenario's; its
    /// `speed` steps still change it as they come.
    pub fn with_speed(mut self, x: Option<f64>) -> DemoDriver {
        if let Some(x) = x.filter(|x| x.is_finite() && *x > 0.0) {
            self.clock.set_speed_here(x);
            self.initial_speed = self.clock.speed();
        }
        self
    }

    /// Stop virtual time at `secs` (`--duration`).
    pub fn with_stop(mut self, secs: Option<f64>) -> DemoDriver {
        self.stop = secs.filter(|s| s.is_finite() && *s >= 0.0);
        self
    }

    /// Write events to `--events FILE` / `--record FILE` as they happen.
    /// The `--transcript` handout built from what the run produced so far
    /// (taken when the UI is done).
    pub fn take_transcript(&mut self) -> Option<Transcript> {
        self.tee.transcript.take()
    }

    pub fn with_tee(mut self, tee: Tee) -> DemoDriver {
        self.tee = tee;
        // What the run produced before the tee existed.
        for (i, e) in self.backlog.iter().enumerate() {
            self.tee.write(i, e);
        }
        self
    }

    /// Capture the wire to a pcapng file (`--pcap`).
    pub fn with_pcap(mut self, w: crate::pcap::PcapWriter) -> DemoDriver {
        self.run.set_pcap(w);
        self.pcap = true;
        self
    }

    pub fn with_walkthrough(mut self, on: bool) -> DemoDriver {
        self.walkthrough = on;
        self
    }

    /// Start paused (tests, and a teacher who wants to talk first).
    pub fn paused(mut self) -> DemoDriver {
        self.clock.set_paused(true);
        self
    }

    fn end(&self) -> f64 {
        self.stop.unwrap_or(f64::INFINITY)
    }

    fn clock_target(&self) -> f64 {
        self.clock.target(self.end())
    }

    fn take_run_events(&mut self) {
        for e in self.run.take_events() {
            self.tee.write(self.produced, &e);
            self.produced += 1;
            self.backlog.push_back(e);
        }
    }

    fn backlog_has_narration(&self) -> bool {
        self.backlog
            .iter()
            .any(|e| matches!(e.body, Body::Narration { .. }))
    }

    // ----- moments: the scenario while its script runs, then the bare wire --

    /// The next instant at which anything happens on its own. Once the
    /// scenario's script is over the engines still run, so that a person can
    /// close, abort or probe and watch what follows.
    fn next_moment(&self) -> Option<Instant> {
        if self.run.is_finished() {
            self.run.wire.next_wakeup()
        } else {
            self.run.next_wakeup()
        }
    }

    /// Process the next moment if it is no later than `limit`.
    fn step_moment(&mut self, limit: Instant) {
        if self.run.is_finished() {
            if let Some(w) = self.run.wire.next_wakeup().filter(|w| *w <= limit) {
                self.run.wire.run_until(w);
            }
        } else if self.run.next_wakeup().is_none() {
            // Nothing left in the script: let the run say it is finished.
            self.run.advance_one(None);
        } else {
            self.run.advance_one(Some(limit));
        }
        self.take_run_events();
    }

    /// Move the clock to `until` (nothing is due before it).
    fn move_clock(&mut self, until: Instant) {
        if until <= self.run.now() {
            return;
        }
        if self.run.is_finished() {
            self.run.wire.run_until(until);
        } else {
            self.run.advance(until);
        }
        self.take_run_events();
    }

    /// Apply the journaled commands due before `t` (or at it, `inclusive`).
    fn apply_journal(&mut self, t: Instant, inclusive: bool) {
        while let Some(j) = self.journal.get(self.next_cmd) {
            if j.t > t || (!inclusive && j.t == t) {
                break;
            }
            let j = j.clone();
            self.next_cmd += 1;
            self.move_clock(j.t);
            let _ = self.apply(&j.cmd);
        }
    }

    /// Run up to virtual `target`, one moment at a time (so journaled
    /// commands land between the moments they fell between). In a
    /// walkthrough, stop after a moment that produced a narration.
    fn advance_run(&mut self, target: f64) {
        let until = Instant::from_secs_f64(target);
        loop {
            if self.walkthrough && self.backlog_has_narration() {
                self.complete_instant();
                return;
            }
            match self.next_moment() {
                Some(w) if w <= until => {
                    self.apply_journal(w, false);
                    self.step_moment(until);
                    let now = self.run.now();
                    self.apply_journal(now, true);
                }
                None if !self.run.is_finished() => self.step_moment(until),
                _ => break,
            }
        }
        self.apply_journal(until, true);
        self.move_clock(until);
    }

    /// Run whatever else happens at the run's present instant, so that a
    /// walkthrough stop shows all of it (the `vars` after a `state`, the
    /// ACK the same moment sends).
    fn complete_instant(&mut self) {
        let now = self.run.now();
        while self.next_moment().is_some_and(|w| w <= now) {
            self.apply_journal(now, false);
            self.step_moment(now);
            if self.run.now() > now {
                break;
            }
        }
        self.apply_journal(now, true);
    }

    /// Hand out the backlog up to `limit`; in a walkthrough, stop after a
    /// narration and pause there, with the rest of its instant (everything
    /// but further narrations, which stay for the next steps) handed out
    /// too, so the panels show the narrated moment whole. Also stops after
    /// a scenario's speed step, from which the clock runs at the new speed:
    /// `true` then.
    fn deliver(&mut self, limit: f64) -> (Vec<Event>, bool) {
        let mut out = Vec::new();
        while let Some(e) = self.backlog.front() {
            if e.t > limit + 1e-9 {
                break;
            }
            let e = self.backlog.pop_front().expect("peeked");
            let narration = matches!(e.body, Body::Narration { .. });
            let speed = matches!(e.body, Body::Speed { .. });
            let t = e.t;
            self.saw(&e);
            out.push(e);
            if narration && self.walkthrough {
                self.clock.set_paused(true);
                self.clock.reanchor();
                out.extend(self.rest_of_instant(t));
                return (out, true);
            }
            if speed {
                return (out, true);
            }
        }
        (out, false)
    }

    /// The rest of the instant `t` after a narration a walkthrough stops
    /// on: the run's other moments at `t`, then every event at `t` but
    /// further narrations (which stay in the backlog, in order, for the
    /// next steps).
    fn rest_of_instant(&mut self, t: f64) -> Vec<Event> {
        if self.run.now() <= Instant::from_secs_f64(t) {
            self.complete_instant();
        }
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(e) = self.backlog.get(i) {
            if e.t > t + 1e-9 {
                break;
            }
            if matches!(e.body, Body::Narration { .. }) {
                i += 1;
                continue;
            }
            let e = self.backlog.remove(i).expect("looked at");
            self.saw(&e);
            out.push(e);
        }
        out
    }

    /// Everything up to `limit` whatever the walkthrough says (a seek, a
    /// single step), and how many narrations it passed.
    fn deliver_all(&mut self, limit: f64) -> (Vec<Event>, usize) {
        let before = self.narrations;
        let walkthrough = std::mem::replace(&mut self.walkthrough, false);
        let mut out = Vec::new();
        loop {
            let (more, stopped) = self.deliver(limit);
            out.extend(more);
            if !stopped {
                break;
            }
        }
        self.walkthrough = walkthrough;
        (out, self.narrations - before)
    }

    /// When the next thing happens: the backlog's next event, else the
    /// run's next moment.
    fn next_time(&self) -> Option<f64> {
        match self.backlog.front() {
            Some(e) => Some(e.t),
            None => self.next_moment().map(Instant::secs_f64),
        }
        .filter(|t| *t <= self.end())
    }

    /// Book-keeping for an event handed out.
    fn saw(&mut self, e: &Event) {
        match e.body {
            Body::Narration { .. } => self.narrations += 1,
            Body::Speed { x } => {
                self.clock.advance_to(e.t);
                self.clock.set_speed_here(x);
            }
            _ => {}
        }
        self.clock.advance_to(e.t);
        if self.moments.back().is_none_or(|m| e.t > *m) {
            self.moments.push_back(e.t);
            if self.moments.len() > MAX_MOMENTS {
                self.moments.pop_front();
            }
        }
    }

    /// Start over from the beginning (paused), then go forward without
    /// waiting until `stop` says so or virtual `until` is reached. The
    /// events go out whole at the next poll, after the UI forgot the old
    /// timeline.
    fn rerun(&mut self, until: f64, mut stop: impl FnMut(&Event, usize) -> Stop) {
        if std::mem::take(&mut self.pcap) {
            let notice = self.msg().d_pcap_stops.to_string();
            self.notices.push_back(notice);
        }
        self.run = Run::new(self.scenario.clone(), &self.overrides);
        self.backlog.clear();
        self.produced = 0;
        self.narrations = 0;
        self.moments.clear();
        self.next_cmd = 0;
        self.clock.set_now(0.0);
        self.clock.set_paused(true);
        self.clock.set_speed_here(self.initial_speed);
        self.rewound = true;
        self.take_run_events();
        let until_i = Instant::from_secs_f64(until);
        let mut out = Vec::new();
        'run: loop {
            while let Some(e) = self.backlog.front() {
                if e.t > until + 1e-9 {
                    break 'run;
                }
                let count = self.narrations + usize::from(matches!(e.body, Body::Narration { .. }));
                match stop(e, count) {
                    Stop::Before => break 'run,
                    Stop::Continue => {}
                    Stop::After => {
                        let e = self.backlog.pop_front().expect("peeked");
                        let (t, narration) = (e.t, matches!(e.body, Body::Narration { .. }));
                        self.saw(&e);
                        out.push(e);
                        if narration && self.walkthrough {
                            out.extend(self.rest_of_instant(t));
                        }
                        break 'run;
                    }
                }
                let e = self.backlog.pop_front().expect("peeked");
                self.saw(&e);
                out.push(e);
            }
            match self.next_moment() {
                Some(w) if w <= until_i => {
                    self.apply_journal(w, false);
                    self.step_moment(until_i);
                    let now = self.run.now();
                    self.apply_journal(now, true);
                }
                None if !self.run.is_finished() => self.step_moment(until_i),
                _ => {
                    if until.is_finite() {
                        self.apply_journal(until_i, true);
                        self.move_clock(until_i);
                        if self.backlog.front().is_some_and(|e| e.t <= until + 1e-9) {
                            continue;
                        }
                        self.clock.advance_to(until);
                    }
                    break;
                }
            }
        }
        self.ready = out;
        self.clock.reanchor();
    }

    /// The words of the answers.
    fn msg(&self) -> &'static Messages {
        i18n::messages(self.lang)
    }

    fn conn_id(&mut self, c: &ConnRef) -> Result<(Side, ConnId), String> {
        let m = self.msg();
        let side = match c.host.as_deref() {
            Some("client") => Side::Client,
            Some("server") => Side::Server,
            _ => return Err(m.d_no_host.into()),
        };
        let (l, r) = c
            .conn
            .split_once("<->")
            .ok_or_else(|| m.d_not_a_conn(&c.conn))?;
        let local: SocketAddr = l.parse().map_err(|_| m.d_not_an_addr(l))?;
        let remote: SocketAddr = r.parse().map_err(|_| m.d_not_an_addr(r))?;
        let id = self
            .run
            .wire
            .engine(side)
            .find(local, remote)
            .ok_or_else(|| m.d_no_open_conn(&m.host(side.name()), &c.conn))?;
        Ok((side, id))
    }

    /// Commands that change the run; journaled by the caller so that a
    /// re-run repeats them.
    fn apply(&mut self, cmd: &Command) -> Result<String, String> {
        let now = self.run.now();
        let m = self.msg();
        // The engine's answer to a user call, in the answers' language.
        let failed =
            |call: &str, e: crate::tcp::TcpError| m.call_failed(call, &m.phrase(&e.to_string()));
        let res = match cmd {
            Command::DropNext(_)
            | Command::SetLoss { .. }
            | Command::HoldAll(_)
            | Command::ReleaseOne
            | Command::ReleaseAll
            | Command::AddRule(_)
            | Command::ClearRules => self
                .faults
                .apply(&mut self.run.wire.injector, now, cmd)
                .and_then(|done| {
                    if matches!(done, Done::ReleasedOne | Done::ReleasedAll(_)) {
                        self.run.wire.flush();
                    }
                    say(m, done, self.run.wire.injector.held_count())
                }),
            Command::Close(c) => {
                let (side, id) = self.conn_id(c)?;
                self.run
                    .wire
                    .engine(side)
                    .close(now, id)
                    .map_err(|e| failed(m.call_close, e))?;
                self.run.wire.flush();
                Ok(m.d_closes(&m.host(side.name())))
            }
            Command::Abort(c) => {
                let (side, id) = self.conn_id(c)?;
                self.run
                    .wire
                    .engine(side)
                    .abort(now, id)
                    .map_err(|e| failed(m.call_abort, e))?;
                self.run.wire.flush();
                Ok(m.d_aborts(&m.host(side.name())))
            }
            Command::Keepalive(c, on) => {
                let (side, id) = self.conn_id(c)?;
                let engine = self.run.wire.engine(side);
                let ka = on.then(|| engine.config().keepalive);
                engine
                    .set_keepalive(now, id, ka)
                    .map_err(|e| failed(m.call_keepalive, e))?;
                self.run.wire.flush();
                let host = m.host(side.name());
                Ok(match ka {
                    Some(k) => m.d_ka_on(
                        &host,
                        &k.idle.as_secs_f64().to_string(),
                        &k.interval.as_secs_f64().to_string(),
                        k.count,
                    ),
                    None => m.d_ka_off(&host),
                })
            }
            Command::Connect(_)
            | Command::TimeScale(_)
            | Command::Pause(_)
            | Command::StepForward
            | Command::StepBack
            | Command::Seek(_)
            | Command::Chapter(_) => Err(format!("{cmd:?} does not change the run")),
        };
        self.take_run_events();
        res
    }

    /// Apply a command that changes the run and journal it, so that a
    /// re-run repeats it at the same virtual time.
    fn apply_and_journal(&mut self, cmd: Command) -> Result<String, String> {
        let t = self.run.now();
        let res = self.apply(&cmd);
        if res.is_ok() {
            // After what was applied so far at this time.
            let at = self.journal[self.next_cmd..]
                .iter()
                .position(|j| j.t > t)
                .map(|i| i + self.next_cmd)
                .unwrap_or(self.journal.len());
            self.journal.insert(at, Journaled { t, cmd });
            self.next_cmd = at + 1;
        }
        res
    }
}

/// What a fault command did, in the demo's words (directions as seen on
/// the wire between client and server). `held`: segments held after it.
fn say(m: &Messages, done: Done, held: usize) -> Result<String, String> {
    Ok(match done {
        Done::DropNext(Dir::In) => m.d_drop_c2s.into(),
        Done::DropNext(Dir::Out) => m.d_drop_s2c.into(),
        Done::Loss { inbound, outbound } if inbound <= 0.0 && outbound <= 0.0 => {
            m.d_no_more_loss.into()
        }
        Done::Loss { inbound, outbound } => m.d_loss(&inbound.to_string(), &outbound.to_string()),
        Done::Hold(true) => m.d_holding.into(),
        Done::Hold(false) => m.d_pass_again.into(),
        Done::ReleasedOne => m.d_released_one(held),
        Done::ReleasedAll(0) => return Err(m.d_nothing_held.into()),
        Done::ReleasedAll(1) => m.d_released_1.into(),
        Done::ReleasedAll(n) => m.d_released_n(n),
        Done::RuleAdded(rule) => m.d_rule_added(&rule.words(m)),
        Done::Cleared => m.d_rules_removed.into(),
    })
}

impl Driver for DemoDriver {
    fn mode(&self) -> Mode {
        Mode::Demo
    }

    fn title(&self) -> String {
        self.title.clone()
    }

    fn poll(&mut self) -> Vec<Event> {
        if !self.ready.is_empty() {
            return std::mem::take(&mut self.ready);
        }
        if self.clock.paused() {
            return Vec::new();
        }
        if self.walkthrough {
            let next = self.next_time();
            self.clock.lapse_towards(next);
        }
        let target = self.clock_target();
        self.advance_run(target);
        let (out, stopped) = self.deliver(target);
        if !stopped {
            self.clock.advance_to(target);
        }
        out
    }

    fn now(&self) -> f64 {
        self.clock.now()
    }

    fn next_wake(&self) -> Option<Duration> {
        if self.clock.paused() || self.finished() || self.clock.now() >= self.end() {
            return None;
        }
        // Time flows and countdowns move: the UI redraws at its frame rate.
        Some(Duration::from_millis(40))
    }

    fn command(&mut self, cmd: Command) -> Result<String, String> {
        let m = self.msg();
        match cmd {
            Command::TimeScale(x) => {
                let speed = self
                    .clock
                    .set_speed(x, self.end())
                    .map_err(|x| m.not_a_speed(&x.to_string()))?;
                Ok(m.d_time_runs_at(&super::clock::speed(speed)))
            }
            Command::Pause(p) => {
                self.clock.pause(p, self.end());
                Ok(if p { m.paused.into() } else { m.running.into() })
            }
            Command::StepForward => {
                if self.walkthrough {
                    if self.finished() {
                        return Err(m.d_last_step.into());
                    }
                    self.clock.set_paused(false);
                    self.clock.reanchor();
                    return Ok(m.d_next_step.into());
                }
                // One moment: everything that happens at the next instant.
                self.clock.catch_up(self.end());
                self.clock.set_paused(true);
                if self.backlog.is_empty() {
                    let Some(w) = self.next_moment().filter(|w| w.secs_f64() <= self.end()) else {
                        return Err(m.d_nothing_more.into());
                    };
                    self.apply_journal(w, false);
                    self.step_moment(w);
                    let now = self.run.now();
                    self.apply_journal(now, true);
                }
                // Hand out that moment now; a walkthrough stop does not
                // apply to a single step.
                let upto = self.backlog.back().map(|e| e.t).unwrap_or(self.clock.now());
                let (out, _) = self.deliver_all(upto);
                self.ready.extend(out);
                self.clock.reanchor();
                Ok(m.d_stepped_to(&super::clock::t(self.clock.now())))
            }
            Command::StepBack => {
                if self.walkthrough {
                    // The narration on screen is number `narrations`: go to
                    // the one before it, or to the very start.
                    let want = self.narrations.saturating_sub(1);
                    let narrated = |e: &Event| matches!(e.body, Body::Narration { .. });
                    self.rerun(f64::INFINITY, |e, n| {
                        if want == 0 && narrated(e) {
                            Stop::Before
                        } else if want > 0 && n == want && narrated(e) {
                            Stop::After
                        } else {
                            Stop::Continue
                        }
                    });
                    Ok(if want == 0 {
                        m.d_at_start.into()
                    } else {
                        m.d_back_to_step(want)
                    })
                } else {
                    let now = self.clock_target();
                    let prev = self
                        .moments
                        .iter()
                        .rev()
                        .find(|m| **m < now - 1e-9)
                        .copied()
                        .unwrap_or(0.0);
                    self.rerun(prev, |_, _| Stop::Continue);
                    Ok(m.d_back_to_t(&super::clock::t(prev)))
                }
            }
            Command::Seek(t) => {
                if !t.is_finite() || t < 0.0 {
                    return Err(m.d_not_a_time(&t.to_string()));
                }
                let t = t.min(self.end());
                let now = self.clock_target();
                if t >= now {
                    let walkthrough = std::mem::replace(&mut self.walkthrough, false);
                    self.advance_run(t);
                    self.walkthrough = walkthrough;
                    // Hand out everything up to t even when paused; in a
                    // walkthrough the steps passed are said, and it stops
                    // there.
                    let first = self.narrations + 1;
                    let (out, passed) = self.deliver_all(t);
                    self.ready.extend(out);
                    self.clock.set_now(t);
                    if self.walkthrough {
                        self.clock.set_paused(true);
                    }
                    self.clock.reanchor();
                    let at = m.d_jumped_to(&super::clock::t(t));
                    Ok(match passed {
                        0 => at,
                        1 => m.past_step(&at, first),
                        n => m.past_steps(&at, first, first + n - 1),
                    })
                } else {
                    let paused = self.clock.paused();
                    self.rerun(t, |_, _| Stop::Continue);
                    self.clock.set_paused(paused);
                    self.clock.reanchor();
                    Ok(m.d_back_to_t(&super::clock::t(t)))
                }
            }
            Command::Chapter(i) => {
                let Some(title) = self.chapters.get(i).cloned() else {
                    return Err(m.no_chapter(i + 1));
                };
                let paused = self.clock.paused();
                self.rerun(f64::INFINITY, |e, _| match &e.body {
                    Body::Narration {
                        chapter: Some(c), ..
                    } if *c == title => Stop::After,
                    _ => Stop::Continue,
                });
                if !self.walkthrough {
                    self.clock.set_paused(paused);
                    self.clock.reanchor();
                }
                Ok(m.chapter_step(&title, self.narrations))
            }
            Command::Connect(_) => Err(m.d_connect_demo.into()),
            cmd @ (Command::DropNext(_)
            | Command::SetLoss { .. }
            | Command::HoldAll(_)
            | Command::ReleaseOne
            | Command::ReleaseAll
            | Command::AddRule(_)
            | Command::ClearRules
            | Command::Close(_)
            | Command::Abort(_)
            | Command::Keepalive(..)) => self.apply_and_journal(cmd),
        }
    }

    fn finished(&self) -> bool {
        self.run.is_finished()
            && self.backlog.is_empty()
            && self.ready.is_empty()
            && self.run.wire.next_wakeup().is_none()
    }

    fn playback(&self) -> Playback {
        Playback {
            speed: Some(self.clock.chosen_speed()),
            paused: self.clock.paused(),
            walkthrough: self.walkthrough,
            progress: self.stop.map(|s| (self.clock.now(), s)),
            lapse: self.clock.lapsing().then(|| self.clock.speed()),
            chapters: !self.chapters.is_empty(),
            read_only: false,
        }
    }

    fn take_rewind(&mut self) -> bool {
        std::mem::take(&mut self.rewound)
    }

    fn take_notice(&mut self) -> Option<String> {
        if self.pcap
            && !self.pcap_reported
            && let Some(e) = self.run.pcap_error()
        {
            self.pcap_reported = true;
            let notice = self.msg().pcap_stopped(e);
            self.notices.push_back(notice);
        }
        let m = self.msg();
        (self.tee.error.take().map(|e| m.cannot_write_events(&e)))
            .or_else(|| self.notices.pop_front())
    }

    fn chapters(&self) -> Vec<String> {
        self.chapters.clone()
    }

    fn set_walkthrough(&mut self, on: bool) -> Result<String, String> {
        self.walkthrough = on;
        if on {
            Ok(self.msg().d_walk_on.into())
        } else {
            self.clock.pause(false, self.end());
            Ok(self.msg().d_walk_off.into())
        }
    }

    fn set_lang(&mut self, lang: Lang) {
        self.lang = lang;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Run;

    fn narrations(es: &[Event]) -> Vec<String> {
        es.iter()
            .filter_map(|e| match &e.body {
                Body::Narration { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    fn handshake() -> DemoDriver {
        let ov = Overrides {
            lang: Some(Lang::En),
            ..Overrides::default()
        };
        DemoDriver::new(Scenario::builtin("handshake").unwrap(), ov)
    }

    /// Poll until something comes out (time must pass for a running demo).
    fn poll_some(d: &mut DemoDriver) -> Vec<Event> {
        for _ in 0..200 {
            let got = d.poll();
            if !got.is_empty() {
                return got;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        Vec::new()
    }

    #[test]
    fn walkthrough_stops_at_each_narration_and_steps_back() {
        let mut d = handshake().with_walkthrough(true);
        d.command(Command::TimeScale(10_000.0)).unwrap();
        let first = poll_some(&mut d);
        assert_eq!(narrations(&first).len(), 1);
        assert!(
            matches!(first.last().unwrap().body, Body::Narration { .. }),
            "stops on it"
        );
        assert!(d.playback().paused);
        assert!(d.poll().is_empty(), "paused: nothing more until space");

        d.command(Command::StepForward).unwrap();
        let second = poll_some(&mut d);
        assert_eq!(narrations(&second).len(), 1);
        d.command(Command::StepForward).unwrap();
        let third = poll_some(&mut d);
        let n3 = narrations(&third);
        assert_eq!(n3.len(), 1);
        assert!(n3[0].starts_with("The client sends SYN"), "{n3:?}");

        // Back one step: the timeline restarts and ends on narration 2.
        d.command(Command::StepBack).unwrap();
        assert!(d.take_rewind());
        let again = d.poll();
        assert_eq!(
            narrations(&again),
            [narrations(&first), narrations(&second)].concat()
        );
        assert!(d.poll().is_empty(), "still paused on step 2");
        assert_eq!(d.narrations, 2);
    }

    #[test]
    fn commands_change_the_run_and_survive_a_rerun() {
        let mut d = handshake().paused();
        // Step to the moment the SYN leaves; drop the SYN+ACK to come.
        let mut seen = Vec::new();
        while !seen.iter().any(|e: &Event| e.segment().is_some()) {
            d.command(Command::StepForward).unwrap();
            seen.extend(d.poll());
        }
        let msg = d.command(Command::DropNext(Dir::Out)).unwrap();
        assert_eq!(msg, "the next segment server → client will be dropped");
        d.command(Command::Seek(3.0)).unwrap();
        let later = d.poll();
        let drops = |es: &[Event]| {
            es.iter()
                .filter(|e| matches!(e.body, Body::Drop(_)))
                .count()
        };
        assert_eq!(drops(&later), 1);
        // Back to 1 s and forward again: the journal replays the drop.
        d.command(Command::Seek(1.0)).unwrap();
        assert!(d.take_rewind());
        let replayed = d.poll();
        assert_eq!(
            drops(&replayed),
            1,
            "the rule was applied again at its time"
        );
    }

    fn scenario(name: &str) -> DemoDriver {
        let ov = Overrides {
            lang: Some(Lang::En),
            ..Overrides::default()
        };
        DemoDriver::new(Scenario::builtin(name).unwrap(), ov)
    }

    /// A headless run of the same scenario, to hold a walkthrough's stops
    /// against.
    fn headless(name: &str) -> Vec<Event> {
        let ov = Overrides {
            lang: Some(Lang::En),
            ..Overrides::default()
        };
        Run::new(Scenario::builtin(name).unwrap(), &ov).run_to_end()
    }

    /// Poll until the walkthrough stops (or the run ends).
    fn poll_stop(d: &mut DemoDriver) -> Vec<Event> {
        let mut out = Vec::new();
        for _ in 0..2000 {
            out.extend(d.poll());
            if d.playback().paused || d.finished() {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        out
    }

    fn not_narration(es: &[Event]) -> Vec<Event> {
        es.iter()
            .filter(|e| !matches!(e.body, Body::Narration { .. }))
            .cloned()
            .collect()
    }

    /// Issue 19: every walkthrough stop shows the narrated instant whole:
    /// what was handed out (narrations aside) is exactly what a headless
    /// run produced up to and including that instant. At step 2 of
    /// client-close the server, in CLOSE-WAIT, shows RCV.NXT past the FIN.
    #[test]
    fn a_walkthrough_stop_shows_the_narrated_instant_whole() {
        let all = headless("client-close");
        let mut d = scenario("client-close").with_walkthrough(true);
        d.command(Command::TimeScale(100_000.0)).unwrap();
        let mut shown: Vec<Event> = Vec::new();
        let mut stops = 0;
        while !d.finished() {
            shown.extend(poll_stop(&mut d));
            let Some(tn) = shown.iter().rev().find_map(|e| match e.body {
                Body::Narration { .. } => Some(e.t),
                _ => None,
            }) else {
                break;
            };
            stops += 1;
            let want: Vec<Event> = all
                .iter()
                .filter(|e| e.t <= tn + 1e-9 && !matches!(e.body, Body::Narration { .. }))
                .cloned()
                .collect();
            assert_eq!(not_narration(&shown), want, "stop {stops} at t = {tn}");
            if stops == 2 {
                let fin = shown
                    .iter()
                    .find_map(|e| match e.segment() {
                        Some(s)
                            if e.host.as_deref() == Some("server")
                                && s.dir == Dir::In
                                && s.seg.flags.contains(crate::wire::Flags::FIN) =>
                        {
                            Some(s.seg.seq)
                        }
                        _ => None,
                    })
                    .expect("the FIN arrived");
                let rcv_nxt = shown
                    .iter()
                    .rev()
                    .find_map(|e| match &e.body {
                        Body::Vars(v) if e.host.as_deref() == Some("server") => Some(v.rcv_nxt),
                        _ => None,
                    })
                    .unwrap();
                assert_eq!(rcv_nxt, fin.wrapping_add(1), "RCV.NXT counts the FIN");
            }
            if d.command(Command::StepForward).is_err() {
                break;
            }
        }
        assert!(stops >= 7, "{stops} stops");
    }

    /// Issue 19: a scenario's speed steps drive the playback clock; a
    /// speed chosen by hand holds until the next one; a re-run from the
    /// start begins at the scenario's speed.
    #[test]
    fn the_scenarios_speed_steps_drive_the_clock() {
        let steps: Vec<(f64, f64)> = headless("tour")
            .iter()
            .filter_map(|e| match e.body {
                Body::Speed { x } => Some((e.t, x)),
                _ => None,
            })
            .collect();
        assert_eq!(
            steps.iter().map(|s| s.1).collect::<Vec<_>>(),
            [600.0, 0.5, 600.0, 0.5]
        );
        let mut d = scenario("tour").paused();
        assert_eq!(d.playback().speed, Some(0.5));
        d.command(Command::Seek(steps[0].0 + 1.0)).unwrap();
        d.poll();
        assert_eq!(
            d.playback().speed,
            Some(600.0),
            "the speed step was handed out"
        );
        d.command(Command::TimeScale(2.0)).unwrap();
        assert_eq!(d.playback().speed, Some(2.0));
        d.command(Command::Seek(steps[1].0 + 1.0)).unwrap();
        d.poll();
        assert_eq!(d.playback().speed, Some(0.5), "the next step wins");
        d.command(Command::Seek(1.0)).unwrap();
        d.poll();
        assert_eq!(d.playback().speed, Some(0.5));
        let mut d = scenario("tour").with_speed(Some(3.0)).paused();
        assert_eq!(d.playback().speed, Some(3.0), "--speed");
        d.command(Command::Seek(steps[0].0 + 1.0)).unwrap();
        d.poll();
        assert_eq!(
            d.playback().speed,
            Some(600.0),
            "the scenario's steps still apply"
        );
    }

    /// Issue 19: in a walkthrough, TIME-WAIT (240 s at ×0.5: 8 real
    /// minutes) runs as a time-lapse of `LAPSE_SECS`, to the next thing
    /// that happens, and never past it.
    #[test]
    fn a_walkthrough_runs_time_wait_as_a_time_lapse() {
        let mut d = scenario("client-close").with_walkthrough(true);
        d.command(Command::TimeScale(10_000.0)).unwrap();
        let mut shown = Vec::new();
        while !narrations(&shown)
            .last()
            .is_some_and(|n| n.starts_with("The server got the last ACK"))
        {
            d.command(Command::StepForward).unwrap();
            shown.extend(poll_stop(&mut d));
        }
        d.command(Command::TimeScale(0.5)).unwrap();
        d.command(Command::StepForward).unwrap();
        let now = d.now();
        assert_eq!(now, 1.53);
        shown.extend(d.poll());
        let pb = d.playback();
        assert_eq!(pb.speed, Some(0.5), "the chosen speed stays");
        let lapse = pb.lapse.expect("a time-lapse");
        assert!(
            (lapse - (241.52 - now) / super::super::clock::LAPSE_SECS).abs() < 1e-6,
            "{lapse}"
        );
        std::thread::sleep(Duration::from_millis(20));
        shown.extend(d.poll());
        assert!(d.now() > now, "the countdown runs");
        assert!(d.now() <= 241.52);
    }

    /// Issue 19: a seek forward in a walkthrough hands out everything up
    /// to its time (clock, ladder and panels agree), says which steps it
    /// passed, and stops there.
    #[test]
    fn a_seek_in_a_walkthrough_says_the_steps_it_passed() {
        let all = headless("client-close");
        let mut d = scenario("client-close").with_walkthrough(true);
        d.command(Command::TimeScale(100_000.0)).unwrap();
        let mut shown = poll_stop(&mut d);
        assert_eq!(narrations(&shown).len(), 1);
        let said = d.command(Command::Seek(1.515)).unwrap();
        assert_eq!(said, "jumped to t = 1.515, past steps 2–4");
        shown.extend(d.poll());
        assert!(d.playback().paused);
        assert_eq!(d.now(), 1.515);
        let want: Vec<Event> = all.iter().filter(|e| e.t <= 1.515).cloned().collect();
        assert_eq!(not_narration(&shown), not_narration(&want));
        assert_eq!(narrations(&shown), narrations(&want));
        assert_eq!(d.narrations, 4);
    }

    /// `--lang zh`: the answers are the catalogue's Chinese (the same run,
    /// the same numbers), English ones unchanged; the narration keeps the
    /// run's own language.
    #[test]
    fn answers_in_the_language_the_ui_gives() {
        let mut d = scenario("client-close").with_walkthrough(true);
        d.set_lang(Lang::Zh);
        d.command(Command::TimeScale(100_000.0)).unwrap();
        poll_stop(&mut d);
        assert_eq!(
            d.command(Command::Seek(1.515)).unwrap(),
            "跳到 t = 1.515，经过第 2–4 步"
        );
        assert_eq!(d.command(Command::StepForward).unwrap(), "进入下一步");
        assert_eq!(d.command(Command::Chapter(9)).unwrap_err(), "没有第 10 章");
        assert_eq!(
            d.command(Command::Connect("10.0.0.2:80".parse().unwrap()))
                .unwrap_err(),
            "c（连接）用于实时模式：演示中由场景决定谁发起连接"
        );
        assert_eq!(
            d.command(Command::ReleaseAll).unwrap_err(),
            "没有被扣留的报文段"
        );
        let conn = ConnRef {
            host: Some("client".into()),
            conn: "10.0.0.1:1<->10.0.0.2:80".into(),
        };
        assert_eq!(
            d.command(Command::Close(conn)).unwrap_err(),
            "客户端没有打开的连接 10.0.0.1:1<->10.0.0.2:80"
        );
        // The rule in the UI's words, as the fault bar shows it.
        let rule = crate::fault::Rule::parse_drop("in:SA:1").unwrap();
        assert_eq!(
            d.command(Command::AddRule(rule.clone())).unwrap(),
            "已添加故障规则：丢弃 入 SA 接下来 1 个"
        );
        d.set_lang(Lang::En);
        assert_eq!(
            d.command(Command::ReleaseAll).unwrap_err(),
            "no segment is held"
        );
        assert_eq!(
            d.command(Command::AddRule(rule)).unwrap(),
            "fault rule added: drop in SA next 1"
        );
    }

    /// Issue 19: the tour's chapters are listed, and a jump lands on a
    /// chapter's first narration (forward or back), the walkthrough
    /// stopped there with the speed of that point in the lesson.
    #[test]
    fn the_tour_jumps_to_a_chapter() {
        let mut d = scenario("tour").with_walkthrough(true);
        let chapters = d.chapters();
        assert_eq!(chapters.len(), 10);
        assert_eq!(chapters[8], "9. Keepalive on a dead peer");
        assert!(d.playback().chapters);
        let said = d.command(Command::Chapter(8)).unwrap();
        assert!(d.take_rewind());
        let shown = d.poll();
        let last_narration = shown
            .iter()
            .rev()
            .find(|e| matches!(e.body, Body::Narration { .. }))
            .unwrap();
        assert!(
            matches!(&last_narration.body, Body::Narration { chapter: Some(c), .. } if *c == chapters[8]),
            "{last_narration:?}"
        );
        assert!(
            said.starts_with("9. Keepalive on a dead peer (step "),
            "{said}"
        );
        assert!(d.playback().paused);
        assert_eq!(d.playback().speed, Some(600.0));
        assert!(d.poll().is_empty(), "stopped there");
        d.command(Command::Chapter(1)).unwrap();
        let shown = d.poll();
        assert_eq!(narrations(&shown).len(), 7, "chapter 2 begins at step 7");
        assert_eq!(d.playback().speed, Some(0.5));
        assert!(d.command(Command::Chapter(10)).is_err());
    }

    #[test]
    fn keys_that_need_live_mode_say_so() {
        let mut d = handshake();
        let err = d
            .command(Command::Connect("10.0.0.2:80".parse().unwrap()))
            .unwrap_err();
        assert!(err.starts_with("c (connect) is for live mode"), "{err}");
        assert!(d.command(Command::TimeScale(-1.0)).is_err());
    }

    #[test]
    fn the_engines_keep_running_after_the_script() {
        let mut d = handshake().paused();
        d.command(Command::Seek(5.0)).unwrap();
        d.poll();
        assert!(d.run.is_finished());
        let conn = ConnRef {
            host: Some("client".into()),
            conn: "10.0.0.1:63359<->10.0.0.2:80".into(),
        };
        d.command(Command::Close(conn)).unwrap();
        d.command(Command::Seek(6.0)).unwrap();
        let after = d.poll();
        let fin_acked = after.iter().any(|e| {
            matches!(
                &e.body,
                Body::State {
                    to: crate::tcp::State::FinWait2,
                    ..
                }
            )
        });
        assert!(fin_acked, "the FIN went out and was acknowledged");
    }
}
