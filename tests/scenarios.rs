//! Every built-in scenario runs headless to completion under virtual time,
//! every narration finds the event it explains, and each scenario's key
//! events are asserted exactly.

use tcpscope::event::{
    AbortReason, Body, Dir, Event, KeepaliveAction, LimitKind, TimerAction, TimerKind,
};
use tcpscope::fault::Rule;
use tcpscope::link::memory::Side;
use tcpscope::scenario::{
    BUILTIN, Lang, MATCH_KINDS, Op, Overrides, Run, Scenario, ZH_FALLBACK_MARK,
};
use tcpscope::tcp::State;
use tcpscope::wire::Flags;

use State::*;

fn run(name: &str) -> (Run, Vec<Event>) {
    run_with(name, Overrides::default())
}

fn run_with(name: &str, ov: Overrides) -> (Run, Vec<Event>) {
    let sc = Scenario::builtin(name).unwrap_or_else(|| panic!("no scenario {name}"));
    let mut r = Run::new(sc, &ov);
    let ev = r.run_to_end();
    assert!(r.is_finished());
    (r, ev)
}

fn states(ev: &[Event], host: &str) -> Vec<(State, State)> {
    ev.iter()
        .filter(|e| e.host.as_deref() == Some(host))
        .filter_map(|e| match &e.body {
            // Listener events name the unspecified remote; keep connections.
            Body::State { from, to, .. }
                if !e.conn.as_deref().unwrap_or("").ends_with("0.0.0.0:0") =>
            {
                Some((*from, *to))
            }
            _ => None,
        })
        .collect()
}

/// (t, dir, flags, seq, ack, len, retransmit) of a host's segment events.
fn segs(ev: &[Event], host: &str, dir: Dir) -> Vec<(f64, Flags, u32, u32, u32, bool)> {
    ev.iter()
        .filter(|e| e.host.as_deref() == Some(host))
        .filter_map(|e| e.segment().map(|s| (e.t, s)))
        .filter(|(_, s)| s.dir == dir)
        .map(|(t, s)| {
            (
                t,
                s.seg.flags,
                s.seg.seq,
                s.seg.ack,
                s.seg.len,
                s.retransmit,
            )
        })
        .collect()
}

fn timer_events(
    ev: &[Event],
    host: &str,
    kind: TimerKind,
    action: TimerAction,
) -> Vec<(f64, Option<f64>)> {
    ev.iter()
        .filter(|e| e.host.as_deref() == Some(host))
        .filter_map(|e| match &e.body {
            Body::Timer(t) if t.timer == kind && t.action == action => Some((e.t, t.deadline)),
            _ => None,
        })
        .collect()
}

fn aborts(ev: &[Event], host: &str) -> Vec<(f64, AbortReason)> {
    ev.iter()
        .filter(|e| e.host.as_deref() == Some(host))
        .filter_map(|e| match &e.body {
            Body::Abort { reason } => Some((e.t, reason.clone())),
            _ => None,
        })
        .collect()
}

fn freed_at(ev: &[Event], host: &str) -> Vec<f64> {
    ev.iter()
        .filter(|e| e.host.as_deref() == Some(host))
        .filter_map(|e| match &e.body {
            Body::Tcb(t) if t.action == tcpscope::event::TcbAction::Freed => Some(e.t),
            _ => None,
        })
        .collect()
}

const SA: Flags = Flags(Flags::SYN.0 | Flags::ACK.0);
const FA: Flags = Flags(Flags::FIN.0 | Flags::ACK.0);

#[test]
fn every_builtin_scenario_finishes_and_every_narration_is_used() {
    assert!(BUILTIN.len() >= 12);
    for (name, _) in BUILTIN {
        for lang in [Lang::En, Lang::Zh] {
            let ov = Overrides {
                lang: Some(lang),
                ..Default::default()
            };
            let sc = Scenario::builtin(name).unwrap();
            let n = sc.narrations.len();
            let mut r = Run::new(sc, &ov);
            let ev = r.run_to_end();
            assert_eq!(
                r.unmatched_narrations(),
                Vec::<usize>::new(),
                "{name}: narrations without their event"
            );
            // A narration may name every kind a run produces.
            for e in &ev {
                assert!(
                    e.kind() == "narration" || MATCH_KINDS.contains(&e.kind()),
                    "{name}: `{}` events are missing from MATCH_KINDS",
                    e.kind()
                );
            }
            let narr: Vec<&Event> = ev.iter().filter(|e| e.kind() == "narration").collect();
            assert_eq!(narr.len(), n, "{name}");
            for e in narr {
                let Body::Narration {
                    lang: l,
                    text,
                    explains,
                    ..
                } = &e.body
                else {
                    unreachable!()
                };
                assert_eq!(l, lang.name());
                assert!(!text.is_empty());
                let inner = explains.as_ref().expect("narration carries its event");
                assert_eq!(inner.t, e.t, "{name}: narration at the time of its event");
            }
            assert_eq!(
                ev.last().map(|e| e.kind()),
                Some("info"),
                "{name} ends with 'finished'"
            );
        }
    }
}

#[test]
fn handshake() {
    let (_, ev) = run("handshake");
    let c_out = segs(&ev, "client", Dir::Out);
    let s_out = segs(&ev, "server", Dir::Out);
    let (_, syn_f, isn_c, _, _, _) = c_out[0];
    assert_eq!(syn_f, Flags::SYN);
    let (_, sa_f, isn_s, sa_ack, _, _) = s_out[0];
    assert_eq!((sa_f, sa_ack), (SA, isn_c + 1));
    let (_, ack_f, ack_seq, ack_ack, _, _) = c_out[1];
    assert_eq!(
        (ack_f, ack_seq, ack_ack),
        (Flags::ACK, isn_c + 1, isn_s + 1)
    );
    assert_eq!(c_out.len(), 2);
    assert_eq!(s_out.len(), 1);
    assert_eq!(
        states(&ev, "client"),
        vec![(Closed, SynSent), (SynSent, Established)]
    );
    assert_eq!(
        states(&ev, "server"),
        vec![(Listen, SynReceived), (SynReceived, Established)]
    );
}

#[test]
fn client_close_time_wait_is_two_msl() {
    let (_, ev) = run("client-close");
    assert_eq!(
        states(&ev, "client"),
        vec![
            (Closed, SynSent),
            (SynSent, Established),
            (Established, FinWait1),
            (FinWait1, FinWait2),
            (FinWait2, TimeWait),
            (TimeWait, Closed)
        ]
    );
    assert_eq!(
        states(&ev, "server"),
        vec![
            (Listen, SynReceived),
            (SynReceived, Established),
            (Established, CloseWait),
            (CloseWait, LastAck),
            (LastAck, Closed)
        ]
    );
    let armed = timer_events(&ev, "client", TimerKind::TimeWait, TimerAction::Armed);
    assert_eq!(armed.len(), 1);
    let (t0, deadline) = armed[0];
    assert!(
        (deadline.unwrap() - t0 - 240.0).abs() < 1e-9,
        "2 MSL with the RFC's 120 s MSL"
    );
    assert_eq!(freed_at(&ev, "client"), vec![deadline.unwrap()]);
}

#[test]
fn server_close_puts_the_server_in_time_wait() {
    let (_, ev) = run("server-close");
    let s = states(&ev, "server");
    assert!(s.contains(&(Established, FinWait1)));
    assert!(s.contains(&(TimeWait, Closed)));
    assert!(!states(&ev, "client").iter().any(|(_, to)| *to == TimeWait));
    assert!(states(&ev, "client").contains(&(CloseWait, LastAck)));
    // The FIN follows the response at once: the server closed first.
    let out = segs(&ev, "server", Dir::Out);
    let resp = out.iter().position(|s| s.4 > 0).unwrap();
    assert_eq!(out[resp + 1].1, FA);
    assert_eq!(out[resp + 1].0, out[resp].0);
    let freed_c = freed_at(&ev, "client")[0];
    let freed_s = freed_at(&ev, "server")[0];
    assert!(
        freed_s - freed_c > 239.0,
        "the server holds its TCB 2 MSL longer"
    );
}

#[test]
fn half_close_data_flows_after_the_first_fin() {
    let (r, ev) = run("half-close");
    let c = states(&ev, "client");
    assert!(c.contains(&(Established, FinWait1)) && c.contains(&(FinWait2, TimeWait)));
    // Data segments the client received while in FIN-WAIT-2.
    let fin_wait_2_at = ev
        .iter()
        .find(|e| {
            e.host.as_deref() == Some("client")
                && matches!(e.body, Body::State { to: FinWait2, .. })
        })
        .unwrap()
        .t;
    let later: Vec<u32> = segs(&ev, "client", Dir::In)
        .into_iter()
        .filter(|s| s.0 > fin_wait_2_at && s.4 > 0)
        .map(|s| s.4)
        .collect();
    assert_eq!(later, vec![2, 2, 2]);
    assert_eq!(r.received(Side::Client).bytes, 6);
    assert!(states(&ev, "server").contains(&(CloseWait, LastAck)));
}

#[test]
fn simultaneous_open_takes_four_segments_and_no_listener() {
    let (_, ev) = run("simultaneous-open");
    for host in ["client", "server"] {
        assert_eq!(
            states(&ev, host),
            vec![
                (Closed, SynSent),
                (SynSent, SynReceived),
                (SynReceived, Established)
            ]
        );
        let out: Vec<Flags> = segs(&ev, host, Dir::Out).into_iter().map(|s| s.1).collect();
        assert_eq!(out, vec![Flags::SYN, SA]);
    }
}

#[test]
fn simultaneous_close_goes_through_closing_on_both_sides() {
    let (_, ev) = run("simultaneous-close");
    for host in ["client", "server"] {
        let s = states(&ev, host);
        assert_eq!(
            s[2..].to_vec(),
            vec![
                (Established, FinWait1),
                (FinWait1, Closing),
                (Closing, TimeWait),
                (TimeWait, Closed)
            ],
            "{host}"
        );
    }
}

#[test]
fn reset_aborts_both_sides_without_time_wait() {
    let (_, ev) = run("reset");
    let rst = segs(&ev, "client", Dir::Out)
        .into_iter()
        .find(|s| s.1 == Flags::RST)
        .unwrap();
    // seq = SND.NXT: after the SYN and the 15-byte request.
    let isn_c = segs(&ev, "client", Dir::Out)[0].2;
    assert_eq!(rst.2, isn_c + 1 + 15);
    assert_eq!(
        aborts(&ev, "client")
            .into_iter()
            .map(|a| a.1)
            .collect::<Vec<_>>(),
        [AbortReason::User]
    );
    assert_eq!(
        aborts(&ev, "server")
            .into_iter()
            .map(|a| a.1)
            .collect::<Vec<_>>(),
        [AbortReason::ResetReceived]
    );
    assert!(
        !ev.iter()
            .any(|e| matches!(e.body, Body::State { to: TimeWait, .. }))
    );
}

#[test]
fn no_listener_is_refused_with_rst_ack() {
    let (_, ev) = run("no-listener");
    let isn_c = segs(&ev, "client", Dir::Out)[0].2;
    let rst = segs(&ev, "server", Dir::Out);
    assert_eq!(rst.len(), 1);
    assert_eq!(
        (rst[0].1, rst[0].2, rst[0].3),
        (Flags(Flags::RST.0 | Flags::ACK.0), 0, isn_c + 1)
    );
    assert_eq!(aborts(&ev, "client")[0].1, AbortReason::ResetReceived);
    assert_eq!(
        states(&ev, "client"),
        vec![(Closed, SynSent), (SynSent, Closed)]
    );
}

#[test]
fn lost_syn_is_retransmitted_after_one_second() {
    let (_, ev) = run("lost-syn");
    let syns: Vec<(f64, bool)> = segs(&ev, "client", Dir::Out)
        .into_iter()
        .filter(|s| s.1 == Flags::SYN)
        .map(|s| (s.0, s.5))
        .collect();
    assert_eq!(syns, vec![(0.1, false), (1.1, true)]);
    assert_eq!(ev.iter().filter(|e| e.kind() == "drop").count(), 1);
    assert!(states(&ev, "server").contains(&(SynReceived, Established)));
}

#[test]
fn lost_synack_both_sides_retransmit() {
    let (_, ev) = run("lost-synack");
    let c: Vec<bool> = segs(&ev, "client", Dir::Out)
        .iter()
        .filter(|s| s.1 == Flags::SYN)
        .map(|s| s.5)
        .collect();
    assert_eq!(c, vec![false, true]);
    let s: Vec<bool> = segs(&ev, "server", Dir::Out)
        .iter()
        .filter(|s| s.1 == SA)
        .map(|s| s.5)
        .collect();
    assert_eq!(s, vec![false, true], "one SYN+ACK again, not two");
    assert!(states(&ev, "client").contains(&(SynSent, Established)));
}

#[test]
fn lost_data_fast_retransmit_then_rto() {
    let (r, ev) = run("lost-data");
    let last_vars = ev
        .iter()
        .rev()
        .find_map(|e| match &e.body {
            Body::Vars(v) if e.host.as_deref() == Some("client") => Some(v.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(last_vars.fast_retransmits, 1);
    assert!(last_vars.retransmits >= 2);
    let rto = timer_events(&ev, "client", TimerKind::Retransmit, TimerAction::Fired);
    assert_eq!(rto.len(), 1, "only the lone request needed the timer");
    assert_eq!(rto[0].0, 4.0, "sent at 3.0 s, RTO 1 s");
    assert_eq!(
        r.received(Side::Server).digest(),
        r.sent(Side::Client).digest()
    );
    assert_eq!(r.received(Side::Server).bytes, 27512 + 17);
}

#[test]
fn lost_fin_is_retransmitted() {
    let (_, ev) = run("lost-fin");
    let fins: Vec<(f64, bool)> = segs(&ev, "client", Dir::Out)
        .into_iter()
        .filter(|s| s.1 == FA)
        .map(|s| (s.0, s.5))
        .collect();
    assert_eq!(fins, vec![(0.5, false), (1.5, true)]);
    assert!(states(&ev, "client").contains(&(FinWait2, TimeWait)));
}

#[test]
fn lost_last_ack_is_answered_from_time_wait() {
    let (_, ev) = run("lost-last-ack");
    let armed = timer_events(&ev, "client", TimerKind::TimeWait, TimerAction::Armed);
    assert_eq!(
        armed.len(),
        2,
        "TIME-WAIT restarted by the retransmitted FIN"
    );
    assert!(
        (armed[1].1.unwrap() - armed[1].0 - 10.0).abs() < 1e-9,
        "2 MSL again, MSL 5 s"
    );
    let fins: Vec<bool> = segs(&ev, "server", Dir::Out)
        .into_iter()
        .filter(|s| s.1 == FA)
        .map(|s| s.5)
        .collect();
    assert_eq!(fins, vec![false, true]);
    assert_eq!(states(&ev, "server").last(), Some(&(LastAck, Closed)));
    assert!(
        aborts(&ev, "server").is_empty(),
        "no RST: TIME-WAIT answered"
    );
}

#[test]
fn zero_window_persist_then_everything_arrives() {
    let (r, ev) = run("zero-window");
    assert!(ev.iter().any(|e| {
        e.host.as_deref() == Some("server")
            && e.segment()
                .is_some_and(|s| s.dir == Dir::Out && s.seg.win == 0)
    }));
    let zero_at = ev
        .iter()
        .find(|e| {
            e.host.as_deref() == Some("client")
                && e.segment()
                    .is_some_and(|s| s.dir == Dir::In && s.seg.win == 0)
        })
        .unwrap()
        .t;
    // The first expiry is the SWS override (it sends the 1200 bytes held
    // back); after the window closes, the probes.
    let fired: Vec<(f64, Option<f64>)> =
        timer_events(&ev, "client", TimerKind::Persist, TimerAction::Fired)
            .into_iter()
            .filter(|f| f.0 > zero_at)
            .collect();
    assert!(fired.len() >= 3, "persist probes: {fired:?}");
    // Back-off: the gaps between probes double.
    let gaps: Vec<f64> = fired.windows(2).map(|w| w[1].0 - w[0].0).collect();
    for g in gaps.windows(2) {
        assert!((g[1] - 2.0 * g[0]).abs() < 1e-6, "gaps {gaps:?}");
    }
    // The full receive buffer is reported as a limit biting.
    assert!(ev.iter().any(|e| e.host.as_deref() == Some("server")
        && matches!(
            &e.body,
            Body::Limit {
                what: LimitKind::RecvBuffer,
                limit: 4096,
                ..
            }
        )));
    assert_eq!(r.received(Side::Server).bytes, 12000);
    assert_eq!(
        r.received(Side::Server).digest(),
        r.sent(Side::Client).digest()
    );
}

/// Probes, answers and verdicts (not the `enabled` announcements).
fn probes(ev: &[Event], host: &str) -> Vec<(f64, KeepaliveAction, u32, u32)> {
    ev.iter()
        .filter(|e| e.host.as_deref() == Some(host))
        .filter_map(|e| match &e.body {
            Body::Keepalive(k) if k.action != KeepaliveAction::Enabled => {
                Some((e.t, k.action, k.probe, k.of))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn keepalive_dead_peer_rfc_schedule() {
    let (_, ev) = run("keepalive-dead-peer");
    let p = probes(&ev, "server");
    let last_from_client = 0.51;
    let mut want: Vec<(f64, KeepaliveAction, u32, u32)> = (0..10)
        .map(|k| {
            (
                last_from_client + 7200.0 + 75.0 * k as f64,
                KeepaliveAction::ProbeSent,
                k + 1,
                10,
            )
        })
        .collect();
    want.push((last_from_client + 7950.0, KeepaliveAction::Dead, 10, 10));
    assert_eq!(p.len(), want.len());
    for (got, want) in p.iter().zip(&want) {
        assert!(
            (got.0 - want.0).abs() < 1e-6 && got.1 == want.1 && got.2 == want.2 && got.3 == want.3,
            "{got:?} vs {want:?}"
        );
    }
    assert_eq!(aborts(&ev, "server")[0].1, AbortReason::KeepaliveTimeout);
    assert!((freed_at(&ev, "server")[0] - 7950.51).abs() < 1e-6);
}

#[test]
fn keepalive_dead_peer_with_overridden_values() {
    let ov = Overrides {
        keepalive: Some(tcpscope::cli::parse_keepalive("10,2,3").unwrap()),
        ..Default::default()
    };
    let (_, ev) = run_with("keepalive-dead-peer", ov);
    let p: Vec<(f64, KeepaliveAction)> = probes(&ev, "server")
        .into_iter()
        .map(|p| (p.0, p.1))
        .collect();
    assert_eq!(
        p,
        vec![
            (10.51, KeepaliveAction::ProbeSent),
            (12.51, KeepaliveAction::ProbeSent),
            (14.51, KeepaliveAction::ProbeSent),
            (16.51, KeepaliveAction::Dead)
        ]
    );
}

#[test]
fn keepalive_rebooted_peer_answers_with_rst() {
    let (_, ev) = run("keepalive-rebooted-peer");
    let rst = segs(&ev, "client", Dir::Out)
        .into_iter()
        .find(|s| s.1 == Flags::RST)
        .unwrap();
    assert!((rst.0 - 7200.52).abs() < 1e-6);
    let a = aborts(&ev, "server");
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].1, AbortReason::ResetReceived);
    assert!((a[0].0 - 7200.53).abs() < 1e-6);
}

#[test]
fn bulk_with_loss_delivers_every_byte_in_order() {
    for (pct, seed) in [(10.0, 11u64), (20.0, 22), (30.0, 33)] {
        let mut sc = Scenario::builtin("bulk-with-loss").unwrap();
        sc.faults.clear();
        let ov = Overrides {
            rules: vec![Rule::loss(tcpscope::fault::DirMatch::Any, pct / 100.0)],
            seed: Some(seed),
            ..Default::default()
        };
        let mut r = Run::new(sc, &ov);
        let ev = r.run_to_end();
        assert_eq!(r.received(Side::Server).bytes, 1 << 20, "{pct}%");
        assert_eq!(
            r.received(Side::Server).digest(),
            r.sent(Side::Client).digest(),
            "{pct}%: same bytes, same order"
        );
        let drops = ev.iter().filter(|e| e.kind() == "drop").count();
        let last = ev
            .iter()
            .rev()
            .find_map(|e| match &e.body {
                Body::Vars(v) if e.host.as_deref() == Some("client") => Some(v.clone()),
                _ => None,
            })
            .unwrap();
        assert!(drops > 50, "{pct}%: {drops} drops");
        assert!(
            last.retransmits > 0 && last.fast_retransmits > 0,
            "{pct}%: {last:?}"
        );
    }
}

#[test]
fn delayed_ack_waits_200ms_then_acks_every_second_segment() {
    let (_, ev) = run("delayed-ack");
    let armed = timer_events(&ev, "server", TimerKind::DelayedAck, TimerAction::Armed);
    let fired = timer_events(&ev, "server", TimerKind::DelayedAck, TimerAction::Fired);
    assert!((armed[0].1.unwrap() - armed[0].0 - 0.2).abs() < 1e-9);
    assert!((fired[0].0 - armed[0].1.unwrap()).abs() < 1e-9);
    // The two full-sized segments at 1.51: one ACK, sent at once.
    let acks: Vec<f64> = segs(&ev, "server", Dir::Out)
        .into_iter()
        .filter(|s| s.0 > 1.5 && s.0 < 1.6)
        .map(|s| s.0)
        .collect();
    assert_eq!(acks.len(), 1);
}

#[test]
fn nagle_coalesces_then_nodelay_does_not() {
    let (_, ev) = run("nagle");
    let lens: Vec<u32> = segs(&ev, "client", Dir::Out)
        .into_iter()
        .filter(|s| s.4 > 0)
        .map(|s| s.4)
        .collect();
    assert_eq!(lens, vec![1, 4, 1, 1, 1, 1, 1]);
}

#[test]
fn narration_in_chinese() {
    let ov = Overrides {
        lang: Some(Lang::Zh),
        ..Default::default()
    };
    let (_, ev) = run_with("handshake", ov);
    let first = ev
        .iter()
        .find_map(|e| match &e.body {
            Body::Narration { lang, text, .. } => Some((lang.clone(), text.clone())),
            _ => None,
        })
        .unwrap();
    assert_eq!(first.0, "zh");
    assert!(first.1.contains("LISTEN"), "{}", first.1);
    assert!(first.1.contains("服务器"));
}

#[test]
fn the_tour_covers_every_topic() {
    let (_, ev) = run("tour");
    let narr: Vec<&str> = ev
        .iter()
        .filter_map(|e| match &e.body {
            Body::Narration { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    for chapter in 1..=10 {
        assert!(
            narr.iter()
                .any(|t| t.starts_with(&format!("Chapter {chapter},"))),
            "chapter {chapter} narrated"
        );
    }
    // TIME-WAIT is 2 MSL = 10 s every time it is entered (MSL 5 s), and the
    // lost last ACK restarts it once.
    let tw: Vec<(f64, f64)> = ev
        .iter()
        .filter_map(|e| match &e.body {
            Body::Timer(t) if t.timer == TimerKind::TimeWait && t.action == TimerAction::Armed => {
                Some((e.t, t.deadline.unwrap()))
            }
            _ => None,
        })
        .collect();
    assert!(tw.len() >= 6, "{tw:?}");
    assert!(tw.iter().all(|(t, d)| (d - t - 10.0).abs() < 1e-9));
    // Both sides pay TIME-WAIT somewhere in the tour.
    for host in ["client", "server"] {
        assert!(
            states(&ev, host).iter().any(|(_, to)| *to == TimeWait),
            "{host}"
        );
    }
    // The dead peer: ten probes, then dead, 7200 + 10×75 s after the client's
    // last segment (140.51 s).
    let dead = probes(&ev, "server")
        .into_iter()
        .find(|p| p.1 == KeepaliveAction::Dead)
        .unwrap();
    assert!((dead.0 - (140.51 + 7950.0)).abs() < 1e-6, "{dead:?}");
    // The rebooted peer answers the probe with RST.
    let resets: Vec<(f64, AbortReason)> = aborts(&ev, "server");
    assert!(
        resets
            .iter()
            .any(|(t, r)| *r == AbortReason::ResetReceived && (*t - 15401.53).abs() < 1e-6),
        "{resets:?}"
    );
    // Exponential back-off in chapter 7: the lost request goes at 100.5,
    // then 1 s, 2 s and 4 s later.
    let tries: Vec<f64> = segs(&ev, "client", Dir::Out)
        .into_iter()
        .filter(|s| s.0 >= 100.0 && s.0 < 110.0 && s.4 > 0)
        .map(|s| s.0)
        .collect();
    assert_eq!(tries, vec![100.5, 101.5, 103.5, 107.5]);
}

// ----- loss recovery (issue 10) ---------------------------------------------

/// (t, action, by) of a host's recovery events.
fn recoveries(ev: &[Event], host: &str) -> Vec<(f64, String, Option<String>)> {
    ev.iter()
        .filter(|e| e.host.as_deref() == Some(host))
        .filter_map(|e| match &e.body {
            Body::Recovery(r) => Some((
                e.t,
                r.action.name().to_string(),
                r.by.map(|b| b.name().to_string()),
            )),
            _ => None,
        })
        .collect()
}

/// (t, seq, rtx cause, probe) of a host's retransmitted or probing data.
fn resent(ev: &[Event], host: &str) -> Vec<(f64, u32, Option<String>, bool)> {
    ev.iter()
        .filter(|e| e.host.as_deref() == Some(host))
        .filter_map(|e| e.segment().map(|s| (e.t, s)))
        .filter(|(_, s)| s.dir == Dir::Out && s.seg.len > 0 && (s.retransmit || s.probe))
        .map(|(t, s)| (t, s.seg.seq, s.rtx.map(|c| c.name().to_string()), s.probe))
        .collect()
}

fn some(s: &str) -> Option<String> {
    Some(s.to_string())
}

fn rto_count(ev: &[Event], host: &str) -> usize {
    timer_events(ev, host, TimerKind::Retransmit, TimerAction::Fired).len()
}

fn same_bytes(r: &Run) {
    assert_eq!(
        r.received(Side::Server).digest(),
        r.sent(Side::Client).digest()
    );
}

#[test]
fn the_resent_fin_of_a_lost_last_ack_is_not_undone_as_spurious() {
    // The client's ACK from TIME-WAIT echoes the resent FIN's TSval
    // (RFC 7323 §4.3): the server's loss episode ends, it is not undone.
    let (_, ev) = run("lost-last-ack");
    assert_eq!(
        recoveries(&ev, "server"),
        vec![
            (2.01, "enter".into(), some("rto")),
            (2.03, "exit".into(), None)
        ]
    );
    assert!(recoveries(&ev, "client").is_empty());
    let (_, tour) = run("tour");
    let undos: Vec<_> = ["client", "server"]
        .iter()
        .flat_map(|h| recoveries(&tour, h))
        .filter(|r| r.1 == "undo")
        .collect();
    assert_eq!(undos, vec![]);
}

#[test]
fn tail_loss_is_repaired_by_a_probe_not_the_timer() {
    let (r, ev) = run("tail-loss");
    same_bytes(&r);
    assert_eq!(rto_count(&ev, "client"), 0);
    let re = resent(&ev, "client");
    // The probe at PTO = 2·SRTT + 2 ms after the last ACK (0.6 s), then the
    // other lost segment, found by RACK from the probe's SACK.
    assert_eq!(re.len(), 2, "{re:?}");
    assert_eq!(
        (re[0].0, re[0].2.clone(), re[0].3),
        (0.802, some("tlp"), true)
    );
    assert_eq!(
        (re[1].0, re[1].2.clone(), re[1].3),
        (0.902, some("rack"), false)
    );
    assert!(re[1].1 < re[0].1, "the hole below the probe");
    assert_eq!(
        recoveries(&ev, "client"),
        vec![
            (0.802, "probe".into(), some("tlp")),
            (0.902, "enter".into(), some("rack")),
            (1.002, "exit".into(), None),
        ]
    );
    // With RACK-TLP off, the same loss waits for the timer.
    let mut sc = Scenario::builtin("tail-loss").unwrap();
    sc.client.rack = Some(false);
    let mut r = Run::new(sc, &Overrides::default());
    let ev = r.run_to_end();
    same_bytes(&r);
    assert_eq!(rto_count(&ev, "client"), 1);
    assert!(resent(&ev, "client").iter().all(|x| !x.3), "no probe");
}

#[test]
fn sack_recovery_repairs_three_holes_in_one_round_trip() {
    let (r, ev) = run("sack-recovery");
    same_bytes(&r);
    assert_eq!(rto_count(&ev, "client"), 0);
    let re = resent(&ev, "client");
    let times: Vec<f64> = re.iter().map(|x| x.0).collect();
    // The ACK that marks the first two holes lets one out (PRR adds its
    // extra segment only to an ACK that found no new loss, as Linux's
    // tcp_cwnd_reduction); the next ACK, 1 ms later, the second.
    assert_eq!(times, vec![0.605, 0.606, 0.608], "{re:?}");
    assert!(re.iter().all(|x| x.2 == some("rack")));
    let rec = recoveries(&ev, "client");
    assert_eq!(rec.first().unwrap().1, "enter");
    // Exit one round trip (100 ms) after the retransmissions.
    assert_eq!(rec.last().unwrap(), &(0.708, "exit".to_string(), None));
}

#[test]
fn lost_retransmission_is_found_by_rack_and_sent_a_third_time() {
    let (r, ev) = run("lost-retransmission");
    same_bytes(&r);
    assert_eq!(rto_count(&ev, "client"), 0);
    let re = resent(&ev, "client");
    assert_eq!(re.len(), 2, "{re:?}");
    assert_eq!(re[0].1, re[1].1, "the same segment twice");
    assert_eq!((re[0].0, re[0].2.clone()), (0.6, some("rack")));
    assert_eq!((re[1].0, re[1].2.clone()), (0.71, some("rack")));
    let acts: Vec<String> = recoveries(&ev, "client").into_iter().map(|x| x.1).collect();
    assert_eq!(acts, vec!["enter", "mark", "exit"]);
}

#[test]
fn spurious_rto_is_undone() {
    let (r, ev) = run("spurious-rto");
    same_bytes(&r);
    assert_eq!(
        recoveries(&ev, "client"),
        vec![
            (0.8, "enter".into(), some("rto")),
            (0.9, "undo".into(), None),
        ]
    );
    let undo = ev
        .iter()
        .find_map(|e| match &e.body {
            Body::Recovery(r) if r.action.name() == "undo" => Some(r.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(undo.how.as_deref(), Some("eifel"));
    // Back to the initial window (10 segments) and an infinite ssthresh.
    assert_eq!((undo.cwnd, undo.ssthresh), (14480, u32::MAX));
}

#[test]
fn cubic_keeps_seven_tenths_and_newreno_half_then_the_shapes_differ() {
    let (r, ev) = run("cubic-vs-newreno");
    assert_eq!(r.received(Side::Server).bytes, 12 << 20);
    assert_eq!(r.received(Side::Client).bytes, 12 << 20);
    // (cwnd just before the loss was found, ssthresh after).
    let enter = |host: &str| {
        let mut cwnd = 0;
        for e in ev.iter().filter(|e| e.host.as_deref() == Some(host)) {
            match &e.body {
                Body::Vars(v) => cwnd = v.cwnd,
                Body::Recovery(r) if r.action.name() == "enter" => return (cwnd, r.ssthresh),
                _ => {}
            }
        }
        panic!("no recovery on {host}");
    };
    let (cw, ss) = enter("client");
    assert_eq!(ss, (f64::from(cw) * 0.7) as u32, "CUBIC: β = 0.7");
    let (_, ss_reno) = enter("server");
    assert_eq!(ss_reno / 1448, 56, "NewReno: half the flight");
    // cwnd in segments at whole seconds: CUBIC flat near W_max around
    // t0 + K, NewReno one segment per 200 ms round trip all along.
    let cwnd_at = |host: &str, t: f64| {
        ev.iter()
            .rev()
            .filter(|e| e.host.as_deref() == Some(host) && e.t <= t)
            .find_map(|e| match &e.body {
                Body::Vars(v) => Some(v.cwnd / 1448),
                _ => None,
            })
            .unwrap()
    };
    let cubic: Vec<u32> = (3..=12).map(|s| cwnd_at("client", f64::from(s))).collect();
    let reno: Vec<u32> = (3..=12).map(|s| cwnd_at("server", f64::from(s))).collect();
    // Concave, then flat around W_max = 112, then convex.
    assert!(cubic[1] - cubic[0] > cubic[3] - cubic[2], "{cubic:?}");
    assert!((108..=114).contains(&cubic[3]), "{cubic:?}");
    assert!(cubic[9] - cubic[8] > cubic[5] - cubic[4], "{cubic:?}");
    // NewReno: about one segment per round trip, five a second (byte
    // counting rounds some seconds to four).
    for w in reno.windows(2) {
        assert!((4..=5).contains(&(w[1] - w[0])), "{reno:?}");
    }
}

#[test]
fn bulk_with_loss_finishes_in_seconds_and_says_what_repaired_each_loss() {
    let (r, ev) = run("bulk-with-loss");
    same_bytes(&r);
    let done = ev
        .iter()
        .find_map(|e| match &e.body {
            Body::App { msg, .. } if msg.contains("end of stream") => Some(e.t),
            _ => None,
        })
        .unwrap();
    assert!(done < 10.0, "1 MiB at 10 % loss took {done} s");
    // Every retransmission names what sent it (a probe of new data is no
    // retransmission).
    let re = resent(&ev, "client");
    assert!(re.len() > 30);
    assert!(re.iter().all(|x| x.2.is_some() || x.3), "{re:?}");
    let rack = re.iter().filter(|x| x.2 == some("rack")).count();
    let rto = re.iter().filter(|x| x.2 == some("rto")).count();
    assert!(rack > 5 * rto, "RACK repairs most losses: {rack} vs {rto}");
}

/// bulk-with-loss's narrations tell a story its `seed` (the loss pattern)
/// keeps true: tail loss probes of new data, then one RTO, undone as
/// spurious (Eifel) by the very next ACK, a round trip later, with nothing
/// between them; after it, only probes and RACK.
#[test]
fn bulk_with_loss_times_out_once_for_nothing_and_undoes_it() {
    let (_, ev) = run("bulk-with-loss");
    let client: Vec<(usize, f64, &tcpscope::event::RecoveryEvent)> = ev
        .iter()
        .enumerate()
        .filter(|(_, e)| e.host.as_deref() == Some("client"))
        .filter_map(|(i, e)| match &e.body {
            Body::Recovery(r) => Some((i, e.t, r)),
            _ => None,
        })
        .collect();
    // P a tail loss probe, T the timeout, U an undo; RACK's episodes aside.
    let story: String = client
        .iter()
        .filter(|(_, _, r)| !matches!(r.action.name(), "mark" | "exit"))
        .filter(|(_, _, r)| r.by.map(|b| b.name()) != Some("rack"))
        .map(
            |(_, _, r)| match (r.action.name(), r.by.map(|b| b.name())) {
                ("probe", Some("tlp")) => 'P',
                ("enter", Some("rto")) => 'T',
                ("undo", None) => 'U',
                _ => '?',
            },
        )
        .collect();
    let (before, after) = story.split_once("TU").expect(&story);
    assert!(!before.is_empty(), "{story}");
    assert!(
        before.chars().chain(after.chars()).all(|c| c == 'P'),
        "{story}"
    );
    // The undo is the recovery event right after the timeout, one round
    // trip (2 × 10 ms) later.
    let k = client
        .iter()
        .position(|(_, _, r)| r.by.map(|b| b.name()) == Some("rto"))
        .unwrap();
    let ((at_rto, t_rto, rto), (_, t_undo, undo)) = (client[k], client[k + 1]);
    assert_eq!(undo.action.name(), "undo");
    assert!(close_to(t_undo - t_rto, 0.020), "{t_rto} {t_undo}");
    // The RTO: one segment of window, the outstanding data marked lost.
    assert_eq!(rto.cwnd, 1448);
    assert!(!rto.ranges.is_empty());
    // The undo: the ACK echoed the original transmission's timestamp, and
    // the window of just before the timeout is back.
    let before_rto = ev[..at_rto]
        .iter()
        .rev()
        .find_map(|e| match &e.body {
            Body::Vars(v) if e.host.as_deref() == Some("client") => Some((v.cwnd, v.ssthresh)),
            _ => None,
        })
        .unwrap();
    assert_eq!(undo.how.as_deref(), Some("eifel"));
    assert_eq!((undo.cwnd, undo.ssthresh), before_rto);
    // The first probe carried new data ("new data here").
    assert_eq!(resent(&ev, "client").iter().find(|x| x.3).unwrap().2, None);
    // The narrations of the probe, the timeout and the undo fire at those
    // moments, in the file's order.
    let said: Vec<f64> = ev
        .iter()
        .filter(|e| e.kind() == "narration")
        .map(|e| e.t)
        .collect();
    assert_eq!(said.len(), 7);
    let t_probe = client
        .iter()
        .find(|(_, _, r)| r.action.name() == "probe")
        .unwrap()
        .1;
    assert!(close_to(said[3], t_probe), "{said:?}");
    assert!(
        close_to(said[4], t_rto) && close_to(said[5], t_undo),
        "{said:?}"
    );
}

#[test]
fn arriving_duplicate_acks_are_numbered_by_the_engine() {
    let (_, ev) = run("lost-data");
    let arrivals = |host: &str| -> Vec<(u32, Option<u32>)> {
        ev.iter()
            .filter(|e| e.host.as_deref() == Some(host))
            .filter_map(|e| e.segment())
            .filter(|s| s.dir == Dir::In)
            .map(|s| (s.seg.ack, s.dup_ack))
            .collect()
    };
    let client = arrivals("client");
    let first = client.iter().position(|(_, d)| d.is_some()).unwrap();
    // The ACK before the run acknowledged the same byte first: not a
    // duplicate. Then 1, 2, 3, … in a row.
    assert_eq!(client[first - 1], (client[first].0, None));
    let run: Vec<u32> = client[first..].iter().map_while(|(_, d)| *d).collect();
    assert!(run.len() >= 3, "{run:?}");
    assert_eq!(run, (1..=run.len() as u32).collect::<Vec<_>>());
    // The receiver of the data had nothing outstanding: no duplicates.
    assert!(arrivals("server").iter().all(|(_, d)| d.is_none()));
}

/// (t, conn) of a host's state events entering `to`.
fn entered(ev: &[Event], host: &str, to: State) -> Vec<(f64, String)> {
    ev.iter()
        .filter(|e| e.host.as_deref() == Some(host))
        .filter_map(|e| match &e.body {
            Body::State { to: t, .. } if *t == to => {
                Some((e.t, e.conn.as_deref().unwrap_or("").to_string()))
            }
            _ => None,
        })
        .collect()
}

fn close_to(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn http_keepalive_one_long_connection_against_three_short_ones() {
    let (_, ev) = run("http-keepalive");
    // Part 1 ends at 60 s (the long connection's TIME-WAIT is over), part 2
    // starts at 70 s.
    let split = 65.0;
    let syns: Vec<f64> = segs(&ev, "client", Dir::Out)
        .into_iter()
        .filter(|s| s.1 == Flags::SYN)
        .map(|s| s.0)
        .collect();
    assert_eq!(
        syns,
        vec![0.1, 70.0, 71.0, 72.0],
        "one handshake, then three"
    );
    assert!(segs(&ev, "client", Dir::Out).iter().all(|s| !s.5));
    // Requests and responses: three on one connection, then one on each of
    // three.
    let data = |host: &str| -> Vec<(f64, u32)> {
        segs(&ev, host, Dir::Out)
            .into_iter()
            .filter(|s| s.4 > 0)
            .map(|s| (s.0, s.4))
            .collect()
    };
    let conns_of_requests: Vec<String> = ev
        .iter()
        .filter(|e| e.host.as_deref() == Some("client"))
        .filter(|e| {
            e.segment()
                .is_some_and(|s| s.dir == Dir::Out && s.seg.len > 0)
        })
        .map(|e| e.conn.as_deref().unwrap().to_string())
        .collect();
    assert_eq!(conns_of_requests.len(), 6);
    assert!(
        conns_of_requests[..3]
            .iter()
            .all(|c| *c == conns_of_requests[0])
    );
    let mut short = conns_of_requests[3..].to_vec();
    short.dedup();
    assert_eq!(short.len(), 3, "a connection per request: {short:?}");
    assert!(!short.contains(&conns_of_requests[0]));
    let req = |t: f64, len: u32| (t, len);
    assert_eq!(
        data("client"),
        vec![
            req(0.5, 31),
            req(1.5, 31),
            req(2.5, 31),
            req(70.2, 50),
            req(71.2, 50),
            req(72.2, 50)
        ]
    );
    assert_eq!(
        data("server"),
        vec![
            req(0.6, 45),
            req(1.6, 45),
            req(2.6, 45),
            req(70.3, 64),
            req(71.3, 64),
            req(72.3, 64)
        ]
    );
    // TCP keepalive on the idle long connection: 20 s after the last
    // segment the client heard (the third response, 2.61 s), answered, and
    // again 20 s after the answer; nothing more before the server closes.
    let p = probes(&ev, "client");
    let want = [
        (22.61, KeepaliveAction::ProbeSent, 1, 5),
        (22.63, KeepaliveAction::Answered, 1, 5),
        (42.63, KeepaliveAction::ProbeSent, 1, 5),
        (42.65, KeepaliveAction::Answered, 1, 5),
    ];
    assert_eq!(p.len(), want.len(), "{p:?}");
    for (got, want) in p.iter().zip(&want) {
        assert!(
            close_to(got.0, want.0) && (got.1, got.2, got.3) == (want.1, want.2, want.3),
            "{got:?} vs {want:?}"
        );
    }
    // A probe is an empty ACK with seq = SND.NXT − 1, answered by an ACK.
    let probe_segs: Vec<_> = segs(&ev, "client", Dir::Out)
        .into_iter()
        .filter(|s| close_to(s.0, 22.61) || close_to(s.0, 42.63))
        .collect();
    assert_eq!(probe_segs.len(), 2);
    let last_ack = segs(&ev, "client", Dir::Out)
        .into_iter()
        .rfind(|s| s.0 < 3.0)
        .unwrap();
    for s in &probe_segs {
        assert_eq!((s.1, s.4), (Flags::ACK, 0));
        assert_eq!(s.2, last_ack.2.wrapping_sub(1));
    }
    assert!(
        probes(&ev, "server").is_empty(),
        "keepalive is the client's"
    );
    // TIME-WAIT: always on the server (it closes first), once for the long
    // connection, once per short connection, each 2 MSL = 10 s.
    let tw = entered(&ev, "server", TimeWait);
    let tw_t: Vec<f64> = tw.iter().map(|x| x.0).collect();
    assert_eq!(tw_t, vec![50.02, 70.32, 71.32, 72.32]);
    assert_eq!(tw.iter().filter(|x| x.0 < split).count(), 1);
    assert_eq!(tw.iter().filter(|x| x.0 > split).count(), 3);
    assert!(entered(&ev, "client", TimeWait).is_empty());
    let armed = timer_events(&ev, "server", TimerKind::TimeWait, TimerAction::Armed);
    assert_eq!(armed.len(), 4);
    for (t0, deadline) in &armed {
        assert!(close_to(deadline.unwrap() - t0, 10.0), "2 MSL = 10 s");
    }
    let freed: Vec<f64> = freed_at(&ev, "server");
    assert_eq!(freed, vec![60.02, 80.32, 81.32, 82.32]);
    // The server's state sequence per short connection: active close.
    for (_, conn) in &tw[1..] {
        let s: Vec<(State, State)> = ev
            .iter()
            .filter(|e| e.host.as_deref() == Some("server") && e.conn.as_deref() == Some(conn))
            .filter_map(|e| match &e.body {
                Body::State { from, to, .. } => Some((*from, *to)),
                _ => None,
            })
            .collect();
        assert_eq!(
            s,
            vec![
                (Listen, SynReceived),
                (SynReceived, Established),
                (Established, FinWait1),
                (FinWait1, FinWait2),
                (FinWait2, TimeWait),
                (TimeWait, Closed)
            ],
            "{conn}"
        );
    }
}

/// (t, host, conn, msg) of every "read end of stream" line.
fn ends_of_stream(ev: &[Event]) -> Vec<(f64, String, String, String)> {
    ev.iter()
        .filter_map(|e| match &e.body {
            Body::App { msg, .. } if msg.contains("read end of stream") => Some((
                e.t,
                e.host.as_deref().unwrap_or("").to_string(),
                e.conn.as_deref().unwrap_or("").to_string(),
                msg.clone(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn end_of_stream_counts_the_bytes_of_its_own_connection() {
    // Four connections from one client: three responses of 45 bytes on
    // the first, one of 64 on each of the others. Each end-of-stream line
    // counts its connection's bytes; the host's total stays the sum.
    let (r, ev) = run("http-keepalive");
    let line = |t: f64, port: u16, n: u64| {
        (
            t,
            "client".to_string(),
            format!("10.0.0.1:{port}<->10.0.0.2:80"),
            format!("client: read end of stream ({n} bytes received in all)"),
        )
    };
    assert_eq!(
        ends_of_stream(&ev),
        vec![
            line(50.01, 63359, 135),
            line(70.31, 50142, 64),
            line(71.31, 54618, 64),
            line(72.31, 56495, 64),
        ]
    );
    assert_eq!(r.received(Side::Client).bytes, 135 + 3 * 64);
}

#[test]
fn the_tours_empty_connection_says_it_carried_no_bytes() {
    // Chapter 4's connection carries no data; before, its line added up
    // the 40 bytes the server had read on chapter 3's connection.
    let (_, ev) = run("tour");
    let server: Vec<(f64, String)> = ends_of_stream(&ev)
        .into_iter()
        .filter(|l| l.1 == "server")
        .map(|l| (l.0, l.3))
        .collect();
    assert_eq!(
        server,
        vec![
            (
                3.01,
                "server: read end of stream (40 bytes received in all)".to_string()
            ),
            (
                21.01,
                "server: read end of stream (0 bytes received in all)".to_string()
            ),
            (
                75.01,
                "server: read end of stream (57 bytes received in all)".to_string()
            ),
        ]
    );
}

/// A scenario file may give its hosts IPv6 addresses: the same exchange,
/// the connections named with bracketed addresses, MSS 1500 − 60.
#[test]
fn a_scenario_file_with_ipv6_hosts() {
    let text = r#"
name = "v6"
title = "IPv6 handshake and close"
duration = 10.0

[client]
addr = "fd00::1"

[server]
app = "echo"

[[step]]
at = 0.0
host = "server"
do = "listen"
port = 80

[[step]]
at = 0.5
host = "client"
do = "connect"
port = 80
from_port = 40000

[[step]]
at = 1.0
host = "client"
do = "send"
text = "hi"

[[step]]
at = 2.0
host = "client"
do = "close"
"#;
    let sc = Scenario::parse("v6.toml", text).unwrap();
    let mut r = Run::new(sc, &Overrides::default());
    let ev = r.run_to_end();
    let conn = "[fd00::1]:40000<->[fd00::2]:80";
    assert_eq!(
        states(&ev, "client")
            .into_iter()
            .filter(|(_, to)| *to == Established || *to == TimeWait)
            .count(),
        2
    );
    let syn = ev
        .iter()
        .filter(|e| e.conn.as_deref() == Some(conn))
        .find_map(|e| e.segment())
        .expect("the client's SYN");
    assert_eq!(syn.seg.flags, Flags::SYN);
    assert!(syn.seg.opts.0.mss == Some(1440), "{:?}", syn.seg.opts);
    // Mixed families are one sentence.
    let mixed = text.replace("[server]", "[server]\naddr = \"10.0.0.2\"");
    assert_eq!(
        Scenario::parse("v6.toml", &mixed).unwrap_err(),
        "v6.toml:7: the client's address fd00::1 and the server's 10.0.0.2 are of different families: give both IPv4 or both IPv6 addresses"
    );
}

// ----- what the scenarios say ---------------------------------------------

/// Every text of a built-in scenario that a user sees: (scenario, where, text).
fn visible_texts() -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    for (name, _) in BUILTIN {
        let sc = Scenario::builtin(name).unwrap();
        let mut push = |place: String, text: &str| out.push((*name, place, text.to_string()));
        push("title".into(), &sc.title);
        if let Some(t) = &sc.title_zh {
            push("title_zh".into(), t);
        }
        if let Some(a) = &sc.about {
            push("about".into(), a);
        }
        for (i, n) in sc.narrations.iter().enumerate() {
            push(format!("narration {} en", i + 1), &n.en);
            push(format!("narration {} zh", i + 1), &n.zh);
            for (lang, c) in [("en", &n.chapter), ("zh", &n.chapter_zh)] {
                if let Some(c) = c {
                    push(format!("narration {} chapter {lang}", i + 1), c);
                }
            }
        }
        for (i, st) in sc.steps.iter().enumerate() {
            if let Op::Note { text: Some(t) } = &st.op {
                push(format!("step {} note", i + 1), t);
            }
        }
    }
    out
}

/// Sentences, roughly: what lies between `. `, `; `, `。` and `；`.
fn sentences(text: &str) -> Vec<String> {
    let flat = text.replace('\n', " ");
    flat.split(". ")
        .flat_map(|s| s.split("; "))
        .flat_map(|s| s.split('。'))
        .flat_map(|s| s.split('；'))
        .map(str::to_string)
        .collect()
}

/// The scenarios speak of TCP, never of where their material came from.
#[test]
fn builtin_scenarios_never_speak_of_their_sources() {
    const EN: [&str; 6] = [
        "article",
        "course material",
        "the course",
        "textbook",
        "lecture",
        "the lesson's source",
    ];
    const ZH: [&str; 6] = ["文章", "课程", "教材", "课件", "原文", "讲义"];
    let mut found = Vec::new();
    for (name, place, text) in visible_texts() {
        let lower = text.to_lowercase();
        for w in EN.iter().chain(ZH.iter()) {
            if lower.contains(w) {
                found.push(format!("{name} {place}: \"{w}\" in {text}"));
            }
        }
        // `seed` as a word (the `--seed` flag may be named).
        for (i, _) in lower.match_indices("seed") {
            let before = &lower[..i];
            let word_start = !before.ends_with(|c: char| c.is_alphanumeric() || c == '-');
            if word_start {
                found.push(format!("{name} {place}: \"seed\" in {text}"));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// Statements once made and corrected: they must not come back.
#[test]
fn builtin_scenarios_do_not_repeat_corrected_mistakes() {
    // (wrong phrase, lower case; why it is wrong)
    const WRONG: [(&str, &str); 16] = [
        ("rfc's values", "RFC 1122 gives only the 2 h minimum"),
        ("rfc's 2 h", "RFC 1122 gives only the 2 h minimum"),
        ("rfc 的参数", "RFC 1122 gives only the 2 h minimum"),
        ("buffer is now empty", "PSH asks for prompt delivery"),
        ("sender's buffer", "PSH asks for prompt delivery"),
        ("缓冲区已清空", "PSH asks for prompt delivery"),
        (
            "what both offered is in force",
            "each side announces its own MSS",
        ),
        ("parameters negotiated", "each side announces its own MSS"),
        ("agree on mss", "each side announces its own MSS"),
        ("协商 mss", "each side announces its own MSS"),
        ("参数协商完成", "each side announces its own MSS"),
        ("双方都支持的才生效", "each side announces its own MSS"),
        (
            "socket is closed",
            "the application closed it before TIME-WAIT",
        ),
        ("套接字关闭", "the application closed it before TIME-WAIT"),
        (
            "avoid closing first",
            "servers do close first (http-keepalive)",
        ),
        ("避免主动关闭", "servers do close first (http-keepalive)"),
    ];
    let mut found = Vec::new();
    for (name, place, text) in visible_texts() {
        let lower = text.to_lowercase();
        for (w, why) in WRONG {
            if lower.contains(w) {
                found.push(format!("{name} {place}: \"{w}\" ({why}) in {text}"));
            }
        }
        // 75 s between probes and the probe count are implementations'
        // values; RFC 1122 §4.2.3.6 sets neither.
        for s in sentences(&text) {
            if s.contains("RFC")
                && [
                    "75 s",
                    "75 秒",
                    "10 probes",
                    "10 次",
                    "9 probes",
                    "8 probes",
                ]
                .iter()
                .any(|v| s.contains(v))
            {
                found.push(format!(
                    "{name} {place}: keepalive values given as the RFC's: {s}"
                ));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));

    // Where the values are given, who sets what is said.
    let about = Scenario::builtin("keepalive-dead-peer")
        .unwrap()
        .about
        .unwrap()
        .replace('\n', " ");
    for needle in [
        "off by default",
        "at least 2 hours",
        "Linux",
        "BSD",
        "Windows",
    ] {
        assert!(about.contains(needle), "{needle}: {about}");
    }
    let tour = Scenario::builtin("tour").unwrap();
    let ch9 = tour
        .narrations
        .iter()
        .find(|n| n.en.starts_with("Chapter 9,"))
        .unwrap();
    for needle in [
        "off by default",
        "at least 2 hours",
        "implementations' values",
    ] {
        assert!(ch9.en.contains(needle), "{needle}: {}", ch9.en);
    }
    for needle in ["默认关闭", "至少 2 小时", "各实现"] {
        assert!(ch9.zh.contains(needle), "{needle}: {}", ch9.zh);
    }
    // http-keepalive shows the server closing first: its narration says so,
    // and that the server therefore pays TIME-WAIT.
    let hk = Scenario::builtin("http-keepalive").unwrap();
    let fin = hk
        .narrations
        .iter()
        .find(|n| n.on.to.as_deref() == Some("FIN-WAIT-1") && n.on.nth.is_none())
        .unwrap();
    assert!(fin.en.contains("the server closes first"), "{}", fin.en);
    assert!(fin.en.contains("pay TIME-WAIT"), "{}", fin.en);
    assert!(fin.zh.contains("服务器先关闭"), "{}", fin.zh);
    assert!(fin.zh.contains("承担 TIME-WAIT"), "{}", fin.zh);
}

/// Every built-in narration is translated: none says the English text in
/// place of the Chinese.
#[test]
fn builtin_narrations_have_their_chinese_text() {
    for (name, _) in BUILTIN {
        for n in Scenario::builtin(name).unwrap().narrations {
            assert!(!n.zh.starts_with(ZH_FALLBACK_MARK), "{name}: {}", n.en);
        }
    }
}

// ----- the tour's chapters ---------------------------------------------------

#[test]
fn the_tour_has_ten_chapters_in_order() {
    let sc = Scenario::builtin("tour").unwrap();
    let begins: Vec<usize> = (0..sc.narrations.len())
        .filter(|&i| sc.narrations[i].chapter.is_some())
        .collect();
    let titles = |lang| -> Vec<&str> {
        begins
            .iter()
            .map(|&i| sc.narrations[i].chapter(lang).unwrap())
            .collect()
    };
    assert_eq!(
        titles(Lang::En),
        vec![
            "1. The three-way handshake",
            "2. Data",
            "3. The four-way close, half-close and TIME-WAIT",
            "4. Why 2 MSL: a lost last ACK",
            "5. The server closes first",
            "6. A long connection: HTTP keep-alive and TCP keepalive",
            "7. Loss and retransmission with back-off",
            "8. Simultaneous open and close",
            "9. Keepalive on a dead peer",
            "10. Keepalive on a rebooted peer",
        ]
    );
    assert_eq!(
        titles(Lang::Zh),
        vec![
            "1. 三次握手",
            "2. 数据传输",
            "3. 四次挥手、半关闭与 TIME-WAIT",
            "4. 为什么等待 2MSL：最后的 ACK 丢失",
            "5. 服务器先关闭",
            "6. 长连接：HTTP keep-alive 与 TCP 保活",
            "7. 丢包与退避重传",
            "8. 同时打开与同时关闭",
            "9. 保活：对端宕机",
            "10. 保活：对端重启",
        ]
    );
    // Each chapter begins with the first narration that fires at or after
    // the chapter's first step (the `at` after each `# ---- Chapter N`
    // comment of tour.toml), in English and in Chinese.
    let text = BUILTIN.iter().find(|(n, _)| *n == "tour").unwrap().1;
    let mut starts = Vec::new();
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if l.starts_with("# ---- Chapter") {
            let at = lines.find_map(|l| l.strip_prefix("at = ")).unwrap();
            starts.push(at.parse::<f64>().unwrap());
        }
    }
    assert_eq!(
        starts,
        vec![0.0, 1.5, 3.0, 20.0, 40.0, 60.0, 100.0, 120.0, 140.0, 8200.0]
    );
    for lang in [Lang::En, Lang::Zh] {
        let ov = Overrides {
            lang: Some(lang),
            ..Default::default()
        };
        let (_, ev) = run_with("tour", ov);
        let fired: Vec<(f64, &str)> = ev
            .iter()
            .filter_map(|e| match &e.body {
                Body::Narration { text, .. } => Some((e.t, text.as_str())),
                _ => None,
            })
            .collect();
        for (k, (&start, &i)) in starts.iter().zip(&begins).enumerate() {
            let first = fired.iter().find(|(t, _)| *t >= start).unwrap();
            assert_eq!(
                first.1,
                sc.narrations[i].text(lang),
                "chapter {} ({lang:?}) begins at {start} s",
                k + 1
            );
        }
    }
}

// ----- scenario files: seed ------------------------------------------------

/// A scenario's `seed` is both hosts' Config::seed and so the injector's:
/// the run is the one `--seed` with that value gives, and `--seed` wins.
#[test]
fn a_scenario_seed_seeds_both_hosts_and_the_loss_and_the_flag_wins() {
    use tcpscope::settings::demo_host;
    let sc = Scenario::builtin("bulk-with-loss").unwrap();
    assert_eq!(sc.seed, Some(29));
    let none = Overrides::default();
    assert_eq!(demo_host(&sc, &sc.client, &none).seed, 29);
    assert_eq!(demo_host(&sc, &sc.server, &none).seed, 29);
    let flag = Overrides {
        seed: Some(5),
        ..Default::default()
    };
    assert_eq!(demo_host(&sc, &sc.client, &flag).seed, 5);
    assert_eq!(demo_host(&sc, &sc.server, &flag).seed, 5);
    let events = |sc: Scenario, ov: &Overrides| -> Vec<Event> {
        let mut r = Run::new(sc, ov);
        r.run_to_end()
    };
    let own = events(sc.clone(), &none);
    let mut unseeded = sc.clone();
    unseeded.seed = None;
    let by_flag = events(
        unseeded.clone(),
        &Overrides {
            seed: Some(29),
            ..Default::default()
        },
    );
    assert!(own == by_flag, "the same run as --seed 29");
    let drops = |ev: &[Event]| -> Vec<f64> {
        ev.iter()
            .filter(|e| e.kind() == "drop")
            .map(|e| e.t)
            .collect()
    };
    assert_ne!(drops(&own), drops(&events(unseeded, &none)));
}

#[test]
fn a_seed_that_is_no_whole_number_is_refused() {
    let file = |v: &str| {
        format!(
            "name = \"n\"\ntitle = \"n\"\nseed = {v}\n\n[[step]]\nat = 0.0\nhost = \"server\"\ndo = \"listen\"\nport = 80\n"
        )
    };
    for (v, shown) in [("-1", "-1"), ("\"x\"", "\"x\""), ("1.5", "1.5")] {
        assert_eq!(
            Scenario::parse("n.toml", &file(v)).unwrap_err(),
            format!("n.toml:3:8: seed must be a whole number, 0 or more, not {shown}")
        );
    }
    assert_eq!(Scenario::parse("n.toml", &file("0")).unwrap().seed, Some(0));
    let no_seed = file("1").replace("seed = 1\n", "");
    assert_eq!(Scenario::parse("n.toml", &no_seed).unwrap().seed, None);
}

// ----- scenario files: narration fields ----------------------------------------

/// A scenario file with one narration whose `on` table is `on`, and `more`
/// lines after `en`.
fn with_narration(on: &str, more: &str) -> String {
    format!(
        "name = \"n\"\ntitle = \"n\"\n\n[[step]]\nat = 0.0\nhost = \"server\"\ndo = \"listen\"\nport = 80\n\n[[narration]]\non = {{ {on} }}\nen = \"The server listens.\"\n{more}"
    )
}

fn narration_error(on: &str) -> String {
    Scenario::parse("n.toml", &with_narration(on, "")).unwrap_err()
}

#[test]
fn a_narration_without_chinese_says_the_english_text_marked() {
    let text = with_narration("host = \"server\", kind = \"state\", to = \"LISTEN\"", "");
    let sc = Scenario::parse("n.toml", &text).unwrap();
    assert_eq!(sc.narrations[0].zh, "（英文）The server listens.");
    assert_eq!(sc.narrations[0].text(Lang::En), "The server listens.");
    let ov = Overrides {
        lang: Some(Lang::Zh),
        ..Default::default()
    };
    let mut r = Run::new(sc, &ov);
    let said: Vec<String> = r
        .run_to_end()
        .into_iter()
        .filter_map(|e| match e.body {
            Body::Narration { lang, text, .. } => Some(format!("{lang}: {text}")),
            _ => None,
        })
        .collect();
    assert_eq!(said, vec!["zh: （英文）The server listens."]);
    // A Chinese text given is kept.
    let text = with_narration("kind = \"state\"", "zh = \"服务器监听。\"\n");
    let sc = Scenario::parse("n.toml", &text).unwrap();
    assert_eq!(sc.narrations[0].text(Lang::Zh), "服务器监听。");
}

#[test]
fn a_chapter_title_in_chinese_falls_back_to_english() {
    let sc = Scenario::parse(
        "n.toml",
        &with_narration("kind = \"state\"", "chapter = \"1. Listening\"\n"),
    )
    .unwrap();
    let n = &sc.narrations[0];
    assert_eq!(n.chapter(Lang::En), Some("1. Listening"));
    assert_eq!(n.chapter(Lang::Zh), Some("1. Listening"));
    let sc = Scenario::parse(
        "n.toml",
        &with_narration(
            "kind = \"state\"",
            "chapter = \"1. Listening\"\nchapter_zh = \"1. 监听\"\n",
        ),
    )
    .unwrap();
    assert_eq!(sc.narrations[0].chapter(Lang::Zh), Some("1. 监听"));
    let sc = Scenario::parse("n.toml", &with_narration("kind = \"state\"", "")).unwrap();
    assert_eq!(sc.narrations[0].chapter(Lang::En), None);
    assert_eq!(sc.narrations[0].chapter(Lang::Zh), None);
    assert_eq!(
        Scenario::parse(
            "n.toml",
            &with_narration("kind = \"state\"", "chapter_zh = \"1. 监听\"\n")
        )
        .unwrap_err(),
        "n.toml:13: narration field `chapter_zh` needs `chapter` as well (the title in English)"
    );
}

#[test]
fn an_unknown_event_kind_is_an_error_that_names_the_kinds() {
    const KINDS: &str = "segment, drop, hold, release, fault, rule, state, timer, keepalive, rtt, tcb, abort, app, negotiated, vars, recovery, limit, info or speed";
    assert_eq!(
        narration_error("kind = \"segmnet\""),
        format!(
            "n.toml:11: narration field `kind`: \"segmnet\" is not an event kind (did you mean \"segment\"?): {KINDS}"
        )
    );
    // Nothing near: no guess.
    assert_eq!(
        narration_error("kind = \"xyzzy\""),
        format!("n.toml:11: narration field `kind`: \"xyzzy\" is not an event kind: {KINDS}")
    );
    // The line is the field's, also in a `[narration.on]` table.
    let text = "name = \"n\"\ntitle = \"n\"\n\n[[narration]]\nen = \"x\"\nzh = \"x\"\n[narration.on]\nhost = \"server\"\nkind = \"Timer\"\n";
    assert_eq!(
        Scenario::parse("n.toml", text).unwrap_err(),
        format!(
            "n.toml:9: narration field `kind`: \"Timer\" is not an event kind (did you mean \"timer\"?): {KINDS}"
        )
    );
}

#[test]
fn narration_fields_with_a_closed_set_of_values_are_checked() {
    let cases = [
        (
            "kind = \"segment\", dir = \"ot\"",
            "n.toml:11: narration field `dir`: \"ot\" is not a direction (did you mean \"out\"?): in or out",
        ),
        (
            "kind = \"timer\", timer = \"time-wait\"",
            "n.toml:11: narration field `timer`: \"time-wait\" is not a timer (did you mean \"time_wait\"?): retransmit, delayed_ack, persist, keepalive, time_wait, fin_wait_2, connect, reorder or tlp",
        ),
        (
            "kind = \"timer\", action = \"fird\"",
            "n.toml:11: narration field `action`: \"fird\" is not an action of timer events (did you mean \"fired\"?): armed, cancelled or fired",
        ),
        (
            "kind = \"keepalive\", action = \"fired\"",
            "n.toml:11: narration field `action`: \"fired\" is not an action of keepalive events: enabled, disabled, probe_sent, answered or dead",
        ),
        (
            "action = \"probe_snt\"",
            "n.toml:11: narration field `action`: \"probe_snt\" is not an event action (did you mean \"probe_sent\"?): armed, cancelled, fired, enabled, disabled, probe_sent, answered, dead, allocated, freed, delay, duplicate, corrupt, reorder, enter, mark, exit, undo, probe, reduce or slow_start_exit",
        ),
        (
            "kind = \"abort\", reason = \"reset\"",
            "n.toml:11: narration field `reason`: \"reset\" is not a reason of abort events (did you mean \"reset_received\"?): user, reset_received, retransmit_timeout, keepalive_timeout, connect_timeout, fin_wait_2_timeout, reopened or data_after_close",
        ),
        (
            "kind = \"drop\", reason = \"injectd\"",
            "n.toml:11: narration field `reason`: \"injectd\" is not a reason of drop events (did you mean \"injected\"?): injected, loss, checksum, malformed, bad_option, not_ipv4_tcp, not_ipv6_tcp, fragment or not_for_us",
        ),
        (
            "kind = \"state\", to = \"listen\"",
            "n.toml:11: narration field `to`: \"listen\" is not a state (did you mean \"LISTEN\"?): CLOSED, LISTEN, SYN-SENT, SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, CLOSING, LAST-ACK or TIME-WAIT",
        ),
        (
            "from = \"FIN_WAIT_2\"",
            "n.toml:11: narration field `from`: \"FIN_WAIT_2\" is not a state (did you mean \"FIN-WAIT-2\"?): CLOSED, LISTEN, SYN-SENT, SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, CLOSING, LAST-ACK or TIME-WAIT",
        ),
        (
            "kind = \"recovery\", by = \"dupacks\"",
            "n.toml:11: narration field `by`: \"dupacks\" is not a cause of retransmission (did you mean \"dupack\"?): dupack, rack, tlp, rto, rescue, persist or syn",
        ),
        (
            "flags = \"SX\"",
            "n.toml:11: narration field `flags`: unknown flag letter 'X' in \"SX\" (use S A F R P U E C)",
        ),
        ("nth = 0", "n.toml:11: narration field `nth` counts from 1"),
        // Fields the kind does not carry would never match.
        (
            "kind = \"state\", timer = \"retransmit\"",
            "n.toml:11: narration field `timer` never matches a state event: it is read from timer events only",
        ),
        (
            "kind = \"fault\", action = \"delay\", dir = \"out\"",
            "n.toml:11: narration field `dir` never matches a fault event: it is read from segment, drop, hold or release events only",
        ),
        (
            "kind = \"rule\", action = \"added\"",
            "n.toml:11: narration field `action` never matches a rule event: it is read from timer, keepalive, tcb, fault or recovery events only",
        ),
        (
            "kind = \"info\", win = 0",
            "n.toml:11: narration field `win` never matches an info event: it is read from segment events only",
        ),
    ];
    for (on, err) in cases {
        assert_eq!(narration_error(on), err, "on = {{ {on} }}");
    }
    // The line of the field, when `on` spans lines.
    let text = with_narration("kind = \"segment\",\n  dir = \"sideways\"", "");
    assert_eq!(
        Scenario::parse("n.toml", &text).unwrap_err(),
        "n.toml:12: narration field `dir`: \"sideways\" is not a direction: in or out"
    );
}
