//! Process factories: entries that run as processes (`process.lua`, `process.wasm`).

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;
use weft_core::{BoxFuture, CallContext, EntryId, Result, Value};

/// Something that runs as a process: one body, run to completion with its arguments.
pub trait ProcessFactory: Send + Sync + 'static {
    /// Runs the process body in `cx` (which carries its pid and, for CLI commands, the
    /// terminal) and returns its result.
    fn run(&self, cx: CallContext, args: Vec<Value>) -> BoxFuture<Result<Value>>;
}

/// Process factories by entry id.
#[derive(Default)]
pub struct Processes {
    map: RwLock<HashMap<EntryId, Arc<dyn ProcessFactory>>>,
}

impl Processes {
    /// Registers `factory` under `id`, replacing any previous one.
    pub fn register(&self, id: EntryId, factory: Arc<dyn ProcessFactory>) {
        self.map.write().insert(id, factory);
    }

    /// The factory registered under `id`.
    pub fn get(&self, id: &EntryId) -> Option<Arc<dyn ProcessFactory>> {
        self.map.read().get(id).cloned()
    }
}
