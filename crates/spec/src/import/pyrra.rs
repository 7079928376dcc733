//! Pyrra: `pyrra.dev/v1alpha1` `ServiceLevelObjective`.
//!
//! The SLO is `<metadata.namespace>-<metadata.name>` (namespace `default` when absent: Pyrra has
//! no service). Alerts keep Pyrra's four static pairs for the SLO's window, their factors
//! (14, 7, 2, 1) and its `severity: critical|warning` labels, so they fire on the same burn
//! rates as under Pyrra.

use std::time::Duration;

use super::reader::Reader;
use super::table::{ImportedSlo, Item, Table};
use super::yaml::Node;
use crate::duration::{format_prometheus, parse_duration};
use crate::error::ErrorKind;

const FORMAT: &str = "Pyrra ServiceLevelObjective";

/// The keys of Pyrra's `alerting`.
const ALERTING_KEYS: [&str; 7] = [
    "name",
    "labels",
    "annotations",
    "disabled",
    "burnrates",
    "absent",
    "burnRateType",
];

/// One of Pyrra's burn-rate pairs, as fractions of a 28-day window (Pyrra's `Windows`).
struct Pair {
    page: bool,
    hold_divisor: u32,
    long: (u32, u32),
    short_divisor: u32,
    factor: &'static str,
}

/// `(long numerator, long divisor)`: long = window * n / d.
const PAIRS: [Pair; 4] = [
    Pair {
        page: true,
        hold_divisor: 28 * 24 * 30,
        long: (1, 28 * 24),
        short_divisor: 28 * 24 * 12,
        factor: "14",
    },
    Pair {
        page: true,
        hold_divisor: 28 * 24 * 4,
        long: (1, 28 * 4),
        short_divisor: 28 * 24 * 2,
        factor: "7",
    },
    Pair {
        page: false,
        hold_divisor: 28 * 24,
        long: (1, 28),
        short_divisor: 28 * 12,
        factor: "2",
    },
    Pair {
        page: false,
        hold_divisor: 28 * 8,
        long: (4, 28),
        short_divisor: 28 * 4,
        factor: "1",
    },
];

/// `d` rounded to the minute as Go's `Round` does (halves away from zero).
fn round_minute(d: Duration) -> Duration {
    Duration::from_secs((d.as_secs_f64() / 60.0).round() as u64 * 60)
}

/// The SLO of one `ServiceLevelObjective`.
pub(crate) fn slo(r: &mut Reader<'_>, doc: &Node, out: &mut Vec<ImportedSlo>) {
    let before = r.problems.len();
    let Some(metadata) = doc.get("metadata") else {
        r.problem(
            ErrorKind::Missing,
            doc,
            "a Pyrra ServiceLevelObjective needs `metadata.name`",
        );
        return;
    };
    let Some(spec) = doc.get("spec") else {
        r.problem(
            ErrorKind::Missing,
            doc,
            "a Pyrra ServiceLevelObjective needs `spec`",
        );
        return;
    };
    r.known(
        spec,
        &[
            "target",
            "window",
            "description",
            "indicator",
            "alerting",
            "partialResponseStrategy",
        ],
        "a Pyrra `spec`",
    );
    let mut t = Table::default();
    let namespace = metadata.get("namespace");
    let service = namespace
        .and_then(Node::text)
        .unwrap_or("default")
        .to_string();
    t.set("service", Item::Str(service), namespace.map(|n| r.at(n)));
    let name = r.required(metadata, "name", "Pyrra `metadata`");
    if let Some(name) = name {
        t.set(
            "name",
            Item::Str(name.text().unwrap_or_default().to_string()),
            Some(r.at(name)),
        );
    }
    if let Some(target) = r.required(spec, "target", "a Pyrra `spec`") {
        let text = target.text().unwrap_or_default().trim().to_string();
        if text.parse::<f64>().is_ok() {
            t.set("objective", Item::Number(text), Some(r.at(target)));
        } else {
            r.problem(
                ErrorKind::InvalidValue,
                target,
                format!("`target: {text}` must be a percentage, e.g. '99.9'"),
            );
        }
    }
    if let Some(description) = r.optional(spec, "description") {
        t.set(
            "description",
            Item::Str(description.text().unwrap_or_default().to_string()),
            Some(r.at(description)),
        );
    }
    let window = r.required(spec, "window", "a Pyrra `spec`");
    let period = window.and_then(|w| {
        let text = w.text().unwrap_or_default();
        match parse_duration(text) {
            Ok(d) => {
                t.set("period", Item::Str(format_prometheus(d)), Some(r.at(w)));
                Some(d)
            }
            Err(why) => {
                r.problem(
                    ErrorKind::InvalidValue,
                    w,
                    format!("`window: {text}`: {why}"),
                );
                None
            }
        }
    });
    indicator(r, spec, &mut t);
    alerting(
        r,
        spec,
        name.and_then(Node::text).unwrap_or_default(),
        period,
        &mut t,
    );
    if r.problems.len() == before {
        out.push(ImportedSlo {
            origin: r.at(doc),
            format: FORMAT,
            table: t,
            receivers: Vec::new(),
        });
    }
}

fn indicator(r: &mut Reader<'_>, spec: &Node, t: &mut Table) {
    let Some(indicator) = spec.get("indicator") else {
        r.problem(
            ErrorKind::Missing,
            spec,
            "a Pyrra `spec` needs `indicator` (ratio, latency, latencyNative or bool_gauge)",
        );
        return;
    };
    r.known(
        indicator,
        &["ratio", "latency", "latencyNative", "bool_gauge"],
        "a Pyrra `indicator`",
    );
    let at = Some(r.at(indicator));
    let (kind, node) = match indicator.entries().first() {
        Some((k, v)) => (k.text().unwrap_or_default(), v),
        None => return,
    };
    let metric = |r: &mut Reader<'_>,
                  node: &Node,
                  key: &str|
     -> Option<(String, crate::location::Location)> {
        let m = node.get(key)?;
        let q = r.required(m, "metric", &format!("Pyrra `{key}`"))?;
        Some((q.text().unwrap_or_default().to_string(), r.at(q)))
    };
    let mut sli = Table::default();
    let key = match kind {
        "ratio" => {
            r.known(node, &["errors", "total", "grouping"], "Pyrra `ratio`");
            for (from, to) in [("errors", "errors"), ("total", "total")] {
                if let Some((q, q_at)) = metric(r, node, from) {
                    sli.set(to, Item::Str(q), Some(q_at));
                }
            }
            "ratio"
        }
        // Pyrra's latency: good = the bucket's count, total = the histogram's count.
        "latency" => {
            r.known(node, &["success", "total", "grouping"], "Pyrra `latency`");
            for (from, to) in [("success", "good"), ("total", "total")] {
                if let Some((q, q_at)) = metric(r, node, from) {
                    sli.set(to, Item::Str(q), Some(q_at));
                }
            }
            "ratio"
        }
        "bool_gauge" => {
            r.known(node, &["metric", "grouping"], "Pyrra `bool_gauge`");
            if let Some(q) = r.required(node, "metric", "Pyrra `bool_gauge`") {
                sli.set(
                    "selector",
                    Item::Str(q.text().unwrap_or_default().to_string()),
                    Some(r.at(q)),
                );
            }
            "bool_gauge"
        }
        "latencyNative" => {
            r.unsupported(
                node,
                "`latencyNative` (a native histogram) is not supported: burnwatch counts classic \
                 histogram buckets; expose classic buckets and write `latency` with `success` \
                 (`..._bucket{le=\"0.2\"}`) and `total` (`..._count`)",
            );
            return;
        }
        _ => return,
    };
    t.table("sli", at)
        .set(key, Item::Table(sli), Some(r.at(node)));
    if let Some(grouping) = node.get("grouping") {
        let labels: Vec<String> = grouping
            .items()
            .iter()
            .filter_map(Node::text)
            .map(str::to_string)
            .collect();
        t.set("group_by", Item::Strings(labels), Some(r.at(grouping)));
    }
}

fn alerting(r: &mut Reader<'_>, spec: &Node, name: &str, period: Option<Duration>, t: &mut Table) {
    let node = spec.get("alerting");
    let mut a = Table::default();
    let mut labels = std::collections::BTreeMap::new();
    labels.insert("slo".to_string(), name.to_string());
    if let Some(node) = node {
        r.known(node, &ALERTING_KEYS, "Pyrra `alerting`");
        if let Some(n) = r.optional(node, "name") {
            a.set(
                "name",
                Item::Str(n.text().unwrap_or_default().to_string()),
                Some(r.at(n)),
            );
        }
        if let Some((map, _)) = r.strings(node, "labels") {
            labels.extend(map);
        }
        if let Some((map, at)) = r.strings(node, "annotations") {
            a.set("annotations", Item::Map(map), Some(at));
        }
        if let Some(kind) = node
            .get("burnRateType")
            .filter(|k| k.text() == Some("dynamic"))
        {
            r.unsupported(kind, "`burnRateType: dynamic` is not supported: burnwatch alerts on static burn-rate factors; remove it to keep Pyrra's static pairs");
        }
        let disabled = r.flag(node, "disabled") == Some(true);
        let burnrates = r.flag(node, "burnrates") != Some(false);
        if disabled || !burnrates {
            a.set("page", Item::Bool(false), None);
            a.set("ticket", Item::Bool(false), None);
        }
        if disabled || r.flag(node, "absent") == Some(false) {
            a.set("no_data", Item::Bool(false), None);
        }
    }
    if a.get("name").is_none() {
        a.set("name", Item::Str("ErrorBudgetBurn".into()), None);
    }
    a.set("labels", Item::Map(labels), None);
    let severity =
        |s: &str| std::collections::BTreeMap::from([("severity".to_string(), s.to_string())]);
    a.set("page_labels", Item::Map(severity("critical")), None);
    a.set("ticket_labels", Item::Map(severity("warning")), None);
    if let Some(period) = period {
        let scale = |n: u32, d: u32| round_minute(period * n / d);
        // One `for` per SLO in burnwatch: the fast page's, so the first page is not held longer.
        a.set(
            "for",
            Item::Str(format_prometheus(scale(1, PAIRS[0].hold_divisor))),
            None,
        );
        let windows = PAIRS
            .iter()
            .map(|pair| {
                let mut w = Table::default();
                w.set(
                    "severity",
                    Item::Str(if pair.page { "page" } else { "ticket" }.into()),
                    None,
                );
                w.set(
                    "short",
                    Item::Str(format_prometheus(scale(1, pair.short_divisor))),
                    None,
                );
                w.set(
                    "long",
                    Item::Str(format_prometheus(scale(pair.long.0, pair.long.1))),
                    None,
                );
                w.set("factor", Item::Number(pair.factor.into()), None);
                w
            })
            .collect();
        a.set("windows", Item::Tables(windows), None);
    }
    t.set("alerting", Item::Table(a), node.map(|n| r.at(n)));
}
