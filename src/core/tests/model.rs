//! A state-machine property test of the core against a reference model.
//!
//! Random sequences of commands, time jumps and restarts are applied both to the `Scheduler`
//! and to `Model`, a deliberately plain re-implementation of the scheduling rules: every pull
//! scans all tickets and takes the minimum of one sort key, loads are counted from the tickets,
//! timers are a full scan on every tick; no queues, indexes or caches. After every step the two
//! must agree on:
//! - the result of the command: the ticket it answered with, or which refusal (with its fields);
//!   for a pull the ticket handed out (or none), its lease epoch, holder and reason; for a
//!   heartbeat the presence and expiry;
//! - every ticket's state, holder, lease epoch and queue due, and for each SLA clock its
//!   target, whether it is met or paused, and the last escalation step it fired (warning, L1 =
//!   breached, L2, L3), hence the set of breached clocks;
//! - every agent's presence, last-seen instant, profile and load per channel;
//! - the core's own bookkeeping: no ticket in two agents' holdings, holdings and loads match
//!   the tickets' assignees, exactly the QUEUED tickets are in a queue, and a refused command
//!   journals nothing.
//!
//! A restart does what the daemon does: the journal of every step is encoded with
//! `store::codec` (`Batch::from_journal`) into an in-memory key/value map, which is read back
//! the way `SledStore::load_all` reads sled, and `Scheduler::restore` builds a fresh scheduler
//! (possibly after some downtime, followed by a tick). Right after `restore` the new scheduler
//! must equal the old one in every persisted or rebuilt part (tickets, agents, loads, queue
//! slots and routing keys, ticket timers, external and request ids), the only intended
//! difference being that every agent gets a fresh presence TTL; the run then goes on with it.
//!
//! The universe: four agents with different skills, tiers and capacities (each with a second
//! profile that an upsert switches to) plus one unknown agent id; tickets of every tier on
//! chat, messenger, email and phone, every priority, neutral or negative sentiment, a handful
//! of skill sets, clashing external ids and reused request ids; waits from milliseconds to
//! hours, with or without heartbeats, and jumps to exactly the core's next deadline or next
//! escalation step (to hit every boundary on the millisecond).
//!
//! Not covered (kept out of the generated inputs):
//! - business-hours calendars and policy changes: the default 24/7 policy, never `PutPolicy`;
//! - preferred agents and their hold window; the onboarding hold (no agent has the onboarding
//!   skill, so `new`-tier tickets are never held);
//! - interim-update promises (`next_update_by` is always `None`), `RecordFollowUp` as its own
//!   command (the follow-up clock is met through an agent reply on a resolved ticket),
//!   `Update`, `CreateTickets`, `dispatch` (long-poll fairness) and the read commands;
//! - other ladders and widenings: the model knows the default ones (warning at 80 %, L1 at
//!   the target, L2 at +50 % relaxing the skills to the first and taking the ticket back from
//!   an agent who has not answered, L3 at +100 % open to any agent of any tier), not
//!   supervisors or other settings;
//! - events: the model checks state and replies, not the event stream (nor the follow-up-due
//!   event, `follow_up_due_at`);
//! - a crash between batches: every step's journal is persisted before the next step.

use super::{agent_id, skills, T0};
use crate::core::command::{AgentProfile, Author, Command, Epoch, Lease, NewTicket, Reply};
use crate::core::idempotency::Idempotency;
use crate::core::model::Ticket;
use crate::core::policy::SlaPolicy;
use crate::core::queue::Slot;
use crate::core::routing::RoutingKey;
use crate::core::scheduler::{CoreConfig, Recovered, Scheduler};
use crate::core::sla::Clock;
use crate::core::types::*;
use crate::core::CoreError;
use crate::store::codec::{self, Batch};
use proptest::prelude::*;
use proptest::sample::select;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

// ---- the universe -----------------------------------------------------------------------

/// Agents a0..a3 exist from the start; index 4 is an id the core never heard of.
const GHOST: u8 = 4;
const NAMES: [&str; 5] = ["a0", "a1", "a2", "a3", "ghost"];
const SKILL_SETS: [&[&str]; 7] = [
    &[],
    &["en"],
    &["de"],
    &["billing"],
    &["billing", "en"],
    &["de", "returns"],
    &["billing", "de"],
];
const CHANNELS: [Channel; 4] = [
    Channel::Chat,
    Channel::Messenger,
    Channel::Email,
    Channel::Phone,
];

/// The presence TTL and default capacities of the default policy and config, as the model
/// knows them (chat, messenger, email, phone, social, review).
const TTL: i64 = 30_000;
const DEFAULT_CAPACITY: [u32; 6] = [3, 3, 5, 1, 2, 5];

struct Profile {
    skills: &'static [&'static str],
    tiers: &'static [Tier],
    capacity: [Option<u32>; 6],
}

/// Agent `i`'s profile A (`false`) or B (`true`).
fn profile(i: usize, variant: bool) -> Profile {
    use Tier::*;
    let p = |skills, tiers, capacity| Profile {
        skills,
        tiers,
        capacity,
    };
    let n = None;
    match (i, variant) {
        (0, false) => p(&["billing", "en"], &[], [n; 6]),
        (0, true) => p(&["en"], &[Standard], [Some(1), n, Some(2), n, n, n]),
        (1, false) => p(
            &["billing", "en"],
            &[Vip],
            [Some(1), Some(1), Some(2), Some(1), n, n],
        ),
        (1, true) => p(
            &["en"],
            &[Vip, New],
            [Some(2), Some(0), Some(1), Some(0), n, n],
        ),
        (2, false) => p(
            &["billing", "de"],
            &[New, Standard],
            [Some(2), Some(2), Some(1), Some(0), n, n],
        ),
        (2, true) => p(&["de", "returns"], &[], [n; 6]),
        (3, false) => p(
            &["billing", "de", "en", "returns"],
            &[Vip, Standard],
            [Some(1), n, Some(1), n, n, n],
        ),
        _ => p(&[], &[], [Some(1); 6]),
    }
}

// ---- the commands -----------------------------------------------------------------------

/// Which ticket a call is about.
#[derive(Clone, Copy, Debug)]
enum Tk {
    /// What a front end works on: the ticket the last successful pull handed out if it is
    /// still held, else the held ticket with the lowest id, else the last one created.
    Recent,
    Id(u64),
}

/// Which lease an agent call carries, resolved against the model when the step runs.
#[derive(Clone, Copy, Debug)]
enum LeaseArg {
    /// The ticket's holder (a0 when none) at the current epoch.
    Holder,
    /// The ticket's holder (a0 when none) at the epoch before the current one.
    Stale,
    /// This agent at the current epoch.
    Agent(u8),
}

/// One step. `agent` is an index into `NAMES` (4: the id the core never heard of); a ticket
/// id may be one that does not exist yet.
#[derive(Clone, Debug)]
enum Op {
    Create {
        ext: u8,
        request: Option<u8>,
        tier: Tier,
        channel: Channel,
        priority: Priority,
        upset: bool,
        skills: &'static [&'static str],
    },
    Pull {
        agent: u8,
    },
    AgentReply {
        ticket: Tk,
        lease: LeaseArg,
    },
    CustomerReply {
        ticket: Tk,
    },
    SetPending {
        ticket: Tk,
        lease: LeaseArg,
    },
    Resolve {
        ticket: Tk,
        lease: Option<LeaseArg>,
    },
    Release {
        ticket: Tk,
        lease: LeaseArg,
    },
    Reopen {
        ticket: Tk,
    },
    Cancel {
        ticket: Tk,
    },
    SetPresence {
        agent: u8,
        presence: Presence,
    },
    Heartbeat {
        agent: u8,
    },
    /// Every agent sets its presence to AVAILABLE (front ends reconnecting).
    EveryoneBack,
    Upsert {
        agent: u8,
        variant: bool,
    },
    /// Time passes with nobody heartbeating, then a tick.
    Wait {
        ms: u64,
    },
    /// Time passes in steps of at most 20 s, each a tick and then a heartbeat of every agent.
    Live {
        ms: u64,
    },
    /// To exactly the core's next deadline (if later than now), then a tick.
    ToNextDeadline,
    /// To exactly the core's next ticket timer (an escalation step), agents aside, then a tick.
    ToNextTicketStep,
    /// Persist, restore at now + `down_ms`, tick.
    Restart {
        down_ms: u64,
    },
}

/// A ticket: often the recent one, else an id, mostly one of the first few
/// (there are few tickets per run).
fn ticket_ref() -> impl Strategy<Value = Tk> {
    prop_oneof![
        6 => Just(Tk::Recent),
        4 => (1..=3u64).prop_map(Tk::Id),
        3 => (1..=6u64).prop_map(Tk::Id),
        1 => (1..=10u64).prop_map(Tk::Id),
    ]
}

fn agent_ref() -> impl Strategy<Value = u8> {
    prop_oneof![9 => 0..GHOST, 1 => Just(GHOST)]
}

fn lease_arg() -> impl Strategy<Value = LeaseArg> {
    prop_oneof![
        8 => Just(LeaseArg::Holder),
        1 => Just(LeaseArg::Stale),
        2 => (0..=GHOST).prop_map(LeaseArg::Agent),
    ]
}

fn presence() -> impl Strategy<Value = Presence> {
    prop_oneof![
        4 => Just(Presence::Available),
        1 => Just(Presence::Away),
        1 => Just(Presence::Offline),
    ]
}

fn span_ms() -> impl Strategy<Value = u64> {
    prop_oneof![
        5 => 1..20_000u64,
        3 => (20..=120u64).prop_map(|s| s * 1000),
        2 => (2..=60u64).prop_map(|m| m * 60_000),
        1 => (1..=12u64).prop_map(|h| h * 3_600_000),
    ]
}

fn create() -> impl Strategy<Value = Op> {
    (
        0..24u8,
        prop::option::weighted(0.25, 0..3u8),
        select(Tier::ALL),
        select(CHANNELS.to_vec()),
        select(Priority::ALL),
        prop::bool::weighted(0.2),
        prop_oneof![
            3 => Just(SKILL_SETS[0]),
            3 => Just(SKILL_SETS[1]),
            4 => select(SKILL_SETS.to_vec()),
        ],
    )
        .prop_map(
            |(ext, request, tier, channel, priority, upset, skills)| Op::Create {
                ext,
                request,
                tier,
                channel,
                priority,
                upset,
                skills,
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => create(),
        16 => agent_ref().prop_map(|agent| Op::Pull { agent }),
        12 => (ticket_ref(), lease_arg())
            .prop_map(|(ticket, lease)| Op::AgentReply { ticket, lease }),
        3 => ticket_ref().prop_map(|ticket| Op::CustomerReply { ticket }),
        2 => (ticket_ref(), lease_arg())
            .prop_map(|(ticket, lease)| Op::SetPending { ticket, lease }),
        3 => (ticket_ref(), prop::option::weighted(0.8, lease_arg()))
            .prop_map(|(ticket, lease)| Op::Resolve { ticket, lease }),
        2 => (ticket_ref(), lease_arg()).prop_map(|(ticket, lease)| Op::Release { ticket, lease }),
        1 => ticket_ref().prop_map(|ticket| Op::Reopen { ticket }),
        1 => ticket_ref().prop_map(|ticket| Op::Cancel { ticket }),
        5 => (agent_ref(), presence())
            .prop_map(|(agent, presence)| Op::SetPresence { agent, presence }),
        3 => agent_ref().prop_map(|agent| Op::Heartbeat { agent }),
        3 => Just(Op::EveryoneBack),
        4 => (0..GHOST, any::<bool>()).prop_map(|(agent, variant)| Op::Upsert { agent, variant }),
        3 => span_ms().prop_map(|ms| Op::Wait { ms }),
        3 => (1..=1800u64).prop_map(|s| Op::Live { ms: s * 1000 }),
        2 => Just(Op::ToNextDeadline),
        3 => Just(Op::ToNextTicketStep),
        2 => prop_oneof![2 => Just(0u64), 1 => span_ms()]
            .prop_map(|down_ms| Op::Restart { down_ms }),
    ]
}

// ---- what is compared -------------------------------------------------------------------

/// A refusal, as far as the model can predict it.
#[derive(Clone, Debug, PartialEq)]
enum Refusal {
    TicketNotFound(u64),
    AgentNotFound(String),
    ExternalIdTaken(u64),
    RequestIdReused(String),
    WrongState(u64, TicketState),
    StaleLease(u64, String, u64),
    AgentNotAvailable(String, Presence),
    NoFollowUp(u64),
    Unexpected(String),
}

#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Ticket(u64),
    /// Ticket, lease epoch, holder, reason.
    Pulled(Option<(u64, u64, Option<String>, AssignReason)>),
    Agent(Presence),
    Heartbeat(Presence, i64),
    Refused(Refusal),
    Unexpected(String),
}

fn outcome(result: Result<Reply, CoreError>) -> Outcome {
    match result {
        Ok(Reply::Ticket(t)) => Outcome::Ticket(t.id.0),
        Ok(Reply::Pulled(a)) => Outcome::Pulled(a.map(|a| {
            let holder = a.ticket.holder().map(|h| h.to_string());
            (a.ticket.id.0, a.lease_epoch.get(), holder, a.reason)
        })),
        Ok(Reply::Agent(a)) => Outcome::Agent(a.presence),
        Ok(Reply::Heartbeat {
            presence,
            expires_at,
        }) => Outcome::Heartbeat(presence, expires_at.0),
        Ok(other) => Outcome::Unexpected(format!("{other:?}")),
        Err(e) => Outcome::Refused(match e {
            CoreError::TicketNotFound(id) => Refusal::TicketNotFound(id.0),
            CoreError::AgentNotFound(a) => Refusal::AgentNotFound(a.to_string()),
            CoreError::ExternalIdTaken { ticket, .. } => Refusal::ExternalIdTaken(ticket.0),
            CoreError::RequestIdReused(r) => Refusal::RequestIdReused(r),
            CoreError::WrongState { ticket, state, .. } => Refusal::WrongState(ticket.0, state),
            CoreError::StaleLease {
                ticket,
                agent,
                epoch,
            } => Refusal::StaleLease(ticket.0, agent.to_string(), epoch.get()),
            CoreError::AgentNotAvailable { agent, presence } => {
                Refusal::AgentNotAvailable(agent.to_string(), presence)
            }
            CoreError::NoFollowUp(id) => Refusal::NoFollowUp(id.0),
            other => Refusal::Unexpected(other.to_string()),
        }),
    }
}

#[derive(Debug, PartialEq)]
struct ClockView {
    target: i64,
    met: bool,
    paused: bool,
    level: Level,
}

#[derive(Debug, PartialEq)]
struct TicketView {
    state: TicketState,
    holder: Option<String>,
    epoch: u64,
    due: Option<i64>,
    /// First response, next reply, resolution, follow-up.
    clocks: [Option<ClockView>; 4],
    promise: bool,
}

#[derive(Debug, PartialEq)]
struct AgentView {
    presence: Presence,
    last_seen: i64,
    skills: Vec<String>,
    tiers: Vec<Tier>,
    capacity: [u32; 6],
    load: [u32; 6],
}

fn clock_view(c: &Clock) -> ClockView {
    ClockView {
        target: c.target.0 as i64,
        met: c.is_met(),
        paused: c.paused_since.is_some(),
        level: c.level,
    }
}

fn core_ticket(t: &Ticket) -> TicketView {
    TicketView {
        state: t.state,
        holder: t.holder().map(|a| a.to_string()),
        epoch: t.epoch().get(),
        due: t.due().map(|d| d.0),
        clocks: [
            Some(clock_view(&t.first_response)),
            t.next_reply.as_ref().map(clock_view),
            Some(clock_view(&t.resolution)),
            t.follow_up.as_ref().map(clock_view),
        ],
        promise: t.interim.is_some(),
    }
}

// ---- the reference model ----------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Metric {
    FirstResponse,
    NextReply,
    Resolution,
    FollowUp,
}

impl Metric {
    const ALL: [Metric; 4] = [
        Metric::FirstResponse,
        Metric::NextReply,
        Metric::Resolution,
        Metric::FollowUp,
    ];
    /// Missing it means no agent answered the customer (what L2 takes a ticket back for).
    fn awaits_agent(self) -> bool {
        matches!(self, Metric::FirstResponse | Metric::NextReply)
    }
}

/// `n / d` rounded half up (all values are positive).
fn round_div(n: i64, d: i64) -> i64 {
    (2 * n + d) / (2 * d)
}

/// DOMAIN.md's defaults: channel target × tier multiplier × priority multiplier, where a
/// negative sentiment counts one priority step up.
fn target(metric: Metric, channel: Channel, tier: Tier, priority: Priority, upset: bool) -> i64 {
    const S: i64 = 1000;
    const H: i64 = 3600 * S;
    let base = match (metric, channel) {
        (Metric::FollowUp, _) => 72 * H,
        (Metric::Resolution, Channel::Review) => 72 * H,
        (Metric::Resolution, _) => 24 * H,
        (_, Channel::Chat | Channel::Phone) => 30 * S,
        (_, Channel::Messenger) => 300 * S,
        (_, Channel::Email) => 2 * H,
        (_, Channel::Social) => H,
        (_, Channel::Review) => 48 * H,
    };
    let (tier_n, tier_d) = match tier {
        Tier::Vip => (1, 2),
        Tier::New => (3, 4),
        Tier::Standard => (1, 1),
    };
    let priority = match (upset, priority) {
        (false, p) => p,
        (true, Priority::Low) => Priority::Normal,
        (true, Priority::Normal) => Priority::High,
        (true, _) => Priority::Urgent,
    };
    let (prio_n, prio_d) = match priority {
        Priority::Low => (2, 1),
        Priority::Normal => (1, 1),
        Priority::High => (1, 2),
        Priority::Urgent => (1, 4),
    };
    round_div(base * tier_n * prio_n, tier_d * prio_d)
}

/// Escalation steps 0 none, 1 warning (80 %), 2 L1 = breach (100 %), 3 L2 (150 %), 4 L3
/// (200 %): the share of the target, in tenths, at which each fires.
const STEP_TENTHS: [i64; 5] = [0, 8, 10, 15, 20];
const L1: u8 = 2;
const L2: u8 = 3;
const L3: u8 = 4;

#[derive(Clone, Debug)]
struct MClock {
    start: i64,
    target: i64,
    paused_for: i64,
    paused_since: Option<i64>,
    met: bool,
    level: u8,
}

impl MClock {
    fn new(start: i64, target: i64) -> MClock {
        MClock {
            start,
            target,
            paused_for: 0,
            paused_since: None,
            met: false,
            level: 0,
        }
    }
    fn counting(&self) -> bool {
        !self.met && self.paused_since.is_none()
    }
    /// When escalation step `level` falls due: that share of the target after the start,
    /// pushed back by the time spent paused.
    fn deadline(&self, level: u8) -> i64 {
        let share = round_div(self.target * STEP_TENTHS[level as usize], 10).max(1);
        self.start + self.paused_for + share
    }
    fn due(&self) -> Option<i64> {
        self.counting().then(|| self.deadline(L1))
    }
    fn pause(&mut self, now: i64) {
        if self.counting() {
            self.paused_since = Some(now);
        }
    }
    fn resume(&mut self, now: i64) {
        if let Some(since) = self.paused_since.take() {
            self.paused_for += now - since;
        }
    }
    fn meet(&mut self, now: i64) {
        if !self.met {
            self.resume(now);
            self.met = true;
        }
    }
    fn view(&self) -> ClockView {
        ClockView {
            target: self.target,
            met: self.met,
            paused: self.paused_since.is_some(),
            level: Level::ALL[self.level as usize],
        }
    }
}

/// What a create asks for: a retry with the same request id must ask for the same.
type Fingerprint = (u8, Tier, Channel, Priority, bool, &'static [&'static str]);

#[derive(Clone, Debug)]
struct MTicket {
    ext: u8,
    tier: Tier,
    channel: Channel,
    priority: Priority,
    upset: bool,
    skills: &'static [&'static str],
    state: TicketState,
    holder: Option<usize>,
    epoch: u64,
    /// Indexed by `Metric`: first response and resolution always exist.
    clocks: [Option<MClock>; 4],
}

impl MTicket {
    fn clock(&mut self, m: Metric) -> Option<&mut MClock> {
        self.clocks[m as usize].as_mut()
    }
    fn new_clock(&self, m: Metric, now: i64) -> MClock {
        MClock::new(
            now,
            target(m, self.channel, self.tier, self.priority, self.upset),
        )
    }
    fn is_open(&self) -> bool {
        matches!(
            self.state,
            TicketState::Queued | TicketState::Assigned | TicketState::Pending
        )
    }
    /// The follow-up clock runs once resolved, the others while open, none once cancelled.
    fn live(&self, m: Metric) -> bool {
        match m {
            Metric::FollowUp => self.state == TicketState::Resolved,
            _ => self.is_open(),
        }
    }
    fn live_clocks(&self) -> impl Iterator<Item = &MClock> {
        Metric::ALL
            .into_iter()
            .filter(|&m| self.live(m))
            .filter_map(|m| self.clocks[m as usize].as_ref())
    }
    /// The earliest breach deadline among live counting clocks.
    fn due(&self) -> Option<i64> {
        self.live_clocks().filter_map(MClock::due).min()
    }
    /// The highest step fired by a live clock not yet met.
    fn escalation(&self) -> u8 {
        self.live_clocks()
            .filter(|c| !c.met)
            .map(|c| c.level)
            .max()
            .unwrap_or(0)
    }
    /// Back to the queue: the holder (if any) loses it and the epoch moves on.
    fn requeue(&mut self, now: i64) {
        self.unassign();
        if let Some(c) = self.clock(Metric::Resolution) {
            c.resume(now);
        }
        self.state = TicketState::Queued;
    }
    fn unassign(&mut self) {
        if self.holder.take().is_some() {
            self.epoch += 1;
        }
    }
    fn view(&self) -> TicketView {
        TicketView {
            state: self.state,
            holder: self.holder.map(|a| NAMES[a].to_string()),
            epoch: self.epoch,
            due: self.due(),
            clocks: self.clocks.clone().map(|c| c.map(|c| c.view())),
            promise: false,
        }
    }
}

#[derive(Clone, Debug)]
struct MAgent {
    skills: &'static [&'static str],
    tiers: &'static [Tier],
    capacity: [u32; 6],
    presence: Presence,
    last_seen: i64,
}

impl MAgent {
    fn set_profile(&mut self, p: Profile) {
        self.skills = p.skills;
        self.tiers = p.tiers;
        self.capacity = std::array::from_fn(|i| p.capacity[i].unwrap_or(DEFAULT_CAPACITY[i]));
    }
    fn serves(&self, tier: Tier) -> bool {
        self.tiers.is_empty() || self.tiers.contains(&tier)
    }
    fn has_all(&self, skills: &[&str]) -> bool {
        skills.iter().all(|s| self.skills.contains(s))
    }
}

/// Service order among equally due tickets: VIP, new, standard.
fn tier_rank(tier: Tier) -> u8 {
    match tier {
        Tier::Vip => 0,
        Tier::New => 1,
        Tier::Standard => 2,
    }
}

#[derive(Default)]
struct Model {
    /// Ticket `n` at index `n - 1`.
    tickets: Vec<MTicket>,
    agents: Vec<MAgent>,
    /// Request id → (ticket, fingerprint, when made); forgotten a request window later.
    requests: BTreeMap<u8, (u64, Fingerprint, i64)>,
}

fn refused(r: Refusal) -> Outcome {
    Outcome::Refused(r)
}

impl Model {
    fn ticket(&self, id: u64) -> Option<&MTicket> {
        self.tickets.get(usize::try_from(id).ok()?.checked_sub(1)?)
    }

    fn found(&self, id: u64) -> Result<usize, Refusal> {
        self.ticket(id)
            .map(|_| id as usize - 1)
            .ok_or(Refusal::TicketNotFound(id))
    }

    fn load(&self, agent: usize, channel: Channel) -> u32 {
        self.tickets
            .iter()
            .filter(|t| t.holder == Some(agent) && t.channel == channel)
            .count() as u32
    }

    /// The lease a step's `LeaseArg` stands for on ticket `id`, now.
    fn lease(&self, id: u64, arg: LeaseArg) -> (u8, u64) {
        let t = self.ticket(id);
        let epoch = t.map_or(0, |t| t.epoch);
        let holder = t.and_then(|t| t.holder).map_or(0, |h| h as u8);
        match arg {
            LeaseArg::Holder => (holder, epoch),
            LeaseArg::Stale => (holder, epoch.wrapping_sub(1)),
            LeaseArg::Agent(a) => (a, epoch),
        }
    }

    fn check_lease(&self, id: u64, (agent, epoch): (u8, u64)) -> Result<usize, Refusal> {
        let i = self.found(id)?;
        if agent == GHOST {
            return Err(Refusal::AgentNotFound(NAMES[GHOST as usize].into()));
        }
        let t = &self.tickets[i];
        if t.holder != Some(agent as usize) || t.epoch != epoch {
            return Err(Refusal::StaleLease(id, NAMES[agent as usize].into(), epoch));
        }
        Ok(i)
    }

    fn wrong_state(&self, i: usize) -> Refusal {
        Refusal::WrongState(i as u64 + 1, self.tickets[i].state)
    }

    fn agent(&mut self, agent: u8) -> Result<&mut MAgent, Refusal> {
        self.agents
            .get_mut(agent as usize)
            .ok_or(Refusal::AgentNotFound(NAMES[agent as usize].into()))
    }

    fn create(&mut self, fp: Fingerprint, request: Option<u8>, now: i64) -> Outcome {
        let window = CoreConfig::default().request_window.0 as i64;
        self.requests.retain(|_, (_, _, at)| *at > now - window);
        if let Some(&(id, seen, _)) = request.and_then(|r| self.requests.get(&r)) {
            if seen != fp {
                let request = format!("req-{}", request.unwrap_or(0));
                return refused(Refusal::RequestIdReused(request));
            }
            return Outcome::Ticket(id);
        }
        let (ext, tier, channel, priority, upset, skills) = fp;
        if let Some(i) = self.tickets.iter().position(|t| t.ext == ext) {
            return refused(Refusal::ExternalIdTaken(i as u64 + 1));
        }
        let mut t = MTicket {
            ext,
            tier,
            channel,
            priority,
            upset,
            skills,
            state: TicketState::Queued,
            holder: None,
            epoch: 0,
            clocks: [None, None, None, None],
        };
        t.clocks[Metric::FirstResponse as usize] = Some(t.new_clock(Metric::FirstResponse, now));
        t.clocks[Metric::Resolution as usize] = Some(t.new_clock(Metric::Resolution, now));
        self.tickets.push(t);
        let id = self.tickets.len() as u64;
        if let Some(r) = request {
            self.requests.insert(r, (id, fp, now));
        }
        Outcome::Ticket(id)
    }

    /// Among QUEUED tickets the agent may take now, the earliest due, then the higher tier,
    /// then the older one.
    fn pull(&mut self, agent: u8, now: i64) -> Outcome {
        let a = match self.agent(agent) {
            Ok(a) => a,
            Err(r) => return refused(r),
        };
        if a.presence != Presence::Available {
            let presence = a.presence;
            return refused(Refusal::AgentNotAvailable(
                NAMES[agent as usize].into(),
                presence,
            ));
        }
        a.last_seen = now;
        let ai = agent as usize;
        let a = &self.agents[ai];
        let eligible = |t: &MTicket| {
            let routing = match t.escalation() {
                L3 => true,
                L2 => {
                    let first = t
                        .skills
                        .iter()
                        .min()
                        .into_iter()
                        .copied()
                        .collect::<Vec<_>>();
                    a.serves(t.tier) && a.has_all(&first)
                }
                _ => a.serves(t.tier) && a.has_all(t.skills),
            };
            routing && self.load(ai, t.channel) < a.capacity[t.channel.index()]
        };
        let best = self
            .tickets
            .iter()
            .enumerate()
            .filter(|(_, t)| t.state == TicketState::Queued && eligible(t))
            .min_by_key(|(i, t)| (t.due().unwrap_or(i64::MAX), tier_rank(t.tier), *i))
            .map(|(i, _)| i);
        let Some(i) = best else {
            return Outcome::Pulled(None);
        };
        let t = &mut self.tickets[i];
        let reason = match t.escalation() {
            L3 => AssignReason::EscalatedL3,
            L2 => AssignReason::EscalatedL2,
            _ if t.due().is_some_and(|due| due <= now) => AssignReason::Breached,
            _ => AssignReason::Due,
        };
        t.state = TicketState::Assigned;
        t.holder = Some(ai);
        t.epoch += 1;
        let holder = Some(NAMES[ai].to_string());
        Outcome::Pulled(Some((i as u64 + 1, t.epoch, holder, reason)))
    }

    fn agent_reply(&mut self, id: u64, lease: (u8, u64), now: i64) -> Result<usize, Refusal> {
        let i = self.found(id)?;
        if self.tickets[i].state == TicketState::Resolved {
            // An agent's message after resolution is the check-back (the follow-up), from the
            // lease the ticket was resolved under.
            self.agent(lease.0)?;
            if lease.1.checked_add(1) != Some(self.tickets[i].epoch) {
                return Err(Refusal::StaleLease(
                    id,
                    NAMES[lease.0 as usize].into(),
                    lease.1,
                ));
            }
            let follow_up = &self.tickets[i].clocks[Metric::FollowUp as usize];
            if follow_up.as_ref().is_none_or(|c| c.met) {
                return Err(Refusal::NoFollowUp(id));
            }
            if let Some(c) = self.tickets[i].clock(Metric::FollowUp) {
                c.meet(now);
            }
            return Ok(i);
        }
        let i = self.check_lease(id, lease)?;
        for m in [Metric::FirstResponse, Metric::NextReply] {
            if let Some(c) = self.tickets[i].clock(m) {
                c.meet(now);
            }
        }
        Ok(i)
    }

    fn customer_reply(&mut self, id: u64, now: i64) -> Result<usize, Refusal> {
        let i = self.found(id)?;
        if !self.tickets[i].is_open() {
            return Err(self.wrong_state(i));
        }
        let t = &mut self.tickets[i];
        let waiting = t.clocks[Metric::NextReply as usize]
            .as_ref()
            .is_some_and(|c| !c.met);
        let answered = t.clocks[Metric::FirstResponse as usize]
            .as_ref()
            .is_some_and(|c| c.met);
        if t.state == TicketState::Pending {
            t.state = TicketState::Assigned;
            if let Some(c) = t.clock(Metric::Resolution) {
                c.resume(now);
            }
        }
        if answered && !waiting {
            t.clocks[Metric::NextReply as usize] = Some(t.new_clock(Metric::NextReply, now));
        }
        Ok(i)
    }

    fn set_pending(&mut self, id: u64, lease: (u8, u64), now: i64) -> Result<usize, Refusal> {
        let i = self.check_lease(id, lease)?;
        if self.tickets[i].state != TicketState::Assigned {
            return Err(self.wrong_state(i));
        }
        let unanswered = &self.tickets[i].clocks[Metric::FirstResponse as usize];
        if unanswered.as_ref().is_some_and(|c| !c.met) {
            return Err(self.wrong_state(i));
        }
        let t = &mut self.tickets[i];
        t.state = TicketState::Pending;
        if let Some(c) = t.clock(Metric::Resolution) {
            c.pause(now);
        }
        Ok(i)
    }

    fn resolve(&mut self, id: u64, lease: Option<(u8, u64)>, now: i64) -> Result<usize, Refusal> {
        let i = match lease {
            Some(lease) => self.check_lease(id, lease)?,
            None => self.found(id)?,
        };
        if !self.tickets[i].is_open() {
            return Err(self.wrong_state(i));
        }
        let t = &mut self.tickets[i];
        t.unassign();
        t.state = TicketState::Resolved;
        if let Some(c) = t.clock(Metric::Resolution) {
            c.meet(now);
        }
        t.clocks[Metric::FollowUp as usize] = Some(t.new_clock(Metric::FollowUp, now));
        Ok(i)
    }

    fn release(&mut self, id: u64, lease: (u8, u64), now: i64) -> Result<usize, Refusal> {
        let i = self.check_lease(id, lease)?;
        if !matches!(
            self.tickets[i].state,
            TicketState::Assigned | TicketState::Pending
        ) {
            return Err(self.wrong_state(i));
        }
        self.tickets[i].requeue(now);
        Ok(i)
    }

    /// Back to the queue with a fresh resolution clock; the first response stays as it was.
    fn reopen(&mut self, id: u64, now: i64) -> Result<usize, Refusal> {
        let i = self.found(id)?;
        if self.tickets[i].state != TicketState::Resolved {
            return Err(self.wrong_state(i));
        }
        let t = &mut self.tickets[i];
        t.clocks[Metric::Resolution as usize] = Some(t.new_clock(Metric::Resolution, now));
        t.clocks[Metric::NextReply as usize] = None;
        t.clocks[Metric::FollowUp as usize] = None;
        t.state = TicketState::Queued;
        Ok(i)
    }

    fn cancel(&mut self, id: u64) -> Result<usize, Refusal> {
        let i = self.found(id)?;
        if !self.tickets[i].is_open() {
            return Err(self.wrong_state(i));
        }
        let t = &mut self.tickets[i];
        t.unassign();
        t.state = TicketState::Cancelled;
        Ok(i)
    }

    fn set_presence(&mut self, agent: u8, presence: Presence, now: i64) -> Outcome {
        let a = match self.agent(agent) {
            Ok(a) => a,
            Err(r) => return refused(r),
        };
        a.presence = presence;
        a.last_seen = now;
        if presence == Presence::Offline {
            self.hand_back(agent as usize, now);
        }
        Outcome::Agent(presence)
    }

    fn heartbeat(&mut self, agent: u8, now: i64) -> Outcome {
        match self.agent(agent) {
            Ok(a) => {
                a.last_seen = now;
                Outcome::Heartbeat(a.presence, now + TTL)
            }
            Err(r) => refused(r),
        }
    }

    fn upsert(&mut self, agent: u8, variant: bool) -> Outcome {
        match self.agent(agent) {
            Ok(a) => {
                a.set_profile(profile(agent as usize, variant));
                Outcome::Agent(a.presence)
            }
            Err(r) => refused(r),
        }
    }

    /// An agent going offline gives back the tickets it has not answered yet.
    fn hand_back(&mut self, agent: usize, now: i64) {
        for t in &mut self.tickets {
            let answered = t.clocks[Metric::FirstResponse as usize]
                .as_ref()
                .is_some_and(|c| c.met);
            if t.holder == Some(agent) && !answered {
                t.requeue(now);
            }
        }
    }

    /// Everything due by `now`: presence expiries, then every escalation step of every live,
    /// counting clock; L2 of a clock that waits for the agent takes an ASSIGNED ticket back.
    fn tick(&mut self, now: i64) {
        for i in 0..self.agents.len() {
            let a = &mut self.agents[i];
            if a.presence != Presence::Offline && a.last_seen + TTL <= now {
                a.presence = Presence::Offline;
                self.hand_back(i, now);
            }
        }
        for t in &mut self.tickets {
            for m in Metric::ALL {
                if !t.live(m) {
                    continue;
                }
                let Some(c) = t.clock(m) else { continue };
                let mut reached_l2 = false;
                while c.counting() && c.level < L3 && c.deadline(c.level + 1) <= now {
                    c.level += 1;
                    reached_l2 |= c.level == L2;
                }
                if reached_l2 && m.awaits_agent() && t.state == TicketState::Assigned {
                    t.requeue(now);
                }
            }
        }
    }

    /// Heartbeats are not persisted, so a restored agent gets a fresh TTL from `now`.
    fn restart(&mut self, now: i64) {
        for a in &mut self.agents {
            a.last_seen = a.last_seen.max(now);
        }
    }

    fn agent_view(&self, i: usize) -> AgentView {
        let a = &self.agents[i];
        AgentView {
            presence: a.presence,
            last_seen: a.last_seen,
            skills: a.skills.iter().map(|s| s.to_string()).collect(),
            tiers: a.tiers.to_vec(),
            capacity: a.capacity,
            load: std::array::from_fn(|c| self.load(i, Channel::ALL[c])),
        }
    }
}

// ---- the harness: one core, one model, one "disk" ---------------------------------------

type Disk = BTreeMap<Vec<u8>, Vec<u8>>;

/// The records on `disk`, read back as `SledStore::load_all` reads them from sled.
fn load_all(disk: &Disk) -> Recovered {
    fn scan<T: DeserializeOwned>(disk: &Disk, kind: u8) -> Vec<(Vec<u8>, T)> {
        disk.range(vec![kind]..vec![kind + 1])
            .map(|(k, v)| (k.clone(), codec::decode(k, v).expect("record decodes")))
            .collect()
    }
    Recovered {
        policy: disk
            .get(&[codec::POLICY][..])
            .map(|v| codec::decode(&[codec::POLICY], v).expect("policy decodes")),
        tickets: scan(disk, codec::TICKET)
            .into_iter()
            .map(|(_, t)| t)
            .collect(),
        agents: scan(disk, codec::AGENT)
            .into_iter()
            .map(|(_, a)| a)
            .collect(),
        idempotency: disk
            .range(vec![codec::IDEMPOTENCY]..vec![codec::IDEMPOTENCY + 1])
            .map(|(k, v)| {
                let e = codec::decode_idempotency(k, v).expect("record decodes");
                (String::from_utf8_lossy(&k[1..]).into_owned(), e)
            })
            .collect(),
    }
}

/// An agent as far as it must survive a restart (its last-seen instant is refreshed).
#[derive(Debug, PartialEq)]
struct AgentRecord {
    id: String,
    skills: SkillSet,
    tiers: Vec<Tier>,
    capacity: [u32; 6],
    presence: Presence,
    load: [u32; 6],
    holding: Vec<TicketId>,
}

/// What must survive a restart unchanged: every ticket record, each agent's profile, presence
/// and holdings, where each ticket is queued (by routing key), every ticket timer, and the
/// external and request ids.
struct Durable {
    tickets: Vec<Ticket>,
    agents: Vec<AgentRecord>,
    queued: Vec<(TicketId, Option<RoutingKey>)>,
    ticket_timers: BTreeMap<TicketId, Ts>,
    external: BTreeMap<String, TicketId>,
    idempotency: BTreeMap<String, Idempotency>,
}

fn durable(s: &Scheduler) -> Durable {
    let tickets: Vec<Ticket> = s.tickets.iter().cloned().collect();
    let mut agents: Vec<_> = s
        .agents
        .values()
        .map(|a| AgentRecord {
            id: a.id.to_string(),
            skills: a.skills.clone(),
            tiers: a.tiers.clone(),
            capacity: a.capacity,
            presence: a.presence,
            load: a.load,
            holding: a.held_tickets(),
        })
        .collect();
    agents.sort_by(|a, b| a.id.cmp(&b.id));
    let queued = tickets
        .iter()
        .map(|t| {
            let key = s.queues.slot(t.id).map(|slot| match slot {
                Slot::Key(k) => s.queues.key(*k).clone(),
                Slot::Held(a) => panic!("no preferred agents here, yet held for {a}"),
            });
            (t.id, key)
        })
        .collect();
    Durable {
        tickets,
        agents,
        queued,
        ticket_timers: s.ticket_timers.iter().map(|(id, at)| (*id, at.0)).collect(),
        external: s
            .external
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
        idempotency: s
            .requests()
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    }
}

struct Harness {
    core: Scheduler,
    model: Model,
    now: Ts,
    disk: Disk,
    /// The ticket the last successful pull handed out, 0 before any.
    last_pulled: u64,
    /// Each step and what the core answered, for the failure message.
    trace: Vec<String>,
}

impl Harness {
    fn new() -> Harness {
        Harness {
            core: Scheduler::new(SlaPolicy::default(), CoreConfig::default()),
            model: Model::default(),
            now: T0,
            disk: Disk::new(),
            last_pulled: 0,
            trace: Vec::new(),
        }
    }

    fn fail(&self, what: String) -> TestCaseError {
        let mut msg = String::from("core and model disagree; steps so far:\n");
        for line in &self.trace {
            msg.push_str(line);
            msg.push('\n');
        }
        msg.push_str(&what);
        TestCaseError::fail(msg)
    }

    fn agree<T: PartialEq + std::fmt::Debug>(
        &self,
        what: &str,
        core: T,
        model: T,
    ) -> Result<(), TestCaseError> {
        if core == model {
            return Ok(());
        }
        Err(self.fail(format!("{what}:\n  core:  {core:?}\n  model: {model:?}")))
    }

    /// Compares the durable parts before and after a restart, one item at a time.
    fn same_after_restart(&self, before: Durable, after: Durable) -> Result<(), TestCaseError> {
        fn same<T: PartialEq + std::fmt::Debug>(
            h: &Harness,
            what: String,
            before: T,
            after: T,
        ) -> Result<(), TestCaseError> {
            if before == after {
                return Ok(());
            }
            let diff = format!(
                "{what} changed across a restart:\n  before: {before:?}\n  after:  {after:?}"
            );
            Err(h.fail(diff))
        }
        same(
            self,
            "ticket count".into(),
            before.tickets.len(),
            after.tickets.len(),
        )?;
        for (b, a) in before.tickets.iter().zip(&after.tickets) {
            same(self, format!("ticket {}", b.id), b, a)?;
        }
        same(
            self,
            "agent count".into(),
            before.agents.len(),
            after.agents.len(),
        )?;
        for (b, a) in before.agents.iter().zip(&after.agents) {
            same(self, format!("agent {}", b.id), b, a)?;
        }
        for (b, a) in before.queued.iter().zip(&after.queued) {
            same(self, format!("queue of ticket {}", b.0), b, a)?;
        }
        same(
            self,
            "ticket timers".into(),
            before.ticket_timers,
            after.ticket_timers,
        )?;
        same(self, "external ids".into(), before.external, after.external)?;
        same(
            self,
            "request ids".into(),
            before.idempotency,
            after.idempotency,
        )
    }

    /// What the owner task does after every batch: the journal's records go to disk.
    fn persist(&mut self) {
        let journal = self.core.take_journal();
        let batch = Batch::from_journal(&journal, &self.core);
        for k in batch.removals {
            self.disk.remove(&k);
        }
        for (k, v) in batch.records {
            self.disk.insert(k, v);
        }
    }

    /// Applies `cmd` to the core (as its own batch) and compares with the model's outcome.
    fn command(&mut self, cmd: Command, expected: Outcome) -> Result<Outcome, TestCaseError> {
        self.persist();
        let got = outcome(self.core.apply(cmd.clone(), self.now));
        if matches!(got, Outcome::Refused(_)) && !self.core.journal.is_empty() {
            return Err(self.fail(format!("{cmd:?} was refused but journaled something")));
        }
        self.agree(&format!("result of {cmd:?}"), got.clone(), expected)?;
        Ok(got)
    }

    fn ticket_command(
        &mut self,
        cmd: Command,
        expected: Result<usize, Refusal>,
    ) -> Result<Outcome, TestCaseError> {
        let expected = match expected {
            Ok(i) => Outcome::Ticket(i as u64 + 1),
            Err(r) => Outcome::Refused(r),
        };
        self.command(cmd, expected)
    }

    fn tick(&mut self) {
        self.core.tick(self.now);
        self.model.tick(self.now.0);
    }

    fn id(&self, ticket: Tk) -> u64 {
        match ticket {
            Tk::Id(id) => id,
            Tk::Recent => {
                let held = |id: &u64| self.model.ticket(*id).is_some_and(|t| t.holder.is_some());
                let first_held = (1..=self.model.tickets.len() as u64).find(held);
                Some(self.last_pulled)
                    .filter(held)
                    .or(first_held)
                    .unwrap_or(self.model.tickets.len() as u64)
            }
        }
    }

    fn lease(&self, ticket: u64, arg: LeaseArg) -> ((u8, u64), Lease) {
        let (agent, epoch) = self.model.lease(ticket, arg);
        let lease = Lease {
            agent: agent_id(NAMES[agent as usize]),
            epoch: Epoch::new(epoch),
        };
        ((agent, epoch), lease)
    }

    fn setup(&mut self) -> Result<(), TestCaseError> {
        for i in 0..GHOST {
            self.model.agents.push(MAgent {
                skills: &[],
                tiers: &[],
                capacity: [0; 6],
                presence: Presence::Offline,
                last_seen: self.now.0,
            });
            self.op(&Op::Upsert {
                agent: i,
                variant: false,
            })?;
            self.op(&Op::SetPresence {
                agent: i,
                presence: Presence::Available,
            })?;
        }
        self.persist();
        self.check()
    }

    fn op(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let now = self.now.0;
        let got = match *op {
            Op::Create {
                ext,
                request,
                tier,
                channel,
                priority,
                upset,
                skills: need,
            } => {
                let fp = (ext, tier, channel, priority, upset, need);
                let expected = self.model.create(fp, request, now);
                let new = NewTicket {
                    request_id: request.map_or(String::new(), |r| format!("req-{r}")),
                    external_id: format!("ext-{ext}"),
                    customer_id: "cust".into(),
                    tier,
                    channel,
                    priority,
                    skills: skills(need),
                    sentiment: if upset {
                        Sentiment::Negative
                    } else {
                        Sentiment::Neutral
                    },
                    preferred_agent: None,
                };
                Some(self.command(Command::CreateTicket(new), expected)?)
            }
            Op::Pull { agent } => {
                let expected = self.model.pull(agent, now);
                let cmd = Command::Pull(agent_id(NAMES[agent as usize]));
                Some(self.command(cmd, expected)?)
            }
            Op::AgentReply { ticket, lease } => {
                let ticket = self.id(ticket);
                let (arg, lease) = self.lease(ticket, lease);
                let expected = self.model.agent_reply(ticket, arg, now);
                let cmd = Command::RecordReply {
                    ticket: TicketId(ticket),
                    author: Author::Agent(lease),
                    next_update_by: None,
                };
                Some(self.ticket_command(cmd, expected)?)
            }
            Op::CustomerReply { ticket } => {
                let ticket = self.id(ticket);
                let expected = self.model.customer_reply(ticket, now);
                let cmd = Command::RecordReply {
                    ticket: TicketId(ticket),
                    author: Author::Customer,
                    next_update_by: None,
                };
                Some(self.ticket_command(cmd, expected)?)
            }
            Op::SetPending { ticket, lease } => {
                let ticket = self.id(ticket);
                let (arg, lease) = self.lease(ticket, lease);
                let expected = self.model.set_pending(ticket, arg, now);
                let cmd = Command::SetPending {
                    ticket: TicketId(ticket),
                    lease,
                };
                Some(self.ticket_command(cmd, expected)?)
            }
            Op::Resolve { ticket, lease } => {
                let ticket = self.id(ticket);
                let lease = lease.map(|l| self.lease(ticket, l));
                let expected = self.model.resolve(ticket, lease.as_ref().map(|l| l.0), now);
                let cmd = Command::Resolve {
                    ticket: TicketId(ticket),
                    lease: lease.map(|l| l.1),
                };
                Some(self.ticket_command(cmd, expected)?)
            }
            Op::Release { ticket, lease } => {
                let ticket = self.id(ticket);
                let (arg, lease) = self.lease(ticket, lease);
                let expected = self.model.release(ticket, arg, now);
                let cmd = Command::Release {
                    ticket: TicketId(ticket),
                    lease,
                };
                Some(self.ticket_command(cmd, expected)?)
            }
            Op::Reopen { ticket } => {
                let ticket = self.id(ticket);
                let expected = self.model.reopen(ticket, now);
                let cmd = Command::Reopen {
                    ticket: TicketId(ticket),
                };
                Some(self.ticket_command(cmd, expected)?)
            }
            Op::Cancel { ticket } => {
                let ticket = self.id(ticket);
                let expected = self.model.cancel(ticket);
                let cmd = Command::Cancel {
                    ticket: TicketId(ticket),
                    reason: CancelReason::Abandoned,
                };
                Some(self.ticket_command(cmd, expected)?)
            }
            Op::SetPresence { agent, presence } => {
                let expected = self.model.set_presence(agent, presence, now);
                let cmd = Command::SetPresence {
                    agent: agent_id(NAMES[agent as usize]),
                    presence,
                };
                Some(self.command(cmd, expected)?)
            }
            Op::Heartbeat { agent } => {
                let expected = self.model.heartbeat(agent, now);
                let cmd = Command::Heartbeat(agent_id(NAMES[agent as usize]));
                Some(self.command(cmd, expected)?)
            }
            Op::EveryoneBack => {
                for agent in 0..GHOST {
                    self.op(&Op::SetPresence {
                        agent,
                        presence: Presence::Available,
                    })?;
                }
                None
            }
            Op::Upsert { agent, variant } => {
                let expected = self.model.upsert(agent, variant);
                let p = profile(agent as usize, variant);
                let cmd = Command::UpsertAgent(AgentProfile {
                    id: agent_id(NAMES[agent as usize]),
                    display_name: NAMES[agent as usize].into(),
                    skills: skills(p.skills),
                    tiers: p.tiers.to_vec(),
                    capacity: p.capacity,
                });
                Some(self.command(cmd, expected)?)
            }
            Op::Wait { ms } => {
                self.now = self.now.plus(Span(ms));
                self.tick();
                None
            }
            Op::Live { ms } => {
                let end = self.now.plus(Span(ms));
                while self.now < end {
                    self.now = self.now.plus(Span(end.since(self.now).0.min(20_000)));
                    self.tick();
                    for agent in 0..GHOST {
                        let expected = self.model.heartbeat(agent, self.now.0);
                        let cmd = Command::Heartbeat(agent_id(NAMES[agent as usize]));
                        self.command(cmd, expected)?;
                    }
                }
                None
            }
            Op::ToNextDeadline => {
                if let Some(at) = self.core.next_deadline() {
                    self.now = self.now.max(at);
                }
                self.tick();
                None
            }
            Op::ToNextTicketStep => {
                if let Some((_, at)) = self.core.ticket_timers.peek() {
                    self.now = self.now.max(at.0);
                }
                self.tick();
                None
            }
            Op::Restart { down_ms } => {
                self.restart(down_ms)?;
                None
            }
        };
        let shown = match got {
            Some(got) => format!("{got:?}"),
            None => format!("now = T0 + {} ms", self.now.0 - T0.0),
        };
        self.trace
            .push(format!("#{} {op:?} -> {shown}", self.trace.len()));
        Ok(())
    }

    /// Persists, restores from the disk at now + `down_ms` the way the daemon boots, checks that
    /// nothing durable changed, and goes on with the restored scheduler after a tick.
    fn restart(&mut self, down_ms: u64) -> Result<(), TestCaseError> {
        self.persist();
        let at = self.now.plus(Span(down_ms));
        let restored = Scheduler::restore(
            SlaPolicy::default(),
            CoreConfig::default(),
            load_all(&self.disk),
            at,
        )
        .map_err(|e| self.fail(format!("restore failed: {e}")))?;
        self.same_after_restart(durable(&self.core), durable(&restored))?;
        self.core = restored;
        self.now = at;
        self.model.restart(at.0);
        self.tick();
        Ok(())
    }

    /// Core and model agree on every ticket and agent; the core's bookkeeping is consistent.
    fn check(&self) -> Result<(), TestCaseError> {
        self.agree(
            "ticket count",
            self.core.ticket_count(),
            self.model.tickets.len(),
        )?;
        for (i, m) in self.model.tickets.iter().enumerate() {
            let id = TicketId(i as u64 + 1);
            let t = self.core.ticket(id).expect("counted");
            self.agree(&format!("ticket {id}"), core_ticket(t), m.view())?;
        }
        self.agree("agent count", self.core.agents.len(), GHOST as usize)?;
        for (i, name) in NAMES.iter().enumerate().take(GHOST as usize) {
            let a = self.core.agent(&agent_id(name)).expect("agent exists");
            let core = AgentView {
                presence: a.presence,
                last_seen: a.last_seen.0,
                skills: a.skills.iter().map(|s| s.0.to_string()).collect(),
                tiers: a.tiers.clone(),
                capacity: a.capacity,
                load: a.load,
            };
            self.agree(&format!("agent {name}"), core, self.model.agent_view(i))?;
        }
        self.check_bookkeeping()
    }

    /// No ticket in two agents' holdings; holdings and loads match the assignees; exactly the
    /// QUEUED tickets are in a queue.
    fn check_bookkeeping(&self) -> Result<(), TestCaseError> {
        let mut held_by: BTreeMap<TicketId, AgentId> = BTreeMap::new();
        for a in self.core.agents.values() {
            let mut load = [0u32; 6];
            for id in a.held_tickets() {
                if let Some(other) = held_by.insert(id, a.id.clone()) {
                    return Err(self.fail(format!("ticket {id} held by {other} and {}", a.id)));
                }
                let t = self.core.ticket(id).expect("held ticket exists");
                load[t.channel.index()] += 1;
                self.agree(
                    &format!("assignee of ticket {id} held by {}", a.id),
                    t.holder(),
                    Some(&a.id),
                )?;
            }
            self.agree(&format!("load of {}", a.id), a.load, load)?;
        }
        for t in self.core.tickets.iter() {
            self.agree(
                &format!("holding of ticket {}", t.id),
                held_by.get(&t.id),
                t.holder(),
            )?;
            self.agree(
                &format!("ticket {} in a queue", t.id),
                self.core.queues.slot(t.id).is_some(),
                t.state == TicketState::Queued,
            )?;
        }
        self.agree(
            "queued count",
            self.core.queued_count(),
            self.model
                .tickets
                .iter()
                .filter(|t| t.state == TicketState::Queued)
                .count(),
        )
    }
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut h = Harness::new();
    h.setup()?;
    h.trace.clear();
    for op in ops {
        h.op(op)?;
        h.persist();
        h.check()?;
    }
    Ok(())
}

/// 1024 cases (about 3 s in a debug build) unless `PROPTEST_CASES` says otherwise, for a
/// longer hunt. At 256, the rarer mutations of the core tried when this test was written
/// (L2 not relaxing the skills, a stale route cache after an upsert) slipped through one run
/// in two to five.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1024);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn core_agrees_with_the_reference_model(ops in prop::collection::vec(op(), 1..=60)) {
        run(&ops)?;
    }
}
