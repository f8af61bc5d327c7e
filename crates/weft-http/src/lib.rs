//! weft-http: the HTTP capability, below the engines.
//!
//! - [`canonical_header_name`]: Go's canonical form of header names, which Lua sees
//!   (`X-Custom-Header`, `Www-Authenticate`), whatever case arrived on the wire.
//! - [`HttpClient`]: the outbound client (`http_client`), every check inside it through
//!   `weft-net`'s one policy, redirect targets included.
//! - [`MuxBuilder`] / [`Mux`]: the route table with Go ServeMux semantics (routes,
//!   static mounts, auto `OPTIONS`, 301/404/405), every conflict a [`MuxError`].
//! - [`MetricsEndpoint`]: the process' metrics (HTTP requests, function calls, pools,
//!   hosts) in the OpenMetrics text on `metrics.addr` ([`render_metrics`]).
//!
//! The crate grows to own the `http.*` kinds, the route table with Go ServeMux semantics,
//! the server, the middleware and the outbound client with its policy (issue 12); the
//! engines bind to it and it knows none of them.

#![deny(missing_docs)]

mod client;
mod config;
mod endpoint;
mod exchange;
mod header;
mod kinds;
mod metrics_endpoint;
mod middleware;
mod mux;
mod pipeline;
mod relay;
mod relay_client;
mod server;
mod static_files;
mod tls;

pub use client::{
    BasicAuth, BodyStream, DEFAULT_MAX_RESPONSE_BODY, DEFAULT_TIMEOUT, FilePart, HttpClient,
    Request, Response, ResponseBody, TlsOptions, query_escape, query_unescape,
};
pub use config::{EndpointConfig, RouterConfig, ServiceConfig, StaticConfig, Timeouts};
pub use exchange::{BUFFER, BodyError, Exchange, WriteError};
pub use header::canonical_header_name;
pub use kinds::{HttpHandler, HttpServers};
pub use metrics_endpoint::{
    DEFAULT_METRICS_PATH, MetricsConfig, MetricsEndpoint, MetricsServer, RenderMetrics,
    render_metrics,
};
pub use middleware::{HttpMetrics, Layer, MiddlewareContext, Middlewares, option};
pub use mux::{Allow, Match, Mux, MuxBuilder, MuxError, Params, Router};
pub use pipeline::{
    Body, BoxError, Handler, HttpRequest, HttpResponse, RequestFrame, RouteInfo, empty, full,
    handler_fn, status_only, text_error,
};
pub use relay_client::{WsConnectOptions, WsIo, WsMessage, WsReceiver, WsSender, ws_connect};
pub use server::Server;
