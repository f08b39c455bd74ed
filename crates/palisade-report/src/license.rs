//! Recognising declared licences that are valid SPDX license expressions.
//!
//! Package databases declare licences in their own vocabularies (Debian's
//! `GPL-2+`, free text in Python metadata). A SBOM may only call a licence
//! an SPDX identifier when it is one, so this module accepts a deliberately
//! small list of common identifiers and expressions built from them; anything
//! else stays free text (CycloneDX `license.name`) or `NOASSERTION` (SPDX).

/// Common identifiers from the SPDX License List, in canonical case.
/// Every entry is checked against the vendored list in this crate's schema
/// tests.
const LICENSE_IDS: &[&str] = &[
    "0BSD",
    "AGPL-3.0-only",
    "AGPL-3.0-or-later",
    "Apache-1.1",
    "Apache-2.0",
    "Artistic-1.0",
    "Artistic-1.0-Perl",
    "Artistic-2.0",
    "BSD-1-Clause",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "BSD-4-Clause",
    "BSL-1.0",
    "bzip2-1.0.6",
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC0-1.0",
    "curl",
    "EPL-1.0",
    "EPL-2.0",
    "GPL-1.0-only",
    "GPL-1.0-or-later",
    "GPL-2.0-only",
    "GPL-2.0-or-later",
    "GPL-3.0-only",
    "GPL-3.0-or-later",
    "HPND",
    "ICU",
    "IJG",
    "ISC",
    "LGPL-2.0-only",
    "LGPL-2.0-or-later",
    "LGPL-2.1-only",
    "LGPL-2.1-or-later",
    "LGPL-3.0-only",
    "LGPL-3.0-or-later",
    "libpng-2.0",
    "libtiff",
    "MIT",
    "MIT-0",
    "MPL-1.1",
    "MPL-2.0",
    "NCSA",
    "OFL-1.1",
    "OpenSSL",
    "PostgreSQL",
    "PSF-2.0",
    "Python-2.0",
    "Ruby",
    "Unicode-3.0",
    "Unicode-DFS-2016",
    "Unlicense",
    "Vim",
    "WTFPL",
    "X11",
    "Zlib",
    "ZPL-2.1",
];

/// Common identifiers from the SPDX License Exceptions list.
const EXCEPTION_IDS: &[&str] = &[
    "Autoconf-exception-3.0",
    "Bison-exception-2.2",
    "Classpath-exception-2.0",
    "GCC-exception-3.1",
    "LLVM-exception",
];

/// Expressions nest at most this deep; deeper input is not recognised.
const MAX_DEPTH: usize = 16;

/// The canonical SPDX identifier that `s` spells (case-insensitively).
pub(crate) fn license_id(s: &str) -> Option<&'static str> {
    find(LICENSE_IDS, s.trim())
}

fn find(list: &[&'static str], s: &str) -> Option<&'static str> {
    list.iter().copied().find(|id| id.eq_ignore_ascii_case(s))
}

/// `s` as a canonical SPDX license expression (`MIT OR Apache-2.0`,
/// `GPL-2.0-or-later WITH Classpath-exception-2.0`), if it is one made
/// only of known identifiers.
pub(crate) fn expression(s: &str) -> Option<String> {
    let tokens = tokenize(s);
    let mut parser = Parser {
        tokens: &tokens,
        pos: 0,
        out: String::new(),
    };
    parser.or_expr(0)?;
    (parser.pos == tokens.len()).then_some(parser.out)
}

/// The declared licence of a package with these licences: each must be a
/// valid expression; several are combined with `AND` (a package under
/// several licences is under all of them).
pub(crate) fn declared(licenses: &[String]) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for l in licenses {
        let e = expression(l)?;
        if !parts.contains(&e) {
            parts.push(e);
        }
    }
    match parts.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        many => Some(
            many.iter()
                .map(|e| {
                    if e.contains(' ') {
                        format!("({e})")
                    } else {
                        e.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(" AND "),
        ),
    }
}

fn tokenize(s: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    for word in s.split_whitespace() {
        let mut rest = word;
        while !rest.is_empty() {
            let cut = rest.find(['(', ')']).unwrap_or(rest.len());
            let (token, tail) = if cut == 0 {
                rest.split_at(1)
            } else {
                rest.split_at(cut)
            };
            tokens.push(token);
            rest = tail;
        }
    }
    tokens
}

struct Parser<'t, 's> {
    tokens: &'t [&'s str],
    pos: usize,
    out: String,
}

impl<'s> Parser<'_, 's> {
    fn peek(&self) -> Option<&'s str> {
        self.tokens.get(self.pos).copied()
    }

    fn eat_operator(&mut self, op: &str) -> bool {
        if self.peek().is_some_and(|t| t.eq_ignore_ascii_case(op)) {
            self.pos += 1;
            self.out.push(' ');
            self.out.push_str(op);
            self.out.push(' ');
            true
        } else {
            false
        }
    }

    fn or_expr(&mut self, depth: usize) -> Option<()> {
        self.and_expr(depth)?;
        while self.eat_operator("OR") {
            self.and_expr(depth)?;
        }
        Some(())
    }

    fn and_expr(&mut self, depth: usize) -> Option<()> {
        self.with_expr(depth)?;
        while self.eat_operator("AND") {
            self.with_expr(depth)?;
        }
        Some(())
    }

    fn with_expr(&mut self, depth: usize) -> Option<()> {
        self.atom(depth)?;
        if self.eat_operator("WITH") {
            let exception = find(EXCEPTION_IDS, self.peek()?)?;
            self.pos += 1;
            self.out.push_str(exception);
        }
        Some(())
    }

    fn atom(&mut self, depth: usize) -> Option<()> {
        let token = self.peek()?;
        self.pos += 1;
        if token == "(" {
            if depth >= MAX_DEPTH {
                return None;
            }
            self.out.push('(');
            self.or_expr(depth + 1)?;
            if self.peek()? != ")" {
                return None;
            }
            self.pos += 1;
            self.out.push(')');
            Some(())
        } else {
            self.out.push_str(license_id(token)?);
            Some(())
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

    #[test]
    fn recognises_expressions() {
        assert_eq!(expression("mit").as_deref(), Some("MIT"));
        assert_eq!(
            expression("MIT or apache-2.0").as_deref(),
            Some("MIT OR Apache-2.0")
        );
        assert_eq!(
            expression("(MIT OR Apache-2.0) AND BSD-3-Clause").as_deref(),
            Some("(MIT OR Apache-2.0) AND BSD-3-Clause")
        );
        assert_eq!(
            expression("GPL-2.0-or-later WITH Classpath-exception-2.0").as_deref(),
            Some("GPL-2.0-or-later WITH Classpath-exception-2.0")
        );
        for bad in [
            "",
            "GPL-2+",
            "BSD",
            "MIT OR",
            "(MIT",
            "MIT)",
            "MIT WITH MIT",
            "Apache License 2.0",
            "LicenseRef-foo",
        ] {
            assert_eq!(expression(bad), None, "{bad:?}");
        }
        let deep = format!("{}MIT{}", "(".repeat(40), ")".repeat(40));
        assert_eq!(expression(&deep), None);
    }

    /// Every identifier we accept is on the SPDX License List (as vendored
    /// with the CycloneDX schema, which enumerates it).
    #[test]
    fn known_ids_are_on_the_spdx_list() {
        let schema: serde_json::Value = serde_json::from_str(include_str!(
            "../tests/schemas/cyclonedx/spdx.SNAPSHOT.schema.json"
        ))
        .unwrap();
        let list: Vec<&str> = schema["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for id in LICENSE_IDS.iter().chain(EXCEPTION_IDS) {
            assert!(list.contains(id), "{id} is on the SPDX list");
        }
    }

    #[test]
    fn combines_declared() {
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(declared(&[]), None);
        assert_eq!(declared(&l(&["MIT"])).as_deref(), Some("MIT"));
        assert_eq!(
            declared(&l(&["MIT", "Zlib OR MIT", "MIT"])).as_deref(),
            Some("MIT AND (Zlib OR MIT)")
        );
        assert_eq!(declared(&l(&["MIT", "GPL-2+"])), None);
    }
}
