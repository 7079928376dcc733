//! YAML documents as a small tree whose every node knows its line and column, so an import
//! problem points at the spec's own text.
//!
//! saphyr parses (YAML 1.2, multi-document streams); this file keeps only what the mappings
//! need: scalars with their text, sequences and mappings in file order.

use std::path::Path;

use saphyr::{LoadableYamlNode, MarkedYamlOwned, ScalarOwned, YamlDataOwned};

use crate::error::{Error, ErrorKind};
use crate::location::Location;

/// One YAML node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// What it holds.
    pub value: Value,
}

/// A node's content.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// A scalar as text (numbers written back in their shortest form: `99.9`, `30`), and
    /// whether YAML read it as a string (quoted, or not a number, boolean or null).
    Scalar {
        /// The text.
        text: String,
        /// Read as a string (not a number, boolean or null).
        string: bool,
    },
    /// `null`, `~` or nothing.
    Null,
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, keys in file order.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The node's place in `file`.
    pub(crate) fn at(&self, file: &Path) -> Location {
        Location {
            file: file.to_path_buf(),
            line: self.line,
            col: self.col,
        }
    }

    /// The value under `key` of a mapping; `None` for other nodes and absent keys.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        self.entries()
            .iter()
            .find(|(k, _)| k.text() == Some(key))
            .map(|(_, v)| v)
            .filter(|v| v.value != Value::Null)
    }

    /// A mapping's entries; empty for other nodes.
    pub(crate) fn entries(&self) -> &[(Node, Node)] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    /// A sequence's items; empty for other nodes.
    pub(crate) fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    /// A scalar's text (numbers and booleans too).
    pub(crate) fn text(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Whether this is a mapping.
    pub(crate) fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }
}

/// Every document of a YAML stream, or the syntax error at its place.
pub(crate) fn documents(text: &str, file: &Path) -> Result<Vec<Node>, Error> {
    let docs = MarkedYamlOwned::load_from_str(text).map_err(|err| {
        let marker = err.marker();
        Error::new(
            ErrorKind::Syntax,
            Location {
                file: file.to_path_buf(),
                line: marker.line(),
                col: marker.col() + 1,
            },
            format!("invalid YAML: {}", err.info()),
        )
    })?;
    Ok(docs
        .iter()
        .map(convert)
        .filter(|doc| doc.value != Value::Null)
        .collect())
}

fn convert(node: &MarkedYamlOwned) -> Node {
    let value = match &node.data {
        YamlDataOwned::Value(scalar) => scalar_value(scalar),
        YamlDataOwned::Representation(text, _, _) => Value::Scalar {
            text: text.clone(),
            string: true,
        },
        YamlDataOwned::Sequence(items) => Value::Seq(items.iter().map(convert).collect()),
        YamlDataOwned::Mapping(map) => {
            Value::Map(map.iter().map(|(k, v)| (convert(k), convert(v))).collect())
        }
        YamlDataOwned::Tagged(_, inner) => return convert(inner),
        YamlDataOwned::Alias(_) | YamlDataOwned::BadValue => Value::Null,
    };
    Node {
        line: node.span.start.line(),
        col: node.span.start.col() + 1,
        value,
    }
}

fn scalar_value(scalar: &ScalarOwned) -> Value {
    let (text, string) = match scalar {
        ScalarOwned::Null => return Value::Null,
        ScalarOwned::Boolean(b) => (b.to_string(), false),
        ScalarOwned::Integer(i) => (i.to_string(), false),
        ScalarOwned::FloatingPoint(f) => (f.into_inner().to_string(), false),
        ScalarOwned::String(s) => (s.clone(), true),
    };
    Value::Scalar { text, string }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_know_their_one_based_line_and_column() {
        let text = "a: 1\n---\nversion: prometheus/v1\nslos:\n  - name: x\n    objective: 99.90\n";
        let docs = documents(text, Path::new("s.yaml")).unwrap();
        assert_eq!(docs.len(), 2);
        let slo = &docs[1].get("slos").unwrap().items()[0];
        assert_eq!((slo.line, slo.col), (5, 5));
        let objective = slo.get("objective").unwrap();
        assert_eq!((objective.line, objective.col), (6, 16));
        assert_eq!(objective.text(), Some("99.9"));
        assert_eq!(docs[0].get("a").unwrap().text(), Some("1"));
    }

    #[test]
    fn a_syntax_error_has_its_place() {
        let err = documents("a: [1, 2\nb: 3\n", Path::new("bad.yaml")).unwrap_err();
        assert!(err.to_string().starts_with("bad.yaml:"), "{err}");
        assert!(err.to_string().contains("invalid YAML"), "{err}");
    }
}
