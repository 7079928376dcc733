//! PromQL templates with Sloth's `{{.window}}` placeholder.

use std::fmt;

/// A PromQL query containing `{{.window}}` (also written `{{ .window }}`) where a range such as
/// `5m` goes, as in Sloth's `events` and `raw` SLIs:
/// `sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    text: String,
    /// The text between placeholders: rendering joins them with the window.
    parts: Vec<String>,
}

impl Template {
    /// Parses a template. It must contain `{{.window}}` at least once and no other `{{...}}`
    /// placeholder; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            let Some(close) = rest[open..].find("}}") else {
                return Err("`{{` without a closing `}}`; the placeholder is `{{.window}}`".into());
            };
            let inner = rest[open + 2..open + close].trim();
            if inner != ".window" {
                return Err(format!(
                    "unknown placeholder `{{{{{inner}}}}}`; the only placeholder is `{{{{.window}}}}`"
                ));
            }
            parts.push(rest[..open].to_string());
            rest = &rest[open + close + 2..];
        }
        if parts.is_empty() {
            return Err(
                "the query has no `{{.window}}` placeholder; put it where the range goes, \
                 e.g. sum(rate(http_requests_total[{{.window}}]))"
                    .into(),
            );
        }
        parts.push(rest.to_string());
        Ok(Template {
            text: text.to_string(),
            parts,
        })
    }

    /// The query with every placeholder replaced by `window` (a Prometheus duration such as `5m`).
    pub fn render(&self, window: &str) -> String {
        self.parts.join(window)
    }

    /// The template as written.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_placeholder() {
        let t = Template::parse("sum(rate(e[{{.window}}])) / sum(rate(t[{{ .window }}]))").unwrap();
        assert_eq!(t.render("5m"), "sum(rate(e[5m])) / sum(rate(t[5m]))");
        assert_eq!(
            t.text(),
            "sum(rate(e[{{.window}}])) / sum(rate(t[{{ .window }}]))"
        );
    }

    #[test]
    fn placeholder_at_the_edges() {
        assert_eq!(Template::parse("{{.window}}").unwrap().render("1h"), "1h");
    }

    #[test]
    fn requires_the_placeholder() {
        let err = Template::parse("sum(rate(errors[5m]))").unwrap_err();
        assert!(err.contains("{{.window}}"), "{err}");
    }

    #[test]
    fn rejects_other_placeholders() {
        let err = Template::parse("x[{{.window}}] offset {{.offset}}").unwrap_err();
        assert!(err.contains("`{{.offset}}`"), "{err}");
        assert!(Template::parse("x[{{.window").is_err());
    }
}
