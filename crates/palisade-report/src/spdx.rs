//! SPDX 2.3 JSON: the image as a package that `CONTAINS` its operating
//! system and every installed package.
//!
//! Licences are `NOASSERTION` unless the package database declared a valid
//! SPDX license expression made of identifiers this crate knows, in which
//! case that is the declared licence (the concluded licence is always
//! `NOASSERTION`: Palisade draws no conclusions about licensing). The
//! document namespace is built from the base in [`ReportOptions`], the
//! image name and a UUID derived from the image digest, so it is stable
//! across scans of the same image.

use std::io::Write;

use palisade_model::{Package, ScanReport};
use serde::Serialize;

use crate::format::write_json_document;
use crate::ids::UniqueIds;
use crate::image::{document_uuid, oci_purl};
use crate::license;
use crate::timestamp::rfc3339;
use crate::{Format, ReportError, ReportOptions};

const NOASSERTION: &str = "NOASSERTION";

/// The `SPDXID` of the document itself.
pub const DOCUMENT_ID: &str = "SPDXRef-DOCUMENT";

/// Write `report` as an SPDX 2.3 JSON document.
pub fn write_spdx(
    report: &ScanReport,
    w: &mut dyn Write,
    opts: &ReportOptions,
) -> Result<(), ReportError> {
    write_json_document(Format::Spdx, &build(report, opts), w)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: &'a str,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<SpdxPackage<'a>>,
    relationships: Vec<Relationship>,
}

#[derive(Serialize)]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage<'a> {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    download_location: &'static str,
    files_analyzed: bool,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    primary_package_purpose: &'static str,
}

impl<'a> SpdxPackage<'a> {
    fn new(spdx_id: String, name: &'a str, purpose: &'static str) -> SpdxPackage<'a> {
        SpdxPackage {
            spdx_id,
            name,
            version_info: None,
            download_location: NOASSERTION,
            files_analyzed: false,
            license_concluded: NOASSERTION,
            license_declared: NOASSERTION.to_string(),
            copyright_text: NOASSERTION,
            source_info: None,
            description: None,
            external_refs: Vec::new(),
            primary_package_purpose: purpose,
        }
    }

    fn with_purl(mut self, purl: Option<String>) -> SpdxPackage<'a> {
        if let Some(purl) = purl.filter(|p| !p.is_empty() && !p.contains(char::is_whitespace)) {
            self.external_refs.push(ExternalRef {
                reference_category: "PACKAGE-MANAGER",
                reference_type: "purl",
                reference_locator: purl,
            });
        }
        self
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

/// Unique SPDX identifiers (`SPDXRef-` followed by letters, digits, `.`
/// and `-`).
#[derive(Default)]
struct Ids {
    used: UniqueIds,
}

impl Ids {
    fn claim(&mut self, parts: &[&str]) -> String {
        let mut id = String::from("SPDXRef");
        for part in parts {
            id.push('-');
            id.push_str(&idstring(part));
        }
        self.used.take_numbered(id)
    }
}

/// `s` with every character outside `[A-Za-z0-9.-]` replaced by `-`, runs
/// of `-` collapsed, and never empty.
fn idstring(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '.' {
            c
        } else {
            '-'
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "unnamed".to_string()
    } else {
        trimmed.to_string()
    }
}

fn build<'a>(report: &'a ScanReport, opts: &'a ReportOptions) -> Document<'a> {
    let artifact = &report.artifact;
    let mut ids = Ids::default();
    let mut packages = Vec::with_capacity(report.packages.len() + 2);
    let mut relationships = Vec::with_capacity(report.packages.len() + 2);

    let image_id = ids.claim(&["Image", &artifact.name]);
    let mut image = SpdxPackage::new(image_id.clone(), &artifact.name, "CONTAINER")
        .with_purl(oci_purl(artifact));
    image.version_info = artifact.digest.as_ref().map(ToString::to_string);
    packages.push(image);
    relationships.push(Relationship {
        spdx_element_id: DOCUMENT_ID.to_string(),
        relationship_type: "DESCRIBES",
        related_spdx_element: image_id.clone(),
    });

    if let Some(os) = &artifact.os {
        let id = ids.claim(&["OperatingSystem", &os.family, &os.version]);
        let mut p = SpdxPackage::new(id.clone(), &os.family, "OPERATING_SYSTEM");
        p.version_info = Some(os.version.clone());
        p.description = os.pretty_name.as_deref();
        packages.push(p);
        relationships.push(contains(&image_id, id));
    }

    for p in &report.packages {
        let id = ids.claim(&[
            "Package",
            p.ecosystem.as_str(),
            p.name.as_str(),
            p.version.as_str(),
        ]);
        packages.push(package(p, id.clone()));
        relationships.push(contains(&image_id, id));
    }

    let base = opts.spdx_namespace_base.trim_end_matches('/');
    Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: DOCUMENT_ID,
        name: &artifact.name,
        document_namespace: format!(
            "{base}/{}-{}",
            idstring(&artifact.name),
            document_uuid(report)
        ),
        creation_info: CreationInfo {
            created: rfc3339(opts.created()),
            creators: vec![format!("Tool: palisade-{}", opts.tool_version)],
        },
        packages,
        relationships,
    }
}

fn contains(image_id: &str, id: String) -> Relationship {
    Relationship {
        spdx_element_id: image_id.to_string(),
        relationship_type: "CONTAINS",
        related_spdx_element: id,
    }
}

fn package(p: &Package, id: String) -> SpdxPackage<'_> {
    let mut s = SpdxPackage::new(id, p.name.as_str(), "LIBRARY").with_purl(Some(p.purl.clone()));
    s.version_info = Some(p.version.to_string());
    if let Some(declared) = license::declared(&p.licenses) {
        s.license_declared = declared;
    }
    let mut source_info = String::new();
    if !p.path.is_empty() {
        source_info = format!("found in /{}", p.path.trim_start_matches('/'));
        if let Some(layer) = &p.layer {
            source_info.push_str(&format!(" (layer {layer})"));
        }
    }
    if let Some(src) = &p.source {
        if !source_info.is_empty() {
            source_info.push_str("; ");
        }
        source_info.push_str(&format!(
            "built from source package {} {}",
            src.name, src.version
        ));
    }
    s.source_info = (!source_info.is_empty()).then_some(source_info);
    s
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
    fn idstrings_are_valid() {
        assert_eq!(idstring("libssl3"), "libssl3");
        assert_eq!(idstring("1:2.3+dfsg~1"), "1-2.3-dfsg-1");
        assert_eq!(
            idstring("docker.io/library/debian:12"),
            "docker.io-library-debian-12"
        );
        assert_eq!(idstring("__"), "unnamed");
        assert_eq!(idstring("é"), "unnamed");
    }

    #[test]
    fn ids_are_unique() {
        let mut ids = Ids::default();
        assert_eq!(ids.claim(&["Package", "a_b"]), "SPDXRef-Package-a-b");
        assert_eq!(ids.claim(&["Package", "a+b"]), "SPDXRef-Package-a-b-2");
        assert_eq!(ids.claim(&["Package", "a b"]), "SPDXRef-Package-a-b-3");
    }
}
