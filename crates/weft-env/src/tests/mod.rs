//! The env capability end to end: entries registered through the handler, variables
//! read and written through the registry. Helpers here; the cases by job below.

use std::path::Path;
use std::sync::Arc;

use weft_core::{CallContext, EntryId, ErrorKind, Result};
use weft_registry::{BootMode, Entry};

use crate::EnvHandler;
use crate::handler::KINDS;
use crate::registry::EnvRegistry;
use crate::storage::EnvStorage;
use crate::storage::FileStorage;
use weft_fs::FileMode;
use weft_registry::KindHandler;

fn rt(dir: &Path) -> Arc<EnvRegistry> {
    Arc::new(EnvRegistry::new(dir.to_path_buf()))
}

/// A caller running an entry of namespace `ns` (or the root).
fn cx(ns: Option<&str>) -> CallContext {
    let root = CallContext::root(false);
    match ns {
        Some(ns) => root.with_entry(EntryId::new(ns, "caller")),
        None => root,
    }
}

fn entry(id: &str, kind: &str, data: &str) -> Entry {
    let mut e = Entry::new(EntryId::parse(id).unwrap(), kind);
    e.data = serde_json::from_str(data).unwrap();
    e
}

/// Stages and publishes `entry` through the handler, as boot does (the env handler's
/// stage never waits, so one poll finishes it).
fn register(rt: &Arc<EnvRegistry>, entry: &Entry, mode: BootMode) -> Result<()> {
    let applied = EnvHandler::new(rt).apply(Arc::new(entry.clone()), mode);
    let mut applied = std::pin::pin!(applied);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match applied.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(result) => result,
        std::task::Poll::Pending => panic!("the env handler waited"),
    }
}

fn apply(rt: &Arc<EnvRegistry>, id: &str, kind: &str, data: &str) -> Result<()> {
    register(rt, &entry(id, kind, data), BootMode::Run)
}

fn ok(rt: &Arc<EnvRegistry>, id: &str, kind: &str, data: &str) {
    if let Err(e) = apply(rt, id, kind, data) {
        panic!("{id}: {e}");
    }
}

fn field_error(rt: &Arc<EnvRegistry>, kind: &str, data: &str) -> (ErrorKind, String) {
    let e = apply(rt, "t:x", kind, data).expect_err("must be rejected");
    (e.kind(), e.to_string())
}

mod files;
mod storages;
mod variables;
