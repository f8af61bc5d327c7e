//! What a binary is and what it exports.
//!
//! - [`binary_kind`]: a core module or a component, from the preamble.
//! - [`wrap_core`]: a core module with a `wit:` signature (a [`Signature`]) becomes a
//!   component, so every entry is a component by the time it is compiled.
//! - [`export_index`], [`export_func`]: where a method is in a component and its type.

use wasmtime::Engine;
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Component, ComponentExportIndex};
use weft_core::{Error, Result};

use crate::signature::Signature;

/// What a binary is, from its header.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BinaryKind {
    /// A core WebAssembly module.
    Core,
    /// A Component Model component.
    Component,
}

/// Detects a core module or a component from the preamble.
pub(crate) fn binary_kind(bytes: &[u8]) -> Result<BinaryKind> {
    match bytes {
        [0, b'a', b's', b'm', 1, 0, 0, 0, ..] => Ok(BinaryKind::Core),
        [0, b'a', b's', b'm', _, _, 1, 0, ..] => Ok(BinaryKind::Component),
        _ => Err(Error::invalid(
            "the file is neither a core wasm module nor a component",
        )),
    }
}

/// Wraps a core module into a component exporting the functions of its `wit` signature.
///
/// The module must export those functions following the canonical ABI (and
/// `cabi_realloc` when strings or lists cross).
pub(crate) fn wrap_core(module: &[u8], signature: &Signature) -> Result<Vec<u8>> {
    let mut module = module.to_vec();
    wit_component::embed_component_metadata(
        &mut module,
        &signature.resolve,
        signature.world,
        wit_component::StringEncoding::UTF8,
    )
    .map_err(|e| Error::invalid(format!("invalid wit signature: {e:#}")))?;
    wit_component::ComponentEncoder::default()
        .module(&module)
        .and_then(|enc| enc.validate(true).encode())
        .map_err(|e| {
            Error::invalid(format!(
                "the wit signature does not match the core module: {e:#}"
            ))
        })
}

/// Where `method` is in a component: `name` (world export) or `iface#func` (split at the
/// last `#`: the exported instance, then the function in it).
pub(crate) fn export_index(component: &Component, method: &str) -> Result<ComponentExportIndex> {
    let not_found = || Error::invalid(format!("export \"{method}\" not found in component"));
    match method.rsplit_once('#') {
        Some((iface, func)) => {
            let instance = component
                .get_export_index(None, iface)
                .ok_or_else(not_found)?;
            component
                .get_export_index(Some(&instance), func)
                .ok_or_else(not_found)
        }
        None => component
            .get_export_index(None, method)
            .ok_or_else(not_found),
    }
}

/// The function type of the export `method` (named as in [`export_index`]).
pub(crate) fn export_func(
    engine: &Engine,
    component: &Component,
    method: &str,
) -> Result<ComponentFunc> {
    let ty = component.component_type();
    let item = match method.rsplit_once('#') {
        Some((iface, func)) => match ty.get_export(engine, iface).map(|e| e.ty) {
            Some(ComponentItem::ComponentInstance(inst)) => {
                inst.get_export(engine, func).map(|e| e.ty)
            }
            _ => None,
        },
        None => ty.get_export(engine, method).map(|e| e.ty),
    };
    match item {
        Some(ComponentItem::ComponentFunc(f)) => Ok(f),
        Some(_) => Err(Error::invalid(format!(
            "export \"{method}\" is not a function"
        ))),
        None => Err(Error::invalid(format!(
            "export \"{method}\" not found in component"
        ))),
    }
}
