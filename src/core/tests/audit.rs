//! The changes that report nothing else report themselves (issue 19, the audit trail):
//! `UpdateTicket` with the fields it changed, `UpsertAgent` created or changed, the policy
//! replaced or merged; a refused change reports nothing.

use super::*;
use crate::core::event::{PolicyWrite, TicketField, Upsert};
use crate::core::policy_patch::PolicyPatch;

fn update(sim: &mut Sim, id: TicketId, update: TicketUpdate) -> Result<Reply, CoreError> {
    sim.apply(Command::Update { ticket: id, update })
}

/// An update names the fields whose value it changed, in the API's order, with the ticket's
/// routing after the change; one that sets a field to the value it had names none.
#[test]
fn an_update_reports_the_fields_it_changed() {
    let mut sim = Sim::new();
    let id = sim.create(Tier::Standard, Channel::Email, &["billing"]);
    sim.events();
    let change = TicketUpdate {
        tier: Some(Tier::Vip),
        priority: Some(Priority::Normal),
        preferred_agent: Some(Some(agent_id("ann"))),
        ..Default::default()
    };
    update(&mut sim, id, change).expect("updated");
    let events = sim.events();
    assert!(events.contains(&Event::Updated {
        ticket: id,
        tier: Tier::Vip,
        channel: Channel::Email,
        fields: vec![TicketField::Tier, TicketField::PreferredAgent],
    }));
    let same = TicketUpdate {
        tier: Some(Tier::Vip),
        ..Default::default()
    };
    update(&mut sim, id, same).expect("updated");
    assert!(sim.events().contains(&Event::Updated {
        ticket: id,
        tier: Tier::Vip,
        channel: Channel::Email,
        fields: vec![],
    }));
    sim.apply(Command::Cancel {
        ticket: id,
        reason: CancelReason::Other,
    })
    .expect("cancelled");
    sim.events();
    let refused = TicketUpdate {
        priority: Some(Priority::High),
        ..Default::default()
    };
    assert!(update(&mut sim, id, refused).is_err());
    assert_eq!(sim.events(), [], "a refused update reports nothing");
}

/// The first upsert of an agent created it; the next one changed it.
#[test]
fn an_upsert_reports_whether_it_created_the_agent() {
    let mut sim = Sim::new();
    let profile = AgentProfile {
        id: agent_id("ann"),
        display_name: "Ann".into(),
        skills: skills(&["billing"]),
        levels: Default::default(),
        tiers: vec![],
        capacity: [None; Channel::COUNT],
    };
    let upserted = |upsert| Event::AgentUpserted {
        agent: agent_id("ann"),
        upsert,
    };
    sim.apply(Command::UpsertAgent(profile.clone()))
        .expect("created");
    assert_eq!(sim.events(), [upserted(Upsert::Created)]);
    sim.apply(Command::UpsertAgent(profile)).expect("changed");
    assert_eq!(sim.events(), [upserted(Upsert::Changed)]);
}

/// A whole policy put replaces; a patch merges unless it says `replace`; an invalid one is
/// refused and reports nothing.
#[test]
fn a_policy_change_reports_replace_or_merge() {
    let mut sim = Sim::new();
    let changed = |write| Event::PolicyChanged { write };
    sim.apply(Command::PutPolicy(Box::default())).expect("put");
    assert_eq!(sim.events(), [changed(PolicyWrite::Replace)]);
    let merge = PolicyPatch {
        warning_fraction: Some(0.5),
        ..Default::default()
    };
    sim.apply(Command::PatchPolicy(Box::new(merge)))
        .expect("merged");
    assert_eq!(sim.events(), [changed(PolicyWrite::Merge)]);
    let replace = PolicyPatch {
        replace: true,
        ..Default::default()
    };
    sim.apply(Command::PatchPolicy(Box::new(replace)))
        .expect("replaced");
    assert_eq!(sim.events(), [changed(PolicyWrite::Replace)]);
    let invalid = PolicyPatch {
        warning_fraction: Some(7.0),
        ..Default::default()
    };
    assert!(sim.apply(Command::PatchPolicy(Box::new(invalid))).is_err());
    assert_eq!(sim.events(), []);
}

/// The lease a command acts under, looking inside `Once`, for the audit trail's epoch.
#[test]
fn a_command_names_the_lease_it_acts_under() {
    let lease = Lease {
        agent: agent_id("ann"),
        epoch: Epoch::new(3),
    };
    let ticket = TicketId(1);
    let resolve = Command::Resolve {
        ticket,
        lease: Some(lease.clone()),
    };
    assert_eq!(resolve.lease(), Some(&lease));
    assert_eq!(
        resolve.once("req-1".into()).lease(),
        Some(&lease),
        "inside Once"
    );
    let reply = Command::RecordReply {
        ticket,
        author: Author::Agent(lease.clone()),
        next_update_by: None,
    };
    assert_eq!(reply.lease(), Some(&lease));
    let integration = Command::Resolve {
        ticket,
        lease: None,
    };
    assert_eq!(integration.lease(), None);
    assert_eq!(Command::Pull(agent_id("ann")).lease(), None);
}

/// Pulls, and a supervisor's assign or transfer to an agent, grant a lease (inside `Once`
/// too); a transfer back to the queue and a resolve do not.
#[test]
fn a_command_says_whether_it_grants_a_lease() {
    let ticket = TicketId(1);
    let pull = Command::Pull(agent_id("ann"));
    assert!(pull.grants_lease());
    assert!(pull.once("req-1".into()).grants_lease(), "inside Once");
    let assign = Command::Assign {
        ticket,
        agent: agent_id("ann"),
        force: false,
    };
    assert!(assign.grants_lease());
    let to = |to| Command::Transfer {
        ticket,
        to,
        note: String::new(),
    };
    let agent = TransferTo::Agent {
        agent: agent_id("bo"),
        force: false,
    };
    assert!(to(agent).grants_lease());
    let queue = TransferTo::Queue {
        skills: None,
        tier: Some(Tier::Vip),
    };
    assert!(!to(queue).grants_lease());
    let resolve = Command::Resolve {
        ticket,
        lease: None,
    };
    assert!(!resolve.grants_lease());
}
