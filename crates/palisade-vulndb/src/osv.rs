//! The OSV schema (<https://ossf.github.io/osv-schema/>), parsed into the
//! [`Advisory`] model this crate stores. Only the fields matching needs are
//! kept; anything malformed is rejected with a reason, never half-read.

use std::collections::BTreeMap;

use palisade_model::Severity;
use serde::{Deserialize, Serialize};

/// A range event. OSV allows exactly one key per event object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

/// How a range's versions are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RangeKind {
    /// The ecosystem's own version scheme.
    Ecosystem,
    /// SemVer 2.0 (OSV's `SEMVER`; still compared with the ecosystem's
    /// scheme for Go, whose versions are SemVer with a `v`).
    Semver,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub kind: RangeKind,
    pub events: Vec<Event>,
}

/// One affected package of an advisory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    /// OSV ecosystem with release, e.g. `Debian:11`, `PyPI`.
    pub ecosystem: String,
    /// Package name as the advisory spells it.
    pub name: String,
    pub ranges: Vec<Range>,
    /// Explicitly listed affected versions.
    pub versions: Vec<String>,
    /// Severity given for this package only (overrides the advisory's).
    pub severity: Option<Severity>,
}

/// An advisory as stored: identity, severity and affected packages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    pub id: String,
    pub aliases: Vec<String>,
    pub title: String,
    pub severity: Severity,
    pub cvss_score: Option<f64>,
    /// Where it came from: `osv`, `ghsa`, `debian`, `alpine-secdb`…
    pub source: String,
    pub modified: Option<String>,
    pub withdrawn: bool,
    pub affected: Vec<Affected>,
}

// ---- raw serde shapes -------------------------------------------------------

#[derive(Debug, Deserialize)]
struct RawAdvisory {
    id: String,
    #[serde(default)]
    modified: Option<String>,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default)]
    aliases: Option<Vec<String>>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    severity: Option<Vec<RawSeverity>>,
    #[serde(default)]
    affected: Option<Vec<RawAffected>>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Debug, Deserialize)]
struct RawPackage {
    #[serde(default)]
    ecosystem: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    purl: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawAffected {
    #[serde(default)]
    package: Option<RawPackage>,
    #[serde(default)]
    severity: Option<Vec<RawSeverity>>,
    #[serde(default)]
    ranges: Option<Vec<RawRange>>,
    #[serde(default)]
    versions: Option<Vec<String>>,
    #[serde(default)]
    ecosystem_specific: Option<serde_json::Value>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    events: Vec<BTreeMap<String, String>>,
}

/// Why an OSV document was rejected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum OsvError {
    #[error("not valid OSV JSON: {0}")]
    Json(String),
    #[error("advisory {id}: {reason}")]
    Invalid { id: String, reason: String },
}

impl OsvError {
    /// A short, stable reason for counting rejections by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            OsvError::Json(_) => "malformed JSON",
            OsvError::Invalid { .. } => "invalid advisory",
        }
    }
}

const MAX_EVENTS: usize = 10_000;
const MAX_AFFECTED: usize = 100_000;

/// The CVSS base score of a vector, for any of v2, v3.x and v4.
pub fn cvss_score(kind: &str, vector: &str) -> Option<f64> {
    use std::str::FromStr;
    match kind {
        "CVSS_V3" => cvss::v3::Vector::from_str(vector).ok().map(|b| b.score().value()),
        "CVSS_V4" => cvss::v4::Vector::from_str(vector).ok().map(|v| v.score().value()),
        "CVSS_V2" => cvss::v2::Vector::from_str(vector).ok().map(|b| b.score().value()),
        _ => None,
    }
}

/// Best severity from `severity[]`: the highest-version CVSS score present.
fn severity_from_vectors(list: &[RawSeverity]) -> Option<(Severity, f64)> {
    let rank = |k: &str| match k {
        "CVSS_V4" => 3,
        "CVSS_V3" => 2,
        "CVSS_V2" => 1,
        _ => 0,
    };
    let mut best: Option<(i32, f64)> = None;
    for s in list {
        if let Some(score) = cvss_score(&s.kind, &s.score) {
            let r = rank(&s.kind);
            if best.is_none_or(|(br, _)| r > br) {
                best = Some((r, score));
            }
        }
    }
    best.map(|(r, score)| {
        let sev = if r == 1 {
            // CVSS v2 has no "critical" band.
            match score {
                s if s >= 7.0 => Severity::High,
                s if s >= 4.0 => Severity::Medium,
                s if s > 0.0 => Severity::Low,
                _ => Severity::Unknown,
            }
        } else {
            Severity::from_cvss_score(score)
        };
        (sev, score)
    })
}

fn severity_from_json(v: Option<&serde_json::Value>) -> Option<Severity> {
    let s = v?.get("severity")?.as_str()?;
    s.parse().ok()
}

/// The source label for an advisory id's prefix.
pub fn source_of(id: &str) -> &'static str {
    let prefix = id.split(['-', ':']).next().unwrap_or("");
    match prefix {
        "GHSA" => "ghsa",
        "PYSEC" => "pypa",
        "GO" => "go",
        "RUSTSEC" => "rustsec",
        "DSA" | "DLA" | "DTSA" => "debian",
        "ALSA" | "ALBA" | "ALEA" => "almalinux",
        "RLSA" => "rocky",
        "USN" | "UBUNTU" => "ubuntu",
        "ALPINE" => "alpine",
        "DEBIAN" => "debian",
        "CVE" => "nvd",
        "NSWG" => "nodejs",
        "MAL" => "ossf-malicious",
        _ => "osv",
    }
}

/// Parse one OSV JSON document.
pub fn parse_osv(bytes: &[u8]) -> Result<Advisory, OsvError> {
    let raw: RawAdvisory = serde_json::from_slice(bytes).map_err(|e| OsvError::Json(e.to_string()))?;
    let id = raw.id.trim().to_string();
    let invalid = |reason: String| OsvError::Invalid {
        id: id.clone(),
        reason,
    };
    if id.is_empty() || id.len() > 200 {
        return Err(invalid("id is empty or too long".into()));
    }
    let affected_raw = raw.affected.unwrap_or_default();
    if affected_raw.len() > MAX_AFFECTED {
        return Err(invalid(format!("{} affected entries", affected_raw.len())));
    }
    let (mut severity, mut cvss) = match raw.severity.as_deref().and_then(severity_from_vectors) {
        Some((s, score)) => (s, Some(score)),
        None => (Severity::Unknown, None),
    };
    if severity == Severity::Unknown {
        if let Some(s) = severity_from_json(raw.database_specific.as_ref()) {
            severity = s;
        }
    }
    let mut affected = Vec::new();
    for a in affected_raw {
        let Some(pkg) = a.package else {
            // Affected entries without a package describe git commits only.
            continue;
        };
        let (ecosystem, name) = match (pkg.ecosystem, pkg.name) {
            (Some(e), Some(n)) if !e.is_empty() && !n.is_empty() => (e, n),
            _ => {
                if pkg.purl.is_some() {
                    continue;
                }
                return Err(invalid("affected package without ecosystem or name".into()));
            }
        };
        let mut ranges = Vec::new();
        for r in a.ranges.unwrap_or_default() {
            let kind = match r.kind.as_str() {
                "ECOSYSTEM" => RangeKind::Ecosystem,
                "SEMVER" => RangeKind::Semver,
                // GIT ranges name commits, not package versions.
                "GIT" => continue,
                other => return Err(invalid(format!("unknown range type {other:?}"))),
            };
            if r.events.len() > MAX_EVENTS {
                return Err(invalid(format!("{} events in one range", r.events.len())));
            }
            let mut events = Vec::with_capacity(r.events.len());
            for ev in r.events {
                if ev.len() != 1 {
                    return Err(invalid("a range event must have exactly one key".into()));
                }
                for (k, v) in ev {
                    events.push(match k.as_str() {
                        "introduced" => Event::Introduced(v),
                        "fixed" => Event::Fixed(v),
                        "last_affected" => Event::LastAffected(v),
                        "limit" => Event::Limit(v),
                        other => return Err(invalid(format!("unknown range event {other:?}"))),
                    });
                }
            }
            if !events.iter().any(|e| matches!(e, Event::Introduced(_))) {
                return Err(invalid("range has no introduced event".into()));
            }
            ranges.push(Range { kind, events });
        }
        let pkg_severity = a
            .severity
            .as_deref()
            .and_then(severity_from_vectors)
            .map(|(s, _)| s)
            .or_else(|| severity_from_json(a.ecosystem_specific.as_ref()))
            .or_else(|| severity_from_json(a.database_specific.as_ref()));
        affected.push(Affected {
            ecosystem,
            name,
            ranges,
            versions: a.versions.unwrap_or_default(),
            severity: pkg_severity,
        });
    }
    if cvss.is_none() && severity == Severity::Unknown {
        // Some sources only rate per package; lift the highest up.
        if let Some(s) = affected.iter().filter_map(|a| a.severity).max() {
            severity = s;
        }
    }
    if cvss.is_some_and(|c| !c.is_finite()) {
        cvss = None;
    }
    let title = raw
        .summary
        .filter(|s| !s.trim().is_empty())
        .or_else(|| raw.details.map(|d| d.lines().next().unwrap_or("").chars().take(200).collect()))
        .unwrap_or_default();
    Ok(Advisory {
        source: source_of(&id).to_string(),
        aliases: raw.aliases.unwrap_or_default(),
        id,
        title,
        severity,
        cvss_score: cvss,
        modified: raw.modified,
        withdrawn: raw.withdrawn.is_some(),
        affected,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn parses_full_record() {
        let a = parse_osv(
            br#"{"id":"GHSA-xxxx","aliases":["CVE-2020-1"],"summary":"bad",
            "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected":[{"package":{"ecosystem":"PyPI","name":"Requests"},
              "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.20.0"}]},
                        {"type":"GIT","repo":"x","events":[{"introduced":"abc"}]}],
              "versions":["2.19.1"]}]}"#,
        )
        .unwrap();
        assert_eq!(a.severity, Severity::Critical);
        assert_eq!(a.cvss_score, Some(9.8));
        assert_eq!(a.source, "ghsa");
        assert_eq!(a.affected[0].ranges.len(), 1);
        assert_eq!(a.affected[0].versions, vec!["2.19.1"]);
    }

    #[test]
    fn ghsa_database_specific_severity_and_withdrawn() {
        let a = parse_osv(
            br#"{"id":"GHSA-y","withdrawn":"2021-01-01T00:00:00Z","database_specific":{"severity":"MODERATE"},"affected":[]}"#,
        )
        .unwrap();
        assert!(a.withdrawn);
        assert_eq!(a.severity, Severity::Medium);
    }

    #[test]
    fn cvss_v4_and_v2() {
        let v4 = cvss_score(
            "CVSS_V4",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        );
        assert_eq!(v4, Some(9.3));
        assert_eq!(cvss_score("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P"), Some(7.5));
        assert_eq!(cvss_score("CVSS_V3", "garbage"), None);
    }

    #[test]
    fn rejects_malformed() {
        assert!(matches!(parse_osv(b"{"), Err(OsvError::Json(_))));
        assert!(matches!(parse_osv(b"[]"), Err(OsvError::Json(_))));
        let e = parse_osv(br#"{"id":"X","affected":[{"package":{"ecosystem":"PyPI","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"fixed":"1"}]}]}]}"#);
        assert!(matches!(e, Err(OsvError::Invalid { .. })));
        let e = parse_osv(br#"{"id":"X","affected":[{"package":{"ecosystem":"PyPI","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0","fixed":"1"}]}]}]}"#);
        assert!(matches!(e, Err(OsvError::Invalid { .. })));
        let e = parse_osv(br#"{"id":"X","affected":[{"package":{"ecosystem":"PyPI","name":"a"},"ranges":[{"type":"WEIRD","events":[]}]}]}"#);
        assert!(matches!(e, Err(OsvError::Invalid { .. })));
    }
}
