//! Argument checks and replies shared by the standard modules: how many arguments a call
//! got, their types, and the fields of an options table. Every failure is an Invalid,
//! non-retryable error whose message names the function; [`internal`] makes their
//! Internal errors, also never retryable; [`reply`] and [`reply_bytes`] give the
//! `value, nil` / `nil, err` pair.

use std::ops::RangeInclusive;

use mlua::{BorrowedBytes, BorrowedStr, Lua, MultiValue, Table, Value as LuaValue};
use weft_core::Error;

use crate::errors;

/// The arguments of a call to `func`, padded with `nil` to `max`; more than `max` is an
/// error. Trailing `nil`s do not count, so `f(g())` may pass on `g`'s `value, nil`.
pub fn at_most(func: &str, args: MultiValue, max: usize) -> Result<Vec<LuaValue>, Error> {
    let mut args: Vec<LuaValue> = args.into_iter().collect();
    while args.last().is_some_and(LuaValue::is_nil) {
        args.pop();
    }
    if args.len() > max {
        return Err(Error::invalid(format!(
            "{func} takes at most {max} argument{}, got {}",
            if max == 1 { "" } else { "s" },
            args.len()
        )));
    }
    args.resize(max, LuaValue::Nil);
    Ok(args)
}

/// `value, nil` with the Lua value `make` builds of `r`'s, or `nil, err` with its error;
/// a failure of Lua itself (out of memory) raises.
pub fn reply<T>(
    lua: &Lua,
    r: Result<T, Error>,
    make: impl FnOnce(T) -> mlua::Result<LuaValue>,
) -> mlua::Result<(LuaValue, LuaValue)> {
    match r {
        Ok(v) => Ok((make(v)?, LuaValue::Nil)),
        Err(e) => errors::fail(lua, e),
    }
}

/// `bytes, nil` (a Lua string) or `nil, err`.
pub fn reply_bytes(
    lua: &Lua,
    r: Result<impl AsRef<[u8]>, Error>,
) -> mlua::Result<(LuaValue, LuaValue)> {
    reply(lua, r, |bytes| {
        lua.create_string(bytes).map(LuaValue::String)
    })
}

/// An Internal error that is not retryable (the specs say so of every failure).
pub fn internal(message: impl Into<String>) -> Error {
    Error::internal(message).with_retryable(Some(false))
}

/// A string argument's bytes.
pub fn bytes(func: &str, name: &str, v: &LuaValue) -> Result<BorrowedBytes, Error> {
    match v {
        LuaValue::String(s) => Ok(s.as_bytes()),
        other => Err(expected(func, name, "a string", other)),
    }
}

/// A string argument that must be UTF-8 text.
pub fn text(func: &str, name: &str, v: &LuaValue) -> Result<BorrowedStr, Error> {
    match v {
        LuaValue::String(s) => s
            .to_str()
            .map_err(|_| Error::invalid(format!("{func}: {name} is not valid UTF-8 text"))),
        other => Err(expected(func, name, "a string", other)),
    }
}

/// A table argument.
pub fn table(func: &str, name: &str, v: &LuaValue) -> Result<Table, Error> {
    match v {
        LuaValue::Table(t) => Ok(t.clone()),
        other => Err(expected(func, name, "a table", other)),
    }
}

/// An optional options table: `nil` is none.
pub fn options(func: &str, v: &LuaValue) -> Result<Option<Table>, Error> {
    match v {
        LuaValue::Nil => Ok(None),
        LuaValue::Table(t) => Ok(Some(t.clone())),
        other => Err(expected(func, "options", "a table", other)),
    }
}

/// An optional argument: `nil` is none, anything else an integer within `range`.
pub fn int(
    func: &str,
    name: &str,
    v: &LuaValue,
    range: RangeInclusive<i64>,
) -> Result<Option<i64>, Error> {
    let n = match v {
        LuaValue::Nil => return Ok(None),
        LuaValue::Integer(i) => *i,
        LuaValue::Number(f)
            if f.fract() == 0.0 && (i64::MIN as f64..i64::MAX as f64).contains(f) =>
        {
            *f as i64
        }
        other => return Err(expected(func, name, "an integer", other)),
    };
    if !range.contains(&n) {
        return Err(Error::invalid(format!(
            "{func}: {name} must be between {} and {}, got {n}",
            range.start(),
            range.end()
        )));
    }
    Ok(Some(n))
}

/// An optional integer field of an options table, within `range`.
pub fn int_field(
    func: &str,
    opts: Option<&Table>,
    key: &str,
    range: RangeInclusive<i64>,
) -> Result<Option<i64>, Error> {
    int(func, key, &field(func, opts, key)?, range)
}

/// An optional number field of an options table, within `range`.
pub fn number_field(
    func: &str,
    opts: Option<&Table>,
    key: &str,
    range: RangeInclusive<f64>,
) -> Result<Option<f64>, Error> {
    let n = match field(func, opts, key)? {
        LuaValue::Nil => return Ok(None),
        LuaValue::Integer(i) => i as f64,
        LuaValue::Number(f) => f,
        other => return Err(expected(func, key, "a number", &other)),
    };
    if !range.contains(&n) {
        return Err(Error::invalid(format!(
            "{func}: {key} must be between {} and {}, got {n}",
            range.start(),
            range.end()
        )));
    }
    Ok(Some(n))
}

/// An optional boolean field of an options table.
pub fn bool_field(func: &str, opts: Option<&Table>, key: &str) -> Result<Option<bool>, Error> {
    match field(func, opts, key)? {
        LuaValue::Nil => Ok(None),
        LuaValue::Boolean(b) => Ok(Some(b)),
        other => Err(expected(func, key, "a boolean", &other)),
    }
}

/// An optional field of an options table that holds an array of strings.
pub fn strings_field(
    func: &str,
    opts: Option<&Table>,
    key: &str,
) -> Result<Option<Vec<String>>, Error> {
    let list = match field(func, opts, key)? {
        LuaValue::Nil => return Ok(None),
        LuaValue::Table(t) => t,
        other => return Err(expected(func, key, "an array of strings", &other)),
    };
    let mut items = Vec::new();
    for item in list.sequence_values::<LuaValue>() {
        let item = item.map_err(|e| Error::invalid(format!("{func}: {key}: {e}")))?;
        let name = format!("{key}[{}]", items.len() + 1);
        items.push(text(func, &name, &item)?.to_string());
    }
    Ok(Some(items))
}

/// The field `key` of `opts` (`nil` without options); raw, so no metamethod runs.
pub fn field(func: &str, opts: Option<&Table>, key: &str) -> Result<LuaValue, Error> {
    match opts {
        None => Ok(LuaValue::Nil),
        Some(t) => t
            .raw_get(key)
            .map_err(|e| Error::invalid(format!("{func}: options.{key}: {e}"))),
    }
}

/// The error for an argument of the wrong type.
pub fn expected(func: &str, name: &str, what: &str, got: &LuaValue) -> Error {
    Error::invalid(format!(
        "{func}: {name} must be {what}, got {}",
        got.type_name()
    ))
}

/// An optional whole-number argument (a float with no fraction counts): `fs`, `system`.
pub fn integer(value: &LuaValue, what: &str) -> Result<Option<i64>, Error> {
    match value {
        LuaValue::Nil => Ok(None),
        LuaValue::Integer(n) => Ok(Some(*n)),
        LuaValue::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e18 => Ok(Some(*n as i64)),
        LuaValue::Number(n) => Err(Error::invalid(format!(
            "{what} must be an integer, got {n}"
        ))),
        other => Err(Error::invalid(format!(
            "{what} must be an integer, got {}",
            other.type_name()
        ))),
    }
}
