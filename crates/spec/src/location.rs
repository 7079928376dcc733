//! Where in the configuration file something is: byte offsets become `file:line:col`.

use std::fmt;
use std::path::{Path, PathBuf};

/// A position in a configuration file. Lines and columns start at 1; columns count characters.
/// Line 0 means the file as a whole (e.g. it could not be read).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// The file, as given to [`crate::load`] or [`crate::parse`].
    pub file: PathBuf,
    /// 1-based line; 0 for the whole file.
    pub line: usize,
    /// 1-based column in characters; 0 for the whole file.
    pub col: usize,
}

impl Location {
    /// The file as a whole.
    pub fn file(file: &Path) -> Location {
        Location {
            file: file.to_path_buf(),
            line: 0,
            col: 0,
        }
    }
}

/// `file:line:col`, or just `file` for the whole file: the form editors and terminals jump to.
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file.display())
        } else {
            write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
        }
    }
}

/// Turns byte offsets into the text into [`Location`]s.
#[derive(Debug)]
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    file: &'a Path,
    /// Byte offset where each line starts.
    starts: Vec<usize>,
    /// From this 1-based line on, the text was appended by `specs`: those lines are located
    /// where they came from.
    appended_from: usize,
    /// Per appended line, its place in a spec file.
    origins: Vec<Option<Location>>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str, file: &'a Path) -> LineIndex<'a> {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex {
            text,
            file,
            starts,
            appended_from: usize::MAX,
            origins: Vec::new(),
        }
    }

    /// Locates lines from `first_line` (1-based) on at `origins` (one per line) instead.
    pub(crate) fn with_origins(
        mut self,
        first_line: usize,
        origins: Vec<Option<Location>>,
    ) -> LineIndex<'a> {
        self.appended_from = first_line;
        self.origins = origins;
        self
    }

    /// The location of a byte offset (clamped to the text, rounded down to a character).
    pub(crate) fn locate(&self, offset: usize) -> Location {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&start| start <= offset);
        let start = self.starts[line - 1];
        if line >= self.appended_from {
            return self
                .origins
                .get(line - self.appended_from)
                .cloned()
                .flatten()
                .unwrap_or_else(|| Location::file(self.file));
        }
        let col = self.text[start..offset].chars().count() + 1;
        Location {
            file: self.file.to_path_buf(),
            line,
            col,
        }
    }

    /// The text of the file.
    pub(crate) fn text(&self) -> &'a str {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_one_based_lines_and_columns() {
        let text = "a = 1\nbé = 2\n\nc";
        let index = LineIndex::new(text, Path::new("x.toml"));
        let at = |o| {
            let l = index.locate(o);
            (l.line, l.col)
        };
        assert_eq!(at(0), (1, 1));
        assert_eq!(at(4), (1, 5));
        assert_eq!(at(5), (1, 6)); // the newline itself
        assert_eq!(at(6), (2, 1));
        assert_eq!(at(9), (2, 3)); // after the two-byte é: characters, not bytes
        assert_eq!(at(14), (3, 1)); // the empty line
        assert_eq!(at(15), (4, 1));
        assert_eq!(at(99), (4, 2)); // past the end: clamped
    }

    #[test]
    fn displays_like_a_compiler() {
        let l = Location {
            file: "burnwatch.toml".into(),
            line: 12,
            col: 13,
        };
        assert_eq!(l.to_string(), "burnwatch.toml:12:13");
        assert_eq!(Location::file(Path::new("b.toml")).to_string(), "b.toml");
    }
}
