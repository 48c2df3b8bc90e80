//! The client (and the kernel's echo server) for `scripts/loss-bench.sh`:
//! BYTES of pseudo-random data through an echo service, timed, checked.
//!
//!   loss_echo HOST:PORT BYTES TIMEOUT_SECS
//!       connect (at most 30 s; not timed), then start the clock, write
//!       BYTES while a second thread reads the echo, and stop the clock when
//!       all BYTES came back. Every byte is compared with what was sent.
//!       Prints the seconds on stdout and exits 0; on a timeout (the clock
//!       passed TIMEOUT_SECS), wrong or missing bytes or an error, prints one
//!       sentence on stderr and exits 1.
//!   loss_echo --serve HOST:PORT
//!       a kernel echo server: one thread per connection, large reads and
//!       writes, closes after the peer's FIN once all was written back.
//!
//! std only. The data is xorshift64* from a fixed seed, so the reader
//! regenerates it instead of keeping a copy.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

const CHUNK: usize = 256 * 1024;

fn usage() -> ! {
    eprintln!("usage: loss_echo HOST:PORT BYTES TIMEOUT_SECS | loss_echo --serve HOST:PORT");
    std::process::exit(2)
}

fn fail(msg: String) -> ! {
    eprintln!("loss_echo: {msg}");
    std::process::exit(1)
}

/// The byte stream both sides of the check agree on.
struct Gen(u64);

impl Gen {
    fn new() -> Gen {
        Gen(0x9e37_79b9_7f4a_7c15)
    }
    fn fill(&mut self, buf: &mut [u8]) {
        for c in buf.chunks_mut(8) {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let v = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
    }
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.get(1).map(String::as_str) == Some("--serve") {
        let addr: SocketAddr = a
            .get(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| usage());
        serve(addr);
    }
    if a.len() != 4 {
        usage();
    }
    let addr: SocketAddr = a[1].parse().unwrap_or_else(|_| usage());
    let bytes: u64 = a[2].parse().unwrap_or_else(|_| usage());
    let timeout: f64 = a[3].parse().unwrap_or_else(|_| usage());
    if bytes == 0 || !bytes.is_multiple_of(8) || !(timeout > 0.0 && timeout <= 3600.0) {
        fail("BYTES must be a positive multiple of 8 and TIMEOUT_SECS 0 to 3600".into());
    }
    match run(addr, bytes, Duration::from_secs_f64(timeout)) {
        Ok(secs) => println!("{secs:.3}"),
        Err(e) => fail(e),
    }
}

fn run(addr: SocketAddr, bytes: u64, timeout: Duration) -> Result<f64, String> {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(30))
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    s.set_nodelay(true).ok();
    let start = Instant::now();
    let deadline = start + timeout;
    // The writer gives up on its own when a write blocks past the deadline;
    // the process exits when the reader is done either way.
    let mut w = s.try_clone().map_err(|e| e.to_string())?;
    w.set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        let mut g = Gen::new();
        let mut buf = vec![0u8; CHUNK];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(CHUNK as u64) as usize;
            g.fill(&mut buf[..n]);
            if w.write_all(&buf[..n]).is_err() {
                return;
            }
            left -= n as u64;
        }
        let _ = w.shutdown(Shutdown::Write);
    });

    let mut r = s;
    let mut g = Gen::new();
    let mut want = vec![0u8; CHUNK];
    let mut want_len = 0usize; // valid bytes in `want`
    let mut want_pos = 0usize; // compared so far
    let mut buf = vec![0u8; CHUNK];
    let mut got = 0u64;
    while got < bytes {
        let now = Instant::now();
        if now >= deadline {
            return Err(format!(
                "timed out after {:.0} s with {got} of {bytes} bytes echoed",
                timeout.as_secs_f64()
            ));
        }
        r.set_read_timeout(Some((deadline - now).max(Duration::from_millis(1))))
            .map_err(|e| e.to_string())?;
        let n = match r.read(&mut buf) {
            Ok(0) => {
                return Err(format!("the echo ended after {got} of {bytes} bytes (FIN)"));
            }
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("read failed after {got} bytes: {e}")),
        };
        if got + n as u64 > bytes {
            return Err(format!(
                "more bytes came back than were sent ({})",
                got + n as u64
            ));
        }
        let mut off = 0;
        while off < n {
            if want_pos == want_len {
                let left = (bytes - got - off as u64).min(CHUNK as u64) as usize;
                want_len = left; // a multiple of 8, like the writer's chunks
                g.fill(&mut want[..want_len]);
                want_pos = 0;
            }
            let k = (n - off).min(want_len - want_pos);
            let (seen, sent) = (&buf[off..off + k], &want[want_pos..want_pos + k]);
            if let Some(i) = seen.iter().zip(sent).position(|(a, b)| a != b) {
                return Err(format!(
                    "wrong byte in the echo at offset {}",
                    got + (off + i) as u64
                ));
            }
            off += k;
            want_pos += k;
        }
        got += n as u64;
    }
    Ok(start.elapsed().as_secs_f64())
}

fn serve(addr: SocketAddr) -> ! {
    let l = TcpListener::bind(addr).unwrap_or_else(|e| fail(format!("cannot bind {addr}: {e}")));
    loop {
        let Ok((s, _)) = l.accept() else { continue };
        std::thread::spawn(move || {
            s.set_nodelay(true).ok();
            let mut r = &s;
            let mut w = &s;
            let mut buf = vec![0u8; CHUNK];
            loop {
                match r.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if w.write_all(&buf[..n]).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(_) => return,
                }
            }
            let _ = s.shutdown(Shutdown::Write);
        });
    }
}
