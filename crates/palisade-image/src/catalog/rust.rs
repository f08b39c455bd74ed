//! Rust crates, from `Cargo.lock` files and from `cargo auditable` data in
//! executables.
//!
//! **`Cargo.lock`** (every format: v1 with its `[root]` table and
//! `[metadata]` checksums, v2, v3 and v4) is a TOML file of `[[package]]`
//! tables with `name`, `version`, `source` and `dependencies`. It is read
//! with a small TOML-subset parser (tables, array tables, `key = value`
//! with strings, integers, booleans and possibly multi-line arrays,
//! comments), bounded in string length, array size and nesting. Packages
//! with a `source` (a registry, `sparse+` index or git repository) are
//! reported. Packages without one are local: workspace members and path
//! dependencies. The roots among them (a v1 `[root]`, or a sourceless
//! package no other package in the file depends on: the workspace members
//! that were built) are the project itself and are skipped; sourceless
//! packages that something depends on (path dependencies) are reported.
//! Lock files inside Cargo's download caches (`…cargo/registry/…`,
//! `…cargo/git/…`) are sources of crates, not software that was built, and
//! are not read.
//!
//! **`cargo auditable`** embeds the dependency tree of a binary in an ELF
//! section `.dep-v0`: zlib-compressed JSON
//! `{"packages":[{"name","version","source","kind","dependencies","root"}]}`.
//! The walker hands this cataloger every ELF executable; it keeps the list
//! of packages (name, version, source, kind, root) as its extract. The
//! same rule applies: the root package, when `local`, is the binary's own
//! crate and is skipped. Build-time dependencies (`"kind": "build"`, build
//! scripts and proc-macros) are reported too: they ran on the build host
//! and shaped the binary.

use std::collections::HashSet;
use std::io::{Cursor, Read};

use palisade_model::{Ecosystem, Package};
use serde::{Deserialize, Serialize};

use super::elf::{Elf, ElfError, FileReader};
use super::{
    add_results, language_package, warning, CatalogContext, CatalogOutput, Cataloger, Extract,
};
use crate::fs::FileRef;
use crate::layer::ReadSeek;
use crate::purl::PackageUrl;

/// Most packages read from one lock file or one binary.
pub const MAX_PACKAGES: usize = 100_000;
/// Longest string value accepted in a lock file.
const MAX_STRING_LEN: usize = 64 * 1024;
/// Most elements in one array of a lock file.
const MAX_ARRAY_LEN: usize = 100_000;
/// Deepest array nesting in a lock file.
const MAX_DEPTH: usize = 8;
/// Most errors reported for one lock file.
const MAX_ERRORS: usize = 100;
/// Largest compressed `.dep-v0` section read.
pub const MAX_AUDIT_COMPRESSED: u64 = 4 << 20;
/// Largest decompressed `cargo auditable` JSON accepted.
pub const MAX_AUDIT_JSON: u64 = 8 << 20;
/// Longest crate name or version accepted.
const MAX_TOKEN_LEN: usize = 256;

/// The section `cargo auditable` writes.
pub const AUDITABLE_SECTION: &str = ".dep-v0";

// ---------------------------------------------------------------------
// Cargo.lock

/// A problem in a lock file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    #[error("the file is not valid UTF-8")]
    NotUtf8,
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("package at line {line}: missing {field}")]
    MissingField { line: usize, field: &'static str },
    #[error("package at line {line}: {field} {value:?} is not a valid token")]
    InvalidValue {
        line: usize,
        field: &'static str,
        value: String,
    },
    #[error("more than {MAX_PACKAGES} packages; the rest were not read")]
    TooManyPackages,
    #[error("more than {MAX_ERRORS} errors; the rest are not reported")]
    TooManyErrors,
}

/// One `[[package]]` (or v1 `[root]`) table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockPackage {
    pub name: String,
    pub version: String,
    pub source: Option<String>,
    /// As written: `name`, `name version` or `name version (source)`.
    pub dependencies: Vec<String>,
    /// Whether this is a v1 `[root]` table.
    pub is_root_table: bool,
    /// 1-based line of the table header.
    pub line: usize,
}

/// A parsed lock file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedLock {
    /// The top-level `version` (absent in v1 and v2 files).
    pub version: Option<i64>,
    pub packages: Vec<LockPackage>,
    pub errors: Vec<LockError>,
}

/// A TOML value, as far as lock files need.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Str(String),
    /// Integers, booleans, dates: kept as written.
    Bare(String),
    Array(Vec<Value>),
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    line: usize,
}

type PResult<T> = Result<T, String>;

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn starts_with(&self, p: &[u8]) -> bool {
        self.s.get(self.pos..).is_some_and(|r| r.starts_with(p))
    }

    /// Skip spaces and tabs.
    fn skip_blank(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn skip_comment(&mut self) {
        if self.peek() == Some(b'#') {
            while !matches!(self.peek(), None | Some(b'\n')) {
                self.pos += 1;
            }
        }
    }

    /// Skip blanks, newlines and comments (inside arrays, between items).
    fn skip_all(&mut self) {
        loop {
            self.skip_blank();
            self.skip_comment();
            match self.peek() {
                Some(b'\n') => {
                    self.pos += 1;
                    self.line += 1;
                }
                Some(b'\r') => self.pos += 1,
                _ => return,
            }
        }
    }

    /// Skip to the start of the next line (error recovery).
    fn skip_line(&mut self) {
        while let Some(b) = self.peek() {
            self.pos += 1;
            if b == b'\n' {
                self.line += 1;
                return;
            }
        }
    }

    /// After a value or header: only blanks and a comment may follow.
    fn end_of_line(&mut self) -> PResult<()> {
        self.skip_blank();
        self.skip_comment();
        match self.peek() {
            None => Ok(()),
            Some(b'\r') if self.s.get(self.pos + 1) == Some(&b'\n') => {
                self.pos += 2;
                self.line += 1;
                Ok(())
            }
            Some(b'\n') => {
                self.pos += 1;
                self.line += 1;
                Ok(())
            }
            Some(_) => Err("unexpected text after the value".into()),
        }
    }

    fn bare(&mut self) -> String {
        let start = self.pos;
        while matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'.' | b':'))
        {
            self.pos += 1;
        }
        String::from_utf8_lossy(self.s.get(start..self.pos).unwrap_or_default()).into_owned()
    }

    fn string(&mut self) -> PResult<String> {
        let quote = self.peek().ok_or("expected a string")?;
        if self.starts_with(b"\"\"\"") || self.starts_with(b"'''") {
            return Err("multi-line strings are not supported in lock files".into());
        }
        self.pos += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let b = self.peek().ok_or("unterminated string")?;
            if b == b'\n' {
                return Err("unterminated string".into());
            }
            self.pos += 1;
            if out.len() > MAX_STRING_LEN {
                return Err(format!("string longer than {MAX_STRING_LEN} bytes"));
            }
            match b {
                _ if b == quote => break,
                b'\\' if quote == b'"' => {
                    let e = self.peek().ok_or("unterminated escape")?;
                    self.pos += 1;
                    match e {
                        b'"' => out.push(b'"'),
                        b'\\' => out.push(b'\\'),
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' | b'U' => {
                            let n = if e == b'u' { 4 } else { 8 };
                            let hex = self
                                .s
                                .get(self.pos..self.pos + n)
                                .and_then(|h| std::str::from_utf8(h).ok())
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .and_then(char::from_u32)
                                .ok_or("invalid unicode escape")?;
                            self.pos += n;
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(hex.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return Err("invalid escape".into()),
                    }
                }
                _ => out.push(b),
            }
        }
        String::from_utf8(out).map_err(|_| "string is not valid UTF-8".into())
    }

    fn value(&mut self, depth: usize) -> PResult<Value> {
        match self.peek() {
            Some(b'"' | b'\'') => self.string().map(Value::Str),
            Some(b'[') => {
                if depth >= MAX_DEPTH {
                    return Err(format!("arrays nested deeper than {MAX_DEPTH}"));
                }
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_all();
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        return Ok(Value::Array(items));
                    }
                    if items.len() >= MAX_ARRAY_LEN {
                        return Err(format!("array longer than {MAX_ARRAY_LEN} elements"));
                    }
                    items.push(self.value(depth + 1)?);
                    self.skip_all();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {}
                        None => return Err("unterminated array".into()),
                        Some(_) => return Err("expected ',' or ']' in array".into()),
                    }
                }
            }
            Some(b) if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-') => {
                Ok(Value::Bare(self.bare()))
            }
            Some(_) => Err("unsupported value".into()),
            None => Err("missing value".into()),
        }
    }

    fn key(&mut self) -> PResult<String> {
        match self.peek() {
            Some(b'"' | b'\'') => self.string(),
            Some(b) if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-') => {
                let start = self.pos;
                while matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
                {
                    self.pos += 1;
                }
                Ok(
                    String::from_utf8_lossy(self.s.get(start..self.pos).unwrap_or_default())
                        .into_owned(),
                )
            }
            _ => Err("expected a key".into()),
        }
    }

    /// A table header after its `[`: (name, is array table).
    fn header(&mut self) -> PResult<(String, bool)> {
        let array = self.starts_with(b"[[");
        self.pos += if array { 2 } else { 1 };
        let start = self.pos;
        while !matches!(self.peek(), None | Some(b']' | b'\n')) {
            self.pos += 1;
        }
        let name = String::from_utf8_lossy(self.s.get(start..self.pos).unwrap_or_default())
            .trim()
            .to_string();
        let close: &[u8] = if array { b"]]" } else { b"]" };
        if !self.starts_with(close) {
            return Err("unterminated table header".into());
        }
        self.pos += close.len();
        Ok((name, array))
    }
}

#[derive(Debug)]
enum Table {
    Top,
    Package(RawPackage),
    Other,
}

#[derive(Debug, Default)]
struct RawPackage {
    line: usize,
    root: bool,
    name: Option<String>,
    version: Option<String>,
    source: Option<String>,
    dependencies: Vec<String>,
}

fn lock_token(line: usize, field: &'static str, s: String) -> Result<String, LockError> {
    if s.is_empty()
        || s.len() > MAX_TOKEN_LEN
        || s.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(LockError::InvalidValue {
            line,
            field,
            value: s.chars().take(64).collect(),
        });
    }
    Ok(s)
}

fn build_package(raw: RawPackage) -> Result<LockPackage, LockError> {
    let line = raw.line;
    let name = raw.name.ok_or(LockError::MissingField {
        line,
        field: "name",
    })?;
    let version = raw.version.ok_or(LockError::MissingField {
        line,
        field: "version",
    })?;
    Ok(LockPackage {
        name: lock_token(line, "name", name)?,
        version: lock_token(line, "version", version)?,
        source: raw.source.filter(|s| !s.is_empty()),
        dependencies: raw.dependencies,
        is_root_table: raw.root,
        line,
    })
}

fn finish_package(raw: RawPackage, out: &mut ParsedLock) {
    match build_package(raw) {
        Ok(p) => out.packages.push(p),
        Err(e) => push_error(out, e),
    }
}

fn push_error(out: &mut ParsedLock, e: LockError) {
    match out.errors.len() {
        n if n < MAX_ERRORS => out.errors.push(e),
        n if n == MAX_ERRORS => out.errors.push(LockError::TooManyErrors),
        _ => {}
    }
}

fn close_table(table: Table, out: &mut ParsedLock) {
    if let Table::Package(raw) = table {
        finish_package(raw, out);
    }
}

/// Parse a `Cargo.lock`. Never panics; problems become [`LockError`]s and
/// parsing resumes at the next line.
pub fn parse_cargo_lock(data: &[u8]) -> ParsedLock {
    let mut out = ParsedLock::default();
    if std::str::from_utf8(data).is_err() {
        out.errors.push(LockError::NotUtf8);
        return out;
    }
    let mut p = Parser {
        s: data,
        pos: 0,
        line: 1,
    };
    let mut table = Table::Top;
    loop {
        p.skip_all();
        let Some(b) = p.peek() else { break };
        let line = p.line;
        let step: PResult<()> = if b == b'[' {
            match p.header() {
                Ok((name, array)) => {
                    let next = match (name.as_str(), array) {
                        ("package", true) => {
                            if out.packages.len() >= MAX_PACKAGES {
                                push_error(&mut out, LockError::TooManyPackages);
                                return out;
                            }
                            Table::Package(RawPackage {
                                line,
                                ..RawPackage::default()
                            })
                        }
                        ("root", false) => Table::Package(RawPackage {
                            line,
                            root: true,
                            ..RawPackage::default()
                        }),
                        _ => Table::Other,
                    };
                    close_table(std::mem::replace(&mut table, next), &mut out);
                    p.end_of_line()
                }
                Err(e) => Err(e),
            }
        } else {
            p.key().and_then(|key| {
                p.skip_blank();
                if p.peek() != Some(b'=') {
                    return Err("expected '=' after the key".into());
                }
                p.pos += 1;
                p.skip_blank();
                let value = p.value(0)?;
                p.end_of_line()?;
                match (&mut table, key.as_str(), value) {
                    (Table::Top, "version", Value::Bare(v)) => out.version = v.parse().ok(),
                    (Table::Package(raw), "name", Value::Str(s)) => raw.name = Some(s),
                    (Table::Package(raw), "version", Value::Str(s)) => raw.version = Some(s),
                    (Table::Package(raw), "source", Value::Str(s)) => raw.source = Some(s),
                    (Table::Package(raw), "dependencies", Value::Array(items)) => {
                        raw.dependencies = items
                            .into_iter()
                            .filter_map(|v| match v {
                                Value::Str(s) => Some(s),
                                _ => None,
                            })
                            .collect();
                    }
                    (Table::Package(_), "name" | "version" | "source" | "dependencies", _) => {
                        return Err(format!("{key} has the wrong type"));
                    }
                    _ => {}
                }
                Ok(())
            })
        };
        if let Err(message) = step {
            push_error(&mut out, LockError::Syntax { line, message });
            p.skip_line();
        }
    }
    close_table(table, &mut out);
    out
}

/// Whether any package of `lock` depends on `pkg` (by name, and version
/// when the reference gives one).
fn depended_on(lock: &ParsedLock, pkg: &LockPackage) -> bool {
    lock.packages.iter().any(|other| {
        other.dependencies.iter().any(|d| {
            let mut parts = d.split_whitespace();
            parts.next() == Some(pkg.name.as_str()) && parts.next().is_none_or(|v| v == pkg.version)
        })
    })
}

/// The packages of a lock file worth reporting: every package with a
/// source, and sourceless ones that are not roots (see the module docs).
pub fn reported_lock_packages(lock: &ParsedLock) -> Vec<&LockPackage> {
    let sourceless: Vec<&LockPackage> = lock
        .packages
        .iter()
        .filter(|p| p.source.is_none())
        .collect();
    // With many local packages the quadratic check is capped.
    let check_roots = sourceless.len() <= 1000;
    let mut seen = HashSet::new();
    lock.packages
        .iter()
        .filter(|p| p.source.is_some() || (!p.is_root_table && check_roots && depended_on(lock, p)))
        .filter(|p| seen.insert((p.name.as_str(), p.version.as_str(), p.source.as_deref())))
        .collect()
}

// ---------------------------------------------------------------------
// cargo auditable

/// Why `cargo auditable` data could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditableError {
    #[error(transparent)]
    Elf(#[from] ElfError),
    #[error("decompressing the dependency list: {0}")]
    Decompress(#[source] std::io::Error),
    #[error("the decompressed dependency list is over the {MAX_AUDIT_JSON}-byte limit")]
    TooLarge,
    #[error("the dependency list is not the expected JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error("more than {MAX_PACKAGES} packages in the dependency list")]
    TooManyPackages,
}

/// One package of a `cargo auditable` dependency list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditablePackage {
    pub name: String,
    pub version: String,
    /// `crates.io`, `git`, `local`, `registry`, or another string.
    #[serde(default)]
    pub source: String,
    /// `build` for build-time dependencies; `None` means runtime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub root: bool,
}

#[derive(Deserialize)]
struct AuditableJson {
    packages: Vec<AuditablePackage>,
}

/// Decompress and parse the contents of a `.dep-v0` section.
pub fn parse_auditable(compressed: &[u8]) -> Result<Vec<AuditablePackage>, AuditableError> {
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_AUDIT_JSON + 1)
        .read_to_end(&mut json)
        .map_err(AuditableError::Decompress)?;
    if json.len() as u64 > MAX_AUDIT_JSON {
        return Err(AuditableError::TooLarge);
    }
    let parsed: AuditableJson = serde_json::from_slice(&json).map_err(AuditableError::Json)?;
    if parsed.packages.len() > MAX_PACKAGES {
        return Err(AuditableError::TooManyPackages);
    }
    Ok(parsed.packages)
}

/// Read the `cargo auditable` dependency list of the executable in
/// `file`. `Ok(None)` when there is none (not ELF, unreadable headers, no
/// `.dep-v0` section).
pub fn read_auditable(
    file: &mut dyn ReadSeek,
) -> Result<Option<Vec<AuditablePackage>>, AuditableError> {
    let Ok(mut r) = FileReader::new(file) else {
        return Ok(None);
    };
    let elf = match Elf::parse(&mut r) {
        Ok(Some(elf)) => elf,
        Ok(None) | Err(_) => return Ok(None),
    };
    let Some(section) = elf.section(AUDITABLE_SECTION) else {
        return Ok(None);
    };
    let data = elf.read_section(&mut r, section, MAX_AUDIT_COMPRESSED)?;
    parse_auditable(&data).map(Some)
}

/// The packages of a binary worth reporting: all but a `local` root.
pub fn reported_auditable_packages(pkgs: &[AuditablePackage]) -> Vec<&AuditablePackage> {
    let mut seen = HashSet::new();
    pkgs.iter()
        .filter(|p| !(p.root && p.source == "local"))
        .filter(|p| seen.insert((p.name.as_str(), p.version.as_str(), p.source.as_str())))
        .collect()
}

// ---------------------------------------------------------------------
// The cataloger

/// Why a crate name or version is unusable, if it is.
fn invalid(name: &str, version: &str) -> Option<String> {
    let bad = |v: &str| {
        v.is_empty()
            || v.len() > MAX_TOKEN_LEN
            || v.chars().any(|c| c.is_whitespace() || c.is_control())
    };
    (bad(name) || bad(version)).then(|| {
        format!(
            "crate {:?} version {:?} is not a valid name and version",
            name.chars().take(64).collect::<String>(),
            version.chars().take(64).collect::<String>()
        )
    })
}

fn to_package(name: &str, version: &str, file: FileRef<'_>) -> Result<Package, String> {
    if let Some(e) = invalid(name, version) {
        return Err(e);
    }
    let purl = PackageUrl::new("cargo", name)
        .map_err(|e| format!("crate {name}: {e}"))?
        .with_version(version);
    Ok(language_package(
        file,
        Ecosystem::CRATES_IO,
        name,
        version,
        &purl,
        Vec::new(),
    ))
}

/// What [`RustCataloger`] keeps of a binary it could read: the packages to
/// report (already filtered and checked), and problems with the others.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Reduced {
    packages: Vec<AuditablePackage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

/// Most warnings kept per binary.
const MAX_BINARY_WARNINGS: usize = 10;

/// Reduce a dependency list to what is reported, so the extract stays
/// small whatever the binary holds.
fn reduce(pkgs: &[AuditablePackage]) -> Reduced {
    let mut packages = Vec::new();
    let mut warnings = Vec::new();
    let mut skipped = 0usize;
    for p in reported_auditable_packages(pkgs) {
        match invalid(&p.name, &p.version) {
            None => packages.push(AuditablePackage {
                name: p.name.clone(),
                version: p.version.clone(),
                source: p.source.chars().take(64).collect(),
                kind: p.kind.as_ref().map(|k| k.chars().take(16).collect()),
                root: p.root,
            }),
            Some(e) if warnings.len() < MAX_BINARY_WARNINGS => warnings.push(e),
            Some(_) => skipped += 1,
        }
    }
    if skipped > 0 {
        warnings.push(format!("{skipped} more invalid crates were not reported"));
    }
    Reduced { packages, warnings }
}

/// Whether `path` is a lock file worth reading.
pub fn is_cargo_lock(path: &str) -> bool {
    (path == "Cargo.lock" || path.ends_with("/Cargo.lock"))
        && !path.contains("cargo/registry/")
        && !path.contains("cargo/git/")
}

/// `Cargo.lock` files and `cargo auditable` binaries.
#[derive(Debug, Clone, Copy, Default)]
pub struct RustCataloger;

impl RustCataloger {
    /// The extract for one file (`None`: no auditable data).
    pub fn extract_bytes(file: &mut dyn ReadSeek) -> Option<Vec<u8>> {
        Extract::encode(read_auditable(file).map(|found| found.map(|pkgs| reduce(&pkgs))))
    }

    fn catalog_lock(file: FileRef<'_>, out: &mut CatalogOutput) {
        let lock = parse_cargo_lock(file.data);
        for e in &lock.errors {
            out.warnings.push(warning(file.path, e.to_string()));
        }
        for p in reported_lock_packages(&lock) {
            match to_package(&p.name, &p.version, file) {
                Ok(pkg) => out.packages.push(pkg),
                Err(e) => out.warnings.push(warning(file.path, e)),
            }
        }
    }

    /// Packages and warnings from one extract.
    fn packages_from_extract(file: FileRef<'_>) -> (Vec<Package>, Vec<String>) {
        let decoded = Extract::<Reduced>::decode(
            file.data,
            "cargo auditable data",
            "cargo auditable extract",
        );
        let Reduced {
            packages,
            mut warnings,
        } = match decoded {
            Ok(reduced) => reduced,
            Err(w) => return (Vec::new(), vec![w]),
        };
        let mut out = Vec::new();
        for p in &packages {
            match to_package(&p.name, &p.version, file) {
                Ok(pkg) => out.push(pkg),
                Err(e) => warnings.push(e),
            }
        }
        (out, warnings)
    }
}

impl Cataloger for RustCataloger {
    fn name(&self) -> &'static str {
        "rust"
    }

    fn wants(&self, path: &str) -> bool {
        is_cargo_lock(path)
    }

    fn wants_executables(&self) -> bool {
        true
    }

    fn wants_extract(&self, _path: &str, elf_executable: bool) -> bool {
        elf_executable
    }

    fn extract(&self, _path: &str, file: &mut dyn ReadSeek) -> Option<Vec<u8>> {
        RustCataloger::extract_bytes(file)
    }

    fn catalog(&self, ctx: &CatalogContext<'_>, out: &mut CatalogOutput) {
        let before = out.packages.len();
        for file in ctx.fs.files().filter(|f| is_cargo_lock(f.path)) {
            RustCataloger::catalog_lock(file, out);
        }
        for file in ctx.fs.extracted(self.name()) {
            add_results(out, file, RustCataloger::packages_from_extract(file));
        }
        tracing::debug!(
            packages = out.packages.len().saturating_sub(before),
            "Rust crates catalogued"
        );
    }
}

/// Read auditable data from bytes in memory (for fuzzing and tests).
pub fn read_auditable_bytes(data: &[u8]) -> Result<Option<Vec<AuditablePackage>>, AuditableError> {
    read_auditable(&mut Cursor::new(data))
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use std::io::Write;

    use super::super::elf::testutil::{build, TestElf, TestSection};
    use super::*;
    use crate::fs::FsView;

    const LOCK_V3: &str = r#"# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 3

[[package]]
name = "adler"
version = "1.0.2"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "f26201604c87b1e01bd3d98f8d5d9a8fcbb815e8cbb8ebd8ad0fb9a6a7b4fe3"

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "adler",
 "helper",
 "serde 1.0.193",
 "tokio",
]

[[package]]
name = "helper"
version = "0.2.0"
dependencies = [
 "serde 1.0.193",
]

[[package]]
name = "serde"
version = "1.0.193"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "25dd9975e68d0cb5aa1120c288333fc98731bd1dd12f561e468ea4728c042b89"

[[package]]
name = "serde"
version = "0.9.15"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "tokio"
version = "1.35.0"
source = "git+https://github.com/tokio-rs/tokio?branch=master#0123456789abcdef"
"#;

    const LOCK_V1: &str = r#"[root]
name = "old-app"
version = "0.1.0"
dependencies = [
 "libc 0.2.20 (registry+https://github.com/rust-lang/crates.io-index)",
]

[[package]]
name = "libc"
version = "0.2.20"
source = "registry+https://github.com/rust-lang/crates.io-index"

[metadata]
"checksum libc 0.2.20 (registry+https://github.com/rust-lang/crates.io-index)" = "684f330624d8c3784fb9558ca46c4ce488073a8d22450415c5eb4f4cfb0d11b5"
"#;

    const LOCK_V4: &str = "version = 4\r\n\r\n[[package]]\r\nname = \"ws-a\"\r\nversion = \"0.1.0\"\r\ndependencies = [\"ws-b\", \"itoa\"]\r\n\r\n[[package]]\r\nname = \"ws-b\"\r\nversion = \"0.1.0\"\r\n\r\n[[package]]\r\nname = \"itoa\"\r\nversion = \"1.0.10\"\r\nsource = \"sparse+https://index.crates.io/\"\r\nchecksum = \"b1a46d1a171d865aa5f83f92695765caa047a9b4cbae2cbf37dbd613a793fd4c\"\r\n";

    fn names(lock: &ParsedLock) -> Vec<(String, String)> {
        reported_lock_packages(lock)
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect()
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn lock_v3() {
        let lock = parse_cargo_lock(LOCK_V3.as_bytes());
        assert!(lock.errors.is_empty(), "{:?}", lock.errors);
        assert_eq!(lock.version, Some(3));
        assert_eq!(lock.packages.len(), 6);
        assert_eq!(
            lock.packages[1].dependencies,
            ["adler", "helper", "serde 1.0.193", "tokio"]
        );
        assert_eq!(
            names(&lock),
            pairs(&[
                ("adler", "1.0.2"),
                ("helper", "0.2.0"),
                ("serde", "1.0.193"),
                ("serde", "0.9.15"),
                ("tokio", "1.35.0"),
            ])
        );
    }

    #[test]
    fn lock_v1_and_v4() {
        let lock = parse_cargo_lock(LOCK_V1.as_bytes());
        assert!(lock.errors.is_empty(), "{:?}", lock.errors);
        assert_eq!(lock.version, None);
        assert!(lock.packages[0].is_root_table);
        assert_eq!(names(&lock), pairs(&[("libc", "0.2.20")]));
        let lock = parse_cargo_lock(LOCK_V4.as_bytes());
        assert!(lock.errors.is_empty(), "{:?}", lock.errors);
        assert_eq!(lock.version, Some(4));
        // ws-a is the built root; ws-b is a path dependency.
        assert_eq!(
            names(&lock),
            pairs(&[("ws-b", "0.1.0"), ("itoa", "1.0.10")])
        );
    }

    #[test]
    fn lock_v2_with_escapes_and_comments() {
        let lock = parse_cargo_lock(
            br#"[[package]] # a comment
name = 'lit\eral'
version = "1.0.0\u002Dbeta"   # trailing
source = "registry+https://example.com/index"
dependencies = [
  # comment inside
  "a",
  ["nested"],
]
[patch.unused]
name = "x"
"#,
        );
        assert!(lock.errors.is_empty(), "{:?}", lock.errors);
        assert_eq!(lock.packages.len(), 1);
        assert_eq!(lock.packages[0].name, "lit\\eral");
        assert_eq!(lock.packages[0].version, "1.0.0-beta");
        assert_eq!(lock.packages[0].dependencies, ["a"]);
    }

    #[test]
    fn malformed_lock_files_give_errors_and_keep_the_rest() {
        let lock = parse_cargo_lock(
            b"[[package]]\nname = \"a\"\nversion = 1\n\n[[package]]\nname = \"b\"\nversion = \"1.0\"\nsource = \"registry+x\"\ngarbage line\nname2 = \"unterminated\n[[package]]\nversion = \"2\"\n[[package\nname = \"c c\"\nversion = \"1\"\nx = [[[[[[[[[[1]]]]]]]]]]\ny = {a = 1}\nz = [1, 2\n",
        );
        assert_eq!(names(&lock), pairs(&[("b", "1.0")]));
        let msgs: Vec<String> = lock.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            [
                "line 3: version has the wrong type",
                "package at line 1: missing version",
                "line 9: expected '=' after the key",
                "line 10: unterminated string",
                "line 13: unterminated table header",
                "line 16: arrays nested deeper than 8",
                "line 17: unsupported value",
                "line 18: unterminated array",
                // The broken header left the table of line 11 open.
                "package at line 11: name \"c c\" is not a valid token",
            ]
            .map(String::from)
        );
        assert_eq!(parse_cargo_lock(b"\xff\xfe").errors, [LockError::NotUtf8]);
        // Error count is capped.
        let junk = "!\n".repeat(1000);
        let lock = parse_cargo_lock(junk.as_bytes());
        assert_eq!(lock.errors.len(), MAX_ERRORS + 1);
        assert_eq!(lock.errors.last(), Some(&LockError::TooManyErrors));
    }

    #[test]
    fn package_count_is_capped() {
        let one = "[[package]]\nname = \"a\"\nversion = \"1\"\nsource = \"s\"\n";
        let many = one.repeat(MAX_PACKAGES + 3);
        let lock = parse_cargo_lock(many.as_bytes());
        assert_eq!(lock.packages.len(), MAX_PACKAGES);
        assert_eq!(lock.errors, [LockError::TooManyPackages]);
        // Duplicates are reported once.
        assert_eq!(reported_lock_packages(&lock).len(), 1);
    }

    #[test]
    fn which_lock_files_are_read() {
        assert!(is_cargo_lock("Cargo.lock"));
        assert!(is_cargo_lock("src/app/Cargo.lock"));
        assert!(!is_cargo_lock("src/app/Cargo.lock.bak"));
        assert!(!is_cargo_lock(
            "usr/local/cargo/registry/src/index.crates.io-6f17d22bba15001f/x-1.0.0/Cargo.lock"
        ));
        assert!(!is_cargo_lock(
            "root/.cargo/git/checkouts/x-1/abc/Cargo.lock"
        ));
    }

    pub(super) fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    const AUDIT_JSON: &str = r#"{"packages":[{"name":"adler","version":"1.0.2","source":"crates.io"},{"name":"cc","version":"1.0.83","source":"crates.io","kind":"build"},{"name":"myapp","version":"0.3.1","source":"local","dependencies":[0,1],"root":true},{"name":"vendored","version":"0.1.0","source":"local"}],"format":1}"#;

    fn auditable_binary(section: Vec<u8>) -> Vec<u8> {
        build(&TestElf::new(vec![
            TestSection::new(".text", vec![0xc3; 32]),
            TestSection::new(AUDITABLE_SECTION, section),
        ]))
    }

    fn catalog_binary(bytes: &[u8]) -> CatalogOutput {
        let mut fs = FsView::new();
        let extracts = RustCataloger
            .extract("usr/bin/myapp", &mut Cursor::new(bytes))
            .map(|e| vec![("rust".into(), e.into())])
            .unwrap_or_default();
        fs.insert_entry("usr/bin/myapp".into(), None, extracts, None);
        let mut out = CatalogOutput::default();
        RustCataloger.catalog(&CatalogContext { fs: &fs, os: None }, &mut out);
        out
    }

    #[test]
    fn auditable_binary_packages() {
        let bin = auditable_binary(zlib(AUDIT_JSON.as_bytes()));
        let pkgs = read_auditable_bytes(&bin).unwrap().unwrap();
        assert_eq!(pkgs.len(), 4);
        assert_eq!(pkgs[1].kind.as_deref(), Some("build"));
        let out = catalog_binary(&bin);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        let got: Vec<(&str, &str, &str, &str)> = out
            .packages
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.version.as_str(),
                    p.purl.as_str(),
                    p.ecosystem.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("adler", "1.0.2", "pkg:cargo/adler@1.0.2", "crates.io"),
                ("cc", "1.0.83", "pkg:cargo/cc@1.0.83", "crates.io"),
                ("vendored", "0.1.0", "pkg:cargo/vendored@0.1.0", "crates.io"),
            ]
        );
    }

    #[test]
    fn binaries_without_auditable_data_are_not_extracted() {
        let plain = build(&TestElf::new(vec![TestSection::new(".text", vec![0; 8])]));
        assert!(RustCataloger
            .extract("x", &mut Cursor::new(&plain[..]))
            .is_none());
        assert!(RustCataloger
            .extract("x", &mut Cursor::new(&b"not elf"[..]))
            .is_none());
    }

    #[test]
    fn broken_auditable_data_is_a_warning() {
        for (section, want) in [
            (b"not zlib".to_vec(), "decompressing"),
            (zlib(b"{\"packages\": 5}"), "not the expected JSON"),
            (zlib(AUDIT_JSON.as_bytes())[..60].to_vec(), "decompressing"),
        ] {
            let out = catalog_binary(&auditable_binary(section));
            assert!(out.packages.is_empty());
            assert_eq!(out.warnings.len(), 1);
            assert!(out.warnings[0].message.contains(want), "{:?}", out.warnings);
        }
        // A decompression bomb stops at the cap.
        let bomb = zlib(&vec![b' '; (MAX_AUDIT_JSON + 10) as usize]);
        assert!(bomb.len() < 1 << 20);
        assert!(matches!(
            parse_auditable(&bomb),
            Err(AuditableError::TooLarge)
        ));
        // Invalid names become warnings.
        let out = catalog_binary(&auditable_binary(zlib(
            br#"{"packages":[{"name":"a b","version":"1","source":"crates.io"}]}"#,
        )));
        assert!(out.packages.is_empty());
        assert!(out.warnings[0].message.contains("not a valid name"));
    }

    #[test]
    fn oversized_section_is_refused() {
        let mut t = TestElf::new(vec![TestSection::new(AUDITABLE_SECTION, vec![0; 64])]);
        t.with_segments = false;
        let mut bin = build(&t);
        // Patch the section size (second header after the null one).
        let shoff = u64::from_le_bytes(bin[40..48].try_into().unwrap()) as usize;
        bin[shoff + 64 + 32..shoff + 64 + 40]
            .copy_from_slice(&(MAX_AUDIT_COMPRESSED + 1).to_le_bytes());
        assert!(matches!(
            read_auditable_bytes(&bin),
            Err(AuditableError::Elf(ElfError::TooLarge { .. }))
        ));
    }

    #[test]
    fn lock_file_cataloging() {
        let fs = FsView::from_files([("app/Cargo.lock", LOCK_V3)]);
        let mut out = CatalogOutput::default();
        RustCataloger.catalog(&CatalogContext { fs: &fs, os: None }, &mut out);
        assert!(out.warnings.is_empty());
        assert_eq!(out.packages.len(), 5);
        assert!(out.packages.iter().all(|p| p.path == "app/Cargo.lock"));
        assert_eq!(out.packages[4].purl, "pkg:cargo/tokio@1.35.0");
    }
}
