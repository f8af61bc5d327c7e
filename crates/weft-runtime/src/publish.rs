//! Publishing what an engine staged for a live change: a function (with its pool) or a
//! process factory becomes the one new callers of an entry reach, and the returned
//! [`Undo`] puts back exactly what was there. Calls and processes in flight keep the
//! function or factory they started with, so they finish on the old version; an old
//! pool is dropped (drained) when its last call returns.

use std::sync::Arc;

use weft_core::{EntryId, Function};
use weft_registry::Undo;

use crate::{Pool, ProcessFactory, Runtime};

impl Runtime {
    /// Makes `function`, calling through `pool`, the function of `id`.
    pub fn publish_function<T: Send + 'static>(
        self: &Arc<Self>,
        id: EntryId,
        function: Arc<dyn Function>,
        pool: &Arc<Pool<T>>,
    ) -> Undo {
        let slot = self.pools.register(id.clone(), pool);
        let old = self.functions.register(id.clone(), function);
        let rt = self.clone();
        Undo::new(move || {
            rt.pools.restore(id.clone(), slot);
            match old {
                Some(old) => drop(rt.functions.register(id, old)),
                None => drop(rt.functions.unregister(id.as_str())),
            }
        })
    }

    /// Makes `factory` the process factory of `id`.
    pub fn publish_factory(
        self: &Arc<Self>,
        id: EntryId,
        factory: Arc<dyn ProcessFactory>,
    ) -> Undo {
        let old = self.factories.register(id.clone(), factory);
        let rt = self.clone();
        Undo::new(move || match old {
            Some(old) => drop(rt.factories.register(id, old)),
            None => drop(rt.factories.unregister(id.as_str())),
        })
    }

    /// Takes the function or factory of `id` (and its pool) away: new calls and spawns
    /// answer NotFound.
    pub fn withdraw(self: &Arc<Self>, id: EntryId) -> Undo {
        let slot = self.pools.unregister(&id);
        let function = self.functions.unregister(id.as_str());
        let factory = self.factories.unregister(id.as_str());
        let rt = self.clone();
        Undo::new(move || {
            rt.pools.restore(id.clone(), slot);
            if let Some(f) = function {
                drop(rt.functions.register(id.clone(), f));
            }
            if let Some(f) = factory {
                drop(rt.factories.register(id, f));
            }
        })
    }
}
