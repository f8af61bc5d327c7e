//! Keeping running Lua code in check: an instruction-count hook on every VM that stops
//! code past its frame's deadline and hands the thread back to tokio regularly.
//!
//! Lua code that never calls an async function (`while true do end`) never returns to
//! tokio on its own: it would hold a worker, starve timers and every other task, and
//! ignore an abort (`process.terminate`, a caller's timeout, shutdown). So every
//! [`CHECK_EVERY`] instructions the hook
//! - yields the coroutine when it has run for [`SLICE`] since its last yield, so an
//!   abort takes effect and other tasks run, and otherwise
//! - raises a Timeout once the frame's deadline (the caller's, or the entry's
//!   `limits.max_execution_ms`) has passed.
//!
//! The hook never yields inside mlua's own loop around an async Rust function
//! ([`in_async_poller`]): that would lose the future's wake-up.
//!
//! Code inside one C function (a huge `string.rep`, `table.sort` without a Lua
//! comparator) is not interrupted until it returns.

use std::time::{Duration, Instant};

use mlua::debug::Debug;
use mlua::{HookTriggers, Lua, VmState};
use parking_lot::Mutex;
use weft_core::Error;

use crate::frame;

/// Lua VM instructions between two checks.
pub const CHECK_EVERY: u32 = 1000;

/// The longest a coroutine runs before the hook yields it back to tokio.
pub const SLICE: Duration = Duration::from_millis(1);

/// Installs the hook on `lua` (all its threads, coroutines included).
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let last_yield = Mutex::new(Instant::now());
    lua.set_global_hook(
        HookTriggers::new().every_nth_instruction(CHECK_EVERY),
        move |lua, debug| {
            let now = Instant::now();
            // Yield first: code past its deadline that catches the error below must
            // still hand the thread back, so the call's own timeout can drop it.
            let mut last = last_yield.lock();
            if now.duration_since(*last) >= SLICE && !in_async_poller(debug) {
                *last = now;
                return Ok(VmState::Yield);
            }
            drop(last);
            if frame::deadline(lua).is_some_and(|deadline| now >= deadline) {
                let cx = frame::current(lua);
                let entry = cx.entry().map_or("lua", |e| e.as_str());
                return Err(mlua::Error::external(Error::timeout(format!(
                    "{entry}: exceeded the caller's deadline"
                ))));
            }
            Ok(VmState::Continue)
        },
    )
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

    /// A loop of async calls whose futures wake themselves and return Pending once (as
    /// `tokio::task::yield_now` does): the hook's yields land inside mlua's poller now
    /// and then. With a yield there the wake-up is lost and the loop never ends.
    #[test]
    fn hook_yields_never_lose_an_async_calls_wake_up() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
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
            let run: mlua::Function = lua
                .load("return function() for i = 1, 300000 do yield_now() end return true end")
                .eval()
                .unwrap();
            let _ = tx.send(run.call_async::<bool>(()).await.unwrap());
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
