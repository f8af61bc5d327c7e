//! Validating a Lua value against a closed type: what `T(v)` and `T:is(v)` do.
//!
//! A failure names where the value went wrong and how: `users[2].name: expected string,
//! got number`, `age: 151 is greater than @max(150)`. The rules:
//!
//! - records read each listed field with ordinary indexing (so `__index` counts: an
//!   object's methods may come from its metatable); a missing optional field is fine,
//!   a missing required one is `nil` against its type; other fields are allowed;
//! - arrays must be sequences (raw keys exactly `1..#t`) and every element is checked;
//!   maps check every raw key and value;
//! - a union takes a value one member takes, an intersection one each member takes,
//!   `T?` nil or a `T`; when no member takes it, the failure is the member of the
//!   value's kind if there is just one (for tables: a record whose literal-typed
//!   fields, the tags, match), else "expected <union>";
//! - literals compare by value; `integer` takes Lua integers only (`math.type(v) ==
//!   "integer"`; the `integer(x)` cast converts floats); function types take any
//!   function (parameters are not checked);
//! - validators apply to values of their kind and are ignored for others: `@min`/`@max`
//!   to numbers, `@min_len`/`@max_len` to strings (bytes) and tables (`#t`), `@pattern`
//!   to strings (an unanchored search, as Go's `MatchString`);
//! - a table met again inside itself with the same type (a cycle) is taken as valid
//!   there; values nested deeper than [`MAX_VALUE_DEPTH`] tables fail.

use std::cmp::Ordering;

use mlua::{Table, Value as LuaValue};
use weft_lua_types::{Field, Literal, Type, Validator};

use super::close::{Graph, MAX_DEPTH};
use super::{Fault, text};

/// How deep tables may nest inside a checked value.
pub const MAX_VALUE_DEPTH: usize = 200;

/// How deep the check may recurse (types and values together): a stack guard, above
/// what [`MAX_VALUE_DEPTH`] tables of finite types take.
const MAX_FRAMES: usize = 2000;

/// The longest type text a failure shows before eliding the rest.
const MAX_SHOWN: usize = 200;

/// The most steps of a path a failure shows (the middle ones are elided).
const MAX_PATH: usize = 16;

/// The most bytes of a string value a failure shows.
const MAX_QUOTED: usize = 60;

/// Checks `v` against `ty` of `graph`.
pub fn check(graph: &Graph, ty: &Type, v: &LuaValue) -> Result<(), Fault> {
    Checker {
        graph,
        path: Vec::new(),
        active: Vec::new(),
    }
    .check(ty, None, v, 0)
}

/// One step of the path to a checked part.
enum Step {
    Field(String),
    Index(i64),
    Key(LuaValue),
}

struct Checker<'g> {
    graph: &'g Graph,
    path: Vec<Step>,
    /// The tables being checked, with the type each is checked against.
    active: Vec<(usize, usize)>,
}

impl Checker<'_> {
    /// Checks `v` against `ty`; a mismatch is reported against `shown` (the alias the
    /// type was reached by), else `ty`; a union's against the union itself.
    fn check(
        &mut self,
        ty: &Type,
        shown: Option<&Type>,
        v: &LuaValue,
        depth: usize,
    ) -> Result<(), Fault> {
        if depth > MAX_FRAMES {
            return Err(self.fail("type nested too deeply".to_string()));
        }
        let d = depth + 1;
        let ok = match ty {
            Type::Any | Type::Unknown => true,
            Type::Never => false,
            Type::Nil => v.is_nil(),
            Type::Boolean => matches!(v, LuaValue::Boolean(_)),
            Type::Number => matches!(v, LuaValue::Integer(_) | LuaValue::Number(_)),
            Type::Integer => matches!(v, LuaValue::Integer(_)),
            Type::String => matches!(v, LuaValue::String(_)),
            Type::Table => matches!(v, LuaValue::Table(_)),
            Type::Function | Type::Func(_) => matches!(v, LuaValue::Function(_)),
            Type::Primitive(name) => primitive_is(name, v),
            Type::Literal(l) => literal_is(l, v),
            Type::Optional(inner) => {
                return if v.is_nil() {
                    Ok(())
                } else {
                    self.check(inner, None, v, d)
                };
            }
            Type::Union(members) => return self.union(members, ty, v, d),
            Type::Intersection(members) => {
                return members.iter().try_for_each(|m| self.check(m, None, v, d));
            }
            Type::Named(n) => {
                let Some(def) = self.graph.def(n) else {
                    return Err(self.fail(format!("unknown type {}", n.path.join("."))));
                };
                return self.check(&def.ty, Some(shown.unwrap_or(ty)), v, d);
            }
            Type::Validated(inner, validators) => {
                self.check(inner, shown, v, d)?;
                return self.validators(validators, v);
            }
            Type::Record(_) | Type::Array(_) | Type::Map(..) => match v {
                LuaValue::Table(t) => return self.table(ty, shown.unwrap_or(ty), t, d),
                _ => false,
            },
        };
        if ok {
            Ok(())
        } else {
            Err(self.mismatch(shown.unwrap_or(ty), v))
        }
    }

    /// A table against a record, array or map type.
    fn table(&mut self, ty: &Type, shown: &Type, t: &Table, depth: usize) -> Result<(), Fault> {
        let key = (t.to_pointer() as usize, ty as *const Type as usize);
        if self.active.contains(&key) {
            return Ok(());
        }
        if self.active.len() >= MAX_VALUE_DEPTH {
            return Err(self.fail(format!("value nested deeper than {MAX_VALUE_DEPTH} levels")));
        }
        self.active.push(key);
        match ty {
            Type::Record(fields) => self.record(fields, t, depth)?,
            Type::Array(elem) => self.array(shown, elem, t, depth)?,
            Type::Map(k, v) => self.map(k, v, t, depth)?,
            _ => {}
        }
        self.active.pop();
        Ok(())
    }

    fn record(&mut self, fields: &[Field], t: &Table, depth: usize) -> Result<(), Fault> {
        for f in fields {
            let v: LuaValue = t.get(f.name.as_str())?;
            if v.is_nil() && f.optional {
                continue;
            }
            self.path.push(Step::Field(f.name.clone()));
            self.check(&f.ty, None, &v, depth)?;
            self.path.pop();
        }
        Ok(())
    }

    fn array(&mut self, shown: &Type, elem: &Type, t: &Table, depth: usize) -> Result<(), Fault> {
        let len = t.raw_len();
        let mut count = 0;
        for pair in t.pairs::<LuaValue, LuaValue>() {
            let (k, _) = pair?;
            match k {
                LuaValue::Integer(i) if i >= 1 && (i as usize) <= len => count += 1,
                other => {
                    let got = format!("table with key {}", value_text(&other));
                    return Err(self.expected(shown, &got));
                }
            }
        }
        if count < len {
            let hole = (1..=len).find(|&i| t.raw_get::<LuaValue>(i).is_ok_and(|v| v.is_nil()));
            let got = format!("table with a hole at {}", hole.unwrap_or(len));
            return Err(self.expected(shown, &got));
        }
        for i in 1..=len {
            let v: LuaValue = t.raw_get(i)?;
            self.path.push(Step::Index(i as i64));
            self.check(elem, None, &v, depth)?;
            self.path.pop();
        }
        Ok(())
    }

    fn map(&mut self, key: &Type, value: &Type, t: &Table, depth: usize) -> Result<(), Fault> {
        for pair in t.pairs::<LuaValue, LuaValue>() {
            let (k, v) = pair?;
            let mut keys = Checker {
                graph: self.graph,
                path: Vec::new(),
                active: Vec::new(),
            };
            if let Err(fault) = keys.check(key, None, &k, depth) {
                return Err(match fault {
                    Fault::Invalid(message) => {
                        self.fail(format!("key {}: {message}", value_text(&k)))
                    }
                    lua => lua,
                });
            }
            self.path.push(Step::Key(k));
            self.check(value, None, &v, depth)?;
            self.path.pop();
        }
        Ok(())
    }

    /// A union: the first member that takes `v`; if none does and exactly one member is
    /// of `v`'s kind, that member's failure (the most telling), else "expected <union>".
    fn union(
        &mut self,
        members: &[Type],
        shown: &Type,
        v: &LuaValue,
        depth: usize,
    ) -> Result<(), Fault> {
        for m in members {
            match self.attempt(m, v, depth) {
                Err(Fault::Invalid(_)) => {}
                done => return done,
            }
        }
        let mut fitting = members.iter().filter(|m| self.fits(m, v, 0));
        if let (Some(only), None) = (fitting.next(), fitting.next()) {
            return self.check(only, None, v, depth);
        }
        Err(self.mismatch(shown, v))
    }

    /// Checks without leaving steps behind when it fails.
    fn attempt(&mut self, ty: &Type, v: &LuaValue, depth: usize) -> Result<(), Fault> {
        let (path, active) = (self.path.len(), self.active.len());
        let result = self.check(ty, None, v, depth);
        self.path.truncate(path);
        self.active.truncate(active);
        result
    }

    fn validators(&self, validators: &[Validator], v: &LuaValue) -> Result<(), Fault> {
        match validators.iter().find_map(|val| self.broken(val, v)) {
            Some(message) => Err(self.fail(message)),
            None => Ok(()),
        }
    }

    /// How `v` breaks `val`, if it does (a validator of another kind of value holds).
    fn broken(&self, val: &Validator, v: &LuaValue) -> Option<String> {
        let shown = || text::validator(val);
        match val {
            Validator::Min(min) => number(v)
                .filter(|x| matches!(x.partial_cmp(min), None | Some(Ordering::Less)))
                .map(|_| format!("{} is less than {}", value_text(v), shown())),
            Validator::Max(max) => number(v)
                .filter(|x| matches!(x.partial_cmp(max), None | Some(Ordering::Greater)))
                .map(|_| format!("{} is greater than {}", value_text(v), shown())),
            Validator::MinLen(n) => length(v)
                .filter(|len| len < n)
                .map(|len| format!("length {len} is less than {}", shown())),
            Validator::MaxLen(n) => length(v)
                .filter(|len| len > n)
                .map(|len| format!("length {len} is greater than {}", shown())),
            Validator::Pattern(p) => {
                let LuaValue::String(s) = v else {
                    return None;
                };
                match self.graph.patterns.get(p) {
                    Some(re) if re.is_match(&s.as_bytes()) => None,
                    Some(_) => Some(format!("{} does not match {}", value_text(v), shown())),
                    None => Some(format!("{} is not compiled", shown())),
                }
            }
        }
    }

    /// "expected <ty>, got <what v is>".
    fn mismatch(&self, ty: &Type, v: &LuaValue) -> Fault {
        let got = if scalar(v) && self.fits(ty, v, 0) {
            value_text(v)
        } else {
            lua_type(v).to_string()
        };
        self.expected(ty, &got)
    }

    fn expected(&self, ty: &Type, got: &str) -> Fault {
        let mut shown = self.graph.show(ty);
        if shown.len() > MAX_SHOWN {
            let cut = (0..=MAX_SHOWN)
                .rev()
                .find(|&i| shown.is_char_boundary(i))
                .unwrap_or(0);
            shown.truncate(cut);
            shown.push('…');
        }
        self.fail(format!("expected {shown}, got {got}"))
    }

    /// An Invalid fault at the current path.
    fn fail(&self, message: String) -> Fault {
        if self.path.is_empty() {
            return Fault::Invalid(message);
        }
        Fault::Invalid(format!("{}: {message}", self.path_text()))
    }

    /// The path, its middle elided past [`MAX_PATH`] steps.
    fn path_text(&self) -> String {
        let mut out = String::new();
        let n = self.path.len();
        for (i, step) in self.path.iter().enumerate() {
            if n > MAX_PATH && i >= MAX_PATH / 2 && i < n - MAX_PATH / 2 {
                if i == MAX_PATH / 2 {
                    out.push('…');
                }
                continue;
            }
            match step {
                Step::Field(name) => field_step(&mut out, name),
                Step::Index(i) => out.push_str(&format!("[{i}]")),
                Step::Key(LuaValue::String(s)) if is_name(&s.as_bytes()) => {
                    field_step(&mut out, &s.to_string_lossy());
                }
                Step::Key(k) => out.push_str(&format!("[{}]", value_text(k))),
            }
        }
        out
    }

    /// Whether `ty`'s outer shape takes values of `v`'s Lua type (contents, literal
    /// values and validators aside); a record takes tables whose literal-typed fields
    /// (tags such as `ok: true`) hold their literal.
    fn fits(&self, ty: &Type, v: &LuaValue, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        match ty {
            Type::Any | Type::Unknown => true,
            Type::Never => false,
            Type::Named(n) => self
                .graph
                .def(n)
                .is_some_and(|d| self.fits(&d.ty, v, depth + 1)),
            Type::Validated(inner, _) => self.fits(inner, v, depth + 1),
            Type::Optional(inner) => v.is_nil() || self.fits(inner, v, depth + 1),
            Type::Union(ms) => ms.iter().any(|m| self.fits(m, v, depth + 1)),
            Type::Intersection(ms) => ms.iter().all(|m| self.fits(m, v, depth + 1)),
            Type::Literal(l) => lua_type(v) == literal_type(l),
            Type::Integer | Type::Number => matches!(v, LuaValue::Integer(_) | LuaValue::Number(_)),
            Type::Nil => v.is_nil(),
            Type::Boolean => matches!(v, LuaValue::Boolean(_)),
            Type::String => matches!(v, LuaValue::String(_)),
            Type::Record(fields) => match v {
                LuaValue::Table(t) => fields.iter().all(|f| match self.graph.unfold(&f.ty) {
                    Type::Literal(l) => {
                        literal_is(l, &t.raw_get(f.name.as_str()).unwrap_or(LuaValue::Nil))
                    }
                    _ => true,
                }),
                _ => false,
            },
            Type::Table | Type::Array(_) | Type::Map(..) => matches!(v, LuaValue::Table(_)),
            Type::Function | Type::Func(_) => matches!(v, LuaValue::Function(_)),
            Type::Primitive(name) => primitive_is(name, v),
        }
    }
}

fn field_step(out: &mut String, name: &str) {
    if !out.is_empty() && !out.ends_with('…') {
        out.push('.');
    }
    out.push_str(name);
}

/// Whether bytes are a Lua name (`[A-Za-z_][A-Za-z0-9_]*`).
fn is_name(b: &[u8]) -> bool {
    b.first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// What Lua's `type(v)` says.
pub fn lua_type(v: &LuaValue) -> &'static str {
    match v {
        LuaValue::Nil => "nil",
        LuaValue::Boolean(_) => "boolean",
        LuaValue::Integer(_) | LuaValue::Number(_) => "number",
        LuaValue::String(_) => "string",
        LuaValue::Table(_) => "table",
        LuaValue::Function(_) => "function",
        LuaValue::Thread(_) => "thread",
        _ => "userdata",
    }
}

fn literal_type(l: &Literal) -> &'static str {
    match l {
        Literal::String(_) => "string",
        Literal::Integer(_) | Literal::Number(_) => "number",
        Literal::Boolean(_) => "boolean",
    }
}

/// Whether `v` is the literal `l`: an integer literal takes integers only, a float one
/// any number of its value.
fn literal_is(l: &Literal, v: &LuaValue) -> bool {
    match (l, v) {
        (Literal::String(a), LuaValue::String(b)) => a.as_slice() == &*b.as_bytes(),
        (Literal::Integer(a), LuaValue::Integer(b)) => a == b,
        (Literal::Number(a), LuaValue::Number(b)) => a == b,
        (Literal::Number(a), LuaValue::Integer(b)) => *a == *b as f64,
        (Literal::Boolean(a), LuaValue::Boolean(b)) => a == b,
        _ => false,
    }
}

fn scalar(v: &LuaValue) -> bool {
    matches!(
        v,
        LuaValue::Boolean(_) | LuaValue::Integer(_) | LuaValue::Number(_) | LuaValue::String(_)
    )
}

fn number(v: &LuaValue) -> Option<f64> {
    match v {
        LuaValue::Integer(i) => Some(*i as f64),
        LuaValue::Number(f) => Some(*f),
        _ => None,
    }
}

/// A string's length in bytes or a table's `#t` (raw).
fn length(v: &LuaValue) -> Option<u64> {
    match v {
        LuaValue::String(s) => Some(s.as_bytes().len() as u64),
        LuaValue::Table(t) => Some(t.raw_len() as u64),
        _ => None,
    }
}

/// A value as a failure shows it: strings quoted (long ones cut), numbers and booleans
/// as Lua prints them, other values by their type.
pub fn value_text(v: &LuaValue) -> String {
    match v {
        LuaValue::String(s) => {
            let bytes = s.as_bytes();
            if bytes.len() <= MAX_QUOTED {
                return text::quote(&bytes);
            }
            let mut cut = MAX_QUOTED;
            while cut > MAX_QUOTED - 3 && bytes[cut] & 0xC0 == 0x80 {
                cut -= 1;
            }
            format!("{}…", text::quote(&bytes[..cut]))
        }
        LuaValue::Integer(i) => i.to_string(),
        LuaValue::Number(f) => text::float(*f),
        LuaValue::Boolean(b) => b.to_string(),
        other => lua_type(other).to_string(),
    }
}

/// Whether `v` is of the primitive type `name`: its `type()` name, or for `error` an
/// error value as the return convention reads one (an error object or a message string).
fn primitive_is(name: &str, v: &LuaValue) -> bool {
    match name {
        "error" => matches!(v, LuaValue::String(_)) || crate::errors::as_error(v).is_some(),
        _ => lua_type(v) == name,
    }
}
