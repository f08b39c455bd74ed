//! Helpers shared by the behaviour tests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use palisade_audit::{scan_files, AuditEvent};

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

/// `<shared data>/<relative>` if it exists. When it does not: panics under
/// CI, otherwise prints a note and returns `None` (the caller skips).
pub(crate) fn require_shared(relative: &str, test: &str) -> Option<PathBuf> {
    let wanted = shared_data_dir().join(relative);
    if wanted.exists() {
        return Some(wanted);
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

/// This crate's test data directory.
pub(crate) fn test_data(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(relative)
}

/// Every event of a file; panics on file errors.
pub(crate) fn events_of(path: &Path) -> Vec<AuditEvent> {
    scan_files([path])
        .map(|e| e.unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}
