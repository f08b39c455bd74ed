//! Composer (Packagist) versions: normalised as Composer's
//! `VersionParser::normalize` does, ordered as Composer orders normalised
//! versions (PHP's `version_compare`).
//!
//! Normalisation accepts:
//!
//! * classical versions, `[v]N[.N[.N[.N]]]` (first number at most five
//!   digits) padded to four numbers: `1.2` → `1.2.0.0`;
//! * date versions, `YYYY[sep]MM...` (`20230102`, `2023-01-02.5`), with
//!   separators turned into `.`;
//! * either followed by a stability modifier — `alpha`/`a`, `beta`/`b`,
//!   `RC`, `patch`/`pl`/`p` with an optional number, `stable` — and/or
//!   `-dev`: `1.0.0-beta.2` → `1.0.0.0-beta2`, `1.0rc1` → `1.0.0.0-RC1`,
//!   `1.0-dev` → `1.0.0.0-dev`;
//! * numeric branches `1.x-dev`, `2.1.*-dev` → `1.9999999.9999999.9999999-dev`;
//! * a trailing `@stability` flag, `+build` metadata, and `x as y` aliases,
//!   which are dropped.
//!
//! Named branches (`dev-main`, `master`) are valid Composer versions but
//! have no order (Composer never matches them against ranges), so they are
//! rejected with [`InvalidReason::Unordered`].
//!
//! Comparison splits the normalised form into runs of digits and runs of
//! letters, compared in turn: numbers numerically; words by their stability,
//! `dev < alpha = a < beta = b < RC < (number) < patch = pl = p` (any other
//! word lowest); when one version runs out, the other is greater if its next
//! part is a number or a patch, lower otherwise. So
//! `1.0.0.0-dev < 1.0.0.0-alpha1 < 1.0.0.0-beta < 1.0.0.0-RC1 < 1.0.0.0 <
//! 1.0.0.0-patch1 < 1.0.0.1`.
//!
//! Normalising is not always idempotent in Composer itself, and printing
//! gives Composer's normalised form, so two kinds of version print as
//! something that parses to a different version: a date written with
//! separators (`2010-01-02` → `2010.01.02`, which re-normalises as the
//! classical `2010.01.02.0`), and a stability number written `.0` or `-0`
//! (`1.0-beta.0` → `1.0.0.0-beta0`, which re-normalises as `1.0.0.0-beta`
//! because PHP's `empty("0")` is true). Numbers compare at any length, where
//! PHP would saturate past `i64::MAX`.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::common::{cmp_digits, digit_run, parse_with, strip_zeros};
use super::{ord_via_cmp, InvalidReason, Scheme, VersionError};

/// A Composer version, normalised.
#[derive(Debug, Clone)]
pub struct ComposerVersion {
    normalized: Box<str>,
    parts: Box<[Part]>,
}

#[derive(Debug, Clone, Copy)]
enum Part {
    /// Digits of `normalized` without leading zeros (empty for zero).
    Number(usize, usize),
    /// A word, by its stability order (see [`word_order`]).
    Word(i8),
}

/// Where a number (or the end of a shorter version) stands among words.
const NUMBER_ORDER: i8 = 4;

const FORMS: &str = "`1.2.3`, `1.2.3-beta1`, `1.2.3-dev`, a date such as `20230102`, or `1.x-dev`";

impl ComposerVersion {
    /// Whether the normalised version carries a stability below stable
    /// (`dev`, `alpha`, `beta`, `RC`).
    pub fn is_prerelease(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Word(order) if *order < NUMBER_ORDER))
    }

    fn parse_trimmed(s: &str) -> Result<ComposerVersion, InvalidReason> {
        let normalized = normalize(s)?;
        let parts = split_parts(&normalized);
        Ok(ComposerVersion {
            normalized: normalized.into_boxed_str(),
            parts,
        })
    }
}

/// Composer's `VersionParser::normalize` for orderable versions.
fn normalize(input: &str) -> Result<String, InvalidReason> {
    let mut v = input;
    // "1.0 as 2.0": keep the left side.
    if v.bytes().any(|c| c.is_ascii_whitespace()) {
        let words: Vec<&str> = v.split_ascii_whitespace().collect();
        match words.as_slice() {
            [left, "as", right] if !left.contains(',') && !right.contains(',') => v = left,
            _ => return Err(InvalidReason::NoForm { forms: FORMS }),
        }
    }
    // Stability flag: "1.0@beta".
    if let Some((head, flag)) = v.rsplit_once('@') {
        if ["stable", "rc", "beta", "alpha", "dev"]
            .iter()
            .any(|f| f.eq_ignore_ascii_case(flag))
        {
            v = head;
        }
    }
    if ["master", "trunk", "default"].contains(&v)
        || v.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("dev-"))
    {
        return Err(InvalidReason::Unordered {
            what: "a Composer branch version",
        });
    }
    // Build metadata: "1.0+build".
    if let Some((head, _)) = v.split_once('+') {
        if !head.is_empty() && !head.contains(',') {
            v = head;
        }
    }
    if let Some(normalized) = classical(v).or_else(|| date(v)) {
        return Ok(normalized);
    }
    // Numeric branches: "1.x-dev", "2.1.*.dev".
    if let Some(head) = v.len().checked_sub(3).and_then(|cut| {
        v.get(cut..)
            .filter(|t| t.eq_ignore_ascii_case("dev"))
            .and(v.get(..cut))
    }) {
        let name = head.strip_suffix(['.', '-']).unwrap_or(head);
        if let Some(normalized) = numeric_branch(name.trim()) {
            return Ok(normalized);
        }
    }
    Err(InvalidReason::NoForm { forms: FORMS })
}

fn strip_v(v: &str) -> &str {
    v.strip_prefix(['v', 'V']).unwrap_or(v)
}

/// `v?(\d{1,5})(\.\d+)?(\.\d+)?(\.\d+)?` + modifier.
fn classical(v: &str) -> Option<String> {
    let body = strip_v(v);
    let bytes = body.as_bytes();
    let major = digit_run(bytes);
    if !(1..=5).contains(&major) {
        return None;
    }
    let mut out = String::from(body.get(..major)?);
    let mut pos = major;
    let mut groups = 0;
    while groups < 3 && bytes.get(pos) == Some(&b'.') {
        let n = bytes.get(pos + 1..).map_or(0, digit_run);
        if n == 0 {
            break;
        }
        out.push_str(body.get(pos..pos + 1 + n)?);
        pos += 1 + n;
        groups += 1;
    }
    for _ in groups..3 {
        out.push_str(".0");
    }
    let modifier = modifier(body.get(pos..)?)?;
    Some(modifier.apply(out))
}

/// `v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3}){0,2})` + modifier.
fn date(v: &str) -> Option<String> {
    /// Longest text the date pattern can match.
    const MAX_DATE: usize = 4 + 6 * 3 + 2 * 4;
    let body = strip_v(v);
    let bytes = body.as_bytes();
    let run = bytes
        .iter()
        .take_while(|c| c.is_ascii_digit() || matches!(c, b'.' | b':' | b'-'))
        .count()
        .min(MAX_DATE);
    // Greedy: the longest date part after which a modifier matches.
    for end in (4..=run).rev() {
        let date = bytes.get(..end)?;
        if !date.last().is_some_and(u8::is_ascii_digit) || !date_matches(date) {
            continue;
        }
        if let Some(modifier) = modifier(body.get(end..)?) {
            let out: String = date
                .iter()
                .map(|&c| {
                    if c.is_ascii_digit() {
                        char::from(c)
                    } else {
                        '.'
                    }
                })
                .collect();
            return Some(modifier.apply(out));
        }
    }
    None
}

/// Whether all of `date` matches `\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3}){0,2}`,
/// by dynamic programming over (position, two-digit groups, short groups).
fn date_matches(date: &[u8]) -> bool {
    const LEN: usize = 31;
    if date.len() >= LEN || date.len() < 6 || !date.iter().take(4).all(u8::is_ascii_digit) {
        return false;
    }
    let mut reach = [[[false; 3]; 7]; LEN];
    if let Some(cell) = reach
        .get_mut(4)
        .and_then(|r| r.get_mut(0))
        .and_then(|r| r.get_mut(0))
    {
        *cell = true;
    }
    let digits_at = |from: usize, n: usize| {
        date.get(from..from + n)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let mut accepted = false;
    for pos in 4..=date.len() {
        for twos in 0..7usize {
            for shorts in 0..3usize {
                let here = reach
                    .get(pos)
                    .and_then(|r| r.get(twos))
                    .and_then(|r| r.get(shorts))
                    .copied()
                    .unwrap_or(false);
                if !here {
                    continue;
                }
                if pos == date.len() {
                    accepted |= twos >= 1;
                    continue;
                }
                let start = if matches!(date.get(pos), Some(b'.' | b':' | b'-')) {
                    pos + 1
                } else {
                    pos
                };
                let mut mark = |p: usize, t: usize, s: usize| {
                    if let Some(cell) = reach
                        .get_mut(p)
                        .and_then(|r| r.get_mut(t))
                        .and_then(|r| r.get_mut(s))
                    {
                        *cell = true;
                    }
                };
                if shorts == 0 && twos < 6 && digits_at(start, 2) {
                    mark(start + 2, twos + 1, 0);
                }
                if twos >= 1 && shorts < 2 {
                    for n in 1..=3 {
                        if digits_at(start, n) {
                            mark(start + n, twos, shorts + 1);
                        }
                    }
                }
            }
        }
    }
    accepted
}

/// `^v?(\d+)(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?$`, turned
/// into `N.9999999.9999999.9999999-dev` style.
fn numeric_branch(name: &str) -> Option<String> {
    let body = strip_v(name);
    let bytes = body.as_bytes();
    let major = digit_run(bytes);
    if major == 0 {
        return None;
    }
    let mut out = String::from(body.get(..major)?);
    let mut pos = major;
    let mut groups = 0;
    while groups < 3 && bytes.get(pos) == Some(&b'.') {
        let n = bytes.get(pos + 1..).map_or(0, digit_run);
        if n > 0 {
            out.push_str(body.get(pos..pos + 1 + n)?);
            pos += 1 + n;
        } else if matches!(bytes.get(pos + 1), Some(b'x' | b'X' | b'*')) {
            out.push_str(".x");
            pos += 2;
        } else {
            return None;
        }
        groups += 1;
    }
    if pos != bytes.len() {
        return None;
    }
    for _ in groups..3 {
        out.push_str(".x");
    }
    Some(out.replace('x', "9999999") + "-dev")
}

/// A matched stability modifier.
struct Modifier<'a> {
    /// The stability label as written, and the number after it.
    stability: Option<(&'a str, &'a str)>,
    dev: bool,
}

impl Modifier<'_> {
    fn apply(&self, mut version: String) -> String {
        if let Some((label, number)) = self.stability {
            // Composer compares with "===": only a lower-case "stable" is
            // dropped.
            if label == "stable" {
                return version;
            }
            version.push('-');
            version.push_str(&expand_stability(label));
            // PHP's empty() is true for "0", so a lone 0 is dropped.
            if !number.is_empty() && number != "0" {
                version.push_str(number.trim_start_matches(['.', '-']));
            }
        }
        if self.dev {
            version.push_str("-dev");
        }
        version
    }
}

fn expand_stability(label: &str) -> String {
    let lower = label.to_ascii_lowercase();
    match lower.as_str() {
        "a" => "alpha".to_owned(),
        "b" => "beta".to_owned(),
        "p" | "pl" => "patch".to_owned(),
        "rc" => "RC".to_owned(),
        _ => lower,
    }
}

/// `[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*)?)?([.-]?dev)?$`,
/// case-insensitive.
fn modifier(rest: &str) -> Option<Modifier<'_>> {
    const LABELS: [&str; 9] = [
        "stable", "beta", "b", "rc", "alpha", "a", "patch", "pl", "p",
    ];
    let skips: &[usize] = if rest.starts_with(['.', '_', '-']) {
        &[1, 0]
    } else {
        &[0]
    };
    for &skip in skips {
        let r = rest.get(skip..)?;
        for label in LABELS {
            let Some(head) = r
                .get(..label.len())
                .filter(|h| h.eq_ignore_ascii_case(label))
            else {
                continue;
            };
            let after = r.get(label.len()..)?;
            let number_len = number_run(after.as_bytes());
            let (number, tail) = after.split_at_checked(number_len)?;
            if let Some(dev) = dev_suffix(tail) {
                return Some(Modifier {
                    stability: Some((head, number)),
                    dev,
                });
            }
        }
        if let Some(dev) = dev_suffix(r) {
            return Some(Modifier {
                stability: None,
                dev,
            });
        }
    }
    None
}

/// Length of `(?:[.-]?\d+)*` at the start of `s`.
fn number_run(s: &[u8]) -> usize {
    let mut pos = 0;
    loop {
        let sep = usize::from(matches!(s.get(pos), Some(b'.' | b'-')));
        let n = s.get(pos + sep..).map_or(0, digit_run);
        if n == 0 {
            return pos;
        }
        pos += sep + n;
    }
}

/// `([.-]?dev)?$`: `Some(true)` for a dev suffix, `Some(false)` for the end.
fn dev_suffix(s: &str) -> Option<bool> {
    if s.is_empty() {
        return Some(false);
    }
    let body = s.strip_prefix(['.', '-']).unwrap_or(s);
    body.eq_ignore_ascii_case("dev").then_some(true)
}

/// Stability order of a word as PHP's `version_compare` sees it: the first
/// of `dev`, `alpha`, `a`, `beta`, `b`, `RC`, `rc`, `#`, `pl`, `p` that the
/// word starts with; -1 for none.
fn word_order(word: &[u8]) -> i8 {
    const FORMS: [(&[u8], i8); 10] = [
        (b"dev", 0),
        (b"alpha", 1),
        (b"a", 1),
        (b"beta", 2),
        (b"b", 2),
        (b"RC", 3),
        (b"rc", 3),
        (b"#", NUMBER_ORDER),
        (b"pl", 5),
        (b"p", 5),
    ];
    FORMS
        .iter()
        .find(|(form, _)| word.starts_with(form))
        .map_or(-1, |&(_, order)| order)
}

/// Splits a normalised version into runs of digits and runs of letters
/// (PHP's canonical form for `version_compare`).
fn split_parts(normalized: &str) -> Box<[Part]> {
    let bytes = normalized.as_bytes();
    let mut parts = Vec::new();
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        let rest = bytes.get(i..).unwrap_or_default();
        if c.is_ascii_digit() {
            let n = digit_run(rest);
            let run = rest.get(..n).unwrap_or_default();
            let zeros = run.len() - strip_zeros(run).len();
            parts.push(Part::Number(i + zeros, i + n));
            i += n;
        } else if c.is_ascii_alphabetic() {
            let n = rest.iter().take_while(|c| c.is_ascii_alphabetic()).count();
            parts.push(Part::Word(word_order(rest.get(..n).unwrap_or_default())));
            i += n;
        } else {
            i += 1;
        }
    }
    parts.into_boxed_slice()
}

impl FromStr for ComposerVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_with(Scheme::Composer, s, ComposerVersion::parse_trimmed)
    }
}

impl ComposerVersion {
    fn digits(&self, start: usize, end: usize) -> &[u8] {
        self.normalized
            .as_bytes()
            .get(start..end)
            .unwrap_or_default()
    }
}

impl Ord for ComposerVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.parts.iter().zip(other.parts.iter()) {
            let ord = match (*a, *b) {
                (Part::Number(s1, e1), Part::Number(s2, e2)) => {
                    cmp_digits(self.digits(s1, e1), other.digits(s2, e2))
                }
                (Part::Word(x), Part::Word(y)) => x.cmp(&y),
                (Part::Number(..), Part::Word(y)) => NUMBER_ORDER.cmp(&y),
                (Part::Word(x), Part::Number(..)) => x.cmp(&NUMBER_ORDER),
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        // One ran out: the other's next part decides.
        let shorter = self.parts.len().min(other.parts.len());
        let next_vs_end = |part: Option<&Part>| match part {
            None => Ordering::Equal,
            Some(Part::Number(..)) => Ordering::Greater,
            Some(&Part::Word(order)) => order.cmp(&NUMBER_ORDER),
        };
        match self.parts.len().cmp(&other.parts.len()) {
            Ordering::Equal => Ordering::Equal,
            Ordering::Greater => next_vs_end(self.parts.get(shorter)),
            Ordering::Less => next_vs_end(other.parts.get(shorter)).reverse(),
        }
    }
}

ord_via_cmp!(ComposerVersion);

impl fmt::Display for ComposerVersion {
    /// Prints Composer's normalised form (`1.2` → `1.2.0.0`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.normalized)
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
    fn normalisation() {
        // Cases from Composer's VersionParser documentation and behaviour.
        let cases = [
            ("1.0.0", "1.0.0.0"),
            ("1.2.3.4", "1.2.3.4"),
            ("v1.0.0", "1.0.0.0"),
            ("1.0.0RC1dev", "1.0.0.0-RC1-dev"),
            ("1.0.0-rC15-dev", "1.0.0.0-RC15-dev"),
            ("1.0.0.RC.15-dev", "1.0.0.0-RC15-dev"),
            ("1.0.0-rc1", "1.0.0.0-RC1"),
            ("1.0.0.pl3-dev", "1.0.0.0-patch3-dev"),
            ("1.0-dev", "1.0.0.0-dev"),
            ("0", "0.0.0.0"),
            ("10.4.13-beta", "10.4.13.0-beta"),
            ("10.4.13beta2", "10.4.13.0-beta2"),
            ("10.4.13beta.2", "10.4.13.0-beta2"),
            ("v1.13.11-beta.0", "1.13.11.0-beta0"),
            ("1.0.0-beta0", "1.0.0.0-beta"),
            ("10.4.13-b", "10.4.13.0-beta"),
            ("10.4.13-b5", "10.4.13.0-beta5"),
            ("v1.0.0-alpha3", "1.0.0.0-alpha3"),
            ("1.0.0-stable", "1.0.0.0"),
            ("2010.01", "2010.01.0.0"),
            ("2010.01.02", "2010.01.02.0"),
            ("2010-01-02", "2010.01.02"),
            ("2010-01-02.5", "2010.01.02.5"),
            ("20100102-203040", "20100102.203040"),
            ("20100102203040-10", "20100102203040.10"),
            ("20100102-203040-p1", "20100102.203040-patch1"),
            ("1.0.0-beta.5+foo", "1.0.0.0-beta5"),
            ("1.0.0+foo", "1.0.0.0"),
            ("1.x-dev", "1.9999999.9999999.9999999-dev"),
            ("2.1.x-dev", "2.1.9999999.9999999-dev"),
            ("2.1.*-dev", "2.1.9999999.9999999-dev"),
            ("v2.0.x-dev", "2.0.9999999.9999999-dev"),
            ("1.0@dev", "1.0.0.0"),
            ("1.0 as 2.0", "1.0.0.0"),
            ("1.0.0-pl1", "1.0.0.0-patch1"),
            ("1.0.0-p1", "1.0.0.0-patch1"),
            ("1.0.0-patch", "1.0.0.0-patch"),
        ];
        for (input, normalized) in cases {
            let v: ComposerVersion = input.parse().unwrap();
            assert_eq!(v.to_string(), normalized, "{input}");
        }
    }

    #[test]
    fn branches_are_unordered() {
        for branch in ["dev-master", "dev-feature/foo", "DEV-FOOBAR", "master"] {
            let err = ComposerVersion::parse_trimmed(branch).unwrap_err();
            assert_eq!(
                err,
                InvalidReason::Unordered {
                    what: "a Composer branch version"
                },
                "{branch}"
            );
        }
    }

    #[test]
    fn rejects() {
        for bad in [
            "1.0.0.0.0",
            "a",
            "feature-dev",
            "1.0.1-SNAPSHOT",
            "1.0.0-foo",
            "1.0.0-beta-2-3x",
            "1,0",
            "12345.1.2.3.4",
            "1.0 2.0",
        ] {
            assert!(bad.parse::<ComposerVersion>().is_err(), "{bad:?}");
        }
    }
}
