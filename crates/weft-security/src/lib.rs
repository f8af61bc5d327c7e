//! weft-security: the `security.policy` and `security.policy.expr` kinds (reference §5.2).
//!
//! - [`CompiledPolicy`]: a `security.policy` entry (conditions) or `security.policy.expr`
//!   entry (an expr-lang expression, compiled with `weft_expr`) validated and compiled at
//!   load; it implements [`weft_core::Policy`], so scopes hold it like any other policy.
//! - [`PolicyRegistry`]: the policies of a running app, by id and by group.
//! - [`PolicyHandler`]: the [`weft_registry::KindHandler`] that compiles entries into the
//!   registry.

#![deny(missing_docs)]

mod condition;
mod expression;
mod path;
mod pattern;
mod policy;
mod registry;
mod value;

pub use policy::CompiledPolicy;
pub use registry::{EXPR_KIND, KIND, PolicyHandler, PolicyRegistry};
