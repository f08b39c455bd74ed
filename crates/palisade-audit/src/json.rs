//! Lazy navigation over JSON text that `serde_json` has already validated.
//!
//! An [`AuditEvent`](crate::AuditEvent) keeps its request and response
//! objects (and the whole event, for `jevt.*`) as spans of the original text.
//! Fields that look inside them walk that text on demand: find a key, step
//! into an array element, follow a JSON pointer. Nothing is allocated unless
//! a string holds escapes or a value has to be re-serialised compactly.
//!
//! The input is always text that `serde_json` accepted, but these functions
//! never assume it: on anything unexpected they answer `None`, and they never
//! index out of bounds.

use std::borrow::Cow;

/// What kind of JSON value a span holds, judged by its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Object,
    Array,
    String,
    Number,
    Bool,
    Null,
}

/// The kind of the JSON value at the start of `raw` (after whitespace).
pub(crate) fn kind(raw: &str) -> Option<Kind> {
    match raw.trim_start().as_bytes().first()? {
        b'{' => Some(Kind::Object),
        b'[' => Some(Kind::Array),
        b'"' => Some(Kind::String),
        b't' | b'f' => Some(Kind::Bool),
        b'n' => Some(Kind::Null),
        b'-' | b'0'..=b'9' => Some(Kind::Number),
        _ => None,
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    while let Some(&b) = bytes.get(pos) {
        if !is_ws(b) {
            break;
        }
        pos += 1;
    }
    pos
}

/// Position just past the string starting at `pos` (which holds `"`).
fn skip_string(bytes: &[u8], pos: usize) -> Option<usize> {
    let mut i = pos + 1;
    loop {
        let rest = bytes.get(i..)?;
        let off = memchr::memchr2(b'"', b'\\', rest)?;
        i += off;
        match bytes.get(i)? {
            b'"' => return Some(i + 1),
            _ => i += 2,
        }
    }
}

/// Position just past the value starting at `pos` (no leading whitespace).
fn skip_value(bytes: &[u8], pos: usize) -> Option<usize> {
    match *bytes.get(pos)? {
        b'"' => skip_string(bytes, pos),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = pos;
            loop {
                match *bytes.get(i)? {
                    b'"' => {
                        i = skip_string(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let mut i = pos;
            while let Some(&b) = bytes.get(i) {
                if matches!(b, b',' | b'}' | b']') || is_ws(b) {
                    break;
                }
                i += 1;
            }
            (i > pos).then_some(i)
        }
    }
}

/// Iterator over the `(raw key, raw value)` pairs of an object; the raw key
/// keeps its quotes.
pub(crate) struct Entries<'a> {
    text: &'a str,
    pos: usize,
    done: bool,
}

impl<'a> Iterator for Entries<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let bytes = self.text.as_bytes();
        let step = || -> Option<(usize, usize, usize, usize, usize)> {
            let mut p = skip_ws(bytes, self.pos);
            match bytes.get(p)? {
                b'}' => return None,
                b',' => p = skip_ws(bytes, p + 1),
                _ => {}
            }
            if bytes.get(p)? != &b'"' {
                return None;
            }
            let key_end = skip_string(bytes, p)?;
            let colon = skip_ws(bytes, key_end);
            if bytes.get(colon)? != &b':' {
                return None;
            }
            let vstart = skip_ws(bytes, colon + 1);
            let vend = skip_value(bytes, vstart)?;
            Some((p, key_end, vstart, vend, vend))
        };
        match step() {
            Some((ks, ke, vs, ve, next)) => {
                self.pos = next;
                Some((self.text.get(ks..ke)?, self.text.get(vs..ve)?))
            }
            None => {
                self.done = true;
                None
            }
        }
    }
}

/// The entries of the object `raw`; empty when `raw` is not an object.
pub(crate) fn entries(raw: &str) -> Entries<'_> {
    let bytes = raw.as_bytes();
    let start = skip_ws(bytes, 0);
    let is_obj = bytes.get(start) == Some(&b'{');
    Entries {
        text: raw,
        pos: start + 1,
        done: !is_obj,
    }
}

/// Iterator over the raw elements of an array.
pub(crate) struct Elements<'a> {
    text: &'a str,
    pos: usize,
    done: bool,
}

impl<'a> Iterator for Elements<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let bytes = self.text.as_bytes();
        let step = || -> Option<(usize, usize)> {
            let mut p = skip_ws(bytes, self.pos);
            match bytes.get(p)? {
                b']' => return None,
                b',' => p = skip_ws(bytes, p + 1),
                _ => {}
            }
            let end = skip_value(bytes, p)?;
            Some((p, end))
        };
        match step() {
            Some((s, e)) => {
                self.pos = e;
                self.text.get(s..e)
            }
            None => {
                self.done = true;
                None
            }
        }
    }
}

/// The elements of the array `raw`; empty when `raw` is not an array.
pub(crate) fn elements(raw: &str) -> Elements<'_> {
    let bytes = raw.as_bytes();
    let start = skip_ws(bytes, 0);
    let is_arr = bytes.get(start) == Some(&b'[');
    Elements {
        text: raw,
        pos: start + 1,
        done: !is_arr,
    }
}

/// Whether the quoted JSON string `raw_key` equals `key`.
fn key_eq(raw_key: &str, key: &str) -> bool {
    let inner = raw_key
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(raw_key);
    if !inner.contains('\\') {
        return inner == key;
    }
    serde_json::from_str::<String>(raw_key).is_ok_and(|s| s == key)
}

/// The raw value of `key` in the object `raw`.
pub(crate) fn get<'a>(raw: &'a str, key: &str) -> Option<&'a str> {
    entries(raw).find(|(k, _)| key_eq(k, key)).map(|(_, v)| v)
}

/// The raw value at the path of object keys `keys` below `raw`.
pub(crate) fn get_path<'a>(raw: &'a str, keys: &[&str]) -> Option<&'a str> {
    keys.iter().try_fold(raw, |cur, k| get(cur, k))
}

/// Follow an RFC 6901 JSON pointer (`""` is the whole value, else `/a/0/b`
/// with `~1` for `/` and `~0` for `~`).
pub(crate) fn pointer<'a>(raw: &'a str, tokens: &[String]) -> Option<&'a str> {
    let mut cur = raw;
    for token in tokens {
        cur = match kind(cur)? {
            Kind::Object => get(cur, token)?,
            Kind::Array => {
                // RFC 6901: an index is "0" or digits without a leading zero.
                if token.is_empty()
                    || !token.bytes().all(|b| b.is_ascii_digit())
                    || (token.len() > 1 && token.starts_with('0'))
                {
                    return None;
                }
                let idx: usize = token.parse().ok()?;
                elements(cur).nth(idx)?
            }
            _ => return None,
        };
    }
    Some(cur)
}

/// Split a JSON pointer into unescaped reference tokens.
pub(crate) fn parse_pointer(ptr: &str) -> Option<Vec<String>> {
    if ptr.is_empty() {
        return Some(Vec::new());
    }
    let rest = ptr.strip_prefix('/')?;
    rest.split('/')
        .map(|t| {
            let mut out = String::with_capacity(t.len());
            let mut chars = t.chars();
            while let Some(c) = chars.next() {
                if c == '~' {
                    match chars.next() {
                        Some('0') => out.push('~'),
                        Some('1') => out.push('/'),
                        _ => return None,
                    }
                } else {
                    out.push(c);
                }
            }
            Some(out)
        })
        .collect()
}

/// The contents of a JSON string value (unescaped), if `raw` is a string.
pub(crate) fn as_str(raw: &str) -> Option<Cow<'_, str>> {
    let t = raw.trim();
    let inner = t.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(t).ok().map(Cow::Owned)
}

/// A value as Falco's extractors render it: a string's contents, anything
/// else as compact JSON text.
pub(crate) fn as_text(raw: &str) -> Cow<'_, str> {
    if let Some(s) = as_str(raw) {
        return s;
    }
    compact(raw.trim())
}

/// `raw` without whitespace outside strings.
pub(crate) fn compact(raw: &str) -> Cow<'_, str> {
    let bytes = raw.as_bytes();
    if !bytes.iter().any(|&b| is_ws(b)) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'"' {
            let end = skip_string(bytes, i).unwrap_or(bytes.len());
            out.push_str(raw.get(i..end).unwrap_or(""));
            i = end;
        } else {
            if !is_ws(b) {
                // Non-string bytes outside strings are ASCII in valid JSON.
                out.push(char::from(b));
            }
            i += 1;
        }
    }
    Cow::Owned(out)
}

/// Whether `raw` is the JSON literal `true`.
pub(crate) fn is_true(raw: &str) -> bool {
    raw.trim() == "true"
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#" { "a" : {"b":[1, {"c":"x\"y"}, [2,3]], "e\/f": true},
        "s": "plain", "n": -1.5e3, "z": null, "a~b": 7, "a/b": 8 } "#;

    #[test]
    fn get_and_pointer() {
        assert_eq!(get(DOC, "s"), Some(r#""plain""#));
        assert_eq!(get(DOC, "n"), Some("-1.5e3"));
        assert_eq!(get(DOC, "z"), Some("null"));
        assert_eq!(get(DOC, "missing"), None);
        assert_eq!(get_path(DOC, &["a", "e/f"]), Some("true"));
        let p = |s: &str| pointer(DOC, &parse_pointer(s).unwrap());
        assert_eq!(p("/a/b/1/c").map(as_text).as_deref(), Some("x\"y"));
        assert_eq!(p("/a/b/2/1"), Some("3"));
        assert_eq!(p("/a/b/3"), None);
        assert_eq!(p("/a/b/01"), None);
        assert_eq!(p("/a~0b"), Some("7"));
        assert_eq!(p("/a~1b"), Some("8"));
        assert_eq!(p("").map(|s| s.trim().starts_with('{')), Some(true));
        assert!(parse_pointer("a").is_none());
        assert!(parse_pointer("/~2").is_none());
    }

    #[test]
    fn text_rendering() {
        assert_eq!(as_text(r#"[1, "a b",  {"k" : 2}]"#), r#"[1,"a b",{"k":2}]"#);
        assert_eq!(as_text("true"), "true");
        assert_eq!(as_text(r#""\u0041""#), "A");
        assert_eq!(kind(" [ ]"), Some(Kind::Array));
        assert_eq!(elements("[]").count(), 0);
        assert_eq!(
            elements("[1,2 , 3]").collect::<Vec<_>>(),
            vec!["1", "2", "3"]
        );
        assert_eq!(entries("{}").count(), 0);
        assert_eq!(entries("5").count(), 0);
    }

    #[test]
    fn hostile_text_does_not_panic() {
        for s in [
            "",
            "{",
            "[",
            "\"",
            "{\"a\"",
            "{\"a\":",
            "[1,",
            "{\"a\":1,",
            "]]]",
            "{\"\\",
            "[\"\\\"",
        ] {
            let _ = get(s, "a");
            let _ = elements(s).count();
            let _ = pointer(s, &["0".into(), "a".into()]);
            let _ = as_text(s);
        }
    }
}
