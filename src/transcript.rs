//! `--transcript FILE.md`: a demo's narration as a Markdown handout.
//!
//! Fed the run's events in order (headless, or through the demo driver's
//! tee under the TUI); each narration becomes a numbered step with the
//! ladder lines since the previous step, the event it explains marked `▶`.
//! Reads events only, as the UI does; knows nothing of engines or screens.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::event::{Body, Dir, Event, KeepaliveAction, Opts, SegFields, TcbAction, TimerAction};
use crate::scenario::{Lang, Scenario};

/// Ladder lines kept per step: the ones closest to the explained event.
pub const MAX_LINES_PER_STEP: usize = 12;

/// The word before an ACK's SACK blocks, on the ladder and in the handout.
pub const SACK_WORD: &str = "sack";

/// `sack 2897-4345,5793-7241`: the SACK blocks (RFC 2018) an ACK carries,
/// in the order the receiver put them (§4: the most recent first), each
/// edge through `num` (the ladder makes them relative; the handout keeps
/// them absolute); `None` without blocks. Here, below the UI, so that the
/// ladder and the handout write them alike.
pub fn sack_text(opts: &Opts, num: impl Fn(u32) -> u32) -> Option<String> {
    let blocks = &opts.0.sack;
    if blocks.is_empty() {
        return None;
    }
    let v: Vec<String> = blocks
        .iter()
        .map(|(l, r)| format!("{}-{}", num(l.0), num(r.0)))
        .collect();
    Some(format!("{SACK_WORD} {}", v.join(",")))
}

struct Step {
    t: f64,
    text: String,
    lines: Vec<String>,
    /// Ladder lines left out before `lines` (more than the step keeps).
    elided: usize,
}

/// A handout in the making: [`Transcript::ingest`] every event, then
/// [`Transcript::render`] or [`Transcript::write`].
pub struct Transcript {
    path: PathBuf,
    name: String,
    title: String,
    about: Option<String>,
    lang: Lang,
    steps: Vec<Step>,
    /// Ladder lines since the last narration.
    pending: Vec<String>,
    /// Segment ids already drawn: in a demo each segment is reported twice,
    /// `out` by its sender and `in` by its receiver, and is one arrow.
    drawn: HashSet<u64>,
    finished: bool,
    last_t: f64,
}

impl Transcript {
    /// A handout for `scenario` in `lang`, to be written to `path`.
    pub fn new(path: &Path, scenario: &Scenario, lang: Lang) -> Transcript {
        Transcript {
            path: path.to_path_buf(),
            name: scenario.name.clone(),
            title: scenario.title_for(lang).to_string(),
            about: scenario.about.clone(),
            lang,
            steps: Vec::new(),
            pending: Vec::new(),
            drawn: HashSet::new(),
            finished: false,
            last_t: 0.0,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Take the next event of the run.
    pub fn ingest(&mut self, e: &Event) {
        self.last_t = self.last_t.max(e.t);
        match &e.body {
            Body::Narration { text, explains, .. } => {
                self.narration(e.t, text, explains.as_deref())
            }
            Body::Info { msg } if msg.starts_with("scenario ") && msg.ends_with(" finished") => {
                self.finished = true;
            }
            _ => {
                if let Some(line) = self.ladder_line(e) {
                    self.pending.push(line);
                }
            }
        }
    }

    fn narration(&mut self, t: f64, text: &str, explains: Option<&Event>) {
        let mut lines = std::mem::take(&mut self.pending);
        if let Some(ex) = explains {
            let line = line_of(ex);
            match lines.iter().rposition(|l| *l == line) {
                Some(i) => lines[i] = mark(&lines[i]),
                None => lines.push(mark(&line)),
            }
        }
        let elided = lines.len().saturating_sub(MAX_LINES_PER_STEP);
        lines.drain(..elided);
        self.steps.push(Step {
            t,
            text: text.to_string(),
            lines,
            elided,
        });
    }

    /// The event as a ladder line, or `None` for what the ladder does not
    /// draw (or a segment already drawn as its sender's arrow).
    fn ladder_line(&mut self, e: &Event) -> Option<String> {
        match &e.body {
            Body::Segment(s) => {
                if !self.drawn.insert(s.seg.id) && s.dir == Dir::In {
                    return None;
                }
            }
            Body::Timer(t) if t.action != TimerAction::Fired => return None,
            Body::Keepalive(k)
                if matches!(
                    k.action,
                    KeepaliveAction::Enabled | KeepaliveAction::Disabled
                ) =>
            {
                return None;
            }
            Body::Drop(_)
            | Body::Hold(_)
            | Body::Release(_)
            | Body::Fault(_)
            | Body::State { .. }
            | Body::Timer(_)
            | Body::Keepalive(_)
            | Body::Tcb(_)
            | Body::Abort { .. }
            | Body::Recovery(_)
            | Body::Burst(_) => {}
            _ => return None,
        }
        Some(line_of(e))
    }

    /// The handout as Markdown.
    pub fn render(&self) -> String {
        let zh = self.lang == Lang::Zh;
        let mut md = format!("# {}\n\n", self.title);
        md.push_str(&format!(
            "*tcpscope demo {}* — {}\n\n",
            self.name,
            if zh {
                "讲义，由 `tcpscope demo --transcript` 生成"
            } else {
                "a handout written by `tcpscope demo --transcript`"
            }
        ));
        if let Some(about) = &self.about {
            let para = about.split_whitespace().collect::<Vec<_>>().join(" ");
            md.push_str(&para);
            md.push_str("\n\n");
        }
        md.push_str(if zh {
            "> 如何阅读每一步下面的时序图行：第一列是时间（虚拟时间，秒）；\
             `client → server` 是一个报文段，后面是它的标志位和字段；\
             seq 和 ack 是**绝对值**，与线路上的一样（双方的 ISN 就是各自 SYN 的 seq），\
             数据段写成 `seq 起点:终点`；win 是线路上的窗口字段（未按窗口扩大因子换算）。\
             `●` 是状态变化，`◷` 是计时器到期，`▣`/`□` 是 TCB 的分配和释放，`✗` 是丢弃，\
             `▶` 标出这一步讲解的事件。\n\n"
        } else {
            "> Reading the ladder lines under each step: time in (virtual) seconds; \
             `client → server` is a segment, with its flags and fields; seq and ack \
             are **absolute**, as on the wire (each side's ISN is the seq of its SYN), \
             a data segment's as `seq first:end`; win is the window field as on the \
             wire (unscaled). `●` is a state change, `◷` a timer that fired, `▣`/`□` \
             a TCB allocated/freed, `✗` a drop; `▶` marks the event the step explains.\n\n"
        });
        for (i, s) in self.steps.iter().enumerate() {
            md.push_str(&format!("## {} · t = {:.3} s\n\n", i + 1, s.t));
            md.push_str(&s.text);
            md.push_str("\n\n```text\n");
            if s.elided > 0 {
                md.push_str(&if zh {
                    format!("          …（前面还有 {} 行）\n", s.elided)
                } else {
                    format!("          … ({} earlier lines)\n", s.elided)
                });
            }
            for l in &s.lines {
                md.push_str(l);
                md.push('\n');
            }
            md.push_str("```\n\n");
        }
        if self.steps.is_empty() {
            md.push_str(if zh {
                "（这次运行没有讲解。）\n"
            } else {
                "(No narration in this run.)\n"
            });
        } else if !self.finished {
            md.push_str(&if zh {
                format!(
                    "（运行在 t = {:.3} s 时停止，场景尚未结束。）\n",
                    self.last_t
                )
            } else {
                format!(
                    "(The run was stopped at t = {:.3} s, before the scenario's end.)\n",
                    self.last_t
                )
            });
        }
        md
    }

    /// Write the handout to its file; `Err` is one sentence.
    pub fn write(&self) -> Result<(), String> {
        std::fs::write(&self.path, self.render())
            .map_err(|e| format!("cannot write the transcript {}: {e}", self.path.display()))
    }
}

fn mark(line: &str) -> String {
    format!("▶ {}", line.strip_prefix("  ").unwrap_or(line))
}

/// The host at the other end of a demo's wire.
fn other(host: &str) -> &str {
    match host {
        "client" => "server",
        "server" => "client",
        _ => "peer",
    }
}

/// `SYN seq 123 win 65535`, `PSH+ACK seq 1000:1031 ack 77 win 512 len 31`.
pub fn segment_text(s: &SegFields) -> String {
    let seq = if s.len > 0 {
        format!("{}:{}", s.seq, s.seq.wrapping_add(s.len))
    } else {
        s.seq.to_string()
    };
    let mut t = format!("{} seq {seq}", s.flags.words());
    if s.flags.ack() {
        t.push_str(&format!(" ack {}", s.ack));
    }
    t.push_str(&format!(" win {}", s.win));
    if s.len > 0 {
        t.push_str(&format!(" len {}", s.len));
    }
    t
}

/// One event as a ladder line: `   0.100  client → server  SYN seq …`.
pub fn line_of(e: &Event) -> String {
    let host = e.host.as_deref().unwrap_or("-");
    // Who sent a segment reported with `dir` by `host`.
    let arrow = |dir: Dir| match dir {
        Dir::Out => format!("{host} → {}", other(host)),
        Dir::In => format!("{} → {host}", other(host)),
    };
    let what = match &e.body {
        Body::Segment(s) => {
            let mut pre = String::new();
            if s.probe {
                pre.push_str("⚑ TLP ");
            } else if s.retransmit {
                match s.rtx {
                    Some(c) => pre.push_str(&format!("↻ {} ", c.name())),
                    None => pre.push_str("↻ "),
                }
            }
            let mut t = format!("{}  {pre}{}", arrow(s.dir), segment_text(&s.seg));
            if let Some(n) = s.dup_ack {
                t.push_str(&format!(" dup ACK #{n}"));
            }
            t
        }
        Body::Drop(d) => match &d.seg {
            Some(s) => format!(
                "{}  {} ✗ {}",
                arrow(d.dir),
                segment_text(s),
                d.reason.name()
            ),
            None => format!("{host}  ✗ {} ({})", d.reason.name(), d.dir.name()),
        },
        Body::Hold(h) => format!("{}  {} ‖ held", arrow(h.dir), segment_text(&h.seg)),
        Body::Release(h) => format!("{}  {} released", arrow(h.dir), segment_text(&h.seg)),
        Body::Fault(f) => format!(
            "{}  {} [{}]",
            arrow(f.dir),
            segment_text(&f.seg),
            f.action.name()
        ),
        Body::State { from, to, .. } => {
            format!("{host}  ● {} → {}", from.name(), to.name())
        }
        Body::Timer(t) => {
            let action = match t.action {
                TimerAction::Armed => "armed",
                TimerAction::Cancelled => "cancelled",
                TimerAction::Fired => "fired",
            };
            match (t.action, t.deadline) {
                (TimerAction::Armed, Some(d)) => {
                    format!("{host}  ◷ {} {action} (due at {d:.3})", t.timer.name())
                }
                _ => format!("{host}  ◷ {} {action}", t.timer.name()),
            }
        }
        Body::Keepalive(k) => match k.action {
            KeepaliveAction::ProbeSent => {
                format!("{host}  keepalive probe {}/{} sent", k.probe, k.of)
            }
            KeepaliveAction::Answered => format!("{host}  keepalive probe {} answered", k.probe),
            KeepaliveAction::Dead => format!("{host}  keepalive: peer dead after {} probes", k.of),
            KeepaliveAction::Enabled => match (k.idle, k.interval) {
                (Some(i), Some(v)) => format!(
                    "{host}  keepalive on: idle {i} s, interval {v} s, {} probes",
                    k.of
                ),
                _ => format!("{host}  keepalive on"),
            },
            KeepaliveAction::Disabled => format!("{host}  keepalive off"),
        },
        Body::Tcb(t) => match t.action {
            TcbAction::Allocated => format!("{host}  ▣ TCB allocated"),
            TcbAction::Freed => format!("{host}  □ TCB freed"),
        },
        Body::Abort { reason } => format!("{host}  ✗ abort: {}", reason.name()),
        Body::Recovery(r) => match r.by {
            Some(by) => format!("{host}  · loss found by {}: {}", by.name(), r.action.name()),
            None => format!("{host}  · recovery: {}", r.action.name()),
        },
        Body::Burst(b) => format!(
            "{}  {} segments, {} bytes",
            arrow(b.dir),
            b.segments,
            b.bytes
        ),
        Body::App { msg, .. } => format!("{host}  app: {msg}"),
        _ => format!("{host}  {}", e.kind()),
    };
    format!("{:>8.3}  {what}", e.t)
}
