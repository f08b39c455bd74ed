//! Vulnerability matches regrouped by advisory, and what formats need to
//! know about an advisory id (where to read it, who issues it).

use palisade_model::{Package, ScanReport, Severity, VulnerabilityMatch};

/// One advisory and every match of it in the report.
#[derive(Debug)]
pub(crate) struct Advisory<'r> {
    pub(crate) id: &'r str,
    pub(crate) matches: Vec<&'r VulnerabilityMatch>,
    /// Aliases of every match, without duplicates, in order of appearance.
    pub(crate) aliases: Vec<&'r str>,
    /// The most severe rating among the matches.
    pub(crate) severity: Severity,
    /// The highest CVSS score among the matches.
    pub(crate) cvss_score: Option<f64>,
    /// The first non-empty title, or the id.
    pub(crate) title: &'r str,
}

/// Group matches by advisory id, in order of first appearance.
pub(crate) fn by_advisory(vulns: &[VulnerabilityMatch]) -> Vec<Advisory<'_>> {
    let mut out: Vec<Advisory<'_>> = Vec::new();
    for v in vulns {
        let advisory = match out.iter_mut().find(|a| a.id == v.id) {
            Some(a) => a,
            None => {
                out.push(Advisory {
                    id: &v.id,
                    matches: Vec::new(),
                    aliases: Vec::new(),
                    severity: v.severity,
                    cvss_score: None,
                    title: &v.id,
                });
                match out.last_mut() {
                    Some(a) => a,
                    None => continue,
                }
            }
        };
        advisory.matches.push(v);
        for alias in &v.aliases {
            if alias != &v.id && !advisory.aliases.contains(&alias.as_str()) {
                advisory.aliases.push(alias);
            }
        }
        advisory.severity = advisory.severity.max(v.severity);
        advisory.cvss_score = max_score(advisory.cvss_score, valid_score(v.cvss_score));
        if advisory.title == advisory.id && !v.title.trim().is_empty() {
            advisory.title = v.title.trim();
        }
    }
    out
}

/// The installed packages a match refers to.
///
/// A match names its package by name, ecosystem and installed version, not
/// by identity, so this looks it up: packages of that name and version, and
/// (as distribution advisories name source packages) packages built from a
/// source package of that name and version. The same package installed at
/// several paths yields several packages.
pub(crate) fn affected_packages<'r>(
    report: &'r ScanReport,
    m: &VulnerabilityMatch,
) -> Vec<&'r Package> {
    let ecosystem = m
        .ecosystem
        .split_once(':')
        .map_or(m.ecosystem.as_str(), |(b, _)| b);
    let same_eco = || {
        report
            .packages
            .iter()
            .filter(move |p| p.ecosystem.base() == ecosystem)
    };
    // A match that names an installed package is about that package; only
    // when none has that name does it name a source package.
    let exact: Vec<&Package> = same_eco()
        .filter(|p| p.name.as_str() == m.package && p.version.as_str() == m.installed_version)
        .collect();
    if !exact.is_empty() {
        return exact;
    }
    same_eco()
        .filter(|p| {
            p.source.as_ref().is_some_and(|s| {
                s.name == m.package
                    && (s.version == m.installed_version
                        || p.version.as_str() == m.installed_version)
            })
        })
        .collect()
}

/// The installed binary packages a match affects when it names their
/// source package instead (`openssl` → `libssl3`, `openssl`); empty when
/// it names the installed package itself.
pub(crate) fn installed_binaries<'r>(
    report: &'r ScanReport,
    m: &VulnerabilityMatch,
) -> Vec<&'r str> {
    let mut binaries: Vec<&str> = Vec::new();
    for p in affected_packages(report, m) {
        let name = p.name.as_str();
        if name != m.package && !binaries.contains(&name) {
            binaries.push(name);
        }
    }
    binaries
}

/// `Ecosystem` or `Ecosystem; installed as a, b` for the parenthesis after
/// a match's package.
pub(crate) fn ecosystem_note(report: &ScanReport, m: &VulnerabilityMatch) -> String {
    let binaries = installed_binaries(report, m);
    if binaries.is_empty() {
        m.ecosystem.clone()
    } else {
        format!("{}; installed as {}", m.ecosystem, binaries.join(", "))
    }
}

/// A CVSS score if it is one (finite, 0–10).
pub(crate) fn valid_score(score: Option<f64>) -> Option<f64> {
    score.filter(|s| s.is_finite() && (0.0..=10.0).contains(s))
}

fn max_score(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// A web page describing advisory `id`, for the id schemes we know.
pub(crate) fn advisory_url(id: &str) -> Option<String> {
    let safe = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    if !safe {
        return None;
    }
    if id.starts_with("CVE-") {
        return Some(format!("https://nvd.nist.gov/vuln/detail/{id}"));
    }
    if id.starts_with("GHSA-") {
        return Some(format!("https://github.com/advisories/{id}"));
    }
    const OSV_PREFIXES: &[&str] = &[
        "ALBA-",
        "ALEA-",
        "ALSA-",
        "BIT-",
        "CGA-",
        "DEBIAN-",
        "DLA-",
        "DSA-",
        "DTSA-",
        "GO-",
        "GSD-",
        "MAL-",
        "OSV-",
        "PYSEC-",
        "RHBA-",
        "RHEA-",
        "RHSA-",
        "RLSA-",
        "RUSTSEC-",
        "SUSE-",
        "UBUNTU-",
        "USN-",
        "openSUSE-",
    ];
    OSV_PREFIXES
        .iter()
        .any(|p| id.starts_with(p))
        .then(|| format!("https://osv.dev/vulnerability/{id}"))
}

/// Who issues ids of this form, as a short name.
pub(crate) fn issuer(id: &str) -> &'static str {
    if id.starts_with("CVE-") {
        "NVD"
    } else if id.starts_with("GHSA-") {
        "GitHub"
    } else {
        "OSV"
    }
}

/// The score used to rank a finding when its advisory has no CVSS score:
/// the lowest score of its qualitative band.
pub(crate) fn representative_score(severity: Severity) -> f64 {
    match severity {
        Severity::Critical => 9.0,
        Severity::High => 7.0,
        Severity::Medium => 4.0,
        Severity::Low => 0.1,
        Severity::Unknown => 0.0,
    }
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

    fn m(
        id: &str,
        pkg: &str,
        sev: Severity,
        score: Option<f64>,
        aliases: &[&str],
    ) -> VulnerabilityMatch {
        VulnerabilityMatch {
            id: id.to_string(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            package: pkg.to_string(),
            ecosystem: "Debian".to_string(),
            installed_version: "1".to_string(),
            fixed_version: None,
            severity: sev,
            cvss_score: score,
            source: "debian".to_string(),
            title: String::new(),
        }
    }

    #[test]
    fn groups_and_merges() {
        let v = vec![
            m("CVE-1", "a", Severity::Low, None, &["DSA-1"]),
            m("CVE-2", "a", Severity::High, Some(7.5), &[]),
            m(
                "CVE-1",
                "b",
                Severity::Medium,
                Some(5.0),
                &["DSA-1", "DLA-2", "CVE-1"],
            ),
            m("CVE-2", "b", Severity::High, Some(f64::NAN), &[]),
        ];
        let g = by_advisory(&v);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].id, "CVE-1");
        assert_eq!(g[0].matches.len(), 2);
        assert_eq!(g[0].aliases, vec!["DSA-1", "DLA-2"]);
        assert_eq!(g[0].severity, Severity::Medium);
        assert_eq!(g[0].cvss_score, Some(5.0));
        assert_eq!(g[0].title, "CVE-1");
        assert_eq!(g[1].cvss_score, Some(7.5));
    }

    #[test]
    fn urls() {
        assert_eq!(
            advisory_url("GHSA-x84v-xcm2-53pg").as_deref(),
            Some("https://github.com/advisories/GHSA-x84v-xcm2-53pg")
        );
        assert_eq!(
            advisory_url("PYSEC-2018-28").as_deref(),
            Some("https://osv.dev/vulnerability/PYSEC-2018-28")
        );
        assert_eq!(advisory_url("TEMP-0000000-1 x"), None);
        assert_eq!(advisory_url("FOO-1"), None);
    }
}
