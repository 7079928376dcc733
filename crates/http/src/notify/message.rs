//! Text every receiver shares: human durations, percentages, burn rates, the one-line headline
//! and which window pair fired. Receivers lay these out; none of them computes a figure.

use std::time::Duration;

use burnwatch_engine::{AlertKind, AlertStatus, BurnPair, Millis, Notification, WindowFigures};
use burnwatch_spec::format_prometheus;
pub(crate) use burnwatch_spec::text::{burn_rate as rate, human_duration, percent, rfc3339};

/// Rounds to `digits` significant digits, for JSON figures a person reads (`15.234567` -> 15.23).
pub(crate) fn round_sig(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(digits - 1 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

/// At most `max` characters, cut at a character boundary and ending in `…` when cut.
pub(crate) fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `checkout-availability` or `checkout-availability (region=eu, tier=gold)`.
pub(crate) fn subject(n: &Notification) -> String {
    let id = &n.instance.slo.id;
    if n.instance.group.is_empty() {
        return id.clone();
    }
    let group: Vec<String> = n
        .instance
        .group
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!("{id} ({})", group.join(", "))
}

/// Prometheus' name for a window: `5m`, `1h`, `30d`.
pub(crate) fn window_key(w: Duration) -> String {
    format_prometheus(w)
}

/// Every window the evaluation holds, the period last.
pub(crate) fn all_windows(n: &Notification) -> impl Iterator<Item = &WindowFigures> {
    n.eval
        .windows
        .iter()
        .chain(std::iter::once(&n.eval.period.window))
}

/// The policy pairs of the alert's severity whose short and long windows both burn above the
/// factor now: what "fired" means for a burn alert. Empty for no-data and budget alerts.
pub(crate) fn firing_pairs(n: &Notification) -> Vec<&BurnPair> {
    if !matches!(n.kind, AlertKind::Page | AlertKind::Ticket) {
        return Vec::new();
    }
    let burns = |w: Duration| n.eval.window(w).and_then(|f| f.burn_rate);
    n.policy
        .pairs
        .iter()
        .filter(|p| p.severity == n.severity())
        .filter(|p| {
            burns(p.short).is_some_and(|b| b > p.factor)
                && burns(p.long).is_some_and(|b| b > p.factor)
        })
        .collect()
}

/// The pair to talk about: the first firing pair, else the first of the alert's severity.
pub(crate) fn focus_pair(n: &Notification) -> Option<BurnPair> {
    firing_pairs(n).first().map(|p| **p).or_else(|| {
        n.policy
            .pairs
            .iter()
            .find(|p| p.severity == n.severity())
            .copied()
    })
}

/// The windows to show a person: the focus pair's long and short windows, or 1h and 5m.
pub(crate) fn focus_windows(n: &Notification) -> Vec<Duration> {
    let windows = match focus_pair(n) {
        Some(p) => vec![p.long, p.short],
        None => vec![Duration::from_secs(3_600), Duration::from_secs(300)],
    };
    windows
        .into_iter()
        .filter(|w| n.eval.window(*w).is_some())
        .collect()
}

/// `15.2x over 1h, 16x over 5m`; None when no shown window has traffic.
pub(crate) fn burn_line(n: &Notification) -> Option<String> {
    let parts: Vec<String> = focus_windows(n)
        .into_iter()
        .filter_map(|w| {
            let burn = n.eval.window(w)?.burn_rate?;
            Some(format!("{} over {}", rate(burn), window_key(w)))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// `62.3% of the 30d budget left`, or a note that there is no evidence.
pub(crate) fn budget_line(n: &Notification) -> String {
    let period = window_key(n.eval.period.window.window);
    match n.eval.period.budget_remaining {
        Some(remaining) => format!("{} of the {period} budget left", percent(remaining)),
        None => format!("budget unknown (no events in {period})"),
    }
}

/// `62.5% of 30d` (a Slack field titled "Budget left"), or `unknown (no events in 30d)`.
pub(crate) fn budget_left(n: &Notification) -> String {
    let period = window_key(n.eval.period.window.window);
    match n.eval.period.budget_remaining {
        Some(remaining) => format!("{} of {period}", percent(remaining)),
        None => format!("unknown (no events in {period})"),
    }
}

/// Projected exhaustion at the rate that matters for the alert: the 1h burn for pages, the 6h
/// burn for everything else.
pub(crate) fn exhaustion(n: &Notification) -> Option<(Duration, &'static str)> {
    let period = &n.eval.period;
    match n.kind {
        AlertKind::Page => period.exhaustion_at_1h_burn.map(|d| (d, "1h")),
        _ => period.exhaustion_at_6h_burn.map(|d| (d, "6h")),
    }
}

/// `runs out in 2d 3h at the 1h rate` / `exhausted`, or None without a projection.
pub(crate) fn exhaustion_line(n: &Notification) -> Option<String> {
    exhaustion(n).map(|(d, at)| {
        if d.is_zero() {
            "budget exhausted".to_string()
        } else {
            format!("runs out in {} at the {at} rate", human_duration(d))
        }
    })
}

/// The one-line description of the alert: what, how fast, budget left, when it runs out.
pub(crate) fn headline(n: &Notification) -> String {
    let subject = subject(n);
    match n.kind {
        AlertKind::Page | AlertKind::Ticket => {
            let mut line = format!("{subject}: {} error budget burn", n.severity().as_str());
            if let Some(burn) = burn_line(n) {
                line.push_str(&format!(" {burn}"));
            }
            if let Some(pair) = focus_pair(n) {
                line.push_str(&format!(" (threshold {})", rate(pair.factor)));
            }
            line.push_str(&format!("; {}", budget_line(n)));
            if let Some(out) = exhaustion_line(n) {
                line.push_str(&format!(", {out}"));
            }
            line
        }
        AlertKind::NoData => {
            format!("{subject}: no data, the backend returns no series for this SLO")
        }
        AlertKind::BudgetExhausted => {
            format!("{subject}: error budget exhausted; {}", budget_line(n))
        }
    }
}

/// The value of the first annotation among `names` that is set.
pub(crate) fn annotation<'a>(n: &'a Notification, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|name| {
        n.instance
            .slo
            .annotations
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    })
}

/// Runbook and dashboard links from the annotations, only when they are URLs.
pub(crate) fn links(n: &Notification) -> Vec<(&'static str, &str)> {
    [
        ("Runbook", &["runbook", "runbook_url"][..]),
        ("Dashboard", &["dashboard", "dashboard_url"][..]),
    ]
    .into_iter()
    .filter_map(|(text, names)| {
        annotation(n, names)
            .filter(|url| url.starts_with("http://") || url.starts_with("https://"))
            .map(|url| (text, url))
    })
    .collect()
}

/// The alert's condition in words: `burn rate over 5m and 1h above 14.4x`, one per firing pair.
pub(crate) fn conditions(n: &Notification) -> Vec<String> {
    firing_pairs(n)
        .iter()
        .map(|p| {
            format!(
                "burn rate over {} and {} above {}",
                window_key(p.short),
                window_key(p.long),
                rate(p.factor)
            )
        })
        .collect()
}

/// What a chat message shows about the alert, as (title, value) pairs: the burn rates of the
/// pair that fired with its threshold (`no_data`: that there is no data), the budget left, when
/// it runs out (firing only), and how long it has fired (at `now`) or did fire.
pub(crate) fn facts(n: &Notification, now: Millis) -> Vec<(&'static str, String)> {
    let firing = n.status == AlertStatus::Firing;
    let mut facts = Vec::new();
    match n.kind {
        AlertKind::Page | AlertKind::Ticket => {
            if let Some(burn) = burn_line(n) {
                let threshold = focus_pair(n)
                    .map(|p| format!(" (threshold {})", rate(p.factor)))
                    .unwrap_or_default();
                facts.push(("Burn rate", format!("{burn}{threshold}")));
            }
        }
        AlertKind::NoData => facts.push(("Data", "no series from the backend".to_string())),
        AlertKind::BudgetExhausted => {}
    }
    facts.push(("Budget left", budget_left(n)));
    if firing && let Some((left, at)) = exhaustion(n) {
        let out = if left.is_zero() {
            "now: budget exhausted".to_string()
        } else {
            format!("in {} at the {at} rate", human_duration(left))
        };
        facts.push(("Runs out", out));
    }
    let since =
        |until: Millis| Duration::from_millis(u64::try_from(until - n.fired_at).unwrap_or(0));
    if firing {
        facts.push(("Firing for", human_duration(since(now.max(n.at)))));
    } else {
        facts.push(("Fired for", human_duration(since(n.at))));
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::testing::{Figures, notification};
    use burnwatch_engine::AlertStatus;

    #[test]
    fn durations_read_like_speech() {
        let s = Duration::from_secs;
        assert_eq!(human_duration(s(0)), "0s");
        assert_eq!(human_duration(s(45)), "45s");
        assert_eq!(human_duration(s(90)), "1m 30s");
        assert_eq!(human_duration(s(12_000)), "3h 20m");
        assert_eq!(human_duration(s(2 * 86_400 + 3 * 3_600 + 59)), "2d 3h");
        assert_eq!(human_duration(s(2 * 86_400 + 300)), "2d");
    }

    #[test]
    fn rates_and_percentages_keep_three_digits() {
        assert_eq!(rate(14.4), "14.4x");
        assert_eq!(rate(6.0), "6x");
        assert_eq!(rate(0.853), "0.85x");
        assert_eq!(rate(123.4), "123x");
        assert_eq!(percent(0.6234), "62.3%");
        assert_eq!(percent(-0.12), "-12.0%");
        assert_eq!(round_sig(15.234_567, 4), 15.23);
        assert_eq!(round_sig(0.000_123_456, 3), 0.000_123);
    }

    #[test]
    fn truncation_never_splits_a_character() {
        let text = "é".repeat(2_000);
        let cut = truncate_chars(&text, 1_024);
        assert_eq!(cut.chars().count(), 1_024);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate_chars("short", 1_024), "short");
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }

    #[test]
    fn headline_names_the_firing_pair_budget_and_exhaustion() {
        let n = notification(AlertKind::Page, AlertStatus::Firing, Figures::fast_burn());
        let line = headline(&n);
        assert!(
            line.starts_with("checkout-availability (region=eu): page error budget burn"),
            "{line}"
        );
        assert!(line.contains("16x over 1h, 20x over 5m"), "{line}");
        assert!(line.contains("threshold 14.4x"), "{line}");
        assert!(line.contains("62.5% of the 30d budget left"), "{line}");
        assert!(line.contains("runs out in 1d 4h at the 1h rate"), "{line}");
        assert_eq!(conditions(&n), ["burn rate over 5m and 1h above 14.4x"]);
    }
}
