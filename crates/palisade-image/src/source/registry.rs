//! Images in an OCI distribution registry, through `oci-client`.
//!
//! `oci-client` does the protocol: the anonymous, basic and bearer-token
//! (`WWW-Authenticate: Bearer realm=…`) flows, TLS, and digest checks on
//! manifests pulled by digest and on blob streams. This module adds what it
//! leaves to callers: credentials from flags or `~/.docker/config.json`,
//! retries with backoff on 429/5xx and dropped connections, `--insecure`
//! (unverified TLS, falling back to plain HTTP), platform selection with a
//! useful error, and a blocking `Read` over each blob stream so layers are
//! walked by the same synchronous code as every other source.

use std::future::Future;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use futures_util::TryStreamExt;
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use serde::Deserialize;
use tokio_util::io::{StreamReader, SyncIoBridge};

use super::manifest::{self, parse_digest, select_platform, Document};
use super::{ImageInfo, LayerSource, Platform, SourceError};
use crate::limits::Limits;

const MAX_INDEX_DEPTH: usize = 4;

/// How to reach and authenticate to a registry.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Accept unverified TLS, and fall back to plain HTTP.
    pub insecure: bool,
    /// Extra CA certificate (PEM) to trust, e.g. a private registry's.
    pub ca_file: Option<PathBuf>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Docker client config to read `auths` from; `None` means
    /// `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`.
    pub docker_config: Option<PathBuf>,
    /// Extra attempts after a transient failure (429, 5xx, dropped
    /// connection). Default when 0: 3.
    pub retries: u32,
}

/// An image in a registry, resolved to one platform manifest.
pub struct RegistrySource {
    rt: tokio::runtime::Runtime,
    client: Client,
    reference: Reference,
    info: ImageInfo,
    retries: u32,
}

impl std::fmt::Debug for RegistrySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrySource")
            .field("info", &self.info)
            .finish()
    }
}

#[derive(Debug, Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: std::collections::HashMap<String, DockerAuth>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DockerAuth {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    dirs::home_dir().map(|h| h.join(".docker").join("config.json"))
}

/// Credentials for `registry` from a Docker client config's `auths`.
/// Credential helpers (`credsStore`, `credHelpers`) are not run.
pub(crate) fn credentials_from_docker_config(
    path: &Path,
    registry: &str,
) -> Option<(String, String)> {
    let bytes = std::fs::read(path).ok()?;
    let cfg: DockerConfig = match serde_json::from_slice(&bytes) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable Docker config");
            return None;
        }
    };
    let mut keys = vec![
        registry.to_string(),
        format!("https://{registry}"),
        format!("http://{registry}"),
        format!("https://{registry}/v1/"),
        format!("https://{registry}/v2/"),
    ];
    if registry == "docker.io" || registry == "index.docker.io" {
        keys.push("https://index.docker.io/v1/".into());
        keys.push("index.docker.io".into());
        keys.push("docker.io".into());
    }
    let entry = keys.iter().find_map(|k| cfg.auths.get(k));
    let Some(entry) = entry else {
        if cfg.creds_store.is_some() {
            tracing::warn!(
                path = %path.display(),
                "Docker config uses a credential helper, which palisade does not run; pass --username and --password-stdin"
            );
        }
        return None;
    };
    if let (Some(u), Some(p)) = (&entry.username, &entry.password) {
        return Some((u.clone(), p.clone()));
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(entry.auth.as_deref()?.trim())
        .ok()?;
    let s = String::from_utf8(decoded).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

fn is_transient(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ServerError { code, .. } => *code == 429 || (500..600).contains(code),
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|e| {
            format!("{:?}", e.code)
                .to_ascii_uppercase()
                .contains("TOOMANYREQUESTS")
        }),
        OciDistributionError::RequestError(r) => r.is_timeout() || r.is_body() || r.is_decode(),
        OciDistributionError::IoError(_) => true,
        _ => false,
    }
}

fn is_connect_failure(e: &OciDistributionError) -> bool {
    matches!(e, OciDistributionError::RequestError(r) if r.is_connect() || r.is_request())
}

async fn with_retry<T, F, Fut>(
    retries: u32,
    what: &str,
    mut f: F,
) -> Result<T, OciDistributionError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, OciDistributionError>>,
{
    let mut attempt = 0u32;
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt < retries && is_transient(&e) => {
                let delay = Duration::from_millis(250u64 << attempt.min(6));
                tracing::warn!(%what, attempt = attempt + 1, error = %e, ?delay, "transient registry error; retrying");
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

fn describe(e: &OciDistributionError, registry: &str, opts: &RegistryOptions) -> String {
    match e {
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => {
            if opts.username.is_some() {
                "authentication failed: the registry rejected the credentials".into()
            } else {
                "authentication required: pass --username with --password-stdin, or log in with `docker login` (plain auths in ~/.docker/config.json)".into()
            }
        }
        OciDistributionError::ImageManifestNotFoundError(_) => {
            "manifest not found (wrong tag or repository?)".into()
        }
        OciDistributionError::RegistryError { envelope, .. } => {
            let msgs: Vec<String> = envelope
                .errors
                .iter()
                .map(|e| format!("{:?}: {}", e.code, e.message))
                .collect();
            msgs.join("; ")
        }
        OciDistributionError::ServerError { code, message, .. } => {
            format!(
                "HTTP {code}: {}",
                message.chars().take(200).collect::<String>()
            )
        }
        OciDistributionError::RequestError(r) => {
            let mut chain = r.to_string();
            let mut src = std::error::Error::source(r);
            while let Some(s) = src {
                chain.push_str(": ");
                chain.push_str(&s.to_string());
                src = s.source();
            }
            if chain.contains("CaUsedAsEndEntity") {
                format!("{chain} (the registry presents a CA certificate as its server certificate; serve a certificate issued by that CA, or pass --insecure)")
            } else if chain.contains("certificate") || chain.contains("UnknownIssuer") {
                format!("{chain} (the registry's certificate is not trusted: pass --ca-cert FILE, or --insecure)")
            } else if r.is_connect() && !opts.insecure {
                format!("{chain} (cannot connect to {registry}; for a plain-HTTP registry pass --insecure)")
            } else {
                chain
            }
        }
        other => other.to_string(),
    }
}

fn build_client(opts: &RegistryOptions, protocol: ClientProtocol) -> Result<Client, SourceError> {
    let mut extra = Vec::new();
    if let Some(ca) = &opts.ca_file {
        let data = std::fs::read(ca).map_err(|source| SourceError::Io {
            path: ca.clone(),
            source,
        })?;
        extra.push(Certificate {
            encoding: CertificateEncoding::Pem,
            data,
        });
    }
    let config = ClientConfig {
        protocol,
        accept_invalid_certificates: opts.insecure,
        extra_root_certificates: extra,
        platform_resolver: None,
        connect_timeout: Some(Duration::from_secs(30)),
        read_timeout: Some(Duration::from_secs(120)),
        ..ClientConfig::default()
    };
    Client::try_from(config).map_err(|e| SourceError::Registry {
        registry: String::new(),
        message: format!("cannot set up the HTTP client: {e}"),
    })
}

impl RegistrySource {
    pub fn open(
        reference: &Reference,
        opts: &RegistryOptions,
        platform: &Platform,
        limits: &Limits,
    ) -> Result<RegistrySource, SourceError> {
        let registry = reference.registry().to_string();
        let name = reference.whole();
        let reg_err = |message: String| SourceError::Registry {
            registry: registry.clone(),
            message,
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| reg_err(format!("cannot start the I/O runtime: {e}")))?;
        let auth = match (&opts.username, &opts.password) {
            (Some(u), Some(p)) => RegistryAuth::Basic(u.clone(), p.clone()),
            (Some(u), None) => {
                return Err(reg_err(format!(
                    "--username {u} given without a password (use --password-stdin)"
                )))
            }
            _ => {
                let path = opts.docker_config.clone().or_else(docker_config_path);
                match path.and_then(|p| {
                    credentials_from_docker_config(&p, reference.resolve_registry())
                        .or_else(|| credentials_from_docker_config(&p, &registry))
                }) {
                    Some((u, p)) => RegistryAuth::Basic(u, p),
                    None => RegistryAuth::Anonymous,
                }
            }
        };
        let retries = if opts.retries == 0 { 3 } else { opts.retries };

        let mut client = build_client(opts, ClientProtocol::Https)?;
        let top = rt.block_on(with_retry(retries, "manifest", || {
            client.pull_manifest_raw(reference, &auth, manifest::ACCEPT)
        }));
        let (bytes, digest) = match top {
            Ok(v) => v,
            Err(e) if opts.insecure && is_connect_failure(&e) => {
                tracing::info!(%registry, "HTTPS failed; --insecure given, trying plain HTTP");
                client = build_client(opts, ClientProtocol::Http)?;
                rt.block_on(with_retry(retries, "manifest", || {
                    client.pull_manifest_raw(reference, &auth, manifest::ACCEPT)
                }))
                .map_err(|e| reg_err(format!("{name}: {}", describe(&e, &registry, opts))))?
            }
            Err(e) => {
                return Err(reg_err(format!(
                    "{name}: {}",
                    describe(&e, &registry, opts)
                )))
            }
        };
        let top_digest = parse_digest(&name, "registry Docker-Content-Digest", &digest)?;
        manifest::verify(&name, "manifest", &top_digest, &bytes)?;
        if bytes.len() as u64 > limits.max_manifest {
            return Err(manifest::ManifestError::TooLarge {
                image: name,
                what: "manifest",
                size: bytes.len() as u64,
                limit: limits.max_manifest,
            }
            .into());
        }
        let mut info = ImageInfo {
            name: name.clone(),
            digest: Some(top_digest),
            platform: None,
            layers: Vec::new(),
        };
        let mut doc = manifest::parse_document(&name, &bytes, None)?;
        for _ in 0..MAX_INDEX_DEPTH {
            match doc {
                Document::Index(entries) => {
                    let e = select_platform(&name, &entries, platform)?;
                    info.platform = e.platform.as_ref().map(manifest::platform_string);
                    let d = parse_digest(&name, "image index", &e.digest)?;
                    let by_digest = reference.clone_with_digest(d.to_string());
                    let (b, _) = rt
                        .block_on(with_retry(retries, "manifest", || {
                            client.pull_manifest_raw(&by_digest, &auth, manifest::ACCEPT)
                        }))
                        .map_err(|e| {
                            reg_err(format!("{name}: {}", describe(&e, &registry, opts)))
                        })?;
                    manifest::verify(&name, "manifest", &d, &b)?;
                    doc = manifest::parse_document(&name, &b, None)?;
                }
                Document::Manifest { config, layers } => {
                    info.layers = manifest::layer_refs(&name, &layers, limits.max_layers)?;
                    if info.platform.is_none()
                        && config
                            .size
                            .is_some_and(|s| s >= 0 && (s as u64) <= limits.max_manifest)
                    {
                        let mut buf: Vec<u8> = Vec::new();
                        let fetched = rt.block_on(client.pull_blob(
                            reference,
                            config.digest.as_str(),
                            &mut buf,
                        ));
                        if fetched.is_ok() {
                            info.platform = manifest::config_platform(&buf);
                        }
                    }
                    return Ok(RegistrySource {
                        rt,
                        client,
                        reference: reference.clone(),
                        info,
                        retries,
                    });
                }
            }
        }
        Err(manifest::ManifestError::TooDeep {
            image: name,
            limit: MAX_INDEX_DEPTH,
        }
        .into())
    }
}

impl LayerSource for RegistrySource {
    fn info(&self) -> &ImageInfo {
        &self.info
    }

    fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        let registry = self.reference.registry().to_string();
        let layer = self
            .info
            .layers
            .get(index)
            .ok_or_else(|| SourceError::Invalid {
                input: self.info.name.clone(),
                message: format!("no layer {index}"),
            })?;
        let digest = layer
            .digest
            .as_ref()
            .map(ToString::to_string)
            .ok_or_else(|| SourceError::Invalid {
                input: self.info.name.clone(),
                message: format!("layer {index} has no digest"),
            })?;
        let sized = self
            .rt
            .block_on(with_retry(self.retries, "blob", || {
                self.client
                    .pull_blob_stream(&self.reference, digest.as_str())
            }))
            .map_err(|e| SourceError::Registry {
                registry: registry.clone(),
                message: format!(
                    "{}: layer {digest}: {}",
                    self.info.name,
                    describe(&e, &registry, &RegistryOptions::default())
                ),
            })?;
        let stream = sized.stream.map_err(std::io::Error::other);
        let reader = StreamReader::new(stream);
        Ok(Box::new(SyncIoBridge::new_with_handle(
            reader,
            self.rt.handle().clone(),
        )))
    }

    fn reopenable(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn transient_errors_are_retried_with_backoff() {
        let server = |code: u16| OciDistributionError::ServerError {
            code,
            url: "http://127.0.0.1/v2/x/manifests/1".into(),
            message: String::new(),
        };
        assert!(is_transient(&server(429)));
        assert!(is_transient(&server(503)));
        assert!(!is_transient(&server(404)));
        assert!(!is_transient(&OciDistributionError::UnauthorizedError {
            url: String::new()
        }));

        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let calls = std::sync::atomic::AtomicU32::new(0);
        let started = std::time::Instant::now();
        let r: Result<u32, _> = rt.block_on(with_retry(3, "manifest", || {
            let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                if n < 2 {
                    Err(server(503))
                } else {
                    Ok(n)
                }
            }
        }));
        assert_eq!(r.unwrap(), 2);
        // Two waits: 250 ms then 500 ms.
        assert!(started.elapsed() >= std::time::Duration::from_millis(700));
        // A permanent error is not retried; retries run out.
        calls.store(0, std::sync::atomic::Ordering::SeqCst);
        let r: Result<u32, _> = rt.block_on(with_retry(3, "manifest", || {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { Err(server(404)) }
        }));
        assert!(r.is_err());
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        calls.store(0, std::sync::atomic::Ordering::SeqCst);
        let r: Result<u32, _> = rt.block_on(with_retry(1, "manifest", || {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { Err(server(500)) }
        }));
        assert!(r.is_err());
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[test]
    fn docker_config_auths() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        let enc = base64::engine::general_purpose::STANDARD.encode("alice:s3cr:et");
        std::fs::write(
            &p,
            format!(r#"{{"auths":{{"127.0.0.1:5000":{{"auth":"{enc}"}},"https://index.docker.io/v1/":{{"username":"bob","password":"pw"}}}}}}"#),
        )
        .unwrap();
        assert_eq!(
            credentials_from_docker_config(&p, "127.0.0.1:5000"),
            Some(("alice".into(), "s3cr:et".into()))
        );
        assert_eq!(
            credentials_from_docker_config(&p, "docker.io"),
            Some(("bob".into(), "pw".into()))
        );
        assert_eq!(credentials_from_docker_config(&p, "other:1"), None);
        std::fs::write(&p, "not json").unwrap();
        assert_eq!(credentials_from_docker_config(&p, "127.0.0.1:5000"), None);
    }
}
