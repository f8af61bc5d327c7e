//! `test:http-client@0.1.0`: GET and POST through `wasi:http/outgoing-handler`.

use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, IncomingBody, Method, OutgoingBody, OutgoingRequest, Scheme,
};
use wasip2::io::streams::StreamError;

wit_bindgen::generate!({ world: "http-client", path: "wit" });

struct HttpClient;

impl Guest for HttpClient {
    fn fetch(url: String) -> Result<String, String> {
        request(Method::Get, &url, None)
    }

    fn post(url: String, body: String) -> Result<String, String> {
        request(Method::Post, &url, Some(body.as_bytes()))
    }
}

export!(HttpClient);

/// `http://host:port/path?q` -> (scheme, authority, path-with-query).
fn split_url(url: &str) -> Result<(Scheme, &str, &str), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("invalid url (no scheme): {url}"))?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => Scheme::Other(other.to_string()),
    };
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    if authority.is_empty() {
        return Err(format!("invalid url (no host): {url}"));
    }
    Ok((scheme, authority, if path.is_empty() { "/" } else { path }))
}

fn code(step: &str, e: ErrorCode) -> String {
    format!("{step}: {e:?}")
}

fn stream_error(step: &str, e: StreamError) -> String {
    match e {
        StreamError::LastOperationFailed(err) => {
            match wasip2::http::types::http_error_code(&err) {
                Some(c) => code(step, c),
                None => format!("{step}: {}", err.to_debug_string()),
            }
        }
        StreamError::Closed => format!("{step}: stream closed"),
    }
}

fn request(method: Method, url: &str, body: Option<&[u8]>) -> Result<String, String> {
    let (scheme, authority, path) = split_url(url)?;

    let headers = Fields::new();
    if let Some(bytes) = body {
        // A known length, so the body is not sent chunked (some servers want a length).
        let length = bytes.len().to_string();
        for (name, value) in [
            ("content-type", &b"text/plain; charset=utf-8"[..]),
            ("content-length", length.as_bytes()),
        ] {
            headers
                .append(name, value)
                .map_err(|e| format!("header {name}: {e:?}"))?;
        }
    }
    let req = OutgoingRequest::new(headers);
    let bad = |what: &str| format!("invalid url ({what}): {url}");
    req.set_method(&method).map_err(|_| bad("method"))?;
    req.set_scheme(Some(&scheme)).map_err(|_| bad("scheme"))?;
    req.set_authority(Some(authority)).map_err(|_| bad("authority"))?;
    req.set_path_with_query(Some(path)).map_err(|_| bad("path"))?;
    let out_body = req.body().map_err(|_| "request body taken".to_string())?;

    // Send first, then stream the body: the host reads it while the request goes out.
    let pending = outgoing_handler::handle(req, None).map_err(|e| code("request failed", e))?;
    if let Some(bytes) = body {
        let stream = out_body
            .write()
            .map_err(|_| "request body stream taken".to_string())?;
        for chunk in bytes.chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| stream_error("writing the request body", e))?;
        }
    }
    OutgoingBody::finish(out_body, None).map_err(|e| code("finishing the request body", e))?;

    pending.subscribe().block();
    let response = match pending.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(e))) => return Err(code("request failed", e)),
        Some(Err(())) => return Err("response already taken".to_string()),
        None => return Err("response not ready after the pollable fired".to_string()),
    };
    let status = response.status();

    let in_body = response
        .consume()
        .map_err(|_| "response body taken".to_string())?;
    let stream = in_body
        .stream()
        .map_err(|_| "response body stream taken".to_string())?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(e) => return Err(stream_error("reading the response body", e)),
        }
    }
    drop(stream);
    drop(IncomingBody::finish(in_body));
    drop(response);

    Ok(format!("{status} {}", String::from_utf8_lossy(&bytes)))
}
