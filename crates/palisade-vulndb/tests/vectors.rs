//! Data-driven ordering, normalisation and rejection vectors, one table per
//! scheme under `tests/vectors/` (each table names its sources).
//!
//! Line format:
//!
//! * `A < B`, `A > B`, `A == B` — ordering, checked both ways, through
//!   [`Scheme::compare`] and through parsed versions, and the printed form of
//!   each side must parse back to an equal version;
//! * `A => N` — `A` parses and prints as `N` (the normalised form);
//! * `! A` — `A` is rejected with an error naming the scheme.
//!
//! `#` starts a comment line. Versions cannot contain spaces, except that
//! the input of `=>` and `!` lines is everything before `=>` / after `! `.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::cmp::Ordering;

use palisade_vulndb::{Scheme, VersionError};

struct Counts {
    ordering: usize,
    normalised: usize,
    invalid: usize,
}

fn run_table(scheme: Scheme, table: &str) -> Counts {
    let mut failures = Vec::new();
    let mut counts = Counts {
        ordering: 0,
        normalised: 0,
        invalid: 0,
    };
    for (number, raw) in table.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("line {}: {line}", number + 1);
        if let Some(input) = line.strip_prefix("! ") {
            counts.invalid += 1;
            match scheme.parse(input) {
                Ok(v) => failures.push(format!("{at}: accepted as {v}")),
                Err(e) => {
                    if e.scheme() != Some(scheme) {
                        failures.push(format!("{at}: error names another scheme: {e}"));
                    }
                }
            }
            continue;
        }
        if let Some((input, expected)) = raw.split_once("=>") {
            counts.normalised += 1;
            match scheme.parse(input) {
                Ok(v) => {
                    if v.to_string() != expected.trim() {
                        failures.push(format!("{at}: printed as {v}"));
                    }
                }
                Err(e) => failures.push(format!("{at}: {e}")),
            }
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [a, op, b] = parts.as_slice() else {
            failures.push(format!("{at}: malformed vector line"));
            continue;
        };
        let want = match *op {
            "<" => Ordering::Less,
            ">" => Ordering::Greater,
            "==" => Ordering::Equal,
            _ => {
                failures.push(format!("{at}: unknown operator {op}"));
                continue;
            }
        };
        counts.ordering += 1;
        match check_pair(scheme, a, b, want) {
            Ok(()) => {}
            Err(e) => failures.push(format!("{at}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} {scheme} vector failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    counts
}

fn check_pair(scheme: Scheme, a: &str, b: &str, want: Ordering) -> Result<(), String> {
    let got = scheme
        .compare(a, b)
        .map_err(|e: VersionError| e.to_string())?;
    if got != want {
        return Err(format!("compare gave {got:?}"));
    }
    let back = scheme.compare(b, a).map_err(|e| e.to_string())?;
    if back != want.reverse() {
        return Err(format!("reversed compare gave {back:?}"));
    }
    let pa = scheme.parse(a).map_err(|e| e.to_string())?;
    let pb = scheme.parse(b).map_err(|e| e.to_string())?;
    if pa.cmp(&pb) != want || (pa == pb) != (want == Ordering::Equal) {
        return Err("Ord/Eq on parsed versions disagree with compare".into());
    }
    for (input, parsed) in [(a, &pa), (b, &pb)] {
        let printed = parsed.to_string();
        let reparsed = scheme
            .parse(&printed)
            .map_err(|e| format!("{input} printed as {printed}, which fails to parse: {e}"))?;
        if reparsed != *parsed || reparsed.to_string() != printed {
            return Err(format!(
                "{input} printed as {printed}, which parses differently"
            ));
        }
    }
    Ok(())
}

/// Runs a table and checks it has at least `min` ordering vectors.
fn table(scheme: Scheme, text: &str, min: usize) {
    let counts = run_table(scheme, text);
    assert!(
        counts.ordering >= min,
        "{scheme}: only {} ordering vectors, want at least {min}",
        counts.ordering
    );
    eprintln!(
        "{scheme}: {} ordering, {} normalisation, {} invalid vectors",
        counts.ordering, counts.normalised, counts.invalid
    );
}

#[test]
fn dpkg() {
    table(Scheme::Dpkg, include_str!("vectors/dpkg.txt"), 100);
}

#[test]
fn apk() {
    table(Scheme::Apk, include_str!("vectors/apk.txt"), 30);
}

#[test]
fn rpm() {
    table(Scheme::Rpm, include_str!("vectors/rpm.txt"), 100);
}

#[test]
fn pep440() {
    table(Scheme::Pep440, include_str!("vectors/pep440.txt"), 100);
}

#[test]
fn semver() {
    table(Scheme::Semver, include_str!("vectors/semver.txt"), 100);
}

#[test]
fn golang() {
    table(Scheme::Go, include_str!("vectors/golang.txt"), 30);
}

#[test]
fn maven() {
    table(Scheme::Maven, include_str!("vectors/maven.txt"), 100);
}

#[test]
fn rubygems() {
    table(Scheme::RubyGems, include_str!("vectors/rubygems.txt"), 30);
}

#[test]
fn nuget() {
    table(Scheme::NuGet, include_str!("vectors/nuget.txt"), 30);
}

#[test]
fn composer() {
    table(Scheme::Composer, include_str!("vectors/composer.txt"), 30);
}
