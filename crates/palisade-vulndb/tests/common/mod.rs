//! Helpers shared by the behaviour tests: locating the shared reference
//! data, building databases into temporary directories, and making
//! installed packages.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use palisade_model::{Ecosystem, OsInfo, Package, PackageName, SourcePackage, Version};
use palisade_vulndb::{build, BuildReport};

/// `$PALISADE_SHARED_DATA`, else `<workspace root>/../shared/data`.
pub(crate) fn shared_data_dir() -> PathBuf {
    match std::env::var_os("PALISADE_SHARED_DATA") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    }
}

/// Whether we run under CI, where missing data is a failure, not a skip.
pub(crate) fn under_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// The shared data directory if `relative` exists inside it. When it does
/// not: panics under CI, otherwise prints a note and returns `None` (the
/// caller skips).
pub(crate) fn require_shared(relative: &str, test: &str) -> Option<PathBuf> {
    let root = shared_data_dir();
    let wanted = root.join(relative);
    if wanted.exists() {
        return Some(root);
    }
    let msg = format!(
        "{test}: shared data {} is missing (set PALISADE_SHARED_DATA to the shared/data directory)",
        wanted.display()
    );
    if under_ci() {
        panic!("{msg}; CI is set, so this is a failure");
    }
    eprintln!("SKIPPED {msg}");
    None
}

/// Build a database from `source` into a fresh temporary directory.
pub(crate) fn build_into_temp(source: &Path) -> (tempfile::TempDir, BuildReport) {
    let dir = tempfile::tempdir().unwrap();
    let report = build(source, dir.path(), "palisade-vulndb tests")
        .unwrap_or_else(|e| panic!("building from {}: {e}", source.display()));
    (dir, report)
}

/// An installed package of a language ecosystem.
pub(crate) fn pkg(ecosystem: &str, name: &str, version: &str) -> Package {
    Package {
        name: PackageName::new(name),
        version: Version::new(version),
        ecosystem: Ecosystem::new(ecosystem),
        purl: String::new(),
        layer: None,
        path: format!("test/{ecosystem}/{name}"),
        source: None,
        arch: None,
        licenses: Vec::new(),
    }
}

/// An installed distribution package built from `source` at `source_version`.
pub(crate) fn distro_pkg(
    ecosystem: &str,
    name: &str,
    version: &str,
    source: &str,
    source_version: &str,
) -> Package {
    Package {
        source: Some(SourcePackage {
            name: source.to_string(),
            version: source_version.to_string(),
        }),
        path: "var/lib/dpkg/status".to_string(),
        ..pkg(ecosystem, name, version)
    }
}

pub(crate) fn os(family: &str, version: &str) -> OsInfo {
    OsInfo {
        family: family.to_string(),
        version: version.to_string(),
        pretty_name: None,
    }
}
