//! `security.token_store(id)` and the TokenStore it returns (reference §4.8, Wippy's
//! security module).
//!
//! `security.token_store(id)` checks `security.token_store.get` on the id (a bare id
//! resolves against the calling entry's namespace) and returns `store, nil` or
//! `nil, err`. The methods check `security.token.{create,validate,revoke}` on the token
//! store id inside the store capability. Failures are error objects:
//!
//! - `create(actor, scope, options?)` → `token` or `nil, err`; `options.expiration` is
//!   a Go duration string (`"1h"`) or a number of **milliseconds** (as Wippy), 0 or
//!   absent for the store's `default_expiration`; `options.meta` is kept with the token.
//! - `validate(token)` → `actor, scope, nil` or `nil, nil, err` (Wippy's three values).
//! - `revoke(token)` → `true` or `nil, err`.
//! - `close()` → `true`; later calls fail with Invalid `token store is closed`.
//!
//! An actor, scope or token argument of the wrong type raises (a bad argument).

use std::sync::Arc;
use std::time::Duration;

use mlua::{Lua, MetaMethod, UserData, UserDataMethods, Value as LuaValue};
use weft_core::{Error, Map, Result, Value};
use weft_store::{TokenOptions, TokenStore};

use crate::modules::security::{LuaActor, LuaScope, as_actor, as_scope, full_id};
use crate::{convert, errors, frame};

/// A TokenStore in Lua; `None` once closed.
struct LuaTokenStore(Option<Arc<TokenStore>>);

/// `security.token_store(id)`.
pub fn get(lua: &Lua, id: LuaValue) -> mlua::Result<(LuaValue, LuaValue)> {
    let id = match &id {
        LuaValue::String(s) => s.to_string_lossy(),
        other => return Err(bad_argument("token_store", 1, "string", other)),
    };
    if id.is_empty() {
        return errors::fail(lua, Error::invalid("token store id is required"));
    }
    let cx = frame::current(lua);
    match frame::store(lua)?.token_store(&cx, &full_id(&cx, &id)) {
        Ok(ts) => Ok((
            LuaValue::UserData(lua.create_userdata(LuaTokenStore(Some(ts)))?),
            LuaValue::Nil,
        )),
        Err(e) => errors::fail(lua, e),
    }
}

impl UserData for LuaTokenStore {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method(
            "create",
            |lua, this, (actor, scope, options): (LuaValue, LuaValue, LuaValue)| {
                let actor = as_actor(&actor).map_err(mlua::Error::external)?;
                let scope = as_scope(&scope).map_err(mlua::Error::external)?;
                let made = token_options(lua, &options).and_then(|options| {
                    this.open()?
                        .create(&frame::current(lua), &actor, &scope, options)
                });
                match made {
                    Ok(token) => Ok((LuaValue::String(lua.create_string(token)?), LuaValue::Nil)),
                    Err(e) => errors::fail(lua, e),
                }
            },
        );
        methods.add_method("validate", |lua, this, token: LuaValue| {
            let token = token_arg("validate", &token)?;
            match this
                .open()
                .and_then(|ts| ts.validate(&frame::current(lua), &token))
            {
                Ok((actor, scope)) => Ok((
                    LuaValue::UserData(lua.create_userdata(LuaActor(actor))?),
                    LuaValue::UserData(lua.create_userdata(LuaScope(scope))?),
                    LuaValue::Nil,
                )),
                Err(e) => Ok((LuaValue::Nil, LuaValue::Nil, errors::push(lua, e)?)),
            }
        });
        methods.add_method("revoke", |lua, this, token: LuaValue| {
            let token = token_arg("revoke", &token)?;
            match this
                .open()
                .and_then(|ts| ts.revoke(&frame::current(lua), &token))
            {
                Ok(()) => Ok((LuaValue::Boolean(true), LuaValue::Nil)),
                Err(e) => errors::fail(lua, e),
            }
        });
        methods.add_method_mut("close", |_, this, ()| {
            this.0 = None;
            Ok(true)
        });
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(match &this.0 {
                Some(ts) => format!("security.TokenStore{{{}}}", ts.id()),
                None => "security.TokenStore{closed}".to_string(),
            })
        });
    }
}

impl LuaTokenStore {
    /// The token store, unless closed.
    fn open(&self) -> Result<&Arc<TokenStore>> {
        self.0
            .as_ref()
            .ok_or_else(|| Error::invalid("token store is closed"))
    }
}

/// `create`'s options: nil or `{expiration = "1h" | ms, meta = {…}}`.
fn token_options(lua: &Lua, v: &LuaValue) -> Result<TokenOptions> {
    let table = match v {
        LuaValue::Nil => return Ok(TokenOptions::default()),
        LuaValue::Table(t) => t,
        other => {
            return Err(Error::invalid(format!(
                "options must be a table, got {}",
                other.type_name()
            )));
        }
    };
    let get =
        |key: &str| -> Result<LuaValue> { table.raw_get(key).map_err(|e| errors::from_mlua(&e)) };
    let expiration = match get("expiration")? {
        LuaValue::Nil => None,
        LuaValue::String(s) => {
            let text = s.to_string_lossy();
            let d = weft_time::parse_std_duration(text.trim())
                .map_err(|e| Error::invalid(format!("invalid expiration {text:?}: {e}")))?;
            Some(d)
        }
        LuaValue::Integer(ms) => Some(millis(ms as f64)?),
        LuaValue::Number(ms) => Some(millis(ms)?),
        other => {
            return Err(Error::invalid(format!(
                "expiration must be a duration string or milliseconds, got {}",
                other.type_name()
            )));
        }
    };
    let meta = match get("meta")? {
        LuaValue::Nil => Map::new(),
        t @ LuaValue::Table(_) => match convert::to_value(lua, &t)? {
            Value::Map(m) => (*m).clone(),
            Value::Array(a) if a.is_empty() => Map::new(),
            _ => return Err(Error::invalid("meta must be a table with string keys")),
        },
        other => {
            return Err(Error::invalid(format!(
                "meta must be a table, got {}",
                other.type_name()
            )));
        }
    };
    Ok(TokenOptions {
        // Zero is the store's default, as in Wippy.
        expiration: expiration.filter(|d| !d.is_zero()),
        meta,
    })
}

/// A number of milliseconds as a duration; negative or not finite is Invalid.
fn millis(ms: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(ms / 1000.0).map_err(|_| {
        Error::invalid(format!(
            "expiration must be a non-negative number of milliseconds, got {ms}"
        ))
    })
}

/// A token argument: a string.
fn token_arg(method: &str, v: &LuaValue) -> mlua::Result<String> {
    match v {
        LuaValue::String(s) => Ok(s.to_string_lossy()),
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
