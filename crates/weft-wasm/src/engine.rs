//! The one wasmtime engine of a runtime: configuration, the epoch ticker, the compile
//! cache, wrapping core modules into components, and linking.
//!
//! - Pooling allocator sized from config, with a semaphore in front (an exhausted pool
//!   fails instead of waiting).
//! - Epoch interruption with a 1 ms ticker: every call has a deadline; CPU-bound guests
//!   yield to tokio every tick and stop at `max_execution_ms`.
//! - Compile cache on disk, keyed by the component's sha256 and the engine's fingerprint;
//!   each file carries a sha256 of its payload, so corrupt or foreign files are ignored
//!   and rebuilt.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, ComponentExportIndex, Linker, ResourceType};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};
use weft_core::{EntryId, Error, Result};

use crate::store::StoreState;
use crate::wasi::Grants;

/// How often the epoch advances; one tick is the unit of deadlines.
pub const TICK: Duration = Duration::from_millis(1);

/// Bytes of each freed memory or table reset in place instead of decommitted.
const KEEP_RESIDENT: usize = 2 << 20;

/// Decommits gathered before one flush (each flush is a TLB shootdown).
const DECOMMIT_BATCH: usize = 16;

/// Engine settings (from `.wippy.yaml` `wasm.*`).
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Instances alive at once (pooling allocator slots); more callers wait.
    pub max_instances: u32,
    /// Where compiled components are cached (`None`: no cache).
    pub cache_dir: Option<PathBuf>,
}

/// The engine and what every WASM entry shares.
pub struct WasmEngine {
    engine: Engine,
    instances: Arc<Semaphore>,
    cache_dir: Option<PathBuf>,
    fingerprint: String,
    ticker: tokio::task::JoinHandle<()>,
}

impl WasmEngine {
    /// Builds the engine and starts its epoch ticker (needs a tokio runtime).
    pub fn new(config: &EngineConfig) -> Result<Arc<WasmEngine>> {
        let mut pool = PoolingAllocationConfig::default();
        let n = config.max_instances.max(1);
        pool.total_component_instances(n)
            .total_core_instances(n.saturating_mul(8))
            .total_memories(n.saturating_mul(2))
            .total_tables(n.saturating_mul(4))
            .total_stacks(n)
            .max_core_instances_per_component(32)
            .max_memory_size(1 << 32)
            // Reset a freed slot by rewriting only the pages the guest dirtied (found
            // with PAGEMAP_SCAN where the kernel has it) instead of `madvise`: no TLB
            // shootdown per call. Pages kept resident stay bounded by the warm slots.
            .pagemap_scan(wasmtime::Enabled::Auto)
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT)
            .decommit_batch_size(DECOMMIT_BATCH);
        let mut cfg = Config::new();
        cfg.wasm_component_model(true)
            .epoch_interruption(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&cfg).map_err(|e| Error::internal(format!("wasm engine: {e}")))?;
        let mut h = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        let fingerprint = format!("{:016x}", h.finish());
        let ticking = engine.clone();
        let ticker = tokio::spawn(async move {
            let mut every = tokio::time::interval(TICK);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                every.tick().await;
                ticking.increment_epoch();
            }
        });
        Ok(Arc::new(WasmEngine {
            engine,
            instances: Arc::new(Semaphore::new(n as usize)),
            cache_dir: config.cache_dir.clone(),
            fingerprint,
            ticker,
        }))
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The semaphore in front of the pooling allocator.
    pub fn instances(&self) -> &Arc<Semaphore> {
        &self.instances
    }

    /// Compiles a component, through the cache when there is one.
    pub fn compile(&self, bytes: &[u8]) -> Result<Component> {
        let key = hex::encode(Sha256::digest(bytes));
        let path = self
            .cache_dir
            .as_ref()
            .map(|dir| dir.join(format!("{key}-{}.cwasm", self.fingerprint)));
        if let Some(path) = &path
            && let Some(component) = self.load_cached(path)
        {
            return Ok(component);
        }
        let component = Component::new(&self.engine, bytes)
            .map_err(|e| Error::invalid(format!("failed to compile wasm module: {e:#}")))?;
        if let Some(path) = &path {
            match component.serialize() {
                Ok(compiled) => {
                    if let Err(e) = store_cached(path, &compiled) {
                        tracing::warn!("compile cache: cannot write {}: {e}", path.display());
                    }
                }
                Err(e) => tracing::warn!("compile cache: cannot serialize: {e}"),
            }
        }
        Ok(component)
    }

    /// A cached component, if the file is whole and made by this engine.
    fn load_cached(&self, path: &Path) -> Option<Component> {
        let file = std::fs::read(path).ok()?;
        let (digest, payload) = file.split_at_checked(32)?;
        if Sha256::digest(payload).as_slice() != digest {
            tracing::warn!("compile cache: {} is corrupt; rebuilding", path.display());
            return None;
        }
        // SAFETY: the payload is exactly what `Component::serialize` wrote for this
        // engine fingerprint (the sha256 above proves the bytes are unchanged), and
        // wasmtime checks the engine compatibility itself before using it.
        match unsafe { Component::deserialize(&self.engine, payload) } {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(
                    "compile cache: {} unusable ({e}); rebuilding",
                    path.display()
                );
                None
            }
        }
    }

    /// A linker for `component` as entry `entry` with `grants` (see [`crate::wasi`]).
    pub(crate) fn linker(
        &self,
        component: &Component,
        grants: Grants,
        entry: &EntryId,
    ) -> Result<Linker<StoreState>> {
        let mut linker: Linker<StoreState> = Linker::new(&self.engine);
        crate::wasi::link(&mut linker, &self.engine, component, grants, entry)?;
        Ok(linker)
    }
}

impl Drop for WasmEngine {
    fn drop(&mut self) {
        self.ticker.abort();
    }
}

/// Defines every function of an import as a trap saying `why` it is not there.
pub(crate) fn stub_import(
    linker: &mut Linker<StoreState>,
    engine: &Engine,
    name: &str,
    item: &ComponentItem,
    why: String,
) -> wasmtime::Result<()> {
    match item {
        ComponentItem::ComponentInstance(instance) => {
            let mut inst = linker.instance(name)?;
            for (fname, fitem) in instance.exports(engine) {
                match fitem.ty {
                    ComponentItem::ComponentFunc(_) => {
                        let why = format!("{name}#{fname}: {why}");
                        inst.func_new(fname, move |_, _, _, _| {
                            Err(wasmtime::Error::msg(why.clone()))
                        })?;
                    }
                    ComponentItem::Resource(_) => {
                        inst.resource(fname, resource_type(fname), |_, _| Ok(()))?;
                    }
                    _ => {}
                }
            }
        }
        ComponentItem::ComponentFunc(_) => {
            let why = format!("{name}: {why}");
            linker.root().func_new(name, move |_, _, _, _| {
                Err(wasmtime::Error::msg(why.clone()))
            })?;
        }
        _ => {}
    }
    Ok(())
}

/// The host type behind resources of unprovided imports.
struct Unprovided;

/// The type a stubbed interface gives a resource it names: the real `wasi:io` types
/// for the resources stubbed WASI interfaces use from `wasi:io` (a `pollable` from a
/// clock), else a type of its own.
fn resource_type(name: &str) -> ResourceType {
    use wasmtime_wasi_io::{poll::DynPollable, streams};
    match name {
        "pollable" => ResourceType::host::<DynPollable>(),
        "input-stream" => ResourceType::host::<streams::DynInputStream>(),
        "output-stream" => ResourceType::host::<streams::DynOutputStream>(),
        "error" => ResourceType::host::<streams::Error>(),
        _ => ResourceType::host::<Unprovided>(),
    }
}

/// Writes a cache file atomically: sha256 of the payload, then the payload.
fn store_cached(path: &Path, compiled: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut data = Vec::with_capacity(32 + compiled.len());
    data.extend_from_slice(&Sha256::digest(compiled));
    data.extend_from_slice(compiled);
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path)
}

/// Where `method` is in a component: `name` (world export) or `iface#func` (split at the
/// last `#`: the exported instance, then the function in it).
pub fn export_index(component: &Component, method: &str) -> Result<ComponentExportIndex> {
    let not_found = || Error::invalid(format!("export \"{method}\" not found in component"));
    match method.rsplit_once('#') {
        Some((iface, func)) => {
            let instance = component
                .get_export_index(None, iface)
                .ok_or_else(not_found)?;
            component
                .get_export_index(Some(&instance), func)
                .ok_or_else(not_found)
        }
        None => component
            .get_export_index(None, method)
            .ok_or_else(not_found),
    }
}

/// The function type of the export `method`.
pub fn export_func(
    engine: &Engine,
    component: &Component,
    method: &str,
) -> Result<wasmtime::component::types::ComponentFunc> {
    let ty = component.component_type();
    let item = match method.rsplit_once('#') {
        Some((iface, func)) => match ty.get_export(engine, iface).map(|e| e.ty) {
            Some(ComponentItem::ComponentInstance(inst)) => {
                inst.get_export(engine, func).map(|e| e.ty)
            }
            _ => None,
        },
        None => ty.get_export(engine, method).map(|e| e.ty),
    };
    match item {
        Some(ComponentItem::ComponentFunc(f)) => Ok(f),
        Some(_) => Err(Error::invalid(format!(
            "export \"{method}\" is not a function"
        ))),
        None => Err(Error::invalid(format!(
            "export \"{method}\" not found in component"
        ))),
    }
}

/// What a binary is, from its header.
#[derive(Debug, PartialEq, Eq)]
pub enum BinaryKind {
    /// A core WebAssembly module.
    Core,
    /// A Component Model component.
    Component,
}

/// Detects a core module or a component from the preamble.
pub fn binary_kind(bytes: &[u8]) -> Result<BinaryKind> {
    match bytes {
        [0, b'a', b's', b'm', 1, 0, 0, 0, ..] => Ok(BinaryKind::Core),
        [0, b'a', b's', b'm', _, _, 1, 0, ..] => Ok(BinaryKind::Component),
        _ => Err(Error::invalid(
            "the file is neither a core wasm module nor a component",
        )),
    }
}

/// Wraps a core module into a component with the functions of its `wit` snippet.
///
/// The snippet lists `name: func(...) -> T;` lines; each becomes a world export. The
/// module must export those functions following the canonical ABI (and `cabi_realloc`
/// when strings or lists cross).
pub fn wrap_core(module: &[u8], wit: &str) -> Result<Vec<u8>> {
    let funcs: Vec<&str> = wit
        .split(';')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| l.trim_start_matches("export").trim())
        .collect();
    if funcs.is_empty() {
        return Err(Error::invalid("no functions found in WIT text"));
    }
    let mut world = String::from("package weft:core-module;\n\nworld module {\n");
    for f in &funcs {
        world.push_str("  export ");
        world.push_str(f);
        world.push_str(";\n");
    }
    world.push_str("}\n");
    let mut resolve = wit_parser::Resolve::default();
    let pkg = resolve
        .push_str("weft-core-module.wit", &world)
        .map_err(|e| Error::invalid(format!("invalid wit signature: {e:#}")))?;
    let world_id = resolve
        .select_world(&[pkg], Some("module"))
        .map_err(|e| Error::invalid(format!("invalid wit signature: {e:#}")))?;
    let mut module = module.to_vec();
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world_id,
        wit_component::StringEncoding::UTF8,
    )
    .map_err(|e| Error::invalid(format!("invalid wit signature: {e:#}")))?;
    wit_component::ComponentEncoder::default()
        .module(&module)
        .and_then(|enc| enc.validate(true).encode())
        .map_err(|e| {
            Error::invalid(format!(
                "the wit signature does not match the core module: {e:#}"
            ))
        })
}

/// The names a `wit` snippet defines (for checking that `method` is among them).
pub fn wit_names(wit: &str) -> Vec<String> {
    wit.split(';')
        .filter_map(|l| {
            l.trim()
                .trim_start_matches("export")
                .trim()
                .split(':')
                .next()
        })
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect()
}
