//! Helpers shared by the scheme parsers: input bounds, numeric comparison of
//! digit strings, identifier lists.

use std::cmp::Ordering;

use super::error::{InvalidReason, VersionError, MAX_VERSION_LEN};
use super::Scheme;

/// Runs a scheme's parser on `input` with surrounding ASCII whitespace
/// removed, after the length check, and wraps its failure in a
/// [`VersionError`] naming the scheme and the input.
pub(crate) fn parse_with<T>(
    scheme: Scheme,
    input: &str,
    parse: impl FnOnce(&str) -> Result<T, InvalidReason>,
) -> Result<T, VersionError> {
    let fail = |reason: InvalidReason| VersionError::invalid(scheme, input, reason);
    if input.len() > MAX_VERSION_LEN {
        return Err(fail(InvalidReason::TooLong {
            len: input.len(),
            max: MAX_VERSION_LEN,
        }));
    }
    let start = input.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let lead = input.len() - start.len();
    let trimmed = start.trim_end_matches(|c: char| c.is_ascii_whitespace());
    if trimmed.is_empty() {
        return Err(fail(InvalidReason::Empty));
    }
    parse(trimmed).map_err(|reason| fail(reason.shifted(lead)))
}

/// The character starting at byte `at` of `s`, for error messages.
pub(crate) fn char_at(s: &str, at: usize) -> char {
    s.get(at..)
        .and_then(|rest| rest.chars().next())
        .unwrap_or('\u{FFFD}')
}

/// An [`InvalidReason::UnexpectedChar`] for byte `at` of `s`.
pub(crate) fn unexpected(s: &str, at: usize) -> InvalidReason {
    InvalidReason::UnexpectedChar {
        ch: char_at(s, at),
        at,
    }
}

/// Compares two strings of ASCII digits by numeric value, of any length.
pub(crate) fn cmp_digits(a: &[u8], b: &[u8]) -> Ordering {
    let a = strip_zeros(a);
    let b = strip_zeros(b);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// `digits` without leading `0`s (empty for zero).
pub(crate) fn strip_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&c| c == b'0').count();
    digits.get(zeros..).unwrap_or_default()
}

/// Length of the run of ASCII digits at the start of `s`.
pub(crate) fn digit_run(s: &[u8]) -> usize {
    s.iter().take_while(|c| c.is_ascii_digit()).count()
}

/// Parses a run of ASCII digits as `u64`, `None` on overflow or when empty.
pub(crate) fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &c| {
        acc.checked_mul(10)?
            .checked_add(u64::from(c.checked_sub(b'0')?))
    })
}

/// Whether every byte is an ASCII digit (and there is at least one).
pub(crate) fn all_digits(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

/// Checks a dot-separated list of SemVer identifiers (`[0-9A-Za-z-]+`),
/// starting at byte `offset` of the whole version; with `no_leading_zero`,
/// numeric identifiers must not start with `0` (SemVer pre-release rule).
pub(crate) fn check_identifiers(
    list: &str,
    offset: usize,
    part: &'static str,
    no_leading_zero: bool,
) -> Result<(), InvalidReason> {
    let mut at = offset;
    for ident in list.split('.') {
        if ident.is_empty() {
            return Err(InvalidReason::EmptyPart { part });
        }
        if let Some(bad) = ident
            .bytes()
            .position(|c| !(c.is_ascii_alphanumeric() || c == b'-'))
        {
            return Err(InvalidReason::UnexpectedChar {
                ch: char_at(ident, bad),
                at: at + bad,
            });
        }
        if no_leading_zero
            && ident.len() > 1
            && ident.starts_with('0')
            && all_digits(ident.as_bytes())
        {
            return Err(InvalidReason::LeadingZero { at });
        }
        at += ident.len() + 1;
    }
    Ok(())
}

/// SemVer 2.0 §11 precedence of two non-empty pre-release identifier lists:
/// numeric identifiers compare numerically and below alphanumeric ones,
/// alphanumeric ones compare by ASCII, and a shorter list that is a prefix of
/// a longer one is lower.
pub(crate) fn cmp_prerelease(a: &str, b: &str) -> Ordering {
    let mut left = a.split('.');
    let mut right = b.split('.');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let ord = match (all_digits(x.as_bytes()), all_digits(y.as_bytes())) {
                    (true, true) => cmp_digits(x.as_bytes(), y.as_bytes()),
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => x.as_bytes().cmp(y.as_bytes()),
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

/// Compares an optional pre-release (empty = none): a version without one
/// is higher than any with one.
pub(crate) fn cmp_optional_prerelease(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => cmp_prerelease(a, b),
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
    fn digits_compare_by_value() {
        assert_eq!(cmp_digits(b"010", b"10"), Ordering::Equal);
        assert_eq!(cmp_digits(b"9", b"10"), Ordering::Less);
        assert_eq!(cmp_digits(b"", b"0"), Ordering::Equal);
        assert_eq!(
            cmp_digits(
                b"123456789012345678901234567890",
                b"123456789012345678901234567891"
            ),
            Ordering::Less
        );
    }

    #[test]
    fn u64_parse_checks_overflow() {
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b""), None);
    }

    #[test]
    fn whitespace_is_trimmed_and_offsets_shift() {
        let err =
            parse_with(Scheme::Semver, "  1.x", |s| Err::<(), _>(unexpected(s, 2))).unwrap_err();
        assert_eq!(
            err,
            VersionError::invalid(
                Scheme::Semver,
                "  1.x",
                InvalidReason::UnexpectedChar { ch: 'x', at: 4 }
            )
        );
        let err = parse_with(Scheme::Semver, " \t ", |_| Ok(())).unwrap_err();
        assert!(matches!(
            err,
            VersionError::Invalid {
                reason: InvalidReason::Empty,
                ..
            }
        ));
    }
}
