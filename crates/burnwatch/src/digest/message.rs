//! A digest's figures, built from `burnwatch report`'s own replay (`report::collect`) over the
//! digest's span and the span before it, so the digest and `burnwatch report --start ... --end
//! ...` over the same span agree by construction: same episodes, durations, MTTR, pages.
//!
//! Status (documented in docs/program.md, "Digests"):
//! - red: the objective was missed over the span (SLI below the objective in force at its end),
//!   or the period's error budget is exhausted (remaining <= 0);
//! - yellow: less than [`YELLOW_BUDGET`] of the budget remains, or the span burned more than
//!   10% faster than the span before, or the span had no events (no evidence);
//! - green otherwise.

use std::sync::Arc;

use burnwatch_engine::{Exclusions, Millis};
use burnwatch_http::notify::{
    DigestMessage, IncidentDigest, ObjectiveChange, ServiceDigest, Status,
};
use burnwatch_spec::Config;
use burnwatch_spec::digest::Digest;

use crate::failure::Failure;
use crate::report::{InstanceReport, STEP, Span};

/// Below this share of budget remaining a service is yellow.
pub const YELLOW_BUDGET: f64 = 0.25;

/// The span a digest sent at `occurrence` covers: the kind's length ending at the occurrence
/// (on the report's 5-minute step).
pub fn span_of(digest: &Digest, occurrence: Millis) -> Span {
    let step = STEP.as_millis() as Millis;
    let end = occurrence.div_euclid(step) * step;
    Span {
        start: end - digest.kind.span_millis(),
        end,
    }
}

/// The message for `digest` at `occurrence`, over `span` (usually [`span_of`]).
pub async fn build(
    config: &Config,
    digest: &Digest,
    occurrence: Millis,
    span: Span,
    exclusions: &Arc<Exclusions>,
) -> Result<DigestMessage, Failure> {
    let slos: Vec<&burnwatch_spec::Slo> = config
        .slos
        .iter()
        .filter(|s| {
            digest.covers(
                &s.id,
                s.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            )
        })
        .collect();
    let ids: Vec<String> = slos.iter().map(|s| s.id.clone()).collect();
    let length = span.end - span.start;
    let before_span = Span {
        start: span.start - length,
        end: span.start,
    };
    let (now, before) = if ids.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        (
            crate::report::collect(config, &ids, span, exclusions, None).await?,
            crate::report::collect(config, &ids, before_span, exclusions, None).await?,
        )
    };
    let services = now
        .iter()
        .map(|r| {
            let key = r.track.info.key();
            let then = before.iter().find(|b| b.track.info.key() == key);
            service(config, r, then, span)
        })
        .collect();
    let objective_changes = objective_changes(&slos, span);
    Ok(DigestMessage {
        digest: digest.name.clone(),
        kind: digest.kind.as_str().to_string(),
        occurrence,
        start: span.start,
        end: span.end,
        timezone: digest.schedule.timezone.name().to_string(),
        services,
        objective_changes,
    })
}

/// The `[[slo.objective_schedule]]` entries of `slos` taking effect within `span` (after its
/// start, up to its end), with the objective before each.
pub fn objective_changes(slos: &[&burnwatch_spec::Slo], span: Span) -> Vec<ObjectiveChange> {
    slos.iter()
        .flat_map(|slo| {
            slo.objective_schedule
                .iter()
                .filter(|step| step.from > span.start && step.from <= span.end)
                .map(|step| ObjectiveChange {
                    slo: slo.id.clone(),
                    at: step.from,
                    from: Some(slo.objective_at(step.from - 1).ratio()),
                    to: step.objective.ratio(),
                })
        })
        .collect()
}

fn service(
    config: &Config,
    r: &InstanceReport,
    before: Option<&InstanceReport>,
    span: Span,
) -> ServiceDigest {
    let info = &r.track.info;
    let objective = config
        .slos
        .iter()
        .find(|s| s.id == info.slo.id)
        .map_or(r.objective, |s| s.objective_at(span.end).ratio());
    let sli = r.sli();
    let burn = r.figures().burn_rate;
    let burn_before = before.and_then(|b| b.figures().burn_rate);
    let budget_remaining = r.track.budget_end;
    let mut digest = ServiceDigest {
        slo: info.slo.id.clone(),
        group: info
            .group
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", "),
        status: Status::Green,
        objective,
        sli,
        budget_remaining,
        budget_remaining_start: r.trend.first().and_then(|(_, b)| *b),
        burn,
        burn_before,
        incidents: r
            .incidents()
            .iter()
            .map(|i| IncidentDigest {
                severity: i.episode.severity.as_str().to_string(),
                start: i.episode.start,
                end: i.episode.end,
                duration_seconds: i.duration.as_secs(),
            })
            .collect(),
        mttr_seconds: r.mttr().map(|d| d.as_secs()),
        pages: r.pages(),
        tickets: r.tickets(),
    };
    digest.status = status(&digest);
    digest
}

/// Green, yellow or red, by the rule in this module's documentation.
pub fn status(s: &ServiceDigest) -> Status {
    let missed = s.sli.is_some_and(|sli| sli < s.objective);
    let exhausted = s.budget_remaining.is_some_and(|b| b <= 0.0);
    if missed || exhausted {
        return Status::Red;
    }
    let low = s.budget_remaining.is_some_and(|b| b < YELLOW_BUDGET);
    if low || s.sli.is_none() || s.trend() == "faster" {
        return Status::Yellow;
    }
    Status::Green
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(sli: Option<f64>, budget: Option<f64>, burn: f64, before: f64) -> ServiceDigest {
        ServiceDigest {
            slo: "checkout-availability".into(),
            group: String::new(),
            status: Status::Green,
            objective: 0.999,
            sli,
            budget_remaining: budget,
            budget_remaining_start: None,
            burn: Some(burn),
            burn_before: Some(before),
            incidents: Vec::new(),
            mttr_seconds: None,
            pages: 0,
            tickets: 0,
        }
    }

    #[test]
    fn objective_changes_are_the_steps_inside_the_span_with_the_objective_before() {
        let text = "[backends.main]\ntype = \"prometheus\"\nurl = \"http://127.0.0.1:9090\"\n\
                    [[slo]]\nservice = \"pay\"\nname = \"availability\"\nobjective = 99.0\n\
                    [slo.sli.ratio]\nerrors = 'e'\ntotal = 't'\n\
                    [[slo.objective_schedule]]\nfrom = \"2026-12-01\"\nobjective = 99.5\n\
                    [[slo.objective_schedule]]\nfrom = \"2026-12-20\"\nobjective = 99.9\n";
        let config =
            burnwatch_spec::parse(text, std::path::Path::new("b.toml"), &|_| None).unwrap();
        let slos: Vec<&burnwatch_spec::Slo> = config.slos.iter().collect();
        // 2026-12-01T00:00:00Z; the week (2026-11-30T09:00Z, 2026-12-07T09:00Z].
        let first = 1_796_083_200_000;
        let week = Span {
            start: first - 15 * 3_600_000,
            end: first + 6 * 86_400_000 + 9 * 3_600_000,
        };
        let changes = objective_changes(&slos, week);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].at, first);
        assert!((changes[0].from.unwrap() - 0.99).abs() < 1e-12);
        assert!((changes[0].to - 0.995).abs() < 1e-12);
        // A step exactly at the span's start took effect the week before.
        let after = Span {
            start: first,
            end: first + 7 * 86_400_000,
        };
        assert!(objective_changes(&slos, after).is_empty());
    }

    #[test]
    fn status_follows_the_documented_rule() {
        // Missed objective: red even with budget left.
        assert_eq!(
            status(&service(Some(0.998), Some(0.9), 2.0, 2.0)),
            Status::Red
        );
        // Budget exhausted: red even though this span held.
        assert_eq!(
            status(&service(Some(0.9995), Some(-0.1), 0.5, 0.5)),
            Status::Red
        );
        // Held, but under a quarter of the budget left: yellow.
        assert_eq!(
            status(&service(Some(0.9995), Some(0.2), 0.5, 0.5)),
            Status::Yellow
        );
        // Held, budget fine, burning 20% faster than last week: yellow; 5% faster: green.
        assert_eq!(
            status(&service(Some(0.9995), Some(0.8), 0.6, 0.5)),
            Status::Yellow
        );
        assert_eq!(
            status(&service(Some(0.9995), Some(0.8), 0.525, 0.5)),
            Status::Green
        );
        // No events: no evidence, yellow.
        assert_eq!(status(&service(None, Some(0.8), 0.5, 0.5)), Status::Yellow);
    }
}
