//! `type = "pagerduty"`: PagerDuty Events API v2. The routing key is a credential
//! (`routing_key` from the environment, or `routing_key_file`); `url` overrides the endpoint;
//! `page_severity` and `ticket_severity` pick PagerDuty's severity for each alert severity.

use super::kind::{Given, Kind, per_severity, credential, endpoint_or};
use crate::context::Ctx;
use crate::model::ReceiverKind;

pub(crate) const KIND: Kind = Kind {
    name: "pagerduty",
    keys: &[
        "url",
        "routing_key",
        "routing_key_file",
        "page_severity",
        "ticket_severity",
    ],
    secret_keys: &["routing_key"],
    fixed_repeat: None,
    check,
};

/// The Events API v2 endpoint.
pub(crate) const DEFAULT_URL: &str = "https://events.pagerduty.com/v2/enqueue";
/// PagerDuty's severity of pages by default.
pub(crate) const DEFAULT_PAGE_SEVERITY: &str = "critical";
/// PagerDuty's severity of tickets by default.
pub(crate) const DEFAULT_TICKET_SEVERITY: &str = "warning";
/// PagerDuty's event severities.
const SEVERITIES: [&str; 4] = ["critical", "error", "warning", "info"];

fn check(ctx: &mut Ctx<'_>, given: &Given<'_>) -> Option<ReceiverKind> {
    let routing_key = credential(ctx, given, ("routing_key", "routing_key_file"));
    let url = endpoint_or(ctx, given.get("url"), DEFAULT_URL, crate::url::endpoint);
    let (page_severity, ticket_severity) = per_severity(
        ctx,
        given,
        "severity",
        (DEFAULT_PAGE_SEVERITY, DEFAULT_TICKET_SEVERITY),
        (&SEVERITIES, "a PagerDuty severity"),
    );
    Some(ReceiverKind::PagerDuty {
        routing_key: routing_key?,
        url: url?,
        page_severity: page_severity?,
        ticket_severity: ticket_severity?,
    })
}
