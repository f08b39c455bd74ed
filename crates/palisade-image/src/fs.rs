//! The merged filesystem view of an image: the files catalogers asked for,
//! plus every symlink, after whiteouts of later layers were applied.

use std::collections::BTreeMap;
use std::sync::Arc;

use palisade_model::Digest;

/// How many symlinks one lookup may follow (Linux's `MAXSYMLINKS`).
const MAX_SYMLINK_HOPS: usize = 40;

/// What a path is in the merged view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// A regular file whose content was buffered.
    File,
    /// A regular file kept only as what extractors took from it.
    Extracted,
    /// A symbolic link and its target as written in the image.
    Symlink(String),
}

/// What an extractor (by cataloger name) took from a file.
pub type Extracts = Vec<(Arc<str>, Arc<[u8]>)>;

#[derive(Debug, Clone)]
struct Node {
    kind: NodeKind,
    layer: Option<Digest>,
    data: Arc<[u8]>,
    extracts: Extracts,
}

/// A buffered file in the view.
#[derive(Debug, Clone, Copy)]
pub struct FileRef<'a> {
    /// Normalised path, relative to the image root, without a leading `/`.
    pub path: &'a str,
    pub data: &'a [u8],
    /// The layer that last wrote the file, `None` for a plain directory source.
    pub layer: Option<&'a Digest>,
}

/// The merged view. Paths are normalised: relative to the root, no leading
/// `/`, no `.` or `..` components, no trailing `/`.
#[derive(Debug, Clone, Default)]
pub struct FsView {
    nodes: BTreeMap<String, Node>,
}

impl FsView {
    pub fn new() -> FsView {
        FsView::default()
    }

    /// A view made of in-memory files; for tests and fuzzing.
    pub fn from_files<P: AsRef<str>, D: AsRef<[u8]>>(
        files: impl IntoIterator<Item = (P, D)>,
    ) -> FsView {
        let mut fs = FsView::new();
        for (p, d) in files {
            if let Some(p) = normalize_path(p.as_ref()) {
                fs.insert_file(p, Arc::from(d.as_ref()), None);
            }
        }
        fs
    }

    pub fn insert_file(&mut self, path: String, data: Arc<[u8]>, layer: Option<Digest>) {
        self.insert_entry(path, Some(data), Vec::new(), layer);
    }

    /// A regular file with its whole content (if kept) and extracts.
    pub fn insert_entry(
        &mut self,
        path: String,
        whole: Option<Arc<[u8]>>,
        extracts: Extracts,
        layer: Option<Digest>,
    ) {
        let (kind, data) = match whole {
            Some(d) => (NodeKind::File, d),
            None => (NodeKind::Extracted, Arc::from(&[][..])),
        };
        self.nodes.insert(
            path,
            Node {
                kind,
                layer,
                data,
                extracts,
            },
        );
    }

    /// Files from which cataloger `name` extracted something, with the
    /// extract as `data`, in path order.
    pub fn extracted<'a>(&'a self, name: &'a str) -> impl Iterator<Item = FileRef<'a>> + 'a {
        self.nodes.iter().filter_map(move |(k, n)| {
            n.extracts
                .iter()
                .find(|(by, _)| &**by == name)
                .map(|(_, data)| FileRef {
                    path: k,
                    data,
                    layer: n.layer.as_ref(),
                })
        })
    }

    pub fn insert_symlink(&mut self, path: String, target: String, layer: Option<Digest>) {
        self.nodes.insert(
            path,
            Node {
                kind: NodeKind::Symlink(target),
                layer,
                data: Arc::from(&[][..]),
                extracts: Vec::new(),
            },
        );
    }

    /// Delete `path` and everything below it (a whiteout `.wh.NAME`).
    pub fn remove_tree(&mut self, path: &str) {
        self.nodes.remove(path);
        self.clear_dir(path);
    }

    /// Delete everything below directory `dir`, keeping `dir` itself (an
    /// opaque whiteout `.wh..wh..opq`). An empty `dir` is the root.
    pub fn clear_dir(&mut self, dir: &str) {
        if dir.is_empty() {
            self.nodes.clear();
            return;
        }
        let prefix = format!("{dir}/");
        let doomed: Vec<String> = self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            self.nodes.remove(&k);
        }
    }

    /// The whole content (if kept) and extracts of the regular file at
    /// `path` itself (no symlinks followed), for hard links.
    pub(crate) fn file_parts(&self, path: &str) -> Option<(Option<Arc<[u8]>>, Extracts)> {
        match self.nodes.get(path) {
            Some(n) if n.kind == NodeKind::File => {
                Some((Some(Arc::clone(&n.data)), n.extracts.clone()))
            }
            Some(n) if n.kind == NodeKind::Extracted => Some((None, n.extracts.clone())),
            _ => None,
        }
    }

    /// Keep only the nodes whose path satisfies `keep`.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.nodes.retain(|k, _| keep(k));
    }

    /// Number of files and symlinks held.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Total bytes of buffered file content.
    pub fn buffered_bytes(&self) -> u64 {
        self.nodes
            .values()
            .map(|n| {
                n.data.len() as u64 + n.extracts.iter().map(|(_, e)| e.len() as u64).sum::<u64>()
            })
            .sum()
    }

    /// The node kind at `path` itself (symlinks not followed).
    pub fn kind(&self, path: &str) -> Option<&NodeKind> {
        self.nodes.get(path).map(|n| &n.kind)
    }

    /// Read a file, following symlinks (in every component) inside the image
    /// root: a link can never resolve outside it, since `..` stops at `/`.
    pub fn read(&self, path: &str) -> Option<FileRef<'_>> {
        let resolved = self.resolve(path)?;
        let (k, node) = self.nodes.get_key_value(resolved.as_str())?;
        match node.kind {
            NodeKind::File => Some(FileRef {
                path: k,
                data: &node.data,
                layer: node.layer.as_ref(),
            }),
            NodeKind::Symlink(_) | NodeKind::Extracted => None,
        }
    }

    /// Resolve symlinks in every component of `path`. Returns the final
    /// normalised path (which may not exist), or `None` on a loop.
    pub fn resolve(&self, path: &str) -> Option<String> {
        let mut pending: Vec<String> = split(path).into_iter().rev().collect();
        let mut out: Vec<String> = Vec::new();
        let mut hops = 0usize;
        while let Some(comp) = pending.pop() {
            match comp.as_str() {
                "" | "." => continue,
                ".." => {
                    out.pop();
                    continue;
                }
                _ => {}
            }
            out.push(comp);
            let cur = out.join("/");
            if let Some(Node {
                kind: NodeKind::Symlink(target),
                ..
            }) = self.nodes.get(&cur)
            {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return None;
                }
                out.pop();
                if target.starts_with('/') {
                    out.clear();
                }
                for c in split(target).into_iter().rev() {
                    pending.push(c);
                }
            }
        }
        Some(out.join("/"))
    }

    /// Every buffered regular file, in path order.
    pub fn files(&self) -> impl Iterator<Item = FileRef<'_>> {
        self.nodes.iter().filter_map(|(k, n)| match n.kind {
            NodeKind::File => Some(FileRef {
                path: k,
                data: &n.data,
                layer: n.layer.as_ref(),
            }),
            NodeKind::Symlink(_) | NodeKind::Extracted => None,
        })
    }

    /// Buffered regular files directly or indirectly under directory `dir`.
    pub fn files_under<'a>(&'a self, dir: &str) -> impl Iterator<Item = FileRef<'a>> + 'a {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        self.nodes
            .range(prefix.clone()..)
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .filter_map(|(k, n)| match n.kind {
                NodeKind::File => Some(FileRef {
                    path: k,
                    data: &n.data,
                    layer: n.layer.as_ref(),
                }),
                NodeKind::Symlink(_) | NodeKind::Extracted => None,
            })
    }
}

fn split(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// Normalise a path from a tar header or a directory walk: strip leading
/// `/` and `./`, drop `.` components, resolve `..` lexically. Returns `None`
/// when `..` would climb above the root (a traversal attempt) or the path is
/// empty (the root itself).
pub fn normalize_path(raw: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for comp in raw.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            c => out.push(c),
        }
    }
    if out.is_empty() {
        None
    } else {
        Some(out.join("/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize() {
        assert_eq!(
            normalize_path("./etc/os-release").as_deref(),
            Some("etc/os-release")
        );
        assert_eq!(
            normalize_path("/usr//lib/./x").as_deref(),
            Some("usr/lib/x")
        );
        assert_eq!(normalize_path("a/b/../c").as_deref(), Some("a/c"));
        assert_eq!(normalize_path("../etc/passwd"), None);
        assert_eq!(normalize_path("a/../../etc"), None);
        assert_eq!(normalize_path("/"), None);
        assert_eq!(normalize_path("./"), None);
    }

    #[test]
    fn symlinks_resolve_inside_root() {
        let mut fs = FsView::from_files([("usr/lib/os-release", "ID=debian\n")]);
        fs.insert_symlink(
            "etc/os-release".into(),
            "../usr/lib/os-release".into(),
            None,
        );
        assert_eq!(
            fs.read("etc/os-release").map(|f| f.data),
            Some(&b"ID=debian\n"[..])
        );
        // An absolute target is relative to the image root, and `..` stops at it.
        fs.insert_symlink("evil".into(), "/../../../usr/lib/os-release".into(), None);
        assert_eq!(fs.read("evil").map(|f| f.path), Some("usr/lib/os-release"));
        // Directory symlinks in a middle component.
        fs.insert_symlink("lib".into(), "usr/lib".into(), None);
        assert!(fs.read("lib/os-release").is_some());
    }

    #[test]
    fn symlink_loop_is_none() {
        let mut fs = FsView::new();
        fs.insert_symlink("a".into(), "b".into(), None);
        fs.insert_symlink("b".into(), "a".into(), None);
        assert!(fs.read("a").is_none());
        assert!(fs.resolve("a").is_none());
    }

    #[test]
    fn whiteouts() {
        let mut fs = FsView::from_files([
            ("var/lib/dpkg/status", "x"),
            ("var/lib/dpkg/status.d/a", "y"),
            ("var/lib/dpkgx", "z"),
        ]);
        fs.clear_dir("var/lib/dpkg");
        assert!(fs.read("var/lib/dpkg/status").is_none());
        assert!(fs.read("var/lib/dpkgx").is_some());
        fs.remove_tree("var/lib/dpkgx");
        assert!(fs.is_empty());
    }
}
