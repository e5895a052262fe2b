//! A desk against FIFO at one staffing level of a sweep, in the terms of issue 17's benchmark:
//! service level gained overall and for VIPs (points), abandonment added (points) and the p99
//! first-response wait as a multiple of FIFO's. The sweep prints these so that a change to the
//! order is judged against the targets from one command, without arithmetic by hand.

use serde::Serialize;

/// The benchmark a scheduler is held to against FIFO on the same day and agents (issue 17):
/// at least this many points more overall and for VIPs, no more abandonment, and a p99 wait
/// at most this multiple of FIFO's.
pub const ALL_POINTS: f64 = 2.0;
pub const VIP_POINTS: f64 = 5.0;
pub const P99_RATIO: f64 = 1.5;

/// The headline figures of one desk at one staffing level (shares in 0..=1, waits in s).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Headline {
    pub all: Option<f64>,
    pub vip: Option<f64>,
    pub abandoned: Option<f64>,
    pub p99: Option<f64>,
}

/// One desk against FIFO. A figure is absent when either side has none (no VIP contacts, no
/// answered contact, FIFO's p99 of zero).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Gain {
    /// Service level, all contacts: this desk's minus FIFO's, in points.
    pub all_points: Option<f64>,
    pub vip_points: Option<f64>,
    /// Abandonment: this desk's minus FIFO's, in points (negative: fewer leave).
    pub abandoned_points: Option<f64>,
    /// This desk's p99 first-response wait over FIFO's.
    pub p99_ratio: Option<f64>,
}

impl Gain {
    pub fn between(desk: &Headline, fifo: &Headline) -> Gain {
        let points = |a: Option<f64>, b: Option<f64>| Some((a? - b?) * 100.0);
        let ratio = match (desk.p99, fifo.p99) {
            (Some(d), Some(f)) if f > 0.0 => Some(d / f),
            _ => None,
        };
        Gain {
            all_points: points(desk.all, fifo.all),
            vip_points: points(desk.vip, fifo.vip),
            abandoned_points: points(desk.abandoned, fifo.abandoned),
            p99_ratio: ratio,
        }
    }

    /// Whether every figure is there and meets the benchmark. Abandonment is compared at
    /// the precision the report prints (0.1 point): a difference it does not show is a tie.
    pub fn meets_benchmark(&self) -> bool {
        let at_least = |x: Option<f64>, bar: f64| x.is_some_and(|x| x >= bar);
        at_least(self.all_points, ALL_POINTS)
            && at_least(self.vip_points, VIP_POINTS)
            && self.abandoned_points.is_some_and(|a| a < 0.05)
            && self.p99_ratio.is_some_and(|r| r <= P99_RATIO)
    }

    /// `+1.2 / +3.4, +0.1, 1.24×`; `*` after it when the benchmark is met.
    pub fn cell(&self) -> String {
        // Rounded first, so that a small loss prints as +0.0 rather than -0.0.
        let tenth = |v: f64| (v * 10.0).round() / 10.0 + 0.0;
        let points = |x: Option<f64>| x.map_or("-".into(), |v| format!("{:+.1}", tenth(v)));
        let ratio = self.p99_ratio.map_or("-".into(), |r| format!("{r:.2}×"));
        let mark = if self.meets_benchmark() { " *" } else { "" };
        format!(
            "{} / {}, {}, {ratio}{mark}",
            points(self.all_points),
            points(self.vip_points),
            points(self.abandoned_points)
        )
    }
}

/// The legend under the against-FIFO table.
pub fn legend() -> String {
    format!(
        "* meets the benchmark: all >= FIFO {ALL_POINTS:+.0}, VIP >= FIFO {VIP_POINTS:+.0} points, \
         abandoned <= FIFO, p99 <= {P99_RATIO}× FIFO's\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headline(all: f64, vip: f64, abandoned: f64, p99: f64) -> Headline {
        Headline {
            all: Some(all),
            vip: Some(vip),
            abandoned: Some(abandoned),
            p99: Some(p99),
        }
    }

    #[test]
    fn gains_are_points_and_the_wait_a_ratio() {
        let fifo = headline(0.70, 0.68, 0.10, 800.0);
        let g = Gain::between(&headline(0.73, 0.74, 0.10, 1000.0), &fifo);
        let near = |x: Option<f64>, y: f64| x.is_some_and(|x| (x - y).abs() < 1e-9);
        assert!(near(g.all_points, 3.0) && near(g.vip_points, 6.0), "{g:?}");
        assert!(
            near(g.abandoned_points, 0.0) && near(g.p99_ratio, 1.25),
            "{g:?}"
        );
        assert!(g.meets_benchmark());
        assert_eq!(g.cell(), "+3.0 / +6.0, +0.0, 1.25× *");
    }

    #[test]
    fn each_target_missed_or_absent_fails_the_benchmark() {
        let fifo = headline(0.70, 0.68, 0.10, 800.0);
        let misses = [
            headline(0.715, 0.74, 0.10, 1000.0),
            headline(0.73, 0.72, 0.10, 1000.0),
            headline(0.73, 0.74, 0.102, 1000.0),
            headline(0.73, 0.74, 0.10, 1300.0),
            Headline {
                vip: None,
                ..headline(0.73, 0.74, 0.10, 1000.0)
            },
        ];
        for desk in misses {
            let g = Gain::between(&desk, &fifo);
            assert!(!g.meets_benchmark(), "{desk:?}: {g:?}");
            assert!(!g.cell().ends_with('*'), "{}", g.cell());
        }
        let no_wait = Gain::between(&headline(0.7, 0.7, 0.1, 5.0), &headline(0.7, 0.7, 0.1, 0.0));
        assert_eq!(no_wait.p99_ratio, None);
        let tiny_loss = Gain::between(
            &headline(0.6999, 0.7, 0.1, 5.0),
            &headline(0.7, 0.7, 0.1, 5.0),
        );
        assert_eq!(tiny_loss.cell(), "+0.0 / +0.0, +0.0, 1.00×");
    }
}
