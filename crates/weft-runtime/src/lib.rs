//! weft-runtime: processes on tokio and what a running app shares.
//!
//! - [`Runtime`]: the handle every engine crate gets: function registry, entry store,
//!   process factories and table, services, policies, config.
//! - processes: [`ProcessFactory`], [`ProcessTable`] (spawn, messages, monitors, links,
//!   events, the name registry, each with its permission check), under the caps of
//!   their host (`host.max_processes`, `host.mailbox_size`).
//! - channels: Go-style [`Channel`]s and [`select`], never blocking a thread.
//! - the terminal: [`Terminal`] (a context handle for CLI processes) and the
//!   `terminal.host` that runs commands ([`run_command`]) and maps results to exit codes.
//! - [`HostHandler`]: the `process.host` and `terminal.host` kinds.
//! - [`Pool`]: the `pool:` config of function entries and the pool that bounds calls;
//!   [`Pools`], every function's pool for the metrics endpoint.
//! - [`Services`], [`ServiceHandler`]: the `process.service` kind and its supervisor.
//!
//! Capabilities with kinds and state of their own (env, fs, the network policy, HTTP)
//! are crates above this one; the runtime knows none of them.

#![deny(missing_docs)]

mod channel;
mod hosts;
mod limits;
mod pool;
mod process;
mod publish;
mod service_spec;
mod services;
mod terminal;
mod tty;

use std::path::PathBuf;
use std::sync::{Arc, Weak};

use weft_core::{CallContext, Error, ErrorKind, Functions, Result};
use weft_registry::{Config, Registry};

pub use channel::{Case, Channel, Selected, SendError, TryRecv, select};
pub use hosts::HostHandler;
pub use pool::{IDLE_TIMEOUT, Lease, Pool, PoolConfig, PoolKind, PoolMetrics, PoolSlot, Pools};
pub use process::{
    Event, EventKind, Factories, Full, HostMetrics, Message, Pid, Proc, ProcessFactory,
    ProcessTable, Receivers, Router, Spawn,
};
pub use service_spec::{
    Lifecycle, RestartPolicy, ServiceActor, ServiceHandler, ServiceSecurity, ServiceSpec, Startup,
};
pub use services::{RESTART_GRACE, ServiceState, ServiceStatus, Services};
pub use terminal::{
    Command, commands, error_exit_code, exit_code, new_pid, report, run_command, terminal_host,
};
pub use tty::{SharedReader, SharedWriter, Terminal};

/// The shared state of one running app.
pub struct Runtime {
    /// The function registry (`funcs.call`).
    pub functions: Functions,
    /// Process factories (`process.lua`, `process.wasm`).
    pub factories: Factories,
    /// The live processes.
    pub processes: Arc<ProcessTable>,
    /// The pools of the function entries (engines register them), for metrics.
    pub pools: Pools,
    /// The entries that booted.
    pub registry: Registry,
    /// The app's `.wippy.yaml` configuration.
    pub config: Config,
    /// The app root directory.
    pub root: PathBuf,
    /// The supervised services (`process.service`).
    pub services: Services,
    /// The `security.policy` entries, by id and by group.
    pub policies: weft_security::PolicyRegistry,
    strict: bool,
}

impl Runtime {
    /// A runtime for the app at `root` with `config`.
    pub fn new(root: PathBuf, config: Config) -> Arc<Runtime> {
        let strict = config.bool_or("security.strict_mode", false);
        let functions = Functions::with_max_call_depth(max_call_depth(&config));
        Arc::new_cyclic(|me| Runtime {
            functions,
            factories: Factories::default(),
            processes: Arc::new(ProcessTable::default()),
            pools: Pools::default(),
            registry: Registry::new(),
            config,
            root,
            services: Services::new(me.clone()),
            policies: weft_security::PolicyRegistry::default(),
            strict,
        })
    }

    /// The runtime behind `rt`, for what the runtime owns and so holds weakly; once the
    /// runtime is gone, Unavailable "the runtime is shutting down".
    pub fn upgrade(rt: &Weak<Runtime>) -> Result<Arc<Runtime>> {
        rt.upgrade()
            .ok_or_else(|| Error::new(ErrorKind::Unavailable, "the runtime is shutting down"))
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

/// `functions.max_call_depth`: a positive whole number, else the default (with a warning
/// when something else is written there).
fn max_call_depth(config: &Config) -> u32 {
    let Some(value) = config.get("functions.max_call_depth") else {
        return weft_core::DEFAULT_MAX_CALL_DEPTH;
    };
    match value.as_int().and_then(|n| u32::try_from(n).ok()) {
        Some(n) if n > 0 => n,
        _ => {
            tracing::warn!(
                "functions.max_call_depth must be a positive whole number; using {}",
                weft_core::DEFAULT_MAX_CALL_DEPTH
            );
            weft_core::DEFAULT_MAX_CALL_DEPTH
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_call_depth_takes_a_positive_number_else_the_default() {
        let depth = |v: Option<weft_core::Value>| {
            let mut config = Config::default();
            if let Some(v) = v {
                config.set("functions.max_call_depth", v);
            }
            max_call_depth(&config)
        };
        assert_eq!(depth(None), weft_core::DEFAULT_MAX_CALL_DEPTH);
        assert_eq!(depth(Some(weft_core::Value::Int(5))), 5);
        for bad in [
            weft_core::Value::Int(0),
            weft_core::Value::Int(-3),
            weft_core::Value::str("deep"),
        ] {
            assert_eq!(depth(Some(bad)), weft_core::DEFAULT_MAX_CALL_DEPTH);
        }
    }
}
