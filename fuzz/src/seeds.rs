//! Writes the starting corpora (`cargo run --bin seeds` in fuzz/): real records from a short
//! scheduler run, real requests of every kind, and the shipped configuration files.

use prost::Message;
use std::path::Path;
use triage::core::command::{AgentProfile, Command, Lease, NewTicket};
use triage::core::policy::SlaPolicy;
use triage::core::types::*;
use triage::core::{CoreConfig, Scheduler};
use triage::proto as pb;
use triage::store::Batch;

fn write(dir: &Path, name: String, bytes: &[u8]) {
    std::fs::create_dir_all(dir).expect("corpus dir");
    std::fs::write(dir.join(name), bytes).expect("seed");
}

fn records(dir: &Path) {
    let now = Ts(1_800_000_000_000);
    let mut s = Scheduler::new(SlaPolicy::default(), CoreConfig::default());
    let ana = AgentId::new("ana");
    let profile = AgentProfile {
        id: ana.clone(),
        display_name: "Ana".into(),
        skills: SkillSet::new(vec![Skill::new("en")]),
        levels: Default::default(),
        tiers: vec![],
        capacity: Default::default(),
    };
    let mut cmds = vec![
        Command::UpsertAgent(profile),
        Command::SetPresence {
            agent: ana.clone(),
            presence: Presence::Available,
            reason: None,
        },
    ];
    for n in 0..3 {
        cmds.push(Command::CreateTicket(NewTicket {
            first_skill: 0,
            needs: None,
            request_id: format!("req-{n}"),
            external_id: format!("ext-{n}"),
            customer_id: "c".into(),
            tier: Tier::ALL[n % Tier::ALL.len()],
            channel: Channel::ALL[n % Channel::ALL.len()],
            priority: Priority::High,
            skills: SkillSet::new(vec![Skill::new("en")]),
            sentiment: Sentiment::Negative,
            preferred_agent: None,
            created_at: None,
        }));
    }
    cmds.push(Command::Pull(ana.clone()));
    cmds.push(Command::Resolve {
        ticket: TicketId(1),
        lease: Some(Lease {
            agent: ana,
            epoch: 1.into(),
        }),
    });
    cmds.push(Command::PutPolicy(Box::new(SlaPolicy::default())));
    for cmd in cmds {
        let _ = s.apply(cmd, now);
    }
    let mut journal = s.take_journal();
    let events: Vec<_> = std::mem::take(&mut journal.events)
        .into_iter()
        .enumerate()
        .map(|(i, event)| triage::core::event::Recorded {
            seq: i as u64 + 1,
            at: now,
            event,
            actor: triage::core::event::Actor::named("seed"),
            epoch: None,
        })
        .collect();
    let mut batch = Batch::from_journal(&journal, &s);
    batch.push_events(&events);
    // The target's first byte picks the kind: ticket 0, agent 1, idempotency 2, policy 3,
    // event 4.
    for (i, (key, value)) in batch.records.iter().enumerate() {
        let selector = match key.first() {
            Some(b't') => 0u8,
            Some(b'a') => 1,
            Some(b'r') => 2,
            Some(b'p') => 3,
            _ => 4,
        };
        let mut seed = vec![selector];
        seed.extend_from_slice(value);
        write(dir, format!("record-{i}"), &seed);
    }
}

fn requests(dir: &Path) {
    let mut seeds: Vec<(u8, Vec<u8>)> = Vec::new();
    let create = pb::CreateTicketRequest {
        request_id: "r1".into(),
        external_id: "zd-1".into(),
        customer_id: "cust".into(),
        tier: pb::Tier::Vip as i32,
        channel: pb::Channel::Chat as i32,
        priority: pb::Priority::High as i32,
        required_skills: vec!["en".into(), "billing".into()],
        sentiment: pb::Sentiment::Negative as i32,
        preferred_agent_id: "ana".into(),
        created_at: None,
        optional_skills: vec![],
    };
    seeds.push((0, create.encode_to_vec()));
    seeds.push((1, pb::GetTicketRequest { ticket_id: 1 }.encode_to_vec()));
    seeds.push((3, triage_reply().encode_to_vec()));
    seeds.push((
        6,
        pb::ResolveTicketRequest {
            ticket_id: 1,
            agent_id: "ana".into(),
            lease_epoch: 1,
            ..Default::default()
        }
        .encode_to_vec(),
    ));
    let upsert = pb::UpsertAgentRequest {
        agent_id: "ana".into(),
        display_name: "Ana".into(),
        skills: vec!["en".into()],
        tiers: vec![pb::Tier::Vip as i32],
        capacity: [("chat".to_string(), 3u32)].into_iter().collect(),
        ..Default::default()
    };
    seeds.push((10, upsert.encode_to_vec()));
    let pull = pb::PullNextTicketRequest {
        agent_id: "ana".into(),
        wait: Some(prost_types::Duration {
            seconds: 5,
            nanos: 0,
        }),
        ..Default::default()
    };
    seeds.push((14, pull.encode_to_vec()));
    let put = pb::PutSlaPolicyRequest {
        policy: Some(triage::fuzzing::policy_proto(&SlaPolicy::default())),
        replace: false,
        request_id: String::new(),
        ..Default::default()
    };
    seeds.push((17, put.encode_to_vec()));
    for (i, (which, bytes)) in seeds.into_iter().enumerate() {
        let mut seed = vec![which];
        seed.extend(bytes);
        write(dir, format!("request-{i}"), &seed);
    }
}

fn triage_reply() -> pb::RecordReplyRequest {
    pb::RecordReplyRequest {
        ticket_id: 1,
        author: pb::Author::Agent as i32,
        agent_id: "ana".into(),
        lease_epoch: 1,
        next_update_by: Some(prost_types::Timestamp {
            seconds: 1_900_000_000,
            nanos: 0,
        }),
        ..Default::default()
    }
}

fn configs(dir: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (name, path) in [
        ("triage.toml", "deploy/triage.toml"),
        ("business-hours.toml", "deploy/examples/business-hours.toml"),
    ] {
        let text = std::fs::read(root.join(path)).expect("shipped config");
        write(dir, name.to_string(), &text);
    }
}

fn main() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    records(&corpus.join("record_decode"));
    requests(&corpus.join("request_validation"));
    configs(&corpus.join("policy_parse"));
    println!("seeds written under {}", corpus.display());
}
