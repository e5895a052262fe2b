//! Prometheus metrics: the recorder, the `/metrics` HTTP endpoint, and the translation of core
//! events and gauges into series. Labels are bounded enums only (tier, channel, state, metric,
//! level, presence, gRPC method and code): never a customer, ticket or agent id, never a skill.

use crate::core::event::{Event, PolicyWrite, Recorded, Upsert};
use crate::core::offer::MISSED_OFFERS;
use crate::core::policy::SlaPolicy;
use crate::core::rings::Ring;
use crate::core::scheduler::Gauges;
use crate::core::types::{
    AgentId, CancelReason, Channel, Level, Party, Presence, Priority, RequeueReason, SlaMetric,
    Span, TicketState, Tier, Ts,
};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Request, Response, StatusCode};
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::net::TcpListener;

/// Buckets for SLA-scale spans: a 15 s VIP chat up to a 72 h review.
const SLA_BUCKETS: &[f64] = &[
    1.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0,
    28800.0, 86400.0, 172800.0, 259200.0,
];
/// Buckets for request and commit latency: 100 µs to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Installs the process-wide recorder. Call once, before anything records.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    let mut builder = PrometheusBuilder::new();
    for name in [
        "triage_first_response_seconds",
        "triage_wait_seconds",
        "triage_resolution_seconds",
    ] {
        builder = builder.set_buckets_for_metric(Matcher::Full(name.into()), SLA_BUCKETS)?;
    }
    for name in [
        "triage_grpc_request_duration_seconds",
        "triage_store_commit_seconds",
        "triage_scheduler_step_seconds",
    ] {
        builder = builder.set_buckets_for_metric(Matcher::Full(name.into()), LATENCY_BUCKETS)?;
    }
    builder = builder.set_buckets_for_metric(
        Matcher::Full("triage_scheduler_batch_commands".into()),
        &[
            1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
        ],
    )?;
    builder = builder.set_buckets_for_metric(
        Matcher::Full("triage_store_batch_records".into()),
        &[
            1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 4096.0,
        ],
    )?;
    let handle = builder.install_recorder()?;
    describe();
    zero_counters();
    Ok(handle)
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_gauge!(
        "triage_tickets_open",
        "Open tickets by state, tier and channel."
    );
    describe_gauge!(
        "triage_tickets_in_memory",
        "Tickets the scheduler holds in memory: the unfinished ones (finished tickets are archived in the store)."
    );
    describe_counter!(
        "triage_tickets_archived_total",
        "Finished tickets moved from memory to the archive in the store."
    );
    describe_counter!(
        "triage_tickets_pruned_total",
        "Archived tickets deleted because they finished longer ago than retention.finished_after."
    );
    describe_counter!(
        "triage_tickets_erased_total",
        "Tickets whose customer and external ids were erased (EraseCustomer)."
    );
    describe_gauge!(
        "triage_queue_depth",
        "Tickets waiting in the queue by tier and channel."
    );
    describe_gauge!(
        "triage_queue_oldest_age_seconds",
        Unit::Seconds,
        "Age of the oldest queued ticket."
    );
    describe_gauge!("triage_agents", "Agents by presence.");
    describe_gauge!(
        "triage_store_read_only",
        "1 while the store refuses writes: reads are served, writes get UNAVAILABLE."
    );
    describe_gauge!(
        "triage_long_polls",
        "PullNextTicket calls waiting for a ticket (limits.max_long_polls bounds them)."
    );
    describe_gauge!(
        "triage_work_sessions",
        "Open AgentService.Work sessions (streams pushing assignments)."
    );
    describe_gauge!(
        "process_resident_memory_bytes",
        "Resident memory of the daemon (VmRSS), read at each scrape."
    );
    describe_gauge!(
        "triage_store_size_bytes",
        "Bytes the data dir takes on disk (allocated blocks of its files, the reserve included), refreshed every few seconds."
    );
    describe_counter!("triage_tickets_created_total", "Tickets created.");
    describe_counter!("triage_tickets_resolved_total", "Tickets resolved.");
    describe_counter!(
        "triage_tickets_cancelled_total",
        "Tickets cancelled, by reason (abandoned = missed contact)."
    );
    describe_counter!(
        "triage_contacts_abandoned_total",
        "Contacts the customer abandoned before an answer (missed), by tier and channel."
    );
    describe_counter!(
        "triage_follow_ups_due_total",
        "Check-backs after resolution that fell due."
    );
    describe_counter!("triage_assignments_total", "Tickets leased to an agent.");
    describe_counter!(
        "triage_agent_presence_expired_total",
        "Agents that went OFFLINE by missing heartbeats for the presence TTL."
    );
    describe_counter!("triage_sla_met_total", "SLA clocks met within target.");
    describe_counter!(
        "triage_sla_breaches_total",
        "SLA clocks that passed their target."
    );
    describe_counter!(
        "triage_sla_warnings_total",
        "SLA clocks that passed the warning fraction."
    );
    describe_counter!(
        "triage_escalations_total",
        "Escalation steps fired (l1 = breach)."
    );
    describe_counter!(
        "triage_requeues_total",
        "Tickets put back in the queue, by reason."
    );
    describe_counter!(
        "triage_transfers_total",
        "A supervisor's moves of a ticket (AssignTicket from a holder, TransferTicket), by channel and where to (agent or queue)."
    );
    describe_counter!(
        "triage_changes_total",
        "Changes to tickets, agent profiles and the SLA policy that count nowhere else: ticket_updated, agent_created, agent_changed, policy_replace, policy_merge."
    );
    describe_counter!(
        "triage_offers_total",
        "Offers (reservations) by channel and outcome: offered, then accepted, rejected or timed_out (an unanswered offer handed back counts as released in triage_requeues_total)."
    );
    describe_counter!(
        "triage_presence_changes_total",
        "Agent presence changes (SetPresence or expiry), by the new presence."
    );
    describe_counter!(
        "triage_wrap_ups_ended_total",
        "Wrap-ups (after-call work) that freed their slot: timed at their end, early by EndWrapUp."
    );
    describe_counter!(
        "triage_rings_widened_total",
        "Queued tickets whose time ring widened what they ask, by channel and the ring reached (drop_optional, lower_minimums, any_agent)."
    );
    describe_counter!(
        "triage_replies_on_behalf_total",
        "Agent replies recorded on their behalf by the integration, without a lease."
    );
    describe_histogram!(
        "triage_first_response_seconds",
        Unit::Seconds,
        "Creation to first agent reply."
    );
    describe_histogram!("triage_wait_seconds", Unit::Seconds, "Queued to assigned.");
    describe_histogram!(
        "triage_resolution_seconds",
        Unit::Seconds,
        "Creation to resolved, minus pending time."
    );
    describe_histogram!(
        "triage_grpc_request_duration_seconds",
        Unit::Seconds,
        "gRPC handling time."
    );
    describe_histogram!(
        "triage_store_commit_seconds",
        Unit::Seconds,
        "Group commit: write and fsync (sled), or one transaction to COMMIT (postgres); by store."
    );
    describe_histogram!(
        "triage_scheduler_step_seconds",
        Unit::Seconds,
        "One scheduler step: timers, the batch of commands, dispatch, group commit and answers."
    );
    describe_histogram!(
        "triage_scheduler_batch_commands",
        "Commands taken from the queue per scheduler step (group commit size in calls)."
    );
    describe_histogram!(
        "triage_store_batch_records",
        "Records written per group commit."
    );
    describe_gauge!(
        "triage_leader",
        "PostgreSQL store: 1 while this node leads (serves), 0 while it follows."
    );
    describe_counter!(
        "triage_failovers_total",
        "PostgreSQL store: times this node took the lead over from another."
    );
    describe_gauge!(
        "triage_follower_lag_commits",
        "PostgreSQL store, followers: commits the leader had made that this node's copy lacked at its last look at the change log."
    );
    describe_gauge!(
        "triage_follower_lag_seconds",
        Unit::Seconds,
        "PostgreSQL store, followers: age of the oldest commit this node's copy lacked at its last look (0 when none)."
    );
    describe_gauge!(
        "triage_service_level_target",
        "The policy's service-level target (share of first responses within target)."
    );
    describe_gauge!(
        "triage_sla_target_seconds",
        "The policy's target per clock, tier and channel, at normal priority."
    );
}

/// Registers every labelled counter at zero so rates and alerts work before the first event.
fn zero_counters() {
    for &tier in Tier::ALL {
        for &channel in Channel::ALL {
            let (t, c) = (tier.label(), channel.label());
            counter!("triage_tickets_created_total", "tier" => t, "channel" => c).increment(0);
            counter!("triage_assignments_total", "tier" => t, "channel" => c).increment(0);
            counter!("triage_contacts_abandoned_total", "tier" => t, "channel" => c).increment(0);
            for &metric in SlaMetric::ALL {
                let m = metric.label();
                counter!("triage_sla_met_total", "metric" => m, "tier" => t, "channel" => c)
                    .increment(0);
                counter!("triage_sla_breaches_total", "metric" => m, "tier" => t, "channel" => c)
                    .increment(0);
                counter!("triage_sla_warnings_total", "metric" => m, "tier" => t, "channel" => c)
                    .increment(0);
            }
        }
    }
    for level in [Level::L1, Level::L2, Level::L3] {
        counter!("triage_escalations_total", "level" => level.label()).increment(0);
    }
    counter!("triage_tickets_resolved_total").increment(0);
    gauge!("triage_work_sessions").set(0.0);
    gauge!("triage_long_polls").set(0.0);
    gauge!("triage_store_read_only").set(0.0);
    // Measured within milliseconds of the start (see `watch_store_size`); registered now so
    // that the set of series never changes.
    gauge!("triage_store_size_bytes").set(0.0);
    counter!("triage_follow_ups_due_total").increment(0);
    counter!("triage_tickets_archived_total").increment(0);
    counter!("triage_tickets_pruned_total").increment(0);
    counter!("triage_tickets_erased_total").increment(0);
    counter!("triage_agent_presence_expired_total").increment(0);
    for &reason in CancelReason::ALL {
        counter!("triage_tickets_cancelled_total", "reason" => reason.label()).increment(0);
    }
    for &reason in RequeueReason::ALL {
        counter!("triage_requeues_total", "reason" => reason.label()).increment(0);
    }
    for &channel in Channel::ALL {
        for to in TRANSFER_TARGETS {
            let labels = [("channel", channel.label()), ("to", to)];
            counter!("triage_transfers_total", &labels).increment(0);
        }
    }
    counter!("triage_replies_on_behalf_total").increment(0);
    for change in CHANGES {
        counter!("triage_changes_total", "change" => change).increment(0);
    }
    for &channel in Channel::ALL {
        for outcome in OFFER_OUTCOMES {
            let labels = [("channel", channel.label()), ("outcome", outcome)];
            counter!("triage_offers_total", &labels).increment(0);
        }
    }
    for &presence in Presence::ALL {
        counter!("triage_presence_changes_total", "presence" => presence.label()).increment(0);
    }
    for how in WRAP_UP_ENDS {
        counter!("triage_wrap_ups_ended_total", "how" => how).increment(0);
    }
    for &channel in Channel::ALL {
        for ring in [Ring::DROP_OPTIONAL, Ring::LOWER_MINIMUMS, Ring::ANY_AGENT] {
            let labels = [("channel", channel.label()), ("ring", ring.label())];
            counter!("triage_rings_widened_total", &labels).increment(0);
        }
    }
}

/// How a wrap-up ended, as a bounded label: at its end, or early by `EndWrapUp`.
const WRAP_UP_ENDS: [&str; 2] = ["timed", "early"];

/// Counts what a committed batch did. Called only after the flush: nothing is reported that
/// a crash could take back.
pub fn record_events<'a>(events: impl IntoIterator<Item = &'a Event>) {
    for event in events {
        record_event(event);
    }
}

/// Logs every committed state change at debug: sequence, kind, ticket id and the event's
/// routing facts, each its own field (so a JSON log line carries `"tier":"vip"`, not Rust's
/// `Debug` text). Tickets carry no message bodies, so none can be logged.
pub fn log_events(events: &[Recorded]) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    for r in events {
        let f = EventFields::of(&r.event);
        tracing::debug!(
            seq = r.seq,
            kind = f.kind,
            actor = r.actor.as_str(),
            epoch = r.epoch.map(|e| e.get()),
            ticket = r.event.ticket().map(|t| t.0),
            agent = f.agent,
            tier = f.tier.map(Tier::label),
            channel = f.channel.map(Channel::label),
            metric = f.metric.map(SlaMetric::label),
            level = f.level.map(Level::label),
            reason = f.reason,
            from = f.from.map(Party::label),
            waited_ms = f.waited.map(|s| s.0),
            elapsed_ms = f.elapsed.map(|s| s.0),
            within = f.within,
            "state change"
        );
    }
}

/// The facts of one event as log fields; those the event does not carry stay `None` and are
/// left out of the line.
#[derive(Default)]
struct EventFields<'a> {
    kind: &'static str,
    agent: Option<&'a str>,
    tier: Option<Tier>,
    channel: Option<Channel>,
    metric: Option<SlaMetric>,
    level: Option<Level>,
    reason: Option<&'static str>,
    from: Option<Party>,
    waited: Option<Span>,
    elapsed: Option<Span>,
    within: Option<bool>,
}

impl<'a> EventFields<'a> {
    fn of(event: &'a Event) -> EventFields<'a> {
        let routed = |kind, tier: &Tier, channel: &Channel| EventFields {
            kind,
            tier: Some(*tier),
            channel: Some(*channel),
            ..Default::default()
        };
        match event {
            Event::Created { tier, channel, .. } => routed("created", tier, channel),
            Event::Resolved { tier, channel, .. } => routed("resolved", tier, channel),
            Event::FollowUpDue { tier, channel, .. } => routed("follow_up_due", tier, channel),
            Event::Assigned {
                agent,
                tier,
                channel,
                waited,
                reason,
                ..
            } => EventFields {
                agent: Some(agent.as_str()),
                reason: Some(reason.label()),
                waited: Some(*waited),
                ..routed("assigned", tier, channel)
            },
            Event::ClockMet {
                metric,
                tier,
                channel,
                elapsed,
                within,
                ..
            } => EventFields {
                metric: Some(*metric),
                elapsed: Some(*elapsed),
                within: Some(*within),
                ..routed("clock_met", tier, channel)
            },
            Event::Escalated {
                metric,
                tier,
                channel,
                level,
                ..
            } => EventFields {
                metric: Some(*metric),
                level: Some(*level),
                ..routed("escalated", tier, channel)
            },
            Event::Cancelled {
                tier,
                channel,
                reason,
                ..
            } => EventFields {
                reason: Some(reason.label()),
                ..routed("cancelled", tier, channel)
            },
            Event::Requeued { .. }
            | Event::AgentExpired { .. }
            | Event::Replied { .. }
            | Event::Paused { .. }
            | Event::Resumed { .. }
            | Event::Erased { .. }
            | Event::RepliedOnBehalf { .. }
            | Event::PresenceChanged { .. }
            | Event::WrapUpEnded { .. }
            | Event::WebhookPut { .. }
            | Event::WebhookDeleted { .. }
            | Event::WebhookPaused { .. } => EventFields::unrouted(event),
            Event::RingWidened {
                tier,
                channel,
                ring,
                ..
            } => EventFields {
                reason: Some(ring.label()),
                ..routed("ring_widened", tier, channel)
            },
            Event::Offered {
                agent,
                tier,
                channel,
                reason,
                ..
            } => EventFields {
                agent: Some(agent.as_str()),
                reason: Some(reason.label()),
                ..routed("offered", tier, channel)
            },
            Event::OfferAccepted {
                agent,
                tier,
                channel,
                ..
            } => EventFields {
                agent: Some(agent.as_str()),
                ..routed("offer_accepted", tier, channel)
            },
            Event::OfferRejected {
                agent,
                tier,
                channel,
                ..
            } => EventFields {
                agent: Some(agent.as_str()),
                ..routed("offer_rejected", tier, channel)
            },
            Event::OfferTimedOut {
                agent,
                tier,
                channel,
                away,
                ..
            } => EventFields {
                agent: Some(agent.as_str()),
                reason: away.then_some(MISSED_OFFERS),
                ..routed("offer_timed_out", tier, channel)
            },
            Event::Transferred {
                to, tier, channel, ..
            } => EventFields {
                agent: to.as_ref().map(|a| a.as_str()),
                reason: Some(transfer_target(to)),
                ..routed("transferred", tier, channel)
            },
            Event::Updated { tier, channel, .. } => routed("ticket_updated", tier, channel),
            Event::AgentUpserted { agent, upsert } => EventFields {
                kind: "agent_upserted",
                agent: Some(agent.as_str()),
                reason: Some(upsert.label()),
                ..Default::default()
            },
            Event::PolicyChanged { write } => EventFields {
                kind: "policy_changed",
                reason: Some(write.label()),
                ..Default::default()
            },
        }
    }

    /// The events that carry no tier and channel (`of` sends only those here).
    fn unrouted(event: &'a Event) -> EventFields<'a> {
        let mut f = EventFields::default();
        match event {
            Event::Requeued { reason, .. } => {
                f.kind = "requeued";
                f.reason = Some(reason.label());
            }
            Event::AgentExpired { agent } => {
                f.kind = "agent_expired";
                f.agent = Some(agent.as_str());
            }
            Event::Replied { from, agent, .. } => {
                f.kind = "replied";
                f.from = Some(*from);
                f.agent = agent.as_ref().map(|a| a.as_str());
            }
            Event::Paused { metric, .. } => {
                f.kind = "paused";
                f.metric = Some(*metric);
            }
            Event::Resumed { metric, .. } => {
                f.kind = "resumed";
                f.metric = Some(*metric);
            }
            Event::Erased { .. } => f.kind = "erased",
            Event::WebhookPut { .. } => f.kind = "webhook_put",
            Event::WebhookDeleted { .. } => f.kind = "webhook_deleted",
            Event::WebhookPaused { .. } => f.kind = "webhook_paused",
            Event::RepliedOnBehalf { agent, .. } => {
                f.kind = "replied_on_behalf";
                f.from = Some(Party::Agent);
                f.agent = Some(agent.as_str());
            }
            _ => f.kind = "event",
        }
        f
    }
}

fn record_event(event: &Event) {
    match event {
        Event::Created { tier, channel, .. } => {
            counter!("triage_tickets_created_total", "tier" => tier.label(), "channel" => channel.label()).increment(1);
        }
        Event::Assigned {
            tier,
            channel,
            waited,
            ..
        } => {
            counter!("triage_assignments_total", "tier" => tier.label(), "channel" => channel.label()).increment(1);
            histogram!("triage_wait_seconds", "channel" => channel.label())
                .record(waited.as_secs_f64());
        }
        Event::ClockMet {
            metric,
            tier,
            channel,
            elapsed,
            within,
            ..
        } => {
            if *within {
                let labels = [
                    ("metric", metric.label()),
                    ("tier", tier.label()),
                    ("channel", channel.label()),
                ];
                counter!("triage_sla_met_total", &labels).increment(1);
            }
            match metric {
                SlaMetric::FirstResponse => {
                    histogram!("triage_first_response_seconds", "channel" => channel.label())
                        .record(elapsed.as_secs_f64())
                }
                SlaMetric::Resolution => {
                    histogram!("triage_resolution_seconds", "channel" => channel.label())
                        .record(elapsed.as_secs_f64())
                }
                SlaMetric::NextReply | SlaMetric::FollowUp | SlaMetric::InterimUpdate => {}
            }
        }
        Event::Escalated {
            metric,
            tier,
            channel,
            level,
            ..
        } => {
            let labels = [
                ("metric", metric.label()),
                ("tier", tier.label()),
                ("channel", channel.label()),
            ];
            match level {
                Level::Warning => counter!("triage_sla_warnings_total", &labels).increment(1),
                Level::L1 => counter!("triage_sla_breaches_total", &labels).increment(1),
                _ => {}
            }
            if *level >= Level::L1 {
                counter!("triage_escalations_total", "level" => level.label()).increment(1);
            }
        }
        Event::Requeued { reason, .. } => {
            counter!("triage_requeues_total", "reason" => reason.label()).increment(1);
        }
        Event::Resolved { .. } => counter!("triage_tickets_resolved_total").increment(1),
        Event::Cancelled {
            reason,
            tier,
            channel,
            ..
        } => {
            counter!("triage_tickets_cancelled_total", "reason" => reason.label()).increment(1);
            if *reason == CancelReason::Abandoned {
                counter!("triage_contacts_abandoned_total", "tier" => tier.label(), "channel" => channel.label()).increment(1);
            }
        }
        Event::AgentExpired { .. } => counter!("triage_agent_presence_expired_total").increment(1),
        // Webhooks count their deliveries and pauses themselves (`webhooks::metrics`).
        Event::Replied { .. }
        | Event::Paused { .. }
        | Event::Resumed { .. }
        | Event::WebhookPut { .. }
        | Event::WebhookDeleted { .. }
        | Event::WebhookPaused { .. } => {}
        Event::FollowUpDue { .. } => counter!("triage_follow_ups_due_total").increment(1),
        Event::Erased { tickets } => counter!("triage_tickets_erased_total").increment(*tickets),
        Event::RepliedOnBehalf { .. } => counter!("triage_replies_on_behalf_total").increment(1),
        Event::Transferred { to, channel, .. } => {
            counter!("triage_transfers_total", "channel" => channel.label(), "to" => transfer_target(to)).increment(1);
        }
        Event::Updated { .. } | Event::AgentUpserted { .. } | Event::PolicyChanged { .. } => {
            if let Some(change) = audited_change(event) {
                counter!("triage_changes_total", "change" => change).increment(1);
            }
        }
        Event::Offered { channel, .. }
        | Event::OfferAccepted { channel, .. }
        | Event::OfferRejected { channel, .. }
        | Event::OfferTimedOut { channel, .. } => {
            let outcome = offer_outcome(event);
            counter!("triage_offers_total", "channel" => channel.label(), "outcome" => outcome)
                .increment(1);
        }
        Event::PresenceChanged { presence, .. } => {
            counter!("triage_presence_changes_total", "presence" => presence.label()).increment(1);
        }
        Event::WrapUpEnded { early, .. } => {
            let how = WRAP_UP_ENDS[usize::from(*early)];
            counter!("triage_wrap_ups_ended_total", "how" => how).increment(1);
        }
        Event::RingWidened { channel, ring, .. } => {
            let labels = [("channel", channel.label()), ("ring", ring.label())];
            counter!("triage_rings_widened_total", &labels).increment(1);
        }
    }
}

/// What became of an offer, as a bounded label (`triage_offers_total`).
const OFFER_OUTCOMES: [&str; 4] = ["offered", "accepted", "rejected", "timed_out"];

fn offer_outcome(event: &Event) -> &'static str {
    match event {
        Event::OfferAccepted { .. } => OFFER_OUTCOMES[1],
        Event::OfferRejected { .. } => OFFER_OUTCOMES[2],
        Event::OfferTimedOut { .. } => OFFER_OUTCOMES[3],
        _ => OFFER_OUTCOMES[0],
    }
}

/// The `change` label of `triage_changes_total`: the changes to tickets, agents and the
/// policy that report nothing else to count.
const CHANGES: [&str; 5] = [
    "ticket_updated",
    "agent_created",
    "agent_changed",
    "policy_replace",
    "policy_merge",
];

fn audited_change(event: &Event) -> Option<&'static str> {
    Some(match event {
        Event::Updated { .. } => "ticket_updated",
        Event::AgentUpserted { upsert, .. } => match upsert {
            Upsert::Created => "agent_created",
            Upsert::Changed => "agent_changed",
        },
        Event::PolicyChanged { write } => match write {
            PolicyWrite::Replace => "policy_replace",
            PolicyWrite::Merge => "policy_merge",
        },
        _ => return None,
    })
}

/// Where a transfer went, as a bounded label: to an agent (never which) or to a queue.
const TRANSFER_TARGETS: [&str; 2] = ["agent", "queue"];

fn transfer_target(to: &Option<AgentId>) -> &'static str {
    TRANSFER_TARGETS[usize::from(to.is_none())]
}

/// Archived tickets deleted by retention.
pub fn record_pruned(tickets: usize) {
    if tickets > 0 {
        counter!("triage_tickets_pruned_total").increment(tickets as u64);
    }
}

/// Finished tickets a commit moved to the archive.
pub fn record_archived(tickets: usize) {
    if tickets > 0 {
        counter!("triage_tickets_archived_total").increment(tickets as u64);
    }
}

/// Sets every gauge from the scheduler's current figures.
pub fn record_gauges(g: &Gauges, policy: &SlaPolicy, now: Ts) {
    record_policy(policy);
    gauge!("triage_tickets_in_memory").set(g.in_memory as f64);
    for state in [
        TicketState::Queued,
        TicketState::Assigned,
        TicketState::Pending,
    ] {
        for &tier in Tier::ALL {
            for &channel in Channel::ALL {
                let n = g.tickets.get(state, tier, channel) as f64;
                let labels = [
                    ("state", state.label()),
                    ("tier", tier.label()),
                    ("channel", channel.label()),
                ];
                gauge!("triage_tickets_open", &labels).set(n);
            }
        }
    }
    for &(tier, channel, depth, oldest) in &g.queues {
        let labels = [("tier", tier.label()), ("channel", channel.label())];
        gauge!("triage_queue_depth", &labels).set(depth as f64);
        let age = oldest.map_or(0.0, |at| now.since(at).as_secs_f64());
        gauge!("triage_queue_oldest_age_seconds", &labels).set(age);
    }
    for &presence in Presence::ALL {
        gauge!("triage_agents", "presence" => presence.label())
            .set(g.agents[presence.index()] as f64);
    }
}

/// The targets in force, so alerts and dashboards compare against the policy, not a copy.
fn record_policy(policy: &SlaPolicy) {
    gauge!("triage_service_level_target").set(policy.service_level_target);
    for &metric in SlaMetric::FROM_POLICY {
        for &tier in Tier::ALL {
            for &channel in Channel::ALL {
                let target = policy.target(metric, channel, tier, Priority::Normal, false);
                let labels = [
                    ("metric", metric.label()),
                    ("tier", tier.label()),
                    ("channel", channel.label()),
                ];
                let seconds = target.map_or(0.0, Span::as_secs_f64);
                gauge!("triage_sla_target_seconds", &labels).set(seconds);
            }
        }
    }
}

/// One group commit's latency, labelled by the store that made it durable (`Store::name`:
/// "sled" or "postgres", a bounded set).
pub fn record_commit(elapsed: Duration, records: usize, store: &'static str) {
    histogram!("triage_store_commit_seconds", "store" => store).record(elapsed.as_secs_f64());
    histogram!("triage_store_batch_records").record(records as f64);
}

/// One owner step: how long it took and how many commands it served.
pub fn record_step(elapsed: Duration, commands: usize) {
    histogram!("triage_scheduler_step_seconds").record(elapsed.as_secs_f64());
    histogram!("triage_scheduler_batch_commands").record(commands as f64);
}

/// 1 while the store refuses writes and the daemon serves reads only.
pub fn record_read_only(on: bool) {
    gauge!("triage_store_read_only").set(if on { 1.0 } else { 0.0 });
}

/// Whether this node leads (PostgreSQL store; not reported with sled, which always leads).
pub fn record_leader(leads: bool) {
    gauge!("triage_leader").set(if leads { 1.0 } else { 0.0 });
    // Registered at zero with it, so a rate over it works before the first takeover.
    counter!("triage_failovers_total").increment(0);
}

/// How far behind the leader a follower's copy was at its last look (0 and 0 on a leader).
pub fn record_follower_lag(commits: i64, seconds: f64) {
    gauge!("triage_follower_lag_commits").set(commits as f64);
    gauge!("triage_follower_lag_seconds").set(seconds);
}

/// This node took the lead over from another.
pub fn record_failover() {
    counter!("triage_failovers_total").increment(1);
}

/// Long polls waiting for a ticket now.
pub fn record_long_polls(n: usize) {
    gauge!("triage_long_polls").set(n as f64);
}

/// A Work session opened (+1) or ended (-1).
pub fn record_work_session(delta: f64) {
    gauge!("triage_work_sessions").increment(delta);
}

pub fn record_rpc(method: &'static str, code: tonic::Code, elapsed: Duration) {
    let code = code_label(code);
    histogram!("triage_grpc_request_duration_seconds", "method" => method, "code" => code)
        .record(elapsed.as_secs_f64());
}

fn code_label(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

/// How often `triage_store_size_bytes` is refreshed: often enough for a soak bench sampling
/// every few seconds, rarely enough that walking the data dir costs nothing.
const STORE_SIZE_EVERY: Duration = Duration::from_secs(2);

/// The daemon's resident memory, from `/proc/self/status` (Linux; elsewhere `None` and the
/// gauge is not exported). A read of one small kernel file, cheap enough for every scrape.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let kib: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib * 1024)
}

/// CPU time the daemon has used since it started, user plus system, over all its threads:
/// `getrusage(RUSAGE_SELF)`, microsecond resolution (Unix; elsewhere `None`).
#[cfg(unix)]
pub fn cpu_seconds() -> Option<f64> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes one `struct rusage` through the pointer, which points to a
    // properly aligned, writable value of that type that outlives the call; it reads nothing.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: a zeroed `rusage` is a valid value (plain integers), and getrusage succeeded.
    let usage = unsafe { usage.assume_init() };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Some(seconds(usage.ru_utime) + seconds(usage.ru_stime))
}

#[cfg(not(unix))]
pub fn cpu_seconds() -> Option<f64> {
    None
}

/// The standard `process_cpu_seconds_total` counter in Prometheus text, appended to each
/// scrape. The `metrics` crate's counters are whole numbers, so this one is written here:
/// rounded to whole seconds it could not measure the CPU of a short bench phase (`triage
/// bench` reads it before and after each phase). Empty where the figure is unknown.
fn process_cpu_text() -> String {
    match cpu_seconds() {
        Some(s) => format!(
            "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n\
             # TYPE process_cpu_seconds_total counter\n\
             process_cpu_seconds_total {s:.6}\n"
        ),
        None => String::new(),
    }
}

/// Bytes the files under `dir` take on disk (allocated blocks, like `du`; symbolic links are
/// not followed). Files that vanish during the walk (sled replaces snapshots) count as 0.
pub fn dir_size_on_disk(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(m) if m.is_dir() => dir_size_on_disk(&entry.path()),
            Ok(m) if m.is_file() => m.blocks() * 512,
            _ => 0,
        })
        .sum()
}

/// Refreshes `triage_store_size_bytes` every `STORE_SIZE_EVERY` until `stop`. The walk runs
/// on the blocking pool, never on the owner task, so it cannot lengthen a scheduler step.
async fn watch_store_size(data_dir: PathBuf, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut every = tokio::time::interval(STORE_SIZE_EVERY);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.changed() => return,
        }
        let dir = data_dir.clone();
        if let Ok(bytes) = tokio::task::spawn_blocking(move || dir_size_on_disk(&dir)).await {
            gauge!("triage_store_size_bytes").set(bytes as f64);
        }
    }
}

/// Serves `GET /metrics` (Prometheus text), `GET /healthz` and the wallboard (`/board`, see
/// `crate::board`) on `listener` until `shutdown`, with the size of `data_dir` among the
/// metrics.
pub async fn serve(
    listener: TcpListener,
    handle: PrometheusHandle,
    board: crate::board::Routes,
    data_dir: PathBuf,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let upkeep = handle.clone();
    let mut stop = shutdown.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = every.tick() => upkeep.run_upkeep(),
                _ = stop.changed() => return,
            }
        }
    });
    tokio::spawn(watch_store_size(data_dir, shutdown.clone()));
    let mut stop = shutdown;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        let (handle, board) = (handle.clone(), board.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let answer = board.respond(&req);
                respond(req, handle.clone(), answer)
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await
            {
                tracing::debug!(error = %e, "metrics connection ended with an error");
            }
        });
    }
}

/// The answer to `req`: the wallboard's (`board`) if it had one, else the metrics server's.
async fn respond(
    req: Request<hyper::body::Incoming>,
    handle: PrometheusHandle,
    board: Option<Response<Full<Bytes>>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if let Some(answer) = board {
        return Ok(answer);
    }
    let (status, content_type, body) = match (req.method(), req.uri().path()) {
        (&Method::GET, "/metrics") => {
            if let Some(bytes) = resident_bytes() {
                gauge!("process_resident_memory_bytes").set(bytes as f64);
            }
            (
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                handle.render() + &process_cpu_text(),
            )
        }
        (&Method::GET, "/healthz") => (StatusCode::OK, "text/plain", "ok\n".to_string()),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: try /metrics or /board\n".to_string(),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = hyper::header::HeaderValue::from_str(content_type) {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    Ok(response)
}
