//! Screenshots: the frame as an SVG file (see [`super::svg`]).
//!
//! Two ways in. `S` in the terminal UI writes the frame on screen to
//! `tcpscope-<t>.svg` in the current directory. `--screenshot FILE.svg`
//! (demo and replay) needs no terminal at all: it moves the driver to
//! `--duration` (virtual time, so at once), draws that frame into
//! ratatui's `TestBackend` at `--size` (120×40 unless told) and writes it;
//! the same command gives the same picture, in a test run or a script.

use std::path::{Path, PathBuf};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use super::model::Model;
use super::render::{self, MIN_HEIGHT, MIN_WIDTH};
use super::svg::{self, Palette};
use super::term::UiSettings;
use super::view::{StatusLine, View};
use crate::driver::{Command, Driver, Mode};
use crate::i18n::Messages;

/// `--size WxH`: the frame's columns and rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    pub width: u16,
    pub height: u16,
}

impl Default for Size {
    fn default() -> Size {
        Size {
            width: 120,
            height: 40,
        }
    }
}

/// Largest `--size` in either direction (a frame that size is ~5 MB).
const MAX_SIDE: u16 = 1000;

/// `--size 120x40` (also `120×40`).
pub fn parse_size(s: &str) -> Result<Size, String> {
    let bad = || format!("\"{s}\" is not a size such as 120x40 (columns x rows)");
    let (w, h) = s.split_once(['x', 'X', '×']).ok_or_else(bad)?;
    let width: u16 = w.trim().parse().map_err(|_| bad())?;
    let height: u16 = h.trim().parse().map_err(|_| bad())?;
    if width < MIN_WIDTH || height < MIN_HEIGHT {
        return Err(format!(
            "{width}x{height} is too small: the UI needs at least {MIN_WIDTH}x{MIN_HEIGHT}"
        ));
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(format!(
            "{width}x{height} is too large: at most {MAX_SIDE} columns and rows"
        ));
    }
    Ok(Size { width, height })
}

/// Write `svg` to `path`; an error is one sentence.
pub fn write(path: &Path, svg: &str) -> Result<(), String> {
    std::fs::write(path, svg)
        .map_err(|e| format!("cannot write the screenshot {}: {e}", path.display()))
}

/// The SVG of a frame, in the colours a dark terminal gives.
pub fn frame_svg(buf: &Buffer) -> String {
    svg::render(buf, &Palette::default())
}

/// The name `S` writes in `dir`: `tcpscope-<t>.svg` with the timeline's
/// `t` (`tcpscope-1.100.svg`), and `-2`, `-3`, … before `.svg` rather
/// than overwrite an earlier one.
pub fn key_path(dir: &Path, t: f64) -> PathBuf {
    let t = if t.is_finite() && t >= 0.0 { t } else { 0.0 };
    let base = format!("tcpscope-{t:.3}");
    let mut path = dir.join(format!("{base}.svg"));
    let mut n = 2;
    while path.exists() && n < 10_000 {
        path = dir.join(format!("{base}-{n}.svg"));
        n += 1;
    }
    path
}

/// `S`: write the frame just drawn next to where tcpscope was started;
/// the answer is a sentence for the status line, in `m`'s language.
pub fn from_key(buf: &Buffer, t: f64, m: &Messages) -> Result<String, String> {
    let path = key_path(Path::new("."), t);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    std::fs::write(&path, frame_svg(buf))
        .map_err(|e| m.screenshot_failed(&path.display().to_string(), &e.to_string()))?;
    Ok(m.screenshot_written(&name))
}

/// `--screenshot FILE`: run `driver` to `at` (`None`: as far as it goes
/// by itself, the end of a recording), draw that frame at `size` without
/// a terminal, with the UI's theme, keys and language, and write it as SVG
/// to `path`.
pub fn capture(
    driver: &mut dyn Driver,
    at: Option<f64>,
    size: Size,
    ui: UiSettings,
    path: &Path,
) -> Result<(), String> {
    if driver.mode() == Mode::Live {
        return Err("--screenshot works in demo and replay; in live mode press S".into());
    }
    let buf = frame_at(driver, at, size, ui)?;
    write(path, &frame_svg(&buf))
}

/// The frame the terminal UI would show at `at`, drawn into a buffer.
pub fn frame_at(
    driver: &mut dyn Driver,
    at: Option<f64>,
    size: Size,
    ui: UiSettings,
) -> Result<Buffer, String> {
    driver.set_lang(ui.lang);
    // Paused, so that real time passing while we work moves nothing.
    let _ = driver.command(Command::Pause(true));
    let t = match at {
        Some(t) => t,
        None => match driver.playback().progress {
            Some((_, end)) if end.is_finite() => end,
            _ => {
                return Err(
                    "--screenshot needs --duration SECS: the moment of the run to draw".into(),
                );
            }
        },
    };
    driver.command(Command::Seek(t))?;
    let mut model = Model::new(driver.two_hosts());
    let mut view = View::new(ui.theme).with_keys(ui.keys).with_lang(ui.lang);
    // Whatever the seek handed out, then anything left at the same moment.
    for _ in 0..1000 {
        if driver.take_rewind() {
            model.reset();
        }
        let events = driver.poll();
        if events.is_empty() {
            break;
        }
        model.ingest_all(events);
    }
    if let Some(n) = driver.take_notice() {
        view.complain(n);
    }
    let mut clock = StatusLine::of(&*driver);
    // The picture is of the run at that moment, as the UI shows it while
    // it runs (the pause above is ours, not the person's).
    clock.playback.paused = false;
    let mut term = Terminal::new(TestBackend::new(size.width, size.height))
        .map_err(|e| format!("cannot draw the screenshot: {e}"))?;
    // Two passes, as the UI's loop does: the first settles the selection
    // and the page size the second draws with.
    for _ in 0..2 {
        model.pinned = view.selected;
        term.draw(|f| render::draw(f, &model, &mut view, &clock))
            .map_err(|e| format!("cannot draw the screenshot: {e}"))?;
    }
    Ok(term.backend().buffer().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(
            parse_size("120x40"),
            Ok(Size {
                width: 120,
                height: 40
            })
        );
        assert_eq!(parse_size("80×24").map(|s| s.width), Ok(80));
        assert!(parse_size("120").unwrap_err().contains("120x40"));
        assert!(parse_size("60x20").unwrap_err().contains("at least 80x24"));
        assert!(parse_size("5000x40").unwrap_err().contains("too large"));
    }

    #[test]
    fn key_names_never_overwrite() {
        let dir = std::env::temp_dir().join(format!("tcpscope-shot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = key_path(&dir, 1.1);
        assert_eq!(first.file_name().unwrap(), "tcpscope-1.100.svg");
        std::fs::write(&first, "x").unwrap();
        assert_eq!(
            key_path(&dir, 1.1).file_name().unwrap(),
            "tcpscope-1.100-2.svg"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
