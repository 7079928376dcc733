//! From text to the raw layer: TOML syntax, then each section and each `[[slo]]` on its own.
//!
//! Sections are decoded separately so that a problem in one SLO does not hide problems in
//! another. Within one table, serde stops at the first problem; decoding then drops the
//! offending key and tries again, so every unknown key and every wrongly typed value in the table
//! is reported in one run.

use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::context::Ctx;
use crate::error::ErrorKind;
use crate::raw::{
    RawBackend, RawComposite, RawDefaults, RawDigest, RawDiscover, RawMaintenance, RawRecord,
    RawRoute, RawServer, RawSlo, RawTier, SECTIONS,
};
use crate::receiver::raw::RawReceiver;
use crate::suggest::closest;

/// Gives up on a table after this many problems in it (each costs one decoding attempt).
const MAX_PROBLEMS_PER_TABLE: usize = 64;

/// The whole file in the raw layer. Sections absent from the file are `None` or empty.
#[derive(Debug, Default)]
pub(crate) struct RawDocument {
    /// `[server]`.
    pub server: Option<Spanned<RawServer>>,
    /// `[record]`.
    pub record: Option<Spanned<RawRecord>>,
    /// `[backends.<name>]`, by name (the name's span is its key in the file).
    pub backends: Vec<(Spanned<String>, Spanned<RawBackend>)>,
    /// `[defaults]`.
    pub defaults: Option<Spanned<RawDefaults>>,
    /// `[tiers.<name>]`, by name, in file order.
    pub tiers: Vec<(Spanned<String>, Spanned<RawTier>)>,
    /// Every `[[slo]]` in file order.
    pub slos: Vec<Spanned<RawSlo>>,
    /// Every `[[discover]]` in file order (its `slo` template is decoded by `discover.rs`).
    pub discovers: Vec<Spanned<RawDiscover>>,
    /// Every `[[composite]]` in file order.
    pub composites: Vec<Spanned<RawComposite>>,
    /// Every `[[maintenance]]` in file order.
    pub maintenance: Vec<Spanned<RawMaintenance>>,
    /// `[receivers.<name>]`, by name, in file order.
    pub receivers: Vec<(Spanned<String>, Spanned<RawReceiver>)>,
    /// Every `[[route]]` in file order.
    pub routes: Vec<Spanned<RawRoute>>,
    /// Every `[[digest]]` in file order.
    pub digests: Vec<Spanned<RawDigest>>,
    /// Whether the TOML syntax was valid. If not, the document is a best-effort recovery and
    /// semantic checks are skipped (they would report consequences of the syntax errors).
    pub syntax_ok: bool,
}

/// Parses and decodes `text`, reporting every syntax, unknown-key and type problem to `ctx`.
pub(crate) fn decode(text: &str, ctx: &mut Ctx<'_>) -> RawDocument {
    let (root, syntax_errors) = DeTable::parse_recoverable(text);
    let mut doc = RawDocument {
        syntax_ok: syntax_errors.is_empty(),
        ..RawDocument::default()
    };
    for error in syntax_errors {
        let span = error.span().unwrap_or(0..0);
        ctx.error(
            ErrorKind::Syntax,
            &span,
            format!("invalid TOML: {}", error.message()),
        );
    }
    for (key, value) in root.into_inner() {
        let span = key.span();
        let name = key.into_inner();
        match name.as_ref() {
            "specs" => crate::specs::check(ctx, &value),
            "server" => doc.server = table::<RawServer>(ctx, value, "server", "[server]"),
            "record" => doc.record = table::<RawRecord>(ctx, value, "record", "[record]"),
            "defaults" => doc.defaults = table::<RawDefaults>(ctx, value, "defaults", "[defaults]"),
            "backends" => {
                doc.backends = named(ctx, value, "backends", "backend", "[backends.main]")
            }
            "tiers" => doc.tiers = named(ctx, value, "tiers", "tier", "[tiers.critical]"),
            "slo" => doc.slos = array(ctx, value, "slo"),
            "discover" => doc.discovers = array(ctx, value, "discover"),
            "composite" => doc.composites = array(ctx, value, "composite"),
            "maintenance" => doc.maintenance = array(ctx, value, "maintenance"),
            "receivers" => {
                doc.receivers = named(ctx, value, "receivers", "receiver", "[receivers.pager]");
            }
            "route" => doc.routes = array(ctx, value, "route"),
            "digest" => doc.digests = array(ctx, value, "digest"),
            other => {
                let hint = closest(other, &SECTIONS)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                ctx.error(
                    ErrorKind::UnknownKey,
                    &span,
                    format!(
                        "unknown top-level key `{other}`{hint}; valid sections: {}",
                        SECTIONS.join(", ")
                    ),
                );
            }
        }
    }
    doc
}

/// A section of named tables, `[<section>.<name>]`, in file order; `what` names one entry.
fn named<T: DeserializeOwned>(
    ctx: &mut Ctx<'_>,
    value: Spanned<DeValue<'_>>,
    section: &str,
    what: &str,
    example: &str,
) -> Vec<(Spanned<String>, Spanned<T>)> {
    let span = value.span();
    let DeValue::Table(entries) = value.into_inner() else {
        ctx.error(
            ErrorKind::InvalidType,
            &span,
            format!("`{section}` must be a table of named {what}s, e.g. {example}"),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, value) in entries {
        let name = Spanned::new(name.span(), name.into_inner().into_owned());
        let path = format!("{section}.{}", toml_key(name.get_ref()));
        let header = format!("[{path}]");
        if let Some(decoded) = table::<T>(ctx, value, &path, &header) {
            out.push((name, decoded));
        }
    }
    out.sort_by_key(|(name, _)| name.span().start);
    out
}

/// An array of tables, `[[<section>]]`, in file order.
fn array<T: DeserializeOwned>(
    ctx: &mut Ctx<'_>,
    value: Spanned<DeValue<'_>>,
    section: &str,
) -> Vec<Spanned<T>> {
    let span = value.span();
    let header = format!("[[{section}]]");
    let DeValue::Array(elements) = value.into_inner() else {
        ctx.error(
            ErrorKind::InvalidType,
            &span,
            format!(
                "`{section}` must be an array of tables: write each one as {header} (double brackets)"
            ),
        );
        return Vec::new();
    };
    elements
        .into_iter()
        .filter_map(|element| table::<T>(ctx, element, section, &header))
        .collect()
}

/// Decodes one table, reporting every unknown key and bad value in it. `path` is its dotted
/// TOML path (`backends.main`), `header` how to name it in messages (`[[slo]]`).
pub(crate) fn table<T: DeserializeOwned>(
    ctx: &mut Ctx<'_>,
    mut value: Spanned<DeValue<'_>>,
    path: &str,
    header: &str,
) -> Option<Spanned<T>> {
    if !value.get_ref().is_table() {
        let message = format!(
            "`{path}` must be a table ({header}), not a {}",
            value.get_ref().type_str()
        );
        ctx.error(ErrorKind::InvalidType, &value.span(), message);
        return None;
    }
    for _ in 0..MAX_PROBLEMS_PER_TABLE {
        let error = match T::deserialize(ValueDeserializer::from(value.clone())) {
            Ok(decoded) => return Some(Spanned::new(value.span(), decoded)),
            Err(error) => error,
        };
        let span = error.span().unwrap_or_else(|| value.span());
        let found = find(value.get_ref(), &span);
        let Some(steps) = found else {
            let message = describe(error.message(), header, None);
            ctx.error(kind_of(error.message()), &span, message);
            return None;
        };
        let (table_span, key, where_) = remove(&mut value, &steps, path, header);
        let kind = kind_of(error.message());
        ctx.error(kind, &span, describe(error.message(), &where_, Some(&key)));
        // A misspelt key is reported with its likely meaning; that key is then not "missing".
        let meant = if kind == ErrorKind::UnknownKey {
            suggestion(error.message())
        } else {
            Some(key)
        };
        if let Some(meant) = meant {
            ctx.note_dropped(&table_span, &meant);
        }
    }
    None
}

/// One step from a table or array to a value inside it.
#[derive(Debug, Clone)]
enum Step {
    /// The entry with this key.
    Key(String),
    /// The array element at this index (a table: `[[a.b]]`).
    Index(usize),
}

/// The steps leading from `value` (a table) to the entry whose key or value has `span`. Inside
/// an array of tables the path leads into the element, so one bad key in `[[slo.alerting.windows]]`
/// drops that key only; a bad element of any other array drops the entry holding the array.
fn find(value: &DeValue<'_>, span: &Range<usize>) -> Option<Vec<Step>> {
    match value {
        DeValue::Table(entries) => entries.iter().find_map(|(key, value)| {
            if key.span() == *span || value.span() == *span {
                return Some(vec![Step::Key(key.get_ref().to_string())]);
            }
            let mut rest = find(value.get_ref(), span)?;
            rest.insert(0, Step::Key(key.get_ref().to_string()));
            Some(rest)
        }),
        DeValue::Array(elements) => elements.iter().enumerate().find_map(|(i, e)| {
            if e.span() == *span {
                return Some(Vec::new());
            }
            let rest = find(e.get_ref(), span)?;
            if e.get_ref().is_table() {
                let mut rest = rest;
                rest.insert(0, Step::Index(i));
                Some(rest)
            } else {
                Some(Vec::new())
            }
        }),
        _ => None,
    }
}

/// Removes the entry at `steps` (which end with a key); returns the span of the table that
/// held it, the key, and how to name that table in messages.
fn remove(
    value: &mut Spanned<DeValue<'_>>,
    steps: &[Step],
    path: &str,
    header: &str,
) -> (Range<usize>, String, String) {
    let Some((Step::Key(last), parents)) = steps.split_last() else {
        unreachable!("find ends every path with a key")
    };
    let mut table_span = value.span();
    let mut current = value.get_mut();
    let mut where_ = header.to_string();
    let mut dotted = path.to_string();
    for step in parents {
        let next = match (step, current) {
            (Step::Key(key), DeValue::Table(entries)) => {
                dotted = format!("{dotted}.{}", toml_key(key));
                where_ = format!("[{dotted}]");
                entries.get_mut(key.as_str()).expect("find saw this key")
            }
            (Step::Index(i), DeValue::Array(elements)) => {
                where_ = format!("[[{dotted}]]");
                elements.get_mut(*i).expect("find saw this element")
            }
            _ => unreachable!("find only descends into tables and arrays of tables"),
        };
        table_span = next.span();
        current = next.get_mut();
    }
    if let DeValue::Table(entries) = current {
        entries.remove(last.as_str());
    }
    (table_span, last.clone(), where_)
}

/// For serde's "unknown field" message, the valid key closest to the unknown one.
fn suggestion(message: &str) -> Option<String> {
    let (unknown, valid) = unknown_field(message)?;
    closest(unknown, &valid).map(str::to_string)
}

/// The unknown key and the valid keys from serde's "unknown field `x`, expected ..." message.
fn unknown_field(message: &str) -> Option<(&str, Vec<&str>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, expected) = rest.split_once('`').unwrap_or((rest, ""));
    Some((unknown, expected.split('`').skip(1).step_by(2).collect()))
}

fn kind_of(message: &str) -> ErrorKind {
    if message.starts_with("unknown field") {
        ErrorKind::UnknownKey
    } else if message.starts_with("missing field") {
        ErrorKind::Missing
    } else if message.starts_with("invalid type") || message.starts_with("invalid length") {
        ErrorKind::InvalidType
    } else {
        ErrorKind::InvalidValue
    }
}

/// serde's message rewritten for people: tables and keys named as in the file, a suggestion for
/// misspelt keys, the valid keys listed, no Rust type names, no secret values.
fn describe(message: &str, table: &str, key: Option<&str>) -> String {
    if let Some((unknown, valid)) = unknown_field(message) {
        let hint = closest(unknown, &valid)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        let list = if valid.is_empty() {
            "none".to_string()
        } else {
            valid.join(", ")
        };
        return format!("unknown key `{unknown}` in {table}{hint}; valid keys here: {list}");
    }
    let mut message = humanize(message);
    let Some(key) = key else {
        return format!("{table}: {message}");
    };
    if is_secret(table, key) {
        message = redact_quoted(&message);
    }
    let hint = match key {
        "objective" => " (write a number, e.g. objective = 99.9)",
        "le" => " (write the `le` label value as a string, e.g. le = \"0.3\")",
        "period" => " (write a duration string, e.g. period = \"30d\")",
        "interval" => " (write a duration string, e.g. interval = \"30s\")",
        "timeout" => " (write a duration string, e.g. timeout = \"10s\")",
        "group_limit" => " (write a whole number, e.g. group_limit = 1000)",
        "series_limit" => " (write a whole number, e.g. series_limit = 2000)",
        "group_by" => " (write a list of label names, e.g. group_by = [\"route\"])",
        "labels" => " (write a table of strings, e.g. labels = { team = \"payments\" })",
        "headers" => {
            " (write a table of strings, e.g. headers = { \"X-Scope-OrgID\" = \"team-a\" })"
        }
        "for" => " (write a duration string, e.g. for = \"5m\")",
        "keep_firing_for" => " (write a duration string, e.g. keep_firing_for = \"10m\")",
        "no_data_for" => " (write a duration string, e.g. no_data_for = \"15m\")",
        "short" => " (write a duration string, e.g. short = \"5m\")",
        "long" => " (write a duration string, e.g. long = \"1h\")",
        "repeat_interval" => " (write a duration string, e.g. repeat_interval = \"4h\")",
        "min_events" => " (write a number, e.g. min_events = 100)",
        "budget_exhausted" => {
            " (write a percentage of budget remaining, e.g. budget_exhausted = 0)"
        }
        "budget_share" => " (write a percentage of the period's budget, e.g. budget_share = 2)",
        "factor" => " (write a burn rate, e.g. factor = 14.4)",
        "page" | "ticket" | "no_data" | "send_resolved" => " (write true or false)",
        "annotations" => {
            " (write a table of strings, e.g. annotations = { runbook = \"https://...\" })"
        }
        "match" => " (write a table of label values, e.g. match = { team = \"payments\" })",
        "receivers" => " (write a list of receiver names, e.g. receivers = [\"pager\"])",
        "severity" if table.starts_with("[[route") => " (write a list, e.g. severity = [\"page\"])",
        "severity" => " (write \"page\" or \"ticket\")",
        "slos" => " (write a list of SLO ids, e.g. slos = [\"checkout-*\"])",
        "weight" => " (write a number above 0, e.g. weight = 2)",
        "components" => {
            " (write a list of tables, e.g. components = [{ slo = \"checkout-pay\", weight = 2 }])"
        }
        "schedule" => {
            " (write an RFC 5545 RRULE, e.g. schedule = \"FREQ=WEEKLY;BYDAY=SU;BYHOUR=2\")"
        }
        "start" | "end" => " (write an RFC 3339 time, e.g. \"2026-03-01T02:00:00Z\")",
        "exclude" | "silence" => " (write true or false)",
        "windows" => {
            " (write each pair as a [[...alerting.windows]] table with severity, short, long and budget_share or factor)"
        }
        _ => "",
    };
    format!("`{key}` in {table}: {message}{hint}")
}

/// Replaces serde's Rust-flavoured words with TOML's.
fn humanize(message: &str) -> String {
    let mut out = message.to_string();
    if let Some(at) = out.find("expected struct ") {
        out.replace_range(at.., "expected a table");
    }
    out.replace("expected a map", "expected a table")
        .replace("expected a sequence", "expected an array")
        .replace("expected f64", "expected a number")
        .replace("expected i64", "expected a whole number")
        .replace(" as i128", "")
}

fn is_secret(table: &str, key: &str) -> bool {
    matches!(key, "bearer_token" | "password" | "routing_key")
        || table.ends_with(".headers]")
        // The type is not known here: a key that holds a secret in any receiver type.
        || (table.starts_with("[receivers.") && crate::receiver::validate::is_secret_key(key))
}

/// `invalid type: string "hunter2", expected ...` without the value.
fn redact_quoted(message: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in message.chars() {
        match c {
            '`' | '"' if !inside => {
                inside = true;
                out.push_str("<redacted>");
            }
            '`' | '"' => inside = false,
            _ if inside => {}
            c => out.push(c),
        }
    }
    out
}

/// A key as TOML would write it in a dotted path: bare when possible, else quoted.
fn toml_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}
