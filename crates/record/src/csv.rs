//! The daily rows as CSV (RFC 4180): one header line, one line per row; notifications as
//! `receiver:count` pairs joined by spaces.

use std::fmt::Write as _;

use crate::DayRow;

/// The header line's columns.
pub const COLUMNS: &str = "slo,instance,team,day,objective,events,errors,budget_spent,\
excluded_minutes,incidents,mttr_seconds,notifications";

/// The rows as a CSV document.
pub fn render(rows: &[DayRow]) -> String {
    let mut out = String::with_capacity(64 + rows.len() * 120);
    out.push_str(COLUMNS);
    out.push_str("\r\n");
    for row in rows {
        let sent: Vec<String> = row
            .notifications
            .iter()
            .map(|(receiver, n)| format!("{receiver}:{n}"))
            .collect();
        let _ = write!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{}\r\n",
            field(&row.slo),
            field(&row.instance),
            field(row.team.as_deref().unwrap_or("")),
            row.day,
            row.objective,
            row.events,
            row.errors,
            row.budget_spent.map(|v| v.to_string()).unwrap_or_default(),
            row.excluded_minutes,
            row.incidents,
            row.mttr_seconds.map(|v| v.to_string()).unwrap_or_default(),
            field(&sent.join(" ")),
        );
    }
    out
}

/// A field quoted when it holds a comma, quote or line break (instance keys hold commas).
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_keys_with_commas_are_quoted() {
        assert_eq!(field("s{a=1,b=\"x\"}"), "\"s{a=1,b=\"\"x\"\"}\"");
        assert_eq!(field("plain"), "plain");
    }
}
