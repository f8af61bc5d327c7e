//! `text.regexp.compile(pattern)` and the Regexp object, on `regex::bytes` (RE2-like
//! syntax, linear-time matching, any bytes as haystack: Lua strings need not be UTF-8).
//!
//! Patterns compile within [`PROGRAM_LIMIT`] and [`DFA_LIMIT`], so a pattern that would
//! expand to a huge automaton (`(a{1000}){1000}`) is an Invalid error rather than a
//! memory spike. Indices are byte offsets, 1-based and inclusive as Lua's `string.sub`
//! takes them. Method arguments of the wrong type raise an Invalid error.

use mlua::{BorrowedBytes, Lua, MultiValue, Table, UserData, UserDataMethods, Value as LuaValue};
use regex::bytes::{Captures, Regex, RegexBuilder};
use weft_core::Error;

use super::raised;
use crate::modules::args;

/// The most memory a compiled pattern may take.
const PROGRAM_LIMIT: usize = 4 << 20;

/// The most memory the lazy DFA of a pattern may cache while matching.
const DFA_LIMIT: usize = 8 << 20;

/// A compiled pattern.
struct Regexp(Regex);

/// Builds the `text.regexp` table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "compile",
        lua.create_function(|lua, args: MultiValue| {
            args::reply(lua, compile(args), |re| {
                lua.create_userdata(re).map(LuaValue::UserData)
            })
        })?,
    )?;
    Ok(t)
}

/// `compile(pattern)`: Invalid for a non-string, non-UTF-8 or malformed pattern, or one
/// past the size limits.
fn compile(args: MultiValue) -> Result<Regexp, Error> {
    const FUNC: &str = "text.regexp.compile";
    let args = args::at_most(FUNC, args, 1)?;
    let pattern = args::text(FUNC, "pattern", &args[0])?;
    RegexBuilder::new(&pattern)
        .size_limit(PROGRAM_LIMIT)
        .dfa_size_limit(DFA_LIMIT)
        .build()
        .map(Regexp)
        .map_err(|e| Error::invalid(format!("{FUNC}: invalid pattern: {e}")))
}

impl UserData for Regexp {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("match_string", |_, this, args: MultiValue| {
            Ok(this.0.is_match(&subject("match_string", args, 1)?[0]))
        });
        m.add_method("find_string", |lua, this, args: MultiValue| {
            let s = subject("find_string", args, 1)?;
            match this.0.find(&s[0]) {
                Some(found) => Ok(LuaValue::String(lua.create_string(found.as_bytes())?)),
                None => Ok(LuaValue::Nil),
            }
        });
        m.add_method("find_all_string", |lua, this, args: MultiValue| {
            let s = subject("find_all_string", args, 1)?;
            let all = lua.create_table()?;
            for found in this.0.find_iter(&s[0]) {
                all.raw_push(lua.create_string(found.as_bytes())?)?;
            }
            Ok(all)
        });
        m.add_method("find_string_submatch", |lua, this, args: MultiValue| {
            let s = subject("find_string_submatch", args, 1)?;
            match this.0.captures(&s[0]) {
                Some(caps) => Ok(LuaValue::Table(groups(lua, &caps)?)),
                None => Ok(LuaValue::Nil),
            }
        });
        m.add_method("find_all_string_submatch", |lua, this, args: MultiValue| {
            let s = subject("find_all_string_submatch", args, 1)?;
            let all = lua.create_table()?;
            for caps in this.0.captures_iter(&s[0]) {
                all.raw_push(groups(lua, &caps)?)?;
            }
            Ok(all)
        });
        m.add_method("find_string_index", |lua, this, args: MultiValue| {
            let s = subject("find_string_index", args, 1)?;
            match this.0.find(&s[0]) {
                Some(found) => Ok(LuaValue::Table(span(lua, found.start(), found.end())?)),
                None => Ok(LuaValue::Nil),
            }
        });
        m.add_method("find_all_string_index", |lua, this, args: MultiValue| {
            let s = subject("find_all_string_index", args, 1)?;
            let all = lua.create_table()?;
            for found in this.0.find_iter(&s[0]) {
                all.raw_push(span(lua, found.start(), found.end())?)?;
            }
            // No match is nil here, as in Wippy (the other find_all methods give `{}`).
            Ok(if all.raw_len() == 0 {
                LuaValue::Nil
            } else {
                LuaValue::Table(all)
            })
        });
        m.add_method("replace_all_string", |lua, this, args: MultiValue| {
            let s = subject("replace_all_string", args, 2)?;
            lua.create_string(this.0.replace_all(&s[0], &s[1][..]))
        });
        m.add_method("split", |lua, this, args: MultiValue| {
            let func = "text.Regexp:split";
            let args = args::at_most(func, args, 2).map_err(raised)?;
            let s = args::bytes(func, "s", &args[0]).map_err(raised)?;
            let n = args::int(func, "n", &args[1], i64::MIN..=i64::MAX).map_err(raised)?;
            let all = lua.create_table()?;
            let parts: Box<dyn Iterator<Item = &[u8]>> = match n.unwrap_or(-1) {
                n if n < 0 => Box::new(this.0.split(&s)),
                n => Box::new(this.0.splitn(&s, usize::try_from(n).unwrap_or(usize::MAX))),
            };
            for part in parts {
                all.raw_push(lua.create_string(part)?)?;
            }
            Ok(all)
        });
        m.add_method("num_subexp", |_, this, args: MultiValue| {
            args::at_most("text.Regexp:num_subexp", args, 0).map_err(raised)?;
            Ok(this.0.captures_len() - 1)
        });
        m.add_method("subexp_names", |lua, this, args: MultiValue| {
            args::at_most("text.Regexp:subexp_names", args, 0).map_err(raised)?;
            lua.create_sequence_from(this.0.capture_names().map(|n| n.unwrap_or("")))
        });
        m.add_method("string", |_, this, args: MultiValue| {
            args::at_most("text.Regexp:string", args, 0).map_err(raised)?;
            Ok(this.0.as_str().to_string())
        });
    }
}

/// The `count` string arguments of `method`, as bytes (any other argument raises).
fn subject(method: &str, args: MultiValue, count: usize) -> mlua::Result<Vec<BorrowedBytes>> {
    let func = format!("text.Regexp:{method}");
    let args = args::at_most(&func, args, count).map_err(raised)?;
    let names = ["s", "replacement"];
    args.iter()
        .zip(names)
        .map(|(v, name)| args::bytes(&func, name, v))
        .collect::<Result<_, _>>()
        .map_err(raised)
}

/// The whole match and every group (`""` for a group that took no part).
fn groups(lua: &Lua, caps: &Captures) -> mlua::Result<Table> {
    lua.create_sequence_from(
        caps.iter()
            .map(|g| lua.create_string(g.map_or(&b""[..], |g| g.as_bytes())))
            .collect::<mlua::Result<Vec<_>>>()?,
    )
}

/// `{start, end}`: 1-based, inclusive byte positions.
fn span(lua: &Lua, start: usize, end: usize) -> mlua::Result<Table> {
    lua.create_sequence_from([start + 1, end])
}
