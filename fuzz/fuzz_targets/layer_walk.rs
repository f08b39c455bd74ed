//! The layer walker on arbitrary bytes: compressed or plain tar streams
//! with hostile headers. It must return an error or contents, never panic,
//! and stay within its (small, for speed) limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::{read_layer, Budget, FsView, LayerReadOptions, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_buffered_file: 1 << 16,
        max_buffered_total: 1 << 20,
        max_layer_uncompressed: 8 << 20,
        max_entries_per_layer: 10_000,
        ..Limits::default()
    };
    let budget = Budget::new(limits.max_buffered_total);
    // Keep every file, so buffering, hard links and symlinks are exercised.
    let everything = |_: &str| true;
    let opts = LayerReadOptions {
        label: "fuzz".into(),
        expected: None,
        digest: None,
        selector: &everything,
        limits: &limits,
        budget: &budget,
        progress: None,
    };
    if let Ok(contents) = read_layer(data, &opts) {
        let mut view = FsView::new();
        let _ = palisade_image::apply_layer(&mut view, contents);
        for f in view.files() {
            let _ = view.read(f.path);
        }
    }
});
