//! A digest as the notifier carries it: the figures of one scheduled summary (the weekly SLO
//! review or the daily wins), already computed by the caller from `burnwatch report`'s replay,
//! and the human text every receiver shares. Receivers lay it out (Slack blocks, a Teams card,
//! webhook JSON); none of them computes a figure.

use std::time::Duration;

use burnwatch_engine::Millis;
use serde::Serialize;

use super::message::{human_duration, percent, rate};
use burnwatch_spec::text::rfc3339_seconds as rfc3339;

/// One digest message: which digest, which occurrence, and what it says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DigestMessage {
    /// The `[[digest]]` name.
    pub digest: String,
    /// `weekly` or `daily`.
    pub kind: String,
    /// The scheduled send time (unix ms): with the name, the journal's key.
    #[serde(serialize_with = "as_rfc3339")]
    pub occurrence: Millis,
    /// The span `(start, end]` it covers.
    #[serde(serialize_with = "as_rfc3339")]
    pub start: Millis,
    /// The end of the span (the occurrence, on the report's 5-minute step).
    #[serde(serialize_with = "as_rfc3339")]
    pub end: Millis,
    /// The zone the schedule is read in, for the reader.
    pub timezone: String,
    /// One row per SLO instance in scope, in configuration order.
    pub services: Vec<ServiceDigest>,
    /// Objective schedule entries that took effect within the span.
    pub objective_changes: Vec<ObjectiveChange>,
}

/// Green, yellow or red (see `docs/program.md`, "Digests", for the rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Objective met, budget comfortable, not burning faster than last week.
    Green,
    /// Objective met but budget low, or burning faster than last week.
    Yellow,
    /// Objective missed over the span, or the budget exhausted.
    Red,
}

impl Status {
    /// `green`, `yellow`, `red`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Green => "green",
            Status::Yellow => "yellow",
            Status::Red => "red",
        }
    }

    /// A coloured circle for chat.
    pub fn emoji(self) -> &'static str {
        match self {
            Status::Green => ":large_green_circle:",
            Status::Yellow => ":large_yellow_circle:",
            Status::Red => ":red_circle:",
        }
    }
}

/// One SLO instance over the span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceDigest {
    /// SLO id.
    pub slo: String,
    /// `region=eu` for a grouped instance; empty otherwise.
    pub group: String,
    /// The status.
    pub status: Status,
    /// The objective (ratio) at the end of the span.
    pub objective: f64,
    /// Achieved SLI over the span; `None` without events.
    pub sli: Option<f64>,
    /// Error budget remaining over the period at the end of the span.
    pub budget_remaining: Option<f64>,
    /// The same at the start of the span (for "budget recovered").
    pub budget_remaining_start: Option<f64>,
    /// Burn rate over the span (the share of the span's budget consumed).
    pub burn: Option<f64>,
    /// Burn rate over the span before (last week, or yesterday).
    pub burn_before: Option<f64>,
    /// Page and ticket episodes, in the order they fired.
    pub incidents: Vec<IncidentDigest>,
    /// Mean time to resolve over the resolved incidents, in seconds.
    pub mttr_seconds: Option<u64>,
    /// Pages raised (escalations).
    pub pages: usize,
    /// Tickets raised.
    pub tickets: usize,
}

/// One page or ticket episode.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentDigest {
    /// `page` or `ticket`.
    pub severity: String,
    /// When it fired.
    #[serde(serialize_with = "as_rfc3339")]
    pub start: Millis,
    /// When it resolved; `None` while still firing at the end of the span.
    #[serde(serialize_with = "as_rfc3339_opt")]
    pub end: Option<Millis>,
    /// How long it fired within the span.
    pub duration_seconds: u64,
}

/// An objective schedule entry taking effect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectiveChange {
    /// SLO id.
    pub slo: String,
    /// When it takes effect.
    #[serde(serialize_with = "as_rfc3339")]
    pub at: Millis,
    /// The objective before (ratio), if any.
    pub from: Option<f64>,
    /// The objective from then on (ratio).
    pub to: f64,
}

fn as_rfc3339<S: serde::Serializer>(ms: &Millis, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*ms))
}

fn as_rfc3339_opt<S: serde::Serializer>(ms: &Option<Millis>, s: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => s.serialize_str(&rfc3339(*ms)),
        None => s.serialize_none(),
    }
}

/// `1h 25m`.
fn seconds(s: u64) -> String {
    human_duration(Duration::from_secs(s))
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), percent)
}

impl ServiceDigest {
    /// `checkout-availability` or `checkout-availability (region=eu)`.
    pub fn subject(&self) -> String {
        if self.group.is_empty() {
            self.slo.clone()
        } else {
            format!("{} ({})", self.slo, self.group)
        }
    }

    /// Whether the objective held over the span (no events: not held, no evidence).
    pub fn held(&self) -> bool {
        self.sli.is_some_and(|sli| sli >= self.objective)
    }

    /// `faster`, `slower` or `steady` than before (within 10%), or `no data`.
    pub fn trend(&self) -> &'static str {
        match (self.burn, self.burn_before) {
            (Some(now), Some(before)) if now > before * 1.1 => "faster",
            (Some(now), Some(before)) if now < before * 0.9 => "slower",
            (Some(_), Some(_)) => "steady",
            _ => "no data",
        }
    }

    /// `SLI 99.71% (objective 99.9%) · budget left 42.3% · burn 1.9x vs 0.5x last week (faster)`.
    pub fn figures_line(&self, before: &str) -> String {
        let burn = match (self.burn, self.burn_before) {
            (Some(now), Some(then)) => {
                format!(
                    "burn {} vs {} {before} ({})",
                    rate(now),
                    rate(then),
                    self.trend()
                )
            }
            (Some(now), None) => format!("burn {} ({before}: no data)", rate(now)),
            _ => "burn: no events".to_string(),
        };
        format!(
            "SLI {} (objective {}) · budget left {} · {burn}",
            pct(self.sli),
            percent(self.objective),
            pct(self.budget_remaining)
        )
    }

    /// One line per incident: `page 2026-12-03T12:05:00Z to 13:30:00Z (1h 25m)`.
    pub fn incident_lines(&self) -> Vec<String> {
        self.incidents
            .iter()
            .map(|i| {
                let end = i.end.map_or_else(
                    || "still firing".to_string(),
                    |e| format!("to {}", rfc3339(e)),
                );
                format!(
                    "{} from {} {end} ({})",
                    i.severity,
                    rfc3339(i.start),
                    seconds(i.duration_seconds)
                )
            })
            .collect()
    }

    /// `MTTR 1h 25m · escalations: 1 page, 0 tickets`.
    pub fn escalation_line(&self) -> String {
        let mttr = self
            .mttr_seconds
            .map_or_else(|| "MTTR –".to_string(), |s| format!("MTTR {}", seconds(s)));
        format!(
            "{mttr} · escalations: {} page{}, {} ticket{}",
            self.pages,
            if self.pages == 1 { "" } else { "s" },
            self.tickets,
            if self.tickets == 1 { "" } else { "s" }
        )
    }

    /// Budget points won back over the span (daily wins); `None` if it did not grow.
    pub fn recovered(&self) -> Option<f64> {
        match (self.budget_remaining_start, self.budget_remaining) {
            (Some(start), Some(end)) if end > start => Some(end - start),
            _ => None,
        }
    }
}

impl DigestMessage {
    /// Whether this is the daily wins message.
    pub fn is_daily(&self) -> bool {
        self.kind == "daily"
    }

    /// What the span before is called in the burn trend.
    pub fn before(&self) -> &'static str {
        if self.is_daily() {
            "the day before"
        } else {
            "last week"
        }
    }

    /// The heading: `Weekly SLO review (weekly-review): 2026-11-30T09:00:00Z to 2026-12-07T09:00:00Z`.
    pub fn title(&self) -> String {
        let what = if self.is_daily() {
            "Daily SLO wins"
        } else {
            "Weekly SLO review"
        };
        format!(
            "{what} ({}): {} to {}",
            self.digest,
            rfc3339(self.start),
            rfc3339(self.end)
        )
    }

    /// `3 SLOs: 1 red, 0 yellow, 2 green`.
    pub fn summary(&self) -> String {
        let n = |s: Status| self.services.iter().filter(|x| x.status == s).count();
        format!(
            "{} SLO{}: {} red, {} yellow, {} green",
            self.services.len(),
            if self.services.len() == 1 { "" } else { "s" },
            n(Status::Red),
            n(Status::Yellow),
            n(Status::Green)
        )
    }

    /// One paragraph per service (weekly) as lines; the first line names the service.
    pub fn service_paragraph(&self, s: &ServiceDigest) -> Vec<String> {
        let mut lines = vec![
            format!("{} {}", s.status.as_str().to_uppercase(), s.subject()),
            s.figures_line(self.before()),
        ];
        if s.incidents.is_empty() {
            lines.push("Incidents: none".to_string());
        } else {
            lines.extend(
                s.incident_lines()
                    .into_iter()
                    .map(|l| format!("Incident: {l}")),
            );
        }
        lines.push(s.escalation_line());
        lines
    }

    /// Objective changes as lines: `checkout-availability: objective 99.5% -> 99.9% from ...`.
    pub fn change_lines(&self) -> Vec<String> {
        self.objective_changes
            .iter()
            .map(|c| {
                let from = c
                    .from
                    .map(|f| format!("{} -> ", percent(f)))
                    .unwrap_or_default();
                format!(
                    "{}: objective {from}{} from {}",
                    c.slo,
                    percent(c.to),
                    rfc3339(c.at)
                )
            })
            .collect()
    }

    /// The daily wins as lines: who held, whose budget recovered.
    pub fn wins_lines(&self) -> Vec<String> {
        let held: Vec<String> = self
            .services
            .iter()
            .filter(|s| s.held())
            .map(ServiceDigest::subject)
            .collect();
        let mut lines = vec![format!(
            "Held their objective: {} of {}{}",
            held.len(),
            self.services.len(),
            if held.is_empty() {
                String::new()
            } else {
                format!(": {}", held.join(", "))
            }
        )];
        let recovered: Vec<String> = self
            .services
            .iter()
            .filter_map(|s| {
                let points = s.recovered()?;
                Some(format!(
                    "{} +{:.1} points ({} -> {})",
                    s.subject(),
                    points * 100.0,
                    pct(s.budget_remaining_start),
                    pct(s.budget_remaining)
                ))
            })
            .collect();
        if recovered.is_empty() {
            lines.push("Budgets recovered: none".to_string());
        } else {
            lines.push(format!("Budgets recovered: {}", recovered.join("; ")));
        }
        lines
    }

    /// The whole message as plain text (the terminal preview, and chat fallbacks).
    pub fn text(&self) -> String {
        let mut out = vec![self.title(), self.summary(), String::new()];
        if self.is_daily() {
            out.extend(self.wins_lines());
        } else {
            for s in &self.services {
                out.extend(self.service_paragraph(s));
                out.push(String::new());
            }
            if self.objective_changes.is_empty() {
                out.push("Objective changes: none".to_string());
            } else {
                out.push("Objective changes:".to_string());
                out.extend(self.change_lines());
            }
        }
        let mut text = out.join("\n");
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(slo: &str, sli: Option<f64>, budget: (f64, f64)) -> ServiceDigest {
        ServiceDigest {
            slo: slo.into(),
            group: String::new(),
            status: Status::Green,
            objective: 0.999,
            sli,
            budget_remaining: Some(budget.1),
            budget_remaining_start: Some(budget.0),
            burn: Some(0.5),
            burn_before: Some(0.5),
            incidents: Vec::new(),
            mttr_seconds: None,
            pages: 0,
            tickets: 0,
        }
    }

    #[test]
    fn daily_wins_name_who_held_and_whose_budget_grew() {
        let day = 86_400_000;
        let message = DigestMessage {
            digest: "wins".into(),
            kind: "daily".into(),
            occurrence: 1_796_634_000_000,
            start: 1_796_634_000_000 - day,
            end: 1_796_634_000_000,
            timezone: "UTC".into(),
            services: vec![
                service("checkout-availability", Some(0.9995), (0.40, 0.421)),
                service("search-latency", Some(0.998), (0.30, 0.25)),
                service("batch-freshness", None, (0.9, 0.9)),
            ],
            objective_changes: Vec::new(),
        };
        let text = message.text();
        assert!(
            text.starts_with("Daily SLO wins (wins): 2026-12-06T09:00:00Z to 2026-12-07T09:00:00Z"),
            "{text}"
        );
        assert!(
            text.contains("Held their objective: 1 of 3: checkout-availability\n"),
            "{text}"
        );
        assert!(
            text.contains("Budgets recovered: checkout-availability +2.1 points (40.0% -> 42.1%)"),
            "{text}"
        );
        assert!(!text.contains("search-latency +"), "{text}");
    }
}
