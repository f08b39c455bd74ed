use serde::{Deserialize, Serialize};

use crate::{Digest, Package, Severity};

/// The `schema` value of an image scan report.
pub const SCAN_SCHEMA: &str = "palisade.scan/v1";

/// The operating system of an image, from `/etc/os-release` or its fallbacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsInfo {
    /// `ID` from os-release: `debian`, `alpine`, `ubuntu`, `rhel`, `almalinux`…
    pub family: String,
    /// `VERSION_ID`: `12`, `3.19.1`, `9.3`…
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
}

/// What was scanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    pub name: String,
    /// Manifest digest for images; `None` for a plain directory.
    pub digest: Option<Digest>,
    pub os: Option<OsInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<Digest>,
}

/// One vulnerability affecting one installed package version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VulnerabilityMatch {
    pub id: String,
    pub aliases: Vec<String>,
    pub package: String,
    pub ecosystem: String,
    pub installed_version: String,
    pub fixed_version: Option<String>,
    pub severity: Severity,
    pub cvss_score: Option<f64>,
    pub source: String,
    pub title: String,
}

/// A problem met while scanning that did not stop the scan (a skipped
/// hostile tar entry, an unparseable package record…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanWarning {
    /// Where: a layer digest, a file path, or both.
    pub location: String,
    pub message: String,
}

/// The result of scanning one artifact (`palisade.scan/v1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    pub schema: String,
    pub artifact: Artifact,
    pub packages: Vec<Package>,
    pub vulnerabilities: Vec<VulnerabilityMatch>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<ScanWarning>,
}

impl ScanReport {
    pub fn new(artifact: Artifact, packages: Vec<Package>) -> ScanReport {
        ScanReport {
            schema: SCAN_SCHEMA.to_string(),
            artifact,
            packages,
            vulnerabilities: Vec::new(),
            warnings: Vec::new(),
        }
    }
}
