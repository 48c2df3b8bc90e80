//! Live mode as the terminal UI sees it: [`LiveDriver`] implements
//! [`crate::driver::Driver`] over the live runtime ([`crate::runtime`]).
//!
//! The runtime runs on its own thread (a current-thread tokio runtime); the
//! UI thread gets events from a bounded channel (a lagging UI loses events
//! and gets a `lagged` event, the stack never waits for it) and applies
//! commands directly to the injector and the engine under the shared lock,
//! then pokes the runtime task so their effects go out at once.
//!
//! Uses the runtime, the socket layer and the services; must not depend on
//! `ui`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::Notify;

use crate::event::{Dir, Event};
use crate::i18n::{self, Lang, Messages};
use crate::runtime::sink::{PcapSink, Sink};
use crate::runtime::{Live, LiveSetup, Stats};
use crate::services;
use crate::socket::{Inner, Shared, Stack};
use crate::tcp::ConnId;

use super::faults::{Done, Faults};
use super::{Command, ConnRef, Driver, Mode};

/// Events the UI channel holds before the UI counts as lagging.
pub const UI_CHANNEL: usize = 65536;

/// Most events one `poll` hands over (the rest wait for the next frame).
const POLL_MAX: usize = 20_000;

pub struct LiveDriver {
    shared: Arc<Shared>,
    stack: Stack,
    handle: tokio::runtime::Handle,
    events: Receiver<Arc<Event>>,
    /// The title in each language ([`Lang`] order: English, Chinese).
    titles: [String; 2],
    /// The language of the answers and the title.
    lang: Lang,
    /// The fault commands' state: `l` replaces every plain loss rule.
    faults: Faults,
    stop: Arc<Notify>,
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<Stats, String>>>,
}

impl LiveDriver {
    /// Open the interface and start the runtime on its own thread. Errors
    /// (no CAP_NET_ADMIN, name or address in use, …) come back as sentences
    /// before anything runs. `sinks` are further consumers (`--events`,
    /// `--record`); the UI's own channel is added here.
    pub fn start(
        setup: LiveSetup,
        mut sinks: Vec<Sink>,
        pcap: Option<PcapSink>,
    ) -> Result<LiveDriver, String> {
        let (ui_sink, events) = Sink::channel(UI_CHANNEL);
        sinks.push(ui_sink);
        let titles = [Lang::En, Lang::Zh].map(|l| setup.describe_in(i18n::messages(l)));
        let stop = Arc::new(Notify::new());
        let done = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = sync_channel(1);
        let (stop2, done2) = (stop.clone(), done.clone());
        let thread = std::thread::Builder::new()
            .name("tcpscope-live".into())
            .spawn(move || -> Result<Stats, String> {
                // `done` is set however the thread ends, a panic included,
                // so the UI shows the run as stopped instead of waiting.
                let _done = SetOnDrop(done2);
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let msg = format!("cannot start the async runtime: {e}");
                        let _ = ready_tx.send(Err(msg.clone()));
                        return Err(msg);
                    }
                };
                rt.block_on(async move {
                    match Live::open(setup, sinks, pcap) {
                        Ok((live, tun)) => {
                            let _ = ready_tx.send(Ok((
                                live.shared().clone(),
                                live.stack().clone(),
                                tokio::runtime::Handle::current(),
                            )));
                            live.run(tun, stop2).await
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.clone()));
                            Err(e)
                        }
                    }
                })
            })
            .map_err(|e| format!("cannot start the live runtime thread: {e}"))?;
        match ready_rx.recv() {
            Ok(Ok((shared, stack, handle))) => Ok(LiveDriver {
                shared,
                stack,
                handle,
                events,
                titles,
                lang: Lang::En,
                faults: Faults::new(),
                stop,
                done,
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => match thread.join() {
                Ok(Err(e)) => Err(e),
                _ => Err("the live runtime stopped before it was ready".into()),
            },
        }
    }

    /// Stop (close connections, remove the interface) and wait for it.
    pub fn stop(mut self) -> Result<Stats, String> {
        self.stop.notify_one();
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err("the live runtime panicked".into()),
            None => Ok(Stats::default()),
        }
    }

    fn find(m: &Messages, g: &Inner, c: &ConnRef) -> Result<ConnId, String> {
        g.engine
            .connections()
            .find(|t| *t.name == *c.conn)
            .map(|t| t.id)
            .ok_or_else(|| m.l_no_open_conn(&c.conn))
    }

    fn apply(&mut self, cmd: Command) -> Result<String, String> {
        let now = self.shared.clock().now();
        let m = i18n::messages(self.lang);
        // The engine's answer to a user call, in the answers' language.
        let failed =
            |conn: &str, e: crate::tcp::TcpError| format!("{conn}: {}", m.phrase(&e.to_string()));
        let mut g = self.shared.lock();
        match cmd {
            Command::DropNext(_)
            | Command::SetLoss { .. }
            | Command::HoldAll(_)
            | Command::ReleaseOne
            | Command::ReleaseAll
            | Command::AddRule(_)
            | Command::ClearRules => {
                let done = self.faults.apply(&mut g.injector, now, &cmd)?;
                Ok(say(m, done, g.injector.held_count()))
            }
            Command::Close(c) => {
                let cid = Self::find(m, &g, &c)?;
                g.engine.close(now, cid).map_err(|e| failed(&c.conn, e))?;
                Ok(m.l_closing(&c.conn))
            }
            Command::Abort(c) => {
                let cid = Self::find(m, &g, &c)?;
                g.engine.abort(now, cid).map_err(|e| failed(&c.conn, e))?;
                Ok(m.l_aborted(&c.conn))
            }
            Command::Keepalive(c, on) => {
                let cid = Self::find(m, &g, &c)?;
                let ka = on.then(|| g.engine.config().keepalive);
                g.engine
                    .set_keepalive(now, cid, ka)
                    .map_err(|e| failed(&c.conn, e))?;
                Ok(match ka {
                    Some(k) => m.l_ka_on(
                        &c.conn,
                        &k.idle.as_secs_f64().to_string(),
                        &k.interval.as_secs_f64().to_string(),
                        k.count,
                    ),
                    None => m.l_ka_off(&c.conn),
                })
            }
            Command::Connect(addr) => {
                drop(g);
                self.handle
                    .spawn(services::active_open(self.stack.clone(), addr, None));
                Ok(m.l_connecting(&addr.to_string()))
            }
            Command::TimeScale(_) | Command::Pause(_) => Err(m.l_no_pause.into()),
            Command::StepForward | Command::StepBack | Command::Seek(_) | Command::Chapter(_) => {
                Err(m.l_no_step.into())
            }
        }
    }
}

impl Driver for LiveDriver {
    fn mode(&self) -> Mode {
        Mode::Live
    }

    fn title(&self) -> String {
        self.titles[usize::from(self.lang == Lang::Zh)].clone()
    }

    fn poll(&mut self) -> Vec<Event> {
        let mut v = Vec::new();
        while v.len() < POLL_MAX {
            match self.events.try_recv() {
                Ok(e) => v.push(Arc::unwrap_or_clone(e)),
                Err(_) => break,
            }
        }
        v
    }

    fn now(&self) -> f64 {
        self.shared.clock().now().secs_f64()
    }

    /// Events arrive on their own: look again at a frame rate.
    fn next_wake(&self) -> Option<Duration> {
        Some(Duration::from_millis(33))
    }

    fn command(&mut self, cmd: Command) -> Result<String, String> {
        if self.finished() {
            return Err(i18n::messages(self.lang).l_stopped.into());
        }
        let r = self.apply(cmd);
        self.shared.poke();
        r
    }

    fn finished(&self) -> bool {
        self.done.load(Ordering::SeqCst)
    }

    fn set_lang(&mut self, lang: Lang) {
        self.lang = lang;
    }
}

/// What a fault command did, in live mode's words (directions as the
/// injector sees them: in from the kernel, out to it). `held`: segments
/// held after it.
fn say(m: &Messages, done: Done, held: usize) -> String {
    match done {
        Done::DropNext(Dir::In) => m.l_drop_in.into(),
        Done::DropNext(Dir::Out) => m.l_drop_out.into(),
        Done::Loss { inbound, outbound } => m.l_loss(&inbound.to_string(), &outbound.to_string()),
        Done::Hold(true) => m.d_holding.into(),
        Done::Hold(false) => m.l_hold_off(held),
        Done::ReleasedOne => m.l_released_one(held),
        Done::ReleasedAll(n) => m.l_released_n(n),
        Done::RuleAdded(rule) => m.l_rule_added(&rule.words(m)),
        Done::Cleared => m.l_rules_removed.into(),
    }
}

struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl Drop for LiveDriver {
    fn drop(&mut self) {
        self.stop.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
