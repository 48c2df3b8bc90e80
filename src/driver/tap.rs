//! `tcpscope watch` and `tcpscope intercept` as the terminal UI sees them:
//! [`TapDriver`] over the packet loop of [`crate::tap`], run on its own
//! thread. Events come through a bounded channel as live mode's do; the
//! fault commands (intercept only) go to the loop, which owns the injector,
//! and their answer comes back.
//!
//! Shown as live mode (real time, one timeline); the connections are the
//! kernel's, each side's states inferred as a capture's are.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::event::Event;
use crate::fault::Rule;
use crate::i18n::{self, Lang, Messages};
use crate::runtime::sink::{PcapSink, Sink};
use crate::tap::intercept::{self, CommandMsg, InterceptSetup};
use crate::tap::watch::{self, WatchSetup};
use crate::tap::{Stats, Stop};

use super::live::UI_CHANNEL;
use super::{Command, Driver, Mode};

/// Most events one `poll` hands over.
const POLL_MAX: usize = 20_000;

pub struct TapDriver {
    events: Receiver<Arc<Event>>,
    title: String,
    asked: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
    commands: Option<Sender<CommandMsg>>,
    thread: Option<JoinHandle<Result<Stats, String>>>,
    started: std::time::Instant,
    /// The language of the answers and the title.
    lang: Lang,
}

struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl TapDriver {
    /// Start `tcpscope watch`: the capture is opened on its thread; its
    /// errors (no CAP_NET_RAW, no such interface, a bad filter) come back
    /// as sentences before anything runs.
    pub fn watch(
        setup: WatchSetup,
        sinks: Vec<Sink>,
        pcap: Option<PcapSink>,
    ) -> Result<TapDriver, String> {
        let title = setup.describe();
        let duration = setup.duration;
        Self::spawn(
            title,
            duration,
            sinks,
            None,
            move |sinks, stop, ready| match watch::open(&setup) {
                Ok(cap) => {
                    let _ = ready.send(Ok(()));
                    watch::run(&setup, cap, sinks, pcap, stop)
                }
                Err(e) => {
                    let _ = ready.send(Err(e.clone()));
                    Err(e)
                }
            },
        )
    }

    /// Start `tcpscope intercept`: queue bound and rules installed on its
    /// thread before this returns.
    pub fn intercept(
        setup: InterceptSetup,
        sinks: Vec<Sink>,
        pcap: Option<PcapSink>,
    ) -> Result<TapDriver, String> {
        let title = setup.describe();
        let (tx, rx) = channel::<CommandMsg>();
        let duration = setup.duration;
        Self::spawn(
            title,
            duration,
            sinks,
            Some(tx),
            move |sinks, stop, ready| match intercept::open(&setup) {
                Ok(opened) => {
                    let _ = ready.send(Ok(()));
                    intercept::run(&setup, opened, sinks, pcap, stop, Some(rx))
                }
                Err(e) => {
                    let _ = ready.send(Err(e.clone()));
                    Err(e)
                }
            },
        )
    }

    fn spawn(
        title: String,
        duration: Option<Duration>,
        mut sinks: Vec<Sink>,
        commands: Option<Sender<CommandMsg>>,
        body: impl FnOnce(Vec<Sink>, &Stop, Sender<Result<(), String>>) -> Result<Stats, String>
        + Send
        + 'static,
    ) -> Result<TapDriver, String> {
        let (ui_sink, events) = Sink::channel(UI_CHANNEL);
        sinks.push(ui_sink);
        let stop = Stop::new(duration)?;
        let asked = stop.asked.clone();
        let done = Arc::new(AtomicBool::new(false));
        let done2 = done.clone();
        let (ready_tx, ready_rx) = channel();
        let thread = std::thread::Builder::new()
            .name("tcpscope-tap".into())
            .spawn(move || {
                let _done = SetOnDrop(done2);
                body(sinks, &stop, ready_tx)
            })
            .map_err(|e| format!("cannot start the capture thread: {e}"))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(TapDriver {
                events,
                title,
                asked,
                done,
                commands,
                thread: Some(thread),
                started: std::time::Instant::now(),
                lang: Lang::En,
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => match thread.join() {
                Ok(Err(e)) => Err(e),
                _ => Err("the capture stopped before it was ready".into()),
            },
        }
    }

    /// Stop (intercept: rules removed, held packets let go) and wait.
    pub fn stop(mut self) -> Result<Stats, String> {
        self.asked.store(true, Ordering::SeqCst);
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err("the capture thread panicked".into()),
            None => Ok(Stats::default()),
        }
    }
}

impl Driver for TapDriver {
    fn playback(&self) -> super::Playback {
        super::Playback {
            // watch only looks; intercept acts on the kernel's packets.
            read_only: self.commands.is_none(),
            ..super::Playback::default()
        }
    }

    fn mode(&self) -> Mode {
        Mode::Live
    }

    fn title(&self) -> String {
        // The packet loop's English, in the answers' language where known.
        i18n::messages(self.lang).phrase(&self.title).into_owned()
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
        self.started.elapsed().as_secs_f64()
    }

    fn next_wake(&self) -> Option<Duration> {
        Some(Duration::from_millis(33))
    }

    fn command(&mut self, cmd: Command) -> Result<String, String> {
        let m = i18n::messages(self.lang);
        if self.finished() {
            return Err(m.t_stopped.into());
        }
        match cmd {
            Command::DropNext(_)
            | Command::SetLoss { .. }
            | Command::HoldAll(_)
            | Command::ReleaseOne
            | Command::ReleaseAll
            | Command::AddRule(_)
            | Command::ClearRules => {
                let Some(tx) = &self.commands else {
                    return Err(m.t_watch_only.into());
                };
                let (rtx, rrx) = channel();
                tx.send((cmd, rtx)).map_err(|_| m.t_stopped.to_string())?;
                // A loop that stopped meanwhile is an error, not a hang.
                let answer = rrx
                    .recv_timeout(Duration::from_secs(2))
                    .map_err(|_| m.t_no_answer.to_string())?;
                answer.map(|a| answer_in(m, a)).map_err(|e| answer_in(m, e))
            }
            Command::Close(_)
            | Command::Abort(_)
            | Command::Keepalive(..)
            | Command::Connect(_) => Err(m.t_kernel_conns.into()),
            Command::TimeScale(_) | Command::Pause(_) => Err(m.t_no_pause.into()),
            Command::StepForward | Command::StepBack | Command::Seek(_) | Command::Chapter(_) => {
                Err(m.t_no_step.into())
            }
        }
    }

    fn finished(&self) -> bool {
        self.done.load(Ordering::SeqCst)
    }

    fn set_lang(&mut self, lang: Lang) {
        self.lang = lang;
    }
}

/// The packet loop's answer to a fault command (English, from
/// `tap::intercept`) in `m`'s language: an added rule in the UI's words,
/// the rest through the phrasebook.
fn answer_in(m: &Messages, answer: String) -> String {
    match answer.strip_prefix("rule added: ") {
        Some(rule) => m.l_rule_added(&Rule::text_in(m, rule)),
        None => m.phrase(&answer).into_owned(),
    }
}

impl Drop for TapDriver {
    fn drop(&mut self) {
        self.asked.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loop's English answers, as the UI's language says them.
    #[test]
    fn the_loops_answers_in_the_uis_language() {
        let (en, zh) = (i18n::messages(Lang::En), i18n::messages(Lang::Zh));
        for a in ["rule added: drop in SA next 1", "released 2 packet(s)"] {
            assert_eq!(answer_in(en, a.into()), a);
        }
        assert_eq!(
            answer_in(zh, "rule added: drop in SA next 1".into()),
            "已添加规则：丢弃 入 SA 接下来 1 个"
        );
        assert_eq!(
            answer_in(zh, "released 2 packet(s)".into()),
            "放行了 2 个报文"
        );
    }
}
