//! `limits.max_memory_mb` bounds what one Lua VM may allocate: a table-filling loop, a
//! huge `string.rep` and a `coroutine.spawn` bomb each fail with an error naming the
//! limit, and the VM that ran out is never reused.

mod common;

use common::{app, boot_dir};
use weft_core::{ErrorKind, Value};

const APP: &str = r#"
namespace: t
entries:
  - {name: host, kind: process.host, lifecycle: {auto_start: true}}
  - name: fill
    kind: function.lua
    source: |
      return {run = function()
        local t = {}
        for i = 1, 1e9 do t[i] = {i} end
      end}
    method: run
    limits: {max_memory_mb: 16}
  - name: rep
    kind: function.lua
    source: "return {run = function() return #string.rep('x', 2^31 - 1) end}"
    method: run
  - name: caught
    kind: function.lua
    source: |
      return {run = function()
        local ok, err = pcall(string.rep, 'x', 2^31 - 1)
        return tostring(ok) .. ' ' .. tostring(err)
      end}
    method: run
    limits: {max_memory_mb: 16}
  - name: bomb
    kind: function.lua
    source: |
      return {run = function()
        while true do coroutine.spawn(function() channel.new(0):receive() end) end
      end}
    method: run
    limits: {max_memory_mb: 16}
  - name: sticky
    kind: function.lua
    source: |
      return {run = function(fill)
        marked = (marked or 0) + 1
        if fill then local t = {} for i = 1, 1e9 do t[i] = {i} end end
        return marked
      end}
    method: run
    pool: {type: lazy, max_size: 1}
    limits: {max_memory_mb: 16}
  - name: chunk
    kind: function.lua
    source: |
      local t = {}
      for i = 1, 1e9 do t[i] = {i} end
      return {run = function() end}
    method: run
    limits: {max_memory_mb: 16}
"#;

async fn call(id: &str, args: Vec<Value>) -> weft_core::Result<Value> {
    let dir = app(&[("src/_index.yaml", APP)]);
    let rt = boot_dir(dir.path()).await.unwrap();
    rt.functions.call(&rt.root_context(), id, args).await
}

fn assert_limit(r: weft_core::Result<Value>, id: &str, mb: u64) {
    let err = r.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal, "{id}: {err}");
    assert_eq!(
        err.message(),
        format!("{id}: exceeded its memory limit (limits.max_memory_mb: {mb} MB)")
    );
}

#[tokio::test]
async fn a_table_filling_loop_stops_at_the_limit() {
    assert_limit(call("t:fill", vec![]).await, "t:fill", 16);
}

#[tokio::test]
async fn a_huge_string_is_refused_under_the_default_limit() {
    assert_limit(call("t:rep", vec![]).await, "t:rep", 256);
}

#[tokio::test]
async fn code_may_catch_a_refused_allocation_and_go_on() {
    let out = call("t:caught", vec![]).await.unwrap();
    assert_eq!(out, Value::str("false not enough memory"));
}

#[tokio::test]
async fn a_coroutine_bomb_stops_at_the_limit() {
    assert_limit(call("t:bomb", vec![]).await, "t:bomb", 16);
}

#[tokio::test]
async fn a_chunk_that_fills_memory_fails_its_call() {
    assert_limit(call("t:chunk", vec![]).await, "t:chunk", 16);
}

#[tokio::test]
async fn a_vm_that_ran_out_of_memory_is_not_reused() {
    let dir = app(&[("src/_index.yaml", APP)]);
    let rt = boot_dir(dir.path()).await.unwrap();
    let cx = rt.root_context();
    let call = |fill: bool| rt.functions.call(&cx, "t:sticky", vec![Value::Bool(fill)]);
    assert_eq!(call(false).await.unwrap(), Value::Int(1));
    assert_eq!(call(false).await.unwrap(), Value::Int(2));
    assert_limit(call(true).await, "t:sticky", 16);
    // A fresh VM: the global set by earlier calls is gone.
    assert_eq!(call(false).await.unwrap(), Value::Int(1));
}

#[tokio::test]
async fn a_negative_memory_limit_fails_the_boot_naming_the_field() {
    let index = "namespace: t\nentries:\n  - name: f\n    kind: function.lua\n    source: \"return {run = function() end}\"\n    method: run\n    limits: {max_memory_mb: -1}\n";
    let dir = app(&[("src/_index.yaml", index)]);
    let errors = boot_dir(dir.path()).await.err().unwrap().to_string();
    assert!(
        errors.contains("field limits.max_memory_mb: limits.max_memory_mb cannot be negative"),
        "{errors}"
    );
}
