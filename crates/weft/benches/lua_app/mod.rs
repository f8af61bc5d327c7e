//! The app the Lua benches call (`lua` and `pacing`), booted as the `weft` binary boots
//! it, and the helpers to call it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft::boot_app;
use weft_core::{Actor, CallContext, Map, Scope, Value};
use weft_registry::BootOptions;
use weft_runtime::Runtime;

use crate::calls;

/// The entries the benches call.
const CALL_APP: &str = r#"
namespace: bench
entries:
  - name: add
    kind: function.lua
    source: "return {run = function(a, b) return a + b end}"
    method: run
  - name: loop
    kind: function.lua
    source: |
      return {run = function(n)
        local call = funcs.call
        local s = 0
        for i = 1, n do
          local v, err = call("bench:add", i, 1)
          if err then error(err) end
          s = s + v
        end
        return s
      end}
    method: run
    modules: [funcs]
  - name: echo
    kind: function.lua
    source: "return {run = function(x) return x end}"
    method: run
  # The Lua floor of the records bench: the tables a Lua -> Lua call must build (the
  # callee's arguments and the caller's results), made n times by a deep copy inside
  # one VM, with no conversion and no call.
  - name: copy_twice
    kind: function.lua
    source: |
      local function copy(v)
        if type(v) ~= "table" then return v end
        local t = {}
        for k, x in pairs(v) do t[k] = copy(x) end
        return t
      end
      return {run = function(n, users)
        for _ = 1, n do
          copy(copy(users))
        end
        return n
      end}
    method: run
  # Pacing: a long loop (armed after its first slice), and coroutines (listed per resume).
  - name: spin
    kind: function.lua
    source: |
      return {run = function(n)
        local s = 0
        for i = 1, n do s = s + i % 7 end
        return s
      end}
    method: run
  - name: generator
    kind: function.lua
    source: |
      return {run = function(n)
        local gen = coroutine.wrap(function() for i = 1, n do coroutine.yield(i) end end)
        local s = 0
        for _ = 1, n do s = s + gen() end
        return s
      end}
    method: run
  - name: resume
    kind: function.lua
    source: |
      return {run = function(n)
        local co = coroutine.create(function() for i = 1, n do coroutine.yield(i) end end)
        local resume, s = coroutine.resume, 0
        for _ = 1, n do local _, v = resume(co) s = s + v end
        return s
      end}
    method: run
  - name: allow_calls
    kind: security.policy
    policy:
      actions: funcs.call
      resources: "bench:*"
      effect: allow
      conditions:
        - {field: actor.id, operator: eq, value: bencher}
"#;

/// Nine policies that do not match `funcs.call` (each evaluated on every check).
fn other_policies() -> String {
    let patterns = [
        "doc.read",
        "doc.write.*",
        "env.*",
        "process.spawn",
        "fs.get",
        "http_client.*",
        "registry.get",
        "security.*",
        "socket.connect",
    ];
    patterns
        .iter()
        .enumerate()
        .map(|(i, action)| {
            format!(
                "  - name: other{i}\n    kind: security.policy\n    policy: {{actions: \"{action}\", resources: \"*\", effect: allow}}\n"
            )
        })
        .collect()
}

/// Writes `files` (path, text) under `dir`.
pub fn write_app(dir: &Path, files: &[(String, String)]) {
    for (path, body) in files {
        let full = dir.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, body).unwrap();
    }
}

/// Writes the calls app into `dir`.
pub fn write_calls_app(dir: &Path) {
    write_app(
        dir,
        &[(
            "src/_index.yaml".into(),
            format!(
                "{CALL_APP}{}{}",
                // `loop_args`: calls `target` n times with the same arguments.
                calls::LUA_LOOP.replace("- name: loop\n", "- name: loop_args\n"),
                other_policies()
            ),
        )],
    );
}

/// The calls app booted once, paced or not.
pub struct App {
    /// The app's runtime.
    pub runtime: Arc<Runtime>,
    /// Whether its VMs are paced (the production path) or not (the floor of pacing).
    paced: bool,
}

impl App {
    /// Boots the app in `dir`; `paced`: build its VMs with pacing.
    pub fn boot(rt: &tokio::runtime::Runtime, dir: &Path, paced: bool) -> App {
        let booted = rt
            .block_on(boot_app(&calls::load_options(dir), &BootOptions::default()))
            .unwrap();
        App {
            runtime: booted.runtime,
            paced,
        }
    }

    /// How long one call of `entry` with `args` takes in `cx`. Every VM of the app is
    /// built inside such a call, so turning pacing on or off here decides how they are
    /// built.
    pub fn time(
        &self,
        rt: &tokio::runtime::Runtime,
        cx: &CallContext,
        entry: &str,
        args: Vec<Value>,
    ) -> Duration {
        weft_lua::set_pacing(self.paced);
        rt.block_on(async {
            let start = Instant::now();
            let out = self.runtime.functions.call(cx, entry, args).await.unwrap();
            let elapsed = start.elapsed();
            assert!(!matches!(out, Value::Nil));
            elapsed
        })
    }

    /// The root context with an actor and a scope of 10 policies; the allowing one is
    /// last, and every one is evaluated per check.
    pub fn secure_context(&self) -> CallContext {
        let policies = &self.runtime.policies;
        let mut scope: Vec<_> = (0..9)
            .map(|i| policies.get(&format!("bench:other{i}")).unwrap())
            .collect();
        scope.push(policies.get("bench:allow_calls").unwrap());
        self.runtime
            .root_context()
            .with_actor(Some(Actor::new("bencher", Map::new())))
            .with_scope(Some(Scope::new(scope)))
    }
}
