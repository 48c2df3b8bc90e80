//! Where a replay's events come from (docs/captures.md, Opening a capture): a
//! capture's, made again from the file a window at a time, so that a
//! capture of a million packets opens in the UI without holding a million
//! events; a recording's, read from the file a window at a time too (each
//! line is one event, so a pass starts at any mark's byte offset), or held
//! whole when its events are out of time order (a hand-edited file, sorted
//! in memory).
//!
//! A capture's events are numbered in the order the converter makes them,
//! which is the same on every pass (it is deterministic); their times are
//! made non-decreasing (a capture's clock may step back; the timeline must
//! not), as in the headless stream. A reader thread runs the converter and
//! hands over [`STRIDE`] events at a time through a channel of one: the
//! window moving forward takes the next ones; a window before the reader's
//! place (a seek back) starts a new reader from the file's start (the
//! converter keeps per-connection state, so it cannot start in the
//! middle). A first pass at open counts the events, notes the time of
//! every [`STRIDE`]-th and keeps the first window.
//!
//! Uses events and the capture reader only; must not depend on `ui`.

use std::io::{BufRead, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};

use crate::capture::{self, Format, Summary};
use crate::event::Event;

/// Events between two time marks; a window holds two strides.
pub const STRIDE: usize = 32_768;
const WINDOW: usize = 2 * STRIDE;

/// A replay's events, by index.
pub enum Events {
    Held(Vec<Event>),
    Capture(CaptureEvents),
}

/// What the file of a windowed replay is.
#[derive(Clone, Debug)]
enum Source {
    Capture(Format),
    /// A recording's JSON lines: the byte offset of the line of every
    /// STRIDE-th event, and how many events it has (a last line cut short
    /// is not one of them).
    Recording(Arc<Vec<u64>>, usize),
}

pub struct CaptureEvents {
    path: PathBuf,
    source: Source,
    len: usize,
    end: f64,
    /// The time of events 0, STRIDE, 2·STRIDE, …: where to look for a time.
    marks: Vec<f64>,
    /// Index of `window[0]`; always a multiple of STRIDE.
    base: usize,
    window: Vec<Event>,
    /// Passes over the file so far (the first one included).
    pub passes: u32,
    /// The reader thread of the current pass, and the index of the first
    /// event of the next part it hands over.
    reader: Option<(Receiver<Part>, usize)>,
    /// The file could not be read again as it was at open (changed or
    /// gone): the sentence, and the window stays as it was.
    pub broken: Option<String>,
}

/// What a reader thread hands over: STRIDE events (fewer at the end), or
/// the sentence of a pass that failed.
type Part = Result<Vec<Event>, String>;

/// Start a pass over the file on a thread of its own, from part `from`
/// (a capture: always 0). It stops when the receiver goes (its next send
/// fails) or at the end of the file.
fn reader(path: PathBuf, source: Source, from: usize) -> Receiver<Part> {
    match source {
        Source::Capture(format) => capture_reader(path, format),
        Source::Recording(offsets, len) => {
            recording_reader(path, offsets[from], len.saturating_sub(from * STRIDE))
        }
    }
}

/// A recording's events from the line at byte `at` on, `count` of them
/// (the first pass's count: not a last line cut short). A line that no
/// longer reads as an event means the file changed since it was opened.
fn recording_reader(path: PathBuf, at: u64, count: usize) -> Receiver<Part> {
    let (tx, rx) = sync_channel::<Part>(1);
    std::thread::spawn(move || {
        let changed = || format!("{} changed since it was opened", path.display());
        let file =
            std::fs::File::open(&path).and_then(|mut f| f.seek(SeekFrom::Start(at)).map(|_| f));
        let Ok(file) = file else {
            let _ = tx.send(Err(changed()));
            return;
        };
        let mut part = Vec::with_capacity(STRIDE);
        let mut left = count;
        for line in std::io::BufReader::new(file).lines() {
            if left == 0 {
                break;
            }
            let Ok(line) = line else {
                let _ = tx.send(Err(changed()));
                return;
            };
            if line.trim().is_empty() {
                continue;
            }
            let Ok(e) = Event::from_json(&line) else {
                let _ = tx.send(Err(changed()));
                return;
            };
            part.push(e);
            left -= 1;
            if part.len() == STRIDE
                && tx
                    .send(Ok(std::mem::replace(&mut part, Vec::with_capacity(STRIDE))))
                    .is_err()
            {
                return;
            }
        }
        if !part.is_empty() {
            let _ = tx.send(Ok(part));
        }
    });
    rx
}

fn capture_reader(path: PathBuf, format: Format) -> Receiver<Part> {
    let (tx, rx) = sync_channel::<Part>(1);
    std::thread::spawn(move || {
        let mut part = Vec::with_capacity(STRIDE);
        let r = capture::convert_in_order(&path, format, |e| {
            part.push(e);
            if part.len() == STRIDE {
                tx.send(Ok(std::mem::replace(&mut part, Vec::with_capacity(STRIDE))))
                    .map_err(|_| ())?;
            }
            Ok::<(), ()>(())
        });
        match r {
            Ok(_) if !part.is_empty() => {
                let _ = tx.send(Ok(part));
            }
            Err(capture::Error::Open(s)) => {
                let _ = tx.send(Err(s));
            }
            _ => {}
        }
    });
    rx
}

impl CaptureEvents {
    /// The first pass: count, mark, keep the first window. Returns the
    /// capture's summary too (its title line, a cut sentence).
    pub fn open(path: &Path, format: Format) -> Result<(CaptureEvents, Summary), String> {
        let mut window = Vec::new();
        let mut marks = Vec::new();
        let mut len = 0usize;
        let mut last = 0.0f64;
        let summary = capture::each_event(path, format, |e| {
            last = e.t;
            if len.is_multiple_of(STRIDE) {
                marks.push(e.t);
            }
            if len < WINDOW {
                window.push(e);
            }
            len += 1;
        })?;
        let c = CaptureEvents::after_first_pass(path, Source::Capture(format), len, last, marks);
        Ok((c.with_window(window), summary))
    }

    /// What a first pass over the file found: the number of events, the
    /// last one's time, the time of every STRIDE-th; the window is still
    /// to be given.
    fn after_first_pass(
        path: &Path,
        source: Source,
        len: usize,
        end: f64,
        marks: Vec<f64>,
    ) -> CaptureEvents {
        CaptureEvents {
            path: path.to_path_buf(),
            source,
            len,
            end,
            marks,
            base: 0,
            window: Vec::new(),
            passes: 1,
            reader: None,
            broken: None,
        }
    }

    fn with_window(mut self, window: Vec<Event>) -> CaptureEvents {
        self.window = window;
        self
    }

    /// A recording read a window at a time: what its first pass found
    /// (see [`crate::driver::replay`]): the number of events, the last
    /// one's time, the time and byte offset of every STRIDE-th, the first
    /// window.
    pub fn recording(
        path: &Path,
        len: usize,
        end: f64,
        marks: Vec<f64>,
        offsets: Vec<u64>,
        window: Vec<Event>,
    ) -> CaptureEvents {
        let source = Source::Recording(Arc::new(offsets), len);
        CaptureEvents::after_first_pass(path, source, len, end, marks).with_window(window)
    }

    /// Make the window hold `i`: the two parts from `i`'s on, from the
    /// reader if it has not gone past them, else from a new pass (a
    /// capture's from its start, a recording's from `i`'s part).
    fn load(&mut self, i: usize) {
        let base = i / STRIDE * STRIDE;
        if self.reader.as_ref().is_none_or(|(_, next)| *next > base) {
            let from = match self.source {
                Source::Capture(_) => 0,
                Source::Recording(..) => base / STRIDE,
            };
            self.reader = Some((
                reader(self.path.clone(), self.source.clone(), from),
                from * STRIDE,
            ));
            self.passes += 1;
        }
        let (rx, next) = self.reader.as_mut().expect("a reader");
        let mut window = Vec::with_capacity(WINDOW.min(self.len - base));
        while window.len() < WINDOW.min(self.len - base) {
            match rx.recv() {
                Ok(Ok(part)) => {
                    let n = part.len();
                    if *next >= base {
                        window.extend(part);
                    }
                    *next += n;
                }
                Ok(Err(s)) => {
                    self.broken = Some(s);
                    break;
                }
                Err(_) => {
                    self.broken = Some(format!(
                        "{} changed since it was opened: replay stops here",
                        self.path.display()
                    ));
                    break;
                }
            }
        }
        if self.broken.is_none() {
            self.base = base;
            self.window = window;
        } else {
            self.reader = None;
        }
    }
}

impl Events {
    pub fn len(&self) -> usize {
        match self {
            Events::Held(v) => v.len(),
            Events::Capture(c) => c.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The last event's time.
    pub fn end(&self) -> f64 {
        match self {
            Events::Held(v) => v.last().map(|e| e.t).unwrap_or(0.0),
            Events::Capture(c) => c.end,
        }
    }

    /// Event `i`, reading the file again when it is not in the window.
    pub fn get(&mut self, i: usize) -> Option<&Event> {
        match self {
            Events::Held(v) => v.get(i),
            Events::Capture(c) => {
                if i >= c.len {
                    return None;
                }
                if !(c.base..c.base + c.window.len()).contains(&i) && c.broken.is_none() {
                    c.load(i);
                }
                c.window.get(i.checked_sub(c.base)?)
            }
        }
    }

    /// Events `from..to` (at most one window's worth for a capture, so a
    /// long stretch comes in parts: the caller asks again from where this
    /// ended).
    pub fn take(&mut self, from: usize, to: usize) -> Vec<Event> {
        let to = to.min(self.len());
        if from >= to {
            return Vec::new();
        }
        match self {
            Events::Held(v) => v[from..to].to_vec(),
            Events::Capture(_) => {
                if self.get(from).is_none() {
                    return Vec::new();
                }
                let Events::Capture(c) = self else {
                    unreachable!("matched above")
                };
                let end = to.min(c.base + c.window.len());
                c.window[from - c.base..end - c.base].to_vec()
            }
        }
    }

    /// Index just past the last event at or before `t`.
    pub fn index_after(&mut self, t: f64) -> usize {
        let t = t + 1e-9;
        match self {
            Events::Held(v) => v.partition_point(|e| e.t <= t),
            Events::Capture(c) => {
                // The stride whose first event is the last one at or
                // before t; then a scan of at most one stride.
                let k = c.marks.partition_point(|m| *m <= t);
                if k == 0 {
                    return 0;
                }
                let mut i = (k - 1) * STRIDE;
                while i < self.len() && self.get(i).is_some_and(|e| e.t <= t) {
                    i += 1;
                }
                i
            }
        }
    }

    /// Why the file could not be read again, once.
    pub fn take_broken(&mut self) -> Option<String> {
        match self {
            Events::Held(_) => None,
            Events::Capture(c) => c.broken.take().inspect(|_| {
                // Nothing more comes: the replay ends where the file did.
                c.len = c.base + c.window.len();
                c.end = c.window.last().map_or(0.0, |e| e.t);
            }),
        }
    }

    /// How many events are held now.
    pub fn held(&self) -> usize {
        match self {
            Events::Held(v) => v.len(),
            Events::Capture(c) => c.window.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::Driver;
    use crate::driver::replay::{ReplayDriver, load_capture};

    /// A synthetic capture of more than two windows of events, its path
    /// (removed on drop).
    struct Big(PathBuf);

    impl Big {
        fn new(tag: &str) -> Big {
            let p = std::env::temp_dir()
                .join(format!("tcpscope-events-{tag}-{}.pcap", std::process::id()));
            let f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
            capture::synth::many(f, 2500, 30, 50).unwrap();
            Big(p)
        }
    }

    impl Drop for Big {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn a_capture_window_gives_the_same_events_as_holding_them_all() {
        let big = Big::new("window");
        let all = load_capture(&big.0, Format::Pcap).unwrap().events;
        assert!(all.len() > WINDOW + STRIDE, "{} events", all.len());
        let (c, _) = CaptureEvents::open(&big.0, Format::Pcap).unwrap();
        let mut ev = Events::Capture(c);
        assert_eq!(ev.len(), all.len());
        assert_eq!(ev.end(), all.last().unwrap().t);
        // Forward, back to the start, far ahead, back a little: each event
        // as held, never more than a window held at once.
        for i in [
            0,
            5,
            WINDOW + 3,
            17,
            all.len() - 1,
            STRIDE - 1,
            STRIDE,
            2 * STRIDE + 1,
        ] {
            assert_eq!(ev.get(i), Some(&all[i]), "event {i}");
            assert!(ev.held() <= WINDOW);
        }
        assert_eq!(ev.get(all.len()), None);
        // A long stretch comes a window at a time, in order.
        let mut got = Vec::new();
        while got.len() < all.len() {
            let part = ev.take(got.len(), all.len());
            assert!(!part.is_empty() && part.len() <= WINDOW);
            got.extend(part);
        }
        assert!(got == all, "the stretch equals the held events");
        for t in [
            -1.0,
            0.0,
            all[40_000].t,
            all[all.len() / 2].t,
            all.last().unwrap().t + 1.0,
        ] {
            let want = all.partition_point(|e| e.t <= t + 1e-9);
            assert_eq!(ev.index_after(t), want, "t = {t}");
        }
        let Events::Capture(c) = &ev else {
            unreachable!()
        };
        assert!(c.passes < 20, "{} passes over the file", c.passes);
    }

    #[test]
    fn a_capture_replays_to_the_end_and_back_in_windows() {
        let big = Big::new("replay");
        let all = load_capture(&big.0, Format::Pcap).unwrap().events;
        let mut d = ReplayDriver::capture(&big.0, Format::Pcap).unwrap();
        let _ = d.command(crate::driver::Command::Pause(true));
        let drain = |d: &mut ReplayDriver| {
            let mut got = Vec::new();
            for _ in 0..1000 {
                let part = d.poll();
                if part.is_empty() {
                    break;
                }
                got.extend(part);
            }
            got
        };
        // Seek to the end while paused: every event, in order, in parts.
        d.command(crate::driver::Command::Seek(d.end())).unwrap();
        let got = drain(&mut d);
        assert!(got == all, "{} of {} events", got.len(), all.len());
        assert!(d.finished());
        // Back to the middle: the UI starts over and gets the first part.
        let mid = all[all.len() / 2].t;
        d.command(crate::driver::Command::Seek(mid)).unwrap();
        assert!(d.take_rewind());
        // Paused, the UI still comes back at once for the rest.
        assert_eq!(d.next_wake(), Some(std::time::Duration::ZERO));
        let got = drain(&mut d);
        assert_eq!(d.next_wake(), None, "paused, and nothing more to hand out");
        let want = all.partition_point(|e| e.t <= mid + 1e-9);
        assert!(got[..] == all[..want], "{} events, want {want}", got.len());
        assert!(!d.finished());
    }
}
