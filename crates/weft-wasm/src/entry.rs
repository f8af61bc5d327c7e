//! `function.wat`, `function.wasm` and `process.wasm` entries: validation, loading, and
//! the call path they all share.
//!
//! Everything that can fail is checked at registration: the fields, the file and its
//! hash, the binary, the `wit` signature of a core module, the method, the imports.
//! A call then takes a pool slot and an instance slot, makes a fresh store from the
//! entry's `InstancePre`, lowers the arguments with the method's WIT types, runs it with
//! an epoch deadline and a memory limit, and lifts the result.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use serde::Deserialize;
use wasmtime::component::types::ComponentFunc;
use wasmtime::component::{ComponentExportIndex, InstancePre, Type, Val};
use wasmtime::{Store, StoreLimitsBuilder, Trap, UpdateDeadline};
use wasmtime_wasi::I32Exit;
use weft_core::{BoxFuture, CallContext, EntryId, Error, ErrorKind, Function, Result, Value};
use weft_registry::{Entry, KindHandler};
use weft_runtime::pool::{Pool, PoolConfig};
use weft_runtime::{ProcessFactory, Runtime};

use crate::convert;
use crate::engine::{
    BinaryKind, EngineConfig, WasmEngine, binary_kind, export_func, export_index, wrap_core,
};
use crate::profiles;
use crate::store::StoreState;
use crate::wasi::{Grants, WasiConfig, WasiPlan, clean_guest_path};

/// The memory a guest may use when `limits.max_memory_mb` is not set.
pub const DEFAULT_MAX_MEMORY_MB: u64 = 256;

/// The kind handler for WASM entries. The engine is made with the first WASM entry, so
/// apps without WASM never pay for it.
pub struct WasmHandler {
    rt: Arc<Runtime>,
    config: EngineConfig,
    engine: parking_lot::Mutex<Option<Arc<WasmEngine>>>,
}

/// The fields of a WASM entry (reference §3.1); unknown keys are ignored.
#[derive(Deserialize, Default)]
#[serde(default)]
struct WasmConfig {
    source: String,
    fs: String,
    path: String,
    hash: String,
    method: String,
    wit: String,
    transport: String,
    imports: Vec<String>,
    wasi: WasiConfig,
    limits: Limits,
    pool: PoolConfig,
}

/// `limits:` of a WASM entry.
#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
struct Limits {
    max_execution_ms: i64,
    max_memory_mb: i64,
}

/// A loaded WASM entry: what every call needs, computed once.
struct Loaded {
    id: EntryId,
    method: String,
    engine: Arc<WasmEngine>,
    pre: InstancePre<StoreState>,
    export: ComponentExportIndex,
    params: Vec<(String, Type)>,
    results: Vec<Type>,
    limits: Limits,
    pool: Arc<Pool<()>>,
    plan: WasiPlan,
    rt: Weak<Runtime>,
}

/// The [`Function`] / [`ProcessFactory`] of a WASM entry.
#[derive(Clone)]
struct WasmFunction(Arc<Loaded>);

impl WasmHandler {
    /// A handler registering into `rt`, with an engine made from `config` when needed.
    pub fn new(rt: Arc<Runtime>, config: EngineConfig) -> WasmHandler {
        WasmHandler {
            rt,
            config,
            engine: parking_lot::Mutex::new(None),
        }
    }

    /// The engine, made on first use.
    fn engine(&self) -> Result<Arc<WasmEngine>> {
        let mut slot = self.engine.lock();
        if let Some(engine) = slot.as_ref() {
            return Ok(engine.clone());
        }
        let engine = WasmEngine::new(&self.config)?;
        *slot = Some(engine.clone());
        Ok(engine)
    }
}

impl KindHandler for WasmHandler {
    fn kinds(&self) -> &[&'static str] {
        &["function.wat", "function.wasm", "process.wasm"]
    }

    fn apply(&self, entry: Arc<Entry>) -> BoxFuture<Result<()>> {
        let rt = self.rt.clone();
        let engine = self.engine();
        Box::pin(async move {
            let engine = engine?;
            // Compiling is CPU work: keep it off the async workers.
            let loaded = tokio::task::spawn_blocking({
                let rt = rt.clone();
                let entry = entry.clone();
                move || load(&rt, engine, &entry)
            })
            .await
            .map_err(|e| Error::internal(format!("loading {}: {e}", entry.id)))??;
            let function = WasmFunction(Arc::new(loaded));
            if entry.kind == "process.wasm" {
                rt.factories.register(entry.id.clone(), Arc::new(function));
            } else {
                rt.functions.register(entry.id.clone(), Arc::new(function));
            }
            Ok(())
        })
    }
}

/// Validates, reads, verifies, wraps and compiles one entry.
fn load(rt: &Arc<Runtime>, engine: Arc<WasmEngine>, entry: &Entry) -> Result<Loaded> {
    let config: WasmConfig = entry.decode().map_err(Error::from)?;
    let is_wat = entry.kind == "function.wat";
    validate(&config, is_wat)?;
    let bytes = if is_wat {
        wat::parse_str(&config.source).map_err(|e| {
            Error::invalid(format!("failed to load wat module: {e}")).in_field("source")
        })?
    } else {
        let fs = rt.fs.get(&config.fs).ok_or_else(|| {
            Error::not_found(format!("filesystem not found: {}", config.fs)).in_field("fs")
        })?;
        // A missing file will not appear later: reject instead of deferring (NotFound).
        let bytes = fs
            .read(&config.path)
            .map_err(|e| Error::invalid(e.message()).in_field("path"))?;
        verify_hash(&config.hash, &bytes).map_err(|e| e.in_field("hash"))?;
        bytes
    };
    let kind =
        binary_kind(&bytes).map_err(|e| e.in_field(if is_wat { "source" } else { "path" }))?;
    let profiles = profiles::check(&config.imports, kind == BinaryKind::Component)
        .map_err(|e| e.in_field("imports"))?;
    let grants = Grants::of(&profiles);
    let plan = WasiPlan::new(&config.wasi, grants)?;
    let component_bytes = match kind {
        BinaryKind::Component => bytes,
        BinaryKind::Core => {
            if config.wit.trim().is_empty() {
                return Err(Error::invalid(
                    "a core module needs a wit signature for its method (e.g. `answer: func() -> s32;`)",
                )
                .in_field("wit"));
            }
            if !crate::engine::wit_names(&config.wit).contains(&config.method) {
                return Err(Error::invalid(format!(
                    "method {:?} has no signature in wit",
                    config.method
                ))
                .in_field("wit"));
            }
            wrap_core(&bytes, &config.wit).map_err(|e| e.in_field("wit"))?
        }
    };
    let component = engine.compile(&component_bytes)?;
    let func_ty: ComponentFunc = export_func(engine.engine(), &component, &config.method)
        .map_err(|e| e.in_field("method"))?;
    let export = export_index(&component, &config.method).map_err(|e| e.in_field("method"))?;
    let linker = engine.linker(&component, grants, &entry.id)?;
    let pre = linker
        .instantiate_pre(&component)
        .map_err(|e| Error::invalid(format!("failed to link wasm module: {e:#}")))?;
    let pool_kind = config.pool.resolve().map_err(|e| e.in_field("pool"))?;
    Ok(Loaded {
        id: entry.id.clone(),
        method: config.method.clone(),
        params: func_ty.params().map(|(n, t)| (n.to_string(), t)).collect(),
        results: func_ty.results().collect(),
        engine,
        pre,
        export,
        limits: config.limits,
        pool: Pool::new(pool_kind),
        plan,
        rt: Arc::downgrade(rt),
    })
}

/// The field checks of reference §3.2, in its order and with its messages.
fn validate(c: &WasmConfig, is_wat: bool) -> Result<()> {
    let invalid = |field: &str, msg: &str| Err(Error::invalid(msg).in_field(field));
    if is_wat {
        if c.source.trim().is_empty() {
            return invalid("source", "source is required");
        }
    } else {
        if c.fs.is_empty() {
            return invalid("fs", "fs is required");
        }
        if c.path.is_empty() {
            return invalid("path", "path is required");
        }
        if c.hash.is_empty() {
            return invalid("hash", "hash is required");
        }
    }
    if c.method.is_empty() {
        return invalid("method", "method is required");
    }
    for (i, import) in c.imports.iter().enumerate() {
        if import
            .split_once(':')
            .map_or(import.is_empty(), |(_, name)| name.is_empty())
        {
            return Err(
                Error::invalid("import :name cannot be empty").in_field(format!("imports[{i}]"))
            );
        }
    }
    if !matches!(c.transport.as_str(), "" | "payload" | "wasi-http") {
        return invalid("transport", "invalid transport type");
    }
    c.pool.resolve().map_err(|e| e.in_field("pool"))?;
    if c.limits.max_execution_ms < 0 {
        return invalid(
            "limits.max_execution_ms",
            "limits.max_execution_ms cannot be negative",
        );
    }
    if c.limits.max_memory_mb < 0 {
        return invalid(
            "limits.max_memory_mb",
            "limits.max_memory_mb cannot be negative",
        );
    }
    if !c.wasi.cwd.is_empty() && !c.wasi.cwd.starts_with('/') {
        return invalid("wasi.cwd", "wasi.cwd must be absolute");
    }
    let mut names = std::collections::HashSet::new();
    for (i, env) in c.wasi.env.iter().enumerate() {
        let field = format!("wasi.env[{i}]");
        if env
            .id
            .split_once(':')
            .map_or(env.id.is_empty(), |(_, n)| n.is_empty())
        {
            return Err(Error::invalid("wasi.env[].id is required").in_field(field));
        }
        if env.name.trim().is_empty() {
            return Err(Error::invalid("wasi.env[].name is required").in_field(field));
        }
        if !names.insert(env.name.trim()) {
            return Err(Error::invalid("wasi.env[].name must be unique").in_field(field));
        }
    }
    let mut guests = std::collections::HashSet::new();
    for (i, m) in c.wasi.mounts.iter().enumerate() {
        let field = format!("wasi.mounts[{i}]");
        if m.fs
            .split_once(':')
            .map_or(m.fs.is_empty(), |(_, n)| n.is_empty())
        {
            return Err(Error::invalid("wasi.mounts[].fs is required").in_field(field));
        }
        let cleaned = clean_guest_path(&m.guest);
        if m.guest.trim().is_empty() || cleaned == "." {
            return Err(Error::invalid("wasi.mounts[].guest is required").in_field(field));
        }
        if !m.guest.starts_with('/') {
            return Err(Error::invalid("wasi.mounts[].guest must be absolute").in_field(field));
        }
        if !guests.insert(cleaned) {
            return Err(Error::invalid("wasi.mounts[].guest must be unique").in_field(field));
        }
    }
    Ok(())
}

/// Checks `sha256:<lowercase hex>` against the bytes.
fn verify_hash(expected: &str, bytes: &[u8]) -> Result<()> {
    use sha2::{Digest, Sha256};
    let Some((algo, hex_digest)) = expected.split_once(':') else {
        return Err(Error::invalid(format!(
            "hash verification failed: invalid hash format: {expected}"
        )));
    };
    if algo != "sha256" {
        return Err(Error::invalid(format!(
            "hash verification failed: unsupported hash algorithm: {algo}"
        )));
    }
    let actual = hex::encode(Sha256::digest(bytes));
    if actual != hex_digest {
        return Err(Error::invalid(format!(
            "hash verification failed: hash mismatch: expected {hex_digest}, got {actual}"
        )));
    }
    Ok(())
}

impl WasmFunction {
    async fn run(self, cx: CallContext, args: Vec<Value>) -> Result<Value> {
        let f = &self.0;
        let params = convert::lower_args(&f.params, &args)
            .map_err(|e| e.context(format!("{} ({})", f.method, f.id)))?;
        let rt = f
            .rt
            .upgrade()
            .ok_or_else(|| Error::new(ErrorKind::Unavailable, "the runtime is shutting down"))?;
        let call = f.plan.resolve(&rt, &f.id, &cx)?;
        drop(rt);
        let wasi = if f.plan.eager() {
            Some(call.build()?)
        } else {
            None
        };
        let _slot = f.pool.lease(|| async { Ok(()) }).await?;
        let _instance = f
            .engine
            .instances()
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::new(ErrorKind::Unavailable, "wasm engine is shutting down"))?;
        let max_memory = match f.limits.max_memory_mb {
            0 => DEFAULT_MAX_MEMORY_MB,
            mb => mb as u64,
        };
        let limits = StoreLimitsBuilder::new()
            .memory_size((max_memory as usize).saturating_mul(1 << 20))
            .trap_on_grow_failure(true)
            .build();
        let deadline = (f.limits.max_execution_ms > 0)
            .then(|| Instant::now() + Duration::from_millis(f.limits.max_execution_ms as u64));
        let state = StoreState::new(f.rt.clone(), call, wasi, limits, deadline);
        let mut store = Store::new(f.engine.engine(), state);
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|cx| match cx.data().deadline {
            Some(deadline) if Instant::now() >= deadline => Ok(UpdateDeadline::Interrupt),
            _ => Ok(UpdateDeadline::Yield(1)),
        });
        let outcome = async {
            let instance = f.pre.instantiate_async(&mut store).await?;
            let func = instance.get_func(&mut store, f.export).ok_or_else(|| {
                wasmtime::Error::msg(format!("export \"{}\" not found in component", f.method))
            })?;
            let mut results: Vec<Val> = f.results.iter().map(|_| Val::Bool(false)).collect();
            func.call_async(&mut store, &params, &mut results).await?;
            Ok::<_, wasmtime::Error>(results)
        };
        // The epoch stops a guest that computes; this stops one parked in a host call
        // (a sleep, a request) when its time is up.
        let outcome = match deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline.into(), outcome).await {
                Ok(outcome) => outcome,
                Err(_) => Err(wasmtime::Error::from(Trap::Interrupt)),
            },
            None => outcome.await,
        };
        match outcome {
            Ok(results) => match (results.first(), f.results.first()) {
                (Some(v), Some(ty)) => convert::lift_as(ty, v),
                _ => Ok(Value::Nil),
            },
            Err(e) => match e.downcast_ref::<I32Exit>() {
                Some(I32Exit(0)) => Ok(Value::Nil),
                Some(I32Exit(status)) => Err(Error::internal(format!(
                    "{}: guest exited with status {status}",
                    f.id
                ))
                .with_details(Some(Value::from_pairs([(
                    "exit_code",
                    Value::Int(i64::from(*status)),
                )])))),
                None => Err(call_error(&f.id, &f.method, &f.limits, &e)),
            },
        }
    }
}

/// Turns a wasmtime error into a weft error: Timeout for the deadline, Internal with the
/// entry, the method and the wasm backtrace for traps.
fn call_error(id: &EntryId, method: &str, limits: &Limits, e: &wasmtime::Error) -> Error {
    let backtrace = e
        .downcast_ref::<wasmtime::WasmBacktrace>()
        .map(|bt| bt.to_string())
        .unwrap_or_default();
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => Error::timeout(format!(
            "{id}: {method} exceeded limits.max_execution_ms ({} ms)",
            limits.max_execution_ms
        )),
        Some(trap) => {
            let detail = trap.to_string();
            let msg = if e
                .chain()
                .any(|c| c.to_string().contains("forcing a memory growth failure"))
            {
                format!(
                    "{id}: {method} exceeded its memory limit ({} MB)",
                    match limits.max_memory_mb {
                        0 => DEFAULT_MAX_MEMORY_MB as i64,
                        n => n,
                    }
                )
            } else {
                format!("failed to call wasm method: {method} ({id}): wasm trap: {detail}")
            };
            Error::internal(msg).with_stack(backtrace)
        }
        None => {
            let text = format!("{e:#}");
            if text.contains("forcing a memory growth failure") {
                return Error::internal(format!(
                    "{id}: {method} exceeded its memory limit ({} MB)",
                    match limits.max_memory_mb {
                        0 => DEFAULT_MAX_MEMORY_MB as i64,
                        n => n,
                    }
                ));
            }
            Error::internal(format!(
                "failed to call wasm method: {method} ({id}): {text}"
            ))
            .with_stack(backtrace)
        }
    }
}

impl Function for WasmFunction {
    fn call(&self, cx: CallContext, args: Vec<Value>) -> BoxFuture<Result<Value>> {
        Box::pin(self.clone().run(cx, args))
    }
}

impl ProcessFactory for WasmFunction {
    fn run(&self, cx: CallContext, args: Vec<Value>) -> BoxFuture<Result<Value>> {
        Box::pin(self.clone().run(cx, args))
    }
}
