//! `store`: key/value stores (`store.memory` entries), reference `store.md`.
//!
//! `store.get(id)` checks `store.get` on the id and returns a Store, or `nil, err` with
//! an error object: Invalid for an empty id or an id that is not a store, PermissionDenied,
//! and Internal for an unknown id (as the reference says; the message is NotFound's
//! `store not found: <id>`). A bare id resolves against the calling entry's namespace.
//!
//! The Store's methods return errors as **strings**, as the reference says:
//! `store is released`, `key is required`, `value is required`, `key not found` (`get`
//! of an unset or expired key) and the permission denial of `store.key.<op>` (checked
//! on the store id with `{key = <key>}` as resource meta). `has` fails as `false, err`,
//! the others as `nil, err`. A key that is not a string or a number, or a `ttl` that is
//! not a number, raises (a bad argument).

use mlua::{Lua, MetaMethod, Table, UserData, UserDataMethods, Value as LuaValue};
use weft_core::{Error, ErrorKind, Result, Value};

use crate::modules::security::full_id;
use crate::{convert, errors, frame};

/// A Store in Lua; `None` once released.
struct LuaStore(Option<weft_store::Store>);

/// Builds the `store` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "get",
        lua.create_function(|lua, id: LuaValue| {
            let id = match &id {
                LuaValue::String(s) => s.to_string_lossy(),
                other => return Err(bad_argument("get", 1, "string", other)),
            };
            if id.is_empty() {
                return errors::fail(lua, Error::invalid("store id is required"));
            }
            let cx = frame::current(lua);
            match frame::store(lua)?.store(&cx, &full_id(&cx, &id)) {
                Ok(store) => Ok((
                    LuaValue::UserData(lua.create_userdata(LuaStore(Some(store)))?),
                    LuaValue::Nil,
                )),
                // The reference gives an unknown store the kind Internal.
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    errors::fail(lua, Error::internal(e.message().to_string()))
                }
                Err(e) => errors::fail(lua, e),
            }
        })?,
    )?;
    Ok(t)
}

impl UserData for LuaStore {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("get", |lua, this, key: LuaValue| {
            let key = key_arg("get", &key)?;
            let found = this.open().and_then(|s| s.get(&frame::current(lua), &key));
            match found {
                Ok(Some(v)) => Ok((convert::to_lua(lua, &v)?, LuaValue::Nil)),
                Ok(None) => fail(lua, LuaValue::Nil, "key not found"),
                Err(e) => fail(lua, LuaValue::Nil, e.message()),
            }
        });
        methods.add_method(
            "set",
            |lua, this, (key, value, ttl): (LuaValue, LuaValue, LuaValue)| {
                let key = key_arg("set", &key)?;
                let ttl = match ttl {
                    LuaValue::Nil => None,
                    LuaValue::Integer(i) => Some(i as f64),
                    LuaValue::Number(n) => Some(n),
                    other => return Err(bad_argument("set", 3, "number", &other)),
                };
                let ttl = match ttl.map(std::time::Duration::try_from_secs_f64) {
                    None => None,
                    Some(Ok(ttl)) => Some(ttl),
                    Some(Err(_)) => {
                        return fail(
                            lua,
                            LuaValue::Nil,
                            "ttl must be a non-negative number of seconds",
                        );
                    }
                };
                let stored = convert::to_value(lua, &value).and_then(|value| {
                    this.open()
                        .and_then(|s| s.set(&frame::current(lua), &key, value, ttl))
                });
                match stored {
                    Ok(()) => Ok((LuaValue::Boolean(true), LuaValue::Nil)),
                    Err(e) => fail(lua, LuaValue::Nil, e.message()),
                }
            },
        );
        methods.add_method("has", |lua, this, key: LuaValue| {
            let key = key_arg("has", &key)?;
            match this.open().and_then(|s| s.has(&frame::current(lua), &key)) {
                Ok(found) => Ok((LuaValue::Boolean(found), LuaValue::Nil)),
                Err(e) => fail(lua, LuaValue::Boolean(false), e.message()),
            }
        });
        methods.add_method("delete", |lua, this, key: LuaValue| {
            let key = key_arg("delete", &key)?;
            match this
                .open()
                .and_then(|s| s.delete(&frame::current(lua), &key))
            {
                Ok(deleted) => Ok((LuaValue::Boolean(deleted), LuaValue::Nil)),
                Err(e) => fail(lua, LuaValue::Nil, e.message()),
            }
        });
        methods.add_method_mut("release", |_, this, ()| {
            this.0 = None;
            Ok(true)
        });
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(match &this.0 {
                Some(s) => format!("store.Store{{{}}}", s.id()),
                None => "store.Store{released}".to_string(),
            })
        });
    }
}

impl LuaStore {
    /// The store, unless released.
    fn open(&self) -> Result<&weft_store::Store> {
        self.0
            .as_ref()
            .ok_or_else(|| Error::invalid("store is released"))
    }
}

/// `first, message`: a Store method's failure, its error a string (reference).
fn fail(lua: &Lua, first: LuaValue, message: &str) -> mlua::Result<(LuaValue, LuaValue)> {
    Ok((first, LuaValue::String(lua.create_string(message)?)))
}

/// A key argument: a string, or a number taken as its text (as Lua's `tostring`).
fn key_arg(method: &str, key: &LuaValue) -> mlua::Result<String> {
    match key {
        LuaValue::String(s) => Ok(s.to_string_lossy()),
        LuaValue::Integer(i) => Ok(i.to_string()),
        LuaValue::Number(n) => Ok(Value::Float(*n).to_display_string()),
        other => Err(bad_argument(method, 1, "string", other)),
    }
}

/// The error a wrong argument type raises.
fn bad_argument(method: &str, n: usize, wanted: &str, got: &LuaValue) -> mlua::Error {
    mlua::Error::external(Error::invalid(format!(
        "bad argument #{n} to '{method}' ({wanted} expected, got {})",
        got.type_name()
    )))
}
