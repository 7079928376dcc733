//! The span sources replay and reports run with: the same [`Exclusions`] the daemon's runners
//! read, so history is replayed with what the daemon excludes and silences.
//!
//! Every span source is registered here, once, for the daemon, replay and reports alike: for
//! now the fixed spans of `--exclusion-spans` (a JSON file of spans, for tests and what-ifs);
//! maintenance windows (from the configuration) and stored corrections (from the data
//! directory) join them by adding what they read to [`SpanOptions`] and one `set` line each in
//! [`exclusions`], so live, replay and reports exclude alike.
//! `--ignore-exclusions` registers none: the counterfactual.

use std::path::PathBuf;
use std::sync::Arc;

use burnwatch_engine::{ExclusionSpan, Exclusions, FixedSpans};

use crate::failure::Failure;

/// Which spans a replay or report runs with.
#[derive(Debug, Clone, Default)]
pub struct SpanOptions {
    /// Run with no span at all (`--ignore-exclusions`).
    pub ignore: bool,
    /// A JSON array of spans (`ExclusionSpan`, times in unix milliseconds) that apply to every
    /// SLO (`--exclusion-spans`).
    pub spans_file: Option<PathBuf>,
}

/// The span sources for `options`; empty when told to ignore them.
pub fn exclusions(options: &SpanOptions) -> Result<Arc<Exclusions>, Failure> {
    let exclusions = Exclusions::new();
    if options.ignore {
        return Ok(exclusions);
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
