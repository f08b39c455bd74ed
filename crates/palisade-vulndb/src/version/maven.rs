//! Maven artifact versions, as Maven's `ComparableVersion` orders them
//! (maven-artifact 3.8.7 and later; the rules of the POM reference's
//! "Version Order Specification").
//!
//! Parsing, on the lower-cased version:
//!
//! * `.` and `-` separate items; an empty item is `0`. A `-` also opens a
//!   nested list for what follows, and so does a transition between digits
//!   and letters (`1.0rc1` is `1.0-rc-1`). A qualifier that follows a
//!   non-empty list also opens a nested list (so `1.foo` equals `1-foo`).
//! * A number is a numeric item; anything else a qualifier. `a`, `b`, `m`
//!   directly followed by a digit mean `alpha`, `beta`, `milestone`; `cr`
//!   means `rc`; `ga`, `final` and `release` mean the empty qualifier.
//! * Trailing "null" items (`0`, the empty qualifier, empty lists) are
//!   removed from each list: `1.0.0 == 1`, `1.0-final == 1`.
//!
//! Order: items compare in turn, a missing item acting as null. Numbers
//! compare numerically and above qualifiers and lists; lists above
//! qualifiers. Known qualifiers order as
//! `alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp`,
//! and unknown qualifiers come after all of them, in lexical order. Against
//! a missing item a qualifier compares as against the empty qualifier (so
//! `1-alpha < 1 < 1-sp`), a number as against `0`.
//!
//! Only printable ASCII is accepted (Maven's own parser treats other Unicode
//! digits as digits; rejecting is safer than guessing).
//!
//! # Not a total order
//!
//! Maven's order is not transitive when a qualifier stands before a `.`
//! (`1.sp.1`, `5.0.0.beta.1`) or a null item stands between others
//! (`1-ga-alpha`), because a list always beats a qualifier and an integer
//! always beats both, while each compares with a missing item by its own
//! content. `ComparableVersion` itself answers `1-alpha < 1 < 1.sp.1 <
//! 1-alpha` and `5.0.0.beta.1 < 5 < 5-sp < 5.0.0.beta.1`. No total order
//! can agree with Maven on all of `2 < 2-1 < 2.0.2`, `1-alpha < 1 < 1-sp`
//! and `1.0.0.beta.1 < 1`, so this type follows Maven exactly: a range bound
//! means what Maven makes of it. `Ord` is therefore a total order only on
//! versions without such items (every release, `-qualifier`, `.RC1`-style
//! and `-SNAPSHOT` version is fine). Pairwise comparison is always
//! well-defined and antisymmetric; sorting a collection that contains such a
//! cycle gives an unspecified order, and `slice::sort` may panic on it.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::common::{cmp_digits, parse_with, strip_zeros, unexpected};
use super::{ord_via_cmp, InvalidReason, Scheme, VersionError};

/// A Maven version.
#[derive(Debug, Clone)]
pub struct MavenVersion {
    /// The input, lower-cased.
    text: Box<str>,
    /// Scalar items of every list, list after list.
    items: Box<[Scalar]>,
    /// List `k` is `items[ends[k-1]..ends[k]]` (from 0 for `k == 0`); list
    /// `k + 1`, if it exists, is the last item of list `k`.
    ends: Box<[usize]>,
}

/// Known qualifiers, in order; index 5 (the empty qualifier) is a release.
const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
/// Index of the empty qualifier in [`QUALIFIERS`].
const RELEASE: u8 = 5;

/// A number or qualifier item; byte ranges point into the version's text.
#[derive(Debug, Clone, Copy)]
enum Scalar {
    /// Digits without leading zeros (an empty range is zero).
    Int(usize, usize),
    /// A qualifier from [`QUALIFIERS`].
    Known(u8),
    /// Any other qualifier.
    Other(usize, usize),
}

impl Scalar {
    fn is_null(self) -> bool {
        match self {
            Scalar::Int(start, end) => start == end,
            Scalar::Known(i) => i == RELEASE,
            Scalar::Other(..) => false,
        }
    }
}

/// An item as compared: a scalar or the list at some depth.
#[derive(Debug, Clone, Copy)]
enum Item {
    Scalar(Scalar),
    List(usize),
}

impl MavenVersion {
    /// Maven's canonical form (`ComparableVersion.getCanonical()`):
    /// `1.0.RC1` → `1-rc-1`, `1.0-final` → `1`. Equal versions have the same
    /// canonical form.
    pub fn canonical(&self) -> String {
        // Build from the innermost list outwards.
        let mut inner = String::new();
        for depth in (0..self.ends.len()).rev() {
            let mut out = String::new();
            for &scalar in self.list(depth) {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(self.scalar_str(scalar));
            }
            if depth + 1 < self.ends.len() {
                if !out.is_empty() {
                    out.push('-');
                }
                out.push_str(&inner);
            }
            inner = out;
        }
        inner
    }

    fn scalar_str(&self, scalar: Scalar) -> &str {
        match scalar {
            Scalar::Int(start, end) if start == end => "0",
            Scalar::Int(start, end) | Scalar::Other(start, end) => {
                self.text.get(start..end).unwrap_or_default()
            }
            Scalar::Known(i) => QUALIFIERS.get(usize::from(i)).copied().unwrap_or_default(),
        }
    }

    /// The scalar items of the list at `depth`.
    fn list(&self, depth: usize) -> &[Scalar] {
        let start = match depth.checked_sub(1) {
            Some(prev) => self.ends.get(prev).copied().unwrap_or(0),
            None => 0,
        };
        let end = self.ends.get(depth).copied().unwrap_or(start);
        self.items.get(start..end).unwrap_or_default()
    }

    /// Item `i` of the list at `depth`, `None` past its end.
    fn item(&self, depth: usize, i: usize) -> Option<Item> {
        let scalars = self.list(depth);
        match scalars.get(i) {
            Some(&s) => Some(Item::Scalar(s)),
            None if i == scalars.len() && depth + 1 < self.ends.len() => {
                Some(Item::List(depth + 1))
            }
            None => None,
        }
    }

    fn parse_trimmed(s: &str) -> Result<MavenVersion, InvalidReason> {
        if let Some(at) = s.bytes().position(|c| !c.is_ascii_graphic()) {
            return Err(unexpected(s, at));
        }
        let text = s.to_ascii_lowercase();
        let bytes = text.as_bytes();
        let mut lists: Vec<Vec<Scalar>> = vec![Vec::new()];
        let push = |lists: &mut Vec<Vec<Scalar>>, scalar: Scalar| {
            if let Some(list) = lists.last_mut() {
                list.push(scalar);
            }
        };
        let current_is_empty = |lists: &Vec<Vec<Scalar>>| lists.last().is_none_or(Vec::is_empty);
        let mut is_digit = false;
        let mut start = 0;
        for (i, &c) in bytes.iter().enumerate() {
            match c {
                b'.' | b'-' => {
                    let item = if i == start {
                        Scalar::Int(i, i)
                    } else {
                        token(bytes, is_digit, start, i, false)
                    };
                    push(&mut lists, item);
                    start = i + 1;
                    if c == b'-' {
                        lists.push(Vec::new());
                    }
                }
                c if c.is_ascii_digit() => {
                    if !is_digit && i > start {
                        if !current_is_empty(&lists) {
                            lists.push(Vec::new());
                        }
                        push(&mut lists, token(bytes, false, start, i, true));
                        start = i;
                        lists.push(Vec::new());
                    }
                    is_digit = true;
                }
                _ => {
                    if is_digit && i > start {
                        push(&mut lists, token(bytes, true, start, i, false));
                        start = i;
                        lists.push(Vec::new());
                    }
                    is_digit = false;
                }
            }
        }
        if bytes.len() > start {
            if !is_digit && !current_is_empty(&lists) {
                lists.push(Vec::new());
            }
            push(
                &mut lists,
                token(bytes, is_digit, start, bytes.len(), false),
            );
        }

        // Normalise, innermost list first: drop trailing nulls, then drop
        // the list itself if it became empty and has no nested list.
        for depth in (0..lists.len()).rev() {
            let innermost = depth + 1 == lists.len();
            if let Some(list) = lists.get_mut(depth) {
                while list.last().is_some_and(|s| s.is_null()) {
                    list.pop();
                }
                if innermost && list.is_empty() && depth > 0 {
                    lists.pop();
                }
            }
        }

        let mut ends = Vec::with_capacity(lists.len());
        let mut total = 0;
        for list in &lists {
            total += list.len();
            ends.push(total);
        }
        Ok(MavenVersion {
            items: lists.into_iter().flatten().collect(),
            ends: ends.into_boxed_slice(),
            text: text.into_boxed_str(),
        })
    }
}

/// The item for `bytes[start..end]`: a number, or a qualifier (with Maven's
/// shorthands and aliases applied).
fn token(
    bytes: &[u8],
    is_digit: bool,
    start: usize,
    end: usize,
    followed_by_digit: bool,
) -> Scalar {
    let raw = bytes.get(start..end).unwrap_or_default();
    if is_digit {
        let zeros = raw.len() - strip_zeros(raw).len();
        return Scalar::Int(start + zeros, end);
    }
    let name: &[u8] = match (followed_by_digit, raw) {
        (true, b"a") => b"alpha",
        (true, b"b") => b"beta",
        (true, b"m") => b"milestone",
        (_, b"ga" | b"final" | b"release") => b"",
        (_, b"cr") => b"rc",
        _ => raw,
    };
    match QUALIFIERS.iter().position(|q| q.as_bytes() == name) {
        Some(i) => Scalar::Known(u8::try_from(i).unwrap_or(RELEASE)),
        None => Scalar::Other(start, end),
    }
}

impl FromStr for MavenVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_with(Scheme::Maven, s, MavenVersion::parse_trimmed)
    }
}

impl MavenVersion {
    fn cmp_qualifier(&self, a: Scalar, other: &MavenVersion, b: Scalar) -> Ordering {
        match (a, b) {
            (Scalar::Known(x), Scalar::Known(y)) => x.cmp(&y),
            (Scalar::Known(_), _) => Ordering::Less,
            (_, Scalar::Known(_)) => Ordering::Greater,
            _ => self.scalar_str(a).cmp(other.scalar_str(b)),
        }
    }

    /// Compares an item of `self` with a missing item.
    fn cmp_with_null(&self, item: Item) -> Ordering {
        let mut item = item;
        loop {
            match item {
                Item::Scalar(Scalar::Int(start, end)) => {
                    return if start == end {
                        Ordering::Equal
                    } else {
                        Ordering::Greater
                    };
                }
                Item::Scalar(Scalar::Known(i)) => return i.cmp(&RELEASE),
                Item::Scalar(Scalar::Other(..)) => return Ordering::Greater,
                Item::List(depth) => {
                    // The first item that differs from null decides; the
                    // nested list, if any, is the last item.
                    for &scalar in self.list(depth) {
                        let ord = self.cmp_with_null(Item::Scalar(scalar));
                        if ord != Ordering::Equal {
                            return ord;
                        }
                    }
                    if depth + 1 < self.ends.len() {
                        item = Item::List(depth + 1);
                    } else {
                        return Ordering::Equal;
                    }
                }
            }
        }
    }
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let (mut da, mut db) = (0, 0);
        let mut i = 0;
        loop {
            let ord = match (self.item(da, i), other.item(db, i)) {
                (None, None) => return Ordering::Equal,
                (None, Some(b)) => other.cmp_with_null(b).reverse(),
                (Some(a), None) => self.cmp_with_null(a),
                (Some(Item::List(x)), Some(Item::List(y))) => {
                    // Nested lists are the last items: compare them next.
                    da = x;
                    db = y;
                    i = 0;
                    continue;
                }
                (Some(Item::Scalar(a)), Some(Item::Scalar(b))) => match (a, b) {
                    (Scalar::Int(s1, e1), Scalar::Int(s2, e2)) => cmp_digits(
                        self.text.as_bytes().get(s1..e1).unwrap_or_default(),
                        other.text.as_bytes().get(s2..e2).unwrap_or_default(),
                    ),
                    (Scalar::Int(..), _) => Ordering::Greater,
                    (_, Scalar::Int(..)) => Ordering::Less,
                    _ => self.cmp_qualifier(a, other, b),
                },
                // Numbers > lists > qualifiers.
                (Some(Item::List(_)), Some(Item::Scalar(b))) => match b {
                    Scalar::Int(..) => Ordering::Less,
                    _ => Ordering::Greater,
                },
                (Some(Item::Scalar(a)), Some(Item::List(_))) => match a {
                    Scalar::Int(..) => Ordering::Greater,
                    _ => Ordering::Less,
                },
            };
            if ord != Ordering::Equal {
                return ord;
            }
            i += 1;
        }
    }
}

ord_via_cmp!(MavenVersion);

impl fmt::Display for MavenVersion {
    /// Prints the version as given, lower-cased (see
    /// [`canonical`](MavenVersion::canonical) for Maven's canonical form,
    /// which does not always parse back to an equal version).
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

    fn v(s: &str) -> MavenVersion {
        s.parse().unwrap()
    }

    #[test]
    fn canonical_forms() {
        // As printed by maven-artifact 3.8.7's ComparableVersion main().
        let cases = [
            ("1.0-alpha", "1-alpha"),
            ("1.0", "1"),
            ("1-sp", "1-sp"),
            ("1.0.RC1", "1-rc-1"),
            ("1.0-rc-1", "1-rc-1"),
            ("1.foo", "1-foo"),
            ("1-ga-1", "1-1"),
            ("1--1", "1-1"),
            ("1.0.final", "1"),
            ("1-0.alpha", "1-alpha"),
            ("1-0.1", "1-0.1"),
            ("2.0.0.Final", "2"),
            ("1.2.3-SNAPSHOT", "1.2.3-snapshot"),
        ];
        for (input, canonical) in cases {
            assert_eq!(v(input).canonical(), canonical, "{input}");
        }
    }

    #[test]
    fn display_is_lower_cased_input() {
        assert_eq!(v("1.0.RC1").to_string(), "1.0.rc1");
    }
}
