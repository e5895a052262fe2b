//! The daemon over the network: lifecycle, ordering, eligibility, capacity, concurrency,
//! long polls, health and reflection. Each test starts its own daemon on loopback.

use crate::common::{self, agent, create, metric, temp, Daemon};
use pb::{Channel, Tier};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use triage::proto as pb;

#[tokio::test]
async fn whole_lifecycle_over_grpc() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    c.available_agent(agent("ana", &["en", "billing"], &[], &[("chat", 2)]))
        .await;
    let t = c
        .create(create("zd-1", Tier::Standard, Channel::Chat, &["en"]))
        .await;
    assert_eq!(t.state(), pb::TicketState::Queued);
    assert_eq!(t.sla.len(), 2, "first response and resolution clocks");
    assert!(t.due_at.is_some());

    let a = c.pull("ana").await.expect("an assignment");
    let ticket = a.ticket.clone().expect("ticket");
    assert_eq!(
        (ticket.ticket_id, ticket.state(), ticket.agent_id.as_str()),
        (t.ticket_id, pb::TicketState::Assigned, "ana")
    );
    assert_eq!(a.lease_epoch, 1);
    assert_eq!(a.reason, "due");
    let epoch = a.lease_epoch;
    let agent_reply = common::agent_reply(t.ticket_id, "ana", epoch);
    let r = c
        .tickets
        .record_reply(agent_reply.clone())
        .await
        .expect("reply")
        .into_inner();
    let first = r
        .sla
        .iter()
        .find(|s| s.metric() == pb::SlaMetric::FirstResponse)
        .expect("clock");
    assert!(first.met_at.is_some() && !first.breached);

    let customer = common::customer_reply(t.ticket_id);
    let r = c
        .tickets
        .record_reply(customer.clone())
        .await
        .expect("customer message")
        .into_inner();
    assert!(
        r.sla
            .iter()
            .any(|s| s.metric() == pb::SlaMetric::NextReply && s.met_at.is_none()),
        "next reply clock started"
    );
    c.tickets.record_reply(agent_reply).await.expect("answer");

    let pending = common::set_pending(t.ticket_id, "ana", epoch);
    let r = c
        .tickets
        .set_pending(pending)
        .await
        .expect("pending")
        .into_inner();
    assert_eq!(r.state(), pb::TicketState::Pending);
    assert!(r
        .sla
        .iter()
        .any(|s| s.metric() == pb::SlaMetric::Resolution && s.paused));
    let r = c
        .tickets
        .record_reply(customer)
        .await
        .expect("customer back")
        .into_inner();
    assert_eq!(r.state(), pb::TicketState::Assigned);

    let resolve = common::resolve(t.ticket_id, "ana", epoch);
    let r = c
        .tickets
        .resolve_ticket(resolve)
        .await
        .expect("resolve")
        .into_inner();
    assert_eq!(r.state(), pb::TicketState::Resolved);
    assert!(r.resolved_at.is_some() && r.agent_id.is_empty());

    let r = c
        .tickets
        .reopen_ticket(common::reopen(t.ticket_id))
        .await
        .expect("reopen")
        .into_inner();
    assert_eq!(r.state(), pb::TicketState::Queued);
    let cancel = common::cancel(t.ticket_id, pb::CancelReason::Abandoned);
    let r = c
        .tickets
        .cancel_ticket(cancel)
        .await
        .expect("cancel")
        .into_inner();
    assert_eq!(r.state(), pb::TicketState::Cancelled);

    let update = common::update_priority(t.ticket_id, pb::Priority::High);
    let err = c
        .tickets
        .update_ticket(update)
        .await
        .expect_err("closed tickets do not change");
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);

    let scrape = d
        .wait_for_metric(
            r#"triage_tickets_created_total{tier="standard",channel="chat"}"#,
            1.0,
        )
        .await;
    assert_eq!(
        metric(
            &scrape,
            r#"triage_assignments_total{tier="standard",channel="chat"}"#
        ),
        Some(1.0)
    );
    assert_eq!(metric(&scrape, "triage_tickets_resolved_total"), Some(1.0));
    assert_eq!(
        metric(
            &scrape,
            r#"triage_sla_met_total{metric="first_response",tier="standard",channel="chat"}"#
        ),
        Some(1.0)
    );
    assert!(
        scrape.contains("triage_queue_depth{"),
        "gauges are exported"
    );
    assert!(
        scrape.contains("triage_tickets_open{"),
        "gauges are exported"
    );
}

#[tokio::test]
async fn vip_is_served_before_standard() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let standard = c
        .create(create("s", Tier::Standard, Channel::Email, &[]))
        .await;
    let new = c.create(create("n", Tier::New, Channel::Email, &[])).await;
    let vip = c.create(create("v", Tier::Vip, Channel::Email, &[])).await;
    c.available_agent(agent("a", &[], &[], &[])).await;
    let mut order = Vec::new();
    while let Some(a) = c.pull("a").await {
        order.push(a.ticket.expect("ticket").ticket_id);
    }
    assert_eq!(
        order,
        vec![vip.ticket_id, new.ticket_id, standard.ticket_id]
    );
}

#[tokio::test]
async fn skills_and_tiers_decide_who_may_take_a_ticket() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let de_billing = c
        .create(create(
            "de-b",
            Tier::Standard,
            Channel::Email,
            &["de", "billing"],
        ))
        .await;
    let vip = c
        .create(create("vip", Tier::Vip, Channel::Email, &["en"]))
        .await;
    c.available_agent(agent("de-only", &["de"], &[], &[])).await;
    c.available_agent(agent(
        "std-en",
        &["en", "de", "billing"],
        &[Tier::Standard],
        &[],
    ))
    .await;
    c.available_agent(agent("vip-en", &["en"], &[Tier::Vip], &[]))
        .await;
    assert!(c.pull("de-only").await.is_none(), "lacks billing");
    let got = c
        .pull("std-en")
        .await
        .expect("standard ticket")
        .ticket
        .expect("t")
        .ticket_id;
    assert_eq!(got, de_billing.ticket_id);
    assert!(c.pull("std-en").await.is_none(), "may not serve VIP");
    let got = c
        .pull("vip-en")
        .await
        .expect("vip ticket")
        .ticket
        .expect("t")
        .ticket_id;
    assert_eq!(got, vip.ticket_id);
}

#[tokio::test]
async fn capacity_per_channel_is_respected() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    for i in 0..4 {
        c.create(create(
            &format!("chat-{i}"),
            Tier::Standard,
            Channel::Chat,
            &[],
        ))
        .await;
    }
    let email = c
        .create(create("email", Tier::Standard, Channel::Email, &[]))
        .await;
    c.available_agent(agent("a", &[], &[], &[("chat", 2), ("email", 1)]))
        .await;
    let mut got = Vec::new();
    while let Some(a) = c.pull("a").await {
        got.push(a.ticket.expect("t"));
    }
    let chats = got.iter().filter(|t| t.channel() == Channel::Chat).count();
    assert_eq!(chats, 2, "chat capacity 2");
    assert!(
        got.iter().any(|t| t.ticket_id == email.ticket_id),
        "email has its own capacity"
    );
    assert_eq!(got.len(), 3);
    let held = got
        .iter()
        .find(|t| t.channel() == Channel::Chat)
        .expect("a chat");
    let resolve = common::resolve(held.ticket_id, "a", held.lease_epoch);
    c.tickets.resolve_ticket(resolve).await.expect("resolve");
    let next = c
        .pull("a")
        .await
        .expect("a freed chat slot takes the next chat")
        .ticket
        .expect("t");
    assert_eq!(next.channel(), Channel::Chat);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_pulls_by_ten_agents_hand_out_every_ticket_exactly_once() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let mut created = HashSet::new();
    for i in 0..200 {
        let channel = [
            Channel::Chat,
            Channel::Email,
            Channel::Messenger,
            Channel::Phone,
        ][i % 4];
        created.insert(
            c.create(create(&format!("t{i}"), Tier::Standard, channel, &[]))
                .await
                .ticket_id,
        );
    }
    let caps: Vec<(&str, u32)> = vec![
        ("chat", 100),
        ("email", 100),
        ("messenger", 100),
        ("phone", 100),
    ];
    for a in 0..10 {
        c.available_agent(agent(&format!("agent-{a}"), &[], &[], &caps))
            .await;
    }
    let mut tasks = Vec::new();
    for worker in 0..50 {
        let mut c = d.clients().await;
        let agent_id = format!("agent-{}", worker % 10);
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(a) = c.pull(&agent_id).await {
                got.push((
                    a.ticket.expect("ticket").ticket_id,
                    agent_id.clone(),
                    a.lease_epoch,
                ));
            }
            got
        }));
    }
    let mut holder: HashMap<u64, (String, u64)> = HashMap::new();
    for task in tasks {
        for (id, agent_id, epoch) in task.await.expect("worker") {
            assert!(
                holder.insert(id, (agent_id, epoch)).is_none(),
                "ticket {id} handed out twice"
            );
        }
    }
    assert_eq!(
        holder.keys().copied().collect::<HashSet<_>>(),
        created,
        "every ticket handed out"
    );
    for t in c.all_tickets().await {
        let (agent_id, epoch) = &holder[&t.ticket_id];
        assert_eq!(
            (&t.agent_id, t.lease_epoch),
            (agent_id, *epoch),
            "the server agrees who holds {}",
            t.ticket_id
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_gets_a_ticket_created_while_it_waits() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    c.available_agent(agent("a", &[], &[], &[])).await;
    let empty = common::pull_request("a", Some(Duration::from_millis(200)));
    let r = c
        .agents
        .pull_next_ticket(empty)
        .await
        .expect("an empty pull is OK")
        .into_inner();
    assert!(r.assignment.is_none());

    let mut waiter = c.clone();
    let poll = tokio::spawn(async move {
        let req = common::pull_request("a", Some(Duration::from_secs(20)));
        waiter
            .agents
            .pull_next_ticket(req)
            .await
            .expect("pull")
            .into_inner()
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!poll.is_finished(), "the pull waits");
    let t = c
        .create(create("late", Tier::Standard, Channel::Email, &[]))
        .await;
    let r = tokio::time::timeout(Duration::from_secs(10), poll)
        .await
        .expect("answered")
        .expect("task");
    assert_eq!(
        r.assignment.and_then(|a| a.ticket).map(|t| t.ticket_id),
        Some(t.ticket_id)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_its_client_gave_up_on_gets_no_ticket() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    c.available_agent(agent("a", &[], &[], &[])).await;
    let mut impatient = c.clone();
    let req = common::pull_request("a", Some(Duration::from_secs(20)));
    let gave_up = tokio::time::timeout(
        Duration::from_millis(300),
        impatient.agents.pull_next_ticket(req),
    )
    .await;
    assert!(gave_up.is_err(), "the client stopped waiting");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t = c
        .create(create("after", Tier::Standard, Channel::Email, &[]))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let now = c.get(t.ticket_id).await;
    assert_eq!(
        (now.state(), now.agent_id.as_str()),
        (pb::TicketState::Queued, ""),
        "not leased to a caller who left"
    );
    let a = c
        .pull("a")
        .await
        .expect("the agent gets it when it asks again");
    assert_eq!(a.ticket.map(|t| t.ticket_id), Some(t.ticket_id));
}

#[tokio::test]
async fn health_and_reflection_are_served() {
    use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};
    use tonic_reflection::pb::v1::{
        server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
        ServerReflectionRequest,
    };
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let c = d.clients().await;
    let mut health = HealthClient::new(c.channel.clone());
    let r = health
        .check(HealthCheckRequest {
            service: "triage.v1.TicketService".into(),
        })
        .await
        .expect("health")
        .into_inner();
    assert_eq!(r.status, 1, "SERVING");

    let mut reflection = ServerReflectionClient::new(c.channel.clone());
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = reflection
        .server_reflection_info(tokio_stream::iter(vec![req]))
        .await
        .expect("reflection")
        .into_inner();
    let response = stream
        .message()
        .await
        .expect("message")
        .expect("one response");
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected {response:?}")
    };
    let names: HashSet<String> = list.service.into_iter().map(|s| s.name).collect();
    for service in [
        "triage.v1.TicketService",
        "triage.v1.AgentService",
        "triage.v1.AdminService",
        "grpc.health.v1.Health",
    ] {
        assert!(names.contains(service), "{service} missing from {names:?}");
    }
}

#[tokio::test]
async fn policy_can_be_read_and_changed_live() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let t = c
        .create(create("e", Tier::Standard, Channel::Email, &[]))
        .await;
    let policy = c.policy().await;
    assert_eq!(policy.warning_fraction, 0.8);
    let email = policy
        .targets
        .iter()
        .find(|t| t.channel() == Channel::Email)
        .expect("email");
    assert_eq!(email.first_response.as_ref().map(|d| d.seconds), Some(7200));

    let put = common::merge_policy(pb::SlaPolicy {
        targets: vec![pb::ChannelTargets {
            channel: Channel::Email as i32,
            first_response: Some(prost_types::Duration {
                seconds: 600,
                nanos: 0,
            }),
            ..Default::default()
        }],
        ..Default::default()
    });
    let after = c.admin.put_sla_policy(put).await.expect("put").into_inner();
    assert_eq!(after.warning_fraction, 0.8, "unset fields keep their value");
    let t = c.get(t.ticket_id).await;
    let fr = t
        .sla
        .iter()
        .find(|s| s.metric() == pb::SlaMetric::FirstResponse)
        .expect("clock");
    assert_eq!(
        fr.target.as_ref().map(|d| d.seconds),
        Some(600),
        "open tickets are retargeted"
    );

    let stats = c.stats().await;
    assert_eq!(stats.queues.len(), 1);
    assert_eq!(stats.queues[0].depth, 1);
    let queued = stats
        .open_by_state
        .iter()
        .find(|s| s.state() == pb::TicketState::Queued)
        .map(|s| s.count);
    assert_eq!(queued, Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_scheduler_queue_sheds_load_with_resource_exhausted_and_creates_nothing_for_it() {
    let dir = temp();
    let d = Daemon::start(dir.path(), Some("queue_capacity = 1\n"));
    let mut calls = Vec::new();
    for i in 0..200 {
        let mut c = d.clients().await;
        calls.push(tokio::spawn(async move {
            let r = c
                .tickets
                .create_ticket(create(
                    &format!("flood-{i}"),
                    Tier::Standard,
                    Channel::Email,
                    &[],
                ))
                .await;
            r.map(|t| t.into_inner().external_id).map_err(|s| s.code())
        }));
    }
    let mut accepted = HashSet::new();
    let mut shed = 0;
    for call in calls {
        match call.await.expect("task") {
            Ok(external_id) => {
                accepted.insert(external_id);
            }
            Err(tonic::Code::ResourceExhausted) => shed += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        shed > 0,
        "200 concurrent creates against a queue of 1 shed some"
    );
    let mut c = d.clients().await;
    let stored: HashSet<String> = c
        .all_tickets()
        .await
        .into_iter()
        .map(|t| t.external_id)
        .collect();
    assert_eq!(stored, accepted, "exactly the accepted creates exist");
}

#[tokio::test]
async fn stats_report_service_level_and_abandoned_contacts_apart_from_resolved() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    c.available_agent(agent("ann", &[], &[], &[("chat", 2)]))
        .await;
    let answered = c
        .create(create("s1", Tier::Standard, Channel::Chat, &[]))
        .await;
    let asg = c.pull("ann").await.expect("assignment");
    c.tickets
        .record_reply(common::agent_reply(
            answered.ticket_id,
            "ann",
            asg.lease_epoch,
        ))
        .await
        .expect("reply");
    let left = c
        .create(create("s2", Tier::Standard, Channel::Chat, &[]))
        .await;
    c.tickets
        .cancel_ticket(common::cancel(left.ticket_id, pb::CancelReason::Abandoned))
        .await
        .expect("cancel");
    let stats = c.stats().await;
    assert_eq!(stats.service_level_target, 0.8);
    assert_eq!(stats.window.map(|w| w.seconds), Some(3600));
    let chat = stats
        .service_levels
        .iter()
        .find(|l| l.channel() == Channel::Chat && l.tier() == Tier::Standard)
        .expect("a chat row");
    assert_eq!((chat.answered_within, chat.breached), (1, 0));
    assert_eq!(chat.service_level, Some(1.0));
    assert!(!chat.below_target);
    assert_eq!((chat.abandoned, chat.resolved), (1, 0));
    assert_eq!(chat.abandonment_rate, Some(0.5));
    d.wait_for_metric(
        r#"triage_contacts_abandoned_total{tier="standard",channel="chat"}"#,
        1.0,
    )
    .await;
}

#[tokio::test]
async fn create_tickets_applies_each_item_on_its_own_and_answers_in_order() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let mut no_channel = create("b2", Tier::Standard, Channel::Chat, &[]);
    no_channel.channel = 0;
    let items = vec![
        create("b1", Tier::Vip, Channel::Chat, &[]),
        no_channel,
        create("b1", Tier::Standard, Channel::Email, &[]),
        create("b3", Tier::New, Channel::Email, &["en"]),
    ];
    let results = c
        .tickets
        .create_tickets(pb::CreateTicketsRequest { tickets: items })
        .await
        .expect("batch")
        .into_inner()
        .results;
    use pb::create_ticket_result::Result as Item;
    let outcome: Vec<Result<String, (i32, String)>> = results
        .into_iter()
        .map(|r| match r.result.expect("a result") {
            Item::Ticket(t) => Ok(t.external_id),
            Item::Error(e) => Err((e.code, e.field)),
        })
        .collect();
    assert_eq!(
        outcome,
        vec![
            Ok("b1".to_string()),
            Err((tonic::Code::InvalidArgument as i32, "channel".to_string())),
            Err((tonic::Code::AlreadyExists as i32, String::new())),
            Ok("b3".to_string()),
        ]
    );
    let stored: Vec<String> = c
        .all_tickets()
        .await
        .into_iter()
        .map(|t| t.external_id)
        .collect();
    assert_eq!(stored, vec!["b1", "b3"], "refused items changed nothing");

    let too_many = pb::CreateTicketsRequest {
        tickets: (0..1001)
            .map(|i| create(&format!("x{i}"), Tier::Standard, Channel::Chat, &[]))
            .collect(),
    };
    let err = c
        .tickets
        .create_tickets(too_many)
        .await
        .expect_err("over the batch limit");
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(err.message().starts_with("tickets:"), "{}", err.message());
    assert_eq!(c.all_tickets().await.len(), 2);
}
