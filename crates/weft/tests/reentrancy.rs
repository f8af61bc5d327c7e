//! Calls that wait for themselves never hang: a call into a full pool (or a full WASM
//! engine) whose own chain holds a slot fails at once, and calls nest at most
//! `functions.max_call_depth` deep. Lua → Lua, Lua → WASM → Lua and WASM → Lua → WASM.

mod common;

use std::time::Duration;

use common::{boot_dir, dist, guest_entry};
use weft_core::{ErrorKind, Value};

/// A Lua function `name` calling `target` (given as its argument or fixed) `n` deep.
const RECURSE: &str = r#"
      return {run = function(n, target)
        if n <= 0 then return 0 end
        local r, err = funcs.call(target, n - 1, target)
        if err then error(err) end
        return r + 1
      end}"#;

/// Boots `entries` (and `config`, a `.wippy.yaml` body) with the guests' fs at `t:guests`.
async fn boot(
    config: &str,
    entries: &str,
) -> (tempfile::TempDir, std::sync::Arc<weft_runtime::Runtime>) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(
        root.join(".wippy.yaml"),
        format!("version: \"1.0\"\n{config}"),
    )
    .unwrap();
    let index = format!(
        "namespace: t\nentries:\n  - {{name: guests, kind: fs.directory, directory: {}}}\n{entries}",
        dist().display()
    );
    std::fs::write(root.join("src/_index.yaml"), index).unwrap();
    let rt = boot_dir(root)
        .await
        .unwrap_or_else(|e| panic!("boot failed:\n{e}"));
    (dir, rt)
}

fn lua(name: &str, pool: &str) -> String {
    let source = RECURSE.replace('\n', "\n  ");
    format!(
        "  - name: {name}\n    kind: function.lua\n    method: run\n    modules: [funcs]\n    pool: {pool}\n    source: |{source}\n"
    )
}

/// Calls `id` with `args`, failing the test if it takes more than 30 s (a hang).
async fn call(rt: &weft_runtime::Runtime, id: &str, args: Vec<Value>) -> weft_core::Result<Value> {
    tokio::time::timeout(
        Duration::from_secs(30),
        rt.functions.call(&rt.root_context(), id, args),
    )
    .await
    .expect("the call hung")
}

fn rec(n: i64, target: &str) -> Vec<Value> {
    vec![Value::Int(n), Value::str(target)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recursion_past_a_static_pool_fails_at_once() {
    let (_dir, rt) = boot("", &lua("f", "{type: static, workers: 2, size: 2}")).await;
    assert_eq!(
        call(&rt, "t:f", rec(1, "t:f")).await.unwrap(),
        Value::Int(1)
    );
    // Depth 3 needs a third slot of a pool of two, both held by its own chain.
    let err = call(&rt, "t:f", rec(2, "t:f")).await.unwrap_err();
    assert!(
        err.to_string().contains(
            "re-entrant call to t:f would deadlock: all 2 slots of its pool are taken and its own call chain holds one"
        ),
        "{err}"
    );
    // The pool is whole again afterwards.
    assert_eq!(
        call(&rt, "t:f", rec(1, "t:f")).await.unwrap(),
        Value::Int(1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recursion_past_the_default_pool_fails_at_once() {
    let (_dir, rt) = boot("", &lua("f", "{}")).await;
    assert_eq!(
        call(&rt, "t:f", rec(99, "t:f")).await.unwrap(),
        Value::Int(99)
    );
    let err = call(&rt, "t:f", rec(100, "t:f")).await.unwrap_err();
    assert!(err.to_string().contains("all 100 slots"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_nest_at_most_max_call_depth_deep() {
    let pool = "{type: lazy, max_size: 1000}";
    let (_dir, rt) = boot("", &lua("f", pool)).await;
    assert_eq!(
        call(&rt, "t:f", rec(127, "t:f")).await.unwrap(),
        Value::Int(127)
    );
    let err = call(&rt, "t:f", rec(128, "t:f")).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("call to t:f would nest 129 calls deep, past functions.max_call_depth (128)"),
        "{err}"
    );
    let (_dir, rt) = boot("functions:\n  max_call_depth: 5\n", &lua("f", pool)).await;
    assert_eq!(
        call(&rt, "t:f", rec(4, "t:f")).await.unwrap(),
        Value::Int(4)
    );
    let err = call(&rt, "t:f", rec(5, "t:f")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal);
    assert!(
        err.to_string()
            .contains("past functions.max_call_depth (5)"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lua_wasm_lua_recursion_into_a_full_pool_fails_at_once() {
    // t:f (one slot) calls the guest, which calls t:f again: the second t:f would wait
    // for the slot the first holds.
    let entries = [
        lua("f", "{type: static, workers: 1, size: 1}"),
        guest_entry("function.wasm", "call", "funcs-user", "call-string", "    imports: [funcs]\n"),
        "  - name: via\n    kind: function.lua\n    method: run\n    modules: [funcs]\n    pool: {type: static, workers: 1, size: 1}\n    source: |\n      return {run = function()\n        local r, err = funcs.call('t:call', 't:via', 'x')\n        if err then error(err) end\n        return r\n      end}\n".to_string(),
    ]
    .concat();
    let (_dir, rt) = boot("", &entries).await;
    let out = call(&rt, "t:via", vec![]).await.unwrap();
    let text = format!("{out:?}");
    assert!(
        text.contains("re-entrant call to t:via would deadlock: all 1 slots"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasm_lua_wasm_with_every_instance_taken_fails_at_once() {
    // One WASM instance in all: the guest calls Lua, which calls a (different) guest
    // entry that would wait for the instance its own chain holds.
    let entries = [
        guest_entry("function.wasm", "call", "funcs-user", "call-string", "    imports: [funcs]\n"),
        guest_entry("function.wasm", "compute", "funcs-user", "compute", ""),
        "  - name: mid\n    kind: function.lua\n    method: run\n    modules: [funcs]\n    source: |\n      return {run = function()\n        local r, err = funcs.call('t:compute', 6, 7)\n        if err then error(err) end\n        return tostring(r)\n      end}\n".to_string(),
    ]
    .concat();
    let (_dir, rt) = boot("wasm:\n  max_instances: 1\n", &entries).await;
    assert_eq!(call(&rt, "t:mid", vec![]).await.unwrap(), Value::str("42"));
    let out = call(&rt, "t:call", vec![Value::str("t:mid"), Value::str("")])
        .await
        .unwrap();
    let text = format!("{out:?}");
    assert!(
        text.contains(
            "re-entrant call to t:compute would deadlock: all 1 WASM instances (wasm.max_instances) are taken"
        ),
        "{text}"
    );
}
