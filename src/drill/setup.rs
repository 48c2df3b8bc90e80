//! A script's header options and shell lines, as engine settings.
//!
//! packetdrill runs its scripts' backtick lines in a shell; tcpscope runs
//! no shell. It knows `defaults.sh` (the suites' baseline sysctls) and the
//! `sysctl` settings that have an engine setting; any other line is
//! reported UNSUPPORTED with its text.

use crate::tcp::{CcAlgo, Config};

/// What the header options set for the runner itself.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub tolerance_usecs: Option<i64>,
    pub tolerance_percent: f64,
    /// packetdrill's `--tcp_ts_tick_usecs`: outbound TS val checked to
    /// within the tolerance when set.
    pub ts_tick_usecs: Option<i64>,
    pub ipv6: Option<bool>,
    /// packetdrill's `--mss`: an injected packet with more payload than
    /// this goes in as a GSO packet of segments this size, as packetdrill
    /// writes it to its tun device.
    pub mss: Option<u16>,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            tolerance_usecs: None,
            tolerance_percent: 12.5,
            ts_tick_usecs: None,
            ipv6: None,
            mss: None,
        }
    }
}

/// One header option; `Err` is what is unsupported.
pub fn header_option(h: &mut Header, name: &str, value: &str) -> Result<(), String> {
    let num = |v: &str| -> Result<i64, String> {
        v.trim()
            .parse::<i64>()
            .map_err(|_| format!("--{name}={v}: not a number"))
    };
    match name {
        "tolerance_usecs" => h.tolerance_usecs = Some(num(value)?),
        "tolerance_percent" => {
            h.tolerance_percent = value
                .trim()
                .parse()
                .map_err(|_| format!("--{name}={value}: not a number"))?
        }
        "tcp_ts_tick_usecs" => h.ts_tick_usecs = Some(num(value)?).filter(|v| *v > 0),
        // The remote's MSS option comes from each SYN the script writes;
        // the flag sets the size packetdrill cuts its GSO packets into.
        "mss" => h.mss = u16::try_from(num(value)?).ok().filter(|m| *m > 0),
        "ip_version" => match value {
            "ipv4" => h.ipv6 = Some(false),
            "ipv6" => h.ipv6 = Some(true),
            _ => return Err(format!("--ip_version={value}")),
        },
        _ => {
            return Err(if value.is_empty() {
                format!("--{name}")
            } else {
                format!("--{name}={value}")
            });
        }
    }
    Ok(())
}

/// The sysctls `defaults.sh` sets, as the suites' `common/defaults.sh`
/// does; those with an engine setting are applied by [`sysctl`], the rest
/// are Linux's behaviour already or do not apply to one engine without a
/// qdisc (docs/drill.md, Running packetdrill scripts).
pub const DEFAULTS: &[(&str, &str)] = &[
    ("net.ipv4.tcp_rmem", "4096 540000 15728640"),
    ("net.ipv4.tcp_wmem", "4096 262144 4194304"),
    ("net.ipv4.tcp_timestamps", "1"),
    ("net.ipv4.tcp_syn_retries", "5"),
    ("net.ipv4.tcp_synack_retries", "5"),
    ("net.ipv4.tcp_frto", "2"),
    ("net.ipv4.tcp_sack", "1"),
    ("net.ipv4.tcp_dsack", "1"),
    ("net.ipv4.tcp_fack", "0"),
    ("net.ipv4.tcp_reordering", "3"),
    ("net.ipv4.tcp_congestion_control", "cubic"),
    ("net.ipv4.tcp_slow_start_after_idle", "0"),
    ("net.ipv4.tcp_early_retrans", "4"),
    ("net.ipv4.tcp_recovery", "1"),
    ("net.ipv4.tcp_tso_win_divisor", "3"),
    ("net.ipv4.tcp_ecn", "0"),
    ("net.ipv4.tcp_syncookies", "1"),
];

/// The settings a Linux host's defaults.sh leaves that tcpscope has no
/// setting for but that it tolerates from defaults.sh (its behaviour is
/// the one these values give, or they do not apply).
const TOLERATED_IN_DEFAULTS: &[&str] = &[];

/// Apply one `sysctl` assignment; `Err` is the unsupported text.
pub fn sysctl(cfg: &mut Config, key: &str, value: &str, from_defaults: bool) -> Result<(), String> {
    let key = key.replace('/', ".");
    let v = value.trim().trim_matches('"');
    let bad = || format!("sysctl {key}={v}");
    let flag = |v: &str| match v {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err(bad()),
    };
    match key.as_str() {
        "net.ipv4.tcp_timestamps" => cfg.timestamps = flag(v)?,
        "net.ipv4.tcp_sack" => cfg.sack = flag(v)?,
        "net.ipv4.tcp_window_scaling" => cfg.window_scaling = flag(v)?,
        "net.ipv4.tcp_slow_start_after_idle" => cfg.slow_start_after_idle = flag(v)?,
        "net.ipv4.tcp_syncookies" => cfg.syn_cookies = v != "0",
        "net.ipv4.tcp_syn_retries" | "net.ipv4.tcp_synack_retries" => {
            cfg.syn_retries = v.parse().map_err(|_| bad())?
        }
        "net.ipv4.tcp_congestion_control" => {
            cfg.cc = match v {
                "cubic" => CcAlgo::Cubic,
                "reno" => CcAlgo::NewReno,
                _ => return Err(bad()),
            }
        }
        // RACK-TLP on (Linux's tcp_recovery bit 0), or the DupThresh and
        // timer alone.
        "net.ipv4.tcp_recovery" => cfg.rack = v.parse::<u32>().map_err(|_| bad())? & 1 == 1,
        "net.ipv4.tcp_early_retrans" if matches!(v, "3" | "4") => {}
        "net.ipv4.tcp_rmem" | "net.ipv4.tcp_wmem" => {
            let parts: Vec<usize> = v
                .split_whitespace()
                .map(|p| p.parse().map_err(|_| bad()))
                .collect::<Result<_, _>>()?;
            let [_, default, max] = parts[..] else {
                return Err(bad());
            };
            if key.ends_with("rmem") {
                cfg.recv_buf = default;
                cfg.recv_buf_max = Some(max);
            } else {
                cfg.send_buf = default;
            }
        }
        // Behaviour tcpscope has: D-SACK, F-RTO's undo, no FACK.
        "net.ipv4.tcp_dsack" if v == "1" => {}
        "net.ipv4.tcp_frto" if v == "2" => {}
        "net.ipv4.tcp_fack" if v == "0" => {}
        // The initial reordering degree (tcpi_reordering, RACK's DupThresh).
        "net.ipv4.tcp_reordering" => {
            cfg.reordering = v.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(bad)?;
        }
        "net.ipv4.tcp_ecn" if v == "0" => {}
        // How many segments a TSO packet may be sized to (docs/drill.md).
        "net.ipv4.tcp_min_tso_segs" => {
            cfg.min_tso_segs = v.parse().ok().filter(|&n| n >= 1).ok_or_else(bad)?
        }
        // tcpscope never defers a send to build a bigger TSO packet, as
        // Linux does not with a large divisor.
        "net.ipv4.tcp_tso_win_divisor" => {}
        k if from_defaults && TOLERATED_IN_DEFAULTS.contains(&k) => {}
        _ => return Err(bad()),
    }
    Ok(())
}

/// The settings `defaults.sh` gives.
pub fn apply_defaults(cfg: &mut Config) {
    for (k, v) in DEFAULTS {
        sysctl(cfg, k, v, true).expect("every default is known");
    }
}

/// The shell lines of a backtick block, continuation lines (`\`) joined,
/// each with its offset from the block's first line.
pub fn shell_lines(block: &str) -> Vec<(usize, String)> {
    let mut v = Vec::new();
    let mut cur: Option<(usize, String)> = None;
    for (k, l) in block.lines().enumerate() {
        let (start, mut text) = cur.take().unwrap_or((k, String::new()));
        let piece = l.trim_end();
        if let Some(head) = piece.strip_suffix('\\') {
            text.push_str(head);
            text.push(' ');
            cur = Some((start, text));
        } else {
            text.push_str(piece);
            v.push((start, text));
        }
    }
    if let Some(c) = cur {
        v.push(c);
    }
    v
}

/// One shell line of a backtick block; `Err` is the unsupported text.
pub fn shell_line(cfg: &mut Config, line: &str) -> Result<(), String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(());
    }
    let first = line.split_whitespace().next().unwrap_or("");
    if first.ends_with("defaults.sh") && line.split_whitespace().count() == 1 {
        apply_defaults(cfg);
        return Ok(());
    }
    // The script set_sysctls.py leaves to put the old values back, which
    // the suites run as a script's last line: one run's engine has nothing
    // to restore for.
    if first.starts_with("/tmp/sysctl_restore_") && line.split_whitespace().count() == 1 {
        return Ok(());
    }
    // The suites' helper that writes /proc/sys files.
    if first.ends_with("set_sysctls.py") {
        let mut any = false;
        for word in shell_words(line).into_iter().skip(1) {
            let Some((path, v)) = word.split_once('=') else {
                return Err(line.to_string());
            };
            let Some(key) = path.strip_prefix("/proc/sys/") else {
                return Err(line.to_string());
            };
            sysctl(cfg, key, v, false)?;
            any = true;
        }
        return if any { Ok(()) } else { Err(line.to_string()) };
    }
    // nstat's forms that reset its counters and print nothing tcpscope
    // checks (the suites run `nstat -n` before a test); reading a counter
    // (`nstat | grep …`) stays unsupported.
    if first == "nstat"
        && matches!(
            line,
            "nstat -n" | "nstat > /dev/null" | "nstat -n > /dev/null"
        )
    {
        return Ok(());
    }
    // The tun device's segmentation offloads. Linux's TCP builds GSO
    // packets whatever the device offers (sk_setup_caps adds NETIF_F_GSO
    // for every TCP socket, so tcp_send_mss keeps its large size goal and
    // tcp_write_xmit its TSO sizing); with the offloads off the packet is
    // cut into segments in software before the device, with the same
    // sequence numbers and flags (PSH only on the last segment of each
    // packet). The engine already sends wire segments, and the drill
    // matches them: a setting with nothing to change (docs/drill.md).
    if matches!(
        line,
        "ethtool -K tun0 tso off gso off" | "ethtool -K tun0 tso on gso on"
    ) {
        return Ok(());
    }
    if first == "sysctl" {
        let mut any = false;
        let line = &expand_arith(line).ok_or_else(|| line.to_string())?;
        for word in shell_words(line).into_iter().skip(1) {
            if word.starts_with('-') {
                if word == "-q" || word == "-w" {
                    continue;
                }
                return Err(line.to_string());
            }
            let Some((k, v)) = word.split_once('=') else {
                return Err(line.to_string());
            };
            sysctl(cfg, k, v, false)?;
            any = true;
        }
        return if any { Ok(()) } else { Err(line.to_string()) };
    }
    Err(line.to_string())
}

/// The shell's integer arithmetic `$((…))` (`+ - * /` and parentheses
/// over integers) replaced by its value; `None` when an expansion is not
/// that.
fn expand_arith(line: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find("$((") {
        out.push_str(&rest[..i]);
        let body = &rest[i + 3..];
        let end = body.find("))")?;
        // `))` may close an inner parenthesis first: take the balanced span.
        let mut depth = 0i32;
        let mut close = None;
        for (k, c) in body.char_indices() {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 => {
                    close = Some(k);
                    break;
                }
                ')' => depth -= 1,
                _ => {}
            }
        }
        let close = close.unwrap_or(end);
        if !body[close..].starts_with("))") {
            return None;
        }
        let toks: Vec<char> = body[..close]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let mut pos = 0;
        let v = arith_sum(&toks, &mut pos)?;
        if pos != toks.len() {
            return None;
        }
        out.push_str(&v.to_string());
        rest = &body[close + 2..];
    }
    out.push_str(rest);
    Some(out)
}

fn arith_sum(t: &[char], pos: &mut usize) -> Option<i64> {
    let mut v = arith_product(t, pos)?;
    while let Some(&op) = t.get(*pos).filter(|c| matches!(c, '+' | '-')) {
        *pos += 1;
        let r = arith_product(t, pos)?;
        v = if op == '+' {
            v.checked_add(r)?
        } else {
            v.checked_sub(r)?
        };
    }
    Some(v)
}

fn arith_product(t: &[char], pos: &mut usize) -> Option<i64> {
    let mut v = arith_atom(t, pos)?;
    while let Some(&op) = t.get(*pos).filter(|c| matches!(c, '*' | '/')) {
        *pos += 1;
        let r = arith_atom(t, pos)?;
        v = if op == '*' {
            v.checked_mul(r)?
        } else {
            v.checked_div(r)?
        };
    }
    Some(v)
}

fn arith_atom(t: &[char], pos: &mut usize) -> Option<i64> {
    if t.get(*pos) == Some(&'(') {
        *pos += 1;
        let v = arith_sum(t, pos)?;
        if t.get(*pos) != Some(&')') {
            return None;
        }
        *pos += 1;
        return Some(v);
    }
    let start = *pos;
    while t.get(*pos).is_some_and(|c| c.is_ascii_digit()) {
        *pos += 1;
    }
    t[start..*pos].iter().collect::<String>().parse().ok()
}

/// Words split on blanks, with "double quotes" kept together.
fn shell_words(line: &str) -> Vec<String> {
    let mut v = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    v.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        v.push(cur);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::Profile;

    #[test]
    fn sysctls_map_onto_settings() {
        let mut cfg = Config::profile(Profile::Linux);
        shell_line(
            &mut cfg,
            "sysctl -q net.ipv4.tcp_timestamps=0 net.ipv4.tcp_sack=0",
        )
        .unwrap();
        assert!(!cfg.timestamps && !cfg.sack);
        shell_line(
            &mut cfg,
            "sysctl -q net.ipv4.tcp_rmem=\"4096 87380 6291456\"",
        )
        .unwrap();
        assert_eq!(cfg.recv_buf, 87380);
        shell_line(&mut cfg, "sysctl -q net.ipv4.tcp_reordering=7").unwrap();
        assert_eq!(cfg.reordering, 7);
        assert_eq!(
            shell_line(&mut cfg, "sysctl -q net.ipv4.tcp_reordering=0"),
            Err("sysctl net.ipv4.tcp_reordering=0".into())
        );
        shell_line(&mut cfg, "sysctl -q net.ipv4.tcp_slow_start_after_idle=1").unwrap();
        assert!(cfg.slow_start_after_idle);
        assert_eq!(
            shell_line(&mut cfg, "sysctl -q net.ipv4.tcp_slow_start_after_idle=2"),
            Err("sysctl net.ipv4.tcp_slow_start_after_idle=2".into())
        );
        assert_eq!(
            shell_line(&mut cfg, "ip link set tun0 mtu 1200"),
            Err("ip link set tun0 mtu 1200".into())
        );
        shell_line(&mut cfg, "/tmp/sysctl_restore_${PPID}.sh").unwrap();
        assert!(cfg.slow_start_after_idle);
        shell_line(
            &mut cfg,
            "sysctl -q net.ipv4.tcp_rmem=\"4096 131072 $((32*1024*1024))\"",
        )
        .unwrap();
        assert_eq!((cfg.recv_buf, cfg.recv_buf_max), (131072, Some(33554432)));
        assert_eq!(
            expand_arith("a=$(( (1+2)*3 - 4/2 )) b=$((7))"),
            Some("a=7 b=7".into())
        );
        assert_eq!(expand_arith("$((1+x))"), None);
        let before = format!("{cfg:?}");
        shell_line(&mut cfg, "ethtool -K tun0 tso off gso off").unwrap();
        shell_line(&mut cfg, "ethtool -K tun0 tso on gso on").unwrap();
        assert_eq!(format!("{cfg:?}"), before, "the offloads change no setting");
        assert_eq!(
            shell_line(&mut cfg, "ethtool -K tun0 gro off"),
            Err("ethtool -K tun0 gro off".into())
        );
        shell_line(&mut cfg, "nstat -n").unwrap();
        assert_eq!(
            shell_line(&mut cfg, "nstat | grep TcpExtOutOfWindowIcmps > /dev/null"),
            Err("nstat | grep TcpExtOutOfWindowIcmps > /dev/null".into())
        );
        shell_line(&mut cfg, "../common/defaults.sh").unwrap();
        assert!(cfg.timestamps && cfg.sack && cfg.rack && !cfg.slow_start_after_idle);
        assert_eq!(cfg.recv_buf, 540000);
    }
}
