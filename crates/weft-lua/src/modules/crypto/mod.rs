//! The `crypto` module: secure random bytes, strings and UUIDs (`random`), HMAC digests
//! (`hmac`), AES-GCM and ChaCha20-Poly1305 (`encrypt`, `decrypt`), JWTs (`jwt`), PBKDF2
//! (`pbkdf2`) and `constant_time_compare`.
//!
//! Conventions: a failure is `nil, err` with kind Invalid (bad input, an argument of the
//! wrong type included) or Internal (a cryptographic failure: a tampered ciphertext, a
//! bad token), never retryable; nothing is raised. A number passes for a string, as its
//! text. Work on inputs past [`INLINE_COST`]
//! bytes, PBKDF2 and RSA signatures run on tokio's blocking pool, so a big input never
//! holds a runtime worker. Every algorithm comes from a crate (RustCrypto, `ring` through
//! `jsonwebtoken`); this module only checks arguments and frames data.

mod aead;
mod jwt;
mod kdf;
mod mac;
mod random;

use mlua::{Lua, Table, Value as LuaValue};
use weft_core::Error;

use super::args::{internal, reply_bytes};
use crate::errors;

/// Work up to this many bytes runs on the calling thread; more goes to the blocking pool.
const INLINE_COST: usize = 64 * 1024;

/// Builds the `crypto` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("random", random::module(lua)?)?;
    t.set("hmac", mac::module(lua)?)?;
    t.set("encrypt", aead::encrypt_module(lua)?)?;
    t.set("decrypt", aead::decrypt_module(lua)?)?;
    t.set("jwt", jwt::module(lua)?)?;
    t.set("pbkdf2", lua.create_async_function(kdf::pbkdf2)?)?;
    t.set(
        "constant_time_compare",
        lua.create_function(mac::constant_time_compare)?,
    )?;
    Ok(t)
}

/// Runs `work` here when `cost` (about the bytes it processes) is small, else on tokio's
/// blocking pool.
async fn offload<T, F>(cost: usize, work: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    if cost <= INLINE_COST {
        return Ok(work());
    }
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| internal(format!("crypto worker failed: {e}")))
}

/// Argument `n` of `func` as a string; a number passes as its text, anything else is
/// Invalid.
fn string_arg(lua: &Lua, func: &str, n: usize, v: LuaValue) -> Result<mlua::LuaString, Error> {
    match v {
        LuaValue::String(s) => Ok(s),
        LuaValue::Integer(_) | LuaValue::Number(_) => lua
            .coerce_string(v.clone())
            .map_err(|e| errors::from_mlua(&e))?
            .ok_or_else(|| bad_argument(func, n, "string", &v)),
        other => Err(bad_argument(func, n, "string", &other)),
    }
}

/// An optional string argument: nil is `None`.
fn opt_string_arg(
    lua: &Lua,
    func: &str,
    n: usize,
    v: LuaValue,
) -> Result<Option<mlua::LuaString>, Error> {
    match v {
        LuaValue::Nil => Ok(None),
        v => string_arg(lua, func, n, v).map(Some),
    }
}

/// An integer argument: an integer, a float with an integral value or a numeric string
/// (as Lua's `luaL_checkinteger`); anything else is Invalid.
fn integer_arg(lua: &Lua, func: &str, n: usize, v: LuaValue) -> Result<i64, Error> {
    let coerced = |v: LuaValue| lua.coerce_integer(v).map_err(|e| errors::from_mlua(&e));
    match v {
        LuaValue::Integer(i) => Ok(i),
        LuaValue::Number(f) => coerced(v)?.ok_or_else(|| {
            Error::invalid(format!(
                "bad argument #{n} to '{func}' (number {f} has no integer representation)"
            ))
        }),
        LuaValue::String(_) => {
            coerced(v.clone())?.ok_or_else(|| bad_argument(func, n, "integer", &v))
        }
        other => Err(bad_argument(func, n, "integer", &other)),
    }
}

/// An optional boolean argument: nil is `None`; anything but a boolean is Invalid.
fn opt_bool_arg(func: &str, n: usize, v: LuaValue) -> Result<Option<bool>, Error> {
    match v {
        LuaValue::Nil => Ok(None),
        LuaValue::Boolean(b) => Ok(Some(b)),
        other => Err(bad_argument(func, n, "boolean", &other)),
    }
}

/// The Invalid error of a wrong argument.
fn bad_argument(func: &str, n: usize, wanted: &str, got: &LuaValue) -> Error {
    Error::invalid(format!(
        "bad argument #{n} to '{func}' ({wanted} expected, got {})",
        got.type_name()
    ))
}
