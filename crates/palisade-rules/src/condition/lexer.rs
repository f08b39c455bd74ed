//! The condition lexer: scans the tokens of Falco's filter language on demand. The language
//! is context sensitive (a bare value after an operator may contain `/`, `:`, `<`, `*`…, a field
//! name may not), so the parser asks for the kind of token it expects next.

use super::ast::{Op, Span};
use super::ParseError;

pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

/// Characters that may continue a field name or identifier.
fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.'
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Characters that end a bare value.
fn ends_bare(b: u8) -> bool {
    is_ws(b) || matches!(b, b'(' | b')' | b',' | b'"' | b'\'')
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Self { src, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Rewind (or advance) to `pos`, a position previously returned by [`Lexer::pos`].
    pub(crate) fn set_pos(&mut self, pos: usize) {
        self.pos = pos.min(self.src.len());
    }

    fn bytes(&self) -> &'a [u8] {
        self.src.as_bytes()
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn peek_at(&self, off: usize) -> Option<u8> {
        self.bytes().get(self.pos + off).copied()
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    pub(crate) fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            if !is_ws(b) {
                break;
            }
            self.pos += 1;
        }
    }

    pub(crate) fn error(&self, at: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            offset: at.min(self.src.len()),
            message: message.into(),
        }
    }

    /// Consume `c` if it is next.
    pub(crate) fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consume the keyword `kw` (`and`, `or`, `not`) if it is next and stands alone.
    pub(crate) fn keyword(&mut self, kw: &str) -> bool {
        let rest = self.bytes().get(self.pos..).unwrap_or_default();
        if rest.len() < kw.len() || !rest.starts_with(kw.as_bytes()) {
            return false;
        }
        match rest.get(kw.len()) {
            Some(&b) if is_name_char(b) => false,
            _ => {
                self.pos += kw.len();
                true
            }
        }
    }

    /// A field name or identifier: `[A-Za-z_][A-Za-z0-9_.]*`.
    pub(crate) fn name(&mut self) -> Option<(&'a str, Span)> {
        let start = self.pos;
        match self.peek() {
            Some(b) if b.is_ascii_alphabetic() || b == b'_' => {}
            _ => return None,
        }
        while let Some(b) = self.peek() {
            if !is_name_char(b) {
                break;
            }
            self.pos += 1;
        }
        let text = self.src.get(start..self.pos)?;
        Some((text, Span::new(start, self.pos)))
    }

    /// Peek whether the next non-blank character is `c`, without consuming anything.
    pub(crate) fn next_non_ws_is(&self, c: u8) -> bool {
        let mut p = self.pos;
        while let Some(&b) = self.bytes().get(p) {
            if !is_ws(b) {
                return b == c;
            }
            p += 1;
        }
        false
    }

    /// A field argument after `[`: quoted, or bare up to `]`. Consumes the closing `]`.
    pub(crate) fn field_arg(&mut self) -> Result<String, ParseError> {
        let open = self.pos.saturating_sub(1);
        let arg = match self.peek() {
            Some(b'"' | b'\'') => self.quoted()?.0,
            _ => {
                let start = self.pos;
                while let Some(b) = self.peek() {
                    if is_ws(b) || matches!(b, b'[' | b']' | b'"' | b'\'') {
                        break;
                    }
                    self.pos += 1;
                }
                if start == self.pos {
                    return Err(self.error(self.pos, "expected a field argument after `[`"));
                }
                self.src.get(start..self.pos).unwrap_or_default().to_owned()
            }
        };
        if !self.eat(b']') {
            return Err(self.error(open, "unterminated field argument: expected `]`"));
        }
        Ok(arg)
    }

    /// A comparison operator.
    pub(crate) fn operator(&mut self) -> Option<(Op, Span)> {
        let start = self.pos;
        let two = (self.peek(), self.peek_at(1));
        let sym = match two {
            (Some(b'='), Some(b'=')) => Some((Op::Eq, 2)),
            (Some(b'!'), Some(b'=')) => Some((Op::Ne, 2)),
            (Some(b'<'), Some(b'=')) => Some((Op::Le, 2)),
            (Some(b'>'), Some(b'=')) => Some((Op::Ge, 2)),
            (Some(b'='), _) => Some((Op::Eq, 1)),
            (Some(b'<'), _) => Some((Op::Lt, 1)),
            (Some(b'>'), _) => Some((Op::Gt, 1)),
            _ => None,
        };
        if let Some((op, len)) = sym {
            self.pos += len;
            return Some((op, Span::new(start, self.pos)));
        }
        let mut end = start;
        while let Some(&b) = self.bytes().get(end) {
            if !b.is_ascii_alphabetic() {
                break;
            }
            end += 1;
        }
        if let Some(&b) = self.bytes().get(end) {
            if is_name_char(b) {
                return None;
            }
        }
        let op = Op::from_word(self.src.get(start..end)?)?;
        self.pos = end;
        Some((op, Span::new(start, end)))
    }

    /// A quoted string starting at the current quote character. Escapes: `\\`, `\"`, `\'`,
    /// `\n`, `\r`, `\t`, `\b`, `\f`, `\xHH`; any other backslash is kept as written (so regexes
    /// such as `"\d+"` survive).
    pub(crate) fn quoted(&mut self) -> Result<(String, Span), ParseError> {
        let start = self.pos;
        let Some(q) = self.peek() else {
            return Err(self.error(start, "expected a quoted string"));
        };
        self.pos += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return Err(self.error(start, "unterminated quoted string"));
            };
            self.pos += 1;
            if b == q {
                break;
            }
            if b != b'\\' {
                out.push(b);
                continue;
            }
            let Some(e) = self.peek() else {
                return Err(self.error(start, "unterminated quoted string"));
            };
            self.pos += 1;
            match e {
                b'\\' | b'"' | b'\'' => out.push(e),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'b' => out.push(0x08),
                b'f' => out.push(0x0c),
                b'x' => {
                    let hex = |o: Option<u8>| o.and_then(|c| (c as char).to_digit(16));
                    match (hex(self.peek()), hex(self.peek_at(1))) {
                        (Some(h), Some(l)) => {
                            self.pos += 2;
                            out.push(u8::try_from(h * 16 + l).unwrap_or(0));
                        }
                        _ => {
                            return Err(self
                                .error(self.pos - 2, "`\\x` must be followed by two hex digits"))
                        }
                    }
                }
                other => {
                    out.push(b'\\');
                    out.push(other);
                }
            }
        }
        let span = Span::new(start, self.pos);
        match String::from_utf8(out) {
            Ok(s) => Ok((s, span)),
            Err(_) => Err(self.error(
                start,
                "quoted string with `\\x` escapes must still be valid UTF-8",
            )),
        }
    }

    /// A bare (unquoted) value: everything up to blank, parenthesis, comma or quote.
    pub(crate) fn bare(&mut self) -> Option<(&'a str, Span)> {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if ends_bare(b) {
                break;
            }
            self.pos += 1;
        }
        if start == self.pos {
            return None;
        }
        // Stop on a char boundary: bare values are ASCII-delimited so this always holds.
        let text = self.src.get(start..self.pos)?;
        Some((text, Span::new(start, self.pos)))
    }

    /// A short excerpt of the source from `at`, for error messages.
    pub(crate) fn excerpt(src: &str, at: usize) -> String {
        let mut end = at;
        let mut chars = 0;
        while end < src.len() && chars < 40 {
            end += 1;
            while end < src.len() && !src.is_char_boundary(end) {
                end += 1;
            }
            chars += 1;
        }
        let mut start = at.min(src.len());
        while start > 0 && !src.is_char_boundary(start) {
            start -= 1;
        }
        src.get(start..end)
            .unwrap_or_default()
            .trim_end()
            .to_owned()
    }
}
