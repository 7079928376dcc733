//! Notifications for unit tests: one SLO instance (`checkout-availability`, region=eu, 99.9% over
//! 30 days, the SRE Workbook policy) with figures chosen per test.

use std::sync::Arc;
use std::time::Duration;

use burnwatch_engine::{
    AlertKind, AlertPolicy, AlertStatus, Counts, DataState, Evaluation, InstanceInfo, Notification,
    PeriodFigures, SloInfo, WindowFigures,
};

use super::delivery::Transport;
use super::receiver::{Reply, Request};

const DAY: u64 = 86_400;
const OBJECTIVE: f64 = 0.999;

/// Burn rates per window (seconds, burn) and the period's budget remaining.
pub(crate) struct Figures {
    pub burns: Vec<(u64, f64)>,
    pub budget_remaining: f64,
}

impl Figures {
    /// A fast burn: the 5m/1h page pair (14.4) fires, 30m/6h (6) does not; 62.5% budget left.
    pub fn fast_burn() -> Figures {
        Figures {
            burns: vec![
                (300, 20.0),
                (1_800, 4.0),
                (3_600, 16.0),
                (21_600, 5.0),
                (DAY, 2.0),
                (3 * DAY, 1.0),
            ],
            budget_remaining: 0.625,
        }
    }
}

fn window(secs: u64, burn: f64) -> WindowFigures {
    let ratio = burn * (1.0 - OBJECTIVE);
    WindowFigures {
        window: Duration::from_secs(secs),
        counts: Counts {
            errors: ratio * 10_000.0,
            total: 10_000.0,
        },
        error_ratio: Some(ratio),
        burn_rate: Some(burn),
    }
}

pub(crate) fn instance() -> Arc<InstanceInfo> {
    Arc::new(InstanceInfo {
        slo: Arc::new(SloInfo {
            id: "checkout-availability".into(),
            service: "checkout".into(),
            name: "availability".into(),
            objective: burnwatch_engine::Objective::from_percent(99.9),
            period: Duration::from_secs(30 * DAY),
            labels: vec![("team".into(), "payments".into())],
            description: Some("Checkout requests that succeed.".into()),
            alert_name: "CheckoutBudgetBurn".into(),
            annotations: vec![("runbook".into(), "https://runbooks.example/checkout".into())],
            alert_extras: Default::default(),
        }),
        group: vec![("region".into(), "eu".into())],
    })
}

/// A notification at 1_700_000_000_000 ms that started firing ten minutes earlier.
pub(crate) fn notification(kind: AlertKind, status: AlertStatus, figures: Figures) -> Notification {
    let period = Duration::from_secs(30 * DAY);
    let burn = |secs| {
        figures
            .burns
            .iter()
            .find(|(w, _)| *w == secs)
            .map(|(_, b)| *b)
    };
    let remaining = figures.budget_remaining;
    let exhaustion = |b: Option<f64>| b.map(|b| period.mul_f64(remaining / b));
    let at = 1_700_000_000_000;
    Notification {
        instance: instance(),
        kind,
        status,
        fired_at: at - 600_000,
        at,
        eval: Evaluation {
            at,
            objective: OBJECTIVE,
            windows: figures.burns.iter().map(|&(w, b)| window(w, b)).collect(),
            period: PeriodFigures {
                window: window(30 * DAY, 1.0 - remaining),
                sli: Some(1.0 - (1.0 - remaining) * (1.0 - OBJECTIVE)),
                budget_remaining: Some(remaining),
                exhaustion_at_1h_burn: exhaustion(burn(3_600)),
                exhaustion_at_6h_burn: exhaustion(burn(21_600)),
                covered: period,
                excluded: Duration::ZERO,
            },
            data_state: DataState::Ok,
        },
        policy: Arc::new(AlertPolicy::sre_workbook(period)),
    }
}

/// A transport that records every request (tokio time and JSON body) and answers from a script,
/// then 200 once the script is used up.
#[derive(Default)]
pub(crate) struct Recorder {
    script: std::sync::Mutex<std::collections::VecDeque<Result<Reply, String>>>,
    log: std::sync::Mutex<Vec<(tokio::time::Instant, serde_json::Value)>>,
}

impl Recorder {
    pub fn replying(script: Vec<Result<Reply, String>>) -> Recorder {
        Recorder {
            script: std::sync::Mutex::new(script.into()),
            log: Default::default(),
        }
    }

    pub fn reply(status: u16, retry_after_secs: Option<u64>) -> Reply {
        Reply {
            status,
            retry_after: retry_after_secs.map(Duration::from_secs),
            body: String::new(),
        }
    }

    pub fn times(&self) -> Vec<tokio::time::Instant> {
        self.log.lock().unwrap().iter().map(|(t, _)| *t).collect()
    }

    pub fn bodies(&self) -> Vec<serde_json::Value> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| b.clone())
            .collect()
    }
}

impl Transport for Recorder {
    async fn post(&self, request: &Request) -> Result<Reply, String> {
        let body = serde_json::from_slice(&request.body).expect("JSON body");
        self.log
            .lock()
            .unwrap()
            .push((tokio::time::Instant::now(), body));
        let next = self.script.lock().unwrap().pop_front();
        next.unwrap_or_else(|| Ok(Recorder::reply(200, None)))
    }
}

impl<T: Transport> Transport for Arc<T> {
    fn post(
        &self,
        request: &Request,
    ) -> impl std::future::Future<Output = Result<Reply, String>> + Send {
        (**self).post(request)
    }
}
