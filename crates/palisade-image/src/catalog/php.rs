//! PHP packages installed by Composer, from `vendor/composer/installed.json`.
//!
//! Composer 1 writes the file as a JSON array of packages; Composer 2 as
//! `{"packages": [...], "dev": …, "dev-package-names": [...]}`. Both are
//! read (any `…/composer/installed.json`, since the vendor directory can be
//! renamed). Each package's `name` is `vendor/package`; its `version` is
//! reported without a leading `v` (`v6.4.1` → `6.4.1`), the form Packagist
//! advisories use. Development packages are reported too: they are
//! installed in the image all the same.

use std::collections::HashSet;

use palisade_model::{Ecosystem, Package};
use serde::Deserialize;
use serde_json::Value;

use super::{add_parsed, language_package, CatalogContext, CatalogOutput, Cataloger};
use crate::fs::FileRef;
use crate::purl::PackageUrl;

/// Most packages read from one file.
pub const MAX_PACKAGES: usize = 100_000;
/// Longest name or version accepted.
const MAX_TOKEN_LEN: usize = 256;
/// Most licences kept per package.
const MAX_LICENSES: usize = 16;

/// A problem with the file or one of its packages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InstalledJsonError {
    #[error("not a Composer installed.json: {0}")]
    Json(String),
    #[error("package #{index}: missing or non-string {field}")]
    MissingField { index: usize, field: &'static str },
    #[error("package #{index}: {field} {value:?} is not valid")]
    InvalidValue {
        index: usize,
        field: &'static str,
        value: String,
    },
    #[error("more than {MAX_PACKAGES} packages; the rest were not read")]
    TooManyPackages,
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposerPackage {
    /// `vendor/package`.
    pub name: String,
    /// Without a leading `v`.
    pub version: String,
    pub licenses: Vec<String>,
}

/// A parsed installed.json.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedInstalled {
    pub packages: Vec<ComposerPackage>,
    pub errors: Vec<InstalledJsonError>,
}

/// Only the fields read; everything else is skipped by the parser.
#[derive(Deserialize)]
struct RawPackage {
    #[serde(default)]
    name: Option<Value>,
    #[serde(default)]
    version: Option<Value>,
    #[serde(default)]
    license: Option<Value>,
}

#[derive(Deserialize)]
struct V2 {
    #[serde(default)]
    packages: Vec<RawPackage>,
}

/// Whether `path` is Composer's record of installed packages.
pub fn is_installed_json(path: &str) -> bool {
    path == "composer/installed.json" || path.ends_with("/composer/installed.json")
}

/// `v1.2.3` → `1.2.3`; other versions (`dev-main`, `1.2.3`) unchanged.
pub fn normalize_version(v: &str) -> &str {
    match v.strip_prefix(['v', 'V']) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
        _ => v,
    }
}

fn valid_name(name: &str) -> bool {
    let Some((vendor, package)) = name.split_once('/') else {
        return false;
    };
    let part = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    name.len() <= MAX_TOKEN_LEN && part(vendor) && part(package)
}

fn build(index: usize, raw: RawPackage) -> Result<ComposerPackage, InstalledJsonError> {
    let Some(Value::String(name)) = raw.name else {
        return Err(InstalledJsonError::MissingField {
            index,
            field: "name",
        });
    };
    let Some(Value::String(version)) = raw.version else {
        return Err(InstalledJsonError::MissingField {
            index,
            field: "version",
        });
    };
    if !valid_name(&name) {
        return Err(InstalledJsonError::InvalidValue {
            index,
            field: "name",
            value: name.chars().take(64).collect(),
        });
    }
    let version = normalize_version(&version).to_string();
    if version.is_empty()
        || version.len() > MAX_TOKEN_LEN
        || version.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(InstalledJsonError::InvalidValue {
            index,
            field: "version",
            value: version.chars().take(64).collect(),
        });
    }
    let licenses = match raw.license {
        Some(Value::String(s)) => vec![s],
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|l| !l.is_empty() && l.len() <= MAX_TOKEN_LEN)
    .take(MAX_LICENSES)
    .collect();
    Ok(ComposerPackage {
        name,
        version,
        licenses,
    })
}

/// Parse an installed.json of either format. Never panics.
pub fn parse_installed_json(data: &[u8]) -> ParsedInstalled {
    let mut out = ParsedInstalled::default();
    let first = data.iter().find(|b| !b.is_ascii_whitespace());
    let raw: Result<Vec<RawPackage>, serde_json::Error> = match first {
        Some(b'[') => serde_json::from_slice(data),
        _ => serde_json::from_slice::<V2>(data).map(|v| v.packages),
    };
    let raw = match raw {
        Ok(r) => r,
        Err(e) => {
            out.errors.push(InstalledJsonError::Json(e.to_string()));
            return out;
        }
    };
    for (index, p) in raw.into_iter().enumerate() {
        if index >= MAX_PACKAGES {
            out.errors.push(InstalledJsonError::TooManyPackages);
            break;
        }
        match build(index, p) {
            Ok(p) => out.packages.push(p),
            Err(e) => out.errors.push(e),
        }
    }
    out
}

fn to_package(p: &ComposerPackage, file: FileRef<'_>) -> Result<Package, String> {
    let (vendor, name) = p.name.split_once('/').unwrap_or(("", p.name.as_str()));
    let purl = PackageUrl::new("composer", name)
        .map_err(|e| format!("package {}: {e}", p.name))?
        .with_namespace(vendor)
        .with_version(&p.version);
    Ok(language_package(
        file,
        Ecosystem::PACKAGIST,
        p.name.clone(),
        p.version.clone(),
        &purl,
        p.licenses.clone(),
    ))
}

/// Composer's installed packages.
#[derive(Debug, Clone, Copy, Default)]
pub struct PhpCataloger;

impl Cataloger for PhpCataloger {
    fn name(&self) -> &'static str {
        "php"
    }

    fn wants(&self, path: &str) -> bool {
        is_installed_json(path)
    }

    fn catalog(&self, ctx: &CatalogContext<'_>, out: &mut CatalogOutput) {
        let before = out.packages.len();
        for file in ctx.fs.files().filter(|f| is_installed_json(f.path)) {
            let parsed = parse_installed_json(file.data);
            add_parsed(
                out,
                file,
                parsed.errors,
                &parsed.packages,
                &mut HashSet::new(),
                |&p| (p.name.as_str(), p.version.as_str()),
                |p| to_package(p, file),
            );
        }
        tracing::debug!(
            packages = out.packages.len().saturating_sub(before),
            "Composer packages catalogued"
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

    /// Trimmed from a Composer 2.6 installation.
    const V2: &str = r#"{
    "packages": [
        {
            "name": "monolog/monolog",
            "version": "3.5.0",
            "version_normalized": "3.5.0.0",
            "source": {"type": "git", "url": "https://github.com/Seldaek/monolog.git", "reference": "c915e2634718dbc8a4a15c61b0e62e7a44e14448"},
            "require": {"php": ">=8.1", "psr/log": "^2.0 || ^3.0"},
            "type": "library",
            "license": ["MIT"],
            "install-path": "../monolog/monolog"
        },
        {
            "name": "symfony/console",
            "version": "v6.4.1",
            "version_normalized": "6.4.1.0",
            "type": "library",
            "license": "MIT"
        },
        {
            "name": "Psr/Log",
            "version": "dev-main",
            "type": "library"
        }
    ],
    "dev": true,
    "dev-package-names": []
}"#;

    const V1: &str = r#"[
    {"name": "guzzlehttp/guzzle", "version": "6.5.5", "version_normalized": "6.5.5.0", "license": ["MIT"]},
    {"name": "laravel/framework", "version": "v5.8.38"}
]"#;

    fn run(files: &[(&str, &str)]) -> CatalogOutput {
        let fs = FsView::from_files(files.iter().copied());
        let mut out = CatalogOutput::default();
        PhpCataloger.catalog(&CatalogContext { fs: &fs, os: None }, &mut out);
        out
    }

    fn rows(out: &CatalogOutput) -> Vec<(String, String, String)> {
        out.packages
            .iter()
            .map(|p| (p.name.to_string(), p.version.to_string(), p.purl.clone()))
            .collect()
    }

    fn r(a: &str, b: &str, c: &str) -> (String, String, String) {
        (a.into(), b.into(), c.into())
    }

    #[test]
    fn both_formats() {
        let out = run(&[
            ("var/www/vendor/composer/installed.json", V2),
            ("srv/old/vendor/composer/installed.json", V1),
        ]);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(
            rows(&out),
            [
                r(
                    "guzzlehttp/guzzle",
                    "6.5.5",
                    "pkg:composer/guzzlehttp/guzzle@6.5.5"
                ),
                r(
                    "laravel/framework",
                    "5.8.38",
                    "pkg:composer/laravel/framework@5.8.38"
                ),
                r(
                    "monolog/monolog",
                    "3.5.0",
                    "pkg:composer/monolog/monolog@3.5.0"
                ),
                r(
                    "symfony/console",
                    "6.4.1",
                    "pkg:composer/symfony/console@6.4.1"
                ),
                r("Psr/Log", "dev-main", "pkg:composer/psr/log@dev-main"),
            ]
        );
        assert_eq!(out.packages[2].licenses, ["MIT"]);
        assert_eq!(out.packages[3].licenses, ["MIT"]);
        assert_eq!(out.packages[2].ecosystem.as_str(), "Packagist");
    }

    #[test]
    fn versions() {
        assert_eq!(normalize_version("v1.2.3"), "1.2.3");
        assert_eq!(normalize_version("V2"), "2");
        assert_eq!(normalize_version("vx"), "vx");
        assert_eq!(normalize_version("v"), "v");
        assert_eq!(normalize_version("1.0"), "1.0");
    }

    #[test]
    fn malformed_files_and_packages() {
        let p = parse_installed_json(b"{\"packages\": 3}");
        assert!(matches!(p.errors[..], [InstalledJsonError::Json(_)]));
        assert!(!parse_installed_json(b"").errors.is_empty());
        assert!(!parse_installed_json(&b"[".repeat(10_000)).errors.is_empty());
        let p = parse_installed_json(
            br#"[{"version": "1"}, {"name": "a/b", "version": 1}, {"name": "nope", "version": "1"}, {"name": "a/b", "version": "1 2"}, {"name": "c/d", "version": "v1", "license": [1, "BSD-3-Clause"]}]"#,
        );
        assert_eq!(
            p.errors,
            [
                InstalledJsonError::MissingField {
                    index: 0,
                    field: "name"
                },
                InstalledJsonError::MissingField {
                    index: 1,
                    field: "version"
                },
                InstalledJsonError::InvalidValue {
                    index: 2,
                    field: "name",
                    value: "nope".into()
                },
                InstalledJsonError::InvalidValue {
                    index: 3,
                    field: "version",
                    value: "1 2".into()
                },
            ]
        );
        assert_eq!(p.packages.len(), 1);
        assert_eq!(p.packages[0].licenses, ["BSD-3-Clause"]);
        assert!(is_installed_json("vendor/composer/installed.json"));
        assert!(!is_installed_json("vendor/composer/installed.php"));
    }
}
