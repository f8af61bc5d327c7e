//! `ctx`: the context values of the current frame (set by a caller's `with_context`).

use mlua::{Lua, Table, Value as LuaValue};
use weft_core::{Error, Value};

use crate::{convert, errors, frame};

/// Builds the `ctx` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "get",
        lua.create_function(|lua, key: Option<String>| {
            let key = key.unwrap_or_default();
            if key.is_empty() {
                return errors::fail(lua, Error::invalid("context key required"));
            }
            match frame::current(lua).value(&key) {
                Some(v) => Ok((convert::to_lua(lua, v)?, LuaValue::Nil)),
                None => errors::fail(
                    lua,
                    Error::not_found(format!("context value not found: {key}"))
                        .with_retryable(Some(false)),
                ),
            }
        })?,
    )?;
    t.set(
        "all",
        lua.create_function(|lua, ()| {
            let all = Value::map(frame::current(lua).values().clone());
            Ok((convert::to_lua(lua, &all)?, LuaValue::Nil))
        })?,
    )?;
    Ok(t)
}
