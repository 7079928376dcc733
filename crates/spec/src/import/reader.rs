//! Reading a spec's YAML nodes for a mapping: required and optional keys, tables of strings,
//! unknown keys; every problem recorded at its `file:line:col`.

use std::collections::BTreeMap;
use std::path::Path;

use super::yaml::{Node, Value};
use crate::error::{Error, ErrorKind};
use crate::location::Location;

/// The file being read and the problems found so far.
pub(crate) struct Reader<'a> {
    /// The spec file, as given.
    pub file: &'a Path,
    /// Every problem, in the order found.
    pub problems: &'a mut Vec<Error>,
}

impl Reader<'_> {
    /// Where `node` is.
    pub(crate) fn at(&self, node: &Node) -> Location {
        node.at(self.file)
    }

    /// Records a problem at `node`.
    pub(crate) fn problem(&mut self, kind: ErrorKind, node: &Node, message: impl Into<String>) {
        let at = self.at(node);
        self.problems.push(Error::new(kind, at, message));
    }

    /// A feature burnwatch does not map: `message` names it and says what to write instead.
    pub(crate) fn unsupported(&mut self, node: &Node, message: impl Into<String>) {
        self.problem(ErrorKind::Unsupported, node, message);
    }

    /// The scalar text under `key`, or `None` after reporting it missing or not a scalar.
    /// `what` names the mapping in the message (`a Sloth SLO`).
    pub(crate) fn required<'n>(
        &mut self,
        node: &'n Node,
        key: &str,
        what: &str,
    ) -> Option<&'n Node> {
        match node.get(key) {
            Some(value) if value.text().is_some() => Some(value),
            Some(value) => {
                self.problem(
                    ErrorKind::InvalidType,
                    value,
                    format!("`{key}` of {what} must be a single value, not a list or mapping"),
                );
                None
            }
            None => {
                self.problem(ErrorKind::Missing, node, format!("{what} needs `{key}`"));
                None
            }
        }
    }

    /// The scalar under `key` if present; a list or mapping there is reported.
    pub(crate) fn optional<'n>(&mut self, node: &'n Node, key: &str) -> Option<&'n Node> {
        let value = node.get(key)?;
        if value.text().is_some() {
            return Some(value);
        }
        self.problem(
            ErrorKind::InvalidType,
            value,
            format!("`{key}` must be a single value, not a list or mapping"),
        );
        None
    }

    /// A boolean under `key` (`true`/`false`); absent: `None`.
    pub(crate) fn flag(&mut self, node: &Node, key: &str) -> Option<bool> {
        let value = self.optional(node, key)?;
        match value.text() {
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(other) => {
                self.problem(
                    ErrorKind::InvalidValue,
                    value,
                    format!("`{key}` must be true or false, not `{other}`"),
                );
                None
            }
            None => None,
        }
    }

    /// A mapping of strings under `key` (labels, annotations) and where it is; absent: `None`.
    pub(crate) fn strings(
        &mut self,
        node: &Node,
        key: &str,
    ) -> Option<(BTreeMap<String, String>, Location)> {
        let map = node.get(key)?;
        if !map.is_map() {
            self.problem(
                ErrorKind::InvalidType,
                map,
                format!(
                    "`{key}` must be a mapping of names to values, e.g. `{key}: {{team: payments}}`"
                ),
            );
            return None;
        }
        let mut out = BTreeMap::new();
        for (k, v) in map.entries() {
            match (k.text(), &v.value) {
                (Some(name), Value::Scalar { text, .. }) => {
                    out.insert(name.to_string(), text.clone());
                }
                (Some(name), Value::Null) => {
                    out.insert(name.to_string(), String::new());
                }
                _ => self.problem(
                    ErrorKind::InvalidType,
                    v,
                    format!("each entry of `{key}` must be a name and a single value"),
                ),
            }
        }
        Some((out, self.at(map)))
    }

    /// Reports every key of the mapping `node` not in `known` (`what` names the mapping).
    pub(crate) fn known(&mut self, node: &Node, known: &[&str], what: &str) {
        for (key, _) in node.entries() {
            let name = key.text().unwrap_or("");
            if !known.contains(&name) {
                let hint = crate::suggest::closest(name, known)
                    .map(|k| format!(" (did you mean `{k}`?)"))
                    .unwrap_or_default();
                self.problem(
                    ErrorKind::UnknownKey,
                    key,
                    format!(
                        "unknown key `{name}` in {what}{hint}; known keys: {}",
                        known.join(", ")
                    ),
                );
            }
        }
    }
}
