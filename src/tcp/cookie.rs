//! SYN cookies (RFC 4987 §3.6): when a listener's backlog is full, answer a
//! SYN without keeping any state, encoding what is needed in our ISN; the
//! TCB is created only when the ACK brings the cookie back.
//!
//! Layout of the 32-bit ISN: 5 bits of a 64-second clock, 2 bits of MSS
//! index, 25 bits of a keyed hash over the 4-tuple, the peer's ISN and the
//! clock. A cookie is valid for the slot it was made in and the one after
//! (64 to 128 s). Window scaling, timestamps and SACK cannot be remembered
//! (Linux hides them in the timestamp; tcpscope does not) and are off on a
//! cookie connection.

use std::net::SocketAddr;

use crate::seq::SeqNum;
use crate::tcp::isn::IsnGenerator;
use crate::time::Instant;

/// MSS values a cookie can carry (index in 2 bits), as Linux's table.
pub const MSS_TABLE: [u16; 4] = [536, 1300, 1440, 1460];

const SLOT_SECS: u64 = 64;

fn slot(now: Instant) -> u64 {
    now.micros() / 1_000_000 / SLOT_SECS
}

fn mac(
    keys: &IsnGenerator,
    local: SocketAddr,
    remote: SocketAddr,
    peer_isn: SeqNum,
    slot: u64,
) -> u32 {
    keys.hash_tuple(
        &[0x636f_6f6b_6965],
        local,
        remote,
        &[u64::from(peer_isn.0), slot],
    ) & 0x01ff_ffff
}

/// The ISN to put in a cookie SYN+ACK for a SYN with sequence `peer_isn`
/// and MSS option `mss`.
pub fn make(
    keys: &IsnGenerator,
    now: Instant,
    local: SocketAddr,
    remote: SocketAddr,
    peer_isn: SeqNum,
    mss: u16,
) -> SeqNum {
    let idx = MSS_TABLE.iter().rposition(|m| *m <= mss).unwrap_or(0) as u32;
    let s = slot(now);
    SeqNum(((s as u32 & 0x1f) << 27) | (idx << 25) | mac(keys, local, remote, peer_isn, s))
}

/// Check the cookie an ACK returns (`ack - 1`); the MSS it encodes.
pub fn check(
    keys: &IsnGenerator,
    now: Instant,
    local: SocketAddr,
    remote: SocketAddr,
    peer_isn: SeqNum,
    cookie: SeqNum,
) -> Option<u16> {
    let c = cookie.0;
    let cur = slot(now);
    for age in 0..2u64 {
        let Some(s) = cur.checked_sub(age) else {
            continue;
        };
        if (s as u32 & 0x1f) != c >> 27 {
            continue;
        }
        if mac(keys, local, remote, peer_isn, s) == c & 0x01ff_ffff {
            return Some(MSS_TABLE[((c >> 25) & 3) as usize]);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_expiry() {
        let k = IsnGenerator::new(9);
        let l: SocketAddr = "10.0.0.2:80".parse().unwrap();
        let r: SocketAddr = "10.0.0.1:5555".parse().unwrap();
        let t0 = Instant::from_secs(1000);
        let c = make(&k, t0, l, r, SeqNum(77), 1460);
        assert_eq!(check(&k, t0, l, r, SeqNum(77), c), Some(1460));
        assert_eq!(
            check(
                &k,
                t0 + std::time::Duration::from_secs(64),
                l,
                r,
                SeqNum(77),
                c
            ),
            Some(1460)
        );
        assert_eq!(
            check(
                &k,
                t0 + std::time::Duration::from_secs(200),
                l,
                r,
                SeqNum(77),
                c
            ),
            None
        );
        assert_eq!(
            check(&k, t0, l, r, SeqNum(78), c),
            None,
            "bound to the peer's ISN"
        );
        assert_eq!(check(&k, t0, l, r, SeqNum(77), c + 1u32), None);
        let small = make(&k, t0, l, r, SeqNum(77), 1000);
        assert_eq!(
            check(&k, t0, l, r, SeqNum(77), small),
            Some(536),
            "MSS rounded down"
        );
    }
}
