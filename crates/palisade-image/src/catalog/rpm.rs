//! RPM packages from the rpm database, in all three on-disk formats:
//!
//! - **SQLite** (`rpmdb.sqlite`, RHEL 9, Fedora ≥ 33, Alma/Rocky 9): table
//!   `Packages(hnum, blob)`. The database is opened *in memory* with
//!   SQLite's `sqlite3_deserialize` (rusqlite's `serialize` feature, bundled
//!   SQLite): no temporary file is written. The copy handed to SQLite is
//!   read-only, capped at [`MAX_SQLITE_BYTES`], marked as a rollback-journal
//!   database (a WAL-mode header cannot be opened from memory; an
//!   uncheckpointed `-wal` file beside it is reported as a warning), and its
//!   schema is checked to be a plain table before anything is read, so a
//!   hostile view or generated column cannot run code.
//! - **Berkeley DB hash** (`Packages`, CentOS 7, RHEL ≤ 8): every hash page's
//!   data items are read; headers live on chains of overflow pages.
//! - **NDB** (`Packages.db`, SUSE): slot pages point at checksummed blobs.
//!
//! Each stored record is an rpm header without its 8-byte magic lead:
//! big-endian index count and data size, 16-byte index entries, then the
//! data store ([`parse_header`]). All three readers and the header parser
//! bounds-check every offset and count, cap what they allocate, and report
//! damage as errors rather than panicking.
//!
//! Versions follow the OSV convention for RPM ecosystems,
//! `[epoch:]version-release`, with a zero or absent epoch left out (rpm
//! compares a missing epoch as 0, so nothing is lost).

use std::collections::HashSet;
use std::fmt;
use std::io::Read;

use palisade_model::{Ecosystem, OsInfo, Package, PackageName, SourcePackage, Version};
use rusqlite::types::ValueRef;

use super::{warning, CatalogContext, CatalogOutput, Cataloger};
use crate::fs::FileRef;
use crate::purl::PackageUrl;

/// SQLite rpmdb locations, in the order they are tried.
pub const SQLITE_PATHS: [&str; 2] = [
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
];
/// NDB rpmdb locations.
pub const NDB_PATHS: [&str; 2] = [
    "var/lib/rpm/Packages.db",
    "usr/lib/sysimage/rpm/Packages.db",
];
/// Berkeley DB rpmdb locations.
pub const BDB_PATHS: [&str; 2] = ["var/lib/rpm/Packages", "usr/lib/sysimage/rpm/Packages"];
/// SQLite write-ahead logs that would hold uncheckpointed transactions.
const WAL_PATHS: [&str; 2] = [
    "var/lib/rpm/rpmdb.sqlite-wal",
    "usr/lib/sysimage/rpm/rpmdb.sqlite-wal",
];

/// rpm's own limit on index entries in one header (`hdrchkTags`).
pub const MAX_INDEX_ENTRIES: u32 = 0xffff;
/// rpm's own limit on a header's data store (`hdrchkData`, 256 MiB).
pub const MAX_DATA_SIZE: u32 = 0x1000_0000;
/// Largest SQLite rpmdb opened (an rpmdb with 3 000 packages is ~100 MiB).
pub const MAX_SQLITE_BYTES: usize = 512 << 20;
/// Most packages read from one database.
pub const MAX_PACKAGES: usize = 100_000;
/// Longest string read from a header.
const MAX_STRING_LEN: usize = 64 << 10;

// Header tags and types (rpm's `rpmtag.h`).
const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_LICENSE: u32 = 1014;
const TAG_ARCH: u32 = 1022;
const TAG_SOURCERPM: u32 = 1044;
const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// Why an rpm header could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    #[error("header is {0} bytes, shorter than its 8-byte preamble")]
    TooShort(usize),
    #[error("header claims {0} index entries (limit {MAX_INDEX_ENTRIES})")]
    TooManyEntries(u32),
    #[error("header claims a {0}-byte data store (limit {MAX_DATA_SIZE})")]
    DataTooLarge(u32),
    #[error("header needs {need} bytes but the record has {have}")]
    Truncated { need: u64, have: usize },
    #[error("tag {tag}: {reason}")]
    BadTag { tag: u32, reason: &'static str },
    #[error("header has no {0} tag")]
    MissingTag(&'static str),
}

/// The fields of an rpm header a scanner needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmHeader {
    pub name: String,
    pub version: String,
    pub release: String,
    pub epoch: Option<u32>,
    pub arch: Option<String>,
    pub license: Option<String>,
    /// `SOURCERPM`, e.g. `openssl-3.0.7-27.el9.src.rpm`.
    pub source_rpm: Option<String>,
}

impl RpmHeader {
    /// `[epoch:]version-release`, the epoch only when non-zero.
    pub fn evr(&self) -> String {
        match self.epoch {
            Some(e) if e > 0 => format!("{e}:{}-{}", self.version, self.release),
            _ => format!("{}-{}", self.version, self.release),
        }
    }

    /// The source package from `SOURCERPM`: name and `[epoch:]version-release`.
    pub fn source_package(&self) -> Option<SourcePackage> {
        let (name, vr) = split_source_rpm(self.source_rpm.as_deref()?)?;
        let version = match self.epoch {
            Some(e) if e > 0 => format!("{e}:{vr}"),
            _ => vr.to_string(),
        };
        Some(SourcePackage {
            name: name.to_string(),
            version,
        })
    }
}

/// Split `name-version-release.src.rpm` into `name` and `version-release`.
pub fn split_source_rpm(srpm: &str) -> Option<(&str, &str)> {
    let stem = srpm
        .strip_suffix(".src.rpm")
        .or_else(|| srpm.strip_suffix(".nosrc.rpm"))?;
    let release_dash = stem.rfind('-')?;
    let version_dash = stem.get(..release_dash)?.rfind('-')?;
    let name = stem.get(..version_dash)?;
    let vr = stem.get(version_dash.checked_add(1)?..)?;
    (!name.is_empty() && !vr.starts_with('-')).then_some((name, vr))
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

/// Parse an rpm header blob as stored in the rpmdb (no magic lead).
pub fn parse_header(blob: &[u8]) -> Result<RpmHeader, HeaderError> {
    let il = be_u32(blob, 0).ok_or(HeaderError::TooShort(blob.len()))?;
    let dl = be_u32(blob, 4).ok_or(HeaderError::TooShort(blob.len()))?;
    if il > MAX_INDEX_ENTRIES {
        return Err(HeaderError::TooManyEntries(il));
    }
    if dl > MAX_DATA_SIZE {
        return Err(HeaderError::DataTooLarge(dl));
    }
    // Both fit in u64 without overflow given the limits above.
    let data_start = 8 + u64::from(il) * 16;
    let need = data_start + u64::from(dl);
    let have = blob.len();
    if need > have as u64 {
        return Err(HeaderError::Truncated { need, have });
    }
    let (Ok(data_start), Ok(data_end)) = (usize::try_from(data_start), usize::try_from(need))
    else {
        return Err(HeaderError::Truncated { need, have });
    };
    let index = blob.get(8..data_start).unwrap_or_default();
    let data = blob.get(data_start..data_end).unwrap_or_default();

    let mut name = None;
    let mut version = None;
    let mut release = None;
    let mut epoch = None;
    let mut arch = None;
    let mut license = None;
    let mut source_rpm = None;
    for entry in index.chunks_exact(16) {
        let (Some(tag), Some(ty), Some(offset), Some(count)) = (
            be_u32(entry, 0),
            be_u32(entry, 4),
            be_u32(entry, 8),
            be_u32(entry, 12),
        ) else {
            continue;
        };
        let slot = match tag {
            TAG_NAME => &mut name,
            TAG_VERSION => &mut version,
            TAG_RELEASE => &mut release,
            TAG_ARCH => &mut arch,
            TAG_LICENSE => &mut license,
            TAG_SOURCERPM => &mut source_rpm,
            TAG_EPOCH => {
                if epoch.is_none() {
                    epoch = Some(read_int32(data, tag, ty, offset, count)?);
                }
                continue;
            }
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(read_string(data, tag, ty, offset, count)?);
        }
    }
    let name = token(name.ok_or(HeaderError::MissingTag("NAME"))?, TAG_NAME)?;
    let version = token(
        version.ok_or(HeaderError::MissingTag("VERSION"))?,
        TAG_VERSION,
    )?;
    let release = token(
        release.ok_or(HeaderError::MissingTag("RELEASE"))?,
        TAG_RELEASE,
    )?;
    let arch = arch
        .filter(|a| !a.is_empty() && a != "(none)")
        .map(|a| token(a, TAG_ARCH))
        .transpose()?;
    Ok(RpmHeader {
        name,
        version,
        release,
        epoch,
        arch,
        license: license.filter(|l| !l.is_empty()),
        source_rpm: source_rpm.filter(|s| !s.is_empty()),
    })
}

fn token(s: String, tag: u32) -> Result<String, HeaderError> {
    if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(HeaderError::BadTag {
            tag,
            reason: "empty or contains whitespace or control characters",
        });
    }
    Ok(s)
}

fn read_int32(data: &[u8], tag: u32, ty: u32, offset: u32, count: u32) -> Result<u32, HeaderError> {
    if ty != TYPE_INT32 || count == 0 {
        return Err(HeaderError::BadTag {
            tag,
            reason: "expected an INT32 value",
        });
    }
    let at = usize::try_from(offset).map_err(|_| HeaderError::BadTag {
        tag,
        reason: "offset out of range",
    })?;
    be_u32(data, at).ok_or(HeaderError::BadTag {
        tag,
        reason: "offset beyond the data store",
    })
}

fn read_string(
    data: &[u8],
    tag: u32,
    ty: u32,
    offset: u32,
    count: u32,
) -> Result<String, HeaderError> {
    if !matches!(ty, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) || count == 0 {
        return Err(HeaderError::BadTag {
            tag,
            reason: "expected a string value",
        });
    }
    let start = usize::try_from(offset)
        .ok()
        .filter(|&o| o < data.len())
        .ok_or(HeaderError::BadTag {
            tag,
            reason: "offset beyond the data store",
        })?;
    let rest = data.get(start..).unwrap_or_default();
    let rest = rest.get(..MAX_STRING_LEN.saturating_add(1)).unwrap_or(rest);
    let nul = rest
        .iter()
        .position(|&b| b == 0)
        .ok_or(HeaderError::BadTag {
            tag,
            reason: "string not NUL-terminated within limits",
        })?;
    let bytes = rest.get(..nul).unwrap_or_default();
    if tag == TAG_LICENSE {
        // Free text; old packages carry Latin-1 here.
        return Ok(String::from_utf8_lossy(bytes).into_owned());
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| HeaderError::BadTag {
        tag,
        reason: "string is not valid UTF-8",
    })
}

/// Why a whole rpm database could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RpmDbError {
    #[error("not a {0} rpm database (bad magic)")]
    BadMagic(RpmDbFormat),
    #[error("unsupported rpmdb format: not SQLite, NDB or a Berkeley DB hash database")]
    UnknownFormat,
    #[error("unsupported {format} rpm database: {detail}")]
    Unsupported {
        format: RpmDbFormat,
        detail: &'static str,
    },
    #[error("{format} database is truncated: {detail}")]
    Truncated { format: RpmDbFormat, detail: String },
    #[error("Berkeley DB page size {0} is invalid")]
    BadPageSize(u32),
    #[error("NDB version {0} is not supported (only 0)")]
    NdbVersion(u32),
    #[error("database is {size} bytes, over the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
    #[error("more than {MAX_PACKAGES} records; the rest were not read")]
    TooManyRecords,
    #[error("the database references more data than it holds; reading stopped")]
    ReadBudgetExceeded,
    #[error("table Packages is missing or is not a plain table")]
    UnexpectedSchema,
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Why one record of a readable database was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    #[error("Berkeley DB page {page}: {reason}")]
    BdbPage { page: u32, reason: &'static str },
    #[error("Berkeley DB overflow chain from page {start}: {reason}")]
    BdbOverflow { start: u32, reason: &'static str },
    #[error("NDB slot {slot}: {reason}")]
    NdbSlot { slot: usize, reason: &'static str },
    #[error("SQLite row {row}: blob column is not a BLOB")]
    SqliteNotBlob { row: usize },
}

/// The three on-disk formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RpmDbFormat {
    Sqlite,
    Ndb,
    BerkeleyDb,
}

impl fmt::Display for RpmDbFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RpmDbFormat::Sqlite => "SQLite",
            RpmDbFormat::Ndb => "NDB",
            RpmDbFormat::BerkeleyDb => "Berkeley DB",
        })
    }
}

/// What a database reader hands each stored record to.
pub type Visit<'v> = dyn FnMut(Result<&[u8], RecordError>) + 'v;

/// Total bytes a reader may copy or checksum: a bound on work for databases
/// whose records all point at the same large chain.
fn read_budget(len: usize) -> usize {
    len.saturating_mul(4).saturating_add(64 << 20)
}

// ---------------------------------------------------------------- SQLite ---

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";
const SQLITE_HEADER_LEN: usize = 100;

/// Read every `Packages.blob` of a SQLite rpmdb held in memory.
pub fn read_sqlite(data: &[u8], visit: &mut Visit<'_>) -> Result<(), RpmDbError> {
    if data.len() > MAX_SQLITE_BYTES {
        return Err(RpmDbError::TooLarge {
            size: data.len(),
            limit: MAX_SQLITE_BYTES,
        });
    }
    let (Some(head), Some(rest)) = (data.get(..SQLITE_HEADER_LEN), data.get(SQLITE_HEADER_LEN..))
    else {
        return Err(RpmDbError::BadMagic(RpmDbFormat::Sqlite));
    };
    if !head.starts_with(SQLITE_MAGIC) {
        return Err(RpmDbError::BadMagic(RpmDbFormat::Sqlite));
    }
    // Bytes 18 and 19 are the file format write/read versions: 2 means WAL,
    // which the in-memory VFS cannot open. 1 (legacy journal) reads the same
    // pages.
    let mut head_copy = [0u8; SQLITE_HEADER_LEN];
    head_copy.copy_from_slice(head);
    for b in head_copy.iter_mut().skip(18).take(2) {
        if *b == 2 {
            *b = 1;
        }
    }
    let mut conn = rusqlite::Connection::open_in_memory()?;
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.deserialize_read_exact(
        rusqlite::MAIN_DB,
        (&head_copy[..]).chain(rest),
        data.len(),
        true,
    )?;
    conn.pragma_update(None, "trusted_schema", false)?;
    conn.pragma_update(None, "cell_size_check", true)?;
    check_schema(&conn)?;

    let limit = i64::try_from(MAX_PACKAGES)
        .unwrap_or(i64::MAX)
        .saturating_add(1);
    let mut stmt = conn.prepare("SELECT blob FROM main.Packages LIMIT ?1")?;
    let mut rows = stmt.query([limit])?;
    let mut n = 0usize;
    while let Some(row) = rows.next()? {
        n = n.saturating_add(1);
        if n > MAX_PACKAGES {
            return Err(RpmDbError::TooManyRecords);
        }
        match row.get_ref(0)? {
            ValueRef::Blob(b) => visit(Ok(b)),
            _ => visit(Err(RecordError::SqliteNotBlob { row: n })),
        }
    }
    Ok(())
}

/// `Packages` must be an ordinary table with no generated (hidden) columns,
/// so that reading it runs no code from the image.
fn check_schema(conn: &rusqlite::Connection) -> Result<(), RpmDbError> {
    let sql: Option<String> = conn
        .query_row(
            "SELECT sql FROM main.sqlite_schema WHERE type = 'table' AND name = 'Packages'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => RpmDbError::UnexpectedSchema,
            e => RpmDbError::Sqlite(e),
        })?;
    let sql = sql.unwrap_or_default().to_ascii_uppercase();
    if !sql.trim_start().starts_with("CREATE TABLE") {
        return Err(RpmDbError::UnexpectedSchema);
    }
    let mut stmt = conn.prepare("SELECT name, hidden FROM pragma_table_xinfo('Packages')")?;
    let mut rows = stmt.query([])?;
    let mut has_blob = false;
    while let Some(row) = rows.next()? {
        let name: String = row.get(0)?;
        let hidden: i64 = row.get(1)?;
        if hidden != 0 {
            return Err(RpmDbError::UnexpectedSchema);
        }
        has_blob |= name.eq_ignore_ascii_case("blob");
    }
    if has_blob {
        Ok(())
    } else {
        Err(RpmDbError::UnexpectedSchema)
    }
}

// ------------------------------------------------------------------- NDB ---

const NDB_MAGIC: &[u8; 4] = b"RpmP";
const NDB_SLOT_MAGIC: &[u8; 4] = b"Slot";
const NDB_BLOB_HEAD_MAGIC: &[u8; 4] = b"BlbS";
const NDB_BLOB_TAIL_MAGIC: &[u8; 4] = b"BlbE";
const NDB_HEADER_LEN: usize = 32;
const NDB_PAGE: usize = 4096;
const NDB_SLOT: usize = 16;
const NDB_BLK: usize = 16;
const NDB_BLOB_HEAD: usize = 16;
const NDB_BLOB_TAIL: usize = 12;

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(bytes))
}

/// Adler-32 (RFC 1950), which NDB uses to checksum each blob.
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 is the longest run whose sums cannot overflow u32.
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a = a.wrapping_add(u32::from(x));
            b = b.wrapping_add(a);
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// Read every package blob of an NDB `Packages.db` (little-endian header,
/// 4 KiB slot pages of 16-byte slots, blobs in 16-byte blocks framed by a
/// head, a tail and an Adler-32).
pub fn read_ndb(data: &[u8], visit: &mut Visit<'_>) -> Result<(), RpmDbError> {
    if data.get(..4) != Some(&NDB_MAGIC[..]) || data.len() < NDB_HEADER_LEN {
        return Err(RpmDbError::BadMagic(RpmDbFormat::Ndb));
    }
    let version = le_u32(data, 4).unwrap_or(u32::MAX);
    if version != 0 {
        return Err(RpmDbError::NdbVersion(version));
    }
    let slot_pages = le_u32(data, 12)
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0);
    let slots_end = slot_pages
        .checked_mul(NDB_PAGE)
        .filter(|&e| e <= data.len());
    let Some(slots_end) = slots_end.filter(|_| slot_pages > 0) else {
        return Err(RpmDbError::Truncated {
            format: RpmDbFormat::Ndb,
            detail: format!("{slot_pages} slot pages do not fit in {} bytes", data.len()),
        });
    };
    let min_blkoff = slots_end / NDB_BLK;
    let mut budget = read_budget(data.len());
    let mut found = 0usize;
    for (slot_no, at) in (NDB_HEADER_LEN..slots_end).step_by(NDB_SLOT).enumerate() {
        let slot = slot_no.saturating_add(NDB_HEADER_LEN / NDB_SLOT);
        let bad = |reason| RecordError::NdbSlot { slot, reason };
        if data.get(at..at.saturating_add(4)) != Some(&NDB_SLOT_MAGIC[..]) {
            visit(Err(bad("bad slot magic")));
            continue;
        }
        let (Some(pkgidx), Some(blkoff), Some(blkcnt)) = (
            le_u32(data, at + 4),
            le_u32(data, at + 8),
            le_u32(data, at + 12),
        ) else {
            continue;
        };
        if blkoff == 0 {
            continue; // free slot
        }
        found = found.saturating_add(1);
        if found > MAX_PACKAGES {
            return Err(RpmDbError::TooManyRecords);
        }
        let (Ok(blkoff), Ok(blkcnt)) = (usize::try_from(blkoff), usize::try_from(blkcnt)) else {
            visit(Err(bad("block range out of bounds")));
            continue;
        };
        if pkgidx == 0 || blkcnt == 0 || blkoff < min_blkoff {
            visit(Err(bad("invalid slot entry")));
            continue;
        }
        let range = blkoff.checked_mul(NDB_BLK).zip(
            blkoff
                .checked_add(blkcnt)
                .and_then(|e| e.checked_mul(NDB_BLK)),
        );
        let Some((start, end)) = range.filter(|&(_, end)| end <= data.len()) else {
            visit(Err(bad("blob beyond the end of the file")));
            continue;
        };
        let Some(area) = data.get(start..end) else {
            continue;
        };
        if area.len() > budget {
            return Err(RpmDbError::ReadBudgetExceeded);
        }
        budget = budget.saturating_sub(area.len());
        match ndb_blob(area, pkgidx) {
            Ok(blob) => visit(Ok(blob)),
            Err(reason) => visit(Err(bad(reason))),
        }
    }
    Ok(())
}

/// Check one blob's framing and checksum; return its payload.
fn ndb_blob(area: &[u8], pkgidx: u32) -> Result<&[u8], &'static str> {
    if area.get(..4) != Some(&NDB_BLOB_HEAD_MAGIC[..]) {
        return Err("bad blob head magic");
    }
    if le_u32(area, 4) != Some(pkgidx) {
        return Err("blob belongs to another package");
    }
    let bloblen = le_u32(area, 12)
        .and_then(|l| usize::try_from(l).ok())
        .ok_or("bad blob length")?;
    let framed = bloblen
        .checked_add(NDB_BLOB_HEAD + NDB_BLOB_TAIL + NDB_BLK - 1)
        .map(|n| n / NDB_BLK * NDB_BLK);
    if framed != Some(area.len()) {
        return Err("blob length does not match its block count");
    }
    let tail_at = area
        .len()
        .checked_sub(NDB_BLOB_TAIL)
        .ok_or("blob too short")?;
    let (Some(sum), Some(len2), Some(magic)) = (
        le_u32(area, tail_at),
        le_u32(area, tail_at.saturating_add(4)),
        area.get(tail_at.saturating_add(8)..),
    ) else {
        return Err("blob tail missing");
    };
    if magic != &NDB_BLOB_TAIL_MAGIC[..] || usize::try_from(len2).ok() != Some(bloblen) {
        return Err("bad blob tail");
    }
    if adler32(area.get(..tail_at).unwrap_or_default()) != sum {
        return Err("blob checksum mismatch");
    }
    area.get(NDB_BLOB_HEAD..NDB_BLOB_HEAD.saturating_add(bloblen))
        .ok_or("blob length out of bounds")
}

// ----------------------------------------------------------- Berkeley DB ---

const BDB_HASH_MAGIC: u32 = 0x0006_1561;
const BDB_PAGE_HEADER: usize = 26;
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASH: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;
const H_OFFPAGE_LEN: usize = 12;

/// A Berkeley DB file's byte order, taken from where its magic reads right.
#[derive(Clone, Copy)]
struct Bdb<'a> {
    data: &'a [u8],
    little: bool,
    page_size: usize,
    pages: usize,
}

impl Bdb<'_> {
    fn u32_at(&self, b: &[u8], at: usize) -> Option<u32> {
        let bytes: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.little {
            u32::from_le_bytes(bytes)
        } else {
            u32::from_be_bytes(bytes)
        })
    }

    fn u16_at(&self, b: &[u8], at: usize) -> Option<usize> {
        let bytes: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(usize::from(if self.little {
            u16::from_le_bytes(bytes)
        } else {
            u16::from_be_bytes(bytes)
        }))
    }

    fn page(&self, pgno: usize) -> Option<&[u8]> {
        if pgno >= self.pages {
            return None;
        }
        let start = pgno.checked_mul(self.page_size)?;
        self.data.get(start..start.checked_add(self.page_size)?)
    }

    /// Follow an overflow chain, appending at most `total` bytes.
    fn overflow(&self, start: u32, total: usize) -> Result<Vec<u8>, &'static str> {
        let mut out = Vec::with_capacity(total);
        let mut pgno = start;
        let mut hops = 0usize;
        while out.len() < total {
            hops = hops.saturating_add(1);
            if pgno == 0 || hops > self.pages {
                return Err("chain ends early or loops");
            }
            let page = usize::try_from(pgno)
                .ok()
                .and_then(|p| self.page(p))
                .ok_or("page beyond the end of the file")?;
            if page.get(25) != Some(&P_OVERFLOW) {
                return Err("page is not an overflow page");
            }
            let len = self.u16_at(page, 22).ok_or("short page")?;
            let chunk = page
                .get(BDB_PAGE_HEADER..BDB_PAGE_HEADER.saturating_add(len))
                .ok_or("overflow length beyond the page")?;
            let want = total.saturating_sub(out.len()).min(chunk.len());
            out.extend_from_slice(chunk.get(..want).unwrap_or_default());
            pgno = self.u32_at(page, 16).ok_or("short page")?;
        }
        Ok(out)
    }
}

/// Read every value of an rpm Berkeley DB hash database (`Packages`).
pub fn read_bdb(data: &[u8], visit: &mut Visit<'_>) -> Result<(), RpmDbError> {
    let magic_le = le_u32(data, 12);
    let little = if magic_le == Some(BDB_HASH_MAGIC) {
        true
    } else if be_u32(data, 12) == Some(BDB_HASH_MAGIC) {
        false
    } else {
        return Err(RpmDbError::BadMagic(RpmDbFormat::BerkeleyDb));
    };
    let mut db = Bdb {
        data,
        little,
        page_size: 0,
        pages: 0,
    };
    let page_size = db.u32_at(data, 20).unwrap_or(0);
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(RpmDbError::BadPageSize(page_size));
    }
    db.page_size = usize::try_from(page_size).map_err(|_| RpmDbError::BadPageSize(page_size))?;
    // Byte 24 is the encryption algorithm, bit 0 of byte 26 the checksum
    // flag: both grow the page header, which rpm never asks for.
    if data.get(24).is_some_and(|&b| b != 0) {
        return Err(RpmDbError::Unsupported {
            format: RpmDbFormat::BerkeleyDb,
            detail: "encrypted database",
        });
    }
    if data.get(26).is_some_and(|&b| b & 1 != 0) {
        return Err(RpmDbError::Unsupported {
            format: RpmDbFormat::BerkeleyDb,
            detail: "page checksums",
        });
    }
    let in_file = data.len() / db.page_size;
    let last_pgno = db
        .u32_at(data, 32)
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0);
    db.pages = in_file.min(last_pgno.saturating_add(1));
    if in_file <= last_pgno {
        tracing::debug!(
            in_file,
            last_pgno,
            "Berkeley DB shorter than its metadata says"
        );
    }

    let mut budget = read_budget(data.len());
    let mut found = 0usize;
    for pgno in 1..db.pages {
        let Some(page) = db.page(pgno) else {
            break;
        };
        let page_no = u32::try_from(pgno).unwrap_or(u32::MAX);
        let ty = page.get(25).copied().unwrap_or(0);
        if ty != P_HASH && ty != P_HASH_UNSORTED {
            continue;
        }
        let entries = db.u16_at(page, 20).unwrap_or(0);
        let index_end = entries.saturating_mul(2).saturating_add(BDB_PAGE_HEADER);
        if index_end > db.page_size {
            visit(Err(RecordError::BdbPage {
                page: page_no,
                reason: "item index overflows the page",
            }));
            continue;
        }
        let offset =
            |i: usize| db.u16_at(page, BDB_PAGE_HEADER.saturating_add(i.saturating_mul(2)));
        // Items are stored as key/data pairs: keys at even, data at odd indexes.
        for i in (1..entries).step_by(2) {
            let (Some(key_off), Some(off), Some(prev)) = (offset(i - 1), offset(i), offset(i - 1))
            else {
                continue;
            };
            // An item ends where the previous one (lower index) starts.
            let key_end = if i == 1 {
                Some(db.page_size)
            } else {
                offset(i - 2)
            };
            let key = key_end.and_then(|end| page.get(key_off..end));
            // rpm's record 0 holds the next instance number, not a header.
            if key.is_some_and(|k| {
                k.first() == Some(&H_KEYDATA) && k.get(1..) == Some(&[0, 0, 0, 0][..])
            }) {
                continue;
            }
            let bad = |reason| RecordError::BdbPage {
                page: page_no,
                reason,
            };
            if off < index_end || off >= prev {
                visit(Err(bad("item offset out of order or out of bounds")));
                continue;
            }
            let item = page.get(off..prev).unwrap_or_default();
            match item.first().copied() {
                Some(H_OFFPAGE) if item.len() >= H_OFFPAGE_LEN => {
                    let (Some(start), Some(tlen)) = (db.u32_at(item, 4), db.u32_at(item, 8)) else {
                        continue;
                    };
                    let tlen = usize::try_from(tlen).unwrap_or(usize::MAX);
                    if tlen > data.len() {
                        visit(Err(RecordError::BdbOverflow {
                            start,
                            reason: "item longer than the file",
                        }));
                        continue;
                    }
                    if tlen > budget {
                        return Err(RpmDbError::ReadBudgetExceeded);
                    }
                    budget = budget.saturating_sub(tlen);
                    found = found.saturating_add(1);
                    if found > MAX_PACKAGES {
                        return Err(RpmDbError::TooManyRecords);
                    }
                    match db.overflow(start, tlen) {
                        Ok(value) => visit(Ok(&value)),
                        Err(reason) => visit(Err(RecordError::BdbOverflow { start, reason })),
                    }
                }
                Some(H_KEYDATA) => {
                    found = found.saturating_add(1);
                    if found > MAX_PACKAGES {
                        return Err(RpmDbError::TooManyRecords);
                    }
                    visit(Ok(item.get(1..).unwrap_or_default()));
                }
                _ => visit(Err(bad("unsupported item type"))),
            }
        }
    }
    Ok(())
}

/// Recognise an rpmdb by its first bytes.
pub fn sniff(data: &[u8]) -> Option<RpmDbFormat> {
    if data.starts_with(SQLITE_MAGIC) {
        Some(RpmDbFormat::Sqlite)
    } else if data.starts_with(NDB_MAGIC) {
        Some(RpmDbFormat::Ndb)
    } else if le_u32(data, 12) == Some(BDB_HASH_MAGIC) || be_u32(data, 12) == Some(BDB_HASH_MAGIC) {
        Some(RpmDbFormat::BerkeleyDb)
    } else {
        None
    }
}

/// Read a database of any supported format, picked by its magic.
pub fn read_any(data: &[u8], visit: &mut Visit<'_>) -> Result<RpmDbFormat, RpmDbError> {
    let format = sniff(data).ok_or(RpmDbError::UnknownFormat)?;
    match format {
        RpmDbFormat::Sqlite => read_sqlite(data, visit),
        RpmDbFormat::Ndb => read_ndb(data, visit),
        RpmDbFormat::BerkeleyDb => read_bdb(data, visit),
    }?;
    Ok(format)
}

// ------------------------------------------------------------- Cataloger ---

/// Ecosystem and purl namespace for an rpm-based distribution's `ID`.
fn flavour(os: Option<&OsInfo>) -> (String, Option<String>) {
    let Some(family) = os.map(|o| o.family.as_str()) else {
        return ("RPM".to_string(), None);
    };
    let (eco, ns) = match family {
        "rhel" => (Ecosystem::RED_HAT, "redhat"),
        "almalinux" => (Ecosystem::ALMALINUX, "almalinux"),
        "rocky" => (Ecosystem::ROCKY, "rocky"),
        "centos" => ("CentOS", "centos"),
        "fedora" => ("Fedora", "fedora"),
        "ol" => ("Oracle Linux", "oracle"),
        "amzn" => ("Amazon Linux", "amazon"),
        f if f.starts_with("opensuse") => (Ecosystem::OPENSUSE, "opensuse"),
        "sles" | "sled" | "sles_sap" | "sle-micro" | "sl-micro" | "suse" => {
            (Ecosystem::SUSE, "suse")
        }
        other => (other, other),
    };
    (eco.to_string(), Some(ns.to_string()))
}

fn to_package(h: &RpmHeader, file: FileRef<'_>, os: Option<&OsInfo>) -> Result<Package, String> {
    let (ecosystem, namespace) = flavour(os);
    let distro = os.map(super::distro_qualifier);
    let epoch = h.epoch.filter(|&e| e > 0).map(|e| e.to_string());
    let mut purl =
        PackageUrl::new("rpm", &h.name).map_err(|e| format!("package {}: {e}", h.name))?;
    if let Some(ns) = &namespace {
        purl = purl.with_namespace(ns);
    }
    let purl = purl
        .with_version(&format!("{}-{}", h.version, h.release))
        .with_optional_qualifier("arch", h.arch.as_deref())
        .and_then(|p| p.with_optional_qualifier("epoch", epoch.as_deref()))
        .and_then(|p| p.with_optional_qualifier("distro", distro.as_deref()))
        .map_err(|e| format!("package {}: {e}", h.name))?;
    Ok(Package {
        name: PackageName::new(h.name.clone()),
        version: Version::new(h.evr()),
        ecosystem: Ecosystem::new(ecosystem),
        purl: purl.to_string(),
        layer: file.layer.cloned(),
        path: file.path.to_string(),
        source: h.source_package(),
        arch: h.arch.clone(),
        licenses: h.license.iter().cloned().collect(),
    })
}

/// Reads the rpm database.
#[derive(Debug, Clone, Copy, Default)]
pub struct RpmCataloger;

impl RpmCataloger {
    /// Catalog one database file; returns how many packages it gave.
    fn catalog_file(file: FileRef<'_>, os: Option<&OsInfo>, out: &mut CatalogOutput) -> usize {
        let mut seen: HashSet<(String, String, Option<String>)> = HashSet::new();
        let mut record = 0usize;
        let mut packages = Vec::new();
        let mut warnings = Vec::new();
        let result = read_any(file.data, &mut |r: Result<&[u8], RecordError>| {
            record = record.saturating_add(1);
            let blob = match r {
                Ok(b) => b,
                Err(e) => {
                    warnings.push(warning(file.path, format!("record {record}: {e}")));
                    return;
                }
            };
            let h = match parse_header(blob) {
                Ok(h) => h,
                Err(e) => {
                    warnings.push(warning(file.path, format!("record {record}: {e}")));
                    return;
                }
            };
            if h.name == "gpg-pubkey" || !seen.insert((h.name.clone(), h.evr(), h.arch.clone())) {
                return;
            }
            match to_package(&h, file, os) {
                Ok(p) => packages.push(p),
                Err(msg) => warnings.push(warning(file.path, msg)),
            }
        });
        match result {
            Ok(format) => {
                tracing::debug!(path = file.path, %format, packages = packages.len(), "rpmdb read")
            }
            Err(e) => warnings.push(warning(file.path, format!("cannot read rpm database: {e}"))),
        }
        let n = packages.len();
        out.packages.extend(packages);
        out.warnings.extend(warnings);
        n
    }
}

impl Cataloger for RpmCataloger {
    fn name(&self) -> &'static str {
        "rpm"
    }

    fn wants(&self, path: &str) -> bool {
        SQLITE_PATHS.contains(&path)
            || NDB_PATHS.contains(&path)
            || BDB_PATHS.contains(&path)
            || WAL_PATHS.contains(&path)
    }

    fn catalog(&self, ctx: &CatalogContext<'_>, out: &mut CatalogOutput) {
        // rpm uses one backend; a leftover database of another format (say a
        // Berkeley DB left behind by a migration) is ignored once one gave
        // packages. A link such as `var/lib/rpm -> ../../usr/lib/sysimage/rpm`
        // makes two names one file: read it once.
        let mut read = HashSet::new();
        let mut done = false;
        for path in SQLITE_PATHS.iter().chain(&NDB_PATHS).chain(&BDB_PATHS) {
            let Some(file) = ctx.fs.read(path) else {
                continue;
            };
            if !read.insert(file.path) {
                continue;
            }
            if done {
                tracing::debug!(
                    path = file.path,
                    "another rpm database already read; ignored"
                );
                continue;
            }
            done = Self::catalog_file(file, ctx.os, out) > 0;
        }
        for wal in WAL_PATHS {
            if let Some(file) = ctx.fs.read(wal).filter(|f| !f.data.is_empty()) {
                if read.insert(file.path) {
                    out.warnings.push(warning(
                        file.path,
                        "rpm database has an uncheckpointed SQLite write-ahead log; packages \
                         installed in its transactions may be missing",
                    ));
                }
            }
        }
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
    use crate::fs::FsView;

    /// A header tag value for [`header`].
    enum Val<'a> {
        S(&'a str),
        /// Raw bytes stored as a STRING (for non-UTF-8 tests).
        SBytes(&'a [u8]),
        I18n(&'a str),
        I32(u32),
        Bin(&'a [u8]),
        Raw {
            ty: u32,
            offset: u32,
            count: u32,
        },
    }

    /// Build an rpm header blob (no magic lead), the way rpm lays it out:
    /// index entries, then the data store with INT32 values 4-aligned.
    fn header(tags: &[(u32, Val<'_>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut store: Vec<u8> = Vec::new();
        for (tag, val) in tags {
            let (ty, offset, count) = match val {
                Val::S(s) | Val::I18n(s) => {
                    let off = store.len() as u32;
                    store.extend_from_slice(s.as_bytes());
                    store.push(0);
                    (
                        if matches!(val, Val::S(_)) {
                            TYPE_STRING
                        } else {
                            TYPE_I18NSTRING
                        },
                        off,
                        1,
                    )
                }
                Val::I32(n) => {
                    while !store.len().is_multiple_of(4) {
                        store.push(0);
                    }
                    let off = store.len() as u32;
                    store.extend_from_slice(&n.to_be_bytes());
                    (TYPE_INT32, off, 1)
                }
                Val::SBytes(b) => {
                    let off = store.len() as u32;
                    store.extend_from_slice(b);
                    store.push(0);
                    (TYPE_STRING, off, 1)
                }
                Val::Bin(b) => {
                    let off = store.len() as u32;
                    store.extend_from_slice(b);
                    (7, off, b.len() as u32)
                }
                Val::Raw { ty, offset, count } => (*ty, *offset, *count),
            };
            for v in [*tag, ty, offset, count] {
                index.extend_from_slice(&v.to_be_bytes());
            }
        }
        let mut blob = Vec::new();
        blob.extend_from_slice(&(tags.len() as u32).to_be_bytes());
        blob.extend_from_slice(&(store.len() as u32).to_be_bytes());
        blob.extend_from_slice(&index);
        blob.extend_from_slice(&store);
        blob
    }

    /// A realistic package header (with a region tag and unrelated tags).
    fn package(
        name: &str,
        version: &str,
        release: &str,
        epoch: Option<u32>,
        arch: &str,
    ) -> Vec<u8> {
        let srpm = format!("{name}-{version}-{release}.src.rpm");
        let mut tags = vec![
            (
                63,
                Val::Bin(&[0, 0, 0, 63, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0x90, 0, 0, 0, 16]),
            ),
            (100, Val::S("C")),
            (TAG_NAME, Val::S(name)),
            (TAG_VERSION, Val::S(version)),
            (TAG_RELEASE, Val::S(release)),
            (1004, Val::I18n("A package")),
            (1006, Val::I32(1_700_000_000)),
            (TAG_LICENSE, Val::S("GPL-2.0-or-later AND MIT")),
            (TAG_ARCH, Val::S(arch)),
            (TAG_SOURCERPM, Val::S(&srpm)),
        ];
        if let Some(e) = epoch {
            tags.push((TAG_EPOCH, Val::I32(e)));
        }
        header(&tags)
    }

    #[test]
    fn parses_a_header() {
        let h = parse_header(&package(
            "openssl-libs",
            "3.0.7",
            "27.el9",
            Some(1),
            "x86_64",
        ))
        .unwrap();
        assert_eq!(h.name, "openssl-libs");
        assert_eq!(h.evr(), "1:3.0.7-27.el9");
        assert_eq!(h.arch.as_deref(), Some("x86_64"));
        assert_eq!(h.license.as_deref(), Some("GPL-2.0-or-later AND MIT"));
        assert_eq!(
            h.source_package(),
            Some(SourcePackage {
                name: "openssl-libs".into(),
                version: "1:3.0.7-27.el9".into()
            })
        );
        let h = parse_header(&package("bash", "5.1.8", "9.el9", Some(0), "x86_64")).unwrap();
        assert_eq!(h.evr(), "5.1.8-9.el9");
        assert_eq!(h.epoch, Some(0));
    }

    #[test]
    fn source_rpm_names() {
        assert_eq!(
            split_source_rpm("openssl-3.0.7-27.el9.src.rpm"),
            Some(("openssl", "3.0.7-27.el9"))
        );
        assert_eq!(
            split_source_rpm("python-setuptools-53.0.0-12.el9.src.rpm"),
            Some(("python-setuptools", "53.0.0-12.el9"))
        );
        assert_eq!(
            split_source_rpm("kernel-5.14.0-362.el9.nosrc.rpm"),
            Some(("kernel", "5.14.0-362.el9"))
        );
        assert_eq!(split_source_rpm("foo-1.src.rpm"), None);
        assert_eq!(split_source_rpm("-1-2.src.rpm"), None);
        assert_eq!(split_source_rpm("foo-1-2.rpm"), None);
        assert_eq!(split_source_rpm(""), None);
    }

    #[test]
    fn malformed_headers_are_errors() {
        let good = package("a", "1", "1", None, "noarch");
        assert_eq!(parse_header(&[]), Err(HeaderError::TooShort(0)));
        assert_eq!(parse_header(&good[..7]), Err(HeaderError::TooShort(7)));
        // Every truncation is an error, never a panic.
        for n in 0..good.len() {
            assert!(parse_header(&good[..n]).is_err(), "truncated at {n}");
        }
        let mut absurd = good.clone();
        absurd[..4].copy_from_slice(&0xffff_ffffu32.to_be_bytes());
        assert_eq!(
            parse_header(&absurd),
            Err(HeaderError::TooManyEntries(u32::MAX))
        );
        let mut absurd = good.clone();
        absurd[4..8].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
        assert_eq!(
            parse_header(&absurd),
            Err(HeaderError::DataTooLarge(0x7fff_ffff))
        );
        let mut big = good.clone();
        big[..4].copy_from_slice(&0xffffu32.to_be_bytes());
        assert!(matches!(
            parse_header(&big),
            Err(HeaderError::Truncated { .. })
        ));

        let missing = header(&[(TAG_NAME, Val::S("a")), (TAG_VERSION, Val::S("1"))]);
        assert_eq!(
            parse_header(&missing),
            Err(HeaderError::MissingTag("RELEASE"))
        );
        let wild = header(&[
            (
                TAG_NAME,
                Val::Raw {
                    ty: TYPE_STRING,
                    offset: 0xffff_fff0,
                    count: 1,
                },
            ),
            (TAG_VERSION, Val::S("1")),
            (TAG_RELEASE, Val::S("1")),
        ]);
        assert!(matches!(
            parse_header(&wild),
            Err(HeaderError::BadTag { tag: TAG_NAME, .. })
        ));
        let unterminated = {
            let mut h = header(&[
                (TAG_NAME, Val::S("abc")),
                (TAG_VERSION, Val::S("1")),
                (TAG_RELEASE, Val::S("1")),
            ]);
            let last = h.len() - 1;
            h[last] = b'x';
            h
        };
        assert!(matches!(
            parse_header(&unterminated),
            Err(HeaderError::BadTag {
                tag: TAG_RELEASE,
                ..
            })
        ));
        let non_utf8 = header(&[
            (TAG_NAME, Val::SBytes(b"\xff\xfe")),
            (TAG_VERSION, Val::S("1")),
            (TAG_RELEASE, Val::S("1")),
        ]);
        assert!(matches!(
            parse_header(&non_utf8),
            Err(HeaderError::BadTag { tag: TAG_NAME, .. })
        ));
        let bad_epoch = header(&[
            (TAG_NAME, Val::S("a")),
            (TAG_VERSION, Val::S("1")),
            (TAG_RELEASE, Val::S("1")),
            (
                TAG_EPOCH,
                Val::Raw {
                    ty: TYPE_INT32,
                    offset: 4000,
                    count: 1,
                },
            ),
        ]);
        assert!(matches!(
            parse_header(&bad_epoch),
            Err(HeaderError::BadTag { tag: TAG_EPOCH, .. })
        ));
        let spacey = header(&[
            (TAG_NAME, Val::S("a b")),
            (TAG_VERSION, Val::S("1")),
            (TAG_RELEASE, Val::S("1")),
        ]);
        assert!(parse_header(&spacey).is_err());
        // A Latin-1 licence is kept, lossily.
        let latin = header(&[
            (TAG_NAME, Val::S("a")),
            (TAG_VERSION, Val::S("1")),
            (TAG_RELEASE, Val::S("1")),
            (TAG_LICENSE, Val::SBytes(b"Copyright \xa9")),
        ]);
        assert_eq!(
            parse_header(&latin).unwrap().license.as_deref(),
            Some("Copyright \u{fffd}")
        );
    }

    /// Build an rpmdb.sqlite the way rpm lays it out; `wal` selects WAL mode.
    fn sqlite_db(blobs: &[Vec<u8>], wal: bool) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rpmdb.sqlite");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            if wal {
                conn.pragma_update(None, "journal_mode", "WAL").unwrap();
            }
            conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL);
                 CREATE TABLE IF NOT EXISTS 'Name' (key TEXT NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL, FOREIGN KEY (hnum) REFERENCES 'Packages'(hnum));",
            )
            .unwrap();
            for b in blobs {
                conn.execute("INSERT INTO Packages (blob) VALUES (?1)", [b])
                    .unwrap();
            }
        }
        std::fs::read(&path).unwrap()
    }

    fn os(family: &str, version: &str) -> OsInfo {
        OsInfo {
            family: family.into(),
            version: version.into(),
            pretty_name: None,
        }
    }

    fn run(fs: &FsView, os: Option<&OsInfo>) -> CatalogOutput {
        let mut out = CatalogOutput::default();
        RpmCataloger.catalog(&CatalogContext { fs, os }, &mut out);
        out
    }

    fn el9_blobs() -> Vec<Vec<u8>> {
        vec![
            package("bash", "5.1.8", "9.el9", None, "x86_64"),
            package("openssl-libs", "3.0.7", "27.el9", Some(1), "x86_64"),
            header(&[
                (TAG_NAME, Val::S("gpg-pubkey")),
                (TAG_VERSION, Val::S("fd431d51")),
                (TAG_RELEASE, Val::S("4ae0493b")),
            ]),
            package("tzdata", "2024a", "1.el9", None, "noarch"),
            b"\x00\x00\x00\x01garbage".to_vec(),
        ]
    }

    #[test]
    fn catalogs_sqlite_rpmdb() {
        for wal in [false, true] {
            let db = sqlite_db(&el9_blobs(), wal);
            if wal {
                assert_eq!(&db[18..20], &[2, 2], "test database is in WAL mode");
            }
            let fs = FsView::from_files([("usr/lib/sysimage/rpm/rpmdb.sqlite", db)]);
            let rhel = os("rhel", "9.3");
            let out = run(&fs, Some(&rhel));
            let got: Vec<(&str, &str)> = out
                .packages
                .iter()
                .map(|p| (p.name.as_str(), p.version.as_str()))
                .collect();
            assert_eq!(
                got,
                [
                    ("bash", "5.1.8-9.el9"),
                    ("openssl-libs", "1:3.0.7-27.el9"),
                    ("tzdata", "2024a-1.el9")
                ]
            );
            let ssl = &out.packages[1];
            assert_eq!(ssl.ecosystem.as_str(), "Red Hat");
            assert_eq!(
                ssl.purl,
                "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rhel-9.3&epoch=1"
            );
            assert_eq!(
                ssl.source.as_ref().map(|s| s.name.as_str()),
                Some("openssl-libs")
            );
            assert_eq!(ssl.licenses, ["GPL-2.0-or-later AND MIT"]);
            assert_eq!(ssl.path, "usr/lib/sysimage/rpm/rpmdb.sqlite");
            assert_eq!(
                out.packages[2].purl,
                "pkg:rpm/redhat/tzdata@2024a-1.el9?arch=noarch&distro=rhel-9.3"
            );
            // The garbage record is a warning that names the file.
            assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
            assert_eq!(
                out.warnings[0].location,
                "usr/lib/sysimage/rpm/rpmdb.sqlite"
            );
            assert!(
                out.warnings[0].message.contains("record 5"),
                "{}",
                out.warnings[0].message
            );
        }
    }

    #[test]
    fn ecosystems_per_distribution() {
        let db = sqlite_db(&[package("bash", "5.1.8", "9.el9", None, "aarch64")], false);
        let fs = FsView::from_files([("var/lib/rpm/rpmdb.sqlite", db)]);
        for (family, eco, ns) in [
            ("almalinux", "AlmaLinux", "almalinux"),
            ("rocky", "Rocky Linux", "rocky"),
            ("opensuse-leap", "openSUSE", "opensuse"),
            ("sles", "SUSE", "suse"),
            ("fedora", "Fedora", "fedora"),
        ] {
            let out = run(&fs, Some(&os(family, "9")));
            assert_eq!(out.packages[0].ecosystem.as_str(), eco);
            assert_eq!(
                out.packages[0].purl,
                format!("pkg:rpm/{ns}/bash@5.1.8-9.el9?arch=aarch64&distro={family}-9")
            );
        }
        let out = run(&fs, None);
        assert_eq!(
            out.packages[0].purl,
            "pkg:rpm/bash@5.1.8-9.el9?arch=aarch64"
        );
    }

    #[test]
    fn hostile_sqlite_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for (i, schema) in [
            "CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT zeroblob(10) AS blob FROM c",
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB GENERATED ALWAYS AS (zeroblob(100000000)))",
            "CREATE TABLE Other (x)",
        ]
        .iter()
        .enumerate()
        {
            let path = dir.path().join(format!("{i}.sqlite"));
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(schema).unwrap();
            drop(conn);
            let db = std::fs::read(&path).unwrap();
            let mut n = 0;
            let r = read_sqlite(&db, &mut |_| n += 1);
            assert!(matches!(r, Err(RpmDbError::UnexpectedSchema)), "{schema}: {r:?}");
            assert_eq!(n, 0);
        }
        // Corrupt page data: an error or fewer rows, never a panic.
        let mut db = sqlite_db(&el9_blobs(), false);
        let len = db.len();
        for b in db[len / 2..].iter_mut() {
            *b = 0x5a;
        }
        let _ = read_sqlite(&db, &mut |_| {});
        let mut n = 0;
        assert!(read_sqlite(b"SQLite format 3\0short", &mut |_| n += 1).is_err());
        assert!(read_sqlite(&db[..100], &mut |_| n += 1).is_err());
        assert_eq!(n, 0);
    }

    // ------------------------------------------------------------ NDB ---

    /// Build an NDB Packages.db holding `blobs` (slot page, then blobs).
    fn ndb_db(blobs: &[Vec<u8>]) -> Vec<u8> {
        let mut db = vec![0u8; NDB_PAGE];
        db[..4].copy_from_slice(NDB_MAGIC);
        db[8..12].copy_from_slice(&1u32.to_le_bytes());
        db[12..16].copy_from_slice(&1u32.to_le_bytes());
        db[16..20].copy_from_slice(&(blobs.len() as u32 + 1).to_le_bytes());
        for slot in (NDB_HEADER_LEN..NDB_PAGE).step_by(NDB_SLOT) {
            db[slot..slot + 4].copy_from_slice(NDB_SLOT_MAGIC);
        }
        for (i, blob) in blobs.iter().enumerate() {
            let pkgidx = i as u32 + 1;
            let blkoff = db.len() / NDB_BLK;
            let mut area = Vec::new();
            area.extend_from_slice(NDB_BLOB_HEAD_MAGIC);
            area.extend_from_slice(&pkgidx.to_le_bytes());
            area.extend_from_slice(&1_700_000_000u32.to_le_bytes());
            area.extend_from_slice(&(blob.len() as u32).to_le_bytes());
            area.extend_from_slice(blob);
            while !(area.len() + NDB_BLOB_TAIL).is_multiple_of(NDB_BLK) {
                area.push(0);
            }
            let sum = adler32(&area);
            area.extend_from_slice(&sum.to_le_bytes());
            area.extend_from_slice(&(blob.len() as u32).to_le_bytes());
            area.extend_from_slice(NDB_BLOB_TAIL_MAGIC);
            let blkcnt = area.len() / NDB_BLK;
            db.extend_from_slice(&area);
            let slot = NDB_HEADER_LEN + i * NDB_SLOT;
            db[slot + 4..slot + 8].copy_from_slice(&pkgidx.to_le_bytes());
            db[slot + 8..slot + 12].copy_from_slice(&(blkoff as u32).to_le_bytes());
            db[slot + 12..slot + 16].copy_from_slice(&(blkcnt as u32).to_le_bytes());
        }
        db
    }

    #[test]
    fn adler32_reference_values() {
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        let long = vec![0xffu8; 100_000];
        // Computed independently with Python's zlib.adler32.
        assert_eq!(adler32(&long), 0x149a_302c);
    }

    #[test]
    fn catalogs_ndb_rpmdb() {
        let blobs = vec![
            package("glibc", "2.38", "150600.14.5.1", None, "x86_64"),
            package("libzypp", "17.31.0", "150400.3.3.1", Some(2), "x86_64"),
        ];
        let db = ndb_db(&blobs);
        let mut fs = FsView::from_files([("usr/lib/sysimage/rpm/Packages.db", db.clone())]);
        fs.insert_symlink(
            "var/lib/rpm".into(),
            "../../usr/lib/sysimage/rpm".into(),
            None,
        );
        let out = run(&fs, Some(&os("sles", "15.6")));
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        let got: Vec<&str> = out.packages.iter().map(|p| p.version.as_str()).collect();
        assert_eq!(got, ["2.38-150600.14.5.1", "2:17.31.0-150400.3.3.1"]);
        assert_eq!(out.packages[0].ecosystem.as_str(), "SUSE");
        assert_eq!(out.packages[0].path, "usr/lib/sysimage/rpm/Packages.db");

        // A flipped payload byte fails the checksum: a warning, the rest read.
        let mut bad = db.clone();
        bad[NDB_PAGE + NDB_BLOB_HEAD + 20] ^= 1;
        let fs = FsView::from_files([("var/lib/rpm/Packages.db", bad)]);
        let out = run(&fs, Some(&os("sles", "15.6")));
        assert_eq!(out.packages.len(), 1);
        assert_eq!(out.warnings.len(), 1);
        assert!(
            out.warnings[0].message.contains("checksum"),
            "{}",
            out.warnings[0].message
        );
    }

    #[test]
    fn malformed_ndb() {
        let db = ndb_db(&[package("a", "1", "1", None, "noarch")]);
        for n in 0..db.len() {
            let _ = read_ndb(&db[..n], &mut |_| {});
        }
        let mut huge = db.clone();
        huge[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            read_ndb(&huge, &mut |_| {}),
            Err(RpmDbError::Truncated { .. })
        ));
        let mut v1 = db.clone();
        v1[4] = 1;
        assert!(matches!(
            read_ndb(&v1, &mut |_| {}),
            Err(RpmDbError::NdbVersion(1))
        ));
        // Slot pointing far past the end, and into the slot pages.
        for (blkoff, blkcnt) in [(u32::MAX, u32::MAX), (1, 4), (300, u32::MAX)] {
            let mut s = db.clone();
            s[NDB_HEADER_LEN + 8..NDB_HEADER_LEN + 12].copy_from_slice(&blkoff.to_le_bytes());
            s[NDB_HEADER_LEN + 12..NDB_HEADER_LEN + 16].copy_from_slice(&blkcnt.to_le_bytes());
            let mut errors = 0;
            read_ndb(&s, &mut |r| errors += usize::from(r.is_err())).unwrap();
            assert_eq!(errors, 1);
        }
    }

    // ---------------------------------------------------- Berkeley DB ---

    /// Build a Berkeley DB hash database as rpm writes `Packages`: a meta
    /// page, one hash page of key/data pairs (the instance-0 record inline,
    /// headers off-page), and overflow chains.
    fn bdb_db(blobs: &[Vec<u8>], page_size: usize, little: bool) -> Vec<u8> {
        let u32b = |v: u32| {
            if little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        };
        let u16b = |v: u16| {
            if little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        };
        let mut pages: Vec<Vec<u8>> = vec![vec![0; page_size], vec![0; page_size]];
        let mut items: Vec<Vec<u8>> = Vec::new();
        // Record 0: key 0, data = next instance number, both inline.
        items.push([&[H_KEYDATA][..], &[0, 0, 0, 0]].concat());
        items.push([&[H_KEYDATA][..], &u32b(blobs.len() as u32 + 1)].concat());
        let chunk = page_size - BDB_PAGE_HEADER;
        for (i, blob) in blobs.iter().enumerate() {
            items.push([&[H_KEYDATA][..], &u32b(i as u32 + 1)].concat());
            let first = pages.len() as u32;
            let n = blob.len().div_ceil(chunk).max(1);
            for (j, part) in blob.chunks(chunk).enumerate() {
                let mut p = vec![0u8; page_size];
                let pgno = pages.len() as u32;
                p[8..12].copy_from_slice(&u32b(pgno));
                p[12..16].copy_from_slice(&u32b(if j == 0 { 0 } else { pgno - 1 }));
                p[16..20].copy_from_slice(&u32b(if j + 1 == n { 0 } else { pgno + 1 }));
                p[22..24].copy_from_slice(&u16b(part.len() as u16));
                p[25] = P_OVERFLOW;
                p[BDB_PAGE_HEADER..BDB_PAGE_HEADER + part.len()].copy_from_slice(part);
                pages.push(p);
            }
            let mut off = vec![H_OFFPAGE, 0, 0, 0];
            off.extend_from_slice(&u32b(first));
            off.extend_from_slice(&u32b(blob.len() as u32));
            items.push(off);
        }
        // Lay the items out from the end of page 1 downwards.
        let hash = &mut pages[1];
        let mut top = page_size;
        for (i, item) in items.iter().enumerate() {
            top -= item.len();
            hash[top..top + item.len()].copy_from_slice(item);
            let at = BDB_PAGE_HEADER + 2 * i;
            hash[at..at + 2].copy_from_slice(&u16b(top as u16));
        }
        hash[8..12].copy_from_slice(&u32b(1));
        hash[20..22].copy_from_slice(&u16b(items.len() as u16));
        hash[22..24].copy_from_slice(&u16b(top as u16));
        hash[25] = P_HASH;
        let last = pages.len() as u32 - 1;
        let meta = &mut pages[0];
        meta[12..16].copy_from_slice(&u32b(BDB_HASH_MAGIC));
        meta[16..20].copy_from_slice(&u32b(9));
        meta[20..24].copy_from_slice(&u32b(page_size as u32));
        meta[25] = 8;
        meta[32..36].copy_from_slice(&u32b(last));
        pages.concat()
    }

    #[test]
    fn catalogs_bdb_rpmdb_both_byte_orders() {
        let blobs = vec![
            package("centos-release", "7", "9.2009.1.el7.centos", None, "x86_64"),
            package("bash", "4.2.46", "34.el7", None, "x86_64"),
            package("openssl-libs", "1.0.2k", "26.el7_9", Some(1), "x86_64"),
        ];
        for (page_size, little) in [(4096, true), (512, false), (512, true)] {
            let db = bdb_db(&blobs, page_size, little);
            let fs = FsView::from_files([("var/lib/rpm/Packages", db)]);
            let out = run(&fs, Some(&os("centos", "7")));
            assert!(out.warnings.is_empty(), "{:?}", out.warnings);
            let got: Vec<(&str, &str)> = out
                .packages
                .iter()
                .map(|p| (p.name.as_str(), p.version.as_str()))
                .collect();
            assert_eq!(
                got,
                [
                    ("centos-release", "7-9.2009.1.el7.centos"),
                    ("bash", "4.2.46-34.el7"),
                    ("openssl-libs", "1:1.0.2k-26.el7_9")
                ]
            );
            assert_eq!(
                out.packages[2].purl,
                "pkg:rpm/centos/openssl-libs@1.0.2k-26.el7_9?arch=x86_64&distro=centos-7&epoch=1"
            );
        }
    }

    #[test]
    fn malformed_bdb() {
        // A header spanning four 512-byte overflow pages (2, 3, 4, 5).
        let description = "x".repeat(1500);
        let big = header(&[
            (TAG_NAME, Val::S("bash")),
            (TAG_VERSION, Val::S("4.2.46")),
            (TAG_RELEASE, Val::S("34.el7")),
            (1005, Val::I18n(&description)),
        ]);
        assert!(big.len() > 3 * (512 - BDB_PAGE_HEADER));
        let db = bdb_db(&[big], 512, true);
        let mut n = 0;
        read_bdb(&db, &mut |r| {
            assert_eq!(parse_header(r.unwrap()).unwrap().name, "bash");
            n += 1;
        })
        .unwrap();
        assert_eq!(n, 1);
        // Every truncation: errors or fewer records, never a panic.
        for n in 0..db.len() {
            let _ = read_bdb(&db[..n], &mut |_| {});
        }
        // Every single-byte corruption of the meta, hash and first overflow
        // pages: no panic.
        for at in 0..1536 {
            let mut c = db.clone();
            c[at] ^= 0xff;
            let _ = read_bdb(&c, &mut |r| {
                if let Ok(b) = r {
                    let _ = parse_header(b);
                }
            });
        }
        let mut bad = db.clone();
        bad[20..24].copy_from_slice(&1000u32.to_le_bytes());
        assert!(matches!(
            read_bdb(&bad, &mut |_| {}),
            Err(RpmDbError::BadPageSize(1000))
        ));
        let mut checksummed = db.clone();
        checksummed[26] = 1;
        assert!(matches!(
            read_bdb(&checksummed, &mut |_| {}),
            Err(RpmDbError::Unsupported { .. })
        ));

        let errors = |db: &[u8]| {
            let mut errs = Vec::new();
            read_bdb(db, &mut |r| {
                if let Err(e) = r {
                    errs.push(e);
                }
            })
            .unwrap();
            errs
        };
        // A chain that ends early.
        let page3 = 3 * 512;
        let mut short = db.clone();
        short[page3 + 16..page3 + 20].copy_from_slice(&0u32.to_le_bytes());
        let errs = errors(&short);
        assert!(
            matches!(errs.as_slice(), [RecordError::BdbOverflow { start: 2, .. }]),
            "{errs:?}"
        );
        // A chain that loops on an empty page: stopped, not spun forever.
        let mut looped = db.clone();
        looped[page3 + 16..page3 + 20].copy_from_slice(&3u32.to_le_bytes());
        looped[page3 + 22..page3 + 24].copy_from_slice(&0u16.to_le_bytes());
        let errs = errors(&looped);
        assert!(
            matches!(errs.as_slice(), [RecordError::BdbOverflow { start: 2, .. }]),
            "{errs:?}"
        );
        // A chain into a non-overflow page, and past the end of the file.
        for target in [1u32, 0x00ff_ffff] {
            let mut wrong = db.clone();
            wrong[page3 + 16..page3 + 20].copy_from_slice(&target.to_le_bytes());
            assert_eq!(errors(&wrong).len(), 1);
        }
    }

    #[test]
    fn unsupported_and_multiple_databases() {
        let fs = FsView::from_files([(
            "var/lib/rpm/Packages",
            &b"this is not a database at all"[..],
        )]);
        let out = run(&fs, None);
        assert!(out.packages.is_empty());
        assert_eq!(out.warnings.len(), 1);
        assert_eq!(out.warnings[0].location, "var/lib/rpm/Packages");
        assert!(out.warnings[0].message.contains("unsupported rpmdb format"));

        // SQLite wins; a stale Berkeley DB beside it is ignored; a WAL warns.
        let fs = FsView::from_files([
            (
                "var/lib/rpm/rpmdb.sqlite",
                sqlite_db(&[package("bash", "5.1.8", "9.el9", None, "x86_64")], false),
            ),
            (
                "var/lib/rpm/Packages",
                bdb_db(
                    &[package("bash", "4.2.46", "34.el7", None, "x86_64")],
                    4096,
                    true,
                ),
            ),
            ("var/lib/rpm/rpmdb.sqlite-wal", vec![1u8; 32]),
        ]);
        let out = run(&fs, None);
        assert_eq!(out.packages.len(), 1);
        assert_eq!(out.packages[0].version.as_str(), "5.1.8-9.el9");
        assert_eq!(out.warnings.len(), 1);
        assert!(out.warnings[0].message.contains("write-ahead log"));
    }

    #[test]
    fn wants_is_exact() {
        for p in [
            "var/lib/rpm/rpmdb.sqlite",
            "usr/lib/sysimage/rpm/rpmdb.sqlite",
            "var/lib/rpm/Packages",
            "var/lib/rpm/Packages.db",
            "usr/lib/sysimage/rpm/Packages.db",
            "var/lib/rpm/rpmdb.sqlite-wal",
        ] {
            assert!(RpmCataloger.wants(p), "{p}");
        }
        for p in [
            "var/lib/rpm/Name",
            "var/lib/rpm/rpmdb.sqlite-shm",
            "var/lib/rpm/__db.001",
        ] {
            assert!(!RpmCataloger.wants(p), "{p}");
        }
    }
}
