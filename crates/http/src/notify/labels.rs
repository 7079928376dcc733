//! An alert's labels and annotations as Alertmanager sees them. Routes match on the same labels,
//! so a route and an Alertmanager matcher written alike select the same alerts.

use std::collections::BTreeMap;

use burnwatch_engine::Notification;

use super::message;

/// User labels, group labels (a group label wins over a user label of the same name), the
/// alert's own labels of its severity (`[slo.alerting] labels` with `page_labels` or
/// `ticket_labels`, winning as a Prometheus rule's labels do), then `alertname`, `sloth_id`,
/// `sloth_service`, `sloth_slo` and `sloth_severity` (page|ticket), which win over anything the
/// user named alike.
pub(crate) fn alert_labels(n: &Notification) -> BTreeMap<String, String> {
    let slo = &n.instance.slo;
    let mut labels: BTreeMap<String, String> = n.instance.labels().into_iter().collect();
    labels.extend(slo.alert_extras.labels(n.severity()).iter().cloned());
    for (name, value) in [
        ("alertname", n.alertname()),
        ("sloth_id", slo.id.as_str()),
        ("sloth_service", slo.service.as_str()),
        ("sloth_slo", slo.name.as_str()),
        ("sloth_severity", n.severity().as_str()),
    ] {
        labels.insert(name.to_string(), value.to_string());
    }
    labels
}

/// The SLO's annotations and its severity's own (`page_annotations`, `ticket_annotations`), with `summary` (the headline) and `description` filled in when the
/// configuration does not set them.
pub(crate) fn alert_annotations(n: &Notification) -> BTreeMap<String, String> {
    let slo = &n.instance.slo;
    let mut annotations: BTreeMap<String, String> = slo.annotations.iter().cloned().collect();
    annotations.extend(slo.alert_extras.annotations(n.severity()).iter().cloned());
    annotations
        .entry("summary".to_string())
        .or_insert_with(|| message::headline(n));
    if let Some(description) = &n.instance.slo.description {
        annotations
            .entry("description".to_string())
            .or_insert_with(|| description.clone());
    }
    annotations
}

/// 16 hex digits identifying a label set (FNV-1a), like Alertmanager's fingerprint: stable
/// across processes, different for different label sets.
pub(crate) fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    let hash =
        burnwatch_engine::label_set_hash(labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    format!("{hash:016x}")
}

/// Labels common to every alert (Alertmanager's `commonLabels`).
pub(crate) fn common(sets: &[BTreeMap<String, String>]) -> BTreeMap<String, String> {
    let Some((first, rest)) = sets.split_first() else {
        return BTreeMap::new();
    };
    first
        .iter()
        .filter(|(k, v)| rest.iter().all(|set| set.get(*k) == Some(*v)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::testing::{Figures, notification};
    use burnwatch_engine::{AlertKind, AlertStatus};

    #[test]
    fn sloth_labels_win_and_severity_follows_the_kind() {
        let page = notification(AlertKind::Page, AlertStatus::Firing, Figures::fast_burn());
        let labels = alert_labels(&page);
        assert_eq!(labels["sloth_id"], "checkout-availability");
        assert_eq!(labels["sloth_service"], "checkout");
        assert_eq!(labels["sloth_slo"], "availability");
        assert_eq!(labels["sloth_severity"], "page");
        assert_eq!(labels["alertname"], "CheckoutBudgetBurn");
        assert_eq!(labels["team"], "payments");
        assert_eq!(labels["region"], "eu");

        let no_data = notification(AlertKind::NoData, AlertStatus::Firing, Figures::fast_burn());
        let labels = alert_labels(&no_data);
        assert_eq!(labels["sloth_severity"], "ticket");
        assert_eq!(labels["alertname"], "SLONoData");
    }

    #[test]
    fn alert_labels_and_annotations_of_the_severity_win_over_the_slos() {
        let mut page = notification(AlertKind::Page, AlertStatus::Firing, Figures::fast_burn());
        let mut no_data =
            notification(AlertKind::NoData, AlertStatus::Firing, Figures::fast_burn());
        let mut info = (*page.instance).clone();
        let mut slo = (*info.slo).clone();
        let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
        slo.alert_extras = burnwatch_engine::AlertExtras {
            page_labels: vec![pair("severity", "critical"), pair("team", "oncall")],
            ticket_labels: vec![pair("severity", "warning")],
            page_annotations: vec![pair("runbook", "https://runbooks.example/page")],
            ticket_annotations: Vec::new(),
        };
        info.slo = std::sync::Arc::new(slo);
        page.instance = std::sync::Arc::new(info.clone());
        no_data.instance = std::sync::Arc::new(info);
        let labels = alert_labels(&page);
        assert_eq!(labels["severity"], "critical");
        // The alert's own label wins over the SLO's `team = "payments"`, as a rule's does.
        assert_eq!(labels["team"], "oncall");
        assert_eq!(labels["sloth_severity"], "page");
        assert_eq!(
            alert_annotations(&page)["runbook"],
            "https://runbooks.example/page"
        );
        // no_data is of ticket severity: the ticket labels, the SLO's own runbook.
        assert_eq!(alert_labels(&no_data)["severity"], "warning");
        assert_eq!(alert_labels(&no_data)["team"], "payments");
        assert_eq!(
            alert_annotations(&no_data)["runbook"],
            "https://runbooks.example/checkout"
        );
    }

    #[test]
    fn fingerprints_tell_label_sets_apart() {
        let page = notification(AlertKind::Page, AlertStatus::Firing, Figures::fast_burn());
        let ticket = notification(AlertKind::Ticket, AlertStatus::Firing, Figures::fast_burn());
        let a = fingerprint(&alert_labels(&page));
        assert_eq!(a.len(), 16);
        assert_eq!(a, fingerprint(&alert_labels(&page)));
        assert_ne!(a, fingerprint(&alert_labels(&ticket)));
    }
}
