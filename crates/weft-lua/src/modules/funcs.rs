//! `funcs`: call any registry function (Lua or WASM) by id.
//!
//! `funcs.call` goes through [`weft_core::Functions::call`], the one path every caller
//! uses: target validation, the `funcs.call` permission check in the caller's context,
//! deadline, child context. Failures come back as `nil, err`, never raised.
//!
//! An executor's `with_actor` / `with_scope` (checked with `funcs.security`) set the
//! callee's actor and scope; the `funcs.call` check itself stays in the caller's context.

use std::sync::Arc;
use std::time::Instant;

use mlua::{Lua, MultiValue, Table, UserData, UserDataMethods, Value as LuaValue};
use parking_lot::Mutex;
use tokio::task::JoinHandle;
use weft_core::{Actor, CallContext, Error, Map, Result, Scope, Value};

use crate::chan::{Item, LuaChannel};
use crate::modules::security;
use crate::payload::Payload;
use crate::{convert, errors, frame};

/// Builds the `funcs` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "call",
        lua.create_async_function(|lua, (target, args): (LuaValue, MultiValue)| async move {
            let cx = frame::current(&lua);
            call(&lua, &cx, cx.clone(), target, args).await
        })?,
    )?;
    t.set(
        "async",
        lua.create_function(|lua, (target, args): (LuaValue, MultiValue)| {
            let cx = frame::current(lua);
            start(lua, &cx, cx.clone(), target, args)
        })?,
    )?;
    t.set("new", lua.create_function(|_, ()| Ok(Executor::default()))?)?;
    Ok(t)
}

/// An immutable call builder: `funcs.new():with_context{...}:call(...)`.
#[derive(Clone, Default)]
struct Executor {
    values: Map,
    timeout: Option<std::time::Duration>,
    actor: Option<Actor>,
    scope: Option<Scope>,
}

impl Executor {
    /// The caller's frame and the context its callee is given: the caller's frame with
    /// this executor's values, deadline, actor and scope applied.
    fn contexts(&self, lua: &Lua) -> (CallContext, CallContext) {
        let caller = frame::current(lua);
        let mut cx = caller.clone();
        if !self.values.is_empty() {
            cx = cx.with_values(&self.values);
        }
        if let Some(timeout) = self.timeout {
            cx = cx.with_deadline(Instant::now() + timeout);
        }
        if let Some(actor) = &self.actor {
            cx = cx.with_actor(Some(actor.clone()));
        }
        if let Some(scope) = &self.scope {
            cx = cx.with_scope(Some(scope.clone()));
        }
        (caller, cx)
    }

    /// `with_actor` / `with_scope`: a nil or mistyped argument raises; a denied
    /// `funcs.security` check returns `nil, err`.
    fn with_security(
        &self,
        lua: &Lua,
        arg: &LuaValue,
        what: &str,
        set: impl FnOnce(&mut Executor, &LuaValue) -> Result<()>,
    ) -> mlua::Result<(LuaValue, LuaValue)> {
        if arg.is_nil() {
            return Err(mlua::Error::external(Error::invalid(format!(
                "{what} cannot be nil"
            ))));
        }
        let mut next = self.clone();
        set(&mut next, arg).map_err(mlua::Error::external)?;
        if let Err(e) = frame::current(lua).check("funcs.security", "security") {
            return errors::fail(lua, e);
        }
        Ok((
            LuaValue::UserData(lua.create_userdata(next)?),
            LuaValue::Nil,
        ))
    }
}

impl UserData for Executor {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("with_context", |lua, this, values: Table| {
            if let Err(e) = frame::current(lua).check("funcs.context", "context") {
                return Ok((LuaValue::Nil, errors::push(lua, e)?));
            }
            let mut next = this.clone();
            let values =
                convert::to_value(lua, &LuaValue::Table(values)).map_err(mlua::Error::external)?;
            if let Some(map) = values.as_map() {
                next.values
                    .extend(map.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            Ok((
                LuaValue::UserData(lua.create_userdata(next)?),
                LuaValue::Nil,
            ))
        });
        methods.add_method("with_actor", |lua, this, actor: LuaValue| {
            this.with_security(lua, &actor, "actor", |next, v| {
                next.actor = Some(security::as_actor(v)?);
                Ok(())
            })
        });
        methods.add_method("with_scope", |lua, this, scope: LuaValue| {
            this.with_security(lua, &scope, "scope", |next, v| {
                next.scope = Some(security::as_scope(v)?);
                Ok(())
            })
        });
        methods.add_method("with_options", |_, this, options: Table| {
            let mut next = this.clone();
            for pair in options.pairs::<String, LuaValue>() {
                let (key, value) = pair?;
                match key.as_str() {
                    "timeout" => {
                        let nanos = crate::modules::time::parse_duration_arg(&value)
                            .map_err(mlua::Error::external)?;
                        if nanos <= 0 {
                            return Err(mlua::Error::external(Error::invalid(
                                "timeout must be a positive duration",
                            )));
                        }
                        next.timeout = Some(std::time::Duration::from_nanos(nanos as u64));
                    }
                    // Wippy ignores options it does not use; so does weft (with a
                    // note in the debug log).
                    other => {
                        tracing::debug!(
                            option = other,
                            "funcs: call option ignored (supported: timeout)"
                        );
                    }
                }
            }
            Ok(next)
        });
        methods.add_async_method(
            "call",
            |lua, this, (target, args): (LuaValue, MultiValue)| async move {
                let (caller, cx) = this.contexts(&lua);
                call(&lua, &caller, cx, target, args).await
            },
        );
        methods.add_method(
            "async",
            |lua, this, (target, args): (LuaValue, MultiValue)| {
                let (caller, cx) = this.contexts(lua);
                start(lua, &caller, cx, target, args)
            },
        );
    }
}

/// The state of a call started with `funcs.async`.
struct FutureState {
    outcome: Option<Result<Value>>,
    canceled: bool,
    task: Option<JoinHandle<()>>,
    /// Delivers the outcome once (a Payload, or the error object), then closes.
    channel: LuaChannel,
}

/// A started call (`funcs.async`).
#[derive(Clone)]
struct CallFuture(Arc<Mutex<FutureState>>);

impl UserData for CallFuture {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("response", |_, this, ()| Ok(this.0.lock().channel.clone()));
        methods.add_method("channel", |_, this, ()| Ok(this.0.lock().channel.clone()));
        methods.add_method("is_complete", |_, this, ()| {
            Ok(this.0.lock().outcome.is_some())
        });
        methods.add_method("is_canceled", |_, this, ()| Ok(this.0.lock().canceled));
        methods.add_method("result", |lua, this, ()| {
            let state = this.0.lock();
            match &state.outcome {
                None => Ok((LuaValue::Nil, LuaValue::Nil)),
                Some(Ok(v)) => Ok((
                    LuaValue::UserData(lua.create_userdata(Payload(v.clone()))?),
                    LuaValue::Nil,
                )),
                Some(Err(e)) => errors::fail(lua, e.clone()),
            }
        });
        methods.add_method("error", |lua, this, ()| {
            let state = this.0.lock();
            match &state.outcome {
                Some(Err(e)) => Ok((errors::push(lua, e.clone())?, true)),
                _ => Ok((LuaValue::Nil, false)),
            }
        });
        methods.add_method("cancel", |_, this, ()| {
            let mut state = this.0.lock();
            if state.outcome.is_none() {
                if let Some(task) = state.task.take() {
                    task.abort();
                }
                state.canceled = true;
                state.outcome = Some(Err(Error::canceled("call canceled")));
                state.channel.0.close();
            }
            Ok(true)
        });
    }
}

/// Runs one call: `funcs.call` checked in `caller`, the callee run in a child of `cx`.
/// Returns `value, nil` or `nil, err`.
async fn call(
    lua: &Lua,
    caller: &CallContext,
    cx: CallContext,
    target: LuaValue,
    args: MultiValue,
) -> mlua::Result<(LuaValue, LuaValue)> {
    let (target, args) = match prepare(lua, target, &args) {
        Ok(prepared) => prepared,
        Err(e) => return errors::fail(lua, e),
    };
    let resolved = match frame::runtime(lua)?.functions.resolve(caller, &target) {
        Ok(resolved) => resolved,
        Err(e) => return errors::fail(lua, e),
    };
    match resolved.invoke(&cx, args).await {
        Ok(v) => Ok((convert::to_lua(lua, &v)?, LuaValue::Nil)),
        Err(e) => errors::fail(lua, e),
    }
}

/// Starts a call on its own task (checked in `caller`, run in a child of `cx`):
/// `Future, nil` or `nil, err`.
fn start(
    lua: &Lua,
    caller: &CallContext,
    cx: CallContext,
    target: LuaValue,
    args: MultiValue,
) -> mlua::Result<(LuaValue, LuaValue)> {
    let (target, args) = match prepare(lua, target, &args) {
        Ok(prepared) => prepared,
        Err(e) => return errors::fail(lua, e),
    };
    let resolved = match frame::runtime(lua)?.functions.resolve(caller, &target) {
        Ok(resolved) => resolved,
        Err(e) => return errors::fail(lua, e),
    };
    let channel = LuaChannel::new(1);
    let state = Arc::new(Mutex::new(FutureState {
        outcome: None,
        canceled: false,
        task: None,
        channel: channel.clone(),
    }));
    let shared = state.clone();
    let task = tokio::spawn(async move {
        let outcome = resolved.invoke(&cx, args).await;
        let item = match &outcome {
            Ok(v) => Item::Payload(v.clone()),
            Err(e) => Item::Value(Value::from(e.clone())),
        };
        let mut state = shared.lock();
        if state.outcome.is_none() {
            state.outcome = Some(outcome);
            let _ = channel.0.try_send(item);
            channel.0.close();
        }
    });
    state.lock().task = Some(task);
    Ok((
        LuaValue::UserData(lua.create_userdata(CallFuture(state))?),
        LuaValue::Nil,
    ))
}

/// Validates the target type and copies the arguments out of the VM.
fn prepare(lua: &Lua, target: LuaValue, args: &MultiValue) -> Result<(String, Vec<Value>)> {
    let target = match target {
        LuaValue::String(s) => s.to_string_lossy(),
        LuaValue::Nil => String::new(),
        other => {
            return Err(Error::invalid(format!(
                "function ID must be a string, got {}",
                other.type_name()
            )));
        }
    };
    let args = args
        .iter()
        .enumerate()
        .map(|(i, a)| {
            convert::to_value(lua, a).map_err(|e| e.context(format!("argument {}", i + 1)))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((target, args))
}
