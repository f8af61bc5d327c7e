//! Kind handlers for the hosts: `process.host` and `terminal.host`.
//!
//! They are validated (their `host` settings, their caps and `lifecycle`); every process
//! runs on the one tokio runtime, so `workers` and `queue_size` size nothing. The caps
//! (`host.max_processes`, `host.mailbox_size`, a terminal's `max_line_bytes`) are in
//! `limits.rs`.

use std::sync::Arc;

use serde::Deserialize;
use weft_core::{BoxFuture, Error, Result};
use weft_registry::{BootMode, Entry, KindHandler, Staged};

use crate::limits::HostLimits;
use crate::service_spec::Lifecycle;

/// Accepts `process.host` and `terminal.host` entries after checking their fields.
pub struct HostHandler;

/// The `host:` block of a `process.host`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct HostSettings {
    workers: Option<i64>,
    queue_size: Option<i64>,
    local_queue_size: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProcessHostConfig {
    host: HostSettings,
}

impl KindHandler for HostHandler {
    fn kinds(&self) -> &[&'static str] {
        &["process.host", "terminal.host"]
    }

    /// Hosts are read from the registry where they are used: validating is all.
    fn stage(&self, entry: Arc<Entry>, _mode: BootMode) -> BoxFuture<Result<Staged>> {
        let checked = check(&entry).map(|()| Staged::validated());
        Box::pin(async move { checked })
    }

    fn stage_remove(&self, _entry: Arc<Entry>) -> Result<Staged> {
        Ok(Staged::validated())
    }
}

fn check(entry: &Entry) -> Result<()> {
    Lifecycle::of(entry)?;
    HostLimits::of(entry)?;
    if entry.kind != "process.host" {
        return Ok(());
    }
    let config: ProcessHostConfig = entry.decode().map_err(Error::from)?;
    for (field, value) in [
        ("host.workers", config.host.workers),
        ("host.queue_size", config.host.queue_size),
        ("host.local_queue_size", config.host.local_queue_size),
    ] {
        if let Some(v) = value.filter(|v| *v <= 0) {
            return Err(Error::invalid(format!("must be greater than 0, got {v}")).in_field(field));
        }
    }
    Ok(())
}
