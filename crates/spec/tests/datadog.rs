//! `type = "datadog"` backends and `[slo.sli.datadog]`: sites, keys from the environment or a
//! file (never literal), queries burnwatch can count exactly, and SLI kinds matched to their
//! backend's type, each error at its place.

mod common;

use burnwatch_spec::ErrorKind::*;
use burnwatch_spec::{BackendKind, SecretSource, Sli};
use common::{RATIO, errors, find, parse_env, positions};

const DD_SLI: &str = r#"objective = 99.9
[slo.sli.datadog]
errors = 'sum:trace.http.request.errors{service:checkout,env:prod}.as_count()'
total = 'sum:trace.http.request.hits{service:checkout,env:prod}.as_count()'
"#;

fn config(backend: &str, sli: &str) -> String {
    format!(
        "[backends.dd]\ntype = \"datadog\"\n{backend}\n\n[[slo]]\nservice = \"svc\"\nname = \"a\"\n{sli}"
    )
}

const KEYS: &str = "api_key = \"${DD_API_KEY}\"\napplication_key_file = \"keys/app\"";

#[test]
fn a_datadog_backend_reads_its_site_and_keys() {
    let text = config(&format!("site = \"datadoghq.eu\"\n{KEYS}"), DD_SLI);
    let config = parse_env(&text, &|name| (name == "DD_API_KEY").then(|| "k".into()))
        .unwrap_or_else(|e| panic!("{e}"));
    let backend = &config.backends["dd"];
    assert_eq!(backend.kind, BackendKind::Datadog);
    assert_eq!(backend.url, "https://api.datadoghq.eu");
    let keys = backend.datadog.as_ref().unwrap();
    assert!(matches!(keys.application_key, SecretSource::File(ref p) if p.ends_with("keys/app")));
    // The key's value never shows in Debug output.
    assert!(!format!("{config:?}").contains("\"k\""));
    let Sli::Datadog {
        errors,
        good,
        total,
    } = &config.slos[0].sli
    else {
        panic!("a datadog SLI");
    };
    assert!(good.is_none());
    assert_eq!(errors.as_ref().unwrap().metric, "trace.http.request.errors");
    assert_eq!(total.scope, "service:checkout,env:prod");
}

#[test]
fn keys_are_never_literal_and_sites_are_known() {
    let text = config(
        "site = \"datadoghq.de\"\napi_key = \"0123abcd\"\napplication_key = \"${DD_APP_KEY}\"",
        DD_SLI,
    );
    let errors = errors(&text);
    assert_eq!(
        positions(&errors),
        vec![(3, 8, InvalidValue), (4, 11, LiteralSecret), (5, 20, Env)],
        "{errors}"
    );
    find(&errors, "is not a Datadog site");
    let literal = find(&errors, "`api_key` is a secret written into the file");
    assert!(!literal.message().contains("0123abcd"));
    find(&errors, "DD_APP_KEY");
}

#[test]
fn prometheus_keys_on_datadog_and_datadog_keys_on_prometheus_are_refused() {
    let errors = errors(&config(
        &format!("site = \"datadoghq.com\"\nurl = \"http://x:9090\"\n{KEYS}"),
        DD_SLI,
    ));
    find(&errors, "`url` is a Prometheus backend's key");
    let errors = self::errors(&format!(
        "[backends.main]\ntype = \"prometheus\"\nurl = \"http://p:9090\"\nsite = \"datadoghq.com\"\n\n\
         [[slo]]\nservice = \"svc\"\nname = \"a\"\n{RATIO}"
    ));
    assert_eq!(positions(&errors), vec![(4, 1, Conflict)], "{errors}");
}

#[test]
fn an_sli_kind_must_suit_its_backend() {
    let env = |name: &str| (name == "DD_API_KEY").then(|| "k".into());
    let on_datadog = config(&format!("site = \"datadoghq.com\"\n{KEYS}"), RATIO);
    let errors = parse_env(&on_datadog, &env).unwrap_err();
    // At the SLI's table.
    assert_eq!(positions(&errors), vec![(11, 6, InvalidValue)], "{errors}");
    find(&errors, "a datadog backend reads only [slo.sli.datadog]");

    let on_prometheus = format!(
        "[backends.main]\ntype = \"prometheus\"\nurl = \"http://p:9090\"\n\n[[slo]]\nservice = \"svc\"\nname = \"a\"\n{DD_SLI}"
    );
    let errors = parse_env(&on_prometheus, &env).unwrap_err();
    find(
        &errors,
        "[slo.sli.datadog] needs a backend of type = \"datadog\"",
    );
}

#[test]
fn queries_must_count_exactly() {
    let env = |name: &str| (name == "DD_API_KEY").then(|| "k".into());
    let sli = "objective = 99.9\n[slo.sli.datadog]\ngood = 'avg:hits{*}'\ntotal = 'sum:hits{*}.rollup(sum, 60)'\n";
    let errors = parse_env(
        &config(&format!("site = \"datadoghq.com\"\n{KEYS}"), sli),
        &env,
    )
    .unwrap_err();
    assert_eq!(
        positions(&errors),
        vec![(12, 8, InvalidValue), (13, 9, InvalidValue)],
        "{errors}"
    );
    find(&errors, "must start with `sum:`");
    find(&errors, "adds `.rollup(sum, <step>)` itself");
}
