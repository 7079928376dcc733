//! Whole days of a report from the six-month record (`record.db` in `--data-dir`) instead of
//! replay: for an SLO every day of whose span the record holds, the events, errors and page
//! incidents come from it, so months and quarters older than the backend's retention can still
//! be reported. What only a replay has (the hourly budget trend, budget extremes, budget given
//! back by excluded spans, tickets) is left out for those SLOs.

use std::sync::Arc;

use burnwatch_engine::{Counts, InstanceInfo, Severity};
use burnwatch_record::{Day, Query, RecordDb};
use burnwatch_spec::Slo;

use super::{InstanceReport, Span};
use crate::failure::Failure;
use crate::replay::Episode;

const DAY_MS: i64 = 86_400_000;

/// The reports of `slo`'s instances over `span` from the record, or `None` when the span is
/// not whole UTC days or the record lacks one of its days for this SLO (then it is replayed).
pub fn reports(
    db: &RecordDb,
    slo: &Slo,
    span: Span,
) -> Result<Option<Vec<InstanceReport>>, Failure> {
    if span.start % DAY_MS != 0 || span.end % DAY_MS != 0 {
        return Ok(None);
    }
    let (first, last) = (Day::of(span.start), Day::of(span.end - 1));
    let failed = |err| Failure::Runtime(format!("cannot read the record of {}: {err}", slo.id));
    let covered = db.covered(&slo.id, first, last).map_err(failed)?;
    if covered.len() as i64 != last.0 - first.0 + 1 {
        return Ok(None);
    }
    let rows = db
        .days(&Query {
            slo: Some(slo.id.clone()),
            from: first,
            to: last,
        })
        .map_err(failed)?;
    let incidents = db
        .incidents(&slo.id, span.start, span.end)
        .map_err(failed)?;
    let info = Arc::new(burnwatch_spec::slo_info(slo));
    let mut reports: Vec<InstanceReport> = Vec::new();
    let find = |name: &str, reports: &mut Vec<InstanceReport>| -> usize {
        if let Some(i) = reports.iter().position(|r| {
            burnwatch_record::instance_name(&r.track.info.slo.id, &r.track.info.group) == name
        }) {
            return i;
        }
        let instance = Arc::new(InstanceInfo {
            slo: Arc::clone(&info),
            group: group_of(&slo.id, name),
        });
        reports.push(InstanceReport::new(instance, span));
        reports.len() - 1
    };
    for row in &rows {
        let i = find(&row.instance, &mut reports);
        reports[i].counts.add(Counts {
            errors: row.errors,
            total: row.events,
        });
    }
    for incident in &incidents {
        let i = find(&incident.instance, &mut reports);
        reports[i].track.episodes.push(Episode {
            severity: Severity::Page,
            start: incident.start,
            end: incident.end.filter(|end| *end <= span.end),
        });
    }
    reports.sort_by_key(|r| r.track.info.key());
    Ok(Some(reports))
}

/// The group labels of a record instance name, `id{k=v,...}` (none for `id`).
fn group_of(id: &str, name: &str) -> Vec<(String, String)> {
    name.strip_prefix(id)
        .and_then(|rest| rest.strip_prefix('{'))
        .and_then(|rest| rest.strip_suffix('}'))
        .map(|labels| {
            labels
                .split(',')
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names_give_back_their_groups() {
        assert!(group_of("checkout", "checkout").is_empty());
        assert_eq!(
            group_of("checkout", "checkout{region=eu,route=/pay}"),
            vec![
                ("region".to_string(), "eu".to_string()),
                ("route".to_string(), "/pay".to_string())
            ]
        );
    }
}
