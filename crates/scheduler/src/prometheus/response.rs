//! Decoding Prometheus HTTP API responses.
//!
//! Backends send what they send: HTML error pages from a proxy, truncated JSON, `NaN`, result
//! types we did not ask for. Everything here returns an error instead of panicking, and the caller
//! bounds the body size before it gets here.

use serde::Deserialize;
use serde_json::Value;

use crate::backend::{BackendError, Labels, QueryResult, Series, printable};

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Value,
    /// With `stats=all`: what the query cost the store (Prometheus; others leave it out).
    #[serde(default)]
    stats: Option<Stats>,
}

#[derive(Deserialize)]
struct Stats {
    #[serde(default)]
    samples: Option<SampleStats>,
}

#[derive(Deserialize)]
struct SampleStats {
    #[serde(default, rename = "totalQueryableSamples")]
    total_queryable_samples: Option<u64>,
}

#[derive(Deserialize)]
struct RawSeries {
    #[serde(default)]
    metric: Labels,
    #[serde(default)]
    value: Option<(f64, String)>,
    #[serde(default)]
    values: Option<Vec<(f64, String)>>,
}

/// Decode a query or query_range response body.
pub fn decode(body: &[u8]) -> Result<QueryResult, BackendError> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(|err| {
        BackendError::Decode(format!("{err}; body starts with {:?}", preview(body)))
    })?;
    if envelope.status != "success" {
        // The backend's words go to the log: no newline of theirs may start a line there.
        let error_type = envelope.error_type.unwrap_or_else(|| "unknown".into());
        // Prometheus' own words for "try again": overload, a query timeout, a cancelled query.
        let transient = matches!(
            error_type.as_str(),
            "timeout" | "canceled" | "internal" | "unavailable"
        );
        return Err(BackendError::Api {
            transient,
            error_type: printable(&error_type),
            message: printable(
                &envelope
                    .error
                    .unwrap_or_else(|| format!("status {:?}", envelope.status)),
            ),
        });
    }
    let data = envelope
        .data
        .ok_or_else(|| BackendError::Decode("success response without \"data\"".into()))?;
    let loaded = data
        .stats
        .as_ref()
        .and_then(|s| s.samples.as_ref())
        .and_then(|s| s.total_queryable_samples);
    let mut result = decode_result(data)?;
    result.loaded = loaded;
    Ok(result)
}

fn decode_result(data: Data) -> Result<QueryResult, BackendError> {
    match data.result_type.as_str() {
        "vector" | "matrix" => {
            let raw: Vec<RawSeries> = serde_json::from_value(data.result).map_err(|err| {
                BackendError::Decode(format!("{} result: {err}", data.result_type))
            })?;
            let series = raw.into_iter().map(convert).collect::<Result<_, _>>()?;
            Ok(QueryResult {
                series,
                ..QueryResult::default()
            })
        }
        "scalar" => {
            let (ts, value): (f64, String) = serde_json::from_value(data.result)
                .map_err(|err| BackendError::Decode(format!("scalar result: {err}")))?;
            Ok(QueryResult {
                series: vec![Series {
                    labels: Labels::new(),
                    samples: vec![(to_millis(ts)?, parse_value(&value)?)],
                }],
                ..QueryResult::default()
            })
        }
        other => Err(BackendError::Decode(format!(
            "result type {other:?} where a vector, matrix or scalar was expected"
        ))),
    }
}

fn convert(raw: RawSeries) -> Result<Series, BackendError> {
    let points = match (raw.value, raw.values) {
        (Some(one), None) => vec![one],
        (None, Some(many)) => many,
        // Native-histogram-only series carry neither; they are not counters we can use.
        (None, None) => Vec::new(),
        (Some(_), Some(_)) => {
            return Err(BackendError::Decode(
                "series with both value and values".into(),
            ));
        }
    };
    let mut samples = Vec::with_capacity(points.len());
    for (ts, value) in points {
        samples.push((to_millis(ts)?, parse_value(&value)?));
    }
    Ok(Series {
        labels: raw.metric,
        samples,
    })
}

fn to_millis(ts: f64) -> Result<i64, BackendError> {
    let ms = (ts * 1000.0).round();
    // Beyond ±2^53 ms the timestamp is nonsense (and `as` would saturate silently).
    if ms.is_finite() && ms.abs() < 9.0e15 {
        Ok(ms as i64)
    } else {
        Err(BackendError::Decode(format!("timestamp {ts} out of range")))
    }
}

/// Sample values are strings in the API so that NaN and ±Inf survive JSON.
fn parse_value(text: &str) -> Result<f64, BackendError> {
    match text {
        "NaN" => Ok(f64::NAN),
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => text
            .parse::<f64>()
            .map_err(|_| BackendError::Decode(format!("sample value {text:?} is not a number"))),
    }
}

fn preview(body: &[u8]) -> String {
    let end = body.len().min(80);
    String::from_utf8_lossy(&body[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_matrix_with_special_values() {
        let body = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"__name__":"x","code":"500"},"values":[[1700000000,"1"],[1700000015.5,"NaN"],[1700000030,"+Inf"]]}]}}"#;
        let result = decode(body).unwrap();
        assert_eq!(result.series.len(), 1);
        let series = &result.series[0];
        assert_eq!(series.labels["code"], "500");
        assert_eq!(series.samples[0], (1_700_000_000_000, 1.0));
        assert_eq!(series.samples[1].0, 1_700_000_015_500);
        assert!(series.samples[1].1.is_nan());
        assert_eq!(series.samples[2].1, f64::INFINITY);
    }

    #[test]
    fn decodes_a_vector_and_a_scalar() {
        let vector = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.5,"42"]}]}}"#;
        assert_eq!(
            decode(vector).unwrap().series[0].samples,
            vec![(1500, 42.0)]
        );
        let scalar = br#"{"status":"success","data":{"resultType":"scalar","result":[2,"0.25"]}}"#;
        assert_eq!(
            decode(scalar).unwrap().series[0].samples,
            vec![(2000, 0.25)]
        );
    }

    #[test]
    fn api_errors_cannot_forge_log_lines() {
        let body = br#"{"status":"error","errorType":"bad_data\r","error":"x\n2026-01-01T00:00:00Z ERROR forged\u2028y\u0007"}"#;
        let err = decode(body).unwrap_err();
        let text = err.to_string();
        assert!(
            !text.contains(['\n', '\r', '\u{2028}', '\u{7}']),
            "{text:?}"
        );
        assert_eq!(
            text,
            "bad_data\\r: x\\n2026-01-01T00:00:00Z ERROR forged\\u{2028}y\\u{7}"
        );
    }

    #[test]
    fn api_errors_keep_type_and_message() {
        let body = br#"{"status":"error","errorType":"bad_data","error":"parse error at char 3"}"#;
        match decode(body) {
            Err(BackendError::Api {
                error_type,
                message,
                transient: false,
            }) => {
                assert_eq!(error_type, "bad_data");
                assert_eq!(message, "parse error at char 3");
            }
            other => panic!("expected an API error, got {other:?}"),
        }
    }

    #[test]
    fn garbage_is_a_decode_error_not_a_panic() {
        let cases: [&[u8]; 7] = [
            b"<html><body>502 Bad Gateway</body></html>",
            br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"2"#,
            br#"{"status":"success","data":{"resultType":"string","result":[1,"x"]}}"#,
            br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"abc"]}]}}"#,
            br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1e300,"1"]}]}}"#,
            br#"{"status":"success"}"#,
            b"",
        ];
        for body in cases {
            assert!(
                matches!(decode(body), Err(BackendError::Decode(_))),
                "{:?} should be a decode error",
                String::from_utf8_lossy(body)
            );
        }
    }
}
