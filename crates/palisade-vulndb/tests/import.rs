//! Import robustness: every advisory source is untrusted input. A bad
//! file or record is counted with its reason and skipped; limits hold; a
//! failed build leaves the previous database in place.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use palisade_vulndb::{build, match_packages, BuildError, SourceSummary, VulnDb, DB_FILE};
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

use common::pkg;

fn osv(id: &str, eco: &str, name: &str, events: &str) -> String {
    format!(
        r#"{{"id":"{id}","modified":"2024-01-01T00:00:00Z","affected":[{{"package":{{"ecosystem":"{eco}","name":"{name}"}},"ranges":[{{"type":"ECOSYSTEM","events":{events}}}]}}]}}"#
    )
}

fn simple(id: &str, name: &str) -> String {
    osv(id, "PyPI", name, r#"[{"introduced":"0"},{"fixed":"1.0"}]"#)
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn write_zip(path: &Path, method: CompressionMethod, entries: &[(&str, &[u8])]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = SimpleFileOptions::default().compression_method(method);
    for (name, data) in entries {
        z.start_file(*name, opts).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap();
}

fn source<'a>(sources: &'a [SourceSummary], name: &str) -> &'a SourceSummary {
    sources
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no source {name:?} in {sources:#?}"))
}

fn reason_count(s: &SourceSummary, starts_with: &str) -> u64 {
    s.rejected_reasons
        .iter()
        .filter(|(r, _)| r.starts_with(starts_with))
        .map(|(_, n)| n)
        .sum()
}

/// The report and `status()` agree, and the totals add up.
fn check_report_consistency(db_dir: &Path, report: &palisade_vulndb::BuildReport) {
    let st = VulnDb::open(db_dir).unwrap().status().unwrap();
    assert_eq!(
        st.sources, report.sources,
        "status() sources differ from the build report"
    );
    assert_eq!(
        st.advisories, report.advisories,
        "advisories in the file vs the report"
    );
    let rejected: u64 = report.sources.iter().map(|s| s.rejected).sum();
    assert_eq!(rejected, report.rejected);
    for s in &report.sources {
        let reasons: u64 = s.rejected_reasons.iter().map(|(_, n)| n).sum();
        assert_eq!(reasons, s.rejected, "reasons of {} do not add up", s.name);
    }
}

#[test]
fn corrupt_zips_are_counted_and_the_rest_is_imported() {
    let src = tempfile::tempdir().unwrap();
    let root = src.path();
    write(
        &root.join("osv/Garbage/all.zip"),
        b"this is not a zip file at all".repeat(100),
    );
    // A good zip cut in half: no central directory.
    write_zip(
        &root.join("tmp/full.zip"),
        CompressionMethod::Deflated,
        &[
            ("T-1.json", simple("T-1", "trunc").as_bytes()),
            ("T-2.json", simple("T-2", "trunc").as_bytes()),
        ],
    );
    let full = std::fs::read(root.join("tmp/full.zip")).unwrap();
    std::fs::remove_dir_all(root.join("tmp")).unwrap();
    write(&root.join("osv/Truncated/all.zip"), &full[..full.len() / 2]);
    // One stored entry with a flipped byte: its checksum no longer matches.
    let good = simple("OK-1", "good");
    let damaged = simple("OK-2", "good-damaged");
    let last = simple("OK-3", "good");
    let zip_path = root.join("osv/Damaged/all.zip");
    write_zip(
        &zip_path,
        CompressionMethod::Stored,
        &[
            ("OK-1.json", good.as_bytes()),
            ("OK-2.json", damaged.as_bytes()),
            ("OK-3.json", last.as_bytes()),
        ],
    );
    let mut bytes = std::fs::read(&zip_path).unwrap();
    let at = bytes
        .windows(b"good-damaged".len())
        .position(|w| w == b"good-damaged")
        .unwrap();
    bytes[at] = b'G';
    std::fs::write(&zip_path, bytes).unwrap();

    let (db, report) = common::build_into_temp(root);
    let garbage = source(&report.sources, "osv/Garbage/all.zip");
    assert_eq!((garbage.advisories, garbage.rejected), (0, 1));
    assert_eq!(
        reason_count(garbage, "not a readable zip"),
        1,
        "{garbage:#?}"
    );
    let truncated = source(&report.sources, "osv/Truncated/all.zip");
    assert_eq!((truncated.advisories, truncated.rejected), (0, 1));
    assert_eq!(
        reason_count(truncated, "not a readable zip"),
        1,
        "{truncated:#?}"
    );
    let damaged = source(&report.sources, "osv/Damaged/all.zip");
    assert_eq!(
        (damaged.advisories, damaged.rejected),
        (2, 1),
        "{damaged:#?}"
    );
    assert_eq!(
        reason_count(damaged, "corrupt zip entry"),
        1,
        "{damaged:#?}"
    );
    assert_eq!(report.advisories, 2);
    assert_eq!(report.rejected, 3);
    check_report_consistency(db.path(), &report);
}

#[test]
fn malformed_records_in_a_zip_are_rejected_with_reasons() {
    let src = tempfile::tempdir().unwrap();
    let ok1 = simple("PYSEC-1", "a");
    let ok2 = simple("PYSEC-2", "b");
    let no_name = r#"{"id":"PYSEC-3","affected":[{"package":{"ecosystem":"PyPI"},"ranges":[]}]}"#;
    let two_keys = osv(
        "PYSEC-4",
        "PyPI",
        "c",
        r#"[{"introduced":"0","fixed":"1"}]"#,
    );
    let no_intro = osv("PYSEC-5", "PyPI", "c", r#"[{"fixed":"1"}]"#);
    write_zip(
        &src.path().join("PyPI/all.zip"),
        CompressionMethod::Deflated,
        &[
            ("PYSEC-1.json", ok1.as_bytes()),
            ("broken.json", b"{\"id\": \"PYSEC-9\", \"affected\": ["),
            ("array.json", b"[]"),
            ("numeric-id.json", br#"{"id": 5}"#),
            ("PYSEC-3.json", no_name.as_bytes()),
            ("PYSEC-4.json", two_keys.as_bytes()),
            ("PYSEC-5.json", no_intro.as_bytes()),
            ("PYSEC-2.json", ok2.as_bytes()),
            ("README.md", b"# not an advisory"),
            ("binary.json", &[0xff, 0xfe, 0x00, 0x01]),
        ],
    );
    let (db, report) = common::build_into_temp(src.path());
    let s = source(&report.sources, "PyPI/all.zip");
    assert_eq!(s.advisories, 2, "{s:#?}");
    assert_eq!(s.rejected, 7, "{s:#?}");
    assert_eq!(reason_count(s, "malformed JSON"), 4, "{s:#?}");
    assert_eq!(
        reason_count(s, "affected package without ecosystem or name"),
        1,
        "{s:#?}"
    );
    assert_eq!(
        reason_count(s, "a range event must have exactly one key"),
        1,
        "{s:#?}"
    );
    assert_eq!(
        reason_count(s, "range has no introduced event"),
        1,
        "{s:#?}"
    );
    check_report_consistency(db.path(), &report);
}

#[test]
fn unknown_range_types_reject_the_record_and_git_ranges_are_ignored() {
    let src = tempfile::tempdir().unwrap();
    let weird = r#"{"id":"X-1","affected":[{"package":{"ecosystem":"PyPI","name":"w"},"ranges":[{"type":"WEIRD","events":[{"introduced":"0"}]}]}]}"#;
    let git = r#"{"id":"X-2","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"g"},"ranges":[{"type":"GIT","repo":"https://example.invalid/g","events":[{"introduced":"0"},{"fixed":"abc123"}]}],"versions":["1.0"]}]}"#;
    write(&src.path().join("loose/X-1.json"), weird);
    write(&src.path().join("loose/X-2.json"), git);
    let (db, report) = common::build_into_temp(src.path());
    let s = source(&report.sources, "loose/*.json");
    assert_eq!((s.advisories, s.rejected), (1, 1), "{s:#?}");
    assert_eq!(reason_count(s, "unknown range type \"WEIRD\""), 1, "{s:#?}");
    // The GIT range names commits; the explicit version still matches.
    let v = VulnDb::open(db.path()).unwrap();
    let out = match_packages(
        &v,
        &[pkg("PyPI", "g", "1.0"), pkg("PyPI", "g", "1.1")],
        None,
    )
    .unwrap();
    let hits: Vec<(&str, &str)> = out
        .matches
        .iter()
        .map(|m| (m.id.as_str(), m.installed_version.as_str()))
        .collect();
    assert_eq!(hits, vec![("X-2", "1.0")]);
    check_report_consistency(db.path(), &report);
}

#[test]
fn absurd_ranges_are_bounded() {
    let src = tempfile::tempdir().unwrap();
    // 10,000 events (5,000 introduced/fixed pairs), written in descending
    // order so that a quadratic sort would show.
    let mut events = Vec::new();
    for i in (0..5_000).rev() {
        events.push(format!(r#"{{"introduced":"{i}.0"}}"#));
        events.push(format!(r#"{{"fixed":"{i}.5"}}"#));
    }
    let many = osv(
        "ABSURD-1",
        "PyPI",
        "absurd",
        &format!("[{}]", events.join(",")),
    );
    write(&src.path().join("a/ABSURD-1.json"), &many);
    events.push(r#"{"introduced":"9999.0"}"#.to_string());
    let too_many = osv(
        "ABSURD-2",
        "PyPI",
        "absurd",
        &format!("[{}]", events.join(",")),
    );
    write(&src.path().join("a/ABSURD-2.json"), &too_many);
    // A 10 KB version and a 10 KB package name.
    let long_version = "1.".repeat(5_000) + "0";
    let long = osv(
        "ABSURD-3",
        "PyPI",
        "absurd-long",
        &format!(r#"[{{"introduced":"0"}},{{"fixed":"{long_version}"}}]"#),
    );
    write(&src.path().join("a/ABSURD-3.json"), &long);
    let long_name = osv(
        "ABSURD-4",
        "PyPI",
        &"n".repeat(10_240),
        r#"[{"introduced":"0"}]"#,
    );
    write(&src.path().join("a/ABSURD-4.json"), &long_name);
    // 10,000 explicitly listed versions are fine.
    let versions: Vec<String> = (0..10_000).map(|i| format!("\"0.{i}\"")).collect();
    let listed = format!(
        r#"{{"id":"ABSURD-5","affected":[{{"package":{{"ecosystem":"PyPI","name":"absurd-listed"}},"versions":[{}]}}]}}"#,
        versions.join(",")
    );
    write(&src.path().join("a/ABSURD-5.json"), &listed);

    let started = Instant::now();
    let (db, report) = common::build_into_temp(src.path());
    let build_time = started.elapsed();
    let s = source(&report.sources, "a/*.json");
    assert_eq!((s.advisories, s.rejected), (2, 3), "{s:#?}");
    assert_eq!(
        reason_count(s, "more than 10000 events in one range"),
        1,
        "{s:#?}"
    );
    assert_eq!(reason_count(s, "version longer than"), 1, "{s:#?}");
    assert_eq!(reason_count(s, "package name longer than"), 1, "{s:#?}");
    check_report_consistency(db.path(), &report);

    let v = VulnDb::open(db.path()).unwrap();
    let t = Instant::now();
    let out = match_packages(
        &v,
        &[
            pkg("PyPI", "absurd", "2500.2"),
            pkg("PyPI", "absurd", "2500.7"),
            pkg("PyPI", "absurd-listed", "0.9999"),
        ],
        None,
    )
    .unwrap();
    let match_time = t.elapsed();
    let hits: Vec<(&str, &str, Option<&str>)> = out
        .matches
        .iter()
        .map(|m| {
            (
                m.id.as_str(),
                m.installed_version.as_str(),
                m.fixed_version.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        hits,
        vec![
            ("ABSURD-1", "2500.2", Some("2500.5")),
            ("ABSURD-5", "0.9999", None)
        ]
    );
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    eprintln!(
        "absurd ranges: build {build_time:?}, matching 3 packages against 10,000 events {match_time:?}"
    );
    assert!(
        match_time < Duration::from_secs(2),
        "matching against one 10,000-event range took {match_time:?}"
    );
}

#[test]
fn unknown_ecosystems_are_stored_but_never_matched() {
    let src = tempfile::tempdir().unwrap();
    write(
        &src.path().join("x/H-1.json"),
        osv("H-1", "Hackage", "aeson", r#"[{"introduced":"0"}]"#),
    );
    write(
        &src.path().join("x/H-2.json"),
        osv(
            "H-2",
            "Bogus:1:2",
            "aeson",
            r#"[{"introduced":"0"},{"fixed":"not-a-version"}]"#,
        ),
    );
    write(&src.path().join("x/H-3.json"), simple("H-3", "aeson"));
    let (db, report) = common::build_into_temp(src.path());
    assert_eq!(report.advisories, 3);
    let v = VulnDb::open(db.path()).unwrap();
    let st = v.status().unwrap();
    for eco in ["Hackage", "Bogus:1:2", "PyPI"] {
        assert!(
            st.ecosystems.iter().any(|(e, n)| e == eco && *n == 1),
            "{eco} missing from {:?}",
            st.ecosystems
        );
    }
    let out = match_packages(
        &v,
        &[
            pkg("Hackage", "aeson", "2.0"),
            pkg("Bogus", "aeson", "2.0"),
            pkg("Bogus:1:2", "aeson", "2.0"),
            pkg("PyPI", "aeson", "2.0"),
        ],
        None,
    )
    .unwrap();
    assert!(out.matches.is_empty(), "{:?}", out.matches);
    assert_eq!(out.packages_skipped, 3);
    assert_eq!(out.packages_checked, 1);
}

/// A highly compressible 100 MB entry (honestly declared, then with its
/// declared size forged to 1 KB) is refused by the size cap, quickly, and
/// the other entries of the zip are still imported.
#[test]
fn a_zip_bomb_entry_is_refused_by_the_size_cap() {
    let src = tempfile::tempdir().unwrap();
    let bomb_dir = tempfile::tempdir().unwrap();
    let make = |tag: &str| {
        let plain = bomb_dir.path().join(format!("{tag}.zip"));
        let mut z = zip::ZipWriter::new(std::fs::File::create(&plain).unwrap());
        let opts = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(1));
        z.start_file("GOOD-1.json", opts).unwrap();
        z.write_all(simple(&format!("{tag}-1"), "good").as_bytes())
            .unwrap();
        z.start_file("BOMB-1.json", opts).unwrap();
        z.write_all(br#"{"id":"BOMB-1","details":""#).unwrap();
        let chunk = vec![b'A'; 1 << 20];
        for _ in 0..100 {
            z.write_all(&chunk).unwrap();
        }
        z.write_all(br#"","affected":[]}"#).unwrap();
        z.start_file("GOOD-2.json", opts).unwrap();
        z.write_all(simple(&format!("{tag}-2"), "good").as_bytes())
            .unwrap();
        z.finish().unwrap();
        std::fs::read(&plain).unwrap()
    };
    let honest = make("HONEST");
    assert!(
        honest.len() < 2 << 20,
        "the bomb should be small on disk: {}",
        honest.len()
    );
    write(&src.path().join("honest/all.zip"), &honest);
    // Forge the declared uncompressed size of BOMB-1.json (local header
    // offset 22, central directory offset 24) to 1 KiB.
    let mut forged = make("FORGED");
    let name = b"BOMB-1.json";
    let mut patched = 0;
    let mut i = 0;
    while i + 46 + name.len() <= forged.len() {
        let sig: [u8; 4] = forged[i..i + 4].try_into().unwrap();
        if sig == [0x50, 0x4b, 0x03, 0x04] && &forged[i + 30..i + 30 + name.len()] == name {
            forged[i + 22..i + 26].copy_from_slice(&1024u32.to_le_bytes());
            patched += 1;
        }
        if sig == [0x50, 0x4b, 0x01, 0x02] && &forged[i + 46..i + 46 + name.len()] == name {
            forged[i + 24..i + 28].copy_from_slice(&1024u32.to_le_bytes());
            patched += 1;
        }
        i += 1;
    }
    assert_eq!(patched, 2, "could not find both headers of the bomb entry");
    write(&src.path().join("forged/all.zip"), &forged);

    let started = Instant::now();
    let (db, report) = common::build_into_temp(src.path());
    let took = started.elapsed();
    eprintln!("zip bomb: build took {took:?}");
    for name in ["honest/all.zip", "forged/all.zip"] {
        let s = source(&report.sources, name);
        assert_eq!((s.advisories, s.rejected), (2, 1), "{s:#?}");
        let refused =
            reason_count(s, "advisory larger than") + reason_count(s, "corrupt zip entry");
        assert_eq!(refused, 1, "{s:#?}");
    }
    assert_eq!(
        reason_count(
            source(&report.sources, "honest/all.zip"),
            "advisory larger than"
        ),
        1
    );
    assert!(
        took < Duration::from_secs(10),
        "refusing the bomb took {took:?}"
    );
    check_report_consistency(db.path(), &report);
}

#[test]
fn duplicate_ids_keep_the_newest_modified() {
    let src = tempfile::tempdir().unwrap();
    let rec = |id: &str, modified: &str, fixed: &str| {
        format!(
            r#"{{"id":"{id}","modified":"{modified}","affected":[{{"package":{{"ecosystem":"PyPI","name":"dup-{id}"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{fixed}"}}]}}]}}]}}"#
        )
    };
    // Directories are read in name order: "a" before "b".
    // D-1: the newer copy comes second.
    write(
        &src.path().join("a/D-1.json"),
        rec("D-1", "2023-05-01T00:00:00Z", "1.0"),
    );
    write(
        &src.path().join("b/D-1.json"),
        rec("D-1", "2024-01-01T00:00:00Z", "2.0"),
    );
    // D-2: the newer copy comes first.
    write(
        &src.path().join("a/D-2.json"),
        rec("D-2", "2024-01-01T00:00:00Z", "2.0"),
    );
    write(
        &src.path().join("b/D-2.json"),
        rec("D-2", "2023-05-01T00:00:00Z", "1.0"),
    );
    // D-3: half a second later, written with a fraction.
    write(
        &src.path().join("a/D-3.json"),
        rec("D-3", "2024-01-01T00:00:00.500Z", "2.0"),
    );
    write(
        &src.path().join("b/D-3.json"),
        rec("D-3", "2024-01-01T00:00:00Z", "1.0"),
    );
    // D-4: 01:00+02:00 is 23:00Z the day before, older than 00:00Z.
    write(
        &src.path().join("a/D-4.json"),
        rec("D-4", "2024-01-01T00:00:00Z", "2.0"),
    );
    write(
        &src.path().join("b/D-4.json"),
        rec("D-4", "2024-01-01T01:00:00+02:00", "1.0"),
    );
    // D-5: the same id twice inside one zip, the newer one second.
    write_zip(
        &src.path().join("c/all.zip"),
        CompressionMethod::Deflated,
        &[
            (
                "D-5.json",
                rec("D-5", "2023-01-01T00:00:00Z", "1.0").as_bytes(),
            ),
            (
                "D-5-again.json",
                rec("D-5", "2023-06-01T00:00:00Z", "2.0").as_bytes(),
            ),
        ],
    );

    let (db, report) = common::build_into_temp(src.path());
    assert_eq!(report.advisories, 5, "{report:#?}");
    check_report_consistency(db.path(), &report);
    let v = VulnDb::open(db.path()).unwrap();
    for id in ["D-1", "D-2", "D-3", "D-4", "D-5"] {
        let out = match_packages(&v, &[pkg("PyPI", &format!("dup-{id}"), "0.5")], None).unwrap();
        let fixed: Vec<Option<&str>> = out
            .matches
            .iter()
            .map(|m| m.fixed_version.as_deref())
            .collect();
        assert_eq!(fixed, vec![Some("2.0")], "{id}: the newest copy should win");
    }
    // Every older copy is accounted for: kept-older copies are rejected as
    // duplicates, replaced ones are counted as superseded.
    let seen: u64 = report
        .sources
        .iter()
        .map(|s| s.advisories + s.rejected)
        .sum();
    assert_eq!(seen, 10);
    assert_eq!(
        report.advisories + report.superseded + report.rejected,
        10,
        "{report:#?}"
    );
}

#[test]
fn a_failed_build_keeps_the_previous_database() {
    let good = tempfile::tempdir().unwrap();
    write(&good.path().join("x/G-1.json"), simple("G-1", "kept"));
    write(&good.path().join("x/G-2.json"), simple("G-2", "kept"));
    let db = tempfile::tempdir().unwrap();
    let first = build(good.path(), db.path(), "first").unwrap();
    assert_eq!(first.advisories, 2);
    let before = VulnDb::open(db.path()).unwrap().status().unwrap();
    let before_bytes = std::fs::read(db.path().join(DB_FILE)).unwrap();

    let empty = tempfile::tempdir().unwrap();
    let err = build(empty.path(), db.path(), "second").unwrap_err();
    assert!(matches!(err, BuildError::Empty { .. }), "{err}");

    // Sources that exist but yield nothing (a corrupt zip, a record that
    // is rejected) must not replace a working database with an empty one.
    let junk = tempfile::tempdir().unwrap();
    write(
        &junk.path().join("osv/PyPI/all.zip"),
        b"PK\x03\x04 truncated",
    );
    write(
        &junk.path().join("x/bad.json"),
        br#"{"id":"B-1","affected":[{"package":{}}]}"#,
    );
    let err = build(junk.path(), db.path(), "third").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("no advisory could be imported"), "{msg}");

    let missing = empty.path().join("does-not-exist");
    assert!(matches!(
        build(&missing, db.path(), "fourth"),
        Err(BuildError::Io { .. })
    ));

    let after = VulnDb::open(db.path()).unwrap().status().unwrap();
    assert_eq!(after, before);
    assert_eq!(
        std::fs::read(db.path().join(DB_FILE)).unwrap(),
        before_bytes
    );
    assert_eq!(after.builder, "first");
    let leftovers: Vec<String> = std::fs::read_dir(db.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        leftovers,
        vec![DB_FILE.to_string()],
        "temporary files left behind"
    );
    // And the kept database still matches.
    let v = VulnDb::open(db.path()).unwrap();
    let out = match_packages(&v, &[pkg("PyPI", "kept", "0.1")], None).unwrap();
    assert_eq!(out.matches.len(), 2);
}

#[test]
fn loose_gzip_records_and_tracker_json_are_read() {
    let src = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(simple("GZ-1", "gzipped").as_bytes()).unwrap();
    write(&src.path().join("loose/GZ-1.json.gz"), gz.finish().unwrap());
    // The vendored tracker excerpt format, with a release entry of the wrong shape.
    write(
        &src.path().join("debian/tracker.json"),
        r#"{"pkg":{"CVE-2099-1":{"releases":{"bookworm":{"status":"open","urgency":"low"},"bullseye":{"status":5}}},
                   "CVE-2099-2":{"releases":[]}}}"#,
    );
    let (db, report) = common::build_into_temp(src.path());
    let loose = source(&report.sources, "loose/*.json");
    assert_eq!((loose.advisories, loose.rejected), (1, 0));
    let tracker = source(&report.sources, "debian/tracker.json");
    assert_eq!(
        (tracker.advisories, tracker.rejected),
        (1, 1),
        "{tracker:#?}"
    );
    assert_eq!(
        reason_count(tracker, "pkg CVE-2099-1 bullseye: malformed release entry"),
        1
    );
    check_report_consistency(db.path(), &report);
}
