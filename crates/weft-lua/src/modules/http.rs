//! `http`: the server side (reference §2): the request an `http.endpoint` hands its
//! function and the response it writes, over `weft-http`'s [`Exchange`].
//!
//! The endpoint puts the [`Exchange`] in the call frame as a direct-callee handle, so
//! `http.request()` / `http.response()` work in the endpoint's function only; anywhere
//! else (a function it calls, a process) they are `nil, err` with Internal
//! `no HTTP request context found`, as in Wippy.
//!
//! - `http.request(opts?)` → a new [`request::Request`] wrapper: `timeout` (body reads,
//!   milliseconds, default 300000) and `max_body` (bytes, default 120 MiB).
//! - `http.response()` → a new [`response::Response`] wrapper, each with its own
//!   `headersSent` flag over the shared writer.
//! - The constant tables `METHOD`, `STATUS`, `CONTENT`, `TRANSFER`, `ERROR`, and the
//!   module table itself, are read-only.

mod multipart;
mod request;
mod response;

use std::sync::Arc;
use std::time::Duration;

use mlua::{Function, Lua, Table, Value as LuaValue};
use weft_core::Error;
use weft_http::Exchange;

use crate::{errors, frame};

/// The body-read timeout of `http.request()` without `timeout`: 300 s.
const DEFAULT_TIMEOUT_MS: u64 = 300_000;

/// The body cap of `http.request()` without `max_body`: 120 MiB.
const DEFAULT_MAX_BODY: u64 = 120 << 20;

/// `http.METHOD`.
const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

/// `http.STATUS`.
const STATUS: &[(&str, u16)] = &[
    ("OK", 200),
    ("CREATED", 201),
    ("ACCEPTED", 202),
    ("NO_CONTENT", 204),
    ("PARTIAL_CONTENT", 206),
    ("MOVED_PERMANENTLY", 301),
    ("FOUND", 302),
    ("SEE_OTHER", 303),
    ("NOT_MODIFIED", 304),
    ("TEMPORARY_REDIRECT", 307),
    ("PERMANENT_REDIRECT", 308),
    ("BAD_REQUEST", 400),
    ("UNAUTHORIZED", 401),
    ("PAYMENT_REQUIRED", 402),
    ("FORBIDDEN", 403),
    ("NOT_FOUND", 404),
    ("METHOD_NOT_ALLOWED", 405),
    ("NOT_ACCEPTABLE", 406),
    ("CONFLICT", 409),
    ("GONE", 410),
    ("UNPROCESSABLE", 422),
    ("TOO_MANY_REQUESTS", 429),
    ("INTERNAL_ERROR", 500),
    ("INTERNAL_SERVER_ERROR", 500),
    ("NOT_IMPLEMENTED", 501),
    ("BAD_GATEWAY", 502),
    ("SERVICE_UNAVAILABLE", 503),
    ("GATEWAY_TIMEOUT", 504),
    ("VERSION_NOT_SUPPORTED", 505),
];

/// `http.CONTENT`.
const CONTENT: &[(&str, &str)] = &[
    ("JSON", "application/json"),
    ("FORM", "application/x-www-form-urlencoded"),
    ("MULTIPART", "multipart/form-data"),
    ("TEXT", "text/plain"),
    ("STREAM", "application/octet-stream"),
];

/// `http.TRANSFER`.
const TRANSFER: &[(&str, &str)] = &[("CHUNKED", "chunked"), ("SSE", "sse")];

/// `http.ERROR` (names only; no method returns them, as in Wippy).
const ERRORS: &[&str] = &[
    "PARSE_FAILED",
    "INVALID_STATE",
    "WRITE_FAILED",
    "STREAM_ERROR",
];

/// Builds the (read-only) `http` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let methods = lua.create_table()?;
    for m in METHODS {
        methods.raw_set(*m, *m)?;
    }
    t.raw_set("METHOD", read_only(lua, methods)?)?;
    let status = lua.create_table()?;
    for (name, code) in STATUS {
        status.raw_set(*name, *code)?;
    }
    t.raw_set("STATUS", read_only(lua, status)?)?;
    t.raw_set("CONTENT", read_only(lua, pairs(lua, CONTENT)?)?)?;
    t.raw_set("TRANSFER", read_only(lua, pairs(lua, TRANSFER)?)?)?;
    let errs = lua.create_table()?;
    for e in ERRORS {
        errs.raw_set(*e, *e)?;
    }
    t.raw_set("ERROR", read_only(lua, errs)?)?;
    t.raw_set("request", lua.create_function(new_request)?)?;
    t.raw_set(
        "response",
        lua.create_function(|lua, ()| match exchange(lua) {
            Ok(ex) => Ok((
                LuaValue::UserData(lua.create_userdata(response::Response::new(ex))?),
                LuaValue::Nil,
            )),
            Err(e) => errors::fail(lua, e),
        })?,
    )?;
    read_only(lua, t)
}

/// `http.request(opts?)`.
fn new_request(lua: &Lua, opts: LuaValue) -> mlua::Result<(LuaValue, LuaValue)> {
    let (timeout, max_body) = match &opts {
        LuaValue::Nil => (DEFAULT_TIMEOUT_MS, DEFAULT_MAX_BODY),
        LuaValue::Table(t) => {
            let timeout = match positive(t, "timeout") {
                Ok(v) => v.unwrap_or(DEFAULT_TIMEOUT_MS),
                Err(e) => return errors::fail(lua, e),
            };
            let max_body = match positive(t, "max_body") {
                Ok(v) => v.unwrap_or(DEFAULT_MAX_BODY),
                Err(e) => return errors::fail(lua, e),
            };
            (timeout, max_body)
        }
        other => return Err(bad_argument(1, "request", "table", other)),
    };
    match exchange(lua) {
        Ok(ex) => {
            let req = request::Request::new(ex, Duration::from_millis(timeout), max_body);
            Ok((LuaValue::UserData(lua.create_userdata(req)?), LuaValue::Nil))
        }
        Err(e) => errors::fail(lua, e),
    }
}

/// An option of `http.request`: absent or 0 is the default (`None`); a negative or
/// non-number value is Invalid.
fn positive(t: &Table, key: &str) -> Result<Option<u64>, Error> {
    let v: LuaValue = t.raw_get(key).unwrap_or(LuaValue::Nil);
    let n = match v {
        LuaValue::Nil => return Ok(None),
        LuaValue::Integer(n) => n as f64,
        LuaValue::Number(n) => n,
        other => {
            return Err(Error::invalid(format!(
                "{key} must be a number, got {}",
                other.type_name()
            )));
        }
    };
    if !n.is_finite() || n < 0.0 {
        return Err(Error::invalid(format!(
            "{key} must not be negative, got {n}"
        )));
    }
    Ok((n >= 1.0).then_some(n as u64))
}

/// The request of the current frame: only the endpoint's direct callee has one.
fn exchange(lua: &Lua) -> Result<Arc<Exchange>, Error> {
    frame::current(lua)
        .handle::<Exchange>()
        .ok_or_else(|| Error::internal("no HTTP request context found").with_retryable(Some(false)))
}

/// A table of string constants.
fn pairs(lua: &Lua, items: &[(&str, &str)]) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for (k, v) in items {
        t.raw_set(*k, *v)?;
    }
    Ok(t)
}

/// A read-only view of `t`: reads and `pairs` see `t`, an assignment raises.
fn read_only(lua: &Lua, t: Table) -> mlua::Result<Table> {
    let proxy = lua.create_table()?;
    let meta = lua.create_table()?;
    meta.raw_set("__index", t.clone())?;
    meta.raw_set(
        "__newindex",
        lua.create_function(|_, (_, key): (LuaValue, LuaValue)| -> mlua::Result<()> {
            let key = match &key {
                LuaValue::String(s) => s.to_string_lossy(),
                other => other.type_name().to_string(),
            };
            Err(mlua::Error::external(Error::invalid(format!(
                "cannot modify read-only table (key {key:?})"
            ))))
        })?,
    )?;
    if let Ok(next) = lua.globals().raw_get::<Function>("next") {
        meta.raw_set(
            "__pairs",
            lua.create_function(move |_, _: LuaValue| {
                Ok((next.clone(), t.clone(), LuaValue::Nil))
            })?,
        )?;
    }
    meta.raw_set("__metatable", false)?;
    proxy.set_metatable(Some(meta))?;
    Ok(proxy)
}

/// The error Lua's `luaL_argerror` would raise for a bad argument.
fn bad_argument(n: usize, func: &str, expected: &str, got: &LuaValue) -> mlua::Error {
    mlua::Error::external(Error::invalid(format!(
        "bad argument #{n} to '{func}' ({expected} expected, got {})",
        got.type_name()
    )))
}

/// A string argument (numbers as their Lua text, as `luaL_checkstring` takes them).
fn string_arg(n: usize, func: &str, v: &LuaValue) -> mlua::Result<Vec<u8>> {
    match v {
        LuaValue::String(s) => Ok(s.as_bytes().to_vec()),
        LuaValue::Integer(i) => Ok(i.to_string().into_bytes()),
        LuaValue::Number(f) => Ok(weft_core::Value::Float(*f).to_display_string().into_bytes()),
        other => Err(bad_argument(n, func, "string", other)),
    }
}
