//! Matching installed packages against the database, with OSV semantics.
//!
//! For each package: pick the advisory ecosystem (distribution packages are
//! scoped by release, `Debian:12`, and looked up by their *source* package),
//! parse the installed version once with the ecosystem's scheme, and test it
//! against every range of every affected entry. Advisories that are the same
//! vulnerability under different ids (GHSA-x aliasing CVE-y) are merged into
//! one result.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use palisade_model::{OsInfo, Package, ScanWarning, Severity, VulnerabilityMatch};

use crate::osv::{Affected, Event, Range};
use crate::store::{AdvisoryMeta, DbError, VulnDb};
use crate::version::{ParsedVersion, Scheme};

/// Result of matching: what was found and what could not be checked.
#[derive(Debug, Clone, Default)]
pub struct MatchOutcome {
    pub matches: Vec<VulnerabilityMatch>,
    /// Unparseable installed versions, unknown OS releases, and malformed
    /// advisory versions: reported, never silently matched or dropped.
    pub warnings: Vec<ScanWarning>,
    /// Packages checked against the database.
    pub packages_checked: usize,
    /// Packages of ecosystems with no version scheme (not checked).
    pub packages_skipped: usize,
}

/// What to look a package up as.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Query {
    ecosystem: String,
    name: String,
    version: String,
}

fn major(v: &str) -> &str {
    v.split('.').next().unwrap_or(v)
}

/// The advisory ecosystem, name and version to query for `pkg`, or why it
/// cannot be queried.
fn query_for(pkg: &Package, os: Option<&OsInfo>) -> Result<Option<Query>, String> {
    let base = pkg.ecosystem.base();
    let os_version = os.map(|o| o.version.as_str()).filter(|v| !v.is_empty());
    let need_release = || {
        os_version.ok_or_else(|| {
            format!("{base} package {}: the OS release is unknown, so distribution advisories cannot be scoped", pkg.name)
        })
    };
    let (ecosystem, name, version) = match base {
        "Debian" | "Ubuntu" => {
            let release = need_release()?;
            let release = if base == "Debian" { major(release) } else { release };
            let (name, version) = match &pkg.source {
                Some(s) => (s.name.clone(), s.version.clone()),
                None => (pkg.name.to_string(), pkg.version.to_string()),
            };
            (format!("{base}:{release}"), name, version)
        }
        "Alpine" => {
            let release = need_release()?;
            let mut parts = release.split('.');
            let mm = match (parts.next(), parts.next()) {
                (Some(a), Some(b)) => format!("v{a}.{b}"),
                _ => format!("v{release}"),
            };
            let name = pkg.source.as_ref().map_or_else(|| pkg.name.to_string(), |s| s.name.clone());
            (format!("Alpine:{mm}"), name, pkg.version.to_string())
        }
        "AlmaLinux" | "Rocky Linux" | "Red Hat" | "openSUSE" | "SUSE" | "Fedora" | "Mageia" => {
            let release = need_release()?;
            (format!("{base}:{}", major(release)), pkg.name.to_string(), pkg.version.to_string())
        }
        _ => (pkg.ecosystem.to_string(), pkg.name.to_string(), pkg.version.to_string()),
    };
    if Scheme::for_ecosystem(&ecosystem).is_none() {
        return Ok(None);
    }
    Ok(Some(Query {
        ecosystem,
        name,
        version,
    }))
}

/// One advisory found to affect one query.
#[derive(Debug, Clone)]
struct Candidate {
    meta: Arc<AdvisoryMeta>,
    severity: Severity,
    /// Lowest fixed version above the installed one, parsed and as written.
    fixed: Option<(ParsedVersion, String)>,
}

/// Match every package. Errors only when the database itself fails.
pub fn match_packages(db: &VulnDb, packages: &[Package], os: Option<&OsInfo>) -> Result<MatchOutcome, DbError> {
    let mut out = MatchOutcome::default();
    let mut cache: HashMap<Query, Vec<Candidate>> = HashMap::new();
    let mut warned_release = false;
    for pkg in packages {
        let q = match query_for(pkg, os) {
            Ok(Some(q)) => q,
            Ok(None) => {
                out.packages_skipped += 1;
                continue;
            }
            Err(msg) => {
                out.packages_skipped += 1;
                if !warned_release {
                    warned_release = true;
                    out.warnings.push(ScanWarning {
                        location: pkg.path.clone(),
                        message: msg,
                    });
                }
                continue;
            }
        };
        out.packages_checked += 1;
        let candidates = match cache.get(&q) {
            Some(c) => c.clone(),
            None => {
                let c = candidates_for(db, &q, pkg, &mut out.warnings)?;
                cache.insert(q.clone(), c.clone());
                c
            }
        };
        out.matches.extend(merge_aliases(pkg, candidates));
    }
    Ok(out)
}

fn candidates_for(
    db: &VulnDb,
    q: &Query,
    pkg: &Package,
    warnings: &mut Vec<ScanWarning>,
) -> Result<Vec<Candidate>, DbError> {
    let rows = db.lookup(&q.ecosystem, &q.name)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let Some(scheme) = Scheme::for_ecosystem(&q.ecosystem) else {
        return Ok(Vec::new());
    };
    let installed = match scheme.parse(&q.version) {
        Ok(v) => v,
        Err(e) => {
            warnings.push(ScanWarning {
                location: pkg.path.clone(),
                message: format!(
                    "{} {} {}: installed version cannot be compared ({e}); {} advisories for it were not checked",
                    q.ecosystem,
                    pkg.name,
                    q.version,
                    rows.len()
                ),
            });
            return Ok(Vec::new());
        }
    };
    let mut out = Vec::new();
    for (meta, affected) in rows {
        let mut bad = Vec::new();
        if let Some(fixed) = evaluate(scheme, &installed, &affected, &mut bad) {
            out.push(Candidate {
                severity: affected.severity.unwrap_or(meta.severity),
                meta: Arc::clone(&meta),
                fixed,
            });
        }
        for b in bad {
            warnings.push(ScanWarning {
                location: meta.id.clone(),
                message: format!("advisory version {b:?} for {} is not a valid {} version; that bound was ignored", q.name, scheme.name()),
            });
        }
    }
    Ok(out)
}

/// `None` when not affected; `Some(fixed)` when affected, with the lowest
/// fix above the installed version if there is one.
fn evaluate(
    scheme: Scheme,
    v: &ParsedVersion,
    a: &Affected,
    bad: &mut Vec<String>,
) -> Option<Option<(ParsedVersion, String)>> {
    let mut affected = false;
    for listed in &a.versions {
        match scheme.parse(listed) {
            Ok(p) if p.cmp(v) == Ordering::Equal => affected = true,
            Ok(_) => {}
            Err(_) => {
                if listed == &v.to_string() {
                    affected = true;
                }
            }
        }
    }
    let mut fixed_min: Option<(ParsedVersion, String)> = None;
    for r in &a.ranges {
        if let Some(in_range) = in_range(scheme, v, r, bad, &mut fixed_min) {
            affected |= in_range;
        }
    }
    if !affected {
        return None;
    }
    Some(fixed_min)
}

/// Parsed event: `None` version means the "0" introduced (below all).
fn in_range(
    scheme: Scheme,
    v: &ParsedVersion,
    r: &Range,
    bad: &mut Vec<String>,
    fixed_min: &mut Option<(ParsedVersion, String)>,
) -> Option<bool> {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum K {
        Introduced,
        Fixed,
        LastAffected,
        Limit,
    }
    let mut events: Vec<(Option<ParsedVersion>, K, &str)> = Vec::with_capacity(r.events.len());
    for e in &r.events {
        let (k, s) = match e {
            Event::Introduced(s) => (K::Introduced, s.as_str()),
            Event::Fixed(s) => (K::Fixed, s.as_str()),
            Event::LastAffected(s) => (K::LastAffected, s.as_str()),
            Event::Limit(s) => (K::Limit, s.as_str()),
        };
        if k == K::Introduced && s == "0" {
            events.push((None, k, s));
            continue;
        }
        if k == K::Limit && s == "*" {
            continue;
        }
        match scheme.parse(s) {
            Ok(p) => events.push((Some(p), k, s)),
            Err(_) => bad.push(s.to_string()),
        }
    }
    // Insertion sort: never panics even where a scheme's order is not
    // total (Maven's ComparableVersion has cycles), unlike `sort_by`.
    let before = |a: &Option<ParsedVersion>, b: &Option<ParsedVersion>| match (a, b) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(x), Some(y)) => x > y,
    };
    for i in 1..events.len() {
        let mut j = i;
        while j > 0 {
            let swap = match (events.get(j - 1), events.get(j)) {
                (Some(a), Some(b)) => before(&a.0, &b.0),
                _ => false,
            };
            if !swap {
                break;
            }
            events.swap(j - 1, j);
            j -= 1;
        }
    }
    let mut affected = false;
    for (ver, k, s) in &events {
        match (k, ver) {
            (K::Introduced, None) => affected = true,
            (K::Introduced, Some(x)) if v >= x => affected = true,
            (K::Fixed, Some(x)) => {
                if v >= x {
                    affected = false;
                } else if fixed_min.as_ref().is_none_or(|(m, _)| x < m) {
                    *fixed_min = Some((x.clone(), (*s).to_string()));
                }
            }
            (K::LastAffected, Some(x)) if v > x => affected = false,
            _ => {}
        }
    }
    let limits: Vec<&ParsedVersion> = events
        .iter()
        .filter(|(_, k, _)| *k == K::Limit)
        .filter_map(|(p, _, _)| p.as_ref())
        .collect();
    if !limits.is_empty() && !limits.iter().any(|l| v < *l) {
        affected = false;
    }
    Some(affected)
}

/// Rank for choosing the id a merged group is reported under: the
/// distribution's own advisory for OS packages, then GHSA, then the
/// ecosystem database, then CVE.
fn id_rank(id: &str) -> u8 {
    match id.split(['-', ':']).next().unwrap_or("") {
        "DSA" | "DLA" | "DTSA" | "ALSA" | "ALBA" | "ALEA" | "RLSA" | "USN" => 0,
        "DEBIAN" | "UBUNTU" | "ALPINE" => 1,
        "GHSA" => 2,
        "CVE" => 4,
        _ => 3,
    }
}

fn merge_aliases(pkg: &Package, candidates: Vec<Candidate>) -> Vec<VulnerabilityMatch> {
    let n = candidates.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while let Some(&up) = p.get(i) {
            if up == i {
                break;
            }
            let grand = p.get(up).copied().unwrap_or(up);
            if let Some(slot) = p.get_mut(i) {
                *slot = grand;
            }
            i = up;
        }
        i
    }
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (i, c) in candidates.iter().enumerate() {
        for id in std::iter::once(&c.meta.id).chain(c.meta.aliases.iter()) {
            match owner.get(id.as_str()) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    if a != b {
                        if let Some(slot) = parent.get_mut(a) {
                            *slot = b;
                        }
                    }
                }
                None => {
                    owner.insert(id.as_str(), i);
                }
            }
        }
    }
    let mut groups: HashMap<usize, Vec<&Candidate>> = HashMap::new();
    for (i, c) in candidates.iter().enumerate() {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(c);
    }
    let mut out: Vec<VulnerabilityMatch> = groups
        .into_values()
        .filter_map(|group| {
            let primary = group
                .iter()
                .min_by(|a, b| (id_rank(&a.meta.id), &a.meta.id).cmp(&(id_rank(&b.meta.id), &b.meta.id)))?;
            let mut aliases: Vec<String> = group
                .iter()
                .flat_map(|c| std::iter::once(c.meta.id.clone()).chain(c.meta.aliases.iter().cloned()))
                .filter(|a| a != &primary.meta.id)
                .collect();
            aliases.sort();
            aliases.dedup();
            let severity = group.iter().map(|c| c.severity).max().unwrap_or(Severity::Unknown);
            let cvss = group
                .iter()
                .filter_map(|c| c.meta.cvss_score)
                .fold(None, |m: Option<f64>, s| Some(m.map_or(s, |m| m.max(s))));
            let fixed = group
                .iter()
                .filter_map(|c| c.fixed.as_ref())
                .min_by(|a, b| a.0.cmp(&b.0))
                .map(|(_, s)| s.clone());
            let title = if primary.meta.title.is_empty() {
                group.iter().map(|c| c.meta.title.clone()).find(|t| !t.is_empty()).unwrap_or_default()
            } else {
                primary.meta.title.clone()
            };
            Some(VulnerabilityMatch {
                id: primary.meta.id.clone(),
                aliases,
                package: pkg.name.to_string(),
                ecosystem: pkg.ecosystem.to_string(),
                installed_version: pkg.version.to_string(),
                fixed_version: fixed,
                severity,
                cvss_score: cvss,
                source: primary.meta.source.clone(),
                title,
            })
        })
        .collect();
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
    out
}
