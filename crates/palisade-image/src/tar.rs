//! A streaming tar reader written for hostile input.
//!
//! Why not the `tar` crate: we need hard bounds on every length a header can
//! claim (GNU long names, PAX records), exact offsets for indexing `docker
//! save` archives, and skipping without ever buffering unwanted data. The
//! format is small: 512-byte headers (ustar, GNU and PAX extensions), data
//! padded to 512 bytes, two zero blocks at the end.

use std::io::{self, Read};

use crate::limits::Limits;

const BLOCK: usize = 512;

/// What kind of entry a header describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EntryKind {
    File,
    HardLink(String),
    Symlink(String),
    Dir,
    /// GNU sparse file: its archived data is not the file's content.
    Sparse,
    /// Character/block device, FIFO, or an unknown type flag.
    Other(u8),
}

/// One tar entry's metadata (after GNU/PAX extensions were applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The path exactly as archived (not normalised).
    pub(crate) path: String,
    pub(crate) kind: EntryKind,
    /// Bytes of data following the header (before padding).
    pub(crate) size: u64,
    /// Offset of the data in the uncompressed stream.
    pub(crate) data_offset: u64,
    /// Permission bits from the header.
    pub(crate) mode: u32,
}

/// Why a tar stream could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TarError {
    #[error("truncated tar stream at offset {offset}")]
    Truncated { offset: u64 },
    #[error("corrupt tar header at offset {offset}: {reason}")]
    CorruptHeader { offset: u64, reason: &'static str },
    #[error("tar {what} at offset {offset} is {len} bytes, over the limit of {limit}")]
    TooLong {
        what: &'static str,
        offset: u64,
        len: u64,
        limit: u64,
    },
    #[error("more than {limit} entries in one layer")]
    TooManyEntries { limit: u64 },
    #[error("layer expands to more than {limit} bytes (decompression bomb?)")]
    TooLarge { limit: u64 },
    #[error("reading tar stream")]
    Io(#[source] io::Error),
}

/// Parse an octal or GNU base-256 numeric header field.
fn parse_number(field: &[u8]) -> Option<u64> {
    let first = *field.first()?;
    if first & 0x80 != 0 {
        // base-256: big-endian two's complement; negative values are invalid here.
        if first & 0x40 != 0 {
            return None;
        }
        let mut v: u64 = u64::from(first & 0x3f);
        for &b in field.get(1..)? {
            v = v.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(v);
    }
    let mut v: u64 = 0;
    let mut seen = false;
    for &b in field {
        match b {
            b'0'..=b'7' => {
                v = v.checked_mul(8)?.checked_add(u64::from(b - b'0'))?;
                seen = true;
            }
            b' ' | 0 if !seen => continue,
            b' ' | 0 => break,
            _ => return None,
        }
    }
    Some(v)
}

fn cstr(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    field.get(..end).unwrap_or(field)
}

fn field(block: &[u8; BLOCK], start: usize, len: usize) -> &[u8] {
    block.get(start..start + len).unwrap_or(&[])
}

fn checksum_ok(block: &[u8; BLOCK]) -> bool {
    let Some(stored) = parse_number(field(block, 148, 8)) else {
        return false;
    };
    let mut unsigned: u64 = 0;
    let mut signed: i64 = 0;
    for (i, &b) in block.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    stored == unsigned || i64::try_from(stored).is_ok_and(|s| s == signed)
}

/// Pending GNU / PAX overrides for the next header.
#[derive(Default)]
struct Overrides {
    path: Option<String>,
    link: Option<String>,
    size: Option<u64>,
}

/// Reads entries from an uncompressed tar stream.
pub(crate) struct TarReader<R> {
    inner: R,
    limits: Limits,
    /// Offset in the uncompressed stream.
    pos: u64,
    /// Unread data bytes of the current entry, then its padding.
    remaining: u64,
    padding: u64,
    entries: u64,
    done: bool,
    scratch: Vec<u8>,
    /// Skips by seeking instead of reading, for seekable inputs.
    seek: Option<fn(&mut R, u64) -> io::Result<()>>,
    /// The stream ended inside the last entry's padding.
    unterminated: bool,
}

impl<R: Read> TarReader<R> {
    pub(crate) fn new(inner: R, limits: Limits) -> Self {
        TarReader {
            inner,
            limits,
            pos: 0,
            remaining: 0,
            padding: 0,
            entries: 0,
            done: false,
            scratch: vec![0u8; 64 * 1024],
            seek: None,
            unterminated: false,
        }
    }

    /// Whether the archive ended without its padding and end-of-archive
    /// blocks (all file data was present).
    pub(crate) fn unterminated(&self) -> bool {
        self.unterminated
    }

    /// A reader that skips entry data by seeking (for archives on disk).
    pub(crate) fn with_seek(
        inner: R,
        limits: Limits,
        seek: fn(&mut R, u64) -> io::Result<()>,
    ) -> Self {
        let mut r = TarReader::new(inner, limits);
        r.seek = Some(seek);
        r
    }

    /// Offset reached in the uncompressed stream.
    pub(crate) fn position(&self) -> u64 {
        self.pos
    }

    pub(crate) fn into_inner(self) -> R {
        self.inner
    }

    fn read_exact_tracked(&mut self, buf: &mut [u8]) -> Result<(), TarError> {
        let mut filled = 0;
        while filled < buf.len() {
            let rest = buf.get_mut(filled..).unwrap_or(&mut []);
            match self.inner.read(rest) {
                Ok(0) => return Err(TarError::Truncated { offset: self.pos }),
                Ok(n) => {
                    filled += n;
                    self.advance(n as u64)?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Err(TarError::Truncated { offset: self.pos })
                }
                Err(e) => return Err(TarError::Io(e)),
            }
        }
        Ok(())
    }

    fn advance(&mut self, n: u64) -> Result<(), TarError> {
        self.pos += n;
        if self.pos > self.limits.max_layer_uncompressed {
            return Err(TarError::TooLarge {
                limit: self.limits.max_layer_uncompressed,
            });
        }
        Ok(())
    }

    /// Discard `n` bytes.
    fn skip(&mut self, mut n: u64) -> Result<(), TarError> {
        if let Some(seek) = self.seek {
            if n > 0 {
                seek(&mut self.inner, n).map_err(TarError::Io)?;
                self.advance(n)?;
            }
            return Ok(());
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        let result = (|| {
            while n > 0 {
                let want = usize::try_from(n.min(scratch.len() as u64)).unwrap_or(scratch.len());
                let buf = scratch.get_mut(..want).unwrap_or(&mut []);
                match self.inner.read(buf) {
                    Ok(0) => return Err(TarError::Truncated { offset: self.pos }),
                    Ok(k) => {
                        n -= k as u64;
                        self.advance(k as u64)?;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                        return Err(TarError::Truncated { offset: self.pos })
                    }
                    Err(e) => return Err(TarError::Io(e)),
                }
            }
            Ok(())
        })();
        self.scratch = scratch;
        result
    }

    /// Read one header block; `Ok(None)` at a clean end (EOF on a block
    /// boundary or a zero block).
    fn read_block(&mut self) -> Result<Option<[u8; BLOCK]>, TarError> {
        let mut block = [0u8; BLOCK];
        // Distinguish a clean EOF at a block boundary from truncation.
        let mut filled = 0;
        while filled < BLOCK {
            let rest = block.get_mut(filled..).unwrap_or(&mut []);
            match self.inner.read(rest) {
                Ok(0) if filled == 0 => return Ok(None),
                Ok(0) => return Err(TarError::Truncated { offset: self.pos }),
                Ok(n) => {
                    filled += n;
                    self.advance(n as u64)?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(TarError::Io(e)),
            }
        }
        if block.iter().all(|&b| b == 0) {
            return Ok(None);
        }
        Ok(Some(block))
    }

    /// Finish the current entry (skip what was not read) and return the next.
    pub(crate) fn next_entry(&mut self) -> Result<Option<Entry>, TarError> {
        if self.done {
            return Ok(None);
        }
        let (data, padding) = (self.remaining, self.padding);
        self.remaining = 0;
        self.padding = 0;
        self.skip(data)?;
        match self.skip(padding) {
            // Some writers (umoci among them) end the stream right after the
            // last file's data: nothing was lost, only padding and the end
            // marker are missing. Accept it and say so.
            Err(TarError::Truncated { .. }) => {
                self.done = true;
                self.unterminated = true;
                return Ok(None);
            }
            r => r?,
        }

        let mut ov = Overrides::default();
        loop {
            let header_offset = self.pos;
            let Some(block) = self.read_block()? else {
                self.done = true;
                return Ok(None);
            };
            if !checksum_ok(&block) {
                return Err(TarError::CorruptHeader {
                    offset: header_offset,
                    reason: "checksum mismatch",
                });
            }
            self.entries += 1;
            if self.entries > self.limits.max_entries_per_layer {
                return Err(TarError::TooManyEntries {
                    limit: self.limits.max_entries_per_layer,
                });
            }
            let size = parse_number(field(&block, 124, 12)).ok_or(TarError::CorruptHeader {
                offset: header_offset,
                reason: "bad size field",
            })?;
            let typeflag = block.get(156).copied().unwrap_or(0);
            match typeflag {
                b'L' | b'K' => {
                    let data =
                        self.read_meta(size, self.limits.max_path_len as u64, "GNU long name")?;
                    let s = String::from_utf8_lossy(cstr(&data)).into_owned();
                    if typeflag == b'L' {
                        ov.path = Some(s);
                    } else {
                        ov.link = Some(s);
                    }
                    continue;
                }
                b'x' => {
                    let data = self.read_meta(size, self.limits.max_pax_header, "PAX header")?;
                    apply_pax(&data, &mut ov, self.limits.max_path_len);
                    continue;
                }
                b'g' => {
                    // Global PAX headers carry defaults (usually mtime); nothing we use.
                    self.skip(padded(size))?;
                    continue;
                }
                _ => {}
            }

            let magic = field(&block, 257, 6);
            let name = cstr(field(&block, 0, 100));
            let mut path = if magic == b"ustar\0" {
                let prefix = cstr(field(&block, 345, 155));
                if prefix.is_empty() {
                    String::from_utf8_lossy(name).into_owned()
                } else {
                    format!(
                        "{}/{}",
                        String::from_utf8_lossy(prefix),
                        String::from_utf8_lossy(name)
                    )
                }
            } else {
                String::from_utf8_lossy(name).into_owned()
            };
            if let Some(p) = ov.path.take() {
                path = p;
            }
            let link = ov.link.take().unwrap_or_else(|| {
                String::from_utf8_lossy(cstr(field(&block, 157, 100))).into_owned()
            });
            let size = ov.size.take().unwrap_or(size);
            if path.len() > self.limits.max_path_len {
                return Err(TarError::TooLong {
                    what: "path",
                    offset: header_offset,
                    len: path.len() as u64,
                    limit: self.limits.max_path_len as u64,
                });
            }
            let kind = match typeflag {
                b'0' | 0 | b'7' => {
                    if path.ends_with('/') && size == 0 {
                        EntryKind::Dir
                    } else {
                        EntryKind::File
                    }
                }
                b'1' => EntryKind::HardLink(link),
                b'2' => EntryKind::Symlink(link),
                b'5' => EntryKind::Dir,
                b'S' => EntryKind::Sparse,
                other => EntryKind::Other(other),
            };
            // Hard links, symlinks, devices and directories carry no data
            // even if a hostile header says otherwise: we still skip what
            // the header claims, since that is how the stream is laid out.
            self.remaining = size;
            self.padding = padded(size) - size;
            let mode = parse_number(field(&block, 100, 8))
                .and_then(|m| u32::try_from(m & 0o7777).ok())
                .unwrap_or(0);
            return Ok(Some(Entry {
                path,
                kind,
                size,
                data_offset: self.pos,
                mode,
            }));
        }
    }

    fn read_meta(
        &mut self,
        size: u64,
        limit: u64,
        what: &'static str,
    ) -> Result<Vec<u8>, TarError> {
        if size > limit {
            return Err(TarError::TooLong {
                what,
                offset: self.pos,
                len: size,
                limit,
            });
        }
        let n = usize::try_from(size).map_err(|_| TarError::TooLong {
            what,
            offset: self.pos,
            len: size,
            limit,
        })?;
        let mut data = vec![0u8; n];
        self.read_exact_tracked(&mut data)?;
        self.skip(padded(size) - size)?;
        Ok(data)
    }

    /// Read all remaining data of the current entry. The caller checked the
    /// size against its limits.
    pub(crate) fn read_data(&mut self) -> Result<Vec<u8>, TarError> {
        let n = usize::try_from(self.remaining).map_err(|_| TarError::TooLong {
            what: "file",
            offset: self.pos,
            len: self.remaining,
            limit: usize::MAX as u64,
        })?;
        let mut data = vec![0u8; n];
        self.read_exact_tracked(&mut data)?;
        self.remaining = 0;
        Ok(data)
    }

    /// A reader over the rest of the current entry's data.
    pub(crate) fn data_reader(&mut self) -> EntryData<'_, R> {
        EntryData { tar: self }
    }

    /// Read everything after the end-of-archive marker, so that a digest
    /// over the whole stream can be checked.
    pub(crate) fn drain(&mut self) -> Result<(), TarError> {
        loop {
            let mut scratch = std::mem::take(&mut self.scratch);
            let r = self.inner.read(&mut scratch);
            self.scratch = scratch;
            match r {
                Ok(0) => return Ok(()),
                Ok(n) => self.advance(n as u64)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(TarError::Io(e)),
            }
        }
    }
}

/// The remaining data of the current entry, as a `Read`.
pub(crate) struct EntryData<'a, R> {
    tar: &'a mut TarReader<R>,
}

impl<R: Read> Read for EntryData<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = usize::try_from(self.tar.remaining.min(buf.len() as u64)).unwrap_or(0);
        if want == 0 {
            return Ok(0);
        }
        let n = self
            .tar
            .inner
            .read(buf.get_mut(..want).unwrap_or(&mut []))?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("truncated tar stream at offset {}", self.tar.pos),
            ));
        }
        self.tar.remaining -= n as u64;
        self.tar
            .advance(n as u64)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        Ok(n)
    }
}

fn padded(size: u64) -> u64 {
    size.div_ceil(BLOCK as u64) * BLOCK as u64
}

/// PAX records: `"<len> <key>=<value>\n"` repeated.
fn apply_pax(data: &[u8], ov: &mut Overrides, max_path: usize) {
    let mut rest = data;
    while !rest.is_empty() {
        let Some(sp) = rest.iter().position(|&b| b == b' ') else {
            return;
        };
        let Some(len) = std::str::from_utf8(rest.get(..sp).unwrap_or(&[]))
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
        else {
            return;
        };
        if len <= sp + 1 || len > rest.len() {
            return;
        }
        let record = rest.get(sp + 1..len).unwrap_or(&[]);
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(eq) = record.iter().position(|&b| b == b'=') {
            let key = record.get(..eq).unwrap_or(&[]);
            let value = record.get(eq + 1..).unwrap_or(&[]);
            match key {
                b"path" if value.len() <= max_path => {
                    ov.path = Some(String::from_utf8_lossy(value).into_owned())
                }
                b"linkpath" if value.len() <= max_path => {
                    ov.link = Some(String::from_utf8_lossy(value).into_owned())
                }
                b"size" => {
                    ov.size = std::str::from_utf8(value).ok().and_then(|s| s.parse().ok());
                }
                _ => {}
            }
        }
        rest = rest.get(len..).unwrap_or(&[]);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    fn header(name: &str, typeflag: u8, size: u64, link: &str) -> [u8; BLOCK] {
        let mut b = [0u8; BLOCK];
        b[..name.len().min(100)].copy_from_slice(&name.as_bytes()[..name.len().min(100)]);
        b[100..107].copy_from_slice(b"0000644");
        let s = format!("{size:011o}");
        b[124..135].copy_from_slice(s.as_bytes());
        b[156] = typeflag;
        b[157..157 + link.len()].copy_from_slice(link.as_bytes());
        b[257..263].copy_from_slice(b"ustar\0");
        b[263..265].copy_from_slice(b"00");
        let sum: u64 = b
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    u64::from(x)
                }
            })
            .sum();
        let c = format!("{sum:06o}\0 ");
        b[148..156].copy_from_slice(c.as_bytes());
        b
    }

    fn archive(entries: &[(&str, u8, &[u8], &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, t, data, link) in entries {
            out.extend_from_slice(&header(name, *t, data.len() as u64, link));
            out.extend_from_slice(data);
            out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
        }
        out.extend_from_slice(&[0u8; BLOCK * 2]);
        out
    }

    #[test]
    fn reads_entries_and_data() {
        let a = archive(&[
            ("etc/", b'5', b"", ""),
            ("etc/os-release", b'0', b"ID=debian\n", ""),
            ("etc/link", b'2', b"", "os-release"),
            ("etc/hard", b'1', b"", "etc/os-release"),
        ]);
        let mut r = TarReader::new(&a[..], Limits::default());
        assert_eq!(r.next_entry().unwrap().unwrap().kind, EntryKind::Dir);
        let e = r.next_entry().unwrap().unwrap();
        assert_eq!(e.path, "etc/os-release");
        assert_eq!(r.read_data().unwrap(), b"ID=debian\n");
        assert_eq!(
            r.next_entry().unwrap().unwrap().kind,
            EntryKind::Symlink("os-release".into())
        );
        assert_eq!(
            r.next_entry().unwrap().unwrap().kind,
            EntryKind::HardLink("etc/os-release".into())
        );
        assert!(r.next_entry().unwrap().is_none());
        assert!(r.next_entry().unwrap().is_none());
    }

    #[test]
    fn skips_unread_data() {
        let big = vec![7u8; 5000];
        let a = archive(&[("a", b'0', &big, ""), ("b", b'0', b"x", "")]);
        let mut r = TarReader::new(&a[..], Limits::default());
        r.next_entry().unwrap().unwrap();
        let e = r.next_entry().unwrap().unwrap();
        assert_eq!(e.path, "b");
        assert_eq!(r.read_data().unwrap(), b"x");
    }

    #[test]
    fn gnu_long_name_and_pax() {
        let long = "d/".repeat(80) + "file";
        let mut a = archive(&[("././@LongLink", b'L', long.as_bytes(), "")]);
        a.truncate(a.len() - 1024);
        let pax = b"30 path=pax/override/name.txt\n";
        a.extend(archive(&[
            ("x", b'0', b"1", ""),
            ("PaxHeader", b'x', pax, ""),
            ("short", b'0', b"2", ""),
        ]));
        let mut r = TarReader::new(&a[..], Limits::default());
        assert_eq!(r.next_entry().unwrap().unwrap().path, long);
        assert_eq!(
            r.next_entry().unwrap().unwrap().path,
            "pax/override/name.txt"
        );
    }

    #[test]
    fn missing_padding_and_end_blocks_is_tolerated() {
        let a = archive(&[("a", b'0', b"hello", ""), ("b", b'0', b"world", "")]);
        // Cut right after "world": its padding and the end blocks are gone.
        let cut = 512 + 512 + 512 + 5;
        let mut r = TarReader::new(&a[..cut], Limits::default());
        assert_eq!(r.next_entry().unwrap().unwrap().path, "a");
        let e = r.next_entry().unwrap().unwrap();
        assert_eq!(e.path, "b");
        assert_eq!(r.read_data().unwrap(), b"world");
        assert!(r.next_entry().unwrap().is_none());
        assert!(r.unterminated());
        // But data cut short is still an error.
        let mut r = TarReader::new(&a[..cut - 2], Limits::default());
        r.next_entry().unwrap().unwrap();
        r.next_entry().unwrap().unwrap();
        assert!(matches!(r.read_data(), Err(TarError::Truncated { .. })));
    }

    #[test]
    fn truncated_and_corrupt() {
        let a = archive(&[("a", b'0', &[1u8; 2000], "")]);
        let mut r = TarReader::new(&a[..1000], Limits::default());
        r.next_entry().unwrap().unwrap();
        assert!(matches!(r.next_entry(), Err(TarError::Truncated { .. })));

        let mut bad = archive(&[("a", b'0', b"x", "")]);
        bad[10] = b'!';
        let mut r = TarReader::new(&bad[..], Limits::default());
        assert!(matches!(
            r.next_entry(),
            Err(TarError::CorruptHeader { .. })
        ));

        let mut r = TarReader::new(&a[..300], Limits::default());
        assert!(matches!(r.next_entry(), Err(TarError::Truncated { .. })));
    }

    #[test]
    fn limits_enforced() {
        let long = "x".repeat(5000);
        let a = archive(&[("././@LongLink", b'L', long.as_bytes(), "")]);
        let mut r = TarReader::new(&a[..], Limits::default());
        assert!(matches!(r.next_entry(), Err(TarError::TooLong { .. })));

        let a = archive(&[("a", b'0', &[0u8; 4096], ""), ("b", b'0', b"", "")]);
        let limits = Limits {
            max_layer_uncompressed: 2048,
            ..Limits::default()
        };
        let mut r = TarReader::new(&a[..], limits);
        r.next_entry().unwrap();
        assert!(matches!(r.next_entry(), Err(TarError::TooLarge { .. })));

        let limits = Limits {
            max_entries_per_layer: 1,
            ..Limits::default()
        };
        let mut r = TarReader::new(&a[..], limits);
        r.next_entry().unwrap();
        assert!(matches!(
            r.next_entry(),
            Err(TarError::TooManyEntries { .. })
        ));
    }

    #[test]
    fn base256_size() {
        let mut f = [0u8; 12];
        f[0] = 0x80;
        f[11] = 0x10;
        assert_eq!(parse_number(&f), Some(16));
        f[0] = 0xff;
        assert_eq!(parse_number(&f), None);
        assert_eq!(parse_number(b"00000000012\0"), Some(10));
        assert_eq!(parse_number(b"  12 \0"), Some(10));
        assert_eq!(parse_number(b"9"), None);
    }
}
