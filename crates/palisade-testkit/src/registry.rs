//! A real OCI registry (Debian's `docker-registry`, distribution 2.8) on
//! 127.0.0.1, in its own temporary directory, for the length of a test.
//!
//! [`TestRegistry::start`] writes a `config.yml`, optionally generates a
//! bcrypt htpasswd file (`htpasswd -Bbn`) and a self-signed certificate for
//! `127.0.0.1` and `localhost` (`openssl req -x509`), starts
//! `docker-registry serve`, and waits until `GET /v2/` answers. Dropping the
//! value kills the process and removes the directory.
//!
//! With [`RegistryOptions::token_auth`] the registry uses distribution's
//! bearer-token mode instead of htpasswd: a token server from
//! [`crate::token`] runs beside it on another loopback port, the registry's
//! `auth: token:` section points its `realm` there, and the credentials are
//! checked by that server. [`TestRegistry::get`] and friends then follow the
//! `WWW-Authenticate: Bearer` challenge like a real client, and skopeo does
//! the same with `--dest-creds`.
//!
//! Images are pushed from OCI layouts with `skopeo copy --preserve-digests`,
//! so the registry serves exactly the bytes the test built. HTTP checks go
//! through `curl`, which keeps TLS and HTTP/2 out of this crate's
//! dependencies.
//!
//! Debian's registry answers 404 for an OCI manifest unless the `Accept`
//! header lists OCI types, and converts Docker manifests to schema 1 unless
//! Docker types are listed: [`TestRegistry::fetch_manifest`] sends all four.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::command::run;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::layout::{BuiltImage, BuiltIndex, REF_NAME_ANNOTATION};
use crate::media_type;
use crate::token::{self, IssuedToken, TokenAuth, TokenServer};

/// The registry binary.
pub const REGISTRY_BINARY: &str = "docker-registry";

/// A user name and password for basic auth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl Credentials {
    /// Any credentials.
    pub fn new(username: &str, password: &str) -> Self {
        Credentials {
            username: username.to_owned(),
            password: password.to_owned(),
        }
    }

    /// `user:pass`, as `skopeo --creds` and `curl -u` take it.
    pub fn joined(&self) -> String {
        format!("{}:{}", self.username, self.password)
    }
}

impl Default for Credentials {
    fn default() -> Self {
        Credentials::new("palisade", "s3cret-test-password")
    }
}

/// How to run the registry.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Serve HTTPS with a fresh self-signed certificate.
    pub tls: bool,
    /// Require these credentials (htpasswd, bcrypt; or checked by the
    /// token server when `token` is set).
    pub auth: Option<Credentials>,
    /// Bearer-token auth through a local token server instead of htpasswd.
    /// Without `auth`, only anonymous pull tokens can be had (and only with
    /// [`TokenAuth::anonymous_pull`]). Combines with `tls`; the token realm
    /// itself stays plain HTTP on 127.0.0.1.
    pub token: Option<TokenAuth>,
    /// How long to wait for `GET /v2/` to answer.
    pub startup_timeout: Duration,
    /// YAML appended verbatim to `config.yml`; it may only add top-level
    /// sections the testkit does not write (for example `notifications:`).
    pub extra_config: String,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            tls: false,
            auth: None,
            token: None,
            startup_timeout: Duration::from_secs(30),
            extra_config: String::new(),
        }
    }
}

impl RegistryOptions {
    /// Plain HTTP, no auth.
    pub fn plain() -> Self {
        RegistryOptions::default()
    }

    /// Plain HTTP with basic auth using [`Credentials::default`].
    pub fn basic_auth() -> Self {
        RegistryOptions {
            auth: Some(Credentials::default()),
            ..RegistryOptions::default()
        }
    }

    /// HTTPS, no auth.
    pub fn tls() -> Self {
        RegistryOptions {
            tls: true,
            ..RegistryOptions::default()
        }
    }

    /// HTTPS with basic auth using [`Credentials::default`].
    pub fn tls_auth() -> Self {
        RegistryOptions {
            tls: true,
            auth: Some(Credentials::default()),
            ..RegistryOptions::default()
        }
    }

    /// Plain HTTP with bearer-token auth: a token server on 127.0.0.1 issues
    /// RS256 JWTs to [`Credentials::default`], and nothing to anonymous
    /// requests.
    pub fn token_auth() -> Self {
        RegistryOptions {
            auth: Some(Credentials::default()),
            token: Some(TokenAuth::default()),
            ..RegistryOptions::default()
        }
    }
}

/// An HTTP answer as `curl` saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names lowercased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `Docker-Content-Digest` header.
    pub fn docker_content_digest(&self) -> Option<&str> {
        self.header("docker-content-digest")
    }

    /// The digest of the body.
    pub fn body_digest(&self) -> Digest {
        Digest::sha256(&self.body)
    }
}

/// A running registry; killed and deleted on drop.
#[derive(Debug)]
pub struct TestRegistry {
    child: Child,
    dir: TempDir,
    port: u16,
    tls: bool,
    credentials: Option<Credentials>,
    /// Stopped after the registry (fields drop after `Drop::drop`).
    token: Option<TokenServer>,
}

/// How a request through `curl` authenticates.
enum Authorization<'a> {
    Basic(&'a Credentials),
    Bearer(&'a str),
}

const MAX_PORT_ATTEMPTS: usize = 5;

impl TestRegistry {
    /// Start a registry on a free 127.0.0.1 port and wait until it answers.
    pub fn start(options: RegistryOptions) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("palisade-registry-")
            .tempdir()
            .map_err(|e| Error::io("create", std::env::temp_dir(), e))?;
        let root = dir.path().to_owned();
        let data = root.join("data");
        fs::create_dir_all(&data).map_err(|e| Error::io("create", &data, e))?;
        let token = match &options.token {
            Some(settings) => Some(TokenServer::start(
                &root.join("token"),
                settings,
                options.auth.clone(),
            )?),
            None => None,
        };
        if let (Some(creds), None) = (&options.auth, &token) {
            write_htpasswd(&root, creds)?;
        }
        if options.tls {
            write_certificate(&root)?;
        }

        let ca = options.tls.then(|| root.join("certs").join("ca.crt"));
        let mut last_error = None;
        for _ in 0..MAX_PORT_ATTEMPTS {
            let port = free_port()?;
            let config = root.join("config.yml");
            fs::write(&config, config_yaml(&root, port, &options, token.as_ref()))
                .map_err(|e| Error::io("write", &config, e))?;
            let log_path = root.join("registry.log");
            let log = fs::File::create(&log_path).map_err(|e| Error::io("create", &log_path, e))?;
            let log_err = log
                .try_clone()
                .map_err(|e| Error::io("open", &log_path, e))?;
            let mut child = Command::new(REGISTRY_BINARY)
                .arg("serve")
                .arg(&config)
                .current_dir(&root)
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(log_err)
                .spawn()
                .map_err(|source| Error::Spawn {
                    program: REGISTRY_BINARY.to_owned(),
                    source,
                })?;
            match wait_ready(&mut child, port, ca.as_deref(), options.startup_timeout) {
                Ok(()) => {
                    return Ok(TestRegistry {
                        child,
                        dir,
                        port,
                        tls: options.tls,
                        credentials: options.auth,
                        token,
                    })
                }
                Err(reason) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = fs::read_to_string(&log_path).unwrap_or_default();
                    let collided = log.contains("address already in use");
                    last_error = Some(Error::RegistryStart { reason, log });
                    if !collided {
                        break;
                    }
                }
            }
        }
        Err(last_error.unwrap_or_else(|| Error::RegistryStart {
            reason: String::from("no attempt was made"),
            log: String::new(),
        }))
    }

    /// `127.0.0.1:PORT`, as used in image references.
    pub fn host_port(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the registry serves HTTPS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// `http://127.0.0.1:PORT` or `https://…`.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.host_port())
    }

    /// The self-signed certificate (PEM) to trust, for TLS registries.
    pub fn ca_cert_path(&self) -> Option<PathBuf> {
        self.tls
            .then(|| self.dir.path().join("certs").join("ca.crt"))
    }

    /// A directory holding only `ca.crt`, in the form `skopeo --*-cert-dir`
    /// and `/etc/docker/certs.d/HOST:PORT/` expect.
    pub fn cert_dir(&self) -> Option<PathBuf> {
        self.tls.then(|| self.dir.path().join("certs"))
    }

    /// The credentials the registry requires, if any.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// Whether the registry uses bearer-token auth.
    pub fn uses_token_auth(&self) -> bool {
        self.token.is_some()
    }

    /// The token server's `http://127.0.0.1:PORT/token`, for token auth.
    pub fn token_realm(&self) -> Option<String> {
        self.token.as_ref().map(TokenServer::realm)
    }

    /// The token server's port, for token auth.
    pub fn token_port(&self) -> Option<u16> {
        self.token.as_ref().map(TokenServer::port)
    }

    /// The token signing certificate (PEM, also the registry's
    /// `rootcertbundle`), for token auth.
    pub fn token_signing_cert(&self) -> Option<&Path> {
        self.token.as_ref().map(TokenServer::root_cert)
    }

    /// How many tokens the token server has issued so far (0 without
    /// token auth).
    pub fn tokens_issued(&self) -> usize {
        self.token.as_ref().map_or(0, TokenServer::issued_count)
    }

    /// Every token issued so far, oldest first.
    pub fn issued_tokens(&self) -> Vec<IssuedToken> {
        self.token
            .as_ref()
            .map(TokenServer::issued)
            .unwrap_or_default()
    }

    /// How many token requests were refused with 401 so far.
    pub fn token_refusals(&self) -> usize {
        self.token.as_ref().map_or(0, TokenServer::refused)
    }

    /// Ask the token server for a token as a client would:
    /// `GET /token?service=…&scope=…&account=…`, with `credentials` as Basic
    /// auth if given. The answer is returned whatever its status; a 200
    /// body holds `token`, `access_token`, `expires_in` and `issued_at`.
    pub fn request_token(
        &self,
        credentials: Option<&Credentials>,
        scopes: &[&str],
    ) -> Result<HttpResponse> {
        let realm = self.token_realm().ok_or_else(|| Error::NoTokenServer {
            registry: self.host_port(),
        })?;
        self.fetch_token(&realm, Some(token::SERVICE), credentials, scopes)
    }

    /// The registry's temporary directory (config, storage, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Everything the registry has logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Copy `tag_in_layout` from the OCI layout at `layout_dir` to
    /// `repo_and_tag` (such as `"library/debian:12"`) with
    /// `skopeo copy --all --preserve-digests`, keeping the source's manifest
    /// format, so the registry serves the layout's exact digests.
    ///
    /// skopeo's `oci:` transport only finds OCI-typed entries in `index.json`;
    /// Docker-typed ones (manifest v2 or manifest list) are staged into a
    /// skopeo `dir:` directory, which keeps them byte for byte.
    pub fn push(&self, layout_dir: &Path, tag_in_layout: &str, repo_and_tag: &str) -> Result<()> {
        let descriptor = find_tag(layout_dir, tag_in_layout)?;
        let media = descriptor["mediaType"].as_str().unwrap_or_default();
        if media == media_type::OCI_MANIFEST || media == media_type::OCI_INDEX {
            let source = format!("oci:{}:{tag_in_layout}", layout_dir.display());
            return self.skopeo_copy_to(&source, repo_and_tag);
        }
        let staging = tempfile::Builder::new()
            .prefix("push-")
            .tempdir_in(self.dir.path())
            .map_err(|e| Error::io("create", self.dir.path(), e))?;
        stage_dir_transport(layout_dir, &descriptor, staging.path())?;
        self.skopeo_copy_to(&format!("dir:{}", staging.path().display()), repo_and_tag)
    }

    /// Push a built image (see [`TestRegistry::push`]).
    pub fn push_image(&self, image: &BuiltImage, repo_and_tag: &str) -> Result<()> {
        let layout = tempfile::Builder::new()
            .prefix("layout-")
            .tempdir_in(self.dir.path())
            .map_err(|e| Error::io("create", self.dir.path(), e))?;
        image.write_oci_layout(layout.path(), "push")?;
        self.push(layout.path(), "push", repo_and_tag)
    }

    /// Push a built multi-platform index and all its images.
    pub fn push_index(&self, index: &BuiltIndex, repo_and_tag: &str) -> Result<()> {
        let layout = tempfile::Builder::new()
            .prefix("layout-")
            .tempdir_in(self.dir.path())
            .map_err(|e| Error::io("create", self.dir.path(), e))?;
        index.write_oci_layout(layout.path(), "push")?;
        self.push(layout.path(), "push", repo_and_tag)
    }

    /// Copy any skopeo source (`oci:…`, `docker-archive:…`) to `repo_and_tag`.
    pub fn skopeo_copy_to(&self, source: &str, repo_and_tag: &str) -> Result<()> {
        let mut cmd = Command::new("skopeo");
        cmd.args([
            "--insecure-policy",
            "copy",
            "--quiet",
            "--all",
            "--preserve-digests",
        ]);
        // Keep skopeo away from any user auth file.
        cmd.arg("--authfile")
            .arg(self.dir.path().join("skopeo-auth.json"));
        match self.cert_dir() {
            Some(dir) => {
                cmd.arg("--dest-tls-verify=true")
                    .arg("--dest-cert-dir")
                    .arg(dir);
            }
            None => {
                cmd.arg("--dest-tls-verify=false");
            }
        }
        match &self.credentials {
            Some(c) => {
                cmd.arg("--dest-creds").arg(c.joined());
            }
            None => {
                cmd.arg("--dest-no-creds");
            }
        }
        cmd.arg(source)
            .arg(format!("docker://{}/{repo_and_tag}", self.host_port()));
        run(&mut cmd).map(|_| ())
    }

    /// `GET` `path` (starting with `/v2/`) through curl, sending `accept` as
    /// the `Accept` header and, if `with_credentials`, the registry's
    /// credentials.
    pub fn get(&self, path: &str, accept: &[&str], with_credentials: bool) -> Result<HttpResponse> {
        self.request("GET", path, accept, with_credentials)
    }

    /// `HEAD` `path`; the body is empty.
    pub fn head(
        &self,
        path: &str,
        accept: &[&str],
        with_credentials: bool,
    ) -> Result<HttpResponse> {
        self.request("HEAD", path, accept, with_credentials)
    }

    /// `GET /v2/<repo>/manifests/<reference>` with every manifest type in
    /// `Accept` and the credentials if the registry has any.
    pub fn fetch_manifest(&self, repo: &str, reference: &str) -> Result<HttpResponse> {
        self.get(
            &format!("/v2/{repo}/manifests/{reference}"),
            &media_type::ALL_MANIFESTS,
            true,
        )
    }

    /// `method` `path` on the registry. With credentials and token auth,
    /// this is a client's bearer flow: try without, read the
    /// `WWW-Authenticate: Bearer` challenge, get a token for its scopes from
    /// its realm, and retry with it. If no token is given, the first answer
    /// (the 401) is returned.
    fn request(
        &self,
        method: &str,
        path: &str,
        accept: &[&str],
        with_credentials: bool,
    ) -> Result<HttpResponse> {
        let url = format!("{}{path}", self.base_url());
        if !with_credentials {
            return self.curl(method, &url, accept, None);
        }
        if self.token.is_none() {
            let basic = self.credentials.as_ref().map(Authorization::Basic);
            return self.curl(method, &url, accept, basic);
        }
        let first = self.curl(method, &url, accept, None)?;
        if first.status != 401 {
            return Ok(first);
        }
        let Some(challenge) = first
            .header("www-authenticate")
            .and_then(token::parse_bearer_challenge)
        else {
            return Ok(first);
        };
        let param = |name: &str| {
            challenge
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let Some(realm) = param("realm") else {
            return Ok(first);
        };
        let scopes: Vec<&str> = param("scope")
            .map(|s| s.split(' ').collect())
            .unwrap_or_default();
        let answer =
            self.fetch_token(realm, param("service"), self.credentials.as_ref(), &scopes)?;
        if answer.status != 200 {
            return Ok(first);
        }
        let body: Value = serde_json::from_slice(&answer.body).map_err(|e| Error::Http {
            url: realm.to_owned(),
            reason: format!("token answer is not JSON: {e}"),
        })?;
        let Some(bearer) = body["token"].as_str().or(body["access_token"].as_str()) else {
            return Err(Error::Http {
                url: realm.to_owned(),
                reason: String::from("token answer has neither `token` nor `access_token`"),
            });
        };
        self.curl(method, &url, accept, Some(Authorization::Bearer(bearer)))
    }

    /// `GET realm?service=…&scope=…&account=…`.
    fn fetch_token(
        &self,
        realm: &str,
        service: Option<&str>,
        credentials: Option<&Credentials>,
        scopes: &[&str],
    ) -> Result<HttpResponse> {
        let mut query = Vec::new();
        if let Some(service) = service {
            query.push(format!("service={}", token::percent_encode(service)));
        }
        for scope in scopes.iter().filter(|s| !s.is_empty()) {
            query.push(format!("scope={}", token::percent_encode(scope)));
        }
        if let Some(c) = credentials {
            query.push(format!("account={}", token::percent_encode(&c.username)));
        }
        let url = if query.is_empty() {
            realm.to_owned()
        } else {
            format!("{realm}?{}", query.join("&"))
        };
        self.curl("GET", &url, &[], credentials.map(Authorization::Basic))
    }

    fn curl(
        &self,
        method: &str,
        url: &str,
        accept: &[&str],
        authorization: Option<Authorization<'_>>,
    ) -> Result<HttpResponse> {
        let scratch = tempfile::Builder::new()
            .prefix("curl-")
            .tempdir_in(self.dir.path())
            .map_err(|e| Error::io("create", self.dir.path(), e))?;
        let body_path = scratch.path().join("body");
        let headers_path = scratch.path().join("headers");
        let mut cmd = Command::new("curl");
        cmd.args([
            "--silent",
            "--show-error",
            "--noproxy",
            "*",
            "--max-time",
            "30",
        ])
        .arg("--output")
        .arg(&body_path)
        .arg("--dump-header")
        .arg(&headers_path)
        .args(["--write-out", "%{http_code}"]);
        if method == "HEAD" {
            cmd.arg("--head");
        } else {
            cmd.args(["--request", method]);
        }
        if let Some(ca) = self.ca_cert_path() {
            cmd.arg("--cacert").arg(ca);
        }
        if !accept.is_empty() {
            cmd.arg("--header")
                .arg(format!("Accept: {}", accept.join(", ")));
        }
        match authorization {
            Some(Authorization::Basic(c)) => {
                cmd.arg("--user").arg(c.joined());
            }
            Some(Authorization::Bearer(token)) => {
                cmd.arg("--header")
                    .arg(format!("Authorization: Bearer {token}"));
            }
            None => {}
        }
        cmd.arg(url);
        let output = run(&mut cmd)?;
        let code = String::from_utf8_lossy(&output.stdout);
        let status = code.trim().parse::<u16>().map_err(|_| Error::Http {
            url: url.to_owned(),
            reason: format!("status {code:?} is not a number"),
        })?;
        let body = fs::read(&body_path).unwrap_or_default();
        let raw_headers = fs::read_to_string(&headers_path).unwrap_or_default();
        Ok(HttpResponse {
            status,
            headers: parse_headers(&raw_headers),
            body,
        })
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `index.json` descriptor tagged `tag`.
fn find_tag(layout_dir: &Path, tag: &str) -> Result<Value> {
    let path = layout_dir.join("index.json");
    let bytes = fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
    let index: Value = serde_json::from_slice(&bytes).map_err(|e| Error::Layout {
        path: layout_dir.to_owned(),
        reason: format!("index.json: {e}"),
    })?;
    index["manifests"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["annotations"][REF_NAME_ANNOTATION] == tag)
        .cloned()
        .ok_or_else(|| Error::Layout {
            path: layout_dir.to_owned(),
            reason: format!("no manifest tagged {tag:?} in index.json"),
        })
}

/// Lay out the image `descriptor` names as skopeo's `dir:` transport reads it:
/// `version`, `manifest.json`, `<hex>.manifest.json` per list entry, and
/// every blob as `<hex>`.
fn stage_dir_transport(layout_dir: &Path, descriptor: &Value, staging: &Path) -> Result<()> {
    let blob_dir = layout_dir.join("blobs").join("sha256");
    let blob = |digest: &str| -> Result<Vec<u8>> {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        let path = blob_dir.join(hex);
        fs::read(&path).map_err(|e| Error::io("read", &path, e))
    };
    let write = |name: &str, data: &[u8]| -> Result<()> {
        let path = staging.join(name);
        fs::write(&path, data).map_err(|e| Error::io("write", &path, e))
    };
    write("version", b"Directory Transport Version: 1.1\n")?;
    let top = blob(descriptor["digest"].as_str().unwrap_or_default())?;
    write("manifest.json", &top)?;
    if descriptor["mediaType"] == media_type::DOCKER_MANIFEST_LIST {
        let list: Value = serde_json::from_slice(&top).map_err(|e| Error::Layout {
            path: layout_dir.to_owned(),
            reason: format!("manifest list: {e}"),
        })?;
        for child in list["manifests"].as_array().into_iter().flatten() {
            let digest = child["digest"].as_str().unwrap_or_default();
            let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
            write(&format!("{hex}.manifest.json"), &blob(digest)?)?;
        }
    }
    let entries = fs::read_dir(&blob_dir).map_err(|e| Error::io("list", &blob_dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list", &blob_dir, e))?;
        let target = staging.join(entry.file_name());
        fs::copy(entry.path(), &target).map_err(|e| Error::io("copy", entry.path(), e))?;
    }
    Ok(())
}

/// Poll until `GET /v2/` answers 200 or 401, the process dies, or time runs out.
fn wait_ready(
    child: &mut Child,
    port: u16,
    ca: Option<&Path>,
    timeout: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let url = match ca {
        Some(_) => format!("https://127.0.0.1:{port}/v2/"),
        None => format!("http://127.0.0.1:{port}/v2/"),
    };
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("docker-registry exited early ({status})"));
        }
        // Cheap check first; curl only once something listens.
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            let mut cmd = Command::new("curl");
            cmd.args(["--silent", "--noproxy", "*", "--max-time", "5"])
                .args(["--output", "/dev/null", "--write-out", "%{http_code}"]);
            if let Some(ca) = ca {
                cmd.arg("--cacert").arg(ca);
            }
            let answered = cmd
                .arg(&url)
                .output()
                .map(|o| matches!(o.stdout.as_slice(), b"200" | b"401"))
                .unwrap_or(false);
            if answered {
                // Make sure it was our process that answered.
                return match child.try_wait() {
                    Ok(Some(status)) => Err(format!(
                        "port {port} answered but docker-registry exited ({status})"
                    )),
                    _ => Ok(()),
                };
            }
        }
        if Instant::now() > deadline {
            return Err(format!(
                "GET {url} did not answer 200 or 401 within {timeout:?}"
            ));
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Headers of the last response in a `curl --dump-header` file.
fn parse_headers(raw: &str) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    for line in raw.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with("HTTP/") {
            headers.clear();
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    headers
}

fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| Error::io("bind", "127.0.0.1:0", e))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::io("read address of", "127.0.0.1:0", e))?
        .port();
    Ok(port)
}

fn write_htpasswd(root: &Path, creds: &Credentials) -> Result<()> {
    let output = run(Command::new("htpasswd").args(["-Bbn", &creds.username, &creds.password]))?;
    let path = root.join("htpasswd");
    fs::write(&path, &output.stdout).map_err(|e| Error::io("write", &path, e))
}

/// A private CA (`certs/ca.crt`, what clients are told to trust) and a
/// server certificate it signed for `127.0.0.1` and `localhost`
/// (`server.crt`), as a real private registry is set up. A lone
/// self-signed `CA:TRUE` certificate would be refused as a server
/// certificate by WebPKI clients such as rustls.
fn write_certificate(root: &Path) -> Result<()> {
    let certs = root.join("certs");
    fs::create_dir_all(&certs).map_err(|e| Error::io("create", &certs, e))?;
    run(Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=palisade-testkit CA"])
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        .arg("-keyout")
        .arg(root.join("ca.key"))
        .arg("-out")
        .arg(certs.join("ca.crt")))?;
    run(Command::new("openssl")
        .args(["req", "-new", "-newkey", "rsa:2048", "-nodes"])
        .args(["-subj", "/CN=127.0.0.1"])
        .arg("-keyout")
        .arg(root.join("server.key"))
        .arg("-out")
        .arg(root.join("server.csr")))?;
    let ext = root.join("server.ext");
    fs::write(
        &ext,
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .map_err(|e| Error::io("write", &ext, e))?;
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-CAcreateserial"])
        .arg("-in")
        .arg(root.join("server.csr"))
        .arg("-CA")
        .arg(certs.join("ca.crt"))
        .arg("-CAkey")
        .arg(root.join("ca.key"))
        .arg("-extfile")
        .arg(&ext)
        .arg("-out")
        .arg(root.join("server.crt")))?;
    Ok(())
}

fn config_yaml(
    root: &Path,
    port: u16,
    options: &RegistryOptions,
    token: Option<&TokenServer>,
) -> String {
    let root = root.display();
    let mut yaml = format!(
        r#"version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: "{root}/data"
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
  secret: palisade-testkit-secret
"#
    );
    if options.tls {
        yaml.push_str(&format!(
            "  tls:\n    certificate: \"{root}/server.crt\"\n    key: \"{root}/server.key\"\n"
        ));
    }
    if let Some(token) = token {
        yaml.push_str(&format!(
            "auth:\n  token:\n    realm: \"{}\"\n    service: {}\n    issuer: {}\n    rootcertbundle: \"{}\"\n",
            token.realm(),
            token::SERVICE,
            token::ISSUER,
            token.root_cert().display()
        ));
    } else if options.auth.is_some() {
        yaml.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: palisade-testkit\n    path: \"{root}/htpasswd\"\n"
        ));
    }
    if !options.extra_config.is_empty() {
        yaml.push_str(&options.extra_config);
        if !options.extra_config.ends_with('\n') {
            yaml.push('\n');
        }
    }
    yaml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_of_the_last_response_win() {
        let raw = "HTTP/1.1 100 Continue\r\n\r\nHTTP/2 200\r\nDocker-Content-Digest: sha256:ab\r\ncontent-type: x\r\n\r\n";
        let h = parse_headers(raw);
        assert_eq!(
            h,
            [
                ("docker-content-digest".into(), "sha256:ab".into()),
                ("content-type".into(), "x".into())
            ]
        );
    }
}
