//! Version parsing and ordering, one module per versioning scheme.
//!
//! Each scheme has a version type that is [`FromStr`](std::str::FromStr),
//! [`Ord`] and [`Display`](fmt::Display). [`Scheme`] picks the scheme for an
//! OSV ecosystem name and [`ParsedVersion`] holds a version of any scheme, so
//! a matcher can parse an installed version once and compare it with many
//! range bounds without parsing again.
//!
//! # Equality is the scheme's, not the string's
//!
//! `==` on a version type means "the scheme orders these as equal", which is
//! coarser than string equality: `1.0` and `1.0-0` are the same dpkg version,
//! `1.0` and `1.0.0` the same PEP 440 version, `1.0.0+a` and `1.0.0+b` the
//! same SemVer version. The types therefore do not implement `Hash`.
//!
//! # Display
//!
//! Printing gives a normalised form that parses back to an equal version:
//! PEP 440 prints its canonical form (`1.0-ALPHA1` → `1.0a1`), SemVer drops a
//! leading `v`, Go adds it and expands `v1.2` to `v1.2.0`, rpm and dpkg drop
//! a zero epoch, NuGet prints numbers without leading zeros, Composer prints
//! its normalised form (with two exceptions that Composer itself has, see
//! [`composer`]). apk, RubyGems and Maven print the input (lower-cased for
//! Maven); [`MavenVersion::canonical`] gives Maven's own canonical form.
//!
//! # Total order
//!
//! Every scheme's order is a total order (property-tested), except Maven's:
//! `ComparableVersion` itself is not transitive for some unusual versions,
//! and [`MavenVersion`] follows it exactly (see [`maven`]).
//!
//! # OSV sentinels
//!
//! OSV ranges use `introduced: "0"` for "since the first version". That is a
//! property of ranges, not of versions, and is left to the matcher: some
//! schemes parse `0` (dpkg, apk, PEP 440, Go), others reject it (SemVer).

use std::cmp::Ordering;
use std::fmt;

pub mod apk;
mod common;
pub mod composer;
pub mod dpkg;
mod error;
pub mod golang;
pub mod maven;
pub mod nuget;
pub mod pep440;
pub mod rpm;
pub mod rubygems;
pub mod semver;

pub use apk::ApkVersion;
pub use composer::ComposerVersion;
pub use dpkg::DpkgVersion;
pub use error::{InvalidReason, VersionError, MAX_VERSION_LEN};
pub use golang::GoVersion;
pub use maven::MavenVersion;
pub use nuget::NugetVersion;
pub use pep440::Pep440Version;
pub use rpm::RpmVersion;
pub use rubygems::GemVersion;
pub use semver::SemverVersion;

/// A versioning scheme: how one ecosystem writes and orders its versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Scheme {
    /// Debian packages (`[epoch:]upstream[-revision]`), see [`dpkg`].
    Dpkg,
    /// Alpine packages, see [`apk`].
    Apk,
    /// RPM packages (`[epoch:]version[-release]`), see [`rpm`].
    Rpm,
    /// Python packages, see [`pep440`].
    Pep440,
    /// SemVer 2.0 as npm and Cargo use it, see [`semver`].
    Semver,
    /// Go modules, see [`golang`].
    Go,
    /// Maven artifacts, see [`maven`].
    Maven,
    /// Ruby gems, see [`rubygems`].
    RubyGems,
    /// NuGet packages, see [`nuget`].
    NuGet,
    /// Composer (Packagist) packages, see [`composer`].
    Composer,
}

/// OSV ecosystem names (without a `:release` suffix) and their schemes.
const ECOSYSTEMS: &[(&str, Scheme)] = &[
    ("Debian", Scheme::Dpkg),
    ("Ubuntu", Scheme::Dpkg),
    ("Alpine", Scheme::Apk),
    ("Wolfi", Scheme::Apk),
    ("Chainguard", Scheme::Apk),
    ("Red Hat", Scheme::Rpm),
    ("AlmaLinux", Scheme::Rpm),
    ("Rocky Linux", Scheme::Rpm),
    ("openSUSE", Scheme::Rpm),
    ("SUSE", Scheme::Rpm),
    ("Fedora", Scheme::Rpm),
    ("Mageia", Scheme::Rpm),
    ("PyPI", Scheme::Pep440),
    ("npm", Scheme::Semver),
    ("crates.io", Scheme::Semver),
    ("Go", Scheme::Go),
    ("Maven", Scheme::Maven),
    ("RubyGems", Scheme::RubyGems),
    ("NuGet", Scheme::NuGet),
    ("Packagist", Scheme::Composer),
];

impl Scheme {
    /// Every scheme, in declaration order.
    pub const ALL: [Scheme; 10] = [
        Scheme::Dpkg,
        Scheme::Apk,
        Scheme::Rpm,
        Scheme::Pep440,
        Scheme::Semver,
        Scheme::Go,
        Scheme::Maven,
        Scheme::RubyGems,
        Scheme::NuGet,
        Scheme::Composer,
    ];

    /// The scheme of an OSV ecosystem (`Debian`, `Alpine:v3.18`, `PyPI`,
    /// `crates.io`, …). A `:release` suffix is ignored; names are matched
    /// exactly first, then ignoring ASCII case. `None` for an ecosystem
    /// whose scheme this crate does not implement.
    pub fn for_ecosystem(ecosystem: &str) -> Option<Scheme> {
        let base = ecosystem
            .split_once(':')
            .map_or(ecosystem, |(base, _)| base)
            .trim();
        ECOSYSTEMS
            .iter()
            .find(|(name, _)| *name == base)
            .or_else(|| {
                ECOSYSTEMS
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(base))
            })
            .map(|&(_, scheme)| scheme)
    }

    /// A short human name, used in error messages.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Dpkg => "dpkg",
            Scheme::Apk => "apk",
            Scheme::Rpm => "rpm",
            Scheme::Pep440 => "PEP 440",
            Scheme::Semver => "SemVer",
            Scheme::Go => "Go module",
            Scheme::Maven => "Maven",
            Scheme::RubyGems => "RubyGems",
            Scheme::NuGet => "NuGet",
            Scheme::Composer => "Composer",
        }
    }

    /// Parses `input` as a version of this scheme.
    pub fn parse(self, input: &str) -> Result<ParsedVersion, VersionError> {
        Ok(match self {
            Scheme::Dpkg => ParsedVersion::Dpkg(input.parse()?),
            Scheme::Apk => ParsedVersion::Apk(input.parse()?),
            Scheme::Rpm => ParsedVersion::Rpm(input.parse()?),
            Scheme::Pep440 => ParsedVersion::Pep440(input.parse()?),
            Scheme::Semver => ParsedVersion::Semver(input.parse()?),
            Scheme::Go => ParsedVersion::Go(input.parse()?),
            Scheme::Maven => ParsedVersion::Maven(input.parse()?),
            Scheme::RubyGems => ParsedVersion::RubyGems(input.parse()?),
            Scheme::NuGet => ParsedVersion::NuGet(input.parse()?),
            Scheme::Composer => ParsedVersion::Composer(input.parse()?),
        })
    }

    /// Compares two versions of this scheme. Fails if either does not parse.
    pub fn compare(self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        let a = self.parse(a)?;
        let b = self.parse(b)?;
        a.try_cmp(&b)
    }

    /// Whether `input` is a valid version of this scheme.
    pub fn is_valid(self, input: &str) -> bool {
        self.parse(input).is_ok()
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A parsed version of any scheme.
///
/// Versions of the same scheme compare as that scheme orders them. The
/// [`Ord`] implementation puts versions of different schemes in [`Scheme`]
/// order so that `ParsedVersion` can be sorted and used in ordered
/// collections; that cross-scheme order means nothing, and
/// [`try_cmp`](ParsedVersion::try_cmp) refuses it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ParsedVersion {
    /// A dpkg version.
    Dpkg(DpkgVersion),
    /// An apk version.
    Apk(ApkVersion),
    /// An rpm version.
    Rpm(RpmVersion),
    /// A PEP 440 version.
    Pep440(Pep440Version),
    /// A SemVer version.
    Semver(SemverVersion),
    /// A Go module version.
    Go(GoVersion),
    /// A Maven version.
    Maven(MavenVersion),
    /// A RubyGems version.
    RubyGems(GemVersion),
    /// A NuGet version.
    NuGet(NugetVersion),
    /// A Composer version.
    Composer(ComposerVersion),
}

impl ParsedVersion {
    /// The scheme this version belongs to.
    pub fn scheme(&self) -> Scheme {
        match self {
            ParsedVersion::Dpkg(_) => Scheme::Dpkg,
            ParsedVersion::Apk(_) => Scheme::Apk,
            ParsedVersion::Rpm(_) => Scheme::Rpm,
            ParsedVersion::Pep440(_) => Scheme::Pep440,
            ParsedVersion::Semver(_) => Scheme::Semver,
            ParsedVersion::Go(_) => Scheme::Go,
            ParsedVersion::Maven(_) => Scheme::Maven,
            ParsedVersion::RubyGems(_) => Scheme::RubyGems,
            ParsedVersion::NuGet(_) => Scheme::NuGet,
            ParsedVersion::Composer(_) => Scheme::Composer,
        }
    }

    /// Compares two versions of the same scheme; versions of different
    /// schemes are an error rather than an arbitrary answer.
    pub fn try_cmp(&self, other: &ParsedVersion) -> Result<Ordering, VersionError> {
        if self.scheme() == other.scheme() {
            Ok(self.cmp(other))
        } else {
            Err(VersionError::SchemeMismatch {
                left: self.scheme(),
                right: other.scheme(),
            })
        }
    }
}

impl fmt::Display for ParsedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParsedVersion::Dpkg(v) => v.fmt(f),
            ParsedVersion::Apk(v) => v.fmt(f),
            ParsedVersion::Rpm(v) => v.fmt(f),
            ParsedVersion::Pep440(v) => v.fmt(f),
            ParsedVersion::Semver(v) => v.fmt(f),
            ParsedVersion::Go(v) => v.fmt(f),
            ParsedVersion::Maven(v) => v.fmt(f),
            ParsedVersion::RubyGems(v) => v.fmt(f),
            ParsedVersion::NuGet(v) => v.fmt(f),
            ParsedVersion::Composer(v) => v.fmt(f),
        }
    }
}

/// Implements `PartialEq`, `Eq` and `PartialOrd` from a type's `Ord`, so
/// that equality is the scheme's equality.
macro_rules! ord_via_cmp {
    ($ty:ty) => {
        impl PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                self.cmp(other) == ::std::cmp::Ordering::Equal
            }
        }
        impl Eq for $ty {}
        impl PartialOrd for $ty {
            fn partial_cmp(&self, other: &Self) -> Option<::std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
    };
}
pub(crate) use ord_via_cmp;

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
    fn ecosystems_map_to_schemes() {
        let cases = [
            ("Debian", Scheme::Dpkg),
            ("Debian:11", Scheme::Dpkg),
            ("Ubuntu:22.04:LTS", Scheme::Dpkg),
            ("Ubuntu:Pro:18.04:LTS", Scheme::Dpkg),
            ("Alpine:v3.18", Scheme::Apk),
            ("Wolfi", Scheme::Apk),
            ("Chainguard", Scheme::Apk),
            ("Red Hat:enterprise_linux:8::appstream", Scheme::Rpm),
            ("AlmaLinux:8", Scheme::Rpm),
            ("Rocky Linux:9", Scheme::Rpm),
            ("openSUSE:Leap 15.5", Scheme::Rpm),
            ("SUSE:Linux Enterprise Server 15 SP5", Scheme::Rpm),
            ("Fedora", Scheme::Rpm),
            ("Mageia:9", Scheme::Rpm),
            ("PyPI", Scheme::Pep440),
            ("npm", Scheme::Semver),
            ("crates.io", Scheme::Semver),
            ("Go", Scheme::Go),
            ("Maven", Scheme::Maven),
            ("RubyGems", Scheme::RubyGems),
            ("NuGet", Scheme::NuGet),
            ("Packagist", Scheme::Composer),
            ("pypi", Scheme::Pep440),
        ];
        for (ecosystem, scheme) in cases {
            assert_eq!(
                Scheme::for_ecosystem(ecosystem),
                Some(scheme),
                "{ecosystem}"
            );
        }
        assert_eq!(Scheme::for_ecosystem("Hackage"), None);
        assert_eq!(Scheme::for_ecosystem(""), None);
    }

    #[test]
    fn cross_scheme_comparison_is_an_error() {
        let a = Scheme::Dpkg.parse("1.0").unwrap();
        let b = Scheme::Apk.parse("1.0").unwrap();
        assert_eq!(
            a.try_cmp(&b),
            Err(VersionError::SchemeMismatch {
                left: Scheme::Dpkg,
                right: Scheme::Apk
            })
        );
        assert_eq!(a.scheme(), Scheme::Dpkg);
    }

    #[test]
    fn every_scheme_rejects_empty_and_overlong_input() {
        let long = "1".repeat(MAX_VERSION_LEN + 1);
        for scheme in Scheme::ALL {
            for input in ["", "   ", long.as_str()] {
                let err = scheme.parse(input).unwrap_err();
                assert_eq!(err.scheme(), Some(scheme), "{scheme} {input:?}");
            }
        }
    }
}
