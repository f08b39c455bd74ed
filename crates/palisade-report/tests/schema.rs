//! The SBOM and SARIF outputs validate against the official JSON schemas
//! vendored in `tests/schemas/` (see its README for where each came from).
//!
//! Validation runs Python's `jsonschema` (tests/validate_schema.py): the
//! Rust `jsonschema` crate roughly doubled this crate's cold test build
//! time. Locally a missing module skips these tests with a note; under CI
//! (`CI` set) it fails them, so a machine without it cannot pass silently.
//! Any of `python3 -m pip install jsonschema` or Debian's
//! `python3-jsonschema` provides it; `PALISADE_PYTHON` names the
//! interpreter to use.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use palisade_model::ScanReport;
use palisade_report::{Format, ReportOptions};
use support::{
    clean_report, debian_report, directory_report, empty_report, golden_options, render,
};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// An interpreter that has the `jsonschema` module, or `None` (outside CI)
/// when there is none.
fn python() -> Option<String> {
    static PYTHON: OnceLock<Option<String>> = OnceLock::new();
    let found = PYTHON.get_or_init(find_python).clone();
    if found.is_none() {
        let message = "no python3 with the `jsonschema` module: install it with \
                       `python3 -m pip install jsonschema` or the Debian package \
                       `python3-jsonschema` (or set PALISADE_PYTHON)";
        if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
            panic!("{message}");
        }
        eprintln!("skipping schema validation: {message}");
    }
    found
}

fn find_python() -> Option<String> {
    let mut candidates = Vec::new();
    if let Some(p) = std::env::var_os("PALISADE_PYTHON") {
        candidates.push(p.to_string_lossy().into_owned());
    }
    candidates.push("python3".to_string());
    candidates.push("/usr/bin/python3".to_string());
    for candidate in candidates {
        let ok = Command::new(&candidate)
            .args(["-c", "import jsonschema"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(candidate);
        }
    }
    None
}

/// Validate `doc` against the schema for `kind`; panic with every error.
fn validate(kind: &str, doc: &str) {
    let Some(python) = python() else {
        return;
    };
    let mut child = Command::new(python)
        .arg(manifest_dir().join("tests/validate_schema.py"))
        .arg(manifest_dir().join("tests/schemas"))
        .arg(kind)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the validator");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(doc.as_bytes())
        .expect("send the document");
    let out = child.wait_with_output().expect("validator output");
    assert!(
        out.status.success(),
        "{kind} output does not validate:\n{}{}\ndocument:\n{doc}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
}

fn reports() -> Vec<(&'static str, ScanReport)> {
    vec![
        ("debian image", debian_report()),
        ("image without vulnerabilities", clean_report()),
        ("directory without digest", directory_report()),
        ("empty", empty_report()),
    ]
}

fn check_all(format: Format, kind: &str, opts: &ReportOptions) {
    for (what, report) in reports() {
        eprintln!("validating {kind} for {what}");
        validate(kind, &render(format, &report, opts));
    }
}

#[test]
fn cyclonedx_validates_against_bom_1_6() {
    check_all(Format::CycloneDx, "cyclonedx", &golden_options());
    // The current time (rather than a pinned one) is valid too.
    validate(
        "cyclonedx",
        &render(
            Format::CycloneDx,
            &debian_report(),
            &ReportOptions::default(),
        ),
    );
}

#[test]
fn spdx_validates_against_spdx_2_3() {
    check_all(Format::Spdx, "spdx", &golden_options());
}

#[test]
fn sarif_validates_against_sarif_2_1_0() {
    check_all(Format::Sarif, "sarif", &golden_options());
}

#[test]
fn the_validator_rejects_invalid_documents() {
    // Guard against a validator that accepts everything.
    let Some(python) = python() else {
        return;
    };
    let bad = |kind: &str, doc: &str| {
        let out = Command::new(&python)
            .arg(manifest_dir().join("tests/validate_schema.py"))
            .arg(manifest_dir().join("tests/schemas"))
            .arg(kind)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                child
                    .stdin
                    .take()
                    .expect("stdin")
                    .write_all(doc.as_bytes())?;
                child.wait_with_output()
            })
            .expect("run the validator");
        assert!(!out.status.success(), "{kind} accepted {doc}");
    };
    let cdx = render(Format::CycloneDx, &debian_report(), &golden_options());
    bad("cyclonedx", &cdx.replace("\"library\"", "\"libary\""));
    bad(
        "cyclonedx",
        &cdx.replace("\"id\": \"MPL-2.0\"", "\"id\": \"Not-A-Licence\""),
    );
    let spdx = render(Format::Spdx, &debian_report(), &golden_options());
    bad(
        "spdx",
        &spdx.replace("\"PACKAGE-MANAGER\"", "\"PACKAGE-MANAGR\""),
    );
    let sarif = render(Format::Sarif, &debian_report(), &golden_options());
    bad(
        "sarif",
        &sarif.replace("\"level\": \"error\"", "\"level\": \"fatal\""),
    );
}
