//! Finished tickets leave memory and come back for the commands that need them.

use super::depth::resolved_email;
use super::*;
use crate::core::scheduler::Journal;

impl Sim {
    /// What the owner does after a batch: take the journal and archive what finished.
    fn archive(&mut self) -> Journal {
        let mut journal = self.s.take_journal();
        self.s.archive_finished(&mut journal);
        journal
    }

    fn cancel(&mut self, id: TicketId) {
        self.apply(Command::Cancel {
            ticket: id,
            reason: CancelReason::Duplicate,
        })
        .expect("cancel");
    }
}

#[test]
fn a_finished_ticket_leaves_memory_in_the_batch_that_finished_it() {
    let mut sim = Sim::new();
    let a = sim.create(Tier::Standard, Channel::Email, &[]);
    let b = sim.create(Tier::Standard, Channel::Email, &[]);
    sim.archive();
    sim.cancel(a);
    let journal = sim.archive();
    assert_eq!(journal.tickets, Vec::<TicketId>::new(), "nothing left live");
    assert_eq!(journal.archived.len(), 1);
    assert_eq!(journal.archived[0].id, a);
    assert_eq!(journal.archived[0].state, TicketState::Cancelled);
    assert!(journal.has_writes());
    assert_eq!(sim.s.ticket_count(), 1);
    assert!(sim.s.ticket(a).is_none() && sim.s.ticket(b).is_some());
    let c = sim.create(Tier::Standard, Channel::Email, &[]);
    assert_eq!(c, TicketId(3), "numbering goes on past archived tickets");
}

#[test]
fn a_resolved_ticket_stays_until_its_follow_up_is_met_or_fully_escalated() {
    let mut sim = Sim::new();
    let id = resolved_email(&mut sim);
    assert!(
        sim.archive().archived.is_empty(),
        "its follow-up still runs"
    );
    sim.apply(Command::RecordFollowUp {
        ticket: id,
        agent: None,
    })
    .expect("follow-up");
    assert_eq!(sim.archive().archived.len(), 1, "met: finished");

    let late = resolved_email(&mut sim);
    sim.archive();
    sim.advance(Span::hours(100));
    assert!(
        sim.archive().archived.is_empty(),
        "L1 and L2 fired, L3 not yet"
    );
    sim.advance(Span::hours(100));
    let journal = sim.archive();
    assert_eq!(
        journal.archived.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![late]
    );
    assert_eq!(sim.s.next_deadline(), None, "no timer is left for it");
}

#[test]
fn archive_refs_name_what_is_outside_memory_and_nothing_else() {
    let mut sim = Sim::new();
    let first = sim.new_ticket(Tier::Standard, Channel::Email, &[]);
    let first = NewTicket {
        first_skill: 0,
        request_id: "create-1".into(),
        ..first
    };
    let a = sim.create_with(first.clone());
    let live = sim.create(Tier::Standard, Channel::Email, &[]);
    sim.cancel(a);
    sim.archive();
    let refs = |sim: &Sim, cmd: Command| sim.s.archive_refs(&cmd);
    assert_eq!(refs(&sim, Command::GetTicket(a)).tickets, vec![a]);
    assert!(refs(&sim, Command::GetTicket(live)).is_empty());
    assert!(
        refs(&sim, Command::GetTicket(TicketId(99))).is_empty(),
        "never issued"
    );
    let retry = refs(&sim, Command::CreateTicket(first));
    assert_eq!(
        retry.tickets,
        vec![a],
        "a retried create needs what it made"
    );
    assert_eq!(retry.external_ids, vec!["ext-1".to_string()]);
    let once = Command::Reopen { ticket: a }.once("r-1".into());
    assert_eq!(refs(&sim, once).tickets, vec![a]);
    let new = sim.new_ticket(Tier::Vip, Channel::Chat, &[]);
    let fresh = refs(&sim, Command::CreateTickets(vec![new]));
    assert_eq!((fresh.tickets, fresh.external_ids.len()), (vec![], 1));
}

#[test]
fn a_thawed_ticket_is_read_reopened_or_dropped_again() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Email, &[]);
    sim.cancel(id);
    let record = sim.archive().archived.remove(0);

    // Read and unchanged: it leaves memory again and nothing is written.
    assert!(sim.s.thaw(record.clone()));
    assert!(!sim.s.thaw(record.clone()), "in memory already");
    assert!(sim.apply(Command::GetTicket(id)).is_ok());
    let journal = sim.archive();
    assert!(journal.is_empty(), "{journal:?}");
    assert!(sim.s.ticket(id).is_none());

    // A create with its external id is refused while it is thawed.
    sim.s.thaw(record.clone());
    let mut dup = sim.new_ticket(Tier::Standard, Channel::Email, &[]);
    dup.external_id = record.external_id.to_string();
    assert!(matches!(
        sim.apply(Command::CreateTicket(dup)),
        Err(CoreError::ExternalIdTaken { ticket, .. }) if ticket == id
    ));
    sim.archive();
}

#[test]
fn reopening_an_archived_ticket_brings_it_back_to_memory_and_drops_its_archive_entries() {
    let mut sim = Sim::new();
    let id = resolved_email(&mut sim);
    sim.apply(Command::RecordFollowUp {
        ticket: id,
        agent: None,
    })
    .expect("follow-up");
    let record = sim.archive().archived.remove(0);
    let archived_at = record.updated_at;
    sim.advance(Span::hours(2));
    assert!(sim.s.thaw(record));
    sim.apply(Command::Reopen { ticket: id }).expect("reopen");
    let journal = sim.archive();
    assert_eq!(journal.tickets, vec![id], "written as a live ticket");
    assert!(journal.archived.is_empty());
    assert_eq!(journal.unarchived.len(), 1);
    assert_eq!(
        (journal.unarchived[0].id, journal.unarchived[0].archived_at),
        (id, archived_at)
    );
    assert_eq!(sim.s.ticket(id).map(|t| t.state), Some(TicketState::Queued));
    assert_eq!(sim.s.queued_count(), 1);
}

#[test]
fn a_listing_merges_memory_and_archive_in_id_order_and_stops_where_the_scan_stopped() {
    use crate::core::archive::ArchiveScan;
    let mut sim = Sim::new();
    let ids: Vec<TicketId> = (0..6)
        .map(|_| sim.create(Tier::Standard, Channel::Email, &[]))
        .collect();
    for &id in &[ids[0], ids[2], ids[3]] {
        sim.cancel(id);
    }
    let archived = sim.archive().archived;
    let all = TicketFilter {
        limit: 10,
        ..Default::default()
    };
    let page = |sim: &Sim, f: &TicketFilter, tickets: Vec<Ticket>, complete: bool| match sim
        .s
        .list_with_archive(f, ArchiveScan { tickets, complete })
    {
        Reply::Tickets { tickets, next } => {
            (tickets.iter().map(|t| t.id.0).collect::<Vec<_>>(), next)
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(
        page(&sim, &all, archived.clone(), true),
        (vec![1, 2, 3, 4, 5, 6], None)
    );
    // The scan read two records of a longer archive: the page ends at the second.
    assert_eq!(
        page(&sim, &all, archived[..2].to_vec(), false),
        (vec![1, 2, 3], Some(TicketId(3)))
    );
    let cancelled = TicketFilter {
        state: Some(TicketState::Cancelled),
        limit: 2,
        ..Default::default()
    };
    assert_eq!(
        page(&sim, &cancelled, archived.clone(), true),
        (vec![1, 3], Some(TicketId(3)))
    );
    // A ticket thawed for this batch is listed once.
    sim.s.thaw(archived[1].clone());
    assert_eq!(page(&sim, &all, archived, true).0, vec![1, 2, 3, 4, 5, 6]);
}

/// A store written before the archive existed holds finished tickets among the live records:
/// the first commit after the boot archives them.
#[test]
fn finished_tickets_restored_from_live_records_are_archived_by_the_first_commit() {
    let mut sim = Sim::new();
    let done = sim.create(Tier::Standard, Channel::Email, &[]);
    let open = sim.create(Tier::Standard, Channel::Email, &[]);
    sim.cancel(done);
    let records = Recovered {
        tickets: vec![sim.ticket(done).clone(), sim.ticket(open).clone()],
        last_ticket: open.0,
        ..Default::default()
    };
    let mut s = super::restart_from(records, sim.now);
    let mut journal = s.take_journal();
    s.archive_finished(&mut journal);
    assert_eq!(
        journal.archived.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![done]
    );
    assert!(
        journal.tickets.is_empty(),
        "the open ticket was not changed"
    );
    assert_eq!(s.ticket_count(), 1);
}
