//! The timeline as demo and replay write it: a position (`241.520`) and a
//! speed factor (`×0.5`). The UI shows them through `ui::units`.
//!
//! Must not depend on `ui`.

/// A timeline position: `0.120`, `241.520`, `7262.5`.
pub fn t(s: f64) -> String {
    if !s.is_finite() {
        return "?".into();
    }
    if s < 1000.0 {
        format!("{s:.3}")
    } else if s < 100_000.0 {
        format!("{s:.1}")
    } else {
        format!("{s:.0}")
    }
}

/// A speed factor: `×0.5`, `×1`, `×100`.
pub fn speed(x: f64) -> String {
    if x >= 10.0 || x.fract() == 0.0 {
        format!("×{x:.0}")
    } else {
        format!("×{}", format!("{x:.2}").trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms() {
        assert_eq!(speed(0.5), "×0.5");
        assert_eq!(speed(0.25), "×0.25");
        assert_eq!(speed(2.0), "×2");
        assert_eq!(t(241.52), "241.520");
    }
}
