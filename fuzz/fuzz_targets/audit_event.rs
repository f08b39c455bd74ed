//! Kubernetes audit input: a webhook body or a log file of arbitrary bytes.
//! Decoding must never panic, must respect the limits, and every field must
//! extract without panicking on whatever was accepted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_audit::fields::ArgKind;
use palisade_audit::{decode_document, AuditField, AuditScan, Limits, FIELDS};

fn fields(e: &palisade_audit::AuditEvent, limits: &Limits) {
    assert!(e.json().len() <= limits.max_document_bytes);
    for info in FIELDS {
        let args: &[Option<&str>] = match info.arg {
            ArgKind::None => &[None],
            ArgKind::Index => &[None, Some("0"), Some("1")],
            ArgKind::Key => &[Some("command"), Some("/*")],
            ArgKind::Pointer => &[Some(""), Some("/requestObject/spec/containers/0"), Some("/stage"), Some("/a~1b/0")],
        };
        for arg in args {
            let f = AuditField::resolve(info.name, *arg).expect("catalog fields resolve");
            if let Some(v) = e.field(&f) {
                let _ = v.to_string();
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_event_bytes: 4096,
        max_document_bytes: 16 << 10,
        max_file_bytes: 64 << 10,
        max_warnings: 16,
    };
    // As a webhook body.
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(d) = decode_document(text, "fuzz", &limits) {
            for e in &d.events {
                fields(e, &limits);
            }
        }
    }
    // As a log file (plain or gzip, lines or one document).
    let scan = AuditScan::from_reader("fuzz", std::io::Cursor::new(data.to_vec())).with_limits(limits.clone());
    for e in scan.take(64).flatten() {
        assert!(e.json().len() <= limits.max_document_bytes);
        fields(&e, &limits);
    }
});
