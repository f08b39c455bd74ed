//! SARIF 2.1.0, as code-scanning services (GitHub, GitLab, Azure DevOps)
//! read it.
//!
//! One `rule` per advisory id, with a help text listing the affected
//! packages and `properties.security-severity` (the highest CVSS score of
//! its matches, or the lowest score of its severity band when none is
//! known). One `result` per (advisory, installed package), whose `level`
//! follows the severity (CRITICAL and HIGH → `error`, MEDIUM → `warning`,
//! LOW and UNKNOWN → `note`) and whose locations are the package database
//! files inside the image that declared the package; the image itself is
//! the result's logical location.

use std::fmt::Write as _;
use std::io::Write;

use palisade_model::{Package, ScanReport, Severity, VulnerabilityMatch};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::advisory::{
    advisory_url, affected_packages, by_advisory, ecosystem_note, representative_score,
    valid_score, Advisory,
};
use crate::format::write_json_document;
use crate::{Format, ReportError, ReportOptions};

/// The `$schema` of the documents written.
pub const SARIF_SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/// The `tool.driver.name` of the documents written.
pub const TOOL_NAME: &str = "palisade";

/// Write `report` as a SARIF 2.1.0 log with one run.
pub fn write_sarif(
    report: &ScanReport,
    w: &mut dyn Write,
    opts: &ReportOptions,
) -> Result<(), ReportError> {
    write_json_document(Format::Sarif, &build(report, opts), w)
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
struct Run<'a> {
    tool: Tool<'a>,
    results: Vec<SarifResult<'a>>,
    properties: RunProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunProperties<'a> {
    artifact_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    os: Option<String>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
struct Driver<'a> {
    name: &'static str,
    version: &'a str,
    rules: Vec<Rule<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    id: &'a str,
    short_description: Text,
    full_description: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties<'a>,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties<'a> {
    #[serde(rename = "security-severity")]
    security_severity: String,
    tags: Vec<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location<'a>>,
    partial_fingerprints: Fingerprints,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation>,
    logical_locations: [LogicalLocation<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation<'a> {
    name: &'a str,
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
struct Fingerprints {
    #[serde(rename = "palisadeFinding/v1")]
    finding: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties<'a> {
    package: &'a str,
    ecosystem: &'a str,
    installed_version: &'a str,
    fixed_version: Option<&'a str>,
    severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    cvss_score: Option<f64>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    aliases: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    purls: Vec<&'a str>,
    source: &'a str,
}

fn build<'a>(report: &'a ScanReport, opts: &'a ReportOptions) -> Log<'a> {
    let advisories = by_advisory(&report.vulnerabilities);
    let mut rules = Vec::with_capacity(advisories.len());
    let mut results = Vec::with_capacity(report.vulnerabilities.len());
    for (rule_index, advisory) in advisories.iter().enumerate() {
        rules.push(rule(advisory));
        for m in &advisory.matches {
            results.push(result(report, advisory, rule_index, m));
        }
    }
    let artifact = &report.artifact;
    Log {
        schema: SARIF_SCHEMA_URI,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: TOOL_NAME,
                    version: &opts.tool_version,
                    rules,
                },
            },
            results,
            properties: RunProperties {
                artifact_name: &artifact.name,
                artifact_digest: artifact.digest.as_ref().map(ToString::to_string),
                os: artifact
                    .os
                    .as_ref()
                    .map(|os| format!("{} {}", os.family, os.version)),
            },
        }],
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown => "note",
    }
}

fn rule<'a>(advisory: &Advisory<'a>) -> Rule<'a> {
    let score = advisory
        .cvss_score
        .unwrap_or_else(|| representative_score(advisory.severity));
    let url = advisory_url(advisory.id);
    let mut full = format!("{}: {}", advisory.id, one_line(advisory.title));
    if !advisory.aliases.is_empty() {
        let _ = write!(full, " (also {})", advisory.aliases.join(", "));
    }
    Rule {
        id: advisory.id,
        short_description: Text {
            text: one_line(advisory.title),
        },
        full_description: Text { text: full },
        help: Help {
            text: help_text(advisory, url.as_deref()),
            markdown: help_markdown(advisory, url.as_deref()),
        },
        help_uri: url,
        default_configuration: Configuration {
            level: level(advisory.severity),
        },
        properties: RuleProperties {
            security_severity: format!("{score:.1}"),
            tags: vec!["vulnerability", "security", advisory.severity.as_str()],
        },
    }
}

fn rating(advisory: &Advisory<'_>) -> String {
    match advisory.cvss_score {
        Some(score) => format!("{} (CVSS {score:.1})", advisory.severity),
        None => advisory.severity.to_string(),
    }
}

fn help_text(advisory: &Advisory<'_>, url: Option<&str>) -> String {
    let mut text = format!(
        "{}\n\nAdvisory: {}\nSeverity: {}\n",
        one_line(advisory.title),
        advisory.id,
        rating(advisory)
    );
    if !advisory.aliases.is_empty() {
        let _ = writeln!(text, "Aliases: {}", advisory.aliases.join(", "));
    }
    text.push_str("Affected packages:\n");
    for m in &advisory.matches {
        let _ = writeln!(
            text,
            "  - {} {} ({}): {}",
            m.package,
            m.installed_version,
            m.ecosystem,
            fix_phrase(m.fixed_version.as_deref())
        );
    }
    if let Some(url) = url {
        let _ = writeln!(text, "More information: {url}");
    }
    text
}

fn help_markdown(advisory: &Advisory<'_>, url: Option<&str>) -> String {
    let mut md = format!(
        "**{}**\n\nAdvisory: `{}`  \nSeverity: {}  \n",
        md_escape(&one_line(advisory.title)),
        advisory.id.replace('`', "'"),
        rating(advisory)
    );
    if !advisory.aliases.is_empty() {
        let _ = writeln!(md, "Aliases: {}  ", md_escape(&advisory.aliases.join(", ")));
    }
    md.push_str("\n| Package | Ecosystem | Installed | Fixed |\n| --- | --- | --- | --- |\n");
    for m in &advisory.matches {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            md_escape(&m.package),
            md_escape(&m.ecosystem),
            md_escape(&m.installed_version),
            md_escape(m.fixed_version.as_deref().unwrap_or("no fix"))
        );
    }
    if let Some(url) = url {
        let _ = write!(md, "\n[{}]({url})\n", advisory.id);
    }
    md
}

fn fix_phrase(fixed: Option<&str>) -> String {
    match fixed {
        Some(f) => format!("fixed in {f}"),
        None => "no fix available".to_string(),
    }
}

fn result<'a>(
    report: &'a ScanReport,
    advisory: &Advisory<'a>,
    rule_index: usize,
    m: &'a VulnerabilityMatch,
) -> SarifResult<'a> {
    let packages = affected_packages(report, m);
    let message = format!(
        "{} {} ({}) is affected by {} ({}); {}.",
        m.package,
        m.installed_version,
        ecosystem_note(report, m),
        m.id,
        m.severity,
        fix_phrase(m.fixed_version.as_deref())
    );
    SarifResult {
        rule_id: advisory.id,
        rule_index,
        level: level(m.severity),
        message: Text { text: message },
        locations: locations(report, &packages),
        partial_fingerprints: Fingerprints {
            finding: fingerprint(m),
        },
        properties: ResultProperties {
            package: &m.package,
            ecosystem: &m.ecosystem,
            installed_version: &m.installed_version,
            fixed_version: m.fixed_version.as_deref(),
            severity: m.severity,
            cvss_score: valid_score(m.cvss_score),
            aliases: &m.aliases,
            purls: dedup(
                packages
                    .iter()
                    .map(|p| p.purl.as_str())
                    .filter(|p| !p.is_empty()),
            ),
            source: &m.source,
        },
    }
}

/// One location per distinct package file, each naming the image as its
/// logical location; just the image when the package file is unknown.
fn locations<'a>(report: &'a ScanReport, packages: &[&'a Package]) -> Vec<Location<'a>> {
    let artifact = &report.artifact;
    let image = || LogicalLocation {
        name: &artifact.name,
        fully_qualified_name: match &artifact.digest {
            Some(d) => format!("{}@{d}", artifact.name),
            None => artifact.name.clone(),
        },
        kind: "module",
    };
    let paths = dedup(
        packages
            .iter()
            .map(|p| p.path.trim_start_matches('/'))
            .filter(|p| !p.is_empty()),
    );
    if paths.is_empty() {
        return vec![Location {
            physical_location: None,
            logical_locations: [image()],
        }];
    }
    paths
        .into_iter()
        .map(|path| Location {
            physical_location: Some(PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: uri_path(path),
                },
            }),
            logical_locations: [image()],
        })
        .collect()
}

fn dedup<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// A stable identity for a finding across scans: the advisory and the
/// installed package, hashed.
fn fingerprint(m: &VulnerabilityMatch) -> String {
    let mut h = Sha256::new();
    for part in [&m.id, &m.ecosystem, &m.package, &m.installed_version] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let mut hex = String::with_capacity(64);
    for b in h.finalize() {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// A path inside the image as a relative URI reference: unreserved
/// characters, sub-delimiters, `@` and `/` stay; everything else (including
/// `:`, which would read as a scheme, `%`, `?`, `#` and non-ASCII) is
/// percent-encoded.
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'/'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'@'
            );
        if keep {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Collapse whitespace runs (including newlines) into single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Escape characters with meaning in Markdown (and table cells).
fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!'
        ) {
            out.push('\\');
        }
        if c.is_control() {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(level(Severity::Critical), "error");
        assert_eq!(level(Severity::High), "error");
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(level(Severity::Low), "note");
        assert_eq!(level(Severity::Unknown), "note");
    }

    #[test]
    fn uri_paths() {
        assert_eq!(uri_path("var/lib/dpkg/status"), "var/lib/dpkg/status");
        assert_eq!(
            uri_path("opt/my app/c:d/%x?#/é"),
            "opt/my%20app/c%3Ad/%25x%3F%23/%C3%A9"
        );
    }

    #[test]
    fn markdown_is_escaped() {
        assert_eq!(md_escape("a|b [x](y)\n"), "a\\|b \\[x\\](y) ");
    }
}
