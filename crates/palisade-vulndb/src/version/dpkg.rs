//! Debian package versions, as Debian Policy §5.6.12 defines them and dpkg
//! compares them.
//!
//! A version is `[epoch:]upstream_version[-debian_revision]`:
//!
//! * the epoch is an unsigned integer before the first `:` (0 if absent);
//! * the revision is everything after the last `-` (absent means `0`, so
//!   `1.0` equals `1.0-0`);
//! * the upstream version may contain alphanumerics and `. + ~ - :` (`-` only
//!   when there is a revision, `:` only when there is an epoch); the revision
//!   alphanumerics and `. + ~`.
//!
//! Epochs compare numerically; upstream versions and then revisions compare
//! with Policy's algorithm: alternately a maximal non-digit part, compared
//! character by character where letters sort before non-letters and `~`
//! before everything (even the end of the part), then a maximal digit part,
//! compared numerically. Hence `1.0~rc1 < 1.0 < 1.0+b1 < 1.0a`.
//!
//! Like dpkg, an upstream version that does not start with a digit is
//! accepted (dpkg only warns); characters outside the allowed sets are
//! rejected (dpkg warns and carries on; we prefer an error to guessing).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::common::{parse_with, unexpected};
use super::{ord_via_cmp, InvalidReason, Scheme, VersionError};

/// A Debian package version.
#[derive(Debug, Clone)]
pub struct DpkgVersion {
    epoch: u32,
    /// `upstream[-revision]`, without the epoch.
    text: Box<str>,
    /// Byte length of the upstream part of `text`.
    upstream_len: usize,
}

/// dpkg stores epochs as a C `int`.
const MAX_EPOCH: u32 = i32::MAX as u32;

impl DpkgVersion {
    /// The epoch (0 when absent).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The upstream version.
    pub fn upstream(&self) -> &str {
        self.text.get(..self.upstream_len).unwrap_or_default()
    }

    /// The Debian revision, if the version has one.
    pub fn revision(&self) -> Option<&str> {
        self.text.get(self.upstream_len..)?.strip_prefix('-')
    }

    fn parse_trimmed(s: &str) -> Result<DpkgVersion, InvalidReason> {
        if let Some(at) = s.bytes().position(|c| c.is_ascii_whitespace()) {
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
                let value = super::common::parse_u64(epoch.as_bytes())
                    .and_then(|e| u32::try_from(e).ok())
                    .filter(|&e| e <= MAX_EPOCH)
                    .ok_or(InvalidReason::NumberTooLarge { at: 0 })?;
                if rest.is_empty() {
                    return Err(InvalidReason::EmptyPart {
                        part: "version after the epoch",
                    });
                }
                (value, rest, epoch.len() + 1)
            }
            None => (0, s, 0),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((upstream, revision)) => {
                if revision.is_empty() {
                    return Err(InvalidReason::EmptyPart { part: "revision" });
                }
                (upstream, Some(revision))
            }
            None => (rest, None),
        };
        if upstream.is_empty() {
            return Err(InvalidReason::EmptyPart {
                part: "upstream version",
            });
        }
        let upstream_ok = |c: u8| c.is_ascii_alphanumeric() || b".+~-:".contains(&c);
        if let Some(at) = upstream.bytes().position(|c| !upstream_ok(c)) {
            return Err(unexpected(s, rest_at + at));
        }
        if let Some(revision) = revision {
            let revision_ok = |c: u8| c.is_ascii_alphanumeric() || b".+~".contains(&c);
            if let Some(at) = revision.bytes().position(|c| !revision_ok(c)) {
                return Err(unexpected(s, rest_at + upstream.len() + 1 + at));
            }
        }
        Ok(DpkgVersion {
            epoch,
            text: rest.into(),
            upstream_len: upstream.len(),
        })
    }
}

impl FromStr for DpkgVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_with(Scheme::Dpkg, s, DpkgVersion::parse_trimmed)
    }
}

impl Ord for DpkgVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream().as_bytes(), other.upstream().as_bytes()))
            .then_with(|| {
                verrevcmp(
                    self.revision().unwrap_or_default().as_bytes(),
                    other.revision().unwrap_or_default().as_bytes(),
                )
            })
    }
}

ord_via_cmp!(DpkgVersion);

impl fmt::Display for DpkgVersion {
    /// Prints the version with a zero epoch left out (kept when the upstream
    /// version contains `:`, which needs it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch != 0 || self.upstream().contains(':') {
            write!(f, "{}:", self.epoch)?;
        }
        f.write_str(&self.text)
    }
}

/// Sort weight of one character of a non-digit part (Policy §5.6.12): `~`
/// lowest, then the end of the part (and digits, which end it), then letters
/// in ASCII order, then everything else in ASCII order.
fn weight(c: Option<&u8>) -> i32 {
    match c {
        None => 0,
        Some(&c) if c.is_ascii_digit() => 0,
        Some(&c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(&c) => i32::from(c) + 256,
    }
}

/// Policy's comparison of two upstream versions or two revisions.
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    let non_digit = |s: &[u8], k: usize| s.get(k).is_some_and(|c| !c.is_ascii_digit());
    let digit = |s: &[u8], k: usize| s.get(k).is_some_and(u8::is_ascii_digit);
    while i < a.len() || j < b.len() {
        // Non-digit parts, character by character. When the weights are
        // equal both sides hold the same non-digit, so both advance.
        while non_digit(a, i) || non_digit(b, j) {
            let (wa, wb) = (weight(a.get(i)), weight(b.get(j)));
            if wa != wb {
                return wa.cmp(&wb);
            }
            i += 1;
            j += 1;
        }
        // Digit parts, numerically.
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while digit(a, i) && digit(b, j) {
            if first_diff == Ordering::Equal {
                first_diff = a.get(i).cmp(&b.get(j));
            }
            i += 1;
            j += 1;
        }
        if digit(a, i) {
            return Ordering::Greater;
        }
        if digit(b, j) {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
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

    fn v(s: &str) -> DpkgVersion {
        s.parse().unwrap()
    }

    #[test]
    fn parts() {
        let x = v("1:2.30-1+deb11u1");
        assert_eq!(x.epoch(), 1);
        assert_eq!(x.upstream(), "2.30");
        assert_eq!(x.revision(), Some("1+deb11u1"));
        let y = v("2:1.0-beta-3");
        assert_eq!(y.upstream(), "1.0-beta");
        assert_eq!(y.revision(), Some("3"));
        assert_eq!(v("1.0").revision(), None);
        assert_eq!(v("1:2:3").upstream(), "2:3");
    }

    #[test]
    fn display_normalises_zero_epoch() {
        assert_eq!(v("0:1.0-1").to_string(), "1.0-1");
        assert_eq!(v("3:1.0").to_string(), "3:1.0");
        assert_eq!(v("0:1:2").to_string(), "0:1:2");
        assert_eq!(v(" 1.0 ").to_string(), "1.0");
    }

    #[test]
    fn policy_tilde_example() {
        // Policy §5.6.12: "~~" < "~~a" < "~" < "" < "a".
        let order = ["1~~", "1~~a", "1~", "1", "1a"];
        for pair in order.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn rejects() {
        for bad in [
            ":1.0",
            "a:1.0",
            "1:",
            "1.0-",
            "-1",
            "1 0",
            "1.0_1",
            "1.0-1:2",
            "1.0-a_b",
            "99999999999:1",
            "1.0é",
        ] {
            assert!(bad.parse::<DpkgVersion>().is_err(), "{bad:?}");
        }
    }
}
