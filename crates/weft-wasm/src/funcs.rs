//! The `wippy:runtime/funcs@0.1.0` host interface (import `funcs`): a guest calls any
//! registry function, Lua or WASM, through the same [`Functions`](weft_core::Functions)
//! registry as Lua's `funcs.call`, with the caller's context and its `funcs.call`
//! permission check (Wippy skips that check; weft does not). The WIT is shipped in
//! `wit/wippy-runtime/funcs.wit`.

use std::sync::Arc;

use wasmtime::StoreContextMut;
use wasmtime::component::Linker;
use weft_core::{EntryId, Value};
use weft_runtime::Runtime;

use crate::call::HoldsInstance;
use crate::store::StoreState;

/// The interface name guests import.
pub(crate) const INTERFACE: &str = "wippy:runtime/funcs@0.1.0";

/// Defines `call-string` and `call-bytes`.
pub(crate) fn link(linker: &mut Linker<StoreState>) -> wasmtime::Result<()> {
    let mut funcs = linker.instance(INTERFACE)?;
    funcs.func_wrap_async(
        "call-string",
        |store: StoreContextMut<'_, StoreState>, (target, input): (String, String)| {
            let call = start(&store, target, input.into_bytes());
            Box::new(async move {
                let out = call.await.map(|b| String::from_utf8_lossy(&b).into_owned());
                Ok((out,))
            })
        },
    )?;
    funcs.func_wrap_async(
        "call-bytes",
        |store: StoreContextMut<'_, StoreState>, (target, input): (String, Vec<u8>)| {
            let call = start(&store, target, input);
            Box::new(async move { Ok((call.await,)) })
        },
    )?;
    Ok(())
}

/// The call of `target` with one string argument, in the guest's context.
fn start(
    store: &StoreContextMut<'_, StoreState>,
    target: String,
    input: Vec<u8>,
) -> impl Future<Output = Result<Vec<u8>, String>> + Send + 'static {
    let rt = store.data().rt.clone();
    let cx = store.data().call.cx.with_handle(Arc::new(HoldsInstance));
    async move {
        if EntryId::parse(&target).is_err() || !target.contains(':') {
            return Err(format!("invalid function target: {target}"));
        }
        let rt = Runtime::upgrade(&rt).map_err(|e| e.message().to_string())?;
        match rt
            .functions
            .call(&cx, &target, vec![Value::Str(input.into())])
            .await
        {
            Ok(value) => Ok(encode(&value)),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// A result as bytes: strings as they are, nil as empty, anything else as JSON.
fn encode(value: &Value) -> Vec<u8> {
    match value {
        Value::Nil => Vec::new(),
        Value::Str(s) => s.to_vec(),
        other => serde_json::to_vec(other).unwrap_or_else(|e| e.to_string().into_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_encode_as_text() {
        assert_eq!(encode(&Value::Nil), b"");
        assert_eq!(encode(&Value::str("hi")), b"hi");
        assert_eq!(encode(&Value::Int(42)), b"42");
        assert_eq!(encode(&Value::Bool(true)), b"true");
    }
}
