//! Decoding the v1 query API's answer: `{"status": "ok", "series": [{"pointlist": [[ms, value
//! | null], ...], "interval": 60, "scope": "...", "tag_set": ["route:/pay"], ...}]}`.

use burnwatch_engine::Millis;
use serde::Deserialize;

use crate::backend::{BackendError, Labels, QueryResult, Series, printable};

#[derive(Deserialize)]
struct Answer {
    status: Option<String>,
    error: Option<String>,
    #[serde(default)]
    series: Vec<RawSeries>,
}

#[derive(Deserialize)]
struct RawSeries {
    pointlist: Vec<(f64, Option<f64>)>,
    /// Seconds each point covers.
    interval: Option<f64>,
    #[serde(default)]
    tag_set: Vec<String>,
}

/// The series of an answer, each point at its interval's start (`null` points left out), and
/// labels from its `tag_set` (`route:/pay` is `route="/pay"`; a tag without a value is its own
/// name with an empty value).
pub fn decode(body: &[u8]) -> Result<QueryResult, BackendError> {
    let answer: Answer =
        serde_json::from_slice(body).map_err(|e| BackendError::Decode(e.to_string()))?;
    if answer.status.as_deref() == Some("error") {
        return Err(BackendError::Api {
            error_type: "error".into(),
            message: printable(answer.error.as_deref().unwrap_or("status error")),
            transient: false,
        });
    }
    let series = answer
        .series
        .into_iter()
        .map(|s| {
            let labels: Labels = s
                .tag_set
                .iter()
                .map(|tag| match tag.split_once(':') {
                    Some((k, v)) => (k.to_string(), v.to_string()),
                    None => (tag.clone(), String::new()),
                })
                .collect();
            let interval_ms = s.interval.map_or(0, |i| (i * 1000.0).round() as Millis);
            let samples = s
                .pointlist
                .into_iter()
                .filter_map(|(t, v)| Some((t.round() as Millis, v?)))
                .collect();
            (labels, interval_ms, samples)
        })
        .map(|(labels, interval_ms, samples)| {
            let mut labels = labels;
            if interval_ms > 0 {
                // Kept beside the labels for [`merge`], which checks the rollup was honoured.
                labels.insert(INTERVAL.into(), interval_ms.to_string());
            }
            Series { labels, samples }
        })
        .collect();
    Ok(QueryResult {
        series,
        ..QueryResult::default()
    })
}

/// The label [`decode`] keeps a series' `interval` (ms) under until [`merge`].
const INTERVAL: &str = "__datadog_interval_ms";

/// Adds a chunk's points to `into`, each moved to its interval's end (`P + step`) and kept when
/// that end is in `[first, last]`. A series whose interval is not the step asked for (Datadog
/// widened the rollup) is an error rather than a wrong count.
pub(super) fn merge(
    into: &mut QueryResult,
    chunk: QueryResult,
    step_ms: Millis,
    first: Millis,
    last: Millis,
) {
    for mut series in chunk.series {
        let interval = series.labels.remove(INTERVAL);
        if interval.as_ref().is_some_and(|i| *i != step_ms.to_string()) {
            tracing::warn!(
                interval_ms = interval.as_deref().unwrap_or(""),
                step_ms,
                "Datadog answered with another rollup interval than asked for; points dropped"
            );
            continue;
        }
        let samples = series
            .samples
            .into_iter()
            .map(|(t, v)| (t + step_ms, v))
            .filter(|(t, _)| (first..=last).contains(t));
        match into.series.iter_mut().find(|s| s.labels == series.labels) {
            Some(existing) => existing.samples.extend(samples),
            None => into.series.push(Series {
                labels: series.labels,
                samples: samples.collect(),
            }),
        }
    }
}

/// The `errors` of an error answer (`{"errors": ["..."]}`), or the start of the body.
pub(super) fn errors_text(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Errors {
        errors: Vec<String>,
    }
    match serde_json::from_slice::<Errors>(body) {
        Ok(e) => printable(&e.errors.join("; ")),
        Err(_) => printable(&String::from_utf8_lossy(&body[..body.len().min(200)])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = r#"{"status":"ok","res_type":"time_series","query":"q","from_date":0,"to_date":180000,
      "series":[{"metric":"hits","display_name":"hits","aggr":"sum","interval":60,"length":3,
        "scope":"service:checkout,route:/pay","tag_set":["route:/pay"],"expression":"q",
        "start":0,"end":179999,"pointlist":[[0.0,5.0],[60000.0,null],[120000.0,7.0]]}]}"#;

    #[test]
    fn points_move_to_their_interval_end_and_nulls_are_holes() {
        let mut merged = QueryResult::default();
        merge(
            &mut merged,
            decode(ANSWER.as_bytes()).unwrap(),
            60_000,
            60_000,
            180_000,
        );
        assert_eq!(merged.series.len(), 1);
        assert_eq!(merged.series[0].labels["route"], "/pay");
        assert_eq!(merged.series[0].labels.len(), 1);
        assert_eq!(
            merged.series[0].samples,
            vec![(60_000, 5.0), (180_000, 7.0)]
        );
    }

    #[test]
    fn a_widened_rollup_is_not_counted() {
        let mut merged = QueryResult::default();
        merge(
            &mut merged,
            decode(ANSWER.as_bytes()).unwrap(),
            600_000,
            0,
            10_000_000,
        );
        assert!(merged.series.is_empty());
    }

    #[test]
    fn error_answers_are_errors() {
        let err = decode(br#"{"status":"error","error":"bad"}"#).unwrap_err();
        assert!(!err.is_transient());
        assert_eq!(errors_text(br#"{"errors":["Rate limit"]}"#), "Rate limit");
        assert!(matches!(decode(b"<html>"), Err(BackendError::Decode(_))));
    }
}
