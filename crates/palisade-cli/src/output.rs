//! Writing reports to stdout or `--output FILE`.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use palisade_model::ScanReport;

fn open(path: Option<&Path>) -> anyhow::Result<(Box<dyn Write>, bool)> {
    Ok(match path {
        Some(p) => (
            Box::new(BufWriter::new(
                File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
            )),
            false,
        ),
        None => (Box::new(BufWriter::new(io::stdout().lock())), io::stdout().is_terminal()),
    })
}

pub(crate) fn write_json(path: Option<&Path>, report: &ScanReport) -> anyhow::Result<()> {
    let (mut w, _) = open(path)?;
    serde_json::to_writer_pretty(&mut w, report).context("writing JSON")?;
    writeln!(w)?;
    w.flush()?;
    Ok(())
}

pub(crate) fn write_table(path: Option<&Path>, report: &ScanReport) -> anyhow::Result<()> {
    let (mut w, _tty) = open(path)?;
    let a = &report.artifact;
    writeln!(w, "{}", a.name)?;
    if let Some(d) = &a.digest {
        writeln!(w, "  digest:   {d}")?;
    }
    if let Some(p) = &a.platform {
        writeln!(w, "  platform: {p}")?;
    }
    match &a.os {
        Some(os) => writeln!(
            w,
            "  os:       {} {}{}",
            os.family,
            os.version,
            os.pretty_name.as_deref().map(|p| format!(" ({p})")).unwrap_or_default()
        )?,
        None => writeln!(w, "  os:       unknown")?,
    }
    writeln!(w, "  packages: {}", report.packages.len())?;
    writeln!(w)?;
    let rows: Vec<[String; 5]> = report
        .packages
        .iter()
        .map(|p| {
            [
                p.name.to_string(),
                p.version.to_string(),
                p.ecosystem.to_string(),
                p.source
                    .as_ref()
                    .map(|s| if s.name == p.name.as_str() { String::new() } else { s.name.clone() })
                    .unwrap_or_default(),
                p.layer
                    .as_ref()
                    .map(|l| l.hex().chars().take(12).collect())
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let header = ["NAME", "VERSION", "ECOSYSTEM", "SOURCE", "LAYER"];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |w: &mut Box<dyn Write>, cells: [&str; 5]| -> io::Result<()> {
        let mut s = String::new();
        for (i, (c, width)) in cells.iter().zip(widths.iter()).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<width$}  "));
            }
        }
        writeln!(w, "{}", s.trim_end())
    };
    line(&mut w, header)?;
    for r in &rows {
        line(&mut w, [&r[0], &r[1], &r[2], &r[3], &r[4]])?;
    }
    if !report.vulnerabilities.is_empty() {
        writeln!(w)?;
        writeln!(w, "vulnerabilities: {}", report.vulnerabilities.len())?;
    }
    if !report.warnings.is_empty() {
        writeln!(w)?;
        writeln!(w, "warnings: {} (run with -v to see them on stderr)", report.warnings.len())?;
    }
    w.flush()?;
    Ok(())
}
