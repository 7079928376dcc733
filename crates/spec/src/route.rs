//! Validation of `[[route]]`: which alerts go to which receivers.

use std::collections::BTreeMap;

use toml::Spanned;

use crate::context::Ctx;
use crate::error::ErrorKind;
use crate::model::{Route, Severity};
use crate::names::is_label_name;
use crate::raw::{RawRoute, Str, StrMap};
use crate::suggest::closest;

/// Validates one route against the receiver names defined in the file (valid or not, so an
/// invalid receiver is reported once, at its table); `None` after reporting its problems.
pub(crate) fn route(
    ctx: &mut Ctx<'_>,
    raw: &Spanned<RawRoute>,
    receivers: &[&str],
) -> Option<Route> {
    let span = raw.span();
    let raw = raw.get_ref();
    let severity = match &raw.severity {
        None => Some(Vec::new()),
        Some(list) => severities(ctx, list),
    };
    let matchers = match &raw.matchers {
        None => Some(BTreeMap::new()),
        Some(matchers) => self::matchers(ctx, matchers),
    };
    let names = match &raw.receivers {
        Some(list) => receiver_names(ctx, list, receivers),
        None => {
            ctx.missing(
                &span,
                "receivers",
                format!(
                    "[[route]] needs `receivers`, the receivers its alerts go to, e.g. receivers = \
                     [\"{}\"]; {}",
                    receivers.first().unwrap_or(&"pager"),
                    defined(receivers)
                ),
            );
            None
        }
    };
    Some(Route {
        severity: severity?,
        matchers: matchers?,
        receivers: names?,
    })
}

/// "defined receivers: a, b" or how to define one.
fn defined(receivers: &[&str]) -> String {
    if receivers.is_empty() {
        "no receiver is defined: add a [receivers.<name>] table with a `type`".to_string()
    } else {
        format!("defined receivers: {}", receivers.join(", "))
    }
}

fn severities(ctx: &mut Ctx<'_>, list: &Spanned<Vec<Str>>) -> Option<Vec<Severity>> {
    let mut out: Vec<Severity> = Vec::new();
    let mut ok = true;
    for text in list.get_ref() {
        match crate::severity::severity(ctx, text, "route severity") {
            Some(severity) if out.contains(&severity) => {
                ok = false;
                ctx.error(
                    ErrorKind::Duplicate,
                    &text.span(),
                    format!(
                        "severity {:?} is listed twice in this [[route]]",
                        text.get_ref()
                    ),
                );
            }
            Some(severity) => out.push(severity),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn matchers(ctx: &mut Ctx<'_>, matchers: &StrMap) -> Option<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (name, value) in matchers.get_ref() {
        if !is_label_name(name.get_ref()) {
            ok = false;
            ctx.error(
                ErrorKind::InvalidValue,
                &name.span(),
                format!(
                    "`{}` in `match` of [[route]] is not a label name: use [a-zA-Z_][a-zA-Z0-9_]*, \
                     e.g. match = {{ team = \"payments\" }}",
                    name.get_ref()
                ),
            );
        }
        match ctx.expand(value) {
            Some(v) if v.is_empty() => {
                ok = false;
                ctx.error(
                    ErrorKind::InvalidValue,
                    &value.span(),
                    format!(
                        "`match` value for `{}` in [[route]] is empty: give the exact label value \
                         to match, or remove the matcher",
                        name.get_ref()
                    ),
                );
            }
            Some(v) => {
                out.insert(name.get_ref().clone(), v);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn receiver_names(
    ctx: &mut Ctx<'_>,
    list: &Spanned<Vec<Str>>,
    receivers: &[&str],
) -> Option<Vec<String>> {
    if list.get_ref().is_empty() {
        ctx.error(
            ErrorKind::InvalidValue,
            &list.span(),
            format!(
                "`receivers` of [[route]] is empty: name at least one receiver; {}",
                defined(receivers)
            ),
        );
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    let mut ok = true;
    for text in list.get_ref() {
        let Some(name) = ctx.expand(text) else {
            ok = false;
            continue;
        };
        if !receivers.contains(&name.as_str()) {
            ok = false;
            let hint = closest(&name, receivers)
                .map(|r| format!("did you mean \"{r}\"? "))
                .unwrap_or_default();
            ctx.error(
                ErrorKind::InvalidValue,
                &text.span(),
                format!(
                    "[[route]] sends to receiver {name:?}, which is not defined; {hint}{}",
                    defined(receivers)
                ),
            );
        } else if out.contains(&name) {
            ok = false;
            ctx.error(
                ErrorKind::Duplicate,
                &text.span(),
                format!("receiver {name:?} is listed twice in this [[route]]"),
            );
        } else {
            out.push(name);
        }
    }
    ok.then_some(out)
}
