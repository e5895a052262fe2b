//! `--rss-every`: the soak figures. Every period, and once more when the run is over, the
//! bench reads the daemon's resident memory (`process_resident_memory_bytes`) and the size of
//! its data dir on disk (`triage_store_size_bytes`) from its `/metrics`, so a spawned daemon
//! and a remote one (`--metrics`) are measured the same way, and pairs them with the tickets
//! created and resolved so far. Each sample is a line on stderr; the report lists them all and
//! the growth per 100,000 resolved tickets, a least-squares slope over every sample (a first
//! versus last difference would hang on two noisy points).
//!
//! The daemon refreshes the data-dir gauge every 2 s, so a sample's `data_dir_bytes` may be
//! that much older than its ticket counts; resident memory is read at the scrape itself.

use super::workers::Shared;
use anyhow::Context;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

/// Where the daemon serves its Prometheus text: `host:port` and the path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricsUrl {
    host_port: String,
    path: String,
}

impl MetricsUrl {
    /// `http://HOST:PORT[/PATH]` or `HOST:PORT[/PATH]`; the path defaults to `/metrics`.
    /// The metrics endpoint speaks plain HTTP only.
    pub fn parse(url: &str) -> anyhow::Result<MetricsUrl> {
        anyhow::ensure!(
            !url.starts_with("https://"),
            "--metrics: the daemon serves /metrics over plain HTTP, not {url}"
        );
        let rest = url.strip_prefix("http://").unwrap_or(url);
        let (host_port, path) = match rest.find('/') {
            Some(i) if i + 1 < rest.len() => (&rest[..i], &rest[i..]),
            Some(i) => (&rest[..i], "/metrics"),
            None => (rest, "/metrics"),
        };
        anyhow::ensure!(
            host_port
                .rsplit_once(':')
                .is_some_and(|(host, port)| { !host.is_empty() && port.parse::<u16>().is_ok() }),
            "--metrics wants HOST:PORT (e.g. http://127.0.0.1:9464), not {url}"
        );
        Ok(MetricsUrl {
            host_port: host_port.to_string(),
            path: path.to_string(),
        })
    }

    /// One `GET` over HTTP/1.0 (the connection closes after the answer): the body.
    pub(super) async fn scrape(&self) -> anyhow::Result<String> {
        let get = async {
            let mut stream = tokio::net::TcpStream::connect(&self.host_port).await?;
            let request = format!(
                "GET {} HTTP/1.0\r\nHost: {}\r\nConnection: close\r\n\r\n",
                self.path, self.host_port
            );
            stream.write_all(request.as_bytes()).await?;
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).await?;
            anyhow::Ok(String::from_utf8_lossy(&answer).into_owned())
        };
        let answer = tokio::time::timeout(Duration::from_secs(10), get)
            .await
            .context("no answer within 10 s")??;
        let (head, body) = answer
            .split_once("\r\n\r\n")
            .context("not an HTTP answer")?;
        let status = head.lines().next().unwrap_or_default();
        anyhow::ensure!(status.contains(" 200"), "{status}");
        Ok(body.to_string())
    }
}

/// What the daemon took at one moment of the run.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub elapsed: Duration,
    pub created: u64,
    pub resolved: u64,
    /// `None` when the daemon does not export it (`process_resident_memory_bytes` needs Linux).
    pub rss_bytes: Option<u64>,
    pub data_dir_bytes: Option<u64>,
}

/// The value of an unlabelled series in Prometheus text, if finite and not negative.
pub(super) fn value(scrape: &str, name: &str) -> Option<f64> {
    scrape.lines().find_map(|line| {
        let value: f64 = line
            .strip_prefix(name)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()?;
        (value.is_finite() && value >= 0.0).then_some(value)
    })
}

/// `value` in whole units (bytes).
fn gauge(scrape: &str, name: &str) -> Option<u64> {
    value(scrape, name).map(|v| v as u64)
}

/// The sampler while the run goes on.
pub struct Running {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Vec<Sample>>,
}

/// Starts sampling `url` every `every` from `started`, saying each sample on `bar` (or stderr).
pub fn start(
    url: MetricsUrl,
    every: Duration,
    shared: Arc<Shared>,
    started: Instant,
    bar: Option<indicatif::ProgressBar>,
) -> Running {
    let (stop, stopped) = oneshot::channel();
    let sampler = Sampler {
        url,
        shared,
        started,
        bar,
    };
    Running {
        stop,
        task: tokio::spawn(sampler.run(every, stopped)),
    }
}

/// Takes the last sample (the run is over) and returns them all; none without a sampler.
pub async fn finish(running: Option<Running>) -> Vec<Sample> {
    let Some(running) = running else {
        return Vec::new();
    };
    let _ = running.stop.send(());
    running.task.await.unwrap_or_default()
}

struct Sampler {
    url: MetricsUrl,
    shared: Arc<Shared>,
    started: Instant,
    bar: Option<indicatif::ProgressBar>,
}

impl Sampler {
    /// A sample every `every` until `stop`, then a last one. A failed scrape is said and
    /// skipped: a soak run outlives a daemon's hiccup.
    async fn run(self, every: Duration, mut stop: oneshot::Receiver<()>) -> Vec<Sample> {
        let mut samples = Vec::new();
        let mut ticks = tokio::time::interval_at((self.started + every).into(), every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let last = tokio::select! {
                _ = ticks.tick() => false,
                _ = &mut stop => true,
            };
            match self.take().await {
                Ok(sample) => {
                    self.say(&line(&sample));
                    samples.push(sample);
                }
                Err(e) => self.say(&format!("sample failed: {} {e:#}", self.url.host_port)),
            }
            if last {
                return samples;
            }
        }
    }

    async fn take(&self) -> anyhow::Result<Sample> {
        let (created, resolved) = (
            self.shared.created.load(Relaxed),
            self.shared.resolved.load(Relaxed),
        );
        let elapsed = self.started.elapsed();
        let scrape = self.url.scrape().await?;
        Ok(Sample {
            elapsed,
            created,
            resolved,
            rss_bytes: gauge(&scrape, "process_resident_memory_bytes"),
            data_dir_bytes: gauge(&scrape, "triage_store_size_bytes"),
        })
    }

    fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }
}

/// `  120 s  310,200 created  310,000 done  rss 412 MiB  data 288 MiB`
fn line(s: &Sample) -> String {
    format!(
        "{:>5} s  {} created  {} done  rss {}  data {}",
        s.elapsed.as_secs(),
        thousands(s.created),
        thousands(s.resolved),
        mib(s.rss_bytes),
        mib(s.data_dir_bytes),
    )
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or("? MiB".to_string(), |b| format!("{} MiB", b >> 20))
}

/// Growth of `y` per 100,000 resolved tickets: the least-squares slope over the samples
/// that have `y`; `None` with fewer than two distinct ticket counts.
fn slope_per_100k(samples: &[Sample], y: impl Fn(&Sample) -> Option<u64>) -> Option<f64> {
    let points: Vec<(f64, f64)> = samples
        .iter()
        .filter_map(|s| Some((s.resolved as f64, y(s)? as f64)))
        .collect();
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    (sxx > 0.0).then(|| sxy / sxx * 100_000.0)
}

/// The report's `samples` and `growth_per_100k` (null without two distinct ticket counts).
pub fn to_json(samples: &[Sample]) -> (serde_json::Value, serde_json::Value) {
    let list = samples
        .iter()
        .map(|s| {
            serde_json::json!({
                "elapsed_s": s.elapsed.as_secs_f64(),
                "created": s.created,
                "resolved": s.resolved,
                "rss_bytes": s.rss_bytes,
                "data_dir_bytes": s.data_dir_bytes,
            })
        })
        .collect();
    let rss = slope_per_100k(samples, |s| s.rss_bytes);
    let data = slope_per_100k(samples, |s| s.data_dir_bytes);
    let growth = match (rss, data) {
        (None, None) => serde_json::Value::Null,
        _ => serde_json::json!({
            "per": "100,000 resolved tickets",
            "method": "least squares over the samples",
            "rss_bytes": rss,
            "data_dir_bytes": data,
        }),
    };
    (list, growth)
}

/// The report's line about the samples, if there were any.
pub fn summary(samples: &[Sample]) -> Option<String> {
    let last = samples.last()?;
    let per = |slope: Option<f64>| {
        slope.map_or("?".to_string(), |b| format!("{:+.1} MiB", b / 1048576.0))
    };
    Some(format!(
        "soak: {} samples, last: rss {}, data dir {}; per 100,000 resolved tickets (least squares): rss {}, data dir {}",
        samples.len(),
        mib(last.rss_bytes),
        mib(last.data_dir_bytes),
        per(slope_per_100k(samples, |s| s.rss_bytes)),
        per(slope_per_100k(samples, |s| s.data_dir_bytes)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(resolved: u64, rss: u64, data: Option<u64>) -> Sample {
        Sample {
            elapsed: Duration::from_secs(resolved / 1000),
            created: resolved + 10,
            resolved,
            rss_bytes: Some(rss),
            data_dir_bytes: data,
        }
    }

    #[test]
    fn metrics_urls_default_to_the_metrics_path_and_need_a_port() -> anyhow::Result<()> {
        let url = MetricsUrl::parse("http://127.0.0.1:9464")?;
        assert_eq!(
            (url.host_port.as_str(), url.path.as_str()),
            ("127.0.0.1:9464", "/metrics")
        );
        let url = MetricsUrl::parse("triage.local:9464/")?;
        assert_eq!(url.path, "/metrics");
        let url = MetricsUrl::parse("http://[::1]:9464/prom")?;
        assert_eq!(
            (url.host_port.as_str(), url.path.as_str()),
            ("[::1]:9464", "/prom")
        );
        for bad in ["http://127.0.0.1", "https://h:1", ":9464", "h:port"] {
            assert!(MetricsUrl::parse(bad).is_err(), "{bad}");
        }
        Ok(())
    }

    #[test]
    fn gauges_are_read_from_unlabelled_series_only() {
        let text = "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 4.2e7\ntriage_store_size_bytes_x 1\ntriage_store_size_bytes 8192\n";
        assert_eq!(
            gauge(text, "process_resident_memory_bytes"),
            Some(42_000_000)
        );
        assert_eq!(gauge(text, "triage_store_size_bytes"), Some(8192));
        assert_eq!(gauge(text, "triage_missing"), None);
    }

    #[test]
    fn the_slope_is_least_squares_per_100k_resolved_tickets() {
        // rss grows 50 MiB per 100k exactly, with a point of noise that cancels out.
        let mib = 1u64 << 20;
        let samples = [
            sample(0, 100 * mib, Some(10)),
            sample(100_000, 151 * mib, None),
            sample(200_000, 198 * mib, None),
            sample(300_000, 251 * mib, Some(10)),
        ];
        let rss = slope_per_100k(&samples, |s| s.rss_bytes).unwrap_or(0.0);
        assert!(
            (rss / mib as f64 - 50.0).abs() < 0.5,
            "{}",
            rss / mib as f64
        );
        // Only the samples that have the figure count: two here, flat.
        assert_eq!(slope_per_100k(&samples, |s| s.data_dir_bytes), Some(0.0));
        assert_eq!(slope_per_100k(&samples[..1], |s| s.rss_bytes), None);
        assert_eq!(slope_per_100k(&[], |s| s.rss_bytes), None);
    }

    #[test]
    fn a_sample_line_reads_like_a_progress_line() {
        let s = sample(310_000, 412 << 20, Some(288 << 20));
        assert_eq!(
            line(&s),
            "  310 s  310,010 created  310,000 done  rss 412 MiB  data 288 MiB"
        );
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(mib(None), "? MiB");
    }
}
