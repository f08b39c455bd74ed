//! Installed Python distributions, wherever they are in the image.
//!
//! Every installed distribution leaves a metadata file in "core metadata"
//! format (RFC 822 style headers, then an optional body):
//!
//! * `NAME-VERSION.dist-info/METADATA` — wheels installed by pip, uv, poetry
//!   (PEP 376 / PEP 627), in `site-packages`, Debian's `dist-packages`,
//!   virtual environments and `pip install --target` folders alike;
//! * `NAME-VERSION.egg-info/PKG-INFO` — setuptools installs and `develop`
//!   checkouts;
//! * `NAME-VERSION.egg-info` as a single file — what distutils and Debian's
//!   `python3-*` packages install;
//! * `NAME-VERSION.egg/EGG-INFO/PKG-INFO` — unzipped eggs.
//!
//! Headers end at the first empty line; a line starting with a space or tab
//! continues the previous header; a line that is neither ends the headers
//! too (as Python's `email` parser does). Only `Name`, `Version`, `License`
//! and `License-Expression` (PEP 639) are kept. Names are normalised per
//! PEP 503 (`Foo_Bar.baz` → `foo-bar-baz`), which is the form OSV and the
//! `pypi` purl type use, so matching and de-duplication are exact.
//!
//! One distribution directory is one package: the same directory reached
//! through a symlinked parent (a venv's `lib64 -> lib`) is listed once, and
//! a `.dist-info` wins over an `.egg-info` for the same name and version in
//! the same directory. The same name and version installed in two different
//! directories are two packages.

use std::collections::HashSet;

use palisade_model::{Ecosystem, Package};

use super::{language_package, warning, CatalogContext, CatalogOutput, Cataloger};
use crate::fs::FileRef;
use crate::purl::PackageUrl;

/// Most header lines read from one metadata file.
pub const MAX_HEADER_LINES: usize = 10_000;
/// Most distributions reported for one image.
pub const MAX_DISTRIBUTIONS: usize = 100_000;
/// Longest name or version accepted.
const MAX_TOKEN_LEN: usize = 512;
/// Longest `License` value kept as a licence (longer ones are licence texts).
const MAX_LICENSE_LEN: usize = 256;
/// Most bytes kept of one header value, continuations included.
const MAX_VALUE_LEN: usize = 64 * 1024;
/// Most warnings one catalog run reports.
const MAX_WARNINGS: usize = 1000;

/// Which kind of metadata file a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MetadataKind {
    /// `*.dist-info/METADATA`.
    DistInfo,
    /// `*.egg-info/PKG-INFO`.
    EggInfoDir,
    /// `*.egg/EGG-INFO/PKG-INFO`.
    Egg,
    /// A `*.egg-info` file.
    EggInfoFile,
}

impl MetadataKind {
    /// The kind of metadata file at `path` (normalised, no leading `/`).
    pub fn of(path: &str) -> Option<MetadataKind> {
        let base_of = |p: &str| p.rsplit('/').next().unwrap_or(p).len();
        if let Some(dir) = path.strip_suffix("/METADATA") {
            if dir.ends_with(".dist-info") && base_of(dir) > ".dist-info".len() {
                return Some(MetadataKind::DistInfo);
            }
        } else if let Some(dir) = path.strip_suffix("/PKG-INFO") {
            if dir.ends_with(".egg-info") && base_of(dir) > ".egg-info".len() {
                return Some(MetadataKind::EggInfoDir);
            }
            if let Some(egg) = dir.strip_suffix("/EGG-INFO") {
                if egg.ends_with(".egg") && base_of(egg) > ".egg".len() {
                    return Some(MetadataKind::Egg);
                }
            }
        } else if path.ends_with(".egg-info") && base_of(path) > ".egg-info".len() {
            return Some(MetadataKind::EggInfoFile);
        }
        None
    }

    /// The directory the distribution is installed in (`site-packages`…)
    /// for a metadata file of this kind at `path`.
    fn install_dir(self, path: &str) -> &str {
        let levels = match self {
            MetadataKind::EggInfoFile => 1,
            MetadataKind::DistInfo | MetadataKind::EggInfoDir => 2,
            MetadataKind::Egg => 3,
        };
        let mut dir = path;
        for _ in 0..levels {
            dir = dir.rsplit_once('/').map_or("", |(d, _)| d);
        }
        dir
    }
}

/// A problem with one metadata file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    #[error("no {0} header")]
    MissingField(&'static str),
    #[error("Name {0:?} is not a valid distribution name (PEP 508)")]
    InvalidName(String),
    #[error("Version {0:?} is not a valid version token")]
    InvalidVersion(String),
}

/// The headers of one metadata file that a scanner needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The name as written.
    pub name: String,
    pub version: String,
    /// `License-Expression` (an SPDX expression, PEP 639).
    pub license_expression: Option<String>,
    /// `License` (free text; often an identifier, sometimes a whole licence).
    pub license: Option<String>,
}

impl Metadata {
    /// The PEP 503 normalised name.
    pub fn normalized_name(&self) -> String {
        normalize_name(&self.name)
    }

    /// Licences to report: the SPDX expression when given, else `License`
    /// when it is a short single line (not a licence text, not `UNKNOWN`).
    pub fn licenses(&self) -> Vec<String> {
        if let Some(e) = self.license_expression.as_deref().filter(|e| !e.is_empty()) {
            return vec![e.to_string()];
        }
        self.license
            .as_deref()
            .map(str::trim)
            .filter(|l| {
                !l.is_empty()
                    && l.len() <= MAX_LICENSE_LEN
                    && !l.contains('\n')
                    && !l.eq_ignore_ascii_case("UNKNOWN")
            })
            .map(|l| vec![l.to_string()])
            .unwrap_or_default()
    }
}

/// PEP 503 normalisation: lowercase, and every run of `-`, `_` and `.`
/// becomes one `-`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_run = false;
        }
    }
    out
}

/// Whether `name` is a valid distribution name (PEP 508: ASCII letters and
/// digits, with `.`, `_` and `-` inside).
pub fn is_valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    let edge_ok = |c: Option<&u8>| c.is_some_and(u8::is_ascii_alphanumeric);
    name.len() <= MAX_TOKEN_LEN
        && edge_ok(b.first())
        && edge_ok(b.last())
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

fn is_valid_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= MAX_TOKEN_LEN
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Which header a line sets, among those kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Name,
    Version,
    License,
    LicenseExpression,
}

impl Field {
    fn of(key: &str) -> Option<Field> {
        let key = key.trim_end();
        [
            ("name", Field::Name),
            ("version", Field::Version),
            ("license", Field::License),
            ("license-expression", Field::LicenseExpression),
        ]
        .into_iter()
        .find(|(k, _)| key.eq_ignore_ascii_case(k))
        .map(|(_, f)| f)
    }
}

#[derive(Default)]
struct Headers {
    name: Option<String>,
    version: Option<String>,
    license: Option<String>,
    license_expression: Option<String>,
}

impl Headers {
    fn slot(&mut self, f: Field) -> &mut Option<String> {
        match f {
            Field::Name => &mut self.name,
            Field::Version => &mut self.version,
            Field::License => &mut self.license,
            Field::LicenseExpression => &mut self.license_expression,
        }
    }
}

/// Parse the headers of a core metadata file (`METADATA`, `PKG-INFO`).
/// Never panics; reads at most [`MAX_HEADER_LINES`] lines. When a header
/// appears twice the first one counts, as with Python's `email` parser.
pub fn parse_metadata(data: &[u8]) -> Result<Metadata, MetadataError> {
    let mut headers = Headers::default();
    // The header being continued, if it is one we keep and it was set by
    // the line that started it.
    let mut current: Option<Field> = None;
    for raw in data.split(|&b| b == b'\n').take(MAX_HEADER_LINES) {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() {
            break;
        }
        let line = String::from_utf8_lossy(raw);
        if line.starts_with([' ', '\t']) {
            if let Some(f) = current {
                if let Some(v) = headers.slot(f).as_mut() {
                    if v.len().saturating_add(line.len()) < MAX_VALUE_LEN {
                        v.push('\n');
                        v.push_str(line.trim());
                    }
                }
            }
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            // Not a header: the body starts here.
            break;
        };
        current = None;
        if let Some(f) = Field::of(key) {
            let slot = headers.slot(f);
            if slot.is_none() {
                let mut v = value.trim().to_string();
                v.truncate(floor_char_boundary(&v, MAX_VALUE_LEN));
                *slot = Some(v);
                current = Some(f);
            }
        }
    }
    let name = headers
        .name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .ok_or(MetadataError::MissingField("Name"))?;
    if !is_valid_name(&name) {
        return Err(MetadataError::InvalidName(preview(&name)));
    }
    let version = headers
        .version
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .ok_or(MetadataError::MissingField("Version"))?;
    if !is_valid_version(&version) {
        return Err(MetadataError::InvalidVersion(preview(&version)));
    }
    let trimmed = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    Ok(Metadata {
        name,
        version,
        license_expression: trimmed(headers.license_expression),
        license: trimmed(headers.license),
    })
}

/// The largest index `<= max` that is a char boundary of `s`.
fn floor_char_boundary(s: &str, max: usize) -> usize {
    if max >= s.len() {
        return s.len();
    }
    (0..=max)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}

/// At most 64 characters of `s`, for messages.
fn preview(s: &str) -> String {
    if s.chars().count() <= 64 {
        s.to_string()
    } else {
        s.chars().take(64).collect::<String>() + "…"
    }
}

/// Build the package for a parsed metadata file.
pub fn to_package(meta: &Metadata, file: FileRef<'_>) -> Result<Package, String> {
    let name = meta.normalized_name();
    let purl = PackageUrl::new("pypi", &name)
        .map(|p| p.with_version(&meta.version))
        .map_err(|e| format!("distribution {name}: {e}"))?;
    Ok(language_package(
        file,
        Ecosystem::PYPI,
        name,
        meta.version.clone(),
        &purl,
        meta.licenses(),
    ))
}

/// Reads installed Python distributions.
#[derive(Debug, Clone, Copy, Default)]
pub struct PythonCataloger;

impl Cataloger for PythonCataloger {
    fn name(&self) -> &'static str {
        "python"
    }

    fn wants(&self, path: &str) -> bool {
        path.ends_with(".dist-info/METADATA")
            || path.ends_with(".egg-info/PKG-INFO")
            || path.ends_with(".egg-info")
            || path.ends_with(".egg/EGG-INFO/PKG-INFO")
    }

    fn catalog(&self, ctx: &CatalogContext<'_>, out: &mut CatalogOutput) {
        let before = out.packages.len();
        let mut candidates: Vec<(MetadataKind, FileRef<'_>)> = ctx
            .fs
            .files()
            .filter_map(|f| MetadataKind::of(f.path).map(|k| (k, f)))
            .collect();
        // dist-info first, so it wins over an egg-info of the same release.
        candidates.sort_by_key(|(k, _)| *k);
        let mut seen: HashSet<(String, String, String)> = HashSet::new();
        let mut warnings = 0usize;
        for (kind, file) in candidates {
            if seen.len() >= MAX_DISTRIBUTIONS {
                out.warnings.push(warning(
                    file.path,
                    format!("more than {MAX_DISTRIBUTIONS} Python distributions; the rest were not read"),
                ));
                break;
            }
            let mut warn = |msg: String| {
                warnings = warnings.saturating_add(1);
                if warnings <= MAX_WARNINGS {
                    out.warnings.push(warning(file.path, msg));
                }
            };
            let meta = match parse_metadata(file.data) {
                Ok(m) => m,
                Err(e) => {
                    warn(format!("unparseable Python metadata: {e}"));
                    continue;
                }
            };
            let dir = kind.install_dir(file.path);
            let dir = ctx.fs.resolve(dir).unwrap_or_else(|| dir.to_string());
            if !seen.insert((dir, meta.normalized_name(), meta.version.clone())) {
                continue;
            }
            match to_package(&meta, file) {
                Ok(p) => out.packages.push(p),
                Err(msg) => warn(msg),
            }
        }
        tracing::debug!(
            packages = out.packages.len().saturating_sub(before),
            "python catalogued"
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

    /// The METADATA of the requests 2.19.1 wheel (description shortened).
    const REQUESTS_2_19_1: &str = "\
Metadata-Version: 2.1
Name: requests
Version: 2.19.1
Summary: Python HTTP for Humans.
Home-page: http://python-requests.org
Author: Kenneth Reitz
Author-email: me@kennethreitz.org
License: Apache 2.0
Platform: UNKNOWN
Classifier: Development Status :: 5 - Production/Stable
Classifier: Intended Audience :: Developers
Classifier: Natural Language :: English
Classifier: License :: OSI Approved :: Apache Software License
Classifier: Programming Language :: Python
Classifier: Programming Language :: Python :: 2.7
Classifier: Programming Language :: Python :: 3.6
Classifier: Programming Language :: Python :: Implementation :: CPython
Classifier: Programming Language :: Python :: Implementation :: PyPy
Requires-Python: >=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*
Provides-Extra: security
Provides-Extra: socks
Requires-Dist: chardet (<3.1.0,>=3.0.2)
Requires-Dist: idna (<2.8,>=2.5)
Requires-Dist: urllib3 (<1.24,>=1.21.1)
Requires-Dist: certifi (>=2017.4.17)
Requires-Dist: pyOpenSSL (>=0.14); extra == 'security'
Requires-Dist: cryptography (>=1.3.4); extra == 'security'
Requires-Dist: idna (>=2.0.0); extra == 'security'
Requires-Dist: PySocks (!=1.5.7,>=1.5.6); extra == 'socks'

Requests: HTTP for Humans
=========================

Name: not-a-header
Version: 0.0.0
";

    /// The METADATA of urllib3 1.23, with its multi-line licence header
    /// shape from older setuptools.
    const URLLIB3_1_23: &str = "\
Metadata-Version: 2.1\r
Name: urllib3\r
Version: 1.23\r
Summary: HTTP library with thread-safe connection pooling, file post, and more.\r
Home-page: https://urllib3.readthedocs.io/\r
Author: Andrey Petrov\r
Author-email: andrey.petrov@shazow.net\r
License: MIT\r
Keywords: urllib httplib threadsafe filepost http https ssl pooling\r
Platform: UNKNOWN\r
Classifier: Environment :: Web Environment\r
Classifier: License :: OSI Approved :: MIT License\r
Requires-Python: >=2.6, !=3.0.*, !=3.1.*, !=3.2.*, <4\r
Provides-Extra: secure\r
Requires-Dist: pyOpenSSL (>=0.14); extra == 'secure'\r
\r
urllib3\r
=======\r
";

    /// A Metadata 2.4 file (PEP 639) as written by hatchling.
    const ATTRS_24: &str = "\
Metadata-Version: 2.4
Name: attrs
Version: 24.2.0
Summary: Classes Without Boilerplate
Project-URL: Documentation, https://www.attrs.org/
Author-email: Hynek Schlawack <hs@ox.cx>
License-Expression: MIT
License-File: LICENSE
Classifier: Programming Language :: Python :: 3.8
Requires-Python: >=3.8
Description-Content-Type: text/markdown

attrs
";

    /// A Debian `python3-*` egg-info file (PKG-INFO 1.1, licence text in
    /// the `License` header).
    const SIX_EGG_INFO: &str = "\
Metadata-Version: 1.2
Name: six
Version: 1.16.0
Summary: Python 2 and 3 compatibility utilities
Home-page: https://github.com/benjaminp/six
Author: Benjamin Peterson
Author-email: benjamin@python.org
License: Copyright (c) 2010-2020 Benjamin Peterson
        
        Permission is hereby granted, free of charge, to any person obtaining a copy
        of this software and associated documentation files.
Description: .. image:: https://img.shields.io/pypi/v/six.svg
        
        Six is a Python 2 and 3 compatibility library.
Platform: UNKNOWN
Requires-Python: >=2.7, !=3.0.*, !=3.1.*, !=3.2.*
";

    fn run(fs: &FsView) -> CatalogOutput {
        let mut out = CatalogOutput::default();
        PythonCataloger.catalog(&CatalogContext { fs, os: None }, &mut out);
        out
    }

    fn rows(out: &CatalogOutput) -> Vec<(&str, &str, &str)> {
        out.packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.path.as_str()))
            .collect()
    }

    #[test]
    fn parses_real_metadata() {
        let m = parse_metadata(REQUESTS_2_19_1.as_bytes()).unwrap();
        assert_eq!(
            m,
            Metadata {
                name: "requests".into(),
                version: "2.19.1".into(),
                license_expression: None,
                license: Some("Apache 2.0".into()),
            }
        );
        assert_eq!(m.licenses(), ["Apache 2.0"]);

        let m = parse_metadata(URLLIB3_1_23.as_bytes()).unwrap();
        assert_eq!((m.name.as_str(), m.version.as_str()), ("urllib3", "1.23"));
        assert_eq!(m.licenses(), ["MIT"]);

        let m = parse_metadata(ATTRS_24.as_bytes()).unwrap();
        assert_eq!(m.licenses(), ["MIT"]);
        assert_eq!(m.license, None);

        // A licence text is not a licence identifier.
        let m = parse_metadata(SIX_EGG_INFO.as_bytes()).unwrap();
        assert_eq!((m.name.as_str(), m.version.as_str()), ("six", "1.16.0"));
        assert!(m
            .license
            .as_deref()
            .unwrap()
            .contains("Permission is hereby"));
        assert!(m.licenses().is_empty());
    }

    #[test]
    fn first_header_wins_and_keys_are_case_insensitive() {
        let m = parse_metadata(b"name: Foo\nVERSION: 1.0\nName: bar\nlicense: UNKNOWN\n").unwrap();
        assert_eq!((m.name.as_str(), m.version.as_str()), ("Foo", "1.0"));
        assert!(m.licenses().is_empty());
    }

    #[test]
    fn pep_503_normalisation() {
        for (raw, want) in [
            ("Django", "django"),
            ("zope.interface", "zope-interface"),
            ("typing_extensions", "typing-extensions"),
            ("Foo__Bar.-baz", "foo-bar-baz"),
            ("PyYAML", "pyyaml"),
            ("ruamel.yaml.clib", "ruamel-yaml-clib"),
        ] {
            assert_eq!(normalize_name(raw), want, "{raw}");
        }
        assert!(is_valid_name("a"));
        assert!(is_valid_name("zope.interface"));
        assert!(!is_valid_name("-a"));
        assert!(!is_valid_name("a_"));
        assert!(!is_valid_name("two words"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("caf\u{e9}"));
    }

    #[test]
    fn malformed_metadata() {
        assert_eq!(
            parse_metadata(b""),
            Err(MetadataError::MissingField("Name"))
        );
        assert_eq!(
            parse_metadata(b"Name: x\n"),
            Err(MetadataError::MissingField("Version"))
        );
        // The headers end at the first non-header line.
        assert_eq!(
            parse_metadata(b"Metadata-Version: 2.1\nnonsense\nName: x\nVersion: 1\n"),
            Err(MetadataError::MissingField("Name"))
        );
        assert_eq!(
            parse_metadata(b"Name: two words\nVersion: 1\n"),
            Err(MetadataError::InvalidName("two words".into()))
        );
        assert_eq!(
            parse_metadata(b"Name: x\nVersion: 1.0\n\tcontinued\n"),
            Err(MetadataError::InvalidVersion("1.0\ncontinued".into()))
        );
        assert_eq!(
            parse_metadata(b"Name: \xff\xfe\nVersion: 1\n"),
            Err(MetadataError::InvalidName("\u{fffd}\u{fffd}".into()))
        );
        for data in [
            &b":"[..],
            b"\n\n",
            b" \n",
            b"Name:",
            b"Name:\r\nVersion:\r\n",
            b"\xff:\xff",
            b"Name: a\nVersion: 1\n \xf0\x9f",
        ] {
            let _ = parse_metadata(data);
        }
        // Huge inputs are bounded.
        let mut big = "X-Filler: y\n".repeat(MAX_HEADER_LINES);
        big.push_str("Name: late\nVersion: 1\n");
        assert_eq!(
            parse_metadata(big.as_bytes()),
            Err(MetadataError::MissingField("Name"))
        );
        let long = format!("Name: a\nVersion: 1\nLicense: {}\n", "x".repeat(200_000));
        let m = parse_metadata(long.as_bytes()).unwrap();
        assert!(m.license.unwrap().len() <= MAX_VALUE_LEN);
    }

    #[test]
    fn kinds_and_wants() {
        for (path, kind) in [
            (
                "usr/lib/python3/dist-packages/idna-3.3.dist-info/METADATA",
                Some(MetadataKind::DistInfo),
            ),
            (
                "app/deps/requests-2.19.1.dist-info/METADATA",
                Some(MetadataKind::DistInfo),
            ),
            (
                "usr/lib/python3/dist-packages/six-1.16.0.egg-info",
                Some(MetadataKind::EggInfoFile),
            ),
            (
                "src/proj/proj.egg-info/PKG-INFO",
                Some(MetadataKind::EggInfoDir),
            ),
            (
                "usr/lib/python2.7/site-packages/foo-1.0-py2.7.egg/EGG-INFO/PKG-INFO",
                Some(MetadataKind::Egg),
            ),
            ("x.dist-info/RECORD", None),
            (".dist-info/METADATA", None),
            ("a/.egg-info", None),
            ("sdist/foo-1.0/PKG-INFO", None),
            ("METADATA", None),
        ] {
            assert_eq!(MetadataKind::of(path), kind, "{path}");
            if kind.is_some() {
                assert!(PythonCataloger.wants(path), "{path}");
            }
        }
        assert!(!PythonCataloger.wants("usr/lib/python3/dist-packages/idna/__init__.py"));
        assert!(!PythonCataloger.wants("usr/lib/python3/dist-packages/idna-3.3.dist-info/RECORD"));
        assert_eq!(
            MetadataKind::Egg.install_dir("s/foo-1.0-py2.7.egg/EGG-INFO/PKG-INFO"),
            "s"
        );
        assert_eq!(MetadataKind::EggInfoFile.install_dir("six.egg-info"), "");
    }

    #[test]
    fn catalogs_distributions_everywhere() {
        let fs = FsView::from_files([
            (
                "usr/lib/python3/dist-packages/six-1.16.0.egg-info",
                SIX_EGG_INFO,
            ),
            (
                "usr/local/lib/python3.11/site-packages/urllib3-1.23.dist-info/METADATA",
                URLLIB3_1_23,
            ),
            (
                "app/deps/requests-2.19.1.dist-info/METADATA",
                REQUESTS_2_19_1,
            ),
            // The same release in a second directory is a second package.
            (
                "opt/venv/lib/python3.11/site-packages/requests-2.19.1.dist-info/METADATA",
                REQUESTS_2_19_1,
            ),
            (
                "opt/venv/lib/python3.11/site-packages/broken.dist-info/METADATA",
                "Metadata-Version: 2.1\nSummary: no name\n",
            ),
        ]);
        let out = run(&fs);
        assert_eq!(
            rows(&out),
            [
                (
                    "requests",
                    "2.19.1",
                    "app/deps/requests-2.19.1.dist-info/METADATA"
                ),
                (
                    "requests",
                    "2.19.1",
                    "opt/venv/lib/python3.11/site-packages/requests-2.19.1.dist-info/METADATA"
                ),
                (
                    "urllib3",
                    "1.23",
                    "usr/local/lib/python3.11/site-packages/urllib3-1.23.dist-info/METADATA"
                ),
                (
                    "six",
                    "1.16.0",
                    "usr/lib/python3/dist-packages/six-1.16.0.egg-info"
                ),
            ]
        );
        let p = &out.packages[0];
        assert_eq!(p.purl, "pkg:pypi/requests@2.19.1");
        assert_eq!(p.ecosystem.as_str(), "PyPI");
        assert_eq!(p.licenses, ["Apache 2.0"]);
        assert!(p.layer.is_none() && p.source.is_none() && p.arch.is_none());
        assert_eq!(out.warnings.len(), 1);
        assert_eq!(
            out.warnings[0].location,
            "opt/venv/lib/python3.11/site-packages/broken.dist-info/METADATA"
        );
        assert!(out.warnings[0].message.contains("no Name header"));
    }

    #[test]
    fn purl_uses_the_normalised_name() {
        let fs = FsView::from_files([(
            "site-packages/Zope.Interface-6.0.dist-info/METADATA",
            "Name: zope.interface\nVersion: 6.0\n",
        )]);
        let out = run(&fs);
        assert_eq!(out.packages[0].name.as_str(), "zope-interface");
        assert_eq!(out.packages[0].purl, "pkg:pypi/zope-interface@6.0");
    }

    #[test]
    fn one_directory_reached_twice_is_one_package() {
        // A venv's `lib64 -> lib`: a layer wrote files through the link.
        let meta = "Name: urllib3\nVersion: 1.23\n";
        let mut fs = FsView::from_files([
            (
                "venv/lib/python3.11/site-packages/urllib3-1.23.dist-info/METADATA",
                meta,
            ),
            (
                "venv/lib64/python3.11/site-packages/urllib3-1.23.dist-info/METADATA",
                meta,
            ),
            // dist-info and egg-info of one release in one directory.
            (
                "venv/lib/python3.11/site-packages/Six-1.16.0-py3.11.egg-info/PKG-INFO",
                SIX_EGG_INFO,
            ),
            (
                "venv/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA",
                SIX_EGG_INFO,
            ),
        ]);
        fs.insert_symlink("venv/lib64".into(), "lib".into(), None);
        let out = run(&fs);
        assert_eq!(
            rows(&out),
            [
                (
                    "six",
                    "1.16.0",
                    "venv/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA"
                ),
                (
                    "urllib3",
                    "1.23",
                    "venv/lib/python3.11/site-packages/urllib3-1.23.dist-info/METADATA"
                ),
            ]
        );
        assert!(out.warnings.is_empty());
    }
}
