//! [`Val`]: a value during evaluation, borrowed where it lies (the environment, a
//! literal) or owned when computed, and the operators' rules (Go expr-lang's runtime:
//! `==` across integers and floats, `<` on numbers or strings, wrapping integer `+ - *`,
//! `/` always a float).

use std::cmp::Ordering;
use std::fmt::Write as _;
use std::sync::Arc;

use bytes::Bytes;
use weft_core::{Map, Value};

use crate::Error;

/// A value during evaluation.
#[derive(Clone, Debug)]
pub enum Val<'a> {
    /// nil.
    Nil,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A borrowed string (bytes, usually UTF-8).
    Str(&'a [u8]),
    /// A borrowed list.
    List(&'a [Value]),
    /// A borrowed map.
    Map(&'a Map),
    /// A computed string, list or map (or an error value); never a scalar. Boxed, so a
    /// `Val` is three words and moves cheaply.
    Owned(Box<Value>),
}

/// A borrowed look at a [`Val`], for the operators.
#[derive(Clone, Copy, Debug)]
pub(crate) enum View<'v> {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'v [u8]),
    List(&'v [Value]),
    Map(&'v Map),
    /// An error value: no operator takes it.
    Other,
}

impl<'a> Val<'a> {
    /// The view of `value`, borrowed.
    pub fn of(value: &'a Value) -> Val<'a> {
        match value {
            Value::Nil => Val::Nil,
            Value::Bool(b) => Val::Bool(*b),
            Value::Int(i) => Val::Int(*i),
            Value::Float(f) => Val::Float(*f),
            Value::Str(s) => Val::Str(s),
            Value::Array(items) => Val::List(items),
            Value::Map(m) => Val::Map(m),
            Value::Error(_) => Val::Owned(Box::new(value.clone())),
        }
    }

    /// `value`, owned (scalars become their plain variants).
    pub fn owned(value: Value) -> Val<'a> {
        match value {
            Value::Nil => Val::Nil,
            Value::Bool(b) => Val::Bool(b),
            Value::Int(i) => Val::Int(i),
            Value::Float(f) => Val::Float(f),
            other => Val::Owned(Box::new(other)),
        }
    }

    /// A computed string.
    pub(crate) fn string(s: String) -> Val<'a> {
        Val::owned(Value::str(s))
    }

    /// The value, copied out where it was borrowed.
    pub fn into_value(self) -> Value {
        match self {
            Val::Nil => Value::Nil,
            Val::Bool(b) => Value::Bool(b),
            Val::Int(i) => Value::Int(i),
            Val::Float(f) => Value::Float(f),
            Val::Str(s) => Value::Str(Bytes::copy_from_slice(s)),
            Val::List(items) => Value::Array(Arc::new(items.to_vec())),
            Val::Map(m) => Value::Map(Arc::new(m.clone())),
            Val::Owned(v) => *v,
        }
    }

    /// True for nil.
    pub fn is_nil(&self) -> bool {
        matches!(self, Val::Nil)
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The borrowed look at this value.
    pub(crate) fn view(&self) -> View<'_> {
        match self {
            Val::Nil => View::Nil,
            Val::Bool(b) => View::Bool(*b),
            Val::Int(i) => View::Int(*i),
            Val::Float(f) => View::Float(*f),
            Val::Str(s) => View::Str(s),
            Val::List(items) => View::List(items),
            Val::Map(m) => View::Map(m),
            Val::Owned(v) => View::of(v),
        }
    }

    /// `self.key`: a map's entry (nil when missing); an error on nil or a non-map.
    pub(crate) fn member(self, key: &str) -> Result<Val<'a>, Error> {
        match self {
            Val::Map(m) => Ok(m.get(key).map_or(Val::Nil, Val::of)),
            Val::Owned(v) => match *v {
                Value::Map(m) => Ok(m.get(key).cloned().map_or(Val::Nil, Val::owned)),
                other => Err(cannot_fetch(key, View::of(&other))),
            },
            other => Err(cannot_fetch(key, other.view())),
        }
    }

    /// `self[index]`: a list item (negative counts from the end; out of range is an
    /// error, as in Go) or a map entry by string key.
    pub(crate) fn index(self, index: &Val) -> Result<Val<'a>, Error> {
        if let View::Str(key) = index.view() {
            let key = String::from_utf8_lossy(key);
            return match self.view() {
                View::Map(_) => self.member(&key),
                other => Err(cannot_fetch(&key, other)),
            };
        }
        let i = match index.view() {
            View::Int(i) => i,
            View::Float(f) => f as i64,
            other => {
                return Err(Error::eval(format!(
                    "cannot use {} as an index",
                    other.type_name()
                )));
            }
        };
        // The item at `i` (from the end when negative), as Go's runtime picks it.
        let pick = |items: &'_ [Value]| -> Option<usize> {
            let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
            let at = if i < 0 { len.saturating_add(i) } else { i };
            usize::try_from(at).ok().filter(|at| *at < items.len())
        };
        let out_of_range =
            |len: usize| Error::eval(format!("index out of range: {i} (array length is {len})"));
        match self {
            Val::List(items) => pick(items)
                .and_then(|at| items.get(at))
                .map(Val::of)
                .ok_or_else(|| out_of_range(items.len())),
            Val::Owned(v) => match *v {
                Value::Array(items) => pick(&items)
                    .and_then(|at| items.get(at))
                    .cloned()
                    .map(Val::owned)
                    .ok_or_else(|| out_of_range(items.len())),
                other => Err(cannot_index(View::of(&other))),
            },
            other => Err(cannot_index(other.view())),
        }
    }
}

fn cannot_fetch(key: &str, from: View) -> Error {
    Error::eval(format!("cannot fetch {key} from {}", from.type_name()))
}

fn cannot_index(v: View) -> Error {
    Error::eval(format!("cannot index {}", v.type_name()))
}

/// Follows `keys` from `start` (`a.b.c`): each step is [`member`](Val::member)'s rule.
pub fn fetch<'a>(start: Val<'a>, keys: &[Box<str>]) -> Result<Val<'a>, Error> {
    keys.iter().try_fold(start, |v, k| v.member(k))
}

impl<'v> View<'v> {
    /// The view of a stored value.
    pub(crate) fn of(value: &'v Value) -> View<'v> {
        match value {
            Value::Nil => View::Nil,
            Value::Bool(b) => View::Bool(*b),
            Value::Int(i) => View::Int(*i),
            Value::Float(f) => View::Float(*f),
            Value::Str(s) => View::Str(s),
            Value::Array(items) => View::List(items),
            Value::Map(m) => View::Map(m),
            Value::Error(_) => View::Other,
        }
    }

    /// expr-lang's type name (`type(x)`).
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            View::Nil => "nil",
            View::Bool(_) => "bool",
            View::Int(_) => "int",
            View::Float(_) => "float",
            View::Str(_) => "string",
            View::List(_) => "array",
            View::Map(_) => "map",
            View::Other => "error",
        }
    }

    /// The number as a float, for integers and floats.
    pub(crate) fn number(self) -> Option<f64> {
        match self {
            View::Int(i) => Some(i as f64),
            View::Float(f) => Some(f),
            _ => None,
        }
    }

    /// The text, for strings.
    pub(crate) fn text(self) -> Option<&'v [u8]> {
        match self {
            View::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// `==`: numbers across integers and floats, strings, booleans, nil, and lists or maps
/// deeply; values of different types are never equal.
pub(crate) fn equal(a: View, b: View) -> bool {
    match (a, b) {
        (View::Int(x), View::Int(y)) => x == y,
        (View::Nil, View::Nil) => true,
        (View::Bool(x), View::Bool(y)) => x == y,
        (View::Str(x), View::Str(y)) => x == y,
        (View::List(x), View::List(y)) => x == y,
        (View::Map(x), View::Map(y)) => x == y,
        _ => match (a.number(), b.number()) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

/// `<` and friends: two numbers (integers exactly) or two strings; `None` when a NaN
/// is involved; anything else is an error.
pub(crate) fn compare(a: View, b: View) -> Result<Option<Ordering>, Error> {
    match (a, b) {
        (View::Int(x), View::Int(y)) => Ok(Some(x.cmp(&y))),
        (View::Str(x), View::Str(y)) => Ok(Some(x.cmp(y))),
        _ => match (a.number(), b.number()) {
            (Some(x), Some(y)) => Ok(x.partial_cmp(&y)),
            _ => Err(mismatch("compare", a, b)),
        },
    }
}

/// `+ - * / % **` on two values.
pub(crate) fn arith<'a>(op: char, a: View, b: View) -> Result<Val<'a>, Error> {
    if let (View::Int(x), View::Int(y)) = (a, b) {
        return match op {
            '+' => Ok(Val::Int(x.wrapping_add(y))),
            '-' => Ok(Val::Int(x.wrapping_sub(y))),
            '*' => Ok(Val::Int(x.wrapping_mul(y))),
            '/' => Ok(Val::Float(x as f64 / y as f64)),
            '%' if y == 0 => Err(Error::eval("integer divide by zero")),
            '%' => Ok(Val::Int(x.wrapping_rem(y))),
            _ => Ok(Val::Float((x as f64).powf(y as f64))),
        };
    }
    if let (View::Str(x), View::Str(y), '+') = (a, b, op) {
        let mut s = Vec::with_capacity(x.len() + y.len());
        s.extend_from_slice(x);
        s.extend_from_slice(y);
        return Ok(Val::owned(Value::Str(s.into())));
    }
    match (a.number(), b.number(), op) {
        (Some(x), Some(y), '+') => Ok(Val::Float(x + y)),
        (Some(x), Some(y), '-') => Ok(Val::Float(x - y)),
        (Some(x), Some(y), '*') => Ok(Val::Float(x * y)),
        (Some(x), Some(y), '/') => Ok(Val::Float(x / y)),
        (Some(x), Some(y), '^') => Ok(Val::Float(x.powf(y))),
        _ => Err(mismatch(&op.to_string(), a, b)),
    }
}

/// `in`: membership in a list (by `==`), a key of a map; nil holds nothing.
pub(crate) fn is_in(needle: View, haystack: View) -> Result<bool, Error> {
    match haystack {
        View::Nil => Ok(false),
        View::List(items) => Ok(items.iter().any(|v| equal(needle, View::of(v)))),
        View::Map(m) => match needle {
            View::Str(key) => Ok(std::str::from_utf8(key).is_ok_and(|k| m.contains_key(k))),
            other => Err(Error::eval(format!(
                "cannot use {} as a map key",
                other.type_name()
            ))),
        },
        other => Err(Error::eval(format!(
            "operator in not defined on {}",
            other.type_name()
        ))),
    }
}

/// The error for an operator on two values it does not take.
pub(crate) fn mismatch(op: &str, a: View, b: View) -> Error {
    Error::eval(format!(
        "invalid operation: {} {op} {}",
        a.type_name(),
        b.type_name()
    ))
}

/// Go's `%v` of a value (the `string()` builtin); nesting past `depth` levels is an
/// error.
pub(crate) fn go_format(v: View, out: &mut String, depth: usize) -> Result<(), Error> {
    if depth == 0 {
        return Err(Error::eval("value nests too deeply to format"));
    }
    match v {
        View::Nil => out.push_str("<nil>"),
        View::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        View::Int(i) => {
            let _ = write!(out, "{i}");
        }
        View::Float(f) => out.push_str(&go_float(f)),
        View::Str(s) => out.push_str(&String::from_utf8_lossy(s)),
        View::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                go_format(View::of(item), out, depth - 1)?;
            }
            out.push(']');
        }
        View::Map(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push_str("map[");
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(key);
                out.push(':');
                if let Some(value) = m.get(key) {
                    go_format(View::of(value), out, depth - 1)?;
                }
            }
            out.push(']');
        }
        View::Other => out.push_str("<error>"),
    }
    Ok(())
}

/// Go's `%v` of a float (`strconv` `'g'`, shortest): the shortest digits, in exponent
/// form when the exponent is below -4 or at least 6 (`1e+06`, `1e-05`); `+Inf`, `-Inf`,
/// `NaN`.
pub(crate) fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        return format!("{f}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
}
