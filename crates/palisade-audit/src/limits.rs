//! Size limits for untrusted audit input, in one place.

/// Limits applied while decoding audit events from files or webhook bodies.
///
/// ```
/// let limits = palisade_audit::Limits { max_event_bytes: 1 << 20, ..Default::default() };
/// assert_eq!(limits.max_event_bytes, 1 << 20);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest single event (one JSONL line, or one item of an
    /// `EventList`). Larger events are skipped with a warning. The API
    /// server's own truncating backend defaults to 100 KiB per event; a
    /// `RequestResponse` event around a 1 MiB ConfigMap is about 2 MiB.
    pub max_event_bytes: usize,
    /// Largest JSON document that is read whole: a file holding one
    /// (possibly pretty-printed) `EventList`, or a webhook body after
    /// decompression.
    pub max_document_bytes: usize,
    /// Most (uncompressed) bytes read from one file; past it the file fails
    /// with an error (a gzip bomb, or the wrong file).
    pub max_file_bytes: u64,
    /// Most warnings kept per scan (all are counted).
    pub max_warnings: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_event_bytes: 4 << 20,
            max_document_bytes: 64 << 20,
            max_file_bytes: 64 << 30,
            max_warnings: 1000,
        }
    }
}
