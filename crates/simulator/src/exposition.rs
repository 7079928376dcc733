//! Writing a scenario out: a live scrape, or history in OpenMetrics with timestamps.

use std::fmt::Write as _;

use crate::scenario::Scenario;

/// One sample of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Metric family (`http_requests`, `http_request_duration_seconds`).
    pub family: &'static str,
    /// Full series name (`http_requests_total`, `..._bucket`, ...).
    pub name: &'static str,
    /// Labels in order.
    pub labels: Vec<(&'static str, String)>,
    /// The value.
    pub value: f64,
}

/// Every series of the checkout service at `t` (unix seconds).
pub fn samples_at(scenario: &Scenario, t: f64) -> Vec<Sample> {
    let mut out = Vec::new();
    for route in &scenario.routes {
        let c = scenario.counts_at(route, t);
        let base = || {
            vec![
                ("service", "checkout".to_string()),
                ("route", route.name.clone()),
            ]
        };
        for (code, value) in [("200", c.requests - c.errors), ("500", c.errors)] {
            let mut labels = base();
            labels.push(("code", code.to_string()));
            out.push(Sample {
                family: "http_requests",
                name: "http_requests_total",
                labels,
                value,
            });
        }
        let family = "http_request_duration_seconds";
        for (le, value) in [
            ("0.1", c.requests - c.over_100ms),
            ("0.3", c.requests - c.slow),
            ("1", c.requests - c.very_slow),
            ("+Inf", c.requests),
        ] {
            let mut labels = base();
            labels.push(("le", le.to_string()));
            out.push(Sample {
                family,
                name: "http_request_duration_seconds_bucket",
                labels,
                value,
            });
        }
        out.push(Sample {
            family,
            name: "http_request_duration_seconds_count",
            labels: base(),
            value: c.requests,
        });
        let sum = 0.05 * (c.requests - c.slow) + 0.6 * c.slow;
        out.push(Sample {
            family,
            name: "http_request_duration_seconds_sum",
            labels: base(),
            value: sum,
        });
    }
    // Exposition formats want each family's samples together; the sort is stable, so the
    // order within a family (route, then bucket) is kept.
    out.sort_by_key(|s| std::cmp::Reverse(s.family == "http_requests"));
    out
}

fn write_series(out: &mut String, sample: &Sample) {
    out.push_str(sample.name);
    out.push('{');
    for (i, (name, value)) in sample.labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{name}=\"{value}\"");
    }
    out.push('}');
}

fn type_line(out: &mut String, family: &str) {
    let kind = if family == "http_requests" {
        "counter"
    } else {
        "histogram"
    };
    let _ = writeln!(out, "# TYPE {family} {kind}");
}

/// A scrape of the live service at `t`, in the Prometheus text format.
pub fn render_scrape(scenario: &Scenario, t: f64) -> String {
    let mut out = String::new();
    let mut family = "";
    for sample in samples_at(scenario, t) {
        if sample.family != family {
            family = sample.family;
            type_line(&mut out, family);
        }
        write_series(&mut out, &sample);
        let _ = writeln!(out, " {}", sample.value);
    }
    out
}

/// History from `start` to `end` (unix seconds) every `step` seconds, as OpenMetrics with
/// timestamps for `promtool tsdb create-blocks-from openmetrics`. Scrape gaps are left out.
/// Samples of a family are contiguous, each series' samples in time order, as promtool requires.
pub fn render_openmetrics_history(scenario: &Scenario, start: f64, end: f64, step: f64) -> String {
    let times: Vec<f64> = (0..)
        .map(|i| start + f64::from(i) * step)
        .take_while(|t| *t <= end)
        .filter(|t| scenario.scraped_at(*t))
        .collect();
    let per_time: Vec<Vec<Sample>> = times.iter().map(|t| samples_at(scenario, *t)).collect();
    let series_count = per_time.first().map_or(0, Vec::len);
    let mut out = String::new();
    let mut family = "";
    for series in 0..series_count {
        let first = &per_time[0][series];
        if first.family != family {
            family = first.family;
            type_line(&mut out, family);
        }
        for (t, samples) in times.iter().zip(&per_time) {
            write_series(&mut out, &samples[series]);
            let _ = writeln!(out, " {} {:.3}", samples[series].value, t);
        }
    }
    out.push_str("# EOF\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Phase;

    #[test]
    fn history_skips_gaps_and_ends_with_eof() {
        let scenario = Scenario::checkout(vec![
            Phase::steady(0.0, 10.0, 0.01, 0.0),
            Phase {
                scraped: false,
                ..Phase::steady(60.0, 10.0, 0.01, 0.0)
            },
            Phase::steady(120.0, 10.0, 0.01, 0.0),
        ]);
        let text = render_openmetrics_history(&scenario, 0.0, 180.0, 30.0);
        assert!(text.ends_with("# EOF\n"));
        // Times 0, 30, (60, 90 in the gap), 120, 150, 180: five per series.
        let pay_errors = text
            .lines()
            .filter(|l| {
                l.starts_with(r#"http_requests_total{service="checkout",route="/pay",code="500"}"#)
            })
            .count();
        assert_eq!(pay_errors, 5);
        assert_eq!(text.matches("# TYPE").count(), 2);
    }

    #[test]
    fn buckets_are_cumulative() {
        let scenario = Scenario::checkout(vec![Phase::steady(0.0, 10.0, 0.01, 0.2)]);
        let samples = samples_at(&scenario, 100.0);
        let buckets: Vec<f64> = samples
            .iter()
            .filter(|s| s.name.ends_with("_bucket") && s.labels[1].1 == "/pay")
            .map(|s| s.value)
            .collect();
        assert_eq!(buckets.len(), 4);
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    }
}
