//! Which receivers a notification goes to: every `[[route]]` whose severities include the
//! alert's (an empty list takes all) and whose matchers all equal the alert's labels applies;
//! a receiver named by several matching routes gets the notification once.

use std::collections::{BTreeMap, BTreeSet};

use burnwatch_engine::Severity;
use burnwatch_spec::{Route, Severity as SpecSeverity};

/// Routes compiled against the receiver list: receivers are indices into it.
#[derive(Debug)]
pub(crate) struct RouteTable {
    routes: Vec<Compiled>,
}

#[derive(Debug)]
struct Compiled {
    severities: Vec<Severity>,
    matchers: Vec<(String, String)>,
    receivers: Vec<usize>,
}

impl RouteTable {
    /// Compile `routes`; a receiver name not in `receivers` is an error naming the route.
    pub(crate) fn new(routes: &[Route], receivers: &[&str]) -> Result<RouteTable, String> {
        let compiled = routes
            .iter()
            .enumerate()
            .map(|(i, route)| {
                let indices = route
                    .receivers
                    .iter()
                    .map(|name| {
                        receivers.iter().position(|r| r == name).ok_or_else(|| {
                            format!(
                                "route #{} sends to receiver `{name}`, which is not defined under \
                                 [receivers] (defined: {})",
                                i + 1,
                                if receivers.is_empty() {
                                    "none".to_string()
                                } else {
                                    receivers.join(", ")
                                }
                            )
                        })
                    })
                    .collect::<Result<Vec<usize>, String>>()?;
                Ok(Compiled {
                    severities: route
                        .severity
                        .iter()
                        .map(|s| match s {
                            SpecSeverity::Page => Severity::Page,
                            SpecSeverity::Ticket => Severity::Ticket,
                        })
                        .collect(),
                    matchers: route
                        .matchers
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    receivers: indices,
                })
            })
            .collect::<Result<Vec<Compiled>, String>>()?;
        Ok(RouteTable { routes: compiled })
    }

    /// Receiver indices for an alert of `severity` with `labels`, each once, ascending.
    pub(crate) fn receivers(
        &self,
        severity: Severity,
        labels: &BTreeMap<String, String>,
    ) -> BTreeSet<usize> {
        self.routes
            .iter()
            .filter(|route| route.severities.is_empty() || route.severities.contains(&severity))
            .filter(|route| {
                route
                    .matchers
                    .iter()
                    .all(|(name, value)| labels.get(name) == Some(value))
            })
            .flat_map(|route| route.receivers.iter().copied())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(severity: &[SpecSeverity], matchers: &[(&str, &str)], receivers: &[&str]) -> Route {
        Route {
            severity: severity.to_vec(),
            matchers: matchers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            receivers: receivers.iter().map(|r| r.to_string()).collect(),
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn severity_and_every_matcher_must_match_and_receivers_are_deduplicated() {
        let table = RouteTable::new(
            &[
                route(&[SpecSeverity::Page], &[], &["pager", "chat"]),
                route(&[], &[("team", "payments")], &["chat"]),
                route(&[], &[("team", "payments"), ("region", "us")], &["us"]),
            ],
            &["chat", "pager", "us"],
        )
        .unwrap();
        let eu = labels(&[("team", "payments"), ("region", "eu")]);
        assert_eq!(table.receivers(Severity::Page, &eu), BTreeSet::from([0, 1]));
        assert_eq!(table.receivers(Severity::Ticket, &eu), BTreeSet::from([0]));
        let other = labels(&[("team", "search")]);
        assert!(table.receivers(Severity::Ticket, &other).is_empty());
    }

    #[test]
    fn unknown_receiver_is_named() {
        let err = RouteTable::new(&[route(&[], &[], &["pagr"])], &["pager"]).unwrap_err();
        assert!(
            err.contains("`pagr`") && err.contains("defined: pager"),
            "{err}"
        );
    }
}
