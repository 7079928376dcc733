//! `${ENV}` expansion in string values, its errors, and secrets that never leak.

mod common;

use std::path::Path;

use burnwatch_spec::{Auth, Config, ErrorKind, Errors, SecretSource};

const SECRET: &str = "TOPSECRET-4711";

fn env(name: &str) -> Option<String> {
    match name {
        "SECRET" => Some(SECRET.to_string()),
        "SECRET_WITH_NEWLINE" => Some(format!("{SECRET}\nX")),
        "PROM_URL" => Some("http://prometheus:9090/".to_string()),
        "TEAM" => Some("payments".to_string()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

fn parse(text: &str) -> Result<Config, Errors> {
    burnwatch_spec::parse(text, Path::new("burnwatch.toml"), &env)
}

fn slo() -> &'static str {
    "\n[[slo]]\nservice = \"svc\"\nname = \"a\"\nobjective = 99.9\n[slo.sli.ratio]\nerrors = 'e_total'\ntotal = 't_total'\n"
}

#[test]
fn references_are_expanded_in_string_values() {
    let text = r#"[backends.main]
type = "prometheus"
url = "${PROM_URL}"

[[slo]]
service = "svc"
name = "a"
objective = 99.9
description = "for ${TEAM}"
labels = { team = "${TEAM}", price = "$$5", re = "a$" }
[slo.sli.events]
error_query = 'sum(rate(e{team="${TEAM}"}[{{.window}}]))'
total_query = 'label_replace(sum(rate(t[{{.window}}])), "x", "$1", "y", "(.*)")'
"#;
    let config = parse(text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        config.backends["main"].url, "http://prometheus:9090",
        "expanded, then the slash dropped"
    );
    let slo = &config.slos[0];
    assert_eq!(slo.description.as_deref(), Some("for payments"));
    assert_eq!(slo.labels["team"], "payments");
    assert_eq!(slo.labels["price"], "$5", "$$ is a literal $");
    assert_eq!(slo.labels["re"], "a$", "a lone $ stays");
    let burnwatch_spec::Sli::Events {
        error_query,
        total_query,
    } = &slo.sli
    else {
        panic!("{:?}", slo.sli)
    };
    assert_eq!(
        error_query.render("5m"),
        r#"sum(rate(e{team="payments"}[5m]))"#
    );
    assert!(
        total_query.render("5m").contains(r#""$1""#),
        "PromQL's $1 needs no escaping"
    );
}

#[test]
fn an_unset_variable_is_named_at_its_location() {
    let errors =
        parse("[backends.main]\ntype = \"prometheus\"\nurl = \"http://${PROM_HOST}:9090\"\n")
            .unwrap_err();
    assert_eq!(errors.len(), 1, "{errors}");
    let error = &errors[0];
    assert_eq!(error.kind(), ErrorKind::Env);
    assert_eq!(
        (error.location().line, error.location().col),
        (3, 15),
        "points at the `$`"
    );
    assert!(
        error.message().contains("`PROM_HOST` is not set"),
        "{error}"
    );
    assert!(
        error.to_string().starts_with("burnwatch.toml:3:15: "),
        "{error}"
    );
}

#[test]
fn every_unset_variable_is_reported() {
    let text = format!(
        "[server]\nlisten = \"${{HOST}}:${{PORT}}\"\n[backends.main]\ntype = \"prometheus\"\nurl = \"http://x\"\nbearer_token = \"${{TOKEN}}\"\n{}",
        slo()
    );
    let errors = parse(&text).unwrap_err();
    let names: Vec<_> = errors
        .iter()
        .map(|e| (e.location().line, e.location().col, e.kind()))
        .collect();
    assert_eq!(
        names,
        vec![
            (2, 11, ErrorKind::Env),
            (2, 19, ErrorKind::Env),
            (6, 17, ErrorKind::Env)
        ],
        "{errors}"
    );
    assert!(errors[2].message().contains("`TOKEN`"));
}

#[test]
fn an_unset_secret_variable_points_at_the_environment_or_a_file() {
    let backend = |token: &str| {
        format!(
            "[backends.main]\ntype = \"prometheus\"\nurl = \"http://x\"\nbearer_token = \"{token}\"\n{}",
            slo()
        )
    };
    let errors = parse(&backend("${TOKEN}")).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors}");
    let message = errors[0].message();
    assert_eq!(errors[0].kind(), ErrorKind::Env);
    assert!(message.contains("`TOKEN` is not set"), "{message}");
    assert!(message.contains("bearer_token_file"), "{message}");
    // The literal-text way out of other values would be refused here: a secret in the file.
    assert!(!message.contains("$${"), "{message}");
    let literal = parse(&backend("$${TOKEN}")).unwrap_err();
    assert_eq!(literal[0].kind(), ErrorKind::LiteralSecret, "{literal}");
    // A value that may be literal keeps that suggestion.
    let url = parse("[backends.main]\ntype = \"prometheus\"\nurl = \"http://${PROM_HOST}:9090\"\n")
        .unwrap_err();
    assert!(url[0].message().contains("$${PROM_HOST}"), "{url}");
}

#[test]
fn keys_are_not_expanded() {
    let text = "[backends.main]\ntype = \"prometheus\"\nurl = \"http://x\"\nheaders = { \"${NAME}\" = \"v\" }\n";
    let errors = parse(text).unwrap_err();
    assert!(
        errors[0]
            .message()
            .contains("`${NAME}` is not an HTTP header name"),
        "{errors}"
    );
}

#[test]
fn secrets_become_secret_values() {
    let text = format!(
        "[backends.main]\ntype = \"prometheus\"\nurl = \"http://x\"\nheaders = {{ \"X-Scope-OrgID\" = \"${{SECRET}}\" }}\nbasic_auth = {{ username = \"u\", password = \"${{SECRET}}\" }}\n{}",
        slo()
    );
    let config = parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let backend = &config.backends["main"];
    assert_eq!(backend.headers[0].0, "X-Scope-OrgID");
    assert_eq!(backend.headers[0].1.expose(), SECRET);
    let Some(Auth::Basic {
        username,
        password: SecretSource::Value(password),
    }) = &backend.auth
    else {
        panic!(
            "expected basic auth with an inline password: {:?}",
            backend.auth
        );
    };
    assert_eq!((username.as_str(), password.expose()), ("u", SECRET));
    for printed in [
        format!("{config:?}"),
        format!("{config:#?}"),
        format!("{backend:?}"),
    ] {
        assert!(
            !printed.contains(SECRET),
            "secret in Debug output:\n{printed}"
        );
        assert!(printed.contains("<redacted>"));
    }
}

/// Configurations with problems next to, in and around secrets; no message may show a secret.
#[test]
fn secrets_never_appear_in_errors() {
    let backend = |body: &str| {
        format!(
            "[backends.main]\ntype = \"prometheus\"\nurl = \"http://x\"\n{body}\n{}",
            slo()
        )
    };
    let cases = [
        backend("headers = { \"X-A\" = \"${SECRET_WITH_NEWLINE}\" }"),
        backend("headers = { \"X-A\" = \"${SECRET}\", \"x-a\" = \"${SECRET}\" }"),
        backend("headers = { \"Authorization\" = \"${SECRET}\" }\nbearer_token = \"${SECRET}\""),
        backend("bearer_token = \"${SECRET}\"\nbearer_token_file = \"/t\""),
        backend(
            "bearer_token = \"${SECRET}\"\nbasic_auth = { username = \"u\", password = \"${SECRET}\" }",
        ),
        backend(
            "basic_auth = { username = \"u\", password = \"${SECRET}\", password_file = \"/p\" }",
        ),
        backend(
            "basic_auth = { username = \"u\", password = \"${SECRET}\", pasword = \"${SECRET}\" }",
        ),
        backend(&format!(
            "headers = {{ \"X-A\" = {SECRET:?}, \"X-B\" = 5 }}\nbearer_token = 123"
        )),
        backend(&format!(
            "basic_auth = {{ username = \"u\", password = [{SECRET:?}] }}"
        )),
        backend("bearer_token = \"${SECRET}-${UNSET}\""),
        backend("bearer_token = \"${EMPTY}\""),
        backend("basic_auth = { username = \"${SECRET}:\", password = \"${SECRET}\" }")
            .replace("objective = 99.9", "objective = 150"),
    ];
    for text in cases {
        let errors = parse(&text).expect_err(&text);
        for shown in [errors.to_string(), format!("{errors:?}")] {
            assert!(
                !shown.contains(SECRET),
                "secret leaked for\n{text}\n---\n{shown}"
            );
        }
    }
}

#[test]
fn an_empty_bearer_token_is_an_error() {
    let text = format!(
        "[backends.main]\ntype = \"prometheus\"\nurl = \"http://x\"\nbearer_token = \"${{EMPTY}}\"\n{}",
        slo()
    );
    let errors = parse(&text).unwrap_err();
    assert_eq!(errors[0].kind(), ErrorKind::InvalidValue);
    assert!(errors[0].message().contains("empty"), "{errors}");
}
