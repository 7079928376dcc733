//! Helpers shared by the behaviour tests.

#![allow(dead_code)]

use std::path::Path;

use burnwatch_spec::{Config, ErrorKind, Errors};

/// Parses `text` as `burnwatch.toml` with an empty environment.
pub fn parse(text: &str) -> Result<Config, Errors> {
    burnwatch_spec::parse(text, Path::new("burnwatch.toml"), &|_| None)
}

/// The errors for `text`, which must be invalid.
pub fn errors(text: &str) -> Errors {
    match parse(text) {
        Ok(config) => panic!("expected errors, got {config:#?}"),
        Err(errors) => errors,
    }
}

/// `(line, col, kind)` of each error, in order.
pub fn positions(errors: &Errors) -> Vec<(usize, usize, ErrorKind)> {
    errors
        .iter()
        .map(|e| (e.location().line, e.location().col, e.kind()))
        .collect()
}

/// The one error whose message contains `needle`.
pub fn find<'a>(errors: &'a Errors, needle: &str) -> &'a burnwatch_spec::Error {
    let found: Vec<_> = errors
        .iter()
        .filter(|e| e.message().contains(needle))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one error containing {needle:?} in:\n{errors}"
    );
    found[0]
}

/// A valid backend section to prepend to SLO snippets.
pub const BACKEND: &str = r#"[backends.main]
type = "prometheus"
url = "http://127.0.0.1:9090"
"#;

/// A valid SLO body after `[[slo]]` and its service/name lines.
pub const RATIO: &str = r#"objective = 99.9
[slo.sli.ratio]
errors = 'http_requests_total{code=~"5.."}'
total = 'http_requests_total'
"#;

/// `BACKEND` plus one valid SLO `svc-a`, with `extra` (whole lines) before its objective.
/// Without extra lines: `[[slo]]` is line 5, objective 8, `[slo.sli.ratio]` 9, errors 10, total 11.
pub fn one_slo(extra: &str) -> String {
    format!("{BACKEND}\n[[slo]]\nservice = \"svc\"\nname = \"a\"\n{extra}{RATIO}")
}

/// Parses `text` as `burnwatch.toml` with `env` as the environment.
pub fn parse_env(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, Errors> {
    burnwatch_spec::parse(text, Path::new("burnwatch.toml"), env)
}
