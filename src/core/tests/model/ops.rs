//! The commands of a run and the strategies that generate them.

use super::*;

/// Which ticket a call is about.
#[derive(Clone, Copy, Debug)]
pub(super) enum Tk {
    /// What a front end works on: the ticket the last successful pull handed out if it is
    /// still held, else the held ticket with the lowest id, else the last one created.
    Recent,
    Id(u64),
}

/// Which lease an agent call carries, resolved against the model when the step runs.
#[derive(Clone, Copy, Debug)]
pub(super) enum LeaseArg {
    /// The ticket's holder (a0 when none) at the current epoch.
    Holder,
    /// The ticket's holder (a0 when none) at the epoch before the current one.
    Stale,
    /// This agent at the current epoch.
    Agent(u8),
}

/// A create's `created_at`, relative to the step's `now`.
#[derive(Clone, Copy, Debug)]
pub(super) enum Age {
    /// None: the ticket begins now.
    New,
    /// This many ms before now, at most `max_backdate`: an import that keeps its age.
    Ago(u64),
    /// This many ms after now, at most the clock skew: counts as now.
    Ahead(u64),
    /// This many ms more than the clock skew ahead: refused.
    Future(u64),
    /// This many ms more than `max_backdate` back: refused.
    TooOld(u64),
}

impl Age {
    /// The `created_at` a create at `now` carries.
    pub(super) fn at(self, now: i64) -> Option<i64> {
        let skew = CLOCK_SKEW.0 as i64;
        let max = CoreConfig::default().max_backdate.0 as i64;
        match self {
            Age::New => None,
            Age::Ago(ms) => Some(now - ms as i64),
            Age::Ahead(ms) => Some(now + ms as i64),
            Age::Future(ms) => Some(now + skew + ms as i64),
            Age::TooOld(ms) => Some(now - max - ms as i64),
        }
    }
}

/// Mostly none; else an age from milliseconds to exactly `max_backdate` (past every step of
/// every ladder, or only some), sometimes a little ahead or out of bounds.
pub(super) fn age() -> impl Strategy<Value = Age> {
    let max = CoreConfig::default().max_backdate.0;
    let skew = CLOCK_SKEW.0;
    prop_oneof![
        30 => Just(Age::New),
        4 => span_ms().prop_map(Age::Ago),
        2 => (1..=30u64).prop_map(|d| Age::Ago(d * 86_400_000)),
        1 => Just(Age::Ago(max)),
        1 => (0..=skew).prop_map(Age::Ahead),
        1 => prop_oneof![Just(1u64), 2..=3_600_000u64].prop_map(Age::Future),
        1 => prop_oneof![Just(1u64), 2..=86_400_000u64].prop_map(Age::TooOld),
    ]
}

/// One step. `agent` is an index into `NAMES` (4: the id the core never heard of); a ticket
/// id may be one that does not exist yet.
#[derive(Clone, Debug)]
pub(super) enum Op {
    Create {
        ext: u8,
        request: Option<u8>,
        tier: Tier,
        channel: Channel,
        priority: Priority,
        upset: bool,
        skills: &'static [&'static str],
        age: Age,
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
    /// Erase a customer's tickets, in steps through the archive as the owner does.
    Erase {
        customer: u8,
    },
    /// A supervisor hands the ticket to `agent` (`AssignTicket`, or with `transfer`
    /// `TransferTicket` to that agent).
    Assign {
        ticket: Tk,
        agent: u8,
        force: bool,
        transfer: bool,
    },
    /// A supervisor sends the ticket back to the queue needing `skills`.
    TransferToQueue {
        ticket: Tk,
        skills: &'static [&'static str],
    },
    /// The agent accepts an offer (`reject`: rejects it).
    Answer {
        ticket: Tk,
        lease: LeaseArg,
        reject: bool,
    },
}

/// A ticket: often the recent one, else an id, mostly one of the first few
/// (there are few tickets per run).
pub(super) fn ticket_ref() -> impl Strategy<Value = Tk> {
    prop_oneof![
        6 => Just(Tk::Recent),
        4 => (1..=3u64).prop_map(Tk::Id),
        3 => (1..=6u64).prop_map(Tk::Id),
        1 => (1..=10u64).prop_map(Tk::Id),
    ]
}

pub(super) fn agent_ref() -> impl Strategy<Value = u8> {
    prop_oneof![9 => 0..GHOST, 1 => Just(GHOST)]
}

pub(super) fn lease_arg() -> impl Strategy<Value = LeaseArg> {
    prop_oneof![
        8 => Just(LeaseArg::Holder),
        1 => Just(LeaseArg::Stale),
        2 => (0..=GHOST).prop_map(LeaseArg::Agent),
    ]
}

pub(super) fn presence() -> impl Strategy<Value = Presence> {
    prop_oneof![
        4 => Just(Presence::Available),
        1 => Just(Presence::Away),
        1 => Just(Presence::Offline),
    ]
}

pub(super) fn span_ms() -> impl Strategy<Value = u64> {
    prop_oneof![
        5 => 1..20_000u64,
        3 => (20..=120u64).prop_map(|s| s * 1000),
        2 => (2..=60u64).prop_map(|m| m * 60_000),
        1 => (1..=12u64).prop_map(|h| h * 3_600_000),
    ]
}

pub(super) fn create() -> impl Strategy<Value = Op> {
    (
        (0..24u8, age()),
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
            |((ext, age), request, tier, channel, priority, upset, skills)| Op::Create {
                ext,
                request,
                tier,
                channel,
                priority,
                upset,
                skills,
                age,
            },
        )
}

pub(super) fn op() -> impl Strategy<Value = Op> {
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
        1 => (0..3u8).prop_map(|customer| Op::Erase { customer }),
        4 => (ticket_ref(), agent_ref(), prop::bool::weighted(0.3), any::<bool>()).prop_map(
            |(ticket, agent, force, transfer)| Op::Assign { ticket, agent, force, transfer }
        ),
        2 => (ticket_ref(), select(SKILL_SETS.to_vec()))
            .prop_map(|(ticket, skills)| Op::TransferToQueue { ticket, skills }),
        6 => (ticket_ref(), lease_arg(), any::<bool>())
            .prop_map(|(ticket, lease, reject)| Op::Answer { ticket, lease, reject }),
    ]
}

/// Offers in one case in three: on email, or on chat and phone too, open for a second to a
/// few minutes; AWAY after 1 or 3 misses in a row (or never); no re-offer for nothing to
/// ten minutes.
pub(super) fn offer_policy() -> impl Strategy<Value = crate::core::offer::OfferPolicy> {
    let channels: &'static [&'static [Channel]] = &[
        &[Channel::Email],
        &[Channel::Chat, Channel::Email, Channel::Phone],
    ];
    let on = (
        select(channels),
        select(&[1_000u64, 20_000, 90_000, 300_000][..]),
        select(&[0u32, 1, 3][..]),
        select(&[0u64, 30_000, 600_000][..]),
    )
        .prop_map(|(channels, timeout, max_missed_offers, reoffer)| {
            crate::core::offer::OfferPolicy {
                offer_timeout: channels.iter().map(|&c| (c, Span(timeout))).collect(),
                max_missed_offers,
                reoffer_after: Span(reoffer),
            }
        });
    prop_oneof![2 => Just(crate::core::offer::OfferPolicy::default()), 1 => on]
}
