//! Publishing: every instance evaluated, its alerts advanced, transitions handed to the
//! notifier, figures put on the board.

use std::sync::Arc;

use burnwatch_engine::{DataState, Entry, Millis, Notification, SloStatus};

use super::SloRunner;

impl SloRunner {
    /// Evaluate every instance at `now` and publish to the board.
    pub fn publish(&mut self, now: Millis) {
        self.follow_period(now);
        let mut best = DataState::NoData;
        for instance in self.instances.values_mut() {
            let eval = instance.state.evaluate(now);
            best = better(best, eval.data_state);
            let transitions = instance.alerts.eval(&self.policy, &eval);
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
            let state = &instance.state;
            self.board.publish_with_past(
                Entry {
                    info: Arc::clone(&instance.info),
                    eval,
                    alerts: instance.alerts.clone(),
                },
                || state.past(now),
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
