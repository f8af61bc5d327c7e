//! The builtin functions: the expr-lang ones a policy or a small computation needs.
//!
//! - [`Func`]: `len`, `type`, `abs`, `ceil`, `floor`, `round`, `max`, `min`, `int`,
//!   `float`, `string`, `upper`, `lower`, `trim`, `trimPrefix`, `trimSuffix`, `split`,
//!   `join`, `replace`, `hasPrefix`, `hasSuffix`, `keys`, `values`, `first`, `last`.
//! - [`Pred`]: `all`, `any`, `none`, `one`, `filter`, `map`, `count`, `find`,
//!   `findIndex`, `sum`, which take a list and a predicate over `#` (`all(xs, # > 0)`,
//!   `any(xs, {.role == "admin"})`).

use std::borrow::Cow;
use std::sync::Arc;

use weft_core::Value;

use crate::Error;
use crate::eval::Cx;
use crate::parser::Node;
use crate::value::{self, Val, View};

/// What a function name is.
pub(crate) enum Builtin {
    /// A plain function.
    Func(Func),
    /// A function over a list with a predicate.
    Pred(Pred),
    /// `max` (true) or `min` (false): any number of numbers or lists of them.
    Extreme(bool),
}

/// Plain functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Func {
    Len,
    Type,
    Abs,
    Ceil,
    Floor,
    Round,
    Int,
    Float,
    String,
    Upper,
    Lower,
    Trim,
    TrimPrefix,
    TrimSuffix,
    Split,
    Join,
    Replace,
    HasPrefix,
    HasSuffix,
    Keys,
    Values,
    First,
    Last,
}

/// Functions over a list with a predicate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pred {
    All,
    Any,
    None,
    One,
    Filter,
    Map,
    Count,
    Find,
    FindIndex,
    Sum,
}

/// The builtin called `name`.
pub(crate) fn lookup(name: &str) -> Option<Builtin> {
    use Func as F;
    use Pred as P;
    let f = |f| Some(Builtin::Func(f));
    let p = |p| Some(Builtin::Pred(p));
    match name {
        "len" => f(F::Len),
        "type" => f(F::Type),
        "abs" => f(F::Abs),
        "ceil" => f(F::Ceil),
        "floor" => f(F::Floor),
        "round" => f(F::Round),
        "max" => Some(Builtin::Extreme(true)),
        "min" => Some(Builtin::Extreme(false)),
        "int" => f(F::Int),
        "float" => f(F::Float),
        "string" => f(F::String),
        "upper" => f(F::Upper),
        "lower" => f(F::Lower),
        "trim" => f(F::Trim),
        "trimPrefix" => f(F::TrimPrefix),
        "trimSuffix" => f(F::TrimSuffix),
        "split" => f(F::Split),
        "join" => f(F::Join),
        "replace" => f(F::Replace),
        "hasPrefix" => f(F::HasPrefix),
        "hasSuffix" => f(F::HasSuffix),
        "keys" => f(F::Keys),
        "values" => f(F::Values),
        "first" => f(F::First),
        "last" => f(F::Last),
        "all" => p(P::All),
        "any" => p(P::Any),
        "none" => p(P::None),
        "one" => p(P::One),
        "filter" => p(P::Filter),
        "map" => p(P::Map),
        "count" => p(P::Count),
        "find" => p(P::Find),
        "findIndex" => p(P::FindIndex),
        "sum" => p(P::Sum),
        _ => None,
    }
}

impl Func {
    /// The fewest and most arguments.
    pub(crate) fn arity(self) -> (usize, usize) {
        use Func::*;
        match self {
            Trim | TrimPrefix | TrimSuffix | Join => (1, 2),
            Split => (2, 3),
            Replace => (3, 4),
            HasPrefix | HasSuffix => (2, 2),
            _ => (1, 1),
        }
    }
}

impl Pred {
    /// False for `count` and `sum`, which also take a list alone.
    pub(crate) fn needs_predicate(self) -> bool {
        !matches!(self, Pred::Count | Pred::Sum)
    }
}

/// Calls `func` on `args` (their number was checked at parse). Only the evaluation of
/// the arguments recurses; [`apply`] does the work in its own frame.
pub(crate) fn call<'a>(func: Func, args: &'a [Node], cx: &mut Cx<'a>) -> Result<Val<'a>, Error> {
    let mut vals: [Val<'a>; 4] = [Val::Nil, Val::Nil, Val::Nil, Val::Nil];
    for (slot, node) in vals.iter_mut().zip(args) {
        *slot = cx.eval(node)?;
    }
    apply(func, &vals, args.len())
}

/// `func` on the first `given` of `vals`.
fn apply<'a>(func: Func, vals: &[Val<'a>; 4], given: usize) -> Result<Val<'a>, Error> {
    let [a, b, c, d] = vals;
    let (a, b, c, d) = (a.view(), b.view(), c.view(), d.view());
    let bad = |v: View| bad_arg(&format!("{func:?}"), v);
    Ok(match func {
        Func::Len => match a {
            View::Str(s) => count(String::from_utf8_lossy(s).chars().count()),
            View::List(items) => count(items.len()),
            View::Map(m) => count(m.len()),
            other => return Err(bad_arg("len", other)),
        },
        Func::Type => Val::Str(a.type_name().as_bytes()),
        Func::Abs => match a {
            View::Int(i) => Val::Int(i.wrapping_abs()),
            View::Float(f) => Val::Float(f.abs()),
            other => return Err(bad_arg("abs", other)),
        },
        Func::Ceil | Func::Floor | Func::Round => {
            let x = a.number().ok_or_else(|| bad(a))?;
            Val::Float(match func {
                Func::Ceil => x.ceil(),
                Func::Floor => x.floor(),
                _ => x.round(),
            })
        }
        Func::Int => match a {
            View::Int(i) => Val::Int(i),
            View::Float(f) => Val::Int(f as i64),
            View::Str(s) => Val::Int(parse(s, "int")?),
            other => return Err(bad_arg("int", other)),
        },
        Func::Float => match a {
            View::Int(i) => Val::Float(i as f64),
            View::Float(f) => Val::Float(f),
            View::Str(s) => Val::Float(parse(s, "float")?),
            other => return Err(bad_arg("float", other)),
        },
        Func::String => {
            let mut out = String::new();
            value::go_format(a, &mut out, 64)?;
            Val::string(out)
        }
        Func::Upper => Val::string(text(func, a)?.to_uppercase()),
        Func::Lower => Val::string(text(func, a)?.to_lowercase()),
        Func::Trim if given == 1 => Val::string(text(func, a)?.trim().to_string()),
        Func::Trim => {
            let cut = text(func, b)?;
            Val::string(text(func, a)?.trim_matches(|c| cut.contains(c)).to_string())
        }
        Func::TrimPrefix | Func::TrimSuffix => {
            let s = text(func, a)?;
            let affix = if given == 1 {
                " ".into()
            } else {
                text(func, b)?
            };
            let cut = if func == Func::TrimPrefix {
                s.strip_prefix(&*affix)
            } else {
                s.strip_suffix(&*affix)
            };
            Val::string(cut.unwrap_or(&s).to_string())
        }
        Func::Split => {
            let limit = if given == 3 { int_arg(c, "split")? } else { -1 };
            split(&text(func, a)?, &text(func, b)?, limit)
        }
        Func::Join => {
            let View::List(items) = a else {
                return Err(bad_arg("join", a));
            };
            let sep = if given == 2 {
                text(func, b)?
            } else {
                "".into()
            };
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                parts.push(text(func, View::of(item))?);
            }
            Val::string(parts.join(&sep))
        }
        Func::Replace => {
            let (s, from, to) = (text(func, a)?, text(func, b)?, text(func, c)?);
            let limit = if given == 4 {
                int_arg(d, "replace")?
            } else {
                -1
            };
            match usize::try_from(limit) {
                Ok(n) => Val::string(s.replacen(&*from, &to, n)),
                Err(_) => Val::string(s.replace(&*from, &to)),
            }
        }
        Func::HasPrefix => Val::Bool(text(func, a)?.starts_with(&*text(func, b)?)),
        Func::HasSuffix => Val::Bool(text(func, a)?.ends_with(&*text(func, b)?)),
        Func::Keys | Func::Values => {
            let View::Map(m) = a else {
                return Err(bad(a));
            };
            let items: Vec<Value> = if func == Func::Keys {
                m.keys().map(|k| Value::str(k.as_str())).collect()
            } else {
                m.values().cloned().collect()
            };
            Val::owned(Value::array(items))
        }
        Func::First | Func::Last => match a {
            View::Nil => Val::Nil,
            View::List(items) => {
                let item = if func == Func::First {
                    items.first()
                } else {
                    items.last()
                };
                item.cloned().map_or(Val::Nil, Val::owned)
            }
            other => return Err(bad(other)),
        },
    })
}

/// Runs a predicate function over the list `list`.
pub(crate) fn predicate<'a>(
    pred: Pred,
    list: &'a Node,
    body: Option<&'a Node>,
    cx: &mut Cx<'a>,
) -> Result<Val<'a>, Error> {
    let items = match cx.eval(list)? {
        Val::List(items) => Items::Borrowed(items),
        Val::Owned(v) => match *v {
            Value::Array(items) => Items::Owned(items),
            other => return Err(not_a_list(pred, View::of(&other))),
        },
        other => return Err(not_a_list(pred, other.view())),
    };
    let Some(body) = body else {
        return match pred {
            Pred::Sum => sum((0..items.len()).filter_map(|i| items.get(i)).map(Ok)),
            _ => {
                let trues = (0..items.len())
                    .filter_map(|i| items.get(i))
                    .filter(|v| matches!(v, Val::Bool(true)))
                    .count();
                Ok(count(trues))
            }
        };
    };
    if pred == Pred::Map || pred == Pred::Sum {
        let mut results = Vec::with_capacity(items.len());
        for i in 0..items.len() {
            let elem = items.get(i).unwrap_or(Val::Nil);
            results.push(cx.with_elem(body, elem, i)?);
        }
        return if pred == Pred::Sum {
            sum(results.into_iter().map(Ok))
        } else {
            let values = results.into_iter().map(Val::into_value).collect();
            Ok(Val::owned(Value::array(values)))
        };
    }
    let mut hits = 0usize;
    let mut kept = Vec::new();
    for i in 0..items.len() {
        let elem = items.get(i).unwrap_or(Val::Nil);
        let verdict = cx.with_elem(body, elem.clone(), i)?;
        let Some(hit) = verdict.as_bool() else {
            return Err(Error::eval(format!(
                "{}: the predicate must return a bool, got {}",
                pred_name(pred),
                verdict.view().type_name()
            )));
        };
        if !hit {
            if pred == Pred::All {
                return Ok(Val::Bool(false));
            }
            continue;
        }
        hits += 1;
        match pred {
            Pred::Any => return Ok(Val::Bool(true)),
            Pred::None => return Ok(Val::Bool(false)),
            Pred::One if hits > 1 => return Ok(Val::Bool(false)),
            Pred::Find => return Ok(elem),
            Pred::FindIndex => return Ok(count(i)),
            Pred::Filter => kept.push(elem.into_value()),
            _ => {}
        }
    }
    Ok(match pred {
        Pred::All | Pred::None => Val::Bool(true),
        Pred::Any => Val::Bool(false),
        Pred::One => Val::Bool(hits == 1),
        Pred::Find => Val::Nil,
        Pred::FindIndex => Val::Int(-1),
        Pred::Filter => Val::owned(Value::array(kept)),
        // `count` (`map` and `sum` returned above).
        _ => count(hits),
    })
}

/// A list a predicate walks: borrowed where it lies, or computed.
enum Items<'a> {
    Borrowed(&'a [Value]),
    Owned(Arc<Vec<Value>>),
}

impl<'a> Items<'a> {
    fn len(&self) -> usize {
        match self {
            Items::Borrowed(items) => items.len(),
            Items::Owned(items) => items.len(),
        }
    }

    fn get(&self, i: usize) -> Option<Val<'a>> {
        match self {
            Items::Borrowed(items) => {
                let items: &'a [Value] = items;
                items.get(i).map(Val::of)
            }
            Items::Owned(items) => items.get(i).cloned().map(Val::owned),
        }
    }
}

/// `max(…)` / `min(…)` over numbers and lists of numbers (flattened): the winning
/// number as it was; nil when there is none.
pub(crate) fn extreme<'a>(max: bool, args: &'a [Node], cx: &mut Cx<'a>) -> Result<Val<'a>, Error> {
    let name = if max { "max" } else { "min" };
    let mut best: Option<Val<'a>> = None;
    for node in args {
        let v = cx.eval(node)?;
        visit_numbers(v.view(), name, 32, &mut |n| {
            let better = match &best {
                None => true,
                Some(b) => {
                    let order = value::compare(n, b.view())?;
                    order.is_some_and(|o| if max { o.is_gt() } else { o.is_lt() })
                }
            };
            if better {
                best = Some(match n {
                    View::Int(i) => Val::Int(i),
                    View::Float(f) => Val::Float(f),
                    _ => Val::Nil,
                });
            }
            Ok(())
        })?;
    }
    Ok(best.unwrap_or(Val::Nil))
}

/// Calls `f` with each number in `v`, descending into lists at most `depth` levels.
fn visit_numbers(
    v: View,
    name: &str,
    depth: usize,
    f: &mut dyn FnMut(View) -> Result<(), Error>,
) -> Result<(), Error> {
    match v {
        View::Int(_) | View::Float(_) => f(v),
        View::List(items) if depth > 0 => {
            for item in items {
                visit_numbers(View::of(item), name, depth - 1, f)?;
            }
            Ok(())
        }
        other => Err(bad_arg(name, other)),
    }
}

/// The sum of numbers: an integer while every term is one, else a float.
fn sum<'a>(terms: impl Iterator<Item = Result<Val<'a>, Error>>) -> Result<Val<'a>, Error> {
    let mut total = Val::Int(0);
    for term in terms {
        let term = term?;
        total = match (total.view(), term.view()) {
            (View::Int(x), View::Int(y)) => Val::Int(x.wrapping_add(y)),
            (x, y) => match (x.number(), y.number()) {
                (Some(x), Some(y)) => Val::Float(x + y),
                _ => return Err(bad_arg("sum", y)),
            },
        };
    }
    Ok(total)
}

/// `split(s, sep, n)` as Go's `strings.SplitN` (`n < 0`: all parts; `0`: none).
fn split<'a>(s: &str, sep: &str, limit: i64) -> Val<'a> {
    let parts: Vec<Value> = match usize::try_from(limit) {
        Ok(0) => Vec::new(),
        Ok(n) if sep.is_empty() => {
            let mut chars: Vec<Value> = Vec::new();
            let mut rest = s;
            while let Some(c) = rest.chars().next() {
                if chars.len() + 1 == n {
                    break;
                }
                chars.push(Value::str(c.to_string()));
                rest = &rest[c.len_utf8()..];
            }
            if !rest.is_empty() {
                chars.push(Value::str(rest));
            }
            chars
        }
        Ok(n) => s.splitn(n, sep).map(Value::str).collect(),
        Err(_) if sep.is_empty() => s.chars().map(|c| Value::str(c.to_string())).collect(),
        Err(_) => s.split(sep).map(Value::str).collect(),
    };
    Val::owned(Value::array(parts))
}

/// A string argument of `func`, as text.
fn text(func: Func, v: View<'_>) -> Result<Cow<'_, str>, Error> {
    v.text()
        .map(String::from_utf8_lossy)
        .ok_or_else(|| bad_arg(&format!("{func:?}"), v))
}

/// A count as an integer.
fn count<'a>(n: usize) -> Val<'a> {
    Val::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// An integer argument.
fn int_arg(v: View, name: &str) -> Result<i64, Error> {
    match v {
        View::Int(i) => Ok(i),
        other => Err(bad_arg(name, other)),
    }
}

/// Parses a number out of a string argument (`int("42")`, `float("1.5")`).
fn parse<T: std::str::FromStr>(s: &[u8], name: &str) -> Result<T, Error> {
    let text = String::from_utf8_lossy(s);
    text.parse()
        .map_err(|_| Error::eval(format!("{name}: cannot parse {text:?} as a number")))
}

fn bad_arg(name: &str, v: View) -> Error {
    let name = lower_first(name);
    Error::eval(format!(
        "invalid argument for {name} (type {})",
        v.type_name()
    ))
}

/// The error for a predicate function given something else than a list.
fn not_a_list(pred: Pred, v: View) -> Error {
    Error::eval(format!(
        "{}: expected an array, got {}",
        pred_name(pred),
        v.type_name()
    ))
}

fn pred_name(pred: Pred) -> String {
    lower_first(&format!("{pred:?}"))
}

/// `TrimPrefix` → `trimPrefix`: a variant's name as the function is spelled.
fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_lowercase().chain(chars).collect())
}
