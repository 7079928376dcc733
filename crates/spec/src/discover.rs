//! `[[discover]]`: a template SLO applied to every value of a label found on the backend.
//!
//! The template (`[discover.slo]`) is an ordinary `[[slo]]` table whose strings may hold
//! `{{ .<label> }}`. It is checked at load with a sample value substituted, so every problem a
//! real value would meet in the template is reported at its `file:line:col`; at run time
//! [`Discover::expand`] substitutes each discovered value the same way and validates the result
//! as the `[[slo]]` it has become (same defaults, tiers and backends). Reading the values from the
//! backend, the cap, the grace period and retirement are the daemon's business: this module is
//! pure.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::context::Ctx;
use crate::decode::{RawDocument, table};
use crate::defaults::Defaults;
use crate::error::{ErrorKind, Errors};
use crate::location::{LineIndex, Location};
use crate::model::Slo;
use crate::raw::{RawSlo, default_discover_cap, default_discover_grace, default_discover_interval};
use crate::selector::{Selector, is_label_name};
use crate::tier::Tiers;

/// The value substituted for the label when the template is checked at load.
pub const SAMPLE_VALUE: &str = "sample";

/// A validated `[[discover]]`.
#[derive(Debug, Clone)]
pub struct Discover {
    /// Unique name (the `discover` label of the discovery self-metrics).
    pub name: String,
    /// Series whose `label` values are discovered.
    pub selector: Selector,
    /// The label whose values become SLOs.
    pub label: String,
    /// A value must match this to get SLOs (none: every value).
    pub allow: Option<regex::Regex>,
    /// A value matching this gets none.
    pub deny: Option<regex::Regex>,
    /// How often the values are read again.
    pub interval: Duration,
    /// Most SLOs from this discovery; further values, in sorted order, are dropped.
    pub cap: usize,
    /// How long a vanished value keeps its SLO and state before it is retired.
    pub grace: Duration,
    /// The backend the values are read from.
    pub backend: String,
    /// Where the `[[discover]]` is written.
    pub location: Location,
    template: Arc<SloTemplate>,
}

impl PartialEq for Discover {
    fn eq(&self, other: &Self) -> bool {
        let pattern = |r: &Option<regex::Regex>| r.as_ref().map(|r| r.as_str().to_string());
        self.name == other.name
            && self.selector == other.selector
            && self.label == other.label
            && pattern(&self.allow) == pattern(&other.allow)
            && pattern(&self.deny) == pattern(&other.deny)
            && (self.interval, self.cap, self.grace) == (other.interval, other.cap, other.grace)
            && self.backend == other.backend
            && self.template.source() == other.template.source()
    }
}

impl Discover {
    /// Whether `value` may get SLOs: it matches `allow` (when given) and not `deny`.
    pub fn admits(&self, value: &str) -> bool {
        self.allow.as_ref().is_none_or(|r| r.is_match(value))
            && !self.deny.as_ref().is_some_and(|r| r.is_match(value))
    }

    /// The SLO for `value`: the template with `{{ .<label> }}` replaced by it, validated as an
    /// `[[slo]]` (a value can still make an invalid SLO, e.g. a quote inside a selector).
    /// `${NAME}` references are expanded from the process environment.
    ///
    /// A value holding a quote, backslash, brace or control character is refused outright: put
    /// inside a quoted matcher it could close the quotes and add matchers of its own.
    pub fn expand(&self, value: &str) -> Result<Slo, Errors> {
        if let Some(c) = value
            .chars()
            .find(|c| matches!(c, '"' | '\'' | '`' | '\\' | '{' | '}') || c.is_control())
        {
            return Err(Errors(vec![crate::error::Error::new(
                ErrorKind::InvalidValue,
                self.location.clone(),
                format!(
                    "[[discover]] `{}`: the value {value:?} of `{}` holds {c:?}, which could \
                     change the template's queries; it gets no SLO",
                    self.name, self.label
                ),
            )]));
        }
        let template = &self.template;
        let index = LineIndex::new(&template.text, &template.file);
        let env = |name: &str| std::env::var(name).ok();
        let mut ctx = Ctx::new(index, &env);
        let slo = template_value(&template.text, template.position).and_then(|raw| {
            expand(
                &mut ctx,
                &raw,
                &self.label,
                value,
                template.backend.as_deref(),
                &template.defaults,
                &template.tiers,
                &template.backends,
            )
        });
        match slo {
            Some(slo) if !ctx.has_errors() => Ok(slo),
            _ => Err(Errors(ctx.into_errors())),
        }
    }
}

/// What expanding the template needs from the file it came from.
#[derive(Debug)]
struct SloTemplate {
    /// The whole configuration text (the template is found again in it by position).
    text: Arc<str>,
    file: PathBuf,
    /// Which `[[discover]]` of the file.
    position: usize,
    /// The discovery's own `backend`, given to the SLOs when the template names none.
    backend: Option<String>,
    defaults: Defaults,
    tiers: Tiers,
    backends: Vec<String>,
    /// The template's text, as written, for comparing two configurations.
    span: Range<usize>,
}

impl SloTemplate {
    fn source(&self) -> &str {
        self.text.get(self.span.clone()).unwrap_or("")
    }
}

/// The `[[discover]]` elements of `text`.
fn elements(text: &str) -> Option<Vec<Spanned<DeValue<'_>>>> {
    let mut root = DeTable::parse(text).ok()?.into_inner();
    let (_, discover) = root.remove_entry("discover")?;
    match discover.into_inner() {
        DeValue::Array(items) => Some(items.into_iter().collect()),
        _ => None,
    }
}

/// The `slo` table of the `position`th `[[discover]]` in `text`.
fn template_value(text: &str, position: usize) -> Option<Spanned<DeValue<'_>>> {
    let discover = elements(text)?.into_iter().nth(position)?;
    discover.get_ref().as_table()?.get("slo").cloned()
}

/// Which `[[discover]]` of `text` starts at `span`.
fn position_of(text: &str, span: &Range<usize>) -> Option<usize> {
    elements(text)?.iter().position(|e| e.span() == *span)
}

/// Validates every `[[discover]]`. `backends` are the backend names defined in the file.
pub(crate) fn discovers(
    ctx: &mut Ctx<'_>,
    doc: &RawDocument,
    file: &std::path::Path,
    defaults: &Defaults,
    tiers: &Tiers,
    backends: &[&str],
) -> Vec<Discover> {
    let text: Arc<str> = Arc::from(ctx.text());
    let mut out = Vec::new();
    let mut names: BTreeMap<String, Location> = BTreeMap::new();
    for raw in &doc.discovers {
        let span = raw.span();
        let position = position_of(ctx.text(), &span).unwrap_or(usize::MAX);
        let here = ctx.at(&span);
        let r = raw.get_ref();
        let name = required(
            ctx,
            r.name.as_ref(),
            &span,
            "name",
            "name = \"http-services\"",
        );
        if let (Some(name), Some(text)) = (&name, &r.name) {
            if let Some(first) = names.get(name) {
                ctx.error(
                    ErrorKind::Duplicate,
                    &text.span(),
                    format!(
                        "[[discover]] name `{name}` is already used by the [[discover]] at \
                         {first}; names must be unique: rename one of them"
                    ),
                );
            } else {
                names.insert(name.clone(), here.clone());
            }
        }
        let selector = required(
            ctx,
            r.selector.as_ref(),
            &span,
            "selector",
            "selector = 'http_requests_total'",
        )
        .and_then(|value| match Selector::parse(&value) {
            Ok(selector) => Some(selector),
            Err(why) => {
                let at = r.selector.as_ref().map_or(span.clone(), |s| s.span());
                ctx.error(
                    ErrorKind::InvalidValue,
                    &at,
                    format!("`selector`: {why}; write a series selector such as 'http_requests_total{{job=\"api\"}}'"),
                );
                None
            }
        });
        let label = required(ctx, r.label.as_ref(), &span, "label", "label = \"service\"")
            .and_then(|label| {
                if is_label_name(&label) && !label.starts_with("__") {
                    return Some(label);
                }
                let at = r.label.as_ref().map_or(span.clone(), |s| s.span());
                ctx.error(
                    ErrorKind::InvalidValue,
                    &at,
                    format!(
                        "`label` {label:?} is not a label name: letters, digits and `_`, not \
                         starting with a digit or `__`, e.g. \"service\""
                    ),
                );
                None
            });
        let allow = pattern(ctx, r.allow.as_ref(), "allow");
        let deny = pattern(ctx, r.deny.as_ref(), "deny");
        let interval = match &r.interval {
            Some(text) => ctx
                .duration(text, "interval")
                .and_then(|d| positive(ctx, text, d, "interval")),
            None => Some(default_discover_interval()),
        };
        let grace = match &r.grace {
            Some(text) => ctx.duration(text, "grace"),
            None => Some(default_discover_grace()),
        };
        let cap = match &r.cap {
            None => Some(default_discover_cap()),
            Some(cap) if *cap.get_ref() >= 1 => Some(*cap.get_ref() as usize),
            Some(cap) => {
                ctx.error(
                    ErrorKind::InvalidValue,
                    &cap.span(),
                    format!(
                        "`cap` {} must be at least 1 (the most SLOs this discovery may make), \
                         e.g. cap = 100; to turn the discovery off, remove the [[discover]]",
                        cap.get_ref()
                    ),
                );
                None
            }
        };
        let own_backend = match &r.backend {
            Some(text) => crate::defaults::backend_reference(ctx, text, backends, "[[discover]]"),
            None => None,
        };
        let backend = match (&own_backend, &defaults.backend, backends) {
            (Some(own), _, _) => Some(own.clone()),
            (None, Some(Some(default)), _) => Some(default.get_ref().clone()),
            (None, Some(None), [only]) => Some(only.to_string()),
            (None, Some(None), []) => None, // no backend at all: reported for the whole file
            (None, None, _) => None,        // an invalid default, reported already
            (None, Some(None), several) => {
                ctx.error(
                    ErrorKind::Missing,
                    &span,
                    format!(
                        "[[discover]] names no backend and [defaults] sets none, but there are \
                         {} backends ({}): add backend = \"{}\"",
                        several.len(),
                        several.join(", "),
                        several[0]
                    ),
                );
                None
            }
        };
        if r.backend.is_some() && own_backend.is_none() {
            continue;
        }
        // The template, checked with a sample value.
        let written = r.slo.is_some();
        let Some(slo_value) = template_value(ctx.text(), position).filter(|_| written) else {
            ctx.missing(
                &span,
                "slo",
                "[[discover]] has no template: add [discover.slo] with at least `name` and an \
                 SLI, e.g. [discover.slo.sli.ratio]"
                    .to_string(),
            );
            continue;
        };
        let template_span = slo_value.span();
        let checked = label.as_deref().and_then(|label| {
            expand(
                ctx,
                &slo_value,
                label,
                SAMPLE_VALUE,
                own_backend.as_deref(),
                defaults,
                tiers,
                &backends.iter().map(|b| b.to_string()).collect::<Vec<_>>(),
            )
        });
        let (
            Some(name),
            Some(selector),
            Some(label),
            Some(allow),
            Some(deny),
            Some(interval),
            Some(grace),
            Some(cap),
            Some(backend),
            Some(_),
        ) = (
            name, selector, label, allow, deny, interval, grace, cap, backend, checked,
        )
        else {
            continue;
        };
        out.push(Discover {
            name,
            selector,
            label,
            allow,
            deny,
            interval,
            cap,
            grace,
            backend,
            location: here,
            template: Arc::new(SloTemplate {
                text: Arc::clone(&text),
                file: file.to_path_buf(),
                position,
                backend: own_backend,
                defaults: defaults.clone(),
                tiers: tiers.clone(),
                backends: backends.iter().map(|b| b.to_string()).collect(),
                span: template_span,
            }),
        });
    }
    out
}

/// A required string key, expanded; `None` after reporting it missing or bad.
fn required(
    ctx: &mut Ctx<'_>,
    text: Option<&Spanned<String>>,
    span: &Range<usize>,
    key: &str,
    example: &str,
) -> Option<String> {
    let Some(text) = text else {
        ctx.missing(
            span,
            key,
            format!("[[discover]] needs `{key}`, e.g. {example}"),
        );
        return None;
    };
    let value = ctx.expand(text)?;
    if value.trim().is_empty() {
        ctx.error(
            ErrorKind::InvalidValue,
            &text.span(),
            format!("`{key}` is empty; e.g. {example}"),
        );
        return None;
    }
    Some(value)
}

/// `Some(None)` when absent, `Some(Some(regex))` when valid, `None` after reporting a bad one.
fn pattern(
    ctx: &mut Ctx<'_>,
    text: Option<&Spanned<String>>,
    key: &str,
) -> Option<Option<regex::Regex>> {
    let Some(text) = text else {
        return Some(None);
    };
    let value = ctx.expand(text)?;
    match regex::Regex::new(&value) {
        Ok(regex) => Some(Some(regex)),
        Err(err) => {
            let why = err
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            ctx.error(
                ErrorKind::InvalidValue,
                &text.span(),
                format!(
                    "`{key}` is not a valid regular expression ({why}); anchor it and escape \
                     what is literal, e.g. {key} = \"^(checkout|search|.*-api)$\""
                ),
            );
            None
        }
    }
}

fn positive(ctx: &mut Ctx<'_>, text: &Spanned<String>, d: Duration, key: &str) -> Option<Duration> {
    if d >= Duration::from_secs(1) {
        return Some(d);
    }
    ctx.error(
        ErrorKind::InvalidValue,
        &text.span(),
        format!("`{key}` must be at least 1s, e.g. {key} = \"5m\""),
    );
    None
}

/// The template with `value` substituted, decoded and validated as an `[[slo]]`; problems are
/// reported to `ctx` at their place in the template.
#[allow(clippy::too_many_arguments)]
fn expand(
    ctx: &mut Ctx<'_>,
    template: &Spanned<DeValue<'_>>,
    label: &str,
    value: &str,
    backend: Option<&str>,
    defaults: &Defaults,
    tiers: &Tiers,
    backends: &[String],
) -> Option<Slo> {
    let span = template.span();
    if !template.get_ref().is_table() {
        ctx.error(
            ErrorKind::InvalidType,
            &span,
            "`discover.slo` must be a table ([discover.slo]) holding the template SLO",
        );
        return None;
    }
    let mut rendered = template.clone();
    let before = ctx_errors(ctx);
    substitute(ctx, &mut rendered, label, value);
    if ctx_errors(ctx) > before {
        return None;
    }
    if let DeValue::Table(entries) = rendered.get_mut() {
        // The service defaults to the value, the backend to the discovery's own.
        let mut fill = |key: &'static str, with: &str| {
            if !entries.contains_key(key) {
                entries.insert(
                    Spanned::new(span.clone(), key.into()),
                    Spanned::new(span.clone(), DeValue::String(with.to_string().into())),
                );
            }
        };
        fill("service", value);
        if let Some(backend) = backend {
            fill("backend", backend);
        }
    }
    let raw = table::<RawSlo>(ctx, rendered, "discover.slo", "[discover.slo]")?;
    let names: Vec<&str> = backends.iter().map(String::as_str).collect();
    crate::slo::slo(ctx, &raw, defaults, tiers, &names)
}

fn ctx_errors(ctx: &Ctx<'_>) -> usize {
    ctx.error_count()
}

/// Replaces `{{ .<label> }}` by `value` in every string of `node` (keys stay as written);
/// `{{.window}}` stays for the SLI templates; any other placeholder is reported.
fn substitute(ctx: &mut Ctx<'_>, node: &mut Spanned<DeValue<'_>>, label: &str, value: &str) {
    let span = node.span();
    match node.get_mut() {
        DeValue::String(text) => match render(text, label, value) {
            Ok(Some(done)) => *text = done.into(),
            Ok(None) => {}
            Err((offset, message)) => {
                let written = Spanned::new(span, text.to_string());
                let at = ctx.offset_in(&written, offset);
                ctx.error_at_offset(ErrorKind::InvalidValue, at, message);
            }
        },
        DeValue::Array(items) => {
            for item in items.iter_mut() {
                substitute(ctx, item, label, value);
            }
        }
        DeValue::Table(entries) => {
            for (_, item) in entries.iter_mut() {
                substitute(ctx, item, label, value);
            }
        }
        _ => {}
    }
}

/// `text` with every `{{ .<label> }}` replaced (`None`: no placeholder in it), or the byte offset
/// of a bad placeholder and what is wrong.
fn render(text: &str, label: &str, value: &str) -> Result<Option<String>, (usize, String)> {
    if !text.contains("{{") {
        return Ok(None);
    }
    let mut out = String::new();
    let mut rest = text;
    let mut at = 0;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}") else {
            return Err((
                at + open,
                format!("`{{{{` without a closing `}}}}`; the placeholder is `{{{{ .{label} }}}}`"),
            ));
        };
        let inner = rest[open + 2..open + close].trim();
        out.push_str(&rest[..open]);
        if inner == format!(".{label}") {
            out.push_str(value);
        } else if inner == ".window" {
            out.push_str(&rest[open..open + close + 2]);
        } else {
            return Err((
                at + open,
                format!(
                    "unknown placeholder `{{{{ {inner} }}}}` in the [discover.slo] template; it \
                     may use `{{{{ .{label} }}}}` (the value of `label`) and, in events and raw \
                     SLIs, `{{{{.window}}}}`"
                ),
            ));
        }
        at += open + close + 2;
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_label_and_leaves_the_window() {
        assert_eq!(
            render(
                "x{service=\"{{ .service }}\"}[{{.window}}]",
                "service",
                "checkout"
            ),
            Ok(Some("x{service=\"checkout\"}[{{.window}}]".to_string()))
        );
        assert_eq!(render("plain", "service", "v"), Ok(None));
        let (offset, message) = render("ab{{ .team }}", "service", "v").unwrap_err();
        assert_eq!(offset, 2);
        assert!(message.contains("`{{ .team }}`"), "{message}");
        assert!(render("{{ .service", "service", "v").is_err());
    }
}
