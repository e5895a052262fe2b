//! The reference model's pieces: targets, clocks with their escalation ladder, tickets and
//! agents, each written as plainly as possible.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Metric {
    FirstResponse,
    NextReply,
    Resolution,
    FollowUp,
}

impl Metric {
    pub(super) const ALL: [Metric; 4] = [
        Metric::FirstResponse,
        Metric::NextReply,
        Metric::Resolution,
        Metric::FollowUp,
    ];
    /// The core's name for it.
    pub(super) fn core(self) -> SlaMetric {
        match self {
            Metric::FirstResponse => SlaMetric::FirstResponse,
            Metric::NextReply => SlaMetric::NextReply,
            Metric::Resolution => SlaMetric::Resolution,
            Metric::FollowUp => SlaMetric::FollowUp,
        }
    }
    /// Missing it means no agent answered the customer (what L2 takes a ticket back for).
    pub(super) fn awaits_agent(self) -> bool {
        matches!(self, Metric::FirstResponse | Metric::NextReply)
    }
}

/// `n / d` rounded half up (all values are positive).
pub(super) fn round_div(n: i64, d: i64) -> i64 {
    (2 * n + d) / (2 * d)
}

/// DOMAIN.md's defaults: channel target × tier multiplier × priority multiplier, where a
/// negative sentiment counts one priority step up.
pub(super) fn target(
    metric: Metric,
    channel: Channel,
    tier: Tier,
    priority: Priority,
    upset: bool,
) -> i64 {
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
pub(super) const STEP_TENTHS: [i64; 5] = [0, 8, 10, 15, 20];
pub(super) const L1: u8 = 2;
pub(super) const L2: u8 = 3;
pub(super) const L3: u8 = 4;

#[derive(Clone, Debug)]
pub(super) struct MClock {
    pub(super) start: i64,
    pub(super) target: i64,
    pub(super) paused_for: i64,
    pub(super) paused_since: Option<i64>,
    pub(super) met: bool,
    pub(super) level: u8,
}

impl MClock {
    pub(super) fn new(start: i64, target: i64) -> MClock {
        MClock {
            start,
            target,
            paused_for: 0,
            paused_since: None,
            met: false,
            level: 0,
        }
    }
    pub(super) fn counting(&self) -> bool {
        !self.met && self.paused_since.is_none()
    }
    /// When escalation step `level` falls due: that share of the target after the start,
    /// pushed back by the time spent paused.
    pub(super) fn deadline(&self, level: u8) -> i64 {
        let share = round_div(self.target * STEP_TENTHS[level as usize], 10).max(1);
        self.start + self.paused_for + share
    }
    pub(super) fn due(&self) -> Option<i64> {
        self.counting().then(|| self.deadline(L1))
    }
    pub(super) fn pause(&mut self, now: i64) {
        if self.counting() {
            self.paused_since = Some(now);
        }
    }
    pub(super) fn resume(&mut self, now: i64) {
        if let Some(since) = self.paused_since.take() {
            self.paused_for += now - since;
        }
    }
    pub(super) fn meet(&mut self, now: i64) {
        if !self.met {
            self.resume(now);
            self.met = true;
        }
    }
    pub(super) fn view(&self) -> ClockView {
        ClockView {
            target: self.target,
            met: self.met,
            paused: self.paused_since.is_some(),
            level: Level::ALL[self.level as usize],
        }
    }
}

/// What a create asks for (its `created_at` included): a retry with the same request id must
/// ask for the same.
pub(super) type Fingerprint = (
    u8,
    Tier,
    Channel,
    Priority,
    bool,
    &'static [&'static str],
    Option<i64>,
);

#[derive(Clone, Debug)]
pub(super) struct MTicket {
    pub(super) ext: u8,
    pub(super) tier: Tier,
    pub(super) channel: Channel,
    pub(super) priority: Priority,
    pub(super) upset: bool,
    pub(super) skills: &'static [&'static str],
    pub(super) state: TicketState,
    pub(super) holder: Option<usize>,
    pub(super) epoch: u64,
    /// Indexed by `Metric`: first response and resolution always exist.
    pub(super) clocks: [Option<MClock>; 4],
    /// Its customer and external ids were erased.
    pub(super) erased: bool,
    /// Who held it when it was last resolved.
    pub(super) resolver: Option<usize>,
    /// While QUEUED after a reopen: until when only `resolver` may take it.
    pub(super) held_until: Option<i64>,
    /// While offered to `holder`: until when, and why the pull picked it.
    pub(super) offer: Option<(i64, AssignReason)>,
    /// Agents who rejected it, and until when it is not offered to them again.
    pub(super) rejected: Vec<(usize, i64)>,
}

/// The customer a run's create gives the ticket with external id `ext`: three customers.
pub(super) fn customer_of(ext: u8) -> u8 {
    ext % 3
}

impl MTicket {
    pub(super) fn clock(&mut self, m: Metric) -> Option<&mut MClock> {
        self.clocks[m as usize].as_mut()
    }
    pub(super) fn new_clock(&self, m: Metric, now: i64) -> MClock {
        MClock::new(
            now,
            target(m, self.channel, self.tier, self.priority, self.upset),
        )
    }
    pub(super) fn is_open(&self) -> bool {
        matches!(
            self.state,
            TicketState::Queued | TicketState::Assigned | TicketState::Pending
        )
    }
    /// The follow-up clock runs once resolved, the others while open, none once cancelled.
    pub(super) fn live(&self, m: Metric) -> bool {
        match m {
            Metric::FollowUp => self.state == TicketState::Resolved,
            _ => self.is_open(),
        }
    }
    pub(super) fn live_clocks(&self) -> impl Iterator<Item = &MClock> {
        Metric::ALL
            .into_iter()
            .filter(|&m| self.live(m))
            .filter_map(|m| self.clocks[m as usize].as_ref())
    }
    /// The earliest breach deadline among live counting clocks.
    pub(super) fn due(&self) -> Option<i64> {
        self.live_clocks().filter_map(MClock::due).min()
    }
    /// The highest step fired by a live clock not yet met.
    pub(super) fn escalation(&self) -> u8 {
        self.live_clocks()
            .filter(|c| !c.met)
            .map(|c| c.level)
            .max()
            .unwrap_or(0)
    }
    /// Back to the queue: the holder (if any) loses it and the epoch moves on; no hold. An
    /// unanswered offer goes back as it was (`withdraw`).
    pub(super) fn requeue(&mut self, now: i64) {
        if self.offer.is_some() {
            return self.withdraw();
        }
        self.unassign();
        self.held_until = None;
        if let Some(c) = self.clock(Metric::Resolution) {
            c.resume(now);
        }
        self.state = TicketState::Queued;
    }
    /// Every escalation step of every live, counting clock due by `now`, once each (returned
    /// in order); L2 of a clock that waits for the agent takes an ASSIGNED ticket back.
    pub(super) fn fire(&mut self, now: i64) -> Vec<(SlaMetric, Level)> {
        let mut fired = Vec::new();
        for m in Metric::ALL {
            if !self.live(m) {
                continue;
            }
            let Some(c) = self.clock(m) else { continue };
            let mut reached_l2 = false;
            while c.counting() && c.level < L3 && c.deadline(c.level + 1) <= now {
                c.level += 1;
                reached_l2 |= c.level == L2;
                fired.push((m.core(), Level::ALL[c.level as usize]));
            }
            if reached_l2 && m.awaits_agent() && self.state == TicketState::Assigned {
                self.requeue(now);
            }
        }
        fired
    }
    /// The holder (if any) loses it, with any open offer.
    pub(super) fn unassign(&mut self) {
        if self.holder.take().is_some() {
            self.epoch += 1;
        }
        self.offer = None;
    }
    /// An offer that ends unaccepted: back to the queue as it was (its order is its due, tier
    /// and id, so that is its place), without a hold.
    pub(super) fn withdraw(&mut self) {
        self.unassign();
        self.held_until = None;
        self.state = TicketState::Queued;
    }
    /// Whether `agent` rejected it and may not be offered it again at `now`.
    pub(super) fn rejected_by(&self, agent: usize, now: i64) -> bool {
        self.rejected
            .iter()
            .any(|&(a, until)| a == agent && until > now)
    }
    pub(super) fn view(&self) -> TicketView {
        TicketView {
            state: self.state,
            holder: self.holder.map(|a| NAMES[a].to_string()),
            epoch: self.epoch,
            due: self.due(),
            clocks: self.clocks.clone().map(|c| c.map(|c| c.view())),
            promise: false,
            erased: self.erased,
            offered_until: self.offer.map(|(until, _)| until),
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct MAgent {
    pub(super) skills: &'static [&'static str],
    pub(super) tiers: &'static [Tier],
    pub(super) capacity: [u32; 6],
    pub(super) presence: Presence,
    pub(super) last_seen: i64,
    /// Offers timed out in a row.
    pub(super) missed: u32,
}

impl MAgent {
    pub(super) fn set_profile(&mut self, p: Profile) {
        self.skills = p.skills;
        self.tiers = p.tiers;
        self.capacity = std::array::from_fn(|i| p.capacity[i].unwrap_or(DEFAULT_CAPACITY[i]));
    }
    pub(super) fn serves(&self, tier: Tier) -> bool {
        self.tiers.is_empty() || self.tiers.contains(&tier)
    }
    pub(super) fn has_all(&self, skills: &[&str]) -> bool {
        skills.iter().all(|s| self.skills.contains(s))
    }
}

/// Service order among equally due tickets: VIP, new, standard.
pub(super) fn tier_rank(tier: Tier) -> u8 {
    match tier {
        Tier::Vip => 0,
        Tier::New => 1,
        Tier::Standard => 2,
    }
}
