//! `crypto.hmac.sha256/sha512` (hex digests, the `hmac` and `sha2` crates) and
//! `crypto.constant_time_compare` (the `subtle` crate).

use hmac::{Hmac, Mac};
use mlua::{Lua, Table, Value as LuaValue};
use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq;
use weft_core::Error;

use super::{internal, offload, reply_bytes, string_arg};
use crate::errors;

/// Builds the `crypto.hmac` table.
pub(super) fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "sha256",
        lua.create_async_function(|lua, args| {
            hmac::<Hmac<Sha256>>(lua, "crypto.hmac.sha256", args)
        })?,
    )?;
    t.set(
        "sha512",
        lua.create_async_function(|lua, args| {
            hmac::<Hmac<Sha512>>(lua, "crypto.hmac.sha512", args)
        })?,
    )?;
    Ok(t)
}

/// `crypto.constant_time_compare(a, b)`: whether the two strings are equal, in time that
/// depends only on their lengths; `false, err` (Invalid) for a non-string argument.
pub(super) fn constant_time_compare(
    lua: &Lua,
    (a, b): (LuaValue, LuaValue),
) -> mlua::Result<(bool, LuaValue)> {
    const FUNC: &str = "crypto.constant_time_compare";
    let args = string_arg(lua, FUNC, 1, a).and_then(|a| Ok((a, string_arg(lua, FUNC, 2, b)?)));
    match args {
        Ok((a, b)) => Ok((bool::from(a.as_bytes().ct_eq(&b.as_bytes())), LuaValue::Nil)),
        Err(e) => Ok((false, errors::push(lua, e)?)),
    }
}

/// `hmac.<hash>(key, data)`: the hex digest of `data` under `key` (which may not be empty).
async fn hmac<M>(
    lua: Lua,
    func: &'static str,
    (key, data): (LuaValue, LuaValue),
) -> mlua::Result<(LuaValue, LuaValue)>
where
    M: Mac + hmac::digest::KeyInit + Send + 'static,
{
    let args = (|| {
        let key = string_arg(&lua, func, 1, key)?.as_bytes().to_vec();
        let data = string_arg(&lua, func, 2, data)?.as_bytes().to_vec();
        if key.is_empty() {
            return Err(Error::invalid("key cannot be empty"));
        }
        Ok((key, data))
    })();
    let (key, data) = match args {
        Ok(args) => args,
        Err(e) => return errors::fail(&lua, e),
    };
    let digest = offload(data.len(), move || {
        let mut mac = <M as Mac>::new_from_slice(&key)
            .map_err(|e| internal(format!("HMAC computation failed: {e}")))?;
        mac.update(&data);
        Ok(hex::encode(mac.finalize().into_bytes()))
    })
    .await
    .and_then(|r| r);
    reply_bytes(&lua, digest)
}
