//! `yarn.lock`, classic (v1) and berry (v2+).
//!
//! Both formats are a list of blocks: an unindented header line listing the
//! specs the block satisfies, ending in `:`, then indented fields. Classic
//! writes `version "1.2.3"` (space-separated, JSON-quoted), berry writes YAML
//! `version: 1.2.3`, begins with a `__metadata:` block, and records the
//! locator in `resolution: "name@npm:1.2.3"`.
//!
//! * Classic: the name comes from the first spec in the header
//!   (`"@babel/core@^7.0.0", "@babel/core@^7.1.0":`); an alias spec
//!   `alias@npm:real@^1.0.0` names the real package; `file:` and `link:`
//!   specs are local code and skipped.
//! * Berry: the name comes from `resolution`; `workspace:`, `link:`,
//!   `portal:`, `file:`, `exec:` and `patch:` resolutions (the project, its
//!   workspaces, local code, and patched copies of a package that is also
//!   listed unpatched) are skipped, as are `linkType: soft` blocks.
//!
//! Deeper-indented lines (`dependencies:` maps) are ignored.

use super::{lock_lines, lock_text, split_name, unquote, LockEntry, ParsedLock};

/// Resolution protocols that are not packages of their own.
const SKIPPED_PROTOCOLS: [&str; 6] = ["workspace:", "link:", "portal:", "file:", "exec:", "patch:"];

#[derive(Default)]
struct Block<'a> {
    line: usize,
    header: &'a str,
    field_indent: Option<usize>,
    version: Option<&'a str>,
    resolution: Option<&'a str>,
    soft: bool,
}

/// Parse a `yarn.lock` of either format. Never panics; every unusable block
/// becomes a [`LockError`](super::LockError).
pub fn parse_yarn_lock(data: &[u8]) -> ParsedLock {
    let mut out = ParsedLock::default();
    let text = match lock_text(data) {
        Ok(t) => t,
        Err(e) => {
            out.errors.push(e);
            return out;
        }
    };
    let mut block: Option<Block<'_>> = None;
    for (line_no, indent, trimmed) in lock_lines(text) {
        if indent == 0 {
            if let Some(b) = block.take() {
                if finish(b, &mut out).is_err() {
                    return out;
                }
            }
            let header = trimmed.strip_suffix(':').unwrap_or(trimmed);
            block = Some(Block {
                line: line_no,
                header,
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
        let (key, value) = field(trimmed);
        match key {
            "version" => b.version = Some(value),
            "resolution" => b.resolution = Some(value),
            "linkType" => b.soft = value == "soft",
            _ => {}
        }
    }
    if let Some(b) = block {
        // A full entry list is already reported by `finish`.
        let _ = finish(b, &mut out);
    }
    out
}

/// Split `key "value"` (classic) or `key: value` (berry); values unquoted.
fn field(line: &str) -> (&str, &str) {
    let split = line.find([' ', ':']).map_or((line, ""), |i| {
        (line.get(..i).unwrap_or(line), line.get(i..).unwrap_or(""))
    });
    let key = unquote(split.0);
    let value = split.1.strip_prefix(':').unwrap_or(split.1);
    (key, unquote(value))
}

/// Turn a finished block into an entry; `Err` once the entry cap is hit.
fn finish(b: Block<'_>, out: &mut ParsedLock) -> Result<(), ()> {
    if b.header == "__metadata" || b.soft {
        return Ok(());
    }
    let key = format!("{} (line {})", b.header, b.line);
    let name = if let Some(res) = b.resolution {
        // Berry: `name@protocol:reference`.
        let Some((name, reference)) = split_name(res) else {
            out.error(
                &key,
                format!("resolution {res:?} has no name@reference form"),
            );
            return Ok(());
        };
        if SKIPPED_PROTOCOLS.iter().any(|p| reference.starts_with(p)) {
            return Ok(());
        }
        name
    } else {
        // Classic: the first spec of the header.
        let first = b.header.split(',').next().map(unquote).unwrap_or_default();
        let Some((name, range)) = split_name(first) else {
            out.error(&key, "header has no name@range spec");
            return Ok(());
        };
        if SKIPPED_PROTOCOLS.iter().any(|p| range.starts_with(p)) {
            return Ok(());
        }
        match range.strip_prefix("npm:").and_then(split_name) {
            Some((real, _)) => real,
            None => name,
        }
    };
    let Some(version) = b.version else {
        out.error(&key, "no version");
        return Ok(());
    };
    let entry = LockEntry {
        name: name.to_string(),
        version: version.to_string(),
        dev: false,
        optional: false,
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

    /// Yarn 1.22 lock for an app using @babel/code-frame, chalk 2, an alias
    /// (`string-width-cjs`) and a `file:` dependency.
    pub(crate) const YARN_V1: &str = r#"# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.22.13":
  version "7.22.13"
  resolved "https://registry.yarnpkg.com/@babel/code-frame/-/code-frame-7.22.13.tgz#e3c1c099402598483b7a8c46a721d1038803755e"
  integrity sha512-XktuhWlJ5g+3TJXc5upd9Ks1HutSArik6jf2eAjYFyIOf4ej3RN+184cZbzDvbPnuTJIUhPKKJE3cIsYTiAT3w==
  dependencies:
    "@babel/highlight" "^7.22.13"
    chalk "^2.4.2"

ansi-styles@^3.2.1:
  version "3.2.1"
  resolved "https://registry.yarnpkg.com/ansi-styles/-/ansi-styles-3.2.1.tgz#41fbb20243e50b12be0f04b8dedbf07520ce841d"
  integrity sha512-VT0ZI6kZRdTh8YyJw3SMbYm/u+NqfsAxEpWO0Pf9sq8/e94WxxOpPKx9FR1FlyCtOVDNOQ+8ntlqFxiRc+r5qA==
  dependencies:
    color-convert "^1.9.0"

chalk@^2.4.2:
  version "2.4.2"
  resolved "https://registry.yarnpkg.com/chalk/-/chalk-2.4.2.tgz#cd42541677a54333cf541a49108c1432b44c9424"
  integrity sha512-Mti+f9lpJNcwF4tWV8/OrTTtF1gZi+f8FqlyAdouralcFWFQWF2+NgCHShjkCb+IFBLq9buZwE1xckQU4peSuw==
  dependencies:
    ansi-styles "^3.2.1"
    escape-string-regexp "^1.0.5"
    supports-color "^5.3.0"

local-utils@file:./local-utils:
  version "0.0.1"

"string-width-cjs@npm:string-width@^4.2.0", "string-width@^1.0.2 || 2 || 3 || 4", string-width@^4.1.0:
  version "4.2.3"
  resolved "https://registry.yarnpkg.com/string-width/-/string-width-4.2.3.tgz#269c7117d27b05ad2e536830a8ec895ef9c6d010"
  integrity sha512-wKyQRQpjJ0sIp62ErSZdGsjMJWsap5oRNihHhu6G7JVO/9jIB6UyevL+tXuOqrng8j/cxKTWyWUwvSTriiZz/g==
  dependencies:
    emoji-regex "^8.0.0"
    is-fullwidth-code-point "^3.0.0"
    strip-ansi "^6.0.1"
"#;

    /// Yarn 4 (berry) lock with the project, a workspace, an npm package, a
    /// patched builtin and its unpatched original.
    pub(crate) const YARN_BERRY: &str = r#"# This file is generated by running "yarn install" inside your project.
# Manual changes might be lost - proceed with caution!

__metadata:
  version: 8
  cacheKey: 10c0

"@babel/code-frame@npm:^7.0.0, @babel/code-frame@npm:^7.22.13":
  version: 7.22.13
  resolution: "@babel/code-frame@npm:7.22.13"
  dependencies:
    "@babel/highlight": "npm:^7.22.13"
    chalk: "npm:^2.4.2"
  checksum: 10c0/f4cc8ae1000265677daf4845083b72f88d00d311adb1a93c94eb4b07bf0ed6828c81ae4ac43ee7d476775000b93a28a9cbec436445274a8e2e2f2a6b2271c05e
  languageName: node
  linkType: hard

"lodash@npm:^4.17.21":
  version: 4.17.21
  resolution: "lodash@npm:4.17.21"
  checksum: 10c0/d8cbea072bb08655bb4c989da418994b073a608dffa608b09ac04b43a791b12aeae7cd7ad919aa4c925f33b48490b5cfe6c1f71d827956071dae2e7bb3a6b74c
  languageName: node
  linkType: hard

"my-app@workspace:.":
  version: 0.0.0-use.local
  resolution: "my-app@workspace:."
  dependencies:
    lodash: "npm:^4.17.21"
    resolve: "npm:^1.22.1"
  languageName: unknown
  linkType: soft

"resolve@npm:^1.22.1":
  version: 1.22.8
  resolution: "resolve@npm:1.22.8"
  dependencies:
    is-core-module: "npm:^2.13.0"
  bin:
    resolve: bin/resolve
  checksum: 10c0/07e179f4375e1fd072cfb72ad66d78547f86e6196c4014b31cb0b8bb1db5f7ca871f922d08da0fbc05b94e9fd42206f819648fa3b5b873ebbc8e1dc68fec433a
  languageName: node
  linkType: hard

"resolve@patch:resolve@npm%3A^1.22.1#optional!builtin<compat/resolve>":
  version: 1.22.8
  resolution: "resolve@patch:resolve@npm%3A1.22.8#optional!builtin<compat/resolve>::version=1.22.8&hash=c3c19d"
  dependencies:
    is-core-module: "npm:^2.13.0"
  checksum: 10c0/0446f024439cd2e50c6c8fa8ba77eaa8370b4180f401a96abf3d1ebc770ac51c1955e12764cde449fde3fff480a61f84388e3505ecdbab778f4bef5f8212c729
  languageName: node
  linkType: hard

"utils@workspace:packages/utils":
  version: 0.0.0-use.local
  resolution: "utils@workspace:packages/utils"
  languageName: unknown
  linkType: soft
"#;

    fn rows(p: &ParsedLock) -> Vec<(&str, &str)> {
        p.entries
            .iter()
            .map(|e| (e.name.as_str(), e.version.as_str()))
            .collect()
    }

    #[test]
    fn classic_v1() {
        let p = parse_yarn_lock(YARN_V1.as_bytes());
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(
            rows(&p),
            [
                ("@babel/code-frame", "7.22.13"),
                ("ansi-styles", "3.2.1"),
                ("chalk", "2.4.2"),
                ("string-width", "4.2.3"),
            ]
        );
    }

    #[test]
    fn berry() {
        let p = parse_yarn_lock(YARN_BERRY.as_bytes());
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(
            rows(&p),
            [
                ("@babel/code-frame", "7.22.13"),
                ("lodash", "4.17.21"),
                ("resolve", "1.22.8"),
            ]
        );
    }

    #[test]
    fn crlf_and_fields() {
        let p = parse_yarn_lock(b"a@^1:\r\n  version \"1.0.0\"\r\n\r\n\"@s/b@npm:^2\":\r\n  version: 2.0.0\r\n  resolution: \"@s/b@npm:2.0.0\"\r\n");
        assert_eq!(rows(&p), [("a", "1.0.0"), ("@s/b", "2.0.0")]);
        assert_eq!(field("version \"1\""), ("version", "1"));
        assert_eq!(field("version: 1"), ("version", "1"));
        assert_eq!(field("\"key\": 'v'"), ("key", "v"));
        assert_eq!(field("bare"), ("bare", ""));
    }

    #[test]
    fn malformed_yarn_locks() {
        let p = parse_yarn_lock(
            b"nospec:\n  version \"1\"\n\nnoversion@^1:\n  resolved \"x\"\n\nbad@^1:\n  version \"1 2\"\n\n  orphan \"x\"\n\"@x@npm:1\":\n  resolution: \"@\"\n  version: 1\n",
        );
        assert!(p.entries.is_empty());
        assert_eq!(p.errors.len(), 4, "{:?}", p.errors);
        assert_eq!(parse_yarn_lock(b"\xff").errors, [LockError::NotUtf8]);
        for data in [
            &b""[..],
            b":",
            b"\n  version 1",
            b"@:\n  version \"1\"",
            b"@\n",
            b"a@:\n version\n",
            b"\"\n  \"\n",
            b"'a@1':\n  version: '1'",
        ] {
            let _ = parse_yarn_lock(data);
        }
        let s = "a@^1:\n  version \"1.0.0\"\n".repeat(MAX_LOCK_ENTRIES + 1);
        let p = parse_yarn_lock(s.as_bytes());
        assert_eq!(p.entries.len(), MAX_LOCK_ENTRIES);
        assert_eq!(p.errors, [LockError::TooManyEntries]);
    }
}
