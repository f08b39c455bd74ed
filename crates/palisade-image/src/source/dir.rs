//! `dir:PATH` — an unpacked root filesystem on disk.
//!
//! Symlinks are recorded, never followed (they are resolved later inside
//! the view, clamped to the root), special files are never opened, and the
//! walk stays on the root's filesystem so `dir:/` does not wander into
//! `/proc` or network mounts.

use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;

use palisade_model::ScanWarning;

use super::SourceError;
use crate::fs::FsView;
use crate::layer::Selector;
use crate::limits::Limits;

fn is_elf(path: &std::path::Path) -> bool {
    let mut magic = [0u8; 4];
    fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && &magic == b"\x7fELF"
}

/// Walk `root` and keep what `selector` asks for.
pub fn read_dir_source(
    root: &Path,
    selector: &dyn Selector,
    limits: &Limits,
) -> Result<(FsView, Vec<ScanWarning>), SourceError> {
    let meta = fs::metadata(root).map_err(|source| SourceError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(SourceError::Invalid {
            input: format!("dir:{}", root.display()),
            message: "not a directory".into(),
        });
    }
    let device = meta.dev();
    let mut view = FsView::new();
    let mut warnings = Vec::new();
    let mut buffered: u64 = 0;
    let mut symlinks = 0usize;
    let warn = |warnings: &mut Vec<ScanWarning>, path: &str, message: String| {
        if warnings.len() < 1000 {
            warnings.push(ScanWarning {
                location: path.to_string(),
                message,
            });
        }
    };
    // (directory on disk, its path inside the image)
    let mut stack: Vec<(std::path::PathBuf, String)> = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                warn(&mut warnings, &rel, format!("cannot list directory: {e}"));
                continue;
            }
        };
        for entry in entries {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                continue;
            };
            let path = if rel.is_empty() {
                name.to_string()
            } else {
                format!("{rel}/{name}")
            };
            let Ok(md) = entry.path().symlink_metadata() else {
                continue;
            };
            let ft = md.file_type();
            if ft.is_symlink() {
                if symlinks >= limits.max_symlinks {
                    continue;
                }
                if let Ok(target) = fs::read_link(entry.path()) {
                    if let Some(t) = target.to_str() {
                        symlinks += 1;
                        view.insert_symlink(path, t.to_string(), None);
                    }
                }
            } else if ft.is_dir() {
                if md.dev() == device {
                    stack.push((entry.path(), path));
                }
            } else if ft.is_file() {
                let whole = selector.whole(&path);
                let elf = !whole
                    && md.mode() & 0o111 != 0
                    && selector.wants_executables()
                    && is_elf(&entry.path());
                let extractors = selector.extractors(&path, elf);
                if !whole && extractors.is_empty() {
                    continue;
                }
                let size = md.len();
                let mut extracts = Vec::new();
                if !extractors.is_empty() && size <= limits.max_extract_input {
                    if let Ok(mut f) = fs::File::open(entry.path()) {
                        for &i in &extractors {
                            if std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(0)).is_err() {
                                break;
                            }
                            if let Some((name, bytes)) = selector.extract(i, &path, &mut f) {
                                buffered += bytes.len() as u64;
                                extracts.push((Arc::from(name), Arc::from(bytes)));
                            }
                        }
                    }
                }
                if !whole {
                    if !extracts.is_empty() {
                        view.insert_entry(path, None, extracts, None);
                    }
                    continue;
                }
                if size > limits.max_buffered_file {
                    warn(
                        &mut warnings,
                        &path,
                        format!(
                            "file is {size} bytes, over the {}-byte limit; skipped",
                            limits.max_buffered_file
                        ),
                    );
                    continue;
                }
                if buffered + size > limits.max_buffered_total {
                    warn(
                        &mut warnings,
                        &path,
                        "buffering budget spent; skipped".into(),
                    );
                    continue;
                }
                let mut data = Vec::new();
                let read = fs::File::open(entry.path())
                    .and_then(|f| f.take(limits.max_buffered_file).read_to_end(&mut data));
                match read {
                    Ok(_) => {
                        buffered += data.len() as u64;
                        view.insert_entry(path, Some(Arc::from(data)), extracts, None);
                    }
                    Err(e) => warn(&mut warnings, &path, format!("cannot read: {e}")),
                }
            }
        }
    }
    Ok((view, warnings))
}
