//! `burnwatch import` end to end: what it prints, where problems point, and its exit codes
//! (0 everything mapped, 1 problems, 2 usage). The printed TOML is validated by `validate`.

use std::path::Path;
use std::process::{Command, Output};

fn burnwatch(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burnwatch"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

const SPEC: &str = r#"version: "prometheus/v1"
service: "myservice"
labels:
  owner: "myteam"
slos:
  - name: "requests-availability"
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
    alerting:
      name: MyServiceHighErrorRate
      page_alert:
        labels:
          severity: critical
"#;

const PLUGIN: &str = r#"version: "prometheus/v1"
service: "other"
slos:
  - name: "availability"
    objective: 99
    sli:
      plugin:
        id: "sloth-common/availability"
"#;

#[test]
fn a_directory_of_specs_prints_toml_that_validates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("specs")).unwrap();
    std::fs::write(dir.path().join("specs/myservice.yaml"), SPEC).unwrap();
    let out = burnwatch(&["import", "specs"], dir.path());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("# specs/myservice.yaml:6:5 (Sloth prometheus/v1)\n[[slo]]\n"),
        "{stdout}"
    );
    let config = format!(
        "[backends.main]\ntype = \"prometheus\"\nurl = \"http://127.0.0.1:9090\"\n\n{stdout}"
    );
    std::fs::write(dir.path().join("burnwatch.toml"), config).unwrap();
    let out = burnwatch(&["validate", "--config", "burnwatch.toml"], dir.path());
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 SLO"));
}

#[test]
fn problems_exit_1_at_their_place_and_what_mapped_is_still_written() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), SPEC).unwrap();
    std::fs::write(dir.path().join("b.yaml"), PLUGIN).unwrap();
    let out = burnwatch(
        &["import", "a.yaml", "b.yaml", "--output", "out.toml"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("b.yaml:8:9: SLI plugin `sloth-common/availability` is not supported"),
        "{stderr}"
    );
    assert!(stderr.contains("1 problem; 1 SLO imported"), "{stderr}");
    let written = std::fs::read_to_string(dir.path().join("out.toml")).unwrap();
    assert!(
        written.contains("name = \"requests-availability\""),
        "{written}"
    );
    assert!(!written.contains("other"), "{written}");
}

#[test]
fn a_missing_path_or_no_path_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = burnwatch(&["import", "nope.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.yaml does not exist"));
    assert_eq!(burnwatch(&["import"], dir.path()).status.code(), Some(2));
}

#[test]
fn export_writes_openslo_that_import_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/example.toml");
    let out = burnwatch(
        &[
            "export",
            "--config",
            example.to_str().unwrap(),
            "--output",
            "slos.yaml",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = std::fs::read_to_string(dir.path().join("slos.yaml")).unwrap();
    assert!(
        yaml.starts_with("---\napiVersion: openslo/v1\nkind: SLO\n"),
        "{yaml}"
    );
    let out = burnwatch(&["import", "slos.yaml"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let toml = String::from_utf8(out.stdout).unwrap();
    assert!(toml.contains("name = \"availability\""), "{toml}");
    assert!(toml.contains("name = \"latency\""), "{toml}");
    let missing = burnwatch(&["export", "--config", "nope.toml"], dir.path());
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn validate_loads_specs_and_points_into_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("specs")).unwrap();
    std::fs::write(dir.path().join("specs/myservice.yaml"), SPEC).unwrap();
    let config = "specs = [\"specs/*.yaml\"]\n\n[backends.main]\ntype = \"prometheus\"\nurl = \"http://127.0.0.1:9090\"\n";
    std::fs::write(dir.path().join("burnwatch.toml"), config).unwrap();
    let out = burnwatch(&["validate", "--config", "burnwatch.toml"], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 SLO"), "{stdout}");

    std::fs::write(
        dir.path().join("specs/myservice.yaml"),
        SPEC.replace("99.9", "100"),
    )
    .unwrap();
    let out = burnwatch(&["validate", "--config", "burnwatch.toml"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("specs/myservice.yaml:7:16: objective 100"),
        "{stderr}"
    );
}
