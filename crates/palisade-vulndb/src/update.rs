//! `palisade db update`: fetch advisory sources from their public upstream
//! locations into `<db>/sources/`, resumably, then build from them.
//!
//! Each file is downloaded to `NAME.part` (resumed with an HTTP `Range`
//! request guarded by `If-Range` on the server's ETag), checked (length
//! against `Content-Length`, zip structure for OSV exports), and only then
//! renamed over the previous copy — an interrupted or bad download never
//! replaces good data.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the OSV project publishes its bulk exports.
pub const OSV_BASE_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";
/// The Debian security tracker's JSON export.
pub const DEBIAN_TRACKER_URL: &str = "https://security-tracker.debian.org/tracker/data/json";
/// Ecosystems fetched by default: every one Palisade catalogs.
pub const DEFAULT_ECOSYSTEMS: &[&str] = &[
    "Debian",
    "Ubuntu",
    "Alpine",
    "AlmaLinux",
    "Rocky Linux",
    "PyPI",
    "npm",
    "Go",
    "crates.io",
    "Maven",
    "RubyGems",
    "NuGet",
    "Packagist",
];

/// What to download.
#[derive(Debug, Clone)]
pub struct UpdateOptions {
    pub osv_base_url: String,
    pub debian_tracker_url: Option<String>,
    pub ecosystems: Vec<String>,
}

/// Observes downloads (the CLI draws progress; libraries never print).
pub trait DownloadProgress: Send + Sync {
    fn start(&self, _name: &str, _total: Option<u64>, _resumed_from: u64) {}
    fn advance(&self, _bytes: u64) {}
    fn done(&self, _name: &str) {}
}

/// Why an update failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{url}: download is not a valid {what}: {message}")]
    Verify {
        url: String,
        what: &'static str,
        message: String,
    },
    #[error("no source could be downloaded: {0}")]
    NothingFetched(String),
}

fn io_err(path: &Path) -> impl Fn(io::Error) -> UpdateError + '_ {
    move |source| UpdateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Percent-encode one URL path segment ("Rocky Linux" → "Rocky%20Linux").
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One source that could not be downloaded (any previous copy is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadFailure {
    /// The ecosystem, or `Debian tracker`.
    pub name: String,
    pub url: String,
    pub message: String,
}

/// What [`download_with_report`] did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DownloadReport {
    /// The directory to build from (`<db>/sources`).
    pub sources: PathBuf,
    /// Names of the sources downloaded now, in order.
    pub fetched: Vec<String>,
    /// Sources that failed; not fatal while something is usable.
    pub failed: Vec<DownloadFailure>,
}

/// Download every source; returns the directory to build from. Failures of
/// single sources are logged; [`download_with_report`] returns them.
pub fn download(
    db_dir: &Path,
    opts: &UpdateOptions,
    progress: &dyn DownloadProgress,
) -> Result<PathBuf, UpdateError> {
    download_with_report(db_dir, opts, progress).map(|r| r.sources)
}

/// Download every source, reporting which ones failed. Fails only when no
/// source is usable: none downloaded now and no earlier copy on disk.
pub fn download_with_report(
    db_dir: &Path,
    opts: &UpdateOptions,
    progress: &dyn DownloadProgress,
) -> Result<DownloadReport, UpdateError> {
    let sources = db_dir.join("sources");
    fs::create_dir_all(&sources).map_err(io_err(&sources))?;
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .timeout(None)
        .user_agent(concat!("palisade/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| UpdateError::Http {
            url: String::new(),
            message: e.to_string(),
        })?;
    let mut fetched = Vec::new();
    let mut failed = Vec::new();
    let mut usable = 0usize;
    let base = opts.osv_base_url.trim_end_matches('/');
    let mut jobs: Vec<(String, String, PathBuf, Kind)> = opts
        .ecosystems
        .iter()
        .map(|eco| {
            (
                eco.clone(),
                format!("{base}/{}/all.zip", encode_segment(eco)),
                sources.join("osv").join(eco).join("all.zip"),
                Kind::Zip,
            )
        })
        .collect();
    if let Some(url) = &opts.debian_tracker_url {
        jobs.push((
            "Debian tracker".to_string(),
            url.clone(),
            sources.join("debian").join("tracker.json"),
            Kind::Json,
        ));
    }
    for (name, url, dest, kind) in jobs {
        match fetch(&client, &url, &dest, kind, progress) {
            Ok(()) => {
                fetched.push(name);
                usable += 1;
            }
            Err(e) => {
                tracing::warn!(source = %name, error = %e, "download failed; keeping any previous copy");
                if dest.is_file() {
                    usable += 1;
                }
                failed.push(DownloadFailure {
                    name,
                    url,
                    message: e.to_string(),
                });
            }
        }
    }
    if usable == 0 {
        let all: Vec<String> = failed.iter().map(|f| f.message.clone()).collect();
        return Err(UpdateError::NothingFetched(all.join("; ")));
    }
    Ok(DownloadReport {
        sources,
        fetched,
        failed,
    })
}

#[derive(Clone, Copy)]
enum Kind {
    Zip,
    Json,
}

fn fetch(
    client: &reqwest::blocking::Client,
    url: &str,
    dest: &Path,
    kind: Kind,
    progress: &dyn DownloadProgress,
) -> Result<(), UpdateError> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let part = dest.with_extension("part");
    let etag_file = dest.with_extension("part.etag");
    let mut last_err = None;
    for attempt in 0..4u32 {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(500 << attempt));
        }
        match fetch_once(client, url, &part, &etag_file, progress) {
            Ok(()) => {
                if let Err(e) = verify(url, &part, kind) {
                    // `verify` removed the bad download; its ETag goes too.
                    let _ = fs::remove_file(&etag_file);
                    return Err(e);
                }
                fs::rename(&part, dest).map_err(io_err(dest))?;
                let _ = fs::remove_file(&etag_file);
                progress.done(url);
                return Ok(());
            }
            Err((e, retry)) => {
                if !retry {
                    return Err(e);
                }
                tracing::warn!(%url, attempt = attempt + 1, error = %e, "download interrupted; resuming");
                last_err = Some(e);
            }
        }
    }
    Err(last_err.unwrap_or_else(|| UpdateError::Http {
        url: url.to_string(),
        message: "failed".into(),
    }))
}

/// One attempt; on error says whether retrying (resuming) may help.
fn fetch_once(
    client: &reqwest::blocking::Client,
    url: &str,
    part: &Path,
    etag_file: &Path,
    progress: &dyn DownloadProgress,
) -> Result<(), (UpdateError, bool)> {
    let have = fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    let etag = fs::read_to_string(etag_file).ok();
    let mut req = client.get(url);
    if have > 0 {
        if let Some(tag) = &etag {
            req = req
                .header("Range", format!("bytes={have}-"))
                .header("If-Range", tag.trim());
        }
    }
    let http = |message: String, retry: bool| {
        (
            UpdateError::Http {
                url: url.to_string(),
                message,
            },
            retry,
        )
    };
    let mut resp = req.send().map_err(|e| http(e.to_string(), true))?;
    let status = resp.status();
    let (mut file, start) = match status.as_u16() {
        206 => {
            // Append only what continues our partial file exactly.
            let range = resp
                .headers()
                .get("content-range")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let starts_at = range.as_deref().and_then(content_range_start);
            if have == 0 || starts_at != Some(have) {
                let _ = fs::remove_file(part);
                let _ = fs::remove_file(etag_file);
                return Err(http(
                    format!("asked for bytes {have}- but got Content-Range {range:?}; restarting"),
                    true,
                ));
            }
            let f = OpenOptions::new()
                .append(true)
                .open(part)
                .map_err(|e| (io_err(part)(e), false))?;
            (f, have)
        }
        200 => {
            let f = File::create(part).map_err(|e| (io_err(part)(e), false))?;
            (f, 0)
        }
        416 => {
            // Our partial file is not a prefix the server recognises: restart.
            let _ = fs::remove_file(part);
            let _ = fs::remove_file(etag_file);
            return Err(http("range not satisfiable; restarting".into(), true));
        }
        s if s == 429 || s >= 500 => return Err(http(format!("HTTP {status}"), true)),
        _ => return Err(http(format!("HTTP {status}"), false)),
    };
    if let Some(tag) = resp.headers().get("etag").and_then(|v| v.to_str().ok()) {
        let _ = fs::write(etag_file, tag);
    }
    let remaining = resp.content_length();
    progress.start(url, remaining.map(|r| r + start), start);
    let mut buf = vec![0u8; 256 * 1024];
    let mut got = 0u64;
    loop {
        let n = match resp.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                let _ = file.flush();
                return Err(http(
                    format!("connection lost after {} bytes: {e}", start + got),
                    true,
                ));
            }
        };
        file.write_all(buf.get(..n).unwrap_or(&[]))
            .map_err(|e| (io_err(part)(e), false))?;
        got += n as u64;
        progress.advance(n as u64);
    }
    file.sync_all().map_err(|e| (io_err(part)(e), false))?;
    if let Some(len) = remaining {
        if got != len {
            return Err(http(format!("got {got} of {len} bytes"), true));
        }
    }
    Ok(())
}

/// The first byte position of a `Content-Range: bytes A-B/N` value.
fn content_range_start(v: &str) -> Option<u64> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (first, _) = rest.split_once('-')?;
    first.trim().parse().ok()
}

fn verify(url: &str, part: &Path, kind: Kind) -> Result<(), UpdateError> {
    let bad = |what: &'static str, message: String| {
        let _ = fs::remove_file(part);
        UpdateError::Verify {
            url: url.to_string(),
            what,
            message,
        }
    };
    match kind {
        Kind::Zip => {
            let f = File::open(part).map_err(io_err(part))?;
            let zip = zip::ZipArchive::new(f).map_err(|e| bad("zip archive", e.to_string()))?;
            if zip.is_empty() {
                return Err(bad("zip archive", "no entries".into()));
            }
        }
        Kind::Json => {
            let mut f = File::open(part).map_err(io_err(part))?;
            let mut head = [0u8; 1];
            f.read_exact(&mut head)
                .map_err(|e| bad("JSON document", e.to_string()))?;
            if !matches!(head, [b'{'] | [b'[']) {
                return Err(bad("JSON document", "does not start with { or [".into()));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_starts() {
        assert_eq!(content_range_start("bytes 100-199/200"), Some(100));
        assert_eq!(content_range_start("bytes 0-0/1"), Some(0));
        assert_eq!(content_range_start("bytes */200"), None);
        assert_eq!(content_range_start("items 1-2/3"), None);
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(encode_segment("Rocky Linux"), "Rocky%20Linux");
        assert_eq!(encode_segment("crates.io"), "crates.io");
        assert_eq!(encode_segment("Debian:11"), "Debian%3A11");
    }
}
