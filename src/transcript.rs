//! `--transcript FILE.md`: a demo's narration as a Markdown handout.
//!
//! Fed the run's events in order (headless, or through the demo driver's
//! tee under the TUI); each narration becomes a numbered step with the
//! ladder lines since the previous step, the event it explains marked `▶`.
//! Reads events only, as the UI does; knows nothing of engines or screens.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::event::{Body, Dir, Event, KeepaliveAction, Opts, SegFields, TcbAction, TimerAction};
use crate::i18n::{self, Lang, Messages};
use crate::scenario::Scenario;

/// Ladder lines kept per step: the ones closest to the explained event.
pub const MAX_LINES_PER_STEP: usize = 12;

/// `sack 2897-4345,5793-7241`: the SACK blocks (RFC 2018) an ACK carries,
/// after `word` (the catalogue's `sack_word`), in the order the receiver
/// put them (§4: the most recent first), each edge through `num` (the
/// ladder makes them relative; the handout keeps them absolute); `None`
/// without blocks. Here, below the UI, so that the ladder and the handout
/// write them alike.
pub fn sack_text(word: &str, opts: &Opts, num: impl Fn(u32) -> u32) -> Option<String> {
    let blocks = &opts.0.sack;
    if blocks.is_empty() {
        return None;
    }
    let v: Vec<String> = blocks
        .iter()
        .map(|(l, r)| format!("{}-{}", num(l.0), num(r.0)))
        .collect();
    Some(format!("{word} {}", v.join(",")))
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
    fn text(&self, m: &Messages) -> String {
        let l = line_with(m, &self.event, self.dup_ack);
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
            about: scenario.about_for(lang).map(str::to_string),
            lang,
            steps: Vec::new(),
            lines: Vec::new(),
            pending: Vec::new(),
            drawn: HashMap::new(),
            finished: false,
            last_t: 0.0,
        }
    }

    /// A handout for a run that is no scenario (`tcpscope demo FILE.pkt`),
    /// named and titled by its caller.
    pub fn named(path: &Path, name: &str, title: &str, lang: Lang) -> Transcript {
        Transcript {
            path: path.to_path_buf(),
            name: name.to_string(),
            title: title.to_string(),
            about: None,
            lang,
            steps: Vec::new(),
            lines: Vec::new(),
            pending: Vec::new(),
            drawn: HashMap::new(),
            finished: false,
            last_t: 0.0,
        }
    }

    /// The run ended by itself (a script played to its end or its failure).
    pub fn set_finished(&mut self) {
        self.finished = true;
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

    /// The handout as Markdown, in its language.
    pub fn render(&self) -> String {
        let m = i18n::messages(self.lang);
        let mut md = format!("# {}\n\n", self.title);
        md.push_str(&format!(
            "*tcpscope demo {}* — {}\n\n",
            self.name, m.tr_written_by
        ));
        if let Some(about) = &self.about {
            let para = about.split_whitespace().collect::<Vec<_>>().join(" ");
            md.push_str(&para);
            md.push_str("\n\n");
        }
        md.push_str(m.tr_reading);
        md.push_str("\n\n");
        for (i, s) in self.steps.iter().enumerate() {
            md.push_str(&format!(
                "## {}\n\n",
                m.tr_step(i + 1, &format!("{:.3}", s.t))
            ));
            md.push_str(&s.text);
            md.push_str("\n\n```text\n");
            if s.elided > 0 {
                md.push_str(&format!("          {}\n", m.tr_elided(s.elided)));
            }
            for &i in &s.lines {
                md.push_str(&self.lines[i].text(m));
                md.push('\n');
            }
            md.push_str("```\n\n");
        }
        if self.steps.is_empty() {
            md.push_str(m.tr_no_narration);
            md.push('\n');
        } else if !self.finished {
            md.push_str(&m.tr_stopped(&format!("{:.3}", self.last_t)));
            md.push('\n');
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
pub fn segment_text(m: &Messages, s: &SegFields) -> String {
    let seq = if s.len > 0 {
        format!("{}:{}", s.seq, s.seq.wrapping_add(s.len))
    } else {
        s.seq.to_string()
    };
    let mut t = format!("{} seq {seq}", m.flag_words(s.flags));
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
fn segment_words(m: &Messages, s: &SegFields, dup_ack: Option<u32>) -> String {
    let mut t = segment_text(m, s);
    if let Some(n) = dup_ack {
        t.push(' ');
        t.push_str(&m.dup_ack_label(n));
    }
    if let Some(b) = sack_text(m.sack_word, &s.opts, |edge| edge) {
        t.push(' ');
        t.push_str(&b);
    }
    t
}

/// One event as a ladder line: `   0.100  client → server  SYN seq …`
/// (in English: a narration's `explains` is found by it).
pub fn line_of(e: &Event) -> String {
    line_with(i18n::messages(Lang::En), e, None)
}

/// [`line_of`] in `m`'s language, with the duplicate ACK count the
/// segment's receiver gave it (a demo's `out` event cannot know it).
fn line_with(m: &Messages, e: &Event, dup_ack: Option<u32>) -> String {
    let raw = e.host.as_deref().unwrap_or("-");
    let host = m.host(raw);
    let peer = m.host(other(raw));
    // Who sent a segment reported with `dir` by `host`.
    let arrow = |dir: Dir| match dir {
        Dir::Out => format!("{host} → {peer}"),
        Dir::In => format!("{peer} → {host}"),
    };
    let segment = |s: &SegFields| segment_words(m, s, None);
    let what = match &e.body {
        Body::Segment(s) => {
            let mut pre = String::new();
            if s.probe {
                pre.push_str("⚑ TLP ");
            } else if s.retransmit {
                match s.rtx {
                    Some(c) => pre.push_str(&format!("↻ {} ", m.rtx_cause(c))),
                    None => pre.push_str("↻ "),
                }
            }
            let dup = s.dup_ack.or(dup_ack);
            format!("{}  {pre}{}", arrow(s.dir), segment_words(m, &s.seg, dup))
        }
        Body::Drop(d) => match &d.seg {
            Some(s) => format!(
                "{}  {} ✗ {}",
                arrow(d.dir),
                segment(s),
                m.drop_reason(&d.reason)
            ),
            None => format!(
                "{host}  ✗ {} ({})",
                m.drop_reason(&d.reason),
                match d.dir {
                    Dir::In => m.dir_in,
                    Dir::Out => m.dir_out,
                }
            ),
        },
        Body::Hold(h) => format!("{}  {} ‖ {}", arrow(h.dir), segment(&h.seg), m.held_mark),
        Body::Release(h) => format!("{}  {} {}", arrow(h.dir), segment(&h.seg), m.tr_released),
        Body::Fault(f) => format!(
            "{}  {} [{}]",
            arrow(f.dir),
            segment(&f.seg),
            m.fault_action(f.action)
        ),
        Body::State { from, to, .. } => {
            format!("{host}  ● {} → {}", from.name(), to.name())
        }
        Body::Timer(t) => {
            let name = m.timer_event_name(t.timer);
            let action = m.timer_action(t.action);
            match (t.action, t.deadline) {
                (TimerAction::Armed, Some(d)) => {
                    format!(
                        "{host}  ◷ {name} {action} {}",
                        m.tr_due_at(&format!("{d:.3}"))
                    )
                }
                _ => format!("{host}  ◷ {name} {action}"),
            }
        }
        Body::Keepalive(k) => match k.action {
            KeepaliveAction::ProbeSent => format!("{host}  {}", m.tr_probe_sent(k.probe, k.of)),
            KeepaliveAction::Answered => format!("{host}  {}", m.tr_probe_answered(k.probe)),
            KeepaliveAction::Dead => format!("{host}  {}", m.tr_peer_dead(k.of)),
            KeepaliveAction::Enabled => match (k.idle, k.interval) {
                (Some(i), Some(v)) => format!(
                    "{host}  {}",
                    m.tr_keepalive_values(&i.to_string(), &v.to_string(), k.of)
                ),
                _ => format!("{host}  {}", m.tr_keepalive_on),
            },
            KeepaliveAction::Disabled => format!("{host}  {}", m.tr_keepalive_off),
        },
        Body::Tcb(t) => match t.action {
            TcbAction::Allocated => format!("{host}  ▣ {}", m.tr_tcb_allocated),
            TcbAction::Freed => format!("{host}  □ {}", m.tr_tcb_freed),
        },
        Body::Abort { reason } => {
            format!("{host}  ✗ {}", m.abort_mark(m.abort_event_word(reason)))
        }
        Body::Recovery(r) => match r.by {
            Some(by) => format!(
                "{host}  · {}",
                m.tr_loss_found(m.rtx_cause(by), m.recovery_action(r.action))
            ),
            None => format!("{host}  · {}", m.tr_recovery(m.recovery_action(r.action))),
        },
        Body::Burst(b) => format!("{}  {}", arrow(b.dir), m.tr_burst(b.segments, b.bytes)),
        Body::App { msg, .. } => format!("{host}  {}", m.tr_app(&m.phrase(msg))),
        // What the run says of itself (a speed change, …): its words.
        Body::Info { msg } => match &e.host {
            Some(_) => format!("{host}  {msg}"),
            None => msg.clone(),
        },
        _ => format!("{host}  {}", m.event_kind(e.kind())),
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
        // lost-data: eight duplicate ACKs at one instant, over two steps.
        let (_, md) = handout("lost-data", 0.62);
        let acks: Vec<&str> = md
            .lines()
            .filter(|l| l.contains("0.610  server → client  ACK "))
            .collect();
        assert_eq!(acks.len(), 9, "{md}");
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
