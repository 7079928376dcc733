//! `type = "webhook"`: Alertmanager's webhook JSON POSTed to `url` (or `url_file`). The URL
//! may be written out (an internal endpoint often carries nothing secret) and is redacted all
//! the same.

use super::kind::{Given, Kind, secret_url};
use crate::context::Ctx;
use crate::model::ReceiverKind;

pub(crate) const KIND: Kind = Kind {
    name: "webhook",
    keys: &["url", "url_file"],
    secret_keys: &["url"],
    fixed_repeat: None,
    check,
};

const EXAMPLE: &str = "https://example.internal/hook";

fn check(ctx: &mut Ctx<'_>, given: &Given<'_>) -> Option<ReceiverKind> {
    secret_url(ctx, given, EXAMPLE, false).map(|url| ReceiverKind::Webhook { url })
}
