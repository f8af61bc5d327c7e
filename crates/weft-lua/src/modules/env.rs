//! `env`: read and write `env.variable` entries (`get`, `set`).
//!
//! A name is a variable's public name or its entry id; a bare id resolves against the
//! calling entry's namespace. The env capability checks `env.get` / `env.set` on the name
//! in the caller's context first: a denied call reads and writes nothing. Failures come
//! back as `nil, err`, never raised.

use mlua::{Lua, Table, Value as LuaValue};
use weft_core::{Error, Result};

use crate::{errors, frame};

/// Builds the `env` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "get",
        lua.create_function(|lua, name: LuaValue| {
            let name = match text(&name, "name") {
                Ok(name) => name,
                Err(e) => return errors::fail(lua, e),
            };
            match frame::env(lua)?.get(&frame::current(lua), &name) {
                Ok(Some(value)) => Ok((LuaValue::String(lua.create_string(value)?), LuaValue::Nil)),
                Ok(None) => Ok((LuaValue::Nil, LuaValue::Nil)),
                Err(e) => errors::fail(lua, e),
            }
        })?,
    )?;
    t.set(
        "set",
        lua.create_function(|lua, (name, value): (LuaValue, LuaValue)| {
            let args = text(&name, "name").and_then(|n| Ok((n, text(&value, "value")?)));
            let (name, value) = match args {
                Ok(args) => args,
                Err(e) => return errors::fail(lua, e),
            };
            match frame::env(lua)?.set(&frame::current(lua), &name, &value) {
                Ok(()) => Ok((LuaValue::Boolean(true), LuaValue::Nil)),
                Err(e) => errors::fail(lua, e),
            }
        })?,
    )?;
    Ok(t)
}

/// A string argument (numbers are taken as their Lua text); anything else is Invalid.
fn text(value: &LuaValue, what: &str) -> Result<String> {
    match value {
        LuaValue::String(s) => s
            .to_str()
            .map(|s| s.to_string())
            .map_err(|_| Error::invalid(format!("env {what} must be UTF-8 text"))),
        LuaValue::Integer(i) => Ok(i.to_string()),
        LuaValue::Number(n) => Ok(weft_core::Value::Float(*n).to_display_string()),
        other => Err(Error::invalid(format!(
            "env {what} must be a string, got {}",
            other.type_name()
        ))),
    }
}
