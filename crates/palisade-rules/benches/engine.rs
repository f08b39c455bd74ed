//! Engine overhead with the upstream k8s audit rules (field extraction is a
//! JSON map lookup here, so this measures the engine, not audit decoding —
//! see palisade-audit's throughput bench for that). A bench binary:
//!
//! ```text
//! cargo bench -p palisade-rules --bench engine
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::{compile, JsonCatalog};
use palisade_rules::Scratch;

fn main() {
    let path = std::env::var_os("PALISADE_SHARED_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
        })
        .join("k8saudit/plugins/k8saudit/rules/k8s_audit_rules.yaml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return;
    };
    let mut cat = JsonCatalog::open("k8s_audit");
    let (set, report) = compile(&[&text], &mut cat).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.enabled, 48);
    let events = [
        r#"{"ka.verb":"create","ka.target.resource":"pods","ka.user.name":"alice","ka.target.namespace":"default",
            "jevt.value[/stage]":"ResponseComplete","ka.response.code":"201","ka.req.pod.containers.image":["nginx:1"],
            "ka.req.pod.containers.privileged":["false"],"ka.req.pod.containers.image.repository":["nginx"],
            "ka.auth.decision":"allow","ka.uri":"/api/v1/namespaces/default/pods","ka.target.name":"web"}"#,
        r#"{"ka.verb":"get","ka.target.resource":"configmaps","ka.user.name":"system:kube-controller-manager",
            "jevt.value[/stage]":"ResponseComplete","ka.response.code":"200","ka.uri":"/api/v1/configmaps",
            "ka.auth.decision":"allow"}"#,
    ];
    let events: Vec<_> = events.iter().map(|e| cat.event(e)).collect();
    let mut scratch = Scratch::new();
    let n = 400_000usize;
    let start = std::time::Instant::now();
    let mut hits = 0usize;
    for i in 0..n {
        let ev = &events[i % events.len()];
        hits += set.evaluate_with("k8s_audit", ev, &mut scratch).count();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{n} events in {secs:.3}s: {:.0} events/s ({hits} matches)",
        n as f64 / secs
    );
}
