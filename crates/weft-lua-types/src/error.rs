//! The one error of the front end: a syntax error at a line and column of the source.

/// A syntax error: where (1-based line and column, the column counted in characters)
/// and what was expected there.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct SyntaxError {
    /// The line, from 1.
    pub line: u32,
    /// The column, from 1, in characters (Unicode scalar values) from the line's start.
    pub column: u32,
    /// What went wrong, saying what was expected.
    pub message: String,
}

/// What the front end's functions return.
pub(crate) type Result<T> = std::result::Result<T, SyntaxError>;
