//! Validation of `[server]`: where to listen, the reload and API tokens, and the timeouts and caps that
//! keep hostile clients from exhausting the daemon.

use std::path::Path;
use std::time::Duration;

use toml::Spanned;

use crate::context::Ctx;
use crate::decode::RawDocument;
use crate::error::ErrorKind;
use crate::model::{SecretSource, Server, ServerLimits};
use crate::raw::{
    RawServer, Str, default_idle_timeout, default_listen, default_max_concurrent_renders,
    default_max_connections, default_read_header_timeout, default_request_timeout,
};

/// The largest `max_connections` and `max_concurrent_renders`: past it a typo, not a plan.
const MAX_COUNT: i64 = 1 << 20;

/// Validates `[server]`; `None` after reporting its problems.
pub(crate) fn server(ctx: &mut Ctx<'_>, doc: &RawDocument, dir: &Path) -> Option<Server> {
    let raw = doc.server.as_ref().map(|s| s.get_ref());
    let alerts_series = raw
        .and_then(|s| s.alerts_series.as_ref())
        .is_none_or(|b| *b.get_ref());
    let reload_token = match raw.and_then(|s| s.reload_token_file.as_ref()) {
        Some(file) => Some(SecretSource::File(ctx.file_path(file, dir)?)),
        None => None,
    };
    let api_token = match raw.and_then(|s| s.api_token_file.as_ref()) {
        Some(file) => Some(SecretSource::File(ctx.file_path(file, dir)?)),
        None => None,
    };
    let limits = limits(ctx, raw);
    let listen = match raw.and_then(|s| s.listen.as_ref()) {
        None => Some(default_listen()),
        Some(listen) => {
            let value = ctx.expand(listen)?;
            match value.parse() {
                Ok(listen) => Some(listen),
                Err(_) => {
                    ctx.error(
                        ErrorKind::InvalidValue,
                        &listen.span(),
                        format!(
                            "listen {value:?} is not an address and port: write e.g. \"0.0.0.0:9464\", \
                             \"127.0.0.1:9464\" or \"[::]:9464\" (host names are not resolved)"
                        ),
                    );
                    None
                }
            }
        }
    };
    Some(Server {
        listen: listen?,
        alerts_series,
        reload_token,
        api_token,
        limits: limits?,
    })
}

fn limits(ctx: &mut Ctx<'_>, raw: Option<&RawServer>) -> Option<ServerLimits> {
    let defaults = ServerLimits::default();
    let Some(raw) = raw else {
        return Some(defaults);
    };
    let read_header_timeout = timeout(
        ctx,
        raw.read_header_timeout.as_ref(),
        "read_header_timeout",
        defaults.read_header_timeout,
    );
    let idle_timeout = timeout(
        ctx,
        raw.idle_timeout.as_ref(),
        "idle_timeout",
        defaults.idle_timeout,
    );
    let request_timeout = timeout(
        ctx,
        raw.request_timeout.as_ref(),
        "request_timeout",
        defaults.request_timeout,
    );
    let max_connections = count(
        ctx,
        raw.max_connections.as_ref(),
        "max_connections",
        defaults.max_connections,
    );
    let max_concurrent_renders = count(
        ctx,
        raw.max_concurrent_renders.as_ref(),
        "max_concurrent_renders",
        defaults.max_concurrent_renders,
    );
    Some(ServerLimits {
        read_header_timeout: read_header_timeout?,
        idle_timeout: idle_timeout?,
        request_timeout: request_timeout?,
        max_connections: max_connections?,
        max_concurrent_renders: max_concurrent_renders?,
    })
}

/// A timeout of at least a second (hyper's clock and the clients' retries work in seconds).
fn timeout(
    ctx: &mut Ctx<'_>,
    text: Option<&Str>,
    key: &str,
    default: Duration,
) -> Option<Duration> {
    let Some(text) = text else {
        return Some(default);
    };
    let duration = ctx.duration(text, key)?;
    if duration >= Duration::from_secs(1) {
        return Some(duration);
    }
    ctx.error(
        ErrorKind::InvalidValue,
        &text.span(),
        format!(
            "{key} must be at least 1s, e.g. \"{}\"",
            crate::format_prometheus(default)
        ),
    );
    None
}

fn count(ctx: &mut Ctx<'_>, n: Option<&Spanned<i64>>, key: &str, default: usize) -> Option<usize> {
    let Some(n) = n else {
        return Some(default);
    };
    match *n.get_ref() {
        value @ 1..=MAX_COUNT => usize::try_from(value).ok(),
        value => {
            ctx.error(
                ErrorKind::InvalidValue,
                &n.span(),
                format!("{key} {value} must be between 1 and {MAX_COUNT}, e.g. {default}"),
            );
            None
        }
    }
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            read_header_timeout: default_read_header_timeout(),
            idle_timeout: default_idle_timeout(),
            request_timeout: default_request_timeout(),
            max_connections: default_max_connections(),
            max_concurrent_renders: default_max_concurrent_renders(),
        }
    }
}
