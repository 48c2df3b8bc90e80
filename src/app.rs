//! What each command does, from parsed flags to a finished run.

use std::path::Path;

use crate::cli::{Cli, Command, Common};
use crate::output::{EventWriter, Recorder};
use crate::scenario::{BUILTIN, Lang, Run, Scenario};
use crate::time::Instant;
use crate::ui::demo::{DemoDriver, Tee};
use crate::ui::replay::{self, ReplayDriver};

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
        Some(Command::Replay { file }) => replay(&file, &common),
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
    if !common.headless {
        return demo_tui(scenario, ov, common);
    }
    let title = scenario.title.clone();
    let mut run = Run::new(scenario, &ov);
    if let Some(path) = &common.pcap {
        let w = crate::pcap::PcapWriter::create(path, "wire")
            .map_err(|e| format!("cannot write the pcap file {}: {e}", path.display()))?;
        run.set_pcap(w);
    }
    headless(&mut run, common, &title)
}

/// The demo in the terminal UI; `--events FILE` and `--record FILE` still
/// get every event.
fn demo_tui(
    scenario: Scenario,
    ov: crate::scenario::Overrides,
    common: &Common,
) -> Result<(), String> {
    if common.events.as_deref() == Some("-") {
        return Err(
            "--events - would write over the terminal UI: add --headless, or give a file name"
                .into(),
        );
    }
    let events = match &common.events {
        Some(p) => {
            Some(EventWriter::create(p).map_err(|e| format!("cannot write events to {p}: {e}"))?)
        }
        None => None,
    };
    let record = match &common.record {
        Some(p) => Some(
            Recorder::create(p, "demo", &scenario.title)
                .map_err(|e| format!("cannot write the recording {}: {e}", p.display()))?,
        ),
        None => None,
    };
    let mut driver = DemoDriver::new(scenario, ov)
        .with_stop(common.duration)
        .with_walkthrough(common.step)
        .with_tee(Tee::new(events, record));
    if let Some(path) = &common.pcap {
        let w = crate::pcap::PcapWriter::create(path, "wire")
            .map_err(|e| format!("cannot write the pcap file {}: {e}", path.display()))?;
        driver = driver.with_pcap(w);
    }
    crate::ui::run(&mut driver)
}

fn replay(file: &Path, common: &Common) -> Result<(), String> {
    let rec = replay::load(file)?;
    if common.headless {
        // Without the UI a replay is the recording's events, as JSON lines.
        let target = common.events.clone().unwrap_or_else(|| "-".into());
        let mut out = EventWriter::create(&target)
            .map_err(|e| format!("cannot write events to {target}: {e}"))?;
        for e in &rec.events {
            out.write(e)
                .map_err(|e| format!("cannot write events: {e}"))?;
        }
        return out.flush().map_err(|e| format!("cannot write events: {e}"));
    }
    let mut driver = ReplayDriver::new(rec);
    if common.step {
        use crate::ui::driver::Driver;
        let _ = driver.set_walkthrough(true);
    }
    crate::ui::run(&mut driver)
}

fn headless(run: &mut Run, common: &Common, title: &str) -> Result<(), String> {
    match headless_inner(run, common, title) {
        // The reader went away (`| head`): stop quietly, as Unix tools do.
        Err(HeadlessError::Events(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(HeadlessError::Events(e)) => Err(format!("cannot write events: {e}")),
        Err(HeadlessError::Msg(m)) => Err(m),
        Ok(()) => Ok(()),
    }
}

enum HeadlessError {
    /// Writing the event stream failed.
    Events(std::io::Error),
    Msg(String),
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
    let rec_err =
        |e: std::io::Error| HeadlessError::Msg(format!("cannot write the recording: {e}"));
    let stop = common.duration.map(Instant::from_secs_f64);
    loop {
        match stop {
            Some(s) => {
                run.advance_one(Some(s));
                if run.next_wakeup().is_none_or(|t| t > s) {
                    run.advance(s);
                }
            }
            None => run.advance_one(None),
        }
        for e in run.take_events() {
            out.write(&e).map_err(HeadlessError::Events)?;
            if let Some(r) = rec.as_mut() {
                r.write(&e).map_err(rec_err)?;
            }
        }
        let stopped = stop.is_some_and(|s| run.next_wakeup().is_none_or(|t| t > s));
        if run.is_finished() || stopped {
            break;
        }
    }
    out.flush().map_err(HeadlessError::Events)?;
    if let Some(r) = rec.as_mut() {
        r.flush().map_err(rec_err)?;
    }
    run.flush_pcap()
        .map_err(|e| HeadlessError::Msg(format!("cannot write the pcap file: {e}")))?;
    if let Some(e) = run.pcap_error() {
        return Err(HeadlessError::Msg(e.to_string()));
    }
    Ok(())
}
