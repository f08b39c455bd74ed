//! Shared types for every Palisade component.
//!
//! One model flows from every source to every sink: an image scan produces
//! [`Package`]s and [`VulnerabilityMatch`]es collected in a [`ScanReport`];
//! later components add findings and alerts. Identities are newtypes that are
//! validated once, at the boundary ([`Digest`], [`Ecosystem`], [`PackageName`],
//! [`Version`]).
//!
//! This crate does no I/O.

mod digest;
mod ecosystem;
mod package;
mod report;
mod severity;

pub use digest::{Digest, DigestAlgorithm, DigestError};
pub use ecosystem::Ecosystem;
pub use package::{Package, PackageName, SourcePackage, Version};
pub use report::{Artifact, OsInfo, ScanReport, ScanWarning, VulnerabilityMatch, SCAN_SCHEMA};
pub use severity::{Severity, SeverityParseError};
