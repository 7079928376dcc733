//! The span sources replay and reports run with: the same [`Exclusions`] the daemon's runners
//! read, so history is replayed with what the daemon excludes and silences.
//!
//! Every span source is registered here, once, for the daemon, replay and reports alike: the
//! configuration's maintenance windows, the corrections stored in a data directory (replay and
//! reports; the daemon serves its live list), and the fixed spans of `--exclusion-spans` (a
//! JSON file of spans, for tests and what-ifs), so live, replay and reports exclude alike.
//! `--ignore-exclusions` registers none: the counterfactual.

use std::path::PathBuf;
use std::sync::Arc;

use burnwatch_engine::{ExclusionSpan, Exclusions, FixedSpans};

use burnwatch_spec::Config;

use crate::failure::Failure;

/// Which spans a replay or report runs with.
#[derive(Debug, Clone, Default)]
pub struct SpanOptions {
    /// Run with no span at all (`--ignore-exclusions`).
    pub ignore: bool,
    /// A JSON array of spans (`ExclusionSpan`, times in unix milliseconds) that apply to every
    /// SLO (`--exclusion-spans`).
    pub spans_file: Option<PathBuf>,
    /// The data directory whose stored corrections apply (`--data-dir`); the daemon keeps its
    /// own live list instead.
    pub data_dir: Option<PathBuf>,
}

/// The span sources for `options` and `config` (its maintenance windows); empty when told to
/// ignore them.
pub fn exclusions(options: &SpanOptions, config: &Config) -> Result<Arc<Exclusions>, Failure> {
    let exclusions = Exclusions::new();
    if options.ignore {
        return Ok(exclusions);
    }
    exclusions.set("maintenance", crate::slos::maintenance(config));
    if let Some(dir) = &options.data_dir {
        exclusions.set(
            "corrections",
            burnwatch_http::corrections::stored_spans(dir),
        );
    }
    if let Some(path) = &options.spans_file {
        exclusions.set("fixed", Arc::new(FixedSpans(read_spans(path)?)));
    }
    Ok(exclusions)
}

fn read_spans(path: &std::path::Path) -> Result<Vec<ExclusionSpan>, Failure> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        Failure::Usage(format!(
            "--exclusion-spans {}: cannot read it: {err}",
            path.display()
        ))
    })?;
    serde_json::from_str(&text).map_err(|err| {
        Failure::Usage(format!(
            "--exclusion-spans {}: not a JSON array of spans ({{\"start\": ms, \"end\": ms, \"source\": \"maintenance\", \"name\": ..., \"reason\": ..., \"exclude\": true, \"silence\": false}}): {err}",
            path.display()
        ))
    })
}
