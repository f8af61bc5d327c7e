//! `function.wat`, `function.wasm` and `process.wasm` entries: the kind handler, the
//! entry fields and their checks (reference §3.2), and loading.
//!
//! Everything that can fail is checked at registration: the fields, the file and its
//! hash, the binary, the `wit` signature of a core module, the method, the imports, the
//! `wasi:` fields. A loaded entry is registered as a function or a process factory whose
//! calls go through [`crate::call`].

use std::sync::{Arc, Weak};

use serde::Deserialize;
use weft_core::{BoxFuture, Error, Result};
use weft_registry::{BootMode, Entry, KindHandler};
use weft_runtime::{Pool, PoolConfig, Runtime};

use crate::call::{Limits, Loaded, WasmFunction};
use crate::component::{BinaryKind, binary_kind, export_func, export_index, wrap_core};
use crate::engine::{EngineConfig, WasmEngine};
use crate::link;
use crate::profiles::{self, Grants};
use crate::signature::Signature;
use crate::wasi::{Capabilities, WasiConfig, WasiPlan, clean_guest_path};

/// The kind handler for WASM entries. The engine is made with the first WASM entry, so
/// apps without WASM never pay for it.
pub struct WasmHandler {
    /// Weak: the runtime owns the functions this handler registers.
    rt: Weak<Runtime>,
    caps: Capabilities,
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

impl WasmHandler {
    /// A handler registering into `rt`, reaching the app through `caps`, with an engine
    /// made from `config` when the first entry needs it.
    pub fn new(rt: &Arc<Runtime>, caps: Capabilities, config: EngineConfig) -> WasmHandler {
        WasmHandler {
            rt: Arc::downgrade(rt),
            caps,
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

    /// Loads the entry; a check compiles it as a run does but writes no cache file.
    fn apply(&self, entry: Arc<Entry>, mode: BootMode) -> BoxFuture<Result<()>> {
        let rt = Runtime::upgrade(&self.rt);
        let caps = self.caps.clone();
        let engine = self.engine();
        Box::pin(async move {
            let rt = rt?;
            let engine = engine?;
            // Compiling is CPU work: keep it off the async workers.
            let loaded = tokio::task::spawn_blocking({
                let rt = rt.clone();
                let entry = entry.clone();
                move || load(&rt, caps, engine, &entry, mode)
            })
            .await
            .map_err(|e| Error::internal(format!("loading {}: {e}", entry.id)))??;
            let function = WasmFunction(Arc::new(loaded));
            if entry.kind == "process.wasm" {
                rt.factories.register(entry.id.clone(), Arc::new(function));
            } else {
                rt.pools.register(entry.id.clone(), &function.0.pool);
                rt.functions.register(entry.id.clone(), Arc::new(function));
            }
            Ok(())
        })
    }
}

/// Validates, reads, verifies, wraps, compiles and links one entry.
fn load(
    rt: &Arc<Runtime>,
    caps: Capabilities,
    engine: Arc<WasmEngine>,
    entry: &Entry,
    mode: BootMode,
) -> Result<Loaded> {
    let config: WasmConfig = entry.decode().map_err(Error::from)?;
    let is_wat = entry.kind == "function.wat";
    validate(&config, is_wat)?;
    let bytes = if is_wat {
        wat::parse_str(&config.source).map_err(|e| {
            Error::invalid(format!("failed to load wat module: {e}")).in_field("source")
        })?
    } else {
        // Boot reads the file as the runtime itself; a filesystem not registered yet
        // defers the entry (NotFound).
        let fs = caps
            .fs
            .get(&rt.system_context(), &config.fs)
            .map_err(|e| e.in_field("fs"))?;
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
            let signature = Signature::parse(&config.wit).map_err(|e| e.in_field("wit"))?;
            if !signature.functions().contains(&config.method) {
                return Err(Error::invalid(format!(
                    "method {:?} has no signature in wit (it defines {})",
                    config.method,
                    signature.functions().join(", ")
                ))
                .in_field("wit"));
            }
            wrap_core(&bytes, &signature).map_err(|e| e.in_field("wit"))?
        }
    };
    let component = engine.compile(&component_bytes, mode)?;
    let func_ty = export_func(engine.engine(), &component, &config.method)
        .map_err(|e| e.in_field("method"))?;
    let export = export_index(&component, &config.method).map_err(|e| e.in_field("method"))?;
    let linker = link::linker(engine.engine(), &component, grants, &entry.id)?;
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
        caps,
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
    match c.transport.as_str() {
        "" | "payload" => {}
        "wasi-http" => {
            return invalid(
                "transport",
                "the wasi-http transport is not supported yet (use payload)",
            );
        }
        _ => return invalid("transport", "invalid transport type"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use weft_core::FIELD_PREFIX;

    /// A `function.wat` entry's fields with `transport`.
    fn with_transport(transport: &str) -> WasmConfig {
        WasmConfig {
            source: "(component)".into(),
            method: "run".into(),
            transport: transport.into(),
            ..WasmConfig::default()
        }
    }

    #[test]
    fn only_the_payload_transport_is_accepted() {
        for ok in ["", "payload"] {
            assert!(validate(&with_transport(ok), true).is_ok(), "{ok:?}");
        }
        let err = validate(&with_transport("wasi-http"), true).unwrap_err();
        assert_eq!(err.kind(), weft_core::ErrorKind::Invalid);
        assert_eq!(
            err.message(),
            "the wasi-http transport is not supported yet (use payload)"
        );
        assert_eq!(err.context_chain(), [format!("{FIELD_PREFIX}transport")]);
        let err = validate(&with_transport("grpc"), true).unwrap_err();
        assert_eq!(err.message(), "invalid transport type");
        assert_eq!(err.context_chain(), [format!("{FIELD_PREFIX}transport")]);
    }
}
