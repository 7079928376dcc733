//! The fuzz targets build and run: `scripts/fuzz --dev` (unoptimised, at low CPU priority so the
//! other tests keep their pace) runs every target for `FUZZ_SECONDS` (default 15) from the
//! committed corpus, which must not crash, hang or run out of memory. The ten-minute runs that
//! resolve the reliability issue are `scripts/fuzz 600` (docs/operations.md#fuzzing).

use std::path::Path;
use std::process::Command;

const TARGETS: [&str; 3] = ["parse_config", "parse_config_structured", "decode_response"];

#[test]
fn every_fuzz_target_builds_and_runs_without_a_crash() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let seconds = std::env::var("FUZZ_SECONDS").unwrap_or_else(|_| "15".into());
    let output = Command::new("nice")
        .args(["-n", "19", "scripts/fuzz", "--dev", &seconds])
        .current_dir(&root)
        .output()
        .expect("scripts/fuzz runs");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "scripts/fuzz failed:\n{log}");
    // libFuzzer's closing line per target: "Done <n> runs in <s> second(s)".
    let done: Vec<u64> = log
        .lines()
        .filter_map(|l| l.strip_prefix("Done ")?.split(' ').next()?.parse().ok())
        .collect();
    eprintln!("executions per target: {done:?}");
    assert_eq!(done.len(), TARGETS.len(), "not every target ran:\n{log}");
    for target in TARGETS {
        assert!(
            log.contains(&format!("==> fuzz {target} for")),
            "{target} missing:\n{log}"
        );
    }
    assert!(
        done.iter().all(|&n| n > 100),
        "a target barely ran: {done:?}\n{log}"
    );
}
