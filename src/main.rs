//! The `triage` binary: `triage serve` runs the daemon; `triage ctl` talks to one.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use triage::config::{FileConfig, Overrides, Settings};

/// mimalloc instead of glibc's malloc: the daemon allocates many small, short-lived buffers
/// per call (protobuf, HTTP/2 frames, sled node copies), where glibc's allocator showed up as
/// about a fifth of the daemon's CPU in `perf record`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "triage", version, about = "SLA-driven ticket scheduler daemon")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon: gRPC on --grpc-addr, Prometheus /metrics on --metrics-addr.
    Serve(ServeArgs),
    /// Talk to a running daemon from the shell.
    Ctl(triage::ctl::CtlArgs),
    /// Load-test a daemon (a running one with --target, or one of its own).
    Bench(triage::bench::BenchArgs),
    /// Replay a day of contacts through the scheduler core on a virtual clock, beside FIFO and
    /// round-robin desks, and report service levels.
    Simulate(triage::simulate::SimulateArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// gRPC listen address [default: 127.0.0.1:50051]
    #[arg(long, env = "TRIAGE_GRPC_ADDR")]
    grpc_addr: Option<SocketAddr>,
    /// HTTP listen address: Prometheus /metrics, /healthz and the wallboard /board [default: 127.0.0.1:9464]
    #[arg(long, env = "TRIAGE_METRICS_ADDR")]
    metrics_addr: Option<SocketAddr>,
    /// Where the sled store lives [default: ./triage-data]
    #[arg(long, env = "TRIAGE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Keep the records in PostgreSQL (postgres://user@host:port/db) instead of sled in
    /// --data-dir; the daemon creates and migrates its tables
    #[arg(long, env = "TRIAGE_STORE")]
    store: Option<String>,
    /// This node's address as clients dial it (host:port), with a PostgreSQL store its name
    /// as leader [default: --grpc-addr, or this host's name and its port when unspecified]
    #[arg(long, env = "TRIAGE_ADVERTISE_ADDR")]
    advertise_addr: Option<String>,
    /// A TOML file with settings and the SLA policy (see deploy/triage.toml)
    #[arg(long, env = "TRIAGE_CONFIG")]
    config: Option<PathBuf>,
    /// Bearer tokens and their roles (TOML; `triage ctl token` makes entries). Re-read on SIGHUP.
    #[arg(long, env = "TRIAGE_AUTH_FILE")]
    auth_file: Option<PathBuf>,
    /// Serve a non-loopback gRPC address without --auth-file (anyone who can connect may do
    /// anything).
    #[arg(long, env = "TRIAGE_INSECURE")]
    insecure: bool,
    /// TLS: the server certificate chain (PEM).
    #[arg(long, env = "TRIAGE_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS: the server's private key (PEM).
    #[arg(long, env = "TRIAGE_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Mutual TLS: accept only clients with a certificate from this CA (PEM).
    #[arg(long, env = "TRIAGE_TLS_CLIENT_CA")]
    tls_client_ca: Option<PathBuf>,
    /// Log filter, in tracing's EnvFilter syntax (e.g. "info", "triage=debug")
    #[arg(long, env = "TRIAGE_LOG", default_value = "info")]
    log: String,
    /// Log format
    #[arg(long, env = "TRIAGE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Logs to stderr, in colour only on a terminal (and not under `NO_COLOR`): piped into a file
/// or journald, escape codes would only be noise.
fn init_logs(filter: &str, format: LogFormat) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("bad --log filter {filter:?}"))?;
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    Ok(())
}

/// Every command's error ends the same way: one `error: ...` line with its causes, exit 1
/// (75 for a leader that stepped down, see `daemon::SteppedDown`).
/// An operator's mistake (a bad config, a busy port, a data dir another daemon owns) is no
/// crash, so no backtrace, whatever `RUST_BACKTRACE` says.
fn main() {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => fail(e.into()),
    };
    if let Err(e) = run(cli, &runtime) {
        // Exits before the runtime is dropped, which would wait for any blocking task still
        // running (a read of stdin, say).
        fail(e)
    }
}

fn fail(error: anyhow::Error) -> ! {
    eprintln!("error: {}", causes(&error));
    match error.downcast_ref::<triage::daemon::SteppedDown>() {
        Some(_) => std::process::exit(triage::daemon::SteppedDown::EXIT_CODE),
        None => std::process::exit(1),
    }
}

/// The error and its causes joined by ": ", each said once: a cause whose text its parent's
/// message already ends with (errors that print their source) is left out.
fn causes(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

fn run(cli: Cli, runtime: &tokio::runtime::Runtime) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            init_logs(&args.log, args.log_format)?;
            let file = match &args.config {
                Some(path) => FileConfig::load(path)?,
                None => FileConfig::default(),
            };
            let over = Overrides {
                grpc_addr: args.grpc_addr,
                metrics_addr: args.metrics_addr,
                data_dir: args.data_dir,
                store: args.store,
                advertise_addr: args.advertise_addr,
                auth_file: args.auth_file,
                insecure: args.insecure,
                tls_cert: args.tls_cert,
                tls_key: args.tls_key,
                tls_client_ca: args.tls_client_ca,
            };
            let settings = Settings::resolve(file, over)?;
            runtime.block_on(triage::daemon::serve(settings))
        }
        Command::Ctl(args) => runtime.block_on(triage::ctl::run(args)),
        Command::Bench(args) => runtime.block_on(triage::bench::run(args)),
        Command::Simulate(args) => triage::simulate::main(args),
    }
}

#[cfg(test)]
mod tests {
    use super::causes;

    #[derive(Debug, thiserror::Error)]
    #[error("storage I/O failed: {0}")]
    struct PrintsItsSource(#[source] std::io::Error);

    /// An error that prints its source (thiserror's `{0}` with `#[from]`) would otherwise say
    /// the source twice: `... failed: disk on fire: disk on fire`.
    #[test]
    fn each_cause_is_said_once() {
        let io = std::io::Error::other("disk on fire");
        let error = anyhow::Error::new(PrintsItsSource(io)).context("opening data dir /d");
        assert_eq!(
            causes(&error),
            "opening data dir /d: storage I/O failed: disk on fire"
        );
    }
}
