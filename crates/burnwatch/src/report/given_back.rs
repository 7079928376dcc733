//! The budget each exclusion gave back: the budget remaining at the end of the report with
//! every span, minus the same replay with every span but that one. The engine is run twice
//! rather than the difference guessed by a second formula, so what an exclusion is worth
//! follows every rule of the one copy of the math (the rolling period, spans that overlap,
//! events cut at a span's edge).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use burnwatch_engine::{ExclusionSpan, Exclusions, FixedSpans};

use crate::failure::Failure;

/// Budget remaining at the end of the report per instance key.
pub type Budgets = BTreeMap<String, Option<f64>>;

/// For every span of `shown` that excludes events, what it gave back per instance key:
/// `with[key]` minus the budget `run` finds with every span of `all` except it (`None` when
/// either side has no figure). `all` are the spans the report ran with (also those before its
/// start that still reach into its period); `shown` those it lists.
pub async fn given_back<F, Fut>(
    all: &[ExclusionSpan],
    shown: &[ExclusionSpan],
    with: &Budgets,
    mut run: F,
) -> Result<Vec<(ExclusionSpan, Budgets)>, Failure>
where
    F: FnMut(Arc<Exclusions>) -> Fut,
    Fut: Future<Output = Result<Budgets, Failure>>,
{
    let mut out = Vec::new();
    for span in shown {
        if !span.exclude {
            out.push((span.clone(), Budgets::new()));
            continue;
        }
        let others: Vec<ExclusionSpan> = all.iter().filter(|s| *s != span).cloned().collect();
        let exclusions = Exclusions::new();
        exclusions.set("others", Arc::new(FixedSpans(others)));
        let without = run(exclusions).await?;
        let back = with
            .iter()
            .map(|(key, with)| {
                let without = without.get(key).copied().flatten();
                (key.clone(), with.zip(without).map(|(w, wo)| w - wo))
            })
            .collect();
        out.push((span.clone(), back));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use burnwatch_engine::{
        Counts, Millis, Objective, Observation, Origin, SloInfo, SloState, excluded_of,
    };

    use super::*;

    const MINUTE: Millis = 60_000;
    const DAY: Duration = Duration::from_secs(86_400);

    fn info() -> SloInfo {
        SloInfo {
            id: "checkout-availability".into(),
            service: "checkout".into(),
            name: "availability".into(),
            objective: Objective::from_percent(99.0),
            period: DAY,
            labels: Vec::new(),
            description: None,
            alert_name: "SLOErrorBudgetBurn".into(),
            annotations: Vec::new(),
            alert_extras: Default::default(),
        }
    }

    /// A day at 1,000 requests a minute, 1 failing, except minutes 600 to 620 where all fail;
    /// the engine's budget at the end of the day with the spans of `exclusions`.
    fn budget(exclusions: &Exclusions) -> Budgets {
        let info = info();
        let end = 1440 * MINUTE;
        let mut state = SloState::counted(info.objective, DAY, &[Duration::from_secs(300)]);
        state.exclude(excluded_of(&exclusions.spans(&info, 0, end)));
        for minute in 0..1440 {
            let errors = if (600..620).contains(&minute) {
                1000.0
            } else {
                1.0
            };
            state.observe(Observation::Events {
                start: minute * MINUTE,
                end: (minute + 1) * MINUTE,
                counts: Counts {
                    errors,
                    total: 1000.0,
                },
            });
        }
        let budget = state.evaluate(end).period.budget_remaining;
        Budgets::from([(info.id, budget)])
    }

    fn span(start: Millis, end: Millis, exclude: bool) -> ExclusionSpan {
        ExclusionSpan {
            start: start * MINUTE,
            end: end * MINUTE,
            origin: Origin::Maintenance {
                name: "db-upgrade".into(),
            },
            reason: "Postgres 17".into(),
            exclude,
            silence: true,
        }
    }

    #[test]
    fn an_excluded_outage_gives_back_what_it_would_have_spent() {
        // With the outage excluded, 1,420 minutes count: 1,420 errors in 1,420,000 requests,
        // 0.1% against a 1% budget, so 90% remains. Without it, 1,440,000 requests with
        // 1,420 + 20,000 = 21,420 errors: 1.4875% against 1%, so -48.75% remains. Given back:
        // 0.9 - (-0.4875) = 1.3875 budgets. A silence-only span gives nothing back.
        let outage = span(600, 620, true);
        let freeze = span(700, 710, false);
        let all = vec![outage.clone(), freeze.clone()];
        let exclusions = Exclusions::new();
        exclusions.set("test", Arc::new(FixedSpans(all.clone())));
        let with = budget(&exclusions);
        let with_budget = with["checkout-availability"].unwrap();
        assert!((with_budget - 0.9).abs() < 1e-9, "{with_budget}");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut runs = 0;
        let back = runtime
            .block_on(given_back(&all, &all, &with, |exclusions| {
                runs += 1;
                std::future::ready(Ok(budget(&exclusions)))
            }))
            .unwrap();
        assert_eq!(runs, 1, "one run without the outage; none for the freeze");
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].0, outage);
        let given = back[0].1["checkout-availability"].unwrap();
        assert!((given - 1.3875).abs() < 1e-9, "{given}");
        assert_eq!(back[1].0, freeze);
        assert!(back[1].1.is_empty());
    }
}
