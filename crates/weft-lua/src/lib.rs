//! weft-lua: Lua entries (`function.lua`, `library.lua`, `process.lua`) on mlua (Lua 5.4).
//!
//! [`LuaEngine`] is the kind handler for the three kinds. At registration it validates
//! the entry, resolves its imported libraries (deferring until they exist; an import
//! cycle is rejected naming it), and compiles its source, so syntax errors fail the
//! boot. Each function and process entry gets a [`weft_runtime::Pool`] of prepared
//! VMs; a call leases one, runs the method under the return convention, and gives the
//! VM back. Registration runs no Lua code, except
//! that a run fills `warm_start` pools (building a VM runs its chunk); a check does not.
//!
//! The runtime owns the engine's functions and factories, so everything here holds it
//! weakly; the capabilities the modules call ([`Capabilities`]) are held strongly.

#![deny(missing_docs)]

mod chan;
mod convert;
mod errors;
mod frame;
#[doc(hidden)]
pub mod fuzzing;
mod imports;
mod modules;
mod pace;
mod payload;
mod run;
mod stack;
mod types;
mod vm;

#[cfg(feature = "pacing-switch")]
pub use pace::set_enabled as set_pacing;

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use mlua::{Lua, LuaOptions};
use parking_lot::{Mutex, RwLock};
use serde::Deserialize;
use weft_core::{BoxFuture, CallContext, EntryId, Error, ErrorKind, Function, Result, Value};
use weft_registry::{BootMode, Entry, KindHandler, Staged, Undo, restore};
use weft_runtime::{Lease, Pool, PoolConfig, PoolKind, ProcessFactory, Runtime};

use crate::imports::Waiting;
use crate::vm::{Script, Vm};

/// The capabilities the Lua modules call into.
#[derive(Clone)]
pub struct Capabilities {
    /// The env variables behind the `env` module.
    pub env: Arc<weft_env::EnvRegistry>,
    /// The `fs.directory` roots behind `fs`.
    pub fs: Arc<weft_fs::FsRegistry>,
    /// The outbound HTTP client (the runtime's one pool) behind `http_client`.
    pub http: Arc<weft_http::HttpClient>,
    /// The stores and token stores behind `store` and `security.token_store`.
    pub store: Arc<weft_store::StoreRegistry>,
}

/// The kind handler for Lua entries; cheap to clone.
#[derive(Clone)]
pub struct LuaEngine(Arc<Engine>);

struct Engine {
    rt: Weak<Runtime>,
    caps: Capabilities,
    libraries: RwLock<HashMap<EntryId, Arc<Script>>>,
    /// The imports of entries waiting for a library, to name import cycles.
    waiting: Waiting,
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
    limits: Limits,
}

/// `limits:` of a Lua entry (the same field as WASM entries').
#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
struct Limits {
    /// Wall-clock time a call (or a process run) may take; 0 is no limit.
    max_execution_ms: i64,
    /// Memory one VM may allocate, in MB; 0 is [`DEFAULT_MAX_MEMORY_MB`].
    max_memory_mb: i64,
}

/// The memory a VM may allocate when `limits.max_memory_mb` is not set (as for WASM).
const DEFAULT_MAX_MEMORY_MB: u64 = 256;

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
            waiting: Waiting::default(),
            checker: Mutex::new(checker),
        }))
    }
}

impl KindHandler for LuaEngine {
    fn kinds(&self) -> &[&'static str] {
        KINDS
    }

    /// Compiles the entry; a check compiles it as a run does but builds no warm VMs
    /// (building one runs the chunk). Published, a changed entry's new VMs take new
    /// calls at once; calls in flight finish on the old VMs, dropped after them.
    fn stage(&self, entry: Arc<Entry>, mode: BootMode) -> BoxFuture<Result<Staged>> {
        let engine = self.0.clone();
        Box::pin(async move { engine.stage(entry, mode).await })
    }

    fn stage_remove(&self, entry: Arc<Entry>) -> Result<Staged> {
        let engine = self.0.clone();
        let rt = self.0.runtime()?;
        Ok(Staged::new(move || {
            let library = engine.libraries.write().remove(&entry.id);
            let withdrawn = rt.withdraw(entry.id.clone());
            Undo::new(move || {
                withdrawn.run();
                if let Some(library) = library {
                    engine.libraries.write().insert(entry.id.clone(), library);
                }
            })
        }))
    }
}

impl Engine {
    /// The runtime; Unavailable once it is shutting down.
    fn runtime(&self) -> Result<Arc<Runtime>> {
        Runtime::upgrade(&self.rt)
    }

    /// The function (or process factory) running `script` in VMs from `pool`.
    fn runner(&self, script: Arc<Script>, pool: Arc<Pool<Vm>>, limits: Limits) -> LuaFunction {
        LuaFunction(Arc::new(Runner {
            rt: self.rt.clone(),
            caps: self.caps.clone(),
            script,
            pool,
            limits,
        }))
    }

    /// Validates and compiles an entry into what publishing registers: a library, a
    /// function with its pool (warmed in a run), or a process factory.
    async fn stage(self: Arc<Self>, entry: Arc<Entry>, mode: BootMode) -> Result<Staged> {
        let config: LuaConfig = entry.decode().map_err(Error::from)?;
        config.limits.validate()?;
        if config.pool.instance.is_some() {
            return Err(Error::invalid(
                "pool.instance is for WASM entries: a Lua function's VMs are always reused \
                 between calls and keep their globals",
            )
            .in_field("pool.instance"));
        }
        let script = Arc::new(self.script(
            &entry,
            config.source,
            config.method,
            config.modules,
            &config.imports,
            config.limits.memory_bytes(),
        )?);
        let rt = self.runtime()?;
        let id = entry.id.clone();
        Ok(match entry.kind.as_str() {
            "library.lua" => Staged::new(move || {
                let old = self.libraries.write().insert(id.clone(), script);
                restore(
                    id,
                    old,
                    {
                        let engine = self.clone();
                        move |id, lib| drop(engine.libraries.write().insert(id, lib))
                    },
                    move |id| drop(self.libraries.write().remove(&id)),
                )
            }),
            "function.lua" => {
                let kind = config.pool.resolve().map_err(|e| e.in_field("pool"))?;
                let pool = Pool::new(kind);
                if config.pool.warm_start && mode == BootMode::Run {
                    self.warm(&script, &pool).await?;
                }
                let function = self.runner(script, pool.clone(), config.limits);
                Staged::new(move || rt.publish_function(id, Arc::new(function), &pool))
            }
            _ => {
                let process = self.runner(script, Pool::new(PoolKind::Inline), config.limits);
                Staged::new(move || rt.publish_factory(id, Arc::new(process)))
            }
        })
    }

    /// Validates a Lua entry's fields, resolves its imports and compiles its source.
    fn script(
        &self,
        entry: &Entry,
        source: String,
        method: String,
        modules: Vec<String>,
        imports: &IndexMap<String, String>,
        max_memory: usize,
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
            let lib = self.library(&id).map_err(|e| {
                let cycle = (e.kind() == ErrorKind::NotFound)
                    .then(|| self.waiting.wait(&entry.id, &import_ids(entry, imports)))
                    .flatten();
                cycle.unwrap_or_else(|| e.in_field(format!("imports.{alias}")))
            })?;
            resolved.push((alias.clone(), lib));
        }
        self.waiting.done(&entry.id);
        check_aliases(&resolved)?;
        let source = erase_types(&entry.id, source)?;
        self.compile(&entry.id, &source)?;
        Ok(Script {
            id: entry.id.clone(),
            source: source.into(),
            method,
            modules,
            imports: resolved,
            max_memory,
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

/// The library ids `imports` name, with their aliases, in order.
/// The plain Lua 5.4 of a source in Wippy's typed dialect, every line where it was
/// (`weft_lua_types::erase`); an untyped source comes back as it is, unallocated. A
/// malformed annotation is Invalid in `source`, at its line and column.
fn erase_types(id: &EntryId, source: String) -> Result<String> {
    let erased = match weft_lua_types::erase(&source) {
        Ok(erased) if erased.typed => erased.code.into_owned(),
        Ok(_) => return Ok(source),
        Err(e) => {
            return Err(Error::invalid(format!("syntax error: {id}:{e}")).in_field("source"));
        }
    };
    Ok(erased)
}

fn import_ids(entry: &Entry, imports: &IndexMap<String, String>) -> Vec<(String, EntryId)> {
    let ns = entry.id.ns();
    imports
        .iter()
        .map(|(alias, target)| (alias.clone(), EntryId::resolve(target, ns)))
        .collect()
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
    limits: Limits,
}

/// The [`Function`] and [`ProcessFactory`] of a Lua entry.
#[derive(Clone)]
struct LuaFunction(Arc<Runner>);

impl LuaFunction {
    /// One call (or process run) in a VM of the entry's pool, bounded by the entry's
    /// `limits.max_execution_ms`: the frame's deadline becomes the earlier of the
    /// caller's and the limit, so the instruction hook ([`pace`]) stops code past it, and
    /// code that catches that error is dropped at its next yield.
    async fn run(self, cx: CallContext, args: Vec<Value>) -> Result<Value> {
        let runner = &self.0;
        let limit = runner.limits.deadline();
        let cx = match limit {
            Some(deadline) => cx.with_deadline(deadline),
            None => cx,
        };
        let call = async {
            let lease = runner
                .pool
                .lease(&cx, || {
                    Vm::build(&runner.rt, &runner.caps, &runner.script, &cx)
                })
                .await
                .map_err(|e| runner.unless_out_of_memory(e))?;
            let unfinished = Unfinished(Some(lease));
            let result = unfinished.vm().call(cx.clone(), &args).await;
            match result {
                // Stopped mid-run: `unfinished` drops the VM.
                Err(e) if unfinished.vm().was_stopped() => Err(e),
                // A VM that ran out of memory may hold what filled it: it goes away.
                Err(e) if errors::is_out_of_memory(&e) => Err(runner.unless_out_of_memory(e)),
                result => {
                    unfinished.finish();
                    result
                }
            }
        };
        let Some(deadline) = limit else {
            return call.await;
        };
        let outcome = tokio::time::timeout_at(deadline.into(), call).await;
        match outcome {
            Ok(Err(e)) if e.kind() == ErrorKind::Timeout && Instant::now() >= deadline => {
                Err(runner.limit_exceeded())
            }
            Ok(outcome) => outcome,
            Err(_) => Err(runner.limit_exceeded()),
        }
    }
}

/// A leased VM whose call may be dropped half way (a deadline, a terminated process):
/// such a VM goes away instead of back to the pool.
struct Unfinished(Option<Lease<Vm>>);

impl Unfinished {
    fn vm(&self) -> &Vm {
        // Only `finish` takes the lease, and it consumes `self`.
        self.0
            .as_deref()
            .unwrap_or_else(|| unreachable!("the lease is taken only by finish"))
    }

    /// The call finished: the VM goes back to the pool.
    fn finish(mut self) {
        drop(self.0.take());
    }
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        if let Some(lease) = self.0.take() {
            lease.discard();
        }
    }
}

impl Runner {
    /// `e`, or the error naming `limits.max_memory_mb` when `e` is Lua's out of memory.
    fn unless_out_of_memory(&self, e: Error) -> Error {
        if !errors::is_out_of_memory(&e) {
            return e;
        }
        Error::internal(format!(
            "{}: exceeded its memory limit (limits.max_memory_mb: {} MB)",
            self.script.id,
            self.limits.memory_mb()
        ))
    }

    /// The error of a call stopped by `limits.max_execution_ms`.
    fn limit_exceeded(&self) -> Error {
        Error::timeout(format!(
            "{}: exceeded limits.max_execution_ms ({} ms)",
            self.script.id, self.limits.max_execution_ms
        ))
    }
}

impl Limits {
    /// Refuses negative limits, naming the field.
    fn validate(self) -> Result<()> {
        for (field, value) in [
            ("limits.max_execution_ms", self.max_execution_ms),
            ("limits.max_memory_mb", self.max_memory_mb),
        ] {
            if value < 0 {
                return Err(Error::invalid(format!("{field} cannot be negative")).in_field(field));
            }
        }
        Ok(())
    }

    /// The memory limit in MB.
    fn memory_mb(self) -> u64 {
        match self.max_memory_mb {
            0 => DEFAULT_MAX_MEMORY_MB,
            mb => mb as u64,
        }
    }

    /// The memory limit in bytes.
    fn memory_bytes(self) -> usize {
        usize::try_from(self.memory_mb().saturating_mul(1 << 20)).unwrap_or(usize::MAX)
    }

    /// When a call starting now runs out of time (None: no limit).
    fn deadline(self) -> Option<Instant> {
        (self.max_execution_ms > 0)
            .then(|| Instant::now() + Duration::from_millis(self.max_execution_ms as u64))
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
