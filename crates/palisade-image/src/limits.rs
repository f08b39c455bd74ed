//! Bounds on what a hostile image may make the scanner do.

/// Resource bounds for reading one image. Every image is untrusted input:
/// these keep memory bounded and time finite whatever the layers contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single file that is buffered for a cataloger. Larger wanted
    /// files are skipped with a warning (an rpmdb of a big Fedora image is
    /// about 100 MiB, a dpkg status file a few MiB).
    pub max_buffered_file: u64,
    /// Total bytes buffered across all layers of one image.
    pub max_buffered_total: u64,
    /// Uncompressed bytes in one layer; past this the layer is rejected as
    /// a decompression bomb.
    pub max_layer_uncompressed: u64,
    /// Tar entries in one layer.
    pub max_entries_per_layer: u64,
    /// Length of one path, and of a GNU long-name or PAX header.
    pub max_path_len: usize,
    /// Size of one PAX extended header block.
    pub max_pax_header: u64,
    /// Symlinks recorded per image (needed to resolve paths).
    pub max_symlinks: usize,
    /// Size of a manifest, index, or config document.
    pub max_manifest: u64,
    /// Layers in one image.
    pub max_layers: usize,
    /// Largest file handed to a cataloger's extractor (a binary or an
    /// archive it reduces to a few bytes).
    pub max_extract_input: u64,
    /// Files handed to extractors up to this size are held in memory;
    /// larger ones go to an unnamed temporary file owned by the scan.
    pub max_in_memory_extract: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_buffered_file: 256 << 20,
            max_buffered_total: 1 << 30,
            max_layer_uncompressed: 64 << 30,
            max_entries_per_layer: 2_000_000,
            max_path_len: 4096,
            max_pax_header: 1 << 20,
            max_symlinks: 500_000,
            max_manifest: 8 << 20,
            max_layers: 1000,
            max_extract_input: 4 << 30,
            max_in_memory_extract: 16 << 20,
        }
    }
}
