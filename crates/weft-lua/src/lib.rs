//! weft-lua: Lua entries (`function.lua`, `library.lua`, `process.lua`) on mlua (Lua 5.4).
//!
//! [`LuaEngine`] is the kind handler for the three kinds. At registration it validates
//! the entry, resolves its imported libraries (deferring until they exist), and
//! compiles its source, so syntax errors fail the boot. Each function and process entry
//! gets a [`weft_runtime::Pool`] of prepared VMs; a call leases one, runs the method under the
//! return convention, and gives the VM back.
//!
//! The runtime owns the engine's functions and factories, so everything here holds it
//! weakly; the capabilities the modules call ([`Capabilities`]) are held strongly.

#![deny(missing_docs)]

mod chan;
mod convert;
mod errors;
mod frame;
mod modules;
mod payload;
mod run;
mod vm;

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use indexmap::IndexMap;
use mlua::{Lua, LuaOptions};
use parking_lot::{Mutex, RwLock};
use serde::Deserialize;
use weft_core::{BoxFuture, CallContext, EntryId, Error, Function, Result, Value};
use weft_registry::{Entry, KindHandler};
use weft_runtime::{Pool, PoolConfig, PoolKind, ProcessFactory, Runtime};

use crate::vm::{Script, Vm};

/// The capabilities the Lua modules call into.
#[derive(Clone)]
pub struct Capabilities {
    /// The env variables behind the `env` module.
    pub env: Arc<weft_env::EnvRegistry>,
}

/// The kind handler for Lua entries; cheap to clone.
#[derive(Clone)]
pub struct LuaEngine(Arc<Engine>);

struct Engine {
    rt: Weak<Runtime>,
    caps: Capabilities,
    libraries: RwLock<HashMap<EntryId, Arc<Script>>>,
    /// A VM used only to compile sources at registration (syntax check).
    checker: Mutex<Lua>,
}

/// The fields of a Lua entry (reference §2.1); unknown keys are ignored.
#[derive(Deserialize, Default)]
#[serde(default)]
struct LuaConfig {
    source: String,
    method: String,
    modules: Vec<String>,
    imports: IndexMap<String, String>,
    pool: PoolConfig,
}

/// The kinds this engine owns.
const KINDS: &[&str] = &["function.lua", "library.lua", "process.lua"];

impl LuaEngine {
    /// An engine registering into `rt`, its modules calling `caps`.
    pub fn new(rt: &Arc<Runtime>, caps: Capabilities) -> LuaEngine {
        let checker =
            Lua::new_with(mlua::StdLib::NONE, LuaOptions::new()).unwrap_or_else(|_| Lua::new());
        LuaEngine(Arc::new(Engine {
            rt: Arc::downgrade(rt),
            caps,
            libraries: RwLock::new(HashMap::new()),
            checker: Mutex::new(checker),
        }))
    }
}

impl KindHandler for LuaEngine {
    fn kinds(&self) -> &[&'static str] {
        KINDS
    }

    fn apply(&self, entry: Arc<Entry>) -> BoxFuture<Result<()>> {
        let engine = self.0.clone();
        Box::pin(async move { engine.apply(&entry).await })
    }
}

impl Engine {
    /// The runtime; Unavailable once it is shutting down.
    fn runtime(&self) -> Result<Arc<Runtime>> {
        Runtime::upgrade(&self.rt)
    }

    /// The function (or process factory) running `script` in VMs from `pool`.
    fn runner(&self, script: Arc<Script>, pool: Arc<Pool<Vm>>) -> LuaFunction {
        LuaFunction(Arc::new(Runner {
            rt: self.rt.clone(),
            caps: self.caps.clone(),
            script,
            pool,
        }))
    }

    async fn apply(&self, entry: &Entry) -> Result<()> {
        let config: LuaConfig = entry.decode().map_err(Error::from)?;
        let script = Arc::new(self.script(
            entry,
            config.source,
            config.method,
            config.modules,
            &config.imports,
        )?);
        match entry.kind.as_str() {
            "library.lua" => {
                self.libraries.write().insert(entry.id.clone(), script);
            }
            "function.lua" => {
                let kind = config.pool.resolve().map_err(|e| e.in_field("pool"))?;
                let pool = Pool::new(kind);
                if config.pool.warm_start {
                    self.warm(&script, &pool).await?;
                }
                let function = self.runner(script, pool);
                self.runtime()?
                    .functions
                    .register(entry.id.clone(), Arc::new(function));
            }
            _ => {
                let process = self.runner(script, Pool::new(PoolKind::Inline));
                self.runtime()?
                    .factories
                    .register(entry.id.clone(), Arc::new(process));
            }
        }
        Ok(())
    }

    /// Validates a Lua entry's fields, resolves its imports and compiles its source.
    fn script(
        &self,
        entry: &Entry,
        source: String,
        method: String,
        modules: Vec<String>,
        imports: &IndexMap<String, String>,
    ) -> Result<Script> {
        if source.trim().is_empty() {
            return Err(Error::invalid("source is required").in_field("source"));
        }
        let method = match (entry.kind.as_str(), method.is_empty()) {
            ("function.lua", true) => {
                return Err(Error::invalid("method is required").in_field("method"));
            }
            ("library.lua", _) | (_, true) => None,
            _ => Some(method),
        };
        for (i, name) in modules.iter().enumerate() {
            modules::validate(name).map_err(|e| e.in_field(format!("modules[{i}]")))?;
        }
        let mut resolved = Vec::with_capacity(imports.len());
        for (alias, target) in imports {
            if alias.is_empty() {
                return Err(Error::invalid("import alias cannot be empty").in_field("imports"));
            }
            if target.is_empty() {
                return Err(Error::invalid(format!("import {alias:?} names no entry"))
                    .in_field(format!("imports.{alias}")));
            }
            let id = EntryId::resolve(target, entry.id.ns());
            let lib = self
                .library(&id)
                .map_err(|e| e.in_field(format!("imports.{alias}")))?;
            resolved.push((alias.clone(), lib));
        }
        check_aliases(&resolved)?;
        self.compile(&entry.id, &source)?;
        Ok(Script {
            id: entry.id.clone(),
            source: source.into(),
            method,
            modules,
            imports: resolved,
        })
    }

    /// The library `id`; NotFound (deferral) while it is not registered yet.
    fn library(&self, id: &EntryId) -> Result<Arc<Script>> {
        if let Some(lib) = self.libraries.read().get(id) {
            return Ok(lib.clone());
        }
        match self.runtime()?.registry.get(id.as_str()) {
            Some(other) => Err(Error::invalid(format!(
                "{id} is a {}, not a library.lua",
                other.kind
            ))),
            None => Err(Error::not_found(format!("library not found: {id}"))),
        }
    }

    /// Compiles `source` without running it; a syntax error is Invalid with the line.
    fn compile(&self, id: &EntryId, source: &str) -> Result<()> {
        let checker = self.checker.lock();
        checker
            .load(source)
            .set_name(format!("={id}"))
            .into_function()
            .map(drop)
            .map_err(|e| match e {
                mlua::Error::SyntaxError { message, .. } => {
                    Error::invalid(format!("syntax error: {message}")).in_field("source")
                }
                other => errors::from_mlua(&other).in_field("source"),
            })
    }

    /// Builds the VMs of a `warm_start` static pool at boot.
    async fn warm(&self, script: &Script, pool: &Arc<Pool<Vm>>) -> Result<()> {
        if let PoolKind::Static { workers, .. } = pool.kind() {
            let cx = self.runtime()?.root_context();
            for _ in 0..workers {
                pool.put_idle(Vm::build(&self.rt, &self.caps, script, &cx).await?);
            }
        }
        Ok(())
    }
}

/// Fails when one alias is bound to two different libraries anywhere in the import tree.
fn check_aliases(imports: &[(String, Arc<Script>)]) -> Result<()> {
    fn walk(imports: &[(String, Arc<Script>)], seen: &mut HashMap<String, EntryId>) -> Result<()> {
        for (alias, lib) in imports {
            match seen.get(alias) {
                Some(prev) if prev != &lib.id => {
                    return Err(Error::invalid(format!(
                        "alias collision: {alias:?} is bound to {prev} and {}",
                        lib.id
                    ))
                    .in_field("imports"));
                }
                Some(_) => {}
                None => {
                    seen.insert(alias.clone(), lib.id.clone());
                    walk(&lib.imports, seen)?;
                }
            }
        }
        Ok(())
    }
    walk(imports, &mut HashMap::new())
}

/// A function or process entry: what its VMs are built with, its script and its VM pool.
struct Runner {
    rt: Weak<Runtime>,
    caps: Capabilities,
    script: Arc<Script>,
    pool: Arc<Pool<Vm>>,
}

/// The [`Function`] and [`ProcessFactory`] of a Lua entry.
#[derive(Clone)]
struct LuaFunction(Arc<Runner>);

impl LuaFunction {
    async fn run(self, cx: CallContext, args: Vec<Value>) -> Result<Value> {
        let runner = &self.0;
        let vm = runner
            .pool
            .lease(|| Vm::build(&runner.rt, &runner.caps, &runner.script, &cx))
            .await?;
        vm.call(cx, &args).await
    }
}

impl Function for LuaFunction {
    fn call(&self, cx: CallContext, args: Vec<Value>) -> BoxFuture<Result<Value>> {
        Box::pin(self.clone().run(cx, args))
    }
}

impl ProcessFactory for LuaFunction {
    fn run(&self, cx: CallContext, args: Vec<Value>) -> BoxFuture<Result<Value>> {
        Box::pin(self.clone().run(cx, args))
    }
}
