//! The front end's tests: every construct of the dialect's page, plain Lua passing through
//! untouched, generated round trips, bad input, and the type parser on its own.

mod common;
mod errors;
mod page;
mod plain;
mod roundtrip;
mod runtime;
mod types;
