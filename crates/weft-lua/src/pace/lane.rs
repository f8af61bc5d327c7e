//! What Lua is running on this OS thread: a stack of the Lua states being run, innermost
//! last, kept so that a signal handler can arm their hooks (see [`arm_here`]).
//!
//! A *driver* is a coroutine that weft itself resumes from a future (a call's, a spawned
//! coroutine's): its yield goes back to tokio. Its entry is pushed for the length of each
//! poll ([`enter`]). A user coroutine (`coroutine.resume`, `coroutine.wrap`) is pushed for
//! the length of its resume ([`enter_coroutine`]); its yield reaches tokio only if every
//! resumer down to the driver passes it on ([`may_yield`]). Every state listed is alive
//! while it is listed: a driver is owned by the future being polled, a coroutine is an
//! argument or upvalue of the running resume.
//!
//! A thread counts its outermost polls (`polls`: odd while one runs). Its slice timer
//! (`super::timer`) ticks while it runs Lua; a poll that a tick finds still running one
//! tick later is overdue: the tick records that and arms the listed states
//! ([`tick_here`]).

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering, compiler_fence};

use mlua::ffi;

use super::timer::{self, Timer};

/// The deepest nesting of listed states; deeper ones are run unlisted. Lua refuses more
/// than 200 nested C calls (each resume is one), so only nested VMs could reach it.
const CAPACITY: usize = 256;

/// The tag bit of a driver's entry (Lua states are at least 8-byte aligned).
const DRIVER: usize = 1;

/// The tag bit of a coroutine whose resumer passes a pace yield on, and could yield
/// itself when it resumed the coroutine (see `super::coroutines`).
const PASSES: usize = 2;

/// Both tag bits.
const TAGS: usize = DRIVER | PASSES;

/// The thread's lane; read by the signal handler, so only atomics and no destructor.
struct Stack {
    depth: AtomicUsize,
    entries: [AtomicUsize; CAPACITY],
    /// Outermost polls begun plus ended: odd while one runs.
    polls: AtomicU64,
    /// `polls` at the previous tick.
    seen: AtomicU64,
    /// `polls` during the last poll found overdue.
    overdue: AtomicU64,
    /// The thread's timer ([`NO_TIMER`] until made, [`NO_TIMER`]` - 1` if refused).
    timer: AtomicUsize,
    /// Whether the timer ticks.
    running: AtomicBool,
}

/// [`Stack::timer`] before the thread's timer is made.
const NO_TIMER: usize = usize::MAX;

thread_local! {
    static STACK: Stack = const {
        Stack {
            depth: AtomicUsize::new(0),
            entries: [const { AtomicUsize::new(0) }; CAPACITY],
            polls: AtomicU64::new(0),
            seen: AtomicU64::new(0),
            overdue: AtomicU64::new(0),
            timer: AtomicUsize::new(NO_TIMER),
            running: AtomicBool::new(false),
        }
    };
    /// The state whose hook is firing (set by the hook shim for the hook's body).
    static FIRING: Cell<usize> = const { Cell::new(0) };
    /// The state that last made a pace yield (see [`pace_yield`]).
    static PACE_YIELDED: Cell<usize> = const { Cell::new(0) };
    /// The thread's timer, deleted when the thread ends.
    static TIMER: Option<Timer> = Timer::create();
}

/// Lists states for one poll of a driver (or one resume); unlists them when dropped.
pub struct Entered {
    depth: usize,
    outermost: bool,
}

/// Lists `main` (the VM's main state, where weft's own conversions run metamethods) and
/// the driver `driver` for one poll. A driver not known yet (null) is filled in by
/// [`fill`] when the driver's first function runs (`super::driver`).
pub fn enter(main: usize, driver: usize) -> Entered {
    let depth = STACK.with(|s| {
        let depth = s.depth.load(Ordering::Relaxed);
        if let Some([m, d]) = s.entries.get(depth..depth + 2) {
            m.store(main, Ordering::Relaxed);
            d.store(driver | DRIVER, Ordering::Relaxed);
        }
        // The entries are written before the depth that shows them, for the handler.
        compiler_fence(Ordering::SeqCst);
        s.depth.store(depth + 2, Ordering::Relaxed);
        depth
    });
    let outermost = depth == 0;
    if outermost {
        count_poll();
        start_timer();
    }
    Entered { depth, outermost }
}

/// Lists a user coroutine for the length of its resume; `passes`: its resumer passes a
/// pace yield on (and can yield where it is).
pub fn enter_coroutine(co: *mut ffi::lua_State, passes: bool) -> Entered {
    let depth = STACK.with(|s| s.depth.load(Ordering::Relaxed));
    push(co as usize | if passes { PASSES } else { 0 });
    Entered {
        depth,
        outermost: false,
    }
}

impl Entered {
    /// The driver listed by [`enter`], once known.
    pub fn driver(&self) -> usize {
        STACK.with(|s| match s.entries.get(self.depth + 1) {
            Some(e) => e.load(Ordering::Relaxed) & !TAGS,
            None => 0,
        })
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        STACK.with(|s| s.depth.store(self.depth, Ordering::Relaxed));
        if self.outermost {
            count_poll();
        }
    }
}

/// Records `state` as the listed driver of the innermost poll, if that driver is not
/// known yet (called by the driver's first function, on the driver itself:
/// `super::driver`).
pub fn fill(state: *mut ffi::lua_State) {
    STACK.with(|s| {
        let depth = s.depth.load(Ordering::Relaxed);
        if let Some(top) = depth.checked_sub(1).and_then(|i| s.entries.get(i))
            && top.load(Ordering::Relaxed) == DRIVER
        {
            top.store(state as usize | DRIVER, Ordering::Relaxed);
        }
    });
}

/// Whether the hook firing on `state` may yield it for pacing: the thread's outermost
/// poll has run past its slice, `state` is the innermost listed state and can yield where
/// it is (not inside a callback from C, such as a `table.sort` comparator), and the yield
/// reaches a driver: `state` is one, or every coroutine from it down to the innermost
/// driver has a resumer that passes the yield on.
pub fn may_yield(state: usize) -> bool {
    // SAFETY: `state` is the running state (its hook is firing).
    if !overdue() || unsafe { ffi::lua_isyieldable(state as *mut ffi::lua_State) } == 0 {
        return false;
    }
    STACK.with(|s| {
        let depth = s.depth.load(Ordering::Relaxed).min(CAPACITY);
        let listed = &s.entries[..depth];
        match listed.last() {
            Some(top) if top.load(Ordering::Relaxed) & !TAGS == state => {}
            _ => return false,
        }
        for entry in listed.iter().rev() {
            let entry = entry.load(Ordering::Relaxed);
            if entry & DRIVER != 0 {
                return true;
            }
            if entry & PASSES == 0 {
                return false;
            }
        }
        false
    })
}

/// Whether this thread's outermost poll has run past its slice.
pub fn overdue() -> bool {
    always_overdue()
        || STACK.with(|s| {
            let polls = s.polls.load(Ordering::Relaxed);
            polls % 2 == 1 && s.overdue.load(Ordering::Relaxed) == polls
        })
}

/// Tests: every poll counts as overdue.
#[cfg(test)]
pub static ALWAYS_OVERDUE: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

#[cfg(test)]
fn always_overdue() -> bool {
    ALWAYS_OVERDUE.load(Ordering::Relaxed)
}

#[cfg(not(test))]
fn always_overdue() -> bool {
    false
}

/// Notes `state` as the state whose hook fires (the hook may raise, so it is not unset).
pub fn set_firing(state: *mut ffi::lua_State) {
    FIRING.with(|c| c.set(state as usize));
}

/// The state whose hook fired last on this thread.
pub fn firing() -> usize {
    FIRING.with(Cell::get)
}

/// Notes that `state` is about to make a pace yield (the hook's, or a resumer passing one
/// on), for its resumer to see with [`take_pace_yield`].
pub fn pace_yield(state: *mut ffi::lua_State) {
    PACE_YIELDED.with(|c| c.set(state as usize));
}

/// Whether `co` made a pace yield since the last call (which forgets any noted).
pub fn take_pace_yield(co: *mut ffi::lua_State) -> bool {
    PACE_YIELDED.with(|c| c.replace(0)) == co as usize
}

/// One tick of this thread's slice timer, in its signal handler: a poll still running
/// since the previous tick is overdue, and every listed state not armed yet is armed with
/// `hook`; a tick with no Lua poll begun or ended since the previous one stops the timer.
/// Only atomics of a const thread-local, `lua_sethook` (which Lua allows from a signal
/// handler) and `timer_settime`: all async-signal-safe.
pub fn tick_here(hook: ffi::lua_Hook, count: i32) {
    STACK.with(|s| {
        let polls = s.polls.load(Ordering::Relaxed);
        let before = s.seen.swap(polls, Ordering::Relaxed);
        if polls % 2 == 0 {
            let timer = s.timer.load(Ordering::Relaxed);
            if polls == before && timer < NO_TIMER - 1 {
                timer::set(timer, false);
                s.running.store(false, Ordering::Relaxed);
            }
            return;
        }
        if polls != before {
            return;
        }
        s.overdue.store(polls, Ordering::Relaxed);
        arm_listed(s, hook, count);
    });
}

/// Arms every listed state of this thread that is not armed yet (tests: at once).
#[cfg(test)]
pub fn arm_here(hook: ffi::lua_Hook, count: i32) {
    STACK.with(|s| arm_listed(s, hook, count));
}

/// Arms every state listed in `s` that is not armed yet with `hook`.
fn arm_listed(s: &Stack, hook: ffi::lua_Hook, count: i32) {
    let depth = s.depth.load(Ordering::Relaxed).min(CAPACITY);
    compiler_fence(Ordering::SeqCst);
    for entry in &s.entries[..depth] {
        let state = (entry.load(Ordering::Relaxed) & !TAGS) as *mut ffi::lua_State;
        // SAFETY: every listed state is alive while listed (see the module doc), and
        // lua_sethook is safe to call asynchronously on the state's own thread. The mask,
        // not the hook, tells an armed state: a signal that lands inside the hook
        // disarming itself leaves the hook set but the mask cleared.
        unsafe {
            if !state.is_null() && ffi::lua_gethookmask(state) == 0 {
                ffi::lua_sethook(state, Some(hook), ffi::LUA_MASKCOUNT, count);
            }
        }
    }
}

/// Starts the thread's timer unless it ticks (making it on the thread's first poll). The
/// poll is counted first: a tick in between sees it running and leaves the timer alone.
fn start_timer() {
    STACK.with(|s| {
        compiler_fence(Ordering::SeqCst);
        if s.running.load(Ordering::Relaxed) {
            return;
        }
        let mut timer = s.timer.load(Ordering::Relaxed);
        if timer == NO_TIMER {
            timer = TIMER.with(|t| t.as_ref().map_or(NO_TIMER - 1, Timer::id));
            s.timer.store(timer, Ordering::Relaxed);
        }
        if timer < NO_TIMER - 1 {
            s.running.store(true, Ordering::Relaxed);
            timer::set(timer, true);
        }
    });
}

/// Counts an outermost poll's start or end.
fn count_poll() {
    STACK.with(|s| {
        let polls = s.polls.load(Ordering::Relaxed);
        s.polls.store(polls + 1, Ordering::Relaxed);
    });
}

fn push(entry: usize) {
    STACK.with(|s| {
        let depth = s.depth.load(Ordering::Relaxed);
        if let Some(slot) = s.entries.get(depth) {
            slot.store(entry, Ordering::Relaxed);
        }
        // The entry is written before the depth that shows it, for the signal handler.
        compiler_fence(Ordering::SeqCst);
        s.depth.store(depth + 1, Ordering::Relaxed);
    });
}
