use std::fmt;
use std::io::Write;
use std::str::FromStr;

use palisade_model::ScanReport;
use serde::Serialize;

use crate::{ReportError, ReportOptions};

/// An output format, named as the CLI's `--format` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Human-readable terminal report.
    Table,
    /// `palisade.scan/v1` JSON.
    Json,
    /// SARIF 2.1.0 JSON.
    Sarif,
    /// CycloneDX 1.6 JSON.
    CycloneDx,
    /// SPDX 2.3 JSON.
    Spdx,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Table,
        Format::Json,
        Format::Sarif,
        Format::CycloneDx,
        Format::Spdx,
    ];

    /// The `--format` value: `table`, `json`, `sarif`, `cyclonedx`, `spdx`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::CycloneDx => "cyclonedx",
            Format::Spdx => "spdx",
        }
    }

    /// Whether this format is a software bill of materials (what
    /// `palisade image sbom` accepts).
    pub fn is_sbom(self) -> bool {
        matches!(self, Format::CycloneDx | Format::Spdx)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no [`Format`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown report format {0:?} (expected table, json, sarif, cyclonedx or spdx)")]
pub struct ParseFormatError(pub String);

impl FromStr for Format {
    type Err = ParseFormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseFormatError(s.to_string()))
    }
}

/// Write `report` to `w` in `format`.
pub fn write(
    format: Format,
    report: &ScanReport,
    w: &mut dyn Write,
    opts: &ReportOptions,
) -> Result<(), ReportError> {
    match format {
        Format::Table => crate::write_table(report, w, opts),
        Format::Json => crate::write_json(report, w, opts),
        Format::Sarif => crate::write_sarif(report, w, opts),
        Format::CycloneDx => crate::write_cyclonedx(report, w, opts),
        Format::Spdx => crate::write_spdx(report, w, opts),
    }
}

/// Pretty-print `doc` as JSON followed by a newline.
pub(crate) fn write_json_document<T: Serialize + ?Sized>(
    format: Format,
    doc: &T,
    w: &mut dyn Write,
) -> Result<(), ReportError> {
    serde_json::to_writer_pretty(&mut *w, doc).map_err(ReportError::serialize(format))?;
    w.write_all(b"\n").map_err(ReportError::write(format))?;
    w.flush().map_err(ReportError::write(format))
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
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>(), Ok(f));
        }
        assert_eq!("CycloneDX".parse::<Format>(), Ok(Format::CycloneDx));
        assert!("xml".parse::<Format>().is_err());
        assert!(Format::Spdx.is_sbom() && !Format::Sarif.is_sbom());
    }
}
