//! Sloth: `version: prometheus/v1` specs, `sloth.slok.dev/v1` `PrometheusServiceLevel`
//! resources (the same fields in camelCase under `spec`), and `AlertWindows` (custom periods
//! and alert windows).
//!
//! Ids and labels are Sloth's: the id is `<service>-<name>`, the spec's labels merged with the
//! SLO's (the SLO's win) label every series, and an alert carries `alerting.labels` plus its
//! severity's `page_alert`/`ticket_alert` labels, as in the rules Sloth generates.

use super::reader::Reader;
use super::table::{ImportedSlo, Item, Table};
use super::yaml::Node;
use crate::error::ErrorKind;

/// The key names of one of Sloth's two spellings.
pub(crate) struct Spelling {
    format: &'static str,
    error_query: &'static str,
    total_query: &'static str,
    error_ratio_query: &'static str,
    page_alert: &'static str,
    ticket_alert: &'static str,
    slo_plugins: &'static str,
}

/// `version: prometheus/v1`.
pub(crate) const PLAIN: Spelling = Spelling {
    format: "Sloth prometheus/v1",
    error_query: "error_query",
    total_query: "total_query",
    error_ratio_query: "error_ratio_query",
    page_alert: "page_alert",
    ticket_alert: "ticket_alert",
    slo_plugins: "slo_plugins",
};

/// `apiVersion: sloth.slok.dev/v1`, `kind: PrometheusServiceLevel`.
pub(crate) const KUBERNETES: Spelling = Spelling {
    format: "Sloth PrometheusServiceLevel",
    error_query: "errorQuery",
    total_query: "totalQuery",
    error_ratio_query: "errorRatioQuery",
    page_alert: "pageAlert",
    ticket_alert: "ticketAlert",
    slo_plugins: "sloPlugins",
};

/// Sloth SLO plugins that change nothing burnwatch computes: Sloth's own default chain (the
/// rules burnwatch replaces), logging and validation.
const HARMLESS_PLUGINS: [&str; 5] = [
    "sloth.dev/core/sli_rules/v1",
    "sloth.dev/core/metadata_rules/v1",
    "sloth.dev/core/alert_rules/v1",
    "sloth.dev/core/debug/v1",
    "sloth.dev/contrib/validate_victoria_metrics/v1",
];

/// One multiwindow pair of an `AlertWindows` file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pair {
    severity: &'static str,
    short: String,
    long: String,
    budget_share: String,
}

/// An `AlertWindows` file: the period it is for and its four pairs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Windows {
    period: String,
    pairs: Vec<Pair>,
}

/// The SLOs of one Sloth document (`root` is the spec: the document, or its `spec` for a
/// resource).
pub(crate) fn slos(
    r: &mut Reader<'_>,
    root: &Node,
    spelling: &Spelling,
    windows: Option<&Windows>,
    out: &mut Vec<ImportedSlo>,
) {
    let what = format!("a {} spec", spelling.format);
    let root_keys: &[&str] = if spelling.format == PLAIN.format {
        &["version", "service", "labels", "slos", spelling.slo_plugins]
    } else {
        &["service", "labels", "slos", spelling.slo_plugins]
    };
    r.known(root, root_keys, &what);
    if let Some(chain) = root.get(spelling.slo_plugins) {
        plugins(r, chain, spelling.slo_plugins);
    }
    let Some(service) = r.required(root, "service", &what) else {
        return;
    };
    let service_at = r.at(service);
    let service = service.text().unwrap_or_default().to_string();
    let common = r
        .strings(root, "labels")
        .map(|(map, _)| map)
        .unwrap_or_default();
    let slos = root.get("slos");
    if slos.is_none_or(|s| s.items().is_empty()) {
        r.problem(
            ErrorKind::Missing,
            root,
            format!("{what} without `slos`: it defines no SLO; add a list `slos:` of SLOs"),
        );
    }
    for slo in slos.map(Node::items).unwrap_or_default() {
        if let Some(table) = slo_table(r, slo, spelling, &service, &service_at, &common, windows) {
            out.push(ImportedSlo {
                origin: r.at(slo),
                format: spelling.format,
                table,
                receivers: Vec::new(),
            });
        }
    }
}

fn slo_table(
    r: &mut Reader<'_>,
    slo: &Node,
    spelling: &Spelling,
    service: &str,
    service_at: &crate::location::Location,
    common: &std::collections::BTreeMap<String, String>,
    windows: Option<&Windows>,
) -> Option<Table> {
    let what = format!("a {} SLO", spelling.format);
    let problems_before = r.problems.len();
    r.known(
        slo,
        &[
            "name",
            "objective",
            "description",
            "labels",
            "interval",
            "plugins",
            "sli",
            "alerting",
        ],
        &what,
    );
    if let Some(chain) = slo.get("plugins") {
        plugins(r, chain, "plugins");
    }
    let name = r.required(slo, "name", &what);
    let objective = r.required(slo, "objective", &what);
    let mut t = Table::default();
    t.set(
        "service",
        Item::Str(service.to_string()),
        Some(service_at.clone()),
    );
    if let Some(name) = name {
        t.set(
            "name",
            Item::Str(name.text()?.to_string()),
            Some(r.at(name)),
        );
    }
    if let Some(objective) = objective {
        t.set(
            "objective",
            Item::Number(objective.text()?.to_string()),
            Some(r.at(objective)),
        );
    }
    if let Some(description) = r.optional(slo, "description") {
        let text = description.text()?.to_string();
        t.set("description", Item::Str(text), Some(r.at(description)));
    }
    let mut labels = common.clone();
    let own = r.strings(slo, "labels");
    let labels_at = own.as_ref().map(|(_, at)| at.clone());
    labels.extend(own.map(|(map, _)| map).unwrap_or_default());
    if !labels.is_empty() {
        t.set("labels", Item::Map(labels), labels_at);
    }
    if let Some(windows) = windows {
        t.set("period", Item::Str(windows.period.clone()), None);
    }
    // Sloth's rule group interval: how often the SLI is evaluated, burnwatch's tick.
    if let Some(interval) = r.optional(slo, "interval") {
        let text = interval.text().unwrap_or_default().to_string();
        t.set("interval", Item::Str(text), Some(r.at(interval)));
    }
    sli(r, slo, spelling, &mut t, &what);
    alerting(r, slo, spelling, windows, &mut t);
    // An SLO with any problem is left out whole: half of it would mean something else.
    (r.problems.len() == problems_before).then_some(t)
}

fn sli(r: &mut Reader<'_>, slo: &Node, spelling: &Spelling, t: &mut Table, what: &str) {
    let Some(sli) = slo.get("sli") else {
        r.problem(
            ErrorKind::Missing,
            slo,
            format!("{what} needs `sli` with `events` or `raw`"),
        );
        return;
    };
    r.known(sli, &["events", "raw", "plugin"], "a Sloth `sli`");
    let at = Some(r.at(sli));
    if let Some(events) = sli.get("events") {
        r.known(
            events,
            &[spelling.error_query, spelling.total_query],
            "Sloth `sli.events`",
        );
        let error = r.required(events, spelling.error_query, "`sli.events`");
        let total = r.required(events, spelling.total_query, "`sli.events`");
        let table = t.table("sli", at).table("events", Some(r.at(events)));
        for (key, node) in [("error_query", error), ("total_query", total)] {
            if let Some(node) = node {
                let text = node.text().unwrap_or_default().to_string();
                table.set(key, Item::Str(text), Some(node.at(r.file)));
            }
        }
    } else if let Some(raw) = sli.get("raw") {
        r.known(raw, &[spelling.error_ratio_query], "Sloth `sli.raw`");
        if let Some(query) = r.required(raw, spelling.error_ratio_query, "`sli.raw`") {
            let text = query.text().unwrap_or_default().to_string();
            let at_query = r.at(query);
            t.table("sli", at).table("raw", Some(r.at(raw))).set(
                "error_ratio_query",
                Item::Str(text),
                Some(at_query),
            );
        }
    } else if let Some(plugin) = sli.get("plugin") {
        let id = plugin.get("id").and_then(Node::text).unwrap_or("(no id)");
        r.unsupported(
            plugin,
            format!(
                "SLI plugin `{id}` is not supported: burnwatch runs no Sloth plugins; write the \
                 queries the plugin generates as `sli.events` (`{}`, `{}` with `{{{{.window}}}}`) \
                 or `sli.raw` (`{}`)",
                spelling.error_query, spelling.total_query, spelling.error_ratio_query
            ),
        );
    } else {
        r.problem(
            ErrorKind::Missing,
            sli,
            "`sli` needs `events` or `raw` (or a `plugin`, which burnwatch does not run)",
        );
    }
}

fn alerting(
    r: &mut Reader<'_>,
    slo: &Node,
    spelling: &Spelling,
    windows: Option<&Windows>,
    t: &mut Table,
) {
    let node = slo.get("alerting");
    let mut a = Table::default();
    if let Some(node) = node {
        r.known(
            node,
            &[
                "name",
                "labels",
                "annotations",
                spelling.page_alert,
                spelling.ticket_alert,
            ],
            "Sloth `alerting`",
        );
        if let Some(name) = r.optional(node, "name") {
            let text = name.text().unwrap_or_default().to_string();
            a.set("name", Item::Str(text), Some(r.at(name)));
        }
        for (from, to) in [("labels", "labels"), ("annotations", "annotations")] {
            if let Some((map, at)) = r.strings(node, from) {
                a.set(to, Item::Map(map), Some(at));
            }
        }
        for (key, severity) in [
            (spelling.page_alert, "page"),
            (spelling.ticket_alert, "ticket"),
        ] {
            let Some(alert) = node.get(key) else { continue };
            r.known(
                alert,
                &["disable", "labels", "annotations"],
                &format!("Sloth `{key}`"),
            );
            if r.flag(alert, "disable") == Some(true) {
                a.set(
                    severity,
                    Item::Bool(false),
                    alert.get("disable").map(|d| r.at(d)),
                );
            }
            for what in ["labels", "annotations"] {
                if let Some((map, at)) = r.strings(alert, what) {
                    a.set(&format!("{severity}_{what}"), Item::Map(map), Some(at));
                }
            }
        }
    }
    if let Some(windows) = windows {
        let list = windows
            .pairs
            .iter()
            .map(|pair| {
                let mut w = Table::default();
                w.set("severity", Item::Str(pair.severity.to_string()), None);
                w.set("short", Item::Str(pair.short.clone()), None);
                w.set("long", Item::Str(pair.long.clone()), None);
                w.set(
                    "budget_share",
                    Item::Number(pair.budget_share.clone()),
                    None,
                );
                w
            })
            .collect();
        a.set("windows", Item::Tables(list), None);
    }
    if !a.is_empty() {
        t.set("alerting", Item::Table(a), node.map(|n| r.at(n)));
    }
}

/// An `AlertWindows` resource's `spec`: `sloPeriod` and the `page`/`ticket` `quick`/`slow`
/// pairs (`errorBudgetPercent`, `shortWindow`, `longWindow`).
pub(crate) fn windows(r: &mut Reader<'_>, spec: &Node) -> Option<Windows> {
    r.known(
        spec,
        &["sloPeriod", "page", "ticket"],
        "Sloth `AlertWindows` `spec`",
    );
    let period = r.required(spec, "sloPeriod", "Sloth `AlertWindows`")?;
    let mut pairs = Vec::new();
    let mut complete = true;
    for severity in ["page", "ticket"] {
        let Some(group) = spec.get(severity) else {
            r.problem(
                ErrorKind::Missing,
                spec,
                format!("`AlertWindows` needs `{severity}`"),
            );
            complete = false;
            continue;
        };
        r.known(
            group,
            &["quick", "slow"],
            &format!("`AlertWindows` `{severity}`"),
        );
        for speed in ["quick", "slow"] {
            let Some(pair) = group.get(speed) else {
                r.problem(
                    ErrorKind::Missing,
                    group,
                    format!("`AlertWindows` `{severity}` needs `{speed}`"),
                );
                complete = false;
                continue;
            };
            let what = format!("`AlertWindows` `{severity}.{speed}`");
            r.known(
                pair,
                &["errorBudgetPercent", "shortWindow", "longWindow"],
                &what,
            );
            let share = r.required(pair, "errorBudgetPercent", &what);
            let short = r.required(pair, "shortWindow", &what);
            let long = r.required(pair, "longWindow", &what);
            match (share, short, long) {
                (Some(share), Some(short), Some(long)) => pairs.push(Pair {
                    severity,
                    short: short.text()?.to_string(),
                    long: long.text()?.to_string(),
                    budget_share: share.text()?.to_string(),
                }),
                _ => complete = false,
            }
        }
    }
    complete.then(|| Windows {
        period: period.text().unwrap_or_default().to_string(),
        pairs,
    })
}

/// A `plugins`/`slo_plugins` chain: plugins that change nothing burnwatch computes pass; every
/// other is reported by id.
fn plugins(r: &mut Reader<'_>, node: &Node, key: &str) {
    r.known(
        node,
        &["overridePrevious", "chain"],
        &format!("Sloth `{key}`"),
    );
    for plugin in node.get("chain").map(Node::items).unwrap_or_default() {
        let id = plugin.get("id").and_then(Node::text).unwrap_or("(no id)");
        if HARMLESS_PLUGINS.contains(&id) {
            continue;
        }
        let instead = match id {
            "sloth.dev/contrib/alert_for/v1" => "write `[slo.alerting] for = \"<duration>\"`",
            "sloth.dev/contrib/rule_intervals/v1" => "write the SLO's `interval = \"<duration>\"`",
            "sloth.dev/contrib/info_labels/v1" => {
                "write the labels as the SLO's `labels` (burnwatch puts them on every series)"
            }
            _ => "remove it and write what it does in burnwatch keys (docs/import.md)",
        };
        r.unsupported(
            plugin,
            format!(
                "Sloth SLO plugin `{id}` in `{key}` is not supported: it rewrites the rules Sloth \
                 generates, and burnwatch generates none; {instead}"
            ),
        );
    }
}
