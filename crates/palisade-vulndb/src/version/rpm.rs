//! RPM package versions (`[epoch:]version[-release]`), ordered as rpm ≥ 4.15
//! orders them.
//!
//! The epoch is the number before a `:` (0 when absent) and compares
//! numerically. Version and release each compare with `rpmvercmp`, which
//! splits a string into segments and compares them in turn:
//!
//! * characters other than ASCII letters, digits, `~` and `^` only separate
//!   segments (`1.0`, `1_0` and `1+0` are equal);
//! * a run of digits is a numeric segment, compared numerically; a run of
//!   letters an alphabetic segment, compared by ASCII (case-sensitive); a
//!   numeric segment is newer than an alphabetic one;
//! * `~` sorts before everything, including the end: `1.0~rc1 < 1.0`;
//! * `^` sorts after the end but before any further segment:
//!   `1.0 < 1.0^git1 < 1.0.1`;
//! * otherwise the string with segments left over is newer.
//!
//! rpm's dependency matching treats a missing release as matching every
//! release. That is not a total order, so here an absent release compares as
//! `rpmvercmp("", release)` does — below any release: `1.0 < 1.0-1`. A
//! matcher that wants rpm's dependency semantics can check
//! [`RpmVersion::release`] first.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::common::{cmp_digits, parse_u64, parse_with, unexpected};
use super::{ord_via_cmp, InvalidReason, Scheme, VersionError};

/// An RPM package version (epoch, version, release).
#[derive(Debug, Clone)]
pub struct RpmVersion {
    epoch: u32,
    /// `version[-release]`, without the epoch.
    text: Box<str>,
    /// Byte length of the version part of `text`.
    version_len: usize,
}

impl RpmVersion {
    /// The epoch (0 when absent).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The version.
    pub fn version(&self) -> &str {
        self.text.get(..self.version_len).unwrap_or_default()
    }

    /// The release, if present.
    pub fn release(&self) -> Option<&str> {
        self.text.get(self.version_len..)?.strip_prefix('-')
    }

    fn parse_trimmed(s: &str) -> Result<RpmVersion, InvalidReason> {
        if let Some(at) = s.bytes().position(|c| !c.is_ascii_graphic()) {
            return Err(unexpected(s, at));
        }
        let (epoch, rest, rest_at) = match s.split_once(':') {
            Some((epoch, rest)) => {
                if epoch.is_empty() {
                    return Err(InvalidReason::EmptyPart { part: "epoch" });
                }
                if !epoch.bytes().all(|c| c.is_ascii_digit()) {
                    return Err(InvalidReason::NotANumber { part: "epoch" });
                }
                let value = parse_u64(epoch.as_bytes())
                    .and_then(|e| u32::try_from(e).ok())
                    .ok_or(InvalidReason::NumberTooLarge { at: 0 })?;
                (value, rest, epoch.len() + 1)
            }
            None => (0, s, 0),
        };
        if let Some(at) = rest.find(':') {
            return Err(unexpected(s, rest_at + at));
        }
        let version_len = match rest.rfind('-') {
            Some(dash) => {
                if dash + 1 == rest.len() {
                    return Err(InvalidReason::EmptyPart { part: "release" });
                }
                dash
            }
            None => rest.len(),
        };
        if version_len == 0 {
            return Err(InvalidReason::EmptyPart { part: "version" });
        }
        Ok(RpmVersion {
            epoch,
            text: rest.into(),
            version_len,
        })
    }
}

impl FromStr for RpmVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_with(Scheme::Rpm, s, RpmVersion::parse_trimmed)
    }
}

impl Ord for RpmVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| rpmvercmp(self.version(), other.version()))
            .then_with(|| {
                rpmvercmp(
                    self.release().unwrap_or_default(),
                    other.release().unwrap_or_default(),
                )
            })
    }
}

ord_via_cmp!(RpmVersion);

impl fmt::Display for RpmVersion {
    /// Prints `[epoch:]version[-release]` with a zero epoch left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch != 0 {
            write!(f, "{}:", self.epoch)?;
        }
        f.write_str(&self.text)
    }
}

/// One segment of a version or release string.
#[derive(Debug, Clone, Copy)]
enum Segment<'a> {
    Tilde,
    Caret,
    Alpha(&'a [u8]),
    Numeric(&'a [u8]),
}

struct Segments<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Segments<'a> {
    type Item = Segment<'a>;

    fn next(&mut self) -> Option<Segment<'a>> {
        let skip = self
            .rest
            .iter()
            .take_while(|&&c| !(c.is_ascii_alphanumeric() || c == b'~' || c == b'^'))
            .count();
        let rest = self.rest.get(skip..).unwrap_or_default();
        let &first = rest.first()?;
        let len = match first {
            b'~' | b'^' => 1,
            c if c.is_ascii_digit() => rest.iter().take_while(|c| c.is_ascii_digit()).count(),
            _ => rest.iter().take_while(|c| c.is_ascii_alphabetic()).count(),
        };
        let (segment, rest) = rest.split_at_checked(len)?;
        self.rest = rest;
        Some(match first {
            b'~' => Segment::Tilde,
            b'^' => Segment::Caret,
            c if c.is_ascii_digit() => Segment::Numeric(segment),
            _ => Segment::Alpha(segment),
        })
    }
}

/// rpm's `rpmvercmp`, as a lexicographic comparison of segments.
pub(crate) fn rpmvercmp(a: &str, b: &str) -> Ordering {
    use Segment::{Alpha, Caret, Numeric, Tilde};
    if a == b {
        return Ordering::Equal;
    }
    let mut left = Segments { rest: a.as_bytes() };
    let mut right = Segments { rest: b.as_bytes() };
    loop {
        let ord = match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (Some(Tilde), Some(Tilde)) | (Some(Caret), Some(Caret)) => continue,
            (Some(Tilde), _) => Ordering::Less,
            (_, Some(Tilde)) => Ordering::Greater,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(Caret), Some(_)) => Ordering::Less,
            (Some(_), Some(Caret)) => Ordering::Greater,
            (Some(Numeric(_)), Some(Alpha(_))) => Ordering::Greater,
            (Some(Alpha(_)), Some(Numeric(_))) => Ordering::Less,
            (Some(Numeric(x)), Some(Numeric(y))) => cmp_digits(x, y),
            (Some(Alpha(x)), Some(Alpha(y))) => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
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

    fn v(s: &str) -> RpmVersion {
        s.parse().unwrap()
    }

    #[test]
    fn parts() {
        let x = v("1:2.3.4-5.el8_6");
        assert_eq!(x.epoch(), 1);
        assert_eq!(x.version(), "2.3.4");
        assert_eq!(x.release(), Some("5.el8_6"));
        assert_eq!(v("2.3").release(), None);
        assert_eq!(v("0:2.3-1").to_string(), "2.3-1");
    }

    #[test]
    fn absent_release_is_lowest() {
        assert!(v("1.0") < v("1.0-1"));
        assert!(v("1.0") > v("1.0~rc1-1"));
    }

    #[test]
    fn rejects() {
        for bad in [
            "1.0-",
            ":1.0",
            "x:1.0",
            "1:2:3",
            "-1",
            "1.0 1",
            "1.0\u{7f}",
            "1.0é",
        ] {
            assert!(bad.parse::<RpmVersion>().is_err(), "{bad:?}");
        }
    }
}
