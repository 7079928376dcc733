//! PromQL instant-vector selectors: `metric{label="value", code=~"5.."}`.

use std::fmt;

/// A validated PromQL vector selector: a metric name and label matchers, nothing else (no
/// functions, ranges or offsets; burnwatch adds those itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    metric: String,
    matchers: Vec<Matcher>,
}

/// One label matcher, e.g. `code=~"5.."`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    /// Label name.
    pub name: String,
    /// Comparison.
    pub op: MatchOp,
    /// The value, unescaped.
    pub value: String,
}

/// A label matcher's operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~` (fully anchored RE2 regular expression)
    Regex,
    /// `!~`
    NotRegex,
}

impl MatchOp {
    /// The operator as PromQL writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
}

impl TryFrom<&str> for MatchOp {
    type Error = String;

    fn try_from(text: &str) -> Result<MatchOp, String> {
        match text {
            "=" => Ok(MatchOp::Equal),
            "!=" => Ok(MatchOp::NotEqual),
            "=~" => Ok(MatchOp::Regex),
            "!~" => Ok(MatchOp::NotRegex),
            _ => Err(format!(
                "`{text}` is not a matcher operator; use =, !=, =~ or !~"
            )),
        }
    }
}

impl fmt::Display for MatchOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a selector is invalid: byte offset into the text, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SelectorError {
    pub offset: usize,
    pub message: String,
}

impl Selector {
    /// Parses `metric`, `metric{}` or `metric{name op "value", ...}` (ops `=`, `!=`, `=~`, `!~`;
    /// values in double, single or back quotes with PromQL's escapes; a trailing comma is fine).
    /// `{__name__="metric", ...}` is accepted for metric names that are PromQL keywords. The
    /// error says what is wrong and where.
    pub fn parse(text: &str) -> Result<Selector, String> {
        Selector::parse_at(text).map_err(|e| {
            if e.offset >= text.len() {
                format!("{} (at the end)", e.message)
            } else {
                format!("{} (at byte {})", e.message, e.offset)
            }
        })
    }

    pub(crate) fn parse_at(text: &str) -> Result<Selector, SelectorError> {
        Parser { text, pos: 0 }.selector()
    }

    /// The metric name.
    pub fn metric(&self) -> &str {
        &self.metric
    }

    /// The label matchers, in the order written.
    pub fn matchers(&self) -> &[Matcher] {
        &self.matchers
    }

    /// Canonical PromQL: `metric{a="b",c=~"d"}` (no spaces, double quotes, escaped values;
    /// no braces without matchers). A metric name that PromQL would read as a keyword or number
    /// (`sum`, `inf`) is written as a `__name__` matcher instead.
    pub fn render(&self) -> String {
        let keyword = is_keyword(&self.metric);
        let mut out = String::new();
        if !keyword {
            out.push_str(&self.metric);
        }
        if keyword || !self.matchers.is_empty() {
            out.push('{');
            let name = keyword.then_some(("__name__", MatchOp::Equal, self.metric.as_str()));
            let rest = self
                .matchers
                .iter()
                .map(|m| (m.name.as_str(), m.op, m.value.as_str()));
            for (i, (label, op, value)) in name.into_iter().chain(rest).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(label);
                out.push_str(op.as_str());
                push_quoted(&mut out, value);
            }
            out.push('}');
        }
        out
    }

    /// The same selector with `suffix` appended to the metric name, e.g. `_bucket`.
    ///
    /// # Panics
    /// If the suffix contains characters not allowed in metric names.
    pub fn with_suffix(&self, suffix: &str) -> Selector {
        assert!(
            suffix.chars().all(is_metric_char),
            "`{suffix}` cannot be part of a metric name"
        );
        Selector {
            metric: format!("{}{suffix}", self.metric),
            matchers: self.matchers.clone(),
        }
    }

    /// The same selector with one more matcher appended (existing matchers on the same label are
    /// kept, so the result never matches more series). `op` is a [`MatchOp`] or its text (`"="`).
    ///
    /// # Panics
    /// If `name` is not a label name or `op` is not an operator: both are programmer errors.
    pub fn with_matcher<O>(&self, name: &str, op: O, value: &str) -> Selector
    where
        O: TryInto<MatchOp>,
        O::Error: fmt::Debug,
    {
        assert!(is_label_name(name), "`{name}` is not a label name");
        let op = op.try_into().expect("a matcher operator");
        let mut matchers = self.matchers.clone();
        matchers.push(Matcher {
            name: name.to_string(),
            op,
            value: value.to_string(),
        });
        Selector {
            metric: self.metric.clone(),
            matchers,
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`
pub(crate) fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub(crate) fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(is_metric_char)
}

fn is_metric_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// Words the PromQL lexer never reads as a metric name (it lower-cases before looking up).
fn is_keyword(metric: &str) -> bool {
    const KEYWORDS: [&str; 30] = [
        "and",
        "or",
        "unless",
        "atan2",
        "sum",
        "avg",
        "count",
        "min",
        "max",
        "group",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "count_values",
        "quantile",
        "limitk",
        "limit_ratio",
        "offset",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "start",
        "end",
        "inf",
        "nan",
    ];
    KEYWORDS.contains(&metric.to_ascii_lowercase().as_str())
}

/// Appends `value` as a double-quoted PromQL string.
fn push_quoted(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn selector(mut self) -> Result<Selector, SelectorError> {
        self.skip_ws();
        let metric = self.take_while(is_metric_char).to_string();
        if !metric.is_empty() && !is_metric_name(&metric) {
            return Err(self.error_at(
                self.pos - metric.len(),
                format!("`{metric}` is not a metric name: it must not start with a digit"),
            ));
        }
        self.skip_ws();
        let mut matchers = Vec::new();
        if self.peek() == Some('{') {
            self.pos += 1;
            matchers = self.matchers()?;
            self.skip_ws();
        }
        if let Some(c) = self.peek() {
            return Err(self.unexpected(c));
        }
        let mut metric = metric;
        if metric.is_empty() {
            let named = matchers
                .iter()
                .position(|m| m.name == "__name__" && m.op == MatchOp::Equal);
            match named {
                Some(i) if is_metric_name(&matchers[i].value) => metric = matchers.remove(i).value,
                _ => {
                    return Err(self.error_at(
                        0,
                        "a metric name is required, e.g. http_requests_total{code=~\"5..\"}".into(),
                    ));
                }
            }
        }
        if matchers.iter().any(|m| m.name == "__name__") {
            return Err(self.error_at(
                0,
                "the metric name is given twice (name and `__name__`)".into(),
            ));
        }
        Ok(Selector { metric, matchers })
    }

    fn matchers(&mut self) -> Result<Vec<Matcher>, SelectorError> {
        let mut matchers = Vec::new();
        loop {
            self.skip_ws();
            if self.eat('}') {
                return Ok(matchers);
            }
            let start = self.pos;
            let name = self
                .take_while(|c| c.is_ascii_alphanumeric() || c == '_')
                .to_string();
            if !is_label_name(&name) {
                let what = match self.peek() {
                    None => "the selector ends before `}`".to_string(),
                    Some(_) if !name.is_empty() => format!("`{name}` is not a label name"),
                    Some(c) => format!("unexpected `{c}`"),
                };
                return Err(self.error_at(
                    start,
                    format!("{what}: expected a label name ([a-zA-Z_][a-zA-Z0-9_]*) or `}}`"),
                ));
            }
            self.skip_ws();
            let op_start = self.pos;
            let op = ["=~", "!~", "!=", "="]
                .into_iter()
                .find(|op| self.text[self.pos..].starts_with(op))
                .ok_or_else(|| {
                    self.error_at(op_start, format!("expected =, !=, =~ or !~ after `{name}`"))
                })?;
            self.pos += op.len();
            self.skip_ws();
            let value = self.string()?;
            let op = MatchOp::try_from(op).expect("one of the four operators");
            matchers.push(Matcher { name, op, value });
            self.skip_ws();
            if self.eat('}') {
                return Ok(matchers);
            }
            if !self.eat(',') {
                let what = self
                    .peek()
                    .map_or("the end".to_string(), |c| format!("`{c}`"));
                return Err(self.error_at(self.pos, format!("expected `,` or `}}`, found {what}")));
            }
        }
    }

    fn string(&mut self) -> Result<String, SelectorError> {
        let start = self.pos;
        let quote = match self.peek() {
            Some(q @ ('"' | '\'' | '`')) => q,
            _ => {
                return Err(self.error_at(
                    start,
                    "expected a quoted value, e.g. \"checkout\"".to_string(),
                ));
            }
        };
        self.pos += 1;
        let mut value = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error_at(
                    start,
                    format!("unterminated string: missing closing {quote}"),
                ));
            };
            self.pos += c.len_utf8();
            match c {
                c if c == quote => return Ok(value),
                '\\' if quote != '`' => value.push(self.escape()?),
                '\n' if quote != '`' => {
                    return Err(
                        self.error_at(self.pos - 1, "newline in a quoted value; write \\n".into())
                    );
                }
                c => value.push(c),
            }
        }
    }

    /// After a backslash: Go's escapes, as PromQL's lexer accepts them.
    fn escape(&mut self) -> Result<char, SelectorError> {
        let start = self.pos - 1;
        let c = self
            .peek()
            .ok_or_else(|| self.error_at(start, "unterminated escape".into()))?;
        self.pos += c.len_utf8();
        let simple = match c {
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            '\\' | '"' | '\'' => Some(c),
            _ => None,
        };
        if let Some(s) = simple {
            return Ok(s);
        }
        let (digits, radix) = match c {
            'x' => (2, 16),
            'u' => (4, 16),
            'U' => (8, 16),
            '0'..='7' => {
                self.pos -= 1;
                (3, 8)
            }
            _ => return Err(self.error_at(start, format!("unknown escape sequence `\\{c}`"))),
        };
        let end = self.pos + digits;
        let code = self
            .text
            .get(self.pos..end)
            .and_then(|d| u32::from_str_radix(d, radix).ok())
            .filter(|_| self.text[self.pos..end].chars().all(|d| d.is_digit(radix)))
            .ok_or_else(|| {
                self.error_at(
                    start,
                    format!("escape `\\{c}` needs {digits} base-{radix} digits"),
                )
            })?;
        self.pos = end;
        char::from_u32(code).ok_or_else(|| {
            self.error_at(
                start,
                format!("escape is not a valid character (0x{code:x})"),
            )
        })
    }

    fn unexpected(&self, c: char) -> SelectorError {
        let message = match c {
            '[' => "a range like [5m] is not allowed here: burnwatch adds ranges itself; \
                    give a plain selector like metric{label=\"value\"}"
                .to_string(),
            '(' | ')' => "functions are not allowed here: give a plain selector like \
                    metric{label=\"value\"} (use [slo.sli.events] for arbitrary PromQL)"
                .to_string(),
            _ => format!(
                "unexpected `{c}`: expected a selector like metric{{label=\"value\"}} and nothing after it"
            ),
        };
        self.error_at(self.pos, message)
    }

    fn error_at(&self, offset: usize, message: String) -> SelectorError {
        SelectorError { offset, message }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn eat(&mut self, c: char) -> bool {
        let found = self.peek() == Some(c);
        if found {
            self.pos += c.len_utf8();
        }
        found
    }

    fn skip_ws(&mut self) {
        self.take_while(char::is_whitespace);
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &str {
        let start = self.pos;
        let len: usize = self.text[start..]
            .chars()
            .take_while(|c| keep(*c))
            .map(char::len_utf8)
            .sum();
        self.pos += len;
        &self.text[start..self.pos]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(text: &str) -> Selector {
        Selector::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn parses_metric_and_matchers() {
        let s = sel(r#"http_requests_total{service="checkout", code=~"5..", route!='/x',}"#);
        assert_eq!(s.metric(), "http_requests_total");
        assert_eq!(
            s.matchers(),
            &[
                Matcher {
                    name: "service".into(),
                    op: MatchOp::Equal,
                    value: "checkout".into()
                },
                Matcher {
                    name: "code".into(),
                    op: MatchOp::Regex,
                    value: "5..".into()
                },
                Matcher {
                    name: "route".into(),
                    op: MatchOp::NotEqual,
                    value: "/x".into()
                },
            ]
        );
        assert_eq!(
            s.render(),
            r#"http_requests_total{service="checkout",code=~"5..",route!="/x"}"#
        );
    }

    #[test]
    fn bare_metric_and_empty_braces() {
        assert_eq!(sel("up").render(), "up");
        assert_eq!(sel(" job:up:sum {} ").render(), "job:up:sum");
        assert_eq!(sel("a{b!~'c'}").matchers()[0].op, MatchOp::NotRegex);
    }

    #[test]
    fn escapes_round_trip() {
        let s = sel(r#"m{a="say \"hi\"\\n", b='it\'s', c=`C:\dir`, d="\x41\u00e9\101\t"}"#);
        let values: Vec<&str> = s.matchers().iter().map(|m| m.value.as_str()).collect();
        assert_eq!(values, ["say \"hi\"\\n", "it's", r"C:\dir", "Aé\u{41}\t"]);
        let rendered = s.render();
        assert_eq!(
            rendered,
            r#"m{a="say \"hi\"\\n",b="it's",c="C:\\dir",d="AéA\t"}"#
        );
        assert_eq!(sel(&rendered), s);
    }

    #[test]
    fn control_characters_render_as_escapes() {
        let s = sel("m").with_matcher("a", MatchOp::Equal, "x\u{1}y\u{85}");
        assert_eq!(s.render(), r#"m{a="x\x01y\u0085"}"#);
        assert_eq!(sel(&s.render()), s);
    }

    #[test]
    fn keyword_metric_names_render_as_name_matchers() {
        let s = sel(r#"sum{a="b"}"#);
        assert_eq!(s.render(), r#"{__name__="sum",a="b"}"#);
        assert_eq!(sel(&s.render()), s);
        assert_eq!(sel(r#"{__name__="up"}"#).render(), "up");
    }

    #[test]
    fn suffix_and_matcher() {
        let h = sel(r#"http_request_duration_seconds{service="checkout"}"#);
        assert_eq!(
            h.with_suffix("_bucket")
                .with_matcher("le", "=", "0.3")
                .render(),
            r#"http_request_duration_seconds_bucket{service="checkout",le="0.3"}"#
        );
        assert_eq!(
            h.with_suffix("_count").metric(),
            "http_request_duration_seconds_count"
        );
    }

    #[test]
    fn rejects_what_is_not_a_plain_selector() {
        for (text, needle) in [
            ("", "metric name is required"),
            (r#"{code="5"}"#, "metric name is required"),
            ("rate(x[5m])", "functions"),
            ("x[5m]", "range"),
            ("x{a=b}", "quoted value"),
            (r#"x{a=="b"}"#, "quoted value"),
            (r#"x{a~"b"}"#, "expected =, !=, =~ or !~"),
            (r#"x{1a="b"}"#, "label name"),
            (r#"x{a="b""#, "`,` or `}`"),
            (r#"x{a="b"#, "unterminated"),
            (r#"x{a="\q"}"#, "unknown escape"),
            (r#"x{a="\x4"}"#, "2 base-16 digits"),
            (r#"x{a="b" c="d"}"#, "`,` or `}`"),
            (r#"x{__name__="y"}"#, "twice"),
            (r#"x{a="b"} offset 5m"#, "unexpected `o`"),
            ("9x", "metric name"),
        ] {
            let err = Selector::parse(text).unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn error_offsets_point_at_the_problem() {
        assert_eq!(
            Selector::parse_at(r#"x{a="b",c=d}"#).unwrap_err().offset,
            10
        );
        assert_eq!(Selector::parse_at("x[5m]").unwrap_err().offset, 1);
    }
}
