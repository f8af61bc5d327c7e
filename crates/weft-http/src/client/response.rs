//! What a request gives back (reference §3.5): status, final URL, headers under Go's
//! canonical names (first value of each), cookies from `Set-Cookie`, and the body, read
//! under the cap or handed over as a [`BodyStream`].

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderMap;
use http::header::{CONTENT_LENGTH, SET_COOKIE};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::error::{ClientError, chain};
use crate::canonical_header_name;

/// A response. HTTP error statuses are responses, not errors.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The final URL, after redirects.
    pub url: String,
    /// `(Canonical-Name, first value)`, in the order the names first arrived.
    pub headers: Vec<(String, String)>,
    /// `(name, value)` of each `Set-Cookie`; a later cookie of a name replaces an
    /// earlier one.
    pub cookies: Vec<(String, String)>,
    /// The body.
    pub body: ResponseBody,
}

/// The body of a [`Response`].
#[derive(Debug)]
pub enum ResponseBody {
    /// Read whole (empty when there was none).
    Bytes(Bytes),
    /// To be read by the caller (`stream = true`).
    Stream(BodyStream),
}

impl Response {
    /// The body length, or -1 when it is streamed.
    pub fn body_size(&self) -> i64 {
        match &self.body {
            ResponseBody::Bytes(b) => i64::try_from(b.len()).unwrap_or(i64::MAX),
            ResponseBody::Stream(_) => -1,
        }
    }

    /// The status, URL, headers and cookies of `head`, with `body`.
    pub(crate) fn new(head: &http::response::Parts, url: String, body: ResponseBody) -> Response {
        Response {
            status: head.status.as_u16(),
            url,
            headers: first_values(&head.headers),
            cookies: cookies(&head.headers),
            body,
        }
    }
}

/// Each header name once, canonical, with its first value (bytes that are not UTF-8
/// replaced).
fn first_values(map: &HeaderMap) -> Vec<(String, String)> {
    map.keys()
        .filter_map(|name| {
            let value = map.get(name)?;
            Some((
                canonical_header_name(name.as_str()),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            ))
        })
        .collect()
}

/// The `name=value` of each `Set-Cookie` (attributes dropped, quotes around the value
/// removed, as Go's `readSetCookies` does); malformed ones are skipped.
fn cookies(map: &HeaderMap) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for header in map.get_all(SET_COOKIE) {
        let text = String::from_utf8_lossy(header.as_bytes());
        let first = text.split(';').next().unwrap_or_default();
        let Some((name, value)) = first.split_once('=') else {
            continue;
        };
        let name = name.trim();
        if name.is_empty() {
            continue;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        out.retain(|(n, _)| n != name);
        out.push((name.to_string(), value.to_string()));
    }
    out
}

/// Reads `body` whole before `deadline`; more than `max` bytes fails (early, when the
/// Content-Length says so).
pub(crate) async fn read_all(
    head: &http::response::Parts,
    mut body: Incoming,
    max: u64,
    deadline: Instant,
    url: &str,
    timeout: Duration,
) -> Result<Bytes, ClientError> {
    let declared = head
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(ClientError::TooLarge(max));
    }
    let read = async {
        let mut out = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| transport(url, &e))?;
            if let Ok(data) = frame.into_data() {
                if out.len() as u64 + data.len() as u64 > max {
                    return Err(ClientError::TooLarge(max));
                }
                out.extend_from_slice(&data);
            }
        }
        Ok(Bytes::from(out))
    };
    match tokio::time::timeout_at(deadline.into(), read).await {
        Ok(result) => result,
        Err(_) => Err(ClientError::Timeout {
            url: url.to_string(),
            after: timeout,
        }),
    }
}

/// A transport error reading from `url`.
fn transport(url: &str, e: &hyper::Error) -> ClientError {
    ClientError::Transport {
        url: url.to_string(),
        reason: chain(e),
    }
}

/// A response body read piece by piece. Reads past the request's deadline fail with
/// Timeout; dropping the stream (or [`close`](BodyStream::close)) releases the
/// connection.
pub struct BodyStream {
    body: Option<Incoming>,
    pending: Bytes,
    deadline: Instant,
    timeout: Duration,
    url: String,
}

impl std::fmt::Debug for BodyStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyStream")
            .field("url", &self.url)
            .field("open", &self.body.is_some())
            .finish()
    }
}

impl BodyStream {
    pub(crate) fn new(body: Incoming, deadline: Instant, timeout: Duration, url: String) -> Self {
        BodyStream {
            body: Some(body),
            pending: Bytes::new(),
            deadline,
            timeout,
            url,
        }
    }

    /// Up to `max` bytes (`0`: whatever arrives next, whole); `None` at the end of the
    /// body or once closed.
    pub async fn read(&mut self, max: usize) -> weft_core::Result<Option<Bytes>> {
        if self.pending.is_empty() {
            match self.next().await? {
                Some(data) => self.pending = data,
                None => return Ok(None),
            }
        }
        let n = if max == 0 {
            self.pending.len()
        } else {
            max.min(self.pending.len())
        };
        Ok(Some(self.pending.split_to(n)))
    }

    /// The next non-empty data frame.
    async fn next(&mut self) -> weft_core::Result<Option<Bytes>> {
        let Some(body) = self.body.as_mut() else {
            return Ok(None);
        };
        let url = &self.url;
        let next = async {
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| transport(url, &e))?;
                if let Ok(data) = frame.into_data()
                    && !data.is_empty()
                {
                    return Ok(Some(data));
                }
            }
            Ok(None)
        };
        let outcome = match tokio::time::timeout_at(self.deadline.into(), next).await {
            Ok(outcome) => outcome,
            Err(_) => Err(ClientError::Timeout {
                url: url.clone(),
                after: self.timeout,
            }),
        };
        match outcome {
            Ok(Some(data)) => Ok(Some(data)),
            Ok(None) => {
                self.body = None;
                Ok(None)
            }
            Err(e) => {
                self.body = None;
                Err(e.into())
            }
        }
    }

    /// Stops reading and releases the connection; later reads give `None`.
    pub fn close(&mut self) {
        self.body = None;
        self.pending = Bytes::new();
    }

    /// Whether the stream is still open (not closed, not at its end).
    pub fn is_open(&self) -> bool {
        self.body.is_some() || !self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_canonical_and_first_valued_and_cookies_parsed() {
        let mut map = HeaderMap::new();
        map.append("x-custom-header", "one".parse().unwrap());
        map.append("x-custom-header", "two".parse().unwrap());
        map.append("www-authenticate", "Basic".parse().unwrap());
        map.append("set-cookie", "a=1; Path=/".parse().unwrap());
        map.append("set-cookie", "b=\"q v\"; HttpOnly".parse().unwrap());
        map.append("set-cookie", "a=2".parse().unwrap());
        map.append("set-cookie", "junk".parse().unwrap());
        let headers = first_values(&map);
        assert!(headers.contains(&("X-Custom-Header".into(), "one".into())));
        assert!(headers.contains(&("Www-Authenticate".into(), "Basic".into())));
        assert_eq!(
            cookies(&map),
            [
                ("b".to_string(), "q v".to_string()),
                ("a".into(), "2".into())
            ]
        );
    }
}
