//! Lua's coroutines behave in weft as in Lua 5.4, though weft replaces
//! `coroutine.resume`, `wrap` and `close` (to pace the code they run) and may yield a
//! call's own coroutine back to tokio when it runs long.

mod common;

use common::{app, boot_dir};
use weft_core::Value;

/// `coroutines/probe.lua` exercises results, statuses, errors and their messages;
/// `coroutines/probe.expected` is what stock Lua 5.4 prints for it (`print(dofile(…))`).
#[tokio::test]
async fn coroutines_behave_as_in_stock_lua() {
    let probe = include_str!("coroutines/probe.lua");
    // Same lines as the probe file, so the positions in messages match.
    let source = format!("return {{run = function() {probe}\nend}}");
    let dir = app(&[
        (
            "src/_index.yaml",
            "namespace: t\nentries:\n  - {name: probe, kind: function.lua, source: file://probe.lua, method: run}\n",
        ),
        ("src/probe.lua", &source),
    ]);
    let rt = boot_dir(dir.path()).await.unwrap();
    let out = rt
        .functions
        .call(&rt.root_context(), "t:probe", vec![])
        .await
        .unwrap();
    let expected = include_str!("coroutines/probe.expected").replace("probe.lua:", "t:probe:");
    assert_eq!(out.as_str().unwrap(), expected.trim_end());
}

const LONG: &str = r#"
namespace: t
entries:
  - name: long
    kind: function.lua
    method: run
    source: |
      local function work(n) local s = 0 for i = 1, n do s = s + i end return s end
      return {run = function(n)
        local co = coroutine.create(function(a)
          local x = coroutine.yield(work(a))
          return x + work(a)
        end)
        local first = {coroutine.resume(co, n)}
        local second = {coroutine.resume(co, 1)}
        local gen = coroutine.wrap(function() coroutine.yield(work(n)) return "last" end)
        local nested = coroutine.wrap(function()
          local inner = coroutine.wrap(function() coroutine.yield(work(n)) end)
          coroutine.yield(inner())
        end)
        return {first[1], first[2], second[1], second[2], coroutine.status(co), gen(), gen(), nested()}
      end}
"#;

/// Coroutines that compute for long enough to have their hook armed (each `work` call
/// runs for tens of milliseconds), nested too, still yield and return only what their
/// code says: the hook's yields of a user coroutine are passed up to the call's own
/// coroutine and never reach Lua code.
#[tokio::test]
async fn long_running_coroutines_keep_their_results() {
    let dir = app(&[("src/_index.yaml", LONG)]);
    let rt = boot_dir(dir.path()).await.unwrap();
    let n: i64 = 3_000_000;
    let sum = n * (n + 1) / 2;
    let out = rt
        .functions
        .call(&rt.root_context(), "t:long", vec![Value::Int(n)])
        .await
        .unwrap();
    let expected = format!(r#"[true,{sum},true,{},"dead",{sum},"last",{sum}]"#, sum + 1);
    assert_eq!(serde_json::to_string(&out).unwrap(), expected);
}
