//! One test per scheduling rule, each driving the core with a simulated clock.

use super::command::*;
use super::event::{Event, RequeueReason};
use super::model::{Agent, Ticket};
use super::policy::SlaPolicy;
use super::scheduler::{CoreConfig, Recovered, RecoverySink, RestoreError, Scheduler};
use super::types::*;
use super::CoreError;
use std::collections::HashMap;

mod archive;
mod audit;
mod balance;
mod board;
mod depth;
mod desk;
mod explain;
mod fifo_bound;
mod idempotency;
mod import;
mod model;
mod offers;
mod order;
mod policy_patch;
mod proficiency;
mod queue_groups;
mod replica;
mod rings;
mod staging;
mod stats;
mod stats_oracle;
mod waiting;
mod webhooks;
mod wrap_up;

const T0: Ts = Ts(1_800_000_000_000);

struct Sim {
    s: Scheduler,
    now: Ts,
    next_ext: u32,
}

fn skills(list: &[&str]) -> SkillSet {
    SkillSet::new(list.iter().map(|s| Skill::new(s)).collect())
}

/// A scheduler restored from `records` at `now`, with the default policy and configuration.
fn restart_from(records: Recovered, now: Ts) -> Scheduler {
    Scheduler::restore(SlaPolicy::default(), CoreConfig::default(), records, now).expect("restore")
}

/// The default policy with the `deadline` queue order.
fn deadline_order() -> SlaPolicy {
    SlaPolicy {
        order: super::policy::QueueOrder::Deadline,
        ..SlaPolicy::default()
    }
}

fn agent_id(id: &str) -> AgentId {
    AgentId::new(id)
}

impl Sim {
    fn new() -> Sim {
        Sim::with_policy(SlaPolicy::default())
    }

    fn with_policy(policy: SlaPolicy) -> Sim {
        Sim {
            s: Scheduler::new(policy, CoreConfig::default()),
            now: T0,
            next_ext: 0,
        }
    }

    fn apply(&mut self, cmd: Command) -> Result<Reply, CoreError> {
        self.s.apply(cmd, self.now)
    }

    /// Moves the clock forward like `advance`, while every agent's front end keeps heartbeating
    /// every 10 s (for tests where presence expiry is not the point).
    fn live(&mut self, span: Span) {
        let end = self.now.plus(span);
        while self.now < end {
            let step = Span(end.since(self.now).0.min(10_000));
            self.advance(step);
            let mut ids: Vec<AgentId> = self.s.agents.ids();
            ids.sort();
            for id in ids {
                self.apply(Command::Heartbeat(id)).expect("heartbeat");
            }
        }
    }

    /// Moves the simulated clock forward and fires what fell due.
    fn advance(&mut self, span: Span) {
        self.now = self.now.plus(span);
        self.s.tick(self.now);
    }

    fn new_ticket(&mut self, tier: Tier, channel: Channel, need: &[&str]) -> NewTicket {
        self.next_ext += 1;
        let listed = need.iter().map(|s| s.to_string()).collect();
        let (skills, first_skill) = SkillSet::parse_listed("skills", listed).expect("skills");
        NewTicket {
            needs: None,
            first_skill,
            request_id: String::new(),
            external_id: format!("ext-{}", self.next_ext),
            customer_id: "cust".into(),
            tier,
            channel,
            priority: Priority::Normal,
            skills,
            sentiment: Sentiment::Neutral,
            preferred_agent: None,
            created_at: None,
        }
    }

    fn create_with(&mut self, new: NewTicket) -> TicketId {
        match self.apply(Command::CreateTicket(new)) {
            Ok(Reply::Ticket(t)) => t.id,
            other => panic!("create failed: {other:?}"),
        }
    }

    fn create(&mut self, tier: Tier, channel: Channel, need: &[&str]) -> TicketId {
        let new = self.new_ticket(tier, channel, need);
        self.create_with(new)
    }

    fn agent_with(&mut self, id: &str, has: &[&str], tiers: &[Tier], capacity: PerChannelOpt) {
        let profile = AgentProfile {
            levels: Default::default(),
            id: agent_id(id),
            display_name: id.into(),
            skills: skills(has),
            tiers: tiers.to_vec(),
            capacity,
        };
        self.sign_in(profile);
    }

    /// Registers `profile` and makes the agent AVAILABLE.
    fn sign_in(&mut self, profile: AgentProfile) {
        let agent = profile.id.clone();
        self.apply(Command::UpsertAgent(profile)).expect("upsert");
        self.apply(Command::SetPresence {
            agent,
            presence: Presence::Available,
            reason: None,
        })
        .expect("presence");
    }

    fn agent(&mut self, id: &str, has: &[&str]) {
        self.agent_with(id, has, &[], [None; Channel::COUNT]);
    }

    fn pull(&mut self, agent: &str) -> Option<Assignment> {
        match self.apply(Command::Pull(agent_id(agent))) {
            Ok(Reply::Pulled(a)) => a.map(|a| *a),
            other => panic!("pull failed: {other:?}"),
        }
    }

    fn pulled_id(&mut self, agent: &str) -> Option<TicketId> {
        self.pull(agent).map(|a| a.ticket.id)
    }

    fn ticket(&self, id: TicketId) -> &Ticket {
        self.s.ticket(id).expect("ticket exists")
    }

    fn lease(&self, id: TicketId) -> Lease {
        let t = self.ticket(id);
        Lease {
            agent: t.holder().cloned().expect("assigned"),
            epoch: t.epoch(),
        }
    }

    fn reply(&mut self, id: TicketId) -> Result<Reply, CoreError> {
        let lease = self.lease(id);
        self.apply(Command::RecordReply {
            ticket: id,
            author: Author::Agent(lease),
            next_update_by: None,
        })
    }

    fn events(&mut self) -> Vec<Event> {
        self.s.take_journal().events
    }

    fn escalations(&mut self) -> Vec<(TicketId, SlaMetric, Level)> {
        escalations(self.events())
    }

    /// The persisted records, as the store would hand them back at boot.
    fn records(&self) -> Recovered {
        let tickets = (1..=self.s.ticket_count() as u64)
            .map(|i| self.ticket(TicketId(i)).clone())
            .collect();
        let agents: Vec<Agent> = match self.s.apply_read(Command::ListAgents(AgentFilter {
            limit: 10_000,
            ..Default::default()
        })) {
            Reply::Agents { agents, .. } => agents,
            other => panic!("{other:?}"),
        };
        Recovered {
            policy: Some(self.s.policy().clone()),
            webhooks: self.s.webhooks().cloned().collect(),
            last_ticket: self.s.ticket_count() as u64,
            tickets,
            agents,
            idempotency: self
                .s
                .requests()
                .iter()
                .map(|(id, entry)| (id.to_string(), entry.clone()))
                .collect(),
        }
    }
}

/// The escalation steps among `events`, as (ticket, clock, level).
fn escalations(events: Vec<Event>) -> Vec<(TicketId, SlaMetric, Level)> {
    events
        .into_iter()
        .filter_map(|e| match e {
            Event::Escalated {
                ticket,
                metric,
                level,
                ..
            } => Some((ticket, metric, level)),
            _ => None,
        })
        .collect()
}

impl Scheduler {
    /// Test helper: apply a read-only command.
    fn apply_read(&self, cmd: Command) -> Reply {
        assert!(cmd.is_read());
        match cmd {
            Command::ListAgents(f) => self.list_agents(&f),
            _ => unreachable!(),
        }
    }
}

// ---- ordering ---------------------------------------------------------------------------

#[test]
fn earliest_due_is_served_first() {
    let mut sim = Sim::new();
    let email = sim.create(Tier::Standard, Channel::Email, &[]);
    let chat = sim.create(Tier::Standard, Channel::Chat, &[]);
    sim.agent("a", &[]);
    assert_eq!(
        sim.pulled_id("a"),
        Some(chat),
        "chat is due in 30 s, email in 2 h"
    );
    assert_eq!(sim.pulled_id("a"), Some(email));
}

#[test]
fn vip_is_served_before_standard() {
    let mut sim = Sim::new();
    let standard = sim.create(Tier::Standard, Channel::Chat, &[]);
    let vip = sim.create(Tier::Vip, Channel::Chat, &[]);
    sim.agent("a", &[]);
    assert_eq!(sim.pulled_id("a"), Some(vip));
    assert_eq!(sim.pulled_id("a"), Some(standard));
}

#[test]
fn equal_due_ties_go_to_the_higher_tier_then_the_older_ticket() {
    let mut sim = Sim::new();
    let standard = sim.create(Tier::Standard, Channel::Chat, &[]); // due T0 + 30 s
    let standard_same = sim.create(Tier::Standard, Channel::Chat, &[]);
    sim.advance(Span::secs(15));
    let vip = sim.create(Tier::Vip, Channel::Chat, &[]); // due T0 + 15 + 15 s
    assert_eq!(sim.ticket(vip).due(), sim.ticket(standard).due());
    sim.agent_with("a", &[], &[], [Some(5); Channel::COUNT]);
    assert_eq!(sim.pulled_id("a"), Some(vip));
    assert_eq!(sim.pulled_id("a"), Some(standard));
    assert_eq!(sim.pulled_id("a"), Some(standard_same));
}

/// Under the `deadline` order (see `order.rs` for `savable_first`).
#[test]
fn a_breached_ticket_goes_before_any_unbreached_one() {
    let mut sim = Sim::with_policy(deadline_order());
    let old_email = sim.create(Tier::Standard, Channel::Email, &[]);
    sim.advance(Span::hours(3));
    let fresh_vip_chat = sim.create(Tier::Vip, Channel::Chat, &[]);
    sim.agent_with("a", &[], &[], [Some(5); Channel::COUNT]);
    let first = sim.pull("a").expect("a ticket");
    assert_eq!(first.ticket.id, old_email);
    assert_eq!(
        first.reason,
        AssignReason::EscalatedL2,
        "3 h into a 2 h target is past L2 (breach + 50 %)"
    );
    assert_eq!(sim.pulled_id("a"), Some(fresh_vip_chat));
}

// ---- eligibility ------------------------------------------------------------------------

#[test]
fn an_agent_needs_every_required_skill() {
    let mut sim = Sim::new();
    let both = sim.create(Tier::Standard, Channel::Email, &["de", "billing"]);
    sim.agent("only-de", &["de"]);
    assert_eq!(sim.pulled_id("only-de"), None);
    sim.agent("both", &["billing", "de", "returns"]);
    assert_eq!(sim.pulled_id("both"), Some(both));
}

#[test]
fn an_agent_serves_only_its_tiers() {
    let mut sim = Sim::new();
    let vip = sim.create(Tier::Vip, Channel::Email, &[]);
    sim.agent_with(
        "std-only",
        &[],
        &[Tier::Standard, Tier::New],
        [None; Channel::COUNT],
    );
    assert_eq!(sim.pulled_id("std-only"), None);
    sim.agent_with("vip-desk", &[], &[Tier::Vip], [None; Channel::COUNT]);
    assert_eq!(sim.pulled_id("vip-desk"), Some(vip));
}

#[test]
fn only_available_agents_pull() {
    let mut sim = Sim::new();
    sim.create(Tier::Standard, Channel::Email, &[]);
    sim.agent("a", &[]);
    sim.apply(Command::SetPresence {
        agent: agent_id("a"),
        presence: Presence::Away,
        reason: None,
    })
    .expect("away");
    let err = sim.apply(Command::Pull(agent_id("a"))).unwrap_err();
    assert_eq!(
        err,
        CoreError::AgentNotAvailable {
            agent: agent_id("a"),
            presence: Presence::Away
        }
    );
    assert_eq!(
        sim.apply(Command::Pull(agent_id("ghost"))).unwrap_err(),
        CoreError::AgentNotFound(agent_id("ghost"))
    );
}

#[test]
fn capacity_is_per_channel() {
    let mut sim = Sim::new();
    let chat1 = sim.create(Tier::Standard, Channel::Chat, &[]);
    let _chat2 = sim.create(Tier::Standard, Channel::Chat, &[]);
    let email = sim.create(Tier::Standard, Channel::Email, &[]);
    let mut capacity = [Some(0); Channel::COUNT];
    capacity[Channel::Chat.index()] = Some(1);
    capacity[Channel::Email.index()] = Some(1);
    sim.agent_with("a", &[], &[], capacity);
    assert_eq!(sim.pulled_id("a"), Some(chat1));
    assert_eq!(
        sim.pulled_id("a"),
        Some(email),
        "chat is full, email has room"
    );
    assert_eq!(sim.pulled_id("a"), None, "both channels full");
    let lease = sim.lease(chat1);
    sim.apply(Command::Resolve {
        ticket: chat1,
        lease: Some(lease),
    })
    .expect("resolve");
    assert!(sim.pulled_id("a").is_some(), "resolving frees a chat slot");
}

#[test]
fn default_capacity_applies_to_channels_left_out() {
    let mut sim = Sim::new();
    sim.agent("a", &[]);
    let agent = sim.s.agent(&agent_id("a")).expect("agent");
    assert_eq!(agent.capacity, CoreConfig::default().default_capacity);
}

// ---- preferred agent --------------------------------------------------------------------

#[test]
fn preferred_agent_has_the_ticket_to_itself_during_the_hold_window() {
    let mut sim = Sim::new();
    sim.agent("manager", &[]);
    sim.agent("other", &[]);
    let mut new = sim.new_ticket(Tier::Vip, Channel::Email, &[]);
    new.preferred_agent = Some(agent_id("manager"));
    let id = sim.create_with(new);
    assert_eq!(sim.pulled_id("other"), None, "held for the manager");
    sim.live(Span::secs(59));
    assert_eq!(sim.pulled_id("other"), None, "still held at 59 s");
    sim.live(Span::secs(1));
    assert_eq!(
        sim.pulled_id("other"),
        Some(id),
        "after the 60 s hold anyone eligible may take it"
    );
}

#[test]
fn preferred_agent_pull_says_why() {
    let mut sim = Sim::new();
    sim.agent("manager", &[]);
    let mut new = sim.new_ticket(Tier::Vip, Channel::Email, &[]);
    new.preferred_agent = Some(agent_id("manager"));
    let id = sim.create_with(new);
    let a = sim.pull("manager").expect("assignment");
    assert_eq!((a.ticket.id, a.reason), (id, AssignReason::PreferredAgent));
}

#[test]
fn hold_window_never_runs_past_the_due() {
    let mut sim = Sim::new();
    sim.agent("manager", &[]);
    sim.agent("other", &[]);
    let mut new = sim.new_ticket(Tier::Vip, Channel::Chat, &[]); // due in 15 s
    new.preferred_agent = Some(agent_id("manager"));
    let id = sim.create_with(new);
    assert_eq!(sim.ticket(id).held_until(), Some(T0.plus(Span::secs(15))));
    sim.advance(Span::secs(15));
    assert_eq!(sim.pulled_id("other"), Some(id));
}

#[test]
fn no_hold_for_an_offline_preferred_agent() {
    let mut sim = Sim::new();
    sim.agent("other", &[]);
    let mut new = sim.new_ticket(Tier::Vip, Channel::Email, &[]);
    new.preferred_agent = Some(agent_id("absent"));
    let id = sim.create_with(new);
    assert_eq!(sim.pulled_id("other"), Some(id));
}

// ---- leases -----------------------------------------------------------------------------

#[test]
fn a_stale_lease_epoch_is_refused() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    sim.agent("a", &[]);
    sim.agent("b", &[]);
    let first = sim.pull("a").expect("a gets it");
    let old = Lease {
        agent: agent_id("a"),
        epoch: first.lease_epoch,
    };
    sim.apply(Command::Release {
        ticket: id,
        lease: old.clone(),
    })
    .expect("release");
    let second = sim.pull("b").expect("b gets it");
    assert!(second.lease_epoch.get() > first.lease_epoch.get());
    for cmd in [
        Command::RecordReply {
            ticket: id,
            author: Author::Agent(old.clone()),
            next_update_by: None,
        },
        Command::Resolve {
            ticket: id,
            lease: Some(old.clone()),
        },
        Command::Release {
            ticket: id,
            lease: old.clone(),
        },
        Command::SetPending {
            ticket: id,
            lease: old.clone(),
        },
    ] {
        assert!(matches!(sim.apply(cmd), Err(CoreError::StaleLease { .. })));
    }
    let wrong_agent = Lease {
        agent: agent_id("a"),
        epoch: second.lease_epoch,
    };
    assert!(matches!(
        sim.apply(Command::Resolve {
            ticket: id,
            lease: Some(wrong_agent)
        }),
        Err(CoreError::StaleLease { .. })
    ));
}

#[test]
fn presence_expiry_requeues_unanswered_tickets_with_a_new_epoch() {
    let mut sim = Sim::new();
    let unanswered = sim.create(Tier::Standard, Channel::Email, &[]);
    let answered = sim.create(Tier::Standard, Channel::Email, &[]);
    sim.agent("a", &[]);
    let a1 = sim.pull("a").expect("first");
    sim.pull("a").expect("second");
    sim.reply(answered).expect("reply");
    sim.advance(Span::secs(29));
    assert_eq!(sim.ticket(unanswered).state, TicketState::Assigned);
    sim.advance(Span::secs(1));
    assert_eq!(
        sim.s.agent(&agent_id("a")).map(|a| a.presence),
        Some(Presence::Offline)
    );
    let t = sim.ticket(unanswered);
    assert_eq!((t.state, t.holder().cloned()), (TicketState::Queued, None));
    assert!(t.epoch().get() > a1.lease_epoch.get());
    assert_eq!(
        sim.ticket(answered).state,
        TicketState::Assigned,
        "answered tickets stay with the agent"
    );
    let events = sim.events();
    assert!(events.contains(&Event::Requeued {
        ticket: unanswered,
        reason: RequeueReason::PresenceExpired
    }));
}

#[test]
fn heartbeats_keep_an_agent_present() {
    let mut sim = Sim::new();
    sim.agent("a", &[]);
    for _ in 0..20 {
        sim.advance(Span::secs(20));
        sim.apply(Command::Heartbeat(agent_id("a")))
            .expect("heartbeat");
    }
    assert_eq!(
        sim.s.agent(&agent_id("a")).map(|a| a.presence),
        Some(Presence::Available)
    );
}

#[test]
fn going_offline_hands_back_unanswered_tickets() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    sim.agent("a", &[]);
    sim.pull("a").expect("pull");
    sim.apply(Command::SetPresence {
        agent: agent_id("a"),
        presence: Presence::Offline,
        reason: None,
    })
    .expect("offline");
    assert_eq!(sim.ticket(id).state, TicketState::Queued);
}

#[test]
fn a_ticket_is_never_held_by_two_agents() {
    let mut sim = Sim::new();
    for _ in 0..50 {
        sim.create(Tier::Standard, Channel::Email, &[]);
    }
    for i in 0..10 {
        sim.agent(&format!("a{i}"), &[]);
    }
    let mut seen = HashMap::new();
    for round in 0..10 {
        for i in 0..10 {
            if let Some(a) = sim.pull(&format!("a{i}")) {
                assert!(
                    seen.insert(a.ticket.id, (i, round)).is_none(),
                    "{:?} handed out twice",
                    a.ticket.id
                );
            }
        }
    }
    assert_eq!(
        seen.len(),
        50,
        "every ticket handed out once, capacity 5 × 10 agents"
    );
}

// ---- SLA clocks -------------------------------------------------------------------------

#[test]
fn first_response_is_met_by_the_first_agent_reply() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Chat, &[]);
    sim.agent("a", &[]);
    sim.pull("a").expect("pull");
    sim.advance(Span::secs(20));
    sim.events();
    sim.reply(id).expect("reply");
    let met: Vec<_> = sim
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::ClockMet { .. }))
        .collect();
    assert_eq!(
        met,
        vec![Event::ClockMet {
            ticket: id,
            metric: SlaMetric::FirstResponse,
            tier: Tier::Standard,
            channel: Channel::Chat,
            elapsed: Span::secs(20),
            within: true
        }]
    );
    assert_eq!(
        sim.ticket(id).first_response.met_at.get(),
        Some(T0.plus(Span::secs(20)))
    );
}

#[test]
fn a_customer_message_starts_a_next_reply_clock_that_the_agent_reply_meets() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Messenger, &[]);
    sim.agent("a", &[]);
    sim.pull("a").expect("pull");
    sim.reply(id).expect("first response");
    sim.advance(Span::mins(1));
    sim.apply(Command::RecordReply {
        ticket: id,
        author: Author::Customer,
        next_update_by: None,
    })
    .expect("customer");
    let clock = sim.ticket(id).next_reply.clone().expect("next reply clock");
    assert_eq!(clock.due(), Some(sim.now.plus(Span::mins(5))));
    sim.advance(Span::mins(6));
    assert!(sim
        .ticket(id)
        .next_reply
        .as_ref()
        .is_some_and(|c| c.breached()));
    sim.reply(id).expect("answer");
    assert!(sim
        .ticket(id)
        .next_reply
        .as_ref()
        .is_some_and(|c| c.is_met()));
}

#[test]
fn a_customer_message_before_the_first_response_starts_no_extra_clock() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Messenger, &[]);
    sim.apply(Command::RecordReply {
        ticket: id,
        author: Author::Customer,
        next_update_by: None,
    })
    .expect("customer");
    assert_eq!(sim.ticket(id).next_reply, None);
}

#[test]
fn pending_pauses_the_resolution_clock() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    sim.agent("a", &[]);
    sim.pull("a").expect("pull");
    sim.reply(id).expect("reply");
    let due_before = sim.ticket(id).resolution.due().expect("counting");
    let lease = sim.lease(id);
    sim.apply(Command::SetPending { ticket: id, lease })
        .expect("pending");
    sim.advance(Span::hours(30));
    assert!(
        !sim.ticket(id).resolution.breached(),
        "paused time does not count"
    );
    sim.apply(Command::RecordReply {
        ticket: id,
        author: Author::Customer,
        next_update_by: None,
    })
    .expect("customer back");
    assert_eq!(sim.ticket(id).state, TicketState::Assigned);
    assert_eq!(
        sim.ticket(id).resolution.due(),
        Some(due_before.plus(Span::hours(30)))
    );
}

#[test]
fn negative_sentiment_counts_one_priority_step_up() {
    let mut sim = Sim::new();
    let mut new = sim.new_ticket(Tier::Standard, Channel::Email, &[]);
    new.sentiment = Sentiment::Negative;
    let upset = sim.create_with(new);
    assert_eq!(sim.ticket(upset).first_response.target, Span::hours(1));
}

#[test]
fn resolution_is_met_at_resolve_and_reopen_starts_a_fresh_clock() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    sim.agent("a", &[]);
    sim.pull("a").expect("pull");
    sim.reply(id).expect("first response");
    sim.live(Span::hours(3));
    let lease = sim.lease(id);
    sim.apply(Command::Resolve {
        ticket: id,
        lease: Some(lease),
    })
    .expect("resolve");
    assert!(sim.ticket(id).resolution.is_met());
    assert_eq!(
        sim.s.agent(&agent_id("a")).map(|a| a.holding.len()),
        Some(0)
    );
    sim.live(Span::hours(1));
    sim.apply(Command::Reopen { ticket: id }).expect("reopen");
    let t = sim.ticket(id);
    assert_eq!(t.state, TicketState::Queued);
    assert_eq!(t.resolution.started_at, sim.now);
    assert!(!t.resolution.is_met());
}

// ---- escalation -------------------------------------------------------------------------

#[test]
fn escalation_ladder_fires_each_step_once_over_hours_of_sla_time() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    sim.events();
    let mut fired = Vec::new();
    for _ in 0..(48 * 60) {
        sim.advance(Span::mins(1));
        fired.extend(sim.escalations());
    }
    let fr = |level| (id, SlaMetric::FirstResponse, level);
    let res = |level| (id, SlaMetric::Resolution, level);
    assert_eq!(
        fired,
        vec![
            fr(Level::Warning),  // 96 min
            fr(Level::L1),       // 2 h
            fr(Level::L2),       // 3 h
            fr(Level::L3),       // 4 h
            res(Level::Warning), // 19.2 h
            res(Level::L1),      // 24 h
            res(Level::L2),      // 36 h
            res(Level::L3),      // 48 h
        ]
    );
}

#[test]
fn l2_takes_the_ticket_back_from_an_agent_who_has_not_replied() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Chat, &[]);
    sim.agent("slow", &[]);
    let a = sim.pull("slow").expect("pull");
    for _ in 0..44 {
        sim.advance(Span::secs(1));
        sim.apply(Command::Heartbeat(agent_id("slow"))).expect("hb");
    }
    assert_eq!(
        sim.ticket(id).state,
        TicketState::Assigned,
        "before L2 (45 s) it stays"
    );
    sim.advance(Span::secs(1));
    let t = sim.ticket(id);
    assert_eq!(t.state, TicketState::Queued);
    assert!(t.epoch().get() > a.lease_epoch.get());
}

/// Widening to the first skill keeps the one the client listed first (the language here),
/// not the alphabetically first (`billing`), and a skills update is read the same way.
#[test]
fn l2_keeps_the_skill_the_client_listed_first() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Vip, Channel::Email, &["en", "billing"]); // VIP email: 1 h target
    let other = sim.create(Tier::Vip, Channel::Email, &["en", "billing"]);
    let (set, first) =
        SkillSet::parse_listed("skills", vec!["billing".into(), "en".into()]).expect("skills");
    let update = TicketUpdate {
        skills: Some((set, first)),
        ..TicketUpdate::default()
    };
    sim.apply(Command::Update {
        ticket: other,
        update,
    })
    .expect("update");
    sim.agent("en", &["en"]);
    sim.agent("billing", &["billing"]);
    sim.live(Span::mins(89));
    assert_eq!(
        sim.pulled_id("en"),
        None,
        "before L2 both skills are needed"
    );
    sim.live(Span::mins(1)); // 90 min: L2
    assert_eq!(sim.ticket(id).escalation(), Level::L2);
    assert_eq!(sim.pulled_id("en"), Some(id), "L2 keeps en, listed first");
    assert_eq!(
        sim.pulled_id("billing"),
        Some(other),
        "billing, listed first"
    );
    assert_eq!(sim.pulled_id("billing"), None);
}

#[test]
fn l2_relaxes_skills_to_the_first_and_l3_lets_any_agent_take_it() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Vip, Channel::Email, &["billing", "de"]); // VIP email: 1 h target
    sim.agent_with(
        "billing-std",
        &["billing"],
        &[Tier::Standard],
        [None; Channel::COUNT],
    );
    sim.agent("billing", &["billing"]);
    sim.apply(Command::SetPresence {
        agent: agent_id("billing"),
        presence: Presence::Away,
        reason: None,
    })
    .expect("away");
    sim.live(Span::mins(40));
    sim.apply(Command::SetPresence {
        agent: agent_id("billing"),
        presence: Presence::Available,
        reason: None,
    })
    .expect("back");
    assert_eq!(
        sim.pulled_id("billing"),
        None,
        "before L2 both skills are needed"
    );
    sim.apply(Command::SetPresence {
        agent: agent_id("billing"),
        presence: Presence::Away,
        reason: None,
    })
    .expect("away");
    sim.live(Span::mins(50)); // 90 min: L2
    assert_eq!(sim.ticket(id).escalation(), Level::L2);
    assert_eq!(sim.pulled_id("billing-std"), None, "L2 keeps the tier");
    sim.apply(Command::SetPresence {
        agent: agent_id("billing"),
        presence: Presence::Available,
        reason: None,
    })
    .expect("back");
    let a = sim.pull("billing").expect("L2 relaxes to the first skill");
    assert_eq!((a.ticket.id, a.reason), (id, AssignReason::EscalatedL2));
    let lease = sim.lease(id);
    sim.apply(Command::Release { ticket: id, lease })
        .expect("release");
    sim.apply(Command::SetPresence {
        agent: agent_id("billing"),
        presence: Presence::Away,
        reason: None,
    })
    .expect("away");
    sim.live(Span::mins(30)); // 120 min: L3
    let a = sim.pull("billing-std").expect("L3: any available agent");
    assert_eq!((a.ticket.id, a.reason), (id, AssignReason::EscalatedL3));
}

#[test]
fn steps_that_fell_due_while_down_fire_once_after_restore() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Chat, &[]);
    sim.events();
    let records = sim.records();
    let later = sim.now.plus(Span::mins(5));
    let mut restored = restart_from(records, later);
    restored.tick(later);
    let fired = escalations(restored.take_journal().events);
    let fr = |level| (id, SlaMetric::FirstResponse, level);
    assert_eq!(
        fired,
        vec![
            fr(Level::Warning),
            fr(Level::L1),
            fr(Level::L2),
            fr(Level::L3)
        ]
    );
    let mut again = Sim {
        s: restored,
        now: later,
        next_ext: 100,
    };
    let records = again.records();
    let mut twice = restart_from(records, later);
    twice.tick(later.plus(Span::mins(1)));
    assert!(
        twice.take_journal().events.is_empty(),
        "no step fires twice across restarts"
    );
    again.s.tick(later);
}

// ---- recovery ---------------------------------------------------------------------------

#[test]
fn restore_rebuilds_queues_leases_and_loads() {
    let mut sim = Sim::new();
    for i in 0..30 {
        let tier = [Tier::Vip, Tier::New, Tier::Standard][i % 3];
        let channel = [Channel::Chat, Channel::Email, Channel::Messenger][i % 3];
        sim.create(tier, channel, &["en"]);
    }
    sim.agent("a", &["en"]);
    sim.agent("b", &["en"]);
    let held: Vec<_> = (0..4).filter_map(|_| sim.pull("a")).collect();
    let records = sim.records();
    let mut restored = Sim {
        s: restart_from(records, sim.now),
        now: sim.now,
        next_ext: 1000,
    };
    assert_eq!(
        restored.s.agent(&agent_id("a")).map(|a| a.holding.len()),
        Some(held.len())
    );
    assert_eq!(restored.s.queued_count(), sim.s.queued_count());
    for _ in 0..10 {
        assert_eq!(
            sim.pulled_id("b"),
            restored.pulled_id("b"),
            "same order after restore"
        );
    }
    let stale = Lease {
        agent: agent_id("a"),
        epoch: Epoch::new(held[0].lease_epoch.get() + 7),
    };
    let err = restored.apply(Command::Release {
        ticket: held[0].ticket.id,
        lease: stale,
    });
    assert!(matches!(err, Err(CoreError::StaleLease { .. })));
}

/// Records streamed one at a time, as the store's scan hands them over, with nothing
/// collected first to sort: a held ticket finds its holder because agents come first, a holder
/// never read or a ticket out of id order is refused, and requests read in any order of time
/// still expire oldest first.
#[test]
fn a_streamed_restore_keeps_the_facts_that_depend_on_order() {
    // Deadline order, so that the pull below takes the oldest ticket (the first in id order).
    let mut sim = Sim::with_policy(deadline_order());
    for n in 0..3 {
        let new = NewTicket {
            first_skill: 0,
            request_id: format!("req-{n}"),
            ..sim.new_ticket(Tier::Standard, Channel::Email, &[])
        };
        sim.create_with(new);
        sim.advance(Span::hours(1));
    }
    sim.agent("a", &[]);
    let held = sim.pull("a").expect("a pulls").ticket.id;
    let rec = sim.records();
    let restoring = || Scheduler::restoring(SlaPolicy::default(), CoreConfig::default(), sim.now);

    let mut r = restoring();
    // A hint below the truth: tables sized by it still grow for the rest.
    r.expect(1, 1);
    for agent in &rec.agents {
        r.agent(agent.clone());
    }
    for t in &rec.tickets {
        r.ticket(t.clone()).expect("in order, holder known");
    }
    // Newest first: the store reads requests by id, not by time.
    for (id, entry) in rec.idempotency.iter().rev() {
        r.request(id, entry.clone());
    }
    r.last_ticket(rec.last_ticket);
    let mut s = r.finish();
    assert_eq!(
        s.ticket(held).and_then(|t| t.holder()),
        Some(&agent_id("a"))
    );
    let a = s.agent(&agent_id("a")).expect("a restored");
    assert_eq!((a.holding.len(), a.load[Channel::Email.index()]), (1, 1));
    let window = CoreConfig::default().request_window;
    let mut expired = Vec::new();
    for hour in 0..3 {
        s.tick(T0.plus(window).plus(Span::hours(hour)));
        expired.push(s.take_journal().expired_requests);
    }
    assert_eq!(expired, [["req-0"], ["req-1"], ["req-2"]], "oldest first");

    let mut r = restoring();
    let unknown = rec.tickets.iter().try_for_each(|t| r.ticket(t.clone()));
    assert!(
        matches!(unknown, Err(RestoreError::UnknownHolder { ticket, ref agent })
            if ticket == held && *agent == agent_id("a")),
        "{unknown:?}"
    );

    let mut r = restoring();
    r.ticket(rec.tickets[1].clone()).expect("ticket 2");
    let backwards = r.ticket(rec.tickets[0].clone());
    assert!(
        matches!(backwards, Err(RestoreError::OutOfOrder { ticket, after })
            if ticket == TicketId(1) && after == TicketId(2)),
        "{backwards:?}"
    );
}

// ---- input the core refuses --------------------------------------------------------------

#[test]
fn a_refused_command_changes_nothing() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    sim.agent("a", &[]);
    sim.take_all();
    let before = sim.ticket(id).clone();
    let refused = [
        Command::Reopen { ticket: id },
        Command::Release {
            ticket: id,
            lease: Lease {
                agent: agent_id("a"),
                epoch: Epoch::new(0),
            },
        },
        Command::SetPending {
            ticket: id,
            lease: Lease {
                agent: agent_id("a"),
                epoch: Epoch::new(0),
            },
        },
        Command::RecordReply {
            ticket: TicketId(99),
            author: Author::Customer,
            next_update_by: None,
        },
        Command::Pull(agent_id("nobody")),
        Command::PutPolicy(Box::new(SlaPolicy {
            warning_fraction: 2.0,
            ..SlaPolicy::default()
        })),
    ];
    for cmd in refused {
        assert!(sim.apply(cmd.clone()).is_err(), "{cmd:?} should be refused");
        assert!(
            sim.s.take_journal().is_empty(),
            "{cmd:?} journaled something"
        );
    }
    assert_eq!(sim.ticket(id), &before);
}

#[test]
fn a_retried_create_returns_the_same_ticket_and_creates_nothing() {
    let mut sim = Sim::new();
    let mut new = sim.new_ticket(Tier::Standard, Channel::Chat, &[]);
    new.request_id = "req-1".into();
    let first = sim.create_with(new.clone());
    sim.take_all();
    assert_eq!(sim.create_with(new.clone()), first);
    assert!(sim.s.take_journal().is_empty());
    assert_eq!(sim.s.ticket_count(), 1);
    new.customer_id = "someone else".into();
    assert_eq!(
        sim.apply(Command::CreateTicket(new)).unwrap_err(),
        CoreError::RequestIdReused("req-1".into())
    );
}

#[test]
fn external_ids_are_unique() {
    let mut sim = Sim::new();
    let new = sim.new_ticket(Tier::Standard, Channel::Chat, &[]);
    let id = sim.create_with(new.clone());
    let err = sim.apply(Command::CreateTicket(new.clone())).unwrap_err();
    assert_eq!(
        err,
        CoreError::ExternalIdTaken {
            external_id: new.external_id,
            ticket: id
        }
    );
}

#[test]
fn a_new_policy_applies_to_open_tickets() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    let mut policy = SlaPolicy::default();
    policy.targets.email.first_response = Span::mins(30);
    sim.apply(Command::PutPolicy(Box::new(policy)))
        .expect("put");
    assert_eq!(sim.ticket(id).due(), Some(T0.plus(Span::mins(30))));
    sim.events();
    sim.advance(Span::mins(30));
    assert!(sim
        .escalations()
        .contains(&(id, SlaMetric::FirstResponse, Level::L1)));
}

#[test]
fn update_changes_routing_and_targets() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Email, &["de"]);
    sim.agent("en", &["en"]);
    assert_eq!(sim.pulled_id("en"), None);
    let update = TicketUpdate {
        skills: Some((skills(&["en"]), 0)),
        tier: Some(Tier::Vip),
        ..Default::default()
    };
    sim.apply(Command::Update { ticket: id, update })
        .expect("update");
    assert_eq!(sim.ticket(id).first_response.target, Span::hours(1));
    assert_eq!(sim.pulled_id("en"), Some(id));
}

#[test]
fn tickets_of_one_customer_share_its_id_and_equal_skill_sets_share_one_set() {
    let mut sim = Sim::new();
    let a = sim.create(Tier::Standard, Channel::Email, &["en", "billing"]);
    let b = sim.create(Tier::Standard, Channel::Chat, &["billing", "en"]);
    let c = sim.create(Tier::Standard, Channel::Chat, &["de"]);
    let (ta, tb, tc) = (sim.ticket(a), sim.ticket(b), sim.ticket(c));
    assert!(std::sync::Arc::ptr_eq(&ta.customer_id, &tb.customer_id));
    assert!(ta.skills.ptr_eq(&tb.skills));
    assert!(!ta.skills.ptr_eq(&tc.skills));
    // An update to an equal set shares it too.
    let update = TicketUpdate {
        skills: Some((skills(&["de"]), 0)),
        ..Default::default()
    };
    sim.apply(Command::Update { ticket: a, update })
        .expect("update");
    assert!(sim.ticket(a).skills.ptr_eq(&sim.ticket(c).skills));
}

#[test]
fn cancel_takes_the_ticket_out_of_play() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Chat, &[]);
    sim.apply(Command::Cancel {
        ticket: id,
        reason: CancelReason::Abandoned,
    })
    .expect("cancel");
    sim.agent("a", &[]);
    assert_eq!(sim.pulled_id("a"), None);
    sim.events();
    sim.advance(Span::hours(100));
    assert!(
        sim.escalations().is_empty(),
        "a closed ticket's clocks are stopped"
    );
}

impl Sim {
    fn take_all(&mut self) {
        self.s.take_journal();
    }
}
