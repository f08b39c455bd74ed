//! `update::download` against a local HTTP/1.1 server on 127.0.0.1 that
//! serves copies of the shared OSV exports, supports `Range` with
//! `ETag`/`If-Range`, and can cut a connection part-way. Nothing but
//! 127.0.0.1 is ever contacted.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};

use palisade_vulndb::update::{
    download, download_with_report, DownloadProgress, UpdateError, UpdateOptions,
};
use palisade_vulndb::{build, VulnDb};

// ---- the server ---------------------------------------------------------------

#[derive(Debug, Clone)]
struct Request {
    path: String,
    headers: HashMap<String, String>,
}

#[derive(Default)]
struct Behaviour {
    /// Path → bytes of the body to send before cutting the connection, for
    /// the next request of that path only.
    cut_after: HashMap<String, usize>,
    /// Answer range requests with 206 but the whole file (a broken server).
    ignore_range_start: bool,
}

struct Server {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Request>>>,
    behaviour: Arc<Mutex<Behaviour>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn etag_of(data: &[u8]) -> String {
    // FNV-1a: enough to tell versions of a file apart.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{h:016x}-{}\"", data.len())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Server {
    fn start(root: &Path) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(addr.ip().is_loopback());
        let log = Arc::new(Mutex::new(Vec::new()));
        let behaviour = Arc::new(Mutex::new(Behaviour::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (root2, log2, beh2, stop2) = (
            root.to_path_buf(),
            log.clone(),
            behaviour.clone(),
            stop.clone(),
        );
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (root, log, beh) = (root2.clone(), log2.clone(), beh2.clone());
                std::thread::spawn(move || {
                    let _ = handle(stream, &root, &log, &beh);
                });
            }
        });
        Server {
            addr,
            log,
            behaviour,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn requests(&self, path: &str) -> Vec<Request> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn handle(
    mut stream: TcpStream,
    root: &Path,
    log: &Mutex<Vec<Request>>,
    behaviour: &Mutex<Behaviour>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let path = percent_decode(target);
    log.lock().unwrap().push(Request {
        path: path.clone(),
        headers: headers.clone(),
    });
    let rel = path.trim_start_matches('/');
    let file = root.join(rel);
    let data = if method == "GET" && !rel.split('/').any(|c| c == "..") && file.is_file() {
        std::fs::read(&file).ok()
    } else {
        None
    };
    let Some(data) = data else {
        stream.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
        )?;
        return stream.shutdown(Shutdown::Both);
    };
    let etag = etag_of(&data);
    let len = data.len();
    let range_start = headers
        .get("range")
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok());
    let if_range_ok = headers.get("if-range").is_none_or(|t| *t == etag);
    let (cut, ignore_start) = {
        let mut b = behaviour.lock().unwrap();
        (b.cut_after.remove(&path), b.ignore_range_start)
    };
    let (head, body): (String, &[u8]) = match range_start {
        Some(n) if if_range_ok && n >= len => {
            let head = format!("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{len}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            (head, &[])
        }
        Some(n) if if_range_ok => {
            let n = if ignore_start { 0 } else { n };
            let body = &data[n..];
            let head = format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {n}-{}/{len}\r\nContent-Length: {}\r\nETag: {etag}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n",
                len - 1,
                body.len()
            );
            (head, body)
        }
        _ => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nContent-Type: application/zip\r\nETag: {etag}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n"
            );
            (head, &data[..])
        }
    };
    stream.write_all(head.as_bytes())?;
    match cut {
        Some(n) if n < body.len() => {
            stream.write_all(&body[..n])?;
            stream.flush()?;
            // Drain nothing; just drop the connection mid-body.
            return stream.shutdown(Shutdown::Both);
        }
        _ => stream.write_all(body)?,
    }
    stream.flush()?;
    // Let the client read everything before closing.
    let _ = stream.shutdown(Shutdown::Write);
    let mut sink = [0u8; 64];
    let _ = reader.get_mut().read(&mut sink);
    Ok(())
}

// ---- helpers -----------------------------------------------------------------

/// reqwest honours proxy variables; make sure a proxy never sees our
/// loopback requests (and no request leaves the machine).
fn loopback_only() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for var in [
            "http_proxy",
            "HTTP_PROXY",
            "https_proxy",
            "HTTPS_PROXY",
            "all_proxy",
            "ALL_PROXY",
        ] {
            std::env::remove_var(var);
        }
        std::env::set_var("NO_PROXY", "127.0.0.1");
        std::env::set_var("no_proxy", "127.0.0.1");
    });
}

#[derive(Default)]
struct Recorder {
    starts: Mutex<Vec<(String, Option<u64>, u64)>>,
    done: Mutex<Vec<String>>,
}

impl DownloadProgress for Recorder {
    fn start(&self, name: &str, total: Option<u64>, resumed_from: u64) {
        self.starts
            .lock()
            .unwrap()
            .push((name.to_string(), total, resumed_from));
    }
    fn done(&self, name: &str) {
        self.done.lock().unwrap().push(name.to_string());
    }
}

/// A server root holding copies of the shared PyPI and crates.io exports and
/// the tracker-format excerpt; `None` (after a note) when the data is absent.
fn served_root(test: &str) -> Option<(tempfile::TempDir, PathBuf)> {
    let shared = common::require_shared("osv/PyPI/all.zip", test)?;
    common::require_shared("osv/crates.io/all.zip", test)?;
    common::require_shared("debian/vunnel-fixtures/debian.json", test)?;
    let dir = tempfile::tempdir().unwrap();
    for eco in ["PyPI", "crates.io"] {
        std::fs::create_dir_all(dir.path().join(eco)).unwrap();
        std::fs::copy(
            shared.join("osv").join(eco).join("all.zip"),
            dir.path().join(eco).join("all.zip"),
        )
        .unwrap();
    }
    std::fs::create_dir_all(dir.path().join("tracker")).unwrap();
    std::fs::copy(
        shared.join("debian/vunnel-fixtures/debian.json"),
        dir.path().join("tracker/json"),
    )
    .unwrap();
    Some((dir, shared))
}

fn options(server: &Server, ecosystems: &[&str], tracker: bool) -> UpdateOptions {
    UpdateOptions {
        osv_base_url: server.url(),
        debian_tracker_url: tracker.then(|| format!("{}/tracker/json", server.url())),
        ecosystems: ecosystems.iter().map(|s| s.to_string()).collect(),
    }
}

fn entries_in_zip(path: &Path) -> u64 {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..z.len())
        .filter(|&i| z.by_index(i).unwrap().name().unwrap().ends_with(".json"))
        .count() as u64
}

fn no_partial_files(dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                assert!(!name.contains(".part"), "left behind: {}", p.display());
            }
        }
    }
}

// ---- tests -------------------------------------------------------------------

#[test]
fn full_download_then_build() {
    loopback_only();
    let Some((root, _)) = served_root("full_download_then_build") else {
        return;
    };
    let server = Server::start(root.path());
    let db = tempfile::tempdir().unwrap();
    let rec = Recorder::default();
    let sources = download(
        db.path(),
        &options(&server, &["PyPI", "crates.io"], true),
        &rec,
    )
    .unwrap();
    assert_eq!(sources, db.path().join("sources"));
    for eco in ["PyPI", "crates.io"] {
        let got = std::fs::read(sources.join("osv").join(eco).join("all.zip")).unwrap();
        let want = std::fs::read(root.path().join(eco).join("all.zip")).unwrap();
        assert!(got == want, "{eco}: downloaded copy differs");
        let reqs = server.requests(&format!("/{eco}/all.zip"));
        assert_eq!(reqs.len(), 1, "{eco}: {reqs:?}");
        assert!(!reqs[0].headers.contains_key("range"));
    }
    assert_eq!(
        std::fs::read(sources.join("debian/tracker.json")).unwrap(),
        std::fs::read(root.path().join("tracker/json")).unwrap()
    );
    assert_eq!(rec.done.lock().unwrap().len(), 3);
    assert!(rec
        .starts
        .lock()
        .unwrap()
        .iter()
        .all(|(_, total, from)| total.is_some() && *from == 0));
    no_partial_files(&sources);

    let report = build(&sources, db.path(), "update test").unwrap();
    let status = VulnDb::open(db.path()).unwrap().status().unwrap();
    assert_eq!(status.sources, report.sources);
    for eco in ["PyPI", "crates.io"] {
        let name = format!("osv/{eco}/all.zip");
        let s = report
            .sources
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name} not in {:#?}", report.sources));
        let entries = entries_in_zip(&root.path().join(eco).join("all.zip"));
        assert_eq!(s.advisories + s.rejected, entries, "{s:#?}");
        assert!(s.advisories * 10 > entries * 9, "{s:#?}");
    }
    let tracker = report
        .sources
        .iter()
        .find(|s| s.name == "debian/tracker.json")
        .unwrap();
    assert!(tracker.advisories > 0, "{tracker:#?}");
}

#[test]
fn an_interrupted_download_resumes_with_range() {
    loopback_only();
    let Some((root, _)) = served_root("an_interrupted_download_resumes_with_range") else {
        return;
    };
    let server = Server::start(root.path());
    let cut = 1 << 20;
    server
        .behaviour
        .lock()
        .unwrap()
        .cut_after
        .insert("/PyPI/all.zip".into(), cut);
    let db = tempfile::tempdir().unwrap();
    let rec = Recorder::default();
    let sources = download(db.path(), &options(&server, &["PyPI"], false), &rec).unwrap();
    let want = std::fs::read(root.path().join("PyPI/all.zip")).unwrap();
    let got = std::fs::read(sources.join("osv/PyPI/all.zip")).unwrap();
    assert_eq!(got.len(), want.len());
    assert!(got == want, "resumed download is not byte-identical");
    let reqs = server.requests("/PyPI/all.zip");
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert!(!reqs[0].headers.contains_key("range"));
    assert_eq!(
        reqs[1].headers.get("range").map(String::as_str),
        Some(format!("bytes={cut}-").as_str())
    );
    assert_eq!(reqs[1].headers.get("if-range"), Some(&etag_of(&want)));
    let starts = rec.starts.lock().unwrap().clone();
    assert_eq!(starts.len(), 2, "{starts:?}");
    assert_eq!(
        starts[1].2, cut as u64,
        "second attempt should resume at the cut"
    );
    assert_eq!(starts[1].1, Some(want.len() as u64));
    no_partial_files(&sources);
}

#[test]
fn a_206_for_the_wrong_offset_does_not_corrupt_the_file() {
    loopback_only();
    let Some((root, _)) = served_root("a_206_for_the_wrong_offset_does_not_corrupt_the_file")
    else {
        return;
    };
    let server = Server::start(root.path());
    {
        let mut b = server.behaviour.lock().unwrap();
        b.cut_after.insert("/crates.io/all.zip".into(), 300_000);
        b.ignore_range_start = true;
    }
    let db = tempfile::tempdir().unwrap();
    let report = download_with_report(
        db.path(),
        &options(&server, &["crates.io"], false),
        &Recorder::default(),
    );
    let want = std::fs::read(root.path().join("crates.io/all.zip")).unwrap();
    let dest = db.path().join("sources/osv/crates.io/all.zip");
    match report {
        Ok(r) => {
            let got = std::fs::read(&dest).unwrap();
            assert!(
                got == want,
                "a mis-ranged 206 was appended: {} bytes, want {}",
                got.len(),
                want.len()
            );
            assert_eq!(r.fetched, vec!["crates.io".to_string()]);
        }
        Err(e) => {
            // Refusing is acceptable too, as long as nothing bad was kept.
            assert!(!dest.exists(), "{e}");
        }
    }
}

#[test]
fn a_missing_ecosystem_is_a_warning_not_an_error() {
    loopback_only();
    let Some((root, _)) = served_root("a_missing_ecosystem_is_a_warning_not_an_error") else {
        return;
    };
    let server = Server::start(root.path());
    let db = tempfile::tempdir().unwrap();
    let report = download_with_report(
        db.path(),
        &options(&server, &["PyPI", "No Such Ecosystem", "crates.io"], false),
        &Recorder::default(),
    )
    .unwrap();
    assert_eq!(
        report.fetched,
        vec!["PyPI".to_string(), "crates.io".to_string()]
    );
    assert_eq!(report.failed.len(), 1, "{:?}", report.failed);
    let f = &report.failed[0];
    assert_eq!(f.name, "No Such Ecosystem");
    assert!(
        f.url.ends_with("/No%20Such%20Ecosystem/all.zip"),
        "{}",
        f.url
    );
    assert!(f.message.contains("404"), "{}", f.message);
    // Not retried: a 404 will not go away.
    assert_eq!(server.requests("/No Such Ecosystem/all.zip").len(), 1);
    assert!(report.sources.join("osv/PyPI/all.zip").is_file());
    assert!(report.sources.join("osv/crates.io/all.zip").is_file());
    assert!(!report
        .sources
        .join("osv/No Such Ecosystem/all.zip")
        .exists());

    // With nothing at all fetched and no earlier copy, it is an error.
    let fresh = tempfile::tempdir().unwrap();
    let err = download(
        fresh.path(),
        &options(&server, &["No Such Ecosystem"], false),
        &Recorder::default(),
    )
    .unwrap_err();
    assert!(matches!(err, UpdateError::NothingFetched(_)), "{err}");
    // ... and a second attempt says the same (no empty directory counts as a copy).
    let err = download(
        fresh.path(),
        &options(&server, &["No Such Ecosystem"], false),
        &Recorder::default(),
    )
    .unwrap_err();
    assert!(matches!(err, UpdateError::NothingFetched(_)), "{err}");
}

#[test]
fn a_corrupt_zip_is_rejected_and_the_previous_copy_kept() {
    loopback_only();
    let Some((root, _)) = served_root("a_corrupt_zip_is_rejected_and_the_previous_copy_kept")
    else {
        return;
    };
    let server = Server::start(root.path());
    let db = tempfile::tempdir().unwrap();
    let opts = options(&server, &["PyPI", "crates.io"], false);
    download(db.path(), &opts, &Recorder::default()).unwrap();
    let dest = db.path().join("sources/osv/PyPI/all.zip");
    let good = std::fs::read(&dest).unwrap();

    // Upstream now serves garbage for PyPI (same length, so only the zip
    // check can tell).
    std::fs::write(root.path().join("PyPI/all.zip"), vec![0x42u8; good.len()]).unwrap();
    let report = download_with_report(db.path(), &opts, &Recorder::default()).unwrap();
    assert_eq!(report.fetched, vec!["crates.io".to_string()]);
    assert_eq!(report.failed.len(), 1, "{:?}", report.failed);
    assert_eq!(report.failed[0].name, "PyPI");
    assert!(
        report.failed[0].message.contains("zip"),
        "{}",
        report.failed[0].message
    );
    assert!(
        std::fs::read(&dest).unwrap() == good,
        "the good copy was replaced"
    );
    no_partial_files(&db.path().join("sources"));

    // The kept copy still builds.
    let built = build(&report.sources, db.path(), "after a bad update").unwrap();
    assert!(built
        .sources
        .iter()
        .any(|s| s.name == "osv/PyPI/all.zip" && s.advisories > 2000));
}
