//! What an agent does over time: the reason of its presence, the slots still busy with
//! after-call work (wrap-up), and a short history (the last `HISTORY` at most) of presence
//! intervals, busy intervals, wrap-ups and tickets handled, from which `GetAgentStats` is
//! computed (see `agent_stats`). It is the agent record's last field, so all of it survives a
//! restart, kill -9 included: a slot in wrap-up at the crash stays busy until its end.
//!
//! Times are `now` differences the scheduler was given: the core reads no clock.

use super::parse::{FieldError, Parsed};
use super::types::{Channel, OptTs, Presence, Span, TicketId, Ts};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// How far back an agent's history reaches: the longest window `GetAgentStats` answers for.
pub const HISTORY: Span = Span::hours(24);

/// At most this many marks are kept per agent (the oldest go first), which bounds the agent
/// record: a phone agent taking a call every two minutes for a whole day stays below it.
pub const MAX_MARKS: usize = 2048;

/// The reason codes of a fresh policy: an agent's `AWAY` or `OFFLINE` may carry one of them.
/// `missed_offers` is what the offers rule sets after too many missed offers in a row.
pub const DEFAULT_REASONS: &[&str] = &["break", "lunch", "training", "meeting", "missed_offers"];

/// The most reason codes a policy may name, and the longest code.
pub const MAX_REASONS: usize = 32;
pub const MAX_REASON_LEN: usize = 32;

/// The longest wrap-up a policy may set per channel.
pub const MAX_WRAP_UP: Span = Span::hours(1);

/// The policy's settings of this module (`SlaPolicy::presence`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PresencePolicy {
    /// After an agent resolves or releases a ticket of a channel, its slot stays busy this
    /// long (after-call work). A channel left out has none.
    pub wrap_up: BTreeMap<Channel, Span>,
    /// The reason codes `SetPresence` accepts; anything else is refused.
    pub reasons: Vec<String>,
}

impl Default for PresencePolicy {
    fn default() -> Self {
        PresencePolicy {
            wrap_up: BTreeMap::new(),
            reasons: DEFAULT_REASONS.iter().map(|r| r.to_string()).collect(),
        }
    }
}

impl PresencePolicy {
    /// The wrap-up time of `channel` (zero: none).
    pub fn wrap_up(&self, channel: Channel) -> Span {
        self.wrap_up.get(&channel).copied().unwrap_or(Span(0))
    }

    pub fn knows(&self, reason: &str) -> bool {
        self.reasons.iter().any(|r| r == reason)
    }

    /// The first bad setting, as (field, why).
    pub fn check(&self) -> Result<(), (String, String)> {
        if let Some((channel, _)) = self.wrap_up.iter().find(|(_, &s)| s > MAX_WRAP_UP) {
            let why = format!("at most {MAX_WRAP_UP}");
            return Err((format!("wrap_up.{}", channel.label()), why));
        }
        if self.reasons.len() > MAX_REASONS {
            return Err(("presence_reasons".into(), format!("at most {MAX_REASONS}")));
        }
        for (i, r) in self.reasons.iter().enumerate() {
            if !is_code(r) {
                let why = format!("1 to {MAX_REASON_LEN} of a-z, 0-9, _ and -");
                return Err((format!("presence_reasons[{i}]"), why));
            }
            if self.reasons[..i].contains(r) {
                return Err((format!("presence_reasons[{i}]"), "listed twice".into()));
            }
        }
        Ok(())
    }
}

/// A reason code as a request gives it: empty is none; otherwise the shape every code has
/// (whether the policy knows it is the scheduler's check).
pub fn parse_reason(field: &str, value: String) -> Parsed<Option<String>> {
    match value.is_empty() {
        true => Ok(None),
        false if is_code(&value) => Ok(Some(value)),
        false => Err(FieldError::new(
            field,
            format!("must be one of the policy's presence_reasons (1 to {MAX_REASON_LEN} of a-z, 0-9, _ and -)"),
        )),
    }
}

fn is_code(r: &str) -> bool {
    (1..=MAX_REASON_LEN).contains(&r.len())
        && r.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// One slot in after-call work: the ticket it was for, on `channel`, until `until`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WrapUp {
    pub ticket: TicketId,
    pub channel: Channel,
    pub from: Ts,
    pub until: Ts,
}

/// One fact of an agent's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Mark {
    /// The agent was in `presence` (for `reason`) from `from` to `to`.
    Presence {
        from: Ts,
        to: Ts,
        presence: Presence,
        reason: Option<String>,
    },
    /// The agent held at least one ticket or was in wrap-up from `from` to `to`.
    Busy { from: Ts, to: Ts },
    /// A wrap-up ran from `from` to `to` (its end, or earlier with `EndWrapUp`).
    WrapUp { from: Ts, to: Ts },
    /// The agent resolved a ticket at `at`, `handle` after it was first assigned.
    Handled { at: Ts, handle: Span },
    /// The agent's reply met a ticket's first response at `at`, within its target or not.
    Answered { at: Ts, within: bool },
    /// An offer to the agent ended unaccepted at `at`: it timed out (`missed`) or was rejected.
    Offer { at: Ts, missed: bool },
}

impl Mark {
    /// When the fact ended (what ages it out).
    fn end(&self) -> Ts {
        match *self {
            Mark::Presence { to, .. } | Mark::Busy { to, .. } | Mark::WrapUp { to, .. } => to,
            Mark::Handled { at, .. } | Mark::Answered { at, .. } | Mark::Offer { at, .. } => at,
        }
    }
}

/// An agent's activity (see the module doc). `since` is none only in a record written before
/// it existed, until the agent is read back (`Activity::restored`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// The reason of the presence in force (none: no reason given).
    pub reason: Option<String>,
    /// When the presence in force (and its reason) began.
    pub since: OptTs,
    /// Since when the agent holds a ticket or is in wrap-up without a break (none: idle).
    pub busy_since: OptTs,
    /// Slots in wrap-up, earliest end first.
    pub wrap_ups: Vec<WrapUp>,
    /// The history, oldest first.
    pub marks: VecDeque<Mark>,
}

impl Activity {
    /// A new agent's activity: its presence begins `now`.
    pub fn new(now: Ts) -> Activity {
        Activity {
            since: now.into(),
            ..Activity::default()
        }
    }

    /// Read back at `now`: a record older than this module counts its presence from now.
    pub fn restored(&mut self, now: Ts) {
        if self.since.is_none() {
            self.since = now.into();
        }
    }

    /// Slots of `channel` in wrap-up.
    pub fn wrapping(&self, channel: Channel) -> u32 {
        let n = self
            .wrap_ups
            .iter()
            .filter(|w| w.channel == channel)
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// When the next wrap-up ends.
    pub fn next_wrap_up_end(&self) -> Option<Ts> {
        self.wrap_ups.iter().map(|w| w.until).min()
    }

    /// The presence changes at `now` from `was` to a presence with `reason`: the interval
    /// that ends is kept.
    pub fn enter(&mut self, was: Presence, reason: Option<String>, now: Ts) {
        let from = self.since.get().unwrap_or(now);
        let old = std::mem::replace(&mut self.reason, reason);
        if from < now {
            self.push(Mark::Presence {
                from,
                to: now,
                presence: was,
                reason: old,
            });
        }
        self.since = now.into();
    }

    /// Starts a wrap-up of `span` for `ticket` on `channel` at `now`.
    pub fn start_wrap_up(&mut self, ticket: TicketId, channel: Channel, span: Span, now: Ts) {
        let until = now.plus(span);
        let at = self.wrap_ups.partition_point(|w| w.until <= until);
        let w = WrapUp {
            ticket,
            channel,
            from: now,
            until,
        };
        self.wrap_ups.insert(at, w);
    }

    /// Ends the wrap-ups that `done` picks at `now`; answers how many ended.
    pub fn end_wrap_ups(&mut self, now: Ts, done: impl Fn(&WrapUp) -> bool) -> usize {
        let (ended, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.wrap_ups)
            .into_iter()
            .partition(|w| done(w));
        self.wrap_ups = kept;
        for w in &ended {
            self.push(Mark::WrapUp {
                from: w.from,
                to: now.min(w.until),
            });
        }
        ended.len()
    }

    /// Whether the agent is busy is now `busy`: answers whether that changed anything.
    pub fn set_busy(&mut self, busy: bool, now: Ts) -> bool {
        match (self.busy_since.get(), busy) {
            (None, true) => self.busy_since = now.into(),
            (Some(from), false) => {
                self.busy_since = OptTs::NONE;
                if from < now {
                    self.push(Mark::Busy { from, to: now });
                }
            }
            _ => return false,
        }
        true
    }

    /// Keeps `mark`, forgetting what ended more than `HISTORY` before it and the oldest
    /// marks past `MAX_MARKS`.
    pub fn push(&mut self, mark: Mark) {
        let horizon = Ts(mark.end().0.saturating_sub(HISTORY.0 as i64));
        while self
            .marks
            .front()
            .is_some_and(|m| m.end() < horizon || self.marks.len() >= MAX_MARKS)
        {
            self.marks.pop_front();
        }
        self.marks.push_back(mark);
    }
}
