//! Conformance on real data from `$PALISADE_SHARED_DATA` (default
//! `<workspace>/../shared/data`): the whole directory builds into a
//! plausible database, real Debian/PyPI/Go/crates.io records are reported
//! for versions inside their ranges and not at their fixes, and a real
//! Debian 11 package set gets no matches from the April-2023 records.
//!
//! Records are read here with `serde_json` directly (not with the crate's
//! parser) and chosen deterministically (sorted by id, evenly spaced).
//! Without the data these tests print a note and pass, except under CI
//! (`CI` set), where missing data is a failure.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use palisade_image::{inventory, ImageRef, NoProgress, ScanOptions};
use palisade_model::{Package, VulnerabilityMatch};
use palisade_vulndb::{match_packages, BuildReport, Scheme, VulnDb};
use serde_json::Value;

use common::{os, pkg};

/// The database built from the whole shared data directory, once.
fn shared_db(test: &str) -> Option<&'static (tempfile::TempDir, BuildReport)> {
    static DB: OnceLock<(tempfile::TempDir, BuildReport)> = OnceLock::new();
    let root = common::require_shared("osv", test)?;
    Some(DB.get_or_init(|| {
        let started = Instant::now();
        let built = common::build_into_temp(&root);
        eprintln!(
            "built {} advisories from {} in {:?}",
            built.1.advisories,
            root.display(),
            started.elapsed()
        );
        built
    }))
}

/// Every `*.json` record of a zip, parsed as plain JSON, sorted by id.
fn records(zip_path: &Path) -> Vec<Value> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    let mut out = Vec::new();
    for i in 0..z.len() {
        let mut e = z.by_index(i).unwrap();
        if !e.name().unwrap().ends_with(".json") {
            continue;
        }
        let mut s = String::new();
        e.read_to_string(&mut s).unwrap();
        out.push(serde_json::from_str::<Value>(&s).unwrap());
    }
    out.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    out
}

fn json_entries(zip_path: &Path) -> u64 {
    let mut z = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    (0..z.len())
        .filter(|&i| z.by_index(i).unwrap().name().unwrap().ends_with(".json"))
        .count() as u64
}

/// `n` items evenly spaced over `items` (all of them when there are fewer).
fn spaced<T: Clone>(items: &[T], n: usize) -> Vec<T> {
    if items.len() <= n {
        return items.to_vec();
    }
    (0..n).map(|i| items[i * items.len() / n].clone()).collect()
}

fn reported(matches: &[VulnerabilityMatch], name: &str, version: &str, id: &str) -> bool {
    matches.iter().any(|m| {
        m.package == name
            && m.installed_version == version
            && (m.id == id || m.aliases.iter().any(|a| a == id))
    })
}

fn events(range: &Value) -> Vec<(String, String)> {
    range["events"]
        .as_array()
        .map(|evs| {
            evs.iter()
                .filter_map(|e| e.as_object())
                .flat_map(|o| {
                    o.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

// ---- the whole directory -------------------------------------------------------

#[test]
fn the_whole_shared_directory_builds_plausibly() {
    let Some((db, report)) = shared_db("the_whole_shared_directory_builds_plausibly") else {
        return;
    };
    let root = common::shared_data_dir();
    let v = VulnDb::open(db.path()).unwrap();
    let st = v.status().unwrap();
    assert_eq!(st.sources, report.sources);
    assert_eq!(st.advisories, report.advisories);
    eprintln!(
        "{} advisories, {} affected packages, {} rejected, {} superseded, {} sources, {} bytes",
        st.advisories,
        st.affected_packages,
        report.rejected,
        report.superseded,
        st.sources.len(),
        st.size_bytes
    );
    for s in &st.sources {
        eprintln!(
            "  {:<40} {:>6} {:>4} {:?}",
            s.name, s.advisories, s.rejected, s.rejected_reasons
        );
    }
    assert!(st.advisories > 20_000, "only {} advisories", st.advisories);

    // Every OSV export is a source, and every record in it is accounted for.
    let mut zips = 0;
    let mut osv_entries = 0;
    for e in std::fs::read_dir(root.join("osv")).unwrap() {
        let dir = e.unwrap().path();
        let zip = dir.join("all.zip");
        if !zip.is_file() {
            continue;
        }
        zips += 1;
        let eco = dir.file_name().unwrap().to_string_lossy().into_owned();
        let name = format!("osv/{eco}/all.zip");
        let s = st
            .sources
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name} is not among the sources"));
        let entries = json_entries(&zip);
        osv_entries += entries;
        assert_eq!(s.advisories + s.rejected, entries, "{s:#?}");
        // Only withdrawn records are expected to be left out (a few dozen).
        assert!(
            s.rejected * 50 < entries,
            "{name}: {} of {entries} rejected: {s:#?}",
            s.rejected
        );
        for (reason, _) in &s.rejected_reasons {
            assert_eq!(
                reason, "withdrawn",
                "{name}: unexpected rejection {reason:?}"
            );
        }
    }
    assert!(zips >= 6, "found {zips} OSV exports");
    assert!(st.advisories >= osv_entries * 99 / 100);

    // Alpine secdb files and the tracker excerpt are read too.
    let alpine: Vec<_> = st
        .sources
        .iter()
        .filter(|s| s.name.starts_with("alpine-secdb/"))
        .collect();
    assert!(alpine.len() >= 9, "{alpine:#?}");
    assert!(alpine.iter().all(|s| s.rejected == 0), "{alpine:#?}");
    assert!(alpine.iter().map(|s| s.advisories).sum::<u64>() > 1_000);
    let tracker = st
        .sources
        .iter()
        .find(|s| s.name == "debian/vunnel-fixtures/debian.json")
        .unwrap();
    assert!(
        tracker.advisories > 0 && tracker.rejected == 0,
        "{tracker:#?}"
    );

    let ecos: BTreeMap<&str, u64> = st
        .ecosystems
        .iter()
        .map(|(e, n)| (e.as_str(), *n))
        .collect();
    for (eco, at_least) in [
        ("Debian:8", 1_000),
        ("Debian:9", 1_000),
        ("Debian:10", 500),
        ("Debian:11", 400),
        ("PyPI", 2_500),
        ("Go", 4_000),
        ("crates.io", 1_000),
        ("npm", 400),
        ("AlmaLinux:8", 1_000),
        ("AlmaLinux:9", 1_000),
        ("Alpine:v3.11", 100),
    ] {
        let n = ecos.get(eco).copied().unwrap_or(0);
        assert!(
            n >= at_least,
            "{eco}: {n} advisories, expected at least {at_least}"
        );
    }
}

// ---- Debian 11 -----------------------------------------------------------------

/// A version just below `fixed` in dpkg order: the last number decremented
/// (`1.2-3+deb11u4` → `1.2-3+deb11u3`), or `fixed~` when it ends in 0 or
/// no number.
fn dpkg_below(fixed: &str) -> String {
    let digits = fixed.bytes().rev().take_while(u8::is_ascii_digit).count();
    let (head, tail) = fixed.split_at(fixed.len() - digits);
    match tail.parse::<u64>() {
        Ok(n) if n > 0 && !tail.starts_with('0') => format!("{head}{}", n - 1),
        _ => format!("{fixed}~"),
    }
}

#[test]
fn dpkg_below_steps_down() {
    assert_eq!(dpkg_below("1.1.1n-0+deb11u4"), "1.1.1n-0+deb11u3");
    assert_eq!(dpkg_below("2.4-10"), "2.4-9");
    assert_eq!(dpkg_below("2.4-0"), "2.4-0~");
    assert_eq!(dpkg_below("1.0+dfsg"), "1.0+dfsg~");
}

#[test]
fn debian_11_recall_on_real_records() {
    let Some((db, _)) = shared_db("debian_11_recall_on_real_records") else {
        return;
    };
    let zip = common::shared_data_dir().join("osv/Debian/all.zip");
    // (advisory id, source package, fixed version) for Debian:11 entries.
    let mut cases: Vec<(String, String, String)> = Vec::new();
    let all = records(&zip);
    let bullseye: Vec<&Value> = all
        .iter()
        .filter(|r| {
            r["affected"]
                .as_array()
                .is_some_and(|a| a.iter().any(|e| e["package"]["ecosystem"] == "Debian:11"))
        })
        .collect();
    assert!(
        bullseye.len() >= 400,
        "{} Debian:11 records",
        bullseye.len()
    );
    let chosen = spaced(&bullseye, 50);
    for r in &chosen {
        let id = r["id"].as_str().unwrap().to_string();
        for a in r["affected"].as_array().unwrap() {
            if a["package"]["ecosystem"] != "Debian:11" {
                continue;
            }
            let name = a["package"]["name"].as_str().unwrap().to_string();
            for range in a["ranges"].as_array().unwrap() {
                let ev = events(range);
                assert_eq!(
                    ev.first().map(|(k, v)| (k.as_str(), v.as_str())),
                    Some(("introduced", "0")),
                    "{id}"
                );
                if let Some((_, fixed)) = ev.iter().find(|(k, _)| k == "fixed") {
                    cases.push((id.clone(), name.clone(), fixed.clone()));
                }
            }
        }
    }
    assert!(
        cases.len() >= 50,
        "{} cases from {} records",
        cases.len(),
        chosen.len()
    );

    let mut below_pkgs = Vec::new();
    let mut at_pkgs = Vec::new();
    for (id, name, fixed) in &cases {
        let below = dpkg_below(fixed);
        assert_eq!(
            Scheme::Dpkg.compare(&below, fixed).unwrap(),
            Ordering::Less,
            "{id}: {below} should be below {fixed}"
        );
        below_pkgs.push(pkg("Debian", name, &below));
        at_pkgs.push(pkg("Debian", name, fixed));
    }
    let v = VulnDb::open(db.path()).unwrap();
    let bullseye_os = os("debian", "11");
    let below = match_packages(&v, &below_pkgs, Some(&bullseye_os)).unwrap();
    let at = match_packages(&v, &at_pkgs, Some(&bullseye_os)).unwrap();
    assert!(below.warnings.is_empty(), "{:#?}", below.warnings);
    assert!(at.warnings.is_empty(), "{:#?}", at.warnings);
    let mut missed = Vec::new();
    let mut still = Vec::new();
    for ((id, name, fixed), (b, a)) in cases.iter().zip(below_pkgs.iter().zip(&at_pkgs)) {
        if !reported(&below.matches, name, b.version.as_str(), id) {
            missed.push(format!("{id} {name} {} (fixed {fixed})", b.version));
        }
        if reported(&at.matches, name, a.version.as_str(), id) {
            still.push(format!("{id} {name} at its fix {fixed}"));
        }
    }
    eprintln!(
        "Debian 11 recall: {} records, {} (package, fix) cases, {} matches below the fixes",
        chosen.len(),
        cases.len(),
        below.matches.len()
    );
    assert!(
        missed.is_empty(),
        "not reported below the fix:\n{}",
        missed.join("\n")
    );
    assert!(
        still.is_empty(),
        "reported at the fix:\n{}",
        still.join("\n")
    );
    // Scoping: the same packages on Debian 12 get nothing from Debian:11 records.
    let bookworm = match_packages(&v, &below_pkgs, Some(&os("debian", "12"))).unwrap();
    assert!(bookworm.matches.is_empty(), "{:#?}", bookworm.matches);
}

/// A bullseye root filesystem: debootstrapped when `PALISADE_DEBOOTSTRAP=1`,
/// else `$PALISADE_BULLSEYE_ROOTFS`. `None` (after a note) when neither is
/// available outside CI.
fn bullseye_rootfs() -> Option<(PathBuf, Option<tempfile::TempDir>)> {
    let ci = common::under_ci();
    let fail_or_skip = |msg: String| -> Option<(PathBuf, Option<tempfile::TempDir>)> {
        if ci {
            panic!("{msg} (CI is set, so this is a failure)");
        }
        eprintln!("SKIPPED debian_11_precision_on_real_packages: {msg}");
        None
    };
    if std::env::var("PALISADE_DEBOOTSTRAP").as_deref() == Ok("1") {
        let dir = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let out = Command::new("debootstrap")
            .args(["--variant=minbase", "bullseye"])
            .arg(dir.path())
            .arg("http://deb.debian.org/debian")
            .output();
        return match out {
            Err(e) => fail_or_skip(format!(
                "cannot run debootstrap ({e}); is it installed and on PATH?"
            )),
            Ok(o) if !o.status.success() => {
                let log = std::fs::read_to_string(dir.path().join("debootstrap/debootstrap.log"))
                    .unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(15).collect();
                fail_or_skip(format!(
                    "debootstrap --variant=minbase bullseye failed ({}); it needs root and network access to \
                     deb.debian.org.\nstderr: {}\nlog tail:\n{}",
                    o.status,
                    String::from_utf8_lossy(&o.stderr).trim(),
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                ))
            }
            Ok(_) => {
                eprintln!("debootstrap took {:?}", started.elapsed());
                Some((dir.path().to_path_buf(), Some(dir)))
            }
        };
    }
    if let Some(p) = std::env::var_os("PALISADE_BULLSEYE_ROOTFS") {
        let p = PathBuf::from(p);
        assert!(
            p.join("var/lib/dpkg/status").is_file(),
            "PALISADE_BULLSEYE_ROOTFS={} has no var/lib/dpkg/status",
            p.display()
        );
        return Some((p, None));
    }
    fail_or_skip(
        "set PALISADE_DEBOOTSTRAP=1 (network, ~30 s) or PALISADE_BULLSEYE_ROOTFS=<bullseye rootfs>"
            .to_string(),
    )
}

#[test]
fn debian_11_precision_on_real_packages() {
    let Some((db, _)) = shared_db("debian_11_precision_on_real_packages") else {
        return;
    };
    let Some((rootfs, _keep)) = bullseye_rootfs() else {
        return;
    };
    let inv = inventory(
        &ImageRef::Dir(rootfs.clone()),
        &ScanOptions::default(),
        &NoProgress,
    )
    .unwrap_or_else(|e| panic!("inventory of {}: {e}", rootfs.display()));
    let os_info = inv
        .artifact
        .os
        .clone()
        .expect("no OS detected in the rootfs");
    assert_eq!(
        (os_info.family.as_str(), os_info.version.as_str()),
        ("debian", "11"),
        "{os_info:?}"
    );
    let debs: Vec<Package> = inv
        .packages
        .iter()
        .filter(|p| p.ecosystem.base() == "Debian")
        .cloned()
        .collect();
    assert!(
        debs.len() >= 50,
        "only {} dpkg packages in {}",
        debs.len(),
        rootfs.display()
    );

    let v = VulnDb::open(db.path()).unwrap();
    let out = match_packages(&v, &debs, Some(&os_info)).unwrap();
    // How many of these packages the April-2023 data has bullseye records for.
    let mut sources: Vec<&str> = debs
        .iter()
        .map(|p| {
            p.source
                .as_ref()
                .map_or(p.name.as_str(), |s| s.name.as_str())
        })
        .collect();
    sources.sort_unstable();
    sources.dedup();
    let with_records: Vec<&str> = sources
        .iter()
        .copied()
        .filter(|s| !v.lookup("Debian:11", s).unwrap().is_empty())
        .collect();
    eprintln!(
        "Debian 11 precision: {} dpkg packages checked ({} source packages, {} with Debian:11 records: {}), {} matches",
        out.packages_checked,
        sources.len(),
        with_records.len(),
        with_records.join(" "),
        out.matches.len()
    );
    assert_eq!(out.packages_checked, debs.len());
    assert!(
        with_records.len() >= 5,
        "too few installed source packages have Debian:11 records for this test to mean anything"
    );
    assert!(out.warnings.is_empty(), "{:#?}", out.warnings);
    let debian_11: Vec<String> = out
        .matches
        .iter()
        .map(|m| {
            format!(
                "{} {} {} fixed {:?} ({:?})",
                m.id, m.package, m.installed_version, m.fixed_version, m.aliases
            )
        })
        .collect();
    assert!(
        debian_11.is_empty(),
        "current bullseye packages are newer than every April-2023 fix, yet:\n{}",
        debian_11.join("\n")
    );
}

// ---- language ecosystems -------------------------------------------------------

/// Whether `v` is `N.N.N` (or `N.N...` for PEP 440) with plain numbers.
fn plain_release(v: &str, exactly_three: bool) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    let ok = parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    ok && if exactly_three {
        parts.len() == 3
    } else {
        !parts.is_empty()
    }
}

/// A version just below `fixed` and above everything lower than it.
fn just_below(ecosystem: &str, fixed: &str) -> Option<String> {
    match ecosystem {
        // A development release of the fix precedes it (PEP 440).
        "PyPI" if plain_release(fixed, false) => Some(format!("{fixed}.dev0")),
        // The lowest pre-release of the fix precedes it (SemVer).
        "crates.io" if plain_release(fixed, true) => Some(format!("{fixed}-0")),
        "Go" if plain_release(fixed, true) => Some(format!("v{fixed}-0")),
        _ => None,
    }
}

/// Records of `ecosystem` whose package has one range `[introduced A,
/// fixed F]`: (id, package, a version inside, F), and how many of them use
/// A as the version inside.
fn recall_cases(ecosystem: &str, n: usize) -> (Vec<(String, String, String, String)>, usize) {
    let zip = common::shared_data_dir()
        .join("osv")
        .join(ecosystem)
        .join("all.zip");
    let mut eligible = Vec::new();
    for r in records(&zip) {
        if r.get("withdrawn").is_some_and(|w| !w.is_null()) {
            continue;
        }
        let id = r["id"].as_str().unwrap().to_string();
        let Some(affected) = r["affected"].as_array() else {
            continue;
        };
        let Some(first) = affected
            .iter()
            .find(|a| a["package"]["ecosystem"] == ecosystem)
        else {
            continue;
        };
        let name = first["package"]["name"].as_str().unwrap().to_string();
        let entries: Vec<&Value> = affected
            .iter()
            .filter(|a| {
                a["package"]["ecosystem"] == ecosystem && a["package"]["name"] == name.as_str()
            })
            .collect();
        if entries.len() != 1 {
            continue;
        }
        let ranges: Vec<&Value> = first["ranges"]
            .as_array()
            .map(|rs| rs.iter().filter(|r| r["type"] != "GIT").collect())
            .unwrap_or_default();
        let [range] = ranges.as_slice() else { continue };
        let ev = events(range);
        let [(k1, intro), (k2, fixed)] = ev.as_slice() else {
            continue;
        };
        if k1 != "introduced" || k2 != "fixed" {
            continue;
        }
        let listed = first["versions"]
            .as_array()
            .is_some_and(|vs| vs.iter().any(|v| v.as_str() == Some(fixed.as_str())));
        if listed {
            continue;
        }
        let inside = if intro != "0" && intro != "0.0.0-0" {
            // Go's introduced versions are written without v; installed ones have it.
            if ecosystem == "Go" {
                format!("v{intro}")
            } else {
                intro.clone()
            }
        } else {
            match just_below(ecosystem, fixed) {
                Some(v) => v,
                None => continue,
            }
        };
        let from_intro = intro != "0" && intro != "0.0.0-0";
        eligible.push((from_intro, (id, name, inside, fixed.clone())));
    }
    assert!(
        eligible.len() >= n,
        "{ecosystem}: only {} eligible records",
        eligible.len()
    );
    // Half (or as many as there are) at their introduced version, the rest
    // just below the fix.
    let (intro, below): (Vec<_>, Vec<_>) = eligible.into_iter().partition(|(i, _)| *i);
    let intro: Vec<_> = intro.into_iter().map(|(_, c)| c).collect();
    let below: Vec<_> = below.into_iter().map(|(_, c)| c).collect();
    let mut chosen = spaced(&intro, n / 2);
    let at_intro = chosen.len();
    chosen.extend(spaced(&below, n - at_intro));
    (chosen, at_intro)
}

fn language_recall(ecosystem: &str) {
    let test = format!("{ecosystem}_recall_on_real_records");
    let Some((db, _)) = shared_db(&test) else {
        return;
    };
    let (cases, from_intro) = recall_cases(ecosystem, 30);
    let scheme = Scheme::for_ecosystem(ecosystem).unwrap();
    let inside: Vec<Package> = cases
        .iter()
        .map(|(_, name, v, _)| pkg(ecosystem, name, v))
        .collect();
    let at: Vec<Package> = cases
        .iter()
        .map(|(_, name, _, f)| pkg(ecosystem, name, f))
        .collect();
    for (id, _, v, f) in &cases {
        assert_eq!(
            scheme.compare(v, f).unwrap(),
            Ordering::Less,
            "{id}: {v} should be below {f}"
        );
    }
    let v = VulnDb::open(db.path()).unwrap();
    let got_inside = match_packages(&v, &inside, None).unwrap();
    let got_at = match_packages(&v, &at, None).unwrap();
    assert!(got_inside.warnings.is_empty(), "{:#?}", got_inside.warnings);
    let mut problems = Vec::new();
    for (id, name, ver, fixed) in &cases {
        if !reported(&got_inside.matches, name, ver, id) {
            problems.push(format!(
                "{id} not reported for {name} {ver} (fixed {fixed})"
            ));
        }
        if reported(&got_at.matches, name, fixed, id) {
            problems.push(format!("{id} still reported for {name} at its fix {fixed}"));
        }
    }
    eprintln!(
        "{ecosystem} recall: {} records ({from_intro} at their introduced version, {} just below the fix)",
        cases.len(),
        cases.len() - from_intro
    );
    assert!(problems.is_empty(), "{ecosystem}:\n{}", problems.join("\n"));
}

#[test]
fn pypi_recall_on_real_records() {
    language_recall("PyPI");
}

#[test]
fn go_recall_on_real_records() {
    language_recall("Go");
}

#[test]
fn crates_io_recall_on_real_records() {
    language_recall("crates.io");
}
