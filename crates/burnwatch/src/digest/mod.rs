//! Digests (`[[digest]]`): the weekly SLO review and the daily wins, built from `burnwatch
//! report`'s replay (`message`), scheduled in the daemon on their RRULE (`task`, on the digest
//! clock of `clock`), delivered by the notifier's `DigestSender`; and `burnwatch digest
//! --preview`, which prints one to the terminal without sending it.

pub mod clock;
pub mod message;
pub mod task;

use std::path::PathBuf;

use burnwatch_engine::Millis;
use burnwatch_spec::text::rfc3339;

use crate::cli::DigestFormat;
use crate::failure::Failure;
use crate::replay::parse_time;
use crate::report::{STEP, Span};

/// What `burnwatch digest` was asked.
#[derive(Debug)]
pub struct Request {
    /// The configuration.
    pub config: PathBuf,
    /// `--preview` (the only mode: the daemon sends).
    pub preview: bool,
    /// Only this digest (all when absent).
    pub name: Option<String>,
    /// The occurrence at or before this time; absent: the next occurrence, figures up to now.
    pub at: Option<String>,
    /// Output format.
    pub format: DigestFormat,
    /// Which excluded and silenced spans to run with.
    pub spans: crate::replay::SpanOptions,
}

/// Prints the digests asked for.
pub fn run(request: Request) -> Result<(), Failure> {
    if !request.preview {
        return Err(Failure::Usage(
            "digests are sent by `burnwatch run` on their schedule; pass --preview to print one \
             here without sending it"
                .into(),
        ));
    }
    let config = burnwatch_spec::load(&request.config).map_err(|errors| {
        Failure::Config(format!(
            "{} is invalid:\n{errors}",
            request.config.display()
        ))
    })?;
    let digests: Vec<_> = config
        .digests
        .iter()
        .filter(|d| request.name.as_ref().is_none_or(|n| *n == d.name))
        .collect();
    if digests.is_empty() {
        let names: Vec<&str> = config.digests.iter().map(|d| d.name.as_str()).collect();
        return Err(Failure::Usage(match &request.name {
            Some(name) => format!(
                "no [[digest]] is named {name:?} in {}; defined: {}",
                request.config.display(),
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ),
            None => format!("{} defines no [[digest]]", request.config.display()),
        }));
    }
    let at = request
        .at
        .as_deref()
        .map(|t| parse_time(t, "at"))
        .transpose()?;
    let now = burnwatch_scheduler::now_millis();
    let exclusions = crate::replay::exclusions(&request.spans, &config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| Failure::Runtime(format!("cannot start the async runtime: {err}")))?;
    let mut out = String::new();
    let mut documents = Vec::new();
    for digest in digests {
        let (occurrence, span, note) = occurrence(digest, at, now)?;
        let message = runtime.block_on(message::build(
            &config,
            digest,
            occurrence,
            span,
            &exclusions,
        ))?;
        match request.format {
            DigestFormat::Text => {
                if let Some(note) = note {
                    out.push_str(&format!("({note})\n"));
                }
                out.push_str(&message.text());
                out.push('\n');
            }
            DigestFormat::Json => documents.push(
                serde_json::to_value(&message)
                    .map_err(|err| Failure::Runtime(format!("cannot encode the digest: {err}")))?,
            ),
        }
    }
    if request.format == DigestFormat::Json {
        out = serde_json::to_string_pretty(&serde_json::json!({ "digests": documents }))
            .map_err(|err| Failure::Runtime(format!("cannot encode the digest: {err}")))?;
        out.push('\n');
    }
    crate::replay::write_stdout(&out)
}

/// The occurrence to preview, its span and a note for the reader: with `at`, the occurrence at
/// or before it; without, the next one, with figures up to now.
fn occurrence(
    digest: &burnwatch_spec::digest::Digest,
    at: Option<Millis>,
    now: Millis,
) -> Result<(Millis, Span, Option<String>), Failure> {
    match at {
        Some(at) => {
            let occurrence = digest.last_at_or_before(at).ok_or_else(|| {
                Failure::Usage(format!(
                    "digest `{}` has no occurrence in the year up to --at {}",
                    digest.name,
                    rfc3339(at)
                ))
            })?;
            Ok((occurrence, message::span_of(digest, occurrence), None))
        }
        None => {
            let next = digest.next_after(now).ok_or_else(|| {
                Failure::Usage(format!(
                    "digest `{}` has no further occurrence; pass --at to preview a past one",
                    digest.name
                ))
            })?;
            let step = STEP.as_millis() as Millis;
            let end = now.div_euclid(step) * step;
            let span = Span {
                start: end - digest.kind.span_millis(),
                end,
            };
            let note = format!(
                "next occurrence {}; figures up to {}",
                rfc3339(next),
                rfc3339(end)
            );
            Ok((next, span, Some(note)))
        }
    }
}
