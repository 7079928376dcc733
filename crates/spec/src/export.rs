//! `burnwatch export --format openslo`: a loaded configuration's SLOs as OpenSLO v1 documents
//! that `burnwatch import` (and `specs`) read back into the same SLOs.
//!
//! What OpenSLO says natively is written natively: the service, description, objective,
//! rolling or calendar window, budgeting method, time-slice settings, and ratio, event-rate
//! (`counter: false` with `{{.window}}`) and threshold indicators. Latency, raw and bool-gauge
//! SLIs are written as their OpenSLO equivalent (bucket over count, a good ratio, a sum over a
//! count) for other tools. What OpenSLO cannot say (labels, grouping, limits, the backend, the
//! interval, a week's first day, the whole alert policy, and those three SLIs exactly) travels in
//! the annotation `burnwatch.dev/slo`, a TOML inline table of `[[slo]]` keys that the importer
//! applies over what it read.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::duration::format_prometheus;
use crate::import::{basic, key};
use crate::model::{Alerting, Config, Sli, Slo, Threshold};

/// The annotation holding what OpenSLO cannot say.
pub const ANNOTATION: &str = "burnwatch.dev/slo";

/// Every SLO of `config` as one OpenSLO v1 `kind: SLO` document with an inline indicator.
pub fn openslo(config: &Config) -> String {
    let mut out = String::new();
    for slo in &config.slos {
        if matches!(slo.sli, Sli::Composite { .. }) {
            // OpenSLO v1 has no composite SLOs (v2alpha's are not settled): say so where it
            // would be rather than drop it silently.
            let _ = writeln!(
                out,
                "# {}: a [[composite]], not exported (OpenSLO v1 has no composite SLOs)",
                slo.id
            );
            continue;
        }
        document(&mut out, slo);
    }
    out
}

fn document(out: &mut String, slo: &Slo) {
    let q = basic;
    let _ = writeln!(
        out,
        "---\napiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: {}",
        q(&slo.name)
    );
    let _ = writeln!(
        out,
        "  annotations:\n    {}: {}",
        q(ANNOTATION),
        q(&extras(slo))
    );
    let _ = writeln!(out, "spec:\n  service: {}", q(&slo.service));
    if let Some(description) = &slo.description {
        let _ = writeln!(out, "  description: {}", q(description));
    }
    let _ = writeln!(
        out,
        "  indicator:\n    metadata:\n      name: {}\n    spec:",
        q(&format!("{}-sli", slo.name))
    );
    indicator(out, &slo.sli);
    match &slo.calendar {
        Some(calendar) => {
            let duration = match calendar.unit {
                burnwatch_engine::CalendarUnit::Week => "1w",
                burnwatch_engine::CalendarUnit::Month => "1M",
                burnwatch_engine::CalendarUnit::Quarter => "1Q",
            };
            let _ = writeln!(
                out,
                "  timeWindow:\n    - duration: {duration}\n      isRolling: false\n      calendar:\n        startTime: \"2024-01-01 00:00:00\"\n        timeZone: {}",
                q(calendar.timezone.name())
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  timeWindow:\n    - duration: {}\n      isRolling: true",
                format_prometheus(slo.period)
            );
        }
    }
    let method = match slo.slicing.map(|s| s.rule) {
        None => "Occurrences",
        Some(burnwatch_engine::SliceRule::Ratio) => "RatioTimeslices",
        Some(_) => "Timeslices",
    };
    let _ = writeln!(
        out,
        "  budgetingMethod: {method}\n  objectives:\n    - target: {}",
        slo.objective.ratio()
    );
    if let Some(slicing) = &slo.slicing {
        let _ = writeln!(
            out,
            "      timeSliceWindow: {}",
            format_prometheus(slicing.length)
        );
        if let burnwatch_engine::SliceRule::Target(target) = slicing.rule {
            let _ = writeln!(out, "      timeSliceTarget: {target}");
        }
    }
    if let Sli::Threshold { op, value, .. } = &slo.sli {
        let _ = writeln!(out, "      op: {}\n      value: {value}", op.as_str());
    }
}

/// The indicator's `spec`, at six spaces.
fn indicator(out: &mut String, sli: &Sli) {
    let source = |query: &str| {
        format!(
            "metricSource:\n            type: Prometheus\n            spec:\n              query: {}",
            basic(query)
        )
    };
    let ratio = |out: &mut String, counter: bool, parts: &[(&str, String)]| {
        let _ = writeln!(out, "      ratioMetric:\n        counter: {counter}");
        for (name, query) in parts {
            let _ = writeln!(out, "        {name}:\n          {}", source(query));
        }
    };
    match sli {
        Sli::Ratio {
            errors,
            good,
            total,
        } => {
            let mut parts = Vec::new();
            if let Some(good) = good {
                parts.push(("good", good.to_string()));
            }
            if let Some(errors) = errors {
                parts.push(("bad", errors.to_string()));
            }
            parts.push(("total", total.to_string()));
            ratio(out, true, &parts);
        }
        Sli::Latency { histogram, le } => {
            let good = histogram.with_suffix("_bucket").with_matcher("le", "=", le);
            ratio(
                out,
                true,
                &[
                    ("good", good.to_string()),
                    ("total", histogram.with_suffix("_count").to_string()),
                ],
            );
        }
        Sli::Events {
            error_query,
            total_query,
        } => {
            ratio(
                out,
                false,
                &[
                    ("bad", error_query.to_string()),
                    ("total", total_query.to_string()),
                ],
            );
        }
        Sli::BoolGauge { selector } => ratio(
            out,
            false,
            &[
                (
                    "good",
                    format!("sum(sum_over_time({selector}[{{{{.window}}}}]))"),
                ),
                (
                    "total",
                    format!("sum(count_over_time({selector}[{{{{.window}}}}]))"),
                ),
            ],
        ),
        Sli::Raw { error_ratio_query } => {
            let _ = writeln!(
                out,
                "      rawMetric:\n        {}",
                source(&format!("1 - ({error_ratio_query})")).replace("\n  ", "\n")
            );
        }
        Sli::Threshold { query, .. } => {
            let _ = writeln!(
                out,
                "      thresholdMetric:\n        {}",
                source(query).replace("\n  ", "\n")
            );
        }
        Sli::Datadog {
            errors,
            good,
            total,
        } => {
            // OpenSLO's Datadog metric source: the query as written, read back by import.
            let text = |q: &crate::model::DatadogQuery| {
                let count = if q.as_count { ".as_count()" } else { "" };
                format!("sum:{}{{{}}}{count}", q.metric, q.scope)
            };
            let _ = writeln!(out, "      ratioMetric:\n        counter: false");
            let parts = [
                ("good", good.as_ref()),
                ("bad", errors.as_ref()),
                ("total", Some(total)),
            ];
            for (name, query) in parts {
                if let Some(query) = query {
                    let _ = writeln!(
                        out,
                        "        {name}:\n          metricSource:\n            type: Datadog\n            spec:\n              query: {}",
                        basic(&text(query))
                    );
                }
            }
        }
        Sli::Composite { .. } => unreachable!("composites are not exported"),
    }
}

/// `{ key = value, ... }`.
fn inline(entries: &[(&str, String)]) -> String {
    let items: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("{} = {v}", key(k)))
        .collect();
    format!("{{ {} }}", items.join(", "))
}

fn strings(map: &BTreeMap<String, String>) -> String {
    let items: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{} = {}", key(k), basic(v)))
        .collect();
    format!("{{ {} }}", items.join(", "))
}

/// The `[[slo]]` keys OpenSLO cannot say, as a TOML inline table.
fn extras(slo: &Slo) -> String {
    let mut e: Vec<(&str, String)> = vec![
        ("backend", basic(&slo.backend)),
        ("interval", basic(&format_prometheus(slo.interval))),
        ("group_limit", slo.group_limit.to_string()),
        ("series_limit", slo.series_limit.to_string()),
    ];
    if !slo.objective_schedule.is_empty() {
        // OpenSLO has one target per objective and no dates; the schedule travels here.
        let steps: Vec<String> = slo
            .objective_schedule
            .iter()
            .map(|step| {
                inline(&[
                    ("from", basic(&crate::text::rfc3339(step.from))),
                    ("objective", step.objective.percent().to_string()),
                ])
            })
            .collect();
        e.push(("objective_schedule", format!("[{}]", steps.join(", "))));
    }
    if !slo.labels.is_empty() {
        e.push(("labels", strings(&slo.labels)));
    }
    if !slo.group_by.is_empty() {
        let items: Vec<String> = slo.group_by.iter().map(|g| basic(g)).collect();
        e.push(("group_by", format!("[{}]", items.join(", "))));
    }
    if let Some(calendar) = &slo.calendar
        && calendar.unit == burnwatch_engine::CalendarUnit::Week
    {
        use burnwatch_engine::Weekday::*;
        let day = match calendar.week_start {
            Mon => "monday",
            Tue => "tuesday",
            Wed => "wednesday",
            Thu => "thursday",
            Fri => "friday",
            Sat => "saturday",
            Sun => "sunday",
        };
        e.push(("week_start", basic(day)));
    }
    let exact_sli = match &slo.sli {
        Sli::Latency { histogram, le } => Some((
            "latency",
            inline(&[
                ("histogram", basic(&histogram.to_string())),
                ("le", basic(le)),
            ]),
        )),
        Sli::Raw { error_ratio_query } => Some((
            "raw",
            inline(&[("error_ratio_query", basic(&error_ratio_query.to_string()))]),
        )),
        Sli::BoolGauge { selector } => Some((
            "bool_gauge",
            inline(&[("selector", basic(&selector.to_string()))]),
        )),
        _ => None,
    };
    if let Some((kind, table)) = exact_sli {
        e.push(("sli", inline(&[(kind, table)])));
    }
    e.push(("alerting", alerting(&slo.alerting)));
    inline(&e)
}

/// The whole resolved alert policy, every key explicit.
fn alerting(a: &Alerting) -> String {
    let duration = |d| basic(&format_prometheus(d));
    let mut e: Vec<(&str, String)> = vec![
        ("name", basic(&a.name)),
        ("for", duration(a.hold_for)),
        ("keep_firing_for", duration(a.keep_firing_for)),
        ("min_events", a.min_events.to_string()),
        ("page", a.page.to_string()),
        ("ticket", a.ticket.to_string()),
    ];
    match a.no_data_for {
        Some(after) => e.push(("no_data_for", duration(after))),
        None => e.push(("no_data", "false".into())),
    }
    if let Some(ratio) = a.budget_exhausted {
        e.push((
            "budget_exhausted",
            ((ratio * 100.0 * 1e10).round() / 1e10).to_string(),
        ));
    }
    let maps = [
        ("annotations", &a.annotations),
        ("labels", &a.extras.labels),
        ("page_labels", &a.extras.page_labels),
        ("ticket_labels", &a.extras.ticket_labels),
        ("page_annotations", &a.extras.page_annotations),
        ("ticket_annotations", &a.extras.ticket_annotations),
    ];
    for (name, map) in maps {
        if !map.is_empty() {
            e.push((name, strings(map)));
        }
    }
    if let Some(windows) = &a.windows {
        let items: Vec<String> = windows
            .iter()
            .map(|w| {
                let threshold = match w.threshold {
                    Threshold::BudgetShare(share) => ("budget_share", share.to_string()),
                    Threshold::Factor(factor) => ("factor", factor.to_string()),
                };
                inline(&[
                    ("severity", basic(w.severity.as_str())),
                    ("short", duration(w.short)),
                    ("long", duration(w.long)),
                    threshold,
                ])
            })
            .collect();
        e.push(("windows", format!("[{}]", items.join(", "))));
    }
    inline(&e)
}
