//! Package catalogers: each reads the files it asked for from the merged
//! [`FsView`] and reports packages. A cataloger never fails the scan: a
//! broken record becomes a [`ScanWarning`].

pub mod apk;
pub mod dotnet;
pub mod dpkg;
pub mod elf;
pub mod golang;
pub mod java;
pub mod node;
pub mod os_release;
pub mod php;
pub mod python;
pub mod rpm;
pub mod ruby;
pub mod rust;

use std::collections::HashSet;
use std::hash::Hash;

use palisade_model::{Ecosystem, OsInfo, Package, PackageName, ScanWarning, Version};
use serde::{Deserialize, Serialize};

pub use self::apk::ApkCataloger;
pub use self::dpkg::DpkgCataloger;
pub use self::rpm::RpmCataloger;
use crate::fs::{FileRef, FsView};
use crate::purl::PackageUrl;

/// What catalogers get to read.
#[derive(Debug, Clone, Copy)]
pub struct CatalogContext<'a> {
    pub fs: &'a FsView,
    /// The detected operating system, if any (used for purl qualifiers and
    /// ecosystem releases).
    pub os: Option<&'a OsInfo>,
}

/// What catalogers produce.
#[derive(Debug, Clone, Default)]
pub struct CatalogOutput {
    pub packages: Vec<Package>,
    pub warnings: Vec<ScanWarning>,
}

/// One package-database reader.
pub trait Cataloger: Send + Sync {
    /// Short name for logs: `dpkg`, `apk`, `rpm`, …
    fn name(&self) -> &'static str;

    /// Whether the layer walker must buffer the file at `path` (normalised,
    /// no leading `/`). Called for every file of every layer, so keep it to
    /// cheap string comparisons.
    fn wants(&self, path: &str) -> bool;

    /// Read the merged view and append packages and warnings.
    fn catalog(&self, ctx: &CatalogContext<'_>, out: &mut CatalogOutput);

    /// Whether this cataloger wants ELF executables offered to
    /// [`Cataloger::extract`] (Go build info, `cargo auditable` data).
    fn wants_executables(&self) -> bool {
        false
    }

    /// Whether the file at `path` should be reduced by
    /// [`Cataloger::extract`] instead of kept whole (big files such as
    /// archives and binaries). `elf_executable` is true for ELF files with
    /// an execute bit. Called for every file: cheap tests only.
    fn wants_extract(&self, _path: &str, _elf_executable: bool) -> bool {
        false
    }

    /// Reduce a file to the few bytes `catalog` needs, read back with
    /// [`FsView::extracted`] under this cataloger's name. `None` when the
    /// file holds nothing for it. `file` is seekable and starts at 0.
    fn extract(&self, _path: &str, _file: &mut dyn crate::layer::ReadSeek) -> Option<Vec<u8>> {
        None
    }
}

// --- Registry of catalogers. ---

/// Every OS-package cataloger, in the order they run.
pub fn default_catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(DpkgCataloger),
        Box::new(ApkCataloger),
        Box::new(RpmCataloger),
        Box::new(python::PythonCataloger),
        Box::new(node::NodeCataloger),
        Box::new(golang::GoCataloger),
        Box::new(rust::RustCataloger),
        Box::new(java::JavaCataloger),
        Box::new(ruby::RubyCataloger),
        Box::new(php::PhpCataloger),
        Box::new(dotnet::DotnetCataloger),
    ]
}

/// Whether OS detection needs the file at `path` buffered.
pub fn os_files_wanted(path: &str) -> bool {
    os_release::wanted(path)
}

/// Detect the operating system from the merged view: `os-release` first,
/// then the older release files (see [`os_release`]).
pub fn detect_os(fs: &FsView) -> Option<OsInfo> {
    os_release::detect(fs)
}

/// A warning about the file at `path`.
fn warning(path: &str, message: impl Into<String>) -> ScanWarning {
    ScanWarning {
        location: path.to_string(),
        message: message.into(),
    }
}

/// Add what was parsed from `file` to `out`: each parse error as a warning,
/// then each entry whose `key` is not yet in `seen` as a package, or as a
/// warning when `to_package` refuses it.
fn add_parsed<E, K: Eq + Hash>(
    out: &mut CatalogOutput,
    file: FileRef<'_>,
    errors: impl IntoIterator<Item = impl ToString>,
    entries: impl IntoIterator<Item = E>,
    seen: &mut HashSet<K>,
    key: impl Fn(&E) -> K,
    to_package: impl Fn(&E) -> Result<Package, String>,
) {
    for e in errors {
        out.warnings.push(warning(file.path, e.to_string()));
    }
    for entry in entries {
        if !seen.insert(key(&entry)) {
            continue;
        }
        match to_package(&entry) {
            Ok(p) => out.packages.push(p),
            Err(msg) => out.warnings.push(warning(file.path, msg)),
        }
    }
}

/// A language package read from `file`: no source package, no
/// architecture.
fn language_package(
    file: FileRef<'_>,
    ecosystem: &str,
    name: impl Into<String>,
    version: impl Into<String>,
    purl: &PackageUrl,
    licenses: Vec<String>,
) -> Package {
    Package {
        name: PackageName::new(name),
        version: Version::new(version),
        ecosystem: Ecosystem::new(ecosystem),
        purl: purl.to_string(),
        layer: file.layer.cloned(),
        path: file.path.to_string(),
        source: None,
        arch: None,
        licenses,
    }
}

/// Add one file's packages, and its warnings located at the file.
fn add_results(out: &mut CatalogOutput, file: FileRef<'_>, results: (Vec<Package>, Vec<String>)) {
    let (packages, warnings) = results;
    out.packages.extend(packages);
    out.warnings
        .extend(warnings.into_iter().map(|w| warning(file.path, w)));
}

/// What a cataloger of executables keeps of one file (see
/// [`Cataloger::extract`]): what it found, or why it could not read it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Extract<T> {
    Found(T),
    Error(String),
}

impl<T: Serialize> Extract<T> {
    /// The extract of a file from what reading it gave; `None` when the file
    /// holds nothing for the cataloger.
    fn encode(read: Result<Option<T>, impl std::fmt::Display>) -> Option<Vec<u8>> {
        let e = match read {
            Ok(Some(found)) => Extract::Found(found),
            Ok(None) => return None,
            Err(e) => Extract::Error(e.to_string()),
        };
        serde_json::to_vec(&e).ok()
    }
}

impl<T: serde::de::DeserializeOwned> Extract<T> {
    /// What [`Extract::encode`] kept, or the warning to report: `{what}:
    /// {error}` when the file could not be read, `{extract} unreadable:
    /// {error}` when the extract itself cannot be.
    fn decode(data: &[u8], what: &str, extract: &str) -> Result<T, String> {
        match serde_json::from_slice::<Extract<T>>(data) {
            Ok(Extract::Found(found)) => Ok(found),
            Ok(Extract::Error(e)) => Err(format!("{what}: {e}")),
            Err(e) => Err(format!("{extract} unreadable: {e}")),
        }
    }
}

/// Read a file of records separated by blank lines (apk's installed
/// database, dpkg's status file). `line` gets each other line of a record:
/// its 1-based number and its bytes without the line end (CRLF accepted);
/// once `started` says it began a record, `finish` gets the record at the
/// blank line or end of file that closes it. `false` when the file holds
/// more than `max` records: the rest were not read.
fn read_records<'a, R: Default>(
    data: &'a [u8],
    max: usize,
    started: impl Fn(&R) -> bool,
    mut line: impl FnMut(&mut R, usize, &'a [u8]),
    mut finish: impl FnMut(R),
) -> bool {
    let mut cur = R::default();
    let mut records = 0usize;
    for (idx, raw_line) in data.split(|&b| b == b'\n').enumerate() {
        let text = raw_line.strip_suffix(b"\r").unwrap_or(raw_line);
        if text.iter().all(u8::is_ascii_whitespace) {
            if started(&cur) {
                records = records.saturating_add(1);
                if records > max {
                    return false;
                }
                finish(std::mem::take(&mut cur));
            }
            continue;
        }
        line(&mut cur, idx.saturating_add(1), text);
    }
    if started(&cur) {
        if records >= max {
            return false;
        }
        finish(cur);
    }
    true
}

/// The purl `distro` qualifier value `<ID>-<VERSION_ID>` (just `<ID>` when
/// the version is unknown).
fn distro_qualifier(os: &OsInfo) -> String {
    if os.version.is_empty() {
        os.family.clone()
    } else {
        format!("{}-{}", os.family, os.version)
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

    #[test]
    fn registry_and_os_detection() {
        let names: Vec<&str> = default_catalogers().iter().map(|c| c.name()).collect();
        assert_eq!(
            names,
            [
                "dpkg", "apk", "rpm", "python", "npm", "go", "rust", "java", "ruby", "php",
                "dotnet"
            ]
        );
        assert!(os_files_wanted("etc/os-release"));
        assert!(!os_files_wanted("etc/passwd"));
        let fs = FsView::from_files([("etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n")]);
        assert_eq!(
            detect_os(&fs).map(|o| o.version),
            Some("3.19.1".to_string())
        );
    }

    #[test]
    fn end_to_end_debian_image() {
        let fs = FsView::from_files([
            ("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"),
            ("var/lib/dpkg/status", "Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nArchitecture: arm64\n"),
        ]);
        let os = detect_os(&fs);
        let ctx = CatalogContext {
            fs: &fs,
            os: os.as_ref(),
        };
        let mut out = CatalogOutput::default();
        for c in default_catalogers() {
            c.catalog(&ctx, &mut out);
        }
        assert!(out.warnings.is_empty());
        assert_eq!(out.packages.len(), 1);
        assert_eq!(
            out.packages[0].purl,
            "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=arm64&distro=debian-12"
        );
    }
}
