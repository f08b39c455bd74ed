//! Non-fatal decoding problems, reported as data.

use std::fmt;
use std::sync::Arc;

/// A line or item that was skipped, naming where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeWarning {
    /// The file path, `<stdin>`, or `webhook <peer>`.
    pub input: Arc<str>,
    /// 1-based line where the skipped event starts, when known.
    pub line: Option<u64>,
    /// 0-based index inside an `EventList`, when the event was an item.
    pub item: Option<usize>,
    /// What was wrong.
    pub kind: WarningKind,
}

/// What was wrong with a skipped event.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WarningKind {
    /// Not valid JSON, or a field of the wrong type.
    Malformed {
        /// The JSON parser's message.
        message: String,
    },
    /// Valid JSON that is not a Kubernetes audit `Event` or `EventList`.
    NotAuditEvent {
        /// The `kind` it declared, if any.
        kind: Option<String>,
    },
    /// Larger than [`Limits::max_event_bytes`](crate::Limits::max_event_bytes).
    Oversized {
        /// Size seen (at least this many bytes).
        bytes: u64,
        /// The limit.
        limit: usize,
    },
    /// The line is not UTF-8.
    InvalidUtf8,
}

impl fmt::Display for WarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WarningKind::Malformed { message } => write!(f, "malformed audit event: {message}"),
            WarningKind::NotAuditEvent { kind: Some(k) } => {
                write!(f, "data not recognized as a k8s audit event (kind {k:?})")
            }
            WarningKind::NotAuditEvent { kind: None } => {
                write!(f, "data not recognized as a k8s audit event")
            }
            WarningKind::Oversized { bytes, limit } => {
                write!(
                    f,
                    "event of {bytes} bytes exceeds the limit of {limit} bytes"
                )
            }
            WarningKind::InvalidUtf8 => write!(f, "not UTF-8 text"),
        }
    }
}

impl fmt::Display for DecodeWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.input)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(item) = self.item {
            write!(f, ": item {item}")?;
        }
        write!(f, ": {}", self.kind)
    }
}

/// Warnings of one scan or server run: all are counted, the first
/// [`Limits::max_warnings`](crate::Limits::max_warnings) are kept.
#[derive(Clone, Debug, Default)]
pub struct Warnings {
    total: u64,
    kept: Vec<DecodeWarning>,
    cap: usize,
}

impl Warnings {
    /// An empty log keeping at most `cap` warnings.
    pub fn with_capacity(cap: usize) -> Self {
        Warnings {
            total: 0,
            kept: Vec::new(),
            cap,
        }
    }

    /// Record one warning (also logged through `tracing`).
    pub fn push(&mut self, w: DecodeWarning) {
        tracing::warn!(target: "palisade_audit", "{w}");
        self.total += 1;
        if self.kept.len() < self.cap {
            self.kept.push(w);
        }
    }

    /// How many warnings were recorded.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The warnings kept.
    pub fn kept(&self) -> &[DecodeWarning] {
        &self.kept
    }

    /// Whether any warning was recorded.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}
