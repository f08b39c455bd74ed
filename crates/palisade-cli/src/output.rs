//! Writing reports to stdout or `--output FILE`.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use palisade_model::ScanReport;
use palisade_report::{Format, ReportOptions};

/// Print to stdout; a closed pipe (`palisade … | head`) ends quietly.
pub(crate) fn print_stdout(s: &str) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
        r => r.context("writing to stdout"),
    }
}

/// Whether `p` is a regular file or does not exist yet (symlinks followed).
fn is_regular_or_absent(p: &Path) -> bool {
    match std::fs::metadata(p) {
        Ok(m) => m.is_file(),
        Err(_) => true,
    }
}

/// Write `report` in `format` to `path` (or stdout). Colours and width
/// follow the terminal when writing to one.
pub(crate) fn write_report(
    path: Option<&Path>,
    format: Format,
    report: &ScanReport,
) -> anyhow::Result<()> {
    let tty = path.is_none() && io::stdout().is_terminal();
    let width = if tty {
        Some(
            std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.parse().ok())
                .unwrap_or(120usize),
        )
    } else {
        None
    };
    let color = tty && std::env::var_os("NO_COLOR").is_none();
    let opts = ReportOptions::new(env!("CARGO_PKG_VERSION"))
        .with_color(color)
        .with_width(width);
    match path {
        Some(p) if !is_regular_or_absent(p) => {
            // A device or pipe (`-o /dev/null`, `-o /dev/stdout`): write to
            // it directly; renaming over it would replace the device.
            let mut w = BufWriter::new(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(p)
                    .with_context(|| format!("cannot write {}", p.display()))?,
            );
            palisade_report::write(format, report, &mut w, &opts)?;
            w.flush()
                .with_context(|| format!("writing {}", p.display()))?;
        }
        Some(p) => {
            // Write beside the target, then rename: a failed run never
            // leaves half a report where a previous one was.
            let tmp = p.with_extension("palisade-tmp");
            let mut w = BufWriter::new(
                File::create(&tmp).with_context(|| format!("cannot write {}", p.display()))?,
            );
            palisade_report::write(format, report, &mut w, &opts)?;
            w.flush()
                .with_context(|| format!("writing {}", p.display()))?;
            drop(w);
            std::fs::rename(&tmp, p).with_context(|| format!("cannot write {}", p.display()))?;
        }
        None => {
            let mut buf = Vec::new();
            palisade_report::write(format, report, &mut buf, &opts)?;
            let mut out = io::stdout().lock();
            match out.write_all(&buf).and_then(|()| out.flush()) {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
                r => r.context("writing to stdout")?,
            }
        }
    }
    Ok(())
}
