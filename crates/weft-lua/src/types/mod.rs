//! Types as runtime values: the Lua side of Wippy's typed dialect (docs/lua.md, "Typed
//! Lua").
//!
//! The front end (crate `weft-lua-types`) erases type annotations and leaves calls to
//! one hidden global, `__weft_type(decl_text, refs)`, which makes a type value from a
//! declaration's text (`Name<G> = T`, or `= T` for the declared type of a local) and the
//! thunks of the names it mentions. A type value validates (`T(v)`, `T:is(v)`), reflects
//! (`T:kind()`, `T:fields()`, …) and compares (`==`, `<=`, `<`). This module installs the
//! globals every VM has: `__weft_type`, `typeof`, the built-in type values (`Number`,
//! `String`, …) and the casts (`string(x)`, `integer(x)`, `number(x)`, `boolean(x)`).
//!
//! Names resolve lazily: a type value is closed (every name resolved, generic aliases
//! instantiated, see [`close`]) the first time it validates, reflects or compares, and
//! keeps that closed form. Parsed declarations are cached per VM by their text.

mod cast;
mod check;
mod close;
mod subtype;
mod text;
mod value;

use std::collections::HashMap;
use std::sync::Arc;

use mlua::{Function, Lua, LuaString, MultiValue, Table, Value as LuaValue};
use regex::bytes::{Regex, RegexBuilder};
use weft_core::Error;
use weft_lua_types::{Type, TypeDecl, Validator};

use crate::errors;

/// The most memory a compiled `@pattern` may take.
const PATTERN_LIMIT: usize = 1 << 20;

/// The most memory the lazy DFA of a `@pattern` may cache while matching.
const PATTERN_DFA_LIMIT: usize = 2 << 20;

/// How many parsed declarations a VM caches (code that makes declarations from
/// generated text must not grow the cache without end).
const DECL_CACHE_LIMIT: usize = 4096;

/// Why a type operation failed.
enum Fault {
    /// The value or the type is wrong: an Invalid error for the script.
    Invalid(String),
    /// Lua itself failed (out of memory, an `__index` that raised).
    Lua(mlua::Error),
}

impl From<mlua::Error> for Fault {
    fn from(e: mlua::Error) -> Self {
        Fault::Lua(e)
    }
}

/// A parsed `type` declaration with its `@pattern`s compiled.
struct Decl {
    decl: TypeDecl,
    patterns: Vec<(String, Regex)>,
}

/// The parsed declarations of a VM, by text.
#[derive(Default)]
struct DeclCache(HashMap<String, Arc<Decl>>);

/// The registry key of the raising wrapper.
const RAISING_KEY: &str = "weft.types.raising";

/// Lua wrapping a `value, err` function into one that raises `err` (an error object
/// stays an object, which a Rust function cannot raise) and returns `value`.
const RAISING: &str = r#"
local error = error
return function(f)
  return function(...)
    local v, e = f(...)
    if e ~= nil then error(e, 0) end
    return v
  end
end
"#;

/// Installs `__weft_type`, `typeof`, the built-in type values and the casts.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let wrap: Function = lua.load(RAISING).set_name("=weft:types").eval()?;
    lua.set_named_registry_value(RAISING_KEY, wrap)?;
    value::install_builtins(lua)?;
    let g = lua.globals();
    g.raw_set("__weft_type", lua.create_function(weft_type)?)?;
    g.raw_set("typeof", lua.create_function(type_of)?)?;
    cast::install(lua)
}

/// `__weft_type(decl_text, refs)`: the type value of a declaration.
fn weft_type(lua: &Lua, (text, refs): (LuaString, Option<Table>)) -> mlua::Result<LuaValue> {
    let text = text.to_str()?.to_string();
    let decl = match parsed(lua, &text) {
        Some(decl) => decl,
        None => {
            let decl = Arc::new(compile(parse(&text)?).map_err(mlua::Error::external)?);
            if let Some(mut cache) = lua.app_data_mut::<DeclCache>() {
                if cache.0.len() < DECL_CACHE_LIMIT {
                    cache.0.insert(text, decl.clone());
                }
            } else {
                lua.set_app_data(DeclCache(HashMap::from([(text, decl.clone())])));
            }
            decl
        }
    };
    value::declared(lua, decl, refs)
}

fn parsed(lua: &Lua, text: &str) -> Option<Arc<Decl>> {
    lua.app_data_ref::<DeclCache>()?.0.get(text).cloned()
}

/// Parses a declaration's text (`Name<G> = T` or `= T`).
fn parse(text: &str) -> mlua::Result<TypeDecl> {
    weft_lua_types::parse_decl(text)
        .map_err(|e| invalid(format!("invalid type declaration {text:?}: {e}")))
}

/// Compiles the `@pattern`s of a declaration (each within the size limits).
fn compile(decl: TypeDecl) -> Result<Decl, Error> {
    let mut patterns = Vec::new();
    collect_patterns(&decl.ty, &mut patterns)?;
    for g in &decl.generics {
        if let Some(c) = &g.constraint {
            collect_patterns(c, &mut patterns)?;
        }
    }
    Ok(Decl { decl, patterns })
}

fn collect_patterns(ty: &Type, out: &mut Vec<(String, Regex)>) -> Result<(), Error> {
    let mut each = |t: &Type| collect_patterns(t, out);
    match ty {
        Type::Validated(inner, validators) => {
            collect_patterns(inner, out)?;
            for v in validators {
                if let Validator::Pattern(p) = v
                    && !out.iter().any(|(have, _)| have == p)
                {
                    out.push((p.clone(), pattern(p)?));
                }
            }
            Ok(())
        }
        Type::Optional(inner) | Type::Array(inner) => each(inner),
        Type::Map(k, v) => {
            each(k)?;
            each(v)
        }
        Type::Union(ms) | Type::Intersection(ms) => ms.iter().try_for_each(each),
        Type::Record(fields) => fields.iter().try_for_each(|f| each(&f.ty)),
        Type::Func(f) => {
            f.params
                .iter()
                .chain(f.variadic.as_deref())
                .chain(&f.returns)
                .try_for_each(&mut each)?;
            f.generics
                .iter()
                .filter_map(|g| g.constraint.as_ref())
                .try_for_each(each)
        }
        Type::Named(n) => n.args.iter().try_for_each(each),
        _ => Ok(()),
    }
}

/// Compiles one `@pattern` (RE2-like syntax, as Go's regexp that Wippy uses).
fn pattern(p: &str) -> Result<Regex, Error> {
    RegexBuilder::new(p)
        .size_limit(PATTERN_LIMIT)
        .dfa_size_limit(PATTERN_DFA_LIMIT)
        .build()
        .map_err(|e| {
            Error::invalid(format!(
                "invalid @pattern({}): {e}",
                text::quote(p.as_bytes())
            ))
        })
}

/// `typeof(x)`: the built-in type of a value; `typeof(x, declared)`: `declared` (the
/// front end passes the declared type of a typed local).
fn type_of(lua: &Lua, args: MultiValue) -> mlua::Result<LuaValue> {
    let mut args = args.into_iter();
    let value = args.next().unwrap_or(LuaValue::Nil);
    if let Some(declared) = args.next().filter(|d| !d.is_nil()) {
        return Ok(declared);
    }
    let ty = match &value {
        LuaValue::Nil => Type::Nil,
        LuaValue::Boolean(_) => Type::Boolean,
        LuaValue::Integer(_) => Type::Integer,
        LuaValue::Number(_) => Type::Number,
        LuaValue::String(_) => Type::String,
        LuaValue::Table(_) => Type::Table,
        LuaValue::Function(_) => Type::Function,
        LuaValue::Thread(_) => Type::Primitive("thread".into()),
        _ => Type::Primitive("userdata".into()),
    };
    value::builtin(lua, &ty)
}

/// The wrapper making a `value, err` function raise `err` (see [`RAISING`]).
fn raising(lua: &Lua) -> mlua::Result<Function> {
    lua.named_registry_value(RAISING_KEY)
}

/// An Invalid, non-retryable error as a raised Lua error.
fn invalid(message: impl Into<String>) -> mlua::Error {
    mlua::Error::external(Error::invalid(message))
}

/// `nil, err` with an Invalid error object.
fn fail(lua: &Lua, message: String) -> mlua::Result<(LuaValue, LuaValue)> {
    errors::fail(lua, Error::invalid(message))
}

#[cfg(test)]
mod reflect_tests;
#[cfg(test)]
mod tests;
