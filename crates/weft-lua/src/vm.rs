//! Building and running one sandboxed Lua VM for an entry.
//!
//! A VM is built once per pool slot: a fresh Lua 5.4 state with only the safe standard
//! libraries, weft's globals (`errors`, `print`, `require`, `os`), the entry's modules and
//! imported libraries bound as globals, and the entry's chunk run. Calls then reuse it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use mlua::state::{GcGenParams, GcMode};
use mlua::{Function, Lua, LuaOptions, MultiValue, StdLib, Table, Value as LuaValue};
use weft_core::{CallContext, EntryId, Error, Result, Value};
use weft_runtime::Runtime;

use crate::{Capabilities, chan, convert, errors, frame, modules, pace, run, types};

/// A Lua entry's code and bindings, shared by every VM of its pool.
pub struct Script {
    /// The entry id (also the chunk name in Lua error messages).
    pub id: EntryId,
    /// The Lua source.
    pub source: Arc<str>,
    /// The method to call; `None` runs the chunk itself (method-less `process.lua`).
    pub method: Option<String>,
    /// Module names bound as globals.
    pub modules: Vec<String>,
    /// Imported libraries: alias and library script.
    pub imports: Vec<(String, Arc<Script>)>,
    /// Bytes a VM of this script may allocate (`limits.max_memory_mb`).
    pub max_memory: usize,
}

/// A prepared VM: the entry's chunk has run and its method is at hand.
pub struct Vm {
    lua: Lua,
    /// `runner(f, ...)`: `xpcall(f, keep_raised, ...)`, the first function of every call's
    /// coroutine (see [`pace::protected`]).
    runner: Function,
    body: Function,
    /// The main state, listed with each poll of a call (see [`pace::paced`]).
    main: usize,
    /// Set when a call was stopped mid-run (the VM is then dropped, not pooled).
    stopped: AtomicBool,
}

/// The standard libraries every VM gets (no io, os, debug or package).
fn safe_libs() -> StdLib {
    StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::COROUTINE | StdLib::UTF8
}

impl Vm {
    /// Builds a VM for `script`; `cx` is the frame in which library and entry chunks run.
    pub async fn build(
        rt: &Weak<Runtime>,
        caps: &Capabilities,
        script: &Script,
        cx: &CallContext,
    ) -> Result<Vm> {
        let lua = Lua::new_with(safe_libs(), LuaOptions::new()).map_err(lua_err)?;
        lua.set_memory_limit(script.max_memory).map_err(lua_err)?;
        // Calls make many short-lived values; the generational collector suits them.
        lua.gc_set_mode(GcMode::Generational(GcGenParams::default()));
        frame::install(&lua, rt.clone(), caps.clone());
        pace::install(&lua).map_err(lua_err)?;
        sandbox(&lua).map_err(lua_err)?;
        let keep = lua.create_function(keep_raised).map_err(lua_err)?;
        let runner = pace::protected(&lua, keep).map_err(lua_err)?;
        let vm = Vm {
            body: runner.clone(),
            runner,
            main: pace::main_state(&lua),
            lua,
            stopped: AtomicBool::new(false),
        };
        let _frame = frame::enter(&vm.lua, cx.clone());
        let _run = run::begin(&vm.lua);
        let mut bound = Vec::new();
        vm.bind(script, &mut bound).await?;
        let chunk = vm.load(script)?;
        let body = match &script.method {
            None => chunk,
            Some(method) => {
                let exports = vm.protected(chunk, MultiValue::new()).await?;
                let table = match exports.into_iter().next() {
                    Some(LuaValue::Table(t)) => t,
                    other => {
                        return Err(Error::invalid(format!(
                            "the script of {} must return a table, got {}",
                            script.id,
                            other.as_ref().map_or("nothing", LuaValue::type_name)
                        )));
                    }
                };
                match table.get::<LuaValue>(method.as_str()).map_err(lua_err)? {
                    LuaValue::Function(f) => f,
                    _ => {
                        return Err(Error::invalid(format!(
                            "method {method:?} not found in {}",
                            script.id
                        )));
                    }
                }
            }
        };
        Ok(Vm { body, ..vm })
    }

    /// Calls the entry's method (or chunk) with `args` in the frame `cx`.
    ///
    /// The return convention of reference §4.0.5: the first value is the result; a second
    /// value that is a string or an error object fails the call; a raised error fails it.
    /// A call whose frame was stopped from outside (`process.terminate` on its pid, a
    /// linked process that failed) ends with that error and leaves the VM mid-run
    /// ([`Vm::was_stopped`]).
    pub async fn call(&self, cx: CallContext, args: &[Value]) -> Result<Value> {
        let _frame = frame::enter(&self.lua, cx);
        let run = run::begin(&self.lua);
        let args = convert::to_lua_multi(&self.lua, args).map_err(lua_err)?;
        let result = match run
            .until_stopped(self.protected(self.body.clone(), args))
            .await
        {
            Ok(out) => out.and_then(|out| {
                let mut out = out.into_iter();
                let result = out.next().unwrap_or(LuaValue::Nil);
                if let Some(err) = out.next().as_ref().and_then(errors::from_return) {
                    return Err(err);
                }
                convert::to_value(&self.lua, &result)
            }),
            Err(stopped) => {
                self.stopped.store(true, Ordering::Relaxed);
                Err(stopped)
            }
        };
        run.end(&result);
        result
    }

    /// Whether a call was stopped mid-run in this VM: it must not be reused.
    pub fn was_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// Binds the script's modules and imports (depth first), each once per VM.
    async fn bind(&self, script: &Script, bound: &mut Vec<EntryId>) -> Result<()> {
        let globals = self.lua.globals();
        for name in &script.modules {
            if globals
                .raw_get::<LuaValue>(name.as_str())
                .map_err(lua_err)?
                .is_nil()
            {
                let module = modules::create(&self.lua, name).map_err(lua_err)?;
                globals.raw_set(name.as_str(), module).map_err(lua_err)?;
            }
        }
        for (alias, lib) in &script.imports {
            if !bound.contains(&lib.id) {
                bound.push(lib.id.clone());
                Box::pin(self.bind(lib, bound)).await?;
            }
            let chunk = self.load(lib)?;
            let value = self.protected(chunk, MultiValue::new()).await?;
            let value = value.into_iter().next().unwrap_or(LuaValue::Nil);
            globals.raw_set(alias.as_str(), value).map_err(lua_err)?;
        }
        Ok(())
    }

    fn load(&self, script: &Script) -> Result<Function> {
        self.lua
            .load(&*script.source)
            .set_name(format!("={}", script.id))
            .into_function()
            .map_err(|e| errors::from_mlua(&e))
    }

    /// Runs `f(args)` through the runner: returns its values, or the raised error.
    async fn protected(&self, f: Function, args: MultiValue) -> Result<MultiValue> {
        let mut call_args = MultiValue::with_capacity(args.len() + 1);
        call_args.push_back(LuaValue::Function(f));
        call_args.extend(args);
        let mut out: MultiValue = pace::paced(self.main, 0, self.runner.call_async(call_args))
            .await
            .map_err(|e| errors::from_mlua(&e))?;
        let traceback = self.lua.remove_app_data::<RaisedTraceback>();
        match out.pop_front() {
            Some(LuaValue::Boolean(true)) => Ok(out),
            _ => {
                let err = errors::from_raised(&out.pop_front().unwrap_or(LuaValue::Nil));
                Err(match traceback {
                    Some(RaisedTraceback(stack)) if err.stack().is_none() => err.with_stack(stack),
                    _ => err,
                })
            }
        }
    }
}

/// The Lua traceback where a value that is not an error object was raised (`error("x")`),
/// taken by [`keep_raised`] for [`Vm::protected`] to attach to the error it makes.
struct RaisedTraceback(String);

/// The runner's error handler: hands the raised value back untouched, so error
/// objects keep their kind (mlua would turn them into strings); for any other value it
/// keeps the traceback, which only exists while the handler runs.
fn keep_raised(lua: &Lua, raised: LuaValue) -> mlua::Result<LuaValue> {
    let is_error_object = matches!(&raised, LuaValue::UserData(ud) if ud.is::<errors::LuaError>());
    if !is_error_object && let Some(stack) = crate::stack::capture(lua) {
        lua.set_app_data(RaisedTraceback(stack));
    }
    Ok(raised)
}

/// Removes unsafe globals and installs weft's own.
fn sandbox(lua: &Lua) -> mlua::Result<()> {
    let g = lua.globals();
    for name in ["dofile", "loadfile"] {
        g.raw_set(name, LuaValue::Nil)?;
    }
    let string: Table = g.get("string")?;
    string.raw_set("dump", LuaValue::Nil)?;
    let text_only_load: Function = lua
        .load(
            r#"local load, select = ...
            return function(chunk, name, mode, ...)
              if select('#', ...) > 0 then return load(chunk, name, "t", ...) end
              return load(chunk, name, "t")
            end"#,
        )
        .set_name("=weft:load")
        .call((g.get::<Function>("load")?, g.get::<Function>("select")?))?;
    g.raw_set("load", text_only_load)?;
    let table: Table = g.get("table")?;
    table.raw_set(
        "create",
        lua.create_function(|lua, (narr, nrec): (Option<usize>, Option<usize>)| {
            lua.create_table_with_capacity(
                narr.unwrap_or(0).min(1 << 20),
                nrec.unwrap_or(0).min(1 << 20),
            )
        })?,
    )?;
    g.raw_set(
        "require",
        lua.create_function(|lua, name: String| {
            match lua.globals().raw_get::<LuaValue>(name.as_str())? {
                LuaValue::Nil => Err(mlua::Error::runtime(format!(
                    "module '{name}' not found: list it under modules: or imports: of the entry"
                ))),
                v => Ok(v),
            }
        })?,
    )?;
    g.raw_set("print", lua.create_function(print)?)?;
    modules::install_globals(lua)?;
    let coroutine: Table = g.get("coroutine")?;
    coroutine.raw_set("spawn", lua.create_function(spawn_coroutine)?)?;
    chan::install(lua)?;
    types::install(lua)?;
    errors::install(lua)
}

/// `coroutine.spawn(fn)`: runs `fn` concurrently in this VM until the run ends.
fn spawn_coroutine(lua: &Lua, f: Function) -> mlua::Result<bool> {
    let thread = lua.create_thread(f)?;
    let driver = thread.state() as usize;
    let thread = thread.into_async::<()>(())?;
    let main = pace::main_state(lua);
    let cx = frame::current(lua);
    run::spawn_task(lua, async move {
        if let Err(e) = pace::paced(main, driver, thread).await {
            tracing::warn!(
                target: "weft::lua",
                entry = cx.entry().map(EntryId::as_str).unwrap_or(""),
                "a spawned coroutine failed: {}",
                errors::from_mlua(&e)
            );
        }
    });
    Ok(true)
}

/// `print(...)`: logs at info level, tagged with the entry and pid.
fn print(lua: &Lua, args: MultiValue) -> mlua::Result<()> {
    let text = args
        .iter()
        .map(|v| v.to_string().unwrap_or_else(|_| v.type_name().to_string()))
        .collect::<Vec<_>>()
        .join("\t");
    let cx = frame::current(lua);
    tracing::info!(
        target: "weft::lua",
        entry = cx.entry().map(EntryId::as_str).unwrap_or(""),
        pid = cx.pid().unwrap_or(""),
        "{text}"
    );
    Ok(())
}

fn lua_err(e: mlua::Error) -> Error {
    errors::from_mlua(&e)
}
