//! `process`: spawn, message, monitor and link processes (reference §4.5). Present in
//! every function and process entry. Operations go through the runtime's process table,
//! which does the permission checks.

use std::time::Duration;

use mlua::{Lua, MultiValue, Table, UserData, UserDataMethods, Value as LuaValue};
use weft_core::{Actor, CallContext, Error, Map, Result, Scope, Value};
use weft_runtime::{ProcessTable, Spawn};

use crate::chan::LuaChannel;
use crate::modules::security;
use crate::{convert, errors, frame, run};

/// Builds the `process` table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let event = lua.create_table()?;
    event.set("EXIT", "pid.exit")?;
    event.set("LINK_DOWN", "pid.link.down")?;
    event.set("CANCEL", "pid.cancel")?;
    t.set("event", event)?;

    t.set(
        "pid",
        lua.create_function(|lua, ()| {
            Ok(run::own_context(lua)
                .ok()
                .and_then(|cx| cx.pid().map(str::to_string)))
        })?,
    )?;
    t.set(
        "id",
        lua.create_function(|lua, ()| match frame::current(lua).entry() {
            Some(id) => Ok((
                LuaValue::String(lua.create_string(id.as_str())?),
                LuaValue::Nil,
            )),
            None => errors::fail(lua, Error::not_found("no entry in this frame")),
        })?,
    )?;
    for (name, monitor, link) in [
        ("spawn", false, false),
        ("spawn_monitored", true, false),
        ("spawn_linked", false, true),
        ("spawn_linked_monitored", true, true),
    ] {
        t.set(
            name,
            lua.create_function(move |lua, args: MultiValue| {
                let spawner = Spawner::default();
                outcome(lua, spawner.spawn(lua, args, monitor, link))
            })?,
        )?;
    }
    t.set(
        "exec",
        lua.create_async_function(|lua, args: MultiValue| async move {
            let cx = frame::current(&lua);
            let req = match spawn_request(&lua, args) {
                Ok(req) => req,
                Err(e) => return errors::fail(&lua, e),
            };
            let rt = frame::runtime(&lua)?;
            match rt.processes.exec(&rt, &cx, req).await {
                Ok(v) => Ok((convert::to_lua(&lua, &v)?, LuaValue::Nil)),
                Err(e) => errors::fail(&lua, e),
            }
        })?,
    )?;
    t.set(
        "send",
        lua.create_function(
            |lua, (dest, topic, payload): (String, String, MultiValue)| {
                let payload = match to_values(lua, &payload) {
                    Ok(p) => p,
                    Err(e) => return errors::fail(lua, e),
                };
                // The frame opens, so the receiver sees who sent it and can answer.
                let sent = run::own_context(lua).and_then(|cx| {
                    frame::runtime(lua)
                        .map_err(|e| errors::from_mlua(&e))?
                        .processes
                        .send(&cx, &dest, &topic, payload)
                });
                outcome(lua, sent.map(|_| true))
            },
        )?,
    )?;
    t.set(
        "terminate",
        lua.create_function(|lua, dest: String| {
            let cx = frame::current(lua);
            outcome(
                lua,
                frame::runtime(lua)?
                    .processes
                    .terminate(&cx, &dest)
                    .map(|_| true),
            )
        })?,
    )?;
    t.set(
        "cancel",
        lua.create_function(|lua, (dest, deadline): (String, Option<LuaValue>)| {
            let grace = match deadline.as_ref().map(deadline_arg).transpose() {
                Ok(g) => g,
                Err(e) => return errors::fail(lua, e),
            };
            let cx = frame::current(lua);
            outcome(
                lua,
                frame::runtime(lua)?
                    .processes
                    .cancel(&cx, &dest, grace)
                    .map(|_| true),
            )
        })?,
    )?;
    type Relation = fn(&ProcessTable, &CallContext, &str) -> Result<()>;
    let relations: [(&str, Relation); 4] = [
        ("monitor", ProcessTable::monitor),
        ("unmonitor", ProcessTable::unmonitor),
        ("link", ProcessTable::link),
        ("unlink", ProcessTable::unlink),
    ];
    for (name, op) in relations {
        t.set(
            name,
            lua.create_function(move |lua, dest: String| {
                let related = run::own_context(lua).and_then(|cx| {
                    let rt = frame::runtime(lua).map_err(|e| errors::from_mlua(&e))?;
                    op(&rt.processes, &cx, &dest)
                });
                outcome(lua, related.map(|_| true))
            })?,
        )?;
    }
    t.set(
        "get_options",
        lua.create_function(|lua, ()| {
            let out = lua.create_table()?;
            out.set(
                "trap_links",
                run::own_process(lua).is_ok_and(|p| p.trap_links()),
            )?;
            Ok(out)
        })?,
    )?;
    t.set(
        "set_options",
        lua.create_function(|lua, opts: Table| {
            let me = match run::own_process(lua) {
                Ok(me) => me,
                Err(e) => return errors::fail(lua, e),
            };
            for pair in opts.pairs::<String, LuaValue>() {
                let (key, value) = pair?;
                match (key.as_str(), value) {
                    ("trap_links", LuaValue::Boolean(on)) => me.set_trap_links(on),
                    ("trap_links", other) => {
                        return errors::fail(
                            lua,
                            Error::invalid(format!(
                                "trap_links must be a boolean, got {}",
                                other.type_name()
                            )),
                        );
                    }
                    (other, _) => {
                        return errors::fail(
                            lua,
                            Error::invalid(format!("option {other} is not supported")),
                        );
                    }
                }
            }
            outcome(lua, Ok(true))
        })?,
    )?;
    t.set(
        "inbox",
        lua.create_function(|lua, ()| run::inbox(lua).map_err(mlua::Error::external))?,
    )?;
    t.set(
        "events",
        lua.create_function(|lua, ()| run::events(lua).map_err(mlua::Error::external))?,
    )?;
    t.set(
        "listen",
        lua.create_function(|lua, (topic, opts): (String, Option<Table>)| {
            let as_message = match opts {
                Some(o) => o.get::<Option<bool>>("message")?.unwrap_or(false),
                None => false,
            };
            run::listen(lua, &topic, as_message).map_err(mlua::Error::external)
        })?,
    )?;
    t.set(
        "unlisten",
        lua.create_function(|lua, ch: mlua::UserDataRef<LuaChannel>| {
            run::unlisten(lua, &ch).map_err(mlua::Error::external)
        })?,
    )?;
    t.set(
        "with_context",
        lua.create_function(|lua, values: Table| Spawner::default().with_context(lua, values))?,
    )?;
    t.set(
        "with_options",
        lua.create_function(|_, opts: Table| Spawner::default().with_options(opts))?,
    )?;
    t.set(
        "with_actor",
        lua.create_function(|lua, actor: LuaValue| Spawner::default().with_actor(lua, &actor))?,
    )?;
    t.set(
        "with_scope",
        lua.create_function(|lua, scope: LuaValue| Spawner::default().with_scope(lua, &scope))?,
    )?;
    t.set("registry", name_registry(lua)?)?;
    Ok(t)
}

/// A spawn builder: `process.with_context{…}:with_name("x"):spawn(id, host, …)`.
///
/// `with_actor` / `with_scope` (checked with `process.security`) set the child's actor
/// and scope; the spawn checks stay in the caller's context.
#[derive(Clone, Default)]
struct Spawner {
    values: Map,
    name: Option<String>,
    /// Messages the child finds first in its mailbox (`with_message`).
    messages: Vec<(String, Vec<Value>)>,
    actor: Option<Actor>,
    scope: Option<Scope>,
}

impl Spawner {
    fn with_context(&self, lua: &Lua, values: Table) -> mlua::Result<Spawner> {
        frame::current(lua)
            .check("process.context", "context")
            .map_err(mlua::Error::external)?;
        let mut next = self.clone();
        let values =
            convert::to_value(lua, &LuaValue::Table(values)).map_err(mlua::Error::external)?;
        if let Some(m) = values.as_map() {
            next.values
                .extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        Ok(next)
    }

    /// The child's actor; raises on nil, a wrong type or a denied `process.security`.
    fn with_actor(&self, lua: &Lua, actor: &LuaValue) -> mlua::Result<Spawner> {
        let actor = security_arg(lua, actor, "actor", security::as_actor)?;
        Ok(Spawner {
            actor: Some(actor),
            ..self.clone()
        })
    }

    /// The child's scope; raises on nil, a wrong type or a denied `process.security`.
    fn with_scope(&self, lua: &Lua, scope: &LuaValue) -> mlua::Result<Spawner> {
        let scope = security_arg(lua, scope, "scope", security::as_scope)?;
        Ok(Spawner {
            scope: Some(scope),
            ..self.clone()
        })
    }

    fn with_options(&self, opts: Table) -> mlua::Result<Spawner> {
        let mut next = self.clone();
        for pair in opts.pairs::<String, LuaValue>() {
            let (key, value) = pair?;
            match (key.as_str(), value) {
                ("name", LuaValue::String(s)) => next.name = Some(s.to_string_lossy()),
                ("name", other) => {
                    return Err(mlua::Error::external(Error::invalid(format!(
                        "spawn option name must be a string, got {}",
                        other.type_name()
                    ))));
                }
                // Wippy forwards options to the host, which ignores what it does not use.
                (other, _) => {
                    tracing::debug!(target: "weft::lua", option = other, "spawn option ignored");
                }
            }
        }
        Ok(next)
    }

    fn spawn(&self, lua: &Lua, args: MultiValue, monitor: bool, link: bool) -> Result<String> {
        let mut req = spawn_request(lua, args)?;
        req.monitor = monitor;
        req.link = link;
        req.name = self.name.clone();
        req.actor = self.actor.clone();
        req.scope = self.scope.clone();
        // A monitored or linked child needs the frame's own pid as its parent, and the
        // first messages come from it.
        let mut cx = match monitor || link || !self.messages.is_empty() {
            true => run::own_context(lua)?,
            false => frame::current(lua),
        };
        if !self.values.is_empty() {
            cx = cx.with_values(&self.values);
        }
        let rt = frame::runtime(lua).map_err(|e| errors::from_mlua(&e))?;
        let pid = rt.processes.spawn(&rt, &cx, req)?;
        // Queued before the child first reads, so these come first.
        for (topic, payload) in &self.messages {
            rt.processes.send(&cx, &pid, topic, payload.clone())?;
        }
        Ok(pid.to_string())
    }
}

impl UserData for Spawner {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("with_context", |lua, this, values: Table| {
            this.with_context(lua, values)
        });
        methods.add_method("with_options", |_, this, opts: Table| {
            this.with_options(opts)
        });
        methods.add_method("with_actor", |lua, this, actor: LuaValue| {
            this.with_actor(lua, &actor)
        });
        methods.add_method("with_scope", |lua, this, scope: LuaValue| {
            this.with_scope(lua, &scope)
        });
        methods.add_method(
            "with_message",
            |lua, this, (topic, payload): (String, MultiValue)| {
                let payload = to_values(lua, &payload).map_err(mlua::Error::external)?;
                let mut next = this.clone();
                next.messages.push((topic, payload));
                Ok(next)
            },
        );
        methods.add_method("with_name", |_, this, name: String| {
            let mut next = this.clone();
            next.name = Some(name);
            Ok(next)
        });
        for (name, monitor, link) in [
            ("spawn", false, false),
            ("spawn_monitored", true, false),
            ("spawn_linked", false, true),
            ("spawn_linked_monitored", true, true),
        ] {
            // Spawner spawn errors are raised, not returned (reference §4.5).
            methods.add_method(name, move |lua, this, args: MultiValue| {
                this.spawn(lua, args, monitor, link)
                    .map_err(mlua::Error::external)
            });
        }
    }
}

/// `process.registry`: the local name registry.
fn name_registry(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("LOCAL", 0)?;
    t.set("EVENTUAL", 1)?;
    t.set("CONSISTENT", 2)?;
    t.set("STRONG", 3)?;
    t.set(
        "register",
        lua.create_function(|lua, (name, pid): (String, Option<String>)| {
            let cx = match pid.is_some() {
                true => frame::current(lua),
                false => match run::own_context(lua) {
                    Ok(cx) => cx,
                    Err(e) => return errors::fail(lua, e),
                },
            };
            let Some(pid) = pid.or_else(|| cx.pid().map(str::to_string)) else {
                return errors::fail(lua, Error::invalid("register needs a pid"));
            };
            outcome(
                lua,
                frame::runtime(lua)?
                    .processes
                    .register_name(&cx, &name, &pid)
                    .map(|_| true),
            )
        })?,
    )?;
    t.set(
        "lookup",
        lua.create_function(|lua, name: String| {
            match frame::runtime(lua)?.processes.lookup_name(&name) {
                Some(pid) => Ok((LuaValue::String(lua.create_string(&*pid)?), LuaValue::Nil)),
                None => errors::fail(
                    lua,
                    Error::not_found(format!("name not registered: {name}")),
                ),
            }
        })?,
    )?;
    t.set(
        "unregister",
        lua.create_function(|lua, name: String| {
            let cx = frame::current(lua);
            outcome(
                lua,
                frame::runtime(lua)?.processes.unregister_name(&cx, &name),
            )
        })?,
    )?;
    Ok(t)
}

/// A spawner's actor or scope argument, after the `process.security` check; every
/// failure raises.
fn security_arg<T>(
    lua: &Lua,
    arg: &LuaValue,
    what: &str,
    read: fn(&LuaValue) -> Result<T>,
) -> mlua::Result<T> {
    if arg.is_nil() {
        return Err(mlua::Error::external(Error::invalid(format!(
            "{what} cannot be nil"
        ))));
    }
    let value = read(arg).map_err(mlua::Error::external)?;
    frame::current(lua)
        .check("process.security", "security")
        .map_err(mlua::Error::external)?;
    Ok(value)
}

/// `(id, host, args…)` from Lua arguments.
fn spawn_request(lua: &Lua, args: MultiValue) -> Result<Spawn> {
    let mut args = args.into_iter();
    let (Some(id), Some(host)) = (args.next(), args.next()) else {
        return Err(Error::invalid(
            "spawn requires at least id and host arguments",
        ));
    };
    let text = |v: LuaValue, what: &str| match v {
        LuaValue::String(s) => Ok(s.to_string_lossy()),
        other => Err(Error::invalid(format!(
            "{what} must be a string, got {}",
            other.type_name()
        ))),
    };
    let rest: Vec<LuaValue> = args.collect();
    let values = rest
        .iter()
        .enumerate()
        .map(|(i, a)| {
            convert::to_value(lua, a).map_err(|e| e.context(format!("argument {}", i + 3)))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Spawn::new(
        text(id, "process id")?,
        text(host, "host id")?,
        values,
    ))
}

fn to_values(lua: &Lua, args: &MultiValue) -> Result<Vec<Value>> {
    args.iter().map(|a| convert::to_value(lua, a)).collect()
}

/// A cancel deadline: integer milliseconds or a duration string.
fn deadline_arg(v: &LuaValue) -> Result<Duration> {
    match v {
        LuaValue::Integer(ms) if *ms >= 0 => Ok(Duration::from_millis(*ms as u64)),
        LuaValue::String(_) => {
            let nanos = crate::modules::time::parse_duration_arg(v)?;
            Ok(Duration::from_nanos(nanos.max(0) as u64))
        }
        other => Err(Error::invalid(format!(
            "deadline must be milliseconds or a duration string, got {}",
            other.type_name()
        ))),
    }
}

/// `value, nil` on success, `nil, err` on failure.
fn outcome<T: mlua::IntoLua>(lua: &Lua, r: Result<T>) -> mlua::Result<(LuaValue, LuaValue)> {
    match r {
        Ok(v) => Ok((v.into_lua(lua)?, LuaValue::Nil)),
        Err(e) => errors::fail(lua, e),
    }
}
