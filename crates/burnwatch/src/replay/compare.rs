//! `--compare`: the episodes only one of two configurations raised over the same data.

use std::fmt::Write as _;

use serde_json::json;

use super::output::{episode_line, rfc3339};
use super::track::{Episode, Track};
use crate::cli::ReplayFormat;
use burnwatch_spec::text::count;

/// Episodes of `ours` that no episode of `theirs` (same severity) overlaps.
fn unmatched(ours: &[Episode], theirs: &[Episode]) -> Vec<Episode> {
    ours.iter()
        .filter(|e| !theirs.iter().any(|t| t.overlaps(e)))
        .copied()
        .collect()
}

/// Per SLO instance: the episode counts of both and the episodes only one raised. JSON: one
/// `{"type":"compare",...}` line per instance.
pub fn report(
    a_name: &str,
    a: &[Track],
    b_name: &str,
    b: &[Track],
    format: ReplayFormat,
) -> String {
    let mut keys: Vec<String> = a.iter().map(|t| t.info.key()).collect();
    for t in b {
        if !keys.contains(&t.info.key()) {
            keys.push(t.info.key());
        }
    }
    let mut out = String::new();
    for key in keys {
        let find = |tracks: &[Track]| tracks.iter().find(|t| t.info.key() == key).cloned();
        let (ta, tb) = (find(a), find(b));
        let Some(any) = ta.as_ref().or(tb.as_ref()) else {
            continue;
        };
        let ea = ta.as_ref().map_or(&[][..], |t| &t.episodes[..]);
        let eb = tb.as_ref().map_or(&[][..], |t| &t.episodes[..]);
        let (only_a, only_b) = (unmatched(ea, eb), unmatched(eb, ea));
        if format == ReplayFormat::Json {
            let list = |es: &[Episode]| -> Vec<serde_json::Value> {
                es.iter()
                    .map(|e| {
                        json!({"severity": e.severity.as_str(), "start": rfc3339(e.start), "end": e.end.map(rfc3339)})
                    })
                    .collect()
            };
            let labels: serde_json::Map<String, serde_json::Value> = any
                .info
                .labels()
                .into_iter()
                .map(|(k, v)| (k, v.into()))
                .collect();
            let line = json!({
                "type": "compare",
                "slo": any.info.slo.id,
                "labels": labels,
                "episodes": {a_name: ea.len(), b_name: eb.len()},
                "only_in": {a_name: list(&only_a), b_name: list(&only_b)},
            });
            let _ = writeln!(out, "{line}");
            continue;
        }
        let _ = writeln!(
            out,
            "{}: {} with {a_name}, {} with {b_name}{}",
            any.name(),
            count(ea.len(), "episode"),
            eb.len(),
            if only_a.is_empty() && only_b.is_empty() {
                "; the same episodes"
            } else {
                ""
            }
        );
        for (name, only) in [(a_name, &only_a), (b_name, &only_b)] {
            for e in only {
                let _ = writeln!(out, "  only with {name}: {}", episode_line(e));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use burnwatch_engine::Severity;

    #[test]
    fn only_episodes_without_an_overlapping_twin_are_reported() {
        let page = |start, end| Episode {
            severity: Severity::Page,
            start,
            end: Some(end),
        };
        let a = vec![page(0, 100), page(1_000, 1_100)];
        let b = vec![page(50, 80), page(5_000, 5_100)];
        assert_eq!(unmatched(&a, &b), vec![page(1_000, 1_100)]);
        assert_eq!(unmatched(&b, &a), vec![page(5_000, 5_100)]);
    }
}
