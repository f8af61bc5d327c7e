//! The progress line of a boot's WASM compiles.
//!
//! When compiling components takes longer than [`SHOW_AFTER`], a spinner on stderr names
//! the entry being compiled and counts the components compiled and those read from the
//! compile cache; it is cleared when the boot ends. It shows only on a terminal and never
//! with `-s`. weft-wasm knows no terminal: it calls the hook it is given
//! (`weft_wasm::EngineConfig::progress`) and the line is drawn here, with indicatif.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use weft_wasm::{CompileEvent, CompileProgress};

use crate::diag;

/// How long compiling may take before the line shows.
pub(crate) const SHOW_AFTER: Duration = Duration::from_millis(500);

/// How often the spinner turns.
const TICK: Duration = Duration::from_millis(100);

/// Set by `-s`: no progress line.
static SILENT: AtomicBool = AtomicBool::new(false);

/// The progress of one boot; [`BootProgress::finish`] when the boot is over.
pub(crate) struct BootProgress(Option<Arc<Mutex<State>>>);

/// What the line says, and the line once it shows.
#[derive(Default)]
struct State {
    /// When the first compile started.
    started: Option<Instant>,
    /// The entry being compiled.
    current: Option<String>,
    /// Components compiled.
    compiled: usize,
    /// Components read from the cache.
    cached: usize,
    /// The line, once shown.
    bar: Option<ProgressBar>,
    /// The boot is over: nothing shows any more.
    done: bool,
}

/// Silences the line (`-s`).
pub(crate) fn set_silent(silent: bool) {
    SILENT.store(silent, Ordering::Relaxed);
}

/// Whether the line shows: on a terminal, not silenced, once compiling has taken longer
/// than [`SHOW_AFTER`].
pub(crate) fn visible(terminal: bool, silent: bool, elapsed: Duration) -> bool {
    terminal && !silent && elapsed > SHOW_AFTER
}

impl BootProgress {
    /// The progress of a boot starting now; inert when stderr is not a terminal or the
    /// line is silenced.
    pub(crate) fn start() -> BootProgress {
        let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let silent = SILENT.load(Ordering::Relaxed);
        // Anything past SHOW_AFTER tells whether the line could ever show.
        let can_show = visible(terminal, silent, Duration::MAX);
        BootProgress(can_show.then(|| Arc::new(Mutex::new(State::default()))))
    }

    /// The hook for the WASM engine (`None` when the line never shows).
    pub(crate) fn hook(&self) -> Option<CompileProgress> {
        let state = self.0.clone()?;
        Some(CompileProgress::new(move |event| on_event(&state, event)))
    }

    /// Ends the boot's line (cleared); later compiles (a live change) show nothing.
    pub(crate) fn finish(self) {
        let Some(state) = self.0 else { return };
        let mut state = lock(&state);
        state.done = true;
        if let Some(bar) = state.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// Updates the state with one compile event, and the line if it shows.
fn on_event(shared: &Arc<Mutex<State>>, event: CompileEvent<'_>) {
    let mut state = lock(shared);
    if state.done {
        return;
    }
    match event {
        CompileEvent::Started { id } => {
            state.current = Some(id.to_string());
            if state.started.is_none() {
                state.started = Some(Instant::now());
                reveal_later(Arc::downgrade(shared));
            }
        }
        CompileEvent::Finished { cached, .. } => {
            state.current = None;
            if cached {
                state.cached += 1;
            } else {
                state.compiled += 1;
            }
        }
    }
    let elapsed = state.started.map_or(Duration::ZERO, |s| s.elapsed());
    if visible(true, false, elapsed) {
        show(&mut state);
    }
}

/// Shows the line after [`SHOW_AFTER`] unless the boot is over by then (a compile that
/// takes long sends no event meanwhile).
fn reveal_later(state: Weak<Mutex<State>>) {
    let spawned = std::thread::Builder::new()
        .name("weft-progress".into())
        .spawn(move || {
            std::thread::sleep(SHOW_AFTER + TICK);
            if let Some(state) = state.upgrade() {
                let mut state = lock(&state);
                if !state.done {
                    show(&mut state);
                }
            }
        });
    // Without the thread the line shows at the next event instead.
    drop(spawned);
}

/// Shows the line (made on first use) with the state's message.
fn show(state: &mut State) {
    let text = message(state);
    let bar = state.bar.get_or_insert_with(|| {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(TICK);
        bar
    });
    bar.set_message(text);
}

/// The line's text: what is compiling now, and the counts so far.
fn message(state: &State) -> String {
    let counts = format!("{} compiled, {} cached", state.compiled, state.cached);
    match &state.current {
        Some(id) => format!("compiling WASM {}: {counts}", diag::one_line(id)),
        None => format!("compiling WASM components: {counts}"),
    }
}

/// The state, even if a holder panicked.
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_on_a_terminal_after_half_a_second_unless_silenced() {
        let long = Duration::from_millis(600);
        assert!(visible(true, false, long));
        assert!(!visible(true, false, Duration::from_millis(100)));
        assert!(!visible(true, false, SHOW_AFTER));
        assert!(!visible(false, false, long), "not a terminal");
        assert!(!visible(true, true, long), "-s");
    }

    #[test]
    fn the_message_names_the_entry_and_counts_cached_and_compiled() {
        let mut state = State {
            current: Some("app:big\u{1b}[2J".into()),
            compiled: 2,
            cached: 1,
            ..State::default()
        };
        assert_eq!(
            message(&state),
            "compiling WASM app:big\\u{1b}[2J: 2 compiled, 1 cached"
        );
        state.current = None;
        assert_eq!(
            message(&state),
            "compiling WASM components: 2 compiled, 1 cached"
        );
    }

    #[test]
    fn events_count_and_a_finished_boot_ignores_the_rest() {
        let shared = Arc::new(Mutex::new(State::default()));
        let id = weft_core::EntryId::new("app", "w");
        on_event(&shared, CompileEvent::Started { id: &id });
        assert_eq!(lock(&shared).current.as_deref(), Some("app:w"));
        let done = |cached| CompileEvent::Finished {
            id: &id,
            cached,
            elapsed: Duration::ZERO,
        };
        on_event(&shared, done(true));
        on_event(&shared, done(false));
        {
            let state = lock(&shared);
            assert_eq!((state.cached, state.compiled), (1, 1));
            assert!(state.bar.is_none(), "shown before half a second");
        }
        BootProgress(Some(shared.clone())).finish();
        on_event(&shared, done(false));
        assert_eq!(lock(&shared).compiled, 1);
    }
}
