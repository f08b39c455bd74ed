//! Compilation: expand lists and macros, resolve fields through the source's catalog,
//! precompile sets, globs and regexes, fold exceptions in, and index rules by source and event
//! type.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::condition::{
    self, Check, Expr, ListValue, Literal, Op, Operand, Rhs, Span, Transformer,
};
use crate::error::{Error, Errors, Position};
use crate::eval::{self, CheckNode, Cmp, IpNet, Lit, Node, Test, ValueSet};
use crate::field::{FieldCatalog, FieldType, PermissiveCatalog};
use crate::loader::{
    Condition, ExceptionDef, ExceptionFields, ExceptionItem, Limits, ListDef, LoadedRules,
    MacroDef, RuleDef,
};
use crate::matchers::{Glob, PrefixSet};
use crate::output::OutputTemplate;
use crate::priority::Priority;
use crate::ruleset::{Rule, RuleSet, SourceIndex};
use crate::warning::{Warning, WarningKind};

/// Options for [`RuleSet::compile`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CompileOptions {
    /// Rules below this priority are not compiled in (Falco's `priority` setting).
    pub min_priority: Priority,
    /// Compile sources without a catalog against a [`PermissiveCatalog`] (parse-only
    /// validation) instead of skipping their rules.
    pub permissive: bool,
}

impl Default for CompileOptions {
    fn default() -> Self {
        Self {
            min_priority: Priority::Debug,
            permissive: false,
        }
    }
}

impl CompileOptions {
    /// Every priority, no permissive catalogs.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Set the minimum priority.
    #[must_use]
    pub fn min_priority(mut self, p: Priority) -> Self {
        self.min_priority = p;
        self
    }

    /// Set permissive (parse-only) mode.
    #[must_use]
    pub fn permissive(mut self, on: bool) -> Self {
        self.permissive = on;
        self
    }
}

/// What compilation did with each rule.
#[derive(Debug, Clone, Default)]
pub struct CompileReport {
    /// Rules defined in the loaded files (after overrides).
    pub loaded: usize,
    /// Rules compiled and active.
    pub enabled: usize,
    /// Rules with `enabled: false`.
    pub disabled: usize,
    /// Rules below the minimum priority.
    pub below_min_priority: usize,
    /// Rules skipped because their source's catalog does not know a field: field → rules.
    pub skipped_unknown_fields: BTreeMap<String, Vec<String>>,
    /// Rules skipped because no catalog serves their source: source → rules.
    pub skipped_unknown_source: BTreeMap<String, Vec<String>>,
    /// Active rules per source.
    pub enabled_per_source: BTreeMap<String, usize>,
    /// Warnings from loading and compiling.
    pub warnings: Vec<Warning>,
}

impl CompileReport {
    /// How many rules were skipped for unknown fields (each rule counted once).
    #[must_use]
    pub fn skipped_for_unknown_fields(&self) -> usize {
        let rules: HashSet<&String> = self.skipped_unknown_fields.values().flatten().collect();
        rules.len()
    }
}

/// Why an expression could not be compiled.
#[derive(Debug, Clone)]
enum Fail {
    /// The catalog does not know this field (as written).
    Unknown(String),
    /// A hard error, already recorded.
    Error,
}

/// Where spans of an expression point.
#[derive(Clone, Copy)]
enum Where<'a> {
    Cond(&'a Condition),
    Fixed(&'a Position),
}

impl Where<'_> {
    fn at(&self, span: Span) -> Position {
        match self {
            Where::Cond(c) => c.position(span.start),
            Where::Fixed(p) => (*p).clone(),
        }
    }

    fn text(&self, span: Span) -> String {
        match self {
            Where::Cond(c) => crate::yaml::shorten(
                c.text()
                    .get(span.start..span.end.max(span.start))
                    .unwrap_or_default(),
                100,
            ),
            Where::Fixed(_) => String::new(),
        }
    }
}

type MacroCache = HashMap<String, Result<Arc<Node>, Fail>>;

struct Compiler<'l> {
    lists: HashMap<&'l str, &'l ListDef>,
    macros: HashMap<&'l str, &'l MacroDef>,
    limits: Limits,
    errors: Vec<Error>,
    used_lists: HashSet<String>,
    used_macros: HashSet<String>,
    nodes: usize,
}

struct SourceCx<'c> {
    catalog: &'c mut dyn FieldCatalog,
    event_type_field: Option<String>,
    macros: MacroCache,
}

pub(crate) fn compile(
    loaded: &LoadedRules,
    catalogs: &mut [&mut dyn FieldCatalog],
    options: &CompileOptions,
) -> Result<(RuleSet, CompileReport), Errors> {
    let span = tracing::debug_span!("compile_rules", rules = loaded.rules().len());
    let _guard = span.enter();
    let mut c = Compiler {
        lists: loaded
            .lists()
            .iter()
            .map(|l| (l.name.as_str(), l))
            .collect(),
        macros: loaded
            .macros()
            .iter()
            .map(|m| (m.name.as_str(), m))
            .collect(),
        limits: *loaded.limits(),
        errors: Vec::new(),
        used_lists: HashSet::new(),
        used_macros: HashSet::new(),
        nodes: 0,
    };
    let mut report = CompileReport {
        warnings: loaded.warnings().to_vec(),
        ..CompileReport::default()
    };

    // One context per source: a provided catalog, or a permissive one.
    let mut permissive: Vec<PermissiveCatalog> = Vec::new();
    if options.permissive {
        let mut seen = HashSet::new();
        for r in loaded.rules() {
            let served = catalogs.iter().any(|cat| cat.source() == r.source);
            if !served && seen.insert(r.source.clone()) {
                permissive.push(PermissiveCatalog::new(r.source.clone()));
            }
        }
    }
    let mut sources: HashMap<String, SourceCx<'_>> = HashMap::new();
    for cat in catalogs.iter_mut() {
        let name = cat.source().to_owned();
        let event_type_field = cat.event_type_field().map(str::to_owned);
        sources.entry(name).or_insert(SourceCx {
            catalog: &mut **cat,
            event_type_field,
            macros: MacroCache::new(),
        });
    }
    for cat in &mut permissive {
        let name = cat.source().to_owned();
        let event_type_field = cat.event_type_field().map(str::to_owned);
        sources.entry(name).or_insert(SourceCx {
            catalog: cat,
            event_type_field,
            macros: MacroCache::new(),
        });
    }

    let mut compiled: Vec<(Rule, bool, bool)> = Vec::new();
    for r in loaded.rules() {
        report.loaded += 1;
        let Some(scx) = sources.get_mut(&r.source) else {
            if r.enabled && r.priority >= options.min_priority {
                report
                    .skipped_unknown_source
                    .entry(r.source.clone())
                    .or_default()
                    .push(r.name.clone());
                report.warnings.push(Warning {
                    at: Some(r.at.clone()),
                    kind: WarningKind::UnknownSource,
                    message: format!(
                        "rule `{}` skipped: no event source `{}` is loaded",
                        r.name, r.source
                    ),
                });
            } else if !r.enabled {
                report.disabled += 1;
            } else {
                report.below_min_priority += 1;
            }
            continue;
        };
        let result = c.rule(scx, r);
        if !r.enabled {
            report.disabled += 1;
            continue;
        }
        if r.priority < options.min_priority {
            report.below_min_priority += 1;
            continue;
        }
        match result {
            Ok(rule) => compiled.push((rule, r.warn_evttypes, scx.event_type_field.is_some())),
            Err(Fail::Error) => {}
            Err(Fail::Unknown(field)) => {
                report
                    .skipped_unknown_fields
                    .entry(field.clone())
                    .or_default()
                    .push(r.name.clone());
                if !r.skip_if_unknown_filter {
                    tracing::debug!(rule = %r.name, field = %field, "rule skipped: unknown field");
                    report.warnings.push(Warning {
                        at: Some(r.at.clone()),
                        kind: WarningKind::UnknownField,
                        message: format!(
                            "rule `{}` skipped: field `{field}` is not known to source `{}`",
                            r.name, r.source
                        ),
                    });
                }
            }
        }
    }

    if !c.errors.is_empty() {
        return Err(Errors::new(c.errors));
    }

    for m in loaded.macros() {
        if !c.used_macros.contains(&m.name) {
            report.warnings.push(Warning {
                at: Some(m.at.clone()),
                kind: WarningKind::UnusedMacro,
                message: format!("macro `{}` is not used by any rule", m.name),
            });
        }
    }
    for l in loaded.lists() {
        if !c.used_lists.contains(&l.name) {
            report.warnings.push(Warning {
                at: Some(l.at.clone()),
                kind: WarningKind::UnusedList,
                message: format!("list `{}` is not used by any rule", l.name),
            });
        }
    }

    let mut set = RuleSet::default();
    let mut per_source: HashMap<String, Vec<(u32, TSet)>> = HashMap::new();
    for (rule, warn_evttypes, indexed) in compiled {
        let id = u32::try_from(set.rules.len()).unwrap_or(u32::MAX);
        let (may_true, _) = analyze(&rule.condition);
        if indexed && warn_evttypes && !matches!(may_true, TSet::Only(_)) {
            report.warnings.push(Warning {
                at: Some(rule.at.clone()),
                kind: WarningKind::NoEventType,
                message: format!(
                    "rule `{}` does not restrict the event type and runs on every event",
                    rule.name
                ),
            });
        }
        *report
            .enabled_per_source
            .entry(rule.source.clone())
            .or_default() += 1;
        per_source
            .entry(rule.source.clone())
            .or_default()
            .push((id, if indexed { may_true } else { TSet::All }));
        set.rules.push(rule);
    }
    report.enabled = set.rules.len();
    for (source, rules) in per_source {
        set.sources.insert(source, build_index(&rules));
    }
    tracing::debug!(
        loaded = report.loaded,
        enabled = report.enabled,
        disabled = report.disabled,
        skipped = report.skipped_for_unknown_fields(),
        "rules compiled"
    );
    Ok((set, report))
}

fn build_index(rules: &[(u32, TSet)]) -> SourceIndex {
    let mut known: FxHashSet<Box<str>> = FxHashSet::default();
    for (_, t) in rules {
        if let TSet::Only(s) | TSet::Except(s) = t {
            known.extend(s.iter().cloned());
        }
    }
    let mut by_type: FxHashMap<Box<str>, Vec<u32>> = FxHashMap::default();
    let mut other = Vec::new();
    for (id, t) in rules {
        match t {
            TSet::All => {
                other.push(*id);
                for k in &known {
                    by_type.entry(k.clone()).or_default().push(*id);
                }
            }
            TSet::Only(s) => {
                for k in s {
                    by_type.entry(k.clone()).or_default().push(*id);
                }
            }
            TSet::Except(s) => {
                other.push(*id);
                for k in known.iter().filter(|k| !s.contains(*k)) {
                    by_type.entry(k.clone()).or_default().push(*id);
                }
            }
        }
    }
    SourceIndex {
        by_type: by_type
            .into_iter()
            .map(|(k, v)| (k, v.into_boxed_slice()))
            .collect(),
        other: other.into_boxed_slice(),
        all: rules.iter().map(|(id, _)| *id).collect(),
    }
}

/// A set of event types: every type, only these, or all but these.
#[derive(Debug, Clone)]
enum TSet {
    All,
    Only(FxHashSet<Box<str>>),
    Except(FxHashSet<Box<str>>),
}

fn inter(a: TSet, b: TSet) -> TSet {
    match (a, b) {
        (TSet::All, x) | (x, TSet::All) => x,
        (TSet::Only(a), TSet::Only(b)) => TSet::Only(a.intersection(&b).cloned().collect()),
        (TSet::Only(a), TSet::Except(b)) | (TSet::Except(b), TSet::Only(a)) => {
            TSet::Only(a.difference(&b).cloned().collect())
        }
        (TSet::Except(a), TSet::Except(b)) => TSet::Except(a.union(&b).cloned().collect()),
    }
}

fn union(a: TSet, b: TSet) -> TSet {
    match (a, b) {
        (TSet::All, _) | (_, TSet::All) => TSet::All,
        (TSet::Only(a), TSet::Only(b)) => TSet::Only(a.union(&b).cloned().collect()),
        (TSet::Only(a), TSet::Except(b)) | (TSet::Except(b), TSet::Only(a)) => {
            TSet::Except(b.difference(&a).cloned().collect())
        }
        (TSet::Except(a), TSet::Except(b)) => TSet::Except(a.intersection(&b).cloned().collect()),
    }
}

/// (event types for which `n` may be true, event types for which it may be false).
fn analyze(n: &Node) -> (TSet, TSet) {
    match n {
        Node::Const(true) => (TSet::All, TSet::Only(FxHashSet::default())),
        Node::Const(false) => (TSet::Only(FxHashSet::default()), TSet::All),
        Node::Not(x) => {
            let (t, f) = analyze(x);
            (f, t)
        }
        Node::Shared(x) => analyze(x),
        Node::And(v) => v.iter().map(analyze).fold(
            (TSet::All, TSet::Only(FxHashSet::default())),
            |(t, f), (ti, fi)| (inter(t, ti), union(f, fi)),
        ),
        Node::Or(v) => v.iter().map(analyze).fold(
            (TSet::Only(FxHashSet::default()), TSet::All),
            |(t, f), (ti, fi)| (union(t, ti), inter(f, fi)),
        ),
        Node::Check(c) if c.is_event_type => {
            let one = |s: &str| -> FxHashSet<Box<str>> { std::iter::once(s.into()).collect() };
            match &c.test {
                Test::Cmp(Cmp::Eq, lit) => {
                    (TSet::Only(one(&lit.text)), TSet::Except(one(&lit.text)))
                }
                Test::Cmp(Cmp::Ne, lit) => {
                    (TSet::Except(one(&lit.text)), TSet::Only(one(&lit.text)))
                }
                Test::In(set) => (TSet::Only(set.strs.clone()), TSet::Except(set.strs.clone())),
                _ => (TSet::All, TSet::All),
            }
        }
        Node::Check(_) => (TSet::All, TSet::All),
    }
}

/// The type of a field after its transformers.
fn effective_type(base: FieldType, transforms: &[Transformer]) -> FieldType {
    transforms.iter().fold(base, |t, tr| match tr {
        Transformer::Len => FieldType::Int,
        Transformer::B64 => FieldType::String,
        Transformer::ToLower | Transformer::ToUpper | Transformer::Basename => match t {
            FieldType::StringList | FieldType::Dynamic | FieldType::Bytes => t,
            _ => FieldType::String,
        },
    })
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() & 1 == 1 {
        return None;
    }
    digits
        .chunks(2)
        .map(|p| {
            let s = std::str::from_utf8(p).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

impl<'l> Compiler<'l> {
    fn rule(&mut self, scx: &mut SourceCx<'_>, r: &'l RuleDef) -> Result<Rule, Fail> {
        let Some(expr) = r.condition.expr() else {
            return Err(Fail::Error);
        };
        self.nodes = 0;
        let mut stack = Vec::new();
        let cond = self.expr(scx, expr, Where::Cond(&r.condition), &mut stack, 0)?;
        let mut parts = vec![cond];
        for e in &r.exceptions {
            if let Some(n) = self.exception(scx, r, e)? {
                parts.push(Node::Not(Box::new(n)));
            }
        }
        let condition = if parts.len() == 1 {
            parts.pop().unwrap_or(Node::Const(false))
        } else {
            Node::And(parts.into_boxed_slice())
        };
        let output = OutputTemplate::build(&r.output, |name, arg| scx.catalog.resolve(name, arg))
            .map_err(|(written, _)| Fail::Unknown(written))?;
        Ok(Rule {
            name: r.name.clone(),
            desc: r.desc.clone(),
            priority: r.priority,
            source: r.source.clone(),
            tags: r.tags.clone(),
            output_format: r.output.clone(),
            output,
            condition,
            at: r.at.clone(),
        })
    }

    fn count(&mut self, at: &Where<'_>, span: Span) -> Result<(), Fail> {
        self.nodes += 1;
        if self.nodes > self.limits.max_expanded_nodes {
            self.errors.push(Error::Limit {
                at: at.at(span),
                what: "expanded condition size",
                limit: self.limits.max_expanded_nodes,
            });
            return Err(Fail::Error);
        }
        Ok(())
    }

    fn expr(
        &mut self,
        scx: &mut SourceCx<'_>,
        e: &'l Expr,
        at: Where<'l>,
        stack: &mut Vec<&'l str>,
        depth: usize,
    ) -> Result<Node, Fail> {
        // Parsing bounds nesting per condition; macros multiply it, so bound the total.
        if depth > self.limits.max_condition_depth.saturating_mul(8) {
            let span = first_span(e);
            self.errors.push(Error::Limit {
                at: at.at(span),
                what: "condition nesting after macro expansion",
                limit: self.limits.max_condition_depth.saturating_mul(8),
            });
            return Err(Fail::Error);
        }
        match e {
            Expr::And(v) | Expr::Or(v) => {
                let mut out = Vec::with_capacity(v.len());
                let mut unknown = None;
                for x in v {
                    match self.expr(scx, x, at, stack, depth + 1) {
                        Ok(n) => out.push(n),
                        Err(Fail::Unknown(f)) => {
                            // Keep compiling to report hard errors; remember the field.
                            unknown.get_or_insert(f);
                        }
                        Err(Fail::Error) => return Err(Fail::Error),
                    }
                }
                if let Some(f) = unknown {
                    return Err(Fail::Unknown(f));
                }
                Ok(if matches!(e, Expr::And(_)) {
                    Node::And(out.into_boxed_slice())
                } else {
                    Node::Or(out.into_boxed_slice())
                })
            }
            Expr::Not(x, _) => Ok(Node::Not(Box::new(self.expr(
                scx,
                x,
                at,
                stack,
                depth + 1,
            )?))),
            Expr::Macro(id) => self.macro_ref(scx, id, at, stack, depth),
            Expr::Check(c) => {
                self.count(&at, c.op_span)?;
                self.check(scx, c, at)
            }
        }
    }

    fn macro_ref(
        &mut self,
        scx: &mut SourceCx<'_>,
        id: &'l condition::Ident,
        at: Where<'l>,
        stack: &mut Vec<&'l str>,
        depth: usize,
    ) -> Result<Node, Fail> {
        let Some(m) = self.macros.get(id.name.as_str()).copied() else {
            self.errors.push(Error::UndefinedMacro {
                at: at.at(id.span),
                name: id.name.clone(),
            });
            return Err(Fail::Error);
        };
        self.used_macros.insert(m.name.clone());
        if let Some(i) = stack.iter().position(|n| *n == m.name) {
            let mut cycle: Vec<String> = stack
                .get(i..)
                .unwrap_or_default()
                .iter()
                .map(|s| (*s).to_owned())
                .collect();
            cycle.push(m.name.clone());
            self.errors.push(Error::MacroCycle {
                at: at.at(id.span),
                cycle,
            });
            return Err(Fail::Error);
        }
        if let Some(cached) = scx.macros.get(&m.name) {
            return cached.clone().map(Node::Shared);
        }
        if stack.len() >= self.limits.max_macro_depth {
            self.errors.push(Error::Limit {
                at: at.at(id.span),
                what: "macro nesting",
                limit: self.limits.max_macro_depth,
            });
            return Err(Fail::Error);
        }
        let Some(body) = m.condition.expr() else {
            return Err(Fail::Error);
        };
        stack.push(&m.name);
        let r = self.expr(scx, body, Where::Cond(&m.condition), stack, depth + 1);
        stack.pop();
        let r = r.map(Arc::new);
        scx.macros.insert(m.name.clone(), r.clone());
        r.map(Node::Shared)
    }

    fn operand(
        &mut self,
        scx: &mut SourceCx<'_>,
        o: &Operand,
    ) -> Result<(eval::Operand, FieldType, bool), Fail> {
        let mut transforms = Vec::new();
        let mut cur = o;
        let field = loop {
            match cur {
                Operand::Field(f) => break f,
                Operand::Transform { func, inner, .. } => {
                    transforms.push(*func);
                    cur = inner;
                }
            }
        };
        transforms.reverse();
        let id = scx
            .catalog
            .resolve(&field.name, field.arg.as_deref())
            .map_err(|_| Fail::Unknown(field.to_string()))?;
        let ty = effective_type(scx.catalog.field_type(id), &transforms);
        let is_evt = transforms.is_empty()
            && field.arg.is_none()
            && scx.event_type_field.as_deref() == Some(field.name.as_str());
        Ok((
            eval::Operand {
                field: id,
                transforms: transforms.into_boxed_slice(),
            },
            ty,
            is_evt,
        ))
    }

    fn invalid(&mut self, at: &Where<'_>, span: Span, message: String) -> Fail {
        let text = at.text(span);
        self.errors.push(Error::InvalidComparison {
            at: at.at(span),
            message,
            text,
        });
        Fail::Error
    }

    fn check(&mut self, scx: &mut SourceCx<'_>, c: &Check, at: Where<'_>) -> Result<Node, Fail> {
        let (lhs, ty, is_event_type) = self.operand(scx, &c.lhs)?;
        let field_name = c.lhs.field().to_string();
        let string_op = matches!(
            c.op,
            Op::Contains
                | Op::IContains
                | Op::StartsWith
                | Op::EndsWith
                | Op::Glob
                | Op::IGlob
                | Op::Regex
                | Op::PMatch
        );
        if string_op && matches!(ty, FieldType::Int | FieldType::Bool | FieldType::Ip) {
            return Err(self.invalid(
                &at,
                c.op_span,
                format!(
                    "operator `{}` does not apply to field `{field_name}` ({ty:?})",
                    c.op
                ),
            ));
        }
        let test = match (&c.rhs, c.op) {
            (_, Op::Exists) => Test::Exists,
            (Some(Rhs::Field(r)), op) => {
                let (r, _, _) = self.operand(scx, r)?;
                Test::Field(op, r)
            }
            (Some(Rhs::Value(lit)), op) => self.scalar_test(op, lit, ty, &field_name, &at)?,
            (Some(Rhs::List(list)), op) => {
                let items = self.expand(list, &at)?;
                match op {
                    Op::PMatch => PrefixSet::new(items.iter().map(String::as_str)).into_test(),
                    Op::In | Op::Intersects => {
                        let mut set = ValueSet::default();
                        for item in &items {
                            if let Some(msg) = type_mismatch(ty, item) {
                                return Err(self.invalid(
                                    &at,
                                    list.span,
                                    format!("list item `{item}` for field `{field_name}`: {msg}"),
                                ));
                            }
                            set.insert(item);
                        }
                        if op == Op::In {
                            Test::In(set)
                        } else {
                            Test::Intersects(set)
                        }
                    }
                    other => {
                        return Err(self.invalid(
                            &at,
                            c.op_span,
                            format!("operator `{other}` does not take a list"),
                        ))
                    }
                }
            }
            (None, op) => {
                return Err(self.invalid(&at, c.op_span, format!("operator `{op}` needs a value")))
            }
        };
        Ok(Node::Check(Box::new(CheckNode {
            lhs,
            test,
            is_event_type,
        })))
    }

    fn scalar_test(
        &mut self,
        op: Op,
        lit: &Literal,
        ty: FieldType,
        field: &str,
        at: &Where<'_>,
    ) -> Result<Test, Fail> {
        let text = lit.text.as_str();
        let cmp = |c: Cmp| Test::Cmp(c, Lit::new(text));
        let test = match op {
            Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                let ordering = !matches!(op, Op::Eq | Op::Ne);
                if let Some(msg) = type_mismatch(ty, text) {
                    return Err(self.invalid(
                        at,
                        lit.span,
                        format!("value for field `{field}`: {msg}"),
                    ));
                }
                if ordering && matches!(ty, FieldType::Bool | FieldType::Ip) {
                    return Err(self.invalid(
                        at,
                        lit.span,
                        format!("operator `{op}` does not apply to field `{field}` ({ty:?})"),
                    ));
                }
                cmp(match op {
                    Op::Eq => Cmp::Eq,
                    Op::Ne => Cmp::Ne,
                    Op::Lt => Cmp::Lt,
                    Op::Le => Cmp::Le,
                    Op::Gt => Cmp::Gt,
                    _ => Cmp::Ge,
                })
            }
            Op::Contains => {
                Test::Contains(memchr::memmem::Finder::new(text.as_bytes()).into_owned())
            }
            Op::IContains => {
                Test::IContains(text.to_ascii_lowercase().into_bytes().into_boxed_slice())
            }
            Op::StartsWith => Test::StartsWith(text.as_bytes().into()),
            Op::EndsWith => Test::EndsWith(text.as_bytes().into()),
            Op::BContains | Op::BStartsWith => {
                let Some(bytes) = decode_hex(text) else {
                    return Err(self.invalid(
                        at,
                        lit.span,
                        format!("`{op}` takes hexadecimal bytes, not `{text}`"),
                    ));
                };
                if op == Op::BContains {
                    Test::Contains(memchr::memmem::Finder::new(&bytes).into_owned())
                } else {
                    Test::StartsWith(bytes.into_boxed_slice())
                }
            }
            Op::Glob | Op::IGlob => Test::Glob(Glob::new(text, op == Op::IGlob)),
            Op::Regex => {
                let built = regex::RegexBuilder::new(&format!("^(?:{text})$"))
                    .size_limit(self.limits.max_regex_bytes)
                    .dfa_size_limit(self.limits.max_regex_bytes)
                    .nest_limit(100)
                    .build();
                match built {
                    Ok(re) => Test::Regex(re),
                    Err(e) => {
                        let msg = e.to_string();
                        let first = msg.lines().last().unwrap_or_default().trim().to_owned();
                        return Err(self.invalid(at, lit.span, format!("invalid regex: {first}")));
                    }
                }
            }
            Op::In | Op::Intersects | Op::PMatch | Op::Exists => {
                return Err(self.invalid(at, lit.span, format!("operator `{op}` takes a list")))
            }
        };
        Ok(test)
    }

    /// Expand a list value: bare items naming a list are replaced by its (expanded) items.
    fn expand(&mut self, list: &ListValue, at: &Where<'_>) -> Result<Vec<String>, Fail> {
        let mut out = Vec::new();
        let mut visiting = Vec::new();
        for item in &list.items {
            if !item.quoted {
                if let Some(l) = self.lists.get(item.text.as_str()).copied() {
                    self.expand_list(l, &mut out, &mut visiting);
                    continue;
                }
            }
            out.push(item.text.clone());
        }
        if out.len() > self.limits.max_expanded_nodes {
            self.errors.push(Error::Limit {
                at: at.at(list.span),
                what: "expanded list size",
                limit: self.limits.max_expanded_nodes,
            });
            return Err(Fail::Error);
        }
        Ok(out)
    }

    fn expand_list(&mut self, l: &'l ListDef, out: &mut Vec<String>, visiting: &mut Vec<&'l str>) {
        self.used_lists.insert(l.name.clone());
        if visiting.contains(&l.name.as_str()) || out.len() > self.limits.max_expanded_nodes {
            return;
        }
        visiting.push(&l.name);
        for item in &l.items {
            if let Some(unquoted) = condition::unquote(item) {
                out.push(unquoted);
                continue;
            }
            if let Some(inner) = self.lists.get(item.as_str()).copied() {
                if !visiting.contains(&inner.name.as_str()) {
                    self.expand_list(inner, out, visiting);
                    continue;
                }
            }
            out.push(item.clone());
        }
        visiting.pop();
    }

    /// One exception as `(row1) or (row2) …`; None when it has no values.
    fn exception(
        &mut self,
        scx: &mut SourceCx<'_>,
        r: &RuleDef,
        e: &ExceptionDef,
    ) -> Result<Option<Node>, Fail> {
        let Some(fields) = &e.fields else {
            return Ok(None);
        };
        if e.values.is_empty() {
            return Ok(None);
        }
        let lit = |text: &str| Literal {
            text: text.to_owned(),
            quoted: true,
            span: Span::default(),
        };
        let list_of = |items: Vec<&str>| {
            Rhs::List(ListValue {
                items: items
                    .into_iter()
                    .map(|t| Literal {
                        text: t.to_owned(),
                        quoted: false,
                        span: Span::default(),
                    })
                    .collect(),
                span: Span::default(),
            })
        };
        let mut rows = Vec::new();
        match fields {
            ExceptionFields::Single(field, fpos) => {
                let op = e.comps.first().copied().unwrap_or(Op::In);
                if op.takes_list() {
                    let mut all = Vec::new();
                    for (row, _) in &e.values {
                        for it in row {
                            match it {
                                ExceptionItem::Scalar(s) => all.push(s.as_str()),
                                ExceptionItem::List(v) => all.extend(v.iter().map(String::as_str)),
                            }
                        }
                    }
                    let check = Check {
                        lhs: field.clone(),
                        op,
                        op_span: Span::default(),
                        rhs: Some(list_of(all)),
                    };
                    rows.push(self.check(scx, &check, Where::Fixed(fpos))?);
                } else {
                    for (row, pos) in &e.values {
                        for it in row {
                            let ExceptionItem::Scalar(s) = it else {
                                return Err(self.exc_error(
                                    r,
                                    e,
                                    pos,
                                    format!("operator `{op}` takes a single value, not a list"),
                                ));
                            };
                            let check = Check {
                                lhs: field.clone(),
                                op,
                                op_span: Span::default(),
                                rhs: Some(Rhs::Value(lit(s))),
                            };
                            rows.push(self.check(scx, &check, Where::Fixed(pos))?);
                        }
                    }
                }
            }
            ExceptionFields::Tuple(fs) => {
                for (row, pos) in &e.values {
                    let mut ands = Vec::new();
                    for (((field, _), op), it) in fs.iter().zip(&e.comps).zip(row) {
                        let rhs = match (it, op.takes_list()) {
                            (ExceptionItem::Scalar(s), true) => list_of(vec![s.as_str()]),
                            (ExceptionItem::List(v), true) => {
                                list_of(v.iter().map(String::as_str).collect())
                            }
                            (ExceptionItem::Scalar(s), false) => Rhs::Value(lit(s)),
                            (ExceptionItem::List(_), false) => {
                                return Err(self.exc_error(
                                    r,
                                    e,
                                    pos,
                                    format!("operator `{op}` takes a single value, not a list"),
                                ));
                            }
                        };
                        let check = Check {
                            lhs: field.clone(),
                            op: *op,
                            op_span: Span::default(),
                            rhs: Some(rhs),
                        };
                        ands.push(self.check(scx, &check, Where::Fixed(pos))?);
                    }
                    rows.push(if ands.len() == 1 {
                        ands.pop().unwrap_or(Node::Const(false))
                    } else {
                        Node::And(ands.into_boxed_slice())
                    });
                }
            }
        }
        Ok(Some(if rows.len() == 1 {
            rows.pop().unwrap_or(Node::Const(false))
        } else {
            Node::Or(rows.into_boxed_slice())
        }))
    }

    fn exc_error(&mut self, r: &RuleDef, e: &ExceptionDef, pos: &Position, msg: String) -> Fail {
        self.errors.push(Error::InvalidComparison {
            at: pos.clone(),
            message: format!("exception `{}` of rule `{}`: {msg}", e.name, r.name),
            text: e.name.clone(),
        });
        Fail::Error
    }
}

impl PrefixSet {
    fn into_test(self) -> Test {
        Test::PMatch(self)
    }
}

/// Why `text` cannot be a value of a field of type `ty`, if it cannot.
fn type_mismatch(ty: FieldType, text: &str) -> Option<&'static str> {
    match ty {
        FieldType::Int if eval::parse_int(text).is_none() => Some("expected an integer"),
        FieldType::Bool if eval::parse_bool(text).is_none() => Some("expected true or false"),
        FieldType::Ip if IpNet::parse(text).is_none() => Some("expected an IP address or network"),
        _ => None,
    }
}

fn first_span(e: &Expr) -> Span {
    match e {
        Expr::And(v) | Expr::Or(v) => v.first().map(first_span).unwrap_or_default(),
        Expr::Not(_, s) => *s,
        Expr::Macro(id) => id.span,
        Expr::Check(c) => c.lhs.span(),
    }
}
