//! What the person is looking at and doing: selection, focus, popups,
//! filter, the status line. Keys and mouse become [`KeyAction`]s (see
//! `keys`), and actions become view changes or [`Command`]s to the driver.
//!
//! Pure apart from the driver it is handed, so tests check exactly which
//! command a key produces.

use std::net::SocketAddr;

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};

use crate::event::Dir;

use super::form::{FaultForm, FormResult};
use super::keys::{self, KeyAction, KeyMap};
use super::model::{Conn, EntryKind, Model, Slot};
use super::theme::Theme;
use crate::driver::{Command, ConnRef, Driver, Mode, Playback};
use crate::i18n::{self, Messages};
use crate::scenario::Lang;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    Conns,
    Ladder,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptKind {
    Loss,
    Connect,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: String,
    pub error: Option<String>,
}

impl PromptKind {
    pub fn title(self, m: &Messages) -> &'static str {
        match self {
            PromptKind::Loss => m.prompt_loss,
            PromptKind::Connect => m.prompt_connect,
        }
    }
    pub fn help(self, m: &Messages) -> &'static str {
        match self {
            PromptKind::Loss => m.prompt_loss_help,
            PromptKind::Connect => m.prompt_connect_help,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Popup {
    Help,
    Form(FaultForm),
    Prompt(Prompt),
    Chapters(ChapterList),
}

/// The chapter list (`C`): the lesson's chapters and the one selected.
#[derive(Clone, Debug, PartialEq)]
pub struct ChapterList {
    pub titles: Vec<String>,
    pub sel: usize,
    /// The chapter on screen now, if any has begun.
    pub current: Option<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    pub text: String,
    pub error: bool,
}

/// Where things were drawn, for the mouse (written by the renderer).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hits {
    /// The connection list's rows: (y, row id).
    pub conn_rows: Vec<(u16, u64)>,
    pub conns: Rect,
    /// The ladder's lines: (y, entry seq).
    pub ladder_rows: Vec<(u16, u64)>,
    pub ladder: Rect,
}

/// What the title bar and key hints need from the driver, copied once per
/// frame so that rendering never calls the driver.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusLine {
    pub mode: Mode,
    pub title: String,
    pub now: f64,
    pub playback: Playback,
    pub finished: bool,
}

impl StatusLine {
    pub fn of(d: &dyn Driver) -> StatusLine {
        StatusLine {
            mode: d.mode(),
            title: d.title(),
            now: d.now(),
            playback: d.playback(),
            finished: d.finished(),
        }
    }
}

/// A pane the zoom key gives the whole screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    Ladder,
    /// The TCB panel (with the state diagram and timers where room allows).
    Tcb,
    Timers,
    Keepalive,
}

impl Pane {
    pub fn name(self, m: &Messages) -> &'static str {
        match self {
            Pane::Ladder => m.pane_ladder,
            Pane::Tcb => m.pane_tcb,
            Pane::Timers => m.pane_timers,
            Pane::Keepalive => m.pane_keepalive,
        }
    }
    /// The next pane for Tab while zoomed.
    pub fn next(self, back: bool) -> Pane {
        const ORDER: [Pane; 4] = [Pane::Ladder, Pane::Tcb, Pane::Timers, Pane::Keepalive];
        let i = ORDER.iter().position(|p| *p == self).unwrap_or(0);
        ORDER[(i + if back { 3 } else { 1 }) % 4]
    }
}

#[derive(Clone, Debug)]
pub struct View {
    pub theme: Theme,
    /// The language of every word on screen (`--lang`).
    pub lang: Lang,
    /// Which key does what (the config file's `[keys]` over today's).
    pub keys: KeyMap,
    /// The pane that has the whole screen (`z`), if any.
    pub zoom: Option<Pane>,
    pub focus: Focus,
    /// Selected row; `follow` picks the newest open connection by itself.
    pub selected: Option<u64>,
    pub follow: bool,
    pub conn_offset: usize,
    /// Selected ladder entry (by seq); `ladder_follow` keeps the newest in view.
    pub ladder_sel: Option<u64>,
    pub ladder_follow: bool,
    /// First ladder entry on screen when not following.
    pub ladder_top: Option<u64>,
    pub detail: bool,
    pub popup: Option<Popup>,
    pub filter: String,
    pub filter_editing: bool,
    /// Absolute sequence numbers instead of relative ones.
    pub absolute: bool,
    /// Which lifeline x, a and K act for.
    pub acting: Slot,
    pub status: Option<Status>,
    pub hits: Hits,
    pub quit: bool,
    /// The fault form paused a running demo: it runs on when the form
    /// closes.
    form_paused: bool,
    /// Lines per page, from the last render.
    pub page: usize,
    /// `S` asked for a screenshot: the loop writes the next frame drawn.
    pub screenshot: bool,
    /// The graph view (`w`) in place of (or beside) the ladder.
    pub graph: bool,
    /// Time axis zoom: the graph shows 1/2^zoom of the connection's time.
    pub graph_zoom: u32,
    /// The help popup shows its second page, the ladder's notation.
    pub help_notation: bool,
    /// Quarter spans panned back from the newest event (0: follow it).
    pub graph_pan: u32,
}

impl View {
    pub fn new(theme: Theme) -> View {
        View {
            theme,
            lang: Lang::En,
            keys: KeyMap::default(),
            zoom: None,
            focus: Focus::Conns,
            selected: None,
            follow: true,
            conn_offset: 0,
            ladder_sel: None,
            ladder_follow: true,
            ladder_top: None,
            detail: false,
            popup: None,
            filter: String::new(),
            filter_editing: false,
            absolute: false,
            acting: 0,
            status: None,
            hits: Hits::default(),
            quit: false,
            form_paused: false,
            page: 10,
            screenshot: false,
            graph: false,
            graph_zoom: 0,
            graph_pan: 0,
            help_notation: false,
        }
    }

    /// The same view with these keys.
    pub fn with_keys(mut self, keys: KeyMap) -> View {
        self.keys = keys;
        self
    }

    /// The same view in this language.
    pub fn with_lang(mut self, lang: Lang) -> View {
        self.lang = lang;
        self
    }

    /// The words of the view's language.
    pub fn msg(&self) -> &'static Messages {
        i18n::messages(self.lang)
    }

    pub fn say(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            error: false,
        });
    }

    pub fn complain(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            error: true,
        });
    }

    fn answer(&mut self, r: Result<String, String>) {
        match r {
            Ok(s) => self.say(s),
            Err(e) => self.complain(e),
        }
    }

    /// Rows the list shows, in order.
    pub fn visible(&self, model: &Model) -> Vec<u64> {
        model
            .conns()
            .filter(|c| c.matches_filter(&self.filter))
            .map(|c| c.id)
            .collect()
    }

    /// Keep the selection valid; in follow mode pick the newest open
    /// connection (a listener only when there is nothing else).
    pub fn sync(&mut self, model: &Model) {
        let still = self
            .selected
            .and_then(|id| model.conn(id))
            .is_some_and(|c| c.matches_filter(&self.filter));
        if self.follow || !still {
            let pick = |f: &dyn Fn(&Conn) -> bool| {
                model
                    .conns()
                    .rev()
                    .find(|c| c.matches_filter(&self.filter) && f(c))
                    .map(|c| c.id)
            };
            let new = pick(&|c| !c.listener && !c.is_closed())
                .or_else(|| pick(&|c| !c.listener))
                .or_else(|| pick(&|_| true));
            if new != self.selected {
                self.selected = new;
                self.reset_ladder();
                self.acting = 0;
            }
        }
        // A lifeline that is not there cannot act.
        if let Some(c) = self.selected.and_then(|id| model.conn(id))
            && c.side(self.acting).is_none()
            && let Some((s, _)) = c.present().next()
        {
            self.acting = s;
        }
    }

    fn reset_ladder(&mut self) {
        self.ladder_sel = None;
        self.ladder_follow = true;
        self.ladder_top = None;
        self.detail = false;
    }

    pub fn selected_conn<'m>(&self, model: &'m Model) -> Option<&'m Conn> {
        self.selected.and_then(|id| model.conn(id))
    }

    /// The connection `x`, `a` and `K` act on, as the driver names it.
    fn conn_ref(&self, model: &Model) -> Option<ConnRef> {
        let c = self.selected_conn(model)?;
        let side = c
            .side(self.acting)
            .or_else(|| c.present().map(|(_, s)| s).next())?;
        Some(ConnRef {
            host: Some(side.host.clone()),
            conn: side.conn.clone(),
        })
    }

    // ----- input ------------------------------------------------------------

    pub fn key(&mut self, key: KeyEvent, model: &Model, driver: &mut dyn Driver) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        if self.filter_editing {
            return self.filter_key(key);
        }
        match self.popup.take() {
            Some(Popup::Help) => {
                // `?` again turns to the ladder's notation; any other key
                // closes help; q and Ctrl-C still quit.
                match self.keys.action(&key) {
                    Some(KeyAction::Quit) => self.quit = true,
                    Some(KeyAction::Help) if !self.help_notation => {
                        self.help_notation = true;
                        self.popup = Some(Popup::Help);
                    }
                    _ => {}
                }
                return;
            }
            Some(Popup::Form(mut form)) => {
                match form.key(&key, self.msg()) {
                    FormResult::Editing => self.popup = Some(Popup::Form(form)),
                    FormResult::Cancel => {
                        self.resume_after_form(driver);
                        self.say(self.msg().no_rule_added);
                    }
                    FormResult::Submit(rule) => {
                        let r = driver.command(Command::AddRule(rule));
                        self.resume_after_form(driver);
                        self.answer(r);
                    }
                }
                return;
            }
            Some(Popup::Prompt(p)) => return self.prompt_key(p, key, driver),
            Some(Popup::Chapters(list)) => return self.chapters_key(list, key, driver),
            None => {}
        }
        let action = self.keys.action(&key);
        if self.graph && action.is_none() && self.graph_key(&key) {
            return;
        }
        if let Some(a) = action {
            self.act(a, model, driver);
        }
    }

    /// `+`/`-` zoom the graph's time axis, `←`/`→` pan it (only while the
    /// graph is shown, and only keys no action is bound to).
    fn graph_key(&mut self, key: &KeyEvent) -> bool {
        match key.code {
            KeyCode::Char('+') | KeyCode::Char('=') => {
                self.graph_zoom = (self.graph_zoom + 1).min(16);
            }
            KeyCode::Char('-') => {
                self.graph_zoom = self.graph_zoom.saturating_sub(1);
                if self.graph_zoom == 0 {
                    self.graph_pan = 0;
                }
            }
            KeyCode::Left => {
                let most = 4 * ((1u32 << self.graph_zoom) - 1);
                self.graph_pan = (self.graph_pan + 1).min(most);
            }
            KeyCode::Right => self.graph_pan = self.graph_pan.saturating_sub(1),
            _ => return false,
        }
        true
    }

    fn filter_key(&mut self, key: KeyEvent) {
        match key.code {
            KeyCode::Enter => self.filter_editing = false,
            KeyCode::Esc => {
                self.filter_editing = false;
                self.filter.clear();
            }
            KeyCode::Backspace => {
                self.filter.pop();
            }
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.filter_editing = false;
                self.filter.clear();
            }
            KeyCode::Char(c) if self.filter.len() < 40 => self.filter.push(c),
            _ => {}
        }
        self.follow = true;
    }

    fn prompt_key(&mut self, mut p: Prompt, key: KeyEvent, driver: &mut dyn Driver) {
        match key.code {
            KeyCode::Esc => return,
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => return,
            KeyCode::Backspace => {
                p.input.pop();
            }
            KeyCode::Enter => {
                let m = self.msg();
                let cmd = match p.kind {
                    PromptKind::Loss => parse_loss(&p.input, m),
                    PromptKind::Connect => p
                        .input
                        .trim()
                        .parse::<SocketAddr>()
                        .map(Command::Connect)
                        .map_err(|_| m.not_ip_port(p.input.trim())),
                };
                match cmd {
                    Ok(cmd) => {
                        let r = driver.command(cmd);
                        return self.answer(r);
                    }
                    Err(e) => p.error = Some(e),
                }
            }
            KeyCode::Char(c) if p.input.len() < 40 => {
                p.input.push(c);
                p.error = None;
            }
            _ => {}
        }
        self.popup = Some(Popup::Prompt(p));
    }

    pub fn mouse(&mut self, m: MouseEvent, model: &Model) {
        let at = Position::new(m.column, m.row);
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                if self.popup.is_some() {
                    return;
                }
                if let Some((_, id)) = self.hits.conn_rows.iter().find(|(y, _)| *y == m.row)
                    && self.hits.conns.contains(at)
                {
                    self.focus = Focus::Conns;
                    if self.selected != Some(*id) {
                        self.selected = Some(*id);
                        self.reset_ladder();
                    }
                    self.follow = false;
                } else if let Some((_, seq)) =
                    self.hits.ladder_rows.iter().find(|(y, _)| *y == m.row)
                    && self.hits.ladder.contains(at)
                {
                    self.focus = Focus::Ladder;
                    // A second click on the selected arrow opens it.
                    if self.ladder_sel == Some(*seq) {
                        self.detail = true;
                    }
                    self.ladder_sel = Some(*seq);
                    self.ladder_follow = false;
                }
            }
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                let up = m.kind == MouseEventKind::ScrollUp;
                if self.hits.conns.contains(at) {
                    self.focus = Focus::Conns;
                } else if self.hits.ladder.contains(at) {
                    self.focus = Focus::Ladder;
                } else {
                    return;
                }
                for _ in 0..3 {
                    self.move_sel(model, if up { -1 } else { 1 });
                }
            }
            _ => {}
        }
    }

    // ----- actions ------------------------------------------------------------

    /// What a key does. One flat `match` over every `KeyAction`, longer than
    /// the crate's ~150 lines on purpose: each arm is a line or two, and
    /// one exhaustive match is where the compiler points when a key is
    /// added, and where a reader finds every key's effect side by side.
    /// The demo runs on if the fault form paused it.
    fn resume_after_form(&mut self, driver: &mut dyn Driver) {
        if std::mem::take(&mut self.form_paused) {
            let _ = driver.command(Command::Pause(false));
        }
    }

    /// A key in the chapter list: ↑↓ choose, Enter or a chapter's number
    /// jumps, anything else closes it.
    fn chapters_key(&mut self, mut list: ChapterList, key: KeyEvent, driver: &mut dyn Driver) {
        let last = list.titles.len().saturating_sub(1);
        let jump = match (key.code, self.keys.action(&key)) {
            (KeyCode::Enter, _) => Some(list.sel),
            (KeyCode::Char(c), _) if c.is_ascii_digit() => {
                // 1–9, and 0 for the tenth.
                let n = c
                    .to_digit(10)
                    .map_or(0, |d| if d == 0 { 10 } else { d as usize });
                Some(n - 1).filter(|i| *i <= last)
            }
            (_, Some(KeyAction::Up)) => {
                list.sel = list.sel.saturating_sub(1);
                None
            }
            (_, Some(KeyAction::Down)) => {
                list.sel = (list.sel + 1).min(last);
                None
            }
            (_, Some(KeyAction::Quit)) => {
                self.quit = true;
                return;
            }
            _ => return,
        };
        match jump {
            Some(i) => self.send(driver, Command::Chapter(i)),
            None => self.popup = Some(Popup::Chapters(list)),
        }
    }

    /// A key's action, by group: looking around, time, faults and
    /// connections.
    pub fn act(&mut self, a: KeyAction, model: &Model, driver: &mut dyn Driver) {
        use KeyAction::*;
        match a {
            Quit | Help | Up | Down | PageUp | PageDown | Top | Bottom | FocusNext | FocusPrev
            | Details | Zoom | Back | Filter | Absolute | Screenshot | Graph | OtherSide => {
                self.act_view(a, model)
            }
            Space | StepForward | StepBack | Pause | Faster | Slower | SeekBack | SeekForward
            | SeekBackFar | SeekForwardFar | Walkthrough | Chapters => {
                self.act_time(a, model, driver)
            }
            DropIn | DropOut | Loss | Hold | ReleaseAll | FaultForm | ClearRules | Close
            | Abort | Keepalive | Connect => self.act_faults(a, model, driver),
        }
    }

    /// Keys that look around: selection, focus, panes, popups.
    fn act_view(&mut self, a: KeyAction, model: &Model) {
        let m = self.msg();
        match a {
            KeyAction::Quit => self.quit = true,
            KeyAction::Help => {
                self.help_notation = false;
                self.popup = Some(Popup::Help);
            }
            KeyAction::Up => self.move_sel(model, -1),
            KeyAction::Down => self.move_sel(model, 1),
            KeyAction::PageUp => self.move_sel(model, -(self.page.max(1) as i64)),
            KeyAction::PageDown => self.move_sel(model, self.page.max(1) as i64),
            KeyAction::Top => self.move_sel(model, i64::MIN),
            KeyAction::Bottom => match self.focus {
                Focus::Conns => {
                    self.follow = true;
                    self.sync(model);
                }
                Focus::Ladder => {
                    self.ladder_sel = None;
                    self.ladder_follow = true;
                    self.ladder_top = None;
                }
            },
            KeyAction::FocusNext | KeyAction::FocusPrev if self.zoom.is_some() => {
                let p = self
                    .zoom
                    .unwrap_or(Pane::Ladder)
                    .next(a == KeyAction::FocusPrev);
                self.zoom = Some(p);
                self.focus = Focus::Ladder;
            }
            KeyAction::FocusNext | KeyAction::FocusPrev => {
                self.focus = match self.focus {
                    Focus::Conns => Focus::Ladder,
                    Focus::Ladder => Focus::Conns,
                };
            }
            KeyAction::Details => match self.focus {
                Focus::Conns => self.focus = Focus::Ladder,
                Focus::Ladder => {
                    if self.detail {
                        self.detail = false;
                    } else if let Some(c) = self.selected_conn(model) {
                        if self.ladder_sel.is_none() {
                            // Open the newest arrow.
                            self.ladder_sel = c
                                .ladder
                                .iter()
                                .rev()
                                .find(|e| matches!(e.kind, EntryKind::Arrow(_)))
                                .or(c.ladder.back())
                                .map(|e| e.seq);
                        }
                        self.detail = self.ladder_sel.is_some();
                        self.ladder_follow = false;
                    }
                }
            },
            KeyAction::Zoom => {
                self.zoom = match self.zoom {
                    Some(_) => None,
                    None => {
                        self.focus = Focus::Ladder;
                        Some(Pane::Ladder)
                    }
                };
                match self.zoom {
                    Some(p) => {
                        self.say(m.zoomed(p.name(m), &self.keys.hint(&[KeyAction::Zoom], "z")))
                    }
                    None => self.say(m.every_pane),
                }
            }
            KeyAction::Back if self.zoom.is_some() && !self.detail => self.zoom = None,
            KeyAction::Back => {
                if self.detail {
                    self.detail = false;
                } else if !self.filter.is_empty() {
                    self.filter.clear();
                } else if self.focus == Focus::Ladder {
                    self.focus = Focus::Conns;
                }
            }
            KeyAction::OtherSide => {
                let Some(c) = self.selected_conn(model) else {
                    return;
                };
                let other = 1 - self.acting;
                match c.side(other) {
                    Some(s) => {
                        self.acting = other;
                        let text = m.acting_for(&m.host(&s.host));
                        self.say(text);
                    }
                    None => self.complain(m.one_side_only),
                }
            }
            KeyAction::Filter => {
                self.filter_editing = true;
                self.focus = Focus::Conns;
            }
            KeyAction::Absolute => {
                self.absolute = !self.absolute;
                self.say(if self.absolute {
                    m.absolute_seq
                } else {
                    m.relative_seq
                });
            }
            KeyAction::Screenshot => self.screenshot = true,
            KeyAction::Graph => {
                self.graph = !self.graph;
                self.say(if self.graph {
                    m.graph_on
                } else {
                    m.pane_ladder
                });
            }
            // `act` gives each group only its own keys.
            _ => {}
        }
    }

    /// Keys that move time: steps, pause, speed, seeks, chapters.
    fn act_time(&mut self, a: KeyAction, model: &Model, driver: &mut dyn Driver) {
        let mode = driver.mode();
        let pb = driver.playback();
        let timeline = mode != Mode::Live;
        let m = self.msg();
        match a {
            KeyAction::Space => {
                if !model.faults.held.is_empty() {
                    self.send(driver, Command::ReleaseOne);
                } else if !timeline {
                    self.complain(m.nothing_held);
                } else if pb.walkthrough || mode == Mode::Replay {
                    self.send(driver, Command::StepForward);
                } else {
                    self.send(driver, Command::Pause(!pb.paused));
                }
            }
            KeyAction::StepForward if timeline => self.send(driver, Command::StepForward),
            KeyAction::StepBack if timeline => self.send(driver, Command::StepBack),
            KeyAction::Pause if timeline => self.send(driver, Command::Pause(!pb.paused)),
            KeyAction::Faster | KeyAction::Slower if timeline => {
                let cur = pb.speed.unwrap_or(1.0);
                self.send(
                    driver,
                    Command::TimeScale(keys::next_speed(cur, a == KeyAction::Faster)),
                );
            }
            KeyAction::SeekBack
            | KeyAction::SeekForward
            | KeyAction::SeekBackFar
            | KeyAction::SeekForwardFar
                if timeline =>
            {
                let d = match a {
                    KeyAction::SeekBack => -10.0,
                    KeyAction::SeekForward => 10.0,
                    KeyAction::SeekBackFar => -60.0,
                    _ => 60.0,
                };
                let to = (driver.now() + d).max(0.0);
                self.send(driver, Command::Seek(to));
            }
            KeyAction::Walkthrough if timeline => {
                let r = driver.set_walkthrough(!pb.walkthrough);
                self.answer(r);
            }
            KeyAction::Chapters => {
                let titles = driver.chapters();
                if titles.is_empty() {
                    return self.complain(self.msg().no_chapters);
                }
                let current = model
                    .chapter
                    .as_deref()
                    .and_then(|c| titles.iter().position(|t| t == c));
                let sel = current.map_or(0, |i| (i + 1).min(titles.len() - 1));
                self.popup = Some(Popup::Chapters(ChapterList {
                    titles,
                    sel,
                    current,
                }));
            }
            KeyAction::StepForward
            | KeyAction::StepBack
            | KeyAction::Pause
            | KeyAction::Faster
            | KeyAction::Slower
            | KeyAction::SeekBack
            | KeyAction::SeekForward
            | KeyAction::SeekBackFar
            | KeyAction::SeekForwardFar
            | KeyAction::Walkthrough => self.complain(m.no_time),
            // `act` gives each group only its own keys.
            _ => {}
        }
    }

    /// Keys that act on the wire and the connections: faults, close, abort,
    /// keepalive, connect.
    fn act_faults(&mut self, a: KeyAction, model: &Model, driver: &mut dyn Driver) {
        let mode = driver.mode();
        let pb = driver.playback();
        let m = self.msg();
        match a {
            KeyAction::DropIn => self.send(driver, Command::DropNext(Dir::In)),
            KeyAction::DropOut => self.send(driver, Command::DropNext(Dir::Out)),
            KeyAction::Loss => self.popup_prompt(PromptKind::Loss, mode),
            KeyAction::Hold => self.send(driver, Command::HoldAll(!model.faults.hold_all)),
            KeyAction::ReleaseAll => self.send(driver, Command::ReleaseAll),
            KeyAction::FaultForm => {
                if mode == Mode::Replay {
                    self.complain(m.replay_no_faults);
                } else {
                    // A demo waits while the rule is written, so the
                    // segment it is meant for has not passed yet.
                    if mode == Mode::Demo && !pb.paused {
                        self.form_paused = driver.command(Command::Pause(true)).is_ok();
                    }
                    self.popup = Some(Popup::Form(FaultForm::default()));
                }
            }
            KeyAction::ClearRules => self.send(driver, Command::ClearRules),
            KeyAction::Close | KeyAction::Abort | KeyAction::Keepalive => {
                let Some(r) = self.conn_ref(model) else {
                    return self.complain(m.select_first);
                };
                if self.selected_conn(model).is_some_and(|c| c.listener) {
                    return self.complain(m.listener_not_conn);
                }
                let cmd = match a {
                    KeyAction::Close => Command::Close(r),
                    KeyAction::Abort => Command::Abort(r),
                    _ => {
                        let on = self
                            .selected_conn(model)
                            .and_then(|c| c.side(self.acting))
                            .is_some_and(|s| s.keepalive.on);
                        Command::Keepalive(r, !on)
                    }
                };
                self.send(driver, cmd);
            }
            KeyAction::Connect => {
                if mode == Mode::Live {
                    self.popup_prompt(PromptKind::Connect, mode);
                } else {
                    self.complain(m.connect_live_only);
                }
            }
            // `act` gives each group only its own keys.
            _ => {}
        }
    }

    fn popup_prompt(&mut self, kind: PromptKind, mode: Mode) {
        if mode == Mode::Replay {
            return self.complain(self.msg().replay_no_faults);
        }
        self.popup = Some(Popup::Prompt(Prompt {
            kind,
            input: String::new(),
            error: None,
        }));
    }

    fn send(&mut self, driver: &mut dyn Driver, cmd: Command) {
        let r = driver.command(cmd);
        self.answer(r);
    }

    fn move_sel(&mut self, model: &Model, by: i64) {
        match self.focus {
            Focus::Conns => {
                let vis = self.visible(model);
                if vis.is_empty() {
                    return;
                }
                let cur = self
                    .selected
                    .and_then(|id| vis.iter().position(|v| *v == id))
                    .unwrap_or(vis.len() - 1);
                let new = step(cur, by, vis.len());
                self.follow = false;
                if Some(vis[new]) != self.selected {
                    self.selected = Some(vis[new]);
                    self.reset_ladder();
                    self.acting = 0;
                }
            }
            Focus::Ladder => {
                let Some(c) = self.selected_conn(model) else {
                    return;
                };
                if c.ladder.is_empty() {
                    return;
                }
                let cur = self
                    .ladder_sel
                    .and_then(|s| c.index_of(s))
                    .unwrap_or(c.ladder.len() - 1);
                let start_fresh = self.ladder_sel.is_none();
                let new = if start_fresh && by < 0 && by != i64::MIN {
                    // The first ↑ selects the newest entry.
                    step(cur, by + 1, c.ladder.len())
                } else {
                    step(cur, by, c.ladder.len())
                };
                self.ladder_sel = Some(c.ladder[new].seq);
                self.ladder_follow = false;
            }
        }
    }
}

fn step(cur: usize, by: i64, len: usize) -> usize {
    if by == i64::MIN {
        return 0;
    }
    (cur as i64 + by).clamp(0, len as i64 - 1) as usize
}

/// `10` (both ways), `in=10,out=5`, `0` (off); a mistake is a sentence
/// in `m`'s language.
pub fn parse_loss(s: &str, m: &Messages) -> Result<Command, String> {
    let pct = |v: &str| -> Result<f64, String> {
        let v = v.trim().trim_end_matches('%');
        v.parse::<f64>()
            .ok()
            .filter(|p| (0.0..=100.0).contains(p))
            .ok_or_else(|| m.not_a_percentage_0_100(v))
    };
    let s = s.trim();
    if s.is_empty() {
        return Err(m.type_a_percentage.into());
    }
    if !s.contains('=') {
        let p = pct(s)?;
        return Ok(Command::SetLoss {
            inbound: p,
            outbound: p,
        });
    }
    let (mut inbound, mut outbound) = (0.0, 0.0);
    for part in s.split(',') {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| m.write_in_out.to_string())?;
        match k.trim() {
            "in" => inbound = pct(v)?,
            "out" => outbound = pct(v)?,
            other => return Err(m.not_in_or_out(other)),
        }
    }
    Ok(Command::SetLoss { inbound, outbound })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_syntax() {
        let en = i18n::messages(Lang::En);
        let parse_loss = |s| parse_loss(s, en);
        assert_eq!(
            parse_loss("10"),
            Ok(Command::SetLoss {
                inbound: 10.0,
                outbound: 10.0
            })
        );
        assert_eq!(
            parse_loss("in=5, out=2.5%"),
            Ok(Command::SetLoss {
                inbound: 5.0,
                outbound: 2.5
            })
        );
        assert!(parse_loss("200").unwrap_err().contains("0 to 100"));
        assert!(parse_loss("up=3").unwrap_err().contains("in or out"));
    }
}
