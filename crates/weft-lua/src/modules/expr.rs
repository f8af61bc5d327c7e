//! The `expr` module (Wippy's `expr` spec): `eval(expression, env?)` and
//! `compile(expression, env?)` → a `Program` with `run(env?)`, on [`weft_expr`], the
//! evaluator `security.policy.expr` uses (the language is in docs/architecture.md).
//!
//! Compiled expressions are kept in one process-wide cache keyed by the expression text
//! (the env is not part of the key), least recently used out first, bounded in entries
//! and in bytes of text. `env` is a table of variables, converted once per run; a
//! missing variable is nil. Failures are `nil, err`: Invalid for a missing, empty or
//! non-string expression and for an env that is not a table of names, Internal for a
//! syntax error, an evaluation error or a result that does not convert.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use mlua::{Lua, Table, UserData, UserDataMethods, Value as LuaValue};
use parking_lot::Mutex;
use weft_core::{Error, Map, Value};
use weft_expr::Program as Compiled;

use crate::convert;
use crate::errors;

/// How many compiled expressions the cache keeps (the spec's default capacity).
const CACHE_ENTRIES: usize = 1000;

/// How many bytes of expression text the cache keeps (a program's size follows its text).
const CACHE_BYTES: usize = 1 << 20;

/// The longest expression the cache keeps; longer ones are compiled at every `eval`.
const MAX_CACHED_TEXT: usize = 16 * 1024;

/// Builds the `expr` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "eval",
        lua.create_function(|lua, (expression, env): (LuaValue, LuaValue)| {
            let result =
                cached(&expression, "expr.eval").and_then(|p| run(lua, &p, &env, "expr.eval"));
            returned(lua, result)
        })?,
    )?;
    // The second argument is a type hint in Wippy; weft has no types to check.
    t.set(
        "compile",
        lua.create_function(|lua, expression: LuaValue| {
            match cached(&expression, "expr.compile") {
                Ok(program) => Ok((
                    LuaValue::UserData(lua.create_userdata(Program(program))?),
                    LuaValue::Nil,
                )),
                Err(e) => errors::fail(lua, e),
            }
        })?,
    )?;
    Ok(t)
}

/// A compiled expression in Lua.
struct Program(Arc<Compiled>);

impl UserData for Program {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("run", |lua, this, env: LuaValue| {
            returned(lua, run(lua, &this.0, &env, "program:run"))
        });
    }
}

/// Runs `program` with the variables of the Lua table `env` (nil: none).
fn run(lua: &Lua, program: &Compiled, env: &LuaValue, func: &str) -> Result<Value, Error> {
    let env = match env {
        LuaValue::Nil => Map::new(),
        LuaValue::Table(_) => match convert::to_value(lua, env) {
            Ok(Value::Map(m)) => Arc::unwrap_or_clone(m),
            Ok(_) => {
                return Err(Error::invalid(format!(
                    "{func}: env must be a table of named variables, got a list"
                )));
            }
            Err(e) => return Err(Error::invalid(format!("{func}: env: {}", e.message()))),
        },
        other => {
            return Err(Error::invalid(format!(
                "{func}: env must be a table, got {}",
                other.type_name()
            )));
        }
    };
    program
        .run(&env)
        .map(weft_expr::Val::into_value)
        .map_err(|e| Error::internal(format!("{func}: {e}")))
}

/// `value, nil` or `nil, err`; a result Lua cannot hold (out of memory) is Internal.
fn returned(lua: &Lua, result: Result<Value, Error>) -> mlua::Result<(LuaValue, LuaValue)> {
    match result.map(|v| convert::to_lua(lua, &v)) {
        Ok(Ok(v)) => Ok((v, LuaValue::Nil)),
        Ok(Err(e)) => errors::fail(
            lua,
            Error::internal(format!("expr: cannot convert the result: {e}")),
        ),
        Err(e) => errors::fail(lua, e),
    }
}

/// The compiled `expression`, from the cache or compiled now (and cached).
fn cached(expression: &LuaValue, func: &str) -> Result<Arc<Compiled>, Error> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    let text = match expression {
        LuaValue::String(s) => s
            .to_str()
            .map_err(|_| Error::invalid(format!("{func}: expression must be UTF-8 text")))?,
        LuaValue::Nil => return Err(Error::invalid(format!("{func}: expression is empty"))),
        other => {
            return Err(Error::invalid(format!(
                "{func}: expression must be a string, got {}",
                other.type_name()
            )));
        }
    };
    if text.trim().is_empty() {
        return Err(Error::invalid(format!("{func}: expression is empty")));
    }
    let cache = CACHE.get_or_init(|| Mutex::new(Cache::new(CACHE_ENTRIES, CACHE_BYTES)));
    if let Some(program) = cache.lock().get(&text) {
        return Ok(program);
    }
    let program = Compiled::compile(&text)
        .map(Arc::new)
        .map_err(|e| Error::internal(format!("{func}: {e}")))?;
    if text.len() <= MAX_CACHED_TEXT {
        cache.lock().insert(&text, program.clone());
    }
    Ok(program)
}

/// Compiled expressions by text, least recently used out first.
struct Cache {
    entries: HashMap<Box<str>, Entry>,
    /// Bumped at every use; an entry's `used` is the tick of its last use.
    tick: u64,
    /// Bytes of text held.
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
}

struct Entry {
    program: Arc<Compiled>,
    used: u64,
}

impl Cache {
    fn new(max_entries: usize, max_bytes: usize) -> Cache {
        Cache {
            entries: HashMap::new(),
            tick: 0,
            bytes: 0,
            max_entries,
            max_bytes,
        }
    }

    /// The program for `text`, marked as used.
    fn get(&mut self, text: &str) -> Option<Arc<Compiled>> {
        self.tick += 1;
        let entry = self.entries.get_mut(text)?;
        entry.used = self.tick;
        Some(entry.program.clone())
    }

    /// Keeps `program` for `text`, dropping the least recently used entries to make room.
    fn insert(&mut self, text: &str, program: Arc<Compiled>) {
        if self.entries.contains_key(text) || text.len() > self.max_bytes {
            return;
        }
        while self.entries.len() >= self.max_entries || self.bytes + text.len() > self.max_bytes {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone());
            let Some(oldest) = oldest else { break };
            self.entries.remove(&oldest);
            self.bytes -= oldest.len();
        }
        self.tick += 1;
        self.bytes += text.len();
        let used = self.tick;
        self.entries.insert(text.into(), Entry { program, used });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program(text: &str) -> Arc<Compiled> {
        Arc::new(Compiled::compile(text).unwrap())
    }

    #[test]
    fn the_cache_drops_the_least_recently_used() {
        let mut cache = Cache::new(2, 100);
        cache.insert("1", program("1"));
        cache.insert("2", program("2"));
        assert!(cache.get("1").is_some());
        cache.insert("3", program("3"));
        assert!(cache.get("2").is_none(), "2 was the least recently used");
        assert!(cache.get("1").is_some());
        assert!(cache.get("3").is_some());
        assert_eq!(cache.entries.len(), 2);
    }

    #[test]
    fn the_cache_is_bounded_in_bytes_of_text() {
        let mut cache = Cache::new(10, 10);
        cache.insert("1 + 1", program("1 + 1"));
        cache.insert("2 + 2", program("2 + 2"));
        assert_eq!(cache.bytes, 10);
        cache.insert("33", program("33"));
        assert!(cache.get("1 + 1").is_none());
        assert!(cache.get("2 + 2").is_some());
        assert_eq!(cache.bytes, 7);
        // A text larger than the whole budget is never kept.
        let long = "1".repeat(11);
        cache.insert(&long, program(&long));
        assert!(cache.get(&long).is_none());
        assert_eq!(cache.entries.len(), 2);
    }
}
