//! Finished tickets leave memory for the archive in the store, and come back for a batch when
//! a command needs them.
//!
//! A ticket is finished when nothing about it can still fall due: cancelled, or resolved with
//! its follow-up check-back met or its follow-up clock's whole escalation ladder fired (L3).
//! The owner moves finished tickets out with `archive_finished` right after `take_journal`,
//! so a ticket leaves memory in the same atomic commit as the change that finished it.
//!
//! The core never reads the store. Before applying a command, the owner asks `archive_refs`
//! which archived tickets and external ids the command could touch, reads those from the
//! store and hands the records to `thaw`. A thawed ticket behaves exactly as if it had never
//! left (a read sees it, `ReopenTicket` reopens it, a late check-back meets its follow-up, a
//! create with its external id is refused); at the next `archive_finished` it leaves memory
//! again, written anew only if it changed.

use super::command::{Command, NewTicket, Reply, TicketFilter};
use super::idempotency::Outcome;
use super::model::Ticket;
use super::scheduler::{Journal, Scheduler};
use super::types::{TicketId, TicketState, Ts};
use std::sync::Arc;

/// What applying a command may need from the archive: tickets (by id, only ids issued and not
/// in memory) and external ids of tickets to be created (only ones not in memory).
#[derive(Debug, Default, PartialEq)]
pub struct ArchiveRefs {
    pub tickets: Vec<TicketId>,
    pub external_ids: Vec<String>,
}

impl ArchiveRefs {
    pub fn is_empty(&self) -> bool {
        self.tickets.is_empty() && self.external_ids.is_empty()
    }
}

/// The archive entries of a ticket that was archived when read back and changed since: the
/// store deletes them (its record and index entries) before writing what the ticket is now.
#[derive(Clone, Debug, PartialEq)]
pub struct ArchivedKeys {
    pub id: TicketId,
    /// When it was archived: the record's `updated_at`, the key of the archive's time index.
    pub archived_at: Ts,
    pub external_id: Arc<str>,
    pub customer_id: Arc<str>,
}

impl Ticket {
    /// Nothing about the ticket can fall due any more: cancelled, or resolved with its
    /// follow-up met or escalated to the last step.
    pub fn is_finished(&self) -> bool {
        match self.state {
            TicketState::Cancelled => true,
            TicketState::Resolved => {
                self.follow_up_due_at.is_none()
                    && self
                        .follow_up
                        .as_ref()
                        .is_none_or(|c| c.is_met() || c.level.next().is_none())
            }
            _ => false,
        }
    }
}

impl Scheduler {
    /// The archived tickets and external ids `cmd` may need: see the module documentation.
    /// Pure and cheap: a command that names no ticket outside memory needs nothing.
    pub fn archive_refs(&self, cmd: &Command) -> ArchiveRefs {
        let mut refs = ArchiveRefs::default();
        self.collect_refs(cmd, &mut refs);
        refs.tickets.sort_unstable();
        refs.tickets.dedup();
        refs
    }

    fn collect_refs(&self, cmd: &Command, refs: &mut ArchiveRefs) {
        match cmd {
            Command::CreateTicket(new) => self.create_refs(new, refs),
            Command::CreateTickets(batch) => {
                for new in batch {
                    self.create_refs(new, refs);
                }
            }
            Command::Once { key, command } => {
                self.collect_refs(command, refs);
                self.ticket_ref(self.remembered_ticket(&key.id), refs);
            }
            other => self.ticket_ref(other.ticket(), refs),
        }
    }

    /// A create needs its external id checked against the archive, and a retry of it needs
    /// the ticket it created.
    fn create_refs(&self, new: &NewTicket, refs: &mut ArchiveRefs) {
        if self.tickets.by_external(&new.external_id).is_none() {
            refs.external_ids.push(new.external_id.clone());
        }
        self.ticket_ref(self.remembered_ticket(&new.request_id), refs);
    }

    /// Adds `id` if it was issued and is not in memory.
    fn ticket_ref(&self, id: Option<TicketId>, refs: &mut ArchiveRefs) {
        if let Some(id) = id.filter(|&id| id < self.tickets.next_id()) {
            if self.tickets.get(id).is_none() {
                refs.tickets.push(id);
            }
        }
    }

    /// The ticket a remembered request produced or changed, if any.
    fn remembered_ticket(&self, request_id: &str) -> Option<TicketId> {
        match self.requests.outcome(request_id)? {
            Outcome::Ticket(id) | Outcome::Assigned { ticket: id, .. } => Some(*id),
            Outcome::Agent(_) | Outcome::Policy => None,
        }
    }

    /// Brings an archived ticket's record back into memory for this batch. Calendars are
    /// derived from the policy in force, as at recovery. False (and nothing changes) when the
    /// ticket is in memory already or its id was never issued.
    pub fn thaw(&mut self, mut ticket: Ticket) -> bool {
        ticket.retarget(&self.policy);
        let record = ticket.clone();
        if !self.tickets.thaw(ticket) {
            return false;
        }
        // Its figures are in the service-level buckets already: noted, not counted again.
        self.recall_contribution(&record);
        self.warnings.update(&record);
        true
    }

    /// Moves the tickets that the journal's batch finished out of memory into
    /// `journal.archived`, names in `journal.unarchived` the archive entries of thawed tickets
    /// that changed, and lets thawed tickets that did not change leave memory unwritten. Call
    /// right after `take_journal`, before persisting the journal.
    pub fn archive_finished(&mut self, journal: &mut Journal) {
        let mut live = Vec::with_capacity(journal.tickets.len());
        for id in std::mem::take(&mut journal.tickets) {
            journal.unarchived.extend(self.tickets.changed_thawed(id));
            if self.tickets[id].is_finished() {
                self.forget_contribution(id);
                self.queues.remove(id);
                self.arm(id, None);
                self.warnings.forget(id);
                journal.archived.extend(self.tickets.take(id));
            } else {
                live.push(id);
            }
        }
        journal.tickets = live;
        for id in self.tickets.take_thawed() {
            self.arm(id, None);
            self.warnings.forget(id);
            self.tickets.take(id);
        }
    }
}

/// Archived records read for a listing: up to some number of them in id order after the
/// listing's `after`, and whether that reached the end of the archive.
#[derive(Debug, Default)]
pub struct ArchiveScan {
    pub tickets: Vec<Ticket>,
    pub complete: bool,
}

impl Scheduler {
    /// A page of `ListTickets` over memory and the archive, in id order. `scan` holds the
    /// archived records after `f.after`; when it did not reach the end of the archive, the
    /// page stops at its last record (a short page with a next token: the rest comes on the
    /// next call), so no ticket is skipped. A ticket both thawed in memory and in the scan
    /// appears once, as memory has it.
    pub fn list_with_archive(&self, f: &TicketFilter, scan: ArchiveScan) -> Reply {
        let scanned_to = (!scan.complete)
            .then(|| scan.tickets.last().map(|t| t.id))
            .flatten();
        let within = |t: &&Ticket| scanned_to.is_none_or(|end| t.id <= end);
        let live = self
            .tickets
            .iter_after(f.after)
            .filter(|t| f.matches(t))
            .take_while(|t| within(t));
        let archived = scan
            .tickets
            .iter()
            .filter(|t| f.matches(t) && self.tickets.get(t.id).is_none());
        let mut merged: Vec<&Ticket> = live.take(f.limit + 1).collect();
        merged.extend(archived.take(f.limit + 1));
        merged.sort_unstable_by_key(|t| t.id);
        let more = merged.len() > f.limit;
        merged.truncate(f.limit);
        let tickets: Vec<Ticket> = merged.into_iter().cloned().collect();
        let next = match (more, scanned_to) {
            (true, _) => tickets.last().map(|t| t.id),
            (false, Some(end)) => Some(end),
            (false, None) => None,
        };
        Reply::Tickets { tickets, next }
    }
}
