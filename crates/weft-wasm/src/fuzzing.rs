//! What the `cargo fuzz` targets in `fuzz/` call (docs/robustness.md); not part of the API.

pub use crate::convert::{ValuePath, lift_as, lower, lower_args};
