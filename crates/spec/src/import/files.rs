//! Which files a list of paths or `specs` patterns means: directories are walked for `*.yaml`
//! and `*.yml`, patterns expanded with `*` and `?` per path component.

use std::path::{Component, Path, PathBuf};

/// Files of `paths`: a file as given, a directory walked (recursively, sorted) for YAML files.
/// A path that does not exist is an error naming it.
pub fn walk(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk_dir(path, &mut out)
                .map_err(|err| format!("cannot read directory {}: {err}", path.display()))?;
        } else if path.is_file() {
            out.push(path.clone());
        } else {
            return Err(format!(
                "{} does not exist: give spec files or directories of them",
                path.display()
            ));
        }
    }
    Ok(out)
}

fn walk_dir(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk_dir(&path, out)?;
        } else if is_yaml(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// The files matching `pattern` (relative to `dir` unless absolute), sorted; `*` and `?` match
/// within one path component. A pattern without wildcards names one file, which must exist.
pub fn glob(dir: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let full = dir.join(pattern);
    let mut found = vec![PathBuf::new()];
    for component in full.components() {
        let part = component.as_os_str().to_string_lossy();
        let wild = matches!(component, Component::Normal(_)) && part.contains(['*', '?']);
        let mut next = Vec::new();
        for base in &found {
            if !wild {
                next.push(base.join(component.as_os_str()));
                continue;
            }
            let Ok(entries) = std::fs::read_dir(if base.as_os_str().is_empty() {
                Path::new(".")
            } else {
                base
            }) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| !name.starts_with('.') && crate::glob::matches(&part, name))
                .collect();
            names.sort();
            next.extend(names.into_iter().map(|name| base.join(name)));
        }
        found = next;
    }
    let wild = pattern.contains(['*', '?']);
    if !wild && !full.exists() {
        return Err(format!("{} does not exist", full.display()));
    }
    Ok(found.into_iter().filter(|p| p.is_file()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_per_component_and_directories_are_walked() {
        let dir = tempfile::tempdir().unwrap();
        let specs = dir.path().join("specs");
        std::fs::create_dir_all(specs.join("team")).unwrap();
        for name in ["b.yaml", "a.yml", "notes.md", "team/c.yaml"] {
            std::fs::write(specs.join(name), "x: 1\n").unwrap();
        }
        let names = |paths: Vec<PathBuf>| -> Vec<String> {
            paths
                .iter()
                .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(
            names(glob(dir.path(), "specs/*.yaml").unwrap()),
            ["specs/b.yaml"]
        );
        assert_eq!(
            names(glob(dir.path(), "specs/*/*.yaml").unwrap()),
            ["specs/team/c.yaml"]
        );
        assert_eq!(
            names(glob(dir.path(), "specs/*.y?ml").unwrap()),
            ["specs/b.yaml"]
        );
        assert!(glob(dir.path(), "specs/missing.yaml").is_err());
        assert!(glob(dir.path(), "nothing/*.yaml").unwrap().is_empty());
        assert_eq!(
            names(walk(std::slice::from_ref(&specs)).unwrap()),
            ["specs/a.yml", "specs/b.yaml", "specs/team/c.yaml"]
        );
    }
}
