//! OpenSLO: `openslo/v1` (`SLO`, `SLI`, `DataSource`, `Service`, `AlertPolicy`,
//! `AlertCondition`, `AlertNotificationTarget`, inline or by reference across the files of one
//! import) and `openslo/v1alpha` as Sloth reads it.
//!
//! The annotation `burnwatch.dev/slo` (see [`crate::export`]) is applied over what was read.
//!
//! A policy's notification targets become a `[[route]]` to the receivers of those names.
//!
//! Every objective becomes one SLO: alone it is named after the SLO (`metadata.name`); of
//! several, each is `<metadata.name>-<index>` as Sloth names them. Targets are ratios in
//! OpenSLO and percentages in burnwatch (`target: 0.999` is `objective = 99.9`, and
//! `timeSliceTarget: 0.95` is `slice_target = 95`).

use std::collections::BTreeMap;
use std::path::Path;

use super::reader::Reader;
use super::table::{ImportedSlo, Item, Table};
use super::yaml::Node;
use crate::error::ErrorKind;

/// Metric source types that speak PromQL over the Prometheus HTTP API.
const PROMETHEUS_SOURCES: [&str; 6] = [
    "prometheus",
    "thanos",
    "mimir",
    "cortex",
    "victoriametrics",
    "sloth",
];

/// The named documents SLOs may refer to, from every file of the import.
#[derive(Default)]
pub(crate) struct Catalog<'a> {
    by_kind: BTreeMap<(&'a str, &'a str), (&'a Path, &'a Node)>,
}

impl<'a> Catalog<'a> {
    /// Adds a non-SLO document (`SLI`, `DataSource`, ...) under its kind and name.
    pub(crate) fn add(&mut self, file: &'a Path, doc: &'a Node) {
        let kind = doc.get("kind").and_then(Node::text).unwrap_or("");
        let name = doc
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Node::text)
            .unwrap_or("");
        self.by_kind.insert((kind, name), (file, doc));
    }

    fn find(&self, kind: &str, name: &str) -> Option<(&'a Path, &'a Node)> {
        self.by_kind.get(&(kind, name)).copied()
    }
}

/// The SLOs of one `kind: SLO` document.
pub(crate) fn slos<'a>(
    r: &mut Reader<'_>,
    file: &'a Path,
    doc: &'a Node,
    catalog: &Catalog<'a>,
    out: &mut Vec<ImportedSlo>,
) {
    let alpha = doc.get("apiVersion").and_then(Node::text) == Some("openslo/v1alpha");
    let format = if alpha {
        "OpenSLO v1alpha"
    } else {
        "OpenSLO v1"
    };
    let kind = doc.get("kind").and_then(Node::text).unwrap_or("");
    if kind != "SLO" {
        if alpha {
            r.unsupported(doc, format!("OpenSLO v1alpha `kind: {kind}`: Sloth and burnwatch read only `kind: SLO` of v1alpha; write it as openslo/v1"));
        }
        return;
    }
    let Some(name) = doc.get("metadata").and_then(|m| m.get("name")) else {
        r.problem(
            ErrorKind::Missing,
            doc,
            "an OpenSLO SLO needs `metadata.name`",
        );
        return;
    };
    let Some(spec) = doc.get("spec") else {
        r.problem(ErrorKind::Missing, doc, "an OpenSLO SLO needs `spec`");
        return;
    };
    let before = r.problems.len();
    let known: &[&str] = if alpha {
        &[
            "service",
            "description",
            "budgetingMethod",
            "objectives",
            "timeWindows",
            "indicator",
        ]
    } else {
        &[
            "service",
            "description",
            "indicator",
            "indicatorRef",
            "timeWindow",
            "budgetingMethod",
            "objectives",
            "alertPolicies",
        ]
    };
    r.known(spec, known, &format!("an {format} SLO `spec`"));
    let mut common = Table::default();
    let service = r.required(spec, "service", "an OpenSLO SLO");
    if let Some(service) = service {
        let text = service.text().unwrap_or_default();
        common.set("service", Item::Str(text.to_string()), Some(r.at(service)));
        if !alpha
            && catalog.find("Service", text).is_none()
            && !catalog.by_kind.keys().all(|(k, _)| *k != "Service")
        {
            r.problem(
                ErrorKind::InvalidValue,
                service,
                format!("no `kind: Service` named `{text}` among the imported files"),
            );
        }
    }
    if let Some(description) = r.optional(spec, "description") {
        let text = description.text().unwrap_or_default().to_string();
        common.set("description", Item::Str(text), Some(r.at(description)));
    }
    if alpha {
        window_alpha(r, spec, &mut common);
    } else {
        window(r, spec, &mut common);
    }
    let budgeting = spec.get("budgetingMethod");
    let method = budgeting.and_then(Node::text).unwrap_or("Occurrences");
    match method {
        "Occurrences" => {}
        "Timeslices" => common.set("budgeting", Item::Str("timeslices".into()), budgeting.map(|b| r.at(b))),
        "RatioTimeslices" => {
            common.set("budgeting", Item::Str("ratio_timeslices".into()), budgeting.map(|b| r.at(b)))
        }
        other => r.problem(
            ErrorKind::InvalidValue,
            budgeting.unwrap_or(spec),
            format!("`budgetingMethod: {other}`: OpenSLO's methods are Occurrences, Timeslices and RatioTimeslices"),
        ),
    }
    // The SLO's indicator, unless each objective has its own (v1alpha's ratioMetrics).
    let indicator = if alpha {
        None
    } else {
        indicator(r, file, spec, catalog)
    };
    let objectives = spec.get("objectives").map(Node::items).unwrap_or_default();
    if objectives.is_empty() {
        // `objective` (as some published examples spell it) is reported as an unknown key.
        if spec.get("objective").is_none() {
            r.problem(
                ErrorKind::Missing,
                spec,
                "an OpenSLO SLO needs `objectives`, e.g. `objectives: [{target: 0.999}]`",
            );
        }
        // The indicator's own problems are worth knowing all the same.
        if let Some((ind_file, ind)) = indicator {
            let mut sub = Reader {
                file: ind_file,
                problems: &mut *r.problems,
            };
            sli(&mut sub, ind, spec, method, &mut Table::default(), catalog);
        }
    }
    let mut receivers = Vec::new();
    let alerting = if alpha {
        // Sloth generates no alerts for OpenSLO specs.
        let mut a = Table::default();
        a.set("page", Item::Bool(false), None);
        a.set("ticket", Item::Bool(false), None);
        Some(a)
    } else {
        alert_policies(r, spec, catalog, &mut receivers)
    };
    let base_name = name.text().unwrap_or_default();
    for (i, objective) in objectives.iter().enumerate() {
        let mut t = Table::default();
        let mut entries = common.entries.clone();
        let slo_name = if objectives.len() == 1 && !alpha {
            base_name.to_string()
        } else {
            format!("{base_name}-{i}")
        };
        t.set("service", Item::Str(String::new()), None);
        t.entries.clear();
        if let Some(at) = entries.iter().position(|e| e.key == "service") {
            t.entries.push(entries.remove(at));
        }
        t.set("name", Item::Str(slo_name), Some(r.at(name)));
        let slo_before = r.problems.len();
        objective_keys(r, objective, alpha, &mut t);
        t.entries.extend(entries);
        if alpha {
            ratio_alpha(r, objective, &mut t);
        } else if let Some((ind_file, ind)) = indicator {
            let mut sub = Reader {
                file: ind_file,
                problems: &mut *r.problems,
            };
            sli(&mut sub, ind, objective, method, &mut t, catalog);
        }
        if let Some(alerting) = &alerting {
            t.set("alerting", Item::Table(alerting.clone()), None);
        }
        annotation(r, doc, &mut t);
        if r.problems.len() == before && r.problems.len() == slo_before {
            out.push(ImportedSlo {
                origin: r.at(objective),
                format,
                table: t,
                receivers: receivers.clone(),
            });
        }
    }
}

/// `target`/`targetPercent`, `timeSliceTarget`, `timeSliceWindow` of one objective.
fn objective_keys(r: &mut Reader<'_>, objective: &Node, alpha: bool, t: &mut Table) {
    let known: &[&str] = if alpha {
        &["ratioMetrics", "target", "displayName", "value", "op"]
    } else {
        &[
            "displayName",
            "op",
            "value",
            "target",
            "targetPercent",
            "timeSliceTarget",
            "timeSliceWindow",
            "indicator",
            "indicatorRef",
            "compositeWeight",
        ]
    };
    r.known(objective, known, "an OpenSLO objective");
    if let Some(target) = r.optional(objective, "target") {
        match percent(target.text().unwrap_or_default()) {
            Some(p) => t.set("objective", Item::Number(p), Some(r.at(target))),
            None => r.problem(
                ErrorKind::InvalidValue,
                target,
                "`target` must be a ratio between 0 and 1, e.g. 0.999",
            ),
        }
    } else if let Some(target) = r.optional(objective, "targetPercent") {
        let text = target.text().unwrap_or_default().to_string();
        t.set("objective", Item::Number(text), Some(r.at(target)));
    } else {
        r.problem(
            ErrorKind::Missing,
            objective,
            "an OpenSLO objective needs `target` (a ratio, e.g. 0.999) or `targetPercent`",
        );
    }
    if let Some(window) = r.optional(objective, "timeSliceWindow") {
        let text = window.text().unwrap_or_default().to_string();
        t.set("slice", Item::Str(text), Some(r.at(window)));
    }
    if let Some(target) = r.optional(objective, "timeSliceTarget") {
        match percent(target.text().unwrap_or_default()) {
            Some(p) => t.set("slice_target", Item::Number(p), Some(r.at(target))),
            None => r.problem(
                ErrorKind::InvalidValue,
                target,
                "`timeSliceTarget` must be a ratio between 0 and 1, e.g. 0.95",
            ),
        }
    }
}

/// A ratio written in the spec as a percentage, as a person would write it: `0.999` is `99.9`.
fn percent(ratio: &str) -> Option<String> {
    let value: f64 = ratio.trim().parse().ok()?;
    if !(value > 0.0 && value < 1.0 || value == 1.0) {
        return None;
    }
    // Rounded to 12 significant digits: the float noise of `* 100` is not the user's.
    let scaled = (value * 100.0 * 1e10).round() / 1e10;
    Some(scaled.to_string())
}

/// `timeWindow: [{duration, isRolling, calendar: {timeZone}}]`.
fn window(r: &mut Reader<'_>, spec: &Node, t: &mut Table) {
    let Some(first) = spec.get("timeWindow").and_then(|w| w.items().first()) else {
        return;
    };
    let Some(duration) = r.required(first, "duration", "an OpenSLO `timeWindow`") else {
        return;
    };
    let text = duration.text().unwrap_or_default();
    let rolling = r.flag(first, "isRolling").unwrap_or(false);
    let unit = text.trim_start_matches(|c: char| c.is_ascii_digit());
    let count = &text[..text.len() - unit.len()];
    if rolling {
        let period = match unit {
            "w" => count.parse::<u64>().ok().map(|n| format!("{}d", n * 7)),
            "d" | "h" | "m" => Some(text.to_string()),
            _ => None,
        };
        match period {
            Some(period) => t.set("period", Item::Str(period), Some(r.at(duration))),
            None => r.unsupported(duration, format!("a rolling window of `{text}`: burnwatch's rolling periods are whole days, weeks, hours or minutes; write e.g. `28d`")),
        }
        return;
    }
    let calendar = match (count, unit) {
        ("1", "w") => Some("week"),
        ("1", "M") => Some("month"),
        ("1", "Q") => Some("quarter"),
        _ => None,
    };
    let Some(calendar) = calendar else {
        let hint = if unit == "m" {
            " (`m` is minutes in OpenSLO; a month is `1M`)"
        } else {
            ""
        };
        r.unsupported(duration, format!("a calendar window of `{text}`{hint}: burnwatch's calendar periods are one week (`1w`), month (`1M`) or quarter (`1Q`)"));
        return;
    };
    t.set("calendar", Item::Str(calendar.into()), Some(r.at(duration)));
    if let Some(zone) = first.get("calendar").and_then(|c| c.get("timeZone")) {
        let text = zone.text().unwrap_or_default().to_string();
        t.set("timezone", Item::Str(text), Some(r.at(zone)));
    }
}

/// v1alpha `timeWindows: [{count, unit: Day}]`, as Sloth reads it.
fn window_alpha(r: &mut Reader<'_>, spec: &Node, t: &mut Table) {
    let Some(first) = spec.get("timeWindows").and_then(|w| w.items().first()) else {
        return;
    };
    let count = first.get("count").and_then(Node::text).unwrap_or("");
    let unit = first.get("unit").and_then(Node::text).unwrap_or("");
    if unit.eq_ignore_ascii_case("day") && count.parse::<u64>().is_ok() {
        t.set("period", Item::Str(format!("{count}d")), Some(r.at(first)));
    } else {
        r.unsupported(first, format!("a v1alpha time window of {count} {unit}: Sloth reads only days, e.g. `{{count: 30, unit: Day}}`"));
    }
}

/// v1alpha `ratioMetrics: {good, total}` with PromQL `{{.window}}` queries: errors are total
/// minus good.
fn ratio_alpha(r: &mut Reader<'_>, objective: &Node, t: &mut Table) {
    let Some(ratio) = objective.get("ratioMetrics") else {
        r.unsupported(
            objective,
            "a v1alpha objective without `ratioMetrics`: Sloth reads only ratio metrics",
        );
        return;
    };
    let mut queries = Vec::new();
    for key in ["good", "total"] {
        let Some(metric) = ratio.get(key) else {
            r.problem(
                ErrorKind::Missing,
                ratio,
                format!("`ratioMetrics` needs `{key}`"),
            );
            return;
        };
        let source = metric.get("source").and_then(Node::text).unwrap_or("");
        if !PROMETHEUS_SOURCES.contains(&source.to_ascii_lowercase().as_str()) {
            r.unsupported(metric, format!("metric source `{source}`: burnwatch reads Prometheus-compatible backends only (source: prometheus)"));
            return;
        }
        let Some(query) = r.required(metric, "query", "a v1alpha metric") else {
            return;
        };
        queries.push(query);
    }
    let (good, total) = (queries[0], queries[1]);
    let events = t
        .table("sli", Some(r.at(ratio)))
        .table("events", Some(r.at(ratio)));
    let good_text = good.text().unwrap_or_default().trim();
    let total_text = total.text().unwrap_or_default().trim();
    events.set(
        "error_query",
        Item::Str(format!("({total_text}) - ({good_text})")),
        Some(good.at(r.file)),
    );
    events.set(
        "total_query",
        Item::Str(total_text.to_string()),
        Some(total.at(r.file)),
    );
}

/// The SLO's indicator: inline `indicator: {metadata, spec}` or `indicatorRef` to a `kind: SLI`.
fn indicator<'c>(
    r: &mut Reader<'_>,
    file: &'c Path,
    spec: &'c Node,
    catalog: &Catalog<'c>,
) -> Option<(&'c Path, &'c Node)> {
    if let Some(name) = spec.get("indicatorRef") {
        let text = name.text().unwrap_or_default();
        match catalog.find("SLI", text) {
            Some((file, doc)) => return doc.get("spec").map(|s| (file, s)),
            None => {
                r.problem(ErrorKind::InvalidValue, name, format!("`indicatorRef: {text}` names no `kind: SLI` among the imported files; import the file that defines it too"));
                return None;
            }
        }
    }
    match spec.get("indicator").and_then(|i| i.get("spec")) {
        Some(inline) => Some((file, inline)),
        None => {
            r.problem(
                ErrorKind::Missing,
                spec,
                "an OpenSLO SLO needs `indicator` (with `spec`) or `indicatorRef`",
            );
            None
        }
    }
}

/// Maps an indicator `spec` (`ratioMetric`, `rawMetric`, `thresholdMetric`).
fn sli(
    r: &mut Reader<'_>,
    ind: &Node,
    objective: &Node,
    method: &str,
    t: &mut Table,
    catalog: &Catalog<'_>,
) {
    r.known(
        ind,
        &["description", "ratioMetric", "rawMetric", "thresholdMetric"],
        "an OpenSLO SLI `spec`",
    );
    let at = Some(r.at(ind));
    if let Some(ratio) = ind.get("ratioMetric") {
        r.known(
            ratio,
            &["counter", "good", "bad", "total", "rawType", "raw"],
            "an OpenSLO `ratioMetric`",
        );
        let counter = r.flag(ratio, "counter").unwrap_or(false);
        let mut table = Table::default();
        let names: &[(&str, &str)] = &[("good", "good"), ("bad", "errors"), ("total", "total")];
        let mut datadog = Vec::new();
        for (from, to) in names {
            let Some(metric) = ratio.get(from) else {
                continue;
            };
            let Some((query, query_at, from_datadog)) = query(r, metric, catalog, t, true) else {
                return;
            };
            datadog.push(from_datadog);
            table.set(to, Item::Str(query), Some(query_at));
        }
        if datadog.iter().any(|d| *d) {
            if !datadog.iter().all(|d| *d) {
                r.unsupported(ratio, "a `ratioMetric` mixing Datadog and Prometheus sources: an SLO reads one backend; give every query the same source");
                return;
            }
            // Datadog queries count events per bucket themselves (`[slo.sli.datadog]`).
            t.table("sli", at)
                .set("datadog", Item::Table(table), Some(r.at(ratio)));
        } else if counter {
            t.table("sli", at)
                .set("ratio", Item::Table(table), Some(r.at(ratio)));
        } else {
            let total = table.get("total").cloned();
            let errors = match (table.get("errors"), table.get("good"), &total) {
                (Some(Item::Str(bad)), _, _) => bad.clone(),
                (None, Some(Item::Str(good)), Some(Item::Str(total))) => {
                    format!("({total}) - ({good})")
                }
                _ => {
                    r.problem(
                        ErrorKind::Missing,
                        ratio,
                        "`ratioMetric` needs `total` and `good` or `bad`",
                    );
                    return;
                }
            };
            if !errors.contains("{{") {
                r.unsupported(ratio, "a `ratioMetric` with `counter: false` whose queries have no `{{.window}}`: write rates over `{{.window}}` (Sloth-style events), or counters with `counter: true`");
                return;
            }
            let events = t.table("sli", at).table("events", Some(r.at(ratio)));
            events.set("error_query", Item::Str(errors), None);
            if let Some(Item::Str(total)) = total {
                events.set("total_query", Item::Str(total), None);
            }
        }
    } else if let Some(raw) = ind.get("rawMetric") {
        let Some(metric) = raw.get("metricSource").map(|_| raw) else {
            r.problem(ErrorKind::Missing, raw, "`rawMetric` needs `metricSource`");
            return;
        };
        let Some((query, query_at, _)) = query(r, metric, catalog, t, false) else {
            return;
        };
        t.table("sli", at).table("raw", Some(r.at(raw))).set(
            "error_ratio_query",
            Item::Str(format!("1 - ({query})")),
            Some(query_at),
        );
    } else if let Some(threshold) = ind.get("thresholdMetric") {
        if method == "Occurrences" {
            r.unsupported(threshold, "a `thresholdMetric` with `budgetingMethod: Occurrences`: a threshold is judged per time slice; write `budgetingMethod: Timeslices` with `timeSliceWindow`");
            return;
        }
        let Some((query, query_at, _)) = query(r, threshold, catalog, t, false) else {
            return;
        };
        let op = objective.get("op").and_then(Node::text).unwrap_or("");
        let value = objective.get("value").and_then(Node::text).unwrap_or("");
        // A threshold slice is good when the comparison holds: OpenSLO's `timeSliceTarget`
        // (a good ratio within the slice) has nothing to apply to.
        t.entries.retain(|e| e.key != "slice_target");
        let th = t.table("sli", at).table("threshold", Some(r.at(threshold)));
        th.set("query", Item::Str(query), Some(query_at));
        th.set(
            "op",
            Item::Str(op.to_string()),
            objective.get("op").map(|o| o.at(r.file)),
        );
        th.set(
            "value",
            Item::Number(value.to_string()),
            objective.get("value").map(|v| v.at(r.file)),
        );
    } else if ind
        .entries()
        .iter()
        .all(|(k, _)| k.text() == Some("description"))
    {
        // (A misspelt kind was reported as an unknown key above.)
        r.problem(
            ErrorKind::Missing,
            ind,
            "an OpenSLO SLI needs `ratioMetric`, `rawMetric` or `thresholdMetric`",
        );
    }
}

/// The PromQL of a `{metricSource: {metricSourceRef, type, spec: {query}}}`; a named data source
/// becomes the SLO's `backend`.
fn query(
    r: &mut Reader<'_>,
    metric: &Node,
    catalog: &Catalog<'_>,
    t: &mut Table,
    datadog: bool,
) -> Option<(String, crate::location::Location, bool)> {
    let Some(source) = metric.get("metricSource") else {
        r.problem(ErrorKind::Missing, metric, "a metric needs `metricSource`");
        return None;
    };
    let mut kind = source.get("type").and_then(Node::text).map(str::to_string);
    if let Some(reference) = source.get("metricSourceRef") {
        let name = reference.text().unwrap_or_default();
        match catalog.find("DataSource", name) {
            Some((_, ds)) => {
                kind = kind.or_else(|| {
                    ds.get("spec")
                        .and_then(|s| s.get("type"))
                        .and_then(Node::text)
                        .map(str::to_string)
                });
                if t.get("backend").is_none() {
                    t.set(
                        "backend",
                        Item::Str(name.to_string()),
                        Some(r.at(reference)),
                    );
                }
            }
            None => {
                r.problem(ErrorKind::InvalidValue, reference, format!("`metricSourceRef: {name}` names no `kind: DataSource` among the imported files"));
                return None;
            }
        }
    }
    let kind = kind.unwrap_or_default();
    let lower = kind.to_ascii_lowercase();
    let from_datadog = lower == "datadog";
    if from_datadog && !datadog {
        r.unsupported(source, format!("metric source type `{kind}` here: burnwatch reads Datadog as event counts per bucket, so only a `ratioMetric` (good or bad, and total) may read it; write a raw or threshold query against a Prometheus-compatible source"));
        return None;
    }
    if !PROMETHEUS_SOURCES.contains(&lower.as_str()) && !from_datadog {
        r.unsupported(source, format!("metric source type `{kind}`: burnwatch reads Prometheus-compatible backends (Prometheus, Thanos, Mimir, Cortex, VictoriaMetrics) and Datadog; write the PromQL with `type: Prometheus`, or a Datadog metric query with `type: Datadog`"));
        return None;
    }
    let Some(query) = source.get("spec").and_then(|s| s.get("query")) else {
        r.problem(
            ErrorKind::Missing,
            source,
            "a metric source needs `spec.query`",
        );
        return None;
    };
    Some((
        query.text().unwrap_or_default().trim().to_string(),
        r.at(query),
        from_datadog,
    ))
}

/// `alertPolicies`: burn-rate conditions become window pairs (the long window is the
/// condition's `lookbackWindow`, the short one a twelfth of it, as in the SRE Workbook).
fn alert_policies(
    r: &mut Reader<'_>,
    spec: &Node,
    catalog: &Catalog<'_>,
    receivers: &mut Vec<(String, crate::location::Location)>,
) -> Option<Table> {
    let policies = spec
        .get("alertPolicies")
        .map(Node::items)
        .unwrap_or_default();
    if policies.is_empty() {
        return None;
    }
    let mut windows = Vec::new();
    let mut hold: Option<String> = None;
    for item in policies {
        let reference = item.get("alertPolicyRef").and_then(Node::text);
        let policy = match reference {
            Some(name) => catalog
                .find("AlertPolicy", name)
                .and_then(|(_, d)| d.get("spec")),
            None => item.get("spec"),
        };
        let Some(policy) = policy else {
            let what = reference.map_or("an inline alert policy without `spec`".to_string(), |name| {
                format!("`alertPolicyRef: {name}` names no `kind: AlertPolicy` among the imported files")
            });
            r.problem(ErrorKind::InvalidValue, item, what);
            continue;
        };
        notification_targets(r, policy, catalog, receivers);
        for condition in policy
            .get("conditions")
            .map(Node::items)
            .unwrap_or_default()
        {
            let resolved = match condition.get("conditionRef").and_then(Node::text) {
                Some(name) => catalog
                    .find("AlertCondition", name)
                    .and_then(|(_, d)| d.get("spec")),
                None => condition.get("spec").or(Some(condition)),
            };
            let Some(cond) = resolved else {
                r.problem(
                    ErrorKind::InvalidValue,
                    condition,
                    "an alert condition that is neither inline nor a known `conditionRef`",
                );
                continue;
            };
            let severity = cond
                .get("severity")
                .and_then(Node::text)
                .unwrap_or("ticket")
                .to_ascii_lowercase();
            let Some(c) = cond.get("condition") else {
                continue;
            };
            if c.get("kind").and_then(Node::text) != Some("burnrate") {
                r.unsupported(c, "an alert condition other than `kind: burnrate`: burnwatch alerts on burn rates");
                continue;
            }
            let threshold = c.get("threshold").and_then(Node::text).unwrap_or("");
            let lookback = c.get("lookbackWindow").and_then(Node::text).unwrap_or("");
            let Ok(long) = crate::duration::parse_duration(lookback) else {
                r.problem(
                    ErrorKind::InvalidValue,
                    c,
                    format!("`lookbackWindow: {lookback}` is not a duration, e.g. 1h"),
                );
                continue;
            };
            let short_secs = (long.as_secs() / 12 / 60).max(1) * 60;
            let mut w = Table::default();
            let page = matches!(severity.as_str(), "page" | "critical" | "high");
            w.set(
                "severity",
                Item::Str(if page { "page" } else { "ticket" }.into()),
                cond.get("severity").map(|s| r.at(s)),
            );
            w.set(
                "short",
                Item::Str(crate::duration::format_prometheus(
                    std::time::Duration::from_secs(short_secs),
                )),
                None,
            );
            w.set("long", Item::Str(lookback.to_string()), Some(r.at(c)));
            w.set(
                "factor",
                Item::Number(threshold.to_string()),
                c.get("threshold").map(|t| r.at(t)),
            );
            windows.push(w);
            if let Some(after) = c.get("alertAfter").and_then(Node::text) {
                hold.get_or_insert_with(|| after.to_string());
            }
        }
    }
    let mut a = Table::default();
    if let Some(hold) = hold {
        a.set("for", Item::Str(hold), None);
    }
    if !windows.is_empty() {
        a.set("windows", Item::Tables(windows), None);
    }
    (!a.is_empty()).then_some(a)
}

/// `metadata.annotations."burnwatch.dev/slo"` (written by `burnwatch export`): `[[slo]]` keys
/// OpenSLO cannot say, applied over what was read.
fn annotation(r: &mut Reader<'_>, doc: &Node, t: &mut Table) {
    let Some(node) = doc
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(crate::export::ANNOTATION))
    else {
        return;
    };
    let text = node.text().unwrap_or_default();
    let parsed = toml::from_str::<toml::Table>(&format!("x = {text}"));
    let Some(toml::Value::Table(keys)) = parsed.ok().and_then(|mut t| t.remove("x")) else {
        r.problem(
            ErrorKind::InvalidValue,
            node,
            format!(
                "`{}` must be a TOML inline table of [[slo]] keys, as `burnwatch export` writes",
                crate::export::ANNOTATION
            ),
        );
        return;
    };
    let at = r.at(node);
    for (key, value) in keys {
        t.entries.retain(|e| e.key != key);
        t.set(&key, item(value), Some(at.clone()));
    }
}

/// A TOML value as an imported item: tables of strings stay inline.
fn item(value: toml::Value) -> Item {
    match value {
        toml::Value::String(s) => Item::Str(s),
        toml::Value::Boolean(b) => Item::Bool(b),
        toml::Value::Array(list) if list.iter().all(toml::Value::is_table) => Item::Tables(
            list.into_iter()
                .map(|v| match item(v) {
                    Item::Table(t) => t,
                    Item::Map(map) => Table {
                        entries: map
                            .into_iter()
                            .map(|(key, v)| super::table::Entry {
                                key,
                                value: Item::Str(v),
                                origin: None,
                            })
                            .collect(),
                    },
                    _ => Table::default(),
                })
                .collect(),
        ),
        toml::Value::Array(list) => Item::Strings(
            list.into_iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
        ),
        toml::Value::Table(table) if table.values().all(toml::Value::is_str) => Item::Map(
            table
                .into_iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
                .collect(),
        ),
        toml::Value::Table(table) => Item::Table(Table {
            entries: table
                .into_iter()
                .map(|(key, v)| super::table::Entry {
                    key,
                    value: item(v),
                    origin: None,
                })
                .collect(),
        }),
        other => Item::Number(other.to_string()),
    }
}

/// A policy's `notificationTargets` (`targetRef`, or inline with `metadata.name`): each becomes
/// the burnwatch receiver of that name, defined in the configuration.
fn notification_targets(
    r: &mut Reader<'_>,
    policy: &Node,
    catalog: &Catalog<'_>,
    receivers: &mut Vec<(String, crate::location::Location)>,
) {
    for target in policy
        .get("notificationTargets")
        .map(Node::items)
        .unwrap_or_default()
    {
        let name = match target.get("targetRef") {
            Some(reference) => {
                let name = reference.text().unwrap_or_default();
                if catalog.find("AlertNotificationTarget", name).is_none() {
                    r.problem(
                        ErrorKind::InvalidValue,
                        reference,
                        format!("`targetRef: {name}` names no `kind: AlertNotificationTarget` among the imported files"),
                    );
                    continue;
                }
                (name, reference)
            }
            None => match target.get("metadata").and_then(|m| m.get("name")) {
                Some(name) => (name.text().unwrap_or_default(), name),
                None => {
                    r.problem(
                        ErrorKind::Missing,
                        target,
                        "a notification target needs `targetRef` or `metadata.name`",
                    );
                    continue;
                }
            },
        };
        if !receivers.iter().any(|(known, _)| known == name.0) {
            receivers.push((name.0.to_string(), r.at(name.1)));
        }
    }
}
