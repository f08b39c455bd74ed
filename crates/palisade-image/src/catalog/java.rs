//! Java archives: JAR, WAR, EAR and PAR files, and the archives nested in
//! them.
//!
//! The walker hands this cataloger every file whose name ends in `.jar`,
//! `.war`, `.ear` or `.par` (any case); it reads the zip in place and keeps
//! only a compact JSON summary as its extract, never the archive. Per
//! archive the summary holds:
//!
//! * every `META-INF/maven/<group>/<artifact>/pom.properties` (`groupId`,
//!   `artifactId`, `version`) — a shaded jar has several, one per bundled
//!   artifact;
//! * the main section of `META-INF/MANIFEST.MF` (`Implementation-Title`,
//!   `-Version`, `-Vendor-Id`, `Bundle-SymbolicName`, `Bundle-Version`,
//!   `Specification-Title`, `-Version`);
//! * its file name.
//!
//! Archives nested anywhere inside (Spring Boot's `BOOT-INF/lib/*.jar`, a
//! WAR's `WEB-INF/lib/*.jar`, an EAR's modules and `lib/*.jar`) are read
//! recursively, up to [`MAX_NESTING`] levels deep. Stored (uncompressed)
//! nested archives, which Spring Boot requires, are read in place;
//! compressed ones are inflated into memory up to [`MAX_NESTED_SIZE`].
//!
//! **Identity.** Maven advisories name packages `groupId:artifactId`, and
//! only `pom.properties` states the group reliably. So:
//!
//! * each `pom.properties` gives a package named `group:artifact` with the
//!   purl `pkg:maven/<group>/<artifact>@<version>`;
//! * an archive without `pom.properties` (built by Gradle, Ant, …) is still
//!   reported, by its best guess of artifact name and version: the file name
//!   `name-1.2.3.jar`, else the manifest's implementation or bundle fields.
//!   Such a package is distinguishable: its name has no `:` (so it never
//!   matches a Maven advisory, which avoids false positives) and its purl
//!   is empty (the `maven` purl type requires a group).
//!
//! Package paths name the file in the image, followed by `!/` and the path
//! inside for nested archives (`app.jar!/BOOT-INF/lib/x.jar`), as Java's
//! `jar:` URLs do.
//!
//! Everything is bounded: bytes of central directory read per archive,
//! bytes inflated per file, nesting depth, archives and `pom.properties`
//! per file, size of the small files read. Exceeding a bound is a warning.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashSet;
use std::io::{self, Cursor, Read, Seek, SeekFrom};

use palisade_model::{Ecosystem, Package, PackageName, Version};
use serde::{Deserialize, Serialize};

use super::{add_results, CatalogContext, CatalogOutput, Cataloger};
use crate::fs::FileRef;
use crate::layer::ReadSeek;
use crate::purl::PackageUrl;

/// Levels of archives read inside the file (the file itself is level 0).
pub const MAX_NESTING: usize = 3;
/// Largest compressed nested archive inflated into memory.
pub const MAX_NESTED_SIZE: u64 = 64 << 20;
/// Bytes inflated in total for one file (nested archives, manifests,
/// `pom.properties`).
pub const MAX_INFLATED_TOTAL: u64 = 1 << 30;
/// Bytes read while opening one archive (end record and central
/// directory); about 300,000 entries.
pub const MAX_DIRECTORY_READ: u64 = 16 << 20;
/// Archives read per file, nested ones included.
pub const MAX_ARCHIVES: usize = 5000;
/// `pom.properties` read per file.
pub const MAX_POMS: usize = 10_000;
/// Bytes read of a manifest or `pom.properties`.
const MAX_SMALL_FILE: u64 = 256 * 1024;
/// Warnings kept per file.
const MAX_WARNINGS: usize = 100;
/// Longest manifest or property value kept.
const MAX_VALUE_LEN: usize = 256;
/// Longest entry name kept in a summary (zip names may be 64 KiB).
const MAX_NAME_LEN: usize = 512;

/// `groupId`, `artifactId` and `version` of one `pom.properties`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PomProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Where it was, inside its archive.
    pub entry: String,
}

/// The identifying attributes of a manifest's main section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Manifest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implementation_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implementation_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implementation_vendor_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle_symbolic_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub specification_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub specification_version: Option<String>,
}

/// What was found in one archive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveInfo {
    /// Path inside the file, `!/`-separated per level; empty for the file
    /// itself.
    pub location: String,
    /// The archive's file name (last path component).
    pub file_name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub poms: Vec<PomProperties>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<Manifest>,
}

/// The extract of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JarSummary {
    pub archives: Vec<ArchiveInfo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Whether `path` names a Java archive (by suffix, any case).
pub fn is_java_archive(path: &str) -> bool {
    let Some(tail) = path.len().checked_sub(4).and_then(|i| path.get(i..)) else {
        return false;
    };
    [".jar", ".war", ".ear", ".par"]
        .iter()
        .any(|s| tail.eq_ignore_ascii_case(s))
}

/// A reader that fails once `left` bytes have been read: opening an
/// archive reads its central directory into memory, so that read is capped.
struct Capped<'a, R> {
    inner: R,
    left: &'a Cell<u64>,
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.left.get();
        if left == 0 {
            return Err(io::Error::other(format!(
                "central directory over the {MAX_DIRECTORY_READ}-byte limit"
            )));
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(buf.get_mut(..want).unwrap_or_default())?;
        self.left.set(left - n as u64);
        Ok(n)
    }
}

impl<R: Seek> Seek for Capped<'_, R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// Walk state shared by all levels of one file.
#[derive(Default)]
struct Walk {
    summary: JarSummary,
    inflated: u64,
    poms: usize,
    stopped: bool,
    archives_capped: bool,
}

impl Walk {
    fn warn(&mut self, location: &str, message: impl std::fmt::Display) {
        let w = &mut self.summary.warnings;
        if w.len() < MAX_WARNINGS {
            if location.is_empty() {
                w.push(message.to_string());
            } else {
                w.push(format!("{location}: {message}"));
            }
        } else if w.len() == MAX_WARNINGS {
            w.push("more warnings were not reported".into());
        }
    }

    /// Count `n` inflated bytes; false (and a warning) past the limit.
    fn inflate(&mut self, n: u64) -> bool {
        self.inflated = self.inflated.saturating_add(n);
        if self.inflated > MAX_INFLATED_TOTAL && !self.stopped {
            self.stopped = true;
            self.warn(
                "",
                format!("more than {MAX_INFLATED_TOTAL} bytes inflated; the rest of the archive was not read"),
            );
        }
        !self.stopped
    }
}

/// What an entry name is to us.
enum EntryKind {
    Manifest,
    Pom,
    Nested,
}

fn classify(name: &str) -> Option<EntryKind> {
    if name.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
        Some(EntryKind::Manifest)
    } else if name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties") {
        Some(EntryKind::Pom)
    } else if is_java_archive(name) && !name.ends_with('/') {
        Some(EntryKind::Nested)
    } else {
        None
    }
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `name`, cut to [`MAX_NAME_LEN`] characters.
fn short(name: &str) -> String {
    name.chars().take(MAX_NAME_LEN).collect()
}

fn child_location(parent: &str, entry: &str) -> String {
    let entry = short(entry);
    if parent.is_empty() {
        entry
    } else {
        format!("{parent}!/{entry}")
    }
}

/// Read a small entry (manifest, properties) as text.
fn read_small<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
    index: usize,
    walk: &mut Walk,
) -> io::Result<String> {
    let file = archive.by_index(index).map_err(io::Error::other)?;
    let mut buf = Vec::new();
    file.take(MAX_SMALL_FILE).read_to_end(&mut buf)?;
    walk.inflate(buf.len() as u64);
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// Read the archive behind `reader` at `location` (nesting `depth`).
fn walk_archive(
    reader: &mut dyn ReadSeek,
    location: &str,
    file_name: &str,
    depth: usize,
    walk: &mut Walk,
) {
    if walk.summary.archives.len() >= MAX_ARCHIVES {
        if !walk.archives_capped {
            walk.archives_capped = true;
            walk.warn(
                location,
                format!("more than {MAX_ARCHIVES} archives; the rest were not read"),
            );
        }
        return;
    }
    let budget = Cell::new(MAX_DIRECTORY_READ);
    let capped = Capped {
        inner: reader,
        left: &budget,
    };
    let mut archive = match zip::ZipArchive::new(capped) {
        Ok(a) => a,
        Err(e) => {
            walk.warn(location, format!("not a readable zip archive: {e}"));
            return;
        }
    };
    budget.set(u64::MAX);
    let mut info = ArchiveInfo {
        location: location.to_string(),
        file_name: short(file_name),
        ..ArchiveInfo::default()
    };
    let mut manifest = None;
    let mut poms = Vec::new();
    let mut nested = Vec::new();
    for i in 0..archive.len() {
        let Some(Ok(name)) = archive.name_for_index(i) else {
            continue;
        };
        match classify(&name) {
            Some(EntryKind::Manifest) => manifest = manifest.or(Some(i)),
            Some(EntryKind::Pom) => poms.push((i, name.into_owned())),
            Some(EntryKind::Nested) => nested.push((i, name.into_owned())),
            None => {}
        }
    }
    if let Some(i) = manifest {
        match read_small(&mut archive, i, walk) {
            Ok(text) => info.manifest = Some(parse_manifest(&text)),
            Err(e) => walk.warn(location, format!("META-INF/MANIFEST.MF unreadable: {e}")),
        }
    }
    for (i, entry) in poms {
        if walk.stopped {
            break;
        }
        if walk.poms >= MAX_POMS {
            walk.warn(
                location,
                format!("more than {MAX_POMS} pom.properties; the rest were not read"),
            );
            break;
        }
        walk.poms += 1;
        match read_small(&mut archive, i, walk) {
            Ok(text) => {
                let mut pom = parse_pom_properties(&text);
                pom.entry = short(&entry);
                info.poms.push(pom);
            }
            Err(e) => walk.warn(location, format!("{entry} unreadable: {e}")),
        }
    }
    walk.summary.archives.push(info);
    if nested.is_empty() {
        return;
    }
    if depth >= MAX_NESTING {
        walk.warn(
            location,
            format!(
                "{} nested archives beyond {MAX_NESTING} levels were not read",
                nested.len()
            ),
        );
        return;
    }
    for (i, entry) in nested {
        if walk.stopped || walk.archives_capped {
            break;
        }
        let child = child_location(location, &entry);
        walk_nested(&mut archive, i, &child, base_name(&entry), depth + 1, walk);
    }
}

fn walk_nested<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
    index: usize,
    location: &str,
    file_name: &str,
    depth: usize,
    walk: &mut Walk,
) {
    // Stored entries are read in place.
    if let Ok(mut seekable) = archive.by_index_seek(index) {
        walk_archive(&mut seekable, location, file_name, depth, walk);
        return;
    }
    let file = match archive.by_index(index) {
        Ok(f) => f,
        Err(e) => {
            walk.warn(location, format!("unreadable: {e}"));
            return;
        }
    };
    if file.size() > MAX_NESTED_SIZE {
        walk.warn(
            location,
            format!("compressed nested archive of {} bytes is over the {MAX_NESTED_SIZE}-byte limit; not read", file.size()),
        );
        return;
    }
    let mut buf = Vec::new();
    let read = file.take(MAX_NESTED_SIZE + 1).read_to_end(&mut buf);
    if let Err(e) = read {
        walk.warn(location, format!("unreadable: {e}"));
        return;
    }
    if buf.len() as u64 > MAX_NESTED_SIZE {
        walk.warn(
            location,
            format!("nested archive inflates past the {MAX_NESTED_SIZE}-byte limit; not read"),
        );
        return;
    }
    if !walk.inflate(buf.len() as u64) {
        return;
    }
    walk_archive(&mut Cursor::new(buf), location, file_name, depth, walk);
}

/// Summarise the Java archive in `file` named `file_name`. Never fails:
/// problems are warnings in the summary.
pub fn summarize(file: &mut dyn ReadSeek, file_name: &str) -> JarSummary {
    let mut walk = Walk::default();
    walk_archive(file, "", file_name, 0, &mut walk);
    walk.summary
}

fn clean_value(v: &str) -> Option<String> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    Some(v.chars().take(MAX_VALUE_LEN).collect())
}

/// Parse `pom.properties` (Java properties: `key=value` or `key: value`,
/// `#` and `!` comments).
pub fn parse_pom_properties(text: &str) -> PomProperties {
    let mut out = PomProperties::default();
    for line in text.lines().take(10_000) {
        let line = line.trim_start();
        if line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some(split) = line.find(['=', ':']) else {
            continue;
        };
        let (key, value) = (
            line.get(..split).unwrap_or_default().trim(),
            line.get(split + 1..).unwrap_or_default(),
        );
        match key {
            "groupId" => out.group_id = clean_value(value),
            "artifactId" => out.artifact_id = clean_value(value),
            "version" => out.version = clean_value(value),
            _ => {}
        }
    }
    out
}

/// Parse the main section of a manifest: `Name: value` lines, a line
/// starting with one space continues the previous one, the section ends at
/// the first empty line.
pub fn parse_manifest(text: &str) -> Manifest {
    let mut out = Manifest::default();
    let mut attrs: Vec<(String, String)> = Vec::new();
    for line in text.lines().take(10_000) {
        if line.is_empty() {
            break;
        }
        if let Some(cont) = line.strip_prefix(' ') {
            if let Some((_, v)) = attrs.last_mut() {
                if v.len() < MAX_VALUE_LEN {
                    v.push_str(cont);
                }
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            attrs.push((
                k.trim().to_string(),
                v.trim_start().chars().take(MAX_VALUE_LEN).collect(),
            ));
        }
    }
    for (k, v) in attrs {
        let slot = match k.to_ascii_lowercase().as_str() {
            "implementation-title" => &mut out.implementation_title,
            "implementation-version" => &mut out.implementation_version,
            "implementation-vendor-id" => &mut out.implementation_vendor_id,
            "bundle-symbolicname" => &mut out.bundle_symbolic_name,
            "bundle-version" => &mut out.bundle_version,
            "specification-title" => &mut out.specification_title,
            "specification-version" => &mut out.specification_version,
            _ => continue,
        };
        if slot.is_none() {
            *slot = clean_value(&v);
        }
    }
    out
}

/// Split an archive file name `name-1.2.3.jar` into artifact and version,
/// at the first `-` followed by a digit.
pub fn split_file_name(file_name: &str) -> Option<(String, String)> {
    let stem = file_name.get(..file_name.len().checked_sub(4)?)?;
    let bytes = stem.as_bytes();
    let at = (1..bytes.len()).find(|&i| {
        bytes.get(i - 1) == Some(&b'-') && bytes.get(i).is_some_and(u8::is_ascii_digit)
    })?;
    let name = stem.get(..at - 1)?;
    let version = stem.get(at..)?;
    (!name.is_empty() && !version.is_empty()).then(|| (name.to_string(), version.to_string()))
}

/// A package identity derived from a summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaPackage {
    /// `Some` when the group is known (from `pom.properties`).
    pub group: Option<String>,
    pub artifact: String,
    pub version: String,
    /// The archive's location inside the file (see [`ArchiveInfo`]).
    pub location: String,
}

impl JavaPackage {
    /// `group:artifact`, or just the artifact when the group is unknown.
    pub fn name(&self) -> String {
        match &self.group {
            Some(g) => format!("{g}:{}", self.artifact),
            None => self.artifact.clone(),
        }
    }
}

fn valid_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 256
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, ':' | '/'))
}

fn valid_version(s: &str) -> bool {
    !s.is_empty() && s.len() <= 256 && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The packages of a summary (see the module docs for the identity
/// rules), and warnings about unusable `pom.properties`.
pub fn packages_from_summary(summary: &JarSummary) -> (Vec<JavaPackage>, Vec<String>) {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let mut seen = HashSet::new();
    for a in &summary.archives {
        let before = out.len();
        let where_ = if a.location.is_empty() {
            Cow::Borrowed("")
        } else {
            Cow::Owned(format!("{}: ", a.location))
        };
        for pom in &a.poms {
            match (&pom.group_id, &pom.artifact_id, &pom.version) {
                (Some(g), Some(art), Some(v))
                    if valid_token(g) && valid_token(art) && valid_version(v) =>
                {
                    if seen.insert((a.location.clone(), g.clone(), art.clone(), v.clone())) {
                        out.push(JavaPackage {
                            group: Some(g.clone()),
                            artifact: art.clone(),
                            version: v.clone(),
                            location: a.location.clone(),
                        });
                    }
                }
                _ => warnings.push(format!(
                    "{where_}{} lacks a valid groupId, artifactId or version; ignored",
                    pom.entry
                )),
            }
        }
        if out.len() > before || !a.poms.is_empty() {
            continue;
        }
        let m = a.manifest.clone().unwrap_or_default();
        let from_name = split_file_name(&a.file_name);
        let artifact = from_name
            .as_ref()
            .map(|(n, _)| n.clone())
            .or(m.implementation_title.clone())
            .or_else(|| {
                m.bundle_symbolic_name
                    .as_deref()
                    .map(|b| b.split(';').next().unwrap_or(b).trim().to_string())
            });
        let version = from_name
            .map(|(_, v)| v)
            .or(m.implementation_version)
            .or(m.bundle_version)
            .or(m.specification_version);
        if let (Some(artifact), Some(version)) = (artifact, version) {
            if valid_token(&artifact)
                && valid_version(&version)
                && seen.insert((
                    a.location.clone(),
                    String::new(),
                    artifact.clone(),
                    version.clone(),
                ))
            {
                out.push(JavaPackage {
                    group: None,
                    artifact,
                    version,
                    location: a.location.clone(),
                });
            }
        }
    }
    (out, warnings)
}

fn to_package(p: &JavaPackage, file: FileRef<'_>) -> Result<Package, String> {
    let purl = match &p.group {
        Some(g) => PackageUrl::new("maven", &p.artifact)
            .map_err(|e| format!("{}: {e}", p.name()))?
            .with_namespace(g)
            .with_version(&p.version)
            .to_string(),
        None => String::new(),
    };
    let path = if p.location.is_empty() {
        file.path.to_string()
    } else {
        format!("{}!/{}", file.path, p.location)
    };
    Ok(Package {
        name: PackageName::new(p.name()),
        version: Version::new(p.version.clone()),
        ecosystem: Ecosystem::new(Ecosystem::MAVEN),
        purl,
        layer: file.layer.cloned(),
        path,
        source: None,
        arch: None,
        licenses: Vec::new(),
    })
}

/// Java archives, nested ones included.
#[derive(Debug, Clone, Copy, Default)]
pub struct JavaCataloger;

impl JavaCataloger {
    /// The extract for one archive.
    pub fn extract_bytes(path: &str, file: &mut dyn ReadSeek) -> Option<Vec<u8>> {
        let summary = summarize(file, base_name(path));
        serde_json::to_vec(&summary).ok()
    }

    /// Packages and warnings from one extract.
    pub fn packages_from_extract(file: FileRef<'_>) -> (Vec<Package>, Vec<String>) {
        let summary: JarSummary = match serde_json::from_slice(file.data) {
            Ok(s) => s,
            Err(e) => {
                return (
                    Vec::new(),
                    vec![format!("Java archive extract unreadable: {e}")],
                )
            }
        };
        let (pkgs, mut warnings) = packages_from_summary(&summary);
        let mut all = summary.warnings;
        all.append(&mut warnings);
        let mut out = Vec::new();
        for p in &pkgs {
            match to_package(p, file) {
                Ok(pkg) => out.push(pkg),
                Err(e) => all.push(e),
            }
        }
        (out, all)
    }
}

impl Cataloger for JavaCataloger {
    fn name(&self) -> &'static str {
        "java"
    }

    fn wants(&self, _path: &str) -> bool {
        false
    }

    fn wants_extract(&self, path: &str, _elf_executable: bool) -> bool {
        is_java_archive(path)
    }

    fn extract(&self, path: &str, file: &mut dyn ReadSeek) -> Option<Vec<u8>> {
        JavaCataloger::extract_bytes(path, file)
    }

    fn catalog(&self, ctx: &CatalogContext<'_>, out: &mut CatalogOutput) {
        let before = out.packages.len();
        for file in ctx.fs.extracted(self.name()) {
            add_results(out, file, JavaCataloger::packages_from_extract(file));
        }
        tracing::debug!(
            packages = out.packages.len().saturating_sub(before),
            "Java archives catalogued"
        );
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
    use std::io::Write;

    use zip::write::SimpleFileOptions;
    use zip::CompressionMethod;

    use super::*;
    use crate::fs::FsView;

    /// Build a zip from (name, bytes, stored?) entries.
    fn zip(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data, stored) in entries {
            let method = if *stored {
                CompressionMethod::Stored
            } else {
                CompressionMethod::Deflated
            };
            w.start_file(
                *name,
                SimpleFileOptions::default().compression_method(method),
            )
            .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn pom(group: &str, artifact: &str, version: &str) -> Vec<u8> {
        format!("#Generated by Maven\n#Tue Nov 14 10:00:00 UTC 2023\ngroupId={group}\nartifactId={artifact}\nversion={version}\n").into_bytes()
    }

    fn maven_jar(group: &str, artifact: &str, version: &str) -> Vec<u8> {
        zip(&[
            (
                "META-INF/MANIFEST.MF",
                b"Manifest-Version: 1.0\r\nCreated-By: Maven JAR Plugin 3.3.0\r\n\r\n",
                false,
            ),
            (
                &format!("META-INF/maven/{group}/{artifact}/pom.properties"),
                &pom(group, artifact, version),
                false,
            ),
            ("META-INF/maven/x/y/pom.xml", b"<project/>", false),
            ("com/example/A.class", b"\xca\xfe\xba\xbe", false),
        ])
    }

    fn run(path: &str, bytes: &[u8]) -> CatalogOutput {
        let mut fs = FsView::new();
        let extracts = JavaCataloger
            .extract(path, &mut Cursor::new(bytes))
            .map(|e| vec![("java".into(), e.into())])
            .unwrap_or_default();
        fs.insert_entry(path.to_string(), None, extracts, None);
        let mut out = CatalogOutput::default();
        JavaCataloger.catalog(&CatalogContext { fs: &fs, os: None }, &mut out);
        out
    }

    fn rows(out: &CatalogOutput) -> Vec<(String, String, String, String)> {
        let mut v: Vec<_> = out
            .packages
            .iter()
            .map(|p| {
                (
                    p.name.to_string(),
                    p.version.to_string(),
                    p.purl.clone(),
                    p.path.clone(),
                )
            })
            .collect();
        v.sort();
        v
    }

    fn row(a: &str, b: &str, c: &str, d: &str) -> (String, String, String, String) {
        (a.into(), b.into(), c.into(), d.into())
    }

    #[test]
    fn suffixes() {
        for p in ["a.jar", "x/y.WAR", "b.Ear", "c.par"] {
            assert!(is_java_archive(p), "{p}");
        }
        for p in ["jar", "a.jarx", "a.zip", "", "é.ja"] {
            assert!(!is_java_archive(p), "{p}");
        }
    }

    #[test]
    fn plain_maven_jar() {
        let out = run(
            "opt/lib/commons-lang3-3.14.0.jar",
            &maven_jar("org.apache.commons", "commons-lang3", "3.14.0"),
        );
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(
            rows(&out),
            [row(
                "org.apache.commons:commons-lang3",
                "3.14.0",
                "pkg:maven/org.apache.commons/commons-lang3@3.14.0",
                "opt/lib/commons-lang3-3.14.0.jar"
            )]
        );
        assert_eq!(out.packages[0].ecosystem.as_str(), "Maven");
    }

    #[test]
    fn spring_boot_fat_jar_with_nested_and_shaded_jars() {
        let shaded = zip(&[
            (
                "META-INF/maven/com.example/shady/pom.properties",
                &pom("com.example", "shady", "1.0.0"),
                false,
            ),
            (
                "META-INF/maven/com.google.guava/guava/pom.properties",
                &pom("com.google.guava", "guava", "31.1-jre"),
                false,
            ),
        ]);
        // Built by Gradle: no pom.properties, identity from the file name.
        let gradle = zip(&[(
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\nImplementation-Title: spring-core\nImplementation-Version: 6.1.2\nAutomatic-Module-Name: spring.core\n\n",
            false,
        )]);
        // Manifest only, unversioned file name.
        let osgi = zip(&[(
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\nBundle-SymbolicName: org.example.bun\n dle;singleton:=true\nBundle-Version: 2.0.1\n\nName: x\nImplementation-Version: 9\n",
            false,
        )]);
        let app = zip(&[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\nMain-Class: org.springframework.boot.loader.launch.JarLauncher\n\n", false),
            ("META-INF/maven/com.acme/app/pom.properties", &pom("com.acme", "app", "2.3.4"), false),
            ("BOOT-INF/lib/jackson-databind-2.15.3.jar", &maven_jar("com.fasterxml.jackson.core", "jackson-databind", "2.15.3"), true),
            ("BOOT-INF/lib/shady-1.0.0.jar", &shaded, false),
            ("BOOT-INF/lib/spring-core-6.1.2.jar", &gradle, true),
            ("BOOT-INF/lib/bundle.jar", &osgi, true),
            ("BOOT-INF/lib/nothing.jar", &zip(&[("a.txt", b"x", true)]), true),
        ]);
        let out = run("app/app.jar", &app);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(
            rows(&out),
            [
                row(
                    "com.acme:app",
                    "2.3.4",
                    "pkg:maven/com.acme/app@2.3.4",
                    "app/app.jar"
                ),
                row(
                    "com.example:shady",
                    "1.0.0",
                    "pkg:maven/com.example/shady@1.0.0",
                    "app/app.jar!/BOOT-INF/lib/shady-1.0.0.jar"
                ),
                row(
                    "com.fasterxml.jackson.core:jackson-databind",
                    "2.15.3",
                    "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.15.3",
                    "app/app.jar!/BOOT-INF/lib/jackson-databind-2.15.3.jar"
                ),
                row(
                    "com.google.guava:guava",
                    "31.1-jre",
                    "pkg:maven/com.google.guava/guava@31.1-jre",
                    "app/app.jar!/BOOT-INF/lib/shady-1.0.0.jar"
                ),
                row(
                    "org.example.bundle",
                    "2.0.1",
                    "",
                    "app/app.jar!/BOOT-INF/lib/bundle.jar"
                ),
                row(
                    "spring-core",
                    "6.1.2",
                    "",
                    "app/app.jar!/BOOT-INF/lib/spring-core-6.1.2.jar"
                ),
            ]
        );
    }

    #[test]
    fn war_in_ear_nesting_is_capped() {
        let lib = maven_jar("org.slf4j", "slf4j-api", "2.0.9");
        let war = zip(&[("WEB-INF/lib/slf4j-api-2.0.9.jar", &lib, false)]);
        let ear = zip(&[
            ("web.war", &war, false),
            ("lib/x.jar", &maven_jar("g", "x", "1"), true),
        ]);
        let out = run("srv/app.ear", &ear);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(
            rows(&out),
            [
                row("g:x", "1", "pkg:maven/g/x@1", "srv/app.ear!/lib/x.jar"),
                row(
                    "org.slf4j:slf4j-api",
                    "2.0.9",
                    "pkg:maven/org.slf4j/slf4j-api@2.0.9",
                    "srv/app.ear!/web.war!/WEB-INF/lib/slf4j-api-2.0.9.jar"
                ),
            ]
        );
        // Five levels: the innermost is not read, with a warning.
        let deep = zip(&[("l4.jar", &zip(&[("l3.jar", &ear, true)]), true)]);
        let out = run("srv/deep.jar", &deep);
        assert!(rows(&out).iter().all(|r| !r.0.contains("slf4j")));
        assert!(rows(&out).iter().any(|r| r.0 == "g:x"));
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        assert!(
            out.warnings[0].message.contains("beyond 3 levels"),
            "{:?}",
            out.warnings
        );
    }

    #[test]
    fn broken_archives_are_warnings() {
        let out = run("a.jar", b"definitely not a zip");
        assert!(out.packages.is_empty());
        assert_eq!(out.warnings.len(), 1);
        assert!(
            out.warnings[0].message.contains("not a readable zip"),
            "{:?}",
            out.warnings
        );

        // A nested archive that is not a zip; a pom.properties without a group.
        let app = zip(&[
            ("lib/broken.jar", b"PK\x03\x04garbage", true),
            (
                "META-INF/maven/x/y/pom.properties",
                b"artifactId=y\nversion=1\n",
                false,
            ),
        ]);
        let out = run("b.jar", &app);
        assert!(out.packages.is_empty(), "{:?}", out.packages);
        let msgs: Vec<&str> = out.warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(
            msgs[0].starts_with("lib/broken.jar: not a readable zip"),
            "{msgs:?}"
        );
        assert!(msgs[1].contains("lacks a valid groupId"), "{msgs:?}");

        // Truncated: the central directory is gone.
        let good = maven_jar("g", "a", "1");
        let out = run("c.jar", &good[..good.len() / 2]);
        assert!(out.packages.is_empty());
        assert_eq!(out.warnings.len(), 1);
    }

    #[test]
    fn inflation_bomb_is_bounded() {
        // A deflated nested "jar" of 80 MiB of zeros compresses to ~80 KiB.
        let big = vec![0u8; (MAX_NESTED_SIZE + (16 << 20)) as usize];
        let outer = zip(&[("lib/bomb.jar", &big, false)]);
        assert!(outer.len() < 1 << 20);
        let out = run("bomb.jar", &outer);
        assert!(out.packages.is_empty());
        assert!(
            out.warnings[0].message.contains("limit"),
            "{:?}",
            out.warnings
        );
    }

    #[test]
    fn lying_sizes_are_bounded() {
        // A deflated nested entry of 80 MiB whose headers claim 1000 bytes.
        let big = vec![0u8; (MAX_NESTED_SIZE + (16 << 20)) as usize];
        let mut outer = zip(&[("lib/bomb.jar", &big, false)]);
        let claimed = 1000u32.to_le_bytes();
        let local = outer.windows(4).position(|w| w == b"PK\x03\x04").unwrap();
        outer[local + 22..local + 26].copy_from_slice(&claimed);
        let central = outer.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        outer[central + 24..central + 28].copy_from_slice(&claimed);
        let out = run("bomb.jar", &outer);
        assert!(out.packages.is_empty());
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    }

    #[test]
    fn extract_is_a_small_summary() {
        let mut entries: Vec<(String, Vec<u8>)> = (0..200)
            .map(|i| (format!("com/x/C{i}.class"), vec![7u8; 4096]))
            .collect();
        entries.push((
            "META-INF/maven/g/a/pom.properties".into(),
            pom("g", "a", "1"),
        ));
        let refs: Vec<(&str, &[u8], bool)> = entries
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice(), true))
            .collect();
        let jar = zip(&refs);
        let e = JavaCataloger
            .extract("a.jar", &mut Cursor::new(&jar[..]))
            .unwrap();
        assert!(jar.len() > 800_000);
        assert!(e.len() < 300, "{}", e.len());
        let s: JarSummary = serde_json::from_slice(&e).unwrap();
        assert_eq!(s.archives[0].poms[0].artifact_id.as_deref(), Some("a"));
    }

    #[test]
    fn properties_and_manifest_parsing() {
        let p = parse_pom_properties("# c\n! c\ngroupId = g.h \nartifactId:a\nversion=\nother=1");
        assert_eq!(p.group_id.as_deref(), Some("g.h"));
        assert_eq!(p.artifact_id.as_deref(), Some("a"));
        assert_eq!(p.version, None);
        let m = parse_manifest("Implementation-Title: t\nimplementation-version: 1.0\nSpecification-Version: 2\nBundle-Version: 3\n continued\n");
        assert_eq!(m.implementation_title.as_deref(), Some("t"));
        assert_eq!(m.implementation_version.as_deref(), Some("1.0"));
        assert_eq!(m.bundle_version.as_deref(), Some("3continued"));
        let long = format!(
            "Implementation-Title: {}\n{}",
            "x".repeat(5000),
            " y\n".repeat(5000)
        );
        assert_eq!(
            parse_manifest(&long).implementation_title.unwrap().len(),
            MAX_VALUE_LEN
        );
    }

    #[test]
    fn file_name_split() {
        for (f, want) in [
            ("spring-core-6.1.2.jar", Some(("spring-core", "6.1.2"))),
            ("guava-32.1.3-jre.jar", Some(("guava", "32.1.3-jre"))),
            ("x.jar", None),
            ("-1.jar", None),
            ("a-.jar", None),
            ("é-1.jar", Some(("é", "1"))),
            ("ab", None),
        ] {
            assert_eq!(
                split_file_name(f),
                want.map(|(a, b)| (a.to_string(), b.to_string())),
                "{f}"
            );
        }
    }
}
