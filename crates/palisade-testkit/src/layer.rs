//! Layers: tar archives built from a list of entries, then compressed.
//!
//! Ordinary entries go through the `tar` crate's `Builder`, which refuses
//! hostile names; [`RawEntry`] writes the header bytes itself, so names with
//! `..`, absolute names, device nodes, and headers that lie about their size
//! can be produced. Output is deterministic: fixed mtime, uid and gid 0, so a
//! layer's digests are stable from run to run.

use std::io::Write;

use flate2::write::GzEncoder;
use tar::{EntryType, Header};

use crate::digest::Digest;
use crate::error::{Error, Result};

/// Modification time written in every header (2024-01-01T00:00:00Z).
pub const MTIME: u64 = 1_704_067_200;

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Compression {
    /// A plain tar.
    None,
    /// gzip (the usual case).
    #[default]
    Gzip,
    /// zstd.
    Zstd,
}

/// One well-formed tar entry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Entry {
    /// A regular file.
    File {
        path: String,
        data: Vec<u8>,
        mode: u32,
    },
    /// A directory (written with a trailing `/`).
    Dir { path: String, mode: u32 },
    /// A symbolic link; `target` is written verbatim and may point anywhere.
    Symlink { path: String, target: String },
    /// A hard link to an earlier entry; `target` is written verbatim.
    HardLink { path: String, target: String },
    /// A header written byte for byte (see [`RawEntry`]).
    Raw(RawEntry),
}

impl Entry {
    /// A regular file with mode 0644.
    pub fn file(path: impl Into<String>, data: impl Into<Vec<u8>>) -> Self {
        Entry::file_with_mode(path, data, 0o644)
    }

    /// A regular file with the given permission bits.
    pub fn file_with_mode(path: impl Into<String>, data: impl Into<Vec<u8>>, mode: u32) -> Self {
        Entry::File {
            path: path.into(),
            data: data.into(),
            mode,
        }
    }

    /// A directory with mode 0755.
    pub fn dir(path: impl Into<String>) -> Self {
        Entry::Dir {
            path: path.into(),
            mode: 0o755,
        }
    }

    /// A symbolic link `path -> target`.
    pub fn symlink(path: impl Into<String>, target: impl Into<String>) -> Self {
        Entry::Symlink {
            path: path.into(),
            target: target.into(),
        }
    }

    /// A hard link `path` to the earlier entry `target`.
    pub fn hardlink(path: impl Into<String>, target: impl Into<String>) -> Self {
        Entry::HardLink {
            path: path.into(),
            target: target.into(),
        }
    }

    /// A whiteout deleting `path` from lower layers: an empty file `DIR/.wh.NAME`.
    pub fn whiteout(path: &str) -> Self {
        let path = path.trim_end_matches('/');
        let (dir, name) = match path.rsplit_once('/') {
            Some((dir, name)) => (format!("{dir}/"), name),
            None => (String::new(), path),
        };
        Entry::file(format!("{dir}.wh.{name}"), Vec::new())
    }

    /// An opaque whiteout hiding everything lower layers put in `dir`:
    /// an empty file `DIR/.wh..wh..opq`.
    pub fn opaque_whiteout(dir: &str) -> Self {
        let dir = dir.trim_end_matches('/');
        Entry::file(format!("{dir}/.wh..wh..opq"), Vec::new())
    }

    /// The entry's path as it will appear in the archive (lossy for raw names).
    pub fn path(&self) -> String {
        match self {
            Entry::File { path, .. }
            | Entry::Dir { path, .. }
            | Entry::Symlink { path, .. }
            | Entry::HardLink { path, .. } => path.clone(),
            Entry::Raw(raw) => String::from_utf8_lossy(&raw.name).into_owned(),
        }
    }
}

/// A tar header written as given, without the `tar` crate's path checks.
///
/// `name` goes into the 100-byte name field and `link_name` into the 100-byte
/// link field of a GNU header, byte for byte; the checksum is recomputed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEntry {
    /// Name field bytes (at most 100).
    pub name: Vec<u8>,
    /// Type flag.
    pub kind: EntryType,
    /// Permission bits.
    pub mode: u32,
    /// Link name field bytes (at most 100), for links.
    pub link_name: Vec<u8>,
    /// Device major and minor numbers, for device nodes.
    pub device: Option<(u32, u32)>,
    /// Bytes written after the header (padded to 512).
    pub data: Vec<u8>,
    /// Size written in the header; `None` means `data.len()`.
    pub claimed_size: Option<u64>,
}

impl RawEntry {
    fn new(name: impl Into<Vec<u8>>, kind: EntryType, mode: u32) -> Self {
        RawEntry {
            name: name.into(),
            kind,
            mode,
            link_name: Vec::new(),
            device: None,
            data: Vec::new(),
            claimed_size: None,
        }
    }

    /// A regular file with any name (`../x`, `/etc/x`, ...).
    pub fn file(name: impl Into<Vec<u8>>, data: impl Into<Vec<u8>>) -> Self {
        RawEntry {
            data: data.into(),
            ..RawEntry::new(name, EntryType::Regular, 0o644)
        }
    }

    /// A directory with any name.
    pub fn dir(name: impl Into<Vec<u8>>) -> Self {
        RawEntry::new(name, EntryType::Directory, 0o755)
    }

    /// A character device node.
    pub fn char_device(name: impl Into<Vec<u8>>, major: u32, minor: u32) -> Self {
        RawEntry {
            device: Some((major, minor)),
            ..RawEntry::new(name, EntryType::Char, 0o666)
        }
    }

    /// A block device node.
    pub fn block_device(name: impl Into<Vec<u8>>, major: u32, minor: u32) -> Self {
        RawEntry {
            device: Some((major, minor)),
            ..RawEntry::new(name, EntryType::Block, 0o660)
        }
    }

    /// A named pipe.
    pub fn fifo(name: impl Into<Vec<u8>>) -> Self {
        RawEntry::new(name, EntryType::Fifo, 0o644)
    }

    /// A symbolic link with any name and target.
    pub fn symlink(name: impl Into<Vec<u8>>, target: impl Into<Vec<u8>>) -> Self {
        RawEntry {
            link_name: target.into(),
            ..RawEntry::new(name, EntryType::Symlink, 0o777)
        }
    }

    /// A hard link with any name and target.
    pub fn hardlink(name: impl Into<Vec<u8>>, target: impl Into<Vec<u8>>) -> Self {
        RawEntry {
            link_name: target.into(),
            ..RawEntry::new(name, EntryType::Link, 0o644)
        }
    }

    /// Make the header claim `size` bytes whatever `data` holds.
    pub fn claimed_size(mut self, size: u64) -> Self {
        self.claimed_size = Some(size);
        self
    }

    fn header(&self) -> Result<Header> {
        let lossy = || String::from_utf8_lossy(&self.name).into_owned();
        let too_long = |field, len| Error::RawFieldTooLong {
            name: lossy(),
            field,
            len,
            max: 100,
        };
        let mut header = Header::new_gnu();
        header.set_entry_type(self.kind);
        header.set_mode(self.mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(MTIME);
        header.set_size(self.claimed_size.unwrap_or(self.data.len() as u64));
        if let Some((major, minor)) = self.device {
            let tar_err = |source| Error::TarEntry {
                path: lossy(),
                source,
            };
            header.set_device_major(major).map_err(tar_err)?;
            header.set_device_minor(minor).map_err(tar_err)?;
        }
        let gnu = header.as_gnu_mut().expect("a GNU header was created");
        if self.name.len() > gnu.name.len() {
            return Err(too_long("name", self.name.len()));
        }
        if self.link_name.len() > gnu.linkname.len() {
            return Err(too_long("link name", self.link_name.len()));
        }
        gnu.name = [0; 100];
        gnu.name[..self.name.len()].copy_from_slice(&self.name);
        gnu.linkname = [0; 100];
        gnu.linkname[..self.link_name.len()].copy_from_slice(&self.link_name);
        header.set_cksum();
        Ok(header)
    }
}

impl From<RawEntry> for Entry {
    fn from(raw: RawEntry) -> Self {
        Entry::Raw(raw)
    }
}

/// A layer under construction: its entries, compression and history line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    entries: Vec<Entry>,
    compression: Compression,
    created_by: String,
    media_type: Option<String>,
    truncate_tar: Option<usize>,
    truncate_blob: Option<usize>,
}

impl Default for Layer {
    fn default() -> Self {
        Layer::new()
    }
}

impl Layer {
    /// An empty gzip layer.
    pub fn new() -> Self {
        Layer {
            entries: Vec::new(),
            compression: Compression::Gzip,
            created_by: String::from("palisade-testkit"),
            media_type: None,
            truncate_tar: None,
            truncate_blob: None,
        }
    }

    /// Append any entry.
    pub fn entry(mut self, entry: impl Into<Entry>) -> Self {
        self.entries.push(entry.into());
        self
    }

    /// Append a regular file with mode 0644.
    pub fn file(self, path: impl Into<String>, data: impl Into<Vec<u8>>) -> Self {
        self.entry(Entry::file(path, data))
    }

    /// Append a regular file with the given mode.
    pub fn file_with_mode(
        self,
        path: impl Into<String>,
        data: impl Into<Vec<u8>>,
        mode: u32,
    ) -> Self {
        self.entry(Entry::file_with_mode(path, data, mode))
    }

    /// Append a directory.
    pub fn dir(self, path: impl Into<String>) -> Self {
        self.entry(Entry::dir(path))
    }

    /// Append directories for `path` and each of its parents, outermost first.
    pub fn dirs(mut self, path: &str) -> Self {
        let mut prefix = String::new();
        for part in path.trim_matches('/').split('/').filter(|p| !p.is_empty()) {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            self = self.dir(prefix.clone());
        }
        self
    }

    /// Append a symbolic link.
    pub fn symlink(self, path: impl Into<String>, target: impl Into<String>) -> Self {
        self.entry(Entry::symlink(path, target))
    }

    /// Append a hard link.
    pub fn hardlink(self, path: impl Into<String>, target: impl Into<String>) -> Self {
        self.entry(Entry::hardlink(path, target))
    }

    /// Append a whiteout deleting `path`.
    pub fn whiteout(self, path: &str) -> Self {
        self.entry(Entry::whiteout(path))
    }

    /// Append an opaque whiteout for `dir`.
    pub fn opaque_whiteout(self, dir: &str) -> Self {
        self.entry(Entry::opaque_whiteout(dir))
    }

    /// Append a raw, possibly hostile, header.
    pub fn raw(self, raw: RawEntry) -> Self {
        self.entry(Entry::Raw(raw))
    }

    /// Set the compression (default gzip).
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// Set the `created_by` of this layer's history entry.
    pub fn created_by(mut self, created_by: impl Into<String>) -> Self {
        self.created_by = created_by.into();
        self
    }

    /// Use this media type in the manifest instead of the one derived from
    /// the compression and format.
    pub fn media_type(mut self, media_type: impl Into<String>) -> Self {
        self.media_type = Some(media_type.into());
        self
    }

    /// Cut the uncompressed tar after `len` bytes (no end-of-archive blocks),
    /// then compress what is left: a well-formed blob holding a truncated tar.
    pub fn truncate_tar_at(mut self, len: usize) -> Self {
        self.truncate_tar = Some(len);
        self
    }

    /// Cut the compressed blob after `len` bytes: a truncated gzip or zstd
    /// stream. The manifest digest is of the cut blob, so registries accept it;
    /// the diff_id is of the whole tar.
    pub fn truncate_blob_at(mut self, len: usize) -> Self {
        self.truncate_blob = Some(len);
        self
    }

    /// The entries, in archive order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The configured compression.
    pub fn get_compression(&self) -> Compression {
        self.compression
    }

    /// The history line.
    pub fn get_created_by(&self) -> &str {
        &self.created_by
    }

    pub(crate) fn media_type_override(&self) -> Option<&str> {
        self.media_type.as_deref()
    }

    /// The uncompressed tar, truncated if asked.
    pub fn tar_bytes(&self) -> Result<Vec<u8>> {
        let mut builder = tar::Builder::new(Vec::new());
        builder.mode(tar::HeaderMode::Deterministic);
        for entry in &self.entries {
            append(&mut builder, entry).map_err(|source| Error::TarEntry {
                path: entry.path(),
                source,
            })?;
        }
        let mut tar = builder.into_inner().map_err(|source| Error::TarEntry {
            path: String::from("<end of archive>"),
            source,
        })?;
        if let Some(len) = self.truncate_tar {
            tar.truncate(len);
        }
        Ok(tar)
    }

    /// Build the tar, compress it and digest both forms.
    pub fn build(&self) -> Result<BuiltLayer> {
        let tar = self.tar_bytes()?;
        let mut compressed = compress(&tar, self.compression)?;
        if let Some(len) = self.truncate_blob {
            compressed.truncate(len);
        }
        Ok(BuiltLayer {
            diff_id: Digest::sha256(&tar),
            digest: Digest::sha256(&compressed),
            compression: self.compression,
            uncompressed: tar,
            compressed,
        })
    }
}

/// A layer after [`Layer::build`]: the blob and the tar it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltLayer {
    /// Digest of the blob as stored (compressed) — the manifest's layer digest.
    pub digest: Digest,
    /// Digest of the uncompressed tar — the config's `rootfs.diff_ids` entry.
    pub diff_id: Digest,
    /// How `compressed` is compressed.
    pub compression: Compression,
    /// The blob bytes.
    pub compressed: Vec<u8>,
    /// The tar bytes.
    pub uncompressed: Vec<u8>,
}

/// Compress `data` deterministically.
pub fn compress(data: &[u8], compression: Compression) -> Result<Vec<u8>> {
    let err = |source| Error::Compress {
        compression,
        source,
    };
    match compression {
        Compression::None => Ok(data.to_vec()),
        Compression::Gzip => {
            let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(data).map_err(err)?;
            enc.finish().map_err(err)
        }
        Compression::Zstd => zstd::stream::encode_all(data, 3).map_err(err),
    }
}

fn base_header(kind: EntryType, mode: u32, size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(MTIME);
    header
}

fn append(builder: &mut tar::Builder<Vec<u8>>, entry: &Entry) -> std::io::Result<()> {
    match entry {
        Entry::File { path, data, mode } => {
            let mut h = base_header(EntryType::Regular, *mode, data.len() as u64);
            builder.append_data(&mut h, path, data.as_slice())
        }
        Entry::Dir { path, mode } => {
            let mut h = base_header(EntryType::Directory, *mode, 0);
            let path = format!("{}/", path.trim_end_matches('/'));
            builder.append_data(&mut h, path, std::io::empty())
        }
        Entry::Symlink { path, target } => {
            let mut h = base_header(EntryType::Symlink, 0o777, 0);
            builder.append_link(&mut h, path, target)
        }
        Entry::HardLink { path, target } => {
            let mut h = base_header(EntryType::Link, 0o644, 0);
            builder.append_link(&mut h, path, target)
        }
        Entry::Raw(raw) => {
            let header = raw.header().map_err(std::io::Error::other)?;
            builder.append(&header, raw.data.as_slice())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn names(tar: &[u8]) -> Vec<String> {
        let mut archive = tar::Archive::new(tar);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                String::from_utf8_lossy(&e.path_bytes()).into_owned()
            })
            .collect()
    }

    #[test]
    fn whiteout_names() {
        assert_eq!(
            Entry::whiteout("var/lib/dpkg/status").path(),
            "var/lib/dpkg/.wh.status"
        );
        assert_eq!(Entry::whiteout("top").path(), ".wh.top");
        assert_eq!(
            Entry::opaque_whiteout("var/lib/dpkg/").path(),
            "var/lib/dpkg/.wh..wh..opq"
        );
    }

    #[test]
    fn raw_entries_keep_hostile_names() {
        let layer = Layer::new()
            .dir("etc")
            .raw(RawEntry::file("../../etc/passwd", "x"))
            .raw(RawEntry::file("/abs", "y"))
            .raw(RawEntry::char_device("dev/mem", 1, 1))
            .symlink("etc/out", "../../../../");
        let tar = layer.tar_bytes().unwrap();
        assert_eq!(
            names(&tar),
            ["etc/", "../../etc/passwd", "/abs", "dev/mem", "etc/out"]
        );
        let mut archive = tar::Archive::new(tar.as_slice());
        let mut entries = archive.entries().unwrap();
        let _ = entries.next();
        let mut e = entries.next().unwrap().unwrap();
        let mut body = String::new();
        e.read_to_string(&mut body).unwrap();
        assert_eq!(body, "x");
    }

    #[test]
    fn builds_are_deterministic_and_digested() {
        for c in [Compression::None, Compression::Gzip, Compression::Zstd] {
            let layer = Layer::new().file("a", "hello").compression(c);
            let one = layer.build().unwrap();
            let two = layer.build().unwrap();
            assert_eq!(one, two);
            assert_eq!(one.diff_id, Digest::sha256(&one.uncompressed));
            assert_eq!(one.digest, Digest::sha256(&one.compressed));
        }
    }

    #[test]
    fn huge_claimed_size_is_written() {
        let tar = Layer::new()
            .raw(RawEntry::file("big", vec![b'A'; 512]).claimed_size(1 << 40))
            .tar_bytes()
            .unwrap();
        let header = Header::from_byte_slice(&tar[..512]);
        assert_eq!(header.size().unwrap(), 1 << 40);
        assert_eq!(tar.len(), 512 + 512 + 1024);
    }
}
