//! The human-readable terminal report.
//!
//! With vulnerabilities: one block per affected package (name, installed →
//! fixed version, ecosystem), one row per advisory (id, severity, title cut
//! to the terminal width), then a summary by severity. Without: the package
//! inventory and a line saying no vulnerabilities were found.
//!
//! Every string from the report is untrusted (advisory titles come from
//! databases, names from image files), so control characters are replaced
//! before they reach a terminal: a title cannot move the cursor or recolour
//! the screen.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;

use palisade_model::{ScanReport, Severity, VulnerabilityMatch};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::advisory::ecosystem_note;
use crate::image::short_digest;
use crate::{Format, ReportError, ReportOptions};

/// Narrowest title column kept when the terminal is very narrow.
const MIN_TITLE_WIDTH: usize = 16;
const SEVERITY_WIDTH: usize = 8;

/// Write the terminal report for `report`.
pub fn write_table(
    report: &ScanReport,
    w: &mut dyn Write,
    opts: &ReportOptions,
) -> Result<(), ReportError> {
    let out = render(report, opts);
    w.write_all(out.as_bytes())
        .and_then(|()| w.flush())
        .map_err(ReportError::write(Format::Table))
}

fn render(report: &ScanReport, opts: &ReportOptions) -> String {
    let mut out = String::new();
    header(&mut out, report);
    if report.vulnerabilities.is_empty() {
        inventory(&mut out, report);
    } else {
        vulnerabilities(&mut out, report, opts);
    }
    warnings(&mut out, report);
    out
}

fn header(out: &mut String, report: &ScanReport) {
    let a = &report.artifact;
    let _ = writeln!(out, "Artifact: {}", clean(&a.name));
    if let Some(d) = &a.digest {
        let _ = writeln!(out, "Digest:   {d}");
    }
    if let Some(os) = &a.os {
        let name = match &os.pretty_name {
            Some(p) => clean(p),
            None => Cow::Owned(format!("{} {}", clean(&os.family), clean(&os.version))),
        };
        let _ = writeln!(out, "OS:       {name}");
    }
    if let Some(p) = &a.platform {
        let _ = writeln!(out, "Platform: {}", clean(p));
    }
    let _ = writeln!(out, "Packages: {}", report.packages.len());
    out.push('\n');
}

/// Matches of one installed package.
struct Group<'r> {
    package: &'r str,
    ecosystem: &'r str,
    installed: &'r str,
    rows: Vec<&'r VulnerabilityMatch>,
}

impl Group<'_> {
    fn severity(&self) -> Severity {
        self.rows
            .iter()
            .map(|v| v.severity)
            .max()
            .unwrap_or(Severity::Unknown)
    }

    /// The fixed version shared by every row, if they share one.
    fn uniform_fix(&self) -> Option<Option<&str>> {
        let mut fixes = self.rows.iter().map(|v| v.fixed_version.as_deref());
        let first = fixes.next()?;
        fixes.all(|f| f == first).then_some(first)
    }
}

fn groups(vulns: &[VulnerabilityMatch]) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for v in vulns {
        let existing = groups.iter_mut().find(|g| {
            g.package == v.package
                && g.ecosystem == v.ecosystem
                && g.installed == v.installed_version
        });
        match existing {
            Some(g) => g.rows.push(v),
            None => groups.push(Group {
                package: &v.package,
                ecosystem: &v.ecosystem,
                installed: &v.installed_version,
                rows: vec![v],
            }),
        }
    }
    for g in &mut groups {
        g.rows
            .sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
    }
    groups.sort_by(|a, b| {
        b.severity()
            .cmp(&a.severity())
            .then_with(|| a.package.cmp(b.package))
            .then_with(|| a.installed.cmp(b.installed))
            .then_with(|| a.ecosystem.cmp(b.ecosystem))
    });
    groups
}

fn vulnerabilities(out: &mut String, report: &ScanReport, opts: &ReportOptions) {
    let groups = groups(&report.vulnerabilities);
    let id_width = report
        .vulnerabilities
        .iter()
        .map(|v| clean(&v.id).width())
        .max()
        .unwrap_or(0);
    // "  ID  SEVERITY  TITLE"
    let fixed_columns = 2 + id_width + 2 + SEVERITY_WIDTH + 2;
    for g in &groups {
        let uniform = g.uniform_fix();
        let fixed = match uniform {
            Some(Some(f)) => clean(f),
            Some(None) => Cow::Borrowed("no fix"),
            None => Cow::Borrowed("several versions"),
        };
        let note = g
            .rows
            .first()
            .map_or_else(|| g.ecosystem.to_string(), |m| ecosystem_note(report, m));
        let _ = writeln!(
            out,
            "{} {} → {fixed} ({})",
            clean(g.package),
            clean(g.installed),
            clean(&note)
        );
        for v in &g.rows {
            let mut title = String::new();
            if uniform.is_none() {
                match &v.fixed_version {
                    Some(f) => {
                        let _ = write!(title, "[fixed in {}] ", clean(f));
                    }
                    None => title.push_str("[no fix] "),
                }
            }
            title.push_str(&clean(v.title.trim()));
            let title = match opts.width {
                Some(width) => truncate(
                    &title,
                    width.saturating_sub(fixed_columns).max(MIN_TITLE_WIDTH),
                ),
                None => Cow::Borrowed(title.as_str()),
            };
            let id = clean(&v.id);
            let _ = writeln!(
                out,
                "  {id}{}  {}  {title}",
                pad(id.width(), id_width),
                severity_cell(v.severity, opts.color, true),
            );
        }
        out.push('\n');
    }
    summary(out, report, groups.len(), opts.color);
}

fn summary(out: &mut String, report: &ScanReport, packages: usize, color: bool) {
    let total = report.vulnerabilities.len();
    let _ = write!(
        out,
        "Total: {total} {} in {packages} {} (",
        plural(total, "vulnerability", "vulnerabilities"),
        plural(packages, "package", "packages"),
    );
    for (i, sev) in Severity::ALL.iter().rev().enumerate() {
        let count = report
            .vulnerabilities
            .iter()
            .filter(|v| v.severity == *sev)
            .count();
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{}: {count}", severity_cell(*sev, color, false));
    }
    out.push_str(")\n");
}

fn inventory(out: &mut String, report: &ScanReport) {
    if report.packages.is_empty() {
        out.push_str("No packages found.\n");
    } else {
        let rows: Vec<[Cow<'_, str>; 5]> = report
            .packages
            .iter()
            .map(|p| {
                [
                    clean(p.name.as_str()),
                    clean(p.version.as_str()),
                    clean(p.ecosystem.as_str()),
                    p.source
                        .as_ref()
                        .map_or(Cow::Borrowed("-"), |s| clean(&s.name)),
                    p.layer
                        .as_ref()
                        .map_or(Cow::Borrowed("-"), |d| Cow::Borrowed(short_digest(d))),
                ]
            })
            .collect();
        let head = ["NAME", "VERSION", "ECOSYSTEM", "SOURCE", "LAYER"];
        let mut widths = head.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.width());
            }
        }
        let mut line = |cells: [&str; 5]| {
            let mut text = String::new();
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                if i > 0 {
                    text.push_str("  ");
                }
                text.push_str(cell);
                if i + 1 < cells.len() {
                    text.push_str(&pad(cell.width(), w));
                }
            }
            out.push_str(&text);
            out.push('\n');
        };
        line(head);
        for [name, version, ecosystem, source, layer] in &rows {
            line([name, version, ecosystem, source, layer].map(|c| c.as_ref()));
        }
        out.push('\n');
    }
    out.push_str("No vulnerabilities found.\n");
}

fn warnings(out: &mut String, report: &ScanReport) {
    if report.warnings.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{} {}:",
        report.warnings.len(),
        plural(report.warnings.len(), "warning", "warnings")
    );
    for warning in &report.warnings {
        let _ = writeln!(
            out,
            "  {}: {}",
            clean(&warning.location),
            clean(&warning.message)
        );
    }
}

/// The severity name, padded to the column when `padded`, coloured when
/// `color` (padding stays outside the escape codes so columns line up).
fn severity_cell(sev: Severity, color: bool, padded: bool) -> String {
    let name = sev.as_str();
    let padding = if padded {
        pad(name.len(), SEVERITY_WIDTH)
    } else {
        String::new()
    };
    if color {
        let code = match sev {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Unknown => "2",
        };
        format!("\x1b[{code}m{name}\x1b[0m{padding}")
    } else {
        format!("{name}{padding}")
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

fn pad(used: usize, width: usize) -> String {
    " ".repeat(width.saturating_sub(used))
}

/// Replace control characters (escape sequences, newlines, tabs) with a
/// space so untrusted text cannot act on the terminal or break the layout.
fn clean(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_control) {
        Cow::Owned(
            s.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

/// Cut `s` to at most `width` terminal columns, ending with `…` when cut.
fn truncate(s: &str, width: usize) -> Cow<'_, str> {
    if s.width() <= width {
        return Cow::Borrowed(s);
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('…');
    Cow::Owned(out)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    #[test]
    fn truncates_by_display_width() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("exactly ten", 11), "exactly ten");
        assert_eq!(truncate("a longer title here", 10), "a longer…");
        // Wide characters take two columns each.
        let t = truncate("漢字漢字漢字", 7);
        assert_eq!(t, "漢字漢…");
        assert!(t.width() <= 7);
    }

    #[test]
    fn cleans_control_characters() {
        assert_eq!(clean("plain"), "plain");
        assert_eq!(clean("red\x1b[31m\nx"), "red [31m x");
    }

    #[test]
    fn colours_only_when_asked() {
        assert_eq!(severity_cell(Severity::High, false, true), "HIGH    ");
        assert_eq!(
            severity_cell(Severity::High, true, true),
            "\x1b[31mHIGH\x1b[0m    "
        );
    }
}
