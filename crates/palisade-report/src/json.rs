//! The `palisade.scan/v1` JSON contract: the report itself, pretty-printed.

use std::io::Write;

use palisade_model::ScanReport;

use crate::format::write_json_document;
use crate::{Format, ReportError, ReportOptions};

/// Write `report` as `palisade.scan/v1` JSON, followed by a newline.
pub fn write_json(
    report: &ScanReport,
    w: &mut dyn Write,
    _opts: &ReportOptions,
) -> Result<(), ReportError> {
    write_json_document(Format::Json, report, w)
}
