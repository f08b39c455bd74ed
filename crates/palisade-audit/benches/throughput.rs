//! Throughput of decoding and rule evaluation on Falco's k8s audit test
//! events, replicated into a JSON-lines file. A bench binary (no harness,
//! nothing added to `cargo test`):
//!
//! ```text
//! cargo bench -p palisade-audit --bench throughput
//! ```
//!
//! `PALISADE_AUDIT_BENCH_EVENTS` sets the number of events (default 300,000).

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::{BufWriter, Write};
use std::time::Instant;

use palisade_audit::{scan_files, AuditRules};
use palisade_rules::Scratch;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    decode_and_evaluate_rate();
}

fn decode_and_evaluate_rate() {
    let Some(dir) = common::require_shared(
        "k8saudit/falco-tests/test/trace_files/k8s_audit",
        "throughput",
    ) else {
        return;
    };
    let Some(plugin_rules) = common::require_shared(
        "k8saudit/plugins/k8saudit/rules/k8s_audit_rules.yaml",
        "throughput",
    ) else {
        return;
    };
    let n: usize = std::env::var("PALISADE_AUDIT_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000);
    // The sample events (every valid line of every trace file).
    let mut lines = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in &files {
        for l in std::fs::read_to_string(f).unwrap().lines() {
            if l.contains("\"auditID\"") {
                lines.push(l.to_owned());
            }
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bench.log");
    let mut w = BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut bytes = 0usize;
    for i in 0..n {
        let l = &lines[i % lines.len()];
        bytes += l.len() + 1;
        w.write_all(l.as_bytes()).unwrap();
        w.write_all(b"\n").unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let mb = bytes as f64 / 1e6;
    eprintln!(
        "{n} events from {} samples, {mb:.1} MB, mean {:.0} bytes/event",
        lines.len(),
        bytes as f64 / n as f64
    );
    let rss_before = peak_rss_kib();

    let report = |what: &str, t: Instant, count: usize| {
        let s = t.elapsed().as_secs_f64();
        eprintln!(
            "{what:<52} {:>9.0} events/s {:>6.0} MB/s  ({count} in {s:.2} s)",
            n as f64 / s,
            mb / s
        );
    };

    let t = Instant::now();
    let decoded = scan_files([&path]).map(Result::unwrap).count();
    report("palisade-audit decode (scan_files)", t, decoded);
    assert_eq!(decoded, n);

    // `PALISADE_AUDIT_BENCH_RULES=default|plugin` runs one rule set only (profiling).
    let only = std::env::var("PALISADE_AUDIT_BENCH_RULES").unwrap_or_default();
    for (name, rules) in [
        (
            "decode + Palisade default rules (all matches)",
            AuditRules::builtin().unwrap(),
        ),
        (
            "decode + k8saudit plugin rules (all matches)",
            AuditRules::from_files(&[&plugin_rules]).unwrap(),
        ),
    ] {
        if !only.is_empty() && !name.contains(only.as_str()) {
            continue;
        }
        let mut scratch = Scratch::new();
        let t = Instant::now();
        let mut matches = 0usize;
        for e in scan_files([&path]) {
            matches += rules.count_matches(&e.unwrap(), &mut scratch);
        }
        report(
            &format!("{name}, {} rules", rules.rule_set().rules().len()),
            t,
            matches,
        );
    }
    eprintln!(
        "peak RSS: {} MiB (before decoding: {} MiB)",
        peak_rss_kib() / 1024,
        rss_before / 1024
    );
    if !only.is_empty() {
        return;
    }
    // Baseline: parse each line into serde_json::Value.
    let t = Instant::now();
    let mut k = 0usize;
    for l in std::io::BufRead::lines(std::io::BufReader::new(std::fs::File::open(&path).unwrap())) {
        let v: serde_json::Value = serde_json::from_str(&l.unwrap()).unwrap();
        k += usize::from(v.get("verb").is_some());
    }
    report("serde_json::Value per line (baseline)", t, k);
}
