//! Vulnerability database benchmark: building the database from the shared
//! advisory data, and matching 10,000 installed packages against it.
//!
//! ```text
//! cargo bench -p palisade-vulndb --bench match
//! ```
//!
//! A plain `fn main` timed with `std::time::Instant` (medians of several
//! runs), so it adds no dependency and nothing to `cargo test`. It prints a
//! table and writes the figures as JSON to
//! `<target>/palisade-bench/match-results.json`; it exits 1 when a target is
//! missed, so the targets are checked here and never by timed unit tests.
//!
//! Targets: build of all shared data < 30 s (2 cores); matching 10,000
//! packages < 50 ms with the database already open and < 200 ms including
//! `VulnDb::open`; peak RSS < 100 MiB while matching.
//!
//! Environment:
//! - `PALISADE_SHARED_DATA`: the advisory data (default `<workspace>/../shared/data`).
//! - `MATCH_BENCH_BUILD_RUNS` (3): builds timed; `0` reuses the database
//!   already in `<target>/palisade-bench/vulndb` when there is one.
//! - `MATCH_BENCH_RUNS` (21): matching runs of each kind, alternating.
//! - `MATCH_BENCH_PACKAGES` (10000): packages generated.
//! - `MATCH_BENCH_SEED`: seed of the package generator (fixed by default).
//! - `MATCH_BENCH_DB_DIR`: use (or build) the database there instead.
//! - `MATCH_BENCH_DUMP`: write every match and warning of one run to this
//!   file, one a line, to check that a change to the database or the
//!   matcher keeps the results (`sort` both files and `diff` them).
//!
//! The packages are a mix generated deterministically: Debian 11
//! binary packages built from source packages named in the Debian advisories
//! (several binaries per source, as in a real image), PyPI, Go, crates.io
//! and npm packages named in the advisories, and about 30 % names no
//! advisory mentions. Versions of known packages are taken from the
//! advisories' own range events (introduced, fixed, last affected) three
//! times in four, so some are affected and some are just fixed; the others
//! get plausible versions. The mix is pessimistic: a real image has far
//! fewer packages with advisories than 70 %.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use palisade_model::{Ecosystem, OsInfo, Package, PackageName, SourcePackage, Version};
use palisade_vulndb::{build, match_packages, Event, MatchOutcome, VulnDb, DB_FILE};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const TARGET_BUILD: Duration = Duration::from_secs(30);
const TARGET_MATCH_OPEN: Duration = Duration::from_millis(50);
const TARGET_MATCH_WITH_OPEN: Duration = Duration::from_millis(200);
const TARGET_RSS_KIB: u64 = 100 * 1024;

/// How the generated packages are split between ecosystems (per mille),
/// and each one's share of names no advisory mentions.
const MIX: &[(&str, u32)] = &[
    ("Debian", 400),
    ("PyPI", 150),
    ("Go", 150),
    ("crates.io", 150),
    ("npm", 150),
];
const UNKNOWN_PER_MILLE: u64 = 300;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// `<target>` of the running bench binary (`<target>/release/deps/match-…`),
/// so `CARGO_TARGET_DIR` is honoured; else `<workspace>/target`.
fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent()?.parent().map(Path::to_path_buf))
        .filter(|t| t.join("release").is_dir() || t.join("debug").is_dir())
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

fn shared_data() -> PathBuf {
    match std::env::var_os("PALISADE_SHARED_DATA") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    }
}

/// `VmHWM` or `VmRSS` of this process, in KiB.
fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Time this thread has spent on a CPU, from `/proc/thread-self/schedstat`
/// (nanoseconds). Unlike wall time it does not grow while other processes
/// hold the CPU, which matters on a shared 2-core machine.
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace()
        .next()?
        .parse()
        .ok()
        .map(Duration::from_nanos)
}

/// Wall and on-CPU time of `f`.
fn timed<T>(f: impl FnOnce() -> Result<T>) -> Result<(T, Duration, Option<Duration>)> {
    let c0 = thread_cpu();
    let t = Instant::now();
    let out = f()?;
    let wall = t.elapsed();
    let cpu = c0.and_then(|c0| Some(thread_cpu()?.saturating_sub(c0)));
    Ok((out, wall, cpu))
}

/// Resets `VmHWM` to the current RSS (Linux ≥ 4.0), so the peak measured
/// afterwards belongs to the matching phase, not to the build before it.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Small deterministic PRNG (xorshift64*), enough to pick names.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len() as u64) as usize)
    }
    fn word(&mut self, min: u64, max: u64) -> String {
        let len = min + self.below(max - min + 1);
        (0..len)
            .map(|_| char::from(b'a' + (self.below(26) as u8)))
            .collect()
    }
}

#[derive(Clone, Copy)]
struct Stats {
    median: Duration,
    min: Duration,
    max: Duration,
    n: usize,
}

fn stats(samples: &[Duration]) -> Option<Stats> {
    let mut s = samples.to_vec();
    s.sort();
    Some(Stats {
        median: *s.get(s.len() / 2)?,
        min: *s.first()?,
        max: *s.last()?,
        n: s.len(),
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Distinct package names per ecosystem (as stored, i.e. normalised), read
/// straight from the database file.
fn names_by_ecosystem(db_file: &Path) -> Result<BTreeMap<String, Vec<String>>> {
    let conn =
        rusqlite::Connection::open_with_flags(db_file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut stmt =
        conn.prepare("SELECT DISTINCT ecosystem, name FROM affected ORDER BY ecosystem, name")?;
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (eco, name) = row?;
        // Release-scoped ecosystems (Debian:11) are grouped under their base.
        let base = eco.split(':').next().unwrap_or(&eco).to_string();
        out.entry(base).or_default().push(name);
    }
    for names in out.values_mut() {
        names.sort();
        names.dedup();
    }
    Ok(out)
}

/// Versions the advisories' range events name for `(ecosystem, name)`
/// (not their listed versions: the database keeps only those outside the
/// ranges, so the input would depend on that).
fn advisory_versions(db: &VulnDb, ecosystem: &str, name: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (_, affected) in db.lookup(ecosystem, name)? {
        for r in &affected.ranges {
            for e in &r.events {
                let v = match e {
                    Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) => v,
                    Event::Limit(_) => continue,
                };
                if v != "0" && !v.is_empty() {
                    out.push(v.clone());
                }
            }
        }
    }
    Ok(out)
}

fn plausible_version(rng: &mut Rng, ecosystem: &str) -> String {
    let (a, b, c) = (rng.below(5), rng.below(30), rng.below(20));
    match ecosystem {
        "Debian" => format!("{a}.{b}.{c}-{}", 1 + rng.below(4)),
        "Go" => format!("v{a}.{b}.{c}"),
        _ => format!("{a}.{b}.{c}"),
    }
}

fn unknown_name(rng: &mut Rng, ecosystem: &str) -> String {
    match ecosystem {
        "Go" => format!("github.com/{}/{}", rng.word(4, 10), rng.word(3, 12)),
        "npm" if rng.below(3) == 0 => format!("@{}/{}", rng.word(3, 8), rng.word(3, 12)),
        "PyPI" => format!("{}_{}", rng.word(3, 8), rng.word(2, 8)).to_uppercase(),
        _ => format!("{}-{}", rng.word(3, 9), rng.word(2, 8)),
    }
}

fn package(ecosystem: &str, name: &str, version: &str, source: Option<(&str, &str)>) -> Package {
    let purl_type = match ecosystem {
        "Debian" => "deb/debian",
        "PyPI" => "pypi",
        "Go" => "golang",
        "crates.io" => "cargo",
        _ => "npm",
    };
    Package {
        name: PackageName::new(name),
        version: Version::new(version),
        ecosystem: Ecosystem::new(ecosystem),
        purl: format!("pkg:{purl_type}/{name}@{version}"),
        layer: None,
        path: match ecosystem {
            "Debian" => "var/lib/dpkg/status".into(),
            other => format!("app/{other}/{name}"),
        },
        source: source.map(|(n, v)| SourcePackage {
            name: n.to_string(),
            version: v.to_string(),
        }),
        arch: (ecosystem == "Debian").then(|| "amd64".to_string()),
        licenses: Vec::new(),
    }
}

/// The 10,000 (by default) packages of the benchmark.
fn generate(
    db: &VulnDb,
    names: &BTreeMap<String, Vec<String>>,
    total: usize,
    seed: u64,
) -> Result<Vec<Package>> {
    let mut rng = Rng(seed | 1);
    let mut out = Vec::with_capacity(total);
    for &(eco, per_mille) in MIX {
        let want = total * per_mille as usize / 1000;
        let known = names.get(eco).map(Vec::as_slice).unwrap_or_default();
        // Debian advisories are looked up in the image's release; names
        // come from every release, as a Debian 11 image holds sources that
        // only older releases had advisories for.
        let query_eco = if eco == "Debian" { "Debian:11" } else { eco };
        let start = out.len();
        while out.len() - start < want {
            let known_name = if rng.below(1000) >= UNKNOWN_PER_MILLE {
                rng.pick(known)
            } else {
                None
            };
            let (name, version) = match known_name {
                Some(n) => {
                    let versions = advisory_versions(db, query_eco, n)?;
                    let v = match rng.pick(&versions) {
                        Some(v) if rng.below(4) != 0 => v.clone(),
                        _ => plausible_version(&mut rng, eco),
                    };
                    (n.clone(), v)
                }
                None => (
                    unknown_name(&mut rng, eco),
                    plausible_version(&mut rng, eco),
                ),
            };
            if eco == "Debian" {
                // One to four binary packages per source package, some
                // with a binNMU suffix, as dpkg lists them.
                let binaries = 1 + rng.below(4);
                for b in 0..binaries {
                    if out.len() - start >= want {
                        break;
                    }
                    let bin_name = match b {
                        0 => name.clone(),
                        1 => format!("lib{name}{}", rng.below(4)),
                        2 => format!("{name}-common"),
                        _ => format!("{name}-dev"),
                    };
                    let bin_version = if rng.below(8) == 0 {
                        format!("{version}+b1")
                    } else {
                        version.clone()
                    };
                    out.push(package(
                        eco,
                        &bin_name,
                        &bin_version,
                        Some((&name, &version)),
                    ));
                }
            } else {
                out.push(package(eco, &name, &version, None));
            }
        }
    }
    // Fill rounding leftovers with unknown npm packages.
    while out.len() < total {
        let (n, v) = (
            unknown_name(&mut rng, "npm"),
            plausible_version(&mut rng, "npm"),
        );
        out.push(package("npm", &n, &v, None));
    }
    Ok(out)
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}

fn main() -> Result<()> {
    let build_runs = env_usize("MATCH_BENCH_BUILD_RUNS", 3);
    let runs = env_usize("MATCH_BENCH_RUNS", 21).max(1);
    let total = env_usize("MATCH_BENCH_PACKAGES", 10_000);
    let seed = env_usize("MATCH_BENCH_SEED", 0x5EED_2026) as u64;
    let data = shared_data();
    let work = target_dir().join("palisade-bench");
    let db_dir =
        std::env::var_os("MATCH_BENCH_DB_DIR").map_or_else(|| work.join("vulndb"), PathBuf::from);
    let db_file = db_dir.join(DB_FILE);
    std::fs::create_dir_all(&work)?;
    println!("palisade-vulndb match benchmark");
    println!("  shared data: {}", data.display());
    println!("  database:    {}", db_file.display());
    println!(
        "  cpus: {}; runs: {runs} of each matching kind, {build_runs} builds",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // (a) Building the database from all the shared data.
    let mut build_times = Vec::new();
    let mut advisories = 0;
    for i in 0..build_runs {
        let t = Instant::now();
        let report = build(&data, &db_dir, "palisade-bench")?;
        let took = t.elapsed();
        println!(
            "  build {}: {:.2} s, {} advisories",
            i + 1,
            took.as_secs_f64(),
            report.advisories
        );
        advisories = report.advisories;
        build_times.push(took);
    }
    if !db_file.is_file() {
        println!(
            "  no database at {} yet: building it once",
            db_file.display()
        );
        advisories = build(&data, &db_dir, "palisade-bench")?.advisories;
    }
    let db_size = std::fs::metadata(&db_file)?.len();

    // (b) The packages, and the OS they are installed on.
    let names = names_by_ecosystem(&db_file)?;
    let packages = {
        let db = VulnDb::open(&db_dir)?;
        generate(&db, &names, total, seed)?
    };
    let os = OsInfo {
        family: "debian".into(),
        version: "11".into(),
        pretty_name: None,
    };
    let mut mix: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &packages {
        *mix.entry(p.ecosystem.as_str()).or_default() += 1;
    }
    println!("  packages: {} ({mix:?})", packages.len());

    let rss_before_reset = proc_status_kib("VmHWM");
    let reset = reset_peak_rss();
    let rss_before_match = proc_status_kib("VmRSS");

    // Alternating: a fresh `VulnDb` each run, so its advisory cache is cold
    // as in one `palisade image scan`; the file is in the page cache.
    let mut open_then_match = Vec::new();
    let mut with_open = Vec::new();
    let (mut cpu_open, mut cpu_with) = (Vec::new(), Vec::new());
    let mut outcome: Option<MatchOutcome> = None;
    for i in 0..runs {
        for kind in [i % 2, 1 - i % 2] {
            if kind == 0 {
                let db = VulnDb::open(&db_dir)?;
                let (out, wall, cpu) = timed(|| Ok(match_packages(&db, &packages, Some(&os))?))?;
                open_then_match.push(wall);
                cpu_open.extend(cpu);
                outcome.get_or_insert(out);
            } else {
                let (_, wall, cpu) = timed(|| {
                    let db = VulnDb::open(&db_dir)?;
                    Ok(match_packages(&db, &packages, Some(&os))?)
                })?;
                with_open.push(wall);
                cpu_with.extend(cpu);
            }
        }
    }
    // The same database matched again (advisory metadata cached).
    let mut repeat = Vec::new();
    let mut cpu_repeat = Vec::new();
    {
        let db = VulnDb::open(&db_dir)?;
        for _ in 0..runs {
            let (_, wall, cpu) = timed(|| Ok(match_packages(&db, &packages, Some(&os))?))?;
            repeat.push(wall);
            cpu_repeat.extend(cpu);
        }
    }
    let rss_match = proc_status_kib("VmHWM");

    let outcome = outcome.unwrap_or_default();
    if let Some(dump) = std::env::var_os("MATCH_BENCH_DUMP") {
        let mut lines: Vec<String> = outcome
            .matches
            .iter()
            .map(|m| {
                format!(
                    "{} {} {} {} {:?} {:?} {:?}",
                    m.ecosystem,
                    m.package,
                    m.installed_version,
                    m.id,
                    m.fixed_version,
                    m.aliases,
                    m.severity
                )
            })
            .collect();
        lines.extend(
            outcome
                .warnings
                .iter()
                .map(|w| format!("warning {} {}", w.location, w.message)),
        );
        lines.push(String::new());
        std::fs::write(dump, lines.join("\n"))?;
    }
    let (Some(b_open), Some(b_with), Some(b_repeat)) =
        (stats(&open_then_match), stats(&with_open), stats(&repeat))
    else {
        return Err("no matching runs".into());
    };
    let b_build = stats(&build_times);
    let (c_open, c_with, c_repeat) = (stats(&cpu_open), stats(&cpu_with), stats(&cpu_repeat));

    println!();
    println!(
        "  matches: {}; packages checked {}, skipped {}; warnings {}",
        outcome.matches.len(),
        outcome.packages_checked,
        outcome.packages_skipped,
        outcome.warnings.len()
    );
    println!(
        "  database: {advisories} advisories, {:.1} MiB",
        db_size as f64 / (1024.0 * 1024.0)
    );
    println!();
    println!(
        "{:<44}{:>11}{:>11}{:>11}{:>4}{:>12}  target (on the wall median)",
        "figure (wall time)", "median", "min", "max", "n", "on-CPU med"
    );
    let row = |what: &str, s: Stats, cpu: Option<Stats>, target: Option<Duration>| {
        let ok = target.is_none_or(|t| s.median < t);
        let cpu = cpu.map_or_else(|| "-".to_string(), |c| format!("{:.2} ms", ms(c.median)));
        let verdict = match target {
            Some(t) if t >= Duration::from_secs(1) => {
                format!("< {} s: {}", t.as_secs(), verdict(ok))
            }
            Some(t) => format!("< {} ms: {}", t.as_millis(), verdict(ok)),
            None => "(no target)".to_string(),
        };
        println!(
            "{what:<44}{:>8.2} ms{:>8.2} ms{:>8.2} ms{:>4}{cpu:>12}  {verdict}",
            ms(s.median),
            ms(s.min),
            ms(s.max),
            s.n,
        );
        ok
    };
    let mut all_ok = true;
    if let Some(s) = b_build {
        all_ok &= row("build (all shared data)", s, None, Some(TARGET_BUILD));
    } else {
        println!(
            "{:<44}{:>11}  (MATCH_BENCH_BUILD_RUNS=0: not timed)",
            "build (all shared data)", "-"
        );
    }
    all_ok &= row(
        &format!("match {total} packages, database open"),
        b_open,
        c_open,
        Some(TARGET_MATCH_OPEN),
    );
    all_ok &= row(
        &format!("open + match {total} packages"),
        b_with,
        c_with,
        Some(TARGET_MATCH_WITH_OPEN),
    );
    row(
        "match again, same VulnDb (metadata cached)",
        b_repeat,
        c_repeat,
        None,
    );
    let rss_ok = rss_match.is_some_and(|k| k < TARGET_RSS_KIB);
    all_ok &= rss_ok;
    let kib = |k: Option<u64>| {
        k.map_or_else(
            || "?".to_string(),
            |k| format!("{:.1} MiB", k as f64 / 1024.0),
        )
    };
    println!(
        "{:<44}{:>11}{:>38}  < 100 MiB: {}",
        if reset {
            "peak RSS while matching (VmHWM)"
        } else {
            "peak RSS (VmHWM, whole process)"
        },
        kib(rss_match),
        "",
        verdict(rss_ok)
    );
    println!(
        "  (RSS when matching started {}; peak before it {})",
        kib(rss_before_match),
        kib(rss_before_reset)
    );

    let samples = |v: &[Duration]| v.iter().map(|d| ms(*d)).collect::<Vec<_>>();
    let json = serde_json::json!({
        "date_unix": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "shared_data": data.display().to_string(),
        "advisories": advisories,
        "db_size_bytes": db_size,
        "packages": packages.len(),
        "mix": mix,
        "matches": outcome.matches.len(),
        "packages_checked": outcome.packages_checked,
        "packages_skipped": outcome.packages_skipped,
        "warnings": outcome.warnings.len(),
        "build_ms": samples(&build_times),
        "match_open_ms": samples(&open_then_match),
        "match_open_cpu_ms": samples(&cpu_open),
        "match_with_open_ms": samples(&with_open),
        "match_with_open_cpu_ms": samples(&cpu_with),
        "match_repeat_ms": samples(&repeat),
        "match_repeat_cpu_ms": samples(&cpu_repeat),
        "rss_peak_match_kib": rss_match,
        "rss_peak_reset": reset,
        "rss_when_matching_started_kib": rss_before_match,
        "rss_peak_before_matching_kib": rss_before_reset,
        "all_targets_met": all_ok,
    });
    let out = work.join("match-results.json");
    std::fs::write(&out, serde_json::to_vec_pretty(&json)?)?;
    println!("  raw figures: {}", out.display());
    if !all_ok {
        eprintln!("match benchmark: a target was missed");
        std::process::exit(1);
    }
    Ok(())
}
