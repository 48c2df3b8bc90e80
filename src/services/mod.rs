//! The built-in services (`--serve`), running as tokio tasks on tcpscope's
//! own sockets, and the active opens of `--connect`.

pub mod http;
pub mod simple;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::socket::{Stack, TcpListener};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceKind {
    /// RFC 862.
    Echo,
    /// RFC 863.
    Discard,
    /// RFC 864.
    Chargen,
    /// HTTP/1.1 (RFC 9112) with hyper.
    Http,
}

impl ServiceKind {
    pub fn name(self) -> &'static str {
        match self {
            ServiceKind::Echo => "echo",
            ServiceKind::Discard => "discard",
            ServiceKind::Chargen => "chargen",
            ServiceKind::Http => "http",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceSpec {
    pub port: u16,
    pub kind: ServiceKind,
}

/// `--serve 7:echo,9:discard,19:chargen,80:http`; `none` (or empty) serves nothing.
pub fn parse_serve(s: &str) -> Result<Vec<ServiceSpec>, String> {
    let s = s.trim();
    if s.is_empty() || s == "none" {
        return Ok(Vec::new());
    }
    let mut out: Vec<ServiceSpec> = Vec::new();
    for part in s.split(',') {
        let bad = || {
            format!(
                "--serve {s}: \"{part}\" is not PORT:NAME with NAME echo, discard, chargen or http"
            )
        };
        let (p, n) = part.trim().split_once(':').ok_or_else(bad)?;
        let port: u16 = p.trim().parse().ok().filter(|p| *p > 0).ok_or_else(bad)?;
        let kind = match n.trim() {
            "echo" => ServiceKind::Echo,
            "discard" => ServiceKind::Discard,
            "chargen" => ServiceKind::Chargen,
            "http" => ServiceKind::Http,
            _ => return Err(bad()),
        };
        if out.iter().any(|o| o.port == port) {
            return Err(format!("--serve {s}: port {port} is given twice"));
        }
        out.push(ServiceSpec { port, kind });
    }
    Ok(out)
}

#[derive(Clone, Debug, Default)]
pub struct ServiceOpts {
    /// Close a persistent HTTP connection idle this long.
    pub http_idle: Option<Duration>,
}

/// Accept connections forever, one task per connection.
pub async fn serve(stack: Stack, listener: TcpListener, kind: ServiceKind, opts: ServiceOpts) {
    loop {
        let s = listener.accept().await;
        let stack = stack.clone();
        match kind {
            ServiceKind::Echo => tokio::spawn(simple::echo(stack, s)),
            ServiceKind::Discard => tokio::spawn(simple::discard(stack, s)),
            ServiceKind::Chargen => tokio::spawn(simple::chargen(stack, s)),
            ServiceKind::Http => tokio::spawn(http::serve_connection(stack, s, opts.http_idle)),
        };
    }
}

/// `--connect`: open, send `text` if any, then keep the connection open,
/// reading what the peer sends, until the peer closes or the run stops.
pub async fn active_open(stack: Stack, remote: SocketAddr, text: Option<String>) {
    let mut s = match stack.connect(remote).await {
        Ok(s) => s,
        Err(e) => {
            let name = format!("connect to {remote}");
            stack.info_event(format!("{name} failed: {e}"));
            return;
        }
    };
    let name = s.name().clone();
    stack.app_event(&name, "connect", format!("connected to {remote}"), None);
    if let Some(t) = text {
        match s.write_all(t.as_bytes()).await {
            Ok(()) => stack.app_event(&name, "connect", format!("sent {} bytes", t.len()), None),
            Err(e) => {
                stack.app_event(&name, "connect", format!("send failed: {e}"), None);
                return;
            }
        }
    }
    let mut buf = vec![0u8; 16384];
    let mut total = 0u64;
    let end = loop {
        match s.read(&mut buf).await {
            Ok(0) => break "the peer closed its side (FIN); closing ours".to_string(),
            Ok(n) => total += n as u64,
            Err(e) => break format!("connection ended: {e}"),
        }
    };
    let _ = s.shutdown().await;
    stack.app_event(
        &name,
        "connect",
        format!("{end}; {total} bytes received"),
        None,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_syntax() {
        let v = parse_serve("7:echo,9:discard,19:chargen,80:http").unwrap();
        assert_eq!(v.len(), 4);
        assert_eq!(
            v[3],
            ServiceSpec {
                port: 80,
                kind: ServiceKind::Http
            }
        );
        assert_eq!(parse_serve("none").unwrap(), vec![]);
        assert!(parse_serve("7:ftp").unwrap_err().contains("PORT:NAME"));
        assert!(parse_serve("0:echo").unwrap_err().contains("PORT:NAME"));
        assert!(
            parse_serve("7:echo,7:discard")
                .unwrap_err()
                .contains("twice")
        );
    }
}
