//! The JSON shapes of the API (docs/api.md and docs/openapi.yaml describe them). Every figure is
//! read from an engine evaluation; nothing is computed here but formatting.
//!
//! Only what describes the SLO is shown: ids, labels, objective, period, figures and alert
//! states. Backends, receivers and their credentials are not in the board, so they cannot leak.

use std::time::Duration;

use burnwatch_engine::{
    AlertKind, Alerts, Entry, Episode, ExclusionSpan, SloInfo, SloStatus, Status, TrailPoint,
};
use burnwatch_spec::format_prometheus;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::exclusions::{ExclusionView, in_period};
use super::lookup::instance_id;
use burnwatch_spec::text::rfc3339;

/// Pairs serialised as a JSON object in their own order (windows shortest first).
#[derive(Debug, Clone, PartialEq)]
pub struct Ordered<V>(pub Vec<(String, V)>);

impl<V: Serialize> Serialize for Ordered<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// One alert's state and since when.
#[derive(Debug, Serialize)]
pub struct AlertView {
    /// `inactive`, `pending`, `firing`, `inhibited`.
    pub state: &'static str,
    /// Firing: when it fired; pending or inhibited: when its condition began; inactive: when it
    /// last resolved (`null` if never).
    pub since: Option<String>,
}

/// One SLO instance, as `GET /api/v1/slos` lists it.
#[derive(Debug, Serialize)]
pub struct InstanceView {
    pub id: String,
    pub slo: String,
    pub service: String,
    pub name: String,
    pub labels: Ordered<String>,
    pub objective: f64,
    pub period: String,
    /// The period's length, for the page's sentences.
    #[serde(skip)]
    pub period_length: std::time::Duration,
    pub error_ratio: Ordered<Option<f64>>,
    pub burn_rate: Ordered<Option<f64>>,
    pub budget_remaining: Option<f64>,
    pub budget_remaining_minutes: Option<f64>,
    pub period_covered_seconds: Option<f64>,
    pub period_coverage: Option<f64>,
    pub exhaustion_eta: Option<String>,
    /// Time of the period whose events count toward nothing (maintenance, corrections).
    pub excluded_seconds: Option<f64>,
    /// Excluded and silenced spans overlapping the period, by start.
    pub exclusions: Vec<ExclusionView>,
    pub status: &'static str,
    pub alerts: Ordered<AlertView>,
    pub data_state: &'static str,
    pub evaluated_at: Option<String>,
    /// Why a configured SLO has no figures yet: the backend's last error.
    pub backend_error: Option<String>,
    /// A composite's components (absent for other SLOs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<super::components::ComponentView>>,
}

/// How much of the period the figures rest on, 0 to 1.
fn coverage(covered: std::time::Duration, period: std::time::Duration) -> Option<f64> {
    (!period.is_zero()).then(|| (covered.as_secs_f64() / period.as_secs_f64()).min(1.0))
}

impl InstanceView {
    /// "3.2 of 30 days observed": how much of the period a budget figure rests on; None before
    /// any evaluation.
    pub fn observed(&self) -> Option<String> {
        let covered = self.period_covered_seconds?;
        let days = self.period_length.as_secs_f64() / 86_400.0;
        let seen = (covered / 86_400.0).min(days);
        let seen = if seen >= days - 0.05 {
            format_days(days)
        } else {
            format!("{:.1}", seen)
        };
        Some(format!("{seen} of {} days observed", format_days(days)))
    }

    /// A published instance, with its SLO's spans as the board holds them.
    pub fn of(entry: &Entry, spans: &[ExclusionSpan]) -> InstanceView {
        let eval = &entry.eval;
        let windows = || {
            eval.windows
                .iter()
                .chain(std::iter::once(&eval.period.window))
        };
        InstanceView {
            labels: Ordered(entry.info.labels()),
            error_ratio: Ordered(
                windows()
                    .map(|w| (window(w.window), w.error_ratio))
                    .collect(),
            ),
            burn_rate: Ordered(windows().map(|w| (window(w.window), w.burn_rate)).collect()),
            budget_remaining: eval.period.budget_remaining,
            budget_remaining_minutes: eval.budget_remaining_minutes(),
            period_covered_seconds: Some(eval.period.covered.as_secs_f64()),
            // A calendar period's figures cover the current period: its length, not the usual.
            period: window(eval.period.window.window),
            period_length: eval.period.window.window,
            period_coverage: coverage(eval.period.covered, eval.period.window.window),
            exhaustion_eta: eval.exhaustion_eta().map(rfc3339),
            excluded_seconds: Some(eval.period.excluded.as_secs_f64()),
            exclusions: in_period(spans, eval.at, entry.info.slo.period),
            status: Status::of(eval, &entry.alerts).as_str(),
            alerts: alerts(&entry.alerts),
            data_state: eval.data_state.as_str(),
            evaluated_at: Some(rfc3339(eval.at)),
            ..InstanceView::slo(&entry.info.slo, instance_id(&entry.info))
        }
    }

    /// An SLO with no instance yet: no figures, nothing firing.
    pub fn empty(status: &SloStatus) -> InstanceView {
        InstanceView {
            data_state: status.data_state.as_str(),
            ..InstanceView::slo(&status.info, status.info.id.clone())
        }
    }

    /// The same, said to be waiting when the board says the SLO is (see [`InstanceView::waiting`]).
    pub fn waiting_on(self, board: &burnwatch_engine::Board) -> InstanceView {
        let why = board.waiting_for(&self.slo);
        self.waiting(why)
    }

    /// The same, said to be waiting for `why` (status `backfilling` or `unreachable`, with the
    /// backend's last error); unchanged for None.
    pub fn waiting(self, why: Option<burnwatch_engine::Waiting>) -> InstanceView {
        match why {
            Some(why) => InstanceView {
                status: why.as_str(),
                backend_error: match why {
                    burnwatch_engine::Waiting::Unreachable(error) => Some(error),
                    burnwatch_engine::Waiting::Backfilling => None,
                },
                ..self
            },
            None => self,
        }
    }

    fn slo(info: &SloInfo, id: String) -> InstanceView {
        InstanceView {
            id,
            slo: info.id.clone(),
            service: info.service.clone(),
            name: info.name.clone(),
            labels: Ordered(info.labels.clone()),
            objective: info.objective.ratio(),
            period: window(info.period),
            period_length: info.period,
            error_ratio: Ordered(Vec::new()),
            burn_rate: Ordered(Vec::new()),
            budget_remaining: None,
            budget_remaining_minutes: None,
            period_covered_seconds: None,
            period_coverage: None,
            exhaustion_eta: None,
            excluded_seconds: None,
            exclusions: Vec::new(),
            status: Status::Healthy.as_str(),
            alerts: alerts(&Alerts::new()),
            data_state: "no_data",
            evaluated_at: None,
            backend_error: None,
            components: None,
        }
    }
}

fn alerts(alerts: &Alerts) -> Ordered<AlertView> {
    Ordered(
        alerts
            .all()
            .iter()
            .map(|a| {
                let since = match a.state {
                    burnwatch_engine::AlertState::Firing => a.fired_at,
                    burnwatch_engine::AlertState::Inactive => a.resolved_at,
                    _ => a.active_since,
                };
                (
                    a.kind.as_str().to_string(),
                    AlertView {
                        state: a.state.as_str(),
                        since: since.map(rfc3339),
                    },
                )
            })
            .collect(),
    )
}

/// A window as Sloth labels it: `5m`, `1h`, `30d`.
pub fn window(d: Duration) -> String {
    format_prometheus(d)
}

/// One point of `GET /api/v1/slos/{id}/history`.
#[derive(Debug, Serialize)]
pub struct PointView {
    pub time: String,
    pub budget_remaining: Option<f64>,
    pub burn_rate: Ordered<Option<f64>>,
}

impl PointView {
    /// `windows` are the trail's windows, the period last.
    pub fn of(point: &TrailPoint, windows: &[String]) -> PointView {
        PointView {
            time: rfc3339(point.at),
            budget_remaining: point.budget_remaining(),
            burn_rate: Ordered(
                windows
                    .iter()
                    .cloned()
                    .zip(point.burn_rates.iter().copied())
                    .collect(),
            ),
        }
    }
}

/// One alert episode.
#[derive(Debug, Serialize)]
pub struct EpisodeView {
    pub alert: &'static str,
    pub fired_at: String,
    pub resolved_at: Option<String>,
}

impl EpisodeView {
    /// From the trail's episode.
    pub fn of(episode: &Episode) -> EpisodeView {
        EpisodeView {
            alert: kind(episode.kind),
            fired_at: rfc3339(episode.fired_at),
            resolved_at: episode.resolved_at.map(rfc3339),
        }
    }
}

fn kind(kind: AlertKind) -> &'static str {
    kind.as_str()
}

/// Whole days without decimals (`30`), others with one (`7.5`).
fn format_days(days: f64) -> String {
    if (days - days.round()).abs() < 1e-9 {
        format!("{days:.0}")
    } else {
        format!("{days:.1}")
    }
}
