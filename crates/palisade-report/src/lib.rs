//! Renders a [`palisade_model::ScanReport`] for people and for other tools.
//!
//! | [`Format`] | output |
//! | --- | --- |
//! | [`Format::Table`] | a terminal report: vulnerabilities grouped by package, or the package inventory |
//! | [`Format::Json`] | the `palisade.scan/v1` contract, pretty-printed |
//! | [`Format::Sarif`] | SARIF 2.1.0: one rule per advisory, one result per (advisory, package) |
//! | [`Format::CycloneDx`] | CycloneDX 1.6 JSON: the image, its components and their vulnerabilities (usable as VEX) |
//! | [`Format::Spdx`] | SPDX 2.3 JSON: the image package and the packages it contains |
//!
//! Every writer takes the report, a [`std::io::Write`] and [`ReportOptions`],
//! through [`write`] or the per-format functions. This crate does no I/O of
//! its own and never prints: the caller picks the writer (stdout, a file) and
//! decides from the terminal whether to ask for colour and truncation.
//!
//! Outputs are reproducible: the CycloneDX serial number and the SPDX
//! document namespace are derived from the image digest (or, without one,
//! from the report's content), and the creation time can be pinned with
//! [`ReportOptions::with_timestamp`].

mod advisory;
pub mod cyclonedx;
mod error;
mod format;
mod ids;
mod image;
pub mod json;
mod license;
mod options;
pub mod sarif;
pub mod spdx;
pub mod table;
mod timestamp;

pub use cyclonedx::write_cyclonedx;
pub use error::ReportError;
pub use format::{write, Format, ParseFormatError};
pub use json::write_json;
pub use options::{ReportOptions, DEFAULT_SPDX_NAMESPACE_BASE};
pub use sarif::write_sarif;
pub use spdx::write_spdx;
pub use table::write_table;
