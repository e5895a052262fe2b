//! Ctrl-C and SIGTERM during a run. The first signal stops the run in order: creators stop,
//! the drain ends, the partial report is printed and the bench's own daemon is stopped and its
//! data dir removed. A second signal (the daemon does not answer, say) gives up on the report:
//! the daemon is killed, its data dir removed, and the bench exits at once.

use std::path::PathBuf;
use std::sync::Arc;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::watch;

/// Raised once, by the first signal; creators and the drain watch it.
pub struct Interrupt(watch::Sender<Option<&'static str>>);

impl Default for Interrupt {
    fn default() -> Interrupt {
        Interrupt(watch::Sender::new(None))
    }
}

impl Interrupt {
    /// Raises the interrupt with the signal's name; later calls change nothing.
    pub fn raise(&self, name: &'static str) {
        self.0.send_if_modified(|now| {
            let first = now.is_none();
            if first {
                *now = Some(name);
            }
            first
        });
    }

    /// The signal that interrupted the run, if one did.
    pub fn get(&self) -> Option<&'static str> {
        *self.0.borrow()
    }

    /// Waits for the interrupt and returns the signal's name.
    pub async fn wait(&self) -> &'static str {
        let mut rx = self.0.subscribe();
        loop {
            if let Some(name) = *rx.borrow_and_update() {
                return name;
            }
            if rx.changed().await.is_err() {
                // The sender lives in `self`, so this cannot happen; wait for ever rather than spin.
                std::future::pending::<()>().await;
            }
        }
    }
}

/// The exit status of a process stopped by the signal `name`: 128 + its number, as shells do.
pub fn exit_code(name: &str) -> i32 {
    match name {
        "SIGTERM" => 143,
        _ => 130,
    }
}

/// What must go even when the bench gives up: its daemon's process and data dir.
#[derive(Clone, Debug)]
pub struct Emergency {
    pub pid: u32,
    pub dir: PathBuf,
}

/// SIGINT and SIGTERM, caught from [`Signals::install`] on: install before starting anything
/// that must be cleaned up, so no signal can end the bench unannounced.
pub struct Signals {
    int: Signal,
    term: Signal,
}

impl Signals {
    pub fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    /// From now on the first signal raises `interrupt` (one caught before is delivered now);
    /// a second kills the daemon of `emergency` (if any), removes its data dir and exits.
    pub fn watch(self, interrupt: Arc<Interrupt>, emergency: Option<Emergency>) {
        let Signals { mut int, mut term } = self;
        tokio::spawn(async move {
            let mut seen = 0;
            loop {
                let name = tokio::select! {
                    _ = int.recv() => "SIGINT",
                    _ = term.recv() => "SIGTERM",
                };
                seen += 1;
                if seen == 1 {
                    eprintln!("\n{name}: stopping the run (again to stop at once)");
                    interrupt.raise(name);
                    continue;
                }
                if let Some(e) = &emergency {
                    let _ = std::process::Command::new("kill")
                        .args(["-KILL", &e.pid.to_string()])
                        .status();
                    let _ = std::fs::remove_dir_all(&e.dir);
                }
                eprintln!("{name} again: stopped without a report");
                std::process::exit(exit_code(name));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_signal_is_the_one_reported() {
        let i = Interrupt::default();
        assert_eq!(i.get(), None);
        i.raise("SIGTERM");
        i.raise("SIGINT");
        assert_eq!(i.get(), Some("SIGTERM"));
        assert_eq!(i.wait().await, "SIGTERM");
        assert_eq!(exit_code("SIGTERM"), 143);
        assert_eq!(exit_code("SIGINT"), 130);
    }

    #[tokio::test]
    async fn waiting_ends_when_the_interrupt_is_raised() {
        let i = Arc::new(Interrupt::default());
        let waiter = tokio::spawn({
            let i = Arc::clone(&i);
            async move { i.wait().await }
        });
        tokio::task::yield_now().await;
        i.raise("SIGINT");
        assert_eq!(waiter.await.ok(), Some("SIGINT"));
    }
}
