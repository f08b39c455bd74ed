//! Loading Falco rule files: lists, macros, rules, exceptions, `override`/`append` and
//! `enabled` toggles, across several files loaded in order as one rule set.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::condition::{self, Expr, Op, Operand};
use crate::error::{Error, Errors, Position};
use crate::priority::Priority;
use crate::warning::{Warning, WarningKind};
use crate::yaml::{self, Node, Style};

/// Resource limits applied to rule files, which are untrusted input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest rule file, in bytes. Default 16 MiB.
    pub max_file_bytes: usize,
    /// Deepest YAML nesting. Default 64.
    pub max_yaml_depth: usize,
    /// Most YAML nodes in one file. Default 2,000,000.
    pub max_yaml_nodes: usize,
    /// Longest condition (after appends), in bytes. Default 1 MiB.
    pub max_condition_bytes: usize,
    /// Deepest nesting inside one condition. Default 100 (as Falco).
    pub max_condition_depth: usize,
    /// Deepest macro-in-macro expansion. Default 64.
    pub max_macro_depth: usize,
    /// Most nodes in one rule's expanded condition. Default 1,000,000.
    pub max_expanded_nodes: usize,
    /// Largest compiled regex, in bytes (the `regex` crate's size limit). Default 1 MiB.
    pub max_regex_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 16 << 20,
            max_yaml_depth: 64,
            max_yaml_nodes: 2_000_000,
            max_condition_bytes: 1 << 20,
            max_condition_depth: condition::DEFAULT_MAX_DEPTH,
            max_macro_depth: 64,
            max_expanded_nodes: 1_000_000,
            max_regex_bytes: 1 << 20,
        }
    }
}

#[derive(Debug)]
pub(crate) struct SourceFile {
    pub(crate) name: Arc<str>,
    pub(crate) text: String,
}

impl SourceFile {
    pub(crate) fn position(&self, byte: usize) -> Position {
        let (line, column) = yaml::line_col(&self.text, byte);
        Position {
            file: self.name.clone(),
            line,
            column,
        }
    }
}

/// One piece of a condition's text and where it came from (appends make several).
#[derive(Debug, Clone)]
struct Segment {
    offset: usize,
    file: Arc<SourceFile>,
    raw_start: usize,
    raw_end: usize,
    style: Style,
}

/// A condition: its text (appends concatenated with a space, as Falco does), its syntax tree,
/// and the map from offsets in the text back to file positions.
#[derive(Debug, Clone)]
pub struct Condition {
    text: String,
    segments: Vec<Segment>,
    expr: Option<Expr>,
}

impl Condition {
    fn from_node(file: &Arc<SourceFile>, node: &Node) -> Option<Self> {
        let text = node.as_str()?.to_owned();
        Some(Self {
            segments: vec![Segment {
                offset: 0,
                file: file.clone(),
                raw_start: node.start,
                raw_end: node.end,
                style: node.style().unwrap_or(Style::Plain),
            }],
            text,
            expr: None,
        })
    }

    fn append(&mut self, other: Condition) {
        let base = self.text.len() + 1;
        self.text.push(' ');
        self.text.push_str(&other.text);
        self.segments
            .extend(other.segments.into_iter().map(|mut s| {
                s.offset += base;
                s
            }));
        self.expr = None;
    }

    /// The condition text.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parsed condition (always present in a [`LoadedRules`]).
    #[must_use]
    pub fn expr(&self) -> Option<&Expr> {
        self.expr.as_ref()
    }

    /// The file position of byte `offset` of the condition text.
    #[must_use]
    pub fn position(&self, offset: usize) -> Position {
        let seg = self
            .segments
            .iter()
            .rev()
            .find(|s| s.offset <= offset)
            .or_else(|| self.segments.first());
        let Some(seg) = seg else {
            return Position {
                file: Arc::from("<condition>"),
                line: 1,
                column: 1,
            };
        };
        let next = self
            .segments
            .iter()
            .find(|s| s.offset > seg.offset)
            .map_or(self.text.len(), |s| s.offset.saturating_sub(1));
        let value = self.text.get(seg.offset..next).unwrap_or_default();
        let byte = yaml::map_scalar_offset(
            &seg.file.text,
            seg.raw_start,
            seg.raw_end,
            seg.style,
            value,
            offset.saturating_sub(seg.offset),
        );
        seg.file.position(byte)
    }
}

/// A `list` item.
#[derive(Debug, Clone)]
pub struct ListDef {
    /// The list name.
    pub name: String,
    /// Its items, as written (a bare item may name another list).
    pub items: Vec<String>,
    /// Where it was (first) defined.
    pub at: Position,
}

/// A `macro` item.
#[derive(Debug, Clone)]
pub struct MacroDef {
    /// The macro name.
    pub name: String,
    /// Its condition.
    pub condition: Condition,
    /// Where it was (first) defined.
    pub at: Position,
}

/// `fields` of an exception: one field (values are plain lists) or a tuple of fields.
#[derive(Debug, Clone)]
pub enum ExceptionFields {
    /// `fields: proc.name` — each value is one item of a list.
    Single(Operand, Position),
    /// `fields: [proc.name, fd.name]` — each value is a tuple.
    Tuple(Vec<(Operand, Position)>),
}

/// One element of an exception value tuple.
#[derive(Debug, Clone)]
pub enum ExceptionItem {
    /// A scalar (for list operators, a one-item list; a bare list name expands).
    Scalar(String),
    /// A list, for `in`/`pmatch`/`intersects`.
    List(Vec<String>),
}

/// One exception of a rule.
#[derive(Debug, Clone)]
pub struct ExceptionDef {
    /// The exception name (appends with the same name add values).
    pub name: String,
    /// The fields compared.
    pub fields: Option<ExceptionFields>,
    /// One operator per field (defaults: `=` for tuples, `in` for a single field).
    pub comps: Vec<Op>,
    /// The value tuples (for a single field: one value per tuple).
    pub values: Vec<(Vec<ExceptionItem>, Position)>,
    /// Where the exception is defined.
    pub at: Position,
}

/// A `rule` item, after every override of later items has been applied.
#[derive(Debug, Clone)]
pub struct RuleDef {
    /// The rule name.
    pub name: String,
    /// `desc`.
    pub desc: String,
    /// `condition`.
    pub condition: Condition,
    /// `output` (Falco format string).
    pub output: String,
    /// Where `output` is, for errors in it.
    pub output_at: Position,
    /// `priority`.
    pub priority: Priority,
    /// `tags`.
    pub tags: Vec<String>,
    /// `enabled` (default true).
    pub enabled: bool,
    /// `source` (default `syscall`).
    pub source: String,
    /// `exceptions`.
    pub exceptions: Vec<ExceptionDef>,
    /// `warn_evttypes` (default true).
    pub warn_evttypes: bool,
    /// `skip-if-unknown-filter` (default false).
    pub skip_if_unknown_filter: bool,
    /// Where the rule was (first) defined.
    pub at: Position,
}

/// What one file contributed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileSummary {
    /// The file name as given.
    pub file: String,
    /// Lists defined (not appended to).
    pub lists: usize,
    /// Macros defined.
    pub macros: usize,
    /// Rules defined.
    pub rules: usize,
    /// Items that modify an earlier definition (`override`, `append`, `enabled`).
    pub overrides: usize,
    /// `required_engine_version`, if the file states one.
    pub required_engine_version: Option<String>,
}

#[derive(Debug)]
struct Ordered<T> {
    items: Vec<T>,
    index: HashMap<String, usize>,
}

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<T> Ordered<T> {
    fn get_mut(&mut self, name: &str) -> Option<&mut T> {
        let i = *self.index.get(name)?;
        self.items.get_mut(i)
    }

    fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// Define or redefine (in place, keeping the first definition's order).
    fn define(&mut self, name: &str, item: T) {
        match self.index.get(name).copied() {
            Some(i) => {
                if let Some(slot) = self.items.get_mut(i) {
                    *slot = item;
                }
            }
            None => {
                self.index.insert(name.to_owned(), self.items.len());
                self.items.push(item);
            }
        }
    }
}

/// Loads rule files in order into one rule set.
///
/// ```
/// let mut loader = palisade_rules::Loader::new();
/// loader.load_str("rules.yaml", "- macro: m\n  condition: proc.name = bash\n").unwrap();
/// let rules = loader.finish().unwrap();
/// assert_eq!(rules.macros().len(), 1);
/// ```
#[derive(Debug, Default)]
pub struct Loader {
    limits: Limits,
    lists: Ordered<ListDef>,
    macros: Ordered<MacroDef>,
    rules: Ordered<RuleDef>,
    warnings: Vec<Warning>,
    files: Vec<FileSummary>,
}

/// A loaded (not yet compiled) rule set: every list, macro and rule with overrides applied and
/// every condition parsed.
#[derive(Debug, Clone)]
pub struct LoadedRules {
    pub(crate) limits: Limits,
    lists: Vec<ListDef>,
    macros: Vec<MacroDef>,
    rules: Vec<RuleDef>,
    warnings: Vec<Warning>,
    files: Vec<FileSummary>,
}

impl LoadedRules {
    /// Lists, in definition order.
    #[must_use]
    pub fn lists(&self) -> &[ListDef] {
        &self.lists
    }

    /// Macros, in definition order.
    #[must_use]
    pub fn macros(&self) -> &[MacroDef] {
        &self.macros
    }

    /// Rules, in definition order.
    #[must_use]
    pub fn rules(&self) -> &[RuleDef] {
        &self.rules
    }

    /// Warnings found while loading.
    #[must_use]
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// One summary per file, in load order.
    #[must_use]
    pub fn files(&self) -> &[FileSummary] {
        &self.files
    }

    /// The limits the rules were loaded with (compilation uses them too).
    #[must_use]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

const LIST_KEYS: &[&str] = &["list", "items", "append", "override"];
const MACRO_KEYS: &[&str] = &["macro", "condition", "append", "override"];
const RULE_KEYS: &[&str] = &[
    "rule",
    "desc",
    "condition",
    "output",
    "priority",
    "tags",
    "enabled",
    "source",
    "exceptions",
    "warn_evttypes",
    "skip-if-unknown-filter",
    "append",
    "override",
    "capture",
    "capture_duration",
];
const RULE_APPENDABLE: &[&str] = &["condition", "output", "desc", "tags", "exceptions"];
const RULE_REPLACEABLE: &[&str] = &[
    "condition",
    "output",
    "desc",
    "priority",
    "tags",
    "exceptions",
    "enabled",
    "warn_evttypes",
    "skip-if-unknown-filter",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Append,
    Replace,
}

struct Ctx<'a> {
    file: &'a Arc<SourceFile>,
    errors: Vec<Error>,
}

impl Ctx<'_> {
    fn pos(&self, node: &Node) -> Position {
        Position {
            file: self.file.name.clone(),
            line: node.line,
            column: node.column,
        }
    }

    fn schema(&mut self, node: &Node, message: impl Into<String>) {
        let e = Error::Schema {
            at: self.pos(node),
            message: message.into(),
            text: yaml::line_excerpt(&self.file.text, node.start),
        };
        self.errors.push(e);
    }

    fn string(&mut self, item: &Node, key: &str) -> Option<String> {
        let node = item.get(key)?;
        match node.as_str() {
            Some(s) if !node.is_null() || node.style() != Some(Style::Plain) => Some(s.to_owned()),
            Some(_) => Some(String::new()),
            None => {
                self.schema(
                    node,
                    format!("`{key}` must be a string, not {}", node.type_name()),
                );
                None
            }
        }
    }

    fn boolean(&mut self, item: &Node, key: &str) -> Option<bool> {
        let node = item.get(key)?;
        match node.as_bool() {
            Some(b) => Some(b),
            None => {
                self.schema(node, format!("`{key}` must be true or false"));
                None
            }
        }
    }

    fn strings(&mut self, node: &Node, what: &str) -> Option<Vec<String>> {
        if node.is_null() {
            return Some(Vec::new());
        }
        let Some(seq) = node.as_seq() else {
            self.schema(
                node,
                format!("`{what}` must be a sequence, not {}", node.type_name()),
            );
            return None;
        };
        let mut out = Vec::with_capacity(seq.len());
        for n in seq {
            match n.as_str() {
                Some(s) => out.push(s.to_owned()),
                None => {
                    self.schema(
                        n,
                        format!("items of `{what}` must be scalars, not {}", n.type_name()),
                    );
                    return None;
                }
            }
        }
        Some(out)
    }

    fn name(&mut self, item: &Node, key: &str) -> Option<String> {
        let node = item.get(key)?;
        match node.as_str() {
            Some(s) if !s.trim().is_empty() && !node.is_null() => Some(s.to_owned()),
            _ => {
                self.schema(node, format!("`{key}` must be a non-empty name"));
                None
            }
        }
    }
}

impl Loader {
    /// A loader with the default [`Limits`].
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A loader with custom limits.
    #[must_use]
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Read and load one rule file (named in errors by its path as given).
    pub fn load_file(&mut self, path: &Path) -> Result<FileSummary, Errors> {
        let meta = std::fs::metadata(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        let name = path.display().to_string();
        if usize::try_from(meta.len()).unwrap_or(usize::MAX) > self.limits.max_file_bytes {
            return Err(Error::Limit {
                at: Position {
                    file: Arc::from(name.as_str()),
                    line: 1,
                    column: 1,
                },
                what: "rule file size",
                limit: self.limits.max_file_bytes,
            }
            .into());
        }
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        self.load_str(&name, &text)
    }

    /// Load rule file content; `name` is used in errors. Items are applied in order; on error
    /// the items that were valid stay loaded and every error of the file is returned.
    pub fn load_str(&mut self, name: &str, text: &str) -> Result<FileSummary, Errors> {
        let span = tracing::debug_span!("load_rules", file = name);
        let _guard = span.enter();
        let file = Arc::new(SourceFile {
            name: Arc::from(name),
            text: text.to_owned(),
        });
        let mut summary = FileSummary {
            file: name.to_owned(),
            ..FileSummary::default()
        };
        if text.len() > self.limits.max_file_bytes {
            return Err(Error::Limit {
                at: file.position(0),
                what: "rule file size",
                limit: self.limits.max_file_bytes,
            }
            .into());
        }
        let docs = yaml::parse(
            text,
            yaml::YamlLimits {
                max_depth: self.limits.max_yaml_depth,
                max_nodes: self.limits.max_yaml_nodes,
            },
        )
        .map_err(|e| Error::Yaml {
            at: Position {
                file: file.name.clone(),
                line: e.line,
                column: e.column,
            },
            text: yaml::nth_line(text, e.line),
            message: e.message,
        })?;
        let mut cx = Ctx {
            file: &file,
            errors: Vec::new(),
        };
        for doc in &docs {
            let Some(items) = doc.as_seq() else {
                cx.schema(
                    doc,
                    format!(
                        "rules content must be a YAML sequence of items, not {}",
                        doc.type_name()
                    ),
                );
                continue;
            };
            for item in items {
                self.item(&mut cx, item, &mut summary);
            }
        }
        tracing::debug!(
            lists = summary.lists,
            macros = summary.macros,
            rules = summary.rules,
            overrides = summary.overrides,
            "rule file loaded"
        );
        self.files.push(summary.clone());
        if cx.errors.is_empty() {
            Ok(summary)
        } else {
            Err(Errors::new(cx.errors))
        }
    }

    fn warn(&mut self, cx: &Ctx<'_>, node: &Node, kind: WarningKind, message: String) {
        self.warnings.push(Warning {
            at: Some(cx.pos(node)),
            kind,
            message,
        });
    }

    fn check_keys(&mut self, cx: &Ctx<'_>, item: &Node, allowed: &[&str], what: &str) {
        for (k, _) in item.as_map().unwrap_or_default() {
            match k.as_str() {
                Some(key) if allowed.contains(&key) => {}
                other => self.warn(
                    cx,
                    k,
                    WarningKind::UnknownKey,
                    format!("unknown key `{}` in {what} (ignored)", other.unwrap_or("?")),
                ),
            }
        }
    }

    fn item(&mut self, cx: &mut Ctx<'_>, item: &Node, summary: &mut FileSummary) {
        if item.as_map().is_none() {
            cx.schema(
                item,
                format!("a rules item must be a mapping, not {}", item.type_name()),
            );
            return;
        }
        if item.get("rule").is_some() {
            self.rule(cx, item, summary);
        } else if item.get("macro").is_some() {
            self.macro_item(cx, item, summary);
        } else if item.get("list").is_some() {
            self.list(cx, item, summary);
        } else if let Some(v) = item.get("required_engine_version") {
            match v.as_str() {
                Some(s) => summary.required_engine_version = Some(s.to_owned()),
                None => cx.schema(v, "`required_engine_version` must be a scalar"),
            }
        } else if let Some(v) = item.get("required_plugin_versions") {
            if v.as_seq().is_none() && !v.is_null() {
                cx.schema(v, "`required_plugin_versions` must be a sequence");
            }
        } else {
            self.warn(
                cx,
                item,
                WarningKind::UnknownItem,
                "unknown top-level item (not a list, macro, rule or version requirement); ignored"
                    .into(),
            );
        }
    }

    /// `append: true` and/or `override:`; returns the per-key modes, or None on error.
    fn override_modes(
        &mut self,
        cx: &mut Ctx<'_>,
        item: &Node,
        allowed_append: &[&str],
        allowed_replace: &[&str],
    ) -> Option<Option<HashMap<String, Mode>>> {
        let append = match item.get("append") {
            Some(_) => cx.boolean(item, "append")?,
            None => false,
        };
        let Some(ov) = item.get("override") else {
            if append {
                if let Some(n) = item.get("append") {
                    self.warn(
                        cx,
                        n,
                        WarningKind::Deprecated,
                        "`append: true` is deprecated; use `override`".into(),
                    );
                }
                // Legacy `append: true` appends only items / condition / exceptions.
                let modes = allowed_append
                    .iter()
                    .filter(|k| matches!(**k, "items" | "condition" | "exceptions"))
                    .filter(|k| item.get(k).is_some())
                    .map(|k| ((*k).to_owned(), Mode::Append))
                    .collect();
                return Some(Some(modes));
            }
            return Some(None);
        };
        if item.get("append").is_some() {
            cx.schema(ov, "`append` and `override` cannot be used together");
            return None;
        }
        let Some(map) = ov.as_map() else {
            cx.schema(ov, "`override` must be a mapping of key: append|replace");
            return None;
        };
        let mut modes = HashMap::new();
        for (k, v) in map {
            let key = k.as_str().unwrap_or_default();
            let mode = match v.as_str() {
                Some("append") => Mode::Append,
                Some("replace") => Mode::Replace,
                _ => {
                    cx.schema(
                        v,
                        format!("override of `{key}` must be `append` or `replace`"),
                    );
                    return None;
                }
            };
            let allowed = match mode {
                Mode::Append => allowed_append,
                Mode::Replace => allowed_replace,
            };
            if !allowed.contains(&key) {
                cx.schema(
                    k,
                    format!(
                        "key `{key}` cannot be overridden with `{}`",
                        if mode == Mode::Append {
                            "append"
                        } else {
                            "replace"
                        }
                    ),
                );
                return None;
            }
            if item.get(key).is_none() {
                cx.schema(
                    k,
                    format!("`override` names `{key}` but the item has no `{key}`"),
                );
                return None;
            }
            modes.insert(key.to_owned(), mode);
        }
        for (k, _) in item.as_map().unwrap_or_default() {
            let key = k.as_str().unwrap_or_default();
            if !matches!(key, "rule" | "macro" | "list" | "override") && !modes.contains_key(key) {
                cx.schema(
                    k,
                    format!("key `{key}` has no override mode: list it under `override`"),
                );
                return None;
            }
        }
        Some(Some(modes))
    }

    fn list(&mut self, cx: &mut Ctx<'_>, item: &Node, summary: &mut FileSummary) {
        self.check_keys(cx, item, LIST_KEYS, "list");
        let Some(name) = cx.name(item, "list") else {
            return;
        };
        let Some(modes) = self.override_modes(cx, item, &["items"], &["items"]) else {
            return;
        };
        let items = match item.get("items") {
            Some(n) => match cx.strings(n, "items") {
                Some(v) => v,
                None => return,
            },
            None => {
                if modes.is_none() {
                    cx.schema(item, format!("list `{name}` has no `items`"));
                    return;
                }
                Vec::new()
            }
        };
        match modes {
            None => {
                summary.lists += 1;
                let at = cx.pos(item);
                self.lists.define(
                    &name,
                    ListDef {
                        name: name.clone(),
                        items,
                        at,
                    },
                );
            }
            Some(modes) => {
                summary.overrides += 1;
                let Some(existing) = self.lists.get_mut(&name) else {
                    cx.errors.push(Error::UndefinedReference {
                        at: cx.pos(item),
                        kind: "list",
                        name,
                        key: if item.get("append").is_some() {
                            "append"
                        } else {
                            "override"
                        },
                    });
                    return;
                };
                match modes.get("items") {
                    Some(Mode::Replace) => existing.items = items,
                    _ => existing.items.extend(items),
                }
            }
        }
    }

    fn condition(&mut self, cx: &mut Ctx<'_>, item: &Node) -> Option<Condition> {
        let node = item.get("condition")?;
        let Some(c) = Condition::from_node(cx.file, node) else {
            cx.schema(
                node,
                format!("`condition` must be a string, not {}", node.type_name()),
            );
            return None;
        };
        Some(c)
    }

    fn macro_item(&mut self, cx: &mut Ctx<'_>, item: &Node, summary: &mut FileSummary) {
        self.check_keys(cx, item, MACRO_KEYS, "macro");
        let Some(name) = cx.name(item, "macro") else {
            return;
        };
        let Some(modes) = self.override_modes(cx, item, &["condition"], &["condition"]) else {
            return;
        };
        let Some(cond) = self.condition(cx, item) else {
            if item.get("condition").is_none() {
                cx.schema(item, format!("macro `{name}` has no `condition`"));
            }
            return;
        };
        match modes {
            None => {
                summary.macros += 1;
                let at = cx.pos(item);
                self.macros.define(
                    &name,
                    MacroDef {
                        name: name.clone(),
                        condition: cond,
                        at,
                    },
                );
            }
            Some(modes) => {
                summary.overrides += 1;
                let Some(existing) = self.macros.get_mut(&name) else {
                    cx.errors.push(Error::UndefinedReference {
                        at: cx.pos(item),
                        kind: "macro",
                        name,
                        key: if item.get("append").is_some() {
                            "append"
                        } else {
                            "override"
                        },
                    });
                    return;
                };
                match modes.get("condition") {
                    Some(Mode::Replace) => existing.condition = cond,
                    _ => existing.condition.append(cond),
                }
            }
        }
    }

    fn rule(&mut self, cx: &mut Ctx<'_>, item: &Node, summary: &mut FileSummary) {
        self.check_keys(cx, item, RULE_KEYS, "rule");
        let Some(name) = cx.name(item, "rule") else {
            return;
        };
        let Some(modes) = self.override_modes(cx, item, RULE_APPENDABLE, RULE_REPLACEABLE) else {
            return;
        };
        let keys: Vec<&str> = item
            .as_map()
            .unwrap_or_default()
            .iter()
            .filter_map(|(k, _)| k.as_str())
            .collect();
        let is_append = item.get("append").is_some();
        if modes.is_none()
            && item.get("enabled").is_some()
            && keys.iter().all(|k| matches!(*k, "rule" | "enabled"))
        {
            // Legacy toggle: `- rule: X` + `enabled: false`.
            summary.overrides += 1;
            let Some(enabled) = cx.boolean(item, "enabled") else {
                return;
            };
            let at = cx.pos(item);
            match self.rules.get_mut(&name) {
                Some(r) => r.enabled = enabled,
                None => cx.errors.push(Error::UndefinedReference {
                    at,
                    kind: "rule",
                    name,
                    key: "enabled",
                }),
            }
            return;
        }
        match modes {
            None => self.define_rule(cx, item, name, summary),
            Some(modes) => {
                summary.overrides += 1;
                if !self.rules.contains(&name) {
                    cx.errors.push(Error::UndefinedReference {
                        at: cx.pos(item),
                        kind: "rule",
                        name,
                        key: if is_append { "append" } else { "override" },
                    });
                    return;
                }
                self.override_rule(cx, item, &name, &modes);
            }
        }
    }

    fn define_rule(
        &mut self,
        cx: &mut Ctx<'_>,
        item: &Node,
        name: String,
        summary: &mut FileSummary,
    ) {
        let before = cx.errors.len();
        for key in ["condition", "output", "desc", "priority"] {
            if item.get(key).is_none() {
                cx.schema(item, format!("rule `{name}` has no `{key}`"));
            }
        }
        let condition = self.condition(cx, item);
        let output = cx.string(item, "output");
        let desc = cx.string(item, "desc");
        let priority = self.priority(cx, item);
        let tags = match item.get("tags") {
            Some(n) => cx.strings(n, "tags").unwrap_or_default(),
            None => Vec::new(),
        };
        let enabled = match item.get("enabled") {
            Some(_) => cx.boolean(item, "enabled").unwrap_or(true),
            None => true,
        };
        let warn_evttypes = match item.get("warn_evttypes") {
            Some(_) => cx.boolean(item, "warn_evttypes").unwrap_or(true),
            None => true,
        };
        let skip_if_unknown_filter = match item.get("skip-if-unknown-filter") {
            Some(_) => cx.boolean(item, "skip-if-unknown-filter").unwrap_or(false),
            None => false,
        };
        let source = cx
            .string(item, "source")
            .unwrap_or_else(|| "syscall".to_owned());
        let exceptions = match item.get("exceptions") {
            Some(n) => self.exceptions(cx, n, true).unwrap_or_default(),
            None => Vec::new(),
        };
        if cx.errors.len() > before {
            return;
        }
        let (Some(condition), Some(output), Some(desc), Some(priority)) =
            (condition, output, desc, priority)
        else {
            return;
        };
        let output_at = item
            .get("output")
            .map_or_else(|| cx.pos(item), |n| cx.pos(n));
        summary.rules += 1;
        let at = cx.pos(item);
        self.rules.define(
            &name,
            RuleDef {
                name: name.clone(),
                desc,
                condition,
                output,
                output_at,
                priority,
                tags,
                enabled,
                source,
                exceptions,
                warn_evttypes,
                skip_if_unknown_filter,
                at,
            },
        );
    }

    fn priority(&mut self, cx: &mut Ctx<'_>, item: &Node) -> Option<Priority> {
        let node = item.get("priority")?;
        let Some(s) = node.as_str() else {
            cx.schema(node, "`priority` must be a string");
            return None;
        };
        match s.parse::<Priority>() {
            Ok(p) => Some(p),
            Err(e) => {
                cx.schema(node, e.to_string());
                None
            }
        }
    }

    fn override_rule(
        &mut self,
        cx: &mut Ctx<'_>,
        item: &Node,
        name: &str,
        modes: &HashMap<String, Mode>,
    ) {
        let before = cx.errors.len();
        let condition = if modes.contains_key("condition") {
            self.condition(cx, item)
        } else {
            None
        };
        let output = cx
            .string(item, "output")
            .filter(|_| modes.contains_key("output"));
        let desc = cx
            .string(item, "desc")
            .filter(|_| modes.contains_key("desc"));
        let priority = if modes.contains_key("priority") {
            self.priority(cx, item)
        } else {
            None
        };
        let tags = match (item.get("tags"), modes.contains_key("tags")) {
            (Some(n), true) => cx.strings(n, "tags"),
            _ => None,
        };
        let exceptions = match (item.get("exceptions"), modes.get("exceptions")) {
            (Some(n), Some(mode)) => self.exceptions(cx, n, *mode == Mode::Replace),
            _ => None,
        };
        let flag = |cx: &mut Ctx<'_>, key: &str| {
            if modes.contains_key(key) {
                cx.boolean(item, key)
            } else {
                None
            }
        };
        let enabled = flag(cx, "enabled");
        let warn_evttypes = flag(cx, "warn_evttypes");
        let skip = flag(cx, "skip-if-unknown-filter");
        if item.get("append").is_some() {
            for (k, _) in item.as_map().unwrap_or_default() {
                let key = k.as_str().unwrap_or_default();
                if !matches!(key, "rule" | "append" | "condition" | "exceptions") {
                    self.warn(
                        cx,
                        k,
                        WarningKind::UnknownKey,
                        format!("`{key}` is ignored in an `append: true` rule item"),
                    );
                }
            }
        }
        if cx.errors.len() > before {
            return;
        }
        let Some(rule) = self.rules.get_mut(name) else {
            return;
        };
        let mode = |k: &str| modes.get(k).copied();
        if let Some(c) = condition {
            match mode("condition") {
                Some(Mode::Replace) => rule.condition = c,
                _ => rule.condition.append(c),
            }
        }
        if let Some(o) = output {
            match mode("output") {
                Some(Mode::Replace) => rule.output = o,
                _ => {
                    rule.output.push(' ');
                    rule.output.push_str(&o);
                }
            }
        }
        if let Some(d) = desc {
            match mode("desc") {
                Some(Mode::Replace) => rule.desc = d,
                _ => {
                    rule.desc.push(' ');
                    rule.desc.push_str(&d);
                }
            }
        }
        if let Some(p) = priority {
            rule.priority = p;
        }
        if let Some(t) = tags {
            match mode("tags") {
                Some(Mode::Replace) => rule.tags = t,
                _ => {
                    for tag in t {
                        if !rule.tags.contains(&tag) {
                            rule.tags.push(tag);
                        }
                    }
                }
            }
        }
        if let Some(excs) = exceptions {
            match mode("exceptions") {
                Some(Mode::Replace) => rule.exceptions = excs,
                _ => {
                    for e in excs {
                        match rule.exceptions.iter_mut().find(|x| x.name == e.name) {
                            Some(x) => x.values.extend(e.values),
                            None => {
                                if e.fields.is_none() {
                                    cx.errors.push(Error::Schema {
                                        at: e.at.clone(),
                                        message: format!(
                                            "exception `{}` appended to rule `{}` is new and has no `fields`",
                                            e.name, rule.name
                                        ),
                                        text: e.name.clone(),
                                    });
                                } else {
                                    rule.exceptions.push(e);
                                }
                            }
                        }
                    }
                }
            }
        }
        if let Some(e) = enabled {
            rule.enabled = e;
        }
        if let Some(w) = warn_evttypes {
            rule.warn_evttypes = w;
        }
        if let Some(s) = skip {
            rule.skip_if_unknown_filter = s;
        }
    }

    /// Parse an `exceptions` sequence. `defining`: entries must carry `fields`.
    fn exceptions(
        &mut self,
        cx: &mut Ctx<'_>,
        node: &Node,
        defining: bool,
    ) -> Option<Vec<ExceptionDef>> {
        if node.is_null() {
            return Some(Vec::new());
        }
        let Some(seq) = node.as_seq() else {
            cx.schema(node, "`exceptions` must be a sequence");
            return None;
        };
        let mut out = Vec::new();
        for e in seq {
            if e.as_map().is_none() {
                cx.schema(e, "an exception must be a mapping");
                return None;
            }
            for (k, _) in e.as_map().unwrap_or_default() {
                let key = k.as_str().unwrap_or_default();
                if !matches!(key, "name" | "fields" | "comps" | "values") {
                    self.warn(
                        cx,
                        k,
                        WarningKind::UnknownKey,
                        format!("unknown key `{key}` in exception (ignored)"),
                    );
                }
            }
            let name = cx.name(e, "name")?;
            let fields = match e.get("fields") {
                None => {
                    if defining {
                        cx.schema(e, format!("exception `{name}` has no `fields`"));
                        return None;
                    }
                    None
                }
                Some(f) => Some(Self::exception_fields(cx, f)?),
            };
            let comps = match (e.get("comps"), &fields) {
                (Some(c), Some(ExceptionFields::Single(..))) => match c.as_str() {
                    Some(s) => vec![Self::comp(cx, c, s)?],
                    None => {
                        cx.schema(
                            c,
                            "`comps` must be a single operator when `fields` is a single field",
                        );
                        return None;
                    }
                },
                (Some(c), Some(ExceptionFields::Tuple(fs))) => {
                    let Some(seq) = c.as_seq() else {
                        cx.schema(
                            c,
                            "`comps` must be a list of operators when `fields` is a list",
                        );
                        return None;
                    };
                    if seq.len() != fs.len() {
                        cx.schema(
                            c,
                            format!(
                                "`comps` has {} operators but `fields` has {} fields",
                                seq.len(),
                                fs.len()
                            ),
                        );
                        return None;
                    }
                    let mut v = Vec::new();
                    for n in seq {
                        let s = n.as_str().unwrap_or_default();
                        v.push(Self::comp(cx, n, s)?);
                    }
                    v
                }
                (None, Some(ExceptionFields::Single(..))) => vec![Op::In],
                (None, Some(ExceptionFields::Tuple(fs))) => vec![Op::Eq; fs.len()],
                (_, None) => Vec::new(),
            };
            let mut values = Vec::new();
            if let Some(v) = e.get("values") {
                if !v.is_null() {
                    let Some(rows) = v.as_seq() else {
                        cx.schema(v, "`values` must be a sequence");
                        return None;
                    };
                    for row in rows {
                        values.push((Self::exception_row(cx, row, &fields)?, cx.pos(row)));
                    }
                }
            }
            out.push(ExceptionDef {
                name,
                fields,
                comps,
                values,
                at: cx.pos(e),
            });
        }
        Some(out)
    }

    fn comp(cx: &mut Ctx<'_>, node: &Node, s: &str) -> Option<Op> {
        let op = match s.trim() {
            "=" | "==" => Some(Op::Eq),
            "!=" => Some(Op::Ne),
            "<" => Some(Op::Lt),
            "<=" => Some(Op::Le),
            ">" => Some(Op::Gt),
            ">=" => Some(Op::Ge),
            w => Op::from_word(w).filter(|o| *o != Op::Exists),
        };
        if op.is_none() {
            cx.schema(node, format!("`{s}` is not a comparison operator"));
        }
        op
    }

    fn exception_fields(cx: &mut Ctx<'_>, f: &Node) -> Option<ExceptionFields> {
        let one = |cx: &mut Ctx<'_>, n: &Node| -> Option<(Operand, Position)> {
            let Some(s) = n.as_str() else {
                cx.schema(n, "exception fields must be field names");
                return None;
            };
            match condition::parse_operand(s) {
                Ok(o) => Some((o, cx.pos(n))),
                Err(e) => {
                    cx.errors.push(Error::Condition {
                        at: cx.pos(n),
                        message: e.message.clone(),
                        text: s.to_owned(),
                    });
                    None
                }
            }
        };
        if let Some(seq) = f.as_seq() {
            let mut v = Vec::new();
            for n in seq {
                v.push(one(cx, n)?);
            }
            return Some(ExceptionFields::Tuple(v));
        }
        let (o, p) = one(cx, f)?;
        Some(ExceptionFields::Single(o, p))
    }

    fn exception_row(
        cx: &mut Ctx<'_>,
        row: &Node,
        fields: &Option<ExceptionFields>,
    ) -> Option<Vec<ExceptionItem>> {
        let item = |cx: &mut Ctx<'_>, n: &Node| -> Option<ExceptionItem> {
            if let Some(s) = n.as_str() {
                return Some(ExceptionItem::Scalar(s.to_owned()));
            }
            if n.as_seq().is_some() {
                return cx.strings(n, "values").map(ExceptionItem::List);
            }
            cx.schema(n, "exception values must be scalars or lists of scalars");
            None
        };
        match fields {
            Some(ExceptionFields::Single(..)) => Some(vec![item(cx, row)?]),
            // Values appended to an exception defined earlier: its shape is known only later.
            None if row.as_seq().is_none() => Some(vec![item(cx, row)?]),
            _ => {
                let Some(seq) = row.as_seq() else {
                    cx.schema(
                        row,
                        "exception values for a list of fields must be tuples (lists)",
                    );
                    return None;
                };
                if let Some(ExceptionFields::Tuple(fs)) = fields {
                    if seq.len() != fs.len() {
                        cx.schema(
                            row,
                            format!(
                                "exception value tuple has {} items but `fields` has {}",
                                seq.len(),
                                fs.len()
                            ),
                        );
                        return None;
                    }
                }
                let mut v = Vec::new();
                for n in seq {
                    v.push(item(cx, n)?);
                }
                Some(v)
            }
        }
    }

    /// Parse every condition and check exceptions; return the rule set or every error found.
    pub fn finish(self) -> Result<LoadedRules, Errors> {
        let mut errors = Vec::new();
        let limits = self.limits;
        let parse = |c: &mut Condition, errors: &mut Vec<Error>| {
            if c.text.len() > limits.max_condition_bytes {
                errors.push(Error::Limit {
                    at: c.position(0),
                    what: "condition length",
                    limit: limits.max_condition_bytes,
                });
                return;
            }
            match condition::parse_condition_with_depth(&c.text, limits.max_condition_depth) {
                Ok(e) => c.expr = Some(e),
                Err(e) => errors.push(Error::Condition {
                    at: c.position(e.offset),
                    text: e.excerpt(&c.text),
                    message: e.message,
                }),
            }
        };
        let mut macros = self.macros.items;
        for m in &mut macros {
            parse(&mut m.condition, &mut errors);
        }
        let mut rules = self.rules.items;
        for r in &mut rules {
            parse(&mut r.condition, &mut errors);
            for e in &r.exceptions {
                let Some(fields) = &e.fields else {
                    errors.push(Error::Schema {
                        at: e.at.clone(),
                        message: format!(
                            "exception `{}` of rule `{}` has no `fields`",
                            e.name, r.name
                        ),
                        text: e.name.clone(),
                    });
                    continue;
                };
                let arity = match fields {
                    // One field: every value of every row goes into one list.
                    ExceptionFields::Single(..) => continue,
                    ExceptionFields::Tuple(f) => f.len(),
                };
                for (row, at) in &e.values {
                    if row.len() != arity {
                        errors.push(Error::Schema {
                            at: at.clone(),
                            message: format!(
                                "exception `{}` of rule `{}`: value tuple has {} items but `fields` has {arity}",
                                e.name,
                                r.name,
                                row.len()
                            ),
                            text: e.name.clone(),
                        });
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(Errors::new(errors));
        }
        Ok(LoadedRules {
            limits,
            lists: self.lists.items,
            macros,
            rules,
            warnings: self.warnings,
            files: self.files,
        })
    }
}
