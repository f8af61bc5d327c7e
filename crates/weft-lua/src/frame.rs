//! The per-VM link to the runtime and to the frame (call context) running in it.
//!
//! A VM serves one call or process at a time (its pool hands it out exclusively), so the
//! current frame lives in the VM's app data, set for the duration of a call.

use std::sync::Arc;

use mlua::Lua;
use weft_core::CallContext;
use weft_runtime::Runtime;

/// The runtime handle stored in every VM.
struct Shared(Arc<Runtime>);

/// The frame of the call running in the VM.
struct Current(CallContext);

/// Restores the previous frame when dropped.
pub struct FrameGuard {
    lua: Lua,
    previous: Option<CallContext>,
}

/// Stores the runtime handle in a new VM.
pub fn install(lua: &Lua, rt: Arc<Runtime>) {
    lua.set_app_data(Shared(rt));
}

/// The runtime handle of the VM.
pub fn runtime(lua: &Lua) -> Arc<Runtime> {
    match lua.app_data_ref::<Shared>() {
        Some(shared) => shared.0.clone(),
        None => unreachable!("every weft VM is built with frame::install"),
    }
}

/// The frame running in the VM (the runtime's root context when none is).
pub fn current(lua: &Lua) -> CallContext {
    if let Some(cur) = lua.app_data_ref::<Current>() {
        return cur.0.clone();
    }
    runtime(lua).root_context()
}

/// Makes `cx` the VM's current frame until the guard drops.
pub fn enter(lua: &Lua, cx: CallContext) -> FrameGuard {
    let previous = lua.set_app_data(Current(cx)).map(|c| c.0);
    FrameGuard {
        lua: lua.clone(),
        previous,
    }
}

impl Drop for FrameGuard {
    fn drop(&mut self) {
        match self.previous.take() {
            Some(cx) => {
                self.lua.set_app_data(Current(cx));
            }
            None => {
                self.lua.remove_app_data::<Current>();
            }
        }
    }
}
