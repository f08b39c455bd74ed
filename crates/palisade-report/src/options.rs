use std::time::SystemTime;

/// How to render a report. Build with [`ReportOptions::new`] and the `with_*`
/// methods; every field has a sensible default.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReportOptions {
    /// Colour severities with ANSI escapes (table only). The CLI sets this
    /// when stdout is a terminal. Default: off.
    pub color: bool,
    /// Terminal width in columns; table titles are truncated to fit. `None`
    /// (the default) never truncates, which suits pipes and files.
    pub width: Option<usize>,
    /// The Palisade version named as the producing tool in SARIF,
    /// CycloneDX and SPDX. Default: this crate's version.
    pub tool_version: String,
    /// The creation time written into CycloneDX and SPDX documents.
    /// `None` (the default) means the time of writing; set it for
    /// reproducible output and golden tests.
    pub timestamp: Option<SystemTime>,
    /// Base of the SPDX `documentNamespace`; the document's own part is
    /// appended after a `/`. Default: `https://palisade.invalid/spdx`.
    pub spdx_namespace_base: String,
}

/// The default [`ReportOptions::spdx_namespace_base`].
pub const DEFAULT_SPDX_NAMESPACE_BASE: &str = "https://palisade.invalid/spdx";

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            color: false,
            width: None,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            timestamp: None,
            spdx_namespace_base: DEFAULT_SPDX_NAMESPACE_BASE.to_string(),
        }
    }
}

impl ReportOptions {
    /// Defaults, with `tool_version` as the producing tool's version.
    pub fn new(tool_version: impl Into<String>) -> ReportOptions {
        ReportOptions {
            tool_version: tool_version.into(),
            ..ReportOptions::default()
        }
    }

    pub fn with_color(mut self, color: bool) -> ReportOptions {
        self.color = color;
        self
    }

    pub fn with_width(mut self, width: Option<usize>) -> ReportOptions {
        self.width = width;
        self
    }

    pub fn with_timestamp(mut self, timestamp: SystemTime) -> ReportOptions {
        self.timestamp = Some(timestamp);
        self
    }

    pub fn with_spdx_namespace_base(mut self, base: impl Into<String>) -> ReportOptions {
        self.spdx_namespace_base = base.into();
        self
    }

    /// The creation time to write: the pinned one, or now.
    pub(crate) fn created(&self) -> SystemTime {
        self.timestamp.unwrap_or_else(SystemTime::now)
    }
}
