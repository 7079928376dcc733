//! `burnwatch export`: the loaded configuration's SLOs as OpenSLO v1 documents. The mapping
//! lives in `burnwatch_spec::export`; this file only loads and writes.

use std::path::Path;

use burnwatch_spec::text::count;

use crate::failure::Failure;

/// Loads `config` and writes its SLOs to `output` (stdout when `None`).
pub fn run(config: &Path, output: Option<&Path>) -> Result<(), Failure> {
    let loaded = burnwatch_spec::load(config).map_err(|errors| {
        Failure::Config(format!(
            "{} has {}:\n{errors}",
            config.display(),
            count(errors.len(), "problem")
        ))
    })?;
    let text = burnwatch_spec::export::openslo(&loaded);
    match output {
        Some(path) => std::fs::write(path, text)
            .map_err(|err| Failure::Runtime(format!("cannot write {}: {err}", path.display()))),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}
