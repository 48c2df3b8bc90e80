//! A frame as an SVG picture, for slides and documents (`S`,
//! `--screenshot FILE.svg`).
//!
//! Pure: a ratatui [`Buffer`] in, a `String` out. Text stays text: one
//! `<text>` element per run of cells of the same style on a row, in a
//! monospace font, each run stretched to exactly its cells' width
//! (`textLength`) so that columns line up whatever font the viewer picks.
//! A background that is not the default is a `<rect>` under its run.
//! Colours become CSS colours (the 16 named ones from one palette, the 256
//! indexed ones as xterm draws them, RGB as given); `Reset` becomes the
//! palette's default foreground or background. Bold, italic, underlined,
//! crossed out, dim (lower opacity), reversed (colours swapped) and hidden
//! (no text) are kept.

use std::fmt::Write;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use unicode_width::UnicodeWidthStr;

/// The colours a terminal would give: the default foreground and
/// background (what `Color::Reset` means) and the 16 named colours in
/// ANSI order (black, red, green, yellow, blue, magenta, cyan, gray, then
/// the bright ones: dark gray … white).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Palette {
    pub fg: (u8, u8, u8),
    pub bg: (u8, u8, u8),
    pub ansi: [(u8, u8, u8); 16],
}

impl Palette {
    /// A dark terminal (the colours of VS Code's integrated terminal).
    pub const DARK: Palette = Palette {
        fg: (0xcc, 0xcc, 0xcc),
        bg: (0x1e, 0x1e, 0x1e),
        ansi: [
            (0x00, 0x00, 0x00),
            (0xcd, 0x31, 0x31),
            (0x0d, 0xbc, 0x79),
            (0xe5, 0xe5, 0x10),
            (0x24, 0x72, 0xc8),
            (0xbc, 0x3f, 0xbc),
            (0x11, 0xa8, 0xcd),
            (0xe5, 0xe5, 0xe5),
            (0x66, 0x66, 0x66),
            (0xf1, 0x4c, 0x4c),
            (0x23, 0xd1, 0x8b),
            (0xf5, 0xf5, 0x43),
            (0x3b, 0x8e, 0xea),
            (0xd6, 0x70, 0xd6),
            (0x29, 0xb8, 0xdb),
            (0xff, 0xff, 0xff),
        ],
    };
}

impl Default for Palette {
    fn default() -> Palette {
        Palette::DARK
    }
}

/// Font size and cell size, in SVG user units (px).
const FONT_SIZE: f64 = 14.0;
const CELL_W: f64 = 8.4;
const CELL_H: f64 = 17.0;
/// Where the baseline sits in a cell, from its top.
const BASELINE: f64 = 13.0;
const FONTS: &str = "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', 'Courier New', monospace";

/// A colour as CSS writes it.
fn css((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// A ratatui colour as RGB; `None` for `Reset` (the default).
pub fn rgb(c: Color, p: &Palette) -> Option<(u8, u8, u8)> {
    let named = |i: usize| Some(p.ansi[i]);
    match c {
        Color::Reset => None,
        Color::Black => named(0),
        Color::Red => named(1),
        Color::Green => named(2),
        Color::Yellow => named(3),
        Color::Blue => named(4),
        Color::Magenta => named(5),
        Color::Cyan => named(6),
        Color::Gray => named(7),
        Color::DarkGray => named(8),
        Color::LightRed => named(9),
        Color::LightGreen => named(10),
        Color::LightYellow => named(11),
        Color::LightBlue => named(12),
        Color::LightMagenta => named(13),
        Color::LightCyan => named(14),
        Color::White => named(15),
        Color::Rgb(r, g, b) => Some((r, g, b)),
        Color::Indexed(i) => Some(indexed(i, p)),
    }
}

/// xterm's 256 colours: the 16 named ones, a 6×6×6 cube, 24 greys.
fn indexed(i: u8, p: &Palette) -> (u8, u8, u8) {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    match i {
        0..=15 => p.ansi[i as usize],
        16..=231 => {
            let n = i - 16;
            (
                LEVELS[(n / 36) as usize],
                LEVELS[(n / 6 % 6) as usize],
                LEVELS[(n % 6) as usize],
            )
        }
        _ => {
            let v = 8 + 10 * (i - 232);
            (v, v, v)
        }
    }
}

/// What a cell looks like once colours are resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Look {
    fg: (u8, u8, u8),
    /// `None`: the default background (no rectangle).
    bg: Option<(u8, u8, u8)>,
    bold: bool,
    italic: bool,
    underline: bool,
    crossed: bool,
    dim: bool,
    hidden: bool,
}

fn look(fg: Color, bg: Color, m: Modifier, p: &Palette) -> Look {
    let (mut f, mut b) = (rgb(fg, p).unwrap_or(p.fg), rgb(bg, p));
    if m.contains(Modifier::REVERSED) {
        let old_f = f;
        f = b.unwrap_or(p.bg);
        b = Some(old_f);
    }
    Look {
        fg: f,
        bg: b.filter(|c| *c != p.bg),
        bold: m.contains(Modifier::BOLD),
        italic: m.contains(Modifier::ITALIC),
        underline: m.contains(Modifier::UNDERLINED),
        crossed: m.contains(Modifier::CROSSED_OUT),
        dim: m.contains(Modifier::DIM),
        hidden: m.contains(Modifier::HIDDEN),
    }
}

/// Text made safe for XML: the five special characters escaped, and
/// characters XML 1.0 does not allow (controls) replaced by a space.
pub fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push(' '),
            c => out.push(c),
        }
    }
}

/// A run of cells on one row: where it starts, how many columns, its text.
struct Run {
    x: u16,
    cols: u16,
    text: String,
    look: Look,
}

/// The runs of one row: neighbouring cells of the same look together. A
/// wide character takes its columns, and the cells it covers are skipped.
fn runs(buf: &Buffer, y: u16, p: &Palette) -> Vec<Run> {
    let area = buf.area;
    let mut out: Vec<Run> = Vec::new();
    let mut x = 0u16;
    while x < area.width {
        let cell = &buf[(area.x + x, area.y + y)];
        let sym = cell.symbol();
        let w = if sym.len() == 1 {
            1
        } else {
            (sym.width() as u16).max(1)
        }
        .min(area.width - x);
        let lk = look(cell.fg, cell.bg, cell.modifier, p);
        match out.last_mut() {
            Some(r) if r.look == lk && r.x + r.cols == x => {
                r.cols += w;
                r.text.push_str(sym);
            }
            _ => out.push(Run {
                x,
                cols: w,
                text: sym.to_string(),
                look: lk,
            }),
        }
        x += w;
    }
    out
}

/// The SVG of a frame, with `Reset` meaning the palette's defaults.
pub fn render(buf: &Buffer, p: &Palette) -> String {
    let area = buf.area;
    let (w, h) = (
        f64::from(area.width) * CELL_W,
        f64::from(area.height) * CELL_H,
    );
    let mut s = String::with_capacity(usize::from(area.width) * usize::from(area.height) * 8);
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" font-family=\"{FONTS}\" font-size=\"{FONT_SIZE}\" \
         xml:space=\"preserve\">\n\
         <style>text {{ white-space: pre; }}</style>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"{}\"/>\n",
        css(p.bg)
    );
    let rows: Vec<Vec<Run>> = (0..area.height).map(|y| runs(buf, y, p)).collect();
    // Backgrounds first, so that no rectangle covers a neighbour's text;
    // neighbouring runs on the same background make one rectangle.
    for (y, row) in rows.iter().enumerate() {
        let mut spans: Vec<(u16, u16, (u8, u8, u8))> = Vec::new();
        for r in row {
            let Some(bg) = r.look.bg else { continue };
            match spans.last_mut() {
                Some((x, cols, c)) if *c == bg && *x + *cols == r.x => *cols += r.cols,
                _ => spans.push((r.x, r.cols, bg)),
            }
        }
        for (x, cols, bg) in spans {
            let _ = writeln!(
                s,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{CELL_H}\" fill=\"{}\"/>",
                num(f64::from(x) * CELL_W),
                num(y as f64 * CELL_H),
                num(f64::from(cols) * CELL_W),
                css(bg)
            );
        }
    }
    for (y, row) in rows.iter().enumerate() {
        for r in row {
            if r.look.hidden || r.text.chars().all(|c| c == ' ') {
                continue;
            }
            let l = &r.look;
            let _ = write!(
                s,
                "<text x=\"{}\" y=\"{}\" textLength=\"{}\" fill=\"{}\"",
                num(f64::from(r.x) * CELL_W),
                num(y as f64 * CELL_H + BASELINE),
                num(f64::from(r.cols) * CELL_W),
                css(l.fg)
            );
            if l.bold {
                s.push_str(" font-weight=\"bold\"");
            }
            if l.italic {
                s.push_str(" font-style=\"italic\"");
            }
            match (l.underline, l.crossed) {
                (true, true) => s.push_str(" text-decoration=\"underline line-through\""),
                (true, false) => s.push_str(" text-decoration=\"underline\""),
                (false, true) => s.push_str(" text-decoration=\"line-through\""),
                (false, false) => {}
            }
            if l.dim {
                s.push_str(" opacity=\"0.6\"");
            }
            s.push('>');
            escape(&r.text, &mut s);
            s.push_str("</text>\n");
        }
    }
    s.push_str("</svg>\n");
    s
}

/// A coordinate without float noise (`16.8`, not `16.800000000000001`).
fn num(v: f64) -> String {
    let r = (v * 100.0).round() / 100.0;
    format!("{r}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    fn buf(lines: &[&str]) -> Buffer {
        Buffer::with_lines(lines.iter().copied())
    }

    #[test]
    fn colours_become_css() {
        let p = Palette::DARK;
        assert_eq!(rgb(Color::Reset, &p), None);
        assert_eq!(rgb(Color::Rgb(40, 52, 72), &p), Some((40, 52, 72)));
        assert_eq!(rgb(Color::Red, &p), Some(p.ansi[1]));
        assert_eq!(rgb(Color::White, &p), Some(p.ansi[15]));
        assert_eq!(rgb(Color::Indexed(9), &p), rgb(Color::LightRed, &p));
        assert_eq!(rgb(Color::Indexed(16), &p), Some((0, 0, 0)));
        assert_eq!(rgb(Color::Indexed(196), &p), Some((255, 0, 0)));
        assert_eq!(rgb(Color::Indexed(231), &p), Some((255, 255, 255)));
        assert_eq!(rgb(Color::Indexed(232), &p), Some((8, 8, 8)));
        assert_eq!(rgb(Color::Indexed(255), &p), Some((238, 238, 238)));
        assert_eq!(css((40, 52, 72)), "#283448");
    }

    #[test]
    fn one_text_per_run_of_the_same_style() {
        let mut b = buf(&["ab cd  ", "xyz    "]);
        b.set_style(Rect::new(3, 0, 2, 1), Style::new().fg(Color::Red).bold());
        let svg = render(&b, &Palette::DARK);
        // "ab " and "  " at the end share the default style but are not
        // neighbours: three runs on the first row, two of them with text.
        assert_eq!(svg.matches("<text").count(), 3, "{svg}");
        assert!(svg.contains(">ab </text>"), "{svg}");
        assert!(svg.contains("fill=\"#cd3131\" font-weight=\"bold\">cd</text>"));
        assert!(svg.contains("x=\"25.2\""), "cd starts in column 3: {svg}");
        assert!(svg.contains(">xyz    </text>"));
    }

    #[test]
    fn reset_means_the_palettes_defaults() {
        let b = buf(&["hi"]);
        let svg = render(&b, &Palette::DARK);
        assert!(svg.contains("fill=\"#cccccc\">hi</text>"), "{svg}");
        assert!(svg.contains("<rect width=\"100%\" height=\"100%\" fill=\"#1e1e1e\"/>"));
        // No rectangle for the default background.
        assert_eq!(svg.matches("<rect").count(), 1);
    }

    #[test]
    fn backgrounds_and_emphasis() {
        let mut b = buf(&["sel  dim  und  rev  "]);
        b.set_style(
            Rect::new(0, 0, 5, 1),
            Style::new().bg(Color::Rgb(40, 52, 72)).italic(),
        );
        b.set_style(Rect::new(5, 0, 5, 1), Style::new().dim());
        b.set_style(
            Rect::new(10, 0, 5, 1),
            Style::new().underlined().crossed_out(),
        );
        b.set_style(Rect::new(15, 0, 5, 1), Style::new().reversed());
        let svg = render(&b, &Palette::DARK);
        assert!(
            svg.contains("<rect x=\"0\" y=\"0\" width=\"42\" height=\"17\" fill=\"#283448\"/>"),
            "{svg}"
        );
        assert!(svg.contains("font-style=\"italic\">sel  </text>"), "{svg}");
        assert!(svg.contains("opacity=\"0.6\">dim  </text>"));
        assert!(svg.contains("text-decoration=\"underline line-through\">und  </text>"));
        // Reversed: default background as text, default foreground behind.
        assert!(svg.contains("fill=\"#cccccc\"/>"), "{svg}");
        assert!(svg.contains("fill=\"#1e1e1e\">rev  </text>"), "{svg}");
    }

    #[test]
    fn text_is_escaped_and_controls_removed() {
        let mut b = buf(&["<a&b>\"'  "]);
        b[(7, 0)].set_symbol("\u{1}");
        let svg = render(&b, &Palette::DARK);
        assert!(
            svg.contains(">&lt;a&amp;b&gt;&quot;&apos;  </text>"),
            "{svg}"
        );
        assert!(!svg.contains('\u{1}'));
    }

    #[test]
    fn wide_characters_take_two_columns() {
        let b = buf(&["日本x "]);
        let svg = render(&b, &Palette::DARK);
        // Six columns: 日 (2) 本 (2) x (1) space (1); the covered cells
        // are not written again.
        assert!(svg.contains("textLength=\"50.4\""), "{svg}");
        assert!(svg.contains(">日本x </text>"), "{svg}");
    }

    #[test]
    fn hidden_and_blank_runs_write_no_text() {
        let mut b = buf(&["secret    "]);
        b.set_style(Rect::new(0, 0, 6, 1), Style::new().hidden().fg(Color::Blue));
        let svg = render(&b, &Palette::DARK);
        assert!(!svg.contains("secret"));
        assert_eq!(svg.matches("<text").count(), 0);
    }

    #[test]
    fn size_follows_the_buffer() {
        let b = Buffer::empty(Rect::new(0, 0, 120, 40));
        let svg = render(&b, &Palette::DARK);
        assert!(svg.starts_with(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1008\" height=\"680\""
        ));
        assert!(svg.ends_with("</svg>\n"));
    }
}
