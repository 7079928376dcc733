//! Configuration for burnwatch: the TOML file's format, loading, validation and the validated
//! model the rest of burnwatch consumes.
//!
//! This crate owns what a configuration file may say and what it means. [`load`] reads a file
//! and [`parse`] checks text; both return a [`Config`] or [`Errors`], every problem in the file,
//! each with `file:line:col` and what would be valid. The main types are [`Config`] and its
//! [`Slo`]s with their [`Sli`] (built from [`Selector`]s and [`Template`]s) and resolved
//! [`Alerting`] policy, [`Backend`]s whose credentials are [`Secret`]s, notification
//! [`Receiver`]s and the [`Route`]s to them, the duration helpers [`parse_duration`] and
//! [`format_prometheus`], [`text`]: how times and figures are written for people and read
//! from the command line, [`import`]: Sloth, OpenSLO and Pyrra specs mapped to SLOs, and
//! [`export`]: SLOs written as OpenSLO.
//!
//! Neighbours: `burnwatch-engine` turns SLOs into windows and burn rates, `burnwatch-scheduler`
//! queries the backends named here, `burnwatch-http` exports the series and sends to the
//! receivers, and the `burnwatch` binary calls [`load`] and prints [`Errors`]. This crate must
//! not do any I/O beyond reading the configuration file and the spec files its `specs` names: it does not open `*_file` secrets,
//! resolve host names or contact backends and receivers.
//!
//! Tiers (`[tiers.<name>]`, four built in) are resolved at load into each SLO's own fields;
//! progressive objectives stay in the model as [`ObjectiveStep`]s, read through
//! [`Slo::objective_at`]. [`digest`] holds `[[digest]]`: scheduled summaries (an RRULE read in
//! a time zone, as [`maintenance`] schedules are) to chat and webhook receivers.
//!
//! Internally there are two layers: `raw` mirrors the file (serde, unknown keys rejected),
//! `validate` turns it into `model` types with defaults applied and `${ENV}` expanded.
//!
//! # Example
//!
//! ```
//! use std::path::Path;
//!
//! let text = r#"
//! [backends.main]
//! type = "prometheus"
//! url = "http://127.0.0.1:9090"
//!
//! [[slo]]
//! service = "checkout"
//! name = "availability"
//! objective = 99.9
//! [slo.sli.ratio]
//! errors = 'http_requests_total{code=~"5.."}'
//! total = 'http_requests_total'
//! "#;
//! let file = Path::new("burnwatch.toml");
//! let no_env = |_: &str| None;
//! let config = burnwatch_spec::parse(text, file, &no_env).unwrap();
//! assert_eq!(config.slos[0].id, "checkout-availability");
//! assert_eq!(config.slos[0].objective.budget(), 0.001);
//!
//! // Every problem, at its line and column (the value on line 9, after `objective = `).
//! let errors = burnwatch_spec::parse(&text.replace("99.9", "150"), file, &no_env).unwrap_err();
//! assert_eq!(errors.len(), 1);
//! assert!(errors.to_string().starts_with("burnwatch.toml:9:13: objective 150 must be between 0 and 100"));
//! ```
#![deny(missing_docs)]

mod alerting;
mod backend;
mod budgeting;
mod calendar;
mod composite;
mod context;
mod datadog;
mod decode;
mod defaults;
pub mod digest;
mod discover;
mod duration;
mod env;
mod error;
pub mod export;
pub mod glob;
mod identity;
pub mod import;
mod location;
pub mod maintenance;
mod model;
mod names;
mod plugin;
mod raw;
pub mod receiver;
mod record;
mod route;
mod schedule;
mod scope;
mod secret;
mod selector;
mod server;
mod severity;
mod sli;
mod slo;
mod specs;
mod suggest;
mod template;
pub mod text;
mod tier;
mod url;
mod validate;
mod window;

use std::path::Path;

pub use discover::{Discover, SAMPLE_VALUE};
pub use duration::{format_prometheus, parse_duration};
pub use error::{Error, ErrorKind, Errors};
pub use identity::{alert_policy, alert_policy_over, slo_info, windows};
pub use location::Location;
pub use model::{
    AlertWindow, Alerting, AlertingExtras, Auth, Backend, BackendKind, Component, Config, Datadog,
    DatadogQuery, ObjectiveStep, Pace, Receiver, ReceiverKind, Route, SecretSource, Server,
    ServerLimits, Severity, Sli, Slo, Threshold,
};
pub use plugin::{Plugin, PluginSettings};
pub use record::Record;
pub use secret::Secret;
pub use selector::{MatchOp, Matcher, Selector};
pub use specs::spec_files;
pub use template::Template;

/// Reads and validates the configuration file at `path`, expanding `${NAME}` from the process
/// environment, with the SLOs of the spec files its `specs` names (errors in them point into
/// those files). A file that cannot be read is one error naming the path.
pub fn load(path: &Path) -> Result<Config, Errors> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        Errors(vec![Error::new(
            ErrorKind::Io,
            Location::file(path),
            format!(
                "cannot read the configuration file: {err}; check the path and that the file is \
                 readable UTF-8 text"
            ),
        )])
    })?;
    let attached = specs::attach(&text, path);
    let index = location::LineIndex::new(&attached.text, path)
        .with_origins(attached.first_line, attached.origins);
    let env = |name: &str| std::env::var(name).ok();
    match validate_text(&attached.text, path, index, &env) {
        Ok(config) if attached.problems.is_empty() => Ok(config),
        Ok(_) => Err(Errors(attached.problems)),
        Err(Errors(mut errors)) => {
            errors.extend(attached.problems);
            Err(Errors(errors))
        }
    }
}

/// Validates configuration `text` as if read from `file` (used in messages and to resolve
/// relative `*_file` paths), looking up `${NAME}` with `env`. Pure: no I/O, so `specs` is
/// checked but its files are not read ([`load`] reads them).
pub fn parse(
    text: &str,
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, Errors> {
    validate_text(text, file, location::LineIndex::new(text, file), env)
}

/// [`parse`] with `index` placing errors (in the spec files for lines `specs` appended).
fn validate_text(
    text: &str,
    file: &Path,
    index: location::LineIndex<'_>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, Errors> {
    let mut ctx = context::Ctx::new(index, env);
    let document = decode::decode(text, &mut ctx);
    let config = if document.syntax_ok {
        validate::validate(&mut ctx, &document, file)
    } else {
        None
    };
    match config {
        Some(config) if !ctx.has_errors() => Ok(config),
        _ => {
            let errors = ctx.into_errors();
            debug_assert!(!errors.is_empty(), "validation failed without saying why");
            Err(Errors(errors))
        }
    }
}
