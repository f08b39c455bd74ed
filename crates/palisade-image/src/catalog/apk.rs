//! Alpine, Wolfi and Chainguard packages from apk's installed database.
//!
//! `lib/apk/db/installed` (or `usr/lib/apk/db/installed` on usr-merged
//! systems) holds one record per package, records separated by blank lines,
//! each line `X:value` with a one-letter key: `P` name, `V` version, `A`
//! architecture, `o` origin (the source package), `L` licence. File lists
//! (`F:`, `R:`, `Z:`…) are skipped.

use std::collections::HashSet;

use palisade_model::{Ecosystem, OsInfo, Package, PackageName, SourcePackage, Version};

use super::{add_parsed, read_records, CatalogContext, CatalogOutput, Cataloger};
use crate::fs::FileRef;
use crate::purl::PackageUrl;

/// apk's database of installed packages.
pub const INSTALLED: &str = "lib/apk/db/installed";
/// The same database on usr-merged systems.
pub const USR_INSTALLED: &str = "usr/lib/apk/db/installed";

/// Most records read from one file.
pub const MAX_RECORDS: usize = 100_000;
/// Longest value kept for the fields a scanner needs.
const MAX_FIELD_LEN: usize = 4096;

/// A problem with one record or with the file as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InstalledError {
    #[error("record at line {line}: missing {field} ({key}:) field")]
    MissingField {
        line: usize,
        field: &'static str,
        key: char,
    },
    #[error("record at line {line}: {field} is not valid UTF-8")]
    InvalidUtf8 { line: usize, field: &'static str },
    #[error("record at line {line}: {field} value {value:?} is not a valid token")]
    InvalidValue {
        line: usize,
        field: &'static str,
        value: String,
    },
    #[error("more than {MAX_RECORDS} records; the rest were not read")]
    TooManyRecords,
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledEntry {
    pub name: String,
    pub version: String,
    pub arch: Option<String>,
    pub origin: Option<String>,
    /// The licence expression as written (often SPDX).
    pub license: Option<String>,
    /// 1-based line where the record starts.
    pub line: usize,
}

/// The result of parsing one installed database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedInstalled {
    pub entries: Vec<InstalledEntry>,
    pub errors: Vec<InstalledError>,
}

#[derive(Default)]
struct RawRecord<'a> {
    line: usize,
    name: Option<&'a [u8]>,
    version: Option<&'a [u8]>,
    arch: Option<&'a [u8]>,
    origin: Option<&'a [u8]>,
    license: Option<&'a [u8]>,
    any_field: bool,
}

/// Parse apk's installed database. Never panics; every unusable record
/// becomes an [`InstalledError`].
pub fn parse_installed(data: &[u8]) -> ParsedInstalled {
    let mut out = ParsedInstalled::default();
    let complete = read_records(
        data,
        MAX_RECORDS,
        |cur: &RawRecord<'_>| cur.any_field,
        record_line,
        |raw| finish(raw, &mut out),
    );
    if !complete {
        out.errors.push(InstalledError::TooManyRecords);
    }
    out
}

/// One `X:value` line of a record.
fn record_line<'a>(cur: &mut RawRecord<'a>, line_no: usize, line: &'a [u8]) {
    if !cur.any_field {
        cur.any_field = true;
        cur.line = line_no;
    }
    let (Some(&key), Some(b':')) = (line.first(), line.get(1)) else {
        return;
    };
    let value = line.get(2..).unwrap_or_default();
    match key {
        b'P' => cur.name = Some(value),
        b'V' => cur.version = Some(value),
        b'A' => cur.arch = Some(value),
        b'o' => cur.origin = Some(value),
        b'L' => cur.license = Some(value),
        _ => {}
    }
}

fn finish(raw: RawRecord<'_>, out: &mut ParsedInstalled) {
    match build(&raw) {
        Ok(e) => out.entries.push(e),
        Err(e) => out.errors.push(e),
    }
}

fn text<'a>(line: usize, field: &'static str, raw: &'a [u8]) -> Result<&'a str, InstalledError> {
    let s = std::str::from_utf8(raw)
        .map_err(|_| InstalledError::InvalidUtf8 { line, field })?
        .trim();
    if s.len() > MAX_FIELD_LEN {
        return Err(InstalledError::InvalidValue {
            line,
            field,
            value: s.chars().take(64).collect::<String>() + "…",
        });
    }
    Ok(s)
}

fn token(line: usize, field: &'static str, raw: &[u8]) -> Result<String, InstalledError> {
    let s = text(line, field, raw)?;
    if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(InstalledError::InvalidValue {
            line,
            field,
            value: s.to_string(),
        });
    }
    Ok(s.to_string())
}

fn build(raw: &RawRecord<'_>) -> Result<InstalledEntry, InstalledError> {
    let line = raw.line;
    let name = raw.name.ok_or(InstalledError::MissingField {
        line,
        field: "name",
        key: 'P',
    })?;
    let name = token(line, "name", name)?;
    let version = raw.version.ok_or(InstalledError::MissingField {
        line,
        field: "version",
        key: 'V',
    })?;
    let version = token(line, "version", version)?;
    let arch = raw.arch.map(|a| token(line, "arch", a)).transpose()?;
    let origin = raw.origin.map(|o| token(line, "origin", o)).transpose()?;
    let license = raw
        .license
        .map(|l| text(line, "license", l).map(str::to_string))
        .transpose()?
        .filter(|l| !l.is_empty());
    Ok(InstalledEntry {
        name,
        version,
        arch,
        origin,
        license,
        line,
    })
}

/// Reads apk's installed database.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApkCataloger;

/// Ecosystem and purl namespace for an apk-based distribution.
fn flavour(os: Option<&OsInfo>) -> (&'static str, &'static str) {
    match os.map(|o| o.family.as_str()) {
        Some("wolfi") => (Ecosystem::WOLFI, "wolfi"),
        Some("chainguard") => (Ecosystem::CHAINGUARD, "chainguard"),
        _ => (Ecosystem::ALPINE, "alpine"),
    }
}

fn to_package(
    entry: &InstalledEntry,
    file: FileRef<'_>,
    os: Option<&OsInfo>,
) -> Result<Package, String> {
    let (ecosystem, namespace) = flavour(os);
    let distro = os.map(|o| o.version.as_str()).filter(|v| !v.is_empty());
    let purl = PackageUrl::new("apk", &entry.name)
        .and_then(|p| {
            p.with_namespace(namespace)
                .with_version(&entry.version)
                .with_optional_qualifier("arch", entry.arch.as_deref())?
                .with_optional_qualifier("distro", distro)
        })
        .map_err(|e| format!("package {}: {e}", entry.name))?;
    Ok(Package {
        name: PackageName::new(entry.name.clone()),
        version: Version::new(entry.version.clone()),
        ecosystem: Ecosystem::new(ecosystem),
        purl: purl.to_string(),
        layer: file.layer.cloned(),
        path: file.path.to_string(),
        source: Some(SourcePackage {
            name: entry.origin.clone().unwrap_or_else(|| entry.name.clone()),
            version: entry.version.clone(),
        }),
        arch: entry.arch.clone(),
        licenses: entry.license.iter().cloned().collect(),
    })
}

impl Cataloger for ApkCataloger {
    fn name(&self) -> &'static str {
        "apk"
    }

    fn wants(&self, path: &str) -> bool {
        path == INSTALLED || path == USR_INSTALLED
    }

    fn catalog(&self, ctx: &CatalogContext<'_>, out: &mut CatalogOutput) {
        let before = out.packages.len();
        // With `lib -> usr/lib` both names resolve to one file: read it once.
        let mut read_paths = HashSet::new();
        let mut seen = HashSet::new();
        for path in [INSTALLED, USR_INSTALLED] {
            let Some(file) = ctx.fs.read(path) else {
                continue;
            };
            if !read_paths.insert(file.path) {
                continue;
            }
            let parsed = parse_installed(file.data);
            add_parsed(
                out,
                file,
                parsed.errors,
                parsed.entries,
                &mut seen,
                |e| (e.name.clone(), e.arch.clone()),
                |e| to_package(e, file, ctx.os),
            );
        }
        tracing::debug!(
            packages = out.packages.len().saturating_sub(before),
            "apk catalogued"
        );
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
    use crate::fs::FsView;

    /// Records as found in an Alpine 3.19 image.
    const ALPINE_319: &str = "\
C:Q1BTJnxDvpjp2UmBAz7lQDz6Gkvq8=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
S:407913
I:663552
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Natanael Copa <ncopa@alpinelinux.org>
t:1701094537
c:50dd0d3bc5a5ab1a1de46a88eba3d6b0bd4acd7c
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1/4g2yBw0t2Q5Gd3pD5+Z4S6nuo4=
R:libc.musl-x86_64.so.1

C:Q1vDz0yVyJt7VJ1m0WbjXwP4W5wlU=
P:busybox-binsh
V:1.36.1-r15
A:x86_64
S:1539
I:1
T:busybox ash /bin/sh
U:https://busybox.net/
L:GPL-2.0-only
o:busybox
m:Sören Tempel <soeren+alpine@soeren-tempel.net>
t:1701446426
c:0bd0ff8ed5f1c83bc5a2bc1d6c38da3aa2be0e8a
D:busybox=1.36.1-r15
p:cmd:sh=1.36.1-r15
F:bin
R:sh
a:0:0:777
Z:Q1pcfTfDNEbNKQc2s1tia7da05M8Q=

C:Q1Z+9O8O0hFKvLGvhYHbBuCVTvCnU=
P:libcrypto3
V:3.1.4-r2
A:x86_64
S:1720469
I:4710400
T:Crypto library from openssl
U:https://www.openssl.org/
L:Apache-2.0
o:openssl
m:Ariadne Conill <ariadne@dereferenced.org>
t:1702371125
c:dd3b0dd6e8c8e7ac6b5c4d7e0d3b6b0d1e7e2b6c
D:so:libc.musl-x86_64.so.1
p:so:libcrypto.so.3=3

C:Q1c2RXoNjGo1l8VqZbRGdz+e8hJXo=
P:ca-certificates-bundle
V:20230506-r0
A:x86_64
L:MPL-2.0 AND MIT
o:ca-certificates
";

    fn alpine(version: &str) -> OsInfo {
        OsInfo {
            family: "alpine".into(),
            version: version.into(),
            pretty_name: None,
        }
    }

    fn run(fs: &FsView, os: Option<&OsInfo>) -> CatalogOutput {
        let mut out = CatalogOutput::default();
        ApkCataloger.catalog(&CatalogContext { fs, os }, &mut out);
        out
    }

    #[test]
    fn parses_alpine_records() {
        let parsed = parse_installed(ALPINE_319.as_bytes());
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let got: Vec<(&str, &str, Option<&str>)> = parsed
            .entries
            .iter()
            .map(|e| (e.name.as_str(), e.version.as_str(), e.origin.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("musl", "1.2.4_git20230717-r4", Some("musl")),
                ("busybox-binsh", "1.36.1-r15", Some("busybox")),
                ("libcrypto3", "3.1.4-r2", Some("openssl")),
                (
                    "ca-certificates-bundle",
                    "20230506-r0",
                    Some("ca-certificates")
                ),
            ]
        );
        assert_eq!(
            parsed.entries[3].license.as_deref(),
            Some("MPL-2.0 AND MIT")
        );
        assert_eq!(parsed.entries[1].line, 21);
    }

    #[test]
    fn catalogs_alpine_packages() {
        let fs = FsView::from_files([(INSTALLED, ALPINE_319)]);
        let os = alpine("3.19.1");
        let out = run(&fs, Some(&os));
        assert!(out.warnings.is_empty());
        assert_eq!(out.packages.len(), 4);
        let crypto = &out.packages[2];
        assert_eq!(crypto.ecosystem.as_str(), "Alpine");
        assert_eq!(
            crypto.purl,
            "pkg:apk/alpine/libcrypto3@3.1.4-r2?arch=x86_64&distro=3.19.1"
        );
        assert_eq!(
            crypto.source,
            Some(SourcePackage {
                name: "openssl".into(),
                version: "3.1.4-r2".into()
            })
        );
        assert_eq!(crypto.licenses, ["Apache-2.0"]);
        assert_eq!(crypto.path, INSTALLED);
        assert_eq!(crypto.arch.as_deref(), Some("x86_64"));
    }

    #[test]
    fn wolfi_and_chainguard_and_usr_merge() {
        let data = "P:glibc\nV:2.39-r1\nA:aarch64\nL:LGPL-2.1-or-later\n";
        let mut fs = FsView::from_files([(USR_INSTALLED, data)]);
        fs.insert_symlink("lib".into(), "usr/lib".into(), None);
        for (family, eco, ns) in [
            ("wolfi", "Wolfi", "wolfi"),
            ("chainguard", "Chainguard", "chainguard"),
        ] {
            let os = OsInfo {
                family: family.into(),
                version: "20230201".into(),
                pretty_name: None,
            };
            let out = run(&fs, Some(&os));
            assert_eq!(out.packages.len(), 1, "read once through the symlink");
            assert_eq!(out.packages[0].ecosystem.as_str(), eco);
            assert_eq!(
                out.packages[0].purl,
                format!("pkg:apk/{ns}/glibc@2.39-r1?arch=aarch64&distro=20230201")
            );
            assert_eq!(out.packages[0].path, USR_INSTALLED);
            // No origin: the package is its own source.
            assert_eq!(
                out.packages[0].source.as_ref().map(|s| s.name.as_str()),
                Some("glibc")
            );
        }
        let out = run(&fs, None);
        assert_eq!(
            out.packages[0].purl,
            "pkg:apk/alpine/glibc@2.39-r1?arch=aarch64"
        );
    }

    #[test]
    fn malformed_records_become_warnings() {
        let data = b"P:nover\nA:x86_64\n\nV:1.0-r0\n\n\n\nP:bad\xff\nV:1\n\nP:ok\nV:1.0-r0\nT:caf\xe9\nL:\n\nP:two words\nV:1\n\nP:last\r\nV:2-r0\r\n";
        let parsed = parse_installed(data);
        assert_eq!(
            parsed.errors,
            vec![
                InstalledError::MissingField {
                    line: 1,
                    field: "version",
                    key: 'V'
                },
                InstalledError::MissingField {
                    line: 4,
                    field: "name",
                    key: 'P'
                },
                InstalledError::InvalidUtf8 {
                    line: 8,
                    field: "name"
                },
                InstalledError::InvalidValue {
                    line: 16,
                    field: "name",
                    value: "two words".into()
                },
            ]
        );
        let names: Vec<&str> = parsed.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["ok", "last"]);
        assert_eq!(parsed.entries[0].license, None);

        let fs = FsView::from_files([(INSTALLED, &data[..])]);
        let out = run(&fs, Some(&alpine("3.19.1")));
        assert_eq!(out.packages.len(), 2);
        assert_eq!(out.warnings.len(), 4);
        assert!(out.warnings.iter().all(|w| w.location == INSTALLED));
    }

    #[test]
    fn garbage_does_not_panic() {
        for data in [
            &b""[..],
            b"\n",
            b"P",
            b"P:",
            b":",
            b"\xff:\xff",
            b"PV:x\n",
            b"P:a\nV:",
        ] {
            let _ = parse_installed(data);
        }
        let data = "P:a\nV:1\n\n".repeat(MAX_RECORDS + 1);
        let parsed = parse_installed(data.as_bytes());
        assert_eq!(parsed.entries.len(), MAX_RECORDS);
        assert_eq!(parsed.errors, vec![InstalledError::TooManyRecords]);
    }

    #[test]
    fn wants_is_exact() {
        assert!(ApkCataloger.wants("lib/apk/db/installed"));
        assert!(ApkCataloger.wants("usr/lib/apk/db/installed"));
        assert!(!ApkCataloger.wants("lib/apk/db/installed.old"));
        assert!(!ApkCataloger.wants("lib/apk/db/triggers"));
    }
}
