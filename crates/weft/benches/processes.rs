//! Process benchmarks (issue targets in brackets):
//! - spawn + run + EXIT of a trivial `process.lua` [≥ 20,000 per second];
//! - message round trip between two Lua processes [median ≤ 10 µs];
//! - a monitored child spawned and its EXIT awaited, from a `function.lua` call (its frame
//!   opened for it) and from a `process.lua` [the call ≤ 2× the process];
//! - memory per idle Lua process, blocked on its inbox [≤ 64 KB] (printed, from RSS).
//!
//! Run: `cargo bench -p weft --bench processes`. Figures go to docs/performance.md.

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use weft::boot_app;
use weft_core::Value;
use weft_registry::{BootOptions, LoadOptions};
use weft_runtime::Spawn;

/// The same allocator as the `weft` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const APP: &str = r#"
namespace: bench
entries:
  - {name: host, kind: process.host, lifecycle: {auto_start: true}}
  - name: noop
    kind: process.lua
    source: "return {main = function(n) return n end}"
    method: main
  - name: spawner
    kind: process.lua
    source: |
      return {main = function(n)
        local events = process.events()
        for i = 1, n do
          local _, err = process.spawn_monitored("bench:noop", "bench:host", i)
          if err then error(err) end
        end
        for _ = 1, n do
          local ev = events:receive()
          if ev.result.error then error(ev.result.error) end
        end
        return n
      end}
    method: main
  - name: wait_child
    kind: process.lua
    source: |
      return {main = function(n)
        local events = process.events()
        for i = 1, n do
          local _, err = process.spawn_monitored("bench:noop", "bench:host", i)
          if err then error(err) end
          local ev = events:receive()
          if ev.result.error then error(ev.result.error) end
        end
        return n
      end}
    method: main
  - name: wait_child_fn
    kind: function.lua
    source: |
      return {run = function(i)
        local events = process.events()
        local _, err = process.spawn_monitored("bench:noop", "bench:host", i)
        if err then error(err) end
        local ev = events:receive()
        if ev.result.error then error(ev.result.error) end
        return i
      end}
    method: run
  - name: wait_child_calls
    kind: function.lua
    source: |
      return {run = function(n)
        local call = funcs.call
        for i = 1, n do
          local _, err = call("bench:wait_child_fn", i)
          if err then error(err) end
        end
        return n
      end}
    method: run
    modules: [funcs]
  - name: echo
    kind: process.lua
    source: |
      return {main = function()
        local inbox = process.inbox()
        while true do
          local m = inbox:receive()
          process.send(m:from(), "pong", 1)
        end
      end}
    method: main
  - name: pinger
    kind: process.lua
    source: |
      return {main = function(echo, n)
        local pongs = process.listen("pong")
        for _ = 1, n do
          process.send(echo, "ping", 1)
          pongs:receive()
        end
        return n
      end}
    method: main
  - name: idle
    kind: process.lua
    source: "return {main = function() return process.inbox():receive():topic() end}"
    method: main
"#;

fn setup() -> (
    tokio::runtime::Runtime,
    tempfile::TempDir,
    std::sync::Arc<weft_runtime::Runtime>,
) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("_index.yaml"), APP).unwrap();
    let opts = LoadOptions {
        root: dir.path().to_path_buf(),
        ..LoadOptions::default()
    };
    let booted = rt
        .block_on(boot_app(&opts, &BootOptions::default()))
        .unwrap();
    (rt, dir, booted.runtime)
}

fn processes(c: &mut Criterion) {
    let (tokio_rt, _dir, app) = setup();
    let _entered = tokio_rt.enter();
    let cx = app.root_context();
    let mut group = c.benchmark_group("process");
    group.measurement_time(Duration::from_secs(6));
    group.bench_function("spawn+run+EXIT of a trivial process.lua", |b| {
        b.iter_custom(|iters| {
            tokio_rt.block_on(async {
                let start = Instant::now();
                let req = Spawn::new(
                    "bench:spawner",
                    "bench:host",
                    vec![Value::Int(iters as i64)],
                );
                app.processes.exec(&app, &cx, req).await.unwrap();
                start.elapsed()
            })
        })
    });
    group.bench_function("monitored child + EXIT from a process.lua", |b| {
        b.iter_custom(|iters| {
            tokio_rt.block_on(async {
                let start = Instant::now();
                let args = vec![Value::Int(iters as i64)];
                let req = Spawn::new("bench:wait_child", "bench:host", args);
                app.processes.exec(&app, &cx, req).await.unwrap();
                start.elapsed()
            })
        })
    });
    group.bench_function("monitored child + EXIT from a function.lua call", |b| {
        b.iter_custom(|iters| {
            // On a worker, as the process above runs: the bench's own thread would pay
            // a thread wake-up for every EXIT.
            let (app, cx) = (app.clone(), cx.clone());
            tokio_rt.block_on(async move {
                tokio::spawn(async move {
                    let start = Instant::now();
                    let args = vec![Value::Int(iters as i64)];
                    app.functions
                        .call(&cx, "bench:wait_child_calls", args)
                        .await
                        .unwrap();
                    start.elapsed()
                })
                .await
                .unwrap()
            })
        })
    });
    let echo = app
        .processes
        .spawn(&app, &cx, Spawn::new("bench:echo", "bench:host", vec![]))
        .unwrap();
    group.bench_function("message round trip between two Lua processes", |b| {
        b.iter_custom(|iters| {
            tokio_rt.block_on(async {
                let start = Instant::now();
                let args = vec![Value::str(&*echo), Value::Int(iters as i64)];
                let req = Spawn::new("bench:pinger", "bench:host", args);
                app.processes.exec(&app, &cx, req).await.unwrap();
                start.elapsed()
            })
        })
    });
    group.finish();
    memory_per_idle_process(&tokio_rt, &app);
}

/// Spawns 10,000 idle processes and prints the resident memory they add, per process.
fn memory_per_idle_process(
    tokio_rt: &tokio::runtime::Runtime,
    app: &std::sync::Arc<weft_runtime::Runtime>,
) {
    const N: usize = 10_000;
    let cx = app.root_context();
    let before = rss_bytes();
    let pids: Vec<_> = (0..N)
        .map(|_| {
            app.processes
                .spawn(app, &cx, Spawn::new("bench:idle", "bench:host", vec![]))
                .unwrap()
        })
        .collect();
    tokio_rt.block_on(tokio::time::sleep(Duration::from_millis(500)));
    let after = rss_bytes();
    println!(
        "process/memory per idle Lua process: {:.1} KB ({N} processes, RSS +{:.1} MB)",
        (after.saturating_sub(before)) as f64 / N as f64 / 1024.0,
        (after.saturating_sub(before)) as f64 / 1024.0 / 1024.0
    );
    for pid in &pids {
        app.processes.send(&cx, pid, "stop", vec![]).unwrap();
    }
    tokio_rt.block_on(async {
        while pids.iter().any(|pid| app.processes.get(pid).is_some()) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
}

/// The resident set size of this process, from /proc.
fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string(Path::new("/proc/self/statm")).unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

criterion_group!(benches, processes);
criterion_main!(benches);
