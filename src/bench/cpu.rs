//! Server CPU per operation: the daemon's own `process_cpu_seconds_total`, read from its
//! `/metrics` at the start, when the creators are done and at the end of the drain, divided by
//! what the run did in between. Unlike throughput it does not depend on how much of the
//! machine the load generator takes, so it compares a daemon with another server (the Redis
//! reference queue under benches/) measured the same way.
//!
//! A figure is given only for a stretch where it means what it says: µs per create for a
//! stretch in which tickets were created and none assigned (`--agents 0`, or the creates of
//! `--phased`), µs per assignment for one in which agents that hold (`--hold`) pulled and
//! nothing was created, and µs per cycle over the whole run (everything a ticket took: its
//! create and pull, and unless `--hold` its reply, resolve and check-back) once tickets were
//! both created and done. The CPU of idle moments (the end of the drain, the daemon's timers)
//! counts too; it is small beside the load.

use super::soak::MetricsUrl;
use super::workers::Shared;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

/// The daemon's CPU and the run's counts at one moment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mark {
    pub cpu_s: f64,
    pub created: u64,
    pub assigned: u64,
    pub resolved: u64,
}

/// Reads the daemon's CPU seconds now, with the run's counts taken just before; `None` when
/// the scrape fails or the daemon does not export the counter.
pub async fn mark(url: &MetricsUrl, shared: &Shared) -> Option<Mark> {
    let (created, assigned, resolved) = (
        shared.created.load(Relaxed),
        shared.assigned.load(Relaxed),
        shared.resolved.load(Relaxed),
    );
    let scrape = url.scrape().await.ok()?;
    Some(Mark {
        cpu_s: super::soak::value(&scrape, "process_cpu_seconds_total")?,
        created,
        assigned,
        resolved,
    })
}

/// What happened between two marks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stretch {
    pub cpu_s: f64,
    created: u64,
    assigned: u64,
    /// Tickets done: resolved, or assigned when agents hold.
    done: u64,
}

impl Stretch {
    pub fn between(from: Mark, to: Mark, hold: bool) -> Stretch {
        let assigned = to.assigned.saturating_sub(from.assigned);
        Stretch {
            cpu_s: (to.cpu_s - from.cpu_s).max(0.0),
            created: to.created.saturating_sub(from.created),
            assigned,
            done: match hold {
                true => assigned,
                false => to.resolved.saturating_sub(from.resolved),
            },
        }
    }

    fn per(&self, ops: u64) -> Option<f64> {
        (ops > 0).then(|| self.cpu_s * 1e6 / ops as f64)
    }

    /// µs per create, if tickets were created and none assigned.
    pub fn per_create(&self) -> Option<f64> {
        (self.assigned == 0)
            .then(|| self.per(self.created))
            .flatten()
    }

    /// µs per assignment, if agents that only pull (`hold`) took tickets and none were created.
    pub fn per_assignment(&self, hold: bool) -> Option<f64> {
        (hold && self.created == 0)
            .then(|| self.per(self.assigned))
            .flatten()
    }

    /// µs per ticket created and done.
    pub fn per_cycle(&self) -> Option<f64> {
        (self.created > 0).then(|| self.per(self.done)).flatten()
    }

    /// The progress line's figure over a stretch of `wall` time: the cores the daemon kept
    /// busy, and its µs per create or per assignment when the stretch did only that. (Per
    /// cycle needs a whole run: in one second, creates and the pulls of earlier tickets mix.)
    pub fn describe(&self, hold: bool, wall: Duration) -> String {
        let cores = self.cpu_s / wall.as_secs_f64().max(1e-9);
        let per = match (self.per_create(), self.per_assignment(hold)) {
            (Some(us), _) => format!(", {us:.0} µs/create"),
            (None, Some(us)) => format!(", {us:.0} µs/assignment"),
            (None, None) => String::new(),
        };
        format!("server {cores:.2} cores{per}")
    }
}

/// The run's server CPU: its two phases (creating, then draining) and the whole.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerCpu {
    creating: Stretch,
    draining: Stretch,
    whole: Stretch,
    hold: bool,
}

impl ServerCpu {
    /// From the marks at the start, when the creators were done and at the end; `None` if
    /// any of them is missing.
    pub fn new(marks: [Option<Mark>; 3], hold: bool) -> Option<ServerCpu> {
        let [start, created, end] = marks;
        let (start, created, end) = (start?, created?, end?);
        Some(ServerCpu {
            creating: Stretch::between(start, created, hold),
            draining: Stretch::between(created, end, hold),
            whole: Stretch::between(start, end, hold),
            hold,
        })
    }

    pub fn per_create(&self) -> Option<f64> {
        self.creating.per_create()
    }

    pub fn per_assignment(&self) -> Option<f64> {
        self.draining.per_assignment(self.hold)
    }

    pub fn per_cycle(&self) -> Option<f64> {
        self.whole.per_cycle()
    }

    /// `server CPU 12.41 s: 58 µs per create, 61 µs per assignment, 121 µs per cycle`.
    pub fn line(&self) -> String {
        let us = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.0}"));
        format!(
            "server CPU {:.2} s: {} µs per create, {} µs per assignment, {} µs per cycle{}",
            self.whole.cpu_s,
            us(self.per_create()),
            us(self.per_assignment()),
            us(self.per_cycle()),
            match self.hold {
                true => " (create + assignment)",
                false => " (create to check-back)",
            }
        )
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "cpu_s": self.whole.cpu_s,
            "creating_cpu_s": self.creating.cpu_s,
            "draining_cpu_s": self.draining.cpu_s,
            "us_per_create": self.per_create(),
            "us_per_assignment": self.per_assignment(),
            "us_per_cycle": self.per_cycle(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(cpu_s: f64, created: u64, assigned: u64, resolved: u64) -> Mark {
        Mark {
            cpu_s,
            created,
            assigned,
            resolved,
        }
    }

    #[test]
    fn a_phased_holding_run_gives_all_three_figures() {
        let marks = [
            Some(mark(1.0, 0, 0, 0)),
            Some(mark(1.6, 10_000, 0, 0)),
            Some(mark(2.3, 10_000, 10_000, 0)),
        ];
        let cpu = ServerCpu::new(marks, true).expect("three marks");
        let close = |v: Option<f64>, want: f64| v.is_some_and(|v| (v - want).abs() < 1e-6);
        assert!(close(cpu.per_create(), 60.0), "{cpu:?}");
        assert!(close(cpu.per_assignment(), 70.0), "{cpu:?}");
        assert!(close(cpu.per_cycle(), 130.0), "{cpu:?}");
        assert_eq!(
            cpu.line(),
            "server CPU 1.30 s: 60 µs per create, 70 µs per assignment, 130 µs per cycle (create + assignment)"
        );
    }

    #[test]
    fn concurrent_creates_and_pulls_give_only_the_cycle() {
        // Agents pulled while the creators ran: neither phase isolates one kind of call.
        let marks = [
            Some(mark(0.5, 0, 0, 0)),
            Some(mark(2.5, 10_000, 9_000, 8_000)),
            Some(mark(2.75, 10_000, 10_000, 10_000)),
        ];
        let cpu = ServerCpu::new(marks, false).expect("three marks");
        assert_eq!(cpu.per_create(), None);
        assert_eq!(cpu.per_assignment(), None, "replies and resolves ran too");
        assert!(cpu.per_cycle().is_some_and(|v| (v - 225.0).abs() < 1e-6));
        assert!(cpu
            .line()
            .ends_with("225 µs per cycle (create to check-back)"));
        assert_eq!(ServerCpu::new([None, marks[1], marks[2]], false), None);
    }

    #[test]
    fn the_progress_figure_names_what_the_second_measured() {
        let (a, second) = (mark(1.0, 100, 0, 0), Duration::from_secs(1));
        let creates = Stretch::between(a, mark(1.1, 1_100, 0, 0), true);
        assert_eq!(
            creates.describe(true, second),
            "server 0.10 cores, 100 µs/create"
        );
        let pulls = Stretch::between(a, mark(1.05, 100, 1_000, 0), true);
        assert_eq!(
            pulls.describe(true, second / 2),
            "server 0.10 cores, 50 µs/assignment"
        );
        let both = Stretch::between(a, mark(2.5, 1_100, 1_000, 0), true);
        assert_eq!(both.describe(true, second), "server 1.50 cores");
        let replies = Stretch::between(a, mark(1.5, 100, 1_000, 900), false);
        assert_eq!(replies.describe(false, second), "server 0.50 cores");
    }
}
