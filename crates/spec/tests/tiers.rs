//! `[tiers.<name>]` and `tier = "..."`: the built-in tiers, overrides key by key, SLO > tier >
//! defaults, latency `le` from the tier, and every error at its `line:col`.

mod common;

use burnwatch_spec::ErrorKind::*;
use common::{BACKEND, errors, find, parse, positions};

const RATIO_SLI: &str = r#"[slo.sli.ratio]
errors = 'http_requests_total{code=~"5.."}'
total = 'http_requests_total'
"#;

/// `BACKEND`, `extra` before the SLO, then one SLO whose lines after `name` are `slo_lines`.
fn config(extra: &str, slo_lines: &str, sli: &str) -> String {
    format!("{BACKEND}{extra}\n[[slo]]\nservice = \"svc\"\nname = \"a\"\n{slo_lines}{sli}")
}

#[test]
fn built_in_tiers_give_their_objectives() {
    for (tier, percent) in [
        ("critical", 99.95),
        ("essential", 99.9),
        ("standard", 99.5),
        ("best_effort", 99.0),
    ] {
        let text = config("", &format!("tier = \"{tier}\"\n"), RATIO_SLI);
        let slo = &parse(&text).unwrap_or_else(|e| panic!("{e}")).slos[0];
        assert_eq!(slo.objective.percent(), percent, "{tier}");
    }
}

#[test]
fn the_slo_objective_wins_over_its_tier() {
    let text = config("", "tier = \"critical\"\nobjective = 99.5\n", RATIO_SLI);
    assert_eq!(parse(&text).unwrap().slos[0].objective.percent(), 99.5);
}

#[test]
fn a_latency_sli_without_le_takes_the_tier_threshold() {
    let latency = "[slo.sli.latency]\nhistogram = 'http_request_duration_seconds'\n";
    let le = |text: &str| match &parse(text).unwrap_or_else(|e| panic!("{e}")).slos[0].sli {
        burnwatch_spec::Sli::Latency { le, .. } => le.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(le(&config("", "tier = \"critical\"\n", latency)), "0.1");
    assert_eq!(le(&config("", "tier = \"standard\"\n", latency)), "1");
    let own = format!("{latency}le = \"0.25\"\n");
    assert_eq!(le(&config("", "tier = \"critical\"\n", &own)), "0.25");
    // A file's tier overrides the built-in key by key.
    let faster = "\n[tiers.critical]\nle = \"0.05\"\n";
    let text = config(faster, "tier = \"critical\"\n", latency);
    assert_eq!(le(&text), "0.05");
    assert_eq!(parse(&text).unwrap().slos[0].objective.percent(), 99.95);
}

#[test]
fn defined_tiers_override_built_ins_and_add_new_ones() {
    let tiers = "\n[tiers.critical]\nobjective = 99.99\n\n[tiers.internal]\nobjective = 98\n";
    let text = format!(
        "{}\n[[slo]]\nservice = \"svc\"\nname = \"b\"\ntier = \"internal\"\n{RATIO_SLI}",
        config(tiers, "tier = \"critical\"\n", RATIO_SLI)
    );
    let slos = parse(&text).unwrap_or_else(|e| panic!("{e}")).slos;
    assert_eq!(slos[0].objective.percent(), 99.99);
    assert_eq!(slos[1].objective.percent(), 98.0);
}

#[test]
fn alerting_resolves_slo_over_tier_over_defaults() {
    let extra = r#"
[defaults.alerting]
for = "10m"
min_events = 5
labels = { team = "sre", source = "defaults" }

[tiers.critical.alerting]
for = "2m"
ticket = false
labels = { source = "tier" }
"#;
    let own = "tier = \"critical\"\n[slo.alerting]\nticket = true\n";
    let slo = &parse(&config(extra, own, RATIO_SLI))
        .unwrap_or_else(|e| panic!("{e}"))
        .slos[0];
    assert_eq!(slo.alerting.hold_for.as_secs(), 120); // the tier's over the defaults'
    assert_eq!(slo.alerting.min_events, 5.0); // the defaults', the tier leaves it out
    assert!(slo.alerting.ticket); // the SLO's over the tier's
    let labels: Vec<_> = slo.alerting.extras.labels.iter().collect();
    assert_eq!(
        labels,
        [
            (&"source".to_string(), &"tier".to_string()),
            (&"team".to_string(), &"sre".to_string())
        ]
    );
}

#[test]
fn an_unknown_tier_is_reported_at_its_value_with_the_known_ones() {
    // [[slo]] is line 5, `tier` line 8.
    let text = config("", "tier = \"critcal\"\n", RATIO_SLI);
    let errors = errors(&text);
    assert_eq!(positions(&errors), vec![(8, 8, InvalidValue)]);
    let message = find(&errors, "tier").to_string();
    assert_eq!(
        message,
        "burnwatch.toml:8:8: tier \"critcal\" is not defined; did you mean \"critical\"? known \
         tiers: best_effort, critical, essential, standard (add [tiers.critcal] to define it)"
    );
}

#[test]
fn without_objective_or_tier_objective_the_slo_is_refused() {
    let text = config(
        "\n[tiers.internal]\nle = \"0.3\"\n",
        "tier = \"internal\"\n",
        RATIO_SLI,
    );
    let errors = errors(&text);
    let error = find(&errors, "needs `objective`");
    assert!(
        error.to_string().contains("or a `tier` that sets one"),
        "{error}"
    );
    assert_eq!(error.kind(), Missing);
}

#[test]
fn tier_problems_are_reported_at_their_place() {
    // Line 5 [tiers.critical], 6 objective, 7 le, 8 bogus; 10 [tiers.bad name]; 12
    // [[tiers.x.alerting.windows]].
    let tiers = r#"
[tiers.critical]
objective = 100
le = "fast"
bogus = 1

[tiers."bad name"]
objective = 99
[[tiers.x.alerting.windows]]
severity = "page"
short = "5m"
long = "1h"
factor = 14.4
"#;
    let text = config(tiers, "tier = \"critical\"\n", RATIO_SLI);
    let errors = errors(&text);
    assert_eq!(
        positions(&errors),
        vec![
            (6, 13, InvalidValue),
            (7, 6, InvalidValue),
            (8, 1, UnknownKey),
            (10, 8, InvalidValue),
            (12, 1, InvalidValue),
        ],
        "{errors}"
    );
    find(&errors, "cannot set alert `windows`");
    // The SLO naming the invalid `critical` gets no second message.
    assert!(!errors.to_string().contains("is not defined"), "{errors}");
}

#[test]
fn config_tiers_toml_resolves_as_documented() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/tiers.toml");
    let config = burnwatch_spec::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<(&str, f64, Option<&str>)> = config
        .slos
        .iter()
        .map(|s| {
            let le = match &s.sli {
                burnwatch_spec::Sli::Latency { le, .. } => Some(le.as_str()),
                _ => None,
            };
            (s.id.as_str(), s.objective.percent(), le)
        })
        .collect();
    assert_eq!(
        got,
        [
            ("payments-availability", 99.99, None),
            ("payments-latency", 99.99, Some("0.1")),
            ("search-availability", 99.5, None),
            ("reports-latency", 97.0, Some("5")),
        ]
    );
    let schedule: Vec<(i64, f64)> = config.slos[0]
        .objective_schedule
        .iter()
        .map(|s| (s.from, s.objective.percent()))
        .collect();
    assert_eq!(
        schedule,
        [(1_798_761_600_000, 99.995), (1_814_400_000_000, 99.999)]
    );
    let payments = &config.slos[0].alerting;
    assert_eq!(
        payments.extras.labels.get("escalation").map(String::as_str),
        Some("primary")
    );
    assert_eq!(
        payments.extras.labels.get("team").map(String::as_str),
        Some("sre")
    );
    assert!(payments.page);
    assert!(!config.slos[3].alerting.page);
}
