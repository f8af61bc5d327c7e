//! The watchdog: a thread that finds Lua polls running past their slice and signals their
//! threads, whose signal handler arms the instruction hook on the Lua states they run.
//!
//! It ticks every [`SLICE`] while any thread runs Lua, and sleeps (for up to
//! [`IDLE_SLEEP`], or until a poll begins) once none has for [`IDLE_TICKS`] ticks. A poll
//! is overdue when the watchdog finds it still running at two ticks in a row, so a slice
//! lasts between one and two ticks; the thread is signalled at every tick it stays
//! overdue, so states it lists later are armed too.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::Thread;
use std::time::Duration;

use mlua::ffi;
use parking_lot::Mutex;

use super::lane::{self, Lane};
use super::{CHECK_EVERY, SLICE};

/// Ticks without any Lua running before the watchdog sleeps.
const IDLE_TICKS: u32 = 100;

/// The longest the watchdog sleeps when idle (a bound for a wake-up it missed).
const IDLE_SLEEP: Duration = Duration::from_millis(10);

/// The watchdog's shared state.
struct Watchdog {
    lanes: Mutex<Vec<Arc<Lane>>>,
    thread: Thread,
    asleep: AtomicBool,
}

/// The hook the signal handler arms, set once by [`start`].
static HOOK: OnceLock<ffi::lua_Hook> = OnceLock::new();

static WATCHDOG: OnceLock<Watchdog> = OnceLock::new();

/// Whether [`start`] has run.
static STARTED: Mutex<bool> = parking_lot::const_mutex(false);

/// Starts the watchdog (once per process) with `hook` as the hook to arm.
pub fn start(hook: ffi::lua_Hook) -> std::io::Result<()> {
    let mut started = STARTED.lock();
    if *started {
        return Ok(());
    }
    let _ = HOOK.set(hook);
    // SAFETY: the action only reads this thread's lane (atomics in a const thread-local)
    // and calls lua_sethook, both async-signal-safe.
    unsafe {
        signal_hook_registry::register_unchecked(signal(), |_| {
            if let Some(hook) = HOOK.get() {
                lane::arm_here(*hook, CHECK_EVERY as i32);
            }
        })?;
    }
    let handle = std::thread::Builder::new()
        .name("weft-lua-watchdog".into())
        .spawn(run)?;
    let _ = WATCHDOG.set(Watchdog {
        lanes: Mutex::new(Vec::new()),
        thread: handle.thread().clone(),
        asleep: AtomicBool::new(false),
    });
    *started = true;
    Ok(())
}

/// The real-time signal the watchdog sends (glibc keeps the first two for itself).
pub fn signal() -> i32 {
    libc::SIGRTMIN() + 6
}

/// Adds a thread's lane (when the thread first runs Lua).
pub fn register(lane: Arc<Lane>) {
    if let Some(w) = WATCHDOG.get() {
        w.lanes.lock().push(lane);
    }
}

/// Removes a thread's lane (when the thread ends): the watchdog never signals it again.
pub fn unregister(lane: &Arc<Lane>) {
    if let Some(w) = WATCHDOG.get() {
        w.lanes.lock().retain(|l| !Arc::ptr_eq(l, lane));
    }
}

/// Wakes the watchdog if it sleeps (a poll begins).
pub fn wake() {
    if let Some(w) = WATCHDOG.get()
        && w.asleep.load(Ordering::Relaxed)
        && w.asleep.swap(false, Ordering::AcqRel)
    {
        w.thread.unpark();
    }
}

/// The watchdog thread's loop.
fn run() {
    let w = loop {
        match WATCHDOG.get() {
            Some(w) => break w,
            None => std::thread::sleep(SLICE),
        }
    };
    let mut idle = 0;
    loop {
        std::thread::sleep(SLICE);
        if tick(w) {
            idle = 0;
            continue;
        }
        idle += 1;
        if idle < IDLE_TICKS {
            continue;
        }
        w.asleep.store(true, Ordering::SeqCst);
        if tick(w) {
            w.asleep.store(false, Ordering::Relaxed);
            idle = 0;
            continue;
        }
        std::thread::park_timeout(IDLE_SLEEP);
        w.asleep.store(false, Ordering::Relaxed);
    }
}

/// One look at every lane: signals the threads whose poll is overdue. Returns whether any
/// thread was running Lua.
fn tick(w: &Watchdog) -> bool {
    let lanes = w.lanes.lock();
    let mut busy = false;
    for lane in lanes.iter() {
        let polls = lane.polls.load(Ordering::Acquire);
        let before = lane.seen.swap(polls, Ordering::Relaxed);
        if polls % 2 == 0 {
            continue;
        }
        busy = true;
        if polls == before {
            lane.overdue.store(polls, Ordering::Relaxed);
            // SAFETY: the lane's thread is alive: a thread unregisters its lane (under
            // this lock) before it ends.
            unsafe {
                libc::pthread_kill(lane.thread, signal());
            }
        }
    }
    busy
}
