//! Deep copies between Lua values and [`Value`]s.
//!
//! Nothing of a VM escapes: tables are copied recursively, error objects become
//! [`Value::Error`], other userdata, functions and threads become their string form.
//! A table with a positive sequence length is an array (elements `1..n`; other keys are
//! dropped, as in Wippy); any other table is a map with stringified keys. A sparse
//! table is a map too: Lua may report any border as its length, far beyond its entries
//! (keys at 1, 2, 4, … 2^40 give 2^40), so an array whose holes outnumber its values
//! twice over, past [`SPARSE_HOLES`] holes, is converted as a map instead: the work and
//! memory of a copy stay proportional to the table's entries.

use std::sync::Arc;

use mlua::{Lua, Value as LuaValue};
use weft_core::{Error, Map, Value};

use crate::errors::{self, LuaError};

mod raw;

/// How deep a table may nest before conversion fails (cycles end here too).
pub const MAX_DEPTH: usize = 128;

/// How many holes an array may have before it is checked for being sparse.
pub const SPARSE_HOLES: usize = 64;

/// The most items reserved up front for an array (its length is not trusted).
const RESERVE_ITEMS: usize = 4096;

/// Copies a Lua value of `lua` into a [`Value`]. A table of plain data is read in one
/// protected call ([`raw`]); one holding anything else the general way.
pub fn to_value(lua: &Lua, v: &LuaValue) -> Result<Value, Error> {
    if let LuaValue::Table(t) = v {
        match raw::table_to_value(lua, t) {
            Ok(value) => return Ok(value),
            Err(raw::Raw::Failed(e)) => return Err(e),
            Err(raw::Raw::Slow) => {}
        }
    }
    convert_in(v, 0)
}

/// Copies a [`Value`] into a Lua value of `lua`: a table of plain data in one protected
/// call ([`raw`]), one holding error objects the general way.
pub fn to_lua(lua: &Lua, v: &Value) -> mlua::Result<LuaValue> {
    match v {
        Value::Array(_) | Value::Map(_) => match raw::to_lua(lua, v)? {
            Some(value) => Ok(value),
            None => to_lua_slow(lua, v),
        },
        _ => to_lua_slow(lua, v),
    }
}

/// [`to_lua`] one mlua call per slot.
fn to_lua_slow(lua: &Lua, v: &Value) -> mlua::Result<LuaValue> {
    Ok(match v {
        Value::Nil => LuaValue::Nil,
        Value::Bool(b) => LuaValue::Boolean(*b),
        Value::Int(i) => LuaValue::Integer(*i),
        Value::Float(f) => LuaValue::Number(*f),
        Value::Str(b) => LuaValue::String(lua.create_string(b)?),
        Value::Array(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, to_lua_slow(lua, item)?)?;
            }
            LuaValue::Table(t)
        }
        Value::Map(m) => {
            let t = lua.create_table_with_capacity(0, m.len())?;
            for (k, item) in m.iter() {
                t.raw_set(k.as_str(), to_lua_slow(lua, item)?)?;
            }
            LuaValue::Table(t)
        }
        Value::Error(e) => errors::push(lua, (**e).clone())?,
    })
}

/// Copies a list of values into Lua values.
pub fn to_lua_multi(lua: &Lua, values: &[Value]) -> mlua::Result<mlua::MultiValue> {
    values.iter().map(|v| to_lua(lua, v)).collect()
}

fn convert_in(v: &LuaValue, depth: usize) -> Result<Value, Error> {
    Ok(match v {
        LuaValue::Nil => Value::Nil,
        LuaValue::Boolean(b) => Value::Bool(*b),
        LuaValue::Integer(i) => Value::Int(*i),
        LuaValue::Number(f) => Value::Float(*f),
        LuaValue::String(s) => Value::bytes(s.as_bytes().to_vec()),
        LuaValue::Table(t) => {
            if depth >= MAX_DEPTH {
                return Err(too_deep());
            }
            match sequence(t, depth)? {
                Some(items) => Value::Array(Arc::new(items)),
                None => {
                    let mut map = Map::new();
                    for pair in t.pairs::<LuaValue, LuaValue>() {
                        let (k, item) = pair.map_err(|e| errors::from_mlua(&e))?;
                        map.insert(key_string(&k), convert_in(&item, depth + 1)?);
                    }
                    Value::map(map)
                }
            }
        }
        LuaValue::UserData(ud) => match ud.borrow::<LuaError>() {
            Ok(e) => Value::Error(e.0.clone()),
            Err(_) => Value::str(v.to_string().unwrap_or_else(|_| "userdata".into())),
        },
        LuaValue::Error(e) => Value::from(errors::from_mlua(e)),
        other => Value::str(
            other
                .to_string()
                .unwrap_or_else(|_| other.type_name().into()),
        ),
    })
}

/// The error of a table nested deeper than [`MAX_DEPTH`].
fn too_deep() -> Error {
    Error::invalid(format!(
        "table nested deeper than {MAX_DEPTH} levels (a cycle?)"
    ))
}

/// The items `1..n` of a table whose length `n` is positive; `None` for a table to copy
/// as a map (no length, or sparse: more than [`SPARSE_HOLES`] holes and twice as many
/// holes as values so far, so the loop ends within about three times the entries).
fn sequence(t: &mlua::Table, depth: usize) -> Result<Option<Vec<Value>>, Error> {
    let len = t.raw_len();
    if len == 0 {
        return Ok(None);
    }
    let mut items = Vec::with_capacity(len.min(RESERVE_ITEMS));
    let mut holes = 0usize;
    for i in 1..=len {
        let item: LuaValue = t.raw_get(i).map_err(|e| errors::from_mlua(&e))?;
        if item.is_nil() {
            holes += 1;
            if holes > SPARSE_HOLES && holes > 2 * (i - holes) {
                return Ok(None);
            }
        }
        items.push(convert_in(&item, depth + 1)?);
    }
    Ok(Some(items))
}

/// A table key as a map key: strings as they are, numbers and booleans as text.
fn key_string(k: &LuaValue) -> String {
    match k {
        LuaValue::String(s) => s.to_string_lossy(),
        LuaValue::Integer(i) => i.to_string(),
        LuaValue::Number(f) => Value::Float(*f).to_display_string(),
        LuaValue::Boolean(b) => b.to_string(),
        other => other
            .to_string()
            .unwrap_or_else(|_| other.type_name().into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(lua: &Lua, code: &str) -> Value {
        to_value(lua, &lua.load(code).eval::<LuaValue>().unwrap()).unwrap()
    }

    /// Every case converted by the fast path and the general one, both ways.
    #[test]
    fn the_fast_path_copies_exactly_as_the_general_one() {
        let lua = Lua::new();
        lua.set_memory_limit(64 << 20).unwrap();
        let cases = [
            "return {}",
            "return {1, 2.5, 'x', true, false}",
            "return {1, nil, 3}",
            "return {a = 1, b = {c = {d = 'deep'}}, [1.5] = 'f', [true] = 'b', [7] = 's'}",
            r"return {['\xff\xfe'] = 'bad utf8 key', s = '\0\255'}",
            "return {1, 2, x = 3}",
            "return {users = {{name = 'a', tags = {'x', 'y'}, age = 3}, {name = 'b', tags = {}}}}",
            "local t = {} for i = 1, 200 do t[i * 3] = i end return t",
            "local t = {} for i = 1, 100 do t[i] = i end t[50] = nil return t",
            "return {f = print}",
            "return {e = errors.new('inside')}",
            "return {[{}] = 'table key'}",
            "local t = {} local c = t for i = 1, 127 do c.n = {} c = c.n end return t",
            "local t = {} local c = t for i = 1, 128 do c.n = {} c = c.n end return t",
            "local t = {} t.self = t return t",
        ];
        crate::errors::install(&lua).unwrap();
        for (i, code) in cases.into_iter().enumerate() {
            let v: LuaValue = lua.load(code).eval().unwrap();
            // The first nine are plain data: the fast path takes them, both ways.
            if let (true, LuaValue::Table(t)) = (i < 9, &v) {
                let value = raw::table_to_value(&lua, t).unwrap_or_else(|_| panic!("{code}"));
                assert!(raw::to_lua(&lua, &value).unwrap().is_some(), "{code}");
            }
            let fast = to_value(&lua, &v);
            let general = convert_in(&v, 0);
            match (&fast, &general) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{code}"),
                (Err(a), Err(b)) => assert_eq!(a.message(), b.message(), "{code}"),
                _ => panic!("{code}: {fast:?} vs {general:?}"),
            }
            let Ok(value) = general else { continue };
            let back = to_lua(&lua, &value).unwrap();
            let slow = to_lua_slow(&lua, &value).unwrap();
            assert_eq!(
                convert_in(&back, 0).ok(),
                convert_in(&slow, 0).ok(),
                "{code}"
            );
        }
    }

    #[test]
    fn tables_become_arrays_or_maps() {
        let lua = Lua::new();
        assert_eq!(
            eval(&lua, "return {1, 'a', true}"),
            Value::array(vec![Value::Int(1), Value::str("a"), Value::Bool(true)])
        );
        let m = eval(&lua, "return {name = 'x', [3] = 1.5}");
        assert_eq!(m.get("name").unwrap().as_str(), Some("x"));
        assert_eq!(m.get("3"), Some(&Value::Float(1.5)));
        assert_eq!(eval(&lua, "return {}"), Value::map(Map::new()));
        // non-sequence keys of an array are dropped, as in Wippy
        assert_eq!(
            eval(&lua, "return {1, 2, x = 3}").as_array().unwrap().len(),
            2
        );
    }

    #[test]
    fn a_copy_past_the_memory_limit_fails_and_leaves_the_vm_usable() {
        let lua = Lua::new();
        lua.set_memory_limit(1 << 20).unwrap();
        let big = Value::array(
            (0..100_000)
                .map(|i| Value::str(format!("item number {i}")))
                .collect(),
        );
        let err = to_lua(&lua, &big).unwrap_err();
        assert!(matches!(err, mlua::Error::MemoryError(_)), "{err}");
        let n: i64 = lua
            .load("local t = {} for i = 1, 10 do t[i] = i end return #t")
            .eval()
            .unwrap();
        assert_eq!(n, 10);
    }

    #[test]
    fn round_trip_keeps_nesting_and_bytes() {
        let lua = Lua::new();
        let v = eval(&lua, "return {a = {b = {1, 2}}, s = '\\0\\255'}");
        let back = to_lua(&lua, &v).unwrap();
        assert_eq!(to_value(&lua, &back).unwrap(), v);
        assert_eq!(v.get("s").unwrap().as_bytes(), Some(&[0u8, 255][..]));
    }

    #[test]
    fn cycles_are_an_error_not_a_hang() {
        let lua = Lua::new();
        let t: LuaValue = lua.load("local t = {} t.self = t return t").eval().unwrap();
        let err = to_value(&lua, &t).unwrap_err();
        assert!(err.message().contains("nested deeper"), "{err}");
    }

    /// A table `{0, [2] = 1, [4] = 2, …, [2^top] = top}` (plus `[math.maxinteger] = 0`):
    /// built by one constructor, its keys all fit the hash part it is made with, so no
    /// rehash moves them and Lua's border search doubles through them.
    fn sparse(top: u32, max: bool) -> String {
        let mut code = String::from("local t = {0");
        for i in 1..=top {
            code.push_str(&format!(", [1 << {i}] = {i}"));
        }
        if max {
            code.push_str(", [math.maxinteger] = 0");
        }
        code + "} return t, #t"
    }

    #[test]
    fn sparse_tables_are_maps_not_huge_arrays() {
        // Found fuzzing Lua ⇄ Value (fuzz/, docs/robustness.md): Lua may report a border
        // far beyond a table's entries (2^40 here, math.maxinteger with that key), and
        // copying 1..n aborted on the allocation or ran out of memory.
        let lua = Lua::new();
        for (top, max, len) in [(40, false, 1i64 << 40), (62, true, i64::MAX)] {
            let (t, n): (LuaValue, i64) = lua.load(sparse(top, max)).eval().unwrap();
            assert_eq!(n, len, "Lua's length of the table");
            let v = to_value(&lua, &t).unwrap();
            let m = v.as_map().expect("a map");
            assert_eq!(m.len(), top as usize + 1 + usize::from(max));
            assert_eq!(m.get("2"), Some(&Value::Int(1)));
        }
        // Holes below the threshold keep the array (and its nils), as before.
        let v = eval(&lua, "return {1, nil, 3}");
        assert_eq!(
            v,
            Value::array(vec![Value::Int(1), Value::Nil, Value::Int(3)])
        );
        let (t, n): (LuaValue, i64) = lua.load(sparse(6, false)).eval().unwrap();
        assert_eq!(n, 64);
        assert_eq!(
            to_value(&lua, &t).unwrap().as_array().map(|a| a.len()),
            Some(64)
        );
    }

    #[test]
    fn functions_become_their_string_form() {
        let lua = Lua::new();
        let v = eval(&lua, "return print");
        assert!(v.as_str().unwrap().starts_with("function"));
    }
}
