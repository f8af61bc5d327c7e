//! Running Lua code is kept in check: `limits.max_execution_ms`, the caller's deadline and
//! `process.terminate` stop code that never yields on its own, and spinning code never
//! starves the runtime's other tasks.
//!
//! Each test runs its own tokio runtime and waits for the outcome on a plain thread, so a
//! starved runtime fails the test instead of hanging it.

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{app, boot_dir};
use weft_core::{ErrorKind, Value};
use weft_runtime::Spawn;

const APP: &str = r#"
namespace: t
entries:
  - {name: host, kind: process.host, lifecycle: {auto_start: true}}
  - name: spin
    kind: function.lua
    source: "return {run = function() while true do end end}"
    method: run
    limits: {max_execution_ms: 100}
  - name: spin_long
    kind: function.lua
    source: "return {run = function() while true do end end}"
    method: run
    limits: {max_execution_ms: 600}
  - name: spin_forever
    kind: function.lua
    source: "return {run = function() while true do end end}"
    method: run
  - name: catcher
    kind: function.lua
    source: "return {run = function() while true do pcall(function() while true do end end) end end}"
    method: run
    limits: {max_execution_ms: 100}
  - name: caller
    kind: function.lua
    source: |
      return {run = function(timeout)
        -- Options weft does not use (Wippy's retries) are ignored, not refused.
        local _, err = funcs.new():with_options({timeout = timeout, retries = 3}):call("t:spin_forever")
        return err:kind() .. ": " .. tostring(err)
      end}
    method: run
    modules: [funcs]
  - name: co_spin
    kind: function.lua
    source: |
      return {run = function()
        local co = coroutine.create(function() while true do end end)
        return coroutine.resume(co)
      end}
    method: run
    limits: {max_execution_ms: 100}
  - name: wrap_spin
    kind: function.lua
    source: |
      return {run = function()
        local spin = coroutine.wrap(function() while true do end end)
        return spin()
      end}
    method: run
    limits: {max_execution_ms: 100}
  - name: close_spin
    kind: function.lua
    source: |
      return {run = function()
        local co = coroutine.create(function()
          local guard <close> = setmetatable({}, {__close = function() while true do end end})
          coroutine.yield()
        end)
        coroutine.resume(co)
        return coroutine.close(co)
      end}
    method: run
    limits: {max_execution_ms: 100}
  - name: nested_spin
    kind: function.lua
    source: |
      return {run = function()
        local outer = coroutine.create(function()
          local inner = coroutine.wrap(function() while true do end end)
          inner()
        end)
        return coroutine.resume(outer)
      end}
    method: run
    limits: {max_execution_ms: 600}
  - name: reader_spin
    kind: function.lua
    source: |
      return {run = function()
        local reader = {read = function() while true do end end}
        return http_client.post("http://127.0.0.1:9/", {files = {{name = "f", reader = reader}}})
      end}
    method: run
    modules: [http_client]
    limits: {max_execution_ms: 100}
  - name: sort_spin
    kind: function.lua
    source: |
      return {run = function()
        table.sort({3, 2, 1}, function() while true do end end)
      end}
    method: run
    limits: {max_execution_ms: 100}
  - name: spinner
    kind: process.lua
    source: "return {main = function() while true do end end}"
    method: main
  - name: co_spinner
    kind: process.lua
    source: |
      return {main = function()
        local spin = coroutine.wrap(function() while true do end end)
        coroutine.resume(coroutine.create(spin))
      end}
    method: main
"#;

/// Runs `test` on a fresh 2-worker runtime and returns its result, or panics after
/// `limit` without waiting for the (then starved) workers.
fn on_runtime<T: Send + 'static>(
    limit: Duration,
    test: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    runtime.spawn(async move {
        let _ = tx.send(test.await);
    });
    let outcome = rx.recv_timeout(limit);
    runtime.shutdown_background();
    outcome.expect("the runtime was starved: the test did not finish")
}

/// Calls each entry of [`APP`] in turn: its result and how long it took.
fn call_each(ids: &[&'static str]) -> Vec<(&'static str, weft_core::Result<Value>, Duration)> {
    let ids = ids.to_vec();
    on_runtime(Duration::from_secs(60), async move {
        let dir = app(&[("src/_index.yaml", APP)]);
        let rt = boot_dir(dir.path()).await.unwrap();
        let mut out = Vec::new();
        for id in ids {
            let start = Instant::now();
            let r = rt.functions.call(&rt.root_context(), id, vec![]).await;
            out.push((id, r, start.elapsed()));
        }
        out
    })
}

#[test]
fn max_execution_ms_stops_spinning_code_even_when_it_catches_the_error() {
    for (id, r, took) in call_each(&["t:spin", "t:catcher", "t:spin"]) {
        let err = r.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{id}: {err}");
        assert_eq!(
            err.message(),
            format!("{id}: exceeded limits.max_execution_ms (100 ms)")
        );
        assert!(took < Duration::from_secs(2), "{id}: {took:?}");
    }
}

/// A coroutine made before its resumer ran long is not armed by inheritance; it is armed
/// because `coroutine.resume`, `wrap` and `close` list it while it runs. Code that cannot
/// yield where it spins (a `table.sort` comparator, called from C) is stopped too, and
/// so is Lua code that weft's own Rust code calls back (a multipart file's `reader`).
#[test]
fn max_execution_ms_stops_code_spinning_inside_a_coroutine_or_a_callback() {
    let ids = [
        "t:co_spin",
        "t:wrap_spin",
        "t:close_spin",
        "t:sort_spin",
        "t:reader_spin",
    ];
    for (id, r, took) in call_each(&ids) {
        let err = r.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{id}: {err}");
        assert!(took < Duration::from_secs(2), "{id}: {took:?}");
    }
}

#[test]
fn the_callers_deadline_stops_a_spinning_callee() {
    let out = on_runtime(Duration::from_secs(60), async {
        let dir = app(&[("src/_index.yaml", APP)]);
        let rt = boot_dir(dir.path()).await.unwrap();
        rt.functions
            .call(&rt.root_context(), "t:caller", vec![Value::str("100ms")])
            .await
    });
    let text = out.unwrap();
    assert!(text.as_str().unwrap().starts_with("Timeout: "), "{text:?}");
}

/// Four calls spin on two workers until their 600 ms limit, yet a 20 ms timer started
/// with them fires long before (without yields it would wait for them to end; with them
/// it waits for tokio's next look at its timers, every 61 polls of a worker): code
/// spinning in a call, and code spinning in a coroutine.wrap inside a coroutine (its
/// yields are passed up).
#[test]
fn spinning_calls_on_every_worker_leave_timers_running() {
    for id in ["t:spin_long", "t:nested_spin"] {
        let (spins, slept) = on_runtime(Duration::from_secs(60), async move {
            let dir = app(&[("src/_index.yaml", APP)]);
            let rt = boot_dir(dir.path()).await.unwrap();
            let start = Instant::now();
            let calls: Vec<_> = (0..4)
                .map(|_| {
                    let rt = rt.clone();
                    tokio::spawn(
                        async move { rt.functions.call(&rt.root_context(), id, vec![]).await },
                    )
                })
                .collect();
            tokio::time::sleep(Duration::from_millis(20)).await;
            let slept = start.elapsed();
            let mut spins = Vec::new();
            for c in calls {
                spins.push(c.await.unwrap());
            }
            (spins, slept)
        });
        assert!(slept < Duration::from_millis(300), "{id}: {slept:?}");
        for r in spins {
            assert_eq!(r.unwrap_err().kind(), ErrorKind::Timeout, "{id}");
        }
    }
}

/// The spinning task itself ends (it yields, so the abort takes effect), also when it
/// spins inside coroutines.
#[test]
fn terminate_stops_a_spinning_process() {
    for id in ["t:spinner", "t:co_spinner"] {
        let (before, after) = on_runtime(Duration::from_secs(60), async move {
            let dir = app(&[("src/_index.yaml", APP)]);
            let rt = boot_dir(dir.path()).await.unwrap();
            let metrics = tokio::runtime::Handle::current().metrics();
            let cx = rt.root_context();
            let pid = rt
                .processes
                .spawn(&rt, &cx, Spawn::new(id, "t:host", vec![]))
                .unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            let before = metrics.num_alive_tasks();
            rt.processes.terminate(&cx, &pid).unwrap();
            let start = Instant::now();
            while metrics.num_alive_tasks() >= before && start.elapsed() < Duration::from_secs(5) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (before, metrics.num_alive_tasks())
        });
        assert!(
            after < before,
            "{id}: the spinning task is still alive: {before} -> {after}"
        );
    }
}

#[test]
fn a_negative_limit_fails_the_boot_naming_the_field() {
    let index = "namespace: t\nentries:\n  - name: f\n    kind: function.lua\n    source: \"return {run = function() end}\"\n    method: run\n    limits: {max_execution_ms: -5}\n";
    let errors = on_runtime(Duration::from_secs(60), async move {
        let dir = app(&[("src/_index.yaml", index)]);
        boot_dir(dir.path()).await.err().map(|e| e.to_string())
    });
    let errors = errors.expect("the boot must fail");
    assert!(
        errors.contains("t:f (function.lua): field limits.max_execution_ms: limits.max_execution_ms cannot be negative"),
        "{errors}"
    );
}
