//! Sharing a live session: `tcpscope live --share PATH` (docs/live.md,
//! Sharing a live session).
//!
//! The hub is one more consumer of the event stream: the runtime hands it
//! events through an ordinary bounded, lossy [`Sink`], so the stack never
//! waits for it. Behind that sink, on threads of their own:
//! - the hub thread keeps the session's history (the last [`HISTORY`]
//!   events) and gives every event to each viewer's own bounded, lossy
//!   [`Sink`]: a viewer that falls behind loses events and gets a `lagged`
//!   event, as every other consumer does;
//! - the acceptor thread takes viewers from the Unix socket; a viewer that
//!   joins late first gets the history (and, when the start of the session
//!   was trimmed, an `info` event that says how many events are missing);
//! - one writer thread per viewer writes the recording format: a header line
//!   (as `--record`'s, mode `live`, the session's title) and one JSON event
//!   per line. A viewer that quits or dies makes its writes fail (EPIPE or
//!   ECONNRESET; Rust's runtime ignores SIGPIPE in a binary, so they are
//!   errors, not a signal): its thread ends, its sink notices at the next
//!   event, and the others go on.
//!
//! The socket file is created mode 0660 and removed when the session ends;
//! an existing path is reused only when it is a stale socket (nothing
//! listens on it), never replaced otherwise.

use std::collections::VecDeque;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::event::{Body, Event};
use crate::output::header_line;

use super::sink::{Sink, background_priority};

/// Events the hub keeps for viewers that join late. At a few hundred bytes
/// an event this is some tens of MB at most; the UI keeps less than this
/// per connection anyway (docs/ui.md, History).
pub const HISTORY: usize = 100_000;

/// Events the runtime's channel to the hub holds before the hub lags.
pub const HUB_CHANNEL: usize = 1 << 16;

/// Events one viewer's queue holds before that viewer lags.
pub const VIEWER_QUEUE: usize = 1 << 16;

/// How long the end of a session waits for viewers to take the last
/// events before their connections are shut.
const VIEWER_GRACE: Duration = Duration::from_secs(2);

/// How long the end of a session waits for room in a lagging viewer's
/// queue to say how many of the last events it lost.
const LAST_LAGGED_WAIT: Duration = Duration::from_secs(1);

/// Events the hub hands out per turn of the lock.
const LOCKED_BATCH: usize = 4096;

/// How long the hub lets events gather after the first of a batch (as the
/// `--events` writer does: fewer wake-ups on a small machine).
const BATCH_WAIT: Duration = Duration::from_millis(5);

/// The socket file, bound and listening, not yet serving.
pub struct ShareSocket {
    listener: UnixListener,
    path: PathBuf,
    /// Device and inode of the socket file we created: only that file is
    /// removed at the end (someone may have replaced the path meanwhile).
    id: (u64, u64),
}

impl ShareSocket {
    /// Create the socket at `path` (mode 0660). An existing path is reused
    /// only if it is a socket nobody listens on (a session that was killed
    /// leaves one); one that is listened on, and anything that is not a
    /// socket, is refused and left as it is.
    pub fn bind(path: &Path) -> Result<ShareSocket, String> {
        let d = path.display();
        match fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_socket() => match UnixStream::connect(path) {
                Ok(_) => {
                    return Err(format!(
                        "{d} is in use by another tcpscope session (something listens on it): stop it or choose another path"
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    // Stale: its session ended without removing it.
                    fs::remove_file(path)
                        .map_err(|e| format!("cannot remove the stale socket {d}: {e}"))?;
                }
                Err(e) => {
                    return Err(format!(
                        "{d} is a socket tcpscope cannot check ({e}): it is left alone; choose another path"
                    ));
                }
            },
            Ok(m) => {
                return Err(format!(
                    "{d} exists and is not a socket ({}): tcpscope will not replace it; choose another path",
                    kind_of(&m)
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot look at {d}: {e}")),
        }
        // The socket's mode comes from the umask at bind(2), and bind also
        // listens: a umask that keeps "other" out from the first instant,
        // then the mode set exactly. No other thread runs yet (the share is
        // set up before the runtime and the writers start), so the
        // process-wide umask changes nothing else.
        // SAFETY: umask only swaps the process's file mode mask.
        let old = unsafe { libc::umask(0o117) };
        let bound = UnixListener::bind(path);
        // SAFETY: as above, restoring the mask.
        unsafe { libc::umask(old) };
        let listener = bound.map_err(|e| match e.kind() {
            io::ErrorKind::AddrInUse => format!(
                "{d} is in use by another tcpscope session (something listens on it): stop it or choose another path"
            ),
            _ => format!("cannot create the socket {d}: {e}"),
        })?;
        let meta = fs::set_permissions(path, fs::Permissions::from_mode(0o660))
            .and_then(|()| fs::symlink_metadata(path));
        let meta = match meta {
            Ok(m) => m,
            Err(e) => {
                let _ = fs::remove_file(path);
                return Err(format!("cannot set the mode of the socket {d}: {e}"));
            }
        };
        Ok(ShareSocket {
            listener,
            path: path.to_path_buf(),
            id: (meta.dev(), meta.ino()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn kind_of(m: &fs::Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_file() {
        "a regular file"
    } else if t.is_fifo() {
        "a FIFO"
    } else {
        "a device"
    }
}

/// Remove the socket file if it is still the one we created.
fn remove_ours(path: &Path, id: (u64, u64)) {
    if let Ok(m) = fs::symlink_metadata(path)
        && m.file_type().is_socket()
        && (m.dev(), m.ino()) == id
    {
        let _ = fs::remove_file(path);
    }
}

/// What the hub and the acceptor share.
struct State {
    history: VecDeque<Arc<Event>>,
    /// Events trimmed from the front of `history`.
    trimmed: u64,
    /// The latest event's `t` and when the hub got it: the session's clock,
    /// as well as the hub can tell, for a joining viewer's header.
    clock: Option<(f64, Instant)>,
    viewers: Vec<Sink>,
    /// Viewers that joined, over the session.
    joined: u64,
    /// Writer threads, with a handle on their socket to shut it.
    writers: Vec<(UnixStream, JoinHandle<()>)>,
    /// The runtime has stopped: no more events.
    ended: bool,
}

impl State {
    fn record(&mut self, e: Arc<Event>) {
        // Events come in time order; a burst's own `t` may be older than
        // what came before it, and the clock must not go back.
        if self.clock.is_none_or(|(t, _)| e.t >= t) {
            self.clock = Some((e.t, Instant::now()));
        }
        for v in &mut self.viewers {
            v.send(&e);
        }
        if self.history.len() == HISTORY {
            self.history.pop_front();
            self.trimmed += 1;
        }
        self.history.push_back(e);
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panicked writer thread cannot leave the state half-changed in a way
    // that matters here: go on with it.
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running share. [`Share::finish`] after the runtime has stopped; if
/// it is dropped instead (an error on the way), the socket file is still
/// removed.
pub struct Share {
    state: Arc<Mutex<State>>,
    hub: Option<JoinHandle<()>>,
    acceptor: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    listener_fd: i32,
    path: PathBuf,
    id: (u64, u64),
    /// Keeps the listening socket open until the acceptor has stopped.
    _listener: Arc<UnixListener>,
}

/// Start the hub and the acceptor. The [`Sink`] goes to the runtime with
/// the other sinks; `title` is the session's (the recording header's).
pub fn spawn(socket: ShareSocket, title: String) -> Result<(Sink, Share), String> {
    spawn_sized(socket, title, VIEWER_QUEUE)
}

/// [`spawn`] with each viewer's queue `viewer_queue` events long.
fn spawn_sized(
    socket: ShareSocket,
    title: String,
    viewer_queue: usize,
) -> Result<(Sink, Share), String> {
    let (sink, rx) = Sink::channel(HUB_CHANNEL);
    let state = Arc::new(Mutex::new(State {
        history: VecDeque::new(),
        trimmed: 0,
        clock: None,
        viewers: Vec::new(),
        joined: 0,
        writers: Vec::new(),
        ended: false,
    }));
    let stop = Arc::new(AtomicBool::new(false));
    let listener = Arc::new(socket.listener);
    let hub = {
        let state = state.clone();
        std::thread::Builder::new()
            .name("tcpscope-share".into())
            .spawn(move || hub(rx, &state))
            .map_err(|e| {
                remove_ours(&socket.path, socket.id);
                format!("cannot start the share's thread: {e}")
            })?
    };
    let acceptor = {
        let (state, stop, listener) = (state.clone(), stop.clone(), listener.clone());
        std::thread::Builder::new()
            .name("tcpscope-accept".into())
            .spawn(move || accept(&listener, &state, &stop, &title, viewer_queue))
            .map_err(|e| {
                remove_ours(&socket.path, socket.id);
                format!("cannot start the share's thread: {e}")
            })?
    };
    Ok((
        sink,
        Share {
            state,
            hub: Some(hub),
            acceptor: Some(acceptor),
            stop,
            listener_fd: listener.as_raw_fd(),
            path: socket.path,
            id: socket.id,
            _listener: listener,
        },
    ))
}

fn hub(rx: Receiver<Arc<Event>>, state: &Mutex<State>) {
    background_priority();
    while let Ok(first) = rx.recv() {
        std::thread::sleep(BATCH_WAIT);
        let mut next = Some(first);
        while next.is_some() {
            // A bounded batch per turn of the lock, so a joining viewer
            // never waits long behind a busy stream.
            let mut st = lock(state);
            for _ in 0..LOCKED_BATCH {
                let Some(e) = next.take() else { break };
                st.record(e);
                next = rx.try_recv().ok();
            }
            st.viewers.retain(|v| !v.is_closed());
        }
    }
    // The runtime dropped its sink: the session is over. A viewer that
    // lost the last events is told so (its writer is draining its queue:
    // wait for room, a bounded time, without the lock). Then dropping the
    // viewers' sinks lets each writer finish its queue and close.
    let mut viewers = {
        let mut st = lock(state);
        st.ended = true;
        std::mem::take(&mut st.viewers)
    };
    let t = lock(state).clock.map_or(0.0, |(t, _)| t);
    let deadline = Instant::now() + LAST_LAGGED_WAIT;
    loop {
        viewers.retain_mut(|v| !v.try_finish(t));
        if viewers.is_empty() || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn accept(
    listener: &UnixListener,
    state: &Mutex<State>,
    stop: &AtomicBool,
    title: &str,
    queue: usize,
) {
    loop {
        let conn = listener.accept();
        if stop.load(Ordering::SeqCst) {
            return;
        }
        match conn {
            Ok((stream, _)) => join(stream, state, title, queue),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // Out of file descriptors and the like: wait a little rather
            // than spin; the session goes on without this viewer.
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// A new viewer: the history so far, then what comes.
fn join(stream: UnixStream, state: &Mutex<State>, title: &str, queue: usize) {
    let Ok(handle) = stream.try_clone() else {
        return;
    };
    let mut st = lock(state);
    st.joined += 1;
    st.writers.retain(|(_, h)| !h.is_finished());
    let joined_at = st
        .clock
        .map(|(t, at)| t + at.elapsed().as_secs_f64())
        .unwrap_or(0.0);
    let mut backlog: Vec<Arc<Event>> = Vec::with_capacity(st.history.len() + 1);
    if st.trimmed > 0 {
        backlog.push(Arc::new(Event {
            t: st.history.front().map_or(0.0, |e| e.t),
            host: None,
            conn: None,
            body: Body::Info {
                msg: format!(
                    "joined late: the first {} events of this session are no longer kept (a shared session keeps its last {HISTORY})",
                    st.trimmed
                ),
            },
        }));
    }
    backlog.extend(st.history.iter().cloned());
    let (sink, rx) = Sink::channel(queue);
    if !st.ended {
        st.viewers.push(sink);
    }
    // Once ended, the sink is dropped here: the viewer gets the history and
    // then the end of the stream.
    let header = header_line("live", title, Some(joined_at));
    let spawned = std::thread::Builder::new()
        .name("tcpscope-viewer".into())
        .spawn(move || {
            background_priority();
            // A viewer that went away is not an error of the session.
            let _ = serve_viewer(stream, &header, backlog, rx);
        });
    if let Ok(h) = spawned {
        st.writers.push((handle, h));
    }
}

fn serve_viewer(
    stream: UnixStream,
    header: &[u8],
    backlog: Vec<Arc<Event>>,
    rx: Receiver<Arc<Event>>,
) -> io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 16, stream);
    let mut line = Vec::with_capacity(1024);
    let mut put = |w: &mut BufWriter<UnixStream>, e: &Event| -> io::Result<()> {
        line.clear();
        serde_json::to_writer(&mut line, e)?;
        line.push(b'\n');
        w.write_all(&line)
    };
    w.write_all(header)?;
    for e in &backlog {
        put(&mut w, e)?;
    }
    drop(backlog);
    w.flush()?;
    while let Ok(first) = rx.recv() {
        put(&mut w, &first)?;
        while let Ok(e) = rx.try_recv() {
            put(&mut w, &e)?;
        }
        w.flush()?;
    }
    w.flush()
}

impl Share {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// After the runtime has stopped (its sinks dropped): stop taking
    /// viewers, remove the socket file, give the viewers [`VIEWER_GRACE`]
    /// to take the last events, then close their connections.
    pub fn finish(mut self) {
        if let Some(h) = self.hub.take() {
            let _ = h.join();
        }
        self.stop_accepting();
        if let Some(h) = self.acceptor.take() {
            // Bounded, should a kernel not wake accept(2) on shutdown: the
            // thread then ends with the process.
            let deadline = Instant::now() + Duration::from_secs(1);
            while !h.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if h.is_finished() {
                let _ = h.join();
            }
        }
        remove_ours(&self.path, self.id);
        let writers = std::mem::take(&mut lock(&self.state).writers);
        let deadline = Instant::now() + VIEWER_GRACE;
        while Instant::now() < deadline && writers.iter().any(|(_, h)| !h.is_finished()) {
            std::thread::sleep(Duration::from_millis(10));
        }
        for (stream, h) in writers {
            // A viewer that stopped reading (its terminal suspended) has
            // its writer blocked in write(2): shutting the socket wakes it.
            let _ = stream.shutdown(std::net::Shutdown::Both);
            let _ = h.join();
        }
    }

    fn stop_accepting(&self) {
        self.stop.store(true, Ordering::SeqCst);
        // Linux wakes a thread blocked in accept(2) on a socket that is shut
        // down (it returns EINVAL); the flag tells the acceptor to leave.
        // SAFETY: the fd stays open (`_listener`) until the acceptor is gone.
        unsafe { libc::shutdown(self.listener_fd, libc::SHUT_RDWR) };
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        if self.acceptor.is_some() {
            self.stop_accepting();
        }
        remove_ours(&self.path, self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};

    fn ev(t: f64, msg: &str) -> Arc<Event> {
        Arc::new(Event {
            t,
            host: None,
            conn: None,
            body: Body::Info { msg: msg.into() },
        })
    }

    fn temp(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("tcpscope-share-unit-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Read a viewer's stream on a thread (the end of a session gives a
    /// viewer that does not read only a short grace).
    fn read_lines(s: UnixStream) -> JoinHandle<Vec<String>> {
        std::thread::spawn(move || BufReader::new(s).lines().map(Result::unwrap).collect())
    }

    fn wait_joined(share: &Share, n: u64) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while lock(&share.state).joined < n {
            assert!(Instant::now() < deadline, "viewers did not join");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn msgs(lines: &[String]) -> Vec<String> {
        lines[1..]
            .iter()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["msg"].as_str().unwrap().to_string()
            })
            .collect()
    }

    #[test]
    fn viewers_get_the_history_then_the_rest_and_a_dead_one_changes_nothing() {
        let dir = temp("fanout");
        let path = dir.join("s.sock");
        let sock = ShareSocket::bind(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o660);
        let (mut sink, share) = spawn(sock, "the title".into()).unwrap();
        sink.send(&ev(0.0, "a"));
        let early = read_lines(UnixStream::connect(&path).unwrap());
        let dead = UnixStream::connect(&path).unwrap();
        wait_joined(&share, 2);
        drop(dead);
        for i in 0..50 {
            sink.send(&ev(1.0, &format!("b{i}")));
            std::thread::sleep(Duration::from_millis(1));
        }
        let late = read_lines(UnixStream::connect(&path).unwrap());
        wait_joined(&share, 3);
        sink.send(&ev(2.0, "c"));
        drop(sink);
        share.finish();
        assert!(!path.exists(), "the socket file is removed at the end");
        let mut want = vec!["a".to_string()];
        want.extend((0..50).map(|i| format!("b{i}")));
        want.push("c".into());
        for s in [early, late] {
            let lines = s.join().unwrap();
            let h: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
            assert_eq!(h["tcpscope_recording"], 1);
            assert_eq!(h["mode"], "live");
            assert_eq!(h["title"], "the title");
            assert!(h["joined_at"].as_f64().is_some());
            assert_eq!(msgs(&lines), want);
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_late_joiner_is_told_how_many_events_were_trimmed() {
        let dir = temp("trim");
        let path = dir.join("s.sock");
        let (sink, share) = spawn(ShareSocket::bind(&path).unwrap(), "t".into()).unwrap();
        {
            // Fill the history past its bound directly: the channel would
            // (rightly) lag with this many at once.
            let mut st = lock(&share.state);
            for i in 0..HISTORY + 3 {
                st.record(ev(i as f64, "x"));
            }
        }
        let late = read_lines(UnixStream::connect(&path).unwrap());
        wait_joined(&share, 1);
        drop(sink);
        share.finish();
        let lines = late.join().unwrap();
        assert_eq!(lines.len(), 1 + 1 + HISTORY);
        let first: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(first["kind"], "info");
        assert_eq!(
            first["msg"],
            format!(
                "joined late: the first 3 events of this session are no longer kept (a shared session keeps its last {HISTORY})"
            )
        );
        assert_eq!(first["t"], 3.0);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_viewer_that_does_not_read_loses_events_and_is_told_how_many() {
        let dir = temp("lag");
        let path = dir.join("s.sock");
        let (mut sink, share) =
            spawn_sized(ShareSocket::bind(&path).unwrap(), "t".into(), 4).unwrap();
        let slow = UnixStream::connect(&path).unwrap();
        wait_joined(&share, 1);
        // Far more than the socket's buffer and the queue of 4 hold, paced
        // so that the hub itself keeps up.
        let big = "x".repeat(1000);
        const N: usize = 3000;
        for i in 0..N {
            sink.send(&ev(i as f64, &big));
            if i % 100 == 99 {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        assert_eq!(sink.lost_total, 0, "the hub kept up");
        let lines = read_lines(slow);
        drop(sink);
        share.finish();
        let lines = lines.join().unwrap();
        let (mut infos, mut lost) = (0u64, 0u64);
        for l in &lines[1..] {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            match v["kind"].as_str().unwrap() {
                "info" => infos += 1,
                "lagged" => lost += v["lost"].as_u64().unwrap(),
                k => panic!("unexpected kind {k}"),
            }
        }
        assert!(lost > 0, "the slow viewer lagged");
        assert_eq!(
            infos + lost,
            N as u64,
            "every event is either there or counted"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn shutting_the_listener_wakes_the_acceptor() {
        let dir = temp("wake");
        let path = dir.join("s.sock");
        let (sink, mut share) = spawn(ShareSocket::bind(&path).unwrap(), "t".into()).unwrap();
        // Let it block in accept(2) first.
        std::thread::sleep(Duration::from_millis(50));
        share.stop_accepting();
        let h = share.acceptor.take().unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !h.is_finished() {
            assert!(Instant::now() < deadline, "accept(2) was not woken");
            std::thread::sleep(Duration::from_millis(5));
        }
        h.join().unwrap();
        drop(sink);
        share.finish();
        assert!(!path.exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_path_rules() {
        let dir = temp("rules");
        // A regular file is refused and left intact.
        let file = dir.join("file");
        fs::write(&file, "keep me").unwrap();
        let e = ShareSocket::bind(&file).err().unwrap();
        assert_eq!(
            e,
            format!(
                "{} exists and is not a socket (a regular file): tcpscope will not replace it; choose another path",
                file.display()
            )
        );
        assert_eq!(fs::read_to_string(&file).unwrap(), "keep me");
        // So is a directory.
        let e = ShareSocket::bind(&dir).err().unwrap();
        assert!(e.contains("is not a socket (a directory)"), "{e}");
        // A socket someone listens on is refused.
        let busy = dir.join("busy.sock");
        let other = UnixListener::bind(&busy).unwrap();
        let e = ShareSocket::bind(&busy).err().unwrap();
        assert_eq!(
            e,
            format!(
                "{} is in use by another tcpscope session (something listens on it): stop it or choose another path",
                busy.display()
            )
        );
        drop(other);
        // Now nobody listens: stale, reused.
        let s = ShareSocket::bind(&busy).unwrap();
        let mode = fs::metadata(&busy).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o660);
        drop(s);
        fs::remove_dir_all(&dir).unwrap();
    }
}
