//! The `json` module: `encode`, `decode`, `validate` and `validate_string`.
//!
//! Encoding: `nil` is `null`; a table with keys exactly `1..n` is an array, one with only
//! string keys an object (keys sorted), `{}` is `[]`; mixed or sparse tables, cycles and
//! nesting past [`MAX_DEPTH`] raise an Internal error. Numbers print as Go's
//! `encoding/json` does: integers as integers, floats in their shortest form without a
//! trailing `.0` (`2.0` prints `2`, `1e21` prints `1e+21`), NaN and infinities as `null`.
//! Error objects encode as their message, Times as RFC 3339 strings, Durations as
//! nanoseconds.
//!
//! Schemas are JSON Schema (draft from `$schema`, 2020-12 by default, `format` checked),
//! validated with the `jsonschema` crate; compiled schemas are cached by their text.

use std::collections::HashMap;
use std::ffi::c_void;
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

use mlua::{Lua, Table, Value as LuaValue};
use parking_lot::Mutex;
use serde_json::{Map as JsonMap, Number, Value as Json};
use weft_core::{Error, Value};

use crate::errors::{self, LuaError};
use crate::modules::time::{self, Duration, Time};

/// How deep tables may nest when encoding.
pub const MAX_DEPTH: usize = 128;

/// How many compiled schemas the cache keeps before it starts over.
const SCHEMA_CACHE_SIZE: usize = 256;

/// How many validation failures an error message lists.
const MAX_REPORTED: usize = 10;

/// Builds the `json` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "encode",
        lua.create_function(|lua, v: LuaValue| {
            let text = encode(&v).map_err(mlua::Error::external)?;
            lua.create_string(text)
        })?,
    )?;
    t.set("decode", lua.create_function(decode)?)?;
    t.set(
        "validate",
        lua.create_function(|lua, (schema, data): (LuaValue, LuaValue)| {
            checked(
                lua,
                to_json(&data).and_then(|data| validate(&schema, &data)),
            )
        })?,
    )?;
    t.set(
        "validate_string",
        lua.create_function(|lua, (schema, text): (LuaValue, LuaValue)| {
            let data = match &text {
                LuaValue::String(s) => serde_json::from_slice::<Json>(&s.as_bytes())
                    .map_err(|e| Error::invalid(format!("invalid JSON: {e}"))),
                other => Err(Error::invalid(format!(
                    "json.validate_string expects a JSON string, got {}",
                    other.type_name()
                ))),
            };
            checked(lua, data.and_then(|data| validate(&schema, &data)))
        })?,
    )?;
    Ok(t)
}

/// `json.decode(s)`: the value, or `nil, err` (Invalid for a non-string or empty input,
/// Internal with the parser's message and position for malformed JSON).
fn decode(lua: &Lua, v: LuaValue) -> mlua::Result<(LuaValue, LuaValue)> {
    let LuaValue::String(s) = &v else {
        let msg = format!("json.decode expects a string, got {}", v.type_name());
        return errors::fail(lua, Error::invalid(msg));
    };
    let text = s.as_bytes();
    if text.is_empty() {
        return errors::fail(lua, Error::invalid("cannot decode an empty string"));
    }
    match serde_json::from_slice::<Json>(&text) {
        Ok(json) => Ok((to_lua(lua, &json)?, LuaValue::Nil)),
        Err(e) => errors::fail(lua, Error::internal(e.to_string())),
    }
}

/// Encodes a Lua value as JSON text; Internal error for what JSON cannot hold.
pub fn encode(v: &LuaValue) -> Result<String, Error> {
    let json = to_json(v)?;
    let mut out = String::new();
    write_json(&mut out, &json);
    Ok(out)
}

/// Converts a Lua value to a JSON value by the encoding rules (object keys sorted).
pub fn to_json(v: &LuaValue) -> Result<Json, Error> {
    to_json_at(v, &mut Vec::new())
}

/// Converts a JSON value to a Lua value: arrays 1-based, `null` nil, integral numbers
/// integers.
pub fn to_lua(lua: &Lua, json: &Json) -> mlua::Result<LuaValue> {
    Ok(match json {
        Json::Null => LuaValue::Nil,
        Json::Bool(b) => LuaValue::Boolean(*b),
        Json::Number(n) => number_to_lua(n),
        Json::String(s) => LuaValue::String(lua.create_string(s)?),
        Json::Array(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, to_lua(lua, item)?)?;
            }
            LuaValue::Table(t)
        }
        Json::Object(map) => {
            let t = lua.create_table_with_capacity(0, map.len())?;
            for (k, item) in map {
                t.raw_set(k.as_str(), to_lua(lua, item)?)?;
            }
            LuaValue::Table(t)
        }
    })
}

/// Validates `data` against a schema given as a Lua table or JSON text: Invalid error
/// for a bad schema or data that does not match (message and details name the paths).
pub fn validate(schema: &LuaValue, data: &Json) -> Result<(), Error> {
    let validator = compiled(schema)?;
    let failures: Vec<(String, String)> = validator
        .iter_errors(data)
        .take(MAX_REPORTED)
        .map(|e| {
            let path = e.instance_path().as_str();
            let path = if path.is_empty() { "/" } else { path };
            (path.to_string(), e.to_string())
        })
        .collect();
    if failures.is_empty() {
        return Ok(());
    }
    let message = failures
        .iter()
        .map(|(path, msg)| format!("at {path}: {msg}"))
        .collect::<Vec<_>>()
        .join("; ");
    let details = failures
        .into_iter()
        .map(|(path, msg)| {
            Value::from_pairs([("path", Value::str(path)), ("message", Value::str(msg))])
        })
        .collect();
    Err(Error::invalid(format!("validation failed {message}"))
        .with_retryable(Some(false))
        .with_details(Some(Value::array(details))))
}

fn to_json_at(v: &LuaValue, path: &mut Vec<*const c_void>) -> Result<Json, Error> {
    Ok(match v {
        LuaValue::Nil => Json::Null,
        LuaValue::Boolean(b) => Json::Bool(*b),
        LuaValue::Integer(i) => Json::Number((*i).into()),
        LuaValue::Number(f) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
        LuaValue::String(s) => Json::String(s.to_string_lossy()),
        LuaValue::Table(t) => table_to_json(t, path)?,
        LuaValue::UserData(ud) => {
            if let Ok(e) = ud.borrow::<LuaError>() {
                Json::String(e.0.to_string())
            } else if let Ok(t) = ud.borrow::<Time>() {
                Json::String(t.format(time::RFC3339_NANO))
            } else if let Ok(d) = ud.borrow::<Duration>() {
                Json::Number(d.0.into())
            } else {
                return Err(Error::internal("cannot encode userdata to JSON"));
            }
        }
        LuaValue::LightUserData(p) if p.0.is_null() => Json::Null,
        LuaValue::Error(e) => Json::String(errors::from_mlua(e).to_string()),
        other => {
            return Err(Error::internal(format!(
                "cannot encode {} to JSON",
                other.type_name()
            )));
        }
    })
}

fn table_to_json(t: &Table, path: &mut Vec<*const c_void>) -> Result<Json, Error> {
    let id = t.to_pointer();
    if path.contains(&id) {
        return Err(Error::internal("cannot encode a recursive table to JSON"));
    }
    if path.len() >= MAX_DEPTH {
        return Err(Error::internal(format!(
            "cannot encode to JSON: tables nested deeper than {MAX_DEPTH} levels"
        )));
    }
    let mut ints: Vec<(i64, LuaValue)> = Vec::new();
    let mut strs: Vec<(String, LuaValue)> = Vec::new();
    for pair in t.pairs::<LuaValue, LuaValue>() {
        let (k, v) = pair.map_err(|e| errors::from_mlua(&e))?;
        match k {
            LuaValue::Integer(i) => ints.push((i, v)),
            LuaValue::String(s) => strs.push((s.to_string_lossy(), v)),
            other => {
                return Err(Error::internal(format!(
                    "cannot encode a table with {} keys to JSON",
                    match other {
                        LuaValue::Number(_) => "non-integer number",
                        other => other.type_name(),
                    }
                )));
            }
        }
    }
    if !ints.is_empty() && !strs.is_empty() {
        return Err(Error::internal(
            "cannot encode a table with mixed integer and string keys to JSON",
        ));
    }
    ints.sort_unstable_by_key(|(i, _)| *i);
    if ints.iter().zip(1..).any(|((i, _), n)| *i != n) {
        return Err(Error::internal(
            "cannot encode a sparse array to JSON (keys are not 1..n)",
        ));
    }
    path.push(id);
    let json = if strs.is_empty() {
        let items = ints
            .iter()
            .map(|(_, v)| to_json_at(v, path))
            .collect::<Result<Vec<_>, _>>()?;
        Json::Array(items)
    } else {
        strs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut map = JsonMap::with_capacity(strs.len());
        for (k, v) in strs {
            let item = to_json_at(&v, path)?;
            map.insert(k, item);
        }
        Json::Object(map)
    };
    path.pop();
    Ok(json)
}

/// Writes JSON text; numbers in Go's `encoding/json` form.
fn write_json(out: &mut String, json: &Json) {
    match json {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                let _ = write!(out, "{i}");
            } else if let Some(u) = n.as_u64() {
                let _ = write!(out, "{u}");
            } else {
                write_float(out, n.as_f64().unwrap_or(0.0));
            }
        }
        Json::String(s) => write_string(out, s),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Json::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_json(out, v);
            }
            out.push('}');
        }
    }
}

/// Go's float form: plain decimal in `[1e-6, 1e21)`, else exponent with a sign (`1e+21`,
/// `1e-7`); shortest digits that round-trip.
fn write_float(out: &mut String, f: f64) {
    let abs = f.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        let _ = write!(out, "{f}");
    } else {
        let text = format!("{f:e}");
        match text.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => {
                let _ = write!(out, "{mantissa}e+{exp}");
            }
            _ => out.push_str(&text),
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn number_to_lua(n: &Number) -> LuaValue {
    if let Some(i) = n.as_i64() {
        return LuaValue::Integer(i);
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    // integral and inside i64 (2^63 itself is not)
    if f.fract() == 0.0 && (i64::MIN as f64..-(i64::MIN as f64)).contains(&f) {
        LuaValue::Integer(f as i64)
    } else {
        LuaValue::Number(f)
    }
}

/// The compiled validator for a schema (Lua table or JSON text), from the cache.
fn compiled(schema: &LuaValue) -> Result<Arc<jsonschema::Validator>, Error> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
    let (key, json) = match schema {
        LuaValue::String(s) => (s.to_string_lossy(), None),
        LuaValue::Table(_) => {
            let mut json = to_json(schema)
                .map_err(|e| Error::invalid(format!("invalid schema: {}", e.message())))?;
            empty_tables_as_objects(&mut json);
            let mut key = String::new();
            write_json(&mut key, &json);
            (key, Some(json))
        }
        other => {
            return Err(Error::invalid(format!(
                "schema must be a table or a JSON string, got {}",
                other.type_name()
            )));
        }
    };
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().get(&key) {
        return Ok(v.clone());
    }
    let json = match json {
        Some(json) => json,
        None => serde_json::from_str(&key)
            .map_err(|e| Error::invalid(format!("invalid schema JSON: {e}")))?,
    };
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&json)
        .map_err(|e| Error::invalid(format!("invalid schema: {e}")))?;
    let validator = Arc::new(validator);
    let mut cache = cache.lock();
    if cache.len() >= SCHEMA_CACHE_SIZE {
        cache.clear();
    }
    cache.insert(key, validator.clone());
    Ok(validator)
}

/// Lua cannot tell `{}` from `[]`, and an empty table encodes as `[]`; in a schema
/// table, turns the empty arrays that stand for schemas or maps (`properties = {}`,
/// `items = {}`) into `{}`. Array keywords (`required`, `enum`, `type`, ...) and values
/// (`const`, `default`, `examples`) stay as they are.
fn empty_tables_as_objects(schema: &mut Json) {
    const VALUES: &[&str] = &["const", "default", "enum", "examples"];
    const ARRAYS: &[&str] = &["required", "type", "allOf", "anyOf", "oneOf", "prefixItems"];
    const MAPS: &[&str] = &[
        "properties",
        "patternProperties",
        "$defs",
        "definitions",
        "dependentSchemas",
    ];
    let Json::Object(map) = schema else { return };
    for (key, value) in map.iter_mut() {
        let key = key.as_str();
        if VALUES.contains(&key) {
            continue;
        }
        if ARRAYS.contains(&key) {
            if let Json::Array(items) = value {
                items.iter_mut().for_each(empty_tables_as_objects);
            }
        } else if MAPS.contains(&key) {
            empty_as_object(value);
            if let Json::Object(named) = value {
                named.values_mut().for_each(|v| {
                    empty_as_object(v);
                    empty_tables_as_objects(v);
                });
            }
        } else {
            empty_as_object(value);
            empty_tables_as_objects(value);
        }
    }
}

fn empty_as_object(v: &mut Json) {
    if v.as_array().is_some_and(Vec::is_empty) {
        *v = Json::Object(JsonMap::new());
    }
}

/// `true` when `r` is Ok, else `false, err`.
fn checked(lua: &Lua, r: Result<(), Error>) -> mlua::Result<(bool, LuaValue)> {
    match r {
        Ok(()) => Ok((true, LuaValue::Nil)),
        Err(e) => Ok((false, errors::push(lua, e)?)),
    }
}

#[cfg(test)]
mod tests;
