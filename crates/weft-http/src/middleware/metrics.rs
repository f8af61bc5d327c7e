//! `metrics`: Prometheus metrics of the requests a handler serves (reference §1.10), into
//! the app's one [`HttpMetrics`] registry (`HttpServers::metrics`).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `wippy_http_requests_total` | counter | method, route, status |
//! | `wippy_http_request_duration_seconds` | histogram (Prometheus' default buckets) | method, route, status |
//! | `wippy_http_requests_in_flight` | gauge | method, route |
//!
//! `route` is the matched route's pattern (`GET /api/users/{id}`), else `unmatched` (a
//! static mount). weft attaches the route before the router's `middleware` runs, so the
//! label is there whichever chain lists `metrics` (Wippy has it only in
//! `post_middleware`). A method other than the standard nine is counted as `OTHER`, so
//! clients cannot grow the label set. A request is in flight, and its duration runs,
//! until its response body has been sent (or dropped), not only until the handler
//! returned its head.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use http::Method;
use http_body_util::BodyExt;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::{Layer, MiddlewareContext};
use crate::pipeline::{Handler, HttpRequest, HttpResponse, RouteInfo, handler_fn};
use weft_core::Result;

/// Prometheus' default histogram buckets (as Go's `prometheus.DefBuckets`), in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The labels of a finished request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Labels {
    method: String,
    route: String,
    status: String,
}

/// The labels of a request in flight.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FlightLabels {
    method: String,
    route: String,
}

type HistogramFamily = Family<Labels, Histogram, fn() -> Histogram>;

/// An app's HTTP metrics: one Prometheus registry that every `metrics` middleware of the
/// app records into.
pub struct HttpMetrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    duration: HistogramFamily,
    in_flight: Family<FlightLabels, Gauge>,
}

impl HttpMetrics {
    /// The content type of [`HttpMetrics::render`]'s text (OpenMetrics, which Prometheus
    /// scrapes).
    pub const CONTENT_TYPE: &'static str =
        "application/openmetrics-text; version=1.0.0; charset=utf-8";

    /// Empty metrics.
    pub fn new() -> HttpMetrics {
        let requests = Family::<Labels, Counter>::default();
        let duration: HistogramFamily = Family::new_with_constructor(|| Histogram::new(BUCKETS));
        let in_flight = Family::<FlightLabels, Gauge>::default();
        let mut registry = Registry::default();
        // The counter's name gets its `_total` when encoded.
        registry.register(
            "wippy_http_requests",
            "HTTP requests served, by method, route and status",
            requests.clone(),
        );
        registry.register(
            "wippy_http_request_duration_seconds",
            "Time to serve an HTTP request, its body included, in seconds",
            duration.clone(),
        );
        registry.register(
            "wippy_http_requests_in_flight",
            "HTTP requests being served",
            in_flight.clone(),
        );
        HttpMetrics {
            registry,
            requests,
            duration,
            in_flight,
        }
    }

    /// Appends the metrics to `out` without the closing `# EOF`, for a text that goes
    /// on with other metrics ([`render_metrics`](crate::render_metrics)).
    pub(crate) fn encode_into(&self, out: &mut String) {
        prometheus_client::encoding::text::encode_registry(out, &self.registry)
            .expect("writing to a String cannot fail");
    }

    /// The metrics in the OpenMetrics text format ([`HttpMetrics::CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

impl Default for HttpMetrics {
    fn default() -> Self {
        HttpMetrics::new()
    }
}

/// Makes `metrics` (it has no options).
pub(super) fn make(_options: &BTreeMap<String, String>, cx: &MiddlewareContext) -> Result<Layer> {
    let metrics = cx.metrics.clone();
    Ok(Arc::new(move |next: Handler| {
        let metrics = metrics.clone();
        handler_fn(move |req: HttpRequest| {
            let flight = InFlight::start(metrics.clone(), &req);
            let response = crate::pipeline::call(next.clone(), req);
            async move {
                let res: HttpResponse = response.await;
                let mut flight = flight;
                flight.status = Some(res.status().as_u16());
                res.map(|body| {
                    body.map_frame(move |frame| {
                        let _held = &flight;
                        frame
                    })
                    .boxed_unsync()
                })
            }
        })
    }))
}

/// One request being served; recorded when dropped (with its body, or with the
/// response future when the client went away first).
struct InFlight {
    metrics: Arc<HttpMetrics>,
    labels: FlightLabels,
    start: Instant,
    /// The response's status, once the head is out.
    status: Option<u16>,
}

impl InFlight {
    fn start(metrics: Arc<HttpMetrics>, req: &HttpRequest) -> InFlight {
        let route = req
            .extensions()
            .get::<RouteInfo>()
            .map_or_else(|| "unmatched".to_string(), |r| r.pattern.to_string());
        let labels = FlightLabels {
            method: method_label(req.method()).to_string(),
            route,
        };
        metrics.in_flight.get_or_create(&labels).inc();
        InFlight {
            metrics,
            labels,
            start: Instant::now(),
            status: None,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.metrics.in_flight.get_or_create(&self.labels).dec();
        let Some(status) = self.status else {
            return;
        };
        let labels = Labels {
            method: self.labels.method.clone(),
            route: self.labels.route.clone(),
            status: status.to_string(),
        };
        self.metrics.requests.get_or_create(&labels).inc();
        self.metrics
            .duration
            .get_or_create(&labels)
            .observe(self.start.elapsed().as_secs_f64());
    }
}

/// The method label: a standard method, else `OTHER`.
fn method_label(method: &Method) -> &str {
    match *method {
        Method::GET
        | Method::HEAD
        | Method::POST
        | Method::PUT
        | Method::DELETE
        | Method::CONNECT
        | Method::OPTIONS
        | Method::TRACE
        | Method::PATCH => method.as_str(),
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::*;
    use crate::middleware::Middlewares;
    use crate::middleware::testing::{body, context, request, send};
    use crate::mux::Params;
    use crate::pipeline::{full, status_only};
    use weft_core::EntryId;

    fn routed(method: &str, uri: &str) -> HttpRequest {
        let mut req = request(method, uri, &[]);
        req.extensions_mut().insert(RouteInfo {
            endpoint: EntryId::new("app", "get_user"),
            func: EntryId::new("app", "get_user_fn"),
            pattern: "GET /api/users/{id}".into(),
            params: Params::default(),
        });
        req
    }

    #[tokio::test]
    async fn counts_times_and_tracks_in_flight() {
        let cx = context();
        let metrics = cx.metrics.clone();
        let inner = handler_fn(|req: HttpRequest| async move {
            if req.uri().path() == "/missing" {
                return status_only(StatusCode::NOT_FOUND);
            }
            http::Response::new(full("ok"))
        });
        let h = Middlewares::builtin()
            .make("metrics", &BTreeMap::new(), &cx)
            .unwrap()(inner);

        let res = send(&h, routed("GET", "/api/users/7")).await;
        let text = metrics.render();
        assert!(
            text.contains(
                r#"wippy_http_requests_in_flight{method="GET",route="GET /api/users/{id}"} 1"#
            ),
            "the body is still to be sent:\n{text}"
        );
        assert!(!text.contains("wippy_http_requests_total{"), "{text}");
        assert_eq!(body(res).await, b"ok");

        send(&h, routed("GET", "/api/users/8")).await;
        send(&h, request("GET", "/missing", &[])).await;
        send(&h, request("BREW", "/missing", &[])).await;

        let text = metrics.render();
        for line in [
            r#"wippy_http_requests_total{method="GET",route="GET /api/users/{id}",status="200"} 2"#,
            r#"wippy_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
            r#"wippy_http_requests_total{method="OTHER",route="unmatched",status="404"} 1"#,
            r#"wippy_http_request_duration_seconds_count{method="GET",route="GET /api/users/{id}",status="200"} 2"#,
            r#"wippy_http_request_duration_seconds_bucket{le="10.0",method="GET",route="unmatched",status="404"} 1"#,
            r#"wippy_http_requests_in_flight{method="GET",route="GET /api/users/{id}"} 0"#,
            "# TYPE wippy_http_requests counter",
            "# TYPE wippy_http_request_duration_seconds histogram",
            "# TYPE wippy_http_requests_in_flight gauge",
        ] {
            assert!(text.contains(line), "missing {line}\n{text}");
        }
    }

    #[test]
    fn contexts_share_the_metrics_they_are_given() {
        let shared = Arc::new(HttpMetrics::new());
        let cx = context().with_metrics(shared.clone());
        assert!(Arc::ptr_eq(&cx.metrics, &shared));
        assert!(shared.render().ends_with("# EOF\n"));
    }
}
