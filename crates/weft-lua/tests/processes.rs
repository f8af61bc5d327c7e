//! Processes at scale: many Lua processes alive at once, and nothing left behind after.

mod common;

use std::time::{Duration, Instant};

use common::{app, boot_dir};
use weft_core::Value;
use weft_runtime::Spawn;

const APP: &str = r#"
namespace: t
entries:
  - {name: host, kind: process.host, lifecycle: {auto_start: true}}
  - name: idle
    kind: process.lua
    source: "return {main = function() local m = process.inbox():receive() return m:topic() end}"
    method: main
  - name: crash
    kind: process.lua
    source: "return {main = function() local t = nil return t.x end}"
    method: main
"#;

/// Waits until `cond` holds, polling (bounded: fails after 60 s).
async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_processes_alive_then_gone_without_leaks() {
    let dir = app(&[("src/_index.yaml", APP)]);
    let rt = boot_dir(dir.path()).await.unwrap();
    let metrics = tokio::runtime::Handle::current().metrics();
    let tasks_before = metrics.num_alive_tasks();
    let cx = rt.root_context();
    let mut pids = Vec::with_capacity(10_000);
    for _ in 0..10_000 {
        pids.push(
            rt.processes
                .spawn(&rt, &cx, Spawn::new("t:idle", "t:host", vec![]))
                .unwrap(),
        );
    }
    assert_eq!(rt.processes.len(), 10_000);
    // Every process is blocked on its inbox, not finished.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rt.processes.len(), 10_000);
    for pid in &pids {
        rt.processes.send(&cx, pid, "stop", vec![]).unwrap();
    }
    wait_until("every process to exit", || rt.processes.is_empty()).await;
    wait_until("their tasks to end", || {
        metrics.num_alive_tasks() <= tasks_before
    })
    .await;
    let err = rt
        .processes
        .send(&cx, &pids[0], "again", vec![])
        .unwrap_err();
    assert!(err.message().contains("not found"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashing_process_leaves_its_host_and_neighbours_running() {
    let dir = app(&[("src/_index.yaml", APP)]);
    let rt = boot_dir(dir.path()).await.unwrap();
    let cx = rt.root_context();
    let survivor = rt
        .processes
        .spawn(&rt, &cx, Spawn::new("t:idle", "t:host", vec![]))
        .unwrap();
    let err = rt
        .processes
        .exec(&rt, &cx, Spawn::new("t:crash", "t:host", vec![]))
        .await
        .unwrap_err();
    assert!(
        err.message().contains("attempt to index a nil value"),
        "{err}"
    );
    for _ in 0..100 {
        assert!(
            rt.processes
                .exec(&rt, &cx, Spawn::new("t:crash", "t:host", vec![]))
                .await
                .is_err()
        );
    }
    assert!(rt.processes.get(&survivor).is_some());
    rt.processes
        .send(&cx, &survivor, "still-here", vec![Value::Int(1)])
        .unwrap();
    wait_until("the survivor to exit normally", || rt.processes.is_empty()).await;
}
