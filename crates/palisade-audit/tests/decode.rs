//! Reading audit logs: JSON lines, EventList documents, gzip, and what
//! happens to broken, oversized and hostile input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;
use palisade_audit::{decode_document, scan_files, AuditScan, Limits, ScanError, WarningKind};

fn event(id: &str, verb: &str) -> String {
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"{id}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"{verb}","user":{{"username":"alice","groups":["system:authenticated"]}},"sourceIPs":["10.0.0.1"],"objectRef":{{"resource":"pods","namespace":"default","apiVersion":"v1"}},"responseStatus":{{"metadata":{{}},"code":200}},"requestReceivedTimestamp":"2026-01-02T03:04:05.000001Z","stageTimestamp":"2026-01-02T03:04:05.000002Z"}}"#
    )
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn ids(scan: AuditScan) -> (Vec<String>, AuditScan) {
    let mut scan = scan;
    let mut out = Vec::new();
    for e in scan.by_ref() {
        out.push(e.unwrap().audit_id().unwrap().to_owned());
    }
    (out, scan)
}

#[test]
fn json_lines_with_blank_lines_crlf_and_event_lists() {
    let dir = tempfile::tempdir().unwrap();
    let list = format!(
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{},{}]}}"#,
        event("c", "get"),
        event("d", "get")
    );
    let text = format!(
        "{}\n\n{}\r\n{}\n   \n{}",
        event("a", "get"),
        event("b", "list"),
        list,
        event("e", "watch")
    );
    let p = write(dir.path(), "audit.log", text.as_bytes());
    let mut scan = scan_files([&p]);
    let events: Vec<_> = scan.by_ref().map(Result::unwrap).collect();
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.audit_id().unwrap(), e.origin().unwrap().line.unwrap()))
        .collect();
    assert_eq!(got, [("a", 1), ("b", 3), ("c", 4), ("d", 4), ("e", 6)]);
    assert_eq!(events[1].verb(), Some("list"));
    assert!(scan.warnings().is_empty());
    let stats = scan.stats();
    assert_eq!((stats.files, stats.events, stats.lines), (1, 5, 6));
    assert_eq!(stats.bytes, text.len() as u64);
    assert_eq!(&*events[0].origin().unwrap().input, p.display().to_string());
}

#[test]
fn malformed_lines_are_warnings_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = Vec::new();
    for line in [
        event("a", "get").as_str(),
        "{not json",
        r#"{"kind": 0}"#,
        r#"{"kind":"Pod","apiVersion":"v1"}"#,
        r#"{"kind":"Event","verb":7}"#,
        "[1, 2]",
    ] {
        text.extend_from_slice(line.as_bytes());
        text.push(b'\n');
    }
    text.extend_from_slice(b"{\"kind\":\"Event\",\"auditID\":\"\xff\"}\n");
    text.extend_from_slice(event("b", "get").as_bytes());
    let p = write(dir.path(), "broken.log", &text);
    let (got, scan) = ids(scan_files([&p]));
    assert_eq!(got, ["a", "b"]);
    let w = scan.warnings();
    // The array's two items are skipped one by one.
    assert_eq!(w.total(), 7);
    let lines: Vec<_> = w.kept().iter().map(|w| (w.line, w.item)).collect();
    assert_eq!(
        lines,
        [
            (Some(2), None),
            (Some(3), None),
            (Some(4), None),
            (Some(5), None),
            (Some(6), Some(0)),
            (Some(6), Some(1)),
            (Some(7), None)
        ]
    );
    let shown: Vec<String> = w.kept().iter().map(ToString::to_string).collect();
    assert!(
        shown[0].starts_with(&format!("{}:2: malformed audit event", p.display())),
        "{}",
        shown[0]
    );
    assert!(
        shown[1].contains("data not recognized as a k8s audit event"),
        "{}",
        shown[1]
    );
    assert!(
        matches!(w.kept()[2].kind, WarningKind::NotAuditEvent { kind: Some(ref k) } if k == "Pod")
    );
    assert!(matches!(w.kept()[6].kind, WarningKind::InvalidUtf8));
}

#[test]
fn pretty_printed_event_list_document() {
    let dir = tempfile::tempdir().unwrap();
    let doc = serde_json::json!({
        "kind": "EventList", "apiVersion": "audit.k8s.io/v1", "metadata": {},
        "items": [
            serde_json::from_str::<serde_json::Value>(&event("a", "get")).unwrap(),
            {"kind": "Event", "auditID": "broken", "verb": ["not", "a", "string"]},
            serde_json::from_str::<serde_json::Value>(&event("b", "delete")).unwrap(),
        ]
    });
    let text = serde_json::to_string_pretty(&doc).unwrap();
    let p = write(dir.path(), "list.json", text.as_bytes());
    let mut scan = scan_files([&p]);
    let events: Vec<_> = scan.by_ref().map(Result::unwrap).collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].verb(), Some("delete"));
    // Items start on the line of their opening brace.
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() as u64;
    let first_item_line = line_of("\"items\"") + 2;
    assert_eq!(events[0].origin().unwrap().line, Some(first_item_line));
    assert_eq!(scan.warnings().total(), 1);
    assert_eq!(scan.warnings().kept()[0].item, Some(1));
    // A pointer into a pretty-printed event comes back compact.
    assert_eq!(
        events[0].pointer("/user").as_deref(),
        Some(r#"{"groups":["system:authenticated"],"username":"alice"}"#)
    );
}

#[test]
fn gzip_files_including_concatenated_members() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    for chunk in [
        format!("{}\n{}\n", event("a", "get"), event("b", "get")),
        format!("{}\n", event("c", "get")),
    ] {
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(chunk.as_bytes()).unwrap();
        bytes.extend(gz.finish().unwrap());
    }
    let p = write(dir.path(), "audit.log.gz", &bytes);
    let (got, scan) = ids(scan_files([&p]));
    assert_eq!(got, ["a", "b", "c"]);
    assert!(scan.warnings().is_empty());

    // A corrupt gzip stream is a read error naming the file, after the
    // events before the damage.
    let mut bad = bytes.clone();
    let n = bad.len();
    bad.truncate(n - 12);
    bad.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    let p = write(dir.path(), "bad.log.gz", &bad);
    let results: Vec<_> = scan_files([&p]).collect();
    let err = results
        .iter()
        .find_map(|r| r.as_ref().err())
        .expect("an error");
    assert!(matches!(err, ScanError::Read { .. }), "{err}");
    assert!(err.to_string().contains("bad.log.gz"), "{err}");
}

#[test]
fn oversized_events_are_skipped_with_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let big = event("big", "get").replace("alice", &"x".repeat(5000));
    let list = format!(
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{},{}]}}"#,
        event("in-list", "get"),
        big
    );
    let huge_line = "y".repeat(50_000);
    let text = format!(
        "{}\n{big}\n{list}\n{huge_line}\n{}\n",
        event("a", "get"),
        event("z", "get")
    );
    let p = write(dir.path(), "big.log", text.as_bytes());
    let limits = Limits {
        max_event_bytes: 2000,
        max_document_bytes: 20_000,
        ..Limits::default()
    };
    let (got, scan) = ids(scan_files([&p]).with_limits(limits));
    assert_eq!(got, ["a", "in-list", "z"]);
    let kinds: Vec<_> = scan
        .warnings()
        .kept()
        .iter()
        .map(|w| (w.line, w.item, w.kind.clone()))
        .collect();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    assert!(
        matches!(
            kinds[0],
            (Some(2), None, WarningKind::Oversized { limit: 2000, .. })
        ),
        "{kinds:?}"
    );
    assert!(
        matches!(
            kinds[1],
            (Some(3), Some(1), WarningKind::Oversized { limit: 2000, .. })
        ),
        "{kinds:?}"
    );
    assert!(
        matches!(
            kinds[2],
            (
                Some(4),
                None,
                WarningKind::Oversized {
                    bytes: 50_000,
                    limit: 20_000
                }
            )
        ),
        "{kinds:?}"
    );
}

#[test]
fn file_size_limit_stops_the_file_not_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..100 {
        text.push_str(&event(&format!("e{i}"), "get"));
        text.push('\n');
    }
    // A gzip bomb in miniature: small compressed, large expanded.
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(text.as_bytes()).unwrap();
    let big = write(dir.path(), "big.log.gz", &gz.finish().unwrap());
    let small = write(
        dir.path(),
        "small.log",
        format!("{}\n", event("last", "get")).as_bytes(),
    );
    let missing = dir.path().join("missing.log");
    let limits = Limits {
        max_file_bytes: 5_000,
        ..Limits::default()
    };
    let results: Vec<_> = scan_files([&big, &missing, &small])
        .with_limits(limits)
        .collect();
    let oks = results.iter().filter(|r| r.is_ok()).count();
    // About ten events fit in 5,000 bytes; they are delivered before the error.
    assert!((5..=12).contains(&oks), "{oks}");
    let errs: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(errs.len(), 2);
    assert!(
        matches!(errs[0], ScanError::TooLarge { limit: 5000, .. }),
        "{}",
        errs[0]
    );
    assert!(matches!(errs[1], ScanError::Open { .. }), "{}", errs[1]);
    assert!(errs[1].to_string().contains("missing.log"));
    assert_eq!(
        results.last().unwrap().as_ref().unwrap().audit_id(),
        Some("last")
    );
}

#[test]
fn truncated_first_line_falls_back_to_lines() {
    let dir = tempfile::tempdir().unwrap();
    let first = event("cut", "get");
    let text = format!(
        "{}\n{}\n{}\n",
        &first[..first.len() / 2],
        event("a", "get"),
        event("b", "get")
    );
    let p = write(dir.path(), "rotated.log", text.as_bytes());
    let (got, scan) = ids(scan_files([&p]));
    assert_eq!(got, ["a", "b"]);
    assert_eq!(scan.warnings().total(), 1);
    assert_eq!(scan.warnings().kept()[0].line, Some(1));
}

#[test]
fn single_document_that_is_not_audit_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "pod.json",
        b"{\n  \"kind\": \"Pod\",\n  \"apiVersion\": \"v1\"\n}\n",
    );
    let results: Vec<_> = scan_files([&p]).collect();
    assert_eq!(results.len(), 1);
    let err = results[0].as_ref().unwrap_err();
    assert!(matches!(err, ScanError::Document { line: 1, .. }), "{err}");
    assert!(err.to_string().contains("pod.json:1"), "{err}");
}

#[test]
fn reader_source_and_decode_document() {
    let text = format!("{}\n{}\n", event("a", "get"), event("b", "get"));
    let (got, _) = ids(AuditScan::from_reader(
        "<test>",
        std::io::Cursor::new(text.into_bytes()),
    ));
    assert_eq!(got, ["a", "b"]);

    let list = format!(
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{},{{"kind":"Event","verb":1}}]}}"#,
        event("x", "get")
    );
    let d = decode_document(&list, "webhook 10.0.0.1:5555", &Limits::default()).unwrap();
    assert_eq!(d.events.len(), 1);
    assert_eq!(d.warnings.len(), 1);
    assert!(
        d.warnings[0]
            .to_string()
            .starts_with("webhook 10.0.0.1:5555: item 1: malformed"),
        "{}",
        d.warnings[0]
    );
    let err = decode_document("{\"kind\":\"Event\"", "body", &Limits::default()).unwrap_err();
    assert!(
        err.to_string().starts_with("body: malformed audit JSON"),
        "{err}"
    );
    let err = decode_document(
        &list,
        "body",
        &Limits {
            max_document_bytes: 10,
            ..Limits::default()
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("exceeds the limit of 10 bytes"),
        "{err}"
    );
}

#[test]
fn every_falco_trace_file_decodes() {
    let Some(dir) = common::require_shared(
        "k8saudit/falco-tests/test/trace_files/k8s_audit",
        "every_falco_trace_file_decodes",
    ) else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 47);
    for f in &files {
        let mut scan = scan_files([f]);
        let n = scan.by_ref().map(Result::unwrap).count();
        if f.ends_with("fal_01_003.json") {
            assert_eq!(n, 0);
            let w = scan.warnings().kept()[0].to_string();
            assert!(
                w.contains("data not recognized as a k8s audit event"),
                "{w}"
            );
        } else {
            assert!(n >= 1, "{}", f.display());
            assert!(
                scan.warnings().is_empty(),
                "{}: {:?}",
                f.display(),
                scan.warnings().kept()
            );
        }
    }
    let all: Vec<_> = scan_files(&files).filter_map(Result::ok).collect();
    assert_eq!(all.len(), 46 + 5);
}

#[test]
fn hostile_documents_do_not_panic() {
    let deep = "[".repeat(100_000);
    let cases = [
        "",
        "{",
        "\"\\",
        &deep,
        r#"{"kind":"EventList","items":[{"kind":"Event","requestObject":{"spec":{"containers":[{"securityContext":{"capabilities":{"add":1}}}]}}}]}"#,
        r#"{"kind":"EventList","items":null}"#,
        r#"{"kind":"EventList","items":[null, 1, "x", []]}"#,
        r#"{"kind":"Event","requestObject":[],"responseStatus":{"code":"x"}}"#,
    ];
    for c in cases {
        if let Ok(d) = decode_document(c, "t", &Limits::default()) {
            for e in &d.events {
                for info in palisade_audit::FIELDS {
                    let arg = match info.arg {
                        palisade_audit::fields::ArgKind::Key => Some("k"),
                        palisade_audit::fields::ArgKind::Pointer => {
                            Some("/requestObject/spec/containers/0")
                        }
                        _ => None,
                    };
                    let _ = e.field(&palisade_audit::AuditField::resolve(info.name, arg).unwrap());
                }
            }
        }
    }
}
