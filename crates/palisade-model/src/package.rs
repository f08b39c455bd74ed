use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Digest, Ecosystem};

/// A package name as its ecosystem spells it (not normalised; matching
/// normalises per ecosystem, e.g. PEP 503 for PyPI).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PackageName(String);

impl PackageName {
    pub fn new(s: impl Into<String>) -> PackageName {
        PackageName(s.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A version string exactly as installed. Its ordering depends on the
/// ecosystem, so this type deliberately has no `Ord`; the vulnerability
/// database parses it with the right scheme.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Version(String);

impl Version {
    pub fn new(s: impl Into<String>) -> Version {
        Version(s.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The source package a binary package was built from (dpkg `Source:`,
/// apk `o:` origin, rpm `SOURCERPM`). Distribution advisories name these.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SourcePackage {
    pub name: String,
    pub version: String,
}

/// One installed package found in an artifact.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Package {
    pub name: PackageName,
    pub version: Version,
    pub ecosystem: Ecosystem,
    pub purl: String,
    /// The layer that last wrote the file this package was read from.
    #[serde(default)]
    pub layer: Option<Digest>,
    /// Path of that file inside the image, without a leading `/`.
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourcePackage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Licences as the package database declares them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
}
