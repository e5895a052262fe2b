//! `GetAgentStats`: how one agent did over a window ending now, from its activity history
//! (`activity`), never from a scan of tickets. Per agent on request only: these figures never
//! become metric labels.
//!
//! - handled: tickets the agent resolved; AHT: their mean time from first assignment to
//!   resolution (as `GetQueueStats`' AHT, attributed to the agent who resolved).
//! - service level: first responses the agent's replies met within target, over all it met.
//! - time per state: presence and reason, overlapped with the window; busy (holding a ticket
//!   or in wrap-up) and wrap-up time; occupancy = busy / signed in (AVAILABLE or AWAY).
//! - offers missed and rejected: counted by the offers rule (issue 18, point 1); 0 until then.

use super::activity::{Mark, HISTORY};
use super::command::Reply;
use super::error::CoreError;
use super::model::Agent;
use super::scheduler::Scheduler;
use super::types::{AgentId, Presence, Span, Ts};
use std::collections::BTreeMap;

/// Time spent in one presence with one reason.
#[derive(Clone, Debug, PartialEq)]
pub struct StateTime {
    pub presence: Presence,
    pub reason: Option<String>,
    pub time: Span,
}

/// One agent's figures over `window` ending at the call. Shares and means are `None` when
/// there was nothing to divide by.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentStats {
    pub agent: AgentId,
    pub window: Span,
    pub handled: u32,
    pub average_handle_time: Option<Span>,
    pub answered_within: u32,
    pub answered_late: u32,
    pub service_level: Option<f64>,
    pub busy: Span,
    pub wrap_up: Span,
    pub signed_in: Span,
    pub occupancy: Option<f64>,
    /// In (presence, reason) order; only states the agent was in.
    pub time_in_state: Vec<StateTime>,
    /// Offers the agent let time out, and offers it rejected: the offers rule fills these.
    pub offers_missed: u32,
    pub offers_rejected: u32,
}

/// The longest window asked for (the history kept).
pub const MAX_WINDOW: Span = HISTORY;

impl Scheduler {
    pub(super) fn agent_stats(
        &self,
        id: &AgentId,
        window: Option<Span>,
        now: Ts,
    ) -> Result<Reply, CoreError> {
        let agent = self
            .agents
            .get(id)
            .ok_or_else(|| CoreError::AgentNotFound(id.clone()))?;
        let window = window.unwrap_or(self.policy.stats_window).min(MAX_WINDOW);
        Ok(Reply::AgentStats(Box::new(compute(agent, window, now))))
    }
}

/// The span of `[from, to)` inside `[start, now]`.
fn overlap(from: Ts, to: Ts, start: Ts, now: Ts) -> Span {
    to.min(now).since(from.max(start))
}

fn compute(agent: &Agent, window: Span, now: Ts) -> AgentStats {
    let start = Ts(now.0.saturating_sub(window.0 as i64));
    let a = &agent.activity;
    let zero = Span(0);
    let mut s = AgentStats {
        agent: agent.id.clone(),
        window,
        handled: 0,
        average_handle_time: None,
        answered_within: 0,
        answered_late: 0,
        service_level: None,
        busy: zero,
        wrap_up: zero,
        signed_in: zero,
        occupancy: None,
        time_in_state: Vec::new(),
        offers_missed: 0,
        offers_rejected: 0,
    };
    let mut states: BTreeMap<(Presence, Option<String>), Span> = BTreeMap::new();
    let mut handle = Span(0);
    let mut state = |p: Presence, r: &Option<String>, span: Span| {
        if span.0 > 0 {
            let t = states.entry((p, r.clone())).or_insert(Span(0));
            t.0 += span.0;
        }
    };
    for m in &a.marks {
        match m {
            Mark::Presence {
                from,
                to,
                presence,
                reason,
            } => state(*presence, reason, overlap(*from, *to, start, now)),
            Mark::Busy { from, to } => s.busy.0 += overlap(*from, *to, start, now).0,
            Mark::WrapUp { from, to } => s.wrap_up.0 += overlap(*from, *to, start, now).0,
            Mark::Handled { at, handle: h } if *at >= start => {
                s.handled += 1;
                handle.0 += h.0;
            }
            Mark::Answered { at, within } if *at >= start => match within {
                true => s.answered_within += 1,
                false => s.answered_late += 1,
            },
            Mark::Handled { .. } | Mark::Answered { .. } => {}
        }
    }
    if let Some(since) = a.since.get() {
        state(agent.presence, &a.reason, overlap(since, now, start, now));
    }
    if let Some(since) = a.busy_since.get() {
        s.busy.0 += overlap(since, now, start, now).0;
    }
    for w in &a.wrap_ups {
        s.wrap_up.0 += overlap(w.from, now, start, now).0;
    }
    s.signed_in = Span(
        states
            .iter()
            .filter(|((p, _), _)| *p != Presence::Offline)
            .map(|(_, t)| t.0)
            .sum(),
    );
    s.average_handle_time = (s.handled > 0).then(|| Span(handle.0 / u64::from(s.handled)));
    let answered = s.answered_within + s.answered_late;
    s.service_level = (answered > 0).then(|| f64::from(s.answered_within) / f64::from(answered));
    s.occupancy =
        (s.signed_in.0 > 0).then(|| (s.busy.as_secs_f64() / s.signed_in.as_secs_f64()).min(1.0));
    s.time_in_state = states
        .into_iter()
        .map(|((presence, reason), time)| StateTime {
            presence,
            reason,
            time,
        })
        .collect();
    s
}
