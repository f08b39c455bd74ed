//! Ruby gem versions, as RubyGems' `Gem::Version` parses and orders them.
//!
//! A version is `N(.X)*` with `X` alphanumeric, optionally followed by
//! `-` and dot-separated `[0-9A-Za-z-]` parts; every `-` is read as `.pre.`
//! (so `1.0-beta` equals `1.0.pre.beta`). Segments are the runs of digits and
//! the runs of letters (`1.0.b1` has segments `1`, `0`, `b`, `1`). A version
//! with any letter is a pre-release.
//!
//! Order: trailing zeros are removed from the numeric segments before the
//! first letter segment and from the segments after it (`1.0 == 1`,
//! `1.0.a == 1.a`); then segments compare in turn, a missing one counting as
//! `0`. Numbers compare numerically; a letter segment is lower than any
//! number; letter segments compare by ASCII. So `1.0.a < 1.0.b1 < 1.0 <
//! 1.0.1`.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::common::{cmp_digits, parse_with, strip_zeros, unexpected};
use super::{ord_via_cmp, InvalidReason, Scheme, VersionError};

/// A RubyGems version.
#[derive(Debug, Clone)]
pub struct GemVersion {
    /// The version as written (without surrounding whitespace).
    text: Box<str>,
    /// Canonical segments (trailing zeros removed), as byte ranges of `text`.
    segments: Box<[Segment]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment {
    /// Digits without leading zeros (empty for zero).
    Number(usize, usize),
    Letters(usize, usize),
    /// The `pre` that RubyGems reads in place of each `-`.
    Pre,
}

impl Segment {
    fn is_zero(self) -> bool {
        matches!(self, Segment::Number(start, end) if start == end)
    }
}

impl GemVersion {
    /// Whether the version is a pre-release (contains a letter).
    pub fn is_prerelease(&self) -> bool {
        self.text.bytes().any(|c| c.is_ascii_alphabetic())
    }

    fn parse_trimmed(s: &str) -> Result<GemVersion, InvalidReason> {
        validate(s)?;
        let bytes = s.as_bytes();
        let mut segments = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes.get(i).copied().unwrap_or_default();
            if c.is_ascii_digit() {
                let len = bytes
                    .get(i..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                let run = bytes.get(i..i + len).unwrap_or_default();
                let zeros = run.len() - strip_zeros(run).len();
                segments.push(Segment::Number(i + zeros, i + len));
                i += len;
            } else if c.is_ascii_alphabetic() {
                let len = bytes
                    .get(i..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .count();
                segments.push(Segment::Letters(i, i + len));
                i += len;
            } else if c == b'-' {
                segments.push(Segment::Pre);
                i += 1;
            } else {
                i += 1;
            }
        }
        // Canonical segments: drop trailing zeros of the numeric head and of
        // the rest (which starts at the first letter segment).
        let split = segments
            .iter()
            .position(|s| matches!(s, Segment::Letters(..) | Segment::Pre))
            .unwrap_or(segments.len());
        let mut tail = segments.split_off(split);
        while tail.last().is_some_and(|s| s.is_zero()) {
            tail.pop();
        }
        while segments.last().is_some_and(|s| s.is_zero()) {
            segments.pop();
        }
        segments.append(&mut tail);
        Ok(GemVersion {
            segments: segments.into_boxed_slice(),
            text: s.into(),
        })
    }

    fn bytes_of(&self, start: usize, end: usize) -> &[u8] {
        self.text.as_bytes().get(start..end).unwrap_or_default()
    }

    fn letters(&self, segment: Segment) -> &[u8] {
        match segment {
            Segment::Letters(start, end) => self.bytes_of(start, end),
            Segment::Pre => b"pre",
            Segment::Number(..) => b"",
        }
    }
}

/// Checks `Gem::Version`'s pattern:
/// `[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`.
fn validate(s: &str) -> Result<(), InvalidReason> {
    let (release_end, pre) = match s.find('-') {
        Some(dash) => (dash, Some(dash + 1)),
        None => (s.len(), None),
    };
    // Release: a number, then dot-separated alphanumeric parts.
    let mut at = 0;
    for (i, part) in s
        .get(..release_end)
        .unwrap_or_default()
        .split('.')
        .enumerate()
    {
        if i == 0 {
            check_part(s, part, at, |c| c.is_ascii_digit())?;
        } else {
            check_part(s, part, at, |c| c.is_ascii_alphanumeric())?;
        }
        at += part.len() + 1;
    }
    // Pre-release: dot-separated parts of alphanumerics and `-`.
    if let Some(pre_start) = pre {
        let mut at = pre_start;
        for part in s.get(pre_start..).unwrap_or_default().split('.') {
            check_part(s, part, at, |c| c.is_ascii_alphanumeric() || c == b'-')?;
            at += part.len() + 1;
        }
    }
    Ok(())
}

fn check_part(
    s: &str,
    part: &str,
    at: usize,
    ok: impl Fn(u8) -> bool,
) -> Result<(), InvalidReason> {
    if part.is_empty() {
        return Err(if at >= s.len() {
            InvalidReason::UnexpectedEnd {
                expected: "a version segment",
            }
        } else {
            unexpected(s, at)
        });
    }
    match part.bytes().position(|c| !ok(c)) {
        Some(bad) => Err(unexpected(s, at + bad)),
        None => Ok(()),
    }
}

impl FromStr for GemVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_with(Scheme::RubyGems, s, GemVersion::parse_trimmed)
    }
}

impl Ord for GemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.segments.len().max(other.segments.len());
        for i in 0..len {
            let a = self
                .segments
                .get(i)
                .copied()
                .unwrap_or(Segment::Number(0, 0));
            let b = other
                .segments
                .get(i)
                .copied()
                .unwrap_or(Segment::Number(0, 0));
            let ord = match (a, b) {
                (Segment::Number(s1, e1), Segment::Number(s2, e2)) => {
                    cmp_digits(self.bytes_of(s1, e1), other.bytes_of(s2, e2))
                }
                (_, Segment::Number(..)) => Ordering::Less,
                (Segment::Number(..), _) => Ordering::Greater,
                (a, b) => self.letters(a).cmp(other.letters(b)),
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}

ord_via_cmp!(GemVersion);

impl fmt::Display for GemVersion {
    /// Prints the version as written. (`Gem::Version#to_s` prints `-` as
    /// `.pre.`, which does not always parse back: `0--` → `0.pre..pre.`.)
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
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
    fn prerelease_and_display() {
        let v: GemVersion = "1.0.0-rc1".parse().unwrap();
        assert!(v.is_prerelease());
        assert_eq!(v.to_string(), "1.0.0-rc1");
        let spelled: GemVersion = "1.0.0.pre.rc1".parse().unwrap();
        assert_eq!(v, spelled);
        assert!(!"1.0.0".parse::<GemVersion>().unwrap().is_prerelease());
    }

    #[test]
    fn rejects() {
        for bad in [
            "a", "1a", ".1", "1.", "1..2", "1.0-", "1.0_1", "1 0", "1.0-a..b", "-1",
        ] {
            assert!(bad.parse::<GemVersion>().is_err(), "{bad:?}");
        }
    }
}
