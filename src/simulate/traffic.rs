//! The contacts of a simulated day: when each arrives, what it needs, how long an agent works
//! on it and how long its customer waits for an answer before leaving. Generated from a seed
//! (the DOMAIN.md channel and tier mix over an hourly curve), or a single Poisson stream with
//! exponential handle times for checking against Erlang C.

use crate::bench::mix;
use crate::core::types::{Channel, Priority, Sentiment, Skill, SkillSet, Span, Tier, Ts};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Exp, LogNormal};

/// One customer contact.
#[derive(Clone, Debug, PartialEq)]
pub struct Contact {
    pub at: Ts,
    pub channel: Channel,
    pub tier: Tier,
    pub priority: Priority,
    pub sentiment: Sentiment,
    pub skills: SkillSet,
    /// Where in `skills` the skill listed first is: the one routing keeps when it widens to
    /// the first skill (as `CreateTicket` records it).
    pub first_skill: u8,
    /// The agent's work on it, from assignment to resolution.
    pub handle: Span,
    /// How long the customer waits for an answer before leaving; `None`: waits for ever.
    pub patience: Option<Span>,
    /// The conversation after the first answer, in order: each a customer message and the
    /// agent's reply to it. Empty: the first answer is the only exchange.
    pub turns: Vec<Turn>,
}

/// One exchange after the first answer: the customer writes `after` the agent's previous
/// reply and the agent answers `reply_in` after that. `pending`: the agent set the ticket
/// PENDING on the customer right after its previous reply (the resolution clock pauses until
/// the customer writes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Turn {
    pub after: Span,
    pub reply_in: Span,
    pub pending: bool,
}

/// How a channel's conversations go on after the first answer: up to `max` follow-up
/// messages, each present with probability `p`; the customer writes after an exponential
/// time of mean `after` (or `pending_after` when the agent had set the ticket PENDING on the
/// customer, which it does before a `pending` share of the messages); the agent replies after
/// a lognormal time of mean `reply`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Talk {
    pub max: u32,
    pub p: f64,
    pub after: Span,
    pub reply: Span,
    pub pending: f64,
    pub pending_after: Span,
}

/// How much of the conversation after the first answer a generated day carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Conversations {
    /// The first answer is the only exchange.
    None,
    /// Follow-ups while the agent holds the contact, never PENDING on the customer (the
    /// follow-ups that would have come after a wait on the customer are left out). The
    /// default: PENDING holds the agent's slot in triage's core, so a day of customers
    /// waited on for hours measures that (see `full`) more than the order of the queue.
    #[default]
    Live,
    /// Follow-ups, some after the ticket waited PENDING on the customer.
    Full,
}

impl Conversations {
    /// The turns of a drawn conversation this setting keeps.
    fn keep(self, turns: Vec<Turn>) -> Vec<Turn> {
        match self {
            Conversations::None => Vec::new(),
            Conversations::Live => turns.into_iter().filter(|t| !t.pending).collect(),
            Conversations::Full => turns,
        }
    }
}

/// Each channel's conversations (documented in README's simulator section): chats go back and
/// forth within a minute; messenger and social customers within minutes, and sometimes after
/// the agent waited on them; email and review customers only after a wait (hours); a
/// call-back is one exchange.
pub fn channel_talk(channel: Channel) -> Talk {
    let talk = |max, p, after, reply, pending, pending_after| Talk {
        max,
        p,
        after,
        reply,
        pending,
        pending_after,
    };
    match channel {
        Channel::Chat => talk(4, 0.5, Span::secs(40), Span::secs(12), 0.0, Span(0)),
        Channel::Messenger => talk(4, 0.4, Span::mins(2), Span::secs(45), 0.2, Span::mins(20)),
        Channel::Email => talk(2, 0.4, Span(0), Span::mins(30), 1.0, Span::hours(3)),
        Channel::Phone => talk(0, 0.0, Span(0), Span(0), 0.0, Span(0)),
        Channel::Social => talk(2, 0.3, Span::mins(5), Span::mins(5), 0.3, Span::hours(1)),
        Channel::Review => talk(1, 0.3, Span(0), Span::hours(2), 1.0, Span::hours(12)),
    }
}

impl Talk {
    /// A conversation drawn from this channel's shape.
    pub fn draw(&self, rng: &mut StdRng) -> Vec<Turn> {
        let mut turns = Vec::new();
        for _ in 0..self.max {
            if rng.random::<f64>() >= self.p {
                continue;
            }
            let pending = rng.random::<f64>() < self.pending;
            let mean = if pending {
                self.pending_after
            } else {
                self.after
            };
            turns.push(Turn {
                after: exponential(rng, mean),
                reply_in: lognormal(rng, self.reply),
                pending,
            });
        }
        turns
    }
}

/// The shape of a day: the share of the day's contacts that arrive in each hour (local time
/// of a European desk: quiet at night, peaks late morning and mid-afternoon).
pub const HOURLY_CURVE: [f64; 24] = [
    0.6, 0.4, 0.3, 0.3, 0.3, 0.5, 1.0, 2.2, 4.0, 5.8, 6.6, 6.9, 6.4, 6.2, 6.6, 6.8, 6.4, 5.8, 5.0,
    4.4, 3.8, 3.0, 2.0, 1.2,
];

/// Mean handle time and mean patience per channel (`None`: the customer does not leave).
/// Chat and call-back customers leave within minutes; email and public posts wait.
pub fn channel_profile(channel: Channel) -> (Span, Option<Span>) {
    match channel {
        Channel::Chat => (Span::mins(6), Some(Span::mins(3))),
        Channel::Messenger => (Span::mins(8), Some(Span::mins(30))),
        Channel::Email => (Span::mins(10), None),
        Channel::Phone => (Span::mins(5), Some(Span::secs(90))),
        Channel::Social => (Span::mins(5), Some(Span::hours(4))),
        Channel::Review => (Span::mins(10), None),
    }
}

/// A day of `contacts` from `start`, the DOMAIN.md mix spread over `HOURLY_CURVE`; handle
/// times lognormal around each channel's mean, patience exponential around its mean.
///
/// Conversations (`channel_talk`, as much as `talk` keeps) come from a generator of their own,
/// so that a seed's arrivals, handle times and patience are the same whatever `talk` says.
pub fn generated_day(contacts: usize, start: Ts, seed: u64, talk: Conversations) -> Vec<Contact> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut talks = StdRng::seed_from_u64(seed ^ 0x7a1c_c0de);
    let mut pick = mix::Rng::new(seed ^ 0x5eed);
    let total: f64 = HOURLY_CURVE.iter().sum();
    let mut out = Vec::with_capacity(contacts);
    for _ in 0..contacts {
        let hour = hour_of(&HOURLY_CURVE, total, rng.random::<f64>());
        let offset = (hour as f64 + rng.random::<f64>()) * 3_600_000.0;
        let channel = mix::channel(&mut pick);
        let (handle, patience) = channel_profile(channel);
        let mut skills = vec![Skill::new(mix::LANGUAGES[pick.below(4)])];
        if pick.below(2) == 0 {
            skills.push(Skill::new(mix::PRODUCTS[pick.below(5)]));
        }
        let (skills, first_skill) = SkillSet::listed(skills);
        out.push(Contact {
            at: Ts(start.0 + offset as i64),
            channel,
            tier: mix::tier(&mut pick),
            priority: [
                Priority::Low,
                Priority::Normal,
                Priority::Normal,
                Priority::High,
            ][pick.below(4)],
            sentiment: if pick.below(10) == 0 {
                Sentiment::Negative
            } else {
                Sentiment::Neutral
            },
            skills,
            first_skill,
            handle: lognormal(&mut rng, handle),
            patience: patience.map(|mean| exponential(&mut rng, mean)),
            turns: talk.keep(channel_talk(channel).draw(&mut talks)),
        });
    }
    out.sort_by_key(|c| c.at);
    out
}

/// The M/M/c test case: Poisson arrivals at `per_hour` on one channel for `hours`, exponential
/// handle times of mean `handle`, standard tier, no skills, customers who never leave.
pub fn poisson(per_hour: f64, hours: f64, handle: Span, start: Ts, seed: u64) -> Vec<Contact> {
    let mut rng = StdRng::seed_from_u64(seed);
    let gap = Span((3_600_000.0 / per_hour).round() as u64);
    let end = start.0 + (hours * 3_600_000.0) as i64;
    let mut at = start;
    let mut out = Vec::new();
    loop {
        at = at.plus(exponential(&mut rng, gap));
        if at.0 >= end {
            return out;
        }
        out.push(Contact {
            at,
            channel: Channel::Chat,
            tier: Tier::Standard,
            priority: Priority::Normal,
            sentiment: Sentiment::Neutral,
            skills: SkillSet::default(),
            first_skill: 0,
            handle: exponential(&mut rng, handle),
            patience: None,
            turns: Vec::new(),
        });
    }
}

/// The hour whose cumulative share first exceeds `u` (a uniform draw in [0, 1)).
fn hour_of(curve: &[f64], total: f64, u: f64) -> usize {
    let mut acc = 0.0;
    for (hour, share) in curve.iter().enumerate() {
        acc += share / total;
        if u < acc {
            return hour;
        }
    }
    curve.len() - 1
}

/// An exponential draw with mean `mean`, at least 1 ms.
pub fn exponential(rng: &mut StdRng, mean: Span) -> Span {
    let rate = 1.0 / (mean.0.max(1) as f64);
    let d = Exp::new(rate).map_or(mean.0 as f64, |e| e.sample(rng));
    Span((d.round() as u64).max(1))
}

/// A lognormal draw with mean `mean` and shape σ = 0.6 (handle times: most short, a long tail).
fn lognormal(rng: &mut StdRng, mean: Span) -> Span {
    const SIGMA: f64 = 0.6;
    let mu = (mean.0.max(1) as f64).ln() - SIGMA * SIGMA / 2.0;
    let d = LogNormal::new(mu, SIGMA).map_or(mean.0 as f64, |l| l.sample(rng));
    Span((d.round() as u64).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_day_follows_the_mix_and_is_reproducible() {
        let day = generated_day(20_000, Ts(0), 7, Conversations::Full);
        assert_eq!(day, generated_day(20_000, Ts(0), 7, Conversations::Full));
        assert!(day.windows(2).all(|w| w[0].at <= w[1].at));
        let share = |c| day.iter().filter(|x| x.channel == c).count() as f64 / 20_000.0;
        assert!((share(Channel::Messenger) - 0.42).abs() < 0.02);
        assert!((share(Channel::Chat) - 0.28).abs() < 0.02);
        let night = day.iter().filter(|c| c.at.0 < 6 * 3_600_000).count();
        let noon = day
            .iter()
            .filter(|c| (11 * 3_600_000..17 * 3_600_000).contains(&c.at.0))
            .count();
        assert!(noon > 10 * night, "the hourly curve: {noon} vs {night}");
        let language = |c: &Contact| {
            let first = c.skills.in_listed_order(c.first_skill).next();
            first.is_some_and(|s| mix::LANGUAGES.contains(&&*s.0))
        };
        assert!(day.iter().all(language), "the language is listed first");
        let chats: Vec<_> = day.iter().filter(|c| c.channel == Channel::Chat).collect();
        let mean = chats.iter().map(|c| c.handle.0).sum::<u64>() as f64 / chats.len() as f64;
        assert!(
            (mean / 360_000.0 - 1.0).abs() < 0.05,
            "chat handle mean {mean}"
        );
    }

    #[test]
    fn poisson_arrivals_have_the_asked_rate() {
        let contacts = poisson(600.0, 10.0, Span::mins(5), Ts(0), 1);
        assert!((contacts.len() as f64 / 6000.0 - 1.0).abs() < 0.05);
        let mean = contacts.iter().map(|c| c.handle.0).sum::<u64>() as f64 / contacts.len() as f64;
        assert!((mean / 300_000.0 - 1.0).abs() < 0.05);
    }
}
