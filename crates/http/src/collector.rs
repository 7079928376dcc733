//! The SLO series on /metrics, rendered from the board at scrape time.
//!
//! Names and labels follow Sloth's recording rules so that Sloth's Grafana dashboards work
//! unchanged (`slo:sli_error:ratio_rate5m{sloth_id,sloth_service,sloth_slo,sloth_window,...}`),
//! plus a few `burnwatch_slo_*` series for what recording rules cannot say (data state, time to
//! exhaustion, coverage). A window without evidence (zero traffic, no series) has no sample at
//! all, never 0 and never NaN; its state is on `burnwatch_slo_data_state`.
//!
//! Rendering straight from the board (a custom collector, not gauges kept in sync) means a removed
//! SLO or group disappears from the next scrape and a scrape costs one pass over the board.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use burnwatch_engine::{
    AlertKind, AlertState, Board, DataState, Entry, ExclusionSpan, Millis, alertname,
};
use burnwatch_spec::format_prometheus;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, MetricEncoder};
use prometheus_client::metrics::MetricType;

type Label<'a> = (Cow<'a, str>, Cow<'a, str>);

/// A per-instance family: name, help, how to read its value (None: no sample), and the window
/// its `sloth_window` names, if any: Sloth's burn-rate rules divide a window's ratio by the budget
/// and so keep that ratio's `sloth_window` (5m for the current burn rate, the period for the
/// period's burn rate and remaining budget).
type InstanceFamily = (
    &'static str,
    &'static str,
    fn(&Entry) -> Option<f64>,
    fn(&Entry) -> Option<Duration>,
);

/// A family of span gauges: name, help, and which spans count.
type SpanFamily = (&'static str, &'static str, fn(&ExclusionSpan) -> bool);

/// Exposes every published SLO instance in Sloth's format.
#[derive(Debug)]
pub struct SloCollector {
    board: Arc<Board>,
    version: &'static str,
    alerts_series: bool,
}

impl SloCollector {
    /// A collector over `board`.
    pub fn new(board: Arc<Board>) -> Self {
        Self {
            board,
            version: env!("CARGO_PKG_VERSION"),
            alerts_series: true,
        }
    }

    /// Whether to expose Prometheus-style `ALERTS` series (`[server] alerts_series`).
    #[must_use]
    pub fn with_alerts_series(mut self, on: bool) -> Self {
        self.alerts_series = on;
        self
    }
}

/// The labels every series of an instance carries, borrowed from the board entry: a scrape of
/// thousands of instances must not allocate per sample.
fn base_labels(entry: &Entry) -> Vec<Label<'_>> {
    let slo = &entry.info.slo;
    let mut labels: Vec<Label<'_>> = vec![
        (Cow::Borrowed("sloth_id"), Cow::Borrowed(slo.id.as_str())),
        (
            Cow::Borrowed("sloth_service"),
            Cow::Borrowed(slo.service.as_str()),
        ),
        (Cow::Borrowed("sloth_slo"), Cow::Borrowed(slo.name.as_str())),
    ];
    // User labels, then group labels; a group label wins over a user label of the same name.
    let group = &entry.info.group;
    labels.extend(
        slo.labels
            .iter()
            .filter(|(name, _)| !group.iter().any(|(g, _)| g == name))
            .chain(group.iter())
            .map(|(k, v)| (Cow::Borrowed(k.as_str()), Cow::Borrowed(v.as_str()))),
    );
    labels
}

/// `alertname` and `sloth_severity` of one alert of an instance.
fn alert_labels(entry: &Entry, kind: AlertKind) -> [Label<'_>; 2] {
    [
        (
            Cow::Borrowed("alertname"),
            Cow::Borrowed(alertname(&entry.info.slo, kind)),
        ),
        (
            Cow::Borrowed("sloth_severity"),
            Cow::Borrowed(kind.severity().as_str()),
        ),
    ]
}

/// The base labels plus one more, without copying the base.
fn with<'a>(base: &'a [Label<'a>], name: &'static str, value: &'a str) -> impl EncodeLabelSet + 'a {
    (base, [(Cow::Borrowed(name), Cow::Borrowed(value))])
}

fn gauge(
    encoder: &mut MetricEncoder<'_>,
    labels: &impl EncodeLabelSet,
    value: f64,
) -> Result<(), std::fmt::Error> {
    encoder.encode_family(labels)?.encode_gauge(&value)
}

fn days(period: Duration) -> f64 {
    period.as_secs_f64() / 86_400.0
}

impl Collector for SloCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let entries = self.board.entries();
        // Labels are built once per instance and reused by every family.
        let bases: Vec<Vec<Label<'_>>> = entries.iter().map(|e| base_labels(e)).collect();

        // One family per window length, named like Sloth's rules; the period's name depends on
        // the SLO (ratio_rate30d, ratio_rate28d, ...). A calendar period keeps its usual
        // length's name (a month: ratio_rate30d) whatever the current month's length, so
        // dashboards keep their series; its figures cover the calendar period so far.
        let mut windows: BTreeSet<Duration> = BTreeSet::new();
        for entry in &entries {
            windows.extend(entry.eval.windows.iter().map(|w| w.window));
            windows.insert(entry.info.slo.period);
        }
        for window in &windows {
            let label = format_prometheus(*window);
            let name = format!("slo:sli_error:ratio_rate{label}");
            let mut family = encoder.encode_descriptor(
                &name,
                "Error ratio (bad events / all events) over the window; absent without events.",
                None,
                MetricType::Gauge,
            )?;
            for (entry, base) in entries.iter().zip(&bases) {
                let figures = if entry.info.slo.period == *window {
                    Some(&entry.eval.period.window)
                } else {
                    entry.eval.window(*window)
                };
                if let Some(ratio) = figures.and_then(|f| f.error_ratio) {
                    gauge(&mut family, &with(base, "sloth_window", &label), ratio)?;
                }
            }
        }

        let per_instance: [InstanceFamily; 6] = [
            (
                "slo:objective:ratio",
                "The SLO objective as a ratio.",
                |e| Some(e.info.slo.objective.ratio()),
                |_| None,
            ),
            (
                "slo:error_budget:ratio",
                "The error budget: 1 - objective.",
                |e| Some(e.info.slo.objective.budget()),
                |_| None,
            ),
            (
                "slo:time_period:days",
                "The SLO period in days (a calendar period: the current one's length).",
                |e| Some(days(e.eval.period.window.window)),
                |_| None,
            ),
            (
                "slo:current_burn_rate:ratio",
                "Burn rate over the shortest window (5m): error ratio / error budget.",
                |e| e.eval.windows.first().and_then(|w| w.burn_rate),
                |e| e.eval.windows.first().map(|w| w.window),
            ),
            (
                "slo:period_burn_rate:ratio",
                "Burn rate over the whole period.",
                |e| e.eval.period.window.burn_rate,
                |e| Some(e.info.slo.period),
            ),
            (
                "slo:period_error_budget_remaining:ratio",
                "Error budget remaining over the period: 1 - period burn rate (negative when overspent).",
                |e| e.eval.period.budget_remaining,
                |e| Some(e.info.slo.period),
            ),
        ];
        for (name, help, value, window) in per_instance {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for (entry, base) in entries.iter().zip(&bases) {
                let Some(v) = value(entry) else { continue };
                match window(entry).map(format_prometheus) {
                    Some(window) => gauge(&mut family, &with(base, "sloth_window", &window), v)?,
                    None => gauge(&mut family, &base.as_slice(), v)?,
                }
            }
        }

        let mut family = encoder.encode_descriptor(
            "sloth_slo_info",
            "SLO metadata, as Sloth exposes it.",
            None,
            MetricType::Gauge,
        )?;
        for (entry, base) in entries.iter().zip(&bases) {
            let slo = &entry.info.slo;
            let objective = slo.objective.to_string();
            let info = [
                (Cow::Borrowed("sloth_mode"), Cow::Borrowed("burnwatch")),
                (
                    Cow::Borrowed("sloth_objective"),
                    Cow::Borrowed(objective.as_str()),
                ),
                (Cow::Borrowed("sloth_spec"), Cow::Borrowed("burnwatch/v1")),
                (Cow::Borrowed("sloth_version"), Cow::Borrowed(self.version)),
            ];
            gauge(&mut family, &(base.as_slice(), info), 1.0)?;
        }

        let mut family = encoder.encode_descriptor(
            "burnwatch_slo_burn_rate",
            "Burn rate per window: error ratio / (1 - objective); absent without events.",
            None,
            MetricType::Gauge,
        )?;
        for (entry, base) in entries.iter().zip(&bases) {
            let windows = entry.eval.windows.iter().map(|f| (f.window, f));
            // The period under the SLO's usual length, as slo:sli_error:ratio_rate<period>.
            let period = (entry.info.slo.period, &entry.eval.period.window);
            for (window, figures) in windows.chain([period]) {
                if let Some(burn) = figures.burn_rate {
                    let window = format_prometheus(window);
                    gauge(&mut family, &with(base, "sloth_window", &window), burn)?;
                }
            }
        }

        let mut family = encoder.encode_descriptor(
            "burnwatch_slo_error_budget_exhaustion_seconds",
            "Time until the error budget runs out if the burn rate of `burn_window` continues; absent when not burning.",
            None,
            MetricType::Gauge,
        )?;
        for (entry, base) in entries.iter().zip(&bases) {
            let period = &entry.eval.period;
            for (window, eta) in [
                ("1h", period.exhaustion_at_1h_burn),
                ("6h", period.exhaustion_at_6h_burn),
            ] {
                if let Some(eta) = eta {
                    gauge(
                        &mut family,
                        &with(base, "burn_window", window),
                        eta.as_secs_f64(),
                    )?;
                }
            }
        }

        let mut family = encoder.encode_descriptor(
            "burnwatch_slo_period_covered_seconds",
            "How much of the period the figures are based on (less than the period after a short history).",
            None,
            MetricType::Gauge,
        )?;
        for (entry, base) in entries.iter().zip(&bases) {
            gauge(
                &mut family,
                &base.as_slice(),
                entry.eval.period.covered.as_secs_f64(),
            )?;
        }

        let mut family = encoder.encode_descriptor(
            "burnwatch_slo_last_evaluation_timestamp_seconds",
            "When the figures of this instance were computed (unix seconds).",
            None,
            MetricType::Gauge,
        )?;
        for (entry, base) in entries.iter().zip(&bases) {
            gauge(&mut family, &base.as_slice(), entry.eval.at as f64 / 1000.0)?;
        }

        self.encode_states(&mut encoder, &entries, &bases)?;
        self.encode_exclusions(&mut encoder, &entries, &bases)?;
        self.encode_components(&mut encoder)?;

        let mut family = encoder.encode_descriptor(
            "burnwatch_build_info",
            "Build information; always 1.",
            None,
            MetricType::Gauge,
        )?;
        gauge(
            &mut family,
            &[(Cow::Borrowed("version"), Cow::Borrowed(self.version))],
            1.0,
        )
    }
}

impl SloCollector {
    /// `burnwatch_slo_data_state`: one series per state, 1 for the current one. Instances carry
    /// their labels; an SLO with no instance at all (no series yet) is `no_data` by `sloth_id`.
    fn encode_states(
        &self,
        encoder: &mut DescriptorEncoder<'_>,
        entries: &[Arc<Entry>],
        bases: &[Vec<Label<'_>>],
    ) -> Result<(), std::fmt::Error> {
        let slos = self.board.slos();
        let mut family = encoder.encode_descriptor(
            "burnwatch_slo_data_state",
            "Data state: ok (events), no_traffic (series but zero events in the shortest window), no_data (no series).",
            None,
            MetricType::Gauge,
        )?;
        for (entry, base) in entries.iter().zip(bases) {
            for state in DataState::ALL {
                let value = f64::from(u8::from(entry.eval.data_state == state));
                gauge(&mut family, &with(base, "state", state.as_str()), value)?;
            }
        }
        for status in slos.iter().filter(|s| s.instances == 0) {
            let base: Vec<Label<'_>> = vec![(
                Cow::Borrowed("sloth_id"),
                Cow::Borrowed(status.info.id.as_str()),
            )];
            for state in DataState::ALL {
                let value = f64::from(u8::from(state == DataState::NoData));
                gauge(&mut family, &with(&base, "state", state.as_str()), value)?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "burnwatch_alert_active",
            "1 while the alert fires (an inhibited ticket included), 0 otherwise; one series per alert of every instance.",
            None,
            MetricType::Gauge,
        )?;
        for (entry, base) in entries.iter().zip(bases) {
            for alert in entry.alerts.all() {
                let firing = matches!(alert.state, AlertState::Firing | AlertState::Inhibited);
                let labels = alert_labels(entry, alert.kind);
                gauge(
                    &mut family,
                    &(base.as_slice(), labels),
                    f64::from(u8::from(firing)),
                )?;
            }
        }
        if self.alerts_series {
            // Prometheus' own ALERTS series, so the alert panels of Sloth's dashboards work.
            // Inhibition is Alertmanager's business there, so an inhibited ticket is `firing`.
            let mut family = encoder.encode_descriptor(
                "ALERTS",
                "Pending and firing alerts, as Prometheus exposes its rules' alerts.",
                None,
                MetricType::Gauge,
            )?;
            for (entry, base) in entries.iter().zip(bases) {
                for alert in entry.alerts.all() {
                    let state = match alert.state {
                        AlertState::Inactive => continue,
                        AlertState::Pending => "pending",
                        AlertState::Firing | AlertState::Inhibited => "firing",
                    };
                    let labels = alert_labels(entry, alert.kind);
                    let alertstate = [(Cow::Borrowed("alertstate"), Cow::Borrowed(state))];
                    let extras = entry.info.slo.alert_extras.labels(alert.kind.severity());
                    if extras.is_empty() {
                        gauge(&mut family, &(base.as_slice(), (labels, alertstate)), 1.0)?;
                    } else {
                        // As a Prometheus rule's labels, the alert's own win over the series'.
                        let with_extras: Vec<Label<'_>> = base
                            .iter()
                            .filter(|(name, _)| !extras.iter().any(|(e, _)| e == name))
                            .cloned()
                            .chain(extras.iter().map(|(k, v)| {
                                (Cow::Borrowed(k.as_str()), Cow::Borrowed(v.as_str()))
                            }))
                            .collect();
                        gauge(
                            &mut family,
                            &(with_extras.as_slice(), (labels, alertstate)),
                            1.0,
                        )?;
                    }
                }
            }
        }
        let mut family = encoder.encode_descriptor(
            "burnwatch_slo_group_limit_reached",
            "1 when an SLO's group_by produced more label sets than group_limit and some were dropped.",
            None,
            MetricType::Gauge,
        )?;
        for status in &slos {
            let labels = [(
                Cow::Borrowed("sloth_id"),
                Cow::Borrowed(status.info.id.as_str()),
            )];
            gauge(
                &mut family,
                &labels,
                f64::from(u8::from(status.group_limit_reached)),
            )?;
        }
        Ok(())
    }
}

impl SloCollector {
    /// `burnwatch_composite_component_missing`: per composite and component, 1 when the
    /// component had no data in at least one of the composite's windows at its last
    /// evaluation (and was left out of them), 0 when it counted in every window.
    fn encode_components(
        &self,
        encoder: &mut DescriptorEncoder<'_>,
    ) -> Result<(), std::fmt::Error> {
        let composites = self.board.all_components();
        let mut family = encoder.encode_descriptor(
            "burnwatch_composite_component_missing",
            "1 when a composite SLO's component had no data in at least one of the composite's windows at its last evaluation (it was left out of those windows), 0 otherwise.",
            None,
            MetricType::Gauge,
        )?;
        for (id, components) in &composites {
            for c in components.iter() {
                let labels = [
                    (Cow::Borrowed("sloth_id"), Cow::Borrowed(id.as_str())),
                    (
                        Cow::Borrowed("component"),
                        Cow::Borrowed(c.component.as_str()),
                    ),
                ];
                gauge(
                    &mut family,
                    &labels,
                    f64::from(u8::from(!c.missing.is_empty())),
                )?;
            }
        }
        Ok(())
    }

    /// `burnwatch_slo_excluded` and `burnwatch_slo_silenced`: 1 while a span of the SLO that
    /// excludes events (or silences notifications) holds the instance's evaluation time, 0
    /// otherwise; and `burnwatch_slo_period_excluded_seconds`. Spans are the ones the runner
    /// published with that evaluation, so the series agree with the figures beside them.
    fn encode_exclusions(
        &self,
        encoder: &mut DescriptorEncoder<'_>,
        entries: &[Arc<Entry>],
        bases: &[Vec<Label<'_>>],
    ) -> Result<(), std::fmt::Error> {
        let spans: Vec<_> = entries
            .iter()
            .map(|e| self.board.spans(&e.info.slo.id))
            .collect();
        let active = |spans: &[ExclusionSpan], at: Millis, which: fn(&ExclusionSpan) -> bool| {
            f64::from(u8::from(
                spans
                    .iter()
                    .any(|s| which(s) && s.start < at && at <= s.end),
            ))
        };
        let families: [SpanFamily; 2] = [
            (
                "burnwatch_slo_excluded",
                "1 while a maintenance window or correction excludes this SLO's events (they count toward no window and no budget), 0 otherwise.",
                |s| s.exclude,
            ),
            (
                "burnwatch_slo_silenced",
                "1 while a maintenance window silences this SLO's notifications (alerts keep their state), 0 otherwise.",
                |s| s.silence,
            ),
        ];
        for (name, help, which) in families {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for ((entry, base), spans) in entries.iter().zip(bases).zip(&spans) {
                let value = active(spans, entry.eval.at, which);
                gauge(&mut family, &base.as_slice(), value)?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "burnwatch_slo_period_excluded_seconds",
            "Time of the period whose events are excluded (maintenance windows, corrections).",
            None,
            MetricType::Gauge,
        )?;
        for (entry, base) in entries.iter().zip(bases) {
            let excluded = entry.eval.period.excluded.as_secs_f64();
            gauge(&mut family, &base.as_slice(), excluded)?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use burnwatch_engine::{
        Counts, InstanceInfo, PeriodFigures, SloInfo, SloStatus, WindowFigures,
    };
    use prometheus_client::registry::Registry;

    fn figures(window_secs: u64, errors: f64, total: f64) -> WindowFigures {
        let ratio = (total > 0.0).then(|| errors / total);
        WindowFigures {
            window: Duration::from_secs(window_secs),
            counts: Counts { errors, total },
            error_ratio: ratio,
            burn_rate: ratio.map(|r| r / 0.001),
        }
    }

    fn slo(id: &str) -> Arc<SloInfo> {
        Arc::new(SloInfo {
            id: id.into(),
            service: "checkout".into(),
            name: id.trim_start_matches("checkout-").into(),
            objective: burnwatch_engine::Objective::from_percent(99.9),
            period: Duration::from_secs(30 * 86_400),
            labels: vec![
                ("team".into(), "payments".into()),
                ("route".into(), "user-label".into()),
            ],
            description: None,
            alert_name: "SLOErrorBudgetBurn".into(),
            annotations: Vec::new(),
            alert_extras: Default::default(),
        })
    }

    /// Publishes one instance of an SLO of service `service` (other modules' tests).
    pub(crate) fn publish_test_instance(board: &Board, service: &str) {
        let mut info = (*slo(&format!("{service}-availability"))).clone();
        info.service = service.into();
        board.publish(entry(Arc::new(info), 100.0, DataState::Ok));
    }

    fn entry(slo: Arc<SloInfo>, five_minute_total: f64, state: DataState) -> Entry {
        Entry {
            info: Arc::new(InstanceInfo {
                slo,
                group: vec![("route".into(), "/pay".into())],
            }),
            eval: Evaluation {
                at: 1_700_000_000_000,
                objective: 0.999,
                windows: vec![
                    figures(300, 0.0, five_minute_total),
                    figures(3600, 2.0, 1000.0),
                ],
                period: PeriodFigures {
                    window: figures(30 * 86_400, 10.0, 100_000.0),
                    sli: Some(0.9999),
                    budget_remaining: Some(0.9),
                    exhaustion_at_1h_burn: Some(Duration::from_secs(3600)),
                    exhaustion_at_6h_burn: None,
                    covered: Duration::from_secs(86_400),
                    excluded: Duration::ZERO,
                },
                data_state: state,
            },
            alerts: burnwatch_engine::Alerts::new(),
        }
    }

    use burnwatch_engine::Evaluation;

    fn scrape(board: Arc<Board>) -> String {
        scrape_with(board, true)
    }

    fn scrape_with(board: Arc<Board>, alerts_series: bool) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(
            SloCollector::new(board).with_alerts_series(alerts_series),
        ));
        let mut body = String::new();
        prometheus_client::encoding::text::encode(&mut body, &registry).unwrap();
        body
    }

    fn lines<'a>(body: &'a str, prefix: &str) -> Vec<&'a str> {
        body.lines().filter(|l| l.starts_with(prefix)).collect()
    }

    #[test]
    fn sloth_series_carry_sloth_user_and_group_labels() {
        let board = Arc::new(Board::new());
        board.publish(entry(slo("checkout-availability"), 100.0, DataState::Ok));
        let body = scrape(board);
        let one_hour = lines(&body, "slo:sli_error:ratio_rate1h{");
        assert_eq!(one_hour.len(), 1, "{body}");
        let line = one_hour[0];
        for label in [
            r#"sloth_id="checkout-availability""#,
            r#"sloth_service="checkout""#,
            r#"sloth_slo="availability""#,
            r#"team="payments""#,
            r#"sloth_window="1h""#,
        ] {
            assert!(line.contains(label), "{label} missing in {line}");
        }
        // The group label wins over the user label of the same name, and appears once.
        assert!(
            line.contains(r#"route="/pay""#) && !line.contains("user-label"),
            "{line}"
        );
        assert!(line.ends_with(" 0.002"), "{line}");
        assert_eq!(lines(&body, "slo:sli_error:ratio_rate30d{").len(), 1);
        assert!(lines(&body, "slo:period_error_budget_remaining:ratio{")[0].ends_with(" 0.9"));
        assert!(lines(&body, "slo:time_period:days{")[0].ends_with(" 30.0"));
        // As Sloth's rules record them: a burn rate keeps the sloth_window of the ratio it
        // divides, a constant has none.
        for (series, window) in [
            ("slo:current_burn_rate:ratio{", Some("5m")),
            ("slo:period_burn_rate:ratio{", Some("30d")),
            ("slo:period_error_budget_remaining:ratio{", Some("30d")),
            ("slo:objective:ratio{", None),
            ("slo:time_period:days{", None),
        ] {
            let line = lines(&body, series)[0];
            let found = line
                .split("sloth_window=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next());
            assert_eq!(found, window, "{line}");
        }
        assert!(lines(&body, "sloth_slo_info{")[0].contains(r#"sloth_objective="99.9""#));
        assert!(body.ends_with("# EOF\n"));
    }

    #[test]
    fn a_calendar_month_shows_its_own_length_under_the_usual_series_names() {
        use burnwatch_engine::{Calendar, CalendarUnit, Observation, SloState, Tz};
        const M: i64 = 60_000;
        // 1 March 2027 00:00 in New York (EST): 2027-03-01T05:00Z, counted from
        // 2026-01-01T00:00Z (1,767,225,600 s) plus 424 days and 5 hours.
        let march = (1_767_225_600 + 424 * 86_400 + 5 * 3600) * 1000;
        let calendar = Calendar::new(CalendarUnit::Month, Tz::America__New_York);
        let mut state = SloState::counted(0.999, calendar, &burnwatch_engine::DEFAULT_WINDOWS);
        let scrape_at = |state: &mut SloState, at: i64| {
            let mut e = entry(slo("checkout-availability"), 100.0, DataState::Ok);
            e.eval = state.evaluate(at);
            let board = Arc::new(Board::new());
            board.publish(e);
            scrape(board)
        };
        state.observe(Observation::Events {
            start: march - 10 * M,
            end: march - 9 * M,
            counts: Counts {
                errors: 1.0,
                total: 1000.0,
            },
        });
        let february = scrape_at(&mut state, march - 5 * M);
        assert!(
            lines(&february, "slo:time_period:days{")[0].ends_with(" 28.0"),
            "{february}"
        );
        // The period's error ratio keeps Sloth's 30d name (the SLO's usual length).
        assert!(
            lines(&february, "slo:sli_error:ratio_rate30d{")[0].ends_with(" 0.001"),
            "{february}"
        );
        state.observe(Observation::Events {
            start: march,
            end: march + M,
            counts: Counts {
                errors: 0.0,
                total: 1000.0,
            },
        });
        let body = scrape_at(&mut state, march + M);
        // March loses an hour to DST: 743 hours, 30 23/24 days.
        let days: f64 = lines(&body, "slo:time_period:days{")[0]
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!((days - 743.0 / 24.0).abs() < 1e-12, "{body}");
        assert!(
            lines(&body, "slo:period_error_budget_remaining:ratio{")[0].ends_with(" 1.0"),
            "{body}"
        );
        assert!(lines(&body, "slo:sli_error:ratio_rate30d{")[0].ends_with(" 0.0"));
    }

    #[test]
    fn objective_and_budget_read_as_the_decimals_configured() {
        let board = Arc::new(Board::new());
        board.publish(entry(slo("checkout-availability"), 100.0, DataState::Ok));
        let body = scrape(board);
        // 1 - 0.999 in floating point is 0.0010000000000000009.
        assert!(
            lines(&body, "slo:error_budget:ratio{")[0].ends_with(" 0.001"),
            "{body}"
        );
        assert!(
            lines(&body, "slo:objective:ratio{")[0].ends_with(" 0.999"),
            "{body}"
        );
    }

    #[test]
    fn windows_without_events_have_no_sample_and_the_state_says_why() {
        let board = Arc::new(Board::new());
        board.publish(entry(slo("checkout-quiet"), 0.0, DataState::NoTraffic));
        board.publish_slo(SloStatus {
            info: slo("checkout-missing"),
            data_state: DataState::NoData,
            instances: 0,
            group_limit_reached: false,
        });
        let body = scrape(board);
        assert!(
            lines(&body, "slo:sli_error:ratio_rate5m{").is_empty(),
            "zero traffic must not be a sample:\n{body}"
        );
        assert!(lines(&body, "slo:current_burn_rate:ratio{").is_empty());
        assert!(!body.contains("NaN"), "{body}");
        let state = |id: &str, state: &str| {
            body.lines()
                .find(|l| {
                    l.starts_with("burnwatch_slo_data_state{")
                        && l.contains(&format!(r#"sloth_id="{id}""#))
                        && l.contains(&format!(r#"state="{state}""#))
                })
                .map(|l| l.rsplit(' ').next().unwrap().to_string())
        };
        assert_eq!(
            state("checkout-quiet", "no_traffic").as_deref(),
            Some("1.0")
        );
        assert_eq!(state("checkout-quiet", "ok").as_deref(), Some("0.0"));
        assert_eq!(state("checkout-missing", "no_data").as_deref(), Some("1.0"));
        // The longer window with events still has its sample.
        assert_eq!(lines(&body, "slo:sli_error:ratio_rate1h{").len(), 1);
    }

    #[test]
    fn removed_instances_disappear_from_the_next_scrape() {
        let board = Arc::new(Board::new());
        let gone = entry(slo("checkout-gone"), 10.0, DataState::Ok);
        board.publish(gone.clone());
        assert!(scrape(Arc::clone(&board)).contains("checkout-gone"));
        board.remove(&gone.info);
        assert!(!scrape(board).contains("checkout-gone"));
    }

    #[test]
    fn the_excluded_gauge_is_one_inside_a_span_and_zero_outside() {
        use burnwatch_engine::Origin;
        const MINUTE: i64 = 60_000;
        let at = 1_700_000_000_000; // the entry's evaluation time
        let span = |start: i64, end: i64, exclude: bool, silence: bool| ExclusionSpan {
            start,
            end,
            origin: Origin::Maintenance {
                name: "db-upgrade".into(),
            },
            reason: "Postgres 17".into(),
            exclude,
            silence,
        };
        let value = |body: &str, name: &str| {
            let found = lines(body, &format!("{name}{{"));
            assert_eq!(found.len(), 1, "{body}");
            assert!(found[0].contains(r#"sloth_id="checkout-availability""#));
            found[0].rsplit(' ').next().unwrap().to_string()
        };
        let board = Arc::new(Board::new());
        board.publish(entry(slo("checkout-availability"), 100.0, DataState::Ok));
        let id = "checkout-availability";

        // No span at all: both 0.
        let body = scrape(Arc::clone(&board));
        assert_eq!(value(&body, "burnwatch_slo_excluded"), "0.0");
        assert_eq!(value(&body, "burnwatch_slo_silenced"), "0.0");

        // Inside an excluding span (its end is inclusive), and a silence that ended at `at`
        // minus a minute: excluded 1, silenced 0.
        board.publish_spans(
            id,
            &[
                span(at - 30 * MINUTE, at - MINUTE, false, true),
                span(at - 10 * MINUTE, at, true, false),
            ],
        );
        let body = scrape(Arc::clone(&board));
        assert_eq!(value(&body, "burnwatch_slo_excluded"), "1.0");
        assert_eq!(value(&body, "burnwatch_slo_silenced"), "0.0");

        // A span that starts exactly at `at` has not begun ((start, end]); one in the past is over.
        board.publish_spans(
            id,
            &[
                span(at - 60 * MINUTE, at - 50 * MINUTE, true, true),
                span(at, at + 20 * MINUTE, true, true),
            ],
        );
        let body = scrape(Arc::clone(&board));
        assert_eq!(value(&body, "burnwatch_slo_excluded"), "0.0");
        assert_eq!(value(&body, "burnwatch_slo_silenced"), "0.0");

        // Inside one that both excludes and silences.
        board.publish_spans(id, &[span(at - MINUTE, at + MINUTE, true, true)]);
        let body = scrape(board);
        assert_eq!(value(&body, "burnwatch_slo_excluded"), "1.0");
        assert_eq!(value(&body, "burnwatch_slo_silenced"), "1.0");
    }

    /// A page firing: 5m and 1h both burn at 100 (10% errors at 99.9%), above 14.4.
    fn paging_entry() -> Entry {
        let mut entry = entry(slo("checkout-availability"), 1000.0, DataState::Ok);
        entry.eval.windows = vec![figures(300, 100.0, 1000.0), figures(3600, 600.0, 6000.0)];
        let policy = burnwatch_engine::AlertPolicy::sre_workbook(Duration::from_secs(30 * 86_400));
        let transitions = entry.alerts.eval(&policy, &entry.eval);
        assert_eq!(transitions.len(), 1, "{transitions:?}");
        entry
    }

    #[test]
    fn alert_series_show_the_firing_page_and_alerts_is_switchable() {
        let board = Arc::new(Board::new());
        board.publish(paging_entry());
        let body = scrape(Arc::clone(&board));
        let active = lines(&body, "burnwatch_alert_active{");
        // One series per alert kind of the instance; only the page is 1.
        assert_eq!(active.len(), 4, "{active:#?}");
        let page: Vec<&&str> = active
            .iter()
            .filter(|l| l.contains(r#"sloth_severity="page""#))
            .collect();
        assert_eq!(page.len(), 1);
        assert!(page[0].contains(r#"alertname="SLOErrorBudgetBurn""#));
        assert!(page[0].contains(r#"sloth_id="checkout-availability""#));
        assert!(page[0].ends_with(" 1.0"), "{}", page[0]);
        assert!(
            active
                .iter()
                .filter(|l| !l.contains(r#"sloth_severity="page""#))
                .all(|l| l.ends_with(" 0.0")),
            "{active:#?}"
        );
        let alerts = lines(&body, "ALERTS{");
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        for label in [
            r#"alertname="SLOErrorBudgetBurn""#,
            r#"alertstate="firing""#,
            r#"sloth_severity="page""#,
            r#"sloth_service="checkout""#,
            r#"sloth_slo="availability""#,
            r#"team="payments""#,
        ] {
            assert!(alerts[0].contains(label), "{label} missing: {}", alerts[0]);
        }
        let off = scrape_with(board, false);
        assert!(lines(&off, "ALERTS").is_empty());
        assert_eq!(lines(&off, "burnwatch_alert_active{").len(), 4);
    }
    #[test]
    fn alerts_carry_the_labels_of_their_severity_over_the_slos() {
        let mut entry = paging_entry();
        let mut info = (*entry.info).clone();
        let mut slo = (*info.slo).clone();
        slo.alert_extras.page_labels = vec![
            ("severity".into(), "critical".into()),
            ("team".into(), "oncall".into()),
        ];
        slo.alert_extras.ticket_labels = vec![("severity".into(), "warning".into())];
        info.slo = Arc::new(slo);
        entry.info = Arc::new(info);
        let board = Arc::new(Board::new());
        board.publish(entry);
        let body = scrape(board);
        let alerts = lines(&body, "ALERTS{");
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        assert!(
            alerts[0].contains(r#"severity="critical""#),
            "{}",
            alerts[0]
        );
        // The rule's label replaces the series' one of the same name, as in Prometheus.
        assert!(alerts[0].contains(r#"team="oncall""#), "{}", alerts[0]);
        assert!(!alerts[0].contains(r#"team="payments""#), "{}", alerts[0]);
        assert!(!alerts[0].contains("warning"), "{}", alerts[0]);
        assert!(alerts[0].contains(r#"route="/pay""#), "{}", alerts[0]);
    }
}
