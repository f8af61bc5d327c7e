//! `coroutine.resume`, `coroutine.wrap` and `coroutine.close` that list the coroutine they
//! run on this thread's lane (`super::lane`) while it runs, and pass a pace yield on.
//!
//! - Listing lets the slice timer arm a coroutine that spins even when it was made before
//!   its resumer was armed (a coroutine copies its creator's hook when it is made, and
//!   never again).
//! - A *pace yield* is the armed hook yielding a coroutine so the call can hand its
//!   thread back to tokio. Its resumer (one of these functions) must not return it to
//!   Lua code: it yields its own state in turn (noting it, as the hook notes its own:
//!   `super::lane::pace_yield`, so an outer resumer knows), and when resumed it resumes
//!   the coroutine again. So the yield travels up to the call's own coroutine, which mlua
//!   yields to tokio, and Lua code never sees it. The hook only pace-yields a coroutine
//!   when every resumer on the way could yield at its resume (`super::lane::may_yield`).
//!
//! Otherwise each behaves as Lua's own: same results, same errors, same messages. The
//! resuming itself (Lua's `auxresume`, `luaB_coresume` and `auxwrap`, a few lines each
//! around `lua_resume`) is rewritten here, so a resume is listed without a second C
//! call; making and closing coroutines is Lua's own.

use std::os::raw::c_int;
use std::sync::OnceLock;

use mlua::{Function, Lua, Table, ffi};

use super::lane;

/// Lua's own `coroutine.resume` (for its argument errors), `close` and `wrap` (the same
/// C functions in every VM).
static RESUME: OnceLock<ffi::lua_CFunction> = OnceLock::new();
static CLOSE: OnceLock<ffi::lua_CFunction> = OnceLock::new();
static WRAP: OnceLock<ffi::lua_CFunction> = OnceLock::new();

/// Replaces `coroutine.resume`, `coroutine.wrap` and `coroutine.close` in `lua`.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let coroutine: Table = lua.globals().get("coroutine")?;
    let original = |name: &str| -> mlua::Result<ffi::lua_CFunction> {
        let f: Function = coroutine.get(name)?;
        let mut found = None;
        // SAFETY: reads the function on top of the stack mlua hands the closure.
        unsafe {
            lua.exec_raw::<()>(f, |state| found = ffi::lua_tocfunction(state, -1))?;
        }
        found.ok_or_else(|| mlua::Error::runtime(format!("coroutine.{name} is not Lua's own")))
    };
    let _ = RESUME.set(original("resume")?);
    let _ = CLOSE.set(original("close")?);
    let _ = WRAP.set(original("wrap")?);
    // SAFETY: the C functions below keep Lua's stack discipline (see each).
    unsafe {
        coroutine.raw_set("resume", lua.create_c_function(resume)?)?;
        coroutine.raw_set("close", lua.create_c_function(close)?)?;
        coroutine.raw_set("wrap", lua.create_c_function(wrap)?)?;
    }
    Ok(())
}

/// `coroutine.resume(co, ...)`: `true` and what `co` yields or returns, or `false` and
/// its error (Lua's `luaB_coresume`, over [`resume_listed`]).
unsafe extern "C-unwind" fn resume(state: *mut ffi::lua_State) -> c_int {
    let Some(original) = RESUME.get() else {
        return unsafe { not_set_up(state) };
    };
    unsafe {
        let co = ffi::lua_tothread(state, 1);
        if co.is_null() {
            // Lua's own raises the argument error, naming the function as called.
            return original(state);
        }
        let passes = ffi::lua_isyieldable(state) != 0;
        resume_from(state, co, passes)
    }
}

/// Resumes `co` (index 1) with the values above it and returns `resume`'s results;
/// passes a pace yield on.
unsafe fn resume_from(state: *mut ffi::lua_State, co: *mut ffi::lua_State, passes: bool) -> c_int {
    unsafe {
        loop {
            let n = resume_listed(state, co, ffi::lua_gettop(state) - 1, passes);
            if n == PACED {
                ffi::lua_settop(state, 1);
                if passes {
                    // The stack does not survive the yield (mlua clears a yielded
                    // coroutine's stack), so `co` waits in the registry.
                    let co_ref = ffi::luaL_ref(state, ffi::LUA_REGISTRYINDEX);
                    return pass_on(state, co_ref as ffi::lua_KContext, resume_again);
                }
                continue;
            }
            if n < 0 {
                ffi::lua_pushboolean(state, 0);
                ffi::lua_insert(state, -2);
                return 2;
            }
            ffi::lua_pushboolean(state, 1);
            ffi::lua_insert(state, -(n + 1));
            return n + 1;
        }
    }
}

/// [`resume`] resumed after passing a pace yield on: resumes the coroutine (registry
/// reference `co_ref`) again.
unsafe extern "C-unwind" fn resume_again(
    state: *mut ffi::lua_State,
    _status: c_int,
    co_ref: ffi::lua_KContext,
) -> c_int {
    unsafe {
        ffi::lua_settop(state, 0);
        ffi::lua_rawgeti(state, ffi::LUA_REGISTRYINDEX, co_ref as ffi::lua_Integer);
        ffi::luaL_unref(state, ffi::LUA_REGISTRYINDEX, co_ref as c_int);
        let co = ffi::lua_tothread(state, 1);
        resume_from(state, co, true)
    }
}

/// `coroutine.wrap(f)`: Lua's own (called in place, so its argument errors name `wrap`)
/// makes the coroutine; the function returned is [`wrapped`] over it.
unsafe extern "C-unwind" fn wrap(state: *mut ffi::lua_State) -> c_int {
    let Some(original) = WRAP.get() else {
        return unsafe { not_set_up(state) };
    };
    unsafe {
        original(state);
        // Lua's function keeps its coroutine as its first upvalue.
        if ffi::lua_getupvalue(state, -1, 1).is_null() {
            return not_set_up(state);
        }
        ffi::lua_pushcclosure(state, wrapped, 1);
        1
    }
}

/// A wrapped coroutine's function (upvalue: the coroutine): resumes it with the
/// arguments and returns what it yields or returns; raises what it raises, closing it,
/// with where it was called added to a string error (Lua's `auxwrap`).
unsafe extern "C-unwind" fn wrapped(state: *mut ffi::lua_State) -> c_int {
    unsafe {
        let passes = ffi::lua_isyieldable(state) != 0;
        wrapped_from(state, passes)
    }
}

unsafe fn wrapped_from(state: *mut ffi::lua_State, passes: bool) -> c_int {
    // SAFETY (the whole function): upvalue 1 is the live coroutine.
    unsafe {
        let co = ffi::lua_tothread(state, ffi::lua_upvalueindex(1));
        loop {
            let n = resume_listed(state, co, ffi::lua_gettop(state), passes);
            if n == PACED {
                ffi::lua_settop(state, 0);
                if passes {
                    return pass_on(state, 0, wrapped_again);
                }
                continue;
            }
            if n < 0 {
                return raise_from(state, co);
            }
            return n;
        }
    }
}

/// [`wrapped`] resumed after passing a pace yield on: resumes the coroutine (its
/// upvalue) again.
unsafe extern "C-unwind" fn wrapped_again(
    state: *mut ffi::lua_State,
    _status: c_int,
    _ctx: ffi::lua_KContext,
) -> c_int {
    unsafe {
        ffi::lua_settop(state, 0);
        wrapped_from(state, true)
    }
}

/// [`resume_listed`]'s result when `co` made a pace yield (its values are dropped).
const PACED: c_int = -2;

/// Resumes `co` with the top `narg` values, listed on the lane while it runs (Lua's
/// `auxresume`): the count of values it yielded or returned, now on top; -1 with its
/// error on top; or [`PACED`].
unsafe fn resume_listed(
    state: *mut ffi::lua_State,
    co: *mut ffi::lua_State,
    narg: c_int,
    passes: bool,
) -> c_int {
    unsafe {
        if ffi::lua_checkstack(co, narg) == 0 {
            ffi::lua_pushstring(state, c"too many arguments to resume".as_ptr());
            return -1;
        }
        ffi::lua_xmove(state, co, narg);
        let mut nres = 0;
        let status = {
            let _listed = lane::enter_coroutine(co, passes);
            lane::take_pace_yield(co);
            ffi::lua_resume(co, state, narg, &mut nres)
        };
        if status == ffi::LUA_YIELD && lane::take_pace_yield(co) {
            ffi::lua_settop(co, -nres - 1);
            return PACED;
        }
        if status == ffi::LUA_OK || status == ffi::LUA_YIELD {
            if ffi::lua_checkstack(state, nres + 1) == 0 {
                ffi::lua_settop(co, -nres - 1);
                ffi::lua_pushstring(state, c"too many results to resume".as_ptr());
                return -1;
            }
            ffi::lua_xmove(co, state, nres);
            return nres;
        }
        ffi::lua_xmove(co, state, 1);
        -1
    }
}

/// Raises the error on top of the stack as Lua's `auxwrap` does: a coroutine that failed
/// is closed first (its error is then what closing it left), and a string error gets
/// where the wrapped function was called (unless it is out of memory).
unsafe fn raise_from(state: *mut ffi::lua_State, co: *mut ffi::lua_State) -> c_int {
    unsafe {
        let mut status = ffi::lua_status(co);
        if status != ffi::LUA_OK && status != ffi::LUA_YIELD {
            status = ffi::lua_closethread(co, state);
            ffi::lua_xmove(co, state, 1);
        }
        if status != ffi::LUA_ERRMEM && ffi::lua_type(state, -1) == ffi::LUA_TSTRING {
            ffi::luaL_where(state, 1);
            ffi::lua_insert(state, -2);
            ffi::lua_concat(state, 2);
        }
        ffi::lua_error(state)
    }
}

/// `coroutine.close(co)`: Lua's own, with `co` listed while its pending `__close`
/// handlers run (which cannot yield). Only a suspended or dead coroutine is listed:
/// those are the ones Lua's function closes without raising.
unsafe extern "C-unwind" fn close(state: *mut ffi::lua_State) -> c_int {
    let Some(original) = CLOSE.get() else {
        return unsafe { not_set_up(state) };
    };
    let co = unsafe { ffi::lua_tothread(state, 1) };
    // SAFETY: `co` is a live thread (the argument); lua_getstack only reads it.
    let closable = !co.is_null()
        && co != state
        && unsafe {
            let mut ar: ffi::lua_Debug = std::mem::zeroed();
            ffi::lua_status(co) != ffi::LUA_OK || ffi::lua_getstack(co, 0, &mut ar) == 0
        };
    if !closable {
        return unsafe { original(state) };
    }
    let _listed = lane::enter_coroutine(co, false);
    unsafe { original(state) }
}

/// Passes a pace yield on: yields `state` (with no values), noted for its resumer; Lua
/// calls `then` with `ctx` when it is resumed. Never returns (the yield unwinds this C
/// function), so nothing may be live on the Rust side.
unsafe fn pass_on(
    state: *mut ffi::lua_State,
    ctx: ffi::lua_KContext,
    then: ffi::lua_KFunction,
) -> c_int {
    lane::pace_yield(state);
    unsafe { ffi::lua_yieldk(state, 0, ctx, Some(then)) }
}

/// Raises that the wrappers were used before [`install`] found Lua's own functions.
unsafe fn not_set_up(state: *mut ffi::lua_State) -> c_int {
    unsafe { ffi::luaL_error(state, c"weft's coroutine functions are not set up".as_ptr()) }
}
