//! The queued tickets grouped as `GetQueueStats` reports them: per (tier, channel, required
//! skills), kept up to date as tickets enter and leave the queues, so that the stats cost
//! O(groups) and never a pass over the queued tickets.
//!
//! A group keeps its tickets by arrival (its depth, its oldest, and the per-(tier, channel)
//! depth and age gauges) and by due (how many are past due). Both hold exactly the values the
//! ticket was filed with (`Queues::push`), which are the ticket's own: every change to a
//! queued ticket re-places it (`Scheduler::settle`).
//!
//! "Past due at `now`" is counted against a cursor: each group remembers how many of its dues
//! were at or before the instant it was last asked about, and a later question counts only
//! the dues between that instant and the new one (an earlier one, those between, taken off).
//! So it is exact at any `now`, and a wallboard asking once a second walks only what fell due
//! in that second: each due is passed once while time moves forward.

use super::collections::{fill, HashMap};
use super::command::QueueStat;
use super::types::{Channel, SkillSet, TicketId, Tier, Ts};
use std::cell::Cell;
use std::collections::BTreeSet;
use std::ops::Bound::{Excluded, Included};

/// A group's index in `QueueGroups`; groups are never dropped, as routing keys are not.
pub type GroupId = u32;

/// A ticket as its group files it: when it was queued, when it is due (if a clock counts),
/// and which it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Filed {
    pub id: TicketId,
    pub queued_at: Ts,
    pub due: Option<Ts>,
}

/// How many dues of a group lie at or before `at`.
#[derive(Clone, Copy, Debug)]
struct Past {
    at: Ts,
    count: u32,
}

struct Group {
    tier: Tier,
    channel: Channel,
    skills: SkillSet,
    by_age: BTreeSet<(Ts, TicketId)>,
    by_due: BTreeSet<(Ts, TicketId)>,
    /// The cursor of the past-due count (see the module doc).
    past: Cell<Past>,
}

impl Group {
    fn new(tier: Tier, channel: Channel, skills: SkillSet) -> Group {
        Group {
            tier,
            channel,
            skills,
            by_age: BTreeSet::new(),
            by_due: BTreeSet::new(),
            past: Cell::new(Past {
                at: Ts(i64::MIN),
                count: 0,
            }),
        }
    }

    fn add_due(&mut self, due: Ts, id: TicketId) {
        if self.by_due.insert((due, id)) {
            self.shift_past(due, 1);
        }
    }

    fn remove_due(&mut self, due: Ts, id: TicketId) {
        if self.by_due.remove(&(due, id)) {
            self.shift_past(due, -1);
        }
    }

    /// A due came (`+1`) or went (`-1`): counted by the cursor if at or before its instant.
    fn shift_past(&self, due: Ts, by: i32) {
        let mut past = self.past.get();
        if due <= past.at {
            past.count = past.count.saturating_add_signed(by);
            self.past.set(past);
        }
    }

    /// How many of its tickets are due at or before `now`; moves the cursor to `now`.
    fn past_due(&self, now: Ts) -> u32 {
        let Past { at, count } = self.past.get();
        let between = |from: Ts, to: Ts| {
            let range = (
                Excluded((from, TicketId(u64::MAX))),
                Included((to, TicketId(u64::MAX))),
            );
            self.by_due.range(range).count() as u32
        };
        let count = match now.cmp(&at) {
            std::cmp::Ordering::Equal => count,
            std::cmp::Ordering::Greater => count + between(at, now),
            std::cmp::Ordering::Less => {
                let passed = between(now, at);
                debug_assert!(
                    passed <= count,
                    "the cursor counted {count}, {passed} passed"
                );
                count.saturating_sub(passed)
            }
        };
        self.past.set(Past { at: now, count });
        count
    }

    /// What the stats order groups by.
    fn line(&self) -> (Tier, Channel, &SkillSet) {
        (self.tier, self.channel, &self.skills)
    }

    fn stat(&self, now: Ts) -> Option<QueueStat> {
        let &(oldest, _) = self.by_age.first()?;
        Some(QueueStat {
            tier: self.tier,
            channel: self.channel,
            skills: self.skills.clone(),
            depth: self.by_age.len() as u32,
            oldest_age: now.since(oldest),
            breached: self.past_due(now),
        })
    }
}

/// The queued tickets per group, with the entries a recovery stages (see `stage`).
pub struct QueueGroups {
    groups: Vec<Group>,
    /// Per (tier, channel) bucket (see `bucket`): its groups by skills.
    ids: Vec<HashMap<SkillSet, GroupId>>,
    staged: Option<Vec<Vec<Filed>>>,
}

impl Default for QueueGroups {
    fn default() -> Self {
        QueueGroups {
            groups: Vec::new(),
            ids: vec![HashMap::default(); Tier::COUNT * Channel::COUNT],
            staged: None,
        }
    }
}

fn bucket(tier: Tier, channel: Channel) -> usize {
    tier.index() * Channel::COUNT + channel.index()
}

impl QueueGroups {
    /// The group of (tier, channel, skills), created on first use.
    pub fn group_of(&mut self, tier: Tier, channel: Channel, skills: &SkillSet) -> GroupId {
        let ids = &mut self.ids[bucket(tier, channel)];
        if let Some(&id) = ids.get(skills) {
            return id;
        }
        let id = self.groups.len() as GroupId;
        self.groups.push(Group::new(tier, channel, skills.clone()));
        ids.insert(skills.clone(), id);
        id
    }

    pub fn tier(&self, group: GroupId) -> Tier {
        self.groups[group as usize].tier
    }

    pub fn channel(&self, group: GroupId) -> Channel {
        self.groups[group as usize].channel
    }

    /// Files a ticket in `group`, or stages it there while a recovery stages.
    pub fn add(&mut self, group: GroupId, filed: Filed) {
        if let Some(staged) = &mut self.staged {
            let g = group as usize;
            if staged.len() <= g {
                staged.resize_with(g + 1, Vec::new);
            }
            staged[g].push(filed);
            return;
        }
        let g = &mut self.groups[group as usize];
        g.by_age.insert((filed.queued_at, filed.id));
        if let Some(due) = filed.due {
            g.add_due(due, filed.id);
        }
    }

    /// Takes out what `add(group, filed)` put in (`filed.due` as it was then; a due
    /// that was not filed is no-op). Files what was staged first.
    pub fn remove(&mut self, group: GroupId, filed: Filed) {
        self.unstage();
        let g = &mut self.groups[group as usize];
        g.by_age.remove(&(filed.queued_at, filed.id));
        if let Some(due) = filed.due {
            g.remove_due(due, filed.id);
        }
    }

    /// From now until `unstage`, added tickets are collected, not inserted: a recovery builds
    /// each group's indexes once from all its tickets (see `Queues::stage`).
    pub fn stage(&mut self) {
        self.staged.get_or_insert_with(Vec::new);
    }

    /// Files everything staged; nothing to do when not staging.
    pub fn unstage(&mut self) {
        let Some(staged) = self.staged.take() else {
            return;
        };
        for (g, filed) in self.groups.iter_mut().zip(staged) {
            if filed.is_empty() {
                continue;
            }
            let dues: Vec<(Ts, TicketId)> =
                filed.iter().filter_map(|f| Some((f.due?, f.id))).collect();
            for &(due, _) in &dues {
                g.shift_past(due, 1);
            }
            fill(
                &mut g.by_age,
                filed.iter().map(|f| (f.queued_at, f.id)).collect(),
            );
            fill(&mut g.by_due, dues);
        }
    }

    /// Per group with something queued, in (tier, channel, skills) order: depth, oldest age
    /// and how many are past due at `now`. O(groups), plus the dues passed since the last
    /// call (see the module doc).
    pub fn stats(&self, now: Ts) -> Vec<QueueStat> {
        let mut live: Vec<&Group> = self
            .groups
            .iter()
            .filter(|g| !g.by_age.is_empty())
            .collect();
        live.sort_by(|a, b| a.line().cmp(&b.line()));
        live.into_iter().filter_map(|g| g.stat(now)).collect()
    }

    fn of_bucket(&self, tier: Tier, channel: Channel) -> impl Iterator<Item = &Group> + '_ {
        self.ids[bucket(tier, channel)]
            .values()
            .map(|&id| &self.groups[id as usize])
    }

    pub fn depth(&self, tier: Tier, channel: Channel) -> usize {
        self.of_bucket(tier, channel).map(|g| g.by_age.len()).sum()
    }

    pub fn oldest(&self, tier: Tier, channel: Channel) -> Option<Ts> {
        self.of_bucket(tier, channel)
            .filter_map(|g| g.by_age.first().map(|&(at, _)| at))
            .min()
    }

    /// Every queued ticket, group by group in (tier, channel, skills) order (so the same
    /// however the groups were created), each by arrival.
    pub fn queued(&self) -> impl Iterator<Item = TicketId> + '_ {
        let mut groups: Vec<&Group> = self.groups.iter().collect();
        groups.sort_by(|a, b| a.line().cmp(&b.line()));
        groups
            .into_iter()
            .flat_map(|g| g.by_age.iter().map(|&(_, id)| id))
    }
}
