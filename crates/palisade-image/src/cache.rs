//! Content-addressed cache of what each layer contributed.
//!
//! A layer's [`LayerContents`] depends only on its bytes and on what the
//! catalogers asked for, so it is cached under the layer digest and a key
//! of the cataloger set. A rescan of an image whose layers were seen reads
//! a few small files instead of downloading and decompressing; only
//! cataloging and matching run again.
//!
//! Safe under concurrent scans: entries are written to a temporary file in
//! the cache directory and renamed into place (readers see a whole entry or
//! none). Every entry carries a checksum; a corrupt or foreign one is a
//! miss and is removed. The cache is size-capped: after a write, the least
//! recently used entries (by modification time, refreshed on every hit)
//! are evicted until the total fits.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use palisade_model::Digest;

use crate::layer::LayerContents;

const MAGIC: &[u8; 8] = b"PLSDLC02";

/// A layer cache in a directory.
#[derive(Debug, Clone)]
pub struct LayerCache {
    dir: PathBuf,
    max_bytes: u64,
    /// Distinguishes cataloger sets: entries made for others are misses.
    key: String,
}

impl LayerCache {
    /// Default location: `$PALISADE_CACHE_DIR`, else `~/.cache/palisade/layers`.
    pub fn default_dir() -> PathBuf {
        if let Some(d) = std::env::var_os("PALISADE_CACHE_DIR") {
            return PathBuf::from(d);
        }
        dirs::cache_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join("palisade")
            .join("layers")
    }

    /// `key` names what was extracted (the cataloger set and its version).
    pub fn new(dir: impl Into<PathBuf>, max_bytes: u64, key: impl Into<String>) -> LayerCache {
        LayerCache {
            dir: dir.into(),
            max_bytes,
            key: key.into(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, digest: &Digest) -> PathBuf {
        // Digest hex is validated lowercase hex: safe as a file name.
        self.dir.join(format!(
            "{}-{}.layer",
            digest.algorithm().as_str(),
            digest.hex()
        ))
    }

    /// The cached contents of layer `digest`, if present and intact.
    pub fn get(&self, digest: &Digest) -> Option<LayerContents> {
        let path = self.path(digest);
        let bytes = fs::read(&path).ok()?;
        match decode(&bytes, &self.key) {
            Some(mut c) => {
                // Refresh recency for eviction.
                if let Ok(f) = fs::File::options().append(true).open(&path) {
                    let _ = f.set_modified(SystemTime::now());
                }
                c.digest = Some(digest.clone());
                Some(c)
            }
            None => {
                tracing::debug!(path = %path.display(), "discarding unreadable layer cache entry");
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    /// Store layer `digest`'s contents. Failures are logged, never fatal.
    pub fn put(&self, digest: &Digest, contents: &LayerContents) {
        if let Err(e) = self.try_put(digest, contents) {
            tracing::warn!(dir = %self.dir.display(), error = %e, "cannot write the layer cache");
        }
    }

    fn try_put(&self, digest: &Digest, contents: &LayerContents) -> std::io::Result<()> {
        let bytes = encode(contents, &self.key);
        if bytes.len() as u64 > self.max_bytes {
            return Ok(());
        }
        fs::create_dir_all(&self.dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        tmp.write_all(&bytes)?;
        tmp.as_file().sync_data()?;
        tmp.persist(self.path(digest)).map_err(|e| e.error)?;
        self.evict();
        Ok(())
    }

    /// Remove least recently used entries until the total fits the cap.
    fn evict(&self) {
        let Ok(rd) = fs::read_dir(&self.dir) else {
            return;
        };
        let mut entries: Vec<(SystemTime, u64, PathBuf)> = rd
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "layer"))
            .filter_map(|e| {
                let md = e.metadata().ok()?;
                Some((md.modified().ok()?, md.len(), e.path()))
            })
            .collect();
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        if total <= self.max_bytes {
            return;
        }
        entries.sort();
        for (_, len, path) in entries {
            if total <= self.max_bytes {
                break;
            }
            if fs::remove_file(&path).is_ok() {
                total = total.saturating_sub(len);
            }
        }
    }
}

// ---- encoding: length-prefixed fields, FNV checksum at the end ------------

fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

pub(crate) struct Writer(pub(crate) Vec<u8>);

impl Writer {
    pub(crate) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    pub(crate) fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
}

pub(crate) struct Reader<'a>(pub(crate) &'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn u64(&mut self) -> Option<u64> {
        let (head, rest) = self.0.split_at_checked(8)?;
        self.0 = rest;
        Some(u64::from_le_bytes(head.try_into().ok()?))
    }
    pub(crate) fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u64()?).ok()?;
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }
    pub(crate) fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }
    /// A count, bounded by what the remaining bytes could hold.
    pub(crate) fn count(&mut self) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        (n <= self.0.len()).then_some(n)
    }
}

fn encode(c: &LayerContents, key: &str) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(4096));
    w.0.extend_from_slice(MAGIC);
    w.str(key);
    c.encode_into(&mut w);
    let sum = fnv(&w.0);
    w.u64(sum);
    w.0
}

fn decode(bytes: &[u8], key: &str) -> Option<LayerContents> {
    let body_len = bytes.len().checked_sub(8)?;
    let (body, sum) = bytes.split_at_checked(body_len)?;
    if fnv(body) != u64::from_le_bytes(sum.try_into().ok()?) {
        return None;
    }
    let rest = body.strip_prefix(MAGIC.as_slice())?;
    let mut r = Reader(rest);
    if r.bytes()? != key.as_bytes() {
        return None;
    }
    let c = LayerContents::decode_from(&mut r)?;
    r.0.is_empty().then_some(c)
}
