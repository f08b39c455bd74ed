//! Golden matching tests on hand-written advisories.
//!
//! `tests/data/matching/advisories/` holds OSV records (and one Debian
//! security-tracker JSON document) written for these tests; it is built into
//! a database with [`build`], exactly as a real source directory would be.
//! `tests/data/matching/cases.json` lists cases: installed packages (and
//! the image's OS), the exact matches expected, in output order, and the
//! warnings expected (each given as substrings that one warning must
//! contain; the number of warnings must be exact too).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use palisade_model::{Package, Severity, VulnerabilityMatch};
use palisade_vulndb::{match_packages, VulnDb};
use serde::Deserialize;

use common::{distro_pkg, os, pkg};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/matching")
}

/// One database for every test of this file, built once.
fn built() -> &'static (tempfile::TempDir, palisade_vulndb::BuildReport) {
    static DB: OnceLock<(tempfile::TempDir, palisade_vulndb::BuildReport)> = OnceLock::new();
    DB.get_or_init(|| common::build_into_temp(&data_dir().join("advisories")))
}

fn db_dir() -> &'static Path {
    built().0.path()
}

fn report() -> &'static palisade_vulndb::BuildReport {
    &built().1
}

#[derive(Deserialize)]
struct Case {
    note: String,
    #[serde(default)]
    os: Option<CaseOs>,
    packages: Vec<CasePackage>,
    want: Vec<Want>,
    #[serde(default)]
    warnings: Vec<Vec<String>>,
}

#[derive(Deserialize)]
struct CaseOs {
    family: String,
    version: String,
}

#[derive(Deserialize)]
struct CasePackage {
    ecosystem: String,
    name: String,
    version: String,
    #[serde(default)]
    source: Option<(String, String)>,
}

#[derive(Deserialize, Debug)]
struct Want {
    package: String,
    installed: String,
    id: String,
    aliases: Vec<String>,
    fixed: Option<String>,
    severity: Severity,
    #[serde(default)]
    cvss: Option<f64>,
    #[serde(default)]
    title: Option<String>,
}

fn to_package(p: &CasePackage) -> Package {
    match &p.source {
        Some((name, version)) => distro_pkg(&p.ecosystem, &p.name, &p.version, name, version),
        None => pkg(&p.ecosystem, &p.name, &p.version),
    }
}

/// Differences between one match and what was wanted, empty when equal.
fn diff(got: &VulnerabilityMatch, want: &Want) -> Vec<String> {
    let mut d = Vec::new();
    if got.package != want.package || got.installed_version != want.installed {
        d.push(format!(
            "package {} {} (want {} {})",
            got.package, got.installed_version, want.package, want.installed
        ));
    }
    if got.id != want.id {
        d.push(format!("id {} (want {})", got.id, want.id));
    }
    if got.aliases != want.aliases {
        d.push(format!(
            "aliases {:?} (want {:?})",
            got.aliases, want.aliases
        ));
    }
    if got.fixed_version != want.fixed {
        d.push(format!(
            "fixed {:?} (want {:?})",
            got.fixed_version, want.fixed
        ));
    }
    if got.severity != want.severity {
        d.push(format!(
            "severity {} (want {})",
            got.severity, want.severity
        ));
    }
    if let Some(c) = want.cvss {
        if got.cvss_score != Some(c) {
            d.push(format!("cvss {:?} (want {c})", got.cvss_score));
        }
    }
    if let Some(t) = &want.title {
        if &got.title != t {
            d.push(format!("title {:?} (want {t:?})", got.title));
        }
    }
    d
}

#[test]
fn golden_cases() {
    let text = std::fs::read_to_string(data_dir().join("cases.json")).unwrap();
    let cases: Vec<Case> = serde_json::from_str(&text).unwrap();
    assert!(cases.len() >= 15, "cases.json lost cases: {}", cases.len());
    let db = VulnDb::open(db_dir()).unwrap();
    let mut failures = Vec::new();
    for case in &cases {
        let packages: Vec<Package> = case.packages.iter().map(to_package).collect();
        let os_info = case.os.as_ref().map(|o| os(&o.family, &o.version));
        let out = match_packages(&db, &packages, os_info.as_ref()).unwrap();
        let mut problems = Vec::new();
        for (i, want) in case.want.iter().enumerate() {
            match out.matches.get(i) {
                Some(got) => {
                    let d = diff(got, want);
                    if !d.is_empty() {
                        problems.push(format!("match #{i}: {}", d.join("; ")));
                    }
                }
                None => problems.push(format!("match #{i} missing: {want:?}")),
            }
        }
        for extra in out.matches.iter().skip(case.want.len()) {
            problems.push(format!(
                "unexpected match {} for {} {} (fixed {:?}, aliases {:?})",
                extra.id,
                extra.package,
                extra.installed_version,
                extra.fixed_version,
                extra.aliases
            ));
        }
        if out.warnings.len() != case.warnings.len() {
            problems.push(format!(
                "{} warnings, want {}: {:#?}",
                out.warnings.len(),
                case.warnings.len(),
                out.warnings
            ));
        }
        for parts in &case.warnings {
            let found = out.warnings.iter().any(|w| {
                let text = format!("{} {}", w.location, w.message);
                parts.iter().all(|p| text.contains(p.as_str()))
            });
            if !found {
                problems.push(format!(
                    "no warning containing {parts:?} in {:#?}",
                    out.warnings
                ));
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{}\n    {}", case.note, problems.join("\n    ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_advisory_directory_imports_cleanly() {
    let r = report();
    // 20 OSV files, one withdrawn; the tracker document yields two
    // advisories (CVE-2099-3002 is "fixed in 0": bookworm never had it).
    assert_eq!(r.advisories, 19 + 2, "{r:#?}");
    assert_eq!(r.rejected, 1, "{r:#?}");
    let loose = r
        .sources
        .iter()
        .find(|s| s.name.ends_with("*.json"))
        .unwrap_or_else(|| panic!("no loose-JSON source in {r:#?}"));
    assert_eq!(loose.advisories, 19);
    assert_eq!(loose.rejected_reasons, vec![("withdrawn".to_string(), 1)]);
    let tracker = r
        .sources
        .iter()
        .find(|s| s.name == "debian-tracker.json")
        .unwrap_or_else(|| panic!("no tracker source in {r:#?}"));
    assert_eq!((tracker.advisories, tracker.rejected), (2, 0));
}

#[test]
fn match_counts_checked_and_skipped_packages() {
    let db = VulnDb::open(db_dir()).unwrap();
    let packages = vec![
        pkg("PyPI", "foo-bar", "1.0"),
        pkg("Hackage", "aeson", "2.0"),
        pkg("PyPI", "no-advisories-here", "1.0"),
    ];
    let out = match_packages(&db, &packages, None).unwrap();
    assert_eq!(out.packages_checked, 2);
    assert_eq!(out.packages_skipped, 1);
    assert_eq!(out.matches.len(), 1);
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
}

#[test]
fn results_are_ordered_by_severity_then_id() {
    let db = VulnDb::open(db_dir()).unwrap();
    let out = match_packages(
        &db,
        &[distro_pkg(
            "Debian",
            "libssl3",
            "3.0.11-1~deb12u2",
            "openssl",
            "3.0.11-1~deb12u2",
        )],
        Some(&os("debian", "12")),
    )
    .unwrap();
    let order: Vec<(Severity, &str)> = out
        .matches
        .iter()
        .map(|m| (m.severity, m.id.as_str()))
        .collect();
    assert_eq!(
        order,
        vec![
            (Severity::High, "DSA-9001-1"),
            (Severity::Low, "DEBIAN-CVE-2099-3001")
        ]
    );
    for m in &out.matches {
        assert_eq!(m.ecosystem, "Debian");
        assert_eq!(m.package, "libssl3");
        assert_eq!(m.source, "debian");
    }
}
