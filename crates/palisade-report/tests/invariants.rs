//! Properties of each format that the JSON schemas cannot express: ids that
//! must refer to each other, uniqueness, determinism, and safe handling of
//! hostile strings.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::collections::HashSet;
use std::io;

use palisade_model::{ScanReport, Severity};
use palisade_report::{Format, ReportError, ReportOptions};
use serde_json::Value;
use support::{
    clean_report, debian_report, directory_report, empty_report, fixed_time, golden_options, render,
};

fn all_reports() -> Vec<ScanReport> {
    vec![
        debian_report(),
        clean_report(),
        directory_report(),
        empty_report(),
    ]
}

fn json(format: Format, report: &ScanReport, opts: &ReportOptions) -> Value {
    serde_json::from_str(&render(format, report, opts)).expect("valid JSON")
}

fn strs(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn sarif_results_refer_to_their_rules() {
    for report in all_reports() {
        let log = json(Format::Sarif, &report, &golden_options());
        assert_eq!(log["version"], "2.1.0");
        let runs = log["runs"].as_array().expect("runs");
        assert_eq!(runs.len(), 1);
        let run = &runs[0];
        assert_eq!(run["tool"]["driver"]["name"], "palisade");
        assert_eq!(run["tool"]["driver"]["version"], "0.1.0");
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        let ids: Vec<&str> = rules
            .iter()
            .map(|r| r["id"].as_str().expect("id"))
            .collect();
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "rule ids are unique");
        let results = run["results"].as_array().expect("results");
        assert_eq!(results.len(), report.vulnerabilities.len());
        for r in results {
            let rule_id = r["ruleId"].as_str().expect("ruleId");
            assert!(unique.contains(rule_id), "{rule_id} has a rule");
            let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
            assert_eq!(ids[index], rule_id, "ruleIndex points at the rule");
            assert!(!r["message"]["text"].as_str().expect("message").is_empty());
            assert!(!r["locations"].as_array().expect("locations").is_empty());
        }
        for rule in rules {
            let score: f64 = rule["properties"]["security-severity"]
                .as_str()
                .expect("security-severity is a string")
                .parse()
                .expect("a number");
            assert!((0.0..=10.0).contains(&score));
            assert!(strs(&rule["properties"]["tags"]).contains(&"security"));
            assert!(!rule["help"]["text"].as_str().unwrap().is_empty());
        }
        // Every advisory has exactly one rule.
        let advisories: HashSet<&str> = report
            .vulnerabilities
            .iter()
            .map(|v| v.id.as_str())
            .collect();
        assert_eq!(advisories, unique);
    }
}

#[test]
fn sarif_levels_follow_severity() {
    let report = debian_report();
    let log = json(Format::Sarif, &report, &golden_options());
    let results = log["runs"][0]["results"].as_array().unwrap();
    for r in results {
        let v = report
            .vulnerabilities
            .iter()
            .find(|v| v.id == r["ruleId"] && v.package == r["properties"]["package"])
            .expect("the result's match");
        let expected = match v.severity {
            Severity::Critical | Severity::High => "error",
            Severity::Medium => "warning",
            Severity::Low | Severity::Unknown => "note",
        };
        assert_eq!(r["level"], expected, "{}", v.id);
    }
    // Locations point at the package database inside the image and name it.
    let requests = results
        .iter()
        .find(|r| r["ruleId"] == "GHSA-x84v-xcm2-53pg")
        .unwrap();
    let loc = &requests["locations"][0];
    assert_eq!(
        loc["physicalLocation"]["artifactLocation"]["uri"],
        "usr/local/lib/python3.11/site-packages/requests-2.19.1.dist-info/METADATA"
    );
    assert_eq!(
        loc["logicalLocations"][0]["name"],
        "registry.example.com/shop/api:1.4"
    );
    let text = requests["message"]["text"].as_str().unwrap();
    assert!(text.contains("requests") && text.contains("2.19.1") && text.contains("2.20.0"));
}

#[test]
fn cyclonedx_references_resolve() {
    for report in all_reports() {
        let bom = json(Format::CycloneDx, &report, &golden_options());
        assert_eq!(bom["bomFormat"], "CycloneDX");
        assert_eq!(bom["specVersion"], "1.6");
        let image_ref = bom["metadata"]["component"]["bom-ref"].as_str().unwrap();
        let components = bom["components"].as_array().unwrap();
        let mut refs: Vec<&str> = components
            .iter()
            .map(|c| {
                c["bom-ref"]
                    .as_str()
                    .expect("every component has a bom-ref")
            })
            .collect();
        refs.push(image_ref);
        let unique: HashSet<&str> = refs.iter().copied().collect();
        assert_eq!(unique.len(), refs.len(), "bom-refs are unique");
        let deps = bom["dependencies"].as_array().unwrap();
        assert_eq!(deps.len(), 1);
        assert_eq!(deps[0]["ref"], image_ref);
        let depends_on: HashSet<&str> = strs(&deps[0]["dependsOn"]).into_iter().collect();
        let component_refs: HashSet<&str> = refs[..refs.len() - 1].iter().copied().collect();
        assert_eq!(
            depends_on, component_refs,
            "the image depends on every component"
        );
        let empty = Vec::new();
        for v in bom["vulnerabilities"].as_array().unwrap_or(&empty) {
            let affects = v["affects"].as_array().expect("affects");
            assert!(!affects.is_empty(), "{} affects something", v["id"]);
            for a in affects {
                assert!(unique.contains(a["ref"].as_str().unwrap()));
            }
            assert!(!v["recommendation"].as_str().unwrap().is_empty());
        }
    }
}

#[test]
fn cyclonedx_links_source_package_advisories_to_binaries() {
    let bom = json(Format::CycloneDx, &debian_report(), &golden_options());
    let v = bom["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "CVE-2023-45853")
        .unwrap();
    assert_eq!(
        v["affects"][0]["ref"],
        "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12"
    );
    assert_eq!(v["affects"][0]["versions"][0]["status"], "affected");
    assert_eq!(v["affects"][0]["versions"].as_array().unwrap().len(), 1);
    let ghsa = bom["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "GHSA-x84v-xcm2-53pg")
        .unwrap();
    let aliases: Vec<&str> = ghsa["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(aliases, ["CVE-2018-18074", "PYSEC-2018-28"]);
    assert_eq!(ghsa["ratings"][0]["severity"], "high");
    assert_eq!(ghsa["ratings"][0]["score"], 7.5);
}

#[test]
fn sbom_identities_are_deterministic() {
    let a = json(Format::CycloneDx, &debian_report(), &golden_options());
    let later =
        golden_options().with_timestamp(fixed_time() + std::time::Duration::from_secs(86_400));
    let b = json(Format::CycloneDx, &debian_report(), &later);
    assert_eq!(a["serialNumber"], b["serialNumber"]);
    assert_ne!(a["metadata"]["timestamp"], b["metadata"]["timestamp"]);
    // Same digest, different findings: same image, same serial number.
    let c = json(Format::CycloneDx, &clean_report(), &golden_options());
    assert_eq!(a["serialNumber"], c["serialNumber"]);
    // No digest: derived from the content instead, still stable.
    let d1 = json(Format::CycloneDx, &directory_report(), &golden_options());
    let d2 = json(Format::CycloneDx, &directory_report(), &golden_options());
    assert_eq!(d1["serialNumber"], d2["serialNumber"]);
    assert_ne!(a["serialNumber"], d1["serialNumber"]);

    let s1 = json(Format::Spdx, &debian_report(), &golden_options());
    let s2 = json(Format::Spdx, &debian_report(), &later);
    assert_eq!(s1["documentNamespace"], s2["documentNamespace"]);
    let uuid = a["serialNumber"]
        .as_str()
        .unwrap()
        .trim_start_matches("urn:uuid:");
    assert!(s1["documentNamespace"].as_str().unwrap().ends_with(uuid));
}

fn is_idstring(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

#[test]
fn spdx_ids_are_valid_unique_and_related() {
    for report in all_reports() {
        let doc = json(Format::Spdx, &report, &golden_options());
        assert_eq!(doc["spdxVersion"], "SPDX-2.3");
        assert_eq!(doc["dataLicense"], "CC0-1.0");
        assert_eq!(doc["SPDXID"], "SPDXRef-DOCUMENT");
        let ns = doc["documentNamespace"].as_str().unwrap();
        assert!(ns.starts_with("https://") && !ns.contains('#') && !ns.contains(' '));
        let created = doc["creationInfo"]["created"].as_str().unwrap();
        assert_eq!(created, "2024-01-02T03:04:05Z");
        assert_eq!(
            strs(&doc["creationInfo"]["creators"]),
            ["Tool: palisade-0.1.0"]
        );

        let packages = doc["packages"].as_array().unwrap();
        let ids: Vec<&str> = packages
            .iter()
            .map(|p| p["SPDXID"].as_str().unwrap())
            .collect();
        for id in &ids {
            let rest = id.strip_prefix("SPDXRef-").expect("SPDXRef- prefix");
            assert!(is_idstring(rest), "{id} is a valid idstring");
        }
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "SPDXIDs are unique");
        let expected_packages =
            1 + usize::from(report.artifact.os.is_some()) + report.packages.len();
        assert_eq!(packages.len(), expected_packages);

        let rels = doc["relationships"].as_array().unwrap();
        let describes: Vec<&Value> = rels
            .iter()
            .filter(|r| r["relationshipType"] == "DESCRIBES")
            .collect();
        assert_eq!(describes.len(), 1);
        assert_eq!(describes[0]["spdxElementId"], "SPDXRef-DOCUMENT");
        let image = describes[0]["relatedSpdxElement"].as_str().unwrap();
        let contained: HashSet<&str> = rels
            .iter()
            .filter(|r| r["relationshipType"] == "CONTAINS")
            .map(|r| {
                assert_eq!(r["spdxElementId"], image);
                r["relatedSpdxElement"].as_str().unwrap()
            })
            .collect();
        let others: HashSet<&str> = ids.iter().copied().filter(|id| *id != image).collect();
        assert_eq!(contained, others, "the image contains every other package");
        for p in packages {
            assert_eq!(p["downloadLocation"], "NOASSERTION");
            assert_eq!(p["licenseConcluded"], "NOASSERTION");
            for r in p["externalRefs"].as_array().unwrap_or(&Vec::new()) {
                assert_eq!(r["referenceCategory"], "PACKAGE-MANAGER");
                assert_eq!(r["referenceType"], "purl");
                assert!(r["referenceLocator"].as_str().unwrap().starts_with("pkg:"));
            }
        }
    }
}

#[test]
fn spdx_declares_only_valid_licence_expressions() {
    let doc = json(Format::Spdx, &debian_report(), &golden_options());
    let declared = |name: &str| {
        doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()["licenseDeclared"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(declared("libssl3"), "Apache-2.0");
    assert_eq!(declared("certifi"), "MPL-2.0");
    assert_eq!(declared("bash"), "NOASSERTION"); // "GPL-3+" is Debian's, not SPDX's
    assert_eq!(declared("requests"), "NOASSERTION"); // free text
    assert_eq!(declared("base-files"), "NOASSERTION"); // none declared
}

#[test]
fn table_colours_only_when_asked_and_never_passes_escapes_through() {
    let mut report = debian_report();
    report.vulnerabilities[0].title = "evil\x1b]0;pwned\x07title\nsecond line".to_string();
    report.packages[0].name = palisade_model::PackageName::new("bad\x1b[2Jname");
    let plain = render(Format::Table, &report, &golden_options());
    assert!(!plain.contains('\x1b') && !plain.contains('\x07'));
    assert!(plain.contains("evil ]0;pwned title second line"));
    let coloured = render(Format::Table, &report, &golden_options().with_color(true));
    assert!(coloured.contains("\x1b[1;31mCRITICAL\x1b[0m"));
    // The only escapes are the colour codes around severities.
    let stripped = coloured
        .replace("\x1b[0m", "")
        .replace("\x1b[1;31m", "")
        .replace("\x1b[31m", "")
        .replace("\x1b[33m", "")
        .replace("\x1b[36m", "")
        .replace("\x1b[2m", "");
    assert_eq!(stripped, plain);

    let mut clean = clean_report();
    clean.packages[0].name = palisade_model::PackageName::new("bad\x1b[2Jname");
    let inventory = render(Format::Table, &clean, &golden_options());
    assert!(!inventory.contains('\x1b'));
}

#[test]
fn table_fits_the_terminal_width() {
    for width in [60, 80, 100] {
        let out = render(
            Format::Table,
            &debian_report(),
            &golden_options().with_width(Some(width)),
        );
        for line in out
            .lines()
            .filter(|l| l.starts_with("  CVE-") || l.starts_with("  GHSA-"))
        {
            assert!(line.chars().count() <= width, "{line:?} fits in {width}");
        }
    }
    let full = render(
        Format::Table,
        &debian_report(),
        &golden_options().with_width(None),
    );
    assert!(full.contains("via a long filename, comment, or extra field"));
}

#[test]
fn table_of_an_empty_report() {
    let out = render(Format::Table, &empty_report(), &golden_options());
    assert!(out.contains("No packages found."));
    assert!(out.contains("No vulnerabilities found."));
}

/// A writer that fails after `budget` bytes.
struct Failing {
    budget: usize,
}

impl io::Write for Failing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.budget == 0 {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"));
        }
        let n = buf.len().min(self.budget);
        self.budget -= n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn write_errors_name_the_format() {
    for format in Format::ALL {
        let mut w = Failing { budget: 10 };
        let err = palisade_report::write(format, &debian_report(), &mut w, &golden_options())
            .expect_err("the writer fails");
        match (&err, format) {
            (ReportError::Write { format: f, .. }, Format::Table) => assert_eq!(*f, format),
            (ReportError::Serialize { format: f, source }, _) => {
                assert_eq!(*f, format);
                assert!(source.is_io());
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains(format.as_str()));
    }
}
