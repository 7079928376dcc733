//! `specs = ["specs/*.yaml", ...]`: Sloth, OpenSLO and Pyrra files loaded with the
//! configuration through the same mapping as `burnwatch import`.
//!
//! [`crate::load`] expands the patterns (relative to the configuration file's directory), maps
//! the files and appends the `[[slo]]` tables they print to the configuration's text, which is
//! then validated as one file; each appended line remembers the spec place it came from, so a
//! problem in an imported SLO (a bad objective, an id used twice) is reported in the spec.

use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::context::Ctx;
use crate::error::{Error, ErrorKind};
use crate::import;
use crate::location::{LineIndex, Location};

/// The configuration's text with the specs' SLOs appended, and where the appended lines came
/// from.
pub(crate) struct Attached {
    /// The configuration, then the imported `[[slo]]` tables.
    pub text: String,
    /// 1-based line of `text` where the imported tables begin.
    pub first_line: usize,
    /// Per imported line, the spec place it came from.
    pub origins: Vec<Option<Location>>,
    /// Patterns that matched nothing readable, and the mappings' problems.
    pub problems: Vec<Error>,
}

/// Reads the files `specs` names in configuration `text` (from `file`). Without `specs`, or
/// when the text is not valid TOML (validation reports that), nothing is appended.
pub(crate) fn attach(text: &str, file: &Path) -> Attached {
    let mut attached = Attached {
        text: text.to_string(),
        first_line: text.lines().count() + 2,
        origins: Vec::new(),
        problems: Vec::new(),
    };
    let index = LineIndex::new(text, file);
    let Some(files) = files(text, file, &mut |span, why| {
        attached
            .problems
            .push(Error::new(ErrorKind::Io, index.locate(span.start), why));
    }) else {
        return attached;
    };
    let imported = match import::import_paths(&files, None) {
        Ok(imported) => imported,
        Err(why) => {
            attached
                .problems
                .push(Error::new(ErrorKind::Io, Location::file(file), why));
            return attached;
        }
    };
    attached.problems.extend(imported.problems);
    let rendered = import::render(&imported.slos);
    if !attached.text.ends_with('\n') {
        attached.text.push('\n');
    }
    attached.text.push('\n');
    attached.first_line = attached.text.matches('\n').count() + 1;
    attached.text.push_str(&rendered.text);
    attached.origins = rendered.origins;
    attached
}

/// The spec files the `specs` of configuration `text` (from `file`) names now, in pattern order
/// without repeats; `None` without `specs` (or when the text is not TOML). A pattern that
/// cannot be expanded is passed to `problem` with its span.
fn files(
    text: &str,
    file: &Path,
    problem: &mut dyn FnMut(std::ops::Range<usize>, String),
) -> Option<Vec<PathBuf>> {
    let root = DeTable::parse(text).ok()?;
    let DeValue::Array(patterns) = root.get_ref().get("specs")?.get_ref() else {
        return None;
    };
    let dir = file.parent().unwrap_or(Path::new(""));
    let mut files: Vec<PathBuf> = Vec::new();
    for pattern in patterns {
        let DeValue::String(pattern_text) = pattern.get_ref() else {
            continue;
        };
        match import::glob(dir, pattern_text) {
            Ok(found) => {
                for found in found {
                    if !files.contains(&found) {
                        files.push(found);
                    }
                }
            }
            Err(why) => problem(
                pattern.span(),
                format!(
                    "`specs` pattern \"{pattern_text}\": {why}; patterns are relative to the \
                     configuration file's directory"
                ),
            ),
        }
    }
    Some(files)
}

/// The spec files configuration `text` (read from `file`) loads through `specs`, as they are
/// now: what a reload would read (the daemon watches them with the configuration file).
pub fn spec_files(text: &str, file: &Path) -> Vec<PathBuf> {
    files(text, file, &mut |_, _| {}).unwrap_or_default()
}

/// Checks the `specs` value: a list of path patterns.
pub(crate) fn check(ctx: &mut Ctx<'_>, value: &Spanned<DeValue<'_>>) {
    let ok = match value.get_ref() {
        DeValue::Array(items) => items
            .iter()
            .all(|item| matches!(item.get_ref(), DeValue::String(_))),
        _ => false,
    };
    if !ok {
        ctx.error(
            ErrorKind::InvalidType,
            &value.span(),
            "`specs` must be a list of spec file patterns relative to this file, e.g. \
             specs = [\"specs/*.yaml\"], written before the first [table]",
        );
    }
}
