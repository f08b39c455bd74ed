//! The contract between the rule engine and an event source: field catalogs, events and the
//! values they expose.
//!
//! An event source (the syscall sensor, Kubernetes audit events, …) implements
//! [`FieldCatalog`] once, to tell the compiler which field names exist and what type they have,
//! and [`Event`] for each event, to extract a field by the [`FieldId`] the catalog handed out.
//! Field names are resolved once, at compile time; evaluation never looks a name up.

use std::fmt;
use std::net::IpAddr;

/// Opaque identifier of a resolved field (with its argument, if any), chosen by the catalog.
///
/// A catalog may hand out one id per `(name, arg)` pair, so that `jevt.value[/stage]` and
/// `jevt.value[/verb]` get different ids and the event never re-parses the argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u32);

impl FieldId {
    /// The raw index, for catalogs that keep their fields in a `Vec`.
    #[must_use]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The type of a field, as its catalog declares it. Literals in conditions are checked and
/// converted against it at compile time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldType {
    /// A string (Falco `CHARBUF`, `FSPATH`, …).
    String,
    /// A signed integer (Falco `INT*`, `UINT*`, `PID`, `PORT`, …).
    Int,
    /// A boolean (Falco `BOOL`).
    Bool,
    /// An IP address; literals may be addresses or networks (`10.0.0.0/8`).
    Ip,
    /// A raw byte buffer (Falco `BYTEBUF`); `bcontains`/`bstartswith` take hex literals.
    Bytes,
    /// A list of strings (Falco `LIST` fields such as `ka.req.pod.containers.image`).
    StringList,
    /// Type known only per event (JSON-backed sources, the permissive catalog): literals are
    /// kept in every form they parse as and compared according to the value's runtime type.
    Dynamic,
}

/// A field name the catalog does not know (or an argument it rejects).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown field `{name}`{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
pub struct UnknownField {
    /// The field name as written, with its argument (`jevt.value[/x]`).
    pub name: String,
    /// Why, when it is not simply unknown (bad argument, argument required, …).
    pub reason: Option<String>,
}

impl UnknownField {
    /// An unknown field name.
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            reason: None,
        }
    }

    /// A known field used wrongly (missing or invalid argument).
    #[must_use]
    pub fn with_reason(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            reason: Some(reason.into()),
        }
    }
}

/// The fields one event source exposes. Implemented once per source.
pub trait FieldCatalog {
    /// The source name rules use in their `source:` key (`syscall`, `k8s_audit`, …).
    fn source(&self) -> &str;

    /// Resolve a field name and its optional `[argument]` to an id. Called only at compile
    /// time. `&mut self` lets a catalog allocate one id per distinct argument.
    fn resolve(&mut self, name: &str, arg: Option<&str>) -> Result<FieldId, UnknownField>;

    /// The type of a resolved field.
    fn field_type(&self, id: FieldId) -> FieldType;

    /// The field whose `=`/`in` comparisons name the event type (`evt.type` for syscalls), used
    /// to index rules by event type. `None` (the default) disables the index for this source.
    fn event_type_field(&self) -> Option<&str> {
        None
    }
}

/// One event, as seen by the rule engine.
pub trait Event {
    /// Extract a field. Return `None` when the field is absent from this event (comparisons on
    /// it are then false and `exists` is false). Borrow from `self` where possible; otherwise
    /// write into `buf` and borrow from it. `buf` still holds whatever was written into it
    /// before: call [`FieldBuf::clear`] (or use [`FieldBuf::set_str`]) first.
    fn get<'a>(&'a self, field: FieldId, buf: &'a mut FieldBuf) -> Option<Value<'a>>;

    /// The event type (`open`, `execve`, …) used to pick the rules indexed under it; `None`
    /// evaluates only the rules that do not constrain the event type.
    fn event_type(&self) -> Option<&str> {
        None
    }
}

/// A field value extracted from an event.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Value<'a> {
    /// A string.
    Str(&'a str),
    /// Raw bytes.
    Bytes(&'a [u8]),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// An IP address.
    Ip(IpAddr),
    /// A list of strings.
    List(StrList<'a>),
}

impl fmt::Display for Value<'_> {
    /// Falco's rendering: lists as `(a,b)`, bytes lossily as UTF-8.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            Value::Bytes(b) => f.write_str(&String::from_utf8_lossy(b)),
            Value::Int(i) => write!(f, "{i}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Ip(ip) => write!(f, "{ip}"),
            Value::List(l) => {
                f.write_str("(")?;
                for (i, item) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    f.write_str(item)?;
                }
                f.write_str(")")
            }
        }
    }
}

/// A borrowed list of strings, whatever the event stores them in.
#[derive(Clone, Copy)]
pub struct StrList<'a>(ListRepr<'a>);

#[derive(Clone, Copy)]
enum ListRepr<'a> {
    Strs(&'a [&'a str]),
    Strings(&'a [String]),
    Buf(&'a str, &'a [(u32, u32)]),
}

impl<'a> StrList<'a> {
    /// A list over borrowed string slices.
    #[must_use]
    pub fn from_strs(items: &'a [&'a str]) -> Self {
        Self(ListRepr::Strs(items))
    }

    /// A list over owned strings.
    #[must_use]
    pub fn from_strings(items: &'a [String]) -> Self {
        Self(ListRepr::Strings(items))
    }

    /// Number of items.
    #[must_use]
    pub fn len(&self) -> usize {
        match self.0 {
            ListRepr::Strs(s) => s.len(),
            ListRepr::Strings(s) => s.len(),
            ListRepr::Buf(_, spans) => spans.len(),
        }
    }

    /// Whether the list has no items.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Item `i`, if any.
    #[must_use]
    pub fn get(&self, i: usize) -> Option<&'a str> {
        match self.0 {
            ListRepr::Strs(s) => s.get(i).copied(),
            ListRepr::Strings(s) => s.get(i).map(String::as_str),
            ListRepr::Buf(text, spans) => {
                let (a, b) = *spans.get(i)?;
                text.get(a as usize..b as usize)
            }
        }
    }

    /// The items in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let this = *self;
        (0..this.len()).filter_map(move |i| this.get(i))
    }
}

impl fmt::Debug for StrList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Scratch space an [`Event`] may write a computed value into, reused across calls so that
/// extraction does not allocate once warmed up.
#[derive(Debug, Default, Clone)]
pub struct FieldBuf {
    text: String,
    spans: Vec<(u32, u32)>,
    bytes: Vec<u8>,
}

impl FieldBuf {
    /// An empty buffer.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Forget the previous value, keeping the allocations.
    pub fn clear(&mut self) {
        self.text.clear();
        self.spans.clear();
        self.bytes.clear();
    }

    /// The text area, to write a computed string into (then return [`FieldBuf::as_str`]).
    pub fn text_mut(&mut self) -> &mut String {
        &mut self.text
    }

    /// Replace the text with `s` and return it.
    pub fn set_str(&mut self, s: &str) -> &str {
        self.text.clear();
        self.spans.clear();
        self.text.push_str(s);
        &self.text
    }

    /// The text written so far.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The byte area, for computed byte values.
    pub fn bytes_mut(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }

    /// The bytes written so far.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Append one list item (see [`FieldBuf::list`]).
    pub fn push_item(&mut self, item: &str) {
        let start = self.text.len();
        self.text.push_str(item);
        self.close_item(start);
    }

    /// Append one list item written by `write` into the text area.
    pub fn push_item_with(&mut self, write: impl FnOnce(&mut String)) {
        let start = self.text.len();
        write(&mut self.text);
        self.close_item(start);
    }

    fn close_item(&mut self, start: usize) {
        let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        self.spans.push((to_u32(start), to_u32(self.text.len())));
    }

    /// The items pushed with [`FieldBuf::push_item`] since the last clear.
    #[must_use]
    pub fn list(&self) -> StrList<'_> {
        StrList(ListRepr::Buf(&self.text, &self.spans))
    }
}

/// A catalog that accepts every field name, typed [`FieldType::Dynamic`]: the "parse-only"
/// mode used to validate rule files without the event source that will run them.
#[derive(Debug, Clone)]
pub struct PermissiveCatalog {
    source: String,
    names: Vec<String>,
    index: rustc_hash::FxHashMap<String, FieldId>,
}

impl PermissiveCatalog {
    /// A permissive catalog for `source`.
    #[must_use]
    pub fn new(source: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            names: Vec::new(),
            index: rustc_hash::FxHashMap::default(),
        }
    }

    /// The field (with argument) a resolved id stands for.
    #[must_use]
    pub fn name(&self, id: FieldId) -> Option<&str> {
        self.names.get(id.index()).map(String::as_str)
    }

    /// Every field resolved so far, in id order.
    #[must_use]
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

impl FieldCatalog for PermissiveCatalog {
    fn source(&self) -> &str {
        &self.source
    }

    fn resolve(&mut self, name: &str, arg: Option<&str>) -> Result<FieldId, UnknownField> {
        let full = match arg {
            Some(a) => format!("{name}[{a}]"),
            None => name.to_owned(),
        };
        if let Some(id) = self.index.get(&full) {
            return Ok(*id);
        }
        let id =
            FieldId(u32::try_from(self.names.len()).map_err(|_| {
                UnknownField::with_reason(full.clone(), "too many distinct fields")
            })?);
        self.names.push(full.clone());
        self.index.insert(full, id);
        Ok(id)
    }

    fn field_type(&self, _id: FieldId) -> FieldType {
        FieldType::Dynamic
    }

    fn event_type_field(&self) -> Option<&str> {
        (self.source == "syscall").then_some("evt.type")
    }
}
