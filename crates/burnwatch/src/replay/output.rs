//! The replay's formats: JSON lines, CSV rows and the human table.

use std::fmt::Write as _;
use std::time::{Duration, UNIX_EPOCH};

use burnwatch_engine::{AlertKind, Millis, Severity};
use burnwatch_scheduler::ReplayStep;
use burnwatch_spec::format_prometheus;
use serde_json::{Map, Value, json};

use super::track::{Episode, Track};

/// `2026-10-14T10:00:00Z`.
pub fn rfc3339(ms: Millis) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_seconds(at).to_string()
}

fn labels_json(labels: &[(String, String)]) -> Value {
    Value::Object(
        labels
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

fn number(v: Option<f64>) -> Value {
    v.filter(|v| v.is_finite()).map_or(Value::Null, Value::from)
}

/// Every window of the step's instance (configured ones, then the period) with `pick` applied.
fn per_window(
    step: &ReplayStep<'_>,
    pick: impl Fn(&burnwatch_engine::WindowFigures) -> Option<f64>,
) -> Value {
    let mut out = Map::new();
    for figures in step.eval.windows.iter().chain([&step.eval.period.window]) {
        out.insert(format_prometheus(figures.window), number(pick(figures)));
    }
    Value::Object(out)
}

fn alert_json(step: &ReplayStep<'_>, kind: AlertKind) -> Value {
    let alert = step.alerts.get(kind);
    json!({"condition": alert.condition, "state": alert.state.as_str()})
}

/// One `{"type":"step",...}` line.
pub fn step_json(step: &ReplayStep<'_>) -> String {
    json!({
        "type": "step",
        "time": rfc3339(step.at),
        "slo": step.instance.slo.id,
        "labels": labels_json(&step.instance.labels()),
        "objective": step.eval.objective,
        "error_ratio": per_window(step, |f| f.error_ratio),
        "burn_rate": per_window(step, |f| f.burn_rate),
        "budget_remaining": number(step.eval.period.budget_remaining),
        "alerts": {
            "page": alert_json(step, AlertKind::Page),
            "ticket": alert_json(step, AlertKind::Ticket),
        },
    })
    .to_string()
}

fn episode_json(e: &Episode) -> Value {
    json!({
        "severity": e.severity.as_str(),
        "start": rfc3339(e.start),
        "end": e.end.map(rfc3339),
    })
}

/// One `{"type":"summary",...}` line.
pub fn summary_json(track: &Track) -> String {
    json!({
        "type": "summary",
        "slo": track.info.slo.id,
        "labels": labels_json(&track.info.labels()),
        "episodes": track.episodes.iter().map(episode_json).collect::<Vec<_>>(),
        "pages": track.count(Severity::Page),
        "tickets": track.count(Severity::Ticket),
        "budget_remaining_min": number(track.budget_min),
        "budget_remaining_end": number(track.budget_end),
    })
    .to_string()
}

/// The CSV header for `windows` (the union over every replayed SLO, Prometheus format).
pub fn csv_header(windows: &[String]) -> String {
    let mut line = String::from("time,slo,labels,objective");
    for prefix in ["error_ratio", "burn_rate"] {
        for w in windows {
            let _ = write!(line, ",{prefix}_{w}");
        }
    }
    line.push_str(",budget_remaining,page_condition,page_state,ticket_condition,ticket_state");
    line
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn csv_number(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite())
        .map(|v| v.to_string())
        .unwrap_or_default()
}

/// One CSV row; windows the instance does not have stay empty.
pub fn step_csv(step: &ReplayStep<'_>, windows: &[String]) -> String {
    let labels: Vec<String> = step
        .instance
        .labels()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let mut line = format!(
        "{},{},{},{}",
        rfc3339(step.at),
        csv_field(&step.instance.slo.id),
        csv_field(&labels.join(";")),
        step.eval.objective
    );
    let figures: Vec<(String, &burnwatch_engine::WindowFigures)> = step
        .eval
        .windows
        .iter()
        .chain([&step.eval.period.window])
        .map(|f| (format_prometheus(f.window), f))
        .collect();
    let find = |w: &String| figures.iter().find(|(k, _)| k == w).map(|(_, f)| *f);
    for w in windows {
        let _ = write!(line, ",{}", csv_number(find(w).and_then(|f| f.error_ratio)));
    }
    for w in windows {
        let _ = write!(line, ",{}", csv_number(find(w).and_then(|f| f.burn_rate)));
    }
    let _ = write!(line, ",{}", csv_number(step.eval.period.budget_remaining));
    for kind in [AlertKind::Page, AlertKind::Ticket] {
        let alert = step.alerts.get(kind);
        let _ = write!(line, ",{},{}", alert.condition, alert.state.as_str());
    }
    line
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{:.1}%", v * 100.0))
}

/// The SLO instance as one short name: `id` or `id{k=v,...}` for group instances.
pub fn instance_name(track: &Track) -> String {
    let group = &track.info.group;
    if group.is_empty() {
        return track.info.slo.id.clone();
    }
    let labels: Vec<String> = group.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{}{{{}}}", track.info.slo.id, labels.join(","))
}

/// The summary table, at most 100 columns wide: one row per instance, then its episodes.
pub fn table(tracks: &[Track]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<44} {:>5} {:>7} {:>7} {:>10} {:>10} {:>9}",
        "SLO", "pages", "tickets", "budget", "budget min", "worst 1h", "episodes"
    );
    for track in tracks {
        let mut name = instance_name(track);
        if name.chars().count() > 44 {
            name = name.chars().take(43).collect::<String>() + "…";
        }
        let worst = track
            .worst_burn_1h
            .map_or_else(|| "-".to_string(), |b| format!("{b:.2}x"));
        let _ = writeln!(
            out,
            "{:<44} {:>5} {:>7} {:>7} {:>10} {:>10} {:>9}",
            name,
            track.count(Severity::Page),
            track.count(Severity::Ticket),
            percent(track.budget_end),
            percent(track.budget_min),
            worst,
            track.episodes.len()
        );
        for e in &track.episodes {
            let _ = writeln!(out, "    {}", episode_line(e));
        }
    }
    out
}

/// `page    2026-10-14T10:00:00Z → 2026-10-14T11:10:00Z (1h 10m)`.
pub fn episode_line(e: &Episode) -> String {
    let end = e.end.map_or_else(|| "still firing".to_string(), rfc3339);
    let length = e.end.map_or_else(String::new, |end| {
        let secs = u64::try_from((end - e.start) / 1000).unwrap_or(0);
        format!(
            " ({})",
            humantime::format_duration(Duration::from_secs(secs))
        )
    });
    format!(
        "{:<7} {} → {end}{length}",
        e.severity.as_str(),
        rfc3339(e.start)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_what_needs_it() {
        assert_eq!(csv_field("route=/pay"), "route=/pay");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn header_lists_every_window_for_ratio_and_burn() {
        let header = csv_header(&["5m".to_string(), "30d".to_string()]);
        assert_eq!(
            header,
            "time,slo,labels,objective,error_ratio_5m,error_ratio_30d,burn_rate_5m,burn_rate_30d,\
             budget_remaining,page_condition,page_state,ticket_condition,ticket_state"
        );
    }

    #[test]
    fn times_are_rfc3339_in_utc() {
        assert_eq!(rfc3339(1_760_436_000_000), "2025-10-14T10:00:00Z");
    }

    #[test]
    fn episode_lines_say_how_long() {
        let e = Episode {
            severity: Severity::Page,
            start: 1_760_436_000_000,
            end: Some(1_760_436_000_000 + 4_200_000),
        };
        assert_eq!(
            episode_line(&e),
            "page    2025-10-14T10:00:00Z → 2025-10-14T11:10:00Z (1h 10m)"
        );
    }
}
