//! The error budget policy: an instance's status, and the release decision it implies.
//!
//! `status` reads the figures and the alert states; the decision matrix maps a status and the
//! risk of a change to approve, review, defer or block. The HTTP API, the status page and
//! `burnwatch gate` all answer from here, so they cannot disagree.

use std::time::Duration;

use crate::{AlertKind, AlertState, Alerts, Evaluation, Severity};

/// The window whose burn rate decides `attention` (and the exhaustion ETA).
pub const ATTENTION_WINDOW: Duration = Duration::from_secs(3600);

/// Where an instance stands under the error budget policy, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Budget left, nothing firing, spending no faster than the budget allows.
    Healthy,
    /// Budget left and nothing firing, but the last hour burned faster than 1x: at this pace
    /// the budget runs out before the period refills it.
    Attention,
    /// A ticket-severity alert fires (slow burn, `no_data` or `budget_exhausted`).
    Warning,
    /// The page fires.
    Critical,
    /// The budget over the period is spent: budget remaining <= 0.
    Exhausted,
}

impl Status {
    /// Every status, best first.
    pub const ALL: [Status; 5] = [
        Status::Healthy,
        Status::Attention,
        Status::Warning,
        Status::Critical,
        Status::Exhausted,
    ];

    /// The status of an instance: `exhausted` when budget remaining <= 0, else `critical` when
    /// the page fires, else `warning` when a ticket-severity alert fires, else `attention` when
    /// the 1h burn rate is above 1, else `healthy`. Unknown figures (no evidence) count as
    /// neither exhausted nor burning.
    pub fn of(eval: &Evaluation, alerts: &Alerts) -> Status {
        let firing = |severity: Severity| {
            AlertKind::ALL.iter().any(|&kind| {
                kind.severity() == severity && alerts.get(kind).state == AlertState::Firing
            })
        };
        if eval.period.budget_remaining.is_some_and(|r| r <= 0.0) {
            Status::Exhausted
        } else if firing(Severity::Page) {
            Status::Critical
        } else if firing(Severity::Ticket) {
            Status::Warning
        } else if eval
            .window(ATTENTION_WINDOW)
            .and_then(|w| w.burn_rate)
            .is_some_and(|b| b > 1.0)
        {
            Status::Attention
        } else {
            Status::Healthy
        }
    }

    /// `healthy`, `attention`, `warning`, `critical`, `exhausted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Healthy => "healthy",
            Status::Attention => "attention",
            Status::Warning => "warning",
            Status::Critical => "critical",
            Status::Exhausted => "exhausted",
        }
    }
}

/// How risky a change is, as whoever asks for a decision judges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Risk {
    /// E.g. a config tweak behind a flag.
    Low,
    /// An ordinary release.
    Medium,
    /// A migration, a new dependency, a big-bang change.
    High,
}

impl Risk {
    /// Every risk, lowest first.
    pub const ALL: [Risk; 3] = [Risk::Low, Risk::Medium, Risk::High];

    /// `low`, `medium` or `high`; anything else is `None`.
    pub fn parse(text: &str) -> Option<Risk> {
        Risk::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// `low`, `medium`, `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        }
    }
}

/// What to do with a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Decision {
    /// Ship it.
    Approve,
    /// A person decides (the service owner or SRE on call).
    Review,
    /// Wait until the SLO recovers.
    Defer,
    /// Do not ship; only fixes that restore reliability.
    Block,
}

impl Decision {
    /// The release matrix:
    ///
    /// | status | low | medium | high |
    /// |---|---|---|---|
    /// | healthy | approve | approve | review |
    /// | attention | approve | review | defer |
    /// | warning | review | defer | block |
    /// | critical | defer | block | block |
    /// | exhausted | block | block | block |
    pub fn of(status: Status, risk: Risk) -> Decision {
        use Decision::*;
        let row = match status {
            Status::Healthy => [Approve, Approve, Review],
            Status::Attention => [Approve, Review, Defer],
            Status::Warning => [Review, Defer, Block],
            Status::Critical => [Defer, Block, Block],
            Status::Exhausted => [Block, Block, Block],
        };
        row[risk as usize]
    }

    /// `approve`, `review`, `defer`, `block`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Review => "review",
            Decision::Defer => "defer",
            Decision::Block => "block",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AlertPolicy, Counts, Millis, Observation, SloState};

    const PERIOD: Duration = Duration::from_secs(30 * 86_400);
    const M: Millis = 60_000;
    const T0: Millis = 19_700 * 86_400_000;

    /// A day of traffic at `base` errors per 1000, then an hour at `last_hour` per 1000, under
    /// the workbook policy with `budget_exhausted` at `exhausted_at`.
    fn status(base: f64, last_hour: f64, exhausted_at: Option<f64>) -> Status {
        let mut state = SloState::counted(0.999, PERIOD, &crate::DEFAULT_WINDOWS);
        let mut policy = AlertPolicy::sre_workbook(PERIOD);
        policy.budget_exhausted = exhausted_at;
        let mut alerts = Alerts::new();
        let mut eval = state.evaluate(T0);
        for minute in 1..=25 * 60 {
            let errors = if minute > 24 * 60 { last_hour } else { base };
            let end = T0 + minute * M;
            state.observe(Observation::Events {
                start: end - M,
                end,
                counts: Counts {
                    errors,
                    total: 1000.0,
                },
            });
            eval = state.evaluate(end);
            alerts.eval(&policy, &eval);
        }
        Status::of(&eval, &alerts)
    }

    #[test]
    fn each_status_from_figures_and_alerts() {
        assert_eq!(status(0.5, 0.5, None), Status::Healthy);
        // 2x for the last hour only: no pair holds (5m/1h needs 14.4), the 1h burn is above 1.
        assert_eq!(status(0.2, 2.0, None), Status::Attention);
        // budget_exhausted is a ticket: at 90% it fires with 70-odd percent left.
        assert_eq!(status(0.2, 2.0, Some(0.9)), Status::Warning);
        // 20x for an hour: the 5m/1h page; the day's burn stays below 1.
        assert_eq!(status(0.1, 20.0, None), Status::Critical);
        // 1.2x all day: the period's burn is above 1.
        assert_eq!(status(1.2, 1.2, None), Status::Exhausted);
    }

    #[test]
    fn no_evidence_is_healthy_not_exhausted() {
        let mut state = SloState::counted(0.999, PERIOD, &crate::DEFAULT_WINDOWS);
        let eval = state.evaluate(T0);
        assert_eq!(eval.period.budget_remaining, None);
        assert_eq!(Status::of(&eval, &Alerts::new()), Status::Healthy);
    }

    #[test]
    fn the_release_matrix() {
        let table: Vec<String> = Status::ALL
            .iter()
            .map(|&s| {
                let row: Vec<&str> = Risk::ALL
                    .iter()
                    .map(|&r| Decision::of(s, r).as_str())
                    .collect();
                format!("{} {}", s.as_str(), row.join("/"))
            })
            .collect();
        assert_eq!(
            table,
            [
                "healthy approve/approve/review",
                "attention approve/review/defer",
                "warning review/defer/block",
                "critical defer/block/block",
                "exhausted block/block/block",
            ]
        );
        assert_eq!(Risk::parse("medium"), Some(Risk::Medium));
        assert_eq!(Risk::parse("Medium"), None);
        assert_eq!(Risk::parse(""), None);
    }
}
