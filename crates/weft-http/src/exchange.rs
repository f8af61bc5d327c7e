//! [`Exchange`]: one request and its response, as the endpoint's function sees them.
//!
//! The endpoint puts it in the call frame as a [`Handle`] that reaches the direct callee
//! only ([`Inherit::DirectCallee`], reference §1.8). The engines' `http` modules read the
//! request through it and write the response through it; they keep their own per-wrapper
//! state (Go's `headersSent` of each `http.response()`).
//!
//! The response follows Go's `ResponseWriter`: [`Exchange::write_header`] fixes the status
//! and snapshots the headers; the first [`Exchange::write`] implies 200 and sniffs a
//! `Content-Type` when none is set. Writes are buffered: a response that ends with at most
//! [`BUFFER`] bytes goes out whole, with a `Content-Length`; a bigger one, or one that is
//! [flushed](Exchange::flush), streams from that moment, chunk by chunk, while the function
//! still runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use http_body_util::{BodyExt, StreamBody};
use tokio::sync::{mpsc, oneshot};
use weft_core::{Handle, Inherit};

use crate::mux::Params;
use crate::pipeline::{Body, BoxError, HttpResponse, RouteInfo};

/// How many written bytes a response holds back before it starts streaming.
pub const BUFFER: usize = 4096;

/// How many chunks may wait for a slow client before `write` waits too.
const CHUNKS_IN_FLIGHT: usize = 8;

/// One request and its response (a context handle for the endpoint's function).
pub struct Exchange {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    remote_addr: Arc<str>,
    route: Option<RouteInfo>,
    content_length: Option<u64>,
    body: parking_lot::Mutex<Option<Body>>,
    handled: AtomicBool,
    /// A body read was refused for its size.
    too_large: AtomicBool,
    writer: tokio::sync::Mutex<Writer>,
}

impl Handle for Exchange {
    const INHERIT: Inherit = Inherit::DirectCallee;
}

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// It is longer than the limit.
    #[error("request body too large")]
    TooLarge,
    /// It did not arrive in time.
    #[error("request timeout after {0}ms")]
    Timeout(u128),
    /// It was taken already (read, or streamed).
    #[error("request body already read")]
    Consumed,
    /// The connection failed while reading it.
    #[error("{0}")]
    Read(String),
}

/// Why a response write failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The client went away (or the response was finished).
    #[error("connection closed")]
    Closed,
}

/// The response side, behind an async lock so that chunks keep their order.
struct Writer {
    /// Set once the head is fixed (Go's `WriteHeader`).
    status: Option<StatusCode>,
    headers: HeaderMap,
    buffer: BytesMut,
    out: Out,
}

/// Where the response goes.
enum Out {
    /// Nothing sent yet: the head goes here, with the whole body or a stream.
    Pending(oneshot::Sender<HttpResponse>),
    /// The head is out; chunks go here.
    Streaming(mpsc::Sender<Result<Bytes, BoxError>>),
    /// Finished, or the client is gone.
    Closed,
}

impl Exchange {
    /// The exchange of a request whose head is `parts` and body `body`; its response goes
    /// to `respond` once fixed (whole, or as a stream).
    pub fn new(
        parts: http::request::Parts,
        body: Body,
        remote_addr: Arc<str>,
        route: Option<RouteInfo>,
        respond: oneshot::Sender<HttpResponse>,
    ) -> Exchange {
        let content_length = declared_length(&parts.headers, &body);
        Exchange {
            content_length,
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            remote_addr,
            route,
            body: parking_lot::Mutex::new(Some(body)),
            handled: AtomicBool::new(false),
            too_large: AtomicBool::new(false),
            writer: tokio::sync::Mutex::new(Writer {
                status: None,
                headers: HeaderMap::new(),
                buffer: BytesMut::new(),
                out: Out::Pending(respond),
            }),
        }
    }

    /// The request method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The request target.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The path, percent-decoded (Go's `URL.Path`); invalid UTF-8 becomes U+FFFD.
    pub fn path(&self) -> String {
        let raw = self.uri.path();
        percent_encoding::percent_decode_str(raw)
            .decode_utf8_lossy()
            .into_owned()
    }

    /// The query's pairs, decoded, in order (`+` is a space).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let query = self.uri.query().unwrap_or("");
        url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// The request headers (looked up case-insensitively).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The `Host` (the authority for HTTP/2), with its port.
    pub fn host(&self) -> String {
        self.headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string)
            .or_else(|| self.uri.authority().map(|a| a.to_string()))
            .unwrap_or_default()
    }

    /// The declared body length: `None` when unknown (chunked, or an HTTP/2 stream
    /// without `Content-Length`), `Some(0)` for no body.
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// The client's address (`ip:port`; a bare ip after `real_ip`).
    pub fn remote_addr(&self) -> &str {
        &self.remote_addr
    }

    /// The matched route's wildcard values (`None` outside a routed endpoint).
    pub fn params(&self) -> Option<&Params> {
        self.route.as_ref().map(|r| &r.params)
    }

    /// Reads the whole body: at most `max` bytes within `timeout`. The body can be taken
    /// once.
    pub async fn read_body(&self, max: u64, timeout: Duration) -> Result<Bytes, BodyError> {
        let read = self.read_body_inner(max, timeout).await;
        if matches!(read, Err(BodyError::TooLarge)) {
            self.too_large.store(true, Ordering::Release);
        }
        read
    }

    /// [`Exchange::read_body`] without the bookkeeping.
    async fn read_body_inner(&self, max: u64, timeout: Duration) -> Result<Bytes, BodyError> {
        if self.content_length().is_some_and(|n| n > max) {
            return Err(BodyError::TooLarge);
        }
        let mut body = self.take_body().ok_or(BodyError::Consumed)?;
        // A loop over the frames rather than `Limited::collect`, whose future an engine
        // cannot prove `Send` (its error conversion is higher-ranked).
        let read = async move {
            let mut out = BytesMut::new();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
                if let Ok(data) = frame.into_data() {
                    if (out.len() + data.len()) as u64 > max {
                        return Err(BodyError::TooLarge);
                    }
                    out.extend_from_slice(&data);
                }
            }
            Ok(out.freeze())
        };
        match tokio::time::timeout(timeout, read).await {
            Err(_) => Err(BodyError::Timeout(timeout.as_millis())),
            Ok(read) => read,
        }
    }

    /// Takes the body to stream it (`None` once taken).
    pub fn take_body(&self) -> Option<Body> {
        self.body.lock().take()
    }

    /// Whether the function answered (set a header or the status, or wrote).
    pub fn handled(&self) -> bool {
        self.handled.load(Ordering::Acquire)
    }

    /// Whether a body read was refused for its size (an unanswered request is then a 413).
    pub fn body_too_large(&self) -> bool {
        self.too_large.load(Ordering::Acquire)
    }

    /// Marks the response answered.
    pub fn mark_handled(&self) {
        self.handled.store(true, Ordering::Release);
    }

    /// Sets a response header (replacing its values); ignored once the head is fixed, as
    /// Go ignores header changes after `WriteHeader`.
    pub async fn set_header(&self, name: HeaderName, value: HeaderValue) {
        let mut w = self.writer.lock().await;
        if w.status.is_none() {
            w.headers.insert(name, value);
        }
    }

    /// Adds a response header value, keeping the values set before (`Set-Cookie` twice);
    /// ignored once the head is fixed, as [`Exchange::set_header`].
    pub async fn append_header(&self, name: HeaderName, value: HeaderValue) {
        let mut w = self.writer.lock().await;
        if w.status.is_none() {
            w.headers.append(name, value);
        }
    }

    /// Reads the response headers as set so far.
    pub async fn response_header(&self, name: &HeaderName) -> Option<HeaderValue> {
        self.writer.lock().await.headers.get(name).cloned()
    }

    /// Fixes the status and the headers (Go's `WriteHeader`); a second call is ignored.
    pub async fn write_header(&self, status: StatusCode) {
        self.mark_handled();
        let mut w = self.writer.lock().await;
        if w.status.is_none() {
            w.status = Some(status);
        }
    }

    /// Writes body bytes (200 first when no status is set; a sniffed `Content-Type` when
    /// none is set). Streams once more than [`BUFFER`] bytes wait.
    pub async fn write(&self, data: &[u8]) -> Result<(), WriteError> {
        self.mark_handled();
        let mut w = self.writer.lock().await;
        if matches!(w.out, Out::Closed) {
            return Err(WriteError::Closed);
        }
        if w.status.is_none() {
            w.status = Some(StatusCode::OK);
        }
        if !w.headers.contains_key(header::CONTENT_TYPE) && !data.is_empty() && w.buffer.is_empty()
        {
            let sniffed = HeaderValue::from_static(sniff(data));
            w.headers.insert(header::CONTENT_TYPE, sniffed);
        }
        w.buffer.extend_from_slice(data);
        if w.buffer.len() > BUFFER {
            w.send_buffer().await?;
        }
        Ok(())
    }

    /// Sends the head (200 when none is set) and what is buffered now: the response
    /// streams from here on.
    pub async fn flush(&self) -> Result<(), WriteError> {
        self.mark_handled();
        let mut w = self.writer.lock().await;
        if w.status.is_none() {
            w.status = Some(StatusCode::OK);
        }
        w.send_buffer().await
    }

    /// Ends the response: sends what is pending (a whole response when nothing streamed,
    /// with `default` as the body when nothing was written and a status is set) and closes
    /// the stream. Returns false when no response was started (the caller answers).
    pub async fn finish(&self) -> bool {
        let mut w = self.writer.lock().await;
        if w.status.is_none() && !self.handled() {
            return false;
        }
        let status = w.status.unwrap_or(StatusCode::OK);
        match std::mem::replace(&mut w.out, Out::Closed) {
            Out::Pending(respond) => {
                let body = w.buffer.split().freeze();
                let _ = respond.send(w.response(status, crate::pipeline::full(body)));
            }
            Out::Streaming(chunks) => {
                if !w.buffer.is_empty() {
                    let _ = chunks.send(Ok(w.buffer.split().freeze())).await;
                }
            }
            Out::Closed => {}
        }
        true
    }

    /// Ends a response that cannot be completed (the function failed after it started
    /// answering): a response not sent yet becomes a 500 with `reason`; one that
    /// streams ends with an error, so that the client sees a broken response (hyper
    /// closes the connection without the final chunk) rather than a complete-looking
    /// truncated one.
    pub async fn abort(&self, reason: &str) {
        let mut w = self.writer.lock().await;
        match std::mem::replace(&mut w.out, Out::Closed) {
            Out::Pending(respond) => {
                let res = crate::pipeline::text_error(StatusCode::INTERNAL_SERVER_ERROR, reason);
                let _ = respond.send(res);
            }
            Out::Streaming(chunks) => {
                let _ = chunks.send(Err(reason.to_string().into())).await;
            }
            Out::Closed => {}
        }
    }

    /// Answers with `response` when nothing was sent yet (the endpoint's own answers);
    /// false when the function had started a response.
    pub async fn respond(&self, response: HttpResponse) -> bool {
        let mut w = self.writer.lock().await;
        if !matches!(w.out, Out::Pending(_)) {
            w.out = Out::Closed;
            return false;
        }
        if let Out::Pending(respond) = std::mem::replace(&mut w.out, Out::Closed) {
            let _ = respond.send(response);
        }
        true
    }
}

impl Writer {
    /// The response with the fixed head and `body`.
    fn response(&self, status: StatusCode, body: Body) -> HttpResponse {
        let mut res = http::Response::new(body);
        *res.status_mut() = status;
        *res.headers_mut() = self.headers.clone();
        res
    }

    /// Starts streaming if not yet, then sends the buffer as one chunk.
    async fn send_buffer(&mut self) -> Result<(), WriteError> {
        if let Out::Pending(_) = self.out {
            let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
            let stream = chunk_stream(rx);
            let body = BodyExt::boxed_unsync(StreamBody::new(stream));
            let status = self.status.unwrap_or(StatusCode::OK);
            let res = self.response(status, body);
            let Out::Pending(respond) = std::mem::replace(&mut self.out, Out::Streaming(tx)) else {
                return Err(WriteError::Closed);
            };
            if respond.send(res).is_err() {
                self.out = Out::Closed;
                return Err(WriteError::Closed);
            }
        }
        let Out::Streaming(chunks) = &self.out else {
            return Err(WriteError::Closed);
        };
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = self.buffer.split().freeze();
        if chunks.send(Ok(chunk)).await.is_err() {
            self.out = Out::Closed;
            return Err(WriteError::Closed);
        }
        Ok(())
    }
}

/// A request body's length from its `Content-Length`, else from the body itself: ended
/// is 0, an exact size hint is that size, anything else unknown.
fn declared_length(headers: &HeaderMap, body: &Body) -> Option<u64> {
    use http_body::Body as _;
    match headers.get(header::CONTENT_LENGTH) {
        Some(v) => v.to_str().ok().and_then(|v| v.trim().parse().ok()),
        None if body.is_end_stream() => Some(0),
        None => body.size_hint().exact(),
    }
}

/// The frames of a streamed body, from the chunks the writer sends.
fn chunk_stream(
    rx: mpsc::Receiver<Result<Bytes, BoxError>>,
) -> impl futures::Stream<Item = Result<http_body::Frame<Bytes>, BoxError>> + Send + 'static {
    futures::stream::unfold(rx, |mut rx| async move {
        let item = rx.recv().await?;
        Some((item.map(http_body::Frame::data), rx))
    })
    .boxed()
}

/// The `Content-Type` Go's `DetectContentType` gives the first bytes of a body, for the
/// cases a handler meets: HTML, other text, or binary.
fn sniff(data: &[u8]) -> &'static str {
    let head = &data[..data.len().min(512)];
    let start = head
        .iter()
        .position(|b| !matches!(b, b'\t' | b'\n' | 0x0c | b'\r' | b' '))
        .unwrap_or(head.len());
    let lead = &head[start..];
    let starts_with_ci = |tag: &[u8]| {
        lead.len() > tag.len()
            && lead[..tag.len()].eq_ignore_ascii_case(tag)
            && matches!(lead[tag.len()], b' ' | b'>')
    };
    const HTML_TAGS: [&[u8]; 16] = [
        b"<!DOCTYPE HTML",
        b"<HTML",
        b"<HEAD",
        b"<SCRIPT",
        b"<IFRAME",
        b"<H1",
        b"<DIV",
        b"<FONT",
        b"<TABLE",
        b"<A",
        b"<STYLE",
        b"<TITLE",
        b"<B",
        b"<BODY",
        b"<BR",
        b"<P",
    ];
    if HTML_TAGS.iter().any(|t| starts_with_ci(t)) || lead.starts_with(b"<!--") {
        return "text/html; charset=utf-8";
    }
    if lead.starts_with(b"<?xml") {
        return "text/xml; charset=utf-8";
    }
    let binary = head
        .iter()
        .any(|&b| matches!(b, 0x00..=0x08 | 0x0b | 0x0e..=0x1a | 0x1c..=0x1f));
    if binary {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The engines await `read_body` inside `Send` futures (mlua's async methods).
    #[allow(dead_code)]
    fn read_body_is_send(ex: &Exchange) {
        fn send<T: Send>(_: T) {}
        send(ex.read_body(1, Duration::ZERO));
    }

    #[test]
    fn sniffing_tells_html_text_and_binary_apart() {
        assert_eq!(sniff(b"  <!doctype html><p>x"), "text/html; charset=utf-8");
        assert_eq!(sniff(b"<p>hello</p>"), "text/html; charset=utf-8");
        assert_eq!(sniff(b"{\"a\":1}"), "text/plain; charset=utf-8");
        assert_eq!(sniff(b"plain words"), "text/plain; charset=utf-8");
        assert_eq!(
            sniff(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]),
            "application/octet-stream"
        );
        assert_eq!(sniff(b"<?xml version=\"1.0\"?>"), "text/xml; charset=utf-8");
    }
}
