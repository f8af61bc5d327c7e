//! weft-runtime: what a running app shares.
//!
//! - [`Runtime`]: the handle every engine crate gets: function registry, entry store,
//!   process factories, config.
//! - [`process`]: process factories and the table of live processes (spawn, messages,
//!   monitors, links, events, names).
//! - [`channel`]: Go-style channels and `select`, never blocking a thread.
//! - [`terminal`]: the `terminal.host` that runs CLI commands and maps results to exit codes.
//! - [`hosts`]: kind handlers for `process.host` and `terminal.host`.
//! - [`pool`]: the `pool:` config of function entries and the pool that bounds their calls.
//! - [`fs`]: `fs.directory` entries, roots that every access is confined to.
//! - [`env`]: the `env.storage.*` and `env.variable` kinds and the variable lookup.
//! - [`services`]: the `process.service` kind and the supervisor that starts, restarts and
//!   stops services.

pub mod channel;
pub mod env;
pub mod fs;
pub mod hosts;
pub mod pool;
pub mod process;
pub mod services;
pub mod terminal;

use std::path::PathBuf;
use std::sync::Arc;

use weft_core::{CallContext, Functions};
use weft_registry::{Config, Registry};

pub use process::{Factories, ProcessFactory, ProcessTable, Spawn};
pub use services::Services;

/// The shared state of one running app.
pub struct Runtime {
    /// The function registry (`funcs.call`).
    pub functions: Functions,
    /// Process factories (`process.lua`, `process.wasm`).
    pub factories: Factories,
    /// The live processes.
    pub processes: Arc<ProcessTable>,
    /// The entries that booted.
    pub registry: Registry,
    /// The app's `.wippy.yaml` configuration.
    pub config: Config,
    /// The app root directory.
    pub root: PathBuf,
    /// The supervised services (`process.service`).
    pub services: Services,
    /// The `fs.directory` roots.
    pub fs: fs::FsRegistry,
    /// The env storages and variables.
    pub env: env::EnvRegistry,
    /// The `security.policy` entries, by id and by group.
    pub policies: weft_security::PolicyRegistry,
    strict: bool,
}

impl Runtime {
    /// A runtime for the app at `root` with `config`.
    pub fn new(root: PathBuf, config: Config) -> Arc<Runtime> {
        let strict = config.bool_or("security.strict_mode", false);
        Arc::new_cyclic(|me| Runtime {
            functions: Functions::new(),
            factories: Factories::default(),
            processes: Arc::new(ProcessTable::default()),
            registry: Registry::new(),
            config,
            root,
            services: Services::new(me.clone()),
            fs: fs::FsRegistry::default(),
            env: env::EnvRegistry::default(),
            policies: weft_security::PolicyRegistry::default(),
            strict,
        })
    }

    /// A fresh root context (no actor, scope or values).
    pub fn root_context(&self) -> CallContext {
        CallContext::root(self.strict)
    }

    /// The context in which the runtime acts for itself (starting commands and
    /// services); see [`CallContext::system`].
    pub fn system_context(&self) -> CallContext {
        CallContext::system(self.strict)
    }
}
