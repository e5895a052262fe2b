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

/// The window `[start, now]`.
#[derive(Clone, Copy)]
struct Window {
    start: Ts,
    now: Ts,
}

impl Window {
    /// The span of `[from, to)` inside the window.
    fn overlap(self, from: Ts, to: Ts) -> Span {
        to.min(self.now).since(from.max(self.start))
    }
}

/// Time per (presence, reason), summed.
type States = BTreeMap<(Presence, Option<String>), Span>;

fn add(total: &mut Span, span: Span) {
    total.0 += span.0;
}

fn compute(agent: &Agent, window: Span, now: Ts) -> AgentStats {
    let w = Window {
        start: Ts(now.0.saturating_sub(window.0 as i64)),
        now,
    };
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
    let mut states = States::new();
    let handle = count_marks(&mut s, &mut states, agent, w);
    count_open(&mut s, &mut states, agent, w);
    finish(s, states, handle)
}

/// What the history says about the window; answers the summed handle time.
fn count_marks(s: &mut AgentStats, states: &mut States, agent: &Agent, w: Window) -> Span {
    let mut handle = Span(0);
    for m in &agent.activity.marks {
        match m {
            Mark::Presence {
                from,
                to,
                presence,
                reason,
            } => add_state(states, *presence, reason, w.overlap(*from, *to)),
            Mark::Busy { from, to } => add(&mut s.busy, w.overlap(*from, *to)),
            Mark::WrapUp { from, to } => add(&mut s.wrap_up, w.overlap(*from, *to)),
            Mark::Handled { at, handle: h } if *at >= w.start => {
                s.handled += 1;
                add(&mut handle, *h);
            }
            Mark::Answered { at, within } if *at >= w.start => match within {
                true => s.answered_within += 1,
                false => s.answered_late += 1,
            },
            Mark::Offer { at, missed } if *at >= w.start => match missed {
                true => s.offers_missed += 1,
                false => s.offers_rejected += 1,
            },
            Mark::Handled { .. } | Mark::Answered { .. } | Mark::Offer { .. } => {}
        }
    }
    handle
}

/// What is still going on: the presence in force, the busy stretch and the wrap-ups.
fn count_open(s: &mut AgentStats, states: &mut States, agent: &Agent, w: Window) {
    let a = &agent.activity;
    if let Some(since) = a.since.get() {
        add_state(states, agent.presence, &a.reason, w.overlap(since, w.now));
    }
    if let Some(since) = a.busy_since.get() {
        add(&mut s.busy, w.overlap(since, w.now));
    }
    for wrap_up in &a.wrap_ups {
        add(&mut s.wrap_up, w.overlap(wrap_up.from, w.now));
    }
}

fn add_state(states: &mut States, presence: Presence, reason: &Option<String>, span: Span) {
    if span.0 > 0 {
        add(states.entry((presence, reason.clone())).or_default(), span);
    }
}

/// The shares and means, and the states in order.
fn finish(mut s: AgentStats, states: States, handle: Span) -> AgentStats {
    let signed_in = states.iter().filter(|((p, _), _)| *p != Presence::Offline);
    s.signed_in = Span(signed_in.map(|(_, t)| t.0).sum());
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
