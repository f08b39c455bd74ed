//! Package catalogers: each reads the files it asked for from the merged
//! [`FsView`] and reports packages. A cataloger never fails the scan: a
//! broken record becomes a [`ScanWarning`].

use palisade_model::{OsInfo, Package, ScanWarning};

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
}

// --- Registry of catalogers (filled in by the cataloger modules). ---

/// Every OS-package cataloger, in the order they run.
pub fn default_catalogers() -> Vec<Box<dyn Cataloger>> {
    Vec::new()
}

/// Whether OS detection needs the file at `path` buffered.
pub fn os_files_wanted(_path: &str) -> bool {
    false
}

/// Detect the operating system from the merged view.
pub fn detect_os(_fs: &FsView) -> Option<OsInfo> {
    None
}
