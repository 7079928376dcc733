//! `[[discover]]`: defaults, the template expanded per value (service from the value, tier,
//! backend), allow/deny, and every validation error at its `line:col`.

mod common;

use std::time::Duration;

use burnwatch_spec::ErrorKind::*;
use common::{BACKEND, errors, find, parse, positions};

/// `BACKEND` then one `[[discover]]` whose keys after `name` are `keys` and whose template
/// body (after `[discover.slo]`) is `template`. `[[discover]]` is line 5, `name` 6, the first
/// of `keys` line 7.
fn config(keys: &str, template: &str) -> String {
    format!("{BACKEND}\n[[discover]]\nname = \"http\"\n{keys}[discover.slo]\n{template}")
}

const KEYS: &str = "selector = 'http_requests_total'\nlabel = \"service\"\n";

const TEMPLATE: &str = r#"name = "availability"
tier = "essential"
[discover.slo.sli.ratio]
errors = 'http_requests_total{service="{{ .service }}",code=~"5.."}'
total = 'http_requests_total{service="{{ .service }}"}'
"#;

#[test]
fn defaults_and_expansion() {
    let config = parse(&config(KEYS, TEMPLATE)).unwrap_or_else(|e| panic!("{e}"));
    assert!(config.slos.is_empty(), "a template is no SLO by itself");
    let d = &config.discover[0];
    assert_eq!(d.name, "http");
    assert_eq!(d.label, "service");
    assert_eq!(d.interval, Duration::from_secs(300));
    assert_eq!(d.grace, Duration::from_secs(3600));
    assert_eq!(d.cap, 100);
    assert_eq!(d.backend, "main");
    let slo = d.expand("checkout").unwrap();
    assert_eq!(slo.id, "checkout-availability");
    assert_eq!(slo.service, "checkout");
    assert_eq!(slo.objective.percent(), 99.9, "from the tier");
    let text = format!("{:?}", slo.sli);
    assert!(text.contains("checkout") && !text.contains("{{"), "{text}");
    // A value that would close the matcher's quotes and add one of its own gets no SLO.
    let err = d.expand(r#"x",code="200"#).unwrap_err();
    assert!(err.to_string().contains("gets no SLO"), "{err}");
}

#[test]
fn the_template_may_name_the_service_and_use_the_window() {
    let template = r#"service = "svc-{{ .service }}"
name = "latency"
objective = 99
[discover.slo.sli.events]
error_query = 'sum(rate(errors_total{service="{{ .service }}"}[{{.window}}]))'
total_query = 'sum(rate(requests_total{service="{{.service}}"}[{{ .window }}]))'
"#;
    let config = parse(&config(KEYS, template)).unwrap_or_else(|e| panic!("{e}"));
    let slo = config.discover[0].expand("search").unwrap();
    assert_eq!(slo.id, "svc-search-latency");
}

#[test]
fn allow_and_deny() {
    let keys = format!("{KEYS}allow = \"^(checkout|search|.*-api)$\"\ndeny = \"^legacy-\"\n");
    let config = parse(&config(&keys, TEMPLATE)).unwrap_or_else(|e| panic!("{e}"));
    let d = &config.discover[0];
    assert!(d.admits("checkout") && d.admits("orders-api"));
    assert!(!d.admits("checkout2") && !d.admits("legacy-api"));
}

#[test]
fn errors_are_reported_at_their_place() {
    // Line 7 selector, 8 label, 9 allow, 10 cap, 11 interval, 12 [discover.slo], 13 name, ...
    let keys = "selector = 'http_requests_total{'\nlabel = \"service\"\nallow = \"^(a\"\ncap = 0\n\
                interval = \"soon\"\n";
    let template = r#"name = "availability"
objective = 99.9
[discover.slo.sli.ratio]
errors = 'http_requests_total{service="{{ .team }}"}'
total = 'http_requests_total{service="{{ .service }}"}'
"#;
    let errors = errors(&config(keys, template));
    assert_eq!(
        positions(&errors),
        vec![
            (7, 12, InvalidValue),
            (9, 9, InvalidValue),
            (10, 7, InvalidValue),
            (11, 12, InvalidValue),
            (16, 40, InvalidValue),
        ],
        "{errors}"
    );
    assert!(
        find(&errors, "unknown placeholder `{{ .team }}`")
            .to_string()
            .starts_with("burnwatch.toml:16:40")
    );
    assert!(
        find(&errors, "`cap` 0 must be at least 1")
            .message()
            .contains("cap = 100")
    );
    find(&errors, "`allow` is not a valid regular expression");
}

#[test]
fn an_invalid_template_is_reported_inside_it() {
    // Objective out of range on line 11, unknown key on line 12.
    let template = "name = \"a\"\nobjective = 150\nobjectiv = 1\n[discover.slo.sli.ratio]\n\
                    errors = 'e{service=\"{{ .service }}\"}'\ntotal = 't'\n";
    let errors = errors(&config(KEYS, template));
    assert_eq!(
        positions(&errors),
        vec![(11, 13, InvalidValue), (12, 1, UnknownKey)],
        "{errors}"
    );
}

#[test]
fn names_labels_and_templates_are_required_and_names_unique() {
    let text = format!(
        "{}\n[[discover]]\nname = \"http\"\n{KEYS}\n[[discover]]\nname = \"x\"\n",
        config(KEYS, TEMPLATE)
    );
    let errors = errors(&text);
    find(
        &errors,
        "`http` is already used by the [[discover]] at burnwatch.toml:5:1",
    );
    let no_template = errors
        .iter()
        .filter(|e| e.message().contains("has no template"));
    assert_eq!(no_template.count(), 2, "{errors}");
    find(&errors, "[[discover]] needs `selector`");
    find(&errors, "[[discover]] needs `label`");
    let bad_label = config("selector = 'x'\nlabel = \"__name__\"\n", TEMPLATE);
    let errors = self::errors(&bad_label);
    assert_eq!(positions(&errors), vec![(8, 9, InvalidValue)], "{errors}");
}

#[test]
fn unknown_keys_are_refused() {
    let errors = errors(&config(&format!("{KEYS}limit = 3\n"), TEMPLATE));
    assert_eq!(positions(&errors), vec![(9, 1, UnknownKey)], "{errors}");
}

#[test]
fn a_discovery_needs_a_backend() {
    let text = config(KEYS, TEMPLATE).replace(BACKEND, "");
    let errors = errors(&text);
    assert_eq!(positions(&errors), vec![(2, 1, Missing)], "{errors}");
    find(&errors, "no backend is defined");
}
