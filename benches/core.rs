//! The scheduler core alone (no I/O): 100,000 open tickets on the DOMAIN.md channel mix
//! (messenger 42 %, chat 28 %, email 15 %, phone 10 %, social 5 %) and tier mix (VIP 20 %,
//! new 10 %), 200 agents with mixed languages, products and tiers.
//!
//! `create_assign_resolve`: one create, one pull by a random agent, and the resolve of the
//! ticket it got (three decisions), in steady state.
//! `pull`: one pull against the 100,000-ticket backlog (steady state).
//! `tick_idle`: a timer check with nothing due.
//! Run: `cargo bench --bench core`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use std::time::{Duration, Instant};
use triage::bench::mix::{self, Rng};
use triage::core::command::{Command, Lease, Reply};
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
        };
        s.apply(presence, T0).expect("presence");
    }
    let mut w = World {
        s,
        rng,
        next: 0,
        agents,
    };
    for _ in 0..BACKLOG {
        w.create();
    }
    w.s.take_journal();
    w
}

impl World {
    fn create(&mut self) {
        self.next += 1;
        let t = mix::ticket(&mut self.rng, self.next);
        self.s.apply(Command::CreateTicket(t), T0).expect("create");
    }

    /// Pulls for a random agent; the ticket and lease it got.
    fn pull_lease(&mut self) -> Option<(TicketId, Lease)> {
        let agent = self.agents[self.rng.below(AGENTS as u64)].clone();
        match self.s.apply(Command::Pull(agent.clone()), T0) {
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
            w.create();
            if let Some(lease) = w.pull_lease() {
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
    g.bench_function("pull", |b| {
        // Steady state: each timed pull is preceded by an untimed create and followed by an
        // untimed resolve, so the backlog stays at 100,000 and loads stay bounded.
        let mut w = world();
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                w.create();
                w.s.take_journal();
                let started = Instant::now();
                let lease = black_box(w.pull_lease());
                timed += started.elapsed();
                let (ticket, lease) = lease.expect("the backlog always has an eligible ticket");
                w.s.apply(
                    Command::Resolve {
                        ticket,
                        lease: Some(lease),
                    },
                    T0,
                )
                .expect("resolve");
            }
            w.s.take_journal();
            timed
        });
    });

    g.bench_function("tick_idle", |b| {
        let mut w = world();
        b.iter(|| w.s.tick(black_box(T0)));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
