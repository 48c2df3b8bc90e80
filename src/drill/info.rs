//! TCP_INFO over a TCB, as Linux's `tcp_get_info` defines the fields
//! tcpscope can compute, and the `%{ assert … }%` blocks of packetdrill
//! scripts evaluated over it (no Python: one comparison per assert).

use crate::event::CaState;
use crate::tcp::Tcb;
use crate::time::Instant;

/// The fields tcpscope computes; any other `tcpi_` name is unsupported.
pub const FIELDS: &[&str] = &[
    "tcpi_snd_cwnd",
    "tcpi_snd_ssthresh",
    "tcpi_ca_state",
    "tcpi_unacked",
    "tcpi_rto",
    "tcpi_snd_mss",
    "tcpi_bytes_received",
    "tcpi_bytes_acked",
    "tcpi_total_retrans",
    "tcpi_sacked",
    "tcpi_lost",
    "tcpi_retrans",
    "tcpi_rtt",
    "tcpi_last_data_recv",
    "tcpi_rcv_mss",
    "tcpi_busy_time",
    "tcpi_rwnd_limited",
    "tcpi_sndbuf_limited",
    "tcpi_reordering",
    "tcpi_advmss",
];

/// Linux's TCP_INFINITE_SSTHRESH.
const INFINITE_SSTHRESH: i64 = 0x7fff_ffff;

/// One field of the snapshot at `now`, or `None` for a field tcpscope does
/// not know.
pub fn field(tcb: &Tcb, name: &str, now: Instant) -> Option<i64> {
    let (sacked, lost, retrans) = tcb.scoreboard_counts();
    let mss = tcb.eff_mss() as i64;
    let in_flight = i64::from(tcb.snd_nxt().diff(tcb.snd_una()).max(0));
    Some(match name {
        // Linux counts the window in segments of mss_cache.
        "tcpi_snd_cwnd" => i64::from(tcb.cwnd()) / mss,
        "tcpi_snd_ssthresh" => {
            let s = i64::from(tcb.ssthresh());
            if s >= i64::from(u32::MAX / 2) {
                INFINITE_SSTHRESH
            } else {
                s / mss
            }
        }
        "tcpi_ca_state" => match tcb.ca_state() {
            CaState::Open => 0,
            CaState::Disorder => 1,
            CaState::Recovery => 3,
            CaState::Loss => 4,
        },
        // Segments sent and not acknowledged (packets_out).
        "tcpi_unacked" => (in_flight + mss - 1) / mss,
        "tcpi_rto" => tcb.rto().as_micros() as i64,
        "tcpi_snd_mss" => mss,
        // Bytes of data received in order (rcv_nxt less the SYN and FIN).
        "tcpi_bytes_received" => {
            let n = i64::from(tcb.rcv_nxt().diff(tcb.irs())) - 1;
            (n - i64::from(tcb.fin_received)).max(0)
        }
        "tcpi_bytes_acked" => {
            let n = i64::from(tcb.snd_una().diff(tcb.iss())) - 1;
            n.max(0)
        }
        "tcpi_total_retrans" => tcb.retransmits as i64,
        // Segments: sacked_out, lost_out (retransmitted ones stay lost
        // until acknowledged), retrans_out.
        "tcpi_sacked" => i64::from(sacked),
        "tcpi_lost" => i64::from(lost),
        "tcpi_retrans" => i64::from(retrans),
        // srtt_us >> 3: the smoothed RTT in microseconds.
        "tcpi_rtt" => tcb.srtt().map_or(0, |d| d.as_micros() as i64),
        // Milliseconds since in-order data last arrived (lrcvtime).
        "tcpi_last_data_recv" => now.saturating_sub(tcb.last_data_rcv()).as_millis() as i64,
        // icsk_ack.rcv_mss: the peer's segment size as measured.
        "tcpi_rcv_mss" => i64::from(tcb.rcv_mss_measured()),
        // Linux's chronographs, in microseconds (tcp_get_info_chrono_stats).
        "tcpi_busy_time" => tcb.chrono_times(now).0 as i64,
        "tcpi_rwnd_limited" => tcb.chrono_times(now).1 as i64,
        "tcpi_sndbuf_limited" => tcb.chrono_times(now).2 as i64,
        // tp->reordering: segments of reordering seen (at first the
        // tcp_reordering sysctl).
        "tcpi_reordering" => i64::from(tcb.reordering()),
        // tp->advmss: the MSS we advertised.
        "tcpi_advmss" => i64::from(tcb.our_mss()),
        _ => return None,
    })
}

/// One `assert NAME OP VALUE` of a code block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assert {
    pub field: String,
    pub op: &'static str,
    pub value: i64,
    /// The text as written.
    pub text: String,
}

impl Assert {
    pub fn holds(&self, got: i64) -> bool {
        match self.op {
            "==" => got == self.value,
            "!=" => got != self.value,
            "<" => got < self.value,
            "<=" => got <= self.value,
            ">" => got > self.value,
            ">=" => got >= self.value,
            _ => false,
        }
    }
}

/// The asserts of a `%{ }%` block; `Err` is the first statement tcpscope
/// cannot evaluate.
pub fn parse_block(code: &str) -> Result<Vec<Assert>, String> {
    let mut v = Vec::new();
    // Python's explicit line joining: a backslash ending a line.
    let code = code.replace("\\\r\n", " ").replace("\\\n", " ");
    for stmt in code.split(['\n', ';']) {
        let stmt = stmt.trim();
        if stmt.is_empty() || stmt.starts_with('#') {
            continue;
        }
        let Some(body) = stmt.strip_prefix("assert ") else {
            return Err(stmt.to_string());
        };
        // `assert cond, message`: the message is for Python's error.
        let cond = body.split(',').next().unwrap_or("").trim();
        let ops = ["==", "!=", "<=", ">=", "<", ">"];
        let Some((op, (l, r))) = ops
            .iter()
            .find_map(|op| cond.split_once(op).map(|lr| (*op, lr)))
        else {
            return Err(stmt.to_string());
        };
        let (l, r) = (l.trim(), r.trim());
        // `lo <= tcpi_x <= hi`: two asserts.
        if let Some((field, hi)) = r.split_once(op).filter(|_| parse_int(l).is_ok()) {
            let (field, hi) = (field.trim(), hi.trim());
            let (Ok(lo), Ok(hi)) = (parse_int(l), parse_int(hi)) else {
                return Err(stmt.to_string());
            };
            if !FIELDS.contains(&field) {
                return Err(format!("{stmt} (TCP_INFO field {field} is not computed)"));
            }
            let flip = match op {
                "<=" => ">=",
                "<" => ">",
                _ => return Err(stmt.to_string()),
            };
            v.push(Assert {
                field: field.into(),
                op: flip,
                value: lo,
                text: cond.into(),
            });
            v.push(Assert {
                field: field.into(),
                op,
                value: hi,
                text: cond.into(),
            });
            continue;
        }
        // `N op tcpi_x`: the same comparison turned round.
        let (l, r, op) = match parse_int(l) {
            Ok(_) if r.starts_with("tcpi_") => {
                let turned = match op {
                    "<" => ">",
                    ">" => "<",
                    "<=" => ">=",
                    ">=" => "<=",
                    same => same,
                };
                (r, l, turned)
            }
            Ok(_) => return Err(stmt.to_string()),
            Err(()) => (l, r, op),
        };
        let Ok(value) = parse_int(r) else {
            return Err(stmt.to_string());
        };
        if !FIELDS.contains(&l) {
            return Err(if l.starts_with("tcpi_") {
                format!("{stmt} (TCP_INFO field {l} is not computed)")
            } else {
                stmt.to_string()
            });
        }
        v.push(Assert {
            field: l.to_string(),
            op,
            value,
            text: cond.to_string(),
        });
    }
    Ok(v)
}

fn parse_int(s: &str) -> Result<i64, ()> {
    // Linux's names of the congestion states (include/net/tcp.h).
    match s {
        "TCP_CA_Open" => return Ok(0),
        "TCP_CA_Disorder" => return Ok(1),
        "TCP_CA_CWR" => return Ok(2),
        "TCP_CA_Recovery" => return Ok(3),
        "TCP_CA_Loss" => return Ok(4),
        _ => {}
    }
    let s = s.replace('_', "");
    if let Some(h) = s.strip_prefix("0x") {
        return i64::from_str_radix(h, 16).map_err(|_| ());
    }
    // `10 * 1000` and such.
    if let Some((a, b)) = s.split_once('*') {
        return Ok(parse_int(a.trim())? * parse_int(b.trim())?);
    }
    s.parse().map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asserts_are_read_or_refused() {
        let a = parse_block(" assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd \n").unwrap();
        assert_eq!(
            a,
            vec![Assert {
                field: "tcpi_snd_cwnd".into(),
                op: "==",
                value: 10,
                text: "tcpi_snd_cwnd == 10".into()
            }]
        );
        assert!(a[0].holds(10) && !a[0].holds(11));
        assert_eq!(
            parse_block("assert tcpi_probes >= 5"),
            Err("assert tcpi_probes >= 5 (TCP_INFO field tcpi_probes is not computed)".into())
        );
        assert_eq!(
            parse_block("assert 0 == tcpi_rto;\\\n assert 5 < tcpi_rto").unwrap(),
            vec![
                Assert {
                    field: "tcpi_rto".into(),
                    op: "==",
                    value: 0,
                    text: "0 == tcpi_rto".into()
                },
                Assert {
                    field: "tcpi_rto".into(),
                    op: ">",
                    value: 5,
                    text: "5 < tcpi_rto".into()
                }
            ]
        );
        assert_eq!(
            parse_block("print(tcpi_rto)"),
            Err("print(tcpi_rto)".into())
        );
        assert_eq!(
            parse_block("assert tcpi_rto == 300 * 1000").unwrap()[0].value,
            300_000
        );
    }
}
