//! Validation of `[receivers.<name>]`: the keys every type takes, keys of another type (named
//! with the types that take them, rather than a bare "unknown key"), then the type's own check.

use std::path::Path;
use std::time::Duration;

use toml::Spanned;

use super::KINDS;
use super::kind::{Given, Kind, quoted};
use super::raw::RawReceiver;
use crate::context::Ctx;
use crate::duration::format_prometheus;
use crate::error::ErrorKind;
use crate::model::Receiver;
use crate::names::check_table_name;
use crate::raw::{Str, default_receiver_timeout, default_repeat_interval};

/// Keys every type takes (except `repeat_interval` where the type fixes it).
const COMMON_KEYS: [&str; 4] = ["type", "timeout", "repeat_interval", "send_resolved"];

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
    let kind = match &raw.kind {
        Some(text) => kind(ctx, text),
        None => {
            ctx.missing(
                &span,
                "type",
                format!("{header} needs `type`; valid types: {}", quoted(&names())),
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
    let kind = kind?;
    let foreign_ok = foreign_keys(ctx, raw, kind, &header);
    let given = Given {
        keys: &raw.keys,
        span: &span,
        header: &header,
        dir: config_dir,
    };
    let settings = (kind.check)(ctx, &given);
    let repeat_interval = match kind.fixed_repeat {
        Some((fixed, _)) => Some(fixed),
        None => repeat_interval,
    };
    Some(Receiver {
        name: name.get_ref().clone(),
        kind: settings?,
        timeout: timeout?,
        repeat_interval: repeat_interval?,
        send_resolved,
    })
    .filter(|_| name_ok && foreign_ok)
}

/// The type names, in documentation order.
fn names() -> Vec<&'static str> {
    KINDS.iter().map(|k| k.name).collect()
}

fn kind(ctx: &mut Ctx<'_>, text: &Str) -> Option<&'static Kind> {
    let choices: Vec<(&str, &'static Kind)> = KINDS.iter().map(|k| (k.name, *k)).collect();
    ctx.choice(text, &choices, |value, hint| {
        format!(
            "receiver type {value:?} is not supported{hint}; valid types: {}",
            quoted(&names())
        )
    })
}

/// The keys of `kind`, in documentation order.
fn keys_of(kind: &Kind) -> Vec<&'static str> {
    let mut keys: Vec<&str> = COMMON_KEYS
        .into_iter()
        .filter(|k| !(kind.fixed_repeat.is_some() && *k == "repeat_interval"))
        .collect();
    keys.extend(kind.keys);
    keys
}

/// Reports every key given that `kind` does not take, naming the types that take it.
fn foreign_keys(ctx: &mut Ctx<'_>, raw: &RawReceiver, kind: &Kind, header: &str) -> bool {
    let given = raw
        .keys
        .iter()
        .map(|(key, value)| (*key, value.span()))
        .chain(
            raw.repeat_interval
                .as_ref()
                .map(|value| ("repeat_interval", value.span())),
        );
    let keys = keys_of(kind);
    let mut ok = true;
    for (key, span) in given {
        if keys.contains(&key) {
            continue;
        }
        ok = false;
        let at = ctx.key_span(&span, key);
        let name = kind.name;
        let message = match kind.fixed_repeat {
            Some((_, why)) if key == "repeat_interval" => {
                format!("{name} receivers do not take `repeat_interval` ({header}): {why}")
            }
            _ => {
                let takers: Vec<&str> = KINDS
                    .iter()
                    .filter(|k| k.keys.contains(&key))
                    .map(|k| k.name)
                    .collect();
                format!(
                    "`{key}` is not a key of \"{name}\" receivers ({header}): only {} receivers \
                     take it; keys of \"{name}\" receivers: {}",
                    listed(&takers),
                    keys.join(", ")
                )
            }
        };
        ctx.error(ErrorKind::Conflict, &at, message);
    }
    ok
}

/// `"a"`, `"a" and "b"`, `"a", "b" and "c"`.
fn listed(names: &[&str]) -> String {
    let quoted = quoted(names);
    match quoted.rsplit_once(", ") {
        Some((head, last)) => format!("{head} and {last}"),
        None => quoted,
    }
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

/// Whether `key` of a receiver holds a secret in any type (its value never shown).
pub(crate) fn is_secret_key(key: &str) -> bool {
    KINDS.iter().any(|k| k.secret_keys.contains(&key))
}

#[cfg(test)]
mod tests {
    #[test]
    fn lists_read_as_english() {
        assert_eq!(super::listed(&["a"]), "\"a\"");
        assert_eq!(super::listed(&["a", "b"]), "\"a\" and \"b\"");
        assert_eq!(super::listed(&["a", "b", "c"]), "\"a\", \"b\" and \"c\"");
    }
}
