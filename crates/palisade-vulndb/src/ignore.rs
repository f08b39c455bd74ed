//! `.palisadeignore`: accepted risks, applied before `--fail-on`.
//!
//! ```yaml
//! ignore:
//!   - id: CVE-2023-0286          # the advisory id or any of its aliases
//!     package: libssl1.1         # optional: only for this package
//!     reason: not reachable from our code
//!     expires: 2026-12-31        # optional: stops suppressing after this day (UTC)
//! ```
//!
//! A top-level list (without `ignore:`) is accepted too. An expired entry no
//! longer suppresses anything and says so, so accepted risks are revisited.

use std::path::Path;

use palisade_model::{ScanWarning, VulnerabilityMatch};
use serde::Deserialize;

/// One accepted risk.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreRule {
    pub id: String,
    #[serde(default)]
    pub package: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    /// `YYYY-MM-DD`; the rule applies through that day.
    #[serde(default)]
    pub expires: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Doc {
    Wrapped { ignore: Vec<IgnoreRule> },
    List(Vec<IgnoreRule>),
}

/// Why an ignore file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IgnoreError {
    #[error("ignore file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("ignore file {path}: {message}")]
    Invalid { path: String, message: String },
}

/// A parsed ignore file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IgnoreFile {
    pub path: String,
    pub rules: Vec<IgnoreRule>,
}

/// What applying the rules did.
#[derive(Debug, Clone, Default)]
pub struct IgnoreOutcome {
    /// Suppressed matches with the rule's reason.
    pub suppressed: Vec<(VulnerabilityMatch, Option<String>)>,
    /// Expired rules, one warning each.
    pub warnings: Vec<ScanWarning>,
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parse `YYYY-MM-DD` to days since the epoch.
fn parse_day(s: &str) -> Option<i64> {
    let mut it = s.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1970..=9999).contains(&y) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Today (UTC) in days since the epoch.
pub fn today() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    i64::try_from(secs / 86_400).unwrap_or(0)
}

impl IgnoreFile {
    /// Parse YAML text; `path` names it in errors.
    pub fn parse(path: &str, text: &str) -> Result<IgnoreFile, IgnoreError> {
        let invalid = |message: String| IgnoreError::Invalid {
            path: path.to_string(),
            message,
        };
        if text.trim().is_empty() {
            return Ok(IgnoreFile {
                path: path.to_string(),
                rules: Vec::new(),
            });
        }
        let doc: Doc = serde_saphyr::from_str(text).map_err(|e| {
            invalid(format!(
                "{} (expected a list of {{id, package, reason, expires}} under `ignore:`)",
                e.to_string().lines().next().unwrap_or("")
            ))
        })?;
        let rules = match doc {
            Doc::Wrapped { ignore } => ignore,
            Doc::List(l) => l,
        };
        for (i, r) in rules.iter().enumerate() {
            if r.id.trim().is_empty() {
                return Err(invalid(format!("entry {} has an empty id", i + 1)));
            }
            if let Some(e) = &r.expires {
                if parse_day(e).is_none() {
                    return Err(invalid(format!(
                        "entry {} ({}): expires {e:?} is not a YYYY-MM-DD date",
                        i + 1,
                        r.id
                    )));
                }
            }
        }
        Ok(IgnoreFile {
            path: path.to_string(),
            rules,
        })
    }

    /// Read and parse a file.
    pub fn load(path: &Path) -> Result<IgnoreFile, IgnoreError> {
        let text = std::fs::read_to_string(path).map_err(|source| IgnoreError::Io {
            path: path.display().to_string(),
            source,
        })?;
        IgnoreFile::parse(&path.display().to_string(), &text)
    }

    /// Remove the matches the rules accept, as of day `today` (days since
    /// the epoch; see [`today`]).
    pub fn apply(&self, matches: &mut Vec<VulnerabilityMatch>, today: i64) -> IgnoreOutcome {
        let mut out = IgnoreOutcome::default();
        let mut active = Vec::new();
        for r in &self.rules {
            match r.expires.as_deref().and_then(parse_day) {
                Some(day) if day < today => out.warnings.push(ScanWarning {
                    location: self.path.clone(),
                    message: format!(
                        "ignore entry for {}{} expired on {}; it no longer suppresses anything",
                        r.id,
                        r.package
                            .as_deref()
                            .map(|p| format!(" ({p})"))
                            .unwrap_or_default(),
                        r.expires.as_deref().unwrap_or("")
                    ),
                }),
                _ => active.push(r),
            }
        }
        let mut kept = Vec::with_capacity(matches.len());
        for m in matches.drain(..) {
            let rule = active.iter().find(|r| {
                (r.id == m.id || m.aliases.iter().any(|a| a == &r.id))
                    && r.package.as_deref().is_none_or(|p| p == m.package)
            });
            match rule {
                Some(r) => out.suppressed.push((m, r.reason.clone())),
                None => kept.push(m),
            }
        }
        *matches = kept;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::Severity;

    fn m(id: &str, aliases: &[&str], package: &str) -> VulnerabilityMatch {
        VulnerabilityMatch {
            id: id.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            package: package.into(),
            ecosystem: "Debian".into(),
            installed_version: "1".into(),
            fixed_version: None,
            severity: Severity::High,
            cvss_score: None,
            source: "debian".into(),
            title: String::new(),
        }
    }

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(parse_day("2026-11-26"), Some(days_from_civil(2026, 11, 26)));
        assert_eq!(parse_day("2026-13-01"), None);
        assert_eq!(parse_day("tomorrow"), None);
    }

    #[test]
    fn suppresses_by_id_alias_and_package_until_expiry() {
        let f = IgnoreFile::parse(
            ".palisadeignore",
            "ignore:\n  - id: CVE-1\n    package: libssl3\n    reason: unreachable\n  - id: DSA-9\n    expires: 2020-01-01\n  - id: GHSA-x\n    expires: 2999-12-31\n",
        )
        .unwrap();
        let mut v = vec![
            m("DSA-1", &["CVE-1"], "libssl3"),
            m("DSA-1", &["CVE-1"], "openssl"),
            m("DSA-9", &[], "zlib1g"),
            m("PYSEC-1", &["GHSA-x"], "requests"),
        ];
        let out = f.apply(&mut v, days_from_civil(2026, 11, 26));
        let kept: Vec<(&str, &str)> = v
            .iter()
            .map(|x| (x.id.as_str(), x.package.as_str()))
            .collect();
        assert_eq!(kept, vec![("DSA-1", "openssl"), ("DSA-9", "zlib1g")]);
        assert_eq!(out.suppressed.len(), 2);
        assert_eq!(out.suppressed[0].1.as_deref(), Some("unreachable"));
        assert_eq!(out.warnings.len(), 1);
        assert!(
            out.warnings[0].message.contains("DSA-9")
                && out.warnings[0].message.contains("expired")
        );
    }

    #[test]
    fn list_form_and_errors() {
        let f = IgnoreFile::parse("f", "- id: CVE-2\n").unwrap();
        assert_eq!(f.rules.len(), 1);
        assert!(IgnoreFile::parse("f", "- id: CVE-2\n  expires: soon\n").is_err());
        assert!(IgnoreFile::parse("f", "- id: ''\n").is_err());
        assert!(IgnoreFile::parse("f", "- id: CVE-2\n  colour: red\n").is_err());
        assert!(IgnoreFile::parse("f", "{{{").is_err());
        assert_eq!(IgnoreFile::parse("f", "  \n").unwrap().rules.len(), 0);
    }
}
