//! What a receiver type provides ([`Kind`]) and the checks type files share: secrets given
//! inline or in a file, secret URLs, quoted lists. Type files import this module only.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use crate::context::Ctx;
use crate::error::ErrorKind;
use crate::model::{ReceiverKind, SecretSource};
use crate::raw::Str;

/// A receiver type: its name, its keys and its checks. One per file, listed in `KINDS`.
pub(crate) struct Kind {
    /// `type = "<name>"`.
    pub name: &'static str,
    /// The keys only this type takes (besides `type`, `timeout`, `repeat_interval` and
    /// `send_resolved`), in documentation order. Every one takes a string.
    pub keys: &'static [&'static str],
    /// Which of [`Kind::keys`] hold secrets: values never shown in messages.
    pub secret_keys: &'static [&'static str],
    /// Set when the type re-sends firing alerts on its own schedule: that interval, and why a
    /// `repeat_interval` is refused (the end of the message).
    pub fixed_repeat: Option<(Duration, &'static str)>,
    /// Checks the type's keys (each given one is among [`Kind::keys`]) and builds its settings;
    /// `None` after reporting every problem.
    pub check: fn(&mut Ctx<'_>, &Given<'_>) -> Option<ReceiverKind>,
}

/// The type-specific keys written in one `[receivers.<name>]`, by key.
pub(crate) type Keys = BTreeMap<&'static str, Str>;

/// One receiver table as a type's check sees it.
pub(crate) struct Given<'a> {
    /// Its type-specific keys.
    pub keys: &'a Keys,
    /// The table's span, where a missing key is reported.
    pub span: &'a Range<usize>,
    /// `[receivers.<name>]`, for messages.
    pub header: &'a str,
    /// The configuration file's directory: relative `*_file` paths are resolved against it.
    pub dir: &'a Path,
}

impl Given<'_> {
    /// The value written for `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&Str> {
        self.keys.get(key)
    }
}

/// `"a", "b", "c"`.
pub(crate) fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|k| format!("\"{k}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A URL that may be given (else `default`, also the example in messages); see [`url`].
pub(crate) fn endpoint_or(
    ctx: &mut Ctx<'_>,
    text: Option<&Str>,
    default: &str,
    check: fn(&str, &str) -> Result<String, String>,
) -> Option<String> {
    match text {
        None => Some(default.to_string()),
        Some(text) => url(ctx, text, default, check),
    }
}

/// A URL that is not a secret (messages quote it), expanded and shaped by `check`
/// (`crate::url::endpoint` or `base_url`).
pub(crate) fn url(
    ctx: &mut Ctx<'_>,
    text: &Str,
    example: &str,
    check: fn(&str, &str) -> Result<String, String>,
) -> Option<String> {
    let value = ctx.expand(text)?;
    crate::url::shaped(ctx, text, &value, example, check)
}

/// A credential given as `key` (from the environment) or `file_key`, not empty when inline.
pub(crate) fn credential(
    ctx: &mut Ctx<'_>,
    given: &Given<'_>,
    (key, file_key): (&str, &str),
) -> Option<SecretSource> {
    secret(ctx, given, (key, file_key), true).and_then(|secret| match secret {
        SecretSource::Value(value) if value.expose().trim().is_empty() => {
            let text = given.get(key).expect("an inline secret was given");
            ctx.error(
                ErrorKind::InvalidValue,
                &text.span(),
                format!("`{key}` is empty (is the environment variable it names empty?)"),
            );
            None
        }
        secret => Some(secret),
    })
}

/// The URL is a secret, inline or in a file; an inline one must look like a URL, and messages
/// never show it. A `credential` URL (the path is the token) must come from the environment or
/// a file; another may be written out (an internal endpoint often carries nothing secret) and
/// is redacted all the same.
pub(crate) fn secret_url(
    ctx: &mut Ctx<'_>,
    given: &Given<'_>,
    example: &str,
    credential: bool,
) -> Option<SecretSource> {
    let url = secret(ctx, given, ("url", "url_file"), credential)?;
    if let (SecretSource::Value(value), Some(text)) = (&url, given.get("url"))
        && let Err(why) = crate::url::endpoint(value.expose(), example)
    {
        ctx.error(
            ErrorKind::InvalidValue,
            &text.span(),
            format!(
                "the `url` of {} {why}; the URL is secret and not shown{}",
                given.header,
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
    given: &Given<'_>,
    (key, file_key): (&str, &str),
    credential: bool,
) -> Option<SecretSource> {
    let header = given.header;
    match (given.get(key), given.get(file_key)) {
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
        (None, Some(file)) => ctx.file_path(file, given.dir).map(SecretSource::File),
        (None, None) => {
            let span = given.span;
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

/// A kind's `page_<noun>` and `ticket_<noun>` keys (PagerDuty's severities, Opsgenie's
/// priorities): each one of `valid`, else its default; `what` names the set in the message ("a
/// PagerDuty severity").
pub(crate) fn per_severity(
    ctx: &mut Ctx<'_>,
    given: &Given<'_>,
    noun: &str,
    (page_default, ticket_default): (&str, &str),
    (valid, what): (&[&str], &str),
) -> (Option<String>, Option<String>) {
    let choices: Vec<(&str, &str)> = valid.iter().map(|v| (*v, *v)).collect();
    let mut one = |severity: &str, default: &str| {
        let key = format!("{severity}_{noun}");
        let Some(text) = given.get(&key) else {
            return Some(default.to_string());
        };
        ctx.choice(text, &choices, |value, hint| {
            format!(
                "{key} {value:?} is not {what}{hint}; valid: {}",
                quoted(valid)
            )
        })
        .map(str::to_string)
    };
    (one("page", page_default), one("ticket", ticket_default))
}
