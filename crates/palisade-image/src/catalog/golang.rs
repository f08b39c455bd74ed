//! Go modules compiled into Go executables, from their build info.
//!
//! Every Go executable built in module mode (Go ≥ 1.13) carries its
//! toolchain version and module list. It starts with a 32-byte header: the
//! 14-byte magic `\xff Go buildinf:`, the pointer size, a flags byte (bit 0:
//! big-endian, bit 1: strings follow inline) and padding.
//!
//! * **Inline format** (Go ≥ 1.18, flag bit 1): the version and the module
//!   info follow the header as two strings, each prefixed by its length as
//!   an unsigned LEB128 varint.
//! * **Pointer format** (Go ≤ 1.17): two pointers at offsets 16 and
//!   16 + pointer size give the virtual addresses of two Go string headers
//!   (data pointer, length), which are resolved through the loadable
//!   segments of the program headers.
//!
//! The header is located by the `.go.buildinfo` section when section
//! headers exist; otherwise (stripped section table, truncated file) the
//! first 64 KiB of the first writable, non-executable loadable segment are
//! searched for the magic at a 16-byte-aligned offset, as Go's own
//! `debug/buildinfo` does (the magic also appears unaligned as a string
//! literal in binaries that embed `debug/buildinfo`, such as `go` itself).
//!
//! The module info is framed by two 16-byte sentinels and has one record
//! per line, fields separated by tabs: `path`, `mod path version sum`,
//! `dep path version sum`, `=> path version sum` (replaces the module on
//! the line before) and `build key=value`.
//!
//! The walker hands this cataloger every ELF executable; the extract it
//! keeps is only the Go version and the module info text. Packages: the main
//! module (its version is often `(devel)`, which matching ignores), every
//! dependency (the replacement's path and version when replaced; a local
//! directory replacement has no version and is reported as `(devel)`), and
//! `stdlib` at the toolchain version (`go1.21.5` → `v1.21.5`), which is how
//! the Go vulnerability database names the standard library.

use std::collections::HashSet;
use std::io::Cursor;

use palisade_model::{Ecosystem, Package};
use serde::{Deserialize, Serialize};

use super::elf::{Elf, ElfError, FileReader};
use super::{add_results, language_package, CatalogContext, CatalogOutput, Cataloger, Extract};
use crate::fs::FileRef;
use crate::layer::ReadSeek;
use crate::purl::PackageUrl;

/// The build info magic.
pub const MAGIC: &[u8; 14] = b"\xff Go buildinf:";
/// Size of the build info header.
const HEADER_SIZE: usize = 32;
/// The header's alignment in the data segment (a power of two).
const ALIGN: usize = 16;
const FLAG_BIG_ENDIAN: u8 = 0x1;
const FLAG_INLINE: u8 = 0x2;
/// Bytes searched for the magic when there is no `.go.buildinfo` section.
const SEARCH_WINDOW: u64 = 64 * 1024;
/// Longest Go version string accepted.
pub const MAX_VERSION_LEN: u64 = 1024;
/// Longest module info accepted (a binary with a thousand dependencies has
/// about 150 KiB).
pub const MAX_MOD_INFO_LEN: u64 = 1 << 20;
/// Most module records (lines) read from one module info.
pub const MAX_MODULES: usize = 100_000;
/// Length of each sentinel framing the module info.
const SENTINEL_LEN: usize = 16;
/// The longest LEB128 encoding of a u64.
const MAX_VARINT_LEN: usize = 10;

/// Why build info that was located could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildInfoError {
    #[error(transparent)]
    Elf(#[from] ElfError),
    #[error("the .go.buildinfo section does not start with the build info magic")]
    NoMagicInSection,
    #[error("build info header is truncated ({len} of {HEADER_SIZE} bytes)")]
    ShortHeader { len: usize },
    #[error("build info pointer size {0} is neither 4 nor 8")]
    PointerSize(u8),
    #[error("{what}: length varint is malformed or does not fit 64 bits")]
    Varint { what: &'static str },
    #[error("{what} is {len} bytes long, over the {limit}-byte limit")]
    TooLong {
        what: &'static str,
        len: u64,
        limit: u64,
    },
    #[error("{what} runs past the end of the build info")]
    Truncated { what: &'static str },
    #[error("{what} is not valid UTF-8")]
    Utf8 { what: &'static str },
    #[error("the Go version string is empty")]
    EmptyVersion,
}

/// What a Go binary says about how it was built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildInfo {
    /// The toolchain version, such as `go1.21.5`.
    pub go_version: String,
    /// The module info text without its sentinels; empty when the binary
    /// was not built in module mode.
    pub mod_info: String,
}

/// The build info header, and the strings it holds or points to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawBuildInfo {
    /// Go ≥ 1.18: the strings were inline.
    Inline(BuildInfo),
    /// Go ≤ 1.17: virtual addresses of the version and module info string
    /// headers.
    Pointers {
        ptr_size: u8,
        big_endian: bool,
        version_addr: u64,
        mod_info_addr: u64,
    },
}

/// Read an unsigned LEB128 varint at the start of `data`: the value and its
/// length in bytes.
pub fn read_uvarint(data: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &b) in data.iter().enumerate().take(MAX_VARINT_LEN) {
        let low = u64::from(b & 0x7f);
        if i == MAX_VARINT_LEN - 1 && b > 1 {
            return None;
        }
        value |= low << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// A varint-length-prefixed string at the start of `data`, and the rest.
fn inline_string<'a>(
    data: &'a [u8],
    what: &'static str,
    limit: u64,
) -> Result<(&'a [u8], &'a [u8]), BuildInfoError> {
    let (len, n) = read_uvarint(data).ok_or(if data.len() < MAX_VARINT_LEN {
        BuildInfoError::Truncated { what }
    } else {
        BuildInfoError::Varint { what }
    })?;
    if len > limit {
        return Err(BuildInfoError::TooLong { what, len, limit });
    }
    let rest = data.get(n..).unwrap_or_default();
    let len = len as usize;
    match (rest.get(..len), rest.get(len..)) {
        (Some(s), Some(after)) => Ok((s, after)),
        _ => Err(BuildInfoError::Truncated { what }),
    }
}

/// Parse build info from `blob`, which starts with the magic (the inline
/// strings, if any, follow in the same buffer).
pub fn parse_build_info_blob(blob: &[u8]) -> Result<RawBuildInfo, BuildInfoError> {
    let header = blob
        .get(..HEADER_SIZE)
        .ok_or(BuildInfoError::ShortHeader { len: blob.len() })?;
    if !header.starts_with(MAGIC) {
        return Err(BuildInfoError::NoMagicInSection);
    }
    let ptr_size = header.get(14).copied().unwrap_or_default();
    let flags = header.get(15).copied().unwrap_or_default();
    if flags & FLAG_INLINE != 0 {
        let rest = blob.get(HEADER_SIZE..).unwrap_or_default();
        let (version, rest) = inline_string(rest, "Go version", MAX_VERSION_LEN)?;
        let (mod_info, _) = inline_string(rest, "module info", MAX_MOD_INFO_LEN)?;
        return Ok(RawBuildInfo::Inline(finish(version, mod_info)?));
    }
    let big_endian = flags & FLAG_BIG_ENDIAN != 0;
    let e = super::elf::Endian { big: big_endian };
    let (version_addr, mod_info_addr) = match ptr_size {
        4 => (u64::from(e.u32(header, 16)), u64::from(e.u32(header, 20))),
        8 => (e.u64(header, 16), e.u64(header, 24)),
        other => return Err(BuildInfoError::PointerSize(other)),
    };
    Ok(RawBuildInfo::Pointers {
        ptr_size,
        big_endian,
        version_addr,
        mod_info_addr,
    })
}

/// Check the version and strip the sentinels from the module info.
fn finish(version: &[u8], mod_info: &[u8]) -> Result<BuildInfo, BuildInfoError> {
    let go_version = std::str::from_utf8(version)
        .map_err(|_| BuildInfoError::Utf8 { what: "Go version" })?
        .to_string();
    if go_version.is_empty() {
        return Err(BuildInfoError::EmptyVersion);
    }
    let framed = mod_info.len() > 2 * SENTINEL_LEN
        && mod_info.get(mod_info.len() - SENTINEL_LEN - 1) == Some(&b'\n');
    let text = if framed {
        mod_info
            .get(SENTINEL_LEN..mod_info.len() - SENTINEL_LEN)
            .unwrap_or_default()
    } else {
        &[][..]
    };
    let mod_info = std::str::from_utf8(text)
        .map_err(|_| BuildInfoError::Utf8 {
            what: "module info",
        })?
        .to_string();
    Ok(BuildInfo {
        go_version,
        mod_info,
    })
}

/// Where the header was found: its file offset and the end of the region
/// (section or segment) that holds it.
fn locate(elf: &Elf, r: &mut FileReader<'_>) -> Result<Option<(u64, u64)>, BuildInfoError> {
    if let Some(s) = elf.section(".go.buildinfo") {
        if s.kind != super::elf::SHT_NOBITS {
            return Ok(Some((s.offset, s.offset.saturating_add(s.size))));
        }
    }
    let Some(seg) = elf.data_segment() else {
        return Ok(None);
    };
    let window = r.read_up_to("data segment", seg.offset, seg.filesz.min(SEARCH_WINDOW))?;
    let mut from = 0usize;
    while let Some(found) = window
        .get(from..)
        .and_then(|w| w.windows(MAGIC.len()).position(|x| x == MAGIC))
    {
        let at = from + found;
        if at & (ALIGN - 1) == 0 {
            let offset = seg.offset + at as u64;
            return Ok(Some((offset, seg.offset.saturating_add(seg.filesz))));
        }
        from = at + 1;
    }
    Ok(None)
}

/// Read a Go string header (pointer, length) at `addr` and its bytes.
fn pointer_string(
    elf: &Elf,
    r: &mut FileReader<'_>,
    ptr_size: u8,
    big_endian: bool,
    addr: u64,
    what: &'static str,
    limit: u64,
) -> Result<Vec<u8>, BuildInfoError> {
    let ps = u64::from(ptr_size);
    let hdr = elf.read_vaddr(r, addr, 2 * ps)?;
    let e = super::elf::Endian { big: big_endian };
    let is_64 = ptr_size == 8;
    let data = e.word(is_64, &hdr, 0);
    let len = e.word(is_64, &hdr, usize::from(ptr_size));
    if len > limit {
        return Err(BuildInfoError::TooLong { what, len, limit });
    }
    Ok(elf.read_vaddr(r, data, len)?)
}

/// Find and read the build info of the executable in `file`.
///
/// `Ok(None)` when there is none to find: not an ELF file, ELF headers too
/// broken to read, or no build info magic. `Err` when build info was
/// located but cannot be read (which is worth a warning).
pub fn read_build_info(file: &mut dyn ReadSeek) -> Result<Option<BuildInfo>, BuildInfoError> {
    let Ok(mut r) = FileReader::new(file) else {
        return Ok(None);
    };
    let elf = match Elf::parse(&mut r) {
        Ok(Some(elf)) => elf,
        Ok(None) => return Ok(None),
        Err(e) => {
            tracing::debug!(error = %e, "unreadable ELF headers");
            return Ok(None);
        }
    };
    let Some((offset, end)) = locate(&elf, &mut r)? else {
        return Ok(None);
    };
    let budget =
        HEADER_SIZE as u64 + 2 * MAX_VARINT_LEN as u64 + MAX_VERSION_LEN + MAX_MOD_INFO_LEN;
    let blob = r.read_up_to("build info", offset, end.saturating_sub(offset).min(budget))?;
    match parse_build_info_blob(&blob)? {
        RawBuildInfo::Inline(info) => Ok(Some(info)),
        RawBuildInfo::Pointers {
            ptr_size,
            big_endian,
            version_addr,
            mod_info_addr,
        } => {
            let version = pointer_string(
                &elf,
                &mut r,
                ptr_size,
                big_endian,
                version_addr,
                "Go version",
                MAX_VERSION_LEN,
            )?;
            let mod_info = pointer_string(
                &elf,
                &mut r,
                ptr_size,
                big_endian,
                mod_info_addr,
                "module info",
                MAX_MOD_INFO_LEN,
            )?;
            Ok(Some(finish(&version, &mod_info)?))
        }
    }
}

/// A module replacement (`=>` line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    pub path: String,
    /// Empty for a local directory replacement.
    pub version: String,
}

/// A module record (`mod` or `dep` line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    pub path: String,
    pub version: String,
    pub sum: Option<String>,
    pub replace: Option<Replacement>,
}

impl Module {
    /// The module path and version actually compiled in: the replacement's
    /// when it names a module version; the original path at `(devel)`
    /// when replaced by a local directory.
    pub fn effective(&self) -> (&str, &str) {
        match &self.replace {
            Some(r) if !r.version.is_empty() => (&r.path, &r.version),
            Some(_) => (&self.path, DEVEL),
            None if self.version.is_empty() => (&self.path, DEVEL),
            None => (&self.path, &self.version),
        }
    }
}

/// The version Go gives a module without one (the main module of a plain
/// `go build`).
pub const DEVEL: &str = "(devel)";

/// A problem with one line of module info.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModInfoError {
    #[error("module info line {line}: {kind} record without a module path")]
    MissingPath { line: usize, kind: &'static str },
    #[error("module info line {line}: replacement with no module on the line before")]
    OrphanReplacement { line: usize },
    #[error("module info line {line}: {value:?} is not a valid module path or version")]
    InvalidToken { line: usize, value: String },
    #[error("more than {MAX_MODULES} module info lines; the rest were not read")]
    TooManyLines,
}

/// Parsed module info.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModInfo {
    /// The main package's import path (`path` line).
    pub path: Option<String>,
    pub main: Option<Module>,
    pub deps: Vec<Module>,
    pub errors: Vec<ModInfoError>,
}

/// Longest path, version or sum accepted.
const MAX_TOKEN_LEN: usize = 1024;

fn token(line: usize, s: &str) -> Result<String, ModInfoError> {
    if s.len() > MAX_TOKEN_LEN || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ModInfoError::InvalidToken {
            line,
            value: s.chars().take(64).collect(),
        });
    }
    Ok(s.to_string())
}

/// The module of a `mod` or `dep` line's fields.
fn module(line: usize, fields: &[&str]) -> Result<Module, ModInfoError> {
    Ok(Module {
        path: token(line, fields.first().copied().unwrap_or_default())?,
        version: token(line, fields.get(1).copied().unwrap_or_default())?,
        sum: fields
            .get(2)
            .filter(|s| !s.is_empty())
            .map(|s| s.to_string()),
        replace: None,
    })
}

/// Which record a module line updates next (for `=>`).
#[derive(Clone, Copy)]
enum Last {
    None,
    Main,
    Dep,
}

/// Parse module info text. Never panics; unusable lines become
/// [`ModInfoError`]s, unknown record kinds are ignored.
pub fn parse_mod_info(text: &str) -> ModInfo {
    let mut out = ModInfo::default();
    let mut last = Last::None;
    for (idx, raw) in text.lines().enumerate() {
        let line = idx + 1;
        if idx >= MAX_MODULES {
            out.errors.push(ModInfoError::TooManyLines);
            break;
        }
        let mut fields = raw.split('\t');
        let kind = fields.next().unwrap_or_default();
        let rest: Vec<&str> = fields.take(4).collect();
        match kind {
            "path" => {
                out.path = rest.first().map(|s| s.to_string());
                last = Last::None;
            }
            "mod" | "dep" => {
                let kind: &'static str = if kind == "mod" { "mod" } else { "dep" };
                last = Last::None;
                let path = rest.first().copied().unwrap_or_default();
                if path.is_empty() {
                    out.errors.push(ModInfoError::MissingPath { line, kind });
                    continue;
                }
                match module(line, &rest) {
                    Ok(m) if kind == "mod" => {
                        out.main = Some(m);
                        last = Last::Main;
                    }
                    Ok(m) => {
                        out.deps.push(m);
                        last = Last::Dep;
                    }
                    Err(e) => out.errors.push(e),
                }
            }
            "=>" => {
                let path = rest.first().copied().unwrap_or_default();
                let target = match last {
                    Last::Main => out.main.as_mut(),
                    Last::Dep => out.deps.last_mut(),
                    Last::None => None,
                };
                last = Last::None;
                let Some(target) = target else {
                    out.errors.push(ModInfoError::OrphanReplacement { line });
                    continue;
                };
                if path.is_empty() {
                    out.errors
                        .push(ModInfoError::MissingPath { line, kind: "=>" });
                    continue;
                }
                let version = rest.get(1).copied().unwrap_or_default();
                match token(line, version) {
                    // Local replacement paths are file system paths and
                    // may contain spaces; they are not reported.
                    Ok(version) => {
                        target.replace = Some(Replacement {
                            path: path.chars().take(MAX_TOKEN_LEN).collect(),
                            version,
                        })
                    }
                    Err(e) => out.errors.push(e),
                }
            }
            _ => last = Last::None,
        }
    }
    out
}

/// The semantic version of a Go toolchain version: `go1.21.5` → `v1.21.5`,
/// `go1.20` → `v1.20.0`, `go1.21rc2` → `v1.21.0-rc.2`. Vendor suffixes
/// (`go1.21.5-bigcorp`, ` X:boringcrypto`) are dropped. `None` for
/// development toolchains (`devel go1.22-…`) and anything unparseable.
pub fn go_version_to_semver(go_version: &str) -> Option<String> {
    let tag = go_version.split_whitespace().next()?;
    let tag = tag.strip_prefix("go")?;
    let tag = tag.split(['-', '+']).next()?;
    let split = tag
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(tag.len());
    let (num, pre) = tag.split_at(split);
    let parts: Vec<&str> = num.split('.').collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty() || p.len() > 9) {
        return None;
    }
    let mut nums = [0u64; 3];
    for (slot, p) in nums.iter_mut().zip(&parts) {
        *slot = p.parse().ok()?;
    }
    let [major, minor, patch] = nums;
    let mut v = format!("v{major}.{minor}.{patch}");
    if !pre.is_empty() {
        let split = pre.find(|c: char| c.is_ascii_digit()).unwrap_or(pre.len());
        let (word, n) = pre.split_at(split);
        if !matches!(word, "alpha" | "beta" | "rc")
            || n.is_empty()
            || !n.bytes().all(|b| b.is_ascii_digit())
            || n.len() > 9
        {
            return None;
        }
        v.push_str(&format!("-{word}.{n}"));
    }
    Some(v)
}

/// The name the Go vulnerability database gives the standard library.
pub const STDLIB: &str = "stdlib";

/// Packages of one binary at `file.path`, plus warnings.
pub fn packages(info: &BuildInfo, file: FileRef<'_>) -> (Vec<Package>, Vec<String>) {
    let parsed = parse_mod_info(&info.mod_info);
    let mut warnings: Vec<String> = parsed.errors.iter().map(ToString::to_string).collect();
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut push = |path: &str, version: &str, warnings: &mut Vec<String>| {
        if !seen.insert((path.to_string(), version.to_string())) {
            return;
        }
        match to_package(path, version, file) {
            Ok(p) => out.push(p),
            Err(e) => warnings.push(e),
        }
    };
    if let Some(main) = &parsed.main {
        let (p, v) = main.effective();
        push(p, v, &mut warnings);
    }
    for dep in &parsed.deps {
        let (p, v) = dep.effective();
        push(p, v, &mut warnings);
    }
    match go_version_to_semver(&info.go_version) {
        Some(v) => push(STDLIB, &v, &mut warnings),
        None => warnings.push(format!(
            "Go toolchain version {:?} is not a release; the standard library is not reported",
            info.go_version.chars().take(64).collect::<String>()
        )),
    }
    (out, warnings)
}

fn to_package(path: &str, version: &str, file: FileRef<'_>) -> Result<Package, String> {
    let (namespace, name) = path.rsplit_once('/').unwrap_or(("", path));
    let purl = PackageUrl::new("golang", name)
        .map_err(|e| format!("module {path}: {e}"))?
        .with_namespace(namespace)
        .with_version(version);
    Ok(language_package(
        file,
        Ecosystem::GO,
        path,
        version,
        &purl,
        Vec::new(),
    ))
}

/// Go executables' build info.
#[derive(Debug, Clone, Copy, Default)]
pub struct GoCataloger;

impl GoCataloger {
    /// The extract for one file (`None`: not a Go binary).
    pub fn extract_bytes(file: &mut dyn ReadSeek) -> Option<Vec<u8>> {
        Extract::encode(read_build_info(file))
    }

    /// Packages and warnings from one extract.
    pub fn packages_from_extract(file: FileRef<'_>) -> (Vec<Package>, Vec<String>) {
        match Extract::<BuildInfo>::decode(file.data, "Go build info", "Go build info extract") {
            Ok(info) => packages(&info, file),
            Err(w) => (Vec::new(), vec![w]),
        }
    }
}

impl Cataloger for GoCataloger {
    fn name(&self) -> &'static str {
        "go"
    }

    fn wants(&self, _path: &str) -> bool {
        false
    }

    fn wants_executables(&self) -> bool {
        true
    }

    fn wants_extract(&self, _path: &str, elf_executable: bool) -> bool {
        elf_executable
    }

    fn extract(&self, _path: &str, file: &mut dyn ReadSeek) -> Option<Vec<u8>> {
        GoCataloger::extract_bytes(file)
    }

    fn catalog(&self, ctx: &CatalogContext<'_>, out: &mut CatalogOutput) {
        let before = out.packages.len();
        for file in ctx.fs.extracted(self.name()) {
            add_results(out, file, GoCataloger::packages_from_extract(file));
        }
        tracing::debug!(
            packages = out.packages.len().saturating_sub(before),
            "Go binaries catalogued"
        );
    }
}

/// Read build info from bytes in memory (for fuzzing and tests).
pub fn read_build_info_bytes(data: &[u8]) -> Result<Option<BuildInfo>, BuildInfoError> {
    read_build_info(&mut Cursor::new(data))
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::super::elf::testutil::{build, TestElf, TestSection};
    use super::*;
    use crate::fs::FsView;

    const START: &[u8; 16] = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6";
    const END: &[u8; 16] = b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2";

    /// Module info as `go version -m` shows it for a small web service.
    const MOD_INFO: &str = "path\texample.com/svc/cmd/svc
mod\texample.com/svc\t(devel)\t
dep\tgithub.com/gorilla/mux\tv1.8.0\th1:i40aqfkR1h2SlN9hojwV5ZA91wcXFOvkdNIeFDP5koI=
dep\tgolang.org/x/net\tv0.17.0\th1:pVaXccu1/Ed2g1d6HNk=
=>\tgolang.org/x/net\tv0.23.0\th1:7mO0bX6gq1l8Jq+Sp0=
dep\tgolang.org/x/text\tv0.14.0\t
=>\t../text-fork\t\t
build\t-compiler=gc
build\tCGO_ENABLED=0
build\tGOARCH=amd64
";

    fn uvarint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn framed(mod_info: &str) -> Vec<u8> {
        let mut m = START.to_vec();
        m.extend_from_slice(mod_info.as_bytes());
        m.extend_from_slice(END);
        m
    }

    /// The `.go.buildinfo` contents of a Go ≥ 1.18 binary.
    fn inline_blob(version: &str, mod_info: &str) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.push(8);
        b.push(FLAG_INLINE);
        b.resize(HEADER_SIZE, 0);
        uvarint(version.len() as u64, &mut b);
        b.extend_from_slice(version.as_bytes());
        let m = framed(mod_info);
        uvarint(m.len() as u64, &mut b);
        b.extend_from_slice(&m);
        b
    }

    /// A Go ≥ 1.18 ELF64 binary.
    fn go_binary(version: &str, mod_info: &str) -> Vec<u8> {
        build(&TestElf::new(vec![
            TestSection::new(".text", vec![0x90; 64]),
            TestSection {
                addr: 0x6a_0000,
                writable: true,
                ..TestSection::new(".go.buildinfo", inline_blob(version, mod_info))
            },
        ]))
    }

    /// A Go ≤ 1.17 binary: pointers into a data section holding the two
    /// string headers and the string bytes.
    fn pointer_binary(is_64: bool, big_endian: bool, version: &str, mod_info: &str) -> Vec<u8> {
        let ps: usize = if is_64 { 8 } else { 4 };
        let data_addr: u64 = 0x80_0000;
        let put = |out: &mut Vec<u8>, v: u64| {
            let b = v.to_le_bytes();
            let mut w = b[..ps].to_vec();
            if big_endian {
                w.reverse();
            }
            out.extend_from_slice(&w);
        };
        let m = framed(mod_info);
        // .data layout: [vers hdr][mod hdr][vers bytes][mod bytes]
        let vers_hdr = data_addr;
        let mod_hdr = data_addr + 2 * ps as u64;
        let vers_bytes = data_addr + 4 * ps as u64;
        let mod_bytes = vers_bytes + version.len() as u64;
        let mut data = Vec::new();
        put(&mut data, vers_bytes);
        put(&mut data, version.len() as u64);
        put(&mut data, mod_bytes);
        put(&mut data, m.len() as u64);
        data.extend_from_slice(version.as_bytes());
        data.extend_from_slice(&m);
        let mut hdr = MAGIC.to_vec();
        hdr.push(ps as u8);
        hdr.push(u8::from(big_endian));
        put(&mut hdr, vers_hdr);
        put(&mut hdr, mod_hdr);
        hdr.resize(HEADER_SIZE, 0);
        let mut t = TestElf::new(vec![
            TestSection {
                addr: 0x70_0000,
                writable: true,
                ..TestSection::new(".go.buildinfo", hdr)
            },
            TestSection {
                addr: data_addr,
                writable: true,
                ..TestSection::new(".data", data)
            },
        ]);
        t.is_64 = is_64;
        t.big_endian = big_endian;
        build(&t)
    }

    fn catalog(files: &[(&str, Vec<u8>)]) -> CatalogOutput {
        let mut fs = FsView::new();
        for (path, bytes) in files {
            let extracts = GoCataloger
                .extract(path, &mut Cursor::new(&bytes[..]))
                .map(|e| vec![("go".into(), e.into())])
                .unwrap_or_default();
            fs.insert_entry(path.to_string(), None, extracts, None);
        }
        let mut out = CatalogOutput::default();
        GoCataloger.catalog(&CatalogContext { fs: &fs, os: None }, &mut out);
        out
    }

    fn rows(out: &CatalogOutput) -> Vec<(String, String, String)> {
        out.packages
            .iter()
            .map(|p| (p.name.to_string(), p.version.to_string(), p.purl.clone()))
            .collect()
    }

    #[test]
    fn inline_build_info_gives_modules_and_stdlib() {
        let bin = go_binary("go1.21.5", MOD_INFO);
        let info = read_build_info_bytes(&bin).unwrap().unwrap();
        assert_eq!(info.go_version, "go1.21.5");
        assert_eq!(info.mod_info, MOD_INFO);
        let out = catalog(&[("usr/local/bin/svc", bin)]);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(
            rows(&out),
            [
                (
                    "example.com/svc",
                    "(devel)",
                    "pkg:golang/example.com/svc@%28devel%29"
                ),
                (
                    "github.com/gorilla/mux",
                    "v1.8.0",
                    "pkg:golang/github.com/gorilla/mux@v1.8.0"
                ),
                (
                    "golang.org/x/net",
                    "v0.23.0",
                    "pkg:golang/golang.org/x/net@v0.23.0"
                ),
                (
                    "golang.org/x/text",
                    "(devel)",
                    "pkg:golang/golang.org/x/text@%28devel%29"
                ),
                ("stdlib", "v1.21.5", "pkg:golang/stdlib@v1.21.5"),
            ]
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        );
        assert!(out
            .packages
            .iter()
            .all(|p| p.path == "usr/local/bin/svc" && p.ecosystem.as_str() == "Go"));
    }

    #[test]
    fn extract_is_small() {
        let mut bin = go_binary("go1.22.0", MOD_INFO);
        bin.extend(std::iter::repeat_n(0u8, 1 << 20));
        let e = GoCataloger
            .extract("x", &mut Cursor::new(&bin[..]))
            .unwrap();
        assert!(e.len() < 2 * MOD_INFO.len(), "{}", e.len());
    }

    #[test]
    fn pointer_format_in_every_class_and_byte_order() {
        for (is_64, be) in [(true, false), (false, false), (true, true), (false, true)] {
            let bin = pointer_binary(is_64, be, "go1.16.15", MOD_INFO);
            let info = read_build_info_bytes(&bin)
                .unwrap()
                .unwrap_or_else(|| panic!("{is_64} {be}"));
            assert_eq!(info.go_version, "go1.16.15");
            assert_eq!(info.mod_info, MOD_INFO);
        }
    }

    #[test]
    fn pointer_format_with_unmapped_address_is_an_error() {
        let mut bin = pointer_binary(true, false, "go1.16.15", MOD_INFO);
        // Point the version header far away.
        let pos = bin.windows(MAGIC.len()).position(|w| w == MAGIC).unwrap();
        bin[pos + 16..pos + 24].copy_from_slice(&0xdead_0000u64.to_le_bytes());
        let err = read_build_info_bytes(&bin).unwrap_err();
        assert!(
            matches!(err, BuildInfoError::Elf(ElfError::Unmapped { .. })),
            "{err}"
        );
        let out = catalog(&[("bin/old", bin)]);
        assert!(out.packages.is_empty());
        assert_eq!(out.warnings.len(), 1);
        assert!(
            out.warnings[0].message.contains("not backed by file data"),
            "{:?}",
            out.warnings
        );
    }

    #[test]
    fn found_by_scanning_the_data_segment_when_sections_are_gone() {
        let mut t = TestElf::new(vec![TestSection {
            addr: 0x6a_0000,
            writable: true,
            ..TestSection::new(".go.buildinfo", inline_blob("go1.20.3", MOD_INFO))
        }]);
        t.with_sections = false;
        let info = read_build_info_bytes(&build(&t)).unwrap().unwrap();
        assert_eq!(info.go_version, "go1.20.3");

        // The magic at an unaligned offset (a string literal in a binary
        // that embeds debug/buildinfo) is not build info.
        let mut data = vec![0u8; 5];
        data.extend_from_slice(&inline_blob("go1.20.3", MOD_INFO));
        let mut t = TestElf::new(vec![TestSection {
            addr: 0x6a_0000,
            writable: true,
            ..TestSection::new(".data", data.clone())
        }]);
        t.with_sections = false;
        assert_eq!(read_build_info_bytes(&build(&t)).unwrap(), None);
        // ... while an aligned one after it is.
        data.resize(32, 0);
        data.extend_from_slice(&inline_blob("go1.19.1", ""));
        let mut t = TestElf::new(vec![TestSection {
            addr: 0x6a_0000,
            writable: true,
            ..TestSection::new(".data", data)
        }]);
        t.with_sections = false;
        let info = read_build_info_bytes(&build(&t)).unwrap().unwrap();
        assert_eq!(
            (info.go_version.as_str(), info.mod_info.as_str()),
            ("go1.19.1", "")
        );
    }

    #[test]
    fn non_go_files_are_not_extracted() {
        assert_eq!(read_build_info_bytes(b"").unwrap(), None);
        assert_eq!(read_build_info_bytes(b"#!/bin/sh\n").unwrap(), None);
        let plain = build(&TestElf::new(vec![TestSection::new(".text", vec![1; 100])]));
        assert_eq!(read_build_info_bytes(&plain).unwrap(), None);
        assert!(GoCataloger
            .extract("x", &mut Cursor::new(&plain[..]))
            .is_none());
        // A broken ELF header is not known to be Go: no warning.
        assert_eq!(read_build_info_bytes(b"\x7fELF\x09\x09").unwrap(), None);
    }

    #[test]
    fn truncated_binary_is_a_warning() {
        let bin = go_binary("go1.21.5", MOD_INFO);
        let pos = bin.windows(MAGIC.len()).position(|w| w == MAGIC).unwrap();
        // Cut inside the module info: the section table (at the end) is
        // gone, the data segment is found and its string is cut short.
        let cut = &bin[..pos + 100];
        let err = read_build_info_bytes(cut).unwrap_err();
        assert!(
            matches!(
                err,
                BuildInfoError::Truncated {
                    what: "module info"
                }
            ),
            "{err}"
        );
        let out = catalog(&[("bin/cut", cut.to_vec())]);
        assert!(out.packages.is_empty());
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        // Cut inside the header.
        let err = read_build_info_bytes(&bin[..pos + 20]).unwrap_err();
        assert!(matches!(err, BuildInfoError::ShortHeader { .. }), "{err}");
    }

    #[test]
    fn huge_and_malformed_varints() {
        let mut blob = MAGIC.to_vec();
        blob.extend_from_slice(&[8, FLAG_INLINE]);
        blob.resize(HEADER_SIZE, 0);
        let mut huge = blob.clone();
        uvarint(1 << 62, &mut huge);
        assert!(matches!(
            parse_build_info_blob(&huge),
            Err(BuildInfoError::TooLong {
                what: "Go version",
                ..
            })
        ));
        let mut overflow = blob.clone();
        overflow.extend_from_slice(&[0xff; 12]);
        assert!(matches!(
            parse_build_info_blob(&overflow),
            Err(BuildInfoError::Varint { .. })
        ));
        let mut short = blob.clone();
        short.extend_from_slice(&[0xff, 0xff]);
        assert!(matches!(
            parse_build_info_blob(&short),
            Err(BuildInfoError::Truncated { .. })
        ));
        // In a whole binary: a warning, no packages.
        let mut t = TestElf::new(vec![TestSection {
            addr: 0x6a_0000,
            writable: true,
            ..TestSection::new(".go.buildinfo", huge)
        }]);
        t.with_segments = false;
        let out = catalog(&[("bin/huge", build(&t))]);
        assert!(out.packages.is_empty());
        assert!(
            out.warnings[0].message.contains("over the 1024-byte limit"),
            "{:?}",
            out.warnings
        );
        // Bad pointer size; empty version; section without the magic.
        let mut bad = blob.clone();
        bad[14] = 3;
        bad[15] = 0;
        assert!(matches!(
            parse_build_info_blob(&bad),
            Err(BuildInfoError::PointerSize(3))
        ));
        assert!(matches!(
            parse_build_info_blob(&inline_blob("", MOD_INFO)),
            Err(BuildInfoError::EmptyVersion)
        ));
        assert!(matches!(
            parse_build_info_blob(&[0u8; 40]),
            Err(BuildInfoError::NoMagicInSection)
        ));
    }

    #[test]
    fn varint_decoding() {
        assert_eq!(read_uvarint(&[0x05]), Some((5, 1)));
        assert_eq!(read_uvarint(&[0x80, 0x01]), Some((128, 2)));
        let mut max = Vec::new();
        uvarint(u64::MAX, &mut max);
        assert_eq!(read_uvarint(&max), Some((u64::MAX, 10)));
        assert_eq!(read_uvarint(&[0xff; 9]), None);
        let mut over = vec![0xff; 9];
        over.push(0x02);
        assert_eq!(read_uvarint(&over), None);
    }

    #[test]
    fn mod_info_without_sentinels_is_empty() {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[8, FLAG_INLINE]);
        b.resize(HEADER_SIZE, 0);
        uvarint(8, &mut b);
        b.extend_from_slice(b"go1.21.5");
        uvarint(10, &mut b);
        b.extend_from_slice(b"path\tx\nabc");
        let RawBuildInfo::Inline(info) = parse_build_info_blob(&b).unwrap() else {
            panic!()
        };
        assert_eq!(info.mod_info, "");
    }

    #[test]
    fn mod_info_records() {
        let m = parse_mod_info(MOD_INFO);
        assert!(m.errors.is_empty());
        assert_eq!(m.path.as_deref(), Some("example.com/svc/cmd/svc"));
        assert_eq!(m.main.as_ref().unwrap().version, "(devel)");
        assert_eq!(m.deps.len(), 3);
        assert_eq!(m.deps[1].effective(), ("golang.org/x/net", "v0.23.0"));
        assert_eq!(m.deps[2].replace.as_ref().unwrap().path, "../text-fork");
        assert_eq!(m.deps[2].effective(), ("golang.org/x/text", DEVEL));
        // Replacement of the main module (a `mod` line) is allowed.
        let m = parse_mod_info("mod\ta\tv1.0.0\t\n=>\tb\tv2.0.0\t\n");
        assert_eq!(m.main.unwrap().effective(), ("b", "v2.0.0"));
    }

    #[test]
    fn malformed_mod_info_lines_are_errors() {
        let m = parse_mod_info("=>\tx\tv1\t\ndep\t\tv1\ndep\ta b\tv1\ndep\tok\tv1.0.0\n=>\tr\tv 2\nbuild\tx\n=>\ty\tv1\nfuture\tz\n");
        assert_eq!(m.deps.len(), 1);
        assert_eq!(
            m.errors,
            [
                ModInfoError::OrphanReplacement { line: 1 },
                ModInfoError::MissingPath {
                    line: 2,
                    kind: "dep"
                },
                ModInfoError::InvalidToken {
                    line: 3,
                    value: "a b".into()
                },
                ModInfoError::InvalidToken {
                    line: 5,
                    value: "v 2".into()
                },
                ModInfoError::OrphanReplacement { line: 7 },
            ]
        );
        let many = "dep\ta\tv1.0.0\n".repeat(MAX_MODULES + 5);
        let m = parse_mod_info(&many);
        assert_eq!(m.errors, [ModInfoError::TooManyLines]);
        assert_eq!(m.deps.len(), MAX_MODULES);
    }

    #[test]
    fn toolchain_versions() {
        for (go, want) in [
            ("go1.21.5", Some("v1.21.5")),
            ("go1.20", Some("v1.20.0")),
            ("go1.21rc2", Some("v1.21.0-rc.2")),
            ("go1.19beta1", Some("v1.19.0-beta.1")),
            ("go1.22.0 X:boringcrypto", Some("v1.22.0")),
            ("go1.21.5-bigcorp", Some("v1.21.5")),
            ("devel go1.23-1a2b3c Tue", None),
            ("go1.2.3.4", None),
            ("go1..2", None),
            ("go1.21foo3", None),
            ("gox", None),
            ("", None),
        ] {
            assert_eq!(go_version_to_semver(go).as_deref(), want, "{go}");
        }
        let bin = go_binary("devel go1.23-1a2b3c", "");
        let out = catalog(&[("bin/dev", bin)]);
        assert!(out.packages.is_empty());
        assert!(out.warnings[0].message.contains("not a release"));
    }

    #[test]
    fn toolchain_binary_without_modules_reports_stdlib_only() {
        let bin = go_binary("go1.21.5", "path\tcmd/go\nbuild\tGOOS=linux\n");
        let out = catalog(&[("usr/local/go/bin/go", bin)]);
        assert_eq!(
            rows(&out),
            [(
                "stdlib".into(),
                "v1.21.5".into(),
                "pkg:golang/stdlib@v1.21.5".into()
            )]
        );
    }
}
