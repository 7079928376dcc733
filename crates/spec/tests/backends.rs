//! Backend keys and authentication; which backend an SLO uses; period, interval and group_limit;
//! `[server]` timeouts and caps.

mod common;

use std::path::Path;
use std::time::Duration;

use burnwatch_spec::ErrorKind::*;
use burnwatch_spec::{Auth, SecretSource};
use common::{RATIO, errors, find, one_slo, parse, positions};

fn backend(body: &str) -> String {
    format!("[backends.main]\n{body}\n\n[[slo]]\nservice = \"svc\"\nname = \"a\"\n{RATIO}")
}

#[test]
fn backend_type_and_url_are_required_and_checked() {
    let errors = errors(&backend("timeout = \"0s\""));
    assert_eq!(
        positions(&errors),
        vec![(1, 1, Missing), (1, 1, Missing), (2, 11, InvalidValue)],
        "{errors}"
    );
    find(&errors, "needs `type`; valid types: \"prometheus\"");
    find(&errors, "needs `url`");

    let errors = self::errors(&backend("type = \"thanos\"\nurl = \"prometheus:9090\""));
    assert!(
        find(&errors, "\"thanos\"")
            .message()
            .contains("valid types: \"prometheus\""),
        "{errors}"
    );
    assert!(
        find(&errors, "url")
            .message()
            .contains("http:// or https://"),
        "{errors}"
    );
}

#[test]
fn headers_are_checked_and_kept_in_order() {
    let config = parse(&backend("type = \"prometheus\"\nurl = \"http://m/prometheus/\"\nheaders = { \"X-Scope-OrgID\" = \"a\", Accept = \"b\" }")).unwrap();
    let main = &config.backends["main"];
    assert_eq!(main.url, "http://m/prometheus");
    let names: Vec<&str> = main.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["X-Scope-OrgID", "Accept"], "file order");

    let errors = errors(&backend(
        "type = \"prometheus\"\nurl = \"http://m\"\nheaders = { \"X-A\" = \"a\", \"x-a\" = \"b\" }",
    ));
    let duplicate = find(&errors, "given twice");
    assert_eq!(duplicate.kind(), Duplicate);
    assert!(
        duplicate.message().contains("burnwatch.toml:4:13"),
        "{errors}"
    );
}

#[test]
fn bearer_and_basic_auth() {
    let config = parse(&backend(
        "type = \"prometheus\"\nurl = \"http://m\"\nbearer_token_file = \"secrets/token\"",
    ))
    .unwrap();
    assert_eq!(
        config.backends["main"].auth,
        Some(Auth::Bearer(SecretSource::File("secrets/token".into()))),
        "relative to the config file's directory, which is empty here"
    );
    let config = burnwatch_spec::parse(
        &backend("type = \"prometheus\"\nurl = \"http://m\"\nbasic_auth = { username = \"u\", password_file = \"/run/pw\" }"),
        Path::new("/etc/burnwatch/burnwatch.toml"),
        &|_| None,
    )
    .unwrap();
    assert_eq!(
        config.backends["main"].auth,
        Some(Auth::Basic {
            username: "u".into(),
            password: SecretSource::File("/run/pw".into())
        })
    );
    let relative = burnwatch_spec::parse(
        &backend("type = \"prometheus\"\nurl = \"http://m\"\nbearer_token_file = \"token\""),
        Path::new("/etc/burnwatch/burnwatch.toml"),
        &|_| None,
    )
    .unwrap();
    assert_eq!(
        relative.backends["main"].auth,
        Some(Auth::Bearer(SecretSource::File(
            "/etc/burnwatch/token".into()
        )))
    );
}

#[test]
fn authentication_conflicts() {
    let both_tokens = errors(&backend(
        "type = \"prometheus\"\nurl = \"http://m\"\nbearer_token = \"t\"\nbearer_token_file = \"f\"",
    ));
    assert_eq!(
        positions(&both_tokens),
        vec![(5, 21, Conflict)],
        "{both_tokens}"
    );
    let bearer_and_basic = errors(&backend(
        "type = \"prometheus\"\nurl = \"http://m\"\nbearer_token = \"t\"\nbasic_auth = { username = \"u\", password = \"p\" }",
    ));
    assert_eq!(
        positions(&bearer_and_basic),
        vec![(5, 14, Conflict)],
        "{bearer_and_basic}"
    );
    let no_password = errors(&backend(
        "type = \"prometheus\"\nurl = \"http://m\"\nbasic_auth = { username = \"u\" }",
    ));
    assert_eq!(
        positions(&no_password),
        vec![(4, 14, Missing)],
        "{no_password}"
    );
    let both_passwords = errors(&backend(
        "type = \"prometheus\"\nurl = \"http://m\"\nbasic_auth = { username = \"u\", password = \"p\", password_file = \"f\" }",
    ));
    assert_eq!(
        positions(&both_passwords),
        vec![(4, 64, Conflict)],
        "{both_passwords}"
    );
}

const TWO_BACKENDS: &str = "[backends.a]\ntype = \"prometheus\"\nurl = \"http://a\"\n[backends.b]\ntype = \"prometheus\"\nurl = \"http://b\"\n";

/// An SLO `svc-<name>` with `extra` lines; `[[slo]]` is on the second of its lines.
fn slo_with(name: &str, extra: &str) -> String {
    format!("\n[[slo]]\nservice = \"svc\"\nname = \"{name}\"\n{extra}{RATIO}")
}

#[test]
fn several_backends_need_a_default_or_a_choice_per_slo() {
    let errors = errors(&format!("{TWO_BACKENDS}{}", slo_with("x", "")));
    assert_eq!(positions(&errors), vec![(8, 1, Missing)], "{errors}");
    assert!(
        errors[0].message().contains("2 backends (a, b)"),
        "{errors}"
    );

    let chosen = parse(&format!(
        "{TWO_BACKENDS}{}{}",
        slo_with("b", "backend = \"b\"\n"),
        slo_with("a", "backend = \"a\"\n")
    ))
    .unwrap();
    assert_eq!(
        chosen
            .slos
            .iter()
            .map(|s| s.backend.as_str())
            .collect::<Vec<_>>(),
        ["b", "a"]
    );

    let defaulted = parse(&format!(
        "{TWO_BACKENDS}[defaults]\nbackend = \"b\"\n{}",
        slo_with("x", "")
    ))
    .unwrap();
    assert_eq!(defaulted.slos[0].backend, "b");
}

#[test]
fn undefined_backends_are_errors_with_the_defined_ones() {
    let errors = errors(&format!(
        "{TWO_BACKENDS}[defaults]\nbackend = \"c\"\n{}",
        slo_with("x", "backend = \"aa\"\n")
    ));
    assert_eq!(
        positions(&errors),
        vec![(8, 11, InvalidValue), (13, 11, InvalidValue)],
        "{errors}"
    );
    assert!(
        errors[0]
            .message()
            .contains("names \"c\", which is not defined; defined backends: a, b"),
        "{errors}"
    );
    assert!(
        errors[1].message().contains("did you mean \"a\"?"),
        "{errors}"
    );

    let none = self::errors(&slo_with("x", ""));
    assert!(
        none[0].message().contains("no backend is defined"),
        "{none}"
    );
}

#[test]
fn slo_overrides_win_over_defaults() {
    let text = one_slo("period = \"28d\"\ninterval = \"1m\"\ngroup_limit = 5\n").replace(
        "[[slo]]",
        "[defaults]\nperiod = \"7d\"\ninterval = \"10s\"\ngroup_limit = 50\n\n[[slo]]",
    );
    let config = parse(&format!("{text}{}", slo_with("x", ""))).unwrap_or_else(|e| panic!("{e}"));
    let (own, inherited) = (&config.slos[0], &config.slos[1]);
    assert_eq!(
        (own.period, own.interval, own.group_limit),
        (Duration::from_secs(28 * 86_400), Duration::from_secs(60), 5)
    );
    assert_eq!(
        (inherited.period, inherited.interval, inherited.group_limit),
        (Duration::from_secs(7 * 86_400), Duration::from_secs(10), 50)
    );
}

#[test]
fn period_rules() {
    for (period, ok) in [
        ("30d", true),
        ("3d", true),
        ("4w", true),
        ("1y", true),
        ("2d", false),
        ("1d", false),
        ("30d30m", false),
        ("soon", false),
    ] {
        let result = parse(&one_slo(&format!("period = \"{period}\"\n")));
        assert_eq!(result.is_ok(), ok, "period {period}: {result:?}");
        if let Err(errors) = result {
            assert_eq!(positions(&errors), vec![(8, 10, InvalidValue)], "{errors}");
        }
    }
    let short = errors(&one_slo("period = \"1d\"\n"));
    assert!(
        short[0].message().contains("longest default alert window"),
        "{short}"
    );
    let ragged = errors(&one_slo("period = \"30d30m\"\n"));
    assert!(
        ragged[0].message().contains("whole number of hours"),
        "{ragged}"
    );
}

#[test]
fn interval_rules() {
    for (interval, ok) in [
        ("1s", true),
        ("15s", true),
        ("30s", true),
        ("1m", true),
        ("5m", true),
        ("1500ms", true),
        ("7s", false),
        ("90s", false),
        ("500ms", false),
        ("6m", false),
    ] {
        let result = parse(&one_slo(&format!("interval = \"{interval}\"\n")));
        assert_eq!(result.is_ok(), ok, "interval {interval}: {result:?}");
    }
}

#[test]
fn group_limit_must_be_positive() {
    let errors = errors(&one_slo("group_limit = 0\n"));
    assert_eq!(positions(&errors), vec![(8, 15, InvalidValue)], "{errors}");
    let negative = self::errors(&one_slo("group_limit = -3\n"));
    assert!(negative[0].message().contains("at least 1"), "{negative}");
}

#[test]
fn listen_must_be_an_address() {
    let errors = errors(&format!(
        "[server]\nlisten = \"localhost:9464\"\n{}",
        one_slo("")
    ));
    assert_eq!(positions(&errors), vec![(2, 10, InvalidValue)], "{errors}");
    assert!(errors[0].message().contains("[::]:9464"), "{errors}");
}

#[test]
fn reload_token_file_is_relative_to_the_config_and_never_read_here() {
    let text = "[server]\nreload_token_file = \"reload-token\"\n\n[backends.main]\ntype = \"prometheus\"\nurl = \"http://m\"\n";
    let config =
        burnwatch_spec::parse(text, Path::new("/etc/burnwatch/burnwatch.toml"), &|_| None).unwrap();
    assert_eq!(
        config.server.reload_token,
        Some(SecretSource::File("/etc/burnwatch/reload-token".into()))
    );
    assert_eq!(
        parse(&backend("type = \"prometheus\"\nurl = \"http://m\""))
            .unwrap()
            .server
            .reload_token,
        None
    );
    let errors = errors("[server]\nreload_token_file = \"\"\n");
    assert_eq!(positions(&errors)[0].0, 2, "{errors}");
}

#[test]
fn api_token_file_is_relative_to_the_config_and_absent_by_default() {
    let text = "[server]\napi_token_file = \"/run/secrets/burnwatch-token\"\nreload_token_file = \"reload\"\n\n[backends.main]\ntype = \"prometheus\"\nurl = \"http://m\"\n";
    let config =
        burnwatch_spec::parse(text, Path::new("/etc/burnwatch/burnwatch.toml"), &|_| None).unwrap();
    assert_eq!(
        config.server.api_token,
        Some(SecretSource::File("/run/secrets/burnwatch-token".into()))
    );
    let relative = "[server]\napi_token_file = \"api-token\"\n\n[backends.main]\ntype = \"prometheus\"\nurl = \"http://m\"\n";
    let config = burnwatch_spec::parse(
        relative,
        Path::new("/etc/burnwatch/burnwatch.toml"),
        &|_| None,
    )
    .unwrap();
    assert_eq!(
        config.server.api_token,
        Some(SecretSource::File("/etc/burnwatch/api-token".into()))
    );
    assert_eq!(
        parse(&backend("type = \"prometheus\"\nurl = \"http://m\""))
            .unwrap()
            .server
            .api_token,
        None
    );
    let errors = errors("[server]\napi_token_file = \"\"\n");
    assert_eq!(positions(&errors)[0].0, 2, "{errors}");
}

#[test]
fn credentials_in_a_backend_url_are_an_error_that_never_quotes_them() {
    let errors = errors(&backend(
        "type = \"prometheus\"\nurl = \"http://admin:s3cr3t-pw@prometheus:9090\"",
    ));
    assert_eq!(positions(&errors), vec![(3, 7, InvalidValue)], "{errors}");
    let message = errors[0].message();
    assert!(
        message.contains("basic_auth") && message.contains("password_file"),
        "{message}"
    );
    assert!(!errors.to_string().contains("s3cr3t-pw"), "{errors}");
    // An `@` in the path or query is no credential.
    parse(&backend(
        "type = \"prometheus\"\nurl = \"http://prometheus:9090/tenant@a\"",
    ))
    .unwrap();
}

#[test]
fn server_limits_have_safe_defaults_and_are_checked() {
    let config = parse(&backend("type = \"prometheus\"\nurl = \"http://m\"")).unwrap();
    let limits = config.server.limits;
    assert_eq!(limits.read_header_timeout, Duration::from_secs(10));
    assert_eq!(limits.idle_timeout, Duration::from_secs(120));
    assert_eq!(limits.request_timeout, Duration::from_secs(60));
    assert_eq!(limits.max_connections, 256);
    assert_eq!(limits.max_concurrent_renders, 4);

    let set = format!(
        "[server]\nread_header_timeout = \"2s\"\nidle_timeout = \"30s\"\nrequest_timeout = \"5m\"\n\
         max_connections = 40\nmax_concurrent_renders = 2\n\n{}",
        backend("type = \"prometheus\"\nurl = \"http://m\"")
    );
    let limits = parse(&set).unwrap().server.limits;
    assert_eq!(limits.read_header_timeout, Duration::from_secs(2));
    assert_eq!(limits.idle_timeout, Duration::from_secs(30));
    assert_eq!(limits.request_timeout, Duration::from_secs(300));
    assert_eq!(limits.max_connections, 40);
    assert_eq!(limits.max_concurrent_renders, 2);

    let errors = errors(&format!(
        "[server]\nread_header_timeout = \"500ms\"\nidle_timeout = \"soon\"\nmax_connections = 0\n\
         max_concurrent_renders = -1\n\n{}",
        backend("type = \"prometheus\"\nurl = \"http://m\"")
    ));
    assert_eq!(
        positions(&errors),
        vec![
            (2, 23, InvalidValue),
            (3, 16, InvalidValue),
            (4, 19, InvalidValue),
            (5, 26, InvalidValue)
        ],
        "{errors}"
    );
    find(&errors, "read_header_timeout must be at least 1s");
    find(&errors, "max_connections 0 must be between 1 and");
}
