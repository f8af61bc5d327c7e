//! The security model end to end, on a real app booted from disk with `security.policy`
//! entries: the Lua `security` module, executors and spawners with an actor and a scope,
//! propagation through Lua, WASM (`funcs`) and processes, denials that run nothing, policy
//! conditions over missing fields, and services with `lifecycle.security`.
//!
//! The Lua side lives in `DRIVER` (a `process.lua` run with `exec`, one case per call)
//! and a few small functions; each case returns a table the test checks.

use std::sync::Arc;
use std::time::Duration;

use weft::boot_app;
use weft_core::{Actor, CallContext, ErrorKind, Map, Scope, Value};
use weft_registry::{BootOptions, LoadOptions};
use weft_runtime::{Runtime, Spawn};

mod common;
use common::{dist, sha};

const INDEX: &str = r#"namespace: t
entries:
  - {name: guests, kind: fs.directory, directory: "@DIST@"}
  - {name: data, kind: fs.directory, directory: data}
  - {name: host, kind: process.host, lifecycle: {auto_start: true}}
  - {name: mem, kind: env.storage.memory}
  - {name: marker, kind: env.variable, storage: mem, variable: MARKER}
  - {name: report, kind: env.variable, storage: mem, variable: REPORT}
  - {name: greeting, kind: env.variable, storage: mem, variable: GREETING, default: hi}

  # Policies.
  - name: allow_all
    kind: security.policy
    policy: {actions: "*", resources: "*", effect: allow}
  - name: call_any
    kind: security.policy
    policy: {actions: funcs.call, resources: "*", effect: allow}
    groups: [callers, staff]
  - name: spawn_any
    kind: security.policy
    policy: {actions: "process.*", resources: "*", effect: allow}
    groups: [staff]
  - name: call_whoami
    kind: security.policy
    policy: {actions: funcs.call, resources: "t:whoami", effect: allow}
  - name: call_intruder
    kind: security.policy
    policy: {actions: funcs.call, resources: "t:intruder", effect: allow}
  - name: env_all
    kind: security.policy
    policy: {actions: "env.*", resources: "*", effect: allow}
    groups: [env_writers]
  - name: owner_reads
    kind: security.policy
    policy:
      actions: doc.read
      resources: "*"
      effect: allow
      conditions:
        - {field: meta.owner, operator: eq, value_from: actor.id}
  - name: not_banned
    kind: security.policy
    policy:
      actions: doc.write
      resources: "*"
      effect: allow
      conditions:
        - {field: meta.banned, operator: ne, value: true}
  - name: senior
    kind: security.policy
    policy:
      actions: doc.delete
      resources: "*"
      effect: allow
      conditions:
        - {field: actor.meta.level, operator: gte, value: 5}
  - name: deny_secret
    kind: security.policy
    policy: {actions: "*", resources: "t:secret*", effect: deny}

  # Functions and processes.
  - name: whoami
    kind: function.lua
    source: file://whoami.lua
    method: run
    modules: [security]
  - name: can_doc
    kind: function.lua
    method: run
    modules: [security]
    source: |
      return {run = function()
        return {
          no_meta = security.can("doc.read", "d1"),
          owner = security.can("doc.read", "d1", {owner = "alice"}),
          other = security.can("doc.read", "d1", {owner = "bob"}),
        }
      end}
  - name: wasm_call
    kind: function.wasm
    fs: t:guests
    path: /funcs-user.wasm
    hash: "@FUNCS_HASH@"
    method: call-string
    imports: [funcs]
  - name: read_mount
    kind: function.wasm
    fs: t:guests
    path: /wasi-user.wasm
    hash: "@WASI_HASH@"
    method: read-file
    imports: [wasi:filesystem]
    wasi:
      mounts:
        - {fs: t:data, guest: /data, read_only: true}
  - name: probe
    kind: function.lua
    source: file://probe.lua
    method: run
    modules: [funcs, env, security]
  - name: probe_proc
    kind: process.lua
    source: file://probe.lua
    method: run
    modules: [funcs, env, security]
  - name: widen
    kind: function.lua
    source: file://widen.lua
    method: run
    modules: [funcs, security]
  - name: protected
    kind: function.lua
    method: run
    modules: [env]
    source: |
      return {run = function()
        local ok, err = env.set("t:marker", "touched")
        if err then error(err) end
        return "secret"
      end}
  - name: protected_proc
    kind: process.lua
    method: run
    modules: [env]
    source: |
      return {run = function() env.set("t:marker", "touched by a process") end}
  - name: intruder
    kind: function.lua
    source: file://intruder.lua
    method: run
    modules: [funcs, security]
  - name: child
    kind: process.lua
    method: run
    modules: [security, funcs]
    source: |
      return {run = function()
        local a, s = security.actor(), security.scope()
        local via = funcs.call("t:whoami")
        return {
          actor = a and a:id(),
          policies = s and #s:policies(),
          can_call = security.can("funcs.call", "t:whoami"),
          can_env = security.can("env.set", "x"),
          via_call = via and via.actor,
        }
      end}
  - name: driver
    kind: process.lua
    source: file://driver.lua
    method: run
    modules: [funcs, security, time]

  # A service acting as svc-bot with a narrow scope.
  - name: svc
    kind: process.service
    process: svc_proc
    host: host
    lifecycle:
      auto_start: true
      restart: {max_attempts: 1}
      security:
        actor: {id: svc-bot, meta: {team: ops}}
        policies: [call_whoami]
        groups: [env_writers]
  - name: svc_proc
    kind: process.lua
    source: file://service.lua
    method: run
    modules: [funcs, env, security, json]
"#;

const WHOAMI: &str = r#"
return {run = function()
  local a, s = security.actor(), security.scope()
  local ids = {}
  if s then
    for _, p in ipairs(s:policies()) do ids[#ids + 1] = p:id() end
  end
  return {
    actor = a and a:id(),
    role = a and a:meta().role,
    policies = table.concat(ids, ","),
    can_call = security.can("funcs.call", "t:anything"),
    can_env = security.can("env.set", "x"),
  }
end}
"#;

/// Every operation it tries should be denied in an empty scope; reports what happened.
const PROBE: &str = r#"
local function kind(v, err)
  if err then return err:kind() end
  return "ok"
end
return {run = function()
  local made = pcall(security.new_scope)
  return {
    actor = security.actor() and security.actor():id(),
    call = kind(funcs.call("t:whoami")),
    spawn = kind(process.spawn("t:child", "t:host")),
    env = kind(env.get("t:greeting")),
    can = security.can("funcs.call", "t:whoami"),
    new_scope = made,
  }
end}
"#;

/// Runs with a narrowed scope and tries to get out of it.
const WIDEN: &str = r#"
local function denied(ok, err)
  if ok then return "not denied" end
  return errors.is(err, errors.PERMISSION_DENIED) and "denied" or tostring(err)
end
return {run = function()
  local s = security.scope()
  local p = s:policies()[1]
  local r = {}
  r.new_scope = denied(pcall(security.new_scope))
  r.with = denied(pcall(s.with, s, p))
  r.without = denied(pcall(s.without, s, p))
  r.new_actor = denied(pcall(security.new_actor, "root"))
  local pol, perr = security.policy("t:allow_all")
  r.policy = pol == nil and perr:kind()
  local grp, gerr = security.named_scope("t:staff")
  r.named_scope = grp == nil and gerr:kind()
  local ex, xerr = funcs.new():with_scope(s)
  r.executor = ex == nil and xerr:kind() .. " " .. xerr:message()
  r.spawner = denied(pcall(process.with_scope, s))
  local me = funcs.call("t:whoami")
  r.inside = me and me.actor
  local _, cerr = funcs.call("t:probe")
  r.outside = cerr and cerr:kind() .. " " .. cerr:message()
  return r
end}
"#;

/// No permission but calling its own entry: tries every way to reach `t:protected`.
const INTRUDER: &str = r#"
return {run = function()
  local r = {}
  local v, err = funcs.call("t:protected")
  r.call = v == nil and err:kind() .. " " .. err:message()
  local fut, aerr = funcs.async("t:protected")
  r.async = fut == nil and aerr:kind()
  local ev, eerr = funcs.new():call("t:protected")
  r.executor = ev == nil and eerr and eerr:kind()
  local pid, serr = process.spawn("t:protected_proc", "t:host")
  r.spawn = pid == nil and serr:kind() .. " " .. serr:message()
  local ok, raised = pcall(function()
    return process.with_options({}):spawn("t:protected_proc", "t:host")
  end)
  r.spawner = not ok and errors.is(raised, errors.PERMISSION_DENIED)
  return r
end}
"#;

const SERVICE: &str = r#"
return {run = function()
  local r = {}
  local a = security.actor()
  r.actor = a and a:id()
  r.team = a and a:meta().team
  local me = funcs.call("t:whoami")
  r.whoami = me and me.actor
  local _, perr = funcs.call("t:probe")
  r.probe = perr and perr:kind()
  local _, serr = process.spawn("t:child", "t:host")
  r.spawn = serr and serr:kind()
  r.can_env = security.can("env.set", "t:report")
  r.can_call_probe = security.can("funcs.call", "t:probe")
  local ok, err = env.set("t:report", json.encode(r))
  if err then error(err) end
end}
"#;

const DRIVER: &str = r#"
local function exit_of(pid)
  local events = process.events()
  local deadline = time.after("5s")
  while true do
    local r = channel.select({ events:case_receive(), deadline:case_receive() })
    if r.channel == deadline then error("no EXIT from " .. pid) end
    if r.value.from == pid then return r.value end
  end
end

local function raised(f, ...)
  local ok, err = pcall(f, ...)
  if ok then return "no error" end
  return (errors.is(err, errors.INVALID) and "Invalid: " or "other: ") .. tostring(err)
end

local cases = {}

-- Lua -> WASM (funcs host) -> Lua, with an executor's actor and scope.
cases.wasm = function()
  local alice = security.new_actor("alice", {role = "admin"})
  local scope = assert(security.named_scope("t:callers"))
  local ex = funcs.new():with_actor(alice):with_scope(scope)
  local out, err = ex:call("t:wasm_call", "t:whoami", "")
  if err then error(err) end
  local direct = ex:call("t:whoami")
  return {through_wasm = out.ok or out.err, direct = direct, after = security.actor() == nil}
end

-- The driver runs as its caller's actor; a spawned child and its calls inherit it.
cases.inherit = function()
  local pid, err = process.spawn_monitored("t:child", "t:host")
  if err then error(err) end
  local ev = exit_of(pid)
  if ev.result.error then error(ev.result.error) end
  return ev.result.value
end

-- Spawners give the child another actor and scope.
cases.spawner = function()
  local bob = security.new_actor("bob")
  local scope = assert(security.named_scope("t:callers"))
  local pid = process.with_actor(bob):with_scope(scope):spawn_monitored("t:child", "t:host")
  local first = exit_of(pid).result.value
  pid = process.with_context({k = "v"}):with_actor(bob):spawn_monitored("t:child", "t:host")
  local second = exit_of(pid).result.value
  return {first = first, second = second, after = security.actor() == nil}
end

-- An actor with an empty scope is denied everything, in functions, processes and WASM.
cases.empty = function()
  local eve = security.new_actor("eve")
  local empty = security.new_scope()
  local ex = funcs.new():with_actor(eve):with_scope(empty)
  local probe, perr = ex:call("t:probe")
  if perr then error(perr) end
  local _, merr = ex:call("t:read_mount", "/data/hello.txt")
  local pid = process.with_actor(eve):with_scope(empty):spawn_monitored("t:probe_proc", "t:host")
  local ev = exit_of(pid)
  return {
    probe = probe,
    process = ev.result.value,
    mount = merr and merr:kind() .. " " .. merr:message(),
  }
end

-- A narrowed scope cannot be widened by the callee.
cases.narrow = function()
  local bob = security.new_actor("bob")
  local narrow = security.new_scope({assert(security.policy("t:call_whoami"))})
  local out, err = funcs.new():with_actor(bob):with_scope(narrow):call("t:widen")
  if err then error(err) end
  return out
end

-- Policy conditions: a missing field never allows.
cases.conditions = function()
  local alice = security.new_actor("alice")
  local owner = assert(security.policy("t:owner_reads"))
  local nb = assert(security.policy("t:not_banned"))
  local senior = assert(security.policy("t:senior"))
  local deny = assert(security.policy("t:deny_secret"))
  local s = security.new_scope({owner, nb, senior, deny})
  local can = funcs.new():with_actor(alice):with_scope(s):call("t:can_doc")
  return {
    no_meta = owner:evaluate(alice, "doc.read", "d1"),
    other_owner = owner:evaluate(alice, "doc.read", "d1", {owner = "bob"}),
    owner = owner:evaluate(alice, "doc.read", "d1", {owner = "alice"}),
    nil_actor = owner:evaluate(nil, "doc.read", "d1", {owner = ""}),
    ne_missing = nb:evaluate(alice, "doc.write", "d1"),
    ne_other = nb:evaluate(alice, "doc.write", "d1", {banned = false}),
    ne_banned = nb:evaluate(alice, "doc.write", "d1", {banned = true}),
    gte_missing = senior:evaluate(alice, "doc.delete", "d1"),
    gte_text = senior:evaluate(security.new_actor("x", {level = "high"}), "doc.delete", "d1"),
    gte_ok = senior:evaluate(security.new_actor("x", {level = 7}), "doc.delete", "d1"),
    scope_missing = s:evaluate(alice, "doc.read", "d1"),
    scope_allow = s:evaluate(alice, "doc.read", "d1", {owner = "alice"}),
    scope_deny = s:evaluate(alice, "doc.read", "t:secret1", {owner = "alice"}),
    contains = {s:contains("t:owner_reads"), s:contains({ns = "t", name = "senior"}),
                s:contains(owner), s:contains("t:allow_all")},
    without = #s:without("t:owner_reads"):without(nb):policies(),
    original = #s:policies(),
    policy_id = owner:id(),
    can = can,
  }
end

-- Without any security context.
cases.none = function()
  local p, perr = security.policy("t:nope")
  local g, gerr = security.named_scope("t:nobody")
  local bare = security.policy("allow_all")
  local group = security.named_scope("staff")
  local a = security.new_actor("ann", {n = 1})
  return {
    actor = security.actor() == nil,
    scope = security.scope() == nil,
    can = security.can("funcs.call", "t:whoami"),
    policy = p == nil and perr:kind() .. " " .. perr:message(),
    group = g == nil and gerr:kind(),
    bare = bare and bare:id(),
    group_size = group and #group:policies(),
    actor_text = tostring(a) .. " " .. a:meta().n,
    can_bad = raised(security.can, 1),
    can_bad_meta = raised(security.can, "a", "b", "meta"),
    actor_nil = raised(function() return funcs.new():with_actor(nil) end),
    actor_type = raised(function() return funcs.new():with_actor("bob") end),
    scope_type = raised(function() return funcs.new():with_scope(a) end),
    spawner_nil = raised(process.with_scope, nil),
    spawner_type = raised(process.with_actor, {}),
    new_scope_type = raised(security.new_scope, {"t:allow_all"}),
    with_type = raised(function() return security.new_scope():with("t:allow_all") end),
    evaluate_type = raised(function() return security.new_scope():evaluate("alice", "a", "b") end),
  }
end

return {run = function(case) return cases[case]() end}
"#;

struct App {
    _dir: tempfile::TempDir,
    rt: Arc<Runtime>,
    env: Arc<weft_env::EnvRegistry>,
}

impl App {
    async fn boot() -> App {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::create_dir_all(root.join("data")).unwrap();
        std::fs::write(root.join("data/hello.txt"), "hello").unwrap();
        let index = INDEX
            .replace("@DIST@", &dist().display().to_string())
            .replace("@FUNCS_HASH@", &sha(&dist().join("funcs-user.wasm")))
            .replace("@WASI_HASH@", &sha(&dist().join("wasi-user.wasm")));
        for (path, text) in [
            ("src/_index.yaml", index.as_str()),
            ("src/whoami.lua", WHOAMI),
            ("src/probe.lua", PROBE),
            ("src/widen.lua", WIDEN),
            ("src/intruder.lua", INTRUDER),
            ("src/service.lua", SERVICE),
            ("src/driver.lua", DRIVER),
        ] {
            std::fs::write(root.join(path), text).unwrap();
        }
        match common::boot_app_dir(root).await {
            Ok(booted) => App {
                _dir: dir,
                rt: booted.runtime,
                env: booted.env,
            },
            Err(e) => panic!("boot failed:\n{e}"),
        }
    }

    /// A context acting as `actor` with the policies `ids` (full ids) and groups.
    fn acting(&self, actor: &str, ids: &[&str], groups: &[&str]) -> CallContext {
        let mut policies: Vec<_> = ids
            .iter()
            .map(|id| self.rt.policies.get(id).expect(id))
            .collect();
        for g in groups {
            policies.extend(self.rt.policies.group(g));
        }
        self.rt
            .root_context()
            .with_actor(Some(Actor::new(actor, Map::new())))
            .with_scope(Some(Scope::new(policies)))
    }

    /// Runs one driver case in `cx`.
    async fn case_in(&self, cx: &CallContext, case: &str) -> Value {
        let req = Spawn::new("t:driver", "t:host", vec![Value::str(case)]);
        match self.rt.processes.exec(&self.rt, cx, req).await {
            Ok(v) => v,
            Err(e) => panic!("case {case}: {e}"),
        }
    }

    /// Runs one driver case without a security context.
    async fn case(&self, case: &str) -> Value {
        self.case_in(&self.rt.root_context(), case).await
    }

    fn marker(&self) -> Option<String> {
        self.env.get(&self.rt.root_context(), "t:marker").unwrap()
    }
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn field<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .try_fold(v, |v, k| v.get(k))
        .unwrap_or_else(|| panic!("no {path} in {v:?}"))
}

fn text<'a>(v: &'a Value, path: &str) -> &'a str {
    field(v, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path} is not text in {v:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actor_and_scope_cross_lua_wasm_lua() {
    let app = App::boot().await;
    let out = app.case("wasm").await;
    // The WASM guest's `funcs` call ran the Lua function with the executor's security.
    let inner = json(text(&out, "through_wasm"));
    let want = json(
        r#"{"actor":"alice","role":"admin","policies":"t:call_any","can_call":true,"can_env":false}"#,
    );
    assert_eq!(inner, want);
    assert_eq!(field(&out, "direct"), &want);
    // The executor changed nothing in the caller's own frame.
    assert_eq!(field(&out, "after"), &Value::Bool(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_processes_inherit_or_take_the_spawners_security() {
    let app = App::boot().await;
    let cx = app.acting("alice", &[], &["t:staff"]);
    let out = app.case_in(&cx, "inherit").await;
    assert_eq!(
        out,
        json(
            r#"{"actor":"alice","policies":2,"can_call":true,"can_env":false,"via_call":"alice"}"#
        )
    );

    let out = app.case("spawner").await;
    let child =
        json(r#"{"actor":"bob","policies":1,"can_call":true,"can_env":false,"via_call":"bob"}"#);
    assert_eq!(field(&out, "first"), &child);
    // with_actor alone: the child has an actor and no scope, so can() is false but every
    // check passes (not strict).
    assert_eq!(
        field(&out, "second"),
        &json(r#"{"actor":"bob","can_call":false,"can_env":false,"via_call":"bob"}"#)
    );
    assert_eq!(field(&out, "after"), &Value::Bool(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actor_with_an_empty_scope_is_denied_everywhere() {
    let app = App::boot().await;
    let out = app.case("empty").await;
    let denied = json(
        r#"{"actor":"eve","call":"PermissionDenied","spawn":"PermissionDenied","env":"PermissionDenied","can":false,"new_scope":false}"#,
    );
    assert_eq!(field(&out, "probe"), &denied);
    assert_eq!(field(&out, "process"), &denied);
    let mount = text(&out, "mount");
    assert!(
        mount.starts_with("PermissionDenied") && mount.contains("t:data"),
        "{mount}"
    );

    // From Rust: the same context is denied every check, and funcs.call at once.
    let cx = app.acting("eve", &[], &[]);
    for (action, resource) in [
        ("funcs.call", "t:whoami"),
        ("process.spawn", "t:child"),
        ("env.get", "t:greeting"),
        ("fs.get", "t:data"),
    ] {
        let err = cx.check(action, resource).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        assert_eq!(
            err.message(),
            format!("not allowed: {action} on {resource}")
        );
    }
    let err = app
        .rt
        .functions
        .call(&cx, "t:whoami", vec![])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_narrowed_scope_cannot_be_widened_by_the_callee() {
    let app = App::boot().await;
    let out = app.case("narrow").await;
    assert_eq!(
        out,
        json(
            r#"{
                "new_scope": "denied", "with": "denied", "without": "denied",
                "new_actor": "denied", "policy": "PermissionDenied",
                "named_scope": "PermissionDenied",
                "executor": "PermissionDenied not allowed: funcs.security on security",
                "spawner": "denied", "inside": "bob",
                "outside": "PermissionDenied not allowed: funcs.call on t:probe"
            }"#
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_without_permission_never_runs_the_target() {
    let app = App::boot().await;
    // May call only itself, and may write env (so the target's write would succeed).
    let cx = app.acting("mallory", &["t:call_intruder", "t:env_all"], &[]);
    let out = app
        .rt
        .functions
        .call(&cx, "t:intruder", vec![])
        .await
        .unwrap();
    assert_eq!(
        out,
        json(
            r#"{
                "call": "PermissionDenied not allowed: funcs.call on t:protected",
                "async": "PermissionDenied",
                "executor": "PermissionDenied",
                "spawn": "PermissionDenied not allowed: process.spawn on t:protected_proc",
                "spawner": true
            }"#
        )
    );
    // Give any spawned process a moment: nothing ran, nothing was written.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(app.marker(), None);
    assert!(app.rt.processes.is_empty());
    // Rust callers are held to the same rule.
    let err = app
        .rt
        .functions
        .call(&cx, "t:protected", vec![])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert_eq!(app.marker(), None);
    // The control: an allowed caller does run it.
    let ok = app.acting("admin", &["t:allow_all"], &[]);
    let v = app
        .rt
        .functions
        .call(&ok, "t:protected", vec![])
        .await
        .unwrap();
    assert_eq!(v, Value::str("secret"));
    assert_eq!(app.marker().as_deref(), Some("touched"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_conditions_over_missing_fields_never_allow() {
    let app = App::boot().await;
    let out = app.case("conditions").await;
    for (key, want) in [
        ("no_meta", "undefined"),
        ("other_owner", "undefined"),
        ("owner", "allow"),
        ("nil_actor", "undefined"),
        ("ne_missing", "undefined"),
        ("ne_other", "allow"),
        ("ne_banned", "undefined"),
        ("gte_missing", "undefined"),
        ("gte_text", "undefined"),
        ("gte_ok", "allow"),
        ("scope_missing", "undefined"),
        ("scope_allow", "allow"),
        ("scope_deny", "deny"),
        ("policy_id", "t:owner_reads"),
    ] {
        assert_eq!(text(&out, key), want, "{key}");
    }
    assert_eq!(field(&out, "contains"), &json("[true, true, true, false]"));
    assert_eq!(field(&out, "without"), &Value::Int(2));
    assert_eq!(field(&out, "original"), &Value::Int(4));
    assert_eq!(
        field(&out, "can"),
        &json(r#"{"no_meta": false, "owner": true, "other": false}"#)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_module_without_a_security_context_and_its_argument_errors() {
    let app = App::boot().await;
    let out = app.case("none").await;
    for (key, want) in [
        ("policy", "NotFound policy not found: t:nope"),
        ("group", "NotFound"),
        ("bare", "t:allow_all"),
        ("actor_text", "security.Actor{id=ann} 1"),
    ] {
        assert_eq!(text(&out, key), want, "{key}");
    }
    assert_eq!(field(&out, "group_size"), &Value::Int(2));
    for key in ["actor", "scope"] {
        assert_eq!(field(&out, key), &Value::Bool(true), "{key}");
    }
    assert_eq!(field(&out, "can"), &Value::Bool(false));
    for (key, needle) in [
        ("can_bad", "action must be a string, got integer"),
        ("can_bad_meta", "meta must be a table, got string"),
        ("actor_nil", "actor cannot be nil"),
        ("actor_type", "expected an Actor, got string"),
        ("scope_type", "expected a Scope, got userdata"),
        ("spawner_nil", "scope cannot be nil"),
        ("spawner_type", "expected an Actor, got table"),
        ("new_scope_type", "expected a Policy, got string"),
        ("with_type", "expected a Policy, got string"),
        ("evaluate_type", "expected an Actor, got string"),
    ] {
        let got = text(&out, key);
        assert!(
            got.starts_with("Invalid: ") && got.contains(needle),
            "{key}: {got}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_runs_as_its_actor_within_its_scope() {
    let app = App::boot().await;
    assert_eq!(app.rt.services.start_all().await.unwrap(), 1);
    let mut report = None;
    for _ in 0..500 {
        report = app.env.get(&app.rt.root_context(), "t:report").unwrap();
        if report.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let report = json(&report.expect("the service wrote no report"));
    assert_eq!(
        report,
        json(
            r#"{
                "actor": "svc-bot", "team": "ops", "whoami": "svc-bot",
                "probe": "PermissionDenied", "spawn": "PermissionDenied",
                "can_env": true, "can_call_probe": false
            }"#
        )
    );
    app.rt.services.stop_all(Duration::from_millis(100)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_naming_an_unknown_policy_fails_the_boot() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/_index.yaml"),
        r#"namespace: t
entries:
  - {name: host, kind: process.host}
  - {name: p, kind: process.lua, source: "return {run = function() end}", method: run}
  - name: svc
    kind: process.service
    process: p
    host: host
    lifecycle:
      security: {actor: {id: bot}, policies: [typo]}
"#,
    )
    .unwrap();
    let opts = LoadOptions {
        root: dir.path().to_path_buf(),
        ..LoadOptions::default()
    };
    let err = match boot_app(&opts, &BootOptions::default()).await {
        Ok(_) => panic!("booted with an unknown policy"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("t:svc")
            && err.contains("lifecycle.security.policies[0]")
            && err.contains("policy not found: t:typo"),
        "{err}"
    );
}
