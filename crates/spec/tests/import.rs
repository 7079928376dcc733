//! `burnwatch import`'s mappings, checked through the TOML they print: that text must validate
//! as a burnwatch configuration and carry Sloth's ids, labels and alerting; problems point at
//! the spec's `file:line:col`. Expected values are read off the specs by hand.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use burnwatch_spec::import::{Format, import, render};
use burnwatch_spec::{ErrorKind, Sli};

const BACKEND: &str = "[backends.main]\ntype = \"prometheus\"\nurl = \"http://127.0.0.1:9090\"\n\n";

fn sources(files: &[(&str, &str)]) -> Vec<(PathBuf, String)> {
    files
        .iter()
        .map(|(name, text)| (PathBuf::from(name), text.to_string()))
        .collect()
}

/// Imports `files`, which must map without problems, and validates the printed TOML.
fn config(files: &[(&str, &str)]) -> (String, burnwatch_spec::Config) {
    let imported = import(&sources(files), None);
    assert!(imported.problems.is_empty(), "{:?}", imported.problems);
    let text = render(&imported.slos).text;
    let config = common::parse(&format!("{BACKEND}{text}"))
        .unwrap_or_else(|errors| panic!("{errors}\n---\n{text}"));
    (text, config)
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const SLOTH: &str = r##"version: "prometheus/v1"
service: "myservice"
labels:
  owner: "myteam"
  tier: "2"
slos:
  - name: "requests-availability"
    objective: 99.9
    description: "Common SLO based on availability for HTTP request responses."
    labels:
      tier: "1"
    sli:
      events:
        error_query: sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))
    alerting:
      name: MyServiceHighErrorRate
      labels:
        category: "availability"
      annotations:
        summary: "High error rate on 'myservice' requests responses"
      page_alert:
        labels:
          severity: pageteam
          routing_key: myteam
      ticket_alert:
        labels:
          severity: "slack"
          slack_channel: "#alerts-myteam"
  - name: "latency"
    objective: 99
    sli:
      raw:
        error_ratio_query: |
          1 - (sum(rate(ok_total[{{.window}}])) / sum(rate(all_total[{{.window}}])))
    alerting:
      name: MyServiceLatency
      page_alert:
        disable: true
"##;

#[test]
fn a_sloth_spec_keeps_sloths_ids_labels_and_alert_labels() {
    let (text, config) = config(&[("specs/myservice.yaml", SLOTH)]);
    assert!(text.starts_with("# specs/myservice.yaml:7:5 (Sloth prometheus/v1)\n[[slo]]\n"));
    let [availability, latency] = &config.slos[..] else {
        panic!("two SLOs expected: {:?}", config.slos)
    };
    assert_eq!(availability.id, "myservice-requests-availability");
    assert_eq!(availability.service, "myservice");
    assert_eq!(availability.name, "requests-availability");
    assert_eq!(availability.objective.percent(), 99.9);
    // The SLO's labels over the spec's, as Sloth merges them.
    assert_eq!(
        availability.labels,
        map(&[("owner", "myteam"), ("tier", "1")])
    );
    let Sli::Events { error_query, .. } = &availability.sli else {
        panic!("events SLI expected: {:?}", availability.sli)
    };
    assert_eq!(
        error_query.render("5m"),
        r#"sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[5m]))"#
    );
    let alerting = &availability.alerting;
    assert_eq!(alerting.name, "MyServiceHighErrorRate");
    assert_eq!(alerting.extras.labels, map(&[("category", "availability")]));
    assert_eq!(
        alerting.extras.page_labels,
        map(&[("severity", "pageteam"), ("routing_key", "myteam")])
    );
    assert_eq!(
        alerting.extras.ticket_labels,
        map(&[("severity", "slack"), ("slack_channel", "#alerts-myteam")])
    );
    assert_eq!(
        alerting.annotations["summary"],
        "High error rate on 'myservice' requests responses"
    );
    assert!(alerting.page && alerting.ticket);

    assert_eq!(latency.id, "myservice-latency");
    assert_eq!(latency.labels, map(&[("owner", "myteam"), ("tier", "2")]));
    assert!(!latency.alerting.page && latency.alerting.ticket);
    let Sli::Raw { error_ratio_query } = &latency.sli else {
        panic!("raw SLI expected: {:?}", latency.sli)
    };
    assert!(error_ratio_query.render("1h").contains("ok_total[1h]"));
}

#[test]
fn a_prometheus_service_level_reads_the_camel_case_spelling() {
    let resource = r#"apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata:
  name: sloth-slo-my-service
  namespace: monitoring
spec:
  service: "myservice"
  labels:
    owner: "myteam"
  slos:
    - name: "requests-availability"
      objective: 99.95
      sli:
        events:
          errorQuery: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
          totalQuery: sum(rate(http_requests_total[{{.window}}]))
      alerting:
        name: MyServiceHighErrorRate
        pageAlert:
          labels:
            severity: critical
        ticketAlert:
          disable: true
"#;
    let (_, config) = config(&[("k8s.yaml", resource)]);
    let slo = &config.slos[0];
    assert_eq!(slo.id, "myservice-requests-availability");
    assert_eq!(slo.objective.percent(), 99.95);
    assert_eq!(
        slo.alerting.extras.page_labels,
        map(&[("severity", "critical")])
    );
    assert!(slo.alerting.page && !slo.alerting.ticket);
}

#[test]
fn alert_windows_set_the_period_and_the_pairs_of_every_sloth_slo() {
    let windows = r#"apiVersion: "sloth.slok.dev/v1"
kind: "AlertWindows"
spec:
  sloPeriod: 28d
  page:
    quick: { errorBudgetPercent: 8, shortWindow: 5m, longWindow: 1h }
    slow: { errorBudgetPercent: 12.5, shortWindow: 30m, longWindow: 6h }
  ticket:
    quick: { errorBudgetPercent: 20, shortWindow: 2h, longWindow: 1d }
    slow: { errorBudgetPercent: 42, shortWindow: 6h, longWindow: 3d }
"#;
    // The windows file comes after the spec: it applies all the same.
    let (_, config) = config(&[("a.yaml", SLOTH), ("windows.yaml", windows)]);
    let slo = &config.slos[0];
    assert_eq!(slo.period, std::time::Duration::from_secs(28 * 86_400));
    let pairs = slo.alerting.windows.as_ref().expect("windows");
    assert_eq!(pairs.len(), 4);
    assert_eq!(
        pairs[1].threshold,
        burnwatch_spec::Threshold::BudgetShare(12.5)
    );
    assert_eq!(pairs[3].long, std::time::Duration::from_secs(3 * 86_400));
    // Sloth's factor: 12.5% of a 28-day budget in 6 hours.
    let policy = burnwatch_spec::alert_policy(slo);
    assert!((policy.pairs[1].factor - 0.125 * 28.0 * 24.0 / 6.0).abs() < 1e-9);
}

#[test]
fn plugins_and_unknown_documents_are_reported_at_their_place() {
    let spec = r#"version: "prometheus/v1"
service: "svc"
slos:
  - name: "availability"
    objective: 99.9
    sli:
      plugin:
        id: "sloth-common/kubernetes/apiserver/availability"
  - name: "typo"
    objectve: 99
    sli:
      events: { error_query: "a", total_query: "b" }
---
apiVersion: v1
kind: ConfigMap
"#;
    let imported = import(&sources(&[("s.yaml", spec)]), None);
    let problems: Vec<(usize, usize, ErrorKind)> = imported
        .problems
        .iter()
        .map(|e| (e.location().line, e.location().col, e.kind()))
        .collect();
    assert_eq!(
        problems,
        [
            (8, 9, ErrorKind::Unsupported),
            (9, 5, ErrorKind::Missing),
            (10, 5, ErrorKind::UnknownKey),
            (14, 1, ErrorKind::InvalidValue),
        ],
        "{:?}",
        imported.problems
    );
    let plugin = &imported.problems[0];
    assert!(
        plugin
            .message()
            .contains("sloth-common/kubernetes/apiserver/availability")
    );
    assert!(plugin.message().contains("sli.events"));
    assert!(
        imported.problems[2]
            .message()
            .contains("did you mean `objective`?")
    );
    assert!(imported.slos.is_empty(), "{:?}", imported.slos);
}

#[test]
fn a_forced_format_reports_documents_of_another() {
    let imported = import(&sources(&[("s.yaml", SLOTH)]), Some(Format::Pyrra));
    assert_eq!(imported.problems.len(), 1);
    assert!(imported.problems[0].message().contains("--format pyrra"));
    assert!(imported.slos.is_empty());
}

/// A configuration directory: `burnwatch.toml` with `config`, and `specs/<name>` files.
fn config_dir(config: &str, specs: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("specs")).unwrap();
    std::fs::write(dir.path().join("burnwatch.toml"), config).unwrap();
    for (name, text) in specs {
        std::fs::write(dir.path().join("specs").join(name), text).unwrap();
    }
    dir
}

#[test]
fn specs_load_with_the_configuration_under_its_defaults() {
    let config = format!(
        "specs = [\"specs/*.yaml\"]\n\n{BACKEND}[defaults]\ninterval = \"1m\"\n\n{}",
        common::one_slo("").replace(BACKEND, "").trim_start()
    );
    let dir = config_dir(
        &config,
        &[("myservice.yaml", SLOTH), ("notes.txt", "not yaml: [")],
    );
    let loaded = burnwatch_spec::load(&dir.path().join("burnwatch.toml"))
        .unwrap_or_else(|errors| panic!("{errors}"));
    let ids: Vec<&str> = loaded.slos.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "svc-a",
            "myservice-requests-availability",
            "myservice-latency"
        ]
    );
    assert_eq!(loaded.slos[1].interval, std::time::Duration::from_secs(60));
    assert_eq!(loaded.slos[1].backend, "main");
    assert!(
        loaded.slos[1].location.contains("myservice.yaml:7:5"),
        "{}",
        loaded.slos[1].location
    );
}

#[test]
fn problems_in_specs_point_into_them_and_an_id_clash_names_both_places() {
    let clash = "[[slo]]\nservice = \"myservice\"\nname = \"latency\"\n";
    let config = format!(
        "specs = [\"specs/*.yaml\", \"specs/missing.yaml\"]\n\n{BACKEND}\n{clash}{}",
        common::RATIO
    );
    let bad = SLOTH.replace("objective: 99.9\n", "objective: 150\n");
    let dir = config_dir(&config, &[("myservice.yaml", &bad)]);
    let errors = burnwatch_spec::load(&dir.path().join("burnwatch.toml")).unwrap_err();
    let spec = dir.path().join("specs/myservice.yaml");
    let objective = common::find(&errors, "objective 150");
    assert_eq!(objective.location().file, spec);
    assert_eq!(
        (objective.location().line, objective.location().col),
        (8, 16)
    );
    let clash = common::find(&errors, "`myservice-latency`");
    assert_eq!(clash.kind(), ErrorKind::Duplicate);
    // The spec's SLO comes second: it is reported, naming the [[slo]] in the TOML.
    assert_eq!(
        (clash.location().file.clone(), clash.location().line),
        (spec, 30)
    );
    assert!(
        clash.message().contains("burnwatch.toml:8:1"),
        "{}",
        clash.message()
    );
    let missing = common::find(&errors, "missing.yaml");
    assert_eq!(missing.location().line, 1);
    assert_eq!(errors.len(), 3, "{errors}");
}

const OPENSLO_SLO: &str = r#"apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
spec:
  service: checkout
  description: Checkout requests that succeed.
  indicatorRef: checkout-ratio
  timeWindow:
    - duration: 1M
      isRolling: false
      calendar:
        startTime: "2024-01-01 00:00:00"
        timeZone: Europe/Berlin
  budgetingMethod: RatioTimeslices
  objectives:
    - displayName: good
      target: 0.995
      timeSliceWindow: 5m
  alertPolicies:
    - alertPolicyRef: fast-burn
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: latency
spec:
  service: checkout
  indicator:
    metadata:
      name: p99
    spec:
      thresholdMetric:
        metricSource:
          metricSourceRef: thanos-eu
          spec:
            query: histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))
  timeWindow:
    - duration: 4w
      isRolling: true
  budgetingMethod: Timeslices
  objectives:
    - op: lte
      value: 0.3
      target: 0.99
      timeSliceTarget: 0.95
      timeSliceWindow: 1m
    - op: lte
      value: 1
      target: 0.999
      timeSliceTarget: 0.95
      timeSliceWindow: 1m
"#;

const OPENSLO_PARTS: &str = r#"apiVersion: openslo/v1
kind: Service
metadata:
  name: checkout
spec: {}
---
apiVersion: openslo/v1
kind: DataSource
metadata:
  name: thanos-eu
spec:
  type: Thanos
  connectionDetails: {}
---
apiVersion: openslo/v1
kind: SLI
metadata:
  name: checkout-ratio
spec:
  ratioMetric:
    counter: true
    good:
      metricSource:
        type: Prometheus
        spec:
          query: http_requests_total{code!~"5.."}
    total:
      metricSource:
        type: Prometheus
        spec:
          query: http_requests_total
---
apiVersion: openslo/v1
kind: AlertPolicy
metadata:
  name: fast-burn
spec:
  conditions:
    - conditionRef: burn-1h
  notificationTargets:
    - targetRef: oncall
---
apiVersion: openslo/v1
kind: AlertNotificationTarget
metadata:
  name: oncall
spec:
  target: pagerduty
---
apiVersion: openslo/v1
kind: AlertCondition
metadata:
  name: burn-1h
spec:
  severity: page
  condition:
    kind: burnrate
    op: gte
    threshold: 14.4
    lookbackWindow: 1h
    alertAfter: 2m
"#;

#[test]
fn openslo_v1_documents_resolve_references_across_files() {
    let backends = "[backends.thanos-eu]\ntype = \"prometheus\"\nurl = \"http://127.0.0.1:10902\"\n\n\
                    [receivers.oncall]\ntype = \"alertmanager\"\nurl = \"http://127.0.0.1:9093\"\n\n";
    let imported = import(
        &sources(&[("slo.yaml", OPENSLO_SLO), ("parts.yaml", OPENSLO_PARTS)]),
        None,
    );
    assert!(imported.problems.is_empty(), "{:?}", imported.problems);
    let text = render(&imported.slos).text;
    let config = common::parse(&format!(
        "{BACKEND}{backends}[defaults]\nbackend = \"main\"\n\n{text}"
    ))
    .unwrap_or_else(|errors| panic!("{errors}\n---\n{text}"));
    let ids: Vec<&str> = config.slos.iter().map(|s| s.id.as_str()).collect();
    // One objective: the SLO's name; several: `-<index>`, as Sloth names them.
    assert_eq!(
        ids,
        [
            "checkout-checkout-availability",
            "checkout-latency-0",
            "checkout-latency-1"
        ]
    );
    let ratio = &config.slos[0];
    assert_eq!(ratio.objective.percent(), 99.5);
    assert!(
        matches!(
            ratio.sli,
            Sli::Ratio {
                good: Some(_),
                errors: None,
                ..
            }
        ),
        "{:?}",
        ratio.sli
    );
    assert!(ratio.calendar.is_some());
    assert!(ratio.slicing.is_some());
    let pairs = ratio.alerting.windows.as_ref().expect("windows");
    assert_eq!(pairs.len(), 1);
    assert_eq!(pairs[0].severity, burnwatch_spec::Severity::Page);
    assert_eq!(pairs[0].long, std::time::Duration::from_secs(3600));
    assert_eq!(pairs[0].short, std::time::Duration::from_secs(300));
    assert_eq!(pairs[0].threshold, burnwatch_spec::Threshold::Factor(14.4));
    assert_eq!(ratio.alerting.hold_for, std::time::Duration::from_secs(120));
    // The policy's notification target is the receiver of that name, by a route on the id.
    assert_eq!(config.routes.len(), 1);
    assert_eq!(config.routes[0].receivers, ["oncall"]);
    assert_eq!(
        config.routes[0].matchers,
        map(&[("sloth_id", "checkout-checkout-availability")])
    );

    let latency = &config.slos[2];
    assert_eq!(latency.backend, "thanos-eu");
    assert_eq!(latency.period, std::time::Duration::from_secs(28 * 86_400));
    assert_eq!(latency.objective.percent(), 99.9);
    let Sli::Threshold { op, value, .. } = &latency.sli else {
        panic!("threshold expected: {:?}", latency.sli)
    };
    assert_eq!(*value, 1.0);
    assert_eq!(format!("{op:?}"), "Lte");
}

#[test]
fn openslo_sources_that_are_not_prometheus_and_missing_references_are_reported() {
    let parts = OPENSLO_PARTS.replace("type: Thanos", "type: Datadog");
    let imported = import(
        &sources(&[("slo.yaml", OPENSLO_SLO), ("parts.yaml", &parts)]),
        None,
    );
    let messages: Vec<String> = imported.problems.iter().map(ToString::to_string).collect();
    // Both objectives of `latency` read the one source: reported once, at it.
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert!(
        messages[0].starts_with("slo.yaml:35:11: metric source type `Datadog`"),
        "{messages:#?}"
    );
    let alone = import(&sources(&[("slo.yaml", OPENSLO_SLO)]), None);
    let alone: Vec<String> = alone.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        alone,
        [
            "slo.yaml:8:17: `indicatorRef: checkout-ratio` names no `kind: SLI` among the imported files; import the file that defines it too",
            "slo.yaml:21:7: `alertPolicyRef: fast-burn` names no `kind: AlertPolicy` among the imported files",
            "slo.yaml:35:28: `metricSourceRef: thanos-eu` names no `kind: DataSource` among the imported files",
        ]
    );
}

#[test]
fn pyrra_keeps_its_burn_rate_pairs_factors_and_severity_labels() {
    let spec = r#"apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata:
  name: api-errors
  namespace: monitoring
spec:
  target: '99.5'
  window: 28d
  indicator:
    ratio:
      errors:
        metric: http_requests_total{job="api",code=~"5.."}
      total:
        metric: http_requests_total{job="api"}
      grouping: [route]
  alerting:
    name: APIErrorBudgetBurn
    absent: false
"#;
    let (_, config) = config(&[("pyrra.yaml", spec)]);
    let slo = &config.slos[0];
    assert_eq!(slo.id, "monitoring-api-errors");
    assert_eq!(slo.objective.percent(), 99.5);
    assert_eq!(slo.group_by, ["route"]);
    assert_eq!(slo.alerting.name, "APIErrorBudgetBurn");
    assert_eq!(slo.alerting.no_data_for, None);
    // Pyrra's `Windows(28d)`: (short, long, factor) and the fast pair's hold.
    let minutes = |m: u64| std::time::Duration::from_secs(m * 60);
    let pairs: Vec<_> = slo
        .alerting
        .windows
        .as_ref()
        .unwrap()
        .iter()
        .map(|w| (w.severity, w.short, w.long, w.threshold))
        .collect();
    use burnwatch_spec::{Severity::*, Threshold::Factor};
    assert_eq!(
        pairs,
        [
            (Page, minutes(5), minutes(60), Factor(14.0)),
            (Page, minutes(30), minutes(360), Factor(7.0)),
            (Ticket, minutes(120), minutes(1440), Factor(2.0)),
            (Ticket, minutes(360), minutes(4 * 1440), Factor(1.0)),
        ]
    );
    assert_eq!(slo.alerting.hold_for, minutes(2));
    assert_eq!(
        slo.alerting.extras.page_labels,
        map(&[("severity", "critical")])
    );
    assert_eq!(
        slo.alerting.extras.ticket_labels,
        map(&[("severity", "warning")])
    );
    assert_eq!(slo.alerting.extras.labels, map(&[("slo", "api-errors")]));
}
