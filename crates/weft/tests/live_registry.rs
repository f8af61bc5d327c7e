//! The live registry end to end (issue 16): change sets applied from Lua through the
//! `registry` module while the app runs, against every engine and capability: Lua
//! functions and libraries, a WAT function, an HTTP route, a supervised service; all or
//! nothing, calls in flight finishing on the old version, versions and history.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{boot_app_dir, write_app};
use weft_core::{Actor, CallContext, ErrorKind, Map, Scope, Value};

const APP: &str = r#"
namespace: app
entries:
  - {name: host, kind: process.host}
  - name: call_only
    kind: security.policy
    policy: {actions: funcs.call, resources: "*", effect: allow}

  - name: greet
    kind: function.lua
    source: "return {run = function() return 'v1' end}"
    method: run
  - name: lib
    kind: library.lua
    source: "return {word = 'one'}"
  - name: uses_lib
    kind: function.lua
    source: "return {run = function() return lib.word end}"
    method: run
    imports: {lib: lib}
  - name: slow
    kind: function.lua
    source: "return {run = function() time.sleep('300ms') return 'old' end}"
    method: run
    modules: [time]
  - name: wat
    kind: function.wat
    wit: "run: func() -> s32;"
    method: run
    source: '(module (func (export "run") (result i32) i32.const 1))'
  - name: worker
    kind: process.lua
    # Ends on CANCEL (a restart stops it that way).
    source: "return {main = function() process.events():receive() end}"
    method: main
  - name: svc
    kind: process.service
    process: worker
    host: host
    lifecycle: {auto_start: true}

  # Applies the change set it is given: {op = "create"|"update"|"delete", entry | id}.
  - name: admin
    kind: function.lua
    modules: [registry]
    method: run
    source: |
      return {run = function(ops)
        local changes = registry.snapshot():changes()
        for _, o in ipairs(ops) do
          if o.op == "delete" then changes:delete(o.id) else changes[o.op](changes, o.entry) end
        end
        local v, err = changes:apply()
        if err then
          return {error = err:message(), kind = err:kind(), problems = (err:details() or {}).problems}
        end
        return {version = v, current = registry.current_version()}
      end}
  - name: at
    kind: function.lua
    modules: [registry]
    method: run
    source: |
      return {run = function(v, id)
        local snap, err = registry.snapshot_at(v)
        if err then return {error = err:message()} end
        local e = snap:get(id)
        return {version = snap:version(), source = e and e.data.source}
      end}
  - name: versions
    kind: function.lua
    modules: [registry]
    method: run
    source: |
      return {run = function(back_to)
        if back_to then
          local v, err = registry.apply_version(back_to)
          if err then return {error = err:message()} end
          return {version = v}
        end
        local out = {versions = registry.versions(), history = {}}
        for _, h in ipairs(registry.history()) do
          table.insert(out.history, {version = h.version, origin = h.origin,
            created = #h.created, updated = h.updated, rebuilt = h.rebuilt})
        end
        return out
      end}
"#;

/// A booted copy of [`APP`].
async fn boot() -> (tempfile::TempDir, weft::Booted) {
    let dir = write_app(&[("src/_index.yaml", APP)]);
    let booted = boot_app_dir(dir.path()).await.expect("boot");
    (dir, booted)
}

async fn call(b: &weft::Booted, id: &str, args: Vec<Value>) -> weft_core::Result<Value> {
    let rt = &b.runtime;
    rt.functions.call(&rt.root_context(), id, args).await
}

/// Applies `ops` (JSON) through `app:admin`.
async fn apply(b: &weft::Booted, ops: &str) -> Map {
    let ops: Value = serde_json::from_str(ops).unwrap();
    let out = call(b, "app:admin", vec![ops]).await.expect("admin runs");
    out.as_map().cloned().expect("a table")
}

fn lua_function(name: &str, body: &str) -> String {
    format!(
        r#"{{"op": "update", "entry": {{"id": "app:{name}", "kind": "function.lua", "data": {{"method": "run", "source": "return {{run = function() {body} end}}"}}}}}}"#
    )
}

#[tokio::test]
async fn a_changed_lua_function_answers_with_its_new_version() {
    let (_dir, b) = boot().await;
    assert_eq!(
        call(&b, "app:greet", vec![]).await.unwrap(),
        Value::from("v1")
    );
    let out = apply(&b, &format!("[{}]", lua_function("greet", "return 'v2'"))).await;
    assert_eq!(out.get("version"), Some(&Value::Int(2)), "{out:?}");
    assert_eq!(out.get("current"), Some(&Value::Int(2)));
    assert_eq!(
        call(&b, "app:greet", vec![]).await.unwrap(),
        Value::from("v2")
    );
    let entry = b.runtime.registry.get("app:greet").unwrap();
    assert!(
        entry
            .data
            .get("source")
            .unwrap()
            .as_str()
            .unwrap()
            .contains("v2")
    );
}

#[tokio::test]
async fn calls_in_flight_finish_on_the_old_version() {
    let (_dir, b) = boot().await;
    let b = Arc::new(b);
    let in_flight = tokio::spawn({
        let b = b.clone();
        async move { call(&b, "app:slow", vec![]).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    apply(&b, &format!("[{}]", lua_function("slow", "return 'new'"))).await;
    assert_eq!(
        call(&b, "app:slow", vec![]).await.unwrap(),
        Value::from("new")
    );
    assert_eq!(in_flight.await.unwrap().unwrap(), Value::from("old"));
}

#[tokio::test]
async fn a_changed_library_rebuilds_its_importers() {
    let (_dir, b) = boot().await;
    assert_eq!(
        call(&b, "app:uses_lib", vec![]).await.unwrap(),
        Value::from("one")
    );
    let out = apply(
        &b,
        r#"[{"op": "update", "entry": {"id": "app:lib", "kind": "library.lua", "data": {"source": "return {word = 'two'}"}}}]"#,
    )
    .await;
    assert_eq!(out.get("version"), Some(&Value::Int(2)), "{out:?}");
    assert_eq!(
        call(&b, "app:uses_lib", vec![]).await.unwrap(),
        Value::from("two")
    );
    let history = call(&b, "app:versions", vec![]).await.unwrap();
    let last = history
        .get("history")
        .and_then(|h| h.as_array().and_then(|a| a.last().cloned()));
    let rebuilt = last.and_then(|l| l.get("rebuilt").cloned());
    assert_eq!(
        rebuilt,
        Some(Value::from(vec![Value::from("app:uses_lib")]))
    );
}

#[tokio::test]
async fn one_bad_entry_applies_nothing() {
    let (_dir, b) = boot().await;
    let ops = format!(
        r#"[{}, {{"op": "create", "entry": {{"id": "app:broken", "kind": "function.lua", "data": {{"method": "run", "source": "return {{run = function( end}}"}}}}}}]"#,
        lua_function("greet", "return 'v2'")
    );
    let out = apply(&b, &ops).await;
    assert_eq!(out.get("kind"), Some(&Value::from("Invalid")), "{out:?}");
    let problems = out
        .get("problems")
        .and_then(Value::as_array)
        .expect("problems");
    assert_eq!(problems.len(), 1, "{problems:?}");
    let problem = problems[0].as_str().unwrap();
    assert!(
        problem.contains("entry app:broken (function.lua): field source:"),
        "{problem}"
    );
    assert_eq!(
        call(&b, "app:greet", vec![]).await.unwrap(),
        Value::from("v1")
    );
    assert!(b.runtime.registry.get("app:broken").is_none());
    assert_eq!(b.runtime.registry.current_version(), 1);
}

#[tokio::test]
async fn an_entry_others_depend_on_cannot_be_deleted_alone() {
    let (_dir, b) = boot().await;
    let out = apply(&b, r#"[{"op": "delete", "id": "app:lib"}]"#).await;
    let error = out.get("error").and_then(Value::as_str).unwrap_or_default();
    assert!(
        error.contains("cannot delete app:lib: app:uses_lib still depends on it"),
        "{out:?}"
    );
    assert_eq!(
        call(&b, "app:uses_lib", vec![]).await.unwrap(),
        Value::from("one")
    );
}

#[tokio::test]
async fn a_deleted_function_answers_not_found() {
    let (_dir, b) = boot().await;
    let out = apply(
        &b,
        r#"[{"op": "delete", "id": "app:greet"}, {"op": "delete", "id": "app:wat"}]"#,
    )
    .await;
    assert_eq!(out.get("version"), Some(&Value::Int(2)), "{out:?}");
    for id in ["app:greet", "app:wat"] {
        let err = call(&b, id, vec![]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{id}: {err}");
    }
}

#[tokio::test]
async fn a_changed_wasm_entry_gets_a_new_component() {
    let (_dir, b) = boot().await;
    assert_eq!(call(&b, "app:wat", vec![]).await.unwrap(), Value::Int(1));
    let out = apply(
        &b,
        r#"[{"op": "update", "entry": {"id": "app:wat", "kind": "function.wat", "data": {"wit": "run: func() -> s32;", "method": "run", "source": "(module (func (export \"run\") (result i32) i32.const 2))"}}}]"#,
    )
    .await;
    assert_eq!(out.get("version"), Some(&Value::Int(2)), "{out:?}");
    assert_eq!(call(&b, "app:wat", vec![]).await.unwrap(), Value::Int(2));
}

#[tokio::test]
async fn apply_version_brings_an_earlier_version_back() {
    let (_dir, b) = boot().await;
    apply(&b, &format!("[{}]", lua_function("greet", "return 'v2'"))).await;
    let out = call(&b, "app:versions", vec![Value::Int(1)]).await.unwrap();
    assert_eq!(out.get("version"), Some(&Value::Int(3)), "{out:?}");
    assert_eq!(
        call(&b, "app:greet", vec![]).await.unwrap(),
        Value::from("v1")
    );
    for (v, word) in [(1, "v1"), (2, "v2"), (3, "v1")] {
        let at = call(&b, "app:at", vec![Value::Int(v), Value::from("app:greet")])
            .await
            .unwrap();
        assert_eq!(at.get("version"), Some(&Value::Int(v)), "{at:?}");
        let source = at.get("source").and_then(Value::as_str).unwrap_or_default();
        assert!(source.contains(word), "version {v}: {at:?}");
    }
    let gone = call(&b, "app:at", vec![Value::Int(9), Value::from("app:greet")])
        .await
        .unwrap();
    assert_eq!(
        gone.get("error"),
        Some(&Value::from("version 9 is not in the history"))
    );
    let all = call(&b, "app:versions", vec![]).await.unwrap();
    assert_eq!(
        all.get("versions"),
        Some(&Value::from(vec![
            Value::Int(1),
            Value::Int(2),
            Value::Int(3)
        ]))
    );
}

#[tokio::test]
async fn changing_the_registry_needs_registry_apply() {
    let (_dir, b) = boot().await;
    let rt = &b.runtime;
    let policy = rt.policies.get("app:call_only").expect("policy");
    let cx: CallContext = rt
        .root_context()
        .with_actor(Some(Actor::new("ann", Map::new())))
        .with_scope(Some(Scope::new([policy])));
    let ops: Value =
        serde_json::from_str(&format!("[{}]", lua_function("greet", "return 'x'"))).unwrap();
    let out = rt
        .functions
        .call(&cx, "app:admin", vec![ops])
        .await
        .unwrap();
    assert_eq!(
        out.get("kind"),
        Some(&Value::from("PermissionDenied")),
        "{out:?}"
    );
    let back = rt
        .functions
        .call(&cx, "app:versions", vec![Value::Int(1)])
        .await
        .unwrap();
    let error = back
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or_default();
    assert!(error.contains("registry.apply_version"), "{back:?}");
    assert_eq!(
        call(&b, "app:greet", vec![]).await.unwrap(),
        Value::from("v1")
    );
}

#[tokio::test]
async fn a_changed_service_restarts_and_a_removed_one_stops() {
    let (_dir, b) = boot().await;
    let rt = &b.runtime;
    rt.services.start_all().await.expect("start");
    let pid =
        |rt: &weft_runtime::Runtime| rt.services.status("app:svc").and_then(|s| s.running_pid);
    let first = pid(rt).expect("running");
    let out = apply(
        &b,
        r#"[{"op": "update", "entry": {"id": "app:svc", "kind": "process.service", "data": {"process": "worker", "host": "host", "input": ["again"], "lifecycle": {"auto_start": true}}}}]"#,
    )
    .await;
    assert_eq!(out.get("version"), Some(&Value::Int(2)), "{out:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while pid(rt).is_none_or(|p| p == first) {
        assert!(Instant::now() < deadline, "the service did not restart");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let out = apply(&b, r#"[{"op": "delete", "id": "app:svc"}]"#).await;
    assert_eq!(out.get("version"), Some(&Value::Int(3)), "{out:?}");
    assert!(rt.services.status("app:svc").is_none());
    let deadline = Instant::now() + Duration::from_secs(10);
    while rt
        .processes
        .hosts()
        .iter()
        .any(|h| h.host == "app:host" && h.running > 0)
    {
        assert!(
            Instant::now() < deadline,
            "the service's process did not stop"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_changed_endpoint_swaps_its_route() {
    let app = format!(
        "{APP}{}",
        r#"
  - name: gateway
    kind: http.service
    addr: 127.0.0.1:0
    lifecycle: {auto_start: true}
  - name: api
    kind: http.router
    meta: {server: gateway}
  - name: hello
    kind: function.lua
    method: handler
    modules: [http]
    source: |
      return {handler = function() http.response():write("hello") end}
  - name: hello.endpoint
    kind: http.endpoint
    meta: {router: api}
    method: GET
    path: /hello
    func: hello
"#
    );
    let dir = write_app(&[("src/_index.yaml", &app)]);
    let (b, addr) = common::serve_http(dir.path(), "app:gateway").await;
    let client = reqwest::Client::new();
    let get = |path: &str| {
        let request = client.get(format!("http://{addr}{path}")).send();
        async move {
            let response = request.await.expect("request");
            (
                response.status().as_u16(),
                response.text().await.unwrap_or_default(),
            )
        }
    };
    assert_eq!(get("/hello").await, (200, "hello".to_string()));
    let out = apply(
        &b,
        r#"[{"op": "update", "entry": {"id": "app:hello.endpoint", "kind": "http.endpoint", "meta": {"router": "api"}, "data": {"method": "GET", "path": "/hi", "func": "hello"}}}]"#,
    )
    .await;
    assert_eq!(out.get("version"), Some(&Value::Int(2)), "{out:?}");
    assert_eq!(get("/hi").await, (200, "hello".to_string()));
    assert_eq!(get("/hello").await.0, 404);
    // A second endpoint on the same path conflicts: rejected at commit, and undone.
    let out = apply(
        &b,
        r#"[{"op": "create", "entry": {"id": "app:clash", "kind": "http.endpoint", "meta": {"router": "api"}, "data": {"method": "GET", "path": "/hi", "func": "hello"}}}]"#,
    )
    .await;
    let error = out.get("error").and_then(Value::as_str).unwrap_or_default();
    assert!(error.contains("app:clash"), "{out:?}");
    assert!(b.runtime.registry.get("app:clash").is_none());
    assert_eq!(get("/hi").await, (200, "hello".to_string()));
    b.runtime.services.stop_all(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn a_malformed_change_is_refused_naming_what_is_wrong() {
    let (_dir, b) = boot().await;
    for (ops, message) in [
        (
            r#"[{"op": "create", "entry": {"kind": "function.lua"}}]"#,
            "changes:create: entry.id must be a string \"ns:name\"",
        ),
        (
            r#"[{"op": "update", "entry": {"id": "app:greet"}}]"#,
            "changes:update: entry.kind must be a non-empty string",
        ),
        (
            r#"[{"op": "create", "entry": {"id": "app:x", "kind": "function.lua", "data": "text"}}]"#,
            "changes:create: entry.data must be a table, got string",
        ),
        (
            r#"[{"op": "delete", "id": 7}]"#,
            "changes:delete takes an entry id",
        ),
    ] {
        let ops: Value = serde_json::from_str(ops).unwrap();
        let err = call(&b, "app:admin", vec![ops]).await.unwrap_err();
        assert!(err.message().contains(message), "{message}: {err}");
    }
    assert_eq!(b.runtime.registry.current_version(), 1);
}
