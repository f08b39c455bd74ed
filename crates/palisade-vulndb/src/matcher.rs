//! Matching installed packages against the database, with OSV semantics.
//!
//! For each package: pick the advisory ecosystem (distribution packages are
//! scoped by release, `Debian:12`, and looked up by their *source* package),
//! parse the installed version once with the ecosystem's scheme, and test it
//! against every range of every affected entry. Advisories that are the same
//! vulnerability under different ids (GHSA-x aliasing CVE-y) are merged into
//! one result.

use std::collections::{HashMap, HashSet};
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
            let release = if base == "Debian" {
                major(release)
            } else {
                release
            };
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
            let name = pkg
                .source
                .as_ref()
                .map_or_else(|| pkg.name.to_string(), |s| s.name.clone());
            (format!("Alpine:{mm}"), name, pkg.version.to_string())
        }
        "AlmaLinux" | "Rocky Linux" | "Red Hat" | "openSUSE" | "SUSE" | "Fedora" | "Mageia" => {
            let release = need_release()?;
            (
                format!("{base}:{}", major(release)),
                pkg.name.to_string(),
                pkg.version.to_string(),
            )
        }
        _ => (
            pkg.ecosystem.to_string(),
            pkg.name.to_string(),
            pkg.version.to_string(),
        ),
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
    /// Fixed versions above the installed one, from the entries that
    /// affect it: the candidates for the version to report.
    fixes: Vec<(ParsedVersion, String)>,
    /// Every entry of this advisory for the package (affecting or not),
    /// to check that a candidate fix is itself unaffected.
    entries: Arc<Vec<ParsedAffected>>,
}

/// The advisory entries of one `(ecosystem, name)`: read once per
/// [`match_packages`] call and parsed on first use, so packages sharing a
/// name at other versions (several copies of an npm package, binaries of
/// one source package) do not look up and parse them again. Without this,
/// repeated lookups and parses were over a third of matching 10,000
/// packages (benches/match.rs).
enum NameEntries {
    /// As read from the database.
    Raw(Vec<(Arc<AdvisoryMeta>, Affected)>),
    /// Parsed, grouped by advisory; `count` entries in all.
    Parsed {
        count: usize,
        by_advisory: Vec<(Arc<AdvisoryMeta>, Arc<Vec<ParsedAffected>>)>,
    },
}

/// Match every package. Errors only when the database itself fails.
pub fn match_packages(
    db: &VulnDb,
    packages: &[Package],
    os: Option<&OsInfo>,
) -> Result<MatchOutcome, DbError> {
    let mut out = MatchOutcome::default();
    let mut cache: HashMap<Query, Vec<Candidate>> = HashMap::new();
    let mut names: HashMap<(String, String), NameEntries> = HashMap::new();
    let mut warned_release = false;
    let mut warned_bounds: HashSet<(String, String, String)> = HashSet::new();
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
                let c = candidates_for(
                    db,
                    &q,
                    pkg,
                    &mut names,
                    &mut warned_bounds,
                    &mut out.warnings,
                )?;
                cache.insert(q.clone(), c.clone());
                c
            }
        };
        out.matches.extend(merge_aliases(pkg, candidates));
    }
    Ok(out)
}

/// At most this many characters of an advisory's bad version are quoted.
const QUOTE_CHARS: usize = 64;

fn quote(s: &str) -> String {
    if s.chars().count() > QUOTE_CHARS {
        format!("{:?}…", s.chars().take(QUOTE_CHARS).collect::<String>())
    } else {
        format!("{s:?}")
    }
}

fn candidates_for(
    db: &VulnDb,
    q: &Query,
    pkg: &Package,
    names: &mut HashMap<(String, String), NameEntries>,
    warned_bounds: &mut HashSet<(String, String, String)>,
    warnings: &mut Vec<ScanWarning>,
) -> Result<Vec<Candidate>, DbError> {
    let slot = match names.entry((q.ecosystem.clone(), q.name.clone())) {
        std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
        std::collections::hash_map::Entry::Vacant(v) => {
            v.insert(NameEntries::Raw(db.lookup(&q.ecosystem, &q.name)?))
        }
    };
    let count = match slot {
        NameEntries::Raw(rows) => rows.len(),
        NameEntries::Parsed { count, .. } => *count,
    };
    if count == 0 {
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
                    quote(&q.version),
                    count
                ),
            });
            return Ok(Vec::new());
        }
    };
    if let NameEntries::Raw(rows) = slot {
        let by_advisory = parse_entries(scheme, q, std::mem::take(rows), warned_bounds, warnings);
        *slot = NameEntries::Parsed { count, by_advisory };
    }
    let NameEntries::Parsed { by_advisory, .. } = slot else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (meta, entries) in by_advisory.iter() {
        for e in entries.iter() {
            if !e.affects(&installed, &q.version) {
                continue;
            }
            out.push(Candidate {
                severity: e.severity.unwrap_or(meta.severity),
                meta: Arc::clone(meta),
                fixes: e.fixes_above(&installed),
                entries: Arc::clone(entries),
            });
        }
    }
    Ok(out)
}

/// Parse every entry once, grouped by advisory, warning (once per advisory
/// and package) about bounds that are not versions of the scheme.
fn parse_entries(
    scheme: Scheme,
    q: &Query,
    rows: Vec<(Arc<AdvisoryMeta>, Affected)>,
    warned_bounds: &mut HashSet<(String, String, String)>,
    warnings: &mut Vec<ScanWarning>,
) -> Vec<(Arc<AdvisoryMeta>, Arc<Vec<ParsedAffected>>)> {
    let mut by_advisory: Vec<(Arc<AdvisoryMeta>, Vec<ParsedAffected>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (meta, affected) in rows {
        let parsed = ParsedAffected::parse(scheme, &affected);
        if !parsed.bad.is_empty()
            && warned_bounds.insert((meta.id.clone(), q.ecosystem.clone(), q.name.clone()))
        {
            let examples: Vec<String> = parsed.bad.iter().take(3).map(|b| quote(b)).collect();
            warnings.push(ScanWarning {
                location: meta.id.clone(),
                message: format!(
                    "advisory {} for {} {}: {} version bound(s) not valid {} versions ({}); each was ignored, or read as 0 if introduced, so the range can only be wider",
                    meta.id,
                    q.ecosystem,
                    q.name,
                    parsed.bad.len(),
                    scheme.name(),
                    examples.join(", ")
                ),
            });
        }
        match index.get(&meta.id).and_then(|&i| by_advisory.get_mut(i)) {
            Some((_, list)) => list.push(parsed),
            None => {
                index.insert(meta.id.clone(), by_advisory.len());
                by_advisory.push((meta, vec![parsed]));
            }
        }
    }
    by_advisory
        .into_iter()
        .map(|(meta, list)| (meta, Arc::new(list)))
        .collect()
}

/// The listed versions of `a` that its ranges do not already cover, for
/// the database writer. An entry affects a version that a range contains
/// *or* that is listed, so a listed version inside a range adds nothing.
/// OSV exports list every affected release (PyPI entries: 53 on average,
/// nearly all inside the ranges), and parsing those lists at every scan was
/// half of matching 10,000 packages (benches/match.rs). Kept whole: lists
/// of entries whose ranges have a bound that is not a valid version (the
/// matcher widens those ranges), and Maven's (its order is not total, so
/// "inside a range" is no safe stand-in for "equal to a listed version").
/// Unparseable listed versions are always kept: they are compared as text.
pub(crate) fn listed_outside_ranges(a: &Affected) -> Vec<String> {
    let Some(scheme) = Scheme::for_ecosystem(&a.ecosystem) else {
        return a.versions.clone();
    };
    if a.versions.is_empty() || a.ranges.is_empty() || scheme == Scheme::Maven {
        return a.versions.clone();
    }
    let mut bad = Vec::new();
    let ranges: Vec<ParsedRange> = a
        .ranges
        .iter()
        .map(|r| ParsedRange::parse(scheme, r, &mut bad))
        .collect();
    if !bad.is_empty() {
        return a.versions.clone();
    }
    a.versions
        .iter()
        .filter(|t| match scheme.parse(t) {
            Ok(v) => !ranges.iter().any(|r| r.contains(&v)),
            Err(_) => true,
        })
        .cloned()
        .collect()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Introduced,
    Fixed,
    LastAffected,
    Limit,
}

/// One range event, parsed. `None` is the `introduced: "0"` sentinel (or
/// an unparseable introduced, read the same way): below every version.
#[derive(Debug)]
struct ParsedEvent {
    version: Option<ParsedVersion>,
    kind: Kind,
    text: String,
}

#[derive(Debug)]
struct ParsedRange {
    /// Sorted by version, the sentinel first; limits are kept apart.
    events: Vec<ParsedEvent>,
    limits: Vec<ParsedVersion>,
    /// A `limit: "*"`: no limit at all.
    unlimited: bool,
}

/// An affected entry with its versions parsed in the package's scheme.
#[derive(Debug)]
struct ParsedAffected {
    ranges: Vec<ParsedRange>,
    /// Explicitly listed versions: parsed, or the raw text when unparseable
    /// (then compared as text with the installed version).
    versions: Vec<Result<ParsedVersion, String>>,
    severity: Option<Severity>,
    /// Bounds that are not valid versions of the scheme.
    bad: Vec<String>,
}

/// A stable merge sort that never panics, even where a scheme's order is
/// not a total order (Maven's `ComparableVersion` has cycles), unlike
/// `sort_by` since Rust 1.81. `O(n log n)`: a range may hold 10,000 events.
fn merge_sort_by<T>(v: Vec<T>, less: &impl Fn(&T, &T) -> bool) -> Vec<T> {
    if v.len() <= 1 {
        return v;
    }
    let mut left = v;
    let right = left.split_off(left.len() / 2);
    let left = merge_sort_by(left, less);
    let right = merge_sort_by(right, less);
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut l = left.into_iter().peekable();
    let mut r = right.into_iter().peekable();
    loop {
        let take_right = match (l.peek(), r.peek()) {
            (Some(a), Some(b)) => less(b, a),
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (None, None) => break,
        };
        let next = if take_right { r.next() } else { l.next() };
        if let Some(x) = next {
            out.push(x);
        }
    }
    out
}

impl ParsedAffected {
    fn parse(scheme: Scheme, a: &Affected) -> ParsedAffected {
        let mut bad = Vec::new();
        let mut ranges = Vec::with_capacity(a.ranges.len());
        for r in &a.ranges {
            ranges.push(ParsedRange::parse(scheme, r, &mut bad));
        }
        let versions = a
            .versions
            .iter()
            .map(|v| scheme.parse(v).map_err(|_| v.clone()))
            .collect();
        ParsedAffected {
            ranges,
            versions,
            severity: a.severity,
            bad,
        }
    }

    /// Whether the installed version (`v`, as written `raw`) is affected.
    fn affects(&self, v: &ParsedVersion, raw: &str) -> bool {
        self.versions.iter().any(|listed| match listed {
            Ok(p) => p == v,
            Err(text) => text == raw,
        }) || self.ranges.iter().any(|r| r.contains(v))
    }

    /// `fixed` versions above `v` in the ranges that contain it.
    fn fixes_above(&self, v: &ParsedVersion) -> Vec<(ParsedVersion, String)> {
        self.ranges
            .iter()
            .filter(|r| r.contains(v))
            .flat_map(|r| r.events.iter())
            .filter(|e| e.kind == Kind::Fixed)
            .filter_map(|e| match &e.version {
                Some(f) if f > v => Some((f.clone(), e.text.clone())),
                _ => None,
            })
            .collect()
    }
}

impl ParsedRange {
    fn parse(scheme: Scheme, r: &Range, bad: &mut Vec<String>) -> ParsedRange {
        let mut events = Vec::with_capacity(r.events.len());
        let mut limits = Vec::new();
        let mut unlimited = false;
        for e in &r.events {
            let (kind, text) = match e {
                Event::Introduced(s) => (Kind::Introduced, s),
                Event::Fixed(s) => (Kind::Fixed, s),
                Event::LastAffected(s) => (Kind::LastAffected, s),
                Event::Limit(s) => (Kind::Limit, s),
            };
            if kind == Kind::Introduced && text == "0" {
                events.push(ParsedEvent {
                    version: None,
                    kind,
                    text: text.clone(),
                });
                continue;
            }
            if kind == Kind::Limit && text == "*" {
                unlimited = true;
                continue;
            }
            match scheme.parse(text) {
                Ok(p) if kind == Kind::Limit => limits.push(p),
                Ok(p) => events.push(ParsedEvent {
                    version: Some(p),
                    kind,
                    text: text.clone(),
                }),
                Err(_) => {
                    bad.push(text.clone());
                    // An unreadable introduced widens the range to the
                    // start; any other unreadable bound is dropped, which
                    // also widens it. Never narrower than the advisory says.
                    if kind == Kind::Introduced {
                        events.push(ParsedEvent {
                            version: None,
                            kind,
                            text: text.clone(),
                        });
                    }
                }
            }
        }
        let events = merge_sort_by(events, &|a: &ParsedEvent, b: &ParsedEvent| match (
            &a.version, &b.version,
        ) {
            (None, Some(_)) => true,
            (Some(x), Some(y)) => x < y,
            _ => false,
        });
        ParsedRange {
            events,
            limits,
            unlimited,
        }
    }

    /// OSV's evaluation: walk the sorted events; introduced at or below
    /// `v` turns affected on, fixed at or below (last_affected below) turns
    /// it off; then `v` must be under some limit, if there are limits.
    fn contains(&self, v: &ParsedVersion) -> bool {
        let mut affected = false;
        for e in &self.events {
            match (e.kind, &e.version) {
                (Kind::Introduced, None) => affected = true,
                (Kind::Introduced, Some(x)) if v >= x => affected = true,
                (Kind::Fixed, Some(x)) if v >= x => affected = false,
                (Kind::LastAffected, Some(x)) if v > x => affected = false,
                _ => {}
            }
        }
        if affected && !self.unlimited && !self.limits.is_empty() {
            affected = self.limits.iter().any(|l| v < l);
        }
        affected
    }
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

/// The version to report as the fix for a merged group: the lowest
/// `fixed` bound above the installed version that no advisory of the group
/// considers affected (a fix of one branch can sit inside another range,
/// and merged advisories may disagree). `None` when no bound qualifies.
fn fixed_for_group(group: &[&Candidate]) -> Option<String> {
    let mut fixes: Vec<&(ParsedVersion, String)> =
        group.iter().flat_map(|c| c.fixes.iter()).collect();
    if fixes.is_empty() {
        return None;
    }
    fixes = merge_sort_by(
        fixes,
        &|a: &&(ParsedVersion, String), b: &&(ParsedVersion, String)| a.0 < b.0,
    );
    let mut checked: Vec<&Arc<Vec<ParsedAffected>>> = Vec::new();
    for c in group {
        if !checked.iter().any(|e| Arc::ptr_eq(e, &c.entries)) {
            checked.push(&c.entries);
        }
    }
    fixes
        .into_iter()
        .find(|(f, text)| {
            !checked
                .iter()
                .any(|entries| entries.iter().any(|e| e.affects(f, text)))
        })
        .map(|(_, text)| text.clone())
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
            let primary = group.iter().min_by(|a, b| {
                (id_rank(&a.meta.id), &a.meta.id).cmp(&(id_rank(&b.meta.id), &b.meta.id))
            })?;
            let mut aliases: Vec<String> = group
                .iter()
                .flat_map(|c| {
                    std::iter::once(c.meta.id.clone()).chain(c.meta.aliases.iter().cloned())
                })
                .filter(|a| a != &primary.meta.id)
                .collect();
            aliases.sort();
            aliases.dedup();
            let severity = group
                .iter()
                .map(|c| c.severity)
                .max()
                .unwrap_or(Severity::Unknown);
            let cvss = group
                .iter()
                .filter_map(|c| c.meta.cvss_score)
                .fold(None, |m: Option<f64>, s| Some(m.map_or(s, |m| m.max(s))));
            let fixed = fixed_for_group(&group);
            let title = if primary.meta.title.is_empty() {
                group
                    .iter()
                    .map(|c| c.meta.title.clone())
                    .find(|t| !t.is_empty())
                    .unwrap_or_default()
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
