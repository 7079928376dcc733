//! From what the scheduler reads ([`Read`]) to PromQL: the only place PromQL is written.

use std::time::Duration;

use burnwatch_spec::{Selector, Template, format_prometheus};

use crate::backend::{Read, Stat};

/// The PromQL answering `read`.
pub(crate) fn promql(read: &Read<'_>) -> String {
    match *read {
        Read::Samples { selector, range } => raw_samples(selector, range),
        Read::Values { selector } => selector.render(),
        Read::Boundaries { selector, step } => boundaries(selector, step),
        Read::Increase {
            selector,
            step,
            group_by,
        } => increase(selector, step, group_by),
        Read::RateEvents { template, span } => rate_times_span(template, span),
        Read::SampleStats {
            selector,
            step,
            group_by,
            stat,
        } => sample_stats(selector, step, group_by, stat),
        Read::Expression { query } => query.to_string(),
        Read::Ratio { template, window } => template.render(&format_prometheus(window)),
        Read::LabelValues { selector, label } => label_values(selector, label),
        // Refused before a query is written: see `PrometheusBackend::refuse`.
        Read::Counts { .. } => String::new(),
    }
}

/// `group by (label) (sel)`: one series per value, only of series present now. (The label
/// values API, `/api/v1/label/<l>/values?match[]=`, ignores the time range for series still in
/// the in-memory head block, so a vanished value would linger there for hours.)
fn label_values(selector: &Selector, label: &str) -> String {
    format!("group by ({label}) ({})", selector.render())
}

/// `sum by (g) (count_over_time(sel[step - 1ms]))` (or `sum_over_time`): a gauge's raw
/// samples in each step, counted or added up exactly (no extrapolation). Prometheus 2 selects
/// both ends of a range (`[T - r, T]`), so a sample stamped on a step boundary would count in
/// two steps; samples carry whole milliseconds, so `[T - step + 1ms, T]` is exactly the step
/// `(T - step, T]`. (Prometheus 3 and VictoriaMetrics leave the start out, so there it is
/// `(T - step + 1ms, T]`: a sample stamped exactly 1 ms after a boundary is missed, where
/// Prometheus 2 would count one on the boundary twice.)
fn sample_stats(selector: &Selector, step: Duration, group_by: &[String], stat: Stat) -> String {
    let function = match stat {
        Stat::Count => "count_over_time",
        Stat::Sum => "sum_over_time",
    };
    let range = step.saturating_sub(Duration::from_millis(1));
    format!(
        "{} ({function}({}[{}]))",
        sum_by(group_by),
        selector.render(),
        promql_duration(range)
    )
}

/// `sel[range]`: the raw samples of a selector over `range` before the evaluation time.
fn raw_samples(selector: &Selector, range: Duration) -> String {
    format!("{}[{}]", selector.render(), promql_duration(range))
}

/// The label that marks the reset flags in a [`boundaries`] answer.
pub(crate) const RESETS_LABEL: &str = "burnwatch_resets";

/// The counters of a selector at every bucket boundary of a range query at `step`, per series,
/// and beside them, marked with [`RESETS_LABEL`], each series' resets within every bucket it has
/// samples in: `sel or label_replace(resets(sel[step]), ...)`. An instant selector evaluated at a
/// boundary gives the last sample at or before it (within the backend's lookback), so
/// consecutive boundaries difference to exactly the increments in between. The resets say which
/// buckets must be read sample by sample: a reset can hide inside a bucket (the counter climbs
/// back past its old value), and a series with samples in a bucket but no value at its end
/// ended there. One request, as the old `increase()` read, touching as many samples.
fn boundaries(selector: &Selector, step: Duration) -> String {
    let sel = selector.render();
    format!(
        "{sel} or label_replace(resets({sel}[{}]), \"{RESETS_LABEL}\", \"1\", \"\", \"\")",
        promql_duration(step)
    )
}

/// `sum by (g) (increase(sel[step]))`: events per step, aggregated in the backend. Inexact
/// (`increase()` sees only the samples inside each step and extrapolates): the fallback when a
/// selector has too many series to read one by one.
fn increase(selector: &Selector, step: Duration, group_by: &[String]) -> String {
    format!(
        "{} (increase({}[{}]))",
        sum_by(group_by),
        selector.render(),
        promql_duration(step)
    )
}

/// `(template over span) * span_seconds`: a rate template turned into an event count.
fn rate_times_span(template: &Template, span: Duration) -> String {
    format!(
        "({}) * {}",
        template.render(&promql_duration(span)),
        span.as_secs_f64()
    )
}

/// A duration in a form every PromQL parser accepts: whole milliseconds collapse to the largest
/// exact unit (`1h`, `90s`, `1500ms`).
pub fn promql_duration(duration: Duration) -> String {
    let ms = duration.as_millis();
    for (unit, size) in [
        ("d", 86_400_000u128),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms >= size && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{}ms", ms.max(1))
}

fn sum_by(group_by: &[String]) -> String {
    if group_by.is_empty() {
        "sum".to_string()
    } else {
        format!("sum by ({})", group_by.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(text: &str) -> Selector {
        Selector::parse(text).unwrap()
    }

    #[test]
    fn backfill_query_sums_by_group() {
        let q = increase(
            &sel(r#"x_total{a="b"}"#),
            Duration::from_secs(600),
            &["route".into()],
        );
        assert_eq!(q, r#"sum by (route) (increase(x_total{a="b"}[10m]))"#);
        let q = increase(&sel("x_total"), Duration::from_secs(3600), &[]);
        assert_eq!(q, "sum (increase(x_total[1h]))");
    }

    #[test]
    fn boundary_query_reads_values_and_flags_resets() {
        let q = boundaries(&sel(r#"x_total{a="b"}"#), Duration::from_secs(3600));
        assert_eq!(
            q,
            r#"x_total{a="b"} or label_replace(resets(x_total{a="b"}[1h]), "burnwatch_resets", "1", "", "")"#
        );
    }

    #[test]
    fn gauge_samples_are_counted_and_summed_per_group() {
        let q = sample_stats(
            &sel(r#"up{job="api"}"#),
            Duration::from_secs(60),
            &["instance".into()],
            Stat::Count,
        );
        assert_eq!(
            q,
            r#"sum by (instance) (count_over_time(up{job="api"}[59999ms]))"#
        );
        let q = sample_stats(&sel("up"), Duration::from_secs(300), &[], Stat::Sum);
        assert_eq!(q, "sum (sum_over_time(up[299999ms]))");
    }

    #[test]
    fn label_values_are_grouped_by_the_label() {
        let read = Read::LabelValues {
            selector: &sel(r#"http_requests_total{job="api"}"#),
            label: "service",
        };
        assert_eq!(
            promql(&read),
            r#"group by (service) (http_requests_total{job="api"})"#
        );
    }

    #[test]
    fn durations_use_the_largest_exact_unit() {
        assert_eq!(promql_duration(Duration::from_secs(90)), "90s");
        assert_eq!(promql_duration(Duration::from_secs(86_400 * 30)), "30d");
        assert_eq!(promql_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(promql_duration(Duration::from_secs(120)), "2m");
    }

    #[test]
    fn rate_templates_become_counts() {
        let template = Template::parse("sum(rate(errs[{{.window}}]))").unwrap();
        assert_eq!(
            rate_times_span(&template, Duration::from_secs(30)),
            "(sum(rate(errs[30s]))) * 30"
        );
    }
}
