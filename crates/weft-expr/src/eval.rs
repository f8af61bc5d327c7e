//! The evaluator: walks a [`Node`] tree over [`Val`]s. The tree's height is capped at
//! parse, so the recursion is bounded; every node and predicate element counts a step
//! against [`MAX_STEPS`].

use std::cmp::Ordering;

use weft_core::{Map, Value};

use crate::parser::{Node, Op, compile_regex};
use crate::value::{self, Val, View};
use crate::{Env, Error, MAX_STEPS, builtins};

/// Evaluates `root` with the variables of `env`.
pub(crate) fn run<'a>(root: &'a Node, env: &'a dyn Env) -> Result<Val<'a>, Error> {
    let mut cx = Cx {
        env,
        elem: None,
        steps: 0,
    };
    cx.eval(root)
}

/// One evaluation's state.
pub(crate) struct Cx<'a> {
    env: &'a dyn Env,
    /// The element (and its index) the innermost predicate is looking at; the outer
    /// ones wait on the stack in [`Cx::with_elem`].
    elem: Option<(Val<'a>, usize)>,
    steps: u64,
}

impl<'a> Cx<'a> {
    /// Evaluates `node`. The frame of this function is on the stack once per level of
    /// the tree, so everything that is not a step down lives in helpers.
    pub(crate) fn eval(&mut self, node: &'a Node) -> Result<Val<'a>, Error> {
        self.step()?;
        match node {
            Node::Lit(v) => Ok(Val::of(v)),
            Node::Var(name) => Ok(self.env.get(name)),
            Node::Path(name, keys) => self.env.get_path(name, keys),
            Node::Elem => self.current().map(|(v, _)| v),
            Node::ElemIndex => self.current().map(|(_, i)| count(i)),
            Node::List(items) => self.list(items),
            Node::Dict(entries) => self.dict(entries),
            Node::Member(target, key, optional) => {
                let v = self.eval(target)?;
                if *optional && v.is_nil() {
                    Ok(Val::Nil)
                } else {
                    v.member(key)
                }
            }
            Node::Index(target, index, optional) => self.index(target, index, *optional),
            Node::Not(x) | Node::Neg(x) | Node::Plus(x) => {
                let v = self.eval(x)?;
                unary(node, v)
            }
            Node::Or(l, r) => self.logic(l, r, true),
            Node::And(l, r) => self.logic(l, r, false),
            Node::Coalesce(l, r) => match self.eval(l)? {
                Val::Nil => self.eval(r),
                v => Ok(v),
            },
            Node::Binary(op, l, r) => {
                let left = self.eval(l)?;
                let right = self.eval(r)?;
                binary(*op, left.view(), right.view())
            }
            Node::Matches(l, re) => {
                let v = self.eval(l)?;
                match v.view() {
                    View::Str(s) => Ok(Val::Bool(re.is_match(s))),
                    other => Err(value::mismatch("matches", other, View::Str(b""))),
                }
            }
            Node::Cond(c, yes, no) => {
                let v = self.eval(c)?;
                match v.as_bool() {
                    Some(true) => self.eval(yes),
                    Some(false) => self.eval(no),
                    None => Err(cond_error(&v)),
                }
            }
            Node::Call(func, args) => builtins::call(*func, args, self),
            Node::Extreme(max, args) => builtins::extreme(*max, args, self),
            Node::Pred(pred, list, body) => builtins::predicate(*pred, list, body.as_deref(), self),
        }
    }

    /// `[a, b, …]` with computed items.
    fn list(&mut self, items: &'a [Node]) -> Result<Val<'a>, Error> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(self.eval(item)?.into_value());
        }
        Ok(Val::owned(Value::array(out)))
    }

    /// `{k: v, …}` with computed values.
    fn dict(&mut self, entries: &'a [(Box<str>, Node)]) -> Result<Val<'a>, Error> {
        let mut out = Map::with_capacity(entries.len());
        for (key, item) in entries {
            out.insert(key.to_string(), self.eval(item)?.into_value());
        }
        Ok(Val::owned(Value::map(out)))
    }

    /// `target[index]`, or `target?.[index]` (`optional`).
    fn index(
        &mut self,
        target: &'a Node,
        index: &'a Node,
        optional: bool,
    ) -> Result<Val<'a>, Error> {
        let v = self.eval(target)?;
        if optional && v.is_nil() {
            return Ok(Val::Nil);
        }
        let i = self.eval(index)?;
        v.index(&i)
    }

    /// Evaluates `body` with `#` bound to `elem` at `index`.
    pub(crate) fn with_elem(
        &mut self,
        body: &'a Node,
        elem: Val<'a>,
        index: usize,
    ) -> Result<Val<'a>, Error> {
        self.step()?;
        let outer = self.elem.replace((elem, index));
        let result = self.eval(body);
        self.elem = outer;
        result
    }

    /// Counts one step; an error past [`MAX_STEPS`].
    fn step(&mut self) -> Result<(), Error> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(Error::eval(format!(
                "evaluation exceeded {MAX_STEPS} steps"
            )));
        }
        Ok(())
    }

    /// The innermost predicate's element and index.
    fn current(&self) -> Result<(Val<'a>, usize), Error> {
        self.elem
            .clone()
            .ok_or_else(|| Error::eval("# outside a predicate"))
    }

    /// `or` (`is_or`) or `and`: both sides must be booleans; the right one is evaluated
    /// only when it decides.
    fn logic(&mut self, l: &'a Node, r: &'a Node, is_or: bool) -> Result<Val<'a>, Error> {
        let name = if is_or { "or" } else { "and" };
        let left = self.eval(l)?;
        match left.as_bool() {
            Some(b) if b == is_or => Ok(Val::Bool(b)),
            Some(_) => {
                let right = self.eval(r)?;
                right
                    .as_bool()
                    .map(Val::Bool)
                    .ok_or_else(|| value::mismatch(name, View::Bool(!is_or), right.view()))
            }
            None => Err(value::mismatch(name, left.view(), View::Bool(true))),
        }
    }
}

/// An operator that evaluates both sides.
fn binary<'a>(op: Op, a: View, b: View) -> Result<Val<'a>, Error> {
    let ordered = |want: fn(Ordering) -> bool| -> Result<Val<'a>, Error> {
        Ok(Val::Bool(value::compare(a, b)?.is_some_and(want)))
    };
    match op {
        Op::Eq => Ok(Val::Bool(value::equal(a, b))),
        Op::Ne => Ok(Val::Bool(!value::equal(a, b))),
        Op::Lt => ordered(Ordering::is_lt),
        Op::Gt => ordered(Ordering::is_gt),
        Op::Le => ordered(Ordering::is_le),
        Op::Ge => ordered(Ordering::is_ge),
        Op::In => value::is_in(a, b).map(Val::Bool),
        Op::Contains | Op::StartsWith | Op::EndsWith | Op::Matches => {
            let name = match op {
                Op::Contains => "contains",
                Op::StartsWith => "startsWith",
                Op::EndsWith => "endsWith",
                _ => "matches",
            };
            let (Some(s), Some(t)) = (a.text(), b.text()) else {
                return Err(value::mismatch(name, a, b));
            };
            Ok(Val::Bool(match op {
                Op::Contains => t.is_empty() || s.windows(t.len()).any(|w| w == t),
                Op::StartsWith => s.starts_with(t),
                Op::EndsWith => s.ends_with(t),
                _ => compile_regex(t).map_err(Error::eval)?.is_match(s),
            }))
        }
        Op::Add => value::arith('+', a, b),
        Op::Sub => value::arith('-', a, b),
        Op::Mul => value::arith('*', a, b),
        Op::Div => value::arith('/', a, b),
        Op::Mod => value::arith('%', a, b),
        Op::Pow => value::arith('^', a, b),
    }
}

/// `not`, `-` or `+` (`node` says which) on `v`.
fn unary<'a>(node: &Node, v: Val<'a>) -> Result<Val<'a>, Error> {
    match (node, v) {
        (Node::Not(_), Val::Bool(b)) => Ok(Val::Bool(!b)),
        (Node::Neg(_), Val::Int(i)) => Ok(Val::Int(i.wrapping_neg())),
        (Node::Neg(_), Val::Float(f)) => Ok(Val::Float(-f)),
        (Node::Plus(_), v @ (Val::Int(_) | Val::Float(_))) => Ok(v),
        (Node::Not(_), v) => Err(unary_error("not", &v)),
        (Node::Neg(_), v) => Err(unary_error("-", &v)),
        (_, v) => Err(unary_error("+", &v)),
    }
}

/// The error for a `?:` condition that is not a bool.
fn cond_error(v: &Val) -> Error {
    Error::eval(format!(
        "the condition of ?: must be a bool, got {}",
        v.view().type_name()
    ))
}

/// A count as an integer.
fn count<'a>(n: usize) -> Val<'a> {
    Val::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn unary_error(op: &str, v: &Val) -> Error {
    Error::eval(format!("invalid operation: {op} {}", v.view().type_name()))
}
