//! weft-wasm: WebAssembly entries (`function.wat`, `function.wasm`, `process.wasm`) on
//! wasmtime, with one call path for core modules and components.
//!
//! [`WasmHandler`] is the kind handler of the three kinds. At registration an entry is
//! validated, read through the fs capability, wrapped into a component when it is a core
//! module with a `wit:` signature (so every entry is a component by the time it is
//! compiled), compiled through an on-disk cache, and linked with what its `imports:`
//! grant. Each call gets a fresh instance from the entry's `InstancePre`, with its WASI
//! resolved in the caller's context ([`Capabilities`]) and every network use checked by
//! `weft_net`.
//!
//! The modules, each using only the ones after its arrow (no cycle):
//!
//! ```text
//! describe   an entry's world, call shapes, pool, limits     → call component profiles signature
//! entry      kind handler, entry fields and checks, loading  → call component engine link profiles signature wasi
//! serve      HTTP endpoints: wasi-http transport, incoming-handler → call
//! call       the call path: leases, store, deadline, result  → cli_args convert engine store wasi
//! cli_args   a command's CLI arguments, typed by its params  → convert
//! link       WASI per grants, the funcs host, import stubs   → funcs guards profiles store
//! funcs      the wippy:runtime/funcs host                    → store
//! store      per-call store data and the hosts' views        → guards profiles wasi
//! wasi       the wasi: plan, per-call resolution, WasiCtx    → guards profiles stdio
//! guards     socket, name lookup and HTTP checks (weft_net)  → (none)
//! stdio      a guest's stdin, stdout and stderr              → (none)
//! engine     the wasmtime engine, epoch ticker, pooling      → cache
//! cache      the on-disk compile cache                       → (none)
//! component  binary kind, core wrapping, export lookup       → signature
//! signature  a core module's wit: snippet, parsed            → (none)
//! profiles   imports: profiles and an entry's grants         → (none)
//! fuzzing    hidden entry points of the fuzz targets (fuzz/) → convert
//! convert    weft values to and from component values        → (none)
//! ```

#![deny(missing_docs)]

mod cache;
mod call;
mod cli_args;
mod component;
mod convert;
mod describe;
mod engine;
mod entry;
mod funcs;
#[doc(hidden)]
pub mod fuzzing;
mod guards;
mod link;
mod profiles;
mod serve;
mod signature;
mod stdio;
mod store;
mod warm;
mod wasi;

pub use describe::{
    ExportDescription, FunctionShape, ImportDescription, LimitsDescription, NamedType, ParamShape,
    WASM_KINDS, WasmDescription, WorldDescription, describe,
};
pub use engine::{CompileEvent, CompileProgress, EngineConfig};
pub use entry::WasmHandler;
pub use wasi::Capabilities;
