//! Reading audit logs from files: JSON lines (the API server's `log`
//! backend, one `Event` or `EventList` per line), or a single JSON document
//! (an `EventList`, possibly pretty-printed), either of them gzip-compressed.
//!
//! [`scan_files`] returns an iterator of events. A broken line is skipped and
//! recorded as a [`DecodeWarning`] naming the file and line; a file that
//! cannot be read (missing, corrupt gzip, over [`Limits::max_file_bytes`])
//! yields one [`ScanError`] and the scan goes on with the next file.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::error::Category;

use crate::event::{decode_into, DocContext, DocError};
use crate::warning::{DecodeWarning, WarningKind, Warnings};
use crate::{AuditEvent, Limits};

/// A file that could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// The file could not be opened.
    #[error("{path}: cannot open: {error}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        error: io::Error,
    },
    /// Reading or decompressing failed.
    #[error("{path}:{line}: read error: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The line being read.
        line: u64,
        /// Why.
        #[source]
        error: io::Error,
    },
    /// More (uncompressed) bytes than [`Limits::max_file_bytes`].
    #[error("{path}: more than {limit} bytes (uncompressed); stopped reading")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// A single-document file that is not an audit `Event`/`EventList`.
    #[error("{path}:{line}: {message}")]
    Document {
        /// The file.
        path: PathBuf,
        /// Line where the document starts.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

/// Counters of one scan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Files opened.
    pub files: u64,
    /// Files that failed with a [`ScanError`].
    pub failed_files: u64,
    /// Lines read.
    pub lines: u64,
    /// Events produced.
    pub events: u64,
    /// Uncompressed bytes read.
    pub bytes: u64,
}

#[derive(Debug)]
struct CapExceeded;

impl std::fmt::Display for CapExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("file size limit exceeded")
    }
}

impl std::error::Error for CapExceeded {}

/// Counts bytes and fails past the cap.
struct Capped<R> {
    inner: R,
    read: u64,
    cap: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.cap.saturating_sub(self.read);
        if left == 0 {
            // At the cap: fine if the input ends here, an error if not.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => {
                    self.read += 1;
                    Err(io::Error::other(CapExceeded))
                }
            };
        }
        let allowed = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        let n = self
            .inner
            .read(buf.get_mut(..allowed).unwrap_or_default())?;
        self.read += n as u64;
        Ok(n)
    }
}

enum Mode {
    /// Before the first non-blank line.
    Start,
    /// One document per line.
    Lines,
}

/// The source being read.
struct Source {
    path: PathBuf,
    input: Arc<str>,
    reader: BufReader<Capped<Box<dyn Read + Send>>>,
    line: u64,
    mode: Mode,
}

enum LineRead {
    Eof,
    Line,
    TooLong(u64),
}

/// Read one line (without `\n`, and without a trailing `\r`) into `buf`;
/// lines longer than `max` are consumed and reported, not buffered.
fn read_line(reader: &mut dyn BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<LineRead> {
    buf.clear();
    let mut total: u64 = 0;
    let mut overflow = false;
    let mut any = false;
    loop {
        let avail = match reader.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            break;
        }
        any = true;
        let (chunk, consumed, done) = match memchr::memchr(b'\n', avail) {
            Some(i) => (avail.get(..i).unwrap_or_default(), i + 1, true),
            None => (avail, avail.len(), false),
        };
        total += chunk.len() as u64;
        if !overflow {
            if buf.len() + chunk.len() > max {
                overflow = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        reader.consume(consumed);
        if done {
            break;
        }
    }
    if !any {
        return Ok(LineRead::Eof);
    }
    if overflow {
        return Ok(LineRead::TooLong(total));
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(LineRead::Line)
}

/// An iterator over the audit events of several files, in order.
///
/// Create it with [`scan_files`] or [`AuditScan::from_reader`]. Warnings
/// about skipped lines accumulate in [`AuditScan::warnings`].
pub struct AuditScan {
    paths: VecDeque<PathBuf>,
    limits: Limits,
    current: Option<Source>,
    pending: VecDeque<AuditEvent>,
    warnings: Warnings,
    stats: ScanStats,
    cluster: Option<Arc<str>>,
    line_buf: Vec<u8>,
    deferred: Option<ScanError>,
}

/// Scan the audit logs at `paths` (`-` reads standard input).
///
/// ```no_run
/// for event in palisade_audit::scan_files(["audit.log", "audit-1.log.gz"]) {
///     match event {
///         Ok(e) => println!("{:?} {:?}", e.verb(), e.user_name()),
///         Err(e) => eprintln!("{e}"),
///     }
/// }
/// ```
pub fn scan_files<I, P>(paths: I) -> AuditScan
where
    I: IntoIterator<Item = P>,
    P: Into<PathBuf>,
{
    let limits = Limits::default();
    AuditScan {
        paths: paths.into_iter().map(Into::into).collect(),
        warnings: Warnings::with_capacity(limits.max_warnings),
        limits,
        current: None,
        pending: VecDeque::new(),
        stats: ScanStats::default(),
        cluster: None,
        line_buf: Vec::new(),
        deferred: None,
    }
}

impl AuditScan {
    /// Scan one reader (plain or gzip), named `input` in messages.
    pub fn from_reader(input: &str, reader: impl Read + Send + 'static) -> AuditScan {
        let mut scan = scan_files(Vec::<PathBuf>::new());
        let source = scan.source(PathBuf::from(input), Box::new(reader));
        scan.current = Some(source);
        scan.stats.files = 1;
        scan
    }

    /// Use `limits` instead of the defaults.
    pub fn with_limits(mut self, limits: Limits) -> AuditScan {
        self.warnings = Warnings::with_capacity(limits.max_warnings);
        if let Some(src) = &mut self.current {
            src.reader.get_mut().cap = limits.max_file_bytes;
        }
        self.limits = limits;
        self
    }

    /// Tag every event with the cluster it came from (`ka.cluster.name`).
    pub fn with_cluster_name(mut self, name: &str) -> AuditScan {
        self.cluster = Some(Arc::from(name));
        self
    }

    /// Skipped lines so far.
    pub fn warnings(&self) -> &Warnings {
        &self.warnings
    }

    /// Counters so far.
    pub fn stats(&self) -> ScanStats {
        self.stats
    }

    fn source(&self, path: PathBuf, raw: Box<dyn Read + Send>) -> Source {
        let input: Arc<str> = Arc::from(path.display().to_string());
        let mut peek = BufReader::with_capacity(2, raw);
        let gzip = matches!(peek.fill_buf(), Ok(b) if b.starts_with(&[0x1f, 0x8b]));
        let inner: Box<dyn Read + Send> = if gzip {
            Box::new(flate2::read::MultiGzDecoder::new(peek))
        } else {
            Box::new(peek)
        };
        Source {
            path,
            input,
            reader: BufReader::with_capacity(
                256 << 10,
                Capped {
                    inner,
                    read: 0,
                    cap: self.limits.max_file_bytes,
                },
            ),
            line: 0,
            mode: Mode::Start,
        }
    }

    fn open(&mut self, path: PathBuf) -> Result<Source, ScanError> {
        self.stats.files += 1;
        let raw: Box<dyn Read + Send> = if path == Path::new("-") {
            Box::new(io::stdin())
        } else {
            Box::new(File::open(&path).map_err(|error| ScanError::Open {
                path: path.clone(),
                error,
            })?)
        };
        let src = self.source(path, raw);
        tracing::debug!(target: "palisade_audit", input = %src.input, "scanning");
        Ok(src)
    }

    fn warn(&mut self, src: &Source, line: u64, kind: WarningKind) {
        self.warnings.push(DecodeWarning {
            input: src.input.clone(),
            line: Some(line),
            item: None,
            kind,
        });
    }

    fn read_error(&self, src: &Source, error: io::Error) -> ScanError {
        if error.get_ref().is_some_and(|e| e.is::<CapExceeded>()) {
            ScanError::TooLarge {
                path: src.path.clone(),
                limit: self.limits.max_file_bytes,
            }
        } else {
            ScanError::Read {
                path: src.path.clone(),
                line: src.line + 1,
                error,
            }
        }
    }

    /// Decode one JSONL line into `pending`.
    fn decode_line(&mut self, src: &Source, text: &str, line: u64) {
        if text.trim().is_empty() {
            return;
        }
        let buf: Arc<str> = Arc::from(text);
        let ctx = DocContext {
            input: &src.input,
            first_line: Some(line),
            limits: &self.limits,
        };
        let before = self.pending.len();
        match decode_into(&buf, &ctx, &mut self.pending, &mut self.warnings) {
            Ok(_) => {
                // A single event (not a list item) larger than the event limit.
                if self.pending.len() == before + 1
                    && text.len() > self.limits.max_event_bytes
                    && self
                        .pending
                        .back()
                        .is_some_and(|e| e.json().len() == text.trim().len())
                {
                    self.pending.pop_back();
                    let limit = self.limits.max_event_bytes;
                    self.warn(
                        src,
                        line,
                        WarningKind::Oversized {
                            bytes: text.len() as u64,
                            limit,
                        },
                    );
                }
            }
            Err(e) => self.warn(src, line, e.into_warning_kind()),
        }
    }

    /// Read from `src` until at least one event is pending or the source
    /// ends. `Ok(false)` at the end.
    fn fill(&mut self, src: &mut Source) -> Result<bool, ScanError> {
        let mut buf = std::mem::take(&mut self.line_buf);
        let result = self.fill_with(src, &mut buf);
        self.line_buf = buf;
        result
    }

    fn fill_with(&mut self, src: &mut Source, buf: &mut Vec<u8>) -> Result<bool, ScanError> {
        loop {
            let max = self.limits.max_document_bytes;
            let read = read_line(&mut src.reader, buf, max).map_err(|e| self.read_error(src, e))?;
            match read {
                LineRead::Eof => return Ok(false),
                LineRead::TooLong(bytes) => {
                    src.line += 1;
                    self.stats.lines += 1;
                    src.mode = Mode::Lines;
                    let line = src.line;
                    self.warn(src, line, WarningKind::Oversized { bytes, limit: max });
                }
                LineRead::Line => {
                    src.line += 1;
                    self.stats.lines += 1;
                    let line = src.line;
                    let Ok(text) = std::str::from_utf8(buf) else {
                        src.mode = Mode::Lines;
                        self.warn(src, line, WarningKind::InvalidUtf8);
                        continue;
                    };
                    if text.trim().is_empty() {
                        continue;
                    }
                    if matches!(src.mode, Mode::Start) {
                        src.mode = Mode::Lines;
                        if first_line_is_partial(text) {
                            let first = text.to_owned();
                            self.read_document(src, first, line, buf)?;
                            return Ok(!self.pending.is_empty());
                        }
                    }
                    self.decode_line(src, text, line);
                    if !self.pending.is_empty() {
                        return Ok(true);
                    }
                }
            }
        }
    }

    /// The first line opens a multi-line document: read the rest of the
    /// file (up to the document limit) and decode it whole. If that fails,
    /// or the document is too large, fall back to one document per line.
    fn read_document(
        &mut self,
        src: &mut Source,
        first: String,
        first_line: u64,
        buf: &mut Vec<u8>,
    ) -> Result<(), ScanError> {
        let max = self.limits.max_document_bytes;
        let mut doc = first;
        let mut complete = false;
        while doc.len() <= max {
            match read_line(&mut src.reader, buf, max).map_err(|e| self.read_error(src, e))? {
                LineRead::Eof => {
                    complete = true;
                    break;
                }
                LineRead::TooLong(_) => break,
                LineRead::Line => {
                    src.line += 1;
                    self.stats.lines += 1;
                    doc.push('\n');
                    match std::str::from_utf8(buf) {
                        Ok(t) => doc.push_str(t),
                        Err(_) => break,
                    }
                }
            }
        }
        if complete {
            let text: Arc<str> = Arc::from(doc.as_str());
            let ctx = DocContext {
                input: &src.input,
                first_line: Some(first_line),
                limits: &self.limits,
            };
            match decode_into(&text, &ctx, &mut self.pending, &mut self.warnings) {
                Ok(_) => return Ok(()),
                Err(DocError::NotAudit(kind)) => {
                    return Err(ScanError::Document {
                        path: src.path.clone(),
                        line: first_line,
                        message: WarningKind::NotAuditEvent { kind }.to_string(),
                    })
                }
                Err(DocError::Malformed(_)) => {}
            }
        }
        // Not one document: treat what was read as lines. A line that could
        // not be buffered (too long, not UTF-8) ended the loop above and is
        // reported as such.
        tracing::debug!(target: "palisade_audit", input = %src.input, "not a single JSON document; reading lines");
        for (i, text) in doc.split('\n').enumerate() {
            let line = first_line + i as u64;
            self.decode_line(src, text.strip_suffix('\r').unwrap_or(text), line);
        }
        if !complete {
            src.line += 1;
            self.stats.lines += 1;
            let line = src.line;
            self.warn(
                src,
                line,
                WarningKind::Oversized {
                    bytes: buf.len() as u64,
                    limit: max,
                },
            );
        }
        Ok(())
    }
}

/// Whether `line` starts a JSON value it does not finish (a pretty-printed
/// document). A complete value, or broken JSON, is not partial.
fn first_line_is_partial(line: &str) -> bool {
    match serde_json::from_str::<serde::de::IgnoredAny>(line) {
        Ok(_) => false,
        Err(e) => e.classify() == Category::Eof,
    }
}

impl Iterator for AuditScan {
    type Item = Result<AuditEvent, ScanError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.pending.is_empty() {
                if let Some(e) = self.deferred.take() {
                    return Some(Err(e));
                }
            }
            if let Some(mut e) = self.pending.pop_front() {
                self.stats.events += 1;
                if let Some(c) = &self.cluster {
                    e.set_cluster_name(c.clone());
                }
                return Some(Ok(e));
            }
            let mut src = match self.current.take() {
                Some(s) => s,
                None => {
                    let path = self.paths.pop_front()?;
                    match self.open(path) {
                        Ok(s) => s,
                        Err(e) => {
                            self.stats.failed_files += 1;
                            return Some(Err(e));
                        }
                    }
                }
            };
            match self.fill(&mut src) {
                Ok(true) => self.current = Some(src),
                Ok(false) => {
                    self.stats.bytes += src.reader.get_ref().read;
                }
                Err(e) => {
                    self.stats.failed_files += 1;
                    self.stats.bytes += src.reader.get_ref().read;
                    // Events decoded before the failure are delivered first.
                    if self.pending.is_empty() {
                        return Some(Err(e));
                    }
                    self.deferred = Some(e);
                }
            }
        }
    }
}
