//! What the `cargo fuzz` targets in `fuzz/` call (docs/robustness.md); not part of the API.

pub use crate::convert::{MAX_DEPTH, to_lua, to_value};
