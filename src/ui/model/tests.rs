//! The model fed with events from the real engine (a scenario run to a
//! fixed virtual time), and with hand-made odd events.

use super::*;
use crate::event::{AbortReason, DropReason, TimerAction, TimerKind};
use crate::fault::{Action, DirMatch, Rule};
use crate::scenario::{Overrides, Run, Scenario};
use crate::tcp::State;
use crate::time::Instant;
use crate::wire::Flags;

fn run_until(sc: Scenario, ov: Overrides, t: f64) -> Vec<Event> {
    let mut run = Run::new(sc, &ov);
    run.advance(Instant::from_secs_f64(t));
    run.take_events()
}

fn builtin(name: &str, ov: Overrides, t: f64) -> Vec<Event> {
    run_until(Scenario::builtin(name).expect("built in"), ov, t)
}

fn model_of(events: Vec<Event>) -> Model {
    let mut m = Model::new(true);
    m.ingest_all(events);
    m
}

/// The one non-listener row.
fn conn(m: &Model) -> &Conn {
    let rows: Vec<&Conn> = m.conns().filter(|c| !c.listener).collect();
    assert_eq!(rows.len(), 1, "one connection expected");
    rows[0]
}

fn arrows(c: &Conn) -> Vec<&Arrow> {
    c.ladder.iter().filter_map(|e| e.arrow()).collect()
}

pub const KEEPALIVE_DEAD: &str = r#"
name = "keepalive-dead"
title = "Keepalive on a dead peer"
[client]
keepalive = [10.0, 2.0, 3]
[[step]]
at = 0.0
host = "server"
do = "listen"
port = 80
[[step]]
at = 0.1
host = "client"
do = "connect"
port = 80
[[step]]
at = 1.0
host = "server"
do = "silent"
"#;

#[test]
fn handshake_pairs_both_views_into_one_row() {
    let m = model_of(builtin("handshake", Overrides::default(), 5.0));
    let listener = m.conns().find(|c| c.listener).expect("listener row");
    assert_eq!(listener.side(1).and_then(|s| s.state), Some(State::Listen));
    let c = conn(&m);
    assert_eq!(c.side(0).unwrap().host.as_ref(), "client");
    assert_eq!(c.side(1).unwrap().host.as_ref(), "server");
    assert_eq!(c.side(0).unwrap().state, Some(State::Established));
    assert_eq!(c.side(1).unwrap().state, Some(State::Established));
    assert_eq!(&*c.ends[0], "10.0.0.1:63359");
    assert_eq!(&*c.ends[1], "10.0.0.2:80");
    let a = arrows(c);
    let flags: Vec<Flags> = a.iter().map(|a| a.seg.flags).collect();
    assert_eq!(flags, [Flags::SYN, Flags::SYN | Flags::ACK, Flags::ACK]);
    let from: Vec<usize> = a.iter().map(|a| a.from).collect();
    assert_eq!(from, [0, 1, 0]);
    for x in &a {
        assert_eq!(x.fate, Fate::Delivered);
        let (s, r) = (x.sent.unwrap(), x.arrived.unwrap());
        assert!((r - s - 0.01).abs() < 1e-9, "10 ms one-way delay");
    }
    // RFC 9293 §3.4: relative to each side's ISN, SYN is 0, its ACK is 1.
    assert_eq!(c.rel_seq(0, a[0].seg.seq), Some(0));
    assert_eq!(c.rel_ack(1, a[1].seg.ack), Some(1));
    assert_eq!(c.rel_seq(2 - 1, a[1].seg.seq), Some(0));
    assert_eq!(c.rel_ack(0, a[2].seg.ack), Some(1));
    assert_eq!(c.wscale, [Some(3), Some(3)]);
    let n = m.narration.as_ref().expect("narrated");
    let (row, seq) = n.target.expect("explains an entry");
    assert_eq!(row, c.id);
    assert!(matches!(
        c.entry(seq).unwrap().kind,
        EntryKind::Mark {
            slot: Some(1),
            mark: Mark::State {
                to: State::Established,
                ..
            }
        }
    ));
}

#[test]
fn a_dropped_synack_stops_and_the_retransmissions_are_marked() {
    let ov = Overrides {
        rules: vec![Rule::parse_drop("out:SA:1").unwrap()],
        ..Overrides::default()
    };
    let events = builtin("handshake", ov, 5.0);
    let rto_events = events
        .iter()
        .filter(|e| {
            matches!(&e.body, Body::Timer(t) if t.timer == TimerKind::Retransmit && t.action == TimerAction::Fired)
        })
        .count();
    let m = model_of(events);
    let c = conn(&m);
    let a = arrows(c);
    let dropped: Vec<&&Arrow> = a
        .iter()
        .filter(|a| matches!(a.fate, Fate::Dropped { .. }))
        .collect();
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0].seg.flags, Flags::SYN | Flags::ACK);
    assert_eq!(dropped[0].from, 1);
    let Fate::Dropped { reason, rule, .. } = &dropped[0].fate else {
        unreachable!()
    };
    assert_eq!(*reason, DropReason::Injected);
    assert_eq!(rule.as_deref(), Some("drop out SA next 1"));
    assert_eq!(c.drops, 1);
    assert_eq!(m.faults.dropped_out, 1);
    assert!(m.faults.rules.is_empty(), "the rule was used up");
    // Both sides' RTOs fire and resend: SYN from the client, SYN+ACK from the server.
    let rtx: Vec<Flags> = a
        .iter()
        .filter(|a| a.retransmit)
        .map(|a| a.seg.flags)
        .collect();
    assert!(
        rtx.contains(&Flags::SYN) && rtx.contains(&(Flags::SYN | Flags::ACK)),
        "{rtx:?}"
    );
    assert_eq!(c.retransmits as usize, rtx.len());
    let fired = c
        .ladder
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EntryKind::Mark {
                    mark: Mark::TimerFired {
                        timer: TimerKind::Retransmit
                    },
                    ..
                }
            )
        })
        .count();
    assert!(rto_events >= 1, "the client's RTO must fire for the SYN");
    assert_eq!(
        fired, rto_events,
        "every RTO fire is a mark on its lifeline"
    );
    assert_eq!(c.side(0).unwrap().state, Some(State::Established));
}

#[test]
fn a_held_segment_waits_then_arrives() {
    let hold = Rule {
        action: Action::Hold,
        ..Rule::drop_next(DirMatch::Out, Some(Flags::SYN | Flags::ACK), 1)
    };
    let ov = Overrides {
        rules: vec![hold],
        ..Overrides::default()
    };
    let sc = Scenario::builtin("handshake").unwrap();
    let mut run = Run::new(sc, &ov);
    run.advance(Instant::from_secs_f64(0.6));
    let mut m = Model::new(true);
    m.ingest_all(run.take_events());
    let c = conn(&m);
    let held = arrows(c)
        .into_iter()
        .find(|a| matches!(a.fate, Fate::Held { .. }))
        .expect("held");
    assert_eq!(held.seg.flags, Flags::SYN | Flags::ACK);
    let held_id = held.seg.id;
    assert_eq!(m.faults.held.len(), 1);
    assert_eq!(m.faults.held[0].flags, Flags::SYN | Flags::ACK);
    assert_eq!(m.faults.held[0].dir, crate::event::Dir::Out);

    run.wire.injector.release_one(run.now());
    run.wire.flush();
    run.advance(Instant::from_secs_f64(0.7));
    m.ingest_all(run.take_events());
    let c = conn(&m);
    let a = arrows(c).into_iter().find(|a| a.seg.id == held_id).unwrap();
    assert_eq!(a.fate, Fate::Delivered);
    assert!(m.faults.held.is_empty());
}

#[test]
fn keepalive_on_a_dead_peer_counts_probes_then_gives_up() {
    let sc = Scenario::parse("test", KEEPALIVE_DEAD).unwrap();
    let m = model_of(run_until(sc.clone(), Overrides::default(), 13.0));
    let ka = &conn(&m).side(0).unwrap().keepalive;
    assert!(ka.on);
    assert_eq!((ka.probe, ka.of), (2, 3));
    assert_eq!(ka.interval, Some(2.0));
    let probes: Vec<(u32, u32)> = arrows(conn(&m)).iter().filter_map(|a| a.probe).collect();
    assert_eq!(probes, [(1, 3), (2, 3)]);
    assert!(
        arrows(conn(&m)).iter().all(|a| a.dup_ack.is_none()),
        "probes are not duplicate ACKs"
    );

    let m = model_of(run_until(sc, Overrides::default(), 30.0));
    let c = m.conns().find(|c| !c.listener).unwrap();
    let client = c.side(0).unwrap();
    assert!(matches!(
        client.keepalive.verdict,
        Some(KeepaliveVerdict::Dead { probes: 3, .. })
    ));
    assert_eq!(client.abort, Some(AbortReason::KeepaliveTimeout));
    assert_eq!(client.state, Some(State::Closed));
}

#[test]
fn time_wait_is_a_timer_with_a_deadline() {
    let m = model_of(builtin("client-close", Overrides::default(), 100.0));
    let c = conn(&m);
    let client = c.side(0).unwrap();
    assert_eq!(client.state, Some(State::TimeWait));
    let tw = client.timer(TimerKind::TimeWait).expect("2 MSL armed");
    assert!((tw.deadline - 241.52).abs() < 1e-6, "{}", tw.deadline);
    assert!((tw.left(100.0) - 141.52).abs() < 1e-6);
    assert!(c.side(1).unwrap().is_closed());
    assert!(!c.is_closed(), "the client is still in TIME-WAIT");
    let m = model_of(builtin("client-close", Overrides::default(), 300.0));
    let c = m.conns().find(|c| !c.listener).unwrap();
    assert!(c.is_closed());
    assert!(c.side(0).unwrap().freed.is_some());
}

#[test]
fn a_reused_four_tuple_gets_a_new_row() {
    let mut events = builtin("reset", Overrides::default(), 5.0);
    let second = events.clone();
    let shift = events.last().map(|e| e.t).unwrap_or(0.0) + 1.0;
    events.extend(second.into_iter().map(|mut e| {
        e.t += shift;
        e
    }));
    let m = model_of(events);
    let rows: Vec<&Conn> = m.conns().filter(|c| !c.listener).collect();
    assert_eq!(rows.len(), 2);
    assert!(rows[0].is_closed());
}

#[test]
fn history_stays_within_bounds() {
    let limits = Retention {
        rows: 5,
        entries_per_conn: 4,
        entries_total: 10,
        closed_linger: 0.0,
        closed_keep: 1,
        log: 3,
    };
    let mut m = Model::with_limits(true, limits);
    let events = builtin("client-close", Overrides::default(), 2.0);
    m.ingest_all(events);
    let c = conn(&m);
    assert_eq!(c.ladder.len(), 4);
    assert!(c.evicted > 0);
    assert!(m.total_entries() <= 10);
    assert!(m.log.len() <= 3);
    // Many connections: the oldest closed rows go.
    for i in 0..20 {
        m.ingest(Event {
            t: 10.0 + f64::from(i),
            host: Some("client".into()),
            conn: Some(format!("10.0.0.1:{}<->10.0.0.2:80", 1000 + i).into()),
            body: Body::State {
                from: State::Closed,
                to: State::SynSent,
                cause: "test".into(),
                inferred: false,
                lasted: None,
            },
        });
    }
    assert!(m.conn_count() <= 5);
    assert!(m.total_entries() <= 10);
}

/// Both hosts on IPv6: the listener is a listener row, and the two views
/// of the connection (bracketed addresses) pair into one row.
#[test]
fn ipv6_views_pair_into_one_row() {
    let text = include_str!("../../../assets/scenarios/handshake.toml").replacen(
        "[[step]]",
        "[client]\naddr = \"fd00::1\"\n\n[server]\naddr = \"fd00::2\"\n\n[[step]]",
        1,
    );
    let sc = Scenario::parse("handshake6.toml", &text).unwrap();
    let m = model_of(run_until(sc, Overrides::default(), 5.0));
    let listener = m.conns().find(|c| c.listener).expect("listener row");
    assert_eq!(&*listener.ends[1], "[fd00::2]:80");
    assert_eq!(m.conns().filter(|c| !c.listener).count(), 1);
    let c = conn(&m);
    assert_eq!(c.side(0).unwrap().state, Some(State::Established));
    assert_eq!(c.side(1).unwrap().state, Some(State::Established));
    assert!(c.ends[0].starts_with("[fd00::1]:"), "{}", c.ends[0]);
    assert_eq!(&*c.ends[1], "[fd00::2]:80");
    assert_eq!(arrows(c).len(), 3);
}

#[test]
fn odd_events_never_panic() {
    let mut m = Model::new(false);
    let odd = [
        r#"{"t":1.0,"host":"tcpscope","conn":"garbage","kind":"state","from":"CLOSED","to":"SYN-SENT","cause":"x"}"#,
        r#"{"t":-5.0,"kind":"segment","dir":"in","id":1,"flags":["SYN"],"seq":1,"ack":0,"len":0,"win":0,"opts":[],"hdr":"zz"}"#,
        r#"{"t":2.0,"conn":"a<->b","kind":"segment","dir":"in","id":1,"flags":["SYN"],"seq":1,"ack":0,"len":0,"win":0,"opts":[],"hdr":"4"}"#,
        r#"{"t":3.0,"conn":"a<->b","kind":"drop","dir":"in","reason":"malformed"}"#,
        r#"{"t":4.0,"conn":"a<->b","kind":"timer","timer":"retransmit","action":"armed","deadline":1e308}"#,
        r#"{"t":5.0,"conn":"a<->b","kind":"keepalive","action":"dead","probe":9,"of":9}"#,
        r#"{"t":6.0,"conn":"a<->b","kind":"release","dir":"out","id":77,"flags":["ACK"],"seq":1,"ack":0,"len":0,"win":0,"opts":[]}"#,
        r#"{"t":7.0,"kind":"narration","lang":"en","text":"x","explains":{"t":1,"kind":"info","msg":"y"}}"#,
        r#"{"t":8.0,"kind":"lagged","lost":3}"#,
    ];
    for line in odd {
        m.ingest(Event::from_json(line).unwrap());
    }
    assert_eq!(m.lagged, 3);
    let c = m.find("a<->b").unwrap();
    // Live (one host): the reporting host is on the right.
    assert_eq!(c.side(1).map(|s| s.host.as_ref()), Some("?"));
    assert_eq!(
        arrows(c)[0].seg.hdr,
        None,
        "bad hex is no dump, not a panic"
    );
}

#[test]
fn live_mode_draws_each_event_as_its_own_arrow() {
    let events = builtin("handshake", Overrides::default(), 5.0);
    // Only the server's view, renamed as the live stack would report it.
    let mut m = Model::new(false);
    m.ingest_all(
        events
            .into_iter()
            .filter(|e| e.host.as_deref() == Some("server"))
            .map(|mut e| {
                e.host = Some("tcpscope".into());
                e
            }),
    );
    let c = conn(&m);
    assert!(c.side(0).is_none());
    assert_eq!(c.side(1).unwrap().host.as_ref(), "tcpscope");
    let a = arrows(c);
    assert_eq!(a.len(), 3);
    assert_eq!(
        a.iter().map(|a| a.from).collect::<Vec<_>>(),
        [0, 1, 0],
        "peer → us, us → peer"
    );
    assert!(a.iter().all(|a| a.fate == Fate::Delivered));
}

#[test]
fn a_released_syn_joins_the_row_its_sender_left() {
    // The client gives up (close in SYN-SENT) while its SYN is held; the
    // SYN released later still belongs to that connection's ladder.
    let hold = Rule {
        action: Action::Hold,
        ..Rule::drop_next(DirMatch::In, Some(Flags::SYN), 1)
    };
    let ov = Overrides {
        rules: vec![hold],
        ..Overrides::default()
    };
    let mut run = Run::new(Scenario::builtin("client-close").unwrap(), &ov);
    run.advance(Instant::from_secs_f64(1.2));
    let mut m = Model::new(true);
    m.ingest_all(run.take_events());
    assert!(
        conn(&m).side(0).unwrap().is_closed(),
        "the client closed in SYN-SENT"
    );
    run.wire.injector.release_one(run.now());
    run.wire.flush();
    run.advance(Instant::from_secs_f64(1.3));
    m.ingest_all(run.take_events());
    let c = conn(&m);
    assert_eq!(c.side(1).unwrap().state, Some(State::SynReceived));
    let syn = arrows(c)
        .into_iter()
        .find(|a| a.seg.flags == Flags::SYN)
        .unwrap();
    assert_eq!(syn.fate, Fate::Delivered, "one arrow, now arrived");
}

#[test]
fn the_engines_duplicate_ack_mark_wins() {
    // Nothing on the ladder says data is outstanding, so the guess says no;
    // the engine that received them says they are the 2nd and 3rd.
    let mut m = Model::new(false);
    for (id, dup) in [(1, ""), (2, r#","dup_ack":2"#), (3, r#","dup_ack":3"#)] {
        let line = format!(
            r#"{{"t":{id}.0,"host":"tcpscope","conn":"a:1<->b:2","kind":"segment","dir":"in","id":{id},"flags":["ACK"],"seq":5,"ack":9,"len":0,"win":100,"opts":[],"retransmit":false{dup}}}"#
        );
        m.ingest(Event::from_json(&line).unwrap());
    }
    let marks: Vec<Option<u32>> = arrows(m.find("a:1<->b:2").unwrap())
        .iter()
        .map(|a| a.dup_ack)
        .collect();
    assert_eq!(marks, [None, Some(2), Some(3)]);
}

#[test]
fn a_captures_analysis_decides_duplicate_acks() {
    // Data outstanding from the client, then the server repeats a
    // zero-window ACK: the ladder's guess would call the repeats duplicate
    // ACKs; the capture's analysis (Wireshark's rules) says zero window
    // probe ACKs, and that wins. The flags reach the arrow.
    let mut m = Model::new(false);
    let lines = [
        r#"{"t":1.0,"host":"client","conn":"a:1<->b:2","kind":"segment","dir":"out","id":1,"flags":["ACK"],"seq":1,"ack":5,"len":100,"win":100,"opts":[]}"#,
        r#"{"t":2.0,"host":"server","conn":"b:2<->a:1","kind":"segment","dir":"out","id":2,"flags":["ACK"],"seq":5,"ack":1,"len":0,"win":0,"opts":[],"analysis":["zero_window"]}"#,
        r#"{"t":3.0,"host":"server","conn":"b:2<->a:1","kind":"segment","dir":"out","id":3,"flags":["ACK"],"seq":5,"ack":1,"len":0,"win":0,"opts":[],"analysis":["zero_window","zero_window_probe_ack"]}"#,
        r#"{"t":4.0,"host":"server","conn":"b:2<->a:1","kind":"segment","dir":"out","id":4,"flags":["ACK"],"seq":5,"ack":1,"len":0,"win":0,"opts":[],"analysis":["zero_window","zero_window_probe_ack"]}"#,
        r#"{"t":5.0,"host":"server","conn":"b:2<->a:1","kind":"segment","dir":"out","id":5,"flags":["ACK"],"seq":5,"ack":1,"len":0,"win":0,"opts":[],"dup_ack":1,"analysis":["duplicate_ack"]}"#,
    ];
    for l in lines {
        m.ingest(Event::from_json(l).unwrap());
    }
    let c = m.find("a:1<->b:2").unwrap();
    let got: Vec<(Option<u32>, usize)> = arrows(c)
        .iter()
        .map(|a| (a.dup_ack, a.analysis.len()))
        .collect();
    assert_eq!(
        got,
        [(None, 0), (None, 1), (None, 2), (None, 2), (Some(1), 1)]
    );
}

#[test]
fn a_counted_rule_counts_down_and_leaves_when_used_up_or_removed() {
    let rules = |lines: &[&str]| {
        let mut m = Model::new(true);
        for l in lines {
            m.ingest(Event::from_json(l).unwrap());
        }
        m.faults
            .rules
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
    };
    let added = r#"{"t":1.0,"host":"server","kind":"rule","action":"added","rule":"drop in with-data next 3"}"#;
    let drop = |n: u32| {
        format!(
            r#"{{"t":2.0,"host":"server","conn":"b:2<->a:1","kind":"drop","dir":"in","reason":"injected","rule":"drop in with-data next {n}","id":{n},"flags":["ACK"],"seq":1,"ack":1,"len":10,"win":100,"opts":[]}}"#
        )
    };
    let (d3, d2, d1) = (drop(3), drop(2), drop(1));
    let used_up = r#"{"t":3.0,"host":"server","kind":"rule","action":"used_up","rule":"drop in with-data next 1"}"#;
    let removed = r#"{"t":3.0,"host":"server","kind":"rule","action":"removed","rule":"drop in with-data next 2"}"#;
    // The injector writes the rule as it reads before each firing.
    assert_eq!(rules(&[added]), ["drop in with-data next 3"]);
    assert_eq!(rules(&[added, &d3]), ["drop in with-data next 2"]);
    assert_eq!(rules(&[added, &d3, &d2, &d1]), ["drop in with-data next 1"]);
    assert!(rules(&[added, &d3, &d2, &d1, used_up]).is_empty());
    // `F` after one drop: removed as it reads now.
    assert!(rules(&[added, &d3, removed]).is_empty());
    // Drops the model never saw (lost, or before it began): the rule that
    // differs only in its count goes.
    assert!(rules(&[added, used_up]).is_empty());
    // Other rules stay.
    let other =
        r#"{"t":1.0,"host":"server","kind":"rule","action":"added","rule":"drop out next 2"}"#;
    assert_eq!(rules(&[added, other, used_up]), ["drop out next 2"]);
}

#[test]
fn a_recovery_events_window_reaches_the_tcb_panel() {
    use crate::event::{CaState, Phase, RecoveryAction};
    // sack-recovery up to its recovery's end: the `vars` event after it
    // left out, the panel still shows the window the note reports.
    let mut evs = builtin("sack-recovery", Overrides::default(), 1.0);
    let exit = evs
        .iter()
        .position(|e| matches!(&e.body, Body::Recovery(r) if r.action == RecoveryAction::Exit))
        .expect("recovery ends");
    let Body::Recovery(r) = evs[exit].body.clone() else {
        unreachable!()
    };
    evs.truncate(exit + 1);
    let m = model_of(evs);
    let v = conn(&m).side(0).unwrap().vars.clone().unwrap();
    assert_eq!((v.cwnd, v.ssthresh), (r.cwnd, r.ssthresh));
    assert_eq!(
        (v.cwnd, v.cc_state, v.phase),
        (11149, CaState::Open, Phase::CongestionAvoidance)
    );
}
