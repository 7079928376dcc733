//! Publishing: every instance evaluated, its alerts advanced, transitions handed to the
//! notifier, figures put on the board.

use std::sync::Arc;

use burnwatch_engine::{DataState, Entry, Millis, Notification, SloStatus};

use super::SloRunner;

impl SloRunner {
    /// Evaluate every instance at `now` and publish to the board.
    pub fn publish(&mut self, now: Millis) {
        self.follow_period(now);
        self.follow_objective(now);
        let mut best = DataState::NoData;
        // Inside a span that silences, alerts move on but nobody is notified; what is owed is
        // sent at the first evaluation after it (the engine keeps track).
        let silenced = self
            .spans
            .iter()
            .any(|s| s.silence && s.start < now && now <= s.end);
        for instance in self.instances.values_mut() {
            let eval = instance.state.lock().evaluate(now);
            best = better(best, eval.data_state);
            let outcome = instance.alerts.eval_silenced(&self.policy, &eval, silenced);
            for t in &outcome.silenced {
                self.metrics.record_silenced(&self.info.id, t);
                tracing::info!(
                    slo = %self.info.id,
                    alert = t.kind.as_str(),
                    status = t.status.as_str(),
                    "notification silenced by a maintenance window"
                );
            }
            let transitions = outcome.send;
            if let Some(notifier) = &self.notifier {
                for t in transitions {
                    // The receiving side outlives every runner; a closed channel means shutdown.
                    let _ = notifier.send(Notification {
                        instance: Arc::clone(&instance.info),
                        kind: t.kind,
                        status: t.status,
                        fired_at: t.fired_at,
                        at: t.at,
                        eval: eval.clone(),
                        policy: Arc::clone(&self.policy),
                    });
                }
            }
            self.board.publish_with_buckets(
                Entry {
                    info: Arc::clone(&instance.info),
                    eval,
                    alerts: instance.alerts.clone(),
                },
                instance.state.buckets().as_ref(),
            );
        }
        self.board
            .publish_policy(&self.info.id, Arc::clone(&self.policy));
        self.board.publish_spans(&self.info.id, &self.spans);
        self.board.publish_slo(SloStatus {
            info: Arc::clone(&self.info),
            data_state: best,
            instances: self.instances.len(),
            group_limit_reached: self.group_limit_reached,
        });
    }
}

/// The better of two data states: an SLO has data when any instance has.
fn better(a: DataState, b: DataState) -> DataState {
    use DataState::*;
    match (a, b) {
        (Ok, _) | (_, Ok) => Ok,
        (NoTraffic, _) | (_, NoTraffic) => NoTraffic,
        _ => NoData,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use burnwatch_engine::{
        AlertKind, AlertStatus, Board, Counts, Exclusions, Millis, Observation, Transition,
    };

    use crate::metrics::SchedulerMetrics;
    use crate::runner::SloRunner;
    use crate::runner::no_backend::NoBackend;

    const M: Millis = 60_000;
    const T0: Millis = 1_767_225_600_000; // 2026-01-01T00:00:00Z

    /// An SLO `checkout-availability` at `objective` over `errors_total` / `requests_total`,
    /// followed by `rest` (its own subtables, or other sections).
    fn checkout(objective: f64, rest: &str) -> burnwatch_spec::Config {
        let text = format!(
            "[backends.main]\ntype = \"prometheus\"\nurl = \"http://127.0.0.1:9\"\n\n[[slo]]\n\
             service = \"checkout\"\nname = \"availability\"\nobjective = {objective}\n\
             [slo.sli.ratio]\nerrors = 'errors_total'\ntotal = 'requests_total'\n{rest}"
        );
        burnwatch_spec::parse(&text, Path::new("burnwatch.toml"), &|_| None).unwrap()
    }

    /// 1,000 requests a minute for two hours; every one fails from minute 80 on. A silence
    /// (events still counted) covers minutes 75 to 95.
    #[test]
    fn a_page_that_fires_in_a_silence_is_counted_not_sent_then_sent_once_after() {
        let config = checkout(
            99.9,
            r#"
[[maintenance]]
name = "deploy"
slos = ["checkout-*"]
start = "2026-01-01T01:15:00Z"
end = "2026-01-01T01:35:00Z"
exclude = false
reason = "deploy"
"#,
        );
        let exclusions = Exclusions::new();
        exclusions.set(
            "maintenance",
            Arc::new(burnwatch_spec::maintenance::MaintenanceSpans::new(
                &config.maintenance,
            )),
        );
        let metrics = Arc::new(SchedulerMetrics::unregistered());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut runner = SloRunner::new(
            config.slos[0].clone(),
            Arc::new(NoBackend),
            Arc::new(Board::new()),
            Arc::clone(&metrics),
        )
        .with_exclusions(exclusions)
        .with_notifier(tx);
        let (silence_start, silence_end) = (T0 + 75 * M, T0 + 95 * M);
        let mut sent = Vec::new();
        for minute in 1..=120 {
            let now = T0 + minute * M;
            runner.refresh_exclusions(now - runner.exclusion_reach(), now + 86_400_000);
            let instance = runner.ensure_instance(&Vec::new()).unwrap();
            let errors = if minute > 80 { 1000.0 } else { 0.0 };
            instance.state.lock().observe(Observation::Events {
                start: now - M,
                end: now,
                counts: Counts {
                    errors,
                    total: 1000.0,
                },
            });
            runner.publish(now);
            while let Ok(n) = rx.try_recv() {
                assert!(
                    !(silence_start < now && now <= silence_end),
                    "{:?} {:?} sent at minute {minute}, inside the silence",
                    n.kind,
                    n.status
                );
                sent.push((n.kind, n.status, n.fired_at, n.at));
            }
        }
        // The page fired at minute 81, inside the silence: counted once, not sent then...
        let page = Transition {
            kind: AlertKind::Page,
            status: AlertStatus::Firing,
            fired_at: T0 + 81 * M,
            at: T0 + 81 * M,
        };
        assert_eq!(metrics.silenced("checkout-availability", &page), 1);
        // ...and sent once at minute 96, the first evaluation after the silence, still firing.
        let pages: Vec<_> = sent.iter().filter(|s| s.0 == AlertKind::Page).collect();
        assert_eq!(
            pages,
            [&(
                AlertKind::Page,
                AlertStatus::Firing,
                T0 + 81 * M,
                T0 + 96 * M
            )]
        );
        // Whatever else fired inside (budget_exhausted) was counted and is sent once after too.
        for (kind, status, fired_at, at) in &sent {
            assert_eq!(*status, AlertStatus::Firing);
            assert_eq!(*at, T0 + 96 * M, "{kind:?} sent when the silence ended");
            let t = Transition {
                kind: *kind,
                status: *status,
                fired_at: *fired_at,
                at: *fired_at,
            };
            assert_eq!(metrics.silenced("checkout-availability", &t), 1, "{kind:?}");
        }
    }

    /// 1,000 requests a minute at 0.5% errors; the objective tightens from 99% to 99.9% at
    /// 01:00. What the board holds (and /metrics exports) follows it at the first publish at or
    /// after 01:00: objective, budget, burn rates, the ticket condition.
    #[test]
    fn live_figures_follow_the_objective_schedule() {
        let schedule =
            "[[slo.objective_schedule]]\nfrom = \"2026-01-01T01:00:00Z\"\nobjective = 99.9\n";
        let config = checkout(99.0, schedule);
        let board = Arc::new(Board::new());
        let mut runner = SloRunner::new(
            config.slos[0].clone(),
            Arc::new(NoBackend),
            Arc::clone(&board),
            Arc::new(SchedulerMetrics::unregistered()),
        );
        let mut seen = Vec::new();
        for minute in 1..=120 {
            let now = T0 + minute * M;
            let instance = runner.ensure_instance(&Vec::new()).unwrap();
            instance.state.lock().observe(Observation::Events {
                start: now - M,
                end: now,
                counts: Counts {
                    errors: 5.0,
                    total: 1000.0,
                },
            });
            runner.publish(now);
            let entry = &board.entries()[0];
            let burn_1h = entry.eval.window(std::time::Duration::from_secs(3600));
            seen.push((
                minute,
                entry.info.slo.objective.percent(),
                entry.eval.objective,
                burn_1h.and_then(|f| f.burn_rate),
                entry.eval.period.budget_remaining,
                entry.alerts.get(AlertKind::Ticket).condition,
            ));
        }
        let at = |minute: usize| seen[minute - 1];
        let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-9;
        let (_, percent, ratio, burn, budget, ticket) = at(59);
        assert_eq!((percent, ratio, ticket), (99.0, 0.99, false));
        assert!(close(burn, 0.5) && close(budget, 0.5), "{:?}", at(59));
        let (_, percent, ratio, burn, budget, ticket) = at(60);
        assert_eq!((percent, ratio, ticket), (99.9, 0.999, true));
        assert!(close(burn, 5.0) && close(budget, -4.0), "{:?}", at(60));
    }
}
