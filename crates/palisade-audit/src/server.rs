//! The audit webhook backend: an HTTPS endpoint the API server POSTs
//! `EventList` batches to (`--audit-webhook-config-file`).
//!
//! The API server must never wait on us, so a request is answered as soon as
//! its events are decoded and queued: `200` when queued, `429` with
//! `Retry-After` when the queue is full (the API server's webhook backend
//! retries), `400` for bodies that are not audit events, `413` past the body
//! limit. Batches are handed to a [`BatchHandler`] (rule evaluation, alert
//! output) on a dedicated thread. On shutdown the server stops accepting,
//! lets requests in flight finish, drains the queue through the handler,
//! calls [`BatchHandler::finish`] and returns the handler, so nothing that
//! was acknowledged is lost.
//!
//! ```no_run
//! # async fn run() -> Result<(), palisade_audit::server::ServerError> {
//! use palisade_audit::server::{shutdown_signal, AuditServer, Batch, ServerConfig};
//! let config = ServerConfig::new("127.0.0.1:8443".parse().unwrap());
//! let server = AuditServer::bind(config).await?;
//! eprintln!("ready: listening on {}", server.local_addr());
//! let report = server.run(|batch: Batch| { let _ = batch.events.len(); }, shutdown_signal()).await?;
//! eprintln!("{:?}", report.stats);
//! # Ok(()) }
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{
    HeaderValue, ALLOW, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER,
};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio::task::JoinSet;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

use crate::{decode_document, AuditEvent, DecodeError, DecodeWarning, Limits};

/// PEM files for the server's TLS identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain (leaf first), PEM.
    pub cert: PathBuf,
    /// Private key (PKCS#8, PKCS#1 or SEC1), PEM.
    pub key: PathBuf,
}

/// Webhook server settings.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// TLS identity; without it the server speaks plain HTTP, which is only
    /// allowed on a loopback address.
    pub tls: Option<TlsFiles>,
    /// Largest request body (after gzip decoding) before answering `413`.
    /// The API server's batching backend sends at most
    /// `--audit-webhook-batch-max-size` (400) events per request.
    pub max_body_bytes: usize,
    /// Budget of queued, not yet evaluated data, in bytes (the bodies plus
    /// per-event overhead). A batch that does not fit is answered `429`.
    pub queue_bytes: usize,
    /// `Retry-After` seconds sent with `429` and `503`.
    pub retry_after_secs: u32,
    /// Decoding limits (per event).
    pub limits: Limits,
    /// Connections served at once; more are closed at accept.
    pub max_connections: usize,
    /// Time allowed for the TLS handshake, the request headers and the body.
    pub read_timeout: Duration,
    /// On shutdown, how long requests in flight may take to finish.
    pub shutdown_grace: Duration,
    /// Tag events with this cluster name (`ka.cluster.name`).
    pub cluster_name: Option<String>,
}

impl ServerConfig {
    /// Defaults for `listen`: no TLS, 32 MiB bodies, 32 MiB queue, 256
    /// connections, 30 s read timeout, 10 s shutdown grace.
    pub fn new(listen: SocketAddr) -> Self {
        ServerConfig {
            listen,
            tls: None,
            max_body_bytes: 32 << 20,
            queue_bytes: 32 << 20,
            retry_after_secs: 1,
            limits: Limits::default(),
            max_connections: 256,
            read_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
            cluster_name: None,
        }
    }
}

/// The server could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Binding the listen address failed.
    #[error("cannot listen on {addr}: {error}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        error: std::io::Error,
    },
    /// Plain HTTP was asked for on a non-loopback address.
    #[error("refusing plain HTTP on {addr}: give --tls-cert and --tls-key, or listen on a loopback address")]
    PlainHttpNotLoopback {
        /// The address.
        addr: SocketAddr,
    },
    /// The certificate or key could not be used.
    #[error("{path}: {message}")]
    Tls {
        /// The PEM file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The batch handler panicked; events queued after it were not evaluated.
    #[error("the audit event handler panicked: {0}")]
    Handler(String),
}

/// A batch of events from one request.
#[derive(Debug)]
pub struct Batch {
    /// The events, in the order the API server sent them.
    pub events: Vec<AuditEvent>,
    /// Items of the request that were skipped.
    pub warnings: Vec<DecodeWarning>,
    /// The client.
    pub peer: SocketAddr,
}

/// Consumes queued batches on the evaluation thread.
pub trait BatchHandler: Send + 'static {
    /// Handle one batch (evaluate rules, write alerts). Blocking is fine:
    /// the queue absorbs bursts and the server answers `429` when it is full.
    fn handle(&mut self, batch: Batch);

    /// Called once after the last batch, before the server returns (flush
    /// outputs here).
    fn finish(&mut self) {}
}

impl<F: FnMut(Batch) + Send + 'static> BatchHandler for F {
    fn handle(&mut self, batch: Batch) {
        self(batch);
    }
}

#[derive(Debug, Default)]
struct Counters {
    connections: AtomicU64,
    connections_refused: AtomicU64,
    tls_failures: AtomicU64,
    requests: AtomicU64,
    batches_accepted: AtomicU64,
    events_accepted: AtomicU64,
    events_evaluated: AtomicU64,
    rejected_busy: AtomicU64,
    rejected_malformed: AtomicU64,
    rejected_too_large: AtomicU64,
    decode_warnings: AtomicU64,
}

/// Counters of a server run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Connections accepted.
    pub connections: u64,
    /// Connections closed at accept (over `max_connections`).
    pub connections_refused: u64,
    /// TLS handshakes that failed or timed out.
    pub tls_failures: u64,
    /// HTTP requests received.
    pub requests: u64,
    /// Batches queued (answered 200).
    pub batches_accepted: u64,
    /// Events queued.
    pub events_accepted: u64,
    /// Events handed to the handler.
    pub events_evaluated: u64,
    /// Requests answered 429 because the queue was full.
    pub rejected_busy: u64,
    /// Requests answered 400.
    pub rejected_malformed: u64,
    /// Requests answered 413.
    pub rejected_too_large: u64,
    /// Items skipped inside accepted batches.
    pub decode_warnings: u64,
}

impl Counters {
    fn snapshot(&self) -> ServerStats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ServerStats {
            connections: g(&self.connections),
            connections_refused: g(&self.connections_refused),
            tls_failures: g(&self.tls_failures),
            requests: g(&self.requests),
            batches_accepted: g(&self.batches_accepted),
            events_accepted: g(&self.events_accepted),
            events_evaluated: g(&self.events_evaluated),
            rejected_busy: g(&self.rejected_busy),
            rejected_malformed: g(&self.rejected_malformed),
            rejected_too_large: g(&self.rejected_too_large),
            decode_warnings: g(&self.decode_warnings),
        }
    }
}

fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

/// A live view of a running server's counters.
#[derive(Clone, Debug)]
pub struct StatsHandle(Arc<Counters>);

impl StatsHandle {
    /// The counters now.
    pub fn get(&self) -> ServerStats {
        self.0.snapshot()
    }
}

/// What [`AuditServer::run`] hands back.
#[derive(Debug)]
pub struct ServeReport<H> {
    /// The handler, after [`BatchHandler::finish`].
    pub handler: H,
    /// Final counters.
    pub stats: ServerStats,
}

/// A bound, not yet serving, webhook server.
pub struct AuditServer {
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    config: ServerConfig,
    local_addr: SocketAddr,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for AuditServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditServer")
            .field("local_addr", &self.local_addr)
            .field("tls", &self.acceptor.is_some())
            .finish_non_exhaustive()
    }
}

fn tls_error(path: &std::path::Path, message: impl std::fmt::Display) -> ServerError {
    ServerError::Tls {
        path: path.to_owned(),
        message: message.to_string(),
    }
}

/// Build a TLS acceptor from PEM files (HTTP/1.1 only, TLS 1.2 and 1.3).
pub fn tls_acceptor(files: &TlsFiles) -> Result<TlsAcceptor, ServerError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let certs = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| tls_error(&files.cert, format!("cannot read certificates: {e}")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_error(&files.cert, format!("invalid PEM certificate: {e}")))?;
    if certs.is_empty() {
        return Err(tls_error(&files.cert, "no certificate in the file"));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| tls_error(&files.key, format!("cannot read a private key: {e}")))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(&files.cert, e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| tls_error(&files.key, format!("certificate and key do not fit: {e}")))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(cfg)))
}

impl AuditServer {
    /// Load the TLS identity and bind the listen address. Once this returns
    /// the port accepts connections (queued until [`AuditServer::run`]).
    pub async fn bind(config: ServerConfig) -> Result<AuditServer, ServerError> {
        let acceptor = match &config.tls {
            Some(files) => Some(tls_acceptor(files)?),
            None if config.listen.ip().is_loopback() => None,
            None => {
                return Err(ServerError::PlainHttpNotLoopback {
                    addr: config.listen,
                })
            }
        };
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|error| ServerError::Bind {
                    addr: config.listen,
                    error,
                })?;
        let local_addr = listener.local_addr().map_err(|error| ServerError::Bind {
            addr: config.listen,
            error,
        })?;
        Ok(AuditServer {
            listener,
            acceptor,
            config,
            local_addr,
            counters: Arc::default(),
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Whether the server speaks TLS.
    pub fn is_tls(&self) -> bool {
        self.acceptor.is_some()
    }

    /// Live counters.
    pub fn stats(&self) -> StatsHandle {
        StatsHandle(self.counters.clone())
    }

    /// Serve until `shutdown` completes, then drain (see the module docs).
    pub async fn run<H, F>(self, handler: H, shutdown: F) -> Result<ServeReport<H>, ServerError>
    where
        H: BatchHandler,
        F: Future<Output = ()>,
    {
        let AuditServer {
            listener,
            acceptor,
            config,
            local_addr,
            counters,
        } = self;
        let queue_permits = config
            .queue_bytes
            .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
        let (tx, rx) = mpsc::unbounded_channel::<Queued>();
        let shared = Arc::new(Shared {
            budget: Arc::new(Semaphore::new(queue_permits)),
            budget_total: queue_permits,
            cluster: config.cluster_name.as_deref().map(Arc::from),
            config,
            counters: counters.clone(),
        });
        let evaluator = spawn_evaluator(handler, rx, counters.clone());
        tracing::info!(target: "palisade_audit", addr = %local_addr, tls = acceptor.is_some(), "audit webhook ready");

        let (stop_tx, stop_rx) = watch::channel(false);
        let conn_limit = Arc::new(Semaphore::new(shared.config.max_connections.max(1)));
        let mut conns = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some(done) = conns.join_next(), if !conns.is_empty() => {
                    if let Err(e) = done {
                        tracing::warn!(target: "palisade_audit", "connection task failed: {e}");
                    }
                }
                accepted = listener.accept() => {
                    let (tcp, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // Out of file descriptors and the like: back off.
                            tracing::warn!(target: "palisade_audit", "accept failed: {e}");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let Ok(permit) = conn_limit.clone().try_acquire_owned() else {
                        bump(&counters.connections_refused, 1);
                        drop(tcp);
                        continue;
                    };
                    bump(&counters.connections, 1);
                    conns.spawn(serve_connection(
                        tcp,
                        peer,
                        acceptor.clone(),
                        shared.clone(),
                        tx.clone(),
                        stop_rx.clone(),
                        permit,
                    ));
                }
            }
        }

        // Stop accepting, let requests in flight finish, then drain.
        drop(listener);
        tracing::info!(target: "palisade_audit", in_flight = conns.len(), "audit webhook stopping");
        let _ = stop_tx.send(true);
        let deadline = tokio::time::sleep(shared.config.shutdown_grace);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                next = conns.join_next() => {
                    if next.is_none() {
                        break;
                    }
                }
                () = &mut deadline => {
                    tracing::warn!(target: "palisade_audit", open = conns.len(), "closing connections still open after the grace period");
                    conns.abort_all();
                    while conns.join_next().await.is_some() {}
                    break;
                }
            }
        }
        drop(tx);
        let handler = evaluator
            .await
            .map_err(|e| ServerError::Handler(e.to_string()))?;
        let stats = counters.snapshot();
        tracing::info!(target: "palisade_audit", ?stats, "audit webhook stopped");
        Ok(ServeReport { handler, stats })
    }
}

/// A queued batch and the queue budget it holds until evaluated.
struct Queued {
    batch: Batch,
    _permit: OwnedSemaphorePermit,
}

struct Shared {
    config: ServerConfig,
    counters: Arc<Counters>,
    budget: Arc<Semaphore>,
    budget_total: usize,
    cluster: Option<Arc<str>>,
}

fn spawn_evaluator<H: BatchHandler>(
    mut handler: H,
    mut rx: mpsc::UnboundedReceiver<Queued>,
    counters: Arc<Counters>,
) -> tokio::task::JoinHandle<H> {
    tokio::task::spawn_blocking(move || {
        while let Some(q) = rx.blocking_recv() {
            let n = q.batch.events.len() as u64;
            handler.handle(q.batch);
            bump(&counters.events_evaluated, n);
        }
        handler.finish();
        handler
    })
}

async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    tx: mpsc::UnboundedSender<Queued>,
    stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let _ = tcp.set_nodelay(true);
    let timeout = shared.config.read_timeout;
    match acceptor {
        Some(acceptor) => match tokio::time::timeout(timeout, acceptor.accept(tcp)).await {
            Ok(Ok(tls)) => serve_http(TokioIo::new(tls), peer, shared, tx, stop).await,
            Ok(Err(e)) => {
                bump(&shared.counters.tls_failures, 1);
                tracing::debug!(target: "palisade_audit", %peer, "TLS handshake failed: {e}");
            }
            Err(_) => {
                bump(&shared.counters.tls_failures, 1);
                tracing::debug!(target: "palisade_audit", %peer, "TLS handshake timed out");
            }
        },
        None => serve_http(TokioIo::new(tcp), peer, shared, tx, stop).await,
    }
}

async fn serve_http<I>(
    io: I,
    peer: SocketAddr,
    shared: Arc<Shared>,
    tx: mpsc::UnboundedSender<Queued>,
    mut stop: watch::Receiver<bool>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let timeout = shared.config.read_timeout;
    let service = service_fn(move |req| {
        let shared = shared.clone();
        let tx = tx.clone();
        async move { Ok::<_, Infallible>(handle_request(req, peer, &shared, &tx).await) }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let stopping = *stop.borrow_and_update();
    if stopping {
        conn.as_mut().graceful_shutdown();
    } else {
        tokio::select! {
            res = conn.as_mut() => {
                if let Err(e) = res {
                    tracing::debug!(target: "palisade_audit", %peer, "connection ended: {e}");
                }
                return;
            }
            _ = stop.changed() => conn.as_mut().graceful_shutdown(),
        }
    }
    if let Err(e) = conn.await {
        tracing::debug!(target: "palisade_audit", %peer, "connection ended: {e}");
    }
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn retry_later(status: StatusCode, secs: u32, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = reply(status, body);
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert(RETRY_AFTER, v);
    }
    r
}

async fn handle_request(
    req: Request<Incoming>,
    peer: SocketAddr,
    shared: &Arc<Shared>,
    tx: &mpsc::UnboundedSender<Queued>,
) -> Response<Full<Bytes>> {
    let c = &shared.counters;
    bump(&c.requests, 1);
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/healthz") => return reply(StatusCode::OK, "ok\n"),
        (&Method::GET, "/metrics") => return reply(StatusCode::OK, metrics_text(&c.snapshot())),
        (&Method::POST, _) => {}
        _ => {
            let mut r = reply(
                StatusCode::METHOD_NOT_ALLOWED,
                "POST audit EventList batches\n",
            );
            r.headers_mut()
                .insert(ALLOW, HeaderValue::from_static("POST"));
            return r;
        }
    }
    let max = shared.config.max_body_bytes;
    let too_large = || {
        bump(&c.rejected_too_large, 1);
        reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body exceeds {max} bytes\n"),
        )
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return too_large();
    }
    let gzip = match req
        .headers()
        .get(CONTENT_ENCODING)
        .map(HeaderValue::as_bytes)
    {
        None | Some(b"identity") => false,
        Some(b"gzip") => true,
        Some(_) => {
            bump(&c.rejected_malformed, 1);
            return reply(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported content encoding\n",
            );
        }
    };
    let body = Limited::new(req.into_body(), max);
    let collected = tokio::time::timeout(shared.config.read_timeout, body.collect()).await;
    let bytes = match collected {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) if e.is::<LengthLimitError>() => return too_large(),
        Ok(Err(e)) => {
            bump(&c.rejected_malformed, 1);
            return reply(StatusCode::BAD_REQUEST, format!("cannot read body: {e}\n"));
        }
        Err(_) => {
            bump(&c.rejected_malformed, 1);
            return reply(StatusCode::REQUEST_TIMEOUT, "body not received in time\n");
        }
    };
    let bytes = if gzip {
        let mut out = Vec::new();
        let limit = max as u64 + 1;
        match flate2::read::GzDecoder::new(bytes.as_ref())
            .take(limit)
            .read_to_end(&mut out)
        {
            Ok(n) if n as u64 >= limit => return too_large(),
            Ok(_) => Bytes::from(out),
            Err(e) => {
                bump(&c.rejected_malformed, 1);
                return reply(StatusCode::BAD_REQUEST, format!("invalid gzip body: {e}\n"));
            }
        }
    } else {
        bytes
    };
    let input = format!("webhook {peer}");
    let limits = shared.config.limits.clone();
    let decoded = if bytes.len() > 1 << 20 {
        // Large batches are decoded off the I/O threads.
        let input = input.clone();
        let body = bytes.clone();
        tokio::task::spawn_blocking(move || decode_body(&body, &input, &limits))
            .await
            .unwrap_or_else(|e| Err(BodyError::Internal(e.to_string())))
    } else {
        decode_body(&bytes, &input, &limits)
    };
    let decoded = match decoded {
        Ok(d) => d,
        Err(e) => {
            bump(&c.rejected_malformed, 1);
            tracing::debug!(target: "palisade_audit", %peer, "rejected body: {e}");
            return reply(StatusCode::BAD_REQUEST, format!("{e}\n"));
        }
    };
    if decoded.events.is_empty() && !decoded.warnings.is_empty() {
        bump(&c.rejected_malformed, 1);
        let first = decoded
            .warnings
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        return reply(
            StatusCode::BAD_REQUEST,
            format!("no valid audit event: {first}\n"),
        );
    }
    for w in &decoded.warnings {
        tracing::warn!(target: "palisade_audit", "{w}");
    }
    bump(&c.decode_warnings, decoded.warnings.len() as u64);
    let mut events = decoded.events;
    if let Some(cluster) = &shared.cluster {
        for e in &mut events {
            e.set_cluster_name(cluster.clone());
        }
    }
    let n = events.len() as u64;
    let cost = bytes.len() + events.len() * std::mem::size_of::<AuditEvent>();
    if cost > shared.budget_total {
        return too_large();
    }
    let permit = match u32::try_from(cost)
        .ok()
        .map(|cost| shared.budget.clone().try_acquire_many_owned(cost))
    {
        Some(Ok(p)) => p,
        Some(Err(TryAcquireError::NoPermits)) | None => {
            bump(&c.rejected_busy, 1);
            return retry_later(
                StatusCode::TOO_MANY_REQUESTS,
                shared.config.retry_after_secs,
                "queue full, retry later\n",
            );
        }
        Some(Err(TryAcquireError::Closed)) => {
            return retry_later(
                StatusCode::SERVICE_UNAVAILABLE,
                shared.config.retry_after_secs,
                "shutting down\n",
            );
        }
    };
    let queued = Queued {
        batch: Batch {
            events,
            warnings: decoded.warnings,
            peer,
        },
        _permit: permit,
    };
    if tx.send(queued).is_err() {
        return retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            shared.config.retry_after_secs,
            "shutting down\n",
        );
    }
    bump(&c.batches_accepted, 1);
    bump(&c.events_accepted, n);
    reply(StatusCode::OK, "")
}

#[derive(Debug, thiserror::Error)]
enum BodyError {
    #[error("body is not UTF-8")]
    Utf8,
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("internal error: {0}")]
    Internal(String),
}

fn decode_body(bytes: &[u8], input: &str, limits: &Limits) -> Result<crate::Decoded, BodyError> {
    let text = std::str::from_utf8(bytes).map_err(|_| BodyError::Utf8)?;
    // The body is limited by `max_body_bytes` already.
    let limits = Limits {
        max_document_bytes: usize::MAX,
        ..limits.clone()
    };
    Ok(decode_document(text, input, &limits)?)
}

/// Prometheus text exposition of the counters.
fn metrics_text(s: &ServerStats) -> String {
    let rows = [
        ("connections_total", "Connections accepted.", s.connections),
        (
            "connections_refused_total",
            "Connections closed at accept (limit).",
            s.connections_refused,
        ),
        (
            "tls_failures_total",
            "TLS handshakes that failed.",
            s.tls_failures,
        ),
        ("requests_total", "HTTP requests.", s.requests),
        (
            "batches_accepted_total",
            "Batches queued.",
            s.batches_accepted,
        ),
        ("events_accepted_total", "Events queued.", s.events_accepted),
        (
            "events_evaluated_total",
            "Events handed to the rule engine.",
            s.events_evaluated,
        ),
        (
            "rejected_busy_total",
            "Requests answered 429 (queue full).",
            s.rejected_busy,
        ),
        (
            "rejected_malformed_total",
            "Requests answered 400.",
            s.rejected_malformed,
        ),
        (
            "rejected_too_large_total",
            "Requests answered 413.",
            s.rejected_too_large,
        ),
        (
            "decode_warnings_total",
            "Batch items skipped.",
            s.decode_warnings,
        ),
    ];
    let mut out = String::new();
    for (name, help, v) in rows {
        out.push_str(&format!(
            "# HELP palisade_audit_webhook_{name} {help}\n# TYPE palisade_audit_webhook_{name} counter\npalisade_audit_webhook_{name} {v}\n"
        ));
    }
    out
}

/// Completes on SIGINT or SIGTERM (Ctrl-C elsewhere).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(target: "palisade_audit", "cannot watch SIGTERM: {e}");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!(target: "palisade_audit", "shutdown signal received");
}
