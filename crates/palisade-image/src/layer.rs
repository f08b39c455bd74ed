//! Reading one layer: detect compression, stream the tar once, keep only
//! wanted files, record whiteouts, and verify the blob digest at the end.
//!
//! A layer is read into a [`LayerContents`] independently of the others, so
//! layers can be read in parallel (and cached by digest); [`apply_layer`]
//! then merges them in order into an [`FsView`].

use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use palisade_model::{Digest, DigestAlgorithm, ScanWarning};
use sha2::{Digest as _, Sha256, Sha512};

use crate::fs::{normalize_path, Extracts, FsView};
use crate::limits::Limits;
use crate::tar::{EntryKind, TarError, TarReader};

/// Why a layer could not be read. Each names the layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LayerError {
    #[error("layer {layer}: {source}")]
    Tar {
        layer: String,
        #[source]
        source: TarError,
    },
    #[error("layer {layer}: corrupt or truncated compressed data: {source}")]
    Corrupt {
        layer: String,
        #[source]
        source: io::Error,
    },
    #[error("layer {layer}: content digest is {actual}, not the expected {expected} (corrupt or tampered blob)")]
    DigestMismatch {
        layer: String,
        expected: Digest,
        actual: Digest,
    },
    #[error(
        "layer {layer}: unsupported compression ({what}); OCI layers are tar, tar+gzip or tar+zstd"
    )]
    UnsupportedCompression { layer: String, what: &'static str },
}

impl LayerError {
    /// Whether reopening the blob might help (a network failure mid-stream),
    /// as opposed to bad content.
    pub fn is_transient(&self) -> bool {
        match self {
            LayerError::Tar {
                source: TarError::Io(e),
                ..
            }
            | LayerError::Corrupt { source: e, .. } => !matches!(
                e.kind(),
                io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::Other
            ),
            _ => false,
        }
    }
}

/// Bytes of file content that may still be buffered for this image,
/// shared by layers read in parallel.
#[derive(Debug)]
pub struct Budget(AtomicU64);

impl Budget {
    pub fn new(bytes: u64) -> Budget {
        Budget(AtomicU64::new(bytes))
    }

    fn take(&self, n: u64) -> bool {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                left.checked_sub(n)
            })
            .is_ok()
    }
}

#[derive(Debug, Clone)]
enum Item {
    File {
        whole: Option<Arc<[u8]>>,
        extracts: Extracts,
    },
    Symlink(String),
}

/// A readable, seekable file handed to extractors.
pub trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// Decides what the walker keeps of each regular file: the whole content,
/// extracts (what an extractor reduces a big file to — a binary's build
/// info, an archive's manifests), or nothing.
pub trait Selector: Sync {
    /// Keep the file at `path` whole.
    fn whole(&self, path: &str) -> bool;
    /// Whether some extractor wants ELF executables (lets the walker peek
    /// at executable files' first bytes only when it matters).
    fn wants_executables(&self) -> bool {
        false
    }
    /// Extractors (by index) that want this file.
    fn extractors(&self, _path: &str, _elf_executable: bool) -> Vec<usize> {
        Vec::new()
    }
    /// Run extractor `index` on `file`: its name and what it kept.
    fn extract(
        &self,
        _index: usize,
        _path: &str,
        _file: &mut dyn ReadSeek,
    ) -> Option<(&'static str, Vec<u8>)> {
        None
    }
}

/// Any `Fn(&str) -> bool` selects whole files by path.
impl<F: Fn(&str) -> bool + Sync> Selector for F {
    fn whole(&self, path: &str) -> bool {
        self(path)
    }
}

/// What one layer contributes to the merged view.
#[derive(Debug, Clone, Default)]
pub struct LayerContents {
    /// The layer's digest, `None` when unknown.
    pub digest: Option<Digest>,
    /// Directories made opaque (`""` is the root): lower content below them is hidden.
    pub opaque_dirs: Vec<String>,
    /// Paths deleted from lower layers.
    pub whiteouts: Vec<String>,
    items: HashMap<String, Item>,
    /// Possibly wanted hard links whose target is in a lower layer:
    /// (path, target, whether a missing target deserves a warning).
    lower_hardlinks: Vec<(String, String, bool)>,
    /// Hashes of every other path this layer writes (unwanted files,
    /// directories, devices): they replace whatever lower layers had there.
    shadowed: HashSet<u64>,
    pub warnings: Vec<ScanWarning>,
    /// Bytes read from the blob (compressed).
    pub compressed_bytes: u64,
    /// Bytes of the uncompressed tar stream.
    pub uncompressed_bytes: u64,
    pub entries: u64,
}

impl LayerContents {
    /// Number of buffered files and symlinks.
    pub fn buffered_items(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn encode_into(&self, w: &mut crate::cache::Writer) {
        let strs = |w: &mut crate::cache::Writer, v: &[String]| {
            w.u64(v.len() as u64);
            for s in v {
                w.str(s);
            }
        };
        strs(w, &self.opaque_dirs);
        strs(w, &self.whiteouts);
        let mut items: Vec<(&String, &Item)> = self.items.iter().collect();
        items.sort_by(|a, b| a.0.cmp(b.0));
        w.u64(items.len() as u64);
        for (path, item) in items {
            w.str(path);
            match item {
                Item::Symlink(t) => {
                    w.u64(0);
                    w.str(t);
                }
                Item::File { whole, extracts } => {
                    w.u64(1);
                    match whole {
                        Some(d) => {
                            w.u64(1);
                            w.bytes(d);
                        }
                        None => w.u64(0),
                    }
                    w.u64(extracts.len() as u64);
                    for (name, data) in extracts {
                        w.str(name);
                        w.bytes(data);
                    }
                }
            }
        }
        w.u64(self.lower_hardlinks.len() as u64);
        for (p, t, warn) in &self.lower_hardlinks {
            w.str(p);
            w.str(t);
            w.u64(u64::from(*warn));
        }
        let mut shadowed: Vec<u64> = self.shadowed.iter().copied().collect();
        shadowed.sort_unstable();
        w.u64(shadowed.len() as u64);
        for h in shadowed {
            w.u64(h);
        }
        w.u64(self.warnings.len() as u64);
        for x in &self.warnings {
            w.str(&x.location);
            w.str(&x.message);
        }
        w.u64(self.compressed_bytes);
        w.u64(self.uncompressed_bytes);
        w.u64(self.entries);
    }

    pub(crate) fn decode_from(r: &mut crate::cache::Reader<'_>) -> Option<LayerContents> {
        let strs = |r: &mut crate::cache::Reader<'_>| -> Option<Vec<String>> {
            let n = r.count()?;
            (0..n).map(|_| r.string()).collect()
        };
        let opaque_dirs = strs(r)?;
        let whiteouts = strs(r)?;
        let n = r.count()?;
        let mut items = HashMap::with_capacity(n);
        for _ in 0..n {
            let path = r.string()?;
            let item = match r.u64()? {
                0 => Item::Symlink(r.string()?),
                1 => {
                    let whole = match r.u64()? {
                        1 => Some(Arc::from(r.bytes()?)),
                        0 => None,
                        _ => return None,
                    };
                    let m = r.count()?;
                    let mut extracts = Vec::with_capacity(m);
                    for _ in 0..m {
                        let name: Arc<str> = Arc::from(r.string()?);
                        extracts.push((name, Arc::from(r.bytes()?)));
                    }
                    Item::File { whole, extracts }
                }
                _ => return None,
            };
            items.insert(path, item);
        }
        let n = r.count()?;
        let mut lower_hardlinks = Vec::with_capacity(n);
        for _ in 0..n {
            lower_hardlinks.push((r.string()?, r.string()?, r.u64()? != 0));
        }
        let n = r.count()?;
        let mut shadowed = HashSet::with_capacity(n);
        for _ in 0..n {
            shadowed.insert(r.u64()?);
        }
        let n = r.count()?;
        let mut warnings = Vec::with_capacity(n);
        for _ in 0..n {
            warnings.push(ScanWarning {
                location: r.string()?,
                message: r.string()?,
            });
        }
        Some(LayerContents {
            digest: None,
            opaque_dirs,
            whiteouts,
            items,
            lower_hardlinks,
            shadowed,
            warnings,
            compressed_bytes: r.u64()?,
            uncompressed_bytes: r.u64()?,
            entries: r.u64()?,
        })
    }
}

/// FNV-1a over the path: deterministic across threads, processes and
/// compiler versions, so shadow sets can be merged and cached.
pub(crate) fn path_hash(path: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in path.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Counts and hashes the raw (compressed) bytes as they are read.
struct HashingReader<R> {
    inner: R,
    hasher: Hashers,
    count: u64,
    progress: Option<Arc<dyn Fn(u64) + Send + Sync>>,
}

enum Hashers {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let data = buf.get(..n).unwrap_or(&[]);
        match &mut self.hasher {
            Hashers::Sha256(h) => h.update(data),
            Hashers::Sha512(h) => h.update(data),
        }
        self.count += n as u64;
        if let Some(p) = &self.progress {
            p(n as u64);
        }
        Ok(n)
    }
}

impl<R> HashingReader<R> {
    fn finish(self) -> (Digest, u64) {
        let d = match self.hasher {
            Hashers::Sha256(h) => Digest::from_bytes(DigestAlgorithm::Sha256, &h.finalize()),
            Hashers::Sha512(h) => Digest::from_bytes(DigestAlgorithm::Sha512, &h.finalize()),
        };
        (d, self.count)
    }
}

enum Decoder<R: Read> {
    Gzip(Box<flate2::bufread::MultiGzDecoder<BufReader<R>>>),
    Zstd(zstd::stream::read::Decoder<'static, BufReader<R>>),
    Plain(BufReader<R>),
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Gzip(d) => d.read(buf),
            Decoder::Zstd(d) => d.read(buf),
            Decoder::Plain(d) => d.read(buf),
        }
    }
}

impl<R: Read> Decoder<R> {
    fn into_inner(self) -> R {
        match self {
            Decoder::Gzip(d) => (*d).into_inner().into_inner(),
            Decoder::Zstd(d) => d.finish().into_inner(),
            Decoder::Plain(d) => d.into_inner(),
        }
    }
}

/// Compression of a blob, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
    None,
}

/// Options for reading one layer.
pub struct LayerReadOptions<'a> {
    /// For error messages: the digest, or a name when there is none.
    pub label: String,
    /// Checked against the raw blob when given.
    pub expected: Option<&'a Digest>,
    /// The layer's identity for reports (defaults to `expected`).
    pub digest: Option<&'a Digest>,
    pub selector: &'a dyn Selector,
    pub limits: &'a Limits,
    pub budget: &'a Budget,
    /// Called with the number of raw bytes read, as they are read.
    pub progress: Option<Arc<dyn Fn(u64) + Send + Sync>>,
}

/// Read one layer blob (compressed or not) as a stream.
pub fn read_layer<R: Read>(
    raw: R,
    opts: &LayerReadOptions<'_>,
) -> Result<LayerContents, LayerError> {
    let label = opts.label.clone();
    let hasher = match opts.expected.map(Digest::algorithm) {
        Some(DigestAlgorithm::Sha512) => Hashers::Sha512(Sha512::new()),
        _ => Hashers::Sha256(Sha256::new()),
    };
    let hashing = HashingReader {
        inner: raw,
        hasher,
        count: 0,
        progress: opts.progress.clone(),
    };
    let mut buffered = BufReader::with_capacity(256 * 1024, hashing);
    let head = buffered.fill_buf().map_err(|e| LayerError::Corrupt {
        layer: label.clone(),
        source: e,
    })?;
    let compression = match head {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
        [b'B', b'Z', b'h', ..] => {
            return Err(LayerError::UnsupportedCompression {
                layer: label,
                what: "bzip2",
            })
        }
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => {
            return Err(LayerError::UnsupportedCompression {
                layer: label,
                what: "xz",
            })
        }
        _ => Compression::None,
    };
    let decoder = match compression {
        Compression::Gzip => {
            Decoder::Gzip(Box::new(flate2::bufread::MultiGzDecoder::new(buffered)))
        }
        Compression::Zstd => Decoder::Zstd(
            zstd::stream::read::Decoder::with_buffer(buffered).map_err(|e| {
                LayerError::Corrupt {
                    layer: label.clone(),
                    source: e,
                }
            })?,
        ),
        Compression::None => Decoder::Plain(buffered),
    };

    let mut tar = TarReader::new(decoder, *opts.limits);
    let mut contents = LayerContents {
        digest: opts.digest.cloned().or_else(|| opts.expected.cloned()),
        ..LayerContents::default()
    };
    let walked = walk(&mut tar, opts, &mut contents);
    let walked = walked.and_then(|()| tar.drain());
    if let Err(e) = walked {
        return Err(tar_error(label, e, compression));
    }
    contents.uncompressed_bytes = tar.position();
    if tar.unterminated() {
        contents.warnings.push(ScanWarning {
            location: label.clone(),
            message:
                "tar stream ends without padding or end-of-archive blocks (all data was present)"
                    .into(),
        });
    }
    // Whatever the decoder left unread (gzip trailer, padding) still counts
    // towards the digest.
    let mut hashing = tar.into_inner().into_inner();
    io::copy(&mut hashing, &mut io::sink()).map_err(|e| LayerError::Corrupt {
        layer: label.clone(),
        source: e,
    })?;
    let (actual, count) = hashing.finish();
    contents.compressed_bytes = count;
    if let Some(expected) = opts.expected {
        if &actual != expected {
            return Err(LayerError::DigestMismatch {
                layer: label,
                expected: expected.clone(),
                actual,
            });
        }
    }
    Ok(contents)
}

fn tar_error(layer: String, e: TarError, compression: Compression) -> LayerError {
    match e {
        TarError::Io(io) if compression != Compression::None => {
            LayerError::Corrupt { layer, source: io }
        }
        other => LayerError::Tar {
            layer,
            source: other,
        },
    }
}

fn walk<R: Read>(
    tar: &mut TarReader<R>,
    opts: &LayerReadOptions<'_>,
    out: &mut LayerContents,
) -> Result<(), TarError> {
    let warn = |out: &mut LayerContents, path: &str, msg: String| {
        if out.warnings.len() < 1000 {
            out.warnings.push(ScanWarning {
                location: format!("{}:{}", opts.label, path),
                message: msg,
            });
        }
    };
    while let Some(entry) = tar.next_entry()? {
        out.entries += 1;
        let Some(path) = normalize_path(&entry.path) else {
            if entry.path.split('/').any(|c| c == "..") {
                warn(
                    out,
                    &entry.path,
                    "entry path climbs above the image root; skipped".into(),
                );
            }
            continue;
        };
        let (parent, base) = match path.rsplit_once('/') {
            Some((p, b)) => (p, b),
            None => ("", path.as_str()),
        };
        if let Some(target) = base.strip_prefix(".wh.") {
            if target == ".wh..opq" {
                out.opaque_dirs.push(parent.to_string());
            } else if target.starts_with(".wh.") {
                // aufs bookkeeping (.wh..wh.plnk etc.): not part of the image.
            } else if target.is_empty() || target == "." || target == ".." {
                warn(out, &path, "malformed whiteout; ignored".into());
            } else if parent.is_empty() {
                out.whiteouts.push(target.to_string());
            } else {
                out.whiteouts.push(format!("{parent}/{target}"));
            }
            continue;
        }
        match entry.kind {
            EntryKind::File => {
                let whole = opts.selector.whole(&path);
                let mut head: Vec<u8> = Vec::new();
                let mut elf = false;
                if !whole
                    && entry.mode & 0o111 != 0
                    && entry.size >= 4
                    && opts.selector.wants_executables()
                {
                    let mut magic = [0u8; 4];
                    tar.data_reader()
                        .read_exact(&mut magic)
                        .map_err(TarError::Io)?;
                    head.extend_from_slice(&magic);
                    elf = &magic == b"\x7fELF";
                }
                let extractors = opts.selector.extractors(&path, elf);
                if !whole && extractors.is_empty() {
                    shadow(out, path);
                    continue;
                }
                if whole {
                    if entry.size > opts.limits.max_buffered_file {
                        warn(
                            out,
                            &path,
                            format!(
                                "file is {} bytes, over the {}-byte limit for package databases; skipped",
                                entry.size, opts.limits.max_buffered_file
                            ),
                        );
                        shadow(out, path);
                        continue;
                    }
                    if !opts.budget.take(entry.size) {
                        warn(
                            out,
                            &path,
                            format!(
                                "the image's buffering budget of {} bytes is spent; file skipped",
                                opts.limits.max_buffered_total
                            ),
                        );
                        shadow(out, path);
                        continue;
                    }
                    let mut data = head;
                    data.extend_from_slice(&tar.read_data()?);
                    let extracts =
                        run_extractors(opts, &extractors, &path, &mut Cursor::new(&data[..]));
                    out.items.insert(
                        path,
                        Item::File {
                            whole: Some(Arc::from(data)),
                            extracts,
                        },
                    );
                    continue;
                }
                if entry.size > opts.limits.max_extract_input {
                    warn(
                        out,
                        &path,
                        format!(
                            "file is {} bytes, over the {}-byte limit for extraction; skipped",
                            entry.size, opts.limits.max_extract_input
                        ),
                    );
                    shadow(out, path);
                    continue;
                }
                let extracts = if entry.size <= opts.limits.max_in_memory_extract {
                    let mut data = head;
                    data.extend_from_slice(&tar.read_data()?);
                    run_extractors(opts, &extractors, &path, &mut Cursor::new(&data[..]))
                } else {
                    // Large: an unnamed temporary file, gone when dropped.
                    let mut spool = match tempfile::tempfile() {
                        Ok(f) => f,
                        Err(e) => {
                            warn(
                                out,
                                &path,
                                format!(
                                    "cannot create a temporary file for extraction: {e}; skipped"
                                ),
                            );
                            shadow(out, path);
                            continue;
                        }
                    };
                    let copied = spool
                        .write_all(&head)
                        .and_then(|()| io::copy(&mut tar.data_reader(), &mut spool).map(|_| ()))
                        .and_then(|()| spool.seek(SeekFrom::Start(0)).map(|_| ()));
                    if let Err(e) = copied {
                        if e.kind() == io::ErrorKind::UnexpectedEof {
                            return Err(TarError::Io(e));
                        }
                        warn(
                            out,
                            &path,
                            format!("cannot spool for extraction: {e}; skipped"),
                        );
                        shadow(out, path);
                        continue;
                    }
                    run_extractors(opts, &extractors, &path, &mut spool)
                };
                if extracts.is_empty() {
                    shadow(out, path);
                } else {
                    out.items.insert(
                        path,
                        Item::File {
                            whole: None,
                            extracts,
                        },
                    );
                }
            }
            EntryKind::Symlink(target) => {
                if out.items.len() >= opts.limits.max_symlinks {
                    warn(out, &path, "too many symlinks in one layer; skipped".into());
                    shadow(out, path);
                    continue;
                }
                out.items.insert(path, Item::Symlink(target));
            }
            EntryKind::HardLink(target) => {
                let Some(target) = normalize_path(&target) else {
                    warn(
                        out,
                        &path,
                        format!("hard link to {target:?} points outside the image root; skipped"),
                    );
                    shadow(out, path);
                    continue;
                };
                // A link shares its target's content: keep whatever was kept
                // of the target (its path may be the one a cataloger wants).
                let maybe_wanted = opts.selector.whole(&path)
                    || opts.selector.wants_executables()
                    || !opts.selector.extractors(&path, false).is_empty();
                let target_kept = matches!(out.items.get(&target), Some(Item::File { .. }));
                if !maybe_wanted && !target_kept {
                    shadow(out, path);
                    continue;
                }
                match out.items.get(&target) {
                    Some(Item::File { whole, extracts }) => {
                        let item = Item::File {
                            whole: whole.clone(),
                            extracts: extracts.clone(),
                        };
                        out.items.insert(path, item);
                    }
                    _ if out.shadowed.contains(&path_hash(&target)) => {
                        // Only a link a cataloger wants by name loses something.
                        if opts.selector.whole(&path) {
                            warn(
                                out,
                                &path,
                                format!(
                                    "hard link to {target} whose content was not kept; skipped"
                                ),
                            );
                        }
                        shadow(out, path);
                    }
                    _ => {
                        let whole = opts.selector.whole(&path);
                        out.lower_hardlinks.push((path, target, whole));
                    }
                }
            }
            EntryKind::Dir => shadow(out, path),
            EntryKind::Sparse => {
                if opts.selector.whole(&path) {
                    warn(
                        out,
                        &path,
                        "sparse file not supported for package databases; skipped".into(),
                    );
                }
                shadow(out, path);
            }
            EntryKind::Other(flag) => {
                if matches!(flag, b'3' | b'4') {
                    warn(out, &path, "device node ignored".into());
                }
                shadow(out, path);
            }
        }
    }
    Ok(())
}

/// Run each extractor over `file`, rewinding between them. Extracts count
/// against the image's buffering budget.
fn run_extractors(
    opts: &LayerReadOptions<'_>,
    which: &[usize],
    path: &str,
    file: &mut dyn ReadSeek,
) -> Extracts {
    let mut out = Vec::new();
    for &i in which {
        if file.seek(SeekFrom::Start(0)).is_err() {
            break;
        }
        if let Some((name, bytes)) = opts.selector.extract(i, path, file) {
            if opts.budget.take(bytes.len() as u64) {
                out.push((Arc::from(name), Arc::from(bytes)));
            }
        }
    }
    out
}

fn shadow(out: &mut LayerContents, path: String) {
    out.shadowed.insert(path_hash(&path));
    out.items.remove(&path);
}

/// Merge one layer on top of the view built from the layers below it.
pub fn apply_layer(view: &mut FsView, layer: LayerContents) -> Vec<ScanWarning> {
    let mut warnings = layer.warnings;
    for dir in &layer.opaque_dirs {
        view.clear_dir(dir);
    }
    for path in &layer.whiteouts {
        view.remove_tree(path);
    }
    // Hard links into lower layers, resolved before this layer's own changes.
    let mut linked = Vec::new();
    for (path, target, warn_missing) in layer.lower_hardlinks {
        match view.file_parts(&target) {
            Some(parts) => linked.push((path, parts)),
            None if !warn_missing => {}
            None => warnings.push(ScanWarning {
                location: format!(
                    "{}:{}",
                    layer
                        .digest
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    path
                ),
                message: format!("hard link to {target}, which no lower layer holds; skipped"),
            }),
        }
    }
    if !layer.shadowed.is_empty() {
        view.retain(|p| !layer.shadowed.contains(&path_hash(p)));
    }
    for (path, item) in layer.items {
        match item {
            Item::File { whole, extracts } => {
                view.insert_entry(path, whole, extracts, layer.digest.clone())
            }
            Item::Symlink(target) => view.insert_symlink(path, target, layer.digest.clone()),
        }
    }
    for (path, (whole, extracts)) in linked {
        view.insert_entry(path, whole, extracts, layer.digest.clone());
    }
    warnings
}
