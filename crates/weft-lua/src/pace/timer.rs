//! The slice timer: a per-thread POSIX timer (`CLOCK_MONOTONIC`, signalling its own
//! thread) that ticks every half [`SLICE`] while the thread runs Lua, and the signal
//! handler that looks at the thread's lane at each tick (`super::lane::tick_here`).
//!
//! The kernel delivers each tick to the thread itself, on time, however busy the machine
//! is: no other thread has to be scheduled for a slice to end. The timer runs only while
//! the thread has Lua to run: the first poll starts it, and a tick that finds no Lua
//! poll begun or ended since the previous one stops it.

use std::sync::OnceLock;

use mlua::ffi;

use super::{CHECK_EVERY, SLICE, lane};

/// The hook the handler arms, set once by [`install_handler`].
static HOOK: OnceLock<ffi::lua_Hook> = OnceLock::new();

/// The real-time signal the timers send (glibc keeps the first two for itself).
pub fn signal() -> i32 {
    libc::SIGRTMIN() + 6
}

/// Installs the signal handler (once per process), which arms `hook` on the states a
/// thread lists when its poll is overdue.
pub fn install_handler(hook: ffi::lua_Hook) -> std::io::Result<()> {
    static INSTALLED: OnceLock<std::io::Result<()>> = OnceLock::new();
    let result = INSTALLED.get_or_init(|| {
        let _ = HOOK.set(hook);
        // SAFETY: the action only reads and writes this thread's lane (atomics in a
        // const thread-local), calls lua_sethook and timer_settime: all
        // async-signal-safe.
        unsafe {
            signal_hook_registry::register_unchecked(signal(), |_| {
                if let Some(hook) = HOOK.get() {
                    lane::tick_here(*hook, CHECK_EVERY as i32);
                }
            })
            .map(|_| ())
        }
    });
    match result {
        Ok(()) => Ok(()),
        Err(e) => Err(std::io::Error::new(e.kind(), e.to_string())),
    }
}

/// A thread's timer, deleted when the thread ends.
pub struct Timer(libc::timer_t);

impl Timer {
    /// Creates the calling thread's timer (stopped); `None` if the system refuses.
    pub fn create() -> Option<Timer> {
        // SAFETY: plain libc calls on zeroed, owned structures.
        unsafe {
            let mut event: libc::sigevent = std::mem::zeroed();
            event.sigev_notify = libc::SIGEV_THREAD_ID;
            event.sigev_signo = signal();
            event.sigev_notify_thread_id = libc::gettid();
            let mut id: libc::timer_t = std::ptr::null_mut();
            if libc::timer_create(libc::CLOCK_MONOTONIC, &mut event, &mut id) != 0 {
                tracing::warn!(
                    target: "weft::lua",
                    "no slice timer for this thread ({}): Lua code it runs is stopped \
                     only by deadlines",
                    std::io::Error::last_os_error()
                );
                return None;
            }
            Some(Timer(id))
        }
    }

    /// The timer's id, for [`set`].
    pub fn id(&self) -> usize {
        self.0 as usize
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        // SAFETY: the id came from timer_create and is deleted once.
        unsafe {
            libc::timer_delete(self.0);
        }
    }
}

/// Starts (`running`) or stops the timer `id`. Async-signal-safe.
pub fn set(id: usize, running: bool) {
    let period = if running {
        libc::timespec {
            tv_sec: 0,
            tv_nsec: (SLICE / 2).as_nanos() as libc::c_long,
        }
    } else {
        libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        }
    };
    let spec = libc::itimerspec {
        it_interval: period,
        it_value: period,
    };
    // SAFETY: `id` is a live timer of this thread (see `lane`).
    unsafe {
        libc::timer_settime(id as libc::timer_t, 0, &spec, std::ptr::null_mut());
    }
}
