//! Audit events as an event source of the rule engine (`palisade-rules`):
//! the `k8s_audit` field catalog, events bound to it, the built-in default
//! rules, and a compiled rule set ready to turn events into alerts.
//!
//! ```
//! use palisade_audit::{AuditEvent, AuditRules};
//! let rules = AuditRules::builtin().unwrap();
//! let e = AuditEvent::from_json(r#"{"kind":"Event","auditID":"1","stage":"ResponseStarted",
//!   "verb":"create","user":{"username":"mallory"},"requestURI":"/api/v1/namespaces/prod/pods/web/exec?command=sh",
//!   "objectRef":{"resource":"pods","subresource":"exec","namespace":"prod","name":"web"},
//!   "responseStatus":{"code":101},"annotations":{"authorization.k8s.io/decision":"allow"}}"#).unwrap();
//! let alerts = rules.alerts(&e, &mut Default::default());
//! assert!(alerts.iter().any(|a| a.rule == "Exec Into Pod"));
//! ```

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashMap;
use std::path::Path;

use palisade_rules::{
    Alert, CompileOptions, CompileReport, Errors, Event, FieldBuf, FieldCatalog, FieldId,
    FieldType, LoadedRules, Loader, Match, RuleSet, Scratch, UnknownField, Value,
};

use crate::fields::{Extracted, FieldType as AuditFieldType};
use crate::time::format_rfc3339_nanos;
use crate::{AuditEvent, AuditField};

/// The event source name rules use (`source: k8s_audit`).
pub const SOURCE: &str = "k8s_audit";

/// The built-in rule file (`rules/k8s_audit_palisade.yaml`).
pub const DEFAULT_RULES: &str = include_str!("../rules/k8s_audit_palisade.yaml");

/// Name of the built-in rule file in messages.
pub const DEFAULT_RULES_NAME: &str = "k8s_audit_palisade.yaml";

/// The `k8s_audit` field catalog: resolves `ka.*` / `jevt.*` names (one id
/// per distinct name and argument) for the rule compiler.
#[derive(Debug, Default, Clone)]
pub struct AuditCatalog {
    fields: Vec<AuditField>,
    index: HashMap<(String, Option<String>), FieldId>,
    /// Per field id: its slot in a [`BoundEvent`]'s cache, for costly fields.
    slots: Vec<Option<u32>>,
    costly: u32,
}

impl AuditCatalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bind `event` to this catalog so the rule engine can read its fields.
    /// Fields that walk the event's JSON are extracted at most once per
    /// binding.
    pub fn bind<'e>(&'e self, event: &'e AuditEvent) -> BoundEvent<'e> {
        BoundEvent {
            catalog: self,
            event,
            cache: OnceCell::new(),
        }
    }

    /// The field behind an id this catalog handed out.
    pub fn field(&self, id: FieldId) -> Option<&AuditField> {
        self.fields.get(id.index())
    }
}

impl FieldCatalog for AuditCatalog {
    fn source(&self) -> &str {
        SOURCE
    }

    fn resolve(&mut self, name: &str, arg: Option<&str>) -> Result<FieldId, UnknownField> {
        let key = (name.to_owned(), arg.map(str::to_owned));
        if let Some(id) = self.index.get(&key) {
            return Ok(*id);
        }
        let written = || match arg {
            Some(a) => format!("{name}[{a}]"),
            None => name.to_owned(),
        };
        let field = AuditField::resolve(name, arg).map_err(|e| match e {
            crate::FieldError::Unknown(_) => UnknownField::new(written()),
            other => UnknownField::with_reason(written(), other.to_string()),
        })?;
        let id = FieldId(
            u32::try_from(self.fields.len())
                .map_err(|_| UnknownField::with_reason(written(), "too many distinct fields"))?,
        );
        let slot = if field.is_costly() {
            self.costly += 1;
            Some(self.costly - 1)
        } else {
            None
        };
        self.fields.push(field);
        self.slots.push(slot);
        self.index.insert(key, id);
        Ok(id)
    }

    fn field_type(&self, id: FieldId) -> FieldType {
        match self.field(id).map(AuditField::info) {
            Some(info) if info.list => FieldType::StringList,
            Some(info) if info.ty == AuditFieldType::U64 => FieldType::Int,
            _ => FieldType::String,
        }
    }

    /// Rules are indexed by the resource they test (`ka.target.resource =
    /// pods`, `… in (roles, clusterroles)`): an event is checked only
    /// against the rules that can match its resource, and the rules that do
    /// not constrain it. (The engine then warns, as for syscall rules, about
    /// rules that constrain no resource; [`AuditRules`] drops those
    /// warnings, which mean nothing for audit rules.)
    fn event_type_field(&self) -> Option<&str> {
        Some(EVENT_TYPE_FIELD)
    }
}

/// The field audit rules are indexed by.
pub const EVENT_TYPE_FIELD: &str = "ka.target.resource";

/// An [`AuditEvent`] seen through an [`AuditCatalog`]; implements the rule
/// engine's [`Event`].
#[derive(Debug)]
pub struct BoundEvent<'e> {
    catalog: &'e AuditCatalog,
    event: &'e AuditEvent,
    /// Values of costly fields, by field id, once extracted (allocated on
    /// the first costly field).
    cache: OnceCell<Box<[OnceCell<Cached<'e>>]>>,
}

#[derive(Debug)]
enum Cached<'e> {
    Absent,
    Str(Cow<'e, str>),
    Int(i64),
    List(Box<FieldBuf>),
}

impl BoundEvent<'_> {
    /// The event.
    pub fn event(&self) -> &AuditEvent {
        self.event
    }
}

impl Event for BoundEvent<'_> {
    fn get<'a>(&'a self, field: FieldId, buf: &'a mut FieldBuf) -> Option<Value<'a>> {
        let f = self.catalog.field(field)?;
        if let Some(Some(slot)) = self.catalog.slots.get(field.index()) {
            let slots = self.cache.get_or_init(|| {
                std::iter::repeat_with(OnceCell::new)
                    .take(self.catalog.costly as usize)
                    .collect()
            });
            let cached = slots.get(*slot as usize)?.get_or_init(|| {
                let mut list = FieldBuf::new();
                match self
                    .event
                    .extract(f, &mut |item: Cow<'_, str>| list.push_item(&item))
                {
                    None => Cached::Absent,
                    Some(Extracted::Str(s)) => Cached::Str(s),
                    Some(Extracted::U64(n)) => Cached::Int(i64::try_from(n).unwrap_or(i64::MAX)),
                    Some(Extracted::List) => Cached::List(Box::new(list)),
                }
            });
            return match cached {
                Cached::Absent => None,
                Cached::Str(s) => Some(Value::Str(s)),
                Cached::Int(n) => Some(Value::Int(*n)),
                Cached::List(l) => Some(Value::List(l.list())),
            };
        }
        buf.clear();
        let extracted = self
            .event
            .extract(f, &mut |item: Cow<'_, str>| buf.push_item(&item))?;
        Some(match extracted {
            Extracted::Str(Cow::Borrowed(s)) => Value::Str(s),
            Extracted::Str(Cow::Owned(s)) => Value::Str(buf.set_str(&s)),
            Extracted::U64(n) => Value::Int(i64::try_from(n).unwrap_or(i64::MAX)),
            Extracted::List => Value::List(buf.list()),
        })
    }

    fn event_type(&self) -> Option<&str> {
        self.event.resource()
    }
}

/// Rules could not be loaded or compiled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RulesError {
    /// Loading or compiling failed; the errors name file, line and column.
    #[error("{0}")]
    Rules(#[from] Errors),
}

/// A compiled rule set for audit events, with its catalog.
#[derive(Debug, Clone)]
pub struct AuditRules {
    rules: RuleSet,
    catalog: AuditCatalog,
    report: CompileReport,
}

impl AuditRules {
    /// The built-in default rules ([`DEFAULT_RULES`]).
    pub fn builtin() -> Result<AuditRules, RulesError> {
        let mut loader = Loader::new();
        loader.load_str(DEFAULT_RULES_NAME, DEFAULT_RULES)?;
        Self::compile(&loader.finish()?, &CompileOptions::new())
    }

    /// Rule files loaded in order as one rule set (a file may extend an
    /// earlier one).
    pub fn from_files<P: AsRef<Path>>(paths: &[P]) -> Result<AuditRules, RulesError> {
        let mut loader = Loader::new();
        for p in paths {
            loader.load_file(p.as_ref())?;
        }
        Self::compile(&loader.finish()?, &CompileOptions::new())
    }

    /// Compile rules already loaded (only their `k8s_audit` rules).
    pub fn compile(
        loaded: &LoadedRules,
        options: &CompileOptions,
    ) -> Result<AuditRules, RulesError> {
        let mut catalog = AuditCatalog::new();
        let (rules, mut report) = RuleSet::compile(loaded, &mut [&mut catalog], options)?;
        report
            .warnings
            .retain(|w| w.kind != palisade_rules::WarningKind::NoEventType);
        Ok(AuditRules {
            rules,
            catalog,
            report,
        })
    }

    /// The compiled rules.
    pub fn rule_set(&self) -> &RuleSet {
        &self.rules
    }

    /// The catalog the rules were compiled against.
    pub fn catalog(&self) -> &AuditCatalog {
        &self.catalog
    }

    /// What compilation did (rules skipped for unknown fields, warnings, …).
    pub fn report(&self) -> &CompileReport {
        &self.report
    }

    /// Alerts for `event`: one per matching rule, in load order. (Falco's
    /// default `rule_matching: first` keeps only the first; see
    /// [`AuditRules::first_alert`].)
    pub fn alerts(&self, event: &AuditEvent, scratch: &mut Scratch) -> Vec<Alert> {
        let bound = self.catalog.bind(event);
        let time = format_rfc3339_nanos(event.time_ns());
        self.rules
            .evaluate_with(SOURCE, &bound, scratch)
            .map(|m: Match<'_>| m.rule().alert(&bound, time.clone()))
            .collect()
    }

    /// The alert of the first matching rule, as Falco emits by default.
    pub fn first_alert(&self, event: &AuditEvent, scratch: &mut Scratch) -> Option<Alert> {
        let bound = self.catalog.bind(event);
        let m = self.rules.evaluate_with(SOURCE, &bound, scratch).next()?;
        Some(
            m.rule()
                .alert(&bound, format_rfc3339_nanos(event.time_ns())),
        )
    }

    /// Names of the rules matching `event`, in load order (no output
    /// rendering).
    pub fn matching_rules(&self, event: &AuditEvent, scratch: &mut Scratch) -> Vec<String> {
        let bound = self.catalog.bind(event);
        self.rules
            .evaluate_with(SOURCE, &bound, scratch)
            .map(|m| m.rule().name().to_owned())
            .collect()
    }

    /// How many rules match `event` (no allocation once `scratch` is warm).
    pub fn count_matches(&self, event: &AuditEvent, scratch: &mut Scratch) -> usize {
        let bound = self.catalog.bind(event);
        self.rules.evaluate_with(SOURCE, &bound, scratch).count()
    }
}

/// Which matching rules produce alerts (Falco's `rule_matching`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RuleMatching {
    /// Only the first matching rule, in load order (Falco's default).
    #[default]
    First,
    /// Every matching rule.
    All,
}

/// Evaluates events and writes their alerts as JSON lines (the contract's
/// alert shape) to a writer: the common sink of `palisade audit scan` and
/// `palisade audit serve`. As a [`BatchHandler`](crate::BatchHandler) it
/// runs on the webhook's evaluation thread and flushes on shutdown.
#[derive(Debug)]
pub struct AlertWriter<W: std::io::Write> {
    rules: AuditRules,
    matching: RuleMatching,
    scratch: Scratch,
    out: W,
    events: u64,
    alerts: u64,
    error: Option<std::io::Error>,
}

impl<W: std::io::Write> AlertWriter<W> {
    /// Write alerts of `rules` to `out`.
    pub fn new(rules: AuditRules, matching: RuleMatching, out: W) -> Self {
        AlertWriter {
            rules,
            matching,
            scratch: Scratch::new(),
            out,
            events: 0,
            alerts: 0,
            error: None,
        }
    }

    /// Evaluate one event and write its alerts; returns how many.
    pub fn write_event(&mut self, event: &AuditEvent) -> std::io::Result<usize> {
        self.events += 1;
        let alerts = match self.matching {
            RuleMatching::First => self
                .rules
                .first_alert(event, &mut self.scratch)
                .into_iter()
                .collect(),
            RuleMatching::All => self.rules.alerts(event, &mut self.scratch),
        };
        for a in &alerts {
            serde_json::to_writer(&mut self.out, a).map_err(std::io::Error::other)?;
            self.out.write_all(b"\n")?;
        }
        self.alerts += alerts.len() as u64;
        Ok(alerts.len())
    }

    /// Events evaluated and alerts written so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.events, self.alerts)
    }

    /// The first write error met while handling webhook batches, if any.
    pub fn take_error(&mut self) -> Option<std::io::Error> {
        self.error.take()
    }

    /// Flush and return the writer.
    pub fn into_inner(mut self) -> std::io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(feature = "server")]
impl<W: std::io::Write + Send + 'static> crate::BatchHandler for AlertWriter<W> {
    fn handle(&mut self, batch: crate::Batch) {
        for e in &batch.events {
            if let Err(err) = self.write_event(e) {
                tracing::error!(target: "palisade_audit", "cannot write alert: {err}");
                self.error.get_or_insert(err);
            }
        }
        // Alerts of a batch are visible as soon as it is evaluated.
        if let Err(err) = self.out.flush() {
            self.error.get_or_insert(err);
        }
    }

    fn finish(&mut self) {
        if let Err(err) = self.out.flush() {
            self.error.get_or_insert(err);
        }
    }
}
