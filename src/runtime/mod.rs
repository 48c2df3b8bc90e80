//! The live runtime: the thin async shell around the sans-IO engine.
//!
//! One tokio task ([`Live::run`]) owns the TUN link and drives the engine
//! and the fault injector (both behind the [`Shared`] lock, so that
//! in-process applications can call the engine through [`crate::socket`]).
//! It wakes on a packet from the TUN, on a poke from an application, on the
//! earliest of the engine's, the injector's and the coalescer's deadlines,
//! and on a stop request (`--duration`, Ctrl-C, SIGTERM, the UI). Events go
//! through the [`coalesce::Coalescer`] to bounded [`sink::Sink`]s that never
//! block the stack.
//!
//! Packets from the kernel are `in`, packets to it `out` (the injector's
//! point of view is the stack's). Segment ids: the engine numbers its own
//! segments 2, 4, 6, …; packets read from the TUN get 1, 3, 5, ….

pub mod coalesce;
pub mod share;
pub mod sink;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Notify;

use crate::event::{Body, Dir, Event, Gro};
use crate::fault::{Injector, Packet, Rule};
use crate::link::tun::{self, MAX_PACKET, Rx, Tun, TunSpec};
use crate::services::{self, ServiceOpts, ServiceSpec};
use crate::socket::{Inner, Shared, Stack};
use crate::tcp::{Config, Engine, State};
use crate::time::{Clock, Instant};

use coalesce::Coalescer;
use sink::{PcapRecord, PcapSink, Sink};

/// The host name live events carry.
pub const HOST: &str = "tcpscope";

/// How long a stop waits for open connections to finish closing.
pub const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Packets read from the TUN per round before the engine runs.
const READ_BATCH: usize = 64;
/// How often drained connection buffers are given back (docs/benchmarks.md,
/// Memory per idle connection).
const TRIM_EVERY: Duration = Duration::from_secs(1);
/// How long the runtime keeps polling the TUN after its last activity.
const BUSY_POLL: Duration = Duration::from_micros(50);

/// Everything `tcpscope live` was asked to do.
#[derive(Clone, Debug)]
pub struct LiveSetup {
    pub tun: TunSpec,
    pub cfg: Config,
    pub rules: Vec<Rule>,
    pub services: Vec<ServiceSpec>,
    pub connect: Vec<SocketAddr>,
    pub send: Option<String>,
    pub http_idle: Option<Duration>,
    pub duration: Option<Duration>,
    pub profile: &'static str,
}

impl LiveSetup {
    /// One line for titles and the first `info` event.
    pub fn describe(&self) -> String {
        self.describe_in(crate::i18n::messages(crate::i18n::Lang::En))
    }

    /// [`LiveSetup::describe`] in `m`'s language, for the UI's title.
    pub fn describe_in(&self, m: &crate::i18n::Messages) -> String {
        let serve: Vec<String> = self
            .services
            .iter()
            .map(|s| format!("{}:{}", s.port, s.kind.name()))
            .collect();
        m.live_title(
            &self.tun.name,
            &format!("{}/{}", self.tun.kernel_addr, self.tun.prefix),
            &format!("{}/{}", self.tun.kernel_addr6, self.tun.prefix6),
            &self.tun.stack_addr.to_string(),
            &self.tun.stack_addr6.to_string(),
            self.profile,
            &if serve.is_empty() {
                m.serving_nothing.to_string()
            } else {
                serve.join(",")
            },
        )
    }

    /// The TUN's queue (kernel → us) holds a full receive window of
    /// segments, plus slack (docs/live.md, The link: the default 500 drops
    /// packets with a large window).
    pub fn txqueuelen_for(cfg: &Config) -> u32 {
        let segs = cfg.recv_buf / usize::from(cfg.mss.max(536));
        (2 * segs + 64).max(1000) as u32
    }
}

/// Counters for the final `info` event.
#[derive(Default, Debug, Clone)]
pub struct Stats {
    pub packets_in: u64,
    pub packets_out: u64,
    /// ICMP and ICMPv6 echo requests answered.
    pub icmp_echo: u64,
    /// Packets that were not TCP (the engine drops them with reason
    /// `not_ipv4_tcp` or `not_ipv6_tcp`).
    pub not_tcp: u64,
    pub write_errors: u64,
    pub events: u64,
    /// GSO packets from the kernel, and the wire segments they were cut
    /// into (docs/live.md, The link).
    pub gso_in: u64,
    pub gso_segments: u64,
    /// TSO writes to the kernel, and the segments they carried.
    pub tso_out: u64,
    pub tso_segments: u64,
}

/// Packets read from the TUN and not yet given to the injector. A kernel
/// GSO packet is cut into the wire segments it stands for (docs/live.md,
/// The link: what the user sees is what is on the wire), here or, when it was
/// kept whole in the hope of receive offload, in `Live::packet_in`.
#[derive(Default)]
struct RxBatch {
    pkts: Vec<(Vec<u8>, Rx)>,
    gso_in: u64,
    gso_segments: u64,
    /// Keep GSO packets whole: the last round found receive offload
    /// possible (`Live::gro_ok`); `packet_in` checks again.
    keep_whole: bool,
}

impl RxBatch {
    fn push(&mut self, p: &[u8], rx: Rx) {
        if rx.gso_size == 0 || self.keep_whole {
            self.pkts.push((p.to_vec(), rx));
            return;
        }
        self.cut(p, rx);
    }

    fn cut(&mut self, p: &[u8], rx: Rx) {
        let wire = Rx {
            partial: true,
            gso_size: 0,
        };
        let n = crate::gso::split(p, usize::from(rx.gso_size), |s| self.pkts.push((s, wire)));
        if n > 1 {
            self.gso_in += 1;
            self.gso_segments += n as u64;
        } else if let Some(last) = self.pkts.last_mut() {
            // Handed over whole: its checksum is as the kernel left it.
            last.1.partial = rx.partial;
        }
    }
}

/// Why the loop woke.
enum Wake {
    Stop(String),
    Read(std::io::Result<usize>),
    Other,
}

/// The runtime task's state.
pub struct Live {
    shared: Arc<Shared>,
    stack: Stack,
    setup: LiveSetup,
    coalescer: Coalescer,
    sinks: Vec<Sink>,
    pcap: Option<PcapSink>,
    next_in_id: u64,
    /// Packets for the kernel, whether their TCP checksum is partial, and
    /// the `gso_size` of a TSO packet the engine joined (0: a wire segment).
    outq: VecDeque<(Vec<u8>, bool, u16)>,
    events: Vec<Event>,
    stats: Stats,
    /// Set once stopping: when to give up waiting for closes.
    grace: Option<Instant>,
    stop_reason: Option<String>,
    /// The configuration's `hex_in_events`, which the runtime suspends
    /// while a connection is above the coalescing rate.
    want_hex: bool,
    listening: Vec<u16>,
    /// Join runs of segments into TSO writes (offload path).
    tso: bool,
    /// The offload path: GSO packets may come, receive offload is possible.
    tso_capable: bool,
    /// Why the kernel refused a TSO write, if it did.
    tso_refused: Option<String>,
    /// When drained connection buffers are next given back.
    next_trim: Instant,
}

impl Live {
    /// Create the interface, the engine and the injector, start the
    /// services and active opens. Must run inside a tokio runtime.
    pub fn open(
        setup: LiveSetup,
        sinks: Vec<Sink>,
        pcap: Option<PcapSink>,
    ) -> Result<(Live, Tun), String> {
        let tun = Tun::open(&setup.tun)?;
        keep_freed_memory();
        let clock = Clock::start();
        let want_hex = setup.cfg.hex_in_events;
        let mut cfg = setup.cfg.clone();
        // What an arriving segment makes us send waits until the services
        // have answered it (see `round`): the ACK rides on their data or FIN.
        cfg.cork = true;
        // The offload path takes partial checksums: computing them whole
        // for the kernel, which does not check them, cost a tenth of a
        // download (docs/live.md, The link). The pcap copy is completed.
        cfg.checksum_offload = tun.can_tso();
        let mut engine = Engine::new(cfg, HOST, setup.tun.stack_addr);
        let ipv6 = match tun.ipv6() {
            Ok(()) => {
                engine.add_addr(setup.tun.stack_addr6);
                String::new()
            }
            Err(why) => format!("; IPv6 off ({why})"),
        };
        engine.set_segment_ids(2, 2);
        let mut injector = Injector::new(HOST, setup.cfg.seed);
        let now = clock.now();
        engine.emit(
            now,
            None,
            Body::Info {
                msg: format!("{}, TUN path {}{ipv6}; ready", setup.describe(), tun.path()),
            },
        );
        for r in &setup.rules {
            injector.add_rule(now, r.clone());
        }
        let shared = Shared::new(engine, injector, clock);
        let stack = Stack::new(shared.clone());
        let mut listening = Vec::new();
        let opts = ServiceOpts {
            http_idle: setup.http_idle,
        };
        for s in &setup.services {
            let l = stack
                .listen(s.port)
                .map_err(|e| format!("cannot serve {} on port {}: {e}", s.kind.name(), s.port))?;
            listening.push(s.port);
            tokio::spawn(services::serve(stack.clone(), l, s.kind, opts.clone()));
        }
        for addr in &setup.connect {
            tokio::spawn(services::active_open(
                stack.clone(),
                *addr,
                setup.send.clone(),
            ));
        }
        Ok((
            Live {
                shared,
                stack,
                setup,
                coalescer: Coalescer::new(),
                sinks,
                pcap,
                next_in_id: 1,
                outq: VecDeque::new(),
                events: Vec::new(),
                stats: Stats::default(),
                grace: None,
                stop_reason: None,
                want_hex,
                listening,
                tso: tun.can_tso(),
                tso_capable: tun.can_tso(),
                tso_refused: None,
                next_trim: now + TRIM_EVERY,
            },
            tun,
        ))
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub fn stack(&self) -> &Stack {
        &self.stack
    }

    /// The loop; returns when stopped and every connection has closed (or
    /// the grace period ran out). `stop` is notified by the UI driver.
    pub async fn run(mut self, tun: Tun, stop: Arc<Notify>) -> Result<Stats, String> {
        let mut sigint =
            signal(SignalKind::interrupt()).map_err(|e| format!("cannot catch Ctrl-C: {e}"))?;
        let mut sigterm =
            signal(SignalKind::terminate()).map_err(|e| format!("cannot catch SIGTERM: {e}"))?;
        let clock = *self.shared.clock();
        let stop_at = self.setup.duration.map(|d| clock.now() + d);
        let mut buf = vec![0u8; MAX_PACKET];
        let mut batch = RxBatch::default();
        // The first round emits the `info` and `state LISTEN` events.
        self.round(&tun, &mut batch);
        let result = loop {
            let deadline = self.next_wake(stop_at);
            let sleep_to = deadline
                .map(|t| tokio::time::Instant::from_std(clock.to_std(t)))
                .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
            let wake = tokio::select! {
                biased;
                _ = sigint.recv() => Wake::Stop("interrupted (SIGINT)".into()),
                _ = sigterm.recv() => Wake::Stop("terminated (SIGTERM)".into()),
                _ = stop.notified() => Wake::Stop("stopped from the UI".into()),
                r = tun.read_batch(&mut buf, READ_BATCH, |p, rx| batch.push(p, rx)) => Wake::Read(r),
                _ = self.shared.poke.notified() => Wake::Other,
                _ = tokio::time::sleep_until(sleep_to) => Wake::Other,
                r = tun.writable(), if !self.outq.is_empty() => Wake::Read(r.map(|_| 0)),
            };
            match wake {
                Wake::Stop(why) => self.begin_stop(why),
                Wake::Read(Err(e)) => {
                    break Err(format!("reading from {} failed: {e}", tun.name()));
                }
                Wake::Read(Ok(_)) | Wake::Other => {}
            }
            if self.grace.is_none() && stop_at.is_some_and(|s| clock.now() >= s) {
                self.begin_stop("--duration reached".into());
            }
            self.round(&tun, &mut batch);
            if self.finished() {
                break Ok(());
            }
            if let Err(e) = self.busy_poll(&tun, &mut buf, &mut batch).await {
                break Err(format!("reading from {} failed: {e}", tun.name()));
            }
        };
        self.finish();
        result.map(|()| self.stats.clone())
    }

    /// After a round, poll the TUN without sleeping for up to `BUSY_POLL`
    /// (extended while packets keep coming), yielding to the services between
    /// polls. In a request/response exchange the next packet usually arrives
    /// within microseconds; catching it here saves a sleep and a cross-CPU
    /// wake-up, which dominate short connections (a VM makes them dearer).
    /// Bounded: an idle stack spins at most `BUSY_POLL` after its last packet.
    async fn busy_poll(
        &mut self,
        tun: &Tun,
        buf: &mut [u8],
        batch: &mut RxBatch,
    ) -> std::io::Result<()> {
        let mut until = std::time::Instant::now() + BUSY_POLL;
        while std::time::Instant::now() < until && !self.finished() {
            let got = tun.try_read_batch(buf, READ_BATCH, |p, rx| batch.push(p, rx))?;
            tokio::task::yield_now().await;
            let corked = self.shared.lock().engine.needs_flush();
            if got > 0 || self.shared.take_poked() || !self.outq.is_empty() || corked {
                self.round(tun, batch);
                until = std::time::Instant::now() + BUSY_POLL;
            } else {
                std::hint::spin_loop();
            }
        }
        Ok(())
    }

    fn next_wake(&self, stop_at: Option<Instant>) -> Option<Instant> {
        let g = self.shared.lock();
        let coalesce = self.coalescer.poll_at().map(Instant::from_secs_f64);
        [
            g.engine.poll_at(),
            g.injector.poll_at(),
            coalesce,
            if self.grace.is_none() { stop_at } else { None },
            self.grace,
            Some(self.next_trim),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// One round: what the last round's packets made the engine send (the
    /// services have run since, so their answers carry the ACKs), packets
    /// in, timers, everything the engine and injector produce, events out,
    /// packets out.
    fn round(&mut self, tun: &Tun, batch: &mut RxBatch) {
        let shared = self.shared.clone();
        let now = shared.clock().now();
        {
            let mut g = shared.lock();
            g.engine.flush(now);
            // Hex dumps cost a quarter of the CPU under bulk load and the
            // coalescer would fold most of them away: only while no
            // connection is hot.
            let hot = self.coalescer.any_hot(now.secs_f64());
            g.engine.config_mut().hex_in_events = self.want_hex && !hot;
            let gro_ok = self.gro_ok(&g, hot);
            // The outbound twin: what the engine sends in runs leaves as
            // TSO packets, one event each (`Config::aggregate_out`).
            g.engine.config_mut().aggregate_out = gro_ok && self.tso;
            let mut pkts = std::mem::take(&mut batch.pkts);
            for (pkt, rx) in pkts.drain(..) {
                if rx.gso_size == 0 {
                    self.packet_in(&mut g, now, pkt, rx.partial, None);
                } else if let Some(segs) = crate::gso::wire_count(&pkt, rx.gso_size.into())
                    && gro_ok
                {
                    self.stats.gso_in += 1;
                    self.stats.gso_segments += u64::from(segs);
                    let gro = crate::event::Gro {
                        segs,
                        size: rx.gso_size.into(),
                    };
                    self.packet_in(&mut g, now, pkt, true, Some(gro));
                } else {
                    // Kept whole, but a rule, a hold or the pcap came since
                    // (or the connection cooled down): cut it now.
                    batch.cut(&pkt, rx);
                    for (p, rx) in batch.pkts.drain(..) {
                        self.packet_in(&mut g, now, p, rx.partial, None);
                    }
                }
            }
            batch.pkts = pkts;
            self.stats.gso_in += std::mem::take(&mut batch.gso_in);
            self.stats.gso_segments += std::mem::take(&mut batch.gso_segments);
            if g.injector.poll_at().is_some_and(|t| t <= now) {
                g.injector.on_timer(now);
            }
            if g.engine.poll_at().is_some_and(|t| t <= now) {
                g.engine.on_timer(now);
            }
            self.pump(&mut g, now);
            g.wake_dirty();
            if now >= self.next_trim {
                // Drained buffers given back once a second, not on every
                // drain (see `Tcb::trim_buffers`).
                g.engine.trim_buffers();
                self.next_trim = now + TRIM_EVERY;
            }
            let hot = self.coalescer.any_hot(now.secs_f64());
            batch.keep_whole = self.gro_ok(&g, hot);
        }
        self.publish(now);
        self.write_out(tun);
    }

    /// Receive offload (a kernel GSO packet processed whole, as Linux's GRO
    /// does) only where nothing would show or act on it as one: no fault
    /// rule or held segment, no pcap, and some connection above the
    /// coalescing rate, whose events are folded into bursts (the check is
    /// for any connection; the coalescer hands the aggregate of a quiet one
    /// on as its wire segments). docs/live.md, The link.
    fn gro_ok(&self, g: &Inner, hot: bool) -> bool {
        hot && self.tso_capable && self.pcap.is_none() && g.injector.is_idle()
    }

    fn packet_in(
        &mut self,
        g: &mut Inner,
        now: Instant,
        bytes: Vec<u8>,
        partial_csum: bool,
        gro: Option<crate::event::Gro>,
    ) {
        let wire = gro.map_or(1, |g| u64::from(g.segs));
        self.stats.packets_in += wire;
        // RFC 1122 §3.2.2.6 and RFC 4443 §4.2: answer pings; not TCP, so
        // no events.
        let echo = tun::icmp_echo_reply(&bytes, self.setup.tun.stack_addr)
            .map(|r| (r, "ICMP echo request, answered"))
            .or_else(|| {
                g.engine.addr6().and_then(|a| {
                    tun::icmpv6_echo_reply(&bytes, a).map(|r| (r, "ICMPv6 echo request, answered"))
                })
            });
        if let Some((reply, what)) = echo {
            self.stats.icmp_echo += 1;
            self.capture(now, Dir::In, &bytes, Some(what.into()));
            self.capture(now, Dir::Out, &reply, None);
            self.outq.push_back((reply, false, 0));
            return;
        }
        let tcp = match bytes.first().map(|b| b >> 4) {
            Some(4) => bytes.len() >= 20 && bytes[9] == 6,
            // TCP right after the fixed header. TCP behind extension
            // headers is counted as not TCP here, though the engine walks
            // them and takes it: rare, and not worth a walk per packet.
            Some(6) => bytes.len() >= 40 && bytes[6] == 6,
            _ => false,
        };
        if !tcp {
            self.stats.not_tcp += 1;
        }
        let id = self.next_in_id;
        self.next_in_id += 2 * wire;
        self.inject(
            g,
            now,
            Packet {
                id,
                dir: Dir::In,
                bytes,
                partial_csum,
                gro,
            },
        );
    }

    /// Into the injector; the pcap record says what the injector did.
    fn inject(&mut self, g: &mut Inner, now: Instant, pkt: Packet) {
        let copy = self.pcap.as_ref().map(|_| {
            // The capture gets a real checksum (Wireshark checks them).
            let mut c = pkt.clone();
            c.complete();
            (c.dir, c.bytes)
        });
        let id = pkt.id;
        g.injector.process(now, pkt);
        let mut comment = None;
        while let Some(e) = g.injector.poll_event() {
            comment = crate::fault::verdict_comment(&e, id).or(comment);
            self.events.push(e);
        }
        if let Some((dir, bytes)) = copy {
            self.capture(now, dir, &bytes, comment);
        }
    }

    fn capture(&self, now: Instant, dir: Dir, bytes: &[u8], comment: Option<String>) {
        if let Some(p) = &self.pcap {
            p.send(PcapRecord {
                ts: self.shared.clock().wall(now),
                dir,
                bytes: bytes.to_vec(),
                comment,
            });
        }
    }

    /// Move everything that can move now (the in-memory wire's flush loop).
    fn pump(&mut self, g: &mut Inner, now: Instant) {
        loop {
            let mut progress = false;
            self.events.extend(g.engine.drain_events());
            while let Some(tx) = g.engine.poll_transmit() {
                progress = true;
                self.events.extend(g.engine.drain_events());
                if let Some(gro) = tx.gso
                    && !(g.injector.is_idle() && self.pcap.is_none())
                {
                    self.unjoin(g, now, tx, gro);
                    continue;
                }
                let mut pkt = Packet::new(tx.id, Dir::Out, tx.packet);
                pkt.partial_csum = tx.partial;
                pkt.gro = tx.gso;
                self.inject(g, now, pkt);
            }
            while let Some(p) = g.injector.poll_deliver() {
                progress = true;
                match p.dir {
                    Dir::In if let Some(gro) = p.gro => {
                        g.engine.receive_gro(now, p.id, &p.bytes, gro);
                        self.events.extend(g.engine.drain_events());
                    }
                    Dir::In if p.partial_csum => {
                        g.engine.receive_unverified(now, p.id, &p.bytes);
                        self.events.extend(g.engine.drain_events());
                    }
                    Dir::In => {
                        g.engine.receive(now, p.id, &p.bytes);
                        self.events.extend(g.engine.drain_events());
                    }
                    Dir::Out => {
                        let gso = p.gro.map_or(0, |g| g.size as u16);
                        self.outq.push_back((p.bytes, p.partial_csum, gso));
                    }
                }
            }
            while let Some(e) = g.injector.poll_event() {
                self.events.push(e);
            }
            if !progress {
                break;
            }
        }
    }

    /// A TSO packet the engine joined while nothing acted on wire segments
    /// (`Config::aggregate_out`, set once per round), met by a rule, a hold
    /// or the pcap that came since (a service wrote between rounds): the
    /// injector and the events get its wire segments, as if never joined.
    fn unjoin(&mut self, g: &mut Inner, now: Instant, tx: crate::tcp::Transmit, gro: Gro) {
        let at = self.events.iter().rposition(
            |e| matches!(&e.body, Body::Segment(s) if s.dir == Dir::Out && s.seg.id == tx.id),
        );
        if let Some(at) = at {
            let joined = self.events.remove(at);
            let Body::Segment(s) = &joined.body else {
                unreachable!("found as a segment event")
            };
            let wire = s.wire_segments().into_iter().map(|w| Event {
                t: joined.t,
                host: joined.host.clone(),
                conn: joined.conn.clone(),
                body: Body::Segment(w),
            });
            let wire: Vec<Event> = wire.collect();
            self.events.splice(at..at, wire);
        }
        let mut segs = Vec::new();
        crate::gso::split(&tx.packet, gro.size as usize, |p| segs.push(p));
        for (i, p) in segs.into_iter().enumerate() {
            let mut pkt = Packet::new(tx.id + 2 * i as u64, Dir::Out, p);
            pkt.partial_csum = true;
            self.inject(g, now, pkt);
        }
    }

    fn publish(&mut self, now: Instant) {
        let mut out = Vec::with_capacity(self.events.len());
        for e in self.events.drain(..) {
            self.coalescer.push(e, &mut out);
        }
        self.coalescer.tick(now.secs_f64(), &mut out);
        self.send_events(out);
    }

    fn send_events(&mut self, out: Vec<Event>) {
        for e in out {
            self.stats.events += 1;
            let e = Arc::new(e);
            for s in &mut self.sinks {
                s.send(&e);
            }
        }
    }

    /// Write what the injector let out. On the offload path a run of
    /// consecutive full-sized segments of one connection leaves in one TSO
    /// write, which the kernel takes as those same segments (`gso::pack`);
    /// each of them was a wire segment for the injector, the events and the
    /// pcap. Should the kernel refuse a TSO write, every later write is
    /// plain.
    fn write_out(&mut self, tun: &Tun) {
        while let Some((first, partial, gso)) = self.outq.front() {
            if *gso > 0 {
                // Joined by the engine (`Config::aggregate_out`).
                let size = *gso;
                match tun.try_send_tso(first, size) {
                    Ok(()) => {
                        let n = crate::gso::wire_count(first, size.into()).unwrap_or(1);
                        self.stats.packets_out += u64::from(n);
                        self.stats.tso_out += 1;
                        self.stats.tso_segments += u64::from(n);
                        self.outq.pop_front();
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                    Err(e) => {
                        // Sent as its wire segments from now on.
                        self.tso = false;
                        self.tso_refused = Some(e.to_string());
                        let (p, partial, _) = self.outq.pop_front().expect("the front");
                        let mut segs = Vec::new();
                        crate::gso::split(&p, size.into(), |s| segs.push((s, partial, 0)));
                        for s in segs.into_iter().rev() {
                            self.outq.push_front(s);
                        }
                    }
                }
                continue;
            }
            let mut n = 1;
            if self.tso {
                let mut len = first.len();
                let hdr = crate::gso::header_lengths(first).map_or(0, |h| usize::from(h.0));
                while let Some((next, _, 0)) = self.outq.get(n) {
                    if !crate::gso::continues(first, &self.outq[n - 1].0, next, len) {
                        break;
                    }
                    len += next.len() - hdr;
                    n += 1;
                }
            }
            let one = |p: &[u8], partial: bool| {
                if partial {
                    tun.try_send_partial(p)
                } else {
                    tun.try_send(p)
                }
            };
            let sent = if n > 1 {
                let run: Vec<&[u8]> = self.outq.range(..n).map(|(p, _, _)| p.as_slice()).collect();
                match crate::gso::pack(&run) {
                    Some((pkt, size)) => tun.try_send_tso(&pkt, size),
                    None => {
                        n = 1;
                        one(first, *partial)
                    }
                }
            } else {
                one(first, *partial)
            };
            match sent {
                Ok(()) => {
                    self.stats.packets_out += n as u64;
                    if n > 1 {
                        self.stats.tso_out += 1;
                        self.stats.tso_segments += n as u64;
                    }
                    self.outq.drain(..n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if n > 1 => {
                    // Retried one by one from the next pass on.
                    self.tso = false;
                    self.tso_refused = Some(e.to_string());
                }
                Err(_) => {
                    // The kernel refused the packet (device going down):
                    // a lost packet, which TCP recovers from.
                    self.stats.write_errors += 1;
                    self.outq.pop_front();
                }
            }
        }
    }

    /// Stop listening, close every connection (FIN), and give the closes
    /// [`CLOSE_GRACE`] to complete.
    fn begin_stop(&mut self, why: String) {
        if self.grace.is_some() {
            return;
        }
        let shared = self.shared.clone();
        let now = shared.clock().now();
        let mut g = shared.lock();
        let open: Vec<_> = g
            .engine
            .connections()
            .filter(|t| {
                matches!(
                    t.state,
                    State::SynSent | State::SynReceived | State::Established | State::CloseWait
                )
            })
            .map(|t| t.id)
            .collect();
        g.engine.emit(
            now,
            None,
            Body::Info {
                msg: format!(
                    "stopping ({why}): closing {} open connection(s)",
                    open.len()
                ),
            },
        );
        for port in self.listening.drain(..) {
            g.engine.unlisten(now, port);
        }
        for cid in open {
            let _ = g.engine.close(now, cid);
        }
        g.wake_all();
        self.grace = Some(now + CLOSE_GRACE);
        self.stop_reason = Some(why);
    }

    /// Stopped, and every connection is closed or in TIME-WAIT (the
    /// process is going away; TIME-WAIT's purpose ends with it), or the
    /// grace period is over.
    fn finished(&self) -> bool {
        let Some(grace) = self.grace else {
            return false;
        };
        if self.shared.clock().now() >= grace {
            return true;
        }
        let g = self.shared.lock();
        g.engine
            .connections()
            .all(|t| matches!(t.state, State::TimeWait | State::Closed))
    }

    fn finish(&mut self) {
        let now = self.shared.clock().now();
        let mut out = Vec::new();
        self.coalescer.flush_all(&mut out);
        let (left, lost_pcap) = {
            let g = self.shared.lock();
            (
                g.engine.connection_count(),
                self.pcap
                    .as_ref()
                    .map_or(0, |p| p.lost.load(std::sync::atomic::Ordering::Relaxed)),
            )
        };
        let lost_events: u64 = self.sinks.iter().map(|s| s.lost_total).sum();
        out.push(Event {
            t: now.secs_f64(),
            host: Some(HOST.into()),
            conn: None,
            body: Body::Info {
                msg: format!(
                    "stopped: {} packets in ({} kernel GSO packets cut into {} wire segments), {} out ({} of them in {} TSO writes{}), {} ICMP echo answered, {} not TCP (dropped), {} segment events folded into bursts, {} connection(s) left (TIME-WAIT or unfinished), {} events and {} pcap packets lost by slow consumers; interface {} removed",
                    self.stats.packets_in,
                    self.stats.gso_in,
                    self.stats.gso_segments,
                    self.stats.packets_out,
                    self.stats.tso_segments,
                    self.stats.tso_out,
                    self.tso_refused
                        .as_ref()
                        .map(|e| format!("; the kernel refused a TSO write ({e}), plain writes since"))
                        .unwrap_or_default(),
                    self.stats.icmp_echo,
                    self.stats.not_tcp,
                    self.coalescer.coalesced,
                    left,
                    lost_events,
                    lost_pcap,
                    self.setup.tun.name,
                ),
            },
        });
        self.send_events(out);
        self.sinks.clear();
        self.pcap = None;
    }
}

/// With 64 KiB segments every packet is a large allocation; glibc's default
/// trimming hands freed heap back to the kernel and the next packet faults
/// it in again (7 % of bulk in a profile). Keep up to 64 MiB of it.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; any value is valid.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}

/// Run live mode on this thread until it stops; the sinks and the pcap
/// writer are closed when it returns.
pub fn run_headless(
    setup: LiveSetup,
    sinks: Vec<Sink>,
    pcap: Option<PcapSink>,
) -> Result<Stats, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    rt.block_on(async move {
        let (live, tun) = Live::open(setup, sinks, pcap)?;
        live.run(tun, Arc::new(Notify::new())).await
    })
}
