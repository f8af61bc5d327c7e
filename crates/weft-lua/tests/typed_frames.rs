//! `frames.rs` in Wippy's typed Lua: the same frames tests (reference §4.5), every source
//! annotated, with casts, `type` aliases validating the events and a `!` assertion, and
//! the same results, so typed code behaves as untyped code once its types are erased.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{app, boot_dir};
use weft_core::{ErrorKind, Result, Value};
use weft_runtime::{Runtime, Spawn};

const APP: &str = r#"
namespace: t
entries:
  - {name: host, kind: process.host, lifecycle: {auto_start: true}}

  # Processes the functions talk to.
  - name: answer
    kind: process.lua
    source: "return {main = function(x: integer @min(0)): integer return x * 2 end}"
    method: main
  - name: failing
    kind: process.lua
    source: "return {main = function(): never error('child failed') end}"
    method: main
  - name: idle
    kind: process.lua
    source: "return {main = function(): string process.inbox():receive() return 'woken' end}"
    method: main
  - name: echo
    kind: process.lua
    source: |
      return {main = function(to: string?): boolean
        local m = process.inbox():receive()
        process.send(m:from() :: string, "echo", (m:payload():data()) :: string)
        if to then process.send(to, "direct", "hi") end
        return true
      end}
    method: main
  - name: watch_frame
    kind: process.lua
    source: |
      type Event = {kind: string, from: string, at: number, result: {value: any, error: any?}}
      return {main = function(): {[string]: any}
        local m = process.inbox():receive()
        local pid: string = (m:payload():data()) :: string
        process.monitor(pid)
        process.send(pid, "watching", true)
        local ev: Event = Event(process.events():receive())
        return {kind = ev.kind, from = ev.from, value = ev.result.value}
      end}
    method: main

  # Functions using the process API.
  - name: pids
    kind: function.lua
    source: "return {run = function(): {[string]: string} return {a = process.pid(), b = process.pid()} end}"
    method: run
  - name: plain
    kind: function.lua
    source: "return {run = function(): integer return 1 end}"
    method: run
  - name: monitored
    kind: function.lua
    source: |
      type Event = {kind: string, from: string, at: number, result: {value: any, error: any?}}
      return {run = function(): {[string]: any}
        local events = process.events()
        local child: string = process.spawn_monitored("t:answer", "t:host", 21)
        local ev: Event = Event(events:receive())
        return {kind = ev.kind, from_child = ev.from == child, value = ev.result.value}
      end}
    method: run
  - name: linked
    kind: function.lua
    source: |
      type Event = {kind: string, from: string, at: number, result: {value: any, error: any?}}
      return {run = function(): {[string]: any}
        local ok: boolean = process.set_options({trap_links = true})
        local trapping = process.get_options().trap_links as boolean
        local child: string = process.spawn_linked("t:failing", "t:host")
        local ev: Event = Event(process.events():receive())
        return {set = ok, trapping = trapping, kind = ev.kind, from_child = ev.from == child,
                failed = ev.result.error ~= nil}
      end}
    method: run
  - name: link_dies
    kind: function.lua
    source: |
      return {run = function(): string
        process.spawn_linked("t:failing", "t:host")
        process.inbox():receive()
        return "not reached"
      end}
    method: run
  - name: messages
    kind: function.lua
    source: |
      return {run = function(): {[string]: any}
        local direct = process.listen("direct")
        local child: string = process.spawn("t:echo", "t:host", process.pid())
        process.send(child, "ping", "payload")
        local m = process.inbox():receive()
        local d: string = direct:receive()
        process.unlisten(direct)
        return {topic = m:topic(), data = (m:payload():data()) :: string,
                from_child = (m:from() :: string) == child, direct = d}
      end}
    method: run
  - name: monitor_terminate
    kind: function.lua
    source: |
      type Event = {kind: string, from: string, at: number, result: {value: any, error: any?}}
      return {run = function(): {[string]: any}
        local target: string = process.spawn("t:idle", "t:host")
        local events = process.events()
        assert(process.monitor(target))
        assert(process.terminate(target))
        local ev: Event = Event(events:receive())
        return {kind = ev.kind, from = ev.from == target}
      end}
    method: run
  - name: named
    kind: function.lua
    source: |
      return {run = function(name: string): {[string]: boolean}
        local ok: boolean?, err: any = process.registry.register(name)
        local found: string? = process.registry.lookup(name)
        return {ok = ok, mine = (found!) == process.pid()}
      end}
    method: run
  - name: watched
    kind: function.lua
    source: |
      return {run = function(watcher: string): string
        process.send(watcher, "here", process.pid())
        process.inbox():receive()
        return "done"
      end}
    method: run
  - name: blocked
    kind: function.lua
    source: |
      return {run = function(announce: string): string
        process.registry.register(announce)
        process.inbox():receive()
        return "not reached"
      end}
    method: run
  - name: spawner_options
    kind: function.lua
    source: |
      return {run = function(): {[string]: any}
        local idle: string = process.with_options({name = "opt-child", priority = 3}):spawn("t:idle", "t:host")
        local named: boolean = process.registry.lookup("opt-child") == idle
        process.terminate(idle)
        process.with_options({}):with_message("ping", "first"):spawn("t:echo", "t:host")
        local m = process.inbox():receive()
        return {data = (m:payload():data()) :: string, named = named}
      end}
    method: run
  - name: napping
    kind: function.lua
    source: "return {run = function(): integer time.sleep('1s') return 1 end}"
    method: run
    modules: [time]
  - name: exec_child
    kind: function.lua
    source: |
      return {run = function(): {[string]: any}
        local v: integer?, err: any = process.exec("t:answer", "t:host", 5)
        return {v = v, ok = err == nil, me = process.pid() ~= nil}
      end}
    method: run
"#;

async fn booted() -> (tempfile::TempDir, Arc<Runtime>) {
    let dir = app(&[("src/_index.yaml", APP)]);
    let rt = boot_dir(dir.path()).await.unwrap();
    (dir, rt)
}

async fn call(rt: &Arc<Runtime>, id: &str, args: Vec<Value>) -> Result<Value> {
    let cx = rt.root_context();
    let call = rt.functions.call(&cx, id, args);
    tokio::time::timeout(Duration::from_secs(30), call)
        .await
        .unwrap_or_else(|_| panic!("{id} hung"))
}

fn field<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.as_map()
        .and_then(|m| m.get(key))
        .unwrap_or_else(|| panic!("no field {key} in {v:?}"))
}

/// Waits until `cond` holds (fails after 30 s).
async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_has_its_own_stable_pid_and_ends_with_it() {
    let (_dir, rt) = booted().await;
    let first = call(&rt, "t:pids", vec![]).await.unwrap();
    let a = field(&first, "a").as_str().unwrap().to_string();
    assert!(a.starts_with("{t:pids|"), "{a}");
    assert_eq!(field(&first, "b").as_str(), Some(a.as_str()));
    let second = call(&rt, "t:pids", vec![]).await.unwrap();
    assert_ne!(field(&second, "a").as_str(), Some(a.as_str()));
    assert!(rt.processes.is_empty(), "the frames ended with their calls");
    let err = rt
        .processes
        .send(&rt.root_context(), &a, "late", vec![])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_receives_its_monitored_childs_exit() {
    let (_dir, rt) = booted().await;
    let out = call(&rt, "t:monitored", vec![]).await.unwrap();
    assert_eq!(field(&out, "kind").as_str(), Some("pid.exit"));
    assert_eq!(field(&out, "from_child"), &Value::Bool(true));
    assert_eq!(field(&out, "value"), &Value::Int(42));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trapping_function_receives_link_down_and_set_options_is_true() {
    let (_dir, rt) = booted().await;
    let out = call(&rt, "t:linked", vec![]).await.unwrap();
    assert_eq!(field(&out, "set"), &Value::Bool(true));
    assert_eq!(field(&out, "trapping"), &Value::Bool(true));
    assert_eq!(field(&out, "kind").as_str(), Some("pid.link.down"));
    assert_eq!(field(&out, "from_child"), &Value::Bool(true));
    assert_eq!(field(&out, "failed"), &Value::Bool(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_failure_stops_a_function_that_does_not_trap() {
    let (_dir, rt) = booted().await;
    let err = call(&rt, "t:link_dies", vec![]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Canceled, "{err}");
    assert!(err.message().contains("linked process failed"), "{err}");
    // The VM left mid-run was dropped; the next calls run normally.
    assert_eq!(call(&rt, "t:plain", vec![]).await.unwrap(), Value::Int(1));
    assert!(call(&rt, "t:link_dies", vec![]).await.is_err());
    wait_until("the frames and children to end", || rt.processes.is_empty()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_sends_receives_listens_and_is_answered() {
    let (_dir, rt) = booted().await;
    let out = call(&rt, "t:messages", vec![]).await.unwrap();
    assert_eq!(field(&out, "topic").as_str(), Some("echo"));
    assert_eq!(field(&out, "data").as_str(), Some("payload"));
    assert_eq!(field(&out, "from_child"), &Value::Bool(true));
    assert_eq!(field(&out, "direct").as_str(), Some("hi"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_monitors_and_terminates_a_process() {
    let (_dir, rt) = booted().await;
    let out = call(&rt, "t:monitor_terminate", vec![]).await.unwrap();
    assert_eq!(field(&out, "kind").as_str(), Some("pid.exit"));
    assert_eq!(field(&out, "from"), &Value::Bool(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_registered_by_a_call_is_released_when_it_returns() {
    let (_dir, rt) = booted().await;
    let out = call(&rt, "t:named", vec![Value::from("worker")])
        .await
        .unwrap();
    assert_eq!(field(&out, "ok"), &Value::Bool(true));
    assert_eq!(field(&out, "mine"), &Value::Bool(true));
    assert_eq!(rt.processes.lookup_name("worker"), None);
    // So the next call can take it again.
    let again = call(&rt, "t:named", vec![Value::from("worker")])
        .await
        .unwrap();
    assert_eq!(field(&again, "ok"), &Value::Bool(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_monitoring_a_call_gets_its_exit_with_the_result() {
    let (_dir, rt) = booted().await;
    let cx = rt.root_context();
    let (watcher, exit) = rt
        .processes
        .spawn_watched(&rt, &cx, Spawn::new("t:watch_frame", "t:host", vec![]))
        .unwrap();
    let result = call(&rt, "t:watched", vec![Value::from(&*watcher)]).await;
    assert_eq!(result.unwrap(), Value::from("done"));
    let seen = tokio::time::timeout(Duration::from_secs(30), exit)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(field(&seen, "kind").as_str(), Some("pid.exit"));
    assert_eq!(field(&seen, "value").as_str(), Some("done"));
    assert!(
        field(&seen, "from")
            .as_str()
            .unwrap()
            .starts_with("{t:watched|")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminating_a_calls_frame_ends_the_call_and_drops_its_messages() {
    let (_dir, rt) = booted().await;
    let cx = rt.root_context();
    let runtime = rt.clone();
    let blocked = tokio::spawn(async move {
        let cx = runtime.root_context();
        runtime
            .functions
            .call(&cx, "t:blocked", vec![Value::from("blocked-call")])
            .await
    });
    wait_until("the call to register", || {
        rt.processes.lookup_name("blocked-call").is_some()
    })
    .await;
    let pid = rt.processes.lookup_name("blocked-call").unwrap();
    rt.processes.terminate(&cx, &pid).unwrap();
    let err = tokio::time::timeout(Duration::from_secs(30), blocked)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Canceled);
    assert!(err.message().contains("terminated"), "{err}");
    assert_eq!(rt.processes.lookup_name("blocked-call"), None);
    assert_eq!(
        rt.processes
            .send(&cx, &pid, "late", vec![])
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_execs_a_process() {
    let (_dir, rt) = booted().await;
    let out = call(&rt, "t:exec_child", vec![]).await.unwrap();
    assert_eq!(field(&out, "v"), &Value::Int(10));
    assert_eq!(field(&out, "ok"), &Value::Bool(true));
    assert_eq!(field(&out, "me"), &Value::Bool(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_uses_no_process_api_opens_no_frame() {
    let (_dir, rt) = booted().await;
    let runtime = rt.clone();
    let napping = tokio::spawn(async move { call(&runtime, "t:napping", vec![]).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!napping.is_finished());
    assert_eq!(
        rt.processes.len(),
        0,
        "a call opened a frame it did not need"
    );
    assert_eq!(napping.await.unwrap().unwrap(), Value::Int(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spawner_ignores_options_it_does_not_use_and_queues_its_messages_first() {
    let (_dir, rt) = booted().await;
    let out = call(&rt, "t:spawner_options", vec![]).await.unwrap();
    assert_eq!(field(&out, "data").as_str(), Some("first"));
    assert_eq!(field(&out, "named"), &Value::Bool(true));
}
