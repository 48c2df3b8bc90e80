//! Engine configuration and the three profiles (docs/stack.md, Profiles).

use std::time::Duration;

pub use crate::tcp::recovery::cc::CcAlgo;

/// RFC 1122 §4.2.3.6 keepalive parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keepalive {
    /// Idle time before the first probe.
    pub idle: Duration,
    /// Time between unanswered probes.
    pub interval: Duration,
    /// Unanswered probes after which the peer is declared dead.
    pub count: u32,
}

impl Keepalive {
    pub const RFC: Keepalive = Keepalive {
        idle: Duration::from_secs(7200),
        interval: Duration::from_secs(75),
        count: 10,
    };
}

/// A set of timer and algorithm defaults (docs/stack.md, Profiles);
/// [`Profile::summary`] says each in a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    Rfc,
    Linux,
    Classroom,
}

impl Profile {
    pub const ALL: [Profile; 3] = [Profile::Rfc, Profile::Linux, Profile::Classroom];

    /// One line on what the profile sets (the command line's help shows it).
    pub fn summary(self) -> &'static str {
        match self {
            Profile::Rfc => {
                "RFC values: MSL 120 s, keepalive 7200/75/10, RTO min 1 s, NewReno, RACK off"
            }
            Profile::Linux => {
                "Linux values: MSL 30 s (60 s TIME-WAIT), RTO min 200 ms, keepalive 7200/75/9, CUBIC, RACK-TLP"
            }
            Profile::Classroom => {
                "Short timers for a lesson: MSL 5 s, keepalive 20/5/5 on for every connection"
            }
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Profile::Rfc => "rfc",
            Profile::Linux => "linux",
            Profile::Classroom => "classroom",
        }
    }
    pub fn from_name(s: &str) -> Option<Profile> {
        match s {
            "rfc" => Some(Profile::Rfc),
            "linux" => Some(Profile::Linux),
            "classroom" => Some(Profile::Classroom),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    /// Maximum segment lifetime; TIME-WAIT lasts 2×MSL (RFC 9293 §3.4.2).
    pub msl: Duration,
    /// RFC 6298 §2.4: lower bound on RTO (the RFC says 1 s; Linux 200 ms).
    pub rto_min: Duration,
    /// Apply `rto_min` to the variance term (RTO = SRTT + max(4·RTTVAR,
    /// rto_min), Linux's tcp_set_rto) instead of to the whole RTO (RFC 6298
    /// §2.4).
    pub rto_min_on_variance: bool,
    /// RFC 6298 §2.5: upper bound (at least 60 s); Linux uses 120 s.
    pub rto_max: Duration,
    /// RFC 6298 §2.1: RTO before any sample.
    pub rto_initial: Duration,
    /// Retransmissions of SYN or SYN+ACK before giving up (Linux tcp_syn_retries).
    pub syn_retries: u32,
    /// Retransmissions of data before aborting (Linux tcp_retries2).
    pub data_retries: u32,
    /// The keepalive parameters, and whether it is on for new connections.
    pub keepalive: Keepalive,
    pub keepalive_on: bool,
    /// Probes carry one byte of garbage (old BSD style) instead of none.
    pub keepalive_garbage: bool,
    /// Delayed ACK timeout (RFC 1122 §4.2.3.2: at most 500 ms); zero turns it off.
    pub delayed_ack: Duration,
    /// Nagle's algorithm (RFC 1122 §4.2.3.4) for new connections.
    pub nagle: bool,
    /// Linux's tcp_fin_timeout for connections the application has released.
    pub fin_wait_2_timeout: Option<Duration>,
    /// A user timeout for SYN-SENT; `None` leaves it to `syn_retries`.
    pub connect_timeout: Option<Duration>,
    /// RFC 5482's user timeout for new connections (TCP_USER_TIMEOUT):
    /// how long data may stay unacknowledged, counted from the first
    /// retransmission, before the connection is aborted, instead of
    /// `data_retries`; also how long keepalive probes may go unanswered.
    /// `None`: the retry count decides.
    pub user_timeout: Option<Duration>,
    /// Persist probe interval bounds (RFC 9293 §3.8.6.1 leaves them open).
    pub persist_max: Duration,
    /// MSS this host advertises (MTU 1500 − 40).
    pub mss: u16,
    /// A lower MSS set by the application (TCP_MAXSEG, Linux's user_mss):
    /// new connections advertise at most this and send segments no
    /// larger. `None`: the link's MSS alone.
    pub user_mss: Option<u16>,
    pub send_buf: usize,
    pub recv_buf: usize,
    /// The receive buffer the offered window scale must cover, when it is
    /// larger than `recv_buf`: Linux sizes the shift for the largest
    /// buffer the socket may grow to (tcp_rmem's maximum,
    /// tcp_select_initial_window), not for its first one. `None`: `recv_buf`.
    pub recv_buf_max: Option<usize>,
    /// Offer RFC 7323 window scaling, timestamps, and RFC 2018 SACK.
    pub window_scaling: bool,
    pub timestamps: bool,
    pub sack: bool,
    /// Initial congestion window in segments; `None` is RFC 5681's formula.
    pub initial_cwnd: Option<u32>,
    /// Out-of-order segments kept per connection.
    pub ooo_max_segments: usize,
    /// Connections in the table (all states).
    pub max_connections: usize,
    /// Default listen backlog (half-open plus not yet accepted).
    pub backlog: usize,
    /// Answer SYNs with cookies when the backlog is full (RFC 4987 §3.6).
    pub syn_cookies: bool,
    /// RFC 5961 §7: challenge ACKs per second, per connection.
    pub challenge_ack_limit: u32,
    /// Seed for ISNs, ports, and timestamps offsets: same seed, same run.
    pub seed: u64,
    /// Carry the hex dump of headers in segment events.
    pub hex_in_events: bool,
    /// Hold an ACK that an arriving segment makes due (and what the
    /// connection sends after it) until `Engine::flush`, so that an
    /// application answering in between (an echo, a close) shares one
    /// segment with the ACK: data, FIN and ACK in one packet instead of
    /// three. The live runtime flushes once the services have run. Never
    /// held: duplicate ACKs for out-of-order data and the ACK of every second
    /// full-sized segment (RFC 5681 §4.2). Off in the sans-IO default.
    pub cork: bool,
    /// Leave the TCP checksum of what the engine sends partial (the
    /// pseudo-header sum only, as a NIC with checksum offload is handed
    /// it): the live runtime's offload path, where the kernel takes such
    /// packets as vouched for (docs/live.md, The link). Off in the sans-IO
    /// default: every packet carries its full checksum.
    pub checksum_offload: bool,
    /// Join a run of new data segments that the engine sends at once, all
    /// full-sized but the last, with the same header apart from the
    /// sequence number, into one TSO packet with one `segment out` event
    /// whose `gro` says which wire segments it stands for (the outbound
    /// twin of receive offload). Only with `checksum_offload` and segment
    /// ids counting by 2; the live runtime turns it on while a connection
    /// is hot and nothing would show or act on a wire segment alone
    /// (docs/live.md, The link). Off in the sans-IO default.
    pub aggregate_out: bool,
    /// Ephemeral port range for active opens (IANA, RFC 6335).
    pub ephemeral_ports: (u16, u16),
    /// Congestion control: NewReno (RFC 5681, 6582) or CUBIC (RFC 9438).
    pub cc: CcAlgo,
    /// RACK-TLP loss detection (RFC 8985) for SACK connections; off, losses
    /// are found by DupThresh (RFC 6675 §4) and the timer.
    pub rack: bool,
    /// HyStart ends CUBIC's slow start before a loss does (Linux's
    /// default); no effect with NewReno.
    pub hystart: bool,
    /// Added to every tail loss probe timeout (Linux: its 2 ms timer floor).
    pub tlp_floor: Duration,
    /// The peer's worst-case delayed ACK, added to the probe timeout with
    /// one segment in flight (RFC 8985 §7.2 WCDelAckT; Linux uses its RTO
    /// minimum, 200 ms).
    pub tlp_delack: Duration,
    /// Segments ACKed at once at the start of a connection, and at most
    /// as many again after a duplicate segment or a silence longer than
    /// the RTO (Linux's quick-ACK mode); 0 delays from the first segment
    /// and always (RFC 1122).
    pub quickack: u32,
    /// RFC 1337: ignore RST in TIME-WAIT. Linux's default (tcp_rfc1337 = 0)
    /// lets a RST end TIME-WAIT.
    pub rfc1337: bool,
    /// TIME-WAIT takes TS.Recent from the peer's FIN sent again (RFC 7323
    /// §4.3: its SEG.SEQ is at or below Last.ACK.sent), so the ACK it gets
    /// echoes that retransmission and the peer does not take its needed
    /// resend for a spurious one (RFC 3522). Linux's TIME-WAIT socket
    /// answers such a FIN as an out-of-window segment and echoes the first
    /// FIN's TSval (tcp_timewait_state_process).
    pub time_wait_ts_recent: bool,
    /// Restart the retransmission timer when the first unacknowledged
    /// segment is sent again (Linux's tcp_xmit_retransmit_queue); RFC 6298
    /// §5.1 only starts it when it is not running.
    pub rto_restart_on_head_rtx: bool,
    /// SYN or SYN+ACK retransmissions after which the first window is one
    /// segment (RFC 5681 §3.1 says after one; Linux after more than one).
    pub syn_loss_one_segment: u32,
    /// Set PSH as Linux does (tcp.c tcp_push, tcp_output.c
    /// __tcp_transmit_skb): on the segment that carries the end of a write,
    /// kept when that segment is sent again (a retransmission, a tail loss
    /// probe), and on the last segment of every packet of more than one
    /// segment (a TSO packet: here, a run of segments sent at once). Off:
    /// PSH only when a segment empties the send queue (RFC 9293 §3.9.1).
    pub linux_push: bool,
    /// With `linux_push`: the fewest segments a TSO packet may be sized to
    /// (Linux's tcp_min_tso_segs, 2 by default). The engine cuts what it
    /// sends at once into packets as Linux's tcp_write_xmit does (half the
    /// congestion window at most, tcp_cwnd_test; the size tcp_tso_autosize
    /// gives from the pacing rate, at least this many segments), and the
    /// last segment of each packet of more than one carries PSH.
    pub min_tso_segs: u32,
    /// Grow the congestion window as Linux does: slow start adds a segment
    /// per segment acknowledged, however many one ACK covers (tcp_cong.c
    /// tcp_slow_start), and no algorithm grows the window while something
    /// else limits the sender (tcp_is_cwnd_limited). The ACK that ends
    /// recovery or the loss state grows the window too (tcp_ack runs
    /// tcp_cong_control after tcp_fastretrans_alert), and in the loss state
    /// the window grows by what each ACK delivered, SACKed data included.
    /// Off: RFC 5681 §3.1, at most one SMSS per ACK in slow start, growth
    /// on every ACK but the one that ends an episode.
    pub linux_cwnd_growth: bool,
    /// Delay the ACK of a FIN that arrives in ESTABLISHED (Linux's tcp_fin
    /// enters "ping-pong" mode, expecting the application to answer with
    /// its own FIN, and the ACK waits for the delayed-ACK timer). Off: the
    /// FIN is ACKed at once.
    pub delay_fin_ack: bool,
    /// Restart from the initial window after an idle period longer than
    /// the RTO (RFC 5681 §4.1; Linux's tcp_slow_start_after_idle, 1 by
    /// default). With `linux_cwnd_growth` the window is halved per RTO of
    /// idleness down to the initial window, as Linux's tcp_cwnd_restart does,
    /// and the idleness is judged where Linux judges it (a write, a window
    /// update with data waiting: tcp_slow_start_after_idle_check), not
    /// before each send.
    pub slow_start_after_idle: bool,
    /// A RST this host sends to end a synchronized connection (ABORT, a
    /// keepalive or FIN-WAIT-2 timeout, a close with unread data) carries
    /// ACK, as Linux's tcp_send_active_reset does. Off: <SEQ=SND.NXT><CTL=RST>
    /// (RFC 9293 §3.10.5).
    pub rst_ack_on_abort: bool,
    /// Closing with received data the application never read resets the
    /// connection instead of sending FIN (RFC 1122 §4.2.2.13 SHOULD, RFC
    /// 2525 §2.17, Linux's tcp_close): the peer learns its data was lost.
    pub rst_on_unread_close: bool,
    /// Probe a zero window with no data at SND.UNA − 1 (Linux's
    /// tcp_xmit_probe_skb: an old sequence number the peer must ACK, with
    /// its window). Off: one byte of new data beyond the window (RFC 9293
    /// §3.8.6.1).
    pub zero_window_probe_empty: bool,
    /// A probe timeout that would come after the retransmission timer is
    /// moved to the timer's deadline and takes its place: the probe goes
    /// out instead of the timeout, and the timer starts over (Linux's
    /// tcp_schedule_loss_probe: "if RTO is shorter, just schedule TLP in
    /// its place"). Off: the probe is not scheduled and the timer fires.
    pub tlp_in_place_of_rto: bool,
    /// Nagle never holds the segment that carries the FIN: after close
    /// nothing more will join it (Linux's tcp_nagle_test: "don't use the
    /// nagle rule ... for the final FIN"). Off: a short last segment waits
    /// until the data before it is acknowledged (RFC 1122 §4.2.3.4).
    pub nagle_sends_fin: bool,
    /// Minshall's variant of Nagle (Linux's tcp_minshall_check): a short
    /// segment waits only while an earlier short segment is
    /// unacknowledged, not while any data is. Off: RFC 1122 §4.2.3.4.
    pub nagle_minshall: bool,
    /// Receive as Linux does (tcp_input.c): a segment that runs past the
    /// window is taken whole when the receive queue is empty and dropped
    /// (with a duplicate ACK) when it is not (tcp_sequence); a bare FIN is
    /// taken at a zero window (tcp_data_queue); an arrival that overfills
    /// the buffer is ACKed at once. A buffer set on the socket (SO_RCVBUF)
    /// is Linux's memory budget: half of it the first window, whole
    /// segments charged with their overhead, the window rounded to the
    /// peer's segment size (docs/stack.md, Socket buffers). Off: RFC 9293
    /// §3.10.7.4 trims a segment to the window.
    pub linux_rcvbuf: bool,
    /// A FIN taken in order forgets the SACK and D-SACK blocks still to
    /// report (Linux's tcp_fin calls tcp_sack_reset), so the ACK of a
    /// resent segment whose only new part is the FIN carries none. Off:
    /// the duplicate part is reported as a D-SACK (RFC 2883 §4).
    pub sack_reset_on_fin: bool,
    /// An in-order segment that repeats out-of-order data already held
    /// reports the repeated part as a D-SACK, before the SACK blocks that
    /// remain (Linux's tcp_ofo_queue and tcp_dsack_extend). Off: only
    /// the remaining blocks.
    pub dsack_reassembled: bool,
    /// A segment whose ACK acknowledges data not yet sent is dropped
    /// without an answer, and TS.Recent is taken only from a segment
    /// whose ACK is acceptable (Linux's tcp_ack returns before
    /// tcp_replace_ts_recent, and tcp_rcv_established discards the
    /// segment). Off: RFC 9293 §3.10.7.4 (ACK and drop) with TS.Recent
    /// taken in the first step (RFC 7323 §4.3).
    pub ack_unsent_silent: bool,
    /// PRR as Linux's tcp_cwnd_reduction runs it: the slow-start
    /// reduction bound adds a segment only on an ACK that advanced SND.UNA
    /// and marked nothing newly lost, and an ACK that delivered nothing
    /// leaves cwnd as it is. Off: RFC 6937 §3 (PRR-SSRB) on every ACK.
    pub prr_ssrb_on_advance: bool,
    /// The initial reordering degree in segments (Linux's tcp_reordering
    /// sysctl, tp->reordering): RACK's reordering window is zero before
    /// any reordering once this many segments are SACKed (RFC 8985 §6.2
    /// step 4's DupThresh), and SACKed data found reordered raises it
    /// (Linux's tcp_check_sack_reordering).
    pub reordering: u32,
    /// Data that arrives for an application that has closed is answered
    /// by a RST in reply to it, <SEQ=SEG.ACK><CTL=RST> (Linux's
    /// tcp_rcv_state_process resets, tcp_v4_send_reset answers). Off: the
    /// RST is sent at SND.NXT, as ABORT's (RFC 9293 §3.10.5).
    pub rst_answers_data_after_close: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config::profile(Profile::Rfc)
    }
}

impl Config {
    pub fn profile(p: Profile) -> Config {
        let base = Config {
            msl: Duration::from_secs(120),
            rto_min: Duration::from_secs(1),
            rto_min_on_variance: false,
            rto_max: Duration::from_secs(120),
            rto_initial: Duration::from_secs(1),
            syn_retries: 6,
            data_retries: 15,
            keepalive: Keepalive::RFC,
            keepalive_on: false,
            keepalive_garbage: false,
            delayed_ack: Duration::from_millis(200),
            nagle: true,
            fin_wait_2_timeout: Some(Duration::from_secs(60)),
            connect_timeout: None,
            user_timeout: None,
            persist_max: Duration::from_secs(60),
            mss: 1460,
            user_mss: None,
            send_buf: 256 * 1024,
            recv_buf: 256 * 1024,
            recv_buf_max: None,
            window_scaling: true,
            timestamps: true,
            sack: true,
            initial_cwnd: None,
            ooo_max_segments: 256,
            max_connections: 65536,
            backlog: 128,
            syn_cookies: true,
            challenge_ack_limit: 1000,
            seed: 0x7463_7073_636f_7065,
            hex_in_events: true,
            cork: false,
            checksum_offload: false,
            aggregate_out: false,
            ephemeral_ports: (49152, 65535),
            cc: CcAlgo::NewReno,
            rack: false,
            hystart: false,
            tlp_floor: Duration::ZERO,
            tlp_delack: Duration::from_millis(200),
            quickack: 0,
            rfc1337: true,
            time_wait_ts_recent: true,
            rto_restart_on_head_rtx: false,
            syn_loss_one_segment: 1,
            linux_push: false,
            min_tso_segs: 2,
            linux_cwnd_growth: false,
            delay_fin_ack: false,
            slow_start_after_idle: true,
            rst_ack_on_abort: false,
            rst_on_unread_close: true,
            zero_window_probe_empty: false,
            tlp_in_place_of_rto: false,
            nagle_sends_fin: false,
            nagle_minshall: false,
            linux_rcvbuf: false,
            sack_reset_on_fin: false,
            dsack_reassembled: false,
            ack_unsent_silent: false,
            prr_ssrb_on_advance: false,
            reordering: 3,
            rst_answers_data_after_close: false,
        };
        match p {
            Profile::Rfc => base,
            Profile::Linux => Config {
                msl: Duration::from_secs(30),
                rto_min: Duration::from_millis(200),
                rto_min_on_variance: true,
                keepalive: Keepalive {
                    count: 9,
                    ..Keepalive::RFC
                },
                initial_cwnd: Some(10),
                ephemeral_ports: (32768, 60999),
                cc: CcAlgo::Cubic,
                rack: true,
                hystart: true,
                tlp_floor: Duration::from_millis(2),
                // Linux's delayed ACK starts at its 40 ms minimum (the ATO
                // adapts upwards to 200 ms; tcpscope keeps the minimum).
                delayed_ack: Duration::from_millis(40),
                quickack: 16,
                rfc1337: false,
                time_wait_ts_recent: false,
                rto_restart_on_head_rtx: true,
                syn_loss_one_segment: 2,
                linux_push: true,
                linux_cwnd_growth: true,
                delay_fin_ack: true,
                rst_ack_on_abort: true,
                zero_window_probe_empty: true,
                tlp_in_place_of_rto: true,
                nagle_sends_fin: true,
                nagle_minshall: true,
                linux_rcvbuf: true,
                sack_reset_on_fin: true,
                dsack_reassembled: true,
                ack_unsent_silent: true,
                prr_ssrb_on_advance: true,
                rst_answers_data_after_close: true,
                ..base
            },
            Profile::Classroom => Config {
                msl: Duration::from_secs(5),
                keepalive: Keepalive {
                    idle: Duration::from_secs(20),
                    interval: Duration::from_secs(5),
                    count: 5,
                },
                keepalive_on: true,
                fin_wait_2_timeout: Some(Duration::from_secs(30)),
                ..base
            },
        }
    }
}
