//! weft-lua-types: Wippy's typed Lua dialect (the front end and the type model).
//!
//! [`erase`] turns typed Lua into plain Lua 5.4 with every line at its line number, so
//! Lua's errors and tracebacks point at the source; an untyped source comes back borrowed
//! after one scan. What it does:
//! - annotations become spaces (line breaks stay): `local x: T`, `local x <const>: T` and
//!   `local x: T <const>`, parameters `(a: T, ...: T)`, returns `): T` / `): (A, B)`,
//!   generic lists `function f<T: C>(…)`, `for i: integer = …`, `for k: K, v: V in …`;
//! - casts `expr :: T` / `expr as T` and the non-nil assertion `expr!` become spaces;
//! - `[export] type Name<G> = T` becomes, on its first line,
//!   `local Name; Name = __weft_type("Name<G> = T", {Ref = function() return Ref end});`
//!   then its line breaks (the text on one line; the refs are every name the type uses
//!   except built-ins, literals and generic parameters, its own name included);
//! - `typeof(x)` of an annotated local or parameter in scope becomes
//!   `typeof(x, __weft_type("= T", {…}))`.
//!
//! Contextual words: `type` / `export type` start a declaration only at a statement's
//! start. `as` after a complete expression is a cast unless `=`, `,`, `.`, `[` or `:`
//! follows, or a `(` whose matching `)` is not followed by `->`, `?` or `@` (then it is
//! the variable `as` starting the next statement, or its call); `as "x"` and `as {…}` there
//! are casts. `:: Name ::` is always a label. Record fields may be `readonly name: T` (or
//! Luau's `read name: T`; `write name: T` is a plain field).
//!
//! [`parse_decl`] reads the text `__weft_type` receives back into a [`TypeDecl`],
//! [`parse_type`] reads a type, [`references`] lists the names a type uses, and
//! [`annotations`] lists a source's type syntax with positions, for a checker. Errors are
//! [`SyntaxError`]s at a line and column (columns count characters, both from 1).

#![deny(missing_docs)]

mod ast;
mod codegen;
mod erase;
mod error;
mod lex;
mod parse;
mod scope;
mod sites;
mod types;
mod validators;
mod values;

pub use ast::{Field, FuncType, Generic, Literal, Named, Type, TypeDecl, Validator};
pub use codegen::references;
pub use erase::{Erased, annotations, erase};
pub use error::SyntaxError;
pub use sites::{Site, SiteKind};
pub use types::{parse_decl, parse_type};
