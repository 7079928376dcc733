//! `burnwatch import`: specs in, burnwatch `[[slo]]` tables out. The mapping lives in
//! `burnwatch_spec::import`; this file only reads the command line and writes the result.

use std::path::{Path, PathBuf};

use burnwatch_spec::import::{Format, import_paths, render};
use burnwatch_spec::text::count;

use crate::cli::ImportFormat;
use crate::failure::Failure;

/// Imports `paths` and writes the TOML to `output` (stdout when `None`). What mapped is
/// written even when something did not; the problems then fail the command.
pub fn run(
    paths: &[PathBuf],
    output: Option<&Path>,
    format: Option<ImportFormat>,
) -> Result<(), Failure> {
    let format = format.map(|f| match f {
        ImportFormat::Sloth => Format::Sloth,
        ImportFormat::Openslo => Format::OpenSlo,
        ImportFormat::Pyrra => Format::Pyrra,
    });
    let imported = import_paths(paths, format).map_err(Failure::Usage)?;
    let mut text = String::from(
        "# burnwatch [[slo]] tables imported from specs; add a [backends.<name>] table (or \
         append them to a configuration that has one).\n\n",
    );
    text.push_str(&render(&imported.slos).text);
    match output {
        Some(path) => std::fs::write(path, &text)
            .map_err(|err| Failure::Runtime(format!("cannot write {}: {err}", path.display())))?,
        None => print!("{text}"),
    }
    if imported.problems.is_empty() {
        return Ok(());
    }
    let problems: Vec<String> = imported.problems.iter().map(ToString::to_string).collect();
    Err(Failure::Config(format!(
        "{}; {} imported:\n{}",
        count(imported.problems.len(), "problem"),
        count(imported.slos.len(), "SLO"),
        problems.join("\n")
    )))
}
