//! A selector's label matchers evaluated here rather than by the backend: how a coalesced read
//! ([`crate::coalescer`]) hands each SLO exactly the series its own selector would have
//! returned.
//!
//! Semantics are PromQL's: a label a series lacks has the empty value (so `code!="500"` and
//! `code=~".*"` match it), and regular expressions are fully anchored. Patterns are RE2 syntax
//! compiled with the `regex` crate, which reads RE2 the same way but for Unicode classes: `\d`,
//! `\w` and `\s` also match non-ASCII digits, letters and spaces here, and only ASCII in
//! Prometheus (label values holding those are rare; a selector whose pattern the crate cannot
//! compile is never coalesced, so the backend judges it).

use burnwatch_spec::{MatchOp, Selector};
use regex::Regex;

use crate::backend::Labels;

/// One compiled matcher.
#[derive(Debug, Clone)]
enum Test {
    Equal(String),
    NotEqual(String),
    Regex(Regex),
    NotRegex(Regex),
}

/// A selector's matchers (and metric name), compiled.
#[derive(Debug, Clone)]
pub(crate) struct LabelFilter {
    metric: String,
    tests: Vec<(String, Test)>,
}

impl LabelFilter {
    /// The filter for `selector`, or None when one of its patterns does not compile here.
    pub(crate) fn new(selector: &Selector) -> Option<Self> {
        let mut tests = Vec::with_capacity(selector.matchers().len());
        for m in selector.matchers() {
            let test = match m.op {
                MatchOp::Equal => Test::Equal(m.value.clone()),
                MatchOp::NotEqual => Test::NotEqual(m.value.clone()),
                MatchOp::Regex => Test::Regex(anchored(&m.value)?),
                MatchOp::NotRegex => Test::NotRegex(anchored(&m.value)?),
            };
            tests.push((m.name.clone(), test));
        }
        Some(Self {
            metric: selector.metric().to_string(),
            tests,
        })
    }

    /// Whether a series with `labels` is one the selector selects. A series without
    /// `__name__` (some stores leave it out) is taken to be of the metric asked for.
    pub(crate) fn matches(&self, labels: &Labels) -> bool {
        if labels
            .get("__name__")
            .is_some_and(|name| *name != self.metric)
        {
            return false;
        }
        self.tests.iter().all(|(name, test)| {
            let value = labels.get(name).map_or("", String::as_str);
            match test {
                Test::Equal(want) => value == want,
                Test::NotEqual(want) => value != want,
                Test::Regex(re) => re.is_match(value),
                Test::NotRegex(re) => !re.is_match(value),
            }
        })
    }
}

fn anchored(pattern: &str) -> Option<Regex> {
    Regex::new(&format!("^(?:{pattern})$")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn filter(text: &str) -> LabelFilter {
        LabelFilter::new(&Selector::parse(text).unwrap()).unwrap()
    }

    #[test]
    fn matches_as_promql_does() {
        let f = filter(r#"http_requests_total{service="checkout",code=~"5..",route!="/health"}"#);
        let base = [("__name__", "http_requests_total"), ("service", "checkout")];
        let with = |extra: &[(&str, &str)]| {
            let mut l = labels(&base);
            l.extend(labels(extra));
            l
        };
        assert!(f.matches(&with(&[("code", "500"), ("route", "/pay")])));
        // Anchored: "5.." does not match "5000" nor "1500".
        assert!(!f.matches(&with(&[("code", "5000")])));
        assert!(!f.matches(&with(&[("code", "1500")])));
        // A missing label is the empty value: `route!="/health"` holds without a route.
        assert!(f.matches(&with(&[("code", "503")])));
        assert!(!f.matches(&with(&[("code", "503"), ("route", "/health")])));
        // Another metric or service.
        let mut other = with(&[("code", "500")]);
        other.insert("__name__".into(), "http_requests".into());
        assert!(!f.matches(&other));
        assert!(!f.matches(&labels(&[("service", "search"), ("code", "500")])));
    }

    #[test]
    fn empty_values_and_negative_regexes() {
        // `=~".*"` and `=""` match a series without the label; `!~` excludes what matches.
        let any = filter(r#"m{team=~".*"}"#);
        assert!(any.matches(&labels(&[])));
        let unset = filter(r#"m{team=""}"#);
        assert!(unset.matches(&labels(&[])));
        assert!(!unset.matches(&labels(&[("team", "a")])));
        let not = filter(r#"m{code!~"2..|3.."}"#);
        assert!(not.matches(&labels(&[("code", "500")])));
        assert!(!not.matches(&labels(&[("code", "302")])));
        // Alternation binds inside the anchors: `a|b` is `^(?:a|b)$`, not `^a|b$`.
        let alt = filter(r#"m{x=~"a|b"}"#);
        assert!(!alt.matches(&labels(&[("x", "ab")])));
        assert!(alt.matches(&labels(&[("x", "b")])));
    }

    #[test]
    fn a_pattern_that_does_not_compile_is_left_to_the_backend() {
        let selector = Selector::parse(r#"m{x=~"(unclosed"}"#).unwrap();
        assert!(LabelFilter::new(&selector).is_none());
    }
}
