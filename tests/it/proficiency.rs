//! Proficiency and time rings through the real daemon: levels and minimums as the API writes
//! them, `most_proficient` serving the best of several waiting long polls, and a ring widening
//! a waiting ticket's routing so that a long poll gets it.

use crate::common::{self, create, merge_policy, temp, Daemon};
use pb::ticket_explanation::Detail;
use pb::{Channel, Tier};
use std::time::Duration;
use triage::proto as pb;

async fn put(c: &mut common::Clients, policy: pb::SlaPolicy) {
    c.admin
        .put_sla_policy(merge_policy(policy))
        .await
        .expect("put policy");
}

/// A long poll of `agent` waiting up to `wait`, answered with the id of the ticket it got.
fn long_poll(
    c: &common::Clients,
    agent: &str,
    wait: Duration,
) -> tokio::task::JoinHandle<Option<u64>> {
    let mut c = c.clone();
    let req = common::pull_request(agent, Some(wait));
    tokio::spawn(async move {
        let r = c.agents.pull_next_ticket(req).await.expect("pull");
        r.into_inner()
            .assignment
            .and_then(|a| a.ticket)
            .map(|t| t.ticket_id)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn most_proficient_gives_the_ticket_to_the_best_waiting_agent() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    put(
        &mut c,
        pb::SlaPolicy {
            select: pb::AgentSelect::MostProficient as i32,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(c.policy().await.select(), pb::AgentSelect::MostProficient);
    for (id, skill) in [
        ("low", "billing:2"),
        ("top", "billing:9"),
        ("mid", "billing:5"),
    ] {
        c.available_agent(common::agent(id, &["en", skill], &[], &[]))
            .await;
    }
    let agents = c.all_agents().await;
    let top = agents.iter().find(|a| a.agent_id == "top").expect("top");
    assert_eq!(top.skills, ["billing:9", "en"], "levels are written back");
    let polls: Vec<_> = ["low", "top", "mid"]
        .iter()
        .map(|a| long_poll(&c, a, Duration::from_secs(10)))
        .collect();
    d.wait_for_metric("triage_long_polls", 3.0).await;
    let t = c
        .create(create(
            "needs-billing",
            Tier::Standard,
            Channel::Email,
            &["en", "billing>=2"],
        ))
        .await;
    assert_eq!(
        t.required_skills,
        ["en", "billing>=2"],
        "listed order, minimum kept"
    );
    let mut got = Vec::new();
    for p in polls {
        got.push(p.await.expect("poll"));
    }
    assert_eq!(got, [None, Some(t.ticket_id), None], "low, top, mid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minimum_level_keeps_a_ticket_from_lower_agents_until_a_ring_lowers_it() {
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let rings = pb::Rings {
        drop_optional: Some(prost_types::Duration {
            seconds: 5,
            nanos: 0,
        }),
        lower_minimums: Some(prost_types::Duration {
            seconds: 5,
            nanos: 0,
        }),
        any_agent: None,
    };
    put(
        &mut c,
        pb::SlaPolicy {
            rings: Some(rings),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(c.policy().await.rings, Some(rings));
    c.available_agent(common::agent("junior", &["en", "billing:3"], &[], &[]))
        .await;
    let mut req = create(
        "ring",
        Tier::Standard,
        Channel::Email,
        &["en", "billing>=7"],
    );
    req.optional_skills = vec!["vip-desk".into()];
    let t = c.create(req).await;
    assert_eq!(t.optional_skills, ["vip-desk"]);
    // Within its first ring: wanted with its optional skill and its minimum.
    assert!(c.pull("junior").await.is_none());
    let req = pb::ExplainTicketRequest {
        ticket_id: t.ticket_id,
    };
    let e = c
        .tickets
        .explain_ticket(req)
        .await
        .expect("explain")
        .into_inner();
    let Some(Detail::Waiting(w)) = e.detail else {
        panic!("waiting: {e:?}");
    };
    assert_eq!(w.ring, "none");
    assert_eq!(w.skills, ["billing>=7", "en", "vip-desk"]);
    let queued = w.queued_at.expect("queued_at");
    let next = w.next_ring_at.expect("a ring is ahead");
    assert_eq!(
        (next.seconds - queued.seconds, next.nanos),
        (5, queued.nanos)
    );
    // The ring fires while the agent's long poll waits: it gets the ticket.
    let got = long_poll(&c, "junior", Duration::from_secs(30))
        .await
        .expect("poll");
    assert_eq!(got, Some(t.ticket_id));
}

#[tokio::test]
async fn ctl_sets_levels_minimums_optional_skills_select_and_rings() {
    use crate::ctl::{ctl, ok};
    let dir = temp();
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    ok(ctl(&d, &["agent", "ana", "--skills", "en,billing:7"]));
    let args = [
        "create",
        "--external-id",
        "ctl-1",
        "--customer",
        "c-1",
        "--channel",
        "email",
        "--skills",
        "en,billing>=5",
        "--optional-skills",
        "vip-desk",
    ];
    ok(ctl(&d, &args));
    let t = c.get(1).await;
    assert_eq!(t.required_skills, ["en", "billing>=5"]);
    assert_eq!(t.optional_skills, ["vip-desk"]);
    let ana = c
        .all_agents()
        .await
        .into_iter()
        .find(|a| a.agent_id == "ana");
    assert_eq!(
        ana.map(|a| a.skills),
        Some(vec!["billing:7".into(), "en".into()])
    );
    let file = dir.path().join("policy.toml");
    let policy = "select = \"longest_idle\"\n[rings]\nany_agent = \"10m\"\n";
    std::fs::write(&file, policy).expect("write");
    ok(ctl(
        &d,
        &["policy", "set", file.to_str().expect("utf-8 path")],
    ));
    let p = c.policy().await;
    assert_eq!(p.select(), pb::AgentSelect::LongestIdle);
    let any = p.rings.and_then(|r| r.any_agent).map(|d| d.seconds);
    assert_eq!(any, Some(600));
    let bad = ctl(&d, &["agent", "bo", "--skills", "billing:11"]);
    assert!(!bad.status.success(), "{bad:?}");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("skills[0]"));
}
