//! The fault-rule commands (`d` `D` `l` `h` space `r` `f` `F`), applied to
//! an injector: written once, used by the demo (the in-memory wire's
//! injector) and live mode (the runtime's, under its lock).
//!
//! [`Faults::apply`] changes the injector and says what it did ([`Done`]);
//! each driver puts that into its own words (a demo speaks of client and
//! server, live mode of the kernel) and does what its link needs afterwards
//! (the demo flushes its wire after a release; live mode pokes the runtime).
//!
//! Uses the injector and events only; must not depend on `ui`.

use crate::event::Dir;
use crate::fault::{Action, DirMatch, Injector, Rule, Trigger};
use crate::time::Instant;

use super::Command;

/// The fault commands, applied the same way in every mode. `l` (set the
/// loss rate) replaces every plain loss rule (random drop, no other
/// condition), whoever added it: `--loss`, a scenario's, an earlier `l`;
/// so `l 0` means no random loss, in a demo as live.
#[derive(Clone, Debug, Default)]
pub struct Faults;

/// What a fault command did.
#[derive(Clone, Debug, PartialEq)]
pub enum Done {
    /// The next segment going this way will be dropped.
    DropNext(Dir),
    /// Random loss is now this, in percent (0 for none).
    Loss {
        inbound: f64,
        outbound: f64,
    },
    /// Holding every segment, or no longer.
    Hold(bool),
    ReleasedOne,
    /// How many segments were released (maybe none).
    ReleasedAll(usize),
    /// The rule added.
    RuleAdded(Rule),
    Cleared,
}

impl Faults {
    pub fn new() -> Faults {
        Faults
    }

    /// Apply a fault command at `now`. Errors are sentences: a loss rate
    /// that is no percentage (nothing changes), a release with nothing held.
    /// Any other command is an error; drivers only hand over fault commands.
    pub fn apply(
        &mut self,
        inj: &mut Injector,
        now: Instant,
        cmd: &Command,
    ) -> Result<Done, String> {
        match cmd {
            Command::DropNext(d) => {
                inj.add_rule(now, Rule::drop_next(dir_match(*d), None, 1));
                Ok(Done::DropNext(*d))
            }
            Command::SetLoss { inbound, outbound } => {
                self.set_loss(inj, now, *inbound, *outbound)?;
                Ok(Done::Loss {
                    inbound: *inbound,
                    outbound: *outbound,
                })
            }
            Command::HoldAll(on) => {
                inj.set_hold_all(now, *on);
                Ok(Done::Hold(*on))
            }
            Command::ReleaseOne => {
                if inj.release_one(now) {
                    Ok(Done::ReleasedOne)
                } else {
                    Err("no segment is held".into())
                }
            }
            Command::ReleaseAll => Ok(Done::ReleasedAll(inj.release_all(now))),
            Command::AddRule(rule) => {
                inj.add_rule(now, rule.clone());
                Ok(Done::RuleAdded(rule.clone()))
            }
            Command::ClearRules => {
                inj.clear_rules(now);
                Ok(Done::Cleared)
            }
            Command::Close(_)
            | Command::Abort(_)
            | Command::Connect(_)
            | Command::Keepalive(..)
            | Command::TimeScale(_)
            | Command::Pause(_)
            | Command::StepForward
            | Command::StepBack
            | Command::Seek(_)
            | Command::Chapter(_) => Err(format!("{cmd:?} is not a fault command")),
        }
    }

    /// Replace every plain loss rule with one per direction above 0 %.
    fn set_loss(
        &mut self,
        inj: &mut Injector,
        now: Instant,
        inbound: f64,
        outbound: f64,
    ) -> Result<(), String> {
        for pct in [inbound, outbound] {
            if !(0.0..=100.0).contains(&pct) {
                return Err(format!("{pct}% is not a percentage from 0 to 100"));
            }
        }
        let old: Vec<u32> = inj
            .rules()
            .iter()
            .filter(|(_, r)| is_plain_loss(r))
            .map(|(id, _)| *id)
            .collect();
        for id in old {
            inj.remove_rule(now, id);
        }
        for (d, pct) in [(DirMatch::In, inbound), (DirMatch::Out, outbound)] {
            if pct > 0.0 {
                inj.add_rule(now, Rule::loss(d, pct / 100.0));
            }
        }
        Ok(())
    }
}

fn dir_match(d: Dir) -> DirMatch {
    match d {
        Dir::In => DirMatch::In,
        Dir::Out => DirMatch::Out,
    }
}

/// A random drop with no other condition: what `l` and `--loss` make.
fn is_plain_loss(r: &Rule) -> bool {
    matches!(r.trigger, Trigger::Probability(_))
        && r.action == Action::Drop
        && r.flags.is_none()
        && r.port.is_none()
        && r.payload.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loss_rules(inj: &Injector) -> usize {
        inj.rules().iter().filter(|(_, r)| is_plain_loss(r)).count()
    }

    #[test]
    fn set_loss_replaces_every_plain_loss_rule() {
        let now = Instant::ZERO;
        let loss = |inbound, outbound| Command::SetLoss { inbound, outbound };
        {
            let left = 1;
            let mut inj = Injector::new("h", 1);
            inj.add_rule(now, Rule::loss(DirMatch::Any, 0.1)); // --loss 10
            let mut f = Faults::new();
            f.apply(&mut inj, now, &loss(5.0, 0.0)).unwrap();
            assert_eq!(
                f.apply(&mut inj, now, &loss(5.0, 2.0)).unwrap(),
                Done::Loss {
                    inbound: 5.0,
                    outbound: 2.0
                }
            );
            assert_eq!(loss_rules(&inj), left + 1, "--loss is replaced too");
            f.apply(&mut inj, now, &loss(0.0, 0.0)).unwrap();
            assert_eq!(loss_rules(&inj), left - 1, "l 0: no random loss left");
            // Not a percentage: an error, and nothing changes.
            f.apply(&mut inj, now, &loss(5.0, 0.0)).unwrap();
            let before = inj.rules().to_vec();
            let err = f.apply(&mut inj, now, &loss(150.0, 0.0)).unwrap_err();
            assert_eq!(err, "150% is not a percentage from 0 to 100");
            assert_eq!(inj.rules(), &before[..]);
        }
    }

    #[test]
    fn hold_release_and_rules() {
        let now = Instant::ZERO;
        let mut inj = Injector::new("h", 1);
        let mut f = Faults::new();
        assert_eq!(
            f.apply(&mut inj, now, &Command::ReleaseOne).unwrap_err(),
            "no segment is held"
        );
        assert_eq!(
            f.apply(&mut inj, now, &Command::ReleaseAll),
            Ok(Done::ReleasedAll(0))
        );
        assert_eq!(
            f.apply(&mut inj, now, &Command::HoldAll(true)),
            Ok(Done::Hold(true))
        );
        assert!(inj.hold_all());
        assert_eq!(
            f.apply(&mut inj, now, &Command::DropNext(Dir::Out)),
            Ok(Done::DropNext(Dir::Out))
        );
        assert_eq!(inj.rules().len(), 1);
        assert_eq!(
            f.apply(&mut inj, now, &Command::ClearRules),
            Ok(Done::Cleared)
        );
        assert!(inj.rules().is_empty());
        assert!(f.apply(&mut inj, now, &Command::StepBack).is_err());
    }
}
