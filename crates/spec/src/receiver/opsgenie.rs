//! `type = "opsgenie"`: Opsgenie's Alert API v2. The API key of an API integration is a
//! credential (`api_key` from the environment, or `api_key_file`); `url` is the API's base URL
//! (`https://api.eu.opsgenie.com` for EU accounts); `page_priority` and `ticket_priority` pick
//! Opsgenie's priority (P1 to P5) for each alert severity.
//! Reference: <https://docs.opsgenie.com/docs/alert-api>.

use super::kind::{Given, Kind, per_severity, credential, endpoint_or};
use crate::context::Ctx;
use crate::model::{ReceiverKind, SecretSource};
use crate::plugin::{Plugin, PluginSettings};

pub(crate) const KIND: Kind = Kind {
    name: "opsgenie",
    keys: &[
        "url",
        "api_key",
        "api_key_file",
        "page_priority",
        "ticket_priority",
    ],
    secret_keys: &["api_key"],
    fixed_repeat: None,
    check,
};

/// The Alert API's base URL (US instance).
pub const DEFAULT_URL: &str = "https://api.opsgenie.com";
/// Opsgenie's priority of pages by default: the highest.
pub const DEFAULT_PAGE_PRIORITY: &str = "P1";
/// Opsgenie's priority of tickets by default: Opsgenie's own default.
pub const DEFAULT_TICKET_PRIORITY: &str = "P3";
/// Opsgenie's alert priorities.
const PRIORITIES: [&str; 5] = ["P1", "P2", "P3", "P4", "P5"];

/// A validated `type = "opsgenie"` receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct Opsgenie {
    /// `api_key` or `api_key_file`: the API integration's key (`Authorization: GenieKey ...`).
    pub api_key: SecretSource,
    /// Base URL without a trailing slash (default [`DEFAULT_URL`]).
    pub url: String,
    /// Priority of pages (default [`DEFAULT_PAGE_PRIORITY`]).
    pub page_priority: String,
    /// Priority of tickets (default [`DEFAULT_TICKET_PRIORITY`]).
    pub ticket_priority: String,
}

impl PluginSettings for Opsgenie {
    const TYPE: &'static str = "opsgenie";
}

fn check(ctx: &mut Ctx<'_>, given: &Given<'_>) -> Option<ReceiverKind> {
    let api_key = credential(ctx, given, ("api_key", "api_key_file"));
    let url = endpoint_or(ctx, given.get("url"), DEFAULT_URL, crate::url::base_url);
    let (page_priority, ticket_priority) = per_severity(
        ctx,
        given,
        "priority",
        (DEFAULT_PAGE_PRIORITY, DEFAULT_TICKET_PRIORITY),
        (&PRIORITIES, "an Opsgenie priority"),
    );
    Some(ReceiverKind::Plugin(Plugin::new(Opsgenie {
        api_key: api_key?,
        url: url?,
        page_priority: page_priority?,
        ticket_priority: ticket_priority?,
    })))
}

#[cfg(test)]
mod tests {
    use crate::{Config, Errors, ReceiverKind, SecretSource};
    use std::path::Path;

    use super::Opsgenie;

    fn parse(receiver: &str) -> Result<Config, Errors> {
        let text = format!("[receivers.genie]\ntype = \"opsgenie\"\n{receiver}");
        crate::parse(&text, Path::new("/etc/burnwatch/b.toml"), &|name| {
            (name == "GENIE_KEY").then(|| "k-123".to_string())
        })
    }

    fn opsgenie(config: &Config) -> Opsgenie {
        let ReceiverKind::Plugin(plugin) = &config.receivers["genie"].kind else {
            panic!("not a plug-in: {config:?}");
        };
        plugin.get::<Opsgenie>().expect("opsgenie settings").clone()
    }

    #[test]
    fn defaults_are_the_us_instance_p1_for_pages_and_p3_for_tickets() {
        let config = parse("api_key = \"${GENIE_KEY}\"\n").unwrap();
        let genie = opsgenie(&config);
        assert_eq!(genie.url, "https://api.opsgenie.com");
        assert_eq!((genie.page_priority.as_str(), genie.ticket_priority.as_str()), ("P1", "P3"));
        let SecretSource::Value(key) = &genie.api_key else {
            panic!("inline key expected");
        };
        assert_eq!(key.expose(), "k-123");
    }

    #[test]
    fn eu_url_priorities_and_a_key_file() {
        let config = parse(
            "api_key_file = \"genie.key\"\nurl = \"https://api.eu.opsgenie.com/\"\n\
             page_priority = \"P2\"\nticket_priority = \"P4\"\n",
        )
        .unwrap();
        let genie = opsgenie(&config);
        assert_eq!(genie.url, "https://api.eu.opsgenie.com");
        assert_eq!(genie.page_priority, "P2");
        assert_eq!(genie.ticket_priority, "P4");
        assert_eq!(
            genie.api_key,
            SecretSource::File("/etc/burnwatch/genie.key".into())
        );
    }

    #[test]
    fn a_literal_key_a_bad_priority_and_a_foreign_key_are_reported_without_the_key() {
        let errors = parse(
            "api_key = \"k-literal-999\"\npage_priority = \"p1\"\nrouting_key_file = \"x\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(!errors.contains("k-literal-999"), "{errors}");
        for needle in [
            "`api_key` is a secret written into the file (not shown)",
            "page_priority \"p1\" is not an Opsgenie priority (did you mean \"P1\"?); valid: \
             \"P1\", \"P2\", \"P3\", \"P4\", \"P5\"",
            "`routing_key_file` is not a key of \"opsgenie\" receivers ([receivers.genie]): only \
             \"pagerduty\" receivers take it; keys of \"opsgenie\" receivers: type, timeout, \
             repeat_interval, send_resolved, url, api_key, api_key_file, page_priority, \
             ticket_priority",
        ] {
            assert!(errors.contains(needle), "{needle}\nnot in\n{errors}");
        }
    }

    #[test]
    fn the_key_is_required() {
        let errors = parse("").unwrap_err().to_string();
        assert!(
            errors.contains("[receivers.genie] needs `api_key` or `api_key_file`"),
            "{errors}"
        );
    }
}
