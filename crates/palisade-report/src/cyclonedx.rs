//! CycloneDX 1.6 JSON: a SBOM of the image that doubles as a VEX document.
//!
//! - `metadata.component` is the image (`type: container`, version = the
//!   manifest digest, a `pkg:oci` purl when the digest is known).
//! - `components` are the operating system (`type: operating-system`) and
//!   every installed package (`type: library`), each with a unique
//!   `bom-ref` (its purl where that is unique), its licences, and
//!   `palisade:*` properties for the layer and file it was found in.
//! - `dependencies` says that the image depends on every component.
//! - `vulnerabilities` has one entry per advisory with its ratings, aliases
//!   (as references), the fix as a recommendation, and `affects` pointing at
//!   the affected components' bom-refs with their installed versions
//!   (`affected`) and, when the advisory names the component itself rather
//!   than its source package, the fixed version (`unaffected`). Each rating
//!   names the database the match came from as its source.
//!
//! The serial number is a UUID derived from the image digest, so scanning
//! the same image gives the same number (see [`ReportOptions::timestamp`]
//! for the other varying field).

use std::io::Write;

use palisade_model::{Package, ScanReport, VulnerabilityMatch};
use serde::Serialize;

use crate::advisory::{
    advisory_url, affected_packages, by_advisory, issuer, valid_score, Advisory,
};
use crate::format::write_json_document;
use crate::ids::UniqueIds;
use crate::image::{document_uuid, oci_purl};
use crate::license;
use crate::timestamp::rfc3339;
use crate::{Format, ReportError, ReportOptions};

/// The `$schema` of the documents written.
pub const CYCLONEDX_SCHEMA_URI: &str = "http://cyclonedx.org/schema/bom-1.6.schema.json";

/// Write `report` as a CycloneDX 1.6 JSON BOM.
pub fn write_cyclonedx(
    report: &ScanReport,
    w: &mut dyn Write,
    opts: &ReportOptions,
) -> Result<(), ReportError> {
    write_json_document(Format::CycloneDx, &build(report, opts), w)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata<'a>,
    components: Vec<Component<'a>>,
    dependencies: Vec<Dependency>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    vulnerabilities: Vec<Vulnerability<'a>>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    timestamp: String,
    tools: Tools<'a>,
    component: Component<'a>,
}

#[derive(Serialize)]
struct Tools<'a> {
    components: [Component<'a>; 1],
}

#[derive(Serialize)]
struct Component<'a> {
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    #[serde(rename = "type")]
    ty: &'static str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

impl<'a> Component<'a> {
    fn new(ty: &'static str, name: &'a str) -> Component<'a> {
        Component {
            bom_ref: None,
            ty,
            name,
            version: None,
            description: None,
            licenses: Vec::new(),
            purl: None,
            properties: Vec::new(),
        }
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum LicenseChoice<'a> {
    License { license: License<'a> },
    Expression { expression: String },
}

#[derive(Serialize)]
#[serde(untagged)]
enum License<'a> {
    Id { id: &'static str },
    Name { name: &'a str },
}

#[derive(Serialize)]
struct Property {
    name: &'static str,
    value: String,
}

impl Property {
    fn new(name: &'static str, value: impl Into<String>) -> Property {
        Property {
            name,
            value: value.into(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    depends_on: Vec<String>,
}

#[derive(Serialize)]
struct Vulnerability<'a> {
    id: &'a str,
    source: Source<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<Reference<'a>>,
    ratings: Vec<Rating<'a>>,
    description: &'a str,
    recommendation: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    affects: Vec<Affect>,
}

#[derive(Serialize, PartialEq)]
struct Source<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

#[derive(Serialize)]
struct Reference<'a> {
    id: &'a str,
    source: Source<'a>,
}

#[derive(Serialize, PartialEq)]
struct Rating<'a> {
    source: Source<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
    severity: &'static str,
}

#[derive(Serialize)]
struct Affect {
    #[serde(rename = "ref")]
    reference: String,
    versions: Vec<AffectedVersion>,
}

#[derive(Serialize, PartialEq)]
struct AffectedVersion {
    version: String,
    status: &'static str,
}

/// Unique bom-refs, preferring the natural one.
#[derive(Default)]
struct Refs {
    used: UniqueIds,
}

impl Refs {
    fn claim(&mut self, preferred: String, qualifier: &str) -> String {
        if self.used.take(&preferred) {
            return preferred;
        }
        self.used.take_numbered(format!("{preferred}#{qualifier}"))
    }
}

fn build<'a>(report: &'a ScanReport, opts: &'a ReportOptions) -> Bom<'a> {
    let artifact = &report.artifact;
    let mut refs = Refs::default();
    let image_purl = oci_purl(artifact);
    let image_ref = refs.claim(
        image_purl
            .clone()
            .unwrap_or_else(|| format!("artifact:{}", artifact.name)),
        "image",
    );

    let mut image = Component::new("container", &artifact.name);
    image.bom_ref = Some(image_ref.clone());
    image.version = artifact.digest.as_ref().map(ToString::to_string);
    image.purl = image_purl;
    if let Some(platform) = &artifact.platform {
        image
            .properties
            .push(Property::new("palisade:platform", platform));
    }
    for layer in &artifact.layers {
        image
            .properties
            .push(Property::new("palisade:layer", layer.to_string()));
    }

    let mut components = Vec::with_capacity(report.packages.len() + 1);
    if let Some(os) = &artifact.os {
        let mut c = Component::new("operating-system", &os.family);
        c.bom_ref = Some(refs.claim(format!("os:{}@{}", os.family, os.version), "os"));
        c.version = Some(os.version.clone());
        c.description = os.pretty_name.as_deref();
        components.push(c);
    }
    let mut package_refs: Vec<(&Package, String)> = Vec::with_capacity(report.packages.len());
    for p in &report.packages {
        let preferred = if p.purl.is_empty() {
            format!("{}:{}@{}", p.ecosystem, p.name, p.version)
        } else {
            p.purl.clone()
        };
        let bom_ref = refs.claim(preferred, &p.path);
        components.push(package_component(p, bom_ref.clone()));
        package_refs.push((p, bom_ref));
    }

    let dependencies = vec![Dependency {
        reference: image_ref,
        depends_on: components
            .iter()
            .filter_map(|c| c.bom_ref.clone())
            .collect(),
    }];

    let vulnerabilities = by_advisory(&report.vulnerabilities)
        .iter()
        .map(|a| vulnerability(report, a, &package_refs))
        .collect();

    let mut tool = Component::new("application", crate::sarif::TOOL_NAME);
    tool.version = Some(opts.tool_version.clone());

    Bom {
        schema: CYCLONEDX_SCHEMA_URI,
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: format!("urn:uuid:{}", document_uuid(report)),
        version: 1,
        metadata: Metadata {
            timestamp: rfc3339(opts.created()),
            tools: Tools { components: [tool] },
            component: image,
        },
        components,
        dependencies,
        vulnerabilities,
    }
}

fn package_component(p: &Package, bom_ref: String) -> Component<'_> {
    let mut c = Component::new("library", p.name.as_str());
    c.bom_ref = Some(bom_ref);
    c.version = Some(p.version.to_string());
    c.licenses = licenses(&p.licenses);
    c.purl = (!p.purl.is_empty()).then(|| p.purl.clone());
    c.properties
        .push(Property::new("palisade:ecosystem", p.ecosystem.as_str()));
    if let Some(layer) = &p.layer {
        c.properties
            .push(Property::new("palisade:layer", layer.to_string()));
    }
    if !p.path.is_empty() {
        c.properties.push(Property::new("palisade:path", &p.path));
    }
    if let Some(source) = &p.source {
        c.properties
            .push(Property::new("palisade:source-name", &source.name));
        c.properties
            .push(Property::new("palisade:source-version", &source.version));
    }
    c
}

/// CycloneDX allows either licences (by SPDX id or by free-text name) or a
/// single expression, not both.
fn licenses(declared: &[String]) -> Vec<LicenseChoice<'_>> {
    if let [only] = declared {
        if let Some(expr) = license::expression(only).filter(|e| e.contains(' ')) {
            return vec![LicenseChoice::Expression { expression: expr }];
        }
    }
    let mut out: Vec<LicenseChoice<'_>> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for l in declared {
        let l = l.trim();
        if l.is_empty() || seen.contains(&l) {
            continue;
        }
        seen.push(l);
        let license = match license::license_id(l) {
            Some(id) => License::Id { id },
            None => License::Name { name: l },
        };
        out.push(LicenseChoice::License { license });
    }
    out
}

fn severity_name(s: palisade_model::Severity) -> &'static str {
    match s {
        palisade_model::Severity::Critical => "critical",
        palisade_model::Severity::High => "high",
        palisade_model::Severity::Medium => "medium",
        palisade_model::Severity::Low => "low",
        palisade_model::Severity::Unknown => "unknown",
    }
}

fn vulnerability<'a>(
    report: &'a ScanReport,
    advisory: &Advisory<'a>,
    package_refs: &[(&'a Package, String)],
) -> Vulnerability<'a> {
    let mut ratings: Vec<Rating<'a>> = Vec::new();
    for m in &advisory.matches {
        let rating = Rating {
            source: Source {
                name: &m.source,
                url: None,
            },
            score: valid_score(m.cvss_score),
            severity: severity_name(m.severity),
        };
        if !ratings.contains(&rating) {
            ratings.push(rating);
        }
    }
    let references = advisory
        .aliases
        .iter()
        .map(|alias| Reference {
            id: alias,
            source: Source {
                name: issuer(alias),
                url: advisory_url(alias),
            },
        })
        .collect();
    let mut affects: Vec<Affect> = Vec::new();
    for m in &advisory.matches {
        for p in affected_packages(report, m) {
            let Some((_, bom_ref)) = package_refs.iter().find(|(q, _)| std::ptr::eq(*q, p)) else {
                continue;
            };
            // The installed version of this component is affected. The fix
            // is a version of the package the match names, so it is only a
            // version of this component when the match names it directly
            // (not through its source package).
            let mut versions = vec![AffectedVersion {
                version: p.version.to_string(),
                status: "affected",
            }];
            if let Some(fixed) = m
                .fixed_version
                .as_ref()
                .filter(|_| p.name.as_str() == m.package)
            {
                versions.push(AffectedVersion {
                    version: fixed.clone(),
                    status: "unaffected",
                });
            }
            match affects.iter_mut().find(|a| &a.reference == bom_ref) {
                Some(existing) => {
                    for v in versions {
                        if !existing.versions.contains(&v) {
                            existing.versions.push(v);
                        }
                    }
                }
                None => affects.push(Affect {
                    reference: bom_ref.clone(),
                    versions,
                }),
            }
        }
    }
    Vulnerability {
        id: advisory.id,
        source: Source {
            name: issuer(advisory.id),
            url: advisory_url(advisory.id),
        },
        references,
        ratings,
        description: advisory.title,
        recommendation: recommendation(&advisory.matches),
        affects,
    }
}

fn recommendation(matches: &[&VulnerabilityMatch]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for m in matches {
        let part = match &m.fixed_version {
            Some(f) => format!("Upgrade {} ({}) to {f}.", m.package, m.ecosystem),
            None => format!("No fix is available for {} ({}).", m.package, m.ecosystem),
        };
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    parts.join(" ")
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

    #[test]
    fn refs_are_unique() {
        let mut refs = Refs::default();
        assert_eq!(refs.claim("pkg:a".into(), "x"), "pkg:a");
        assert_eq!(refs.claim("pkg:a".into(), "y"), "pkg:a#y");
        assert_eq!(refs.claim("pkg:a".into(), "y"), "pkg:a#y-2");
        assert_eq!(refs.claim("pkg:a".into(), "y"), "pkg:a#y-3");
    }

    #[test]
    fn licence_choices() {
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let json = |v: &[&str]| serde_json::to_string(&licenses(&l(v))).unwrap();
        assert_eq!(
            json(&["MIT OR Apache-2.0"]),
            r#"[{"expression":"MIT OR Apache-2.0"}]"#
        );
        assert_eq!(
            json(&["mit", "GPL-2+", "GPL-2+"]),
            r#"[{"license":{"id":"MIT"}},{"license":{"name":"GPL-2+"}}]"#
        );
        assert_eq!(
            json(&["MIT OR Apache-2.0", "Zlib"]),
            r#"[{"license":{"name":"MIT OR Apache-2.0"}},{"license":{"id":"Zlib"}}]"#
        );
    }
}
