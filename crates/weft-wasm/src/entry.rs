//! `function.wat`, `function.wasm` and `process.wasm` entries: the kind handler, the
//! entry fields and their checks (reference §3.2), and loading.
//!
//! Everything that can fail is checked at registration: the fields, the file and its
//! hash, the binary, the `wit` signature of a core module, the method, the imports, the
//! `wasi:` fields. A loaded entry is registered as a function or a process factory whose
//! calls go through [`crate::call`].

use std::sync::{Arc, Weak};

use serde::Deserialize;
use weft_core::{BoxFuture, EntryId, Error, Result};
use weft_registry::{BootMode, Entry, KindHandler, Staged};
use weft_runtime::{Pool, PoolConfig, Runtime};

use crate::call::{Limits, Loaded, Mode, Shapes, WasmFunction};
use crate::component::{BinaryKind, binary_kind, export_func, export_index, wrap_core};
use crate::engine::{EngineConfig, WasmEngine};
use crate::link;
use crate::profiles::{self, Grants};
use crate::signature::Signature;
use crate::warm::{InstanceMode, Warm};
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
    /// Published, a changed entry's new component and pool take new calls at once;
    /// calls in flight finish on the old ones, whose pool is dropped after them.
    fn stage(&self, entry: Arc<Entry>, mode: BootMode) -> BoxFuture<Result<Staged>> {
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
            let id = entry.id.clone();
            Ok(Staged::new(move || {
                if entry.kind == "process.wasm" {
                    rt.publish_factory(id, Arc::new(function))
                } else {
                    let pool = function.0.pool.clone();
                    rt.publish_function(id, Arc::new(function), &pool)
                }
            }))
        })
    }

    fn stage_remove(&self, entry: Arc<Entry>) -> Result<Staged> {
        let rt = Runtime::upgrade(&self.rt)?;
        Ok(Staged::new(move || rt.withdraw(entry.id.clone())))
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
        // A bare name is an entry of this one's namespace, as everywhere in the app.
        let fs_id = EntryId::resolve(config.fs.trim(), entry.id.ns());
        let fs = caps
            .fs
            .get(&rt.system_context(), fs_id.as_str())
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
    let plan = WasiPlan::new(&config.wasi, grants, entry.id.ns())?;
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
    let component = engine.compile(&entry.id, &component_bytes, mode)?;
    let call_mode = call_mode(&config, &entry.kind).map_err(|e| e.in_field("method"))?;
    let method = match call_mode {
        Mode::IncomingHandler => incoming_handler_export(engine.engine(), &component)
            .map_err(|e| e.in_field("method"))?,
        _ => config.method.clone(),
    };
    let func_ty =
        export_func(engine.engine(), &component, &method).map_err(|e| e.in_field("method"))?;
    if call_mode == Mode::IncomingHandler
        && (func_ty.params().len() != 2 || func_ty.results().len() != 0)
    {
        return Err(Error::invalid(format!(
            "export \"{method}\" is not wasi:http's handle(request, response-out)"
        ))
        .in_field("method"));
    }
    let export = export_index(&component, &method).map_err(|e| e.in_field("method"))?;
    let linker = link::linker(engine.engine(), &component, grants, &entry.id)?;
    let pre = linker
        .instantiate_pre(&component)
        .map_err(|e| Error::invalid(format!("failed to link wasm module: {e:#}")))?;
    let pool_kind = config.pool.resolve().map_err(|e| e.in_field("pool"))?;
    let warm = match InstanceMode::of(&config.pool)? {
        InstanceMode::Fresh => None,
        InstanceMode::Warm { .. } if call_mode != Mode::Payload => {
            return Err(Error::invalid(
                "warm instances serve payload calls only (not HTTP transports)",
            )
            .in_field("pool.instance"));
        }
        InstanceMode::Warm {
            max_invocations,
            idle_timeout,
        } => Some(Warm::new(max_invocations, idle_timeout, engine.warm())),
    };
    let params: Vec<(String, wasmtime::component::Type)> =
        func_ty.params().map(|(n, t)| (n.to_string(), t)).collect();
    let results: Vec<wasmtime::component::Type> = func_ty.results().collect();
    Ok(Loaded {
        shapes: Shapes::of(&params, &results),
        id: entry.id.clone(),
        method: config.method.clone(),
        params,
        results,
        engine,
        pre,
        export,
        limits: config.limits,
        mode: call_mode,
        pool: Pool::new(pool_kind),
        warm,
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
        "" | "payload" | "wasi-http" => {}
        _ => return invalid("transport", "invalid transport type"),
    }
    if c.transport == "wasi-http" && is_incoming_handler(&c.method) {
        return invalid(
            "transport",
            "a wasi:http/incoming-handler method takes the request itself: leave transport unset",
        );
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

/// The interface a `wasi:http/incoming-handler` component exports, without its version.
const INCOMING_HANDLER: &str = "wasi:http/incoming-handler";

/// Whether `method` names `wasi:http/incoming-handler#handle`, with or without an
/// `@0.2.x` version.
fn is_incoming_handler(method: &str) -> bool {
    let Some((iface, "handle")) = method.rsplit_once('#') else {
        return false;
    };
    match iface.strip_prefix(INCOMING_HANDLER) {
        Some("") => true,
        Some(version) => version.starts_with("@0.2."),
        None => false,
    }
}

/// How the entry is called: an incoming handler by its method, else by `transport`.
fn call_mode(config: &WasmConfig, kind: &str) -> Result<Mode> {
    let mode = if is_incoming_handler(&config.method) {
        Mode::IncomingHandler
    } else if config.transport == "wasi-http" {
        Mode::WasiHttp
    } else {
        return Ok(Mode::Payload);
    };
    if kind == "process.wasm" {
        return Err(Error::invalid(
            "an HTTP handler (wasi-http transport or incoming-handler) must be a function.wasm or function.wat",
        ));
    }
    Ok(mode)
}

/// The full name of the `wasi:http/incoming-handler@0.2.x#handle` export of `component`
/// (an entry may leave the version out).
fn incoming_handler_export(
    engine: &wasmtime::Engine,
    component: &wasmtime::component::Component,
) -> Result<String> {
    let prefix = format!("{INCOMING_HANDLER}@0.2.");
    component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name)
        .find(|name| name.starts_with(&prefix))
        .map(|name| format!("{name}#handle"))
        .ok_or_else(|| {
            Error::invalid(format!(
                "the component does not export {INCOMING_HANDLER}@0.2.x"
            ))
        })
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
    fn payload_and_wasi_http_are_the_transports() {
        for ok in ["", "payload"] {
            assert!(validate(&with_transport(ok), true).is_ok(), "{ok:?}");
        }
        assert!(validate(&with_transport("wasi-http"), true).is_ok());
        let mut handler = with_transport("wasi-http");
        handler.method = "wasi:http/incoming-handler#handle".into();
        let err = validate(&handler, true).unwrap_err();
        assert_eq!(err.kind(), weft_core::ErrorKind::Invalid);
        assert!(err.message().contains("leave transport unset"), "{err}");
        assert_eq!(err.context_chain(), [format!("{FIELD_PREFIX}transport")]);
        let err = validate(&with_transport("grpc"), true).unwrap_err();
        assert_eq!(err.message(), "invalid transport type");
        assert_eq!(err.context_chain(), [format!("{FIELD_PREFIX}transport")]);
    }

    #[test]
    fn incoming_handler_methods_are_recognised_with_or_without_a_version() {
        for yes in [
            "wasi:http/incoming-handler#handle",
            "wasi:http/incoming-handler@0.2.0#handle",
            "wasi:http/incoming-handler@0.2.12#handle",
        ] {
            assert!(is_incoming_handler(yes), "{yes}");
        }
        for no in [
            "handle",
            "wasi:http/incoming-handler#other",
            "wasi:http/incoming-handler@0.3.0#handle",
            "wasi:http/incoming-handlers#handle",
        ] {
            assert!(!is_incoming_handler(no), "{no}");
        }
    }
}
