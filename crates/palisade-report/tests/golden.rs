//! Golden files: every format rendered from the hand-built fixtures in
//! `support`. Run with `UPDATE_GOLDEN=1` to rewrite them after an intended
//! change, then review the diff.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::fs;
use std::path::PathBuf;

use palisade_model::ScanReport;
use palisade_report::Format;
use support::{clean_report, debian_report, golden_options, render};

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn check(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        fs::write(&path, actual).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "reading {}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    if actual != expected {
        let line = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, e)| a != e)
            .unwrap_or_else(|| actual.lines().count().min(expected.lines().count()));
        panic!(
            "{name} differs from {} at line {}:\n  actual:   {:?}\n  expected: {:?}\n\
             (run with UPDATE_GOLDEN=1 to accept the new output)",
            path.display(),
            line + 1,
            actual.lines().nth(line),
            expected.lines().nth(line),
        );
    }
}

#[test]
fn table() {
    check(
        "table.txt",
        &render(Format::Table, &debian_report(), &golden_options()),
    );
}

#[test]
fn table_in_colour() {
    check(
        "table-color.txt",
        &render(
            Format::Table,
            &debian_report(),
            &golden_options().with_color(true),
        ),
    );
}

#[test]
fn table_without_vulnerabilities_lists_the_inventory() {
    check(
        "table-no-vulnerabilities.txt",
        &render(Format::Table, &clean_report(), &golden_options()),
    );
}

#[test]
fn json() {
    let out = render(Format::Json, &debian_report(), &golden_options());
    check("scan.json", &out);
    let back: ScanReport = serde_json::from_str(&out).expect("parses back");
    assert_eq!(back, debian_report());
}

#[test]
fn sarif() {
    check(
        "scan.sarif.json",
        &render(Format::Sarif, &debian_report(), &golden_options()),
    );
}

#[test]
fn cyclonedx() {
    check(
        "scan.cdx.json",
        &render(Format::CycloneDx, &debian_report(), &golden_options()),
    );
}

#[test]
fn spdx() {
    check(
        "scan.spdx.json",
        &render(Format::Spdx, &debian_report(), &golden_options()),
    );
}
