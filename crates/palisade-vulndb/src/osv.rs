//! The OSV schema (<https://ossf.github.io/osv-schema/>), parsed into the
//! [`Advisory`] model this crate stores. Only the fields matching needs are
//! kept; anything malformed is rejected with a reason, never half-read.

use std::collections::BTreeMap;

use palisade_model::Severity;
use serde::{Deserialize, Serialize};

use crate::version::MAX_VERSION_LEN;

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

/// Events in one range; more is refused (a range is evaluated per package).
pub const MAX_EVENTS: usize = 10_000;
/// Affected entries in one advisory.
pub const MAX_AFFECTED: usize = 100_000;
/// Longest package name accepted (npm allows 214 bytes, Maven
/// `group:artifact` and Go module paths stay well under this).
pub const MAX_NAME_LEN: usize = 1024;
/// Longest title kept, in characters.
const MAX_TITLE_CHARS: usize = 500;

/// A point in time from an RFC 3339 timestamp, as (seconds since the Unix
/// epoch, nanoseconds), for ordering `modified` values: offsets are
/// applied and fractions compared numerically, which string comparison
/// gets wrong (`…00.5Z` sorts before `…00Z`). `None` when unparseable.
pub fn timestamp_key(s: &str) -> Option<(i64, u32)> {
    let b = s.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let d = b.get(r)?;
        if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(d).ok()?.parse().ok()
    };
    let sep = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut nanos: u32 = 0;
    if sep(i, b".") {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(b.get(i).copied().unwrap_or(b'0') - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..9 {
            nanos *= 10;
        }
    }
    let offset = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && sep(i + 3, b":") => {
            let (h, m) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            let o = h * 3600 + m * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((
        days * 86_400 + hour * 3600 + minute * 60 + second - offset,
        nanos,
    ))
}

/// The CVSS base score of a vector, for any of v2, v3.x and v4.
pub fn cvss_score(kind: &str, vector: &str) -> Option<f64> {
    use std::str::FromStr;
    match kind {
        "CVSS_V3" => cvss::v3::Vector::from_str(vector)
            .ok()
            .map(|b| b.score().value()),
        "CVSS_V4" => cvss::v4::Vector::from_str(vector)
            .ok()
            .map(|v| v.score().value()),
        "CVSS_V2" => cvss::v2::Vector::from_str(vector)
            .ok()
            .map(|b| b.score().value()),
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
    let raw: RawAdvisory =
        serde_json::from_slice(bytes).map_err(|e| OsvError::Json(e.to_string()))?;
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
        return Err(invalid(format!(
            "more than {MAX_AFFECTED} affected entries"
        )));
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
        if name.len() > MAX_NAME_LEN || ecosystem.len() > MAX_NAME_LEN {
            return Err(invalid(format!(
                "package name longer than {MAX_NAME_LEN} bytes"
            )));
        }
        let too_long = |v: &str| v.len() > MAX_VERSION_LEN;
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
                return Err(invalid(format!(
                    "more than {MAX_EVENTS} events in one range"
                )));
            }
            let mut events = Vec::with_capacity(r.events.len());
            for ev in r.events {
                if ev.len() != 1 {
                    return Err(invalid("a range event must have exactly one key".into()));
                }
                for (k, v) in ev {
                    if too_long(&v) {
                        return Err(invalid(format!(
                            "version longer than {MAX_VERSION_LEN} bytes"
                        )));
                    }
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
        let versions = a.versions.unwrap_or_default();
        if versions.iter().any(|v| too_long(v)) {
            return Err(invalid(format!(
                "version longer than {MAX_VERSION_LEN} bytes"
            )));
        }
        affected.push(Affected {
            ecosystem,
            name,
            ranges,
            versions,
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
        .map(|s| s.chars().take(MAX_TITLE_CHARS).collect())
        .or_else(|| {
            raw.details
                .map(|d| d.lines().next().unwrap_or("").chars().take(200).collect())
        })
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
        assert_eq!(
            cvss_score("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P"),
            Some(7.5)
        );
        assert_eq!(cvss_score("CVSS_V3", "garbage"), None);
    }

    #[test]
    fn timestamps_order_as_instants() {
        let k = |s: &str| timestamp_key(s).unwrap();
        assert_eq!(k("1970-01-01T00:00:00Z"), (0, 0));
        assert_eq!(k("2024-01-01T00:00:00Z"), (1_704_067_200, 0));
        assert_eq!(k("2024-02-29T12:30:15.25Z"), (1_709_209_815, 250_000_000));
        assert!(k("2024-01-01T00:00:00.5Z") > k("2024-01-01T00:00:00Z"));
        assert!(k("2024-01-01T01:00:00+02:00") < k("2024-01-01T00:00:00Z"));
        assert_eq!(k("2024-01-01T01:00:00+01:00"), k("2024-01-01T00:00:00Z"));
        assert_eq!(k("0001-01-01T00:00:00Z").0, -62_135_596_800);
        for bad in [
            "",
            "2024-01-01",
            "2024-13-01T00:00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00.Z",
            "x024-01-01T00:00:00Z",
        ] {
            assert_eq!(timestamp_key(bad), None, "{bad}");
        }
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
