//! Replay: a recording (`--record FILE`) played back in the same UI.
//!
//! A recording is a header line `{"tcpscope_recording":1,...}` and one event
//! per line. A first pass checks every line before the UI opens, so every
//! error (missing file, another format version, a bad line) is one sentence
//! on stderr; a last line cut short (no newline, not JSON: the writer was
//! killed) is no error but the recording's end, said once (docs/ui.md,
//! Demo, replay and the walkthrough). The UI then reads it a window at a time from the byte offsets
//! that pass noted ([`super::events`]), unless its events are out of time
//! order (a hand-edited file), which is read whole and sorted.
//! Playback runs at real speed, faster or slower, by single events or by
//! narrated steps, and seeks anywhere (backwards by rebuilding the UI's
//! model from the start, which its bounded history makes cheap).
//!
//! A capture (pcap, pcapng) plays the same way, but its events are never
//! all held: they are made again from the file a window at a time
//! ([`super::events`]; docs/captures.md, Opening a capture).
//!
//! Holds the recording reader ([`load`], [`parse`]) and [`ReplayDriver`].
//! Uses events and the output format only; must not depend on `ui`.

use std::io::BufRead;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::event::{Body, Event};
use crate::i18n::{self, Lang, Messages};
use crate::output::RECORDING_FORMAT;

use super::clock::Timeline;
use super::events::{CaptureEvents, Events};
use super::{Command, Driver, Mode, Playback};

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Header {
    pub tcpscope_recording: u32,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Recording {
    pub name: String,
    pub header: Header,
    pub events: Vec<Event>,
    /// Said once when the UI opens (a capture or a recording cut short).
    pub notice: Option<String>,
}

/// What `tcpscope replay FILE` was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Recording,
    Capture(crate::capture::Format),
}

/// A recording or a capture, by its first bytes; anything else is one
/// sentence.
pub fn kind(path: &Path) -> Result<Kind, String> {
    let name = path.display().to_string();
    let mut head = [0u8; 64];
    let mut file =
        std::fs::File::open(path).map_err(|e| format!("cannot open the recording {name}: {e}"))?;
    let n = read_head(&mut file, &mut head).map_err(|e| format!("cannot read {name}: {e}"))?;
    if let Some(f) = crate::capture::sniff(&head[..n]) {
        return Ok(Kind::Capture(f));
    }
    // A recording is JSON lines: its first byte that is not white space
    // opens the header object. An empty file is the recording parser's to
    // name.
    match head[..n].iter().find(|b| !b.is_ascii_whitespace()) {
        None | Some(b'{') => Ok(Kind::Recording),
        Some(_) => Err(format!(
            "{name} is neither a tcpscope recording nor a pcap or pcapng capture"
        )),
    }
}

fn read_head(r: &mut impl std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Read a recording file, or a capture as the events it makes.
pub fn load(path: &Path) -> Result<Recording, String> {
    let name = path.display().to_string();
    if let Kind::Capture(format) = kind(path)? {
        return load_capture(path, format);
    }
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot open the recording {name}: {e}"))?;
    parse(&name, std::io::BufReader::new(file))
}

/// A capture's events, held for the UI's seeking.
pub fn load_capture(path: &Path, format: crate::capture::Format) -> Result<Recording, String> {
    let mut events = Vec::new();
    let summary = crate::capture::each_event(path, format, |e| events.push(e))?;
    events.shrink_to_fit();
    Ok(Recording {
        name: path.display().to_string(),
        header: capture_header(&summary),
        events,
        notice: summary.cut,
    })
}

/// A recording's title in `lang`: a built-in scenario's in its language
/// (a recording keeps the English one), a capture's through the
/// phrasebook, anything else as written.
fn title_in(lang: Lang, title: &str) -> String {
    if lang == Lang::En {
        return title.to_string();
    }
    let builtin = crate::scenario::BUILTIN.iter().find_map(|(name, _)| {
        let sc = crate::scenario::Scenario::builtin(name)?;
        (sc.title == title).then(|| sc.title_for(lang).to_string())
    });
    builtin.unwrap_or_else(|| i18n::messages(lang).phrase(title).into_owned())
}

/// The header a capture plays under.
fn capture_header(summary: &crate::capture::Summary) -> Header {
    Header {
        tcpscope_recording: RECORDING_FORMAT,
        version: None,
        mode: Some("capture".into()),
        title: Some(format!(
            "capture, {} TCP segments in {} connections (states inferred)",
            summary.tcp, summary.connections
        )),
    }
}

fn empty(name: &str) -> String {
    format!("{name} is empty: a recording starts with a tcpscope_recording header line")
}

/// The header line (line `n` of the file).
fn header_of(name: &str, n: usize, line: &str) -> Result<Header, String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|_| {
        format!("{name} is not a tcpscope recording: line {n} is not a JSON header")
    })?;
    let Some(format) = v.get("tcpscope_recording") else {
        return Err(format!(
            "{name} is not a tcpscope recording: its first line has no \"tcpscope_recording\" field (an --events file? record with --record FILE)"
        ));
    };
    match format.as_u64() {
        Some(n) if n == u64::from(RECORDING_FORMAT) => {}
        Some(n) => {
            return Err(format!(
                "{name} is a recording of format version {n}; this tcpscope reads version {RECORDING_FORMAT} only"
            ));
        }
        None => {
            return Err(format!(
                "{name}: the header's \"tcpscope_recording\" is {format}, not a format version number"
            ));
        }
    }
    serde_json::from_value(v).map_err(|e| format!("{name}: the header line is not valid: {e}"))
}

/// One event line (line `n` of the file).
fn event_of(name: &str, n: usize, line: &str) -> Result<Event, String> {
    let e = Event::from_json(line).map_err(|err| {
        // serde counts within the line; the file's line number is ours.
        let msg = err.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        format!(
            "{name} line {n}: not a valid event: {msg} (column {})",
            err.column()
        )
    })?;
    if !e.t.is_finite() || e.t < 0.0 {
        return Err(format!(
            "{name} line {n}: \"t\" must be a time of 0 or more"
        ));
    }
    Ok(e)
}

/// The lines of a recording, numbered from 1, each with the byte offset it
/// starts at and whether a newline ends it: only the file's last line can
/// lack one, and then it may have been cut short (the process writing it
/// was killed mid-line).
struct Lines<R> {
    r: R,
    name: String,
    n: usize,
    offset: u64,
}

struct Line {
    /// Its number in the file.
    n: usize,
    /// The byte offset it starts at.
    at: u64,
    text: String,
    /// A newline ends it.
    whole: bool,
}

impl<R: BufRead> Lines<R> {
    fn new(name: &str, r: R) -> Lines<R> {
        Lines {
            r,
            name: name.to_string(),
            n: 0,
            offset: 0,
        }
    }

    /// The next line; `None` at the end of the file.
    fn next(&mut self) -> Result<Option<Line>, String> {
        let mut buf = Vec::new();
        let k = self
            .r
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("cannot read {} at line {}: {e}", self.name, self.n + 1))?;
        if k == 0 {
            return Ok(None);
        }
        self.n += 1;
        let at = self.offset;
        self.offset += k as u64;
        let whole = buf.last() == Some(&b'\n');
        let text = match String::from_utf8(buf) {
            Ok(t) => t,
            // A cut may fall inside a character; the line is not JSON then.
            Err(e) if !whole => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            Err(_) => {
                return Err(format!(
                    "cannot read {} at line {}: stream did not contain valid UTF-8",
                    self.name, self.n
                ));
            }
        };
        Ok(Some(Line {
            n: self.n,
            at,
            text,
            whole,
        }))
    }

    /// The header line, past blank lines.
    fn header(&mut self) -> Result<Header, String> {
        loop {
            let Some(line) = self.next()? else {
                return Err(empty(&self.name));
            };
            if !line.text.trim().is_empty() {
                return header_of(&self.name, line.n, &line.text);
            }
        }
    }

    /// The next event and the byte offset of its line: `Ok(None)` at the
    /// end of the file, or at a last line cut short, and then `cut` holds
    /// the sentence that says so.
    fn event(&mut self, cut: &mut Option<String>) -> Result<Option<(u64, Event)>, String> {
        loop {
            let Some(line) = self.next()? else {
                return Ok(None);
            };
            if line.text.trim().is_empty() {
                continue;
            }
            if is_cut(&line) {
                *cut = Some(cut_short(&self.name, line.n));
                return Ok(None);
            }
            return event_of(&self.name, line.n, &line.text).map(|e| Some((line.at, e)));
        }
    }
}

/// The file's last line (no newline ends it) and not JSON: the recording
/// was cut short while that line was written. Everything before it
/// stands; a bad line anywhere else is an error.
fn is_cut(line: &Line) -> bool {
    !line.whole && serde_json::from_str::<serde::de::IgnoredAny>(&line.text).is_err()
}

/// What a replay of a recording cut short at line `n` says.
fn cut_short(name: &str, n: usize) -> String {
    format!("{name} ends at line {n}, cut short: everything before it is replayed")
}

/// Parse a recording; `name` is used in error sentences. A last line cut
/// short ends it, with a notice.
pub fn parse(name: &str, input: impl BufRead) -> Result<Recording, String> {
    let mut lines = Lines::new(name, input);
    let header = lines.header()?;
    let mut events = Vec::new();
    let mut notice = None;
    while let Some((_, e)) = lines.event(&mut notice)? {
        events.push(e);
    }
    // Events are recorded in order; a hand-edited file may not be. Seeking
    // relies on order, and a stable sort keeps same-time events as written.
    events.sort_by(|a, b| a.t.total_cmp(&b.t));
    Ok(Recording {
        name: name.to_string(),
        header,
        events,
        notice,
    })
}

pub struct ReplayDriver {
    name: String,
    header: Header,
    /// Said once when the UI opens (a capture or a recording cut short,
    /// or one read again and found changed).
    notice: Option<String>,
    events: Events,
    /// A stretch the UI must get before anything else, whatever the clock
    /// says (a rewind or a seek, handed out a window at a time for a
    /// capture): the index to reach.
    catch_up: Option<usize>,
    /// Index of the next event to hand out.
    pos: usize,
    /// Playback time: speed, pause, and the position the UI has been shown.
    clock: Timeline,
    walkthrough: bool,
    rewound: bool,
    /// Events to hand out at the next poll regardless of the clock.
    pending: Vec<Event>,
    two_hosts: bool,
    /// Steps go from narration to narration (default when the recording
    /// has any), or one event at a time (`s` switches).
    by_narration: bool,
    has_narration: bool,
    /// A capture: its walkthrough (no narration) goes one segment at a
    /// time, with the state changes it caused.
    by_segment: bool,
    /// A recording read a window at a time: its narrations' indices.
    narrations: Vec<usize>,
    /// The narrations that begin a chapter: index and title.
    chapters: Vec<(usize, String)>,
    /// The language of the answers and the title.
    lang: Lang,
    /// The header's title in that language.
    title: Option<String>,
}

/// The chapter a narration event begins, if it begins one.
fn chapter_of(e: &Event) -> Option<&str> {
    match &e.body {
        Body::Narration {
            chapter: Some(c), ..
        } => Some(c),
        _ => None,
    }
}

/// What the first pass over a recording found, for reading it a window at
/// a time.
struct Scan {
    header: Header,
    len: usize,
    end: f64,
    marks: Vec<f64>,
    offsets: Vec<u64>,
    window: Vec<Event>,
    narrations: Vec<usize>,
    chapters: Vec<(usize, String)>,
    two_hosts: bool,
    /// The last line was cut short: the sentence that says so.
    cut: Option<String>,
}

/// The first pass: every line checked as [`parse`] checks it, the time and
/// byte offset of every STRIDE-th event noted, the first window kept.
/// `None` when the events are out of time order (a hand-edited file).
fn scan(path: &Path) -> Result<Option<Scan>, String> {
    use super::events::STRIDE;
    let name = path.display().to_string();
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot open the recording {name}: {e}"))?;
    let mut lines = Lines::new(&name, std::io::BufReader::new(file));
    let header = lines.header()?;
    let mut s = Scan {
        two_hosts: header.mode.as_deref() == Some("demo"),
        header,
        len: 0,
        end: 0.0,
        marks: Vec::new(),
        offsets: Vec::new(),
        window: Vec::new(),
        narrations: Vec::new(),
        chapters: Vec::new(),
        cut: None,
    };
    let capture = s.header.mode.as_deref() == Some("capture");
    while let Some((at, e)) = lines.event(&mut s.cut)? {
        if e.t < s.end {
            return Ok(None);
        }
        if s.len.is_multiple_of(STRIDE) {
            s.marks.push(e.t);
            s.offsets.push(at);
        }
        if matches!(e.body, Body::Narration { .. }) {
            s.narrations.push(s.len);
        }
        if let Some(c) = chapter_of(&e) {
            s.chapters.push((s.len, c.to_string()));
        }
        // As [`two_hosts`] judges a held recording.
        if !capture && s.len < 1000 && matches!(e.host.as_deref(), Some("client") | Some("server"))
        {
            s.two_hosts = true;
        }
        s.end = e.t;
        if s.len < 2 * STRIDE {
            s.window.push(e);
        }
        s.len += 1;
    }
    if capture {
        s.two_hosts = false;
    }
    Ok(Some(s))
}

/// A recording's events in time order, one at a time, never all held: a
/// first pass checks every line and the order ([`scan`]), then they are
/// read again as they are wanted. A file out of time order is read whole
/// and sorted. Also whether both ends were tcpscope engines
/// ([`two_hosts`]), and the sentence to say when the file's last line was
/// cut short (the events end before it).
pub type EventStream = Box<dyn Iterator<Item = Result<Event, String>>>;

pub fn recorded_events(path: &Path) -> Result<(bool, EventStream, Option<String>), String> {
    let Some(s) = scan(path)? else {
        let rec = load(path)?;
        let two = two_hosts(&rec);
        return Ok((two, Box::new(rec.events.into_iter().map(Ok)), rec.notice));
    };
    let name = path.display().to_string();
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot open the recording {name}: {e}"))?;
    let changed = move || format!("{name} changed while it was read");
    let events = std::io::BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter(|l| !l.trim().is_empty())
        .skip(1) // the header, checked by the first pass
        .take(s.len) // not the line cut short, if any
        .map(move |l| Event::from_json(&l).map_err(|_| changed()));
    Ok((s.two_hosts, Box::new(events), s.cut))
}

/// Both ends were tcpscope engines (a demo's recording). A capture names
/// its ends `client` and `server` too, but saw each segment once, on the
/// wire: its arrows are complete as they come.
pub fn two_hosts(rec: &Recording) -> bool {
    if rec.header.mode.as_deref() == Some("capture") {
        return false;
    }
    rec.header.mode.as_deref() == Some("demo")
        || rec
            .events
            .iter()
            .take(1000)
            .any(|e| matches!(e.host.as_deref(), Some("client") | Some("server")))
}

impl ReplayDriver {
    pub fn new(rec: Recording) -> ReplayDriver {
        let two_hosts = two_hosts(&rec);
        let by_narration = rec
            .events
            .iter()
            .any(|e| matches!(e.body, Body::Narration { .. }));
        let by_segment = rec.header.mode.as_deref() == Some("capture");
        let chapters = rec
            .events
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((i, chapter_of(e)?.to_string())))
            .collect();
        ReplayDriver {
            chapters,
            by_narration,
            has_narration: by_narration,
            by_segment,
            name: rec.name,
            title: rec.header.title.clone(),
            header: rec.header,
            notice: rec.notice,
            events: Events::Held(rec.events),
            catch_up: None,
            pos: 0,
            clock: Timeline::new(1.0),
            walkthrough: false,
            rewound: false,
            pending: Vec::new(),
            two_hosts,
            narrations: Vec::new(),
            lang: Lang::En,
        }
    }

    pub fn paused(mut self) -> ReplayDriver {
        self.clock.set_paused(true);
        self
    }

    /// A capture, its events made again from the file as needed (bounded
    /// memory, see `driver::events`).
    pub fn capture(path: &Path, format: crate::capture::Format) -> Result<ReplayDriver, String> {
        let (events, summary) = CaptureEvents::open(path, format)?;
        let mut d = ReplayDriver::new(Recording {
            name: path.display().to_string(),
            header: capture_header(&summary),
            events: Vec::new(),
            notice: summary.cut,
        });
        d.events = Events::Capture(events);
        Ok(d)
    }

    /// A recording, read from the file a window at a time (bounded
    /// memory, see `driver::events`); one whose events are out of time
    /// order is read whole and sorted.
    pub fn recording(path: &Path) -> Result<ReplayDriver, String> {
        let Some(s) = scan(path)? else {
            return Ok(ReplayDriver::new(load(path)?));
        };
        let has_narration = !s.narrations.is_empty();
        let mut d = ReplayDriver::new(Recording {
            name: path.display().to_string(),
            header: s.header,
            events: Vec::new(),
            notice: s.cut,
        });
        d.two_hosts = s.two_hosts;
        d.by_narration = has_narration;
        d.has_narration = has_narration;
        d.narrations = s.narrations;
        d.chapters = s.chapters;
        d.events = Events::Capture(CaptureEvents::recording(
            path, s.len, s.end, s.marks, s.offsets, s.window,
        ));
        Ok(d)
    }

    pub fn end(&self) -> f64 {
        self.events.end()
    }

    /// Hand out events up to index `to` (exclusive); for a capture at most
    /// a window's worth at a time (`pos` says how far it got).
    fn take_to(&mut self, to: usize) -> Vec<Event> {
        let to = to.min(self.events.len());
        let out = self.events.take(self.pos.min(to), to);
        if let Some(last) = out.last() {
            self.clock.advance_to(last.t);
        }
        // A speed step handed out sets the speed from here on.
        if let Some(x) = out.iter().rev().find_map(|e| match e.body {
            Body::Speed { x } => Some(x),
            _ => None,
        }) {
            self.clock.set_speed_here(x);
        }
        self.pos = self.pos.max(self.pos.min(to) + out.len());
        if let Some(why) = self.events.take_broken() {
            self.notice = Some(why);
        }
        out
    }

    /// Hand out events up to `to`, the rest of the way at the next polls
    /// whatever the clock says.
    fn take_to_all(&mut self, to: usize) -> Vec<Event> {
        let out = self.take_to(to);
        if self.pos < to.min(self.events.len()) {
            self.catch_up = Some(to);
        }
        out
    }

    /// Index just past the last event at or before `t`.
    fn index_after(&mut self, t: f64) -> usize {
        self.events.index_after(t)
    }

    /// Start over and hand out the first `to` events at the next polls.
    fn rewind_to(&mut self, to: usize, now: f64) {
        self.pos = 0;
        self.catch_up = None;
        self.clock.set_now(0.0);
        self.rewound = true;
        self.pending = self.take_to_all(to);
        self.clock.advance_to(now);
        self.clock.reanchor();
    }

    fn is_segment(&mut self, i: usize) -> bool {
        self.events
            .get(i)
            .is_some_and(|e| matches!(e.body, Body::Segment(_)))
    }

    /// A capture's walkthrough step that ends with the first segment at or
    /// after `from`: the index just past it and the events at its time
    /// that follow it (the receiver's state changes).
    fn segment_stop(&mut self, from: usize) -> Option<usize> {
        let len = self.events.len();
        let i = (from..len).find(|&i| self.is_segment(i))?;
        let t = self.events.get(i)?.t;
        let mut j = i + 1;
        while j < len && !self.is_segment(j) && self.events.get(j).is_some_and(|e| e.t <= t) {
            j += 1;
        }
        Some(j)
    }

    /// Just past narration `n` and the rest of its instant, up to the next
    /// narration: a walkthrough stop shows the narrated moment whole.
    fn instant_end(&mut self, n: usize) -> usize {
        let len = self.events.len();
        let Some(t) = self.events.get(n).map(|e| e.t) else {
            return n + 1;
        };
        let mut j = n + 1;
        while j < len
            && self
                .events
                .get(j)
                .is_some_and(|e| e.t <= t + 1e-9 && !matches!(e.body, Body::Narration { .. }))
        {
            j += 1;
        }
        j
    }

    /// A recording's speed step (a `speed` event) in `pos..to`: playback
    /// stops just past the first, to go on at its speed.
    fn speed_step(&mut self, to: usize) -> Option<(usize, f64)> {
        (self.pos..to.min(self.events.len())).find_map(|i| match self.events.get(i)?.body {
            Body::Speed { x } => Some((i, x)),
            _ => None,
        })
    }

    /// Segment steps in a capture's walkthrough.
    fn segment_steps(&self) -> bool {
        self.by_segment && self.walkthrough && !self.by_narration
    }

    /// The narration events' indices (a recording's; a capture has none).
    fn narration_indices(&self) -> Vec<usize> {
        match &self.events {
            Events::Held(v) => v
                .iter()
                .enumerate()
                .filter(|(_, e)| matches!(e.body, Body::Narration { .. }))
                .map(|(i, _)| i)
                .collect(),
            Events::Capture(_) => self.narrations.clone(),
        }
    }
}

/// The answer to a command that would change what happened.
fn plays_back(m: &Messages, what: &str) -> Result<String, String> {
    Err(m.plays_back(what))
}

impl Driver for ReplayDriver {
    fn mode(&self) -> Mode {
        Mode::Replay
    }

    fn title(&self) -> String {
        match &self.title {
            Some(t) if !t.is_empty() => format!("{} — {}", self.name, t),
            _ => self.name.clone(),
        }
    }

    fn poll(&mut self) -> Vec<Event> {
        if !self.pending.is_empty() {
            return std::mem::take(&mut self.pending);
        }
        if let Some(to) = self.catch_up {
            // The rest of a rewind or a seek, a window at a time.
            let now = self.clock.now();
            let out = self.take_to(to);
            if self.pos >= to.min(self.events.len()) || out.is_empty() {
                self.catch_up = None;
            }
            self.clock.set_now(now);
            self.clock.reanchor();
            return out;
        }
        if self.clock.paused() {
            return Vec::new();
        }
        if self.walkthrough {
            let next = self.events.get(self.pos).map(|e| e.t);
            self.clock.lapse_towards(next);
        }
        let target = self.clock.target(self.end());
        let mut to = self.index_after(target);
        let mut stop = None;
        if self.segment_steps() {
            // Stop after each segment, as a demo walkthrough stops on each
            // narration.
            if let Some(stop) = self.segment_stop(self.pos)
                && stop <= to
                && stop > self.pos
            {
                to = stop;
                self.clock.set_paused(true);
            }
        } else {
            let stop_at = self
                .narration_indices()
                .into_iter()
                .find(|i| *i >= self.pos && *i < to);
            if self.walkthrough
                && let Some(n) = stop_at
            {
                // Stop on the narration, as a demo walkthrough does.
                to = self.instant_end(n);
                self.clock.set_paused(true);
                stop = Some(n);
            }
        }
        let speed = self.speed_step(to);
        if let Some((i, _)) = speed
            && stop.is_none_or(|n| i < n)
        {
            // Play on to the speed step, from which time runs at its speed.
            to = i + 1;
            if stop.is_some() {
                self.clock.set_paused(false);
            }
        }
        let out = self.take_to(to);
        if let Some((_, x)) = speed {
            self.clock.set_speed_here(x);
        } else if !self.clock.paused() {
            self.clock.advance_to(target);
        } else {
            self.clock.reanchor();
        }
        out
    }

    fn now(&self) -> f64 {
        self.clock.now()
    }

    fn next_wake(&self) -> Option<Duration> {
        if self.catch_up.is_some() || !self.pending.is_empty() {
            // The rest of a rewind or a seek comes at the next polls,
            // paused or not.
            return Some(Duration::ZERO);
        }
        if self.clock.paused() || self.finished() {
            None
        } else {
            Some(Duration::from_millis(40))
        }
    }

    fn command(&mut self, cmd: Command) -> Result<String, String> {
        let narrated = self.by_narration;
        let m = i18n::messages(self.lang);
        match cmd {
            Command::TimeScale(x) => {
                let speed = self
                    .clock
                    .set_speed(x, self.end())
                    .map_err(|x| m.not_a_speed(&x.to_string()))?;
                Ok(m.r_playing_at(&super::clock::speed(speed)))
            }
            Command::Pause(p) => {
                self.clock.pause(p, self.end());
                Ok(if p {
                    m.paused.into()
                } else {
                    m.r_playing.into()
                })
            }
            Command::StepForward => {
                self.clock.catch_up(self.end());
                self.clock.set_paused(true);
                let len = self.events.len();
                if self.pos >= len {
                    return Err(m.r_at_end.into());
                }
                let to = if narrated {
                    match self
                        .narration_indices()
                        .into_iter()
                        .find(|i| *i >= self.pos)
                    {
                        Some(n) => self.instant_end(n),
                        None => len,
                    }
                } else if self.segment_steps() {
                    let from = self.pos;
                    self.segment_stop(from).unwrap_or(len)
                } else {
                    self.pos + 1
                };
                // Added to what is still waiting: two commands may come
                // before the UI polls (keys typed quickly, a busy machine).
                let more = self.take_to_all(to);
                self.pending.extend(more);
                self.clock.reanchor();
                Ok(if narrated {
                    m.r_step_to_event(to.min(len), len)
                } else {
                    m.r_event(to.min(len), len)
                })
            }
            Command::StepBack => {
                self.clock.set_paused(true);
                if self.pos == 0 {
                    return Err(m.r_at_start.into());
                }
                let pos = self.pos;
                let to = if narrated {
                    // The narration on screen is the last one before pos;
                    // go to the one before it (or the start).
                    let shown: Vec<usize> = self
                        .narration_indices()
                        .into_iter()
                        .filter(|i| *i < pos)
                        .collect();
                    match shown.len() {
                        0 | 1 => shown.first().copied().unwrap_or(0),
                        n => shown[n - 2] + 1,
                    }
                } else if self.segment_steps() {
                    // Back to the end of the step before the one shown.
                    let shown = (0..pos).rev().find(|&i| self.is_segment(i));
                    let before = shown.and_then(|k| (0..k).rev().find(|&i| self.is_segment(i)));
                    before.and_then(|b| self.segment_stop(b)).unwrap_or(0)
                } else {
                    pos - 1
                };
                let now = if to == 0 {
                    0.0
                } else {
                    self.events.get(to - 1).map_or(0.0, |e| e.t)
                };
                self.rewind_to(to, now);
                Ok(m.r_back_to_event(to, self.events.len()))
            }
            Command::Seek(t) => {
                if !t.is_finite() {
                    return Err(m.r_not_a_time(&t.to_string()));
                }
                let t = t.clamp(0.0, self.end());
                let to = self.index_after(t);
                let from = self.pos;
                if to >= self.pos {
                    let more = self.take_to_all(to);
                    self.pending.extend(more);
                    self.clock.seek(t);
                    if self.walkthrough {
                        self.clock.set_paused(true);
                    }
                } else {
                    self.rewind_to(to, t);
                }
                let at = m.r_at(&super::clock::t(t), &super::clock::t(self.end()));
                // Steps a seek passed in a walkthrough are said, not skipped.
                let steps = self.narration_indices();
                let first = steps.iter().filter(|i| **i < from).count() + 1;
                let passed = steps.iter().filter(|i| (from..to).contains(*i)).count();
                Ok(match passed {
                    _ if !(self.walkthrough && narrated) => at,
                    0 => at,
                    1 => m.past_step(&at, first),
                    n => m.past_steps(&at, first, first + n - 1),
                })
            }
            Command::Chapter(i) => {
                let Some((n, title)) = self.chapters.get(i).cloned() else {
                    return Err(m.no_chapter(i + 1));
                };
                self.clock.set_paused(true);
                let to = self.instant_end(n);
                let t = self.events.get(n).map_or(0.0, |e| e.t);
                if to >= self.pos {
                    let more = self.take_to_all(to);
                    self.pending.extend(more);
                    self.clock.seek(t);
                } else {
                    self.rewind_to(to, t);
                }
                Ok(title)
            }
            Command::DropNext(_) => plays_back(m, m.pb_dropping),
            Command::SetLoss { .. } => plays_back(m, m.pb_loss),
            Command::HoldAll(_) | Command::ReleaseOne | Command::ReleaseAll => {
                plays_back(m, m.pb_holding)
            }
            Command::AddRule(_) | Command::ClearRules => plays_back(m, m.pb_rule),
            Command::Close(_) => plays_back(m, m.pb_closing),
            Command::Abort(_) => plays_back(m, m.pb_aborting),
            Command::Connect(_) => plays_back(m, m.pb_connecting),
            Command::Keepalive(..) => plays_back(m, m.pb_keepalive),
        }
    }

    fn finished(&self) -> bool {
        self.pos >= self.events.len() && self.pending.is_empty() && self.catch_up.is_none()
    }

    fn playback(&self) -> Playback {
        Playback {
            speed: Some(self.clock.chosen_speed()),
            paused: self.clock.paused(),
            walkthrough: self.walkthrough,
            progress: Some((self.clock.now(), self.end())),
            lapse: self.clock.lapsing().then(|| self.clock.speed()),
            chapters: !self.chapters.is_empty(),
            read_only: false,
        }
    }

    fn take_rewind(&mut self) -> bool {
        std::mem::take(&mut self.rewound)
    }

    fn chapters(&self) -> Vec<String> {
        self.chapters.iter().map(|(_, c)| c.clone()).collect()
    }

    fn set_walkthrough(&mut self, on: bool) -> Result<String, String> {
        self.walkthrough = on;
        self.by_narration = on && self.has_narration;
        let m = i18n::messages(self.lang);
        if on && self.by_segment && !self.has_narration {
            return Ok(m.r_walk_segments.into());
        }
        Ok(if on {
            m.r_walk_on.into()
        } else {
            m.r_walk_off.into()
        })
    }

    fn set_lang(&mut self, lang: Lang) {
        self.lang = lang;
        self.title = self.header.title.as_deref().map(|t| title_in(lang, t));
    }

    fn two_hosts(&self) -> bool {
        self.two_hosts
    }

    fn take_notice(&mut self) -> Option<String> {
        // A capture cut short, a file changed under it: the capture
        // reader's English, in the answers' language where known.
        let m = i18n::messages(self.lang);
        self.notice.take().map(|n| m.phrase(&n).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = concat!(
        r#"{"tcpscope_recording":1,"version":"0.1.0","mode":"demo","title":"t"}"#,
        "\n",
        r#"{"t":0.0,"kind":"info","msg":"a"}"#,
        "\n\n",
        r#"{"t":0.5,"kind":"narration","lang":"en","text":"one"}"#,
        "\n",
        r#"{"t":1.0,"kind":"info","msg":"b"}"#,
        "\n",
        r#"{"t":2.0,"kind":"narration","lang":"en","text":"two"}"#,
        "\n",
        r#"{"t":3.0,"kind":"info","msg":"c"}"#,
        "\n"
    );

    /// `--lang zh`: a recorded built-in lesson is titled in Chinese, a
    /// capture's title through the phrasebook, anything else as written.
    #[test]
    fn the_title_in_the_uis_language() {
        let rec = |title: &str| {
            let head = format!(r#"{{"tcpscope_recording":1,"mode":"demo","title":"{title}"}}"#);
            ReplayDriver::new(parse("r.jsonl", format!("{head}\n").as_bytes()).unwrap())
        };
        let mut d = rec("The three-way handshake: SYN, SYN+ACK, ACK");
        assert_eq!(
            d.title(),
            "r.jsonl — The three-way handshake: SYN, SYN+ACK, ACK"
        );
        d.set_lang(Lang::Zh);
        assert_eq!(d.title(), "r.jsonl — 三次握手：SYN、SYN+ACK、ACK");
        let mut d = rec("capture, 46 TCP segments in 1 connections (states inferred)");
        d.set_lang(Lang::Zh);
        assert_eq!(
            d.title(),
            "r.jsonl — 抓包，1 个连接中的 46 个 TCP 报文段（状态为推断）"
        );
        let mut d = rec("mine");
        d.set_lang(Lang::Zh);
        assert_eq!(d.title(), "r.jsonl — mine");
    }

    fn texts(es: &[Event]) -> Vec<String> {
        es.iter()
            .map(|e| match &e.body {
                Body::Info { msg } => msg.clone(),
                Body::Narration { text, .. } => text.clone(),
                _ => e.kind().into(),
            })
            .collect()
    }

    #[test]
    fn parses_and_names_bad_lines() {
        let r = parse("rec.jsonl", GOOD.as_bytes()).unwrap();
        assert_eq!(r.events.len(), 5);
        assert_eq!(r.header.mode.as_deref(), Some("demo"));

        let bad = GOOD.replace(
            r#"{"t":1.0,"kind":"info","msg":"b"}"#,
            r#"{"t":1.0,"kind":"nonsense"}"#,
        );
        let err = parse("rec.jsonl", bad.as_bytes()).unwrap_err();
        assert!(
            err.starts_with("rec.jsonl line 5: not a valid event"),
            "{err}"
        );

        let v2 = GOOD.replace(r#""tcpscope_recording":1"#, r#""tcpscope_recording":2"#);
        let err = parse("rec.jsonl", v2.as_bytes()).unwrap_err();
        assert_eq!(
            err,
            "rec.jsonl is a recording of format version 2; this tcpscope reads version 1 only"
        );

        let events_file = r#"{"t":0.0,"kind":"info","msg":"a"}"#;
        let err = parse("ev.jsonl", events_file.as_bytes()).unwrap_err();
        assert!(err.contains("not a tcpscope recording"), "{err}");
        assert!(parse("e", "".as_bytes()).unwrap_err().contains("is empty"));
        assert!(
            parse("e", "garbage\n".as_bytes())
                .unwrap_err()
                .contains("line 1")
        );
    }

    /// GOOD with a last line cut short: the first `keep` bytes of one more
    /// event, no newline.
    fn cut_at(keep: usize) -> String {
        let more = r#"{"t":4.0,"kind":"info","msg":"d é"}"#;
        format!(
            "{GOOD}{}",
            String::from_utf8_lossy(&more.as_bytes()[..keep])
        )
    }

    #[test]
    fn a_last_line_cut_short_ends_the_recording_with_a_notice() {
        // Line 8 (after a blank line 3): cut anywhere, even inside the `é`.
        let full = r#"{"t":4.0,"kind":"info","msg":"d é"}"#.len();
        for keep in [1, 10, full - 4, full - 1] {
            let text = cut_at(keep);
            let r = parse("rec.jsonl", text.as_bytes()).unwrap();
            assert_eq!(texts(&r.events), ["a", "one", "b", "two", "c"], "{keep}");
            assert_eq!(
                r.notice.as_deref(),
                Some("rec.jsonl ends at line 8, cut short: everything before it is replayed")
            );
        }
        let mut bytes = GOOD.as_bytes().to_vec();
        bytes.extend_from_slice(&r#"{"t":4.0,"kind":"info","msg":"d é"}"#.as_bytes()[..full - 3]);
        assert!(std::str::from_utf8(&bytes).is_err(), "cut inside the é");
        let r = parse("rec.jsonl", &bytes[..]).unwrap();
        assert_eq!(r.events.len(), 5);
        assert!(r.notice.is_some());
        // The whole line without its newline is a whole event.
        let r = parse("rec.jsonl", cut_at(full).as_bytes()).unwrap();
        assert_eq!(texts(&r.events), ["a", "one", "b", "two", "c", "d é"]);
        assert_eq!(r.notice, None);
        assert_eq!(parse("rec.jsonl", GOOD.as_bytes()).unwrap().notice, None);
    }

    #[test]
    fn a_bad_line_that_is_not_the_cut_last_one_is_still_an_error() {
        // In the middle, cut short or not: an error, as before.
        let middle = GOOD.replace(
            r#"{"t":1.0,"kind":"info","msg":"b"}"#,
            r#"{"t":1.0,"kind":"info","#,
        );
        let err = parse("rec.jsonl", middle.as_bytes()).unwrap_err();
        assert!(
            err.starts_with("rec.jsonl line 5: not a valid event"),
            "{err}"
        );
        // The last line, but ended by a newline: written whole, and bad.
        let text = format!("{}\n", cut_at(10));
        let err = parse("rec.jsonl", text.as_bytes()).unwrap_err();
        assert!(
            err.starts_with("rec.jsonl line 8: not a valid event"),
            "{err}"
        );
        // The last line without a newline, JSON but not an event.
        let text = format!("{GOOD}{}", r#"{"t":4.0,"kind":"nonsense"}"#);
        let err = parse("rec.jsonl", text.as_bytes()).unwrap_err();
        assert!(
            err.starts_with("rec.jsonl line 8: not a valid event"),
            "{err}"
        );
        // A header cut short is no recording.
        let err = parse("rec.jsonl", r#"{"tcpscope_recor"#.as_bytes()).unwrap_err();
        assert_eq!(
            err,
            "rec.jsonl is not a tcpscope recording: line 1 is not a JSON header"
        );
    }

    #[test]
    fn steps_by_narration_and_seeks_back() {
        let mut d = ReplayDriver::new(parse("r", GOOD.as_bytes()).unwrap()).paused();
        assert!(d.two_hosts());
        assert!(d.poll().is_empty(), "paused: nothing plays");
        d.command(Command::StepForward).unwrap();
        assert_eq!(texts(&d.poll()), ["a", "one"]);
        assert_eq!(d.now(), 0.5);
        d.command(Command::StepForward).unwrap();
        assert_eq!(texts(&d.poll()), ["b", "two"]);
        d.command(Command::StepBack).unwrap();
        assert!(d.take_rewind());
        assert_eq!(texts(&d.poll()), ["a", "one"]);
        d.command(Command::Seek(2.5)).unwrap();
        assert_eq!(texts(&d.poll()), ["b", "two"]);
        assert_eq!(d.now(), 2.5);
        d.command(Command::Seek(0.7)).unwrap();
        assert!(d.take_rewind());
        assert_eq!(texts(&d.poll()), ["a", "one"]);
        d.command(Command::Seek(99.0)).unwrap();
        assert_eq!(texts(&d.poll()), ["b", "two", "c"]);
        assert!(d.finished());
        let err = d
            .command(Command::DropNext(crate::event::Dir::In))
            .unwrap_err();
        assert!(err.starts_with("a recording only plays back"), "{err}");
    }

    /// Issue 19: a recording's speed steps set the playback speed as they
    /// are handed out, in a walkthrough too; a chapter jump lands on its
    /// narration with its instant, and the chapter list reads the file.
    #[test]
    fn speed_steps_and_chapters_of_a_recording() {
        let rec = concat!(
            r#"{"tcpscope_recording":1,"version":"0.1.0","mode":"demo","title":"t"}"#,
            "\n",
            r#"{"t":0.5,"kind":"narration","lang":"en","text":"one","chapter":"1. One"}"#,
            "\n",
            r#"{"t":1.0,"kind":"speed","x":600.0}"#,
            "\n",
            r#"{"t":2.0,"kind":"narration","lang":"en","text":"two","chapter":"2. Two"}"#,
            "\n",
            r#"{"t":2.0,"kind":"info","msg":"same instant"}"#,
            "\n",
            r#"{"t":900.0,"kind":"info","msg":"c"}"#,
            "\n"
        );
        let mut d = ReplayDriver::new(parse("r", rec.as_bytes()).unwrap()).paused();
        assert_eq!(d.chapters(), ["1. One", "2. Two"]);
        assert_eq!(d.playback().speed, Some(1.0));
        d.command(Command::Seek(1.5)).unwrap();
        d.poll();
        assert_eq!(d.playback().speed, Some(600.0), "the speed step was passed");
        assert_eq!(d.command(Command::Chapter(1)).unwrap(), "2. Two");
        assert_eq!(
            texts(&d.poll()),
            ["two", "same instant"],
            "the instant whole"
        );
        assert!(d.playback().paused);
        d.command(Command::Chapter(0)).unwrap();
        assert!(d.take_rewind());
        assert_eq!(texts(&d.poll()), ["one"]);
        assert!(d.command(Command::Chapter(2)).is_err());
    }

    /// Two commands before the UI polls (two `}` typed quickly, a busy
    /// machine): the events of both are delivered. The first used to be
    /// overwritten by the second's (empty) batch, and the replay said
    /// "finished" with part of the recording never shown.
    #[test]
    fn commands_between_two_polls_lose_no_events() {
        let mut d = ReplayDriver::new(parse("r", GOOD.as_bytes()).unwrap()).paused();
        d.command(Command::Seek(60.0)).unwrap();
        d.command(Command::Seek(120.0)).unwrap();
        assert_eq!(texts(&d.poll()), ["a", "one", "b", "two", "c"]);
        assert!(d.finished());
        let mut d = ReplayDriver::new(parse("r", GOOD.as_bytes()).unwrap()).paused();
        d.command(Command::StepForward).unwrap();
        d.command(Command::StepForward).unwrap();
        assert_eq!(texts(&d.poll()), ["a", "one", "b", "two"]);
    }

    /// A capture has no narration: its walkthrough steps one segment at a
    /// time, with the state changes at the segment's time.
    #[test]
    fn a_capture_walks_through_segment_by_segment() {
        let rec = concat!(
            r#"{"tcpscope_recording":1,"mode":"capture"}"#,
            "\n",
            r#"{"t":0.0,"kind":"info","msg":"a"}"#,
            "\n",
            r#"{"t":1.0,"host":"client","conn":"x<->y","kind":"state","from":"CLOSED","to":"SYN-SENT","cause":"c"}"#,
            "\n",
            r#"{"t":1.0,"host":"client","conn":"x<->y","kind":"segment","dir":"out","id":1,"flags":["SYN"],"seq":1,"ack":0,"len":0,"win":9,"opts":[]}"#,
            "\n",
            r#"{"t":2.0,"host":"server","conn":"y<->x","kind":"segment","dir":"out","id":2,"flags":["SYN","ACK"],"seq":5,"ack":2,"len":0,"win":9,"opts":[]}"#,
            "\n",
            r#"{"t":2.0,"host":"client","conn":"x<->y","kind":"state","from":"SYN-SENT","to":"ESTABLISHED","cause":"c"}"#,
            "\n",
            r#"{"t":3.0,"kind":"info","msg":"b"}"#,
            "\n"
        );
        let mut d = ReplayDriver::new(parse("c", rec.as_bytes()).unwrap()).paused();
        assert!(!d.two_hosts(), "a capture's arrows are whole as they come");
        let said = d.set_walkthrough(true).unwrap();
        assert!(said.contains("after each segment"), "{said}");
        d.command(Command::StepForward).unwrap();
        assert_eq!(texts(&d.poll()), ["a", "state", "segment"]);
        d.command(Command::StepForward).unwrap();
        assert_eq!(texts(&d.poll()), ["segment", "state"]);
        d.command(Command::StepBack).unwrap();
        assert!(d.take_rewind());
        assert_eq!(texts(&d.poll()), ["a", "state", "segment"]);
        // Playing stops after each segment.
        d.command(Command::Pause(false)).unwrap();
        d.command(Command::TimeScale(1000.0)).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(texts(&d.poll()), ["segment", "state"]);
        assert!(d.playback().paused);
    }

    #[test]
    fn walkthrough_off_steps_single_events() {
        let mut d = ReplayDriver::new(parse("r", GOOD.as_bytes()).unwrap()).paused();
        d.set_walkthrough(false).unwrap();
        d.command(Command::StepForward).unwrap();
        assert_eq!(texts(&d.poll()), ["a"]);
        d.command(Command::StepForward).unwrap();
        assert_eq!(texts(&d.poll()), ["one"]);
        d.command(Command::StepBack).unwrap();
        assert!(d.take_rewind());
        assert_eq!(texts(&d.poll()), ["a"]);
    }

    #[test]
    fn plays_in_real_time_at_speed() {
        let mut d = ReplayDriver::new(parse("r", GOOD.as_bytes()).unwrap());
        d.command(Command::TimeScale(1000.0)).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let got = d.poll();
        assert_eq!(got.len(), 5, "20 ms at ×1000 covers the 3 s recording");
        assert!(d.finished());
    }
}

#[cfg(test)]
mod windowed {
    use std::io::Write;
    use std::path::PathBuf;

    use super::*;
    use crate::driver::events::STRIDE;

    /// A recording of more than two windows of events (a synthetic
    /// capture's, with narrations among them), its path (removed on drop).
    struct Big(PathBuf);

    impl Big {
        fn new(tag: &str, edit: impl Fn(&mut Vec<Event>)) -> Big {
            let dir = std::env::temp_dir();
            let pcap = dir.join(format!("tcpscope-rec-{tag}-{}.pcap", std::process::id()));
            let f = std::io::BufWriter::new(std::fs::File::create(&pcap).unwrap());
            crate::capture::synth::many(f, 2500, 30, 50).unwrap();
            let mut events = load_capture(&pcap, crate::capture::Format::Pcap)
                .unwrap()
                .events;
            let _ = std::fs::remove_file(&pcap);
            for i in [10, STRIDE + 7, 2 * STRIDE + 40] {
                let t = events[i].t;
                events.insert(
                    i,
                    Event {
                        t,
                        host: None,
                        conn: None,
                        body: Body::Narration {
                            lang: "en".into(),
                            text: format!("step at {i}"),
                            explains: None,
                            chapter: None,
                        },
                    },
                );
            }
            edit(&mut events);
            let p = dir.join(format!("tcpscope-rec-{tag}-{}.jsonl", std::process::id()));
            let mut w = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
            writeln!(
                w,
                r#"{{"tcpscope_recording":1,"mode":"live","title":"big"}}"#
            )
            .unwrap();
            for e in &events {
                writeln!(w, "{}", e.to_json()).unwrap();
                if e.t == events[5].t {
                    writeln!(w).unwrap(); // blank lines are skipped
                }
            }
            w.flush().unwrap();
            Big(p)
        }
    }

    impl Drop for Big {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn a_recording_is_read_a_window_at_a_time_and_gives_the_held_events() {
        let big = Big::new("window", |_| {});
        let all = load(&big.0).unwrap().events;
        assert!(all.len() > 3 * STRIDE, "{} events", all.len());
        let mut d = ReplayDriver::recording(&big.0).unwrap();
        assert!(matches!(d.events, Events::Capture(_)), "windowed");
        assert_eq!(d.events.len(), all.len());
        assert_eq!(d.end(), all.last().unwrap().t);
        assert_eq!(d.title(), format!("{} — big", big.0.display()));
        // Judged as for the held recording (its hosts are `client` and
        // `server`), and the narrations found on the first pass.
        let held = ReplayDriver::new(load(&big.0).unwrap());
        assert!(d.two_hosts && held.two_hosts);
        assert_eq!(d.narration_indices(), held.narration_indices());
        assert_eq!(d.narration_indices().len(), 3);
        assert!(d.has_narration && d.by_narration);
        // Forward, far ahead, back: each event as held, a window at most.
        for i in [
            0,
            5,
            2 * STRIDE + 3,
            17,
            all.len() - 1,
            STRIDE,
            3 * STRIDE + 1,
        ] {
            assert_eq!(d.events.get(i), Some(&all[i]), "event {i}");
            assert!(d.events.held() <= 2 * STRIDE);
        }
        for t in [0.0, all[40_000].t, all.last().unwrap().t + 1.0] {
            let want = all.partition_point(|e| e.t <= t + 1e-9);
            assert_eq!(d.events.index_after(t), want, "t = {t}");
        }
        let Events::Capture(c) = &d.events else {
            unreachable!()
        };
        // Each jump back starts one pass at its part's line, not at the
        // file's start: a handful in all.
        assert!(c.passes < 12, "{} passes", c.passes);
        // Streamed (`--headless`, `plot`): the same events, in order.
        let (two, stream, cut) = recorded_events(&big.0).unwrap();
        let got: Vec<Event> = stream.map(Result::unwrap).collect();
        assert!(two && got == all, "{} of {} events", got.len(), all.len());
        assert_eq!(cut, None);
    }

    #[test]
    fn a_recording_out_of_time_order_is_held_and_sorted() {
        let big = Big::new("unsorted", |ev| {
            let t = ev[100].t;
            ev[100].t = ev[200].t;
            ev[200].t = t;
        });
        let d = ReplayDriver::recording(&big.0).unwrap();
        assert!(matches!(d.events, Events::Held(_)));
        let Events::Held(v) = &d.events else {
            unreachable!()
        };
        assert!(v.windows(2).all(|w| w[0].t <= w[1].t));
        let (_, stream, _) = recorded_events(&big.0).unwrap();
        let got: Vec<Event> = stream.map(Result::unwrap).collect();
        assert!(&got == v, "streamed sorted, as held");
    }

    #[test]
    fn a_bad_line_is_the_same_sentence_as_when_held() {
        let big = Big::new("bad", |_| {});
        let mut text = std::fs::read_to_string(&big.0).unwrap();
        text.push_str("{\"t\":1e9,\"kind\":\"nonsense\"}\n");
        std::fs::write(&big.0, text).unwrap();
        let windowed = ReplayDriver::recording(&big.0).err().unwrap();
        assert_eq!(windowed, load(&big.0).err().unwrap());
        assert!(windowed.contains("not a valid event"), "{windowed}");
    }

    #[test]
    fn a_recording_cut_short_is_read_in_windows_up_to_the_cut() {
        let big = Big::new("killed", |_| {});
        let all = load(&big.0).unwrap().events;
        let mut text = std::fs::read_to_string(&big.0).unwrap();
        let lines = text.lines().count();
        text.push_str(r#"{"t":1e9,"host":"client","conn":"x<->y","kind":"segm"#);
        std::fs::write(&big.0, text).unwrap();
        let say = format!(
            "{} ends at line {}, cut short: everything before it is replayed",
            big.0.display(),
            lines + 1
        );
        let mut d = ReplayDriver::recording(&big.0).unwrap();
        assert!(matches!(d.events, Events::Capture(_)), "windowed");
        assert_eq!(d.events.len(), all.len());
        assert_eq!(d.end(), all.last().unwrap().t);
        // The last window, read again from the file, stops before the cut.
        for i in [all.len() - 1, 0, all.len() - 2] {
            assert_eq!(d.events.get(i), Some(&all[i]), "event {i}");
        }
        assert_eq!(d.events.take_broken(), None);
        assert_eq!(d.take_notice(), Some(say.clone()));
        assert_eq!(d.take_notice(), None, "said once");
        // Held, and streamed (`--headless`, `plot`): the same, and said.
        let held = load(&big.0).unwrap();
        assert!(held.events == all);
        assert_eq!(held.notice.as_deref(), Some(say.as_str()));
        let (_, stream, cut) = recorded_events(&big.0).unwrap();
        let got: Vec<Event> = stream.map(Result::unwrap).collect();
        assert!(got == all, "{} of {} events", got.len(), all.len());
        assert_eq!(cut, Some(say));
    }

    #[test]
    fn a_recording_cut_after_it_was_opened_ends_where_the_file_does() {
        let big = Big::new("cut", |_| {});
        let mut d = ReplayDriver::recording(&big.0).unwrap();
        let len = d.events.len();
        let text = std::fs::read_to_string(&big.0).unwrap();
        std::fs::write(&big.0, &text[..text.len() / 3]).unwrap();
        // Past the first window: the file no longer has it.
        assert_eq!(d.events.get(len - 1), None);
        let why = d.events.take_broken().expect("a sentence");
        assert!(why.contains("changed since it was opened"), "{why}");
        assert!(d.events.len() < len);
    }
}
