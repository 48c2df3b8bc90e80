//! The `f` form: any rule the fault injector knows, built field by field.
//!
//! The form fills a [`FaultSpec`], the same value a scenario file writes, so
//! the checks and the rule are the injector's own (ARCHITECTURE.md: faults
//! are values, created the same way from keys, flags and files).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::fault::Rule;
use crate::i18n::Messages;
use crate::scenario::FaultSpec;

/// The choices as the rule's text form writes them; the form shows them in
/// the UI's language ([`FaultForm::shown`]).
pub const DIRS: [&str; 3] = ["in", "out", "any"];
pub const PAYLOADS: [&str; 3] = ["any", "with data", "without data"];
pub const TRIGGERS: [&str; 3] = ["count", "probability", "always"];
pub const ACTIONS: [&str; 6] = ["drop", "hold", "delay", "duplicate", "reorder", "corrupt"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Dir,
    Flags,
    Payload,
    Port,
    Trigger,
    Amount,
    Action,
    Delay,
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::Dir,
        Field::Flags,
        Field::Payload,
        Field::Port,
        Field::Trigger,
        Field::Amount,
        Field::Action,
        Field::Delay,
    ];
    pub fn label(self, m: &Messages) -> &'static str {
        match self {
            Field::Dir => m.field_direction,
            Field::Flags => m.field_flags,
            Field::Payload => m.field_payload,
            Field::Port => m.field_port,
            Field::Trigger => m.field_when,
            Field::Amount => m.field_how_many,
            Field::Action => m.field_action,
            Field::Delay => m.field_delay,
        }
    }
    pub fn hint(self, m: &Messages) -> &'static str {
        match self {
            Field::Dir => m.hint_field_direction,
            Field::Flags => m.hint_field_flags,
            Field::Payload => m.hint_field_payload,
            Field::Port => m.hint_field_port,
            Field::Trigger => m.hint_field_when,
            Field::Amount => m.hint_field_how_many,
            Field::Action => m.hint_field_action,
            Field::Delay => m.hint_field_delay,
        }
    }
    fn is_text(self) -> bool {
        matches!(
            self,
            Field::Flags | Field::Port | Field::Amount | Field::Delay
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct FaultForm {
    pub focus: usize,
    pub dir: usize,
    pub flags: String,
    pub payload: usize,
    pub port: String,
    pub trigger: usize,
    pub amount: String,
    pub action: usize,
    pub delay: String,
    pub error: Option<String>,
}

impl Default for FaultForm {
    fn default() -> Self {
        FaultForm {
            focus: 0,
            dir: 0,
            flags: String::new(),
            payload: 0,
            port: String::new(),
            trigger: 0,
            amount: "1".into(),
            action: 0,
            delay: "500".into(),
            error: None,
        }
    }
}

/// What a key did to the form.
#[derive(Clone, Debug, PartialEq)]
pub enum FormResult {
    Editing,
    Cancel,
    Submit(Rule),
}

impl FaultForm {
    pub fn field(&self) -> Field {
        Field::ALL[self.focus]
    }

    /// The current value of a field as text.
    pub fn value(&self, f: Field) -> String {
        match f {
            Field::Dir => DIRS[self.dir].into(),
            Field::Flags => self.flags.clone(),
            Field::Payload => PAYLOADS[self.payload].into(),
            Field::Port => self.port.clone(),
            Field::Trigger => TRIGGERS[self.trigger].into(),
            Field::Amount => self.amount.clone(),
            Field::Action => ACTIONS[self.action].into(),
            Field::Delay => self.delay.clone(),
        }
    }

    /// A field's value as the form shows it: a choice in `m`'s words, text
    /// as typed.
    pub fn shown(&self, f: Field, m: &Messages) -> String {
        let choice = match f {
            Field::Dir => [m.dir_in, m.dir_out, m.any][self.dir],
            Field::Payload => [m.any, m.with_data, m.without_data][self.payload],
            Field::Trigger => {
                [m.trigger_count, m.trigger_probability, m.trigger_always][self.trigger]
            }
            Field::Action => [
                m.action_drop,
                m.action_hold,
                m.action_delay,
                m.action_duplicate,
                m.action_reorder,
                m.action_corrupt,
            ][self.action],
            _ => return self.value(f),
        };
        choice.to_string()
    }

    /// Whether a field matters with the other choices made.
    pub fn applies(&self, f: Field) -> bool {
        match f {
            Field::Amount => TRIGGERS[self.trigger] != "always",
            Field::Delay => ACTIONS[self.action] == "delay",
            _ => true,
        }
    }

    pub fn spec(&self) -> FaultSpec {
        let trimmed = |s: &str| {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_string())
        };
        let amount = self.amount.trim().trim_end_matches('%');
        let (count, percent) = match TRIGGERS[self.trigger] {
            "count" => (Some(amount.parse::<u32>().unwrap_or(0)), None),
            "probability" => (None, Some(amount.parse::<f64>().unwrap_or(f64::NAN))),
            _ => (None, None),
        };
        let action = match ACTIONS[self.action] {
            "delay" => format!("delay:{}ms", self.delay.trim()),
            a => a.to_string(),
        };
        FaultSpec {
            dir: DIRS[self.dir].into(),
            flags: trimmed(&self.flags),
            payload: match self.payload {
                1 => Some(true),
                2 => Some(false),
                _ => None,
            },
            port: trimmed(&self.port).and_then(|p| p.parse().ok()),
            count,
            percent,
            action,
        }
    }

    /// The rule, or the sentence that says what is wrong (in `m`'s
    /// language where the form finds it; the injector's own checks speak
    /// English).
    pub fn rule(&self, m: &Messages) -> Result<Rule, String> {
        let port = self.port.trim();
        if !port.is_empty() && port.parse::<u16>().ok().filter(|p| *p > 0).is_none() {
            return Err(m.bad_port(port));
        }
        let amount = self.amount.trim().trim_end_matches('%');
        match TRIGGERS[self.trigger] {
            "count" if amount.parse::<u32>().is_err() => {
                return Err(m.not_a_count(amount));
            }
            "probability" if amount.parse::<f64>().is_err() => {
                return Err(m.not_a_percentage(amount));
            }
            _ => {}
        }
        self.spec().to_rule()
    }

    fn cycle(&mut self, forward: bool) {
        let step = |v: &mut usize, n: usize| {
            *v = if forward {
                (*v + 1) % n
            } else {
                (*v + n - 1) % n
            };
        };
        match self.field() {
            Field::Dir => step(&mut self.dir, DIRS.len()),
            Field::Payload => step(&mut self.payload, PAYLOADS.len()),
            Field::Trigger => {
                step(&mut self.trigger, TRIGGERS.len());
                self.amount = match TRIGGERS[self.trigger] {
                    "count" => "1".into(),
                    "probability" => "20".into(),
                    _ => String::new(),
                };
            }
            Field::Action => step(&mut self.action, ACTIONS.len()),
            _ => {}
        }
    }

    fn text_mut(&mut self) -> Option<&mut String> {
        match self.field() {
            Field::Flags => Some(&mut self.flags),
            Field::Port => Some(&mut self.port),
            Field::Amount => Some(&mut self.amount),
            Field::Delay => Some(&mut self.delay),
            _ => None,
        }
    }

    fn move_focus(&mut self, down: bool) {
        let n = Field::ALL.len();
        for _ in 0..n {
            self.focus = if down {
                (self.focus + 1) % n
            } else {
                (self.focus + n - 1) % n
            };
            if self.applies(self.field()) {
                break;
            }
        }
    }

    pub fn key(&mut self, key: &KeyEvent, m: &Messages) -> FormResult {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return FormResult::Cancel;
        }
        match key.code {
            KeyCode::Esc => return FormResult::Cancel,
            KeyCode::Enter => match self.rule(m) {
                Ok(r) => return FormResult::Submit(r),
                Err(e) => self.error = Some(e),
            },
            KeyCode::Up | KeyCode::BackTab => self.move_focus(false),
            KeyCode::Down | KeyCode::Tab => self.move_focus(true),
            KeyCode::Left => self.cycle(false),
            KeyCode::Right => self.cycle(true),
            KeyCode::Char(' ') if !self.field().is_text() => self.cycle(true),
            KeyCode::Backspace => {
                if let Some(t) = self.text_mut() {
                    t.pop();
                }
            }
            KeyCode::Char(c) => {
                let f = self.field();
                if let Some(t) = self.text_mut()
                    && t.len() < 12
                {
                    let ok = match f {
                        Field::Flags => "SAFRPUECsafrpuec.".contains(c),
                        _ => c.is_ascii_digit() || c == '.' || c == '%',
                    };
                    if ok {
                        t.push(if f == Field::Flags {
                            c.to_ascii_uppercase()
                        } else {
                            c
                        });
                    }
                }
            }
            _ => {}
        }
        if !matches!(key.code, KeyCode::Enter) {
            self.error = None;
        }
        FormResult::Editing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fault::{Action, DirMatch, Trigger};
    use crate::i18n::messages;
    use crate::scenario::Lang;
    use crate::wire::Flags;

    fn press(f: &mut FaultForm, keys: &[KeyCode]) -> FormResult {
        let mut last = FormResult::Editing;
        for k in keys {
            last = f.key(&KeyEvent::new(*k, KeyModifiers::NONE), messages(Lang::En));
        }
        last
    }

    #[test]
    fn default_is_drop_next_inbound() {
        let mut f = FaultForm::default();
        let r = press(&mut f, &[KeyCode::Enter]);
        assert_eq!(
            r,
            FormResult::Submit(Rule::drop_next(DirMatch::In, None, 1))
        );
    }

    #[test]
    fn builds_a_delay_of_synack_with_probability() {
        let mut f = FaultForm::default();
        use KeyCode::*;
        let r = press(
            &mut f,
            &[
                Right, // dir: out
                Down,
                Char('s'),
                Char('a'), // flags SA
                Down,
                Down,
                Down,
                Right, // trigger: probability (amount 20)
                Down,
                Backspace,
                Backspace,
                Char('5'),
                Char('0'), // 50 %
                Down,
                Right,
                Right, // action: delay
                Down,
                Backspace,
                Backspace,
                Backspace,
                Char('2'),
                Char('5'),
                Char('0'),
                Enter,
            ],
        );
        let FormResult::Submit(rule) = r else {
            panic!("{r:?} {:?}", f.error)
        };
        assert_eq!(rule.dir, DirMatch::Out);
        assert_eq!(rule.flags, Some(Flags::SYN | Flags::ACK));
        assert_eq!(rule.trigger, Trigger::Probability(0.5));
        assert_eq!(
            rule.action,
            Action::Delay(std::time::Duration::from_millis(250))
        );
    }

    #[test]
    fn bad_values_explain_themselves() {
        let mut f = FaultForm {
            amount: "0".into(),
            ..FaultForm::default()
        };
        assert_eq!(press(&mut f, &[KeyCode::Enter]), FormResult::Editing);
        assert_eq!(f.error.as_deref(), Some("count must be above 0"));
        f.port = "70000".into();
        assert!(f.rule(messages(Lang::En)).unwrap_err().contains("70000"));
        assert_eq!(
            f.rule(messages(Lang::Zh)),
            Err("端口 \"70000\" 不在 1 到 65535 之间".to_string())
        );
    }

    #[test]
    fn choices_show_in_the_language() {
        let f = FaultForm {
            dir: 1,
            action: 2,
            ..FaultForm::default()
        };
        let (en, zh) = (messages(Lang::En), messages(Lang::Zh));
        assert_eq!(f.shown(Field::Dir, en), "out");
        assert_eq!(f.shown(Field::Dir, zh), "出");
        assert_eq!(f.shown(Field::Action, zh), "延迟");
        assert_eq!(f.shown(Field::Payload, zh), "任意");
        assert_eq!(f.shown(Field::Delay, zh), "500");
        // The value, as the rule's text form has it, is the same.
        assert_eq!(f.value(Field::Action), "delay");
        // In English every choice shows as the text form writes it.
        for i in 0..ACTIONS.len() {
            let f = FaultForm {
                dir: i % DIRS.len(),
                payload: i % PAYLOADS.len(),
                trigger: i % TRIGGERS.len(),
                action: i,
                ..FaultForm::default()
            };
            for field in Field::ALL {
                assert_eq!(f.shown(field, en), f.value(field), "{field:?}");
            }
        }
    }
}
