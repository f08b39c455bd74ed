//! The on-disk advisory database: one SQLite file.
//!
//! Why SQLite: opening is a few syscalls (no index to load or decode), a
//! lookup by `(ecosystem, name)` is one B-tree probe, the file is portable
//! and inspectable with standard tools, and an atomic rename of a freshly
//! built file swaps databases safely while scans read the old one. The
//! affected ranges of one (advisory, package) pair are stored as one small
//! JSON blob, decoded only for packages that have advisories at all.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::osv::{Advisory, Affected};

/// Bumped whenever the tables change shape; older files are rejected with
/// a request to rebuild.
pub const SCHEMA_VERSION: i64 = 1;
/// File name of the database inside a `--db` directory.
pub const DB_FILE: &str = "palisade-vulndb.sqlite";

/// Why the database could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    #[error("vulnerability database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("no vulnerability database at {path}; build one with `palisade db build --source DIR` or `palisade db update`")]
    Missing { path: PathBuf },
    #[error("vulnerability database {path} has schema {found}, this palisade reads {expected}; rebuild it")]
    Schema {
        path: PathBuf,
        found: i64,
        expected: i64,
    },
    #[error("vulnerability database {path}: {what}: {source}")]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("vulnerability database {path}: corrupt record: {reason}")]
    Corrupt { path: PathBuf, reason: String },
}

/// Where the database lives: `--db DIR`, else `$PALISADE_DB`, else the
/// user cache dir (`~/.cache/palisade/db`).
pub fn default_db_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("PALISADE_DB") {
        return PathBuf::from(d);
    }
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("palisade")
        .join("db")
}

/// What one import source contributed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSummary {
    /// E.g. `osv/PyPI/all.zip` relative to the source directory.
    pub name: String,
    /// Absolute path or URL it was read from.
    pub origin: String,
    pub imported_at: String,
    pub advisories: u64,
    pub rejected: u64,
    /// Rejection reasons with counts, and a few examples.
    pub rejected_reasons: Vec<(String, u64)>,
}

/// `palisade db status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbStatus {
    pub path: String,
    pub schema_version: i64,
    pub built_at: String,
    pub builder: String,
    pub advisories: u64,
    pub affected_packages: u64,
    pub ecosystems: Vec<(String, u64)>,
    pub sources: Vec<SourceSummary>,
    pub size_bytes: u64,
}

/// Advisory fields shared by every affected package of it.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisoryMeta {
    pub id: String,
    pub aliases: Vec<String>,
    pub title: String,
    pub severity: palisade_model::Severity,
    pub cvss_score: Option<f64>,
    pub source: String,
}

#[derive(Serialize, Deserialize)]
struct StoredAffected {
    #[serde(rename = "r")]
    ranges: Vec<crate::osv::Range>,
    /// Listed versions that the ranges do not already cover (see
    /// `matcher::listed_outside_ranges`).
    #[serde(rename = "v", default, skip_serializing_if = "Vec::is_empty")]
    versions: Vec<String>,
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    severity: Option<palisade_model::Severity>,
    /// The ecosystem as the advisory wrote it.
    #[serde(rename = "e")]
    ecosystem: String,
    #[serde(rename = "n")]
    name: String,
}

/// Normalise an advisory ecosystem into the lookup key: Ubuntu's `:LTS`
/// suffix is dropped so `Ubuntu:22.04` finds `Ubuntu:22.04:LTS` records.
pub fn ecosystem_key(ecosystem: &str) -> String {
    ecosystem
        .strip_suffix(":LTS")
        .unwrap_or(ecosystem)
        .to_string()
}

/// Normalise a package name for lookup, per ecosystem.
pub fn name_key(ecosystem: &str, name: &str) -> String {
    let base = ecosystem.split(':').next().unwrap_or(ecosystem);
    match base {
        // PEP 503: lowercase, runs of -_. become one -.
        "PyPI" => {
            let mut out = String::with_capacity(name.len());
            let mut sep = false;
            for c in name.chars() {
                if matches!(c, '-' | '_' | '.') {
                    sep = true;
                } else {
                    if sep && !out.is_empty() {
                        out.push('-');
                    }
                    sep = false;
                    out.extend(c.to_lowercase());
                }
            }
            out
        }
        // Package names in these are case-insensitive.
        "NuGet" | "Packagist" => name.to_ascii_lowercase(),
        _ => name.to_string(),
    }
}

/// A database open for reading.
pub struct VulnDb {
    conn: Connection,
    path: PathBuf,
    cache: std::cell::RefCell<HashMap<i64, Arc<AdvisoryMeta>>>,
}

impl std::fmt::Debug for VulnDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VulnDb").field("path", &self.path).finish()
    }
}

fn sql(path: &Path) -> impl Fn(rusqlite::Error) -> DbError + '_ {
    move |source| DbError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

impl VulnDb {
    /// Open the database in directory `dir` (or a file path) read-only.
    pub fn open(dir: &Path) -> Result<VulnDb, DbError> {
        let path = if dir.is_dir() {
            dir.join(DB_FILE)
        } else {
            dir.to_path_buf()
        };
        if !path.is_file() {
            return Err(DbError::Missing { path });
        }
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql(&path))?;
        // Keep the shared lock once taken. Otherwise every lookup is its own
        // read transaction: lock and unlock with fcntl, a stat of the
        // `-journal` path and a re-check of the file, which was two thirds
        // of matching 10,000 packages (benches/match.rs). Safe because a
        // database file is never written in place: `DbWriter` builds a new
        // file and renames it over the old one.
        conn.execute_batch("PRAGMA locking_mode = EXCLUSIVE;")
            .map_err(sql(&path))?;
        let found: Option<String> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql(&path))?;
        let found: i64 = found.and_then(|s| s.parse().ok()).unwrap_or(-1);
        if found != SCHEMA_VERSION {
            return Err(DbError::Schema {
                path,
                found,
                expected: SCHEMA_VERSION,
            });
        }
        Ok(VulnDb {
            conn,
            path,
            cache: std::cell::RefCell::new(HashMap::new()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every affected entry for `(ecosystem, name)` with its advisory.
    /// `ecosystem` may carry a release (`Debian:12`); `name` is normalised here.
    pub fn lookup(
        &self,
        ecosystem: &str,
        name: &str,
    ) -> Result<Vec<(Arc<AdvisoryMeta>, Affected)>, DbError> {
        let eco = ecosystem_key(ecosystem);
        let key = name_key(ecosystem, name);
        let e = sql(&self.path);
        // One statement for the entries and their advisories: a second
        // query per advisory cost as much as the lookup itself when
        // matching 10,000 packages (benches/match.rs). The advisory columns
        // are only read for advisories not cached yet.
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT f.advisory, f.data, a.id, a.aliases, a.title, a.severity, a.cvss, a.source \
                 FROM affected f LEFT JOIN advisories a ON a.rowid = f.advisory \
                 WHERE f.ecosystem = ?1 AND f.name = ?2",
            )
            .map_err(&e)?;
        let mut rows = stmt.query(params![eco, key]).map_err(&e)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(&e)? {
            let adv: i64 = row.get(0).map_err(&e)?;
            let corrupt = |reason: String| DbError::Corrupt {
                path: self.path.clone(),
                reason: format!("affected entry of advisory #{adv}: {reason}"),
            };
            let data = row
                .get_ref(1)
                .map_err(&e)?
                .as_bytes()
                .map_err(|err| corrupt(err.to_string()))?;
            let stored: StoredAffected =
                serde_json::from_slice(data).map_err(|err| corrupt(err.to_string()))?;
            let cached = self.cache.borrow().get(&adv).map(Arc::clone);
            let meta = match cached {
                Some(m) => m,
                None => {
                    let id: Option<String> = row.get(2).map_err(&e)?;
                    let id = id.ok_or_else(|| corrupt("the advisory is missing".into()))?;
                    let aliases: String = row.get(3).map_err(&e)?;
                    let severity: String = row.get(5).map_err(&e)?;
                    let meta = Arc::new(AdvisoryMeta {
                        id,
                        aliases: serde_json::from_str(&aliases).unwrap_or_default(),
                        title: row.get(4).map_err(&e)?,
                        severity: severity
                            .parse()
                            .unwrap_or(palisade_model::Severity::Unknown),
                        cvss_score: row.get(6).map_err(&e)?,
                        source: row.get(7).map_err(&e)?,
                    });
                    self.cache.borrow_mut().insert(adv, Arc::clone(&meta));
                    meta
                }
            };
            out.push((
                meta,
                Affected {
                    ecosystem: stored.ecosystem,
                    name: stored.name,
                    ranges: stored.ranges,
                    versions: stored.versions,
                    severity: stored.severity,
                },
            ));
        }
        Ok(out)
    }

    /// Metadata and counts.
    pub fn status(&self) -> Result<DbStatus, DbError> {
        let e = sql(&self.path);
        let meta = |k: &str| -> Result<String, DbError> {
            self.conn
                .query_row("SELECT value FROM meta WHERE key = ?1", [k], |r| r.get(0))
                .optional()
                .map(Option::unwrap_or_default)
                .map_err(sql(&self.path))
        };
        let advisories: i64 = self
            .conn
            .query_row("SELECT count(*) FROM advisories", [], |r| r.get(0))
            .map_err(&e)?;
        let affected: i64 = self
            .conn
            .query_row("SELECT count(*) FROM affected", [], |r| r.get(0))
            .map_err(&e)?;
        let mut stmt = self
            .conn
            .prepare("SELECT ecosystem, count(DISTINCT advisory) FROM affected GROUP BY ecosystem ORDER BY ecosystem")
            .map_err(&e)?;
        let ecosystems = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })
            .map_err(&e)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&e)?;
        let mut stmt = self
            .conn
            .prepare("SELECT data FROM sources ORDER BY rowid")
            .map_err(&e)?;
        let sources = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(&e)?
            .filter_map(|r| r.ok().and_then(|s| serde_json::from_str(&s).ok()))
            .collect();
        Ok(DbStatus {
            path: self.path.display().to_string(),
            schema_version: SCHEMA_VERSION,
            built_at: meta("built_at")?,
            builder: meta("builder")?,
            advisories: advisories as u64,
            affected_packages: affected as u64,
            ecosystems,
            sources,
            size_bytes: std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0),
        })
    }
}

/// What [`DbWriter::insert_outcome`] did with an advisory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InsertOutcome {
    /// A new id: stored.
    Inserted,
    /// The id was stored already with an older `modified`: replaced.
    Replaced,
    /// The id was stored already with an equal or newer `modified` (or the
    /// advisory is withdrawn): not stored.
    Kept,
}

/// The ordering key of a `modified` value: parseable timestamps by instant,
/// above absent or unparseable ones.
fn modified_key(m: Option<&str>) -> Option<(i64, u32)> {
    m.and_then(crate::osv::timestamp_key)
}

/// Distinguishes temporary files of builds running at once in one process.
static BUILD_SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Writes a new database to a temporary file beside the target, then
/// renames it into place: a failed build never destroys a working database.
pub struct DbWriter {
    conn: Connection,
    tmp: PathBuf,
    target: PathBuf,
    ids: HashMap<String, (i64, Option<(i64, u32)>)>,
    _guard: TmpGuard,
}

impl DbWriter {
    pub fn create(dir: &Path) -> Result<DbWriter, DbError> {
        std::fs::create_dir_all(dir).map_err(|source| DbError::Io {
            path: dir.to_path_buf(),
            what: "creating the database directory",
            source,
        })?;
        let target = dir.join(DB_FILE);
        let seq = BUILD_SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = dir.join(format!(".{DB_FILE}.{}.{seq}.tmp", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let conn = Connection::open(&tmp).map_err(sql(&tmp))?;
        conn.execute_batch(
            "PRAGMA journal_mode = OFF;
             PRAGMA synchronous = OFF;
             PRAGMA page_size = 4096;
             CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE sources (data TEXT NOT NULL);
             CREATE TABLE advisories (id TEXT NOT NULL UNIQUE, aliases TEXT NOT NULL, title TEXT NOT NULL,
                                      severity TEXT NOT NULL, cvss REAL, source TEXT NOT NULL, modified TEXT);
             CREATE TABLE affected (ecosystem TEXT NOT NULL, name TEXT NOT NULL, advisory INTEGER NOT NULL, data BLOB NOT NULL);
             BEGIN;",
        )
        .map_err(sql(&tmp))?;
        Ok(DbWriter {
            conn,
            _guard: TmpGuard(tmp.clone()),
            tmp,
            target,
            ids: HashMap::new(),
        })
    }

    /// Add one advisory. Withdrawn advisories are not stored. When the
    /// same id comes twice, the later `modified` wins. Returns whether it
    /// was stored.
    pub fn insert(&mut self, adv: &Advisory) -> Result<bool, DbError> {
        Ok(self.insert_outcome(adv)? != InsertOutcome::Kept)
    }

    /// Distinct advisories stored so far.
    pub fn advisory_count(&self) -> u64 {
        self.ids.len() as u64
    }

    /// Add one advisory, saying whether it was new, replaced an older copy
    /// of the same id, or was not stored. `modified` values are compared as
    /// instants (RFC 3339, offsets and fractions applied); a copy with a
    /// readable `modified` beats one without; on a tie the first stays.
    pub fn insert_outcome(&mut self, adv: &Advisory) -> Result<InsertOutcome, DbError> {
        if adv.withdrawn {
            return Ok(InsertOutcome::Kept);
        }
        let e = sql(&self.tmp);
        let new_key = modified_key(adv.modified.as_deref());
        let mut outcome = InsertOutcome::Inserted;
        if let Some((rowid, old_key)) = self.ids.get(&adv.id) {
            if *old_key >= new_key {
                return Ok(InsertOutcome::Kept);
            }
            outcome = InsertOutcome::Replaced;
            let rowid = *rowid;
            self.conn
                .execute("DELETE FROM affected WHERE advisory = ?1", [rowid])
                .map_err(&e)?;
            self.conn
                .execute("DELETE FROM advisories WHERE rowid = ?1", [rowid])
                .map_err(&e)?;
        }
        let aliases = serde_json::to_string(&adv.aliases).unwrap_or_else(|_| "[]".into());
        self.conn
            .prepare_cached(
                "INSERT INTO advisories (id, aliases, title, severity, cvss, source, modified) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    adv.id,
                    aliases,
                    adv.title,
                    adv.severity.as_str(),
                    adv.cvss_score,
                    adv.source,
                    adv.modified
                ])
            })
            .map_err(&e)?;
        let rowid = self.conn.last_insert_rowid();
        self.ids.insert(adv.id.clone(), (rowid, new_key));
        for a in &adv.affected {
            let stored = StoredAffected {
                ranges: a.ranges.clone(),
                versions: crate::matcher::listed_outside_ranges(a),
                severity: a.severity,
                ecosystem: a.ecosystem.clone(),
                name: a.name.clone(),
            };
            let data = serde_json::to_vec(&stored).map_err(|err| DbError::Corrupt {
                path: self.tmp.clone(),
                reason: err.to_string(),
            })?;
            self.conn
                .prepare_cached("INSERT INTO affected (ecosystem, name, advisory, data) VALUES (?1, ?2, ?3, ?4)")
                .and_then(|mut s| {
                    s.execute(params![
                        ecosystem_key(&a.ecosystem),
                        name_key(&a.ecosystem, &a.name),
                        rowid,
                        data
                    ])
                })
                .map_err(&e)?;
        }
        Ok(outcome)
    }

    pub fn add_source(&mut self, s: &SourceSummary) -> Result<(), DbError> {
        let data = serde_json::to_string(s).unwrap_or_default();
        self.conn
            .execute("INSERT INTO sources (data) VALUES (?1)", [data])
            .map_err(sql(&self.tmp))?;
        Ok(())
    }

    /// Index, write metadata, and atomically replace the target.
    pub fn finish(self, built_at: &str, builder: &str) -> Result<PathBuf, DbError> {
        let e = sql(&self.tmp);
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?1), ('built_at', ?2), ('builder', ?3)",
                params![SCHEMA_VERSION.to_string(), built_at, builder],
            )
            .map_err(&e)?;
        self.conn
            .execute_batch(
                "CREATE INDEX affected_key ON affected (ecosystem, name);
                 CREATE INDEX affected_adv ON affected (advisory);
                 COMMIT;
                 VACUUM;",
            )
            .map_err(&e)?;
        drop(self.conn);
        std::fs::rename(&self.tmp, &self.target).map_err(|source| DbError::Io {
            path: self.target.clone(),
            what: "moving the new database into place",
            source,
        })?;
        Ok(self.target)
    }
}

/// Removes the temporary file unless it was renamed into place.
struct TmpGuard(PathBuf);

impl Drop for TmpGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
