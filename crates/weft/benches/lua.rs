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
//!   from a `coroutine.wrap` generator and by `coroutine.resume`, per value;
//! - boot of an app with 1,000 `function.lua` entries [≤ 1 s to ready], and the same with
//!   each entry then called once (every call builds its first VM).
//!
//! Run: `cargo bench -p weft --bench lua`. Figures go to docs/performance.md.

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use weft::boot_app;
use weft_core::{Actor, Map, Scope, Value};
use weft_registry::{BootOptions, LoadOptions};

mod calls;

/// The same allocator as the `weft` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CALL_APP: &str = r#"
namespace: bench
entries:
  - name: add
    kind: function.lua
    source: "return {run = function(a, b) return a + b end}"
    method: run
  - name: loop
    kind: function.lua
    source: |
      return {run = function(n)
        local call = funcs.call
        local s = 0
        for i = 1, n do
          local v, err = call("bench:add", i, 1)
          if err then error(err) end
          s = s + v
        end
        return s
      end}
    method: run
    modules: [funcs]
  - name: echo
    kind: function.lua
    source: "return {run = function(x) return x end}"
    method: run
  # The Lua floor of the records bench: the tables a Lua -> Lua call must build (the
  # callee's arguments and the caller's results), made n times by a deep copy inside
  # one VM, with no conversion and no call.
  - name: copy_twice
    kind: function.lua
    source: |
      local function copy(v)
        if type(v) ~= "table" then return v end
        local t = {}
        for k, x in pairs(v) do t[k] = copy(x) end
        return t
      end
      return {run = function(n, users)
        for _ = 1, n do
          copy(copy(users))
        end
        return n
      end}
    method: run
  # Pacing: a long loop (armed after its first slice), and coroutines (listed per resume).
  - name: spin
    kind: function.lua
    source: |
      return {run = function(n)
        local s = 0
        for i = 1, n do s = s + i % 7 end
        return s
      end}
    method: run
  - name: generator
    kind: function.lua
    source: |
      return {run = function(n)
        local gen = coroutine.wrap(function() for i = 1, n do coroutine.yield(i) end end)
        local s = 0
        for _ = 1, n do s = s + gen() end
        return s
      end}
    method: run
  - name: resume
    kind: function.lua
    source: |
      return {run = function(n)
        local co = coroutine.create(function() for i = 1, n do coroutine.yield(i) end end)
        local resume, s = coroutine.resume, 0
        for _ = 1, n do local _, v = resume(co) s = s + v end
        return s
      end}
    method: run
  - name: allow_calls
    kind: security.policy
    policy:
      actions: funcs.call
      resources: "bench:*"
      effect: allow
      conditions:
        - {field: actor.id, operator: eq, value: bencher}
"#;

/// Nine policies that do not match `funcs.call` (each evaluated on every check).
fn other_policies() -> String {
    let patterns = [
        "doc.read",
        "doc.write.*",
        "env.*",
        "process.spawn",
        "fs.get",
        "http_client.*",
        "registry.get",
        "security.*",
        "socket.connect",
    ];
    patterns
        .iter()
        .enumerate()
        .map(|(i, action)| {
            format!(
                "  - name: other{i}\n    kind: security.policy\n    policy: {{actions: \"{action}\", resources: \"*\", effect: allow}}\n"
            )
        })
        .collect()
}

fn write_app(dir: &Path, files: &[(String, String)]) {
    for (path, body) in files {
        let full = dir.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, body).unwrap();
    }
}

fn opts(dir: &Path) -> LoadOptions {
    LoadOptions {
        root: dir.to_path_buf(),
        ..LoadOptions::default()
    }
}

fn calls(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_app(
        dir.path(),
        &[(
            "src/_index.yaml".into(),
            format!(
                "{CALL_APP}{}{}",
                // `loop_args`: calls `target` n times with the same arguments.
                calls::LUA_LOOP.replace("- name: loop\n", "- name: loop_args\n"),
                other_policies()
            ),
        )],
    );
    let booted = rt
        .block_on(boot_app(&opts(dir.path()), &BootOptions::default()))
        .unwrap();
    let runtime = booted.runtime;
    let cx = runtime.root_context();
    // Actor + 10 policies; the allowing one is last, and every one is evaluated per check.
    let mut policies: Vec<_> = (0..9)
        .map(|i| runtime.policies.get(&format!("bench:other{i}")).unwrap())
        .collect();
    policies.push(runtime.policies.get("bench:allow_calls").unwrap());
    let secure_cx = cx
        .with_actor(Some(Actor::new("bencher", Map::new())))
        .with_scope(Some(Scope::new(policies)));

    let mut group = c.benchmark_group("lua");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("funcs.call lua->lua round trip", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                let out = runtime
                    .functions
                    .call(&cx, "bench:loop", vec![Value::Int(iters as i64)])
                    .await
                    .unwrap();
                let elapsed = start.elapsed();
                assert!(matches!(out, Value::Int(_)));
                elapsed
            })
        })
    });
    group.bench_function(
        "funcs.call lua->lua round trip, security on (10 policies)",
        |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    let out = runtime
                        .functions
                        .call(&secure_cx, "bench:loop", vec![Value::Int(iters as i64)])
                        .await
                        .unwrap();
                    let elapsed = start.elapsed();
                    assert!(matches!(out, Value::Int(_)));
                    elapsed
                })
            })
        },
    );
    let users = calls::users(100);
    group.bench_function("funcs.call lua->lua list of 100 records in and out", |b| {
        b.iter_custom(|iters| {
            let args = vec![
                Value::str("bench:echo"),
                Value::Int(iters as i64),
                users.clone(),
            ];
            rt.block_on(async {
                let start = Instant::now();
                runtime
                    .functions
                    .call(&cx, "bench:loop_args", args)
                    .await
                    .unwrap();
                start.elapsed()
            })
        })
    });
    group.bench_function(
        "floor: the same records deep-copied twice inside one Lua VM",
        |b| {
            b.iter_custom(|iters| {
                let args = vec![Value::Int(iters as i64), users.clone()];
                rt.block_on(async {
                    let start = Instant::now();
                    runtime
                        .functions
                        .call(&cx, "bench:copy_twice", args)
                        .await
                        .unwrap();
                    start.elapsed()
                })
            })
        },
    );
    for (name, entry) in [
        ("a long Lua loop, per iteration", "bench:spin"),
        ("coroutine.wrap generator, per value", "bench:generator"),
        ("coroutine.resume, per value", "bench:resume"),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    let out = runtime
                        .functions
                        .call(&cx, entry, vec![Value::Int(iters as i64)])
                        .await
                        .unwrap();
                    let elapsed = start.elapsed();
                    assert!(matches!(out, Value::Int(_)));
                    elapsed
                })
            })
        });
    }
    group.bench_function("rust->lua call through the registry", |b| {
        b.iter(|| {
            rt.block_on(runtime.functions.call(
                &cx,
                "bench:add",
                vec![Value::Int(1), Value::Int(2)],
            ))
            .unwrap()
        })
    });
    group.finish();
}

fn boot(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
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
                .block_on(boot_app(&opts(dir.path()), &BootOptions::default()))
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
                    .block_on(boot_app(&opts(dir.path()), &BootOptions::default()))
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
