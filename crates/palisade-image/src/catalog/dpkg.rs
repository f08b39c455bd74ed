//! Debian and Ubuntu packages from dpkg's database.
//!
//! Reads `var/lib/dpkg/status` and, for distroless images, every file
//! directly in `var/lib/dpkg/status.d/` (one or more stanzas per file;
//! `*.md5sums` files are skipped). Stanzas are deb822 paragraphs: `Field:
//! value` lines, continuation lines starting with a space or tab, paragraphs
//! separated by one or more blank lines; CRLF line ends are accepted.
//!
//! A package counts as installed when the third word of its `Status` is
//! `installed` (`install ok installed`, `hold ok installed`…) or when it has
//! no `Status` at all, as in distroless `status.d` files.

use std::collections::HashSet;

use palisade_model::{Ecosystem, OsInfo, Package, PackageName, SourcePackage, Version};

use super::{add_parsed, read_records, CatalogContext, CatalogOutput, Cataloger};
use crate::fs::FileRef;
use crate::purl::PackageUrl;

/// The dpkg status file.
pub const STATUS: &str = "var/lib/dpkg/status";
/// The distroless per-package status directory, with its trailing `/`.
pub const STATUS_D_PREFIX: &str = "var/lib/dpkg/status.d/";

/// Most stanzas read from one file; Debian's whole archive has ~70 000
/// binary packages.
pub const MAX_STANZAS: usize = 100_000;
/// Longest field value kept for a package name, version, arch or source.
const MAX_FIELD_LEN: usize = 1024;

/// A problem with one stanza or with the file as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusError {
    #[error("stanza at line {line}: missing {field} field")]
    MissingField { line: usize, field: &'static str },
    #[error("stanza at line {line}: {field} is not valid UTF-8")]
    InvalidUtf8 { line: usize, field: &'static str },
    #[error("stanza at line {line}: {field} value {value:?} is not a valid token")]
    InvalidValue {
        line: usize,
        field: &'static str,
        value: String,
    },
    #[error("more than {MAX_STANZAS} stanzas; the rest were not read")]
    TooManyStanzas,
}

/// One package stanza, with the fields a scanner needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    pub package: String,
    pub version: String,
    pub architecture: Option<String>,
    /// The raw `Source` field: `name` or `name (version)`.
    pub source: Option<String>,
    /// The raw `Status` field, `None` when absent.
    pub status: Option<String>,
    /// 1-based line where the stanza starts.
    pub line: usize,
}

impl StatusEntry {
    /// Whether dpkg considers the package installed (see the module docs).
    pub fn is_installed(&self) -> bool {
        match &self.status {
            None => true,
            Some(s) => s.split_whitespace().nth(2) == Some("installed"),
        }
    }

    /// The source package: the `Source` field, with the binary version when
    /// it names none, or the binary package itself when absent.
    pub fn source_package(&self) -> SourcePackage {
        let Some(raw) = self
            .source
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            return SourcePackage {
                name: self.package.clone(),
                version: self.version.clone(),
            };
        };
        let (name, rest) = raw.split_once(char::is_whitespace).unwrap_or((raw, ""));
        let version = rest
            .trim()
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or(&self.version);
        SourcePackage {
            name: name.to_string(),
            version: version.to_string(),
        }
    }
}

/// The result of parsing one status file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedStatus {
    /// Every well-formed stanza, installed or not.
    pub entries: Vec<StatusEntry>,
    /// Stanzas that could not be used, and file-level problems.
    pub errors: Vec<StatusError>,
}

/// The fields of one stanza, as raw bytes.
#[derive(Default)]
struct RawStanza<'a> {
    line: usize,
    package: Option<&'a [u8]>,
    version: Option<&'a [u8]>,
    architecture: Option<&'a [u8]>,
    source: Option<&'a [u8]>,
    status: Option<&'a [u8]>,
    any_field: bool,
}

/// Parse a dpkg status file (or one `status.d` file). Never panics; every
/// unusable stanza becomes a [`StatusError`].
pub fn parse_status(data: &[u8]) -> ParsedStatus {
    let mut out = ParsedStatus::default();
    let complete = read_records(
        data,
        MAX_STANZAS,
        |cur: &RawStanza<'_>| cur.any_field,
        stanza_line,
        |raw| finish(raw, &mut out),
    );
    if !complete {
        out.errors.push(StatusError::TooManyStanzas);
    }
    out
}

/// One line of a stanza: a `Field: value` line or a continuation line.
fn stanza_line<'a>(cur: &mut RawStanza<'a>, line_no: usize, line: &'a [u8]) {
    if matches!(line.first(), Some(b' ' | b'\t')) {
        // Continuation of a multi-line field (Description, Conffiles…).
        return;
    }
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        tracing::trace!(line = line_no, "dpkg status: line without ':' ignored");
        return;
    };
    let (name, value) = line.split_at(colon);
    let value = trim(value.get(1..).unwrap_or_default());
    if !cur.any_field {
        cur.any_field = true;
        cur.line = line_no;
    }
    let name = trim(name);
    let slot = if name.eq_ignore_ascii_case(b"Package") {
        &mut cur.package
    } else if name.eq_ignore_ascii_case(b"Version") {
        &mut cur.version
    } else if name.eq_ignore_ascii_case(b"Architecture") {
        &mut cur.architecture
    } else if name.eq_ignore_ascii_case(b"Source") {
        &mut cur.source
    } else if name.eq_ignore_ascii_case(b"Status") {
        &mut cur.status
    } else {
        return;
    };
    *slot = Some(value);
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e.saturating_add(1));
    b.get(start..end).unwrap_or_default()
}

/// A field value as a string: valid UTF-8, at most [`MAX_FIELD_LEN`] bytes.
fn text<'a>(line: usize, field: &'static str, raw: &'a [u8]) -> Result<&'a str, StatusError> {
    let s = std::str::from_utf8(raw).map_err(|_| StatusError::InvalidUtf8 { line, field })?;
    if s.len() > MAX_FIELD_LEN {
        return Err(StatusError::InvalidValue {
            line,
            field,
            value: s.chars().take(64).collect::<String>() + "…",
        });
    }
    Ok(s)
}

/// A single token: non-empty, no whitespace or control characters.
fn token(line: usize, field: &'static str, raw: &[u8]) -> Result<String, StatusError> {
    let s = text(line, field, raw)?;
    if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(StatusError::InvalidValue {
            line,
            field,
            value: s.to_string(),
        });
    }
    Ok(s.to_string())
}

fn finish(raw: RawStanza<'_>, out: &mut ParsedStatus) {
    match build(&raw) {
        Ok(entry) => out.entries.push(entry),
        Err(e) => {
            // Only report stanzas that would have counted: a removed
            // package's leftover stanza with a bad field is not worth a warning.
            let status_installed = raw.status.is_none_or(|s| {
                s.split(u8::is_ascii_whitespace)
                    .filter(|w| !w.is_empty())
                    .nth(2)
                    == Some(b"installed")
            });
            if status_installed {
                out.errors.push(e);
            }
        }
    }
}

fn build(raw: &RawStanza<'_>) -> Result<StatusEntry, StatusError> {
    let line = raw.line;
    let package = raw.package.ok_or(StatusError::MissingField {
        line,
        field: "Package",
    })?;
    let package = token(line, "Package", package)?;
    let version = raw.version.ok_or(StatusError::MissingField {
        line,
        field: "Version",
    })?;
    let version = token(line, "Version", version)?;
    let architecture = raw
        .architecture
        .map(|a| token(line, "Architecture", a))
        .transpose()?;
    let source = raw
        .source
        .map(|s| text(line, "Source", s).map(str::to_string))
        .transpose()?;
    let status = raw
        .status
        .map(|s| text(line, "Status", s).map(str::to_string))
        .transpose()?;
    Ok(StatusEntry {
        package,
        version,
        architecture,
        source,
        status,
        line,
    })
}

/// Reads dpkg's status database.
#[derive(Debug, Clone, Copy, Default)]
pub struct DpkgCataloger;

impl DpkgCataloger {
    fn packages_from(
        file: FileRef<'_>,
        os: Option<&OsInfo>,
        seen: &mut HashSet<(String, Option<String>)>,
        out: &mut CatalogOutput,
    ) {
        let parsed = parse_status(file.data);
        add_parsed(
            out,
            file,
            parsed.errors,
            parsed.entries.into_iter().filter(StatusEntry::is_installed),
            seen,
            |e| (e.package.clone(), e.architecture.clone()),
            |e| to_package(e, file, os),
        );
    }
}

fn to_package(
    entry: &StatusEntry,
    file: FileRef<'_>,
    os: Option<&OsInfo>,
) -> Result<Package, String> {
    let ubuntu = os.is_some_and(|o| o.family == "ubuntu");
    let (ecosystem, vendor) = if ubuntu {
        (Ecosystem::UBUNTU, "ubuntu")
    } else {
        (Ecosystem::DEBIAN, "debian")
    };
    let distro = os.map(super::distro_qualifier);
    let purl = PackageUrl::new("deb", &entry.package)
        .and_then(|p| {
            p.with_namespace(vendor)
                .with_version(&entry.version)
                .with_optional_qualifier("arch", entry.architecture.as_deref())?
                .with_optional_qualifier("distro", distro.as_deref())
        })
        .map_err(|e| format!("package {}: {e}", entry.package))?;
    Ok(Package {
        name: PackageName::new(entry.package.clone()),
        version: Version::new(entry.version.clone()),
        ecosystem: Ecosystem::new(ecosystem),
        purl: purl.to_string(),
        layer: file.layer.cloned(),
        path: file.path.to_string(),
        source: Some(entry.source_package()),
        arch: entry.architecture.clone(),
        licenses: Vec::new(),
    })
}

/// Whether `path` is a package file directly in `status.d/`.
fn is_status_d_file(path: &str) -> bool {
    path.strip_prefix(STATUS_D_PREFIX)
        .is_some_and(|name| !name.is_empty() && !name.contains('/') && !name.ends_with(".md5sums"))
}

impl Cataloger for DpkgCataloger {
    fn name(&self) -> &'static str {
        "dpkg"
    }

    fn wants(&self, path: &str) -> bool {
        path == STATUS || is_status_d_file(path)
    }

    fn catalog(&self, ctx: &CatalogContext<'_>, out: &mut CatalogOutput) {
        let before = out.packages.len();
        let mut seen = HashSet::new();
        if let Some(file) = ctx.fs.read(STATUS) {
            Self::packages_from(file, ctx.os, &mut seen, out);
        }
        let dir = STATUS_D_PREFIX.trim_end_matches('/');
        for file in ctx.fs.files_under(dir).filter(|f| is_status_d_file(f.path)) {
            Self::packages_from(file, ctx.os, &mut seen, out);
        }
        tracing::debug!(
            packages = out.packages.len().saturating_sub(before),
            "dpkg catalogued"
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
    use palisade_model::{Digest, DigestAlgorithm};

    use super::*;
    use crate::fs::FsView;

    /// Stanzas as found in a Debian 12 (bookworm) image.
    const BOOKWORM: &str = "\
Package: base-files
Essential: yes
Status: install ok installed
Priority: required
Section: admin
Installed-Size: 341
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 12.4+deb12u5
Replaces: base, dpkg (<= 1.15.0), miscutils
Provides: base
Conffiles:
 /etc/debian_version 1c81f3e2a3a6d8c1d1e8a4a4c9e0f4b2
 /etc/dpkg/origins/debian c47b6815f67ad1aeccb0d4529bd0b990
Description: Debian base system miscellaneous files
 This package contains the basic filesystem hierarchy of a Debian system, and
 several important miscellaneous files, such as /etc/debian_version,
 /etc/host.conf, /etc/issue, /etc/motd, /etc/profile, and others,
 and the text of several common licenses in use on Debian systems.

Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 12986
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u7
Replaces: libc6-amd64
Depends: libgcc-s1
Recommends: libidn2-0 (>= 2.0.5~)
Suggests: glibc-doc, debconf | debconf-2.0, libc-l10n, locales, libnss-nis, libnss-nisplus
Breaks: aide (<< 0.17.3-4+b3), busybox (<< 1.30.1-6), chrony (<< 4.2-3~), fakechroot (<< 2.19-3.5), valgrind (<< 1:3.19.0-1~)
Conffiles:
 /etc/ld.so.conf.d/x86_64-linux-gnu.conf d4e7a7b88a71b5ffd9e2644e71a0cfab
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system. This package includes shared versions of the standard C library
 and the standard math library, as well as many others.
Homepage: https://www.gnu.org/software/libc/libc.html


Package: libgcc-s1
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 140
Maintainer: Debian GCC Maintainers <debian-gcc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: gcc-12 (12.2.0-14)
Version: 12.2.0-14
Replaces: libgcc1 (<< 1:10)
Provides: libgcc1 (= 1:12.2.0-14)
Depends: gcc-12-base (= 12.2.0-14), libc6 (>= 2.35)
Description: GCC support library
Homepage: https://gcc.gnu.org/

Package: libpam-runtime
Status: hold ok installed
Architecture: all
Source: pam
Version: 1.5.2-6+deb12u1

Package: tzdata
Status: deinstall ok config-files
Architecture: all
Version: 2024a-0+deb12u1

Package: perl-base
Status: install ok installed
Architecture: amd64
Source: perl (5.36.0-7+deb12u1)
Version: 5.36.0-7+deb12u1

Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib
Version: 1:1.2.13.dfsg-1
";

    fn names(p: &ParsedStatus) -> Vec<&str> {
        p.entries
            .iter()
            .filter(|e| e.is_installed())
            .map(|e| e.package.as_str())
            .collect()
    }

    #[test]
    fn parses_bookworm_status() {
        let parsed = parse_status(BOOKWORM.as_bytes());
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.entries.len(), 7);
        assert_eq!(
            names(&parsed),
            [
                "base-files",
                "libc6",
                "libgcc-s1",
                "libpam-runtime",
                "perl-base",
                "zlib1g"
            ]
        );
        let libc = &parsed.entries[1];
        assert_eq!(libc.version, "2.36-9+deb12u7");
        assert_eq!(libc.architecture.as_deref(), Some("amd64"));
        assert_eq!(libc.line, 22);
        assert_eq!(
            libc.source_package(),
            SourcePackage {
                name: "glibc".into(),
                version: "2.36-9+deb12u7".into()
            }
        );
        assert_eq!(parsed.entries[2].source_package().name, "gcc-12");
        assert_eq!(parsed.entries[2].source_package().version, "12.2.0-14");
        assert_eq!(
            parsed.entries[5].source_package().version,
            "5.36.0-7+deb12u1"
        );
        let base = parsed.entries[0].source_package();
        assert_eq!(
            (base.name.as_str(), base.version.as_str()),
            ("base-files", "12.4+deb12u5")
        );
    }

    #[test]
    fn crlf_and_extra_blank_lines() {
        let crlf = BOOKWORM.replace('\n', "\r\n");
        let parsed = parse_status(crlf.as_bytes());
        assert!(parsed.errors.is_empty());
        assert_eq!(names(&parsed).len(), 6);
        assert_eq!(parsed.entries[1].version, "2.36-9+deb12u7");
        let padded = format!("\n\n \t\n{}\n\n\n", BOOKWORM.replace("\n\n", "\n\n\n  \n"));
        assert_eq!(names(&parse_status(padded.as_bytes())).len(), 6);
    }

    #[test]
    fn installed_status_words() {
        let e = |s: Option<&str>| StatusEntry {
            package: "a".into(),
            version: "1".into(),
            architecture: None,
            source: None,
            status: s.map(str::to_string),
            line: 1,
        };
        assert!(e(None).is_installed());
        assert!(e(Some("install ok installed")).is_installed());
        assert!(e(Some("hold ok installed")).is_installed());
        assert!(e(Some("install reinstreq installed")).is_installed());
        assert!(!e(Some("install ok half-configured")).is_installed());
        assert!(!e(Some("deinstall ok config-files")).is_installed());
        assert!(!e(Some("purge ok not-installed")).is_installed());
        assert!(!e(Some("installed")).is_installed());
    }

    #[test]
    fn malformed_stanzas_become_errors() {
        let data = b"Package: nover\nStatus: install ok installed\n\n\
Version: 1.0\nArchitecture: amd64\n\n\
Package: bad\xff\nVersion: 1\n\n\
Package: two words\nVersion: 1\n\n\
Package: gone\nStatus: deinstall ok config-files\n\n\
Package: ok\nVersion: 1.0-1\nDescription: caf\xe9 latin-1 text is fine\n \xff\xfe\n\n\
no colon here\n\
: empty name\n\
Package: last\nVersion: 2";
        let parsed = parse_status(data);
        assert_eq!(
            parsed.errors,
            vec![
                StatusError::MissingField {
                    line: 1,
                    field: "Version"
                },
                StatusError::MissingField {
                    line: 4,
                    field: "Package"
                },
                StatusError::InvalidUtf8 {
                    line: 7,
                    field: "Package"
                },
                StatusError::InvalidValue {
                    line: 10,
                    field: "Package",
                    value: "two words".into()
                },
            ]
        );
        assert_eq!(names(&parsed), ["ok", "last"]);
    }

    #[test]
    fn garbage_does_not_panic() {
        for data in [
            &b""[..],
            b"\n\n\n",
            b":",
            b"Package:",
            b"Package: \nVersion: \n",
            b"\xff\xfe\xfd",
            b"\0\0\0\0:\0",
            b" continuation first\n",
            b"Package: a\rVersion: 1\r\r",
        ] {
            let _ = parse_status(data);
        }
        let huge = format!("Package: a\nVersion: {}\n", "1".repeat(MAX_FIELD_LEN + 1));
        assert!(matches!(
            parse_status(huge.as_bytes()).errors.as_slice(),
            [StatusError::InvalidValue {
                field: "Version",
                ..
            }]
        ));
    }

    #[test]
    fn stanza_cap() {
        let data = "Package: a\nVersion: 1\n\n".repeat(MAX_STANZAS + 5);
        let parsed = parse_status(data.as_bytes());
        assert_eq!(parsed.entries.len(), MAX_STANZAS);
        assert_eq!(parsed.errors, vec![StatusError::TooManyStanzas]);
        // Exactly at the cap, without a trailing blank line: no error.
        let data = "Package: a\nVersion: 1\n\n".repeat(MAX_STANZAS - 1) + "Package: a\nVersion: 1";
        let parsed = parse_status(data.as_bytes());
        assert_eq!(parsed.entries.len(), MAX_STANZAS);
        assert!(parsed.errors.is_empty());
    }

    fn debian12() -> OsInfo {
        OsInfo {
            family: "debian".into(),
            version: "12".into(),
            pretty_name: None,
        }
    }

    fn run(fs: &FsView, os: Option<&OsInfo>) -> CatalogOutput {
        let mut out = CatalogOutput::default();
        DpkgCataloger.catalog(&CatalogContext { fs, os }, &mut out);
        out
    }

    #[test]
    fn catalogs_debian_packages() {
        let layer = Digest::from_bytes(DigestAlgorithm::Sha256, &[7; 32]);
        let mut fs = FsView::new();
        fs.insert_file(
            STATUS.into(),
            BOOKWORM.as_bytes().into(),
            Some(layer.clone()),
        );
        let os = debian12();
        let out = run(&fs, Some(&os));
        assert!(out.warnings.is_empty());
        assert_eq!(out.packages.len(), 6);
        let libc = &out.packages[1];
        assert_eq!(libc.name.as_str(), "libc6");
        assert_eq!(libc.ecosystem.as_str(), "Debian");
        assert_eq!(
            libc.purl,
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12"
        );
        assert_eq!(libc.layer.as_ref(), Some(&layer));
        assert_eq!(libc.path, STATUS);
        assert!(libc.licenses.is_empty());
        let zlib = &out.packages[5];
        assert_eq!(zlib.version.as_str(), "1:1.2.13.dfsg-1");
        assert_eq!(
            zlib.purl,
            "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12"
        );
    }

    #[test]
    fn ubuntu_ecosystem_and_no_os() {
        let fs = FsView::from_files([(
            STATUS,
            "Package: bash\nVersion: 5.1-6ubuntu1\nArchitecture: amd64\n",
        )]);
        let os = OsInfo {
            family: "ubuntu".into(),
            version: "22.04".into(),
            pretty_name: None,
        };
        let out = run(&fs, Some(&os));
        assert_eq!(out.packages[0].ecosystem.as_str(), "Ubuntu");
        assert_eq!(
            out.packages[0].purl,
            "pkg:deb/ubuntu/bash@5.1-6ubuntu1?arch=amd64&distro=ubuntu-22.04"
        );
        let out = run(&fs, None);
        assert_eq!(out.packages[0].ecosystem.as_str(), "Debian");
        assert_eq!(
            out.packages[0].purl,
            "pkg:deb/debian/bash@5.1-6ubuntu1?arch=amd64"
        );
    }

    #[test]
    fn distroless_status_d_and_duplicates() {
        let fs = FsView::from_files([
            (STATUS, "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9+deb12u7\nArchitecture: amd64\nSource: glibc\n"),
            // Same package again in status.d: reported once.
            ("var/lib/dpkg/status.d/libc6", "Package: libc6\nVersion: 2.36-9+deb12u7\nArchitecture: amd64\nSource: glibc\n"),
            ("var/lib/dpkg/status.d/libc6.md5sums", "d41d8cd98f00b204e9800998ecf8427e  lib/x\n"),
            ("var/lib/dpkg/status.d/tzdata", "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n"),
            ("var/lib/dpkg/status.d/nested/ignored", "Package: nope\nVersion: 1\n"),
            // Same name, other architecture: a different package.
            ("var/lib/dpkg/status.d/libc6-i386", "Package: libc6\nVersion: 2.36-9+deb12u7\nArchitecture: i386\n"),
            ("var/lib/dpkg/status.d/broken", "Version: 1\n"),
        ]);
        let out = run(&fs, Some(&debian12()));
        let got: Vec<(&str, &str, Option<&str>)> = out
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.path.as_str(), p.arch.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("libc6", STATUS, Some("amd64")),
                ("libc6", "var/lib/dpkg/status.d/libc6-i386", Some("i386")),
                ("tzdata", "var/lib/dpkg/status.d/tzdata", Some("all")),
            ]
        );
        assert_eq!(out.warnings.len(), 1);
        assert_eq!(out.warnings[0].location, "var/lib/dpkg/status.d/broken");
        assert!(
            out.warnings[0].message.contains("missing Package"),
            "{}",
            out.warnings[0].message
        );
    }

    #[test]
    fn wants_is_exact() {
        let c = DpkgCataloger;
        assert!(c.wants("var/lib/dpkg/status"));
        assert!(c.wants("var/lib/dpkg/status.d/libc6"));
        assert!(!c.wants("var/lib/dpkg/status.d/libc6.md5sums"));
        assert!(!c.wants("var/lib/dpkg/status.d/"));
        assert!(!c.wants("var/lib/dpkg/status.d/a/b"));
        assert!(!c.wants("var/lib/dpkg/status-old"));
        assert!(!c.wants("var/lib/dpkg/available"));
    }

    /// The host's own dpkg database must give exactly what dpkg-query says.
    #[test]
    fn host_status_matches_dpkg_query() {
        let Ok(data) = std::fs::read("/var/lib/dpkg/status") else {
            return;
        };
        let query = std::process::Command::new("dpkg-query")
            .args(["-W", "-f", "${db:Status-Status}\\n"])
            .output();
        let Ok(query) = query else {
            eprintln!("dpkg-query not available; skipping");
            return;
        };
        assert!(query.status.success());
        let expected = String::from_utf8_lossy(&query.stdout)
            .lines()
            .filter(|l| l.trim() == "installed")
            .count();
        let parsed = parse_status(&data);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let got = parsed.entries.iter().filter(|e| e.is_installed()).count();
        assert_eq!(got, expected);
        assert!(got > 0);
    }
}
