//! A daemon of the bench's own: the same binary's `serve` on free loopback ports and a fresh
//! temporary data dir, stopped with SIGTERM and removed afterwards.

use anyhow::Context;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub struct Spawned {
    child: Child,
    dir: PathBuf,
    pub grpc: String,
}

impl Spawned {
    pub fn start() -> anyhow::Result<Spawned> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("triage-bench-{}-{nanos}", std::process::id()));
        let exe = std::env::current_exe().context("locating the triage binary")?;
        let mut child = Command::new(exe)
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
        Ok(Spawned {
            grpc: format!("http://{grpc}"),
            child,
            dir,
        })
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
