//! Time rings (the bullseye), apart from the SLA ladder: the longer a ticket waits in the
//! queue, the wider the set of agents that may take it. After `drop_optional` its optional
//! skills are no longer wanted, after `lower_minimums` any level of its required skills will
//! do, after `any_agent` any agent of its tier may take it. Each ring is cumulative (a later
//! ring widens at least as much as the earlier ones) and optional (unset: never).
//!
//! A ticket's ring is a function of how long it has waited (`now - queued_at`), so it needs
//! nothing persisted: after a restart it is recomputed from the ticket's age. The ticket's
//! timer (see `timers`) falls due at the next ring's instant, which re-places the ticket.

use super::event::Event;
use super::policy::PolicyError;
use super::proficiency::Levels;
use super::scheduler::Scheduler;
use super::types::{SkillSet, Span, TicketId, TicketState, Ts};
use serde::{Deserialize, Serialize};

/// How long a ticket waits before each ring widens its routing; unset rings never fire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rings {
    pub drop_optional: Option<Span>,
    pub lower_minimums: Option<Span>,
    pub any_agent: Option<Span>,
}

/// A change to the rings (`PutSlaPolicy`'s merge): a ring left `None` keeps its wait, and a
/// wait of zero turns the ring off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RingsPatch {
    pub drop_optional: Option<Span>,
    pub lower_minimums: Option<Span>,
    pub any_agent: Option<Span>,
}

impl RingsPatch {
    pub fn merge(&self, rings: &mut Rings) {
        for (value, slot) in [
            (self.drop_optional, &mut rings.drop_optional),
            (self.lower_minimums, &mut rings.lower_minimums),
            (self.any_agent, &mut rings.any_agent),
        ] {
            if let Some(span) = value {
                *slot = (span.0 > 0).then_some(span);
            }
        }
    }
}

/// How far the rings have widened a ticket's routing: 0 (its own needs) to 3 (any agent of
/// its tier). Each stage includes the ones before it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Ring(u8);

impl Ring {
    pub const NONE: Ring = Ring(0);
    pub const DROP_OPTIONAL: Ring = Ring(1);
    pub const LOWER_MINIMUMS: Ring = Ring(2);
    pub const ANY_AGENT: Ring = Ring(3);

    /// The ring's name as the API, events and explain show it.
    pub fn label(self) -> &'static str {
        match self.0 {
            0 => "none",
            1 => "drop_optional",
            2 => "lower_minimums",
            _ => "any_agent",
        }
    }
}

/// What a ticket's routing asks at a ring: its required skills, with its optional ones until
/// `drop_optional`, its minimums until `lower_minimums`, nothing from `any_agent`.
pub fn widened(
    skills: &SkillSet,
    optional: Option<&SkillSet>,
    minimums: Option<&Levels>,
    ring: Ring,
) -> (SkillSet, Levels) {
    if ring >= Ring::ANY_AGENT {
        return (SkillSet::default(), Levels::default());
    }
    let skills = match optional {
        Some(optional) if ring < Ring::DROP_OPTIONAL && !optional.is_empty() => {
            SkillSet::new(skills.iter().chain(optional.iter()).cloned().collect())
        }
        _ => skills.clone(),
    };
    let minimums = match minimums {
        Some(m) if ring < Ring::LOWER_MINIMUMS => m.clone(),
        _ => Levels::default(),
    };
    (skills, minimums)
}

impl Rings {
    /// Each ring's stage and wait, in order.
    fn each(&self) -> [(Ring, Option<Span>); 3] {
        [
            (Ring::DROP_OPTIONAL, self.drop_optional),
            (Ring::LOWER_MINIMUMS, self.lower_minimums),
            (Ring::ANY_AGENT, self.any_agent),
        ]
    }

    pub fn is_empty(&self) -> bool {
        self.each().iter().all(|(_, after)| after.is_none())
    }

    /// The ring of a ticket queued since `queued_at`, at `now`: the widest whose wait has
    /// passed (a ring fires at its instant, not before).
    pub fn at(&self, queued_at: Ts, now: Ts) -> Ring {
        let waited = now.since(queued_at);
        self.each()
            .iter()
            .filter(|(_, after)| after.is_some_and(|a| waited >= a))
            .map(|&(ring, _)| ring)
            .max()
            .unwrap_or(Ring::NONE)
    }

    /// When the next ring after `ring` fires for a ticket queued since `queued_at`.
    pub fn next(&self, queued_at: Ts, ring: Ring) -> Option<Ts> {
        self.each()
            .iter()
            .filter(|&&(r, _)| r > ring)
            .filter_map(|(_, after)| *after)
            .min()
            .map(|after| queued_at.plus(after))
    }

    /// Each set ring waits at most a year, and no ring waits less than one before it.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let mut before: Option<(Ring, Span)> = None;
        for (ring, after) in self.each() {
            let Some(after) = after else { continue };
            let field = format!("rings.{}", ring.label());
            if after.0 == 0 || after > Span::hours(24 * 366) {
                return Err(PolicyError {
                    field,
                    reason: "must be between 1ms and 366d".into(),
                });
            }
            if let Some((earlier, at)) = before.filter(|(_, at)| after < *at) {
                return Err(PolicyError {
                    field,
                    reason: format!("must not be shorter than rings.{} ({at})", earlier.label()),
                });
            }
            before = Some((ring, after));
        }
        Ok(())
    }
}

impl Scheduler {
    /// Whether a queued ticket's time ring moved on by `now`: then it is to be re-placed
    /// (`settle` computes the ring again and files it under its wider key). A ring that
    /// widens what the ticket asks is reported (`RingWidened`); one that changes nothing for
    /// it (no optional skills to drop, no minimums to lower) is not.
    pub(super) fn ring_due(&mut self, id: TicketId, now: Ts) -> bool {
        let t = &self.tickets[id];
        let (was, ring) = (
            self.tickets.ring(id),
            self.policy.rings.at(t.queued_at, now),
        );
        if t.state != TicketState::Queued || ring == was {
            return false;
        }
        let asks = |r| widened(&t.skills, t.optional_skills(), t.minimums(), r);
        if ring > was && asks(ring) != asks(was) {
            let (tier, channel) = (t.tier, t.channel);
            self.journal.events.push(Event::RingWidened {
                ticket: id,
                tier,
                channel,
                ring,
            });
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_fires_at_its_instant_and_not_before() {
        let rings = Rings {
            drop_optional: Some(Span::secs(30)),
            lower_minimums: None,
            any_agent: Some(Span::secs(90)),
        };
        let q = Ts(1_000);
        assert_eq!(rings.at(q, Ts(30_999)), Ring::NONE);
        assert_eq!(rings.at(q, Ts(31_000)), Ring::DROP_OPTIONAL);
        assert_eq!(rings.next(q, Ring::NONE), Some(Ts(31_000)));
        assert_eq!(rings.next(q, Ring::DROP_OPTIONAL), Some(Ts(91_000)));
        assert_eq!(rings.at(q, Ts(91_000)), Ring::ANY_AGENT);
        assert_eq!(rings.next(q, Ring::ANY_AGENT), None);
        assert_eq!(Rings::default().at(q, Ts::MAX), Ring::NONE);
    }

    #[test]
    fn rings_out_of_order_are_refused_naming_the_later() {
        let rings = Rings {
            drop_optional: Some(Span::secs(60)),
            lower_minimums: Some(Span::secs(30)),
            any_agent: None,
        };
        assert_eq!(rings.validate().unwrap_err().field, "rings.lower_minimums");
        let zero = Rings {
            any_agent: Some(Span(0)),
            ..Rings::default()
        };
        assert_eq!(zero.validate().unwrap_err().field, "rings.any_agent");
    }

    #[test]
    fn rings_and_select_read_from_toml_and_merge_from_a_patch() {
        use crate::core::policy::SlaPolicy;
        use crate::core::policy_patch::PolicyPatch;
        use crate::core::proficiency::Select;
        let p: SlaPolicy = toml::from_str(
            "select = \"longest_idle\"\n[rings]\ndrop_optional = \"30s\"\nany_agent = \"2m\"\n",
        )
        .expect("valid toml");
        assert_eq!(p.select, Select::LongestIdle);
        assert_eq!(p.rings.drop_optional, Some(Span::secs(30)));
        assert_eq!(p.rings.any_agent, Some(Span::mins(2)));
        assert_eq!(p.validate(), Ok(()));
        let patch = PolicyPatch {
            rings: RingsPatch {
                drop_optional: Some(Span(0)),
                lower_minimums: Some(Span::secs(40)),
                any_agent: None,
            },
            ..PolicyPatch::default()
        };
        let merged = patch.apply_to(&p);
        assert_eq!(
            merged.rings,
            Rings {
                drop_optional: None,
                lower_minimums: Some(Span::secs(40)),
                any_agent: Some(Span::mins(2)),
            },
            "zero turns a ring off, unset keeps it"
        );
        assert_eq!(merged.select, Select::LongestIdle);
    }
}
