//! The C functions a driver coroutine starts with. mlua makes a call's coroutine inside
//! `Function::call_async` and does not tell which it is, so the function it runs tells:
//! its first act, before any Lua instruction, lists its own state as the driver of the
//! poll running it (`super::lane::fill`). Being C functions, they report it without a
//! Lua frame calling a C function to do so.
//!
//! Both call a function that may yield (to tokio, through mlua) with a continuation, as
//! Lua's own `xpcall` does: when the coroutine is resumed after a yield, Lua runs the
//! continuation instead of returning into the frame that called, so these frames hold
//! nothing that needs dropping when Lua jumps over them.

use std::os::raw::c_int;

use mlua::{Function, Lua, ffi};

use super::lane;

/// `protected(f, ...)`: lists the running coroutine as its poll's driver, then returns
/// `xpcall(f, handler, ...)`, the handler being the closure's upvalue.
pub fn protected(lua: &Lua, handler: Function) -> mlua::Result<Function> {
    // SAFETY: pushes one closure over the handler mlua pushed; `protected_call` keeps
    // Lua's stack discipline.
    unsafe {
        lua.exec_raw(handler, |state| {
            ffi::lua_pushcclosure(state, protected_call, 1);
        })
    }
}

/// `forward(f, ...)`: lists the running coroutine as its poll's driver, then returns
/// `f(...)` (errors propagate).
pub fn forward(lua: &Lua) -> mlua::Result<Function> {
    // SAFETY: `forward_call` keeps Lua's stack discipline.
    unsafe { lua.create_c_function(forward_call) }
}

/// [`protected`]'s body. The stack holds `f` and its arguments; it becomes
/// `handler, true, f, args...` and `f` is called in protected mode, so its results land
/// after `true` (Lua's `luaB_xpcall`).
unsafe extern "C-unwind" fn protected_call(state: *mut ffi::lua_State) -> c_int {
    lane::fill(state);
    // SAFETY: a C function's own stack; `lua_pcallk` with a continuation, as `xpcall`.
    unsafe {
        let nargs = ffi::lua_gettop(state) - 1;
        if nargs < 0 {
            return ffi::luaL_error(state, c"weft: a call's body is missing".as_ptr());
        }
        ffi::luaL_checkstack(state, 2, c"too many arguments".as_ptr());
        ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
        ffi::lua_pushboolean(state, 1);
        ffi::lua_rotate(state, 1, 2);
        let status = ffi::lua_pcallk(state, nargs, ffi::LUA_MULTRET, 1, 1, Some(protected_done));
        protected_done(state, status, 1)
    }
}

/// What [`protected_call`] returns once `f` ended: `true` and its results, or `false` and
/// the error the handler made (Lua's `finishpcall`); `below` counts the slots under
/// `true` (the handler's).
unsafe extern "C-unwind" fn protected_done(
    state: *mut ffi::lua_State,
    status: c_int,
    below: ffi::lua_KContext,
) -> c_int {
    // SAFETY: the stack `protected_call` built, with `f`'s results or its error on top.
    unsafe {
        if status != ffi::LUA_OK && status != ffi::LUA_YIELD {
            ffi::lua_pushboolean(state, 0);
            ffi::lua_pushvalue(state, -2);
            return 2;
        }
        ffi::lua_gettop(state) - below as c_int
    }
}

/// [`forward`]'s body: calls `f` (index 1) with the values above it and returns all it
/// returns.
unsafe extern "C-unwind" fn forward_call(state: *mut ffi::lua_State) -> c_int {
    lane::fill(state);
    // SAFETY: a C function's own stack; `lua_callk` with a continuation.
    unsafe {
        let nargs = ffi::lua_gettop(state) - 1;
        if nargs < 0 {
            return ffi::luaL_error(state, c"weft: a call's body is missing".as_ptr());
        }
        ffi::lua_callk(state, nargs, ffi::LUA_MULTRET, 0, Some(forward_done));
        forward_done(state, ffi::LUA_OK, 0)
    }
}

/// What [`forward_call`] returns once `f` returned: all its results.
unsafe extern "C-unwind" fn forward_done(
    state: *mut ffi::lua_State,
    _status: c_int,
    _ctx: ffi::lua_KContext,
) -> c_int {
    // SAFETY: reads the stack's height.
    unsafe { ffi::lua_gettop(state) }
}

#[cfg(test)]
mod tests {
    use mlua::{MultiValue, Value};

    use super::*;

    /// A VM with `pause()`, an async function that returns Pending once, so the code
    /// calling it yields to tokio and is resumed through the continuation.
    fn vm() -> Lua {
        let lua = Lua::new();
        let pause = lua
            .create_async_function(|_, ()| async {
                tokio::task::yield_now().await;
                Ok(())
            })
            .unwrap();
        lua.globals().set("pause", pause).unwrap();
        lua
    }

    /// Runs `f` with `args` as a call's coroutine running `body`, as weft runs a call.
    fn run(lua: &Lua, body: &Function, f: &str, args: MultiValue) -> mlua::Result<Vec<Value>> {
        let f: Function = lua.load(f).eval().unwrap();
        let mut all = args;
        all.push_front(Value::Function(f));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime
            .block_on(body.call_async::<MultiValue>(all))
            .map(|out| out.into_vec())
    }

    fn ints(values: &[i64]) -> MultiValue {
        values.iter().map(|&i| Value::Integer(i)).collect()
    }

    #[test]
    fn protected_returns_true_and_every_result_before_and_after_a_yield() {
        let lua = vm();
        let handler = lua.create_function(|_, v: Value| Ok(v)).unwrap();
        let body = protected(&lua, handler).unwrap();
        for f in [
            "return function(a, b) return a, b, a + b end",
            "return function(a, b) pause() pause() return a, b, a + b end",
        ] {
            let out = run(&lua, &body, f, ints(&[2, 3])).unwrap();
            assert_eq!(
                out,
                [
                    Value::Boolean(true),
                    Value::Integer(2),
                    Value::Integer(3),
                    Value::Integer(5)
                ],
                "{f}"
            );
        }
        let out = run(&lua, &body, "return function() end", ints(&[])).unwrap();
        assert_eq!(out, [Value::Boolean(true)]);
    }

    #[test]
    fn protected_returns_false_and_what_the_handler_made_of_an_error() {
        let lua = vm();
        let handler = lua
            .create_function(|lua, v: Value| {
                Ok(Value::String(lua.create_string(format!(
                    "handled: {}",
                    v.to_string().unwrap_or_default()
                ))?))
            })
            .unwrap();
        let body = protected(&lua, handler).unwrap();
        for f in [
            "return function(a) error('bad ' .. a, 0) end",
            "return function(a) pause() error('bad ' .. a, 0) end",
        ] {
            let out = run(&lua, &body, f, ints(&[7])).unwrap();
            assert_eq!(out.len(), 2, "{f}");
            assert_eq!(out[0], Value::Boolean(false));
            assert_eq!(out[1].to_string().unwrap(), "handled: bad 7", "{f}");
        }
    }

    /// The poll's driver is not known before the call's coroutine runs; its first
    /// function lists it.
    #[test]
    fn the_first_function_lists_its_coroutine_as_the_polls_driver() {
        let lua = vm();
        super::super::install(&lua).unwrap();
        let handler = lua.create_function(|_, v: Value| Ok(v)).unwrap();
        for body in [protected(&lua, handler).unwrap(), forward(&lua).unwrap()] {
            let thread = lua.create_thread(body).unwrap();
            let f: Function = lua.load("return function() return 1 end").eval().unwrap();
            let listed = lane::enter(super::super::main_state(&lua), 0);
            assert_eq!(listed.driver(), 0);
            let _: MultiValue = thread.resume(f).unwrap();
            assert_eq!(listed.driver(), thread.state() as usize);
        }
    }

    #[test]
    fn forward_returns_every_result_and_raises_what_the_function_raises() {
        let lua = vm();
        let body = forward(&lua).unwrap();
        let out = run(
            &lua,
            &body,
            "return function(a) pause() return a, a * 2 end",
            ints(&[4]),
        )
        .unwrap();
        assert_eq!(out, [Value::Integer(4), Value::Integer(8)]);
        let err = run(
            &lua,
            &body,
            "return function() pause() error('gone', 0) end",
            ints(&[]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("gone"), "{err}");
    }
}
