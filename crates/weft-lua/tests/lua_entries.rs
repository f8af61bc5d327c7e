//! Lua entries end to end: real app folders on disk, booted through the real loader, called
//! through the function registry exactly as `funcs.call` and the CLI do.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{app, boot_dir};
use weft_core::{ErrorKind, Value};
use weft_runtime::{Runtime, Terminal};

/// Boots an app whose single `_index.yaml` is `index` plus Lua files.
async fn boot_app(index: &str, lua: &[(&str, &str)]) -> (tempfile::TempDir, Arc<Runtime>) {
    let mut files = vec![("src/_index.yaml", index)];
    files.extend_from_slice(lua);
    let dir = app(&files);
    let rt = match boot_dir(dir.path()).await {
        Ok(rt) => rt,
        Err(e) => panic!("boot failed:\n{e}"),
    };
    (dir, rt)
}

async fn call(rt: &Runtime, id: &str, args: Vec<Value>) -> weft_core::Result<Value> {
    rt.functions.call(&rt.root_context(), id, args).await
}

/// A one-function app: `t:f` runs `body` as `function M.f(...)`.
async fn func(modules: &str, body: &str) -> (tempfile::TempDir, Arc<Runtime>) {
    let index = format!(
        "namespace: t\nentries:\n  - name: f\n    kind: function.lua\n    source: file://f.lua\n    method: f\n    modules: [{modules}]\n"
    );
    let src = format!("local M = {{}}\nfunction M.f(...)\n{body}\nend\nreturn M\n");
    let dir = app(&[("src/_index.yaml", &index), ("src/f.lua", &src)]);
    let rt = match boot_dir(dir.path()).await {
        Ok(rt) => rt,
        Err(e) => panic!("boot failed:\n{e}"),
    };
    (dir, rt)
}

const TWO_FUNCS: &str = r#"
namespace: t
entries:
  - name: caller
    kind: function.lua
    source: file://caller.lua
    method: run
    modules: [funcs]
  - name: callee
    kind: function.lua
    source: file://callee.lua
    method: run
    modules: [ctx]
"#;

#[tokio::test]
async fn funcs_call_round_trips_values_and_errors() {
    let (_d, rt) = boot_app(
        TWO_FUNCS,
        &[
            (
                "src/caller.lua",
                r#"local M = {}
                function M.run(mode)
                  local v, err = funcs.call("t:callee", mode, {n = 2, list = {1, 2, 3}})
                  if err then
                    local d = err:details()
                    local frames = errors.call_stack(err).frames
                    return {kind = err:kind(), message = err:message(), retryable = err:retryable(),
                            details = type(d), details_empty = d ~= nil and next(d) == nil,
                            made_in = frames[1] and frames[1].source}
                  end
                  return v
                end
                return M"#,
            ),
            (
                "src/callee.lua",
                r#"local M = {}
                function M.run(mode, data)
                  if mode == "ok" then return {sum = data.n + #data.list, echo = data} end
                  if mode == "string_err" then return nil, "plain failure" end
                  if mode == "false_err" then return false, "timeout waiting" end
                  if mode == "obj_err" then return nil, errors.new({message = "gone", kind = errors.NOT_FOUND, retryable = true}) end
                  if mode == "raise" then error("boom") end
                  if mode == "raise_obj" then error(errors.new({message = "bad", kind = errors.CONFLICT})) end
                  if mode == "empty_details" then return nil, errors.new({message = "d", details = {}}) end
                  return nil
                end
                return M"#,
            ),
        ],
    )
    .await;
    let ok = call(&rt, "t:caller", vec![Value::str("ok")]).await.unwrap();
    assert_eq!(ok.get("sum"), Some(&Value::Int(5)));
    assert_eq!(
        ok.get_path("echo.list").unwrap().as_array().unwrap().len(),
        3
    );

    let err_of = |v: &Value| {
        (
            v.get("kind")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string(),
            v.get("message")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string(),
        )
    };
    let v = call(&rt, "t:caller", vec![Value::str("string_err")])
        .await
        .unwrap();
    assert_eq!(err_of(&v), ("".into(), "plain failure".into()));
    let v = call(&rt, "t:caller", vec![Value::str("false_err")])
        .await
        .unwrap();
    assert_eq!(err_of(&v).1, "timeout waiting");
    let v = call(&rt, "t:caller", vec![Value::str("obj_err")])
        .await
        .unwrap();
    assert_eq!(err_of(&v), ("NotFound".into(), "gone".into()));
    assert_eq!(v.get("retryable"), Some(&Value::Bool(true)));
    let v = call(&rt, "t:caller", vec![Value::str("raise")])
        .await
        .unwrap();
    assert!(err_of(&v).1.contains("boom"), "{v:?}");
    let v = call(&rt, "t:caller", vec![Value::str("raise_obj")])
        .await
        .unwrap();
    assert_eq!(err_of(&v), ("Conflict".into(), "bad".into()));
    // Empty details stay an empty table across the call, and the error keeps the
    // traceback of where the callee made it.
    let v = call(&rt, "t:caller", vec![Value::str("empty_details")])
        .await
        .unwrap();
    assert_eq!(v.get("details"), Some(&Value::str("table")));
    assert_eq!(v.get("details_empty"), Some(&Value::Bool(true)));
    assert_eq!(v.get("made_in"), Some(&Value::str("t:callee")));
    assert_eq!(
        call(&rt, "t:caller", vec![Value::str("nil")])
            .await
            .unwrap(),
        Value::Nil
    );
}

#[tokio::test]
async fn the_runtime_is_freed_when_its_last_handle_drops() {
    let (_d, rt) = func("funcs", "return 1").await;
    assert_eq!(call(&rt, "t:f", vec![]).await.unwrap(), Value::Int(1));
    let weak = Arc::downgrade(&rt);
    drop(rt);
    assert!(
        weak.upgrade().is_none(),
        "something the runtime owns holds it"
    );
}

#[tokio::test]
async fn funcs_call_validation_errors_are_returned_not_raised() {
    let (_d, rt) = func(
        "funcs",
        r#"local out = {}
        for _, target in ipairs({"", "noname", "ns:", "t:missing"}) do
          local v, err = funcs.call(target)
          out[#out + 1] = err:kind() .. "|" .. err:message()
        end
        return out"#,
    )
    .await;
    let v = call(&rt, "t:f", vec![]).await.unwrap();
    let got: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(got[0], "Invalid|function ID required");
    assert!(got[1].starts_with("Invalid|namespace required"));
    assert!(got[2].starts_with("Invalid|name required"));
    assert_eq!(
        got[3],
        "NotFound|no handler registered for target: t:missing"
    );
}

#[tokio::test]
async fn require_returns_only_bound_modules() {
    let (_d, rt) = func(
        "funcs",
        r#"local f = require("funcs")
        local ok, err = pcall(require, "json")
        return {same = f == funcs, ok = ok, err = tostring(err)}"#,
    )
    .await;
    let v = call(&rt, "t:f", vec![]).await.unwrap();
    assert_eq!(v.get("same"), Some(&Value::Bool(true)));
    assert_eq!(v.get("ok"), Some(&Value::Bool(false)));
    assert!(
        v.get("err")
            .unwrap()
            .as_str()
            .unwrap()
            .contains("module 'json' not found")
    );
}

#[tokio::test]
async fn sandbox_hides_host_access() {
    let (_d, rt) = func(
        "",
        r#"local bytecode_ok = pcall(load, "\27Lua")
        local f = load("\27LuaS")
        return {
          io = type(io), os_execute = type(os.execute), dofile = type(dofile), loadfile = type(loadfile),
          dump = type(string.dump), debug = type(debug), package = type(package),
          platform = os.platform, text_load = load("return 1 + 1")(), bytecode = f == nil,
        }"#,
    )
    .await;
    let v = call(&rt, "t:f", vec![]).await.unwrap();
    for key in [
        "io",
        "os_execute",
        "dofile",
        "loadfile",
        "dump",
        "debug",
        "package",
    ] {
        assert_eq!(
            v.get(key).and_then(Value::as_str),
            Some("nil"),
            "{key}: {v:?}"
        );
    }
    assert_eq!(v.get("platform").and_then(Value::as_str), Some("wippy"));
    assert_eq!(v.get("text_load"), Some(&Value::Int(2)));
    assert_eq!(v.get("bytecode"), Some(&Value::Bool(true)));
}

#[tokio::test]
async fn context_values_flow_to_nested_calls() {
    let (_d, rt) = boot_app(
        TWO_FUNCS,
        &[
            (
                "src/caller.lua",
                r#"local M = {}
                function M.run()
                  local exec, err = funcs.new():with_context({user = "ann", n = 1})
                  if err then return nil, err end
                  return exec:call("t:callee")
                end
                return M"#,
            ),
            (
                "src/callee.lua",
                r#"local M = {}
                function M.run()
                  local user = ctx.get("user")
                  local _, missing = ctx.get("nope")
                  local _, empty = ctx.get("")
                  return {user = user, all = ctx.all(), missing = missing:kind(), empty = empty:kind()}
                end
                return M"#,
            ),
        ],
    )
    .await;
    let v = call(&rt, "t:caller", vec![]).await.unwrap();
    assert_eq!(v.get("user").and_then(Value::as_str), Some("ann"));
    assert_eq!(v.get_path("all.n"), Some(&Value::Int(1)));
    assert_eq!(v.get("missing").and_then(Value::as_str), Some("NotFound"));
    assert_eq!(v.get("empty").and_then(Value::as_str), Some("Invalid"));
}

#[tokio::test]
async fn libraries_bind_under_their_alias_with_their_own_imports() {
    let index = r#"
namespace: t
entries:
  - name: base
    kind: library.lua
    source: "return {twice = function(x) return x * 2 end}"
  - name: math2
    kind: library.lua
    source: "return {quad = function(x) return base.twice(base.twice(x)) end}"
    imports: {base: t:base}
  - name: f
    kind: function.lua
    source: "return {run = function(x) return m.quad(x) + base.twice(1) end}"
    method: run
    imports: {m: t:math2}
"#;
    let (_d, rt) = boot_app(index, &[]).await;
    assert_eq!(
        call(&rt, "t:f", vec![Value::Int(3)]).await.unwrap(),
        Value::Int(14)
    );
}

#[tokio::test]
async fn bad_lua_entries_fail_the_boot_with_all_problems() {
    let index = r#"
namespace: t
entries:
  - name: syntax
    kind: function.lua
    source: "return {run = function() return 1 +  end}"
    method: run
  - name: nomethod
    kind: function.lua
    source: "return {}"
  - name: badmodule
    kind: function.lua
    source: "return {run = function() end}"
    method: run
    modules: [sql]
  - name: badpool
    kind: function.lua
    source: "return {run = function() end}"
    method: run
    pool: {workers: 2}
  - name: nolib
    kind: function.lua
    source: "return {run = function() end}"
    method: run
    imports: {x: t:nowhere}
"#;
    let dir = app(&[("src/_index.yaml", index)]);
    let errors = match boot_dir(dir.path()).await {
        Err(e) => e.to_string(),
        Ok(_) => panic!("boot should fail"),
    };
    for needle in [
        "t:syntax (function.lua): field source: syntax error: t:syntax:1:",
        "t:nomethod (function.lua): field method: method is required",
        "t:badmodule (function.lua): field modules[0]: module \"sql\" is not available",
        "t:badpool (function.lua): field pool: pool.size must be greater than 0",
        "t:nolib",
        "library not found: t:nowhere",
    ] {
        assert!(errors.contains(needle), "missing {needle:?} in:\n{errors}");
    }
    assert!(errors.contains("src/_index.yaml:"), "{errors}");
}

#[tokio::test]
async fn alias_collisions_are_rejected() {
    let index = r#"
namespace: t
entries:
  - name: a
    kind: library.lua
    source: "return 1"
  - name: b
    kind: library.lua
    source: "return 2"
  - name: mid
    kind: library.lua
    source: "return 3"
    imports: {x: t:b}
  - name: f
    kind: function.lua
    source: "return {run = function() end}"
    method: run
    imports: {x: t:a, m: t:mid}
"#;
    let dir = app(&[("src/_index.yaml", index)]);
    let errors = match boot_dir(dir.path()).await {
        Err(e) => e.to_string(),
        Ok(_) => panic!("boot should fail"),
    };
    assert!(
        errors.contains("alias collision: \"x\" is bound to t:a and t:b"),
        "{errors}"
    );
}

#[tokio::test]
async fn runtime_errors_in_a_method_fail_the_call_and_the_vm_stays_usable() {
    let (_d, rt) = func(
        "",
        "local n = ... if n == 0 then local t = nil; return t.x end return n * 2",
    )
    .await;
    let err = call(&rt, "t:f", vec![Value::Int(0)]).await.unwrap_err();
    assert!(err.message().contains("t:f:3:"), "{err}");
    assert_eq!(
        call(&rt, "t:f", vec![Value::Int(4)]).await.unwrap(),
        Value::Int(8)
    );
}

#[tokio::test]
async fn a_missing_method_is_a_call_error_naming_it() {
    let index = "namespace: t\nentries:\n  - {name: f, kind: function.lua, source: 'return {}', method: go}\n";
    let (_d, rt) = boot_app(index, &[]).await;
    let err = call(&rt, "t:f", vec![]).await.unwrap_err();
    assert_eq!(err.message(), "method \"go\" not found in t:f");
}

#[tokio::test]
async fn vms_are_reused_across_calls() {
    let (_d, rt) = func("", "COUNT = (COUNT or 0) + 1 return COUNT").await;
    for expected in 1..=3 {
        assert_eq!(
            call(&rt, "t:f", vec![]).await.unwrap(),
            Value::Int(expected)
        );
    }
}

#[tokio::test]
async fn async_calls_give_futures() {
    let (_d, rt) = boot_app(
        TWO_FUNCS,
        &[
            (
                "src/caller.lua",
                r#"local M = {}
                function M.run()
                  local fut, err = funcs.async("t:callee", 20)
                  if err then return nil, err end
                  local waited = 0
                  while not fut:is_complete() and waited < 1000 do
                    coroutine.yield()
                    waited = waited + 1
                  end
                  local payload, perr = fut:result()
                  local _, bad = funcs.async("nope")
                  return {value = payload:data(), failed = fut:error(), bad = bad:kind()}
                end
                return M"#,
            ),
            (
                "src/callee.lua",
                "return {run = function(n) return n + 1 end}",
            ),
        ],
    )
    .await;
    let v = call(&rt, "t:caller", vec![]).await.unwrap();
    assert_eq!(v.get("value"), Some(&Value::Int(21)), "{v:?}");
    assert_eq!(v.get("bad").and_then(Value::as_str), Some("Invalid"));
}

#[tokio::test]
async fn registry_module_reads_entries() {
    let index = r#"
namespace: t
entries:
  - name: f
    kind: function.lua
    meta: {type: test, tags: [a, b]}
    source: |
      return {run = function()
        local e = registry.get("t:f")
        local _, missing = registry.get("t:nope")
        local tests = registry.find({["meta.type"] = "test"})
        local lua = registry.find({[".kind"] = "function.*"})
        local id = registry.parse_id("a.b:c")
        return {kind = e.kind, tag = e.meta.tags[2], method = e.data.method, missing = missing:kind(),
                tests = #tests, lua = #lua, ns = id.ns, name = id.name}
      end}
    method: run
    modules: [registry]
  - name: data
    kind: registry.entry
    value: 1
"#;
    let (_d, rt) = boot_app(index, &[]).await;
    let v = call(&rt, "t:f", vec![]).await.unwrap();
    assert_eq!(v.get("kind").and_then(Value::as_str), Some("function.lua"));
    assert_eq!(v.get("tag").and_then(Value::as_str), Some("b"));
    assert_eq!(v.get("method").and_then(Value::as_str), Some("run"));
    assert_eq!(v.get("missing").and_then(Value::as_str), Some("NotFound"));
    assert_eq!(v.get("tests"), Some(&Value::Int(1)));
    assert_eq!(v.get("lua"), Some(&Value::Int(1)));
    assert_eq!(v.get("ns").and_then(Value::as_str), Some("a.b"));
}

#[tokio::test]
async fn io_needs_a_terminal_and_writes_to_it() {
    let index = r##"
namespace: t
entries:
  - name: cmd
    kind: process.lua
    meta: {command: {name: greet}}
    source: |
      return {main = function(...)
        io.write("a", 1, " ")
        io.print("b", "c")
        local line = io.readline()
        local args = io.args()
        io.print("line=" .. line, "#args=" .. #args)
        return "done"
      end}
    method: main
    modules: [io]
  - name: f
    kind: function.lua
    source: "return {run = function() local ok, err = io.print('x') return {ok = ok == nil, err = err} end}"
    method: run
    modules: [io]
  - {name: terminal, kind: terminal.host}
"##;
    let (_d, rt) = boot_app(index, &[]).await;
    let v = call(&rt, "t:f", vec![]).await.unwrap();
    assert_eq!(v.get("ok"), Some(&Value::Bool(true)));
    assert_eq!(
        v.get("err").and_then(Value::as_str),
        Some("no terminal context")
    );
    let out = SharedBuf::default();
    let term = Arc::new(Terminal::new(
        vec!["x".into(), "y".into()],
        Box::new(std::io::Cursor::new(b"typed\r\nmore\n".to_vec())),
        Box::new(out.clone()),
        Box::new(std::io::sink()),
    ));
    let code = weft_runtime::run_command(&rt, None, "greet", term)
        .await
        .unwrap();
    assert_eq!(code, 0);
    assert_eq!(out.text(), "a1 b\tc\nline=typed\t#args=2\ndone\n");
}

#[tokio::test]
async fn concurrent_calls_sleep_without_blocking_threads() {
    let (_d, rt) = func("time", "time.sleep('50ms') return 1").await;
    let start = Instant::now();
    let calls: Vec<_> = (0..200)
        .map(|_| {
            let rt = rt.clone();
            tokio::spawn(async move { call(&rt, "t:f", vec![]).await })
        })
        .collect();
    for c in calls {
        assert_eq!(c.await.unwrap().unwrap(), Value::Int(1));
    }
    // 200 sleeps of 50 ms on the default lazy pool (100 VMs) take two rounds, not 200.
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn static_pool_queue_overflow_is_rate_limited() {
    let index = r#"
namespace: t
entries:
  - name: f
    kind: function.lua
    source: "return {run = function() time.sleep('200ms') return 1 end}"
    method: run
    modules: [time]
    pool: {type: static, size: 1, workers: 1, buffer: 1}
"#;
    let (_d, rt) = boot_app(index, &[]).await;
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let rt = rt.clone();
            tokio::spawn(async move { call(&rt, "t:f", vec![]).await })
        })
        .collect();
    let mut kinds = Vec::new();
    for c in calls {
        kinds.push(c.await.unwrap().map_err(|e| e.kind()));
    }
    assert_eq!(kinds.iter().filter(|k| k.is_ok()).count(), 2, "{kinds:?}");
    assert!(kinds.contains(&Err(ErrorKind::RateLimited)), "{kinds:?}");
}

/// A cloneable in-memory writer for terminal output.
#[derive(Clone, Default)]
struct SharedBuf(Arc<parking_lot::Mutex<Vec<u8>>>);

impl SharedBuf {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock()).into_owned()
    }
}

impl std::io::Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logger_methods_chain_and_reject_empty_names() {
    let (_d, rt) = func(
        "logger",
        r#"local child = logger:with({req = 7}):named("api")
        child:info("served", {path = "/x", ok = true})
        child:debug("detail")
        logger:warn("careful")
        logger:error("bad", {code = 500})
        print("plain", 1, nil)
        local ok, err = pcall(function() return logger:named("") end)
        return {ok = ok, err = tostring(err)}"#,
    )
    .await;
    let v = call(&rt, "t:f", vec![]).await.unwrap();
    assert_eq!(v.get("ok"), Some(&Value::Bool(false)));
    assert!(
        v.get("err")
            .and_then(Value::as_str)
            .unwrap()
            .contains("name cannot be empty")
    );
}

#[tokio::test]
async fn a_raised_string_carries_the_traceback_where_it_was_raised() {
    let (_dir, rt) = func(
        "",
        "local function inner() error('boom') end\nlocal function outer() inner() end\nouter()",
    )
    .await;
    let err = call(&rt, "t:f", vec![]).await.unwrap_err();
    assert!(err.message().contains("boom"), "{err}");
    let stack = err.stack().expect("a traceback");
    // Lines 3-5 of f.lua: inner, outer, the method.
    for frame in ["t:f:3: in", "t:f:4: in", "t:f:5: in"] {
        assert!(stack.contains(frame), "{frame} missing from:\n{stack}");
    }
    // An error object keeps the traceback of where it was made, not a second one.
    let (_dir, rt) = func("", "local e = errors.new('made here')\nerror(e)").await;
    let err = call(&rt, "t:f", vec![]).await.unwrap_err();
    let stack = err.stack().expect("a traceback");
    assert!(stack.contains("t:f:3: in"), "{stack}");
    assert!(!stack.contains("t:f:4: in"), "{stack}");
}
