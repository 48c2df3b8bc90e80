//! The lost last ACK (the `lost-last-ack` scenario, the tour's chapter 4),
//! two engines end to end: the client's ACK of the server's FIN is lost,
//! the server in LAST-ACK sends its FIN again, the client in TIME-WAIT
//! ACKs it again and restarts 2 MSL. The second ACK must echo the resent
//! FIN's TSval (RFC 7323 §4.3), or the server's Eifel check (RFC 3522)
//! takes its needed resend for a spurious one and undoes it.

use super::pair::{End, Pair, Sent};
use super::*;
use crate::event::{RecoveryAction, TimerAction};
use crate::tcp::Profile;

use State::*;

/// One-way delay of the wire.
const DELAY: Duration = Duration::from_millis(10);

/// One segment as the tests compare it: time, sender, flags, seq, ack,
/// len, window and options.
type Row = (f64, End, Flags, u32, u32, usize, u16, TcpOptions);

/// A segment without payload, as the tests expect it.
fn seg(t: f64, from: End, flags: Flags, seq: u32, ack: u32, win: u16, options: TcpOptions) -> Row {
    (t, from, flags, seq, ack, 0, win, options)
}

fn ts(val: u32, ecr: u32) -> TcpOptions {
    TcpOptions {
        timestamp: Some((val, ecr)),
        ..Default::default()
    }
}

fn syn_opts(val: u32, ecr: u32) -> TcpOptions {
    TcpOptions {
        mss: Some(1460),
        wscale: Some(3),
        sack_perm: true,
        timestamp: Some((val, ecr)),
        sack: Vec::new(),
    }
}

fn seen(sent: &[Sent]) -> Vec<Row> {
    sent.iter()
        .map(|s| {
            (
                s.t.secs_f64(),
                s.from,
                s.seg.flags,
                s.seg.seq.0,
                s.seg.ack.0,
                s.seg.payload.len(),
                s.seg.window,
                s.seg.options.clone(),
            )
        })
        .collect()
}

/// The scenario's exchange: the server listens, the client connects at 0
/// and closes at 0.5 s, the server closes at 1 s; the wire loses the
/// client's first ACK of the server's FIN. The client's MSL is 5 s (2 MSL
/// = 10 s), as in the scenario. Returns the pair at 20 s, everything over.
fn lost_last_ack(cfg: Config) -> Pair {
    let client_cfg = Config {
        msl: Duration::from_secs(5),
        ..cfg.clone()
    };
    let mut p = Pair::new(client_cfg, cfg, DELAY);
    p.server.listen(p.now, 80, None).unwrap();
    p.client
        .connect(p.now, p.server_addr, Some(p.client_addr.port()))
        .unwrap();
    // The server's ISS is known once its SYN+ACK is out; its FIN is at
    // ISS + 1, so the ACK of the FIN acknowledges ISS + 2.
    let mut server_iss = None;
    let mut lost = false;
    p.set_drop(move |end, s| {
        if end == End::Server && s.flags.syn() {
            server_iss = Some(s.seq.0);
        }
        let ack_of_fin = end == End::Client
            && s.flags == A
            && server_iss.is_some_and(|iss| s.ack.0 == iss.wrapping_add(2));
        if ack_of_fin && !lost {
            lost = true;
            return true;
        }
        false
    });
    p.run_until(secs(0.5));
    let c = p.conn(End::Client).unwrap();
    p.client.shutdown(p.now, c).unwrap();
    p.run_until(secs(1.0));
    let s = p.conn(End::Server).unwrap();
    p.server.shutdown(p.now, s).unwrap();
    p.run_until(secs(20.0));
    p
}

#[test]
fn lost_last_ack_exact_exchange_echoes_the_resent_fin() {
    let p = lost_last_ack(Config::default());
    let syn = &p.sent[0].seg;
    let synack = &p.sent[1].seg;
    let (c, s) = (syn.seq.0, synack.seq.0);
    // TSval = the end's offset + milliseconds of virtual time.
    let co = syn.options.timestamp.unwrap().0;
    let so = synack.options.timestamp.unwrap().0.wrapping_sub(10);
    let (cl, sv) = (End::Client, End::Server);
    let fin_a = F | A;
    assert_eq!(
        seen(&p.sent),
        vec![
            seg(0.0, cl, S, c, 0, 65535, syn_opts(co, 0)),
            seg(0.01, sv, S | A, s, c + 1, 65535, syn_opts(so + 10, co)),
            seg(0.02, cl, A, c + 1, s + 1, 32768, ts(co + 20, so + 10)),
            // The client's close: its FIN, ACKed at once.
            seg(0.5, cl, fin_a, c + 1, s + 1, 32768, ts(co + 500, so + 10)),
            seg(0.51, sv, A, s + 1, c + 2, 32768, ts(so + 510, co + 500)),
            // The server's close: its FIN; the client's ACK of it is lost.
            seg(1.0, sv, fin_a, s + 1, c + 2, 32768, ts(so + 1000, co + 500)),
            seg(1.01, cl, A, c + 2, s + 2, 32768, ts(co + 1010, so + 1000)),
            // One RTO (1 s) later the FIN again, and the client in TIME-WAIT
            // ACKs it again, echoing the resent FIN's TSval.
            seg(2.0, sv, fin_a, s + 1, c + 2, 32768, ts(so + 2000, co + 500)),
            seg(2.01, cl, A, c + 2, s + 2, 32768, ts(co + 2010, so + 2000)),
        ]
    );
    let dropped: Vec<bool> = p.sent.iter().map(|x| x.dropped).collect();
    assert_eq!(
        dropped,
        [false, false, false, false, false, false, true, false, false]
    );

    assert_eq!(
        p.states(End::Client),
        vec![
            (0.0, Closed, SynSent),
            (0.02, SynSent, Established),
            (0.5, Established, FinWait1),
            (0.52, FinWait1, FinWait2),
            (1.01, FinWait2, TimeWait),
            // 2 MSL from the second ACK, not from the first.
            (12.01, TimeWait, Closed),
        ]
    );
    assert_eq!(
        p.states(End::Server),
        vec![
            (0.0, Closed, Listen),
            (0.01, Listen, SynReceived),
            (0.03, SynReceived, Established),
            (0.51, Established, CloseWait),
            (1.0, CloseWait, LastAck),
            (2.02, LastAck, Closed),
        ]
    );
    assert_eq!(
        p.timer(End::Client, TimerKind::TimeWait),
        vec![
            (1.01, TimerAction::Armed, Some(11.01)),
            (2.01, TimerAction::Armed, Some(12.01)),
            (12.01, TimerAction::Fired, None),
        ]
    );
    // The resent FIN opened a loss episode; the ACK that echoes it ends
    // the episode as a recovery, not as an undo of a spurious resend.
    assert_eq!(
        p.recovery(End::Server),
        vec![
            (2.0, RecoveryAction::Enter, None),
            (2.02, RecoveryAction::Exit, None)
        ]
    );
    assert!(p.recovery(End::Client).is_empty());
}

#[test]
fn linux_time_wait_echoes_the_first_fin_as_linux_does() {
    // Linux's TIME-WAIT socket answers the FIN again as an out-of-window
    // segment, with the TS.Recent of the first FIN. The FIN went again as
    // a tail loss probe, which Linux sends in place of the RTO when the
    // FIN is all that is out: no loss episode, so nothing to undo (with
    // the RTO, the echo older than the resend made it undo, Eifel).
    let p = lost_last_ack(Config::profile(Profile::Linux));
    let fins: Vec<&Sent> = p
        .sent
        .iter()
        .filter(|x| x.from == End::Server && x.seg.flags == F | A)
        .collect();
    assert_eq!(fins.len(), 2, "{:?}", p.sent);
    let first_fin_ts = fins[0].seg.options.timestamp.unwrap().0;
    let last = p.sent.last().unwrap();
    assert_eq!(last.from, End::Client);
    assert_eq!(last.seg.flags, A);
    assert_eq!(last.seg.options.timestamp.unwrap().1, first_fin_ts);
    assert_eq!(
        p.recovery(End::Server)
            .into_iter()
            .map(|(_, a, how)| (a, how))
            .collect::<Vec<_>>(),
        vec![(RecoveryAction::Probe, None)]
    );
}

#[test]
fn close_wait_acks_a_resent_fin_echoing_it() {
    // The same loss one state earlier: the server's ACK of the client's
    // FIN is lost, the client in FIN-WAIT-1 sends its FIN again, and the
    // server in CLOSE-WAIT answers the duplicate (unacceptable: it lies
    // below RCV.NXT) with an ACK that echoes the resend (RFC 7323 §4.3).
    let cfg = Config::default();
    let mut p = Pair::new(cfg.clone(), cfg, DELAY);
    p.server.listen(p.now, 80, None).unwrap();
    p.client
        .connect(p.now, p.server_addr, Some(p.client_addr.port()))
        .unwrap();
    let mut lost = false;
    p.set_drop(move |end, s| {
        // The server's first pure ACK after the handshake is the ACK of
        // the client's FIN.
        if end == End::Server && s.flags == A && !lost {
            lost = true;
            return true;
        }
        false
    });
    p.run_until(secs(0.5));
    let c = p.conn(End::Client).unwrap();
    p.client.shutdown(p.now, c).unwrap();
    p.run_until(secs(3.0));
    let syn = &p.sent[0].seg;
    let synack = &p.sent[1].seg;
    let (c, s) = (syn.seq.0, synack.seq.0);
    let co = syn.options.timestamp.unwrap().0;
    let so = synack.options.timestamp.unwrap().0.wrapping_sub(10);
    let (cl, sv) = (End::Client, End::Server);
    assert_eq!(
        seen(&p.sent[3..]),
        vec![
            seg(0.5, cl, F | A, c + 1, s + 1, 32768, ts(co + 500, so + 10)),
            seg(0.51, sv, A, s + 1, c + 2, 32768, ts(so + 510, co + 500)),
            seg(1.5, cl, F | A, c + 1, s + 1, 32768, ts(co + 1500, so + 10)),
            seg(1.51, sv, A, s + 1, c + 2, 32768, ts(so + 1510, co + 1500)),
        ]
    );
    assert!(p.sent[4].dropped);
    assert_eq!(
        p.states(End::Client)[2..],
        [(0.5, Established, FinWait1), (1.52, FinWait1, FinWait2),]
    );
    assert_eq!(
        p.recovery(End::Client),
        vec![
            (1.5, RecoveryAction::Enter, None),
            (1.52, RecoveryAction::Exit, None)
        ]
    );
}
