//! Live changes from Lua (Wippy's registry versioning API):
//!
//! ```lua
//! local snap = registry.snapshot()            -- the entries at the current version
//! local changes = snap:changes()
//! changes:create({id = "app:x", kind = "function.lua", meta = {}, data = {...}})
//! changes:update({id = "app:y", kind = "function.lua", data = {...}})
//! changes:delete("app:z")
//! local version, err = changes:apply()       -- all or nothing; err names every problem
//! registry.current_version(); registry.versions(); registry.history()
//! registry.apply_version(version)            -- back to the entries of an earlier version
//! registry.snapshot_at(version)              -- the entries of a kept version
//! ```
//!
//! `changes:apply()` checks `registry.apply` and `registry.apply_version(v)` checks
//! `registry.apply_version`, both on the resource `""` (as in Wippy).

use std::sync::Arc;
use std::time::UNIX_EPOCH;

use mlua::{Lua, Table, UserData, UserDataMethods, Value as LuaValue};
use parking_lot::Mutex;
use weft_core::{EntryId, Error, Map, Value};
use weft_registry::{ChangeSet, Entry, LoadErrors, Snapshot, Source, Version};

use super::entry_table;
use crate::modules::args;
use crate::{convert, errors, frame};

/// `registry.snapshot()`: the entries at one version.
struct LuaSnapshot(Snapshot);

/// `snapshot:changes()`: changes collected until `apply`.
struct LuaChanges(Mutex<ChangeSet>);

/// Adds `snapshot`, `current_version`, `versions`, `history` and `apply_version` to the
/// module table `t`.
pub(super) fn install(lua: &Lua, t: &Table) -> mlua::Result<()> {
    t.set(
        "snapshot",
        lua.create_function(|lua, ()| {
            let snapshot = frame::runtime(lua)?.registry.snapshot();
            lua.create_userdata(LuaSnapshot(snapshot))
        })?,
    )?;
    t.set(
        "snapshot_at",
        lua.create_async_function(|lua, number: LuaValue| async move {
            let snapshot = match version_number("registry.snapshot_at", number) {
                Ok(n) => frame::runtime(&lua)?
                    .registry
                    .snapshot_at(n)
                    .await
                    .ok_or_else(|| Error::not_found(format!("version {n} is not in the history"))),
                Err(e) => Err(e),
            };
            args::reply(&lua, snapshot, |s| {
                lua.create_userdata(LuaSnapshot(s)).map(LuaValue::UserData)
            })
        })?,
    )?;
    t.set(
        "current_version",
        lua.create_function(|lua, ()| Ok(frame::runtime(lua)?.registry.current_version()))?,
    )?;
    t.set(
        "versions",
        lua.create_async_function(|lua, ()| async move {
            let versions = frame::runtime(&lua)?.registry.versions().await;
            lua.create_sequence_from(versions)
        })?,
    )?;
    t.set(
        "history",
        lua.create_async_function(|lua, ()| async move {
            let history = frame::runtime(&lua)?.registry.history().await;
            let out = lua.create_table()?;
            for version in &history {
                out.push(version_table(&lua, version)?)?;
            }
            Ok(out)
        })?,
    )?;
    t.set(
        "apply_version",
        lua.create_async_function(|lua, number: LuaValue| async move {
            let result = apply_version(&lua, number).await;
            args::reply(&lua, result, |v| Ok(LuaValue::Integer(v as i64)))
        })?,
    )?;
    Ok(())
}

impl UserData for LuaSnapshot {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("version", |_, this, ()| Ok(this.0.version));
        methods.add_method("get", |lua, this, id: String| {
            let cx = frame::current(lua);
            let found = cx.check("registry.get", &id).and_then(|()| {
                this.0
                    .get(&id)
                    .ok_or_else(|| Error::not_found(format!("entry not found: {id}")))
            });
            args::reply(lua, found, |e| entry_table(lua, &e))
        });
        methods.add_method("entries", |lua, this, ()| {
            let cx = frame::current(lua);
            let out = lua.create_table()?;
            for entry in this.0.all() {
                if cx.check("registry.get", entry.id.as_str()).is_ok() {
                    out.push(entry_table(lua, &entry)?)?;
                }
            }
            Ok(out)
        });
        methods.add_method("changes", |lua, _, ()| {
            lua.create_userdata(LuaChanges(Mutex::new(ChangeSet::new())))
        });
    }
}

impl UserData for LuaChanges {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_function(
            "create",
            |lua, (this, entry): (mlua::AnyUserData, LuaValue)| {
                let entry =
                    lua_entry(lua, "changes:create", &entry).map_err(mlua::Error::external)?;
                this.borrow::<LuaChanges>()?.0.lock().create(entry);
                Ok(this)
            },
        );
        methods.add_function(
            "update",
            |lua, (this, entry): (mlua::AnyUserData, LuaValue)| {
                let entry =
                    lua_entry(lua, "changes:update", &entry).map_err(mlua::Error::external)?;
                this.borrow::<LuaChanges>()?.0.lock().update(entry);
                Ok(this)
            },
        );
        methods.add_function(
            "delete",
            |_, (this, target): (mlua::AnyUserData, LuaValue)| {
                let id = target_id(&target).map_err(mlua::Error::external)?;
                this.borrow::<LuaChanges>()?.0.lock().delete(id);
                Ok(this)
            },
        );
        methods.add_method("ops", |_, this, ()| Ok(this.0.lock().changes().len()));
        methods.add_async_method("apply", |lua, this, ()| async move {
            let changes = std::mem::take(&mut *this.0.lock());
            let result = apply(&lua, changes).await;
            args::reply(&lua, result, |v| Ok(LuaValue::Integer(v as i64)))
        });
    }
}

/// Applies `changes` for the caller: `registry.apply` checked first.
async fn apply(lua: &Lua, changes: ChangeSet) -> Result<u64, Error> {
    frame::current(lua).check("registry.apply", "")?;
    let rt = frame::runtime(lua).map_err(|e| errors::from_mlua(&e))?;
    let version = rt.registry.apply(changes, "lua").await.map_err(problems)?;
    Ok(version.number)
}

/// `registry.apply_version(v)` for the caller: `registry.apply_version` checked first.
async fn apply_version(lua: &Lua, number: LuaValue) -> Result<u64, Error> {
    frame::current(lua).check("registry.apply_version", "")?;
    let number = version_number("registry.apply_version", number)?;
    let rt = frame::runtime(lua).map_err(|e| errors::from_mlua(&e))?;
    let version = rt.registry.apply_version(number).await.map_err(problems)?;
    Ok(version.number)
}

/// A version number argument of `func`: a positive integer.
fn version_number(func: &str, number: LuaValue) -> Result<u64, Error> {
    match number {
        LuaValue::Integer(n) if n > 0 => Ok(n as u64),
        LuaValue::Number(n) if n.fract() == 0.0 && n > 0.0 => Ok(n as u64),
        other => Err(Error::invalid(format!(
            "{func}: version must be a positive integer, got {}",
            other.type_name()
        ))),
    }
}

/// A rejected change set as one error: every problem on its own line, and as a list in
/// `details.problems`.
fn problems(errors: LoadErrors) -> Error {
    let list: Vec<Value> = errors.iter().map(|e| Value::from(e.to_string())).collect();
    let mut details = Map::new();
    details.insert("problems".to_string(), Value::Array(Arc::new(list)));
    Error::invalid(format!("registry changes rejected:\n{errors}"))
        .with_details(Some(Value::map(details)))
}

/// An entry from a Lua table `{id = "ns:name", kind = "…", meta = {…}, data = {…}}`.
fn lua_entry(lua: &Lua, func: &str, v: &LuaValue) -> Result<Entry, Error> {
    let table = args::table(func, "entry", v)?;
    let id: String = table
        .get::<Option<String>>("id")
        .ok()
        .flatten()
        .ok_or_else(|| Error::invalid(format!("{func}: entry.id must be a string \"ns:name\"")))?;
    let id = EntryId::parse(&id).map_err(|e| Error::invalid(format!("{func}: entry.id: {e}")))?;
    let kind: String = table
        .get::<Option<String>>("kind")
        .ok()
        .flatten()
        .filter(|k| !k.is_empty())
        .ok_or_else(|| Error::invalid(format!("{func}: entry.kind must be a non-empty string")))?;
    let mut entry = Entry::new(id, kind);
    entry.source = Source {
        file: "(registry change from Lua)".into(),
        line: None,
    };
    for (field, map) in [("meta", true), ("data", false)] {
        let value: LuaValue = table.get(field).map_err(|e| errors::from_mlua(&e))?;
        let value = match value {
            LuaValue::Nil => continue,
            LuaValue::Table(_) => convert::to_value(lua, &value)
                .map_err(|e| Error::invalid(format!("{func}: entry.{field}: {e}")))?,
            other => {
                return Err(Error::invalid(format!(
                    "{func}: entry.{field} must be a table, got {}",
                    other.type_name()
                )));
            }
        };
        // An empty Lua table converts to an empty list: both mean "no fields".
        let fields = match value {
            Value::Map(m) => (*m).clone(),
            Value::Array(a) if a.is_empty() => Map::new(),
            _ => {
                return Err(Error::invalid(format!(
                    "{func}: entry.{field} must be a table of named fields"
                )));
            }
        };
        if map {
            entry.meta = fields;
        } else {
            entry.data = Value::map(fields);
        }
    }
    Ok(entry)
}

/// The id `changes:delete` names: an id string, or an entry table with its `id`.
fn target_id(v: &LuaValue) -> Result<EntryId, Error> {
    let text = match v {
        LuaValue::String(s) => s.to_str().map(|s| s.to_string()).ok(),
        LuaValue::Table(t) => t.get::<Option<String>>("id").ok().flatten(),
        _ => None,
    };
    let text = text.ok_or_else(|| {
        Error::invalid("changes:delete takes an entry id (\"ns:name\") or an entry table")
    })?;
    EntryId::parse(&text).map_err(|e| Error::invalid(format!("changes:delete: {e}")))
}

/// `{version, origin, time, created, updated, deleted, rebuilt}` for a history record.
fn version_table(lua: &Lua, v: &Version) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("version", v.number)?;
    t.set("origin", v.origin.as_str())?;
    let time =
        v.at.duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
    t.set("time", time)?;
    for (name, ids) in [
        ("created", &v.created),
        ("updated", &v.updated),
        ("deleted", &v.deleted),
        ("rebuilt", &v.rebuilt),
    ] {
        t.set(
            name,
            lua.create_sequence_from(ids.iter().map(EntryId::as_str))?,
        )?;
    }
    Ok(t)
}
