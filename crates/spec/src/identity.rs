//! From a validated SLO to what the engine runs on: its identity ([`SloInfo`], built once per
//! SLO and shared by the engine state, the board, the API, the notifier and reports), its alert
//! policy and the windows its instances keep. The one place configuration becomes engine types.

use std::time::Duration;

use burnwatch_engine::{AlertExtras, AlertPolicy, BurnPair, DEFAULT_WINDOWS, SloInfo};

use crate::model::{Slo, Threshold};

/// The identity of `slo` as every part of the daemon shows it.
pub fn slo_info(slo: &Slo) -> SloInfo {
    SloInfo {
        id: slo.id.clone(),
        service: slo.service.clone(),
        name: slo.name.clone(),
        objective: slo.objective,
        period: slo.period,
        labels: slo
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        description: slo.description.clone(),
        alert_name: slo.alerting.name.clone(),
        annotations: slo
            .alerting
            .annotations
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        alert_extras: alert_extras(&slo.alerting.extras),
    }
}

/// `labels` merged with `page_labels` / `ticket_labels`, and each severity's annotations.
fn alert_extras(extras: &crate::model::AlertingExtras) -> AlertExtras {
    let pairs = |map: &std::collections::BTreeMap<String, String>| -> Vec<(String, String)> {
        map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    let over = |own: &std::collections::BTreeMap<String, String>| {
        let mut merged = extras.labels.clone();
        merged.extend(own.clone());
        pairs(&merged)
    };
    AlertExtras {
        page_labels: over(&extras.page_labels),
        ticket_labels: over(&extras.ticket_labels),
        page_annotations: pairs(&extras.page_annotations),
        ticket_annotations: pairs(&extras.ticket_annotations),
    }
}

/// The engine policy for `slo`: the SRE Workbook pairs unless windows are configured; factors
/// from budget shares are derived by the engine ([`BurnPair::from_budget_share`]). For a
/// calendar SLO this is the policy of its usual length (30 days for a month); evaluations use
/// [`alert_policy_over`] the current period's length.
pub fn alert_policy(slo: &Slo) -> AlertPolicy {
    alert_policy_over(slo, slo.period)
}

/// The policy of `slo` for a period of `length` (a calendar SLO's current period): workbook
/// factors and `budget_share` thresholds are `share * length / long window`; explicit
/// `factor`s stay as written.
pub fn alert_policy_over(slo: &Slo, length: Duration) -> AlertPolicy {
    let a = &slo.alerting;
    let mut policy = AlertPolicy::sre_workbook(length);
    if let Some(windows) = &a.windows {
        policy.pairs = windows
            .iter()
            .map(|w| {
                let severity = w.severity;
                match w.threshold {
                    Threshold::Factor(factor) => BurnPair {
                        severity,
                        short: w.short,
                        long: w.long,
                        factor,
                    },
                    Threshold::BudgetShare(percent) => BurnPair::from_budget_share(
                        severity,
                        w.short,
                        w.long,
                        percent / 100.0,
                        length,
                    ),
                }
            })
            .collect();
    }
    policy.hold_for = a.hold_for;
    policy.keep_firing_for = a.keep_firing_for;
    policy.min_events = a.min_events;
    policy.page = a.page;
    policy.ticket = a.ticket;
    policy.no_data_for = a.no_data_for;
    policy.budget_exhausted = a.budget_exhausted;
    policy
}

/// The windows an instance keeps: the default set plus any window the policy reads, shorter than
/// the period (the period is always kept), sorted.
pub fn windows(slo: &Slo, policy: &AlertPolicy) -> Vec<Duration> {
    let mut windows: Vec<Duration> = DEFAULT_WINDOWS.to_vec();
    windows.extend(policy.windows());
    windows.retain(|w| *w < slo.period);
    windows.sort();
    windows.dedup();
    windows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AlertWindow, Alerting};

    fn slo(alerting: Alerting) -> Slo {
        let text = r#"[backends.main]
type = "prometheus"
url = "http://127.0.0.1:9090"
[[slo]]
service = "s"
name = "n"
objective = 99.9
[slo.sli.ratio]
errors = 'e_total'
total = 't_total'
"#;
        let mut slo = crate::parse(text, std::path::Path::new("t.toml"), &|_| None)
            .unwrap()
            .slos
            .remove(0);
        slo.alerting = alerting;
        slo
    }

    #[test]
    fn configured_pairs_replace_the_workbook_and_shares_become_factors() {
        let mut alerting = Alerting::standard();
        alerting.windows = Some(vec![
            AlertWindow {
                severity: crate::Severity::Page,
                short: Duration::from_secs(600),
                long: Duration::from_secs(7200),
                threshold: Threshold::BudgetShare(5.0),
            },
            AlertWindow {
                severity: crate::Severity::Ticket,
                short: Duration::from_secs(3600),
                long: Duration::from_secs(86_400),
                threshold: Threshold::Factor(2.5),
            },
        ]);
        let slo = slo(alerting);
        let policy = alert_policy(&slo);
        assert_eq!(policy.pairs.len(), 2);
        // 5% of 30 days within 2 hours: 0.05 * 720h / 2h = 18.
        assert!((policy.pairs[0].factor - 18.0).abs() < 1e-9);
        assert_eq!(policy.pairs[1].factor, 2.5);
        // The 10m window is not a default one, so the instance must keep it.
        assert!(windows(&slo, &policy).contains(&Duration::from_secs(600)));
    }
}
