//! .NET dependencies, from the `*.deps.json` file the SDK writes next to
//! every application and library it publishes.
//!
//! The `libraries` object maps `"Name/Version"` to a record whose `type`
//! says what it is: `package` (a NuGet package, reported), `project` and
//! `reference` (the application's own projects and assemblies, skipped),
//! and `runtimepack` (the .NET runtime bundled into a self-contained app,
//! keyed `runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.0`). A
//! runtime pack is reported under its NuGet package name without the
//! `runtimepack.` prefix, because advisories for the .NET runtime name
//! those packages.

use std::collections::{BTreeMap, HashSet};

use palisade_model::{Ecosystem, Package};
use serde::Deserialize;
use serde_json::Value;

use super::{add_parsed, language_package, CatalogContext, CatalogOutput, Cataloger};
use crate::fs::FileRef;
use crate::purl::PackageUrl;

/// Most libraries read from one file.
pub const MAX_LIBRARIES: usize = 100_000;
/// Longest name or version accepted.
const MAX_TOKEN_LEN: usize = 256;

/// A problem with the file or one of its libraries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DepsJsonError {
    #[error("not a .deps.json file: {0}")]
    Json(String),
    #[error("library {key:?}: not a valid \"Name/Version\" key")]
    InvalidKey { key: String },
    #[error("more than {MAX_LIBRARIES} libraries; the rest were not read")]
    TooManyLibraries,
}

/// One NuGet package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NugetPackage {
    pub name: String,
    pub version: String,
}

/// A parsed deps.json.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedDeps {
    pub packages: Vec<NugetPackage>,
    pub errors: Vec<DepsJsonError>,
}

#[derive(Deserialize)]
struct DepsJson {
    #[serde(default)]
    libraries: BTreeMap<String, Library>,
}

#[derive(Deserialize)]
struct Library {
    #[serde(default, rename = "type")]
    kind: Option<Value>,
}

/// Whether `path` is a `.deps.json` file.
pub fn is_deps_json(path: &str) -> bool {
    path.ends_with(".deps.json")
}

fn valid(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_TOKEN_LEN
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/')
}

/// Parse a deps.json. Never panics.
pub fn parse_deps_json(data: &[u8]) -> ParsedDeps {
    let mut out = ParsedDeps::default();
    let deps: DepsJson = match serde_json::from_slice(data) {
        Ok(d) => d,
        Err(e) => {
            out.errors.push(DepsJsonError::Json(e.to_string()));
            return out;
        }
    };
    for (i, (key, lib)) in deps.libraries.into_iter().enumerate() {
        if i >= MAX_LIBRARIES {
            out.errors.push(DepsJsonError::TooManyLibraries);
            break;
        }
        let kind = match &lib.kind {
            Some(Value::String(k)) => k.as_str(),
            _ => continue,
        };
        let key_name = match kind {
            "package" => key.as_str(),
            "runtimepack" => key.strip_prefix("runtimepack.").unwrap_or(&key),
            _ => continue,
        };
        match key_name.split_once('/') {
            Some((name, version)) if valid(name) && valid(version) => {
                out.packages.push(NugetPackage {
                    name: name.to_string(),
                    version: version.to_string(),
                })
            }
            _ => out.errors.push(DepsJsonError::InvalidKey {
                key: key.chars().take(64).collect(),
            }),
        }
    }
    out
}

fn to_package(p: &NugetPackage, file: FileRef<'_>) -> Result<Package, String> {
    let purl = PackageUrl::new("nuget", &p.name)
        .map_err(|e| format!("package {}: {e}", p.name))?
        .with_version(&p.version);
    Ok(language_package(
        file,
        Ecosystem::NUGET,
        p.name.clone(),
        p.version.clone(),
        &purl,
        Vec::new(),
    ))
}

/// .NET applications' dependency manifests.
#[derive(Debug, Clone, Copy, Default)]
pub struct DotnetCataloger;

impl Cataloger for DotnetCataloger {
    fn name(&self) -> &'static str {
        "dotnet"
    }

    fn wants(&self, path: &str) -> bool {
        is_deps_json(path)
    }

    fn catalog(&self, ctx: &CatalogContext<'_>, out: &mut CatalogOutput) {
        let before = out.packages.len();
        for file in ctx.fs.files().filter(|f| is_deps_json(f.path)) {
            let parsed = parse_deps_json(file.data);
            add_parsed(
                out,
                file,
                parsed.errors,
                &parsed.packages,
                &mut HashSet::new(),
                |&p| (p.name.to_ascii_lowercase(), p.version.as_str()),
                |p| to_package(p, file),
            );
        }
        tracing::debug!(
            packages = out.packages.len().saturating_sub(before),
            ".NET packages catalogued"
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

    /// As `dotnet publish --self-contained -r linux-x64` writes it (trimmed).
    const DEPS: &str = r#"{
  "runtimeTarget": {
    "name": ".NETCoreApp,Version=v8.0/linux-x64",
    "signature": ""
  },
  "compilationOptions": {},
  "targets": {
    ".NETCoreApp,Version=v8.0": {},
    ".NETCoreApp,Version=v8.0/linux-x64": {
      "WebApp/1.0.0": {
        "dependencies": {
          "Newtonsoft.Json": "13.0.1",
          "Shared": "1.0.0"
        },
        "runtime": {"WebApp.dll": {}}
      },
      "Newtonsoft.Json/13.0.1": {
        "runtime": {"lib/net6.0/Newtonsoft.Json.dll": {"assemblyVersion": "13.0.0.0", "fileVersion": "13.0.1.25517"}}
      }
    }
  },
  "libraries": {
    "WebApp/1.0.0": {"type": "project", "serviceable": false, "sha512": ""},
    "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.0": {"type": "runtimepack", "serviceable": false, "sha512": ""},
    "Newtonsoft.Json/13.0.1": {
      "type": "package",
      "serviceable": true,
      "sha512": "sha512-ppPFpBcvxdsfUonNcvITKqLl3bqxWbDCZIzDWHzjpdAHRFfZe0Dw9HmA0+za13IdyrgJwpkDTDA9fHaxOrt20A==",
      "path": "newtonsoft.json/13.0.1",
      "hashPath": "newtonsoft.json.13.0.1.nupkg.sha512"
    },
    "System.Text.Json/8.0.0": {"type": "package"},
    "Shared/1.0.0": {"type": "project"}
  }
}"#;

    fn run(files: &[(&str, &str)]) -> CatalogOutput {
        let fs = FsView::from_files(files.iter().copied());
        let mut out = CatalogOutput::default();
        DotnetCataloger.catalog(&CatalogContext { fs: &fs, os: None }, &mut out);
        out
    }

    #[test]
    fn packages_and_runtime_pack() {
        let out = run(&[("app/WebApp.deps.json", DEPS)]);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        let got: Vec<(&str, &str, &str)> = out
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.purl.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "Newtonsoft.Json",
                    "13.0.1",
                    "pkg:nuget/Newtonsoft.Json@13.0.1"
                ),
                (
                    "System.Text.Json",
                    "8.0.0",
                    "pkg:nuget/System.Text.Json@8.0.0"
                ),
                (
                    "Microsoft.NETCore.App.Runtime.linux-x64",
                    "8.0.0",
                    "pkg:nuget/Microsoft.NETCore.App.Runtime.linux-x64@8.0.0"
                ),
            ]
        );
        assert!(out
            .packages
            .iter()
            .all(|p| p.ecosystem.as_str() == "NuGet" && p.path == "app/WebApp.deps.json"));
    }

    #[test]
    fn malformed() {
        assert!(matches!(
            parse_deps_json(b"nope").errors[..],
            [DepsJsonError::Json(_)]
        ));
        assert!(matches!(
            parse_deps_json(b"{\"libraries\": []}").errors[..],
            [DepsJsonError::Json(_)]
        ));
        assert_eq!(parse_deps_json(b"{}"), ParsedDeps::default());
        let p = parse_deps_json(
            br#"{"libraries": {"NoVersion": {"type": "package"}, "A/1/2": {"type": "package"}, "B/ 1": {"type": "package"}, "C/1": {"type": 5}, "D/2": {}, "E/3": {"type": "package"}}}"#,
        );
        assert_eq!(
            p.packages,
            [NugetPackage {
                name: "E".into(),
                version: "3".into()
            }]
        );
        assert_eq!(
            p.errors,
            [
                DepsJsonError::InvalidKey {
                    key: "A/1/2".into()
                },
                DepsJsonError::InvalidKey { key: "B/ 1".into() },
                DepsJsonError::InvalidKey {
                    key: "NoVersion".into()
                },
            ]
        );
        assert!(is_deps_json("app/x.deps.json"));
        assert!(!is_deps_json("app/x.runtimeconfig.json"));
    }
}
