//! The vendored example specs (`tests/fixtures/import/`): each imports and validates, or fails
//! naming exactly its unsupported feature at its `file:line:col`; and for every Sloth example
//! Sloth generated rules for (`examples/_gen/`), the ids, `sloth_*` labels, objectives, alert
//! names and alert labels equal those rules', read here straight from their YAML.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burnwatch_spec::Severity;
use burnwatch_spec::import::{Imported, import_paths, render};
use saphyr::{LoadableYamlNode, Scalar, Yaml};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/import")
}

fn sloth_examples() -> PathBuf {
    fixtures().join("sloth/examples")
}

/// Imports one file; what mapped must validate as a burnwatch configuration.
fn import_one(path: &Path) -> (Imported, Option<burnwatch_spec::Config>) {
    let imported = import_paths(&[path.to_path_buf()], None).unwrap();
    if imported.slos.is_empty() {
        return (imported, None);
    }
    let text = format!("{}\n{}", common::BACKEND, render(&imported.slos).text);
    let config = common::parse(&text)
        .unwrap_or_else(|errors| panic!("{}: {errors}\n---\n{text}", path.display()));
    (imported, Some(config))
}

/// `file:line:col` and a distinctive part of the message, per problem.
fn problems(imported: &Imported, dir: &Path) -> Vec<(String, String)> {
    imported
        .problems
        .iter()
        .map(|e| {
            let at = e.location();
            let file = at.file.strip_prefix(dir).unwrap_or(&at.file).display();
            (
                format!("{file}:{}:{}", at.line, at.col),
                e.message().to_string(),
            )
        })
        .collect()
}

/// The problems are exactly `expected`: each at its place, its message naming the feature.
fn assert_problems(got: &[(String, String)], expected: &[(&str, &str)]) {
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    for ((at, message), (want_at, want)) in got.iter().zip(expected) {
        assert_eq!(at, want_at, "{got:#?}");
        assert!(
            message.contains(want),
            "{at}: {message:?} does not name {want:?}"
        );
    }
}

#[test]
fn every_sloth_example_imports_or_names_its_unsupported_feature() {
    let dir = sloth_examples();
    // (file:line:col, what the message must name); everything else imports and validates.
    let expected: &[(&str, &str)] = &[
        (
            "contrib-denominator-corrected.yaml:12:9",
            "`sloth.dev/contrib/denominator_corrected_rules/v1`",
        ),
        (
            "contrib-sli-total-amount-rules.yaml:12:9",
            "`sloth.dev/contrib/sli_total_amount/v1`",
        ),
        (
            "contrib-slo-plugins.yml:14:11",
            "`sloth.dev/contrib/info_labels/v1`",
        ),
        (
            "contrib-slo-plugins.yml:45:11",
            "`sloth.dev/contrib/rule_intervals/v1`",
        ),
        (
            "plugin-getting-started.yml:14:9",
            "SLI plugin `getting_started_availability`",
        ),
        (
            "plugin-k8s-getting-started.yml:28:11",
            "SLI plugin `getting_started_availability`",
        ),
        (
            "plugin-k8s-getting-started.yml:39:9",
            "unknown key `page_alert`",
        ),
        (
            "plugin-k8s-getting-started.yml:43:9",
            "unknown key `ticket_alert`",
        ),
    ];
    let mut found = Vec::new();
    let mut imported_files = 0;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for file in &files {
        let (imported, config) = import_one(file);
        if imported.problems.is_empty() {
            imported_files += 1;
            // A spec with SLOs yields them all (no AlertWindows here: those live in windows/).
            assert!(config.is_some(), "{} defines no SLO", file.display());
        }
        found.extend(problems(&imported, &dir));
    }
    assert_problems(&found, expected);
    assert_eq!(files.len(), 22);
    assert_eq!(imported_files, 17);
}

#[test]
fn alert_windows_examples_give_the_pairs_sloth_documents() {
    let dir = sloth_examples();
    let paths = [dir.join("getting-started.yml"), dir.join("windows/7d.yaml")];
    let imported = import_paths(&paths, None).unwrap();
    assert!(imported.problems.is_empty(), "{:?}", imported.problems);
    let text = format!("{}\n{}", common::BACKEND, render(&imported.slos).text);
    let config = common::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let slo = &config.slos[0];
    assert_eq!(slo.period, std::time::Duration::from_secs(7 * 86_400));
    assert_eq!(slo.alerting.windows.as_ref().map(Vec::len), Some(4));
}

/// What Sloth's generated rules say of one SLO: its `sloth_slo_info` labels, and per severity
/// the alert's name and static labels.
#[derive(Debug, Default)]
struct Generated {
    info: BTreeMap<String, String>,
    alerts: BTreeMap<String, (String, BTreeMap<String, String>)>,
}

/// The value under `key` of a mapping node.
fn get<'a>(node: &'a Yaml<'a>, key: &str) -> Option<&'a Yaml<'a>> {
    node.as_mapping()?
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
}

fn string_map(node: Option<&Yaml>) -> BTreeMap<String, String> {
    let Some(map) = node.and_then(Yaml::as_mapping) else {
        return BTreeMap::new();
    };
    map.iter()
        .filter_map(|(k, v)| {
            let value = match v {
                Yaml::Value(Scalar::String(text)) => text.to_string(),
                Yaml::Value(Scalar::Integer(i)) => i.to_string(),
                Yaml::Value(Scalar::FloatingPoint(f)) => f.to_string(),
                Yaml::Value(Scalar::Boolean(b)) => b.to_string(),
                Yaml::Representation(text, _, _) => text.to_string(),
                _ => return None,
            };
            Some((k.as_str()?.to_string(), value))
        })
        .collect()
}

/// Sloth's rules by `sloth_id`. The `cmd` label is Sloth's example script's, not the spec's.
fn generated(path: &Path) -> BTreeMap<String, Generated> {
    let text = std::fs::read_to_string(path).unwrap();
    let docs = Yaml::load_from_str(&text).unwrap();
    let mut out: BTreeMap<String, Generated> = BTreeMap::new();
    // One document per spec document: plain rule files hold `groups`, the Kubernetes ones a
    // `PrometheusRule` with `spec.groups`.
    let groups = docs.iter().flat_map(|doc| {
        get(doc, "groups")
            .or_else(|| get(doc, "spec").and_then(|spec| get(spec, "groups")))
            .and_then(Yaml::as_sequence)
            .unwrap_or_else(|| panic!("{}: a document without rule groups", path.display()))
    });
    for group in groups {
        for rule in get(group, "rules").and_then(Yaml::as_sequence).unwrap() {
            let mut labels = string_map(get(rule, "labels"));
            labels.remove("cmd");
            if get(rule, "record").and_then(Yaml::as_str) == Some("sloth_slo_info") {
                let id = labels["sloth_id"].clone();
                out.entry(id).or_default().info = labels;
            } else if let Some(alert) = get(rule, "alert").and_then(Yaml::as_str) {
                // The id is in the expression's selectors.
                let expr = get(rule, "expr").and_then(Yaml::as_str).unwrap();
                let id = expr
                    .split("sloth_id=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap();
                let severity = labels["sloth_severity"].clone();
                out.entry(id.to_string())
                    .or_default()
                    .alerts
                    .insert(severity, (alert.to_string(), labels));
            }
        }
    }
    out
}

#[test]
fn imported_sloth_examples_carry_the_ids_and_labels_of_sloths_generated_rules() {
    let dir = sloth_examples();
    // Specs Sloth generated rules for that do not import (each names its unsupported feature in
    // `every_sloth_example_imports_or_names_its_unsupported_feature`): nothing to compare.
    let not_imported = [
        "contrib-denominator-corrected.yaml",
        "contrib-slo-plugins.yml",
        "plugin-getting-started.yml",
        "plugin-k8s-getting-started.yml",
    ];
    let mut compared = 0;
    let mut compared_files = Vec::new();
    let mut gen_files: Vec<PathBuf> = std::fs::read_dir(dir.join("_gen"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    gen_files.sort();
    for gen_file in &gen_files {
        let name = gen_file.file_name().unwrap().to_str().unwrap();
        // Every vendored `_gen` file is the output for the vendored spec of the same name.
        let spec = dir.join(name);
        assert!(spec.is_file(), "{name}: no vendored spec");
        let (imported, config) = import_one(&spec);
        if not_imported.contains(&name) {
            assert!(
                !imported.problems.is_empty(),
                "{name} imports now: compare it"
            );
            continue;
        }
        assert!(
            imported.problems.is_empty(),
            "{name}: {:?}",
            imported.problems
        );
        let config = config.unwrap();
        compared_files.push(name.to_string());
        let rules = generated(gen_file);
        let ids: Vec<&String> = rules.keys().collect();
        let mut ours: Vec<&String> = config.slos.iter().map(|s| &s.id).collect();
        ours.sort();
        assert_eq!(ours, ids, "{}", spec.display());
        for slo in &config.slos {
            let generated = &rules[&slo.id];
            let info = &generated.info;
            assert_eq!(info["sloth_service"], slo.service);
            assert_eq!(info["sloth_slo"], slo.name);
            assert_eq!(
                info["sloth_objective"],
                slo.objective.to_string(),
                "{}",
                slo.id
            );
            // The rules' own labels: everything but Sloth's metadata.
            let mut user = info.clone();
            user.retain(|k, _| !k.starts_with("sloth_"));
            assert_eq!(user, slo.labels, "{}", slo.id);
            let identity = burnwatch_spec::slo_info(slo);
            let mut severities = Vec::new();
            for (enabled, severity) in [
                (slo.alerting.page, Severity::Page),
                (slo.alerting.ticket, Severity::Ticket),
            ] {
                if !enabled {
                    continue;
                }
                severities.push(severity.as_str().to_string());
                let (name, labels) = &generated.alerts[severity.as_str()];
                assert_eq!(name, &slo.alerting.name, "{}", slo.id);
                let mut ours: BTreeMap<String, String> = identity
                    .alert_extras
                    .labels(severity)
                    .iter()
                    .cloned()
                    .collect();
                ours.insert("sloth_severity".into(), severity.as_str().into());
                assert_eq!(&ours, labels, "{} {}", slo.id, severity.as_str());
            }
            let theirs: Vec<&String> = generated.alerts.keys().collect();
            assert_eq!(theirs, severities.iter().collect::<Vec<_>>(), "{}", slo.id);
            compared += 1;
        }
    }
    // Every Sloth example that imports and has a `_gen` upstream is compared.
    assert_eq!(
        compared_files,
        [
            "getting-started.yml",
            "home-wifi.yml",
            "k8s-getting-started.yml",
            "k8s-home-wifi.yml",
            "k8s-multifile.yml",
            "kubernetes-apiserver.yml",
            "multifile.yml",
            "no-alerts.yml",
            "openslo-getting-started.yml",
            "openslo-kubernetes-apiserver.yml",
            "raw-home-wifi.yml",
            "slo-plugin-getting-started.yml",
            "slo-plugin-k8s-getting-started.yml",
            "victoria-metrics.yml",
        ]
    );
    assert!(compared >= 20, "{compared}");
}

#[test]
fn every_openslo_example_names_its_unsupported_feature() {
    let dir = fixtures().join("openslo/examples");
    let expected: &[(&str, &str)] = &[
        (
            "budgeting-method/occurences-slo.yaml:16:9",
            "`thresholdMetric` with `budgetingMethod: Occurrences`",
        ),
        (
            "budgeting-method/occurences-slo.yaml:24:3",
            "unknown key `objective`",
        ),
        (
            "budgeting-method/ratio-timeslices.yaml:15:7",
            "unknown key `ratioMethic`",
        ),
        (
            "budgeting-method/ratio-timeslices.yaml:30:3",
            "unknown key `objective`",
        ),
        (
            "budgeting-method/timeslices-slo.yaml:18:13",
            "metric source type `Any`",
        ),
        (
            "budgeting-method/timeslices-slo.yaml:27:17",
            "calendar window of `1m`",
        ),
        (
            "budgeting-method/timeslices-slo.yaml:33:3",
            "unknown key `objective`",
        ),
        (
            "treat-low-traffic-as-equally-important/timeslices-slo.yaml:16:13",
            "metric source type `Any`",
        ),
        (
            "treat-low-traffic-as-equally-important/timeslices-slo.yaml:31:3",
            "unknown key `objective`",
        ),
    ];
    let imported = import_paths(std::slice::from_ref(&dir), None).unwrap();
    assert!(imported.slos.is_empty());
    assert_problems(&problems(&imported, &dir), expected);
}

#[test]
fn sloths_openslo_examples_get_sloths_ids_and_objectives() {
    let (imported, config) = import_one(&sloth_examples().join("openslo-kubernetes-apiserver.yml"));
    assert!(imported.problems.is_empty(), "{:?}", imported.problems);
    let config = config.unwrap();
    let slos: Vec<(&str, String)> = config
        .slos
        .iter()
        .map(|s| (s.id.as_str(), s.objective.to_string()))
        .collect();
    // Sloth: id `<service>-<metadata.name>-<index>`, objective = target * 100, no alerts.
    assert_eq!(
        slos,
        [
            (
                "k8s-apiserver-requests-availability-openslo-0",
                "99.9".to_string()
            ),
            ("k8s-apiserver-requests-latency-openslo-0", "99".to_string()),
            (
                "k8s-apiserver-requests-latency-openslo-1",
                "99.9".to_string()
            ),
        ]
    );
    assert!(
        config
            .slos
            .iter()
            .all(|s| !s.alerting.page && !s.alerting.ticket)
    );
}

#[test]
fn every_pyrra_example_imports_or_names_its_unsupported_feature() {
    let dir = fixtures().join("pyrra/examples");
    let expected: &[(&str, &str)] = &[
        (
            "dynamic-burn-rate-bool-gauge.yaml:18:19",
            "`burnRateType: dynamic`",
        ),
        (
            "dynamic-burn-rate-latency-native.yaml:22:7",
            "`latencyNative`",
        ),
        (
            "dynamic-burn-rate-latency-native.yaml:30:19",
            "`burnRateType: dynamic`",
        ),
        (
            "dynamic-burn-rate-latency.yaml:28:19",
            "`burnRateType: dynamic`",
        ),
        (
            "dynamic-burn-rate-ratio.yaml:30:19",
            "`burnRateType: dynamic`",
        ),
        ("pyrra-connect-latency.yaml:15:7", "`latencyNative`"),
    ];
    let mut found = Vec::new();
    let mut slos = 0;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for file in &files {
        let (imported, config) = import_one(file);
        slos += config.map_or(0, |c| c.slos.len());
        found.extend(problems(&imported, &dir));
    }
    assert_problems(&found, expected);
    assert_eq!(files.len(), 16);
    // 11 files import; nginx.yaml holds two SLOs.
    assert_eq!(slos, 12);
}
