//! Spec import: Sloth, OpenSLO and Pyrra files read as they are and mapped to burnwatch SLOs.
//!
//! Each YAML document's format is detected from its `version`, `apiVersion` and `kind`
//! (`detect`); one mapping per format (`sloth.rs`, `openslo.rs`, `pyrra.rs`) turns it into
//! [`ImportedSlo`] tables,
//! every key remembering the spec node it came from. [`render`] prints those tables as
//! burnwatch TOML (`burnwatch import`), and [`crate::load`] validates that same text for the
//! files a configuration's `specs` names, reporting problems at the spec's `file:line:col`.
//! Problems a mapping finds itself (an unsupported feature, a missing key) are reported with
//! what to write instead.

mod files;
mod openslo;
mod pyrra;
mod reader;
mod render;
mod sloth;
mod table;
mod yaml;

use std::path::{Path, PathBuf};

pub use files::{glob, walk};
pub use render::{Rendered, render};
pub(crate) use render::{basic, key};
pub use table::{Entry, Imported, ImportedSlo, Item, Table};

use crate::error::{Error, ErrorKind};
use crate::location::Location;
use reader::Reader;
use yaml::Node;

/// A spec format, as `--format` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Sloth `prometheus/v1` and `sloth.slok.dev/v1` resources.
    Sloth,
    /// OpenSLO `openslo/v1` (and `v1alpha`).
    OpenSlo,
    /// Pyrra `pyrra.dev/v1alpha1` `ServiceLevelObjective`.
    Pyrra,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Sloth => "sloth",
            Format::OpenSlo => "openslo",
            Format::Pyrra => "pyrra",
        }
    }
}

/// What one YAML document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    SlothPlain,
    SlothResource,
    SlothWindows,
    OpenSlo,
    Pyrra,
    /// Prometheus rules (what Sloth and Pyrra generate), not a spec.
    Rules,
    Unknown,
}

impl Kind {
    fn format(self) -> Option<Format> {
        match self {
            Kind::SlothPlain | Kind::SlothResource | Kind::SlothWindows => Some(Format::Sloth),
            Kind::OpenSlo => Some(Format::OpenSlo),
            Kind::Pyrra => Some(Format::Pyrra),
            Kind::Rules | Kind::Unknown => None,
        }
    }
}

fn detect(doc: &Node) -> Kind {
    let version = doc.get("version").and_then(Node::text);
    let api = doc.get("apiVersion").and_then(Node::text).unwrap_or("");
    let kind = doc.get("kind").and_then(Node::text).unwrap_or("");
    match (version, api, kind) {
        (Some("prometheus/v1"), _, _) => Kind::SlothPlain,
        (_, "sloth.slok.dev/v1", "PrometheusServiceLevel" | "ManagedPrometheusServiceLevel") => {
            Kind::SlothResource
        }
        (_, "sloth.slok.dev/v1", "AlertWindows") => Kind::SlothWindows,
        (_, api, _) if api.starts_with("openslo/") => Kind::OpenSlo,
        (_, "pyrra.dev/v1alpha1", "ServiceLevelObjective") => Kind::Pyrra,
        (_, "monitoring.coreos.com/v1", "PrometheusRule") => Kind::Rules,
        _ if doc.get("groups").is_some() => Kind::Rules,
        _ => Kind::Unknown,
    }
}

/// Reads and maps every spec in `paths` (files, or directories walked for `*.yaml`/`*.yml`).
/// `format` forces one format: documents of another are reported. A path that does not
/// exist is an `Err` (a usage error), everything else a problem in [`Imported::problems`].
pub fn import_paths(paths: &[PathBuf], format: Option<Format>) -> Result<Imported, String> {
    let files = walk(paths)?;
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        match std::fs::read_to_string(&file) {
            Ok(text) => sources.push((file, text)),
            Err(err) => problems.push(Error::new(
                ErrorKind::Io,
                Location::file(&file),
                format!("cannot read the spec: {err}; check the path and that it is UTF-8 text"),
            )),
        }
    }
    let mut imported = import(&sources, format);
    problems.append(&mut imported.problems);
    imported.problems = problems;
    Ok(imported)
}

/// Maps the specs `(file, text)`; pure. Sloth `AlertWindows` apply to every Sloth SLO of the
/// set, wherever they are in it.
pub fn import(sources: &[(PathBuf, String)], format: Option<Format>) -> Imported {
    let mut out = Imported::default();
    let mut docs: Vec<(&Path, Node, Kind)> = Vec::new();
    for (file, text) in sources {
        match yaml::documents(text, file) {
            Ok(found) => docs.extend(found.into_iter().map(|doc| {
                let kind = detect(&doc);
                (file.as_path(), doc, kind)
            })),
            Err(err) => out.problems.push(err),
        }
    }
    let mut windows = None;
    for (file, doc, kind) in &docs {
        if *kind != Kind::SlothWindows || !wanted(format, *kind) {
            continue;
        }
        let mut r = Reader {
            file,
            problems: &mut out.problems,
        };
        let Some(spec) = doc.get("spec") else {
            r.problem(ErrorKind::Missing, doc, "`AlertWindows` needs `spec`");
            continue;
        };
        if windows.is_some() {
            r.unsupported(
                doc,
                "a second Sloth `AlertWindows`: Sloth uses one, for the period \
                 `--default-slo-period` chooses; import with only that one",
            );
            continue;
        }
        windows = sloth::windows(&mut r, spec);
    }
    let mut catalog = openslo::Catalog::default();
    for (file, doc, kind) in &docs {
        if *kind == Kind::OpenSlo && doc.get("kind").and_then(Node::text) != Some("SLO") {
            catalog.add(file, doc);
        }
    }
    for (file, doc, kind) in &docs {
        let mut r = Reader {
            file,
            problems: &mut out.problems,
        };
        if !wanted(format, *kind) {
            let forced = format.map(Format::name).unwrap_or_default();
            let is = kind.format().map(Format::name).unwrap_or("another");
            r.problem(
                ErrorKind::InvalidValue,
                doc,
                format!("a {is} document, but `--format {forced}` was given: drop `--format` to detect each document's format"),
            );
            continue;
        }
        match kind {
            Kind::SlothPlain => {
                sloth::slos(&mut r, doc, &sloth::PLAIN, windows.as_ref(), &mut out.slos)
            }
            Kind::SlothResource => match doc.get("spec") {
                Some(spec) => sloth::slos(
                    &mut r,
                    spec,
                    &sloth::KUBERNETES,
                    windows.as_ref(),
                    &mut out.slos,
                ),
                None => r.problem(ErrorKind::Missing, doc, "a Sloth resource needs `spec`"),
            },
            Kind::SlothWindows => {}
            Kind::OpenSlo => openslo::slos(&mut r, file, doc, &catalog, &mut out.slos),
            Kind::Pyrra => pyrra::slo(&mut r, doc, &mut out.slos),
            Kind::Rules => r.unsupported(
                doc,
                "Prometheus rules (what Sloth and Pyrra generate) are not a spec: import the \
                 spec they were generated from; burnwatch computes the same series itself",
            ),
            Kind::Unknown => r.problem(
                ErrorKind::InvalidValue,
                doc,
                "not a spec burnwatch reads: expected `version: prometheus/v1` (Sloth), \
                 `apiVersion: sloth.slok.dev/v1` (Sloth `PrometheusServiceLevel`, \
                 `AlertWindows`), `apiVersion: openslo/v1` or `apiVersion: pyrra.dev/v1alpha1`",
            ),
        }
    }
    // File order, as a compiler reports; files in the order given.
    let order = |file: &Path| sources.iter().position(|(f, _)| f == file);
    out.problems.sort_by_key(|e| {
        (
            order(&e.location().file),
            e.location().line,
            e.location().col,
        )
    });
    // Objectives sharing an indicator would report its problem once each.
    out.problems.dedup();
    out
}

fn wanted(format: Option<Format>, kind: Kind) -> bool {
    match (format, kind.format()) {
        (None, _) => true,
        (Some(forced), Some(is)) => forced == is,
        (Some(_), None) => true,
    }
}
