//! The per-VM link to the runtime, the capabilities and the frame (call context) running
//! in the VM.
//!
//! A VM serves one call or process at a time (its pool hands it out exclusively), so the
//! current frame lives in the VM's app data, set for the duration of a call. The runtime
//! owns its VMs (through its functions and factories), so a VM holds it weakly: once the
//! runtime is gone, [`runtime`] fails with Unavailable.

use std::sync::{Arc, Weak};

use mlua::Lua;
use weft_core::{CallContext, Error};
use weft_env::EnvRegistry;
use weft_runtime::Runtime;

use crate::Capabilities;

/// What every VM is built with: the runtime (weakly) and the capabilities.
struct Shared {
    rt: Weak<Runtime>,
    caps: Capabilities,
}

/// The frame of the call running in the VM.
struct Current(CallContext);

/// Restores the previous frame when dropped.
pub struct FrameGuard {
    lua: Lua,
    previous: Option<CallContext>,
}

/// Stores the runtime and the capabilities in a new VM.
pub fn install(lua: &Lua, rt: Weak<Runtime>, caps: Capabilities) {
    lua.set_app_data(Shared { rt, caps });
}

/// The runtime of the VM; Unavailable once it is shutting down.
pub fn runtime(lua: &Lua) -> mlua::Result<Arc<Runtime>> {
    shared(lua, |shared| Runtime::upgrade(&shared.rt))?.map_err(mlua::Error::external)
}

/// The env capability of the VM.
pub fn env(lua: &Lua) -> mlua::Result<Arc<EnvRegistry>> {
    shared(lua, |shared| shared.caps.env.clone())
}

/// The fs capability of the VM (`fs`).
pub fn fs(lua: &Lua) -> mlua::Result<Arc<weft_fs::FsRegistry>> {
    shared(lua, |shared| shared.caps.fs.clone())
}

/// The store capability of the VM (`store`, `security.token_store`).
pub fn store(lua: &Lua) -> mlua::Result<Arc<weft_store::StoreRegistry>> {
    shared(lua, |shared| shared.caps.store.clone())
}

/// The outbound HTTP client of the VM.
pub fn http(lua: &Lua) -> mlua::Result<Arc<weft_http::HttpClient>> {
    shared(lua, |shared| shared.caps.http.clone())
}

fn shared<T>(lua: &Lua, f: impl FnOnce(&Shared) -> T) -> mlua::Result<T> {
    match lua.app_data_ref::<Shared>() {
        Some(shared) => Ok(f(&shared)),
        None => Err(mlua::Error::external(Error::internal(
            "this Lua state is not a weft VM",
        ))),
    }
}

/// The deadline of the frame running in the VM (read without copying the frame).
pub fn deadline(lua: &Lua) -> Option<std::time::Instant> {
    lua.app_data_ref::<Current>()?.0.deadline()
}

/// The frame running in the VM; outside a call (never the case for Lua code, which runs
/// only inside one), the runtime's root context, or a strict root once it is gone.
pub fn current(lua: &Lua) -> CallContext {
    if let Some(cur) = lua.app_data_ref::<Current>() {
        return cur.0.clone();
    }
    match runtime(lua) {
        Ok(rt) => rt.root_context(),
        Err(_) => CallContext::root(true),
    }
}

/// Makes `cx` the VM's current frame until the guard drops.
pub fn enter(lua: &Lua, cx: CallContext) -> FrameGuard {
    let previous = lua.set_app_data(Current(cx)).map(|c| c.0);
    FrameGuard {
        lua: lua.clone(),
        previous,
    }
}

/// Replaces the VM's current frame with `cx` (the same frame, now with its pid) until
/// the guard of the call restores the previous one.
pub fn replace(lua: &Lua, cx: CallContext) {
    lua.set_app_data(Current(cx));
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use weft_core::ErrorKind;
    use weft_env::EnvRegistry;

    use super::*;
    use crate::errors;

    fn kind<T>(r: mlua::Result<T>) -> ErrorKind {
        match r {
            Ok(_) => panic!("expected an error"),
            Err(e) => errors::from_mlua(&e).kind(),
        }
    }

    #[test]
    fn a_gone_runtime_is_unavailable_not_a_panic() {
        let lua = Lua::new();
        let caps = Capabilities {
            env: Arc::new(EnvRegistry::new(PathBuf::from("."))),
            fs: Arc::new(weft_fs::FsRegistry::new(PathBuf::from("."))),
            http: Arc::new(weft_http::HttpClient::new()),
            store: Arc::new(weft_store::StoreRegistry::new(Default::default())),
        };
        install(&lua, Weak::new(), caps);
        let err = runtime(&lua).map(drop).unwrap_err();
        assert_eq!(errors::from_mlua(&err).kind(), ErrorKind::Unavailable);
        assert!(
            err.to_string().contains("the runtime is shutting down"),
            "{err}"
        );
        assert!(env(&lua).is_ok());
        assert!(http(&lua).is_ok());
        assert!(store(&lua).is_ok());
        assert!(current(&lua).strict());
    }

    #[test]
    fn a_vm_without_weft_data_is_an_error_not_a_panic() {
        let lua = Lua::new();
        assert_eq!(kind(runtime(&lua)), ErrorKind::Internal);
        assert_eq!(kind(env(&lua)), ErrorKind::Internal);
        assert_eq!(kind(http(&lua)), ErrorKind::Internal);
        assert_eq!(kind(store(&lua)), ErrorKind::Internal);
    }
}
