//! Lua benchmarks (issue targets in brackets):
//! - `funcs.call` Lua → Lua round trip, measured inside Lua [median ≤ 5 µs];
//! - the same with security on: an actor and a scope of 10 `security.policy` entries,
//!   one of which allows `funcs.call` [≤ 10 % over the plain round trip];
//! - a Rust → Lua call through the function registry (the floor of the above);
//! - 100 user records (name, age, tags, email) passed Lua → Lua and returned, the same
//!   payload as the WASM records bench [≤ 60 µs];
//! - what pacing costs Lua code itself (the limits issue: the instruction hook is armed
//!   only on code that runs past a 1 ms slice, and weft's `coroutine.resume`/`wrap` list
//!   the coroutine they run): a long arithmetic loop, per iteration, and values taken
//!   from a `coroutine.wrap` generator and by `coroutine.resume`, per value (against
//!   pacing turned off: the `pacing` bench);
//! - boot of an app with 1,000 `function.lua` entries [≤ 1 s to ready], and the same with
//!   each entry then called once (every call builds its first VM).
//!
//! Run: `cargo bench -p weft --bench lua`. Figures go to docs/performance.md.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use lua_app::{App, write_app};
use weft::boot_app;
use weft_core::{CallContext, Value};
use weft_registry::BootOptions;

mod calls;
mod lua_app;

/// The same allocator as the `weft` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn calls(c: &mut Criterion) {
    let rt = calls::tokio_runtime();
    let dir = tempfile::tempdir().unwrap();
    lua_app::write_calls_app(dir.path());
    let app = App::boot(&rt, dir.path(), true);
    let cx = app.runtime.root_context();
    let secure_cx = app.secure_context();
    let users = calls::users(100);
    let loops: [(&str, &str, &CallContext, Args); 7] = [
        ("funcs.call lua->lua round trip", "bench:loop", &cx, count),
        (
            "funcs.call lua->lua round trip, security on (10 policies)",
            "bench:loop",
            &secure_cx,
            count,
        ),
        (
            "funcs.call lua->lua list of 100 records in and out",
            "bench:loop_args",
            &cx,
            |n, users| {
                vec![
                    Value::str("bench:echo"),
                    Value::Int(n as i64),
                    users.clone(),
                ]
            },
        ),
        (
            "floor: the same records deep-copied twice inside one Lua VM",
            "bench:copy_twice",
            &cx,
            |n, users| vec![Value::Int(n as i64), users.clone()],
        ),
        ("a long Lua loop, per iteration", "bench:spin", &cx, count),
        (
            "coroutine.wrap generator, per value",
            "bench:generator",
            &cx,
            count,
        ),
        ("coroutine.resume, per value", "bench:resume", &cx, count),
    ];

    let mut group = c.benchmark_group("lua");
    group.measurement_time(Duration::from_secs(5));
    for (name, entry, cx, args) in loops {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| app.time(&rt, cx, entry, args(iters, &users)))
        });
    }
    group.bench_function("rust->lua call through the registry", |b| {
        b.iter(|| {
            rt.block_on(app.runtime.functions.call(
                &cx,
                "bench:add",
                vec![Value::Int(1), Value::Int(2)],
            ))
            .unwrap()
        })
    });
    group.finish();
}

/// The arguments of a bench's call, for `n` iterations (and the 100 records).
type Args = fn(u64, &Value) -> Vec<Value>;

/// The arguments of an entry looping `n` times.
fn count(n: u64, _: &Value) -> Vec<Value> {
    vec![Value::Int(n as i64)]
}

fn boot(c: &mut Criterion) {
    let rt = calls::tokio_runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for file in 0..50 {
        let mut body = format!("namespace: bench.f{file}\nentries:\n");
        for i in 0..20 {
            body.push_str(&format!(
                "  - name: fn{i}\n    kind: function.lua\n    method: run\n    modules: [funcs, json]\n    source: |\n      local M = {{}}\n      function M.run(a, b)\n        local t = {{a = a, b = b, i = {i}}}\n        return json.encode(t)\n      end\n      return M\n"
            ));
        }
        files.push((format!("src/f{file:02}/_index.yaml"), body));
    }
    write_app(dir.path(), &files);
    let mut group = c.benchmark_group("boot");
    group.sample_size(10);
    group.bench_function("1000 function.lua entries to ready", |b| {
        b.iter(|| {
            let booted = rt
                .block_on(boot_app(
                    &calls::load_options(dir.path()),
                    &BootOptions::default(),
                ))
                .unwrap();
            assert_eq!(booted.runtime.functions.ids().len(), 1000);
        })
    });
    // The same, then each entry called once: every call builds its entry's first VM.
    group.bench_function(
        "1000 function.lua entries to ready, each called once",
        |b| {
            b.iter(|| {
                let booted = rt
                    .block_on(boot_app(
                        &calls::load_options(dir.path()),
                        &BootOptions::default(),
                    ))
                    .unwrap();
                let app = booted.runtime;
                let cx = app.root_context();
                rt.block_on(async {
                    for id in app.functions.ids() {
                        let args = vec![Value::Int(1), Value::Int(2)];
                        app.functions.call(&cx, id.as_str(), args).await.unwrap();
                    }
                });
            })
        },
    );
    group.finish();
}

criterion_group!(benches, calls, boot);
criterion_main!(benches);
