//! [`Error`]: the error every call returns, with a kind, a retryable flag, details and a
//! chain of context (entry id, field, file:line).

use std::fmt;
use std::sync::Arc;

use crate::Value;

/// The context prefix that marks which entry field an error is about (`field pool.size`).
pub const FIELD_PREFIX: &str = "field ";

/// The result type of weft calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The kind of an [`Error`]: what callers branch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ErrorKind {
    /// No kind (Lua `errors.UNKNOWN`, the empty string).
    #[default]
    Unknown,
    /// Something named does not exist.
    NotFound,
    /// Something to create exists already.
    AlreadyExists,
    /// Bad input.
    Invalid,
    /// The security context does not allow it.
    PermissionDenied,
    /// A dependency is not available now.
    Unavailable,
    /// A fault inside the runtime or a guest.
    Internal,
    /// The operation was cancelled.
    Canceled,
    /// A conflicting state.
    Conflict,
    /// A deadline passed.
    Timeout,
    /// Too many requests.
    RateLimited,
}

impl ErrorKind {
    /// Every kind, in a fixed order.
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::Unknown,
        ErrorKind::NotFound,
        ErrorKind::AlreadyExists,
        ErrorKind::Invalid,
        ErrorKind::PermissionDenied,
        ErrorKind::Unavailable,
        ErrorKind::Internal,
        ErrorKind::Canceled,
        ErrorKind::Conflict,
        ErrorKind::Timeout,
        ErrorKind::RateLimited,
    ];

    /// The kind's name as Lua sees it (`"NotFound"`; `""` for Unknown).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Unknown => "",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::AlreadyExists => "AlreadyExists",
            ErrorKind::Invalid => "Invalid",
            ErrorKind::PermissionDenied => "PermissionDenied",
            ErrorKind::Unavailable => "Unavailable",
            ErrorKind::Internal => "Internal",
            ErrorKind::Canceled => "Canceled",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::Timeout => "Timeout",
            ErrorKind::RateLimited => "RateLimited",
        }
    }

    /// Parses a kind name; unknown names give `None`.
    pub fn parse(s: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error crossing weft's call boundaries.
///
/// `message` is the innermost text; `context` holds the prefixes added by wrapping,
/// outermost first. `Display` renders `context: ...: message`.
#[derive(Clone, Debug, Default, thiserror::Error)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    retryable: Option<bool>,
    details: Option<Value>,
    context: Vec<String>,
    stack: Option<Arc<str>>,
}

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            ..Error::default()
        }
    }

    /// A NotFound error.
    pub fn not_found(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::NotFound, message)
    }

    /// An Invalid error: bad input, so not retryable (`retryable() == Some(false)`, as
    /// Wippy's modules report it).
    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Invalid, message).with_retryable(Some(false))
    }

    /// An Internal error.
    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Internal, message)
    }

    /// A PermissionDenied error.
    pub fn permission_denied(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::PermissionDenied, message)
    }

    /// A Timeout error.
    pub fn timeout(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Timeout, message)
    }

    /// A Canceled error.
    pub fn canceled(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Canceled, message)
    }

    /// Sets the retryable flag.
    pub fn with_retryable(mut self, retryable: Option<bool>) -> Error {
        self.retryable = retryable;
        self
    }

    /// Sets the details value.
    pub fn with_details(mut self, details: Option<Value>) -> Error {
        self.details = details;
        self
    }

    /// Sets the stack trace text (Lua traceback, wasm backtrace).
    pub fn with_stack(mut self, stack: impl Into<Arc<str>>) -> Error {
        self.stack = Some(stack.into());
        self
    }

    /// Adds a context prefix (kind, retryable and details are kept).
    pub fn context(mut self, ctx: impl Into<String>) -> Error {
        self.context.insert(0, ctx.into());
        self
    }

    /// Marks the error as being about the entry field `path` (boot reports it as the field).
    pub fn in_field(self, path: impl std::fmt::Display) -> Error {
        self.context(format!("{FIELD_PREFIX}{path}"))
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The innermost message, without context prefixes.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The retryable flag (`None` when nobody said).
    pub fn retryable(&self) -> Option<bool> {
        self.retryable
    }

    /// The details value.
    pub fn details(&self) -> Option<&Value> {
        self.details.as_ref()
    }

    /// The context prefixes, outermost first.
    pub fn context_chain(&self) -> &[String] {
        &self.context
    }

    /// The stack trace text, if any.
    pub fn stack(&self) -> Option<&str> {
        self.stack.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for ctx in &self.context {
            write!(f, "{ctx}: ")?;
        }
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_names() {
        for k in ErrorKind::ALL {
            assert_eq!(ErrorKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ErrorKind::parse("Bogus"), None);
        assert_eq!(ErrorKind::Unknown.as_str(), "");
    }

    #[test]
    fn context_prefixes_display_but_keep_message_and_kind() {
        let e = Error::not_found("entry missing")
            .with_retryable(Some(true))
            .context("loading app:x")
            .context("boot");
        assert_eq!(e.to_string(), "boot: loading app:x: entry missing");
        assert_eq!(e.message(), "entry missing");
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.retryable(), Some(true));
    }
}
