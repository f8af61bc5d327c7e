//! Annotation sites: every piece of type syntax of a source with where it is and what it
//! says, for a static checker (erasure itself does not keep them).

use crate::ast::{Generic, Type, TypeDecl};

/// One piece of type syntax and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    /// Its line, from 1.
    pub line: u32,
    /// Its column, from 1, in characters (the name annotated, or the syntax's first token).
    pub column: u32,
    /// What it says.
    pub kind: SiteKind,
}

/// What a site says.
#[derive(Clone, Debug, PartialEq)]
pub enum SiteKind {
    /// `local name: T` (the site is at the name).
    Local {
        /// The local's name.
        name: String,
        /// Its type.
        ty: Type,
    },
    /// A function parameter `name: T` (`...` for the variadic one).
    Param {
        /// The parameter's name.
        name: String,
        /// Its type.
        ty: Type,
    },
    /// A `for` variable `name: T`.
    ForVar {
        /// The variable's name.
        name: String,
        /// Its type.
        ty: Type,
    },
    /// A function's return types, `): T` or `): (A, B)` (the site is at the `:`).
    Returns(Vec<Type>),
    /// A function's generic parameters, `function f<T>` (the site is at the `<`).
    Generics(Vec<Generic>),
    /// A cast, `expr :: T` or `expr as T` (the site is at the `::` / `as`).
    Cast(Type),
    /// A non-nil assertion, `expr!` (the site is at the `!`).
    NonNil,
    /// A type declaration, `type Name = T` / `export type Name = T`.
    Decl(TypeDecl),
}
