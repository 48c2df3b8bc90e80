//! The other end for `scripts/bench-live.sh`: one load generator for both
//! tcpscope and the kernel, and a kernel-socket server with the same
//! services, so that the two stacks are measured with the same programs.
//!
//!   bench_peer serve ADDR          echo on ADDR:7, discard on ADDR:9,
//!                                   a source on ADDR:19 (sends zeros until
//!                                   the peer closes), HTTP (hyper) on ADDR:80
//!   bench_peer bulk HOST:PORT SECS  send for SECS seconds, print MiB/s
//!   bench_peer down HOST:PORT SECS  read for SECS seconds, print MiB/s
//!   bench_peer short HOST:PORT SECS HTTP requests with Connection: close,
//!                                   one connection each, one at a time
//!   bench_peer echo HOST:PORT SECS [THREADS]
//!                                   short connections to an echo service:
//!                                   connect, send 64 bytes, half-close, read
//!                                   the echo until the server's FIN, close;
//!                                   one at a time per thread (default 1),
//!                                   print connections/s and failures
//!
//! Loops are bounded by SECS (at most 60) and stop by themselves.

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncReadExt;

fn usage() -> ! {
    eprintln!(
        "usage: bench_peer serve ADDR | bulk HOST:PORT SECS | down HOST:PORT SECS | short HOST:PORT SECS | echo HOST:PORT SECS [THREADS]"
    );
    std::process::exit(2)
}

fn secs(s: Option<&String>) -> Duration {
    let v: f64 = s.and_then(|s| s.parse().ok()).unwrap_or_else(|| usage());
    Duration::from_secs_f64(v.clamp(0.1, 60.0))
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    match a.get(1).map(String::as_str) {
        Some("serve") => serve(a.get(2).unwrap_or_else(|| usage())),
        Some("bulk") => bulk(a.get(2).unwrap_or_else(|| usage()), secs(a.get(3))),
        Some("short") => short(a.get(2).unwrap_or_else(|| usage()), secs(a.get(3))),
        Some("down") => down(a.get(2).unwrap_or_else(|| usage()), secs(a.get(3))),
        Some("echo") => {
            let threads: usize = match a.get(4) {
                Some(t) => t
                    .parse()
                    .ok()
                    .filter(|n| (1..=64).contains(n))
                    .unwrap_or_else(|| usage()),
                None => 1,
            };
            let to = a.get(2).unwrap_or_else(|| usage()).clone();
            let dur = secs(a.get(3));
            let all: Vec<_> = (0..threads)
                .map(|_| {
                    let to = to.clone();
                    std::thread::spawn(move || echo(&to, dur))
                })
                .collect();
            let (mut done, mut failed) = (0u64, 0u64);
            for h in all {
                let (d, f) = h.join().expect("an echo thread");
                done += d;
                failed += f;
            }
            println!("{:.0} {failed}", done as f64 / dur.as_secs_f64());
        }
        _ => usage(),
    }
}

fn serve(addr: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let discard = tokio::net::TcpListener::bind((addr, 9))
            .await
            .expect("bind :9");
        let http = tokio::net::TcpListener::bind((addr, 80))
            .await
            .expect("bind :80");
        let echo = tokio::net::TcpListener::bind((addr, 7))
            .await
            .expect("bind :7");
        let source = tokio::net::TcpListener::bind((addr, 19))
            .await
            .expect("bind :19");
        tokio::spawn(async move {
            loop {
                let (mut s, _) = source.accept().await.unwrap();
                tokio::spawn(async move {
                    use tokio::io::AsyncWriteExt;
                    let b = vec![0u8; 1 << 20];
                    while s.write_all(&b).await.is_ok() {}
                });
            }
        });
        tokio::spawn(async move {
            loop {
                let (mut s, _) = echo.accept().await.unwrap();
                tokio::spawn(async move {
                    let (mut r, mut w) = s.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        tokio::spawn(async move {
            loop {
                let (mut s, _) = discard.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut b = vec![0u8; 65536];
                    while matches!(s.read(&mut b).await, Ok(n) if n > 0) {}
                });
            }
        });
        loop {
            let (s, _) = http.accept().await.unwrap();
            tokio::spawn(async move {
                let svc = service_fn(|_req: Request<hyper::body::Incoming>| async {
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"hello\n"))))
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(s), svc)
                    .await;
            });
        }
    });
}

fn bulk(to: &str, dur: Duration) {
    let addr: SocketAddr = to.parse().unwrap_or_else(|_| usage());
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    // A peer that stops reading must not hang the benchmark.
    s.set_write_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    let buf = vec![0x5au8; 1 << 20];
    let start = Instant::now();
    let mut sent = 0u64;
    while start.elapsed() < dur {
        if let Err(e) = s.write_all(&buf) {
            eprintln!("bulk: the transfer stalled after {sent} bytes: {e}");
            std::process::exit(1);
        }
        sent += buf.len() as u64;
    }
    s.shutdown(std::net::Shutdown::Write).ok();
    let mut b = [0u8; 1];
    let _ = s.read(&mut b);
    let t = start.elapsed().as_secs_f64();
    println!("{:.0}", sent as f64 / t / (1 << 20) as f64);
}

fn short(to: &str, dur: Duration) {
    let addr: SocketAddr = to.parse().unwrap_or_else(|_| usage());
    let req = format!(
        "GET / HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        addr.ip()
    );
    let start = Instant::now();
    let mut done = 0u64;
    let mut failed = 0u64;
    let mut b = vec![0u8; 4096];
    while start.elapsed() < dur {
        let ok = (|| -> std::io::Result<bool> {
            let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            s.write_all(req.as_bytes())?;
            let mut got = Vec::new();
            loop {
                let n = s.read(&mut b)?;
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&b[..n]);
            }
            Ok(got.starts_with(b"HTTP/1.1 200"))
        })();
        match ok {
            Ok(true) => done += 1,
            _ => failed += 1,
        }
    }
    let t = start.elapsed().as_secs_f64();
    println!("{:.0} {failed}", done as f64 / t);
}

fn down(from: &str, dur: Duration) {
    let addr: SocketAddr = from.parse().unwrap_or_else(|_| usage());
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    let mut buf = vec![0u8; 1 << 20];
    let start = Instant::now();
    let mut got = 0u64;
    while start.elapsed() < dur {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got += n as u64,
            Err(e) => {
                eprintln!("down: the transfer stalled after {got} bytes: {e}");
                std::process::exit(1);
            }
        }
    }
    let t = start.elapsed().as_secs_f64();
    println!("{:.0}", got as f64 / t / (1 << 20) as f64);
}

/// One thread's short connections: (completed, failed).
fn echo(to: &str, dur: Duration) -> (u64, u64) {
    let addr: SocketAddr = to.parse().unwrap_or_else(|_| usage());
    let msg = [0x61u8; 64];
    let start = Instant::now();
    let mut done = 0u64;
    let mut failed = 0u64;
    let mut b = [0u8; 256];
    while start.elapsed() < dur {
        let ok = (|| -> std::io::Result<bool> {
            let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            s.write_all(&msg)?;
            s.shutdown(std::net::Shutdown::Write)?;
            let mut got = 0;
            loop {
                let n = s.read(&mut b)?;
                if n == 0 {
                    break;
                }
                got += n;
            }
            Ok(got == msg.len())
        })();
        match ok {
            Ok(true) => done += 1,
            _ => failed += 1,
        }
    }
    (done, failed)
}
