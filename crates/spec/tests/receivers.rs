//! `[receivers.<name>]` and `[[route]]`: the issue's example in `config/alerting.toml`, defaults,
//! per-type keys, secrets, references from routes, and every problem at its `line:col`.

mod common;

use std::path::Path;
use std::time::Duration;

use burnwatch_spec::ErrorKind::*;
use burnwatch_spec::{Config, Errors, ReceiverKind, Route, SecretSource, Severity};
use common::{errors, find, parse, parse_env, positions};

const ALERTING_TOML: &str = include_str!("../../../config/alerting.toml");

const PD_KEY: &str = "pd-TOPSECRET-4711";
const SLACK_URL: &str = "https://hooks.slack.com/services/T0/B0/TOPSECRET-4712";

fn env(name: &str) -> Option<String> {
    match name {
        "PD_ROUTING_KEY" => Some(PD_KEY.to_string()),
        "SLACK_WEBHOOK_URL" => Some(SLACK_URL.to_string()),
        "NOT_A_URL" => Some("TOPSECRET-4713".to_string()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

fn parse_secrets(text: &str) -> Result<Config, Errors> {
    parse_env(text, &env)
}

/// The 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in the text"))
        + 1
}

fn secret_value(source: &SecretSource) -> &str {
    match source {
        SecretSource::Value(secret) => secret.expose(),
        SecretSource::File(path) => panic!("expected an inline secret, got file {path:?}"),
    }
}

#[test]
fn config_alerting_toml_validates_into_the_expected_model() {
    let config = parse_secrets(ALERTING_TOML).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.slos.len(), 2, "the core example is included");
    let names: Vec<&str> = config.receivers.keys().map(String::as_str).collect();
    assert_eq!(names, ["am", "chat", "hook", "pager"]);

    let pager = &config.receivers["pager"];
    let ReceiverKind::PagerDuty {
        routing_key,
        url,
        page_severity,
        ticket_severity,
    } = &pager.kind
    else {
        panic!("{:?}", pager.kind)
    };
    assert_eq!(
        secret_value(routing_key),
        PD_KEY,
        "expanded from the environment"
    );
    assert_eq!(url, "https://events.pagerduty.com/v2/enqueue");
    assert_eq!(
        (page_severity.as_str(), ticket_severity.as_str()),
        ("critical", "warning")
    );
    assert_eq!(pager.timeout, Duration::from_secs(10));
    assert_eq!(pager.repeat_interval, Duration::from_secs(4 * 3_600));
    assert!(pager.send_resolved);

    let ReceiverKind::Slack { url } = &config.receivers["chat"].kind else {
        panic!("{:?}", config.receivers["chat"])
    };
    assert_eq!(secret_value(url), SLACK_URL);

    let am = &config.receivers["am"];
    assert_eq!(
        am.kind,
        ReceiverKind::Alertmanager {
            url: "http://alertmanager:9093".into()
        }
    );
    assert_eq!(
        am.repeat_interval,
        Duration::from_secs(60),
        "fixed: Alertmanager must hear of firing alerts every minute"
    );
    let ReceiverKind::Webhook { url } = &config.receivers["hook"].kind else {
        panic!("{:?}", config.receivers["hook"])
    };
    assert_eq!(secret_value(url), "https://example.internal/hook");

    // `hook` is defined but not routed: allowed.
    assert_eq!(
        config.routes,
        vec![
            Route {
                severity: vec![Severity::Page],
                matchers: Default::default(),
                receivers: vec!["pager".into(), "chat".into(), "am".into()],
            },
            Route {
                severity: vec![Severity::Ticket],
                matchers: [("team".to_string(), "payments".to_string())].into(),
                receivers: vec!["chat".into()],
            },
        ]
    );
}

#[test]
fn config_alerting_toml_starts_with_the_core_example() {
    let alerting = parse_secrets(ALERTING_TOML).unwrap();
    let example = parse(include_str!("../../../config/example.toml")).unwrap();
    assert_eq!(alerting.server, example.server);
    assert_eq!(alerting.backends, example.backends);
    let strip = |slos: &[burnwatch_spec::Slo]| {
        slos.iter()
            .map(|s| burnwatch_spec::Slo {
                location: String::new(),
                ..s.clone()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&alerting.slos), strip(&example.slos));
    assert!(example.receivers.is_empty() && example.routes.is_empty());
}

#[test]
fn config_alerting_toml_needs_its_environment_variables() {
    let errors = parse(ALERTING_TOML).unwrap_err();
    let pd = line_of(ALERTING_TOML, "routing_key = \"${PD_ROUTING_KEY}\"");
    let slack = line_of(ALERTING_TOML, "url = \"${SLACK_WEBHOOK_URL}\"");
    assert_eq!(
        positions(&errors),
        vec![(pd, 16, Env), (slack, 8, Env)],
        "pointing at the `$`: {errors}"
    );
    find(&errors, "environment variable `PD_ROUTING_KEY` is not set");
    find(
        &errors,
        "environment variable `SLACK_WEBHOOK_URL` is not set",
    );
}

#[test]
fn secrets_never_appear_in_debug_output_or_errors() {
    let config = parse_secrets(ALERTING_TOML).unwrap();
    let debug = format!("{config:?} {config:#?}");
    assert!(!debug.contains("TOPSECRET"), "{debug}");
    assert!(debug.contains("<redacted>"));

    // A secret URL that is not a URL: the message says so without showing it.
    let errors = parse_secrets(
        "[receivers.chat]\ntype = \"slack\"\nurl = \"${NOT_A_URL}\"\n\n[receivers.hook]\ntype = \"webhook\"\nurl = \"TOPSECRET-4714\"\n",
    )
    .unwrap_err();
    assert_eq!(
        positions(&errors),
        vec![(3, 7, InvalidValue), (7, 7, InvalidValue)],
        "{errors}"
    );
    let text = format!("{errors} {errors:?}");
    assert!(!text.contains("TOPSECRET"), "{text}");
    assert!(
        errors[0]
            .message()
            .contains("the `url` of [receivers.chat] must start with http:// or https://"),
        "{errors}"
    );
    assert!(
        errors[0].message().contains("secret and not shown"),
        "{errors}"
    );

    // An empty routing key (an empty variable) is caught here, not at the first page.
    let errors =
        parse_secrets("[receivers.pd]\ntype = \"pagerduty\"\nrouting_key = \"${EMPTY}\"\n")
            .unwrap_err();
    assert_eq!(positions(&errors), vec![(3, 15, InvalidValue)], "{errors}");
    find(&errors, "`routing_key` is empty");
}

#[test]
fn receiver_settings_override_their_defaults() {
    let text = r#"[receivers.pager]
type = "pagerduty"
routing_key_file = "secrets/pd"
url = "https://pd.example/v2/enqueue?region=eu"
page_severity = "error"
ticket_severity = "info"
timeout = "3s"
repeat_interval = "30m"
send_resolved = false

[receivers.am]
type = "alertmanager"
url = "http://am:9093/"
timeout = "1s"
send_resolved = false

[receivers.hook]
type = "webhook"
url_file = "/run/secrets/hook"
"#;
    let config = burnwatch_spec::parse(text, Path::new("/etc/burnwatch/burnwatch.toml"), &|_| None)
        .unwrap_or_else(|e| panic!("{e}"));
    let pager = &config.receivers["pager"];
    assert_eq!(
        pager.kind,
        ReceiverKind::PagerDuty {
            routing_key: SecretSource::File("/etc/burnwatch/secrets/pd".into()),
            url: "https://pd.example/v2/enqueue?region=eu".into(),
            page_severity: "error".into(),
            ticket_severity: "info".into(),
        },
        "relative key files are relative to the config file; the endpoint is kept as written"
    );
    assert_eq!(pager.timeout, Duration::from_secs(3));
    assert_eq!(pager.repeat_interval, Duration::from_secs(1_800));
    assert!(!pager.send_resolved);

    let am = &config.receivers["am"];
    assert_eq!(
        am.kind,
        ReceiverKind::Alertmanager {
            url: "http://am:9093".into()
        },
        "trailing slash dropped: /api/v2/alerts is appended"
    );
    assert_eq!(am.timeout, Duration::from_secs(1));
    assert!(!am.send_resolved);
    assert_eq!(
        config.receivers["hook"].kind,
        ReceiverKind::Webhook {
            url: SecretSource::File("/run/secrets/hook".into())
        }
    );
}

/// Receivers with problems; line numbers are the file's.
const BAD_RECEIVERS: &str = r#"[receivers.pager]
type = "pagerduty"
routing_key = "${PD_ROUTING_KEY}"
routing_key_file = "/run/pd"
page_severity = "critcal"

[receivers.chat]
type = "slack"
url = "${SLACK_WEBHOOK_URL}"
routing_key = "x"

[receivers.am]
type = "alertmanager"
url = "http://alertmanager:9093/"
repeat_interval = "1h"
url_file = "x"

[receivers.hook]
type = "webhok"
timeout = "0s"

[receivers."bad name"]
send_resolved = true

[receivers.web]
type = "webhook"

[receivers.pd2]
type = "pagerduty"
routing_keys = "x"
repeat_interval = "10s"
"#;

#[test]
fn every_receiver_problem_is_reported_at_its_place() {
    let errors = parse_secrets(BAD_RECEIVERS).unwrap_err();
    assert_eq!(
        positions(&errors),
        vec![
            (4, 1, Conflict),       // routing_key and routing_key_file
            (5, 17, InvalidValue),  // page_severity "critcal"
            (10, 1, Conflict),      // routing_key on slack
            (15, 1, Conflict),      // repeat_interval on alertmanager
            (16, 1, Conflict),      // url_file on alertmanager
            (19, 8, InvalidValue),  // type "webhok"
            (20, 11, InvalidValue), // timeout 0s
            (22, 1, Missing),       // type of "bad name"
            (22, 12, InvalidValue), // name "bad name"
            (25, 1, Missing),       // url or url_file of web
            (30, 1, UnknownKey),    // routing_keys
            (31, 19, InvalidValue), // repeat_interval 10s
        ],
        "{errors}"
    );
    for needle in [
        "[receivers.pager] gives both `routing_key` and `routing_key_file`: keep one",
        "page_severity \"critcal\" is not a PagerDuty severity (did you mean \"critical\"?); valid: \"critical\", \"error\", \"warning\", \"info\"",
        "`routing_key` is not a key of \"slack\" receivers ([receivers.chat]): only \"pagerduty\" receivers take it; keys of \"slack\" receivers: type, timeout, repeat_interval, send_resolved, url, url_file",
        "Alertmanager's own route `repeat_interval` decides",
        "`url_file` is not a key of \"alertmanager\" receivers ([receivers.am]): only \"slack\", \"webhook\" and \"teams\" receivers take it",
        "receiver type \"webhok\" is not supported (did you mean \"webhook\"?); valid types: \"pagerduty\", \"slack\", \"webhook\", \"alertmanager\"",
        "timeout must be more than 0",
        "[receivers.bad name] needs `type`",
        "receiver name `bad name` is not valid",
        "[receivers.web] needs `url` or `url_file`",
        "unknown key `routing_keys` in [receivers.pd2] (did you mean `routing_key`?)",
        "repeat_interval must be at least 1m",
    ] {
        find(&errors, needle);
    }
    // The misspelt routing_keys is not also reported as a missing routing key.
    assert!(
        !errors
            .iter()
            .any(|e| e.message().contains("[receivers.pd2] needs")),
        "{errors}"
    );
}

#[test]
fn receivers_need_their_endpoint() {
    let errors = errors(
        "[receivers.am]\ntype = \"alertmanager\"\n\n[receivers.pd]\ntype = \"pagerduty\"\nurl = \"events.pagerduty.com\"\n",
    );
    assert_eq!(
        positions(&errors),
        vec![(1, 1, Missing), (4, 1, Missing), (6, 7, InvalidValue)],
        "{errors}"
    );
    find(
        &errors,
        "[receivers.am] needs `url`, e.g. url = \"http://alertmanager:9093\"",
    );
    find(
        &errors,
        "[receivers.pd] needs `routing_key` or `routing_key_file`",
    );
    find(
        &errors,
        "url \"events.pagerduty.com\" must start with http:// or https://",
    );
}

const ROUTED: &str = "[receivers.pager]\ntype = \"pagerduty\"\nrouting_key_file = \"pd.key\"\n\n[receivers.chat]\ntype = \"slack\"\nurl_file = \"slack.url\"\n\n";

#[test]
fn routes_default_to_every_severity_and_no_matchers() {
    let config = parse(&format!(
        "{ROUTED}[[route]]\nreceivers = [\"pager\"]\n\n[[route]]\nseverity = []\nmatch = {{ sloth_service = \"checkout\", team = \"a\" }}\nreceivers = [\"chat\", \"pager\"]\n"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.routes.len(), 2);
    assert!(config.routes[0].severity.is_empty(), "absent: all");
    assert!(config.routes[0].matchers.is_empty());
    assert!(config.routes[1].severity.is_empty(), "empty: all");
    assert_eq!(config.routes[1].matchers["sloth_service"], "checkout");
    assert_eq!(
        config.routes[1].receivers,
        ["chat", "pager"],
        "in file order"
    );
}

#[test]
fn every_route_problem_is_reported_at_its_place() {
    let text = format!(
        "{ROUTED}[[route]]\nseverity = [\"page\", \"critical\"]\nmatch = {{ \"team-name\" = \"x\", env = \"\" }}\nreceivers = [\"pagr\", \"pager\", \"pager\"]\n\n[[route]]\nreceivers = []\n\n[[route]]\nseverity = [\"ticket\", \"ticket\"]\nrecievers = [\"chat\"]\n\n[[route]]\nseverity = \"page\"\n"
    );
    let errors = errors(&text);
    assert_eq!(
        positions(&errors),
        vec![
            (10, 21, InvalidValue), // "critical" is not page/ticket
            (11, 11, InvalidValue), // "team-name"
            (11, 36, InvalidValue), // env = ""
            (12, 14, InvalidValue), // "pagr" undefined
            (12, 31, Duplicate),    // "pager" twice
            (15, 13, InvalidValue), // receivers = []
            (18, 23, Duplicate),    // "ticket" twice
            (19, 1, UnknownKey),    // recievers
            (21, 1, Missing),       // receivers of the last route
            (22, 12, InvalidType),  // severity = "page"
        ],
        "{errors}"
    );
    for needle in [
        "route severity \"critical\" is not a severity; valid: \"page\", \"ticket\"",
        "`team-name` in `match` of [[route]] is not a label name",
        "`match` value for `env` in [[route]] is empty",
        "[[route]] sends to receiver \"pagr\", which is not defined; did you mean \"pager\"? defined receivers: pager, chat",
        "receiver \"pager\" is listed twice",
        "`receivers` of [[route]] is empty",
        "severity \"ticket\" is listed twice",
        "unknown key `recievers` in [[route]] (did you mean `receivers`?)",
        "(write a list, e.g. severity = [\"page\"])",
        "[[route]] needs `receivers`",
    ] {
        find(&errors, needle);
    }
}

#[test]
fn routes_without_any_receiver_defined_say_how_to_define_one() {
    let errors = errors("[[route]]\nreceivers = [\"pager\"]\n");
    assert_eq!(positions(&errors), vec![(2, 14, InvalidValue)], "{errors}");
    find(
        &errors,
        "no receiver is defined: add a [receivers.<name>] table",
    );
    let errors = self::errors("[[route]]\nseverity = [\"page\"]\n");
    assert_eq!(positions(&errors), vec![(1, 1, Missing)], "{errors}");
    find(&errors, "no receiver is defined");
}

#[test]
fn a_route_to_an_invalid_receiver_reports_only_the_receiver() {
    let errors =
        errors("[receivers.pager]\ntype = \"pagerdoody\"\n\n[[route]]\nreceivers = [\"pager\"]\n");
    assert_eq!(positions(&errors), vec![(2, 8, InvalidValue)], "{errors}");
}

#[test]
fn problems_across_alerting_receivers_and_routes_come_in_one_run() {
    let text = format!(
        "{}[slo.alerting]\nfor = \"later\"\n\n[receivers.pager]\ntype = \"pagerduty\"\n\n[[route]]\nreceivers = [\"pagr\"]\n",
        common::one_slo("")
    );
    let errors = errors(&text);
    assert_eq!(
        positions(&errors),
        vec![
            (13, 7, InvalidValue),
            (15, 1, Missing),
            (19, 14, InvalidValue)
        ],
        "{errors}"
    );
    let text = errors.to_string();
    assert!(
        text.starts_with("burnwatch.toml:13:7: `for`: `later` is not a duration"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 3);
}

#[test]
fn credentials_written_into_the_file_are_errors_that_never_show_them() {
    let text = r#"[backends.main]
type = "prometheus"
url = "http://prometheus:9090"
bearer_token = "tok-TOPSECRET-1"

[backends.other]
type = "prometheus"
url = "http://thanos:9090"
basic_auth = { username = "u", password = "pw-TOPSECRET-2" }

[receivers.oncall]
type = "pagerduty"
routing_key = "pd-TOPSECRET-3"

[receivers.chat]
type = "slack"
url = "https://hooks.slack.com/services/T0/B0/TOPSECRET-4"

[receivers.bot]
type = "webhook"
url = "https://incident-bot.internal/hook"
"#;
    let errors = parse_secrets(text).unwrap_err();
    let literal: Vec<(usize, usize)> = positions(&errors)
        .into_iter()
        .filter(|&(_, _, kind)| kind == LiteralSecret)
        .map(|(line, col, _)| (line, col))
        .collect();
    // Each points at the value; the webhook URL (no credential by nature) is accepted.
    assert_eq!(literal, [(4, 16), (9, 43), (13, 15), (17, 7)], "{errors}");
    let shown = errors.to_string();
    assert!(!shown.contains("TOPSECRET"), "{shown}");
    assert!(
        shown.contains("routing_key = \"${ROUTING_KEY}\""),
        "{shown}"
    );
    assert!(shown.contains("`routing_key_file"), "{shown}");

    // The same from the environment (wholly or in part) is fine.
    let fixed = text
        .replace("\"tok-TOPSECRET-1\"", "\"${PD_ROUTING_KEY}\"")
        .replace("\"pw-TOPSECRET-2\"", "\"${PD_ROUTING_KEY}\"")
        .replace("\"pd-TOPSECRET-3\"", "\"${PD_ROUTING_KEY}\"")
        .replace(
            "\"https://hooks.slack.com/services/T0/B0/TOPSECRET-4\"",
            "\"${SLACK_WEBHOOK_URL}\"",
        );
    parse_secrets(&fixed).unwrap_or_else(|e| panic!("{e}"));
}
