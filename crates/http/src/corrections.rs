//! Budget corrections: spans of time whose events some SLOs must not count (a dependency's
//! outage, a load test, a deploy rolled back before users saw it), made through the API
//! (`/api/v1/corrections`, see `api/corrections.rs`) and kept in `<data-dir>/corrections.json`.
//!
//! [`Corrections`] owns the list and its file. Every change is written (atomically, through
//! `burnwatch_store::StateFile`) before it is answered, so a 201 survives a kill -9, and then
//! registered as the `corrections` source of the daemon's [`Exclusions`]: that bumps their
//! version, and every runner whose past changed reads its history again (one backfill).
//!
//! A correction names its SLOs by id, `*` and `?` globs allowed, matched against each SLO's id
//! whenever spans are asked for: an SLO added later that matches a pattern is corrected too.
//! Corrections exclude events (`exclude = true`) and never silence notifications.
//!
//! Replay and reports read the same file without changing it: [`stored_spans`].

use std::path::Path;
use std::sync::{Arc, Mutex};

use burnwatch_engine::{ExclusionSpan, Exclusions, Millis, Origin, SloInfo, SpanSource};
use burnwatch_spec::glob;
use burnwatch_store::StateFile;
use serde::{Deserialize, Serialize};

/// The file name inside the data directory.
pub const STATE_FILE: &str = "corrections.json";
/// The format's version; a file with another one is set aside.
pub const STATE_VERSION: u32 = 1;
/// The name the corrections are registered under in [`Exclusions`].
pub const SOURCE: &str = "corrections";

/// Why a span is corrected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Planned maintenance that was not configured as a `[[maintenance]]` window.
    Maintenance,
    /// A bad deploy, rolled back.
    Deployment,
    /// A dependency's outage the service could not help.
    Dependency,
    /// Synthetic load, not users.
    LoadTest,
    /// Anything else (say what in the reason).
    Other,
}

impl Category {
    /// Every category, as written.
    pub const ALL: [Category; 5] = [
        Category::Maintenance,
        Category::Deployment,
        Category::Dependency,
        Category::LoadTest,
        Category::Other,
    ];

    /// The name as written in the API: `load_test`.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Maintenance => "maintenance",
            Category::Deployment => "deployment",
            Category::Dependency => "dependency",
            Category::LoadTest => "load_test",
            Category::Other => "other",
        }
    }

    /// The category named `text`, exactly as written.
    pub fn parse(text: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// One correction, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Correction {
    /// Generated when it was made: `corr-` and 16 hex digits.
    pub id: String,
    /// SLO ids or globs (`checkout-*`), as the client wrote them.
    pub slos: Vec<String>,
    /// Exclusive start, unix milliseconds.
    pub start: Millis,
    /// Inclusive end, unix milliseconds.
    pub end: Millis,
    /// Why, as its author wrote it.
    pub reason: String,
    /// What kind of correction it is.
    pub category: Category,
    /// When it was made, unix milliseconds.
    pub created_at: Millis,
}

impl Correction {
    /// Whether it covers the SLO `id`.
    pub fn covers(&self, id: &str) -> bool {
        self.slos.iter().any(|pattern| glob::matches(pattern, id))
    }

    fn span(&self) -> ExclusionSpan {
        ExclusionSpan {
            start: self.start,
            end: self.end,
            origin: Origin::Correction {
                id: self.id.clone(),
                category: self.category.as_str().to_string(),
            },
            reason: self.reason.clone(),
            exclude: true,
            silence: false,
        }
    }
}

/// A list of corrections as a span source (a snapshot: the daemon replaces it on every change).
#[derive(Debug, Clone, Default)]
pub struct CorrectionSpans(Vec<Correction>);

impl SpanSource for CorrectionSpans {
    fn spans(&self, slo: &SloInfo, from: Millis, to: Millis) -> Vec<ExclusionSpan> {
        self.0
            .iter()
            .filter(|c| c.start < to && c.end > from && c.covers(&slo.id))
            .map(Correction::span)
            .collect()
    }
}

/// The file's document.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    version: u32,
    corrections: Vec<Correction>,
}

fn decode(bytes: &[u8]) -> Result<Vec<Correction>, String> {
    let document: Document = serde_json::from_slice(bytes)
        .map_err(|err| format!("does not hold corrections ({err})"))?;
    if let Some(bad) = document.corrections.iter().find(|c| c.start >= c.end) {
        return Err(format!(
            "holds correction {:?} whose start is not before its end",
            bad.id
        ));
    }
    Ok(document.corrections)
}

fn state_file(data_dir: &Path) -> StateFile {
    StateFile::new(
        data_dir,
        STATE_FILE,
        STATE_VERSION,
        "the corrections file",
        "every budget correction is gone until made again; the set-aside copy holds them",
    )
}

/// The corrections stored in `data_dir`, for replay and reports: read only (an unreadable file
/// is warned about and left where it is, for the daemon to set aside), as a span source to
/// register in their [`Exclusions`]. A missing file is no corrections.
pub fn stored_spans(data_dir: &Path) -> Arc<dyn SpanSource> {
    let file = state_file(data_dir);
    let list = match std::fs::read(file.path()) {
        Ok(bytes) => decode(&bytes).unwrap_or_else(|why| {
            tracing::warn!(file = %file.path().display(), "the corrections file {why}; no correction is applied");
            Vec::new()
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(err) => {
            tracing::warn!(file = %file.path().display(), "the corrections file cannot be read ({err}); no correction is applied");
            Vec::new()
        }
    };
    Arc::new(CorrectionSpans(list))
}

/// The daemon's corrections: the list, its file, and the [`Exclusions`] they are registered in.
#[derive(Debug)]
pub struct Corrections {
    file: StateFile,
    list: Mutex<Vec<Correction>>,
    exclusions: Arc<Exclusions>,
}

impl Corrections {
    /// Loads `<data_dir>/corrections.json` (a missing file is an empty list; an unreadable one
    /// is set aside with a warning) and registers the list in `exclusions`. `now` (unix ms)
    /// names a set-aside copy.
    pub fn open(data_dir: &Path, exclusions: Arc<Exclusions>, now: Millis) -> Arc<Corrections> {
        let file = state_file(data_dir);
        let list = file.load(now, decode).unwrap_or_default();
        if !list.is_empty() {
            tracing::info!(corrections = list.len(), "budget corrections loaded");
        }
        exclusions.set(SOURCE, Arc::new(CorrectionSpans(list.clone())));
        Arc::new(Corrections {
            file,
            list: Mutex::new(list),
            exclusions,
        })
    }

    /// Every correction, oldest start first.
    pub fn list(&self) -> Vec<Correction> {
        let mut list = self.lock().clone();
        list.sort_by(|a, b| (a.start, a.end, &a.id).cmp(&(b.start, b.end, &b.id)));
        list
    }

    /// Stores `correction` (written to disk first: on an error nothing changed) and applies it.
    pub fn add(&self, correction: Correction) -> std::io::Result<()> {
        self.change(|list| {
            list.push(correction);
            true
        })
        .map(|_| ())
    }

    /// Removes the correction `id`: Ok(false) when there is none.
    pub fn remove(&self, id: &str) -> std::io::Result<bool> {
        self.change(|list| {
            let before = list.len();
            list.retain(|c| c.id != id);
            list.len() != before
        })
    }

    /// A new id, unlike every stored one.
    pub fn new_id(&self) -> String {
        let list = self.lock();
        loop {
            let id = format!("corr-{:016x}", fastrand::u64(..));
            if !list.iter().any(|c| c.id == id) {
                return id;
            }
        }
    }

    /// The file's path, for error messages.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Applies `edit` to a copy; when it says something changed, writes the copy, then makes it
    /// the list and registers it. The lock is held throughout, so writes land in order.
    fn change(&self, edit: impl FnOnce(&mut Vec<Correction>) -> bool) -> std::io::Result<bool> {
        let mut list = self.lock();
        let mut next = list.clone();
        if !edit(&mut next) {
            return Ok(false);
        }
        self.file.write_json(&Document {
            version: STATE_VERSION,
            corrections: next.clone(),
        })?;
        self.exclusions
            .set(SOURCE, Arc::new(CorrectionSpans(next.clone())));
        *list = next;
        Ok(true)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Correction>> {
        self.list.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_ids() {
        for (pattern, id) in [
            ("checkout-*", "checkout-availability"),
            ("*-availability", "checkout-availability"),
            ("check?ut-*", "checkout-latency"),
            ("*", "x"),
            ("a*b*c", "aXbYbZc"),
            ("checkout-availability", "checkout-availability"),
        ] {
            assert!(glob::matches(pattern, id), "{pattern} {id}");
        }
        for (pattern, id) in [
            ("checkout", "checkout-availability"),
            ("checkout-?", "checkout-latency"),
            ("*-latency", "checkout-availability"),
            ("a*b*c", "aXbYbZ"),
            ("", "x"),
        ] {
            assert!(!glob::matches(pattern, id), "{pattern} {id}");
        }
    }
}
