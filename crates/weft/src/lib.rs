//! weft: boot a Wippy-format app with every engine registered.
//!
//! The CLI (`src/main.rs`) and the benchmarks both boot through [`boot_app`], so what is
//! measured is what users run.

#![deny(missing_docs)]

use std::sync::Arc;

use weft_env::{EnvHandler, EnvRegistry};
use weft_fs::{FsHandler, FsRegistry};
use weft_lua::LuaEngine;
use weft_registry::{BootOptions, KindHandler, LoadErrors, LoadOptions, boot, load_app};
use weft_runtime::{HostHandler, Runtime, ServiceHandler};
use weft_security::PolicyHandler;
use weft_store::{StoreHandler, StoreRegistry};
use weft_wasm::{CompileProgress, EngineConfig, WasmHandler};

/// A booted app: its runtime, its capabilities and the warnings of its load.
pub struct Booted {
    /// The running app's shared state.
    pub runtime: Arc<Runtime>,
    /// The env capability (storages and variables).
    pub env: Arc<EnvRegistry>,
    /// The fs capability (`fs.directory` roots).
    pub fs: Arc<FsRegistry>,
    /// The HTTP servers (`http.service` and their routing).
    pub http: Arc<weft_http::HttpServers>,
    /// The store capability (`store.memory`, `security.token_store`).
    pub store: Arc<StoreRegistry>,
    /// Load and boot warnings (duplicates, skipped kinds, ignored keys).
    pub warnings: Vec<String>,
}

/// The capabilities of one app, made before its entries are applied and handed to the
/// engines that serve them.
struct Capabilities {
    env: Arc<EnvRegistry>,
    fs: Arc<FsRegistry>,
    /// The outbound HTTP client: one connection pool for the whole runtime.
    http: Arc<weft_http::HttpClient>,
    /// The stores and token stores (the HTTP `token_auth` middleware validates here).
    store: Arc<StoreRegistry>,
}

/// Loads the app of `opts` and registers every entry with its engine; `boot_opts.mode`
/// says whether to run the app next or only to check it (no app code, no writes).
pub async fn boot_app(opts: &LoadOptions, boot_opts: &BootOptions) -> Result<Booted, LoadErrors> {
    boot_app_with(opts, boot_opts, None).await
}

/// [`boot_app`], telling `progress` about every WASM component compiled (the CLI's
/// progress line; later compiles of a live change too).
pub async fn boot_app_with(
    opts: &LoadOptions,
    boot_opts: &BootOptions,
    progress: Option<CompileProgress>,
) -> Result<Booted, LoadErrors> {
    let app = load_app(opts)?;
    let runtime = Runtime::new(app.root.clone(), app.config.clone());
    let caps = Capabilities::new(&runtime);
    let servers = weft_http::HttpServers::new(&runtime, caps.fs.clone(), caps.store.clone());
    let handlers = all_handlers(&runtime, &caps, &servers, progress);
    let report = boot(&app, &runtime.registry, &handlers, boot_opts).await?;
    let mut warnings = app.warnings;
    warnings.extend(report.warnings);
    Ok(Booted {
        runtime,
        env: caps.env,
        fs: caps.fs,
        store: caps.store,
        http: servers,
        warnings,
    })
}

/// Every entry kind weft knows: those of every kind handler [`boot_app`] registers, and
/// the internal kinds loaded as data. A kind here needs a branch in `weft schema`.
pub fn known_kinds() -> Vec<&'static str> {
    let runtime = Runtime::new(std::env::temp_dir(), weft_registry::Config::default());
    let caps = Capabilities::new(&runtime);
    let servers = weft_http::HttpServers::new(&runtime, caps.fs.clone(), caps.store.clone());
    let mut kinds: Vec<&'static str> = all_handlers(&runtime, &caps, &servers, None)
        .iter()
        .flat_map(|h| h.kinds().iter().copied())
        .chain(weft_registry::INTERNAL_KINDS)
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds
}

impl Capabilities {
    /// The capabilities of an app booting into `runtime`.
    fn new(runtime: &Arc<Runtime>) -> Capabilities {
        Capabilities {
            env: Arc::new(EnvRegistry::new(runtime.root.clone())),
            fs: Arc::new(FsRegistry::new(runtime.root.clone())),
            http: Arc::new(weft_http::HttpClient::new()),
            store: Arc::new(StoreRegistry::new(runtime.policies.clone())),
        }
    }
}

/// Every kind handler of an app: the engines' and capabilities' ([`handlers`]) and
/// HTTP's, filling `servers`.
fn all_handlers(
    rt: &Arc<Runtime>,
    caps: &Capabilities,
    servers: &Arc<weft_http::HttpServers>,
    progress: Option<CompileProgress>,
) -> Vec<Arc<dyn KindHandler>> {
    let mut handlers = handlers(rt, caps, progress);
    handlers.push(Arc::new(weft_http::HttpHandler::new(servers)));
    handlers
}

/// The kind handlers: each is given what it fills (the runtime, or a capability's
/// state) and, for engines, the capabilities they serve to their code.
fn handlers(
    rt: &Arc<Runtime>,
    caps: &Capabilities,
    progress: Option<CompileProgress>,
) -> Vec<Arc<dyn KindHandler>> {
    let lua = weft_lua::Capabilities {
        env: caps.env.clone(),
        fs: caps.fs.clone(),
        http: caps.http.clone(),
        store: caps.store.clone(),
    };
    let wasm = weft_wasm::Capabilities {
        env: caps.env.clone(),
        fs: caps.fs.clone(),
    };
    vec![
        Arc::new(LuaEngine::new(rt, lua)),
        Arc::new(WasmHandler::new(rt, wasm, wasm_config(rt, progress))),
        Arc::new(HostHandler),
        Arc::new(ServiceHandler::new(rt)),
        Arc::new(FsHandler::new(&caps.fs)),
        Arc::new(EnvHandler::new(&caps.env)),
        Arc::new(StoreHandler::new(&caps.store)),
        Arc::new(PolicyHandler::new(&rt.policies)),
    ]
}

/// The WASM engine settings: `wasm.max_instances` (default 256), `wasm.cache_dir`
/// (relative to the app root; `""` turns the cache off; default: the user's cache
/// directory, never the app's, see [`user_cache_dir`]) and `wasm.keep_resident_mb`
/// (checked by the engine); `progress` hears every compile.
fn wasm_config(rt: &Runtime, progress: Option<CompileProgress>) -> EngineConfig {
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
        None => user_cache_dir(),
    };
    EngineConfig {
        max_instances,
        cache_dir,
        keep_resident_mb: rt.config.get("wasm.keep_resident_mb").cloned(),
        progress,
    }
}

/// The default compile cache: `$XDG_CACHE_HOME/weft/wasm`, else `~/.cache/weft/wasm`,
/// else none. A compiled file is native code that weft loads and runs, so the default
/// is outside every app: an app that ships a file in its own folder named like a cache
/// entry must not get it run.
fn user_cache_dir() -> Option<std::path::PathBuf> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(std::path::PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let base = absolute("XDG_CACHE_HOME").or_else(|| absolute("HOME").map(|h| h.join(".cache")));
    base.map(|b| b.join("weft").join("wasm"))
}
