//! Durations, sizes and times as the UI writes them: short, like `ss -o`,
//! with the units of the language's catalogue (`0.20s`, `0.20秒`).
//! Timeline positions and speeds are written by [`crate::driver::clock`]
//! (the drivers' status sentences use them too) and re-exported here.

pub use crate::driver::clock::{speed, t};

use crate::i18n::Messages;

/// `0.20s`, `1.2s`, `14s`, `4m02s`, `2h00m`.
pub fn secs_in(m: &Messages, s: f64) -> String {
    if !s.is_finite() {
        return "∞".into();
    }
    let s = s.max(0.0);
    let (unit_s, unit_min, unit_h) = (m.unit_s, m.unit_min, m.unit_h);
    // Thresholds just below the next unit, so rounding never prints "10.0s"
    // or "100s" where "10s" or "1m40s" belongs.
    if s < 0.995 {
        format!("{s:.2}{unit_s}")
    } else if s < 9.95 {
        format!("{s:.1}{unit_s}")
    } else if s < 99.5 {
        format!("{s:.0}{unit_s}")
    } else if s < 3600.0 {
        let min = (s / 60.0).floor();
        format!(
            "{}{unit_min}{:02}{unit_s}",
            min as u64,
            (s - min * 60.0).floor() as u64
        )
    } else {
        let h = (s / 3600.0).floor();
        format!(
            "{}{unit_h}{:02}{unit_min}",
            h as u64,
            ((s - h * 3600.0) / 60.0).floor() as u64
        )
    }
}

/// Milliseconds below a second, else seconds: `20ms`, `5.6ms`, `1.0s`.
pub fn ms_in(m: &Messages, s: f64) -> String {
    if !s.is_finite() {
        return "∞".into();
    }
    if s < 0.01 {
        format!("{:.1}{}", s * 1e3, m.unit_ms)
    } else if s < 1.0 {
        format!("{:.0}{}", s * 1e3, m.unit_ms)
    } else {
        format!("{s:.1}{}", m.unit_s)
    }
}

/// `0`, `512`, `1.2K`, `256K`, `3.4M`, `5.6G` (bytes, powers of 1024).
pub fn bytes(n: u64) -> String {
    const K: f64 = 1024.0;
    let f = n as f64;
    let scaled = |v: f64, unit: &str| {
        if v >= 100.0 || v.fract() == 0.0 {
            format!("{v:.0}{unit}")
        } else {
            format!("{v:.1}{unit}")
        }
    };
    if n < 1024 {
        format!("{n}")
    } else if f < K * K {
        scaled(f / K, "K")
    } else if f < K * K * K {
        scaled(f / (K * K), "M")
    } else {
        scaled(f / (K * K * K), "G")
    }
}

/// Buffer sizes: `256 KiB`, `1 MiB`, `1500 B`.
pub fn kib_in(m: &Messages, n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} {}", m.unit_b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{self, Lang};

    fn secs(s: f64) -> String {
        secs_in(i18n::messages(Lang::En), s)
    }

    fn ms(s: f64) -> String {
        ms_in(i18n::messages(Lang::En), s)
    }

    fn kib(n: u64) -> String {
        kib_in(i18n::messages(Lang::En), n)
    }

    #[test]
    fn short_forms() {
        assert_eq!(secs(0.2), "0.20s");
        assert_eq!(secs(1.23), "1.2s");
        assert_eq!(secs(14.2), "14s");
        assert_eq!(secs(242.0), "4m02s");
        assert_eq!(secs(99.9), "1m39s");
        assert_eq!(secs(9.97), "10s");
        assert_eq!(secs(0.999), "1.0s");
        assert_eq!(secs(7200.0), "2h00m");
        assert_eq!(secs(f64::NAN), "∞");
        assert_eq!(ms(0.02), "20ms");
        assert_eq!(ms(0.005625), "5.6ms");
        assert_eq!(bytes(5), "5");
        assert_eq!(bytes(1536), "1.5K");
        assert_eq!(bytes(262_144), "256K");
        assert_eq!(kib(262_144), "256 KiB");
        assert_eq!(kib(1500), "1500 B");
    }

    #[test]
    fn chinese_units() {
        let zh = i18n::messages(Lang::Zh);
        assert_eq!(secs_in(zh, 0.2), "0.20秒");
        assert_eq!(secs_in(zh, 14.2), "14秒");
        assert_eq!(secs_in(zh, 242.0), "4分02秒");
        assert_eq!(secs_in(zh, 7200.0), "2时00分");
        assert_eq!(ms_in(zh, 0.02), "20毫秒");
        assert_eq!(ms_in(zh, 1.5), "1.5秒");
        assert_eq!(kib_in(zh, 262_144), "256 KiB");
        assert_eq!(kib_in(zh, 1500), "1500 字节");
    }
}
