//! Which SLOs a replay (or a report) runs: the ones asked for, and the components of the
//! composites among them, which are replayed too (quietly when not asked for) so that each
//! composite is composed from its components' evaluations at the same steps.

use std::collections::{BTreeSet, HashSet};

use burnwatch_spec::{Config, Sli, Slo};

/// The SLOs to run, in the order to run them.
#[derive(Debug)]
pub(crate) struct Selection<'a> {
    /// SLOs read from a backend, with whether they were asked for (else they are only
    /// components: run, recorded, not shown).
    pub direct: Vec<(&'a Slo, bool)>,
    /// Composites, each after the composites it is made of, with whether it was asked for.
    pub composites: Vec<(&'a Slo, bool)>,
    /// The ids of the SLOs whose evaluations composites are composed from.
    pub components: HashSet<String>,
}

/// The components a composite is composed from at each step; none for a time-slice
/// composite, which reads its components' slices itself.
fn parts(slo: &Slo) -> &[burnwatch_spec::Component] {
    match &slo.sli {
        Sli::Composite { components, .. } if slo.slicing.is_none() => components,
        _ => &[],
    }
}

/// The SLOs `only` selects (all when empty) and everything their composites need.
pub(crate) fn select<'a>(config: &'a Config, only: &[String]) -> Selection<'a> {
    let asked = |slo: &Slo| only.is_empty() || only.contains(&slo.id);
    // Everything the asked-for SLOs reach through composites.
    let mut needed: BTreeSet<&str> = config
        .slos
        .iter()
        .filter(|s| asked(s))
        .map(|s| s.id.as_str())
        .collect();
    let mut components = HashSet::new();
    loop {
        let more: Vec<&str> = config
            .slos
            .iter()
            .filter(|s| needed.contains(s.id.as_str()))
            .flat_map(|s| parts(s).iter().map(|c| c.slo.as_str()))
            .filter(|id| !needed.contains(id))
            .collect();
        for s in config
            .slos
            .iter()
            .filter(|s| needed.contains(s.id.as_str()))
        {
            components.extend(parts(s).iter().map(|c| c.slo.clone()));
        }
        if more.is_empty() {
            break;
        }
        needed.extend(more);
    }
    let run: Vec<&Slo> = config
        .slos
        .iter()
        .filter(|s| needed.contains(s.id.as_str()))
        .collect();
    let direct = run
        .iter()
        .filter(|s| parts(s).is_empty())
        .map(|s| (*s, asked(s)))
        .collect();
    // Validation refuses cycles, so every pass places at least one composite.
    let mut pending: Vec<&Slo> = run.into_iter().filter(|s| !parts(s).is_empty()).collect();
    let mut composites = Vec::new();
    let mut placed: HashSet<&str> = HashSet::new();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|s| {
            let ready = parts(s).iter().all(|c| {
                placed.contains(c.slo.as_str())
                    || config
                        .slos
                        .iter()
                        .any(|o| o.id == c.slo && parts(o).is_empty())
            });
            if ready {
                composites.push((*s, asked(s)));
                placed.insert(s.id.as_str());
            }
            !ready
        });
        if pending.len() == before {
            break;
        }
    }
    Selection {
        direct,
        composites,
        components,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
[backends.main]
type = "prometheus"
url = "http://127.0.0.1:9090"

[[slo]]
service = "shop"
name = "cart"
objective = 99.9
[slo.sli.ratio]
errors = 'cart_errors_total'
total = 'cart_total'

[[slo]]
service = "shop"
name = "pay"
objective = 99
[slo.sli.ratio]
errors = 'pay_errors_total'
total = 'pay_total'

[[slo]]
service = "shop"
name = "search"
objective = 99
[slo.sli.ratio]
errors = 'search_errors_total'
total = 'search_total'

[[composite]]
service = "shop"
name = "journey"
objective = 99.5
components = [{ slo = "shop-checkout" }, { slo = "shop-search" }]

[[composite]]
service = "shop"
name = "checkout"
objective = 99.5
components = [{ slo = "shop-cart", weight = 2 }, { slo = "shop-pay" }]
"#;

    fn ids(list: &[(&Slo, bool)]) -> Vec<(String, bool)> {
        list.iter()
            .map(|(s, asked)| (s.id.clone(), *asked))
            .collect()
    }

    #[test]
    fn a_composite_brings_its_components_and_comes_after_the_composites_it_holds() {
        let config =
            burnwatch_spec::parse(CONFIG, std::path::Path::new("c.toml"), &|_| None).unwrap();
        let selection = select(&config, &["shop-journey".to_string()]);
        assert_eq!(
            ids(&selection.direct),
            [
                ("shop-cart".to_string(), false),
                ("shop-pay".to_string(), false),
                ("shop-search".to_string(), false)
            ]
        );
        assert_eq!(
            ids(&selection.composites),
            [
                ("shop-checkout".to_string(), false),
                ("shop-journey".to_string(), true)
            ]
        );
        let mut components: Vec<&String> = selection.components.iter().collect();
        components.sort();
        assert_eq!(
            components,
            ["shop-cart", "shop-checkout", "shop-pay", "shop-search"]
        );
        // Without a selection, everything is asked for.
        let all = select(&config, &[]);
        assert!(
            all.direct
                .iter()
                .chain(&all.composites)
                .all(|(_, asked)| *asked)
        );
        assert_eq!(all.composites.len(), 2);
    }
}
