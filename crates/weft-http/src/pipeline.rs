//! The types every layer of a server shares: bodies, requests, responses, handlers, and
//! what a request carries through the layers ([`RequestFrame`], [`RouteInfo`]).
//!
//! A handler is a boxed tower service; a middleware wraps one handler into another
//! (`middleware`), so the layers compose as Go's `func(http.Handler) http.Handler` do.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use http_body_util::{BodyExt, Empty, Full, combinators::UnsyncBoxBody};
use tower::util::BoxCloneSyncService;
use weft_core::{CallContext, EntryId};

use crate::mux::Params;

/// An error a body stream ends with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request or response body: any stream of bytes.
pub type Body = UnsyncBoxBody<Bytes, BoxError>;

/// A request as the layers see it.
pub type HttpRequest = http::Request<Body>;

/// A response as the layers give it.
pub type HttpResponse = http::Response<Body>;

/// A layer of a server: a request in, a response out, never an error (every failure is
/// a response).
pub type Handler = BoxCloneSyncService<HttpRequest, HttpResponse, Infallible>;

/// What every request carries in its extensions: the frame it runs in and who sent it.
///
/// Middleware may change it (`token_auth` sets the actor and scope, `real_ip` the remote
/// address) until the endpoint seals it by calling the function.
#[derive(Clone)]
pub struct RequestFrame {
    /// The context the request's calls start from: the server's `lifecycle.security`
    /// actor and scope unless a middleware replaced them.
    pub cx: CallContext,
    /// The client's address as `ip:port` (a bare ip after `real_ip`).
    pub remote_addr: Arc<str>,
    /// The peer's socket address as accepted.
    pub peer: SocketAddr,
    /// The `http.service` serving the request.
    pub server: EntryId,
}

/// The route a request matched, set before the router's `post_middleware` runs.
#[derive(Clone, Debug)]
pub struct RouteInfo {
    /// The `http.endpoint` entry.
    pub endpoint: EntryId,
    /// The function it calls.
    pub func: EntryId,
    /// The route's pattern (`GET /api/users/{id}`), the metrics' route label.
    pub pattern: Arc<str>,
    /// The path wildcards' values.
    pub params: Params,
}

/// An empty body.
pub fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// A body of `bytes`.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// A plain-text error response as Go's `http.Error` writes it: `text/plain;
/// charset=utf-8`, `X-Content-Type-Options: nosniff`, the message and a newline.
pub fn text_error(status: StatusCode, message: &str) -> HttpResponse {
    let mut res = http::Response::new(full(format!("{message}\n")));
    *res.status_mut() = status;
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// A response with `status` and no body.
pub fn status_only(status: StatusCode) -> HttpResponse {
    let mut res = http::Response::new(empty());
    *res.status_mut() = status;
    res
}

/// Runs a request through a handler. Every handler weft makes is always ready (a
/// `service_fn`, tower-http's file service), so `call` needs no `poll_ready` first.
pub fn call(mut handler: Handler, req: HttpRequest) -> impl Future<Output = HttpResponse> + Send {
    use tower::Service;
    let response = handler.call(req);
    async move {
        match response.await {
            Ok(res) => res,
            Err(never) => match never {},
        }
    }
}

/// A handler from an async function of the request.
pub fn handler_fn<F, Fut>(f: F) -> Handler
where
    F: Fn(HttpRequest) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = HttpResponse> + Send + 'static,
{
    BoxCloneSyncService::new(tower::service_fn(move |req| {
        let fut = f(req);
        async move { Ok::<_, Infallible>(fut.await) }
    }))
}
