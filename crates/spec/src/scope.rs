//! What selects SLOs in a section that applies to some of them (`[[maintenance]]`,
//! `[[digest]]`): id patterns (`slos`) and labels; checked here, and matched by [`covers`].

use std::collections::BTreeMap;

use toml::Spanned;

use crate::context::Ctx;
use crate::error::ErrorKind;
use crate::model::Slo;
use crate::names::is_label_name;
use crate::raw::{Str, StrMap};
use crate::suggest::closest;

/// Whether the SLO with `id` and `labels` is in a scope: its id matches one of `slos` (when
/// any are given) and it has every label of `wanted` (when any are given).
pub(crate) fn covers<'a>(
    slos: &[String],
    wanted: &BTreeMap<String, String>,
    id: &str,
    labels: impl Iterator<Item = (&'a str, &'a str)> + Clone,
) -> bool {
    (slos.is_empty() || slos.iter().any(|p| crate::glob::matches(p, id)))
        && wanted.iter().all(|(name, value)| {
            labels
                .clone()
                .any(|(n, v)| n == name.as_str() && v == value.as_str())
        })
}

/// The SLO id patterns of `list`, expanded; when the configuration is `complete`, one that
/// matches no SLO is an error at its place, worded by `unmatched(pattern, hint, ids)` (the
/// hint: a "did you mean" for a plain id, else empty).
pub(crate) fn patterns(
    ctx: &mut Ctx<'_>,
    list: &Spanned<Vec<Str>>,
    slos: &[Slo],
    complete: bool,
    unmatched: impl Fn(&str, &str, &[&str]) -> String,
) -> Option<Vec<String>> {
    let ids: Vec<&str> = slos.iter().map(|s| s.id.as_str()).collect();
    let mut out = Vec::new();
    let mut ok = true;
    for text in list.get_ref() {
        let Some(pattern) = ctx.expand(text) else {
            ok = false;
            continue;
        };
        if complete && !ids.iter().any(|id| crate::glob::matches(&pattern, id)) {
            ok = false;
            let hint = closest(&pattern, &ids)
                .filter(|_| !crate::glob::is_pattern(&pattern))
                .map(|id| format!(" (did you mean \"{id}\"?)"))
                .unwrap_or_default();
            let message = unmatched(&pattern, &hint, &ids);
            ctx.error(ErrorKind::InvalidValue, &text.span(), message);
            continue;
        }
        out.push(pattern);
    }
    ok.then_some(out)
}

/// `labels = { team = "payments" }` of `section`: label names checked, values expanded.
pub(crate) fn labels(
    ctx: &mut Ctx<'_>,
    labels: &StrMap,
    section: &str,
) -> Option<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (name, value) in labels.get_ref() {
        if !is_label_name(name.get_ref()) {
            ok = false;
            ctx.error(
                ErrorKind::InvalidValue,
                &name.span(),
                format!(
                    "`{}` in `labels` of {section} is not a label name: use \
                     [a-zA-Z_][a-zA-Z0-9_]*, e.g. labels = {{ team = \"payments\" }}",
                    name.get_ref()
                ),
            );
        }
        match ctx.expand(value) {
            Some(v) => {
                out.insert(name.get_ref().clone(), v);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}
