//! The type value: a userdata that validates (`T(v)`, `T:is(v)`), reflects (`T:kind()`,
//! `T:fields()`, `T.field`, …), compares (`==`, `<=`, `<`) and prints (`tostring`).
//!
//! A declared value keeps its parsed declaration, with its `refs` thunks as the
//! userdata's user value (so Lua's collector sees them: a declaration run in a loop
//! leaves nothing behind), and closes on first use; a value got by reflection is closed
//! from the start. The built-in type values are one userdata each per VM, so they work
//! as table keys (`handlers[typeof(v)]`).
//!
//! `T.key` is the type of the record field `key` when `T` is a record (or an
//! intersection of records) with that field, else the method `key`: a field shadows a
//! method of the same name, and the method is still reached through any other type
//! value (`Any.kind(User)`); `T:field(name)` always gives a field.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use mlua::{
    AnyUserData, Function, Lua, MetaMethod, MultiValue, Table, UserData, UserDataFields,
    UserDataMethods, Value as LuaValue,
};
use weft_lua_types::{Field, Type};

use super::close::{self, Closed, Graph};
use super::subtype::{equal, is_subtype};
use super::{Decl, Fault, check, fail, invalid, raising, text};

/// The registry key of the built-in type values (by their text).
const BUILTINS: &str = "weft.types.builtins";

/// The registry key of the methods table.
const METHODS: &str = "weft.types.methods";

/// The globals of the built-in type values.
const GLOBALS: &[(&str, Type)] = &[
    ("Number", Type::Number),
    ("Integer", Type::Integer),
    ("String", Type::String),
    ("Boolean", Type::Boolean),
    ("Nil", Type::Nil),
    ("Any", Type::Any),
    ("Unknown", Type::Unknown),
    ("Never", Type::Never),
    ("Table", Type::Table),
    ("Function", Type::Function),
];

/// The built-in types without a global (reached by `typeof`).
const OTHER_BUILTINS: &[&str] = &["thread", "userdata"];

/// A type value.
pub enum TypeValue {
    /// Made from a declaration; closed on first use.
    Declared {
        /// The parsed declaration.
        decl: Arc<Decl>,
        /// Its closed form, once made.
        closed: OnceLock<Arc<Closed>>,
    },
    /// A built-in or reflected type, closed from the start.
    Closed(Arc<Closed>),
}

impl TypeValue {
    /// Its closed form, if made.
    pub fn cached(&self) -> Option<Arc<Closed>> {
        match self {
            TypeValue::Declared { closed, .. } => closed.get().cloned(),
            TypeValue::Closed(c) => Some(c.clone()),
        }
    }

    fn closed(graph: Arc<Graph>, root: Type) -> TypeValue {
        TypeValue::Closed(Arc::new(Closed { graph, root }))
    }
}

/// `T(v)` is `T:is(v)` raising its error.
impl UserData for TypeValue {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_meta_field_with("__call", |lua| {
            raising(lua)?.call::<Function>(lua.create_function(is)?)
        });
    }

    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_meta_function(MetaMethod::Index, index);
        m.add_meta_function(MetaMethod::Eq, |_, (a, b): (LuaValue, LuaValue)| {
            compare(&a, &b, Op::Eq)
        });
        m.add_meta_function(MetaMethod::Le, |_, (a, b): (LuaValue, LuaValue)| {
            compare(&a, &b, Op::Le)
        });
        m.add_meta_function(MetaMethod::Lt, |_, (a, b): (LuaValue, LuaValue)| {
            compare(&a, &b, Op::Lt)
        });
        m.add_meta_method(MetaMethod::ToString, |_, this, ()| Ok(shown(this)));
    }
}

/// Makes the built-in type values the first time a global of one is read: a metatable
/// on `_G` whose `__index` builds them all, so a VM whose code never uses them never
/// pays for them (the type value's userdata metatable is what costs).
pub fn install_builtins(lua: &Lua) -> mlua::Result<()> {
    let lazy = lua.create_table()?;
    lazy.raw_set(
        "__index",
        lua.create_function(|lua, (g, key): (Table, LuaValue)| {
            let LuaValue::String(name) = &key else {
                return Ok(LuaValue::Nil);
            };
            if !GLOBALS
                .iter()
                .any(|(n, _)| n.as_bytes() == &*name.as_bytes())
            {
                return Ok(LuaValue::Nil);
            }
            ensure_builtins(lua)?;
            g.raw_get(key)
        })?,
    )?;
    lua.globals().set_metatable(Some(lazy))?;
    Ok(())
}

/// Builds the built-in type values and binds their globals, once per VM.
fn ensure_builtins(lua: &Lua) -> mlua::Result<()> {
    if !lua.named_registry_value::<LuaValue>(BUILTINS)?.is_nil() {
        return Ok(());
    }
    let table = lua.create_table_with_capacity(0, GLOBALS.len() + OTHER_BUILTINS.len())?;
    let g = lua.globals();
    let graph = Arc::new(Graph::default());
    let others = OTHER_BUILTINS
        .iter()
        .map(|name| (None, Type::Primitive(name.to_string())));
    for (global, ty) in GLOBALS
        .iter()
        .map(|(g, t)| (Some(*g), t.clone()))
        .chain(others)
    {
        let ud = lua.create_userdata(TypeValue::closed(graph.clone(), ty.clone()))?;
        table.raw_set(builtin_text(&ty), &ud)?;
        if let Some(global) = global {
            g.raw_set(global, &ud)?;
        }
    }
    lua.set_named_registry_value(BUILTINS, table)
}

/// The text of a built-in type, if `ty` is one.
fn builtin_text(ty: &Type) -> Option<&str> {
    Some(match ty {
        Type::Number => "number",
        Type::Integer => "integer",
        Type::String => "string",
        Type::Boolean => "boolean",
        Type::Nil => "nil",
        Type::Any => "any",
        Type::Unknown => "unknown",
        Type::Never => "never",
        Type::Table => "table",
        Type::Function => "function",
        Type::Primitive(name) if ["thread", "userdata", "error"].contains(&name.as_str()) => name,
        _ => return None,
    })
}

/// The built-in type value of `ty` (which must be one).
pub fn builtin(lua: &Lua, ty: &Type) -> mlua::Result<LuaValue> {
    ensure_builtins(lua)?;
    let builtins: Table = lua.named_registry_value(BUILTINS)?;
    builtins.raw_get(builtin_text(ty).unwrap_or("any"))
}

/// The type value of a declaration, its names looked up in `refs`.
pub fn declared(lua: &Lua, decl: Arc<Decl>, refs: Option<Table>) -> mlua::Result<LuaValue> {
    if decl.decl.name.is_empty() && builtin_text(&decl.decl.ty).is_some() {
        return builtin(lua, &decl.decl.ty);
    }
    let ud = lua.create_userdata(TypeValue::Declared {
        decl,
        closed: OnceLock::new(),
    })?;
    if let Some(refs) = refs {
        ud.set_user_value(refs)?;
    }
    Ok(LuaValue::UserData(ud))
}

/// The type value of `ty` in `graph` (a built-in one when it is one).
fn make(lua: &Lua, graph: &Arc<Graph>, ty: &Type) -> mlua::Result<LuaValue> {
    if builtin_text(ty).is_some() {
        return builtin(lua, ty);
    }
    lua.create_userdata(TypeValue::closed(graph.clone(), ty.clone()))
        .map(LuaValue::UserData)
}

/// The closed form of `ud`, made and kept on first use; `Err` with a message for a type
/// that cannot be closed.
fn resolve(ud: &AnyUserData) -> mlua::Result<Result<Arc<Closed>, String>> {
    if let Some(closed) = ud.borrow::<TypeValue>()?.cached() {
        return Ok(Ok(closed));
    }
    let closed = match close::close(ud)? {
        Ok(closed) => Arc::new(closed),
        Err(message) => return Ok(Err(message)),
    };
    Ok(Ok(match &*ud.borrow::<TypeValue>()? {
        TypeValue::Declared { closed: cell, .. } => cell.get_or_init(|| closed).clone(),
        TypeValue::Closed(c) => c.clone(),
    }))
}

/// The closed form of `ud`, raising an Invalid error if it cannot be closed.
fn closed_of(ud: &AnyUserData) -> mlua::Result<Arc<Closed>> {
    resolve(ud)?.map_err(invalid)
}

/// `T:is(v)`: `v, nil` if `v` is a value of `T`, else `nil, err` (Invalid).
fn is(lua: &Lua, (ud, v): (AnyUserData, LuaValue)) -> mlua::Result<(LuaValue, LuaValue)> {
    let closed = match resolve(&ud)? {
        Ok(closed) => closed,
        Err(message) => return fail(lua, message),
    };
    match check::check(&closed.graph, &closed.root, &v) {
        Ok(()) => Ok((v, LuaValue::Nil)),
        Err(Fault::Invalid(message)) => fail(lua, message),
        Err(Fault::Lua(e)) => Err(e),
    }
}

/// `T.key`: a record field's type, else a method (see the module doc).
fn index(lua: &Lua, (ud, key): (AnyUserData, LuaValue)) -> mlua::Result<LuaValue> {
    let method: LuaValue = methods(lua)?.raw_get(&key)?;
    if let LuaValue::String(name) = &key {
        match resolve(&ud)? {
            Ok(closed) => {
                let name = name.to_string_lossy();
                if let Some(f) = fields(&closed).into_iter().find(|f| f.name == name) {
                    return make(lua, &closed.graph, &f.ty);
                }
            }
            Err(message) if method.is_nil() => return Err(invalid(message)),
            Err(_) => {}
        }
    }
    Ok(method)
}

/// The methods table, made on first use.
fn methods(lua: &Lua) -> mlua::Result<Table> {
    if let LuaValue::Table(t) = lua.named_registry_value::<LuaValue>(METHODS)? {
        return Ok(t);
    }
    let t = lua.create_table()?;
    t.raw_set("is", lua.create_function(is)?)?;
    t.raw_set(
        "kind",
        lua.create_function(|_, ud: AnyUserData| {
            let c = closed_of(&ud)?;
            Ok(kind(&c.graph, &c.root))
        })?,
    )?;
    t.raw_set(
        "name",
        lua.create_function(|_, ud: AnyUserData| {
            let c = closed_of(&ud)?;
            Ok(match &c.root {
                Type::Named(n) => c.graph.def(n).map(|d| d.alias.clone()),
                _ => None,
            })
        })?,
    )?;
    t.raw_set("fields", lua.create_function(fields_iter)?)?;
    t.raw_set(
        "field",
        lua.create_function(|lua, (ud, name): (AnyUserData, String)| {
            let c = closed_of(&ud)?;
            match fields(&c).into_iter().find(|f| f.name == name) {
                Some(f) => make(lua, &c.graph, &f.ty),
                None => Ok(LuaValue::Nil),
            }
        })?,
    )?;
    for part in ["elem", "key", "val", "inner"] {
        t.raw_set(
            part,
            lua.create_function(move |lua, ud: AnyUserData| {
                let c = closed_of(&ud)?;
                let ty = match (part, c.graph.unfold(&c.root)) {
                    ("elem", Type::Array(t)) | ("key", Type::Map(t, _)) => t,
                    ("val", Type::Map(_, t)) | ("inner", Type::Optional(t)) => t,
                    _ => return Err(wrong_kind(part, &c.graph, &c.root)),
                };
                make(lua, &c.graph, ty)
            })?,
        )?;
    }
    t.raw_set("variants", lua.create_function(variants)?)?;
    t.raw_set("params", lua.create_function(params)?)?;
    t.raw_set(
        "ret",
        lua.create_function(|lua, ud: AnyUserData| {
            let c = closed_of(&ud)?;
            match c.graph.unfold(&c.root) {
                Type::Func(f) => f
                    .returns
                    .iter()
                    .map(|t| make(lua, &c.graph, t))
                    .collect::<mlua::Result<MultiValue>>(),
                _ => Err(wrong_kind("ret", &c.graph, &c.root)),
            }
        })?,
    )?;
    lua.set_named_registry_value(METHODS, &t)?;
    Ok(t)
}

/// The kind of a type: `"number"`, `"record"`, `"optional"`, … (through names and
/// validators).
fn kind(graph: &Graph, ty: &Type) -> String {
    match graph.unfold(ty) {
        Type::Any => "any",
        Type::Unknown => "unknown",
        Type::Never => "never",
        Type::Nil => "nil",
        Type::Boolean => "boolean",
        Type::Number => "number",
        Type::Integer => "integer",
        Type::String => "string",
        Type::Table => "table",
        Type::Function | Type::Func(_) => "function",
        Type::Primitive(name) => return name.clone(),
        Type::Literal(_) => "literal",
        Type::Optional(_) => "optional",
        Type::Union(_) => "union",
        Type::Intersection(_) => "intersection",
        Type::Record(_) => "record",
        Type::Array(_) => "array",
        Type::Map(..) => "map",
        Type::Named(_) | Type::Validated(..) => "unknown",
    }
    .to_string()
}

fn wrong_kind(method: &str, graph: &Graph, ty: &Type) -> mlua::Error {
    let wanted = match method {
        "elem" => "an array",
        "key" | "val" => "a map",
        "inner" => "an optional",
        "variants" => "a union or optional",
        "fields" => "a record",
        _ => "a function",
    };
    invalid(format!(
        "{method}() needs {wanted} type, got {} ({})",
        graph.show(ty),
        kind(graph, ty)
    ))
}

/// The fields of a record, or of an intersection of records (the first of a name wins),
/// in declared order; none for other types.
fn fields(closed: &Closed) -> Vec<&Field> {
    let mut out: Vec<&Field> = Vec::new();
    collect_fields(&closed.graph, &closed.root, &mut out, 0);
    out
}

fn collect_fields<'a>(graph: &'a Graph, ty: &'a Type, out: &mut Vec<&'a Field>, depth: usize) {
    if depth > close::MAX_DEPTH {
        return;
    }
    match graph.unfold(ty) {
        Type::Record(fs) => {
            for f in fs {
                if !out.iter().any(|have| have.name == f.name) {
                    out.push(f);
                }
            }
        }
        Type::Intersection(ms) => {
            for m in ms {
                collect_fields(graph, m, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// `T:fields()`: an iterator of field name and type.
fn fields_iter(lua: &Lua, ud: AnyUserData) -> mlua::Result<Function> {
    let c = closed_of(&ud)?;
    if !matches!(
        c.graph.unfold(&c.root),
        Type::Record(_) | Type::Intersection(_)
    ) {
        return Err(wrong_kind("fields", &c.graph, &c.root));
    }
    let list: Vec<(String, Type)> = fields(&c)
        .into_iter()
        .map(|f| (f.name.clone(), f.ty.clone()))
        .collect();
    iterate(
        lua,
        c.graph.clone(),
        list.into_iter().map(|(n, t)| (Some(n), t)).collect(),
    )
}

/// `T:variants()`: an iterator of the members of a union (`T?` gives `T` and `nil`).
fn variants(lua: &Lua, ud: AnyUserData) -> mlua::Result<Function> {
    let c = closed_of(&ud)?;
    let members = match c.graph.unfold(&c.root) {
        Type::Union(ms) => ms.clone(),
        Type::Optional(inner) => vec![(**inner).clone(), Type::Nil],
        _ => return Err(wrong_kind("variants", &c.graph, &c.root)),
    };
    iterate(
        lua,
        c.graph.clone(),
        members.into_iter().map(|t| (None, t)).collect(),
    )
}

/// `T:params()`: an iterator of a function type's parameter types.
fn params(lua: &Lua, ud: AnyUserData) -> mlua::Result<Function> {
    let c = closed_of(&ud)?;
    let list = match c.graph.unfold(&c.root) {
        Type::Func(f) => f.params.clone(),
        _ => return Err(wrong_kind("params", &c.graph, &c.root)),
    };
    iterate(
        lua,
        c.graph.clone(),
        list.into_iter().map(|t| (None, t)).collect(),
    )
}

/// An iterator function giving each item's type value (after its name, if it has one).
fn iterate(
    lua: &Lua,
    graph: Arc<Graph>,
    items: Vec<(Option<String>, Type)>,
) -> mlua::Result<Function> {
    let mut items = items.into_iter();
    lua.create_function_mut(move |lua, ()| {
        let mut out = MultiValue::new();
        if let Some((name, ty)) = items.next() {
            if let Some(name) = name {
                out.push_back(LuaValue::String(lua.create_string(name)?));
            }
            out.push_back(make(lua, &graph, &ty)?);
        }
        Ok(out)
    })
}

#[derive(Clone, Copy)]
enum Op {
    Eq,
    Le,
    Lt,
}

/// `a == b` (the same type), `a <= b` (a subtype), `a < b` (a strict subtype).
fn compare(a: &LuaValue, b: &LuaValue, op: Op) -> mlua::Result<bool> {
    let (Some(ua), Some(ub)) = (type_value(a), type_value(b)) else {
        return match op {
            Op::Eq => Ok(false),
            Op::Le | Op::Lt => Err(invalid(format!(
                "attempt to compare {} with {}",
                value_kind(a),
                value_kind(b)
            ))),
        };
    };
    let (ca, cb) = (closed_of(ua)?, closed_of(ub)?);
    let merged;
    let (graph, ra, rb): (&Graph, Cow<'_, Type>, Cow<'_, Type>) =
        if Arc::ptr_eq(&ca.graph, &cb.graph) {
            (&ca.graph, Cow::Borrowed(&ca.root), Cow::Borrowed(&cb.root))
        } else {
            let (g, ra, rb) = close::merge(&ca, &cb);
            merged = g;
            (&merged, Cow::Owned(ra), Cow::Owned(rb))
        };
    Ok(match op {
        Op::Eq => equal(&ra, &rb, graph),
        Op::Le => is_subtype(&ra, &rb, graph),
        Op::Lt => is_subtype(&ra, &rb, graph) && !is_subtype(&rb, &ra, graph),
    })
}

fn type_value(v: &LuaValue) -> Option<&AnyUserData> {
    match v {
        LuaValue::UserData(ud) if ud.is::<TypeValue>() => Some(ud),
        _ => None,
    }
}

fn value_kind(v: &LuaValue) -> &'static str {
    if type_value(v).is_some() {
        "a type"
    } else {
        check::lua_type(v)
    }
}

/// `tostring(T)`: an alias' name, else the type's text.
fn shown(tv: &TypeValue) -> String {
    match tv {
        TypeValue::Declared { decl, .. } if !decl.decl.name.is_empty() => decl.decl.name.clone(),
        TypeValue::Declared { decl, .. } => text::render(&decl.decl.ty, &|n| n.path.join(".")),
        TypeValue::Closed(c) => c.graph.show(&c.root),
    }
}

#[cfg(test)]
mod lazy_tests {
    use super::*;

    #[test]
    fn built_in_values_are_made_when_code_first_reads_one() {
        let lua = Lua::new();
        crate::types::install(&lua).unwrap();
        let built = |lua: &Lua| {
            !lua.named_registry_value::<LuaValue>(BUILTINS)
                .unwrap()
                .is_nil()
        };
        lua.load("local x = undefined_name; local y = math.pi")
            .exec()
            .unwrap();
        assert!(!built(&lua), "untyped code built the type values");
        let same: bool = lua
            .load("return Number == rawget(_G, 'Number')")
            .eval()
            .unwrap();
        assert!(same && built(&lua));
    }
}
