//! Keeping running Lua code in check: code that runs past its slice is made to hand the
//! thread back to tokio, and code past its frame's deadline is stopped.
//!
//! Lua code that never calls an async function (`while true do end`) never returns to
//! tokio on its own: it would hold a worker, starve timers and every other task, and
//! ignore an abort (`process.terminate`, a caller's timeout, shutdown). An instruction
//! hook catches it, but in Lua 5.4 any count hook makes *every* instruction of its
//! coroutine take the slow path, which cost ~10 % on short calls. So the hook is armed
//! only on code that has run long:
//! - each thread lists the Lua states it runs ([`lane`]): a call's coroutine for each
//!   poll ([`paced`]), a user coroutine for each resume ([`coroutines`]);
//! - a per-thread timer ([`timer`]) ticks every half [`SLICE`] while the thread runs
//!   Lua; a tick that finds the poll it saw at the previous tick still running arms the
//!   hook on the listed states, in the signal handler (`lua_sethook` is one of the few
//!   calls Lua allows from a signal handler). So a poll yields 0.5–1 ms after it began;
//! - the armed hook runs every [`CHECK_EVERY`] instructions. It yields the running
//!   coroutine when its poll is overdue, so an abort takes effect and other tasks run,
//!   and raises a Timeout once the frame's deadline (the caller's, or the entry's
//!   `limits.max_execution_ms`) has passed. A user coroutine's yield is passed on by
//!   weft's `coroutine.resume`/`wrap` up to the call's own coroutine, which mlua yields
//!   to tokio; Lua code never sees it.
//!
//! Code that cannot yield where it runs (a `table.sort` comparator, called from C) is
//! only stopped by the deadline. The hook never yields inside mlua's own loop around an
//! async Rust function ([`in_async_poller`]): that would lose the future's wake-up. Once
//! its poll is no longer overdue (the call was yielded and resumed), the hook disarms
//! itself at its next run, so code that runs long runs unhooked but for a moment per
//! slice: the next tick arms it again.
//!
//! Code inside one C function (a huge `string.rep`, `table.sort` without a Lua
//! comparator) is not interrupted until it returns.

mod coroutines;
mod driver;
mod lane;
mod timer;

pub use driver::protected;

use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;
#[cfg(feature = "pacing-switch")]
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mlua::debug::Debug;
use mlua::{FromLuaMulti, Function, HookTriggers, IntoLuaMulti, Lua, VmState, ffi};
use weft_core::Error;

use crate::frame;

/// Lua VM instructions between two runs of an armed hook.
pub const CHECK_EVERY: u32 = 1000;

/// The longest a poll runs Lua before its hook is armed to yield it (the slice timer
/// ticks every half of it, and a poll running at two ticks in a row is overdue).
pub const SLICE: Duration = Duration::from_millis(1);

/// mlua's hook function, which runs the callback set with `set_global_hook` (the same
/// function for every VM).
static MLUA_HOOK: OnceLock<ffi::lua_Hook> = OnceLock::new();

/// What a VM keeps for pacing.
struct Pacing {
    /// The VM's main state, listed with every poll (weft's conversions run metamethods
    /// on it).
    main: usize,
    /// [`driver::forward`], for [`call_async`].
    forward: Function,
}

/// Whether VMs built from now on are paced (see [`set_enabled`]).
#[cfg(feature = "pacing-switch")]
static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turns pacing off (or back on) for the VMs built from then on, to measure what it
/// costs (the pacing bench's floor). A VM built while it is off has no CPU limit: its
/// code ignores slices, deadlines and aborts. Only with the `pacing-switch` feature.
#[cfg(feature = "pacing-switch")]
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether a VM built now is paced: always, without the `pacing-switch` feature.
fn enabled() -> bool {
    #[cfg(feature = "pacing-switch")]
    return ENABLED.load(Ordering::Relaxed);
    #[cfg(not(feature = "pacing-switch"))]
    true
}

/// Installs pacing in `lua`: the hook callback (armed later, per state), the signal
/// handler and the coroutine functions that list what they run. Does nothing while
/// pacing is switched off (the `pacing-switch` feature's `set_enabled`).
pub fn install(lua: &Lua) -> mlua::Result<()> {
    if !enabled() {
        return Ok(());
    }
    let main = lua.current_thread().state();
    if MLUA_HOOK.get().is_none() {
        // mlua's hook function is private; set a hook through mlua and read it back.
        lua.set_global_hook(HookTriggers::new().every_nth_instruction(1), |_, _| {
            Ok(VmState::Continue)
        })?;
        // SAFETY: `main` is this VM's main state, alive and not running.
        if let Some(hook) = unsafe { ffi::lua_gethook(main) } {
            let _ = MLUA_HOOK.set(hook);
        }
    }
    // No triggers: mlua sets no hook on any state (it clears the hook of every coroutine
    // it makes or reuses); the slice timer's handler arms states with `shim`, which
    // runs this.
    lua.set_global_hook(HookTriggers::new(), on_hook)?;
    timer::install_handler(shim).map_err(mlua::Error::external)?;
    coroutines::install(lua)?;
    lua.set_app_data(Pacing {
        main: main as usize,
        forward: driver::forward(lua)?,
    });
    Ok(())
}

/// The VM's main state, for [`paced`] (0 in a VM built with pacing off).
pub fn main_state(lua: &Lua) -> usize {
    lua.app_data_ref::<Pacing>().map_or(0, |p| p.main)
}

/// Polls `fut`, which resumes a call's coroutine `driver` (0: not known yet, the
/// coroutine's first function tells: [`protected`]), with `main` and the driver listed on
/// the thread for each poll. A VM built with pacing off (`main` 0) is polled as is.
pub async fn paced<F: Future>(main: usize, driver: usize, fut: F) -> F::Output {
    if main == 0 {
        return fut.await;
    }
    let mut fut = pin!(fut);
    let mut driver = driver;
    std::future::poll_fn(|cx| {
        let listed = lane::enter(main, driver);
        let out = fut.as_mut().poll(cx);
        if driver == 0 {
            driver = listed.driver();
        }
        out
    })
    .await
}

/// Calls `f(args)` as a paced call of its own (for Rust code that calls back into Lua,
/// such as reading a Lua stream).
pub async fn call_async<R: FromLuaMulti>(
    lua: &Lua,
    f: Function,
    args: impl IntoLuaMulti,
) -> mlua::Result<R> {
    let pacing = lua
        .app_data_ref::<Pacing>()
        .map(|p| (p.main, p.forward.clone()));
    let Some((main, forward)) = pacing else {
        return f.call_async(args).await;
    };
    let mut all = args.into_lua_multi(lua)?;
    all.push_front(mlua::Value::Function(f));
    paced(main, 0, forward.call_async::<R>(all)).await
}

/// The hook the timer's handler arms: notes which state fires, then runs mlua's hook
/// function (which calls [`on_hook`]).
unsafe extern "C-unwind" fn shim(state: *mut ffi::lua_State, ar: *mut ffi::lua_Debug) {
    lane::set_firing(state);
    if let Some(hook) = MLUA_HOOK.get() {
        // SAFETY: mlua's hook, called as Lua would call it.
        unsafe { hook(state, ar) }
    }
}

/// The armed hook's body: yields the running coroutine of an overdue poll, stops code
/// past its frame's deadline, and disarms itself in a poll that is not overdue (the call
/// was yielded and resumed), so code that runs long pays for the hook only for a moment
/// per slice.
fn on_hook(lua: &Lua, debug: &Debug) -> mlua::Result<VmState> {
    let state = lane::firing();
    // Yield first: code past its deadline that catches the error below must still hand
    // the thread back, so the call's own timeout can drop it.
    if lane::may_yield(state) && !in_async_poller(debug) {
        lane::pace_yield(state as *mut ffi::lua_State);
        return Ok(VmState::Yield);
    }
    if frame::deadline(lua).is_some_and(|deadline| Instant::now() >= deadline) {
        let cx = frame::current(lua);
        let entry = cx.entry().map_or("lua", |e| e.as_str());
        return Err(mlua::Error::external(Error::timeout(format!(
            "{entry}: exceeded the caller's deadline"
        ))));
    }
    if !lane::overdue() {
        // SAFETY: `state` is the running state, whose hook this is; Lua allows a hook to
        // change hooks.
        unsafe { ffi::lua_sethook(state as *mut ffi::lua_State, None, 0, 0) };
    }
    Ok(VmState::Continue)
}

/// The chunk name of mlua's Lua loop around an async Rust function (it polls the future
/// and yields a "pending" marker while the future is not ready).
const ASYNC_POLLER: &str = "=__mlua_async_poll";

/// Whether the hook fired inside mlua's async poller. A yield there would lose a wake-up:
/// the future has registered the task's waker, the hook's yield makes the task poll
/// again at once, and that poll resumes the poller only to yield "pending" without
/// polling the future, so a wake that arrived in between was spent and the task sleeps
/// forever. The poller yields by itself a few instructions later anyway.
fn in_async_poller(debug: &Debug) -> bool {
    debug.source().source.as_deref() == Some(ASYNC_POLLER)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With every poll overdue and the hook firing at every instruction, a loop of async
    /// calls whose futures wake themselves and return Pending once (as
    /// `tokio::task::yield_now` does) has the hook fire inside mlua's poller at every
    /// call. A yield there would lose the wake-up and the loop would never end.
    #[test]
    fn armed_hook_yields_never_lose_an_async_calls_wake_up() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        lane::ALWAYS_OVERDUE.store(true, std::sync::atomic::Ordering::Relaxed);
        runtime.spawn(async move {
            let lua = Lua::new();
            install(&lua).unwrap();
            let yield_now = lua
                .create_async_function(|_, ()| async {
                    tokio::task::yield_now().await;
                    Ok(())
                })
                .unwrap();
            lua.globals().set("yield_now", yield_now).unwrap();
            // SAFETY: runs on the thread running the poll, as the signal handler does.
            let arm = lua
                .create_function(|_, ()| {
                    lane::arm_here(shim, 1);
                    Ok(())
                })
                .unwrap();
            lua.globals().set("arm", arm).unwrap();
            let run: Function = lua
                .load("return function() arm() for i = 1, 20000 do yield_now() end return true end")
                .eval()
                .unwrap();
            let _ = tx.send(call_async::<bool>(&lua, run, ()).await.unwrap());
        });
        let finished = rx.recv_timeout(std::time::Duration::from_secs(60));
        runtime.shutdown_background();
        assert_eq!(
            finished,
            Ok(true),
            "the loop lost a wake-up and slept forever"
        );
    }
}
