//! weft-wasm: WebAssembly entries (`function.wat`, `function.wasm`, `process.wasm`) on
//! wasmtime, with one call path for core modules and components.
//!
//! A core module with a `wit:` signature is wrapped into a component at load, so every
//! entry is a component by the time it is compiled. Compilation goes through an on-disk
//! cache; each call gets a fresh instance from the entry's `InstancePre`.

pub mod convert;
pub mod engine;
pub mod entry;
mod funcs;
mod outgoing;
pub mod profiles;
mod stdio;
pub mod store;
mod wasi;

pub use engine::{EngineConfig, WasmEngine};
pub use entry::WasmHandler;
