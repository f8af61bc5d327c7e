//! The outbound HTTP client both engines call (reference §3): [`HttpClient::request`]
//! and [`HttpClient::request_batch`], each taking the caller's [`CallContext`] and
//! checking inside, through `weft-net`'s one outbound policy, before anything is sent:
//! `http_client.unix_socket`, `http_client.insecure_tls`, `http_client.request`,
//! `http_client.private_ip` ([`weft_net::check_http_target`]), and the same again for
//! every redirect target before it is followed (Wippy does not re-check redirects).
//!
//! The client is hyper-util's pooled client over our own [`connect::Connector`] (TCP or
//! a unix socket, rustls with the ring provider, HTTP/2 by ALPN), made once per runtime
//! and cheap to clone. Requests with `tls` options or a `unix_socket` get a connection
//! of their own (never pooled, so one request's TLS settings or socket never serve
//! another's); everything else shares the pool. Redirects are followed here, not by
//! hyper, so that each target can be checked (asynchronously: the private-IP check
//! resolves the host).
//!
//! Module graph: `request` (options → wire bytes) and `encode` (Go's query escaping)
//! feed [`HttpClient::request`]; `redirect` decides each hop; `connect` and `tls` open
//! connections; `response` reads what comes back; `error` holds the typed errors.

mod connect;
mod encode;
mod error;
mod redirect;
mod request;
mod response;
#[cfg(test)]
mod tests;
mod tls;

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method, Uri};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use weft_core::{CallContext, Error, Result};
use weft_net::HttpTarget;

pub use encode::{query_escape, query_unescape};
pub use request::{
    BasicAuth, DEFAULT_MAX_RESPONSE_BODY, DEFAULT_TIMEOUT, FilePart, Request, TlsOptions,
};
pub use response::{BodyStream, Response, ResponseBody};

use connect::Connector;
use error::{ClientError, chain};

/// hyper-util's client over our connector.
type Pool = Client<Connector, Full<Bytes>>;

/// The deadline of a timeout too large to add to an `Instant`: 30 years.
const FOREVER: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// How long an idle pooled connection is kept.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The outbound HTTP client of a runtime: one connection pool, cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    pool: Pool,
}

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient::new()
    }
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HttpClient")
    }
}

/// A request checked and encoded, ready to send.
struct Prepared {
    method: Method,
    /// The URL with the query merged.
    url: url::Url,
    headers: HeaderMap,
    body: Bytes,
    /// The pool, or a client of the request's own (tls options, a unix socket).
    client: Pool,
    unix_socket: Option<String>,
    insecure_tls: bool,
    started: Instant,
    deadline: Instant,
    max_body: u64,
    stream: bool,
}

impl HttpClient {
    /// A client with an empty pool and the built-in (webpki) roots.
    pub fn new() -> HttpClient {
        let connector = Connector::new(tls::default_config(), None, None);
        HttpClient {
            pool: Client::builder(TokioExecutor::new())
                .pool_timer(TokioTimer::new())
                .pool_idle_timeout(IDLE_TIMEOUT)
                .build(connector),
        }
    }

    /// Sends `req` in `cx`: every check first (a denial is PermissionDenied and nothing
    /// is sent), then the exchange, following redirects that pass the same checks.
    pub async fn request(&self, cx: &CallContext, req: Request) -> Result<Response> {
        let prepared = self.prepare(cx, req).await?;
        send(cx, prepared).await
    }

    /// Sends `reqs` concurrently (reference §3.1). Every request is checked and
    /// encoded before any is sent: a denial or a bad request fails the whole batch,
    /// and so does `stream` (Invalid). Otherwise each request's own outcome is in its
    /// place.
    pub async fn request_batch(
        &self,
        cx: &CallContext,
        reqs: Vec<Request>,
    ) -> Result<Vec<Result<Response>>> {
        let mut prepared = Vec::with_capacity(reqs.len());
        for req in reqs {
            if req.stream {
                return Err(ClientError::BatchStream.into());
            }
            prepared.push(self.prepare(cx, req).await?);
        }
        Ok(futures::future::join_all(prepared.into_iter().map(|p| send(cx, p))).await)
    }

    /// Checks and encodes `req`.
    async fn prepare(&self, cx: &CallContext, req: Request) -> Result<Prepared> {
        let started = Instant::now();
        let method = req.method.to_ascii_uppercase();
        let method = Method::from_bytes(method.as_bytes())
            .map_err(|_| ClientError::Method(req.method.clone()))?;
        let mut url = parse_url(&req.url)?;
        let tls = req.tls_options();
        let insecure_tls = tls.is_some_and(|t| t.insecure_skip_verify);
        let unix_socket = req.unix_socket.clone().filter(|s| !s.is_empty());
        let target = HttpTarget {
            url: &req.url,
            uri: &uri(&url)?,
            unix_socket: unix_socket.as_deref(),
            insecure_tls,
        };
        weft_net::check_http_target(cx, target).await?;
        let client = match (tls, &unix_socket) {
            (None, None) => self.pool.clone(),
            _ => {
                let config = match tls {
                    Some(opts) => tls::config(opts)?,
                    None => tls::default_config(),
                };
                let connector = Connector::new(config, tls.cloned(), unix_socket.as_deref());
                Client::builder(TokioExecutor::new())
                    .pool_max_idle_per_host(0)
                    .build(connector)
            }
        };
        request::merge_query(&mut url, &req.query);
        let (body, auto_type) = request::body(&req);
        let headers = request::headers(&req, auto_type)?;
        let timeout = req.effective_timeout();
        // A timeout past what an Instant can hold (a huge number from Lua) waits "forever".
        let mut deadline = started
            .checked_add(timeout)
            .unwrap_or_else(|| started + FOREVER);
        if let Some(caller) = cx.deadline() {
            deadline = deadline.min(caller);
        }
        Ok(Prepared {
            method,
            url,
            headers,
            body,
            client,
            unix_socket,
            insecure_tls,
            started,
            deadline,
            max_body: req.effective_max_body(),
            stream: req.stream,
        })
    }
}

/// Sends a prepared request before its deadline, following redirects, and reads or
/// hands over the body.
async fn send(cx: &CallContext, p: Prepared) -> Result<Response> {
    let timeout = p.deadline.saturating_duration_since(p.started);
    let timed_out = |url: &url::Url| -> Error {
        ClientError::Timeout {
            url: url.to_string(),
            after: timeout,
        }
        .into()
    };
    let exchange = exchange(cx, &p);
    let (response, url) = match tokio::time::timeout_at(p.deadline.into(), exchange).await {
        Ok(outcome) => outcome?,
        Err(_) => return Err(timed_out(&p.url)),
    };
    let (head, incoming) = response.into_parts();
    let body = if p.stream {
        ResponseBody::Stream(BodyStream::new(
            incoming,
            p.deadline,
            timeout,
            url.to_string(),
        ))
    } else {
        let url_text = url.to_string();
        ResponseBody::Bytes(
            response::read_all(&head, incoming, p.max_body, p.deadline, &url_text, timeout).await?,
        )
    };
    Ok(Response::new(&head, url.to_string(), body))
}

/// The requests of one exchange: the first, then each redirect target once it passes
/// the checks; the final response (head read, body not) and its URL.
async fn exchange(
    cx: &CallContext,
    p: &Prepared,
) -> Result<(http::Response<hyper::body::Incoming>, url::Url)> {
    let mut url = p.url.clone();
    let mut method = p.method.clone();
    let mut headers = p.headers.clone();
    let mut body = p.body.clone();
    let mut hops = 0;
    loop {
        let mut request = http::Request::new(Full::new(body.clone()));
        *request.method_mut() = method.clone();
        *request.uri_mut() = uri(&url)?;
        *request.headers_mut() = headers.clone();
        let response = p
            .client
            .request(request)
            .await
            .map_err(|e| ClientError::Transport {
                url: url.to_string(),
                reason: chain(&e),
            })?;
        let Some(hop) = redirect::next(response.status(), response.headers(), &url, &method)?
        else {
            return Ok((response, url));
        };
        if hops == redirect::MAX_REDIRECTS {
            return Err(ClientError::Redirects(hops).into());
        }
        let target = HttpTarget {
            url: hop.url.as_str(),
            uri: &uri(&hop.url)?,
            unix_socket: p.unix_socket.as_deref(),
            insecure_tls: p.insecure_tls,
        };
        weft_net::check_http_target(cx, target)
            .await
            .map_err(|e| e.context(format!("redirect from {url} to {}", hop.url)))?;
        headers = redirect::headers(headers, &hop, &p.url);
        if !hop.keep_body {
            body = Bytes::new();
        }
        method = hop.method;
        url = hop.url;
        hops += 1;
    }
}

/// An http or https URL with a host.
fn parse_url(text: &str) -> Result<url::Url, ClientError> {
    let bad = |reason: String| ClientError::Url {
        url: text.to_string(),
        reason,
    };
    let url = url::Url::parse(text).map_err(|e| bad(e.to_string()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(ClientError::Scheme {
            scheme: url.scheme().to_string(),
            url: text.to_string(),
        });
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".into()));
    }
    Ok(url)
}

/// `url` as hyper's URI.
fn uri(url: &url::Url) -> Result<Uri, ClientError> {
    url.as_str()
        .parse()
        .map_err(|e: http::uri::InvalidUri| ClientError::Url {
            url: url.to_string(),
            reason: e.to_string(),
        })
}
