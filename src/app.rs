//! What each command does, from parsed flags to a finished run.

use std::path::Path;

use clap::CommandFactory;
use std::time::Duration;

use crate::cli::{Cli, CliCommand, Common, InterceptArgs, LiveArgs, WatchArgs};
use crate::driver::attach::{self, AttachDriver, Next};
use crate::driver::demo::{DemoDriver, Tee};
use crate::driver::live::LiveDriver;
use crate::driver::replay::{self, ReplayDriver};
use crate::link::tun::{TunSpec, parse_cidr, parse_cidr6};
use crate::output::{EventWriter, Recorder};
use crate::runtime::share::{self, Share, ShareSocket};
use crate::runtime::sink::{PcapSink, Sink, spawn_event_writer};
use crate::runtime::{LiveSetup, run_headless};
use crate::scenario::{BUILTIN, Lang, Run, Scenario};
use crate::time::Instant;
use crate::transcript::Transcript;

/// The built-in tour: the default command, and a walkthrough by default.
const TOUR: &str = "tour";

/// Run the command; an `Err` is one sentence for stderr (exit code 1).
pub fn run(cli: Cli) -> Result<(), String> {
    if let Some(CliCommand::Config) = cli.command {
        print!("{}", crate::config::default_file());
        return Ok(());
    }
    let common = crate::config::apply(cli.common.clone())?;
    check_screenshot(&cli.command, &common)?;
    match cli.command {
        Some(CliCommand::Config) => unreachable!("printed above"),
        None => demo(TOUR, &common),
        Some(CliCommand::Demo { scenario }) => demo(&scenario, &common),
        Some(CliCommand::Scenarios) => list_scenarios(common.lang.unwrap_or_else(Lang::from_env)),
        Some(CliCommand::Live(args)) => live(&args, &common),
        Some(CliCommand::Drill(args)) => drill(&args, &common),
        Some(CliCommand::Watch(args)) => watch(&args, &common),
        Some(CliCommand::Intercept(args)) => intercept(&args, &common),
        Some(CliCommand::Attach { path }) => attach(&path, &cli.common, &common),
        Some(CliCommand::Replay { file }) => replay(&file, &common),
        Some(CliCommand::Plot { file, output, conn }) => {
            no_transcript(&common, "plot")?;
            let lang = common.overrides().lang.unwrap_or_else(Lang::from_env);
            crate::ui::plot::plot_file(&file, &output, conn.as_deref(), lang)
        }
        Some(CliCommand::Completions { shell }) => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "tcpscope", &mut out);
            print_bytes(&out)
        }
        Some(CliCommand::Man) => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map_err(|e| format!("cannot render the man page: {e}"))?;
            print_bytes(&out)
        }
    }
}

/// `tcpscope drill FILE.pkt…`: each script against one engine under
/// virtual time; a line per script, then the counts. `--events`,
/// `--record` and `--pcap` get every script's run, one after the other on
/// one timeline (each script starts a second after the previous ended).
fn drill(args: &crate::cli::DrillArgs, common: &Common) -> Result<(), String> {
    use crate::drill::{Options, Tally};
    no_transcript(common, "drill")?;
    let opts = Options {
        ipv6: args.ip_version == "ipv6",
        tolerance_usecs: args.tolerance_usecs,
        profile: common.profile.unwrap_or(crate::tcp::Profile::Linux),
        narrate: false,
    };
    let mut events = match &common.events {
        Some(t) => {
            Some(EventWriter::create(t).map_err(|e| format!("cannot write events to {t}: {e}"))?)
        }
        None => None,
    };
    let mut rec = match &common.record {
        Some(p) => Some(
            Recorder::create(p, "drill", "packetdrill scripts")
                .map_err(|e| format!("cannot write the recording {}: {e}", p.display()))?,
        ),
        None => None,
    };
    let mut pcap = match &common.pcap {
        Some(p) => Some(
            crate::pcap::PcapWriter::create(p, "drill")
                .map_err(|e| format!("cannot write the pcap file {}: {e}", p.display()))?,
        ),
        None => None,
    };
    let mut tally = Tally::default();
    let mut offset = 0.0f64;
    for file in &args.files {
        let run = crate::drill::run_file(file, &opts);
        let line = run.outcome.line_for(&file.display().to_string());
        say(&line)?;
        tally.add(&run.outcome);
        let mut end = 0.0f64;
        for mut e in run.events {
            end = end.max(e.t);
            e.t += offset;
            if let Some(w) = events.as_mut() {
                w.write(&e)
                    .map_err(|e| format!("cannot write events: {e}"))?;
            }
            if let Some(r) = rec.as_mut() {
                r.write(&e)
                    .map_err(|e| format!("cannot write the recording: {e}"))?;
            }
        }
        if let Some(w) = pcap.as_mut() {
            for (t, dir, bytes) in &run.wire {
                end = end.max(t.secs_f64());
                let at = Duration::from_secs_f64(offset + t.secs_f64());
                w.write(at, Some(*dir), bytes, None)
                    .map_err(|e| format!("cannot write the pcap file: {e}"))?;
            }
        }
        offset += end.ceil() + 1.0;
    }
    if let Some(w) = events.as_mut() {
        w.flush().map_err(|e| format!("cannot write events: {e}"))?;
    }
    if let Some(r) = rec.as_mut() {
        r.flush()
            .map_err(|e| format!("cannot write the recording: {e}"))?;
    }
    if let Some(w) = pcap.as_mut() {
        w.flush()
            .map_err(|e| format!("cannot write the pcap file: {e}"))?;
    }
    say(&tally)?;
    if tally.all_passed() {
        Ok(())
    } else {
        Err(format!(
            "{} of {} scripts did not pass",
            tally.failed + tally.unsupported,
            args.files.len()
        ))
    }
}

/// A line on standard output; a reader that went away (`| head -1`) ends
/// the command with one sentence, not a panic.
fn say(line: &dyn std::fmt::Display) -> Result<(), String> {
    use std::io::Write;
    writeln!(std::io::stdout().lock(), "{line}").map_err(|e| match e.kind() {
        std::io::ErrorKind::BrokenPipe => "standard output was closed".to_string(),
        _ => format!("cannot write to standard output: {e}"),
    })
}

/// `tcpscope demo FILE.pkt` (docs/drill.md, Watching a script): the
/// script played once with a narration per line, then shown as a
/// recording in walkthrough (unless `--no-step`): the script's local end is
/// the engine, its remote the runner's injected packets. Headless, the
/// events as JSON lines; `--transcript`, `--screenshot`, `--record` and
/// `--events` as for any demo.
fn drill_demo(file: &Path, common: &Common) -> Result<(), String> {
    use crate::drill::{Options, Outcome};
    let opts = Options {
        ipv6: false,
        tolerance_usecs: None,
        profile: common.profile.unwrap_or(crate::tcp::Profile::Linux),
        narrate: true,
    };
    if !file.exists() {
        return Err(format!(
            "cannot read the script {}: no such file",
            file.display()
        ));
    }
    let run = crate::drill::run_file(file, &opts);
    let name = file.display().to_string();
    let report = run.outcome.line_for(&name);
    // The verdict first: the title bar cuts what is too long for it.
    let base = file
        .file_name()
        .map_or(name.clone(), |b| b.to_string_lossy().into_owned());
    let verdict = match &run.outcome {
        Outcome::Pass => format!("PASS {base}"),
        Outcome::Fail { line, .. } => format!("FAIL {base}:{line}"),
        Outcome::Unsupported { line, .. } => format!("UNSUPPORTED {base}:{line}"),
    };
    let title = format!("packetdrill script {name}");
    let mut events = run.events;
    if events.is_empty() {
        // Nothing was played (a grammar error, an unsupported construct):
        // the report is the one step.
        events.push(crate::event::Event {
            t: 0.0,
            host: None,
            conn: None,
            body: crate::event::Body::Narration {
                lang: "en".into(),
                text: report.clone(),
                explains: None,
                chapter: None,
            },
        });
    }
    if let Some(path) = &common.transcript {
        let lang = common.ui().lang;
        let mut t = Transcript::named(path, &name, &verdict, lang);
        for e in &events {
            t.ingest(e);
        }
        t.set_finished();
        t.write()?;
    }
    if common.headless {
        let target = common.events.clone().unwrap_or_else(|| "-".into());
        let mut out = EventWriter::create(&target)
            .map_err(|e| format!("cannot write events to {target}: {e}"))?;
        let mut rec = match &common.record {
            Some(p) => Some(
                Recorder::create(p, "drill", &title)
                    .map_err(|e| format!("cannot write the recording {}: {e}", p.display()))?,
            ),
            None => None,
        };
        for e in &events {
            out.write(e)
                .map_err(|e| format!("cannot write events: {e}"))?;
            if let Some(r) = rec.as_mut() {
                r.write(e)
                    .map_err(|e| format!("cannot write the recording: {e}"))?;
            }
        }
        out.flush()
            .map_err(|e| format!("cannot write events: {e}"))?;
        if let Some(r) = rec.as_mut() {
            r.flush()
                .map_err(|e| format!("cannot write the recording: {e}"))?;
        }
        eprintln!("{report}");
        return Ok(());
    }
    let (mut ev_out, mut rec) = tui_writers(common, "drill", &title)?;
    for e in &events {
        if let Some(w) = ev_out.as_mut() {
            w.write(e)
                .map_err(|e| format!("cannot write events: {e}"))?;
        }
        if let Some(r) = rec.as_mut() {
            r.write(e)
                .map_err(|e| format!("cannot write the recording: {e}"))?;
        }
    }
    if let Some(w) = ev_out.as_mut() {
        w.flush().map_err(|e| format!("cannot write events: {e}"))?;
    }
    if let Some(r) = rec.as_mut() {
        r.flush()
            .map_err(|e| format!("cannot write the recording: {e}"))?;
    }
    let mut driver = ReplayDriver::new(replay::Recording {
        name: verdict,
        header: replay::Header {
            tcpscope_recording: crate::output::RECORDING_FORMAT,
            version: Some(env!("CARGO_PKG_VERSION").into()),
            mode: Some("drill".into()),
            title: Some(title),
        },
        events,
        notice: None,
    })
    .paused();
    use crate::driver::Driver;
    let _ = driver.set_walkthrough(!common.no_step);
    if let Some(x) = common.speed {
        driver.command(crate::driver::Command::TimeScale(x))?;
    }
    if let Some(done) = screenshot(&mut driver, common) {
        return done;
    }
    crate::ui::run_with(&mut driver, common.ui())
}

/// Write generated text to stdout; a reader that went away (`| head`) is
/// not an error.
fn print_bytes(bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("cannot write to stdout: {e}"))
        }
        _ => Ok(()),
    }
}

/// `--screenshot` draws the terminal UI's frame of a demo or a replay.
fn check_screenshot(command: &Option<CliCommand>, common: &Common) -> Result<(), String> {
    if common.screenshot.is_none() {
        if common.size.is_some() {
            return Err(
                "--size is the size of a screenshot: give --screenshot FILE.svg too".into(),
            );
        }
        return Ok(());
    }
    match command {
        Some(CliCommand::Live(_)) => {
            Err("--screenshot works in demo and replay; in live mode press S in the UI".into())
        }
        Some(CliCommand::Attach { .. }) => {
            Err("--screenshot works in demo and replay; in a viewer press S in the UI".into())
        }
        Some(CliCommand::Watch(_)) | Some(CliCommand::Intercept(_)) => Err(
            "--screenshot works in demo and replay; here press S in the UI, or --record and replay the recording".into(),
        ),
        Some(CliCommand::Scenarios) => Err("--screenshot works in demo and replay".into()),
        Some(CliCommand::Plot { .. }) => Err(
            "--screenshot works in demo and replay; tcpscope plot writes its SVG to -o FILE".into(),
        ),
        _ if common.headless => Err(
            "--screenshot draws the terminal UI without a terminal: leave out --headless".into(),
        ),
        _ => Ok(()),
    }
}

/// `--screenshot FILE`: the frame at `--duration`, drawn without a terminal.
fn screenshot(
    driver: &mut dyn crate::driver::Driver,
    common: &Common,
) -> Option<Result<(), String>> {
    let path = common.screenshot.as_ref()?;
    Some(crate::ui::screenshot::capture(
        driver,
        common.duration,
        common.size.unwrap_or_default(),
        common.ui(),
        path,
    ))
}

fn list_scenarios(lang: Lang) -> Result<(), String> {
    for (name, _) in BUILTIN {
        let sc = Scenario::builtin(name).expect("built-in");
        say(&format_args!("{name:<22} {}", sc.title_for(lang)))?;
    }
    Ok(())
}

fn demo(name: &str, common: &Common) -> Result<(), String> {
    if name.ends_with(".pkt") {
        return drill_demo(Path::new(name), common);
    }
    let scenario = Scenario::load(name)?;
    let mut ov = common.overrides();
    if ov.lang.is_none() {
        ov.lang = Some(Lang::from_env());
    }
    if !common.headless {
        return demo_tui(scenario, ov, common);
    }
    let title = scenario.title.clone();
    let mut transcript = transcript_for(common, &scenario, &ov)?;
    let mut run = Run::new(scenario, &ov);
    if let Some(path) = &common.pcap {
        let w = crate::pcap::PcapWriter::create(path, "wire")
            .map_err(|e| format!("cannot write the pcap file {}: {e}", path.display()))?;
        run.set_pcap(w);
    }
    let result = headless(&mut run, common, &title, transcript.as_mut());
    if let Some(t) = &transcript {
        t.write()?;
    }
    result
}

/// `--transcript FILE.md`: an empty handout for this demo, checked to be
/// writable before the run starts.
fn transcript_for(
    common: &Common,
    scenario: &Scenario,
    ov: &crate::settings::Overrides,
) -> Result<Option<Transcript>, String> {
    let Some(path) = &common.transcript else {
        return Ok(None);
    };
    let t = Transcript::new(path, scenario, ov.lang.unwrap_or(Lang::En));
    std::fs::File::create(path)
        .map_err(|e| format!("cannot write the transcript {}: {e}", path.display()))?;
    Ok(Some(t))
}

/// `--transcript` belongs to demos; elsewhere it is a mistake to say so.
fn no_transcript(common: &Common, command: &str) -> Result<(), String> {
    match &common.transcript {
        Some(_) => Err(format!(
            "--transcript writes a demo's narration: use it with tcpscope demo, not tcpscope {command}"
        )),
        None => Ok(()),
    }
}

/// The demo in the terminal UI; `--events FILE` and `--record FILE` still
/// get every event.
fn demo_tui(
    scenario: Scenario,
    ov: crate::settings::Overrides,
    common: &Common,
) -> Result<(), String> {
    let (events, record) = tui_writers(common, "demo", &scenario.title)?;
    let transcript = transcript_for(common, &scenario, &ov)?;
    // The tour is a walkthrough unless --no-step says otherwise; other
    // scenarios run through unless --step says otherwise.
    let step = common.step || (scenario.name == TOUR && !common.no_step);
    let mut driver = DemoDriver::new(scenario, ov)
        .with_speed(common.speed)
        .with_stop(common.duration)
        .with_walkthrough(step)
        .with_tee(Tee::new(events, record).with_transcript(transcript));
    if let Some(path) = &common.pcap {
        let w = crate::pcap::PcapWriter::create(path, "wire")
            .map_err(|e| format!("cannot write the pcap file {}: {e}", path.display()))?;
        driver = driver.with_pcap(w);
    }
    let ui = match screenshot(&mut driver, common) {
        Some(done) => done,
        None => crate::ui::run_with(&mut driver, common.ui()),
    };
    // The handout holds what the run produced until the UI closed.
    if let Some(t) = driver.take_transcript() {
        t.write()?;
    }
    ui
}

fn replay(file: &Path, common: &Common) -> Result<(), String> {
    no_transcript(common, "replay")?;
    if common.headless
        && let replay::Kind::Capture(format) = replay::kind(file)?
    {
        return capture_headless(file, format, common);
    }
    if let replay::Kind::Capture(format) = replay::kind(file)? {
        // Made again from the file as needed, never all held (docs/captures.md,
        // Opening a capture: bounded memory).
        let mut driver = ReplayDriver::capture(file, format)?;
        return replay_ui(&mut driver, common);
    }
    if !common.headless {
        // Read a window at a time, never all held (docs/captures.md, Opening a capture, measured).
        let mut driver = ReplayDriver::recording(file)?;
        return replay_ui(&mut driver, common);
    }
    // Without the UI a replay is the recording's events, as JSON lines,
    // never all held; one cut short, those before the cut and a warning.
    let (_, events, cut) = replay::recorded_events(file)?;
    let target = common.events.clone().unwrap_or_else(|| "-".into());
    let mut out = EventWriter::create(&target)
        .map_err(|e| format!("cannot write events to {target}: {e}"))?;
    for e in events {
        out.write(&e?)
            .map_err(|e| format!("cannot write events: {e}"))?;
    }
    out.flush()
        .map_err(|e| format!("cannot write events: {e}"))?;
    if let Some(cut) = cut {
        eprintln!("tcpscope: warning: {cut}");
    }
    Ok(())
}

fn replay_ui(driver: &mut ReplayDriver, common: &Common) -> Result<(), String> {
    use crate::driver::Driver;
    if common.step {
        let _ = driver.set_walkthrough(true);
    }
    if let Some(x) = common.speed {
        driver.command(crate::driver::Command::TimeScale(x))?;
    }
    if let Some(done) = screenshot(driver, common) {
        return done;
    }
    crate::ui::run_with(driver, common.ui())
}

/// A capture without the UI: its events as they are made, never all held
/// (docs/captures.md, Opening a capture: bounded memory). A capture cut short is a
/// warning on stderr, not a failure.
fn capture_headless(
    file: &Path,
    format: crate::capture::Format,
    common: &Common,
) -> Result<(), String> {
    let target = common.events.clone().unwrap_or_else(|| "-".into());
    let mut out = EventWriter::create(&target)
        .map_err(|e| format!("cannot write events to {target}: {e}"))?;
    let summary = match crate::capture::convert_in_order(file, format, |e| out.write(&e)) {
        Ok(s) => s,
        Err(crate::capture::Error::Open(s)) => return Err(s),
        Err(crate::capture::Error::Sink(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            return Ok(());
        }
        Err(crate::capture::Error::Sink(e)) => return Err(format!("cannot write events: {e}")),
    };
    match out.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(format!("cannot write events: {e}"));
        }
        _ => {}
    }
    if let Some(cut) = summary.cut {
        eprintln!("tcpscope: warning: {cut}");
    }
    Ok(())
}

fn headless(
    run: &mut Run,
    common: &Common,
    title: &str,
    transcript: Option<&mut Transcript>,
) -> Result<(), String> {
    match headless_inner(run, common, title, transcript) {
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

fn headless_inner(
    run: &mut Run,
    common: &Common,
    title: &str,
    mut transcript: Option<&mut Transcript>,
) -> Result<(), HeadlessError> {
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
            if let Some(t) = transcript.as_mut() {
                t.ingest(&e);
            }
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

/// `--share PATH`: the socket, made before anything else starts (its
/// errors are sentences before the interface exists), and the hub's sink.
fn share_for(args: &LiveArgs, setup: &LiveSetup) -> Result<(Vec<Sink>, Option<Share>), String> {
    let Some(path) = &args.share else {
        return Ok((Vec::new(), None));
    };
    let socket = ShareSocket::bind(path)?;
    let (sink, share) = share::spawn(socket, setup.describe())?;
    Ok((vec![sink], Some(share)))
}

/// After the runtime stopped: the last events to the viewers, the socket
/// file removed.
fn finish_share(share: Option<Share>) {
    if let Some(s) = share {
        s.finish();
    }
}

/// Flags that act on the stack or the UI's timeline: a viewer has neither.
/// The flags as given (not the config file's defaults, which are for the
/// user's own sessions): the first such flag's name.
fn viewer_misfit(c: &Common) -> Option<&'static str> {
    let given = [
        (c.pcap.is_some(), "--pcap"),
        (c.transcript.is_some(), "--transcript"),
        (c.step, "--step"),
        (c.no_step, "--no-step"),
        (c.speed.is_some(), "--speed"),
        (c.profile.is_some(), "--profile"),
        (c.msl.is_some(), "--msl"),
        (c.keepalive.is_some(), "--keepalive"),
        (c.rto_min.is_some(), "--rto-min"),
        (c.cc.is_some(), "--cc"),
        (c.rack.is_some(), "--rack"),
        (c.seed.is_some(), "--seed"),
        (!c.drops.is_empty(), "--drop"),
        (c.loss.is_some(), "--loss"),
        (c.max_connections.is_some(), "--max-connections"),
        (c.backlog.is_some(), "--backlog"),
        (c.send_buf.is_some(), "--send-buf"),
        (c.recv_buf.is_some(), "--recv-buf"),
        (c.ooo_segments.is_some(), "--ooo-segments"),
        (c.syn_cookies.is_some(), "--syn-cookies"),
    ];
    given.into_iter().find(|(g, _)| *g).map(|(_, name)| name)
}

/// `tcpscope attach PATH`: a read-only viewer of a shared live session.
/// `raw`: the flags as given; `common`: with the config file applied.
fn attach(path: &Path, raw: &Common, common: &Common) -> Result<(), String> {
    if let Some(flag) = viewer_misfit(raw) {
        return Err(format!(
            "{flag} is for the tcpscope live that shares the session: a viewer (tcpscope attach) only watches; it takes --headless, --events, --record, --duration, --theme and --config"
        ));
    }
    let session = attach::connect(path)?;
    if !common.headless {
        let (events, record) = tui_writers(common, "live", &session.title)?;
        let mut driver = AttachDriver::new(session, events, record);
        return crate::ui::run_with(&mut driver, common.ui());
    }
    let target = common.events.clone().unwrap_or_else(|| "-".into());
    let mut out = EventWriter::create(&target)
        .map_err(|e| format!("cannot write events to {target}: {e}"))?;
    let mut rec = match &common.record {
        Some(p) => Some(
            Recorder::create(p, "live", &session.title)
                .map_err(|e| format!("cannot write the recording {}: {e}", p.display()))?,
        ),
        None => None,
    };
    let stop = common
        .duration
        .map(|d| std::time::Instant::now() + Duration::from_secs_f64(d));
    let rerr = |e: std::io::Error| format!("cannot write the recording: {e}");
    let mut broken = None;
    let result = 'run: loop {
        let wait = stop.map(|s| s.saturating_duration_since(std::time::Instant::now()));
        let mut next = session.next(wait);
        // Everything that is there, then one flush, so `tail -f` and tests
        // see every line without a write per event.
        let ended = loop {
            match next {
                Next::Event(e) => {
                    if let Err(e) = out.write(&e) {
                        break 'run Err(e);
                    }
                    if let Some(r) = rec.as_mut() {
                        r.write(&e).map_err(rerr)?;
                    }
                }
                Next::Idle => break false,
                Next::End => break true,
                Next::Broken(why) => {
                    broken = Some(why);
                    break true;
                }
            }
            next = session.next(Some(Duration::ZERO));
        };
        if let Err(e) = out.flush() {
            break Err(e);
        }
        if let Some(r) = rec.as_mut() {
            r.flush().map_err(rerr)?;
        }
        if ended || stop.is_some_and(|s| std::time::Instant::now() >= s) {
            break Ok(());
        }
    };
    if let Some(r) = rec.as_mut() {
        r.flush().map_err(rerr)?;
    }
    match result.and_then(|()| out.flush()) {
        // The reader went away (`| head`): stop quietly, as Unix tools do.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("cannot write events: {e}")),
        Ok(()) => broken.map_or(Ok(()), Err),
    }
}

/// Events the `--events`/`--record` writer's channel holds before it lags.
const WRITER_CHANNEL: usize = 1 << 17;
const PCAP_CHANNEL: usize = 1 << 15;

pub fn live_setup(args: &LiveArgs, common: &Common) -> Result<LiveSetup, String> {
    let (kernel_addr, prefix) = parse_cidr(&args.addr)?;
    let (kernel_addr6, prefix6) = parse_cidr6(&args.addr6)?;
    let services = crate::services::parse_serve(&args.serve)?;
    let ov = common.overrides();
    let (cfg, profile) = crate::settings::live(&ov);
    let http_idle = match args.http_idle {
        Some(v) if !(v.is_finite() && v > 0.0) => {
            return Err(format!("--http-idle {v}: give a number of seconds above 0"));
        }
        Some(v) => Some(Duration::from_secs_f64(v)),
        None => None,
    };
    let tun = TunSpec {
        name: args.iface.clone(),
        kernel_addr,
        prefix,
        stack_addr: args.stack_addr,
        kernel_addr6,
        prefix6,
        stack_addr6: args.stack_addr6,
        mtu: 1500,
        txqueuelen: LiveSetup::txqueuelen_for(&cfg),
        offload: args.tun_offload,
    };
    tun.validate()?;
    Ok(LiveSetup {
        tun,
        cfg,
        rules: ov.rules,
        services,
        connect: args.connect.clone(),
        send: args.send.clone(),
        http_idle,
        duration: common.duration.map(Duration::from_secs_f64),
        profile,
    })
}

fn live(args: &LiveArgs, common: &Common) -> Result<(), String> {
    no_transcript(common, "live")?;
    if common.speed.is_some() {
        return Err(
            "--speed sets a demo's or a replay's playback: live mode runs in real time".into(),
        );
    }
    let setup = live_setup(args, common)?;
    let (mut sinks, share) = share_for(args, &setup)?;
    if !common.headless {
        let r = live_tui(setup, common, sinks);
        finish_share(share);
        return r;
    }
    let target = common.events.clone().unwrap_or_else(|| "-".into());
    let events = EventWriter::create(&target)
        .map_err(|e| format!("cannot write events to {target}: {e}"))?;
    let record = match &common.record {
        Some(p) => Some(
            Recorder::create(p, "live", &setup.describe())
                .map_err(|e| format!("cannot write the recording {}: {e}", p.display()))?,
        ),
        None => None,
    };
    let (sink, writer) = spawn_event_writer(WRITER_CHANNEL, Some(events), record);
    let (pcap, pcap_thread) = match &common.pcap {
        Some(p) => {
            let (s, h) = PcapSink::spawn(p.clone(), &setup.tun.name, PCAP_CHANNEL)?;
            (Some(s), Some(h))
        }
        None => (None, None),
    };
    sinks.push(sink);
    let result = run_headless(setup, sinks, pcap);
    finish_share(share);
    let w = writer
        .join()
        .unwrap_or_else(|_| Err("the event writer panicked".into()));
    let p = pcap_thread
        .map(|h| {
            h.join()
                .unwrap_or_else(|_| Err("the pcap writer panicked".into()))
        })
        .unwrap_or(Ok(()));
    result?;
    w?;
    p
}

/// The `--events FILE` and `--record FILE` writers beside the terminal UI
/// (`--events -` would write over it).
fn tui_writers(
    common: &Common,
    mode: &str,
    title: &str,
) -> Result<(Option<EventWriter>, Option<Recorder>), String> {
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
            Recorder::create(p, mode, title)
                .map_err(|e| format!("cannot write the recording {}: {e}", p.display()))?,
        ),
        None => None,
    };
    Ok((events, record))
}

/// Live mode in the terminal UI; `--events FILE`, `--record FILE` and
/// `--pcap FILE` still get everything.
fn live_tui(setup: LiveSetup, common: &Common, mut sinks: Vec<Sink>) -> Result<(), String> {
    let (events, record) = tui_writers(common, "live", &setup.describe())?;
    let mut writer = None;
    if events.is_some() || record.is_some() {
        let (sink, w) = spawn_event_writer(WRITER_CHANNEL, events, record);
        sinks.push(sink);
        writer = Some(w);
    }
    let (pcap, pcap_thread) = match &common.pcap {
        Some(p) => {
            let (s, h) = PcapSink::spawn(p.clone(), &setup.tun.name, PCAP_CHANNEL)?;
            (Some(s), Some(h))
        }
        None => (None, None),
    };
    let mut driver = LiveDriver::start(setup, sinks, pcap)?;
    let ui = crate::ui::run_with(&mut driver, common.ui());
    // Stop the stack (FIN to open connections, remove the interface) before
    // the writers finish.
    let stopped = driver.stop().map(|_| ());
    let w = writer
        .map(|w| {
            w.join()
                .unwrap_or_else(|_| Err("the event writer panicked".into()))
        })
        .unwrap_or(Ok(()));
    let p = pcap_thread
        .map(|h| {
            h.join()
                .unwrap_or_else(|_| Err("the pcap writer panicked".into()))
        })
        .unwrap_or(Ok(()));
    ui?;
    stopped?;
    w?;
    p
}

/// What `watch` and `intercept` cannot take: a demo's handout, a playback
/// speed, a walkthrough.
fn tap_misfit(common: &Common, command: &str) -> Result<(), String> {
    no_transcript(common, command)?;
    if common.speed.is_some() {
        return Err(format!(
            "--speed sets a demo's or a replay's playback: tcpscope {command} runs in real time"
        ));
    }
    if common.step {
        return Err(format!(
            "--step is for demos and replays: tcpscope {command} runs in real time"
        ));
    }
    Ok(())
}

/// `tcpscope watch [--iface IFACE] [FILTER]`.
fn watch(args: &WatchArgs, common: &Common) -> Result<(), String> {
    use crate::driver::tap::TapDriver;
    use crate::tap::watch::{self, WatchSetup};
    tap_misfit(common, "watch")?;
    if !common.drops.is_empty() || common.loss.is_some() {
        return Err("watch only looks: --drop and --loss act on the kernel's packets in tcpscope intercept --port PORT".into());
    }
    let setup = WatchSetup {
        iface: args.iface.clone(),
        filter: (!args.filter.is_empty()).then(|| args.filter.join(" ")),
        duration: common.duration.map(Duration::from_secs_f64),
        snaplen: if common.pcap.is_some() {
            65_535
        } else {
            watch::SNAPLEN
        },
    };
    let title = setup.describe();
    if common.headless {
        let cap = watch::open(&setup)?;
        return tap_headless(
            common,
            &title,
            args.share.as_deref(),
            |sinks, pcap, stop| watch::run(&setup, cap, sinks, pcap, stop),
        );
    }
    let iface = setup.iface.clone();
    tap_tui(
        common,
        &title,
        &iface,
        args.share.as_deref(),
        |sinks, pcap| TapDriver::watch(setup, sinks, pcap),
    )
}

/// `tcpscope intercept --port PORT [--iface IFACE]`.
fn intercept(args: &InterceptArgs, common: &Common) -> Result<(), String> {
    use crate::driver::tap::TapDriver;
    use crate::tap::intercept::{self, InterceptSetup};
    tap_misfit(common, "intercept")?;
    if args.port == 0 {
        return Err("--port 0 is no port: give the port whose packets to intercept".into());
    }
    let seed = common.seed.unwrap_or_else(|| {
        let mut b = [0u8; 8];
        let _ = getrandom::fill(&mut b);
        u64::from_le_bytes(b)
    });
    let setup = InterceptSetup {
        port: args.port,
        iface: args.iface.clone(),
        queue: args.queue_num,
        duration: common.duration.map(Duration::from_secs_f64),
        rules: common.overrides().rules,
        seed,
    };
    let title = setup.describe();
    if common.headless {
        let opened = intercept::open(&setup)?;
        return tap_headless(
            common,
            &title,
            args.share.as_deref(),
            |sinks, pcap, stop| intercept::run(&setup, opened, sinks, pcap, stop, None),
        );
    }
    let iface = format!("port {}", setup.port);
    tap_tui(
        common,
        &title,
        &iface,
        args.share.as_deref(),
        |sinks, pcap| TapDriver::intercept(setup, sinks, pcap),
    )
}

/// `--share PATH` for watch and intercept: the socket and the hub's sink.
fn tap_share(path: Option<&Path>, title: &str) -> Result<(Vec<Sink>, Option<Share>), String> {
    let Some(path) = path else {
        return Ok((Vec::new(), None));
    };
    let socket = ShareSocket::bind(path)?;
    let (sink, share) = share::spawn(socket, title.to_string())?;
    Ok((vec![sink], Some(share)))
}

/// A writer thread, joined at the end for its result.
type Writer = Option<std::thread::JoinHandle<Result<(), String>>>;

/// The `--pcap` writer of watch and intercept.
fn tap_pcap(common: &Common, iface: &str) -> Result<(Option<PcapSink>, Writer), String> {
    match &common.pcap {
        Some(p) => {
            let (s, h) = PcapSink::spawn(p.clone(), iface, PCAP_CHANNEL)?;
            Ok((Some(s), Some(h)))
        }
        None => Ok((None, None)),
    }
}

fn join_writer(h: Writer, what: &str) -> Result<(), String> {
    h.map(|h| {
        h.join()
            .unwrap_or_else(|_| Err(format!("the {what} panicked")))
    })
    .unwrap_or(Ok(()))
}

/// watch or intercept without the UI: events to `--events` (stdout when
/// not given), `--record`, `--pcap`, `--share`, until Ctrl-C, SIGTERM or
/// `--duration`.
fn tap_headless(
    common: &Common,
    title: &str,
    share_path: Option<&Path>,
    run: impl FnOnce(
        Vec<Sink>,
        Option<PcapSink>,
        &crate::tap::Stop,
    ) -> Result<crate::tap::Stats, String>,
) -> Result<(), String> {
    let (mut sinks, share) = tap_share(share_path, title)?;
    let target = common.events.clone().unwrap_or_else(|| "-".into());
    let events = EventWriter::create(&target)
        .map_err(|e| format!("cannot write events to {target}: {e}"))?;
    let record = match &common.record {
        Some(p) => Some(
            Recorder::create(p, "capture", title)
                .map_err(|e| format!("cannot write the recording {}: {e}", p.display()))?,
        ),
        None => None,
    };
    let (sink, writer) = spawn_event_writer(WRITER_CHANNEL, Some(events), record);
    sinks.push(sink);
    let (pcap, pcap_thread) = tap_pcap(common, "capture")?;
    let stop = crate::tap::Stop::new(common.duration.map(Duration::from_secs_f64))?;
    let result = run(sinks, pcap, &stop);
    finish_share(share);
    let w = join_writer(Some(writer), "event writer");
    let p = join_writer(pcap_thread, "pcap writer");
    result?;
    w?;
    p
}

/// watch or intercept in the terminal UI; `--events FILE`, `--record`,
/// `--pcap` and `--share` still get everything.
fn tap_tui(
    common: &Common,
    title: &str,
    iface: &str,
    share_path: Option<&Path>,
    start: impl FnOnce(Vec<Sink>, Option<PcapSink>) -> Result<crate::driver::tap::TapDriver, String>,
) -> Result<(), String> {
    let (events, record) = tui_writers(common, "capture", title)?;
    let (mut sinks, share) = tap_share(share_path, title)?;
    let mut writer = None;
    if events.is_some() || record.is_some() {
        let (sink, w) = spawn_event_writer(WRITER_CHANNEL, events, record);
        sinks.push(sink);
        writer = Some(w);
    }
    let (pcap, pcap_thread) = tap_pcap(common, iface)?;
    let mut driver = start(sinks, pcap)?;
    let ui = crate::ui::run_with(&mut driver, common.ui());
    // Intercept: the rules go and held packets are let go before the
    // writers finish.
    let stopped = driver.stop().map(|_| ());
    finish_share(share);
    let w = join_writer(writer, "event writer");
    let p = join_writer(pcap_thread, "pcap writer");
    ui?;
    stopped?;
    w?;
    p
}
