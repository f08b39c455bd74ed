//! From an image reference to an inventory: open the source, read the
//! layers in parallel (each once, as a stream), merge them in order, detect
//! the OS and run the catalogers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use palisade_model::{Artifact, Package, ScanWarning};

use crate::cache::LayerCache;
use crate::catalog::{self, CatalogContext, CatalogOutput, Cataloger};
use crate::fs::FsView;
use crate::layer::{
    apply_layer, read_layer, Budget, LayerContents, LayerError, LayerReadOptions, ReadSeek,
    Selector,
};
use crate::limits::Limits;
use crate::source::{
    read_dir_source, DockerArchiveSource, ImageInfo, ImageRef, LayerSource, OciLayoutSource,
    Platform, RegistryOptions, RegistrySource, SourceError,
};

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Which manifest of a multi-platform image to read.
    pub platform: Platform,
    pub registry: RegistryOptions,
    pub limits: Limits,
    /// Layers read at once; 0 means one per CPU.
    pub parallelism: usize,
    /// Reuse what earlier scans extracted from the same layers.
    pub cache: Option<LayerCache>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            platform: Platform::host(),
            registry: RegistryOptions::default(),
            limits: Limits::default(),
            parallelism: 0,
            cache: None,
        }
    }
}

/// Observes a scan's progress (the CLI draws a bar; libraries never print).
pub trait Progress: Send + Sync {
    /// The image is resolved; its layers are about to be read.
    fn resolved(&self, _info: &ImageInfo) {}
    /// `n` more raw bytes were read from some layer.
    fn bytes(&self, _n: u64) {}
    /// Layer `index` was read completely.
    fn layer_done(&self, _index: usize, _contents: &LayerContents) {}
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;
impl Progress for NoProgress {}

/// Why a scan failed. Each names the image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Layer(#[from] LayerError),
}

/// The packages of one image.
#[derive(Debug, Clone)]
pub struct Inventory {
    pub artifact: Artifact,
    pub packages: Vec<Package>,
    pub warnings: Vec<ScanWarning>,
}

/// What the catalogers (and OS detection) want kept of each file.
pub struct CatalogSelector<'a> {
    catalogers: &'a [Box<dyn Cataloger>],
    executables: bool,
}

impl<'a> CatalogSelector<'a> {
    pub fn new(catalogers: &'a [Box<dyn Cataloger>]) -> Self {
        CatalogSelector {
            catalogers,
            executables: catalogers.iter().any(|c| c.wants_executables()),
        }
    }
}

impl Selector for CatalogSelector<'_> {
    fn whole(&self, path: &str) -> bool {
        catalog::os_files_wanted(path) || self.catalogers.iter().any(|c| c.wants(path))
    }

    fn wants_executables(&self) -> bool {
        self.executables
    }

    fn extractors(&self, path: &str, elf_executable: bool) -> Vec<usize> {
        self.catalogers
            .iter()
            .enumerate()
            .filter(|(_, c)| c.wants_extract(path, elf_executable))
            .map(|(i, _)| i)
            .collect()
    }

    fn extract(
        &self,
        index: usize,
        path: &str,
        file: &mut dyn ReadSeek,
    ) -> Option<(&'static str, Vec<u8>)> {
        let c = self.catalogers.get(index)?;
        c.extract(path, file).map(|b| (c.name(), b))
    }
}

/// Bump when what catalogers extract changes shape, so cached layers made
/// by an older scanner are not reused.
const CACHE_SCHEMA: u32 = 1;

/// The cache key of a cataloger set.
pub fn cache_key(catalogers: &[Box<dyn Cataloger>]) -> String {
    let names: Vec<&str> = catalogers.iter().map(|c| c.name()).collect();
    format!(
        "palisade-image {} schema {CACHE_SCHEMA} catalogers {}",
        env!("CARGO_PKG_VERSION"),
        names.join(",")
    )
}

/// Scan one image.
pub fn inventory(
    image: &ImageRef,
    opts: &ScanOptions,
    progress: &dyn Progress,
) -> Result<Inventory, ScanError> {
    let catalogers = catalog::default_catalogers();
    let wants = CatalogSelector::new(&catalogers);
    let (view, warnings, info) = match image {
        ImageRef::Dir(path) => {
            let _span = tracing::info_span!("read_dir", path = %path.display()).entered();
            let (view, warnings) = read_dir_source(path, &wants, &opts.limits)?;
            let info = ImageInfo {
                name: image.to_string(),
                digest: None,
                platform: None,
                layers: Vec::new(),
            };
            (view, warnings, info)
        }
        ImageRef::OciLayout { dir, tag } => {
            let src = OciLayoutSource::open(dir, tag.as_deref(), &opts.platform, &opts.limits)?;
            read_layers(&src, &wants, opts, progress)?
        }
        ImageRef::DockerArchive(path) => {
            let src = DockerArchiveSource::open(path, &opts.limits)?;
            read_layers(&src, &wants, opts, progress)?
        }
        ImageRef::Registry(reference) => {
            let src =
                RegistrySource::open(reference, &opts.registry, &opts.platform, &opts.limits)?;
            read_layers(&src, &wants, opts, progress)?
        }
    };
    Ok(catalog_view(&view, info, warnings, &catalogers))
}

/// Run OS detection and catalogers over a merged view.
pub fn catalog_view(
    view: &FsView,
    info: ImageInfo,
    mut warnings: Vec<ScanWarning>,
    catalogers: &[Box<dyn Cataloger>],
) -> Inventory {
    let os = catalog::detect_os(view);
    let ctx = CatalogContext {
        fs: view,
        os: os.as_ref(),
    };
    let mut out = CatalogOutput::default();
    for c in catalogers {
        let _span = tracing::debug_span!("catalog", cataloger = c.name()).entered();
        c.catalog(&ctx, &mut out);
    }
    warnings.extend(out.warnings);
    let mut packages = out.packages;
    packages.sort_by(|a, b| {
        (
            a.ecosystem.as_str(),
            a.name.as_str(),
            a.version.as_str(),
            a.path.as_str(),
        )
            .cmp(&(
                b.ecosystem.as_str(),
                b.name.as_str(),
                b.version.as_str(),
                b.path.as_str(),
            ))
    });
    Inventory {
        artifact: Artifact {
            name: info.name,
            digest: info.digest,
            os,
            platform: info.platform,
            layers: info.layers.into_iter().filter_map(|l| l.digest).collect(),
        },
        packages,
        warnings,
    }
}

/// Read every layer (in parallel) and merge them in order.
pub fn read_layers(
    src: &dyn LayerSource,
    wants: &dyn Selector,
    opts: &ScanOptions,
    progress: &dyn Progress,
) -> Result<(FsView, Vec<ScanWarning>, ImageInfo), ScanError> {
    let info = src.info().clone();
    progress.resolved(&info);
    let n = info.layers.len();
    let budget = Budget::new(opts.limits.max_buffered_total);
    let threads = match opts.parallelism {
        0 => std::thread::available_parallelism().map_or(2, |p| p.get()),
        p => p,
    }
    .min(n.max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<LayerContents, ScanError>>>> =
        Mutex::new((0..n).map(|_| None).collect());
    // Progress is reported through a shared callback on the raw byte counter.
    let progress_ref: &dyn Progress = progress;
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let r = read_one(src, i, wants, opts, &budget, progress_ref);
                if let Ok(c) = &r {
                    progress_ref.layer_done(i, c);
                }
                if let Ok(mut guard) = results.lock() {
                    if let Some(slot) = guard.get_mut(i) {
                        *slot = Some(r);
                    }
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut view = FsView::new();
    let mut warnings = Vec::new();
    for r in results.into_iter().flatten() {
        warnings.extend(apply_layer(&mut view, r?));
    }
    Ok((view, warnings, info))
}

fn read_one(
    src: &dyn LayerSource,
    i: usize,
    wants: &dyn Selector,
    scan: &ScanOptions,
    budget: &Budget,
    progress: &dyn Progress,
) -> Result<LayerContents, ScanError> {
    let limits = &scan.limits;
    let layer = src.info().layers.get(i).cloned();
    let digest = layer.as_ref().and_then(|l| l.digest.clone());
    let verify = layer.as_ref().is_some_and(|l| l.verify);
    // Only layers whose bytes were checked against their digest are cached.
    let cache = scan.cache.as_ref().filter(|_| verify);
    if let (Some(cache), Some(d)) = (cache, digest.as_ref()) {
        if let Some(c) = cache.get(d) {
            tracing::debug!(layer = %d, "layer cache hit");
            progress.bytes(
                layer
                    .as_ref()
                    .and_then(|l| l.size)
                    .unwrap_or(c.compressed_bytes),
            );
            return Ok(c);
        }
    }
    let label = digest
        .as_ref()
        .map_or_else(|| format!("#{i}"), ToString::to_string);
    let _span = tracing::debug_span!("layer", index = i, digest = %label).entered();
    let attempts = if src.reopenable() { 3 } else { 1 };
    let mut last = None;
    for attempt in 0..attempts {
        let stream = src.open_layer(i)?;
        let opts = LayerReadOptions {
            label: label.clone(),
            expected: if verify { digest.as_ref() } else { None },
            digest: digest.as_ref(),
            selector: wants,
            limits,
            budget,
            progress: None,
        };
        let reader = ProgressReader {
            inner: stream,
            progress,
            pending: 0,
        };
        match read_layer(reader, &opts) {
            Ok(c) => {
                if let (Some(cache), Some(d)) = (cache, digest.as_ref()) {
                    cache.put(d, &c);
                }
                return Ok(c);
            }
            Err(e) if e.is_transient() && attempt + 1 < attempts => {
                tracing::warn!(layer = %label, error = %e, "layer read failed; reopening");
                last = Some(e);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(last.map(ScanError::from).unwrap_or_else(|| {
        ScanError::Source(SourceError::Invalid {
            input: label,
            message: "layer could not be read".into(),
        })
    }))
}

/// Reports raw bytes to a borrowed [`Progress`] in chunks of about 1 MiB.
struct ProgressReader<'a, R> {
    inner: R,
    progress: &'a dyn Progress,
    pending: u64,
}

impl<R: std::io::Read> std::io::Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pending += n as u64;
        if self.pending >= 1 << 20 || n == 0 {
            self.progress.bytes(self.pending);
            self.pending = 0;
        }
        Ok(n)
    }
}
