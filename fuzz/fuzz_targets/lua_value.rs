//! Lua ⇄ `Value` (`weft_lua::fuzzing`): arbitrary values copied into a Lua VM and back,
//! and small generated Lua chunks (`weft_fuzz::lua_src`) whose results are copied out,
//! in and out again. Nothing may panic; where a copy is defined it must be exact:
//! - a value comes back as itself, but for what Lua cannot hold (nil in a map is
//!   absent, an empty array is an empty table, so `{}`); arrays with nil items and NaN
//!   are not compared;
//! - nesting up to `MAX_DEPTH` tables converts, one more level is an error;
//! - a value out of Lua, copied in and out again, is unchanged.

#![no_main]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use mlua::{HookTriggers, Lua, LuaOptions, StdLib, VmState};
use weft_core::{Error, Map, Value};
use weft_fuzz::{lua_src, value};
use weft_lua::fuzzing::{MAX_DEPTH, to_lua, to_value};

/// Instructions a chunk (with the metamethods conversion runs) may execute, in thousands.
const BUDGET: u32 = 200;

/// A VM with weft's standard libraries, a memory cap, an instruction budget and the
/// globals the chunks use (`G`, `E`).
fn vm() -> Lua {
    let libs = StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::COROUTINE | StdLib::UTF8;
    let lua = Lua::new_with(libs, LuaOptions::default()).expect("lua");
    lua.set_memory_limit(64 << 20).expect("memory limit");
    let used = Arc::new(AtomicU32::new(0));
    lua.set_hook(
        HookTriggers::new().every_nth_instruction(1000),
        move |_, _| {
            if used.fetch_add(1, Ordering::Relaxed) >= BUDGET {
                return Err(mlua::Error::runtime("instruction budget exhausted"));
            }
            Ok(VmState::Continue)
        },
    )
    .expect("hook");
    let globals = lua.globals();
    globals.set("G", lua.create_table().expect("G")).expect("G");
    let err = to_lua(&lua, &Value::from(Error::invalid("boom"))).expect("E");
    globals.set("E", err).expect("E");
    lua
}

/// What `v` becomes after a trip through Lua, or `None` where that is not defined.
fn expected(v: &Value) -> Option<Value> {
    Some(match v {
        Value::Float(f) if f.is_nan() => return None,
        Value::Array(items) if items.is_empty() => Value::map(Map::new()),
        Value::Array(items) => {
            if items.iter().any(|i| matches!(i, Value::Nil)) {
                return None;
            }
            Value::array(items.iter().map(expected).collect::<Option<Vec<_>>>()?)
        }
        Value::Map(m) => {
            let mut out = Map::new();
            for (k, item) in m.iter().filter(|(_, item)| !matches!(item, Value::Nil)) {
                out.insert(k.clone(), expected(item)?);
            }
            Value::map(out)
        }
        other => other.clone(),
    })
}

/// A value into Lua and back: exact where defined.
fn value_trip(u: &mut Unstructured) {
    let lua = vm();
    let Ok(v) = value::value(u, 0) else {
        return;
    };
    let back = to_lua(&lua, &v).map(|l| to_value(&lua, &l));
    match (back, expected(&v)) {
        (Ok(Ok(back)), Some(want)) => assert_eq!(back, want, "from {v:?}"),
        (Ok(Ok(_)), None) => {}
        (Ok(Err(e)), _) => panic!("{v:?} does not come back: {e}"),
        (Err(e), _) => assert!(matches!(e, mlua::Error::MemoryError(_)), "{e}"),
    }
}

/// Nesting around `MAX_DEPTH`: deeper than the limit is an error, never a crash.
fn depth_trip(u: &mut Unstructured) {
    let lua = vm();
    let Ok(depth) = u.int_in_range(MAX_DEPTH - 2..=MAX_DEPTH + 2) else {
        return;
    };
    let Ok(v) = value::deep(u, depth) else {
        return;
    };
    let lv = to_lua(&lua, &v).expect("to lua");
    match to_value(&lua, &lv) {
        Ok(_) => assert!(depth <= MAX_DEPTH, "{depth} levels converted"),
        Err(e) => assert!(depth > MAX_DEPTH, "{depth} levels: {e}"),
    }
}

/// A generated chunk's results out of Lua, in and out again.
fn chunk_trip(u: &mut Unstructured) {
    let Ok(src) = lua_src::chunk(u) else {
        return;
    };
    let lua = vm();
    let results = lua.load(&src).eval::<mlua::MultiValue>();
    if std::env::var_os("WEFT_FUZZ_PRINT").is_some() {
        // To see what an input means: WEFT_FUZZ_PRINT=1 lua_value <file>.
        eprintln!("{src}\n  -> {:?}", results.as_ref().map(|r| r.len()));
    }
    let Ok(results) = results else {
        return;
    };
    for result in results.iter() {
        let Ok(first) = to_value(&lua, result) else {
            continue;
        };
        let again = to_lua(&lua, &first).map(|l| to_value(&lua, &l));
        match again {
            Ok(Ok(second)) => {
                if expected(&first).is_some() {
                    assert_eq!(second, first, "from {src}");
                }
            }
            Ok(Err(e)) => panic!("{first:?} from {src} does not come back: {e}"),
            Err(e) => assert!(matches!(e, mlua::Error::MemoryError(_)), "{e}"),
        }
    }
    drop(results);
    let _ = lua.gc_collect();
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    match u.int_in_range(0..=5u8) {
        Ok(0) => depth_trip(&mut u),
        Ok(1 | 2) => value_trip(&mut u),
        _ => chunk_trip(&mut u),
    }
});
