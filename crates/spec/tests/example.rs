//! The documented example validates as written and yields the model others code against;
//! the example and demo files in `config/` validate too.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use burnwatch_spec::{BackendKind, MatchOp, Sli, load};

/// The example from the configuration issue, verbatim.
const EXAMPLE: &str = r#"[server]
listen = "127.0.0.1:9464"

[backends.main]
type = "prometheus"
url = "http://127.0.0.1:9090"
timeout = "10s"                      # optional
# headers = { "X-Scope-OrgID" = "team-a" }, bearer_token_file = "...", basic_auth = { username = "...", password = "${PW}" }

[defaults]
backend = "main"
period = "30d"                       # rolling SLO period
interval = "30s"                     # evaluation tick

[[slo]]
service = "checkout"
name = "availability"
objective = 99.9                     # percent
description = "Checkout requests that do not fail with 5xx"
labels = { team = "payments" }
[slo.sli.ratio]                      # two of: errors, good, total (counter selectors)
errors = 'http_requests_total{service="checkout",code=~"5.."}'
total = 'http_requests_total{service="checkout"}'

[[slo]]
service = "checkout"
name = "latency"
objective = 99.0
group_by = ["route"]                 # optional: one SLO instance per label set (cap the count; say so when capped)
[slo.sli.latency]                    # good = <name>_bucket{...,le="0.3"}, total = <name>_count{...}
histogram = 'http_request_duration_seconds{service="checkout"}'
le = "0.3"
"#;

fn repo_file(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(name)
}

#[test]
fn the_example_yields_the_expected_model() {
    let config = common::parse(EXAMPLE).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.source, Path::new("burnwatch.toml"));
    assert_eq!(
        config.server.listen,
        "127.0.0.1:9464".parse::<SocketAddr>().unwrap()
    );

    let main = &config.backends["main"];
    assert_eq!(main.kind, BackendKind::Prometheus);
    assert_eq!(main.url, "http://127.0.0.1:9090");
    assert_eq!(main.timeout, Duration::from_secs(10));
    assert!(main.headers.is_empty() && main.auth.is_none());

    let ids: Vec<&str> = config.slos.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["checkout-availability", "checkout-latency"]);

    let availability = &config.slos[0];
    assert_eq!(availability.objective.ratio(), 0.999);
    assert_eq!(availability.objective.percent(), 99.9);
    assert_eq!(
        availability.description.as_deref(),
        Some("Checkout requests that do not fail with 5xx")
    );
    assert_eq!(
        availability.labels.get("team").map(String::as_str),
        Some("payments")
    );
    assert_eq!(availability.backend, "main");
    assert_eq!(availability.period, Duration::from_secs(30 * 86_400));
    assert_eq!(availability.interval, Duration::from_secs(30));
    assert_eq!(availability.group_limit, 1000);
    assert!(availability.group_by.is_empty());
    assert_eq!(availability.location, "burnwatch.toml:15:1");
    let Sli::Ratio {
        errors: Some(errors),
        good: None,
        total,
    } = &availability.sli
    else {
        panic!(
            "expected a ratio SLI with errors, got {:?}",
            availability.sli
        );
    };
    assert_eq!(
        errors.render(),
        r#"http_requests_total{service="checkout",code=~"5.."}"#
    );
    assert_eq!(errors.matchers()[1].op, MatchOp::Regex);
    assert_eq!(total.render(), r#"http_requests_total{service="checkout"}"#);

    let latency = &config.slos[1];
    assert_eq!(latency.objective.ratio(), 0.99);
    assert_eq!(latency.objective.percent(), 99.0);
    assert_eq!(latency.group_by, ["route"]);
    assert!(latency.labels.is_empty() && latency.description.is_none());
    assert_eq!(latency.location, "burnwatch.toml:25:1");
    let Sli::Latency { histogram, le } = &latency.sli else {
        panic!("expected a latency SLI, got {:?}", latency.sli);
    };
    assert_eq!(le, "0.3");
    assert_eq!(histogram.metric(), "http_request_duration_seconds");
    assert_eq!(
        histogram
            .with_suffix("_bucket")
            .with_matcher("le", "=", le)
            .render(),
        r#"http_request_duration_seconds_bucket{service="checkout",le="0.3"}"#
    );
}

#[test]
fn config_example_toml_is_the_documented_example() {
    let from_file = load(&repo_file("config/example.toml")).unwrap_or_else(|e| panic!("{e}"));
    let inline = common::parse(EXAMPLE).unwrap();
    assert_eq!(from_file.backends, inline.backends);
    assert_eq!(from_file.server, inline.server);
    let strip = |slos: &[burnwatch_spec::Slo]| {
        slos.iter()
            .map(|s| burnwatch_spec::Slo {
                location: String::new(),
                ..s.clone()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&from_file.slos), strip(&inline.slos));
}

#[test]
fn the_demo_config_validates() {
    let config = load(&repo_file("config/demo.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        config
            .slos
            .iter()
            .any(|s| matches!(s.sli, Sli::Events { .. }))
    );
}

#[test]
fn everything_but_backends_and_slis_has_defaults() {
    let config = common::parse(&common::one_slo("")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        config.server.listen,
        "0.0.0.0:9464".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(config.backends["main"].timeout, Duration::from_secs(30));
    let slo = &config.slos[0];
    assert_eq!(slo.id, "svc-a");
    assert_eq!(slo.backend, "main", "the only backend is the default");
    assert_eq!(slo.period, Duration::from_secs(30 * 86_400));
    assert_eq!(slo.interval, Duration::from_secs(30));
    assert_eq!(slo.group_limit, 1000);
}

#[test]
fn an_empty_file_is_a_valid_config_without_slos() {
    let config = common::parse("").unwrap();
    assert!(config.slos.is_empty() && config.backends.is_empty());
}
