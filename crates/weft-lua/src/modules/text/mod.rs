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

use mlua::{Lua, Table};
use weft_core::Error;

/// Builds the `text` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("regexp", regexp::module(lua)?)?;
    t.set("diff", diff::module(lua)?)?;
    t.set("splitter", splitter::module(lua)?)?;
    Ok(t)
}

/// Raises `e` as an error object (for the methods without an error slot).
fn raised(e: Error) -> mlua::Error {
    mlua::Error::external(e)
}
