//! The traffic model of DOMAIN.md, shared by `triage bench` and the criterion benches:
//! the channel mix (messenger 42 %, chat 28 %, email 15 %, phone 10 %, social 5 %), the tier mix
//! (VIP 20 %, new 10 %), tickets needing a language and often a product, and agents speaking one
//! or two of four languages and handling two or three of five products, a quarter of them not
//! serving VIPs. Deterministic: the same seed gives the same traffic.

use crate::core::command::{AgentProfile, NewTicket};
use crate::core::types::{AgentId, Channel, Priority, Sentiment, Skill, SkillSet, Tier};

pub const LANGUAGES: [&str; 4] = ["en", "de", "fr", "es"];
pub const PRODUCTS: [&str; 5] = ["billing", "delivery", "returns", "payments", "booking"];

/// A small deterministic generator (xorshift64).
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is replaced: xorshift has no zero state).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> usize {
        (self.next_u64() % n) as usize
    }
}

pub fn channel(r: &mut Rng) -> Channel {
    match r.below(100) {
        0..=41 => Channel::Messenger,
        42..=69 => Channel::Chat,
        70..=84 => Channel::Email,
        85..=94 => Channel::Phone,
        _ => Channel::Social,
    }
}

pub fn tier(r: &mut Rng) -> Tier {
    match r.below(100) {
        0..=19 => Tier::Vip,
        20..=29 => Tier::New,
        _ => Tier::Standard,
    }
}

/// Ticket number `n` of the mix.
pub fn ticket(r: &mut Rng, n: u64) -> NewTicket {
    let mut skills = vec![Skill::new(LANGUAGES[r.below(4)])];
    if r.below(2) == 0 {
        skills.push(Skill::new(PRODUCTS[r.below(5)]));
    }
    NewTicket {
        request_id: String::new(),
        external_id: format!("bench-{n}"),
        customer_id: format!("customer-{}", r.below(50_000)),
        tier: tier(r),
        channel: channel(r),
        priority: [
            Priority::Low,
            Priority::Normal,
            Priority::Normal,
            Priority::High,
        ][r.below(4)],
        skills: SkillSet::new(skills),
        sentiment: if r.below(10) == 0 {
            Sentiment::Negative
        } else {
            Sentiment::Neutral
        },
        preferred_agent: None,
    }
}

/// Agent number `i` of the mix, with capacity `capacity` on every channel.
pub fn agent(r: &mut Rng, i: usize, capacity: u32) -> AgentProfile {
    let mut skills = vec![
        Skill::new(LANGUAGES[i % 4]),
        Skill::new(LANGUAGES[r.below(4)]),
    ];
    for _ in 0..2 + r.below(2) {
        skills.push(Skill::new(PRODUCTS[r.below(5)]));
    }
    let tiers = if i % 4 == 0 {
        vec![Tier::Standard, Tier::New]
    } else {
        vec![]
    };
    AgentProfile {
        id: AgentId::new(&format!("agent-{i}")),
        display_name: String::new(),
        skills: SkillSet::new(skills),
        tiers,
        capacity: [Some(capacity); Channel::COUNT],
    }
}
