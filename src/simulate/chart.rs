//! Line charts as SVG text: a few series over a shared x axis, with ticks, labels and a
//! legend. Small on purpose: the simulator's pictures need nothing more, and plain SVG
//! needs no font or raster library to write (a browser or the README renders it).
//!
//! What a reader of a staffing picture needs, the chart guarantees: axis ranges fitted to the
//! data and rounded (no half-empty plot), ticks where the data are (a sweep's staffing levels,
//! whole hours of the clock), series told apart by colour, dash pattern and marker, a legend
//! that says when one series hides another, labelled reference lines (the service-level
//! target) and a labelled shaded span (when nobody is on duty).

use std::fmt::Write;

/// How a series' line is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dash {
    Solid,
    Dashed,
    Dotted,
}

impl Dash {
    fn attr(self) -> &'static str {
        match self {
            Dash::Solid => "",
            Dash::Dashed => r#" stroke-dasharray="9 5""#,
            Dash::Dotted => r#" stroke-dasharray="2 4" stroke-linecap="round""#,
        }
    }
}

/// A mark at each point of a series (for series with few points: a sweep's levels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    /// Filled, small.
    Circle,
    /// Hollow and large, so a smaller mark drawn later on the same point stays visible.
    Square,
    /// Filled, small.
    Triangle,
}

pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// An index into the palette.
    pub color: usize,
    pub dash: Dash,
    pub marker: Option<Marker>,
    /// A second, smaller legend line (what the reader must know about this series).
    pub note: Option<String>,
}

/// Where the x axis has its ticks and how they read.
pub enum XAxis {
    /// Ticks exactly at these values (a sweep's staffing levels); the axis spans them.
    At(Vec<f64>),
    /// Hours since midnight of the first day: ticks on round hours, labelled HH:MM (with
    /// "+1d" on the day after).
    Clock,
}

/// A labelled horizontal line across the plot (a target).
pub struct Rule {
    pub y: f64,
    pub label: String,
}

/// A labelled, shaded span of the x axis.
pub struct Shade {
    pub from: f64,
    pub to: f64,
    pub label: String,
}

pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    pub x_axis: XAxis,
    /// Format of tick values on the y axis.
    pub y_ticks: fn(f64) -> String,
    /// The y axis starts at zero (counts, waits) rather than at the data's lowest round value
    /// (shares that never fall far).
    pub y_from_zero: bool,
    /// The most the y axis may show (100 % for shares).
    pub y_cap: Option<f64>,
    pub rules: Vec<Rule>,
    /// Spans shaded in order (a later one darkens an earlier one where they overlap), their
    /// labels stacked from the top.
    pub shade: Vec<Shade>,
}

const W: f64 = 800.0;
const H: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 230.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
pub const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];
/// At most this many intervals between labelled ticks on either axis.
const MAX_INTERVALS: usize = 10;

/// The axes a chart is drawn on: value ranges and tick positions.
#[derive(Debug, PartialEq)]
pub struct Axes {
    pub x: (f64, f64),
    pub y: (f64, f64),
    /// Tick positions on x, and whether each is labelled.
    pub x_ticks: Vec<(f64, bool)>,
    pub y_ticks: Vec<f64>,
}

impl Chart {
    /// The axis ranges and ticks: x from the axis kind, y a round range around the data and
    /// the reference lines.
    pub fn axes(&self) -> Axes {
        let points = self.series.iter().flat_map(|s| s.points.iter());
        let (mut x0, mut x1) = (f64::MAX, f64::MIN);
        let (mut y0, mut y1) = (f64::MAX, f64::MIN);
        for &(x, y) in points {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        for r in &self.rules {
            y0 = y0.min(r.y);
            y1 = y1.max(r.y);
        }
        if x0 > x1 {
            (x0, x1) = (0.0, 1.0);
        }
        if y0 > y1 {
            (y0, y1) = (0.0, 1.0);
        }
        if self.y_from_zero {
            y0 = y0.min(0.0);
        }
        let (ya, mut yb, step) = nice_range(y0, y1, MAX_INTERVALS);
        if self.y_cap.is_none() && yb - y1 < step * 1e-6 {
            // Room above the peak, so the highest line does not run along the frame.
            yb += step;
        }
        let yb = self.y_cap.map_or(yb, |cap| yb.min(cap.max(y1)));
        let ya = ya.min(yb - step);
        let n = ((yb - ya) / step + 1e-6).floor() as usize;
        let y_ticks = (0..=n).map(|i| ya + step * i as f64).collect();
        let (x, x_ticks) = match &self.x_axis {
            XAxis::At(values) => at_ticks(values),
            XAxis::Clock => clock_ticks(x0, x1),
        };
        Axes {
            x,
            y: (ya, yb),
            x_ticks,
            y_ticks,
        }
    }

    pub fn svg(&self) -> String {
        let axes = self.axes();
        let plot = Plot {
            x: axes.x,
            y: axes.y,
        };
        let mut out = String::new();
        self.draw_header(&mut out);
        self.draw_shades(&mut out, &plot);
        self.draw_ticks(&mut out, &plot, &axes);
        self.draw_frame(&mut out);
        self.draw_midnights(&mut out, &plot);
        self.draw_rules(&mut out, &plot);
        self.draw_lines(&mut out, &plot);
        self.draw_legend(&mut out, &plot);
        out.push_str("</svg>\n");
        out
    }

    fn draw_header(&self, out: &mut String) {
        let _ = write!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
        );
        let _ = write!(out, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
        let _ = write!(
            out,
            r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
            (LEFT + W - RIGHT) / 2.0,
            escape(&self.title)
        );
    }

    fn draw_shades(&self, out: &mut String, plot: &Plot) {
        for (i, s) in self.shade.iter().enumerate() {
            let (a, b) = (plot.px(s.from.max(plot.x.0)), plot.px(s.to.min(plot.x.1)));
            if b - a >= 1.0 {
                let _ = write!(
                    out,
                    r##"<rect class="shade" x="{a:.1}" y="{TOP}" width="{:.1}" height="{}" fill="#000" fill-opacity="0.07"/><text x="{:.1}" y="{}" text-anchor="end" fill="#444" font-size="11">{}</text>"##,
                    b - a,
                    H - TOP - BOTTOM,
                    b - 4.0,
                    TOP + 14.0 + 14.0 * i as f64,
                    escape(&s.label)
                );
            }
        }
    }

    fn draw_ticks(&self, out: &mut String, plot: &Plot, axes: &Axes) {
        for &y in &axes.y_ticks {
            let _ = write!(
                out,
                r##"<line x1="{LEFT}" x2="{}" y1="{py:.1}" y2="{py:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                W - RIGHT,
                LEFT - 6.0,
                plot.py(y) + 4.0,
                escape(&(self.y_ticks)(y)),
                py = plot.py(y),
            );
        }
        for &(x, labelled) in &axes.x_ticks {
            let _ = write!(
                out,
                r#"<line class="xtick" x1="{px:.1}" x2="{px:.1}" y1="{}" y2="{}" stroke="black"/>"#,
                H - BOTTOM,
                H - BOTTOM + 5.0,
                px = plot.px(x)
            );
            if labelled {
                let label = match self.x_axis {
                    XAxis::Clock => clock(x.rem_euclid(24.0)),
                    XAxis::At(_) => format!("{x}"),
                };
                let _ = write!(
                    out,
                    r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
                    plot.px(x),
                    H - BOTTOM + 18.0,
                    escape(&label)
                );
            }
        }
    }

    /// The two axis lines and their labels.
    fn draw_frame(&self, out: &mut String) {
        let _ = write!(
            out,
            r#"<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{}" stroke="black"/><line x1="{LEFT}" x2="{}" y1="{}" y2="{}" stroke="black"/>"#,
            H - BOTTOM,
            W - RIGHT,
            H - BOTTOM,
            H - BOTTOM
        );
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text><text x="16" y="{}" text-anchor="middle" transform="rotate(-90 16 {})">{}</text>"#,
            (LEFT + W - RIGHT) / 2.0,
            H - 10.0,
            escape(&self.x_label),
            (TOP + H - BOTTOM) / 2.0,
            (TOP + H - BOTTOM) / 2.0,
            escape(&self.y_label)
        );
    }

    /// On a clock axis, a dotted line at each midnight the chart crosses.
    fn draw_midnights(&self, out: &mut String, plot: &Plot) {
        if !matches!(self.x_axis, XAxis::Clock) {
            return;
        }
        let mut midnight = (plot.x.0 / 24.0).floor() * 24.0 + 24.0;
        while midnight < plot.x.1 {
            let _ = write!(
                out,
                r##"<line class="midnight" x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{}" stroke="#888" stroke-dasharray="3 3"/><text x="{:.1}" y="{}" fill="#555" font-size="11">next day</text>"##,
                H - BOTTOM,
                plot.px(midnight) + 4.0,
                H - BOTTOM - 6.0,
                x = plot.px(midnight),
            );
            midnight += 24.0;
        }
    }

    /// The reference lines (targets), labelled.
    fn draw_rules(&self, out: &mut String, plot: &Plot) {
        for r in &self.rules {
            let _ = write!(
                out,
                r##"<line class="rule" x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#222" stroke-width="1.5"/><text x="{}" y="{:.1}" text-anchor="end" fill="#222" font-weight="bold">{}</text>"##,
                W - RIGHT,
                W - RIGHT - 4.0,
                plot.py(r.y) - 5.0,
                escape(&r.label),
                y = plot.py(r.y),
            );
        }
    }

    /// Each series' line and markers, over the x range.
    fn draw_lines(&self, out: &mut String, plot: &Plot) {
        for s in &self.series {
            let color = COLORS[s.color % COLORS.len()];
            let inside = |p: &&(f64, f64)| plot.inside(p.0);
            let points: Vec<String> = s
                .points
                .iter()
                .filter(inside)
                .map(|&(x, y)| format!("{:.1},{:.1}", plot.px(x), plot.py(y)))
                .collect();
            let _ = write!(
                out,
                r#"<polyline fill="none" stroke="{color}" stroke-width="2.5"{} points="{}"/>"#,
                s.dash.attr(),
                points.join(" ")
            );
            if let Some(m) = s.marker {
                for &(x, y) in s.points.iter().filter(inside) {
                    out.push_str(&marker(m, color, plot.px(x), plot.py(y)));
                }
            }
        }
    }

    /// The legend: each series' style and name, and beneath it whether it lies on an earlier
    /// series' line and its own note.
    fn draw_legend(&self, out: &mut String, plot: &Plot) {
        let span = plot.y.1 - plot.y.0;
        let mut ly = TOP + 10.0;
        for (i, s) in self.series.iter().enumerate() {
            let color = COLORS[s.color % COLORS.len()];
            let _ = write!(
                out,
                r#"<line x1="{}" x2="{}" y1="{ly}" y2="{ly}" stroke="{color}" stroke-width="3"{}/>"#,
                W - RIGHT + 12.0,
                W - RIGHT + 42.0,
                s.dash.attr(),
            );
            if let Some(m) = s.marker {
                out.push_str(&marker(m, color, W - RIGHT + 27.0, ly));
            }
            let _ = write!(
                out,
                r#"<text x="{}" y="{}">{}</text>"#,
                W - RIGHT + 48.0,
                ly + 4.0,
                escape(&s.name)
            );
            ly += 20.0;
            let same = (0..i)
                .find(|&j| coincide(&self.series[j], s, span * 0.01))
                .map(|j| {
                    (
                        r#" class="same""#,
                        format!("lies on {}'s line", self.series[j].name),
                    )
                });
            let note = s
                .note
                .iter()
                .flat_map(|n| n.lines().map(|l| ("", l.to_string())));
            for (class, text) in same.into_iter().chain(note) {
                let _ = write!(
                    out,
                    r##"<text{class} x="{}" y="{}" fill="#555" font-size="11">{}</text>"##,
                    W - RIGHT + 48.0,
                    ly - 4.0,
                    escape(&text)
                );
                ly += 14.0;
            }
        }
    }
}

/// The drawing area of one chart: data coordinates to pixels.
struct Plot {
    x: (f64, f64),
    y: (f64, f64),
}

impl Plot {
    fn px(&self, x: f64) -> f64 {
        LEFT + (x - self.x.0) / (self.x.1 - self.x.0) * (W - LEFT - RIGHT)
    }

    fn py(&self, y: f64) -> f64 {
        H - BOTTOM - (y - self.y.0) / (self.y.1 - self.y.0) * (H - TOP - BOTTOM)
    }

    fn inside(&self, x: f64) -> bool {
        x >= self.x.0 - 1e-9 && x <= self.x.1 + 1e-9
    }
}

/// Whether `b` lies on `a` so closely that one line hides the other: on the same x values,
/// within `tolerance` on average and nine points in ten within four times that (noisy series
/// such as queue depths minute by minute differ a little everywhere and a lot nowhere long;
/// with few points, as in a sweep, that is every point but at most one in ten).
pub fn coincide(a: &Series, b: &Series, tolerance: f64) -> bool {
    if a.points.len() != b.points.len() || a.points.is_empty() {
        return false;
    }
    if a.points.iter().zip(&b.points).any(|(p, q)| p.0 != q.0) {
        return false;
    }
    let mut d: Vec<f64> = a
        .points
        .iter()
        .zip(&b.points)
        .map(|(p, q)| (p.1 - q.1).abs())
        .collect();
    d.sort_by(f64::total_cmp);
    let mean = d.iter().sum::<f64>() / d.len() as f64;
    let ninth = d[((d.len() as f64 * 0.9).ceil() as usize).clamp(1, d.len()) - 1];
    mean <= tolerance && ninth <= 4.0 * tolerance
}

fn marker(m: Marker, color: &str, x: f64, y: f64) -> String {
    match m {
        Marker::Circle => format!(r#"<circle cx="{x:.1}" cy="{y:.1}" r="3.5" fill="{color}"/>"#),
        Marker::Square => format!(
            r#"<rect x="{:.1}" y="{:.1}" width="11" height="11" fill="none" stroke="{color}" stroke-width="2"/>"#,
            x - 5.5,
            y - 5.5
        ),
        Marker::Triangle => format!(
            r#"<polygon points="{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}" fill="{color}"/>"#,
            x,
            y - 4.0,
            x - 3.5,
            y + 3.0,
            x + 3.5,
            y + 3.0
        ),
    }
}

/// A round range covering `lo..=hi`: its ends are multiples of a step of 1, 2, 2.5 or 5 times
/// a power of ten, the smallest such step giving at most `max_intervals` intervals. Returns
/// (low end, high end, step).
pub fn nice_range(lo: f64, hi: f64, max_intervals: usize) -> (f64, f64, f64) {
    let (lo, hi) = if hi - lo < 1e-12 {
        let pad = (hi.abs() * 0.1).max(1.0);
        (lo - if lo == 0.0 { 0.0 } else { pad }, hi + pad)
    } else {
        (lo, hi)
    };
    let raw = (hi - lo) / max_intervals.max(1) as f64;
    let mut power = 10f64.powf(raw.log10().floor());
    loop {
        for m in [1.0, 2.0, 2.5, 5.0] {
            let step = m * power;
            let a = (lo / step + 1e-9).floor() * step;
            let b = (hi / step - 1e-9).ceil() * step;
            if ((b - a) / step).round() as usize <= max_intervals {
                return (a, b, step);
            }
        }
        power *= 10.0;
    }
}

/// Ticks at exactly the given values; when there are many, every k-th is labelled (the first
/// and the multiples of k after it) so labels do not collide.
fn at_ticks(values: &[f64]) -> ((f64, f64), Vec<(f64, bool)>) {
    let lo = values.iter().copied().fold(f64::MAX, f64::min);
    let hi = values.iter().copied().fold(f64::MIN, f64::max);
    let range = if values.is_empty() {
        (0.0, 1.0)
    } else if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, hi + 1.0)
    };
    let every = values.len().div_ceil(MAX_INTERVALS + 1).max(1);
    let ticks = values
        .iter()
        .enumerate()
        .map(|(i, &v)| (v, i % every == 0))
        .collect();
    (range, ticks)
}

/// Whole hours covering `x0..=x1` (in hours), every 1, 2, 3, 4, 6 or 12 hours, all labelled.
/// Data that overshoot a round hour by under 2 % of the span (a day's last contacts answered
/// just after midnight) are cut rather than given a mostly empty extra step.
fn clock_ticks(x0: f64, x1: f64) -> ((f64, f64), Vec<(f64, bool)>) {
    let x1 = x1 - 0.02 * (x1 - x0);
    let step = [1.0, 2.0, 3.0, 4.0, 6.0, 12.0, 24.0]
        .into_iter()
        .find(|s| ((x1 / s).ceil() - (x0 / s).floor()) as usize <= MAX_INTERVALS)
        .unwrap_or(24.0 * ((x1 - x0) / 24.0 / MAX_INTERVALS as f64).ceil().max(1.0));
    let (a, b) = ((x0 / step).floor() * step, (x1 / step).ceil() * step);
    let b = if b > a { b } else { a + step };
    let n = ((b - a) / step).round() as usize;
    let ticks = (0..=n).map(|i| (a + step * i as f64, true)).collect();
    ((a, b), ticks)
}

/// Hours since midnight of the first day as a time of day, to the minute below: "09:00",
/// "02:30 +1d".
pub fn clock(hours: f64) -> String {
    let minutes = (hours * 60.0 + 1e-6).floor() as i64;
    let day = minutes.div_euclid(24 * 60);
    let of_day = minutes.rem_euclid(24 * 60);
    let time = format!("{:02}:{:02}", of_day / 60, of_day % 60);
    match day {
        0 => time,
        d => format!("{time} {d:+}d"),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(name: &str, points: Vec<(f64, f64)>, dash: Dash) -> Series {
        Series {
            name: name.into(),
            points,
            color: 0,
            dash,
            marker: None,
            note: None,
        }
    }

    fn chart(series: Vec<Series>, x_axis: XAxis) -> Chart {
        Chart {
            title: "SL <by> agents".into(),
            x_label: "agents".into(),
            y_label: "service level".into(),
            series,
            x_axis,
            y_ticks: |y| format!("{:.0} %", y * 100.0),
            y_from_zero: false,
            y_cap: Some(1.0),
            rules: vec![Rule {
                y: 0.8,
                label: "target 80 %".into(),
            }],
            shade: Vec::new(),
        }
    }

    #[test]
    fn a_chart_is_well_formed_svg_with_every_series() {
        let c = chart(
            vec![
                series("triage", vec![(10.0, 0.5), (20.0, 0.9)], Dash::Solid),
                series("fifo", vec![(10.0, 0.4), (20.0, 0.85)], Dash::Dashed),
            ],
            XAxis::At(vec![10.0, 20.0]),
        );
        let svg = c.svg();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(
            svg.matches("stroke-dasharray").count(),
            2,
            "line and legend"
        );
        assert!(svg.contains("SL &lt;by&gt; agents") && svg.contains(">fifo<"));
    }

    /// Service levels between 63 % and 100 % get a 60-100 % axis, not 0-100 %; an oldest
    /// wait peaking at 985 minutes gets 0-1,000, not 0-2,000.
    #[test]
    fn axes_are_tight_and_round() {
        let (a, b, step) = nice_range(0.63, 1.0, 10);
        let near = |x: f64, y: f64| (x - y).abs() < 1e-9;
        assert!(
            near(a, 0.6) && near(b, 1.0) && near(step, 0.05),
            "{a} {b} {step}"
        );
        let (a, b, step) = nice_range(0.0, 985.0, 10);
        assert_eq!((a, b, step), (0.0, 1000.0, 100.0));
        assert_eq!(nice_range(0.0, 0.0, 10).0, 0.0);
        let c = chart(
            vec![series(
                "triage",
                vec![(80.0, 0.63), (90.0, 0.9), (100.0, 1.0)],
                Dash::Solid,
            )],
            XAxis::At(vec![80.0, 90.0, 100.0]),
        );
        let axes = c.axes();
        assert!((axes.y.0 - 0.6).abs() < 1e-9 && (axes.y.1 - 1.0).abs() < 1e-9);
        assert!(
            axes.y_ticks.iter().all(|&y| y <= 1.0 + 1e-9),
            "capped at 100 %"
        );
    }

    /// A sweep's ticks are its staffing levels, every one, and the axis spans them.
    #[test]
    fn sweep_ticks_fall_on_the_staffing_levels() {
        let levels: Vec<f64> = (8..=16).map(|n| f64::from(n) * 10.0).collect();
        let c = chart(
            vec![series(
                "triage",
                levels.iter().map(|&x| (x, 0.9)).collect(),
                Dash::Solid,
            )],
            XAxis::At(levels.clone()),
        );
        let axes = c.axes();
        assert_eq!(axes.x, (80.0, 160.0));
        let ticks: Vec<f64> = axes.x_ticks.iter().map(|t| t.0).collect();
        assert_eq!(ticks, levels);
        assert!(axes.x_ticks.iter().all(|t| t.1), "all nine labelled");
        let svg = c.svg();
        assert!(svg.contains(">90<") && svg.contains(">130<"), "{svg}");
        // Many levels: every tick drawn, labels thinned.
        let many: Vec<f64> = (40..=200).step_by(5).map(f64::from).collect();
        let (_, ticks) = at_ticks(&many);
        assert_eq!(ticks.len(), many.len());
        assert!(ticks.iter().filter(|t| t.1).count() <= MAX_INTERVALS + 1);
    }

    #[test]
    fn the_target_line_is_drawn_and_labelled_inside_the_range() {
        let c = chart(
            vec![series("triage", vec![(1.0, 0.9), (2.0, 0.95)], Dash::Solid)],
            XAxis::At(vec![1.0, 2.0]),
        );
        assert!(c.axes().y.0 <= 0.8, "the axis reaches down to the target");
        let svg = c.svg();
        assert_eq!(svg.matches(r#"class="rule""#).count(), 1);
        assert!(svg.contains("target 80 %"));
    }

    /// Two series on the same points: the legend says which one hides which; series apart
    /// get no such note.
    #[test]
    fn the_legend_says_when_two_series_coincide() {
        let same = vec![(1.0, 0.7), (2.0, 0.9)];
        let c = chart(
            vec![
                series("triage", vec![(1.0, 0.75), (2.0, 0.99)], Dash::Solid),
                series("fifo", same.clone(), Dash::Dashed),
                series("round robin", same, Dash::Dotted),
            ],
            XAxis::At(vec![1.0, 2.0]),
        );
        let svg = c.svg();
        assert_eq!(svg.matches(r#"class="same""#).count(), 1, "{svg}");
        assert!(svg.contains("lies on fifo's line"));
        assert!(
            svg.contains(r#"stroke-dasharray="2 4""#) && svg.contains(r#"stroke-dasharray="9 5""#)
        );
    }

    /// Minute-by-minute queues that differ a little everywhere coincide; a series off by a
    /// lot at one of few points (a sweep) does not.
    #[test]
    fn coinciding_tolerates_noise_but_not_a_real_difference() {
        let noisy = |offset: f64| {
            let points = (0..100)
                .map(|i| {
                    (
                        f64::from(i),
                        f64::from(i % 7) + if i % 10 == 0 { offset } else { 0.0 },
                    )
                })
                .collect();
            series("q", points, Dash::Solid)
        };
        assert!(coincide(&noisy(0.0), &noisy(2.0), 0.3));
        assert!(!coincide(&noisy(0.0), &noisy(20.0), 0.3));
        let sweep = |y: f64| series("s", vec![(1.0, 0.7), (2.0, y), (3.0, 0.99)], Dash::Solid);
        assert!(coincide(&sweep(0.8), &sweep(0.801), 0.004));
        assert!(!coincide(&sweep(0.8), &sweep(0.85), 0.004));
    }

    #[test]
    fn the_clock_axis_reads_as_time_of_day() {
        assert_eq!(clock(9.5), "09:30");
        assert_eq!(clock(26.0), "02:00 +1d");
        let ((a, b), ticks) = clock_ticks(0.02, 25.4);
        assert_eq!((a, b), (0.0, 27.0));
        assert_eq!(ticks.len(), 10);
        let ((_, b), _) = clock_ticks(0.02, 24.2);
        assert_eq!(b, 24.0, "a sliver past midnight is cut");
        let ((a, b), _) = clock_ticks(8.1, 17.9);
        assert_eq!((a, b), (8.0, 18.0));
    }

    #[test]
    fn a_shaded_span_is_drawn_with_its_label() {
        let mut c = chart(
            vec![series("triage", vec![(6.0, 1.0), (30.0, 5.0)], Dash::Solid)],
            XAxis::Clock,
        );
        c.shade = vec![Shade {
            from: 22.0,
            to: 30.0,
            label: "nobody on duty".into(),
        }];
        let svg = c.svg();
        assert!(svg.contains(r#"class="shade""#) && svg.contains(">nobody on duty<"));
        assert_eq!(
            svg.matches(r#"class="midnight""#).count(),
            1,
            "one line at the one midnight the day crosses"
        );
    }
}
