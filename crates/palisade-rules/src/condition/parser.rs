//! Recursive-descent parser for Falco conditions, following the documented grammar:
//!
//! ```text
//! Expr      ::= AndExpr ('or' AndExpr)*
//! AndExpr   ::= NotExpr ('and' NotExpr)*
//! NotExpr   ::= 'not' NotExpr | Check
//! Check     ::= '(' Expr ')' | Identifier | Operand 'exists' | Operand CmpOp Rhs
//!             | Operand ListOp (List | FieldRhs)
//! Operand   ::= Transformer '(' Operand ')' | FieldName ('[' Arg ']')?
//! FieldRhs  ::= 'val' '(' Operand ')' | Transformer '(' FieldRhs | Operand ')'
//! Rhs       ::= FieldRhs | Quoted | Bare
//! List      ::= '(' ')' | '(' (Quoted | Bare) (',' (Quoted | Bare))* ')'
//! ```
//!
//! `and` binds tighter than `or`; `not` tighter than both. Nesting (parentheses, `not`,
//! transformers) is bounded by `max_depth` so hostile input cannot exhaust the stack.

use super::ast::{
    Check, Expr, FieldRef, Ident, ListValue, Literal, Op, Operand, Rhs, Span, Transformer,
};
use super::lexer::Lexer;
use super::ParseError;

pub(crate) struct Parser<'a> {
    lx: Lexer<'a>,
    depth: usize,
    max_depth: usize,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str, max_depth: usize) -> Self {
        Self {
            lx: Lexer::new(src),
            depth: 0,
            max_depth,
        }
    }

    pub(crate) fn parse(mut self) -> Result<Expr, ParseError> {
        self.lx.skip_ws();
        if self.lx.at_end() {
            return Err(self.lx.error(0, "empty condition"));
        }
        let e = self.or_expr()?;
        self.lx.skip_ws();
        if !self.lx.at_end() {
            let at = self.lx.pos();
            let msg = if self.lx.peek() == Some(b')') {
                "unbalanced `)`"
            } else {
                "expected `and`, `or` or end of condition"
            };
            return Err(self.lx.error(at, msg));
        }
        Ok(e)
    }

    /// Parse a lone operand (`proc.name`, `tolower(fd.name)`), as exception `fields` hold.
    pub(crate) fn parse_operand(mut self) -> Result<Operand, ParseError> {
        let o = self.operand(false)?;
        self.lx.skip_ws();
        if !self.lx.at_end() {
            return Err(self
                .lx
                .error(self.lx.pos(), "unexpected text after the field"));
        }
        Ok(o)
    }

    fn enter(&mut self, at: usize) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(self
                .lx
                .error(at, format!("nesting deeper than {} levels", self.max_depth)));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn or_expr(&mut self) -> Result<Expr, ParseError> {
        let first = self.and_expr()?;
        let mut items = vec![first];
        loop {
            self.lx.skip_ws();
            if !self.lx.keyword("or") {
                break;
            }
            items.push(self.and_expr()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Expr::And(Vec::new()))
        } else {
            Expr::Or(items)
        })
    }

    fn and_expr(&mut self) -> Result<Expr, ParseError> {
        let first = self.not_expr()?;
        let mut items = vec![first];
        loop {
            self.lx.skip_ws();
            if !self.lx.keyword("and") {
                break;
            }
            items.push(self.not_expr()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Expr::And(Vec::new()))
        } else {
            Expr::And(items)
        })
    }

    fn not_expr(&mut self) -> Result<Expr, ParseError> {
        self.lx.skip_ws();
        let start = self.lx.pos();
        if self.lx.keyword("not") {
            let span = Span::new(start, self.lx.pos());
            self.enter(start)?;
            let inner = self.not_expr();
            self.leave();
            return Ok(Expr::Not(Box::new(inner?), span));
        }
        self.check()
    }

    fn check(&mut self) -> Result<Expr, ParseError> {
        self.lx.skip_ws();
        let start = self.lx.pos();
        if self.lx.eat(b'(') {
            self.enter(start)?;
            let inner = self.or_expr();
            self.leave();
            let inner = inner?;
            self.lx.skip_ws();
            if !self.lx.eat(b')') {
                return Err(self.lx.error(start, "unbalanced `(`: expected `)`"));
            }
            return Ok(inner);
        }
        if self.lx.at_end() {
            return Err(self
                .lx
                .error(start, "expected a condition, found end of input"));
        }
        let Some((name, span)) = self.lx.name() else {
            let msg = match self.lx.peek() {
                Some(b')') => "unexpected `)`",
                _ => "expected a field, a macro name, `not` or `(`",
            };
            return Err(self.lx.error(start, msg));
        };
        if is_reserved(name) {
            return Err(self.lx.error(start, format!("unexpected `{name}`")));
        }
        let lhs = if let (Some(t), true) =
            (Transformer::from_name(name), self.lx.next_non_ws_is(b'('))
        {
            self.transformer(t, span)?
        } else if !name.contains('.') {
            // A bare identifier is a macro reference; comparing one is an error.
            let save = self.lx.pos();
            self.lx.skip_ws();
            let op_at = self.lx.pos();
            if self.lx.peek() != Some(b'[') && self.lx.operator().is_none() {
                self.restore(save);
                return Ok(Expr::Macro(Ident {
                    name: name.to_owned(),
                    span,
                }));
            }
            let _ = op_at;
            return Err(self.lx.error(
                start,
                format!("`{name}` is not a field name (field names have the form `class.field`)"),
            ));
        } else {
            self.field(name, span)?
        };
        self.lx.skip_ws();
        let op_at = self.lx.pos();
        let Some((op, op_span)) = self.lx.operator() else {
            return Err(self.lx.error(op_at, "expected a comparison operator"));
        };
        let rhs = if op == Op::Exists {
            None
        } else {
            Some(self.rhs(op, op_span)?)
        };
        Ok(Expr::Check(Check {
            lhs,
            op,
            op_span,
            rhs,
        }))
    }

    fn restore(&mut self, pos: usize) {
        self.lx.set_pos(pos);
    }

    fn field(&mut self, name: &str, span: Span) -> Result<Operand, ParseError> {
        let mut end = span.end;
        let arg = if self.lx.eat(b'[') {
            let a = self.lx.field_arg()?;
            end = self.lx.pos();
            Some(a)
        } else {
            None
        };
        Ok(Operand::Field(FieldRef {
            name: name.to_owned(),
            arg,
            span: Span::new(span.start, end),
        }))
    }

    /// After a transformer name: `( Operand )`.
    fn transformer(&mut self, t: Transformer, span: Span) -> Result<Operand, ParseError> {
        self.lx.skip_ws();
        self.lx.eat(b'(');
        self.enter(span.start)?;
        let inner = self.operand(false);
        self.leave();
        let inner = inner?;
        self.lx.skip_ws();
        if !self.lx.eat(b')') {
            return Err(self.lx.error(
                span.start,
                format!("unbalanced `(` in `{}(`: expected `)`", t.as_str()),
            ));
        }
        Ok(Operand::Transform {
            func: t,
            inner: Box::new(inner),
            span,
        })
    }

    /// A field or transformed field; with `allow_val`, also `val(…)`.
    fn operand(&mut self, allow_val: bool) -> Result<Operand, ParseError> {
        self.lx.skip_ws();
        let start = self.lx.pos();
        let Some((name, span)) = self.lx.name() else {
            return Err(self.lx.error(start, "expected a field name"));
        };
        if self.lx.next_non_ws_is(b'(') {
            if let Some(t) = Transformer::from_name(name) {
                return self.transformer_rhs(t, span, allow_val);
            }
            if name == "val" && allow_val {
                self.lx.skip_ws();
                self.lx.eat(b'(');
                self.enter(start)?;
                let inner = self.operand(false);
                self.leave();
                let inner = inner?;
                self.lx.skip_ws();
                if !self.lx.eat(b')') {
                    return Err(self
                        .lx
                        .error(start, "unbalanced `(` in `val(`: expected `)`"));
                }
                return Ok(inner);
            }
            return Err(self
                .lx
                .error(start, format!("unknown transformer `{name}`")));
        }
        if !name.contains('.') {
            return Err(self.lx.error(
                start,
                format!("`{name}` is not a field name (field names have the form `class.field`)"),
            ));
        }
        self.field(name, span)
    }

    fn transformer_rhs(
        &mut self,
        t: Transformer,
        span: Span,
        allow_val: bool,
    ) -> Result<Operand, ParseError> {
        self.lx.skip_ws();
        self.lx.eat(b'(');
        self.enter(span.start)?;
        let inner = self.operand(allow_val);
        self.leave();
        let inner = inner?;
        self.lx.skip_ws();
        if !self.lx.eat(b')') {
            return Err(self.lx.error(
                span.start,
                format!("unbalanced `(` in `{}(`: expected `)`", t.as_str()),
            ));
        }
        Ok(Operand::Transform {
            func: t,
            inner: Box::new(inner),
            span,
        })
    }

    fn rhs(&mut self, op: Op, op_span: Span) -> Result<Rhs, ParseError> {
        self.lx.skip_ws();
        let start = self.lx.pos();
        match self.lx.peek() {
            None => {
                return Err(self.lx.error(
                    op_span.start,
                    format!("expected a value after `{op}`, found end of input"),
                ))
            }
            Some(b'(') => {
                if !op.takes_list() {
                    return Err(self
                        .lx
                        .error(start, format!("`{op}` takes a single value, not a list")));
                }
                return Ok(Rhs::List(self.list()?));
            }
            Some(b'"' | b'\'') => {
                if op.takes_list() {
                    return Err(self.lx.error(start, format!("`{op}` takes a list `(…)`")));
                }
                let (text, span) = self.lx.quoted()?;
                return Ok(Rhs::Value(Literal {
                    text,
                    quoted: true,
                    span,
                }));
            }
            Some(_) => {}
        }
        // `val(…)` or a transformer: a field on the right-hand side.
        let save = self.lx.pos();
        if let Some((name, _)) = self.lx.name() {
            if (name == "val" || Transformer::from_name(name).is_some())
                && self.lx.next_non_ws_is(b'(')
            {
                self.restore(save);
                return Ok(Rhs::Field(self.operand(true)?));
            }
        }
        self.restore(save);
        if op.takes_list() {
            return Err(self.lx.error(start, format!("`{op}` takes a list `(…)`")));
        }
        match self.lx.bare() {
            Some((text, span)) => Ok(Rhs::Value(Literal {
                text: text.to_owned(),
                quoted: false,
                span,
            })),
            None => Err(self
                .lx
                .error(start, format!("expected a value after `{op}`"))),
        }
    }

    fn list(&mut self) -> Result<ListValue, ParseError> {
        let start = self.lx.pos();
        self.lx.eat(b'(');
        let mut items = Vec::new();
        self.lx.skip_ws();
        if self.lx.eat(b')') {
            return Ok(ListValue {
                items,
                span: Span::new(start, self.lx.pos()),
            });
        }
        loop {
            self.lx.skip_ws();
            let at = self.lx.pos();
            let item = match self.lx.peek() {
                Some(b'"' | b'\'') => {
                    let (text, span) = self.lx.quoted()?;
                    Literal {
                        text,
                        quoted: true,
                        span,
                    }
                }
                None => return Err(self.lx.error(start, "unbalanced `(` in list: expected `)`")),
                Some(_) => match self.lx.bare() {
                    Some((text, span)) => Literal {
                        text: text.to_owned(),
                        quoted: false,
                        span,
                    },
                    None => return Err(self.lx.error(at, "expected a list item")),
                },
            };
            items.push(item);
            self.lx.skip_ws();
            if self.lx.eat(b',') {
                continue;
            }
            if self.lx.eat(b')') {
                break;
            }
            let at = self.lx.pos();
            return Err(if self.lx.at_end() {
                self.lx.error(start, "unbalanced `(` in list: expected `)`")
            } else {
                self.lx.error(at, "expected `,` or `)` in list")
            });
        }
        Ok(ListValue {
            items,
            span: Span::new(start, self.lx.pos()),
        })
    }
}

fn is_reserved(name: &str) -> bool {
    matches!(name, "and" | "or" | "not") || Op::from_word(name).is_some()
}
