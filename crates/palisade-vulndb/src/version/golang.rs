//! Go module versions, as `golang.org/x/mod/semver` parses and orders them.
//!
//! Go module versions are SemVer with a `v` prefix (`v1.2.3`), plus the
//! shorthands `v1` and `v1.2` (meaning `v1.0.0` and `v1.2.0`). OSV records
//! for Go write versions without the `v`, so the prefix is optional here.
//!
//! * Pseudo-versions such as `v0.0.0-20191109021931-daa7c04131f5` or
//!   `v1.2.4-0.20191109021931-daa7c04131f5` are ordinary pre-releases and
//!   order as SemVer says: by their timestamp against each other, below the
//!   release they precede.
//! * Build metadata is ignored for ordering, so `v2.0.0+incompatible`
//!   equals `v2.0.0`; it is kept for display.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::common::{all_digits, cmp_optional_prerelease, parse_with};
use super::semver::Core;
use super::{ord_via_cmp, InvalidReason, Scheme, VersionError};

/// A Go module version.
#[derive(Debug, Clone)]
pub struct GoVersion {
    major: u64,
    minor: u64,
    patch: u64,
    /// Pre-release identifiers; empty when none.
    pre: Box<str>,
    /// Build metadata (such as `incompatible`); empty when none.
    build: Box<str>,
}

impl GoVersion {
    /// The major number.
    pub fn major(&self) -> u64 {
        self.major
    }

    /// The minor number.
    pub fn minor(&self) -> u64 {
        self.minor
    }

    /// The patch number.
    pub fn patch(&self) -> u64 {
        self.patch
    }

    /// The pre-release identifiers (without the `-`), if any.
    pub fn pre(&self) -> Option<&str> {
        (!self.pre.is_empty()).then_some(&*self.pre)
    }

    /// The build metadata (without the `+`), if any.
    pub fn build(&self) -> Option<&str> {
        (!self.build.is_empty()).then_some(&*self.build)
    }

    /// Whether the version carries `+incompatible` (a v2+ module without a
    /// `go.mod` major-version suffix).
    pub fn is_incompatible(&self) -> bool {
        &*self.build == "incompatible"
    }

    /// Whether this is a pseudo-version (a commit, not a tag), in any of
    /// the three forms the Go command generates: `vX.0.0-TIMESTAMP-HASH`,
    /// `vX.Y.Z-PRE.0.TIMESTAMP-HASH` and `vX.Y.Z-0.TIMESTAMP-HASH`.
    pub fn is_pseudo(&self) -> bool {
        let (head, last) = match self.pre.rsplit_once('.') {
            Some((head, last)) => (Some(head), last),
            None => (None, &*self.pre),
        };
        let Some((timestamp, hash)) = last.split_once('-') else {
            return false;
        };
        let stamped = timestamp.len() == 14
            && all_digits(timestamp.as_bytes())
            && !hash.is_empty()
            && hash.bytes().all(|c| c.is_ascii_alphanumeric());
        stamped
            && match head {
                None => self.minor == 0 && self.patch == 0,
                Some(head) => head == "0" || head.ends_with(".0"),
            }
    }

    fn parse_trimmed(s: &str) -> Result<GoVersion, InvalidReason> {
        let start = usize::from(s.starts_with('v'));
        let core = Core::parse(s, start, true)?;
        let [major, minor, patch] = core.numbers;
        Ok(GoVersion {
            major,
            minor,
            patch,
            pre: core.pre.into(),
            build: core.build.into(),
        })
    }
}

impl FromStr for GoVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_with(Scheme::Go, s, GoVersion::parse_trimmed)
    }
}

impl Ord for GoVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| cmp_optional_prerelease(&self.pre, &other.pre))
    }
}

ord_via_cmp!(GoVersion);

impl fmt::Display for GoVersion {
    /// Prints the canonical `vMAJOR.MINOR.PATCH[-PRE]`, with build metadata
    /// (`+incompatible`) kept.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.build.is_empty() {
            write!(f, "+{}", self.build)?;
        }
        Ok(())
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

    fn v(s: &str) -> GoVersion {
        s.parse().unwrap()
    }

    #[test]
    fn shorthand_and_display() {
        assert_eq!(v("v1").to_string(), "v1.0.0");
        assert_eq!(v("1.2").to_string(), "v1.2.0");
        assert_eq!(v("v2.0.0+incompatible").to_string(), "v2.0.0+incompatible");
        assert!(v("v2.0.0+incompatible").is_incompatible());
        assert!("v1.2-pre".parse::<GoVersion>().is_err());
        assert!("v1.2+meta".parse::<GoVersion>().is_err());
    }

    #[test]
    fn pseudo_versions() {
        for pseudo in [
            "v0.0.0-20191109021931-daa7c04131f5",
            "v1.2.4-0.20191109021931-daa7c04131f5",
            "v1.2.3-pre.0.20191109021931-daa7c04131f5",
            "v2.0.0-20191109021931-daa7c04131f5+incompatible",
        ] {
            assert!(v(pseudo).is_pseudo(), "{pseudo}");
        }
        for tag in [
            "v1.2.3",
            "v1.2.3-rc.1",
            "v1.2.3-20191109021931-daa7c04131f5",
            "v0.0.0-2019110902193-daa7c04131f5",
        ] {
            assert!(!v(tag).is_pseudo(), "{tag}");
        }
    }
}
