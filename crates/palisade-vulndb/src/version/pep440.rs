//! Python package versions, as PEP 440 (the "Version specifiers"
//! specification) defines them.
//!
//! `[v][N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`, case-insensitive, with
//! the spellings PEP 440 accepts and normalises: `alpha`→`a`, `beta`→`b`,
//! `c`/`pre`/`preview`→`rc`, `rev`/`r`→`post`, `1.0-1` as `1.0.post1`,
//! optional `-`, `_`, `.` separators, implicit `0` numbers, and local labels
//! separated by `-`, `_` or `.`. Legacy (non-PEP 440) versions are rejected.
//!
//! Order: epoch, then the release (trailing zeros ignored: `1.0 == 1.0.0`),
//! then pre-release (a dev release of a final version, `1.0.dev0`, sorts
//! before its pre-releases; a version without pre-release after all of
//! them), then post-release (none first), then dev release (none last), then
//! local label (none first; numeric segments compare numerically and above
//! alphanumeric ones, alphanumeric ones by ASCII).
//!
//! Numbers up to `u64::MAX` are supported; larger ones are rejected.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::common::{all_digits, cmp_digits, parse_with, unexpected};
use super::{ord_via_cmp, InvalidReason, Scheme, VersionError};

/// A PEP 440 version.
#[derive(Debug, Clone)]
pub struct Pep440Version {
    epoch: u64,
    release: Box<[u64]>,
    pre: Option<(PreRelease, u64)>,
    post: Option<u64>,
    dev: Option<u64>,
    /// Normalised local label (lower case, `.`-separated, numeric segments
    /// without leading zeros); empty when absent.
    local: Box<str>,
}

/// The kind of a PEP 440 pre-release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PreRelease {
    /// `a` (alpha).
    Alpha,
    /// `b` (beta).
    Beta,
    /// `rc` (release candidate, also spelled `c`, `pre`, `preview`).
    Rc,
}

impl PreRelease {
    /// The normalised spelling: `a`, `b` or `rc`.
    pub fn as_str(self) -> &'static str {
        match self {
            PreRelease::Alpha => "a",
            PreRelease::Beta => "b",
            PreRelease::Rc => "rc",
        }
    }
}

impl Pep440Version {
    /// The epoch (0 when absent).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The release numbers, as written (trailing zeros kept).
    pub fn release(&self) -> &[u64] {
        &self.release
    }

    /// The pre-release kind and number.
    pub fn pre(&self) -> Option<(PreRelease, u64)> {
        self.pre
    }

    /// The post-release number.
    pub fn post(&self) -> Option<u64> {
        self.post
    }

    /// The dev-release number.
    pub fn dev(&self) -> Option<u64> {
        self.dev
    }

    /// The normalised local label, without the `+`.
    pub fn local(&self) -> Option<&str> {
        (!self.local.is_empty()).then_some(&*self.local)
    }

    /// Whether this is a pre-release or a dev release (what installers skip
    /// unless asked).
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some() || self.dev.is_some()
    }

    fn parse_trimmed(s: &str) -> Result<Pep440Version, InvalidReason> {
        let mut c = Cursor { s, pos: 0 };
        if matches!(c.peek(), Some(b'v' | b'V')) {
            c.pos += 1;
        }
        let first = c.required_number("a release number")?;
        let (epoch, first) = if c.peek() == Some(b'!') {
            c.pos += 1;
            (first, c.required_number("a release number")?)
        } else {
            (0, first)
        };
        let mut release = vec![first];
        while c.peek() == Some(b'.') && c.peek_at(1).is_some_and(|d| d.is_ascii_digit()) {
            c.pos += 1;
            release.push(c.required_number("a release number")?);
        }

        // Pre-release: [-_.]? label [-_.]? N?
        let save = c.pos;
        c.eat_separator();
        let pre = match c.eat_label(&["alpha", "a", "beta", "b", "preview", "pre", "c", "rc"]) {
            Some(label) => {
                let kind = match label {
                    0 | 1 => PreRelease::Alpha,
                    2 | 3 => PreRelease::Beta,
                    _ => PreRelease::Rc,
                };
                c.eat_separator();
                Some((kind, c.optional_number()?.unwrap_or(0)))
            }
            None => {
                c.pos = save;
                None
            }
        };

        // Post-release: -N, or [-_.]? label [-_.]? N?
        let save = c.pos;
        let post = if c.peek() == Some(b'-') && c.peek_at(1).is_some_and(|d| d.is_ascii_digit()) {
            c.pos += 1;
            Some(c.required_number("a post-release number")?)
        } else {
            c.eat_separator();
            if c.eat_label(&["post", "rev", "r"]).is_some() {
                c.eat_separator();
                Some(c.optional_number()?.unwrap_or(0))
            } else {
                c.pos = save;
                None
            }
        };

        // Dev release: [-_.]? dev [-_.]? N?
        let save = c.pos;
        c.eat_separator();
        let dev = if c.eat_label(&["dev"]).is_some() {
            c.eat_separator();
            Some(c.optional_number()?.unwrap_or(0))
        } else {
            c.pos = save;
            None
        };

        let local = if c.peek() == Some(b'+') {
            c.pos += 1;
            c.local()?
        } else {
            String::new()
        };
        if c.pos < s.len() {
            return Err(unexpected(s, c.pos));
        }
        Ok(Pep440Version {
            epoch,
            release: release.into_boxed_slice(),
            pre,
            post,
            dev,
            local: local.into_boxed_str(),
        })
    }
}

/// A position in the input being parsed.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.s.as_bytes().get(self.pos + ahead).copied()
    }

    fn rest(&self) -> &[u8] {
        self.s.as_bytes().get(self.pos..).unwrap_or_default()
    }

    fn eat_separator(&mut self) {
        if matches!(self.peek(), Some(b'-' | b'_' | b'.')) {
            self.pos += 1;
        }
    }

    /// Consumes the first of `labels` that the input continues with
    /// (ignoring ASCII case) and returns its index.
    fn eat_label(&mut self, labels: &[&str]) -> Option<usize> {
        let rest = self.rest();
        let index = labels.iter().position(|label| {
            rest.get(..label.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(label.as_bytes()))
        })?;
        self.pos += labels.get(index).map_or(0, |l| l.len());
        Some(index)
    }

    fn optional_number(&mut self) -> Result<Option<u64>, InvalidReason> {
        let rest = self.rest();
        let n = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return Ok(None);
        }
        let at = self.pos;
        let value = super::common::parse_u64(rest.get(..n).unwrap_or_default())
            .ok_or(InvalidReason::NumberTooLarge { at })?;
        self.pos += n;
        Ok(Some(value))
    }

    fn required_number(&mut self, expected: &'static str) -> Result<u64, InvalidReason> {
        match self.optional_number()? {
            Some(n) => Ok(n),
            None if self.pos >= self.s.len() => Err(InvalidReason::UnexpectedEnd { expected }),
            None => Err(unexpected(self.s, self.pos)),
        }
    }

    /// Parses and normalises a local label (after the `+`).
    fn local(&mut self) -> Result<String, InvalidReason> {
        let mut out = String::new();
        loop {
            let rest = self.rest();
            let n = rest
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric())
                .count();
            if n == 0 {
                return Err(if self.pos >= self.s.len() {
                    InvalidReason::UnexpectedEnd {
                        expected: "a local version segment",
                    }
                } else {
                    unexpected(self.s, self.pos)
                });
            }
            let segment = rest.get(..n).unwrap_or_default();
            if !out.is_empty() {
                out.push('.');
            }
            if all_digits(segment) {
                let stripped = super::common::strip_zeros(segment);
                if stripped.is_empty() {
                    out.push('0');
                } else {
                    out.extend(stripped.iter().map(|&c| char::from(c)));
                }
            } else {
                out.extend(segment.iter().map(|&c| char::from(c.to_ascii_lowercase())));
            }
            self.pos += n;
            if matches!(self.peek(), Some(b'-' | b'_' | b'.')) {
                self.pos += 1;
            } else {
                return Ok(out);
            }
        }
    }
}

impl FromStr for Pep440Version {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_with(Scheme::Pep440, s, Pep440Version::parse_trimmed)
    }
}

/// Where the pre-release part puts a version among its siblings.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum PreKey {
    /// A dev release of a final version (`1.0.dev1`): before every
    /// pre-release.
    DevOfFinal,
    /// A pre-release.
    Pre(PreRelease, u64),
    /// No pre-release: after every pre-release.
    Final,
}

impl Pep440Version {
    fn pre_key(&self) -> PreKey {
        match (self.pre, self.post, self.dev) {
            (Some((kind, n)), _, _) => PreKey::Pre(kind, n),
            (None, None, Some(_)) => PreKey::DevOfFinal,
            (None, _, _) => PreKey::Final,
        }
    }

    /// `None` (no dev release) sorts after every dev release.
    fn dev_key(&self) -> (bool, u64) {
        match self.dev {
            Some(n) => (false, n),
            None => (true, 0),
        }
    }
}

fn cmp_release(a: &[u64], b: &[u64]) -> Ordering {
    let len = a.len().max(b.len());
    (0..len)
        .map(|i| {
            a.get(i)
                .copied()
                .unwrap_or(0)
                .cmp(&b.get(i).copied().unwrap_or(0))
        })
        .find(|ord| *ord != Ordering::Equal)
        .unwrap_or(Ordering::Equal)
}

fn cmp_local(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        (false, false) => {}
    }
    let mut left = a.split('.');
    let mut right = b.split('.');
    loop {
        let (x, y) = match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => (x.as_bytes(), y.as_bytes()),
        };
        let ord = match (all_digits(x), all_digits(y)) {
            (true, true) => cmp_digits(x, y),
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
}

impl Ord for Pep440Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| cmp_release(&self.release, &other.release))
            .then_with(|| self.pre_key().cmp(&other.pre_key()))
            .then_with(|| self.post.cmp(&other.post))
            .then_with(|| self.dev_key().cmp(&other.dev_key()))
            .then_with(|| cmp_local(&self.local, &other.local))
    }
}

ord_via_cmp!(Pep440Version);

impl fmt::Display for Pep440Version {
    /// Prints the PEP 440 normalised form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch != 0 {
            write!(f, "{}!", self.epoch)?;
        }
        for (i, n) in self.release.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{n}")?;
        }
        if let Some((kind, n)) = self.pre {
            write!(f, "{}{n}", kind.as_str())?;
        }
        if let Some(n) = self.post {
            write!(f, ".post{n}")?;
        }
        if let Some(n) = self.dev {
            write!(f, ".dev{n}")?;
        }
        if !self.local.is_empty() {
            write!(f, "+{}", self.local)?;
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

    fn v(s: &str) -> Pep440Version {
        s.parse().unwrap()
    }

    #[test]
    fn accessors() {
        let x = v("2!1.02.3rc4.post5.dev6+Ubuntu-007");
        assert_eq!(x.epoch(), 2);
        assert_eq!(x.release(), &[1, 2, 3]);
        assert_eq!(x.pre(), Some((PreRelease::Rc, 4)));
        assert_eq!(x.post(), Some(5));
        assert_eq!(x.dev(), Some(6));
        assert_eq!(x.local(), Some("ubuntu.7"));
        assert!(x.is_prerelease());
        assert_eq!(x.to_string(), "2!1.2.3rc4.post5.dev6+ubuntu.7");
        assert!(!v("1.0.post1").is_prerelease());
    }

    #[test]
    fn overflow_is_an_error() {
        assert_eq!(
            Pep440Version::parse_trimmed("1.99999999999999999999").unwrap_err(),
            InvalidReason::NumberTooLarge { at: 2 }
        );
    }
}
