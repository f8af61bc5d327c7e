//! weft-lua-types: Wippy's typed Lua dialect (the front end and the type model).

#![deny(missing_docs)]

mod ast;

pub use ast::{Field, FuncType, Generic, Literal, Named, Type, TypeDecl, Validator};
