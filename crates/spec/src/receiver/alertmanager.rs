//! `type = "alertmanager"`: Alertmanager's API at the base `url`. Firing alerts are re-sent
//! every minute so Alertmanager keeps them active (it resolves alerts it has not heard of for
//! `resolve_timeout`); Alertmanager itself decides how often people are notified, so
//! `repeat_interval` is refused.

use std::time::Duration;

use super::kind::{Given, Kind, url};
use crate::context::Ctx;
use crate::model::ReceiverKind;

pub(crate) const KIND: Kind = Kind {
    name: "alertmanager",
    keys: &["url"],
    secret_keys: &[],
    fixed_repeat: Some((
        Duration::from_secs(60),
        "burnwatch re-sends firing alerts to Alertmanager every minute so they stay active, and \
         Alertmanager's own route `repeat_interval` decides how often people are notified; \
         remove it here",
    )),
    check,
};

const EXAMPLE: &str = "http://alertmanager:9093";

fn check(ctx: &mut Ctx<'_>, given: &Given<'_>) -> Option<ReceiverKind> {
    let Some(text) = given.get("url") else {
        ctx.missing(
            given.span,
            "url",
            format!("{} needs `url`, e.g. url = \"{EXAMPLE}\"", given.header),
        );
        return None;
    };
    url(ctx, text, EXAMPLE, crate::url::base_url).map(|url| ReceiverKind::Alertmanager { url })
}
