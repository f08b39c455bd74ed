use std::io;

use crate::Format;

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The writer refused the bytes (closed pipe, full disk…).
    #[error("writing the {format} report failed")]
    Write {
        format: Format,
        #[source]
        source: io::Error,
    },
    /// The document could not be serialised (for JSON formats this includes
    /// write errors that serde_json met first).
    #[error("serialising the {format} report failed")]
    Serialize {
        format: Format,
        #[source]
        source: serde_json::Error,
    },
}

impl ReportError {
    pub(crate) fn write(format: Format) -> impl FnOnce(io::Error) -> ReportError {
        move |source| ReportError::Write { format, source }
    }

    pub(crate) fn serialize(format: Format) -> impl FnOnce(serde_json::Error) -> ReportError {
        move |source| ReportError::Serialize { format, source }
    }
}
