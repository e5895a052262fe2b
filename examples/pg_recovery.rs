//! Where a recovery from PostgreSQL spends its time (README "High availability"): fetching
//! the rows, decoding them, rebuilding the scheduler, each timed on its own.
//!
//! - `fill URL N`: writes N open tickets (the benches' DOMAIN mix, 200 agents, a request id
//!   per create) through the core and the store's commit path, 10,000 creates a commit, as
//!   the owner would journal them. Minutes for a million at the bench's 3.6k creates/s become
//!   about a minute.
//! - `split URL`: one read of the tickets' rows (no decode), their decode from memory, the
//!   rebuild from decoded records, and a whole `recover_into` + `finish` as a boot does it.
//!
//! `cargo run --release --example pg_recovery -- fill postgres://postgres@127.0.0.1:55491/db 1000000`

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use triage::bench::mix::{self, Rng};
use triage::core::command::{Command, NewTicket};
use triage::core::model::Ticket;
use triage::core::policy::SlaPolicy;
use triage::core::types::{Presence, Ts};
use triage::core::{CoreConfig, Recovered, Scheduler};
use triage::store::{codec, Batch, LiveCounts, PgStore, Store};

/// A key and its value, as stored.
type Row = (Vec<u8>, Vec<u8>);

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const AGENTS: usize = 200;
const SETUP_BATCH: usize = 10_000;

fn now() -> Ts {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    Ts(ms as i64)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["fill", url, n] => fill(url, n.replace(['_', ','], "").parse()?),
        ["split", url] => split(url),
        _ => anyhow::bail!("usage: pg_recovery fill URL N | split URL"),
    }
}

fn fill(url: &str, n: usize) -> anyhow::Result<()> {
    let store = PgStore::open_as(url, "pg_recovery")?;
    let started = Instant::now();
    let t0 = now();
    let mut s = Scheduler::new(SlaPolicy::default(), CoreConfig::default());
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
    for i in 0..AGENTS {
        let profile = mix::agent(&mut rng, i, 5);
        let agent = profile.id.clone();
        s.apply(Command::UpsertAgent(profile), t0)?;
        let presence = Presence::Available;
        let reason = None;
        s.apply(
            Command::SetPresence {
                agent,
                presence,
                reason,
            },
            t0,
        )?;
    }
    for i in 1..=n {
        let ticket = NewTicket {
            first_skill: 0,
            request_id: format!("req-{i:08}"),
            ..mix::ticket(&mut rng, i as u64)
        };
        s.apply(Command::CreateTicket(ticket), t0)?;
        if i % SETUP_BATCH == 0 || i == n {
            let mut batch = Batch::from_journal(&s.take_journal(), &s);
            batch.push_counts(LiveCounts::of(&s));
            store.commit(batch)?;
        }
    }
    eprintln!("filled {n} open tickets in {:?}", started.elapsed());
    Ok(())
}

fn split(url: &str) -> anyhow::Result<()> {
    let (rows, fetch) = fetch_tickets(url)?;
    let bytes: usize = rows.iter().map(|(k, v)| k.len() + v.len()).sum();
    eprintln!(
        "fetch: {} ticket rows, {} MiB, {fetch:?}",
        rows.len(),
        bytes >> 20
    );
    let t = Instant::now();
    let mut tickets: Vec<Ticket> = Vec::with_capacity(rows.len());
    for (k, v) in &rows {
        tickets.push(codec::decode(k, v)?);
    }
    eprintln!("decode: {:?}", t.elapsed());
    drop((rows, tickets));

    let store = PgStore::open_as(url, "pg_recovery")?;
    let t = Instant::now();
    let records: Recovered = store.load_all()?;
    let loaded = t.elapsed();
    eprintln!("recover_into a collecting sink (fetch + decode, every table): {loaded:?}");
    let t = Instant::now();
    let s = Scheduler::restore(SlaPolicy::default(), CoreConfig::default(), records, now())?;
    eprintln!(
        "rebuild from decoded records ({} tickets): {:?}",
        s.ticket_count(),
        t.elapsed()
    );
    drop(s);
    let t = Instant::now();
    let mut restore = Scheduler::restoring(SlaPolicy::default(), CoreConfig::default(), now());
    store.recover_into(&mut restore)?;
    let s = restore.finish();
    eprintln!(
        "a boot's recover_into + finish ({} tickets): {:?}",
        s.ticket_count(),
        t.elapsed()
    );
    std::mem::forget(s);
    Ok(())
}

/// Every row of the tickets' table, as recovery reads it (pages of 1,024 through a portal of
/// one repeatable-read snapshot), not decoded.
fn fetch_tickets(url: &str) -> anyhow::Result<(Vec<Row>, Duration)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (mut client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        let started = Instant::now();
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let st = tx
            .prepare("SELECT key, value FROM triage_tickets ORDER BY key")
            .await?;
        let portal = tx.bind(&st, &[]).await?;
        let mut out = Vec::new();
        loop {
            let page = tx.query_portal(&portal, 1024).await?;
            for row in &page {
                out.push((row.get::<_, Vec<u8>>(0), row.get::<_, Vec<u8>>(1)));
            }
            if page.len() < 1024 {
                break;
            }
        }
        tx.commit().await?;
        Ok((out, started.elapsed()))
    })
}
