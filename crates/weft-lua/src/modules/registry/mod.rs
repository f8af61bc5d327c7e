//! `registry`: read the app's entries (`get`, `find`, `parse_id`) and change them while
//! the app runs (`snapshot`, `snapshot:changes()`, `changes:apply()`, `current_version`,
//! `versions`, `history`, `apply_version`; the change sets are in `changes`).
//!
//! Every entry returned passes the `registry.get` permission check of the caller, done
//! by the registry itself ([`Registry::read`](weft_registry::Registry::read)).

mod changes;

use mlua::{Lua, Table, Value as LuaValue};
use weft_core::Value;
use weft_registry::Entry;

use crate::{convert, errors, frame};

/// Builds the `registry` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "get",
        lua.create_function(|lua, id: String| {
            let cx = frame::current(lua);
            match frame::runtime(lua)?.registry.read(&cx, &id) {
                Ok(entry) => Ok((entry_table(lua, &entry)?, LuaValue::Nil)),
                Err(e) => errors::fail(lua, e),
            }
        })?,
    )?;
    t.set(
        "find",
        lua.create_function(|lua, filter: Option<Table>| {
            let filter = match filter {
                None => Value::map(Default::default()),
                Some(t) => {
                    convert::to_value(lua, &LuaValue::Table(t)).map_err(mlua::Error::external)?
                }
            };
            let filter = filter.as_map().cloned().unwrap_or_default();
            let cx = frame::current(lua);
            let found = frame::runtime(lua)?.registry.find_visible(&cx, &filter);
            for key in &found.ignored_keys {
                tracing::warn!(
                    target: "weft::lua",
                    "registry.find: filter key {key:?} is ignored (use \".kind\" or \"meta.{key}\")"
                );
            }
            let out = lua.create_table()?;
            for entry in &found.entries {
                out.push(entry_table(lua, entry)?)?;
            }
            Ok((LuaValue::Table(out), LuaValue::Nil))
        })?,
    )?;
    changes::install(lua, &t)?;
    t.set(
        "parse_id",
        lua.create_function(|lua, id: String| {
            let out = lua.create_table()?;
            let (ns, name) = id.split_once(':').unwrap_or(("", id.as_str()));
            out.set("ns", ns)?;
            out.set("name", name)?;
            Ok(out)
        })?,
    )?;
    Ok(t)
}

/// `{id, kind, meta, data}` for an entry.
pub(super) fn entry_table(lua: &Lua, entry: &Entry) -> mlua::Result<LuaValue> {
    let t = lua.create_table()?;
    t.set("id", entry.id.as_str())?;
    t.set("kind", entry.kind.as_str())?;
    t.set(
        "meta",
        convert::to_lua(lua, &Value::map(entry.meta.clone()))?,
    )?;
    t.set("data", convert::to_lua(lua, &entry.data)?)?;
    Ok(LuaValue::Table(t))
}
