//! `triage simulate`'s speed: a generated day of 100,000 contacts (the DOMAIN.md mix, live
//! conversations as by default) and 200 agents through triage's desk (the real core on
//! virtual time), on one core. The bar is under 2 s.
//! Run: `cargo bench --bench simulate`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::Duration;
use triage::core::policy::SlaPolicy;
use triage::simulate::{day_roster, simulate, traffic, DAY_START};

fn day(c: &mut Criterion) {
    let contacts = traffic::generated_day(100_000, DAY_START, 1, Default::default());
    let roster = day_roster(200, 1);
    let policy = SlaPolicy::default();
    let mut g = c.benchmark_group("simulate");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(contacts.len() as u64));
    g.bench_function("day_100k_contacts_200_agents", |b| {
        b.iter(|| simulate(&policy, &contacts, &roster, false).expect("simulate"))
    });
    g.finish();
}

criterion_group!(benches, day);
criterion_main!(benches);
