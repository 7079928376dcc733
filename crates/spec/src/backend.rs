//! Validation of `[backends.<name>]`.

use std::path::Path;

use toml::Spanned;

use crate::context::Ctx;
use crate::error::ErrorKind;
use crate::model::{Auth, Backend, BackendKind, Pace, SecretSource, Sli};
use crate::names::{check_table_name, is_header_name, is_header_value};
use crate::raw::{RawBackend, RawBasicAuth, Str, StrMap, default_timeout};
use crate::secret::Secret;

/// Backend types and the API each stands for, in documentation order.
const KINDS: [(&str, BackendKind); 2] = [
    ("prometheus", BackendKind::Prometheus),
    ("datadog", BackendKind::Datadog),
];

/// Validates one backend; `None` after reporting its problems. Relative `*_file` paths are
/// resolved against `config_dir`.
pub(crate) fn backend(
    ctx: &mut Ctx<'_>,
    name: &Spanned<String>,
    raw: &Spanned<RawBackend>,
    config_dir: &Path,
) -> Option<Backend> {
    let header = format!("[backends.{}]", name.get_ref());
    let span = raw.span();
    let raw = raw.get_ref();
    let name_ok = check_table_name(ctx, name, "backend");
    let kind = match &raw.kind {
        Some(kind) => kind_of(ctx, kind),
        None => {
            ctx.missing(
                &span,
                "type",
                format!("{header} needs `type`; valid types: {}", kind_list()),
            );
            None
        }
    };
    if kind == Some(BackendKind::Datadog) {
        let url = crate::datadog::site(ctx, raw, &span);
        let keys = crate::datadog::keys(ctx, raw, &span, config_dir);
        let timeout = timeout(ctx, raw);
        let pace = pace(ctx, raw);
        return Some(Backend {
            name: name.get_ref().clone(),
            kind: BackendKind::Datadog,
            url: url?,
            timeout: timeout?,
            headers: Vec::new(),
            auth: None,
            datadog: Some(keys?),
            pace: pace?,
        })
        .filter(|_| name_ok);
    }
    crate::datadog::refuse_keys(ctx, raw);
    let url = match &raw.url {
        Some(url) => checked_url(ctx, url),
        None => {
            ctx.missing(
                &span,
                "url",
                format!("{header} needs `url`, e.g. url = \"http://127.0.0.1:9090\""),
            );
            None
        }
    };
    let timeout = timeout(ctx, raw);
    let pace = pace(ctx, raw);
    let auth = auth(ctx, raw, &header, config_dir);
    let has_auth =
        raw.bearer_token.is_some() || raw.bearer_token_file.is_some() || raw.basic_auth.is_some();
    let headers = match &raw.headers {
        None => Some(Vec::new()),
        Some(headers) => checked_headers(ctx, headers, has_auth),
    };
    Some(Backend {
        name: name.get_ref().clone(),
        kind: kind?,
        url: url?,
        timeout: timeout?,
        headers: headers?,
        auth: auth?,
        datadog: None,
        pace: pace?,
    })
    .filter(|_| name_ok)
}

fn timeout(ctx: &mut Ctx<'_>, raw: &RawBackend) -> Option<std::time::Duration> {
    match &raw.timeout {
        None => Some(default_timeout()),
        Some(text) => match ctx.duration(text, "timeout") {
            Some(d) if d.is_zero() => {
                ctx.error(
                    ErrorKind::InvalidValue,
                    &text.span(),
                    "timeout must be more than 0, e.g. \"10s\"",
                );
                None
            }
            other => other,
        },
    }
}

/// The most history reads at once: past it a typo, not a plan.
const MAX_BACKFILL_CONCURRENCY: i64 = 256;

fn pace(ctx: &mut Ctx<'_>, raw: &RawBackend) -> Option<Pace> {
    let defaults = Pace::default();
    let concurrency = match &raw.backfill_concurrency {
        None => Some(defaults.concurrency),
        Some(n) => match *n.get_ref() {
            value @ 1..=MAX_BACKFILL_CONCURRENCY => usize::try_from(value).ok(),
            value => {
                ctx.error(
                    ErrorKind::InvalidValue,
                    &n.span(),
                    format!(
                        "backfill_concurrency {value} must be between 1 and \
                         {MAX_BACKFILL_CONCURRENCY}, e.g. {}",
                        defaults.concurrency
                    ),
                );
                None
            }
        },
    };
    let samples_per_second = match &raw.backfill_samples_per_second {
        None => Some(None),
        Some(n) => match u64::try_from(*n.get_ref()) {
            Ok(value) if value > 0 => Some(Some(value)),
            _ => {
                ctx.error(
                    ErrorKind::InvalidValue,
                    &n.span(),
                    format!(
                        "backfill_samples_per_second {} must be a positive number of samples, \
                         e.g. 5_000_000 (leave it out for no limit)",
                        n.get_ref()
                    ),
                );
                None
            }
        },
    };
    Some(Pace {
        concurrency: concurrency?,
        samples_per_second: samples_per_second?,
    })
}

/// Whether an SLI of this kind can be read from a backend of `kind`; the error text when not.
pub(crate) fn suits(kind: BackendKind, sli: &Sli) -> Result<(), String> {
    match (kind, sli) {
        (_, Sli::Composite { .. }) => Ok(()),
        (BackendKind::Datadog, Sli::Datadog { .. }) => Ok(()),
        (BackendKind::Datadog, _) => Err(
            "a datadog backend reads only [slo.sli.datadog] (metric queries counted per bucket); \
             PromQL SLIs (ratio, latency, events, raw, threshold, bool_gauge) need a prometheus \
             backend"
                .into(),
        ),
        (BackendKind::Prometheus, Sli::Datadog { .. }) => Err(
            "[slo.sli.datadog] needs a backend of type = \"datadog\"; a prometheus backend reads \
             ratio, latency, events, raw, threshold and bool_gauge SLIs"
                .into(),
        ),
        (BackendKind::Prometheus, _) => Ok(()),
    }
}

fn kind_list() -> String {
    KINDS
        .iter()
        .map(|(k, _)| format!("\"{k}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn kind_of(ctx: &mut Ctx<'_>, text: &Str) -> Option<BackendKind> {
    ctx.choice(text, &KINDS, |value, hint| {
        format!(
            "backend type {value:?} is not supported{hint}; valid types: {}",
            kind_list()
        )
    })
}

fn checked_url(ctx: &mut Ctx<'_>, text: &Str) -> Option<String> {
    let value = ctx.expand(text)?;
    if crate::url::has_userinfo(&value) {
        // The URL is not quoted: it holds a password.
        ctx.error(
            ErrorKind::InvalidValue,
            &text.span(),
            "url must not hold credentials (user:password@): they would show wherever the URL \
             does; write basic_auth = { username = \"...\", password_file = \"...\" } or \
             bearer_token_file = \"...\" instead",
        );
        return None;
    }
    crate::url::shaped(
        ctx,
        text,
        &value,
        "http://prometheus:9090",
        crate::url::base_url,
    )
}

fn checked_headers(
    ctx: &mut Ctx<'_>,
    headers: &StrMap,
    has_auth: bool,
) -> Option<Vec<(String, Secret)>> {
    let mut out: Vec<(String, Secret)> = Vec::new();
    let mut seen: Vec<&Str> = Vec::new();
    let mut ok = true;
    let mut entries: Vec<_> = headers.get_ref().iter().collect();
    entries.sort_by_key(|(name, _)| name.span().start);
    for (name, value) in entries {
        let header = name.get_ref();
        if !is_header_name(header) {
            ok = false;
            ctx.error(
                ErrorKind::InvalidValue,
                &name.span(),
                format!(
                    "`{header}` is not an HTTP header name: use letters, digits and !#$%&'*+-.^_`|~"
                ),
            );
        } else if let Some(first) = seen
            .iter()
            .find(|n| n.get_ref().eq_ignore_ascii_case(header))
        {
            ok = false;
            let first_at = ctx.at(&first.span());
            ctx.error(
                ErrorKind::Duplicate,
                &name.span(),
                format!("header `{header}` is given twice (header names ignore case); first at {first_at}"),
            );
        } else if has_auth && header.eq_ignore_ascii_case("authorization") {
            ok = false;
            ctx.error(
                ErrorKind::Conflict,
                &name.span(),
                "header `Authorization` conflicts with bearer_token/basic_auth: use one of them",
            );
        }
        seen.push(name);
        match ctx.expand_secret(value) {
            Some(secret) if is_header_value(secret.expose()) => out.push((header.clone(), secret)),
            Some(_) => {
                ok = false;
                ctx.error(
                    ErrorKind::InvalidValue,
                    &value.span(),
                    format!(
                        "the value of header `{header}` has a character HTTP headers cannot carry \
                         (only visible ASCII, space and tab); the value is secret and not shown"
                    ),
                );
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// `Some(None)`: no authentication; `None`: a problem was reported.
fn auth(ctx: &mut Ctx<'_>, raw: &RawBackend, header: &str, dir: &Path) -> Option<Option<Auth>> {
    let mut conflict = false;
    if let (Some(_), Some(file)) = (&raw.bearer_token, &raw.bearer_token_file) {
        conflict = true;
        ctx.error(
            ErrorKind::Conflict,
            &file.span(),
            format!("{header} gives both `bearer_token` and `bearer_token_file`: keep one"),
        );
    }
    if let Some(basic) = &raw.basic_auth
        && (raw.bearer_token.is_some() || raw.bearer_token_file.is_some())
    {
        conflict = true;
        ctx.error(
            ErrorKind::Conflict,
            &basic.span(),
            format!("{header} gives both a bearer token and `basic_auth`: keep one"),
        );
    }
    if conflict {
        return None;
    }
    if let Some(token) = &raw.bearer_token {
        let secret = ctx.expand_credential(token, "bearer_token", "bearer_token_file")?;
        if secret.expose().trim().is_empty() {
            ctx.error(
                ErrorKind::InvalidValue,
                &token.span(),
                "`bearer_token` is empty (is the environment variable it names empty?)",
            );
            return None;
        }
        return Some(Some(Auth::Bearer(SecretSource::Value(secret))));
    }
    if let Some(file) = &raw.bearer_token_file {
        return Some(Some(Auth::Bearer(SecretSource::File(
            ctx.file_path(file, dir)?,
        ))));
    }
    match &raw.basic_auth {
        Some(basic) => basic_auth(ctx, basic, header, dir).map(Some),
        None => Some(None),
    }
}

fn basic_auth(
    ctx: &mut Ctx<'_>,
    raw: &Spanned<RawBasicAuth>,
    header: &str,
    dir: &Path,
) -> Option<Auth> {
    let span = raw.span();
    let raw = raw.get_ref();
    let username = match &raw.username {
        None => {
            ctx.missing(
                &span,
                "username",
                format!("`basic_auth` in {header} needs `username`"),
            );
            None
        }
        Some(text) => {
            let name = ctx.expand(text)?;
            if name.is_empty() || name.contains(':') {
                ctx.error(
                    ErrorKind::InvalidValue,
                    &text.span(),
                    "basic_auth `username` must be non-empty and without `:`",
                );
                None
            } else {
                Some(name)
            }
        }
    };
    let password = match (&raw.password, &raw.password_file) {
        (Some(_), Some(file)) => {
            ctx.error(
                ErrorKind::Conflict,
                &file.span(),
                "`basic_auth` gives both `password` and `password_file`: keep one",
            );
            None
        }
        (Some(password), None) => ctx
            .expand_credential(password, "password", "password_file")
            .map(SecretSource::Value),
        (None, Some(file)) => ctx.file_path(file, dir).map(SecretSource::File),
        (None, None) => {
            if !ctx.was_dropped(&span, "password") && !ctx.was_dropped(&span, "password_file") {
                ctx.error(
                    ErrorKind::Missing,
                    &span,
                    format!("`basic_auth` in {header} needs `password` or `password_file`"),
                );
            }
            None
        }
    };
    Some(Auth::Basic {
        username: username?,
        password: password?,
    })
}
