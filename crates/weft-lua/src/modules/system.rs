//! `system`: what Lua code may learn about weft, its host and its own VM, and the few
//! knobs of its VM it may turn (spec `wippy-modules/system.md`).
//!
//! Every function checks its permission first (`system.read`, `system.control`,
//! `system.gc` or `system.lock` on the resource the spec names) in the caller's frame;
//! a denial is `nil, err` with kind PermissionDenied. Results are `value, nil`, failures
//! `nil, err`, never raised.
//!
//! Go's runtime has no counterpart here: "memory" is the calling VM's Lua heap (and the
//! process' resident memory), "gc" is that VM's collector, "goroutines" are the tokio
//! tasks alive. weft is a single node: `node`, `cluster` and `raft` answer as such.

use std::os::raw::c_int;

use mlua::state::{GcGenParams, GcMode};
use mlua::{Function, Lua, Table, Value as LuaValue};
use weft_core::{Error, Map, Result, Value};
use weft_runtime::{ServiceState, ServiceStatus};

use super::args::integer;
use crate::{convert, errors, frame, run};

/// The memory limits of one VM, once `system.memory` first looked at them.
#[derive(Clone, Copy)]
struct MemoryLimits {
    /// The entry's limit (`limits.max_memory_mb`): the most `set_limit` may set.
    entry: usize,
    /// The limit in force (0: none).
    current: usize,
}

/// The GC percent last set in a VM (Lua's generational major multiplier).
#[derive(Clone, Copy)]
struct GcPercent(i64);

/// Lua's default major multiplier, Go's default GC percent.
const DEFAULT_GC_PERCENT: i64 = 100;

/// The largest GC percent Lua can hold (it keeps it in a byte, in steps of 4).
const MAX_GC_PERCENT: i64 = 1000;

/// The message of everything Raft.
const NO_RAFT: &str = "raft is not available: weft runs as a single node";

/// Builds the `system` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("modules", reader(lua, "modules", |_| Ok(modules()))?)?;
    t.set("hosts", reader(lua, "hosts", hosts)?)?;
    t.set("memory", memory(lua)?)?;
    t.set("gc", gc(lua)?)?;
    t.set("runtime", runtime(lua)?)?;
    t.set("process", process(lua)?)?;
    t.set("node", node(lua)?)?;
    t.set("cluster", cluster(lua)?)?;
    t.set("raft", raft(lua)?)?;
    t.set("lock", lock(lua)?)?;
    t.set("supervisor", supervisor(lua)?)?;
    Ok(t)
}

/// `system.memory`: the VM's heap and limit, the process' resident memory.
fn memory(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "stats",
        reader(lua, "memory", |lua| {
            let used = int(lua.used_memory());
            let mut stats = Map::new();
            for key in ["alloc", "heap_alloc", "heap_in_use"] {
                stats.insert(key.to_string(), used.clone());
            }
            if let Some(usage) = memory_stats::memory_stats() {
                stats.insert("sys".to_string(), int(usage.physical_mem));
            }
            Ok(Value::map(stats))
        })?,
    )?;
    t.set(
        "allocated",
        reader(lua, "memory", |lua| Ok(int(lua.used_memory())))?,
    )?;
    t.set(
        "get_limit",
        reader(lua, "memory_limit", |lua| {
            Ok(limit_value(memory_limits(lua)?.current))
        })?,
    )?;
    t.set(
        "set_limit",
        lua.create_function(|lua, limit: LuaValue| {
            let set = allowed(lua, "system.control", "memory_limit")
                .and_then(|()| set_limit(lua, &limit));
            answer(lua, set)
        })?,
    )?;
    Ok(t)
}

/// `system.gc`: the VM's collector.
fn gc(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "collect",
        lua.create_function(|lua, ()| {
            let collected = allowed(lua, "system.gc", "gc").and_then(|()| {
                lua.gc_collect()
                    .map(|()| Value::Bool(true))
                    .map_err(|e| errors::from_mlua(&e))
            });
            answer(lua, collected)
        })?,
    )?;
    t.set(
        "set_percent",
        lua.create_function(|lua, percent: LuaValue| {
            let set = allowed(lua, "system.gc", "gc_percent").and_then(|()| {
                let percent = match integer(&percent, "percent")? {
                    Some(p) if (1..=MAX_GC_PERCENT).contains(&p) => p,
                    Some(p) => {
                        return Err(Error::invalid(format!(
                            "percent must be between 1 and {MAX_GC_PERCENT}, got {p}"
                        )));
                    }
                    None => return Err(Error::invalid("percent is required")),
                };
                let previous = gc_percent(lua);
                let multiplier = c_int::try_from(percent).unwrap_or(c_int::MAX);
                lua.gc_set_mode(GcMode::Generational(
                    GcGenParams::default().minor_to_major(multiplier),
                ));
                lua.set_app_data(GcPercent(percent));
                Ok(Value::Int(previous))
            });
            answer(lua, set)
        })?,
    )?;
    t.set(
        "get_percent",
        reader(lua, "gc_percent", |lua| Ok(Value::Int(gc_percent(lua))))?,
    )?;
    Ok(t)
}

/// `system.runtime`: tasks, worker threads, CPUs, and weft's version and platform.
fn runtime(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "goroutines",
        reader(lua, "goroutines", |_| {
            Ok(int(tokio_metrics()?.num_alive_tasks()))
        })?,
    )?;
    t.set(
        "max_procs",
        lua.create_function(|lua, n: LuaValue| {
            let procs = if n.is_nil() {
                allowed(lua, "system.read", "gomaxprocs")
                    .and_then(|()| Ok(int(tokio_metrics()?.num_workers())))
            } else {
                allowed(lua, "system.control", "gomaxprocs").and_then(|()| {
                    let workers = tokio_metrics()?.num_workers();
                    match integer(&n, "n")? {
                        Some(n) if n > 0 => Err(Error::invalid(format!(
                            "the worker threads are fixed when weft starts ({workers} now)"
                        ))),
                        _ => Err(Error::invalid("n must be greater than 0")),
                    }
                })
            };
            answer(lua, procs)
        })?,
    )?;
    t.set(
        "cpu_count",
        reader(lua, "cpu", |_| {
            std::thread::available_parallelism()
                .map(|n| int(n.get()))
                .map_err(|e| Error::internal(format!("cannot count the CPUs: {e}")))
        })?,
    )?;
    t.set(
        "version",
        reader(lua, "runtime", |_| {
            Ok(Value::str(env!("CARGO_PKG_VERSION")))
        })?,
    )?;
    t.set(
        "os",
        reader(lua, "runtime", |_| Ok(Value::str(std::env::consts::OS)))?,
    )?;
    t.set(
        "arch",
        reader(lua, "runtime", |_| Ok(Value::str(std::env::consts::ARCH)))?,
    )?;
    Ok(t)
}

/// `system.process`: the weft process itself.
fn process(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "pid",
        reader(lua, "pid", |_| Ok(Value::Int(std::process::id().into())))?,
    )?;
    t.set(
        "hostname",
        reader(lua, "hostname", |_| Ok(Value::str(hostname())))?,
    )?;
    Ok(t)
}

/// `system.node`: this node, named by its host name; never a Raft member.
fn node(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("id", reader(lua, "node", |_| Ok(Value::str(hostname())))?)?;
    t.set(
        "addr",
        reader(lua, "node", |_| {
            Err(Error::internal(
                "weft runs as a single node: it advertises no cluster address",
            ))
        })?,
    )?;
    t.set(
        "role",
        reader(lua, "node", |_| Ok(Value::str("non-member")))?,
    )?;
    Ok(t)
}

/// `system.cluster`: a cluster of one.
fn cluster(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "members",
        reader(lua, "cluster", |_| {
            let mut me = Map::new();
            me.insert("id".to_string(), Value::str(hostname()));
            me.insert("is_local".to_string(), Value::Bool(true));
            Ok(Value::array(vec![Value::map(me)]))
        })?,
    )?;
    t.set("leader", reader(lua, "cluster", |_| Ok(Value::str("")))?)?;
    t.set("size", reader(lua, "cluster", |_| Ok(Value::Int(1)))?)?;
    Ok(t)
}

/// `system.raft`: not available (after the permission check, as the spec orders it).
fn raft(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for name in ["is_leader", "is_member", "role", "term", "commit_index"] {
        t.set(
            name,
            reader(lua, "raft", |_| Err(Error::internal(NO_RAFT)))?,
        )?;
    }
    t.set(
        "stats",
        reader(lua, "raft_stats", |_| Err(Error::internal(NO_RAFT)))?,
    )?;
    Ok(t)
}

/// `system.lock`: named locks held by the calling frame's pid, in the runtime's name
/// registry, so they are released when the holder ends.
fn lock(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "acquire",
        lua.create_function(|lua, name: LuaValue| {
            let held = lock_name(lua, &name).and_then(|(name, pid)| {
                let rt = frame::runtime(lua).map_err(|e| errors::from_mlua(&e))?;
                rt.processes
                    .register_name(&rt.system_context(), &name, &pid)
                    .map(|()| Value::Bool(true))
            });
            match held {
                Err(e) if e.kind() == weft_core::ErrorKind::AlreadyExists => {
                    Ok((LuaValue::Boolean(false), errors::push(lua, e)?))
                }
                held => answer(lua, held),
            }
        })?,
    )?;
    t.set(
        "release",
        lua.create_function(|lua, name: LuaValue| {
            let released = lock_name(lua, &name).and_then(|(name, pid)| {
                let rt = frame::runtime(lua).map_err(|e| errors::from_mlua(&e))?;
                if rt.processes.lookup_name(&name).as_deref() != Some(pid.as_str()) {
                    return Ok(Value::Bool(false));
                }
                rt.processes
                    .unregister_name(&rt.system_context(), &name)
                    .map(Value::Bool)
            });
            answer(lua, released)
        })?,
    )?;
    Ok(t)
}

/// `system.supervisor`: the services' states.
fn supervisor(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "state",
        lua.create_function(|lua, id: LuaValue| {
            let state = allowed(lua, "system.read", "supervisor").and_then(|()| {
                let id = match &id {
                    LuaValue::String(s) if !s.as_bytes().is_empty() => s.to_string_lossy(),
                    LuaValue::String(_) | LuaValue::Nil => {
                        return Err(Error::invalid("service_id is required"));
                    }
                    other => {
                        return Err(Error::invalid(format!(
                            "service_id must be a string, got {}",
                            other.type_name()
                        )));
                    }
                };
                let rt = frame::runtime(lua).map_err(|e| errors::from_mlua(&e))?;
                let status = rt
                    .services
                    .status(&id)
                    .ok_or_else(|| Error::not_found(format!("service not found: {id}")))?;
                Ok(service_state(&id, &status))
            });
            answer(lua, state)
        })?,
    )?;
    t.set(
        "states",
        reader(lua, "supervisor", |lua| {
            let rt = frame::runtime(lua).map_err(|e| errors::from_mlua(&e))?;
            let states = rt
                .services
                .ids()
                .iter()
                .filter_map(|id| {
                    let status = rt.services.status(id.as_str())?;
                    Some(service_state(id.as_str(), &status))
                })
                .collect();
            Ok(Value::array(states))
        })?,
    )?;
    Ok(t)
}

/// A function that checks `system.read` on `resource`, then answers `f`.
fn reader(
    lua: &Lua,
    resource: &'static str,
    f: impl Fn(&Lua) -> Result<Value> + Send + 'static,
) -> mlua::Result<Function> {
    lua.create_function(move |lua, ()| {
        let out = allowed(lua, "system.read", resource).and_then(|()| f(lua));
        answer(lua, out)
    })
}

/// The permission check of `action` on `resource` in the caller's frame.
fn allowed(lua: &Lua, action: &str, resource: &str) -> Result<()> {
    frame::current(lua).check(action, resource)
}

/// `value, nil` or `nil, err`.
fn answer(lua: &Lua, out: Result<Value>) -> mlua::Result<(LuaValue, LuaValue)> {
    match out {
        Ok(v) => Ok((convert::to_lua(lua, &v)?, LuaValue::Nil)),
        Err(e) => errors::fail(lua, e),
    }
}

/// The modules weft provides, in the spec's shape (weft keeps no descriptions).
fn modules() -> Value {
    let list = super::AVAILABLE
        .iter()
        .map(|name| {
            let mut m = Map::new();
            m.insert("name".to_string(), Value::str(*name));
            m.insert("description".to_string(), Value::str(""));
            m.insert("class".to_string(), Value::array(Vec::new()));
            Value::map(m)
        })
        .collect();
    Value::array(list)
}

/// The process hosts that ran a process, with their load and cap.
fn hosts(lua: &Lua) -> Result<Value> {
    let rt = frame::runtime(lua).map_err(|e| errors::from_mlua(&e))?;
    let list = rt
        .processes
        .hosts()
        .into_iter()
        .map(|h| {
            let mut m = Map::new();
            m.insert("id".to_string(), Value::str(h.host));
            m.insert("running".to_string(), int(h.running));
            m.insert("max_processes".to_string(), int(h.max_processes));
            Value::map(m)
        })
        .collect();
    Ok(Value::array(list))
}

/// `set_limit(limit)`: at most the entry's limit; -1 restores it. Returns the previous.
fn set_limit(lua: &Lua, limit: &LuaValue) -> Result<Value> {
    let limits = memory_limits(lua)?;
    let new = match integer(limit, "limit")? {
        None => return Err(Error::invalid("limit is required")),
        Some(-1) => limits.entry,
        Some(n) if n > 0 => {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if limits.entry != 0 && n > limits.entry {
                return Err(Error::invalid(format!(
                    "limit cannot be raised above the entry's limits.max_memory_mb ({} bytes)",
                    limits.entry
                )));
            }
            n
        }
        Some(n) => {
            return Err(Error::invalid(format!(
                "limit must be a positive number of bytes or -1, got {n}"
            )));
        }
    };
    lua.set_memory_limit(new)
        .map_err(|e| errors::from_mlua(&e))?;
    lua.set_app_data(MemoryLimits {
        current: new,
        ..limits
    });
    Ok(limit_value(limits.current))
}

/// The VM's limits, read once (mlua has no getter: setting a limit returns the one
/// before, which is put back at once).
fn memory_limits(lua: &Lua) -> Result<MemoryLimits> {
    if let Some(limits) = lua.app_data_ref::<MemoryLimits>() {
        return Ok(*limits);
    }
    let internal = |e: mlua::Error| errors::from_mlua(&e);
    let current = lua.set_memory_limit(usize::MAX).map_err(internal)?;
    lua.set_memory_limit(current).map_err(internal)?;
    let limits = MemoryLimits {
        entry: current,
        current,
    };
    lua.set_app_data(limits);
    Ok(limits)
}

/// A limit for Lua: bytes, or -1 for none.
fn limit_value(limit: usize) -> Value {
    match limit {
        0 => Value::Int(-1),
        n => int(n),
    }
}

/// The VM's GC percent.
fn gc_percent(lua: &Lua) -> i64 {
    lua.app_data_ref::<GcPercent>()
        .map_or(DEFAULT_GC_PERCENT, |p| p.0)
}

/// The calling frame's lock `name` and pid (a call gets its own pid on first use).
fn lock_name(lua: &Lua, name: &LuaValue) -> Result<(String, String)> {
    let name = match name {
        LuaValue::String(s) if !s.as_bytes().is_empty() => s.to_string_lossy(),
        LuaValue::String(_) | LuaValue::Nil => return Err(Error::invalid("lock name is required")),
        other => {
            return Err(Error::invalid(format!(
                "lock name must be a string, got {}",
                other.type_name()
            )));
        }
    };
    allowed(lua, "system.lock", &name)?;
    let cx = run::own_context(lua)
        .map_err(|e| Error::internal(format!("caller PID unavailable: {}", e.message())))?;
    let pid = cx
        .pid()
        .ok_or_else(|| Error::internal("caller PID unavailable"))?;
    Ok((name, pid.to_string()))
}

/// The spec's state table of a service (no timestamps: weft keeps none).
fn service_state(id: &str, status: &ServiceStatus) -> Value {
    let desired = match status.state {
        ServiceState::Running | ServiceState::Backoff => "running",
        ServiceState::Stopped | ServiceState::Failed => "stopped",
    };
    let mut m = Map::new();
    m.insert("id".to_string(), Value::str(id));
    m.insert("status".to_string(), Value::str(status.state.to_string()));
    m.insert("desired".to_string(), Value::str(desired));
    m.insert(
        "retry_count".to_string(),
        Value::Int(status.restarts.into()),
    );
    if let Some(pid) = &status.running_pid {
        m.insert("pid".to_string(), Value::str(&**pid));
    }
    if let Some(e) = &status.last_error {
        m.insert("details".to_string(), Value::str(e.to_string()));
    }
    Value::map(m)
}

/// The metrics of the tokio runtime running this call.
fn tokio_metrics() -> Result<tokio::runtime::RuntimeMetrics> {
    tokio::runtime::Handle::try_current()
        .map(|h| h.metrics())
        .map_err(|e| Error::internal(format!("no tokio runtime: {e}")))
}

/// The host name (lossy when it is not UTF-8).
fn hostname() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

/// A count as an integer value.
fn int(n: usize) -> Value {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}
