//! A daemon of the bench's own: the same binary's `serve` on free loopback ports and a fresh
//! temporary data dir, stopped with SIGTERM and removed afterwards.
//!
//! The daemon runs in a process group of its own, so a Ctrl-C at the terminal reaches the bench
//! alone, which reads the final figures from the daemon before stopping it. On Linux the daemon
//! also gets SIGTERM when the bench dies without cleaning up (SIGKILL), so it never outlives the
//! bench; its data dir is then left behind, the one case nothing can remove it.

use anyhow::Context;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub struct Spawned {
    child: Child,
    dir: PathBuf,
    pub grpc: String,
    /// Its metrics address, `HOST:PORT`.
    pub metrics: String,
}

impl Spawned {
    pub fn start() -> anyhow::Result<Spawned> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("triage-bench-{}-{nanos}", std::process::id()));
        let exe = std::env::current_exe().context("locating the triage binary")?;
        let mut command = Command::new(exe);
        command.process_group(0);
        die_with_parent(&mut command);
        let mut child = command
            .args([
                "serve",
                "--grpc-addr",
                "127.0.0.1:0",
                "--metrics-addr",
                "127.0.0.1:0",
            ])
            .arg("--data-dir")
            .arg(&dir)
            .env("TRIAGE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("spawning triage serve")?;
        let stdout = child.stdout.take().context("daemon stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let grpc = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("grpc="))
            .with_context(|| format!("daemon did not start: {line:?}"))?;
        let metrics = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("metrics="))
            .with_context(|| format!("daemon named no metrics address: {line:?}"))?;
        Ok(Spawned {
            grpc: format!("http://{grpc}"),
            metrics: metrics.to_string(),
            child,
            dir,
        })
    }

    /// The daemon's process and data dir, for the signal handler's last resort.
    pub fn emergency(&self) -> super::signals::Emergency {
        super::signals::Emergency {
            pid: self.child.id(),
            dir: self.dir.clone(),
        }
    }

    /// SIGTERM, wait, remove the data dir.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Has the kernel send the daemon SIGTERM when the thread that spawned it ends (Linux; elsewhere
/// nothing). `Spawned::start` runs on the thread that blocks on the bench's runtime, which ends
/// only with the bench.
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe, allocates nothing and touches no
    // memory of ours, so it may run between fork and exec. Failing only loses the safeguard.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_: &mut Command) {}
