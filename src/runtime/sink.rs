//! Where events and packets leave the stack: bounded channels that never
//! block it.
//!
//! Each consumer (the UI driver, the `--events`/`--record` writer thread,
//! the `--pcap` writer thread) has its own bounded channel. The stack only
//! ever `try_send`s: a consumer that falls behind loses events, and the next
//! event it does get is a `lagged` event saying how many (docs/live.md,
//! The runtime: "the stack never waits").

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::event::{Body, Dir, Event};
use crate::output::{EventWriter, Recorder};
use crate::pcap::PcapWriter;

/// The sending end of one consumer's event channel.
pub struct Sink {
    tx: SyncSender<Arc<Event>>,
    lost: u64,
    /// Events this consumer lost over the whole run.
    pub lost_total: u64,
    closed: bool,
}

impl Sink {
    /// A sink and the receiver its consumer reads.
    pub fn channel(capacity: usize) -> (Sink, Receiver<Arc<Event>>) {
        let (tx, rx) = sync_channel(capacity);
        (
            Sink {
                tx,
                lost: 0,
                lost_total: 0,
                closed: false,
            },
            rx,
        )
    }

    /// Its consumer went away (noticed at a send).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// At the end of the stream, a consumer that lost the last events has
    /// no next event to carry the `lagged` one: try to send it alone. True
    /// once there is nothing left to say (sent, nothing lost, or the
    /// consumer is gone); false while its queue is still full. Only for
    /// callers off the stack's path, which may come back to it.
    pub fn try_finish(&mut self, t: f64) -> bool {
        if self.closed || self.lost == 0 {
            return true;
        }
        let lagged = Arc::new(Event {
            t,
            host: None,
            conn: None,
            body: Body::Lagged { lost: self.lost },
        });
        match self.tx.try_send(lagged) {
            Ok(()) => {
                self.lost = 0;
                true
            }
            Err(TrySendError::Full(_)) => false,
            Err(TrySendError::Disconnected(_)) => {
                self.closed = true;
                true
            }
        }
    }

    pub fn send(&mut self, ev: &Arc<Event>) {
        if self.closed {
            return;
        }
        if self.lost > 0 {
            let lagged = Arc::new(Event {
                t: ev.t,
                host: None,
                conn: None,
                body: Body::Lagged { lost: self.lost },
            });
            match self.tx.try_send(lagged) {
                Ok(()) => self.lost = 0,
                Err(TrySendError::Full(_)) => {
                    self.lost += 1;
                    self.lost_total += 1;
                    return;
                }
                Err(TrySendError::Disconnected(_)) => {
                    self.closed = true;
                    return;
                }
            }
        }
        match self.tx.try_send(ev.clone()) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.lost += 1;
                self.lost_total += 1;
            }
            Err(TrySendError::Disconnected(_)) => self.closed = true,
        }
    }
}

/// How long a writer thread waits after the first event of a batch.
const BATCH_WAIT: Duration = Duration::from_millis(5);

/// Writers are background work: on a small machine the scheduler should
/// give the stack's loop and its peers the CPU first (best effort).
pub(crate) fn background_priority() {
    // SAFETY: gettid and setpriority on this thread only; failure is harmless.
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10);
    }
}

/// The thread that writes `--events` and `--record`.
pub fn spawn_event_writer(
    capacity: usize,
    mut events: Option<EventWriter>,
    mut record: Option<Recorder>,
) -> (Sink, JoinHandle<Result<(), String>>) {
    let (sink, rx) = Sink::channel(capacity);
    let h = std::thread::Builder::new()
        .name("tcpscope-events".into())
        .spawn(move || -> Result<(), String> {
            background_priority();
            let werr = |e: std::io::Error| format!("cannot write events: {e}");
            let rerr = |e: std::io::Error| format!("cannot write the recording: {e}");
            while let Ok(first) = rx.recv() {
                // Let a few milliseconds of events gather: one wake-up per
                // batch instead of one per event keeps this thread from
                // taking turns with the stack on a small machine.
                std::thread::sleep(BATCH_WAIT);
                let mut next = Some(first);
                while let Some(e) = next {
                    if let Some(w) = events.as_mut() {
                        w.write(&e).map_err(werr)?;
                    }
                    if let Some(r) = record.as_mut() {
                        r.write(&e).map_err(rerr)?;
                    }
                    next = rx.try_recv().ok();
                }
                // Caught up: flush so `tail -f` and tests see every line.
                if let Some(w) = events.as_mut() {
                    w.flush().map_err(werr)?;
                }
                if let Some(r) = record.as_mut() {
                    r.flush().map_err(rerr)?;
                }
            }
            if let Some(w) = events.as_mut() {
                w.flush().map_err(werr)?;
            }
            if let Some(r) = record.as_mut() {
                r.flush().map_err(rerr)?;
            }
            Ok(())
        })
        .expect("spawning a thread");
    (sink, h)
}

/// One packet for the pcap file.
pub struct PcapRecord {
    /// Since the Unix epoch.
    pub ts: Duration,
    pub dir: Dir,
    pub bytes: Vec<u8>,
    pub comment: Option<String>,
}

/// The `--pcap` writer: a bounded, lossy channel to a thread.
pub struct PcapSink {
    tx: SyncSender<PcapRecord>,
    pub lost: Arc<AtomicU64>,
}

impl PcapSink {
    pub fn spawn(
        path: PathBuf,
        if_name: &str,
        capacity: usize,
    ) -> Result<(PcapSink, JoinHandle<Result<(), String>>), String> {
        let mut w = PcapWriter::create(&path, if_name)
            .map_err(|e| format!("cannot write the pcap file {}: {e}", path.display()))?;
        let (tx, rx) = sync_channel::<PcapRecord>(capacity);
        let h = std::thread::Builder::new()
            .name("tcpscope-pcap".into())
            .spawn(move || -> Result<(), String> {
                background_priority();
                let err = |e: std::io::Error| format!("cannot write the pcap file: {e}");
                while let Ok(first) = rx.recv() {
                    std::thread::sleep(BATCH_WAIT);
                    let mut next = Some(first);
                    while let Some(p) = next {
                        w.write(p.ts, Some(p.dir), &p.bytes, p.comment.as_deref())
                            .map_err(err)?;
                        next = rx.try_recv().ok();
                    }
                    w.flush().map_err(err)?;
                }
                w.flush().map_err(err)
            })
            .expect("spawning a thread");
        Ok((
            PcapSink {
                tx,
                lost: Arc::new(AtomicU64::new(0)),
            },
            h,
        ))
    }

    pub fn send(&self, rec: PcapRecord) {
        if self.tx.try_send(rec).is_err() {
            self.lost.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: f64) -> Arc<Event> {
        Arc::new(Event {
            t,
            host: None,
            conn: None,
            body: Body::Info { msg: "x".into() },
        })
    }

    #[test]
    fn a_full_consumer_loses_events_and_is_told_how_many() {
        let (mut s, rx) = Sink::channel(2);
        for i in 0..5 {
            s.send(&ev(f64::from(i)));
        }
        // Two fit, three were lost.
        assert_eq!(rx.try_recv().unwrap().t, 0.0);
        assert_eq!(rx.try_recv().unwrap().t, 1.0);
        assert!(rx.try_recv().is_err());
        s.send(&ev(9.0));
        let l = rx.try_recv().unwrap();
        assert_eq!(l.body, Body::Lagged { lost: 3 });
        assert_eq!(rx.try_recv().unwrap().t, 9.0);
        assert_eq!(s.lost_total, 3);
        drop(rx);
        s.send(&ev(10.0)); // a consumer that went away is not an error
    }
}
