//! Record layout. Keys are a one-byte kind and a big-endian or raw id, so scans come out in
//! id order. Values are a version byte then postcard bytes: a release that changes a record
//! adds a version and keeps reading the old ones.

use super::StoreError;
use crate::core::activity::Activity;
use crate::core::event::{Actor, Event, Recorded};
use crate::core::idempotency::{Idempotency, IdempotencyV1};
use crate::core::model::{Agent, Ticket};
use crate::core::offer::Offers;
use crate::core::policy::SlaPolicy;
use crate::core::proficiency::{Levels, Needs};
use crate::core::scheduler::{Journal, Scheduler};
use crate::core::types::{AgentId, TicketId, Ts};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

pub const TICKET: u8 = b't';
pub const AGENT: u8 = b'a';
pub const IDEMPOTENCY: u8 = b'r';
pub const POLICY: u8 = b'p';
/// One event per record, by sequence: what earlier releases wrote. Still read and pruned;
/// all their sequences are below those of any `EVENTS` record.
pub const EVENT: u8 = b'e';
/// The events of one group commit as one record, keyed by the first one's sequence
/// (big-endian): a commit of creates writes about half the records it wrote with one per
/// event.
pub const EVENTS: u8 = b'E';
/// The most events one `EVENTS` record holds. A commit can hold many more (a batch of batch
/// creates); split, a read from inside one (a watcher's page is 1024) or a prune decodes a
/// bounded record, and no record holds more events than a prune's limit.
pub const EVENTS_PER_RECORD: usize = 1024;
/// Finished tickets (the archive), by id: the same record as `TICKET`.
pub const ARCHIVE: u8 = b'A';
/// The archive's external-id index: external id to ticket id.
pub const ARCHIVE_EXTERNAL: u8 = b'X';
/// The archive's customer index: customer id (length-prefixed) and ticket id, no value.
pub const ARCHIVE_CUSTOMER: u8 = b'C';
/// The archive's time index: when archived and ticket id, no value (retention's order).
pub const ARCHIVE_TIME: u8 = b'F';
/// The store's health probe: one key rewritten to test that writes work again.
pub const PROBE: u8 = b'h';
/// How many tickets and requests were in memory at the last commit (`LiveCounts`): one key.
pub const COUNTS: u8 = b'n';
/// Webhooks (`core::webhook::Webhook`, version 1), by id: definition and delivery cursor.
pub const WEBHOOK: u8 = b'w';

/// The version of ticket and agent records, of event records (both kinds) and policy records
/// as first written.
pub const VERSION: u8 = 1;
/// The version of event records (both kinds) since each event carries who caused it and
/// under which lease epoch (`Recorded::actor`, `epoch`). Version 1 records still read, as
/// caused by `unknown` under no epoch.
pub const EVENT_VERSION: u8 = 2;
/// The version of ticket records (live and archived) since a ticket keeps which skill the
/// client listed first and who resolved it (`Ticket::first_skill`, `resolved_by`).
pub const TICKET_V2: u8 = 2;
/// The version of ticket records since a ticket keeps its offers and its minimum levels and
/// optional skills (`Ticket::offers`, `needs`: its last fields).
pub const TICKET_VERSION: u8 = 3;
/// The version of agent records since an agent keeps its missed offers in a row, its
/// `activity` and its skill levels (`Agent::missed_offers`, `activity`, `levels`: its last
/// persisted fields).
pub const AGENT_VERSION: u8 = 2;
/// The version of policy records since the policy has `order` and `force_level`.
pub const POLICY_V2: u8 = 2;
/// The version of policy records since the policy has `offers`, `presence` (wrap-up,
/// reasons), `select` and `rings`.
pub const POLICY_V3: u8 = 3;
/// The version of policy records since the policy has `fifo_bound`: its last field.
pub const POLICY_VERSION: u8 = 4;
/// The version of idempotency records: 2 since every mutating call takes a `request_id`.
pub const IDEMPOTENCY_VERSION: u8 = 2;
/// Idempotency records as first written (creates only, no time): still read.
pub const IDEMPOTENCY_V1: u8 = 1;

/// Encoded records of one group commit, written atomically: keys deleted, then (key, value)
/// pairs written (so a key both deleted and written ends up written).
#[derive(Debug, Default)]
pub struct Batch {
    pub removals: Vec<Vec<u8>>,
    pub records: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.removals.is_empty()
    }
    pub fn len(&self) -> usize {
        self.records.len() + self.removals.len()
    }

    /// Encodes everything a journal says changed, reading the records of tickets and agents
    /// still in memory from the scheduler. A ticket the batch finished moves from the live
    /// records to the archive (record and index entries); one read back from the archive and
    /// changed loses its old archive entries first.
    pub fn from_journal(journal: &Journal, scheduler: &Scheduler) -> Batch {
        let mut records = Vec::with_capacity(
            journal.tickets.len()
                + 4 * journal.archived.len()
                + journal.agents.len()
                + journal.idempotency.len()
                + 1,
        );
        let mut removals: Vec<Vec<u8>> = journal
            .expired_requests
            .iter()
            .map(|id| key(IDEMPOTENCY, id.as_bytes()))
            .collect();
        for &id in &journal.tickets {
            if let Some(t) = scheduler.ticket(id) {
                records.push((ticket_key(id.0), encode_ticket(t)));
            }
        }
        for k in &journal.unarchived {
            removals.extend(archive_keys(
                k.id,
                k.archived_at,
                &k.external_id,
                &k.customer_id,
            ));
        }
        for t in &journal.archived {
            removals.push(ticket_key(t.id.0));
            let [record, time, external, customer] =
                archive_keys(t.id, t.updated_at, &t.external_id, &t.customer_id);
            records.push((record, encode_ticket(t)));
            records.push((time, Vec::new()));
            // An erased ticket has no ids to find it by.
            if !t.is_erased() {
                records.push((external, t.id.0.to_be_bytes().to_vec()));
                records.push((customer, Vec::new()));
            }
        }
        for id in &journal.agents {
            if let Some(a) = scheduler.agent(id) {
                records.push((key(AGENT, id.as_str().as_bytes()), encode_agent(a)));
            }
        }
        for (request_id, entry) in &journal.idempotency {
            let value = encode_version(IDEMPOTENCY_VERSION, entry);
            records.push((key(IDEMPOTENCY, request_id.as_bytes()), value));
        }
        for id in &journal.webhooks {
            let k = key(WEBHOOK, id.as_bytes());
            match scheduler.webhook(id) {
                Some(hook) => records.push((k, encode(hook))),
                None => removals.push(k),
            }
        }
        if journal.policy {
            records.push((
                vec![POLICY],
                encode_version(POLICY_VERSION, scheduler.policy()),
            ));
        }
        Batch { removals, records }
    }

    /// Adds the live counts record (see `LiveCounts`).
    pub fn push_counts(&mut self, counts: LiveCounts) {
        self.records.push((vec![COUNTS], encode(&counts)));
    }

    /// Adds a commit's numbered events (consecutive sequences) as `EVENTS` records, one per
    /// `EVENTS_PER_RECORD`, written in the same atomic batch as the changes they report;
    /// nothing when there are none.
    pub fn push_events(&mut self, events: &[Recorded]) {
        for chunk in events.chunks(EVENTS_PER_RECORD) {
            if let Some(first) = chunk.first() {
                let value = encode_version(EVENT_VERSION, &chunk);
                self.records.push((events_key(first.seq), value));
            }
        }
    }
}

/// How many tickets and remembered requests the scheduler held after the last commit that
/// changed anything (record version 1): what recovery sizes its tables by, so they do not grow
/// (rehash, and fault in fresh memory) a million times over. Only a hint: a store written
/// before it existed has none, and recovery is right whatever it says.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveCounts {
    pub tickets: u64,
    pub requests: u64,
}

impl LiveCounts {
    pub fn of(scheduler: &Scheduler) -> LiveCounts {
        LiveCounts {
            tickets: scheduler.ticket_count() as u64,
            requests: scheduler.requests().len() as u64,
        }
    }

    /// Whether either count moved by more than a sixteenth (or by more than 64) from `last`:
    /// a hint that close is as good as exact, so the owner rewrites it only then, not with
    /// every commit.
    pub fn drifted_from(self, last: LiveCounts) -> bool {
        let moved = |now: u64, then: u64| now.abs_diff(then) > (then / 16).max(64);
        moved(self.tickets, last.tickets) || moved(self.requests, last.requests)
    }
}

pub fn key(kind: u8, id: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + id.len());
    k.push(kind);
    k.extend_from_slice(id);
    k
}

pub fn ticket_key(id: u64) -> Vec<u8> {
    key(TICKET, &id.to_be_bytes())
}

/// An archived ticket's keys: its record, its time-index entry, its external-id entry and its
/// customer entry.
pub fn archive_keys(id: TicketId, at: Ts, external_id: &str, customer_id: &str) -> [Vec<u8>; 4] {
    [
        key(ARCHIVE, &id.0.to_be_bytes()),
        archive_time_key(at, id),
        key(ARCHIVE_EXTERNAL, external_id.as_bytes()),
        customer_key(customer_id, id),
    ]
}

/// The external ids `batch` writes to the archive's index.
pub fn external_ids(batch: &Batch) -> impl Iterator<Item = &[u8]> {
    batch
        .records
        .iter()
        .filter_map(|(k, _)| k.split_first())
        .filter(|(&kind, _)| kind == ARCHIVE_EXTERNAL)
        .map(|(_, id)| id)
}

/// The time-index key: big-endian milliseconds (times before 1970 count as 0) then the id,
/// so a scan comes out oldest first.
pub fn archive_time_key(at: Ts, id: TicketId) -> Vec<u8> {
    let mut k = Vec::with_capacity(17);
    k.push(ARCHIVE_TIME);
    k.extend_from_slice(&u64::try_from(at.0).unwrap_or(0).to_be_bytes());
    k.extend_from_slice(&id.0.to_be_bytes());
    k
}

/// The prefix of one customer's entries in the customer index: the id's length first, so no
/// customer id is a prefix of another's entries.
pub fn customer_prefix(customer_id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(3 + customer_id.len() + 8);
    k.push(ARCHIVE_CUSTOMER);
    let len = u16::try_from(customer_id.len()).unwrap_or(u16::MAX);
    k.extend_from_slice(&len.to_be_bytes());
    k.extend_from_slice(customer_id.as_bytes());
    k
}

/// One customer's entries in the customer index above `after` (all of them for `None`): the
/// prefix they share, and the key the first of them is at or after.
pub fn customer_entries_after(customer_id: &str, after: Option<TicketId>) -> (Vec<u8>, Vec<u8>) {
    let from = after.map_or(0, |id| id.0.saturating_add(1));
    let start = customer_key(customer_id, TicketId(from));
    (customer_prefix(customer_id), start)
}

fn customer_key(customer_id: &str, id: TicketId) -> Vec<u8> {
    let mut k = customer_prefix(customer_id);
    k.extend_from_slice(&id.0.to_be_bytes());
    k
}

pub fn event_key(seq: u64) -> Vec<u8> {
    key(EVENT, &seq.to_be_bytes())
}

/// The key of the `EVENTS` record whose first event is `seq`.
pub fn events_key(seq: u64) -> Vec<u8> {
    key(EVENTS, &seq.to_be_bytes())
}

/// The events of one record of either kind and version, oldest first, never none: an `EVENT`
/// record holds one, an `EVENTS` record those of a commit, the first one's sequence in its key.
pub fn decode_events(key: &[u8], value: &[u8]) -> Result<Vec<Recorded>, StoreError> {
    let single = key.first() == Some(&EVENT);
    let events: Vec<Recorded> = match (value.split_first(), single) {
        (Some((&VERSION, body)), true) => vec![body_of::<RecordedV1>(key, body)?.upgrade()],
        (Some((&VERSION, body)), false) => body_of::<Vec<RecordedV1>>(key, body)?
            .into_iter()
            .map(RecordedV1::upgrade)
            .collect(),
        (Some((&EVENT_VERSION, body)), true) => vec![body_of(key, body)?],
        (Some((&EVENT_VERSION, body)), false) => body_of(key, body)?,
        (other, _) => return Err(unknown_version(key, other)),
    };
    if single {
        return Ok(events);
    }
    match events.first() {
        Some(first) if key.get(1..) == Some(&first.seq.to_be_bytes()[..]) => Ok(events),
        Some(first) => Err(corrupt(key, format!("first event is {}", first.seq))),
        None => Err(corrupt(key, "no events".into())),
    }
}

/// An event as version 1 records hold it: before actors and epochs.
#[derive(Serialize, Deserialize)]
struct RecordedV1 {
    seq: u64,
    at: Ts,
    event: Event,
}

impl RecordedV1 {
    /// Who caused it was not recorded: `unknown`, under no epoch.
    fn upgrade(self) -> Recorded {
        Recorded {
            seq: self.seq,
            at: self.at,
            event: self.event,
            actor: Actor::unknown(),
            epoch: None,
        }
    }
}

/// A big-endian id (a ticket id in a key or an index value).
pub fn id_of(key: &[u8], bytes: &[u8]) -> Result<u64, StoreError> {
    let bytes: [u8; 8] = bytes
        .try_into()
        .map_err(|_| corrupt(key, format!("an id of {} bytes, not 8", bytes.len())))?;
    Ok(u64::from_be_bytes(bytes))
}

pub fn encode<T: Serialize>(record: &T) -> Vec<u8> {
    encode_version(VERSION, record)
}

/// A ticket record (live or archived), as `TICKET_VERSION`.
pub fn encode_ticket(ticket: &Ticket) -> Vec<u8> {
    encode_version(TICKET_VERSION, ticket)
}

/// An agent record, as `AGENT_VERSION`.
pub fn encode_agent(agent: &Agent) -> Vec<u8> {
    encode_version(AGENT_VERSION, agent)
}

pub fn encode_version<T: Serialize>(version: u8, record: &T) -> Vec<u8> {
    let mut out = vec![version];
    // Serializing plain in-memory structs to a Vec cannot fail for postcard (no I/O, no
    // unsupported types in our records); an error here is a programming error.
    out.extend(postcard::to_allocvec(record).expect("records always serialize"));
    out
}

/// A record of any kind. Under a ticket key (`TICKET`, `ARCHIVE`) a version 1 record is a
/// ticket without `first_skill`, `resolved_by`, `offers` and `needs`, its last fields, and a
/// version 2 one lacks `offers` and `needs`; postcard writes a struct as its fields one after the other, so the old
/// bytes followed by those fields' encodings of 0 and none are the ticket with `first_skill` 0
/// (the alphabetically first skill, the one widening kept when it was written), nobody to
/// hold a reopen for, no offers and only plain skills. Under an agent key a version 1 record
/// lacks `missed_offers`, `activity` and `levels` (read as 0 and none: no reason, no wrap-up,
/// no history, plain skills). Which type a key's kind holds is fixed, so the key tells which
/// records to upgrade.
pub fn decode<T: DeserializeOwned>(key: &[u8], value: &[u8]) -> Result<T, StoreError> {
    let ticket = matches!(key.first(), Some(&TICKET | &ARCHIVE));
    let agent = key.first() == Some(&AGENT);
    let no_offers = Option::<Offers>::None;
    let no_needs = Option::<Needs>::None;
    match value.split_first() {
        Some((&VERSION, body)) if ticket => {
            let added = (0u8, Option::<AgentId>::None, no_offers, no_needs);
            with_defaults(key, body, &added)
        }
        Some((&TICKET_V2, body)) if ticket => with_defaults(key, body, &(no_offers, no_needs)),
        Some((&VERSION, body)) if agent => {
            let added = (0u32, Activity::default(), Levels::default());
            with_defaults(key, body, &added)
        }
        Some((&VERSION, body)) if !ticket => body_of(key, body),
        Some((&TICKET_VERSION, body)) if ticket => body_of(key, body),
        Some((&AGENT_VERSION, body)) if agent => body_of(key, body),
        other => Err(unknown_version(key, other)),
    }
}

/// A record of an older version: its bytes followed by the encoding of `added`, the defaults
/// of the trailing fields added since.
fn with_defaults<T: DeserializeOwned, A: Serialize>(
    key: &[u8],
    body: &[u8],
    added: &A,
) -> Result<T, StoreError> {
    let added = postcard::to_allocvec(added).map_err(|e| corrupt(key, e.to_string()))?;
    body_of(key, &[body, &added].concat())
}

/// A policy record of either version. A version 1 record is a policy without the fields
/// added since, which are its last ones; postcard writes a struct as its fields one after
/// the other, so the old bytes followed by those fields' defaults are the policy with them.
pub fn decode_policy(key: &[u8], value: &[u8]) -> Result<SlaPolicy, StoreError> {
    let d = SlaPolicy::default();
    match value.split_first() {
        Some((&VERSION, body)) => {
            let added = (
                d.order,
                d.force_level,
                &d.offers,
                &d.presence,
                d.select,
                &d.rings,
                d.fifo_bound,
            );
            with_defaults(key, body, &added)
        }
        Some((&POLICY_V2, body)) => {
            let added = (&d.offers, &d.presence, d.select, &d.rings, d.fifo_bound);
            with_defaults(key, body, &added)
        }
        Some((&POLICY_V3, body)) => with_defaults(key, body, &d.fifo_bound),
        Some((&POLICY_VERSION, body)) => body_of(key, body),
        other => Err(unknown_version(key, other)),
    }
}

/// An idempotency record of either version.
pub fn decode_idempotency(key: &[u8], value: &[u8]) -> Result<Idempotency, StoreError> {
    match value.split_first() {
        Some((&IDEMPOTENCY_V1, body)) => {
            body_of::<IdempotencyV1>(key, body).map(IdempotencyV1::upgrade)
        }
        Some((&IDEMPOTENCY_VERSION, body)) => body_of(key, body),
        other => Err(unknown_version(key, other)),
    }
}

fn body_of<T: DeserializeOwned>(key: &[u8], body: &[u8]) -> Result<T, StoreError> {
    postcard::from_bytes(body).map_err(|e| corrupt(key, e.to_string()))
}

fn unknown_version(key: &[u8], split: Option<(&u8, &[u8])>) -> StoreError {
    match split {
        Some((v, _)) => corrupt(
            key,
            format!("record version {v} is not known to this release"),
        ),
        None => corrupt(key, "empty record".into()),
    }
}

fn corrupt(key: &[u8], reason: String) -> StoreError {
    StoreError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ticket with minimums and optional skills, and an agent with levels, read back as
    /// written; an agent record of version 1 (without `levels`, its last field) reads as
    /// plain skills.
    #[test]
    fn needs_and_levels_round_trip_and_version_1_agents_read_as_plain() {
        use crate::core::proficiency::{parse_agent_skills, parse_ticket_skills};
        let words = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (_, _, needs) =
            parse_ticket_skills(words(&["en", "billing>=5"]), words(&["vip"])).expect("ok");
        let mut t: Ticket = {
            use crate::core::command::Command;
            use crate::core::{CoreConfig, Reply, Scheduler};
            let mut s = Scheduler::new(SlaPolicy::default(), CoreConfig::default());
            let mut new = crate::store::tests::new_ticket(1, "c");
            new.needs = needs.clone();
            let Ok(Reply::Ticket(t)) = s.apply(Command::CreateTicket(new), Ts(1_000)) else {
                panic!("created");
            };
            *t
        };
        assert_eq!(t.needs(), needs.as_ref());
        t.extras.edit(|e| e.resolved_by = Some(AgentId::new("ann")));
        let back: Ticket = decode(&ticket_key(1), &encode_ticket(&t)).expect("decodes");
        assert_eq!(back, t);
        let agent_key = key(AGENT, b"ann");
        let (skills, levels) = parse_agent_skills("skills", words(&["billing:7"])).expect("ok");
        let mut agent: Agent = {
            let v1 = postcard::to_allocvec(&(
                AgentId::new("ann"),
                String::new(),
                skills,
                Vec::<crate::core::types::Tier>::new(),
                [1u32; 6],
                crate::core::types::Presence::Offline,
                Ts(5),
            ))
            .expect("encodes");
            decode(&agent_key, &[&[VERSION][..], &v1].concat()).expect("v1 agent decodes")
        };
        assert!(
            agent.levels.is_empty(),
            "a version 1 agent has plain skills"
        );
        agent.levels = levels;
        let v2 = encode_agent(&agent);
        assert_eq!(
            decode::<Agent>(&agent_key, &v2).expect("v2 agent decodes"),
            agent
        );
    }
    use crate::core::policy::QueueOrder;
    use crate::core::types::{Level, Span};

    /// A policy record written before `order` and `force_level` existed (version 1: the same
    /// bytes without those last fields and the ones after them) or before `offers`,
    /// `presence`, `select` and `rings` (version 2) or before `fifo_bound` (version 3) reads
    /// back with the missing fields defaulted and the rest intact; a version 4 record reads
    /// back as written.
    #[test]
    fn an_older_policy_reads_with_the_fields_added_since_defaulted() {
        use crate::core::types::Channel;
        let mut written = SlaPolicy {
            warning_fraction: 0.7,
            preferred_hold: Span::secs(9),
            order: QueueOrder::Deadline,
            force_level: Level::L2,
            ..SlaPolicy::default()
        };
        written
            .offers
            .offer_timeout
            .insert(Channel::Chat, Span::secs(20));
        written.offers.max_missed_offers = 5;
        written
            .presence
            .wrap_up
            .insert(Channel::Phone, Span::secs(30));
        written.select = crate::core::proficiency::Select::MostProficient;
        written.rings.drop_optional = Some(Span::secs(30));
        written.fifo_bound.factor = 3.0;
        let v4 = encode_version(POLICY_VERSION, &written);
        let added_v4 = postcard::to_allocvec(&written.fifo_bound).expect("encodes");
        let mut v3 = v4[..v4.len() - added_v4.len()].to_vec();
        v3[0] = POLICY_V3;
        let added_v3 = postcard::to_allocvec(&(
            &written.offers,
            &written.presence,
            written.select,
            &written.rings,
        ))
        .expect("encodes");
        let mut v2 = v3[..v3.len() - added_v3.len()].to_vec();
        v2[0] = POLICY_V2;
        let added = postcard::to_allocvec(&(written.order, written.force_level)).expect("encodes");
        let mut v1 = v2[..v2.len() - added.len()].to_vec();
        v1[0] = VERSION;
        let defaults = SlaPolicy::default();
        let as_v3 = SlaPolicy {
            fifo_bound: defaults.fifo_bound,
            ..written.clone()
        };
        let as_v2 = SlaPolicy {
            offers: defaults.offers.clone(),
            presence: defaults.presence.clone(),
            select: defaults.select,
            rings: defaults.rings,
            ..as_v3.clone()
        };
        let as_v1 = SlaPolicy {
            order: defaults.order,
            force_level: defaults.force_level,
            ..as_v2.clone()
        };
        assert_eq!(decode_policy(&[POLICY], &v1).expect("v1 decodes"), as_v1);
        assert_eq!(decode_policy(&[POLICY], &v2).expect("v2 decodes"), as_v2);
        assert_eq!(decode_policy(&[POLICY], &v3).expect("v3 decodes"), as_v3);
        assert_eq!(decode_policy(&[POLICY], &v4).expect("v4 decodes"), written);
        assert!(decode_policy(&[POLICY], &[5]).is_err(), "unknown version");
    }

    /// An agent record written before `missed_offers`, `activity` and `levels` (version 1: the
    /// same bytes without them) reads back with no misses, no reason, no wrap-up and no history; a version 2 record reads as written,
    /// wrap-ups (with their absolute ends) included.
    #[test]
    fn a_version_1_agent_reads_with_no_missed_offers_and_no_activity() {
        use crate::core::command::{AgentProfile, Command};
        use crate::core::model::Agent;
        use crate::core::types::{Channel, Presence};
        use crate::core::{CoreConfig, Reply, Scheduler};
        let mut s = Scheduler::new(SlaPolicy::default(), CoreConfig::default());
        let id = AgentId::new("ann");
        let profile = AgentProfile {
            id: id.clone(),
            display_name: "Ann".into(),
            skills: Default::default(),
            levels: Default::default(),
            tiers: Vec::new(),
            capacity: Default::default(),
        };
        s.apply(Command::UpsertAgent(profile), Ts(1_000))
            .expect("upserted");
        let away = Command::SetPresence {
            agent: id.clone(),
            presence: Presence::Away,
            reason: Some("lunch".into()),
        };
        let Ok(Reply::Agent(mut written)) = s.apply(away, Ts(5_000)) else {
            panic!("presence set");
        };
        written
            .activity
            .start_wrap_up(TicketId(7), Channel::Phone, Span::secs(30), Ts(6_000));
        written.missed_offers = 2;
        let key = key(AGENT, b"ann");
        let v2 = encode_version(AGENT_VERSION, &*written);
        let added =
            postcard::to_allocvec(&(written.missed_offers, &written.activity, &written.levels))
                .expect("encodes");
        let mut v1 = v2[..v2.len() - added.len()].to_vec();
        v1[0] = VERSION;
        let old: Agent = decode(&key, &v1).expect("v1 decodes");
        assert_eq!(old.activity, Activity::default());
        assert_eq!(old.missed_offers, 0);
        assert_eq!(
            (old.presence, &old.display_name),
            (Presence::Away, &written.display_name)
        );
        assert_eq!(decode::<Agent>(&key, &v2).expect("v2 decodes"), *written);
        assert!(decode::<Agent>(&key, &[3]).is_err(), "unknown version");
    }

    /// Event records written before actors (version 1, both kinds) read back as caused by
    /// `unknown` under no epoch; version 2 records read back as written; an unknown version
    /// is refused.
    #[test]
    fn a_version_1_event_record_reads_with_an_unknown_actor() {
        use crate::core::command::Epoch;
        let event = |seq| Event::Requeued {
            ticket: TicketId(seq),
            reason: crate::core::types::RequeueReason::Released,
        };
        let old = |seq| RecordedV1 {
            seq,
            at: Ts(5),
            event: event(seq),
        };
        let read = |seq| Recorded {
            seq,
            at: Ts(5),
            event: event(seq),
            actor: Actor::unknown(),
            epoch: None,
        };
        let single = encode_version(VERSION, &old(3));
        let decoded = decode_events(&event_key(3), &single).expect("v1 event");
        assert_eq!(decoded, [read(3)]);
        let many = encode_version(VERSION, &vec![old(7), old(8)]);
        let decoded = decode_events(&events_key(7), &many).expect("v1 events");
        assert_eq!(decoded, [read(7), read(8)]);
        let now = Recorded {
            actor: Actor::named("crm"),
            epoch: Some(Epoch::new(2)),
            ..read(9)
        };
        let mut batch = Batch::default();
        batch.push_events(std::slice::from_ref(&now));
        let (key, value) = &batch.records[0];
        assert_eq!(value[0], EVENT_VERSION);
        assert_eq!(decode_events(key, value).expect("v2 events"), [now]);
        assert!(
            decode_events(&events_key(7), &[3, 0]).is_err(),
            "unknown version"
        );
    }

    /// A ticket record written before `first_skill` and `resolved_by` (version 1: the same
    /// bytes without those last fields) reads back with 0, the alphabetically first skill, and
    /// no resolver, under both ticket kinds;
    /// a version 2 record reads back as written; version 2 means nothing for other kinds.
    #[test]
    fn a_version_1_ticket_reads_with_its_alphabetically_first_skill_listed_first() {
        use crate::core::command::Command;
        use crate::core::types::Skill;
        use crate::core::{CoreConfig, Reply, Scheduler};
        let mut s = Scheduler::new(SlaPolicy::default(), CoreConfig::default());
        let mut new = crate::store::tests::new_ticket(1, "c");
        new.skills =
            crate::core::types::SkillSet::new(vec![Skill::new("en"), Skill::new("billing")]);
        new.first_skill = 1;
        let Ok(Reply::Ticket(written)) = s.apply(Command::CreateTicket(new), Ts(1_000)) else {
            panic!("created");
        };
        let v3 = encode_ticket(&written);
        assert_eq!(v3[0], TICKET_VERSION);
        // Version 2 lacks `offers` and `needs` (none: a byte each), version 1 also `first_skill`
        // and `resolved_by`.
        let mut v2 = v3[..v3.len() - 2].to_vec();
        v2[0] = TICKET_V2;
        let mut v1 = v3[..v3.len() - 4].to_vec();
        v1[0] = VERSION;
        for key in [ticket_key(1), key(ARCHIVE, &1u64.to_be_bytes())] {
            let old: Ticket = decode(&key, &v1).expect("v1 decodes");
            assert_eq!((old.first_skill, old.resolved_by()), (0, None));
            assert_eq!(
                old.first_listed_skill().iter().next(),
                Some(&Skill::new("billing"))
            );
            assert_eq!(
                Ticket {
                    first_skill: 1,
                    ..old
                },
                *written
            );
            assert_eq!(decode::<Ticket>(&key, &v2).expect("v2 decodes"), *written);
            assert_eq!(decode::<Ticket>(&key, &v3).expect("v3 decodes"), *written);
        }
        assert!(decode::<Ts>(&[COUNTS], &[TICKET_VERSION, 0]).is_err());
    }
}
