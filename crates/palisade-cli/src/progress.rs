//! Progress on stderr while layers are read: layers done, bytes, rate.
//! Hidden when stderr is not a terminal or with --quiet.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use palisade_image::{ImageInfo, LayerContents, Progress};

pub(crate) struct ProgressDisplay {
    bar: ProgressBar,
    layers: AtomicUsize,
    total_layers: AtomicUsize,
}

impl ProgressDisplay {
    pub(crate) fn new(quiet: bool) -> ProgressDisplay {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg} {bytes}/{total_bytes} {bytes_per_sec} [{elapsed}]",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message("resolving image");
        bar.enable_steady_tick(Duration::from_millis(120));
        ProgressDisplay {
            bar,
            layers: AtomicUsize::new(0),
            total_layers: AtomicUsize::new(0),
        }
    }

    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for ProgressDisplay {
    fn resolved(&self, info: &ImageInfo) {
        let total: Option<u64> = info.layers.iter().map(|l| l.size).sum();
        if let Some(t) = total {
            self.bar.set_length(t);
        }
        self.total_layers
            .store(info.layers.len(), Ordering::Relaxed);
        self.bar
            .set_message(format!("layers 0/{}", info.layers.len()));
    }

    fn bytes(&self, n: u64) {
        self.bar.inc(n);
    }

    fn layer_done(&self, _index: usize, _contents: &LayerContents) {
        let done = self.layers.fetch_add(1, Ordering::Relaxed) + 1;
        self.bar.set_message(format!(
            "layers {done}/{}",
            self.total_layers.load(Ordering::Relaxed)
        ));
    }
}

/// Progress of `db update` downloads.
pub(crate) struct DownloadDisplay {
    bar: ProgressBar,
}

impl DownloadDisplay {
    pub(crate) fn new(quiet: bool) -> DownloadDisplay {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {bytes}/{total_bytes} {bytes_per_sec}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        DownloadDisplay { bar }
    }

    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl palisade_vulndb::update::DownloadProgress for DownloadDisplay {
    fn start(&self, name: &str, total: Option<u64>, resumed_from: u64) {
        self.bar.reset();
        if let Some(t) = total {
            self.bar.set_length(t);
        }
        self.bar.set_position(resumed_from);
        self.bar.set_message(
            name.rsplit('/')
                .take(2)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("/"),
        );
    }
    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }
    fn done(&self, name: &str) {
        tracing::info!(source = %name, "downloaded");
    }
}
