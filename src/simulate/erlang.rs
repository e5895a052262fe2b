//! Erlang C: the textbook answer for one queue served first come first served by `c` agents,
//! Poisson arrivals and exponential handle times (M/M/c), customers who never leave. The
//! simulator must agree with it on that case before its other answers deserve trust.

/// The M/M/c queue: arrivals per second, mean handle time in seconds, agents.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mmc {
    pub arrivals_per_sec: f64,
    pub handle_secs: f64,
    pub agents: u32,
}

impl Mmc {
    /// Offered load in Erlangs.
    pub fn load(&self) -> f64 {
        self.arrivals_per_sec * self.handle_secs
    }

    /// The probability that a contact waits at all, or `None` if the queue is unstable
    /// (load ≥ agents). Computed through the Erlang B recursion, which stays finite for large
    /// `agents` where factorials would not.
    pub fn wait_probability(&self) -> Option<f64> {
        let (a, c) = (self.load(), f64::from(self.agents));
        if a >= c || a <= 0.0 {
            return (a <= 0.0).then_some(0.0);
        }
        let mut b = 1.0;
        for k in 1..=self.agents {
            b = a * b / (f64::from(k) + a * b);
        }
        Some(c * b / (c - a * (1.0 - b)))
    }

    /// The share of contacts answered within `target_secs`.
    pub fn service_level(&self, target_secs: f64) -> Option<f64> {
        let wait = self.wait_probability()?;
        let rate = (f64::from(self.agents) - self.load()) / self.handle_secs;
        Some(1.0 - wait * (-rate * target_secs).exp())
    }

    /// The mean wait (ASA) over all contacts, in seconds.
    pub fn average_speed_of_answer(&self) -> Option<f64> {
        let wait = self.wait_probability()?;
        Some(wait * self.handle_secs / (f64::from(self.agents) - self.load()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recursion_agrees_with_the_closed_formula() {
        // A call-centre sized case: 360 calls in 30 minutes (0.2/s), 240 s handle time, 55
        // agents, 48 Erlangs. The recursion must agree with the closed formula.
        let m = Mmc {
            arrivals_per_sec: 0.2,
            handle_secs: 240.0,
            agents: 55,
        };
        assert!((m.load() - 48.0).abs() < 1e-9);
        let p = m.wait_probability().expect("stable");
        let closed = closed_form(48.0, 55);
        assert!((p - closed).abs() < 1e-9, "{p} vs {closed}");
        let sl = m.service_level(20.0).expect("stable");
        assert!(sl > 0.8 && sl < 0.95, "{sl}");
        assert!(
            Mmc { agents: 52, ..m }.service_level(20.0) < Some(sl),
            "fewer agents, worse service"
        );
        assert_eq!(Mmc { agents: 48, ..m }.wait_probability(), None);
    }

    /// Erlang C straight from its definition, for small cases.
    fn closed_form(a: f64, c: u32) -> f64 {
        let mut term = 1.0;
        let mut sum = 0.0;
        for k in 0..c {
            if k > 0 {
                term *= a / f64::from(k);
            }
            sum += term;
        }
        let top = term * a / f64::from(c) * f64::from(c) / (f64::from(c) - a);
        top / (sum + top)
    }
}
