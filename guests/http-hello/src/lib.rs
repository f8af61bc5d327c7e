//! A `wasi:http/incoming-handler` component (the `wasi:http/proxy` world), the same
//! `.wasm` for weft's endpoints and for `wasmtime serve`. What it answers depends on the
//! last segment of the request path:
//!
//! - `.../stream`: streams the request body back, upper-cased, one response chunk per
//!   request chunk, each flushed as soon as it is read (full duplex);
//! - `.../fetch?url=<url>`: an outgoing GET to `<url>`; 200 `fetched <status>` or 502
//!   `fetch failed: <ErrorCode Debug form>` (`HttpRequestDenied` for a denial);
//! - `.../trap`: traps (`unreachable`) before answering;
//! - `.../spin`: loops forever before answering;
//! - `.../big?n=<bytes>`: 200 with `n` bytes of `x`, written in 4 KiB pieces;
//! - anything else: 200 `text/plain` with `hello`, then `method`, `path` (with query),
//!   the request headers sorted by name (`name: value` lines), and `body` read whole.

use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingRequest,
    OutgoingResponse, ResponseOutparam, Scheme,
};
use wasip2::io::streams::{InputStream, OutputStream, StreamError};

struct HttpHello;

wasip2::http::proxy::export!(HttpHello);

impl Guest for HttpHello {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let (route, query) = path.split_once('?').unwrap_or((path.as_str(), ""));
        let last = route.rsplit('/').next().unwrap_or("");
        match last {
            "stream" => stream(request, out),
            "fetch" => fetch(query, out),
            "trap" => core::arch::wasm32::unreachable(),
            "spin" => spin(),
            "big" => big(query, out),
            _ => hello(request, out),
        }
    }
}

/// A query parameter's raw value.
fn param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// Starts a response: the status and `text/plain`, the body stream, the body.
fn respond(out: ResponseOutparam, status: u16) -> (OutgoingBody, OutputStream) {
    let headers = Fields::new();
    headers
        .append("content-type", b"text/plain; charset=utf-8")
        .expect("content-type");
    let response = OutgoingResponse::new(headers);
    response.set_status_code(status).expect("status");
    let body = response.body().expect("response body");
    ResponseOutparam::set(out, Ok(response));
    let stream = body.write().expect("response body stream");
    (body, stream)
}

/// Writes all of `data` (at most 4 KiB per blocking write, as WASI allows) and flushes.
fn write_all(stream: &OutputStream, data: &[u8]) {
    for chunk in data.chunks(4096) {
        stream.blocking_write_and_flush(chunk).expect("write");
    }
}

/// Ends a response body.
fn finish(body: OutgoingBody, stream: OutputStream) {
    drop(stream);
    OutgoingBody::finish(body, None).expect("finish");
}

/// The whole request body.
fn read_all(stream: &InputStream) -> Vec<u8> {
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => return bytes,
            Err(e) => panic!("reading the request body: {e:?}"),
        }
    }
}

fn hello(request: IncomingRequest, out: ResponseOutparam) {
    let method = match request.method() {
        Method::Get => "GET".to_string(),
        Method::Head => "HEAD".to_string(),
        Method::Post => "POST".to_string(),
        Method::Put => "PUT".to_string(),
        Method::Delete => "DELETE".to_string(),
        Method::Connect => "CONNECT".to_string(),
        Method::Options => "OPTIONS".to_string(),
        Method::Trace => "TRACE".to_string(),
        Method::Patch => "PATCH".to_string(),
        Method::Other(m) => m,
    };
    let mut text = format!(
        "hello\nmethod: {method}\npath: {}\n",
        request.path_with_query().unwrap_or_default()
    );
    let mut headers = request.headers().entries();
    headers.sort();
    for (name, value) in headers {
        text.push_str(&format!("{name}: {}\n", String::from_utf8_lossy(&value)));
    }
    let body = request.consume().expect("request body");
    let bytes = read_all(&body.stream().expect("request body stream"));
    drop(IncomingBody::finish(body));
    text.push_str(&format!("body: {}\n", String::from_utf8_lossy(&bytes)));
    let (body, stream) = respond(out, 200);
    write_all(&stream, text.as_bytes());
    finish(body, stream);
}

fn stream(request: IncomingRequest, out: ResponseOutparam) {
    let in_body = request.consume().expect("request body");
    let input = in_body.stream().expect("request body stream");
    let (body, output) = respond(out, 200);
    loop {
        match input.blocking_read(64 * 1024) {
            Ok(chunk) => write_all(&output, &chunk.to_ascii_uppercase()),
            Err(StreamError::Closed) => break,
            Err(e) => panic!("reading the request body: {e:?}"),
        }
    }
    finish(body, output);
}

fn big(query: &str, out: ResponseOutparam) {
    let n: usize = param(query, "n").and_then(|n| n.parse().ok()).unwrap_or(0);
    let (body, stream) = respond(out, 200);
    let piece = [b'x'; 4096];
    let mut left = n;
    while left > 0 {
        let len = left.min(piece.len());
        stream
            .blocking_write_and_flush(&piece[..len])
            .expect("write");
        left -= len;
    }
    finish(body, stream);
}

#[allow(clippy::empty_loop)]
fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        n = core::hint::black_box(n.wrapping_add(1));
    }
}

fn fetch(query: &str, out: ResponseOutparam) {
    let (status, text) = match param(query, "url").map(get) {
        Some(Ok(code)) => (200, format!("fetched {code}")),
        Some(Err(e)) => (502, format!("fetch failed: {e}")),
        None => (400, "missing url".to_string()),
    };
    let (body, stream) = respond(out, status);
    write_all(&stream, text.as_bytes());
    finish(body, stream);
}

/// An outgoing GET to `url` (`http://host:port/path`): the response status.
fn get(url: &str) -> Result<u16, String> {
    let (scheme, rest) = url.split_once("://").ok_or("no scheme")?;
    let scheme = if scheme.eq_ignore_ascii_case("https") {
        Scheme::Https
    } else {
        Scheme::Http
    };
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    let req = OutgoingRequest::new(Fields::new());
    req.set_scheme(Some(&scheme)).map_err(|_| "scheme")?;
    req.set_authority(Some(authority))
        .map_err(|_| "authority")?;
    req.set_path_with_query(Some(if path.is_empty() { "/" } else { path }))
        .map_err(|_| "path")?;
    let code = |e: ErrorCode| format!("{e:?}");
    let pending = outgoing_handler::handle(req, None).map_err(code)?;
    pending.subscribe().block();
    match pending.get() {
        Some(Ok(Ok(response))) => Ok(response.status()),
        Some(Ok(Err(e))) => Err(code(e)),
        _ => Err("no response".to_string()),
    }
}
