//! Forcing turns, for the `savable_turns` order: which agents take forced tickets (late ones
//! whose escalation reached `force_level`) before savable work at a given instant.
//!
//! Under `savable_first` every agent does, always, and when the desk is short for hours that
//! hands the agents back to late work: every ticket left late comes back at its forcing level
//! and goes first, so the tickets behind it go late too, and the domino effect that
//! `savable_first` was made to stop returns a forcing level later. With turns, an agent takes
//! forced tickets first only every other minute (its turn), and the other minute treats them as
//! late work (after savable tickets, before other late ones). At any instant about half the
//! agents are on their turn, so forced work gets about half of the agents that free up and
//! savable work the rest; every agent's turn comes back within a minute, so a forced ticket
//! still waits only for an eligible agent with room (see `QueueOrder::SavableTurns`).
//!
//! Pure and stateless: the turn is a function of the agent's id and `now`, the same on every
//! replica and after a restart.

use super::types::{AgentId, Span, Ts};

/// How long a turn lasts: an agent takes forced tickets first for one `TURN`, then not for the
/// next, and so on.
pub const TURN: Span = Span::mins(1);

/// Whether `agent` takes forced tickets before savable ones at `now`. Agents are split in two
/// halves by a hash of their id that does not depend on the process (FNV-1a), so that half of
/// a team is on its turn while the other half is not.
pub fn forcing_turn(agent: &AgentId, now: Ts) -> bool {
    let minute = now.0.div_euclid(TURN.0 as i64);
    (minute + i64::from(half(agent))).rem_euclid(2) == 0
}

/// 0 or 1: the agent's half of the team.
fn half(agent: &AgentId) -> u8 {
    let hash = agent
        .as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    (hash & 1) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_agent_takes_a_turn_every_other_minute() {
        let agent = AgentId::new("ana");
        let turns: Vec<bool> = (0..4)
            .map(|m| forcing_turn(&agent, Ts(m * TURN.0 as i64 + 30_000)))
            .collect();
        assert!(turns == [true, false, true, false] || turns == [false, true, false, true]);
    }

    #[test]
    fn about_half_the_agents_are_on_their_turn_at_once() {
        let on = (0..1000)
            .filter(|i| forcing_turn(&AgentId::new(&format!("agent-{i}")), Ts(0)))
            .count();
        assert!((400..=600).contains(&on), "{on} of 1000 on their turn");
    }
}
