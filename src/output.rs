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
}

impl EventWriter {
    /// `-` is stdout.
    pub fn create(target: &str) -> io::Result<EventWriter> {
        let out: Box<dyn Write + Send> = if target == "-" {
            Box::new(BufWriter::new(io::stdout()))
        } else {
            Box::new(BufWriter::new(File::create(target)?))
        };
        Ok(EventWriter { out })
    }

    pub fn write(&mut self, e: &Event) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, e)?;
        self.out.write_all(b"\n")
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A recording: a header line, then the events.
pub struct Recorder {
    inner: EventWriter,
}

impl Recorder {
    pub fn create(path: &Path, mode: &str, title: &str) -> io::Result<Recorder> {
        let mut inner = EventWriter {
            out: Box::new(BufWriter::new(File::create(path)?)),
        };
        let header = serde_json::json!({
            "tcpscope_recording": RECORDING_FORMAT,
            "version": env!("CARGO_PKG_VERSION"),
            "mode": mode,
            "title": title,
        });
        serde_json::to_writer(&mut inner.out, &header)?;
        inner.out.write_all(b"\n")?;
        Ok(Recorder { inner })
    }

    pub fn write(&mut self, e: &Event) -> io::Result<()> {
        self.inner.write(e)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
