//! The `text` module (Wippy's `text` spec): `text.regexp.compile` (regexps with the
//! `regex` crate, [`regexp`]), `text.diff.new` (diffs and fuzzy patches with the
//! diff-match-patch port `dmp`, [`diff`]) and `text.splitter.recursive` / `.markdown`
//! (chunking with `text-splitter`, [`splitter`]).
//!
//! Constructors and the methods whose spec has an error slot return `value, nil` or
//! `nil, err`; the other methods (`match_string`, `summarize`, `patch_apply`, …) raise
//! their errors. Bad input is Invalid, never retryable.

mod diff;
mod regexp;
mod splitter;

use mlua::{Lua, Table, Value as LuaValue};
use weft_core::Error;

use crate::errors;

/// Builds the `text` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("regexp", regexp::module(lua)?)?;
    t.set("diff", diff::module(lua)?)?;
    t.set("splitter", splitter::module(lua)?)?;
    Ok(t)
}

/// `value, nil` with the Lua value `make` builds of `r`'s, or `nil, err` with its error;
/// a failure of Lua itself (out of memory) raises.
fn returned<T>(
    lua: &Lua,
    r: Result<T, Error>,
    make: impl FnOnce(T) -> mlua::Result<LuaValue>,
) -> mlua::Result<(LuaValue, LuaValue)> {
    match r {
        Ok(v) => Ok((make(v)?, LuaValue::Nil)),
        Err(e) => errors::fail(lua, e),
    }
}

/// Raises `e` as an error object (for the methods without an error slot).
fn raised(e: Error) -> mlua::Error {
    mlua::Error::external(e)
}
