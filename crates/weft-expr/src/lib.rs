//! weft-expr: the expression language of `security.policy.expr` entries and of the Lua
//! `expr` module, a subset of [expr-lang](https://expr-lang.org) with its Go semantics.
//!
//! - [`Program::compile`] parses once (bounded: [`MAX_DEPTH`], [`MAX_NODES`]); literal
//!   regexes and constant lists are built then.
//! - [`Program::run`] evaluates against an [`Env`] without re-parsing, over borrowed
//!   [`Val`]s: a policy reading `actor.meta.role` copies nothing, and evaluation is
//!   bounded by [`MAX_STEPS`].
//!
//! Why not the `expr-lang` crate: it evaluates by cloning every value it touches (an
//! owned context per run, the whole `actor` map on each `actor.…`), has no nesting limit
//! (a few thousand nested parentheses overflow the stack and abort the process) and
//! builds ranges of any size (`0..1000000000000`). See docs/architecture.md.

#![deny(missing_docs)]

mod builtins;
mod eval;
mod lexer;
mod parser;
mod value;

use std::fmt;

pub use value::{Val, fetch};

/// The deepest an expression may nest (parentheses, operands, arguments): deeper is a
/// syntax error, so neither parsing nor evaluation can exhaust the stack.
pub const MAX_DEPTH: usize = 64;

/// The most nodes an expression may have (expr-lang's own default).
pub const MAX_NODES: usize = 10_000;

/// The most evaluation steps one run may take (a step is one node evaluated or one
/// predicate element visited); past it the run fails.
pub const MAX_STEPS: u64 = 1_000_000;

/// A compile or evaluation error.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Error {
    /// The text is not a valid expression (or exceeds a limit).
    #[error("{message} (at {line}:{column})")]
    Syntax {
        /// What is wrong.
        message: Box<str>,
        /// The 1-based line.
        line: u32,
        /// The 1-based column, in characters.
        column: u32,
    },
    /// Evaluation failed: a type mismatch, a fetch from nil, a limit.
    #[error("{0}")]
    Eval(Box<str>),
}

impl Error {
    /// A syntax error at byte offset `at` of `src`.
    pub(crate) fn syntax(message: impl Into<String>, src: &str, at: usize) -> Error {
        let before = src.get(..at).unwrap_or(src);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Error::Syntax {
            message: message.into().into_boxed_str(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }

    /// An evaluation error.
    pub(crate) fn eval(message: impl Into<String>) -> Error {
        Error::Eval(message.into().into_boxed_str())
    }
}

/// The variables an expression reads.
pub trait Env {
    /// The variable `name`; [`Val::Nil`] when there is none.
    fn get(&self, name: &str) -> Val<'_>;

    /// `name.k1.k2…`: the default fetches each key from [`get`](Env::get)'s value.
    fn get_path(&self, name: &str, keys: &[Box<str>]) -> Result<Val<'_>, Error> {
        fetch(self.get(name), keys)
    }
}

/// A map of variables is an environment (the Lua `expr` module's `env` table).
impl Env for weft_core::Map {
    fn get(&self, name: &str) -> Val<'_> {
        weft_core::Map::get(self, name).map_or(Val::Nil, Val::of)
    }
}

/// A compiled expression: parse once, run many times.
pub struct Program {
    root: parser::Node,
    variables: Box<[Box<str>]>,
}

impl Program {
    /// Parses `source`; errors are [`Error::Syntax`] with the line and column.
    pub fn compile(source: &str) -> Result<Program, Error> {
        let (root, variables) = parser::parse(source)?;
        Ok(Program { root, variables })
    }

    /// The variables the expression reads (the roots of `a.b.c`), sorted, each once.
    pub fn variables(&self) -> &[Box<str>] {
        &self.variables
    }

    /// Evaluates the expression with the variables of `env`.
    pub fn run<'a>(&'a self, env: &'a dyn Env) -> Result<Val<'a>, Error> {
        eval::run(&self.root, env)
    }
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Program")
            .field("variables", &self.variables)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
