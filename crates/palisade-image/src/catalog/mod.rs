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

use palisade_model::{OsInfo, Package, ScanWarning};

pub use self::apk::ApkCataloger;
pub use self::dpkg::DpkgCataloger;
pub use self::rpm::RpmCataloger;
use crate::fs::FsView;

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
