//! The `system` module end to end: an app with a process host, two services and Lua
//! functions, booted from disk through the real loader. The answers are checked against
//! what the test sees itself (its pid, host name, CPUs, worker threads, the services'
//! processes), the VM knobs by their effect (a lowered memory limit refuses a big
//! string), and every function's permission check under a denying policy and in
//! strict mode.

use std::path::Path;
use std::sync::Arc;

use weft_core::{Actor, CallContext, Decision, EntryId, Map, Policy, Scope, Value};
use weft_lua::{Capabilities, LuaEngine};
use weft_registry::{BootOptions, KindHandler, LoadOptions, boot, load_app};
use weft_runtime::{HostHandler, Runtime, ServiceHandler};

const INDEX: &str = r#"
namespace: app
entries:
  - {name: host, kind: process.host, lifecycle: {auto_start: true}}
  - name: svc
    kind: process.service
    process: worker
    host: host
    lifecycle: {auto_start: true}
  - {name: idle_svc, kind: process.service, process: worker, host: host}
  - name: worker
    kind: process.lua
    modules: [time]
    method: main
    source: |
      local M = {}
      function M.main() while true do time.sleep("20ms") end end
      return M
  - name: f
    kind: function.lua
    source: file://run.lua
    method: run
    modules: [system, funcs]
    pool: {type: static, workers: 1, size: 1}
  - name: g
    kind: function.lua
    source: file://run.lua
    method: run
    modules: [system]
"#;

/// Runs the Lua snippet it is given, with `k(value, err)` (the error kind, or "ok") and
/// `msg(value, err)` (the error message) at hand.
const RUNNER: &str = r#"
local M = {}
function k(value, err)
  if err ~= nil then return err:kind() end
  if value == nil or value == false then return "no error but " .. tostring(value) end
  return "ok"
end
function msg(value, err) return err and err:message() or "no error" end
function M.run(code) return assert(load(code, "=snippet"))() end
return M
"#;

async fn boot_app(extra: &[(&str, &str)]) -> (tempfile::TempDir, Arc<Runtime>) {
    let dir = tempfile::tempdir().unwrap();
    let mut files = vec![("src/_index.yaml", INDEX), ("src/run.lua", RUNNER)];
    files.extend_from_slice(extra);
    for (path, text) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
    let rt = match boot_dir(dir.path()).await {
        Ok(rt) => rt,
        Err(e) => panic!("boot failed:\n{e}"),
    };
    (dir, rt)
}

async fn boot_dir(root: &Path) -> Result<Arc<Runtime>, weft_registry::LoadErrors> {
    let app = load_app(&LoadOptions {
        root: root.to_path_buf(),
        ..LoadOptions::default()
    })?;
    let rt = Runtime::new(app.root.clone(), app.config.clone());
    let caps = Capabilities {
        env: Arc::new(weft_env::EnvRegistry::new(app.root.clone())),
        fs: Arc::new(weft_fs::FsRegistry::new(app.root.clone())),
        http: Arc::new(weft_http::HttpClient::new()),
        store: Arc::new(weft_store::StoreRegistry::new(rt.policies.clone())),
    };
    let handlers: Vec<Arc<dyn KindHandler>> = vec![
        Arc::new(LuaEngine::new(&rt, caps)),
        Arc::new(HostHandler),
        Arc::new(ServiceHandler::new(&rt)),
    ];
    boot(&app, &rt.registry, &handlers, &BootOptions::default()).await?;
    Ok(rt)
}

async fn run(rt: &Runtime, cx: &CallContext, id: &str, code: &str) -> Value {
    match rt.functions.call(cx, id, vec![Value::str(code)]).await {
        Ok(v) => v,
        Err(e) => panic!("call failed: {e}\n{code}"),
    }
}

fn get<'a>(v: &'a Value, path: &str) -> &'a Value {
    v.get_path(path)
        .unwrap_or_else(|| panic!("{path} missing in {v:?}"))
}

fn text<'a>(v: &'a Value, path: &str) -> &'a str {
    get(v, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path} is not a string in {v:?}"))
}

fn int(v: &Value, path: &str) -> i64 {
    get(v, path)
        .as_int()
        .unwrap_or_else(|| panic!("{path} is not an integer in {v:?}"))
}

fn flag(v: &Value, path: &str) -> bool {
    get(v, path)
        .as_bool()
        .unwrap_or_else(|| panic!("{path} is not a boolean in {v:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_and_gc_act_on_the_calling_vm() {
    let (_dir, rt) = boot_app(&[]).await;
    let r = run(
        &rt,
        &rt.root_context(),
        "app:f",
        r#"
        local out = {}
        local stats = system.memory.stats()
        out.alloc, out.heap_alloc, out.heap_in_use, out.sys =
          stats.alloc, stats.heap_alloc, stats.heap_in_use, stats.sys
        out.allocated = system.memory.allocated()
        out.limit = system.memory.get_limit()
        out.prev = system.memory.set_limit(8 * 1024 * 1024)
        out.limit2 = system.memory.get_limit()
        out.big_refused = not pcall(string.rep, "x", 16 * 1024 * 1024)
        out.restored = system.memory.set_limit(-1)
        out.limit3 = system.memory.get_limit()
        out.big_ok = pcall(string.rep, "x", 16 * 1024 * 1024)
        out.raise = k(system.memory.set_limit(2^40))
        out.neg = k(system.memory.set_limit(-5))
        out.zero = k(system.memory.set_limit(0))
        out.none = k(system.memory.set_limit())
        out.str = k(system.memory.set_limit("x"))
        out.frac = k(system.memory.set_limit(1.5))

        local t = {}
        for i = 1, 200000 do t[i] = {i} end
        local before = system.memory.allocated()
        t = nil
        out.collect = k(system.gc.collect())
        out.freed = before - system.memory.allocated()
        out.pct = system.gc.get_percent()
        out.prev_pct = system.gc.set_percent(200)
        out.pct2 = system.gc.get_percent()
        out.pct_zero = k(system.gc.set_percent(0))
        out.pct_big = k(system.gc.set_percent(5000))
        out.pct_str = k(system.gc.set_percent("a"))
        out.pct_none = k(system.gc.set_percent())
        out.pct3 = system.gc.get_percent()
        return out
        "#,
    )
    .await;
    let alloc = int(&r, "alloc");
    assert!(alloc > 0);
    assert_eq!(int(&r, "heap_alloc"), alloc);
    assert_eq!(int(&r, "heap_in_use"), alloc);
    assert!(int(&r, "sys") > alloc, "{r:?}");
    assert!(int(&r, "allocated") > 0);
    // The default limits.max_memory_mb: 256 MB.
    assert_eq!(int(&r, "limit"), 256 << 20);
    assert_eq!(int(&r, "prev"), 256 << 20);
    assert_eq!(int(&r, "limit2"), 8 << 20);
    assert!(flag(&r, "big_refused"), "{r:?}");
    assert_eq!(int(&r, "restored"), 8 << 20);
    assert_eq!(int(&r, "limit3"), 256 << 20);
    assert!(flag(&r, "big_ok"));
    for key in ["raise", "neg", "zero", "none", "str", "frac"] {
        assert_eq!(text(&r, key), "Invalid", "{key}: {r:?}");
    }
    assert_eq!(text(&r, "collect"), "ok");
    assert!(int(&r, "freed") > 1 << 20, "{r:?}");
    assert_eq!(int(&r, "pct"), 100);
    assert_eq!(int(&r, "prev_pct"), 100);
    assert_eq!(int(&r, "pct2"), 200);
    for key in ["pct_zero", "pct_big", "pct_str", "pct_none"] {
        assert_eq!(text(&r, key), "Invalid", "{key}: {r:?}");
    }
    assert_eq!(int(&r, "pct3"), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_process_and_cluster_answers() {
    let (_dir, rt) = boot_app(&[]).await;
    let waiting: Vec<_> = (0..3)
        .map(|_| tokio::spawn(std::future::pending::<()>()))
        .collect();
    let r = run(
        &rt,
        &rt.root_context(),
        "app:f",
        r#"
        local out = {}
        out.tasks = system.runtime.goroutines()
        out.procs = system.runtime.max_procs()
        out.set_procs = k(system.runtime.max_procs(4))
        out.zero_procs = k(system.runtime.max_procs(0))
        out.bad_procs = k(system.runtime.max_procs("x"))
        out.cpus = system.runtime.cpu_count()
        out.version = system.runtime.version()
        out.os = system.runtime.os()
        out.arch = system.runtime.arch()
        out.pid = system.process.pid()
        out.hostname = system.process.hostname()
        out.node = system.node.id()
        out.addr = k(system.node.addr())
        out.role = system.node.role()
        out.members = system.cluster.members()
        out.leader = system.cluster.leader()
        out.size = system.cluster.size()
        for _, name in ipairs({"is_leader", "is_member", "role", "term", "commit_index", "stats"}) do
          local v, e = system.raft[name]()
          out["raft_" .. name] = tostring(v) .. " " .. e:kind() .. " " .. e:message()
        end
        local names = {}
        for _, m in ipairs(system.modules()) do
          names[#names + 1] = m.name
          assert(m.description == "" and type(m.class) == "table", m.name)
        end
        out.modules = "," .. table.concat(names, ",") .. ","
        return out
        "#,
    )
    .await;
    // The three tasks above (the call itself runs on the test's own task).
    assert!(int(&r, "tasks") >= 3, "{r:?}");
    for task in waiting {
        task.abort();
    }
    assert_eq!(int(&r, "procs"), 2);
    for key in ["set_procs", "zero_procs", "bad_procs"] {
        assert_eq!(text(&r, key), "Invalid", "{key}: {r:?}");
    }
    let cpus = std::thread::available_parallelism().unwrap().get();
    assert_eq!(int(&r, "cpus"), cpus as i64);
    assert_eq!(text(&r, "version"), env!("CARGO_PKG_VERSION"));
    assert_eq!(text(&r, "os"), std::env::consts::OS);
    assert_eq!(text(&r, "arch"), std::env::consts::ARCH);
    assert_eq!(int(&r, "pid"), i64::from(std::process::id()));
    #[cfg(target_os = "linux")]
    {
        let kernel = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        assert_eq!(text(&r, "hostname"), kernel.trim());
    }
    let host = text(&r, "hostname");
    assert_eq!(text(&r, "node"), host);
    assert_eq!(text(&r, "addr"), "Internal");
    assert_eq!(text(&r, "role"), "non-member");
    let members = get(&r, "members").as_array().unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(text(&members[0], "id"), host);
    assert!(flag(&members[0], "is_local"));
    assert_eq!(text(&r, "leader"), "");
    assert_eq!(int(&r, "size"), 1);
    for name in [
        "is_leader",
        "is_member",
        "role",
        "term",
        "commit_index",
        "stats",
    ] {
        assert_eq!(
            text(&r, &format!("raft_{name}")),
            "nil Internal raft is not available: weft runs as a single node"
        );
    }
    for module in ["fs", "system", "json", "funcs"] {
        assert!(
            text(&r, "modules").contains(&format!(",{module},")),
            "{r:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_and_services_come_from_the_runtime() {
    let (_dir, rt) = boot_app(&[]).await;
    assert_eq!(rt.services.start_all().await.unwrap(), 1);
    let r = run(
        &rt,
        &rt.root_context(),
        "app:f",
        r#"
        local out = {}
        out.hosts = system.hosts()
        out.svc = system.supervisor.state("app:svc")
        out.idle = system.supervisor.state("app:idle_svc")
        out.states = system.supervisor.states()
        out.missing = k(system.supervisor.state("app:nope"))
        out.empty = k(system.supervisor.state(""))
        out.number = k(system.supervisor.state(5))
        out.none = k(system.supervisor.state())
        return out
        "#,
    )
    .await;
    let hosts = get(&r, "hosts").as_array().unwrap();
    let host = hosts
        .iter()
        .find(|h| h.get("id").and_then(Value::as_str) == Some("app:host"))
        .unwrap_or_else(|| panic!("app:host missing in {hosts:?}"));
    let metrics = rt.processes.hosts();
    let expected = metrics.iter().find(|h| h.host == "app:host").unwrap();
    assert_eq!(int(host, "running"), expected.running as i64);
    assert!(int(host, "running") >= 1);
    assert_eq!(int(host, "max_processes"), expected.max_processes as i64);

    assert_eq!(text(&r, "svc.id"), "app:svc");
    assert_eq!(text(&r, "svc.status"), "running");
    assert_eq!(text(&r, "svc.desired"), "running");
    assert_eq!(int(&r, "svc.retry_count"), 0);
    let pid = text(&r, "svc.pid");
    assert_eq!(
        rt.processes
            .get(pid)
            .map(|p| p.entry().as_str().to_string()),
        Some("app:worker".to_string())
    );
    assert_eq!(text(&r, "idle.status"), "stopped");
    assert_eq!(text(&r, "idle.desired"), "stopped");
    assert!(get(&r, "idle").get("pid").is_none());
    let states: Vec<&str> = get(&r, "states")
        .as_array()
        .unwrap()
        .iter()
        .map(|s| text(s, "id"))
        .collect();
    assert_eq!(states, ["app:idle_svc", "app:svc"]);
    assert_eq!(text(&r, "missing"), "NotFound");
    for key in ["empty", "number", "none"] {
        assert_eq!(text(&r, key), "Invalid", "{key}: {r:?}");
    }
    rt.services
        .stop_all(std::time::Duration::from_secs(2))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locks_belong_to_the_calling_frame() {
    let (_dir, rt) = boot_app(&[]).await;
    let cx = rt.root_context();
    let r = run(
        &rt,
        &cx,
        "app:f",
        r#"
        local out = {}
        out.acquire = k(system.lock.acquire("L"))
        out.again = k(system.lock.acquire("L"))
        out.other = funcs.call("app:g", [[
          local held, err = system.lock.acquire("L")
          return {held = held, kind = err and err:kind(), released = system.lock.release("L")}
        ]])
        out.release = system.lock.release("L")
        out.release_again = system.lock.release("L")
        out.reacquire = k(system.lock.acquire("L"))
        out.empty = k(system.lock.acquire(""))
        out.number = k(system.lock.acquire(7))
        return out
        "#,
    )
    .await;
    assert_eq!(text(&r, "acquire"), "ok");
    assert_eq!(text(&r, "again"), "ok");
    assert!(!flag(&r, "other.held"));
    assert_eq!(text(&r, "other.kind"), "AlreadyExists");
    assert!(!flag(&r, "other.released"));
    assert!(flag(&r, "release"));
    assert!(!flag(&r, "release_again"));
    assert_eq!(text(&r, "reacquire"), "ok");
    assert_eq!(text(&r, "empty"), "Invalid");
    assert_eq!(text(&r, "number"), "Invalid");
    // The holder's frame ended with its call: the lock went with it.
    assert_eq!(rt.processes.lookup_name("L"), None);
    let r = run(
        &rt,
        &cx,
        "app:g",
        r#"return {held = k(system.lock.acquire("L"))}"#,
    )
    .await;
    assert_eq!(text(&r, "held"), "ok");
}

/// Allows `funcs.call` and `system.read` on `memory`; everything else is undefined.
struct MemoryOnly(EntryId);

impl Policy for MemoryOnly {
    fn id(&self) -> &EntryId {
        &self.0
    }

    fn evaluate(&self, _: &Actor, action: &str, resource: &str, _: Option<&Map>) -> Decision {
        if action == "funcs.call" || (action == "system.read" && resource == "memory") {
            Decision::Allow
        } else {
            Decision::Undefined
        }
    }
}

const DENIED: &str = r#"
local out = {}
out.allowed = k(system.memory.allocated())
for name, f in pairs({
  pid = system.process.pid, hostname = system.process.hostname,
  limit = function() return system.memory.set_limit(1000) end,
  get_limit = system.memory.get_limit,
  collect = system.gc.collect,
  percent = function() return system.gc.set_percent(50) end,
  get_percent = system.gc.get_percent,
  tasks = system.runtime.goroutines,
  procs = system.runtime.max_procs,
  set_procs = function() return system.runtime.max_procs(2) end,
  cpus = system.runtime.cpu_count, version = system.runtime.version,
  modules = system.modules, hosts = system.hosts,
  node = system.node.id, members = system.cluster.members,
  raft = system.raft.term, raft_stats = system.raft.stats,
  lock = function() return system.lock.acquire("L") end,
  unlock = function() return system.lock.release("L") end,
  state = function() return system.supervisor.state("app:svc") end,
  states = system.supervisor.states,
}) do
  local v, e = f()
  out[name] = tostring(v) .. " " .. (e and (e:kind() .. ": " .. e:message()) or "allowed")
end
return out
"#;

#[tokio::test]
async fn every_function_checks_its_permission() {
    let (_dir, rt) = boot_app(&[]).await;
    let policy: Arc<dyn Policy> = Arc::new(MemoryOnly(EntryId::new("app", "p")));
    let cx = rt
        .root_context()
        .with_actor(Some(Actor::new("tester", Map::new())))
        .with_scope(Some(Scope::new([policy])));
    let r = run(&rt, &cx, "app:f", DENIED).await;
    assert_eq!(text(&r, "allowed"), "ok");
    for (name, action, resource) in [
        ("pid", "system.read", "pid"),
        ("hostname", "system.read", "hostname"),
        ("limit", "system.control", "memory_limit"),
        ("get_limit", "system.read", "memory_limit"),
        ("collect", "system.gc", "gc"),
        ("percent", "system.gc", "gc_percent"),
        ("get_percent", "system.read", "gc_percent"),
        ("tasks", "system.read", "goroutines"),
        ("procs", "system.read", "gomaxprocs"),
        ("set_procs", "system.control", "gomaxprocs"),
        ("cpus", "system.read", "cpu"),
        ("version", "system.read", "runtime"),
        ("modules", "system.read", "modules"),
        ("hosts", "system.read", "hosts"),
        ("node", "system.read", "node"),
        ("members", "system.read", "cluster"),
        ("raft", "system.read", "raft"),
        ("raft_stats", "system.read", "raft_stats"),
        ("lock", "system.lock", "L"),
        ("unlock", "system.lock", "L"),
        ("state", "system.read", "supervisor"),
        ("states", "system.read", "supervisor"),
    ] {
        assert_eq!(
            text(&r, name),
            format!("nil PermissionDenied: not allowed: {action} on {resource}"),
            "{name}"
        );
    }
    // The denied set_limit and set_percent changed nothing.
    let r = run(
        &rt,
        &rt.root_context(),
        "app:f",
        "return {limit = system.memory.get_limit(), pct = system.gc.get_percent()}",
    )
    .await;
    assert_eq!(int(&r, "limit"), 256 << 20);
    assert_eq!(int(&r, "pct"), 100);
    assert_eq!(rt.processes.lookup_name("L"), None);
}

#[tokio::test]
async fn strict_mode_denies_without_a_security_context() {
    let (_dir, rt) = boot_app(&[(
        ".wippy.yaml",
        "version: \"1.0\"\nsecurity:\n  strict_mode: true\n",
    )])
    .await;
    let r = run(
        &rt,
        &rt.system_context(),
        "app:f",
        r#"
        local v, e = system.memory.allocated()
        return {v = tostring(v), kind = e:kind(), message = e:message()}
        "#,
    )
    .await;
    assert_eq!(text(&r, "v"), "nil");
    assert_eq!(text(&r, "kind"), "PermissionDenied");
    assert_eq!(text(&r, "message"), "not allowed: system.read on memory");
}
