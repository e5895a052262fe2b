//! The scheduler core alone (no I/O): 100,000 open tickets on the DOMAIN.md channel mix
//! (messenger 42 %, chat 28 %, email 15 %, phone 10 %, social 5 %) and tier mix (VIP 20 %,
//! new 10 %), 200 agents with mixed languages, products and tiers.
//!
//! `create_assign_resolve`: one create, one pull by a random agent, and the resolve of the
//! ticket it got (three decisions), in steady state.
//! `pull`: one pull against the 100,000-ticket backlog (steady state), every ticket within
//! target; `pull_overloaded`: the same an hour later with no tick run, so the backlog is late
//! and only fresh arrivals can still meet their targets (what an overloaded desk's pull sees).
//! `tick_idle`: a timer check with nothing due.
//! `queue_stats/10000` and `queue_stats/1000000`: one GetQueueStats (default one-hour window)
//! after that many full-cycle tickets (created, answered and resolved, one in ten abandoned),
//! one every two seconds, so the window holds the same activity at both sizes and only the
//! number of finished tickets differs; each size also prints the p50 and p99 of single calls.
//! `board/snapshot/N` against `board/queue_stats/N`: the wallboard's once-a-second read (the
//! stats and the clocks at warning) and GetQueueStats alone, over a backlog of N = 10,000 or
//! 100,000 queued tickets 20 s on, its warnings fired.
//! Run: `cargo bench --bench core` (or `-- queue_stats` for the stats figures alone).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use triage::bench::mix::{self, Rng};
use triage::core::command::{Author, Command, Lease, NewTicket, Reply};
use triage::core::policy::SlaPolicy;
use triage::core::types::*;
use triage::core::{CoreConfig, Scheduler};

const BACKLOG: usize = 100_000;
const AGENTS: usize = 200;
const T0: Ts = Ts(1_800_000_000_000);

struct World {
    s: Scheduler,
    rng: Rng,
    next: u64,
    agents: Vec<AgentId>,
}

fn world() -> World {
    world_of(BACKLOG)
}

/// The 200 agents and a backlog of `backlog` tickets, all created at `T0`.
fn world_of(backlog: usize) -> World {
    let mut s = Scheduler::new(SlaPolicy::default(), CoreConfig::default());
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
    let mut agents = Vec::new();
    for i in 0..AGENTS {
        let profile = mix::agent(&mut rng, i, 5);
        agents.push(profile.id.clone());
        s.apply(Command::UpsertAgent(profile), T0).expect("agent");
        let presence = Command::SetPresence {
            agent: agents[i].clone(),
            presence: Presence::Available,
            reason: None,
        };
        s.apply(presence, T0).expect("presence");
    }
    let mut w = World {
        s,
        rng,
        next: 0,
        agents,
    };
    for _ in 0..backlog {
        w.create(T0);
    }
    w.s.take_journal();
    w
}

impl World {
    fn create(&mut self, now: Ts) {
        self.next += 1;
        let t = mix::ticket(&mut self.rng, self.next);
        self.s.apply(Command::CreateTicket(t), now).expect("create");
    }

    /// Pulls for a random agent; the ticket and lease it got.
    fn pull_lease(&mut self, now: Ts) -> Option<(TicketId, Lease)> {
        let agent = self.agents[self.rng.below(AGENTS as u64)].clone();
        match self.s.apply(Command::Pull(agent.clone()), now) {
            Ok(Reply::Pulled(Some(a))) => Some((
                a.ticket.id,
                Lease {
                    agent,
                    epoch: a.lease_epoch,
                },
            )),
            _ => None,
        }
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("core");
    g.sample_size(20).measurement_time(Duration::from_secs(8));

    g.throughput(Throughput::Elements(3));
    g.bench_function("create_assign_resolve", |b| {
        // Steady state: the backlog stays at 100,000 open tickets and agents' loads stay
        // bounded, as on a real desk.
        let mut w = world();
        b.iter(|| {
            w.create(T0);
            if let Some(lease) = w.pull_lease(T0) {
                let resolve = Command::Resolve {
                    ticket: lease.0,
                    lease: Some(lease.1),
                };
                black_box(w.s.apply(resolve, T0).expect("resolve"));
            }
            w.s.take_journal();
        });
    });

    g.throughput(Throughput::Elements(1));
    // Steady state at T0: every waiting ticket can still meet its target.
    g.bench_function("pull", |b| steady_pulls(b, T0));
    // An hour on, with no tick run: the backlog is past its targets (but not escalated), only
    // the fresh arrivals are not, so most heads an agent looks at are late.
    g.bench_function("pull_overloaded", |b| {
        steady_pulls(b, T0.plus(Span::hours(1)))
    });

    g.bench_function("tick_idle", |b| {
        let mut w = world();
        b.iter(|| w.s.tick(black_box(T0)));
    });
    g.finish();
}

/// Times single pulls at `now`: each is preceded by an untimed create and followed by an
/// untimed resolve, so the backlog stays at 100,000 and loads stay bounded.
fn steady_pulls(b: &mut criterion::Bencher, now: Ts) {
    let mut w = world();
    b.iter_custom(|iters| {
        let mut timed = Duration::ZERO;
        for _ in 0..iters {
            w.create(now);
            w.s.take_journal();
            let started = Instant::now();
            let lease = black_box(w.pull_lease(now));
            timed += started.elapsed();
            let (ticket, lease) = lease.expect("the backlog always has an eligible ticket");
            let resolve = Command::Resolve {
                ticket,
                lease: Some(lease),
            };
            w.s.apply(resolve, now).expect("resolve");
        }
        w.s.take_journal();
        timed
    });
}

/// A desk after `n` full-cycle tickets, one created every two seconds and pulled at once by
/// the one agent, answered 20 s later (one in ten abandoned instead) and resolved 20 s after
/// that. VIP chat and phone (15 s first-response target) breach; the rest is within target.
/// Returns the scheduler and the instant of the last step.
fn finished_desk(n: u64) -> (Scheduler, Ts) {
    const LAG: usize = 9;
    let mut s = Scheduler::new(SlaPolicy::default(), CoreConfig::default());
    let agent = AgentId::new("desk");
    let profile = triage::core::command::AgentProfile {
        levels: Default::default(),
        id: agent.clone(),
        display_name: "desk".into(),
        skills: SkillSet::new(Vec::new()),
        tiers: Vec::new(),
        capacity: [Some(10_000); Channel::COUNT],
    };
    s.apply(Command::UpsertAgent(profile), T0).expect("agent");
    let presence = Command::SetPresence {
        agent: agent.clone(),
        presence: Presence::Available,
        reason: None,
    };
    s.apply(presence, T0).expect("presence");
    let mut now = T0;
    let (mut to_answer, mut to_resolve) = (VecDeque::new(), VecDeque::new());
    for i in 0..n {
        now = now.plus(Span::secs(2));
        s.apply(Command::Heartbeat(agent.clone()), now)
            .expect("heartbeat");
        s.apply(Command::CreateTicket(full_cycle_ticket(i)), now)
            .expect("create");
        if let Ok(Reply::Pulled(Some(a))) = s.apply(Command::Pull(agent.clone()), now) {
            let lease = Lease {
                agent: agent.clone(),
                epoch: a.lease_epoch,
            };
            to_answer.push_back((a.ticket.id, lease, i % 10 == 0));
        }
        if to_answer.len() > LAG {
            if let Some((ticket, lease, abandon)) = to_answer.pop_front() {
                if answer(&mut s, ticket, lease.clone(), abandon, now) {
                    to_resolve.push_back((ticket, lease));
                }
            }
        }
        if to_resolve.len() > LAG {
            if let Some((ticket, lease)) = to_resolve.pop_front() {
                let resolve = Command::Resolve {
                    ticket,
                    lease: Some(lease),
                };
                s.apply(resolve, now).expect("resolve");
            }
        }
        s.tick(now);
        s.take_journal();
    }
    (s, now)
}

/// Ticket `i` of the full-cycle desk: every (tier, channel) pair in turn, no skills.
fn full_cycle_ticket(i: u64) -> NewTicket {
    NewTicket {
        needs: None,
        first_skill: 0,
        request_id: String::new(),
        external_id: format!("e{i}"),
        customer_id: format!("c{}", i % 5_000),
        tier: Tier::ALL[(i % 3) as usize],
        channel: Channel::ALL[((i / 3) % Channel::COUNT as u64) as usize],
        priority: Priority::Normal,
        skills: SkillSet::new(Vec::new()),
        sentiment: Sentiment::Neutral,
        preferred_agent: None,
        created_at: None,
    }
}

/// Answers `ticket` (true), or cancels it as abandoned (false).
fn answer(s: &mut Scheduler, ticket: TicketId, lease: Lease, abandon: bool, now: Ts) -> bool {
    if abandon {
        let cancel = Command::Cancel {
            ticket,
            reason: CancelReason::Abandoned,
        };
        s.apply(cancel, now).expect("cancel");
        return false;
    }
    let reply = Command::RecordReply {
        ticket,
        author: Author::Agent(lease),
        next_update_by: None,
    };
    s.apply(reply, now).expect("reply");
    true
}

fn queue_stats(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue_stats");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    for n in [10_000u64, 1_000_000] {
        // Built on first use only, so that runs filtered to other benches skip it.
        let mut desk = None;
        let mut calls: Vec<Duration> = Vec::new();
        g.bench_function(n.to_string(), |b| {
            let (s, now) = desk.get_or_insert_with(|| finished_desk(n));
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    let started = Instant::now();
                    black_box(s.apply(Command::QueueStats, *now).expect("stats"));
                    let took = started.elapsed();
                    timed += took;
                    calls.push(took);
                }
                timed
            });
        });
        calls.sort();
        let at = |q: f64| calls[((calls.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e6;
        if !calls.is_empty() {
            println!(
                "queue_stats/{n}: {} calls, p50 {:.1} us, p99 {:.1} us",
                calls.len(),
                at(0.5),
                at(0.99)
            );
        }
    }
    g.finish();
}

fn board(c: &mut Criterion) {
    let mut g = c.benchmark_group("board");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    let at = T0.plus(Span::secs(20));
    for backlog in [10_000, BACKLOG] {
        let mut w = None;
        for (name, read) in [
            ("snapshot", Command::Board),
            ("queue_stats", Command::QueueStats),
        ] {
            g.bench_function(format!("{name}/{backlog}"), |b| {
                // Built on first use only, so that runs filtered to other benches skip it.
                let w = w.get_or_insert_with(|| {
                    let mut w = world_of(backlog);
                    w.s.tick(at);
                    w.s.take_journal();
                    w
                });
                b.iter(|| black_box(w.s.apply(read.clone(), at).expect("read")));
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench, queue_stats, board);
criterion_main!(benches);
