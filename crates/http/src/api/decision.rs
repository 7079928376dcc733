//! `GET /api/v1/slos/{id}/decision?risk=...`: the release gate.
//!
//! The status comes from [`Status::of`] and the answer from [`Decision::of`]; this file only
//! picks the instance that decides (the worst, for a grouped SLO) and says why in words.

use std::sync::Arc;

use burnwatch_engine::{
    ATTENTION_WINDOW, AlertKind, AlertState, DataState, Decision, Entry, Risk, Status,
};
use serde::Serialize;

use super::lookup::{Subject, instance_id};
use burnwatch_spec::text::count;

/// The gate's answer.
#[derive(Debug, Serialize)]
pub struct DecisionView {
    pub slo: String,
    pub risk: &'static str,
    pub decision: &'static str,
    pub status: &'static str,
    pub rationale: String,
    /// Every instance considered, with its status (one unless the SLO is grouped).
    pub instances: Vec<InstanceStatus>,
}

/// One instance's status.
#[derive(Debug, Serialize)]
pub struct InstanceStatus {
    pub id: String,
    pub status: &'static str,
}

/// Why no decision can be made, when `subject` has no data at all (no series yet, a broken
/// selector, a renamed metric): a gate that approved then would wave through releases of a
/// service nobody can see.
pub fn no_evidence(subject: &Subject) -> Option<String> {
    match subject {
        Subject::Empty(slo) => Some(format!(
            "no decision for {}: it has no series (data state {}), so there is no evidence either way; fix its selectors or wait for data",
            slo.info.id,
            slo.data_state.as_str()
        )),
        Subject::Instances(entries)
            if entries
                .iter()
                .all(|e| e.eval.data_state == DataState::NoData) =>
        {
            Some(format!(
                "no decision for {}: none of its {} has series now (data state no_data); fix its selectors or wait for data",
                instance_id(&entries[0].info),
                count(entries.len(), "instance")
            ))
        }
        Subject::Instances(_) => None,
    }
}

/// The decision for `subject` at `risk`; `id` is what was asked for.
pub fn decide(id: &str, subject: &Subject, risk: Risk) -> DecisionView {
    let (status, rationale, instances) = match subject {
        Subject::Empty(slo) => (
            Status::Healthy,
            format!(
                "{} has no series yet (data state {}): no evidence of a problem, none of health either",
                slo.info.id,
                slo.data_state.as_str()
            ),
            Vec::new(),
        ),
        Subject::Instances(entries) => {
            let rated: Vec<(Status, &Arc<Entry>)> = entries
                .iter()
                .map(|e| (Status::of(&e.eval, &e.alerts), e))
                .collect();
            // The worst instance decides; among equals, the first in id order.
            let (status, worst) = rated
                .iter()
                .fold(None::<(Status, &Arc<Entry>)>, |best, &(s, e)| match best {
                    Some((b, _)) if b >= s => best,
                    _ => Some((s, e)),
                })
                .expect("a subject has at least one instance");
            let mut why = reason(status, worst);
            if rated.len() > 1 {
                why = format!("worst of {} instances: {why}", rated.len());
            }
            let instances = rated
                .iter()
                .map(|(s, e)| InstanceStatus {
                    id: instance_id(&e.info),
                    status: s.as_str(),
                })
                .collect();
            (status, why, instances)
        }
    };
    let decision = Decision::of(status, risk);
    DecisionView {
        slo: id.to_string(),
        risk: risk.as_str(),
        decision: decision.as_str(),
        status: status.as_str(),
        rationale: format!(
            "{rationale}. Policy: {} at {} risk is {}.",
            status.as_str(),
            risk.as_str(),
            decision.as_str()
        ),
        instances,
    }
}

/// Why `entry` has `status`, with the figures that made it so.
fn reason(status: Status, entry: &Entry) -> String {
    let eval = &entry.eval;
    let id = instance_id(&entry.info);
    let budget = match (
        eval.period.budget_remaining,
        eval.budget_remaining_minutes(),
    ) {
        (Some(r), Some(m)) => format!(
            "{:.1}% of the {} error budget left ({m:.1} minutes of full outage)",
            r * 100.0,
            super::view::window(eval.period.window.window)
        ),
        _ => "no evidence for the error budget yet".to_string(),
    };
    let burn_1h = eval
        .window(ATTENTION_WINDOW)
        .and_then(|w| w.burn_rate)
        .map_or("no 1h burn rate".to_string(), |b| {
            format!("1h burn rate {b:.2}x")
        });
    let firing: Vec<&str> = AlertKind::ALL
        .iter()
        .filter(|&&k| entry.alerts.get(k).state == AlertState::Firing)
        .map(|k| k.as_str())
        .collect();
    let what = match status {
        Status::Exhausted => "the error budget is spent".to_string(),
        Status::Critical | Status::Warning => format!("firing: {}", firing.join(", ")),
        Status::Attention => "burning faster than the budget allows over the last hour".to_string(),
        Status::Healthy => "within budget, nothing firing".to_string(),
    };
    format!("{id} is {}: {what}; {budget}; {burn_1h}", status.as_str())
}
