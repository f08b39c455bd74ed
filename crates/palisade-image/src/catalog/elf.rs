//! A small, bounded reader for ELF headers, shared by the catalogers that
//! look inside executables ([`super::golang`], [`super::rust`]).
//!
//! Only what those need is read: the file header, the program headers (to
//! map virtual addresses to file offsets) and the section headers with
//! their names. ELF32 and ELF64, little- and big-endian, are supported;
//! extended section numbering (`e_shnum == 0`, `e_shstrndx == SHN_XINDEX`)
//! is followed. Every count and size read from the file is checked against
//! the file's length and a fixed cap before anything is allocated, so a
//! hostile header costs at most a few MiB and a few reads.
//!
//! A file whose section headers cannot be read (a truncated binary keeps
//! its program headers at the start, its section headers at the end) is
//! still an [`Elf`], with no sections and [`Elf::section_error`] set.

use std::io::{self, SeekFrom};

use crate::layer::ReadSeek;

/// Most section headers read from one file.
pub const MAX_SECTIONS: usize = 65_535;
/// Most program headers read from one file.
pub const MAX_SEGMENTS: usize = 4096;
/// Largest section-name string table read.
const MAX_SHSTRTAB: u64 = 1 << 20;
/// Longest section name kept.
const MAX_SECTION_NAME: usize = 256;
/// Largest program or section header table read (entry size × count).
const MAX_TABLE_BYTES: u64 = 8 << 20;

const SHN_XINDEX: u16 = 0xffff;
const PN_XNUM: u16 = 0xffff;
/// A section with no bytes in the file (`.bss`).
pub const SHT_NOBITS: u32 = 8;
/// A loadable segment.
pub const PT_LOAD: u32 = 1;
/// Segment permission: execute.
pub const PF_X: u32 = 1;
/// Segment permission: write.
pub const PF_W: u32 = 2;

/// Why an ELF file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ElfError {
    #[error("reading the file: {0}")]
    Io(#[source] io::Error),
    #[error(
        "{what} at offset {offset} (length {len}) lies beyond the end of the {file_len}-byte file"
    )]
    Truncated {
        what: &'static str,
        offset: u64,
        len: u64,
        file_len: u64,
    },
    #[error("invalid ELF header: {0}")]
    Invalid(&'static str),
    #[error("{what} is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        what: &'static str,
        size: u64,
        limit: u64,
    },
    #[error("virtual address {addr:#x} (+{len} bytes) is not backed by file data in any loadable segment")]
    Unmapped { addr: u64, len: u64 },
}

/// A seekable file with a known length, read at absolute offsets.
pub struct FileReader<'a> {
    file: &'a mut dyn ReadSeek,
    len: u64,
}

impl std::fmt::Debug for FileReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileReader")
            .field("len", &self.len)
            .finish()
    }
}

impl<'a> FileReader<'a> {
    /// Wrap `file`, finding its length by seeking to the end.
    pub fn new(file: &'a mut dyn ReadSeek) -> Result<FileReader<'a>, ElfError> {
        let len = file.seek(SeekFrom::End(0)).map_err(ElfError::Io)?;
        Ok(FileReader { file, len })
    }

    /// The file's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Read exactly `len` bytes at `offset`; the caller bounds `len`.
    pub fn read_at(
        &mut self,
        what: &'static str,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, ElfError> {
        let truncated = ElfError::Truncated {
            what,
            offset,
            len,
            file_len: self.len,
        };
        match offset.checked_add(len) {
            Some(end) if end <= self.len => {}
            _ => return Err(truncated),
        }
        let n = usize::try_from(len).map_err(|_| ElfError::TooLarge {
            what,
            size: len,
            limit: usize::MAX as u64,
        })?;
        self.file
            .seek(SeekFrom::Start(offset))
            .map_err(ElfError::Io)?;
        let mut buf = vec![0u8; n];
        self.file.read_exact(&mut buf).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => truncated,
            _ => ElfError::Io(e),
        })?;
        Ok(buf)
    }

    /// Read up to `len` bytes at `offset`, fewer when the file ends first.
    pub fn read_up_to(
        &mut self,
        what: &'static str,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, ElfError> {
        let avail = self.len.saturating_sub(offset);
        self.read_at(what, offset.min(self.len), len.min(avail))
    }
}

/// One section header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub kind: u32,
    pub addr: u64,
    pub offset: u64,
    pub size: u64,
    link: u32,
}

/// One program header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub kind: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
}

/// The headers of an ELF file.
#[derive(Debug, Clone)]
pub struct Elf {
    pub is_64: bool,
    pub big_endian: bool,
    pub sections: Vec<Section>,
    pub segments: Vec<Segment>,
    /// Why the section headers could not be read, when they could not.
    pub section_error: Option<String>,
}

/// Byte-order aware integer reads from a header buffer (out of range
/// reads are 0; callers size their buffers first).
#[derive(Debug, Clone, Copy)]
pub struct Endian {
    pub big: bool,
}

impl Endian {
    pub fn u16(self, b: &[u8], at: usize) -> u16 {
        let mut a = [0u8; 2];
        if let Some(s) = at.checked_add(2).and_then(|end| b.get(at..end)) {
            a.copy_from_slice(s);
        }
        if self.big {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        }
    }

    pub fn u32(self, b: &[u8], at: usize) -> u32 {
        let mut a = [0u8; 4];
        if let Some(s) = at.checked_add(4).and_then(|end| b.get(at..end)) {
            a.copy_from_slice(s);
        }
        if self.big {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    }

    pub fn u64(self, b: &[u8], at: usize) -> u64 {
        let mut a = [0u8; 8];
        if let Some(s) = at.checked_add(8).and_then(|end| b.get(at..end)) {
            a.copy_from_slice(s);
        }
        if self.big {
            u64::from_be_bytes(a)
        } else {
            u64::from_le_bytes(a)
        }
    }

    /// A 4- or 8-byte word, by class.
    pub fn word(self, is_64: bool, b: &[u8], at: usize) -> u64 {
        if is_64 {
            self.u64(b, at)
        } else {
            u64::from(self.u32(b, at))
        }
    }
}

/// Whether `head` starts with the ELF magic.
pub fn is_elf(head: &[u8]) -> bool {
    head.starts_with(b"\x7fELF")
}

/// Field offsets of the file header, by class.
struct HeaderLayout {
    size: usize,
    phoff: usize,
    shoff: usize,
    phentsize: usize,
    phnum: usize,
    shentsize: usize,
    shnum: usize,
    shstrndx: usize,
    min_phent: u16,
    min_shent: u16,
}

const LAYOUT_64: HeaderLayout = HeaderLayout {
    size: 64,
    phoff: 32,
    shoff: 40,
    phentsize: 54,
    phnum: 56,
    shentsize: 58,
    shnum: 60,
    shstrndx: 62,
    min_phent: 56,
    min_shent: 64,
};

const LAYOUT_32: HeaderLayout = HeaderLayout {
    size: 52,
    phoff: 28,
    shoff: 32,
    phentsize: 42,
    phnum: 44,
    shentsize: 46,
    shnum: 48,
    shstrndx: 50,
    min_phent: 32,
    min_shent: 40,
};

impl Elf {
    /// Read the headers of the file behind `r`. `Ok(None)` when the file
    /// does not start with the ELF magic.
    pub fn parse(r: &mut FileReader<'_>) -> Result<Option<Elf>, ElfError> {
        let ident = r.read_up_to("ELF identification", 0, 16)?;
        if !is_elf(&ident) {
            return Ok(None);
        }
        let is_64 = match ident.get(4) {
            Some(1) => false,
            Some(2) => true,
            _ => return Err(ElfError::Invalid("unknown class (EI_CLASS)")),
        };
        let big_endian = match ident.get(5) {
            Some(1) => false,
            Some(2) => true,
            _ => return Err(ElfError::Invalid("unknown byte order (EI_DATA)")),
        };
        let e = Endian { big: big_endian };
        let l = if is_64 { &LAYOUT_64 } else { &LAYOUT_32 };
        let hdr = r.read_at("ELF header", 0, l.size as u64)?;
        let phoff = e.word(is_64, &hdr, l.phoff);
        let shoff = e.word(is_64, &hdr, l.shoff);
        let phentsize = e.u16(&hdr, l.phentsize);
        let phnum = e.u16(&hdr, l.phnum);
        let shentsize = e.u16(&hdr, l.shentsize);
        let shnum = e.u16(&hdr, l.shnum);
        let shstrndx = e.u16(&hdr, l.shstrndx);

        let segments = if phoff == 0 || phnum == 0 {
            Vec::new()
        } else {
            if phnum == PN_XNUM {
                return Err(ElfError::Invalid(
                    "extended program header numbering is not supported",
                ));
            }
            if phentsize < l.min_phent {
                return Err(ElfError::Invalid("program header entry size too small"));
            }
            read_segments(r, e, is_64, phoff, phentsize, phnum)?
        };
        let mut elf = Elf {
            is_64,
            big_endian,
            sections: Vec::new(),
            segments,
            section_error: None,
        };
        if shoff != 0 {
            if shentsize < l.min_shent {
                elf.section_error = Some("section header entry size too small".into());
            } else {
                match read_sections(r, e, is_64, shoff, shentsize, shnum, shstrndx) {
                    Ok(s) => elf.sections = s,
                    Err(err) => elf.section_error = Some(err.to_string()),
                }
            }
        }
        Ok(Some(elf))
    }

    /// The first section called `name`.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The bytes of `section`, refusing sections over `limit` bytes.
    pub fn read_section(
        &self,
        r: &mut FileReader<'_>,
        section: &Section,
        limit: u64,
    ) -> Result<Vec<u8>, ElfError> {
        if section.kind == SHT_NOBITS {
            return Ok(Vec::new());
        }
        if section.size > limit {
            return Err(ElfError::TooLarge {
                what: "section",
                size: section.size,
                limit,
            });
        }
        r.read_at("section data", section.offset, section.size)
    }

    /// The first writable, non-executable loadable segment (where the Go
    /// linker puts `.go.buildinfo` first).
    pub fn data_segment(&self) -> Option<&Segment> {
        self.segments
            .iter()
            .find(|s| s.kind == PT_LOAD && s.flags & (PF_X | PF_W) == PF_W)
    }

    /// Read `len` bytes at virtual address `addr`, from the loadable
    /// segment whose file data contains the whole range.
    pub fn read_vaddr(
        &self,
        r: &mut FileReader<'_>,
        addr: u64,
        len: u64,
    ) -> Result<Vec<u8>, ElfError> {
        let unmapped = ElfError::Unmapped { addr, len };
        let end = addr
            .checked_add(len)
            .ok_or(ElfError::Unmapped { addr, len })?;
        let seg = self
            .segments
            .iter()
            .find(|s| {
                s.kind == PT_LOAD
                    && s.vaddr <= addr
                    && s.vaddr
                        .checked_add(s.filesz)
                        .is_some_and(|seg_end| end <= seg_end)
            })
            .ok_or(unmapped)?;
        let offset = seg
            .offset
            .checked_add(addr - seg.vaddr)
            .ok_or(ElfError::Unmapped { addr, len })?;
        r.read_at("segment data", offset, len)
    }
}

fn read_segments(
    r: &mut FileReader<'_>,
    e: Endian,
    is_64: bool,
    phoff: u64,
    phentsize: u16,
    phnum: u16,
) -> Result<Vec<Segment>, ElfError> {
    let count = usize::from(phnum);
    if count > MAX_SEGMENTS {
        return Err(ElfError::TooLarge {
            what: "program header table (entries)",
            size: count as u64,
            limit: MAX_SEGMENTS as u64,
        });
    }
    let stride = usize::from(phentsize);
    let table_len = table_len("program header table", stride, count)?;
    let table = r.read_at("program header table", phoff, table_len)?;
    let mut out = Vec::with_capacity(count);
    for ph in table.chunks_exact(stride) {
        let seg = if is_64 {
            Segment {
                kind: e.u32(ph, 0),
                flags: e.u32(ph, 4),
                offset: e.u64(ph, 8),
                vaddr: e.u64(ph, 16),
                filesz: e.u64(ph, 32),
            }
        } else {
            Segment {
                kind: e.u32(ph, 0),
                offset: u64::from(e.u32(ph, 4)),
                vaddr: u64::from(e.u32(ph, 8)),
                filesz: u64::from(e.u32(ph, 16)),
                flags: e.u32(ph, 24),
            }
        };
        out.push(seg);
    }
    Ok(out)
}

fn table_len(what: &'static str, stride: usize, count: usize) -> Result<u64, ElfError> {
    let len = (stride as u64).saturating_mul(count as u64);
    if len > MAX_TABLE_BYTES {
        return Err(ElfError::TooLarge {
            what,
            size: len,
            limit: MAX_TABLE_BYTES,
        });
    }
    Ok(len)
}

fn parse_section(e: Endian, is_64: bool, sh: &[u8]) -> (u32, Section) {
    let name_off = e.u32(sh, 0);
    let s = if is_64 {
        Section {
            name: String::new(),
            kind: e.u32(sh, 4),
            addr: e.u64(sh, 16),
            offset: e.u64(sh, 24),
            size: e.u64(sh, 32),
            link: e.u32(sh, 40),
        }
    } else {
        Section {
            name: String::new(),
            kind: e.u32(sh, 4),
            addr: u64::from(e.u32(sh, 12)),
            offset: u64::from(e.u32(sh, 16)),
            size: u64::from(e.u32(sh, 20)),
            link: e.u32(sh, 24),
        }
    };
    (name_off, s)
}

fn read_sections(
    r: &mut FileReader<'_>,
    e: Endian,
    is_64: bool,
    shoff: u64,
    shentsize: u16,
    shnum: u16,
    shstrndx: u16,
) -> Result<Vec<Section>, ElfError> {
    let stride = usize::from(shentsize);
    // Section 0 holds the real count and string-table index when they
    // do not fit the file header.
    let first = r.read_at("section header 0", shoff, stride as u64)?;
    let (_, zero) = parse_section(e, is_64, &first);
    let count = if shnum == 0 {
        zero.size
    } else {
        u64::from(shnum)
    };
    if count > MAX_SECTIONS as u64 {
        return Err(ElfError::TooLarge {
            what: "section header table (entries)",
            size: count,
            limit: MAX_SECTIONS as u64,
        });
    }
    let count = count as usize;
    let strndx = if shstrndx == SHN_XINDEX {
        zero.link as usize
    } else {
        usize::from(shstrndx)
    };
    let table_len = table_len("section header table", stride, count)?;
    let table = r.read_at("section header table", shoff, table_len)?;
    let mut raw: Vec<(u32, Section)> = table
        .chunks_exact(stride)
        .map(|sh| parse_section(e, is_64, sh))
        .collect();
    let names = match raw.get(strndx) {
        Some((_, s)) if strndx != 0 && s.kind != SHT_NOBITS => {
            if s.size > MAX_SHSTRTAB {
                return Err(ElfError::TooLarge {
                    what: "section name table",
                    size: s.size,
                    limit: MAX_SHSTRTAB,
                });
            }
            r.read_at("section name table", s.offset, s.size)?
        }
        _ => Vec::new(),
    };
    for (name_off, s) in &mut raw {
        s.name = names
            .get(*name_off as usize..)
            .map(|rest| {
                let end = rest
                    .iter()
                    .take(MAX_SECTION_NAME)
                    .position(|&b| b == 0)
                    .unwrap_or(rest.len().min(MAX_SECTION_NAME));
                String::from_utf8_lossy(rest.get(..end).unwrap_or_default()).into_owned()
            })
            .unwrap_or_default();
    }
    Ok(raw.into_iter().map(|(_, s)| s).collect())
}

/// Building minimal ELF files for tests (the Go and Rust catalogers use it
/// too).
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
pub(crate) mod testutil {
    /// One section to lay out: name, contents, virtual address, type.
    pub(crate) struct TestSection {
        pub(crate) name: &'static str,
        pub(crate) data: Vec<u8>,
        pub(crate) addr: u64,
        pub(crate) writable: bool,
    }

    impl TestSection {
        pub(crate) fn new(name: &'static str, data: Vec<u8>) -> TestSection {
            TestSection {
                name,
                data,
                addr: 0,
                writable: false,
            }
        }
    }

    /// Options for [`build`].
    pub(crate) struct TestElf {
        pub(crate) is_64: bool,
        pub(crate) big_endian: bool,
        pub(crate) sections: Vec<TestSection>,
        /// Write a section header table.
        pub(crate) with_sections: bool,
        /// Write one PT_LOAD per section with a non-zero address.
        pub(crate) with_segments: bool,
    }

    impl TestElf {
        pub(crate) fn new(sections: Vec<TestSection>) -> TestElf {
            TestElf {
                is_64: true,
                big_endian: false,
                sections,
                with_sections: true,
                with_segments: true,
            }
        }
    }

    fn put(out: &mut Vec<u8>, be: bool, v: u64, width: usize) {
        let bytes = v.to_le_bytes();
        let mut b = bytes[..width].to_vec();
        if be {
            b.reverse();
        }
        out.extend_from_slice(&b);
    }

    /// Lay out: header, program headers, section data (16-aligned, at
    /// file offset == address & 0xfff... plus a fixed base), shstrtab,
    /// section headers.
    pub(crate) fn build(t: &TestElf) -> Vec<u8> {
        let (ehsize, phent, shent) = if t.is_64 { (64, 56, 64) } else { (52, 32, 40) };
        let w = if t.is_64 { 8 } else { 4 };
        let be = t.big_endian;
        let loads: Vec<usize> = if t.with_segments {
            (0..t.sections.len())
                .filter(|&i| t.sections[i].addr != 0)
                .collect()
        } else {
            Vec::new()
        };
        let phoff = ehsize;
        let mut offset = phoff + phent * loads.len();
        // Section data.
        let mut body = Vec::new();
        let mut offsets = Vec::new();
        for s in &t.sections {
            offset = (offset + 15) & !15;
            let pad = offset - (ehsize + phent * loads.len() + body.len());
            body.extend(std::iter::repeat_n(0u8, pad));
            offsets.push(offset);
            body.extend_from_slice(&s.data);
            offset += s.data.len();
        }
        let mut shstrtab = vec![0u8];
        let mut name_offs = Vec::new();
        for s in &t.sections {
            name_offs.push(shstrtab.len());
            shstrtab.extend_from_slice(s.name.as_bytes());
            shstrtab.push(0);
        }
        let shstr_name = shstrtab.len();
        shstrtab.extend_from_slice(b".shstrtab\0");
        let shstr_off = offset;
        body.extend_from_slice(&shstrtab);
        offset += shstrtab.len();
        offset = (offset + 7) & !7;
        let pad = offset - (ehsize + phent * loads.len() + body.len());
        body.extend(std::iter::repeat_n(0u8, pad));
        let shoff = offset;
        let shnum = t.sections.len() + 2;

        let mut out = Vec::new();
        out.extend_from_slice(b"\x7fELF");
        out.push(if t.is_64 { 2 } else { 1 });
        out.push(if be { 2 } else { 1 });
        out.push(1);
        out.extend_from_slice(&[0; 9]);
        put(&mut out, be, 2, 2); // e_type EXEC
        put(&mut out, be, if t.is_64 { 62 } else { 3 }, 2);
        put(&mut out, be, 1, 4);
        put(&mut out, be, 0x401000, w); // entry
        put(
            &mut out,
            be,
            if loads.is_empty() { 0 } else { phoff as u64 },
            w,
        );
        put(
            &mut out,
            be,
            if t.with_sections { shoff as u64 } else { 0 },
            w,
        );
        put(&mut out, be, 0, 4); // flags
        put(&mut out, be, ehsize as u64, 2);
        put(&mut out, be, phent as u64, 2);
        put(&mut out, be, loads.len() as u64, 2);
        put(&mut out, be, shent as u64, 2);
        put(
            &mut out,
            be,
            if t.with_sections { shnum as u64 } else { 0 },
            2,
        );
        put(
            &mut out,
            be,
            if t.with_sections {
                (shnum - 1) as u64
            } else {
                0
            },
            2,
        );
        assert_eq!(out.len(), ehsize);
        for &i in &loads {
            let s = &t.sections[i];
            let flags = if s.writable { 6 } else { 5 };
            put(&mut out, be, 1, 4);
            if t.is_64 {
                put(&mut out, be, flags, 4);
                put(&mut out, be, offsets[i] as u64, 8);
                put(&mut out, be, s.addr, 8);
                put(&mut out, be, s.addr, 8);
                put(&mut out, be, s.data.len() as u64, 8);
                put(&mut out, be, s.data.len() as u64, 8);
                put(&mut out, be, 16, 8);
            } else {
                put(&mut out, be, offsets[i] as u64, 4);
                put(&mut out, be, s.addr, 4);
                put(&mut out, be, s.addr, 4);
                put(&mut out, be, s.data.len() as u64, 4);
                put(&mut out, be, s.data.len() as u64, 4);
                put(&mut out, be, flags, 4);
                put(&mut out, be, 16, 4);
            }
        }
        out.extend_from_slice(&body);
        if !t.with_sections {
            return out;
        }
        let sh = |out: &mut Vec<u8>, name: usize, kind: u64, addr: u64, off: usize, size: usize| {
            put(out, be, name as u64, 4);
            put(out, be, kind, 4);
            put(out, be, 0, w); // flags
            put(out, be, addr, w);
            put(out, be, off as u64, w);
            put(out, be, size as u64, w);
            put(out, be, 0, 4);
            put(out, be, 0, 4);
            put(out, be, 1, w);
            put(out, be, 0, w);
        };
        sh(&mut out, 0, 0, 0, 0, 0);
        for (i, s) in t.sections.iter().enumerate() {
            sh(&mut out, name_offs[i], 1, s.addr, offsets[i], s.data.len());
        }
        sh(&mut out, shstr_name, 3, 0, shstr_off, shstrtab.len());
        out
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use std::io::Cursor;

    use super::testutil::{build, TestElf, TestSection};
    use super::*;

    fn parse(bytes: &[u8]) -> Result<Option<Elf>, ElfError> {
        let mut c = Cursor::new(bytes);
        let mut r = FileReader::new(&mut c)?;
        Elf::parse(&mut r)
    }

    #[test]
    fn reads_sections_and_segments_in_every_class_and_order() {
        for (is_64, big_endian) in [(true, false), (true, true), (false, false), (false, true)] {
            let mut t = TestElf::new(vec![
                TestSection::new(".text", b"code".to_vec()),
                TestSection {
                    addr: 0x50_0000,
                    writable: true,
                    ..TestSection::new(".data", b"hello world".to_vec())
                },
            ]);
            t.is_64 = is_64;
            t.big_endian = big_endian;
            let bytes = build(&t);
            let elf = parse(&bytes).unwrap().unwrap();
            assert_eq!((elf.is_64, elf.big_endian), (is_64, big_endian));
            let names: Vec<&str> = elf.sections.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(names, ["", ".text", ".data", ".shstrtab"]);
            let mut c = Cursor::new(&bytes[..]);
            let mut r = FileReader::new(&mut c).unwrap();
            let data = elf.section(".data").unwrap();
            assert_eq!(elf.read_section(&mut r, data, 100).unwrap(), b"hello world");
            assert!(elf.read_section(&mut r, data, 5).is_err());
            assert_eq!(elf.data_segment().map(|s| s.vaddr), Some(0x50_0000));
            assert_eq!(elf.read_vaddr(&mut r, 0x50_0006, 5).unwrap(), b"world");
            assert!(matches!(
                elf.read_vaddr(&mut r, 0x50_0006, 6),
                Err(ElfError::Unmapped { .. })
            ));
            assert!(elf.read_vaddr(&mut r, u64::MAX, 2).is_err());
        }
    }

    #[test]
    fn not_elf_and_broken_headers() {
        assert!(parse(b"").unwrap().is_none());
        assert!(parse(b"#!/bin/sh\n").unwrap().is_none());
        assert!(matches!(
            parse(b"\x7fELF\x03\x01"),
            Err(ElfError::Invalid(_))
        ));
        assert!(matches!(
            parse(b"\x7fELF\x02\x01\x01"),
            Err(ElfError::Truncated { .. })
        ));
        // Truncated before the section headers: segments remain usable.
        let t = TestElf::new(vec![TestSection {
            addr: 0x1000,
            writable: true,
            ..TestSection::new(".data", vec![7; 64])
        }]);
        let bytes = build(&t);
        let elf = parse(&bytes[..bytes.len() - 10]).unwrap().unwrap();
        assert!(elf.sections.is_empty());
        assert!(elf
            .section_error
            .as_deref()
            .unwrap()
            .contains("beyond the end"));
        assert_eq!(elf.segments.len(), 1);
    }

    #[test]
    fn hostile_counts_are_refused_before_allocating() {
        let t = TestElf::new(vec![TestSection::new(".a", vec![1; 8])]);
        let mut bytes = build(&t);
        // e_shnum = 0 and section 0's size (the extended count) = 2^40.
        bytes[60] = 0;
        bytes[61] = 0;
        let shoff = u64::from_le_bytes(bytes[40..48].try_into().unwrap()) as usize;
        bytes[shoff + 32..shoff + 40].copy_from_slice(&(1u64 << 40).to_le_bytes());
        let elf = parse(&bytes).unwrap().unwrap();
        assert!(elf.section_error.unwrap().contains("limit"));
        // A section name offset far outside the string table is an empty name.
        let mut bytes = build(&t);
        bytes[shoff + 64..shoff + 68].copy_from_slice(&u32::MAX.to_le_bytes());
        let elf = parse(&bytes).unwrap().unwrap();
        assert_eq!(elf.sections[1].name, "");
        // Huge program header count and offsets.
        let mut bytes = build(&t);
        bytes[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        bytes[56] = 1;
        assert!(parse(&bytes).is_err());
    }
}
