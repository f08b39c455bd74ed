//! The webhook backend over real HTTPS on 127.0.0.1, with a self-signed
//! certificate made by the `openssl` CLI for each test.

#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use palisade_audit::server::{
    AuditServer, Batch, BatchHandler, ServerConfig, ServerError, TlsFiles,
};
use palisade_audit::AuditRules;
use palisade_rules::Scratch;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, RootCertStore};
use tokio_rustls::TlsConnector;

struct Tls {
    _dir: tempfile::TempDir,
    files: TlsFiles,
    connector: TlsConnector,
}

/// A fresh self-signed certificate for 127.0.0.1, or `None` (skip) when
/// the `openssl` CLI is missing outside CI.
fn self_signed() -> Option<Tls> {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    // An end-entity certificate (not a CA: webpki refuses those as server
    // certificates) for 127.0.0.1.
    let conf = dir.path().join("openssl.cnf");
    std::fs::write(
        &conf,
        "[req]\ndistinguished_name = dn\nx509_extensions = leaf\nprompt = no\n\
         [dn]\nCN = palisade-audit-test\n\
         [leaf]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\n\
         extendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1, DNS:localhost\n",
    )
    .unwrap();
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
        ])
        .arg("-config")
        .arg(&conf)
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!("openssl failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => {
            assert!(!common::under_ci(), "openssl CLI is needed: {e}");
            eprintln!("SKIPPED: no openssl CLI ({e})");
            return None;
        }
    }
    let mut roots = RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(&cert).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Some(Tls {
        _dir: dir,
        files: TlsFiles { cert, key },
        connector: TlsConnector::from(Arc::new(cfg)),
    })
}

struct Reply {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
}

/// One HTTP/1.1 request over TLS (`Connection: close`).
async fn request(tls: &Tls, addr: SocketAddr, head: &str, body: &[u8]) -> Reply {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut s = tls
        .connector
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
        .unwrap();
    let req = format!("{head}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    // The server may answer (413) before reading all of the body.
    let _ = s.write_all(body).await;
    let _ = s.flush().await;
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// Like [`post`], but a refused or broken connection is `None`.
async fn try_post(tls: &Tls, addr: SocketAddr, body: &[u8]) -> Option<u16> {
    let tcp = TcpStream::connect(addr).await.ok()?;
    let mut s = tls
        .connector
        .connect(ServerName::try_from("127.0.0.1").ok()?, tcp)
        .await
        .ok()?;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.ok()?;
    s.write_all(body).await.ok()?;
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw);
    text.lines().next()?.split_whitespace().nth(1)?.parse().ok()
}

async fn post(tls: &Tls, addr: SocketAddr, body: &[u8]) -> Reply {
    let head = format!(
        "POST /k8s-audit HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {}",
        body.len()
    );
    request(tls, addr, &head, body).await
}

fn event(id: usize) -> String {
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"ev-{id}","stage":"ResponseStarted","requestURI":"/api/v1/namespaces/shop/pods/web-{id}/exec?command=sh","verb":"create","user":{{"username":"alice@example.com","groups":["system:authenticated"]}},"sourceIPs":["203.0.113.7"],"objectRef":{{"resource":"pods","namespace":"shop","name":"web-{id}","subresource":"exec","apiVersion":"v1"}},"responseStatus":{{"metadata":{{}},"code":101}},"requestReceivedTimestamp":"2026-03-04T10:00:00.000001Z","stageTimestamp":"2026-03-04T10:00:00.000002Z","annotations":{{"authorization.k8s.io/decision":"allow"}}}}"#
    )
}

fn event_list(ids: std::ops::Range<usize>) -> String {
    let items: Vec<String> = ids.map(event).collect();
    format!(
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{{}},"items":[{}]}}"#,
        items.join(",")
    )
}

fn config(tls: &Tls) -> ServerConfig {
    let mut c = ServerConfig::new("127.0.0.1:0".parse().unwrap());
    c.tls = Some(tls.files.clone());
    c
}

/// Collects event ids; evaluates the built-in rules on each event.
#[derive(Default)]
struct Collect {
    ids: Vec<String>,
    alerts: usize,
    finished: bool,
    rules: Option<AuditRules>,
    scratch: Scratch,
    delay: Duration,
}

impl BatchHandler for Collect {
    fn handle(&mut self, batch: Batch) {
        std::thread::sleep(self.delay);
        for e in &batch.events {
            self.ids.push(e.audit_id().unwrap().to_owned());
            if let Some(r) = &self.rules {
                self.alerts += r.alerts(e, &mut self.scratch).len();
            }
        }
    }

    fn finish(&mut self) {
        self.finished = true;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_are_accepted_and_evaluated() {
    let Some(tls) = self_signed() else { return };
    let server = AuditServer::bind(config(&tls)).await.unwrap();
    assert!(server.is_tls());
    let addr = server.local_addr();
    let stats = server.stats();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handler = Collect {
        rules: Some(AuditRules::builtin().unwrap()),
        ..Collect::default()
    };
    let run = tokio::spawn(server.run(handler, async {
        let _ = stopped.await;
    }));

    let r = post(&tls, addr, event_list(0..10).as_bytes()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = post(&tls, addr, event(10).as_bytes()).await;
    assert_eq!(r.status, 200, "a single Event is accepted too: {}", r.body);
    // gzip-encoded body.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, event_list(11..15).as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let head = format!(
        "POST /k8s-audit HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: {}",
        gz.len()
    );
    assert_eq!(request(&tls, addr, &head, &gz).await.status, 200);
    // Health, metrics, wrong method.
    let r = request(&tls, addr, "GET /healthz HTTP/1.1", b"").await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));
    let r = request(&tls, addr, "GET /metrics HTTP/1.1", b"").await;
    assert!(
        r.body
            .contains("palisade_audit_webhook_events_accepted_total 15"),
        "{}",
        r.body
    );
    let r = request(
        &tls,
        addr,
        "PUT /k8s-audit HTTP/1.1\r\nContent-Length: 0",
        b"",
    )
    .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.headers.get("allow").map(String::as_str), Some("POST"));
    assert_eq!(stats.get().events_accepted, 15);

    stop.send(()).unwrap();
    let report = run.await.unwrap().unwrap();
    let h = report.handler;
    assert!(h.finished);
    let want: Vec<String> = (0..15).map(|i| format!("ev-{i}")).collect();
    assert_eq!(h.ids, want);
    assert_eq!(h.alerts, 15, "every exec event raises one alert");
    assert_eq!(report.stats.events_evaluated, 15);
    assert_eq!(report.stats.batches_accepted, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_bodies() {
    let Some(tls) = self_signed() else { return };
    let mut cfg = config(&tls);
    cfg.max_body_bytes = 64 << 10;
    let server = AuditServer::bind(cfg).await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(server.run(Collect::default(), async {
        let _ = stopped.await;
    }));

    for (body, why) in [
        (&b"not json"[..], "not JSON"),
        (
            b"{\"kind\":\"Pod\",\"apiVersion\":\"v1\"}",
            "not an audit event",
        ),
        (
            b"{\"kind\":\"EventList\",\"items\":[{\"kind\":\"Event\",\"verb\":5}]}",
            "no valid item",
        ),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"{\"kind\":\"EventList\",\"items\":[", "truncated"),
    ] {
        let r = post(&tls, addr, body).await;
        assert_eq!(r.status, 400, "{why}: {}", r.body);
    }
    // One bad item among good ones: accepted, counted.
    let mixed = format!(
        r#"{{"kind":"EventList","items":[{},{{"kind":"Event","verb":5}}]}}"#,
        event(1)
    );
    assert_eq!(post(&tls, addr, mixed.as_bytes()).await.status, 200);
    // Unsupported encodings.
    let r = request(
        &tls,
        addr,
        "POST /k8s-audit HTTP/1.1\r\nContent-Encoding: br\r\nContent-Length: 2",
        b"{}",
    )
    .await;
    assert_eq!(r.status, 415);
    // Over the limit: by Content-Length, and chunked without one.
    let big = event_list(0..200);
    assert!(big.len() > 64 << 10);
    assert_eq!(post(&tls, addr, big.as_bytes()).await.status, 413);
    let mut chunked = Vec::new();
    for part in big.as_bytes().chunks(8192) {
        chunked.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        chunked.extend_from_slice(part);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let r = request(
        &tls,
        addr,
        "POST /k8s-audit HTTP/1.1\r\nTransfer-Encoding: chunked",
        &chunked,
    )
    .await;
    assert_eq!(r.status, 413);
    // A gzip bomb: small on the wire, over the limit expanded.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut gz, &vec![b' '; 1 << 20]).unwrap();
    let gz = gz.finish().unwrap();
    let head = format!(
        "POST /k8s-audit HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: {}",
        gz.len()
    );
    assert_eq!(request(&tls, addr, &head, &gz).await.status, 413);
    // The server is still healthy.
    assert_eq!(post(&tls, addr, event(2).as_bytes()).await.status, 200);

    stop.send(()).unwrap();
    let report = run.await.unwrap().unwrap();
    assert_eq!(report.handler.ids, ["ev-1", "ev-2"]);
    assert_eq!(report.stats.rejected_malformed, 6);
    assert_eq!(report.stats.rejected_too_large, 3);
    assert_eq!(report.stats.decode_warnings, 1);
}

/// A handler that blocks until released.
struct Gate {
    open: Arc<(Mutex<bool>, std::sync::Condvar)>,
    seen: usize,
}

impl BatchHandler for Gate {
    fn handle(&mut self, batch: Batch) {
        let (lock, cv) = &*self.open;
        let mut open = lock.lock().unwrap();
        while !*open {
            open = cv.wait(open).unwrap();
        }
        self.seen += batch.events.len();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_answers_429_with_retry_after() {
    let Some(tls) = self_signed() else { return };
    let mut cfg = config(&tls);
    cfg.queue_bytes = 64 << 10;
    cfg.retry_after_secs = 3;
    let server = AuditServer::bind(cfg).await.unwrap();
    let addr = server.local_addr();
    let open = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(server.run(
        Gate {
            open: open.clone(),
            seen: 0,
        },
        async {
            let _ = stopped.await;
        },
    ));

    let body = event_list(0..5);
    let mut accepted = 0;
    let mut busy = None;
    for _ in 0..200 {
        let r = post(&tls, addr, body.as_bytes()).await;
        match r.status {
            200 => accepted += 1,
            429 => {
                busy = Some(r);
                break;
            }
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    let busy = busy.expect("the queue never filled");
    assert!(accepted >= 2, "{accepted}");
    assert_eq!(
        busy.headers.get("retry-after").map(String::as_str),
        Some("3")
    );
    // Still full while the handler is blocked: the API server is answered at once.
    let t = std::time::Instant::now();
    assert_eq!(post(&tls, addr, body.as_bytes()).await.status, 429);
    assert!(t.elapsed() < Duration::from_secs(2));

    // Release the handler: the queue drains and batches are accepted again.
    {
        let (lock, cv) = &*open;
        *lock.lock().unwrap() = true;
        cv.notify_all();
    }
    let mut ok = false;
    let mut busy_after = 0;
    for _ in 0..100 {
        match post(&tls, addr, body.as_bytes()).await.status {
            200 => {
                ok = true;
                break;
            }
            // The evaluator may not have freed the budget yet.
            429 => busy_after += 1,
            other => panic!("unexpected {other}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "never accepted again");
    stop.send(()).unwrap();
    let report = run.await.unwrap().unwrap();
    assert_eq!(report.stats.rejected_busy, 2 + busy_after);
    assert_eq!(report.handler.seen as u64, report.stats.events_accepted);
    assert_eq!(report.stats.events_accepted, (accepted + 1) * 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_loses_nothing() {
    let Some(tls) = self_signed() else { return };
    let server = AuditServer::bind(config(&tls)).await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handler = Collect {
        rules: Some(AuditRules::builtin().unwrap()),
        // A slow evaluator: a backlog is queued when the stop comes.
        delay: Duration::from_millis(15),
        ..Collect::default()
    };
    let run = tokio::spawn(server.run(handler, async {
        let _ = stopped.await;
    }));
    let tls = Arc::new(tls);
    let clients = 4;
    let batches = 10;
    let per_batch = 25;
    let mut tasks = Vec::new();
    for c in 0..clients {
        let tls = tls.clone();
        tasks.push(tokio::spawn(async move {
            for b in 0..batches {
                let first = (c * batches + b) * per_batch;
                let r = post(&tls, addr, event_list(first..first + per_batch).as_bytes()).await;
                assert_eq!(r.status, 200, "{}", r.body);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    stop.send(()).unwrap();
    let report = run.await.unwrap().unwrap();
    let n = clients * batches * per_batch;
    assert_eq!(report.stats.events_accepted, n as u64);
    assert_eq!(report.stats.events_evaluated, n as u64);
    let mut ids = report.handler.ids.clone();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n);
    assert_eq!(report.handler.alerts, n);
    assert!(report.handler.finished);
    // The port is closed once run returns.
    assert!(TcpStream::connect(addr).await.is_err());
}

/// Stop while clients are still posting: every event answered 200 is
/// evaluated, whatever happened to the requests cut off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_under_traffic_evaluates_every_acknowledged_event() {
    let Some(tls) = self_signed() else { return };
    let server = AuditServer::bind(config(&tls)).await.unwrap();
    let addr = server.local_addr();
    let stats = server.stats();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handler = Collect {
        delay: Duration::from_millis(5),
        ..Collect::default()
    };
    let run = tokio::spawn(server.run(handler, async {
        let _ = stopped.await;
    }));
    let tls = Arc::new(tls);
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    for c in 0..4usize {
        let (tls, acked) = (tls.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for b in 0..1000usize {
                let first = (c * 1000 + b) * 10;
                match try_post(&tls, addr, event_list(first..first + 10).as_bytes()).await {
                    Some(200) => acked
                        .lock()
                        .unwrap()
                        .extend((first..first + 10).map(|i| format!("ev-{i}"))),
                    Some(503 | 429) => {}
                    Some(other) => panic!("unexpected status {other}"),
                    None => break,
                }
            }
        }));
    }
    let t = std::time::Instant::now();
    while stats.get().batches_accepted < 20 {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "clients never got going"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.send(()).unwrap();
    let report = run.await.unwrap().unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let mut acked = acked.lock().unwrap().clone();
    acked.sort();
    let mut seen = report.handler.ids.clone();
    seen.sort();
    assert!(acked.len() >= 200, "{}", acked.len());
    assert_eq!(acked, seen, "acknowledged and evaluated events differ");
    assert_eq!(report.stats.events_evaluated, report.stats.events_accepted);
}

#[tokio::test]
async fn plain_http_only_on_loopback_and_tls_errors_name_the_file() {
    let cfg = ServerConfig::new("0.0.0.0:0".parse().unwrap());
    let err = AuditServer::bind(cfg).await.unwrap_err();
    assert!(
        matches!(err, ServerError::PlainHttpNotLoopback { .. }),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let mut cfg = ServerConfig::new("127.0.0.1:0".parse().unwrap());
    cfg.tls = Some(TlsFiles {
        cert: junk.clone(),
        key: junk.clone(),
    });
    let err = AuditServer::bind(cfg).await.unwrap_err();
    assert!(err.to_string().contains("junk.pem"), "{err}");
    let mut cfg = ServerConfig::new("127.0.0.1:0".parse().unwrap());
    cfg.tls = Some(TlsFiles {
        cert: Path::new("/nonexistent/cert.pem").to_owned(),
        key: junk,
    });
    let err = AuditServer::bind(cfg).await.unwrap_err();
    assert!(err.to_string().contains("/nonexistent/cert.pem"), "{err}");

    // Plain HTTP on loopback works.
    let server = AuditServer::bind(ServerConfig::new("127.0.0.1:0".parse().unwrap()))
        .await
        .unwrap();
    assert!(!server.is_tls());
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(server.run(Collect::default(), async {
        let _ = stopped.await;
    }));
    let mut s = TcpStream::connect(addr).await.unwrap();
    let body = event(7);
    s.write_all(
        format!(
            "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    stop.send(()).unwrap();
    assert_eq!(run.await.unwrap().unwrap().handler.ids, ["ev-7"]);
}
