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

/// Allows everything but the name registry.
struct NoNames(weft_core::EntryId);

impl weft_core::Policy for NoNames {
    fn id(&self) -> &weft_core::EntryId {
        &self.0
    }
    fn evaluate(
        &self,
        _: &weft_core::Actor,
        action: &str,
        _: &str,
        _: Option<&weft_core::Map>,
    ) -> weft_core::Decision {
        if action.starts_with("process.registry.") {
            weft_core::Decision::Deny
        } else {
            weft_core::Decision::Allow
        }
    }
}

/// A process that registers or unregisters a name, appended to [`APP`].
const NAMER: &str = r#"
  - name: namer
    kind: process.lua
    source: |
      return {main = function(op, name)
        local ok, err
        if op == "register" then
          ok, err = process.registry.register(name)
        else
          ok, err = process.registry.unregister(name)
        end
        if err then return tostring(err) end
        return tostring(ok)
      end}
    method: main
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_name_registry_checks_the_caller_and_a_denial_changes_nothing() {
    use std::sync::Arc;
    use weft_core::{Actor, EntryId, Map, Scope};
    let index = format!("{APP}{NAMER}");
    let dir = app(&[("src/_index.yaml", &index)]);
    let rt = boot_dir(dir.path()).await.unwrap();
    let open = rt.root_context();
    let mut held = Spawn::new("t:idle", "t:host", vec![]);
    held.name = Some("held".into());
    let holder = rt.processes.spawn(&rt, &open, held).unwrap();
    let policy: Arc<dyn weft_core::Policy> = Arc::new(NoNames(EntryId::new("t", "no_names")));
    let denied = open
        .with_actor(Some(Actor::new("eve", Map::new())))
        .with_scope(Some(Scope::new([policy])));
    let run = |cx: weft_core::CallContext, op: &str, name: &str| {
        let rt = rt.clone();
        let args = vec![Value::str(op), Value::str(name)];
        async move {
            rt.processes
                .exec(&rt, &cx, Spawn::new("t:namer", "t:host", args))
                .await
                .unwrap()
        }
    };
    assert_eq!(
        run(denied.clone(), "register", "mine").await,
        Value::str("not allowed: process.registry.register on mine")
    );
    assert!(rt.processes.lookup_name("mine").is_none());
    assert_eq!(
        run(denied, "unregister", "held").await,
        Value::str("not allowed: process.registry.unregister on held")
    );
    assert_eq!(rt.processes.lookup_name("held").as_deref(), Some(&*holder));
    // The control: an allowed caller does both.
    assert_eq!(
        run(open.clone(), "register", "mine").await,
        Value::str("true")
    );
    assert_eq!(
        run(open.clone(), "unregister", "held").await,
        Value::str("true")
    );
    assert!(rt.processes.lookup_name("held").is_none());
    rt.processes.send(&open, &holder, "stop", vec![]).unwrap();
}
