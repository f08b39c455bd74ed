//! Falco condition syntax: lexer and parser producing an [`Expr`] tree with byte spans.
//!
//! Parsing is independent of rule files: [`parse_condition`] takes the condition text only and
//! reports byte offsets; the loader maps them back to file, line and column.

pub mod ast;
mod lexer;
mod parser;

pub use ast::{
    Check, Expr, FieldRef, Ident, ListValue, Literal, Op, Operand, Rhs, Span, Transformer,
};

/// Default maximum nesting of parentheses, `not` and transformers in one condition.
pub const DEFAULT_MAX_DEPTH: usize = 100;

/// A condition that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at byte {offset}: {message}")]
pub struct ParseError {
    /// Byte offset in the condition text.
    pub offset: usize,
    /// What was expected.
    pub message: String,
}

impl ParseError {
    /// The condition text from the error on, shortened, for messages.
    #[must_use]
    pub fn excerpt(&self, condition: &str) -> String {
        lexer::Lexer::excerpt(condition, self.offset)
    }
}

/// Parse one condition with the default nesting limit.
pub fn parse_condition(text: &str) -> Result<Expr, ParseError> {
    parse_condition_with_depth(text, DEFAULT_MAX_DEPTH)
}

/// Parse one condition, allowing at most `max_depth` nested parentheses/`not`/transformers.
pub fn parse_condition_with_depth(text: &str, max_depth: usize) -> Result<Expr, ParseError> {
    parser::Parser::new(text, max_depth).parse()
}

/// Parse a lone field, possibly transformed (`proc.aname[2]`, `tolower(proc.name)`).
pub fn parse_operand(text: &str) -> Result<Operand, ParseError> {
    parser::Parser::new(text, DEFAULT_MAX_DEPTH).parse_operand()
}

/// If `s` is one complete quoted string (`"…"` or `'…'`), its unescaped content.
pub(crate) fn unquote(s: &str) -> Option<String> {
    if !(s.starts_with('"') || s.starts_with('\'')) {
        return None;
    }
    let mut lx = lexer::Lexer::new(s);
    let (text, span) = lx.quoted().ok()?;
    (span.end == s.len()).then_some(text)
}

#[cfg(test)]
mod tests;
