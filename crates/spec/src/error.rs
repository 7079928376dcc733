//! Configuration errors: every problem found, each with its location and what would be valid.

use std::fmt;

use crate::location::Location;

/// What kind of problem an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read.
    Io,
    /// The text is not valid TOML.
    Syntax,
    /// A key burnwatch does not know (often a typo; the message suggests the closest valid key).
    UnknownKey,
    /// A value of the wrong TOML type, e.g. a number where a string belongs.
    InvalidType,
    /// A value of the right type that is out of range or malformed.
    InvalidValue,
    /// A required key is absent.
    Missing,
    /// Keys that may not be given together.
    Conflict,
    /// Something that must be unique is not (SLO ids, header names).
    Duplicate,
    /// A `${NAME}` reference that cannot be expanded.
    Env,
    /// A secret (token, password, routing key, Slack or webhook URL) written into the file
    /// itself rather than taken from the environment or a `*_file`.
    LiteralSecret,
    /// A spec feature (Sloth, OpenSLO, Pyrra) that `burnwatch import` cannot map; the message
    /// names it and says what to write instead.
    Unsupported,
}

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct Error {
    kind: ErrorKind,
    location: Location,
    message: String,
}

impl Error {
    /// A new error. `message` says what is wrong and what would be valid; it never contains a
    /// secret.
    pub fn new(kind: ErrorKind, location: Location, message: impl Into<String>) -> Error {
        Error {
            kind,
            location,
            message: message.into(),
        }
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Where it is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// What is wrong and what would be valid, without the location.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Every problem found in one configuration file, in file order. Never empty when returned by
/// [`crate::load`] or [`crate::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Errors(pub Vec<Error>);

impl std::ops::Deref for Errors {
    type Target = [Error];

    fn deref(&self) -> &[Error] {
        &self.0
    }
}

impl IntoIterator for Errors {
    type Item = Error;
    type IntoIter = std::vec::IntoIter<Error>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Errors {
    type Item = &'a Error;
    type IntoIter = std::slice::Iter<'a, Error>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// One error per line, `file:line:col: message`.
impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Errors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_one_error_per_line() {
        let at = |line| Location {
            file: "b.toml".into(),
            line,
            col: 3,
        };
        let errors = Errors(vec![
            Error::new(ErrorKind::Missing, at(1), "one"),
            Error::new(ErrorKind::Syntax, at(2), "two"),
        ]);
        assert_eq!(errors.to_string(), "b.toml:1:3: one\nb.toml:2:3: two");
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[1].kind(), ErrorKind::Syntax);
    }
}
