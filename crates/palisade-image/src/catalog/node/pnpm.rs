//! `pnpm-lock.yaml`, lockfile versions 5.x, 6.x and 9.x.
//!
//! pnpm writes block-style YAML with a fixed layout, so this reads it line
//! by line instead of building a YAML document (no anchors, no aliases, no
//! unbounded nesting): the unindented `packages:` section holds one key per
//! package at the first indentation level, with its fields one level below.
//! Package keys by version:
//!
//! * 5.x: `/name/1.2.3`, `/@scope/name/1.2.3`, peer suffix `_peer@1.0.0`;
//! * 6.x: `/name@1.2.3`, `/@scope/name@1.2.3`, peer suffix `(peer@1.0.0)`;
//! * 9.x: `name@1.2.3`, `'@scope/name@1.2.3'` (peers only in `snapshots:`).
//!
//! Non-registry packages (git, tarballs, local directories) have keys that
//! are not `name@version`; they carry `name:` and `version:` fields, which are
//! used when present, and are skipped otherwise. `dev: true` and
//! `optional: true` (5.x and 6.x) are kept.

use super::{is_valid_version, lock_lines, lock_text, split_name, unquote, LockEntry, ParsedLock};

#[derive(Default)]
struct Block<'a> {
    key: &'a str,
    line: usize,
    field_indent: Option<usize>,
    name: Option<&'a str>,
    version: Option<&'a str>,
    dev: bool,
    optional: bool,
}

/// Parse a `pnpm-lock.yaml`. Never panics; every unusable package key
/// becomes a [`LockError`](super::LockError).
pub fn parse_pnpm_lock(data: &[u8]) -> ParsedLock {
    let mut out = ParsedLock::default();
    let text = match lock_text(data) {
        Ok(t) => t,
        Err(e) => {
            out.errors.push(e);
            return out;
        }
    };
    let mut in_packages = false;
    let mut key_indent: Option<usize> = None;
    let mut block: Option<Block<'_>> = None;
    for (line_no, indent, trimmed) in lock_lines(text) {
        if indent == 0 {
            if let Some(b) = block.take() {
                if finish(b, &mut out).is_err() {
                    return out;
                }
            }
            in_packages = trimmed == "packages:";
            key_indent = None;
            continue;
        }
        if !in_packages {
            continue;
        }
        let ki = *key_indent.get_or_insert(indent);
        if indent < ki {
            continue;
        }
        if indent == ki {
            if let Some(b) = block.take() {
                if finish(b, &mut out).is_err() {
                    return out;
                }
            }
            block = Some(Block {
                key: mapping_key(trimmed),
                line: line_no,
                ..Block::default()
            });
            continue;
        }
        let Some(b) = block.as_mut() else {
            continue;
        };
        let field_indent = *b.field_indent.get_or_insert(indent);
        if indent != field_indent {
            continue;
        }
        let Some((k, v)) = trimmed.split_once(':') else {
            continue;
        };
        let v = unquote(v);
        match k.trim() {
            "name" => b.name = Some(v),
            "version" => b.version = Some(v),
            "dev" => b.dev = v == "true",
            "optional" => b.optional = v == "true",
            _ => {}
        }
    }
    if let Some(b) = block {
        // A full entry list is already reported by `finish`.
        let _ = finish(b, &mut out);
    }
    out
}

/// The key of a `key:` or `key: value` line, unquoted.
fn mapping_key(line: &str) -> &str {
    for q in ['\'', '"'] {
        if let Some(inner) = line.strip_prefix(q) {
            return inner.split_once(q).map_or(inner, |(k, _)| k);
        }
    }
    if let Some(k) = line.strip_suffix(':') {
        return k;
    }
    line.split_once(": ").map_or(line, |(k, _)| k)
}

/// Name and version from a package key; `None` when the key is not a
/// registry `name@version` (or 5.x `name/version`) form.
pub(super) fn parse_key(key: &str) -> Option<(&str, &str)> {
    let key = key.strip_prefix('/').unwrap_or(key);
    // 6.x/9.x peer suffix.
    let key = key.split('(').next().unwrap_or(key);
    let scope_len = if key.starts_with('@') {
        key.find('/')?.saturating_add(1)
    } else {
        0
    };
    let rest = key.get(scope_len..)?;
    let slash = rest.find('/');
    let at = rest.find('@');
    let (name, version) = match (slash, at) {
        // 5.x: `name/version[_peers]`, the version after the last `/`.
        (Some(s), a) if a.is_none_or(|a| s < a) => {
            let version = rest.get(s.saturating_add(1)..)?;
            let version = version.split('_').next().unwrap_or(version);
            (key.get(..scope_len.saturating_add(s))?, version)
        }
        _ => split_name(key)?,
    };
    (!name.is_empty() && is_valid_version(version)).then_some((name, version))
}

/// Turn a finished block into an entry; `Err` once the entry cap is hit.
fn finish(b: Block<'_>, out: &mut ParsedLock) -> Result<(), ()> {
    let key = format!("{} (line {})", b.key, b.line);
    let (name, version) = match (b.name, b.version) {
        (Some(n), Some(v)) => (n, v),
        _ => match parse_key(b.key) {
            Some(nv) => nv,
            // git, tarball or directory packages without name and version.
            None => return Ok(()),
        },
    };
    let entry = LockEntry {
        name: name.to_string(),
        version: version.to_string(),
        dev: b.dev,
        optional: b.optional,
        license: None,
    };
    out.push(&key, entry)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
pub(super) mod tests {
    use super::*;
    use crate::catalog::node::{LockError, MAX_LOCK_ENTRIES};

    /// pnpm 7 (lockfile 5.4).
    pub(crate) const PNPM_V5: &str = "lockfileVersion: 5.4

specifiers:
  '@babel/core': ^7.12.3
  ajv-keywords: ^3.5.2
  lodash: ^4.17.21

dependencies:
  lodash: 4.17.21

devDependencies:
  '@babel/core': 7.12.3
  ajv-keywords: 3.5.2_ajv@6.12.6

packages:

  /@babel/core/7.12.3:
    resolution: {integrity: sha512-0qXcZYKZp3/6N2jKYVxZv0aNCsxTSVCiK72DTiTYZAu7sjg73W0/aynWjMbiGd87EQL4WyA8reiJVh92AVla9g==}
    engines: {node: '>=6.9.0'}
    dev: true

  /ajv-keywords/3.5.2_ajv@6.12.6:
    resolution: {integrity: sha512-5p6WTN0DdTGVQk6VjcEju19IgaHudalcfabD7yhDGeA6bcQnmL+CpveLJq/3hvfwd1aof6L386Ougkx6RfyMIQ==}
    peerDependencies:
      ajv: ^6.9.1
    dependencies:
      ajv: 6.12.6
    dev: true

  /lodash/4.17.21:
    resolution: {integrity: sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg==}
    dev: false
";

    /// pnpm 8 (lockfile 6.0), with a git dependency and a peer-suffixed key.
    pub(crate) const PNPM_V6: &str = "lockfileVersion: '6.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

dependencies:
  express:
    specifier: ^4.18.2
    version: 4.18.2
  my-fork:
    specifier: github:acme/my-fork#v1.0.0
    version: github.com/acme/my-fork/3f1a2b4c5d6e7f8091a2b3c4d5e6f708192a3b4c

devDependencies:
  '@types/express':
    specifier: ^4.17.21
    version: 4.17.21

packages:

  /@types/express@4.17.21:
    resolution: {integrity: sha512-ejlPM315qwLpaQlQDTjPdsUFSc6ZsP4AN6AlWnogPjQ7CVi7PYF3YVz+CY3jE2pwYf7E/7HlDAN0rV2GxTG0HQ==}
    dependencies:
      '@types/body-parser': 1.19.5
    dev: true

  /ajv-keywords@3.5.2(ajv@6.12.6):
    resolution: {integrity: sha512-5p6WTN0DdTGVQk6VjcEju19IgaHudalcfabD7yhDGeA6bcQnmL+CpveLJq/3hvfwd1aof6L386Ougkx6RfyMIQ==}
    peerDependencies:
      ajv: ^6.9.1
    dependencies:
      ajv: 6.12.6
    dev: false

  /express@4.18.2:
    resolution: {integrity: sha512-5/PsL6iGPdfQ/lKM1UuielYgv3BUoJfz1aUwU9vHZ+J7gyvwdQXFEBIEIaxeGf0GIcreATNyBExtalisDbuMqQ==}
    engines: {node: '>= 0.10.0'}
    dependencies:
      accepts: 1.3.8
    dev: false

  /fsevents@2.3.3:
    resolution: {integrity: sha512-5xoDfX+fL7faATnagmWPpbFtwh/R77WmMMqqHGS65C3vvB0YHrgF+B1YmZ3441tMj5n63k0212XNoJwzlhffQw==}
    engines: {node: ^8.16.0 || ^10.6.0 || >=11.0.0}
    os: [darwin]
    requiresBuild: true
    dev: false
    optional: true

  github.com/acme/my-fork/3f1a2b4c5d6e7f8091a2b3c4d5e6f708192a3b4c:
    resolution: {tarball: https://codeload.github.com/acme/my-fork/tar.gz/3f1a2b4c5d6e7f8091a2b3c4d5e6f708192a3b4c}
    name: my-fork
    version: 1.0.0
    dev: false
";

    /// pnpm 9 (lockfile 9.0): `packages` without peers, `snapshots` with.
    pub(crate) const PNPM_V9: &str = "lockfileVersion: '9.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

importers:

  .:
    dependencies:
      '@babel/code-frame':
        specifier: ^7.23.5
        version: 7.23.5
      react-dom:
        specifier: ^18.2.0
        version: 18.2.0(react@18.2.0)
      local-lib:
        specifier: link:../local-lib
        version: link:../local-lib

packages:

  '@babel/code-frame@7.23.5':
    resolution: {integrity: sha512-CgH3s1a96LipHCmSUmYFPwY7MNx8C3avkq7i4Wl3cfa662ldtUe4VM1TPXX70pfmrlWTb6jLqTYrZyT2ZTJBgA==}
    engines: {node: '>=6.9.0'}

  js-tokens@4.0.0:
    resolution: {integrity: sha512-RdJUflcE3cUzKiMqQgsCu06FPu9UdIJO0beYbPhHN4k6apgJtifcoCtT9bcxOpYBtpD2kCM6Sbzg4CausW/PKQ==}

  react-dom@18.2.0:
    resolution: {integrity: sha512-6IMTriUmvsjHUjNtEDudZfuDQUoWXVxKHhlEGSk81n4YFS+r/Kl99wXiwlVXtPBtJenozv2P+hxDsw9eA7Xo6g==}
    peerDependencies:
      react: ^18.2.0

  react@18.2.0:
    resolution: {integrity: sha512-/3IjMdb2L9QbBdWiW5e3P2/npwMBaU9mHCSCUzNln0ZCYbcfTsGbTJrU/kGemdH2IWmB2ioZ+zkxtmq6g09fGQ==}
    engines: {node: '>=0.10.0'}

snapshots:

  '@babel/code-frame@7.23.5':
    dependencies:
      js-tokens: 4.0.0

  js-tokens@4.0.0: {}

  react-dom@18.2.0(react@18.2.0):
    dependencies:
      react: 18.2.0

  react@18.2.0: {}
";

    fn rows(p: &ParsedLock) -> Vec<(&str, &str, bool, bool)> {
        p.entries
            .iter()
            .map(|e| (e.name.as_str(), e.version.as_str(), e.dev, e.optional))
            .collect()
    }

    #[test]
    fn lockfile_5() {
        let p = parse_pnpm_lock(PNPM_V5.as_bytes());
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(
            rows(&p),
            [
                ("@babel/core", "7.12.3", true, false),
                ("ajv-keywords", "3.5.2", true, false),
                ("lodash", "4.17.21", false, false),
            ]
        );
    }

    #[test]
    fn lockfile_6() {
        let p = parse_pnpm_lock(PNPM_V6.as_bytes());
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(
            rows(&p),
            [
                ("@types/express", "4.17.21", true, false),
                ("ajv-keywords", "3.5.2", false, false),
                ("express", "4.18.2", false, false),
                ("fsevents", "2.3.3", false, true),
                ("my-fork", "1.0.0", false, false),
            ]
        );
    }

    #[test]
    fn lockfile_9() {
        let p = parse_pnpm_lock(PNPM_V9.as_bytes());
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(
            rows(&p),
            [
                ("@babel/code-frame", "7.23.5", false, false),
                ("js-tokens", "4.0.0", false, false),
                ("react-dom", "18.2.0", false, false),
                ("react", "18.2.0", false, false),
            ]
        );
    }

    #[test]
    fn key_forms() {
        for (key, want) in [
            ("/lodash/4.17.21", Some(("lodash", "4.17.21"))),
            ("/@babel/core/7.12.3", Some(("@babel/core", "7.12.3"))),
            (
                "/@babel/plugin-x/7.0.0_@babel+core@7.1.0",
                Some(("@babel/plugin-x", "7.0.0")),
            ),
            (
                "/ajv-keywords/3.5.2_ajv@6.12.6",
                Some(("ajv-keywords", "3.5.2")),
            ),
            ("/lodash@4.17.21", Some(("lodash", "4.17.21"))),
            (
                "/@types/node@20.10.0(typescript@5.3.2)",
                Some(("@types/node", "20.10.0")),
            ),
            ("lodash@4.17.21", Some(("lodash", "4.17.21"))),
            (
                "@scope/x@1.0.0-rc.1+build.5",
                Some(("@scope/x", "1.0.0-rc.1+build.5")),
            ),
            ("github.com/acme/fork/3f1a2b", None),
            ("registry.example.com/lodash/4.17.21", None),
            ("foo@https://codeload.github.com/a/b/tar.gz/1", None),
            ("foo@file:../foo", None),
            ("/", None),
            ("@", None),
            ("@/", None),
            ("", None),
        ] {
            assert_eq!(parse_key(key), want, "{key}");
        }
    }

    #[test]
    fn malformed_pnpm_locks() {
        assert_eq!(parse_pnpm_lock(b"\xff").errors, [LockError::NotUtf8]);
        // Entries outside `packages`, and keys that are not packages.
        let p = parse_pnpm_lock(
            b"dependencies:\n  /a@1.0.0:\n    dev: true\npackages:\n  /bad name@1.0.0:\n  /ok@1.0.0: {}\n    nested:\n      version: 9.9.9\n  x:\n    name: y\n",
        );
        assert_eq!(rows(&p), [("ok", "1.0.0", false, false)]);
        assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
        assert_eq!(mapping_key("'@a/b@1.0.0': {}"), "@a/b@1.0.0");
        assert_eq!(mapping_key("\"a@1\":"), "a@1");
        assert_eq!(mapping_key("a@file:x:"), "a@file:x");
        assert_eq!(mapping_key("a@1: {}"), "a@1");
        for data in [
            &b""[..],
            b"packages:",
            b"packages:\n  :",
            b"packages:\n    /a@1:\n  /b@2:\n",
            b"packages:\n  '\n",
            b"packages:\n  /@/1:\n",
            b"packages:\n\t/a@1:\n",
        ] {
            let _ = parse_pnpm_lock(data);
        }
        let s = format!(
            "packages:\n{}",
            "  /a@1.0.0:\n    dev: false\n".repeat(MAX_LOCK_ENTRIES + 1)
        );
        let p = parse_pnpm_lock(s.as_bytes());
        assert_eq!(p.entries.len(), MAX_LOCK_ENTRIES);
        assert_eq!(p.errors, [LockError::TooManyEntries]);
    }
}
