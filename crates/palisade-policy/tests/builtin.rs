//! Palisade's built-in policies (`policies/`): every suite case must pass, and every policy
//! must have at least an allowed and a disallowed case.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use palisade_policy::suite;

#[test]
fn builtin_policy_suites_pass() {
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let report = suite::run(&[&policies]);
    assert!(
        report.errors.is_empty(),
        "unreadable suites: {:?}",
        report.errors
    );
    let failures: Vec<String> = report
        .failures()
        .map(|c| {
            format!(
                "{}: {}/{}: {}",
                c.suite.display(),
                c.test,
                c.case,
                c.failure.as_deref().unwrap_or_default()
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "failing cases:\n{}",
        failures.join("\n")
    );
    assert_eq!(report.skipped(), 0, "built-in suites must not skip cases");

    let mut per_policy: BTreeMap<PathBuf, usize> = BTreeMap::new();
    for case in &report.cases {
        assert!(case.passed(), "{case:?}");
        let dir = case
            .suite
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        *per_policy.entry(dir).or_default() += 1;
    }
    let policy_dirs: Vec<PathBuf> = std::fs::read_dir(&policies)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        !policy_dirs.is_empty(),
        "no policies under {}",
        policies.display()
    );
    for dir in &policy_dirs {
        let cases = per_policy.get(dir).copied().unwrap_or(0);
        assert!(
            cases >= 2,
            "{} has {cases} suite cases; need at least 2",
            dir.display()
        );
    }
    assert!(report.cases.len() >= 2 * policy_dirs.len());
    eprintln!(
        "built-in policies: {} ({})",
        policy_dirs.len(),
        report.summary()
    );
}
