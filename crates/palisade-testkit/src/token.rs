//! A bearer-token server for the registry's `auth: token:` mode, the flow
//! of distribution's token authentication specification.
//!
//! The registry answers an unauthenticated request with
//! `401` and `WWW-Authenticate: Bearer realm="…/token",service="…",scope="…"`;
//! the client then asks this server for
//! `GET /token?service=…&scope=repository:NAME:pull,push&account=…` with
//! Basic credentials, and retries with `Authorization: Bearer <JWT>`.
//!
//! The server is a small threaded HTTP/1.1 server on 127.0.0.1 (one thread
//! per connection, `Connection: close`). Tokens are JWTs signed RS256 by
//! `openssl dgst -sha256 -sign`, with the signing certificate in the `x5c`
//! header. That certificate is self-signed and is also the registry's
//! `rootcertbundle`, so distribution 2.8 verifies the one-element chain
//! against it (Go's `x509.Verify` accepts a leaf that is itself in the root
//! pool, and distribution asks for `ExtKeyUsageAny`).
//!
//! What the server grants: a valid user gets the `pull` and `push` actions
//! their scopes ask for on `repository` resources; a request without
//! credentials gets `pull` only when [`TokenAuth::anonymous_pull`] is set and
//! is refused otherwise; wrong credentials are always refused (401). Every
//! issued token is recorded ([`IssuedToken`]) so tests can assert the flow
//! happened. Dropping the server stops its threads and closes the socket.

use std::io::{BufRead, BufReader, Read as _, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::json;

use crate::command::{run, run_with_stdin};
use crate::error::{Error, Result};
use crate::registry::Credentials;

/// The `service` the registry names in its challenge and the tokens' `aud`.
pub const SERVICE: &str = "palisade-testkit";
/// The tokens' `iss`, which the registry's `issuer` must match.
pub const ISSUER: &str = "palisade-testkit-issuer";
/// Lifetime of an issued token (`expires_in`).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(300);

/// The only actions granted on a repository.
const GRANTABLE: [&str; 2] = ["pull", "push"];
/// Largest request head (request line and headers) accepted.
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// Read and write timeout of one connection.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Token auth settings (see [`crate::RegistryOptions::token_auth`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenAuth {
    /// Also issue pull-only tokens to requests without credentials.
    pub anonymous_pull: bool,
}

/// Actions granted on one repository inside an issued token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub repository: String,
    pub actions: Vec<String>,
}

/// A token the server issued, as recorded for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// `sub`: the user name, or `None` for an anonymous token.
    pub subject: Option<String>,
    /// The `access` claim, `repository` resources only.
    pub access: Vec<Grant>,
}

impl IssuedToken {
    /// Whether the token grants `action` on `repository`.
    pub fn grants(&self, repository: &str, action: &str) -> bool {
        self.access
            .iter()
            .any(|g| g.repository == repository && g.actions.iter().any(|a| a == action))
    }
}

/// A running token server; stopped on drop.
#[derive(Debug)]
pub(crate) struct TokenServer {
    addr: SocketAddr,
    root_cert: PathBuf,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    stop: AtomicBool,
    issued: Mutex<Vec<IssuedToken>>,
    refused: AtomicUsize,
    sequence: AtomicU64,
    signer: Signer,
    credentials: Option<Credentials>,
    anonymous_pull: bool,
}

impl TokenServer {
    /// Generate a signing key and certificate under `dir` and start serving
    /// on a free 127.0.0.1 port.
    pub(crate) fn start(
        dir: &Path,
        options: &TokenAuth,
        credentials: Option<Credentials>,
    ) -> Result<Self> {
        let signer = Signer::generate(dir)?;
        let root_cert = signer.cert.clone();
        let listener =
            TcpListener::bind("127.0.0.1:0").map_err(|e| Error::io("bind", "127.0.0.1:0", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io("read address of", "127.0.0.1:0", e))?;
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            issued: Mutex::new(Vec::new()),
            refused: AtomicUsize::new(0),
            sequence: AtomicU64::new(0),
            signer,
            credentials,
            anonymous_pull: options.anonymous_pull,
        });
        let for_thread = Arc::clone(&shared);
        let accept = thread::Builder::new()
            .name(String::from("palisade-token-server"))
            .spawn(move || accept_loop(&listener, &for_thread))
            .map_err(|source| Error::Spawn {
                program: String::from("token server thread"),
                source,
            })?;
        Ok(TokenServer {
            addr,
            root_cert,
            shared,
            accept: Some(accept),
        })
    }

    /// `http://127.0.0.1:PORT/token`.
    pub(crate) fn realm(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The signing certificate (PEM), the registry's `rootcertbundle`.
    pub(crate) fn root_cert(&self) -> &Path {
        &self.root_cert
    }

    pub(crate) fn issued(&self) -> Vec<IssuedToken> {
        self.shared.issued_tokens().clone()
    }

    pub(crate) fn issued_count(&self) -> usize {
        self.shared.issued_tokens().len()
    }

    pub(crate) fn refused(&self) -> usize {
        self.shared.refused.load(Ordering::SeqCst)
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept; it sees the flag and returns, dropping
        // the listener. If even connecting fails, leave the thread rather
        // than hang the test.
        let woke = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5)).is_ok();
        if let Some(handle) = self.accept.take() {
            if woke {
                let _ = handle.join();
            }
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            // Out of descriptors or similar; do not spin.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        workers.retain(|w| !w.is_finished());
        let shared = Arc::clone(shared);
        if let Ok(worker) = thread::Builder::new()
            .name(String::from("palisade-token-conn"))
            .spawn(move || serve_connection(stream, &shared))
        {
            workers.push(worker);
        }
    }
    for worker in workers {
        let _ = worker.join();
    }
}

impl Shared {
    fn issued_tokens(&self) -> std::sync::MutexGuard<'_, Vec<IssuedToken>> {
        self.issued.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn answer(&self, request: &Request) -> Response {
        if request.method != "GET" {
            return Response::json(405, &json!({"details": "only GET /token is served"}))
                .header("Allow", "GET");
        }
        let (path, query) = request
            .target
            .split_once('?')
            .unwrap_or((request.target.as_str(), ""));
        if path != "/token" {
            return Response::json(404, &json!({"details": "not found"}));
        }
        let params = parse_query(query);
        if let Some((_, service)) = params.iter().find(|(k, _)| k == "service") {
            if service != SERVICE {
                return Response::json(
                    400,
                    &json!({"details": format!("unknown service {service:?}")}),
                );
            }
        }
        let subject = match self.authenticate(request) {
            Ok(subject) => subject,
            Err(reason) => {
                self.refused.fetch_add(1, Ordering::SeqCst);
                return Response::json(401, &json!({"details": reason}))
                    .header("WWW-Authenticate", "Basic realm=\"palisade-testkit-token\"");
            }
        };
        let scopes = params
            .iter()
            .filter(|(k, _)| k == "scope")
            .flat_map(|(_, v)| v.split_whitespace());
        let access = grant(scopes, subject.is_some());
        match self.issue(subject, access) {
            Ok(body) => Response::json(200, &body),
            Err(e) => Response::json(500, &json!({"details": e.to_string()})),
        }
    }

    /// `Ok(Some(user))` for valid Basic credentials, `Ok(None)` for an
    /// allowed anonymous request, `Err(reason)` otherwise.
    fn authenticate(&self, request: &Request) -> Result<Option<String>, String> {
        let Some(header) = request.header("authorization") else {
            return if self.anonymous_pull {
                Ok(None)
            } else {
                Err(String::from("credentials required"))
            };
        };
        let (scheme, encoded) = header.split_once(' ').unwrap_or((header, ""));
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(format!("unsupported authorization scheme {scheme:?}"));
        }
        let decoded = STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|d| String::from_utf8(d).ok())
            .ok_or_else(|| String::from("malformed Basic credentials"))?;
        let (user, password) = decoded
            .split_once(':')
            .ok_or_else(|| String::from("malformed Basic credentials"))?;
        match &self.credentials {
            Some(c) if c.username == user && c.password == password => Ok(Some(user.to_owned())),
            _ => Err(String::from("invalid username or password")),
        }
    }

    /// Sign a token and record it; the JSON body of the answer.
    fn issue(&self, subject: Option<String>, access: Vec<Grant>) -> Result<serde_json::Value> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let secs = now.as_secs();
        let sequence = self.sequence.fetch_add(1, Ordering::SeqCst);
        let header = json!({
            "typ": "JWT",
            "alg": "RS256",
            "x5c": [self.signer.x5c],
        });
        let claims = json!({
            "iss": ISSUER,
            "sub": subject.clone().unwrap_or_default(),
            "aud": SERVICE,
            "exp": secs + TOKEN_LIFETIME.as_secs(),
            "nbf": secs,
            "iat": secs,
            "jti": format!("palisade-{}-{sequence}", now.as_nanos()),
            "access": access
                .iter()
                .map(|g| json!({"type": "repository", "name": g.repository, "actions": g.actions}))
                .collect::<Vec<_>>(),
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.signer.sign(signing_input.as_bytes())?;
        let jwt = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature));
        self.issued_tokens().push(IssuedToken { subject, access });
        Ok(json!({
            "token": jwt,
            "access_token": jwt,
            "expires_in": TOKEN_LIFETIME.as_secs(),
            "issued_at": rfc3339(secs),
        }))
    }
}

/// Grants for `scopes` (`repository:NAME:pull,push`): the requested
/// actions among `pull` and `push` for a user, `pull` only for anonymous.
/// Other resource types and actions are silently not granted, as the
/// specification allows.
fn grant<'a>(scopes: impl Iterator<Item = &'a str>, authenticated: bool) -> Vec<Grant> {
    let mut grants: Vec<Grant> = Vec::new();
    for scope in scopes {
        let Some((kind, rest)) = scope.split_once(':') else {
            continue;
        };
        let Some((name, actions)) = rest.rsplit_once(':') else {
            continue;
        };
        if kind != "repository" || name.is_empty() {
            continue;
        }
        let allowed = actions
            .split(',')
            .filter(|a| GRANTABLE.contains(a) && (authenticated || *a == "pull"));
        let index = match grants.iter().position(|g| g.repository == name) {
            Some(i) => i,
            None => {
                grants.push(Grant {
                    repository: name.to_owned(),
                    actions: Vec::new(),
                });
                grants.len() - 1
            }
        };
        if let Some(entry) = grants.get_mut(index) {
            for action in allowed {
                if !entry.actions.iter().any(|a| a == action) {
                    entry.actions.push(action.to_owned());
                }
            }
        }
    }
    grants.retain(|g| !g.actions.is_empty());
    grants
}

/// The RS256 signing key and its self-signed certificate.
#[derive(Debug)]
struct Signer {
    key: PathBuf,
    cert: PathBuf,
    /// The certificate, DER in standard base64, for the `x5c` header.
    x5c: String,
}

impl Signer {
    /// `dir/signing.key` and `dir/signing.crt`: RSA 2048, self-signed,
    /// `keyUsage=digitalSignature`, valid for two days.
    fn generate(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        let key = dir.join("signing.key");
        let cert = dir.join("signing.crt");
        run(Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=palisade-testkit token signer"])
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .args(["-addext", "keyUsage=critical,digitalSignature"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert))?;
        let der = run(Command::new("openssl")
            .args(["x509", "-outform", "der", "-in"])
            .arg(&cert))?
        .stdout;
        Ok(Signer {
            key,
            cert,
            x5c: STANDARD.encode(der),
        })
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `input`.
    fn sign(&self, input: &[u8]) -> Result<Vec<u8>> {
        let output = run_with_stdin(
            Command::new("openssl")
                .args(["dgst", "-sha256", "-sign"])
                .arg(&self.key),
            input,
        )?;
        Ok(output.stdout)
    }
}

/// One parsed request head.
#[derive(Debug)]
struct Request {
    method: String,
    target: String,
    /// Names lowercased.
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Response {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Response {
    fn json(status: u16, body: &serde_json::Value) -> Self {
        Response {
            status,
            headers: vec![("Content-Type", String::from("application/json"))],
            body: body.to_string().into_bytes(),
        }
    }

    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    fn write_to(&self, mut out: impl Write) -> std::io::Result<()> {
        let reason = match self.status {
            200 => "OK",
            400 => "Bad Request",
            401 => "Unauthorized",
            404 => "Not Found",
            405 => "Method Not Allowed",
            431 => "Request Header Fields Too Large",
            _ => "Internal Server Error",
        };
        let mut head = format!("HTTP/1.1 {} {reason}\r\n", self.status);
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.body.len()
        ));
        out.write_all(head.as_bytes())?;
        out.write_all(&self.body)?;
        out.flush()
    }
}

fn serve_connection(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let response = match read_request(&stream) {
        Ok(Some(request)) => shared.answer(&request),
        // Closed before a full request (such as the wake-up connection).
        Ok(None) => return,
        Err(status) => Response::json(status, &json!({"details": "malformed request"})),
    };
    let _ = response.write_to(&stream);
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// Read a request head; `Ok(None)` if the peer closed first, `Err(status)`
/// for a malformed or oversized head. Request bodies are never read.
fn read_request(stream: &TcpStream) -> Result<Option<Request>, u16> {
    let mut reader = BufReader::new(stream);
    let mut total = 0usize;
    let mut lines: Vec<String> = Vec::new();
    loop {
        let mut line = Vec::new();
        let n = (&mut reader)
            .take((MAX_REQUEST_HEAD - total + 1) as u64)
            .read_until(b'\n', &mut line)
            .map_err(|_| 400u16)?;
        if n == 0 {
            return if lines.is_empty() { Ok(None) } else { Err(400) };
        }
        total += n;
        if total > MAX_REQUEST_HEAD {
            return Err(431);
        }
        let line = String::from_utf8(line).map_err(|_| 400u16)?;
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if lines.is_empty() {
                continue; // Tolerate a leading empty line (RFC 9112 §2.2).
            }
            break;
        }
        lines.push(line.to_owned());
    }
    let mut iter = lines.into_iter();
    let request_line = iter.next().ok_or(400u16)?;
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(400);
    };
    if !version.starts_with("HTTP/1.") {
        return Err(400);
    }
    let mut headers = Vec::new();
    for line in iter {
        let (name, value) = line.split_once(':').ok_or(400u16)?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    Ok(Some(Request {
        method: method.to_owned(),
        target: target.to_owned(),
        headers,
    }))
}

/// `a=1&b=x%3Ay` as decoded pairs, in order; `+` is a space.
fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(v) = hex {
                    out.push(v);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encode everything but RFC 3986 unreserved characters.
pub(crate) fn percent_encode(s: &str) -> String {
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

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
fn rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (days ≥ 0),
/// by 400-year eras of 146 097 days starting on 0000-03-01.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468; // Days since 0000-03-01.
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153; // Month from March = 0.
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// `Bearer realm="…",service="…",scope="…"` as lowercase-keyed pairs;
/// `None` if the scheme is not Bearer.
pub(crate) fn parse_bearer_challenge(header: &str) -> Option<Vec<(String, String)>> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',') {
                value.push(c);
            }
        }
        params.push((key.trim().to_ascii_lowercase(), value));
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_grant_pull_and_push_only() {
        let scopes = [
            "repository:library/alpine:pull,push",
            "repository:127.0.0.1:5000/x:pull,delete",
            "registry:catalog:*",
            "repository:library/alpine:pull",
        ];
        let user = grant(scopes.iter().copied(), true);
        assert_eq!(
            user,
            [
                Grant {
                    repository: "library/alpine".into(),
                    actions: vec!["pull".into(), "push".into()]
                },
                Grant {
                    repository: "127.0.0.1:5000/x".into(),
                    actions: vec!["pull".into()]
                },
            ]
        );
        let anonymous = grant(scopes.iter().copied(), false);
        assert!(anonymous.iter().all(|g| g.actions == ["pull"]));
    }

    #[test]
    fn query_and_challenge_parsing() {
        assert_eq!(
            parse_query("scope=repository%3Aa%2Fb%3Apull%2Cpush&service=s+t&x"),
            [
                ("scope".into(), "repository:a/b:pull,push".into()),
                ("service".into(), "s t".into()),
                ("x".into(), String::new()),
            ]
        );
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(
            percent_encode("repository:a/b:pull,push"),
            "repository%3Aa%2Fb%3Apull%2Cpush"
        );
        let c = parse_bearer_challenge(
            r#"Bearer realm="http://127.0.0.1:1/token",service="svc",scope="repository:a:pull,push",error="insufficient_scope""#,
        )
        .unwrap();
        assert_eq!(
            c,
            [
                ("realm".into(), "http://127.0.0.1:1/token".into()),
                ("service".into(), "svc".into()),
                ("scope".into(), "repository:a:pull,push".into()),
                ("error".into(), "insufficient_scope".into()),
            ]
        );
        assert_eq!(parse_bearer_challenge("Basic realm=\"x\""), None);
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(rfc3339(4_102_444_800), "2100-01-01T00:00:00Z");
    }
}
