//! Whether text drawn in Chinese holds English UI words: the one check
//! `tests/ui_i18n.rs` (screens drawn without a terminal) and
//! `tests/ui_tmux.rs` (the real binary in tmux) share.
//!
//! "English" is checked rigorously and independently of the catalogue:
//! every ASCII word (a run of letters, digits, `_` and `.` with at least
//! two letters, not starting with a digit) must be one that stays in every
//! language ([`KEPT`]: protocol, field and state names, key names, proper
//! names) or data the test names (addresses, a scenario's name, the bytes
//! an application sent); and no number carries an English unit (`0.20s`,
//! `20ms`, `4m02s`). A word left out of the catalogue therefore fails here
//! even where no catalogue entry mentions it.

/// Words that stay as they are in every language.
#[rustfmt::skip]
pub const KEPT: &[&str] = &[
    // Protocols, headers and their fields.
    "TCP", "IP", "IPv4", "IPv6", "RFC", "ISN", "TCB", "MSS", "MSL", "SACK", "SACK_PERM", "TS",
    "WS", "NOP", "val", "ecr", "DF", "ihl", "tos", "len", "id", "ttl", "proto", "csum", "tc",
    "seq", "ack", "win", "urg", "off", "HTTP", "cookie",
    // The send and receive variables written short (`SND una 1 nxt 41`,
    // `SRTT ± VAR`, `cwnd/ssthr`).
    "una", "nxt", "wnd", "VAR", "ssthr",
    // RFC 9293's user calls (SEND, CLOSE, ABORT, USER TIMEOUT).
    "USER", "TIMEOUT", "ABORT", "SEND",
    // Flags, and flag letters as the fault form takes them.
    "SYN", "ACK", "FIN", "RST", "PSH", "URG", "ECE", "CWR", "SA", "FA", "PA",
    // The sender's and receiver's variables, timers and algorithms.
    "SND", "RCV", "UNA", "NXT", "WND", "SND.UNA", "SND.NXT", "SND.WND", "RCV.NXT", "RCV.WND",
    "SRTT", "RTTVAR", "RTT", "RTO", "PTO", "TLP", "RACK", "RACK.rtt", "cwnd", "ssthresh",
    "rwnd", "pipe", "TSO", "GSO", "GRO", "HyStart", "CUBIC", "NewReno", "PRR", "Eifel",
    "tcp_fin_timeout", "tcp.analysis",
    // State names (SYN-SENT, TIME-WAIT, … are two words each).
    "CLOSED", "LISTEN", "SENT", "RCVD", "RECV", "RECEIVED", "ESTABLISHED", "ESTAB", "WAIT", "CLOSE",
    "CLOSING", "LAST", "TIME",
    // Keys, as keyboards print them.
    "Enter", "Esc", "Tab", "PgUp", "PgDn", "Home", "End", "Ctrl", "Shift",
    // Sizes.
    "KiB", "MiB",
    // Names.
    "tcpscope", "Linux", "Wireshark", "SVG", "Nagle",
    // The command line's own words: a mode, the profiles' names, a flag.
    "live", "linux", "rfc", "profile",
];

/// The words of `text` that could be English (see the module comment).
pub fn ascii_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .map(|w| w.trim_matches('.'))
        .filter(|w| {
            !w.starts_with(|c: char| c.is_ascii_digit())
                && w.chars().filter(char::is_ascii_alphabetic).count() >= 2
        })
}

/// Numbers with an English unit: `0.20s`, `20ms`, `4m02s`, `2h00m`,
/// `1500B` (not hex, not `1.5K`: K, M and G are the same in every
/// language, and not a name that begins with a number, `2MSL`).
pub fn english_units(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .filter(|w| {
            w.starts_with(|c: char| c.is_ascii_digit())
                && !w.starts_with("0x")
                && w.contains(|c: char| c.is_ascii_alphabetic())
                && w.split(|c: char| c.is_ascii_digit() || c == '.')
                    .filter(|u| !u.is_empty())
                    .all(|u| ["s", "ms", "m", "h", "us", "B"].contains(&u))
        })
}

/// A short arrow label's window, `w256K`: notation, the same in every
/// language (the help's notation page explains it).
fn short_window(w: &str) -> bool {
    w.strip_prefix('w')
        .and_then(|r| r.strip_suffix(['K', 'M', 'G']))
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// A short arrow label's flags, `FPA`: flag letters (S F R P A U E C),
/// each once, as the help's notation page explains them.
fn flag_letters(w: &str) -> bool {
    w.chars().all(|c| "SFRPAUEC".contains(c))
        && w.chars().enumerate().all(|(i, c)| !w[..i].contains(c))
}

/// What is English in `text`: words neither kept nor in the `data`
/// strings (data may wrap over lines: its words are taken one by one);
/// words made of `marks` only are a plot's marks (`R`, `r`, `P`, `p`, `s`).
///
/// A word cut short on screen is judged by the word it was: one that ends
/// in `…` (shortened to fit) or at a box's border (the rest hidden under a
/// popup) counts as kept when a kept or data word begins with it, one just
/// right of a box's border when a kept or data word ends with it.
pub fn english(text: &str, data: &[&str], marks: &str) -> Vec<String> {
    let data_words: Vec<&str> = data.iter().flat_map(|d| ascii_words(d)).collect();
    let known = |w: &str| KEPT.contains(&w) || data_words.contains(&w);
    let known_start = |w: &str| KEPT.iter().chain(&data_words).any(|k| k.starts_with(w));
    let known_end = |w: &str| KEPT.iter().chain(&data_words).any(|k| k.ends_with(w));
    let data_tokens: Vec<&str> = data.iter().flat_map(|d| english_units(d)).collect();
    let mut found = Vec::new();
    for (at, w) in ascii_words_at(text) {
        let before = text[..at].chars().next_back();
        let after = text[at + w.len()..].chars().next();
        let border = |c: Option<char>| c.is_some_and(|c| ('\u{2500}'..='\u{257f}').contains(&c));
        let cut_end = (after == Some('…') || border(after)) && known_start(w);
        let cut_start = border(before) && known_end(w);
        if !known(w)
            && !w.chars().all(|c| marks.contains(c))
            && !short_window(w)
            && !flag_letters(w)
            && !cut_end
            && !cut_start
        {
            found.push(w.to_string());
        }
    }
    found.extend(
        english_units(text)
            .filter(|u| !data_tokens.contains(u))
            .map(str::to_string),
    );
    found
}

/// [`ascii_words`] with where each starts in `text`.
fn ascii_words_at(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        let inside = c.is_ascii_alphanumeric() || c == '_' || c == '.';
        match (inside, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let raw = &text[s..i];
                let w = raw.trim_matches('.');
                let lead = raw.len() - raw.trim_start_matches('.').len();
                if ascii_words(w).next() == Some(w) {
                    out.push((s + lead, w));
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Whether `text` holds Chinese at all (the check sees a Chinese screen).
pub fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}
