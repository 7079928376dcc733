//! The state validation carries around: where things are, the environment, errors so far.

use std::collections::HashSet;
use std::ops::Range;

use toml::Spanned;

use crate::env;
use crate::error::{Error, ErrorKind};
use crate::location::{LineIndex, Location};
use crate::secret::Secret;

/// Collects errors while raw values are checked; converts spans to locations.
pub(crate) struct Ctx<'a> {
    index: LineIndex<'a>,
    env: &'a dyn Fn(&str) -> Option<String>,
    errors: Vec<Error>,
    /// `(table span start, key)` of keys dropped while decoding because their value was bad;
    /// validation must not also call them missing.
    dropped: HashSet<(usize, String)>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(index: LineIndex<'a>, env: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Ctx {
            index,
            env,
            errors: Vec::new(),
            dropped: HashSet::new(),
        }
    }

    /// The location of a byte span's start.
    pub(crate) fn at(&self, span: &Range<usize>) -> Location {
        self.index.locate(span.start)
    }

    /// The source text of a span, as written (for quoting numbers in messages).
    pub(crate) fn source(&self, span: &Range<usize>) -> &'a str {
        self.index.text().get(span.clone()).unwrap_or("").trim()
    }

    /// Records an error at a span.
    pub(crate) fn error(
        &mut self,
        kind: ErrorKind,
        span: &Range<usize>,
        message: impl Into<String>,
    ) {
        let location = self.at(span);
        self.push(Error::new(kind, location, message));
    }

    /// Records an error at an exact byte offset.
    pub(crate) fn error_at_offset(&mut self, kind: ErrorKind, offset: usize, message: String) {
        let location = self.index.locate(offset);
        self.push(Error::new(kind, location, message));
    }

    pub(crate) fn push(&mut self, error: Error) {
        self.errors.push(error);
    }

    /// The text being validated.
    pub(crate) fn text(&self) -> &'a str {
        self.index.text()
    }

    /// How many errors have been recorded.
    pub(crate) fn error_count(&self) -> usize {
        self.errors.len()
    }

    /// Whether any error has been recorded.
    pub(crate) fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The errors so far, in file order.
    pub(crate) fn into_errors(self) -> Vec<Error> {
        let mut errors = self.errors;
        errors.sort_by_key(|e| (e.location().line, e.location().col));
        errors.dedup();
        errors
    }

    /// Notes that decoding dropped `key` from the table at `table_span` (its value was bad).
    pub(crate) fn note_dropped(&mut self, table_span: &Range<usize>, key: &str) {
        self.dropped.insert((table_span.start, key.to_string()));
    }

    /// Whether decoding dropped `key` from the table at `table_span`.
    pub(crate) fn was_dropped(&self, table_span: &Range<usize>, key: &str) -> bool {
        self.dropped.contains(&(table_span.start, key.to_string()))
    }

    /// Records that `key` is missing from the table at `table_span`, unless it was written but
    /// dropped for a bad value (already reported).
    pub(crate) fn missing(&mut self, table_span: &Range<usize>, key: &str, message: String) {
        if !self.was_dropped(table_span, key) {
            self.error(ErrorKind::Missing, table_span, message);
        }
    }

    /// The value with `${NAME}` references expanded; `None` after reporting a problem. Errors
    /// point at the `$` when the string is written without escapes, else at the value.
    pub(crate) fn expand(&mut self, value: &Spanned<String>) -> Option<String> {
        self.expand_or(value, None)
    }

    /// [`Ctx::expand`], with `unset_hint(name)` as the message for a variable that is not set
    /// when given.
    fn expand_or(
        &mut self,
        value: &Spanned<String>,
        unset_hint: Option<&dyn Fn(&str) -> String>,
    ) -> Option<String> {
        match env::expand(value.get_ref(), self.env) {
            Ok(expanded) => Some(expanded),
            Err(problems) => {
                for problem in problems {
                    let offset = self.offset_in(value, problem.offset);
                    let message = match (&problem.unset, unset_hint) {
                        (Some(name), Some(hint)) => hint(name),
                        _ => problem.message,
                    };
                    self.error_at_offset(ErrorKind::Env, offset, message);
                }
                None
            }
        }
    }

    /// [`Ctx::expand`] for a secret: the result is wrapped at once so it cannot reach a message.
    pub(crate) fn expand_secret(&mut self, value: &Spanned<String>) -> Option<Secret> {
        self.expand(value).map(Secret::from)
    }

    /// A credential written as `key`: it must come from the environment (`${NAME}`, at least in
    /// part), so that the file itself, which travels (a ConfigMap, a repository), never holds
    /// it; `file_key` is the other way to give it.
    pub(crate) fn expand_credential(
        &mut self,
        value: &Spanned<String>,
        key: &str,
        file_key: &str,
    ) -> Option<Secret> {
        // `$$` is a literal `$`: "$${X}" names no variable.
        if !value.get_ref().replace("$$", "").contains("${") {
            self.error(
                ErrorKind::LiteralSecret,
                &value.span(),
                format!(
                    "`{key}` is a secret written into the file (not shown); the file travels \
                     (a ConfigMap, a repository), so take it from the environment, \
                     `{key} = \"${{{}}}\"`, or from a file, `{file_key} = \"/run/secrets/...\"`",
                    key.to_ascii_uppercase()
                ),
            );
            return None;
        }
        // Writing the reference literally (`$${X}`) would be a secret in the file, refused
        // above: the ways out are the variable or the file.
        let hint = |name: &str| {
            format!(
                "environment variable `{name}` is not set (referenced as `${{{name}}}` in                  `{key}`); set it in burnwatch's environment, or give the secret in a file:                  `{file_key} = \"/run/secrets/...\"`"
            )
        };
        self.expand_or(value, Some(&hint)).map(Secret::from)
    }

    /// The file offset of byte `offset` inside a string value, when the string is written
    /// literally (quotes and no escapes) so that the two line up; else the value's start.
    pub(crate) fn offset_in(&self, value: &Spanned<String>, offset: usize) -> usize {
        let span = value.span();
        let written = self.index.text().get(span.clone()).unwrap_or("");
        let inner = written
            .get(1..written.len().saturating_sub(1))
            .unwrap_or("");
        let quoted = written.starts_with(['"', '\''])
            && !written.starts_with("\"\"\"")
            && !written.starts_with("'''");
        if quoted && inner == value.get_ref() {
            span.start + 1 + offset
        } else {
            span.start
        }
    }
}

impl Ctx<'_> {
    /// The required, non-empty `name` of a `section` entry (`[[maintenance]]`, `[[digest]]`),
    /// expanded, with its place; `None` after reporting the problem. `example` is a name the
    /// messages suggest.
    pub(crate) fn section_name(
        &mut self,
        name: Option<&Spanned<String>>,
        table_span: &Range<usize>,
        section: &str,
        example: &str,
    ) -> Option<(String, Range<usize>)> {
        let Some(text) = name else {
            self.missing(
                table_span,
                "name",
                format!("{section} needs a unique `name`, e.g. name = \"{example}\""),
            );
            return None;
        };
        match self.expand(text) {
            Some(name) if name.trim().is_empty() => {
                self.error(
                    ErrorKind::InvalidValue,
                    &text.span(),
                    format!(
                        "`name` of {section} is empty: give it a unique name, e.g. name = \"{example}\""
                    ),
                );
                None
            }
            other => other.map(|n| (n, text.span())),
        }
    }

    /// One of a fixed set of names (a type, a severity), expanded; `None` after reporting the
    /// problem. `problem(value, hint)` writes the message; `hint` is ` (did you mean "x"?)` for a
    /// near miss, or empty.
    pub(crate) fn choice<T: Copy>(
        &mut self,
        text: &Spanned<String>,
        choices: &[(&str, T)],
        problem: impl FnOnce(&str, &str) -> String,
    ) -> Option<T> {
        let value = self.expand(text)?;
        if let Some((_, chosen)) = choices.iter().find(|(name, _)| *name == value) {
            return Some(*chosen);
        }
        let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
        let hint = crate::suggest::closest(&value, &names)
            .map(|name| format!(" (did you mean \"{name}\"?)"))
            .unwrap_or_default();
        self.error(
            ErrorKind::InvalidValue,
            &text.span(),
            problem(&value, &hint),
        );
        None
    }

    /// A duration value, expanded and parsed; `None` after reporting a problem.
    pub(crate) fn duration(
        &mut self,
        text: &Spanned<String>,
        key: &str,
    ) -> Option<std::time::Duration> {
        let value = self.expand(text)?;
        match crate::duration::parse_duration(&value) {
            Ok(duration) => Some(duration),
            Err(why) => {
                self.error(
                    ErrorKind::InvalidValue,
                    &text.span(),
                    format!("`{key}`: {why}"),
                );
                None
            }
        }
    }

    /// A `*_file` path; relative paths are relative to the configuration file's directory, as
    /// in Prometheus. The file is not opened here (it is read at use time, so it may rotate).
    pub(crate) fn file_path(
        &mut self,
        text: &Spanned<String>,
        dir: &std::path::Path,
    ) -> Option<std::path::PathBuf> {
        let value = self.expand(text)?;
        if value.trim().is_empty() {
            self.error(
                ErrorKind::InvalidValue,
                &text.span(),
                "the file path is empty",
            );
            return None;
        }
        Some(dir.join(value))
    }

    /// The span of `key` written before the value at `value` (`key = value`, also quoted or in
    /// an inline table), to point at a key that decoding accepted but validation rejects; the
    /// value's span when the key cannot be found.
    pub(crate) fn key_span(&self, value: &Range<usize>, key: &str) -> Range<usize> {
        let before = self.index.text().get(..value.start).unwrap_or("");
        before
            .rfind(key)
            .filter(|&at| {
                before[at + key.len()..]
                    .chars()
                    .all(|c| c.is_whitespace() || matches!(c, '=' | '"' | '\''))
            })
            .map_or_else(|| value.clone(), |at| at..at + key.len())
    }
}
