//! The metrics endpoint: the process' request, call, pool and process metrics in the
//! OpenMetrics text format, on an address of its own (`metrics.addr` in `.wippy.yaml`).
//!
//! The counters live where the work happens and know nothing of Prometheus: weft-core
//! counts calls ([`Functions::metrics`](weft_core::Functions::metrics)), weft-runtime
//! tracks pools and hosts ([`Pools::metrics`](weft_runtime::Pools::metrics),
//! [`ProcessTable::hosts`](weft_runtime::ProcessTable::hosts)). This crate already owns
//! the Prometheus encoder (the `metrics` middleware's [`HttpMetrics`]) and the hyper
//! server stack, so it renders their snapshots at scrape time, after the HTTP metrics,
//! and serves the text.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `weft_function_calls_total` | counter | function, kind (the entry kind) |
//! | `weft_function_errors_total` | counter | function, kind (the error kind) |
//! | `weft_function_call_duration_seconds` | histogram ([`CALL_DURATION_BUCKETS`](weft_core::CALL_DURATION_BUCKETS)) | function |
//! | `weft_pool_slots` | gauge (bounded pools only) | entry, type |
//! | `weft_pool_in_use` | gauge | entry, type |
//! | `weft_pool_waiting` | gauge | entry, type |
//! | `weft_pool_idle` | gauge | entry, type |
//! | `weft_processes` | gauge | host |
//! | `weft_processes_max` | gauge | host |

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use weft_core::{Error, ErrorKind, FunctionMetrics, Result};
use weft_registry::Config;
use weft_runtime::{HostMetrics, PoolMetrics, Runtime};

use crate::middleware::HttpMetrics;

/// The path the endpoint serves when `metrics.path` is not set.
pub const DEFAULT_METRICS_PATH: &str = "/metrics";

/// How long a scraper may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// The `metrics:` section of `.wippy.yaml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricsConfig {
    /// `metrics.addr`: `host:port` or `:port`.
    pub addr: String,
    /// `metrics.path`: the path served (default [`DEFAULT_METRICS_PATH`]).
    pub path: String,
}

impl MetricsConfig {
    /// The endpoint's settings; `None` (the endpoint is off) when `metrics.addr` is
    /// absent or empty. Errors (Invalid) name the key at fault.
    pub fn from_config(config: &Config) -> Result<Option<MetricsConfig>> {
        let off = || {
            if config.section("metrics").any(|(key, _)| key != "addr") {
                tracing::warn!("metrics.addr is not set: the metrics endpoint is off");
            }
            Ok(None)
        };
        let addr = match config.get("metrics.addr") {
            None => return off(),
            Some(v) => match v.as_str() {
                Some(a) if a.trim().is_empty() => return off(),
                Some(a) => a.trim().to_string(),
                None => {
                    return Err(Error::invalid(
                        "metrics.addr: must be an address (host:port or :port)",
                    ));
                }
            },
        };
        crate::config::parse_addr(&addr)
            .map_err(|e| Error::invalid(format!("metrics.addr: {}", e.message())))?;
        let path = match config.get("metrics.path") {
            None => DEFAULT_METRICS_PATH.to_string(),
            Some(v) => match v.as_str().map(str::trim) {
                Some(p) if p.starts_with('/') => p.to_string(),
                _ => {
                    return Err(Error::invalid(
                        "metrics.path: must be a path starting with /",
                    ));
                }
            },
        };
        Ok(Some(MetricsConfig { addr, path }))
    }
}

/// Every metric of the process: `http`'s request metrics, then the call, pool and
/// process metrics of `rt`, in the OpenMetrics text format
/// ([`HttpMetrics::CONTENT_TYPE`]).
pub fn render_metrics(rt: &Runtime, http: &HttpMetrics) -> String {
    let functions = rt
        .functions
        .metrics()
        .into_iter()
        .map(|m| {
            let kind = rt
                .registry
                .get(m.id.as_str())
                .map_or_else(String::new, |e| e.kind.clone());
            (m, kind)
        })
        .collect();
    let snapshot = Snapshot {
        functions,
        pools: rt.pools.metrics(),
        hosts: rt.processes.hosts(),
    };
    let mut registry = Registry::default();
    registry.register_collector(Box::new(snapshot));
    let mut out = String::new();
    http.encode_into(&mut out);
    prometheus_client::encoding::text::encode_registry(&mut out, &registry)
        .and_then(|()| prometheus_client::encoding::text::encode_eof(&mut out))
        .expect("writing to a String cannot fail");
    out
}

/// The runtime's metrics at one scrape.
#[derive(Debug)]
struct Snapshot {
    /// Each function's counters with its entry kind.
    functions: Vec<(FunctionMetrics, String)>,
    pools: Vec<PoolMetrics>,
    hosts: Vec<HostMetrics>,
}

/// The label value of an error kind (`Unknown` for the kind without a name).
fn error_kind_label(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Unknown => "Unknown",
        other => other.as_str(),
    }
}

fn gauge(n: usize) -> ConstGauge<i64> {
    ConstGauge::new(i64::try_from(n).unwrap_or(i64::MAX))
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let mut calls = encoder.encode_descriptor(
            "weft_function_calls",
            "Function calls that ended (failed ones included), by function and entry kind.",
            None,
            MetricType::Counter,
        )?;
        for (m, kind) in &self.functions {
            let labels = [("function", m.id.as_str()), ("kind", kind.as_str())];
            ConstCounter::new(m.calls).encode(calls.encode_family(&labels)?)?;
        }
        let mut errors = encoder.encode_descriptor(
            "weft_function_errors",
            "Function calls that failed, by function and error kind.",
            None,
            MetricType::Counter,
        )?;
        for (m, _) in &self.functions {
            for (kind, n) in &m.errors {
                let labels = [
                    ("function", m.id.as_str()),
                    ("kind", error_kind_label(*kind)),
                ];
                ConstCounter::new(*n).encode(errors.encode_family(&labels)?)?;
            }
        }
        let mut duration = encoder.encode_descriptor(
            "weft_function_call_duration_seconds",
            "Time a function call took, in seconds.",
            None,
            MetricType::Histogram,
        )?;
        for (m, _) in &self.functions {
            let labels = [("function", m.id.as_str())];
            // The encoder writes `+Inf` for a bound of f64::MAX.
            let buckets: Vec<(f64, u64)> = m
                .duration
                .buckets
                .iter()
                .map(|&(le, n)| (if le.is_finite() { le } else { f64::MAX }, n))
                .collect();
            duration
                .encode_family(&labels)?
                .encode_histogram::<NoLabelSet>(m.duration.sum_seconds, m.calls, &buckets, None)?;
        }
        type PoolGauge = fn(&PoolMetrics) -> Option<usize>;
        let pool_gauges: [(&str, &str, PoolGauge); 4] = [
            (
                "weft_pool_slots",
                "Calls a function's pool lets run at once (bounded pools only).",
                |p| p.slots,
            ),
            (
                "weft_pool_in_use",
                "Calls holding a slot of a function's pool.",
                |p| Some(p.in_use),
            ),
            (
                "weft_pool_waiting",
                "Calls waiting for a slot of a function's pool.",
                |p| Some(p.waiting),
            ),
            (
                "weft_pool_idle",
                "Prepared items (VMs) idle in a function's pool.",
                |p| Some(p.idle),
            ),
        ];
        for (name, help, value) in pool_gauges {
            let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for p in &self.pools {
                if let Some(n) = value(p) {
                    let labels = [("entry", p.entry.as_str()), ("type", p.kind)];
                    gauge(n).encode(metric.encode_family(&labels)?)?;
                }
            }
        }
        type HostGauge = fn(&HostMetrics) -> usize;
        let host_gauges: [(&str, &str, HostGauge); 2] = [
            ("weft_processes", "Processes running on a host.", |h| {
                h.running
            }),
            (
                "weft_processes_max",
                "Processes a host may run at once (host.max_processes).",
                |h| h.max_processes,
            ),
        ];
        for (name, help, value) in host_gauges {
            let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for h in &self.hosts {
                let labels = [("host", h.host.as_str())];
                gauge(value(h)).encode(metric.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

/// What renders the metrics text for one scrape.
pub type RenderMetrics = Arc<dyn Fn() -> String + Send + Sync>;

/// The metrics endpoint, bound and not serving yet.
pub struct MetricsEndpoint {
    listener: std::net::TcpListener,
    local: SocketAddr,
    path: Arc<str>,
    render: RenderMetrics,
}

impl MetricsEndpoint {
    /// Binds `config.addr`, serving the text of `render` at `config.path` once
    /// [started](MetricsEndpoint::start). A taken or bad address is Unavailable
    /// `metrics.addr: cannot listen on …`.
    pub fn bind(config: &MetricsConfig, render: RenderMetrics) -> Result<MetricsEndpoint> {
        let fail = |e: &dyn std::fmt::Display| {
            Error::new(
                ErrorKind::Unavailable,
                format!("metrics.addr: cannot listen on {}: {e}", config.addr),
            )
        };
        let addr = crate::config::parse_addr(&config.addr)
            .map_err(|e| Error::invalid(format!("metrics.addr: {}", e.message())))?;
        let listener = std::net::TcpListener::bind(&addr).map_err(|e| fail(&e))?;
        listener.set_nonblocking(true).map_err(|e| fail(&e))?;
        let local = listener.local_addr().map_err(|e| fail(&e))?;
        Ok(MetricsEndpoint {
            listener,
            local,
            path: config.path.as_str().into(),
            render,
        })
    }

    /// The address it is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Serves scrapes on a task of its own until [`MetricsServer::stop`]. Must be
    /// called inside a tokio runtime.
    pub fn start(self) -> Result<MetricsServer> {
        let listener = TcpListener::from_std(self.listener).map_err(|e| {
            Error::internal(format!(
                "metrics.addr: cannot listen on {}: {e}",
                self.local
            ))
        })?;
        tracing::info!(addr = %self.local, path = %self.path, "metrics endpoint listening");
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, self.path, self.render, stopped));
        Ok(MetricsServer {
            local: self.local,
            stop,
            task,
        })
    }
}

/// The running metrics endpoint.
pub struct MetricsServer {
    local: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl MetricsServer {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Stops listening and drops the open connections (a scrape cut short is retried by
    /// the scraper).
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    path: Arc<str>,
    render: RenderMetrics,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT);
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let (path, render) = (path.clone(), render.clone());
                    let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
                        let res = respond(req.method(), req.uri().path(), &path, &render);
                        std::future::ready(Ok::<_, Infallible>(res))
                    });
                    let builder = builder.clone();
                    conns.spawn(async move {
                        let conn = builder.serve_connection(TokioIo::new(stream), service);
                        if let Err(e) = conn.await {
                            tracing::debug!(error = %e, "metrics connection ended with an error");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics endpoint: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// The answer to one request: the metrics at `path` (GET and HEAD), else 404 or 405.
fn respond(
    method: &Method,
    path: &str,
    served: &str,
    render: &RenderMetrics,
) -> Response<Full<Bytes>> {
    let text = |status: StatusCode, body: &'static str| {
        let mut res = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
        *res.status_mut() = status;
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        res
    };
    if path != served {
        return text(StatusCode::NOT_FOUND, "404 page not found\n");
    }
    if method != Method::GET && method != Method::HEAD {
        let mut res = text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed\n");
        res.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return res;
    }
    let mut res = Response::new(Full::new(Bytes::from(render())));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(HttpMetrics::CONTENT_TYPE),
    );
    res
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use http_body_util::BodyExt;
    use weft_core::{BoxFuture, CallContext, EntryId, Function, Value};
    use weft_runtime::{Pool, PoolKind};

    use super::*;

    fn config(pairs: &[(&str, Value)]) -> Config {
        let mut config = Config::default();
        for (key, value) in pairs {
            config.set(*key, value.clone());
        }
        config
    }

    #[test]
    fn the_endpoint_is_off_without_an_address() {
        for c in [
            config(&[]),
            config(&[("metrics.addr", Value::str(" "))]),
            config(&[("metrics.path", Value::str("/m"))]),
        ] {
            assert_eq!(MetricsConfig::from_config(&c).unwrap(), None);
        }
        let on = MetricsConfig::from_config(&config(&[("metrics.addr", Value::str(":9090"))]));
        assert_eq!(
            on.unwrap(),
            Some(MetricsConfig {
                addr: ":9090".into(),
                path: DEFAULT_METRICS_PATH.into()
            })
        );
    }

    #[test]
    fn bad_settings_name_their_key() {
        let err = |pairs: &[(&str, Value)]| {
            MetricsConfig::from_config(&config(pairs))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(&[("metrics.addr", Value::str("localhost"))]),
            r#"metrics.addr: address "localhost" needs a port (host:port or :port)"#
        );
        assert_eq!(
            err(&[("metrics.addr", Value::Int(9090))]),
            "metrics.addr: must be an address (host:port or :port)"
        );
        assert_eq!(
            err(&[
                ("metrics.addr", Value::str(":9090")),
                ("metrics.path", Value::str("metrics"))
            ]),
            "metrics.path: must be a path starting with /"
        );
    }

    struct Fails;

    impl Function for Fails {
        fn call(&self, _: CallContext, _: Vec<Value>) -> BoxFuture<Result<Value>> {
            Box::pin(async { Err(Error::new(ErrorKind::Unknown, "no")) })
        }
    }

    #[tokio::test]
    async fn render_appends_calls_pools_and_hosts_to_the_http_metrics() {
        let rt = Runtime::new(PathBuf::from("."), Config::default());
        rt.functions
            .register(EntryId::new("app", "f"), std::sync::Arc::new(Fails));
        let pool: Arc<Pool<()>> = Pool::new(PoolKind::Static {
            workers: 3,
            queue: 1,
        });
        rt.pools.register(EntryId::new("app", "f"), &pool);
        let inline: Arc<Pool<()>> = Pool::new(PoolKind::Inline);
        rt.pools.register(EntryId::new("app", "g"), &inline);
        let cx = rt.root_context();
        rt.functions.call(&cx, "app:f", vec![]).await.unwrap_err();
        let _lease = pool.lease(&cx, || async { Ok(()) }).await.unwrap();

        // One request through the `metrics` middleware.
        use crate::middleware::testing::{body, context, request, send};
        let mw = context();
        let served = crate::middleware::Middlewares::builtin()
            .make("metrics", &Default::default(), &mw)
            .unwrap()(crate::pipeline::handler_fn(|_| async {
            http::Response::new(crate::pipeline::full("ok"))
        }));
        body(send(&served, request("GET", "/x", &[])).await).await;

        let text = render_metrics(&rt, &mw.metrics);
        assert!(
            text.find("wippy_http_requests_total").unwrap()
                < text.find("weft_function_calls_total").unwrap(),
            "{text}"
        );
        for line in [
            r#"wippy_http_requests_total{method="GET",route="unmatched",status="200"} 1"#,
            // Not in the registry: no entry kind.
            r#"weft_function_calls_total{function="app:f",kind=""} 1"#,
            r#"weft_function_errors_total{function="app:f",kind="Unknown"} 1"#,
            r#"weft_function_call_duration_seconds_count{function="app:f"} 1"#,
            r#"weft_function_call_duration_seconds_bucket{le="+Inf",function="app:f"} 1"#,
            r#"weft_pool_slots{entry="app:f",type="static"} 3"#,
            r#"weft_pool_in_use{entry="app:f",type="static"} 1"#,
            r#"weft_pool_waiting{entry="app:f",type="static"} 0"#,
            r#"weft_pool_in_use{entry="app:g",type="inline"} 0"#,
            "# TYPE weft_processes gauge",
        ] {
            assert!(text.contains(line), "missing {line}\n{text}");
        }
        assert!(!text.contains(r#"weft_pool_slots{entry="app:g""#), "{text}");
        assert_eq!(text.matches("# EOF").count(), 1, "{text}");
        assert!(text.ends_with("# EOF\n"));
    }

    #[tokio::test]
    async fn only_reads_of_the_path_get_the_text() {
        let render: RenderMetrics = Arc::new(|| "# EOF\n".to_string());
        let res = respond(&Method::GET, "/metrics", "/metrics", &render);
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            HttpMetrics::CONTENT_TYPE
        );
        let body = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, "# EOF\n");
        let res = respond(&Method::GET, "/other", "/metrics", &render);
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let res = respond(&Method::POST, "/metrics", "/metrics", &render);
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(res.headers()[header::ALLOW], "GET, HEAD");
    }

    #[tokio::test]
    async fn a_taken_address_names_the_key() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap().to_string();
        let config = MetricsConfig {
            addr: addr.clone(),
            path: DEFAULT_METRICS_PATH.into(),
        };
        let err = match MetricsEndpoint::bind(&config, Arc::new(String::new)) {
            Err(e) => e,
            Ok(_) => panic!("the address is taken"),
        };
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert!(
            err.to_string()
                .starts_with(&format!("metrics.addr: cannot listen on {addr}: ")),
            "{err}"
        );
    }
}
