//! The syntax tree of a Falco condition. Every node keeps the byte span it was parsed from, so
//! that compile errors can point back into the rule file.

use std::fmt;

/// A byte range in the condition text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    pub(crate) fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }
}

/// A boolean expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `a and b and …` (two or more operands).
    And(Vec<Expr>),
    /// `a or b or …` (two or more operands).
    Or(Vec<Expr>),
    /// `not a`; the span is the `not` keyword's.
    Not(Box<Expr>, Span),
    /// A bare identifier: a reference to a macro.
    Macro(Ident),
    /// A comparison or `exists` test.
    Check(Check),
}

/// A bare identifier (macro name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is.
    pub span: Span,
}

/// `lhs op rhs`, or `lhs exists` (then `rhs` is `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The field, possibly transformed.
    pub lhs: Operand,
    /// The operator.
    pub op: Op,
    /// Where the operator is.
    pub op_span: Span,
    /// The right-hand side; `None` for `exists`.
    pub rhs: Option<Rhs>,
}

/// A field, possibly wrapped in transformers: `tolower(proc.name)`.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A field reference.
    Field(FieldRef),
    /// A transformer applied to an operand.
    Transform {
        /// The transformer.
        func: Transformer,
        /// Its argument.
        inner: Box<Operand>,
        /// Where the transformer name is.
        span: Span,
    },
}

impl Operand {
    /// The field at the bottom of the transformer chain.
    #[must_use]
    pub fn field(&self) -> &FieldRef {
        let mut o = self;
        loop {
            match o {
                Operand::Field(f) => return f,
                Operand::Transform { inner, .. } => o = inner,
            }
        }
    }

    /// The span of the whole operand's start (transformer or field name).
    #[must_use]
    pub fn span(&self) -> Span {
        match self {
            Operand::Field(f) => f.span,
            Operand::Transform { span, .. } => *span,
        }
    }
}

/// `name` or `name[arg]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRef {
    /// The field name (`proc.aname`).
    pub name: String,
    /// The argument between brackets, unquoted (`2`, `/requestObject/spec`).
    pub arg: Option<String>,
    /// Where the field (with argument) is.
    pub span: Span,
}

impl fmt::Display for FieldRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.arg {
            Some(a) => write!(f, "{}[{}]", self.name, a),
            None => f.write_str(&self.name),
        }
    }
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Rhs {
    /// A single value.
    Value(Literal),
    /// A parenthesised list `(a, b, "c d")`; bare items may name lists.
    List(ListValue),
    /// Another field: `val(proc.pname)` or `tolower(proc.pname)`.
    Field(Operand),
}

/// A string or number as written; numbers are kept as text and converted per field type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Literal {
    /// The value, unquoted and unescaped.
    pub text: String,
    /// Whether it was quoted (quoted items never name a list).
    pub quoted: bool,
    /// Where it is.
    pub span: Span,
}

/// `(a, b, …)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListValue {
    /// The items.
    pub items: Vec<Literal>,
    /// Where the list is, parentheses included.
    pub span: Span,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `=` or `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `contains`
    Contains,
    /// `icontains`
    IContains,
    /// `bcontains` (hex bytes)
    BContains,
    /// `startswith`
    StartsWith,
    /// `bstartswith` (hex bytes)
    BStartsWith,
    /// `endswith`
    EndsWith,
    /// `glob`
    Glob,
    /// `iglob`
    IGlob,
    /// `in`
    In,
    /// `intersects`
    Intersects,
    /// `pmatch`
    PMatch,
    /// `exists`
    Exists,
    /// `regex` (full match)
    Regex,
}

impl Op {
    /// The operator as written.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Contains => "contains",
            Op::IContains => "icontains",
            Op::BContains => "bcontains",
            Op::StartsWith => "startswith",
            Op::BStartsWith => "bstartswith",
            Op::EndsWith => "endswith",
            Op::Glob => "glob",
            Op::IGlob => "iglob",
            Op::In => "in",
            Op::Intersects => "intersects",
            Op::PMatch => "pmatch",
            Op::Exists => "exists",
            Op::Regex => "regex",
        }
    }

    /// Operators whose right-hand side is a list.
    #[must_use]
    pub fn takes_list(self) -> bool {
        matches!(self, Op::In | Op::Intersects | Op::PMatch)
    }

    pub(crate) fn from_word(w: &str) -> Option<Op> {
        Some(match w {
            "contains" => Op::Contains,
            "icontains" => Op::IContains,
            "bcontains" => Op::BContains,
            "startswith" => Op::StartsWith,
            "bstartswith" => Op::BStartsWith,
            "endswith" => Op::EndsWith,
            "glob" => Op::Glob,
            "iglob" => Op::IGlob,
            "in" => Op::In,
            "intersects" => Op::Intersects,
            "pmatch" => Op::PMatch,
            "exists" => Op::Exists,
            "regex" => Op::Regex,
            _ => return None,
        })
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Field transformers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transformer {
    /// `tolower(…)`
    ToLower,
    /// `toupper(…)`
    ToUpper,
    /// `b64(…)`: Base64 decode.
    B64,
    /// `basename(…)`
    Basename,
    /// `len(…)`
    Len,
}

impl Transformer {
    /// The name as written.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Transformer::ToLower => "tolower",
            Transformer::ToUpper => "toupper",
            Transformer::B64 => "b64",
            Transformer::Basename => "basename",
            Transformer::Len => "len",
        }
    }

    pub(crate) fn from_name(n: &str) -> Option<Transformer> {
        Some(match n {
            "tolower" => Transformer::ToLower,
            "toupper" => Transformer::ToUpper,
            "b64" => Transformer::B64,
            "basename" => Transformer::Basename,
            "len" => Transformer::Len,
            _ => return None,
        })
    }
}

impl Expr {
    /// Visit every macro reference.
    pub fn for_each_macro<'a>(&'a self, f: &mut impl FnMut(&'a Ident)) {
        match self {
            Expr::And(v) | Expr::Or(v) => v.iter().for_each(|e| e.for_each_macro(f)),
            Expr::Not(e, _) => e.for_each_macro(f),
            Expr::Macro(id) => f(id),
            Expr::Check(_) => {}
        }
    }

    /// Visit every comparison.
    pub fn for_each_check<'a>(&'a self, f: &mut impl FnMut(&'a Check)) {
        match self {
            Expr::And(v) | Expr::Or(v) => v.iter().for_each(|e| e.for_each_check(f)),
            Expr::Not(e, _) => e.for_each_check(f),
            Expr::Macro(_) => {}
            Expr::Check(c) => f(c),
        }
    }
}
