//! weft-store: the store capability — `store.memory` key/value stores and
//! `security.token_store` bearer tokens.
//!
//! - [`StoreRegistry`]: the stores and token stores of an app. [`StoreRegistry::store`]
//!   and [`StoreRegistry::token_store`] take the caller's context and check `store.get`
//!   / `security.token_store.get` inside; [`StoreRegistry::token_store_for_middleware`]
//!   hands the HTTP `token_auth` middleware a validate-only [`TokenValidator`] with no
//!   check (it authenticates requests, before any actor exists).
//! - [`Store`]: a store as callers use it; `get`/`set`/`has`/`delete` check
//!   `store.key.*` on the store id with the key as resource meta. Values are
//!   [`weft_core::Value`]s with an optional TTL; expired keys are invisible at once and
//!   swept every `cleanup_interval`; at most `max_size` keys are held.
//! - [`TokenStore`]: `create`, `validate`, `revoke`, checked with
//!   `security.token.{create,validate,revoke}` on the token store id. Tokens are random
//!   bytes signed with HMAC-SHA256, so a forged token is refused before any lookup; a
//!   token's record (actor, policy ids, meta, expiry) lives in the backing store and its
//!   scope is rebuilt from the [`weft_security::PolicyRegistry`] at each validation.
//! - [`StoreHandler`]: the kind handler of both kinds.

#![deny(missing_docs)]

mod handler;
mod memory;
mod registry;
mod token;

#[cfg(test)]
mod tests;

pub use handler::{KINDS, StoreHandler};
pub use memory::{DEFAULT_CLEANUP_INTERVAL, DEFAULT_MAX_SIZE, MIN_CLEANUP_INTERVAL};
pub use registry::{Store, StoreRegistry};
pub use token::{
    DEFAULT_EXPIRATION, DEFAULT_TOKEN_LENGTH, TOKEN_LENGTHS, TokenOptions, TokenStore,
    TokenValidator,
};
