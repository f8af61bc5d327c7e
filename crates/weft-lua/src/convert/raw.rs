//! The fast path of [`super`]: a whole value copied in one protected call on Lua's C
//! API, instead of one mlua call (and, with the VM's memory limit set, one protected
//! call) per table slot.
//!
//! Both directions handle plain data only: nil, booleans, numbers, strings and tables of
//! them. Anything else (an error object, a function, userdata, a table key that is not
//! a string, number or boolean) answers [`Raw::Slow`] and the caller copies the value
//! the general way, with the same result. The rules (sequences and maps, sparse tables,
//! the depth limit, key strings) are the general path's, kept in step by the tests of
//! `super`, which run every case through both.
//!
//! Safety: the closures given to `Lua::exec_raw` run inside `lua_pcall`. Pushing may
//! raise a Lua memory error, which unwinds past the closure by `longjmp`: while pushing,
//! the closure's frames hold only references and integers (nothing to drop). Reading
//! raises nothing (`lua_rawlen`, `lua_rawgeti`, `lua_next` over a table nobody changes,
//! `lua_tolstring` on strings only, `lua_checkstack` returns false instead of raising),
//! so the values it builds are never skipped over.

use std::ffi::c_int;
use std::sync::Arc;

use mlua::{Lua, Value as LuaValue, ffi};
use weft_core::{Error, Map, Value};

use super::{MAX_DEPTH, RESERVE_ITEMS, SPARSE_HOLES, too_deep};

/// What the fast path could not do.
pub(super) enum Raw {
    /// The value holds something only the general path copies.
    Slow,
    /// The copy fails (too deep): the same error the general path gives.
    Failed(Error),
}

/// Copies `v` into a Lua value of `lua`; `None` when only the general path can.
pub(super) fn to_lua(lua: &Lua, v: &Value) -> mlua::Result<Option<LuaValue>> {
    let mut pushed = true;
    let out = unsafe {
        lua.exec_raw::<LuaValue>((), |state| {
            if !push(state, v, 0) {
                pushed = false;
                ffi::lua_settop(state, 0);
                ffi::lua_pushnil(state);
            }
        })
    };
    Ok(pushed.then_some(out?))
}

/// Copies the table `t` into a [`Value`], or [`Raw::Slow`].
pub(super) fn table_to_value(lua: &Lua, t: &mlua::Table) -> Result<Value, Raw> {
    let mut out: Option<Result<Value, Raw>> = None;
    let called = unsafe {
        lua.exec_raw::<()>(t, |state| {
            out = Some(read(state, 1, 0));
        })
    };
    match (called, out) {
        (Ok(()), Some(result)) => result,
        _ => Err(Raw::Slow),
    }
}

/// Pushes `v`; false (with the stack left for the caller to reset) when it holds
/// something the fast path does not copy, nests too deep, or the stack cannot grow.
unsafe fn push(state: *mut ffi::lua_State, v: &Value, depth: usize) -> bool {
    unsafe {
        match v {
            Value::Nil => ffi::lua_pushnil(state),
            Value::Bool(b) => ffi::lua_pushboolean(state, c_int::from(*b)),
            Value::Int(i) => ffi::lua_pushinteger(state, *i),
            Value::Float(f) => ffi::lua_pushnumber(state, *f),
            Value::Str(b) => {
                ffi::lua_pushlstring(state, b.as_ptr().cast(), b.len());
            }
            Value::Array(items) => {
                if depth >= MAX_DEPTH || ffi::lua_checkstack(state, 3) == 0 {
                    return false;
                }
                ffi::lua_createtable(state, size_hint(items.len()), 0);
                for (i, item) in items.iter().enumerate() {
                    if !push(state, item, depth + 1) {
                        return false;
                    }
                    ffi::lua_rawseti(state, -2, i as ffi::lua_Integer + 1);
                }
            }
            Value::Map(m) => {
                if depth >= MAX_DEPTH || ffi::lua_checkstack(state, 3) == 0 {
                    return false;
                }
                ffi::lua_createtable(state, 0, size_hint(m.len()));
                for (k, item) in m.iter() {
                    ffi::lua_pushlstring(state, k.as_ptr().cast(), k.len());
                    if !push(state, item, depth + 1) {
                        return false;
                    }
                    ffi::lua_rawset(state, -3);
                }
            }
            Value::Error(_) => return false,
        }
        true
    }
}

/// A table size for `lua_createtable`.
fn size_hint(n: usize) -> c_int {
    c_int::try_from(n).unwrap_or(c_int::MAX)
}

/// Reads the value at the absolute stack index `idx`.
unsafe fn read(state: *mut ffi::lua_State, idx: c_int, depth: usize) -> Result<Value, Raw> {
    unsafe {
        Ok(match ffi::lua_type(state, idx) {
            ffi::LUA_TNIL => Value::Nil,
            ffi::LUA_TBOOLEAN => Value::Bool(ffi::lua_toboolean(state, idx) != 0),
            ffi::LUA_TNUMBER => {
                if ffi::lua_isinteger(state, idx) != 0 {
                    Value::Int(ffi::lua_tointegerx(state, idx, std::ptr::null_mut()))
                } else {
                    Value::Float(ffi::lua_tonumberx(state, idx, std::ptr::null_mut()))
                }
            }
            ffi::LUA_TSTRING => Value::bytes(bytes(state, idx).to_vec()),
            ffi::LUA_TTABLE => {
                if depth >= MAX_DEPTH {
                    return Err(Raw::Failed(too_deep()));
                }
                if ffi::lua_checkstack(state, 3) == 0 {
                    return Err(Raw::Slow);
                }
                match sequence(state, idx, depth)? {
                    Some(items) => Value::Array(Arc::new(items)),
                    None => Value::map(map(state, idx, depth)?),
                }
            }
            _ => return Err(Raw::Slow),
        })
    }
}

/// The items `1..n` of the table at `idx`, as the general path's `sequence` reads them.
unsafe fn sequence(
    state: *mut ffi::lua_State,
    idx: c_int,
    depth: usize,
) -> Result<Option<Vec<Value>>, Raw> {
    unsafe {
        let len = ffi::lua_rawlen(state, idx);
        if len == 0 {
            return Ok(None);
        }
        let mut items = Vec::with_capacity(len.min(RESERVE_ITEMS));
        let mut holes = 0usize;
        let top = ffi::lua_gettop(state) + 1;
        for i in 1..=len {
            ffi::lua_rawgeti(state, idx, i as ffi::lua_Integer);
            let item = read(state, top, depth + 1);
            ffi::lua_settop(state, top - 1);
            let item = item?;
            if item.is_nil() {
                holes += 1;
                if holes > SPARSE_HOLES && holes > 2 * (i - holes) {
                    return Ok(None);
                }
            }
            items.push(item);
        }
        Ok(Some(items))
    }
}

/// The table at `idx` as a map with string keys, in `next` order (as `pairs`).
unsafe fn map(state: *mut ffi::lua_State, idx: c_int, depth: usize) -> Result<Map, Raw> {
    unsafe {
        let key = ffi::lua_gettop(state) + 1;
        // Counted first, so the map is allocated once at its size.
        let mut len = 0usize;
        ffi::lua_pushnil(state);
        while ffi::lua_next(state, idx) != 0 {
            len += 1;
            ffi::lua_settop(state, key);
        }
        let mut map = Map::with_capacity(len);
        ffi::lua_pushnil(state);
        while ffi::lua_next(state, idx) != 0 {
            let name = match key_string(state, key) {
                Some(name) => name,
                None => {
                    ffi::lua_settop(state, key - 1);
                    return Err(Raw::Slow);
                }
            };
            let item = read(state, key + 1, depth + 1);
            ffi::lua_settop(state, key);
            match item {
                Ok(item) => {
                    map.insert(name, item);
                }
                Err(e) => {
                    ffi::lua_settop(state, key - 1);
                    return Err(e);
                }
            }
        }
        Ok(map)
    }
}

/// The key at `idx` as the general path's `key_string` writes it; `None` for a key only
/// it handles. Never converts the key in place (that would confuse `lua_next`).
unsafe fn key_string(state: *mut ffi::lua_State, idx: c_int) -> Option<String> {
    unsafe {
        match ffi::lua_type(state, idx) {
            ffi::LUA_TSTRING => Some(String::from_utf8_lossy(bytes(state, idx)).into_owned()),
            ffi::LUA_TNUMBER if ffi::lua_isinteger(state, idx) != 0 => {
                Some(ffi::lua_tointegerx(state, idx, std::ptr::null_mut()).to_string())
            }
            ffi::LUA_TNUMBER => Some(
                Value::Float(ffi::lua_tonumberx(state, idx, std::ptr::null_mut()))
                    .to_display_string(),
            ),
            ffi::LUA_TBOOLEAN => Some((ffi::lua_toboolean(state, idx) != 0).to_string()),
            _ => None,
        }
    }
}

/// The bytes of the string at `idx` (valid while it is on the stack).
unsafe fn bytes<'a>(state: *mut ffi::lua_State, idx: c_int) -> &'a [u8] {
    unsafe {
        let mut len = 0usize;
        let ptr = ffi::lua_tolstring(state, idx, &mut len);
        if ptr.is_null() {
            return &[];
        }
        std::slice::from_raw_parts(ptr.cast(), len)
    }
}
