//! Where events go besides the UI: JSON lines (`--events`) and recordings
//! (`--record`).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::event::Event;

/// Version of the recording format `tcpscope replay` reads.
pub const RECORDING_FORMAT: u32 = 1;

/// JSON lines to a file or stdout.
pub struct EventWriter {
    out: Box<dyn Write + Send>,
    /// One line, serialized here first: serde_json's many small writes then
    /// hit a `Vec` instead of the boxed writer (about twice as fast).
    line: Vec<u8>,
}

/// Big enough that a writer thread issues few `write` calls under load.
const WRITE_BUFFER: usize = 1 << 20;

impl EventWriter {
    /// `-` is stdout.
    pub fn create(target: &str) -> io::Result<EventWriter> {
        let out: Box<dyn Write + Send> = if target == "-" {
            Box::new(BufWriter::with_capacity(WRITE_BUFFER, io::stdout()))
        } else {
            Box::new(BufWriter::with_capacity(
                WRITE_BUFFER,
                File::create(target)?,
            ))
        };
        Ok(EventWriter::new(out))
    }

    fn new(out: Box<dyn Write + Send>) -> EventWriter {
        EventWriter {
            out,
            line: Vec::with_capacity(1024),
        }
    }

    pub fn write(&mut self, e: &Event) -> io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, e)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A recording's first line, newline included: the format version, this
/// tcpscope's version, the mode and the title. `joined_at` is for a shared
/// session's viewers (docs/live.md, Sharing a live session): where the session's
/// timeline was when this viewer joined.
pub fn header_line(mode: &str, title: &str, joined_at: Option<f64>) -> Vec<u8> {
    let mut header = serde_json::json!({
        "tcpscope_recording": RECORDING_FORMAT,
        "version": env!("CARGO_PKG_VERSION"),
        "mode": mode,
        "title": title,
    });
    if let Some(t) = joined_at {
        header["joined_at"] = serde_json::json!(t);
    }
    let mut line = serde_json::to_vec(&header).expect("a JSON value serializes");
    line.push(b'\n');
    line
}

/// A recording: a header line, then the events.
pub struct Recorder {
    inner: EventWriter,
}

impl Recorder {
    pub fn create(path: &Path, mode: &str, title: &str) -> io::Result<Recorder> {
        let mut inner = EventWriter::new(Box::new(BufWriter::with_capacity(
            WRITE_BUFFER,
            File::create(path)?,
        )));
        inner.out.write_all(&header_line(mode, title, None))?;
        Ok(Recorder { inner })
    }

    pub fn write(&mut self, e: &Event) -> io::Result<()> {
        self.inner.write(e)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
