//! The casts `string(x)`, `integer(x)`, `number(x)` and `boolean(x)`: convert a value
//! whose meaning is plain, raise an Invalid error object for any other.
//!
//! - `string(x)`: strings as they are, numbers as Lua prints them (`42`, `1.5`),
//!   booleans as `"true"`/`"false"`;
//! - `number(x)`: numbers as they are, strings as Lua's `tonumber` reads them (`"42"`
//!   gives the integer 42, `"1.5"` the float, `"0x10"` 16);
//! - `integer(x)`: integers as they are, floats and numeric strings with an integral
//!   value in range (`4.0` and `"4.0"` give 4; `4.5` fails);
//! - `boolean(x)`: booleans as they are, the strings `"true"` and `"false"`.
//!
//! Nothing else converts (nil, tables, functions, `boolean(1)`, `string({})`): a cast is
//! a check as much as a conversion. `string` is the string library, so its cast is the
//! library table's `__call`.

use mlua::{Function, Lua, Table, Value as LuaValue};

use super::check::value_text;
use super::{fail, raising};

/// Installs the cast globals and `string`'s `__call`.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let raising = raising(lua)?;
    let g = lua.globals();
    let tonumber: Function = g.get("tonumber")?;
    let to_number = tonumber.clone();
    g.raw_set(
        "number",
        raising.call::<Function>(lua.create_function(
            move |lua, x: LuaValue| match as_number(&to_number, &x)? {
                Some(n) => Ok((n, LuaValue::Nil)),
                None => refuse(lua, &x, "number"),
            },
        )?)?,
    )?;
    g.raw_set(
        "integer",
        raising.call::<Function>(lua.create_function(move |lua, x: LuaValue| {
            match as_number(&tonumber, &x)?.and_then(|n| integral(&n)) {
                Some(i) => Ok((LuaValue::Integer(i), LuaValue::Nil)),
                None => refuse(lua, &x, "integer"),
            }
        })?)?,
    )?;
    g.raw_set(
        "boolean",
        raising.call::<Function>(lua.create_function(|lua, x: LuaValue| {
            let b = match &x {
                LuaValue::Boolean(b) => Some(*b),
                LuaValue::String(s) if s == "true" => Some(true),
                LuaValue::String(s) if s == "false" => Some(false),
                _ => None,
            };
            match b {
                Some(b) => Ok((LuaValue::Boolean(b), LuaValue::Nil)),
                None => refuse(lua, &x, "boolean"),
            }
        })?)?,
    )?;
    let to_string = lua.create_function(|lua, (_, x): (LuaValue, LuaValue)| match &x {
        LuaValue::String(_) => Ok((x, LuaValue::Nil)),
        LuaValue::Integer(_) | LuaValue::Number(_) => match lua.coerce_string(x.clone())? {
            Some(s) => Ok((LuaValue::String(s), LuaValue::Nil)),
            None => refuse(lua, &x, "string"),
        },
        LuaValue::Boolean(b) => Ok((
            LuaValue::String(lua.create_string(b.to_string())?),
            LuaValue::Nil,
        )),
        _ => refuse(lua, &x, "string"),
    })?;
    let meta = lua.create_table()?;
    meta.raw_set("__call", raising.call::<Function>(to_string)?)?;
    let string: Table = g.get("string")?;
    string.set_metatable(Some(meta))?;
    Ok(())
}

/// A number, or a string Lua's `tonumber` reads as one.
fn as_number(tonumber: &Function, x: &LuaValue) -> mlua::Result<Option<LuaValue>> {
    Ok(match x {
        LuaValue::Integer(_) | LuaValue::Number(_) => Some(x.clone()),
        LuaValue::String(_) => match tonumber.call::<LuaValue>(x.clone())? {
            LuaValue::Nil => None,
            n => Some(n),
        },
        _ => None,
    })
}

/// An integer, or a float with an integral value in the integers' range.
fn integral(n: &LuaValue) -> Option<i64> {
    match n {
        LuaValue::Integer(i) => Some(*i),
        LuaValue::Number(f) if f.fract() == 0.0 && *f >= -(2f64.powi(63)) && *f < 2f64.powi(63) => {
            Some(*f as i64)
        }
        _ => None,
    }
}

/// `nil, err`: `x` does not cast to `to`.
fn refuse(lua: &Lua, x: &LuaValue, to: &str) -> mlua::Result<(LuaValue, LuaValue)> {
    fail(lua, format!("cannot cast {} to {to}", value_text(x)))
}
