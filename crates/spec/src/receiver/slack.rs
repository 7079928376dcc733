//! `type = "slack"`: a Slack incoming webhook. Its URL is a credential (the path is the
//! token): `url` from the environment, or `url_file`.

use super::kind::{Given, Kind, secret_url};
use crate::context::Ctx;
use crate::model::ReceiverKind;

pub(crate) const KIND: Kind = Kind {
    name: "slack",
    keys: &["url", "url_file"],
    secret_keys: &["url"],
    fixed_repeat: None,
    check,
};

const EXAMPLE: &str = "https://hooks.slack.com/services/T000/B000/XXXX";

fn check(ctx: &mut Ctx<'_>, given: &Given<'_>) -> Option<ReceiverKind> {
    secret_url(ctx, given, EXAMPLE, true).map(|url| ReceiverKind::Slack { url })
}
