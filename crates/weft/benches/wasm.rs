//! WebAssembly benchmarks, side by side in one run (issue targets in brackets):
//! - floor: the same component function called from Rust on a reused instance (`add`,
//!   and `echo-users` of 100 records with the values built once);
//! - `funcs.call` Lua → WASM `add(s32, s32)`, fresh instance per call [≤ 8 µs] and warm
//!   (`pool.instance: warm`) [≤ 1.5 µs]; the same from Rust through the registry;
//! - `funcs.call` Lua → WASM with a list of 100 records in and out, fresh and warm
//!   [≤ 100 µs, within 5× the floor];
//! - `funcs.call` Lua → WASM with 64 KB of text (`string`) and of bytes (`list<u8>`) in
//!   and out;
//! - concurrent calls on 2 cores for each pool type (calls/s);
//! - boot of an app with 20 components: cold (compile) vs warm (cache) [warm ≤ 5 % of cold].
//!
//! Run: `cargo bench -p weft --bench wasm`. Figures go to docs/performance.md.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use sha2::{Digest, Sha256};
use weft_core::Value;

mod calls;
use calls::{LUA_LOOP, boot, lua_loop, users};

/// The same allocator as the `weft` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn dist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guests/dist")
}

fn types_wasm() -> PathBuf {
    dist().join("types.wasm")
}

fn index() -> String {
    let wasm = types_wasm();
    let hash = hex::encode(Sha256::digest(std::fs::read(&wasm).unwrap()));
    let dir = wasm.parent().unwrap().canonicalize().unwrap();
    let mut s = format!(
        "namespace: b\nentries:\n  - {{name: guests, kind: fs.directory, directory: {}}}\n",
        dir.display()
    );
    let entry = |name: &str, method: &str, pool: &str| {
        format!(
            "  - {{name: {name}, kind: function.wasm, fs: b:guests, path: /types.wasm, hash: \"sha256:{hash}\", method: {method}{pool}}}\n"
        )
    };
    s.push_str(&entry("add", "add", ""));
    s.push_str(&entry(
        "add_warm",
        "add",
        ", pool: {type: inline, instance: warm}",
    ));
    s.push_str(&entry(
        "users_warm",
        "echo-users",
        ", pool: {type: inline, instance: warm}",
    ));
    s.push_str(&entry("users", "echo-users", ""));
    s.push_str(&entry("echo_string", "echo-string", ""));
    s.push_str(&entry("echo_bytes", "echo-bytes", ""));
    // A lean module: the same add as a WAT core module (no WASI imports, one memory page).
    s.push_str(
        r#"  - name: add_wat
    kind: function.wat
    method: add
    wit: "add: func(a: s32, b: s32) -> s32;"
    source: |
      (module
        (memory (export "memory") 1)
        (func (export "add") (param i32 i32) (result i32)
          (i32.add (local.get 0) (local.get 1))))
"#,
    );
    // WASI: a std Rust component importing io, cli and clocks, reading the wall clock.
    let clock = dist().join("clock.wasm");
    let clock_hash = hex::encode(Sha256::digest(std::fs::read(&clock).unwrap()));
    s.push_str(&format!(
        "  - {{name: now, kind: function.wasm, fs: b:guests, path: /clock.wasm, hash: \"sha256:{clock_hash}\", method: now-ms, imports: [wasi:io, wasi:cli, wasi:clocks]}}\n"
    ));
    s.push_str(&format!(
        "  - {{name: sleep, kind: function.wasm, fs: b:guests, path: /clock.wasm, hash: \"sha256:{clock_hash}\", method: sleep-ms, imports: [wasi:io, wasi:poll, wasi:clocks], pool: {{type: lazy, max_size: 600}}}}\n"
    ));
    // process.wasm: compute(a, b) = a * b, spawned on a process host.
    let funcs_user = dist().join("funcs-user.wasm");
    let fu_hash = hex::encode(Sha256::digest(std::fs::read(&funcs_user).unwrap()));
    s.push_str(&format!(
        "  - {{name: compute, kind: process.wasm, fs: b:guests, path: /funcs-user.wasm, hash: \"sha256:{fu_hash}\", method: compute}}\n  - {{name: host, kind: process.host, lifecycle: {{auto_start: true}}}}\n"
    ));
    for (name, pool) in [
        ("inline", ", pool: {type: inline}"),
        ("lazy", ", pool: {type: lazy, max_size: 16}"),
        ("static", ", pool: {type: static, size: 4, workers: 4}"),
        ("adaptive", ", pool: {type: adaptive, max_size: 16}"),
    ] {
        s.push_str(&entry(&format!("add_{name}"), "add", pool));
    }
    s.push_str(LUA_LOOP);
    s
}

fn calls(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/_index.yaml"), index()).unwrap();
    // Room for the 500 concurrent sleepers.
    std::fs::write(
        dir.path().join(".wippy.yaml"),
        "version: \"1.0\"\nwasm:\n  max_instances: 600\n",
    )
    .unwrap();
    let (tokio_rt, app) = boot(dir.path());
    let cx = app.root_context();
    let mut group = c.benchmark_group("wasm");
    group.measurement_time(Duration::from_secs(5));

    // Floor: a reused instance, called from Rust.
    {
        use wasmtime::component::{Component, Linker, Val};
        let engine = wasmtime::Engine::default();
        let component = Component::from_file(&engine, types_wasm()).unwrap();
        let mut linker: Linker<Floor> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
        let mut store = wasmtime::Store::new(&engine, Floor::default());
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let func = instance.get_func(&mut store, "add").unwrap();
        let mut out = [Val::S32(0)];
        group.bench_function("floor: Func::call on a reused instance (Rust)", |b| {
            b.iter(|| {
                func.call(&mut store, &[Val::S32(2), Val::S32(40)], &mut out)
                    .unwrap();
            })
        });
        // The records floor: echo-users on a reused instance, values built once.
        let echo = instance.get_func(&mut store, "echo-users").unwrap();
        let users = Val::List(
            (0..100)
                .map(|i| {
                    Val::Record(vec![
                        ("name".into(), Val::String(format!("user{i}"))),
                        ("age".into(), Val::U8((i % 100) as u8)),
                        (
                            "tags".into(),
                            Val::List(vec![Val::String("a".into()), Val::String("b".into())]),
                        ),
                        (
                            "email".into(),
                            Val::Option(Some(Box::new(Val::String(format!("u{i}@example.com"))))),
                        ),
                    ])
                })
                .collect(),
        );
        let args = [users];
        let mut echoed = [Val::Bool(false)];
        group.bench_function(
            "floor: echo-users of 100 records on a reused instance (Rust)",
            |b| {
                b.iter(|| {
                    echo.call(&mut store, &args, &mut echoed).unwrap();
                })
            },
        );
    }

    let lua_loop = |target: &'static str, args: Vec<Value>| {
        lua_loop(&tokio_rt, &app, &cx, "b:loop", target, args)
    };
    let mut add = lua_loop("b:add", vec![Value::Int(2), Value::Int(40)]);
    group.bench_function("funcs.call lua->wasm add(s32, s32), fresh instance", |b| {
        b.iter_custom(&mut add)
    });
    let mut add_warm = lua_loop("b:add_warm", vec![Value::Int(2), Value::Int(40)]);
    group.bench_function("funcs.call lua->wasm add(s32, s32), warm instance", |b| {
        b.iter_custom(&mut add_warm)
    });
    for (name, id) in [("fresh", "b:add"), ("warm", "b:add_warm")] {
        group.bench_function(
            format!("rust->wasm add(s32, s32) through the registry, {name} instance"),
            |b| {
                b.iter(|| {
                    tokio_rt
                        .block_on(
                            app.functions
                                .call(&cx, id, vec![Value::Int(2), Value::Int(40)]),
                        )
                        .unwrap()
                })
            },
        );
    }
    let users = users(100);
    let mut records = lua_loop("b:users", vec![users.clone()]);
    group.bench_function("funcs.call lua->wasm list of 100 records in and out", |b| {
        b.iter_custom(&mut records)
    });
    let mut records_warm = lua_loop("b:users_warm", vec![users]);
    group.bench_function(
        "funcs.call lua->wasm list of 100 records in and out, warm instance",
        |b| b.iter_custom(&mut records_warm),
    );
    // 64 KB of text and of bytes, in and out.
    let text = Value::str("x".repeat(64 * 1024));
    let mut echo_string = lua_loop("b:echo_string", vec![text.clone()]);
    group.bench_function("funcs.call lua->wasm 64 KB string in and out", |b| {
        b.iter_custom(&mut echo_string)
    });
    let mut echo_bytes = lua_loop("b:echo_bytes", vec![text]);
    group.bench_function("funcs.call lua->wasm 64 KB list<u8> in and out", |b| {
        b.iter_custom(&mut echo_bytes)
    });
    let mut add_wat = lua_loop("b:add_wat", vec![Value::Int(2), Value::Int(40)]);
    group.bench_function(
        "funcs.call lua->wasm add(s32, s32), WAT core module, fresh instance",
        |b| b.iter_custom(&mut add_wat),
    );
    let mut now = lua_loop("b:now", vec![]);
    group.bench_function(
        "funcs.call lua->wasi component (io, cli, clocks) now-ms, fresh instance",
        |b| b.iter_custom(&mut now),
    );
    group.bench_function("process.wasm spawn+run+EXIT (exec from Rust)", |b| {
        b.iter(|| {
            tokio_rt.block_on(async {
                let spawn = weft_runtime::Spawn::new(
                    "b:compute",
                    "b:host",
                    vec![Value::Int(6), Value::Int(7)],
                );
                let out = app.processes.exec(&app, &cx, spawn).await.unwrap();
                assert_eq!(out, Value::Int(42));
            })
        })
    });
    group.finish();

    // process.wasm spawn rate: 64 concurrent spawners on 2 cores.
    let per_sec = concurrent(&tokio_rt, 20_000, {
        let (app, cx) = (app.clone(), cx.clone());
        move || {
            let (app, cx) = (app.clone(), cx.clone());
            async move {
                let spawn = weft_runtime::Spawn::new(
                    "b:compute",
                    "b:host",
                    vec![Value::Int(6), Value::Int(7)],
                );
                app.processes.exec(&app, &cx, spawn).await.unwrap();
            }
        }
    });
    println!("wasm/process.wasm spawn+run+EXIT, 64 concurrent spawners: {per_sec:.0} per second");

    // 500 concurrent calls that each sleep 50 ms in the guest (wasi:clocks + poll).
    {
        let start = Instant::now();
        tokio_rt.block_on(async {
            let tasks: Vec<_> = (0..500)
                .map(|_| {
                    let app = app.clone();
                    let cx = cx.clone();
                    tokio::spawn(async move {
                        app.functions
                            .call(&cx, "b:sleep", vec![Value::Int(50)])
                            .await
                            .unwrap()
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        println!(
            "wasm/500 concurrent guest sleeps of 50 ms: all done in {:.0} ms",
            start.elapsed().as_secs_f64() * 1000.0
        );
    }

    // Throughput: 64 concurrent callers, each making calls from Rust through the registry.
    for pool in ["inline", "lazy", "static", "adaptive"] {
        let target = format!("b:add_{pool}");
        let per_sec = concurrent(&tokio_rt, 20_000, {
            let (app, cx) = (app.clone(), cx.clone());
            move || {
                let (app, cx, target) = (app.clone(), cx.clone(), target.clone());
                async move {
                    app.functions
                        .call(&cx, &target, vec![Value::Int(1), Value::Int(2)])
                        .await
                        .unwrap();
                }
            }
        });
        println!("wasm/throughput {pool} pool, 64 concurrent callers: {per_sec:.0} calls/s");
    }
}

/// Runs `total` operations made by `one` from 64 concurrent tasks on the bench's tokio
/// runtime and returns operations per second.
fn concurrent<F, Fut>(tokio_rt: &tokio::runtime::Runtime, total: usize, one: F) -> f64
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let per_task = total / 64;
    let start = Instant::now();
    tokio_rt.block_on(async {
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let one = one.clone();
                tokio::spawn(async move {
                    for _ in 0..per_task {
                        one().await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    (per_task * 64) as f64 / start.elapsed().as_secs_f64()
}

/// Store data of the floor benchmark.
#[derive(Default)]
struct Floor {
    table: wasmtime_wasi::ResourceTable,
    wasi: Option<wasmtime_wasi::WasiCtx>,
}

impl wasmtime_wasi::WasiView for Floor {
    fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
        wasmtime_wasi::WasiCtxView {
            ctx: self
                .wasi
                .get_or_insert_with(|| wasmtime_wasi::WasiCtx::builder().build()),
            table: &mut self.table,
        }
    }
}

/// Boot of 20 distinct components: cold (empty cache) and warm (cache filled).
fn boot_cold_warm(_c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let wasm_dir = dir.path().join("wasm");
    std::fs::create_dir_all(&wasm_dir).unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    let base = std::fs::read(types_wasm()).unwrap();
    let mut index = format!(
        "namespace: b\nentries:\n  - {{name: guests, kind: fs.directory, directory: {}}}\n",
        wasm_dir.display()
    );
    for i in 0..20 {
        // A custom section makes each component distinct (a different cache key).
        let mut bytes = base.clone();
        let name = b"weft-bench";
        let payload = format!("{i}");
        bytes.push(0);
        bytes.push((1 + name.len() + payload.len()) as u8);
        bytes.push(name.len() as u8);
        bytes.extend_from_slice(name);
        bytes.extend_from_slice(payload.as_bytes());
        let file = format!("c{i}.wasm");
        std::fs::write(wasm_dir.join(&file), &bytes).unwrap();
        let hash = hex::encode(Sha256::digest(&bytes));
        index.push_str(&format!(
            "  - {{name: c{i}, kind: function.wasm, fs: b:guests, path: /{file}, hash: \"sha256:{hash}\", method: add}}\n"
        ));
    }
    std::fs::write(dir.path().join("src/_index.yaml"), index).unwrap();
    let time_boot = || {
        let start = Instant::now();
        let (rt, _app) = boot(dir.path());
        let took = start.elapsed();
        drop(rt);
        took
    };
    let cold = time_boot();
    let mut warm = Vec::new();
    for _ in 0..5 {
        warm.push(time_boot());
    }
    warm.sort();
    let warm = warm[2];
    println!(
        "wasm/boot 20 components: cold {:.1} ms, warm (cache) {:.1} ms = {:.1}% of cold",
        cold.as_secs_f64() * 1e3,
        warm.as_secs_f64() * 1e3,
        warm.as_secs_f64() / cold.as_secs_f64() * 100.0
    );
}

criterion_group!(benches, calls, boot_cold_warm);
criterion_main!(benches);
