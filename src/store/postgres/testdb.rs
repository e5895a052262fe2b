//! A throwaway PostgreSQL server for tests, shared by the unit tests (`cfg(test)`) and the
//! integration suite (which includes this file by path): one server per test binary, started
//! on first use with Debian's `initdb`/`pg_ctl` in a temporary directory, listening on a free
//! loopback port (its socket in that directory too), `fsync=on` since durability is the point.
//! As root it runs as the `postgres` user, who owns the directory. A watcher process stops it
//! (`pg_ctl stop -m immediate`) and deletes the directory once the test binary has exited,
//! however it exits. Only std: the integration suite compiles this file on its own.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// A running server.
pub struct Server {
    bin: PathBuf,
    base: PathBuf,
    port: u16,
    as_postgres: bool,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

/// The binary's server, started on first use; `Err` says why there is none (no PostgreSQL
/// installed, or it failed to start), for the caller to skip or fail with.
pub fn server() -> Result<&'static Server, String> {
    SERVER
        .get_or_init(Server::start)
        .as_ref()
        .map_err(Clone::clone)
}

impl Server {
    /// A server of the caller's own, for a test that restarts it (the shared one serves other
    /// tests meanwhile); stopped like the shared one when the binary exits.
    pub fn start_own() -> Result<Server, String> {
        Server::start()
    }

    /// Stops the server at once (as a crash would) and starts it again, with the same options.
    pub fn restart_immediate(&self) -> Result<(), String> {
        let data = s(&self.base.join("data"));
        let log = s(&self.base.join("server.log"));
        let args = [
            "-D",
            &data,
            "-l",
            &log,
            "-m",
            "immediate",
            "-w",
            "-t",
            "60",
            "restart",
        ];
        self.run("pg_ctl", &args)
    }

    fn start() -> Result<Server, String> {
        let bin = find_bin().ok_or(
            "PostgreSQL's initdb is not installed (apt-get install postgresql)".to_string(),
        )?;
        let as_postgres = running_as_root();
        let base = std::env::temp_dir().join(format!(
            "triage-pg-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir(&base).map_err(|e| format!("{}: {e}", base.display()))?;
        if as_postgres {
            let uid = |flag: &str| -> Result<u32, String> {
                let out = Command::new("id").args([flag, "postgres"]).output();
                let out = out.map_err(|e| format!("id postgres: {e}"))?;
                String::from_utf8_lossy(&out.stdout)
                    .trim()
                    .parse()
                    .map_err(|_| "no postgres user to run PostgreSQL as root".to_string())
            };
            std::os::unix::fs::chown(&base, Some(uid("-u")?), Some(uid("-g")?))
                .map_err(|e| format!("chown {}: {e}", base.display()))?;
        }
        let port = free_port()?;
        let server = Server {
            bin,
            base,
            port,
            as_postgres,
        };
        server.watch_for_exit()?;
        let data = server.base.join("data");
        server.run(
            "initdb",
            &[
                "-D",
                &s(&data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=on -c max_connections=300",
            s(&server.base)
        );
        let log = server.base.join("server.log");
        server.run(
            "pg_ctl",
            &[
                "-D",
                &s(&data),
                "-l",
                &s(&log),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )?;
        Ok(server)
    }

    /// A new, empty database: its URL.
    pub fn fresh_database(&self) -> Result<String, String> {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "t{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        self.database(&name)
    }

    /// The database `name` (letters, digits and `_`), created if it does not exist: its URL.
    pub fn database(&self, name: &str) -> Result<String, String> {
        let exists = self.psql(
            "postgres",
            &format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
        )?;
        if exists.trim() != "1" {
            self.psql("postgres", &format!("CREATE DATABASE {name}"))?;
        }
        Ok(self.url(name))
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Runs one SQL statement in `database` with psql; what it printed (unaligned, tuples only).
    pub fn psql(&self, database: &str, sql: &str) -> Result<String, String> {
        let psql = self.bin.join("psql");
        let psql = if psql.is_file() {
            psql
        } else {
            PathBuf::from("psql")
        };
        let out = Command::new(psql)
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .args(["-d", database, "-v", "ON_ERROR_STOP=1", "-tA", "-c", sql])
            .output()
            .map_err(|e| format!("psql: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "psql {sql:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs PostgreSQL's tool `tool` (as `postgres` when we are root).
    fn run(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let program = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(&program);
            cmd
        } else {
            Command::new(&program)
        };
        let out = cmd
            .args(args)
            .current_dir(&self.base)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{tool}: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        let log = std::fs::read_to_string(self.base.join("server.log")).unwrap_or_default();
        Err(format!(
            "{tool} failed: {}{}\n{log}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }

    /// A detached shell that waits for this process to exit, then stops the server at once and
    /// deletes its directory.
    fn watch_for_exit(&self) -> Result<(), String> {
        let data = s(&self.base.join("data"));
        let pg_ctl = s(&self.bin.join("pg_ctl"));
        let stop = match self.as_postgres {
            true => format!("runuser -u postgres -- {pg_ctl} -D {data} stop -m immediate"),
            false => format!("{pg_ctl} -D {data} stop -m immediate"),
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {base}",
            pid = std::process::id(),
            base = s(&self.base)
        );
        Command::new("setsid")
            .args(["sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(drop)
            .map_err(|e| format!("starting the server's watcher: {e}"))
    }
}

fn s(path: &Path) -> String {
    path.display().to_string()
}

/// The directory of `initdb` (and `pg_ctl`, `psql`): the PATH's, else the newest of
/// `/usr/lib/postgresql/*/bin` (Debian keeps them off the PATH).
fn find_bin() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("initdb"))
            .find(|p| p.is_file())
    });
    if let Some(initdb) = on_path {
        let real = std::fs::canonicalize(&initdb).unwrap_or(initdb);
        return real.parent().map(Path::to_path_buf);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Whether this process runs as root (PostgreSQL refuses to): the owner of `/proc/self`.
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("port: {e}"))
}
