//! SemVer 2.0 versions, as npm (node-semver) and Cargo order them; also the
//! OSV `SEMVER` range type.
//!
//! `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`, parsed strictly: three numbers
//! without leading zeros, pre-release identifiers `[0-9A-Za-z-]+` (numeric
//! ones without leading zeros), build identifiers `[0-9A-Za-z-]+`. A leading
//! `v` (as in git tags and some OSV records) is tolerated and dropped.
//!
//! Precedence is SemVer 2.0 §11: numbers numerically, then a version with a
//! pre-release is lower than without, pre-release identifiers compare one by
//! one (numeric ones numerically and below alphanumeric ones, alphanumeric
//! ones by ASCII, a shorter prefix first). Build metadata is ignored, so
//! `1.0.0+a == 1.0.0+b`, as node-semver's `compare` and OSV have it.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::common::{
    check_identifiers, cmp_optional_prerelease, digit_run, parse_u64, parse_with, unexpected,
};
use super::{ord_via_cmp, InvalidReason, Scheme, VersionError};

/// A SemVer 2.0 version.
#[derive(Debug, Clone)]
pub struct SemverVersion {
    major: u64,
    minor: u64,
    patch: u64,
    /// Dot-separated pre-release identifiers; empty when none.
    pre: Box<str>,
    /// Dot-separated build identifiers; empty when none.
    build: Box<str>,
}

impl SemverVersion {
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

    /// Whether the version has a pre-release part.
    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }

    fn parse_trimmed(s: &str) -> Result<SemverVersion, InvalidReason> {
        let start = usize::from(s.starts_with(['v', 'V']));
        let core = Core::parse(s, start, false)?;
        let [major, minor, patch] = core.numbers;
        Ok(SemverVersion {
            major,
            minor,
            patch,
            pre: core.pre.into(),
            build: core.build.into(),
        })
    }
}

/// The parts of a SemVer-shaped version shared with Go module versions.
pub(crate) struct Core<'a> {
    pub(crate) numbers: [u64; 3],
    pub(crate) pre: &'a str,
    pub(crate) build: &'a str,
}

impl<'a> Core<'a> {
    /// Parses `s[start..]`; with `allow_short`, `N` and `N.N` are accepted
    /// when nothing follows them (Go's shorthand).
    pub(crate) fn parse(
        s: &'a str,
        start: usize,
        allow_short: bool,
    ) -> Result<Core<'a>, InvalidReason> {
        let bytes = s.as_bytes();
        let mut pos = start;
        let mut numbers = [0u64; 3];
        let mut written = 0;
        for (i, slot) in numbers.iter_mut().enumerate() {
            if i > 0 {
                match bytes.get(pos) {
                    Some(b'.') => pos += 1,
                    None if allow_short => break,
                    None => {
                        return Err(InvalidReason::UnexpectedEnd {
                            expected: "`.` and a number",
                        })
                    }
                    Some(_) => return Err(unexpected(s, pos)),
                }
            }
            let digits = bytes.get(pos..).map_or(0, digit_run);
            if digits == 0 {
                return Err(if pos >= bytes.len() {
                    InvalidReason::UnexpectedEnd {
                        expected: "a number",
                    }
                } else {
                    unexpected(s, pos)
                });
            }
            if digits > 1 && bytes.get(pos) == Some(&b'0') {
                return Err(InvalidReason::LeadingZero { at: pos });
            }
            *slot = bytes
                .get(pos..pos + digits)
                .and_then(parse_u64)
                .ok_or(InvalidReason::NumberTooLarge { at: pos })?;
            pos += digits;
            written += 1;
        }
        let rest = s.get(pos..).unwrap_or_default();
        if written < 3 && !rest.is_empty() {
            return Err(unexpected(s, pos));
        }
        let (before_build, build) = match rest.split_once('+') {
            Some((before, build)) => {
                check_identifiers(build, pos + before.len() + 1, "build identifier", false)?;
                (before, build)
            }
            None => (rest, ""),
        };
        let pre = match before_build.strip_prefix('-') {
            Some(pre) => {
                check_identifiers(pre, pos + 1, "pre-release identifier", true)?;
                pre
            }
            None if before_build.is_empty() => "",
            None => return Err(unexpected(s, pos)),
        };
        Ok(Core {
            numbers,
            pre,
            build,
        })
    }
}

impl FromStr for SemverVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_with(Scheme::Semver, s, SemverVersion::parse_trimmed)
    }
}

impl Ord for SemverVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| cmp_optional_prerelease(&self.pre, &other.pre))
    }
}

ord_via_cmp!(SemverVersion);

impl fmt::Display for SemverVersion {
    /// Prints `MAJOR.MINOR.PATCH[-PRE][+BUILD]` (without a leading `v`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
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

    #[test]
    fn parts_and_display() {
        let v: SemverVersion = "v1.2.3-rc.1+build.5".parse().unwrap();
        assert_eq!((v.major(), v.minor(), v.patch()), (1, 2, 3));
        assert_eq!(v.pre(), Some("rc.1"));
        assert_eq!(v.build(), Some("build.5"));
        assert!(v.is_prerelease());
        assert_eq!(v.to_string(), "1.2.3-rc.1+build.5");
    }

    #[test]
    fn errors() {
        let err = |s| SemverVersion::parse_trimmed(s).unwrap_err();
        assert_eq!(err("01.2.3"), InvalidReason::LeadingZero { at: 0 });
        assert_eq!(err("1.2.3-01"), InvalidReason::LeadingZero { at: 6 });
        assert_eq!(
            err("1.2"),
            InvalidReason::UnexpectedEnd {
                expected: "`.` and a number"
            }
        );
        assert_eq!(
            err("1.2.3-"),
            InvalidReason::EmptyPart {
                part: "pre-release identifier"
            }
        );
        assert_eq!(
            err("1.2.3-a_b"),
            InvalidReason::UnexpectedChar { ch: '_', at: 7 }
        );
        assert_eq!(
            err("1.2.3.4"),
            InvalidReason::UnexpectedChar { ch: '.', at: 5 }
        );
    }
}
