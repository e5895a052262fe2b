//! The universe the test plays in: four agents with two profiles each, a ghost, skill sets
//! and channels.

use super::*;

/// Agents a0..a3 exist from the start; index 4 is an id the core never heard of.
pub(super) const GHOST: u8 = 4;
pub(super) const NAMES: [&str; 5] = ["a0", "a1", "a2", "a3", "ghost"];
pub(super) const SKILL_SETS: [&[&str]; 7] = [
    &[],
    &["en"],
    &["de"],
    &["billing"],
    &["billing", "en"],
    &["de", "returns"],
    &["billing", "de"],
];
pub(super) const CHANNELS: [Channel; 4] = [
    Channel::Chat,
    Channel::Messenger,
    Channel::Email,
    Channel::Phone,
];

/// The presence TTL and default capacities of the default policy and config, as the model
/// knows them (chat, messenger, email, phone, social, review).
pub(super) const TTL: i64 = 30_000;
/// The preferred-agent hold window of the default policy: how long a reopened ticket waits for
/// the agent who resolved it.
pub(super) const HOLD: i64 = 60_000;
pub(super) const DEFAULT_CAPACITY: [u32; 6] = [3, 3, 5, 1, 2, 5];

pub(super) struct Profile {
    pub(super) skills: &'static [&'static str],
    pub(super) tiers: &'static [Tier],
    pub(super) capacity: [Option<u32>; 6],
}

/// Agent `i`'s profile A (`false`) or B (`true`).
pub(super) fn profile(i: usize, variant: bool) -> Profile {
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
