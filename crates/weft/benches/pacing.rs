//! What pacing costs (the limits issue: ≤ 5 % on the Lua → Lua round trip): the Lua
//! bench's calls, each made on the same app booted twice, once as weft runs it and once
//! with its VMs built without pacing (`weft_lua::set_pacing(false)`: no slice timer, no
//! hook, Lua's own coroutine functions; the floor).
//!
//! A bench binary rather than criterion, because it alternates: each round times one
//! call (a few milliseconds of work) on each app in turn, each pair of rounds in both
//! orders, and the figure is the median of the pairs' ratios. On a shared machine whose
//! speed drifts by tens of percent over seconds, two benches run one after the other
//! compare two different machines; two calls a few milliseconds apart compare the same
//! one. (The paced thread's slice timer stops a tick after its last paced call, so a
//! floor call right after one may take a signal or two: ~µs in milliseconds.)
//!
//! Run: `cargo bench -p weft --bench pacing` (`PACING_PAIRS`, default 150). Figures go
//! to docs/performance.md ("Limits").

use std::time::Duration;

use weft_core::{CallContext, Value};

mod calls;
mod lua_app;

use lua_app::App;

/// The same allocator as the `weft` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One bench: a name, the entry called, whether with security on, its arguments, and
/// how many iterations one call makes (each call lasts a few milliseconds).
struct Bench {
    name: &'static str,
    entry: &'static str,
    secure: bool,
    args: fn(i64, &Value) -> Vec<Value>,
    iterations: i64,
}

const BENCHES: [Bench; 8] = [
    Bench {
        name: "funcs.call Lua -> Lua round trip",
        entry: "bench:loop",
        secure: false,
        args: count,
        iterations: 2_000,
    },
    Bench {
        name: "the same, security on (10 policies)",
        entry: "bench:loop",
        secure: true,
        args: count,
        iterations: 2_000,
    },
    Bench {
        name: "Rust -> Lua through the registry",
        entry: "bench:add",
        secure: false,
        args: |_, _| vec![Value::Int(1), Value::Int(2)],
        iterations: 1,
    },
    Bench {
        name: "100 records Lua -> Lua and back",
        entry: "bench:loop_args",
        secure: false,
        args: |n, users| vec![Value::str("bench:echo"), Value::Int(n), users.clone()],
        iterations: 20,
    },
    Bench {
        name: "records deep-copied twice in one VM (Lua code)",
        entry: "bench:copy_twice",
        secure: false,
        args: |n, users| vec![Value::Int(n), users.clone()],
        iterations: 20,
    },
    Bench {
        name: "a long Lua loop, per iteration",
        entry: "bench:spin",
        secure: false,
        args: count,
        iterations: 500_000,
    },
    Bench {
        name: "coroutine.wrap generator, per value",
        entry: "bench:generator",
        secure: false,
        args: count,
        iterations: 50_000,
    },
    Bench {
        name: "coroutine.resume, per value",
        entry: "bench:resume",
        secure: false,
        args: count,
        iterations: 50_000,
    },
];

/// Calls made on each app before timing (VMs built, caches warm).
const WARM_UP: usize = 20;

fn main() {
    let pairs: usize = std::env::var("PACING_PAIRS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(150);
    let rt = calls::tokio_runtime();
    let dir = tempfile::tempdir().unwrap();
    lua_app::write_calls_app(dir.path());
    let paced = App::boot(&rt, dir.path(), true);
    let floor = App::boot(&rt, dir.path(), false);
    let users = calls::users(100);
    println!("pacing: {pairs} pairs of rounds, medians (per iteration)");
    println!(
        "{:<48} {:>12} {:>12} {:>7} {:>15}",
        "bench", "paced", "floor", "ratio", "ratio p25-p75"
    );
    for bench in &BENCHES {
        let contexts = [&paced, &floor].map(|app| {
            if bench.secure {
                app.secure_context()
            } else {
                app.runtime.root_context()
            }
        });
        // Seconds per iteration.
        let time = |app: &App, cx: &CallContext| {
            let args = (bench.args)(bench.iterations, &users);
            if bench.iterations == 1 {
                // One short call: time a batch of them.
                let batch = 1_000;
                (0..batch)
                    .map(|_| app.time(&rt, cx, bench.entry, args.clone()))
                    .sum::<Duration>()
                    .as_secs_f64()
                    / batch as f64
            } else {
                app.time(&rt, cx, bench.entry, args).as_secs_f64() / bench.iterations as f64
            }
        };
        for _ in 0..WARM_UP {
            time(&paced, &contexts[0]);
            time(&floor, &contexts[1]);
        }
        // Each pair of rounds times both orders (paced first, then floor first), so
        // whatever going first or second does weighs on both alike.
        let (mut on, mut off, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..pairs {
            let (a1, b1) = (time(&paced, &contexts[0]), time(&floor, &contexts[1]));
            let (b2, a2) = (time(&floor, &contexts[1]), time(&paced, &contexts[0]));
            on.extend([a1, a2]);
            off.extend([b1, b2]);
            ratios.push((a1 + a2) / (b1 + b2));
        }
        println!(
            "{:<48} {:>12} {:>12} {:>7.3} {:>7.3}-{:<7.3}",
            bench.name,
            show(median(&mut on)),
            show(median(&mut off)),
            median(&mut ratios),
            quantile(&mut ratios, 0.25),
            quantile(&mut ratios, 0.75),
        );
    }
}

/// The arguments of an entry looping `n` times.
fn count(n: i64, _: &Value) -> Vec<Value> {
    vec![Value::Int(n)]
}

fn median(values: &mut [f64]) -> f64 {
    quantile(values, 0.5)
}

fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * q).round() as usize]
}

/// Seconds as ns or µs.
fn show(secs: f64) -> String {
    if secs < 1e-6 {
        format!("{:.2} ns", secs * 1e9)
    } else {
        format!("{:.3} µs", secs * 1e6)
    }
}
