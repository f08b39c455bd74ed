//! A small Package URL (purl) builder, ECMA-427 / purl-spec conformant.
//!
//! Encoding follows the specification's "Character encoding" rules:
//! alphanumerics, the punctuation `.-_~` and the colon `:` are never
//! percent-encoded; every other byte of the UTF-8 encoding of a namespace
//! segment, name, version, qualifier value or subpath segment is, as `%XX`
//! with uppercase hex. That means an rpm or deb epoch stays `1:2.3-4` (the
//! spec forbids encoding `:`), while `+` becomes `%2B`.
//!
//! The builder also applies the case folding that the `deb`, `apk` and `rpm`
//! type definitions require (lowercase namespace; lowercase name for `deb`
//! and `apk`), sorts qualifiers by key, and drops qualifiers with empty
//! values, so its output is the canonical form.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

/// Why a purl could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PurlError {
    #[error("purl type {0:?} must start with an ASCII letter and contain only letters, digits, '.' and '-'")]
    InvalidType(String),
    #[error("purl name must not be empty")]
    EmptyName,
    #[error("purl qualifier key {0:?} must start with a letter and contain only letters, digits, '.', '-' and '_'")]
    InvalidQualifierKey(String),
}

/// A Package URL. Build it with [`PackageUrl::new`] and the `with_*`
/// methods; [`fmt::Display`] renders the canonical string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageUrl {
    ty: String,
    namespace: Vec<String>,
    name: String,
    version: Option<String>,
    qualifiers: BTreeMap<String, String>,
    subpath: Vec<String>,
}

impl PackageUrl {
    /// A purl of type `ty` (case-insensitive) for package `name`.
    pub fn new(ty: &str, name: &str) -> Result<PackageUrl, PurlError> {
        let valid_type = ty.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && ty
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if !valid_type {
            return Err(PurlError::InvalidType(ty.to_string()));
        }
        let ty = ty.to_ascii_lowercase();
        let name = name.trim_matches('/');
        if name.is_empty() {
            return Err(PurlError::EmptyName);
        }
        let name = if lowercase_name(&ty) {
            name.to_lowercase()
        } else {
            name.to_string()
        };
        Ok(PackageUrl {
            ty,
            namespace: Vec::new(),
            name,
            version: None,
            qualifiers: BTreeMap::new(),
            subpath: Vec::new(),
        })
    }

    /// Set the namespace; `/` separates segments, empty segments are dropped.
    pub fn with_namespace(mut self, namespace: &str) -> PackageUrl {
        let lower = lowercase_namespace(&self.ty);
        self.namespace = namespace
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                if lower {
                    s.to_lowercase()
                } else {
                    s.to_string()
                }
            })
            .collect();
        self
    }

    /// Set the version; an empty version is the same as none.
    pub fn with_version(mut self, version: &str) -> PackageUrl {
        self.version = (!version.is_empty()).then(|| version.to_string());
        self
    }

    /// Add a qualifier. Keys are case-insensitive (stored lowercase); an
    /// empty value removes the key, as the spec says it means "absent".
    pub fn with_qualifier(mut self, key: &str, value: &str) -> Result<PackageUrl, PurlError> {
        let valid_key = key.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if !valid_key {
            return Err(PurlError::InvalidQualifierKey(key.to_string()));
        }
        let key = key.to_ascii_lowercase();
        if value.is_empty() {
            self.qualifiers.remove(&key);
        } else {
            self.qualifiers.insert(key, value.to_string());
        }
        Ok(self)
    }

    /// Add a qualifier when `value` is `Some`.
    pub fn with_optional_qualifier(
        self,
        key: &str,
        value: Option<&str>,
    ) -> Result<PackageUrl, PurlError> {
        match value {
            Some(v) => self.with_qualifier(key, v),
            None => Ok(self),
        }
    }

    /// Set the subpath; `.`, `..` and empty segments are dropped.
    pub fn with_subpath(mut self, subpath: &str) -> PackageUrl {
        self.subpath = subpath
            .split('/')
            .filter(|s| !s.is_empty() && *s != "." && *s != "..")
            .map(str::to_string)
            .collect();
        self
    }
}

/// Types whose definition says the name is case-insensitive (lowercase).
fn lowercase_name(ty: &str) -> bool {
    matches!(
        ty,
        "deb" | "apk" | "alpm" | "bitbucket" | "github" | "pypi" | "composer"
    )
}

/// Types whose definition says the namespace is case-insensitive (lowercase).
fn lowercase_namespace(ty: &str) -> bool {
    matches!(
        ty,
        "deb" | "apk" | "rpm" | "alpm" | "bitbucket" | "github" | "composer"
    )
}

/// Percent-encode one component per the purl spec (see the module docs).
pub fn percent_encode(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
}

impl fmt::Display for PackageUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(64);
        s.push_str("pkg:");
        s.push_str(&self.ty);
        s.push('/');
        for seg in &self.namespace {
            percent_encode(seg, &mut s);
            s.push('/');
        }
        percent_encode(&self.name, &mut s);
        if let Some(v) = &self.version {
            s.push('@');
            percent_encode(v, &mut s);
        }
        let mut sep = '?';
        for (k, v) in &self.qualifiers {
            s.push(sep);
            sep = '&';
            s.push_str(k);
            s.push('=');
            percent_encode(v, &mut s);
        }
        if !self.subpath.is_empty() {
            s.push('#');
            for (i, seg) in self.subpath.iter().enumerate() {
                if i > 0 {
                    s.push('/');
                }
                percent_encode(seg, &mut s);
            }
        }
        f.write_str(&s)
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

    fn enc(s: &str) -> String {
        let mut out = String::new();
        percent_encode(s, &mut out);
        out
    }

    #[test]
    fn encoding_follows_the_spec() {
        assert_eq!(enc("1:2.36-9+deb12u4"), "1:2.36-9%2Bdeb12u4");
        assert_eq!(enc("1.0~rc1"), "1.0~rc1");
        assert_eq!(enc("a b/c@d?e#f&g=h%"), "a%20b%2Fc%40d%3Fe%23f%26g%3Dh%25");
        assert_eq!(enc("é"), "%C3%A9");
    }

    #[test]
    fn spec_examples() {
        // Examples from the purl-spec type definitions.
        let deb = PackageUrl::new("deb", "curl")
            .unwrap()
            .with_namespace("debian")
            .with_version("7.50.3-1")
            .with_qualifier("distro", "jessie")
            .unwrap()
            .with_qualifier("arch", "i386")
            .unwrap();
        assert_eq!(
            deb.to_string(),
            "pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie"
        );

        let rpm = PackageUrl::new("rpm", "centerim")
            .unwrap()
            .with_version("4.22.10-1.el6")
            .with_qualifier("arch", "i686")
            .unwrap()
            .with_qualifier("epoch", "1")
            .unwrap()
            .with_qualifier("distro", "fedora-25")
            .unwrap();
        assert_eq!(
            rpm.to_string(),
            "pkg:rpm/centerim@4.22.10-1.el6?arch=i686&distro=fedora-25&epoch=1"
        );

        let apk = PackageUrl::new("apk", "curl")
            .unwrap()
            .with_namespace("alpine")
            .with_version("7.83.0-r0")
            .with_qualifier("arch", "x86")
            .unwrap();
        assert_eq!(apk.to_string(), "pkg:apk/alpine/curl@7.83.0-r0?arch=x86");
    }

    #[test]
    fn case_folding_and_canonical_form() {
        let p = PackageUrl::new("DEB", "LibFoo")
            .unwrap()
            .with_namespace("/Debian/")
            .with_version("")
            .with_qualifier("ARCH", "amd64")
            .unwrap()
            .with_qualifier("distro", "")
            .unwrap()
            .with_subpath("./a/../b/");
        assert_eq!(p.to_string(), "pkg:deb/debian/libfoo?arch=amd64#a/b");
        // rpm names are case-sensitive, namespaces are not.
        let r = PackageUrl::new("rpm", "NetworkManager")
            .unwrap()
            .with_namespace("RedHat");
        assert_eq!(r.to_string(), "pkg:rpm/redhat/NetworkManager");
    }

    #[test]
    fn rejects_invalid_parts() {
        assert_eq!(
            PackageUrl::new("1deb", "x"),
            Err(PurlError::InvalidType("1deb".into()))
        );
        assert_eq!(
            PackageUrl::new("d%b", "x"),
            Err(PurlError::InvalidType("d%b".into()))
        );
        assert_eq!(PackageUrl::new("deb", "/"), Err(PurlError::EmptyName));
        let p = PackageUrl::new("deb", "x").unwrap();
        assert_eq!(
            p.clone().with_qualifier("a=b", "c"),
            Err(PurlError::InvalidQualifierKey("a=b".into()))
        );
        assert!(p.with_qualifier("_x", "c").is_err());
    }

    #[test]
    fn optional_qualifier() {
        let p = PackageUrl::new("apk", "musl")
            .unwrap()
            .with_optional_qualifier("arch", None)
            .unwrap()
            .with_optional_qualifier("distro", Some("3.19.1"))
            .unwrap();
        assert_eq!(p.to_string(), "pkg:apk/musl?distro=3.19.1");
    }
}
