//! `burnwatch export --format openslo` and back: every configuration under `config/` written as
//! OpenSLO and imported again yields the same SLOs (ids, objectives, SLIs, periods, budgeting,
//! alerting, labels, grouping), compared field by field on the validated model.

mod common;

use std::path::{Path, PathBuf};

use burnwatch_spec::import::{import, render};

fn configs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// Every `${NAME}` the example configurations use, with a value that passes validation.
fn env(name: &str) -> Option<String> {
    Some(match name {
        n if n.contains("URL") => "https://hooks.example.com/services/T0/B0/secret".to_string(),
        _ => "0123456789abcdef0123456789abcdef".to_string(),
    })
}

/// `text` exported and imported again: the SLOs must equal the original's.
fn round_trip(text: &str, what: &str) -> usize {
    let original = common::parse_env(text, &env).unwrap_or_else(|e| panic!("{what}: {e}"));
    let exported = burnwatch_spec::export::openslo(&original);
    let imported = import(&[(PathBuf::from("exported.yaml"), exported.clone())], None);
    assert!(
        imported.problems.is_empty(),
        "{what}: {:?}\n{exported}",
        imported.problems
    );
    let mut config = String::new();
    for (name, backend) in &original.backends {
        let keys = match backend.kind {
            burnwatch_spec::BackendKind::Datadog => {
                "type = \"datadog\"\nsite = \"datadoghq.eu\"\napi_key_file = \"k\"\napplication_key_file = \"k\""
            }
            _ => "type = \"prometheus\"\nurl = \"http://127.0.0.1:9090\"",
        };
        config.push_str(&format!("[backends.{name}]\n{keys}\n\n"));
    }
    config.push_str(&render(&imported.slos).text);
    let back = common::parse(&config).unwrap_or_else(|e| panic!("{what}: {e}\n{config}"));
    assert_eq!(back.slos.len(), original.slos.len(), "{what}");
    for (mut ours, theirs) in back.slos.into_iter().zip(&original.slos) {
        ours.location = theirs.location.clone();
        assert_eq!(&ours, theirs, "{what}: {}\n{exported}", theirs.id);
    }
    original.slos.len()
}

#[test]
fn every_config_survives_export_and_import() {
    let files = configs();
    assert!(files.len() >= 3, "{files:?}");
    let mut compared = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        compared += round_trip(&text, &file.display().to_string());
    }
    assert!(compared >= 5, "{compared}");
}

#[test]
fn every_sli_kind_period_and_alert_key_survives_export_and_import() {
    let text = include_str!("fixtures/every_kind.toml");
    assert_eq!(round_trip(text, "every kind"), 5);
}
