//! What each command does, from parsed flags to a finished run.

use crate::cli::{Cli, Command, Common};
use crate::output::{EventWriter, Recorder};
use crate::scenario::{BUILTIN, Lang, Run, Scenario};
use crate::time::Instant;

/// Run the command; an `Err` is one sentence for stderr (exit code 1).
pub fn run(cli: Cli) -> Result<(), String> {
    let common = cli.common.clone();
    match cli.command {
        None => demo("tour", &common),
        Some(Command::Demo { scenario }) => demo(&scenario, &common),
        Some(Command::Scenarios) => {
            list_scenarios(common.lang.unwrap_or_else(Lang::from_env));
            Ok(())
        }
        Some(Command::Live(_)) => Err("live mode is not built yet".into()),
        Some(Command::Replay { .. }) => Err("replay is not built yet".into()),
    }
}

fn list_scenarios(lang: Lang) {
    for (name, _) in BUILTIN {
        let sc = Scenario::builtin(name).expect("built-in");
        println!("{name:<22} {}", sc.title_for(lang));
    }
}

fn demo(name: &str, common: &Common) -> Result<(), String> {
    let scenario = Scenario::load(name)?;
    let mut ov = common.overrides();
    if ov.lang.is_none() {
        ov.lang = Some(Lang::from_env());
    }
    let title = scenario.title.clone();
    let mut run = Run::new(scenario, &ov);
    headless(&mut run, common, &title)
}

fn headless(run: &mut Run, common: &Common, title: &str) -> Result<(), String> {
    match headless_inner(run, common, title) {
        // The reader went away (`| head`): stop quietly, as Unix tools do.
        Err(HeadlessError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(HeadlessError::Io(e)) => Err(format!("cannot write events: {e}")),
        Err(HeadlessError::Msg(m)) => Err(m),
        Ok(()) => Ok(()),
    }
}

enum HeadlessError {
    Io(std::io::Error),
    Msg(String),
}

impl From<String> for HeadlessError {
    fn from(m: String) -> Self {
        HeadlessError::Msg(m)
    }
}

impl From<std::io::Error> for HeadlessError {
    fn from(e: std::io::Error) -> Self {
        HeadlessError::Io(e)
    }
}

fn headless_inner(run: &mut Run, common: &Common, title: &str) -> Result<(), HeadlessError> {
    let target = common.events.clone().unwrap_or_else(|| "-".into());
    let mut out = EventWriter::create(&target)
        .map_err(|e| HeadlessError::Msg(format!("cannot write events to {target}: {e}")))?;
    let mut rec = match &common.record {
        Some(p) => Some(Recorder::create(p, "demo", title).map_err(|e| {
            HeadlessError::Msg(format!("cannot write the recording {}: {e}", p.display()))
        })?),
        None => None,
    };
    let stop = common.duration.map(Instant::from_secs_f64);
    loop {
        match stop {
            Some(s) => {
                run.advance_one(Some(s));
                if run.next_wakeup().is_none_or(|t| t > s) {
                    run.advance(s);
                    break;
                }
            }
            None => run.advance_one(None),
        }
        for e in run.take_events() {
            out.write(&e)
                .map_err(|e| format!("cannot write events: {e}"))?;
            if let Some(r) = rec.as_mut() {
                r.write(&e)
                    .map_err(|e| format!("cannot write the recording: {e}"))?;
            }
        }
        if run.is_finished() {
            break;
        }
    }
    for e in run.take_events() {
        out.write(&e)
            .map_err(|e| format!("cannot write events: {e}"))?;
        if let Some(r) = rec.as_mut() {
            r.write(&e)
                .map_err(|e| format!("cannot write the recording: {e}"))?;
        }
    }
    out.flush()
        .map_err(|e| format!("cannot write events: {e}"))?;
    if let Some(r) = rec.as_mut() {
        r.flush()
            .map_err(|e| format!("cannot write the recording: {e}"))?;
    }
    Ok(())
}
