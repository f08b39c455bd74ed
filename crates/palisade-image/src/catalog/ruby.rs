//! Installed Ruby gems, from the gemspecs RubyGems writes at install time.
//!
//! `gem install` and Bundler write one generated specification per gem to
//! `<gem home>/specifications/NAME-VERSION[-PLATFORM].gemspec` (default
//! gems shipped with Ruby: `specifications/default/`). They are Ruby code,
//! but generated code: each attribute is one line such as
//! `s.name = "rack".freeze` or `s.version = "3.0.8"`. This cataloger reads
//! those lines only — `name`, `version`, `platform` and `license(s)` — and
//! never evaluates anything. The `# stub: NAME VERSION PLATFORM PATHS`
//! first line, present since RubyGems 2.x, fills in a missing name or
//! version. Source gemspecs elsewhere (inside a gem's own directory, in an
//! application checkout) are hand-written code and are not read.

use std::collections::HashSet;

use palisade_model::{Ecosystem, Package};

use super::{language_package, warning, CatalogContext, CatalogOutput, Cataloger};
use crate::fs::FileRef;
use crate::purl::PackageUrl;

/// Bytes of a gemspec read.
pub const MAX_GEMSPEC_READ: usize = 256 * 1024;
/// Lines of a gemspec read.
const MAX_LINES: usize = 5000;
/// Longest name, version or platform accepted.
const MAX_TOKEN_LEN: usize = 256;
/// Most licences kept.
const MAX_LICENSES: usize = 16;

/// Why a gemspec gave no package.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GemspecError {
    #[error("no {0} assignment found")]
    Missing(&'static str),
    #[error("{field} {value:?} is not a valid token")]
    InvalidValue { field: &'static str, value: String },
}

/// What a generated gemspec says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gemspec {
    pub name: String,
    pub version: String,
    /// `None` for pure-Ruby gems (platform `ruby`).
    pub platform: Option<String>,
    pub licenses: Vec<String>,
}

/// Whether `path` is an installed gem's specification.
pub fn is_installed_gemspec(path: &str) -> bool {
    let Some((dir, file)) = path.rsplit_once('/') else {
        return false;
    };
    if !file.ends_with(".gemspec") {
        return false;
    }
    let dir = dir.strip_suffix("/default").unwrap_or(dir);
    dir == "specifications" || dir.ends_with("/specifications")
}

/// The quoted string literals on a line (`"…"` or `'…'`), unescaped
/// minimally.
fn quoted(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '#' {
            break;
        }
        if c != '"' && c != '\'' {
            continue;
        }
        let mut s = String::new();
        let mut closed = false;
        while let Some(d) = chars.next() {
            if d == '\\' {
                if let Some(e) = chars.next() {
                    s.push(e);
                }
            } else if d == c {
                closed = true;
                break;
            } else {
                s.push(d);
            }
        }
        if !closed {
            break;
        }
        out.push(s);
    }
    out
}

/// `VAR.ATTR = VALUE` with a Ruby identifier `VAR`: (attr, value).
fn assignment(line: &str) -> Option<(&str, &str)> {
    let (var, rest) = line.split_once('.')?;
    if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let (attr, value) = rest.split_once('=')?;
    let attr = attr.trim();
    if value.starts_with('=') || !attr.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    Some((attr, value))
}

fn token(field: &'static str, s: String) -> Result<String, GemspecError> {
    if s.is_empty()
        || s.len() > MAX_TOKEN_LEN
        || s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/')
    {
        return Err(GemspecError::InvalidValue {
            field,
            value: s.chars().take(64).collect(),
        });
    }
    Ok(s)
}

/// Parse a generated gemspec. Reads at most [`MAX_GEMSPEC_READ`] bytes.
pub fn parse_gemspec(data: &[u8]) -> Result<Gemspec, GemspecError> {
    let head = data.get(..MAX_GEMSPEC_READ).unwrap_or(data);
    let text = String::from_utf8_lossy(head);
    let mut name = None;
    let mut version = None;
    let mut platform = None;
    let mut licenses = Vec::new();
    let mut stub: Option<(String, String)> = None;
    for (i, line) in text.lines().take(MAX_LINES).enumerate() {
        let line = line.trim();
        if i == 0 {
            if let Some(rest) = line.strip_prefix("# stub: ") {
                let mut parts = rest.split_whitespace();
                if let (Some(n), Some(v)) = (parts.next(), parts.next()) {
                    stub = Some((n.to_string(), v.to_string()));
                }
            }
        }
        let Some((attr, value)) = assignment(line) else {
            continue;
        };
        let first = || quoted(value).into_iter().next();
        match attr {
            "name" if name.is_none() => name = first(),
            "version" if version.is_none() => version = first(),
            "platform" if platform.is_none() => platform = first(),
            "license" | "licenses" => {
                for l in quoted(value) {
                    if licenses.len() < MAX_LICENSES
                        && !l.is_empty()
                        && l.len() <= MAX_TOKEN_LEN
                        && !licenses.contains(&l)
                    {
                        licenses.push(l);
                    }
                }
            }
            _ => {}
        }
    }
    let (stub_name, stub_version) = stub.unzip();
    let name = name.or(stub_name).ok_or(GemspecError::Missing("s.name"))?;
    let version = version
        .or(stub_version)
        .ok_or(GemspecError::Missing("s.version"))?;
    let platform = platform
        .filter(|p| p != "ruby" && !p.is_empty())
        .map(|p| token("platform", p))
        .transpose()?;
    Ok(Gemspec {
        name: token("name", name)?,
        version: token("version", version)?,
        platform,
        licenses,
    })
}

fn to_package(g: &Gemspec, file: FileRef<'_>) -> Result<Package, String> {
    let purl = PackageUrl::new("gem", &g.name)
        .and_then(|p| {
            p.with_version(&g.version)
                .with_optional_qualifier("platform", g.platform.as_deref())
        })
        .map_err(|e| format!("gem {}: {e}", g.name))?;
    Ok(language_package(
        file,
        Ecosystem::RUBYGEMS,
        g.name.clone(),
        g.version.clone(),
        &purl,
        g.licenses.clone(),
    ))
}

/// Installed gem specifications.
#[derive(Debug, Clone, Copy, Default)]
pub struct RubyCataloger;

impl Cataloger for RubyCataloger {
    fn name(&self) -> &'static str {
        "ruby"
    }

    fn wants(&self, path: &str) -> bool {
        is_installed_gemspec(path)
    }

    fn catalog(&self, ctx: &CatalogContext<'_>, out: &mut CatalogOutput) {
        let before = out.packages.len();
        let mut seen = HashSet::new();
        for file in ctx.fs.files().filter(|f| is_installed_gemspec(f.path)) {
            match parse_gemspec(file.data) {
                Ok(g) => {
                    if !seen.insert(file.path) {
                        continue;
                    }
                    match to_package(&g, file) {
                        Ok(p) => out.packages.push(p),
                        Err(e) => out.warnings.push(warning(file.path, e)),
                    }
                }
                Err(e) => out.warnings.push(warning(file.path, e.to_string())),
            }
        }
        tracing::debug!(
            packages = out.packages.len().saturating_sub(before),
            "Ruby gems catalogued"
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

    /// As RubyGems 3.4 writes it.
    const RACK: &str = r#"# -*- encoding: utf-8 -*-
# stub: rack 3.0.8 ruby lib

Gem::Specification.new do |s|
  s.name = "rack".freeze
  s.version = "3.0.8"

  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=
  s.metadata = { "bug_tracker_uri" => "https://github.com/rack/rack/issues", "changelog_uri" => "https://github.com/rack/rack/blob/main/CHANGELOG.md" } if s.respond_to? :metadata=
  s.require_paths = ["lib".freeze]
  s.authors = ["Leah Neukirchen".freeze]
  s.date = "2023-06-14"
  s.description = "Rack provides a minimal, modular and adaptable interface for developing\nweb applications in Ruby. s.name = \"evil\"\n".freeze
  s.email = "leah@vuxu.org".freeze
  s.homepage = "https://github.com/rack/rack".freeze
  s.licenses = ["MIT".freeze]
  s.required_ruby_version = Gem::Requirement.new(">= 2.4.0".freeze)
  s.rubygems_version = "3.4.10".freeze
  s.summary = "A modular Ruby webserver interface.".freeze

  s.installed_by_version = "3.4.10" if s.respond_to? :installed_by_version

  if s.respond_to? :specification_version then
    s.specification_version = 4
  end

  if s.respond_to? :add_runtime_dependency then
    s.add_development_dependency(%q<minitest>.freeze, ["~> 5.0"])
  end
end
"#;

    const NOKOGIRI: &str = "# -*- encoding: utf-8 -*-\n# stub: nokogiri 1.15.4 x86_64-linux lib\n\nGem::Specification.new do |s|\n  s.name = \"nokogiri\".freeze\n  s.version = \"1.15.4\"\n  s.platform = \"x86_64-linux\".freeze\n  s.licenses = [\"MIT\".freeze, 'Apache-2.0']\nend\n";

    fn run(files: &[(&str, &str)]) -> CatalogOutput {
        let fs = FsView::from_files(files.iter().copied());
        let mut out = CatalogOutput::default();
        RubyCataloger.catalog(&CatalogContext { fs: &fs, os: None }, &mut out);
        out
    }

    #[test]
    fn paths() {
        assert!(is_installed_gemspec(
            "usr/local/bundle/specifications/rack-3.0.8.gemspec"
        ));
        assert!(is_installed_gemspec(
            "usr/lib/ruby/gems/3.2.0/specifications/default/json-2.6.3.gemspec"
        ));
        assert!(is_installed_gemspec("specifications/a-1.gemspec"));
        assert!(!is_installed_gemspec(
            "usr/local/bundle/gems/rack-3.0.8/rack.gemspec"
        ));
        assert!(!is_installed_gemspec("app/myspecifications/a.gemspec"));
        assert!(!is_installed_gemspec("a.gemspec"));
    }

    #[test]
    fn generated_gemspecs() {
        let out = run(&[
            ("usr/local/bundle/specifications/rack-3.0.8.gemspec", RACK),
            (
                "usr/local/bundle/specifications/nokogiri-1.15.4-x86_64-linux.gemspec",
                NOKOGIRI,
            ),
        ]);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        let got: Vec<(&str, &str, &str, &[String])> = out
            .packages
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.version.as_str(),
                    p.purl.as_str(),
                    p.licenses.as_slice(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "nokogiri",
                    "1.15.4",
                    "pkg:gem/nokogiri@1.15.4?platform=x86_64-linux",
                    &["MIT".to_string(), "Apache-2.0".to_string()][..]
                ),
                (
                    "rack",
                    "3.0.8",
                    "pkg:gem/rack@3.0.8",
                    &["MIT".to_string()][..]
                ),
            ]
        );
        assert_eq!(out.packages[1].ecosystem.as_str(), "RubyGems");
    }

    #[test]
    fn stub_line_fills_in() {
        let g =
            parse_gemspec(b"# stub: json 2.6.3 ruby lib\nGem::Specification.new do |spec|\nend\n")
                .unwrap();
        assert_eq!(
            (g.name.as_str(), g.version.as_str(), g.platform),
            ("json", "2.6.3", None)
        );
        // Other variable names work too.
        let g = parse_gemspec(
            b"Gem::Specification.new do |spec|\n  spec.name    = 'x'\n  spec.version = '1.0'\nend",
        )
        .unwrap();
        assert_eq!((g.name.as_str(), g.version.as_str()), ("x", "1.0"));
    }

    #[test]
    fn malformed_gemspecs_are_warnings() {
        assert_eq!(parse_gemspec(b""), Err(GemspecError::Missing("s.name")));
        assert_eq!(
            parse_gemspec(b"s.name = \"a\"\n"),
            Err(GemspecError::Missing("s.version"))
        );
        assert!(matches!(
            parse_gemspec(b"s.name = \"a b\"\ns.version = \"1\""),
            Err(GemspecError::InvalidValue { field: "name", .. })
        ));
        assert!(matches!(
            parse_gemspec(b"s.name = \"a\"\ns.version = \"unterminated\n"),
            Err(GemspecError::Missing("s.version"))
        ));
        assert!(matches!(
            parse_gemspec(b"s.name = Foo::NAME\ns.version = Foo::VERSION\n"),
            Err(GemspecError::Missing("s.name"))
        ));
        // `==` is a comparison, not an assignment; bytes past the cap are not read.
        assert_eq!(
            parse_gemspec(b"s.name == \"x\"\n"),
            Err(GemspecError::Missing("s.name"))
        );
        let mut big = vec![b' '; MAX_GEMSPEC_READ];
        big.extend_from_slice(b"\ns.name = \"a\"\ns.version = \"1\"\n");
        assert!(parse_gemspec(&big).is_err());
        let bad = "\u{0}\u{ff}s.name = \"a\"\ns.version = \"1\"\n";
        let out = run(&[
            ("specifications/a.gemspec", bad),
            ("specifications/b.gemspec", "junk"),
        ]);
        assert_eq!(out.packages.len(), 0);
        assert_eq!(out.warnings.len(), 2);
    }
}
