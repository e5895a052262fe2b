//! Reading archived tickets back for the commands that need them, and listings that span
//! memory and the archive (see `core::archive`).

use super::Owner;
use crate::core::archive::ArchiveScan;
use crate::core::command::{Command, Erase, Reply, TicketFilter};
use crate::core::model::Ticket;
use crate::core::types::TicketId;
use crate::core::types::Ts;
use crate::core::Scheduler;
use crate::server::handle::{Request, ServiceError, StoreFailure};
use crate::store::{Store, StoreError};

impl Owner {
    /// Reads from the archive what `cmd` may need (the tickets it names that left memory, the
    /// tickets holding the external ids it would create) and hands them to the scheduler for
    /// this batch. Most commands need nothing and cost one look at memory; a create costs one
    /// index lookup in the store. The reads are point lookups in sled's cache or a page or two
    /// from disk, done here rather than on a blocking thread: their order with the batch's
    /// commands matters, and they are far shorter than the commit that follows.
    pub(super) fn thaw_for(&mut self, cmd: &Command) -> Result<(), ServiceError> {
        let refs = self.scheduler.archive_refs(cmd);
        if refs.is_empty() {
            return Ok(());
        }
        let read = || -> Result<(), StoreError> {
            let mut ids = refs.tickets;
            for external_id in &refs.external_ids {
                match self.externals.get(external_id) {
                    Some(known) => ids.extend(*known),
                    None => ids.extend(self.store.archived_external(external_id)?),
                }
            }
            self.thaw_ids(ids)
        };
        read().map_err(|e| StoreFailure::Store(e).into())
    }

    /// Asks the archive about every external id the batch's creates will check, in one read
    /// before the batch is applied, so a batch of creates costs one read, not one each (a
    /// round trip each to PostgreSQL). Nothing is committed during a step, so the answers hold
    /// for the whole batch; `thaw_for` reads any id a command asks about that is not here. A
    /// failure leaves it to those reads.
    pub(super) fn prefetch_externals(&mut self, batch: &[Request]) {
        self.externals.clear();
        let mut wanted = Vec::new();
        for req in batch {
            if let Request::Call { cmd, .. } = req {
                wanted.extend(self.scheduler.archive_refs(cmd).external_ids);
            }
        }
        if wanted.len() < 2 {
            return;
        }
        match self.store.archived_externals(&wanted) {
            Ok(found) => {
                self.externals
                    .extend(wanted.into_iter().map(|external| (external, None)));
                for (external, id) in found {
                    self.externals.insert(external, Some(id));
                }
            }
            Err(e) => tracing::debug!(error = %e, "prefetching archive ids failed"),
        }
    }

    /// Reads the archived tickets `ids` (those the archive holds) into the scheduler for this
    /// batch.
    fn thaw_ids(&mut self, ids: Vec<TicketId>) -> Result<(), StoreError> {
        for id in ids {
            if let Some(ticket) = self.store.archived_ticket(id)? {
                self.scheduler.thaw(ticket);
            }
        }
        Ok(())
    }
}

/// At recovery, after `Scheduler::restore`: counts in the service-level window the archived
/// tickets that may have done something inside it; returns how many.
pub fn count_recent_archive(
    scheduler: &mut Scheduler,
    store: &dyn Store,
    now: Ts,
) -> Result<usize, StoreError> {
    let recent = store.archived_since(scheduler.archive_counted_from(now))?;
    for ticket in &recent {
        scheduler.count_archived(ticket);
    }
    Ok(recent.len())
}

/// The most archived tickets one step of an erasure reads back and erases.
const ERASE_STEP: usize = 500;

/// The most archived records one `ListTickets` call reads (a few milliseconds of the owner's
/// time): a selective filter over a large archive gets short pages with a next token rather
/// than stalling every other caller.
const LIST_SCAN: usize = 2_000;

impl Owner {
    /// A `ListTickets` page: from memory alone when no archived ticket can match (open
    /// states, a holder), else merged with the archive.
    pub(super) fn list_tickets(&mut self, f: &TicketFilter) -> Result<Reply, ServiceError> {
        let scan = match (&f.customer, f.may_match_archived()) {
            (_, false) => Ok(Vec::new()),
            (Some(customer), true) => self.customer_archive(customer, f.after),
            (None, true) => self.store.scan_archive(f.after, LIST_SCAN),
        };
        let tickets = scan.map_err(StoreFailure::Store)?;
        let complete = tickets.len() < LIST_SCAN;
        Ok(self
            .scheduler
            .list_with_archive(f, ArchiveScan { tickets, complete }))
    }

    /// Up to `LIST_SCAN` of the customer's archived tickets after `after`, through the
    /// customer index.
    fn customer_archive(
        &self,
        customer: &str,
        after: Option<TicketId>,
    ) -> Result<Vec<Ticket>, StoreError> {
        let ids = self.store.customer_tickets(customer, after, LIST_SCAN)?;
        let mut tickets = Vec::with_capacity(ids.len());
        for id in ids {
            tickets.extend(self.store.archived_ticket(id)?);
        }
        Ok(tickets)
    }

    /// One step of an erasure: reads back the customer's next archived tickets (a bounded
    /// number, from the customer index) and erases them with those in memory.
    pub(super) fn erase_step(&mut self, erase: &Erase) -> Result<Reply, ServiceError> {
        let mut read = || -> Result<Option<TicketId>, StoreError> {
            let ids = self
                .store
                .customer_tickets(&erase.customer_id, erase.after, ERASE_STEP)?;
            let next = (ids.len() == ERASE_STEP)
                .then(|| ids.last().copied())
                .flatten();
            self.thaw_ids(ids)?;
            Ok(next)
        };
        let next = read().map_err(StoreFailure::Store)?;
        Ok(self.scheduler.erase_customer(erase, next))
    }
}
