//! Palisade's vulnerability database.
//!
//! Today this crate holds one concept: **version ordering per ecosystem**
//! ([`version`]). Every advisory source (OSV, distribution trackers) states
//! affected ranges as versions in the ecosystem's own scheme, and a scanner is
//! only as correct as its comparison of an installed version against those
//! bounds. Each scheme lives in its own module and follows the reference
//! implementation of that ecosystem, not a generic "semver-ish" heuristic:
//!
//! | Scheme | OSV ecosystems | Follows |
//! |---|---|---|
//! | [`Scheme::Dpkg`] | Debian, Ubuntu | Debian Policy §5.6.12, dpkg's `verrevcmp` |
//! | [`Scheme::Apk`] | Alpine, Wolfi, Chainguard | apk-tools version rules |
//! | [`Scheme::Rpm`] | Red Hat, AlmaLinux, Rocky Linux, openSUSE, SUSE, Fedora, Mageia | `rpmvercmp` (rpm ≥ 4.15, with `~` and `^`) |
//! | [`Scheme::Pep440`] | PyPI | PEP 440 |
//! | [`Scheme::Semver`] | npm, crates.io | SemVer 2.0 precedence as node-semver applies it |
//! | [`Scheme::Go`] | Go | `golang.org/x/mod/semver` (with or without the `v`) |
//! | [`Scheme::Maven`] | Maven | `ComparableVersion` (maven-artifact 3.8.7+/3.9) |
//! | [`Scheme::RubyGems`] | RubyGems | `Gem::Version` |
//! | [`Scheme::NuGet`] | NuGet | `NuGet.Versioning` |
//! | [`Scheme::Composer`] | Packagist | Composer's `VersionParser::normalize` + PHP `version_compare` |
//!
//! ```
//! use std::cmp::Ordering;
//! use palisade_vulndb::Scheme;
//!
//! let scheme = Scheme::for_ecosystem("Debian:12").unwrap();
//! assert_eq!(scheme.compare("1.0~rc1-1", "1.0-1").unwrap(), Ordering::Less);
//!
//! // Parse the installed version once, compare it with many bounds.
//! let installed = scheme.parse("1:2.36.1-8+deb11u1").unwrap();
//! let fixed = scheme.parse("1:2.36.1-8+deb11u2").unwrap();
//! assert!(installed < fixed);
//! ```
//!
//! Parsing is strict where the reference implementation is strict, and an
//! unparseable version is a typed [`VersionError`] naming the scheme and the
//! input — never a silent match. The version module does no I/O; import, storage and update do.
//!
//! Around the version schemes: [`osv`] parses advisories (OSV JSON; the
//! Debian tracker and Alpine secdb are converted to the same model on
//! import), [`build`] writes them into one SQLite file ([`VulnDb`]), and
//! [`match_packages`] tests installed packages against it with OSV's range
//! semantics. [`update`] downloads the sources from upstream.

pub mod ignore;
mod import;
mod matcher;
pub mod osv;
mod store;
pub mod update;
pub mod version;

pub use ignore::{IgnoreError, IgnoreFile, IgnoreRule};
pub use import::{build, debian_release, BuildError, BuildReport};
pub use matcher::{match_packages, MatchOutcome};
pub use osv::{parse_osv, Advisory, Affected, Event, OsvError, Range, RangeKind};
pub use store::{
    default_db_dir, ecosystem_key, name_key, AdvisoryMeta, DbError, DbStatus, DbWriter,
    InsertOutcome, SourceSummary, VulnDb, DB_FILE, SCHEMA_VERSION,
};

pub use version::{
    ApkVersion, ComposerVersion, DpkgVersion, GemVersion, GoVersion, InvalidReason, MavenVersion,
    NugetVersion, ParsedVersion, Pep440Version, RpmVersion, Scheme, SemverVersion, VersionError,
    MAX_VERSION_LEN,
};
