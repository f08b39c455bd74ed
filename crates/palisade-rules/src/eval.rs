//! Compiled conditions and their evaluation. Nothing here allocates per comparison once the
//! scratch buffers are warm: fields are ids, sets are hash sets, patterns are precompiled.

use std::cmp::Ordering;
use std::io::Write as _;
use std::net::IpAddr;
use std::sync::Arc;

use base64::Engine as _;
use rustc_hash::FxHashSet;

use crate::condition::Transformer;
use crate::field::{Event, FieldBuf, FieldId, Value};
use crate::matchers::{icontains, Glob, PrefixSet};

/// A compiled boolean expression.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    And(Box<[Node]>),
    Or(Box<[Node]>),
    Not(Box<Node>),
    /// A macro's compiled body, shared by every rule that uses it.
    Shared(Arc<Node>),
    Check(Box<CheckNode>),
    Const(bool),
}

#[derive(Debug, Clone)]
pub(crate) struct Operand {
    pub(crate) field: FieldId,
    /// Innermost first.
    pub(crate) transforms: Box<[Transformer]>,
}

#[derive(Debug, Clone)]
pub(crate) struct CheckNode {
    pub(crate) lhs: Operand,
    pub(crate) test: Test,
    /// The lhs is the catalog's event-type field, untransformed (for the type index).
    pub(crate) is_event_type: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A literal in every form it parses as.
#[derive(Debug, Clone)]
pub(crate) struct Lit {
    pub(crate) text: Box<str>,
    pub(crate) int: Option<i64>,
    pub(crate) boolean: Option<bool>,
    pub(crate) net: Option<IpNet>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IpNet {
    pub(crate) addr: IpAddr,
    pub(crate) prefix: u8,
}

impl IpNet {
    pub(crate) fn parse(s: &str) -> Option<IpNet> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(IpNet { addr, prefix })
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl Lit {
    pub(crate) fn new(text: &str) -> Self {
        Lit {
            int: parse_int(text),
            boolean: parse_bool(text),
            net: IpNet::parse(text),
            text: text.into(),
        }
    }
}

pub(crate) fn parse_int(s: &str) -> Option<i64> {
    let t = s.trim();
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return i64::from_str_radix(h, 16).ok();
    }
    t.parse::<i64>().ok()
}

pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// The set of an `in`/`intersects` list, in every form its items parse as.
#[derive(Debug, Clone, Default)]
pub(crate) struct ValueSet {
    pub(crate) strs: FxHashSet<Box<str>>,
    pub(crate) ints: FxHashSet<i64>,
    pub(crate) bools: [bool; 2],
    pub(crate) nets: Vec<IpNet>,
}

impl ValueSet {
    pub(crate) fn insert(&mut self, item: &str) {
        if let Some(i) = parse_int(item) {
            self.ints.insert(i);
        }
        if let Some(b) = parse_bool(item) {
            if let Some(slot) = self.bools.get_mut(usize::from(b)) {
                *slot = true;
            }
        }
        if let Some(n) = IpNet::parse(item) {
            self.nets.push(n);
        }
        self.strs.insert(item.into());
    }

    fn contains_scalar(&self, v: &Value<'_>) -> bool {
        match v {
            Value::Str(s) => self.strs.contains(*s),
            Value::Bytes(b) => std::str::from_utf8(b).is_ok_and(|s| self.strs.contains(s)),
            Value::Int(i) => self.ints.contains(i),
            Value::Bool(b) => self.bools.get(usize::from(*b)).copied().unwrap_or(false),
            Value::Ip(ip) => self.nets.iter().any(|n| n.contains(*ip)),
            Value::List(_) => false,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Test {
    Exists,
    Cmp(Cmp, Lit),
    Contains(memchr::memmem::Finder<'static>),
    IContains(Box<[u8]>),
    StartsWith(Box<[u8]>),
    EndsWith(Box<[u8]>),
    Glob(Glob),
    Regex(regex::Regex),
    In(ValueSet),
    Intersects(ValueSet),
    PMatch(PrefixSet),
    /// `lhs op val(rhs)`.
    Field(crate::condition::Op, Operand),
}

/// Per-evaluation scratch space (see [`crate::Scratch`]).
#[derive(Debug, Default)]
pub(crate) struct Bufs {
    pub(crate) lhs: FieldBuf,
    pub(crate) rhs: FieldBuf,
    pub(crate) lhs_t: Vec<FieldBuf>,
    pub(crate) rhs_t: Vec<FieldBuf>,
}

impl Node {
    pub(crate) fn eval<E: Event + ?Sized>(&self, ev: &E, bufs: &mut Bufs) -> bool {
        match self {
            Node::And(v) => v.iter().all(|n| n.eval(ev, bufs)),
            Node::Or(v) => v.iter().any(|n| n.eval(ev, bufs)),
            Node::Not(n) => !n.eval(ev, bufs),
            Node::Shared(n) => n.eval(ev, bufs),
            Node::Check(c) => c.eval(ev, bufs),
            Node::Const(b) => *b,
        }
    }
}

/// Extract an operand's value, applying its transformers.
pub(crate) fn fetch<'a, E: Event + ?Sized>(
    ev: &'a E,
    op: &Operand,
    buf: &'a mut FieldBuf,
    tbufs: &'a mut Vec<FieldBuf>,
) -> Option<Value<'a>> {
    if tbufs.len() < op.transforms.len() {
        tbufs.resize_with(op.transforms.len(), FieldBuf::default);
    }
    let v = ev.get(op.field, buf)?;
    apply(v, &op.transforms, tbufs.as_mut_slice())
}

fn apply<'a>(v: Value<'a>, ts: &[Transformer], bufs: &'a mut [FieldBuf]) -> Option<Value<'a>> {
    let Some((t, rest)) = ts.split_first() else {
        return Some(v);
    };
    let (buf, more) = bufs.split_first_mut()?;
    let out = transform(*t, v, buf)?;
    apply(out, rest, more)
}

fn transform<'a>(t: Transformer, v: Value<'a>, buf: &'a mut FieldBuf) -> Option<Value<'a>> {
    buf.clear();
    match t {
        Transformer::Len => Some(Value::Int(match v {
            Value::Str(s) => i64::try_from(s.len()).unwrap_or(i64::MAX),
            Value::Bytes(b) => i64::try_from(b.len()).unwrap_or(i64::MAX),
            Value::List(l) => i64::try_from(l.len()).unwrap_or(i64::MAX),
            _ => return None,
        })),
        Transformer::ToLower | Transformer::ToUpper => {
            let conv = |s: &str, out: &mut String| {
                if t == Transformer::ToLower {
                    out.extend(s.chars().flat_map(char::to_lowercase));
                } else {
                    out.extend(s.chars().flat_map(char::to_uppercase));
                }
            };
            match v {
                Value::Str(s) => {
                    conv(s, buf.text_mut());
                    Some(Value::Str(buf.as_str()))
                }
                Value::List(l) => {
                    for item in l.iter() {
                        buf.push_item_with(|out| conv(item, out));
                    }
                    Some(Value::List(buf.list()))
                }
                Value::Bytes(b) => {
                    buf.bytes_mut().extend(b.iter().map(|c| {
                        if t == Transformer::ToLower {
                            c.to_ascii_lowercase()
                        } else {
                            c.to_ascii_uppercase()
                        }
                    }));
                    Some(Value::Bytes(buf.as_bytes()))
                }
                other => Some(other),
            }
        }
        Transformer::Basename => {
            let base = |s: &'a str| s.rsplit_once('/').map_or(s, |(_, b)| b);
            match v {
                Value::Str(s) => Some(Value::Str(base(s))),
                Value::List(l) => {
                    for item in l.iter() {
                        buf.push_item(base(item));
                    }
                    Some(Value::List(buf.list()))
                }
                other => Some(other),
            }
        }
        Transformer::B64 => {
            let input: &[u8] = match v {
                Value::Str(s) => s.as_bytes(),
                Value::Bytes(b) => b,
                _ => return None,
            };
            base64::engine::general_purpose::STANDARD
                .decode_vec(input, buf.bytes_mut())
                .ok()?;
            match std::str::from_utf8(buf.as_bytes()) {
                Ok(s) => Some(Value::Str(s)),
                Err(_) => Some(Value::Bytes(buf.as_bytes())),
            }
        }
    }
}

/// Render a scalar value's text into a stack buffer and call `f` with its bytes.
fn with_bytes<R>(v: &Value<'_>, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
    match v {
        Value::Str(s) => Some(f(s.as_bytes())),
        Value::Bytes(b) => Some(f(b)),
        Value::Int(_) | Value::Bool(_) | Value::Ip(_) => {
            let mut arr = [0u8; 64];
            let mut cur = std::io::Cursor::new(&mut arr[..]);
            let ok = match v {
                Value::Int(i) => write!(cur, "{i}"),
                Value::Bool(b) => write!(cur, "{b}"),
                Value::Ip(ip) => write!(cur, "{ip}"),
                _ => Ok(()),
            };
            ok.ok()?;
            let n = usize::try_from(cur.position()).unwrap_or(0);
            arr.get(..n).map(f)
        }
        Value::List(_) => None,
    }
}

/// Apply `f` to a scalar value, or to each item of a list value (true if any).
fn any_item(v: &Value<'_>, mut f: impl FnMut(&Value<'_>) -> bool) -> bool {
    match v {
        Value::List(l) => l.iter().any(|s| f(&Value::Str(s))),
        other => f(other),
    }
}

fn cmp_lit(c: Cmp, v: &Value<'_>, lit: &Lit) -> bool {
    let ord: Option<Ordering> = match v {
        Value::Str(s) => match (lit.int, parse_int(s)) {
            (Some(l), Some(x)) if !matches!(c, Cmp::Eq | Cmp::Ne) => Some(x.cmp(&l)),
            _ => Some(s.as_bytes().cmp(lit.text.as_bytes())),
        },
        Value::Bytes(b) => Some((*b).cmp(lit.text.as_bytes())),
        Value::Int(i) => lit.int.map(|l| i.cmp(&l)),
        Value::Bool(b) => lit.boolean.map(|l| b.cmp(&l)),
        Value::Ip(ip) => {
            return match (c, lit.net) {
                (Cmp::Eq, Some(n)) => n.contains(*ip),
                (Cmp::Ne, Some(n)) => !n.contains(*ip),
                (Cmp::Ne, None) => true,
                _ => false,
            }
        }
        Value::List(l) => {
            return match c {
                Cmp::Ne => !l.iter().any(|s| cmp_lit(Cmp::Eq, &Value::Str(s), lit)),
                _ => l.iter().any(|s| cmp_lit(c, &Value::Str(s), lit)),
            }
        }
    };
    match ord {
        None => c == Cmp::Ne,
        Some(o) => match c {
            Cmp::Eq => o == Ordering::Equal,
            Cmp::Ne => o != Ordering::Equal,
            Cmp::Lt => o == Ordering::Less,
            Cmp::Le => o != Ordering::Greater,
            Cmp::Gt => o == Ordering::Greater,
            Cmp::Ge => o != Ordering::Less,
        },
    }
}

fn bytes_test(v: &Value<'_>, f: impl Fn(&[u8]) -> bool) -> bool {
    any_item(v, |x| with_bytes(x, &f).unwrap_or(false))
}

impl CheckNode {
    fn eval<E: Event + ?Sized>(&self, ev: &E, bufs: &mut Bufs) -> bool {
        let Bufs {
            lhs,
            rhs,
            lhs_t,
            rhs_t,
        } = bufs;
        let Some(v) = fetch(ev, &self.lhs, lhs, lhs_t) else {
            return false;
        };
        match &self.test {
            Test::Exists => true,
            Test::Cmp(c, lit) => cmp_lit(*c, &v, lit),
            Test::Contains(f) => bytes_test(&v, |b| f.find(b).is_some()),
            Test::IContains(n) => bytes_test(&v, |b| icontains(b, n)),
            Test::StartsWith(p) => bytes_test(&v, |b| b.starts_with(p)),
            Test::EndsWith(p) => bytes_test(&v, |b| b.ends_with(p)),
            Test::Glob(g) => bytes_test(&v, |b| g.matches(b)),
            Test::Regex(re) => any_item(&v, |x| match x {
                Value::Str(s) => re.is_match(s),
                other => {
                    with_bytes(other, |b| re.is_match(&String::from_utf8_lossy(b))).unwrap_or(false)
                }
            }),
            Test::In(set) => match &v {
                Value::List(l) => {
                    !l.is_empty() && l.iter().all(|s| set.contains_scalar(&Value::Str(s)))
                }
                other => set.contains_scalar(other),
            },
            Test::Intersects(set) => any_item(&v, |x| set.contains_scalar(x)),
            Test::PMatch(p) => bytes_test(&v, |b| p.matches(b)),
            Test::Field(op, r) => {
                let Some(w) = fetch(ev, r, rhs, rhs_t) else {
                    return false;
                };
                field_cmp(*op, &v, &w)
            }
        }
    }
}

/// `lhs op val(rhs)`: compare two extracted values.
fn field_cmp(op: crate::condition::Op, a: &Value<'_>, b: &Value<'_>) -> bool {
    use crate::condition::Op;
    match op {
        Op::In | Op::Intersects => {
            let in_b = |x: &Value<'_>| match b {
                Value::List(l) => l.iter().any(|s| scalar_eq(x, &Value::Str(s))),
                other => scalar_eq(x, other),
            };
            match (op, a) {
                (Op::In, Value::List(l)) => !l.is_empty() && l.iter().all(|s| in_b(&Value::Str(s))),
                _ => any_item(a, in_b),
            }
        }
        Op::Eq => any_item(a, |x| any_item(b, |y| scalar_eq(x, y))),
        Op::Ne => !any_item(a, |x| any_item(b, |y| scalar_eq(x, y))),
        Op::Lt | Op::Le | Op::Gt | Op::Ge => any_item(a, |x| {
            any_item(b, |y| {
                let o = scalar_ord(x, y);
                match op {
                    Op::Lt => o == Some(Ordering::Less),
                    Op::Le => matches!(o, Some(Ordering::Less | Ordering::Equal)),
                    Op::Gt => o == Some(Ordering::Greater),
                    _ => matches!(o, Some(Ordering::Greater | Ordering::Equal)),
                }
            })
        }),
        Op::Contains | Op::IContains | Op::StartsWith | Op::EndsWith | Op::Glob | Op::IGlob => {
            any_item(a, |x| {
                any_item(b, |y| {
                    with_bytes(x, |hx| {
                        with_bytes(y, |hy| match op {
                            Op::Contains => memchr::memmem::find(hx, hy).is_some(),
                            Op::IContains => icontains(hx, &hy.to_ascii_lowercase()),
                            Op::StartsWith => hx.starts_with(hy),
                            Op::EndsWith => hx.ends_with(hy),
                            Op::Glob | Op::IGlob => {
                                Glob::new(&String::from_utf8_lossy(hy), op == Op::IGlob).matches(hx)
                            }
                            _ => false,
                        })
                        .unwrap_or(false)
                    })
                    .unwrap_or(false)
                })
            })
        }
        _ => false,
    }
}

fn scalar_eq(a: &Value<'_>, b: &Value<'_>) -> bool {
    scalar_ord(a, b) == Some(Ordering::Equal)
}

fn scalar_ord(a: &Value<'_>, b: &Value<'_>) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Ip(x), Value::Ip(y)) => Some(x.cmp(y)),
        (Value::Int(x), other) | (other, Value::Int(x)) => {
            let y = with_bytes(other, |b| std::str::from_utf8(b).ok().and_then(parse_int))??;
            let o = x.cmp(&y);
            Some(if matches!(a, Value::Int(_)) {
                o
            } else {
                o.reverse()
            })
        }
        _ => with_bytes(a, |x| with_bytes(b, |y| x.cmp(y))).flatten(),
    }
}
