//! Soak: 10,000 operations in flight at once — Lua and WASM calls and process spawns,
//! with traps, timeouts and cancellations mixed in — for a minute, then a check that the
//! runtime is back where it started: tasks, processes and resident memory.
//!
//! Run: `cargo bench -p weft --bench soak`. Settings (environment): `SOAK_SECS` (load,
//! default 60), `SOAK_WARMUP_SECS` (default 10), `SOAK_OPS` (operations in flight,
//! default 10,000), `SOAK_SAMPLE_SECS` (default 5), `SOAK_ONLY` (comma-separated parts
//! of kind names: only those run, e.g. `SOAK_ONLY=wasm` or `SOAK_ONLY="lua add"`),
//! `SOAK_ROUNDS` (default 1: loads run one after another, each drained and settled, the
//! end state printed after each; a leak grows every round, a cache fills once; the
//! table is the first round's, the verdict compares the last round's end).
//!
//! A real app (`_index.yaml` in a temp dir, the committed guests of `guests/dist`) is
//! booted through `weft::boot_app` on a multi-thread tokio runtime like the `weft`
//! binary's. One looping task per operation in flight repeats one [`Kind`] (task counts
//! in [`MIX`]). A warm-up load fills the pools; once it has drained and settled, the
//! baseline is read; the load runs for `SOAK_SECS`, sampled every 200 ms (printed every
//! `SOAK_SAMPLE_SECS`); it stops, drains (bounded) and settles, and the end state is
//! compared with the baseline ([`verdict`]); the exit status is 1 when it is not flat.
//! Figures and the bounds' reasons: docs/performance.md, "Soak".

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::task::JoinSet;
use weft::boot_app;
use weft_core::{CallContext, ErrorKind, Result, Value};
use weft_registry::{BootOptions, LoadOptions};
use weft_runtime::{Runtime, Spawn};

use report::{mb, rates, rss_bytes, sample_line, verdict, wasm_pool};

mod report;

/// The same allocator as the `weft` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long the load may take to drain once told to stop; an operation still running
/// then is stuck (a hang), and its kind is named.
const DRAIN_BOUND: Duration = Duration::from_secs(60);
/// How long the runtime is left alone after draining, before the end state is read
/// (longer than the 2 s cancel grace timers).
const SETTLE: Duration = Duration::from_secs(3);
/// The deadline a caller gives the kinds that call something slower than it.
const CALLER_DEADLINE: Duration = Duration::from_millis(20);
/// Alive tasks may end this many above the baseline.
const TASK_SLACK: usize = 8;
/// End RSS outside the WASM memory pool may exceed the baseline by this much, or by
/// [`RSS_SLACK_FRACTION`] of it, whichever is larger: caches that fill after the warm-up
/// (idle Lua VMs, kept by each pool until its next lease: up to `max_size` per function
/// entry, 64 per process entry; the allocator's free pages). Measured: −3 to +39 MB.
const RSS_SLACK_BYTES: u64 = 64 << 20;
/// See [`RSS_SLACK_BYTES`].
const RSS_SLACK_FRACTION: f64 = 0.25;
/// What the WASM linear-memory pool may keep by design when idle: wasmtime's 100
/// unused warm slots (`max_unused_warm_slots`) × the 2 MiB a freed memory keeps
/// resident (`linear_memory_keep_resident`), plus 24 MiB for module images and slack.
/// Measured: 123 to 170 MB.
const POOL_BOUND: u64 = (100 * 2 + 24) << 20;
/// The process host of the app.
const HOST: &str = "s:host";

fn main() -> ExitCode {
    let settings = Settings::read();
    println!(
        "soak: {} operations in flight, {} s of load after {} s of warm-up, {} cores",
        settings.ops,
        settings.secs,
        settings.warmup_secs,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let dir = write_app();
    let app = tokio_rt.block_on(async {
        let opts = LoadOptions {
            root: dir.path().to_path_buf(),
            ..LoadOptions::default()
        };
        match boot_app(&opts, &BootOptions::default()).await {
            Ok(booted) => booted.runtime,
            Err(e) => panic!("the soak app does not boot: {e}"),
        }
    });
    let report = tokio_rt.block_on(soak(app, &settings));
    report.print(&settings);
    let problems = verdict(&report);
    for p in &problems {
        println!("soak: NOT FLAT: {p}");
    }
    if problems.is_empty() {
        println!("soak: FLAT");
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The run's settings (see the module doc).
struct Settings {
    secs: u64,
    warmup_secs: u64,
    ops: usize,
    sample_secs: u64,
    rounds: usize,
    only: Vec<String>,
}

impl Settings {
    fn read() -> Settings {
        let get = |name: &str, default: u64| match std::env::var(name) {
            Ok(v) => v
                .parse()
                .unwrap_or_else(|_| panic!("{name}={v}: not a number")),
            Err(_) => default,
        };
        Settings {
            secs: get("SOAK_SECS", 60),
            warmup_secs: get("SOAK_WARMUP_SECS", 10),
            ops: get("SOAK_OPS", 10_000) as usize,
            sample_secs: get("SOAK_SAMPLE_SECS", 5).max(1),
            rounds: get("SOAK_ROUNDS", 1).max(1) as usize,
            only: std::env::var("SOAK_ONLY")
                .map(|v| v.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
        }
    }

    /// The tasks `kind` gets: its share of 10,000, scaled to `SOAK_OPS`.
    fn tasks_of(&self, kind: Kind) -> usize {
        let (_, name, share, _) = MIX[kind.index()];
        if !self.only.is_empty() && !self.only.iter().any(|o| name.contains(o.as_str())) {
            return 0;
        }
        (self.ops * share).div_ceil(10_000)
    }
}

// ---------------------------------------------------------------------------------------
// The app
// ---------------------------------------------------------------------------------------

/// The committed guests.
fn dist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../guests/dist")
        .canonicalize()
        .expect("guests/dist")
}

/// Writes the soak app into a new temp dir: `app.yaml` (the host, the Lua functions and
/// processes), the guests' directory and the WASM entries.
fn write_app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    let mut index = format!(
        "{}  - {{name: guests, kind: fs.directory, directory: {}}}\n",
        include_str!("app.yaml"),
        dist().display()
    );
    for (kind, name, file, method, extra) in WASM_ENTRIES {
        let bytes = std::fs::read(dist().join(format!("{file}.wasm"))).expect("a guest");
        let hash = hex::encode(Sha256::digest(bytes));
        index.push_str(&format!(
            "  - {{name: {name}, kind: {kind}, fs: s:guests, path: /{file}.wasm, \
             hash: \"sha256:{hash}\", method: {method}{extra}}}\n"
        ));
    }
    std::fs::write(dir.path().join("src/_index.yaml"), index).unwrap();
    dir
}

/// The WASM entries: kind, name, guest, method, extra fields.
const WASM_ENTRIES: [(&str, &str, &str, &str, &str); 7] = [
    ("function.wasm", "wadd", "types", "add", ""),
    ("function.wasm", "wecho", "types", "echo-string", ""),
    ("function.wasm", "wtrap", "trap", "unreachable-trap", ""),
    (
        "function.wasm",
        "wspin",
        "spin",
        "spin-forever",
        ", limits: {max_execution_ms: 20}",
    ),
    (
        "function.wasm",
        "whog",
        "hog",
        "grow-forever",
        ", limits: {max_memory_mb: 8}",
    ),
    (
        "function.wasm",
        "wsleep",
        "clock",
        "sleep-ms",
        ", imports: [wasi:io, wasi:poll, wasi:clocks], pool: {type: lazy, max_size: 1000}",
    ),
    ("process.wasm", "compute", "funcs-user", "compute", ""),
];

// ---------------------------------------------------------------------------------------
// The operations
// ---------------------------------------------------------------------------------------

/// One kind of operation; each looping task repeats one kind ([`MIX`] describes them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    LuaOk,
    LuaError,
    LuaSpin,
    LuaDeadline,
    LuaAsyncCancel,
    LuaToWasm,
    WasmAdd,
    WasmEcho,
    WasmTrap,
    WasmSpin,
    WasmHog,
    WasmDeadline,
    ProcMsg,
    ProcPair,
    ProcWasm,
    ProcTerminate,
    ProcCancel,
    ProcCancelKill,
}

/// Outcomes, short for [`MIX`].
const OK: Outcome = Outcome::Ok;
const TIMEOUT: Outcome = Outcome::Err(ErrorKind::Timeout);
const INTERNAL: Outcome = Outcome::Err(ErrorKind::Internal);
const CANCELED: Outcome = Outcome::Err(ErrorKind::Canceled);
const CONFLICT: Outcome = Outcome::Err(ErrorKind::Conflict);

/// The mix: each kind, its name, its tasks out of 10,000 (scaled to `SOAK_OPS`) and the
/// outcome it is built to have. The limits are 20 ms (`max_execution_ms`; a caller's
/// deadline against a 200 ms sleep) and 8 MB (`max_memory_mb`). A cancelled process gets
/// 2 s of grace when it ends on CANCEL, 10 ms when it ignores it; a terminated one
/// (blocked on its inbox, or spinning) is terminated 0–4 ms after its spawn. CPU-bound
/// kinds (a spinner burns 20 ms) get few tasks, so they do not take every core.
const MIX: [(Kind, &str, usize, Outcome); 18] = [
    (Kind::LuaOk, "lua add", 1600, OK),
    (Kind::LuaError, "lua error", 800, CONFLICT),
    (Kind::LuaSpin, "lua spin > max_execution_ms", 10, TIMEOUT),
    (Kind::LuaDeadline, "lua sleep > deadline", 800, TIMEOUT),
    (Kind::LuaAsyncCancel, "lua 2 funcs.async + cancel", 400, OK),
    (Kind::LuaToWasm, "lua -> wasm add + trap", 600, OK),
    (Kind::WasmAdd, "wasm add", 1220, OK),
    (Kind::WasmEcho, "wasm echo-string 1 KiB", 800, OK),
    (Kind::WasmTrap, "wasm trap", 600, INTERNAL),
    (Kind::WasmSpin, "wasm spin > max_execution_ms", 10, TIMEOUT),
    (Kind::WasmHog, "wasm hog > max_memory_mb", 60, INTERNAL),
    (Kind::WasmDeadline, "wasm sleep > deadline", 400, TIMEOUT),
    (Kind::ProcMsg, "process.lua spawn+message+exit", 800, OK),
    (Kind::ProcPair, "process.lua pair ping/pong", 400, OK),
    (Kind::ProcWasm, "process.wasm exec", 400, OK),
    (Kind::ProcTerminate, "process.lua terminate", 600, CANCELED),
    (Kind::ProcCancel, "process.lua cancel (graceful)", 300, OK),
    (
        Kind::ProcCancelKill,
        "process.lua cancel (killed)",
        200,
        CANCELED,
    ),
];

impl Kind {
    fn index(self) -> usize {
        MIX.iter().position(|(k, ..)| *k == self).unwrap()
    }

    fn name(self) -> &'static str {
        MIX[self.index()].1
    }

    /// The group a kind is counted in on the sample lines: Lua, WASM, processes.
    fn group(self) -> usize {
        self.index() / 6
    }

    /// Runs one operation of this kind.
    async fn run(self, app: &Arc<Runtime>, cx: &CallContext, rng: &mut u64) -> Result<Value> {
        let (f, p) = (&app.functions, &app.processes);
        let late = || cx.with_deadline(Instant::now() + CALLER_DEADLINE);
        let int = Value::Int;
        let spawn = |entry: &str| p.spawn_watched(app, cx, Spawn::new(entry, HOST, vec![]));
        let pause = |ms: u64| tokio::time::sleep(Duration::from_millis(ms));
        match self {
            Kind::LuaOk => f.call(cx, "s:add", vec![int(2), int(40)]).await,
            Kind::LuaError => f.call(cx, "s:fail", vec![int(1)]).await,
            Kind::LuaSpin => f.call(cx, "s:spin", vec![]).await,
            Kind::LuaDeadline => f.call(&late(), "s:sleepy", vec![]).await,
            Kind::LuaAsyncCancel => f.call(cx, "s:async_cancel", vec![]).await,
            Kind::LuaToWasm => f.call(cx, "s:cross", vec![int(2), int(40)]).await,
            Kind::WasmAdd => f.call(cx, "s:wadd", vec![int(2), int(40)]).await,
            Kind::WasmEcho => {
                f.call(cx, "s:wecho", vec![Value::str("x".repeat(1024))])
                    .await
            }
            Kind::WasmTrap => f.call(cx, "s:wtrap", vec![]).await,
            Kind::WasmSpin => f.call(cx, "s:wspin", vec![]).await,
            Kind::WasmHog => f.call(cx, "s:whog", vec![]).await,
            Kind::WasmDeadline => f.call(&late(), "s:wsleep", vec![int(200)]).await,
            Kind::ProcMsg => {
                let (pid, exit) = spawn("s:echo_once")?;
                p.send(cx, &pid, "ping", vec![int(7)])?;
                exit.await
            }
            Kind::ProcPair => {
                p.exec(app, cx, Spawn::new("s:pair", HOST, vec![int(7)]))
                    .await
            }
            Kind::ProcWasm => {
                let args = vec![int(6), int(7)];
                p.exec(app, cx, Spawn::new("s:compute", HOST, args)).await
            }
            Kind::ProcTerminate => {
                let (pid, exit) = spawn(["s:blocker", "s:lspin"][next(rng) as usize % 2])?;
                pause(next(rng) % 5).await;
                p.terminate(cx, &pid)?;
                exit.await
            }
            Kind::ProcCancel | Kind::ProcCancelKill => {
                let (entry, grace) = match self {
                    Kind::ProcCancel => ("s:graceful", 2000),
                    _ => ("s:blocker", 10),
                };
                let (pid, exit) = spawn(entry)?;
                pause(next(rng) % 5).await;
                p.cancel(cx, &pid, Some(Duration::from_millis(grace)))?;
                exit.await
            }
        }
    }
}

/// xorshift64: the tasks' delays, without a dependency.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

// ---------------------------------------------------------------------------------------
// Counting
// ---------------------------------------------------------------------------------------

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Ok,
    Err(ErrorKind),
}

/// Columns of the outcome table: ok, then every error kind.
const OUTCOMES: usize = 1 + ErrorKind::ALL.len();

impl Outcome {
    fn index(self) -> usize {
        match self {
            Outcome::Ok => 0,
            Outcome::Err(k) => 1 + ErrorKind::ALL.iter().position(|x| *x == k).unwrap(),
        }
    }

    fn name(i: usize) -> &'static str {
        match i {
            0 => "ok",
            i if ErrorKind::ALL[i - 1] == ErrorKind::Unknown => "Unknown",
            i => ErrorKind::ALL[i - 1].as_str(),
        }
    }
}

/// What one kind did.
#[derive(Default)]
struct KindStats {
    outcomes: [AtomicU64; OUTCOMES],
    total_micros: AtomicU64,
    max_micros: AtomicU64,
    /// Operations started and not finished.
    in_flight: AtomicI64,
}

/// Operations by kind, and the first message of each unexpected (kind, outcome).
struct Stats {
    kinds: Vec<KindStats>,
    surprises: Mutex<Vec<String>>,
}

/// A copy of the outcome counts, by kind.
type Counts = Vec<[u64; OUTCOMES]>;

impl Stats {
    fn new() -> Stats {
        Stats {
            kinds: MIX.iter().map(|_| KindStats::default()).collect(),
            surprises: Mutex::new(Vec::new()),
        }
    }

    /// Runs one operation of `kind`, counting it.
    async fn run(&self, kind: Kind, app: &Arc<Runtime>, cx: &CallContext, rng: &mut u64) {
        let k = &self.kinds[kind.index()];
        k.in_flight.fetch_add(1, Ordering::Relaxed);
        let start = Instant::now();
        let result = kind.run(app, cx, rng).await;
        let micros = start.elapsed().as_micros() as u64;
        k.in_flight.fetch_sub(1, Ordering::Relaxed);
        k.total_micros.fetch_add(micros, Ordering::Relaxed);
        k.max_micros.fetch_max(micros, Ordering::Relaxed);
        let outcome = match &result {
            Ok(_) => Outcome::Ok,
            Err(e) => Outcome::Err(e.kind()),
        };
        k.outcomes[outcome.index()].fetch_add(1, Ordering::Relaxed);
        if outcome != MIX[kind.index()].3 {
            let mut seen = self.surprises.lock().unwrap();
            let key = format!("{}: {outcome:?}: ", kind.name());
            if !seen.iter().any(|s| s.starts_with(&key)) {
                let what = result.map_or_else(|e| e.to_string(), |v| format!("{v:?}"));
                seen.push(key + &what);
            }
        }
    }

    fn counts(&self) -> Counts {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        self.kinds
            .iter()
            .map(|k| std::array::from_fn(|i| load(&k.outcomes[i])))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------

/// What the process and the runtime hold at one moment.
#[derive(Clone, Copy, Debug, Default)]
struct Snapshot {
    rss: u64,
    /// The part of `rss` in wasmtime's linear-memory pool (read at the start and the end
    /// only: see [`wasm_pool`]).
    pool: u64,
    tasks: usize,
    procs: usize,
}

impl Snapshot {
    fn take(app: &Runtime) -> Snapshot {
        let metrics = tokio::runtime::Handle::current().metrics();
        Snapshot {
            rss: rss_bytes(),
            pool: 0,
            tasks: metrics.num_alive_tasks(),
            procs: app.processes.len(),
        }
    }

    /// [`take`](Self::take), with the pool's part of the RSS.
    fn full(app: &Runtime) -> Snapshot {
        Snapshot {
            pool: wasm_pool(),
            ..Snapshot::take(app)
        }
    }

    /// The RSS outside the WASM linear-memory pool.
    fn rest(&self) -> u64 {
        self.rss.saturating_sub(self.pool)
    }
}

/// What one load phase measured.
struct Phase {
    stats: Arc<Stats>,
    /// The highest of each figure over the samples.
    peak: Snapshot,
    /// Seconds from the start of the load to the stop signal, and from it to the last
    /// task's return.
    load_secs: f64,
    drain_secs: f64,
    /// Operations still running [`DRAIN_BOUND`] after the stop, by kind name.
    stuck: Vec<(&'static str, i64)>,
    /// RSS at the first sample of the load's second half and at its last sample.
    rss_mid: u64,
    rss_last: u64,
}

/// Everything the run measured.
struct Report {
    base: Snapshot,
    load: Phase,
    end: Snapshot,
}

/// Warm-up, baseline, load, drain, settle, end state.
async fn soak(app: Arc<Runtime>, s: &Settings) -> Report {
    println!("warm-up: {} s", s.warmup_secs);
    let warm = load(&app, s, s.warmup_secs, false).await;
    assert!(
        warm.stuck.is_empty(),
        "the warm-up did not drain: {:?}",
        warm.stuck
    );
    settle(&app).await;
    let base = Snapshot::full(&app);
    println!(
        "baseline after warm-up: RSS {:.1} MB, {} alive tasks, {} processes",
        mb(base.rss),
        base.tasks,
        base.procs
    );
    let (mut first, mut end) = (None, base);
    for round in 1..=s.rounds {
        let phase = load(&app, s, s.secs, round == 1).await;
        settle(&app).await;
        end = Snapshot::full(&app);
        if s.rounds > 1 {
            println!(
                "after round {round}: RSS {:.1} MB ({:.1} in the WASM pool), {} alive tasks, {} processes",
                mb(end.rss),
                mb(end.pool),
                end.tasks,
                end.procs
            );
        }
        match &mut first {
            None => first = Some(phase),
            Some(first) => first.stuck.extend(phase.stuck),
        }
    }
    let load = first.expect("at least one round");
    Report { base, load, end }
}

/// Runs the mix for `secs` (sampling, and printing the samples when `print`), then stops
/// it and waits, at most [`DRAIN_BOUND`], for every task.
async fn load(app: &Arc<Runtime>, s: &Settings, secs: u64, print: bool) -> Phase {
    let stats = Arc::new(Stats::new());
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = JoinSet::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    // Kinds interleaved, so each starts at once (tasks spawned from outside the runtime
    // are taken from its global queue one at a time).
    let most = MIX.iter().map(|(k, ..)| s.tasks_of(*k)).max().unwrap_or(0);
    for i in 0..most {
        for (kind, ..) in MIX.iter().filter(|(k, ..)| i < s.tasks_of(*k)) {
            let (kind, app, stats, stop) = (*kind, app.clone(), stats.clone(), stop.clone());
            let mut rng = next(&mut seed) | 1;
            tasks.spawn(async move {
                let cx = app.root_context();
                while !stop.load(Ordering::Relaxed) {
                    stats.run(kind, &app, &cx, &mut rng).await;
                    // One operation per turn, as if each came from a caller of its
                    // own. (Without a yield, a loop of Lua calls that never wait would
                    // hold its worker forever: such a call completes in one poll and
                    // takes no tokio budget.)
                    tokio::task::yield_now().await;
                }
            });
        }
    }
    let started = Instant::now();
    let mut peak = Snapshot::take(app);
    let (mut rss_mid, mut rss_last) = (0, 0);
    let mut printed = (started, stats.counts());
    if print {
        println!("{}", sample_line(None));
    }
    while started.elapsed() < Duration::from_secs(secs) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = Snapshot::take(app);
        peak.rss = peak.rss.max(now.rss);
        peak.tasks = peak.tasks.max(now.tasks);
        peak.procs = peak.procs.max(now.procs);
        if rss_mid == 0 && started.elapsed().as_secs() * 2 >= secs {
            rss_mid = now.rss;
        }
        rss_last = now.rss;
        if print && printed.0.elapsed() >= Duration::from_secs(s.sample_secs) {
            let counts = stats.counts();
            let rates = rates(&printed.1, &counts, printed.0.elapsed().as_secs_f64());
            println!("{}", sample_line(Some((started.elapsed(), now, rates))));
            printed = (Instant::now(), counts);
        }
    }
    let load_secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let drained = tokio::time::timeout(DRAIN_BOUND, async {
        while let Some(joined) = tasks.join_next().await {
            joined.expect("a soak task panicked");
        }
    })
    .await;
    let stuck = match drained {
        Ok(()) => Vec::new(),
        Err(_) => {
            tasks.abort_all();
            let in_flight =
                |(k, (_, name, ..)): (&KindStats, &(Kind, &'static str, usize, Outcome))| {
                    let n = k.in_flight.load(Ordering::Relaxed);
                    (n > 0).then_some((*name, n))
                };
            stats
                .kinds
                .iter()
                .zip(MIX.iter())
                .filter_map(in_flight)
                .collect()
        }
    };
    Phase {
        drain_secs: started.elapsed().as_secs_f64() - load_secs,
        stats,
        peak,
        load_secs,
        stuck,
        rss_mid,
        rss_last,
    }
}

/// Waits (bounded) for every process to end, then leaves the runtime alone for
/// [`SETTLE`].
async fn settle(app: &Runtime) {
    let until = Instant::now() + DRAIN_BOUND;
    while !app.processes.is_empty() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(SETTLE).await;
}
