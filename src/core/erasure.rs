//! Erasure: a customer's tickets lose what identifies the customer (the customer id and the
//! external id, which front ends often derive from the customer's address or handle) and keep
//! every SLA fact (tier, channel, clocks, times), so the desk's statistics do not change.
//!
//! Events carry ticket ids and routing facts, never customer or external ids, so the event
//! stream needs no rewriting: it stays gap-free, and an `Erased` event (a count, no id) records
//! that an erasure happened. The tombstone is the empty string, which no caller can send (both
//! ids are required identifiers), so an erased ticket is told apart and never collides.
//!
//! An erasure runs in steps so that none stalls the owner: each step erases the tickets in
//! memory and the archived ones the owner read back for it (`Erase::after` onwards, a bounded
//! number); the reply says where the next step starts. Every ticket is erased whole in the
//! commit of its step, so a crash between steps leaves some tickets erased and the others
//! intact, and repeating the erasure finishes it.

use super::command::{Erase, Reply};
use super::event::Event;
use super::model::Ticket;
use super::scheduler::Scheduler;
use super::types::TicketId;

impl Ticket {
    /// Whether the ticket's customer and external ids were erased.
    pub fn is_erased(&self) -> bool {
        self.external_id.is_empty()
    }
}

impl Scheduler {
    /// One step of `erase`: erases every ticket in memory whose customer is
    /// `erase.customer_id` (the archived ones the owner read back for this step among them).
    /// `next` is where the owner's next step starts, `None` when this is the last one: then
    /// the `Erased` event reports the whole erasure (none when it erased nothing: then nothing
    /// changed).
    pub fn erase_customer(&mut self, erase: &Erase, next: Option<TicketId>) -> Reply {
        let ids: Vec<TicketId> = self
            .tickets
            .iter()
            .filter(|t| *t.customer_id == *erase.customer_id)
            .map(|t| t.id)
            .collect();
        for &id in &ids {
            self.tickets.erase(id);
            self.mark(id);
        }
        let tickets = ids.len() as u64;
        let total = erase.erased_before + tickets;
        if next.is_none() && total > 0 {
            self.journal.events.push(Event::Erased { tickets: total });
        }
        Reply::Erased { tickets, next }
    }
}
