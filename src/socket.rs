//! Sockets over the engine for in-process applications: a listener and a
//! stream that implements tokio's `AsyncRead` and `AsyncWrite`.
//!
//! Sharing: the engine and the fault injector live in one
//! `Arc<Mutex<Inner>>`. The runtime task holds the lock while it feeds
//! packets and timers in; an application holds it only for the length of
//! one engine call (`send`, `recv`, `shutdown`, …), never across an
//! `.await`. Every call that may produce a segment pokes the runtime task
//! through a `Notify`, so output goes out at once. Readiness flows back the
//! other way: after each round the runtime asks the engine which connections
//! changed (`take_dirty`) and wakes the wakers parked on them.

use std::collections::HashMap;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

use crate::event::Body;
use crate::fault::Injector;
use crate::tcp::{CloseReason, ConnId, Engine, Keepalive, State, TcpError};
use crate::time::Clock;

/// Everything the runtime task and the applications share.
pub struct Shared {
    inner: Mutex<Inner>,
    /// Wakes the runtime task: an application queued output or changed
    /// something it must look at.
    pub(crate) poke: Notify,
    /// Set with every poke, so the runtime's busy-poll can see it without
    /// waiting on the `Notify`.
    pub(crate) poked: std::sync::atomic::AtomicBool,
    pub(crate) clock: Clock,
}

/// The engine, the injector and the parked wakers, behind one lock.
pub struct Inner {
    pub engine: Engine,
    pub injector: Injector,
    readers: HashMap<ConnId, Waker>,
    writers: HashMap<ConnId, Waker>,
    acceptors: HashMap<u16, Waker>,
}

impl Inner {
    /// Wake every task parked on a connection whose readiness changed.
    pub fn wake_dirty(&mut self) {
        let dirty = self.engine.take_dirty();
        if dirty.is_empty() {
            return;
        }
        for cid in &dirty {
            if let Some(w) = self.readers.remove(cid) {
                w.wake();
            }
            if let Some(w) = self.writers.remove(cid) {
                w.wake();
            }
        }
        // A connection that just reached ESTABLISHED may sit in an accept
        // queue; listeners are few, so wake them all.
        for (_, w) in self.acceptors.drain() {
            w.wake();
        }
    }

    /// Wake everything (the run is stopping).
    pub fn wake_all(&mut self) {
        let conns = self.readers.drain().chain(self.writers.drain());
        for w in conns
            .map(|(_, w)| w)
            .chain(self.acceptors.drain().map(|(_, w)| w))
        {
            w.wake();
        }
    }
}

impl Shared {
    pub fn new(engine: Engine, injector: Injector, clock: Clock) -> Arc<Shared> {
        Arc::new(Shared {
            inner: Mutex::new(Inner {
                engine,
                injector,
                readers: HashMap::new(),
                writers: HashMap::new(),
                acceptors: HashMap::new(),
            }),
            poke: Notify::new(),
            poked: std::sync::atomic::AtomicBool::new(false),
            clock,
        })
    }

    /// The lock; a panic elsewhere never makes the stack unusable for the
    /// clean-up that follows.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn poke(&self) {
        self.poked.store(true, std::sync::atomic::Ordering::Release);
        self.poke.notify_one();
    }

    /// Whether an application poked since the last call.
    pub fn take_poked(&self) -> bool {
        self.poked.swap(false, std::sync::atomic::Ordering::AcqRel)
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }
}

fn io_err(e: TcpError) -> io::Error {
    let kind = match e {
        TcpError::Reset => io::ErrorKind::ConnectionReset,
        TcpError::Refused => io::ErrorKind::ConnectionRefused,
        TcpError::TimedOut(_) => io::ErrorKind::TimedOut,
        TcpError::Closing => io::ErrorKind::BrokenPipe,
        TcpError::NoSuchConnection => io::ErrorKind::NotConnected,
        TcpError::WouldBlock => io::ErrorKind::WouldBlock,
        TcpError::AddrInUse(_) => io::ErrorKind::AddrInUse,
        TcpError::NoLocalAddress(_) => io::ErrorKind::AddrNotAvailable,
        TcpError::TableFull | TcpError::NoEphemeralPort => io::ErrorKind::OutOfMemory,
    };
    io::Error::new(kind, e)
}

fn close_err(r: Option<CloseReason>) -> io::Error {
    match r {
        Some(CloseReason::Refused) => io_err(TcpError::Refused),
        Some(CloseReason::Reset) => io_err(TcpError::Reset),
        Some(CloseReason::TimedOut(w)) => io_err(TcpError::TimedOut(w)),
        _ => io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "connection closed before it was established",
        ),
    }
}

/// A handle on the stack for applications; cheap to clone.
#[derive(Clone)]
pub struct Stack {
    shared: Arc<Shared>,
}

impl Stack {
    pub fn new(shared: Arc<Shared>) -> Stack {
        Stack { shared }
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Passive open on `port`.
    pub fn listen(&self, port: u16) -> Result<TcpListener, TcpError> {
        let now = self.shared.clock.now();
        self.shared.lock().engine.listen(now, port, None)?;
        self.shared.poke();
        Ok(TcpListener {
            shared: self.shared.clone(),
            port,
        })
    }

    /// Active open; resolves once the connection is ESTABLISHED.
    pub async fn connect(&self, remote: SocketAddr) -> io::Result<TcpStream> {
        let cid = {
            let now = self.shared.clock.now();
            self.shared
                .lock()
                .engine
                .connect(now, remote, None)
                .map_err(io_err)?
        };
        self.shared.poke();
        let stream = TcpStream::new(self.shared.clone(), cid);
        poll_fn(|cx| {
            let mut g = self.shared.lock();
            match g.engine.state(cid) {
                Some(s) if s.is_synchronized() => Poll::Ready(Ok(())),
                Some(_) => {
                    g.writers.insert(cid, cx.waker().clone());
                    Poll::Pending
                }
                None => Poll::Ready(Err(close_err(g.engine.info(cid).closed))),
            }
        })
        .await?;
        Ok(stream)
    }

    /// An `app` event on behalf of a service.
    pub fn app_event(&self, conn: &Arc<str>, service: &str, msg: String, request: Option<u64>) {
        let now = self.shared.clock.now();
        self.shared.lock().engine.emit(
            now,
            Some(conn.clone()),
            Body::App {
                service: service.into(),
                msg,
                request,
            },
        );
        self.shared.poke();
    }
}

impl Stack {
    /// An `info` event (no connection), e.g. a failed active open.
    pub fn info_event(&self, msg: String) {
        let now = self.shared.clock.now();
        self.shared
            .lock()
            .engine
            .emit(now, None, Body::Info { msg });
        self.shared.poke();
    }
}

pub struct TcpListener {
    shared: Arc<Shared>,
    port: u16,
}

impl TcpListener {
    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn accept(&self) -> TcpStream {
        let cid = poll_fn(|cx| {
            let mut g = self.shared.lock();
            match g.engine.accept(self.port) {
                Some(cid) => Poll::Ready(cid),
                None => {
                    g.acceptors.insert(self.port, cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await;
        TcpStream::new(self.shared.clone(), cid)
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        let now = self.shared.clock.now();
        let mut g = self.shared.lock();
        g.engine.unlisten(now, self.port);
        g.acceptors.remove(&self.port);
        drop(g);
        self.shared.poke();
    }
}

/// One connection. Dropping it is close(2): the engine's CLOSE if not yet
/// done, and whatever arrives later is discarded.
pub struct TcpStream {
    shared: Arc<Shared>,
    cid: ConnId,
    name: Arc<str>,
    local: SocketAddr,
    remote: SocketAddr,
}

impl TcpStream {
    fn new(shared: Arc<Shared>, cid: ConnId) -> TcpStream {
        let info = shared.lock().engine.info(cid);
        TcpStream {
            shared,
            cid,
            name: info.name,
            local: info.local,
            remote: info.remote,
        }
    }

    /// `LOCALIP:PORT<->REMOTEIP:PORT`, as events name it.
    pub fn name(&self) -> &Arc<str> {
        &self.name
    }

    pub fn id(&self) -> ConnId {
        self.cid
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub fn peer_addr(&self) -> SocketAddr {
        self.remote
    }

    pub fn state(&self) -> State {
        self.shared
            .lock()
            .engine
            .state(self.cid)
            .unwrap_or(State::Closed)
    }

    /// ABORT: RST, and the TCB is deleted.
    pub fn abort(&self) -> io::Result<()> {
        let now = self.shared.clock.now();
        let r = self.shared.lock().engine.abort(now, self.cid);
        self.shared.poke();
        r.map_err(io_err)
    }

    /// Keepalive on (with these values) or off.
    pub fn set_keepalive(&self, ka: Option<Keepalive>) -> io::Result<()> {
        let now = self.shared.clock.now();
        let r = self.shared.lock().engine.set_keepalive(now, self.cid, ka);
        self.shared.poke();
        r.map_err(io_err)
    }

    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        let now = self.shared.clock.now();
        let r = self.shared.lock().engine.set_nodelay(now, self.cid, on);
        self.shared.poke();
        r.map_err(io_err)
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let now = self.shared.clock.now();
        let mut g = self.shared.lock();
        let dst = buf.initialize_unfilled();
        match g.engine.recv(now, self.cid, dst) {
            Ok(n) => {
                buf.advance(n);
                drop(g);
                if n > 0 {
                    // Reading may open the window: a window update to send.
                    self.shared.poke();
                }
                Poll::Ready(Ok(()))
            }
            Err(TcpError::WouldBlock) => {
                g.readers.insert(self.cid, cx.waker().clone());
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(io_err(e))),
        }
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let now = self.shared.clock.now();
        let mut g = self.shared.lock();
        match g.engine.send(now, self.cid, buf) {
            Ok(0) => {
                g.writers.insert(self.cid, cx.waker().clone());
                Poll::Pending
            }
            Ok(n) => {
                drop(g);
                self.shared.poke();
                Poll::Ready(Ok(n))
            }
            Err(e) => Poll::Ready(Err(io_err(e))),
        }
    }

    /// Data handed to the engine is the engine's to deliver: nothing to wait for.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Half-close: the engine's CLOSE (FIN after the queued data); reading
    /// goes on until the peer's FIN.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let now = self.shared.clock.now();
        let r = self.shared.lock().engine.shutdown(now, self.cid);
        self.shared.poke();
        match r {
            Ok(()) | Err(TcpError::Closing) => Poll::Ready(Ok(())),
            Err(e) => Poll::Ready(Err(io_err(e))),
        }
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        let now = self.shared.clock.now();
        let mut g = self.shared.lock();
        let _ = g.engine.close(now, self.cid);
        g.engine.release(self.cid);
        g.readers.remove(&self.cid);
        g.writers.remove(&self.cid);
        drop(g);
        self.shared.poke();
    }
}
