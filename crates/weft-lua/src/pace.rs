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
//! Code inside one C function (a huge `string.rep`, `table.sort` without a Lua
//! comparator) is not interrupted until it returns.

use std::time::{Duration, Instant};

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
        move |lua, _| {
            let now = Instant::now();
            // Yield first: code past its deadline that catches the error below must
            // still hand the thread back, so the call's own timeout can drop it.
            let mut last = last_yield.lock();
            if now.duration_since(*last) >= SLICE {
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
