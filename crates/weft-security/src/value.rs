//! [`Val`]: a borrowed view of what a condition compares, and the comparison rules of
//! reference §5.2 (numbers, text, lists). Nothing here allocates, except the text of a
//! float too long for a stack buffer.

use std::cmp::Ordering;
use std::fmt::{self, Write as _};

use weft_core::{Map, Value};

/// A field value or an operand, borrowed from the actor, the meta or the policy.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Val<'a> {
    /// Missing or nil.
    Nil,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string (bytes; usually UTF-8).
    Str(&'a [u8]),
    /// A list.
    List(&'a [Value]),
    /// A map.
    Map(&'a Map),
    /// Anything else (an error value): neither a number nor text.
    Other,
}

/// A number as the numeric operators see it; two integers compare exactly.
#[derive(Clone, Copy, Debug)]
enum Num {
    /// An integer.
    Int(i64),
    /// Any other number.
    Float(f64),
}

impl<'a> Val<'a> {
    /// The view of `value`.
    pub(crate) fn of(value: &'a Value) -> Val<'a> {
        match value {
            Value::Nil => Val::Nil,
            Value::Bool(b) => Val::Bool(*b),
            Value::Int(i) => Val::Int(*i),
            Value::Float(f) => Val::Float(*f),
            Value::Str(s) => Val::Str(s),
            Value::Array(items) => Val::List(items),
            Value::Map(m) => Val::Map(m),
            Value::Error(_) => Val::Other,
        }
    }

    /// True when missing or nil.
    pub(crate) fn is_nil(self) -> bool {
        matches!(self, Val::Nil)
    }

    /// True for integers, floats and strings that parse as a float.
    pub(crate) fn is_number(self) -> bool {
        self.number().is_some()
    }

    /// The number: integers, floats and strings that parse as a float.
    fn number(self) -> Option<Num> {
        match self {
            Val::Int(i) => Some(Num::Int(i)),
            Val::Float(f) => Some(Num::Float(f)),
            Val::Str(s) => std::str::from_utf8(s).ok()?.parse().ok().map(Num::Float),
            _ => None,
        }
    }

    /// Calls `f` with the value as text (strings, numbers, booleans); `None` otherwise.
    fn with_text<R>(self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        match self {
            Val::Str(s) => Some(f(s)),
            Val::Bool(true) => Some(f(b"true")),
            Val::Bool(false) => Some(f(b"false")),
            Val::Int(i) => Some(format_into(f, format_args!("{i}"))),
            Val::Float(x) if x.is_nan() => Some(f(b"NaN")),
            Val::Float(x) if x.is_infinite() => Some(f(if x > 0.0 { b"+Inf" } else { b"-Inf" })),
            Val::Float(x) => Some(format_into(f, format_args!("{x}"))),
            Val::Nil | Val::List(_) | Val::Map(_) | Val::Other => None,
        }
    }
}

/// `eq`: identical, or both numbers and equal, or both text and equal.
pub(crate) fn equals(a: Val, b: Val) -> bool {
    if identical(a, b) {
        return true;
    }
    if let (Some(x), Some(y)) = (a.number(), b.number()) {
        return compare(x, y) == Some(Ordering::Equal);
    }
    a.with_text(|ta| b.with_text(|tb| ta == tb))
        .flatten()
        .unwrap_or(false)
}

/// `lt`/`gt`/`lte`/`gte`: the order of two numbers; `None` when either is not a number
/// (an error: the policy is Undefined) or a NaN is involved.
pub(crate) fn order(a: Val, b: Val) -> Result<Option<Ordering>, ()> {
    match (a.number(), b.number()) {
        (Some(x), Some(y)) => Ok(compare(x, y)),
        _ => Err(()),
    }
}

/// `in`: the operand is a list (any element equal) or a single string (equal).
pub(crate) fn is_in(field: Val, operand: Val) -> Result<bool, ()> {
    match operand {
        Val::List(items) => Ok(items.iter().any(|item| equals(field, Val::of(item)))),
        Val::Str(_) => Ok(equals(field, operand)),
        _ => Err(()),
    }
}

/// `contains`: a substring when both are text, else membership when the field is a list;
/// a string field with an operand that is not text contains nothing.
pub(crate) fn contains(field: Val, operand: Val) -> Result<bool, ()> {
    let substring = field
        .with_text(|hay| operand.with_text(|needle| find(hay, needle)))
        .flatten();
    if let Some(found) = substring {
        return Ok(found);
    }
    match field {
        Val::List(items) => Ok(items.iter().any(|item| equals(Val::of(item), operand))),
        Val::Str(_) => Ok(false),
        _ => Err(()),
    }
}

/// `matches`: the regex on the field's text; an error when the field is not text.
pub(crate) fn matches(field: Val, regex: &regex::bytes::Regex) -> Result<bool, ()> {
    field.with_text(|text| regex.is_match(text)).ok_or(())
}

/// Same variant and equal (integers and floats are not identical to each other).
fn identical(a: Val, b: Val) -> bool {
    match (a, b) {
        (Val::Nil, Val::Nil) => true,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Int(x), Val::Int(y)) => x == y,
        (Val::Float(x), Val::Float(y)) => x == y,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::List(x), Val::List(y)) => x == y,
        (Val::Map(x), Val::Map(y)) => x == y,
        _ => false,
    }
}

/// Two numbers in order; integers exactly, anything else as floats.
fn compare(a: Num, b: Num) -> Option<Ordering> {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
        (x, y) => as_f64(x).partial_cmp(&as_f64(y)),
    }
}

fn as_f64(n: Num) -> f64 {
    match n {
        Num::Int(i) => i as f64,
        Num::Float(f) => f,
    }
}

/// True when `needle` occurs in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// Formats `args` on the stack (on the heap only when too long) and calls `f` with it.
fn format_into<R>(f: impl FnOnce(&[u8]) -> R, args: fmt::Arguments) -> R {
    let mut buf = StackBuf::default();
    if buf.write_fmt(args).is_ok() {
        f(&buf.bytes[..buf.len])
    } else {
        f(fmt::format(args).as_bytes())
    }
}

/// A small fixed buffer for number text; a write past its end fails.
struct StackBuf {
    bytes: [u8; 64],
    len: usize,
}

impl Default for StackBuf {
    fn default() -> Self {
        StackBuf {
            bytes: [0; 64],
            len: 0,
        }
    }
}

impl fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let dest = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        dest.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Val<'_> {
        Val::Str(text.as_bytes())
    }

    fn text(v: Val) -> String {
        v.with_text(|t| String::from_utf8(t.to_vec()).unwrap())
            .unwrap()
    }

    #[test]
    fn eq_numbers_across_types_and_numeric_strings() {
        assert!(equals(Val::Int(1), Val::Float(1.0)));
        assert!(equals(Val::Int(1), s("1")));
        assert!(equals(s("1.0"), Val::Int(1)));
        assert!(equals(s("1e2"), s("100")));
        assert!(!equals(Val::Int(1), s("2")));
        // Integers compare exactly, not through f64.
        assert!(!equals(
            Val::Int(9_007_199_254_740_993),
            Val::Int(9_007_199_254_740_992)
        ));
    }

    #[test]
    fn eq_falls_back_to_text() {
        assert!(equals(Val::Bool(true), s("true")));
        assert!(!equals(Val::Bool(true), s("yes")));
        assert!(!equals(Val::Bool(true), Val::Int(1)));
        // "NaN" is a number, and NaN equals nothing (Go returns at the numeric step too).
        assert!(!equals(Val::Float(f64::NAN), s("NaN")));
        assert!(!equals(Val::Float(f64::NAN), Val::Float(f64::NAN)));
        assert!(equals(Val::Float(f64::INFINITY), s("+Inf")));
        assert!(equals(s("abc"), s("abc")));
        assert!(!equals(s("abc"), s("abd")));
    }

    #[test]
    fn eq_with_nil_lists_and_maps() {
        let list = [Value::Int(1)];
        let other = [Value::Int(1)];
        assert!(equals(Val::List(&list), Val::List(&other)));
        assert!(!equals(Val::List(&list), Val::Int(1)));
        assert!(!equals(s("x"), Val::Nil));
        let m = Map::new();
        assert!(!equals(Val::Map(&m), s("map[]")));
        assert!(!equals(Val::Other, s("")));
    }

    #[test]
    fn number_text_is_gos() {
        assert_eq!(text(Val::Int(-12)), "-12");
        assert_eq!(text(Val::Float(2.0)), "2");
        assert_eq!(text(Val::Float(0.1)), "0.1");
        assert_eq!(text(Val::Float(1e21)), "1000000000000000000000");
        assert_eq!(text(Val::Float(f64::INFINITY)), "+Inf");
        assert_eq!(text(Val::Float(f64::NEG_INFINITY)), "-Inf");
        // Longer than the stack buffer: still right.
        assert_eq!(text(Val::Float(1e300)).len(), 301);
    }

    #[test]
    fn order_needs_two_numbers() {
        assert_eq!(order(Val::Int(1), s("2")), Ok(Some(Ordering::Less)));
        assert_eq!(
            order(Val::Float(2.5), Val::Int(2)),
            Ok(Some(Ordering::Greater))
        );
        assert_eq!(order(Val::Float(f64::NAN), Val::Int(2)), Ok(None));
        assert_eq!(order(s("abc"), Val::Int(2)), Err(()));
        assert_eq!(order(Val::Bool(true), Val::Int(1)), Err(()));
        assert_eq!(order(Val::Int(1), Val::Nil), Err(()));
    }

    #[test]
    fn in_takes_a_list_or_a_string() {
        let list = [Value::str("a"), Value::Int(2)];
        assert_eq!(is_in(s("a"), Val::List(&list)), Ok(true));
        assert_eq!(is_in(s("2"), Val::List(&list)), Ok(true));
        assert_eq!(is_in(s("b"), Val::List(&list)), Ok(false));
        assert_eq!(is_in(s("a"), s("a")), Ok(true));
        assert_eq!(is_in(s("a"), s("abc")), Ok(false));
        assert_eq!(is_in(s("a"), Val::Int(1)), Err(()));
        assert_eq!(is_in(s("a"), Val::Nil), Err(()));
    }

    #[test]
    fn contains_is_substring_or_membership() {
        assert_eq!(contains(s("admin,dev"), s("dev")), Ok(true));
        assert_eq!(contains(s("admin"), s("")), Ok(true));
        assert_eq!(contains(Val::Int(123), s("2")), Ok(true));
        assert_eq!(contains(s("a1"), Val::Int(1)), Ok(true));
        let list = [Value::str("admin"), Value::Int(3)];
        assert_eq!(contains(Val::List(&list), s("admin")), Ok(true));
        assert_eq!(contains(Val::List(&list), s("3")), Ok(true));
        assert_eq!(contains(Val::List(&list), s("adm")), Ok(false));
        assert_eq!(contains(s("abc"), Val::List(&list)), Ok(false));
        assert_eq!(contains(s("abc"), Val::Nil), Ok(false));
        let m = Map::new();
        assert_eq!(contains(Val::Map(&m), s("a")), Err(()));
        assert_eq!(contains(Val::Nil, s("a")), Err(()));
    }

    #[test]
    fn matches_needs_text() {
        let re = regex::bytes::Regex::new("^ad").unwrap();
        assert_eq!(matches(s("admin"), &re), Ok(true));
        assert_eq!(matches(s("bad"), &re), Ok(false));
        let digits = regex::bytes::Regex::new(r"^\d+$").unwrap();
        assert_eq!(matches(Val::Int(42), &digits), Ok(true));
        let list = [Value::str("admin")];
        assert_eq!(matches(Val::List(&list), &re), Err(()));
    }
}
