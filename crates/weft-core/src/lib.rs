//! weft-core: the types every other weft crate speaks.
//!
//! - [`Value`]: the one interchange form between Lua, WASM, HTTP and process messages.
//! - [`Error`]: an error with a [`ErrorKind`], a retryable flag, details and a context chain.
//! - [`EntryId`]: a registry id, `namespace:name`.
//! - [`CallContext`]: who is calling (actor, scope), with what values, until when, and
//!   the typed [`Handle`]s a frame carries (a terminal, an HTTP request).
//! - [`Functions`]: the function registry. Lua, WASM and the CLI all call through it.
//! - [`BoundedRead`]: the one way a file of an app, its config or its cache is read
//!   (a regular file, under a size cap, optionally inside a root).

#![deny(missing_docs)]

mod context;
mod error;
mod file;
mod function;
mod handles;
mod id;
mod security;
mod value;

pub use context::CallContext;
pub use error::{Error, ErrorKind, FIELD_PREFIX, Result};
pub use file::{BoundedRead, FileError, MAX_MODULE_FILE_BYTES, MAX_TEXT_FILE_BYTES};
pub use function::{
    BoxFuture, CALL_DURATION_BUCKETS, DEFAULT_MAX_CALL_DEPTH, DurationHistogram, Function,
    FunctionMetrics, Functions, Resolved,
};
pub use handles::{Handle, Inherit};
pub use id::EntryId;
pub use security::{Actor, Decision, Policy, Scope};
pub use value::{Map, Value};
