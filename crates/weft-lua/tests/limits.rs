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
  - name: spinner
    kind: process.lua
    source: "return {main = function() while true do end end}"
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

#[test]
fn max_execution_ms_stops_spinning_code_even_when_it_catches_the_error() {
    let out = on_runtime(Duration::from_secs(60), async {
        let dir = app(&[("src/_index.yaml", APP)]);
        let rt = boot_dir(dir.path()).await.unwrap();
        let mut out = Vec::new();
        for id in ["t:spin", "t:catcher", "t:spin"] {
            let start = Instant::now();
            let r = rt.functions.call(&rt.root_context(), id, vec![]).await;
            out.push((id, r, start.elapsed()));
        }
        out
    });
    for (id, r, took) in out {
        let err = r.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{id}: {err}");
        assert_eq!(
            err.message(),
            format!("{id}: exceeded limits.max_execution_ms (100 ms)")
        );
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

#[test]
fn spinning_calls_on_every_worker_leave_timers_running() {
    let (spins, slept) = on_runtime(Duration::from_secs(60), async {
        let dir = app(&[("src/_index.yaml", APP)]);
        let rt = boot_dir(dir.path()).await.unwrap();
        let calls: Vec<_> = (0..4)
            .map(|_| {
                let rt = rt.clone();
                tokio::spawn(async move {
                    rt.functions
                        .call(&rt.root_context(), "t:spin", vec![])
                        .await
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(10)).await;
        let start = Instant::now();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let slept = start.elapsed();
        let mut spins = Vec::new();
        for c in calls {
            spins.push(c.await.unwrap());
        }
        (spins, slept)
    });
    // Four calls spin on two workers, yet a 20 ms timer fires long before their 600 ms
    // (without yields it would wait for them all to end).
    assert!(slept < Duration::from_millis(400), "{slept:?}");
    for r in spins {
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Timeout);
    }
}

#[test]
fn terminate_stops_a_spinning_process() {
    let (before, after) = on_runtime(Duration::from_secs(60), async {
        let dir = app(&[("src/_index.yaml", APP)]);
        let rt = boot_dir(dir.path()).await.unwrap();
        let metrics = tokio::runtime::Handle::current().metrics();
        let cx = rt.root_context();
        let pid = rt
            .processes
            .spawn(&rt, &cx, Spawn::new("t:spinner", "t:host", vec![]))
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let before = metrics.num_alive_tasks();
        rt.processes.terminate(&cx, &pid).unwrap();
        // The spinning task itself ends (it yields, so the abort takes effect).
        let start = Instant::now();
        while metrics.num_alive_tasks() >= before && start.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        (before, metrics.num_alive_tasks())
    });
    assert!(
        after < before,
        "the spinning task is still alive: {before} -> {after}"
    );
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
