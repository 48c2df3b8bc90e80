//! The small RFC services: echo (RFC 862), discard (RFC 863) and character
//! generator (RFC 864), TCP variants. Each emits an `app` event when a
//! connection is accepted and when it ends.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::socket::{Stack, TcpStream};

const BUF: usize = 64 * 1024;

/// A read buffer that costs an idle connection almost nothing (docs/benchmarks.md,
/// Memory per idle connection): reads go into a small inline
/// array, and only while data keeps filling it into a 64 KiB heap buffer,
/// which is given back (before the next read waits) once a read leaves
/// most of it empty.
pub(crate) struct Scratch {
    small: [u8; 256],
    big: Vec<u8>,
    shrink: bool,
}

impl Scratch {
    pub(crate) fn new() -> Scratch {
        Scratch {
            small: [0; 256],
            big: Vec::new(),
            shrink: false,
        }
    }

    /// Read what is there (at least one byte, or none at the peer's FIN).
    pub(crate) async fn read(&mut self, s: &mut TcpStream) -> std::io::Result<&[u8]> {
        if self.shrink {
            self.big = Vec::new();
            self.shrink = false;
        }
        if self.big.is_empty() {
            let n = s.read(&mut self.small).await?;
            if n == self.small.len() {
                // More is probably coming: a full-sized buffer from now on.
                self.big = vec![0; BUF];
            }
            Ok(&self.small[..n])
        } else {
            let n = s.read(&mut self.big).await?;
            self.shrink = n < BUF / 4;
            Ok(&self.big[..n])
        }
    }
}

fn accepted(stack: &Stack, s: &TcpStream, service: &str) {
    stack.app_event(
        s.name(),
        service,
        format!("connection accepted from {}", s.peer_addr()),
        None,
    );
}

/// RFC 862: "Once a connection is established any data received is sent
/// back. This continues until the calling user terminates the connection."
/// The peer's FIN ends the echo: everything received has been sent back,
/// so the service closes its side too.
pub async fn echo(stack: Stack, mut s: TcpStream) {
    accepted(&stack, &s, "echo");
    let mut buf = Scratch::new();
    let mut total = 0u64;
    let end = loop {
        match buf.read(&mut s).await {
            Ok([]) => break None,
            Ok(data) => {
                let n = data.len();
                if let Err(e) = s.write_all(data).await {
                    break Some(e);
                }
                total += n as u64;
            }
            Err(e) => break Some(e),
        }
    };
    if end.is_none() {
        let _ = s.shutdown().await;
    }
    let how = match end {
        None => "the peer closed (FIN); echo closed its side".to_string(),
        Some(e) => format!("connection ended: {e}"),
    };
    stack.app_event(
        s.name(),
        "echo",
        format!("{how}; {total} bytes echoed"),
        None,
    );
}

/// RFC 863: "simply throw away any data it receives".
pub async fn discard(stack: Stack, mut s: TcpStream) {
    accepted(&stack, &s, "discard");
    let mut buf = Scratch::new();
    let mut total = 0u64;
    let end = loop {
        match buf.read(&mut s).await {
            Ok([]) => break None,
            Ok(data) => total += data.len() as u64,
            Err(e) => break Some(e),
        }
    };
    if end.is_none() {
        let _ = s.shutdown().await;
    }
    let how = match end {
        None => "the peer closed (FIN); discard closed its side".to_string(),
        Some(e) => format!("connection ended: {e}"),
    };
    stack.app_event(
        s.name(),
        "discard",
        format!("{how}; {total} bytes discarded"),
        None,
    );
}

/// RFC 864's suggested pattern: lines of 72 printable ASCII characters
/// (codes 32 to 126), each starting one character further, ending in CR LF.
pub fn chargen_line(n: u64, out: &mut Vec<u8>) {
    let start = (n % 95) as u8;
    out.extend((0..72u8).map(|i| 32 + (start + i) % 95));
    out.extend_from_slice(b"\r\n");
}

/// RFC 864: "send a continual stream of data until the calling user
/// terminates the connection"; what the peer sends is thrown away. The
/// peer's FIN or RST ends it.
pub async fn chargen(stack: Stack, s: TcpStream) {
    accepted(&stack, &s, "chargen");
    let name = s.name().clone();
    let (mut r, mut w) = tokio::io::split(s);
    let reader = async {
        let mut b = vec![0u8; 4096];
        loop {
            match r.read(&mut b).await {
                Ok(0) => return "the peer closed (FIN)".to_string(),
                Ok(_) => {}
                Err(e) => return format!("connection ended: {e}"),
            }
        }
    };
    let mut sent = 0u64;
    let writer = async {
        // The pattern repeats every 95 lines: nine rounds of it (62 KiB),
        // built once and written again and again, keep the stream exactly
        // RFC 864's at the speed of a copy.
        let mut chunk = Vec::with_capacity(74 * 95 * 9);
        for line in 0..95 * 9 {
            chargen_line(line, &mut chunk);
        }
        loop {
            if let Err(e) = w.write_all(&chunk).await {
                return format!("connection ended: {e}");
            }
            sent += chunk.len() as u64;
        }
    };
    let how = tokio::select! {
        h = reader => h,
        h = writer => h,
    };
    let mut s = r.unsplit(w);
    let _ = s.shutdown().await;
    stack.app_event(
        &name,
        "chargen",
        format!("{how}; {sent} bytes generated"),
        None,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chargen_lines_follow_rfc_864() {
        let mut v = Vec::new();
        chargen_line(0, &mut v);
        chargen_line(1, &mut v);
        assert_eq!(&v[..4], b" !\"#");
        assert_eq!(v.len(), 148);
        assert_eq!(&v[72..74], b"\r\n");
        assert_eq!(&v[74..77], b"!\"#");
        let mut w = Vec::new();
        chargen_line(94, &mut w);
        assert_eq!(&w[..2], b"~ ");
    }
}
