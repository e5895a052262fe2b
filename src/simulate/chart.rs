//! Line charts as SVG text: a few series over a shared x axis, with ticks, labels and a
//! legend. Small on purpose: the simulator's pictures need nothing more, and plain SVG
//! needs no font or raster library to write (a browser or the README renders it).

use std::fmt::Write;

pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// Drawn dashed, in the colour of the series before it (a second view of the same thing).
    pub dashed: bool,
}

pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Format of tick values on each axis.
    pub x_ticks: fn(f64) -> String,
    pub y_ticks: fn(f64) -> String,
}

const W: f64 = 720.0;
const H: f64 = 400.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

impl Chart {
    pub fn svg(&self) -> String {
        let all = self.series.iter().flat_map(|s| s.points.iter());
        let (mut x0, mut x1, mut y1) = (f64::MAX, f64::MIN, f64::MIN);
        for &(x, y) in all {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
        if x0 >= x1 {
            x1 = x0 + 1.0;
        }
        let y1 = nice_ceiling(y1.max(1e-9));
        let px = |x: f64| LEFT + (x - x0) / (x1 - x0) * (W - LEFT - RIGHT);
        let py = |y: f64| H - BOTTOM - y / y1 * (H - TOP - BOTTOM);
        let mut out = String::new();
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
        for i in 0..=5 {
            let (x, y) = (x0 + (x1 - x0) * f64::from(i) / 5.0, y1 * f64::from(i) / 5.0);
            let _ = write!(
                out,
                r##"<line x1="{LEFT}" x2="{}" y1="{py}" y2="{py}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{}</text><text x="{px}" y="{}" text-anchor="middle">{}</text>"##,
                W - RIGHT,
                LEFT - 6.0,
                py(y) + 4.0,
                escape(&(self.y_ticks)(y)),
                H - BOTTOM + 18.0,
                escape(&(self.x_ticks)(x)),
                py = py(y),
                px = px(x),
            );
        }
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
        let mut hue = 0;
        for (i, s) in self.series.iter().enumerate() {
            if i > 0 && !s.dashed {
                hue += 1;
            }
            let color = COLORS[hue % COLORS.len()];
            let dash = if s.dashed {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            };
            let points: Vec<String> = s
                .points
                .iter()
                .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
                .collect();
            let _ = write!(
                out,
                r#"<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="{}"/>"#,
                points.join(" ")
            );
            let ly = TOP + 10.0 + 20.0 * i as f64;
            let _ = write!(
                out,
                r#"<line x1="{}" x2="{}" y1="{ly}" y2="{ly}" stroke="{color}" stroke-width="3"{dash}/><text x="{}" y="{}">{}</text>"#,
                W - RIGHT + 12.0,
                W - RIGHT + 36.0,
                W - RIGHT + 42.0,
                ly + 4.0,
                escape(&s.name)
            );
        }
        out.push_str("</svg>\n");
        out
    }
}

/// The smallest of 1, 2, 2.5 or 5 times a power of ten that is at least `v`: a round top for
/// the y axis.
fn nice_ceiling(v: f64) -> f64 {
    let power = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|&c| c >= v)
        .unwrap_or(10.0 * power)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_well_formed_svg_with_every_series() {
        let chart = Chart {
            title: "SL <by> agents".into(),
            x_label: "agents".into(),
            y_label: "service level".into(),
            series: vec![
                Series {
                    name: "triage".into(),
                    points: vec![(10.0, 0.5), (20.0, 0.9)],
                    dashed: false,
                },
                Series {
                    name: "fifo".into(),
                    points: vec![(10.0, 0.4), (20.0, 0.85)],
                    dashed: true,
                },
            ],
            x_ticks: |x| format!("{x:.0}"),
            y_ticks: |y| format!("{:.0} %", y * 100.0),
        };
        let svg = chart.svg();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(
            svg.matches("stroke-dasharray").count(),
            2,
            "line and legend"
        );
        assert!(svg.contains("SL &lt;by&gt; agents") && svg.contains(">fifo<"));
        assert_eq!(nice_ceiling(0.93), 1.0);
        assert_eq!(nice_ceiling(1234.0), 2000.0);
    }
}
