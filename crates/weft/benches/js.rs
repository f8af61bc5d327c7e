//! A JavaScript component (componentize-js: SpiderMonkey inside, ~12 MB; `guests/js`),
//! the heavy guest where instance reuse matters most. Side by side in one run:
//! - compile: boot of the app with an empty compile cache (cold) and with the cache
//!   filled (hit), medians of a few boots each, printed;
//! - `add(s32, s32)` from Lua through `funcs.call`: a fresh instance per call, and a warm
//!   instance (`pool.instance: warm`) [warm ≤ 20 µs];
//! - the floor: the same export called from Rust on one reused instance;
//! - 100 user records in and out, warm.
//!
//! Run: `cargo bench -p weft --bench js`. Figures go to docs/performance.md.

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

fn js_wasm() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guests/dist/js.wasm")
}

/// An app with the JS guest's exports as entries, and a Lua loop calling one of them.
fn index() -> String {
    let wasm = js_wasm();
    let hash = hex::encode(Sha256::digest(std::fs::read(&wasm).unwrap()));
    let dir = wasm.parent().unwrap().canonicalize().unwrap();
    let mut s = format!(
        "namespace: b\nentries:\n  - {{name: guests, kind: fs.directory, directory: {}}}\n",
        dir.display()
    );
    for (name, method, pool) in [
        ("add", "add", ""),
        ("add_warm", "add", ", pool: {type: inline, instance: warm}"),
        (
            "users_warm",
            "echo-users",
            ", pool: {type: inline, instance: warm}",
        ),
    ] {
        s.push_str(&format!(
            "  - {{name: {name}, kind: function.wasm, fs: b:guests, path: /js.wasm, hash: \"sha256:{hash}\", method: {method}{pool}}}\n"
        ));
    }
    s.push_str(LUA_LOOP);
    s
}

/// Writes the app (and its config, naming `cache` as the compile cache) under `root`.
fn write_app(root: &Path, cache: &Path) {
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("src/_index.yaml"), index()).unwrap();
    std::fs::write(
        root.join(".wippy.yaml"),
        format!(
            "version: \"1.0\"\nwasm:\n  cache_dir: {}\n",
            cache.display()
        ),
    )
    .unwrap();
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Cold compile (an empty cache per boot) and cache hits, printed.
fn compile(_c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let time_boot = |cache: &Path| {
        write_app(dir.path(), cache);
        let start = Instant::now();
        let (rt, _app) = boot(dir.path());
        let took = start.elapsed();
        drop(rt);
        took
    };
    let mut cold = Vec::new();
    for i in 0..3 {
        cold.push(time_boot(&dir.path().join(format!("cache-cold-{i}"))));
    }
    let filled = dir.path().join("cache-cold-0");
    let hit: Vec<_> = (0..5).map(|_| time_boot(&filled)).collect();
    let (cold, hit) = (median(cold), median(hit));
    println!(
        "js/boot with the JS component ({:.1} MB): cold compile {:.0} ms, cache hit {:.1} ms = {:.2}% of cold",
        std::fs::metadata(js_wasm()).unwrap().len() as f64 / 1e6,
        cold.as_secs_f64() * 1e3,
        hit.as_secs_f64() * 1e3,
        hit.as_secs_f64() / cold.as_secs_f64() * 100.0
    );
}

fn calls(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    write_app(dir.path(), &dir.path().join("cache"));
    let (tokio_rt, app) = boot(dir.path());
    let cx = app.root_context();
    let mut group = c.benchmark_group("js");
    group.measurement_time(Duration::from_secs(5));

    // Floor: one reused instance, called from Rust.
    {
        use wasmtime::component::{Component, Linker, Val};
        let engine = wasmtime::Engine::default();
        let component = Component::from_file(&engine, js_wasm()).unwrap();
        let linker: Linker<()> = Linker::new(&engine);
        let mut store = wasmtime::Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let func = instance.get_func(&mut store, "add").unwrap();
        let mut out = [Val::S32(0)];
        group.bench_function("floor: add on a reused instance (Rust)", |b| {
            b.iter(|| {
                func.call(&mut store, &[Val::S32(2), Val::S32(40)], &mut out)
                    .unwrap();
            })
        });
    }

    let lua_loop = |target: &'static str, args: Vec<Value>| {
        lua_loop(&tokio_rt, &app, &cx, "b:loop", target, args)
    };
    let two = || vec![Value::Int(2), Value::Int(40)];
    let mut fresh = lua_loop("b:add", two());
    group.bench_function("funcs.call lua->js add, fresh instance", |b| {
        b.iter_custom(&mut fresh)
    });
    let mut warm = lua_loop("b:add_warm", two());
    group.bench_function("funcs.call lua->js add, warm instance", |b| {
        b.iter_custom(&mut warm)
    });
    let mut records = lua_loop("b:users_warm", vec![users(100)]);
    group.bench_function(
        "funcs.call lua->js list of 100 records in and out, warm instance",
        |b| b.iter_custom(&mut records),
    );
    group.finish();
}

criterion_group!(benches, compile, calls);
criterion_main!(benches);
