//! A viewer of a shared live session: `tcpscope attach PATH` (docs/live.md,
//! Sharing a live session). [`AttachDriver`] implements
//! [`crate::driver::Driver`] over the session's stream.
//!
//! [`connect`] opens the Unix socket that `tcpscope live --share PATH`
//! listens on and reads the header line (the recording format's, mode
//! `live`); then a thread reads one JSON event per line into a bounded
//! channel. That channel blocks the reader, not the session: when this
//! viewer is slow, the socket fills and the session's hub drops events for
//! this viewer alone and tells it so with a `lagged` event.
//!
//! The viewer is read-only: every command the UI hands it is refused with
//! one sentence (the catalogue's `read_only`). Its clock follows the session's: the latest `t` it knows
//! (the header's `joined_at`, then each event's), advanced by the wall time
//! since it learned it, so timers count down between events.
//!
//! Uses events and the output format only; must not depend on `ui`.

use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError, sync_channel};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::event::Event;
use crate::i18n::{self, Lang};
use crate::output::{EventWriter, RECORDING_FORMAT, Recorder};

use super::{Command, Driver, Mode};

/// Events read ahead of the UI.
const CHANNEL: usize = 1 << 16;

/// Most events one `poll` hands over (the rest wait for the next frame).
const POLL_MAX: usize = 20_000;

/// How long the session has to send its header line.
const HEADER_WAIT: Duration = Duration::from_secs(5);

/// The longest line accepted from the socket: an event with a hex dump of a
/// full segment is far below this; anything longer is not a session.
const MAX_LINE: u64 = 4 << 20;

#[derive(Deserialize)]
struct Header {
    tcpscope_recording: u64,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    joined_at: Option<f64>,
}

/// What the reader thread hands over: an event, or why the stream broke.
type Item = Result<Event, String>;

/// A session joined: its title, where its clock was at the header, and its
/// events as they come. The channel disconnects at the end of the stream.
pub struct Session {
    pub path: String,
    pub title: String,
    pub joined_at: f64,
    /// When the header was read: `joined_at` is the session's clock then.
    pub joined: Instant,
    rx: Receiver<Item>,
}

/// Connect to the session at `path` and read its header.
pub fn connect(path: &Path) -> Result<Session, String> {
    let d = path.display();
    // connect(2) to a file that is not a socket says "connection refused",
    // which would read as a session that ended.
    if let Ok(m) = std::fs::metadata(path)
        && !m.file_type().is_socket()
    {
        return Err(format!(
            "{d} is not a tcpscope session: it is not a socket (tcpscope live --share PATH makes one)"
        ));
    }
    let stream = UnixStream::connect(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => format!(
            "there is no shared session at {d}: start one with tcpscope live --share {d}"
        ),
        io::ErrorKind::ConnectionRefused => format!(
            "the session at {d} has ended (nothing listens on the socket any more)"
        ),
        io::ErrorKind::PermissionDenied => format!(
            "cannot open {d}: permission denied (the socket is mode 0660: run as its owner or a member of its group)"
        ),
        _ => format!("cannot open {d} as a shared session: {e}"),
    })?;
    let not_session = |why: &str| format!("{d} is not a tcpscope session: {why}");
    stream
        .set_read_timeout(Some(HEADER_WAIT))
        .map_err(|e| format!("cannot read from {d}: {e}"))?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    match read_line(&mut reader, &mut line) {
        Ok(0) => return Err(not_session("it closed without a word")),
        Ok(_) => {}
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            return Err(not_session(&format!(
                "it sent nothing in {} s",
                HEADER_WAIT.as_secs()
            )));
        }
        Err(e) => return Err(not_session(&e.to_string())),
    }
    let header: Header = serde_json::from_str(&line)
        .map_err(|_| not_session("its first line is not a tcpscope header"))?;
    if header.tcpscope_recording != u64::from(RECORDING_FORMAT) {
        return Err(format!(
            "the session at {d} speaks format version {}; this tcpscope reads version {RECORDING_FORMAT} only",
            header.tcpscope_recording
        ));
    }
    if header.mode.as_deref() != Some("live") {
        return Err(not_session("it is not a live session"));
    }
    reader
        .get_ref()
        .set_read_timeout(None)
        .map_err(|e| format!("cannot read from {d}: {e}"))?;
    let joined = Instant::now();
    let (tx, rx) = sync_channel(CHANNEL);
    let name = d.to_string();
    std::thread::Builder::new()
        .name("tcpscope-attach".into())
        .spawn(move || {
            let mut line = String::new();
            loop {
                line.clear();
                let item = match read_line(&mut reader, &mut line) {
                    Ok(0) => return,
                    Ok(_) if line.trim().is_empty() => continue,
                    Ok(_) => Event::from_json(&line).map_err(|e| {
                        format!("{name} sent a line that is not an event ({e}); stopped reading")
                    }),
                    Err(e) => Err(format!("the connection to {name} broke: {e}")),
                };
                let stop = item.is_err();
                if tx.send(item).is_err() || stop {
                    return;
                }
            }
        })
        .map_err(|e| format!("cannot start the viewer's reader thread: {e}"))?;
    Ok(Session {
        path: d.to_string(),
        title: header.title.unwrap_or_default(),
        joined_at: header.joined_at.filter(|t| t.is_finite()).unwrap_or(0.0),
        joined,
        rx,
    })
}

/// One line, at most [`MAX_LINE`] bytes.
fn read_line(r: &mut BufReader<UnixStream>, line: &mut String) -> io::Result<usize> {
    let n = r.by_ref().take(MAX_LINE).read_line(line)?;
    if n as u64 == MAX_LINE && !line.ends_with('\n') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a line longer than {MAX_LINE} bytes"),
        ));
    }
    Ok(n)
}

/// What came out of the session's stream.
pub enum Next {
    Event(Event),
    /// The session ended (end of stream).
    End,
    /// The stream broke or carried something that is not an event.
    Broken(String),
    /// Nothing within the wait.
    Idle,
}

impl Session {
    /// The next event, waiting at most `wait` (`None`: until one comes).
    pub fn next(&self, wait: Option<Duration>) -> Next {
        let r = match wait {
            None => self.rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(w) => self.rx.recv_timeout(w),
        };
        match r {
            Ok(Ok(e)) => Next::Event(e),
            Ok(Err(msg)) => Next::Broken(msg),
            Err(RecvTimeoutError::Timeout) => Next::Idle,
            Err(RecvTimeoutError::Disconnected) => Next::End,
        }
    }

    fn try_next(&self) -> Next {
        match self.rx.try_recv() {
            Ok(Ok(e)) => Next::Event(e),
            Ok(Err(msg)) => Next::Broken(msg),
            Err(TryRecvError::Empty) => Next::Idle,
            Err(TryRecvError::Disconnected) => Next::End,
        }
    }
}

/// The terminal UI's driver for a viewer.
pub struct AttachDriver {
    session: Session,
    /// The session's clock: a `t` and when we learned it.
    anchor: (f64, Instant),
    /// Set when the stream ended: the clock stops there.
    ended_at: Option<f64>,
    notice: Option<String>,
    events: Option<EventWriter>,
    record: Option<Recorder>,
    write_failed: bool,
    /// The language of the answers, the title and the notices.
    lang: Lang,
}

impl AttachDriver {
    /// `events`, `record`: `--events FILE`, `--record FILE` beside the UI.
    pub fn new(
        session: Session,
        events: Option<EventWriter>,
        record: Option<Recorder>,
    ) -> AttachDriver {
        let anchor = (session.joined_at, session.joined);
        AttachDriver {
            session,
            anchor,
            ended_at: None,
            notice: None,
            events,
            record,
            write_failed: false,
            lang: Lang::En,
        }
    }

    fn clock(&self) -> f64 {
        self.anchor.0 + self.anchor.1.elapsed().as_secs_f64()
    }

    fn tee(&mut self, e: &Event) {
        if self.write_failed {
            return;
        }
        let mut r = Ok(());
        if let Some(w) = self.events.as_mut() {
            r = r.and(w.write(e));
        }
        if let Some(w) = self.record.as_mut() {
            r = r.and(w.write(e));
        }
        if let Err(err) = r {
            self.write_failed = true;
            self.notice = Some(i18n::messages(self.lang).cannot_write_events(&err.to_string()));
        }
    }

    fn flush(&mut self) {
        let mut r = Ok(());
        if let Some(w) = self.events.as_mut() {
            r = r.and(w.flush());
        }
        if let Some(w) = self.record.as_mut() {
            r = r.and(w.flush());
        }
        if let Err(err) = r
            && !self.write_failed
        {
            self.write_failed = true;
            self.notice = Some(i18n::messages(self.lang).cannot_write_events(&err.to_string()));
        }
    }

    fn end(&mut self, why: String) {
        self.ended_at = Some(self.clock());
        self.flush();
        self.notice = Some(why);
    }
}

impl Driver for AttachDriver {
    fn playback(&self) -> super::Playback {
        super::Playback {
            read_only: true,
            ..super::Playback::default()
        }
    }

    fn mode(&self) -> Mode {
        Mode::Live
    }

    fn title(&self) -> String {
        i18n::messages(self.lang).viewer_title(&self.session.path, &self.session.title)
    }

    fn poll(&mut self) -> Vec<Event> {
        let mut v = Vec::new();
        if self.ended_at.is_some() {
            return v;
        }
        while v.len() < POLL_MAX {
            match self.session.try_next() {
                Next::Event(e) => {
                    // A late joiner's history is older than the header's
                    // clock: only a newer `t` moves the clock.
                    if e.t > self.clock() {
                        self.anchor = (e.t, Instant::now());
                    }
                    self.tee(&e);
                    v.push(e);
                }
                Next::Idle => break,
                Next::End => {
                    let why = i18n::messages(self.lang).session_ended(&self.session.path);
                    self.end(why);
                    break;
                }
                Next::Broken(why) => {
                    self.end(why);
                    break;
                }
            }
        }
        if !v.is_empty() {
            self.flush();
        }
        v
    }

    fn now(&self) -> f64 {
        self.ended_at.unwrap_or_else(|| self.clock())
    }

    /// Events arrive on their own: look again at a frame rate.
    fn next_wake(&self) -> Option<Duration> {
        Some(Duration::from_millis(33))
    }

    fn command(&mut self, _cmd: Command) -> Result<String, String> {
        Err(i18n::messages(self.lang).read_only.into())
    }

    fn finished(&self) -> bool {
        self.ended_at.is_some()
    }

    fn take_notice(&mut self) -> Option<String> {
        // The reader thread's English (the connection broke), in the
        // answers' language where known.
        let m = i18n::messages(self.lang);
        self.notice.take().map(|n| m.phrase(&n).into_owned())
    }

    fn set_lang(&mut self, lang: Lang) {
        self.lang = lang;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Body, Dir};
    use std::io::Write;
    use std::os::unix::net::UnixListener;

    fn temp(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "tcpscope-attach-unit-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A fake session that sends `text` to the first viewer and closes.
    fn serve(path: &Path, text: &'static str) -> std::thread::JoinHandle<()> {
        let l = UnixListener::bind(path).unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let _ = s.write_all(text.as_bytes());
        })
    }

    const SESSION: &str = concat!(
        r#"{"tcpscope_recording":1,"mode":"live","title":"live on tcpscope0","joined_at":7.5}"#,
        "\n",
        r#"{"t":0.0,"kind":"info","msg":"ready"}"#,
        "\n",
        r#"{"t":9.0,"kind":"info","msg":"later"}"#,
        "\n"
    );

    #[test]
    fn a_viewer_is_read_only_and_sees_the_end_as_stopped() {
        let dir = temp("driver");
        let path = dir.join("s.sock");
        let h = serve(&path, SESSION);
        let session = connect(&path).unwrap();
        assert_eq!(session.joined_at, 7.5);
        let mut d = AttachDriver::new(session, None, None);
        assert_eq!(d.mode(), Mode::Live);
        assert_eq!(
            d.title(),
            format!("read-only viewer of {}: live on tcpscope0", path.display())
        );
        assert!(d.now() >= 7.5);
        for cmd in [
            Command::DropNext(Dir::In),
            Command::HoldAll(true),
            Command::ClearRules,
            Command::Connect("10.77.0.1:80".parse().unwrap()),
        ] {
            assert_eq!(
                d.command(cmd),
                Err("read-only: this is a viewer of a shared session; faults, closes and connects belong to the tcpscope live that shares it".to_string())
            );
        }
        h.join().unwrap();
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !d.finished() {
            assert!(Instant::now() < deadline, "the end was not seen");
            got.extend(d.poll());
            std::thread::sleep(Duration::from_millis(5));
        }
        let msgs: Vec<_> = got
            .iter()
            .map(|e| match &e.body {
                Body::Info { msg } => msg.as_str(),
                _ => "",
            })
            .collect();
        assert_eq!(msgs, ["ready", "later"]);
        assert_eq!(
            d.take_notice(),
            Some(format!(
                "the shared session at {} has ended",
                path.display()
            ))
        );
        // The clock moved to the newest event and stopped with the session.
        let t = d.now();
        assert!((9.0..10.0).contains(&t), "{t}");
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(d.now(), t);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn what_is_not_a_session_is_one_sentence() {
        let dir = temp("errors");
        let missing = dir.join("missing.sock");
        assert_eq!(
            connect(&missing).err().unwrap(),
            format!(
                "there is no shared session at {0}: start one with tcpscope live --share {0}",
                missing.display()
            )
        );
        let stale = dir.join("stale.sock");
        drop(UnixListener::bind(&stale).unwrap());
        assert_eq!(
            connect(&stale).err().unwrap(),
            format!(
                "the session at {} has ended (nothing listens on the socket any more)",
                stale.display()
            )
        );
        let other = dir.join("other.sock");
        let h = serve(&other, "SSH-2.0-OpenSSH\r\n");
        assert_eq!(
            connect(&other).err().unwrap(),
            format!(
                "{} is not a tcpscope session: its first line is not a tcpscope header",
                other.display()
            )
        );
        h.join().unwrap();
        let demo = dir.join("demo.sock");
        let h = serve(&demo, "{\"tcpscope_recording\":1,\"mode\":\"demo\"}\n");
        assert_eq!(
            connect(&demo).err().unwrap(),
            format!(
                "{} is not a tcpscope session: it is not a live session",
                demo.display()
            )
        );
        h.join().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_bad_line_ends_the_view_with_a_sentence() {
        let dir = temp("bad");
        let path = dir.join("s.sock");
        let h = serve(
            &path,
            "{\"tcpscope_recording\":1,\"mode\":\"live\"}\n{\"t\":1}\n",
        );
        let s = connect(&path).unwrap();
        h.join().unwrap();
        match s.next(Some(Duration::from_secs(5))) {
            Next::Broken(m) => assert!(
                m.starts_with(&format!(
                    "{} sent a line that is not an event (",
                    path.display()
                )),
                "{m}"
            ),
            _ => panic!("expected a broken stream"),
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
