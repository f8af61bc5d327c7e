//! weft-env: the environment-variable capability (reference §2.4).
//!
//! - [`EnvRegistry`]: the storages and variables of an app. [`EnvRegistry::get`] and
//!   [`EnvRegistry::set`] take the caller's context and check `env.get` / `env.set`
//!   inside, so every engine reads and writes variables through one checked path;
//!   [`EnvRegistry::lookup`] serves the mappings an entry declares (WASI `wasi.env`),
//!   where a variable the caller may not read is simply absent.
//! - [`EnvHandler`]: the kind handler of `env.storage.memory`, `.file`, `.os`, `.static`,
//!   `.router` and `env.variable`.
//!
//! A variable's value is its storage's unless empty, else its `default` (a weft
//! decision: Wippy skips the default on the lookup path).

#![deny(missing_docs)]

mod dotenv;
mod handler;
mod registry;
mod storage;
mod variable;

#[cfg(test)]
mod tests;

pub use handler::EnvHandler;
pub use registry::EnvRegistry;
