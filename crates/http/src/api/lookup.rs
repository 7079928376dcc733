//! Finding SLO instances by id.
//!
//! An ungrouped SLO's single instance has the SLO's id (`checkout-availability`); an instance of
//! a grouped SLO adds its group labels the way Prometheus writes a selector
//! (`checkout-latency{route="/pay"}`). The SLO id of a grouped SLO names all its instances.

use std::sync::Arc;

use burnwatch_engine::{Board, Entry, InstanceInfo, SloStatus};

use super::ApiError;

/// The public id of an instance.
pub fn instance_id(info: &InstanceInfo) -> String {
    if info.group.is_empty() {
        return info.slo.id.clone();
    }
    let labels: Vec<String> = info
        .group
        .iter()
        .map(|(name, value)| format!("{name}={}", quoted(value)))
        .collect();
    format!("{}{{{}}}", info.slo.id, labels.join(","))
}

/// A label value as PromQL quotes it.
fn quoted(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// What an id names.
#[derive(Debug)]
pub enum Subject {
    /// Published instances: one for an instance id, every instance for a grouped SLO's id.
    Instances(Vec<Arc<Entry>>),
    /// An SLO the backend has no series for yet, or one still waiting for its first figures.
    Empty(Arc<SloStatus>),
}

/// Resolves `id` against the board; 404 with the known ids when nothing matches.
pub fn resolve(board: &Board, id: &str) -> Result<Subject, ApiError> {
    let entries = board.entries();
    if let Some(entry) = entries.iter().find(|e| instance_id(&e.info) == id) {
        return Ok(Subject::Instances(vec![Arc::clone(entry)]));
    }
    let of_slo: Vec<Arc<Entry>> = entries
        .iter()
        .filter(|e| e.info.slo.id == id)
        .cloned()
        .collect();
    if !of_slo.is_empty() {
        return Ok(Subject::Instances(of_slo));
    }
    let slos = board.slos();
    if let Some(status) = slos.iter().find(|s| s.info.id == id) {
        return Ok(Subject::Empty(Arc::clone(status)));
    }
    // Configured, without figures yet (backfilling, or the backend failing).
    if let Some((info, _)) = board.waiting().into_iter().find(|(info, _)| info.id == id) {
        return Ok(Subject::Empty(Arc::new(SloStatus::unknown(info))));
    }
    let mut known: Vec<String> = slos.iter().map(|s| s.info.id.clone()).collect();
    let more = known.len().saturating_sub(20);
    known.truncate(20);
    Err(ApiError::not_found(format!(
        "unknown SLO {id:?}; known SLO ids: {}{}",
        if known.is_empty() {
            "none yet".to_string()
        } else {
            known.join(", ")
        },
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )))
}

/// Resolves `id` to exactly one instance (or an SLO without any); a grouped SLO's id is a 404
/// listing its instances' ids.
pub fn resolve_one(board: &Board, id: &str) -> Result<Subject, ApiError> {
    match resolve(board, id)? {
        Subject::Instances(entries) if entries.len() > 1 => {
            let ids: Vec<String> = entries.iter().map(|e| instance_id(&e.info)).collect();
            Err(ApiError::not_found(format!(
                "{id:?} has {} instances; ask for one of: {}",
                ids.len(),
                ids.join(", ")
            )))
        }
        subject => Ok(subject),
    }
}
