//! The replay's formats: JSON lines, CSV rows and the human table.

use std::fmt::Write as _;
use std::time::Duration;

use burnwatch_engine::{AlertKind, ExclusionSpan, Origin, Severity};
use burnwatch_scheduler::ReplayStep;
use burnwatch_spec::format_prometheus;
use serde_json::{Value, json};

use super::track::{Episode, Track};

/// `2026-10-14T10:00:00Z`.
pub use burnwatch_spec::text::rfc3339_seconds as rfc3339;

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

/// Appends `v` as serde_json writes it (`null` when absent or not finite), without allocating.
fn push_number(out: &mut String, v: Option<f64>) {
    match v.and_then(serde_json::Number::from_f64) {
        Some(n) => {
            let _ = write!(out, "{n}");
        }
        None => out.push_str("null"),
    }
}

/// What the step lines of one instance repeat, rendered once: a 30-day replay at 1-minute steps
/// writes 43,200 lines per instance, and building each from `serde_json::Value`s cost more than
/// everything else the replay does.
pub struct StepLine {
    /// `","slo":"id","labels":{..},"objective":`.
    identity: String,
    /// The quoted JSON key of each window, in evaluation order (the period last).
    keys: Vec<(Duration, String)>,
}

impl StepLine {
    /// The fixed parts of `step`'s instance.
    pub fn new(step: &ReplayStep<'_>) -> StepLine {
        let identity = format!(
            "\",\"slo\":{},\"labels\":{},\"objective\":",
            Value::from(step.instance.slo.id.as_str()),
            labels_json(&step.instance.labels())
        );
        let keys = step
            .eval
            .windows
            .iter()
            .chain([&step.eval.period.window])
            .map(|f| {
                (
                    f.window,
                    Value::from(format_prometheus(f.window)).to_string(),
                )
            })
            .collect();
        StepLine { identity, keys }
    }

    /// Every window of `step` with `pick` applied, as a JSON object.
    fn push_windows(
        &self,
        out: &mut String,
        step: &ReplayStep<'_>,
        pick: impl Fn(&burnwatch_engine::WindowFigures) -> Option<f64>,
    ) {
        out.push('{');
        let figures = step.eval.windows.iter().chain([&step.eval.period.window]);
        for (i, f) in figures.enumerate() {
            if i > 0 {
                out.push(',');
            }
            match self.keys.get(i) {
                Some((window, key)) if *window == f.window => out.push_str(key),
                _ => out.push_str(&Value::from(format_prometheus(f.window)).to_string()),
            }
            out.push(':');
            push_number(out, pick(f));
        }
        out.push('}');
    }

    /// Appends one `{"type":"step",...}` line (without the newline); `time` is `rfc3339(step.at)`.
    pub fn push_json(&self, out: &mut String, step: &ReplayStep<'_>, time: &str) {
        out.push_str("{\"type\":\"step\",\"time\":\"");
        out.push_str(time);
        out.push_str(&self.identity);
        push_number(out, Some(step.eval.objective));
        out.push_str(",\"error_ratio\":");
        self.push_windows(out, step, |f| f.error_ratio);
        out.push_str(",\"burn_rate\":");
        self.push_windows(out, step, |f| f.burn_rate);
        out.push_str(",\"budget_remaining\":");
        push_number(out, step.eval.period.budget_remaining);
        out.push_str(",\"alerts\":{");
        for (i, (name, kind)) in [("page", AlertKind::Page), ("ticket", AlertKind::Ticket)]
            .into_iter()
            .enumerate()
        {
            let alert = step.alerts.get(kind);
            let _ = write!(
                out,
                "{}\"{name}\":{{\"condition\":{},\"state\":\"{}\"}}",
                if i > 0 { "," } else { "" },
                alert.condition,
                alert.state.as_str()
            );
        }
        out.push_str("}}");
    }
}

/// One `{"type":"step",...}` line, built from `serde_json::Value`s: the reference
/// [`StepLine::push_json`] must match.
#[cfg(test)]
fn step_json(step: &ReplayStep<'_>) -> String {
    let per_window = |pick: fn(&burnwatch_engine::WindowFigures) -> Option<f64>| {
        let mut out = serde_json::Map::new();
        for figures in step.eval.windows.iter().chain([&step.eval.period.window]) {
            out.insert(format_prometheus(figures.window), number(pick(figures)));
        }
        Value::Object(out)
    };
    let alert = |kind| {
        let alert = step.alerts.get(kind);
        json!({"condition": alert.condition, "state": alert.state.as_str()})
    };
    json!({
        "type": "step",
        "time": rfc3339(step.at),
        "slo": step.instance.slo.id,
        "labels": labels_json(&step.instance.labels()),
        "objective": step.eval.objective,
        "error_ratio": per_window(|f| f.error_ratio),
        "burn_rate": per_window(|f| f.burn_rate),
        "budget_remaining": number(step.eval.period.budget_remaining),
        "alerts": {
            "page": alert(AlertKind::Page),
            "ticket": alert(AlertKind::Ticket),
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

/// One excluded or silenced span as the API writes it.
fn span_json(span: &ExclusionSpan) -> Value {
    let mut value = json!({
        "start": rfc3339(span.start),
        "end": rfc3339(span.end),
        "reason": span.reason,
        "exclude": span.exclude,
        "silence": span.silence,
    });
    if let (Value::Object(map), Ok(Value::Object(origin))) =
        (&mut value, serde_json::to_value(&span.origin))
    {
        map.extend(origin);
    }
    value
}

/// `excluded  2026-10-14T10:00:00Z → 2026-10-14T10:20:00Z (20m) maintenance db-upgrade: why`.
pub fn span_line(span: &ExclusionSpan) -> String {
    let effect = match (span.exclude, span.silence) {
        (true, true) => "excluded, silenced",
        (true, false) => "excluded",
        (false, true) => "silenced",
        (false, false) => "shown",
    };
    let secs = u64::try_from((span.end - span.start) / 1000).unwrap_or(0);
    let source = match &span.origin {
        Origin::Maintenance { name } => format!("maintenance {name}"),
        Origin::Correction { id, category } => format!("correction {id} ({category})"),
    };
    format!(
        "{effect}: {} → {} ({}) {source}: {}",
        rfc3339(span.start),
        rfc3339(span.end),
        humantime::format_duration(Duration::from_secs(secs)),
        span.reason
    )
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
        "excluded_seconds_end": track.excluded_end.as_secs_f64(),
        "exclusions": track.spans.iter().map(span_json).collect::<Vec<_>>(),
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
    v.map_or_else(|| "-".to_string(), burnwatch_spec::text::percent)
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
        let mut name = track.name();
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
        if !track.excluded_end.is_zero() {
            let _ = writeln!(
                out,
                "    excluded at the end: {} of the period",
                humantime::format_duration(Duration::from_secs(track.excluded_end.as_secs()))
            );
        }
        for span in &track.spans {
            let _ = writeln!(out, "    {}", span_line(span));
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
    fn step_lines_equal_the_serde_json_rendering() {
        use std::sync::Arc;

        use burnwatch_engine::{
            AlertPolicy, Alerts, Counts, DEFAULT_WINDOWS, InstanceInfo, Observation, SloInfo,
            SloState,
        };

        let period = Duration::from_secs(30 * 86_400);
        let info = Arc::new(InstanceInfo {
            slo: Arc::new(SloInfo {
                id: "checkout-\"odd\"".into(),
                service: "checkout".into(),
                name: "\"odd\"".into(),
                objective: burnwatch_engine::Objective::from_percent(99.9),
                period,
                labels: vec![("team".into(), "pay\\ments".into())],
                description: None,
                alert_name: "SLOErrorBudgetBurn".into(),
                annotations: Vec::new(),
                alert_extras: Default::default(),
            }),
            group: vec![("route".into(), "/pay".into())],
        });
        let mut state = SloState::counted(0.999, period, &DEFAULT_WINDOWS);
        let mut alerts = Alerts::new();
        let policy = AlertPolicy::sre_workbook(period);
        let mut line: Option<StepLine> = None;
        // No data yet (nulls), then steady 0.1% errors, then an outage that pages.
        for (minute, errors) in [(0, None), (1, Some(1.0)), (2, Some(1.0)), (3, Some(300.0))] {
            let at = 1_760_436_000_000 + minute * 60_000;
            if let Some(errors) = errors {
                let counts = Counts {
                    errors,
                    total: 1000.0,
                };
                state.observe(Observation::Events {
                    start: at - 60_000,
                    end: at,
                    counts,
                });
            }
            let eval = state.evaluate(at);
            let transitions = alerts.eval(&policy, &eval);
            let step = ReplayStep {
                at,
                instance: &info,
                eval: &eval,
                alerts: &alerts,
                transitions: &transitions,
            };
            let line = line.get_or_insert_with(|| StepLine::new(&step));
            let mut fast = String::new();
            line.push_json(&mut fast, &step, &rfc3339(at));
            assert_eq!(fast, step_json(&step));
            let parsed: Value = serde_json::from_str(&fast).expect("valid JSON");
            if minute == 3 {
                assert_eq!(parsed["alerts"]["page"]["state"], "firing", "{fast}");
            }
        }
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
