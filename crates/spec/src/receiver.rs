//! Validation of `[receivers.<name>]`: where notifications go.
//!
//! The raw table takes every type's keys so that a key of another type gets a message naming
//! the type that takes it, rather than a bare "unknown key".

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use toml::Spanned;

use crate::context::Ctx;
use crate::duration::format_prometheus;
use crate::error::ErrorKind;
use crate::model::{Receiver, ReceiverKind, SecretSource};
use crate::names::check_table_name;
use crate::raw::{
    RawReceiver, Str, alertmanager_repeat_interval, default_page_severity, default_pagerduty_url,
    default_receiver_timeout, default_repeat_interval, default_ticket_severity,
};
use crate::suggest::closest;

/// Receiver types, in documentation order.
const KINDS: [&str; 4] = ["pagerduty", "slack", "webhook", "alertmanager"];

/// Keys every type takes (alertmanager: all but `repeat_interval`).
const COMMON_KEYS: [&str; 4] = ["type", "timeout", "repeat_interval", "send_resolved"];

/// Keys only some types take, and those types.
const TYPE_KEYS: [(&str, &[&str]); 6] = [
    ("url", &["pagerduty", "slack", "webhook", "alertmanager"]),
    ("url_file", &["slack", "webhook"]),
    ("routing_key", &["pagerduty"]),
    ("routing_key_file", &["pagerduty"]),
    ("page_severity", &["pagerduty"]),
    ("ticket_severity", &["pagerduty"]),
];

/// PagerDuty's event severities.
const PAGERDUTY_SEVERITIES: [&str; 4] = ["critical", "error", "warning", "info"];

/// Validates one receiver; `None` after reporting its problems. Relative `*_file` paths are
/// resolved against `config_dir`.
pub(crate) fn receiver(
    ctx: &mut Ctx<'_>,
    name: &Spanned<String>,
    raw: &Spanned<RawReceiver>,
    config_dir: &Path,
) -> Option<Receiver> {
    let header = format!("[receivers.{}]", name.get_ref());
    let span = raw.span();
    let raw = raw.get_ref();
    let name_ok = check_table_name(ctx, name, "receiver");
    let kind_name = match &raw.kind {
        Some(text) => kind_name(ctx, text),
        None => {
            ctx.missing(
                &span,
                "type",
                format!("{header} needs `type`; valid types: {}", quoted(&KINDS)),
            );
            None
        }
    };
    let timeout = match &raw.timeout {
        None => Some(default_receiver_timeout()),
        Some(text) => positive(ctx, text, "timeout", "10s", Duration::from_millis(1)),
    };
    let repeat_interval = match &raw.repeat_interval {
        None => Some(default_repeat_interval()),
        Some(text) => positive(ctx, text, "repeat_interval", "4h", Duration::from_secs(60)),
    };
    let send_resolved = raw.send_resolved.as_ref().is_none_or(|b| *b.get_ref());
    let kind_name = kind_name?;
    let foreign_ok = foreign_keys(ctx, raw, kind_name, &header);
    let kind = match kind_name {
        "pagerduty" => pagerduty(ctx, raw, &span, &header, config_dir),
        "slack" => secret_url(ctx, raw, &span, &header, config_dir, SLACK_EXAMPLE, true)
            .map(|url| ReceiverKind::Slack { url }),
        "webhook" => secret_url(ctx, raw, &span, &header, config_dir, WEBHOOK_EXAMPLE, false)
            .map(|url| ReceiverKind::Webhook { url }),
        _ => alertmanager(ctx, raw, &span, &header).map(|url| ReceiverKind::Alertmanager { url }),
    };
    let repeat_interval = if matches!(kind, Some(ReceiverKind::Alertmanager { .. })) {
        Some(alertmanager_repeat_interval())
    } else {
        repeat_interval
    };
    Some(Receiver {
        name: name.get_ref().clone(),
        kind: kind?,
        timeout: timeout?,
        repeat_interval: repeat_interval?,
        send_resolved,
    })
    .filter(|_| name_ok && foreign_ok)
}

const SLACK_EXAMPLE: &str = "https://hooks.slack.com/services/T000/B000/XXXX";
const WEBHOOK_EXAMPLE: &str = "https://example.internal/hook";
const ALERTMANAGER_EXAMPLE: &str = "http://alertmanager:9093";

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|k| format!("\"{k}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn kind_name(ctx: &mut Ctx<'_>, text: &Str) -> Option<&'static str> {
    let value = ctx.expand(text)?;
    if let Some(kind) = KINDS.iter().find(|k| **k == value) {
        return Some(kind);
    }
    let hint = closest(&value, &KINDS)
        .map(|k| format!(" (did you mean \"{k}\"?)"))
        .unwrap_or_default();
    ctx.error(
        ErrorKind::InvalidValue,
        &text.span(),
        format!(
            "receiver type {value:?} is not supported{hint}; valid types: {}",
            quoted(&KINDS)
        ),
    );
    None
}

/// The keys of `kind`, in documentation order.
fn keys_of(kind: &str) -> Vec<&'static str> {
    let mut keys: Vec<&str> = COMMON_KEYS
        .into_iter()
        .filter(|k| !(kind == "alertmanager" && *k == "repeat_interval"))
        .collect();
    keys.extend(
        TYPE_KEYS
            .iter()
            .filter(|(_, kinds)| kinds.contains(&kind))
            .map(|(key, _)| *key),
    );
    keys
}

/// Reports every key given that `kind` does not take, naming the types that take it.
fn foreign_keys(ctx: &mut Ctx<'_>, raw: &RawReceiver, kind: &str, header: &str) -> bool {
    let given: [(&str, Option<Range<usize>>); 6] = [
        ("url_file", raw.url_file.as_ref().map(Spanned::span)),
        ("routing_key", raw.routing_key.as_ref().map(Spanned::span)),
        (
            "routing_key_file",
            raw.routing_key_file.as_ref().map(Spanned::span),
        ),
        (
            "page_severity",
            raw.page_severity.as_ref().map(Spanned::span),
        ),
        (
            "ticket_severity",
            raw.ticket_severity.as_ref().map(Spanned::span),
        ),
        (
            "repeat_interval",
            raw.repeat_interval.as_ref().map(Spanned::span),
        ),
    ];
    let mut ok = true;
    for (key, span) in given {
        let Some(span) = span else { continue };
        let keys = keys_of(kind);
        if keys.contains(&key) {
            continue;
        }
        ok = false;
        let at = ctx.key_span(&span, key);
        let message = if key == "repeat_interval" {
            format!(
                "alertmanager receivers do not take `repeat_interval` ({header}): burnwatch re-sends \
                 firing alerts to Alertmanager every minute so they stay active, and Alertmanager's \
                 own route `repeat_interval` decides how often people are notified; remove it here"
            )
        } else {
            let takers = TYPE_KEYS
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(&[][..], |(_, kinds)| *kinds);
            format!(
                "`{key}` is not a key of \"{kind}\" receivers ({header}): only {} receivers take \
                 it; keys of \"{kind}\" receivers: {}",
                quoted(takers).replace(", ", " and "),
                keys.join(", ")
            )
        };
        ctx.error(ErrorKind::Conflict, &at, message);
    }
    ok
}

/// A duration of at least `min`.
fn positive(
    ctx: &mut Ctx<'_>,
    text: &Str,
    key: &str,
    example: &str,
    min: Duration,
) -> Option<Duration> {
    let duration = ctx.duration(text, key)?;
    if duration >= min {
        return Some(duration);
    }
    let least = if min < Duration::from_secs(1) {
        "more than 0".to_string()
    } else {
        format!("at least {}", format_prometheus(min))
    };
    ctx.error(
        ErrorKind::InvalidValue,
        &text.span(),
        format!("{key} must be {least}, e.g. \"{example}\""),
    );
    None
}

fn pagerduty(
    ctx: &mut Ctx<'_>,
    raw: &RawReceiver,
    span: &Range<usize>,
    header: &str,
    dir: &Path,
) -> Option<ReceiverKind> {
    let routing_key = secret(
        ctx,
        (raw.routing_key.as_ref(), raw.routing_key_file.as_ref()),
        ("routing_key", "routing_key_file"),
        (span, true),
        header,
        dir,
    )
    .and_then(|key| match key {
        SecretSource::Value(value) if value.expose().trim().is_empty() => {
            let text = raw.routing_key.as_ref().expect("an inline key was given");
            ctx.error(
                ErrorKind::InvalidValue,
                &text.span(),
                "`routing_key` is empty (is the environment variable it names empty?)",
            );
            None
        }
        key => Some(key),
    });
    let url = match &raw.url {
        None => Some(default_pagerduty_url().to_string()),
        Some(text) => match ctx.expand(text) {
            None => None,
            Some(value) => match crate::url::endpoint(&value, default_pagerduty_url()) {
                Ok(url) => Some(url),
                Err(why) => {
                    ctx.error(
                        ErrorKind::InvalidValue,
                        &text.span(),
                        format!("url {value:?} {why}"),
                    );
                    None
                }
            },
        },
    };
    let page_severity = pagerduty_severity(
        ctx,
        raw.page_severity.as_ref(),
        "page_severity",
        default_page_severity(),
    );
    let ticket_severity = pagerduty_severity(
        ctx,
        raw.ticket_severity.as_ref(),
        "ticket_severity",
        default_ticket_severity(),
    );
    Some(ReceiverKind::PagerDuty {
        routing_key: routing_key?,
        url: url?,
        page_severity: page_severity?,
        ticket_severity: ticket_severity?,
    })
}

fn pagerduty_severity(
    ctx: &mut Ctx<'_>,
    text: Option<&Str>,
    key: &str,
    default: &str,
) -> Option<String> {
    let Some(text) = text else {
        return Some(default.to_string());
    };
    let value = ctx.expand(text)?;
    if PAGERDUTY_SEVERITIES.contains(&value.as_str()) {
        return Some(value);
    }
    let hint = closest(&value, &PAGERDUTY_SEVERITIES)
        .map(|s| format!(" (did you mean \"{s}\"?)"))
        .unwrap_or_default();
    ctx.error(
        ErrorKind::InvalidValue,
        &text.span(),
        format!(
            "{key} {value:?} is not a PagerDuty severity{hint}; valid: {}",
            quoted(&PAGERDUTY_SEVERITIES)
        ),
    );
    None
}

/// Slack and webhook: the URL is a secret, inline or in a file; an inline one must look like a
/// URL, and messages never show it. A Slack URL is a credential (the path is the token), so it
/// must come from the environment or a file; a webhook URL may be written out (an internal
/// endpoint often carries nothing secret) and is redacted all the same.
fn secret_url(
    ctx: &mut Ctx<'_>,
    raw: &RawReceiver,
    span: &Range<usize>,
    header: &str,
    dir: &Path,
    example: &str,
    credential: bool,
) -> Option<SecretSource> {
    let url = secret(
        ctx,
        (raw.url.as_ref(), raw.url_file.as_ref()),
        ("url", "url_file"),
        (span, credential),
        header,
        dir,
    )?;
    if let (SecretSource::Value(value), Some(text)) = (&url, &raw.url)
        && let Err(why) = crate::url::endpoint(value.expose(), example)
    {
        ctx.error(
            ErrorKind::InvalidValue,
            &text.span(),
            format!(
                "the `url` of {header} {why}; the URL is secret and not shown{}",
                if text.get_ref().contains("${") {
                    " (check the environment variable it names)"
                } else {
                    ""
                }
            ),
        );
        return None;
    }
    Some(url)
}

/// Exactly one of an inline secret (`key`) and a file (`file_key`); a `credential` given inline
/// must come from the environment.
fn secret(
    ctx: &mut Ctx<'_>,
    (value, file): (Option<&Str>, Option<&Str>),
    (key, file_key): (&str, &str),
    (span, credential): (&Range<usize>, bool),
    header: &str,
    dir: &Path,
) -> Option<SecretSource> {
    match (value, file) {
        (Some(_), Some(file)) => {
            let at = ctx.key_span(&file.span(), file_key);
            ctx.error(
                ErrorKind::Conflict,
                &at,
                format!("{header} gives both `{key}` and `{file_key}`: keep one"),
            );
            None
        }
        (Some(value), None) if credential => ctx
            .expand_credential(value, key, file_key)
            .map(SecretSource::Value),
        (Some(value), None) => ctx.expand_secret(value).map(SecretSource::Value),
        (None, Some(file)) => ctx.file_path(file, dir).map(SecretSource::File),
        (None, None) => {
            if !ctx.was_dropped(span, key) && !ctx.was_dropped(span, file_key) {
                ctx.error(
                    ErrorKind::Missing,
                    span,
                    format!(
                        "{header} needs `{key}` or `{file_key}` (a secret: write \
                         {key} = \"${{ENV_VAR}}\" or {file_key} = \"/run/secrets/...\")"
                    ),
                );
            }
            None
        }
    }
}

fn alertmanager(
    ctx: &mut Ctx<'_>,
    raw: &RawReceiver,
    span: &Range<usize>,
    header: &str,
) -> Option<String> {
    let Some(text) = &raw.url else {
        ctx.missing(
            span,
            "url",
            format!("{header} needs `url`, e.g. url = \"{ALERTMANAGER_EXAMPLE}\""),
        );
        return None;
    };
    let value = ctx.expand(text)?;
    match crate::url::base_url(&value, ALERTMANAGER_EXAMPLE) {
        Ok(url) => Some(url),
        Err(why) => {
            ctx.error(
                ErrorKind::InvalidValue,
                &text.span(),
                format!("url {value:?} {why}"),
            );
            None
        }
    }
}
