//! Building the database from a directory of advisory sources:
//! OSV exports (`<Ecosystem>/all.zip`, loose `*.json`, `*.json.gz`), the
//! Debian security tracker JSON, and Alpine secdb YAML.
//!
//! Every file is untrusted: zip entries and decompressed files are read
//! through size caps, a bad advisory is counted (with its reason) and
//! skipped, and nothing is written until the whole build succeeds.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use palisade_model::Severity;
use serde::Deserialize;

use crate::osv::{parse_osv, Advisory, Affected, Event, Range, RangeKind};
use crate::store::{DbError, DbWriter, InsertOutcome, SourceSummary};

/// Largest single advisory document read (uncompressed). Real records are
/// at most a few hundred KB; a zip entry declaring more is refused
/// without decompressing it, and one lying about its size is cut off here.
const MAX_DOC: u64 = 16 << 20;
/// Largest tracker / secdb file read (uncompressed).
const MAX_BULK: u64 = 512 << 20;
/// Entries read from one zip.
const MAX_ZIP_ENTRIES: usize = 2_000_000;

/// Why a build failed as a whole (a bad record never fails a build).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    #[error("advisory source {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("advisory source {path} holds no advisory files (expected <Ecosystem>/all.zip, *.json, Debian tracker JSON or Alpine secdb YAML)")]
    Empty { path: PathBuf },
    /// Advisory files were found but not one advisory could be read from
    /// them; the previous database, if any, is kept.
    #[error("advisory source {path}: no advisory could be imported ({rejected} rejected: {reasons}); the previous database was kept")]
    NothingImported {
        path: PathBuf,
        rejected: u64,
        /// The most frequent rejection reasons, with counts.
        reasons: String,
    },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Counts for one source while importing.
#[derive(Debug, Default)]
struct Tally {
    advisories: u64,
    rejected: u64,
    reasons: BTreeMap<String, u64>,
    /// Stored advisories of earlier sources replaced by newer copies here.
    superseded: u64,
}

impl Tally {
    /// Store one advisory and count what happened.
    fn insert(&mut self, writer: &mut DbWriter, adv: &Advisory) -> Result<(), BuildError> {
        match writer.insert_outcome(adv)? {
            InsertOutcome::Inserted => self.advisories += 1,
            InsertOutcome::Replaced => {
                self.advisories += 1;
                self.superseded += 1;
            }
            _ => self.reject("duplicate id (an equal or newer copy was kept)"),
        }
        Ok(())
    }

    fn reject(&mut self, reason: impl Into<String>) {
        self.rejected += 1;
        let r: String = reason.into();
        // Keep the reason kind, not every advisory's text, so the map stays small.
        let key: String = r.chars().take(160).collect();
        if self.reasons.len() < 50 || self.reasons.contains_key(&key) {
            *self.reasons.entry(key).or_insert(0) += 1;
        } else {
            *self.reasons.entry("other reasons".into()).or_insert(0) += 1;
        }
    }
}

/// What a build did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BuildReport {
    pub db_path: PathBuf,
    /// Per source file (or directory of loose records). A source's
    /// `advisories` counts the records it contributed, including ones a
    /// newer copy from a later source replaced; for Alpine secdb files it
    /// counts (issue, package) fixes read, since issues merge across files.
    pub sources: Vec<SourceSummary>,
    /// Distinct advisories in the database.
    pub advisories: u64,
    /// Records refused, over all sources (see each source's reasons).
    pub rejected: u64,
    /// Stored records replaced by a copy of the same id with a newer
    /// `modified`.
    pub superseded: u64,
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

fn io_err(path: &Path) -> impl Fn(io::Error) -> BuildError + '_ {
    move |source| BuildError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn read_capped(r: impl Read, cap: u64, path: &Path) -> Result<Vec<u8>, BuildError> {
    let mut buf = Vec::new();
    r.take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(io_err(path))?;
    if buf.len() as u64 > cap {
        return Err(BuildError::Io {
            path: path.to_path_buf(),
            source: io::Error::new(
                io::ErrorKind::InvalidData,
                format!("larger than {cap} bytes uncompressed"),
            ),
        });
    }
    Ok(buf)
}

fn files_sorted(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<(), BuildError> {
    if depth > 16 {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io_err(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        let Ok(md) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if md.is_dir() {
            files_sorted(&p, out, depth + 1)?;
        } else if md.is_file() {
            out.push(p);
        }
    }
    Ok(())
}

/// Advisories accumulated across files of one kind (tracker CVEs span
/// packages and releases; they become one advisory each).
#[derive(Default)]
struct Pending {
    by_id: BTreeMap<String, Advisory>,
}

impl Pending {
    fn add(
        &mut self,
        id: String,
        alias: &str,
        source: &str,
        title: &str,
        severity: Severity,
        affected: Affected,
    ) {
        let adv = self.by_id.entry(id.clone()).or_insert_with(|| Advisory {
            id,
            aliases: vec![alias.to_string()],
            title: title.to_string(),
            severity,
            cvss_score: None,
            source: source.to_string(),
            modified: None,
            withdrawn: false,
            affected: Vec::new(),
        });
        if severity > adv.severity {
            adv.severity = severity;
        }
        adv.affected.push(affected);
    }
}

/// Build a database in `db_dir` from every source under `source`.
pub fn build(source: &Path, db_dir: &Path, builder: &str) -> Result<BuildReport, BuildError> {
    let mut files = Vec::new();
    if source.is_file() {
        files.push(source.to_path_buf());
    } else {
        files_sorted(source, &mut files, 0)?;
    }
    let root = if source.is_file() {
        source.parent().unwrap_or(source)
    } else {
        source
    };
    let mut writer = DbWriter::create(db_dir)?;
    let mut summaries = Vec::new();
    let mut rejected_total = 0u64;
    let mut superseded = 0u64;
    let mut loose: BTreeMap<PathBuf, Tally> = BTreeMap::new();
    let mut alpine = Pending::default();
    let mut alpine_tally = Tally::default();
    let mut any = false;
    for path in &files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let rel = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        let mut tally = Tally::default();
        let handled = if name.ends_with(".zip") {
            import_zip(path, &mut writer, &mut tally)?;
            true
        } else if is_alpine_secdb(path) {
            import_alpine(path, &mut alpine, &mut tally)?;
            true
        } else if name.ends_with(".json") || name.ends_with(".json.gz") {
            let data = read_file(path, MAX_BULK)?;
            match classify_json(&data) {
                JsonKind::Osv => {
                    // Loose OSV files are summarised per directory.
                    let dir = path.parent().unwrap_or(root).to_path_buf();
                    let t = loose.entry(dir).or_default();
                    if data.len() as u64 > MAX_DOC {
                        t.reject("advisory larger than 16 MiB");
                    } else {
                        import_one(&data, &rel, &mut writer, t)?;
                    }
                    any = true;
                    false
                }
                JsonKind::DebianTracker => {
                    import_debian_tracker(&data, &mut writer, &mut tally)?;
                    true
                }
                JsonKind::Other => false,
            }
        } else {
            false
        };
        if handled {
            any = true;
            rejected_total += tally.rejected;
            superseded += tally.superseded;
            tracing::info!(source = %rel, advisories = tally.advisories, rejected = tally.rejected, "imported");
            let s = summary(rel, path, tally);
            writer.add_source(&s)?;
            summaries.push(s);
        }
    }
    for (dir, tally) in loose {
        rejected_total += tally.rejected;
        superseded += tally.superseded;
        let rel = dir.strip_prefix(root).unwrap_or(&dir).display().to_string();
        let name = if rel.is_empty() {
            "*.json".to_string()
        } else {
            format!("{rel}/*.json")
        };
        let s = summary(name, &dir, tally);
        writer.add_source(&s)?;
        summaries.push(s);
    }
    // secdb files of every release merge into one advisory per issue.
    for adv in alpine.by_id.values() {
        alpine_tally.insert(&mut writer, adv)?;
    }
    superseded += alpine_tally.superseded;
    rejected_total += alpine_tally.rejected;
    if alpine_tally.rejected > 0 {
        let s = summary("alpine-secdb (merged)".into(), root, alpine_tally);
        writer.add_source(&s)?;
        summaries.push(s);
    }
    if !any {
        return Err(BuildError::Empty {
            path: source.to_path_buf(),
        });
    }
    let advisories = writer.advisory_count();
    if advisories == 0 {
        let mut reasons: Vec<(String, u64)> = summaries
            .iter()
            .flat_map(|s| s.rejected_reasons.iter().cloned())
            .collect();
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let reasons = reasons
            .iter()
            .take(3)
            .map(|(r, n)| format!("{n} × {r}"))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(BuildError::NothingImported {
            path: source.to_path_buf(),
            rejected: rejected_total,
            reasons,
        });
    }
    let db_path = writer.finish(&now_rfc3339(), builder)?;
    Ok(BuildReport {
        db_path,
        sources: summaries,
        advisories,
        rejected: rejected_total,
        superseded,
    })
}

fn summary(name: String, origin: &Path, t: Tally) -> SourceSummary {
    SourceSummary {
        name,
        origin: std::fs::canonicalize(origin)
            .unwrap_or_else(|_| origin.to_path_buf())
            .display()
            .to_string(),
        imported_at: now_rfc3339(),
        advisories: t.advisories,
        rejected: t.rejected,
        rejected_reasons: t.reasons.into_iter().collect(),
    }
}

fn read_file(path: &Path, cap: u64) -> Result<Vec<u8>, BuildError> {
    let f = File::open(path).map_err(io_err(path))?;
    let gz = path.extension().is_some_and(|e| e == "gz");
    if gz {
        read_capped(flate2::read::MultiGzDecoder::new(f), cap, path)
    } else {
        read_capped(f, cap, path)
    }
}

enum JsonKind {
    Osv,
    DebianTracker,
    Other,
}

fn classify_json(data: &[u8]) -> JsonKind {
    // Cheap sniff of the first key without parsing the whole document.
    let head: String = String::from_utf8_lossy(data.get(..4096).unwrap_or(data)).into_owned();
    let compact: String = head.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.contains("\"id\":")
        && (compact.contains("\"affected\"")
            || compact.contains("\"modified\"")
            || compact.contains("\"schema_version\""))
    {
        JsonKind::Osv
    } else if compact.contains("\"releases\":{") && compact.contains("\"CVE-") {
        JsonKind::DebianTracker
    } else {
        JsonKind::Other
    }
}

fn import_one(
    data: &[u8],
    name: &str,
    writer: &mut DbWriter,
    t: &mut Tally,
) -> Result<(), BuildError> {
    match parse_osv(data) {
        Ok(adv) if adv.withdrawn => t.reject("withdrawn"),
        Ok(adv) => t.insert(writer, &adv)?,
        Err(e) => {
            tracing::debug!(file = %name, error = %e, "rejected advisory");
            t.reject(match &e {
                crate::osv::OsvError::Invalid { reason, .. } => reason.clone(),
                other => other.kind().to_string(),
            });
        }
    }
    Ok(())
}

fn import_zip(path: &Path, writer: &mut DbWriter, t: &mut Tally) -> Result<(), BuildError> {
    let f = File::open(path).map_err(io_err(path))?;
    let mut zip = match zip::ZipArchive::new(f) {
        Ok(z) => z,
        Err(e) => {
            t.reject(format!("not a readable zip: {e}"));
            return Ok(());
        }
    };
    let n = zip.len().min(MAX_ZIP_ENTRIES);
    if zip.len() > MAX_ZIP_ENTRIES {
        t.reject(format!(
            "zip has {} entries; only the first {MAX_ZIP_ENTRIES} read",
            zip.len()
        ));
    }
    for i in 0..n {
        let mut entry = match zip.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                t.reject(format!("corrupt zip entry: {e}"));
                continue;
            }
        };
        let name = entry.name().map(|n| n.to_string()).unwrap_or_default();
        if entry.is_dir() || !name.ends_with(".json") {
            continue;
        }
        if entry.size() > MAX_DOC {
            t.reject("advisory larger than 16 MiB");
            continue;
        }
        let mut buf = Vec::new();
        if let Err(e) = (&mut entry).take(MAX_DOC + 1).read_to_end(&mut buf) {
            t.reject(format!("corrupt zip entry: {e}"));
            continue;
        }
        if buf.len() as u64 > MAX_DOC {
            t.reject("advisory larger than 16 MiB");
            continue;
        }
        import_one(&buf, &name, writer, t)?;
    }
    Ok(())
}

// ---- Debian security tracker JSON ------------------------------------------

#[derive(Deserialize)]
struct TrackerEntry {
    #[serde(default)]
    description: Option<String>,
    /// A map of codename → release; the tracker writes `[]` when empty.
    #[serde(default)]
    releases: serde_json::Value,
}

#[derive(Deserialize)]
struct TrackerRelease {
    #[serde(default)]
    status: String,
    #[serde(default)]
    fixed_version: Option<String>,
    #[serde(default)]
    urgency: Option<String>,
}

/// Debian codename → release number, as OSV scopes `Debian:<n>`.
pub fn debian_release(codename: &str) -> Option<&'static str> {
    Some(match codename {
        "wheezy" => "7",
        "jessie" => "8",
        "stretch" => "9",
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        "duke" => "15",
        _ => return None,
    })
}

fn urgency_severity(u: &str) -> Severity {
    match u.trim_end_matches('*').trim() {
        "unimportant" | "low" => Severity::Low,
        "medium" => Severity::Medium,
        "high" => Severity::High,
        _ => Severity::Unknown,
    }
}

fn import_debian_tracker(
    data: &[u8],
    writer: &mut DbWriter,
    t: &mut Tally,
) -> Result<(), BuildError> {
    let doc: BTreeMap<String, BTreeMap<String, TrackerEntry>> = match serde_json::from_slice(data) {
        Ok(d) => d,
        Err(e) => {
            t.reject(format!("not Debian tracker JSON: {e}"));
            return Ok(());
        }
    };
    let mut pending = Pending::default();
    for (pkg, cves) in doc {
        for (cve, entry) in cves {
            if !cve.starts_with("CVE-") && !cve.starts_with("TEMP-") {
                continue;
            }
            let title = entry
                .description
                .as_deref()
                .map(|d| d.chars().take(200).collect::<String>())
                .unwrap_or_default();
            let serde_json::Value::Object(releases) = entry.releases else {
                continue;
            };
            for (codename, rel) in releases {
                let Some(release) = debian_release(&codename) else {
                    continue;
                };
                let Ok(rel) = serde_json::from_value::<TrackerRelease>(rel) else {
                    t.reject(format!("{pkg} {cve} {codename}: malformed release entry"));
                    continue;
                };
                let fixed = rel.fixed_version.filter(|f| !f.is_empty());
                let events = match (rel.status.as_str(), fixed) {
                    // Fixed in "0": the release never had the vulnerable code.
                    ("resolved", Some(f)) if f == "0" => continue,
                    ("resolved", Some(f)) => vec![Event::Introduced("0".into()), Event::Fixed(f)],
                    ("resolved", None) => continue,
                    ("open" | "undetermined", _) => vec![Event::Introduced("0".into())],
                    _ => continue,
                };
                let severity = rel
                    .urgency
                    .as_deref()
                    .map_or(Severity::Unknown, urgency_severity);
                pending.add(
                    format!("DEBIAN-{cve}"),
                    &cve,
                    "debian",
                    &title,
                    severity,
                    Affected {
                        ecosystem: format!("Debian:{release}"),
                        name: pkg.clone(),
                        ranges: vec![Range {
                            kind: RangeKind::Ecosystem,
                            events,
                        }],
                        versions: Vec::new(),
                        severity: Some(severity),
                    },
                );
            }
        }
    }
    for adv in pending.by_id.values() {
        t.insert(writer, adv)?;
    }
    Ok(())
}

// ---- Alpine secdb ------------------------------------------------------------

fn is_alpine_secdb(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
    yaml && path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .is_some_and(|d| {
            d.starts_with('v')
                && d.get(1..)
                    .is_some_and(|r| r.chars().all(|c| c.is_ascii_digit() || c == '.'))
                || d == "edge"
        })
}

#[derive(Deserialize)]
struct SecDb {
    distroversion: String,
    #[serde(default)]
    packages: Option<Vec<SecDbPkgWrap>>,
}

#[derive(Deserialize)]
struct SecDbPkgWrap {
    pkg: SecDbPkg,
}

#[derive(Deserialize)]
struct SecDbPkg {
    name: String,
    #[serde(default)]
    secfixes: Option<HashMap<Scalar, Option<Vec<Scalar>>>>,
}

/// A YAML scalar read as text (secdb keys like `0` parse as numbers).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a scalar")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Reads one secdb file into `pending`; `t.advisories` counts the
/// (issue, package) fixes read.
fn import_alpine(path: &Path, pending: &mut Pending, t: &mut Tally) -> Result<(), BuildError> {
    let data = read_file(path, MAX_BULK)?;
    let text = String::from_utf8_lossy(&data);
    let db: SecDb = match serde_saphyr::from_str(&text) {
        Ok(d) => d,
        Err(e) => {
            t.reject(format!(
                "not Alpine secdb YAML: {}",
                e.to_string().lines().next().unwrap_or("")
            ));
            return Ok(());
        }
    };
    let release = db.distroversion.trim().to_string();
    for p in db.packages.unwrap_or_default() {
        for (fixed, ids) in p.pkg.secfixes.unwrap_or_default() {
            // "0" lists issues that never affected Alpine's package.
            if fixed.0 == "0" {
                continue;
            }
            for id_line in ids.unwrap_or_default() {
                for id in id_line.0.split_whitespace() {
                    if !(id.starts_with("CVE-")
                        || id.starts_with("XSA-")
                        || id.starts_with("GHSA-"))
                    {
                        continue;
                    }
                    t.advisories += 1;
                    pending.add(
                        format!("ALPINE-{id}"),
                        id,
                        "alpine-secdb",
                        "",
                        Severity::Unknown,
                        Affected {
                            ecosystem: format!("Alpine:{release}"),
                            name: p.pkg.name.clone(),
                            ranges: vec![Range {
                                kind: RangeKind::Ecosystem,
                                events: vec![
                                    Event::Introduced("0".into()),
                                    Event::Fixed(fixed.0.clone()),
                                ],
                            }],
                            versions: Vec::new(),
                            severity: None,
                        },
                    );
                }
            }
        }
    }
    Ok(())
}
