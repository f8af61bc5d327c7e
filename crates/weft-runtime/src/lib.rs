//! weft-runtime: what a running app shares.
//!
//! - [`Runtime`]: the handle every engine crate gets: function registry, entry store,
//!   process factories, config.
//! - [`Processes`]: process factories by entry id (`process.lua`, `process.wasm`).
//! - [`terminal`]: the `terminal.host` that runs CLI commands and maps results to exit codes.
//! - [`hosts`]: kind handlers for `process.host` and `terminal.host`.

pub mod hosts;
pub mod process;
pub mod terminal;

use std::path::PathBuf;
use std::sync::Arc;

use weft_core::{CallContext, Functions};
use weft_registry::{Config, Registry};

pub use process::{ProcessFactory, Processes};

/// The shared state of one running app.
pub struct Runtime {
    /// The function registry (`funcs.call`).
    pub functions: Functions,
    /// Process factories (`process.lua`, `process.wasm`).
    pub processes: Processes,
    /// The entries that booted.
    pub registry: Registry,
    /// The app's `.wippy.yaml` configuration.
    pub config: Config,
    /// The app root directory.
    pub root: PathBuf,
    strict: bool,
}

impl Runtime {
    /// A runtime for the app at `root` with `config`.
    pub fn new(root: PathBuf, config: Config) -> Arc<Runtime> {
        let strict = config.bool_or("security.strict_mode", false);
        Arc::new(Runtime {
            functions: Functions::new(),
            processes: Processes::default(),
            registry: Registry::new(),
            config,
            root,
            strict,
        })
    }

    /// A fresh root context (no actor, scope or values).
    pub fn root_context(&self) -> CallContext {
        CallContext::root(self.strict)
    }
}
