//! Shared by the fuzz targets: the invariants every `parse` result must keep, and a generator of
//! syntactically valid configuration files so that mutations reach validation (most mutations of
//! raw text break the TOML syntax, and a file with a syntax error is never validated).

use std::fmt;
use std::path::Path;

use libfuzzer_sys::arbitrary::{Arbitrary, Result, Unstructured};

/// A fixed environment so that `${NAME}` both expands and fails: names of even length are set
/// (to a value that itself looks like a reference, which must not be expanded again), odd ones
/// are not, `EMPTY*` is set to the empty string.
pub fn env(name: &str) -> Option<String> {
    if name.starts_with("EMPTY") {
        Some(String::new())
    } else if name.len().is_multiple_of(2) {
        Some(format!("${{{name}}}-value"))
    } else {
        None
    }
}

/// Parses `text` and checks what `parse` promises: a `Config`, or a non-empty list of errors
/// whose locations lie inside the text. A panic anywhere is the fuzzer's finding.
pub fn check(text: &str) {
    let lines = text.matches('\n').count() + 1;
    match burnwatch_spec::parse(text, Path::new("fuzz.toml"), &env) {
        Ok(config) => {
            let _ = format!("{config:?}");
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "parse failed without an error");
            for error in &errors {
                let at = error.location();
                assert!(
                    at.line <= lines,
                    "line {} beyond the text: {error}",
                    at.line
                );
                assert!(
                    (at.line == 0) == (at.col == 0),
                    "half a location {}:{}: {error}",
                    at.line,
                    at.col
                );
                assert!(!error.message().is_empty(), "empty message at {at}");
            }
            let _ = errors.to_string();
        }
    }
}

/// A generated configuration file; `Debug` prints the TOML itself so that
/// `cargo fuzz fmt parse_config_structured <input>` shows the failing file.
pub struct Generated(pub String);

impl fmt::Debug for Generated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'a> Arbitrary<'a> for Generated {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut out = String::new();
        // The sections in documentation order, each table once, so that the file is valid TOML
        // (a duplicate key or table is a syntax error, which stops before validation).
        if u.arbitrary()? {
            table(u, &mut out, "[server]", SERVER)?;
        }
        for name in names(u, 3)? {
            table(u, &mut out, &format!("[backends.{}]", key(&name)), BACKEND)?;
        }
        if !rarely(u, 2)? {
            table(u, &mut out, "[defaults]", DEFAULTS)?;
        }
        if u.arbitrary()? {
            alerting(u, &mut out, "defaults")?;
        }
        for _ in 0..count(u, 4)? {
            table(u, &mut out, "[[slo]]", SLO)?;
            let mut slis = vec![
                ("[slo.sli.ratio]", RATIO),
                ("[slo.sli.latency]", LATENCY),
                ("[slo.sli.events]", EVENTS),
                ("[slo.sli.raw]", RAW),
            ];
            // Usually one kind; none and two are errors to report.
            for _ in 0..*u.choose(&[1, 1, 1, 1, 1, 0, 2])? {
                let (header, keys) = slis.remove(u.choose_index(slis.len())?);
                table(u, &mut out, header, keys)?;
            }
            if u.arbitrary()? {
                alerting(u, &mut out, "slo")?;
            }
        }
        for name in names(u, 3)? {
            table(
                u,
                &mut out,
                &format!("[receivers.{}]", key(&name)),
                RECEIVER,
            )?;
        }
        for _ in 0..count(u, 3)? {
            table(u, &mut out, "[[route]]", ROUTE)?;
        }
        // Now and then a table anywhere: ordering and duplicate-table problems.
        if rarely(u, 16)? {
            let (header, keys) = *u.choose(SECTIONS)?;
            let header = header.replace('%', &key(&string(u, Name)?));
            table(u, &mut out, &header, keys)?;
        }
        Ok(Generated(out))
    }
}

/// Up to `max` distinct names (of backends, receivers).
fn names(u: &mut Unstructured<'_>, max: u8) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for _ in 0..count(u, max)? {
        let name = string(u, Name)?;
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

/// `[<parent>.alerting]` and its windows, as tables or inline.
fn alerting(u: &mut Unstructured<'_>, out: &mut String, parent: &str) -> Result<()> {
    let inline = rarely(u, 8)?;
    table(u, out, &format!("[{parent}.alerting]"), ALERTING)?;
    if inline {
        out.push_str("windows = ");
        value(u, Windows, out)?;
        out.push('\n');
    } else {
        for _ in 0..u.int_in_range(0..=4)? {
            table(u, out, &format!("[[{parent}.alerting.windows]]"), WINDOW)?;
        }
    }
    Ok(())
}

/// What a key's value means, to pick plausible values for it.
#[derive(Clone, Copy)]
enum Kind {
    Period,
    Duration,
    Url,
    Addr,
    Selector,
    Template,
    Name,
    BackendType,
    ReceiverType,
    Severity,
    Le,
    File,
    Text,
    Number,
    Int,
    Bool,
    Map,
    Labels,
    Severities,
    Names,
    BasicAuth,
    Windows,
}

use Kind::*;

type Keys = &'static [(&'static str, Kind)];

const SERVER: Keys = &[("listen", Addr), ("alerts_series", Bool)];
const BACKEND: Keys = &[
    ("type", BackendType),
    ("url", Url),
    ("timeout", Duration),
    ("headers", Map),
    ("bearer_token", Text),
    ("bearer_token_file", File),
    ("basic_auth", BasicAuth),
];
const DEFAULTS: Keys = &[
    ("backend", Name),
    ("period", Period),
    ("interval", Duration),
    ("group_limit", Int),
];
const ALERTING: Keys = &[
    ("name", Name),
    ("for", Duration),
    ("keep_firing_for", Duration),
    ("min_events", Number),
    ("page", Bool),
    ("ticket", Bool),
    ("no_data", Bool),
    ("no_data_for", Duration),
    ("budget_exhausted", Number),
    ("annotations", Map),
];
const WINDOW: Keys = &[
    ("severity", Severity),
    ("short", Duration),
    ("long", Duration),
    ("budget_share", Number),
    ("factor", Number),
];
const SLO: Keys = &[
    ("service", Name),
    ("name", Name),
    ("objective", Number),
    ("description", Text),
    ("labels", Map),
    ("group_by", Labels),
    ("group_limit", Int),
    ("backend", Name),
    ("period", Period),
    ("interval", Duration),
];
const RATIO: Keys = &[
    ("errors", Selector),
    ("good", Selector),
    ("total", Selector),
];
const LATENCY: Keys = &[("histogram", Selector), ("le", Le)];
const EVENTS: Keys = &[("error_query", Template), ("total_query", Template)];
const RAW: Keys = &[("error_ratio_query", Template)];
const RECEIVER: Keys = &[
    ("type", ReceiverType),
    ("url", Url),
    ("url_file", File),
    ("routing_key", Text),
    ("routing_key_file", File),
    ("page_severity", Severity),
    ("ticket_severity", Severity),
    ("timeout", Duration),
    ("repeat_interval", Duration),
    ("send_resolved", Bool),
];
const ROUTE: Keys = &[
    ("severity", Severities),
    ("match", Map),
    ("receivers", Names),
];

/// Every table header with the keys it takes; `%` is replaced by a generated name.
const SECTIONS: &[(&str, Keys)] = &[
    ("[server]", SERVER),
    ("[backends.%]", BACKEND),
    ("[defaults]", DEFAULTS),
    ("[defaults.alerting]", ALERTING),
    ("[[defaults.alerting.windows]]", WINDOW),
    ("[[slo]]", SLO),
    ("[slo.sli.ratio]", RATIO),
    ("[slo.sli.latency]", LATENCY),
    ("[slo.sli.events]", EVENTS),
    ("[slo.sli.raw]", RAW),
    ("[slo.alerting]", ALERTING),
    ("[[slo.alerting.windows]]", WINDOW),
    ("[receivers.%]", RECEIVER),
    ("[[route]]", ROUTE),
];

/// Keys left out unless the input says otherwise: alternatives to other keys (a file instead of
/// the value, `good` instead of `errors`) and overrides, so that a short input is a valid file.
const OPTIONAL: &[&str] = &[
    "bearer_token",
    "bearer_token_file",
    "basic_auth",
    "headers",
    "good",
    "url_file",
    "routing_key_file",
    "factor",
    "labels",
    "group_by",
    "group_limit",
    "backend",
    "period",
    "interval",
    "description",
    "page_severity",
    "ticket_severity",
    "repeat_interval",
    "keep_firing_for",
    "no_data_for",
    "budget_exhausted",
];

/// Keys tried in any table: misplaced, misspelt or empty.
const KEYS_ANYWHERE: &[&str] = &[
    "sli", "alerting", "windows", "type", "objectiv", "Errors", "",
];

/// A table: its header and keys, mostly ones it takes, each once.
fn table(u: &mut Unstructured<'_>, out: &mut String, header: &str, keys: Keys) -> Result<()> {
    out.push_str(header);
    out.push('\n');
    for &(name, kind) in keys {
        let include = if OPTIONAL.contains(&name) {
            rarely(u, 3)?
        } else {
            !rarely(u, 4)?
        };
        if !include {
            continue;
        }
        // Now and then the wrong type of value (type errors are reported per key).
        let kind = if rarely(u, 16)? {
            *u.choose(&[Text, Number, Int, Bool, Map, Names])?
        } else {
            kind
        };
        out.push_str(&key(name));
        out.push_str(" = ");
        value(u, kind, out)?;
        out.push('\n');
    }
    // Sometimes a key the table does not take (unknown-key reporting).
    if rarely(u, 8)? {
        let name: &str = u.choose(KEYS_ANYWHERE)?;
        if !keys.iter().any(|&(known, _)| known == name) {
            out.push_str(&key(name));
            out.push_str(" = ");
            let kind = *u.choose(&[Text, Number, Map])?;
            value(u, kind, out)?;
            out.push('\n');
        }
    }
    out.push('\n');
    Ok(())
}

/// True about once in `n` times, and false when the input is used up (so that a short input
/// yields a plausible file rather than an empty one).
fn rarely(u: &mut Unstructured<'_>, n: u8) -> Result<bool> {
    Ok(u.int_in_range(1..=n)? == n)
}

/// A count up to `max`, one when the input is used up.
fn count(u: &mut Unstructured<'_>, max: u8) -> Result<u8> {
    Ok((u.int_in_range(0..=max)? + 1) % (max + 1))
}

fn value(u: &mut Unstructured<'_>, kind: Kind, out: &mut String) -> Result<()> {
    match kind {
        Number => {
            let n: f64 = if !rarely(u, 4)? {
                *u.choose(&[
                    99.9,
                    99.0,
                    100.0,
                    0.0,
                    -1.0,
                    50.0,
                    99.999,
                    1e-9,
                    14.4,
                    6.0,
                    2.0,
                    5.0,
                    10.0,
                    0.5,
                    1e308,
                    f64::NAN,
                    f64::INFINITY,
                    -0.0,
                ])?
            } else {
                u.arbitrary()?
            };
            out.push_str(&float(n));
        }
        Int => {
            let n: i64 = if !rarely(u, 4)? {
                *u.choose(&[1000, 0, -1, 1, 2, 100_000, i64::MAX, i64::MIN])?
            } else {
                u.arbitrary()?
            };
            out.push_str(&n.to_string());
        }
        Bool => out.push_str(if u.arbitrary()? { "true" } else { "false" }),
        Map | BasicAuth => {
            let keys: &[&str] = match kind {
                BasicAuth => &["username", "password", "password_file"],
                _ => &[
                    "team",
                    "runbook",
                    "X-Scope-OrgID",
                    "code",
                    "route",
                    "summary",
                    "1bad",
                ],
            };
            out.push('{');
            for i in 0..u.int_in_range(0..=3)? {
                if i > 0 {
                    out.push(',');
                }
                let name = if rarely(u, 4)? {
                    string(u, Name)?
                } else {
                    u.choose(keys)?.to_string()
                };
                out.push(' ');
                out.push_str(&key(&name));
                out.push_str(" = ");
                let kind = if rarely(u, 8)? { Number } else { Text };
                value(u, kind, out)?;
            }
            out.push_str(" }");
        }
        Labels | Severities | Names => {
            let item = match kind {
                Labels => Name,
                Severities => Severity,
                _ => Name,
            };
            out.push('[');
            for i in 0..count(u, 3)? {
                if i > 0 {
                    out.push_str(", ");
                }
                value(u, item, out)?;
            }
            out.push(']');
        }
        Windows => {
            // The inline form of `[[...alerting.windows]]`.
            out.push('[');
            for i in 0..u.int_in_range(0..=2)? {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push('{');
                for j in 0..u.int_in_range(0..=5)? {
                    if j > 0 {
                        out.push(',');
                    }
                    let (name, kind) = *u.choose(WINDOW)?;
                    out.push(' ');
                    out.push_str(name);
                    out.push_str(" = ");
                    value(u, kind, out)?;
                }
                out.push_str(" }");
            }
            out.push(']');
        }
        _ => out.push_str(&quote(&string(u, kind)?)),
    }
    Ok(())
}

/// A string for `kind`: mostly a plausible value, sometimes with an `${ENV}` reference, sometimes
/// arbitrary text.
fn string(u: &mut Unstructured<'_>, kind: Kind) -> Result<String> {
    let pool: &[&str] = match kind {
        Period => &[
            "30d",
            "28d",
            "7d",
            "1d",
            "1h",
            "4w",
            "0s",
            "99999999999999999d",
            "",
        ],
        Duration => &[
            "30s",
            "5m",
            "1h",
            "6h",
            "30m",
            "2h",
            "1d",
            "3d",
            "15s",
            "10s",
            "0s",
            "1ms",
            "2w",
            "1y",
            "90m",
            "1h30m",
            "-5m",
            "5",
            "99999999999999999d",
            "1.5h",
            "",
        ],
        Url => &[
            "http://127.0.0.1:9090",
            "https://prom.example/api/prom/",
            "http://[::1]:9090/",
            "prometheus:9090",
            "ftp://x",
            "http://",
            "https://events.pagerduty.com/v2/enqueue",
            "http://user:pass@host:1/x?y#z",
            "http://h:99999",
        ],
        Addr => &[
            "0.0.0.0:9464",
            "[::1]:9464",
            "127.0.0.1:0",
            "localhost:9464",
            ":9464",
            "1.2.3.4:99999",
        ],
        Selector => &[
            "http_requests_total",
            "http_requests_total{code=~\"5..\"}",
            "http_request_duration_seconds{service=\"checkout\"}",
            "{__name__=\"x\"}",
            "x{a=\"b\",c!=\"d\",e!~\"f\",}",
            "x{a=\"\\\"q\\\\\"}",
            "x{",
            "x{a=~\"(\"}",
            "rate(x[5m])",
            "x_bucket",
            "x{le=\"0.3\"}",
            "x{a=\"b\" or c=\"d\"}",
            "",
        ],
        Template => &[
            "sum(rate(http_requests_total{code=~\"5..\"}[{{.window}}]))",
            "sum(rate(x[{{ .window }}])) / sum(rate(y[{{.window}}]))",
            "{{.window}}",
            "{{.other}}",
            "{{",
            "x[5m]",
            "",
        ],
        Name => &[
            "main",
            "svc",
            "a",
            "checkout",
            "pager",
            "slack-ops",
            "Has Space",
            "é",
            "",
        ],
        BackendType => &["prometheus", "thanos", "Prometheus", ""],
        ReceiverType => &["pagerduty", "slack", "webhook", "alertmanager", "email", ""],
        Severity => &["page", "ticket", "critical", "warning", "info", ""],
        Le => &["0.3", "+Inf", "1e-3", "0.30", "abc", "-1", ""],
        File => &["/run/secrets/token", "token", "../x", "", "/"],
        _ => &["text", "", "hunter2", "$1", "$$", "${", "${1X}", "${TOKEN}"],
    };
    let mut text = if rarely(u, 8)? {
        u.arbitrary::<String>()?
    } else {
        u.choose(pool)?.to_string()
    };
    if rarely(u, 16)? {
        let reference: &str =
            u.choose(&["${TOKEN}", "${EMPTY}", "${AB}", "${A}", "$$", "${", "${1X}"])?;
        let at = u.int_in_range(0..=text.len())?;
        let at = (0..=at)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        text.insert_str(at, reference);
    }
    Ok(text)
}

/// A TOML key: bare when it can be, else a quoted string.
fn key(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        name.to_string()
    } else {
        quote(name)
    }
}

/// A TOML basic string.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML float (TOML spells the special values `nan` and `inf`).
fn float(n: f64) -> String {
    if n.is_nan() {
        "nan".into()
    } else if n.is_infinite() {
        if n > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        format!("{n:?}")
    }
}
