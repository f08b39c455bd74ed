//! `package-lock.json` and `npm-shrinkwrap.json`.
//!
//! * lockfileVersion 2 and 3 have a `packages` map keyed by install path
//!   (`node_modules/a`, `node_modules/a/node_modules/@s/b`); `""` is the root
//!   project, keys without a `node_modules/` segment are workspace members,
//!   and `"link": true` entries point at them. An entry's `name` is set when
//!   it differs from the path (an alias install).
//! * lockfileVersion 1 (npm 5–6) has a nested `dependencies` tree, each
//!   value `{ "version", "dev", "optional", "dependencies": {…} }`; the
//!   version of a non-registry dependency is its spec (`file:…`,
//!   `github:…`), and an alias's is `npm:real-name@1.2.3`.
//!
//! Version 2 files carry both; `packages` is read when present.

use super::json::{read_lock, Picked};
use super::{lock_bytes, split_name, LockEntry, LockError, ParsedLock};

/// Parse a `package-lock.json` or `npm-shrinkwrap.json`. Never panics; every
/// unusable entry becomes a [`LockError`]. Work and memory are bounded: see
/// [`super::MAX_LOCK_SIZE`], [`super::MAX_LOCK_ENTRIES`] and
/// [`super::MAX_LOCK_DEPTH`].
pub fn parse_package_lock(data: &[u8]) -> ParsedLock {
    let mut out = ParsedLock::default();
    let data = match lock_bytes(data) {
        Ok(d) => d,
        Err(e) => {
            out.errors.push(e);
            return out;
        }
    };
    let root = match read_lock(data) {
        Ok(r) => r,
        Err(e) => {
            out.errors.push(LockError::InvalidJson(e.to_string()));
            return out;
        }
    };
    if let Some(packages) = &root.packages {
        read_packages(packages, &mut out);
    } else if let Some(deps) = &root.dependencies {
        read_dependencies(deps, &mut out);
    } else {
        out.errors.push(LockError::UnknownFormat);
    }
    if root.truncated {
        out.errors.push(LockError::TooManyEntries);
    }
    if root.too_deep {
        out.errors.push(LockError::TooDeep);
    }
    out
}

/// lockfileVersion 2 and 3.
fn read_packages(packages: &[(String, Picked)], out: &mut ParsedLock) {
    for (key, obj) in packages {
        // The root project, and workspace members (not installed paths).
        let Some(idx) = key.rfind("node_modules/") else {
            continue;
        };
        if idx > 0 && key.get(idx.saturating_sub(1)..idx) != Some("/") {
            continue;
        }
        if !obj.is_object {
            out.error(key, "not an object");
            continue;
        }
        if obj.link {
            continue;
        }
        let path_name = key
            .get(idx.saturating_add("node_modules/".len())..)
            .unwrap_or("");
        let name = obj.name.as_deref().unwrap_or(path_name);
        let Some(version) = obj.version.as_deref() else {
            out.error(key, "no version");
            continue;
        };
        let entry = LockEntry {
            name: name.to_string(),
            version: version.to_string(),
            dev: obj.dev || obj.dev_optional,
            optional: obj.optional || obj.dev_optional,
            license: obj
                .license
                .first()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty() && l.len() <= 256),
        };
        if out.push(key, entry).is_err() {
            return;
        }
    }
}

/// lockfileVersion 1: walk the nested tree without recursion.
fn read_dependencies(deps: &[(String, Picked)], out: &mut ParsedLock) {
    let mut stack: Vec<&[(String, Picked)]> = vec![deps];
    while let Some(level) = stack.pop() {
        for (name, obj) in level {
            if !obj.is_object {
                out.error(name, "not an object");
                continue;
            }
            if let Some(nested) = &obj.dependencies {
                stack.push(nested);
            }
            let Some(version) = obj.version.as_deref() else {
                out.error(name, "no version");
                continue;
            };
            // An alias: `"version": "npm:real-name@1.2.3"`.
            let (name, version) = match version.strip_prefix("npm:").and_then(split_name) {
                Some((real, v)) => (real, v),
                None => (name.as_str(), version),
            };
            // Non-registry dependencies (`file:`, `git+…`, `github:`, URLs).
            if version.contains(':') || version.contains('/') {
                continue;
            }
            let entry = LockEntry {
                name: name.to_string(),
                version: version.to_string(),
                dev: obj.dev,
                optional: obj.optional,
                license: None,
            };
            if out.push(name, entry).is_err() {
                return;
            }
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
pub(super) mod tests {
    use super::*;
    use crate::catalog::node::{MAX_LOCK_DEPTH, MAX_LOCK_ENTRIES, MAX_LOCK_SIZE};

    /// npm 6 (lockfileVersion 1) for an app depending on debug 2.6.9 (with
    /// its own nested ms), ms 2.1.3, a dev dependency, an alias and a local
    /// package.
    pub(crate) const LOCK_V1: &str = r#"{
  "name": "web",
  "version": "1.0.0",
  "lockfileVersion": 1,
  "requires": true,
  "dependencies": {
    "@types/node": {
      "version": "14.18.63",
      "resolved": "https://registry.npmjs.org/@types/node/-/node-14.18.63.tgz",
      "integrity": "sha512-fAtCfv4jJg+ExtXhvCkCqUKZ+4ok/JQk01qDKhL5BDDoS3AxKXhV5/MAVUZyQnSEd2GT92fkgZl0pz0Q0AzcIQ==",
      "dev": true
    },
    "debug": {
      "version": "2.6.9",
      "resolved": "https://registry.npmjs.org/debug/-/debug-2.6.9.tgz",
      "integrity": "sha512-bC7ElrdJaJnPbAP+1EotYvqZsb3ecl5wi6Bfi6BJTUcNowp6cvspg0jXznRTKDjm/E7AdgFBVeAPVMNcKGsHMA==",
      "requires": {
        "ms": "2.0.0"
      },
      "dependencies": {
        "ms": {
          "version": "2.0.0",
          "resolved": "https://registry.npmjs.org/ms/-/ms-2.0.0.tgz",
          "integrity": "sha512-Tpp60P6IUJDTuOq/5Z8cdskzJujfwqfOTkrwIwj7IRISpnkJnT6SyJ4PCPnGMoFjC9ddhal5KVIYtAt97ix05A=="
        }
      }
    },
    "left-pad-alias": {
      "version": "npm:left-pad@1.3.0",
      "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",
      "integrity": "sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQEQ2o9oaNpWw5sYnDZNiBV5ZfQjjbf04oa1U7EX4JQTuYoA=="
    },
    "local-lib": {
      "version": "file:packages/local-lib"
    },
    "ms": {
      "version": "2.1.3",
      "resolved": "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz",
      "integrity": "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA=="
    }
  }
}
"#;

    /// npm 7+ lockfileVersion 2: `packages` plus the v1 tree (abridged to
    /// its first entry, which the parser must ignore).
    pub(crate) const LOCK_V2: &str = r#"{
  "name": "web",
  "version": "1.0.0",
  "lockfileVersion": 2,
  "requires": true,
  "packages": {
    "": {
      "name": "web",
      "version": "1.0.0",
      "license": "ISC",
      "dependencies": {
        "debug": "^2.6.9",
        "ms": "^2.1.3"
      }
    },
    "node_modules/debug": {
      "version": "2.6.9",
      "resolved": "https://registry.npmjs.org/debug/-/debug-2.6.9.tgz",
      "integrity": "sha512-bC7ElrdJaJnPbAP+1EotYvqZsb3ecl5wi6Bfi6BJTUcNowp6cvspg0jXznRTKDjm/E7AdgFBVeAPVMNcKGsHMA==",
      "dependencies": {
        "ms": "2.0.0"
      }
    },
    "node_modules/debug/node_modules/ms": {
      "version": "2.0.0",
      "resolved": "https://registry.npmjs.org/ms/-/ms-2.0.0.tgz",
      "integrity": "sha512-Tpp60P6IUJDTuOq/5Z8cdskzJujfwqfOTkrwIwj7IRISpnkJnT6SyJ4PCPnGMoFjC9ddhal5KVIYtAt97ix05A=="
    },
    "node_modules/ms": {
      "version": "2.1.3",
      "resolved": "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz",
      "integrity": "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==",
      "license": "MIT"
    }
  },
  "dependencies": {
    "debug": {
      "version": "2.6.9",
      "resolved": "https://registry.npmjs.org/debug/-/debug-2.6.9.tgz",
      "integrity": "sha512-bC7ElrdJaJnPbAP+1EotYvqZsb3ecl5wi6Bfi6BJTUcNowp6cvspg0jXznRTKDjm/E7AdgFBVeAPVMNcKGsHMA==",
      "requires": {
        "ms": "2.0.0"
      }
    }
  }
}
"#;

    /// npm 9+ lockfileVersion 3 with a workspace, a scoped dev dependency,
    /// an alias and a platform-specific optional dependency.
    pub(crate) const LOCK_V3: &str = r#"{
  "name": "monorepo",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "monorepo",
      "version": "1.0.0",
      "workspaces": [
        "packages/*"
      ],
      "devDependencies": {
        "@types/node": "^20.10.0"
      }
    },
    "node_modules/@types/node": {
      "version": "20.10.0",
      "resolved": "https://registry.npmjs.org/@types/node/-/node-20.10.0.tgz",
      "integrity": "sha512-D0WfRmU9TQ8I9PFx9Yc+EBHw+vSpIub4IDvQivcp26PtPrdMGAq5SDcpXEo/epqa/DXotVpekHiLNTg3iaKXBQ==",
      "dev": true,
      "dependencies": {
        "undici-types": "~5.26.4"
      }
    },
    "node_modules/fsevents": {
      "version": "2.3.3",
      "resolved": "https://registry.npmjs.org/fsevents/-/fsevents-2.3.3.tgz",
      "integrity": "sha512-5xoDfX+fL7faATnagmWPpbFtwh/R77WmMMqqHGS65C3vvB0YHrgF+B1YmZ3441tMj5n63k0212XNoJwzlhffQw==",
      "hasInstallScript": true,
      "optional": true,
      "os": [
        "darwin"
      ],
      "engines": {
        "node": "^8.16.0 || ^10.6.0 || >=11.0.0"
      }
    },
    "node_modules/pad": {
      "name": "left-pad",
      "version": "1.3.0",
      "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",
      "integrity": "sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQEQ2o9oaNpWw5sYnDZNiBV5ZfQjjbf04oa1U7EX4JQTuYoA==",
      "deprecated": "use String.prototype.padStart()",
      "license": "WTFPL"
    },
    "node_modules/undici-types": {
      "version": "5.26.5",
      "resolved": "https://registry.npmjs.org/undici-types/-/undici-types-5.26.5.tgz",
      "integrity": "sha512-JlCMO+ehdEIKqlFxk6IfVoAUVmgz7cU7zD/h9XZ0qzeosSHmUJVOzSQvvYSYWXkFXC+IfLKSIffhv0sVZup6pA==",
      "dev": true,
      "license": "MIT"
    },
    "node_modules/util": {
      "resolved": "packages/util",
      "link": true
    },
    "packages/util": {
      "name": "@mono/util",
      "version": "0.1.0",
      "license": "MIT"
    }
  }
}
"#;

    fn rows(p: &ParsedLock) -> Vec<(&str, &str, bool, bool)> {
        p.entries
            .iter()
            .map(|e| (e.name.as_str(), e.version.as_str(), e.dev, e.optional))
            .collect()
    }

    #[test]
    fn version_1_tree() {
        let p = parse_package_lock(LOCK_V1.as_bytes());
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let mut got = rows(&p);
        got.sort();
        assert_eq!(
            got,
            [
                ("@types/node", "14.18.63", true, false),
                ("debug", "2.6.9", false, false),
                ("left-pad", "1.3.0", false, false),
                ("ms", "2.0.0", false, false),
                ("ms", "2.1.3", false, false),
            ]
        );
    }

    #[test]
    fn version_2_reads_packages_only() {
        let p = parse_package_lock(LOCK_V2.as_bytes());
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(
            rows(&p),
            [
                ("debug", "2.6.9", false, false),
                ("ms", "2.0.0", false, false),
                ("ms", "2.1.3", false, false),
            ]
        );
        assert_eq!(p.entries[2].license.as_deref(), Some("MIT"));
    }

    #[test]
    fn version_3_skips_root_links_and_workspaces() {
        let p = parse_package_lock(LOCK_V3.as_bytes());
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(
            rows(&p),
            [
                ("@types/node", "20.10.0", true, false),
                ("fsevents", "2.3.3", false, true),
                ("left-pad", "1.3.0", false, false),
                ("undici-types", "5.26.5", true, false),
            ]
        );
        assert_eq!(p.entries[2].license.as_deref(), Some("WTFPL"));
    }

    #[test]
    fn malformed_locks() {
        assert!(matches!(
            parse_package_lock(b"{").errors[..],
            [LockError::InvalidJson(_)]
        ));
        assert_eq!(parse_package_lock(b"[]").errors, [LockError::UnknownFormat]);
        assert_eq!(
            parse_package_lock(b"{\"lockfileVersion\": 3}").errors,
            [LockError::UnknownFormat]
        );
        let p = parse_package_lock(
            br#"{"packages": {"node_modules/a": 1, "node_modules/b": {}, "node_modules/c": {"version": "1 2"},
                "node_modules/d d": {"version": "1.0.0"}, "node_modules/": {"version": "1.0.0"},
                "xnode_modules/e": {"version": "1.0.0"}, "node_modules/ok": {"version": "1.0.0", "dev": "yes"}}}"#,
        );
        assert_eq!(rows(&p), [("ok", "1.0.0", false, false)]);
        assert_eq!(p.errors.len(), 5, "{:?}", p.errors);
        let p = parse_package_lock(br#"{"dependencies": {"a": [], "b": {"version": 1}}}"#);
        assert!(p.entries.is_empty());
        assert_eq!(p.errors.len(), 2);
        for data in [
            &b""[..],
            b"null",
            b"\xff",
            b"{\"packages\": []}",
            b"\xef\xbb\xbf{}",
        ] {
            let _ = parse_package_lock(data);
        }
    }

    #[test]
    fn hostile_locks_are_bounded() {
        // Past MAX_LOCK_DEPTH the walk stops; far deeper JSON is refused by
        // serde_json's own recursion limit.
        let nested = |depth: usize| {
            let mut s = String::from(r#"{"dependencies": "#);
            for _ in 0..depth {
                s.push_str(r#"{"a": {"version": "1.0.0", "dependencies": "#);
            }
            s.push_str("{}");
            for _ in 0..depth {
                s.push_str("}}");
            }
            s.push('}');
            s
        };
        let p = parse_package_lock(nested(MAX_LOCK_DEPTH + 8).as_bytes());
        assert_eq!(p.errors, [LockError::TooDeep]);
        assert_eq!(p.entries.len(), MAX_LOCK_DEPTH);
        // Deeper levels are skipped without recursion.
        let p = parse_package_lock(nested(100_000).as_bytes());
        assert_eq!(p.errors, [LockError::TooDeep]);
        assert_eq!(p.entries.len(), MAX_LOCK_DEPTH);
        // Deep arrays inside skipped members, and in the tree itself.
        let deep = format!(
            r#"{{"x": {}{}, "packages": {{}}}}"#,
            "[".repeat(1_000_000),
            "]".repeat(1_000_000)
        );
        assert!(parse_package_lock(deep.as_bytes()).errors.is_empty());
        let deep = format!(r#"{{"dependencies": {}"#, "[".repeat(1_000_000));
        assert!(matches!(
            parse_package_lock(deep.as_bytes()).errors[..],
            [LockError::InvalidJson(_)]
        ));
        let mut s = String::from(r#"{"dependencies": {"#);
        for i in 0..=MAX_LOCK_ENTRIES {
            if i > 0 {
                s.push(',');
            }
            s.push_str(&format!(r#""p{i}": {{"version": "1.0.0"}}"#));
        }
        s.push_str("}}");
        let p = parse_package_lock(s.as_bytes());
        assert_eq!(p.entries.len(), MAX_LOCK_ENTRIES);
        assert_eq!(p.errors, [LockError::TooManyEntries]);
        let big = vec![b' '; MAX_LOCK_SIZE + 1];
        assert!(matches!(
            parse_package_lock(&big).errors[..],
            [LockError::TooLarge { .. }]
        ));
    }
}
