//! Generators and oracles shared by weft's fuzz targets (docs/robustness.md).
//!
//! - [`value`]: arbitrary [`weft_core::Value`]s, biased towards the edges the converters
//!   care about (integer and float limits, NaN, invalid UTF-8, empty tables, errors).
//! - [`wit`]: arbitrary WIT types, rendered as a component that imports a function
//!   taking them, compiled to get real `wasmtime::component::Type`s.
//! - [`typed`]: values shaped by a WIT type (mostly fitting, sometimes not), well-typed
//!   component values, and the checks of the WIT ⇄ `Value` conversion.
//! - [`lua_src`]: small Lua expressions that produce awkward values (cycles,
//!   metatables, functions, coroutines, odd keys).

pub mod lua_src;
pub mod typed;
pub mod value;
pub mod wit;
