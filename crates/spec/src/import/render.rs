//! Writes imported tables as burnwatch TOML, and remembers which spec place each line of it
//! came from so that validating the text can report problems at the spec.

use std::fmt::Write as _;

use super::table::{ImportedSlo, Item, Table};
use crate::location::Location;

/// TOML text and, per line of it (0-based), the spec place that line was mapped from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rendered {
    /// The TOML.
    pub text: String,
    /// `origins[i]`: where line `i` of `text` came from.
    pub origins: Vec<Option<Location>>,
}

impl Rendered {
    /// Appends `chunk` (whole lines), every line of it mapped from `origin`.
    fn push(&mut self, chunk: &str, origin: Option<&Location>) {
        self.text.push_str(chunk);
        for _ in 0..chunk.matches('\n').count() {
            self.origins.push(origin.cloned());
        }
    }
}

/// The `[[slo]]` tables, each preceded by a comment naming its spec file and line.
pub fn render(slos: &[ImportedSlo]) -> Rendered {
    let mut out = Rendered::default();
    for (i, slo) in slos.iter().enumerate() {
        if i > 0 {
            out.push("\n", None);
        }
        out.push(
            &format!("# {} ({})\n", slo.origin, slo.format),
            Some(&slo.origin),
        );
        out.push("[[slo]]\n", Some(&slo.origin));
        table(&mut out, "slo", &slo.table, &slo.origin);
        route(&mut out, slo);
    }
    out
}

/// `[[route]]` sending the SLO's alerts to its receivers (by its id, `<service>-<name>`).
fn route(out: &mut Rendered, slo: &ImportedSlo) {
    let Some((_, at)) = slo.receivers.first() else {
        return;
    };
    let text = |key| match slo.table.get(key) {
        Some(Item::Str(s)) => s.as_str(),
        _ => "",
    };
    let id = format!("{}-{}", text("service"), text("name"));
    out.push("[[route]]\n", Some(at));
    out.push(
        &format!("match = {{ sloth_id = {} }}\n", string(&id)),
        Some(at),
    );
    let names: Vec<String> = slo.receivers.iter().map(|(name, _)| string(name)).collect();
    out.push(&format!("receivers = [{}]\n", names.join(", ")), Some(at));
}

/// The keys of `t` (under header path `path`): plain values first, then sub-tables, as TOML
/// requires.
fn table(out: &mut Rendered, path: &str, t: &Table, parent: &Location) {
    for entry in &t.entries {
        let origin = entry.origin.as_ref().unwrap_or(parent);
        let value = match &entry.value {
            Item::Str(s) => string(s),
            Item::Number(n) => n.clone(),
            Item::Bool(b) => b.to_string(),
            Item::Strings(list) => {
                let items: Vec<String> = list.iter().map(|s| string(s)).collect();
                format!("[{}]", items.join(", "))
            }
            Item::Map(map) => {
                let items: Vec<String> = map
                    .iter()
                    .map(|(k, v)| format!("{} = {}", key(k), string(v)))
                    .collect();
                format!("{{ {} }}", items.join(", "))
            }
            Item::Table(_) | Item::Tables(_) => continue,
        };
        out.push(&format!("{} = {value}\n", key(&entry.key)), Some(origin));
    }
    for entry in &t.entries {
        let origin = entry.origin.as_ref().unwrap_or(parent);
        let sub = format!("{path}.{}", key(&entry.key));
        match &entry.value {
            Item::Table(inner) => {
                out.push(&format!("[{sub}]\n"), Some(origin));
                table(out, &sub, inner, origin);
            }
            Item::Tables(list) => {
                for inner in list {
                    out.push(&format!("[[{sub}]]\n"), Some(origin));
                    table(out, &sub, inner, origin);
                }
            }
            _ => {}
        }
    }
}

/// A key, bare when TOML allows it.
pub(crate) fn key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { k.to_string() } else { string(k) }
}

/// A TOML string holding `s` exactly after burnwatch's `${ENV}` expansion: `$` before `{` or
/// `$` is doubled, so spec text is never read as a variable. Multi-line text is written as a
/// literal multi-line string when it can be, so queries stay readable.
fn string(s: &str) -> String {
    let s = escape_dollars(s);
    let literal_ok = s.contains('\n')
        && !s.contains("'''")
        && !s.ends_with('\'')
        && !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
    if literal_ok {
        return format!("'''\n{s}'''");
    }
    basic(&s)
}

/// A TOML basic string (one line, escaped) holding `s` as it is.
pub(crate) fn basic(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn escape_dollars(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '$' && matches!(chars.peek(), Some('{') | Some('$')) {
            out.push('$');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn at(line: usize) -> Location {
        Location {
            file: "s.yaml".into(),
            line,
            col: 3,
        }
    }

    #[test]
    fn tables_come_after_values_and_every_line_has_its_origin() {
        let mut slo = Table::default();
        slo.set("service", Item::Str("checkout".into()), Some(at(2)));
        let events = slo.table("sli", Some(at(5))).table("events", Some(at(6)));
        events.set("error_query", Item::Str("a\nb\n".into()), Some(at(7)));
        slo.set("objective", Item::Number("99.9".into()), Some(at(4)));
        let mut labels = BTreeMap::new();
        labels.insert("app.kubernetes.io/name".to_string(), "x\"y".to_string());
        slo.set("labels", Item::Map(labels), Some(at(3)));
        let rendered = render(&[ImportedSlo {
            origin: at(1),
            format: "Sloth prometheus/v1",
            table: slo,
            receivers: Vec::new(),
        }]);
        let expected = "# s.yaml:1:3 (Sloth prometheus/v1)\n[[slo]]\nservice = \"checkout\"\n\
                        objective = 99.9\nlabels = { \"app.kubernetes.io/name\" = \"x\\\"y\" }\n\
                        [slo.sli]\n[slo.sli.events]\nerror_query = '''\na\nb\n'''\n";
        assert_eq!(rendered.text, expected);
        let lines: Vec<usize> = rendered
            .origins
            .iter()
            .map(|o| o.as_ref().unwrap().line)
            .collect();
        assert_eq!(lines, [1, 1, 2, 4, 3, 5, 6, 7, 7, 7, 7]);
        let parsed: toml::Table = toml::from_str(&rendered.text).unwrap();
        let slo = &parsed["slo"][0];
        assert_eq!(slo["sli"]["events"]["error_query"].as_str(), Some("a\nb\n"));
        assert_eq!(
            slo["labels"]["app.kubernetes.io/name"].as_str(),
            Some("x\"y")
        );
    }

    #[test]
    fn dollars_that_would_expand_are_doubled() {
        assert_eq!(string("a${B}c$1"), "\"a$${B}c$1\"");
        // What burnwatch reads back is the spec's text, whatever the run of dollars.
        for text in [
            "a${B}c$1$$",
            "$${x}$",
            "$",
            "label_replace(up, \"x\", \"$1\", \"a\", \"(.*)\")",
        ] {
            let written = escape_dollars(text);
            assert_eq!(
                crate::env::expand(&written, &|_| None).unwrap(),
                text,
                "{written}"
            );
        }
    }
}
