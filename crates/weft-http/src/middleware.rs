//! Middleware: named layers a router (`middleware`, `post_middleware`) or a static mount
//! wraps its handlers in, each configured from the entry's string `options` (reference
//! §1.10). The first listed is the outermost.
//!
//! [`Middlewares`] is the catalogue. A name it does not know fails the boot on the entry
//! that lists it; a bad option fails it when the middleware is made, with an error naming
//! the option (Wippy falls back to the default instead; docs/http.md lists the options).
//!
//! Each middleware lives in its own file under `middleware/`. A made [`Layer`] keeps its
//! state (a rate limiter's buckets) across every handler it wraps.

mod compress;
mod cors;
mod firewall;
mod metrics;
mod ratelimit;
mod real_ip;
mod sendfile;
mod sse_relay;
mod token_auth;
mod websocket_relay;

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use weft_core::{Error, Result};
use weft_fs::FsRegistry;
use weft_runtime::Runtime;

use crate::pipeline::Handler;

pub use metrics::HttpMetrics;

/// A made middleware: wraps a handler.
pub type Layer = Arc<dyn Fn(Handler) -> Handler + Send + Sync>;

/// What a middleware may need when it is made.
///
/// Made with [`MiddlewareContext::new`] and completed with the `with_*` methods, so that
/// a field added later (the token stores of `token_auth`) has a default and the places
/// that build a context need not all change.
#[derive(Clone)]
pub struct MiddlewareContext {
    /// The runtime (function calls, policies).
    pub rt: Weak<Runtime>,
    /// The `fs.directory` roots (`sendfile`).
    pub fs: Arc<FsRegistry>,
    /// The app's HTTP metrics (`metrics`), one registry for every server of the app.
    pub metrics: Arc<HttpMetrics>,
    /// The app's token stores (`token_auth`); none in a context made for tests.
    pub stores: Option<Arc<weft_store::StoreRegistry>>,
}

impl MiddlewareContext {
    /// A context with fresh metrics (replace them with [`MiddlewareContext::with_metrics`]
    /// to share the app's).
    pub fn new(rt: Weak<Runtime>, fs: Arc<FsRegistry>) -> MiddlewareContext {
        MiddlewareContext {
            rt,
            fs,
            metrics: Arc::new(HttpMetrics::new()),
            stores: None,
        }
    }

    /// The context validating tokens with `stores`.
    pub fn with_stores(mut self, stores: Arc<weft_store::StoreRegistry>) -> MiddlewareContext {
        self.stores = Some(stores);
        self
    }

    /// The context recording into `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<HttpMetrics>) -> MiddlewareContext {
        self.metrics = metrics;
        self
    }
}

/// Makes a middleware from its options.
type Maker = fn(&BTreeMap<String, String>, &MiddlewareContext) -> Result<Layer>;

/// The middleware catalogue.
pub struct Middlewares {
    makers: BTreeMap<&'static str, Maker>,
}

impl Middlewares {
    /// The built-in middleware.
    pub fn builtin() -> Middlewares {
        let mut makers: BTreeMap<&'static str, Maker> = BTreeMap::new();
        makers.insert("compress", compress::make);
        makers.insert("cors", cors::make);
        makers.insert("metrics", metrics::make);
        makers.insert("ratelimit", ratelimit::make);
        makers.insert("real_ip", real_ip::make);
        makers.insert("sendfile", sendfile::make);
        makers.insert("token_auth", token_auth::make);
        makers.insert("endpoint_firewall", firewall::make_endpoint);
        makers.insert("resource_firewall", firewall::make_resource);
        makers.insert("websocket_relay", websocket_relay::make);
        makers.insert("sse_relay", sse_relay::make);
        Middlewares { makers }
    }

    /// Whether `name` is known.
    pub fn contains(&self, name: &str) -> bool {
        self.makers.contains_key(name)
    }

    /// Makes the middleware `name` with `options`.
    pub fn make(
        &self,
        name: &str,
        options: &BTreeMap<String, String>,
        cx: &MiddlewareContext,
    ) -> Result<Layer> {
        let maker = self.makers.get(name).ok_or_else(|| not_found(name))?;
        maker(options, cx).map_err(|e| e.context(format!("middleware {name}")))
    }

    /// Makes the middleware `names`, in order.
    ///
    /// Made once and [`wrap`](Middlewares::wrap)ped around several handlers, the layers
    /// share their state: one rate limiter for all the routes of a router, as in Wippy.
    pub fn layers(
        &self,
        names: &[String],
        options: &BTreeMap<String, String>,
        cx: &MiddlewareContext,
    ) -> Result<Vec<Layer>> {
        names
            .iter()
            .map(|name| self.make(name, options, cx))
            .collect()
    }

    /// Wraps `inner` in `layers` (the first outermost).
    pub fn wrap(layers: &[Layer], inner: Handler) -> Handler {
        layers.iter().rev().fold(inner, |h, layer| layer(h))
    }

    /// Wraps `inner` in the middleware `names` (the first outermost), made for it alone.
    pub fn chain(
        &self,
        names: &[String],
        options: &BTreeMap<String, String>,
        cx: &MiddlewareContext,
        inner: Handler,
    ) -> Result<Handler> {
        Ok(Self::wrap(&self.layers(names, options, cx)?, inner))
    }

    /// Checks that every name in `names` is known; the error names the first unknown one.
    pub fn check(&self, names: &[String]) -> Result<()> {
        match names.iter().find(|n| !self.contains(n)) {
            Some(name) => Err(not_found(name)),
            None => Ok(()),
        }
    }
}

/// The middleware that relay connections (WebSocket upgrades, SSE streams): a server
/// whose routers list one serves upgrades and tells its relays when it stops.
pub const RELAYS: [&str; 2] = ["websocket_relay", "sse_relay"];

/// Wippy's error for an unknown name.
fn not_found(name: &str) -> Error {
    Error::invalid(format!(
        "failed to create middleware: middleware not found: {name}"
    ))
}

/// An option by its new-style key, else its legacy key (Wippy's `getOption`).
pub fn option<'a>(
    options: &'a BTreeMap<String, String>,
    key: &str,
    legacy: &str,
) -> Option<&'a str> {
    options
        .get(key)
        .or_else(|| options.get(legacy))
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

/// An invalid option: the error names the key the value was read from.
fn invalid_option(
    options: &BTreeMap<String, String>,
    key: &str,
    legacy: &str,
    message: impl std::fmt::Display,
) -> Error {
    let used = if options.contains_key(key) || !options.contains_key(legacy) {
        key
    } else {
        legacy
    };
    Error::invalid(format!("option {used}: {message}"))
}

/// A boolean option: `true` or `false`, else `default` when absent.
fn bool_option(
    options: &BTreeMap<String, String>,
    key: &str,
    legacy: &str,
    default: bool,
) -> Result<bool> {
    match option(options, key, legacy) {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(invalid_option(
            options,
            key,
            legacy,
            format!("must be true or false, got {other:?}"),
        )),
    }
}

/// A whole-number option of at least `min`, else `default` when absent.
fn number_option(
    options: &BTreeMap<String, String>,
    key: &str,
    legacy: &str,
    default: u64,
    min: u64,
) -> Result<u64> {
    match option(options, key, legacy) {
        None => Ok(default),
        Some(raw) => raw
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= min)
            .ok_or_else(|| {
                invalid_option(
                    options,
                    key,
                    legacy,
                    format!("must be a whole number of at least {min}, got {raw:?}"),
                )
            }),
    }
}

/// A duration option in Wippy's middleware form, `<whole number><s|m|h>` (`30s`, `5m`,
/// `1h`), else `default` when absent. Returns the duration and the text it was read from.
fn duration_option(
    options: &BTreeMap<String, String>,
    key: &str,
    default: &'static str,
) -> Result<(Duration, String)> {
    let raw = option(options, key, key).unwrap_or(default);
    let parsed = raw
        .char_indices()
        .last()
        .and_then(|(at, unit)| {
            let n = raw[..at].parse::<u64>().ok()?;
            let unit = match unit {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                _ => return None,
            };
            n.checked_mul(unit)
        })
        .map(Duration::from_secs);
    match parsed {
        Some(d) => Ok((d, raw.to_string())),
        None => Err(invalid_option(
            options,
            key,
            key,
            format!("must be a whole number followed by s, m or h (like 30s, 5m, 1h), got {raw:?}"),
        )),
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for the middleware tests: requests with a frame, handlers that answer.

    use std::collections::BTreeMap;
    use std::net::SocketAddr;
    use std::sync::{Arc, Weak};

    use http_body_util::BodyExt;
    use weft_core::{CallContext, EntryId};
    use weft_fs::FsRegistry;

    use super::{Layer, MiddlewareContext, Middlewares};
    use crate::pipeline::{Handler, HttpRequest, HttpResponse, RequestFrame, empty};

    /// Options from pairs.
    pub fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// A context without a runtime, with an empty fs registry.
    pub fn context() -> MiddlewareContext {
        let fs = Arc::new(FsRegistry::new(std::env::temp_dir()));
        MiddlewareContext::new(Weak::new(), fs)
    }

    /// The middleware `name` made from `options`.
    pub fn layer(name: &str, options: &[(&str, &str)]) -> weft_core::Result<Layer> {
        Middlewares::builtin().make(name, &opts(options), &context())
    }

    /// A request from `peer`, carrying its frame.
    pub fn request(method: &str, uri: &str, headers: &[(&str, &str)]) -> HttpRequest {
        request_from("203.0.113.9:4567", method, uri, headers)
    }

    /// A request from `peer`, carrying its frame.
    pub fn request_from(
        peer: &str,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
    ) -> HttpRequest {
        let peer: SocketAddr = peer.parse().unwrap();
        let mut req = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut req = req.body(empty()).unwrap();
        req.extensions_mut().insert(RequestFrame {
            cx: CallContext::root(false),
            remote_addr: peer.to_string().into(),
            peer,
            server: EntryId::new("app", "server"),
        });
        req
    }

    /// Runs `req` through `handler`.
    pub async fn send(handler: &Handler, req: HttpRequest) -> HttpResponse {
        crate::pipeline::call(handler.clone(), req).await
    }

    /// A response's body, whole.
    pub async fn body(res: HttpResponse) -> Vec<u8> {
        res.into_body().collect().await.unwrap().to_bytes().to_vec()
    }

    /// A response header as text (`None` when absent).
    pub fn header(res: &HttpResponse, name: &str) -> Option<String> {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
}
