//! WebAssembly entries end to end: the committed guests (`guests/dist`), loaded from an
//! `fs.directory` with their sha256, booted through `weft::boot_app`, called through the
//! function registry and from Lua with `funcs.call`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft::boot_app;
use weft_core::{ErrorKind, Value};
use weft_registry::{BootOptions, LoadOptions};
use weft_runtime::Runtime;

mod common;
use common::{dist, sha};

/// A `function.wasm` entry for a guest in guests/dist, with extra YAML lines.
fn wasm_entry(name: &str, guest: &str, method: &str, extra: &str) -> String {
    common::guest_entry("function.wasm", name, guest, method, extra)
}

fn wat_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../guests/wat")
        .canonicalize()
        .expect("guests/wat")
}

/// The standard app: the guests directory and one entry per function the tests call.
fn index(extra_entries: &str) -> String {
    let mut s = format!(
        "namespace: t\nentries:\n  - name: guests\n    kind: fs.directory\n    directory: {}\n",
        dist().display()
    );
    for (name, method) in [
        ("add", "add"),
        ("echo_u64", "echo-u64"),
        ("neg_s8", "neg-s8"),
        ("half_f32", "half-f32"),
        ("next_char", "next-char"),
        ("reverse_bytes", "reverse-bytes"),
        ("older", "older"),
        ("normalize_rect", "normalize-rect"),
        ("maybe_double", "maybe-double"),
        ("try_divide", "try-divide"),
        ("check_positive", "check-positive"),
        ("area", "area"),
        ("make_shape", "make-shape"),
        ("next_color", "next-color"),
        ("toggle_exec", "toggle-exec"),
        ("swap", "swap"),
        ("noop", "noop"),
        ("range", "range"),
        ("fibonacci", "test:types/math@0.1.0#fibonacci"),
    ] {
        s.push_str(&wasm_entry(name, "types", method, ""));
    }
    s.push_str(&wasm_entry(
        "spin",
        "spin",
        "spin-forever",
        "    limits: {max_execution_ms: 100}\n",
    ));
    s.push_str(&wasm_entry(
        "hog",
        "hog",
        "grow-forever",
        "    limits: {max_memory_mb: 32}\n",
    ));
    s.push_str(&wasm_entry("trap", "trap", "unreachable-trap", ""));
    s.push_str(&wasm_entry("divide", "trap", "divide", ""));
    s.push_str(&wasm_entry("no_host", "unprovided", "no-host", ""));
    s.push_str(&wasm_entry("call_host", "unprovided", "call-host", ""));
    s.push_str(
        "  - name: answer\n    kind: function.wat\n    source: file://answer.wat\n    method: answer\n    wit: \"answer: func() -> s32;\"\n",
    );
    s.push_str(
        "  - name: greet_core\n    kind: function.wat\n    source: file://greet_core.wat\n    method: greet\n    wit: \"greet: func(name: string) -> string;\"\n",
    );
    s.push_str(extra_entries);
    s
}

/// A temp app dir with `index` and the WAT guests next to it.
fn app_dir(index: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("_index.yaml"), index).unwrap();
    for wat in ["answer.wat", "greet_core.wat"] {
        std::fs::copy(wat_dir().join(wat), src.join(wat)).unwrap();
    }
    dir
}

async fn boot(index: &str) -> Result<(tempfile::TempDir, Arc<Runtime>), String> {
    let dir = app_dir(index);
    let opts = LoadOptions {
        root: dir.path().to_path_buf(),
        ..LoadOptions::default()
    };
    match boot_app(&opts, &BootOptions::default()).await {
        Ok(b) => Ok((dir, b.runtime)),
        Err(e) => Err(e.to_string()),
    }
}

async fn app() -> (tempfile::TempDir, Arc<Runtime>) {
    boot(&index(""))
        .await
        .unwrap_or_else(|e| panic!("boot failed:\n{e}"))
}

async fn call(rt: &Runtime, id: &str, args: Vec<Value>) -> weft_core::Result<Value> {
    rt.functions.call(&rt.root_context(), id, args).await
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scalar_types_round_trip() {
    let (_d, rt) = app().await;
    assert_eq!(
        call(&rt, "t:add", vec![Value::Int(2), Value::Int(40)])
            .await
            .unwrap(),
        Value::Int(42)
    );
    // u64::MAX does not fit a Lua integer: an error naming the value, never a silent wrap.
    let err = call(&rt, "t:echo_u64", vec![Value::Float(1.8446744073709552e19)])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert_eq!(
        call(&rt, "t:echo_u64", vec![Value::Int(i64::MAX)])
            .await
            .unwrap(),
        Value::Int(i64::MAX)
    );
    assert_eq!(
        call(&rt, "t:neg_s8", vec![Value::Int(-127)]).await.unwrap(),
        Value::Int(127)
    );
    let err = call(&rt, "t:neg_s8", vec![Value::Int(200)])
        .await
        .unwrap_err();
    assert!(err.message().contains("argument 1"), "{err}");
    assert_eq!(
        call(&rt, "t:half_f32", vec![Value::Int(3)]).await.unwrap(),
        Value::Float(1.5)
    );
    assert_eq!(
        call(&rt, "t:next_char", vec![Value::str("a")])
            .await
            .unwrap(),
        Value::str("b")
    );
    assert_eq!(
        call(&rt, "t:reverse_bytes", vec![Value::bytes(vec![1u8, 2, 3])])
            .await
            .unwrap(),
        Value::bytes(vec![3u8, 2, 1])
    );
    assert_eq!(call(&rt, "t:noop", vec![]).await.unwrap(), Value::Nil);
    assert_eq!(
        call(&rt, "t:range", vec![Value::Int(0)]).await.unwrap(),
        Value::array(vec![])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compound_types_round_trip() {
    let (_d, rt) = app().await;
    let users = json(
        r#"[{"name":"ann","age":30,"tags":["a"]},{"name":"bob","age":254,"tags":[],"email":"b@x"}]"#,
    );
    let out = call(&rt, "t:older", vec![users, Value::Int(3)])
        .await
        .unwrap();
    let out = out.as_array().unwrap();
    assert_eq!(out[0].get("age"), Some(&Value::Int(33)));
    assert_eq!(out[1].get("age"), Some(&Value::Int(255)));
    assert_eq!(out[1].get("email").and_then(Value::as_str), Some("b@x"));
    let rect = json(r#"{"top-left":{"x":5,"y":5},"bottom-right":{"x":1,"y":2}}"#);
    let norm = call(&rt, "t:normalize_rect", vec![rect]).await.unwrap();
    assert_eq!(norm.get_path("top-left.x"), Some(&Value::Int(1)));
    assert_eq!(
        call(&rt, "t:maybe_double", vec![Value::Nil]).await.unwrap(),
        Value::Nil
    );
    assert_eq!(
        call(&rt, "t:maybe_double", vec![Value::Int(4)])
            .await
            .unwrap(),
        Value::Int(8)
    );
    let ok = call(&rt, "t:try_divide", vec![Value::Int(7), Value::Int(2)])
        .await
        .unwrap();
    assert_eq!(ok.get("ok"), Some(&Value::Int(3)));
    let err = call(&rt, "t:try_divide", vec![Value::Int(7), Value::Int(0)])
        .await
        .unwrap();
    assert_eq!(err.get_path("err.code"), Some(&Value::Int(1)));
    let err = call(&rt, "t:check_positive", vec![Value::Int(-1)])
        .await
        .unwrap();
    assert!(
        err.get("err")
            .and_then(Value::as_str)
            .unwrap()
            .contains("not positive")
    );
    let area = call(&rt, "t:area", vec![json(r#"{"circle": 1.0}"#)])
        .await
        .unwrap();
    assert!((area.as_f64().unwrap() - std::f64::consts::PI).abs() < 1e-9);
    let shape = call(&rt, "t:make_shape", vec![Value::str("rectangle")])
        .await
        .unwrap();
    assert_eq!(
        shape.get_path("rectangle.bottom-right.y"),
        Some(&Value::Int(3))
    );
    assert_eq!(
        call(&rt, "t:next_color", vec![Value::str("blue")])
            .await
            .unwrap(),
        Value::str("red")
    );
    assert_eq!(
        call(&rt, "t:next_color", vec![Value::Int(0)])
            .await
            .unwrap(),
        Value::str("green")
    );
    let perms = call(&rt, "t:toggle_exec", vec![json(r#"["read"]"#)])
        .await
        .unwrap();
    assert_eq!(perms, json(r#"["read","exec"]"#));
    let swapped = call(&rt, "t:swap", vec![json(r#"["x", 7]"#)])
        .await
        .unwrap();
    assert_eq!(swapped, json(r#"[7, "x"]"#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interface_exports_and_core_modules() {
    let (_d, rt) = app().await;
    assert_eq!(
        call(&rt, "t:fibonacci", vec![Value::Int(10)])
            .await
            .unwrap(),
        Value::Int(55)
    );
    assert_eq!(call(&rt, "t:answer", vec![]).await.unwrap(), Value::Int(42));
    assert_eq!(
        call(&rt, "t:greet_core", vec![Value::str("Wippy")])
            .await
            .unwrap(),
        Value::str("Hello, Wippy!")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_name_the_path() {
    let (_d, rt) = app().await;
    let users = json(r#"[{"name":"ann","age":30,"tags":["a", 5]}]"#);
    let err = call(&rt, "t:older", vec![users, Value::Int(1)])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert!(
        err.message().contains("argument 1 (users)[1].tags[2]"),
        "{err}"
    );
    let err = call(&rt, "t:add", vec![Value::Int(1)]).await.unwrap_err();
    assert!(
        err.message().contains("expected 2 arguments, got 1"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infinite_loop_stops_at_the_deadline() {
    let (_d, rt) = app().await;
    let start = Instant::now();
    let err = call(&rt, "t:spin", vec![]).await.unwrap_err();
    let took = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.message().contains("t:spin"), "{err}");
    assert!(
        took >= Duration::from_millis(100) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(
        call(&rt, "t:add", vec![Value::Int(1), Value::Int(1)])
            .await
            .unwrap(),
        Value::Int(2)
    );
}

/// More spinning guests than worker threads: each still stops at its deadline and the
/// runtime keeps serving. A plain test with its own runtime, so a starved runtime is
/// caught by a thread that does not depend on the runtime's workers.
#[test]
fn spinning_guests_stop_at_their_deadline_with_every_worker_busy() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    runtime.spawn(async move {
        let (dir, rt) = app().await;
        let calls: Vec<_> = (0..6)
            .map(|_| {
                let rt = rt.clone();
                tokio::spawn(async move {
                    let start = Instant::now();
                    let result = call(&rt, "t:spin", vec![]).await;
                    (result, start.elapsed())
                })
            })
            .collect();
        let mut spins = Vec::new();
        for c in calls {
            spins.push(c.await.unwrap());
        }
        let add = call(&rt, "t:add", vec![Value::Int(1), Value::Int(1)]).await;
        let _ = tx.send((spins, add));
        drop(dir);
    });
    let outcome = rx.recv_timeout(Duration::from_secs(60));
    // Never wait for the workers: on failure they are still spinning.
    runtime.shutdown_background();
    let (spins, add) = outcome.expect("spinning guests starved the runtime: no deadline fired");
    for (result, took) in spins {
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        // The limit is 100 ms; the bound only rules out a deadline that waits for others.
        assert!(took < Duration::from_secs(1), "{took:?}");
    }
    assert_eq!(add.unwrap(), Value::Int(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_hog_is_stopped_by_its_limit() {
    let (_d, rt) = app().await;
    let err = call(&rt, "t:hog", vec![]).await.unwrap_err();
    assert!(err.message().contains("t:hog"), "{err}");
    assert!(err.message().contains("memory"), "{err}");
    // The cause comes first and names the limit; the backtrace is kept apart.
    assert_eq!(
        err.message(),
        "t:hog: grow-forever exceeded its memory limit (limits.max_memory_mb: 32 MB)"
    );
    assert_eq!(
        call(&rt, "t:add", vec![Value::Int(1), Value::Int(1)])
            .await
            .unwrap(),
        Value::Int(2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traps_fail_the_call_with_entry_method_and_backtrace() {
    let (_d, rt) = app().await;
    let err = call(&rt, "t:trap", vec![]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal);
    assert!(
        err.message().contains("unreachable-trap") && err.message().contains("t:trap"),
        "{err}"
    );
    assert_eq!(err.message().matches("wasm trap:").count(), 1, "{err}");
    assert!(
        err.stack().is_some_and(|s| !s.is_empty()),
        "no backtrace: {err:?}"
    );
    let err = call(&rt, "t:divide", vec![Value::Int(1), Value::Int(0)])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal, "{err}");
    assert_eq!(
        call(&rt, "t:divide", vec![Value::Int(8), Value::Int(2)])
            .await
            .unwrap(),
        Value::Int(4)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unprovided_imports_instantiate_and_trap_only_when_called() {
    let (_d, rt) = app().await;
    assert_eq!(
        call(&rt, "t:no_host", vec![Value::Int(1)]).await.unwrap(),
        Value::Int(2)
    );
    let err = call(&rt, "t:call_host", vec![Value::Int(1)])
        .await
        .unwrap_err();
    assert!(err.message().contains("test:minimal/host"), "{err}");
    assert!(err.message().contains("ping"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lua_calls_wasm_through_funcs_call() {
    let lua = r#"  - name: lua
    kind: function.lua
    method: run
    modules: [funcs]
    source: |
      return {run = function()
        local sum = funcs.call("t:add", 20, 22)
        local users = funcs.call("t:older", {{name = "ann", age = 1, tags = {}}}, 2)
        local res = funcs.call("t:try_divide", 1, 0)
        local _, err = funcs.call("t:add", "x", 1)
        return {sum = sum, age = users[1].age, code = res.err.code, err = err:kind()}
      end}
"#;
    let (_d, rt) = boot(&index(lua)).await.unwrap();
    let v = call(&rt, "t:lua", vec![]).await.unwrap();
    assert_eq!(v.get("sum"), Some(&Value::Int(42)));
    assert_eq!(v.get("age"), Some(&Value::Int(3)));
    assert_eq!(v.get("code"), Some(&Value::Int(1)));
    assert_eq!(v.get("err").and_then(Value::as_str), Some("Invalid"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_wasm_entries_fail_the_boot_with_entry_field_and_reason() {
    let types = dist().join("types.wasm");
    let wrong_hash = format!("sha256:{}", "0".repeat(64));
    let h = sha(&types);
    let m = sha(&dist().join("MANIFEST.txt"));
    let good_wat = r#"(module (func (export \"f\") (result i32) i32.const 1))"#;
    let lines = [
        format!(
            "  - {{name: guests, kind: fs.directory, directory: {}}}",
            dist().display()
        ),
        format!(
            "  - {{name: hash, kind: function.wasm, fs: t:guests, path: /types.wasm, hash: \"{wrong_hash}\", method: add}}"
        ),
        format!(
            "  - {{name: missing, kind: function.wasm, fs: t:guests, path: /nope.wasm, hash: \"{h}\", method: add}}"
        ),
        format!(
            "  - {{name: method, kind: function.wasm, fs: t:guests, path: /types.wasm, hash: \"{h}\", method: nope}}"
        ),
        "  - {name: badwat, kind: function.wat, source: \"(module (func\", method: f}".to_string(),
        format!("  - {{name: nowit, kind: function.wat, source: \"{good_wat}\", method: f}}"),
        format!(
            "  - {{name: badwit, kind: function.wat, source: \"{good_wat}\", method: f, wit: \"f: func(x: string) -> string;\"}}"
        ),
        format!(
            "  - {{name: notwasm, kind: function.wasm, fs: t:guests, path: /MANIFEST.txt, hash: \"{m}\", method: f}}"
        ),
        format!(
            "  - {{name: badimport, kind: function.wasm, fs: t:guests, path: /types.wasm, hash: \"{h}\", method: add, imports: [wasi:nope]}}"
        ),
        format!(
            "  - {{name: nomethod, kind: function.wasm, fs: t:guests, path: /types.wasm, hash: \"{h}\"}}"
        ),
    ];
    let entries = format!("namespace: t\nentries:\n{}\n", lines.join("\n"));
    let errors = boot(&entries).await.err().expect("boot should fail");
    for needle in [
        "t:hash (function.wasm): field hash: hash verification failed: hash mismatch",
        "t:missing (function.wasm): field path: failed to open file: /nope.wasm",
        "t:method (function.wasm): field method: export \"nope\" not found in component",
        "t:badwat (function.wat): field source: failed to load wat module",
        "t:nowit (function.wat): field wit: a core module needs a wit signature",
        "t:badwit (function.wat): field wit:",
        "t:notwasm (function.wasm): field path: the file is neither a core wasm module nor a component",
        "t:badimport (function.wasm): field imports: unsupported wasm host import: wasi:nope",
        "t:nomethod (function.wasm): field method: method is required",
    ] {
        assert!(errors.contains(needle), "missing {needle:?} in:\n{errors}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_transports_are_checked_at_boot() {
    let good_wat = r#"(module (func (export \"f\") (result i32) i32.const 1))"#;
    let entry = |name: &str, method: &str, transport: &str| {
        format!(
            "  - {{name: {name}, kind: function.wat, source: \"{good_wat}\", method: \"{method}\", wit: \"f: func() -> s32;\", transport: {transport}}}\n"
        )
    };
    let entries = format!(
        "namespace: t\nentries:\n{}{}{}{}",
        entry("web", "f", "wasi-http"),
        entry("plain", "f", "payload"),
        entry("grpc", "f", "grpc"),
        entry("both", "wasi:http/incoming-handler#handle", "wasi-http"),
    );
    let errors = boot(&entries).await.err().expect("boot should fail");
    assert!(
        errors.contains("t:grpc (function.wat): field transport: invalid transport type"),
        "{errors}"
    );
    assert!(
        errors.contains("t:both (function.wat): field transport:")
            && errors.contains("leave transport unset"),
        "{errors}"
    );
    assert!(
        errors.contains("_index.yaml"),
        "the file is named: {errors}"
    );
    assert!(
        !errors.contains("t:plain") && !errors.contains("t:web"),
        "payload and wasi-http are accepted: {errors}"
    );
    // A method naming the incoming handler of a module that does not export it.
    let entries = format!(
        "namespace: t\nentries:\n{}",
        entry("nohandler", "wasi:http/incoming-handler#handle", "payload")
    );
    let errors = boot(&entries).await.err().expect("boot should fail");
    assert!(
        errors.contains("t:nohandler (function.wat): field") && errors.contains("incoming-handler"),
        "{errors}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compile_cache_is_used_and_survives_corruption() {
    let dir = app_dir(&index(""));
    // An app-local cache, as an operator may configure one.
    std::fs::write(
        dir.path().join(".wippy.yaml"),
        "version: \"1.0\"\nwasm:\n  cache_dir: .weft/cache\n",
    )
    .unwrap();
    let opts = LoadOptions {
        root: dir.path().to_path_buf(),
        ..LoadOptions::default()
    };
    boot_app(&opts, &BootOptions::default()).await.unwrap();
    let cache = dir.path().join(".weft/cache");
    let files: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(files.len() >= 6, "{files:?}");
    for f in &files {
        std::fs::write(f, b"garbage").unwrap();
    }
    let booted = boot_app(&opts, &BootOptions::default()).await.unwrap();
    let rt = booted.runtime;
    assert_eq!(
        call(&rt, "t:add", vec![Value::Int(1), Value::Int(2)])
            .await
            .unwrap(),
        Value::Int(3)
    );
    for f in &files {
        assert_ne!(
            std::fs::read(f).unwrap(),
            b"garbage",
            "{} was not rebuilt",
            f.display()
        );
    }
}
