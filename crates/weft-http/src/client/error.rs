//! The client's own errors, and how each becomes a [`weft_core::Error`] with its kind.

use std::time::Duration;

use weft_core::Error;

/// What can go wrong in an outgoing request (besides a denied check, which is a
/// [`weft_core::Error`] from `weft-net` already).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClientError {
    /// The method is empty or not a token.
    #[error("invalid method {0:?}")]
    Method(String),
    /// The URL does not parse.
    #[error("invalid URL {url:?}: {reason}")]
    Url { url: String, reason: String },
    /// Neither http nor https.
    #[error("unsupported URL scheme {scheme:?} in {url} (http or https)")]
    Scheme { scheme: String, url: String },
    /// A header name or value that cannot be sent.
    #[error("invalid header {0:?}")]
    Header(String),
    /// A cookie name or value that cannot be sent.
    #[error("invalid cookie {0:?}")]
    Cookie(String),
    /// Bad `tls` material.
    #[error("tls.{field}: {reason}")]
    Tls { field: &'static str, reason: String },
    /// A bad `%` escape in `decode_uri`.
    #[error("invalid URL escape {0:?}")]
    Escape(String),
    /// `stream` in a batch.
    #[error("streaming not supported in batch requests")]
    BatchStream,
    /// The deadline (the request's timeout or the caller's) passed.
    #[error("request to {url} timed out after {after:?}")]
    Timeout { url: String, after: Duration },
    /// Connecting, TLS, or the exchange failed.
    #[error("request to {url} failed: {reason}")]
    Transport { url: String, reason: String },
    /// The body is over `max_response_body`.
    #[error("response body too large (max {0} bytes)")]
    TooLarge(u64),
    /// More than ten redirects.
    #[error("stopped after {0} redirects")]
    Redirects(usize),
    /// A redirect whose Location cannot be followed.
    #[error("redirect from {from} to {location:?}: {reason}")]
    Location {
        from: String,
        location: String,
        reason: String,
    },
}

impl From<ClientError> for Error {
    fn from(e: ClientError) -> Error {
        let message = e.to_string();
        match e {
            ClientError::Method(_)
            | ClientError::Url { .. }
            | ClientError::Scheme { .. }
            | ClientError::Header(_)
            | ClientError::Cookie(_)
            | ClientError::Tls { .. }
            | ClientError::Escape(_)
            | ClientError::BatchStream => Error::invalid(message),
            ClientError::Timeout { .. } => Error::timeout(message).with_retryable(Some(true)),
            ClientError::Transport { .. } => Error::internal(message).with_retryable(Some(true)),
            ClientError::TooLarge(_) | ClientError::Redirects(_) | ClientError::Location { .. } => {
                Error::internal(message).with_retryable(Some(false))
            }
        }
    }
}

/// A transport error's text: hyper's error and its sources, outermost first, so the
/// cause ("connection refused", "invalid peer certificate") is in the message.
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}
