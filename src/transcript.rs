//! `--transcript FILE.md`: a demo's narration as a Markdown handout.
//!
//! Fed the run's events in order (headless, or through the demo driver's
//! tee under the TUI); each narration becomes a numbered step with the
//! ladder lines since the previous step, the event it explains marked `▶`.
//! Reads events only, as the UI does; knows nothing of engines or screens.

use std::collections::HashMap;
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

/// One ladder line of the handout: the event that drew it, rendered when
/// the handout is written, because an arrow learns things after it is
/// drawn (its receiver counts it as a duplicate ACK).
struct Line {
    event: Event,
    /// The receiver's duplicate ACK count, from its `segment in` event.
    dup_ack: Option<u32>,
    /// The event the step explains (`▶`).
    marked: bool,
}

impl Line {
    fn text(&self) -> String {
        let l = line_with(&self.event, self.dup_ack);
        if self.marked { mark(&l) } else { l }
    }
}

struct Step {
    t: f64,
    text: String,
    /// Indices into [`Transcript::lines`].
    lines: Vec<usize>,
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
    /// Every ladder line, in order; steps and `pending` index it.
    lines: Vec<Line>,
    /// Ladder lines since the last narration.
    pending: Vec<usize>,
    /// Segment ids already drawn, and their line: in a demo each segment is
    /// reported twice, `out` by its sender and `in` by its receiver, and is
    /// one arrow.
    drawn: HashMap<u64, usize>,
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
            lines: Vec::new(),
            pending: Vec::new(),
            drawn: HashMap::new(),
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
                if self.ladder_line(e) {
                    self.lines.push(Line {
                        event: e.clone(),
                        dup_ack: None,
                        marked: false,
                    });
                    let i = self.lines.len() - 1;
                    if let Body::Segment(s) = &e.body {
                        self.drawn.insert(s.seg.id, i);
                    }
                    self.pending.push(i);
                }
            }
        }
    }

    fn narration(&mut self, t: f64, text: &str, explains: Option<&Event>) {
        let mut lines = std::mem::take(&mut self.pending);
        if let Some(ex) = explains {
            // The line as the event itself draws it, whatever was learnt
            // about it since.
            let line = line_of(ex);
            match lines
                .iter()
                .rposition(|&i| line_of(&self.lines[i].event) == line)
            {
                Some(k) => self.lines[lines[k]].marked = true,
                None => {
                    self.lines.push(Line {
                        event: ex.clone(),
                        dup_ack: None,
                        marked: true,
                    });
                    lines.push(self.lines.len() - 1);
                }
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

    /// Whether the event is a ladder line: not what the ladder does not
    /// draw, nor a segment already drawn as its sender's arrow (whose line
    /// takes the receiver's duplicate ACK count instead).
    fn ladder_line(&mut self, e: &Event) -> bool {
        match &e.body {
            Body::Segment(s) => {
                if let Some(&i) = self.drawn.get(&s.seg.id)
                    && s.dir == Dir::In
                {
                    if s.dup_ack.is_some() {
                        self.lines[i].dup_ack = s.dup_ack;
                    }
                    return false;
                }
            }
            Body::Timer(t) if t.action != TimerAction::Fired => return false,
            Body::Keepalive(k)
                if matches!(
                    k.action,
                    KeepaliveAction::Enabled | KeepaliveAction::Disabled
                ) =>
            {
                return false;
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
            _ => return false,
        }
        true
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
             数据段写成 `seq 起点:终点`；win 是线路上的窗口字段（未按窗口扩大因子换算）；\
             `sack 左-右,…` 是 ACK 携带的 SACK 块（接收方已收到的、ack 之上的数据，同为绝对值），\
             `dup ACK #n` 是接收方数到的第 n 个重复 ACK。\
             `●` 是状态变化，`◷` 是计时器到期，`▣`/`□` 是 TCB 的分配和释放，`✗` 是丢弃，\
             `▶` 标出这一步讲解的事件。\n\n"
        } else {
            "> Reading the ladder lines under each step: time in (virtual) seconds; \
             `client → server` is a segment, with its flags and fields; seq and ack \
             are **absolute**, as on the wire (each side's ISN is the seq of its SYN), \
             a data segment's as `seq first:end`; win is the window field as on the \
             wire (unscaled); `sack left-right,…` are an ACK's SACK blocks (what \
             arrived above the ack, absolute too) and `dup ACK #n` the n-th duplicate \
             ACK its receiver counted. `●` is a state change, `◷` a timer that fired, `▣`/`□` \
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
            for &i in &s.lines {
                md.push_str(&self.lines[i].text());
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

/// A segment's fields, its receiver's duplicate ACK count and its SACK
/// blocks, in the ladder's order: `ACK seq 1 ack 1449 win 32587 dup ACK #2
/// sack 2897-4345`.
fn segment_words(s: &SegFields, dup_ack: Option<u32>) -> String {
    let mut t = segment_text(s);
    if let Some(n) = dup_ack {
        t.push_str(&format!(" dup ACK #{n}"));
    }
    if let Some(b) = sack_text(&s.opts, |edge| edge) {
        t.push(' ');
        t.push_str(&b);
    }
    t
}

/// One event as a ladder line: `   0.100  client → server  SYN seq …`.
pub fn line_of(e: &Event) -> String {
    line_with(e, None)
}

/// [`line_of`], with the duplicate ACK count the segment's receiver gave
/// it (a demo's `out` event cannot know it).
fn line_with(e: &Event, dup_ack: Option<u32>) -> String {
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
            let dup = s.dup_ack.or(dup_ack);
            format!("{}  {pre}{}", arrow(s.dir), segment_words(&s.seg, dup))
        }
        Body::Drop(d) => match &d.seg {
            Some(s) => format!(
                "{}  {} ✗ {}",
                arrow(d.dir),
                segment_words(s, None),
                d.reason.name()
            ),
            None => format!("{host}  ✗ {} ({})", d.reason.name(), d.dir.name()),
        },
        Body::Hold(h) => format!("{}  {} ‖ held", arrow(h.dir), segment_words(&h.seg, None)),
        Body::Release(h) => format!("{}  {} released", arrow(h.dir), segment_words(&h.seg, None)),
        Body::Fault(f) => format!(
            "{}  {} [{}]",
            arrow(f.dir),
            segment_words(&f.seg, None),
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
        // What the run says of itself (a speed change, …): its words.
        Body::Info { msg } => match &e.host {
            Some(h) => format!("{h}  {msg}"),
            None => msg.clone(),
        },
        _ => format!("{host}  {}", e.kind()),
    };
    format!("{:>8.3}  {what}", e.t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Body;
    use crate::scenario::{Overrides, Run};
    use crate::time::Instant;
    use crate::wire::Flags;

    /// A built-in scenario run to `until`: its events and its handout.
    fn handout(name: &str, until: f64) -> (Vec<Event>, String) {
        let sc = Scenario::builtin(name).expect("built in");
        let mut run = Run::new(sc.clone(), &Overrides::default());
        run.advance(Instant::from_secs_f64(until));
        let events = run.take_events();
        let mut t = Transcript::new(Path::new("handout.md"), &sc, Lang::En);
        for e in &events {
            t.ingest(e);
        }
        (events, t.render())
    }

    /// The ISN of `host`'s SYN.
    fn isn(events: &[Event], host: &str) -> u32 {
        events
            .iter()
            .find_map(|e| match &e.body {
                Body::Segment(s)
                    if e.host.as_deref() == Some(host)
                        && s.dir == Dir::Out
                        && s.seg.flags.contains(Flags::SYN) =>
                {
                    Some(s.seg.seq)
                }
                _ => None,
            })
            .expect("a SYN")
    }

    #[test]
    fn acks_keep_their_sack_blocks_and_duplicate_count() {
        let (events, md) = handout("sack-recovery", 2.0);
        let (c, s) = (isn(&events, "client"), isn(&events, "server"));
        let lines: Vec<&str> = md.lines().collect();
        // The server's ACKs as it sent them, each with what its receiver
        // (the client) counted it as, and its blocks absolute, most recent
        // first (RFC 2018 §4), as the ladder writes them.
        let ack = |t: &str, n: u32, blocks: &[(u32, u32)]| {
            let b: Vec<String> = blocks
                .iter()
                .map(|(l, r)| format!("{}-{}", c.wrapping_add(*l), c.wrapping_add(*r)))
                .collect();
            format!(
                "{t}  server → client  ACK seq {} ack {} win 32587 dup ACK #{n} sack {}",
                s.wrapping_add(1),
                c.wrapping_add(1449),
                b.join(",")
            )
        };
        for want in [
            ack("   0.552", 1, &[(2897, 4345)]),
            ack("   0.553", 2, &[(2897, 5793)]),
            ack("▶  0.555", 3, &[(7241, 8689), (2897, 5793)]),
            ack(
                "   0.558",
                5,
                &[(11585, 13033), (7241, 10137), (2897, 5793)],
            ),
        ] {
            assert!(lines.contains(&want.as_str()), "no {want:?} in\n{md}");
        }
        assert!(
            md.contains(
                "`sack left-right,…` are an ACK's SACK blocks (what arrived above the ack, \
                 absolute too) and `dup ACK #n` the n-th duplicate ACK its receiver counted."
            ),
            "the reading guide says what they are:\n{md}"
        );
    }

    #[test]
    fn a_run_of_duplicate_acks_is_no_run_of_identical_lines() {
        let (_, md) = handout("bulk-with-loss", 0.6);
        let acks: Vec<&str> = md
            .lines()
            .filter(|l| l.starts_with("   0.510  server → client  ACK "))
            .collect();
        assert_eq!(acks.len(), 7, "{md}");
        for (i, l) in acks.iter().enumerate() {
            assert!(!acks[..i].contains(l), "{l:?} twice in\n{md}");
            if i > 0 {
                assert!(l.contains(&format!(" dup ACK #{i} sack ")), "{l:?}");
            }
        }
    }

    #[test]
    fn an_explained_info_shows_its_message() {
        let sc = Scenario::builtin("tour").expect("built in");
        let mut t = Transcript::new(Path::new("handout.md"), &sc, Lang::En);
        for line in [
            r#"{"t":141.0,"kind":"info","msg":"speed ×600"}"#,
            r#"{"t":141.0,"kind":"narration","lang":"en","text":"Chapter 9, a dead peer.","explains":{"t":141.0,"kind":"info","msg":"speed ×600"}}"#,
        ] {
            t.ingest(&serde_json::from_str(line).unwrap());
        }
        let md = t.render();
        assert!(
            md.contains("Chapter 9, a dead peer.\n\n```text\n▶  141.000  speed ×600\n```\n"),
            "{md}"
        );
    }
}
