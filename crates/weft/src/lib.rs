//! weft: boot a Wippy-format app with every engine registered.
//!
//! The CLI (`src/main.rs`) and the benchmarks both boot through [`boot_app`], so what is
//! measured is what users run.

use std::sync::Arc;

use weft_lua::LuaEngine;
use weft_registry::{BootOptions, KindHandler, LoadErrors, LoadOptions, boot, load_app};
use weft_runtime::Runtime;
use weft_runtime::fs::FsHandler;
use weft_runtime::hosts::HostHandler;
use weft_runtime::services::ServiceHandler;
use weft_wasm::{EngineConfig, WasmHandler};

/// A booted app: its runtime and the warnings of its load.
pub struct Booted {
    /// The running app's shared state.
    pub runtime: Arc<Runtime>,
    /// Load and boot warnings (duplicates, skipped kinds, ignored keys).
    pub warnings: Vec<String>,
}

/// Loads the app of `opts` and registers every entry with its engine.
pub async fn boot_app(opts: &LoadOptions, boot_opts: &BootOptions) -> Result<Booted, LoadErrors> {
    let app = load_app(opts)?;
    let runtime = Runtime::new(app.root.clone(), app.config.clone());
    let handlers = handlers(&runtime);
    let report = boot(&app, &runtime.registry, &handlers, boot_opts).await?;
    let mut warnings = app.warnings;
    warnings.extend(report.warnings);
    Ok(Booted { runtime, warnings })
}

/// The kind handlers of every engine, registering into `rt`.
pub fn handlers(rt: &Arc<Runtime>) -> Vec<Arc<dyn KindHandler>> {
    vec![
        Arc::new(LuaEngine::new(rt.clone())),
        Arc::new(WasmHandler::new(rt.clone(), wasm_config(rt))),
        Arc::new(HostHandler),
        Arc::new(ServiceHandler::new(rt.clone())),
        Arc::new(FsHandler::new(rt)),
        Arc::new(weft_runtime::env::EnvHandler::new(rt)),
        Arc::new(weft_security::PolicyHandler::new(&rt.policies)),
    ]
}

/// The WASM engine settings: `wasm.max_instances` (default 256) and `wasm.cache_dir`
/// (default `.weft/cache` in the app root; `""` turns the cache off).
fn wasm_config(rt: &Runtime) -> EngineConfig {
    let max_instances = rt
        .config
        .get("wasm.max_instances")
        .and_then(weft_core::Value::as_int)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(256);
    let cache_dir = match rt
        .config
        .get("wasm.cache_dir")
        .and_then(weft_core::Value::as_str)
    {
        Some("") => None,
        Some(dir) => Some(rt.root.join(dir)),
        None => Some(rt.root.join(".weft").join("cache")),
    };
    EngineConfig {
        max_instances,
        cache_dir,
    }
}
