//! HTTP/1.1 with hyper over tcpscope's own stream type, to show short
//! versus long (persistent) connections.
//!
//! HTTP/1.1 connections are persistent unless a side says
//! `Connection: close` (RFC 9112 §9.3); hyper implements both, and with
//! `close` the server closes first after its response, so *tcpscope's*
//! stack pays TIME-WAIT (the `server-close` and `http-keepalive`
//! scenarios show it; README, The tour and scenarios). `--http-idle SECS` closes
//! a persistent connection that has been idle that long (hyper's graceful
//! shutdown: an idle connection closes at once, a busy one after its
//! response). Without the flag the idle limit is [`DEFAULT_IDLE`].

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::socket::{Stack, TcpStream};

/// Idle limit for persistent connections when `--http-idle` is not given.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(30);

/// Largest body `/bytes/N` serves.
const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// A stream that remembers when it last moved bytes (for the idle limit).
struct Watched {
    inner: TcpStream,
    last: Arc<AtomicU64>,
    start: std::time::Instant,
}

impl Watched {
    fn touch(&self) {
        self.last
            .store(self.start.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.touch();
        }
        r
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The page: which connection and which request on it served it.
fn respond(req: &Request<Incoming>, conn: &str, n: u64) -> Response<Full<Bytes>> {
    let text = |status: StatusCode, body: String| {
        Response::builder()
            .status(status)
            .header("content-type", "text/plain; charset=utf-8")
            .header("server", "tcpscope")
            .body(Full::new(Bytes::from(body)))
            .expect("static headers are valid")
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            "tcpscope serves GET and HEAD only\n".into(),
        );
    }
    let path = req.uri().path();
    if path == "/" || path == "/index.html" {
        let persistent = !req
            .headers()
            .get(hyper::header::CONNECTION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        return text(
            StatusCode::OK,
            format!(
                "Hello from tcpscope's own TCP stack.\n\
                 connection: {conn}\n\
                 request: {n} on this connection\n\
                 {}\n",
                if persistent {
                    "This connection stays open for the next request (HTTP/1.1 persistent connection)."
                } else {
                    "You asked for Connection: close: the server closes first and keeps TIME-WAIT."
                }
            ),
        );
    }
    if let Some(n) = path.strip_prefix("/bytes/") {
        return match n.parse::<u64>() {
            Ok(len) if len <= MAX_BYTES => Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/octet-stream")
                .header("server", "tcpscope")
                .body(Full::new(Bytes::from(vec![b'x'; len as usize])))
                .expect("static headers are valid"),
            _ => text(
                StatusCode::BAD_REQUEST,
                format!("/bytes/N serves N bytes, N at most {MAX_BYTES}\n"),
            ),
        };
    }
    text(
        StatusCode::NOT_FOUND,
        format!("no page at {path}: try / or /bytes/N\n"),
    )
}

/// Serve one connection until the client closes, asks to close, or is idle
/// for `idle`.
pub async fn serve_connection(stack: Stack, s: TcpStream, idle: Option<Duration>) {
    let name = s.name().clone();
    let idle = idle.unwrap_or(DEFAULT_IDLE);
    stack.app_event(
        &name,
        "http",
        format!("connection accepted from {}", s.peer_addr()),
        None,
    );
    let start = std::time::Instant::now();
    let last = Arc::new(AtomicU64::new(0));
    let io = Watched {
        inner: s,
        last: last.clone(),
        start,
    };
    let count = Arc::new(AtomicU64::new(0));
    let svc = {
        let (stack, name, count) = (stack.clone(), name.clone(), count.clone());
        service_fn(move |req: Request<Incoming>| {
            let n = count.fetch_add(1, Ordering::Relaxed) + 1;
            let resp = respond(&req, &name, n);
            stack.app_event(
                &name,
                "http",
                format!(
                    "{} {} {}",
                    req.method(),
                    req.uri().path(),
                    resp.status().as_u16()
                ),
                Some(n),
            );
            async move { Ok::<_, Infallible>(resp) }
        })
    };
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    let mut closing = false;
    let result = loop {
        let since = Duration::from_millis(last.load(Ordering::Relaxed));
        let due = start + since + idle;
        tokio::select! {
            r = conn.as_mut() => break r,
            _ = tokio::time::sleep_until(due.into()), if !closing => {
                let quiet = start.elapsed().saturating_sub(Duration::from_millis(last.load(Ordering::Relaxed)));
                if quiet >= idle {
                    closing = true;
                    stack.app_event(
                        &name,
                        "http",
                        format!("idle for {:.1}s (--http-idle): the server closes this persistent connection", idle.as_secs_f64()),
                        None,
                    );
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    };
    let n = count.load(Ordering::Relaxed);
    let how = match result {
        Ok(()) => "connection closed".to_string(),
        Err(e) => format!("connection ended: {e}"),
    };
    stack.app_event(&name, "http", format!("{how} after {n} request(s)"), None);
}
