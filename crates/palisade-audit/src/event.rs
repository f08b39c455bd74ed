//! Decoding `audit.k8s.io/v1` `Event` and `EventList` JSON into
//! [`AuditEvent`]s.
//!
//! One pass of `serde_json` over a document validates it and pulls out the
//! fields rules use most (verb, user, objectRef, response code, stage, …)
//! as borrowed strings; `requestObject`, `responseObject` and `annotations`
//! are kept as unparsed [`RawValue`] spans and walked only when a field asks
//! for something inside them (see [`crate::fields`]). The event keeps the
//! document text it came from (an `Arc<str>` shared by all items of one
//! `EventList`), and every extracted string is a span into it, so an event
//! owns its data and costs one copy of the input plus a few small vectors.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::json;
use crate::time::parse_rfc3339;
use crate::warning::{DecodeWarning, WarningKind, Warnings};
use crate::Limits;

/// A string of an event: a span of the event's text, or an owned copy when
/// the JSON string held escapes.
#[derive(Clone, Debug)]
enum Text {
    Span(u32, u32),
    Owned(Box<str>),
}

fn span_of(base: &str, s: &str) -> Option<(u32, u32)> {
    let start = (s.as_ptr() as usize).checked_sub(base.as_ptr() as usize)?;
    let end = start.checked_add(s.len())?;
    if end > base.len() {
        return None;
    }
    Some((u32::try_from(start).ok()?, u32::try_from(end).ok()?))
}

fn to_text(base: &str, c: Cow<'_, str>) -> Text {
    match c {
        Cow::Borrowed(s) => match span_of(base, s) {
            Some((a, b)) => Text::Span(a, b),
            None => Text::Owned(s.into()),
        },
        Cow::Owned(s) => Text::Owned(s.into_boxed_str()),
    }
}

fn opt_text(base: &str, c: Option<Cow<'_, str>>) -> Option<Text> {
    c.map(|c| to_text(base, c))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserView<'a> {
    #[serde(borrow, default)]
    username: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    uid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    groups: Option<Vec<Cow<'a, str>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ObjectRefView<'a> {
    #[serde(borrow, default)]
    resource: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    namespace: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    uid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    api_group: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    api_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    subresource: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusView<'a> {
    /// Kept as text: `ka.response.code` is the number as written.
    #[serde(borrow, default)]
    code: Option<&'a RawValue>,
    #[serde(borrow, default)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reason: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
}

/// The fields of an `Event` (and the `items` of an `EventList`) that are
/// decoded eagerly. Unknown fields are validated and skipped.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventView<'a> {
    /// Kept raw so that `{"kind": 0}` is "not an audit event", not a type error.
    #[serde(borrow, default)]
    kind: Option<&'a RawValue>,
    #[serde(borrow, default)]
    api_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    level: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "auditID")]
    audit_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    stage: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "requestURI")]
    request_uri: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    verb: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    user: Option<UserView<'a>>,
    #[serde(borrow, default)]
    impersonated_user: Option<UserView<'a>>,
    #[serde(borrow, default, rename = "sourceIPs")]
    source_ips: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow, default)]
    user_agent: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    object_ref: Option<ObjectRefView<'a>>,
    #[serde(borrow, default)]
    response_status: Option<StatusView<'a>>,
    #[serde(borrow, default)]
    request_object: Option<&'a RawValue>,
    #[serde(borrow, default)]
    response_object: Option<&'a RawValue>,
    #[serde(borrow, default)]
    annotations: Option<&'a RawValue>,
    #[serde(borrow, default)]
    request_received_timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    stage_timestamp: Option<Cow<'a, str>>,
    /// `audit.k8s.io/v1beta1` only.
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    /// `EventList` only.
    #[serde(borrow, default)]
    items: Option<Vec<&'a RawValue>>,
}

#[derive(Clone, Debug, Default)]
struct User {
    name: Option<Text>,
    uid: Option<Text>,
    groups: Vec<Text>,
}

#[derive(Clone, Debug, Default)]
struct ObjectRef {
    resource: Option<Text>,
    namespace: Option<Text>,
    name: Option<Text>,
    uid: Option<Text>,
    api_group: Option<Text>,
    api_version: Option<Text>,
    subresource: Option<Text>,
}

/// Where an event came from: the input (file path, `<stdin>`, `webhook …`)
/// and the 1-based line it starts on, when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// File path, `<stdin>` or `webhook <peer address>`.
    pub input: Arc<str>,
    /// 1-based line number in the input, when it is a file.
    pub line: Option<u64>,
}

/// One Kubernetes audit event (`audit.k8s.io/v1` or `v1beta1` `Event`).
///
/// Accessors return what the API server wrote, unescaped. The whole event
/// stays available as JSON text ([`AuditEvent::json`]) for `jevt.*` fields
/// and JSON pointers ([`AuditEvent::pointer`]).
#[derive(Clone, Debug)]
pub struct AuditEvent {
    buf: Arc<str>,
    root: (u32, u32),
    origin: Option<Origin>,
    cluster: Option<Arc<str>>,
    api_version: Option<Text>,
    level: Option<Text>,
    audit_id: Option<Text>,
    stage: Option<Text>,
    request_uri: Option<Text>,
    verb: Option<Text>,
    user: User,
    impersonated: Option<User>,
    source_ips: Vec<Text>,
    user_agent: Option<Text>,
    object_ref: Option<ObjectRef>,
    response_code: Option<i64>,
    response_code_text: Option<(u32, u32)>,
    response_status: Option<Text>,
    response_reason: Option<Text>,
    response_message: Option<Text>,
    request_object: Option<(u32, u32)>,
    response_object: Option<(u32, u32)>,
    annotations: Option<(u32, u32)>,
    time_ns: u64,
    has_timestamp: bool,
    /// `requestObject.spec`, found on first use (pod fields read it often).
    req_spec: std::sync::OnceLock<Option<(u32, u32)>>,
}

/// A whole document could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not JSON, or a field of the wrong type.
    #[error("{input}: malformed audit JSON: {error}")]
    Malformed {
        /// The input named in the message.
        input: String,
        /// The parser's error (line and column inside the document).
        #[source]
        error: serde_json::Error,
    },
    /// Valid JSON that is neither an `Event` nor an `EventList`.
    #[error("{input}: data not recognized as a k8s audit event (kind {kind:?})")]
    NotAuditEvent {
        /// The input named in the message.
        input: String,
        /// The `kind` it declared, if any.
        kind: Option<String>,
    },
    /// Larger than the limit for one document.
    #[error("{input}: {bytes} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The input named in the message.
        input: String,
        /// Its size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
}

/// The events of one document, and the items that were skipped.
#[derive(Debug, Default)]
pub struct Decoded {
    /// Events in input order.
    pub events: Vec<AuditEvent>,
    /// Items of an `EventList` that were skipped.
    pub warnings: Vec<DecodeWarning>,
}

/// Decode one JSON document: an `Event`, an `EventList`, or a JSON array of
/// `Event`s. A broken item of a list is skipped with a warning; a broken
/// document is an error. `input` names the document in messages.
///
/// ```
/// let doc = r#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[
///   {"kind":"Event","auditID":"1","stage":"ResponseComplete","verb":"get",
///    "user":{"username":"alice"},"objectRef":{"resource":"secrets","namespace":"prod"}}]}"#;
/// let d = palisade_audit::decode_document(doc, "example", &Default::default()).unwrap();
/// assert_eq!(d.events[0].user_name(), Some("alice"));
/// assert_eq!(d.events[0].resource(), Some("secrets"));
/// ```
pub fn decode_document(text: &str, input: &str, limits: &Limits) -> Result<Decoded, DecodeError> {
    if text.len() > limits.max_document_bytes {
        return Err(DecodeError::TooLarge {
            input: input.to_owned(),
            bytes: text.len(),
            limit: limits.max_document_bytes,
        });
    }
    let buf: Arc<str> = Arc::from(text);
    let input_arc: Arc<str> = Arc::from(input);
    let mut events = VecDeque::new();
    let mut warnings = Warnings::with_capacity(limits.max_warnings);
    let ctx = DocContext {
        input: &input_arc,
        first_line: None,
        limits,
    };
    decode_into(&buf, &ctx, &mut events, &mut warnings).map_err(|e| e.into_error(input))?;
    Ok(Decoded {
        events: events.into(),
        warnings: warnings.kept().to_vec(),
    })
}

/// Why a whole document failed.
#[derive(Debug)]
pub(crate) enum DocError {
    Malformed(serde_json::Error),
    NotAudit(Option<String>),
}

impl DocError {
    pub(crate) fn into_error(self, input: &str) -> DecodeError {
        match self {
            DocError::Malformed(error) => DecodeError::Malformed {
                input: input.to_owned(),
                error,
            },
            DocError::NotAudit(kind) => DecodeError::NotAuditEvent {
                input: input.to_owned(),
                kind,
            },
        }
    }

    pub(crate) fn into_warning_kind(self) -> WarningKind {
        match self {
            DocError::Malformed(e) => WarningKind::Malformed {
                message: e.to_string(),
            },
            DocError::NotAudit(kind) => WarningKind::NotAuditEvent { kind },
        }
    }
}

/// Context of one document being decoded.
pub(crate) struct DocContext<'c> {
    pub(crate) input: &'c Arc<str>,
    /// Line of the document's first byte; `None` for webhook bodies.
    pub(crate) first_line: Option<u64>,
    pub(crate) limits: &'c Limits,
}

fn is_audit_api_version(v: Option<&Cow<'_, str>>) -> bool {
    v.is_none_or(|v| v.starts_with("audit.k8s.io/"))
}

/// The declared `kind`: `Ok(None)` when absent, `Err(text)` when not a string.
fn kind_of<'a>(kind: Option<&'a RawValue>) -> Result<Option<Cow<'a, str>>, String> {
    match kind {
        None => Ok(None),
        Some(raw) => json::as_str(raw.get())
            .map(Some)
            .ok_or_else(|| raw.get().to_owned()),
    }
}

/// Decode the document `buf` (all of it) into `out`. Returns how many events
/// were appended.
pub(crate) fn decode_into(
    buf: &Arc<str>,
    ctx: &DocContext<'_>,
    out: &mut VecDeque<AuditEvent>,
    warnings: &mut Warnings,
) -> Result<usize, DocError> {
    let text: &str = buf;
    let items = if text.trim_start().starts_with('[') {
        serde_json::from_str::<Vec<&RawValue>>(text).map_err(DocError::Malformed)?
    } else {
        let view = serde_json::from_str::<EventView<'_>>(text).map_err(DocError::Malformed)?;
        let kind = kind_of(view.kind).map_err(|k| DocError::NotAudit(Some(k)))?;
        if !is_audit_api_version(view.api_version.as_ref()) {
            return Err(DocError::NotAudit(kind.map(Cow::into_owned)));
        }
        let single = match kind.as_deref() {
            Some("EventList") => false,
            Some("Event") => true,
            None if view.audit_id.is_some() && view.items.is_none() => true,
            _ => return Err(DocError::NotAudit(kind.map(Cow::into_owned))),
        };
        if single {
            let root = span_of(text, text.trim()).unwrap_or((0, 0));
            let origin = Origin {
                input: ctx.input.clone(),
                line: ctx.first_line,
            };
            out.push_back(AuditEvent::from_view(buf, root, view, Some(origin)));
            return Ok(1);
        }
        view.items.unwrap_or_default()
    };
    let mut n = 0;
    let mut line_cursor = (0usize, ctx.first_line);
    for (i, item) in items.into_iter().enumerate() {
        let raw = item.get();
        let line = item_line(text, raw, &mut line_cursor);
        let warn = |kind| DecodeWarning {
            input: ctx.input.clone(),
            line,
            item: Some(i),
            kind,
        };
        if raw.len() > ctx.limits.max_event_bytes {
            warnings.push(warn(WarningKind::Oversized {
                bytes: raw.len() as u64,
                limit: ctx.limits.max_event_bytes,
            }));
            continue;
        }
        let view = match serde_json::from_str::<EventView<'_>>(raw) {
            Ok(v) => v,
            Err(e) => {
                warnings.push(warn(WarningKind::Malformed {
                    message: e.to_string(),
                }));
                continue;
            }
        };
        let kind = kind_of(view.kind);
        let is_event = match kind.as_ref().map(Option::as_deref) {
            Ok(Some("Event")) => true,
            Ok(None) => view.audit_id.is_some(),
            _ => false,
        };
        if !is_event || !is_audit_api_version(view.api_version.as_ref()) {
            let kind = match kind {
                Ok(k) => k.map(Cow::into_owned),
                Err(raw) => Some(raw),
            };
            warnings.push(warn(WarningKind::NotAuditEvent { kind }));
            continue;
        }
        let Some(root) = span_of(text, raw) else {
            continue;
        };
        let origin = Origin {
            input: ctx.input.clone(),
            line,
        };
        out.push_back(AuditEvent::from_view(buf, root, view, Some(origin)));
        n += 1;
    }
    Ok(n)
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The line an item starts on, counting newlines from the last item.
fn item_line(text: &str, raw: &str, cursor: &mut (usize, Option<u64>)) -> Option<u64> {
    let line = cursor.1?;
    let start = span_of(text, raw).map_or(cursor.0, |(a, _)| a as usize);
    let counted = text
        .as_bytes()
        .get(cursor.0..start)
        .map_or(0, |b| memchr::memchr_iter(b'\n', b).count() as u64);
    let line = line + counted;
    *cursor = (start.max(cursor.0), Some(line));
    Some(line)
}

impl AuditEvent {
    fn from_view(
        buf: &Arc<str>,
        root: (u32, u32),
        v: EventView<'_>,
        origin: Option<Origin>,
    ) -> AuditEvent {
        let base: &str = buf;
        let user = |u: UserView<'_>| User {
            name: opt_text(base, u.username),
            uid: opt_text(base, u.uid),
            groups: u
                .groups
                .unwrap_or_default()
                .into_iter()
                .map(|g| to_text(base, g))
                .collect(),
        };
        let raw_span = |r: Option<&RawValue>| r.and_then(|r| span_of(base, r.get()));
        let time_ns = [
            &v.stage_timestamp,
            &v.request_received_timestamp,
            &v.timestamp,
        ]
        .into_iter()
        .flatten()
        .find_map(|t| parse_rfc3339(t));
        let (response_code, response_status, response_reason, response_message) =
            match v.response_status {
                Some(s) => (
                    s.code,
                    opt_text(base, s.status),
                    opt_text(base, s.reason),
                    opt_text(base, s.message),
                ),
                None => (None, None, None, None),
            };
        // A code that is not a JSON integer is kept as text only.
        let response_code_text = response_code.and_then(|c| span_of(base, c.get().trim()));
        let response_code = response_code.and_then(|c| c.get().trim().parse::<i64>().ok());
        AuditEvent {
            buf: buf.clone(),
            root,
            origin,
            cluster: None,
            api_version: opt_text(base, v.api_version),
            level: opt_text(base, v.level),
            audit_id: opt_text(base, v.audit_id),
            stage: opt_text(base, v.stage),
            request_uri: opt_text(base, v.request_uri),
            verb: opt_text(base, v.verb),
            user: v.user.map(user).unwrap_or_default(),
            impersonated: v.impersonated_user.map(user),
            source_ips: v
                .source_ips
                .unwrap_or_default()
                .into_iter()
                .map(|s| to_text(base, s))
                .collect(),
            user_agent: opt_text(base, v.user_agent),
            object_ref: v.object_ref.map(|o| ObjectRef {
                resource: opt_text(base, o.resource),
                namespace: opt_text(base, o.namespace),
                name: opt_text(base, o.name),
                uid: opt_text(base, o.uid),
                api_group: opt_text(base, o.api_group),
                api_version: opt_text(base, o.api_version),
                subresource: opt_text(base, o.subresource),
            }),
            response_code,
            response_code_text,
            response_status,
            response_reason,
            response_message,
            request_object: raw_span(v.request_object),
            response_object: raw_span(v.response_object),
            annotations: raw_span(v.annotations),
            time_ns: time_ns.unwrap_or_else(now_ns),
            has_timestamp: time_ns.is_some(),
            req_spec: std::sync::OnceLock::new(),
        }
    }

    /// Decode a single `Event` object.
    ///
    /// ```
    /// let e = palisade_audit::AuditEvent::from_json(
    ///     r#"{"kind":"Event","auditID":"a","verb":"create","stage":"ResponseComplete"}"#,
    /// ).unwrap();
    /// assert_eq!(e.verb(), Some("create"));
    /// ```
    pub fn from_json(text: &str) -> Result<AuditEvent, DecodeError> {
        let buf: Arc<str> = Arc::from(text);
        let input: Arc<str> = Arc::from("<event>");
        let limits = Limits::default();
        let ctx = DocContext {
            input: &input,
            first_line: None,
            limits: &limits,
        };
        let mut out = VecDeque::new();
        let mut warnings = Warnings::with_capacity(0);
        decode_into(&buf, &ctx, &mut out, &mut warnings).map_err(|e| e.into_error("<event>"))?;
        match (out.pop_front(), out.is_empty()) {
            (Some(e), true) if e.root == span_of(&buf, buf.trim()).unwrap_or((0, 0)) => Ok(e),
            _ => Err(DocError::NotAudit(Some("EventList".into())).into_error("<event>")),
        }
    }

    fn t<'s>(&'s self, t: Option<&'s Text>) -> Option<&'s str> {
        match t? {
            Text::Span(a, b) => self.buf.get(*a as usize..*b as usize),
            Text::Owned(s) => Some(s),
        }
    }

    fn span(&self, s: Option<(u32, u32)>) -> Option<&str> {
        let (a, b) = s?;
        self.buf.get(a as usize..b as usize)
    }

    /// The whole event as JSON text, as received.
    pub fn json(&self) -> &str {
        self.span(Some(self.root)).unwrap_or("")
    }

    /// Follow an RFC 6901 JSON pointer (`/objectRef/name`) into the event;
    /// strings come back unescaped, anything else as compact JSON.
    pub fn pointer(&self, ptr: &str) -> Option<Cow<'_, str>> {
        let tokens = json::parse_pointer(ptr)?;
        json::pointer(self.json(), &tokens).map(json::as_text)
    }

    pub(crate) fn pointer_tokens(&self, tokens: &[String]) -> Option<&str> {
        json::pointer(self.json(), tokens)
    }

    /// Where the event came from.
    pub fn origin(&self) -> Option<&Origin> {
        self.origin.as_ref()
    }

    /// The cluster this event belongs to, when the intake was told.
    pub fn cluster_name(&self) -> Option<&str> {
        self.cluster.as_deref()
    }

    /// Tag the event with the name of its cluster (`ka.cluster.name`).
    pub fn set_cluster_name(&mut self, name: Arc<str>) {
        self.cluster = Some(name);
    }

    /// `apiVersion` (`audit.k8s.io/v1`).
    pub fn api_version(&self) -> Option<&str> {
        self.t(self.api_version.as_ref())
    }
    /// `level` (`Metadata`, `Request`, `RequestResponse`).
    pub fn level(&self) -> Option<&str> {
        self.t(self.level.as_ref())
    }
    /// `auditID`.
    pub fn audit_id(&self) -> Option<&str> {
        self.t(self.audit_id.as_ref())
    }
    /// `stage` (`RequestReceived`, `ResponseStarted`, `ResponseComplete`, `Panic`).
    pub fn stage(&self) -> Option<&str> {
        self.t(self.stage.as_ref())
    }
    /// `requestURI`.
    pub fn request_uri(&self) -> Option<&str> {
        self.t(self.request_uri.as_ref())
    }
    /// `verb` (`get`, `list`, `create`, …).
    pub fn verb(&self) -> Option<&str> {
        self.t(self.verb.as_ref())
    }
    /// `user.username`.
    pub fn user_name(&self) -> Option<&str> {
        self.t(self.user.name.as_ref())
    }
    /// `user.uid`.
    pub fn user_uid(&self) -> Option<&str> {
        self.t(self.user.uid.as_ref())
    }
    /// `user.groups`.
    pub fn user_groups(&self) -> impl Iterator<Item = &str> + '_ {
        self.user.groups.iter().filter_map(|g| self.t(Some(g)))
    }
    /// Whether the event has a `user.groups` entry.
    pub(crate) fn has_user_groups(&self) -> bool {
        !self.user.groups.is_empty()
    }
    /// `impersonatedUser.username`.
    pub fn impersonated_user_name(&self) -> Option<&str> {
        self.t(self.impersonated.as_ref().and_then(|u| u.name.as_ref()))
    }
    /// `impersonatedUser.groups`.
    pub fn impersonated_user_groups(&self) -> impl Iterator<Item = &str> + '_ {
        self.impersonated
            .iter()
            .flat_map(|u| u.groups.iter())
            .filter_map(|g| self.t(Some(g)))
    }
    /// `sourceIPs`.
    pub fn source_ips(&self) -> impl Iterator<Item = &str> + '_ {
        self.source_ips.iter().filter_map(|s| self.t(Some(s)))
    }
    pub(crate) fn source_ip_count(&self) -> usize {
        self.source_ips.len()
    }
    /// `userAgent`.
    pub fn user_agent(&self) -> Option<&str> {
        self.t(self.user_agent.as_ref())
    }
    fn oref(&self) -> Option<&ObjectRef> {
        self.object_ref.as_ref()
    }
    /// `objectRef.resource` (`pods`, `secrets`, …).
    pub fn resource(&self) -> Option<&str> {
        self.t(self.oref().and_then(|o| o.resource.as_ref()))
    }
    /// `objectRef.subresource` (`exec`, `attach`, `status`, …).
    pub fn subresource(&self) -> Option<&str> {
        self.t(self.oref().and_then(|o| o.subresource.as_ref()))
    }
    /// `objectRef.namespace`.
    pub fn namespace(&self) -> Option<&str> {
        self.t(self.oref().and_then(|o| o.namespace.as_ref()))
    }
    /// `objectRef.name`.
    pub fn name(&self) -> Option<&str> {
        self.t(self.oref().and_then(|o| o.name.as_ref()))
    }
    /// `objectRef.uid`.
    pub fn object_uid(&self) -> Option<&str> {
        self.t(self.oref().and_then(|o| o.uid.as_ref()))
    }
    /// `objectRef.apiGroup` (empty or absent for the core group).
    pub fn api_group(&self) -> Option<&str> {
        self.t(self.oref().and_then(|o| o.api_group.as_ref()))
    }
    /// `objectRef.apiVersion`.
    pub fn object_api_version(&self) -> Option<&str> {
        self.t(self.oref().and_then(|o| o.api_version.as_ref()))
    }
    /// `responseStatus.code`.
    pub fn response_code(&self) -> Option<i64> {
        self.response_code
    }
    /// `responseStatus.code` as written in the event (`ka.response.code`).
    pub fn response_code_text(&self) -> Option<&str> {
        self.span(self.response_code_text)
    }
    /// `responseStatus.status` (`Success`, `Failure`).
    pub fn response_status(&self) -> Option<&str> {
        self.t(self.response_status.as_ref())
    }
    /// `responseStatus.reason` (`Forbidden`, `NotFound`, …).
    pub fn response_reason(&self) -> Option<&str> {
        self.t(self.response_reason.as_ref())
    }
    /// `responseStatus.message`.
    pub fn response_message(&self) -> Option<&str> {
        self.t(self.response_message.as_ref())
    }
    /// `requestObject` as JSON text (present at level `Request` and above).
    pub fn request_object(&self) -> Option<&str> {
        self.span(self.request_object)
    }
    /// `requestObject.spec` as JSON text, located once.
    pub(crate) fn request_spec(&self) -> Option<&str> {
        let span = *self.req_spec.get_or_init(|| {
            let spec = json::get(self.request_object()?, "spec")?;
            span_of(&self.buf, spec)
        });
        self.span(span)
    }
    /// `responseObject` as JSON text (level `RequestResponse`).
    pub fn response_object(&self) -> Option<&str> {
        self.span(self.response_object)
    }
    /// `annotations` as JSON text.
    pub fn annotations_json(&self) -> Option<&str> {
        self.span(self.annotations)
    }
    /// One annotation (`authorization.k8s.io/decision`), unescaped.
    pub fn annotation(&self, key: &str) -> Option<Cow<'_, str>> {
        let raw = json::get(self.annotations_json()?, key)?;
        Some(json::as_text(raw))
    }
    /// Event time in nanoseconds since the epoch: `stageTimestamp`, else
    /// `requestReceivedTimestamp`, else (v1beta1) `timestamp`, else the time
    /// the event was decoded (see [`AuditEvent::has_timestamp`]).
    pub fn time_ns(&self) -> u64 {
        self.time_ns
    }

    /// Whether the event carried a timestamp of its own.
    pub fn has_timestamp(&self) -> bool {
        self.has_timestamp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EV: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"x-1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods?dryRun=All","verb":"create","user":{"username":"al\u0069ce","groups":["dev","system:authenticated"]},"impersonatedUser":{"username":"bob"},"sourceIPs":["10.0.0.1","::1"],"userAgent":"kubectl/v1.30","objectRef":{"resource":"pods","namespace":"default","name":"p","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"requestObject":{"kind":"Pod","spec":{"containers":[{"image":"nginx:1.25"}]}},"requestReceivedTimestamp":"2024-01-02T03:04:05.000001Z","stageTimestamp":"2024-01-02T03:04:05.123456Z","annotations":{"authorization.k8s.io/decision":"allow"}}"#;

    #[test]
    fn decodes_fields() {
        let e = AuditEvent::from_json(EV).unwrap();
        assert_eq!(e.verb(), Some("create"));
        assert_eq!(e.user_name(), Some("alice"));
        assert_eq!(
            e.user_groups().collect::<Vec<_>>(),
            ["dev", "system:authenticated"]
        );
        assert_eq!(e.impersonated_user_name(), Some("bob"));
        assert_eq!(e.source_ips().collect::<Vec<_>>(), ["10.0.0.1", "::1"]);
        assert_eq!(e.resource(), Some("pods"));
        assert_eq!(e.subresource(), None);
        assert_eq!(e.namespace(), Some("default"));
        assert_eq!(e.response_code(), Some(201));
        assert_eq!(
            e.annotation("authorization.k8s.io/decision").as_deref(),
            Some("allow")
        );
        assert_eq!(
            e.pointer("/requestObject/spec/containers/0/image")
                .as_deref(),
            Some("nginx:1.25")
        );
        assert_eq!(
            Some(e.time_ns()),
            parse_rfc3339("2024-01-02T03:04:05.123456Z")
        );
        assert_eq!(e.json(), EV);
    }

    #[test]
    fn event_list_and_array() {
        let doc = format!(
            r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{EV},{{"kind":"Other"}},{EV}]}}"#
        );
        let d = decode_document(&doc, "t", &Limits::default()).unwrap();
        assert_eq!(d.events.len(), 2);
        assert_eq!(d.warnings.len(), 1);
        assert_eq!(d.warnings[0].item, Some(1));
        assert_eq!(d.events[1].json(), EV);
        let arr = format!("[{EV},\n{EV}]");
        assert_eq!(
            decode_document(&arr, "t", &Limits::default())
                .unwrap()
                .events
                .len(),
            2
        );
    }

    #[test]
    fn events_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<AuditEvent>();
    }

    #[test]
    fn rejects_non_audit() {
        for doc in [
            r#"{"kind": 0}"#,
            r#"{"kind":"Pod"}"#,
            "{}",
            r#"{"apiVersion":"v1","kind":"Event"}"#,
        ] {
            assert!(
                decode_document(doc, "t", &Limits::default()).is_err(),
                "{doc}"
            );
        }
        let e = decode_document(r#"{"kind":"Pod"}"#, "f.json", &Limits::default()).unwrap_err();
        assert!(e.to_string().contains("f.json"), "{e}");
    }
}
