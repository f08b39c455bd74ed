//! A small YAML tree with source positions, built from the event stream of the YAML parser
//! that `serde-saphyr` uses (`granit-parser`), with limits on depth and node count. Every node
//! keeps its byte range, line and column so that rule errors can point into the file.

use std::collections::HashMap;

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, Span as YSpan};

/// Scalar presentation, kept to map offsets inside a condition back to the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

impl From<ScalarStyle> for Style {
    fn from(s: ScalarStyle) -> Self {
        match s {
            ScalarStyle::Plain => Style::Plain,
            ScalarStyle::SingleQuoted => Style::SingleQuoted,
            ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
            ScalarStyle::Literal => Style::Literal,
            ScalarStyle::Folded => Style::Folded,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    /// Byte offset of the node's first character.
    pub(crate) start: usize,
    /// Byte offset one past the node's last character (scalars only; collections: start).
    pub(crate) end: usize,
    /// 1-based line.
    pub(crate) line: u32,
    /// 1-based column (characters).
    pub(crate) column: u32,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Scalar { value: String, style: Style },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// A plain `null`, `~` or empty scalar.
    pub(crate) fn is_null(&self) -> bool {
        match &self.kind {
            Kind::Scalar {
                value,
                style: Style::Plain,
            } => matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL"),
            _ => false,
        }
    }

    /// A YAML boolean (YAML 1.2 and the YAML 1.1 words yaml-cpp accepts).
    pub(crate) fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            Kind::Scalar {
                value,
                style: Style::Plain,
            } => match value.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "y" => Some(true),
                "false" | "no" | "off" | "n" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    pub(crate) fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Seq(v) => Some(v),
            _ => None,
        }
    }

    pub(crate) fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            Kind::Map(v) => Some(v),
            _ => None,
        }
    }

    /// The value of key `k` in a mapping.
    pub(crate) fn get(&self, k: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(key, _)| key.as_str() == Some(k))
            .map(|(_, v)| v)
    }

    pub(crate) fn style(&self) -> Option<Style> {
        match &self.kind {
            Kind::Scalar { style, .. } => Some(*style),
            _ => None,
        }
    }

    pub(crate) fn type_name(&self) -> &'static str {
        match &self.kind {
            Kind::Scalar { .. } if self.is_null() => "null",
            Kind::Scalar { .. } => "a scalar",
            Kind::Seq(_) => "a sequence",
            Kind::Map(_) => "a mapping",
        }
    }
}

/// Limits on one YAML document set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct YamlLimits {
    pub(crate) max_depth: usize,
    pub(crate) max_nodes: usize,
}

/// A YAML error: message and position (1-based line/column).
#[derive(Debug)]
pub(crate) struct YamlError {
    pub(crate) message: String,
    pub(crate) line: u32,
    pub(crate) column: u32,
}

enum Frame {
    Seq(Node, Vec<Node>, usize),
    Map(Node, Vec<(Node, Node)>, Option<Node>, usize),
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn node_at(kind: Kind, span: &YSpan) -> Node {
    let start = span.start.byte_offset().unwrap_or(0);
    let end = span.end.byte_offset().unwrap_or(start);
    Node {
        kind,
        start,
        end,
        line: to_u32(span.start.line()),
        column: to_u32(span.start.col()).saturating_add(1),
    }
}

/// Parse every document of `text`; each document's root node is returned (empty documents
/// are skipped).
pub(crate) fn parse(text: &str, limits: YamlLimits) -> Result<Vec<Node>, YamlError> {
    let mut opts = serde_saphyr::granit_parser::Options::default();
    opts.flow_nesting_limit = limits.max_depth;
    opts.block_nesting_limit = limits.max_depth;
    let parser = Parser::new_from_str_with_options(text, opts);
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut nodes = 0usize;

    for ev in parser {
        let (ev, span) = ev.map_err(|e| YamlError {
            message: e.info(),
            line: to_u32(e.marker().line()),
            column: to_u32(e.marker().col()).saturating_add(1),
        })?;
        let last = (
            to_u32(span.start.line()),
            to_u32(span.start.col()).saturating_add(1),
        );
        let limit_err = |what: &str, limit: usize| YamlError {
            message: format!("{what} exceeds the limit of {limit}"),
            line: last.0,
            column: last.1,
        };
        let completed: Option<(Node, usize)> = match ev {
            Event::DocumentStart(..) => {
                anchors.clear();
                None
            }
            Event::Scalar(value, style, anchor, _tag) => {
                nodes += value.len() / 64 + 1;
                Some((
                    node_at(
                        Kind::Scalar {
                            value: value.into_owned(),
                            style: style.into(),
                        },
                        &span,
                    ),
                    anchor,
                ))
            }
            Event::SequenceStart(_, anchor, _) => {
                if stack.len() >= limits.max_depth {
                    return Err(limit_err("YAML nesting depth", limits.max_depth));
                }
                stack.push(Frame::Seq(
                    node_at(Kind::Seq(Vec::new()), &span),
                    Vec::new(),
                    anchor,
                ));
                None
            }
            Event::MappingStart(_, anchor, _) => {
                if stack.len() >= limits.max_depth {
                    return Err(limit_err("YAML nesting depth", limits.max_depth));
                }
                stack.push(Frame::Map(
                    node_at(Kind::Map(Vec::new()), &span),
                    Vec::new(),
                    None,
                    anchor,
                ));
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(mut n, items, anchor)) => {
                    n.kind = Kind::Seq(items);
                    Some((n, anchor))
                }
                _ => return Err(limit_err("unbalanced YAML sequence", 0)),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map(mut n, items, _, anchor)) => {
                    n.kind = Kind::Map(items);
                    Some((n, anchor))
                }
                _ => return Err(limit_err("unbalanced YAML mapping", 0)),
            },
            Event::Alias(id) => {
                let Some(n) = anchors.get(&id) else {
                    return Err(YamlError {
                        message: "alias to an unknown anchor".into(),
                        line: last.0,
                        column: last.1,
                    });
                };
                nodes += count(n);
                Some((n.clone(), 0))
            }
            _ => None,
        };
        if nodes > limits.max_nodes {
            return Err(limit_err("number of YAML nodes", limits.max_nodes));
        }
        let Some((node, anchor)) = completed else {
            continue;
        };
        nodes += 1;
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            None => {
                if !node.is_null() {
                    docs.push(node);
                }
            }
            Some(Frame::Seq(_, items, _)) => items.push(node),
            Some(Frame::Map(_, items, pending, _)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => items.push((key, node)),
            },
        }
    }
    Ok(docs)
}

fn count(n: &Node) -> usize {
    match &n.kind {
        Kind::Scalar { value, .. } => value.len() / 64 + 1,
        Kind::Seq(v) => 1 + v.iter().map(count).sum::<usize>(),
        Kind::Map(v) => 1 + v.iter().map(|(k, v)| count(k) + count(v)).sum::<usize>(),
    }
}

/// The source line containing byte `at`, trimmed and shortened, for error messages.
pub(crate) fn line_excerpt(text: &str, at: usize) -> String {
    let at = at.min(text.len());
    let start = text
        .get(..at)
        .and_then(|s| s.rfind('\n'))
        .map_or(0, |i| i + 1);
    let end = text
        .get(at..)
        .and_then(|s| s.find('\n'))
        .map_or(text.len(), |i| at + i);
    shorten(text.get(start..end).unwrap_or_default().trim(), 100)
}

/// The 1-based line's text, for errors that only know line/column.
pub(crate) fn nth_line(text: &str, line: u32) -> String {
    let l = text
        .lines()
        .nth(line.saturating_sub(1) as usize)
        .unwrap_or_default();
    shorten(l.trim(), 100)
}

pub(crate) fn shorten(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max_chars).collect();
    out.push('…');
    out
}

/// Line and column (1-based, column in characters) of byte `at` in `text`.
pub(crate) fn line_col(text: &str, at: usize) -> (u32, u32) {
    let mut at = at.min(text.len());
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = text.get(..at).unwrap_or_default();
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (to_u32(line), to_u32(col))
}

/// Map a byte offset inside a scalar's decoded value to a byte offset in the file.
///
/// Decoding (quotes, escapes, folding, indentation) moves characters, so the mapping aligns
/// non-blank characters of the value with those of the raw text, in order. Offsets that land
/// on blanks map to the next non-blank character.
pub(crate) fn map_scalar_offset(
    file: &str,
    raw_start: usize,
    raw_end: usize,
    style: Style,
    value: &str,
    offset: usize,
) -> usize {
    let raw = file
        .get(raw_start..raw_end.max(raw_start))
        .unwrap_or_default();
    let mut r = 0usize;
    match style {
        // The span may or may not include the block header (`>-`, `|2`…).
        Style::Literal | Style::Folded if raw.starts_with(['>', '|']) => {
            r = raw.find('\n').map_or(raw.len(), |i| i + 1);
        }
        Style::SingleQuoted | Style::DoubleQuoted if raw.starts_with(['"', '\'']) => r = 1,
        _ => {}
    }
    let rb = raw.as_bytes();
    let mut result = raw_start + r.min(raw.len());
    for (i, c) in value.char_indices() {
        if c.is_whitespace() {
            continue;
        }
        // Find c in raw from r on.
        let mut found = None;
        let mut p = r;
        while p < rb.len() {
            if let Some(rc) = raw.get(p..).and_then(|s| s.chars().next()) {
                if rc == c {
                    found = Some(p);
                    break;
                }
                p += rc.len_utf8();
            } else {
                p += 1;
            }
        }
        let Some(p) = found else { break };
        result = raw_start + p;
        if i >= offset {
            return result;
        }
        r = p + c.len_utf8();
    }
    result
}
