//! The one result every mapping produces: burnwatch configuration tables whose every key
//! remembers the place in the spec it came from. The TOML printer ([`super::render`]) writes
//! them out; the native loader validates that text and points its errors back at the spec.

use std::collections::BTreeMap;

use crate::error::Error;
use crate::location::Location;

/// A burnwatch table (`[[slo]]`, `[slo.sli.events]`, ...), keys in the order they are printed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// The keys.
    pub entries: Vec<Entry>,
}

/// One `key = value` and where in the spec its value came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The burnwatch key.
    pub key: String,
    /// Its value.
    pub value: Item,
    /// The spec node it was mapped from (`None`: implied by the mapping).
    pub origin: Option<Location>,
}

/// A value of a burnwatch key.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A string.
    Str(String),
    /// A number as written in the spec (`99.9`), so the objective keeps its digits.
    Number(String),
    /// A boolean.
    Bool(bool),
    /// A list of strings (`group_by`, `receivers`).
    Strings(Vec<String>),
    /// A table of strings written inline (`labels`, `annotations`).
    Map(BTreeMap<String, String>),
    /// A sub-table (`[slo.sli.events]`).
    Table(Table),
    /// An array of tables (`[[slo.alerting.windows]]`).
    Tables(Vec<Table>),
}

impl Table {
    /// Adds `key = value` mapped from `origin`.
    pub fn set(&mut self, key: &str, value: Item, origin: Option<Location>) {
        self.entries.push(Entry {
            key: key.to_string(),
            value,
            origin,
        });
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&Item> {
        self.entries.iter().find(|e| e.key == key).map(|e| &e.value)
    }

    /// The sub-table `key`, created (with `origin`) when absent.
    pub fn table(&mut self, key: &str, origin: Option<Location>) -> &mut Table {
        let at = match self.entries.iter().position(|e| e.key == key) {
            Some(at) => at,
            None => {
                self.set(key, Item::Table(Table::default()), origin);
                self.entries.len() - 1
            }
        };
        match &mut self.entries[at].value {
            Item::Table(table) => table,
            _ => unreachable!("`{key}` is set as a sub-table only"),
        }
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// One SLO a spec defines, as a burnwatch `[[slo]]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedSlo {
    /// Where the SLO starts in its spec (the comment above it in the printed TOML).
    pub origin: Location,
    /// The spec format it was read as, e.g. `Sloth prometheus/v1`.
    pub format: &'static str,
    /// The `[[slo]]` table.
    pub table: Table,
    /// Receiver names the SLO's alerts go to (OpenSLO notification targets), each with where
    /// it was named: a `[[route]]` matching the SLO's id follows it.
    pub receivers: Vec<(String, Location)>,
}

/// Everything read from a set of spec files: what mapped, and every problem.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Imported {
    /// The SLOs, in file and document order.
    pub slos: Vec<ImportedSlo>,
    /// Every problem (syntax, unsupported features, missing keys), each at its `file:line:col`.
    pub problems: Vec<Error>,
}
