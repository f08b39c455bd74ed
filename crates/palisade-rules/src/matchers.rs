//! String matchers precompiled from literals: `glob` (fnmatch without flags), `pmatch` path
//! prefix sets, and ASCII case-insensitive search.

use rustc_hash::FxHashSet;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(u8),
    Any,
    Star,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// A compiled glob pattern: `*` (any sequence, `/` included), `?` (one character), `[…]`
/// classes with ranges and `!`/`^` negation, `\` escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Glob {
    toks: Vec<Tok>,
    icase: bool,
}

fn char_at(s: &[u8], i: usize) -> (Option<char>, usize) {
    let Some(&b) = s.get(i) else { return (None, 1) };
    let n = match b {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    };
    match s.get(i..i + n).and_then(|c| std::str::from_utf8(c).ok()) {
        Some(c) => (c.chars().next(), n),
        None => (None, 1),
    }
}

impl Glob {
    pub(crate) fn new(pattern: &str, icase: bool) -> Self {
        let p = pattern.as_bytes();
        let mut toks = Vec::new();
        let mut i = 0;
        while let Some(&b) = p.get(i) {
            match b {
                b'*' => {
                    if toks.last() != Some(&Tok::Star) {
                        toks.push(Tok::Star);
                    }
                    i += 1;
                }
                b'?' => {
                    toks.push(Tok::Any);
                    i += 1;
                }
                b'\\' if p.get(i + 1).is_some() => {
                    let lit = p.get(i + 1).copied().unwrap_or(b'\\');
                    toks.push(Tok::Lit(lit));
                    i += 2;
                }
                b'[' => match Self::class(pattern, i) {
                    Some((tok, next)) => {
                        toks.push(tok);
                        i = next;
                    }
                    None => {
                        toks.push(Tok::Lit(b'['));
                        i += 1;
                    }
                },
                _ => {
                    toks.push(Tok::Lit(b));
                    i += 1;
                }
            }
        }
        if icase {
            for t in &mut toks {
                if let Tok::Lit(b) = t {
                    *b = b.to_ascii_lowercase();
                }
            }
        }
        Self { toks, icase }
    }

    /// Parse `[…]` starting at `start` (the `[`); None if unterminated.
    fn class(pattern: &str, start: usize) -> Option<(Tok, usize)> {
        let s = pattern.get(start + 1..)?;
        let mut chars = s.char_indices().peekable();
        let mut negated = false;
        if let Some(&(_, c)) = chars.peek() {
            if c == '!' || c == '^' {
                negated = true;
                chars.next();
            }
        }
        let mut ranges = Vec::new();
        let mut first = true;
        while let Some((i, c)) = chars.next() {
            if c == ']' && !first {
                return Some((Tok::Class { negated, ranges }, start + 1 + i + 1));
            }
            first = false;
            let c = if c == '\\' {
                chars.next().map(|(_, e)| e)?
            } else {
                c
            };
            let mut hi = c;
            if let Some(&(_, '-')) = chars.peek() {
                let mut look = chars.clone();
                look.next();
                if let Some(&(_, h)) = look.peek() {
                    if h != ']' {
                        chars.next();
                        chars.next();
                        hi = h;
                    }
                }
            }
            ranges.push((c, hi));
        }
        None
    }

    fn class_matches(&self, negated: bool, ranges: &[(char, char)], c: Option<char>) -> bool {
        let Some(c) = c else { return negated };
        let hit = ranges.iter().any(|&(lo, hi)| {
            (lo..=hi).contains(&c)
                || (self.icase
                    && ((lo..=hi).contains(&c.to_ascii_lowercase())
                        || (lo..=hi).contains(&c.to_ascii_uppercase())))
        });
        hit != negated
    }

    pub(crate) fn matches(&self, s: &[u8]) -> bool {
        let (mut p, mut i) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while i < s.len() {
            let step = match self.toks.get(p) {
                Some(Tok::Star) => {
                    star = Some((p, i));
                    p += 1;
                    continue;
                }
                Some(Tok::Any) => Some(char_at(s, i).1),
                Some(Tok::Lit(b)) => {
                    let c = s.get(i).copied().unwrap_or(0);
                    let c = if self.icase {
                        c.to_ascii_lowercase()
                    } else {
                        c
                    };
                    (c == *b).then_some(1)
                }
                Some(Tok::Class { negated, ranges }) => {
                    let (c, n) = char_at(s, i);
                    self.class_matches(*negated, ranges, c).then_some(n)
                }
                None => None,
            };
            match step {
                Some(n) => {
                    i += n;
                    p += 1;
                }
                None => match star {
                    Some((sp, si)) => {
                        let n = char_at(s, si).1;
                        star = Some((sp, si + n));
                        p = sp + 1;
                        i = si + n;
                    }
                    None => return false,
                },
            }
        }
        while self.toks.get(p) == Some(&Tok::Star) {
            p += 1;
        }
        p == self.toks.len()
    }

    fn is_literal(&self) -> bool {
        self.toks.iter().all(|t| matches!(t, Tok::Lit(_)))
    }
}

/// `pmatch`: true when one of the prefixes equals the path or a leading run of its `/`
/// components. Prefix components may be globs (which do not cross `/`).
#[derive(Debug, Clone, Default)]
pub(crate) struct PrefixSet {
    exact: FxHashSet<Box<[u8]>>,
    globbed: Vec<(bool, Vec<Glob>)>,
    root: bool,
}

impl PrefixSet {
    pub(crate) fn new<'a>(prefixes: impl IntoIterator<Item = &'a str>) -> Self {
        let mut set = PrefixSet::default();
        for p in prefixes {
            let trimmed = p.trim_end_matches('/');
            if trimmed.is_empty() {
                if p.starts_with('/') {
                    set.root = true;
                }
                continue;
            }
            let comps: Vec<Glob> = trimmed.split('/').map(|c| Glob::new(c, false)).collect();
            if comps.iter().all(Glob::is_literal) {
                set.exact.insert(trimmed.as_bytes().into());
            } else {
                set.globbed.push((trimmed.starts_with('/'), comps));
            }
        }
        set
    }

    pub(crate) fn matches(&self, path: &[u8]) -> bool {
        if self.root && path.first() == Some(&b'/') {
            return true;
        }
        if !self.exact.is_empty() {
            for (i, &b) in path.iter().enumerate() {
                if b == b'/' && i > 0 {
                    if let Some(prefix) = path.get(..i) {
                        if self.exact.contains(prefix) {
                            return true;
                        }
                    }
                }
            }
            let full = path.strip_suffix(b"/").unwrap_or(path);
            if self.exact.contains(full) {
                return true;
            }
        }
        if !self.globbed.is_empty() {
            let comps: Vec<&[u8]> = path.split(|&b| b == b'/').collect();
            for (_, pat) in &self.globbed {
                if pat.len() <= comps.len() && pat.iter().zip(&comps).all(|(g, c)| g.matches(c)) {
                    return true;
                }
            }
        }
        false
    }
}

/// ASCII case-insensitive substring search; `needle` must be lowercase.
pub(crate) fn icontains(hay: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    if needle.len() > hay.len() {
        return false;
    }
    let Some(&first) = needle.first() else {
        return true;
    };
    let rest = needle.get(1..).unwrap_or_default();
    let last_start = hay.len() - needle.len();
    let mut i = 0;
    while i <= last_start {
        let Some(off) = memchr::memchr2(
            first,
            first.to_ascii_uppercase(),
            hay.get(i..=last_start).unwrap_or_default(),
        ) else {
            return false;
        };
        let at = i + off;
        if hay
            .get(at + 1..at + needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(rest))
        {
            return true;
        }
        i = at + 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(p: &str, s: &str) -> bool {
        Glob::new(p, false).matches(s.as_bytes())
    }

    #[test]
    fn glob_semantics() {
        assert!(g("/home/*/.ssh/*", "/home/u/.ssh/id_rsa"));
        assert!(g("*../*../*", "/tmp/../../etc/passwd"));
        assert!(
            g("/var/*", "/var/run/file.txt"),
            "fnmatch without FNM_PATHNAME"
        );
        assert!(g("a?c", "abc"));
        assert!(g("a?c", "aéc"));
        assert!(!g("a?c", "ac"));
        assert!(g("[a-c]x", "bx"));
        assert!(!g("[!a-c]x", "bx"));
        assert!(g("[]]", "]"));
        assert!(g("\\*", "*"));
        assert!(!g("\\*", "a"));
        assert!(g("*", ""));
        assert!(!g("", "a"));
        assert!(g("[abc", "[abc"), "unterminated class is literal");
        assert!(Glob::new("*.TXT", true).matches(b"a.txt"));
    }

    #[test]
    fn pmatch_semantics() {
        let p = PrefixSet::new(["/tmp/hello", "/etc/", "/var/*/*.txt"]);
        assert!(p.matches(b"/tmp/hello"));
        assert!(p.matches(b"/tmp/hello/world"));
        assert!(!p.matches(b"/tmp/hello_world"));
        assert!(p.matches(b"/etc"));
        assert!(p.matches(b"/etc/passwd"));
        assert!(p.matches(b"/var/run/a.txt/x"));
        assert!(!p.matches(b"/var/run/a.log"));
        assert!(!p.matches(b"/opt/data/file.txt"));
        assert!(PrefixSet::new(["/"]).matches(b"/anything"));
    }

    #[test]
    fn icontains_ascii() {
        assert!(icontains(b"Hello BEGIN world", b"begin"));
        assert!(!icontains(b"Hello", b"help"));
        assert!(icontains(b"x", b""));
    }
}
