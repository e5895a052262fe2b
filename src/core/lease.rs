//! Leases: which agent may act on a ticket now. A ticket keeps a `Tenure` (its holder, if any,
//! and the current `Epoch`); an agent acting on it presents a `Lease` (itself and the epoch it
//! was granted). The epoch moves on every change of holder, so a lease that was released,
//! expired or taken back goes stale and stays stale even if the same agent gets the ticket
//! again. `Tenure`'s methods are the only places an epoch moves or is compared.

use super::types::AgentId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A lease generation of one ticket: 0 before the first grant, then one more on every grant
/// and every revocation. Persisted as a plain number (the record format predates this type).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Epoch(u64);

impl Epoch {
    /// The epoch a caller names (as the wire carries it).
    pub const fn new(n: u64) -> Epoch {
        Epoch(n)
    }

    pub const fn get(self) -> u64 {
        self.0
    }

    /// The epoch after this one; saturates rather than wrapping back to a granted one.
    fn next(self) -> Epoch {
        Epoch(self.0.saturating_add(1))
    }
}

impl From<u64> for Epoch {
    fn from(n: u64) -> Epoch {
        Epoch(n)
    }
}

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The claim an agent presents to act on a ticket: itself and the epoch it was granted.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Lease {
    pub agent: AgentId,
    pub epoch: Epoch,
}

/// What a ticket keeps about its lease: who holds it now (if anyone) and the current epoch.
/// Serialized as its two fields in order, exactly as the ticket record's former `assignee` and
/// `lease_epoch` fields, so existing records decode unchanged.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tenure {
    holder: Option<AgentId>,
    epoch: Epoch,
}

impl Tenure {
    /// The agent holding the ticket now.
    pub fn holder(&self) -> Option<&AgentId> {
        self.holder.as_ref()
    }

    /// The current epoch: the one granted to the holder, or the one after the last revocation.
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// Hands the ticket to `agent` under a new epoch, which it returns.
    pub(super) fn grant(&mut self, agent: AgentId) -> Epoch {
        self.holder = Some(agent);
        self.epoch = self.epoch.next();
        self.epoch
    }

    /// Takes the ticket off its holder, if any; the epoch moves on so the holder's lease goes
    /// stale. Without a holder nothing changes. Returns the former holder.
    pub(super) fn revoke(&mut self) -> Option<AgentId> {
        let agent = self.holder.take()?;
        self.epoch = self.epoch.next();
        Some(agent)
    }

    /// Whether `lease` is the current one: its agent holds the ticket at its epoch.
    pub fn holds(&self, lease: &Lease) -> bool {
        self.is_held(&lease.agent, lease.epoch)
    }

    /// Whether `agent` holds the ticket at `epoch`.
    pub fn is_held(&self, agent: &AgentId, epoch: Epoch) -> bool {
        self.holder.as_ref() == Some(agent) && self.epoch == epoch
    }

    /// Whether `lease`'s epoch is the one the last revocation ended: the epoch just before the
    /// current one (a resolve revokes exactly once). Who held it is not recorded, so only the
    /// epoch is compared.
    pub fn ended(&self, lease: &Lease) -> bool {
        lease.epoch.0.checked_add(1) == Some(self.epoch.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_and_revoke_move_the_epoch_once_each() {
        let (a, b) = (AgentId::new("a"), AgentId::new("b"));
        let mut t = Tenure::default();
        assert_eq!(t.revoke(), None, "nothing to revoke");
        assert_eq!(t.epoch(), Epoch::new(0));
        let first = Lease {
            agent: a.clone(),
            epoch: t.grant(a.clone()),
        };
        assert_eq!(first.epoch, Epoch::new(1));
        assert!(t.holds(&first));
        assert!(!t.holds(&Lease {
            agent: b.clone(),
            epoch: first.epoch,
        }));
        assert_eq!(t.revoke(), Some(a.clone()));
        assert!(!t.holds(&first), "a revoked lease is stale");
        assert!(t.ended(&first));
        let second = t.grant(a.clone());
        assert_eq!(second, Epoch::new(3));
        assert!(!t.holds(&first), "the same agent again gets a new epoch");
        assert!(t.is_held(&a, second));
    }

    /// Ticket records from before this type held `assignee: Option<AgentId>` then
    /// `lease_epoch: u64`; postcard writes a struct as its fields in order, so a `Tenure` in
    /// their place must read and write exactly those bytes.
    #[test]
    fn tenure_has_the_record_bytes_of_the_former_assignee_and_lease_epoch() {
        let mut held = Tenure::default();
        held.grant(AgentId::new("ann"));
        held.revoke();
        held.grant(AgentId::new("bob"));
        for (tenure, old) in [
            (Tenure::default(), (None, 0u64)),
            (held, (Some(AgentId::new("bob")), 3u64)),
        ] {
            let bytes = postcard::to_allocvec(&old).expect("encodes");
            assert_eq!(postcard::to_allocvec(&tenure).expect("encodes"), bytes);
            let read: Tenure = postcard::from_bytes(&bytes).expect("old bytes decode");
            assert_eq!(read, tenure);
        }
        assert_eq!(
            postcard::to_allocvec(&Epoch::new(300)).expect("encodes"),
            postcard::to_allocvec(&300u64).expect("encodes")
        );
    }
}
