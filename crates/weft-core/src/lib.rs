//! weft-core: the types every other weft crate speaks.
//!
//! - [`Value`]: the one interchange form between Lua, WASM, HTTP and process messages.
//! - [`Error`]: an error with a [`ErrorKind`], a retryable flag, details and a context chain.
//! - [`EntryId`]: a registry id, `namespace:name`.
//! - [`CallContext`]: who is calling (actor, scope), with what values, until when.
//! - [`Functions`]: the function registry. Lua, WASM and the CLI all call through it.

pub mod context;
pub mod error;
pub mod function;
pub mod id;
pub mod security;
pub mod terminal;
pub mod value;

pub use context::CallContext;
pub use error::{Error, ErrorKind, Result};
pub use function::{BoxFuture, Function, Functions, Resolved};
pub use id::EntryId;
pub use security::{Actor, Decision, Policy, Scope};
pub use terminal::Terminal;
pub use value::{Map, Value};
