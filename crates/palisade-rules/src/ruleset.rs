//! The compiled rule set and its evaluation.

use rustc_hash::FxHashMap;

use crate::compile::{CompileOptions, CompileReport};
use crate::error::{Errors, Position};
use crate::eval::{Bufs, Node};
use crate::field::{Event, FieldBuf, FieldCatalog};
use crate::loader::LoadedRules;
use crate::output::{Alert, OutputTemplate};
use crate::priority::Priority;

/// A compiled, enabled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub(crate) name: String,
    pub(crate) desc: String,
    pub(crate) priority: Priority,
    pub(crate) source: String,
    pub(crate) tags: Vec<String>,
    pub(crate) output_format: String,
    pub(crate) output: OutputTemplate,
    pub(crate) condition: Node,
    pub(crate) at: Position,
}

impl Rule {
    /// The rule name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `desc`.
    #[must_use]
    pub fn desc(&self) -> &str {
        &self.desc
    }

    /// `priority`.
    #[must_use]
    pub fn priority(&self) -> Priority {
        self.priority
    }

    /// `source`.
    #[must_use]
    pub fn source(&self) -> &str {
        &self.source
    }

    /// `tags`.
    #[must_use]
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// The output format string as written.
    #[must_use]
    pub fn output_format(&self) -> &str {
        &self.output_format
    }

    /// The compiled output template.
    #[must_use]
    pub fn output(&self) -> &OutputTemplate {
        &self.output
    }

    /// Where the rule is defined.
    #[must_use]
    pub fn position(&self) -> &Position {
        &self.at
    }

    /// Evaluate this rule's condition alone.
    pub fn matches<E: Event + ?Sized>(&self, event: &E, scratch: &mut Scratch) -> bool {
        self.condition.eval(event, &mut scratch.bufs)
    }

    /// Render the output string for `event` (`<NA>` for absent fields).
    pub fn render_output<E: Event + ?Sized>(&self, event: &E) -> String {
        self.output.render(event, &mut FieldBuf::new())
    }

    /// The contract's JSON alert for `event`; `time` is RFC 3339 with nanoseconds
    /// (see [`crate::format_rfc3339_nanos`]).
    pub fn alert<E: Event + ?Sized>(&self, event: &E, time: impl Into<String>) -> Alert {
        let mut buf = FieldBuf::new();
        Alert {
            time: time.into(),
            rule: self.name.clone(),
            priority: self.priority,
            source: self.source.clone(),
            output: self.output.render(event, &mut buf),
            tags: self.tags.clone(),
            output_fields: self.output.fields_json(event, &mut buf),
        }
    }
}

/// Scratch buffers for evaluation; keep one per thread and pass it to
/// [`RuleSet::evaluate_with`] so that evaluation does not allocate once warm.
#[derive(Debug, Default)]
pub struct Scratch {
    pub(crate) bufs: Bufs,
}

impl Scratch {
    /// Empty buffers.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct SourceIndex {
    /// Rules (indices into `RuleSet::rules`, in load order) per event type.
    pub(crate) by_type: FxHashMap<Box<str>, Box<[u32]>>,
    /// Rules for events whose type is absent or not in `by_type`.
    pub(crate) other: Box<[u32]>,
    /// Every rule of the source.
    pub(crate) all: Box<[u32]>,
}

/// A compiled rule set, indexed by source and event type.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub(crate) rules: Vec<Rule>,
    pub(crate) sources: FxHashMap<String, SourceIndex>,
}

/// One rule that matched an event.
#[derive(Debug, Clone, Copy)]
pub struct Match<'r> {
    rule: &'r Rule,
}

impl<'r> Match<'r> {
    /// The matching rule.
    #[must_use]
    pub fn rule(&self) -> &'r Rule {
        self.rule
    }
}

enum ScratchSlot<'a> {
    Owned(Box<Scratch>),
    Borrowed(&'a mut Scratch),
}

/// Iterator over the rules matching one event, in load order.
pub struct Matches<'a, E: ?Sized> {
    rules: &'a [Rule],
    ids: std::slice::Iter<'a, u32>,
    event: &'a E,
    scratch: ScratchSlot<'a>,
}

impl<'a, E: Event + ?Sized> Iterator for Matches<'a, E> {
    type Item = Match<'a>;

    fn next(&mut self) -> Option<Match<'a>> {
        let bufs = match &mut self.scratch {
            ScratchSlot::Owned(s) => &mut s.bufs,
            ScratchSlot::Borrowed(s) => &mut s.bufs,
        };
        for &id in self.ids.by_ref() {
            let Some(rule) = self.rules.get(id as usize) else {
                continue;
            };
            if rule.condition.eval(self.event, bufs) {
                return Some(Match { rule });
            }
        }
        None
    }
}

static EMPTY: [u32; 0] = [];

impl RuleSet {
    /// Compile loaded rules against the catalogs of the event sources at hand (one per
    /// source). Rules of a source with no catalog are skipped (or, with
    /// [`CompileOptions::permissive`], compiled against a catalog that accepts any field).
    pub fn compile(
        rules: &LoadedRules,
        catalogs: &mut [&mut dyn FieldCatalog],
        options: &CompileOptions,
    ) -> Result<(RuleSet, CompileReport), Errors> {
        crate::compile::compile(rules, catalogs, options)
    }

    /// Every compiled, enabled rule, in load order.
    #[must_use]
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// A rule by name.
    #[must_use]
    pub fn rule(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.name == name)
    }

    /// The sources that have at least one rule.
    pub fn sources(&self) -> impl Iterator<Item = &str> {
        self.sources.keys().map(String::as_str)
    }

    /// How many rules `evaluate` would consider for an event of `source` and `event_type`.
    #[must_use]
    pub fn candidates(&self, source: &str, event_type: Option<&str>) -> usize {
        self.ids(source, event_type).len()
    }

    fn ids(&self, source: &str, event_type: Option<&str>) -> &[u32] {
        let Some(idx) = self.sources.get(source) else {
            return &EMPTY;
        };
        match event_type.and_then(|t| idx.by_type.get(t)) {
            Some(v) => v,
            None => &idx.other,
        }
    }

    /// The rules of `source` matching `event`, in load order. Allocates fresh scratch
    /// buffers; prefer [`RuleSet::evaluate_with`] in loops.
    pub fn evaluate<'a, E: Event + ?Sized>(&'a self, source: &str, event: &'a E) -> Matches<'a, E> {
        Matches {
            rules: &self.rules,
            ids: self.ids(source, event.event_type()).iter(),
            event,
            scratch: ScratchSlot::Owned(Box::default()),
        }
    }

    /// Like [`RuleSet::evaluate`], reusing `scratch`.
    pub fn evaluate_with<'a, E: Event + ?Sized>(
        &'a self,
        source: &str,
        event: &'a E,
        scratch: &'a mut Scratch,
    ) -> Matches<'a, E> {
        Matches {
            rules: &self.rules,
            ids: self.ids(source, event.event_type()).iter(),
            event,
            scratch: ScratchSlot::Borrowed(scratch),
        }
    }

    /// Keep only rules at or above `min` (Falco's minimum priority), rebuilding the index.
    #[must_use]
    pub fn with_min_priority(self, min: Priority) -> RuleSet {
        let keep: Vec<bool> = self.rules.iter().map(|r| r.priority >= min).collect();
        let mut remap = vec![u32::MAX; self.rules.len()];
        let mut n = 0u32;
        for (i, k) in keep.iter().enumerate() {
            if *k {
                if let Some(slot) = remap.get_mut(i) {
                    *slot = n;
                }
                n += 1;
            }
        }
        let fix = |ids: &[u32]| -> Box<[u32]> {
            ids.iter()
                .filter_map(|&i| remap.get(i as usize).copied().filter(|&j| j != u32::MAX))
                .collect()
        };
        let sources = self
            .sources
            .iter()
            .map(|(s, idx)| {
                (
                    s.clone(),
                    SourceIndex {
                        by_type: idx
                            .by_type
                            .iter()
                            .map(|(t, v)| (t.clone(), fix(v)))
                            .collect(),
                        other: fix(&idx.other),
                        all: fix(&idx.all),
                    },
                )
            })
            .collect();
        let rules = self
            .rules
            .into_iter()
            .zip(keep)
            .filter_map(|(r, k)| k.then_some(r))
            .collect();
        RuleSet { rules, sources }
    }
}
