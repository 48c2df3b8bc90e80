//! Each endpoint's RFC 9293 state, inferred from the packets a capture saw
//! go between them.
//!
//! A capture shows segments, not states: the state a host must be in to
//! send or to be answered so is read off the wire. The sender of a segment
//! changes state when it sends (a FIN: FIN-WAIT-1 or LAST-ACK), the receiver
//! when the segment arrives (RFC 9293 §3.10.7.4: the ACK field first, then
//! the FIN bit), both at the packet's capture time. What a capture cannot
//! show: LISTEN (a listening socket sends nothing), the arrival of a FIN
//! (taken to be when its receiver acknowledges it, or when a later segment
//! from its sender arrives, since one direction keeps its order), the end of TIME-WAIT
//! (2 MSL pass in silence), packets lost after the capture point. Side 0 is
//! the client (the SYN's sender), side 1 the server.

use crate::state::State;
use crate::wire::Flags;

/// One inferred transition.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub side: usize,
    pub from: State,
    pub to: State,
    pub cause: String,
    /// Seconds spent in `from`, from the packet that entered it.
    pub lasted: Option<f64>,
}

/// The segment fields inference looks at.
#[derive(Clone, Copy, Debug)]
pub struct Seg {
    pub t: f64,
    pub seq: u32,
    pub ack: u32,
    pub len: u32,
    pub flags: Flags,
}

#[derive(Clone, Debug, Default)]
pub struct Inference {
    /// `None`: nothing known yet (before its first packet, or LISTEN).
    state: [Option<State>; 2],
    since: [f64; 2],
    /// Each side's initial sequence number, from its SYN.
    iss: [Option<u32>; 2],
    /// The sequence number of each side's FIN.
    fin: [Option<u32>; 2],
    /// Each side's FIN was acknowledged by the peer.
    fin_acked: [bool; 2],
    /// Each side acknowledged the peer's FIN: it has received it.
    fin_seen: [bool; 2],
}

/// Serial-number order (RFC 1982).
fn lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// States that wait for something the other side or a timer does; a
/// transition out of one says how long it lasted.
fn is_wait(s: State) -> bool {
    matches!(
        s,
        State::SynSent
            | State::SynReceived
            | State::FinWait1
            | State::FinWait2
            | State::CloseWait
            | State::Closing
            | State::LastAck
            | State::TimeWait
    )
}

impl Inference {
    pub fn state(&self, side: usize) -> Option<State> {
        self.state[side]
    }

    /// Since when `side` has been in its state.
    pub fn since(&self, side: usize) -> f64 {
        self.since[side]
    }

    /// The side's ISN, once its SYN was seen.
    pub fn iss(&self, side: usize) -> Option<u32> {
        self.iss[side]
    }

    /// Neither side holds the connection open: a new SYN on these ports
    /// starts a new connection (TIME-WAIT's end, RFC 9293 §3.6.1).
    pub fn over(&self) -> bool {
        self.state
            .iter()
            .all(|s| matches!(s, None | Some(State::Closed | State::TimeWait)))
            && self.state.iter().any(|s| s.is_some())
    }

    fn go(&mut self, out: &mut Vec<Change>, side: usize, to: State, t: f64, cause: &str) {
        let from = self.state[side].unwrap_or(match to {
            // A side first seen answering a SYN was listening.
            State::SynReceived => State::Listen,
            _ => State::Closed,
        });
        if from == to {
            return;
        }
        let had = self.state[side].is_some();
        let lasted = had.then(|| t - self.since[side]);
        let cause = match lasted {
            Some(d) if is_wait(from) => {
                format!("{cause}; {} lasted {d:.6} s in the capture", from.name())
            }
            _ => cause.to_string(),
        };
        out.push(Change {
            side,
            from,
            to,
            cause,
            lasted,
        });
        self.state[side] = Some(to);
        self.since[side] = t;
    }

    /// A segment `from` sent, seen at `s.t`: the transitions of both sides,
    /// the sender's first.
    pub fn segment(&mut self, from: usize, s: &Seg, out: &mut Vec<Change>) {
        let to = 1 - from;
        let t = s.t;
        let f = s.flags;
        use State::*;
        if f.rst() {
            // RFC 9293 §3.10.7.4 (second, RST): the receiver's connection
            // is reset; the sender has none (or aborted it, §3.10.5).
            if matches!(self.state[from], Some(st) if st != Closed) {
                self.go(out, from, Closed, t, "sent RST: the connection is aborted");
            }
            if matches!(self.state[to], Some(st) if st != Closed) {
                self.go(out, to, Closed, t, "RST received: the connection is reset");
            }
            return;
        }
        if f.syn() {
            self.iss[from].get_or_insert(s.seq);
            if f.ack() {
                match self.state[from] {
                    None | Some(Closed) => self.go(
                        out,
                        from,
                        SynReceived,
                        t,
                        "sent SYN+ACK in answer to a SYN: it was listening (LISTEN sends nothing, so the capture cannot show it)",
                    ),
                    Some(SynSent) => self.go(
                        out,
                        from,
                        SynReceived,
                        t,
                        "sent SYN+ACK after its own SYN: simultaneous open (RFC 9293 §3.5)",
                    ),
                    _ => {}
                }
                let acks_syn = self.iss[to].is_some_and(|i| s.ack == i.wrapping_add(1));
                match self.state[to] {
                    Some(SynSent) if acks_syn => self.go(
                        out,
                        to,
                        Established,
                        t,
                        "SYN+ACK received: its SYN is acknowledged",
                    ),
                    // Simultaneous open: the peer's SYN+ACK acknowledges
                    // ours (RFC 9293 §3.5, Figure 8).
                    Some(SynReceived) if acks_syn => self.go(
                        out,
                        to,
                        Established,
                        t,
                        "SYN+ACK received: its SYN is acknowledged",
                    ),
                    _ => {}
                }
            } else {
                if matches!(self.state[from], None | Some(Closed)) {
                    self.go(out, from, SynSent, t, "sent SYN: active open");
                }
                if self.state[to] == Some(SynSent) {
                    self.go(
                        out,
                        to,
                        SynReceived,
                        t,
                        "SYN received in SYN-SENT: simultaneous open (RFC 9293 §3.5)",
                    );
                }
            }
            return;
        }
        if self.state == [None, None] {
            // The capture began after the handshake.
            let why = "already open when the capture began";
            self.go(out, from, Established, t, why);
            self.go(out, to, Established, t, why);
        }
        // The sender acknowledges the peer's FIN: it has received it (the
        // FIN's arrival itself is not on the wire; this ACK is the proof).
        if f.ack()
            && !self.fin_seen[from]
            && self.fin[to].is_some_and(|fs| !lt(s.ack, fs.wrapping_add(1)))
        {
            self.fin_received(from, t, "it acknowledges it", out);
        }
        // A FIN the sender sent before this segment arrived before it
        // (one direction keeps its order): the receiver has it now.
        let fin_before = self.fin[from].is_some() && !self.fin_seen[to];
        if f.fin() && self.fin[from].is_none() {
            self.fin[from] = Some(s.seq.wrapping_add(s.len));
            match self.state[from] {
                Some(Established | SynReceived) => {
                    self.go(out, from, FinWait1, t, "sent FIN: active close")
                }
                Some(CloseWait) => self.go(
                    out,
                    from,
                    LastAck,
                    t,
                    "sent FIN after the peer's: passive close",
                ),
                _ => {}
            }
        }
        if fin_before {
            self.fin_received(to, t, "it came before this segment", out);
        }
        // Fifth, the ACK field (RFC 9293 §3.10.7.4).
        if f.ack() {
            if self.state[to] == Some(SynReceived)
                && self.iss[to].is_some_and(|i| s.ack == i.wrapping_add(1))
            {
                self.go(out, to, Established, t, "its SYN+ACK is acknowledged");
            }
            if let Some(fs) = self.fin[to]
                && !self.fin_acked[to]
                && s.ack == fs.wrapping_add(1)
            {
                self.fin_acked[to] = true;
                match self.state[to] {
                    Some(FinWait1) => self.go(out, to, FinWait2, t, "its FIN is acknowledged"),
                    Some(Closing) => self.go(
                        out,
                        to,
                        TimeWait,
                        t,
                        "its FIN is acknowledged: TIME-WAIT begins (2 MSL)",
                    ),
                    Some(LastAck) => self.go(
                        out,
                        to,
                        Closed,
                        t,
                        "its FIN is acknowledged: the connection is closed",
                    ),
                    _ => {}
                }
            }
        }
    }

    /// `side` has received the peer's FIN (RFC 9293 §3.10.7.4, eighth, the
    /// FIN bit); `how` says how the capture shows it.
    fn fin_received(&mut self, side: usize, t: f64, how: &str, out: &mut Vec<Change>) {
        use State::*;
        self.fin_seen[side] = true;
        let (to, what) = match self.state[side] {
            Some(Established | SynReceived) => (CloseWait, "the peer closed its half"),
            Some(FinWait1) if self.fin_acked[side] => (
                TimeWait,
                "after its own was acknowledged: TIME-WAIT begins (2 MSL)",
            ),
            Some(FinWait1) => (
                Closing,
                "before its own was acknowledged: simultaneous close",
            ),
            Some(FinWait2) => (TimeWait, "TIME-WAIT begins (2 MSL)"),
            _ => return,
        };
        self.go(out, side, to, t, &format!("FIN received ({how}): {what}"));
    }

    /// A new SYN on these ports after both sides were done: TIME-WAIT (or
    /// CLOSED) ended here.
    pub fn reopened(&mut self, t: f64, out: &mut Vec<Change>) {
        for side in 0..2 {
            if self.state[side] == Some(State::TimeWait) {
                self.go(
                    out,
                    side,
                    State::Closed,
                    t,
                    "a new SYN on the same ports: TIME-WAIT is over",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::*;

    const S: Flags = Flags::SYN;
    const SA: Flags = Flags(0x12);
    const A: Flags = Flags::ACK;
    const FA: Flags = Flags(0x11);
    const R: Flags = Flags::RST;

    /// Packets one second apart: (sender, seq, ack, len, flags).
    fn run(packets: &[(usize, u32, u32, u32, Flags)]) -> (Vec<(usize, State, State)>, Inference) {
        let mut inf = Inference::default();
        let mut out = Vec::new();
        for (i, &(from, seq, ack, len, flags)) in packets.iter().enumerate() {
            let s = Seg {
                t: i as f64,
                seq,
                ack,
                len,
                flags,
            };
            inf.segment(from, &s, &mut out);
        }
        (out.iter().map(|c| (c.side, c.from, c.to)).collect(), inf)
    }

    const HANDSHAKE: [(usize, u32, u32, u32, Flags); 3] =
        [(0, 100, 0, 0, S), (1, 500, 101, 0, SA), (0, 101, 501, 0, A)];

    #[test]
    fn handshake_and_the_client_closes_first() {
        let mut p = HANDSHAKE.to_vec();
        p.extend([
            (0, 101, 501, 10, Flags(0x18)),
            (1, 501, 111, 0, A),
            (0, 111, 501, 0, FA),
            (1, 501, 112, 0, A),
            (1, 501, 112, 0, FA),
            (0, 112, 502, 0, A),
        ]);
        let (got, inf) = run(&p);
        assert_eq!(
            got,
            vec![
                (0, Closed, SynSent),
                (1, Listen, SynReceived),
                (0, SynSent, Established),
                (1, SynReceived, Established),
                (0, Established, FinWait1),
                (1, Established, CloseWait),
                (0, FinWait1, FinWait2),
                (1, CloseWait, LastAck),
                (0, FinWait2, TimeWait),
                (1, LastAck, Closed),
            ]
        );
        assert!(inf.over());
        assert_eq!(inf.since(0), 8.0, "TIME-WAIT since it ACKed the FIN");
    }

    #[test]
    fn fin_ack_acknowledging_a_fin_goes_through_fin_wait_2() {
        // The server's FIN+ACK acknowledges the client's FIN too: RFC 9293
        // §3.10.7.4 handles the ACK (FIN-WAIT-2) before the FIN
        // (TIME-WAIT).
        let mut p = HANDSHAKE.to_vec();
        p.extend([
            (0, 101, 501, 0, FA),
            (1, 501, 102, 0, FA),
            (0, 102, 502, 0, A),
        ]);
        let (got, _) = run(&p);
        assert_eq!(
            got[4..],
            [
                (0, Established, FinWait1),
                (1, Established, CloseWait),
                (1, CloseWait, LastAck),
                (0, FinWait1, FinWait2),
                (0, FinWait2, TimeWait),
                (1, LastAck, Closed),
            ]
        );
    }

    #[test]
    fn a_fin_is_received_when_it_is_acknowledged() {
        // The server has not acknowledged the FIN yet: still ESTABLISHED
        // (the FIN may not have arrived); its ACK shows it did.
        let mut p = HANDSHAKE.to_vec();
        p.push((0, 101, 501, 0, FA));
        let (got, _) = run(&p);
        assert_eq!(got[4..], [(0, Established, FinWait1)]);
        p.push((1, 501, 102, 0, A));
        let (got, _) = run(&p);
        assert_eq!(
            got[5..],
            [(1, Established, CloseWait), (0, FinWait1, FinWait2)]
        );
    }

    #[test]
    fn simultaneous_close_goes_through_closing() {
        // Both FINs cross: the server's ACK of the client's FIN comes after
        // its own FIN, which the client therefore had first: both CLOSING
        // (RFC 9293 §3.6, Figure 13).
        let mut p = HANDSHAKE.to_vec();
        p.extend([
            (0, 101, 501, 0, FA),
            (1, 501, 101, 0, FA),
            (1, 502, 102, 0, A),
            (0, 102, 502, 0, A),
        ]);
        let (got, _) = run(&p);
        assert_eq!(
            got[4..],
            [
                (0, Established, FinWait1),
                (1, Established, FinWait1),
                (1, FinWait1, Closing),
                (0, FinWait1, Closing),
                (0, Closing, TimeWait),
                (1, Closing, TimeWait),
            ]
        );
    }

    #[test]
    fn reset_closes_both_and_a_refused_syn_closes_the_client() {
        let mut p = HANDSHAKE.to_vec();
        p.push((0, 101, 0, 0, R));
        let (got, _) = run(&p);
        assert_eq!(
            got[4..],
            [(0, Established, Closed), (1, Established, Closed)]
        );
        // Connection refused: the server side never had a state.
        let (got, _) = run(&[(0, 100, 0, 0, S), (1, 0, 101, 0, Flags(0x14))]);
        assert_eq!(got, [(0, Closed, SynSent), (0, SynSent, Closed)]);
    }

    #[test]
    fn simultaneous_open() {
        let (got, _) = run(&[
            (0, 100, 0, 0, S),
            (1, 500, 0, 0, S),
            (0, 100, 501, 0, SA),
            (1, 500, 101, 0, SA),
        ]);
        assert_eq!(
            got,
            [
                (0, Closed, SynSent),
                (1, Closed, SynSent),
                (0, SynSent, SynReceived),
                // The server's SYN-SENT takes the client's SYN+ACK as an
                // answer (the client's SYN came before it had a state).
                (1, SynSent, Established),
                (0, SynReceived, Established),
            ]
        );
    }

    #[test]
    fn retransmitted_syn_and_fin_change_nothing() {
        let mut p = vec![(0, 100, 0, 0, S), (0, 100, 0, 0, S)];
        p.extend(&HANDSHAKE[1..]);
        p.extend([(0, 101, 501, 0, FA), (0, 101, 501, 0, FA)]);
        let (got, _) = run(&p);
        // Only the server's CLOSE-WAIT: at the second FIN the first (or
        // this one) has arrived.
        assert_eq!(got.len(), 6, "{got:?}");
        assert_eq!(got[5], (1, Established, CloseWait));
    }

    #[test]
    fn mid_connection_start_and_wait_durations() {
        let (got, mut inf) = run(&[(0, 100, 500, 10, A), (0, 110, 500, 0, FA)]);
        assert_eq!(
            got,
            [
                (0, Closed, Established),
                (1, Closed, Established),
                (0, Established, FinWait1),
            ]
        );
        let mut out = Vec::new();
        let ack = Seg {
            t: 3.5,
            seq: 500,
            ack: 111,
            len: 0,
            flags: A,
        };
        inf.segment(1, &ack, &mut out);
        assert_eq!((out[0].side, out[0].to), (1, CloseWait));
        assert_eq!((out[1].side, out[1].to), (0, FinWait2));
        assert_eq!(out[1].lasted, Some(2.5));
        assert!(
            out[1]
                .cause
                .ends_with("FIN-WAIT-1 lasted 2.500000 s in the capture"),
            "{}",
            out[1].cause
        );
    }

    #[test]
    fn a_new_syn_ends_time_wait() {
        let mut p = HANDSHAKE.to_vec();
        p.extend([
            (0, 101, 501, 0, FA),
            (1, 501, 102, 0, FA),
            (0, 102, 502, 0, A),
        ]);
        let (_, mut inf) = run(&p);
        let mut out = Vec::new();
        inf.reopened(10.0, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].side, out[0].from, out[0].to), (0, TimeWait, Closed));
        assert_eq!(out[0].lasted, Some(5.0), "since its last ACK");
    }
}
