//! The traffic behind Sloth's getting-started example: `http_request_duration_seconds_count` of
//! `job="myservice"` (codes 200, 429 and 503) and of a second job whose 20% errors must not count,
//! as exact counters (integrals of per-minute rates), written as history and served live.

use std::f64::consts::PI;
use std::fmt::Write as _;

const METRIC: &str = "http_request_duration_seconds_count";

/// `(job, instance, code, counts as an error of myservice)` of every series.
const SERIES: [(&str, &str, &str, bool); 5] = [
    ("myservice", "myservice-0:8080", "200", false),
    ("myservice", "myservice-0:8080", "429", true),
    ("myservice", "myservice-0:8080", "503", true),
    ("other", "other-0:8080", "200", false),
    ("other", "other-0:8080", "500", false),
];

/// Requests and errors of one minute: rates constant within it.
#[derive(Clone, Copy)]
struct Minute {
    requests: f64,
    errors: f64,
}

/// Counters from `start` (all 0 there), one rate per minute until the model's end.
pub struct Traffic {
    start: f64,
    /// Counter values at every minute edge, per series; the last edge is the model's end.
    edges: Vec<[f64; SERIES.len()]>,
}

impl Traffic {
    /// `hours` hours of traffic from `start` (a minute edge), at 5% errors during `incident`.
    ///
    /// Hour `h` is hour `(h + 14) % 24` of a simulated day: 4 requests/s at 4 o'clock to 100 at
    /// 16 o'clock, each minute's volume varied by up to ±20% and its errors by up to ±25%. The
    /// error ratio is 0.03% plus 0.024 errors/s whatever the volume (a client retrying a broken
    /// call day and night), so quiet hours run at up to 0.63% errors and busy ones at 0.054%:
    /// an average of 5-minute ratios weighs the quiet hours as much as the busy ones.
    pub fn new(start: f64, hours: usize, incident: std::ops::Range<f64>) -> Self {
        let mut edges = vec![[0.0; SERIES.len()]];
        for m in 0..hours * 60 {
            let hour = m / 60;
            let of_day = ((hour + 14) % 24) as f64;
            let rps = 4.0 + 96.0 * ((1.0 - (2.0 * PI * (of_day - 4.0) / 24.0).cos()) / 2.0).powi(2);
            let ratio = if incident.contains(&(start + 60.0 * m as f64)) {
                0.05
            } else {
                0.0003 + 0.024 / rps
            };
            let requests = 60.0 * rps * (0.8 + 0.4 * unit(2 * m as u64));
            let minute = Minute {
                requests,
                errors: requests * ratio * (0.75 + 0.5 * unit(2 * m as u64 + 1)),
            };
            let last = edges[edges.len() - 1];
            edges.push(std::array::from_fn(|i| {
                last[i] + per_minute(SERIES[i].0, SERIES[i].2, minute)
            }));
        }
        Self { start, edges }
    }

    /// Every series' value at `t` (unix seconds), interpolated within its minute.
    fn values(&self, t: f64) -> [f64; SERIES.len()] {
        let x = ((t - self.start) / 60.0).clamp(0.0, (self.edges.len() - 1) as f64);
        let m = (x.floor() as usize).min(self.edges.len() - 2);
        let (a, b) = (self.edges[m], self.edges[m + 1]);
        std::array::from_fn(|i| a[i] + (x - m as f64) * (b[i] - a[i]))
    }

    /// myservice's (errors, requests) at `t`: its 429 and 503, and all its requests.
    fn myservice(&self, t: f64) -> (f64, f64) {
        let values = self.values(t);
        SERIES
            .iter()
            .zip(values)
            .filter(|(series, _)| series.0 == "myservice")
            .fold((0.0, 0.0), |(errors, total), (series, v)| {
                (errors + if series.3 { v } else { 0.0 }, total + v)
            })
    }

    /// myservice's error ratio over `(from, to]`: errors / requests, counted exactly.
    pub fn ratio(&self, from: f64, to: f64) -> f64 {
        let (e0, t0) = self.myservice(from.max(self.start));
        let (e1, t1) = self.myservice(to);
        (e1 - e0) / (t1 - t0)
    }

    /// myservice's error ratio over all of the data until `until`: what burnwatch's 30-day
    /// window holds while the data is shorter than 30 days.
    pub fn overall_ratio(&self, until: f64) -> f64 {
        self.ratio(self.start, until)
    }

    /// What Sloth's 30d rule computes from its data: the average of the 5-minute ratios
    /// evaluated every `step` seconds from the first step after `start` to `until`.
    pub fn average_of_5m_ratios(&self, step: f64, until: f64) -> f64 {
        let times: Vec<f64> = (1..)
            .map(|i| self.start + f64::from(i) * step)
            .take_while(|t| *t <= until)
            .collect();
        let sum: f64 = times.iter().map(|t| self.ratio(t - 300.0, *t)).sum();
        sum / times.len() as f64
    }

    /// History from the model's start to `end` every `step` seconds, in OpenMetrics with
    /// timestamps, for promtool.
    pub fn openmetrics(&self, end: f64, step: f64) -> String {
        let times: Vec<f64> = (0..)
            .map(|i| self.start + f64::from(i) * step)
            .take_while(|t| *t <= end)
            .collect();
        let values: Vec<_> = times.iter().map(|t| self.values(*t)).collect();
        let mut out = format!("# TYPE {METRIC} unknown\n");
        for (i, series) in SERIES.iter().enumerate() {
            for (t, v) in times.iter().zip(&values) {
                let _ = writeln!(out, "{} {} {t:.3}", name(series), v[i]);
            }
        }
        out.push_str("# EOF\n");
        out
    }

    /// A scrape at `t`, in the Prometheus text format.
    pub fn scrape(&self, t: f64) -> String {
        let values = self.values(t);
        SERIES
            .iter()
            .zip(values)
            .map(|(series, v)| format!("{} {v}\n", name(series)))
            .collect()
    }
}

fn name((job, instance, code, _): &(&str, &str, &str, bool)) -> String {
    format!(r#"{METRIC}{{job="{job}",instance="{instance}",code="{code}"}}"#)
}

/// One series' increase over a minute of myservice's `minute`; the other job runs at 12
/// requests/s, a fifth of them 500s.
fn per_minute(job: &str, code: &str, minute: Minute) -> f64 {
    match (job, code) {
        ("myservice", "200") => minute.requests - minute.errors,
        ("myservice", "429") => 0.3 * minute.errors,
        ("myservice", _) => 0.7 * minute.errors,
        (_, "200") => 600.0,
        _ => 120.0,
    }
}

/// A fixed pseudo-random number in [0, 1) for `i` (splitmix64).
fn unit(i: u64) -> f64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as f64 / (u64::MAX as f64 + 1.0)
}
