//! The page shell: one inline stylesheet, no script, no external resource, readable from a
//! phone (320 px) to a laptop.

use crate::chart::escape;

/// Status colours, also used by the legend and tests: backfilling and unreachable (an SLO without
/// figures yet), healthy, attention, warning, critical, exhausted.
pub const STATUS_COLOURS: [(&str, &str); 7] = [
    ("backfilling", "#546e7a"),
    ("unreachable", "#37474f"),
    ("healthy", "#2e7d32"),
    ("attention", "#f9a825"),
    ("warning", "#ef6c00"),
    ("critical", "#c62828"),
    ("exhausted", "#4a148c"),
];

const STYLE: &str = r#"
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d1d1f;background:#f6f7f9}
header{background:#1d2733;color:#fff;padding:12px 16px}
header a{color:#fff;text-decoration:none;font-weight:600}
header small{color:#b8c2cc;margin-left:8px}
main{max-width:1100px;margin:0 auto;padding:16px}
h1{font-size:20px;margin:0 0 12px;overflow-wrap:anywhere}
h2{font-size:16px;margin:24px 0 8px}
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid #dde1e6}
th,td{text-align:left;padding:8px 10px;border-bottom:1px solid #eceef1;vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#5f6b7a;background:#fafbfc}
td.num{font-variant-numeric:tabular-nums;white-space:nowrap}
a{color:#1458a8}
.id{overflow-wrap:anywhere;font-weight:600}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;color:#fff;font-size:12px;font-weight:600;white-space:nowrap}
.status-attention{color:#1d1d1f}
.bar{height:6px;background:#eceef1;border-radius:3px;margin-top:4px;max-width:140px}
.bar i{display:block;height:6px;border-radius:3px;background:#1565c0}
.muted{color:#6b7785}
.card{background:#fff;border:1px solid #dde1e6;padding:12px;margin-bottom:12px}
.chart{display:block;width:100%;height:auto}
.timeline{font-size:12px}
.tl-row{display:flex;align-items:center;gap:8px;margin:3px 0}
.tl-name{flex:0 0 56px;text-align:right;color:#5f6b7a}
.tl-track,.tl-axis{position:relative;flex:1;height:18px;background:#fafbfc}
.tl-axis{background:none;color:#5f6b7a}
.tl-track i{position:absolute;top:2px;bottom:2px;border-radius:2px}
.timeline{overflow:hidden}
.tl-axis span{position:absolute;white-space:nowrap}
.tl-axis span.centred{transform:translateX(-50%)}
.tl-axis span.from-right{transform:translateX(-100%)}
.legend span{display:inline-block;margin:4px 12px 0 0;font-size:12px;white-space:nowrap}
.legend i{display:inline-block;width:12px;height:3px;vertical-align:middle;margin-right:4px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:0}
dt{color:#5f6b7a}dd{margin:0;overflow-wrap:anywhere}
@media (max-width:640px){
  main{padding:10px}
  table.list thead{display:none}
  table.list,table.list tbody,table.list tr,table.list td{display:block;width:100%}
  table.list tr{border-bottom:1px solid #dde1e6;padding:6px 0}
  table.list td{border:0;padding:2px 10px}
  table.list td[data-label]::before{content:attr(data-label) ": ";color:#5f6b7a;font-size:12px}
  td.num{white-space:normal;overflow-wrap:anywhere}
  .tl-axis span.odd{display:none}
}
"#;

/// A whole page around `body`.
pub fn page(title: &str, body: &str) -> String {
    let colours: String = STATUS_COLOURS
        .iter()
        .map(|(status, colour)| format!(".status-{status}{{background:{colour}}}"))
        .collect();
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{STYLE}{colours}</style></head>
<body><header><a href="/">burnwatch</a><small>SLO status</small></header>
<main>{body}</main></body></html>
"#,
        title = escape(title),
    )
}

/// A status badge: colour, word, and `data-status` for tests and scripts.
pub fn badge(status: &str) -> String {
    format!(
        r#"<span class="badge status-{s}" data-status="{s}">{s}</span>"#,
        s = escape(status)
    )
}

/// A ratio as a percentage, `–` when unknown.
pub fn percent(value: Option<f64>) -> String {
    value.map_or("–".to_string(), burnwatch_spec::text::percent)
}

/// An API time (`2026-12-02T14:40:10.457Z`) as a page shows it: `2026-12-02 14:40:10 UTC`, no
/// milliseconds; anything else as it is.
pub fn when(text: &str) -> String {
    match (text.get(..10), text.get(11..19), text.as_bytes().get(10)) {
        (Some(day), Some(time), Some(b'T')) if text.ends_with('Z') => format!("{day} {time} UTC"),
        _ => text.to_string(),
    }
}

/// A burn rate, `–` when unknown.
pub fn burn(value: Option<f64>) -> String {
    value.map_or("–".to_string(), |v| format!("{v:.2}x"))
}

#[cfg(test)]
mod tests {
    use super::when;

    #[test]
    fn times_lose_their_milliseconds_and_name_utc() {
        assert_eq!(when("2026-12-02T14:40:10.457Z"), "2026-12-02 14:40:10 UTC");
        assert_eq!(when("2026-12-02T14:40:10Z"), "2026-12-02 14:40:10 UTC");
        assert_eq!(when("not yet"), "not yet");
    }
}
