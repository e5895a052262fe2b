//! Settings: defaults, then an optional TOML file, then `TRIAGE_*` environment variables and
//! command-line flags (clap reads both; flags win). The file's `[policy]` table, when present,
//! is put in force at boot; without it the policy stored by `PutSlaPolicy` (or the DOMAIN.md
//! defaults on a fresh data dir) applies.

use crate::core::policy::SlaPolicy;
use crate::core::types::{Channel, Span};
use crate::core::CoreConfig;
use crate::webhooks::WebhookSpec;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Capacity per channel for agents whose profile leaves a channel out.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DefaultCapacity {
    pub chat: u32,
    pub messenger: u32,
    pub email: u32,
    pub phone: u32,
    pub social: u32,
    pub review: u32,
}

impl Default for DefaultCapacity {
    fn default() -> Self {
        let [chat, messenger, email, phone, social, review] =
            CoreConfig::default().default_capacity;
        DefaultCapacity {
            chat,
            messenger,
            email,
            phone,
            social,
            review,
        }
    }
}

/// The TOML file's schema. Every key is optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileConfig {
    pub grpc_addr: Option<SocketAddr>,
    pub metrics_addr: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    /// A PostgreSQL URL (`postgres://user@host:port/db`): keep the records there instead of
    /// in sled under `data_dir` (see README "PostgreSQL store").
    pub store: Option<String>,
    /// This node's address as clients should dial it (`host:port`): its name as the store's
    /// lease holder, and what followers tell clients (see README "High availability").
    pub advertise_addr: Option<String>,
    /// How long a PostgreSQL leader's lease lasts unrenewed (default 5s).
    pub lease_ttl: Option<Span>,
    /// Longest long-poll a `PullNextTicket` may wait (default 30s).
    pub max_pull_wait: Option<Span>,
    /// Commands that may wait for the scheduler before callers get RESOURCE_EXHAUSTED.
    pub queue_capacity: Option<usize>,
    /// How long a group commit may wait for the callers the last one answered (default 1ms,
    /// "0s" never waits).
    pub commit_gather: Option<Span>,
    /// How long a `request_id` is remembered for idempotent retries (default 24h).
    pub request_window: Option<Span>,
    /// How far back an import's `created_at` may reach (default 30d).
    pub max_backdate: Option<Span>,
    /// sled's page cache in MiB (default: 1/256 of the machine's or container's memory, 64 to
    /// 256 MiB).
    pub store_cache_mb: Option<u64>,
    /// Bearer tokens and their roles (see `auth`); without it only loopback is served.
    pub auth_file: Option<PathBuf>,
    /// Serve a non-loopback address without `auth_file`: anyone who can connect may do
    /// anything. `--insecure` sets it too.
    pub insecure: bool,
    /// TLS: the server's certificate chain and key (PEM), and the CA that client certificates
    /// must chain to (mutual TLS) if given.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub tls_client_ca: Option<PathBuf>,
    pub default_capacity: DefaultCapacity,
    pub events: EventRetention,
    pub retention: ArchiveRetention,
    pub limits: ServerLimits,
    pub policy: Option<SlaPolicy>,
    /// `[[webhooks]]`: put at every boot (see `Settings::webhooks`).
    pub webhooks: Vec<WebhookSpec>,
}

/// Bounds on what callers may hold open or send, each refused with RESOURCE_EXHAUSTED (a
/// message too large: OUT_OF_RANGE, as tonic reports it) rather than degrading everyone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerLimits {
    /// Largest request or response message.
    pub max_message_bytes: usize,
    /// Concurrent HTTP/2 streams (calls in flight) per connection.
    pub max_streams_per_connection: u32,
    /// Long polls (`PullNextTicket` with `wait`) waiting at once.
    pub max_long_polls: usize,
    /// `Work` sessions and `WatchEvents` streams open at once.
    pub max_streams: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_message_bytes: 4 << 20,
            max_streams_per_connection: 256,
            max_long_polls: 10_000,
            max_streams: 10_000,
        }
    }
}

/// How much history the event log keeps (resolved from `EventRetention`). Older events are
/// pruned in the background.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Retention {
    pub max_count: u64,
    pub max_age: Span,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            max_count: 1_000_000,
            max_age: Span::hours(24 * 7),
        }
    }
}

/// How much of the event stream (`WatchEvents`) is kept for resuming watchers, as the file
/// writes it.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventRetention {
    pub retain_count: u64,
    pub retain_age: Span,
}

impl Default for EventRetention {
    fn default() -> Self {
        let d = Retention::default();
        EventRetention {
            retain_count: d.max_count,
            retain_age: d.max_age,
        }
    }
}

/// How long finished tickets stay in the archive (`[retention]`): older ones are deleted in
/// the background, with their index entries.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArchiveRetention {
    pub finished_after: Span,
}

impl Default for ArchiveRetention {
    /// 400 days: a year of history and a month to spare for year-on-year reports.
    fn default() -> Self {
        ArchiveRetention {
            finished_after: Span::hours(24 * 400),
        }
    }
}

impl FileConfig {
    pub fn load(path: &Path) -> anyhow::Result<FileConfig> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read config {}: {e}", path.display()))?;
        let config: FileConfig =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("config {}: {e}", path.display()))?;
        if let Some(policy) = &config.policy {
            policy
                .validate()
                .map_err(|e| anyhow::anyhow!("config {}: policy.{e}", path.display()))?;
        }
        check_webhooks(&config.webhooks)
            .map_err(|e| anyhow::anyhow!("config {}: {e}", path.display()))?;
        Ok(config)
    }
}

/// Everything `serve` needs, resolved.
#[derive(Clone, Debug)]
pub struct Settings {
    pub grpc_addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    pub data_dir: PathBuf,
    /// The PostgreSQL URL when the records live there; `None`: sled in `data_dir`.
    pub store: Option<String>,
    /// This node's name as lease holder and the address followers send clients to, when
    /// given (else see `advertise`).
    pub advertise_addr: Option<String>,
    /// How long a lease lasts unrenewed (PostgreSQL store).
    pub lease_ttl: std::time::Duration,
    pub max_pull_wait: Span,
    pub queue_capacity: usize,
    pub commit_gather: Span,
    pub store_cache_bytes: u64,
    pub limits: ServerLimits,
    pub auth_file: Option<PathBuf>,
    /// Serve a non-loopback address without a token file.
    pub insecure: bool,
    pub tls: Option<TlsFiles>,
    pub core: CoreConfig,
    pub events: Retention,
    /// How long finished tickets are kept in the archive.
    pub keep_finished: Span,
    /// The policy to put in force at boot, if the config file has one.
    pub policy: Option<SlaPolicy>,
    /// Webhooks put at every boot: created, or their definitions put back (cursor kept; a
    /// paused one stays paused until `PutWebhook` resumes it). Webhooks put over the API are
    /// kept too.
    pub webhooks: Vec<WebhookSpec>,
}

/// Where the TLS material is (PEM files, read at boot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
}

pub const DEFAULT_GRPC_ADDR: &str = "127.0.0.1:50051";
/// A group commit waits at most this long for more calls by default: about two `fdatasync`s
/// on a cloud disk, a small price in latency for commits of many calls, each costing about
/// as much CPU as a dozen calls.
pub const DEFAULT_COMMIT_GATHER: Span = Span(1);
/// More would make every caller wait that long whenever one of the last step's callers does
/// not call again.
pub const MAX_COMMIT_GATHER: Span = Span(100);
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9464";
pub const DEFAULT_DATA_DIR: &str = "./triage-data";
/// The furthest `max_backdate` may reach: a year and a day, past any backlog worth migrating
/// with its SLA age.
pub const MAX_BACKDATE: Span = Span::hours(24 * 366);

/// Values given on the command line or in the environment (they override the file).
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub grpc_addr: Option<SocketAddr>,
    pub metrics_addr: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub store: Option<String>,
    pub advertise_addr: Option<String>,
    pub auth_file: Option<PathBuf>,
    pub insecure: bool,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub tls_client_ca: Option<PathBuf>,
}

impl DefaultCapacity {
    /// The capacities indexed by `Channel::index`.
    fn per_channel(&self) -> [u32; Channel::COUNT] {
        let mut out = [0; Channel::COUNT];
        for (channel, n) in [
            (Channel::Chat, self.chat),
            (Channel::Messenger, self.messenger),
            (Channel::Email, self.email),
            (Channel::Phone, self.phone),
            (Channel::Social, self.social),
            (Channel::Review, self.review),
        ] {
            out[channel.index()] = n;
        }
        out
    }
}

impl ServerLimits {
    fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.max_message_bytes >= 1024
                && self.max_streams_per_connection > 0
                && self.max_long_polls > 0
                && self.max_streams > 0,
            "limits: max_message_bytes must be at least 1024 and the others at least 1"
        );
        Ok(())
    }
}

impl EventRetention {
    fn resolve(&self) -> anyhow::Result<Retention> {
        anyhow::ensure!(
            self.retain_count > 0,
            "events.retain_count must be at least 1"
        );
        anyhow::ensure!(self.retain_age.0 > 0, "events.retain_age must be positive");
        Ok(Retention {
            max_count: self.retain_count,
            max_age: self.retain_age,
        })
    }
}

impl TlsFiles {
    /// TLS files from the settings: none, or a certificate and key (and optionally a client CA).
    fn pair(
        cert: Option<PathBuf>,
        key: Option<PathBuf>,
        client_ca: Option<PathBuf>,
    ) -> anyhow::Result<Option<TlsFiles>> {
        match (cert, key, client_ca) {
            (Some(cert), Some(key), client_ca) => Ok(Some(TlsFiles {
                cert,
                key,
                client_ca,
            })),
            (None, None, None) => Ok(None),
            (None, None, Some(_)) => anyhow::bail!("tls_client_ca needs tls_cert and tls_key"),
            _ => anyhow::bail!("tls_cert and tls_key go together"),
        }
    }
}

impl Settings {
    pub fn resolve(file: FileConfig, over: Overrides) -> anyhow::Result<Settings> {
        let parse = |s: &str| s.parse::<SocketAddr>().map_err(anyhow::Error::from);
        let grpc_addr = over
            .grpc_addr
            .or(file.grpc_addr)
            .map_or_else(|| parse(DEFAULT_GRPC_ADDR), Ok)?;
        let metrics_addr = over
            .metrics_addr
            .or(file.metrics_addr)
            .map_or_else(|| parse(DEFAULT_METRICS_ADDR), Ok)?;
        let default_capacity = file.default_capacity.per_channel();
        let request_window = file
            .request_window
            .unwrap_or(CoreConfig::default().request_window);
        anyhow::ensure!(
            (Span::secs(1)..=Span::hours(24 * 30)).contains(&request_window),
            "request_window must be between 1s and 30d"
        );
        let max_backdate = file
            .max_backdate
            .unwrap_or(CoreConfig::default().max_backdate);
        anyhow::ensure!(
            max_backdate <= MAX_BACKDATE,
            "max_backdate must be at most {MAX_BACKDATE} (0s allows no backdating)"
        );
        let queue_capacity = file.queue_capacity.unwrap_or(65_536);
        anyhow::ensure!(queue_capacity > 0, "queue_capacity must be at least 1");
        let commit_gather = file.commit_gather.unwrap_or(DEFAULT_COMMIT_GATHER);
        anyhow::ensure!(
            commit_gather <= MAX_COMMIT_GATHER,
            "commit_gather must be at most {MAX_COMMIT_GATHER}"
        );
        let store_cache_mb = file
            .store_cache_mb
            .unwrap_or(crate::store::default_cache_bytes() >> 20);
        anyhow::ensure!(
            (1..=1 << 20).contains(&store_cache_mb),
            "store_cache_mb must be between 1 and 1048576"
        );
        let tls = TlsFiles::pair(
            over.tls_cert.or(file.tls_cert),
            over.tls_key.or(file.tls_key),
            over.tls_client_ca.or(file.tls_client_ca),
        )?;
        file.limits.check()?;
        let events = file.events.resolve()?;
        let keep_finished = file.retention.finished_after;
        anyhow::ensure!(
            keep_finished.0 > 0,
            "retention.finished_after must be positive"
        );
        let store = over.store.or(file.store).filter(|s| !s.is_empty());
        if let Some(url) = &store {
            anyhow::ensure!(
                url.starts_with("postgres://") || url.starts_with("postgresql://"),
                "store must be a PostgreSQL URL (postgres://user@host:port/database), not {:?}",
                redact(url)
            );
        }
        let advertise_addr = over
            .advertise_addr
            .or(file.advertise_addr)
            .filter(|a| !a.is_empty());
        let lease_ttl = file.lease_ttl.unwrap_or(DEFAULT_LEASE_TTL);
        anyhow::ensure!(
            (Span::secs(2)..=Span::secs(600)).contains(&lease_ttl),
            "lease_ttl must be between 2s and 10m"
        );
        Ok(Settings {
            grpc_addr,
            metrics_addr,
            store,
            advertise_addr,
            lease_ttl: std::time::Duration::from_millis(lease_ttl.0),
            data_dir: over
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            max_pull_wait: file.max_pull_wait.unwrap_or(Span::secs(30)),
            queue_capacity,
            commit_gather,
            store_cache_bytes: store_cache_mb << 20,
            limits: file.limits,
            auth_file: over.auth_file.or(file.auth_file),
            insecure: over.insecure || file.insecure,
            tls,
            core: CoreConfig {
                default_capacity,
                request_window,
                max_backdate,
            },
            events,
            keep_finished,
            policy: file.policy,
            webhooks: file.webhooks,
        })
    }
}

/// Every `[[webhooks]]` entry valid, and no id twice.
fn check_webhooks(specs: &[WebhookSpec]) -> Result<(), String> {
    let mut ids = std::collections::HashSet::new();
    for (i, spec) in specs.iter().enumerate() {
        if let Err(e) = spec.clone().check(0, false) {
            return Err(format!("webhooks[{i}].{}: {}", e.field, e.reason));
        }
        if !ids.insert(spec.id.as_str()) {
            return Err(format!("webhooks[{i}].id: {:?} is given twice", spec.id));
        }
    }
    Ok(())
}

/// The lease lasts this long unrenewed by default. The leader renews it every second, so a
/// 5 s lease survives four missed renewals (a GC-free process only misses them when paused or
/// cut off); a dead leader is normally noticed long before, by its connection's end (README
/// "High availability"), so the TTL only bounds the takeover from a paused or partitioned one.
pub const DEFAULT_LEASE_TTL: Span = Span::secs(5);

impl Settings {
    /// The address clients should dial this node at, listening on `bound`: `advertise_addr`
    /// when given, else the address bound (its real port when the configured one was 0)
    /// unless unspecified (0.0.0.0, ::), else this host's name and the port.
    pub fn advertise(&self, bound: SocketAddr) -> String {
        match &self.advertise_addr {
            Some(given) => given.clone(),
            None if bound.ip().is_unspecified() => format!("{}:{}", hostname(), bound.port()),
            None => bound.to_string(),
        }
    }
}

/// This host's name ("triage" when the system does not say).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "triage".into())
}

/// `url` without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user = &url[scheme + 3..at];
            match user.split_once(':') {
                Some((name, _)) => format!("{}{name}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_store_url_comes_from_flag_env_or_file_and_must_be_postgres() {
        let file: FileConfig = toml::from_str("store = \"postgres://a@h/db\"").expect("parses");
        let from_file = Settings::resolve(file.clone(), Overrides::default()).expect("file");
        assert_eq!(from_file.store.as_deref(), Some("postgres://a@h/db"));
        let over = Overrides {
            store: Some("postgresql://b@h/db".into()),
            ..Default::default()
        };
        let flag = Settings::resolve(file, over).expect("flag");
        assert_eq!(
            flag.store.as_deref(),
            Some("postgresql://b@h/db"),
            "the flag wins"
        );
        let none = Settings::resolve(FileConfig::default(), Overrides::default()).expect("none");
        assert_eq!(none.store, None, "no store: sled");
        let bad: FileConfig = toml::from_str("store = \"mysql://u:pw@h/db\"").expect("parses");
        let err = Settings::resolve(bad, Overrides::default()).expect_err("not postgres");
        assert!(err.to_string().contains("u:***@h/db"), "{err}");
    }
    use super::*;

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let file: FileConfig = toml::from_str(
            "grpc_addr = \"127.0.0.1:7000\"\nmetrics_addr = \"127.0.0.1:7001\"\n[default_capacity]\nchat = 1\n",
        )
        .expect("toml");
        let over = Overrides {
            grpc_addr: Some("127.0.0.1:8000".parse().expect("addr")),
            ..Default::default()
        };
        let s = Settings::resolve(file, over).expect("resolve");
        assert_eq!(s.grpc_addr.port(), 8000);
        assert_eq!(s.metrics_addr.port(), 7001);
        assert_eq!(s.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(s.core.default_capacity, [1, 3, 5, 1, 2, 5]);
        assert_eq!(s.max_pull_wait, Span::secs(30));
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<FileConfig>("grpc_adr = \"x\"").is_err());
    }

    #[test]
    fn the_shipped_example_config_parses_and_matches_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/triage.toml");
        let file = FileConfig::load(&path).expect("deploy/triage.toml loads");
        assert_eq!(
            file.policy, None,
            "the shipped file leaves the policy to the API (its [policy] is an example)"
        );
        assert!(!file.insecure && file.auth_file.is_none());
        assert_eq!(file.default_capacity, DefaultCapacity::default());
        assert_eq!(file.events, EventRetention::default());
        assert_eq!(file.retention, ArchiveRetention::default());
        assert_eq!(file.limits, ServerLimits::default());
        let settings = Settings::resolve(file, Overrides::default()).expect("resolves");
        assert_eq!(
            settings.store_cache_bytes,
            crate::store::default_cache_bytes()
        );
        assert_eq!(settings.core, CoreConfig::default());
    }

    #[test]
    fn max_backdate_is_read_and_bounded() {
        let resolve = |text: &str| {
            let file: FileConfig = toml::from_str(text).expect("parses");
            Settings::resolve(file, Overrides::default())
        };
        let week = resolve("max_backdate = \"7d\"").expect("7d resolves");
        assert_eq!(week.core.max_backdate, Span::hours(24 * 7));
        let none = resolve("max_backdate = \"0s\"").expect("0s resolves");
        assert_eq!(none.core.max_backdate, Span(0));
        let err = resolve("max_backdate = \"367d\"").expect_err("367d is refused");
        assert!(err.to_string().contains("max_backdate"), "{err}");
    }

    #[test]
    fn the_shipped_files_commented_policy_uncommented_is_the_default_policy() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/triage.toml");
        let text = std::fs::read_to_string(path).expect("read deploy/triage.toml");
        let example = text
            .split_once("# [policy]\n")
            .map(|(_, rest)| format!("[policy]\n{rest}"))
            .expect("the file carries a commented [policy] example");
        let uncommented: String = example
            .lines()
            .map(|line| {
                line.strip_prefix("# ")
                    .or(line.strip_prefix('#'))
                    .unwrap_or(line)
            })
            .map(|line| format!("{line}\n"))
            .collect();
        let file: FileConfig = toml::from_str(&uncommented).expect("the example parses");
        assert_eq!(file.policy, Some(SlaPolicy::default()));
    }

    #[test]
    fn insecure_can_be_set_in_the_file_or_by_flag() {
        let file: FileConfig = toml::from_str("insecure = true").expect("parses");
        let from_file = Settings::resolve(file, Overrides::default()).expect("resolves");
        assert!(from_file.insecure);
        let by_flag = Overrides {
            insecure: true,
            ..Overrides::default()
        };
        let from_flag = Settings::resolve(FileConfig::default(), by_flag).expect("resolves");
        assert!(from_flag.insecure);
        let neither = Settings::resolve(FileConfig::default(), Overrides::default());
        assert!(!neither.expect("resolves").insecure);
    }

    #[test]
    fn the_business_hours_example_parses_and_validates() {
        use crate::core::types::{Channel, Tier, Widen};
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/examples/business-hours.toml");
        let file = FileConfig::load(&path).expect("the example loads and validates");
        let policy = file.policy.expect("a policy");
        assert_eq!(policy.widening.l3, Widen::Supervisors);
        assert_eq!(
            policy
                .channel_calendars
                .get(&Channel::Email)
                .map(String::as_str),
            Some("office")
        );
        let office = policy
            .calendar(Channel::Review)
            .expect("reviews use the office");
        assert_eq!(office.holidays.len(), 3);
        let vip_chat = &policy.overrides[&Tier::Vip][&Channel::Chat];
        assert_eq!(vip_chat.first_response, Some(Span::secs(15)));
        assert_eq!(policy.targets.email.follow_up, Span::hours(72));
        assert_eq!(policy.targets.chat, SlaPolicy::default().targets.chat);
        // The README's claims about this example.
        let berlin = |d: u32, m: u32, h: u32, mi: u32| {
            use chrono::TimeZone;
            let t = chrono_tz::Europe::Berlin.with_ymd_and_hms(2026, m, d, h, mi, 0);
            crate::core::types::Ts(t.single().expect("unambiguous").timestamp_millis())
        };
        let email = policy
            .calendar(Channel::Email)
            .expect("email uses the office");
        let two_hours = Span::hours(2);
        assert_eq!(
            email.add(berlin(27, 11, 17, 55), two_hours),
            berlin(30, 11, 10, 55)
        );
        assert_eq!(
            email.add(berlin(24, 12, 12, 0), two_hours),
            berlin(28, 12, 10, 0)
        );
    }
}
