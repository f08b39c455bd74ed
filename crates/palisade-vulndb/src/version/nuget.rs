//! NuGet package versions, as `NuGet.Versioning` (`NuGetVersion` and its
//! default `VersionComparer`) parses and orders them.
//!
//! `Major[.Minor[.Patch[.Revision]]][-Release][+Metadata]`: one to four
//! numbers (leading zeros allowed, each at most `i32::MAX`), missing ones
//! being 0; release labels and metadata are dot-separated `[0-9A-Za-z-]+`.
//!
//! Order: the four numbers, then a version without release labels above one
//! with; labels compare in turn — two labels that parse as 32-bit integers
//! numerically, an integer label below a non-integer one, others ignoring
//! ASCII case (SemVer 2.0.1 as NuGet reads it) — and a shorter list of
//! labels first. Metadata is ignored. So `1.0.0-BETA == 1.0.0-beta` and
//! `1.0 == 1.0.0.0`.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::common::{check_identifiers, digit_run, parse_u64, parse_with, unexpected};
use super::{ord_via_cmp, InvalidReason, Scheme, VersionError};

/// A NuGet version.
#[derive(Debug, Clone)]
pub struct NugetVersion {
    /// Major, minor, patch, revision.
    numbers: [u32; 4],
    /// Release labels; empty when none.
    release: Box<str>,
    /// Build metadata; empty when none.
    metadata: Box<str>,
}

impl NugetVersion {
    /// Major, minor, patch and revision numbers (missing ones are 0).
    pub fn numbers(&self) -> [u32; 4] {
        self.numbers
    }

    /// The release labels (without the `-`), if any.
    pub fn release(&self) -> Option<&str> {
        (!self.release.is_empty()).then_some(&*self.release)
    }

    /// The build metadata (without the `+`), if any.
    pub fn metadata(&self) -> Option<&str> {
        (!self.metadata.is_empty()).then_some(&*self.metadata)
    }

    /// Whether the version has release labels.
    pub fn is_prerelease(&self) -> bool {
        !self.release.is_empty()
    }

    fn parse_trimmed(s: &str) -> Result<NugetVersion, InvalidReason> {
        let bytes = s.as_bytes();
        let mut numbers = [0u32; 4];
        let mut pos = 0;
        for (i, slot) in numbers.iter_mut().enumerate() {
            if i > 0 {
                if bytes.get(pos) != Some(&b'.') {
                    break;
                }
                pos += 1;
            }
            let n = bytes.get(pos..).map_or(0, digit_run);
            if n == 0 {
                return Err(if pos >= bytes.len() {
                    InvalidReason::UnexpectedEnd {
                        expected: "a number",
                    }
                } else {
                    unexpected(s, pos)
                });
            }
            *slot = bytes
                .get(pos..pos + n)
                .and_then(parse_u64)
                .and_then(|v| i32::try_from(v).ok())
                .and_then(|v| u32::try_from(v).ok())
                .ok_or(InvalidReason::NumberTooLarge { at: pos })?;
            pos += n;
        }
        let rest = s.get(pos..).unwrap_or_default();
        let (before_meta, metadata) = match rest.split_once('+') {
            Some((before, meta)) => {
                check_identifiers(meta, pos + before.len() + 1, "metadata label", false)?;
                (before, meta)
            }
            None => (rest, ""),
        };
        let release = match before_meta.strip_prefix('-') {
            Some(release) => {
                check_identifiers(release, pos + 1, "release label", false)?;
                release
            }
            None if before_meta.is_empty() => "",
            None => return Err(unexpected(s, pos)),
        };
        Ok(NugetVersion {
            numbers,
            release: release.into(),
            metadata: metadata.into(),
        })
    }
}

impl FromStr for NugetVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_with(Scheme::NuGet, s, NugetVersion::parse_trimmed)
    }
}

/// A label's value if .NET's `Int32.TryParse` accepts it (labels cannot
/// hold whitespace or `+`, so only an optional `-` and digits matter).
fn as_int(label: &str) -> Option<i32> {
    let (negative, digits) = match label.strip_prefix('-') {
        Some(digits) => (true, digits),
        None => (false, label),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let magnitude = i64::try_from(parse_u64(digits.as_bytes())?).ok()?;
    i32::try_from(if negative { -magnitude } else { magnitude }).ok()
}

fn cmp_label(a: &str, b: &str) -> Ordering {
    match (as_int(a), as_int(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a
            .bytes()
            .map(|c| c.to_ascii_uppercase())
            .cmp(b.bytes().map(|c| c.to_ascii_uppercase())),
    }
}

impl Ord for NugetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers.cmp(&other.numbers).then_with(|| {
            match (self.release.is_empty(), other.release.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    let mut left = self.release.split('.');
                    let mut right = other.release.split('.');
                    loop {
                        match (left.next(), right.next()) {
                            (None, None) => return Ordering::Equal,
                            (None, Some(_)) => return Ordering::Less,
                            (Some(_), None) => return Ordering::Greater,
                            (Some(a), Some(b)) => {
                                let ord = cmp_label(a, b);
                                if ord != Ordering::Equal {
                                    return ord;
                                }
                            }
                        }
                    }
                }
            }
        })
    }
}

ord_via_cmp!(NugetVersion);

impl fmt::Display for NugetVersion {
    /// Prints NuGet's normalised form: three numbers, a fourth only when it
    /// is not 0, no leading zeros; then release labels and metadata.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [major, minor, patch, revision] = self.numbers;
        write!(f, "{major}.{minor}.{patch}")?;
        if revision != 0 {
            write!(f, ".{revision}")?;
        }
        if !self.release.is_empty() {
            write!(f, "-{}", self.release)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
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

    fn v(s: &str) -> NugetVersion {
        s.parse().unwrap()
    }

    #[test]
    fn normalised_display() {
        assert_eq!(v("1").to_string(), "1.0.0");
        assert_eq!(
            v("01.02.03.04-Beta+sha.1").to_string(),
            "1.2.3.4-Beta+sha.1"
        );
        assert_eq!(v("1.2.3.0").to_string(), "1.2.3");
        assert_eq!(v("1.2.3.0").numbers(), [1, 2, 3, 0]);
    }

    #[test]
    fn integer_labels_follow_int32_parse() {
        assert!(v("1.0.0-2147483647") < v("1.0.0-a"));
        // Too large for Int32: a text label, so above every integer label.
        assert!(v("1.0.0-2147483648") > v("1.0.0-9"));
        assert!(v("1.0.0--1") < v("1.0.0-0"));
    }

    #[test]
    fn rejects() {
        for bad in [
            "1.2.3.4.5",
            "1.",
            "1.2.3-",
            "1.2.3+",
            "v1.0",
            "1.2.3-a_b",
            "2147483648.0",
        ] {
            assert!(bad.parse::<NugetVersion>().is_err(), "{bad:?}");
        }
    }
}
