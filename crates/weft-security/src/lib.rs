//! weft-security: the `security.policy` kind (reference §5.2).
//!
//! - [`CompiledPolicy`]: a `security.policy` entry validated and compiled at load; it
//!   implements [`weft_core::Policy`], so scopes hold it like any other policy.
//! - [`PolicyRegistry`]: the policies of a running app, by id and by group.
//! - [`PolicyHandler`]: the [`weft_registry::KindHandler`] that compiles entries into the
//!   registry.

#![deny(missing_docs)]

mod condition;
mod path;
mod pattern;
mod policy;
mod registry;
mod value;

pub use policy::CompiledPolicy;
pub use registry::{KIND, PolicyHandler, PolicyRegistry};
