//! npm packages: installed copies in `node_modules`, and the dependencies a
//! project's lock file declares when they are not installed.
//!
//! **Installed packages** are the `package.json` files directly inside a
//! package directory under a `node_modules` segment:
//! `app/node_modules/a/package.json`, `app/node_modules/@scope/b/package.json`,
//! `app/node_modules/a/node_modules/c/package.json`, and pnpm's
//! `node_modules/.pnpm/a@1.0.0/node_modules/a/package.json`. Files deeper in a
//! package (`node_modules/a/lib/package.json`) and dot-directories (`.bin`,
//! `.pnpm`, `.cache`) are not packages. The name is the manifest's `name`
//! (the real package behind an alias install), or the directory when the
//! manifest has none.
//!
//! **Lock files** — `package-lock.json` and `npm-shrinkwrap.json`
//! ([`parse_package_lock`]), `yarn.lock` ([`parse_yarn_lock`]) and
//! `pnpm-lock.yaml` ([`parse_pnpm_lock`]) — outside `node_modules` describe the
//! project in their directory. An entry is reported, with the lock file as
//! its path, only when no copy of the same name and version is installed
//! under that project (anywhere below `<project>/node_modules/`). When the
//! project does have installed packages, entries the lock marks `dev` or
//! `optional` that are not installed are left out: the install omitted them
//! (`npm ci --omit=dev`, platform-specific optional packages). The project
//! itself, workspace members, `link:`/`file:`/`workspace:` dependencies and
//! yarn patches are never packages. The same name and version is reported
//! once per project however many lock files or nesting paths list it.
//!
//! Not supported: Yarn Plug'n'Play archives (`.yarn/cache/*.zip`), bun's
//! binary `bun.lockb`, and packages only present inside tarballs.

mod json;
mod package_lock;
mod pnpm;
mod yarn;

use std::collections::{HashMap, HashSet};

use palisade_model::{Ecosystem, Package};

pub use self::package_lock::parse_package_lock;
pub use self::pnpm::parse_pnpm_lock;
pub use self::yarn::parse_yarn_lock;
use super::{language_package, warning, CatalogContext, CatalogOutput, Cataloger};
use crate::fs::FileRef;
use crate::purl::PackageUrl;

/// Largest lock file parsed.
pub const MAX_LOCK_SIZE: usize = 64 << 20;
/// Largest `package.json` parsed.
pub const MAX_MANIFEST_SIZE: usize = 4 << 20;
/// Most entries read from one lock file.
pub const MAX_LOCK_ENTRIES: usize = 200_000;
/// Deepest `dependencies` nesting followed in a v1 `package-lock.json`.
pub const MAX_LOCK_DEPTH: usize = 32;
/// Most npm packages reported for one image.
pub const MAX_PACKAGES: usize = 500_000;
/// Longest package name npm accepts.
const MAX_NAME_LEN: usize = 214;
/// Longest version accepted.
const MAX_VERSION_LEN: usize = 256;
/// Most warnings one catalog run reports.
const MAX_WARNINGS: usize = 1000;

/// One package a lock file declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockEntry {
    /// The name as npm spells it (`@scope/name`).
    pub name: String,
    pub version: String,
    /// Marked as a development dependency (`dev`, `devOptional`).
    pub dev: bool,
    /// Marked optional (`optional`, `devOptional`).
    pub optional: bool,
    /// The licence, when the lock records one (package-lock v2+).
    pub license: Option<String>,
}

/// A problem with one lock entry or with the file as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    #[error("lock file is {size} bytes, over the {max}-byte limit")]
    TooLarge { size: usize, max: usize },
    #[error("lock file is not valid UTF-8")]
    NotUtf8,
    #[error("lock file is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("lock file has no packages or dependencies map")]
    UnknownFormat,
    #[error("more than {MAX_LOCK_ENTRIES} entries; the rest were not read")]
    TooManyEntries,
    #[error("dependencies nested deeper than {MAX_LOCK_DEPTH} levels were not read")]
    TooDeep,
    #[error("entry {key:?}: {reason}")]
    InvalidEntry { key: String, reason: String },
}

/// The result of parsing one lock file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedLock {
    pub entries: Vec<LockEntry>,
    pub errors: Vec<LockError>,
}

impl ParsedLock {
    /// Validate and add an entry; a bad one becomes an error keyed by `key`.
    /// `Err` once the entry list is full: [`LockError::TooManyEntries`] is
    /// recorded and the rest of the file should not be read.
    fn push(&mut self, key: &str, entry: LockEntry) -> Result<(), ()> {
        if self.entries.len() >= MAX_LOCK_ENTRIES {
            self.errors.push(LockError::TooManyEntries);
            return Err(());
        }
        if !is_valid_name(&entry.name) {
            self.error(
                key,
                format!("invalid package name {:?}", preview(&entry.name)),
            );
        } else if !is_valid_version(&entry.version) {
            self.error(
                key,
                format!("invalid version {:?}", preview(&entry.version)),
            );
        } else {
            self.entries.push(entry);
        }
        Ok(())
    }

    fn error(&mut self, key: &str, reason: impl Into<String>) {
        if self.errors.len() < MAX_WARNINGS {
            self.errors.push(LockError::InvalidEntry {
                key: preview(key),
                reason: reason.into(),
            });
        }
    }
}

/// A problem with one installed `package.json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    #[error("package.json is {size} bytes, over the {max}-byte limit")]
    TooLarge { size: usize, max: usize },
    #[error("package.json is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("package.json is not a JSON object")]
    NotAnObject,
    #[error("package.json has no version")]
    MissingVersion,
    #[error("package.json name {0:?} is not a valid npm package name")]
    InvalidName(String),
    #[error("package.json version {0:?} is not a valid version")]
    InvalidVersion(String),
}

/// The fields of an installed `package.json` a scanner needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// `name`, when present (validated).
    pub name: Option<String>,
    pub version: String,
    /// `license` (a string, or the `type` of an object), else the types of
    /// the legacy `licenses` array.
    pub licenses: Vec<String>,
}

/// Parse an installed `package.json`. Never panics.
pub fn parse_package_json(data: &[u8]) -> Result<Manifest, ManifestError> {
    if data.len() > MAX_MANIFEST_SIZE {
        return Err(ManifestError::TooLarge {
            size: data.len(),
            max: MAX_MANIFEST_SIZE,
        });
    }
    let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let obj = json::read_object(data).map_err(|e| ManifestError::InvalidJson(e.to_string()))?;
    if !obj.is_object {
        return Err(ManifestError::NotAnObject);
    }
    let name = match obj.name.as_deref().map(str::trim) {
        Some(n) if is_valid_name(n) => Some(n.to_string()),
        Some(n) => return Err(ManifestError::InvalidName(preview(n))),
        None => None,
    };
    let version = obj
        .version
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(ManifestError::MissingVersion)?;
    if !is_valid_version(version) {
        return Err(ManifestError::InvalidVersion(preview(version)));
    }
    let licenses = if obj.license.is_empty() {
        obj.legacy_licenses
    } else {
        obj.license
    };
    Ok(Manifest {
        name,
        version: version.to_string(),
        licenses: licenses
            .into_iter()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty() && l.len() <= 256)
            .collect(),
    })
}

/// Whether `name` is a plausible npm package name: 1–214 characters, no
/// whitespace or control characters, either `name` or `@scope/name`.
pub fn is_valid_name(name: &str) -> bool {
    if name.is_empty()
        || name.len() > MAX_NAME_LEN
        || name.starts_with('.')
        || name.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return false;
    }
    match name.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, n)) => {
                !scope.is_empty() && !n.is_empty() && !n.contains('/') && !n.starts_with('.')
            }
            None => false,
        },
        None => !name.contains('/'),
    }
}

/// Whether `v` is a plain version (not a URL, path or other spec).
pub fn is_valid_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= MAX_VERSION_LEN
        && !v
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, ':' | '/' | '"' | '\''))
}

/// Split `name@rest` where `name` may be scoped (`@scope/name@rest`).
pub fn split_name(spec: &str) -> Option<(&str, &str)> {
    let skip = usize::from(spec.starts_with('@'));
    let at = spec.get(skip..)?.find('@')?.saturating_add(skip);
    let name = spec.get(..at)?;
    let rest = spec.get(at.saturating_add(1)..)?;
    // A scoped name is `@scope/name`, never a bare `@scope`.
    let ok = if skip == 1 {
        name.contains('/')
    } else {
        !name.is_empty()
    };
    ok.then_some((name, rest))
}

/// A lock file's bytes without a UTF-8 byte-order mark; `Err` when the file
/// is over [`MAX_LOCK_SIZE`].
fn lock_bytes(data: &[u8]) -> Result<&[u8], LockError> {
    if data.len() > MAX_LOCK_SIZE {
        return Err(LockError::TooLarge {
            size: data.len(),
            max: MAX_LOCK_SIZE,
        });
    }
    Ok(data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data))
}

/// A line-based lock file's text (see [`lock_bytes`]); `Err` when it is
/// also not UTF-8.
fn lock_text(data: &[u8]) -> Result<&str, LockError> {
    std::str::from_utf8(lock_bytes(data)?).map_err(|_| LockError::NotUtf8)
}

/// The lines of a line-based lock file that say something: 1-based
/// number, indentation and trimmed text. Blank lines and `#` comments are
/// skipped.
fn lock_lines(text: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    text.lines().enumerate().filter_map(|(idx, raw)| {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return None;
        }
        let indent = raw.len().saturating_sub(raw.trim_start().len());
        Some((idx.saturating_add(1), indent, trimmed))
    })
}

/// At most 64 characters of `s`, for messages.
fn preview(s: &str) -> String {
    if s.chars().count() <= 64 {
        s.to_string()
    } else {
        s.chars().take(64).collect::<String>() + "…"
    }
}

/// Strip one pair of matching quotes.
fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

/// The kinds of lock file, in the order they are read for one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockKind {
    /// `npm-shrinkwrap.json` (npm prefers it over `package-lock.json`).
    Shrinkwrap,
    PackageLock,
    Pnpm,
    Yarn,
}

impl LockKind {
    /// The kind of lock file at `path`; `None` for other files and for lock
    /// files inside `node_modules` (npm's hidden `.package-lock.json`, or a
    /// published package's own lock).
    pub fn of(path: &str) -> Option<LockKind> {
        let (dir, base) = path.rsplit_once('/').unwrap_or(("", path));
        let kind = match base {
            "npm-shrinkwrap.json" => LockKind::Shrinkwrap,
            "package-lock.json" => LockKind::PackageLock,
            "pnpm-lock.yaml" => LockKind::Pnpm,
            "yarn.lock" => LockKind::Yarn,
            _ => return None,
        };
        let in_node_modules = dir == "node_modules"
            || dir.starts_with("node_modules/")
            || dir.ends_with("/node_modules")
            || dir.contains("/node_modules/");
        (!in_node_modules).then_some(kind)
    }

    fn parse(self, data: &[u8]) -> ParsedLock {
        match self {
            LockKind::Shrinkwrap | LockKind::PackageLock => parse_package_lock(data),
            LockKind::Pnpm => parse_pnpm_lock(data),
            LockKind::Yarn => parse_yarn_lock(data),
        }
    }
}

/// For an installed manifest path, the package directory's name as npm
/// spells it (`a`, `@scope/b`); `None` when `path` is not an installed
/// manifest (see the module docs).
pub fn installed_dir_name(path: &str) -> Option<&str> {
    let dir = path.strip_suffix("/package.json")?;
    let is_node_modules = |p: &str| p == "node_modules" || p.ends_with("/node_modules");
    let (parent, base) = dir.rsplit_once('/')?;
    if base.is_empty() || base.starts_with('.') {
        return None;
    }
    if is_node_modules(parent) {
        // A bare scope directory (`node_modules/@types`) is not a package.
        return (!base.starts_with('@')).then_some(base);
    }
    let (grand, scope) = parent.rsplit_once('/')?;
    if scope.len() > 1 && scope.starts_with('@') && is_node_modules(grand) {
        return dir.get(grand.len().saturating_add(1)..);
    }
    None
}

/// The project an installed package or lock file belongs to: the
/// directory above the first `node_modules` segment, or the lock file's
/// directory.
fn project_of_installed(path: &str) -> &str {
    if path.starts_with("node_modules/") {
        return "";
    }
    path.find("/node_modules/")
        .and_then(|i| path.get(..i))
        .unwrap_or("")
}

fn project_of_lock(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Build the package for a name, version and licences read from `file`.
pub fn to_package(
    name: &str,
    version: &str,
    licenses: Vec<String>,
    file: FileRef<'_>,
) -> Result<Package, String> {
    let (namespace, short) = match name.strip_prefix('@').and_then(|s| s.split_once('/')) {
        Some((scope, n)) => (Some(format!("@{scope}")), n),
        None => (None, name),
    };
    let mut purl = PackageUrl::new("npm", short)
        .map_err(|e| format!("package {name}: {e}"))?
        .with_version(version);
    if let Some(ns) = namespace {
        purl = purl.with_namespace(&ns);
    }
    Ok(language_package(
        file,
        Ecosystem::NPM,
        name,
        version,
        &purl,
        licenses,
    ))
}

/// Reads installed npm packages and lock files.
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeCataloger;

/// Warnings with a cap.
struct Warn<'o> {
    out: &'o mut CatalogOutput,
    count: usize,
}

impl Warn<'_> {
    fn push(&mut self, path: &str, msg: String) {
        self.count = self.count.saturating_add(1);
        if self.count <= MAX_WARNINGS {
            self.out.warnings.push(warning(path, msg));
        }
    }
}

impl Cataloger for NodeCataloger {
    fn name(&self) -> &'static str {
        "npm"
    }

    fn wants(&self, path: &str) -> bool {
        if path.ends_with("/package.json") {
            installed_dir_name(path).is_some()
        } else {
            LockKind::of(path).is_some()
        }
    }

    fn catalog(&self, ctx: &CatalogContext<'_>, out: &mut CatalogOutput) {
        let before = out.packages.len();
        let mut manifests = Vec::new();
        let mut locks = Vec::new();
        for f in ctx.fs.files() {
            if let Some(dir_name) = installed_dir_name(f.path) {
                manifests.push((dir_name, f));
            } else if let Some(kind) = LockKind::of(f.path) {
                locks.push((project_of_lock(f.path), kind, f));
            }
        }
        let mut packages = Vec::new();
        let mut warn = Warn { out, count: 0 };

        // Installed copies, and what each project has installed.
        let mut installed: HashMap<&str, HashSet<(String, String)>> = HashMap::new();
        let mut seen_dirs: HashSet<String> = HashSet::new();
        for (dir_name, file) in manifests {
            if packages.len() >= MAX_PACKAGES {
                warn.push(
                    file.path,
                    format!("more than {MAX_PACKAGES} npm packages; the rest were not read"),
                );
                break;
            }
            let m = match parse_package_json(file.data) {
                Ok(m) => m,
                Err(e) => {
                    warn.push(file.path, e.to_string());
                    continue;
                }
            };
            // A package directory reached through two paths is one package.
            let dir = file.path.strip_suffix("/package.json").unwrap_or(file.path);
            if !seen_dirs.insert(ctx.fs.resolve(dir).unwrap_or_else(|| dir.to_string())) {
                continue;
            }
            let name = m.name.as_deref().unwrap_or(dir_name);
            installed
                .entry(project_of_installed(file.path))
                .or_default()
                .insert((name.to_string(), m.version.clone()));
            match to_package(name, &m.version, m.licenses, file) {
                Ok(p) => packages.push(p),
                Err(e) => warn.push(file.path, e),
            }
        }

        // Lock files: declared dependencies not installed.
        locks.sort_by(|a, b| (a.0, a.1, a.2.path).cmp(&(b.0, b.1, b.2.path)));
        let mut declared: HashSet<(&str, String, String)> = HashSet::new();
        'locks: for (project, kind, file) in locks {
            let parsed = kind.parse(file.data);
            for e in parsed.errors {
                warn.push(file.path, e.to_string());
            }
            let have = installed.get(project);
            let has_tree = have.is_some_and(|h| !h.is_empty());
            for entry in parsed.entries {
                let key = (entry.name, entry.version);
                if have.is_some_and(|h| h.contains(&key)) {
                    continue;
                }
                if has_tree && (entry.dev || entry.optional) {
                    continue;
                }
                if !declared.insert((project, key.0.clone(), key.1.clone())) {
                    continue;
                }
                if packages.len() >= MAX_PACKAGES {
                    warn.push(
                        file.path,
                        format!("more than {MAX_PACKAGES} npm packages; the rest were not read"),
                    );
                    break 'locks;
                }
                match to_package(&key.0, &key.1, entry.license.into_iter().collect(), file) {
                    Ok(p) => packages.push(p),
                    Err(e) => warn.push(file.path, e),
                }
            }
        }
        out.packages.extend(packages);
        tracing::debug!(
            packages = out.packages.len().saturating_sub(before),
            "npm catalogued"
        );
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests;
