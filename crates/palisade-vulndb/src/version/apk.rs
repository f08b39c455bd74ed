//! Alpine package versions, as apk-tools parses and orders them (also used
//! by Wolfi and Chainguard).
//!
//! Grammar: `digits{.digits}[letter]{_suffix[digits]}[~hash][-rN]`, where
//!
//! * the letter is one of `a`–`z` and comes right after a number;
//! * a suffix is one of `alpha`, `beta`, `pre`, `rc` (pre-releases, lower
//!   than no suffix) or `cvs`, `svn`, `git`, `hg`, `p` (post-releases,
//!   higher), optionally numbered;
//! * `~hash` is a commit hash of hex digits;
//! * `-rN` is the package revision.
//!
//! Versions compare token by token. Numbers compare numerically, except that
//! a number after a `.` that starts with `0` (on either side) compares as a
//! string, as a decimal fraction would (`1.01 < 1.1`, `1.001 < 1.01`).
//! Suffixes compare by the order above. When one version runs out of tokens
//! or the token kinds differ, a pre-release suffix is lower than anything;
//! otherwise the version whose next token is "earlier" in the grammar (a
//! number before a letter before a suffix before a hash before a revision
//! before the end) is higher: `1.2.1 > 1.2a > 1.2_p1 > 1.2-r1 > 1.2 > 1.2_rc1`.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::common::{cmp_digits, digit_run, parse_with, unexpected};
use super::{ord_via_cmp, InvalidReason, Scheme, VersionError};

/// An Alpine package version.
#[derive(Debug, Clone)]
pub struct ApkVersion {
    text: Box<str>,
}

impl ApkVersion {
    /// The version as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The package revision (`N` of `-rN`), 0 when absent.
    pub fn revision(&self) -> u64 {
        let mut tokens = Tokens::new(self.text.as_bytes());
        while let Some(token) = tokens.next_token() {
            if token.kind == Kind::Revision {
                return super::common::parse_u64(token.value).unwrap_or(u64::MAX);
            }
        }
        0
    }

    fn parse_trimmed(s: &str) -> Result<ApkVersion, InvalidReason> {
        let mut tokens = Tokens::new(s.as_bytes());
        while tokens.next_token().is_some() {}
        match tokens.error {
            None => Ok(ApkVersion { text: s.into() }),
            Some(TokenError::At(at, expected)) if at >= s.len() => {
                Err(InvalidReason::UnexpectedEnd { expected })
            }
            Some(TokenError::At(at, _)) => Err(unexpected(s, at)),
            Some(TokenError::Suffix(start, end)) => Err(InvalidReason::UnknownSuffix {
                suffix: s.get(start..end).unwrap_or_default().to_owned(),
            }),
        }
    }
}

impl FromStr for ApkVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_with(Scheme::Apk, s, ApkVersion::parse_trimmed)
    }
}

impl Ord for ApkVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let mut left = Tokens::new(self.text.as_bytes());
        let mut right = Tokens::new(other.text.as_bytes());
        loop {
            let a = left.next_token();
            let b = right.next_token();
            let (a, b) = match (a, b) {
                (None, None) => return Ordering::Equal,
                (Some(a), Some(b)) if a.kind == b.kind => {
                    let ord = a.cmp_value(&b);
                    if ord != Ordering::Equal {
                        return ord;
                    }
                    continue;
                }
                pair => pair,
            };
            // The kinds differ, or one side has ended.
            if a.as_ref().is_some_and(Token::is_pre_release) {
                return Ordering::Less;
            }
            if b.as_ref().is_some_and(Token::is_pre_release) {
                return Ordering::Greater;
            }
            // A later kind in the grammar (the end being the latest) is lower.
            let rank = |t: &Option<Token<'_>>| t.as_ref().map_or(Kind::End, |t| t.kind);
            return rank(&b).cmp(&rank(&a));
        }
    }
}

ord_via_cmp!(ApkVersion);

impl fmt::Display for ApkVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Token kinds, in grammar order (the order matters for comparison).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialNumber,
    Number,
    Letter,
    Suffix,
    SuffixNumber,
    CommitHash,
    Revision,
    End,
}

/// Suffix names in order; pre-release ones come before [`NO_SUFFIX`].
const SUFFIXES: [&str; 9] = ["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"];
/// Rank of "no suffix" among [`SUFFIXES`] ranks.
const NO_SUFFIX: u8 = 4;

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    value: &'a [u8],
    /// For suffixes: rank in [`SUFFIXES`] order, with a gap at [`NO_SUFFIX`].
    suffix: u8,
}

impl Token<'_> {
    fn is_pre_release(&self) -> bool {
        self.kind == Kind::Suffix && self.suffix < NO_SUFFIX
    }

    /// Compares two tokens of the same kind.
    fn cmp_value(&self, other: &Token<'_>) -> Ordering {
        match self.kind {
            Kind::Number
                if self.value.first() == Some(&b'0') || other.value.first() == Some(&b'0') =>
            {
                self.value.cmp(other.value)
            }
            Kind::InitialNumber | Kind::Number | Kind::SuffixNumber | Kind::Revision => {
                cmp_digits(self.value, other.value)
            }
            Kind::Suffix => self.suffix.cmp(&other.suffix),
            Kind::Letter | Kind::CommitHash | Kind::End => self.value.cmp(other.value),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum TokenError {
    /// Unexpected byte (or end) at this offset, and what was expected.
    At(usize, &'static str),
    /// Unknown suffix name at this byte range.
    Suffix(usize, usize),
}

/// Tokenizer over a version; stops at the end or the first error.
struct Tokens<'a> {
    s: &'a [u8],
    pos: usize,
    last: Option<Kind>,
    error: Option<TokenError>,
}

impl<'a> Tokens<'a> {
    fn new(s: &'a [u8]) -> Tokens<'a> {
        Tokens {
            s,
            pos: 0,
            last: None,
            error: None,
        }
    }

    fn rest(&self) -> &'a [u8] {
        self.s.get(self.pos..).unwrap_or_default()
    }

    fn fail(&mut self, e: TokenError) -> Option<Token<'a>> {
        self.error = Some(e);
        self.pos = self.s.len();
        self.last = Some(Kind::End);
        None
    }

    fn digits(&mut self, kind: Kind) -> Option<Token<'a>> {
        let rest = self.rest();
        let n = digit_run(rest);
        if n == 0 {
            return self.fail(TokenError::At(self.pos, "a number"));
        }
        self.pos += n;
        self.last = Some(kind);
        Some(Token {
            kind,
            value: rest.get(..n).unwrap_or_default(),
            suffix: 0,
        })
    }

    /// The next token, `None` at the end or on error (see `error`).
    fn next_token(&mut self) -> Option<Token<'a>> {
        let last = match self.last {
            None => return self.digits(Kind::InitialNumber),
            Some(Kind::End) => return None,
            Some(last) => last,
        };
        let Some(&c) = self.rest().first() else {
            self.last = Some(Kind::End);
            return None;
        };
        let at = self.pos;
        match c {
            b'a'..=b'z' if last <= Kind::Number => {
                self.pos += 1;
                self.last = Some(Kind::Letter);
                Some(Token {
                    kind: Kind::Letter,
                    value: self.s.get(at..at + 1).unwrap_or_default(),
                    suffix: 0,
                })
            }
            b'.' if last <= Kind::Number => {
                self.pos += 1;
                self.digits(Kind::Number)
            }
            b'0'..=b'9' if last == Kind::Suffix => self.digits(Kind::SuffixNumber),
            b'_' if last <= Kind::SuffixNumber => {
                let name_len = self
                    .s
                    .get(at + 1..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|c| c.is_ascii_lowercase())
                    .count();
                let name = self.s.get(at + 1..at + 1 + name_len).unwrap_or_default();
                let Some(rank) = SUFFIXES.iter().position(|s| s.as_bytes() == name) else {
                    return self.fail(TokenError::Suffix(at + 1, at + 1 + name_len));
                };
                // Leave a gap at NO_SUFFIX between pre- and post-release ranks.
                let rank = u8::try_from(rank).unwrap_or(u8::MAX);
                let rank = if rank >= NO_SUFFIX { rank + 1 } else { rank };
                self.pos = at + 1 + name_len;
                self.last = Some(Kind::Suffix);
                Some(Token {
                    kind: Kind::Suffix,
                    value: name,
                    suffix: rank,
                })
            }
            b'~' if last < Kind::CommitHash => {
                let rest = self.s.get(at + 1..).unwrap_or_default();
                let n = rest
                    .iter()
                    .take_while(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
                    .count();
                if n == 0 {
                    return self.fail(TokenError::At(at + 1, "a commit hash"));
                }
                self.pos = at + 1 + n;
                self.last = Some(Kind::CommitHash);
                Some(Token {
                    kind: Kind::CommitHash,
                    value: rest.get(..n).unwrap_or_default(),
                    suffix: 0,
                })
            }
            b'-' if last < Kind::Revision => {
                if self.s.get(at + 1) != Some(&b'r') {
                    return self.fail(TokenError::At(at + 1, "`r` and a revision number"));
                }
                self.pos = at + 2;
                self.digits(Kind::Revision)
            }
            _ => self.fail(TokenError::At(at, "")),
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

    fn v(s: &str) -> ApkVersion {
        s.parse().unwrap()
    }

    #[test]
    fn grammar_order() {
        let order = [
            "1.2_alpha",
            "1.2_beta2",
            "1.2_pre",
            "1.2_rc1",
            "1.2",
            "1.2-r1",
            "1.2~abc",
            "1.2_cvs",
            "1.2_p1",
            "1.2a",
            "1.2.1",
        ];
        for pair in order.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn revision() {
        assert_eq!(v("1.2.3-r10").revision(), 10);
        assert_eq!(v("1.2.3").revision(), 0);
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(
            ApkVersion::parse_trimmed("1.2_foo1").unwrap_err(),
            InvalidReason::UnknownSuffix {
                suffix: "foo".into()
            }
        );
        assert_eq!(
            ApkVersion::parse_trimmed("1.2-1").unwrap_err(),
            InvalidReason::UnexpectedChar { ch: '1', at: 4 }
        );
        assert_eq!(
            ApkVersion::parse_trimmed("1.").unwrap_err(),
            InvalidReason::UnexpectedEnd {
                expected: "a number"
            }
        );
    }
}
